#!/bin/bash
# A live /metrics checked by promtool (Debian package prometheus): a plain
# rtpprobed on loopback, two UDP ports of its media range bound by another
# process (as Asterisk would), one PCMA session. tests/monitoring/t-metrics-live.sh
# runs it last (make monitoring); by hand: tests/unit/promtool-metrics.sh [BIN].
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:-build}
WORK=$(mktemp -d)
HOLDER=
# shellcheck source=scripts/lib-daemon.sh
. scripts/lib-daemon.sh
trap 'rp_stop_daemon || true; [ -z "$HOLDER" ] || kill "$HOLDER" 2>/dev/null || true; rm -rf "$WORK"' EXIT
command -v promtool > /dev/null || { echo "promtool not installed (apt-get install prometheus)"; exit 77; }

port=$(rp_free_port 18900)
rp_make_config "$WORK/rtpprobed.conf" "$port" 36000 36099 plain
rp_start_daemon "$WORK/rtpprobed.conf" "$WORK/rtpprobed.log"
# Ports 36010 (even), 36011 (odd: not counted) and 36010 again on IPv6 (once).
python3 -c '
import socket, sys, time
s = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2)]
s[0].bind(("127.0.0.1", 36010)); s[1].bind(("127.0.0.1", 36011))
try:
    v6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); v6.bind(("::1", 36010))
except OSError:
    pass
print("bound", flush=True)
time.sleep(60)
' > "$WORK/holder.out" &
HOLDER=$!
for _ in $(seq 1 50); do grep -q bound "$WORK/holder.out" 2>/dev/null && break; sleep 0.1; done
TOKEN=$(cat "$WORK/token")
curl -sf -m 5 -H "Authorization: Bearer $TOKEN" -d '{"codec":"pcma","duration_s":30}' \
    "http://127.0.0.1:$port/v1/sessions" > "$WORK/session.json"
curl -sf -m 5 "http://127.0.0.1:$port/metrics" > "$WORK/metrics.txt"

fail=0
check() { # NAME REGEX: a line of the scrape matches
    if grep -Eqx "$2" "$WORK/metrics.txt"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi
}
if promtool check metrics < "$WORK/metrics.txt"; then echo "ok   promtool check metrics"; else
    echo "FAIL promtool check metrics"; fail=1; fi
check "one pcma session" 'rtpprobed_sessions_by_codec\{codec="pcma"\} 1'
check "no pcmu session" 'rtpprobed_sessions_by_codec\{codec="pcmu"\} 0'
# the session's own even port and 36010; not 36011, not 36010 twice
check "bound even ports" 'rtpprobed_media_ports_bound 2'
check "range size" 'rtpprobed_media_ports 50'
check "build info" 'rtpprobed_build_info\{version="[^"]+"\} 1'
check "socket drops counter" 'rtpprobed_socket_drops_total 0'
check "cpu seconds" 'process_cpu_seconds_total [0-9]+\.[0-9]+'
check "rss" 'process_resident_memory_bytes [1-9][0-9]{5,}'
check "open fds" 'process_open_fds [1-9][0-9]*'
check "max fds" 'process_max_fds [1-9][0-9]*'
now=$(date +%s)
start=$(sed -n 's/^process_start_time_seconds //p' "$WORK/metrics.txt")
if awk -v s="$start" -v n="$now" 'BEGIN { exit !(s > n - 60 && s <= n + 1) }'; then
    echo "ok   start time within the last minute ($start, now $now)"
else echo "FAIL start time $start, now $now"; fail=1; fi
exit "$fail"
