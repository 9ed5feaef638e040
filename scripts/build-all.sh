#!/usr/bin/env bash
# Cross-compiles gopeer's release binaries: static (CGO_ENABLED=0),
# reproducible (-trimpath), with the version stamped in, for linux, darwin
# and windows on amd64 and arm64. CI runs it to prove every target builds;
# .github/workflows/release.yml runs it to make a release.
#
# Usage: scripts/build-all.sh [OUTDIR]     (default: dist)
# The version is $VERSION, else `git describe`, else "dev". $TARGETS, when
# set, is the list of GOOS/GOARCH pairs to build instead of all six.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-dist}
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
targets=${TARGETS:-"linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64"}

mkdir -p "$out"
for target in $targets; do
  goos=${target%/*}
  goarch=${target#*/}
  bin="$out/gopeer-$version-$goos-$goarch"
  [ "$goos" = windows ] && bin="$bin.exe"
  CGO_ENABLED=0 GOOS=$goos GOARCH=$goarch \
    go build -trimpath -ldflags "-s -w -X main.version=$version" -o "$bin" .
  # No cgo, per the build settings; and the stamp in the binary (with
  # -trimpath, go version -m does not show -ldflags). The binary for this
  # machine is asked for its version; the others must hold the string.
  if ! go version -m "$bin" | grep -q 'CGO_ENABLED=0'; then
    echo "build-all: $bin was built with cgo" >&2
    exit 1
  fi
  if [ "$target" = "$(go env GOOS)/$(go env GOARCH)" ]; then
    stamped=$("$bin" -version | grep -c -F "gopeer $version, " || true)
  else
    stamped=$(grep -a -c -F -- "$version" "$bin" || true)
  fi
  if [ "$stamped" = 0 ]; then
    echo "build-all: $bin lacks the version stamp $version" >&2
    exit 1
  fi
  echo "built $bin"
done
