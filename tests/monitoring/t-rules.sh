#!/usr/bin/env bash
# conf/prometheus: the alert rules pass `promtool check rules` and their unit
# tests (`promtool test rules`), the example scrape configuration passes
# `promtool check config` (offline: its token, CA and rule files replaced by
# scratch copies), every alert has a unit test, every metric a rule reads is
# one the daemon or the probe writes (its name in src/), and the unit tests
# catch a changed threshold or "for" (each mutation below must make them fail).
# Skips (77) without promtool (Debian: package prometheus).
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v promtool >/dev/null 2>&1; then
    echo "skip t-rules: promtool not installed (Debian package prometheus)"
    exit 77
fi

rules=conf/prometheus/rtpprobe.rules.yml
tests=conf/prometheus/rtpprobe.rules.test.yml
example=conf/prometheus/prometheus.yml.example
fails=0
ok() { echo "ok   rules: $*"; }
fail() { echo "FAIL rules: $*"; fails=$((fails + 1)); }
tmp=$(mktemp -d /tmp/rtpprobe-t-rules.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# run WHAT CMD...: ok when CMD succeeds, else FAIL with its output.
run() {
    local what=$1 out
    shift
    if out=$("$@" 2>&1); then ok "$what"; else fail "$what"; printf '%s\n' "$out" | sed 's/^/    /'; fi
}

run "promtool check rules $rules" promtool check rules "$rules"
run "promtool test rules $tests" promtool test rules "$tests"

# The example as Prometheus would load it, with its files in a scratch directory.
sed "s|/etc/prometheus/|$tmp/|g" "$example" > "$tmp/prometheus.yml"
: > "$tmp/rtpprobed.token"
: > "$tmp/rtpprobed-ca.pem"
cp "$rules" "$tmp/rtpprobe.rules.yml"
run "promtool check config $example" promtool check config "$tmp/prometheus.yml"

# Every alert is tested, firing at least once.
while read -r alert; do
    if grep -q "alertname: $alert\$" "$tests"; then ok "alert $alert has unit tests"
    else fail "alert $alert has no unit test in $tests"; fi
done < <(sed -n 's/^ *- alert: *//p' "$rules")

# Every metric an expression reads exists in the code that writes it: the whole
# name in a string, followed by its end, a label set or a value (a prefix of a
# longer name does not count).
while read -r metric; do
    if grep -rqE "\"${metric}[\"{ ]" src/; then ok "metric $metric is written by src/"
    else fail "metric $metric (in $rules) is not in src/: renamed?"; fi
done < <(sed -n 's/^ *expr: *//p' "$rules" | grep -oE 'rtpprobed?_[a-z_]+' | sort -u)

# Mutations of the rules that the unit tests must notice: each threshold and
# "for" moved a little (sed expressions on a copy of the rules).
mutations=(
    's|up{job="rtpprobed"} == 0|up{job="rtpprobed"} == 1|'
    '/alert: RtpprobedDown/,/for:/s|for: 2m|for: 3m|'
    '/alert: RtpprobedAbsent/,/for:/s|for: 10m|for: 11m|'
    's|rtpprobed_media_ports > 0.8|rtpprobed_media_ports >= 0.8|'
    '/alert: RtpprobedMediaPortsHigh/,/for:/s|for: 10m|for: 9m|'
    's|plane="control"}\[10m\]) > 10|plane="control"}[10m]) >= 10|'
    's|plane="control"|plane=~"control\|media"|'
    's|rtpprobed_agent_mos < 3.6|rtpprobed_agent_mos <= 3.6|'
    '/alert: RtpprobeAgentMosLow/,/for:/s|for: 15m|for: 14m|'
    's|rtpprobed_agent_verdict >= 2|rtpprobed_agent_verdict >= 1|'
    's|time() - rtpprobed_agent_report_timestamp_seconds > 3 \* 5 \* 60|time() - rtpprobed_agent_report_timestamp_seconds >= 3 * 5 * 60|'
    's|rtpprobe_mos < 3.6|rtpprobe_mos <= 3.6|'
    '/alert: RtpprobeMosLow/,/for:/s|for: 15m|for: 16m|'
    's|rtpprobe_verdict >= 2|rtpprobe_verdict == 2|'
    's|time() - rtpprobe_last_run_timestamp_seconds > 3 \* 5 \* 60|time() - rtpprobe_last_run_timestamp_seconds > 3 * 5 * 59|'
)
cp "$tests" "$tmp/rtpprobe.rules.test.yml"
for m in "${mutations[@]}"; do
    sed "$m" "$rules" > "$tmp/rtpprobe.rules.yml"
    if cmp -s "$rules" "$tmp/rtpprobe.rules.yml"; then
        fail "mutation '$m' changes nothing: the rules changed, update this test"
    elif promtool test rules "$tmp/rtpprobe.rules.test.yml" >/dev/null 2>&1; then
        fail "unit tests pass with the rules mutated by '$m'"
    else
        ok "unit tests catch '$m'"
    fi
done

[ $fails -eq 0 ] || { echo "FAIL rules: $fails check(s) failed"; exit 1; }
