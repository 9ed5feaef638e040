#!/usr/bin/env bash
# Runs every fuzz target for a number of executions: scripts/fuzz.sh [SCALE]
# runs each SCALE times its base count below (default 1; CI runs 1, about
# five seconds a target here). A count, not a duration: with -fuzztime 10s,
# Go 1.26's coordinator can end a run that found nothing with "context
# deadline exceeded" (go.dev/issue/75804), and a count has no deadline.
# Seeds live in testdata/fuzz/<target>/; a finding is written there too, as
# a failing case that plain `go test` then replays, and fails this script.
# Minimizing is bounded by a count too (Go's default is 60 s an input).
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-1}
# base_count TARGET: executions per unit of scale, sized to each target's
# speed (FuzzOpenSignal inflates up to 256 KiB per input).
base_count() {
  case "$1" in
    FuzzOpenSignal) echo 6000 ;;
    *) echo 40000 ;;
  esac
}
targets=$(grep -ho '^func Fuzz[A-Za-z0-9_]*' ./*_test.go | sed 's/^func //' | sort)
for t in $targets; do
  n=$(( $(base_count "$t") * scale ))
  echo "== $t, $n executions"
  go test -run '^$' -fuzz "^$t\$" -fuzztime "${n}x" -fuzzminimizetime 500x .
done
