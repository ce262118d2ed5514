#!/usr/bin/env bash
# make bench-capacity: how many probe sessions rtpprobed carries, against a
# bare recvmmsg/sendmmsg echo on the same sockets at the same packet rates,
# measured alternately in one run (docs/bench.md).
# For each N (BENCH_SESSIONS, default "100 500 1000 2000") and transport
# (BENCH_TRANSPORTS, default "rtp srtp"), BENCH_ROUNDS (default 2) pairs of
# rounds in ABBA order:
#   daemon round: a fresh rtpprobed, N sessions created over the control API
#     and announced (PATCH peer) as the probe does, then build/tools/loadgen
#     sends PCMU 20 ms upstream on every session from its own socket and
#     verifies downstream; after BENCH_WARMUP s, the daemon's CPU is measured
#     for BENCH_SECONDS s (/proc/PID/stat); then PATCH stop with the count
#     sent gives the daemon's final figures.
#   echo round: build/tools/bareecho on N sockets, the same generator at the
#     same rates, its CPU over the same window.
# Loopback only; control port from 59000, media ports 48000-52999, generator
# 53000-54999, echo 57000-58999. BENCH_STRICT=1 refuses to measure on a busy
# machine (other load above 0.3 cores) instead of flagging the row.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-build}
TOOLS=${TOOLS:-build/tools}
SESSIONS=${BENCH_SESSIONS:-100 500 1000 2000}
TRANSPORTS=${BENCH_TRANSPORTS:-rtp srtp}
ROUNDS=${BENCH_ROUNDS:-2}
WARMUP=${BENCH_WARMUP:-3}
SECONDS_=${BENCH_SECONDS:-10}
MEDIA_MIN=48000 MEDIA_MAX=52999 SRC_BASE=53000 ECHO_BASE=57000
HZ=$(getconf CLK_TCK)
WORK=$(mktemp -d /tmp/rtpprobe-capacity.XXXXXX)
RP_PID='' GEN_PID='' ECHO_PID='' HZ_PID=''
cleanup() {
    set +e
    for p in $HZ_PID $GEN_PID $ECHO_PID; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    [ -n "$RP_PID" ] && kill -TERM "$RP_PID" 2>/dev/null && wait "$RP_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
# shellcheck source=scripts/lib-daemon.sh
. scripts/lib-daemon.sh

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
for n in $SESSIONS; do
    if [ "$n" -gt 2000 ]; then echo "capacity: N=$n is above the 2000 the port ranges hold"; exit 1; fi
    if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((n + 200)) ]; then
        echo "capacity: ulimit -n $(ulimit -n) is too low for $n sessions"; exit 1
    fi
done
for t in "$BIN/rtpprobed" "$TOOLS/loadgen" "$TOOLS/bareecho"; do
    [ -x "$t" ] || { echo "capacity: $t missing (make all $TOOLS/loadgen $TOOLS/bareecho)"; exit 1; }
done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# Cores busy with other work over one second (nothing of ours is running).
other_load() {
    local a b
    a=$(awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat)
    sleep 1
    b=$(awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat)
    awk -v a="$a" -v b="$b" -v hz="$HZ" 'BEGIN { split(a, x, " "); split(b, y, " ");
        printf "%.2f", (y[1] - x[1]) / hz }'
}

wait_line() { # FILE PATTERN PID: until FILE has a line matching PATTERN
    for _ in $(seq 1 600); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        kill -0 "$3" 2>/dev/null || { echo "capacity: process $3 exited:"; cat "$1"; return 1; }
        sleep 0.1
    done
    echo "capacity: timed out waiting for '$2' in $1"; return 1
}

busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }

# Measures PID's CPU over the window: WARMUP s after the generator starts,
# then SECONDS_ s. With the generator's PID too, also the cores that other
# work took meanwhile (all busy time less PID's and the generator's; our
# once-a-second /healthz curl is in it, a few % of a core). Prints
# "cpu_pct other_cores"; at the window's edges runs WINDOW_HOOK start|end.
window_cpu() {
    local pid=$1 gen=${2:-} t1 t2 g1 g2 b1 b2
    sleep "$WARMUP"
    [ -n "${WINDOW_HOOK:-}" ] && "$WINDOW_HOOK" start
    t1=$(cpu_ticks "$pid"); b1=$(busy_ticks); g1=0
    [ -n "$gen" ] && g1=$(cpu_ticks "$gen")
    sleep "$SECONDS_"
    t2=$(cpu_ticks "$pid"); b2=$(busy_ticks); g2=0
    [ -n "$gen" ] && g2=$(cpu_ticks "$gen")
    [ -n "${WINDOW_HOOK:-}" ] && "$WINDOW_HOOK" end
    awk -v a="$t1" -v b="$t2" -v ga="$g1" -v gb="$g2" -v ba="$b1" -v bb="$b2" -v hz="$HZ" -v s="$SECONDS_" \
        'BEGIN { o = ((bb - ba) - (b - a) - (gb - ga)) / hz / s; if (o < 0) o = 0
                 printf "%.1f %.2f\n", (b - a) / hz / s * 100, o }'
}

# The daemon's counters from /metrics, as "name value" lines, into FILE.
# "t" is the middle of the request, in ns: when the daemon wrote the counters, to
# a few ms (the request's own time).
metrics_snap() { # URL FILE
    local a b
    a=$(date +%s%N)
    curl -sk -m 10 "$1/metrics" > "$2.raw"
    b=$(date +%s%N)
    echo "t $(((a + b) / 2))" > "$2"
    awk '
        /^rtpprobed_packets_total\{direction="downstream"\}/ {print "down", $NF}
        /^rtpprobed_packets_total\{direction="upstream"\}/ {print "up", $NF}
        /^rtpprobed_downstream_skipped_total / {print "skipped", $NF}
        /^rtpprobed_socket_drops_total / {print "sockdrops", $NF}' "$2.raw" >> "$2"
}
window_metrics() { metrics_snap "$ROUND_URL" "$WORK/metrics.$1"; }

# GET /healthz once a second on a fresh TLS connection, as a monitor would,
# while $WORK/healthz.on exists; one line per request: the seconds curl took
# ("x" on failure).
healthz_probe() {
    while [ -e "$WORK/healthz.on" ]; do
        curl -sk -o /dev/null -m 5 -w '%{time_total}\n' "$1/healthz" || echo x
        sleep 1
    done
}

# curl -K blocks: METHOD URL BODY per line of stdin, one keep-alive connection.
curl_batch() {
    local cfg=$WORK/curl.cfg auth method url body first=1
    auth="Authorization: Bearer $(cat "$WORK/token")"
    : > "$cfg"
    while read -r method url body; do
        [ $first = 1 ] || echo next >> "$cfg"
        first=0
        body=${body//\\/\\\\}
        printf 'url = "%s"\ninsecure\nrequest = %s\nheader = "%s"\ndata = "%s"\n' "$url" "$method" "$auth" "${body//\"/\\\"}" >> "$cfg"
    done
    curl -sk -K "$cfg"
}

daemon_round() { # N TRANSPORT -> one line of figures in $WORK/daemon.$N.$T
    local n=$1 tr=$2 port url rss0 rss1 cpu other gen
    port=$(rp_free_port 59000)
    url="https://127.0.0.1:$port"
    RP_MAX_SESSIONS=$((n + 10)) rp_make_config "$WORK/d.conf" "$port" $MEDIA_MIN $MEDIA_MAX tls
    sed -i "s/^limits: {.*/limits: { max_sessions = $((n + 10)); max_sessions_per_source = $((n + 10)); max_duration = 600; requests_per_second = 100000; request_burst = 100000; };/" \
        "$WORK/d.conf"
    rp_start_daemon "$WORK/d.conf" "$WORK/d.log" || exit 1
    sleep 0.3
    rss0=$(rss_kib "$RP_PID")
    local dur=$((WARMUP + SECONDS_ + 60))
    seq "$n" | while read -r _; do
        echo "POST $url/v1/sessions {\"codec\":\"pcmu\",\"ptime_ms\":20,\"duration_s\":$dur,\"transport\":\"$tr\"}"
    done | curl_batch > "$WORK/created.jsonl"
    if [ "$(jq -r 'select(.id) | .id' "$WORK/created.jsonl" | wc -l)" != "$n" ]; then
        echo "capacity: could not create $n sessions:"; grep -v '"id"' "$WORK/created.jsonl" | head -3; exit 1
    fi
    "$TOOLS/loadgen" --created "$WORK/created.jsonl" --src-base $SRC_BASE --warmup "$WARMUP" \
        --seconds "$SECONDS_" --counts "$WORK/counts" > "$WORK/gen.out" &
    GEN_PID=$!
    wait_line "$WORK/gen.out" '^ready' "$GEN_PID" || exit 1
    jq -r '.id' "$WORK/created.jsonl" | awk -v u="$url" -v b=$SRC_BASE \
        '{ printf "PATCH %s/v1/sessions/%s {\"peer\":\"127.0.0.1:%d\"}\n", u, $1, b + NR - 1 }' |
        curl_batch > "$WORK/announced.jsonl"
    kill -USR1 "$GEN_PID"
    touch "$WORK/healthz.on"
    healthz_probe "$url" > "$WORK/healthz" &
    HZ_PID=$!
    ROUND_URL=$url
    read -r cpu other < <(WINDOW_HOOK=window_metrics window_cpu "$RP_PID" "$GEN_PID")
    rm -f "$WORK/healthz.on"
    wait "$HZ_PID" || true
    HZ_PID=
    rss1=$(rss_kib "$RP_PID")
    wait_line "$WORK/gen.out" '^sent' "$GEN_PID" || exit 1
    awk -v u="$url" '{ printf "PATCH %s/v1/sessions/%s {\"stop\":true,\"upstream_sent\":%s}\n", u, $1, $2 }' \
        "$WORK/counts" | curl_batch > "$WORK/final.jsonl"
    if [ "$(jq -r 'select(.id and .state == "stopped") | .id' "$WORK/final.jsonl" | wc -l)" != "$n" ]; then
        echo "capacity: not every session stopped cleanly:"; jq -c 'select(.state != "stopped")' "$WORK/final.jsonl" | head -3
        exit 1
    fi
    curl -sk "$url/metrics" > "$WORK/metrics" || true
    kill -USR1 "$GEN_PID"
    wait "$GEN_PID"
    GEN_PID=
    rp_stop_daemon || { echo "capacity: rtpprobed failed:"; tail -5 "$WORK/d.log"; exit 1; }
    gen=$(tail -n 1 "$WORK/gen.out")
    local skipped healthz
    # /healthz in the window, ms: [median, slowest]; "fail" if one did not answer.
    healthz=$(sort -n "$WORK/healthz" | awk '$1 == "x" {f = 1; next} {v[++k] = $1 * 1000}
        END {print f ? "\"fail\"" : (k ? sprintf("[%.0f,%.0f]", v[int((k + 1) / 2)], v[k]) : "null")}')
    skipped=$(jq -s 'if all(.[]; .downstream.skipped != null) then (map(.downstream.skipped) | add) else "n/a" end' \
        "$WORK/final.jsonl")
    if [ "$skipped" = '"n/a"' ]; then
        skipped=$(awk '/^rtpprobed_downstream_skipped_total/ {s += $NF; f = 1} END {print f ? s : "n/a"}' "$WORK/metrics")
    fi
    jq -s -c --argjson gen "$gen" --arg cpu "$cpu" --arg rss0 "$rss0" --arg rss1 "$rss1" --arg skipped "$skipped" \
        --argjson healthz "$healthz" --argjson n "$n" \
        --arg other "$other" \
        --slurpfile m0 <(jq -R -n '[inputs | split(" ") | {(.[0]): (.[1] | tonumber)}] | add' "$WORK/metrics.start") \
        --slurpfile m1 <(jq -R -n '[inputs | split(" ") | {(.[0]): (.[1] | tonumber)}] | add' "$WORK/metrics.end") '{
        cpu: ($cpu | tonumber),
        up_sent: (map(.upstream.sent_by_probe) | add), up_received: (map(.upstream.received) | add),
        up_host_drops: (map(.upstream.host_drops) | add),
        down_sent: (map(.downstream.sent) | add), down_received: $gen.received, down_bad: $gen.bad,
        rate: (if $gen.daemon_slots > 0 then $gen.daemon_sent / $gen.daemon_slots else 0 end),
        gen_window_rate: ($gen.received_window / $gen.nominal_window),
        skipped: $skipped, rss_per_session_kib: ((($rss1 | tonumber) - ($rss0 | tonumber)) / $n),
        gen_cpu: $gen.cpu_pct, healthz_ms: $healthz, other: ($other | tonumber),
        win_down: ($m1[0].down - $m0[0].down), win_skipped: ($m1[0].skipped - $m0[0].skipped),
        win_up: ($m1[0].up - $m0[0].up), win_sockdrops: ($m1[0].sockdrops - $m0[0].sockdrops),
        win_rate: (($m1[0].down - $m0[0].down) as $s | ($m1[0].skipped - $m0[0].skipped) as $k |
                   if $s + $k > 0 then $s / ($s + $k) else 0 end),
        win_clock_rate: (($m1[0].down - $m0[0].down) / ($n * 50 * ($m1[0].t - $m0[0].t) / 1e9)) }' "$WORK/final.jsonl" \
        >> "$WORK/daemon.$n.$tr"
    sleep 0.5
}

echo_round() { # N TRANSPORT -> one line in $WORK/echo.$N.$T
    local n=$1 tr=$2 cpu other gen echo
    "$TOOLS/bareecho" "$n" $ECHO_BASE > "$WORK/echo.out" &
    ECHO_PID=$!
    wait_line "$WORK/echo.out" '^ready' "$ECHO_PID" || exit 1
    "$TOOLS/loadgen" --echo "$n" --echo-base $ECHO_BASE --src-base $SRC_BASE --warmup "$WARMUP" \
        --seconds "$SECONDS_" > "$WORK/gen.out" &
    GEN_PID=$!
    wait_line "$WORK/gen.out" '^ready' "$GEN_PID" || exit 1
    kill -USR1 "$GEN_PID"
    read -r cpu other < <(window_cpu "$ECHO_PID" "$GEN_PID")
    wait_line "$WORK/gen.out" '^sent' "$GEN_PID" || exit 1
    kill -USR1 "$GEN_PID"
    wait "$GEN_PID"
    GEN_PID=
    kill -TERM "$ECHO_PID"
    wait "$ECHO_PID"
    ECHO_PID=
    gen=$(tail -n 1 "$WORK/gen.out")
    echo=$(tail -n 1 "$WORK/echo.out")
    jq -n -c --argjson gen "$gen" --argjson echo "$echo" --arg cpu "$cpu" --arg other "$other" \
        '{cpu: ($cpu | tonumber), sent: $gen.sent, echoed: $echo.echoed, received: $gen.received, gen_cpu: $gen.cpu_pct,
          other: ($other | tonumber)}' \
        >> "$WORK/echo.$n.$tr"
    sleep 0.5
}

REV=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
echo "capacity bench: $BIN/rtpprobed, tree $REV, on $(uname -n), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "PCMU 20 ms both ways, one UDP socket per session, loopback; ${WARMUP} s warm-up + ${SECONDS_} s measured per round; $ROUNDS rounds per row (daemon and echo alternating, ABBA)"
FMT='%-6s %-5s %8s %8s %6s %8s %9s %8s %9s %8s %9s %8s %9s  %s\n'
# shellcheck disable=SC2059
printf "\n$FMT" N tr daemon echo ratio up_loss down_loss skipped down_rate win_skip KiB/sess gen_cpu healthz note
for tr in $TRANSPORTS; do
    for n in $SESSIONS; do
        load=$(other_load)
        note=
        if awk -v l="$load" 'BEGIN { exit !(l > 0.3) }'; then
            if [ "${BENCH_STRICT:-0}" = 1 ]; then
                echo "capacity: the machine is busy (other work takes $load cores): refusing to measure"; exit 1
            fi
            note="unreliable: other load $load cores before"
        fi
        for round in $(seq "$ROUNDS"); do
            if [ $((round % 2)) = 1 ]; then daemon_round "$n" "$tr"; echo_round "$n" "$tr"
            else echo_round "$n" "$tr"; daemon_round "$n" "$tr"; fi
        done
        # Other work during the rounds' windows, then in the second after them.
        during=$(jq -s -r --slurpfile e "$WORK/echo.$n.$tr" '(map(.other) + ($e | map(.other))) | max' "$WORK/daemon.$n.$tr")
        load2=$(other_load)
        for l in "during:$during" "after:$load2"; do
            if [ -z "$note" ] && awk -v l="${l#*:}" 'BEGIN { exit !(l > 0.3) }'; then
                if [ "${BENCH_STRICT:-0}" = 1 ]; then
                    echo "capacity: other work took ${l#*:} cores ${l%%:*} the N=$n $tr rounds: refusing to report them"; exit 1
                fi
                note="unreliable: other load ${l#*:} cores ${l%%:*}"
            fi
        done
        jq -s -r --slurpfile e "$WORK/echo.$n.$tr" --arg n "$n" --arg tr "$tr" --arg note "${note:-ok}" '
            def pct(a; b): if b > 0 then (a / b * 100) else 0 end;
            def r2: . * 100 | round / 100;
            (map(.cpu) | add / length) as $d | ($e | map(.cpu) | add / length) as $x |
            (if ((map(.gen_cpu) + ($e | map(.gen_cpu))) | max) > 90 then "; generator saturated" else "" end) as $sat |
            (map(.up_sent) | add) as $us | (map(.up_received) | add) as $ur |
            (map(.down_sent + (if .skipped == "n/a" then 0 else (.skipped | tonumber) end)) | add) as $ds |
            (map(.down_received) | add) as $dr |
            [ $n, $tr, "\($d | r2)%", "\($x | r2)%", (if $x > 0 then "\($d / $x | r2)x" else "-" end),
              "\(pct($us - $ur; $us) | r2)%", "\(pct($ds - $dr; $ds) | r2)%",
              (if any(.[]; .skipped == "n/a") then "n/a" else (map(.skipped | tonumber) | add | tostring) end),
              "\(map(.win_rate) | add / length * 100 | r2)%", "\(map(.win_skipped) | add)",
              "\(map(.rss_per_session_kib) | add / length | . * 10 | round / 10)",
              "\(map(.gen_cpu) | add / length | r2)%",
              (if any(.[]; .healthz_ms == "fail") then "fail" elif any(.[]; .healthz_ms == null) then "-"
               else "\(map(.healthz_ms[0]) | max)/\(map(.healthz_ms[1]) | max)ms" end), "\($note)\($sat)" ] | @tsv' \
            "$WORK/daemon.$n.$tr" | awk -F'\t' -v fmt="$FMT" '{ printf fmt, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14 }'
        if [ -n "${BENCH_RAW:-}" ]; then cat "$WORK/daemon.$n.$tr" "$WORK/echo.$n.$tr" >&2; fi
    done
done
