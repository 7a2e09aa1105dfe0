#!/usr/bin/env bash
# Makes the browser and interop tests runnable: Python's websockets (the
# independent WebSocket client), Debian's chromium (installed with apt when
# missing and we are root) and playwright-core from the npm registry, pinned
# by browser/package-lock.json. Idempotent; test.sh and .ci/run call it.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver
  else
    echo "browser-setup: chromium is missing; install Debian's chromium (apt-get install chromium)" >&2
    exit 1
  fi
fi
# A CJK font, so the console's Chinese UI renders in screenshots (the page
# itself works without it).
if ! fc-list :lang=zh 2>/dev/null | grep -q . && [ "$(id -u)" = 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y fonts-wqy-microhei || true
fi
if [ ! -d browser/node_modules/playwright-core ]; then
  (cd browser && npm ci --no-audit --no-fund)
fi
node browser/smoke.mjs
# The independent RFC 6455 client of gateway/tests/interop.rs.
if ! python3 -c 'import websockets' >/dev/null 2>&1; then
  python3 -m pip install --quiet 'websockets==15.0.1'
fi
