#!/usr/bin/env bash
# The daemon's echo ports proven with tools that are not ours: ffmpeg sends a
# PCMU RTP stream, tshark on loopback is the ground truth of what went each way,
# a paced flood of our own checks echo.rate, and 127.0.0.2 (outside echo.allow)
# must get nothing back. Every count is read once the daemon has accounted for
# every datagram sent (an event, polled), never after a fixed sleep.
# Run by tests/integration/run.sh; alone: BIN=build/asan tests/integration/echo-real.sh
# Exit 0 all passed, 1 a check failed, 77 skipped (not root, or a tool missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-build}
RATE=${ECHO_RATE:-100} # echo.rate (the default); the burst is twice that (src/echo.c)
FLOOD=${ECHO_FLOOD:-1000}  # datagrams of the flood, paced at 1000 per second
skip() { echo "echo-real: skipped: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (tshark capture on lo)"
for c in ffmpeg tshark curl ss; do command -v "$c" >/dev/null || skip "$c not installed"; done
PY=/usr/bin/python3
WORK=$(mktemp -d /tmp/rtpprobe-echo.XXXXXX)
. scripts/lib-daemon.sh
pass=0 fail=0 TS_PID='' bs_pid='' uas_pid=''
cleanup() {
    [ -n "$bs_pid" ] && kill "$bs_pid" 2>/dev/null
    [ -n "$uas_pid" ] && kill "$uas_pid" 2>/dev/null
    [ -n "$TS_PID" ] && kill -INT "$TS_PID" 2>/dev/null && wait "$TS_PID" 2>/dev/null
    rp_stop_daemon >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
ok()  { pass=$((pass + 1)); echo "  ok   $*"; }
bad() { fail=$((fail + 1)); echo "  FAIL $*"; }
check() { local what=$1; shift; if "$@" >/dev/null; then ok "$what"; else bad "$what"; fi; }

# A UDP port nobody on this host has bound, from BASE up.
udp_free() {
    local p
    for p in $(seq "$1" $(($1 + 200))); do
        [ -z "$(ss -Hunl "sport = :$p")" ] && { echo "$p"; return 0; }
    done
    return 1
}
ECHO=$(udp_free 27601)
MARK=$(udp_free $((ECHO + 2)))     # nobody listens: the capture's sync marks (not ECHO+1: RTCP)
LP1=$(udp_free $((MARK + 1)))      # ffmpeg from 127.0.0.1 (allowed)
LP2=$(udp_free $((LP1 + 2)))       # ffmpeg from 127.0.0.2 (not allowed)
LP3=$(udp_free $((LP2 + 2)))       # the flood from 127.0.0.3 (allowed)
ctl=$(rp_free_port 28843)
rp_make_config "$WORK/rtpprobed.conf" "$ctl" 32000 32099 plain
cat >> "$WORK/rtpprobed.conf" <<CONF
echo: { ports = ( $ECHO ); allow = ( "127.0.0.1/32", "127.0.0.3/32" ); rate = $RATE; };
CONF
rp_start_daemon "$WORK/rtpprobed.conf" "$WORK/rtpprobed.log"
URL="http://127.0.0.1:$ctl"
echo "       echo port $ECHO, echo.allow 127.0.0.1/32 127.0.0.3/32, echo.rate $RATE (burst $((2 * RATE)))"

# The capture: one line per datagram on lo to or from the echo port or the mark
# port, written as tshark sees it (-l). A mark sent after the daemon has
# answered everything is behind every answer in the capture's queue: once its
# line is there, the capture has everything before it.
tshark -i lo -n -l -Q -f "udp port $ECHO or udp port $MARK" -T fields -E separator=' ' \
    -e frame.time_epoch -e ip.src -e udp.srcport -e ip.dst -e udp.dstport -e udp.length -e udp.payload \
    > "$WORK/cap.txt" 2> "$WORK/tshark.err" &
TS_PID=$!
# mark TEXT: sends TEXT to the mark port until the capture has it (30 s at most).
mark() {
    local hex i
    hex=$(printf %s "$1" | od -An -tx1 | tr -d ' \n')
    for i in $(seq 300); do
        [ $((i % 10)) = 1 ] && echo -n "$1" > /dev/udp/127.0.0.1/"$MARK"
        grep -q " $hex\$" "$WORK/cap.txt" && return 0
        kill -0 "$TS_PID" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}
mark start || { echo "echo-real: tshark did not start capturing:"; cat "$WORK/tshark.err"; exit 1; }

# /metrics: the echo verdicts as "verdict count" lines, sorted.
verdicts() { curl -s --max-time 5 "$URL/metrics" | sed -n 's/^rtpprobed_echo_total{verdict="\([a-z_]*\)"} \([0-9]*\)$/\1 \2/p' | sort; }
# Datagrams the kernel dropped at the echo socket (its receive buffer full): the
# last column of its line in /proc/net/udp.
sock_drops() { awk -v p="$(printf ':%04X' "$ECHO")" '$2 == "0100007F" p { print $NF; f = 1 } END { if (!f) print 0 }' /proc/net/udp; }
# delta VERDICT: that verdict's count now minus at the last snapshot (before.txt).
delta() { join -a1 -e 0 -o 0,1.2,2.2 <(verdicts) "$WORK/before.txt" | awk -v v="$1" '$1 == v { print $2 - $3 }'; }
snapshot() { verdicts > "$WORK/before.txt"; drops0=$(sock_drops); }
# deltas: "echoed not_allowed not_rtp rate" since the snapshot.
deltas() { echo "$(delta echoed) $(delta not_allowed) $(delta not_rtp) $(delta rate)"; }
# settle N: waits (60 s at most) until N more datagrams than at the snapshot are
# accounted for, as a verdict or a drop at the socket.
settle() {
    local i n
    for i in $(seq 600); do
        n=$(join -a1 -e 0 -o 0,1.2,2.2 <(verdicts) "$WORK/before.txt" | awk '{ s += $2 - $3 } END { print s + 0 }')
        [ $((n + $(sock_drops) - drops0)) -ge "$1" ] && return 0
        sleep 0.1
    done
    echo "       settle: $n of $1 accounted for after 60 s"
    return 1
}
# ffsend ADDR LPORT: 2 s of 8 kHz PCMU in 20 ms frames = exactly 100 RTP packets.
ffsend() {
    ffmpeg -hide_banner -loglevel error -nostdin -re \
        -f lavfi -i "sine=frequency=440:sample_rate=8000:duration=2:samples_per_frame=160" \
        -c:a pcm_mulaw -f rtp -payload_type 0 -rtpflags skip_rtcp \
        "rtp://127.0.0.1:$ECHO?localaddr=$1&localport=$2" > /dev/null
}

echo "== ffmpeg from an allowed address: every packet back, same size, same bytes"
snapshot
rc=0; ffsend 127.0.0.1 "$LP1" || rc=$?
check "ffmpeg exit status 0 (got $rc)" test "$rc" = 0
settle 100 || true
read -r m1_echoed m1_not_allowed m1_not_rtp m1_rate <<< "$(deltas)"
echo "       /metrics delta: echoed $m1_echoed, not_allowed $m1_not_allowed, not_rtp $m1_not_rtp, rate $m1_rate"

echo "== ffmpeg from 127.0.0.2, outside echo.allow: nothing back"
snapshot
rc=0; ffsend 127.0.0.2 "$LP2" || rc=$?
check "ffmpeg from 127.0.0.2: exit status 0 (got $rc)" test "$rc" = 0
settle 100 || true
read -r m2_echoed m2_not_allowed m2_not_rtp m2_rate <<< "$(deltas)"
echo "       /metrics delta: echoed $m2_echoed, not_allowed $m2_not_allowed, not_rtp $m2_not_rtp, rate $m2_rate"

echo "== a flood of $FLOOD RTP packets at 1000/s from 127.0.0.3: cut to echo.rate"
snapshot
# Our own sender: valid RTP (V=2, PT 0, 160 bytes of payload), on an absolute
# 1 ms schedule; prints the time it took from first to last send.
"$PY" - "$LP3" "$ECHO" "$FLOOD" > "$WORK/flood.out" <<'PY'
import socket, struct, sys, time
lport, port, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.3", lport))
t0 = time.monotonic()
for i in range(n):
    delay = t0 + i / 1000.0 - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    s.sendto(struct.pack("!BBHII", 0x80, 0, i, 160 * i, 0x0EC40E) + b"\xff" * 160, ("127.0.0.1", port))
print("%.6f" % (time.monotonic() - t0))
PY
flood_s=$(cat "$WORK/flood.out")
settle "$FLOOD" || true
read -r m3_echoed m3_not_allowed m3_not_rtp m3_rate <<< "$(deltas)"
m3_drops=$(( $(sock_drops) - drops0 ))
echo "       sender: $FLOOD sent in $flood_s s; /metrics delta: echoed $m3_echoed, rate $m3_rate, not_allowed $m3_not_allowed, not_rtp $m3_not_rtp; socket drops $m3_drops"

echo "== baresip (a SIP softphone) calls the echo port and hears itself"
# Our part is only the far end's SIP: a UAS that answers the INVITE with an SDP
# whose audio is the echo port. RTP, codec, jitter buffer and playout are
# baresip's; its sndfile module writes what it sent (-enc) and what it played
# out (-dec). The call ends on an event (150 packets back, or 500 sent and the
# echo not coming) through baresip's UDP console, not after a time.
BS=0
if command -v baresip >/dev/null && [ -e /usr/lib/baresip/modules/sndfile.so ]; then
    BS=1
    # baresip listens for SIP on UDP and TCP at SIPB and for SIP over TLS at
    # SIPB + 1; its console on UDP and TCP at CONS.
    UAS=$(udp_free $((LP3 + 2))) SIPB=$(udp_free $((UAS + 1)))
    while [ -n "$(ss -Htuln "sport = :$SIPB or sport = :$((SIPB + 1))")" ]; do SIPB=$((SIPB + 2)); done
    CONS=$(udp_free $((SIPB + 2)))
    while [ -n "$(ss -Htln "sport = :$CONS")" ]; do CONS=$(udp_free $((CONS + 1))); done
    LPB=$(udp_free $((CONS + 1))); LPB=$((LPB + LPB % 2))  # baresip's RTP port: even, RTCP above it
    mkdir -p "$WORK/baresip/snd"
    cat > "$WORK/baresip/config" <<CONF
poll_method epoll
sip_listen 127.0.0.1:$SIPB
rtp_ports $LPB-$((LPB + 1))
audio_source ausine,440
ausrc_srate 48000
ausrc_channels 2
audio_player alsa,null
audio_alert alsa,null
module_path /usr/lib/baresip/modules
module g711.so
module ausine.so
module alsa.so
module sndfile.so
snd_path $WORK/baresip/snd
module cons.so
cons_listen 127.0.0.1:$CONS
module_app account.so
module_app menu.so
CONF
    echo '<sip:tester@127.0.0.1>;regint=0;audio_codecs=PCMU' > "$WORK/baresip/accounts"
    "$PY" - "$UAS" "$ECHO" > "$WORK/uas.out" 2>&1 <<'PY' &
import socket, sys
port, echo = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", port))
s.settimeout(120)
while True:
    data, peer = s.recvfrom(65535)
    head = data.decode(errors="replace").split("\r\n\r\n", 1)[0].split("\r\n")
    method = head[0].split(" ", 1)[0]
    print(method, flush=True)
    if method == "ACK" or method == "SIP/2.0":
        continue
    keep = [h for h in head[1:] if h.split(":", 1)[0].strip().lower() in ("via", "from", "to", "call-id", "cseq")]
    keep = [h + ";tag=echo" if h.lower().startswith("to:") and "tag=" not in h else h for h in keep]
    body = ""
    if method == "INVITE":
        body = ("v=0\r\no=echo 1 1 IN IP4 127.0.0.1\r\ns=echo\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                "m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\n" % echo)
        keep += ["Contact: <sip:echo@127.0.0.1:%d>" % port, "Content-Type: application/sdp"]
    s.sendto(("SIP/2.0 200 OK\r\n" + "\r\n".join(keep + ["Content-Length: %d" % len(body), "", body])).encode(), peer)
    if method == "BYE":
        break
PY
    uas_pid=$!
    snapshot
    baresip -f "$WORK/baresip" -e "/dial sip:echo@127.0.0.1:$UAS" -t 60 > "$WORK/baresip.out" 2>&1 &
    bs_pid=$!
    bsfwd() { awk -v e="$ECHO" -v b="$LPB" '$3 == b && $5 == e' "$WORK/cap.txt" | wc -l; }
    bsrev() { awk -v e="$ECHO" -v b="$LPB" '$3 == e && $5 == b' "$WORK/cap.txt" | wc -l; }
    for _ in $(seq 600); do
        [ "$(bsrev)" -ge 150 ] || [ "$(bsfwd)" -ge 500 ] && break
        kill -0 "$bs_pid" 2>/dev/null || break
        sleep 0.1
    done
    # /quit hangs up (BYE) and exits; sent again every 2 s should a datagram be lost.
    for i in $(seq 300); do
        kill -0 "$bs_pid" 2>/dev/null || break
        [ $((i % 20)) = 1 ] && echo "/quit" > /dev/udp/127.0.0.1/"$CONS"
        sleep 0.1
    done
    rc=0; wait "$bs_pid" || rc=$?
    bs_pid=
    check "baresip exit status 0 (got $rc)" test "$rc" = 0
    grep -a -o -E "Call established.*|Call with .*terminated.*|Quit|cons: .*" "$WORK/baresip.out" | sed 's/^/       baresip: /'
    rc=0; wait "$uas_pid" || rc=$?
    uas_pid=
    check "the call went INVITE, ACK, BYE (our UAS: $(tr '\n' ' ' < "$WORK/uas.out"))" \
        test "$(grep -v '^SIP' "$WORK/uas.out" | tr '\n' ' ')" = "INVITE ACK BYE "
    mark baresip || bad "the baresip mark reached the capture"
    nbs=$(bsfwd)
    settle "$nbs" || true
    read -r m4_echoed m4_not_allowed m4_not_rtp m4_rate <<< "$(deltas)"
    echo "       /metrics delta: echoed $m4_echoed, not_allowed $m4_not_allowed, not_rtp $m4_not_rtp, rate $m4_rate"
else
    echo "  skip baresip: not installed (Debian: baresip-core)"
fi

mark end || bad "the end mark reached the capture"
kill -INT "$TS_PID"
rc=0; wait "$TS_PID" || rc=$?
TS_PID=
check "tshark exit status 0 (got $rc)" test "$rc" = 0

echo "== the capture (tshark on lo) against ffmpeg and /metrics"
# flow SRC SPORT DST DPORT: the capture's lines of that flow, as "time length payload".
flow() { awk -v a="$1" -v b="$2" -v c="$3" -v d="$4" '$2 == a && $3 == b && $4 == c && $5 == d { print $1, $6, $7 }' "$WORK/cap.txt"; }
flow 127.0.0.1 "$LP1" 127.0.0.1 "$ECHO" > "$WORK/f1.fwd"
flow 127.0.0.1 "$ECHO" 127.0.0.1 "$LP1" > "$WORK/f1.rev"
n1f=$(wc -l < "$WORK/f1.fwd") n1r=$(wc -l < "$WORK/f1.rev")
echo "       allowed: $n1f packets to the echo port ($(cut -d' ' -f2 "$WORK/f1.fwd" | sort -u | tr '\n' ' ')bytes), $n1r back"
check "allowed: the capture has ffmpeg's 100 packets to the echo port (got $n1f)" test "$n1f" = 100
check "allowed: as many back to ffmpeg's address and port ($n1r)" test "$n1r" = "$n1f"
check "allowed: per-packet UDP lengths identical both ways, in order" \
    cmp <(cut -d' ' -f2 "$WORK/f1.fwd") <(cut -d' ' -f2 "$WORK/f1.rev")
check "allowed: per-packet payloads identical both ways (the echo is unchanged)" \
    cmp <(cut -d' ' -f3 "$WORK/f1.fwd") <(cut -d' ' -f3 "$WORK/f1.rev")
check "allowed: /metrics echoed $m1_echoed == the capture's $n1r, no other verdict" \
    test "$m1_echoed" = "$n1r" -a "$m1_not_allowed" = 0 -a "$m1_not_rtp" = 0 -a "$m1_rate" = 0

n2f=$(flow 127.0.0.2 "$LP2" 127.0.0.1 "$ECHO" | wc -l)
n2r=$(awk -v e="$ECHO" '$3 == e && $4 == "127.0.0.2"' "$WORK/cap.txt" | wc -l)
echo "       not allowed: $n2f packets to the echo port, $n2r back"
check "not allowed: the capture has ffmpeg's 100 packets from 127.0.0.2 (got $n2f)" test "$n2f" = 100
check "not allowed: nothing back to 127.0.0.2 (got $n2r)" test "$n2r" = 0
check "not allowed: /metrics not_allowed $m2_not_allowed == the capture's $n2f, echoed 0" \
    test "$m2_not_allowed" = "$n2f" -a "$m2_echoed" = 0 -a "$m2_rate" = 0 -a "$m2_not_rtp" = 0

flow 127.0.0.3 "$LP3" 127.0.0.1 "$ECHO" > "$WORK/f3.fwd"
flow 127.0.0.1 "$ECHO" 127.0.0.3 "$LP3" > "$WORK/f3.rev"
n3f=$(wc -l < "$WORK/f3.fwd") n3r=$(wc -l < "$WORK/f3.rev")
# The bucket of a new source starts full (the burst) and fills at RATE from the
# daemon's first read of the flood, which is no earlier than the first packet
# on the wire, to its last echo, which is no later than the last one back: so
# the bound uses the capture's span, which also covers a daemon that a busy
# machine made read the flood late. The sender's own time is shown beside it.
span=$(awk 'NR == FNR { if (FNR == 1) t0 = $1; next } { t1 = $1 } END { printf "%.6f", (t1 > t0 ? t1 - t0 : 0) }' \
    "$WORK/f3.fwd" "$WORK/f3.rev")
max=$(awk -v r="$RATE" -v s="$span" 'BEGIN { printf "%d", 2 * r + r * s + 1 }')
min=$(( 2 * RATE < n3f - m3_drops ? 2 * RATE : n3f - m3_drops ))
echo "       flood: $n3f packets to the echo port, $n3r back; first sent to last back $span s (sender: $flood_s s);" \
    "bound burst + rate x span = $max"
check "flood: the capture has all $FLOOD packets of the sender (got $n3f)" test "$n3f" = "$FLOOD"
check "flood: echoed $n3r <= burst + rate x span ($max) and < sent ($n3f): cut to the rate" \
    test "$n3r" -le "$max" -a "$n3r" -lt "$n3f"
check "flood: echoed $n3r >= the burst a new source starts with ($min)" test "$n3r" -ge "$min"
check "flood: same sizes back (every answer $(cut -d' ' -f2 "$WORK/f3.rev" | sort -u | tr '\n' ' ')bytes)" \
    test "$(cut -d' ' -f2 "$WORK/f3.rev" | sort -u)" = 180
check "flood: /metrics echoed $m3_echoed == the capture's $n3r" test "$m3_echoed" = "$n3r"
check "flood: /metrics echoed + rate + socket drops ($m3_echoed + $m3_rate + $m3_drops) == the capture's $n3f sent" \
    test $((m3_echoed + m3_rate + m3_drops)) = "$n3f" -a "$m3_not_allowed" = 0 -a "$m3_not_rtp" = 0

if [ "$BS" = 1 ]; then
    flow 127.0.0.1 "$LPB" 127.0.0.1 "$ECHO" > "$WORK/f4.fwd"
    flow 127.0.0.1 "$ECHO" 127.0.0.1 "$LPB" > "$WORK/f4.rev"
    n4f=$(wc -l < "$WORK/f4.fwd") n4r=$(wc -l < "$WORK/f4.rev")
    echo "       baresip: $n4f packets to the echo port ($(cut -d' ' -f2 "$WORK/f4.fwd" | sort -u | tr '\n' ' ')bytes), $n4r back"
    check "baresip: the capture has its stream to the echo port ($n4f packets, 150 at least)" test "$n4f" -ge 150
    check "baresip: as many back to its RTP port ($n4r)" test "$n4r" = "$n4f"
    check "baresip: per-packet UDP lengths and payloads identical both ways, in order" \
        cmp <(cut -d' ' -f2,3 "$WORK/f4.fwd") <(cut -d' ' -f2,3 "$WORK/f4.rev")
    check "baresip: /metrics echoed $m4_echoed == the capture's $n4r, no other verdict" \
        test "$m4_echoed" = "$n4r" -a "$m4_not_allowed" = 0 -a "$m4_not_rtp" = 0 -a "$m4_rate" = 0
    # What baresip played out: the share of its power at 440 Hz (Goertzel), its
    # length, and the same of what it sent. A late echo plays as silence, which
    # adds no power: the share is the content, whatever the machine's load.
    "$PY" - "$WORK"/baresip/snd/*-enc.wav "$WORK"/baresip/snd/*-dec.wav > "$WORK/tone.txt" <<'PY' || true
import array, math, sys, wave
for f in sys.argv[1:]:
    w = wave.open(f)
    a = array.array("h", w.readframes(w.getnframes()))[::w.getnchannels()]
    k = 2 * math.cos(2 * math.pi * 440 / w.getframerate())
    s1 = s2 = 0.0
    for x in a:
        s1, s2 = x + k * s1 - s2, s1
    tone = (s1 * s1 + s2 * s2 - k * s1 * s2) * 2 / max(len(a), 1)
    total = sum(x * x for x in a) or 1
    print(f.rsplit("-", 1)[1][:3], len(a) / w.getframerate(), "%.3f" % (tone / total))
PY
    sed 's/^/       wav (kind, seconds, share of 440 Hz): /' "$WORK/tone.txt"
    # shellcheck disable=SC2016 # an awk program
    check "baresip: what it played out is its own 440 Hz tone (>= 0.5 s, >= 90 % of the power at 440 Hz)" \
        awk '$1 == "dec" && $2 >= 0.5 && $3 >= 0.9 { f = 1 } END { exit !f }' "$WORK/tone.txt"
fi

echo "== SIGTERM"
rc=0; rp_stop_daemon || rc=$?
check "daemon exit status 0 (got $rc; sanitizers report leaks as non-zero)" test "$rc" = 0
check "no sanitizer report in the daemon log" bash -c "! grep -q 'Sanitizer' '$WORK/rtpprobed.log'"

echo "echo-real: $pass passed, $fail failed"
[ "$fail" = 0 ]
