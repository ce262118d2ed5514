#!/usr/bin/env bash
# Calibration against the browser's own jitter buffer (docs/webrtc.md): on
# three paths of the namespace network (tests/net/lib.sh) -- clean, wanbridge's
# random delay 0-40 ms both ways, and a standing queue (tbf + a TCP download on
# the agent's downlink) -- the CLI probe and the page in Chromium run in turn,
# Opus, 15 s each. Downstream is the direction both judge as a receiver:
#   CLI late %        downstream.late_adaptive / downstream.sent (the adaptive buffer model, jbuf.c)
#   Chromium conc. %  inbound-rtp concealedSamples / totalSamplesReceived (NetEq's own)
# They must agree within 2 percentage points, and the verdicts must be the
# same. The table goes to tests/out/calibration.md (docs/webrtc.md quotes a run).
# The name ends in run.sh for tests/net's stale-namespace clean-up.
# Root, chromium, chromedriver, python3-selenium, iperf3; else exit 77.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
BIN=${BIN:-build/asan}
TOOLS=${TOOLS:-build/tools}
case $BIN in /*) ;; *) BIN=$PWD/$BIN ;; esac
case $TOOLS in /*) ;; *) TOOLS=$PWD/$TOOLS ;; esac
DURATION=15 SEED=${NET_SEED:-42} TOLERANCE_PP=2
OUT=tests/out

skip() { echo "skip t-calibrate: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
for c in nft jq curl tc iperf3 chromium chromedriver; do command -v "$c" >/dev/null || skip "no $c"; done
/usr/bin/python3 -c 'import selenium' 2>/dev/null || skip "no python3-selenium"
[ -x "$TOOLS/wanbridge" ] || skip "no $TOOLS/wanbridge"

WORK=$(mktemp -d /tmp/rtpprobe-webrtc-cal.XXXXXX)
# shellcheck source=scripts/lib-daemon.sh
. scripts/lib-daemon.sh
# shellcheck source=tests/net/lib.sh
. tests/net/lib.sh
failed=0
net_install_cleanup webrtc-calibrate "reports and logs" failed
ok()  { echo "ok   $*"; }
bad() { echo "FAIL $*"; failed=1; }
v() { jq -r "($2) | if . == null then \"null\" else . end" "$1" 2>/dev/null || echo null; }

start_daemon() {
    local conf=$WORK/rtpprobed.conf
    DAEMON_LOG=$WORK/rtpprobed.log
    net_make_cert
    rp_make_config "$conf" "$CONTROL_PORT" 10000 20000 tls
    sed -i -e "s|listen = \"127.0.0.1:$CONTROL_PORT\"|listen = \"$MEDIA_IP:$CONTROL_PORT\"|" \
           -e 's|bind = "127.0.0.1"|bind = "0.0.0.0"|' "$conf"
    [ -s "$WORK/page.secret" ] || { openssl rand -hex 32 > "$WORK/page.secret"; chmod 600 "$WORK/page.secret"; }
    echo "webrtc: { page_secret_file = \"$WORK/page.secret\"; address = \"$EDGE_WAN_IP\"; };" >> "$conf"
    RTPPROBE_TOKEN=$(cat "$WORK/token")
    export RTPPROBE_TOKEN
    net_bg "$NS_MEDIA" "$BIN/rtpprobed" -c "$conf" 2>> "$DAEMON_LOG"
    RP_PID=$BG_PID
    for _ in $(seq 1 50); do
        nsx "$NS_AGENT" curl -s --max-time 1 --cacert "$WORK/cert.pem" -o /dev/null "$SERVER_URL/healthz" && return 0
        sleep 0.2
    done
    echo "rtpprobed not reachable"; return 1
}

# flood_then CMD...: with the queue path, a TCP download keeps homenat's
# downlink queue standing from 3 s into CMD's run.
flood_then() {
    local flood=""
    if [ "$PATH_NAME" = step ]; then
        [ -z "${WANBRIDGE_PID:-}" ] || net_stop_pid "$WANBRIDGE_PID"
        net_start_wanbridge --seed "$SEED" --delay-max-ms 40 --delay-step-b-to-a "5000:80"
    fi
    if [ "$PATH_NAME" = queue ]; then
        net_bg "$NS_AGENT" sh -c "sleep 3; exec iperf3 -c $WAN_IP -R -w 8K -t $((DURATION + 20))" \
            > "$WORK/$PATH_NAME.iperf3.log" 2>&1
        flood=$BG_PID
    fi
    "$@"
    [ -z "$flood" ] || net_stop_pid "$flood"
}

cli_run() {
    nsx "$NS_AGENT" "$BIN/rtpprobe" --server "$SERVER_URL" --cacert "$WORK/cert.pem" --json --quiet \
        --codec opus --duration "$DURATION" > "$WORK/$PATH_NAME.cli.json" 2> "$WORK/$PATH_NAME.cli.err"
}

page_run() {
    local token
    token=$("$BIN/rtpprobed" -c "$WORK/rtpprobed.conf" --page-token --agent calibrate --ttl 300)
    nsx "$NS_AGENT" /usr/bin/python3 tests/webrtc/precall_check.py \
        --url "$SERVER_URL/precall?codec=opus&duration=$DURATION#t=$token" --out-dir "$WORK" \
        --screenshot "$PATH_NAME.png" --timeout $((DURATION + 60)) > "$WORK/$PATH_NAME.page.json" \
        2> "$WORK/$PATH_NAME.page.err"
}

# path NAME: builds the network for NAME, runs both, adds a table row.
path() {
    PATH_NAME=$1
    echo "== $PATH_NAME"
    case $PATH_NAME in
        clean) net_up bridge ;;
        jitter) net_up wanbridge; net_start_wanbridge --seed "$SEED" --delay-max-ms 40 ;;
        # The jitter path, and downstream's delay steps up by 80 ms at 5 s: the
        # buffers must catch up, so both really conceal (or count late).
        step) net_up wanbridge; WANBRIDGE_PID=   # restarted before each run too: the step is timed from its first RTP frame
              net_start_wanbridge --seed "$SEED" --delay-max-ms 40 --delay-step-b-to-a "5000:80" ;;
        queue) net_up bridge
               nsx "$NS_HOME" tc qdisc add dev h-lan root tbf rate 1mbit burst 3000 limit 1000000
               net_bg "$NS_WAN" iperf3 -s -B "$WAN_IP" > "$WORK/queue.iperf3-server.log" 2>&1
               for _ in $(seq 1 50); do nsx "$NS_WAN" ss -Hltn "sport = :5201" | grep -q . && break; sleep 0.1; done ;;
    esac
    start_daemon || { bad "$PATH_NAME: rtpprobed did not start"; net_down; return; }
    flood_then cli_run
    flood_then page_run
    local c=$WORK/$PATH_NAME.cli.json p=$WORK/$PATH_NAME.page.json
    local cli_late page_conc
    cli_late=$(jq -r '.downstream | if .sent > 0 then 100 * .late_adaptive / .sent else "null" end' "$c" 2>/dev/null)
    page_conc=$(jq -r '.browserStats.inbound | if .totalSamplesReceived > 0 then 100 * .concealedSamples / .totalSamplesReceived else "null" end' "$p" 2>/dev/null)
    local row
    row=$(printf '| %s | %.2f | %.2f | %s | %s | %s | %s |' "$PATH_NAME" "${cli_late:-nan}" "${page_conc:-nan}" \
          "$(v "$c" .downstream.mos)" "$(v "$p" .report.downstream.mos)" "$(v "$c" .verdict)" "$(v "$p" .report.verdict)")
    echo "$row" | tee -a "$WORK/table"
    if awk -v a="$cli_late" -v b="$page_conc" -v t="$TOLERANCE_PP" \
        'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "null" && b != "null" && d <= t) }'; then
        ok "$PATH_NAME: CLI late $cli_late % vs Chromium concealed $page_conc % (within $TOLERANCE_PP pp)"
    else
        bad "$PATH_NAME: CLI late $cli_late % vs Chromium concealed $page_conc % (more than $TOLERANCE_PP pp apart)"
    fi
    [ "$(v "$c" .verdict)" = "$(v "$p" .report.verdict)" ] && ok "$PATH_NAME: same verdict ($(v "$c" .verdict))" ||
        bad "$PATH_NAME: verdicts differ: CLI $(v "$c" .verdict) ($(v "$c" .cause)), page $(v "$p" .report.verdict) ($(v "$p" .report.cause))"
    net_down
}

: > "$WORK/table"
for p in ${CAL_PATHS:-clean jitter queue step}; do path "$p"; done
mkdir -p "$OUT"
{
    echo "Revision $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $(date -u +%Y-%m-%d), seed $SEED, Opus, $DURATION s, downstream:"
    echo
    echo "| path | CLI late % | Chromium concealed % | CLI MOS | page MOS | CLI verdict | page verdict |"
    echo "|---|---|---|---|---|---|---|"
    cat "$WORK/table"
} > "$OUT/calibration.md"
cat "$OUT/calibration.md"
exit $failed
