#!/usr/bin/env bash
# Rebuilds web/vendor/noble.js, the web client's copy of ristretto255,
# SHA-256 and SHA-512 from @noble/curves and @noble/hashes (MIT, Paul
# Miller), pinned below. Only at vendoring time, never at start-up: it
# needs npm and the registry. esbuild bundles only the exports the page
# uses (the whole packages hold FROST, OPRF and more curves, over 300 KB)
# and drops whitespace and comments, but keeps every name, so that the
# copy stays small and a formatter makes it readable again.
#
# Usage: scripts/vendor-noble.sh
set -euo pipefail
cd "$(dirname "$0")/.."

curves=2.4.0
hashes=2.4.0
esbuild=0.28.2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(
  cd "$work"
  npm init -y >/dev/null
  npm install --no-audit --no-fund --silent "@noble/curves@$curves" "@noble/hashes@$hashes" "esbuild@$esbuild"
  printf '%s\n' \
    'export { ristretto255, ristretto255_hasher } from "@noble/curves/ed25519.js";' \
    'export { sha256, sha512 } from "@noble/hashes/sha2.js";' >entry.js
  npx esbuild entry.js --bundle --format=esm --legal-comments=inline --minify-whitespace --log-level=warning --outfile=noble.js
)
{
  printf '%s\n' \
    "// @noble/curves $curves (ristretto255) and @noble/hashes $hashes (sha256, sha512)," \
    "// MIT License, Copyright (c) 2022 Paul Miller (https://paulmillr.com):" \
    "// web/vendor/LICENSE. Bundled by scripts/vendor-noble.sh with esbuild $esbuild;" \
    "// do not edit."
  cat "$work/noble.js"
} >web/vendor/noble.js
cp "$work/node_modules/@noble/curves/LICENSE" web/vendor/LICENSE
echo "vendor-noble: web/vendor/noble.js holds @noble/curves $curves and @noble/hashes $hashes"
