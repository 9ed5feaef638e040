#!/bin/sh
# Side-by-side benchmark of gopeer and aiortc (pypeer's WebRTC stack):
# connect time, round trip, bulk throughput, peak RSS, start-up and size,
# plus a loopback TCP + AES-GCM ceiling, all in one run (about a minute).
#
# Needs root or user namespaces (everything runs on loopback in a private
# network namespace) and Debian's aiortc:
#   apt-get install python3-aiortc python3-httpx python3-cryptography
# Extra arguments go to go test (for example -cpuprofile cpu.out).
set -e
cd "$(dirname "$0")/.."
if ! /usr/bin/python3 -c 'import aiortc, httpx, cryptography' 2>/dev/null; then
	echo "bench.sh: /usr/bin/python3 cannot import aiortc, httpx and cryptography;" >&2
	echo "          apt-get install python3-aiortc python3-httpx python3-cryptography" >&2
	exit 1
fi
exec go test -run '^$' -bench '^BenchmarkInterop$' -benchtime 1x -count 1 -timeout 15m "$@" .
