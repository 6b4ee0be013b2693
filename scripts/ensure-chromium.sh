#!/usr/bin/env bash
# Make sure Debian's Chromium is installed for the browser tests (tests/test_browser.py).
# Playwright drives this system browser through executable_path: `playwright install`
# (which downloads a browser build) is never needed or run.
set -euo pipefail
if [ -x "${WARDING_CHROMIUM:-/usr/bin/chromium}" ] || command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Chromium for the browser tests (Debian package 'chromium')"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "Chromium not found: install the 'chromium' package (or set WARDING_CHROMIUM)" >&2
echo "(the browser tests skip outside CI and fail in CI without it)" >&2
