#!/usr/bin/env bash
# Hardening tests: rtpprobed under hostile input, loopback only.
#
#   BIN=build/asan TOOLS=build/tools tests/hostile/run.sh
#
# BIN: directory with rtpprobed (default build; build/asan lets the sanitizers
# watch the daemon). TOOLS: directory with the C tools built from
# tests/hostile/*.c (amplify, slowcli, stress, stunflood; default build/tools).
#
#   1. control API: bad bodies, methods, paths and tokens get the right 4xx
#      (JSON error body from the API itself) and the daemon keeps serving
#   2. TLS: 1.0 and 1.1 refused by the server, 1.2 and 1.3 negotiated
#   3. fail2ban: conf/fail2ban filter matches every real auth failure, nothing else;
#      3b (tests/hostile/f2b-journal.sh: its own daemon, runnable alone) the
#      journal's level prefixes (JOURNAL_STREAM) and the filter on those lines
#   4. no amplification: UDP junk at a session port and stun.listen; answers
#      only to STUN Binding requests and never larger; no RTP without an
#      announced peer; then downstream only to the announced peer at 50 pps
#   5. slow clients: stalled requests closed after limits.request_timeout,
#      others served meanwhile
#   6. limits: request rate (429), sessions per source and in all (503),
#      duration, ptime and bitrate bounds (400)
#   7-12 (tests/hostile/pressure.sh): event-loop latency under a connection
#      flood, memory after a refused body, table-full eviction fairness, 403 for
#      /v1 over plain HTTP from a non-loopback peer (network namespace),
#      replayed and spoofed authentic RTP, malformed-datagram counters
#  13. (tests/hostile/stunflood.sh: its own daemon, runnable alone) STUN floods
#      from many addresses at stun.listen and a session port: answers per
#      source address within stun.rate, counted in /metrics, and a probe behind
#      the flooded address answered once the flood stops
#  14-17 (tests/hostile/ctlclient.sh, also runs on its own): the probe's
#      control client against a hostile server (tests/tools/fakectl.py), token
#      files, an HTTP CONNECT proxy (tinyproxy) and a name whose first address
#      is dead (network namespaces)
#
# Every check prints what it measured. "KNOWN LIMIT" lines report a weakness
# that is understood and not (yet) fixed; they do not fail the run. Exit
# status: 0 when no check failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-build}
TOOLS=${TOOLS:-build/tools}
WORK=$(mktemp -d /tmp/rtpprobe-hostile.XXXXXX)
. scripts/lib-daemon.sh

pass=0 fail=0 known=0 skipped=0
A_PID= B_PID= C_PID= BG_PIDS=()
# Ends only the processes this script started, by their ids.
cleanup() {
    local p
    for p in "${BG_PIDS[@]}" $A_PID $B_PID $C_PID ${RP_PID:-}; do
        kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

ok()    { pass=$((pass + 1)); echo "  ok    $*"; }
bad()   { fail=$((fail + 1)); echo "  FAIL  $*"; }
limit() { known=$((known + 1)); echo "  KNOWN LIMIT  $*"; }
skip()  { skipped=$((skipped + 1)); echo "  skip  $*"; }
# check WHAT CMD...: ok when CMD succeeds.
check() { local what=$1; shift; if "$@" >/dev/null 2>&1; then ok "$what"; else bad "$what"; fi; }
# jcheck WHAT FILE FILTER [jq args...]: the jq filter must yield true (jq 1.6
# -e exits 0 on an empty file, hence the size test).
jcheck() {
    local what=$1 file=$2 filter=$3; shift 3
    if [ -s "$file" ] && jqe "$@" "$filter" "$file" >/dev/null 2>&1; then ok "$what"; else bad "$what"; fi
}
# "Others are served promptly", judged on a series of probes: all under LIM ms
# but one, and that one under 10 x LIM (one probe may meet a scheduler hiccup;
# a blocked loop or a lock-out fails both). LIM is 100 ms, or 4 x the median
# /healthz time of the same daemon undisturbed, measured by set_prompt at that
# moment of the run when the machine is slower than that (the sanitized build
# beside other work: a TLS handshake alone can take tens of ms).
PROMPT_LIM=100
PROMPT='(map(select(. >= 100)) | length) <= 1 and max < 1000'
set_prompt() {
    local i h ms=()
    for i in 1 2 3 4 5; do h=$(hz); ms+=("$(awk -v t="${h#* }" 'BEGIN { printf "%d", t * 1000 }')"); done
    PROMPT_BASE=$(printf '%s\n' "${ms[@]}" | sort -n | sed -n 3p)
    PROMPT_LIM=$(( 4 * PROMPT_BASE > 100 ? 4 * PROMPT_BASE : 100 ))
    PROMPT="(map(select(. >= $PROMPT_LIM)) | length) <= 1 and max < $((10 * PROMPT_LIM))"
    echo "       promptly: under $PROMPT_LIM ms (healthz undisturbed: median $PROMPT_BASE ms of ${ms[*]})"
}

# stress (sections 7-12) is newer than the usual build line: (re)built here
# when it is missing or older than its source (a failed build keeps the old one).
if [ "$TOOLS" = build/tools ] && { [ ! -x "$TOOLS/stress" ] || [ tests/hostile/stress.c -nt "$TOOLS/stress" ]; }; then
    make -s build/tools/stress >/dev/null 2>&1
fi
for tool in "$BIN/rtpprobed" "$TOOLS/amplify" "$TOOLS/slowcli" "$TOOLS/stress"; do
    [ -x "$tool" ] || { echo "hostile: $tool missing (make all build/tools/amplify build/tools/slowcli build/tools/stress)"; exit 1; }
done
for cmd in curl jq openssl awk; do
    command -v "$cmd" >/dev/null || { echo "hostile: $cmd is required"; exit 1; }
done

# set_conf FILE LINES...: replaces the limits group rp_make_config wrote.
set_conf() {
    local file=$1; shift
    grep -v '^limits:' "$file" > "$file.tmp"
    printf '%s\n' "$@" >> "$file.tmp"
    mv "$file.tmp" "$file"
}

# As the systemd unit's LimitNOFILE: the daemons get as many descriptors as allowed.
ulimit -n "$(ulimit -Hn)" 2>/dev/null

# ---------------------------------------------------------------- daemon A
# TLS, small request timeout, a generous rate limit (so that checks 1-5 are
# not throttled), stun.listen on loopback. stun.rate at its maximum: section 4
# wants every well-formed request of its 5000/s flood answered once (the
# limit itself is section 13's).
# Below the ephemeral range (32768-60999): a client socket of this run in
# TIME_WAIT on the same port would make the daemon's bind fail.
port=$(rp_free_port 31743)
stun_port=$port # the same number over UDP; the daemon's start-up line tells if it is free
URL="https://127.0.0.1:$port"
rp_make_config "$WORK/a.conf" "$port" 44000 44199 tls
set_conf "$WORK/a.conf" \
    "limits: { max_sessions = 20; max_sessions_per_source = 20; max_duration = 600; max_body = 16384;" \
    "          requests_per_second = 1000; request_burst = 1000; request_timeout = 2; };" \
    "stun: { listen=\"127.0.0.1:$stun_port\"; rate=100000; };" # no spaces: rp_start_daemon reads the first 'listen = '
rp_start_daemon "$WORK/a.conf" "$WORK/a.log" || exit 1
A_PID=$RP_PID
TOKEN=$(cat "$WORK/token")
AUTH="Authorization: Bearer $TOKEN"
echo "daemon A: pid $A_PID, $URL, stun 127.0.0.1:$stun_port, limits.request_timeout 2 s, max_body 16384"

hz() { curl -sk --max-time 5 -o /dev/null -w '%{http_code} %{time_total}' "$URL/healthz" 2>/dev/null; }

# ---------------------------------------------------------------- 1. control API
echo "== 1. control API: bad input gets a 4xx, the daemon keeps serving"
# req NAME WANT KIND CURL-ARGS...: WANT is one status or several ("413 400");
# KIND json: the API's {"error": "...", "status": N}; html: evhttp's own page;
# any: not checked. Then GET /healthz must answer 200 and the process live.
req() {
    local name=$1 want=$2 kind=$3; shift 3
    local code good=1 note=""
    rm -f "$WORK/body" "$WORK/hdrs"
    code=$(curl -sk --max-time 10 -o "$WORK/body" -D "$WORK/hdrs" -w '%{http_code}' "$@" 2>/dev/null)
    [ -n "$code" ] || code=000
    touch "$WORK/body"
    [[ " $want " == *" $code "* ]] || { good=0; note+=" (want $want)"; }
    case $kind in
    json)
        if ! [ -s "$WORK/body" ] || ! jqe --argjson s "$code" '(.error | type == "string" and length > 0) and .status == $s' \
            "$WORK/body" >/dev/null 2>&1; then
            good=0
            note+=" (no JSON error body: $(wc -c < "$WORK/body") bytes)"
        fi ;;
    html) grep -qi '<title>' "$WORK/body" || { good=0; note+=" (no evhttp error page)"; } ;;
    esac
    local h
    h=$(hz)
    if [ "${h%% *}" != 200 ] || ! kill -0 "$A_PID" 2>/dev/null; then
        good=0
        note+=" (healthz after it: ${h:-none})"
    fi
    local shown
    shown=$(head -c 110 "$WORK/body" | tr -d '\n' | tr -c '[:print:]' '?')
    if [ $good = 1 ]; then
        ok "$name: $code ${shown:-(no body)}; healthz ${h%% *} in ${h#* } s"
    else
        bad "$name: $code ${shown:-(no body)}$note"
    fi
}
post() { local name=$1 want=$2 body=$3; shift 3; req "$name" "$want" json -X POST -H "$AUTH" --data-binary "$body" "$@" "$URL/v1/sessions"; }
postf() { local name=$1 want=$2 file=$3 kind=${4:-json}; shift 4 2>/dev/null || shift 3; req "$name" "$want" "$kind" -X POST -H "$AUTH" --data-binary "@$file" "$@" "$URL/v1/sessions"; }

post "codec of the wrong type (number)" 400 '{"codec":5}'
post "codec null" 400 '{"codec":null}'
post "codec missing" 400 '{"ptime_ms":20}'
post "empty object" 400 '{}'
post "empty body" 400 ''
post "unknown codec" 400 '{"codec":"g729"}'
jcheck "  ...its message names the codec problem" "$WORK/body" '.error | test("codec")'
post "empty codec string" 400 '{"codec":""}'
post "codec of 2000 characters" 400 "{\"codec\":\"$(head -c 2000 /dev/zero | tr '\0' x)\"}"
post "ptime_ms as a string" 400 '{"codec":"pcmu","ptime_ms":"20"}'
post "ptime_ms as a boolean" 400 '{"codec":"pcmu","ptime_ms":true}'
post "ptime_ms 2^32+20 (would wrap to 20)" 400 '{"codec":"pcmu","ptime_ms":4294967316}'
post "duration_s negative" 400 '{"codec":"pcmu","duration_s":-5}'
post "duration_s zero" 400 '{"codec":"pcmu","duration_s":0}'
post "duration_s 1e11" 400 '{"codec":"pcmu","duration_s":99999999999}'
post "duration_s beyond 64 bits" 400 '{"codec":"pcmu","duration_s":99999999999999999999999}'
post "duration_s INT64_MIN" 400 '{"codec":"pcmu","duration_s":-9223372036854775808}'
post "duration_s float 1.5" 400 '{"codec":"pcmu","duration_s":1.5}'
post "duration_s float 20.0" 400 '{"codec":"pcmu","duration_s":20.0}'
post "duration_s exponent 1e1" 400 '{"codec":"pcmu","duration_s":1e1}'
post "duration_s NaN literal" 400 '{"codec":"pcmu","duration_s":NaN}'
post "bitrate_bps negative" 400 '{"codec":"opus","bitrate_bps":-32000}'
post "jitter_buffer_ms -1" 400 '{"codec":"pcmu","jitter_buffer_ms":-1}'
post "jitter_buffer_ms 2^32+40 (would wrap to 40)" 400 '{"codec":"pcmu","jitter_buffer_ms":4294967336}'
post "duplicate key" 400 '{"codec":"pcmu","codec":"pcma"}'
post "unknown field" 400 '{"codec":"pcmu","durration_s":5}'
post "transport unknown" 400 '{"codec":"pcmu","transport":"zrtp"}'
post "srtp_key_up garbage" 400 '{"codec":"pcmu","transport":"srtp","srtp_key_up":"inline:!!!"}'
post "srtp_suite of the wrong type" 400 '{"codec":"pcmu","transport":"srtp","srtp_suite":[1]}'
post "srtp_key_up without srtp" 400 '{"codec":"pcmu","srtp_key_up":"inline:AAAA"}'
printf '{"codec":"pc\xffmu"}' > "$WORK/ff.json"
postf "non-UTF-8 byte 0xff in a string" 400 "$WORK/ff.json"
printf '{"co\xfe\xffdec":"pcmu"}' > "$WORK/ffkey.json"
postf "non-UTF-8 bytes in a key" 400 "$WORK/ffkey.json"
printf '{"codec":"\xc0\xafpcmu"}' > "$WORK/overlong.json"
postf "overlong UTF-8 sequence (0xc0 0xaf)" 400 "$WORK/overlong.json"
post "lone UTF-16 surrogate \\ud800" 400 '{"codec":"\ud800"}'
printf '{"codec":"pc\0mu"}' > "$WORK/nul.json"
postf "raw NUL byte inside a string" 400 "$WORK/nul.json"
printf '{"codec":"pcmu"}\0' > "$WORK/nul2.json"
postf "NUL byte after the object" 400 "$WORK/nul2.json"
post "escaped \\u0000 in a string" 400 '{"codec":"pc\u0000mu"}'
post "top-level array" 400 '[{"codec":"pcmu"}]'
post "top-level string" 400 '"pcmu"'
post "top-level number" 400 '42'
post "top-level null" 400 'null'
post "not JSON at all" 400 'codec=pcmu'
awk 'BEGIN { for (i = 0; i < 5000; i++) printf "["; for (i = 0; i < 5000; i++) printf "]" }' > "$WORK/deep.json"
postf "arrays nested 5000 deep ($(wc -c < "$WORK/deep.json") bytes)" 400 "$WORK/deep.json"
awk 'BEGIN { printf "{\"codec\":"; for (i = 0; i < 2500; i++) printf "{\"a\":"; printf "1"; for (i = 0; i < 2501; i++) printf "}" }' \
    > "$WORK/deepobj.json"
postf "objects nested 2500 deep in a field ($(wc -c < "$WORK/deepobj.json") bytes)" 400 "$WORK/deepobj.json"
# Attacker-chosen strings are cut (%.32s, %.64s) into the error message; a cut
# inside a multi-byte character must still give a JSON error body.
post "unknown codec whose cut at 32 bytes splits a UTF-8 character" 400 "{\"codec\":\"a$(printf 'é%.0s' {1..20})\"}"
post "unknown field whose cut at 64 bytes splits a UTF-8 character" 400 "{\"a$(printf 'é%.0s' {1..40})\":1}"
# Bodies at and over limits.max_body (16384).
{ printf '{"codec":"pcmu","duration_s":5}'; head -c $((16384 - 31)) /dev/zero | tr '\0' ' '; } > "$WORK/max.json"
postf "valid body of exactly max_body = $(wc -c < "$WORK/max.json") bytes" 201 "$WORK/max.json" any
sid=$(jq -r '.id // empty' "$WORK/body" 2>/dev/null)
[ -n "$sid" ] && curl -sk -o /dev/null -H "$AUTH" -X DELETE "$URL/v1/sessions/$sid"
{ cat "$WORK/max.json"; printf ' '; } > "$WORK/max1.json"
postf "body of max_body+1 bytes" "413" "$WORK/max1.json" html
head -c 1048576 /dev/zero | tr '\0' a > "$WORK/1m"
postf "1 MB body (curl's Expect: 100-continue)" "413 400" "$WORK/1m" html
postf "1 MB body sent without waiting (no Expect)" "413 400" "$WORK/1m" html -H "Expect:"
postf "1 MB body, chunked" "413 400" "$WORK/1m" html -H "Transfer-Encoding: chunked"

# Raw requests curl will not send.
raw() { # raw NAME WANT FILE-CONTENT(printf format)
    local name=$1 want=$2
    printf "$3" > "$WORK/raw.req"
    "$TOOLS/slowcli" raw --connect "127.0.0.1:$port" --tls --file "$WORK/raw.req" --max-s 4 > "$WORK/raw.json"
    local st h
    st=$(jq -r .status "$WORK/raw.json")
    h=$(hz)
    if [[ " $want " == *" $st "* ]] && [ "${h%% *}" = 200 ]; then
        ok "$name: $st; healthz ${h%% *}"
    else
        bad "$name: got $st (want $want); healthz ${h:-none}"
    fi
}
raw "Content-Length of 20 digits" "413 400" 'POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n{}'
raw "Content-Length negative" 400 'POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n{}'
raw "chunked and Content-Length together (smuggling shape)" 400 \
    'POST /v1/sessions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\n{}\r\n0\r\n\r\n'
raw "headers over 8192 bytes" 400 "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: $(head -c 9000 /dev/zero | tr '\0' b)\r\n\r\n"
raw "HTTP/0.9 request line" 400 'GET /healthz\r\n\r\n'
raw "unknown HTTP version 9.9" 400 'GET /healthz HTTP/9.9\r\n\r\n'
raw "blank lines only" "400 0" '\r\n\r\n\r\n'

# PATCH bodies, on a real session.
curl -sk -H "$AUTH" -X POST -d '{"codec":"pcmu","duration_s":30}' "$URL/v1/sessions" > "$WORK/s1.json"
sid=$(jq -r .id "$WORK/s1.json")
patch() { local name=$1 want=$2 body=$3; req "PATCH $name" "$want" json -X PATCH -H "$AUTH" --data-binary "$body" "$URL/v1/sessions/$sid"; }
patch "empty object" 400 '{}'
patch "top-level array" 400 '[]'
patch "peer of the wrong type" 400 '{"peer":5}'
patch "peer not an address" 400 '{"peer":"nope"}'
patch "peer port 0" 400 '{"peer":"127.0.0.1:0"}'
patch "peer port 65536" 400 '{"peer":"127.0.0.1:65536"}'
patch "peer unterminated IPv6" 400 '{"peer":"[::1"}'
patch "peer host name (not resolved)" 400 '{"peer":"localhost:4000"}'
patch "peer empty" 400 '{"peer":""}'
patch "stop as a string" 400 '{"stop":"yes"}'
patch "stop null" 400 '{"stop":null}'
patch "upstream_sent negative" 400 '{"stop":true,"upstream_sent":-1}'
patch "upstream_sent 2^32" 400 '{"stop":true,"upstream_sent":4294967296}'
patch "upstream_sent float" 400 '{"stop":true,"upstream_sent":1.5}'
patch "unknown field" 400 '{"stop":true,"force":true}'
curl -sk -H "$AUTH" "$URL/v1/sessions/$sid" > "$WORK/s1-after.json"
jcheck "session untouched by the refused PATCHes (waiting, nothing announced)" \
    "$WORK/s1-after.json" '.state == "waiting" and .announced == null'

# Methods and paths.
req "GET /v1/sessions" 405 json -H "$AUTH" "$URL/v1/sessions"
check "  ...with Allow: POST" grep -qi '^Allow: POST' "$WORK/hdrs"
req "DELETE /v1/sessions" 405 json -X DELETE -H "$AUTH" "$URL/v1/sessions"
req "POST on a session" 405 json -X POST -H "$AUTH" -d '{}' "$URL/v1/sessions/$sid"
check "  ...with Allow: GET, PATCH, DELETE" grep -qi '^Allow: GET, PATCH, DELETE' "$WORK/hdrs"
# Every method libevent knows reaches the API and gets a JSON 405; CONNECT's
# request target is an authority, no path of ours (404); a method libevent does
# not know at all is answered by evhttp itself: 501 (docs/control-api.md).
for m in PUT OPTIONS TRACE; do
    req "$m /v1/sessions" 405 json -X "$m" -H "$AUTH" "$URL/v1/sessions"
done
req "CONNECT /v1/sessions" 404 json -X CONNECT -H "$AUTH" "$URL/v1/sessions"
req "FOO /v1/sessions (unknown to evhttp)" 501 html -X FOO -H "$AUTH" "$URL/v1/sessions"
req "HEAD /healthz" 405 any -I "$URL/healthz"
for p in / /v2/x /v1/sessionsX /v1/session /healthz/ /v1/sessions/../../etc/passwd; do
    req "GET $p" 404 json --path-as-is -H "$AUTH" "$URL$p"
done
req "GET /v1/sessions/ (empty id)" 404 json -H "$AUTH" "$URL/v1/sessions/"
req "GET a 32-character non-hex id" 404 json -H "$AUTH" "$URL/v1/sessions/zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
req "GET a 33-hex-digit id" 404 json -H "$AUTH" "$URL/v1/sessions/${sid}0"
req "GET below a session id" 404 json -H "$AUTH" "$URL/v1/sessions/$sid/x"
req "GET a path with %00" 404 json -H "$AUTH" "$URL/v1/sessions/%00"
req "GET a 6000-character path" "404 400" any -H "$AUTH" "$URL/v1/sessions/$(head -c 6000 /dev/zero | tr '\0' a)"
req "GET /metrics from this host, no token" 200 any "$URL/metrics"
req "GET /metrics for a remote client behind a local proxy (X-Forwarded-For), no token" 401 json \
    -H "X-Forwarded-For: 198.51.100.7" "$URL/metrics"

# Tokens: every refusal is the same 401, whatever was wrong.
fails_before=$(grep -c 'auth-failure' "$WORK/a.log")
n401=0
auth_case() {
    local name=$1; shift
    req "token: $name" 401 json "$@" "$URL/v1/sessions/$sid"
    n401=$((n401 + 1))
    grep -qi '^WWW-Authenticate: Bearer realm="rtpprobed"' "$WORK/hdrs" || bad "  ...$name: no WWW-Authenticate"
    cp "$WORK/body" "$WORK/401.$n401"
}
auth_case "no Authorization header"
auth_case "wrong token" -H "Authorization: Bearer $(openssl rand -hex 24)"
auth_case "Basic instead of Bearer" -H "Authorization: Basic dXNlcjpwYXNz"
auth_case "Bearer with an empty token" -H "Authorization: Bearer "
auth_case "right token plus one character" -H "Authorization: Bearer ${TOKEN}x"
auth_case "right token minus its last character" -H "Authorization: Bearer ${TOKEN%?}"
auth_case "right token with two spaces" -H "Authorization: Bearer  $TOKEN"
auth_case "token of 6000 characters" -H "Authorization: Bearer $(head -c 6000 /dev/zero | tr '\0' t)"
same=1
for i in $(seq 2 $n401); do cmp -s "$WORK/401.1" "$WORK/401.$i" || same=0; done
check "all $n401 refusals have byte-identical bodies ($(tr -d '\n' < "$WORK/401.1")): no hint which part was wrong" \
    test $same = 1
fails_after=$(grep -c 'auth-failure' "$WORK/a.log")
check "each refusal logged once as auth-failure ($((fails_after - fails_before)) lines for $n401)" \
    test $((fails_after - fails_before)) = $n401
req "lower-case 'bearer' with the right token" 200 any -H "Authorization: bearer $TOKEN" "$URL/v1/sessions/$sid"
curl -sk -o /dev/null -H "$AUTH" -X DELETE "$URL/v1/sessions/$sid"
# 403 for /v1 over plain HTTP from a non-loopback client: section 10, in a
# network namespace (tests/hostile/netns.sh).

# ---------------------------------------------------------------- 2. TLS
echo "== 2. TLS versions and suites (openssl s_client, SECLEVEL=0 so that the client offers them)"
# s_client's summary: "written N bytes" > 0 means our ClientHello left; an alert
# from the server (e.g. 70 protocol_version) means the server said no.
tls_try() { # tls_try ARGS... -> output in $WORK/tls.out
    timeout 10 openssl s_client -connect "127.0.0.1:$port" "$@" < /dev/null > "$WORK/tls.out" 2>&1
}
tls_field() { sed -n "s/^ *$1 *: *//p" "$WORK/tls.out" | head -1; }
for v in tls1 tls1_1; do
    tls_try "-$v" -cipher 'DEFAULT:@SECLEVEL=0'
    written=$(sed -n 's/.*and written \([0-9]*\) bytes.*/\1/p' "$WORK/tls.out" | head -1)
    alert=$(grep -o 'alert number [0-9]*\|alert [a-z ]*version' "$WORK/tls.out" | head -1)
    cipher=$(tls_field Cipher)
    if grep -q 'no protocols available\|unsupported protocol' "$WORK/tls.out" && [ "${written:-0}" = 0 ]; then
        skip "-$v: this OpenSSL refuses to offer it (client-side: $(grep -o 'no protocols available\|unsupported protocol' "$WORK/tls.out" | head -1)); no proof either way"
    elif [ "${written:-0}" -gt 0 ] && [ -n "$alert" ] && { [ "$cipher" = 0000 ] || [ "$cipher" = "(NONE)" ]; }; then
        ok "-$v refused by the server: ClientHello sent ($written bytes), server answered with $alert, no cipher"
    else
        bad "-$v: not refused as expected (written ${written:-?} bytes, alert '${alert}', cipher '${cipher}')"
    fi
done
for v in tls1_2 tls1_3; do
    want=$([ $v = tls1_2 ] && echo TLSv1.2 || echo TLSv1.3)
    # s_client's session summary can be missing when it exits before the
    # session block is printed (seen under load with TLS 1.3): its "New, ..."
    # line says the same; and one retry absorbs a slow moment.
    for _ in 1 2 3; do
        tls_try "-$v"
        proto=$(tls_field Protocol)
        cipher=$(tls_field Cipher)
        if [ -z "$proto" ] && grep -q "^New, $want, Cipher is " "$WORK/tls.out"; then
            proto=$want
            cipher=$(sed -n "s/^New, $want, Cipher is //p" "$WORK/tls.out" | head -1)
        fi
        [ "$proto" = "$want" ] && break
        sleep 0.5
    done
    if [ "$proto" = "$want" ] && [ -n "$cipher" ] && [ "$cipher" != 0000 ] && [ "$cipher" != "(NONE)" ]; then
        ok "-$v negotiated: protocol $proto, cipher $cipher"
    else
        bad "-$v: protocol '$proto', cipher '$cipher'"
    fi
done
# TLS 1.2 suites without forward secrecy or AEAD are refused (load_tls:
# ECDHE+AESGCM:ECDHE+CHACHA20).
for c in AES128-GCM-SHA256 ECDHE-ECDSA-AES128-SHA ECDHE-ECDSA-AES256-SHA384; do
    tls_try -tls1_2 -cipher "$c:@SECLEVEL=0"
    cipher=$(tls_field Cipher)
    written=$(sed -n 's/.*and written \([0-9]*\) bytes.*/\1/p' "$WORK/tls.out" | head -1)
    alert=$(grep -o 'alert number [0-9]*\|alert handshake failure' "$WORK/tls.out" | head -1)
    if [ "${written:-0}" -gt 0 ] && { [ "$cipher" = 0000 ] || [ "$cipher" = "(NONE)" ]; }; then
        ok "TLS 1.2 offering only $c refused by the server (${alert:-handshake failed})"
    else
        bad "TLS 1.2 with only $c: cipher '$cipher'"
    fi
done
code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz" 2>/dev/null); code=${code:-000}
h=$(hz)
check "plain HTTP to the TLS port: no HTTP answer ($code), healthz over TLS still ${h%% *}" \
    test "$code" = 000 -a "${h%% *}" = 200

# ---------------------------------------------------------------- 3. fail2ban
echo "== 3. fail2ban filter (conf/fail2ban) on real daemon log lines"
F2B_FILTER=conf/fail2ban/filter.d/rtpprobed.conf
before=$(wc -l < "$WORK/a.log")
# Bad tokens from several loopback addresses (127.0.0.0/8 is all local), good
# requests in between: their log lines must not match.
nbad=0
declare -A want_ip=()
for src in 127.0.0.11 127.0.0.12 127.0.0.13; do
    for i in 1 2 3; do
        c=$(curl -sk --interface "$src" -o /dev/null -w '%{http_code}' -H "Authorization: Bearer bad$i" \
            -X POST -d '{"codec":"pcmu"}' "$URL/v1/sessions")
        [ "$c" = 401 ] && nbad=$((nbad + 1)) && want_ip[$src]=$(( ${want_ip[$src]:-0} + 1 ))
    done
    curl -sk --interface "$src" -o "$WORK/good.json" -H "$AUTH" -X POST -d '{"codec":"pcmu","duration_s":5}' "$URL/v1/sessions"
    gid=$(jq -r '.id // empty' "$WORK/good.json")
    [ -n "$gid" ] && curl -sk --interface "$src" -o /dev/null -H "$AUTH" -X DELETE "$URL/v1/sessions/$gid"
done
# Paths built to inject: a tab, a CR followed by a fake line naming another
# address, control bytes; the ban must still go to the real client.
for p in '/v1/sessions/\tclient=203.0.113.9' '/v1/sessions/x\rrtpprobed: warn: auth-failure client=203.0.113.8 path=/' \
         '/v1/sessions/a client=203.0.113.7' '/v1/sessions/\x01\x7f\xff'; do
    printf "GET $p HTTP/1.1\r\nHost: x\r\n\r\n" > "$WORK/inj.req"
    st=$("$TOOLS/slowcli" raw --connect "127.0.0.1:$port" --tls --file "$WORK/inj.req" --max-s 3 | jq -r .status)
    [ "$st" = 401 ] && nbad=$((nbad + 1)) && want_ip[127.0.0.1]=$(( ${want_ip[127.0.0.1]:-0} + 1 ))
done
# Through a proxy on this host the daemon logs the client from X-Forwarded-For
# (its last entry); something that is not an address leaves the peer's.
for xff in "198.51.100.23|198.51.100.23" "203.0.113.1, 198.51.100.24|198.51.100.24" "not-an-address|127.0.0.1"; do
    c=$(curl -sk -o /dev/null -w '%{http_code}' -H "X-Forwarded-For: ${xff%|*}" -H "Authorization: Bearer bad" \
        -X POST -d '{"codec":"pcmu"}' "$URL/v1/sessions")
    ip=${xff#*|}
    [ "$c" = 401 ] && nbad=$((nbad + 1)) && want_ip[$ip]=$(( ${want_ip[$ip]:-0} + 1 ))
done
sleep 0.2
tail -n +$((before + 1)) "$WORK/a.log" > "$WORK/f2b-raw.log"
nlines=$(wc -l < "$WORK/f2b-raw.log")
echo "       $nbad bad-token requests answered 401, $nlines daemon log lines in this part"
if ! command -v fail2ban-regex >/dev/null; then
    skip "fail2ban-regex not installed (Debian/Ubuntu package fail2ban): filter not tried"
else
    # The same lines as the journal shows them (journalctl: date, host,
    # identifier[pid]), as the systemd backend hands them to the filter (host,
    # identifier[pid], no date), and as a syslog file with an ISO date.
    sed 's/^/Nov 26 04:49:36 mediahost rtpprobed[4242]: /' "$WORK/f2b-raw.log" > "$WORK/f2b-journal.log"
    sed 's/^/mediahost rtpprobed[4242]: /' "$WORK/f2b-raw.log" > "$WORK/f2b-backend.log"
    sed 's/^/2026-11-26T04:49:36.123456+00:00 mediahost rtpprobed[4242]: /' "$WORK/f2b-raw.log" > "$WORK/f2b-iso.log"
    want_list=$(for ip in "${!want_ip[@]}"; do echo "$ip ${want_ip[$ip]}"; done | sort)
    for form in raw journal backend iso; do
        f="$WORK/f2b-$form.log"
        fail2ban-regex -r "$f" "$F2B_FILTER" > "$WORK/f2b-$form.out" 2>&1
        matched=$(sed -n 's/^Lines: .* \([0-9]*\) matched.*/\1/p' "$WORK/f2b-$form.out")
        missed=$(sed -n 's/^Lines: .* \([0-9]*\) missed.*/\1/p' "$WORK/f2b-$form.out")
        fail2ban-regex -r -o ip "$f" "$F2B_FILTER" 2>/dev/null | sort | uniq -c | awk '{print $2, $1}' | sort > "$WORK/f2b-ips"
        got_list=$(cat "$WORK/f2b-ips")
        if [ "$matched" = "$nbad" ] && [ "$missed" = $((nlines - nbad)) ] && [ "$got_list" = "$want_list" ]; then
            ok "fail2ban-regex, $form lines: $matched matched = $nbad bad attempts, $missed other lines not matched," \
                "hosts $(echo $got_list | tr '\n' ' ')"
        else
            bad "fail2ban-regex, $form lines: matched ${matched:-?} (want $nbad), missed ${missed:-?} (want $((nlines - nbad)))," \
                "hosts [$(echo $got_list)] want [$(echo $want_list)]"
        fi
    done
    check "no injected address (203.0.113.x) extracted" bash -c "! grep -q 203.0.113 '$WORK/f2b-ips'"
    grep -q 'created for' "$WORK/f2b-raw.log" && ok "good requests logged ($(grep -c 'created for\|deleted' "$WORK/f2b-raw.log") lines) and not matched"
    if command -v fail2ban-client >/dev/null && [ -d /etc/fail2ban ]; then
        # The jail as fail2ban reads it, in a private copy of the configuration
        # with only this jail enabled.
        mkdir -p "$WORK/f2bconf"
        cp -r /etc/fail2ban/. "$WORK/f2bconf/"
        rm -f "$WORK/f2bconf/jail.d/"* "$WORK/f2bconf/jail.local"
        cp conf/fail2ban/jail.d/rtpprobed.conf "$WORK/f2bconf/jail.d/"
        cp "$F2B_FILTER" "$WORK/f2bconf/filter.d/"
        fail2ban-client -c "$WORK/f2bconf" -d > "$WORK/f2b-dump" 2>&1
        jail_ok=1
        for want in "'add', 'rtpprobed', 'systemd'" "'addjournalmatch', '_SYSTEMD_UNIT=rtpprobed.service'" \
                    "'maxretry', 5" "'findtime', '10m'" "'bantime', '1h'" "'port', '443,8743'" "'addignoreip', '127.0.0.1/8', '::1'"; do
            grep -qF "$want" "$WORK/f2b-dump" || { jail_ok=0; echo "       missing in the dump: $want"; }
        done
        check "jail parses (fail2ban-client -d): backend systemd, journalmatch, maxretry 5, findtime 10m, bantime 1h, ports 443,8743" \
            test $jail_ok = 1
    else
        skip "fail2ban-client not installed: jail not parsed"
    fi
fi
# 3b: the same filter on the lines a daemon under systemd writes (level prefixes).
BIN=$BIN tests/hostile/f2b-journal.sh > "$WORK/f2bj.out" 2>&1
fj_rc=$?
cat "$WORK/f2bj.out"
read -r fj_p fj_f fj_s <<< "$(sed -n 's/^f2b-journal: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p' "$WORK/f2bj.out")"
pass=$((pass + ${fj_p:-0})) fail=$((fail + ${fj_f:-0})) skipped=$((skipped + ${fj_s:-0}))
[ "$fj_rc" = 0 ] || [ "${fj_f:-0}" -gt 0 ] || bad "tests/hostile/f2b-journal.sh: exit status $fj_rc without a failed check"

# ---------------------------------------------------------------- 4. amplification
echo "== 4. no amplification: junk at a session port and at stun.listen"
if grep -q "STUN 127.0.0.1:$stun_port" "$WORK/a.log"; then stun_args=(--stun "127.0.0.1:$stun_port"); else
    bad "stun.listen 127.0.0.1:$stun_port did not come up: $(grep -i stun "$WORK/a.log" | head -1)"
    stun_args=()
fi
curl -sk -H "$AUTH" -X POST -d '{"codec":"pcmu","duration_s":20}' "$URL/v1/sessions" > "$WORK/amp-session.json"
sid=$(jq -r .id "$WORK/amp-session.json")
mport=$(jq -r .media_port "$WORK/amp-session.json")
# The announce hook (run by the tool once the flood is over): the session's
# state before the PATCH, then PATCH peer = the tool's fourth socket.
cat > "$WORK/announce.sh" <<EOF
curl -sk -H '$AUTH' '$URL/v1/sessions/$sid' > '$WORK/amp-before.json'
curl -sk -o '$WORK/amp-patch.json' -w '%{http_code}' -H '$AUTH' -X PATCH -d "{\"peer\":\"\$PEER\"}" '$URL/v1/sessions/$sid' | grep -q 200
EOF
# udp_drops PORT: what the kernel dropped on the socket bound to 127.0.0.1:PORT.
udp_drops() {
    awk -v a="$(printf '0100007F:%04X' "$1")" '$2 == a { d += $NF } END { print d + 0 }' /proc/net/udp
}
stun_drops0=$(udp_drops "$stun_port")
t0=$(date +%s.%N)
"$TOOLS/amplify" --session "127.0.0.1:$mport" "${stun_args[@]}" --count 20000 --rate 5000 --seed 7 \
    --ssrc-up "$(jq .ssrc_up "$WORK/amp-session.json")" --ssrc-down "$(jq .ssrc_down "$WORK/amp-session.json")" \
    --pt "$(jq .pt "$WORK/amp-session.json")" --listen-ms 3000 --announce "sh '$WORK/announce.sh'" > "$WORK/amp.json"
echo "       amplify ran $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s;" \
     "flood $(jq .phase1.duration_ms "$WORK/amp.json") ms"
curl -sk -H "$AUTH" "$URL/v1/sessions/$sid" > "$WORK/amp-after.json"
A1=$WORK/amp.json
for tg in session stun; do
    [ "$(jq ".phase1 | has(\"$tg\")" "$A1")" = true ] || continue
    read -r sp sb rp rb mx ea aa am <<< "$(jq -r ".phase1.$tg | \"\(.sent_packets) \(.sent_bytes) \(.reply_packets) \(.reply_bytes) \(.reply_max_len) \(.expect_answer) \(.answered_expected) \(.answered_maybe)\"" "$A1")"
    check "$tg: replies $rp packets / $rb bytes <= sent $sp packets / $sb bytes (byte ratio $(awk -v a="$rb" -v b="$sb" 'BEGIN { printf "%.4f", a / b }'))" \
        test "$rp" -le "$sp" -a "$rb" -le "$sb"
    jcheck "$tg: every reply a STUN Binding success to one of our requests, from the socket that asked, no larger than it (largest $mx B)" \
        "$A1" ".phase1.$tg | .reply_not_binding_success == 0 and .reply_rtp == 0 and .reply_unmatched == 0 and .reply_duplicate == 0
              and .reply_larger_than_request == 0 and .reply_wrong_socket == 0 and .reply_wrong_mapped == 0"
    jcheck "$tg: nothing answered that must not be (sizes 0..36, bad fingerprints/lengths/types, RFC 3489, RTP, junk): $(jq ".phase1.$tg.reply_unexpected" "$A1") answers" \
        "$A1" ".phase1.$tg.reply_unexpected == 0"
    # A request the kernel dropped from a full socket queue cannot be answered:
    # the session counts those (host_drops, SO_RXQ_OVFL), the kernel the ones
    # of stun.listen (/proc/net/udp). Junk is dropped too, so the allowance is
    # only an upper bound: beyond a tenth of the requests, the check means
    # nothing any more and fails.
    if [ "$tg" = session ]; then
        hdrops=$(jq '.upstream.host_drops // 0' "$WORK/amp-after.json" 2>/dev/null)
    else
        hdrops=$(( $(udp_drops "$stun_port") - stun_drops0 ))
    fi
    hdrops=${hdrops:-0}
    check "$tg: each well-formed Binding request of >= 40 bytes answered once ($aa of $ea, socket drops $hdrops; $am of $(jq ".phase1.$tg.maybe_answer" "$A1") with an unknown comprehension-required attribute answered)" \
        test "$aa" -ge $((ea - hdrops)) -a "$hdrops" -le $((ea / 10))
done
jcheck "no datagram from any other address; our own sockets dropped $(jq .phase1.own_socket_drops "$A1") (0 = every answer was counted)" \
    "$A1" '.phase1.from_unknown == 0 and .phase1.own_socket_drops == 0'
jcheck "before the PATCH: session waiting, nothing sent downstream, nothing latched (downstream.sent $(jq .downstream.sent "$WORK/amp-before.json" 2>/dev/null))" \
    "$WORK/amp-before.json" '.state == "waiting" and .downstream.sent == 0 and .latched == null'
echo "       phase 2: PATCH peer $(jq -r .phase2.peer "$A1"), forged upstream from the junk sockets at 100 pps meanwhile"
jcheck "PATCH peer accepted" "$A1" '.phase2.announce_status == 0'
read -r prtp pps span gaps gmed <<< "$(jq -r '.phase2 | "\(.peer_rtp) \(.peer_pps) \(.peer_span_s) \(.peer_seq_gaps) \(.peer_gap_ms_median)"' "$A1")"
# The pacing from the median gap between consecutive packets: scheduling delay
# on a loaded machine lengthens one gap and shortens the next, the median
# stays on the period (the span's rate moves with the first and last packet).
# A sequence gap is allowed only where the daemon counted a skipped slot.
askip=$(jq '.downstream.skipped // 0' "$WORK/amp-after.json" 2>/dev/null); askip=${askip:-0}
check "downstream reached the announced socket: $prtp RTP packets over $(printf %.2f "$span") s ($(printf %.2f "$pps") pps), median gap $(printf %.2f "$gmed") ms (want 20 +- 1: 20 ms ptime, not 25 or 33), $gaps sequence gaps (want <= the daemon's skipped slots, $askip)" \
    bash -c "[ '$prtp' -ge 100 ] && [ '$gaps' -le '$askip' ] && awk -v g='$gmed' 'BEGIN { exit !(g > 19 && g < 21) }'"
jcheck "downstream: the session's SSRC and payload type on every packet, nothing else there" \
    "$A1" '.phase2 | .peer_wrong_ssrc == 0 and .peer_wrong_pt == 0 and .peer_other == 0'
jcheck "junk sockets got no RTP while the stream ran ($(jq .phase2.junk_rtp "$A1") packets; $(jq .phase2.junk_replies "$A1") STUN answers to their STUN requests)" \
    "$A1" '.phase2.junk_rtp == 0 and .total.session.reply_rtp == 0'
jcheck "forged RTP with the session's SSRC did not latch: latched null, relatched 0, accepted 0 ($(jq .upstream.dropped.auth_failure "$WORK/amp-after.json") auth failures)" \
    "$WORK/amp-after.json" '.latched == null and .relatched == 0 and .upstream.accepted == 0'
# Accounting: every datagram that reached the session is in a drop reason or
# a STUN verdict; datagrams larger than the daemon's 2048-byte buffer are
# discarded uncounted (src/reflector.c on_readable), socket overflows are in host_drops.
read -r dsum ssum hd <<< "$(jq -r '.upstream | "\([.dropped[]] | add) \([.stun[]] | add) \(.host_drops)"' "$WORK/amp-after.json")"
read -r tsent tover <<< "$(jq -r '.total.session | "\(.sent_packets) \(.oversized)"' "$A1")"
counted=$((dsum + ssum))
if [ "$counted" = $((tsent - hd)) ]; then
    ok "session counters: drops $dsum + STUN verdicts $ssum = $counted = $tsent sent (host_drops $hd), oversized counted too"
elif [ "$counted" = $((tsent - tover - hd)) ]; then
    ok "session counters: drops $dsum + STUN verdicts $ssum = $counted = $tsent sent - $tover datagrams of 4000 B" \
        "(over the 2048-byte buffer: discarded uncounted) - host_drops $hd"
else
    bad "session counters: drops $dsum + STUN verdicts $ssum = $counted, sent $tsent (oversized $tover, host_drops $hd)"
fi
echo "       drops: $(jq -c .upstream.dropped "$WORK/amp-after.json")"
echo "       stun:  $(jq -c .upstream.stun "$WORK/amp-after.json")"
# Exact, whatever the timing: each packet carries the daemon's count of packets
# sent so far (measurement element), so the last one the tool got says how many
# had been sent by then; the stream goes on after the tool stops listening.
dsl=$(jq .phase2.peer_down_sent_last "$A1")
jcheck "downstream counters agree: the last packet the tool got says the daemon had sent $dsl, tool received $prtp; session downstream.sent $(jq .downstream.sent "$WORK/amp-after.json") (later), send_errors $(jq .downstream.send_errors "$WORK/amp-after.json")" \
    "$WORK/amp-after.json" '$dsl == $n and .downstream.sent >= $n and .downstream.send_errors == 0' --argjson n "$prtp" --argjson dsl "$dsl"
curl -sk -o /dev/null -H "$AUTH" -X DELETE "$URL/v1/sessions/$sid"
h=$(hz); check "daemon serving after the flood (healthz ${h%% *} in ${h#* } s)" test "${h%% *}" = 200

# ---------------------------------------------------------------- 5. slow clients
echo "== 5. slow clients (limits.request_timeout = 2 s)"
set_prompt
# Two tricklers in the background: one trickles its first request, one
# trickles the second request of a keep-alive connection.
# They come from 127.0.0.6, so that the crowd below (127.0.0.1) alone meets
# the per-address cap of pending connections.
"$TOOLS/slowcli" trickle --connect "127.0.0.1:$port" --from 127.0.0.6 --tls --interval-ms 1000 --max-s 8 > "$WORK/trickle.json" &
BG_PIDS+=($!); trickle_pid=$!
"$TOOLS/slowcli" trickle --connect "127.0.0.1:$port" --from 127.0.0.6 --tls --after-request --interval-ms 1000 --max-s 8 \
    > "$WORK/trickle2.json" &
BG_PIDS+=($!); trickle2_pid=$!
"$TOOLS/slowcli" idle --connect "127.0.0.1:$port" --from 127.0.0.6 --max-s 8 > "$WORK/idle.json" &
BG_PIDS+=($!); idle_pid=$!
sleep 0.2
"$TOOLS/slowcli" stall --connect "127.0.0.1:$port" --tls --conns 50 --max-s 8 --probes 6 --probe-from 127.0.0.2 > "$WORK/stall.json"
S=$WORK/stall.json
read -r opened closed cmin cmed cmax still <<< "$(jq -r '"\(.opened) \(.closed_by_server) \(.close_s_min) \(.close_s_median) \(.close_s_max) \(.still_open)"' "$S")"
# One address may hold 32 connections that have not delivered a request
# (MAX_PENDING_PER_SOURCE in src/control.c): the other 18 are cut at the next
# sweep, the 32 at the deadline.
# A close can only come later on a loaded machine, never earlier: the lower
# bounds are exact; the upper ones (timeout 2 + sweep 0.25 + 1 s) grow by the
# slowest /healthz the probes from 127.0.0.2 met meanwhile (the daemon's loop
# as late as it was for others; --max-s 8 catches a deadline not enforced).
late=$(jq '[.probe_ms[]] | max / 1000 // 0' "$S" 2>/dev/null); late=${late:-0}
check "50 stalled TLS requests (partial headers): $closed of $opened closed by the daemon after $(printf '%.2f/%.2f/%.2f' "$cmin" "$cmed" "$cmax") s (min/median/max; want 18 cut at once by the per-address cap, the rest at 2-$(awk -v l="$late" 'BEGIN { printf "%.2f", 3.5 + l }'): 3.5 + the slowest probe meanwhile)" \
    bash -c "[ '$opened' = 50 ] && [ '$closed' = 50 ] && awk -v a='$cmin' -v m='$cmed' -v b='$cmax' -v l='$late' 'BEGIN { exit !(a < 1 + l && m >= 1.9 && b <= 3.5 + l) }'"
probes=$(jq -r '[.probe_ms[] | (. * 10 | round / 10)] | map(tostring) | join(", ")' "$S")
jcheck "healthz from another address (127.0.0.2) on fresh connections while $(jq .open_during_probes_min "$S") stalled ones were open: statuses $(jq -c .probe_status "$S"), ms [$probes] (want 200, all but one < 100, max < 1000)" \
    "$S" "(.probe_status | length) >= 3 and all(.probe_status[]; . == 200) and (.probe_ms | $PROMPT) and .open_during_probes_min >= 30"
wait "$idle_pid"
jcheck "TCP connection that never starts TLS: closed after $(jq -r '.close_s | . * 100 | round / 100' "$WORK/idle.json") s (want 2-3.5 + the slowest probe meanwhile, $late)" \
    "$WORK/idle.json" '.closed_by_server and .close_s >= 1.9 and .close_s <= 3.5 + $l' --argjson l "$late"
# Connection slots: src/control.c keeps at most 1024 connections that have not
# delivered a request yet, over all clients (MAX_PENDING_CONNS). Fill them
# from one address and look at what a newcomer gets, over TLS and in plain HTTP.
if [ "$(ulimit -n)" -ge 2200 ] 2>/dev/null; then
    sleep 0.5 # the slots of the connections above are free again (sweep)
    "$TOOLS/slowcli" stall --connect "127.0.0.1:$port" --tls --idle --plain-probe --conns 1030 --max-s 6 --probes 4 --probe-from 127.0.0.2 \
        > "$WORK/flood.json"
    F=$WORK/flood.json
    nfail=$(jq '[.probe_status[] | select(. != 200)] | length' "$F")
    nplain=$(jq '[.plain_probe_status[] | select(. != 0)] | length' "$F")
    what="1030 idle TCP connections from one address (opened in $(jq -r '.open_s * 1000 | round' "$F") ms, all open during the probes: $(jq .open_during_probes_min "$F"))"
    if [ "$nplain" = 0 ]; then
        ok "$what: plain HTTP to the TLS port still not answered ($(jq -c .plain_probe_status "$F"))"
    else
        bad "$what: plain HTTP to the TLS port answered: statuses $(jq -c .plain_probe_status "$F")." \
            "With its pending slots full, control.c's bufferevent callback returns NULL, and libevent 2.1 then" \
            "makes a plain socket bufferevent (evhttp_connection_base_bufferevent_new): cleartext HTTP, tokens and" \
            "session keys included, on the TLS port, without the first-request deadline"
    fi
    # At least two probes, all 200 and prompt: with none nothing was checked, a
    # probe locked out until the flood's deadline is then served alone (the
    # tool probes only while some of the flood is open), and a second one that
    # slips through between two sweeps has waited for a sweep.
    if jqe "(.probe_status | length) >= 2 and all(.probe_status[]; . == 200) and (.probe_ms | $PROMPT)" "$F" >/dev/null 2>&1; then
        ok "$what: healthz over TLS from elsewhere still served ($(jq -c .probe_status "$F"))"
    else
        bad "$what: TLS healthz probes from elsewhere: $nfail failed, statuses $(jq -c .probe_status "$F"), $(jq -c .probe_ms "$F") ms (want at least 2, all 200, under $PROMPT_LIM ms but one)." \
            "One address must not take the 1024 pending-connection slots: src/control.c cuts an address's" \
            "connections beyond MAX_PENDING_PER_SOURCE at each sweep and, when the table is full, the newest of" \
            "the largest address (cut_crowds)"
    fi
    flate=$(jq '[.probe_ms[]] | max / 1000 // 0' "$F" 2>/dev/null); flate=${flate:-0}
    jcheck "  ...all $(jq .opened "$F") opened closed by the daemon ($(jq .closed_by_server "$F")) after $(jq -r '.close_s_max * 100 | round / 100' "$F") s at most (want <= 3.5 + the slowest probe meanwhile, $flate)" \
        "$F" '.closed_by_server == .opened and .opened >= 1000 and .close_s_max <= 3.5 + $l' --argjson l "$flate"
else
    skip "connection-slot exhaustion: ulimit -n $(ulimit -n) is below 2200"
fi
h=$(hz); check "served again after the slow clients (healthz ${h%% *} in ${h#* } s)" test "${h%% *}" = 200
wait "$trickle_pid" "$trickle2_pid"
T=$WORK/trickle.json
# Closed by the deadline (2 s), not merely before the tool gives up (8 s).
if [ -s "$T" ] && jqe --argjson l "${late:-0}" '.closed_by_server and .close_s <= 3.5 + $l' "$T" >/dev/null; then
    ok "first request trickled at one byte per second: closed after $(jq -r '.close_s * 100 | round / 100' "$T") s and $(jq .bytes_sent "$T") bytes (per-connection deadline)"
else
    bad "first request trickled at one byte per second: closed $(jq .closed_by_server "$T") after $(jq -r '.close_s * 10 | round / 10' "$T") s (want <= 3.5 + ${late:-0} s), open $(jq -r '.waited_s * 10 | round / 10' "$T") s and $(jq .bytes_sent "$T") bytes" \
        "(request_timeout 2 s). libevent 2.1's evhttp timeout is per read, not per request: src/control.c's sweep" \
        "must cut a connection at its absolute deadline (slow loris)"
fi
T=$WORK/trickle2.json
# The first request must have been answered, or this is the first-request case again.
if [ -s "$T" ] && jqe --argjson l "${late:-0}" '.first_request_status == 200 and .closed_by_server and .close_s <= 3.5 + $l' "$T" >/dev/null; then
    ok "second request on a keep-alive connection trickled at one byte per second: closed after $(jq -r '.close_s * 100 | round / 100' "$T") s"
else
    bad "second request on a keep-alive connection (first answered $(jq .first_request_status "$T"), want 200), trickled at one byte per second:" \
        "still open after $(jq -r '.waited_s * 10 | round / 10' "$T") s and $(jq .bytes_sent "$T") bytes (request_timeout 2 s). Every request" \
        "of a kept-alive connection needs its own deadline (src/control.c request_arrived); without it only evhttp's" \
        "per-read timeout applies and a client holds the connection until the 8192-byte header limit (about 2 h at this pace)"
fi
curl -s --max-time 5 -k "$URL/metrics" > "$WORK/metrics.txt"
sd=$(sed -n 's/^rtpprobed_http_slow_clients_dropped_total \([0-9]*\)$/\1/p' "$WORK/metrics.txt")
# Only connections the deadline cuts count; idle ones usually go at the same
# moment through evhttp's own read timeout (same 2 s) and are not counted.
check "/metrics: rtpprobed_http_slow_clients_dropped_total ${sd:-missing} (want >= 1: the first-request trickler)" \
    test "${sd:-0}" -ge 1

# ---------------------------------------------------------------- 6. limits
echo "== 6. limits (daemon B: max_sessions 3, per source 2, max_duration 30, ptime 30-40 ms, Opus 40000-64000 bit/s, 5 req/s burst 30)"
portb=$(rp_free_port $((port + 1)))
URLB="https://127.0.0.1:$portb"
rp_make_config "$WORK/b.conf" "$portb" 44200 44299 tls
set_conf "$WORK/b.conf" \
    "limits: { max_sessions = 3; max_sessions_per_source = 2; max_duration = 30; requests_per_second = 5;" \
    "          request_burst = 30; ptime_min = 30; ptime_max = 40; bitrate_min = 40000; bitrate_max = 64000; };" \
    'stun: { listen=""; };'
if rp_start_daemon "$WORK/b.conf" "$WORK/b.log"; then
    B_PID=$RP_PID
    bpost() { # bpost SRC BODY -> status, body in $WORK/bb
        curl -sk --interface "$1" -o "$WORK/bb" -w '%{http_code}' -H "$AUTH" -X POST -d "$2" "$URLB/v1/sessions"
    }
    bdel() { curl -sk --interface "$1" -o /dev/null -H "$AUTH" -X DELETE "$URLB/v1/sessions/$2"; }
    bcase() { # bcase NAME WANT BODY: from 127.0.0.1; a created session is deleted again
        local c
        c=$(bpost 127.0.0.1 "$3")
        local msg
        msg=$(jq -r '.error // "created: ptime \(.ptime_ms) ms, bitrate \(.bitrate_bps), duration \(.duration_s) s"' "$WORK/bb" 2>/dev/null)
        [ "$c" = 201 ] && bdel 127.0.0.1 "$(jq -r .id "$WORK/bb")"
        check "$1: $c $msg" test "$c" = "$2"
    }
    bcase "duration_s 31 > max_duration" 400 '{"codec":"pcmu","duration_s":31}'
    bcase "duration_s 30 = max_duration" 201 '{"codec":"pcmu","duration_s":30}'
    bcase "pcmu ptime_ms 20 < ptime_min" 400 '{"codec":"pcmu","ptime_ms":20}'
    bcase "pcmu ptime_ms 50 > ptime_max" 400 '{"codec":"pcmu","ptime_ms":50}'
    bcase "pcmu ptime_ms 30 within" 201 '{"codec":"pcmu","ptime_ms":30}'
    bcase "opus ptime_ms 60 > ptime_max" 400 '{"codec":"opus","ptime_ms":60}'
    bcase "opus ptime_ms 40 within" 201 '{"codec":"opus","ptime_ms":40}'
    bcase "opus bitrate_bps 39999 < bitrate_min" 400 '{"codec":"opus","ptime_ms":40,"bitrate_bps":39999}'
    bcase "opus bitrate_bps 64001 > bitrate_max" 400 '{"codec":"opus","ptime_ms":40,"bitrate_bps":64001}'
    bcase "opus bitrate_bps 64000 = bitrate_max" 201 '{"codec":"opus","ptime_ms":40,"bitrate_bps":64000}'
    bcase "pcmu bitrate_bps 32000 (G.711 is 64000)" 400 '{"codec":"pcmu","ptime_ms":30,"bitrate_bps":32000}'
    # Defaults must respect the configured bounds too: without ptime_ms the
    # default (20 ms) is below ptime_min 30; Opus's default bitrate (32000)
    # is below bitrate_min 40000. Either refuse or pick a value inside.
    c=$(bpost 127.0.0.1 '{"codec":"pcmu"}')
    [ "$c" = 201 ] && bdel 127.0.0.1 "$(jq -r .id "$WORK/bb")"
    check "pcmu without ptime_ms, ptime_min 30: $c, ptime $(jq -r '.ptime_ms // "-"' "$WORK/bb") ms (want 400 or 30-40)" \
        bash -c "[ '$c' = 400 ] || jqe '.ptime_ms >= 30 and .ptime_ms <= 40' '$WORK/bb'"
    c=$(bpost 127.0.0.1 '{"codec":"opus","ptime_ms":40}')
    [ "$c" = 201 ] && bdel 127.0.0.1 "$(jq -r .id "$WORK/bb")"
    check "opus without bitrate_bps, bitrate_min 40000: $c, bitrate $(jq -r '.bitrate_bps // "-"' "$WORK/bb") (want 400 or 40000-64000)" \
        bash -c "[ '$c' = 400 ] || jqe '.bitrate_bps >= 40000 and .bitrate_bps <= 64000' '$WORK/bb'"

    ids=()
    for i in 1 2; do c=$(bpost 127.0.0.1 '{"codec":"pcmu","ptime_ms":30}'); ids+=("$(jq -r '.id // empty' "$WORK/bb")"); done
    c=$(bpost 127.0.0.1 '{"codec":"pcmu","ptime_ms":30}')
    check "3rd session from 127.0.0.1 (max_sessions_per_source 2): $c $(jq -r .error "$WORK/bb")" \
        bash -c "[ '$c' = 503 ] && jqe '.error | test(\"this address\")' '$WORK/bb'"
    c=$(bpost 127.0.0.2 '{"codec":"pcmu","ptime_ms":30}'); id2=$(jq -r '.id // empty' "$WORK/bb")
    check "1st session from 127.0.0.2 (3 in all): $c" test "$c" = 201
    c=$(bpost 127.0.0.2 '{"codec":"pcmu","ptime_ms":30}')
    check "4th session in all (max_sessions 3), from 127.0.0.2: $c $(jq -r .error "$WORK/bb")" \
        bash -c "[ '$c' = 503 ] && jqe '.error | test(\"session limit\")' '$WORK/bb'"
    bdel 127.0.0.1 "${ids[0]}"
    c=$(bpost 127.0.0.2 '{"codec":"pcmu","ptime_ms":30}'); id3=$(jq -r '.id // empty' "$WORK/bb")
    check "after a DELETE a slot is free again: $c" test "$c" = 201
    for id in "${ids[1]}" "$id2" "$id3"; do [ -n "$id" ] && bdel 127.0.0.1 "$id"; done
    n=$(curl -sk "$URLB/healthz" | jq .sessions)
    check "all sessions deleted ($n left)" test "$n" = 0

    # Request rate: one connection, 60 requests back to back from 127.0.0.3.
    t0=$(date +%s.%N)
    curl -sk --interface 127.0.0.3 -o "$WORK/rate.#1" -w '%{http_code} %header{retry-after}\n' "$URLB/healthz?[1-60]" \
        > "$WORK/rate.lines"
    cut -d' ' -f1 "$WORK/rate.lines" > "$WORK/rate.codes"
    el=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
    n200=$(grep -c '^200$' "$WORK/rate.codes"); n429=$(grep -c '^429$' "$WORK/rate.codes")
    first429=$(grep -n '^429$' "$WORK/rate.codes" | head -1 | cut -d: -f1)
    maxok=$(awk -v e="$el" 'BEGIN { printf "%d", 30 + e * 5 + 1 }')
    check "60 requests in $el s from 127.0.0.3: $n200 x 200 then $n429 x 429 (first 429 at #$first429; want 30 .. $maxok allowed)" \
        test "$n200" -ge 30 -a "$n200" -le "$maxok" -a $((n200 + n429)) = 60 -a "${first429:-0}" -gt 30
    # Judged on the burst's own answers: a request made later may find a token
    # refilled (5/s), however briefly the shell took in between.
    nra=$(grep -c '^429 1$' "$WORK/rate.lines")
    check "each 429 carries Retry-After: 1 ($nra of $n429) and a JSON error ($(tr -d '\n' < "$WORK/rate.${first429:-0}" 2>/dev/null))" \
        bash -c "[ '$n429' -gt 0 ] && [ '$nra' = '$n429' ] && jqe '.status == 429 and (.error | length > 0)' '$WORK/rate.${first429:-0}'"
    c=$(curl -sk --interface 127.0.0.4 -o /dev/null -w '%{http_code}' "$URLB/healthz")
    check "another address (127.0.0.4) is not throttled: $c" test "$c" = 200
    sleep 1.1
    c=$(curl -sk --interface 127.0.0.3 -o /dev/null -w '%{http_code}' "$URLB/healthz")
    check "127.0.0.3 after 1.1 s (5 tokens/s refilled): $c" test "$c" = 200
    # The limit comes before authentication: bad tokens beyond the burst get
    # 429 and are not logged, so fail2ban sees at most burst + rate x time.
    curl -sk --interface 127.0.0.5 -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer wrong" \
        "$URLB/v1/sessions/0123456789abcdef0123456789abcdef?[1-60]" > "$WORK/rate5.codes"
    n401=$(grep -c '^401$' "$WORK/rate5.codes"); n429=$(grep -c '^429$' "$WORK/rate5.codes")
    nlog=$(grep -c 'auth-failure client=127.0.0.5 ' "$WORK/b.log")
    check "60 bad tokens from 127.0.0.5: $n401 x 401 (logged: $nlog lines), $n429 x 429 (not logged)" \
        test "$nlog" = "$n401" -a $((n401 + n429)) = 60 -a "$n429" -gt 0
else
    bad "daemon B did not start"
fi

# ---------------------------------------------------------------- 7-12
. tests/hostile/pressure.sh

# ---------------------------------------------------------------- shutdown
echo "== shutdown: both daemons exit cleanly, no sanitizer report"
for d in A B; do
    pidvar=${d}_PID
    pid=${!pidvar}
    [ -n "$pid" ] || continue
    kill -TERM "$pid" 2>/dev/null
    rc=0; wait "$pid" || rc=$?
    printf -v "$pidvar" '%s' ""
    log=$WORK/$(echo "$d" | tr AB ab).log
    if grep -q 'Sanitizer' "$log"; then
        bad "daemon $d: exit status $rc, sanitizer report: $(grep -m1 -E 'ERROR: |SUMMARY: ' "$log")"
        grep -A12 -m1 'ERROR: ' "$log" | grep -E '#[0-9]+ .* in (rp_|handle_|on_|json_)' | head -4 | sed 's/^/         /'
    else
        check "daemon $d: SIGTERM, exit status $rc" test "$rc" = 0
    fi
done

# ---------------------------------------------------------------- 13. STUN rate
BIN=$BIN TOOLS=$TOOLS tests/hostile/stunflood.sh > "$WORK/stunflood.out" 2>&1
sf_rc=$?
cat "$WORK/stunflood.out"
read -r sf_p sf_f <<< "$(sed -n 's/^stunflood: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$WORK/stunflood.out")"
pass=$((pass + ${sf_p:-0})) fail=$((fail + ${sf_f:-0}))
[ "$sf_rc" = 0 ] || [ "${sf_f:-0}" -gt 0 ] || bad "tests/hostile/stunflood.sh: exit status $sf_rc without a failed check"

# ---------------------------------------------------------------- 14-17
# The probe's side (it needs no daemon of this script): its counts join ours.
BIN=$BIN tests/hostile/ctlclient.sh | tee "$WORK/ctlclient.out"
ctl_rc=${PIPESTATUS[0]}
read -r cp cf cs <<< "$(sed -n 's/^ctlclient: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p' "$WORK/ctlclient.out")"
pass=$((pass + ${cp:-0})) fail=$((fail + ${cf:-0})) skipped=$((skipped + ${cs:-0}))
[ "$ctl_rc" = 0 ] || [ "${cf:-0}" -gt 0 ] || bad "tests/hostile/ctlclient.sh: exit status $ctl_rc"

echo "hostile: $pass passed, $fail failed, $known known limits, $skipped skipped"
[ "$fail" = 0 ]
