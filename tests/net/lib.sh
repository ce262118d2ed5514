# Network-namespace test bed for rtpprobe. Sourced by tests/net/run.sh and turn-run.sh.
# Needs BIN (rtpprobed, rtpprobe), TOOLS (wanbridge) and WORK (a temp dir).
#
#   agent 198.18.1.2 ── homenat ── wan ── edge ── media 198.18.50.2
#         (LAN .1.0/24)  NAT       L2     NAT      (LAN .50.0/24)
#                  198.18.100.2/24     198.18.200.2/24 = the media host's public address
#
# wan is one Ethernet segment carrying both WAN subnets (each side has an
# on-link route to the other): a Linux bridge, or tests/tools/wanbridge, which
# delays every UDP frame by a seeded random time. homenat is a home router
# (masquerade, replies only; see net_nft_homenat for its variants). edge is the media host's router, as in the seed's
# option B: DNAT of the control port 8743/tcp, 3478/udp and UDP 10000-20000 to
# the media host, nothing else in from its WAN side, masquerade out.
#
# Only addresses in 198.18.0.0/15 (RFC 2544 benchmarking) are used. Namespace
# names start with rp-<pid>-, so parallel runs do not collide and leftovers of
# a crashed run can be recognised and removed.

NET_PREFIX="rp-$$-"
NS_AGENT=${NET_PREFIX}agent
NS_HOME=${NET_PREFIX}homenat
NS_WAN=${NET_PREFIX}wan
NS_EDGE=${NET_PREFIX}edge
NS_MEDIA=${NET_PREFIX}media
NET_ALL_NS="$NS_AGENT $NS_HOME $NS_WAN $NS_EDGE $NS_MEDIA"

AGENT_IP=198.18.1.2
HOME_LAN_IP=198.18.1.1
HOME_WAN_IP=198.18.100.2
WAN_IP=198.18.100.1          # the bridge's own address (iperf3 server)
EDGE_WAN_IP=198.18.200.2     # the media host's public address
EDGE_LAN_IP=198.18.50.1
MEDIA_IP=198.18.50.2
CONTROL_PORT=8743
SERVER_URL="https://$EDGE_WAN_IP:$CONTROL_PORT"

# Background processes started here (daemon, captures, floods, the bridge).
NET_PIDS=""
# The runner's scenario subshell while one runs (net_cleanup ends it first).
NET_SCEN_PID=""

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# Removes namespaces left by an earlier run whose shell is gone (crash, kill -9),
# with whatever still runs inside them.
net_cleanup_stale() {
    local ns pid
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^rp-[0-9]+-' || true); do
        pid=${ns#rp-}
        pid=${pid%%-*}
        [ "$pid" = "$$" ] && continue
        # Still running (a zombie or a reused pid has another or no command line)?
        grep -qa 'run\.sh' "/proc/$pid/cmdline" 2>/dev/null && continue
        echo "net: removing stale namespace $ns"
        net_kill_ns_pids "$ns"
        ip netns del "$ns" 2>/dev/null || true
    done
}

net_kill_ns_pids() {
    local ns=$1 pids
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [ -n "$pids" ] || return 0
    kill -TERM $pids 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        pids=$(ip netns pids "$ns" 2>/dev/null || true)
        [ -n "$pids" ] || return 0
        sleep 0.1
    done
    kill -KILL $pids 2>/dev/null || true
}

# net_bg NS CMD...: starts CMD in NS in the background, remembers its pid in BG_PID.
net_bg() {
    local ns=$1; shift
    ip netns exec "$ns" "$@" &
    BG_PID=$!
    NET_PIDS="$NET_PIDS $BG_PID"
}

net_stop_pid() {
    local pid=$1 sig=${2:-TERM}
    kill "-$sig" "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# Tears down everything this run created; safe to call more than once.
net_down() {
    local pid ns
    for pid in $NET_PIDS; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in $NET_PIDS; do wait "$pid" 2>/dev/null || true; done
    NET_PIDS=""
    RP_PID=""
    for ns in $NET_ALL_NS; do
        if ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$ns"; then
            net_kill_ns_pids "$ns"
            ip netns del "$ns" 2>/dev/null || true
        fi
    done
}

# net_install_cleanup TAG WHAT FAILED_VAR: the runner's exit handling, then the
# stale-namespace sweep. On exit, and on INT/TERM (which exit 130, so the EXIT
# trap runs), the scenario subshell in NET_SCEN_PID (if any) is ended first (that
# ends whatever it waits for, so its own clean-up runs at once), then net_down;
# WORK is removed unless KEEP_WORK=1 or the variable named FAILED_VAR is not 0
# (unset counts as failed: a run cut short keeps its files). TAG prefixes the
# messages; WHAT says what WORK holds.
net_install_cleanup() {
    NET_TAG=$1 NET_KEPT=$2 NET_FAILED_VAR=$3
    trap net_cleanup EXIT
    trap 'echo "$NET_TAG: interrupted"; exit 130' INT TERM
    net_cleanup_stale
}

# shellcheck disable=SC2317  # called by the EXIT trap
net_cleanup() {
    [ -n "$NET_SCEN_PID" ] && kill -TERM "$NET_SCEN_PID" 2>/dev/null
    net_down
    [ -n "$NET_SCEN_PID" ] && wait "$NET_SCEN_PID" 2>/dev/null
    if [ "${KEEP_WORK:-0}" = 1 ] || [ "${!NET_FAILED_VAR:-1}" != 0 ]; then
        echo "$NET_TAG: $NET_KEPT kept in $WORK"
    else
        rm -rf "$WORK"
    fi
}

# veth NS1 IF1 NS2 IF2: a cable between two namespaces (created in place, so
# the names never meet in the root namespace).
net_veth() {
    ip link add name "$2" netns "$1" type veth peer name "$4" netns "$3"
    ip -n "$1" link set "$2" up
    ip -n "$3" link set "$4" up
}

# net_up [bridge|wanbridge]: builds the topology. With wanbridge, wan's two
# interfaces are left unbridged for tests/tools/wanbridge (net_start_wanbridge).
net_up() {
    local mode=${1:-bridge} ns
    for ns in $NET_ALL_NS; do
        ip netns add "$ns"
        ip -n "$ns" link set lo up
        # IPv6 off: no router solicitations or DAD in the captures and counters.
        nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    done
    net_veth "$NS_AGENT" a-lan "$NS_HOME" h-lan
    net_veth "$NS_HOME" h-wan "$NS_WAN" w-home
    net_veth "$NS_WAN" w-edge "$NS_EDGE" e-wan
    net_veth "$NS_EDGE" e-lan "$NS_MEDIA" m-lan

    ip -n "$NS_AGENT" addr add "$AGENT_IP/24" dev a-lan
    ip -n "$NS_AGENT" route add default via "$HOME_LAN_IP"

    ip -n "$NS_HOME" addr add "$HOME_LAN_IP/24" dev h-lan
    ip -n "$NS_HOME" addr add "$HOME_WAN_IP/24" dev h-wan
    ip -n "$NS_HOME" route add 198.18.200.0/24 dev h-wan
    nsx "$NS_HOME" sysctl -qw net.ipv4.ip_forward=1

    ip -n "$NS_EDGE" addr add "$EDGE_WAN_IP/24" dev e-wan
    ip -n "$NS_EDGE" addr add "$EDGE_LAN_IP/24" dev e-lan
    ip -n "$NS_EDGE" route add 198.18.100.0/24 dev e-wan
    nsx "$NS_EDGE" sysctl -qw net.ipv4.ip_forward=1

    ip -n "$NS_MEDIA" addr add "$MEDIA_IP/24" dev m-lan
    ip -n "$NS_MEDIA" route add default via "$EDGE_LAN_IP"

    if [ "$mode" = bridge ]; then
        ip -n "$NS_WAN" link add br0 type bridge
        ip -n "$NS_WAN" link set w-home master br0
        ip -n "$NS_WAN" link set w-edge master br0
        ip -n "$NS_WAN" link set br0 up
        ip -n "$NS_WAN" addr add "$WAN_IP/24" dev br0
    fi
    net_nft_homenat ""
    net_nft_edge yes
    net_nft_counters
}

# net_nft_homenat MASQ_FLAGS [FILTERING]: the home router. Replaces its table,
# so a scenario can switch to e.g. "fully-random" (a symmetric NAT).
# FILTERING (RFC 4787 terms): "port" (default, Linux conntrack as it is:
# address- and port-dependent, only replies from the exact address and port
# the agent sent to come in), or "address" (address-dependent: UDP from any
# port of an address the agent has sent UDP to comes in, to the mapped port
# it sent from; the agent is the only LAN host and the masquerade keeps ports,
# so the mapped port is the agent's own).
# Set wanmap records (destination port . source port after NAT) of every UDP
# flow leaving the WAN side: the mapping the NAT really chose.
net_nft_homenat() {
    local flags=$1 filtering=${2:-port} adf_in="" adf_fwd=""
    if [ "$filtering" = address ]; then
        adf_in="iifname \"h-wan\" ip daddr $HOME_WAN_IP ip saddr . udp dport @sentto dnat ip to $AGENT_IP"
        adf_fwd="iifname \"h-wan\" oifname \"h-lan\" ct status dnat accept"
    fi
    nsx "$NS_HOME" nft -f - <<EOF
table ip homenat
delete table ip homenat
table ip homenat {
    set wanmap { type inet_service . inet_service; flags dynamic; }
    set sentto { type ipv4_addr . inet_service; flags dynamic,timeout; timeout 5m; }
    chain prerouting { type nat hook prerouting priority dstnat; $adf_in; }
    chain postrouting { type nat hook postrouting priority srcnat; oifname "h-wan" masquerade $flags; }
    chain forward {
        type filter hook forward priority filter; policy drop;
        iifname "h-lan" oifname "h-wan" accept
        iifname "h-wan" ct state established,related accept
        $adf_fwd
    }
    chain natseen {
        type filter hook postrouting priority 200; policy accept;
        oifname "h-wan" meta l4proto udp update @wanmap { udp dport . udp sport }
        oifname "h-wan" meta l4proto udp update @sentto { ip daddr . udp sport }
    }
}
EOF
}

# net_nft_edge yes|no|partial: the media host's router; "no" forwards only the
# control port and 3478, not the RTP range; "partial" only 10000-14999 of it.
net_nft_edge() {
    local rtp_rule=""
    [ "$1" = yes ] && rtp_rule="iifname \"e-wan\" ip daddr $EDGE_WAN_IP udp dport 10000-20000 dnat to $MEDIA_IP"
    [ "$1" = partial ] && rtp_rule="iifname \"e-wan\" ip daddr $EDGE_WAN_IP udp dport 10000-14999 dnat to $MEDIA_IP"
    nsx "$NS_EDGE" nft -f - <<EOF
table ip edge
delete table ip edge
table ip edge {
    chain prerouting {
        type nat hook prerouting priority dstnat; policy accept;
        iifname "e-wan" ip daddr $EDGE_WAN_IP tcp dport $CONTROL_PORT dnat to $MEDIA_IP
        iifname "e-wan" ip daddr $EDGE_WAN_IP udp dport 3478 dnat to $MEDIA_IP
        $rtp_rule
    }
    chain postrouting { type nat hook postrouting priority srcnat; policy accept; oifname "e-wan" masquerade; }
    chain input {
        type filter hook input priority filter; policy accept;
        iifname "e-wan" ct state established,related accept
        iifname "e-wan" drop
    }
    chain forward {
        type filter hook forward priority filter; policy drop;
        ct state established,related accept
        iifname "e-wan" ct status dnat accept
        iifname "e-lan" oifname "e-wan" accept
    }
}
EOF
}

# nft matches on the UDP payload (@th counts bits from the UDP header, whose 8
# bytes come first; see docs/wire-format.md for the layout):
#   NFT_RTP    first byte says RTP version 2 (STUN starts with 0b00, RFC 7983)
#   NFT_PRIME  the probe's priming packets: RTP whose header extension is the
#              two-byte form (bytes 12-13 = 0x1000) starting with the `up`
#              element (ID 1, length 16: bytes 16-17 = 0x0110), flag bit 0 of
#              that element (byte 19, bit 0) set. They only latch the session:
#              the probe does not count them as sent, the daemon not as
#              received (it reports them as upstream.primed).
# Every other upstream RTP packet of the probe is the measured stream.
NFT_RTP='@th,64,2 2'
NFT_PRIME='@th,64,2 2 @th,160,16 0x1000 @th,192,16 0x0110 @th,223,1 1'

# Ground-truth counters at both ends, after any firewall (priority 100), of the
# session range (UDP 10000-20000): the measured upstream stream as it left and
# as it was delivered, the priming packets apart, and downstream RTP.
#   agent: up_out (measured RTP the probe sent), prime_out, down_in (RTP delivered to the agent)
#   media: up_in (measured RTP delivered to the media host), prime_in, down_out (RTP the daemon sent)
# So the probe's and the daemon's counts compare with these directly: no
# subtraction of upstream.primed anywhere (which would also be wrong on a path
# that loses priming packets: the daemon counts only those that arrive).
net_nft_counters() {
    nsx "$NS_AGENT" nft -f - <<EOF
table inet truth {
    counter up_out { }
    counter prime_out { }
    counter down_in { }
    chain out {
        type filter hook output priority 100;
        udp dport 10000-20000 $NFT_PRIME counter name prime_out return
        udp dport 10000-20000 $NFT_RTP counter name up_out
    }
    chain in { type filter hook input priority 100; udp sport 10000-20000 $NFT_RTP counter name down_in; }
}
EOF
    nsx "$NS_MEDIA" nft -f - <<EOF
table inet truth {
    counter up_in { }
    counter prime_in { }
    counter down_out { }
    chain in {
        type filter hook input priority 100;
        udp dport 10000-20000 $NFT_PRIME counter name prime_in return
        udp dport 10000-20000 $NFT_RTP counter name up_in
    }
    chain out { type filter hook output priority 100; udp sport 10000-20000 $NFT_RTP counter name down_out; }
}
EOF
}

# net_nft NS: loads an nft script from stdin into NS.
net_nft() { nsx "$1" nft -f -; }

# net_counter NS FAMILY TABLE NAME: packets of a named counter.
net_counter() {
    nsx "$1" nft -j list counter "$2" "$3" "$4" | jq '[.nftables[] | select(.counter) | .counter.packets][0]'
}

# net_wanmap: "dport:sport" pairs seen leaving homenat's WAN side, one per line.
net_wanmap() {
    nsx "$NS_HOME" nft -j list set ip homenat wanmap |
        jq -r '.nftables[] | select(.set) | .set.elem[]? | (.concat // .elem.val.concat) | "\(.[0]):\(.[1])"'
}

# The daemon's TLS certificate, for the address the probe connects to.
net_make_cert() {
    [ -s "$WORK/cert.pem" ] && return 0
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj "/CN=$EDGE_WAN_IP" -addext "subjectAltName=IP:$EDGE_WAN_IP" \
        -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
}

# net_start_daemon: rtpprobed in the media namespace, listening on the media
# host's own address; ready once /healthz answers from the agent through both
# NATs. Config and token via scripts/lib-daemon.sh.
net_start_daemon() {
    local conf=$WORK/rtpprobed.conf log=$WORK/${1:-run}.rtpprobed.log
    DAEMON_LOG=$log
    net_make_cert
    rp_make_config "$conf" "$CONTROL_PORT" 10000 20000 tls
    sed -i -e "s|listen = \"127.0.0.1:$CONTROL_PORT\"|listen = \"$MEDIA_IP:$CONTROL_PORT\"|" \
           -e 's|bind = "127.0.0.1"|bind = "0.0.0.0"|' "$conf"
    # stun.listen where the daemon knows it (older builds reject the group).
    cp "$conf" "$conf.stun"
    echo 'stun: { listen = "0.0.0.0:3478"; };' >> "$conf.stun"
    if "$BIN/rtpprobed" -c "$conf.stun" --check-config >/dev/null 2>&1; then
        mv "$conf.stun" "$conf"
    else
        rm -f "$conf.stun"
    fi
    RTPPROBE_TOKEN=$(cat "$WORK/token")
    export RTPPROBE_TOKEN
    : >> "$log"
    echo "== $(date +%T) daemon start" >> "$log"
    ip netns exec "$NS_MEDIA" "$BIN/rtpprobed" -c "$conf" 2>> "$log" &
    RP_PID=$!
    NET_PIDS="$NET_PIDS $RP_PID"
    for _ in $(seq 1 50); do
        if nsx "$NS_AGENT" curl -s --max-time 1 --cacert "$WORK/cert.pem" -o /dev/null "$SERVER_URL/healthz"; then
            return 0
        fi
        kill -0 "$RP_PID" 2>/dev/null || { echo "rtpprobed exited:"; tail -20 "$log"; return 1; }
        sleep 0.2
    done
    echo "rtpprobed not reachable from the agent at $SERVER_URL/healthz:"
    tail -20 "$log"
    return 1
}

net_api() {
    # Retried: scenario 6 asks through an uplink it keeps congested.
    nsx "$NS_AGENT" curl -s --max-time 10 --retry 2 --retry-all-errors --cacert "$WORK/cert.pem" -H "Authorization: Bearer $RTPPROBE_TOKEN" "$@"
}

# net_probe NAME [rtpprobe options]: runs the probe in the agent namespace.
# Leaves $WORK/NAME.json (report), NAME.err, NAME.daemon.json (the daemon's
# view of the session), and PROBE_RC (exit status).
net_probe() {
    local name=$1; shift
    PROBE_RC=0
    echo "== $(date +%T.%N) probe start" >> "$DAEMON_LOG"
    nsx "$NS_AGENT" "$BIN/rtpprobe" --server "$SERVER_URL" --cacert "$WORK/cert.pem" --json --quiet --keep "$@" \
        > "$WORK/$name.json" 2> "$WORK/$name.err" || PROBE_RC=$?
    echo "== $(date +%T.%N) probe end, exit $PROBE_RC" >> "$DAEMON_LOG"
    # A daemon that is gone now crashed, or something outside killed it.
    DAEMON_DIED=""
    if ! kill -0 "$RP_PID" 2>/dev/null; then
        local st=0
        wait "$RP_PID" || st=$?
        DAEMON_DIED="rtpprobed ended during the run (exit status $st$([ $st -gt 128 ] && echo ", signal $((st - 128))")): $(tail -3 "$DAEMON_LOG" | tr '\n' ' ')"
    fi
    local id
    id=$(jq -r '.session_id // empty' "$WORK/$name.json" 2>/dev/null || true)
    if [ -n "$id" ]; then
        net_api "$SERVER_URL/v1/sessions/$id" > "$WORK/$name.daemon.json" || true
        net_api -o /dev/null -X DELETE "$SERVER_URL/v1/sessions/$id" || true
    else
        echo '{}' > "$WORK/$name.daemon.json"
    fi
}

# net_truth: the ground-truth counters, as TRUTH_UP_OUT, TRUTH_UP_IN,
# TRUTH_DOWN_OUT, TRUTH_DOWN_IN (measured streams) and TRUTH_PRIME_OUT,
# TRUTH_PRIME_IN (priming packets).
net_truth() {
    TRUTH_UP_OUT=$(net_counter "$NS_AGENT" inet truth up_out)
    TRUTH_PRIME_OUT=$(net_counter "$NS_AGENT" inet truth prime_out)
    TRUTH_DOWN_IN=$(net_counter "$NS_AGENT" inet truth down_in)
    TRUTH_UP_IN=$(net_counter "$NS_MEDIA" inet truth up_in)
    TRUTH_PRIME_IN=$(net_counter "$NS_MEDIA" inet truth prime_in)
    TRUTH_DOWN_OUT=$(net_counter "$NS_MEDIA" inet truth down_out)
}

# net_start_wanbridge ARGS...: tests/tools/wanbridge between wan's two interfaces.
net_start_wanbridge() {
    local out=$WORK/wanbridge.out
    : > "$out"
    net_bg "$NS_WAN" "$TOOLS/wanbridge" w-home w-edge --stats "$WORK/wanbridge.json" "$@" > "$out" 2>&1
    WANBRIDGE_PID=$BG_PID
    for _ in $(seq 1 50); do
        grep -q '^ready' "$out" && return 0
        kill -0 "$WANBRIDGE_PID" 2>/dev/null || { echo "wanbridge exited"; return 1; }
        sleep 0.1
    done
    echo "wanbridge not ready"
    return 1
}

# net_dump_state FILE: neighbours, links, rulesets with counters and conntrack
# of every namespace, for a failed scenario.
net_dump_state() {
    local ns
    for ns in $NET_ALL_NS; do
        echo "######## $ns"
        ip -n "$ns" -s link 2>&1
        ip -n "$ns" addr 2>&1
        ip -n "$ns" route 2>&1
        ip -n "$ns" -s neigh 2>&1
        nsx "$ns" nft list ruleset 2>&1
        nsx "$ns" cat /proc/net/nf_conntrack 2>/dev/null
        nsx "$ns" ss -tuanp 2>&1
    done > "$1"
}
