#!/usr/bin/env bash
# Runs every fuzz target for a while: scripts/fuzz.sh [DURATION] (default 60s).
# Seeds live in testdata/fuzz/<target>/; a finding is written there too, as a
# failing case that plain `go test` then replays. CI runs it with 10s each.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-60s}
targets=$(grep -ho '^func Fuzz[A-Za-z0-9_]*' ./*_test.go | sed 's/^func //' | sort)
for t in $targets; do
  echo "== $t for $duration"
  go test -run '^$' -fuzz "^$t\$" -fuzztime "$duration" . 
done
