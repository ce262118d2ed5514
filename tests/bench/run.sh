#!/usr/bin/env bash
# make bench: the media clock under a control-plane flood, as ratios measured
# in one run. For each daemon build, ROUNDS times (builds alternating):
#   - a session streams G.711 downstream (20 ms ptime) to tests/hostile/stress;
#   - 1 s of baseline, then 992 connections from 32 loopback addresses each do
#     a TLS handshake and send half a request (stress flood --handshake);
#   - reported: downstream packet gaps (max, p99) during the flood, and their
#     ratio to the same run's baseline max gap (1.0 = undisturbed clock), and
#     the /healthz latency of a client meanwhile.
# BENCH_BASELINE=<git revision>: also builds that revision in a temporary
# worktree and measures it in the same run, alternating, for a before/after.
# Loopback only. Needs root or ulimit -n >= 8192 for the flood.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${BENCH_ROUNDS:-3}
BIN_NEW=${BIN:-build}
TOOLS=${TOOLS:-build/tools}
WORK=$(mktemp -d /tmp/rtpprobe-bench.XXXXXX)
RP_PID=
cleanup() {
    set +e
    [ -n "$RP_PID" ] && kill -TERM "$RP_PID" 2>/dev/null && wait "$RP_PID" 2>/dev/null
    [ -n "${TREE:-}" ] && git worktree remove --force "$TREE" >/dev/null 2>&1
    git worktree prune 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
# shellcheck source=scripts/lib-daemon.sh
. scripts/lib-daemon.sh

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 8192 ]; then
    echo "bench: ulimit -n $(ulimit -n) is below 8192 (run as root)"; exit 1
fi

builds=("current:$BIN_NEW")
if [ -n "${BENCH_BASELINE:-}" ]; then
    TREE=$WORK/baseline
    if ! git worktree add -q --detach "$TREE" "$BENCH_BASELINE"; then
        echo "bench: cannot check out BENCH_BASELINE=$BENCH_BASELINE (a shallow clone lacks history)"; exit 1
    fi
    echo "bench: building baseline $(git -C "$TREE" log --oneline -1)"
    MAKEFLAGS= make -C "$TREE" -s build/rtpprobed >/dev/null
    builds=("baseline:$TREE/build" "${builds[@]}")
fi

run_one() { # NAME BINDIR ROUND
    local name=$1 BIN=$2 round=$3 port out
    port=$(rp_free_port 26743)
    rp_make_config "$WORK/$name.conf" "$port" 47000 47099 tls
    sed -i 's/^limits: {.*/limits: { max_sessions = 20; max_duration = 600; requests_per_second = 1000; request_burst = 1000; request_timeout = 2; };/' \
        "$WORK/$name.conf"
    rp_start_daemon "$WORK/$name.conf" "$WORK/$name.log" || { echo "bench: $name did not start"; exit 1; }
    local url="https://127.0.0.1:$port" auth sid
    auth="Authorization: Bearer $(cat "$WORK/token")"
    sid=$(curl -sk -H "$auth" -X POST -d '{"codec":"pcmu","ptime_ms":20,"duration_s":60}' "$url/v1/sessions" | jq -r .id)
    cat > "$WORK/announce.sh" <<EOF
curl -sk -o /dev/null -w '%{http_code}' -H '$auth' -X PATCH -d "{\"peer\":\"\$PEER\"}" '$url/v1/sessions/$sid' | grep -q 200
EOF
    out=$WORK/$name.$round.json
    "$TOOLS/stress" flood --connect "127.0.0.1:$port" --tls --src-base 127.0.1.1 --sources 32 --per-source 31 \
        --probe-src 127.0.0.250 --announce "sh '$WORK/announce.sh'" --baseline-s 1 --hold-s 3.5 --handshake > "$out"
    local rc=0
    rp_stop_daemon || rc=$?
    [ "$rc" = 0 ] || { echo "bench: $name exited with status $rc:"; tail -5 "$WORK/$name.log"; exit 1; }
    if ! jqe '(.error | not) and .flood.gap_ms_max > 0 and .baseline.gap_ms_max > 0' "$out" >/dev/null 2>&1; then
        echo "bench: $name round $round measured nothing:"; head -c 600 "$out"; echo; exit 1
    fi
    jq -r --arg n "$name" --arg r "$round" \
        '"\($n)\t\($r)\t\(.flood.gap_ms_max * 10 | round / 10)\t\(.flood.gap_ms_p99 * 10 | round / 10)\t\(.baseline.gap_ms_max * 10 | round / 10)\t\(.flood.gap_ms_max / .baseline.gap_ms_max * 100 | round / 100)\t\(.flood.seq_gaps)\t\(.probe_ms_max | round)"' "$out" \
        >> "$WORK/rows"
    sleep 2.5 # the cut connections' sockets go before the next daemon binds
}

echo "bench: 992-connection TLS handshake flood, downstream G.711 20 ms; $ROUNDS rounds, builds alternating"
# Alternating, and in the other order every second round (ABBA), so that a
# drift of the machine's load is shared by both builds.
for round in $(seq "$ROUNDS"); do
    order=("${builds[@]}")
    if [ $((round % 2)) = 0 ] && [ ${#builds[@]} = 2 ]; then order=("${builds[1]}" "${builds[0]}"); fi
    for b in "${order[@]}"; do
        run_one "${b%%:*}" "${b#*:}" "$round"
    done
done
printf 'build\tround\tgap_max_ms\tgap_p99_ms\tbaseline_max_ms\tratio\tseq_gaps\thealthz_max_ms\n'
cat "$WORK/rows"
echo
echo "medians over the rounds, each column on its own (ratio: of each run's flood max gap to its own baseline max gap):"
for b in "${builds[@]}"; do
    awk -F'\t' -v n="${b%%:*}" '$1 == n { g[++k] = $3; p[k] = $4; bl[k] = $5; r[k] = $6 }
        function med(a, k,   i, j, t) { for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
                                      return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2 }
        END { printf "  %-9s flood gap max %.1f ms, p99 %.1f ms; baseline gap max %.1f ms; ratio %.2f\n", n, med(g, k), med(p, k), med(bl, k), med(r, k) }' "$WORK/rows"
done
