#!/usr/bin/env bash
# TURN fallback in the namespace network of tests/net (lib.sh): a real coturn
# (Debian's turnserver) on the WAN segment (198.18.100.1, 3478 UDP/TCP, 5349
# TLS with a test certificate), a public relay as a provider would run it: it
# relays to the media host's public address through the edge's forward. The agent's firewall drops all
# outbound UDP. Checks: the direct path gets no media; TURN/UDP gets no answer
# (exit 3); TURN/TLS measures both ways with the loss the relay's own nft
# rules made (counters), the relayed address announced and latched; TURN/TCP
# passes; wrong credentials give a clear error and exit 3.
#
#   BIN=build tests/net/turn-run.sh     (`make net` runs it; needs root)
#   KEEP_WORK=1 ...                     (keep reports and logs)
# The name ends in run.sh so that tests/net's stale-namespace clean-up
# (net_cleanup_stale) knows a live run of it.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
BIN=${BIN:-build}
case $BIN in /*) ;; *) BIN=$PWD/$BIN ;; esac

skip() { echo "net-turn: skipped: $*"; exit 0; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, nftables)"
probe_ns="rp-$$-check"
ip netns add "$probe_ns" 2>/dev/null || skip "cannot create a network namespace (ip netns add failed)"
ip netns del "$probe_ns"
missing=""
for c in ip nft jq curl openssl turnserver; do command -v "$c" >/dev/null || missing="$missing $c"; done
[ -x "$BIN/rtpprobed" ] && [ -x "$BIN/rtpprobe" ] || missing="$missing $BIN/rtpprobed,rtpprobe"
# coturn is Debian's own package (install-deps --test installs it, so missing
# there is a failure); on EL it comes from EPEL, best effort: skipped, said so.
if [ "$missing" = " turnserver" ] && ! command -v apt-get >/dev/null; then
    skip "coturn's turnserver is not installed (EL: from EPEL, scripts/install-deps --test tries)"
fi
if [ -n "$missing" ]; then
    echo "net-turn: FAIL: missing:$missing (scripts/install-deps --test; make all)"
    exit 1
fi

WORK=$(mktemp -d /tmp/rtpprobe-net-turn.XXXXXX)
. scripts/lib-daemon.sh
. tests/net/lib.sh

failed=0
net_install_cleanup net-turn "reports and logs" failed

ok()  { echo "   ok   $*"; }
bad() { echo "   FAIL $*"; failed=1; }
check() { local what=$1; shift; if "$@" >/dev/null 2>&1; then ok "$what"; else bad "$what"; fi; }
jqcheck() { check "$1" jqe "$3" "$2"; }
v() { jq -r "($2) | if . == null then \"null\" else . end" "$1" 2>/dev/null || echo null; }
eq() { if [ "$2" != null ] && [ "$2" = "$3" ]; then ok "$1 ($2 = $3)"; else bad "$1 ($2 vs $3)"; fi; }

TURN_PORT=3478
TURNS_PORT=5349
RELAY_URL="turn:$WAN_IP:$TURN_PORT"

# The daemon as net_start_daemon starts it, with media.allow_foreign_peer on:
# the relay's address is not the agent's control address.
turn_start_daemon() {
    local conf=$WORK/rtpprobed.conf
    DAEMON_LOG=$WORK/rtpprobed.log
    net_make_cert
    rp_make_config "$conf" "$CONTROL_PORT" 10000 20000 tls
    sed -i -e "s|listen = \"127.0.0.1:$CONTROL_PORT\"|listen = \"$MEDIA_IP:$CONTROL_PORT\"|" \
           -e 's|media: { bind = "127.0.0.1";|media: { bind = "0.0.0.0"; allow_foreign_peer = true;|' "$conf"
    grep -q 'allow_foreign_peer = true' "$conf" || { echo "config edit failed"; return 1; }
    RTPPROBE_TOKEN=$(cat "$WORK/token")
    export RTPPROBE_TOKEN
    net_bg "$NS_MEDIA" "$BIN/rtpprobed" -c "$conf" 2>> "$DAEMON_LOG"
    RP_PID=$BG_PID
    for _ in $(seq 1 50); do
        nsx "$NS_AGENT" curl -s --max-time 1 --cacert "$WORK/cert.pem" -o /dev/null "$SERVER_URL/healthz" && return 0
        kill -0 "$RP_PID" 2>/dev/null || { echo "rtpprobed exited:"; tail -20 "$DAEMON_LOG"; return 1; }
        sleep 0.2
    done
    echo "rtpprobed not reachable"; return 1
}

# coturn on the WAN segment (its bridge address), with a certificate for that
# address; the probe's --cacert holds it and the daemon's. Ready when its TLS
# port accepts connections from the agent.
turn_start_relay() {
    ip -n "$NS_WAN" route add 198.18.200.0/24 dev br0
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj "/CN=$WAN_IP" -addext "subjectAltName=IP:$WAN_IP" \
        -keyout "$WORK/turn-key.pem" -out "$WORK/turn-cert.pem" 2>/dev/null
    cat "$WORK/cert.pem" "$WORK/turn-cert.pem" > "$WORK/cas.pem"
    net_bg "$NS_WAN" turnserver -n --listening-ip "$WAN_IP" --relay-ip "$WAN_IP" \
        --listening-port "$TURN_PORT" --tls-listening-port "$TURNS_PORT" --no-dtls \
        --lt-cred-mech --user u:p --realm test --cert "$WORK/turn-cert.pem" --pkey "$WORK/turn-key.pem" \
        --min-port 40000 --max-port 40100 --no-cli --log-file stdout --simple-log \
        --pidfile "$WORK/turnserver.pid" > "$WORK/turnserver.log" 2>&1
    local pid=$BG_PID
    for _ in $(seq 1 50); do
        nsx "$NS_AGENT" bash -c "exec 3<>/dev/tcp/$WAN_IP/$TURNS_PORT" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || { echo "turnserver exited:"; tail -20 "$WORK/turnserver.log"; return 1; }
        sleep 0.2
    done
    echo "turnserver not reachable"; return 1
}

# Loss on the relay's leg, counted where it is made: the edge drops permille
# $1 of the measured upstream RTP from the relay and $2 of the downstream RTP
# to it (priming packets pass). Not in the relay's own output hook: a local
# drop fails coturn's send (EPERM), and coturn then ends the allocation.
turn_relay_loss() {
    net_nft "$NS_EDGE" <<EOF
table ip relayloss {
    counter up_drop { }
    counter down_drop { }
    chain drops {
        type filter hook forward priority -10; policy accept;
        ip saddr $WAN_IP udp dport 10000-20000 $NFT_PRIME accept
        ip saddr $WAN_IP udp dport 10000-20000 $NFT_RTP numgen random mod 1000 < $1 counter name up_drop drop
        ip daddr $WAN_IP udp sport 10000-20000 $NFT_RTP numgen random mod 1000 < $2 counter name down_drop drop
    }
}
EOF
}

probe() {
    local name=$1; shift
    PROBE_RC=0
    nsx "$NS_AGENT" "$BIN/rtpprobe" --server "$SERVER_URL" --cacert "$WORK/cas.pem" --json --quiet "$@" \
        > "$WORK/$name.json" 2> "$WORK/$name.err" || PROBE_RC=$?
    echo "   $name: exit $PROBE_RC, path $(v "$WORK/$name.json" .path), verdict $(v "$WORK/$name.json" .verdict)," \
         "up $(v "$WORK/$name.json" .upstream.received)/$(v "$WORK/$name.json" .upstream.sent)," \
         "down $(v "$WORK/$name.json" .downstream.received)/$(v "$WORK/$name.json" .downstream.sent)," \
         "relay $(v "$WORK/$name.json" .relay.relayed) $(head -c 300 "$WORK/$name.err")"
}

echo "== TURN fallback: agent's outbound UDP dropped, coturn on the WAN"
net_up bridge
net_nft "$NS_AGENT" <<'EOF'
table inet agentfw {
    counter udp_out_drop { }
    chain output { type filter hook output priority filter; policy accept; meta l4proto udp counter name udp_out_drop drop; }
}
EOF
turn_start_daemon || { bad "rtpprobed did not start"; exit 1; }
turn_start_relay || { bad "turnserver did not start"; exit 1; }
turn_relay_loss 30 20 || { bad "the loss rules did not load"; exit 1; }

probe direct --duration 3
jqcheck "direct: path direct, no media either way" "$WORK/direct.json" \
    '.path == "direct" and .relay == null and .upstream.received == 0 and .downstream.received == 0'

probe turnudp --duration 3 -t 15 --turn "$RELAY_URL" --turn-user u --turn-pass p
eq "TURN/UDP: no answer through the blocked UDP, exit 3" "$PROBE_RC" 3
check "TURN/UDP: the error says the TURN server did not answer" grep -q "no answer from the TURN server" "$WORK/turnudp.err"

probe badpass --duration 3 --turn "turns:$WAN_IP:$TURNS_PORT" --turn-user u --turn-pass wrong
eq "wrong TURN password: exit 3" "$PROBE_RC" 3
check "wrong TURN password: the error names the credentials" grep -q "rejected the credentials (401" "$WORK/badpass.err"

net_truth
up0=$TRUTH_UP_IN down0=$TRUTH_DOWN_OUT prime0=$TRUTH_PRIME_IN
probe turns --duration 5 --keep --turn "turns:$WAN_IP:$TURNS_PORT" --turn-user u --turn-pass p
f=$WORK/turns.json
net_truth
up_drop=$(net_counter "$NS_EDGE" ip relayloss up_drop)
down_drop=$(net_counter "$NS_EDGE" ip relayloss down_drop)
id=$(v "$f" .session_id)
nsx "$NS_AGENT" curl -s --max-time 10 --cacert "$WORK/cert.pem" -H "Authorization: Bearer $RTPPROBE_TOKEN" \
    "$SERVER_URL/v1/sessions/$id" > "$WORK/turns.daemon.json" || true
echo "   nft on the relay's leg: upstream dropped $up_drop, downstream dropped $down_drop;" \
     "media host: upstream RTP in $((TRUTH_UP_IN - up0)), downstream RTP out $((TRUTH_DOWN_OUT - down0))"
jqcheck "TURN/TLS: path turns, relayed from the WAN relay's address" "$f" \
    ".path == \"turns\" and (.relay.relayed | startswith(\"$WAN_IP:\")) and .relay.server == \"$WAN_IP:$TURNS_PORT\""
jqcheck "TURN/TLS: the relayed address was announced and latched" "$f" '.nat.announced == .relay.relayed and .nat.latched == .relay.relayed'
jqcheck "TURN/TLS: two-way, added delay known" "$f" '.diagnosis != "no-media" and .upstream.received > 0 and .downstream.received > 0 and .relay.added_delay_ms > 0'
jqcheck "TURN/TLS: no port sample through a relay (it would go direct)" "$f" \
    '.port_sample.state == "not-run" and (.port_sample.reason | test("TURN relay"))'
eq "TURN/TLS: upstream received = RTP delivered to the media host (nft)" "$(v "$f" .upstream.received)" "$((TRUTH_UP_IN - up0))"
eq "TURN/TLS: upstream lost = the drop counter on the relay's leg" "$(v "$f" .upstream.lost)" "$up_drop"
eq "TURN/TLS: downstream sent = RTP the media host sent (nft)" "$(v "$f" .downstream.sent)" "$((TRUTH_DOWN_OUT - down0))"
eq "TURN/TLS: downstream lost = the drop counter on the relay's leg" "$(v "$f" .downstream.lost)" "$down_drop"
eq "TURN/TLS: priming packets delivered through the relay" "$(v "$WORK/turns.daemon.json" .upstream.primed)" "$((TRUTH_PRIME_IN - prime0))"
check "some loss made both ways at the relay" test "$up_drop" -gt 0 -a "$down_drop" -gt 0

probe turntcp --duration 3 --turn "$RELAY_URL?transport=tcp" --turn-user u --turn-pass p
jqcheck "TURN/TCP: path turn-tcp, media both ways" "$WORK/turntcp.json" \
    '.path == "turn-tcp" and .upstream.received > 0 and .downstream.received > 0'

# --paths: the four paths in turn, a table, and the recommendation. Without the
# relay's loss rules: their random 3 %/2 % would fail a 2 s path's 5 % threshold
# now and then (a path's verdict is not what is tested here).
nsx "$NS_EDGE" nft delete table ip relayloss
PROBE_RC=0
nsx "$NS_AGENT" "$BIN/rtpprobe" --server "$SERVER_URL" --cacert "$WORK/cas.pem" --quiet --duration 2 -t 8 --paths \
    --turn "turns:$WAN_IP:$TURNS_PORT" --turn-user u --turn-pass p > "$WORK/paths.out" 2> "$WORK/paths.err" || PROBE_RC=$?
sed 's/^/   | /' "$WORK/paths.out"
check "--paths: direct UDP listed without media" grep -Eq '^direct UDP +fail .*no-media' "$WORK/paths.out"
check "--paths: TURN/UDP listed as an error (no answer)" grep -Eq '^TURN/UDP +error .*no answer from the TURN server' "$WORK/paths.out"
check "--paths: TURN/TCP and TURN/TLS carry media" grep -Eqc '^TURN/(TCP|TLS) +(pass|warn) +[0-9]' "$WORK/paths.out"
eq "--paths: both relayed stream paths in the table" "$(grep -Ec '^TURN/(TCP|TLS) +(pass|warn) +[0-9]' "$WORK/paths.out")" 2
check "--paths: recommends a working relay path, UDP blocked" grep -Eq \
    "^UDP is blocked by the agent's network; TURN/(TCP on $TURN_PORT|TLS on $TURNS_PORT) works, MOS [0-9.]+: configure the client to use it\$" "$WORK/paths.out"
check "--paths: exit status of a working path (0 pass or 1 warn)" test "$PROBE_RC" -le 1

if [ "$failed" = 0 ]; then echo "net-turn: pass"; else echo "net-turn: FAIL"; fi
exit "$failed"
