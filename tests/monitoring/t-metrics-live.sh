#!/bin/bash
# shellcheck disable=SC2317  # the helpers run through check "$@" and the EXIT trap
# The daemon's /metrics during and after real probe runs, checked by promtool
# (Debian package prometheus) and against the runs' own reports: packets
# counted, one histogram observation per finished session (none while it
# runs), the loss in the histogram's sum equal to the report's. Then POST
# /v1/reports: per-agent gauges equal to the pushed report, the oldest agent
# evicted beyond reports.max_agents (2 here), bad bodies refused and counted.
# Ends with tests/unit/promtool-metrics.sh (port usage, process metrics).
# BIN: the binaries (default build/asan). Ports 18950, media 36100-36199.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-build/asan}
command -v promtool > /dev/null || { echo "skip: promtool not installed (apt-get install prometheus)"; exit 77; }
command -v jq > /dev/null || { echo "skip: jq not installed"; exit 77; }
WORK=$(mktemp -d)
PROBE=
# shellcheck source=scripts/lib-daemon.sh
. scripts/lib-daemon.sh
cleanup() {
    [ -z "$PROBE" ] || kill "$PROBE" 2> /dev/null || true
    rp_stop_daemon > /dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
# check NAME COMMAND...: ok when the command succeeds
check() {
    local name=$1
    shift
    if "$@"; then ok "$name"; else bad "$name"; fi
}

port=$(rp_free_port 18950)
rp_make_config "$WORK/rtpprobed.conf" "$port" 36100 36199 plain
# No STUN listener (3478 may be anyone's); two agents at most; no request
# rate limit in the way of the polling scrapes and the pushes.
printf 'stun: { listen = ""; };\nreports: { max_agents = 2; };\n' >> "$WORK/rtpprobed.conf"
sed -i 's/^limits: {/limits: { requests_per_second = 100000; request_burst = 100000;/' "$WORK/rtpprobed.conf"
grep -q 'request_burst = 100000' "$WORK/rtpprobed.conf"
rp_start_daemon "$WORK/rtpprobed.conf" "$WORK/rtpprobed.log"
URL="http://127.0.0.1:$port"
RTPPROBE_TOKEN=$(cat "$WORK/token")
export RTPPROBE_TOKEN

scrape() { curl -sf -m 10 "$URL/metrics" > "$1"; }
# must_scrape FILE: a scrape that has to work (a 500 is a failed render)
must_scrape() { scrape "$1" || { bad "GET /metrics into $1"; exit 1; }; }
# value FILE SAMPLE: the value of one sample (name{labels} exactly as written)
value() { awk -v k="$2" '$1 == k { print $2; found = 1 } END { exit !found }' "$1"; }
# near A B TOLERANCE
near() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'; }
# is FILE SAMPLE WANT: the sample is there with exactly this value
is() {
    local got
    got=$(value "$1" "$2") || { echo "     $2: no such sample"; return 1; }
    [ "$got" = "$3" ] || { echo "     $2 = $got, want $3"; return 1; }
}
promtool_ok() { promtool check metrics < "$1" > "$WORK/promtool.out" 2>&1 || { cat "$WORK/promtool.out"; return 1; }; }

FAMILIES="rtpprobed_session_loss_ratio rtpprobed_session_jitter_seconds rtpprobed_session_mos rtpprobed_session_r_factor"
# counts FILE CODEC TRANSPORT N: every quality histogram of that pair has N observations
counts() {
    local f
    for f in $FAMILIES; do
        is "$1" "${f}_count{codec=\"$2\",transport=\"$3\"}" "$4" || return 1
        is "$1" "${f}_bucket{codec=\"$2\",transport=\"$3\",le=\"+Inf\"}" "$4" || return 1
    done
}

# run CODEC NAME: one probe run; scrapes /metrics while its session is open
# (polling for it, not sleeping a guess) into NAME.during, after into NAME.after.
run() {
    local codec=$1 name=$2 rc=0 seen=0 before
    must_scrape "$WORK/$name.before"
    before=$(value "$WORK/$name.before" 'rtpprobed_packets_total{direction="upstream"}')
    "$BIN/rtpprobe" --server "$URL" --codec "$codec" --duration 3 --stun none --json --quiet \
        > "$WORK/$name.json" 2> "$WORK/$name.err" &
    PROBE=$!
    # Until its session is open and has media upstream (or the probe is done).
    while kill -0 "$PROBE" 2> /dev/null; do
        if scrape "$WORK/$name.during" && is "$WORK/$name.during" rtpprobed_sessions 1 > /dev/null &&
            ! is "$WORK/$name.during" 'rtpprobed_packets_total{direction="upstream"}' "$before" > /dev/null; then
            seen=1
            break
        fi
        sleep 0.1
    done
    wait "$PROBE" || rc=$?
    PROBE=
    if [ "$seen" = 1 ]; then ok "$name: scraped while its session was open and receiving"
    else bad "$name: never saw its session open with media"; fi
    if [ "$rc" -le 2 ] && jqe .upstream.received "$WORK/$name.json" > /dev/null; then
        ok "$name: probe finished with a report (exit $rc)"
    else
        bad "$name: probe exit $rc"
        cat "$WORK/$name.err"
    fi
    must_scrape "$WORK/$name.after"
}

# ---- run 1: PCMU over RTP ----
run pcmu run1
check "run1: promtool accepts the scrape during the run" promtool_ok "$WORK/run1.during"
check "run1: promtool accepts the scrape after the run" promtool_ok "$WORK/run1.after"
check "run1: no observation while the session runs" counts "$WORK/run1.during" pcmu rtp 0
check "run1: one pcmu session open during the run" is "$WORK/run1.during" 'rtpprobed_sessions_by_codec{codec="pcmu"}' 1
check "run1: no session open after the run" is "$WORK/run1.after" rtpprobed_sessions 0
up_received=$(jq -r .upstream.received "$WORK/run1.json")
check "run1: upstream packets counted = the report's upstream received ($up_received)" \
    is "$WORK/run1.after" 'rtpprobed_packets_total{direction="upstream"}' "$up_received"
check "run1: exactly one observation for pcmu/rtp in every quality histogram" counts "$WORK/run1.after" pcmu rtp 1
check "run1: none for opus/rtp or pcmu/srtp" counts "$WORK/run1.after" opus rtp 0
check "run1: none for pcmu/srtp" counts "$WORK/run1.after" pcmu srtp 0
loss=$(jq -r '.upstream.loss_pct / 100' "$WORK/run1.json")
got=$(value "$WORK/run1.after" 'rtpprobed_session_loss_ratio_sum{codec="pcmu",transport="rtp"}' || echo none)
check "run1: loss ratio sum $got = the report's upstream loss ($loss)" near "$got" "$loss" 0.00001
jitter=$(jq -r '.upstream.jitter_mean_ms / 1000' "$WORK/run1.json")
got=$(value "$WORK/run1.after" 'rtpprobed_session_jitter_seconds_sum{codec="pcmu",transport="rtp"}' || echo none)
check "run1: jitter sum $got s = the report's upstream mean jitter ($jitter s)" near "$got" "$jitter" 0.000002
# The daemon leaves out the path delay (RTT/2, under a millisecond here): the
# same E-model otherwise, so the MOS agrees to its rounding.
mos=$(jq -r .upstream.mos "$WORK/run1.json")
got=$(value "$WORK/run1.after" 'rtpprobed_session_mos_sum{codec="pcmu",transport="rtp"}' || echo none)
check "run1: MOS sum $got = the report's upstream MOS ($mos)" near "$got" "$mos" 0.02

# ---- run 2: another codec; run 1's observation stays ----
run opus run2
check "run2: promtool accepts the scrape after the run" promtool_ok "$WORK/run2.after"
check "run2: one observation for opus/rtp" counts "$WORK/run2.after" opus rtp 1
check "run2: still one for pcmu/rtp" counts "$WORK/run2.after" pcmu rtp 1
check "run2: two sessions created" is "$WORK/run2.after" rtpprobed_sessions_created_total 2

# ---- POST /v1/reports ----
# post AGENT-JSON-VALUE REPORT-FILE: prints the HTTP status
post() {
    jq -c --argjson agent "$1" '{agent: $agent, report: .}' "$2" > "$WORK/body.json"
    curl -s -m 10 -o "$WORK/post.out" -w '%{http_code}' -H "Authorization: Bearer $RTPPROBE_TOKEN" \
        -H 'Content-Type: application/json' --data-binary "@$WORK/body.json" "$URL/v1/reports"
}
post_raw() { # BODY: prints the HTTP status
    curl -s -m 10 -o "$WORK/post.out" -w '%{http_code}' -H "Authorization: Bearer $RTPPROBE_TOKEN" \
        --data-binary "$1" "$URL/v1/reports"
}
check "a1's report is accepted (204)" [ "$(post '"a1"' "$WORK/run1.json")" = 204 ]
must_scrape "$WORK/agents1"
check "promtool accepts the scrape with an agent" promtool_ok "$WORK/agents1"
mos=$(jq -r .upstream.mos "$WORK/run1.json")
got=$(value "$WORK/agents1" 'rtpprobed_agent_mos{agent="a1",direction="upstream"}' || echo none)
check "a1's upstream MOS gauge $got = its report's ($mos)" near "$got" "$mos" 0.0000001
loss=$(jq -r '.downstream.loss_pct / 100' "$WORK/run1.json")
got=$(value "$WORK/agents1" 'rtpprobed_agent_loss_ratio{agent="a1",direction="downstream"}' || echo none)
check "a1's downstream loss gauge $got = its report's ($loss)" near "$got" "$loss" 0.0000001
rtt=$(jq -r '.rtt_ms.avg / 1000' "$WORK/run1.json")
got=$(value "$WORK/agents1" 'rtpprobed_agent_rtt_seconds{agent="a1"}' || echo none)
check "a1's RTT gauge $got = its report's ($rtt s)" near "$got" "$rtt" 0.0000001
verdict=$(jq -r '{"pass":0,"warn":1,"fail":2,"unknown":3}[.verdict]' "$WORK/run1.json")
check "a1's verdict gauge is its report's as a number ($verdict)" \
    is "$WORK/agents1" 'rtpprobed_agent_verdict{agent="a1"}' "$verdict"
when=$(value "$WORK/agents1" 'rtpprobed_agent_report_timestamp_seconds{agent="a1"}' || echo 0)
check "a1's report time is the daemon's clock ($when)" near "$when" "$(date +%s)" 60
check "one agent held" is "$WORK/agents1" rtpprobed_agents 1
check "max agents from the config" is "$WORK/agents1" rtpprobed_agents_max 2
check "one report accepted" is "$WORK/agents1" 'rtpprobed_reports_total{result="accepted"}' 1

check "a2's report is accepted" [ "$(post '"a2"' "$WORK/run2.json")" = 204 ]
check "a3's report is accepted" [ "$(post '"a3"' "$WORK/run1.json")" = 204 ]
must_scrape "$WORK/agents2"
check "promtool accepts the scrape after an eviction" promtool_ok "$WORK/agents2"
check "a third agent evicts one" is "$WORK/agents2" rtpprobed_agent_evictions_total 1
check "two agents held" is "$WORK/agents2" rtpprobed_agents 2
check "the oldest (a1) is gone" bash -c "! grep -q 'agent=\"a1\"' '$WORK/agents2'"
check "a2 and a3 are there" bash -c "grep -q 'rtpprobed_agent_verdict{agent=\"a2\"}' '$WORK/agents2' &&
    grep -q 'rtpprobed_agent_verdict{agent=\"a3\"}' '$WORK/agents2'"

# Refused: each 400, counted; the error names what is wrong.
report=$(cat "$WORK/run1.json")
check "not JSON: 400" [ "$(post_raw 'agent=a1')" = 400 ]
check "an agent name with a quote: 400" [ "$(post '"a\"1"' "$WORK/run1.json")" = 400 ]
check "an agent name with a newline: 400" [ "$(post '"a\n1"' "$WORK/run1.json")" = 400 ]
check "the error names the key" grep -q '"agent: expected' "$WORK/post.out"
check "no report: 400" [ "$(post_raw '{"agent":"a4"}')" = 400 ]
check "the error names the key" grep -q '"report: missing' "$WORK/post.out"
check "a mistyped figure: 400" [ "$(post_raw "{\"agent\":\"a4\",\"report\":$(jq -c '.upstream.mos = "4"' <<< "$report")}")" = 400 ]
check "the error names the key" grep -q 'report.upstream.mos' "$WORK/post.out"
code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' --data-binary '{}' "$URL/v1/reports")
check "no token: 401" [ "$code" = 401 ]
code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $RTPPROBE_TOKEN" "$URL/v1/reports")
check "GET: 405" [ "$code" = 405 ]
head -c 20000 /dev/zero | tr '\0' ' ' > "$WORK/big"
code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $RTPPROBE_TOKEN" \
    --data-binary "@$WORK/big" "$URL/v1/reports")
check "a body beyond limits.max_body: 413" [ "$code" = 413 ]
must_scrape "$WORK/agents3"
check "five reports rejected (not JSON, quote, newline, no report, mistyped)" \
    is "$WORK/agents3" 'rtpprobed_reports_total{result="rejected"}' 5
check "still three accepted, two agents" bash -c "grep -qx 'rtpprobed_reports_total{result=\"accepted\"} 3' '$WORK/agents3' &&
    grep -qx 'rtpprobed_agents 2' '$WORK/agents3'"
check "no agent label from a refused body" bash -c "! grep -q 'agent=\"a4\"' '$WORK/agents3'"
check "promtool accepts the last scrape" promtool_ok "$WORK/agents3"

# A full store of the default size: 1000 agents (and one more), on one
# keep-alive connection; /metrics then is about a megabyte, still whole.
sed -i 's/max_agents = 2;/max_agents = 1000;/' "$WORK/rtpprobed.conf"
kill -HUP "$RP_PID"
for _ in $(seq 1 100); do
    scrape "$WORK/reload" && is "$WORK/reload" rtpprobed_agents_max 1000 > /dev/null && break
    sleep 0.1
done
jq -c . "$WORK/run2.json" > "$WORK/report.json"
: > "$WORK/many.curl"
for i in $(seq 1 1001); do
    printf '{"agent":"agent-%04d","report":' "$i" > "$WORK/b$i.json"
    cat "$WORK/report.json" >> "$WORK/b$i.json"
    printf '}' >> "$WORK/b$i.json"
    printf 'url = "%s/v1/reports"\nheader = "Authorization: Bearer %s"\ndata-binary = "@%s"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' \
        "$URL" "$RTPPROBE_TOKEN" "$WORK/b$i.json" >> "$WORK/many.curl"
    [ "$i" = 1001 ] || echo next >> "$WORK/many.curl"
done
curl -s -m 300 -K "$WORK/many.curl" > "$WORK/many.codes" || true
check "1001 reports accepted" [ "$(grep -c '^204$' "$WORK/many.codes")" = 1001 ]
must_scrape "$WORK/many"
check "a full store: 1000 agents held" is "$WORK/many" rtpprobed_agents 1000
check "agent-0001, the oldest, evicted" bash -c "! grep -q 'agent=\"agent-0001\"' '$WORK/many'"
check "agent-1001 is there" grep -q 'rtpprobed_agent_mos{agent="agent-1001",direction="upstream"}' "$WORK/many"
check "evictions: a1, then a2 and a3 and agent-0001 (as 1000 + 1 pushed after 2 held)" \
    is "$WORK/many" rtpprobed_agent_evictions_total 4
check "the scrape is whole ($(wc -c < "$WORK/many") bytes)" grep -q '^rtpprobed_agent_report_timestamp_seconds{agent="agent-1001"} ' "$WORK/many"
check "promtool accepts the scrape with 1000 agents" promtool_ok "$WORK/many"

rc=0
rp_stop_daemon || rc=$?
check "the daemon exits cleanly (sanitizers quiet)" [ "$rc" = 0 ]
grep -q 'ERROR: \(Address\|Leak\)Sanitizer\|runtime error' "$WORK/rtpprobed.log" && bad "sanitizer report in the log"

# Port usage, process metrics, build info: the older live check.
rc=0
tests/unit/promtool-metrics.sh "$BIN" || rc=$?
[ "$rc" = 0 ] || fail=1
exit "$fail"
