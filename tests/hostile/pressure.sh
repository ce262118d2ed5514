# Sourced by tests/hostile/run.sh after section 6 (uses its helpers, $WORK,
# daemon A: TLS on 127.0.0.1:$port, limits.request_timeout 2 s, max_body
# 16384). Tools: $TOOLS/stress (tests/hostile/stress.c), $TOOLS/slowcli.
#
#   7. event-loop latency: downstream packet gaps and /healthz latency while
#      ~1000 connections from 32 addresses are open
#   8. memory after a refused body: 413, then the client keeps streaming
#   9. table-full eviction: a connect/close flood from one address must not
#      cost a slow but legitimate client (300 ms between handshake and request)
#  10. /v1 over plain HTTP from a non-loopback peer: 403 (network namespace)
#  11. replayed and spoofed authentic RTP: latch, duplicates, foreign_source,
#      downstream stop 5 s after the last authentic upstream
#  12. malformed datagrams counted per parser reason (session JSON, /metrics)
#
# Connections the daemon cuts must also be released: each scenario compares
# the daemon's open descriptors before and after its deadlines.

nfds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
# fd_check WHAT PID BEFORE [WAIT]: after the deadlines (limits.request_timeout
# 2 s + a sweep: WAIT 2.6 s by default) the daemon must hold no more
# descriptors than before.
fd_check() {
    local what=$1 pid=$2 before=$3 wait=${4:-2.6} after
    sleep "$wait"
    # Connections still in the accept queue are cut a deadline later: wait up to
    # 3 s more for the count to come down (a leak never does).
    for _ in $(seq 15); do
        after=$(nfds "$pid")
        [ "$after" -le $((before + 4)) ] && break
        sleep 0.2
    done
    if [ "$after" -le $((before + 4)) ]; then
        ok "$what: daemon descriptors $before before, $after after the deadlines (connections released)"
    else
        bad "$what: daemon descriptors $before before, $after after the deadlines: $((after - before)) connections" \
            "not released (cut connections must go: LimitNOFILE=16384 in the unit)"
    fi
}

# Sections 7, 9 and the churn of 8 open thousands of connections: the daemon
# needs the descriptors (the systemd unit gives it 16384).
FLOODS=1 FLOODS_WHY=
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 8192 ]; then
    FLOODS=0 FLOODS_WHY="connection floods: ulimit -n $(ulimit -n) is below 8192"
fi

# ---------------------------------------------------------------- 7. loop latency
echo "== 7. event-loop latency: downstream gaps while 992 connections from 32 addresses are open"
if [ "$FLOODS" = 1 ]; then
    curl -sk -H "$AUTH" -X POST -d '{"codec":"pcmu","ptime_ms":20,"duration_s":60}' "$URL/v1/sessions" > "$WORK/lat.json"
    lsid=$(jq -r '.id // empty' "$WORK/lat.json")
    cat > "$WORK/lat-announce.sh" <<EOF
curl -sk -o /dev/null -w '%{http_code}' -H '$AUTH' -X PATCH -d "{\"peer\":\"\$PEER\"}" '$URL/v1/sessions/$lsid' | grep -q 200
EOF
    # The clock is judged against the same run's undisturbed stream (the sanitized
    # build on a shared 2-core machine has no absolute timings to promise): p99
    # within 3 x the baseline's largest gap, and no gap of 150 ms (without the
    # clock's priority the gaps were 200-290 ms; a lone scheduler hiccup of ~100
    # ms on a loaded machine is not the starvation this guards against).
    # The 150 ms grows with the baseline when the machine is that slow: max <
    # max(150, 6 x baseline max) (a loaded machine's baseline max of 40-60 ms
    # is 2-3 periods; the starvation this guards against was 10-15). That
    # starvation cannot hide behind a slow baseline: a clock more than 5
    # periods late skips the slots it missed (issue 13), and a skipped slot is a
    # sequence gap, which must be 0 whatever the baseline.
    clock_ok() { # MAX P99 BASELINE_MAX SEQ_GAPS
        awk -v m="$1" -v p="$2" -v b="$3" -v s="$4" 'BEGIN { exit !(m < (6 * b > 150 ? 6 * b : 150) && p < 3 * b && s == 0) }'
    }
    # 31 per address: one below the per-address cap (32), so none is cut early.
    flood() { # flood OUT [--handshake]
        local out=$1; shift
        "$TOOLS/stress" flood --connect "127.0.0.1:$port" --tls --src-base 127.0.1.1 --sources 32 --per-source 31 \
            --probe-src 127.0.0.250 --announce "sh '$WORK/lat-announce.sh'" --baseline-s 1 --hold-s 3.5 "$@" > "$out"
    }
    if [ -n "$lsid" ]; then
        fdb=$(nfds "$A_PID")
        flood "$WORK/flood-idle.json"
        J=$WORK/flood-idle.json
        if jqe .error "$J" >/dev/null 2>&1 || ! [ -s "$J" ]; then
            bad "stress flood: $(cat "$J")"
        else
            read -r bmax fmax fp99 fmean fat sg <<< "$(jq -r '"\(.baseline.gap_ms_max) \(.flood.gap_ms_max) \(.flood.gap_ms_p99) \(.flood.gap_ms_mean) \(.flood.gap_max_at_s) \(.flood.seq_gaps)"' "$J")"
            echo "       $(jq .conns "$J") idle TCP connections (no ClientHello) opened in $(jq -r '.open_s * 1000 | round' "$J") ms," \
                 "all open at once ($(jq .idle_max "$J")), cut by the daemon after $(jq -r '.close_s_min * 100 | round / 100' "$J")-$(jq -r '.close_s_max * 100 | round / 100' "$J") s"
            check "downstream (20 ms ptime) over $(jq -r '.flood.packets' "$J") packets during the flood: max gap $(printf %.1f "$fmax") ms ($(printf %.2f "$fat") s after the first connect), p99 $(printf %.1f "$fp99"), mean $(printf %.2f "$fmean"), $sg sequence gaps (baseline max $(printf %.1f "$bmax") ms; want p99 < 3 x baseline max, max < max(150, 6 x baseline max))" \
                clock_ok "$fmax" "$fp99" "$bmax" "$sg"
            jcheck "healthz from 127.0.0.250 while all were open: $(jq .probes_while_open_ok "$J")/$(jq .probes_while_open "$J") x 200, max $(jq -r '.probe_ms_max_while_open * 10 | round / 10' "$J") ms; over the whole flood max $(jq -r '.probe_ms_max * 10 | round / 10' "$J") ms (want 200, all but one < 100, max < 1000)" \
                "$J" ".probes_while_open >= 5 and .probes_while_open_ok == .probes_while_open and all(.probe_status[]; . == 200) and (.probe_ms | $PROMPT)"
        fi
        fd_check "  ...992 idle connections" "$A_PID" "$fdb"
        # The same with a TLS handshake and the start of a request on each: the
        # handshakes run on the loop that clocks the media. The clock has the
        # higher priority and other work yields to it after a slice
        # (rp_daemon_event_base); without that, gaps were 200-290 ms here.
        fdb=$(nfds "$A_PID")
        flood "$WORK/flood-tls.json" --handshake
        J=$WORK/flood-tls.json
        if [ -s "$J" ] && ! jqe .error "$J" >/dev/null 2>&1; then
            read -r bmax fmax fp99 sg <<< "$(jq -r '"\(.baseline.gap_ms_max) \(.flood.gap_ms_max) \(.flood.gap_ms_p99) \(.flood.seq_gaps)"' "$J")"
            check "992 connections with a TLS handshake and a partial request (all done $(jq -r '.all_ready_s * 100 | round / 100' "$J") s after the first connect): downstream max gap $(printf %.1f "$fmax") ms, p99 $(printf %.1f "$fp99") ms, $sg sequence gaps (baseline max $(printf %.1f "$bmax") ms; want p99 < 3 x baseline max, max < max(150, 6 x baseline max))" \
                clock_ok "$fmax" "$fp99" "$bmax" "$sg"
            # The probes' own handshakes queue behind the flood's (CPU work of
            # equal priority): served, not promptly.
            jcheck "  ...healthz from 127.0.0.250 meanwhile: $(jq -c '.probe_status | group_by(.) | map("\(.[0]) x \(length)")' "$J"), max $(jq -r '.probe_ms_max * 10 | round / 10' "$J") ms (want 200, < 2000: they wait behind the flood's handshakes)" \
                "$J" '(.probe_status | length) >= 5 and all(.probe_status[]; . == 200) and .probe_ms_max < 2000'
        else
            bad "stress flood --handshake: $(cat "$J")"
        fi
        fd_check "  ...992 TLS connections with a partial request (cut at the deadline)" "$A_PID" "$fdb"
        curl -sk -o /dev/null -H "$AUTH" -X DELETE "$URL/v1/sessions/$lsid"
    else
        bad "session for the latency check not created: $(head -c 200 "$WORK/lat.json")"
    fi
else
    skip "$FLOODS_WHY"
fi

# ---------------------------------------------------------------- 8. memory
echo "== 8. memory: a refused body (413) keeps streaming on its connection"
portc=$(rp_free_port $((port + 7)))
rp_make_config "$WORK/c.conf" "$portc" 44300 44349 plain
set_conf "$WORK/c.conf" "limits: { max_sessions = 5; max_body = 16384; requests_per_second = 1000; request_burst = 1000; };" \
    'stun: { listen=""; };'
if rp_start_daemon "$WORK/c.conf" "$WORK/c.log"; then
    C_PID=$RP_PID
    echo "       daemon C: pid $C_PID, plain HTTP on 127.0.0.1:$portc, limits.request_timeout 10 s (default), max_body 16384"
    # Two connections per daemon: Content-Length 99999999999 and max_body + 1.
    # One after the other: two streaming clients and two ASan daemons at once
    # would share 2 cores, and the probes would measure that.
    "$TOOLS/stress" bigbody --connect "127.0.0.1:$port" --tls --conns 2 --lengths 99999999999,16385 --max-s 5 \
        --pid "$A_PID" --probe-src 127.0.0.21 > "$WORK/big-tls.json"
    "$TOOLS/stress" bigbody --connect "127.0.0.1:$portc" --conns 2 --lengths 99999999999,16385 --max-s 5 \
        --pid "$C_PID" --probe-src 127.0.0.22 > "$WORK/big-plain.json"
    for kind in tls plain; do
        J=$WORK/big-$kind.json
        [ -s "$J" ] || { bad "$kind: stress bigbody printed nothing"; continue; }
        read -r r0 rmax rafter sent n413 nconn <<< "$(jq -r '"\(.rss_kb_before) \(.rss_kb_max) \(.rss_kb_after) \(.bytes_sent) \(.status_413) \(.conns)"' "$J")"
        per=$(jq -r '[.finished[] | "\(.content_length): 413 and EOF after \(.eof_s * 1000 | round) ms; the socket took \(.sent / 1048576 * 10 | round / 10) MB (\(.sent_after_eof / 1048576 * 10 | round / 10) after the EOF), the last at \(.last_write_s * 100 | round / 100) s; \(if .end == "time" then "still open at" else "\(.end) at" end) \(.open_s * 100 | round / 100) s"] | join("; ")' "$J")
        echo "       $kind: $per"
        check "$kind: $nconn connections announcing Content-Length 99999999999 / 16385 got 413 ($n413), then streamed $(mb $((sent / 1024))) MB in $(jq -r '.elapsed_s * 10 | round / 10' "$J") s: daemon RSS $(mb "$r0") -> max $(mb "$rmax") MB (+$(mb $((rmax - r0)))), 1 s after closing $(mb "$rafter") MB (want growth < 50 MB, back within 10 MB)" \
            test "$n413" = "$nconn" -a "$nconn" -ge 2 -a $((rmax - r0)) -lt 51200 -a $((rafter - r0)) -lt 10240
        jcheck "$kind: /healthz from another address while they streamed: $(jq -c .probe_status "$J"), max $(jq -r '.probe_ms | max' "$J") ms (want 200, all but one < 100 ms, max < 1000)" \
            "$J" "(.probe_status | length) >= 5 and all(.probe_status[]; . == 200) and (.probe_ms | $PROMPT) and .status_after == 200"
    done
    if [ "$FLOODS" = 1 ]; then
        # Many refused requests one after the other (the client closes on the
        # answer and reconnects): memory is bounded by the pending-connection table
        # (1024 x one request's worth), descriptors must come back.
        fdb=$(nfds "$A_PID")
        "$TOOLS/stress" bigbody --connect "127.0.0.1:$port" --tls --conns 4 --lengths 99999999999,16385 --max-s 3 \
            --max-mb 300 --churn --pid "$A_PID" --probe-src 127.0.0.21 > "$WORK/big-churn.json"
        J=$WORK/big-churn.json
        echo "       TLS, close on the 413 and reconnect: $(jq .conns "$J") connections, $(jq -r '.bytes_sent / 1048576 | round' "$J") MB in $(jq -r '.elapsed_s * 10 | round / 10' "$J") s;" \
             "RSS $(mb "$(jq .rss_kb_before "$J")") -> max $(mb "$(jq .rss_kb_max "$J")") MB, 1 s after $(mb "$(jq .rss_kb_after "$J")") MB" \
             "(ASan build: its quarantine and redzones inflate this; the plain build measured +67 MB at 1024 pending)"
        jcheck "  ...healthz meanwhile: $(jq -c '.probe_status | group_by(.) | map("\(.[0]) x \(length)")' "$J"), max $(jq -r '.probe_ms | max' "$J") ms (want 200, all but one < 100, max < 1000)" \
            "$J" "(.probe_status | length) >= 3 and all(.probe_status[]; . == 200) and (.probe_ms | $PROMPT)"
        fd_check "  ...refused-body churn on daemon A" "$A_PID" "$fdb"
    fi
    kill -TERM "$C_PID"; rc=0; wait "$C_PID" || rc=$?; C_PID=
    if grep -q Sanitizer "$WORK/c.log"; then bad "daemon C: sanitizer report: $(grep -m1 -E 'ERROR: |SUMMARY: ' "$WORK/c.log")"
    else check "daemon C: SIGTERM, exit status $rc" test "$rc" = 0; fi
else
    bad "daemon C (plain HTTP) did not start"
fi

# ---------------------------------------------------------------- 9. eviction
echo "== 9. table-full eviction: connect/close flood from 127.0.2.1, a slow legitimate client on 127.0.2.2"
if [ "$FLOODS" = 1 ]; then
    for variant in fin rst; do
        fdb=$(nfds "$A_PID")
        args=(); [ $variant = rst ] && args=(--rst)
        "$TOOLS/stress" evict --connect "127.0.0.1:$port" --tls --flood-src 127.0.2.1 --legit-src 127.0.2.2 \
            --pause-ms 300 --duration-s 4 "${args[@]}" > "$WORK/evict-$variant.json"
        J=$WORK/evict-$variant.json
        how=$([ $variant = fin ] && echo "close()" || echo "abortive close (RST)")
        what="flood of connect + $how at $(jq -r '.flood_per_s | round' "$J")/s ($(jq .flood_connected "$J") in $(jq -r '.flood_s * 10 | round / 10' "$J") s); legitimate TLS /healthz with 300 ms between handshake and request: $(jq .legit_ok "$J")/$(jq .legit "$J") served $(jq -c .results "$J"), median $(jq -r '.legit_ms_median * 10 | round / 10' "$J") ms, max $(jq -r '.legit_ms_max * 10 | round / 10' "$J") ms (without the pause)"
        if jqe '.legit >= 5 and .legit_ok == .legit' "$J" >/dev/null 2>&1; then
            ok "$what"
        elif [ $variant = rst ]; then
            bad "$what. A reset connection has no address any more (getpeername: ENOTCONN): src/control.c's" \
                "pending_peer() must remember that (peer_unknown) and group all such entries together, or the flood's" \
                "dead entries are in no group, cut_crowds(c, 0) sees the legitimate client as the largest address and" \
                "cuts it on every accept (and every accept pays a failing getpeername() per uncached entry)"
        else
            bad "$what"
        fi
        fd_check "  ...after the $variant flood" "$A_PID" "$fdb"
    done
    h=$(hz); check "daemon A serving after the floods (healthz ${h%% *} in ${h#* } s)" test "${h%% *}" = 200
else
    skip "$FLOODS_WHY"
fi

# ---------------------------------------------------------------- 10. plain HTTP, non-loopback
echo "== 10. /v1 over plain HTTP from a non-loopback peer (network namespace, lo with 198.18.0.1-4)"
if ! command -v unshare >/dev/null || ! command -v ip >/dev/null; then
    skip "403 for /v1 over plain HTTP from a non-loopback peer: unshare or ip missing"
elif ! { unshare_args=(-n); unshare "${unshare_args[@]}" true 2>/dev/null; } &&
     ! { unshare_args=(-r -n); unshare "${unshare_args[@]}" true 2>/dev/null; }; then
    skip "403 for /v1 over plain HTTP from a non-loopback peer: unshare -n not permitted here (needs root or user namespaces)"
else
    # -r (a user namespace) when not root: lo is then ours to configure.
    unshare "${unshare_args[@]}" tests/hostile/netns.sh "$BIN" "$WORK" > "$WORK/netns.out" 2> "$WORK/netns.err"
    [ -s "$WORK/netns.out" ] || bad "netns.sh printed nothing: $(head -3 "$WORK/netns.err")"
    while read -r kind text; do
        case $kind in
        ok) ok "$text" ;;
        limit) limit "$text" ;;
        skip) skip "$text" ;;
        *) bad "$text" ;;
        esac
    done < "$WORK/netns.out"
fi

# ---------------------------------------------------------------- 11. replay and spoofing
echo "== 11. replayed and spoofed authentic RTP (socket A and B on 127.0.0.1, C on 127.0.0.2)"
"$TOOLS/stress" replay --url "$URL" --token-file "$WORK/token" --src2 127.0.0.2 --deep 33500 --consent-s 7 \
    > "$WORK/replay.json"
J=$WORK/replay.json
if ! [ -s "$J" ] || jqe .error "$J" >/dev/null 2>&1; then
    bad "stress replay: $(head -c 300 "$J")"
else
    A=$(jq -r .A "$J"); B=$(jq -r .B "$J")
    step() { jq -c --argjson i "$1" '.steps[$i] | {latched, relatched, received, duplicates, reordered, lost, foreign_source}' "$J"; }
    st() { jqe --argjson i "$1" --arg A "$A" --arg B "$B" ".steps[\$i] | $2" "$J" >/dev/null 2>&1; }
    check "3 signed packets from A ($A): latched A, accepted 3, no duplicate: $(step 0)" \
        st 0 '.latched == $A and .accepted == 3 and .duplicates == 0 and .relatched == 0'
    check "replay of the first packet from B ($B, same IP): latch stays on A, duplicates 1: $(step 1)" \
        st 1 '.latched == $A and .relatched == 0 and .duplicates == 1 and .received == 3'
    check "replay of the newest packet from B: latch stays on A, duplicates 2: $(step 2)" \
        st 2 '.latched == $A and .relatched == 0 and .duplicates == 2 and .received == 3'
    check "a new signed packet from B (NAT rebinding): latch moves to B, relatched 1: $(step 3)" \
        st 3 '.latched == $B and .relatched == 1 and .received == 4'
    check "a new signed packet from 127.0.0.2 (another IP): dropped as foreign_source, latch stays on B: $(step 4)" \
        st 4 '.latched == $B and .relatched == 1 and .foreign_source == 1 and .received == 4'
    check "a replay from 127.0.0.2: foreign_source 2, latch stays on B: $(step 5)" \
        st 5 '.latched == $B and .foreign_source == 2 and .received == 4'
    # A replay beyond the window (src/session.c REPLAY_WINDOW, 1024 counter
    # values) is accepted and then dropped before the statistics: between the
    # two snapshots, accepted grows by one more than received (B's late
    # packets, if any, grow both), and nothing is counted reordered.
    # replayed I J: step J is step I plus one dropped replay, latch still on B.
    replayed() {
        jqe --argjson i "$1" --argjson j "$2" --arg B "$B" '.steps[$i] as $a | .steps[$j] |
            .latched == $B and .relatched == 1 and .accepted - $a.accepted == .received - $a.received + 1 and
            .reordered == $a.reordered and .duplicates == $a.duplicates' "$J" >/dev/null 2>&1
    }
    acc() { jq -c --argjson i "$1" --argjson j "$2" '[.steps[$i].accepted, .steps[$j].accepted]' "$J"; }
    check "1500 more packets from B, then a replay from A of one 1500 packets old (beyond the 1024-packet window): dropped as a replay, latch stays on B: $(step 6) -> $(step 7), accepted $(acc 6 7)" \
        replayed 6 7
    age=$(jq .deep_first_age "$J")
    # Its 16-bit sequence number is more than 32768 behind: without the 32-bit
    # counter's window it looks 32000+ ahead (RP_RX_IN_ORDER) and re-latches.
    check "after $age packets, a replay from A of the very first one: dropped as a replay, latch stays on B: $(step 8) -> $(step 9), accepted $(acc 8 9)" \
        replayed 8 9
    read -r stop da db fs <<< "$(jq -r '.consent | "\(.stop_after_last_auth_s) \(.down_a) \(.down_b) \(.foreign_sent)"' "$J")"
    check "downstream stopped $(printf %.2f "$stop") s after the last authentic upstream from the client's IP, while 127.0.0.2 kept sending signed packets ($fs at 10/s, foreign_source $(jq '.steps[-1].foreign_source' "$J")) (want 4.8-5.5 s; state $(jq -r '.steps[-1].state' "$J"))" \
        bash -c "awk -v s='$stop' 'BEGIN { exit !(s >= 4.8 && s <= 5.5) }' && jqe '.steps[-1].state == \"waiting\"' '$J'"
fi

# ---------------------------------------------------------------- 12. malformed
echo "== 12. malformed datagrams: counters per parser reason"
curl -sk -H "$AUTH" -X POST -d '{"codec":"pcmu","duration_s":30}' "$URL/v1/sessions" > "$WORK/mal.json"
msid=$(jq -r '.id // empty' "$WORK/mal.json"); mport=$(jq -r '.media_port // empty' "$WORK/mal.json")
curl -sk -H "$AUTH" -X POST -d '{"codec":"pcmu","duration_s":30,"transport":"srtp"}' "$URL/v1/sessions" > "$WORK/mal-srtp.json"
ssid=$(jq -r '.id // empty' "$WORK/mal-srtp.json"); sport=$(jq -r '.media_port // empty' "$WORK/mal-srtp.json")
metric_vals() { curl -s --max-time 5 -k "$URL/metrics" | sed -n 's/^rtpprobed_malformed_total{parser="\([a-z]*\)",reason="\([a-z_]*\)"} \([0-9]*\)$/\1.\2 \3/p' | sort; }
if [ -n "$msid" ] && [ -n "$ssid" ]; then
    metric_vals > "$WORK/mal-m0"
    N=7
    "$TOOLS/stress" malformed --session "127.0.0.1:$mport" --count $N > "$WORK/mal-sent.json"
    "$TOOLS/stress" malformed --session "127.0.0.1:$sport" --count $N > "$WORK/mal-sent-srtp.json"
    # Until both sessions have accounted for the 10 x N datagrams sent (drop
    # reason or STUN verdict; 10 s at most): a loaded daemon reads them later.
    for _ in $(seq 1 100); do
        curl -sk -H "$AUTH" "$URL/v1/sessions/$msid" > "$WORK/mal-get.json"
        curl -sk -H "$AUTH" "$URL/v1/sessions/$ssid" > "$WORK/mal-get-srtp.json"
        jq -se --argjson n $N 'all(.[]; .upstream | ([.dropped[]] | add) + ([.stun[]] | add) >= 10 * $n)' \
            "$WORK/mal-get.json" "$WORK/mal-get-srtp.json" >/dev/null 2>&1 && break
        sleep 0.1
    done
    metric_vals > "$WORK/mal-m1"
    curl -sk -H "$AUTH" "$URL/v1/sessions/$msid" > "$WORK/mal-get.json"
    curl -sk -H "$AUTH" "$URL/v1/sessions/$ssid" > "$WORK/mal-get-srtp.json"
    echo "       sent to each session: $(jq -c 'del(.send_failed)' "$WORK/mal-sent.json")"
    jcheck "RTP session, GET upstream.malformed: $(jq -c .upstream.malformed "$WORK/mal-get.json") (want $N each)" \
        "$WORK/mal-get.json" '.upstream.malformed | ([.rtp[], .stun[]] | all(. == $n)) and (.rtp | length) == 5 and (.stun | length) == 5' \
        --argjson n $N
    jcheck "  ...dropped.bad_rtp $(jq .upstream.dropped.bad_rtp "$WORK/mal-get.json") = 5 x $N, stun.malformed $(jq .upstream.stun.malformed "$WORK/mal-get.json") = 5 x $N, no other drop or verdict" \
        "$WORK/mal-get.json" '.upstream | .dropped.bad_rtp == 5 * $n and .stun.malformed == 5 * $n and ([.dropped[]] | add) == 5 * $n and ([.stun[]] | add) == 5 * $n' \
        --argjson n $N
    delta=$(join "$WORK/mal-m0" "$WORK/mal-m1" | awk '{ printf "%s%s=%d", (NR > 1 ? " " : ""), $1, $3 - $2 }')
    # SRTP: the padding count is encrypted, so a bad one is judged only after
    # decryption. These 16-byte probes (SSRC 1) are shorter than header + tag
    # (22 bytes), refused before authentication and so judged from the clear
    # header: wrong_ssrc. From 22 bytes on, authentication would decide
    # (auth_failure): keep them short.
    res=$(join "$WORK/mal-m0" "$WORK/mal-m1" | awk -v n=$N \
        '{ d = $3 - $2; want = $1 == "rtp.bad_padding" ? n : 2 * n; if (d != want) wrong++ } END { print NR, wrong + 0 }')
    check "/metrics rtpprobed_malformed_total deltas: $delta (want $((2 * N)) per reason: both sessions; rtp.bad_padding $N: the RTP session)" \
        test "$res" = "10 0"
    jcheck "SRTP session: STUN per reason $(jq -c .upstream.malformed.stun "$WORK/mal-get-srtp.json")" \
        "$WORK/mal-get-srtp.json" '[.upstream.malformed.stun[]] | all(. == $n)' --argjson n $N
    jcheck "SRTP session: RTP per reason $(jq -c .upstream.malformed.rtp "$WORK/mal-get-srtp.json") (want $N each, bad_padding 0: encrypted)" \
        "$WORK/mal-get-srtp.json" '.upstream.malformed.rtp | (del(.bad_padding) | [.[]] | all(. == $n)) and .bad_padding == 0 and length == 5' \
        --argjson n $N
    jcheck "  ...dropped.bad_rtp $(jq .upstream.dropped.bad_rtp "$WORK/mal-get-srtp.json") = 4 x $N, wrong_ssrc $(jq .upstream.dropped.wrong_ssrc "$WORK/mal-get-srtp.json") = $N (the padding probes), no other drop" \
        "$WORK/mal-get-srtp.json" '.upstream.dropped | .bad_rtp == 4 * $n and .wrong_ssrc == $n and ([.[]] | add) == 5 * $n' \
        --argjson n $N
    curl -sk -o /dev/null -H "$AUTH" -X DELETE "$URL/v1/sessions/$msid"
    curl -sk -o /dev/null -H "$AUTH" -X DELETE "$URL/v1/sessions/$ssid"
else
    bad "sessions for the malformed check not created: $(head -c 200 "$WORK/mal.json")"
fi
