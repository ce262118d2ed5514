#!/usr/bin/env bash
# The TURN credentials rtpprobed hands the pre-call page (rp_turn_rest_credentials,
# docs/webrtc.md "TURN credentials") against a real coturn: Debian's turnserver
# with use-auth-secret + static-auth-secret on loopback, and coturn's own
# client, turnutils_uclient, allocating and relaying with them to
# turnutils_peer. Then the same with one character of the password changed,
# and with credentials that expired a minute ago: coturn refuses both.
# Binds fixed loopback ports (TURN_PORT, PEER_PORT, relay 49700-49720): run
# it under the suite lock,
#   flock /tmp/rtpprobe-suite.lock tests/integration/turn-rest.sh
# TOOLS selects where pagetool is built (make build/tools/pagetool).
set -euo pipefail
cd "$(dirname "$0")/../.."
TOOLS=${TOOLS:-build/tools}
TURN_PORT=${TURN_PORT:-34781}
PEER_PORT=${PEER_PORT:-34790}
skip() { echo "turn-rest: skipped: $*"; exit 0; }
for tool in turnserver turnutils_uclient turnutils_peer openssl; do
    command -v "$tool" >/dev/null || skip "$tool missing (apt-get install coturn; scripts/install-deps --test)"
done
[ -x "$TOOLS/pagetool" ] || { echo "turn-rest: FAIL: $TOOLS/pagetool missing (make build/tools/pagetool)"; exit 1; }
WORK=$(mktemp -d /tmp/rtpprobe-turn-rest.XXXXXX)
TURN_PID="" PEER_PID=""
cleanup() {
    for pid in $TURN_PID $PEER_PID; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
pass=0 fail=0
ok() { echo "   ok   $*"; pass=$((pass + 1)); }
bad() { echo "   FAIL $*"; fail=$((fail + 1)); }

# The secret as docs/webrtc.md makes it: one file, read by rtpprobed, its
# content given to coturn as static-auth-secret.
(umask 027 && openssl rand -hex 32 > "$WORK/turn.secret")
turnserver -n --listening-ip 127.0.0.1 --listening-port "$TURN_PORT" --relay-ip 127.0.0.1 \
    --min-port 49700 --max-port 49720 --use-auth-secret --static-auth-secret "$(cat "$WORK/turn.secret")" \
    --realm rtpprobe.test --no-tls --no-dtls --no-cli --allow-loopback-peers --userdb "$WORK/turndb" \
    --log-file stdout --simple-log --pidfile "$WORK/turnserver.pid" > "$WORK/turnserver.log" 2>&1 &
TURN_PID=$!
turnutils_peer -L 127.0.0.1 -p "$PEER_PORT" > "$WORK/peer.log" 2>&1 &
PEER_PID=$!
for _ in $(seq 1 50); do
    grep -q "Total General servers" "$WORK/turnserver.log" 2>/dev/null && break
    kill -0 "$TURN_PID" 2>/dev/null || { echo "turn-rest: FAIL: turnserver exited:"; tail -20 "$WORK/turnserver.log"; exit 1; }
    sleep 0.1
done

# uclient USER PASS LOG: allocate, permission, channel, 5 packets to the peer and back
uclient() {
    timeout 20 turnutils_uclient -p "$TURN_PORT" -e 127.0.0.1 -r "$PEER_PORT" -n 5 -u "$1" -w "$2" 127.0.0.1 > "$3" 2>&1
}
mapfile -t good < <("$TOOLS/pagetool" turn "$WORK/turn.secret" alice 600)
if uclient "${good[0]}" "${good[1]}" "$WORK/good.log" && grep -q "Total lost packets 0 " "$WORK/good.log"; then
    ok "coturn accepts rp_turn_rest_credentials (${good[0]}) and relays 5 packets to the peer and back"
else
    bad "coturn refused rp_turn_rest_credentials:"; tail -5 "$WORK/good.log"
fi
# one character of the password changed (A <-> B keeps it base64)
wrong=${good[1]:0:5}$([ "${good[1]:5:1}" = A ] && echo B || echo A)${good[1]:6}
if ! uclient "${good[0]}" "$wrong" "$WORK/wrong.log" && grep -q "Cannot complete Allocation" "$WORK/wrong.log"; then
    ok "a password one character off is refused"
else
    bad "a wrong password was not refused"
fi
mapfile -t old < <("$TOOLS/pagetool" turn "$WORK/turn.secret" alice -60)
if ! uclient "${old[0]}" "${old[1]}" "$WORK/expired.log" && grep -q "Cannot complete Allocation" "$WORK/expired.log"; then
    ok "credentials that expired a minute ago (${old[0]}) are refused"
else
    bad "expired credentials were not refused"
fi
echo "turn-rest: $pass passed, $fail failed"
[ "$fail" = 0 ]
