#!/usr/bin/env bash
# Nagios/Icinga by the book (issue 15), with real probe runs against a
# throw-away rtpprobed on loopback:
#  - thresholds that must trip on loopback (-w mos=5:, -w/-c mos=5:, -w
#    loss=@0:0, the old --warn-mos/--crit-mos) and the defaults: for each run,
#    the perfdata is evaluated by the Monitoring Plugins' own Perl library
#    (Monitoring::Plugin::Performance->parse_perfstring, ::Threshold->get_status)
#    and its worst state must be our exit status;
#  - warning and critical in the wrong order: exit 3, one UNKNOWN line on stdout;
#  - -t/--timeout is the whole run's deadline: a daemon that accepts TCP and
#    never answers, a daemon stopped (SIGSTOP) in the middle of a run, the probe
#    itself paused in the media past its deadline, and -t
#    shorter than --duration: exit 3 with "timeout" on the one stdout line, the
#    probe ends before a 30 s reference timer (no absolute timing: the sanitized
#    build is slow; the script waits on the processes, not on sleeps), and the
#    request that hung was given no more than -t (curl's own report under -v).
# BIN: rtpprobe and rtpprobed (default build/asan). Ports: control from 18970,
# media 36300-36399. Exit 0 pass, 1 fail, 77 skipped (with the reason).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-build/asan}

for f in rtpprobe rtpprobed; do
    [ -x "$BIN/$f" ] || { echo "skip t-nagios: $BIN/$f missing (make $BIN/$f)"; exit 77; }
done
perl -MMonitoring::Plugin::Performance -MMonitoring::Plugin::Threshold -e 1 2>/dev/null ||
    { echo "skip t-nagios: Monitoring::Plugin missing (apt-get install libmonitoring-plugin-perl)"; exit 77; }
command -v python3 >/dev/null || { echo "skip t-nagios: python3 missing"; exit 77; }

WORK=$(mktemp -d /tmp/rp-nagios.XXXXXX)
# shellcheck source=scripts/lib-daemon.sh
. scripts/lib-daemon.sh
SILENT_PID=
cleanup() {
    local rc=$?
    set +e
    [ -n "${RP_PID:-}" ] && kill -CONT "$RP_PID" 2>/dev/null
    rp_stop_daemon >/dev/null 2>&1
    [ -n "$SILENT_PID" ] && kill "$SILENT_PID" 2>/dev/null && wait "$SILENT_PID" 2>/dev/null
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT

fails=0
ok()  { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }

PORT=$(rp_free_port 18970)
rp_make_config "$WORK/rtpprobed.conf" "$PORT" 36300 36399
rp_start_daemon "$WORK/rtpprobed.conf" "$WORK/rtpprobed.log"
TOKEN=$(cat "$WORK/token")
SERVER=https://127.0.0.1:$PORT
COMMON=(--cacert "$WORK/cert.pem" --stun none --nagios)

# finish PID: waits until PID or a 30 s reference timer ends, whichever comes
# first; RC is PID's exit status. 1 (PID killed) if the timer came first.
finish() {
    local pid=$1 ref who st
    sleep 30 &
    ref=$!
    set +e
    wait -n -p who "$pid" "$ref"
    st=$?
    set -e
    if [ "$who" = "$pid" ]; then
        RC=$st
        kill "$ref" 2>/dev/null
        wait "$ref" 2>/dev/null || true
        return 0
    fi
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
    RC=killed
    return 1
}

# probe NAME ARGS...: one run in the background, waited on by finish();
# stdout in $WORK/NAME.out, stderr in $WORK/NAME.err.
probe_bg() {
    local name=$1
    shift
    RTPPROBE_TOKEN=$TOKEN "$BIN/rtpprobe" "$@" > "$WORK/$name.out" 2> "$WORK/$name.err" &
    PROBE_PID=$!
}
probe() {
    probe_bg "$@"
    finish "$PROBE_PID" || true
}

# One line on stdout, nothing from the sanitizers.
one_line() { [ "$(wc -l < "$WORK/$1.out")" = 1 ] && ! grep -qE 'Sanitizer|runtime error' "$WORK/$1.err"; }

# The Monitoring Plugins' state of the perfdata on stdin: the worst of every
# figure's Monitoring::Plugin::Threshold->get_status, then each figure. Labels
# and values from Performance->parse_perfstring; its warn/crit where it parses
# them must be the fields as written (its regex has no '@': those ranges it
# drops, so the fields are given to set_thresholds as written).
perf_state() {
    perl -MMonitoring::Plugin::Performance -MMonitoring::Plugin::Threshold -e '
        my $line = <STDIN>;
        chomp $line;
        my (undef, $perf) = split /\s\|\s/, $line, 2;
        defined $perf or die "no perfdata\n";
        my %lib = map { $_->label => $_ } Monitoring::Plugin::Performance->parse_perfstring($perf);
        my ($worst, $verdict, @each) = (0, "none");
        for my $item (split / /, $perf) {
            my ($label, $rest) = split /=/, $item, 2;
            my ($value, $warn, $crit) = split /;/, $rest;
            # The verdict item restates the exit status: judged apart (by the
            # library), so that the figures must agree with it by themselves.
            if ($label eq "verdict") {
                # judged by the library too: 0, 1, 2 must read as themselves
                $verdict = Monitoring::Plugin::Threshold->set_thresholds(warning => $warn, critical => $crit)
                    ->get_status($value);
                $verdict = "$verdict(value $value)" if $value < 3 && $verdict != $value;
                next;
            }
            next if $value eq "U";
            my $p = $lib{$label} or die "the library did not parse $item\n";
            for ([$p->warning, $warn], [$p->critical, $crit]) {
                die "the library read $_->[0] for $_->[1] in $item\n" if defined $_->[0] && $_->[0] ne $_->[1];
            }
            my $st = Monitoring::Plugin::Threshold->set_thresholds(warning => $warn, critical => $crit)
                ->get_status($p->value);
            $worst = $st if $st > $worst;
            push @each, "$label=" . $p->value . ":$st";
        }
        print "$worst verdict=$verdict @each\n";'
}

# has NAME REGEX WHAT: stdout of run NAME matches REGEX (grep -E).
has() {
    if grep -qE -- "$2" "$WORK/$1.out"; then
        ok "$1: $3"
    else
        bad "$1: $3: no /$2/ in $(head -c 400 "$WORK/$1.out")"
    fi
}

# agree NAME WANT: exit status RC equals the library's state of the perfdata's
# figures and the perfdata's verdict item, and is in WANT (a regex of exit codes).
agree() {
    local name=$1 want=$2 line state
    line=$(head -n 1 "$WORK/$name.out")
    state=$(perf_state < "$WORK/$name.out" 2>&1) || state="error: $state"
    if one_line "$name" && [ "${state%% *}" = "$RC" ] && [[ $state == *" verdict=$RC "* ]] &&
        [[ $RC =~ ^($want)$ ]]; then
        ok "$name: exit $RC = Monitoring::Plugin's state ($state): ${line%% |*}"
    else
        bad "$name: exit $RC (want $want), Monitoring::Plugin says: $state; stdout: $line; stderr: $(head -c 300 "$WORK/$name.err")"
    fi
}

# ---- thresholds against real runs
probe defaults --server "$SERVER" "${COMMON[@]}" --duration 2
agree defaults '0|1|2'
probe warn-mos5 --server "$SERVER" "${COMMON[@]}" --duration 2 -w mos=5:
agree warn-mos5 '1|2'
has warn-mos5 'MOS [0-9.]+ \(warn < 5\)' "the cause names the range crossed"
probe crit-mos5 --server "$SERVER" "${COMMON[@]}" --duration 2 --warning mos=5: --critical=mos=5:
agree crit-mos5 '2'
# Only the loss may warn (a loaded sanitized build may be slow: wide ranges
# for the rest); "~" would need quoting against the shell's tilde expansion.
probe zero-loss --server "$SERVER" "${COMMON[@]}" --duration 2 -w loss=@0:0 -w jitter=1000,rtt=1000,mos=1: \
    -c jitter=2000,rtt=2000,mos=1:
agree zero-loss '1'
has zero-loss ' up_loss=0%;@0:0;5;0;100 ' "the perfdata carries -w loss=@0:0 as given"
probe old-options --server "$SERVER" "${COMMON[@]}" --duration 2 --warn-mos 5 --crit-mos 5
agree old-options '2'
has old-options ' up_mos=[0-9.]+;5:;5:;1;5 ' "--warn-mos/--crit-mos 5 are the ranges 5:"

# ---- wrong order: a usage error, one UNKNOWN line
probe order --server "$SERVER" "${COMMON[@]}" --duration 2 -w loss=5 -c loss=1
if [ "$RC" = 3 ] && one_line order && grep -q '^RTPPROBE UNKNOWN - .*wrong order for loss' "$WORK/order.out"; then
    ok "order: -w loss=5 -c loss=1: exit 3, $(cat "$WORK/order.out")"
else
    bad "order: exit $RC, stdout: $(head -c 300 "$WORK/order.out")"
fi
probe order-mos --server "$SERVER" "${COMMON[@]}" --duration 2 -w mos=3.6: -c mos=4:
if [ "$RC" = 3 ] && one_line order-mos && grep -q '^RTPPROBE UNKNOWN - .*wrong order for mos' "$WORK/order-mos.out"; then
    ok "order-mos: -w mos=3.6: -c mos=4:: exit 3, one UNKNOWN line"
else
    bad "order-mos: exit $RC, stdout: $(head -c 300 "$WORK/order-mos.out")"
fi

# ---- -t/--timeout: the whole run's deadline
# timeout_ok NAME: exit 3, one stdout line "RTPPROBE UNKNOWN - ...timeout...".
timeout_ok() {
    [ "$RC" = 3 ] && one_line "$1" && grep -qi '^RTPPROBE UNKNOWN - .*timeout' "$WORK/$1.out"
}
# curl_ms NAME: the longest "timed out after N milliseconds" curl reported
# under -v: the time the request was given, i.e. what bounded it (the run's
# deadline, not a control step's own 10 s), read from the probe, not a clock.
curl_ms() {
    grep -oE 'timed out after [0-9]+ milliseconds' "$WORK/$1.err" | grep -oE '[0-9]+' | sort -n | tail -n 1
}

# -t shorter than the media itself: refused before anything starts (a usage
# error naming the minimum), not a deadline that expires (those follow).
probe too-short --server "$SERVER" "${COMMON[@]}" --duration 30 -t 3
if [ "$RC" = 3 ] && one_line too-short && grep -q '^RTPPROBE UNKNOWN - .*give -t 33 or more' "$WORK/too-short.out"; then
    ok "too-short: --duration 30 -t 3 refused as a usage error: $(cat "$WORK/too-short.out")"
else
    bad "too-short: exit $RC, stdout: $(head -c 300 "$WORK/too-short.out")"
fi

# A daemon that accepts TCP and never answers.
SPORT=$(rp_free_port $((PORT + 1)))
python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
print("ready", flush=True)
held = []
while True:
    held.append(s.accept()[0])
' "$SPORT" > "$WORK/silent.log" &
SILENT_PID=$!
for _ in $(seq 100); do grep -q ready "$WORK/silent.log" && break; sleep 0.1; done
probe silent --server "https://127.0.0.1:$SPORT" "${COMMON[@]}" --duration 1 -t 4 -v
ms=$(curl_ms silent)
if timeout_ok silent && grep -q 'timeout after 4 s' "$WORK/silent.out" && [ -n "$ms" ] && [ "$ms" -le 4000 ]; then
    ok "silent: a daemon that never answers: exit 3 before a 30 s timer, curl gave up after $ms ms (<= 4000): $(cat "$WORK/silent.out")"
else
    bad "silent: exit $RC, curl timed out after ${ms:-?} ms, stdout: $(head -c 300 "$WORK/silent.out")"
fi
probe silent-plain --server "https://127.0.0.1:$SPORT" --cacert "$WORK/cert.pem" --stun none --duration 1 -t 4
if [ "$RC" = 3 ] && [ ! -s "$WORK/silent-plain.out" ] && grep -q '^rtpprobe: timeout after 4 s' "$WORK/silent-plain.err"; then
    ok "silent-plain: without --nagios the timeout is a line on stderr: $(grep -m1 timeout "$WORK/silent-plain.err")"
else
    bad "silent-plain: exit $RC, stdout $(head -c 200 "$WORK/silent-plain.out"), stderr $(head -c 300 "$WORK/silent-plain.err")"
fi

# A real daemon stopped once the session is set up: the stop (or the setup's
# last step) hangs until the run's deadline.
probe_bg stopped --server "$SERVER" "${COMMON[@]}" --duration 2 -t 6 -v
for _ in $(seq 300); do
    grep -q 'PATCH /v1/sessions/' "$WORK/stopped.err" 2>/dev/null && break
    kill -0 "$PROBE_PID" 2>/dev/null || break
    sleep 0.05
done
kill -STOP "$RP_PID"
finish "$PROBE_PID" || true
kill -CONT "$RP_PID"
ms=$(curl_ms stopped)
if timeout_ok stopped && grep -q 'timeout after 6 s' "$WORK/stopped.out" && [ -n "$ms" ] && [ "$ms" -le 6000 ]; then
    ok "stopped: the daemon stopped mid-run: exit 3 before a 30 s timer, curl gave up after $ms ms (<= 6000): $(cat "$WORK/stopped.out")"
else
    bad "stopped: exit $RC, curl timed out after ${ms:-?} ms, stdout: $(head -c 300 "$WORK/stopped.out")"
fi

# The probe itself paused (SIGSTOP) in the media, past its work time: on
# waking, the media loop stops at the deadline (not the stop after it).
probe_bg paused --server "$SERVER" "${COMMON[@]}" --duration 2 -t 6 -v
for _ in $(seq 300); do
    # Two answers: the session (201), then the address announced (200): the media run.
    [ "$(grep -c '^rtpprobe: < HTTP/1.1 ' "$WORK/paused.err" 2>/dev/null)" -ge 2 ] && break
    kill -0 "$PROBE_PID" 2>/dev/null || break
    sleep 0.05
done
kill -STOP "$PROBE_PID"
sleep 6 # a lower bound: the run's 6 s are over when it wakes
kill -CONT "$PROBE_PID"
finish "$PROBE_PID" || true
if timeout_ok paused && grep -q 'timeout after 6 s (--timeout) during the media' "$WORK/paused.out"; then
    ok "paused: the media loop ends at the deadline: $(cat "$WORK/paused.out")"
else
    bad "paused: exit $RC, stdout: $(head -c 300 "$WORK/paused.out")"
fi

[ "$fails" = 0 ] || exit 1
