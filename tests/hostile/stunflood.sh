#!/usr/bin/env bash
# 13. STUN answers rate-limited per source address (stun.rate), on stun.listen
# and a session port together. Runs its own daemon (default stun.rate: 20/s,
# burst 20) on loopback, on random ports in 46000-47999; called at the end of
# tests/hostile/run.sh, and runnable alone:
#
#   BIN=build/asan TOOLS=build/tools tests/hostile/stunflood.sh
#
# The flood (tests/hostile/stunflood.c): 8000 padded Binding requests a
# second for 3 s, half from four sockets on one "victim" address (127.0.0.2,
# many ports: a spoofed flood aimed at it), half from 20 other addresses
# (127.0.1.1-20), each source to both ports in turn. Loopback takes any
# 127/8 source, so no raw sockets are needed. Checks, on the tool's own clock:
#   - answers to the victim, over both ports together, <= rate x elapsed +
#     burst (+ 2): spreading a flood over ports buys nothing; and not far
#     below it (the limit answers what it may, it does not just go quiet)
#   - the same bound for each other address
#   - /metrics rtpprobed_stun_total{verdict="rate"} grew, per port, by the
#     requests sent minus the answers received (minus what the kernel dropped
#     from the daemon's queue, counted apart); no other verdict moved
#   - then a new socket on the victim's address (a probe behind the same NAT)
#     asks both ports as rtpprobe does (every 100 ms) and gets both answers
#   - a reload to stun.rate = 5 applies at once (a 1 s flood from a new address)
#   - the daemon exits cleanly, without a sanitizer report
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-build}
TOOLS=${TOOLS:-build/tools}
SF_WORK=$(mktemp -d /tmp/rtpprobe-stunflood.XXXXXX)
WORK=$SF_WORK
. scripts/lib-daemon.sh

RATE=20 BURST=20 SLACK=2   # stun.rate's default; the daemon's burst is the same
VICTIM=127.0.0.2 OTHERS=20 OTHER_BASE=127.1.0.1 PPS=8000 SECONDS_=3

sf_pass=0 sf_fail=0 SF_PID=
sf_cleanup() {
    [ -n "$SF_PID" ] && kill "$SF_PID" 2>/dev/null && wait "$SF_PID" 2>/dev/null
    rm -rf "$SF_WORK"
}
trap sf_cleanup EXIT
ok()  { sf_pass=$((sf_pass + 1)); echo "  ok    $*"; }
bad() { sf_fail=$((sf_fail + 1)); echo "  FAIL  $*"; }
check() { local what=$1; shift; if "$@" >/dev/null 2>&1; then ok "$what"; else bad "$what"; fi; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
finish() {
    echo "stunflood: $sf_pass passed, $sf_fail failed"
    [ "$sf_fail" = 0 ]
    exit
}

echo "== 13. STUN answers rate-limited per source address (stun.rate) on stun.listen and a session port"
# Newer than the usual build line: (re)built when missing or older than its source.
if [ "$TOOLS" = build/tools ] && { [ ! -x "$TOOLS/stunflood" ] || [ tests/hostile/stunflood.c -nt "$TOOLS/stunflood" ]; }; then
    make -s build/tools/stunflood >/dev/null 2>&1
fi
for tool in "$BIN/rtpprobed" "$TOOLS/stunflood"; do
    [ -x "$tool" ] || { bad "$tool missing (make $BIN/rtpprobed build/tools/stunflood)"; finish; }
done

# A daemon on a random block of 20 ports: control, stun.listen, then the media
# range. A block another process holds on either port is skipped.
for _ in 1 2 3 4 5 6 7 8; do
    base=$((46000 + 20 * (RANDOM % 100)))
    ctl=$base stun=$((base + 1))
    rp_make_config "$WORK/sf.conf" "$ctl" $((base + 2)) $((base + 19)) plain
    echo "stun: { listen=\"127.0.0.1:$stun\"; };" >> "$WORK/sf.conf"
    if rp_start_daemon "$WORK/sf.conf" "$WORK/sf.log" >/dev/null 2>&1; then
        SF_PID=$RP_PID
        grep -q "STUN 127.0.0.1:$stun" "$WORK/sf.log" && break
        kill "$SF_PID" 2>/dev/null; wait "$SF_PID" 2>/dev/null; SF_PID=
    fi
done
[ -n "$SF_PID" ] || { bad "no daemon with stun.listen came up on 46000-47999: $(tail -2 "$WORK/sf.log")"; finish; }
URL="http://127.0.0.1:$ctl"
AUTH="Authorization: Bearer $(cat "$WORK/token")"
curl -s -H "$AUTH" -X POST -d '{"codec":"pcmu","duration_s":120}' "$URL/v1/sessions" > "$WORK/sess.json"
sid=$(jq -r '.id // empty' "$WORK/sess.json") mport=$(jq -r '.media_port // empty' "$WORK/sess.json")
[ -n "$sid" ] || { bad "no session: $(head -c 200 "$WORK/sess.json")"; finish; }
echo "       daemon pid $SF_PID, control $URL, stun.listen 127.0.0.1:$stun, session port $mport, stun.rate default"

# metric PORT VERDICT FILE
metric() { sed -n "s/^rtpprobed_stun_total{port=\"$1\",verdict=\"$2\"} \([0-9]*\)$/\1/p" "$3"; }
# Requests the kernel dropped from the stun.listen socket's queue (/proc/net/udp).
udp_drops() { awk -v a="$(printf '0100007F:%04X' "$1")" '$2 == a { d += $NF } END { print d + 0 }' /proc/net/udp; }
curl -s "$URL/metrics" > "$WORK/m0"
drops0=$(udp_drops "$stun")

"$TOOLS/stunflood" flood --target "127.0.0.1:$stun" --target "127.0.0.1:$mport" --victim "$VICTIM" \
    --victim-sockets 4 --others "$OTHERS" --other-base "$OTHER_BASE" --pps "$PPS" --seconds "$SECONDS_" > "$WORK/flood.json"
curl -s "$URL/metrics" > "$WORK/m1"
curl -s -H "$AUTH" "$URL/v1/sessions/$sid" > "$WORK/sess-after.json"
F=$WORK/flood.json
[ -s "$F" ] || { bad "stunflood flood printed nothing"; finish; }
read -r sent answered failed unmatched owndrops elapsed send_s <<< \
    "$(jq -r '"\(.sent) \(.answered) \(.send_failed) \(.unmatched) \(.own_socket_drops) \(.elapsed_s) \(.send_s)"' "$F")"
echo "       sent $sent requests in $(printf %.2f "$send_s") s, $answered answered; elapsed $(printf %.3f "$elapsed") s" \
     "(first request to last answer, the tool's clock)"
check "the flood ran: every request sent ($failed send failures), every answer ours and mapping its socket ($unmatched unmatched), none lost in our queues ($owndrops)" \
    test "$sent" -ge $((PPS * SECONDS_ * 9 / 10)) -a "$failed" = 0 -a "$unmatched" = 0 -a "$owndrops" = 0

bound=$(awk -v r=$RATE -v t="$elapsed" -v b=$BURST -v s=$SLACK 'BEGIN { printf "%.1f", r * t + b + s }')
floor=$(awk -v r=$RATE -v t="$send_s" -v b=$BURST 'BEGIN { printf "%.0f", 0.8 * (r * t + b) }')
read -r vs va vl vm <<< "$(jq -r '.victim | "\(.sent) \(.answered) \(.answered_by_target[0]) \(.answered_by_target[1])"' "$F")"
vok=0; le "$va" "$bound" && [ "$va" -ge "$floor" ] && [ "$vl" -gt 0 ] && [ "$vm" -gt 0 ] && vok=1
check "victim $VICTIM (4 sockets, both ports): $va answers to $vs requests (stun.listen $vl, session port $vm) <= $RATE/s x $(printf %.3f "$elapsed") s + burst $BURST + $SLACK = $bound, and >= $floor" \
    test $vok = 1
read -r on smin amin amax atot <<< "$(jq -r '.others | "\(.count) \(.sent_min) \(.answered_min) \(.answered_max) \(.answered_total)"' "$F")"
check "$on other addresses ($OTHER_BASE...), >= $smin requests each: answers $amin-$amax each (<= $bound), $atot in all" \
    le "$amax" "$bound"

# The counter: per port, requests in - answers out (the tool waited until
# 500 ms passed without an answer: nothing is in flight any more).
listen_drops=$(( $(udp_drops "$stun") - drops0 ))
sess_drops=$(jq '.upstream.host_drops // 0' "$WORK/sess-after.json")
for p in listen session; do
    t=$([ $p = listen ] && echo 0 || echo 1)
    d=$([ $p = listen ] && echo "$listen_drops" || echo "$sess_drops")
    read -r ts ta <<< "$(jq -r ".targets[$t] | \"\(.sent) \(.answered)\"" "$F")"
    r0=$(metric $p rate "$WORK/m0") r1=$(metric $p rate "$WORK/m1")
    a0=$(metric $p answered "$WORK/m0") a1=$(metric $p answered "$WORK/m1")
    other=$(awk -v p="$p" '$0 ~ "^rtpprobed_stun_total\\{port=\"" p "\"" && $0 !~ /verdict="(rate|answered)"/ { s += $2 } END { print s + 0 }' "$WORK/m1")
    check "/metrics $p: verdict=\"rate\" +$((r1 - r0)) = $ts sent - $ta answered - $d dropped by the kernel ($((ts - ta - d))); answered +$((a1 - a0)) = $ta; other verdicts since start $other" \
        test "$((r1 - r0))" = "$((ts - ta - d))" -a "$((a1 - a0))" = "$ta" -a "$other" = 0 -a -n "$r1"
done
check "session document: upstream.stun.rate $(jq .upstream.stun.rate "$WORK/sess-after.json") = the session port's /metrics count" \
    test "$(jq .upstream.stun.rate "$WORK/sess-after.json")" = "$(( $(metric session rate "$WORK/m1") - $(metric session rate "$WORK/m0") ))"

# After the flood: a new port on the victim's address, as a second probe
# behind the same NAT; it asks until answered (5 s at most), as rtpprobe does.
"$TOOLS/stunflood" ask --from "$VICTIM" --target "127.0.0.1:$stun" --target "127.0.0.1:$mport" --timeout-ms 5000 \
    > "$WORK/ask.json"
read -r from l_ok l_n l_ms s_ok s_n s_ms <<< "$(jq -r '"\(.from) \(.targets[0].answered) \(.targets[0].attempts) \(.targets[0].ms) \(.targets[1].answered) \(.targets[1].attempts) \(.targets[1].ms)"' "$WORK/ask.json")"
check "after the flood, $from (the victim's address, a new port) is answered: stun.listen $l_ok after $l_n request(s) in $(printf %.1f "$l_ms") ms, session port $s_ok after $s_n in $(printf %.1f "$s_ms") ms" \
    test "$l_ok" = true -a "$s_ok" = true

# A reload applies a new stun.rate at once (5/s, burst 5): a 1 s flood from a
# fresh address (127.0.0.3) at stun.listen.
sed -i "s/^stun: .*/stun: { listen=\"127.0.0.1:$stun\"; rate=5; };/" "$WORK/sf.conf"
nrel=$(grep -c 'configuration reloaded' "$WORK/sf.log")
kill -HUP "$SF_PID"
for _ in $(seq 50); do [ "$(grep -c 'configuration reloaded' "$WORK/sf.log")" -gt "$nrel" ] && break; sleep 0.1; done
"$TOOLS/stunflood" flood --target "127.0.0.1:$stun" --victim 127.0.0.3 --victim-sockets 2 --others 1 \
    --other-base 127.2.0.1 --pps 2000 --seconds 1 > "$WORK/flood5.json"
read -r va5 vs5 el5 <<< "$(jq -r '"\(.victim.answered) \(.victim.sent) \(.elapsed_s)"' "$WORK/flood5.json")"
b5=$(awk -v t="$el5" -v s=$SLACK 'BEGIN { printf "%.1f", 5 * t + 5 + s }')
v5=0; le "$va5" "$b5" && [ "$va5" -ge 5 ] && v5=1
check "after a reload to stun.rate = 5: 127.0.0.3 got $va5 answers to $vs5 requests in $(printf %.3f "$el5") s (<= 5/s x t + 5 + $SLACK = $b5)" \
    test $v5 = 1

curl -s -o /dev/null -H "$AUTH" -X DELETE "$URL/v1/sessions/$sid"
kill -TERM "$SF_PID" 2>/dev/null
rc=0; wait "$SF_PID" || rc=$?
SF_PID=
if grep -q 'Sanitizer' "$WORK/sf.log"; then
    bad "stunflood daemon: exit status $rc, sanitizer report: $(grep -m1 -E 'ERROR: |SUMMARY: ' "$WORK/sf.log")"
else
    check "stunflood daemon: SIGTERM, exit status $rc, no sanitizer report" test "$rc" = 0
fi
finish
