#!/usr/bin/env bash
# Port-range check (docs/port-check.md) on loopback, in a network namespace of
# its own so that its nft rules touch nothing else: a process holding a port
# keeps it and all its traffic during a full check; a process binding a port
# during the check gets it; answers are no more and no larger than the
# probe's packets (nft counters); a packet without the check's tag gets
# nothing; nft drops split the range into exactly the ranges reported; a
# daemon without CAP_NET_RAW says so (503) and keeps running.
# Needs root (namespaces, nft). BIN selects the build.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-build}
BIN=$(cd "$BIN" && pwd)
# The suite's skip convention (as tests/net): say why, exit 0.
skip() { echo "portcheck: skipped: $*"; exit 0; }
for tool in ip nft python3 jq setpriv; do
    command -v "$tool" >/dev/null || skip "$tool missing (scripts/install-deps --test)"
done
[ "$(id -u)" = 0 ] || skip "needs root (network namespace, nft)"
WORK=$(mktemp -d /tmp/rtpprobe-pc.XXXXXX)
NS=rppc-$$
# shellcheck source=scripts/lib-daemon.sh
. scripts/lib-daemon.sh
pass=0 fail=0
cleanup() {
    rp_stop_daemon >/dev/null 2>&1 || true
    for pid in ${HOLDER_PID:-} ${LATE_PID:-} ${PROBE_PID:-}; do kill "$pid" 2>/dev/null || true; done
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
ok()   { pass=$((pass + 1)); echo "  ok   $*"; }
bad()  { fail=$((fail + 1)); echo "  FAIL $*"; }
check() { local what=$1; shift; if "$@" >/dev/null 2>&1; then ok "$what"; else bad "$what"; fi; }
nsx() { ip netns exec "$NS" "$@"; }
# wait_for FILE PATTERN: until the line is there (the daemon logs each step).
wait_for() { for _ in $(seq 1 600); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }

ip netns add "$NS" 2>/dev/null || skip "cannot create a network namespace (ip netns add failed)"
nsx ip link set lo up
# Every socket's own (ephemeral) port well outside the range under test, so that
# the counters below count the check's packets only.
nsx sysctl -qw net.ipv4.ip_local_port_range="50000 60999"

LO=33000 HI=36999 HELD=33010 LATE=33030 ASTERISK_SPORT=40000
# Upstream blocked for 36000-36999 (the host never sees them); downstream
# blocked for answers from 35000-35999. Counters: the probe's packets and the
# answers as they leave (loopback: both pass output).
nsx nft -f - <<NFT
table inet pc {
    counter probe_pkts {}
    counter answers {}
    chain in { type filter hook input priority 0; udp dport 36000-36999 drop; }
    chain out {
        type filter hook output priority 0;
        udp dport $LO-$HI udp sport != $ASTERISK_SPORT counter name probe_pkts
        udp sport $LO-$HI counter name answers
        udp sport 35000-35999 drop
    }
}
NFT

cat > "$WORK/udp.py" <<'PY'
import socket, sys, time
mode, port = sys.argv[1], int(sys.argv[2])
if mode == "hold":
    # "Asterisk": holds PORT, counts its own packets until told to stop (SIGTERM after a "stop" file).
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    s.settimeout(0.2)
    print("bound", flush=True)
    n = 0
    stop = sys.argv[3]
    while True:
        try:
            data, src = s.recvfrom(2048)
            if src[1] == 40000 and data.startswith(b"asterisk"):
                n += 1
        except socket.timeout:
            try:
                open(stop).close()
                break
            except OSError:
                pass
    print("received", n, flush=True)
elif mode == "send":
    # Its peer: COUNT packets from port 40000.
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 40000))
    for i in range(int(sys.argv[3])):
        s.sendto(b"asterisk%06d" % i, ("127.0.0.1", port))
        time.sleep(0.005)
elif mode == "bind":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    print("bound", flush=True)
elif mode == "forge":
    # A check packet of the right shape with a tag under the wrong key: no answer may come.
    import hmac, hashlib, os
    body = b"RPPC" + bytes([1, 1, 0, 0]) + os.urandom(8) + (0).to_bytes(4, "big") + port.to_bytes(2, "big") + b"\0\0"
    pkt = body + hmac.new(os.urandom(32), body, hashlib.sha256).digest()[:10]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    for _ in range(5):
        s.sendto(pkt, ("127.0.0.1", port))
    try:
        s.recvfrom(2048)
        print("answered")
    except socket.timeout:
        print("nothing")
PY

echo "== port check on loopback (namespace $NS)"
port=$(rp_free_port 29300)
rp_make_config "$WORK/rtpprobed.conf" "$port" "$LO" "$HI" plain
RP_PID=
ip netns exec "$NS" "$BIN/rtpprobed" -c "$WORK/rtpprobed.conf" 2> "$WORK/rtpprobed.log" &
RP_PID=$!
for _ in $(seq 1 100); do nsx bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null && break; sleep 0.1; done
export RTPPROBE_TOKEN
RTPPROBE_TOKEN=$(cat "$WORK/token")
# Started as root: the raw socket is opened at start, then CAP_NET_RAW is
# dropped for good (bit 13 of the kernel's view of its sets); checks still work.
caps="" has_raw=0
while read -r key value; do
    case $key in
        CapEff: | CapPrm: | CapAmb:) caps="$caps $key$value"; (( 0x$value & (1 << 13) )) && has_raw=1 ;;
    esac
done < "/proc/$RP_PID/status"
check "the running daemon holds no CAP_NET_RAW ($caps)" test "$has_raw" = 0

nsx python3 "$WORK/udp.py" hold "$HELD" "$WORK/stop" > "$WORK/holder.out" &
HOLDER_PID=$!
wait_for "$WORK/holder.out" bound
nsx "$BIN/rtpprobe" --server "http://127.0.0.1:$port" --port-check --full --json > "$WORK/full.json" 2> "$WORK/full.err" &
PROBE_PID=$!
wait_for "$WORK/rtpprobed.log" "port check .* full $LO-$HI"
# During the check: Asterisk's traffic, a port bound anew, a forged packet.
nsx python3 "$WORK/udp.py" send "$HELD" 200
nsx python3 "$WORK/udp.py" bind "$LATE" > "$WORK/late.out" 2>&1 || true
nsx python3 "$WORK/udp.py" forge 33100 > "$WORK/forge.out" 2>&1 || true
running=$(grep -c "ended" "$WORK/rtpprobed.log" || true)
rc=0; wait "$PROBE_PID" || rc=$?; PROBE_PID=
touch "$WORK/stop"; wait "$HOLDER_PID" || true; HOLDER_PID=

check "the steps above ran while the check was running" test "$running" = 0
check "a full check with blocked parts exits 2 (got $rc; $(head -c 200 "$WORK/full.err"))" test "$rc" = 2
check "the held port $HELD is listed in use and not tried" \
    jqe "(.in_use | index($HELD)) != null and ([.ports[].port] | index($HELD)) == null" "$WORK/full.json"
check "the holder received all 200 of its packets during the check ($(tail -1 "$WORK/holder.out"))" \
    grep -qx "received 200" "$WORK/holder.out"
check "a process binding $LATE during the check got it" grep -qx bound "$WORK/late.out"
check "a packet without the check's tag got no answer ($(cat "$WORK/forge.out"))" grep -qx nothing "$WORK/forge.out"
check "the daemon counted it as a bad tag" grep -q "ended: .* [1-9][0-9]* with a bad tag" "$WORK/rtpprobed.log"
expect='[{"from":33000,"to":34999,"status":"both"},{"from":35000,"to":35999,"status":"blocked-downstream"},{"from":36000,"to":36999,"status":"blocked-upstream"}]'
check "ranges: 33000-34999 both, 35000-35999 downstream blocked, 36000-36999 upstream blocked ($(jq -c .ranges "$WORK/full.json" | head -c 300))" \
    test "$(jq -c '[.ranges[] | {from, to, status}]' "$WORK/full.json")" = "$expect"
if /usr/bin/python3 -c 'from jsonschema import Draft202012Validator' 2>/dev/null; then
    check "the --json output validates against docs/portcheck.schema.json" /usr/bin/python3 -c '
import json, sys
from jsonschema import Draft202012Validator
Draft202012Validator(json.load(open(sys.argv[1]))).validate(json.load(open(sys.argv[2])))' \
        docs/portcheck.schema.json "$WORK/full.json"
fi
counters=$(nsx nft -j list counters table inet pc)
pp=$(jq '[.nftables[].counter? | select(.name == "probe_pkts")][0]' <<< "$counters")
an=$(jq '[.nftables[].counter? | select(.name == "answers")][0]' <<< "$counters")
np=$(jq .packets <<< "$pp") bp=$(jq .bytes <<< "$pp") na=$(jq .packets <<< "$an") ba=$(jq .bytes <<< "$an")
# The forged packets count with the probe's; the probe sent one per even port tried.
check "answers: $na packets, $ba bytes <= the probe's $np packets, $bp bytes (and some)" \
    test "$na" -gt 0 -a "$na" -le "$np" -a "$ba" -le "$bp"
seen=$(jq '[.ports[] | select(.seen)] | length' "$WORK/full.json")
check "one answer per probe packet the daemon saw: $na answers, $seen ports seen (the probe sent one each)" \
    test "$na" = "$seen"

st=0; rp_stop_daemon || st=$?
check "the daemon shut down cleanly (exit $st; under ASan: no leak, no error)" test "$st" = 0

echo "== a check of the host's second address"
# The probe sends to 10.77.0.1 on this host: the daemon's answers and the
# packets it sees must not depend on the address its socket would be pinned to.
nsx ip addr add 10.77.0.1/32 dev lo
port2=$(rp_free_port 29400)
rp_make_config "$WORK/second.conf" "$port2" "$LO" "$HI" tls
sed -i "s/listen = \"127.0.0.1:$port2\"/listen = \"10.77.0.1:$port2\"/" "$WORK/second.conf"
ip netns exec "$NS" "$BIN/rtpprobed" -c "$WORK/second.conf" 2> "$WORK/second.log" &
RP_PID=$!
for _ in $(seq 1 100); do nsx bash -c "exec 3<>/dev/tcp/10.77.0.1/$port2" 2>/dev/null && break; sleep 0.1; done
rc=0; nsx "$BIN/rtpprobe" --server "https://10.77.0.1:$port2" --insecure --port-check "$LO-$((LO + 998))" \
    > "$WORK/second.txt" 2> "$WORK/second.err" || rc=$?
check "the range 33000-33998 (both ways) reads reachable through 10.77.0.1 too (exit $rc; $(grep -m1 '^ ' "$WORK/second.txt"))" \
    bash -c "[ $rc = 0 ] && grep -q '$LO-$((LO + 998)) *reachable both ways' '$WORK/second.txt'"
st=0; rp_stop_daemon || st=$?
check "that daemon shuts down cleanly (exit $st)" test "$st" = 0

echo "== without CAP_NET_RAW"
ip netns exec "$NS" setpriv --bounding-set=-net_raw --inh-caps=-net_raw "$BIN/rtpprobed" -c "$WORK/rtpprobed.conf" 2> "$WORK/noraw.log" &
RP_PID=$!
for _ in $(seq 1 100); do nsx bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null && break; sleep 0.1; done
rc=0; nsx "$BIN/rtpprobe" --server "http://127.0.0.1:$port" --port-check > /dev/null 2> "$WORK/noraw.err" || rc=$?
check "exit 3 and the missing capability named ($(head -c 200 "$WORK/noraw.err"))" \
    bash -c "[ $rc = 3 ] && grep -q 'HTTP 503.*CAP_NET_RAW' '$WORK/noraw.err'"
check "the daemon is still running" kill -0 "$RP_PID"
st=0; rp_stop_daemon || st=$?
check "and shuts down cleanly (exit $st)" test "$st" = 0

echo "portcheck: $pass passed, $fail failed"
[ "$fail" = 0 ]
