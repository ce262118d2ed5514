#!/bin/bash
# rtpprobe --textfile and --push against a real rtpprobed on loopback
# (docs/usage.md "Monitoring outputs"):
# - a run with --json and --textfile: promtool check metrics accepts the file,
#   its upstream packets sent is the JSON report's, every sample has the labels
#   agent, server, codec, transport; mode 0644, no temporary file left;
# - a directory the probe may not write to: exit 3, one line on stderr, the
#   report still on stdout, the old file intact, no temporary file;
# - FILE naming a directory (the rename fails after the temporary file is
#   written): exit 3, no temporary file;
# - a run that measures nothing: the file says verdict 3 (unknown);
# - --push --agent t1: the daemon's /metrics has rtpprobed_agent_mos and
#   rtpprobed_agent_verdict for t1, equal to the run's JSON report.
# BIN (default build/asan) holds rtpprobed and rtpprobe. Ports: control from
# 18960, media 36200-36299. Exit 0 pass, 1 fail, 77 skipped (no promtool).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-build/asan}
command -v promtool > /dev/null || { echo "skip: promtool not installed (apt-get install prometheus)"; exit 77; }
for t in jq curl python3; do
    command -v "$t" > /dev/null || { echo "skip: $t not installed"; exit 77; }
done
WORK=$(mktemp -d)
# shellcheck source=scripts/lib-daemon.sh
. scripts/lib-daemon.sh
trap 'rp_stop_daemon || true; chmod -R u+w "$WORK" 2>/dev/null || true; rm -rf "$WORK"' EXIT

fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }
check() { # NAME COMMAND...: ok when the command succeeds
    local name=$1
    shift
    if "$@"; then ok "$name"; else bad "$name"; fi
}
# (absent and no_temp are called through check: SC2317 does not see it.)
# shellcheck disable=SC2317
absent() { ! grep -q "$1" "$2"; }
# Two numbers equal as numbers (4 and 4.0), to the JSON's 2 decimals of a MOS.
# shellcheck disable=SC2317
same() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a ~ /^[-0-9.e+]+$/ && b ~ /^[-0-9.e+]+$/ && a - b < 0.005 && b - a < 0.005) }'; }
# The verdict as a number (0 pass, 1 warn, 2 fail, 3 unknown: the exit codes).
# Loopback on a busy machine may warn: the checks compare, never assume pass.
verdict_number() { jq -r '{"pass": 0, "warn": 1, "fail": 2, "unknown": 3}[.verdict] // "none"' "$1" 2>/dev/null || echo none; }
# Names in a directory other than the expected one: temporary files left behind.
# shellcheck disable=SC2317
no_temp() { # DIR EXPECTED_NAME
    local left
    left=$(find "$1" -mindepth 1 -maxdepth 1 ! -name "$2" -printf '%f\n')
    [ -z "$left" ] || { echo "     left in $1: $left"; return 1; }
}

port=$(rp_free_port 18960)
rp_make_config "$WORK/rtpprobed.conf" "$port" 36200 36299 tls
rp_start_daemon "$WORK/rtpprobed.conf" "$WORK/rtpprobed.log"
URL="https://127.0.0.1:$port"
RTPPROBE_TOKEN=$(cat "$WORK/token")
export RTPPROBE_TOKEN
probe() { "$BIN/rtpprobe" --server "$URL" --cacert "$WORK/cert.pem" --duration 1 --quiet "$@"; }

# ---- --agent is a label value: anything else is a usage error before any run
rc=0
"$BIN/rtpprobe" --server "$URL" --agent 'a"b' --push > /dev/null 2> "$WORK/agent.err" || rc=$?
check "--agent 'a\"b' refused: exit 3 (got $rc)" [ "$rc" = 3 ]
check "--agent 'a\"b' refused: says why" grep -q -- '--agent: expected 1 to 64 of' "$WORK/agent.err"

# ---- a run with --json and --textfile together
mkdir "$WORK/tf"
rc=0
probe --json --agent t1 --textfile "$WORK/tf/rtpprobe.prom" > "$WORK/run.json" 2> "$WORK/run.err" || rc=$?
verdict=$(verdict_number "$WORK/run.json")
check "the run's exit status $rc is its verdict's ($verdict)" [ "$rc" = "$verdict" ]
PROM=$WORK/tf/rtpprobe.prom
if [ -s "$PROM" ]; then ok "textfile written"; else bad "textfile written"; cat "$WORK/run.err"; fi
check "promtool check metrics accepts it" promtool check metrics < "$PROM"
json_sent=$(jq -r '.upstream.sent' "$WORK/run.json")
prom_sent=$(sed -n 's/^rtpprobe_packets_sent{.*direction="upstream"} \([0-9]*\)$/\1/p' "$PROM")
check "upstream packets sent: textfile ${prom_sent:-missing} = JSON $json_sent" [ "${prom_sent:-x}" = "$json_sent" ]
json_mos=$(jq -r '.downstream.mos' "$WORK/run.json")
prom_mos=$(sed -n 's/^rtpprobe_mos{.*direction="downstream"} \(.*\)$/\1/p' "$PROM")
check "downstream MOS: textfile ${prom_mos:-missing} = JSON $json_mos" same "${prom_mos:-x}" "$json_mos"
check "verdict: textfile = JSON ($verdict)" grep -Eq "^rtpprobe_verdict\\{[^}]*\\} $verdict\$" "$PROM"
want_labels="agent=\"t1\",server=\"$URL\",codec=\"pcmu\",transport=\"rtp\""
samples=$(grep -vc '^#' "$PROM" || true)
labelled=$(grep -v '^#' "$PROM" | grep -cF "{$want_labels" || true)
check "labels agent, server, codec, transport on all $samples samples ($labelled)" \
    [ "$samples" -ge 10 -a "$samples" = "$labelled" ]
check "mode 0644" [ "$(stat -c %a "$PROM")" = 644 ]
check "no temporary file left" no_temp "$WORK/tf" rtpprobe.prom

# ---- a directory the probe may not write to. Root writes anyway: as root,
# the probe runs as nobody (setpriv), from a copy it can reach.
mkdir "$WORK/ro"
printf 'old\n' > "$WORK/ro/rtpprobe.prom"
chmod 0555 "$WORK/ro"
as_user=()
probe_bin=$BIN/rtpprobe
if [ "$(id -u)" = 0 ]; then
    chmod 0755 "$WORK"
    chmod 0644 "$WORK/cert.pem"
    mkdir -m 0755 "$WORK/bin"
    cp "$BIN/rtpprobe" "$WORK/bin/"
    probe_bin=$WORK/bin/rtpprobe
    as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi
rc=0
"${as_user[@]}" "$probe_bin" --server "$URL" --cacert "$WORK/cert.pem" --duration 1 --quiet --json \
    --textfile "$WORK/ro/rtpprobe.prom" > "$WORK/ro.json" 2> "$WORK/ro.err" || rc=$?
check "read-only directory: exit 3 (got $rc)" [ "$rc" = 3 ]
check "read-only directory: one line on stderr naming the file" \
    [ "$(grep -c "rtpprobe: --textfile $WORK/ro/rtpprobe.prom: " "$WORK/ro.err")" = 1 ]
check "read-only directory: the report still printed" [ "$(verdict_number "$WORK/ro.json")" != none ]
check "read-only directory: old file intact" [ "$(cat "$WORK/ro/rtpprobe.prom")" = old ]
check "read-only directory: no temporary file" no_temp "$WORK/ro" rtpprobe.prom

# ---- FILE is a directory: the temporary file is written, the rename fails
mkdir -p "$WORK/dt/rtpprobe.prom"
touch "$WORK/dt/rtpprobe.prom/keep"
rc=0
probe --textfile "$WORK/dt/rtpprobe.prom" > "$WORK/dt.out" 2> "$WORK/dt.err" || rc=$?
check "rename fails: exit 3 (got $rc)" [ "$rc" = 3 ]
check "rename fails: the text report still printed" grep -Eq '^  verdict +(pass|warn|fail)$' "$WORK/dt.out"
check "rename fails: no temporary file" no_temp "$WORK/dt" rtpprobe.prom
check "rename fails: the directory untouched" [ -e "$WORK/dt/rtpprobe.prom/keep" ]
# Under --nagios the one stdout line is what Nagios shows: the failure must be in
# it (UNKNOWN, naming --textfile), with the run's perfdata after it.
rc=0
probe --nagios --textfile "$WORK/dt/rtpprobe.prom" > "$WORK/dtn.out" 2> /dev/null || rc=$?
check "rename fails under --nagios: exit 3 (got $rc)" [ "$rc" = 3 ]
check "rename fails under --nagios: one stdout line, UNKNOWN naming --textfile, with perfdata" \
    grep -Eqx 'RTPPROBE UNKNOWN - --textfile [^|]*\| up_loss=.* verdict=[0-3];0;1;0;3' "$WORK/dtn.out"
check "rename fails under --nagios: nothing else on stdout" [ "$(wc -l < "$WORK/dtn.out")" = 1 ]

# ---- nothing measured (no daemon there): the file says unknown, not stale
dead=$(rp_free_port $((port + 1)))
rc=0
"$BIN/rtpprobe" --server "https://127.0.0.1:$dead" --cacert "$WORK/cert.pem" --duration 1 --quiet \
    --agent t1 --textfile "$WORK/tf/rtpprobe.prom" > /dev/null 2>&1 || rc=$?
check "no measurement: exit 3 (got $rc)" [ "$rc" = 3 ]
check "no measurement: verdict 3 in the file" grep -Eq '^rtpprobe_verdict\{[^}]*\} 3$' "$PROM"
check "no measurement: no packet figures in the file" absent '^rtpprobe_packets' "$PROM"
check "no measurement: promtool accepts it" promtool check metrics < "$PROM"

# ---- --push: the per-agent gauges on the daemon's /metrics. Fails (does not
# skip) against a daemon without POST /v1/reports.
rc=0
probe --json --push --agent t1 > "$WORK/push.json" 2> "$WORK/push.err" || rc=$?
verdict=$(verdict_number "$WORK/push.json")
if [ "$rc" = "$verdict" ]; then ok "push: exit $rc, the verdict's"; else
    bad "push: exit $rc (verdict $verdict): $(head -c 300 "$WORK/push.err")"; fi
curl -sf -m 5 --cacert "$WORK/cert.pem" "$URL/metrics" > "$WORK/metrics.txt" || bad "push: /metrics scrape"
up_mos=$(jq -r '.upstream.mos' "$WORK/push.json")
# Label order is the daemon's: match the labels, then compare the value.
agent_value() { # METRIC [DIRECTION]: the value of t1's sample
    grep -E "^$1\{" "$WORK/metrics.txt" | grep -F 'agent="t1"' |
        { if [ -n "${2:-}" ]; then grep -F "direction=\"$2\""; else cat; fi; } | awk '{ print $NF; exit }' || true
}
got=$(agent_value rtpprobed_agent_mos upstream)
check "push: rtpprobed_agent_mos{agent=\"t1\",direction=\"upstream\"} ${got:-missing} = JSON $up_mos" \
    same "${got:-x}" "$up_mos"
got=$(agent_value rtpprobed_agent_verdict)
check "push: rtpprobed_agent_verdict{agent=\"t1\"} ${got:-missing} = JSON $verdict" [ "${got:-x}" = "$verdict" ]

rp_stop_daemon || bad "daemon exit status"
exit "$fail"
