/* loadgen: the capacity bench's load generator (tests/bench/capacity.sh).
 * N sessions, each from its own UDP socket on 127.0.0.1:SRC_BASE+i, send
 * PCMU 20 ms upstream built with the project's packet code (rp_stream_seal
 * with the session's keys, as the probe does) and receive downstream.
 *
 *   loadgen --created FILE   POST /v1/sessions answers, one JSON object a line;
 *                            downstream is verified with rp_stream_open
 *   loadgen --echo N --echo-base PORT
 *                            N sessions to a bare echo on PORT+i (random keys);
 *                            what comes back is only counted
 *   common: --src-base PORT --warmup S --seconds S --counts FILE
 *
 * Protocol with the script: the sockets are bound, then "ready" goes to
 * stdout; SIGUSR1 starts the traffic (warmup + seconds); then FILE gets
 * "id sent" a line (for PATCH stop's upstream_sent) and "sent" goes to
 * stdout; the sockets keep receiving until a second SIGUSR1, then 300 ms of
 * drain and one JSON line with the counts and the generator's own CPU in
 * the send phase. daemon_sent / daemon_slots: downstream packets received
 * (after the first) against the 20 ms slots of the daemon's own clock
 * between the first and the latest one's transmit time (t3), summed over the
 * sessions: the daemon's send rate, whatever the generator's own delays.
 * One thread: epoll over every socket (drained with recvmmsg), one timerfd
 * stepped over the sessions in phase order (session i is due at
 * t0 + k * 20 ms + i * 20 ms / N), quantised to 1 ms ticks. */
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "contract.h"
#include "srtp.h"
#include "stream.h"
#include "timeutil.h"

#define PTIME_MS  20
#define PERIOD_NS (PTIME_MS * 1000000ULL)
#define TICK_NS   1000000ULL
#define BATCH     16

struct sess {
    char id[RP_CONTRACT_ID_LEN + 1];
    int fd;
    struct sockaddr_in dest;
    struct rp_stream *up, *down; /* down NULL in echo mode */
    uint64_t sent, received, received_window, bad;
    /* the daemon's transmit times (t3) of the first and latest downstream
     * packet, and the packets received with an element: its send rate on its
     * own clock (its in-band count may count skipped slots too) */
    bool seen;
    uint64_t t3_first, t3_last, with_elem;
};

struct gen {
    struct sess *s;
    size_t n;
    uint64_t t0, warmup_ns, window_ns, send_ns;
    uint64_t send_cpu_ns, send_wall_ns; /* of the send phase, as it ran */
    uint64_t k;   /* packet index of the cursor's round */
    size_t cur;   /* next session due */
    uint64_t send_errors, foreign;
};

static void die(const char *what)
{
    fprintf(stderr, "loadgen: %s\n", what);
    exit(1);
}

static struct rp_stream *stream(enum rp_stream_role role, uint32_t ssrc, uint8_t elem, const struct rp_contract_keys *k,
                                const uint8_t *key)
{
    uint32_t r = (uint32_t)rand();
    struct rp_stream_cfg c = {
        .role = role, .codec = RP_CODEC_PCMU, .ptime_ms = PTIME_MS, .ssrc = ssrc, .elem_id = elem,
        .seq0 = (uint16_t)r, .ts0 = r * 7u, .bitrate_bps = 64000, .loop_frames = 2000 / PTIME_MS,
        .payload_seed = r, .srtp = k->srtp, .suite = k->suite, .key = key,
    };
    char err[256];
    struct rp_stream *s = rp_stream_new(&c, err, sizeof err);
    if (!s)
        die(err);
    return s;
}

static void open_socket(struct sess *s, unsigned port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int big = 1 << 20;
    s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&a, sizeof a) < 0) {
        fprintf(stderr, "loadgen: cannot bind 127.0.0.1:%u: %s\n", port, strerror(errno));
        exit(1);
    }
    (void)setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
}

static void set_dest(struct sess *s, unsigned port)
{
    s->dest = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
}

static size_t load_created(const char *path, struct sess **out)
{
    FILE *f = fopen(path, "r");
    if (!f)
        die("cannot open --created");
    size_t n = 0, cap = 0;
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        json_error_t je;
        json_t *j = json_loads(line, 0, &je);
        struct rp_contract_created c;
        char err[256];
        if (!j || rp_contract_created_decode(j, &c, err, sizeof err) < 0) {
            fprintf(stderr, "loadgen: line %zu: %s\n", n + 1, j ? err : je.text);
            exit(1);
        }
        json_decref(j);
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            *out = realloc(*out, cap * sizeof **out);
            if (!*out)
                die("out of memory");
        }
        struct sess *s = &(*out)[n++];
        memset(s, 0, sizeof *s);
        snprintf(s->id, sizeof s->id, "%s", c.id);
        set_dest(s, c.media_port);
        s->up = stream(RP_STREAM_SEAL, c.ssrc_up, RP_MEXT_ID_UP, &c.keys, c.keys.srtp ? c.keys.key_up : c.keys.auth_key);
        s->down = stream(RP_STREAM_OPEN, c.ssrc_down, RP_MEXT_ID_DOWN, &c.keys,
                         c.keys.srtp ? c.keys.key_down : c.keys.auth_key);
    }
    fclose(f);
    return n;
}

static struct sess *make_echo(size_t n, unsigned base)
{
    struct sess *s = calloc(n, sizeof *s);
    struct rp_contract_keys k = { .srtp = false };
    if (!s)
        die("out of memory");
    for (size_t i = 0; i < n; i++) {
        for (size_t b = 0; b < sizeof k.auth_key; b++)
            k.auth_key[b] = (uint8_t)rand();
        snprintf(s[i].id, sizeof s[i].id, "echo%zu", i);
        set_dest(&s[i], base + (unsigned)i);
        s[i].up = stream(RP_STREAM_SEAL, (uint32_t)rand(), RP_MEXT_ID_UP, &k, k.auth_key);
    }
    return s;
}

static uint64_t real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void send_one(struct gen *g, struct sess *s)
{
    struct rp_stream_elem e = { .up = { .seq = (uint32_t)s->sent, .t1_ns = real_ns() } };
    uint8_t pkt[RP_STREAM_MAX_PKT];
    size_t len = rp_stream_seal(s->up, (int64_t)s->sent, &e, pkt, sizeof pkt);
    if (len == 0 || sendto(s->fd, pkt, len, 0, (const struct sockaddr *)&s->dest, sizeof s->dest) < 0)
        g->send_errors++;
    s->sent++;
}

static uint64_t due_ns(const struct gen *g)
{
    return g->t0 + g->k * PERIOD_NS + g->cur * PERIOD_NS / g->n;
}

/* Sends every packet due by now; false once the send phase is over. */
static bool send_due(struct gen *g, uint64_t now)
{
    while (due_ns(g) <= now) {
        if (due_ns(g) >= g->t0 + g->send_ns)
            return false;
        send_one(g, &g->s[g->cur]);
        if (++g->cur == g->n) {
            g->cur = 0;
            g->k++;
        }
    }
    return true;
}

static void arm(int tfd, uint64_t at_ns)
{
    at_ns = (at_ns + TICK_NS - 1) / TICK_NS * TICK_NS;
    struct itimerspec its = { .it_value = { .tv_sec = (time_t)(at_ns / 1000000000ULL),
                                            .tv_nsec = (long)(at_ns % 1000000000ULL) } };
    timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void take(struct gen *g, struct sess *s, uint8_t *buf, size_t len, const struct sockaddr_in *from)
{
    if (from->sin_port != s->dest.sin_port) {
        g->foreign++;
        return;
    }
    struct rp_stream_rx rx;
    if (s->down && rp_stream_open(s->down, buf, len, &rx) != RP_DROP_NONE) {
        s->bad++;
        return;
    }
    s->received++;
    if (s->down && rx.has_elem && rx.elem.down.t3_ns) {
        if (!s->seen) {
            s->seen = true;
            s->t3_first = rx.elem.down.t3_ns;
        }
        if (rx.elem.down.t3_ns > s->t3_last)
            s->t3_last = rx.elem.down.t3_ns;
        s->with_elem++;
    }
    uint64_t now = rp_monotonic_ns();
    if (g->t0 && now >= g->t0 + g->warmup_ns && now < g->t0 + g->warmup_ns + g->window_ns)
        s->received_window++;
}

static void drain(struct gen *g, struct sess *s)
{
    static uint8_t bufs[BATCH][RP_STREAM_MAX_PKT];
    struct sockaddr_in from[BATCH];
    struct iovec iov[BATCH];
    struct mmsghdr m[BATCH];
    for (;;) {
        for (int i = 0; i < BATCH; i++) {
            iov[i] = (struct iovec){ .iov_base = bufs[i], .iov_len = sizeof bufs[i] };
            m[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &from[i], .msg_namelen = sizeof from[i],
                                                  .msg_iov = &iov[i], .msg_iovlen = 1 } };
        }
        int got = recvmmsg(s->fd, m, BATCH, MSG_DONTWAIT, NULL);
        for (int i = 0; i < got; i++)
            take(g, s, bufs[i], m[i].msg_len, &from[i]);
        if (got < BATCH)
            return;
    }
}

static uint64_t cpu_ns(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ULL +
           (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ULL;
}

static void write_counts(const struct gen *g, const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        die("cannot write --counts");
    for (size_t i = 0; i < g->n; i++)
        fprintf(f, "%s %llu\n", g->s[i].id, (unsigned long long)g->s[i].sent);
    if (fclose(f) != 0 || rename(tmp, path) < 0)
        die("cannot write --counts");
}

static void report(const struct gen *g)
{
    uint64_t cpu = g->send_cpu_ns, wall = g->send_wall_ns;
    uint64_t sent = 0, recv = 0, win = 0, bad = 0, dsent = 0;
    double slots = 0;
    for (size_t i = 0; i < g->n; i++) {
        if (g->s[i].seen) {
            dsent += g->s[i].with_elem - 1;
            slots += (double)(g->s[i].t3_last - g->s[i].t3_first) / (double)PERIOD_NS;
        }
        sent += g->s[i].sent;
        recv += g->s[i].received;
        win += g->s[i].received_window;
        bad += g->s[i].bad;
    }
    printf("{\"sessions\":%zu,\"sent\":%llu,\"received\":%llu,\"received_window\":%llu,\"nominal_window\":%llu,"
           "\"bad\":%llu,\"foreign\":%llu,\"send_errors\":%llu,\"cpu_s\":%.3f,\"send_s\":%.3f,\"cpu_pct\":%.2f,"
           "\"daemon_sent\":%llu,\"daemon_slots\":%.1f}\n",
           g->n, (unsigned long long)sent, (unsigned long long)recv, (unsigned long long)win,
           (unsigned long long)(g->n * (g->window_ns / PERIOD_NS)), (unsigned long long)bad,
           (unsigned long long)g->foreign, (unsigned long long)g->send_errors, cpu / 1e9, wall / 1e9,
           wall ? 100.0 * (double)cpu / (double)wall : 0.0, (unsigned long long)dsent, slots);
    fflush(stdout);
}

enum phase { READY, SENDING, HOLDING, DRAINING };

/* One epoll loop through the phases; returns when the drain is over. */
static void run(struct gen *g, int ep, int tfd, int sfd, const char *counts)
{
    enum phase ph = READY;
    uint64_t cpu0 = 0, drain_end = 0;
    struct epoll_event ev[256];
    for (;;) {
        int n = epoll_wait(ep, ev, 256, ph == DRAINING ? 10 : -1);
        if (n < 0 && errno != EINTR)
            die("epoll_wait failed");
        for (int i = 0; i < n; i++) {
            uint64_t tag = ev[i].data.u64;
            if (tag < g->n) {
                drain(g, &g->s[tag]);
            } else if (tag == g->n) { /* timer */
                uint64_t x;
                (void)!read(tfd, &x, sizeof x);
                if (ph == SENDING && !send_due(g, rp_monotonic_ns())) {
                    g->send_cpu_ns = cpu_ns() - cpu0;
                    g->send_wall_ns = rp_monotonic_ns() - g->t0;
                    if (counts) /* written beside and renamed: never onto a device */
                        write_counts(g, counts);
                    printf("sent %.3f\n", g->send_cpu_ns / 1e9);
                    fflush(stdout);
                    ph = HOLDING;
                } else if (ph == SENDING) {
                    arm(tfd, due_ns(g));
                }
            } else { /* SIGUSR1 */
                struct signalfd_siginfo si;
                (void)!read(sfd, &si, sizeof si);
                if (ph == READY) {
                    ph = SENDING;
                    cpu0 = cpu_ns();
                    g->t0 = rp_monotonic_ns();
                    arm(tfd, g->t0);
                } else if (ph == HOLDING) {
                    ph = DRAINING;
                    drain_end = rp_monotonic_ns() + 300000000ULL;
                }
            }
        }
        if (ph == DRAINING && rp_monotonic_ns() >= drain_end) {
            report(g);
            return;
        }
    }
}

static unsigned num(const char *s)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*end || v > 1000000)
        die("bad number");
    return (unsigned)v;
}

int main(int argc, char **argv)
{
    const char *created = NULL, *counts = NULL;
    unsigned echo_n = 0, echo_base = 0, src_base = 0, warmup = 2, seconds = 10;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *o = argv[i], *v = argv[i + 1];
        if (!strcmp(o, "--created")) created = v;
        else if (!strcmp(o, "--counts")) counts = v;
        else if (!strcmp(o, "--echo")) echo_n = num(v);
        else if (!strcmp(o, "--echo-base")) echo_base = num(v);
        else if (!strcmp(o, "--src-base")) src_base = num(v);
        else if (!strcmp(o, "--warmup")) warmup = num(v);
        else if (!strcmp(o, "--seconds")) seconds = num(v);
        else die("usage: loadgen (--created FILE | --echo N --echo-base PORT) --src-base PORT "
                 "[--warmup S] [--seconds S] [--counts FILE]");
    }
    srand((unsigned)real_ns());
    if (rp_srtp_global_init() < 0)
        die("libsrtp init failed");
    struct gen g = { .warmup_ns = warmup * 1000000000ULL, .window_ns = seconds * 1000000000ULL };
    g.send_ns = g.warmup_ns + g.window_ns;
    if (created)
        g.n = load_created(created, &g.s);
    else if ((g.n = echo_n) > 0)
        g.s = make_echo(echo_n, echo_base);
    if (g.n == 0 || src_base == 0)
        die("no sessions, or no --src-base");
    sigset_t ss;
    sigemptyset(&ss);
    sigaddset(&ss, SIGUSR1);
    sigprocmask(SIG_BLOCK, &ss, NULL);
    int ep = epoll_create1(EPOLL_CLOEXEC), sfd = signalfd(-1, &ss, SFD_CLOEXEC);
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    struct epoll_event e = { .events = EPOLLIN, .data.u64 = g.n };
    if (ep < 0 || sfd < 0 || tfd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &e) < 0)
        die("cannot set up epoll");
    e.data.u64 = g.n + 1;
    epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &e);
    for (size_t i = 0; i < g.n; i++) {
        open_socket(&g.s[i], src_base + (unsigned)i);
        e.data.u64 = i;
        if (epoll_ctl(ep, EPOLL_CTL_ADD, g.s[i].fd, &e) < 0)
            die("epoll_ctl failed");
    }
    printf("ready\n");
    fflush(stdout);
    run(&g, ep, tfd, sfd, counts);
    for (size_t i = 0; i < g.n; i++) {
        close(g.s[i].fd);
        rp_stream_free(g.s[i].up);
        rp_stream_free(g.s[i].down);
    }
    free(g.s);
    rp_srtp_global_fini();
    return 0;
}
