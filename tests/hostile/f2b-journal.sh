#!/usr/bin/env bash
# 3b. The daemon's log under systemd: level prefixes, and the fail2ban filter on
# them. Runs its own daemon (plain HTTP, loopback); called from section 3 of
# tests/hostile/run.sh, and runnable alone:
#
#   BIN=build/asan tests/hostile/f2b-journal.sh
#
# systemd connects a service's stderr to the journal and sets JOURNAL_STREAM to
# that stream's "dev:inode"; rtpprobed then starts each line with the sd-daemon
# level prefix (<3> err, <4> warn, <6> info, <7> debug), which journald strips
# and records as the entry's priority. Here the daemon's stderr is a file and
# JOURNAL_STREAM names that file, so the daemon sees what it sees under systemd
# and the file holds the raw stream. Checks:
#   - every line carries the prefix of its level word; auth-failure is <4>, so
#     `journalctl -p warning` would show it, and the session lines <6> would not
#   - fail2ban-regex (conf/fail2ban/filter.d/rtpprobed.conf) finds every bad
#     token, and nothing else, with the right addresses: in the raw stream, as
#     journald stores the lines (prefix taken off; the systemd backend's and
#     journalctl's forms), and with SyslogLevelPrefix=no (prefix left in)
#   - JOURNAL_STREAM naming another file (inherited, stderr elsewhere): no prefix
#   - with a real journal (systemd as init, journald's socket): the same through
#     a transient unit, read back with journalctl and fail2ban's systemd-journal
#     source; skipped, with the reason, elsewhere
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-build}
FJ_WORK=$(mktemp -d /tmp/rtpprobe-f2bj.XXXXXX)
WORK=$FJ_WORK
. scripts/lib-daemon.sh
FILTER=conf/fail2ban/filter.d/rtpprobed.conf

fj_pass=0 fj_fail=0 fj_skip=0 FJ_PID='' UNIT=''
# shellcheck disable=SC2317  # invoked by the EXIT trap
fj_cleanup() {
    if [ -n "$FJ_PID" ]; then kill "$FJ_PID" 2>/dev/null && wait "$FJ_PID" 2>/dev/null; fi
    if [ -n "$UNIT" ]; then systemctl stop "$UNIT" 2>/dev/null || true; fi
    rm -rf "$FJ_WORK"
}
trap 'fj_cleanup' EXIT
ok()   { fj_pass=$((fj_pass + 1)); echo "  ok    $*"; }
bad()  { fj_fail=$((fj_fail + 1)); echo "  FAIL  $*"; }
skip() { fj_skip=$((fj_skip + 1)); echo "  skip  $*"; }
finish() {
    echo "f2b-journal: $fj_pass passed, $fj_fail failed, $fj_skip skipped"
    [ "$fj_fail" = 0 ]
    exit
}

echo "== 3b. log level prefixes under systemd (JOURNAL_STREAM), fail2ban filter on them"
[ -x "$BIN/rtpprobed" ] || { bad "$BIN/rtpprobed missing (make $BIN/rtpprobed)"; finish; }
command -v fail2ban-regex >/dev/null || { skip "fail2ban-regex not installed (Debian package fail2ban)"; finish; }

# Below the ephemeral range (as run.sh's daemons); media ports apart from theirs.
port=$(rp_free_port $((27000 + RANDOM % 700)))
URL="http://127.0.0.1:$port"
rp_make_config "$WORK/j.conf" "$port" 45500 45519 plain
echo 'stun: { listen=""; };' >> "$WORK/j.conf"
AUTH="Authorization: Bearer $(cat "$WORK/token")"

# start_with_stream LOG ID: the daemon on stderr LOG, JOURNAL_STREAM=ID.
start_with_stream() {
    JOURNAL_STREAM=$2 rp_start_daemon "$WORK/j.conf" "$1" || return 1
    FJ_PID=$RP_PID
}
stop_daemon() {
    local rc=0
    kill -TERM "$FJ_PID"
    wait "$FJ_PID" || rc=$?
    FJ_PID=
    return $rc
}

# The traffic: NBAD bad tokens from two loopback addresses, one good session
# created and deleted in between (its lines must not match).
declare -A want_ip=()
nbad=0
traffic() {
    local src i c gid
    for src in 127.0.0.21 127.0.0.22; do
        for i in 1 2; do
            c=$(curl -s --interface "$src" -o /dev/null -w '%{http_code}' -H "Authorization: Bearer bad$i" \
                -X POST -d '{"codec":"pcmu"}' "$URL/v1/sessions") || true
            [ "$c" = 401 ] && nbad=$((nbad + 1)) && want_ip[$src]=$(( ${want_ip[$src]:-0} + 1 ))
        done
        gid=$(curl -s --interface "$src" -H "$AUTH" -X POST -d '{"codec":"pcmu","duration_s":5}' \
            "$URL/v1/sessions" | jq -r '.id // empty') || true
        [ -n "$gid" ] && curl -s -o /dev/null -H "$AUTH" -X DELETE "$URL/v1/sessions/$gid"
    done
    return 0
}

# f2b_check WHAT FILE: fail2ban-regex finds the nbad failures and their hosts, nothing else.
f2b_check() {
    local what=$1 file=$2 n matched missed got want
    n=$(wc -l < "$file")
    fail2ban-regex -r "$file" "$FILTER" > "$file.out" 2>&1 || true
    matched=$(sed -n 's/^Lines: .* \([0-9]*\) matched.*/\1/p' "$file.out")
    missed=$(sed -n 's/^Lines: .* \([0-9]*\) missed.*/\1/p' "$file.out")
    got=$(fail2ban-regex -r -o ip "$file" "$FILTER" 2>/dev/null | sort | uniq -c | awk '{print $2, $1}' | sort | xargs)
    want=$(for ip in "${!want_ip[@]}"; do echo "$ip ${want_ip[$ip]}"; done | sort | xargs)
    if [ "$matched" = "$nbad" ] && [ "$missed" = $((n - nbad)) ] && [ "$got" = "$want" ]; then
        ok "fail2ban-regex, $what: $matched of $n lines matched, hosts $got"
    else
        bad "fail2ban-regex, $what: matched ${matched:-?} of $n (want $nbad), missed ${missed:-?}, hosts [$got] want [$want]"
    fi
}

# ---- the daemon as under systemd: JOURNAL_STREAM names its stderr
: > "$WORK/stream.log"
start_with_stream "$WORK/stream.log" "$(stat -c '%d:%i' "$WORK/stream.log")" ||
    { bad "daemon did not start: $(tail -3 "$WORK/stream.log")"; finish; }
traffic
# Each 401 is logged before its answer is sent; the deletes are the last lines.
rc=0; stop_daemon || rc=$?
if [ "$rc" = 0 ] && ! grep -q Sanitizer "$WORK/stream.log"; then ok "daemon: SIGTERM, exit status 0"
else bad "daemon: exit status $rc $(grep -m1 -E 'ERROR: |SUMMARY: ' "$WORK/stream.log" || true)"; fi
nlines=$(wc -l < "$WORK/stream.log")
echo "       $nbad bad-token requests answered 401, $nlines log lines: $(head -c 100 "$WORK/stream.log")..."
[ "$nbad" -gt 0 ] || bad "no request was answered 401"

# Every line: the prefix of its own level word (journald would record that priority).
mismatched=$(awk '!/^<3>rtpprobed: err: |^<4>rtpprobed: warn: |^<6>rtpprobed: info: |^<7>rtpprobed: debug: /' \
    "$WORK/stream.log" | head -3)
if [ -z "$mismatched" ] && [ "$nlines" -gt 0 ]; then ok "all $nlines lines start with the prefix of their level (<3> <4> <6> <7>)"
else bad "lines without the prefix of their level: $mismatched"; fi
# What `journalctl -p warning` would show: priorities 0-4.
nwarn=$(grep -c '^<[0-4]>' "$WORK/stream.log" || true)
nauth=$(grep -c '^<4>rtpprobed: warn: auth-failure ' "$WORK/stream.log" || true)
ncreated=$(grep -c '^<6>rtpprobed: info: .*created for' "$WORK/stream.log" || true)
if [ "$nauth" = "$nbad" ] && [ "$nwarn" = "$nbad" ] && [ "$ncreated" -gt 0 ]; then
    ok "priority <= warning: the $nauth auth-failure lines (<4>) and nothing else; $ncreated session lines at <6>"
else
    bad "priority <= warning: $nwarn lines, $nauth auth-failure at <4> (want $nbad), $ncreated session lines at <6>"
fi

# The filter on the forms fail2ban may meet.
cp "$WORK/stream.log" "$WORK/f-raw.log"
sed 's/^<[0-7]>//' "$WORK/stream.log" > "$WORK/message"  # journald's MESSAGE field
sed 's/^/mediahost rtpprobed[4242]: /' "$WORK/message" > "$WORK/f-backend.log"
sed 's/^/Nov 26 04:49:36 mediahost rtpprobed[4242]: /' "$WORK/message" > "$WORK/f-journalctl.log"
sed 's/^/mediahost rtpprobed[4242]: /' "$WORK/stream.log" > "$WORK/f-noprefixstrip.log"
f2b_check "raw stream (prefix in the line)" "$WORK/f-raw.log"
f2b_check "journal entries as the systemd backend reads them" "$WORK/f-backend.log"
f2b_check "journalctl lines" "$WORK/f-journalctl.log"
f2b_check "journal with SyslogLevelPrefix=no (prefix kept after the identifier)" "$WORK/f-noprefixstrip.log"

# ---- JOURNAL_STREAM inherited but naming another file: the present format
: > "$WORK/other"; : > "$WORK/plain.log"
start_with_stream "$WORK/plain.log" "$(stat -c '%d:%i' "$WORK/other")" ||
    { bad "daemon did not start: $(tail -3 "$WORK/plain.log")"; finish; }
curl -s -o /dev/null -H "Authorization: Bearer bad" -X POST -d '{}' "$URL/v1/sessions" || true
stop_daemon || true
if [ -s "$WORK/plain.log" ] && ! grep -q '^<' "$WORK/plain.log" && grep -q '^rtpprobed: warn: auth-failure ' "$WORK/plain.log"; then
    ok "JOURNAL_STREAM naming another file: no prefix ($(wc -l < "$WORK/plain.log") lines as on a terminal)"
else
    bad "JOURNAL_STREAM naming another file: $(head -2 "$WORK/plain.log" | xargs)"
fi

# ---- a real journal, when this machine has one
if [ ! -d /run/systemd/system ] || [ ! -S /run/systemd/journal/stdout ] || ! command -v systemd-run >/dev/null; then
    skip "no systemd journal on this machine (init $(ps -p 1 -o comm=)): lines checked in the stream format only"
    finish
fi
UNIT=rtpprobed-f2bj-$$
want_ip=() nbad=0
systemd-run --quiet --unit="$UNIT" --property=StandardError=journal "$PWD/$BIN/rtpprobed" -c "$WORK/j.conf"
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
traffic
systemctl stop "$UNIT"
journalctl --sync 2>/dev/null || true
journalctl -u "$UNIT" -o cat > "$WORK/jall"
journalctl -u "$UNIT" -p warning -o cat > "$WORK/jwarn"
if [ "$(grep -c 'auth-failure' "$WORK/jwarn" || true)" = "$nbad" ] && ! grep -q 'created for' "$WORK/jwarn" &&
   grep -q 'created for' "$WORK/jall" && ! grep -q '^<' "$WORK/jall"; then
    ok "journal: -p warning shows the $nbad auth-failure lines and no session lines; MESSAGE has no prefix"
else
    bad "journal: -p warning $(wc -l < "$WORK/jwarn") lines, want $nbad auth-failure; all: $(head -2 "$WORK/jall" | xargs)"
fi
fail2ban-regex systemd-journal -m "_SYSTEMD_UNIT=$UNIT.service" "$FILTER" > "$WORK/jf2b" 2>&1 || true
matched=$(sed -n 's/^Lines: .* \([0-9]*\) matched.*/\1/p' "$WORK/jf2b")
if [ "$matched" = "$nbad" ]; then ok "fail2ban-regex systemd-journal: $matched matched"
else bad "fail2ban-regex systemd-journal: matched ${matched:-?}, want $nbad"; fi
UNIT=
finish
