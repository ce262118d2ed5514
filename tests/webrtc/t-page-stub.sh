#!/usr/bin/env bash
# The pre-call page against a stub of the daemon's API in headless Chromium
# (tests/webrtc/stub_check.py): CSP, error states, the offer, the synthetic
# signal (against the CLI's, with build/tools/signaldump), getStats() collection,
# the report drawn. Chromium, chromium-driver and python3-selenium; else exit 77.
# Starts a browser and a loopback server: run under flock /tmp/rtpprobe-suite.lock.
set -euo pipefail
cd "$(dirname "$0")/../.."

skip() { echo "skip t-page-stub: $*"; exit 77; }
command -v chromium >/dev/null || skip "no chromium (Debian: chromium)"
command -v chromedriver >/dev/null || skip "no chromedriver (Debian: chromium-driver)"
/usr/bin/python3 -c 'import selenium' 2>/dev/null || skip "no python3-selenium"

exec /usr/bin/python3 tests/webrtc/stub_check.py --out-dir tests/out --signal-ref "${TOOLS:-build/tools}/signaldump"
