/* amplify: hostile UDP input for rtpprobed's media plane (tests/hostile/run.sh).
 *
 *   amplify --session IP:PORT [--stun IP:PORT] [--count N] [--rate PPS] [--seed S]
 *           [--ssrc-up U] [--ssrc-down D] [--pt P] [--announce CMD] [--listen-ms MS]
 *
 * Phase 1: three "junk" sockets send N datagrams each to the session port and
 * to the stun.listen port (random bytes, truncated and forged RTP, RTP with the
 * session's own SSRC but no or a wrong HMAC tag, RTCP, STUN Binding requests of
 * every size 0..100, STUN with bad fingerprints, lengths or types, RFC 3489
 * requests, 1400-byte junk, a few datagrams larger than the daemon's buffer).
 * Every datagram that comes back is matched to the request that caused it
 * through the STUN transaction id, which encodes (index, target, socket).
 *
 * Phase 2 (with --announce): a fourth socket is created and CMD runs through
 * /bin/sh with PEER=IP:PORT of that socket in its environment (the test's
 * PATCH peer); meanwhile and for --listen-ms afterwards the junk sockets keep
 * sending forged upstream, and the tool records what reaches each socket.
 *
 * The tool only measures; it prints one JSON object on stdout and exits 0
 * when it could run. run.sh judges the numbers. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>

#include "mext.h"
#include "netaddr.h"
#include "rtp.h"
#include "stun.h"
#include "timeutil.h"
#include "wire.h"

#include "udpsock.h"

#define NJUNK 3
#define RCVBUF_BYTES (8 * 1024 * 1024)
#define OVERSIZED_LEN 4000          /* above the daemon's 2048-byte receive buffer */
#define OVERSIZED_EVERY 1000        /* one datagram in this many */
#define PHASE2_PPS 100              /* forged upstream while the stream runs */
#define PEER_GAPS_MAX 4096          /* downstream gaps kept for the median */
#define DRAIN_MS 300                /* quiet time after the flood, for late answers */
#define MAX_DOWN 100000
#define STUN_ATTR_SOFTWARE 0x8022u
#define STUN_ATTR_FINGERPRINT 0x8028u
#define STUN_ATTR_PRIORITY 0x0024u  /* comprehension-required, unknown without ICE */
#define TXID_TAG 0x484f5354u        /* "HOST": marks our transaction ids */

enum target { T_SESSION, T_STUN, T_COUNT };
static const char *const target_names[T_COUNT] = { "session", "stun" };

enum kind {
    K_RANDOM, K_RTP_TRUNC, K_RTP_RANDOM_SSRC, K_RTP_NO_EXT, K_RTP_BAD_TAG, K_RTP_WRONG_PT, K_RTCP,
    K_STUN_SIZE, K_STUN_BAD_FP, K_STUN_BIG, K_STUN_NOT_REQUEST, K_STUN_BAD_LEN, K_STUN_CLASSIC,
    K_STUN_UNKNOWN_ATTR, K_JUNK_1400, K_OVERSIZED, K_COUNT
};
static const char *const kind_names[K_COUNT] = {
    "random", "rtp_truncated", "rtp_random_ssrc", "rtp_own_ssrc_no_ext", "rtp_own_ssrc_bad_tag",
    "rtp_own_ssrc_wrong_pt", "rtcp", "stun_size_0_100", "stun_bad_fingerprint", "stun_548_1400",
    "stun_not_request", "stun_bad_length", "stun_rfc3489", "stun_unknown_required_attr", "junk_1400",
    "oversized_4000",
};
/* The flood cycles through this mix; STUN sizes get three slots so that every
 * size 0..100 is sent many times. K_OVERSIZED is inserted separately. */
static const enum kind mix[] = {
    K_RANDOM, K_RTP_TRUNC, K_RTP_RANDOM_SSRC, K_RTP_NO_EXT, K_RTP_BAD_TAG, K_RTP_WRONG_PT, K_RTCP,
    K_STUN_SIZE, K_STUN_SIZE, K_STUN_SIZE, K_STUN_BAD_FP, K_STUN_BIG, K_STUN_NOT_REQUEST,
    K_STUN_BAD_LEN, K_STUN_CLASSIC, K_STUN_UNKNOWN_ATTR, K_JUNK_1400,
};
static const enum kind mix2[] = { K_RTP_BAD_TAG, K_RTP_NO_EXT, K_STUN_SIZE, K_RANDOM, K_RTP_TRUNC, K_RTP_WRONG_PT };

/* Whether a datagram may be answered: only well-formed Binding requests at
 * least as large as the answer must be; "maybe" ones may be (either is fine). */
enum expect { EXPECT_NO = 0, EXPECT_YES, EXPECT_MAYBE };

struct reqlog {
    uint32_t n, cap;
    uint16_t *len;
    uint8_t *expect;
    uint8_t *answered;
    uint8_t *sock;
};

struct tstats {
    uint64_t sent_pkts, sent_bytes, oversized, expect_yes, expect_maybe;
    uint64_t kind_sent[K_COUNT];
    uint64_t replies, reply_bytes;
    uint64_t answered_yes, answered_maybe;
    uint64_t reply_not_binding_success, reply_unmatched, reply_duplicate, reply_larger, reply_unexpected,
        reply_wrong_socket, reply_wrong_mapped, reply_rtp, reply_max_len;
    uint64_t send_errors;
};

struct opts {
    struct sockaddr_storage dst[T_COUNT];
    bool has_dst[T_COUNT];
    unsigned count, rate;
    uint64_t seed;
    bool has_ssrc_up, has_ssrc_down;
    uint32_t ssrc_up, ssrc_down;
    uint8_t pt;
    const char *announce;
    unsigned listen_ms;
};

struct tool {
    struct opts o;
    int junk[NJUNK];
    struct sockaddr_storage junk_addr[NJUNK];
    int peer;
    struct sockaddr_storage peer_addr;
    uint64_t rng;
    unsigned kind_counter[K_COUNT];
    struct reqlog log[T_COUNT];
    struct tstats st[T_COUNT];
    uint64_t own_drops;
    uint64_t from_unknown;
    /* phase 2 */
    bool phase2;
    uint64_t junk_rtp_phase2, junk_replies_phase2;
    uint64_t peer_rtp, peer_other, peer_wrong_ssrc, peer_wrong_pt, peer_seq_gaps, peer_bytes;
    uint64_t peer_first_ns, peer_last_ns, announce_ns;
    bool peer_have_seq;
    uint16_t peer_last_seq;
    uint64_t peer_down_sent_last;
    /* Inter-arrival gaps of consecutive downstream packets (seq + 1): their
     * median is the pacing, which scheduling delay on a loaded machine moves
     * symmetrically (a late packet's gap grows, the next one's shrinks). */
    double peer_gap_ms[PEER_GAPS_MAX];
    size_t peer_ngaps;
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* xorshift64*: reproducible junk from --seed. */
static uint64_t rnd(struct tool *t)
{
    t->rng ^= t->rng >> 12;
    t->rng ^= t->rng << 25;
    t->rng ^= t->rng >> 27;
    return t->rng * 2685821657736338717ull;
}

static void rnd_fill(struct tool *t, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(rnd(t) >> 32);
}

/* CRC-32 (ISO-HDLC) as RFC 8489 §14.7 uses, written out independently of src/stun.c. */
static uint32_t crc32_bitwise(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static void make_txid(uint8_t txid[RP_STUN_TXID_LEN], uint32_t idx, enum target tg, unsigned sock)
{
    rp_put32(txid, TXID_TAG);
    rp_put32(txid + 4, idx);
    txid[8] = (uint8_t)tg;
    txid[9] = (uint8_t)sock;
    txid[10] = 0x5a;
    txid[11] = 0xa5;
}

/* A STUN message of exactly `size` bytes (size >= 20, size-20 a multiple of 4):
 * header, a SOFTWARE attribute filling the room, optionally FINGERPRINT. */
static size_t stun_msg(uint8_t *buf, size_t size, uint16_t type, const uint8_t txid[RP_STUN_TXID_LEN],
                       bool fingerprint, bool corrupt_fp)
{
    memset(buf, 0, size);
    rp_put16(buf, type);
    rp_put16(buf + 2, (uint16_t)(size - RP_STUN_HDR_LEN));
    rp_put32(buf + 4, RP_STUN_MAGIC);
    memcpy(buf + 8, txid, RP_STUN_TXID_LEN);
    size_t off = RP_STUN_HDR_LEN;
    size_t room = size - off - (fingerprint ? 8 : 0);
    if (room >= 4) {
        rp_put16(buf + off, STUN_ATTR_SOFTWARE);
        rp_put16(buf + off + 2, (uint16_t)(room - 4));
        memset(buf + off + 4, 'x', room - 4);
        off += room;
    }
    if (fingerprint) {
        rp_put16(buf + off, STUN_ATTR_FINGERPRINT);
        rp_put16(buf + off + 2, 4);
        uint32_t fp = crc32_bitwise(buf, off) ^ 0x5354554eu;
        rp_put32(buf + off + 4, corrupt_fp ? fp ^ 0x00010000u : fp);
        off += 8;
    }
    return off;
}

/* The measurement-packet shape the probe sends (ID 1 element + ID 3 tag). */
static size_t rtp_pkt(struct tool *t, uint8_t *buf, size_t cap, uint32_t ssrc, uint8_t pt, bool ext, bool random_tag)
{
    struct rp_rtp_hdr h = { .pt = pt, .seq = (uint16_t)rnd(t), .ts = (uint32_t)rnd(t), .ssrc = ssrc };
    uint8_t up[RP_MEXT_UP_LEN], tag[RP_MEXT_AUTH_LEN];
    struct rp_mext_up u = { .seq = (uint32_t)rnd(t) & 0xffff, .t1_ns = rnd(t) };
    uint8_t payload[160];
    rnd_fill(t, payload, sizeof payload);
    rnd_fill(t, tag, sizeof tag);
    if (!random_tag)
        memset(tag, 0, sizeof tag);
    struct rp_rtp_elem elems[2] = {
        { RP_MEXT_ID_UP, up, rp_mext_up_encode(&u, up, sizeof up) },
        { RP_MEXT_ID_AUTH, tag, sizeof tag },
    };
    return rp_rtp_build_elems(buf, cap, &h, elems, ext ? 2 : 0, payload, sizeof payload);
}

static uint32_t own_ssrc(struct tool *t)
{
    return t->o.has_ssrc_up ? t->o.ssrc_up : (uint32_t)rnd(t);
}

/* Builds datagram `idx` of kind k for target tg from socket sock. */
static size_t build(struct tool *t, enum kind k, uint8_t *buf, size_t cap, uint32_t idx, enum target tg, unsigned sock,
                    enum expect *expect)
{
    uint8_t txid[RP_STUN_TXID_LEN];
    make_txid(txid, idx, tg, sock);
    unsigned c = t->kind_counter[k]++;
    size_t resp = rp_stun_response_len(t->o.dst[tg].ss_family);
    *expect = EXPECT_NO;
    switch (k) {
    case K_RANDOM: {
        size_t n = rnd(t) % 201;
        rnd_fill(t, buf, n);
        return n;
    }
    case K_RTP_TRUNC: {
        size_t n = rtp_pkt(t, buf, cap, own_ssrc(t), t->o.pt, true, true);
        return n ? rnd(t) % n : 0;
    }
    case K_RTP_RANDOM_SSRC:
        return rtp_pkt(t, buf, cap, (uint32_t)rnd(t), t->o.pt, true, true);
    case K_RTP_NO_EXT:
        return rtp_pkt(t, buf, cap, own_ssrc(t), t->o.pt, false, false);
    case K_RTP_BAD_TAG:
        return rtp_pkt(t, buf, cap, own_ssrc(t), t->o.pt, true, true);
    case K_RTP_WRONG_PT:
        return rtp_pkt(t, buf, cap, own_ssrc(t), t->o.pt == 0 ? 8 : 0, true, true);
    case K_RTCP: {
        /* A sender report header and junk: RTCP muxed on the RTP port. */
        size_t n = 28 + 4 * (rnd(t) % 8);
        rnd_fill(t, buf, n);
        buf[0] = 0x80;
        buf[1] = (uint8_t)(200 + rnd(t) % 5);
        rp_put16(buf + 2, (uint16_t)(n / 4 - 1));
        return n;
    }
    case K_STUN_SIZE: {
        size_t size = c % 101;
        if (size < RP_STUN_HDR_LEN) {
            uint8_t hdr[RP_STUN_HDR_LEN];
            stun_msg(hdr, RP_STUN_HDR_LEN, RP_STUN_BINDING_REQUEST, txid, false, false);
            memcpy(buf, hdr, size);
            return size;
        }
        if ((size - RP_STUN_HDR_LEN) % 4 != 0) {
            /* Length field not a multiple of 4: malformed. */
            stun_msg(buf, size - (size - RP_STUN_HDR_LEN) % 4, RP_STUN_BINDING_REQUEST, txid, false, false);
            memset(buf + size - (size - RP_STUN_HDR_LEN) % 4, 0, (size - RP_STUN_HDR_LEN) % 4);
            rp_put16(buf + 2, (uint16_t)(size - RP_STUN_HDR_LEN));
            return size;
        }
        bool fp = size >= 28 && (c / 101) % 2 == 0;
        size_t n = stun_msg(buf, size, RP_STUN_BINDING_REQUEST, txid, fp, false);
        *expect = n >= resp ? EXPECT_YES : EXPECT_NO;
        return n;
    }
    case K_STUN_BAD_FP:
        return stun_msg(buf, 40 + 4 * (c % 16), RP_STUN_BINDING_REQUEST, txid, true, true);
    case K_STUN_BIG: {
        size_t n = stun_msg(buf, c % 2 ? 1400 : 548, RP_STUN_BINDING_REQUEST, txid, true, false);
        *expect = EXPECT_YES;
        return n;
    }
    case K_STUN_NOT_REQUEST: {
        static const uint16_t types[] = { 0x0101, 0x0111, 0x0011, 0x0003, 0x0002, 0x0009, 0x3fff };
        return stun_msg(buf, 64, types[c % (sizeof types / sizeof types[0])], txid, true, false);
    }
    case K_STUN_BAD_LEN: {
        size_t n = stun_msg(buf, 64, RP_STUN_BINDING_REQUEST, txid, false, false);
        if (c % 2)
            rp_put16(buf + 2, 0xFFFC); /* message longer than the datagram */
        else
            rp_put16(buf + 22, 0x1000); /* SOFTWARE runs past the message */
        return n;
    }
    case K_STUN_CLASSIC: {
        /* RFC 3489: no magic cookie, 16-byte transaction id. */
        size_t n = stun_msg(buf, 64, RP_STUN_BINDING_REQUEST, txid, false, false);
        rnd_fill(t, buf + 4, 4);
        if (rp_get32(buf + 4) == RP_STUN_MAGIC)
            buf[4] ^= 1;
        return n;
    }
    case K_STUN_UNKNOWN_ATTR: {
        /* RFC 8489 wants a 420 here; answering with a success no larger than the
         * request is also harmless. Either way it must not be larger. */
        size_t n = stun_msg(buf, 64, RP_STUN_BINDING_REQUEST, txid, false, false);
        rp_put16(buf + 20, STUN_ATTR_PRIORITY);
        *expect = EXPECT_MAYBE;
        return n;
    }
    case K_JUNK_1400:
        rnd_fill(t, buf, 1400);
        return 1400;
    case K_OVERSIZED:
        rnd_fill(t, buf, OVERSIZED_LEN);
        buf[0] = 0x80;
        return OVERSIZED_LEN;
    case K_COUNT:
        break;
    }
    return 0;
}

/* A loopback socket of the family: our own queue must not drop answers,
 * that would hide amplification. */
static int udp_socket(struct sockaddr_storage *local, int family)
{
    return udpsock_open(family == AF_INET6 ? "::1" : "127.0.0.1", RCVBUF_BYTES, true, local);
}

static int reqlog_init(struct reqlog *l, uint32_t cap)
{
    l->cap = cap;
    l->len = calloc(cap, sizeof *l->len);
    l->expect = calloc(cap, 1);
    l->answered = calloc(cap, 1);
    l->sock = calloc(cap, 1);
    return l->len && l->expect && l->answered && l->sock ? 0 : -1;
}

static void send_one(struct tool *t, enum target tg, enum kind k, unsigned sock)
{
    struct reqlog *l = &t->log[tg];
    struct tstats *s = &t->st[tg];
    if (l->n >= l->cap)
        return;
    uint32_t idx = l->n++;
    static uint8_t buf[OVERSIZED_LEN + 64];
    enum expect e;
    size_t n = build(t, k, buf, sizeof buf, idx, tg, sock, &e);
    l->len[idx] = (uint16_t)n;
    l->expect[idx] = (uint8_t)e;
    l->sock[idx] = (uint8_t)sock;
    const struct sockaddr *dst = (const struct sockaddr *)&t->o.dst[tg];
    ssize_t w;
    do
        w = sendto(t->junk[sock], buf, n, 0, dst, rp_addr_len(dst));
    while (w < 0 && (errno == EAGAIN || errno == ENOBUFS || errno == EINTR));
    if (w < 0) {
        s->send_errors++;
        return;
    }
    s->sent_pkts++;
    s->sent_bytes += n;
    s->kind_sent[k]++;
    if (k == K_OVERSIZED)
        s->oversized++;
    s->expect_yes += e == EXPECT_YES;
    s->expect_maybe += e == EXPECT_MAYBE;
}

static int target_of(const struct tool *t, const struct sockaddr *from)
{
    for (int tg = 0; tg < T_COUNT; tg++)
        if (t->o.has_dst[tg] && rp_addr_equal(from, (const struct sockaddr *)&t->o.dst[tg]))
            return tg;
    return -1;
}

/* An answer on junk socket `sock`: must be a Binding success to one of our
 * requests from that socket, no larger than it, carrying our own address. */
static void on_junk_reply(struct tool *t, unsigned sock, const uint8_t *buf, size_t n, const struct sockaddr *from)
{
    int tg = target_of(t, from);
    if (tg < 0) {
        t->from_unknown++;
        return;
    }
    struct tstats *s = &t->st[tg];
    struct reqlog *l = &t->log[tg];
    s->replies++;
    s->reply_bytes += n;
    if (n > s->reply_max_len)
        s->reply_max_len = n;
    if (t->phase2)
        t->junk_replies_phase2++;
    struct rp_stun_msg m;
    if (rp_stun_parse(buf, n, &m) != RP_STUN_OK || m.type != RP_STUN_BINDING_SUCCESS) {
        struct rp_rtp_pkt p;
        if (rp_rtp_parse(buf, n, &p) == RP_RTP_OK) {
            s->reply_rtp++;
            if (t->phase2)
                t->junk_rtp_phase2++;
        } else {
            s->reply_not_binding_success++;
        }
        return;
    }
    uint32_t idx = rp_get32(m.txid + 4);
    if (rp_get32(m.txid) != TXID_TAG || idx >= l->n || m.txid[8] != tg) {
        s->reply_unmatched++;
        return;
    }
    if (m.txid[9] != sock || l->sock[idx] != sock)
        s->reply_wrong_socket++;
    if (l->answered[idx]++)
        s->reply_duplicate++;
    if (n > l->len[idx])
        s->reply_larger++;
    if (l->expect[idx] == EXPECT_NO)
        s->reply_unexpected++;
    else if (l->expect[idx] == EXPECT_YES && l->answered[idx] == 1)
        s->answered_yes++;
    else if (l->answered[idx] == 1)
        s->answered_maybe++;
    if (!m.has_mapped || !rp_addr_equal((const struct sockaddr *)&m.mapped,
                                        (const struct sockaddr *)&t->junk_addr[sock]))
        s->reply_wrong_mapped++;
}

static void on_peer_packet(struct tool *t, const uint8_t *buf, size_t n, const struct sockaddr *from, uint64_t rx_ns)
{
    struct rp_rtp_pkt p;
    if (target_of(t, from) != T_SESSION || rp_rtp_parse(buf, n, &p) != RP_RTP_OK) {
        t->peer_other++;
        return;
    }
    t->peer_rtp++;
    t->peer_bytes += n;
    if (t->o.has_ssrc_down && p.hdr.ssrc != t->o.ssrc_down)
        t->peer_wrong_ssrc++;
    if (p.hdr.pt != t->o.pt)
        t->peer_wrong_pt++;
    if (t->peer_have_seq && p.hdr.seq != (uint16_t)(t->peer_last_seq + 1))
        t->peer_seq_gaps++;
    else if (t->peer_have_seq && t->peer_ngaps < PEER_GAPS_MAX)
        t->peer_gap_ms[t->peer_ngaps++] = (double)(rx_ns - t->peer_last_ns) / 1e6;
    t->peer_have_seq = true;
    t->peer_last_seq = p.hdr.seq;
    if (!t->peer_first_ns)
        t->peer_first_ns = rx_ns;
    t->peer_last_ns = rx_ns;
    const uint8_t *e;
    size_t elen;
    struct rp_mext_down d;
    if (rp_rtp_ext_find(&p, RP_MEXT_ID_DOWN, &e, &elen) == 1 && rp_mext_down_decode(e, elen, &d) == 0)
        t->peer_down_sent_last = d.down_sent;
}

/* Reads everything queued on every socket. */
static void drain(struct tool *t)
{
    uint8_t buf[65536];
    int fds[NJUNK + 1];
    unsigned nfds = 0;
    for (unsigned i = 0; i < NJUNK; i++)
        fds[nfds++] = t->junk[i];
    if (t->peer >= 0)
        fds[nfds++] = t->peer;
    for (unsigned i = 0; i < nfds; i++) {
        for (;;) {
            struct sockaddr_storage from;
            struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf };
            union {
                char b[CMSG_SPACE(sizeof(struct timespec)) + CMSG_SPACE(sizeof(uint32_t))];
                struct cmsghdr align;
            } ctl;
            struct msghdr msg = { .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov,
                                  .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof ctl.b };
            ssize_t n = recvmsg(fds[i], &msg, 0);
            if (n < 0)
                break;
            uint64_t rx_ns = 0;
            for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
                if (c->cmsg_level != SOL_SOCKET)
                    continue;
                if (c->cmsg_type == SO_RXQ_OVFL) {
                    uint32_t d;
                    memcpy(&d, CMSG_DATA(c), sizeof d);
                    if (d > t->own_drops)
                        t->own_drops = d;
                } else if (c->cmsg_type == SCM_TIMESTAMPNS) {
                    struct timespec ts;
                    memcpy(&ts, CMSG_DATA(c), sizeof ts);
                    rx_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
                }
            }
            if (rx_ns == 0)
                rx_ns = rp_realtime_ns();
            if (i < NJUNK)
                on_junk_reply(t, i, buf, (size_t)n, (const struct sockaddr *)&from);
            else
                on_peer_packet(t, buf, (size_t)n, (const struct sockaddr *)&from, rx_ns);
        }
    }
}

static void sleep_until(uint64_t deadline_ns, struct tool *t)
{
    for (;;) {
        drain(t);
        uint64_t now = rp_monotonic_ns();
        if (now >= deadline_ns)
            return;
        struct pollfd p[NJUNK + 1];
        nfds_t n = 0;
        for (unsigned i = 0; i < NJUNK; i++)
            p[n++] = (struct pollfd){ .fd = t->junk[i], .events = POLLIN };
        if (t->peer >= 0)
            p[n++] = (struct pollfd){ .fd = t->peer, .events = POLLIN };
        uint64_t wait_ms = (deadline_ns - now + 999999) / 1000000;
        (void)poll(p, n, (int)(wait_ms > 1000 ? 1000 : wait_ms));
    }
}

static void flood(struct tool *t)
{
    uint64_t start = rp_monotonic_ns();
    unsigned ntargets = t->o.has_dst[T_STUN] ? 2 : 1;
    uint64_t total = (uint64_t)t->o.count * ntargets, sent = 0;
    for (unsigned i = 0; i < t->o.count; i++) {
        enum kind k = (i % OVERSIZED_EVERY == OVERSIZED_EVERY - 1) ? K_OVERSIZED : mix[i % (sizeof mix / sizeof mix[0])];
        for (int tg = 0; tg < T_COUNT; tg++) {
            if (!t->o.has_dst[tg])
                continue;
            send_one(t, (enum target)tg, k, i % NJUNK);
            sent++;
        }
        /* Keep the schedule in bursts of 16 and read answers between them. */
        if (sent % 16 == 0 || sent == total)
            sleep_until(start + sent * 1000000000ull / t->o.rate, t);
    }
    sleep_until(rp_monotonic_ns() + DRAIN_MS * 1000000ull, t);
}

static pid_t run_announce(struct tool *t)
{
    char peer[RP_ADDRSTRLEN];
    rp_addr_format((const struct sockaddr *)&t->peer_addr, peer, sizeof peer);
    pid_t pid = fork();
    if (pid == 0) {
        setenv("PEER", peer, 1);
        /* The JSON result goes to our stdout: keep the command's output off it. */
        (void)dup2(STDERR_FILENO, STDOUT_FILENO);
        execl("/bin/sh", "sh", "-c", t->o.announce, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static void phase_two(struct tool *t, int *announce_status)
{
    t->phase2 = true;
    t->announce_ns = rp_monotonic_ns();
    pid_t pid = run_announce(t);
    *announce_status = -1;
    uint64_t step = 1000000000ull / PHASE2_PPS;
    uint64_t next = rp_monotonic_ns();
    uint64_t end = UINT64_MAX;
    unsigned i = 0;
    uint64_t hook_deadline = t->announce_ns + 30000000000ull;
    while (rp_monotonic_ns() < end) {
        if (pid > 0 && rp_monotonic_ns() > hook_deadline) {
            kill(pid, SIGKILL);
            (void)waitpid(pid, NULL, 0);
            pid = 0;
            end = rp_monotonic_ns();
        }
        if (pid > 0) {
            int st;
            if (waitpid(pid, &st, WNOHANG) == pid) {
                *announce_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
                pid = 0;
                end = rp_monotonic_ns() + (uint64_t)t->o.listen_ms * 1000000ull;
            }
        }
        send_one(t, T_SESSION, mix2[i % (sizeof mix2 / sizeof mix2[0])], i % NJUNK);
        i++;
        next += step;
        sleep_until(next, t);
        if (pid < 0)
            break;
    }
    sleep_until(rp_monotonic_ns() + DRAIN_MS * 1000000ull, t);
}

static json_t *tstats_json(const struct tool *t, enum target tg)
{
    const struct tstats *s = &t->st[tg];
    json_t *kinds = json_object();
    for (int k = 0; k < K_COUNT; k++)
        json_object_set_new(kinds, kind_names[k], json_integer((json_int_t)s->kind_sent[k]));
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
                     "sent_packets", (json_int_t)s->sent_pkts, "sent_bytes", (json_int_t)s->sent_bytes,
                     "oversized", (json_int_t)s->oversized, "expect_answer", (json_int_t)s->expect_yes,
                     "maybe_answer", (json_int_t)s->expect_maybe, "reply_packets", (json_int_t)s->replies,
                     "reply_bytes", (json_int_t)s->reply_bytes, "reply_max_len", (json_int_t)s->reply_max_len,
                     "answered_expected", (json_int_t)s->answered_yes, "answered_maybe", (json_int_t)s->answered_maybe,
                     "reply_not_binding_success", (json_int_t)s->reply_not_binding_success,
                     "reply_rtp", (json_int_t)s->reply_rtp, "reply_unmatched", (json_int_t)s->reply_unmatched,
                     "reply_duplicate", (json_int_t)s->reply_duplicate, "reply_larger_than_request",
                     (json_int_t)s->reply_larger, "reply_unexpected", (json_int_t)s->reply_unexpected,
                     "reply_wrong_socket", (json_int_t)s->reply_wrong_socket, "reply_wrong_mapped",
                     (json_int_t)s->reply_wrong_mapped, "kinds", kinds);
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

__attribute__((noreturn)) static void usage(void)
{
    fprintf(stderr, "usage: amplify --session IP:PORT [--stun IP:PORT] [--count N] [--rate PPS] [--seed S]\n"
                    "               [--ssrc-up U] [--ssrc-down D] [--pt P] [--announce CMD] [--listen-ms MS]\n");
    exit(2);
}

static void parse_args(int argc, char **argv, struct opts *o)
{
    memset(o, 0, sizeof *o);
    o->count = 20000;
    o->rate = 20000;
    o->seed = 1;
    o->listen_ms = 3000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc)
            usage();
        const char *v = argv[++i];
        uint64_t n;
        socklen_t len;
        if (strcmp(a, "--session") == 0 || strcmp(a, "--stun") == 0) {
            enum target tg = a[2] == 's' && a[3] == 'e' ? T_SESSION : T_STUN;
            if (rp_addr_parse(v, 0, &o->dst[tg], &len) < 0)
                usage();
            o->has_dst[tg] = true;
        } else if (strcmp(a, "--count") == 0 && parse_u64(v, 10000000, &n) == 0) {
            o->count = (unsigned)n;
        } else if (strcmp(a, "--rate") == 0 && parse_u64(v, 10000000, &n) == 0 && n > 0) {
            o->rate = (unsigned)n;
        } else if (strcmp(a, "--seed") == 0 && parse_u64(v, UINT64_MAX, &n) == 0) {
            o->seed = n;
        } else if (strcmp(a, "--ssrc-up") == 0 && parse_u64(v, UINT32_MAX, &n) == 0) {
            o->ssrc_up = (uint32_t)n;
            o->has_ssrc_up = true;
        } else if (strcmp(a, "--ssrc-down") == 0 && parse_u64(v, UINT32_MAX, &n) == 0) {
            o->ssrc_down = (uint32_t)n;
            o->has_ssrc_down = true;
        } else if (strcmp(a, "--pt") == 0 && parse_u64(v, 127, &n) == 0) {
            o->pt = (uint8_t)n;
        } else if (strcmp(a, "--listen-ms") == 0 && parse_u64(v, 600000, &n) == 0) {
            o->listen_ms = (unsigned)n;
        } else if (strcmp(a, "--announce") == 0) {
            o->announce = v;
        } else {
            usage();
        }
    }
    if (!o->has_dst[T_SESSION])
        usage();
}

int main(int argc, char **argv)
{
    static struct tool t;
    parse_args(argc, argv, &t.o);
    signal(SIGPIPE, SIG_IGN);
    t.rng = t.o.seed ? t.o.seed : 1;
    t.peer = -1;
    int family = t.o.dst[T_SESSION].ss_family;
    for (unsigned i = 0; i < NJUNK; i++) {
        t.junk[i] = udp_socket(&t.junk_addr[i], family);
        if (t.junk[i] < 0) {
            perror("amplify: socket");
            return 1;
        }
    }
    uint32_t phase2_cap = (uint32_t)((uint64_t)(t.o.listen_ms + 30000) * PHASE2_PPS / 1000);
    for (int tg = 0; tg < T_COUNT; tg++) {
        if (reqlog_init(&t.log[tg], t.o.count + phase2_cap) < 0) {
            fprintf(stderr, "amplify: out of memory\n");
            return 1;
        }
    }
    uint64_t t0 = rp_monotonic_ns();
    flood(&t);
    uint64_t flood_ms = (rp_monotonic_ns() - t0) / 1000000;

    json_t *out = json_object();
    json_t *p1 = json_object();
    for (int tg = 0; tg < T_COUNT; tg++)
        if (t.o.has_dst[tg])
            json_object_set_new(p1, target_names[tg], tstats_json(&t, (enum target)tg));
    json_object_set_new(p1, "duration_ms", json_integer((json_int_t)flood_ms));
    json_object_set_new(p1, "from_unknown", json_integer((json_int_t)t.from_unknown));
    json_object_set_new(p1, "own_socket_drops", json_integer((json_int_t)t.own_drops));
    json_object_set_new(out, "phase1", p1);

    if (t.o.announce) {
        t.peer = udp_socket(&t.peer_addr, family);
        if (t.peer < 0) {
            perror("amplify: socket");
            return 1;
        }
        int status;
        phase_two(&t, &status);
        char peer[RP_ADDRSTRLEN];
        rp_addr_format((const struct sockaddr *)&t.peer_addr, peer, sizeof peer);
        double span_s = t.peer_last_ns > t.peer_first_ns ? (double)(t.peer_last_ns - t.peer_first_ns) / 1e9 : 0;
        double pps = span_s > 0 ? (double)(t.peer_rtp - 1) / span_s : 0;
        double gap_median = 0;
        if (t.peer_ngaps) {
            qsort(t.peer_gap_ms, t.peer_ngaps, sizeof t.peer_gap_ms[0], cmp_double);
            gap_median = t.peer_gap_ms[t.peer_ngaps / 2];
        }
        json_t *p2 = json_pack("{s:s, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:I, s:I, s:I}",
                               "peer", peer, "announce_status", status,
                               "peer_rtp", (json_int_t)t.peer_rtp, "peer_bytes", (json_int_t)t.peer_bytes,
                               "peer_other", (json_int_t)t.peer_other,
                               "peer_wrong_ssrc", (json_int_t)t.peer_wrong_ssrc,
                               "peer_wrong_pt", (json_int_t)t.peer_wrong_pt,
                               "peer_seq_gaps", (json_int_t)t.peer_seq_gaps,
                               "peer_down_sent_last", (json_int_t)t.peer_down_sent_last,
                               "peer_span_s", span_s, "peer_pps", pps,
                               "junk_rtp", (json_int_t)t.junk_rtp_phase2,
                               "junk_replies", (json_int_t)t.junk_replies_phase2,
                               "from_unknown", (json_int_t)t.from_unknown);
        json_object_set_new(p2, "peer_gap_ms_median", json_real(gap_median));
        json_object_set_new(out, "phase2", p2);
    }
    /* Totals over both phases, per target. */
    json_t *tot = json_object();
    for (int tg = 0; tg < T_COUNT; tg++)
        if (t.o.has_dst[tg])
            json_object_set_new(tot, target_names[tg], tstats_json(&t, (enum target)tg));
    json_object_set_new(tot, "own_socket_drops", json_integer((json_int_t)t.own_drops));
    json_object_set_new(out, "total", tot);
    json_dumpf(out, stdout, JSON_COMPACT);
    putchar('\n');
    json_decref(out);
    return 0;
}
