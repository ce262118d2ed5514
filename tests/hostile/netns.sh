#!/usr/bin/env bash
# Run by tests/hostile/run.sh inside a private network namespace (unshare -n):
#
#   unshare -n tests/hostile/netns.sh BIN WORK
#
# lo gets 198.18.0.1-4 (RFC 2544 benchmarking space), so that the daemon sees
# a client that is not loopback without any traffic leaving the namespace.
# Two daemons listen on 198.18.0.1: plain HTTP (8080) and TLS (8443).
# Prints one line per check: "ok|bad|limit|skip TEXT"; run.sh counts them.
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN=$1
WORK=$2
. scripts/lib-daemon.sh

say() { local k=$1; shift; printf '%s %s\n' "$k" "$*"; }
verdict() { local what=$1; shift; if "$@" >/dev/null 2>&1; then say ok "$what"; else say bad "$what"; fi; }

if ! ip link set lo up 2>/dev/null; then
    say skip "cannot configure lo in the namespace"
    exit 0
fi
for a in 1 2 3 4; do ip addr add "198.18.0.$a/32" dev lo || { say skip "cannot add 198.18.0.$a to lo"; exit 0; }; done

PIDS=()
cleanup() { local p; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done; }
trap cleanup EXIT

# conf FILE PORT PMIN PMAX tls|plain: on 198.18.0.1, 1 request/s per client, burst 15.
conf() {
    rp_make_config "$1" "$2" "$3" "$4" "$5"
    sed -i -e "s/listen = \"127.0.0.1:$2\"/listen = \"198.18.0.1:$2\"/" -e 's/bind = "127.0.0.1"/bind = "198.18.0.1"/' \
        -e 's/^limits:.*/limits: { max_sessions = 5; max_duration = 60; requests_per_second = 1; request_burst = 15; };/' "$1"
    echo 'stun: { listen=""; };' >> "$1"
}
conf "$WORK/ns-plain.conf" 8080 46000 46099 plain
conf "$WORK/ns-tls.conf" 8443 46100 46199 tls
rp_start_daemon "$WORK/ns-plain.conf" "$WORK/ns-plain.log" >/dev/null || { say bad "plain daemon in the namespace did not start: $(head -3 "$WORK/ns-plain.log")"; exit 0; }
PIDS+=("$RP_PID"); PLAIN_PID=$RP_PID
rp_start_daemon "$WORK/ns-tls.conf" "$WORK/ns-tls.log" >/dev/null || { say bad "TLS daemon in the namespace did not start: $(head -3 "$WORK/ns-tls.log")"; exit 0; }
PIDS+=("$RP_PID"); TLS_PID=$RP_PID
TOKEN=$(cat "$WORK/token")
AUTH="Authorization: Bearer $TOKEN"
P=http://198.18.0.1:8080
T=https://198.18.0.1:8443
ID=0123456789abcdef0123456789abcdef

# nreq SRC EXPECT NAME CURL-ARGS...: status and JSON error body.
nreq() {
    local src=$1 want=$2 name=$3; shift 3
    local code
    code=$(curl -sk --max-time 5 --interface "$src" -o "$WORK/ns.body" -w '%{http_code}' "$@" 2>/dev/null)
    local msg
    msg=$(jq -r '.error // empty' "$WORK/ns.body" 2>/dev/null | head -c 90)
    if [ "$code" = "$want" ]; then say ok "$name from $src: $code ${msg:+($msg)}"; else
        say bad "$name from $src: $code (want $want) $(head -c 120 "$WORK/ns.body" | tr -d '\n')"; fi
}

# Plain HTTP from 198.18.0.2 (not loopback): every /v1 route refused before the
# token is even looked at, with or without one.
nreq 198.18.0.2 403 "plain POST /v1/sessions with the right token" -X POST -H "$AUTH" -d '{"codec":"pcmu"}' "$P/v1/sessions"
nreq 198.18.0.2 403 "plain POST /v1/sessions without a token" -X POST -d '{"codec":"pcmu"}' "$P/v1/sessions"
nreq 198.18.0.2 403 "plain GET /v1/sessions/ID" -H "$AUTH" "$P/v1/sessions/$ID"
nreq 198.18.0.2 403 "plain PATCH /v1/sessions/ID" -X PATCH -H "$AUTH" -d '{"stop":true}' "$P/v1/sessions/$ID"
nreq 198.18.0.2 403 "plain DELETE /v1/sessions/ID" -X DELETE -H "$AUTH" "$P/v1/sessions/$ID"
nreq 198.18.0.2 403 "plain GET /v1/sessions (a 405 over TLS)" -H "$AUTH" "$P/v1/sessions"
nreq 198.18.0.2 200 "plain GET /healthz" "$P/healthz"
nreq 198.18.0.1 403 "plain POST /v1/sessions from the host's own non-loopback address" -X POST -H "$AUTH" \
    -d '{"codec":"pcmu"}' "$P/v1/sessions"
# X-Forwarded-For is trusted from a local proxy only: claiming loopback from
# 198.18.0.2 must not open /v1 or /metrics.
nreq 198.18.0.2 403 "plain POST /v1/sessions with X-Forwarded-For: 127.0.0.1" -X POST -H "$AUTH" \
    -H "X-Forwarded-For: 127.0.0.1" -d '{"codec":"pcmu"}' "$P/v1/sessions"
nreq 198.18.0.4 403 "plain GET /metrics, no token, X-Forwarded-For: 127.0.0.1" -H "X-Forwarded-For: 127.0.0.1" "$P/metrics"
# Control: the same request from loopback is served.
code=$(curl -s --max-time 5 --interface 127.0.0.1 -o "$WORK/ns.body" -w '%{http_code}' -X POST -H "$AUTH" \
    -d '{"codec":"pcmu","duration_s":5}' "$P/v1/sessions")
verdict "control: plain POST from 127.0.0.1 (loopback peer) to the same daemon: $code, keys handed out ($(jq -r 'has("auth_key")' "$WORK/ns.body" 2>/dev/null))" \
    bash -c "[ '$code' = 201 ] && jqe '.auth_key | length == 44' '$WORK/ns.body'"
sid=$(jq -r '.id // empty' "$WORK/ns.body" 2>/dev/null)
[ -n "$sid" ] && curl -s -o /dev/null --interface 127.0.0.1 -H "$AUTH" -X DELETE "$P/v1/sessions/$sid"

# Rate limit: the bucket is the real peer's, whatever X-Forwarded-For says.
# 30 requests from 198.18.0.3, each naming another client, burst 15 at 1/s.
: > "$WORK/ns-rate.codes"
t0=$(date +%s.%N)
for i in $(seq 1 30); do
    curl -s --max-time 5 --interface 198.18.0.3 -o /dev/null -w '%{http_code}\n' -H "X-Forwarded-For: 203.0.113.$i" \
        "$P/healthz" >> "$WORK/ns-rate.codes"
done
el=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
n200=$(grep -c '^200$' "$WORK/ns-rate.codes"); n429=$(grep -c '^429$' "$WORK/ns-rate.codes")
maxok=$(awk -v e="$el" 'BEGIN { printf "%d", 15 + e + 1 }')
verdict "30 plain /healthz from 198.18.0.3 in $el s, X-Forwarded-For 203.0.113.1..30: $n200 x 200, $n429 x 429 (one bucket: want 15..$maxok allowed)" \
    test "$n200" -ge 15 -a "$n200" -le "$maxok" -a $((n200 + n429)) = 30
c=$(curl -s --max-time 5 --interface 198.18.0.4 -o /dev/null -w '%{http_code}' -H "X-Forwarded-For: 198.18.0.3" "$P/healthz")
verdict "  ...198.18.0.4 claiming to be 198.18.0.3 (X-Forwarded-For) has its own bucket: $c" test "$c" = 200

# TLS from 198.18.0.2: sessions and keys are fine; a bad token is logged under
# the real peer, not under the address X-Forwarded-For names.
code=$(curl -sk --max-time 5 --interface 198.18.0.2 -o "$WORK/ns.body" -w '%{http_code}' -X POST -H "$AUTH" \
    -d '{"codec":"pcmu","duration_s":5}' "$T/v1/sessions")
verdict "TLS POST /v1/sessions from 198.18.0.2: $code, client $(jq -r '.client // "-"' "$WORK/ns.body" 2>/dev/null), keys handed out" \
    bash -c "[ '$code' = 201 ] && jqe '(.auth_key | length == 44) and (.client | startswith(\"198.18.0.2:\"))' '$WORK/ns.body'"
sid=$(jq -r '.id // empty' "$WORK/ns.body" 2>/dev/null)
[ -n "$sid" ] && curl -sk -o /dev/null --interface 198.18.0.2 -H "$AUTH" -X DELETE "$T/v1/sessions/$sid"
code=$(curl -sk --max-time 5 --interface 198.18.0.2 -o /dev/null -w '%{http_code}' -H "X-Forwarded-For: 127.0.0.1" "$T/metrics")
verdict "TLS GET /metrics from 198.18.0.2, no token, X-Forwarded-For: 127.0.0.1: $code (want 401: not taken for loopback)" \
    test "$code" = 401
nauth=$(grep -c 'auth-failure' "$WORK/ns-tls.log" || true)
code=$(curl -sk --max-time 5 --interface 198.18.0.2 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer wrong" \
    -H "X-Forwarded-For: 203.0.113.77" "$T/v1/sessions/$ID")
# The log line is written when the answer is: wait for this request's (5 s at
# most), whichever address it names, not for a time.
for _ in $(seq 1 50); do [ "$(grep -c 'auth-failure' "$WORK/ns-tls.log")" -gt "$nauth" ] && break; sleep 0.1; done
line=$(grep 'auth-failure' "$WORK/ns-tls.log" | tail -1)
verdict "TLS bad token from 198.18.0.2 with X-Forwarded-For: 203.0.113.77: $code, logged as '${line#*: }'" \
    bash -c "[ '$code' = 401 ] && grep -q 'auth-failure client=198.18.0.2 path=/v1/sessions/' '$WORK/ns-tls.log' && ! grep -q 203.0.113.77 '$WORK/ns-tls.log'"

for pid in "$PLAIN_PID" "$TLS_PID"; do kill -TERM "$pid"; rc=0; wait "$pid" || rc=$?
    verdict "namespace daemon $pid: SIGTERM, exit status $rc" test "$rc" = 0; done
PIDS=()
if grep -q Sanitizer "$WORK/ns-plain.log" "$WORK/ns-tls.log"; then
    say bad "sanitizer report in a namespace daemon: $(grep -h -m1 -E 'ERROR: |SUMMARY: ' "$WORK/ns-plain.log" "$WORK/ns-tls.log")"
fi
