#!/usr/bin/env bash
# make docs-screenshots: headless-Chromium pictures of the built documentation site, kept in
# docs/images/ so a reader of the repository sees what `make docs` makes. Look at them after a
# change to the docs tooling or the theme, and commit them when they are right.
#
# Usage: tools/docs-screenshots.sh [HTML_DIR] [CHROMIUM]   (CHROMIUM: a command or path, default chromium;
# `make chromium` installs Debian's package when it is missing)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
html=$(cd "${1:-$root/.build/docs/html}" && pwd)
chromium=$(command -v "${2:-chromium}" || true)
[ -n "$chromium" ] || { echo "no ${2:-chromium} found (make chromium installs Debian's)" >&2; exit 1; }
images="$root/docs/images"
mkdir -p "$images"
profile=$(mktemp -d "${TMPDIR:-/tmp}/keywarden-chromium-XXXXXX")
trap 'rm -rf "$profile"' EXIT

shoot() {  # shoot PAGE OUTPUT WIDTH HEIGHT
  # The flags keep Chromium off the network (this machine reaches none of its hosts) and out of
  # any profile but a throw-away one; --no-sandbox because CI runs as root.
  "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --disable-default-apps --disable-extensions --hide-scrollbars --force-device-scale-factor=1 \
    --user-data-dir="$profile" --window-size="$3,$4" --virtual-time-budget=5000 \
    --screenshot="$2" "file://$html/$1" 2>/dev/null
  [ -s "$2" ] || { echo "no screenshot of $1" >&2; exit 1; }
  echo "$2 <- $1"
}

shoot index.html "$images/docsite-front-page.png" 1280 1000
shoot access_key_module.html "$images/docsite-access-key-module.png" 1280 1400
