#!/usr/bin/env bash
# The pre-call page in Firefox (Debian's firefox-esr, headless, driven through
# its own Marionette protocol: tests/webrtc/precall_firefox.py) against the
# sanitized daemon on loopback, with Firefox's fake microphone (?mic=1; see
# precall_firefox.py for why not the synthetic voice):
#   - the page ends "done" with verdict pass, two-way, Firefox's user agent;
#   - packets Firefox sent == packets the daemon received and authenticated
#     (the page stops its sender, then the daemon), none failed authentication;
#   - downstream: Firefox received what the daemon sent (loopback: no loss);
#   - a screenshot in tests/out/precall-firefox.png.
# Exit 77 without firefox-esr.
# shellcheck disable=SC2015 # ok() never fails: "check && ok || bad" is an if
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-build/asan}
PMIN=36800 PMAX=36899 DURATION=8 SLACK=5
OUT=tests/out

skip() { echo "skip t-firefox: $*"; exit 77; }
command -v firefox-esr >/dev/null || command -v firefox >/dev/null || skip "no firefox-esr"
command -v jq >/dev/null || skip "no jq"

WORK=$(mktemp -d /tmp/rtpprobe-firefox.XXXXXX)
# shellcheck source=scripts/lib-daemon.sh
. scripts/lib-daemon.sh
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    rp_stop_daemon >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
fail=0
ok()  { echo "ok   $*"; }
bad() { fail=1; echo "FAIL $*"; }

port=$(rp_free_port 19280)
rp_make_config "$WORK/rtpprobed.conf" "$port" "$PMIN" "$PMAX" tls
openssl rand -hex 32 > "$WORK/page.secret"
chmod 600 "$WORK/page.secret"
echo "webrtc: { page_secret_file = \"$WORK/page.secret\"; };" >> "$WORK/rtpprobed.conf"
rp_start_daemon "$WORK/rtpprobed.conf" "$WORK/rtpprobed.log"
token=$("$BIN/rtpprobed" -c "$WORK/rtpprobed.conf" --page-token --agent firefox --ttl 300)

mkdir -p "$OUT"
rc=0
/usr/bin/python3 tests/webrtc/precall_firefox.py \
    --url "https://127.0.0.1:$port/precall?mic=1&codec=opus&duration=$DURATION#t=$token" \
    --out-dir "$OUT" --timeout $((DURATION + 60)) > "$WORK/result.json" 2> "$WORK/check.err" || rc=$?
[ "$rc" = 77 ] && skip "$(cat "$WORK/check.err")"
R="$WORK/result.json"
if [ "$rc" != 0 ] || ! jqe .report.verdict "$R" >/dev/null; then
    bad "Firefox's page did not finish (exit $rc):"; cat "$WORK/check.err"; tail -n 20 "$WORK/rtpprobed.log"
    exit 1
fi
jqe '.userAgent | test("Firefox/")' "$R" >/dev/null && ok "browser: $(jq -r .userAgent "$R")" ||
    bad "not Firefox: $(jq -r .userAgent "$R")"
jqe '.report.verdict == "pass" and .report.diagnosis == "two-way" and .report.transport == "srtp"' "$R" >/dev/null &&
    ok "verdict pass, two-way, SRTP ($(jq -r .report.cipher "$R"), MOS $(jq -c '[.report.upstream.mos, .report.downstream.mos]' "$R"))" ||
    bad "verdict $(jq -c '[.report.verdict, .report.diagnosis, .report.cause]' "$R")"
id=$(jq -r .report.session_id "$R")
curl -sS --cacert "$WORK/cert.pem" -H "Authorization: Bearer $(cat "$WORK/token")" \
    "https://127.0.0.1:$port/v1/sessions/$id" > "$WORK/session.json"
sent=$(jq .browserStats.outbound.packetsSent "$R") recv=$(jq .upstream.received "$WORK/session.json")
auth=$(jq .upstream.dropped.auth_failure "$WORK/session.json")
[ "$recv" -le "$sent" ] && [ "$recv" -ge $((sent - SLACK)) ] && [ "$auth" = 0 ] &&
    ok "Firefox sent $sent, the daemon received and authenticated $recv" ||
    bad "Firefox sent $sent, the daemon received $recv ($auth failed authentication)"
brecv=$(jq .browserStats.inbound.packetsReceived "$R") dsent=$(jq .report.downstream.sent "$R")
[ "$brecv" -le "$dsent" ] && [ "$brecv" -ge $((dsent - SLACK)) ] &&
    ok "downstream: the daemon sent $dsent, Firefox received $brecv" || bad "downstream: sent $dsent, Firefox received $brecv"
[ -s "$OUT/precall-firefox.png" ] && ok "screenshot $OUT/precall-firefox.png" || bad "no screenshot"
exit $fail
