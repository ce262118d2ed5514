#!/usr/bin/env bash
# The probe's control client against hostile servers, proxies and names
# (issue 12). Called at the end of tests/hostile/run.sh; runs on its own:
#
#   BIN=build/asan tests/hostile/ctlclient.sh
#
# BIN: directory with rtpprobe and rtpprobed (build/asan lets the sanitizers
# watch the probe). The messages it greps for are the contract in docs/usage.md's
# error table: exit 3 and ONE line "rtpprobe: <message>" on stderr.
#
#   14. hostile control server (tests/tools/fakectl.py, HTTPS on loopback):
#       trickle, never answer, no TLS handshake, giant header, giant body, bad
#       chunking, not HTTP, CR LF in the id, 5000-digit id, out-of-range
#       numbers, bitrate 0, nginx's 404, certificate name mismatch, untrusted
#       certificate, refused port, PATCH peer or stop never answered; each: exit
#       3 within --timeout + 1 s (issue 15: -t is the whole run's deadline), one
#       line naming the cause, no sanitizer report. A good
#       session on ONE kept-alive connection; received > sent is unmeasured,
#       never negative; -v redacts the token
#  15. --token-file: a directory, an unreadable file (as nobody), a file others
#      can read (warning, the run goes on)
#  16. HTTP CONNECT proxy (tinyproxy) to a real rtpprobed in a network namespace
#      (also one that wants a user: 407, then user:password in the URL, never shown):
#      https_proxy, --proxy over the environment, no_proxy, a refusing proxy, an
#      unreachable one; ground truth from tinyproxy's log and nftables counters
#      of the SYNs to the daemon by socket owner (the proxy runs as nobody)
#  17. a name whose first address drops SYNs (nftables) and whose second is the
#      daemon: the probe falls through to the second, media included
#
# Sections 16-17 need root, ip netns, nft and tinyproxy (skipped with the reason
# otherwise). Ports: random in 44000-45999; namespaces rpct-<pid>, rpct-<pid>c.
# Debugging with a probe older than issue 12 (--timeout in ms): TIMEOUT_MS=1
# passes the timeouts in ms. Exit status: 0 when no check failed.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
BIN=${BIN:-build}
TO=5   # --timeout for the hostile server, seconds: the whole run, at least DUR + 3 (issue 15)
DUR=2  # --duration
WORK=$(mktemp -d /tmp/rpct-ctl.XXXXXX)
chmod 0711 "$WORK" # nobody (the unreadable-token check, tinyproxy) must reach its own files
. scripts/lib-daemon.sh

pass=0 fail=0 skipped=0
PIDS=() NS=rpct-$$ NSC=rpct-$$c VR=rpct$$r NFT_ROOT=
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
    [ -n "$NFT_ROOT" ] && nft delete table inet "$NFT_ROOT" 2>/dev/null
    ip netns del "$NSC" 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    ip link del "$VR" 2>/dev/null
    rm -rf "/etc/netns/$NSC"
    rmdir /etc/netns 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ok()   { pass=$((pass + 1)); echo "  ok    $*"; }
bad()  { fail=$((fail + 1)); echo "  FAIL  $*"; }
skip() { skipped=$((skipped + 1)); echo "  skip  $*"; }
check() { local what=$1; shift; if "$@" >/dev/null 2>&1; then ok "$what"; else bad "$what"; fi; }

[ -x "$BIN/rtpprobe" ] || { echo "ctlclient: $BIN/rtpprobe missing (make build/asan/rtpprobe)"; exit 1; }
for cmd in python3 openssl jq timeout; do
    command -v "$cmd" >/dev/null || { echo "ctlclient: $cmd is required"; exit 1; }
done
# targ S: a --timeout argument of S seconds (TIMEOUT_MS=1: in ms, for old binaries).
targ() { if [ "${TIMEOUT_MS:-0}" = 1 ]; then echo $(($1 * 1000)); else echo "$1"; fi; }
TOKEN=$(openssl rand -hex 24)
printf '%s\n' "$TOKEN" > "$WORK/token"
SAN='sanitizer|runtime error|AddressSanitizer|LeakSanitizer'

# ---------------------------------------------------------------- running the probe
# probe NAME [--in NS] ARGS...: runs rtpprobe with the token in the environment
# and no proxy variables (unless PROBE_ENV adds some); sets RC, EL (seconds, 2
# decimals), stdout in $WORK/NAME.out, stderr in $WORK/NAME.err. A hard limit
# (timeout -k) keeps a hanging probe from hanging the suite.
probe() {
    local name=$1; shift
    local pre=()
    if [ "${1:-}" = --in ]; then pre=(ip netns exec "$2"); shift 2; fi
    local t0 t1
    t0=$(date +%s.%N)
    "${pre[@]}" timeout -k 2 $((2 * TO + DUR + 20)) env -u https_proxy -u HTTPS_PROXY -u http_proxy -u HTTP_PROXY \
        -u all_proxy -u ALL_PROXY -u no_proxy -u NO_PROXY RTPPROBE_TOKEN="$TOKEN" ${PROBE_ENV:-} \
        "$BIN/rtpprobe" "$@" > "$WORK/$name.out" 2> "$WORK/$name.err"
    RC=$?
    t1=$(date +%s.%N)
    EL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
}
# The message lines: stderr without warnings and sanitizer output.
msglines() { grep -v -i -E '^rtpprobe: warning|deprecat|readable by others' "$1" | grep -v -E "$SAN|^ *#[0-9]|^==|^$" ; }
sanitizer() { grep -E "$SAN" "$1" | head -n 1; }
within() { awk -v e="$1" -v l="$2" 'BEGIN { exit !(e <= l) }'; }

# expect_fail RUN WHAT LIMIT SUBSTR...: the probe run RUN exited 3 within LIMIT
# s with exactly one message line, containing every SUBSTR (case-insensitive),
# and no sanitizer report. WHAT names the check.
expect_fail() {
    local err=$WORK/$1.err name=$2 limit=$3; shift 3
    local note="" n line s san
    n=$(msglines "$err" | wc -l)
    line=$(msglines "$err" | head -n 1 | cut -c 1-240)
    [ "$RC" = 3 ] || note+=" [exit $RC, want 3]"
    within "$EL" "$limit" || note+=" [took $EL s, want <= $limit]"
    [ "$n" = 1 ] || note+=" [$n message lines, want 1]"
    [[ $line == "rtpprobe: "* ]] || note+=" [not \"rtpprobe: <message>\"]"
    for s in "$@"; do grep -qiF -- "$s" <<< "$line" || note+=" [no \"$s\"]"; done
    san=$(sanitizer "$err")
    [ -z "$san" ] || note+=" [sanitizer: $san]"
    if [ -z "$note" ]; then
        ok "$name: exit 3 in $EL s (<= $limit): ${line:-(no message)}"
    else
        bad "$name: exit $RC in $EL s: ${line:-(no message)}$note"
    fi
}

# ---------------------------------------------------------------- fake server
# fake_start MODE [fakectl options]: FPID, FDIR, FPORT; waits for the port file.
fake_start() {
    local mode=$1; shift
    FN=$((${FN:-0} + 1))
    FDIR=$WORK/fake-$FN-$mode
    mkdir "$FDIR"
    python3 tests/tools/fakectl.py "$mode" "$FDIR" --cert "${FCERT:-$WORK/fake.pem}" "$@" > "$FDIR/stdout" 2> "$FDIR/stderr" &
    FPID=$!
    PIDS+=("$FPID")
    FPORT=
    for _ in $(seq 100); do
        [ -s "$FDIR/port" ] && { FPORT=$(cat "$FDIR/port"); return 0; }
        kill -0 "$FPID" 2>/dev/null || break
        sleep 0.1
    done
    bad "fakectl $mode did not start: $(head -c 300 "$FDIR/stderr")"
    return 1
}
fake_stop() { kill "$FPID" 2>/dev/null; wait "$FPID" 2>/dev/null; }
FARGS() { echo --timeout "$(targ $TO)" --duration "$DUR" --stun none --server "https://127.0.0.1:$FPORT" --cacert "$WORK/fake.pem"; }

# hostile MODE LIMIT SUBSTR...: one run against fakectl in MODE.
hostile() {
    local mode=$1; shift
    fake_start "$mode" || return
    # shellcheck disable=SC2046
    probe "$mode" $(FARGS)
    expect_fail "$mode" "$mode" "$@"
    fake_stop
}

echo "== 14. the probe against a hostile control server (--timeout $TO, --duration $DUR)"
# The bound rtpprobe(1) -t states since issue 15: the whole run within S (the
# work by S - 1 s, the DELETE in the last second). The limits leave a second
# for the process' start and exit under the sanitizers.
SETUP=$((TO + 1)) ALL=$((TO + 1))
hostile trickle "$SETUP" "timed out"
hostile never "$SETUP" "timed out"
hostile stall "$SETUP" "timed out"
hostile bighead "$SETUP" "not valid http"
hostile bigbody "$SETUP" "too large"
hostile badchunk "$SETUP" "not valid http"
hostile nothttp "$SETUP" "not valid http"
hostile bigid "$SETUP" "breaks the contract" "id"
check "  ...bigid: no later request used any id (requests: $(jq -r .method "$FDIR/requests.jsonl" 2>/dev/null | tr '\n' ' '))" \
    test "$(jq -s 'map(select(.method != "POST")) | length' "$FDIR/requests.jsonl" 2>/dev/null)" = 0
hostile crlfid "$SETUP" "breaks the contract" "id"
check "  ...crlfid: no request carried the injected header or a CR LF in its path" \
    jqe -s 'all(.[]; (.headers | all(test("^x-injected"; "i") | not)) and (.path | test("[\r\n]") | not))' \
    "$FDIR/requests.jsonl"
hostile range-ssrc "$SETUP" "breaks the contract" "ssrc_up"
hostile range-port "$SETUP" "breaks the contract" "media_port"
hostile range-float "$SETUP" "breaks the contract" "bitrate_bps"
hostile bitrate0 "$SETUP" "breaks the contract" "bitrate_bps"
hostile nginx404 "$SETUP" "path"
fake_start nginx404 && {
    # shellcheck disable=SC2046
    probe nginx404-nagios $(FARGS) --nagios
    line=$(head -n 1 "$WORK/nginx404-nagios.out")
    nagios_ok() { [ "$RC" = 3 ] && grep -qiE '^RTPPROBE UNKNOWN - .*path' "$WORK/nginx404-nagios.out" && [ "$(wc -l < "$WORK/nginx404-nagios.out")" = 1 ]; }
    check "nginx404 --nagios: exit $RC, stdout '${line:0:160}'" nagios_ok
    fake_stop
}
# The daemon's error text is the server's: no escape, no second line, no '|'
# before Nagios perfdata may come through.
fake_start escape && {
    # shellcheck disable=SC2046
    probe escape $(FARGS)
    # shellcheck disable=SC2046
    probe escape-nagios $(FARGS) --nagios
    clean_ok() {
        ! grep -q $'\x1b' "$WORK/escape.err" "$WORK/escape-nagios.out" &&
            [ "$(wc -l < "$WORK/escape-nagios.out")" = 1 ] &&
            grep -q '^RTPPROBE UNKNOWN - .*no?\[2J?\]0;owned???RTPPROBE OK - fine / up_loss=0%' "$WORK/escape-nagios.out" &&
            [ "$(msglines "$WORK/escape.err" | wc -l)" = 1 ] && [ "$RC" = 3 ]
    }
    check "escape (ESC, BEL, CR LF, '|' in the daemon's error): one clean line each: $(msglines "$WORK/escape.err" | head -n 1 | cut -c 1-120 | cat -v); nagios: $(head -n 1 "$WORK/escape-nagios.out" | cut -c 1-120 | cat -v)" \
        clean_ok
    fake_stop
}
# The certificate names other.test and 198.18.9.9; its CA (itself) is given.
FCERT=$WORK/other.pem fake_start good --names DNS:other.test,IP:198.18.9.9 && {
    probe mismatch --timeout "$(targ $TO)" --duration "$DUR" --stun none --server "https://127.0.0.1:$FPORT" --cacert "$WORK/other.pem"
    expect_fail mismatch "mismatch (certificate for other.test, 198.18.9.9; --cacert of it)" "$SETUP" "does not match" "other.test" "198.18.9.9" "127.0.0.1"
    fake_stop
}
fake_start good && {
    probe untrusted --timeout "$(targ $TO)" --duration "$DUR" --stun none --server "https://127.0.0.1:$FPORT"
    expect_fail untrusted "untrusted certificate (no --cacert)" "$SETUP" "--cacert"
    fake_stop
}
free=$(rp_free_port $((44000 + RANDOM % 1800)))
probe refused --timeout "$(targ $TO)" --duration "$DUR" --stun none --server "https://127.0.0.1:$free"
expect_fail refused "refused (nobody on 127.0.0.1:$free)" "$SETUP" "refused"
# Setup ends with the PATCH peer: its deadline covers the clean-up DELETE too.
hostile patchnever "$SETUP" "timed out"
# The stop hangs until the run's deadline.
hostile stopnever "$ALL" "timeout after $TO s" "timed out"

# A good session: the report, and all four requests on one kept-alive connection.
fake_start good && {
    # shellcheck disable=SC2046
    probe good $(FARGS) --json
    conns=$(cat "$FDIR/conns" 2>/dev/null)
    reqs=$(jq -r -s 'map("\(.method)@\(.conn)") | join(" ")' "$FDIR/requests.jsonl" 2>/dev/null)
    sid=$(jq -r -s 'map(select(.method != "POST"))[0].path // "" | split("/")[-1]' "$FDIR/requests.jsonl" 2>/dev/null)
    san=$(sanitizer "$WORK/good.err")
    good_ok() {
        [ "$RC" -le 2 ] && [ -z "$san" ] && within "$EL" "$ALL" && [ -n "$sid" ] &&
            jqe --arg id "$sid" '.session_id == $id and .upstream.measured and .upstream.received > 0' "$WORK/good.out"
    }
    check "good: a report for the server's session $sid (exit $RC in $EL s, <= $ALL; verdict $(jq -r .verdict "$WORK/good.out" 2>/dev/null), upstream received $(jq -r .upstream.received "$WORK/good.out" 2>/dev/null))${san:+; sanitizer: $san}" \
        good_ok
    check "good: one TCP connection for the run ($conns accepted; requests: $reqs)" \
        test "$conns" = 1 -a "$reqs" = "POST@1 PATCH@1 PATCH@1 DELETE@1"
    fake_stop
}
fake_start good && {
    # shellcheck disable=SC2046
    probe verbose $(FARGS) -v
    verbose_ok() { grep -q 'POST /v1/sessions' "$WORK/verbose.err" && grep -qi 'authorization' "$WORK/verbose.err" && ! grep -qF "$TOKEN" "$WORK/verbose.err"; }
    check "-v: the exchange on stderr ($(grep -c . "$WORK/verbose.err") lines, 'POST /v1/sessions' $(grep -c 'POST /v1/sessions' "$WORK/verbose.err") x, 'Authorization' $(grep -ci authorization "$WORK/verbose.err") x), the token $(grep -cF "$TOKEN" "$WORK/verbose.err") x (want 0)" \
        verbose_ok
    fake_stop
}
fake_start rxgtsent && {
    # shellcheck disable=SC2046
    probe rxgtsent $(FARGS) --json
    expect_fail rxgtsent "rxgtsent (received = sent + 7)" "$ALL" "contradict themselves (upstream.received" "packets the probe sent)"
    check "  ...rxgtsent: the JSON report still printed: upstream.measured $(jq -c .upstream.measured "$WORK/rxgtsent.out" 2>/dev/null), negative numbers: $(jq -c '[..|numbers|select(. < 0)]' "$WORK/rxgtsent.out" 2>/dev/null)" \
        jqe '([..|numbers|select(. < 0)] | length == 0) and .upstream.measured == false and .verdict == "unknown" and (.host_figures_error | test("^upstream.received [0-9]+ is more than the [0-9]+ packets the probe sent$"))' "$WORK/rxgtsent.out"
    fake_stop
}
# 1e300 in the final document's float figures: whatever the verdict, no
# undefined behaviour (float-cast-overflow) and no negative figure.
fake_start final-float && {
    # shellcheck disable=SC2046
    probe final-float $(FARGS) --json
    san=$(sanitizer "$WORK/final-float.err")
    ff_ok() {
        [ "$RC" -le 3 ] && [ -z "$san" ] && within "$EL" "$ALL" &&
            { [ ! -s "$WORK/final-float.out" ] || jqe '[..|numbers|select(. < 0)] | length == 0' "$WORK/final-float.out"; }
    }
    check "final-float (1e300 jitter, IPDV, delay): exit $RC in $EL s (<= $ALL), $(msglines "$WORK/final-float.err" | head -n 1 | cut -c 1-160)${san:+; sanitizer: $san}" \
        ff_ok
    fake_stop
}
probe deprecated --timeout $((TO * 1000)) --duration "$DUR" --stun none --server "https://127.0.0.1:$free"
depr_ok() { grep -qi deprecat "$WORK/deprecated.err" && grep -qi refused "$WORK/deprecated.err"; }
check "--timeout $((TO * 1000)) (old ms form): a deprecation warning ($(grep -i -m1 deprecat "$WORK/deprecated.err" | cut -c 1-120)), then the run" depr_ok

# ---------------------------------------------------------------- 15. token file
echo "== 15. --token-file"
TARGET=(--timeout "$(targ $TO)" --duration "$DUR" --stun none --server "https://127.0.0.1:$free")
mkdir "$WORK/tokdir"
probe tokdir --token-file "$WORK/tokdir" "${TARGET[@]}"
expect_fail tokdir "token file is a directory" "$SETUP" "is a directory"
# A FIFO nobody writes to: refused at once, not read (that would block before any deadline).
mkfifo "$WORK/tokfifo"
probe tokfifo --token-file "$WORK/tokfifo" "${TARGET[@]}"
expect_fail tokfifo "token file is a FIFO" "$SETUP" "not a regular file"
# A token that is no bearer token (a space, an escape) is refused before anything is sent.
printf 'tok en\033[31m\n' > "$WORK/tokbad"; chmod 600 "$WORK/tokbad"
probe tokbad --token-file "$WORK/tokbad" "${TARGET[@]}"
expect_fail tokbad "token with a space and an escape" "$SETUP" "RFC 6750"
install -m 0000 "$WORK/token" "$WORK/tok000"
# root reads a mode-0000 file anyway: the check drops to nobody.
RUNAS=() RUNAS_WHY=
if [ "$(id -u)" = 0 ]; then
    if command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
        RUNAS=(setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups)
        "${RUNAS[@]}" test -x "$BIN/rtpprobe" || RUNAS_WHY="nobody cannot run $BIN/rtpprobe (a directory on the way is closed to others)"
    else
        RUNAS_WHY="running as root (EACCES never happens) and no setpriv or user nobody to drop to"
    fi
fi
if [ -n "$RUNAS_WHY" ]; then
    skip "unreadable token file: $RUNAS_WHY"
else
    t0=$(date +%s.%N)
    "${RUNAS[@]}" env -u RTPPROBE_TOKEN "$BIN/rtpprobe" --token-file "$WORK/tok000" "${TARGET[@]}" \
        > "$WORK/tok000.out" 2> "$WORK/tok000.err"
    RC=$?
    EL=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
    expect_fail tok000 "token file mode 0000, read as uid $("${RUNAS[@]}" id -u)" "$SETUP" "permission denied"
fi
install -m 0644 "$WORK/token" "$WORK/tok644"
probe tok644 --token-file "$WORK/tok644" "${TARGET[@]}"
tok644_ok() { [ "$(grep -ci 'readable by others' "$WORK/tok644.err")" = 1 ] && grep -qi refused "$WORK/tok644.err"; }
check "token file mode 0644: warns ($(grep -i -m1 'readable by others' "$WORK/tok644.err" | cut -c 1-120)) and goes on to the server ('refused')" tok644_ok
install -m 0600 "$WORK/token" "$WORK/tok600"
probe tok600 --token-file "$WORK/tok600" "${TARGET[@]}"
tok600_ok() { ! grep -qi 'readable by others' "$WORK/tok600.err" && grep -qi refused "$WORK/tok600.err"; }
check "token file mode 0600: no warning, the run goes on ($(msglines "$WORK/tok600.err" | head -n 1 | cut -c 1-100))" tok600_ok

# ---------------------------------------------------------------- namespaces
# rpct-PID: the daemon on 198.18.77.1 (veth to the root namespace: .2/30) and
# .5/30 (veth to rpct-PIDc: .6/30). .5 drops everything sent to it (nftables).
NSOK=1 NSWHY=
if [ "$(id -u)" != 0 ]; then NSOK=0 NSWHY="needs root"
elif ! command -v ip >/dev/null || ! command -v nft >/dev/null; then NSOK=0 NSWHY="needs ip and nft"
elif ! ip netns add "$NS" 2>/dev/null; then NSOK=0 NSWHY="cannot create network namespace $NS"
fi
D_PID=
if [ "$NSOK" = 1 ]; then
    if ! { ip netns add "$NSC" &&
        ip link add "$VR" type veth peer name "rpct$$d" netns "$NS" &&
        ip addr add 198.18.77.2/30 dev "$VR" && ip link set "$VR" up &&
        ip -n "$NS" addr add 198.18.77.1/30 dev "rpct$$d" && ip -n "$NS" link set "rpct$$d" up &&
        ip -n "$NS" link set lo up &&
        ip -n "$NS" link add "rpct$$e" type veth peer name "rpct$$c" netns "$NSC" &&
        ip -n "$NS" addr add 198.18.77.5/30 dev "rpct$$e" && ip -n "$NS" link set "rpct$$e" up &&
        ip -n "$NSC" addr add 198.18.77.6/30 dev "rpct$$c" && ip -n "$NSC" link set "rpct$$c" up &&
        ip -n "$NSC" link set lo up && ip -n "$NSC" route add default via 198.18.77.5; }; then
        NSOK=0 NSWHY="cannot build the veth pairs"
    fi
fi
if [ "$NSOK" = 1 ]; then
    CTL=$((44000 + RANDOM % 1900))
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=rpct-fall.test" \
        -addext "subjectAltName=DNS:rpct-fall.test,IP:198.18.77.1" -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
    rp_make_config "$WORK/d.conf" "$CTL" 45900 45999 tls
    sed -i -e "s/listen = \"127.0.0.1:$CTL\"/listen = \"198.18.77.1:$CTL\"/" -e 's/bind = "127.0.0.1"/bind = "198.18.77.1"/' "$WORK/d.conf"
    echo 'stun: { listen=""; };' >> "$WORK/d.conf"
    ip netns exec "$NS" "$BIN/rtpprobed" -c "$WORK/d.conf" 2> "$WORK/d.log" &
    D_PID=$!
    PIDS+=("$D_PID")
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/198.18.77.1/$CTL") 2>/dev/null && break
        kill -0 "$D_PID" 2>/dev/null || break
        sleep 0.1
    done
    (exec 3<>"/dev/tcp/198.18.77.1/$CTL") 2>/dev/null || { NSOK=0 NSWHY="rtpprobed in $NS did not start: $(head -c 200 "$WORK/d.log")"; }
fi
DARGS=(--timeout "$(targ $TO)" --duration "$DUR" --stun none --cacert "$WORK/cert.pem" --json)

# ---------------------------------------------------------------- 16. proxy
echo "== 16. HTTP CONNECT proxy (tinyproxy) to rtpprobed at 198.18.77.1:${CTL:-?} (namespace $NS)"
# proxy_start NAME PORT CONNECTPORT [LINE]: a tinyproxy in the foreground (-d)
# as nobody; LINE is one more line of its configuration.
proxy_start() {
    local name=$1 port=$2 allow=$3 extra=${4:-} dir=$WORK/$1
    mkdir -p "$dir" && chown nobody "$dir"
    cat > "$dir/conf" <<EOF
User nobody
Group $(id -gn nobody)
Port $port
Listen 127.0.0.1
Timeout 30
LogFile "$dir/log"
LogLevel Info
PidFile "$dir/pid"
MaxClients 20
Allow 127.0.0.1
ConnectPort $allow
$extra
EOF
    tinyproxy -d -c "$dir/conf" > "$dir/stdout" 2>&1 &
    PPID_LAST=$!
    PIDS+=("$PPID_LAST")
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        kill -0 "$PPID_LAST" 2>/dev/null || break
        sleep 0.1
    done
    bad "tinyproxy $name did not start: $(tail -c 300 "$dir/stdout" "$dir/log" 2>/dev/null)"
    return 1
}
# SYNs to the daemon's control port from the root namespace, by socket owner:
# the proxy runs as nobody, the probe as root.
syns() { nft -j list counter inet "$NFT_ROOT" "$1" 2>/dev/null | jq '.nftables[] | select(.counter) | .counter.packets'; }
connects() { grep -c "CONNECT 198.18.77.1:$CTL" "$WORK/$1/log" 2>/dev/null; }
if [ "$NSOK" != 1 ]; then
    skip "proxy: $NSWHY"
elif ! command -v tinyproxy >/dev/null; then
    skip "proxy: tinyproxy is not installed"
else
    P1=$(rp_free_port $((44000 + RANDOM % 1800))); P2=$(rp_free_port $((P1 + 1)))
    if proxy_start proxy-ok "$P1" "$CTL" && proxy_start proxy-no "$P2" $((CTL + 1)); then
        NOBODY_UID=$(id -u nobody)
        UIDS=$(awk '/^Uid:/ { print $2 }' "/proc/$PPID_LAST/status" 2>/dev/null)
        NFT_ROOT=rpct_$$
        if [ "$UIDS" = "$NOBODY_UID" ] && nft -f - 2>/dev/null <<EOF
table inet $NFT_ROOT {
    counter viaproxy { }
    counter direct { }
    chain out {
        type filter hook output priority 0;
        ip daddr 198.18.77.1 tcp dport $CTL tcp flags & (syn | ack) == syn meta skuid $NOBODY_UID counter name viaproxy
        ip daddr 198.18.77.1 tcp dport $CTL tcp flags & (syn | ack) == syn meta skuid != $NOBODY_UID counter name direct
    }
}
EOF
        then :; else
            echo "       (no socket-owner ground truth: tinyproxy runs as uid ${UIDS:-?}, or nft refused the table)"
            NFT_ROOT=
        fi
        truth() { # the SYN counts since the last reset, as words
            [ -n "$NFT_ROOT" ] || { echo "no nft counts"; return; }
            echo "SYNs to the daemon: $(syns viaproxy) from the proxy, $(syns direct) from the probe itself"
        }
        nreset() { [ -n "$NFT_ROOT" ] && nft reset counters table inet "$NFT_ROOT" >/dev/null; }
        viaproxy_only() { [ -z "$NFT_ROOT" ] || { [ "$(syns viaproxy)" -ge 1 ] && [ "$(syns direct)" = 0 ]; }; }
        viadirect_only() { [ -z "$NFT_ROOT" ] || { [ "$(syns viaproxy)" = 0 ] && [ "$(syns direct)" -ge 1 ]; }; }
        report_ok() { [ "$RC" = 0 ] && jqe '.verdict == "pass" and .upstream.received > 0' "$WORK/$1.out" >/dev/null 2>&1; }
        summary() { echo "exit $RC in $EL s, verdict $(jq -r .verdict "$WORK/$1.out" 2>/dev/null), upstream received $(jq -r .upstream.received "$WORK/$1.out" 2>/dev/null)$(msglines "$WORK/$1.err" | head -n 1 | cut -c 1-140 | sed 's/^/, /')"; }

        # The harness itself, with curl: the good proxy carries a CONNECT to the
        # daemon, the other answers it with 403.
        hz=$(env -u no_proxy -u NO_PROXY curl -s --max-time 10 --cacert "$WORK/cert.pem" -x "http://127.0.0.1:$P1" -o /dev/null \
            -w '%{http_connect} %{http_code}' "https://198.18.77.1:$CTL/healthz")
        check "harness: curl through the good proxy: CONNECT $(echo "$hz" | cut -d' ' -f1), /healthz $(echo "$hz" | cut -d' ' -f2)" test "$hz" = "200 200"
        hz=$(env -u no_proxy -u NO_PROXY curl -s --max-time 10 --cacert "$WORK/cert.pem" -x "http://127.0.0.1:$P2" -o /dev/null \
            -w '%{http_connect}' "https://198.18.77.1:$CTL/healthz")
        check "harness: curl through the refusing proxy: CONNECT $hz" test "$hz" = 403
        # through NAME PROXY-DIR: the run passed and the proxy carried it.
        through() { report_ok "$1" && [ $(( $(connects "$2") - c0 )) -ge 1 ] && viaproxy_only; }
        nreset; c0=$(connects proxy-ok)
        PROBE_ENV="https_proxy=http://127.0.0.1:$P1" probe proxy-env --server "https://198.18.77.1:$CTL" "${DARGS[@]}"
        check "https_proxy=http://127.0.0.1:$P1: $(summary proxy-env); tinyproxy logged $(( $(connects proxy-ok) - c0 )) CONNECT 198.18.77.1:$CTL; $(truth)" \
            through proxy-env proxy-ok

        nreset; c0=$(connects proxy-no)
        PROBE_ENV="https_proxy=http://127.0.0.1:$P2" probe proxy-refuses --server "https://198.18.77.1:$CTL" "${DARGS[@]}"
        expect_fail proxy-refuses "a proxy that refuses port $CTL (tinyproxy ConnectPort $((CTL + 1)))" "$SETUP" "proxy" "403"
        refused_there() { [ $(( $(connects proxy-no) - c0 )) -ge 1 ] && { [ -z "$NFT_ROOT" ] || [ "$(syns direct)" = 0 ]; }; }
        check "  ...the refusing proxy got the CONNECT ($(( $(connects proxy-no) - c0 )) logged); $(truth)" refused_there

        nreset; c0=$(connects proxy-ok)
        PROBE_ENV="https_proxy=http://127.0.0.1:$P2" probe proxy-opt --proxy "http://127.0.0.1:$P1" --server "https://198.18.77.1:$CTL" "${DARGS[@]}"
        check "--proxy http://127.0.0.1:$P1 over https_proxy=(the refusing one): $(summary proxy-opt); $(( $(connects proxy-ok) - c0 )) CONNECT logged by the good proxy; $(truth)" \
            through proxy-opt proxy-ok

        nreset; c0=$(connects proxy-no)
        PROBE_ENV="https_proxy=http://127.0.0.1:$P2 no_proxy=198.18.77.1" probe proxy-noproxy --server "https://198.18.77.1:$CTL" "${DARGS[@]}"
        direct_ok() { report_ok proxy-noproxy && [ "$(connects proxy-no)" = "$c0" ] && viadirect_only; }
        check "no_proxy=198.18.77.1 (https_proxy the refusing one): $(summary proxy-noproxy); $(( $(connects proxy-no) - c0 )) CONNECT at the proxy; $(truth)" \
            direct_ok

        # A proxy that wants a user: without one the message says so; with it
        # the run goes through, and the password shows nowhere, not even in -v.
        P3=$(rp_free_port $((P2 + 1)))
        if proxy_start proxy-auth "$P3" "$CTL" "BasicAuth alice s3cr3t"; then
            probe proxy-noauth --proxy "http://127.0.0.1:$P3" --server "https://198.18.77.1:$CTL" "${DARGS[@]}"
            expect_fail proxy-noauth "a proxy that wants a user (tinyproxy BasicAuth)" "$SETUP" "asks for authentication" "user:password"
            nreset; c0=$(connects proxy-auth)
            probe proxy-authok -v --proxy "http://alice:s3cr3t@127.0.0.1:$P3" --server "https://198.18.77.1:$CTL" "${DARGS[@]}"
            auth_ok() { report_ok proxy-authok && [ $(( $(connects proxy-auth) - c0 )) -ge 1 ] && viaproxy_only &&
                        ! grep -q s3cr3t "$WORK/proxy-authok.err" "$WORK/proxy-authok.out"; }
            check "--proxy http://alice:s3cr3t@...: $(summary proxy-authok); $(( $(connects proxy-auth) - c0 )) CONNECT logged; the password $(grep -c s3cr3t "$WORK/proxy-authok.err") x in the -v trace (want 0); $(truth)" \
                auth_ok
        fi

        dead=$(rp_free_port $((P3 + 1)))
        probe proxy-dead --proxy "http://127.0.0.1:$dead" --server "https://198.18.77.1:$CTL" "${DARGS[@]}"
        expect_fail proxy-dead "--proxy http://127.0.0.1:$dead (nobody listens)" "$SETUP" "proxy"
    fi
fi

# ---------------------------------------------------------------- 17. every address
echo "== 17. a name whose first address is dead (SYN dropped) falls through to the second"
if [ "$NSOK" != 1 ]; then
    skip "fall-through: $NSWHY"
else
    ip netns exec "$NS" nft -f - <<EOF
table inet rpct {
    counter deadsyn { }
    chain in {
        type filter hook input priority 0;
        ip daddr 198.18.77.5 tcp flags & (syn | ack) == syn counter name deadsyn drop
        ip daddr 198.18.77.5 drop
    }
}
EOF
    [ $? = 0 ] || bad "nft table in $NS"
    # Mounted over /etc/hosts by ip netns exec. glibc sorts the answers (RFC
    # 6724 rule 9: longest prefix with the source 198.18.77.6/30): .5 shares
    # its /30, so it stays first.
    mkdir -p "/etc/netns/$NSC"
    printf '127.0.0.1 localhost\n198.18.77.5 rpct-fall.test\n198.18.77.1 rpct-fall.test\n' > "/etc/netns/$NSC/hosts"
    order=$(ip netns exec "$NSC" getent ahosts rpct-fall.test | awk '$2 == "STREAM" { print $1 }' | tr '\n' ' ')
    echo "       getent ahosts rpct-fall.test in $NSC: $order"
    if [ "${order%% *}" != 198.18.77.5 ]; then
        bad "the dead address 198.18.77.5 does not come first ($order): the fall-through is not tested"
    else
        # The harness itself: curl in the namespace falls through to the daemon.
        hz=$(ip netns exec "$NSC" curl -s --max-time 8 --connect-timeout 4 --cacert "$WORK/cert.pem" -o /dev/null -w '%{http_code} %{remote_ip} %{time_total}' \
            "https://rpct-fall.test:$CTL/healthz")
        check "harness: curl in $NSC: /healthz $hz (status, address used, seconds)" test "${hz% *}" = "200 198.18.77.1"
        ip netns exec "$NS" nft reset counters table inet rpct >/dev/null
        # The whole run (issue 15): the dead address' share of the setup, the media, the stop.
        T6=10
        probe fall --in "$NSC" --timeout "$(targ $T6)" --duration "$DUR" --stun none --cacert "$WORK/cert.pem" --json \
            --server "https://rpct-fall.test:$CTL"
        dsyn=$(ip netns exec "$NS" nft -j list counter inet rpct deadsyn | jq '.nftables[] | select(.counter) | .counter.packets')
        lim=$((T6 + DUR + 3))
        fall_ok() { [ "$RC" = 0 ] && within "$EL" "$lim" && jqe '.upstream.received > 0 and .downstream.received > 0' "$WORK/fall.out"; }
        check "fall-through: exit $RC in $EL s (<= $lim), verdict $(jq -r .verdict "$WORK/fall.out" 2>/dev/null), upstream received $(jq -r .upstream.received "$WORK/fall.out" 2>/dev/null) at the daemon (198.18.77.1), downstream received $(jq -r .downstream.received "$WORK/fall.out" 2>/dev/null)$(msglines "$WORK/fall.err" | head -n 1 | cut -c 1-140 | sed 's/^/; /')" \
            fall_ok
        check "  ...the dead address was really tried first: $dsyn SYNs dropped at 198.18.77.5" test "${dsyn:-0}" -ge 1
        san=$(sanitizer "$WORK/fall.err")
        check "  ...no sanitizer report${san:+: $san}" test -z "$san"
    fi
fi

if [ -n "$D_PID" ]; then
    kill -TERM "$D_PID" 2>/dev/null
    rc=0; wait "$D_PID" || rc=$?
    PIDS=("${PIDS[@]/$D_PID}")
    if grep -q Sanitizer "$WORK/d.log"; then
        bad "rtpprobed in $NS: sanitizer report: $(grep -m1 -E 'ERROR: |SUMMARY: ' "$WORK/d.log")"
    else
        check "rtpprobed in $NS: SIGTERM, exit status $rc" test "$rc" = 0
    fi
fi

echo "ctlclient: $pass passed, $fail failed, $skipped skipped"
[ "$fail" = 0 ]
