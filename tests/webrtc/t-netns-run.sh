#!/usr/bin/env bash
# The browser pre-call page in the namespace network of tests/net (lib.sh):
# headless Chromium in the agent namespace, behind the home NAT, the daemon on
# the media host behind the edge (webrtc.address = the edge's public address).
#   A. clean path: pass, two-way; the page's counts against nft's on the wire;
#      A2: the same in Firefox ESR (Marionette: precall_firefox.py), if installed.
#   B. the edge does not forward the RTP range: the page says
#      one-way-upstream-blocked or no-media with verdict fail, as the CLI does
#      in the same network, and its remediation names the range.
#   C. all the agent's outbound UDP dropped, coturn (use-auth-secret, REST
#      credentials made by the daemon) on the WAN: the page passes through the
#      relay and says so (path turn-tcp, the pair's local candidate a relay).
# The name ends in run.sh so that tests/net's stale-namespace clean-up knows a
# live run of it. Root, chromium, chromedriver, python3-selenium, turnserver;
# else exit 77.
# shellcheck disable=SC2015 # ok() never fails: "check && ok || bad" is an if
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
BIN=${BIN:-build/asan}
case $BIN in /*) ;; *) BIN=$PWD/$BIN ;; esac
DURATION=10
# Packets a busy 2-core machine may still have in flight at the end (t-loopback.sh).
SLACK=5

skip() { echo "skip t-netns: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, nftables)"
probe_ns="rp-$$-check"
ip netns add "$probe_ns" 2>/dev/null || skip "cannot create a network namespace"
ip netns del "$probe_ns"
for c in nft jq curl chromium chromedriver turnserver; do command -v "$c" >/dev/null || skip "no $c"; done
/usr/bin/python3 -c 'import selenium' 2>/dev/null || skip "no python3-selenium"

WORK=$(mktemp -d /tmp/rtpprobe-webrtc-net.XXXXXX)
# shellcheck source=scripts/lib-daemon.sh
. scripts/lib-daemon.sh
# shellcheck source=tests/net/lib.sh
. tests/net/lib.sh
failed=0
net_install_cleanup webrtc-net "reports and logs" failed
ok()  { echo "ok   $*"; }
bad() { echo "FAIL $*"; failed=1; }
v() { jq -r "($2) | if . == null then \"null\" else . end" "$1" 2>/dev/null || echo null; }

TURN_PORT=3478
# RTP only (version 2, not RTCP's second byte 192-223, RFC 5761), as it left
# the agent and as it reached the media host, and the other way.
NFT_SRTP='@th,64,2 2 @th,72,8 != 192-223'
browser_counters() {
    nsx "$NS_AGENT" nft -f - <<EOF
table inet btruth {
    counter up_out { }
    counter down_in { }
    chain out { type filter hook output priority 100; udp dport 10000-20000 $NFT_SRTP counter name up_out; }
    chain in { type filter hook input priority 100; udp sport 10000-20000 $NFT_SRTP counter name down_in; }
}
EOF
    nsx "$NS_MEDIA" nft -f - <<EOF
table inet btruth {
    counter up_in { }
    counter down_out { }
    chain in { type filter hook input priority 100; udp dport 10000-20000 $NFT_SRTP counter name up_in; }
    chain out { type filter hook output priority 100; udp sport 10000-20000 $NFT_SRTP counter name down_out; }
}
EOF
}
bcount() { net_counter "$1" inet btruth "$2"; }

# The daemon as net_start_daemon runs it, with the page on: a page secret,
# the public address for the SDP candidate, and coturn's shared secret.
web_start_daemon() {
    local conf=$WORK/rtpprobed.conf
    DAEMON_LOG=$WORK/rtpprobed.log
    net_make_cert
    rp_make_config "$conf" "$CONTROL_PORT" 10000 20000 tls
    sed -i -e "s|listen = \"127.0.0.1:$CONTROL_PORT\"|listen = \"$MEDIA_IP:$CONTROL_PORT\"|" \
           -e 's|bind = "127.0.0.1"|bind = "0.0.0.0"|' "$conf"
    openssl rand -hex 32 > "$WORK/page.secret"
    openssl rand -hex 32 > "$WORK/turn.secret"
    chmod 600 "$WORK/page.secret" "$WORK/turn.secret"
    cat >> "$conf" <<CONF
webrtc: {
    page_secret_file = "$WORK/page.secret";
    address = "$EDGE_WAN_IP";
    turn_secret_file = "$WORK/turn.secret";
    turn_urls = [ "turn:$WAN_IP:$TURN_PORT?transport=udp", "turn:$WAN_IP:$TURN_PORT?transport=tcp" ];
};
CONF
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

# coturn with the REST API's shared secret (use-auth-secret), on the WAN.
web_start_relay() {
    ip -n "$NS_WAN" route add 198.18.200.0/24 dev br0
    net_bg "$NS_WAN" turnserver -n --listening-ip "$WAN_IP" --relay-ip "$WAN_IP" --listening-port "$TURN_PORT" \
        --no-tls --no-dtls --use-auth-secret --static-auth-secret "$(cat "$WORK/turn.secret")" --realm test \
        --min-port 40000 --max-port 40100 --no-cli --log-file stdout --simple-log \
        --pidfile "$WORK/turnserver.pid" > "$WORK/turnserver.log" 2>&1
    local pid=$BG_PID
    for _ in $(seq 1 50); do
        nsx "$NS_AGENT" bash -c "exec 3<>/dev/tcp/$WAN_IP/$TURN_PORT" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || { echo "turnserver exited:"; tail -20 "$WORK/turnserver.log"; return 1; }
        sleep 0.2
    done
    echo "turnserver not reachable"; return 1
}

# page NAME [QUERY]: the page in Chromium in the agent namespace; the result in $WORK/NAME.json.
page() {
    local name=$1 query=${2:-} token
    token=$("$BIN/rtpprobed" -c "$WORK/rtpprobed.conf" --page-token --agent "net-$name" --ttl 300)
    PAGE_RC=0
    nsx "$NS_AGENT" /usr/bin/python3 tests/webrtc/precall_check.py \
        --url "$SERVER_URL/precall?duration=$DURATION$query#t=$token" --out-dir "$WORK" --screenshot "$name.png" \
        --timeout $((DURATION + 60)) > "$WORK/$name.json" 2> "$WORK/$name.err" || PAGE_RC=$?
    echo "   $name: exit $PAGE_RC, verdict $(v "$WORK/$name.json" .report.verdict)" \
         "$(v "$WORK/$name.json" .report.diagnosis), path $(v "$WORK/$name.json" .report.path)," \
         "up $(v "$WORK/$name.json" .report.upstream.received)/$(v "$WORK/$name.json" .report.upstream.sent)," \
         "down $(v "$WORK/$name.json" .report.downstream.received)/$(v "$WORK/$name.json" .report.downstream.sent)" \
         "$(head -c 300 "$WORK/$name.err")"
}

net_up bridge
browser_counters
web_start_daemon || { bad "rtpprobed did not start"; exit 1; }

echo "== A: clean path"
page clean
R=$WORK/clean.json
jqe '.report.verdict == "pass" and .report.diagnosis == "two-way"' "$R" >/dev/null &&
    ok "pass, two-way" || bad "clean: $(jq -c '[.report.verdict, .report.diagnosis, .report.cause]' "$R")"
# The path has no queue: a busy machine can make Chromium send late, but its
# abs-send-time stamps keep that out of the delay rise (sender_lag).
jqe '(.report.upstream.delay_ms.sender_lag | type == "number") and .report.upstream.delay_ms.rise < 30' "$R" >/dev/null &&
    ok "upstream rise $(v "$R" .report.upstream.delay_ms.rise) ms, Chromium's own lag $(v "$R" .report.upstream.delay_ms.sender_lag) ms apart" ||
    bad "upstream delay $(jq -c .report.upstream.delay_ms "$R")"
sent=$(v "$R" .browserStats.outbound.packetsSent) up_out=$(bcount "$NS_AGENT" up_out)
up_in=$(bcount "$NS_MEDIA" up_in) got=$(v "$R" .report.upstream.received)
# As on loopback (t-loopback.sh): the page reads its count once its sender
# stood still, before the daemon stops, so the daemon cannot have more; on a
# busy machine the daemon may stop before the last SLACK of them reach its
# socket. Nothing is missing before those (lost 0).
[ "$up_in" = "$up_out" ] && [ "$got" -le "$up_in" ] && [ "$got" -le "$sent" ] && [ "$got" -ge $((sent - SLACK)) ] &&
    jqe '.report.upstream.lost == 0' "$R" >/dev/null &&
    ok "upstream: browser sent $sent, nft left $up_out / arrived $up_in, daemon received $got" ||
    bad "upstream: browser sent $sent, nft left $up_out / arrived $up_in, daemon received $got, lost $(v "$R" .report.upstream.lost)"
down_out=$(bcount "$NS_MEDIA" down_out) down_in=$(bcount "$NS_AGENT" down_in)
brecv=$(v "$R" .browserStats.inbound.packetsReceived)
[ "$down_in" = "$down_out" ] && [ "$brecv" -le "$down_in" ] &&
    ok "downstream: nft left $down_out / arrived $down_in, browser received $brecv" ||
    bad "downstream: nft left $down_out / arrived $down_in, browser received $brecv"

echo "== A2: Firefox on the clean path (its fake microphone: tests/webrtc/precall_firefox.py says why)"
if command -v firefox-esr >/dev/null || command -v firefox >/dev/null; then
    token=$("$BIN/rtpprobed" -c "$WORK/rtpprobed.conf" --page-token --agent net-firefox --ttl 300)
    FF_RC=0
    nsx "$NS_AGENT" /usr/bin/python3 tests/webrtc/precall_firefox.py \
        --url "$SERVER_URL/precall?mic=1&duration=$DURATION#t=$token" --out-dir "$WORK" \
        --timeout $((DURATION + 60)) > "$WORK/firefox.json" 2> "$WORK/firefox.err" || FF_RC=$?
    R=$WORK/firefox.json
    echo "   firefox: exit $FF_RC, $(v "$R" .userAgent), verdict $(v "$R" .report.verdict) $(v "$R" .report.diagnosis)," \
         "up $(v "$R" .report.upstream.received)/$(v "$R" .report.upstream.sent)," \
         "down $(v "$R" .report.downstream.received)/$(v "$R" .report.downstream.sent) $(head -c 300 "$WORK/firefox.err")"
    jqe '.userAgent | test("Firefox/")' "$R" >/dev/null && jqe '.report.verdict == "pass" and .report.diagnosis == "two-way"' "$R" >/dev/null &&
        ok "Firefox: pass, two-way, SRTP $(v "$R" .report.cipher)" || bad "Firefox: $(jq -c '[.userAgent, .report.verdict, .report.diagnosis, .report.cause]' "$R")"
    jqe --argjson k "$SLACK" '.report.upstream.sent > 0 and .report.upstream.received <= .report.upstream.sent and
         .report.upstream.received >= .report.upstream.sent - $k and .report.upstream.lost == 0 and
         .report.downstream.lost == 0' "$R" >/dev/null &&
        ok "Firefox: the daemon received $(v "$R" .report.upstream.received) of the $(v "$R" .report.upstream.sent) packets Firefox sent, Firefox all the daemon sent" ||
        bad "Firefox counts: $(jq -c '[.report.upstream.sent, .report.upstream.received, .report.downstream.sent, .report.downstream.received]' "$R")"
else
    echo "   (no firefox-esr: not run)"
fi

echo "== B: the edge does not forward the RTP range"
net_nft_edge no
page blocked
R=$WORK/blocked.json
nsx "$NS_AGENT" "$BIN/rtpprobe" --server "$SERVER_URL" --cacert "$WORK/cert.pem" --json --quiet --duration 5 \
    > "$WORK/cli-blocked.json" 2> "$WORK/cli-blocked.err"
cli=$(v "$WORK/cli-blocked.json" .diagnosis)
echo "   CLI in the same network: $(v "$WORK/cli-blocked.json" .verdict) $cli"
jqe --arg cli "$cli" '.report.verdict == "fail" and .report.diagnosis == $cli' \
    "$R" >/dev/null && ok "page: fail, $(v "$R" .report.diagnosis) (CLI: $cli)" ||
    bad "blocked: $(jq -c '[.report.verdict, .report.diagnosis]' "$R")"
[ "$(v "$WORK/cli-blocked.json" .verdict)" = fail ] && ok "the CLI agrees: fail" || bad "the CLI says $(v "$WORK/cli-blocked.json" .verdict)"
jqe '.report.remediation | test("10000")' "$R" >/dev/null && ok "remediation: $(v "$R" .report.remediation)" ||
    bad "remediation: $(v "$R" .report.remediation)"
net_nft_edge yes

echo "== C: all UDP dropped at the agent, coturn relays over TCP"
web_start_relay || { bad "turnserver did not start"; exit 1; }
net_nft "$NS_AGENT" <<EOF
table inet agentfw {
    counter udp_out_drop { }
    chain output { type filter hook output priority filter; policy accept; meta l4proto udp counter name udp_out_drop drop; }
}
EOF
page relay
R=$WORK/relay.json
jqe '.report.verdict == "pass" and .report.path == "turn-tcp" and .browserStats.pair.local_type == "relay"' "$R" \
    >/dev/null && ok "pass through the relay: path turn-tcp, local candidate relay" ||
    bad "relay: $(jq -c '[.report.verdict, .report.diagnosis, .report.path, .browserStats.pair]' "$R")"
drops=$(net_counter "$NS_AGENT" inet agentfw udp_out_drop)
[ "${drops:-0}" -gt 0 ] && ok "the direct UDP was really dropped ($drops datagrams)" || bad "no direct UDP dropped"
exit $failed
