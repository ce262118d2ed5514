#!/usr/bin/env bash
# The pre-call page in Firefox (Debian's firefox-esr, headless): Debian has no
# geckodriver, so nothing drives the page; it runs by itself from its URL and
# posts the browser's figures, and the daemon's own log line for that report
# ("browser session ID: pass two-way") is the outcome. Waited for, not slept:
# the log is polled until the line or the deadline. Plain HTTP on loopback (the
# daemon gives tokens over plain HTTP to this host only), so no certificate
# has to be trusted. Exit 77 without firefox-esr.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-build/asan}
PMIN=36800 PMAX=36899 DURATION=8

skip() { echo "skip t-firefox: $*"; exit 77; }
FIREFOX=$(command -v firefox-esr || command -v firefox || true)
[ -n "$FIREFOX" ] || skip "no firefox-esr"

WORK=$(mktemp -d /tmp/rtpprobe-firefox.XXXXXX)
# shellcheck source=scripts/lib-daemon.sh
. scripts/lib-daemon.sh
FF_PID=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    [ -z "$FF_PID" ] || { kill "$FF_PID" 2>/dev/null; wait "$FF_PID" 2>/dev/null; } || true
    rp_stop_daemon >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

port=$(rp_free_port 19280)
rp_make_config "$WORK/rtpprobed.conf" "$port" "$PMIN" "$PMAX" notls
openssl rand -hex 32 > "$WORK/page.secret"
chmod 600 "$WORK/page.secret"
echo "webrtc: { page_secret_file = \"$WORK/page.secret\"; };" >> "$WORK/rtpprobed.conf"
rp_start_daemon "$WORK/rtpprobed.conf" "$WORK/rtpprobed.log"
token=$("$BIN/rtpprobed" -c "$WORK/rtpprobed.conf" --page-token --agent firefox --ttl 300)

# A throw-away profile: loopback ICE candidates (the test runs on 127.0.0.1),
# audio that starts without a click, no first-run pages.
mkdir -p "$WORK/profile"
cat > "$WORK/profile/user.js" <<'PREFS'
user_pref("media.peerconnection.ice.loopback", true);
user_pref("media.autoplay.default", 0);
user_pref("media.autoplay.block-webaudio", false);
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);
user_pref("browser.aboutwelcome.enabled", false);
PREFS
HOME=$WORK MOZ_HEADLESS=1 "$FIREFOX" --headless --no-remote --profile "$WORK/profile" \
    "http://127.0.0.1:$port/precall?codec=opus&start=auto&duration=$DURATION#t=$token" > "$WORK/firefox.log" 2>&1 &
FF_PID=$!

line=""
for _ in $(seq 1 $(( (DURATION + 60) * 5 ))); do
    line=$(grep -m1 -E 'browser session [0-9a-f]+: (pass|warn|fail|unknown)' "$WORK/rtpprobed.log" || true)
    [ -n "$line" ] && break
    kill -0 "$FF_PID" 2>/dev/null || break
    sleep 0.2
done
if [ -z "$line" ]; then
    echo "FAIL Firefox's page made no report; daemon log:"; tail -n 20 "$WORK/rtpprobed.log"
    echo "firefox:"; tail -n 20 "$WORK/firefox.log"
    exit 1
fi
echo "     daemon: ${line#*rtpprobed: }"
case $line in
    *": pass two-way"*) echo "ok   Firefox ($("$FIREFOX" --version 2>/dev/null)): the page's report is pass, two-way" ;;
    *) echo "FAIL Firefox: $line"; exit 1 ;;
esac
