/* stunflood: a STUN Binding flood from many source addresses, for stun.rate
 * (tests/hostile/stunflood.sh).
 *
 *   stunflood flood --target IP:PORT [--target IP:PORT] --victim IP [--victim-sockets K]
 *                   --others N --other-base IP --pps P --seconds S
 *   stunflood ask --from IP --target IP:PORT [--target IP:PORT] [--timeout-ms MS]
 *
 * flood: half the datagrams come from K sockets bound to the victim address
 * (one IP, many ports: a spoofed flood aimed at one victim, as the daemon sees
 * it), half from N other addresses (other-base, other-base + 1, ...); every
 * source sends to every target in turn. All are 64-byte padded Binding
 * requests, each of which deserves an answer (a rp_stun_answer() ANSWERED)
 * unless the source is above the rate. Every answer is matched through its
 * transaction id (socket, target) and must map the socket that asked and come
 * from the target asked. After the flood the tool waits until QUIET_MS pass
 * without an answer. It prints one JSON object: sent and answered per target,
 * for the victim and for the other sources, and the elapsed time on its own
 * clock (first request to the later of the last request and the last answer).
 *
 * ask: one fresh socket on --from (a new port: a second probe behind the same
 * NAT) asks every target every 100 ms, as rtpprobe does, until each answered
 * or --timeout-ms passed; prints the attempts and the time to each answer.
 *
 * The tool measures; the script judges. Exit 0 when it could run. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>

#include "netaddr.h"
#include "stun.h"
#include "timeutil.h"
#include "wire.h"

#include "udpsock.h"

#define MAX_TARGETS 2
#define MAX_VICTIM_SOCKETS 16
#define MAX_OTHERS 250
#define MAX_SOCKETS (MAX_VICTIM_SOCKETS + MAX_OTHERS)
#define REQ_LEN 64                 /* as rtpprobe pads them: never too small to answer */
#define QUIET_MS 500               /* after the flood: this long without an answer ends it */
#define DRAIN_MAX_MS 5000
#define ASK_INTERVAL_MS 100        /* rtpprobe's STUN_INTERVAL_MS */
#define RCVBUF_BYTES (4 * 1024 * 1024)
#define TXID_TAG 0x464c4f4fu       /* "FLOO": marks our transaction ids */

struct sock {
    int fd;
    struct sockaddr_storage local;
    uint64_t sent[MAX_TARGETS], answered[MAX_TARGETS];
    uint32_t drops;                /* answers our queue dropped (SO_RXQ_OVFL) */
};

struct flood {
    struct sockaddr_storage target[MAX_TARGETS];
    unsigned ntargets, nvictim, nothers;
    struct sock s[MAX_SOCKETS];    /* victim sockets first, then one per other address */
    uint64_t send_failed, unmatched;
    uint64_t t0, last_send, last_answer;
};

/* A UDP socket bound to ip (any port), with a queue deep enough for every answer. */
static int bound_socket(const char *ip, struct sockaddr_storage *local)
{
    return udpsock_open(ip, RCVBUF_BYTES, false, local);
}

static void make_txid(uint8_t txid[RP_STUN_TXID_LEN], unsigned sock, unsigned target, uint32_t seq)
{
    rp_put32(txid, TXID_TAG);
    txid[4] = (uint8_t)(sock >> 8);
    txid[5] = (uint8_t)sock;
    txid[6] = (uint8_t)target;
    txid[7] = 0;
    rp_put32(txid + 8, seq);
}

/* The answer to one of our requests from socket `sock`: which target it
 * answers for, or -1 when it is none of ours or maps the wrong address. */
static int match_answer(const struct sockaddr_storage *targets, unsigned ntargets, unsigned sock,
                        const struct sockaddr_storage *local, const uint8_t *buf, size_t len,
                        const struct sockaddr *from)
{
    struct rp_stun_msg msg;
    if (rp_stun_parse(buf, len, &msg) != RP_STUN_OK || msg.type != RP_STUN_BINDING_SUCCESS || !msg.has_mapped)
        return -1;
    if (rp_get32(msg.txid) != TXID_TAG || ((unsigned)msg.txid[4] << 8 | msg.txid[5]) != sock)
        return -1;
    unsigned t = msg.txid[6];
    if (t >= ntargets || !rp_addr_equal(from, (const struct sockaddr *)&targets[t]) ||
        !rp_addr_equal((const struct sockaddr *)&msg.mapped, (const struct sockaddr *)local))
        return -1;
    return (int)t;
}

/* Reads everything waiting on socket i; returns the answers taken. */
static unsigned drain_socket(struct flood *f, unsigned i)
{
    unsigned got = 0;
    for (;;) {
        uint8_t buf[2048];
        struct sockaddr_storage from;
        struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf };
        union {
            char b[CMSG_SPACE(sizeof(uint32_t))];
            struct cmsghdr align;
        } ctl;
        struct msghdr msg = { .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1,
                              .msg_control = ctl.b, .msg_controllen = sizeof ctl.b };
        ssize_t n = recvmsg(f->s[i].fd, &msg, 0);
        if (n < 0)
            return got;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            uint32_t d;
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
                memcpy(&d, CMSG_DATA(c), sizeof d); /* the socket's drops so far */
                if (d > f->s[i].drops)
                    f->s[i].drops = d;
            }
        }
        int t = match_answer(f->target, f->ntargets, i, &f->s[i].local, buf, (size_t)n, (struct sockaddr *)&from);
        if (t < 0) {
            f->unmatched++;
            continue;
        }
        f->s[i].answered[t]++;
        f->last_answer = rp_monotonic_ns();
        got++;
    }
}

static unsigned nsockets(const struct flood *f)
{
    return f->nvictim + f->nothers;
}

static unsigned drain_all(struct flood *f)
{
    unsigned got = 0;
    for (unsigned i = 0; i < nsockets(f); i++)
        got += drain_socket(f, i);
    return got;
}

/* Datagram i of the flood: even ones from a victim socket, odd ones from an
 * other address; each source to each target in turn. */
static void send_one(struct flood *f, uint64_t i)
{
    uint64_t j = i / 2;
    unsigned t = (unsigned)(j % f->ntargets);
    uint64_t k = j / f->ntargets;
    unsigned sock = i % 2 == 0 ? (unsigned)(k % f->nvictim) : f->nvictim + (unsigned)(k % f->nothers);
    uint8_t txid[RP_STUN_TXID_LEN], req[128];
    make_txid(txid, sock, t, (uint32_t)i);
    size_t n = rp_stun_build_request(req, sizeof req, txid, REQ_LEN);
    const struct sockaddr *to = (const struct sockaddr *)&f->target[t];
    if (n == 0 || sendto(f->s[sock].fd, req, n, 0, to, rp_addr_len(to)) != (ssize_t)n) {
        f->send_failed++;
        return;
    }
    f->s[sock].sent[t]++;
}

static void wait_readable(struct flood *f, int timeout_ms)
{
    struct pollfd p[MAX_SOCKETS];
    for (unsigned i = 0; i < nsockets(f); i++)
        p[i] = (struct pollfd){ .fd = f->s[i].fd, .events = POLLIN };
    (void)poll(p, nsockets(f), timeout_ms);
}

static void run_flood(struct flood *f, uint64_t pps, double seconds)
{
    uint64_t total = (uint64_t)((double)pps * seconds), i = 0;
    f->t0 = rp_monotonic_ns();
    while (i < total) {
        uint64_t due = (rp_monotonic_ns() - f->t0) * pps / 1000000000ull + 1;
        while (i < due && i < total)
            send_one(f, i++);
        f->last_send = rp_monotonic_ns();
        drain_all(f);
        wait_readable(f, 1);
    }
    /* Answers still on their way, or requests still queued at the daemon. */
    uint64_t quiet_from = rp_monotonic_ns(), stop = quiet_from + DRAIN_MAX_MS * 1000000ull;
    while (rp_monotonic_ns() - quiet_from < QUIET_MS * 1000000ull && rp_monotonic_ns() < stop) {
        wait_readable(f, 50);
        if (drain_all(f))
            quiet_from = rp_monotonic_ns();
    }
}

static json_t *target_json(const struct flood *f, unsigned t, const char *text)
{
    uint64_t sent = 0, answered = 0;
    for (unsigned i = 0; i < nsockets(f); i++) {
        sent += f->s[i].sent[t];
        answered += f->s[i].answered[t];
    }
    return json_pack("{s:s, s:I, s:I}", "addr", text, "sent", (json_int_t)sent, "answered", (json_int_t)answered);
}

static uint64_t sum(const uint64_t *v, unsigned n)
{
    uint64_t s = 0;
    for (unsigned i = 0; i < n; i++)
        s += v[i];
    return s;
}

/* The victim's sockets together (one source IP), and the other sources each. */
static json_t *sources_json(const struct flood *f, const char *victim_ip)
{
    uint64_t vs = 0, va = 0, va_t[MAX_TARGETS] = { 0 };
    for (unsigned i = 0; i < f->nvictim; i++) {
        vs += sum(f->s[i].sent, f->ntargets);
        va += sum(f->s[i].answered, f->ntargets);
        for (unsigned t = 0; t < f->ntargets; t++)
            va_t[t] += f->s[i].answered[t];
    }
    json_t *by_target = json_array();
    for (unsigned t = 0; t < f->ntargets; t++)
        json_array_append_new(by_target, json_integer((json_int_t)va_t[t]));
    json_t *victim = json_pack("{s:s, s:i, s:I, s:I, s:o}", "ip", victim_ip, "sockets", (int)f->nvictim, "sent",
                               (json_int_t)vs, "answered", (json_int_t)va, "answered_by_target", by_target);
    json_t *each = json_array();
    uint64_t smin = UINT64_MAX, smax = 0, amin = UINT64_MAX, amax = 0, stot = 0, atot = 0;
    for (unsigned i = f->nvictim; i < nsockets(f); i++) {
        uint64_t s = sum(f->s[i].sent, f->ntargets), a = sum(f->s[i].answered, f->ntargets);
        char ip[64];
        rp_addr_format_ip((const struct sockaddr *)&f->s[i].local, ip, sizeof ip);
        json_array_append_new(each, json_pack("{s:s, s:I, s:I}", "from", ip, "sent", (json_int_t)s, "answered",
                                              (json_int_t)a));
        smin = s < smin ? s : smin;
        smax = s > smax ? s : smax;
        amin = a < amin ? a : amin;
        amax = a > amax ? a : amax;
        stot += s;
        atot += a;
    }
    json_t *others = json_pack("{s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "count", (int)f->nothers, "sent_min",
                               (json_int_t)smin, "sent_max", (json_int_t)smax, "answered_min", (json_int_t)amin,
                               "answered_max", (json_int_t)amax, "sent_total", (json_int_t)stot,
                               "answered_total", (json_int_t)atot, "each", each);
    return json_pack("{s:o, s:o}", "victim", victim, "others", others);
}

static json_t *flood_json(const struct flood *f, const char *const *targets, const char *victim_ip, uint64_t pps,
                          double seconds)
{
    uint64_t sent = 0, answered = 0, drops = 0;
    for (unsigned i = 0; i < nsockets(f); i++) {
        sent += sum(f->s[i].sent, f->ntargets);
        answered += sum(f->s[i].answered, f->ntargets);
        drops += f->s[i].drops;
    }
    uint64_t end = f->last_answer > f->last_send ? f->last_answer : f->last_send;
    json_t *tj = json_array();
    for (unsigned t = 0; t < f->ntargets; t++)
        json_array_append_new(tj, target_json(f, t, targets[t]));
    json_t *out = sources_json(f, victim_ip);
    json_object_set_new(out, "pps", json_integer((json_int_t)pps));
    json_object_set_new(out, "seconds", json_real(seconds));
    json_object_set_new(out, "send_s", json_real((double)(f->last_send - f->t0) / 1e9));
    json_object_set_new(out, "elapsed_s", json_real((double)(end - f->t0) / 1e9));
    json_object_set_new(out, "sent", json_integer((json_int_t)sent));
    json_object_set_new(out, "answered", json_integer((json_int_t)answered));
    json_object_set_new(out, "send_failed", json_integer((json_int_t)f->send_failed));
    json_object_set_new(out, "unmatched", json_integer((json_int_t)f->unmatched));
    json_object_set_new(out, "own_socket_drops", json_integer((json_int_t)drops));
    json_object_set_new(out, "targets", tj);
    return out;
}

struct opts {
    const char *mode, *victim, *other_base, *from;
    const char *targets[MAX_TARGETS];
    unsigned ntargets, victim_sockets, others, timeout_ms;
    uint64_t pps;
    double seconds;
};

static int usage(void)
{
    fprintf(stderr, "usage: stunflood flood --target IP:PORT [--target IP:PORT] --victim IP [--victim-sockets K]\n"
                    "                       --others N --other-base IP --pps P --seconds S\n"
                    "       stunflood ask --from IP --target IP:PORT [--target IP:PORT] [--timeout-ms MS]\n");
    return 2;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){ .victim_sockets = 4, .timeout_ms = 5000, .pps = 8000, .seconds = 3 };
    if (argc < 2)
        return -1;
    o->mode = argv[1];
    for (int i = 2; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (strcmp(k, "--target") == 0 && o->ntargets < MAX_TARGETS)
            o->targets[o->ntargets++] = v;
        else if (strcmp(k, "--victim") == 0)
            o->victim = v;
        else if (strcmp(k, "--victim-sockets") == 0)
            o->victim_sockets = (unsigned)atoi(v);
        else if (strcmp(k, "--others") == 0)
            o->others = (unsigned)atoi(v);
        else if (strcmp(k, "--other-base") == 0)
            o->other_base = v;
        else if (strcmp(k, "--from") == 0)
            o->from = v;
        else if (strcmp(k, "--pps") == 0)
            o->pps = strtoull(v, NULL, 10);
        else if (strcmp(k, "--seconds") == 0)
            o->seconds = atof(v);
        else if (strcmp(k, "--timeout-ms") == 0)
            o->timeout_ms = (unsigned)atoi(v);
        else
            return -1;
    }
    return o->ntargets ? 0 : -1;
}

/* The flood's sockets: K on the victim address, one on each other address. */
static int open_flood(struct flood *f, const struct opts *o)
{
    struct in_addr base;
    if (!o->victim || !o->other_base || inet_pton(AF_INET, o->other_base, &base) != 1 || o->victim_sockets < 1 ||
        o->victim_sockets > MAX_VICTIM_SOCKETS || o->others < 1 || o->others > MAX_OTHERS || o->pps < 1)
        return -1;
    for (unsigned t = 0; t < o->ntargets; t++) {
        socklen_t len;
        if (rp_addr_parse(o->targets[t], 0, &f->target[t], &len) < 0)
            return -1;
    }
    f->ntargets = o->ntargets;
    for (unsigned i = 0; i < o->victim_sockets; i++, f->nvictim++)
        if ((f->s[i].fd = bound_socket(o->victim, &f->s[i].local)) < 0)
            return -1;
    for (unsigned i = 0; i < o->others; i++, f->nothers++) {
        struct in_addr a = { .s_addr = htonl(ntohl(base.s_addr) + i) };
        char ip[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &a, ip, sizeof ip);
        struct sock *s = &f->s[f->nvictim + i];
        if ((s->fd = bound_socket(ip, &s->local)) < 0)
            return -1;
    }
    return 0;
}

static int mode_flood(const struct opts *o)
{
    static struct flood f;
    if (open_flood(&f, o) < 0) {
        fprintf(stderr, "stunflood: bad options or cannot bind: %s\n", strerror(errno));
        return 1;
    }
    run_flood(&f, o->pps, o->seconds);
    json_t *out = flood_json(&f, o->targets, o->victim, o->pps, o->seconds);
    json_dumpf(out, stdout, JSON_COMPACT);
    putchar('\n');
    json_decref(out);
    for (unsigned i = 0; i < nsockets(&f); i++)
        close(f.s[i].fd);
    return 0;
}

/* ask: one new socket on --from, a request to each target every
 * ASK_INTERVAL_MS until each answered or the timeout. */
static int mode_ask(const struct opts *o)
{
    static struct flood f; /* one socket, index 0 */
    if (!o->from)
        return usage();
    for (unsigned t = 0; t < o->ntargets; t++) {
        socklen_t len;
        if (rp_addr_parse(o->targets[t], 0, &f.target[t], &len) < 0)
            return usage();
    }
    f.ntargets = o->ntargets;
    f.nvictim = 1;
    if ((f.s[0].fd = bound_socket(o->from, &f.s[0].local)) < 0) {
        fprintf(stderr, "stunflood: cannot bind %s: %s\n", o->from, strerror(errno));
        return 1;
    }
    uint64_t t0 = rp_monotonic_ns(), answered_at[MAX_TARGETS] = { 0 }, next = t0;
    uint32_t seq = 0;
    for (;;) {
        bool pending = false;
        for (unsigned t = 0; t < f.ntargets; t++) {
            if (f.s[0].answered[t] && !answered_at[t])
                answered_at[t] = rp_monotonic_ns();
            pending |= f.s[0].answered[t] == 0;
        }
        uint64_t now = rp_monotonic_ns();
        if (!pending || now - t0 >= (uint64_t)o->timeout_ms * 1000000ull)
            break;
        if (now >= next) {
            for (unsigned t = 0; t < f.ntargets; t++) {
                if (f.s[0].answered[t])
                    continue;
                uint8_t txid[RP_STUN_TXID_LEN], req[128];
                make_txid(txid, 0, t, seq++);
                size_t n = rp_stun_build_request(req, sizeof req, txid, REQ_LEN);
                const struct sockaddr *to = (const struct sockaddr *)&f.target[t];
                if (sendto(f.s[0].fd, req, n, 0, to, rp_addr_len(to)) == (ssize_t)n)
                    f.s[0].sent[t]++;
            }
            next = now + ASK_INTERVAL_MS * 1000000ull;
        }
        wait_readable(&f, 10);
        drain_all(&f);
    }
    char from[64];
    rp_addr_format((const struct sockaddr *)&f.s[0].local, from, sizeof from);
    json_t *tj = json_array();
    for (unsigned t = 0; t < f.ntargets; t++)
        json_array_append_new(tj, json_pack("{s:s, s:b, s:I, s:f}", "addr", o->targets[t], "answered",
                                            f.s[0].answered[t] > 0, "attempts", (json_int_t)f.s[0].sent[t], "ms",
                                            answered_at[t] ? (double)(answered_at[t] - t0) / 1e6 : -1.0));
    json_t *out = json_pack("{s:s, s:o, s:I}", "from", from, "targets", tj, "unmatched", (json_int_t)f.unmatched);
    json_dumpf(out, stdout, JSON_COMPACT);
    putchar('\n');
    json_decref(out);
    close(f.s[0].fd);
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o;
    if (parse_opts(argc, argv, &o) < 0)
        return usage();
    if (strcmp(o.mode, "flood") == 0)
        return mode_flood(&o);
    if (strcmp(o.mode, "ask") == 0)
        return mode_ask(&o);
    return usage();
}
