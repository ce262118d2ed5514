#!/usr/bin/env bash
# Hostile input to the browser pre-call side (docs/webrtc.md), against the
# sanitized daemon on loopback, while a real probe session runs beside it:
#   - page tokens: missing, forged, expired, too long-lived, or used on
#     /v1/sessions: 401, each counted by verdict in /metrics;
#   - offers: not JSON, no sdp, malformed SDP, two m-lines, no fingerprint,
#     an unknown key: 400 with a reason, counted as refused;
#   - ICE: a check with a wrong MESSAGE-INTEGRITY gets no answer (counted
#     bad_integrity), and the DTLS that follows from that unverified address is
#     refused (counted);
#   - DTLS: a peer whose certificate does not match its offer's fingerprint
#     fails the handshake and gets no media; junk DTLS records before a good
#     handshake do not stop it;
#   - a well-behaved peer (tests/tools/webrtcpeer) still gets its media through,
#     and the probe session beside it passes with no loss.
# Exit 77 without jq, curl or python3.
# shellcheck disable=SC2015 # ok() never fails: "check && ok || bad" is an if
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-build/asan}
TOOLS=${TOOLS:-build/tools}
PMIN=36700 PMAX=36799

skip() { echo "skip t-hostile: $*"; exit 77; }
command -v jq >/dev/null || skip "no jq"
command -v curl >/dev/null || skip "no curl"
[ -x "$TOOLS/webrtcpeer" ] || skip "no $TOOLS/webrtcpeer (make build/tools/webrtcpeer)"

WORK=$(mktemp -d /tmp/rtpprobe-webrtc-hostile.XXXXXX)
# shellcheck source=scripts/lib-daemon.sh
. scripts/lib-daemon.sh
PROBE_PID=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    [ -z "$PROBE_PID" ] || kill "$PROBE_PID" 2>/dev/null || true
    rp_stop_daemon >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
fail=0
ok()  { echo "ok   $*"; }
bad() { fail=1; echo "FAIL $*"; }

port=$(rp_free_port 19180)
RP_LOG_LEVEL=debug rp_make_config "$WORK/rtpprobed.conf" "$port" "$PMIN" "$PMAX" tls
openssl rand -hex 32 > "$WORK/page.secret"
chmod 600 "$WORK/page.secret"
echo "webrtc: { page_secret_file = \"$WORK/page.secret\"; };" >> "$WORK/rtpprobed.conf"
rp_start_daemon "$WORK/rtpprobed.conf" "$WORK/rtpprobed.log"
TOKEN=$(cat "$WORK/token")
BASE="https://127.0.0.1:$port"
api() { curl -sS --cacert "$WORK/cert.pem" -o "$WORK/body" -w '%{http_code}' "$@"; }
metric() { curl -sS --cacert "$WORK/cert.pem" "$BASE/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
# A page token made outside the daemon, as a site's web app would (docs/webrtc.md).
mint() { /usr/bin/python3 - "$WORK/page.secret" "$1" "$2" "$3" <<'PY'
import base64, hashlib, hmac, sys
secret = open(sys.argv[1], "rb").read()
secret = secret[:-1] if secret.endswith(b"\n") else secret
payload = "v1:%d:%s" % (int(sys.argv[2]), sys.argv[3])
if sys.argv[4] == "forge":
    secret = b"x" * 64
sig = hmac.new(secret, payload.encode(), hashlib.sha256).digest()
print(payload + ":" + base64.urlsafe_b64encode(sig).rstrip(b"=").decode())
PY
}

# A real probe session beside it all: it must not notice.
"$BIN/rtpprobe" --server "$BASE" --cacert "$WORK/cert.pem" --token-file "$WORK/token" --duration 12 --json \
    > "$WORK/probe.json" 2> "$WORK/probe.err" &
PROBE_PID=$!

now=$(date +%s)
good=$(mint $((now + 300)) alice ok)
declare -A want=(
    [none]="" [forged]="$(mint $((now + 300)) alice forge)" [expired]="$(mint $((now - 10)) alice ok)"
    [too_long]="$(mint $((now + 86400 * 30)) alice ok)" [garbage]="v1:abc:::"
)
for k in none forged expired too_long garbage; do
    hdr=()
    [ -z "${want[$k]}" ] || hdr=(-H "Authorization: Bearer ${want[$k]}")
    code=$(api "${hdr[@]}" "$BASE/v1/webrtc/config")
    [ "$code" = 401 ] && ok "page token $k: 401" || bad "page token $k: $code $(cat "$WORK/body")"
done
code=$(api -H "Authorization: Bearer $good" "$BASE/v1/sessions" -d '{"codec":"pcmu"}')
[ "$code" = 401 ] && ok "a page token does not open a probe session: 401" || bad "page token on /v1/sessions: $code"
code=$(api -H "Authorization: Bearer $good" "$BASE/v1/webrtc/config")
[ "$code" = 200 ] && ok "a good page token: 200" || bad "good page token: $code $(cat "$WORK/body")"
for v in bad_signature expired too_long malformed; do
    n=$(metric "rtpprobed_webrtc_page_tokens_total{verdict=\"$v\"}")
    [ "${n:-0}" -ge 1 ] && ok "counted: page token $v ($n)" || bad "not counted: page token $v (${n:-none})"
done

# Offers that are not.
refused0=$(metric 'rtpprobed_webrtc_sessions_total{result="refused"}')
two_m=$'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\n'
no_fp=$'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=rtcp-mux\r\na=rtpmap:0 PCMU/8000\r\n'
bodies=('not json' '{}' '{"sdp": "hello"}' "$(jq -cn --arg s "$two_m" '{sdp: $s}')"
        "$(jq -cn --arg s "$no_fp" '{sdp: $s, codec: "pcmu"}')" '{"sdp": "v=0", "colour": "red"}')
for b in "${bodies[@]}"; do
    code=$(api -H "Authorization: Bearer $good" "$BASE/v1/webrtc" --data-binary "$b")
    reason=$(jq -r .error "$WORK/body" 2>/dev/null || true)
    [ "$code" = 400 ] && [ -n "$reason" ] && ok "offer ${b:0:30}...: 400 ($reason)" || bad "offer ${b:0:30}: $code"
done
refused=$(metric 'rtpprobed_webrtc_sessions_total{result="refused"}')
[ "$refused" -eq $((refused0 + ${#bodies[@]})) ] && ok "counted: $((refused - refused0)) offers refused" ||
    bad "refused offers counted $((refused - refused0)), expected ${#bodies[@]}"

# peer MODE: runs webrtcpeer through one offer/answer; its result in $WORK/MODE.json, the session id in $WORK/MODE.id.
peer() {
    local mode=$1
    coproc PEER { "$TOOLS/webrtcpeer" --mode "$mode" --packets 100; }
    local offer
    read -r offer <&"${PEER[0]}"
    local code
    code=$(api -H "Authorization: Bearer $good" "$BASE/v1/webrtc" \
        --data-binary "$(jq -c '. + {codec: "opus", duration: 5}' <<< "$offer")")
    [ "$code" = 201 ] || { bad "$mode: POST /v1/webrtc $code $(cat "$WORK/body")"; kill "$PEER_PID"; return 1; }
    jq -r .id "$WORK/body" > "$WORK/$mode.id"
    jq -c . "$WORK/body" >&"${PEER[1]}"
    read -r result <&"${PEER[0]}"
    wait "$PEER_PID" || true
    echo "$result" > "$WORK/$mode.json"
}
session() { curl -sS --cacert "$WORK/cert.pem" -H "Authorization: Bearer $TOKEN" "$BASE/v1/sessions/$(cat "$WORK/$1.id")"; }

bad_mi0=$(metric 'rtpprobed_webrtc_ice_checks_total{verdict="bad_integrity"}')
refused_dtls0=$(metric 'rtpprobed_webrtc_dtls_refused_total')
peer bad-mi
jqe '.ice == false and .dtls != "connected"' "$WORK/bad-mi.json" >/dev/null &&
    ok "a check with a wrong MESSAGE-INTEGRITY: no answer, no handshake" || bad "bad-mi: $(cat "$WORK/bad-mi.json")"
[ "$(metric 'rtpprobed_webrtc_ice_checks_total{verdict="bad_integrity"}')" -gt "$bad_mi0" ] &&
    ok "counted: bad_integrity" || bad "bad_integrity not counted"
[ "$(metric 'rtpprobed_webrtc_dtls_refused_total')" -gt "$refused_dtls0" ] &&
    ok "counted: DTLS from an unverified address refused" || bad "DTLS from an unverified address not counted"

peer wrong-fp
jqe '.ice == true and .dtls == "failed" and .received == 0' "$WORK/wrong-fp.json" >/dev/null &&
    ok "a certificate that is not the offer's: handshake failed, no media" || bad "wrong-fp: $(cat "$WORK/wrong-fp.json")"
session wrong-fp | jqe '.downstream.sent == 0' >/dev/null && ok "the daemon sent it nothing" ||
    bad "the daemon sent media after a failed handshake: $(session wrong-fp | jq -c .downstream)"
grep -q "does not match the SDP" "$WORK/rtpprobed.log" && ok "the daemon says why: $(grep -m1 "does not match the SDP" "$WORK/rtpprobed.log")" ||
    bad "no fingerprint line in the daemon's log"

for mode in garbage ok; do
    peer "$mode"
    R="$WORK/$mode.json"
    if jqe '.dtls == "connected" and .sent == 100 and .received > 0' "$R" >/dev/null; then
        ok "$mode: connected ($(jq -r .suite "$R")), sent 100, received $(jq .received "$R") authentic downstream"
    else
        bad "$mode: $(cat "$R")"
    fi
    got=$(session "$mode" | jq .upstream.received)
    [ "$got" = 100 ] && ok "$mode: the daemon received all 100" || bad "$mode: the daemon received $got of 100"
done

wait "$PROBE_PID" || true
PROBE_PID=
jqe '.verdict == "pass" and .upstream.lost == 0 and .downstream.lost == 0' "$WORK/probe.json" >/dev/null &&
    ok "the probe session beside it: pass, no loss" || bad "probe beside it: $(jq -c '[.verdict, .cause]' "$WORK/probe.json") $(cat "$WORK/probe.err")"
kill -0 "$RP_PID" && ok "the daemon is still running" || bad "the daemon died"
exit $fail
