#!/usr/bin/env bash
# rtpprobe --html in a real browser: a loopback run with a known share of the
# upstream RTP dropped by nftables (the ground truth), its page loaded in headless
# Chromium (tests/monitoring/html_check.py): verdict, the loss shown against the
# nft drop counter, one plot point per second of the JSON, no console error, no
# request but the file, a screenshot in tests/out/html-report.png.
# Root, nft, chromium, chromium-driver and python3-selenium; else exit 77.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-build/asan}
PMIN=36400 PMAX=36499 DURATION=10
OUT=tests/out

skip() { echo "skip t-html: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (nftables drops on loopback)"
command -v nft >/dev/null || skip "no nft (Debian: nftables)"
command -v chromium >/dev/null || skip "no chromium (Debian: chromium)"
command -v chromedriver >/dev/null || skip "no chromedriver (Debian: chromium-driver)"
/usr/bin/python3 -c 'import selenium' 2>/dev/null || skip "no python3-selenium"
command -v jq >/dev/null || skip "no jq"

WORK=$(mktemp -d /tmp/rtpprobe-html.XXXXXX)
# shellcheck source=scripts/lib-daemon.sh
. scripts/lib-daemon.sh
NFT_TABLE=rpthtml
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    nft delete table inet "$NFT_TABLE" 2>/dev/null || true
    rp_stop_daemon >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
fail=0
ok()  { echo "ok   $*"; }
bad() { fail=1; echo "FAIL $*"; }

port=$(rp_free_port 18980)
rp_make_config "$WORK/rtpprobed.conf" "$port" "$PMIN" "$PMAX" tls
rp_start_daemon "$WORK/rtpprobed.conf" "$WORK/rtpprobed.log"
export RTPPROBE_TOKEN
RTPPROBE_TOKEN=$(cat "$WORK/token")
probe() { "$BIN/rtpprobe" --server "https://127.0.0.1:$port" --cacert "$WORK/cert.pem" --quiet "$@"; }

# One upstream RTP packet in ten (RTP: the first two bits are version 2, which
# leaves STUN out) is dropped on its way into the daemon's media ports; the
# probe's own port is left alone (sport outside the range) so downstream is
# untouched. Dropped at input, not output: a drop at output fails the probe's
# send (EPERM), which the report counts as a send error, not as loss.
nft -f - <<NFT
table inet $NFT_TABLE {
    counter upstream { }
    counter drops { }
    chain in {
        type filter hook input priority 0;
        iif lo udp dport $PMIN-$PMAX udp sport != $PMIN-$PMAX @th,64,2 2 counter name upstream
        iif lo udp dport $PMIN-$PMAX udp sport != $PMIN-$PMAX @th,64,2 2 numgen inc mod 10 == 0 counter name drops drop
    }
}
NFT
nft_count() { nft -j list counter inet "$NFT_TABLE" "$1" | jq '.nftables[] | select(.counter) | .counter.packets'; }

# The rules tell the directions apart by the probe's port being outside the range;
# the kernel may give it one inside (the range lies in the ephemeral one): run again.
for attempt in 1 2 3; do
    nft reset counters table inet "$NFT_TABLE" >/dev/null
    rc=0
    probe --duration "$DURATION" --json --html "$WORK/report.html" > "$WORK/report.json" 2> "$WORK/probe.err" || rc=$?
    lport=$(jq -r '.nat.local // "" | sub(".*:"; "")' "$WORK/report.json" 2>/dev/null || true)
    if [ -n "$lport" ] && [ "$lport" -ge "$PMIN" ] && [ "$lport" -le "$PMAX" ] && [ "$attempt" -lt 3 ]; then
        echo "     the probe's port $lport is in $PMIN-$PMAX: again"
        continue
    fi
    break
done
drops=$(nft_count drops) upstream=$(nft_count upstream)
echo "     nft: $upstream upstream RTP packets, $drops dropped; probe exit $rc"
if [ "$rc" -le 2 ] && [ -s "$WORK/report.html" ] && jqe .verdict "$WORK/report.json" >/dev/null; then
    ok "--html and --json from one run (exit $rc)"
else
    bad "--html and --json from one run (exit $rc)"; sed 's/^/     /' "$WORK/probe.err"
    exit 1
fi
# Ground truth first: loss was injected, a tenth of the upstream.
if [ "$drops" -gt 0 ] && [ $((drops * 10)) -le $((upstream + 9)) ] && [ $((drops * 10)) -ge $((upstream - 9)) ]; then
    ok "nft dropped one upstream RTP packet in ten ($drops of $upstream)"
else
    bad "nft dropped one upstream RTP packet in ten ($drops of $upstream; the probe's port in $PMIN-$PMAX?)"
fi
jq -c '{verdict, diagnosis, up: {sent: .upstream.sent, lost: .upstream.lost, per_second: (.upstream.per_second | length)},
        down: {lost: .downstream.lost, per_second: (.downstream.per_second | length)}, rtt_per_second: (.rtt_per_second | length)}' \
    "$WORK/report.json" | sed 's/^/     /'

mkdir -p "$OUT"
crc=0
/usr/bin/python3 tests/monitoring/html_check.py --html "$WORK/report.html" --json "$WORK/report.json" \
    --drops "$drops" --duration "$DURATION" --screenshot "$OUT/html-report.png" || crc=$?
case $crc in
    0) ;;
    77) exit 77 ;;
    *) bad "the page in Chromium (above)" ;;
esac

# A page that cannot be written: the report still prints, the exit is UNKNOWN.
rc=0
probe --duration 1 --json --html "$WORK/no-such-dir/report.html" > "$WORK/short.json" 2> "$WORK/short.err" || rc=$?
if [ "$rc" = 3 ] && jqe .verdict "$WORK/short.json" >/dev/null && grep -q '^rtpprobe: --html .*no-such-dir' "$WORK/short.err"; then
    ok "--html into a missing directory: the JSON printed, one stderr line, exit 3"
else
    bad "--html into a missing directory: exit $rc (want 3), stderr: $(head -c 300 "$WORK/short.err")"
fi
exit "$fail"
