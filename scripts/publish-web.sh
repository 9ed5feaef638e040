#!/usr/bin/env bash
# Writes a copy of the web client (web/) for any static host (GitHub Pages,
# say) that talks to the board at BOARD_URL: a Firebase Realtime Database,
# or a gopeer board elsewhere. A board serves the client itself at /; this
# is for a page that lives apart from its board.
#
# Usage: scripts/publish-web.sh BOARD_URL OUTDIR
#
# The copy names its board in index.html and carries its policy in a meta
# tag, since a static host may not let it set headers: connect-src is the
# board's origin, plus the board's sibling hosts for Firebase, whose event
# streams may be redirected to another host of the same domain. A meta
# policy cannot forbid framing (frame-ancestors); a host that sets headers
# should add "frame-ancestors 'none'" (docs/WEB.md).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -ne 2 ]; then
  echo "usage: scripts/publish-web.sh BOARD_URL OUTDIR" >&2
  exit 2
fi
board=${1%/}
out=$2
if ! [[ $board =~ ^https?://([A-Za-z0-9.-]+)(:[0-9]+)?$ ]]; then
  echo "publish-web: $1 is not a board URL like https://NAME.firebaseio.com (no path, no query)" >&2
  exit 2
fi
host=${BASH_REMATCH[1]}
scheme=${board%%://*}

connect=$board
case $host in
  *.firebaseio.com) connect="$connect $scheme://*.firebaseio.com" ;;
  *.firebasedatabase.app) connect="$connect $scheme://*.firebasedatabase.app" ;;
esac
policy="default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src $connect; base-uri 'none'; form-action 'none'"

mkdir -p "$out"
cp -R web/. "$out/"
# The URL and the policy hold only [A-Za-z0-9.:/*' ;-], none of which
# means anything to sed's replacement or to HTML inside an attribute.
sed -i.orig \
  -e "s|<meta name=\"gopeer-board\" content=\"\">|<meta name=\"gopeer-board\" content=\"$board\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"$policy\">|" \
  "$out/index.html"
rm "$out/index.html.orig"
if ! grep -q "content=\"$board\"" "$out/index.html"; then
  echo "publish-web: web/index.html has no empty gopeer-board meta tag to fill" >&2
  exit 1
fi
echo "publish-web: $out holds the web client for the board at $board"
