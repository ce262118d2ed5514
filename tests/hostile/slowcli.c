/* slowcli: slow and malformed HTTP clients for rtpprobed's control API
 * (tests/hostile/run.sh). Every mode prints one JSON object on stdout; the
 * script judges the numbers.
 *
 *   slowcli stall   --connect IP:PORT [--tls] [--conns N] [--max-s S] [--probes N] [--idle]
 *                   [--probe-from IP]
 *       N connections each send the start of a request and then nothing (with
 *       --idle: plain TCP connections that send nothing at all). Reports when
 *       the daemon closed each one (seconds after the last byte sent) and,
 *       while they are open, the status and latency of fresh GET /healthz
 *       requests (over TLS with --tls; --plain-probe adds one in plain HTTP),
 *       made from --probe-from's address when given: the daemon caps pending
 *       connections per address and cuts the newest beyond the cap, so a probe
 *       from the crowd's own address may be cut in its handshake by design.
 *   slowcli idle    --connect IP:PORT [--max-s S]
 *       A TCP connection that never sends a byte (no TLS ClientHello either).
 *   slowcli trickle --connect IP:PORT [--tls] [--interval-ms MS] [--max-s S] [--after-request]
 *       Sends a request one byte every interval; reports whether and when the
 *       daemon closed the connection. --after-request: first a complete
 *       keep-alive request on the same connection, then the trickle.
 *   slowcli raw     --connect IP:PORT [--tls] --file F [--max-s S]
 *       Sends the file as is and prints the response's status and body.
 *   Every mode: --from IP binds its own connections to that source address. */
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
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "netaddr.h"
#include "tconn.h"

#define MAX_CONNS 2000
#define PARTIAL "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
#define FULL "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"

struct opts {
    const char *mode;
    struct sockaddr_storage addr, from, probe_from;
    bool has_addr, has_from, has_probe_from;
    bool tls;
    unsigned conns, max_s, probes, interval_ms;
    bool idle, after_request, plain_probe;
    const char *file;
};

struct conn {
    int fd;
    SSL *ssl;
    bool open;
    double sent_at, closed_at;
    char first_line[64];
};

/* Blocking TCP connect (and TLS handshake): 0, -1 when the TCP connection
 * failed, -2 when it was made but the handshake failed (the daemon may cut a
 * connection in mid-handshake). On failure *c holds nothing to free. */
static int open_conn(const struct opts *o, SSL_CTX *ctx, const struct sockaddr *from, struct conn *c)
{
    memset(c, 0, sizeof *c);
    c->fd = socket(o->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        c->fd = -1;
        return -1;
    }
    if (from && bind(c->fd, from, rp_addr_len(from)) < 0) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    int on = 1;
    (void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    struct timeval tv = { .tv_sec = 5 };
    (void)setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    (void)setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    const struct sockaddr *sa = (const struct sockaddr *)&o->addr;
    if (connect(c->fd, sa, rp_addr_len(sa)) < 0) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    if (ctx) {
        c->ssl = SSL_new(ctx);
        if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1 || SSL_connect(c->ssl) != 1) {
            /* Cleared here: a dangling pointer would be freed again by close_conn(). */
            SSL_free(c->ssl);
            c->ssl = NULL;
            close(c->fd);
            c->fd = -1;
            return -2;
        }
    }
    c->open = true;
    return 0;
}

/* The address the mode's own connections come from (--from), if any. */
static const struct sockaddr *own_source(const struct opts *o)
{
    return o->has_from ? (const struct sockaddr *)&o->from : NULL;
}

static void close_conn(struct conn *c)
{
    tconn_close(&c->ssl, &c->fd);
    c->open = false;
}

static int conn_write(struct conn *c, const void *buf, size_t n)
{
    return tconn_write_all(c->ssl, c->fd, buf, n);
}

static ssize_t conn_read(struct conn *c, void *buf, size_t n)
{
    return tconn_read(c->ssl, c->fd, buf, n);
}

static void set_nonblocking(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        (void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* One fresh request; returns the HTTP status (0 on failure) and its latency. */
static int probe_once(const struct opts *o, SSL_CTX *ctx, double *ms)
{
    struct conn c;
    double t0 = now_s();
    int status = 0;
    const struct sockaddr *from = o->has_probe_from ? (const struct sockaddr *)&o->probe_from : NULL;
    if (open_conn(o, ctx, from, &c) < 0) {
        *ms = (now_s() - t0) * 1000;
        return 0;
    }
    if (conn_write(&c, FULL, strlen(FULL)) == 0)
        status = tconn_read_status(c.ssl, c.fd);
    *ms = (now_s() - t0) * 1000;
    close_conn(&c);
    return status;
}

/* Reads what is there; marks the connection closed (with the time) on EOF. */
static void poll_read(struct conn *c, double now)
{
    char buf[2048];
    for (;;) {
        ssize_t r = conn_read(c, buf, sizeof buf - 1);
        if (r < 0)
            return;
        if (r == 0) {
            c->closed_at = now;
            close_conn(c);
            return;
        }
        if (!c->first_line[0]) {
            buf[r] = '\0';
            size_t l = strcspn(buf, "\r\n");
            if (l >= sizeof c->first_line)
                l = sizeof c->first_line - 1;
            memcpy(c->first_line, buf, l);
            c->first_line[l] = '\0';
        }
    }
}

static json_t *mode_stall(const struct opts *o, SSL_CTX *ctx)
{
    static struct conn conns[MAX_CONNS];
    unsigned n = o->conns, opened = 0;
    double open_start = now_s();
    for (unsigned i = 0; i < n; i++) {
        /* Timed from before the connect: the daemon's deadline runs from its
         * accept, so a handshake slowed by load can only lengthen close_s,
         * never shorten it below the deadline. */
        double connect_at = now_s();
        int r = open_conn(o, o->idle ? NULL : ctx, own_source(o), &conns[i]);
        if (r == -2 || (r == 0 && !o->idle && conn_write(&conns[i], PARTIAL, strlen(PARTIAL)) < 0)) {
            /* Connected, then cut by the daemon before the request could start
             * (its per-address cap also applies to connections in mid-handshake). */
            double t = now_s();
            close_conn(&conns[i]);
            conns[i].sent_at = connect_at;
            conns[i].closed_at = t;
            opened++;
            continue;
        }
        if (r < 0)
            continue;
        conns[i].sent_at = connect_at;
        set_nonblocking(conns[i].fd);
        opened++;
        /* Let the daemon accept: a full listen queue drops SYNs, and the
         * retransmission (1 s) would spread the connections out in time. */
        if (opened % 32 == 0) {
            struct timespec pause = { 0, 3000000 };
            nanosleep(&pause, NULL);
        }
    }
    double start = now_s(), next_probe = start + 0.1;
    double open_s = start - open_start;
    json_t *probes = json_array(), *statuses = json_array(), *plain = json_array();
    unsigned probes_done = 0, open_during_probes_min = n;
    for (;;) {
        double now = now_s();
        unsigned still = 0;
        struct pollfd p[MAX_CONNS];
        unsigned idx[MAX_CONNS], np = 0;
        for (unsigned i = 0; i < n; i++) {
            if (!conns[i].open)
                continue;
            still++;
            p[np] = (struct pollfd){ .fd = conns[i].fd, .events = POLLIN };
            idx[np++] = i;
        }
        if (probes_done < o->probes && now >= next_probe && still > 0) {
            /* A fresh client while the stalled ones hold their connections. */
            double ms;
            int st = probe_once(o, ctx, &ms);
            json_array_append_new(probes, json_real(ms));
            json_array_append_new(statuses, json_integer(st));
            if (o->plain_probe) /* plain HTTP to the same port: must not be served when it is the TLS port */
                json_array_append_new(plain, json_integer(probe_once(o, NULL, &ms)));
            if (still < open_during_probes_min)
                open_during_probes_min = still;
            probes_done++;
            next_probe = now_s() + 0.2;
            continue;
        }
        if (still == 0 || now - start > o->max_s)
            break;
        (void)poll(p, np, 20);
        now = now_s();
        for (unsigned k = 0; k < np; k++)
            if (p[k].revents)
                poll_read(&conns[idx[k]], now);
    }
    double closes[MAX_CONNS];
    unsigned nclosed = 0, answered = 0, still_open = 0;
    json_t *lines = json_object();
    for (unsigned i = 0; i < n; i++) {
        if (conns[i].closed_at > 0)
            closes[nclosed++] = conns[i].closed_at - conns[i].sent_at;
        if (conns[i].open)
            still_open++;
        if (conns[i].first_line[0]) {
            answered++;
            json_t *cnt = json_object_get(lines, conns[i].first_line);
            json_object_set_new(lines, conns[i].first_line, json_integer(cnt ? json_integer_value(cnt) + 1 : 1));
        }
        close_conn(&conns[i]);
    }
    qsort(closes, nclosed, sizeof closes[0], cmp_double);
    return json_pack("{s:i, s:i, s:f, s:i, s:i, s:f, s:f, s:f, s:i, s:o, s:o, s:o, s:o, s:i}",
                     "conns", (int)n, "opened", (int)opened, "open_s", open_s, "closed_by_server", (int)nclosed,
                     "still_open", (int)still_open,
                     "close_s_min", nclosed ? closes[0] : -1.0,
                     "close_s_median", nclosed ? closes[nclosed / 2] : -1.0,
                     "close_s_max", nclosed ? closes[nclosed - 1] : -1.0,
                     "answered_before_close", (int)answered, "first_lines", lines,
                     "probe_ms", probes, "probe_status", statuses, "plain_probe_status", plain,
                     "open_during_probes_min", (int)(probes_done ? open_during_probes_min : 0));
}

static json_t *mode_idle(const struct opts *o)
{
    struct conn c;
    double start = now_s(); /* before the connect: see mode_stall */
    if (open_conn(o, NULL, own_source(o), &c) < 0)
        return json_pack("{s:s}", "error", "cannot connect");
    set_nonblocking(c.fd);
    c.sent_at = start;
    while (c.open && now_s() - start < o->max_s) {
        struct pollfd p = { .fd = c.fd, .events = POLLIN };
        (void)poll(&p, 1, 50);
        if (p.revents)
            poll_read(&c, now_s());
    }
    bool closed = !c.open;
    close_conn(&c);
    return json_pack("{s:b, s:f, s:f}", "closed_by_server", closed, "close_s", closed ? c.closed_at - start : -1.0,
                     "waited_s", now_s() - start);
}

static json_t *mode_trickle(const struct opts *o, SSL_CTX *ctx)
{
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Trickle: "
                              "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                              "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    struct conn c;
    if (open_conn(o, ctx, own_source(o), &c) < 0)
        return json_pack("{s:s}", "error", "cannot connect");
    int first_status = 0;
    if (o->after_request) {
        /* A complete request first: the connection is then past its first
         * request, kept alive for the next one. */
        static const char keep[] = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        char buf[2048];
        ssize_t r = conn_write(&c, keep, strlen(keep)) == 0 ? conn_read(&c, buf, sizeof buf - 1) : 0;
        if (r > 0) {
            buf[r] = '\0';
            (void)sscanf(buf, "HTTP/1.%*d %d", &first_status);
        }
    }
    set_nonblocking(c.fd);
    double start = now_s(), last_sent = start, next = start;
    unsigned sent = 0;
    bool write_failed = false;
    while (c.open && now_s() - start < o->max_s) {
        double now = now_s();
        if (now >= next && sent < sizeof req - 1) {
            /* Blocking write of one byte, then back to non-blocking reads. */
            int fl = fcntl(c.fd, F_GETFL);
            (void)fcntl(c.fd, F_SETFL, fl & ~O_NONBLOCK);
            if (conn_write(&c, req + sent, 1) < 0) {
                write_failed = true;
                c.closed_at = now_s();
                close_conn(&c);
                break;
            }
            set_nonblocking(c.fd);
            sent++;
            last_sent = now;
            next += o->interval_ms / 1000.0;
        }
        struct pollfd p = { .fd = c.fd, .events = POLLIN };
        (void)poll(&p, 1, 20);
        if (p.revents)
            poll_read(&c, now_s());
    }
    bool closed = !c.open;
    double waited = now_s() - start;
    close_conn(&c);
    return json_pack("{s:b, s:b, s:f, s:f, s:i, s:f, s:s, s:i}", "closed_by_server", closed, "write_failed",
                     write_failed, "close_s", closed ? c.closed_at - start : -1.0,
                     "close_s_after_last_byte", closed ? c.closed_at - last_sent : -1.0, "bytes_sent", (int)sent,
                     "waited_s", waited, "first_line", c.first_line, "first_request_status", first_status);
}

static json_t *mode_raw(const struct opts *o, SSL_CTX *ctx)
{
    FILE *f = fopen(o->file, "rb");
    if (!f)
        return json_pack("{s:s}", "error", "cannot open file");
    static char req[1 << 21];
    size_t n = fread(req, 1, sizeof req, f);
    fclose(f);
    struct conn c;
    if (open_conn(o, ctx, own_source(o), &c) < 0)
        return json_pack("{s:s}", "error", "cannot connect");
    bool write_ok = conn_write(&c, req, n) == 0;
    set_nonblocking(c.fd);
    static char resp[65536];
    size_t have = 0;
    double start = now_s();
    while (c.open && now_s() - start < o->max_s && have < sizeof resp - 1) {
        struct pollfd p = { .fd = c.fd, .events = POLLIN };
        (void)poll(&p, 1, 50);
        if (!p.revents)
            continue;
        ssize_t r = conn_read(&c, resp + have, sizeof resp - 1 - have);
        if (r == 0) {
            c.closed_at = now_s();
            close_conn(&c);
        } else if (r > 0) {
            have += (size_t)r;
        }
    }
    resp[have] = '\0';
    bool closed = !c.open;
    close_conn(&c);
    int status = 0;
    (void)sscanf(resp, "HTTP/1.%*d %d", &status);
    const char *body = strstr(resp, "\r\n\r\n");
    return json_pack("{s:b, s:i, s:b, s:f, s:s%}", "write_ok", write_ok, "status", status, "closed_by_server", closed,
                     "elapsed_s", now_s() - start, "body", body ? body + 4 : "", body ? strlen(body + 4) : (size_t)0);
}

__attribute__((noreturn)) static void usage(void)
{
    fprintf(stderr, "usage: slowcli stall|idle|trickle|raw --connect IP:PORT [--tls] [--conns N] [--max-s S]\n"
                    "               [--probes N] [--idle] [--plain-probe] [--interval-ms MS] [--after-request] [--file F]\n"
                    "               [--from IP] [--probe-from IP]\n");
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

int main(int argc, char **argv)
{
    struct opts o = { .conns = 50, .max_s = 10, .probes = 5, .interval_ms = 1000 };
    if (argc < 2)
        usage();
    o.mode = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--tls") == 0 || strcmp(a, "--idle") == 0 || strcmp(a, "--after-request") == 0 ||
            strcmp(a, "--plain-probe") == 0) {
            o.tls |= strcmp(a, "--tls") == 0;
            o.plain_probe |= strcmp(a, "--plain-probe") == 0;
            o.idle |= strcmp(a, "--idle") == 0;
            o.after_request |= strcmp(a, "--after-request") == 0;
            continue;
        }
        if (i + 1 >= argc)
            usage();
        const char *v = argv[++i];
        socklen_t len;
        if (strcmp(a, "--connect") == 0) {
            if (rp_addr_parse(v, 0, &o.addr, &len) < 0)
                usage();
            o.has_addr = true;
        } else if (strcmp(a, "--from") == 0) {
            if (rp_addr_from_ip(v, 0, &o.from, &len) < 0)
                usage();
            o.has_from = true;
        } else if (strcmp(a, "--probe-from") == 0) {
            if (rp_addr_from_ip(v, 0, &o.probe_from, &len) < 0)
                usage();
            o.has_probe_from = true;
        } else if (strcmp(a, "--conns") == 0) {
            o.conns = num(v, MAX_CONNS);
        } else if (strcmp(a, "--max-s") == 0) {
            o.max_s = num(v, 3600);
        } else if (strcmp(a, "--probes") == 0) {
            o.probes = num(v, 100);
        } else if (strcmp(a, "--interval-ms") == 0) {
            o.interval_ms = num(v, 60000);
        } else if (strcmp(a, "--file") == 0) {
            o.file = v;
        } else {
            usage();
        }
    }
    if (!o.has_addr)
        usage();
    signal(SIGPIPE, SIG_IGN);
    /* Many connections need many descriptors: up to the hard limit. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
    SSL_CTX *ctx = o.tls ? tconn_client_ctx("slowcli", 0) : NULL;
    json_t *out;
    if (strcmp(o.mode, "stall") == 0)
        out = mode_stall(&o, ctx);
    else if (strcmp(o.mode, "idle") == 0)
        out = mode_idle(&o);
    else if (strcmp(o.mode, "trickle") == 0)
        out = mode_trickle(&o, ctx);
    else if (strcmp(o.mode, "raw") == 0 && o.file)
        out = mode_raw(&o, ctx);
    else
        usage();
    json_dumpf(out, stdout, JSON_COMPACT);
    putchar('\n');
    json_decref(out);
    SSL_CTX_free(ctx);
    return 0;
}
