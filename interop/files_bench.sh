#!/bin/sh
# Side-by-side benchmark of gopeer -send/-receive and croc (issue 14):
# one file of random bytes end to end, MB/s and peak RSS of both ends, on
# loopback and then over an impaired path (80 ms round trip, 1% loss each
# way), all in one run. See docs/FILES.md.
#
# Needs root or user namespaces (everything runs in a private network
# namespace), and the Go module proxy once: the benchmark installs croc
# v10.7.0 into a temporary directory with go install (never into go.mod);
# GOPEER_CROC=/path/to/croc uses that binary instead.
# GOPEER_BENCH_FILE_MB (1024), GOPEER_BENCH_IMPAIRED_MB (16, 0 skips) and
# GOPEER_BENCH_FILE_ROUNDS (3) set the sizes in MiB and the rounds.
# Extra arguments go to go test.
set -e
cd "$(dirname "$0")/.."
exec go test -run '^$' -bench '^BenchmarkFiles$' -benchtime 1x -count 1 -timeout 60m "$@" .
