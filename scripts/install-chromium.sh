#!/usr/bin/env bash
# Makes sure a Chromium is there for the browser tests (tests/browser), and installs Debian's
# `chromium` package when none is. Playwright's own browser download is not used: the tests
# point Playwright at this Chromium instead.
# Order: $CHROMIUM (an executable), else /usr/bin/chromium; when neither is there, apt-get
# installs `chromium` (as root, or through sudo), or this explains what to install and fails.
set -euo pipefail

DEFAULT=/usr/bin/chromium

if [ -n "${CHROMIUM:-}" ]; then
  if [ -x "$CHROMIUM" ]; then
    echo "Chromium: $CHROMIUM (from CHROMIUM)"
    exit 0
  fi
  echo "CHROMIUM=$CHROMIUM is not an executable file. Unset it, or name Chromium's executable." >&2
  exit 1
fi

if [ -x "$DEFAULT" ]; then
  echo "Chromium: $DEFAULT"
  exit 0
fi

explain() {
  cat >&2 <<MSG
Chromium was not found, and this script cannot install it ($1).
The browser tests (tests/browser) drive Chromium in headless mode. Any one of these works:
  - install Debian's or Ubuntu's package: \`sudo apt-get install chromium\` (gives $DEFAULT);
  - or point to a Chromium or Chrome you have: \`make test CHROMIUM=/path/to/chromium\`.
MSG
  exit 1
}

command -v apt-get >/dev/null 2>&1 || explain "apt-get is not available"
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  explain "not running as root, and sudo is not available"
fi

echo "Chromium: installing Debian's chromium package (apt-get)"
"${as_root[@]}" apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -q --no-install-recommends chromium
[ -x "$DEFAULT" ] || explain "apt-get installed chromium, but $DEFAULT is not there"
echo "Chromium: $DEFAULT ($("$DEFAULT" --version 2>/dev/null || echo 'version unknown'))"
