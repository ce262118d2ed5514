/* stress: load and media-plane attacks on rtpprobed for tests/hostile/run.sh.
 * Every mode prints one JSON object on stdout; the script judges the numbers.
 *
 *   stress bigbody --connect IP:PORT [--tls] [--conns N] [--lengths L1,L2] [--max-s S] [--max-mb M]
 *                  [--pid PID] [--probe-src IP] [--reconnect | --churn]
 *       Each connection sends request headers announcing a body of L bytes
 *       (over limits.max_body), reads the 413, then keeps streaming body
 *       bytes as fast as the socket takes them, for S seconds or M MB in all
 *       (--reconnect: a connection the daemon closes is replaced; --churn:
 *       closed by us on the answer and replaced). Samples the daemon's VmRSS
 *       every 50 ms and probes GET /healthz every 500 ms.
 *   stress flood --connect IP:PORT [--tls] --src-base IP --sources N --per-source K --probe-src IP
 *                --announce CMD [--baseline-s S] [--hold-s S] [--handshake]
 *       Runs CMD with PEER=<its UDP socket> (the script PATCHes the session's
 *       peer), waits for the downstream stream, measures it for a baseline,
 *       then opens N*K idle connections (K from each of N consecutive source
 *       addresses; --handshake: TLS handshake and the start of a request) and
 *       keeps measuring the gaps between downstream packets (kernel receive
 *       timestamps) and GET /healthz latency from probe-src every 100 ms.
 *   stress evict --connect IP:PORT [--tls] --flood-src IP --legit-src IP [--pause-ms MS] [--duration-s S] [--rst]
 *       A child process connects from flood-src and closes at once, as fast as
 *       it can (--rst: abortive close); meanwhile legit-src makes GET /healthz
 *       requests, each pausing MS between the handshake and the request.
 *   stress replay --url URL --token-file F --src2 IP [--deep N] [--consent-s S]
 *       Creates an RTP session, sends authentic (HMAC-signed) upstream from
 *       socket A, replays captured packets from socket B (same IP), sends new
 *       ones from B and from src2 (another IP); GETs the session after each
 *       step. --deep N: N more packets, then replays of old ones from A.
 *       --consent-s: then only src2 keeps sending, and the time downstream
 *       stops after the last authentic upstream is measured.
 *   stress malformed --session IP:PORT [--count N]
 *       Sends N crafted datagrams per RTP and STUN parser error reason. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "httpc.h"
#include "mext.h"
#include "netaddr.h"
#include "rtp.h"
#include "tconn.h"
#include "timeutil.h"

#define MAX_CONNS 4096
#define MAX_LENGTHS 8
#define MAX_PKTS 4096
#define HEALTHZ "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
#define PARTIAL "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Idle: "

struct opts {
    const char *mode;
    struct sockaddr_storage addr;
    bool has_addr, tls, reconnect, churn, handshake, rst;
    unsigned conns, max_s, max_mb, pid, sources, per_source, baseline_ms, hold_ms, pause_ms, duration_ms, count;
    unsigned deep, consent_ms;
    unsigned long long lengths[MAX_LENGTHS];
    unsigned nlengths;
    const char *probe_src, *src_base, *flood_src, *legit_src, *announce, *url, *token_file, *src2;
};

static void sleep_ms(unsigned ms)
{
    struct timespec t = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
    while (nanosleep(&t, &t) < 0 && errno == EINTR)
        ;
}

static void set_nonblocking(int fd, bool on)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        (void)fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

/* Binds fd to ip (port 0) when ip is given: 0 or -1. */
static int bind_src(int fd, const char *ip)
{
    if (!ip)
        return 0;
    struct sockaddr_storage ss;
    socklen_t len;
    if (rp_addr_from_ip(ip, 0, &ss, &len) < 0)
        return -1;
    int on = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    return bind(fd, (struct sockaddr *)&ss, len);
}

/* The n-th address after base (IPv4): "127.0.0.100" + 3 = "127.0.0.103". */
static void nth_addr(const char *base, unsigned n, char *out, size_t cap)
{
    struct in_addr a;
    if (inet_pton(AF_INET, base, &a) != 1) {
        snprintf(out, cap, "%s", base);
        return;
    }
    a.s_addr = htonl(ntohl(a.s_addr) + n);
    inet_ntop(AF_INET, &a, out, (socklen_t)cap);
}

static unsigned long vmrss_kb(unsigned pid)
{
    char path[64], line[256];
    unsigned long kb = 0;
    snprintf(path, sizeof path, "/proc/%u/status", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %lu kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

struct conn {
    int fd;
    SSL *ssl;
    bool open;
};

static void close_conn(struct conn *c)
{
    tconn_close(&c->ssl, &c->fd);
    c->open = false;
}

/* Blocking TCP connect from src (may be NULL), then the TLS handshake when
 * ctx is given; timeouts of timeout_ms. 0, or -1 with the failing stage. */
static int open_conn(const struct sockaddr *to, const char *src, SSL_CTX *ctx, unsigned timeout_ms,
                     struct conn *c, const char **stage)
{
    memset(c, 0, sizeof *c);
    c->fd = socket(to->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    *stage = "socket";
    if (c->fd < 0)
        return -1;
    int on = 1;
    (void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000 };
    (void)setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    (void)setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    *stage = "bind";
    if (bind_src(c->fd, src) < 0) {
        close_conn(c);
        return -1;
    }
    *stage = "connect";
    if (connect(c->fd, to, rp_addr_len(to)) < 0) {
        close_conn(c);
        return -1;
    }
    if (ctx) {
        *stage = "handshake";
        c->ssl = SSL_new(ctx);
        if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1 || SSL_connect(c->ssl) != 1) {
            close_conn(c);
            return -1;
        }
    }
    c->open = true;
    return 0;
}

static int conn_write_all(struct conn *c, const char *buf, size_t n)
{
    return tconn_write_all(c->ssl, c->fd, buf, n);
}

static ssize_t conn_read(struct conn *c, void *buf, size_t n)
{
    return tconn_read(c->ssl, c->fd, buf, n);
}

static int read_status(struct conn *c)
{
    return tconn_read_status(c->ssl, c->fd);
}

/* One fresh GET /healthz from src; its status (0 on failure) and latency. */
static int probe_once(const struct sockaddr *to, const char *src, SSL_CTX *ctx, double *ms)
{
    struct conn c;
    const char *stage;
    double t0 = now_s();
    int status = 0;
    if (open_conn(to, src, ctx, 3000, &c, &stage) == 0) {
        if (conn_write_all(&c, HEALTHZ, strlen(HEALTHZ)) == 0)
            status = read_status(&c);
        close_conn(&c);
    }
    *ms = (now_s() - t0) * 1000;
    return status;
}

static json_t *ms_array(const double *v, unsigned n)
{
    json_t *a = json_array();
    for (unsigned i = 0; i < n; i++)
        json_array_append_new(a, json_real((double)(long)(v[i] * 10 + 0.5) / 10));
    return a;
}

/* ------------------------------------------------------------------ bigbody */

struct body_conn {
    struct conn c;
    unsigned long long length;
    unsigned long long sent;
    int status;
    double opened_at, last_write_at, eof_at, closed_at;
    unsigned long long sent_after_eof;
    bool raw;        /* TLS refused more records: raw bytes from then on */
    const char *end; /* why it ended: "write failed", "time" */
    char resp[256];
    size_t resp_len;
};

static int body_open(const struct opts *o, SSL_CTX *ctx, struct body_conn *b, unsigned long long length)
{
    const char *stage;
    memset(b, 0, sizeof *b);
    b->length = length;
    b->end = "time";
    if (open_conn((const struct sockaddr *)&o->addr, NULL, ctx, 3000, &b->c, &stage) < 0)
        return -1;
    char hdr[256];
    int n = snprintf(hdr, sizeof hdr,
                     "POST /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     "Content-Length: %llu\r\n\r\n",
                     length);
    if (conn_write_all(&b->c, hdr, (size_t)n) < 0) {
        close_conn(&b->c);
        return -1;
    }
    set_nonblocking(b->c.fd, true);
    b->opened_at = b->last_write_at = now_s();
    return 0;
}

/* Writes what the connection takes now: bytes written, or -1 when it is gone. */
static long body_write(struct body_conn *b, const char *chunk, size_t n)
{
    long total = 0;
    for (int k = 0; k < 16; k++) {
        if (b->c.ssl && !b->raw) {
            ERR_clear_error();
            int r = SSL_write(b->c.ssl, chunk, (int)n);
            if (r > 0) {
                total += r;
                continue;
            }
            int e = SSL_get_error(b->c.ssl, r);
            if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ)
                break;
            /* After the server's close_notify OpenSSL may refuse to write:
             * an attacker does not care, the bytes still reach the socket. */
            b->raw = true;
            continue;
        }
        ssize_t r = send(b->c.fd, chunk, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (r > 0) {
            total += r;
            continue;
        }
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            break;
        return -1;
    }
    return total;
}

/* One finished connection's story. */
static void finish(json_t *finished, const struct body_conn *b, unsigned *n413, unsigned *nother)
{
    json_array_append_new(
        finished, json_pack("{s:I, s:i, s:I, s:I, s:f, s:f, s:f, s:b, s:s}", "content_length", (json_int_t)b->length,
                            "status", b->status, "sent", (json_int_t)b->sent, "sent_after_eof",
                            (json_int_t)b->sent_after_eof, "eof_s", b->eof_at ? b->eof_at - b->opened_at : -1.0,
                            "last_write_s", b->last_write_at - b->opened_at, "open_s",
                            (b->closed_at ? b->closed_at : now_s()) - b->opened_at, "raw", b->raw, "end", b->end));
    if (b->status == 413)
        (*n413)++;
    else
        (*nother)++;
}

static json_t *mode_bigbody(const struct opts *o, SSL_CTX *ctx)
{
    static struct body_conn conns[64];
    static char chunk[65536];
    memset(chunk, 'a', sizeof chunk);
    unsigned n = o->conns > 64 ? 64 : o->conns;
    unsigned long rss0 = o->pid ? vmrss_kb(o->pid) : 0, rss_max = rss0, rss_end = 0;
    json_t *finished = json_array();
    unsigned long long total = 0, limit = (unsigned long long)o->max_mb << 20;
    unsigned opened = 0, failed_open = 0, statuses_413 = 0, statuses_other = 0;
    for (unsigned i = 0; i < n; i++) {
        if (body_open(o, ctx, &conns[i], o->lengths[i % o->nlengths]) == 0)
            opened++;
        else
            failed_open++;
    }
    double start = now_s(), next_rss = start, next_probe = start + 0.25;
    double probe_ms[64];
    int probe_st[64];
    unsigned nprobes = 0;
    for (;;) {
        double now = now_s();
        if (now - start >= o->max_s || total >= limit)
            break;
        if (o->pid && now >= next_rss) {
            unsigned long kb = vmrss_kb(o->pid);
            if (kb > rss_max)
                rss_max = kb;
            next_rss = now + 0.05;
        }
        if (now >= next_probe && nprobes < 64) {
            probe_st[nprobes] = probe_once((const struct sockaddr *)&o->addr, o->probe_src, ctx, &probe_ms[nprobes]);
            nprobes++;
            next_probe = now_s() + 0.5;
            continue;
        }
        struct pollfd p[64];
        for (unsigned i = 0; i < n; i++)
            p[i] = (struct pollfd){ .fd = conns[i].c.open ? conns[i].c.fd : -1, .events = POLLIN | POLLOUT };
        (void)poll(p, n, 20);
        now = now_s();
        for (unsigned i = 0; i < n; i++) {
            struct body_conn *b = &conns[i];
            if (!b->c.open)
                continue;
            if (p[i].revents & (POLLIN | POLLHUP | POLLERR)) {
                char buf[2048];
                ssize_t r;
                while ((r = conn_read(&b->c, buf, sizeof buf)) > 0) {
                    size_t take = (size_t)r < sizeof b->resp - 1 - b->resp_len ? (size_t)r
                                                                               : sizeof b->resp - 1 - b->resp_len;
                    memcpy(b->resp + b->resp_len, buf, take);
                    b->resp_len += take;
                    b->resp[b->resp_len] = '\0';
                    if (!b->status)
                        (void)sscanf(b->resp, "HTTP/1.%*d %d", &b->status);
                }
                if (r == 0 && !b->eof_at) {
                    b->eof_at = now; /* keep streaming: the socket may still take bytes */
                    if (o->churn) {
                        b->closed_at = now;
                        b->end = "closed after the answer (--churn)";
                    }
                }
            }
            if (!b->closed_at && (p[i].revents & (POLLOUT | POLLERR | POLLHUP))) {
                long w = body_write(b, chunk, sizeof chunk);
                if (w < 0) {
                    b->closed_at = now;
                    b->end = "write failed";
                } else if (w > 0) {
                    b->sent += (unsigned long long)w;
                    if (b->eof_at)
                        b->sent_after_eof += (unsigned long long)w;
                    total += (unsigned long long)w;
                    b->last_write_at = now;
                }
            }
            if (b->closed_at) {
                finish(finished, b, &statuses_413, &statuses_other);
                close_conn(&b->c);
                if (o->reconnect && now - start < o->max_s) {
                    if (body_open(o, ctx, b, o->lengths[(opened++) % o->nlengths]) < 0)
                        failed_open++;
                }
            }
        }
    }
    rss_end = o->pid ? vmrss_kb(o->pid) : 0;
    if (rss_end > rss_max)
        rss_max = rss_end;
    for (unsigned i = 0; i < n; i++) {
        if (conns[i].c.open) {
            finish(finished, &conns[i], &statuses_413, &statuses_other);
            close_conn(&conns[i].c);
        }
    }
    double elapsed = now_s() - start;
    /* Give the daemon a moment to see the closes and free what they held. */
    sleep_ms(1000);
    unsigned long rss_after = o->pid ? vmrss_kb(o->pid) : 0;
    int st_after = 0;
    double ms_after = 0;
    st_after = probe_once((const struct sockaddr *)&o->addr, o->probe_src, ctx, &ms_after);
    json_t *pst = json_array();
    for (unsigned i = 0; i < nprobes; i++)
        json_array_append_new(pst, json_integer(probe_st[i]));
    return json_pack("{s:i, s:i, s:i, s:i, s:I, s:f, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:i, s:f}",
                     "conns", (int)opened, "failed_open", (int)failed_open, "status_413", (int)statuses_413,
                     "status_other", (int)statuses_other, "bytes_sent", (json_int_t)total, "elapsed_s", elapsed,
                     "rss_kb_before", (json_int_t)rss0, "rss_kb_max", (json_int_t)rss_max, "rss_kb_end",
                     (json_int_t)rss_end, "rss_kb_after", (json_int_t)rss_after, "finished", finished,
                     "probe_status", pst, "probe_ms", ms_array(probe_ms, nprobes), "status_after", st_after,
                     "ms_after", ms_after);
}

/* ------------------------------------------------------------------ flood */

enum fstate { F_CONNECTING, F_HANDSHAKE, F_IDLE, F_CLOSED, F_FAILED };

struct fconn {
    int fd;
    SSL *ssl;
    enum fstate st;
    double ready_at, closed_at;
};

struct rx {
    int fd;
    uint64_t *ts_ns;    /* kernel receive timestamps */
    uint16_t *seq;
    unsigned n, cap;
};

static void rx_drain(struct rx *r)
{
    for (;;) {
        uint8_t buf[2048];
        struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf };
        union {
            char b[CMSG_SPACE(sizeof(struct timespec))];
            struct cmsghdr align;
        } ctl;
        struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof ctl.b };
        ssize_t n = recvmsg(r->fd, &m, MSG_DONTWAIT);
        if (n < 0)
            return;
        if (n < 12 || (buf[0] >> 6) != 2 || r->n == r->cap)
            continue;
        uint64_t ts = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
                struct timespec t;
                memcpy(&t, CMSG_DATA(c), sizeof t);
                ts = (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
            }
        }
        if (!ts)
            ts = rp_realtime_ns();
        r->ts_ns[r->n] = ts;
        r->seq[r->n] = (uint16_t)(buf[2] << 8 | buf[3]);
        r->n++;
    }
}

/* Gaps between consecutive packets received in [from, to) (realtime ns). */
static json_t *gap_stats(const struct rx *r, uint64_t from, uint64_t to)
{
    static double gaps[1 << 16];
    unsigned n = 0, pkts = 0, seq_gaps = 0;
    double max_at = 0, max_gap = -1;
    for (unsigned i = 0; i < r->n; i++) {
        if (r->ts_ns[i] < from || r->ts_ns[i] >= to)
            continue;
        pkts++;
        if (i > 0 && r->ts_ns[i - 1] >= from && n < sizeof gaps / sizeof gaps[0]) {
            gaps[n++] = (double)(r->ts_ns[i] - r->ts_ns[i - 1]) / 1e6;
            if (gaps[n - 1] > max_gap) {
                max_gap = gaps[n - 1];
                max_at = (double)(r->ts_ns[i - 1] - from) / 1e9; /* when the late packet was due */
            }
            if ((uint16_t)(r->seq[i] - r->seq[i - 1]) != 1)
                seq_gaps++;
        }
    }
    if (n == 0)
        return json_pack("{s:i, s:i}", "packets", (int)pkts, "gaps", 0);
    qsort(gaps, n, sizeof gaps[0], cmp_double);
    double sum = 0;
    for (unsigned i = 0; i < n; i++)
        sum += gaps[i];
    return json_pack("{s:i, s:i, s:f, s:f, s:f, s:f, s:f, s:i}", "packets", (int)pkts, "gaps", (int)n, "gap_ms_min",
                     gaps[0], "gap_ms_mean", sum / n, "gap_ms_p99", gaps[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1],
                     "gap_ms_max", gaps[n - 1], "gap_max_at_s", max_at, "seq_gaps", (int)seq_gaps);
}

/* Advances one flood connection; called when poll says something happened. */
static void fconn_step(struct fconn *f, SSL_CTX *ctx, short revents, double now)
{
    if (f->st == F_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
            f->st = F_FAILED;
            return;
        }
        if (!ctx) {
            f->st = F_IDLE;
            f->ready_at = now;
            return;
        }
        f->ssl = SSL_new(ctx);
        if (!f->ssl || SSL_set_fd(f->ssl, f->fd) != 1) {
            f->st = F_FAILED;
            return;
        }
        SSL_set_connect_state(f->ssl);
        f->st = F_HANDSHAKE;
    }
    if (f->st == F_HANDSHAKE) {
        ERR_clear_error();
        int r = SSL_do_handshake(f->ssl);
        if (r == 1) {
            if (SSL_write(f->ssl, PARTIAL, (int)strlen(PARTIAL)) <= 0) {
                f->st = F_FAILED;
                return;
            }
            f->st = F_IDLE;
            f->ready_at = now;
            return;
        }
        int e = SSL_get_error(f->ssl, r);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
            f->st = F_FAILED;
        return;
    }
    if (f->st == F_IDLE && (revents & (POLLIN | POLLHUP | POLLERR))) {
        char buf[1024];
        ssize_t r;
        if (f->ssl) {
            ERR_clear_error();
            int k = SSL_read(f->ssl, buf, sizeof buf);
            int e = k > 0 ? SSL_ERROR_NONE : SSL_get_error(f->ssl, k);
            r = k > 0 ? k : (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) ? -1 : 0;
        } else {
            r = recv(f->fd, buf, sizeof buf, MSG_DONTWAIT);
            if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                r = -1;
            else if (r < 0)
                r = 0;
        }
        if (r == 0) {
            f->st = F_CLOSED;
            f->closed_at = now;
        }
    }
}

static json_t *mode_flood(const struct opts *o, SSL_CTX *ctx)
{
    static struct fconn fc[MAX_CONNS];
    static uint64_t ts_buf[1 << 16];
    static uint16_t seq_buf[1 << 16];
    struct rx rx = { .ts_ns = ts_buf, .seq = seq_buf, .cap = 1 << 16 };
    rx.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in me = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t mlen = sizeof me;
    int on = 1, big = 1 << 20;
    (void)setsockopt(rx.fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
    (void)setsockopt(rx.fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    if (rx.fd < 0 || bind(rx.fd, (struct sockaddr *)&me, sizeof me) < 0 ||
        getsockname(rx.fd, (struct sockaddr *)&me, &mlen) < 0)
        return json_pack("{s:s}", "error", "cannot open the UDP receiver");
    char peer[64];
    snprintf(peer, sizeof peer, "127.0.0.1:%u", ntohs(me.sin_port));
    setenv("PEER", peer, 1);
    int rc = system(o->announce);
    if (rc != 0)
        return json_pack("{s:s, s:i}", "error", "announce command failed", "rc", rc);
    /* The stream starts on the PATCH. */
    double t_wait = now_s();
    while (rx.n == 0 && now_s() - t_wait < 3) {
        struct pollfd p = { .fd = rx.fd, .events = POLLIN };
        (void)poll(&p, 1, 50);
        rx_drain(&rx);
    }
    if (rx.n == 0)
        return json_pack("{s:s}", "error", "no downstream packet within 3 s of the PATCH");
    const struct sockaddr *to = (const struct sockaddr *)&o->addr;
    uint64_t base_from = rp_realtime_ns();
    double base_ms[64], flood_ms[256];
    int base_st[64], flood_st[256];
    unsigned nbase = 0, nflood = 0;
    double t = now_s(), next_probe = t;
    while (now_s() - t < o->baseline_ms / 1000.0) {
        if (now_s() >= next_probe && nbase < 64) {
            base_st[nbase] = probe_once(to, o->probe_src, ctx, &base_ms[nbase]);
            nbase++;
            next_probe = now_s() + 0.2;
        }
        struct pollfd p = { .fd = rx.fd, .events = POLLIN };
        (void)poll(&p, 1, 20);
        rx_drain(&rx);
    }
    uint64_t flood_from = rp_realtime_ns();
    unsigned n = o->sources * o->per_source;
    if (n > MAX_CONNS)
        n = MAX_CONNS;
    double open_start = now_s();
    for (unsigned i = 0; i < n; i++) {
        char src[64];
        nth_addr(o->src_base, i / o->per_source, src, sizeof src);
        struct fconn *f = &fc[i];
        memset(f, 0, sizeof *f);
        f->fd = socket(o->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (f->fd < 0 || bind_src(f->fd, src) < 0 ||
            (connect(f->fd, to, rp_addr_len(to)) < 0 && errno != EINPROGRESS)) {
            f->st = F_FAILED;
            continue;
        }
        f->st = F_CONNECTING;
        /* Paced like slowcli: rtpprobed listens with libevent's backlog of 128,
         * and SYNs beyond a full queue come back a second later as bursts of
         * their own, which is the kernel's doing, not the daemon's. */
        if (i % 32 == 31) {
            sleep_ms(3);
            rx_drain(&rx); /* the stream's packets keep arriving meanwhile */
        }
    }
    double open_s = now_s() - open_start;
    static struct pollfd p[MAX_CONNS + 1];
    static unsigned idx[MAX_CONNS];
    double hold_start = now_s();
    next_probe = hold_start + 0.1;
    unsigned idle_max = 0, min_idle_at_probe = n, probes_open = 0, probes_open_ok = 0;
    double probe_open_max = 0;
    double all_ready_s = -1;
    while (now_s() - hold_start < o->hold_ms / 1000.0) {
        unsigned np = 0, idle = 0, busy = 0;
        p[np++] = (struct pollfd){ .fd = rx.fd, .events = POLLIN };
        for (unsigned i = 0; i < n; i++) {
            struct fconn *f = &fc[i];
            if (f->st == F_IDLE)
                idle++;
            if (f->st == F_CONNECTING || f->st == F_HANDSHAKE)
                busy++;
            if (f->st == F_CLOSED || f->st == F_FAILED)
                continue;
            short ev = f->st == F_CONNECTING ? POLLOUT : POLLIN;
            if (f->st == F_HANDSHAKE && f->ssl && SSL_want_write(f->ssl))
                ev = POLLOUT;
            idx[np - 1] = i;
            p[np++] = (struct pollfd){ .fd = f->fd, .events = ev };
        }
        if (idle > idle_max)
            idle_max = idle;
        if (busy == 0 && all_ready_s < 0)
            all_ready_s = now_s() - open_start;
        if (now_s() >= next_probe && nflood < 256) {
            flood_st[nflood] = probe_once(to, o->probe_src, ctx, &flood_ms[nflood]);
            /* Probes while (nearly) all flood connections are open. */
            if (idle * 10 >= n * 9) {
                if (idle < min_idle_at_probe)
                    min_idle_at_probe = idle;
                probes_open++;
                if (flood_ms[nflood] > probe_open_max)
                    probe_open_max = flood_ms[nflood];
                probes_open_ok += flood_st[nflood] == 200;
            }
            nflood++;
            next_probe = now_s() + 0.1;
        }
        (void)poll(p, np, 10);
        double now = now_s();
        rx_drain(&rx);
        for (unsigned k = 1; k < np; k++)
            if (p[k].revents)
                fconn_step(&fc[idx[k - 1]], o->handshake ? ctx : NULL, p[k].revents, now);
    }
    uint64_t flood_to = rp_realtime_ns();
    unsigned closed = 0, failed = 0, still = 0;
    double close_max = 0, close_min = 1e9;
    for (unsigned i = 0; i < n; i++) {
        struct fconn *f = &fc[i];
        if (f->st == F_CLOSED) {
            closed++;
            double d = f->closed_at - open_start;
            close_max = d > close_max ? d : close_max;
            close_min = d < close_min ? d : close_min;
        } else if (f->st == F_FAILED) {
            failed++;
        } else {
            still++;
        }
        if (f->ssl)
            SSL_free(f->ssl);
        if (f->fd >= 0)
            close(f->fd);
    }
    close(rx.fd);
    json_t *bst = json_array(), *fst = json_array();
    for (unsigned i = 0; i < nbase; i++)
        json_array_append_new(bst, json_integer(base_st[i]));
    for (unsigned i = 0; i < nflood; i++)
        json_array_append_new(fst, json_integer(flood_st[i]));
    double sorted[256];
    memcpy(sorted, flood_ms, nflood * sizeof sorted[0]);
    qsort(sorted, nflood, sizeof sorted[0], cmp_double);
    json_t *out = json_pack("{s:s, s:i, s:i, s:f, s:f, s:i, s:i, s:i, s:i, s:i, s:f, s:f, s:o, s:o, s:o, s:o, s:o, s:o, s:f}",
                     "peer", peer, "conns", (int)n, "sources", (int)o->sources, "open_s", open_s, "all_ready_s",
                     all_ready_s, "idle_max", (int)idle_max, "idle_min_at_probe", (int)min_idle_at_probe,
                     "closed_by_server", (int)closed, "failed", (int)failed, "still_open", (int)still,
                     "close_s_min", closed ? close_min : -1.0, "close_s_max", closed ? close_max : -1.0,
                     "baseline", gap_stats(&rx, base_from, flood_from), "flood", gap_stats(&rx, flood_from, flood_to),
                     "baseline_probe_ms", ms_array(base_ms, nbase), "baseline_probe_status", bst, "probe_ms",
                     ms_array(flood_ms, nflood), "probe_status", fst, "probe_ms_max",
                     nflood ? sorted[nflood - 1] : -1.0);
    json_object_set_new(out, "probes_while_open", json_integer(probes_open));
    json_object_set_new(out, "probes_while_open_ok", json_integer(probes_open_ok));
    json_object_set_new(out, "probe_ms_max_while_open", json_real(probe_open_max));
    return out;
}

/* ------------------------------------------------------------------ evict */

static void flood_child(const struct opts *o, int out)
{
    const struct sockaddr *to = (const struct sockaddr *)&o->addr;
    double start = now_s();
    unsigned long tries = 0, connected = 0, failed = 0;
    while (now_s() - start < o->duration_ms / 1000.0) {
        int fd = socket(to->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            failed++;
            sleep_ms(1);
            continue;
        }
        struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        tries++;
        if (bind_src(fd, o->flood_src) == 0 && connect(fd, to, rp_addr_len(to)) == 0) {
            connected++;
            if (o->rst) {
                struct linger l = { .l_onoff = 1, .l_linger = 0 };
                (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
            }
        } else {
            failed++;
        }
        close(fd);
    }
    dprintf(out, "%lu %lu %lu %f\n", tries, connected, failed, now_s() - start);
    close(out);
}

static json_t *mode_evict(const struct opts *o, SSL_CTX *ctx)
{
    int pfd[2];
    if (pipe(pfd) < 0)
        return json_pack("{s:s}", "error", "pipe");
    fflush(stdout);
    pid_t child = fork();
    if (child < 0)
        return json_pack("{s:s}", "error", "fork");
    if (child == 0) {
        close(pfd[0]);
        flood_child(o, pfd[1]);
        _exit(0);
    }
    close(pfd[1]);
    sleep_ms(300); /* the flood is under way */
    const struct sockaddr *to = (const struct sockaddr *)&o->addr;
    double start = now_s(), lat[256];
    unsigned n = 0, okn = 0;
    json_t *results = json_object();
    /* The flood runs for duration; the legit client stops a pause earlier. */
    while (n < 256 && now_s() - start < o->duration_ms / 1000.0 - 0.3 - o->pause_ms / 1000.0) {
        struct conn c;
        const char *stage = "ok";
        double t0 = now_s();
        int status = 0;
        if (open_conn(to, o->legit_src, ctx, 5000, &c, &stage) == 0) {
            sleep_ms(o->pause_ms);
            if (conn_write_all(&c, HEALTHZ, strlen(HEALTHZ)) < 0)
                stage = "write";
            else if ((status = read_status(&c)) == 0)
                stage = "read";
            close_conn(&c);
        }
        lat[n++] = (now_s() - t0) * 1000 - o->pause_ms;
        char key[64];
        if (status)
            snprintf(key, sizeof key, "%d", status);
        else
            snprintf(key, sizeof key, "failed at %s", stage);
        json_t *cnt = json_object_get(results, key);
        json_object_set_new(results, key, json_integer(cnt ? json_integer_value(cnt) + 1 : 1));
        okn += status == 200;
    }
    char line[256] = "";
    ssize_t r = read(pfd[0], line, sizeof line - 1);
    line[r > 0 ? r : 0] = '\0';
    close(pfd[0]);
    int wst;
    waitpid(child, &wst, 0);
    unsigned long tries = 0, connected = 0, failed = 0;
    double fl_s = 0;
    (void)sscanf(line, "%lu %lu %lu %lf", &tries, &connected, &failed, &fl_s);
    double sorted[256];
    memcpy(sorted, lat, n * sizeof lat[0]);
    qsort(sorted, n, sizeof sorted[0], cmp_double);
    return json_pack("{s:i, s:i, s:o, s:o, s:f, s:f, s:I, s:I, s:I, s:f, s:f}", "legit", (int)n, "legit_ok", (int)okn,
                     "results", results, "legit_ms", ms_array(lat, n), "legit_ms_median", n ? sorted[n / 2] : -1.0,
                     "legit_ms_max", n ? sorted[n - 1] : -1.0, "flood_tries", (json_int_t)tries, "flood_connected",
                     (json_int_t)connected, "flood_failed", (json_int_t)failed, "flood_s", fl_s, "flood_per_s",
                     fl_s > 0 ? (double)connected / fl_s : 0.0);
}

/* ------------------------------------------------------------------ replay */

struct media {
    struct sockaddr_storage session;
    uint32_t ssrc;
    uint8_t pt;
    uint8_t key[RP_MEXT_AUTH_KEY_LEN];
    uint16_t seq0;
    uint32_t ts0;
    uint32_t next; /* probe counter of the next new packet */
};

/* An authentic upstream packet with probe counter k. */
static size_t build_signed(const struct media *m, uint32_t k, uint8_t *pkt, size_t cap)
{
    struct rp_mext_up up = { .flags = 0, .seq = k, .t1_ns = rp_realtime_ns() };
    uint8_t elem[RP_MEXT_UP_LEN], tag[RP_MEXT_AUTH_LEN] = { 0 }, payload[160];
    memset(payload, 0xFF, sizeof payload);
    rp_mext_up_encode(&up, elem, sizeof elem);
    struct rp_rtp_elem e[2] = { { RP_MEXT_ID_UP, elem, sizeof elem }, { RP_MEXT_ID_AUTH, tag, sizeof tag } };
    struct rp_rtp_hdr h = { .pt = m->pt, .seq = (uint16_t)(m->seq0 + k), .ts = m->ts0 + k * 160u, .ssrc = m->ssrc };
    size_t n = rp_rtp_build_elems(pkt, cap, &h, e, 2, payload, sizeof payload);
    if (n == 0 || rp_mext_auth_sign(pkt, n, m->key) != 0)
        return 0;
    return n;
}

static int udp_socket(const char *ip, uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = { .sin_family = AF_INET };
    socklen_t len = sizeof sin;
    if (fd < 0 || inet_pton(AF_INET, ip, &sin.sin_addr) != 1 || bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0 ||
        getsockname(fd, (struct sockaddr *)&sin, &len) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int on = 1, big = 1 << 20;
    (void)setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    *port = ntohs(sin.sin_port);
    return fd;
}

static int send_to_session(int fd, const struct media *m, const uint8_t *pkt, size_t n)
{
    const struct sockaddr *to = (const struct sockaddr *)&m->session;
    return sendto(fd, pkt, n, 0, to, rp_addr_len(to)) == (ssize_t)n ? 0 : -1;
}

/* The session as the daemon sees it now, reduced to what the checks read. */
static json_t *snapshot(struct rp_httpc *h, const char *path, const char *step)
{
    int status = 0;
    json_t *s = NULL;
    char err[256];
    sleep_ms(150); /* let the daemon read what was just sent */
    if (rp_httpc_request(h, "GET", path, NULL, &status, &s, err, sizeof err) < 0 || status != 200 || !s) {
        json_decref(s);
        return json_pack("{s:s, s:i, s:s}", "step", step, "status", status, "error", err);
    }
    json_t *up = json_object_get(s, "upstream"), *dropped = json_object_get(up, "dropped");
    json_t *latched = json_object_get(s, "latched");
    json_t *j = json_pack("{s:s, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O}", "step", step,
                          "latched", latched ? latched : json_null(), "relatched", json_object_get(s, "relatched"),
                          "state", json_object_get(s, "state"), "accepted", json_object_get(up, "accepted"),
                          "received", json_object_get(up, "received"), "duplicates", json_object_get(up, "duplicates"),
                          "reordered", json_object_get(up, "reordered"), "lost", json_object_get(up, "lost"),
                          "foreign_source", json_object_get(dropped, "foreign_source"), "auth_failure",
                          json_object_get(dropped, "auth_failure"), "host_drops", json_object_get(up, "host_drops"),
                          "down_sent", json_object_get(json_object_get(s, "downstream"), "sent"));
    json_decref(s);
    return j ? j : json_pack("{s:s, s:s}", "step", step, "error", "unexpected session JSON");
}

/* Reads downstream packets waiting on fd; returns how many, *last gets the
 * latest kernel receive time (realtime ns). */
static unsigned drain_down(int fd, uint64_t *last)
{
    unsigned n = 0;
    struct rx r = { .fd = fd, .cap = 1 };
    uint64_t ts;
    uint16_t seq;
    r.ts_ns = &ts;
    r.seq = &seq;
    for (;;) {
        r.n = 0;
        rx_drain(&r);
        if (r.n == 0)
            return n;
        n++;
        if (ts > *last)
            *last = ts;
    }
}

static json_t *mode_replay(const struct opts *o)
{
    char token[256] = "", err[256];
    FILE *tf = fopen(o->token_file, "r");
    if (!tf || !fgets(token, sizeof token, tf)) {
        if (tf)
            fclose(tf);
        return json_pack("{s:s}", "error", "cannot read the token file");
    }
    fclose(tf);
    token[strcspn(token, "\r\n")] = '\0';
    curl_global_init(CURL_GLOBAL_DEFAULT); /* httpc needs it; once per process is enough, more is harmless */
    struct rp_httpc_opts ho = { .token = token, .insecure = true, .timeout_ms = 5000 };
    struct rp_httpc *h = rp_httpc_new(o->url, &ho, err, sizeof err);
    if (!h)
        return json_pack("{s:s, s:s}", "error", "httpc", "detail", err);
    int status = 0;
    json_t *created = NULL;
    json_t *body = json_pack("{s:s, s:i}", "codec", "pcmu", "duration_s", 30);
    int rc = rp_httpc_request(h, "POST", "/v1/sessions", body, &status, &created, err, sizeof err);
    json_decref(body);
    if (rc < 0 || status != 201 || !created) {
        json_decref(created);
        rp_httpc_free(h);
        return json_pack("{s:s, s:i, s:s}", "error", "POST /v1/sessions failed", "status", status, "detail", err);
    }
    struct media m = { .seq0 = 1000, .ts0 = 50000 };
    const char *id = json_string_value(json_object_get(created, "id"));
    const char *b64 = json_string_value(json_object_get(created, "auth_key"));
    m.ssrc = (uint32_t)json_integer_value(json_object_get(created, "ssrc_up"));
    m.pt = (uint8_t)json_integer_value(json_object_get(created, "pt"));
    uint8_t raw[64];
    socklen_t slen;
    struct sockaddr_storage media_host;
    const struct sockaddr *srv = (const struct sockaddr *)&media_host;
    if (rp_httpc_media_host(h, &media_host, err, sizeof err) < 0)
        memset(&media_host, 0, sizeof media_host);
    char srv_ip[RP_ADDRSTRLEN];
    rp_addr_format_ip(srv, srv_ip, sizeof srv_ip);
    if (!id || !b64 || strlen(b64) != 44 || EVP_DecodeBlock(raw, (const unsigned char *)b64, 44) != 33 ||
        rp_addr_from_ip(srv_ip, (uint16_t)json_integer_value(json_object_get(created, "media_port")), &m.session,
                        &slen) < 0) {
        json_decref(created);
        rp_httpc_free(h);
        return json_pack("{s:s}", "error", "unexpected POST answer (id, auth_key, media_port)");
    }
    memcpy(m.key, raw, sizeof m.key);
    char path[128];
    snprintf(path, sizeof path, "/v1/sessions/%s", id);

    uint16_t pa, pb, pc;
    int fa = udp_socket(srv_ip, &pa), fb = udp_socket(srv_ip, &pb), fcs = udp_socket(o->src2, &pc);
    json_t *steps = json_array();
    char sa[RP_ADDRSTRLEN + 8], sb[RP_ADDRSTRLEN + 8], sc[RP_ADDRSTRLEN + 8];
    snprintf(sa, sizeof sa, "%s:%u", srv_ip, pa);
    snprintf(sb, sizeof sb, "%s:%u", srv_ip, pb);
    snprintf(sc, sizeof sc, "%s:%u", o->src2, pc);
    json_t *out = json_pack("{s:s, s:s, s:s, s:s}", "id", id, "A", sa, "B", sb, "C", sc);
    if (fa < 0 || fb < 0 || fcs < 0) {
        json_object_set_new(out, "error", json_string("cannot open the UDP sockets (is src2 a local address?)"));
        goto done;
    }
    static uint8_t first[RP_RTP_MAX_PKT], newest[RP_RTP_MAX_PKT], pkt[RP_RTP_MAX_PKT];
    size_t first_len = 0, newest_len = 0, n;
    uint64_t last_auth_ns = 0, last_down_ns = 0;
    /* 1: three authentic packets from A. */
    for (int i = 0; i < 3; i++) {
        n = build_signed(&m, m.next++, pkt, sizeof pkt);
        send_to_session(fa, &m, pkt, n);
        if (i == 0)
            memcpy(first, pkt, first_len = n);
        memcpy(newest, pkt, newest_len = n);
        sleep_ms(20);
    }
    last_auth_ns = rp_realtime_ns();
    json_array_append_new(steps, snapshot(h, path, "3 authentic packets from A"));
    /* 2: replays from B, same IP, another port. */
    send_to_session(fb, &m, first, first_len);
    last_auth_ns = rp_realtime_ns();
    json_array_append_new(steps, snapshot(h, path, "replay of the first packet from B"));
    send_to_session(fb, &m, newest, newest_len);
    last_auth_ns = rp_realtime_ns();
    json_array_append_new(steps, snapshot(h, path, "replay of the newest packet from B"));
    /* 3: a new packet from B: NAT rebinding, the latch follows. */
    n = build_signed(&m, m.next++, pkt, sizeof pkt);
    send_to_session(fb, &m, pkt, n);
    last_auth_ns = rp_realtime_ns();
    json_array_append_new(steps, snapshot(h, path, "new packet from B"));
    /* 4: a new authentic packet from another IP. */
    n = build_signed(&m, m.next++, pkt, sizeof pkt);
    send_to_session(fcs, &m, pkt, n);
    json_array_append_new(steps, snapshot(h, path, "new packet from C (other IP)"));
    send_to_session(fcs, &m, first, first_len);
    json_array_append_new(steps, snapshot(h, path, "replay of the first packet from C (other IP)"));
    if (o->deep) {
        /* 5: many more packets from B, then old packets replayed from A: one
         * beyond the duplicate window, one 32768+ packets old (its 16-bit
         * sequence number then looks newer than the newest). */
        static uint8_t old_pkt[RP_RTP_MAX_PKT];
        size_t old_len = 0;
        uint32_t old_k = m.next;
        for (unsigned i = 0; i < o->deep; i++) {
            n = build_signed(&m, m.next++, pkt, sizeof pkt);
            send_to_session(fb, &m, pkt, n);
            if (i == 0)
                memcpy(old_pkt, pkt, old_len = n);
            if (i == 1500) {
                last_auth_ns = rp_realtime_ns();
                json_array_append_new(steps, snapshot(h, path, "1500 more packets from B"));
                send_to_session(fa, &m, old_pkt, old_len);
                json_array_append_new(steps, snapshot(h, path, "replay from A of a packet 1500 packets old"));
            }
            if (i % 32 == 31) { /* paced: the daemon's socket buffer holds a few hundred */
                sleep_ms(1);
                drain_down(fb, &last_down_ns);
            }
        }
        last_auth_ns = rp_realtime_ns();
        char what[96];
        snprintf(what, sizeof what, "%u packets from B in all", o->deep);
        json_array_append_new(steps, snapshot(h, path, what));
        send_to_session(fa, &m, first, first_len);
        last_auth_ns = rp_realtime_ns();
        snprintf(what, sizeof what, "replay from A of the first packet (%u packets old)", m.next - 1);
        json_array_append_new(steps, snapshot(h, path, what));
        json_object_set_new(out, "deep_first_age", json_integer((json_int_t)(m.next - 1)));
        json_object_set_new(out, "deep_old_age", json_integer((json_int_t)(m.next - 1 - old_k)));
    }
    if (o->consent_ms) {
        /* 6: only the other IP keeps sending authentic packets; downstream must
         * stop about 5 s after the last authentic upstream from the client's IP. */
        last_down_ns = 0;
        unsigned down_a = drain_down(fa, &last_down_ns), down_b = drain_down(fb, &last_down_ns);
        double start = now_s(), next_send = start;
        unsigned foreign_sent = 0;
        while (now_s() - start < o->consent_ms / 1000.0) {
            if (now_s() >= next_send) {
                n = build_signed(&m, m.next++, pkt, sizeof pkt);
                send_to_session(fcs, &m, pkt, n);
                foreign_sent++;
                next_send += 0.1;
            }
            struct pollfd p[3] = { { .fd = fa, .events = POLLIN }, { .fd = fb, .events = POLLIN },
                                   { .fd = fcs, .events = POLLIN } };
            (void)poll(p, 3, 20);
            down_a += drain_down(fa, &last_down_ns);
            down_b += drain_down(fb, &last_down_ns);
            uint64_t ignored = 0;
            (void)drain_down(fcs, &ignored);
        }
        json_object_set_new(out, "consent",
                            json_pack("{s:i, s:i, s:i, s:f, s:f}", "down_a", (int)down_a, "down_b", (int)down_b,
                                      "foreign_sent", (int)foreign_sent, "watched_s", now_s() - start,
                                      "stop_after_last_auth_s",
                                      last_down_ns ? ((double)last_down_ns - (double)last_auth_ns) / 1e9 : -1.0));
        json_array_append_new(steps, snapshot(h, path, "after the consent wait"));
    }
done:
    json_object_set_new(out, "steps", steps);
    json_t *del = NULL;
    (void)rp_httpc_request(h, "DELETE", path, NULL, &status, &del, err, sizeof err);
    json_decref(del);
    json_decref(created);
    rp_httpc_free(h);
    if (fa >= 0)
        close(fa);
    if (fb >= 0)
        close(fb);
    if (fcs >= 0)
        close(fcs);
    return out;
}

/* ------------------------------------------------------------------ malformed */

struct crafted {
    const char *parser, *reason;
    uint8_t bytes[64];
    size_t len;
};

/* STUN header: type, length, magic cookie, transaction id. */
#define STUN_HDR(t0, t1, l0, l1) t0, t1, l0, l1, 0x21, 0x12, 0xA4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12

static const struct crafted crafted[] = {
    /* RTP (first byte >= 4 goes to the RTP parser, RFC 7983) */
    { "rtp", "too_short", { 0 }, 0 },                      /* empty datagram */
    { "rtp", "too_short", { 0x80 }, 1 },
    { "rtp", "too_short", { 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0 }, 11 },
    { "rtp", "bad_version", { 0x40, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1 }, 12 },   /* version 1 */
    { "rtp", "bad_version", { 0xC0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1 }, 12 },   /* version 3 */
    { "rtp", "bad_version", { 0x04, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1 }, 12 },   /* version 0, not STUN */
    { "rtp", "bad_csrc", { 0x8F, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1 }, 12 },      /* 15 CSRCs, none there */
    { "rtp", "bad_csrc", { 0x82, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 9 }, 16 }, /* 2 CSRCs, 1 there */
    { "rtp", "bad_extension", { 0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1 }, 12 }, /* X=1, no extension header */
    { "rtp", "bad_extension", { 0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x10, 0x00, 0x00, 0x05, 0, 0, 0, 0 }, 20 },
    { "rtp", "bad_padding", { 0xA0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0x00 }, 16 }, /* count 0 */
    { "rtp", "bad_padding", { 0xA0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0x09 }, 16 }, /* 9 > 4 */
    /* STUN (first byte 0..3) */
    { "stun", "too_short", { 0x00, 0x01 }, 2 },
    { "stun", "too_short", { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 }, 19 },
    { "stun", "not_stun", { 0x00, 0x01, 0x00, 0x00, 0xDE, 0xAD, 0xBE, 0xEF, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 },
      20 }, /* RFC 3489: no magic cookie */
    { "stun", "bad_length", { STUN_HDR(0x00, 0x01, 0x00, 0x08) }, 20 },      /* says 8, has 0 */
    { "stun", "bad_length", { STUN_HDR(0x00, 0x01, 0x00, 0x03), 0, 0, 0 }, 23 }, /* not a multiple of 4 */
    { "stun", "bad_attribute", { STUN_HDR(0x00, 0x01, 0x00, 0x04), 0x80, 0x22, 0x00, 0x08 }, 24 }, /* runs past */
    { "stun", "bad_attribute",
      { STUN_HDR(0x00, 0x01, 0x00, 0x0C), 0x00, 0x20, 0x00, 0x08, 0x00, 0x07, 0, 0, 0, 0, 0, 0 }, 32 }, /* family 7 */
    { "stun", "bad_fingerprint", { STUN_HDR(0x00, 0x01, 0x00, 0x08), 0x80, 0x28, 0x00, 0x04, 0, 0, 0, 0 }, 28 },
    { "stun", "bad_fingerprint",
      { STUN_HDR(0x00, 0x01, 0x00, 0x10), 0x80, 0x28, 0x00, 0x04, 0, 0, 0, 0, 0x80, 0x22, 0x00, 0x04, 'x', 'y', 'z',
        'w' },
      36 }, /* not last */
};

static json_t *mode_malformed(const struct opts *o)
{
    int fd = socket(o->addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return json_pack("{s:s}", "error", "socket");
    const struct sockaddr *to = (const struct sockaddr *)&o->addr;
    json_t *rtp = json_object(), *stun = json_object();
    unsigned ncrafted = sizeof crafted / sizeof crafted[0], failed = 0;
    /* Per reason `count` datagrams, cycling through the reason's variants. */
    for (unsigned i = 0; i < ncrafted; i++) {
        json_t *group = strcmp(crafted[i].parser, "rtp") == 0 ? rtp : stun;
        if (json_object_get(group, crafted[i].reason))
            continue;
        unsigned variants[16], nv = 0;
        for (unsigned k = i; k < ncrafted && nv < 16; k++)
            if (strcmp(crafted[k].parser, crafted[i].parser) == 0 && strcmp(crafted[k].reason, crafted[i].reason) == 0)
                variants[nv++] = k;
        for (unsigned c = 0; c < o->count; c++) {
            const struct crafted *d = &crafted[variants[c % nv]];
            if (sendto(fd, d->bytes, d->len, 0, to, rp_addr_len(to)) != (ssize_t)d->len)
                failed++;
            if (c % 16 == 15)
                sleep_ms(1);
        }
        json_object_set_new(group, crafted[i].reason, json_integer(o->count));
    }
    close(fd);
    return json_pack("{s:o, s:o, s:i}", "rtp", rtp, "stun", stun, "send_failed", (int)failed);
}

/* ------------------------------------------------------------------ main */

__attribute__((noreturn)) static void usage(void)
{
    fprintf(stderr, "usage: stress bigbody|flood|evict|replay|malformed [options] (see the comment atop stress.c)\n");
    exit(2);
}

static unsigned num(const char *s, unsigned max)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (end == s || *end || v > max)
        usage();
    return (unsigned)v;
}

static double secs(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || v < 0 || v > 3600)
        usage();
    return v;
}

int main(int argc, char **argv)
{
    struct opts o = { .conns = 4, .max_s = 5, .max_mb = 500, .sources = 32, .per_source = 31, .baseline_ms = 1000,
                      .hold_ms = 4000, .pause_ms = 300, .duration_ms = 4000, .count = 5 };
    if (argc < 2)
        usage();
    o.mode = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--tls") == 0) {
            o.tls = true;
            continue;
        } else if (strcmp(a, "--reconnect") == 0) {
            o.reconnect = true;
            continue;
        } else if (strcmp(a, "--churn") == 0) {
            o.churn = o.reconnect = true;
            continue;
        } else if (strcmp(a, "--handshake") == 0) {
            o.handshake = true;
            continue;
        } else if (strcmp(a, "--rst") == 0) {
            o.rst = true;
            continue;
        }
        if (i + 1 >= argc)
            usage();
        const char *v = argv[++i];
        socklen_t len;
        if (strcmp(a, "--connect") == 0 || strcmp(a, "--session") == 0) {
            if (rp_addr_parse(v, 0, &o.addr, &len) < 0)
                usage();
            o.has_addr = true;
        } else if (strcmp(a, "--conns") == 0) {
            o.conns = num(v, 64);
        } else if (strcmp(a, "--lengths") == 0) {
            char *end;
            const char *p = v;
            for (o.nlengths = 0; o.nlengths < MAX_LENGTHS && *p; o.nlengths++) {
                o.lengths[o.nlengths] = strtoull(p, &end, 10);
                if (end == p || (*end && *end != ','))
                    usage();
                p = *end ? end + 1 : end;
            }
        } else if (strcmp(a, "--max-s") == 0) {
            o.max_s = num(v, 600);
        } else if (strcmp(a, "--max-mb") == 0) {
            o.max_mb = num(v, 100000);
        } else if (strcmp(a, "--pid") == 0) {
            o.pid = num(v, 1u << 30);
        } else if (strcmp(a, "--probe-src") == 0) {
            o.probe_src = v;
        } else if (strcmp(a, "--src-base") == 0) {
            o.src_base = v;
        } else if (strcmp(a, "--sources") == 0) {
            o.sources = num(v, 250);
        } else if (strcmp(a, "--per-source") == 0) {
            o.per_source = num(v, MAX_CONNS);
        } else if (strcmp(a, "--announce") == 0) {
            o.announce = v;
        } else if (strcmp(a, "--baseline-s") == 0) {
            o.baseline_ms = (unsigned)(secs(v) * 1000);
        } else if (strcmp(a, "--hold-s") == 0) {
            o.hold_ms = (unsigned)(secs(v) * 1000);
        } else if (strcmp(a, "--flood-src") == 0) {
            o.flood_src = v;
        } else if (strcmp(a, "--legit-src") == 0) {
            o.legit_src = v;
        } else if (strcmp(a, "--pause-ms") == 0) {
            o.pause_ms = num(v, 60000);
        } else if (strcmp(a, "--duration-s") == 0) {
            o.duration_ms = (unsigned)(secs(v) * 1000);
        } else if (strcmp(a, "--url") == 0) {
            o.url = v;
        } else if (strcmp(a, "--token-file") == 0) {
            o.token_file = v;
        } else if (strcmp(a, "--src2") == 0) {
            o.src2 = v;
        } else if (strcmp(a, "--deep") == 0) {
            o.deep = num(v, 200000);
        } else if (strcmp(a, "--consent-s") == 0) {
            o.consent_ms = (unsigned)(secs(v) * 1000);
        } else if (strcmp(a, "--count") == 0) {
            o.count = num(v, 100000);
        } else {
            usage();
        }
    }
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
    /* Partial writes: bigbody streams into a socket the daemon has stopped reading. */
    SSL_CTX *ctx = o.tls ? tconn_client_ctx("stress", SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER)
                         : NULL;
    json_t *out = NULL;
    if (strcmp(o.mode, "bigbody") == 0 && o.has_addr) {
        if (o.nlengths == 0)
            usage();
        out = mode_bigbody(&o, ctx);
    } else if (strcmp(o.mode, "flood") == 0 && o.has_addr && o.src_base && o.announce) {
        out = mode_flood(&o, ctx);
    } else if (strcmp(o.mode, "evict") == 0 && o.has_addr && o.flood_src && o.legit_src) {
        out = mode_evict(&o, ctx);
    } else if (strcmp(o.mode, "replay") == 0 && o.url && o.token_file && o.src2) {
        out = mode_replay(&o);
    } else if (strcmp(o.mode, "malformed") == 0 && o.has_addr) {
        out = mode_malformed(&o);
    } else {
        usage();
    }
    json_dumpf(out, stdout, JSON_COMPACT);
    putchar('\n');
    json_decref(out);
    SSL_CTX_free(ctx);
    return 0;
}
