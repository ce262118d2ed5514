/* wanbridge: a test-only Ethernet bridge between two interfaces that delays
 * each IPv4/UDP frame by a seeded random time (and can drop RTP frames), so
 * that the network-namespace tests have jitter and loss with a known cause.
 *
 *   wanbridge IF_A IF_B [--seed N] [--delay-max-ms MS] [--loss-permille N]
 *                       [--delay-step SCHEDULE] [--delay-step-a-to-b SCHEDULE]
 *                       [--delay-step-b-to-a SCHEDULE] [--stats FILE]
 *
 * Every frame received on one interface is sent unchanged out of the other.
 * IPv4/UDP frames wait a base delay (0 unless scheduled) plus a delay drawn
 * uniformly from [0, delay-max] ms; other frames (ARP, TCP) go at once. Frames
 * keep their order per direction, like on a real link: a frame never leaves
 * before the one ahead of it, so a frame's real delay is max(its own delay,
 * the previous frame's departure). RTP frames (UDP payload of at least 12
 * bytes with version 2) are dropped with probability loss-permille/1000.
 *
 * A delay schedule changes the base delay during the run:
 * SCHEDULE = AT_MS:DELAY_MS[,AT_MS:DELAY_MS...], AT_MS increasing; the base
 * delay is the DELAY_MS of the last entry whose AT_MS has passed (0 before
 * the first), with the clock of each direction starting at its first RTP
 * frame, so "5000:60" adds 60 ms to every UDP frame from 5 s into the stream
 * on. --delay-step sets both directions, the other two one direction each
 * (a_to_b: IF_A to IF_B). A rise delays the frames behind it, nothing is
 * reordered or lost; after a fall frames wait for the one ahead (no
 * overtaking), so the delay comes down over the frames already queued.
 *
 * Seeded and reproducible: an RTP frame's delay and drop decision are a hash
 * of (--seed, direction, the packet's index in its stream, i.e. its sequence
 * number minus the stream's first), so the same seed gives every run the same
 * pattern, however many other frames (STUN, retransmissions) come in between.
 * Other UDP frames draw from one PRNG per direction.
 *
 * Prints "ready" on stdout once both sockets are bound. On SIGTERM or SIGINT
 * writes per-direction counters as JSON to --stats (default stdout) and exits.
 * Needs CAP_NET_RAW; the interfaces must be up and belong to no bridge. */
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>

/* Frames carry a virtio_net_hdr (PACKET_VNET_HDR) so that GSO frames and
 * frames whose checksum the sender left to the NIC pass through intact. */
#define VNET_LEN   ((size_t)sizeof(struct virtio_net_hdr))
#define SLOT_BYTES 2048        /* queued (UDP) frames: vnet header + MTU-sized frame */
#define QUEUE_LEN  4096        /* per direction; 80 s of 50 pps at most 40 ms late is far less */
#define BIG_FRAME  (65536 + 64) /* GSO frames (TCP) are forwarded at once, never queued */
#define MAX_STREAMS 8          /* RTP streams (SSRCs) tracked per direction */
#define MAX_STEPS  16          /* entries of a delay schedule */

struct slot {
    uint64_t due_ns;
    size_t len;
    uint8_t data[SLOT_BYTES];
};

struct dir_stats {
    uint64_t frames, udp, rtp, rtp_dropped, delayed, immediate, overflow, send_errors;
    uint64_t delay_sum_us, delay_max_us;
    uint64_t rtp_delayed, rtp_delay_sum_us;   /* the RTP frames alone */
};

struct step {
    uint64_t at_us, delay_us;
};

struct schedule {
    struct step steps[MAX_STEPS];
    size_t n;
};

struct stream {
    uint32_t ssrc;
    uint16_t first_seq;
};

struct direction {
    const char *name;          /* "a_to_b" */
    unsigned id;
    int in_fd, out_fd;
    uint64_t rng;
    struct stream streams[MAX_STREAMS];
    size_t nstreams;
    uint64_t last_due_ns;
    uint64_t origin_ns;        /* first RTP frame: time 0 of the schedule (0: none yet) */
    struct slot *queue;
    size_t head, count;
    struct dir_stats st;
};

struct opts {
    const char *if_a, *if_b, *stats_path;
    uint64_t seed;
    uint64_t delay_max_us;
    unsigned loss_permille;
    struct schedule sched[2]; /* per direction: a_to_b, b_to_a */
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* splitmix64: small, seedable, good enough for test decisions. */
static uint64_t rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n] (n small: the modulo bias is negligible). */
static uint64_t rng_upto(uint64_t *state, uint64_t n)
{
    return rng_next(state) % (n + 1);
}

/* A hash of the key: the same key always gives the same decision. */
static uint64_t rng_keyed(uint64_t seed, unsigned dir, unsigned stream, uint64_t index, unsigned what)
{
    uint64_t state = seed ^ ((uint64_t)dir << 62) ^ ((uint64_t)stream << 56) ^ ((uint64_t)what << 48) ^ index;
    rng_next(&state);
    return rng_next(&state);
}

static uint16_t get_be16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

enum frame_kind { FRAME_OTHER, FRAME_UDP, FRAME_RTP };

struct rtp_id {
    uint32_t ssrc;
    uint16_t seq;
};

/* Looks at the Ethernet frame after the vnet header; checks length before each
 * read. For RTP, fills *id. */
static enum frame_kind classify(const uint8_t *buf, size_t len, struct rtp_id *id)
{
    if (len < VNET_LEN + ETH_HLEN)
        return FRAME_OTHER;
    const uint8_t *eth = buf + VNET_LEN;
    size_t elen = len - VNET_LEN;
    if (get_be16(eth + 12) != ETH_P_IP || elen < ETH_HLEN + 20)
        return FRAME_OTHER;
    const uint8_t *ip = eth + ETH_HLEN;
    size_t iplen = elen - ETH_HLEN;
    size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
    if ((ip[0] >> 4) != 4 || ihl < 20 || iplen < ihl + 8 || ip[9] != IPPROTO_UDP)
        return FRAME_OTHER;
    /* Later fragments carry no UDP header. */
    if ((get_be16(ip + 6) & 0x1fff) != 0)
        return FRAME_UDP;
    const uint8_t *udp = ip + ihl;
    size_t ulen = iplen - ihl;
    if (ulen >= 8 + 12 && (udp[8] >> 6) == 2) {
        id->seq = get_be16(udp + 8 + 2);
        id->ssrc = get_be32(udp + 8 + 8);
        return FRAME_RTP;
    }
    return FRAME_UDP;
}

/* The packet's index in its stream (sequence number minus the first one seen,
 * modulo 2^16: streams in this bed do not reorder before the bridge), and
 * the stream's slot. Streams beyond MAX_STREAMS share the last slot. */
static uint64_t stream_index(struct direction *d, const struct rtp_id *id, unsigned *slot)
{
    size_t i;
    for (i = 0; i < d->nstreams; i++)
        if (d->streams[i].ssrc == id->ssrc)
            break;
    if (i == d->nstreams) {
        if (d->nstreams < MAX_STREAMS) {
            d->streams[d->nstreams].ssrc = id->ssrc;
            d->streams[d->nstreams].first_seq = id->seq;
            d->nstreams++;
        } else {
            i = MAX_STREAMS - 1;
        }
    }
    *slot = (unsigned)i;
    return (uint16_t)(id->seq - d->streams[i].first_seq);
}

static int open_iface(const char *name, char *err, size_t errlen)
{
    unsigned idx = if_nametoindex(name);
    if (idx == 0) {
        snprintf(err, errlen, "no interface %s: %s", name, strerror(errno));
        return -1;
    }
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (fd < 0) {
        snprintf(err, errlen, "AF_PACKET socket: %s (needs CAP_NET_RAW)", strerror(errno));
        return -1;
    }
    int one = 1;
    struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = (int)idx };
    struct packet_mreq mr = { .mr_ifindex = (int)idx, .mr_type = PACKET_MR_PROMISC };
    int rcvbuf = 4 << 20;
    if (setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one) < 0 ||
        setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) < 0 ||
        bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
        snprintf(err, errlen, "%s: %s", name, strerror(errno));
        close(fd);
        return -1;
    }
    /* Our own transmissions must not come back as input; older kernels lack
     * the option, so PACKET_OUTGOING is filtered on receive as well. */
    (void)setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    return fd;
}

static void send_frame(struct direction *d, const uint8_t *buf, size_t len)
{
    if (send(d->out_fd, buf, len, 0) < 0)
        d->st.send_errors++;
}

/* The scheduled base delay at time now, in us. */
static uint64_t base_delay_us(const struct direction *d, const struct schedule *sc, uint64_t now)
{
    uint64_t t_us = d->origin_ns ? (now - d->origin_ns) / 1000u : 0;
    uint64_t delay = 0;
    for (size_t i = 0; i < sc->n && sc->steps[i].at_us <= t_us; i++)
        delay = sc->steps[i].delay_us;
    return delay;
}

/* Queues the frame until now + delay_us, or later if the frame ahead leaves
 * later (no overtaking); counts its real delay. */
static void enqueue(struct direction *d, const uint8_t *buf, size_t len, uint64_t now, uint64_t delay_us,
                    bool rtp)
{
    uint64_t due = now + delay_us * 1000u;
    if (due < d->last_due_ns)
        due = d->last_due_ns;
    d->last_due_ns = due;
    struct slot *s = &d->queue[(d->head + d->count) % QUEUE_LEN];
    s->due_ns = due;
    s->len = len;
    memcpy(s->data, buf, len);
    d->count++;
    d->st.delayed++;
    uint64_t real_us = (due - now) / 1000u;
    d->st.delay_sum_us += real_us;
    if (real_us > d->st.delay_max_us)
        d->st.delay_max_us = real_us;
    if (rtp) {
        d->st.rtp_delayed++;
        d->st.rtp_delay_sum_us += real_us;
    }
}

/* Reads everything pending on d->in_fd: forwards, queues or drops each frame. */
static void receive(struct direction *d, const struct opts *o, uint8_t *big)
{
    for (;;) {
        struct sockaddr_ll from;
        socklen_t fromlen = sizeof from;
        ssize_t n = recvfrom(d->in_fd, big, BIG_FRAME, MSG_TRUNC, (struct sockaddr *)&from, &fromlen);
        if (n < 0)
            return; /* EAGAIN, or an error we cannot act on */
        if (from.sll_pkttype == PACKET_OUTGOING)
            continue;
        size_t len = (size_t)n;
        if (len > BIG_FRAME) {
            d->st.send_errors++; /* truncated: cannot forward it faithfully */
            continue;
        }
        d->st.frames++;
        struct rtp_id id = { 0, 0 };
        enum frame_kind kind = classify(big, len, &id);
        if (kind == FRAME_OTHER) {
            d->st.immediate++;
            send_frame(d, big, len);
            continue;
        }
        d->st.udp++;
        uint64_t now = now_ns(), draw_us;
        if (kind == FRAME_RTP) {
            unsigned slot;
            uint64_t idx = stream_index(d, &id, &slot);
            d->st.rtp++;
            if (!d->origin_ns)
                d->origin_ns = now;
            if (o->loss_permille && rng_keyed(o->seed, d->id, slot, idx, 1) % 1000 < o->loss_permille) {
                d->st.rtp_dropped++;
                continue;
            }
            draw_us = rng_keyed(o->seed, d->id, slot, idx, 2) % (o->delay_max_us + 1);
        } else {
            draw_us = o->delay_max_us ? rng_upto(&d->rng, o->delay_max_us) : 0;
        }
        if (len > SLOT_BYTES || d->count == QUEUE_LEN) {
            d->st.overflow++;
            send_frame(d, big, len);
            continue;
        }
        enqueue(d, big, len, now, base_delay_us(d, &o->sched[d->id], now) + draw_us, kind == FRAME_RTP);
    }
}

/* Sends every queued frame that is due; returns ns until the next one (or UINT64_MAX). */
static uint64_t flush_due(struct direction *d)
{
    uint64_t now = now_ns();
    while (d->count > 0) {
        struct slot *s = &d->queue[d->head];
        if (s->due_ns > now)
            return s->due_ns - now;
        send_frame(d, s->data, s->len);
        d->head = (d->head + 1) % QUEUE_LEN;
        d->count--;
    }
    return UINT64_MAX;
}

static void write_stats(const struct opts *o, const struct direction dirs[2])
{
    FILE *f = o->stats_path ? fopen(o->stats_path, "w") : stdout;
    if (!f) {
        fprintf(stderr, "wanbridge: %s: %s\n", o->stats_path, strerror(errno));
        return;
    }
    fprintf(f, "{\"seed\": %" PRIu64 ", \"delay_max_ms\": %.3f, \"loss_permille\": %u", o->seed,
            (double)o->delay_max_us / 1000.0, o->loss_permille);
    for (int i = 0; i < 2; i++) {
        const struct dir_stats *s = &dirs[i].st;
        fprintf(f,
                ", \"%s\": {\"frames\": %" PRIu64 ", \"udp\": %" PRIu64 ", \"rtp\": %" PRIu64
                ", \"rtp_dropped\": %" PRIu64 ", \"delayed\": %" PRIu64 ", \"immediate\": %" PRIu64
                ", \"overflow\": %" PRIu64 ", \"send_errors\": %" PRIu64
                ", \"delay_mean_ms\": %.3f, \"delay_max_ms\": %.3f, \"rtp_delay_mean_ms\": %.3f}",
                dirs[i].name, s->frames, s->udp, s->rtp, s->rtp_dropped, s->delayed, s->immediate, s->overflow,
                s->send_errors, s->delayed ? (double)s->delay_sum_us / (double)s->delayed / 1000.0 : 0.0,
                (double)s->delay_max_us / 1000.0,
                s->rtp_delayed ? (double)s->rtp_delay_sum_us / (double)s->rtp_delayed / 1000.0 : 0.0);
    }
    fprintf(f, "}\n");
    if (f != stdout)
        fclose(f);
    else
        fflush(f);
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || v > max || s[0] == '-')
        return -1;
    *out = v;
    return 0;
}

/* SCHEDULE = AT_MS:DELAY_MS[,AT_MS:DELAY_MS...], AT_MS strictly increasing. */
static int parse_schedule(const char *spec, struct schedule *sc)
{
    char buf[512];
    if (strlen(spec) >= sizeof buf)
        return -1;
    strcpy(buf, spec);
    sc->n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(tok, ':');
        uint64_t at, delay;
        if (!colon || sc->n == MAX_STEPS)
            return -1;
        *colon = '\0';
        if (parse_u64(tok, 86400000, &at) < 0 || parse_u64(colon + 1, 10000, &delay) < 0)
            return -1;
        if (sc->n > 0 && at * 1000u <= sc->steps[sc->n - 1].at_us)
            return -1;
        sc->steps[sc->n].at_us = at * 1000u;
        sc->steps[sc->n].delay_us = delay * 1000u;
        sc->n++;
    }
    return sc->n > 0 ? 0 : -1;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    int pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        uint64_t v;
        bool has_val = i + 1 < argc;
        if (strcmp(a, "--seed") == 0 && has_val && parse_u64(argv[i + 1], UINT64_MAX, &v) == 0) {
            o->seed = v;
            i++;
        } else if (strcmp(a, "--delay-max-ms") == 0 && has_val && parse_u64(argv[i + 1], 10000, &v) == 0) {
            o->delay_max_us = v * 1000u;
            i++;
        } else if (strcmp(a, "--loss-permille") == 0 && has_val && parse_u64(argv[i + 1], 1000, &v) == 0) {
            o->loss_permille = (unsigned)v;
            i++;
        } else if (strcmp(a, "--delay-step") == 0 && has_val) {
            if (parse_schedule(argv[++i], &o->sched[0]) < 0)
                return -1;
            o->sched[1] = o->sched[0];
        } else if (strcmp(a, "--delay-step-a-to-b") == 0 && has_val) {
            if (parse_schedule(argv[++i], &o->sched[0]) < 0)
                return -1;
        } else if (strcmp(a, "--delay-step-b-to-a") == 0 && has_val) {
            if (parse_schedule(argv[++i], &o->sched[1]) < 0)
                return -1;
        } else if (strcmp(a, "--stats") == 0 && has_val) {
            o->stats_path = argv[++i];
        } else if (a[0] != '-' && pos == 0) {
            o->if_a = a;
            pos++;
        } else if (a[0] != '-' && pos == 1) {
            o->if_b = a;
            pos++;
        } else {
            return -1;
        }
    }
    return pos == 2 ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct opts o = { .seed = 1 };
    if (parse_args(argc, argv, &o) < 0) {
        fprintf(stderr, "usage: wanbridge IF_A IF_B [--seed N] [--delay-max-ms MS] [--loss-permille N]\n"
                        "                 [--delay-step AT_MS:DELAY_MS[,...]] [--delay-step-a-to-b AT_MS:DELAY_MS[,...]]\n"
                        "                 [--delay-step-b-to-a AT_MS:DELAY_MS[,...]] [--stats FILE]\n"
                        "  --delay-step: base delay DELAY_MS from AT_MS after the direction's first RTP frame on\n");
        return 2;
    }
    char err[256];
    int fa = open_iface(o.if_a, err, sizeof err);
    int fb = fa >= 0 ? open_iface(o.if_b, err, sizeof err) : -1;
    if (fa < 0 || fb < 0) {
        fprintf(stderr, "wanbridge: %s\n", err);
        return 1;
    }
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC);

    struct direction dirs[2] = {
        { .name = "a_to_b", .id = 0, .in_fd = fa, .out_fd = fb, .rng = o.seed },
        { .name = "b_to_a", .id = 1, .in_fd = fb, .out_fd = fa, .rng = o.seed ^ 0x5bd1e9955bd1e995ull },
    };
    uint8_t *big = malloc(BIG_FRAME);
    dirs[0].queue = calloc(QUEUE_LEN, sizeof(struct slot));
    dirs[1].queue = calloc(QUEUE_LEN, sizeof(struct slot));
    if (sfd < 0 || !big || !dirs[0].queue || !dirs[1].queue) {
        fprintf(stderr, "wanbridge: out of resources\n");
        return 1;
    }
    printf("ready\n");
    fflush(stdout);

    bool running = true;
    while (running) {
        uint64_t wait0 = flush_due(&dirs[0]), wait1 = flush_due(&dirs[1]);
        uint64_t wait = wait0 < wait1 ? wait0 : wait1;
        struct pollfd pfd[3] = { { .fd = fa, .events = POLLIN }, { .fd = fb, .events = POLLIN },
                                 { .fd = sfd, .events = POLLIN } };
        struct timespec ts = { .tv_sec = (time_t)(wait / 1000000000u), .tv_nsec = (long)(wait % 1000000000u) };
        int r = ppoll(pfd, 3, wait == UINT64_MAX ? NULL : &ts, NULL);
        if (r < 0 && errno != EINTR) {
            fprintf(stderr, "wanbridge: poll: %s\n", strerror(errno));
            break;
        }
        if (r <= 0)
            continue;
        if (pfd[0].revents & POLLIN)
            receive(&dirs[0], &o, big);
        if (pfd[1].revents & POLLIN)
            receive(&dirs[1], &o, big);
        if (pfd[2].revents & POLLIN)
            running = false;
    }
    /* Frames still queued at the end are delivered, not lost. */
    while (dirs[0].count || dirs[1].count) {
        uint64_t w0 = flush_due(&dirs[0]), w1 = flush_due(&dirs[1]);
        uint64_t w = w0 < w1 ? w0 : w1;
        if (w != UINT64_MAX) {
            struct timespec ts = { .tv_sec = (time_t)(w / 1000000000u), .tv_nsec = (long)(w % 1000000000u) };
            nanosleep(&ts, NULL);
        }
    }
    write_stats(&o, dirs);
    free(big);
    free(dirs[0].queue);
    free(dirs[1].queue);
    close(fa);
    close(fb);
    close(sfd);
    return 0;
}
