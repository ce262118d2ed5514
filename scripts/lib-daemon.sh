# Shared by scripts/demo and tests/integration: a throw-away rtpprobed on loopback.
# Source it, set BIN (directory with rtpprobed/rtpprobe) and WORK (a temp dir).

# A TCP port nobody listens on, from a range unlikely to be used.
rp_free_port() {
    local p
    for p in $(seq "${1:-18743}" $(( ${1:-18743} + 200 ))); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# rp_make_config FILE PORT PORT_MIN PORT_MAX [tls]: writes a config, a token in
# $WORK/token and, with tls, a self-signed cert for 127.0.0.1 in $WORK.
rp_make_config() {
    local file=$1 port=$2 pmin=$3 pmax=$4 tls=${5:-tls}
    [ -s "$WORK/token" ] || openssl rand -hex 24 > "$WORK/token"
    local hash
    hash=$("$BIN/rtpprobed" --hash-token < "$WORK/token")
    local tlslines=""
    if [ "$tls" = tls ]; then
        if [ ! -s "$WORK/cert.pem" ]; then
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
                -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
                -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
        fi
        tlslines="tls_cert = \"$WORK/cert.pem\"; tls_key = \"$WORK/key.pem\";"
    fi
    cat > "$file" <<CONF
control: {
    listen = "127.0.0.1:$port";
    $tlslines
    tokens = ( "$hash" );
};
media: { bind = "127.0.0.1"; port_min = $pmin; port_max = $pmax; };
limits: { max_sessions = ${RP_MAX_SESSIONS:-20}; max_duration = 600; };
log: { level = "${RP_LOG_LEVEL:-info}"; };
CONF
}

# rp_start_daemon CONFIG LOG: starts rtpprobed, waits for /healthz, sets RP_PID.
rp_start_daemon() {
    local conf=$1 log=$2 url
    "$BIN/rtpprobed" -c "$conf" 2> "$log" &
    RP_PID=$!
    url=$(sed -n 's/^ *listen = "\(.*\)";/\1/p' "$conf" | head -n 1)
    # Ready when the control port accepts connections (bash's /dev/tcp: no curl needed).
    for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/${url%:*}/${url##*:}") 2>/dev/null; then
            return 0
        fi
        kill -0 "$RP_PID" 2>/dev/null || { echo "rtpprobed exited:"; cat "$log"; return 1; }
        sleep 0.1
    done
    echo "rtpprobed did not become ready:"; cat "$log"
    return 1
}

# rp_stop_daemon: SIGTERM and wait; returns the daemon's exit status.
rp_stop_daemon() {
    [ -n "${RP_PID:-}" ] || return 0
    kill -TERM "$RP_PID" 2>/dev/null || true
    local rc=0
    wait "$RP_PID" || rc=$?
    RP_PID=
    return $rc
}

# jqe ARGS...: `jq -e ARGS` that also fails when the input is empty. jq 1.6
# (Debian 12's) exits 0 on no input at all, so a probe that printed nothing
# would pass every `jq -e` check made on its report.
jqe() {
    local out
    out=$(jq -e "$@") || return 1
    [ -n "$out" ] && printf '%s\n' "$out"
}
export -f jqe  # for the checks that run in `bash -c`
