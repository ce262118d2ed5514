/* Port-range check, daemon side (include/pcdaemon.h, docs/port-check.md).
 * A raw IPPROTO_UDP socket gets a copy of every inbound UDP datagram before
 * the kernel looks for a bound socket; its BPF filter keeps those from the
 * checking probe's address to the range. Nothing is bound, so Asterisk (or
 * anyone) keeps and can take every port during a check. The socket is opened
 * once, at start (the only use of CAP_NET_RAW, dropped after it), and between
 * checks is bound to a local address no packet goes to, behind a drop-all
 * filter. During a check it is bound to any address. (Not connect(): that
 * pins the route's source address, and disconnecting a raw socket unhashes
 * it: it would never receive again.) Answers go out
 * through the same socket with a hand-built UDP header, one per tagged probe
 * packet at most (each sequence number once), never larger. */
#include "pcdaemon.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "log.h"
#include "portcheck.h"
#include "procstat.h"
#include "timeutil.h"
#include "wire.h"

#define PCD_RCVBUF (512 * 1024)
/* Between checks the raw socket is bound here: a bound raw socket matches
 * only datagrams to its address, so the kernel copies none of the host's UDP
 * (Asterisk's RTP) to it. A loopback address (local wherever lo is up) that
 * nothing sends to. */
#define PCD_IDLE_PEER 0x7FFFFFFEu /* 127.255.255.254 */
#define PCD_BATCH 256          /* datagrams read per wake-up: the loop also clocks media */
#define PCD_KEEP_S 120         /* a finished check's figures stay this long for GET */
#define PCD_MAX_PKTS (RP_PC_MAX_PORTS * RP_PC_PKTS_FULL > 64 * RP_PC_PKTS_SAMPLE ? \
                      RP_PC_MAX_PORTS * RP_PC_PKTS_FULL : 64 * RP_PC_PKTS_SAMPLE)

enum pcd_count { PCD_ACCEPTED, PCD_ANSWERED, PCD_DUPLICATE, PCD_BAD_TAG, PCD_MALFORMED, PCD_NOT_LISTED, PCD_NCOUNT };
static const char *const count_names[PCD_NCOUNT] = { "accepted", "answered", "duplicate", "bad_tag", "malformed",
                                                      "not_listed" };

struct rp_pcd {
    struct event_base *base;
    bool exists, running;
    bool told_no_raw;         /* the missing CAP_NET_RAW was logged as a warning once */
    char id_hex[2 * RP_PC_ID_LEN + 1];
    uint8_t id[RP_PC_ID_LEN];
    uint8_t key[RP_PC_KEY_LEN];
    uint32_t client_be;
    unsigned lo, hi, per_port, nports, nbusy;
    bool full;
    uint32_t npkts;
    uint16_t ports[RP_PC_MAX_PORTS];
    uint16_t busy[RP_PC_MAX_PORTS];
    uint16_t seen[RP_PC_MAX_PORTS];      /* accepted packets per listed port */
    uint8_t answered[(PCD_MAX_PKTS + 7) / 8];
    uint64_t count[PCD_NCOUNT];
    uint64_t ends_mono, forget_mono;
    int fd;                   /* the raw socket, open from start; -1: it could not be */
    int raw_errno;            /* why not */
    struct event *rx, *timer;
};

static void on_timer(evutil_socket_t fd, short what, void *arg);

/* Drops what is queued: it passed another filter. Past errors (an ICMP
 * report is one, once) to the end of the queue. */
static void raw_drain(int fd)
{
    uint8_t junk[64];
    for (;;) {
        ssize_t r = recv(fd, junk, sizeof junk, MSG_DONTWAIT);
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
    }
}

/* Filter prog (n instructions), then bound to local_be (0: any address).
 * 0, or -1 (errno). */
static int raw_point(int fd, uint32_t local_be, const struct sock_filter *prog, unsigned n)
{
    struct sock_fprog fp = { .len = (unsigned short)n, .filter = (struct sock_filter *)(uintptr_t)prog };
    struct sockaddr_in at = { .sin_family = AF_INET, .sin_addr.s_addr = local_be };
    /* The filter first: between the two calls nothing new gets in. */
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof fp) < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&at, sizeof at) < 0) {
        if (!local_be)
            return -1;
        /* Not local (loopback down): any address, and the filter alone
         * decides; the kernel then copies every UDP datagram to it. */
        at.sin_addr.s_addr = 0;
        (void)bind(fd, (struct sockaddr *)&at, sizeof at);
    }
    raw_drain(fd);
    return 0;
}

static int raw_idle(int fd)
{
    static const struct sock_filter drop_all[] = { BPF_STMT(BPF_RET | BPF_K, 0) };
    return raw_point(fd, htonl(PCD_IDLE_PEER), drop_all, 1);
}

/* The raw socket, at start: the only moment the daemon needs CAP_NET_RAW. */
static void open_raw(struct rp_pcd *d)
{
    int rcvbuf = PCD_RCVBUF;
    d->fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
    if (d->fd >= 0 && raw_idle(d->fd) < 0) {
        int e = errno;
        close(d->fd);
        d->fd = -1;
        errno = e;
    }
    if (d->fd < 0) {
        d->raw_errno = errno;
        return;
    }
    (void)setsockopt(d->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
}

struct rp_pcd *rp_pcd_new(struct event_base *base)
{
    struct rp_pcd *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->base = base;
    d->timer = evtimer_new(base, on_timer, d);
    if (!d->timer) {
        free(d);
        return NULL;
    }
    open_raw(d);
    return d;
}

/* Ends the observation: the socket goes idle, the figures stay. */
static void stop(struct rp_pcd *d)
{
    if (d->rx) {
        event_free(d->rx);
        d->rx = NULL;
        if (raw_idle(d->fd) < 0) {
            rp_log_err("port check: cannot set the raw socket idle (%s): closed, no more checks",
                       strerror(errno));
            close(d->fd);
            d->fd = -1;
            d->raw_errno = EBADF;
        }
        /* Every probe's quick sample ends here: debug; a full check is news. */
        (d->full ? rp_log_info : rp_log_debug)("port check %s ended: %" PRIu64 " packets accepted, %" PRIu64
                                               " answered, %" PRIu64 " with a bad tag", d->id_hex,
                                               d->count[PCD_ACCEPTED], d->count[PCD_ANSWERED],
                                               d->count[PCD_BAD_TAG]);
    }
    d->running = false;
}

static void forget(struct rp_pcd *d)
{
    stop(d);
    OPENSSL_cleanse(d->key, sizeof d->key);
    d->exists = false;
}

void rp_pcd_free(struct rp_pcd *d)
{
    if (!d)
        return;
    forget(d);
    event_free(d->timer);
    if (d->fd >= 0)
        close(d->fd);
    free(d);
}

static int port_index(const struct rp_pcd *d, unsigned port)
{
    unsigned a = 0, b = d->nports;
    while (a < b) {
        unsigned m = (a + b) / 2;
        if (d->ports[m] < port)
            a = m + 1;
        else
            b = m;
    }
    return a < d->nports && d->ports[a] == port ? (int)a : -1;
}

/* The answer: from the checked port to the packet's source, the same 34
 * bytes' size, the kernel adding the IP header (source address: the one the
 * probe sent to, through IP_PKTINFO). */
/* True when the answer went out. */
static bool answer(struct rp_pcd *d, const struct rp_pc_dgram *g, const struct rp_pc_pkt *in)
{
    struct rp_pc_pkt out = *in;
    uint8_t payload[RP_PC_PKT_LEN], udp[8 + RP_PC_PKT_LEN];
    out.type = RP_PC_ANSWER;
    size_t plen = rp_pc_encode(&out, d->key, payload, sizeof payload);
    size_t n = plen ? rp_pc_build_udp(g->dst_be, g->src_be, g->dport, g->sport, payload, plen, udp, sizeof udp) : 0;
    if (!n || plen > g->len)
        return false;
    struct sockaddr_in to = { .sin_family = AF_INET };
    memcpy(&to.sin_addr, &g->src_be, 4);
    union {
        char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
        struct cmsghdr align;
    } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct iovec iov = { udp, n };
    struct msghdr msg = { .msg_name = &to, .msg_namelen = sizeof to, .msg_iov = &iov, .msg_iovlen = 1,
                          .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf };
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = IPPROTO_IP;
    cm->cmsg_type = IP_PKTINFO;
    cm->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
    struct in_pktinfo pi = { 0 };
    memcpy(&pi.ipi_spec_dst, &g->dst_be, 4);
    memcpy(CMSG_DATA(cm), &pi, sizeof pi);
    if (sendmsg(d->fd, &msg, MSG_DONTWAIT) != (ssize_t)n)
        return false;
    d->count[PCD_ANSWERED]++;
    return true;
}

/* One datagram the filter let through: checked, counted, answered once. */
static void on_datagram(struct rp_pcd *d, const uint8_t *buf, size_t len)
{
    struct rp_pc_dgram g;
    struct rp_pc_pkt p;
    if (rp_pc_parse_ipv4(buf, len, &g) < 0 || g.src_be != d->client_be) {
        d->count[PCD_MALFORMED]++;
        return;
    }
    int rc = rp_pc_decode(g.payload, g.len, d->key, &p);
    if (rc == -2) {
        d->count[PCD_BAD_TAG]++;
        return;
    }
    if (rc < 0 || p.type != RP_PC_PROBE || memcmp(p.id, d->id, RP_PC_ID_LEN) != 0 || p.port != g.dport ||
        p.seq >= d->npkts) {
        d->count[PCD_MALFORMED]++;
        return;
    }
    int i = port_index(d, g.dport);
    if (i < 0 || d->ports[p.seq % d->nports] != g.dport) {
        d->count[PCD_NOT_LISTED]++; /* a port in use: never answered from */
        return;
    }
    d->count[PCD_ACCEPTED]++;
    if (d->seen[i] < UINT16_MAX)
        d->seen[i]++;
    if (d->answered[p.seq / 8] >> (p.seq % 8) & 1) {
        d->count[PCD_DUPLICATE]++; /* a replay: no second answer */
        return;
    }
    /* Marked once it went: after a send that failed (a full queue, an ICMP
     * report pending on the socket) the same packet again may still get
     * its one answer. */
    if (answer(d, &g, &p))
        d->answered[p.seq / 8] |= (uint8_t)(1u << (p.seq % 8));
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct rp_pcd *d = arg;
    uint8_t buf[2048];
    (void)what;
    for (unsigned k = 0; k < PCD_BATCH; k++) {
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0)
            break;
        on_datagram(d, buf, (size_t)n);
    }
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct rp_pcd *d = arg;
    (void)fd;
    (void)what;
    if (d->running) {
        stop(d);
        struct timeval keep = { PCD_KEEP_S, 0 };
        evtimer_add(d->timer, &keep);
    } else {
        forget(d);
    }
}

static json_t *error_json(const char *msg)
{
    return json_pack("{s:s}", "error", msg);
}

/* The raw socket, bound to any address behind the check's filter (the probe's address).
 * 0, or the HTTP status of the failure with *answer set. */
static int watch_client(struct rp_pcd *d, json_t **answer)
{
    if (d->fd < 0) {
        bool perm = d->raw_errno == EPERM || d->raw_errno == EACCES;
        char msg[200];
        snprintf(msg, sizeof msg, perm ? "the port check needs CAP_NET_RAW, which rtpprobed lacked at start "
                                          "(systemd: AmbientCapabilities=CAP_NET_RAW; docs/port-check.md)"
                                       : "the port check's raw socket could not be opened: %s",
                 strerror(d->raw_errno));
        /* Each probe run asks: said once as a warning, then at debug. */
        (d->told_no_raw ? rp_log_debug : rp_log_warn)("port check refused: %s", msg);
        d->told_no_raw = true;
        *answer = error_json(msg);
        return 503;
    }
    struct sock_filter prog[RP_PC_BPF_LEN];
    unsigned n = rp_pc_bpf(prog, d->client_be, (uint16_t)d->lo, (uint16_t)d->hi);
    if (raw_point(d->fd, 0, prog, n) < 0) {
        (void)raw_idle(d->fd);
        *answer = error_json("cannot point the port check's raw socket at the probe");
        return 500;
    }
    d->rx = event_new(d->base, d->fd, EV_READ | EV_PERSIST, on_readable, d);
    if (!d->rx || event_add(d->rx, NULL) < 0) {
        event_free(d->rx);
        d->rx = NULL;
        (void)raw_idle(d->fd);
        *answer = error_json("out of memory");
        return 500;
    }
    return 0;
}

/* The request's mode and range. 0, or 400 with *answer set. */
static int parse_request(struct rp_pcd *d, const char *body, size_t len, unsigned port_min, unsigned port_max,
                         json_t **answer)
{
    json_error_t je;
    json_t *req = len ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &je) : json_object();
    const char *mode = "sample", *range = NULL;
    char msg[160] = "";
    if (!json_is_object(req) || json_unpack_ex(req, &je, 0, "{s?s, s?s}", "mode", &mode, "range", &range) < 0)
        snprintf(msg, sizeof msg, "body: expected {\"mode\": \"sample\"|\"full\", \"range\": \"A-B\"}");
    else if (strcmp(mode, "sample") != 0 && strcmp(mode, "full") != 0)
        snprintf(msg, sizeof msg, "mode: expected \"sample\" or \"full\"");
    d->full = !msg[0] && strcmp(mode, "full") == 0;
    d->lo = port_min;
    d->hi = port_max;
    if (!msg[0] && range &&
        (rp_pc_parse_range(range, &d->lo, &d->hi) < 0 || d->lo < port_min || d->hi > port_max))
        snprintf(msg, sizeof msg, "range: expected A-B within the media range %u-%u", port_min, port_max);
    if (!msg[0] && d->full && ((d->hi & ~1u) - ((d->lo + 1) & ~1u)) / 2 + 1 > RP_PC_MAX_PORTS)
        snprintf(msg, sizeof msg, "range: a full check takes at most %u even ports (%u s at %u packets/s)",
                 RP_PC_MAX_PORTS, RP_PC_MAX_S - RP_PC_GRACE_S, RP_PC_RATE_PPS);
    json_decref(req);
    if (msg[0]) {
        *answer = error_json(msg);
        return 400;
    }
    return 0;
}

/* The ports to try: those no process holds now (/proc/self/net/udp, udp6). */
static int choose_ports(struct rp_pcd *d, json_t **answer)
{
    static const char *const paths[] = RP_PROC_UDP_PATHS;
    struct rp_portbits *bound = calloc(1, sizeof *bound);
    if (!bound || rp_proc_read_udp(paths, sizeof paths / sizeof *paths, RP_PROC_UDP_CAP, bound) == 0) {
        free(bound);
        *answer = error_json("cannot read the host's bound UDP ports (/proc/self/net/udp)");
        return 500; /* trying ports blind could send to Asterisk's */
    }
    d->nports = rp_pc_select(d->lo, d->hi, d->full, bound, d->ports, RP_PC_MAX_PORTS, d->busy, RP_PC_MAX_PORTS,
                             &d->nbusy);
    free(bound);
    if (!d->nports) {
        *answer = error_json("no free port to try in the range (all in use, or no even port)");
        return 409;
    }
    d->per_port = d->full ? RP_PC_PKTS_FULL : RP_PC_PKTS_SAMPLE;
    d->npkts = d->nports * d->per_port;
    return 0;
}

static json_t *port_array(const uint16_t *ports, unsigned n)
{
    json_t *a = json_array();
    for (unsigned i = 0; a && i < n; i++)
        json_array_append_new(a, json_integer(ports[i]));
    return a;
}

static json_t *created_json(const struct rp_pcd *d, unsigned lifetime_s)
{
    char key_hex[2 * RP_PC_KEY_LEN + 1];
    rp_hex_encode(d->key, sizeof d->key, key_hex, sizeof key_hex);
    json_t *j = json_pack("{s:s, s:s, s:s, s:{s:i, s:i}, s:o, s:o, s:i, s:i, s:i}", "id", d->id_hex, "key",
                          key_hex, "mode", d->full ? "full" : "sample", "range", "from", (int)d->lo, "to",
                          (int)d->hi, "ports", port_array(d->ports, d->nports), "in_use",
                          port_array(d->busy, d->nbusy), "packets_per_port", (int)d->per_port, "rate_pps",
                          (int)RP_PC_RATE_PPS, "expires_s", (int)lifetime_s);
    OPENSSL_cleanse(key_hex, sizeof key_hex);
    return j;
}

static int client_ipv4(const struct sockaddr *sa, uint32_t *be)
{
    if (sa->sa_family == AF_INET) {
        memcpy(be, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        return 0;
    }
    const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    if (sa->sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(a6)) {
        memcpy(be, a6->s6_addr + 12, 4);
        return 0;
    }
    return -1;
}

int rp_pcd_create(struct rp_pcd *d, const char *body, size_t len, unsigned port_min, unsigned port_max,
                  const struct sockaddr *client, json_t **answer)
{
    uint64_t now = rp_monotonic_ns();
    if (d->running) {
        char msg[120];
        /* A timer that fires late must not make "retry in 18446744073 s". */
        uint64_t left = d->ends_mono > now ? d->ends_mono - now : 0;
        snprintf(msg, sizeof msg, "a port check is running (one at a time); retry in %" PRIu64 " s",
                 (uint64_t)(left / NS_PER_S + 1));
        *answer = error_json(msg);
        return 503;
    }
    uint32_t client_be;
    if (client_ipv4(client, &client_be) < 0) {
        *answer = error_json("the port check is IPv4 only (docs/port-check.md)");
        return 400;
    }
    forget(d);
    memset(d->seen, 0, sizeof d->seen);
    memset(d->answered, 0, sizeof d->answered);
    memset(d->count, 0, sizeof d->count);
    d->client_be = client_be;
    int status = parse_request(d, body, len, port_min, port_max, answer);
    if (!status)
        status = choose_ports(d, answer);
    if (!status && (RAND_bytes(d->id, sizeof d->id) != 1 || RAND_bytes(d->key, sizeof d->key) != 1)) {
        *answer = error_json("no randomness");
        status = 500;
    }
    if (!status)
        status = watch_client(d, answer);
    if (status)
        return status;
    rp_hex_encode(d->id, sizeof d->id, d->id_hex, sizeof d->id_hex);
    unsigned lifetime = (d->npkts + RP_PC_RATE_PPS - 1) / RP_PC_RATE_PPS + RP_PC_GRACE_S;
    if (lifetime > RP_PC_MAX_S)
        lifetime = RP_PC_MAX_S;
    d->exists = d->running = true;
    d->ends_mono = now + (uint64_t)lifetime * NS_PER_S;
    struct timeval tv = { (time_t)lifetime, 0 };
    if (evtimer_add(d->timer, &tv) < 0) {
        forget(d); /* a check that would never end: none */
        *answer = error_json("cannot arm the port check's timer");
        return 500;
    }
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &client_be, ip, sizeof ip);
    (d->full ? rp_log_info : rp_log_debug)("port check %s for %s: %s %u-%u, %u ports to try, %u in use, %u s",
                                           d->id_hex, ip, d->full ? "full" : "sample", d->lo, d->hi, d->nports,
                                           d->nbusy, lifetime);
    *answer = created_json(d, lifetime);
    return 201;
}

int rp_pcd_get(struct rp_pcd *d, const char *id, bool remove, json_t **answer)
{
    if (!d->exists || strlen(id) != 2 * RP_PC_ID_LEN || CRYPTO_memcmp(id, d->id_hex, 2 * RP_PC_ID_LEN) != 0) {
        *answer = error_json("no such port check");
        return 404;
    }
    if (remove && d->fd >= 0) {
        /* What is queued arrived before the DELETE: it counts (a starved loop
         * may serve the request before the socket). */
        on_readable(d->fd, EV_READ, d);
    }
    if (remove)
        stop(d);
    json_t *seen = json_array(), *counts = json_object();
    for (unsigned i = 0; seen && i < d->nports; i++)
        if (d->seen[i])
            json_array_append_new(seen, json_integer(d->ports[i]));
    for (unsigned k = 0; counts && k < PCD_NCOUNT; k++)
        json_object_set_new(counts, count_names[k], json_integer((json_int_t)d->count[k]));
    *answer = json_pack("{s:s, s:s, s:o, s:o}", "id", d->id_hex, "state", d->running ? "running" : "done", "seen",
                        seen, "packets", counts);
    if (remove) {
        evtimer_del(d->timer);
        forget(d);
    }
    return *answer ? 200 : 500;
}
