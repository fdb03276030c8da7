#!/usr/bin/env bash
# Browser tests (tests/e2e): Debian's Chromium, driven by Playwright for Python.
# Only the Python package is installed; `playwright install` (a browser download) is
# never run: the tests launch /usr/bin/chromium through executable_path.
set -euo pipefail

if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # the emoji font only makes the screenshots readable (icons, avatars)
  $SUDO apt-get install -y -qq chromium fonts-noto-color-emoji
fi
python -m pip install -q "playwright>=1.45"
chromium --version || true
