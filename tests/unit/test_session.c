/* Session logic with no sockets: what the session hands its send callback is
 * captured here. Latching, drop accounting, the clocked downstream with its
 * reflection, stop and expiry, and that input never produces output by itself
 * (no amplification). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "contract.h"
#include "mext.h"
#include "netaddr.h"
#include "ratelimit.h"
#include "rtp.h"
#include "session.h"
#include "srtp.h"
#include "stun.h"
#include "udp.h"

#define MS 1000000ull
#define T0 (1000ull * 1000 * MS) /* an arbitrary monotonic origin */
#define WALL 1700000000000000000ull /* CLOCK_REALTIME when the session was created (at T0) */
/* How far the wall clock has been stepped since: what a datagram's realtime
 * stamp says, and what neither T2 nor T3 may follow. */
#define STEP (3600ull * 1000 * MS)

/* What the session sent, in order. */
#define MAX_SENT 64
struct sent {
    uint8_t buf[RP_STREAM_MAX_PKT];
    size_t len;
    struct sockaddr_storage to;
};

struct fixture {
    struct sockaddr_storage probe_addr; /* the "probe": where downstream must go */
    struct rp_session *s;
    struct sent sent[MAX_SENT];         /* the first MAX_SENT datagrams */
    unsigned nsent, taken;
    unsigned total;                     /* every datagram handed to the callback */
    bool refuse;                        /* the host refuses sends (ICMP unreachable) */
};

static int capture(void *ctx, const uint8_t *pkt, size_t len, const struct sockaddr *to)
{
    struct fixture *f = ctx;
    assert_true(len <= sizeof f->sent[0].buf);
    assert_true(rp_addr_equal(to, (const struct sockaddr *)&f->probe_addr));
    f->total++;
    if (f->refuse)
        return -1;
    if (f->nsent == MAX_SENT)
        return 0;
    memcpy(f->sent[f->nsent].buf, pkt, len);
    f->sent[f->nsent].len = len;
    memcpy(&f->sent[f->nsent].to, to, rp_addr_len(to));
    f->nsent++;
    return 0;
}

static struct rp_session *new_session_for(struct fixture *f, bool srtp, unsigned duration_s)
{
    socklen_t len;
    assert_int_equal(rp_addr_parse("127.0.0.1:40000", 0, &f->probe_addr, &len), 0);
    struct rp_session_params p = { .codec = RP_CODEC_PCMU, .ptime_ms = 20, .bitrate_bps = 64000,
                                   .duration_s = duration_s, .jitter_buffer_ms = 40, .srtp = srtp,
                                   .suite = RP_SRTP_AES_CM_128_HMAC_SHA1_80 };
    char err[128];
    struct rp_session *s =
        rp_session_new(&p, 10000, (struct sockaddr *)&f->probe_addr, T0, WALL, capture, f, err, sizeof err);
    assert_non_null(s);
    return s;
}

static struct rp_session *new_session(struct fixture *f, bool srtp)
{
    return new_session_for(f, srtp, 10);
}

static void load_session_key(struct rp_session *s);

static int setup(void **state)
{
    static struct fixture f;
    memset(&f, 0, sizeof f);
    f.s = new_session(&f, false);
    load_session_key(f.s);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    rp_session_free(f->s);
    return 0;
}

/* The HMAC key the daemon hands the probe in its POST answer. */
static uint8_t session_key[RP_MEXT_AUTH_KEY_LEN];

static void load_session_key(struct rp_session *s)
{
    struct rp_contract_keys k;
    rp_session_keys(s, &k);
    assert_false(k.srtp);
    memcpy(session_key, k.auth_key, sizeof session_key);
}

static struct rp_contract_session snapshot(const struct rp_session *s)
{
    struct rp_contract_session doc;
    rp_session_snapshot(s, &doc);
    return doc;
}

static uint32_t ssrc_up(const struct rp_session *s)
{
    return snapshot(s).ssrc_up;
}

/* The next datagram the session sent to the probe, or NULL. */
static const struct sent *next_sent(struct fixture *f)
{
    if (f->taken == f->nsent)
        return NULL;
    const struct sent *d = &f->sent[f->taken++];
    assert_true(rp_addr_equal((const struct sockaddr *)&d->to, (const struct sockaddr *)&f->probe_addr));
    return d;
}

/* An upstream packet as the probe builds it, signed with the session's key. */
static size_t upstream_packet(uint8_t *buf, uint32_t ssrc, uint8_t pt, uint16_t seq, uint32_t counter, uint64_t t1)
{
    struct rp_mext_up up = { .seq = counter, .t1_ns = t1 };
    uint8_t elem[RP_MEXT_UP_LEN], tag[RP_MEXT_AUTH_LEN] = { 0 }, payload[160];
    memset(payload, 0xd5, sizeof payload);
    rp_mext_up_encode(&up, elem, sizeof elem);
    struct rp_rtp_hdr h = { .pt = pt, .seq = seq, .ts = seq * 160u, .ssrc = ssrc };
    struct rp_rtp_elem elems[] = { { RP_MEXT_ID_UP, elem, sizeof elem }, { RP_MEXT_ID_AUTH, tag, sizeof tag } };
    size_t n = rp_rtp_build_elems(buf, RP_RTP_MAX_PKT, &h, elems, 2, payload, sizeof payload);
    assert_int_equal(rp_mext_auth_sign(buf, n, session_key), 0);
    return n;
}

/* A datagram that arrived at rx_mono (CLOCK_MONOTONIC), handled at now. Its
 * realtime stamp comes from a wall clock stepped since the session began. */
static void deliver(struct fixture *f, const uint8_t *buf, size_t len, uint64_t rx_mono, uint64_t now)
{
    struct rp_udp_meta meta = { .rx_mono = rx_mono, .rx_ns = WALL + STEP + (rx_mono - T0), .read_mono = now };
    memcpy(&meta.from, &f->probe_addr, sizeof f->probe_addr);
    meta.fromlen = rp_addr_len((struct sockaddr *)&f->probe_addr);
    rp_session_on_datagram(f->s, buf, len, &meta, now);
}

/* The next datagram, which must be there. */
static const struct sent *must_send(struct fixture *f)
{
    const struct sent *d = next_sent(f);
    if (!d) {
        fail_msg("the session sent nothing");
        abort();
    }
    return d;
}

static unsigned pending_at_probe(struct fixture *f)
{
    unsigned n = 0;
    while (next_sent(f))
        n++;
    return n;
}

/* The session's document as the control API sends it. */
static json_t *session_json(const struct rp_session *s)
{
    struct rp_contract_session doc = snapshot(s);
    json_t *j = rp_contract_session_encode(&doc);
    assert_non_null(j);
    return j;
}

static json_int_t up_field(struct rp_session *s, const char *key)
{
    json_t *j = session_json(s);
    json_int_t v = json_integer_value(json_object_get(json_object_get(j, "upstream"), key));
    json_decref(j);
    return v;
}

static json_int_t dropped(struct rp_session *s, const char *reason)
{
    json_t *j = session_json(s);
    json_int_t v = json_integer_value(json_object_get(json_object_get(json_object_get(j, "upstream"), "dropped"), reason));
    json_decref(j);
    return v;
}

/* Upstream per-second figures only for a session that asked ("series": true):
 * the document then has upstream.per_second, binned by the probe's packet index. */
static void test_series_only_when_asked_and_in_the_document(void **state)
{
    struct fixture *f = *state; /* a plain session: no series */
    json_t *j = session_json(f->s);
    assert_null(json_object_get(json_object_get(j, "upstream"), "per_second"));
    json_decref(j);

    struct fixture g;
    memset(&g, 0, sizeof g);
    socklen_t len;
    assert_int_equal(rp_addr_parse("127.0.0.1:40000", 0, &g.probe_addr, &len), 0);
    struct rp_session_params p = { .codec = RP_CODEC_PCMU, .ptime_ms = 20, .bitrate_bps = 64000, .duration_s = 3,
                                   .jitter_buffer_ms = 40, .series = true };
    char err[128];
    g.s = rp_session_new(&p, 10000, (struct sockaddr *)&g.probe_addr, T0, WALL, capture, &g, err, sizeof err);
    assert_non_null(g.s);
    load_session_key(g.s);
    uint8_t buf[RP_RTP_MAX_PKT];
    /* Packets 0..79 but 60: second 0 whole, second 1 one short. */
    for (uint32_t i = 0; i < 80; i++) {
        if (i == 60)
            continue;
        size_t n = upstream_packet(buf, ssrc_up(g.s), 0, (uint16_t)(900 + i), i, 0);
        deliver(&g, buf, n, T0 + i * 20 * MS, T0 + i * 20 * MS);
    }
    rp_session_stop(g.s, 100);
    j = session_json(g.s);
    json_t *a = json_object_get(json_object_get(j, "upstream"), "per_second");
    assert_int_equal(json_array_size(a), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(a, 0), "packets")), 50);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(a, 1), "packets")), 29);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(a, 1), "lost")), 21); /* 60, and 80..99 */
    json_decref(j);
    rp_session_free(g.s);
    load_session_key(f->s);
}

static void test_input_alone_never_sends_anything(void **state)
{
    struct fixture *f = *state;
    uint8_t pkt[RP_RTP_MAX_PKT];
    for (uint16_t i = 0; i < 20; i++) {
        size_t n = upstream_packet(pkt, ssrc_up(f->s), 0, i, i, 1);
        deliver(f, pkt, n, T0, T0);
    }
    uint8_t junk[64] = { 0x80 };
    deliver(f, junk, sizeof junk, T0, T0);
    assert_int_equal(pending_at_probe(f), 0);
    assert_int_equal(up_field(f->s, "received"), 20);
}

/* The id is the API's handle and goes into request lines: 32 lowercase hex
 * digits (contract.h), a new one per session. */
static void test_session_id_is_lowercase_hex_and_new_each_time(void **state)
{
    struct fixture *f = *state;
    struct fixture g;
    memset(&g, 0, sizeof g);
    struct rp_session *other = new_session(&g, false);
    assert_int_equal(strlen(rp_session_id(f->s)), RP_SESSION_ID_LEN);
    assert_true(rp_contract_id_valid(rp_session_id(f->s)));
    assert_true(rp_contract_id_valid(rp_session_id(other)));
    assert_string_not_equal(rp_session_id(f->s), rp_session_id(other));
    rp_session_free(other);
}

static void test_foreign_and_malformed_packets_are_counted_and_dropped(void **state)
{
    struct fixture *f = *state;
    uint8_t pkt[RP_RTP_MAX_PKT];
    size_t n = upstream_packet(pkt, ssrc_up(f->s) ^ 1, 0, 1, 0, 1);
    deliver(f, pkt, n, T0, T0);
    n = upstream_packet(pkt, ssrc_up(f->s), 8, 1, 0, 1);
    deliver(f, pkt, n, T0, T0);
    deliver(f, pkt, 5, T0, T0);
    struct rp_rtp_hdr h = { .pt = 0, .seq = 1, .ssrc = ssrc_up(f->s) };
    uint8_t payload[160] = { 0 };
    n = rp_rtp_build(pkt, sizeof pkt, &h, 0, NULL, 0, payload, sizeof payload);
    deliver(f, pkt, n, T0, T0);
    assert_int_equal(dropped(f->s, "wrong_ssrc"), 1);
    assert_int_equal(dropped(f->s, "wrong_pt"), 1);
    assert_int_equal(dropped(f->s, "bad_rtp"), 1);
    assert_int_equal(dropped(f->s, "bad_extension"), 1);
    assert_int_equal(up_field(f->s, "received"), 0);
    /* Nothing valid arrived: nothing latched, nothing scheduled. */
    assert_true(rp_session_next_due(f->s) == UINT64_MAX);
}

/* The measurement element of a downstream packet the session sent. */
static struct rp_mext_down down_elem(const struct sent *d, struct rp_rtp_pkt *p)
{
    const uint8_t *elem;
    size_t elen;
    struct rp_mext_down m;
    assert_int_equal(rp_rtp_parse(d->buf, d->len, p), RP_RTP_OK);
    assert_int_equal(rp_rtp_ext_find(p, RP_MEXT_ID_DOWN, &elem, &elen), 1);
    assert_int_equal(rp_mext_down_decode(elem, elen, &m), 0);
    return m;
}

static void test_downstream_goes_to_latched_source_with_reflection(void **state)
{
    struct fixture *f = *state;
    uint8_t pkt[RP_RTP_MAX_PKT];
    const uint64_t t1 = 1700000000123456789ull;
    size_t n = upstream_packet(pkt, ssrc_up(f->s), 0, 500, 0, t1);
    /* Arrived 4 ms after the session began, handled at 5 ms, sent at 7 ms;
     * the stream starts on the daemon's 2 ms phase grid, at 6 ms. */
    deliver(f, pkt, n, T0 + 4 * MS, T0 + 5 * MS);
    assert_true(rp_session_next_due(f->s) == T0 + 6 * MS);
    assert_int_equal(rp_session_send_due(f->s, T0 + 7 * MS), 1);

    struct rp_rtp_pkt p;
    struct rp_mext_down d = down_elem(must_send(f), &p);
    assert_int_equal(p.hdr.ssrc, snapshot(f->s).ssrc_down);
    assert_int_equal(p.hdr.pt, 0);
    assert_int_equal(p.payload_len, 160); /* 20 ms of G.711 */
    assert_true(d.flags & RP_MEXT_F_REFLECTION);
    assert_int_equal(d.refl_seq, 0);
    assert_true(d.t1_ns == t1);
    /* T2 and T3: the session's wall clock at creation plus the monotonic time
     * since, not the (stepped) realtime stamp of the datagram. */
    assert_true(d.t2_ns == WALL + 4 * MS);
    assert_true(d.t3_ns == WALL + 7 * MS);
    assert_int_equal(d.up_received, 1);
    assert_int_equal(d.down_sent, 1);
}

static void test_downstream_is_clocked_at_ptime(void **state)
{
    struct fixture *f = *state;
    rp_session_announce(f->s, (struct sockaddr *)&f->probe_addr, T0);
    assert_int_equal(rp_session_send_due(f->s, T0), 1);
    assert_int_equal(rp_session_send_due(f->s, T0 + 19 * MS), 0);
    /* Due at 20, 40, 60, 80 and 100 ms. */
    assert_int_equal(rp_session_send_due(f->s, T0 + 100 * MS), 5);
    assert_true(rp_session_next_due(f->s) == T0 + 120 * MS);
    /* T3 is when each really left: the first at creation, the five caught up at 100 ms. */
    struct rp_rtp_pkt p;
    assert_true(down_elem(must_send(f), &p).t3_ns == WALL);
    for (int i = 0; i < 5; i++)
        assert_true(down_elem(must_send(f), &p).t3_ns == WALL + 100 * MS);
    assert_int_equal(pending_at_probe(f), 0);
}

static void test_announce_alone_starts_downstream(void **state)
{
    struct fixture *f = *state;
    assert_true(rp_session_next_due(f->s) == UINT64_MAX);
    rp_session_announce(f->s, (struct sockaddr *)&f->probe_addr, T0);
    assert_int_equal(rp_session_send_due(f->s, T0), 1);
    struct rp_rtp_pkt p;
    assert_false(down_elem(must_send(f), &p).flags & RP_MEXT_F_REFLECTION);
}

static void test_stop_freezes_counters_and_counts_late_input(void **state)
{
    struct fixture *f = *state;
    uint8_t pkt[RP_RTP_MAX_PKT];
    for (uint16_t i = 0; i < 10; i++) {
        if (i == 4)
            continue; /* one lost */
        size_t n = upstream_packet(pkt, ssrc_up(f->s), 0, (uint16_t)(65530 + i), i, 1);
        deliver(f, pkt, n, T0 + i * 20 * MS, T0);
    }
    rp_session_stop(f->s, 12); /* the probe sent two more that never came */
    assert_int_equal(rp_session_send_due(f->s, T0 + 1000 * MS), 0);
    size_t n = upstream_packet(pkt, ssrc_up(f->s), 0, (uint16_t)(65530 + 10), 10, 1);
    deliver(f, pkt, n, T0, T0);
    assert_int_equal(up_field(f->s, "received"), 9);
    assert_int_equal(up_field(f->s, "lost"), 3);
    assert_int_equal(up_field(f->s, "sent_by_probe"), 12);
    assert_int_equal(dropped(f->s, "after_stop"), 1);
}

static void test_session_expires_after_its_duration(void **state)
{
    struct fixture *f = *state;
    assert_false(rp_session_expired(f->s, T0 + 10ull * 1000 * MS));
    assert_true(rp_session_expired(f->s, T0 + 71ull * 1000 * MS));
    /* Downstream stops by itself shortly after the duration, even without a stop. */
    rp_session_announce(f->s, (struct sockaddr *)&f->probe_addr, T0);
    rp_session_send_due(f->s, T0 + 30ull * 1000 * MS);
    assert_true(rp_session_next_due(f->s) == UINT64_MAX);
    pending_at_probe(f);
}

static bool up_bool(struct rp_session *s, const char *key)
{
    json_t *j = session_json(s);
    bool v = json_is_true(json_object_get(json_object_get(j, "upstream"), key));
    json_decref(j);
    return v;
}

static void test_stun_on_the_media_port_gets_one_answer_no_larger(void **state)
{
    struct fixture *f = *state;
    static const uint8_t txid[RP_STUN_TXID_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
    uint8_t req[128], bare[20] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42 };
    size_t n = rp_stun_build_request(req, sizeof req, txid, 64);
    deliver(f, req, n, T0, T0);
    const struct sent *d0 = must_send(f);
    const uint8_t *buf = d0->buf;
    ssize_t got = (ssize_t)d0->len;
    assert_true((size_t)got <= n);
    struct rp_stun_msg msg;
    assert_int_equal(rp_stun_parse(buf, (size_t)got, &msg), RP_STUN_OK);
    assert_true(rp_addr_equal((struct sockaddr *)&msg.mapped, (struct sockaddr *)&f->probe_addr));
    /* A bare request would get a larger answer: none. */
    deliver(f, bare, sizeof bare, T0, T0);
    assert_int_equal(pending_at_probe(f), 0);
    /* STUN neither latches nor starts the stream. */
    assert_true(rp_session_next_due(f->s) == UINT64_MAX);
}

/* Two sessions share the daemon's STUN limiter (20/s, burst 20): a flood
 * from one address spread over both ports (1000 requests/s for 2 s) gets no
 * more answers in all than one port would, nothing is sent for a refused one,
 * and each session counts its refusals as the verdict "rate". */
static void test_stun_flood_spread_over_session_ports_shares_one_budget(void **state)
{
    (void)state;
    static struct fixture f1, f2;
    memset(&f1, 0, sizeof f1);
    memset(&f2, 0, sizeof f2);
    struct rp_ratelimit *rl = rp_ratelimit_new(256, 20, 20);
    assert_non_null(rl);
    f1.s = new_session(&f1, false);
    f2.s = new_session(&f2, false);
    rp_session_set_stun_rate(f1.s, rl);
    rp_session_set_stun_rate(f2.s, rl);
    static const uint8_t txid[RP_STUN_TXID_LEN] = { 7 };
    uint8_t req[128];
    size_t n = rp_stun_build_request(req, sizeof req, txid, 64);
    for (uint64_t ms = 0; ms < 2000; ms++) {
        struct fixture *f = ms % 2 ? &f2 : &f1;
        deliver(f, req, n, T0 + ms * MS, T0 + ms * MS);
        assert_true((uint64_t)(f1.total + f2.total) * 1000 <= 20 * 1000 + 20 * ms);
    }
    unsigned answered = f1.total + f2.total;
    assert_in_range(answered, 20 + 40 - 2, 20 + 40);
    struct rp_contract_session d1 = snapshot(f1.s), d2 = snapshot(f2.s);
    assert_int_equal(d1.up.stun[RP_STUN_ANSWERED], f1.total);
    assert_int_equal(d2.up.stun[RP_STUN_ANSWERED], f2.total);
    assert_int_equal(d1.up.stun[RP_STUN_DROP_RATE] + d2.up.stun[RP_STUN_DROP_RATE], 2000 - answered);
    assert_int_equal(d1.up.stun[RP_STUN_ANSWERED] + d1.up.stun[RP_STUN_DROP_RATE], 1000);
    struct rp_session_counters c = { 0 };
    rp_session_add_counters(f1.s, &c);
    rp_session_add_counters(f2.s, &c);
    assert_int_equal(c.stun[RP_STUN_DROP_RATE], 2000 - answered);
    json_t *j = session_json(f1.s);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(j, "upstream"), "stun"), "rate")),
                     d1.up.stun[RP_STUN_DROP_RATE]);
    json_decref(j);
    /* STUN, answered or refused, starts no stream */
    assert_true(rp_session_next_due(f1.s) == UINT64_MAX);
    rp_session_free(f1.s);
    rp_session_free(f2.s);
    rp_ratelimit_free(rl);
}

/* reply_only is also false when nothing was recorded at all: the STUN request
 * must have been answered, downstream sent and the RTP packet accepted, or
 * the final assertion proves nothing. */
static void test_upstream_before_downstream_is_not_reply_only(void **state)
{
    struct fixture *f = *state;
    static const uint8_t txid[RP_STUN_TXID_LEN] = { 0 };
    uint8_t req[128], pkt[RP_RTP_MAX_PKT];
    size_t n = rp_stun_build_request(req, sizeof req, txid, 64);
    deliver(f, req, n, T0, T0);
    const struct sent *d = must_send(f);
    struct rp_stun_msg msg;
    assert_int_equal(rp_stun_parse(d->buf, d->len, &msg), RP_STUN_OK);
    assert_int_equal(msg.type, RP_STUN_BINDING_SUCCESS);
    assert_memory_equal(msg.txid, txid, sizeof txid);
    assert_true(rp_addr_equal((struct sockaddr *)&msg.mapped, (struct sockaddr *)&f->probe_addr));
    assert_int_equal(snapshot(f->s).up.stun[RP_STUN_ANSWERED], 1);
    rp_session_announce(f->s, (struct sockaddr *)&f->probe_addr, T0 + 10 * MS);
    rp_session_send_due(f->s, T0 + 10 * MS);
    assert_int_equal(snapshot(f->s).down.sent, 1);
    n = upstream_packet(pkt, ssrc_up(f->s), 0, 1, 0, 1);
    deliver(f, pkt, n, T0 + 20 * MS, T0 + 20 * MS);
    assert_int_equal(up_field(f->s, "accepted"), 1);
    assert_int_equal(up_field(f->s, "received"), 1);
    assert_false(up_bool(f->s, "reply_only"));
    pending_at_probe(f);
}

static void test_upstream_only_after_downstream_is_reply_only(void **state)
{
    struct fixture *f = *state;
    uint8_t pkt[RP_RTP_MAX_PKT];
    rp_session_announce(f->s, (struct sockaddr *)&f->probe_addr, T0);
    rp_session_send_due(f->s, T0);
    size_t n = upstream_packet(pkt, ssrc_up(f->s), 0, 1, 0, 1);
    deliver(f, pkt, n, T0 + 20 * MS, T0 + 20 * MS);
    assert_true(up_bool(f->s, "reply_only"));
    assert_int_equal(up_field(f->s, "received"), 1);
    pending_at_probe(f);
}

static void test_forged_or_unsigned_packets_are_dropped_as_auth_failures(void **state)
{
    struct fixture *f = *state;
    uint8_t pkt[RP_RTP_MAX_PKT];
    size_t n = upstream_packet(pkt, ssrc_up(f->s), 0, 7, 0, 1);
    pkt[n - 1] ^= 0x01; /* payload changed after signing */
    deliver(f, pkt, n, T0, T0);
    uint8_t other[RP_MEXT_AUTH_KEY_LEN] = { 0x42 };
    memcpy(session_key, other, sizeof other); /* an attacker's key */
    n = upstream_packet(pkt, ssrc_up(f->s), 0, 8, 1, 1);
    deliver(f, pkt, n, T0, T0);
    assert_int_equal(dropped(f->s, "auth_failure"), 2);
    assert_int_equal(up_field(f->s, "auth_failures"), 2);
    assert_int_equal(up_field(f->s, "received"), 0);
    /* Nothing latched: a forger cannot redirect the stream. */
    assert_true(rp_session_next_due(f->s) == UINT64_MAX);
}

static void test_replayed_packet_from_elsewhere_does_not_move_the_latch(void **state)
{
    struct fixture *f = *state;
    uint8_t pkt[RP_RTP_MAX_PKT];
    size_t n = upstream_packet(pkt, ssrc_up(f->s), 0, 10, 0, 1);
    deliver(f, pkt, n, T0, T0);
    /* The same authentic packet replayed by someone else. */
    struct rp_udp_meta meta = { .rx_mono = T0, .rx_ns = WALL + STEP, .read_mono = T0 };
    socklen_t len;
    assert_int_equal(rp_addr_parse("127.0.0.1:9", 0, &meta.from, &len), 0);
    meta.fromlen = len;
    rp_session_on_datagram(f->s, pkt, n, &meta, T0);
    json_t *j = session_json(f->s);
    char want[RP_ADDRSTRLEN];
    rp_addr_format((struct sockaddr *)&f->probe_addr, want, sizeof want);
    assert_string_equal(json_string_value(json_object_get(j, "latched")), want);
    assert_int_equal(json_integer_value(json_object_get(j, "relatched")), 0);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "upstream"), "duplicates")), 1);
    json_decref(j);
    /* A new packet from a new address (a NAT rebinding) does move it. */
    n = upstream_packet(pkt, ssrc_up(f->s), 0, 11, 1, 1);
    rp_session_on_datagram(f->s, pkt, n, &meta, T0);
    j = session_json(f->s);
    assert_string_equal(json_string_value(json_object_get(j, "latched")), "127.0.0.1:9");
    json_decref(j);
}

static json_int_t malformed_rtp(struct rp_session *s, const char *reason)
{
    json_t *j = session_json(s);
    json_t *m = json_object_get(json_object_get(json_object_get(j, "upstream"), "malformed"), "rtp");
    json_int_t v = json_integer_value(json_object_get(m, reason));
    json_decref(j);
    return v;
}

/* SRTP: datagrams libsrtp cannot even read are counted per parser reason from
 * their clear header; the padding count is encrypted, so not judged there. */
static void test_unreadable_srtp_is_counted_per_reason(void **state)
{
    (void)state;
    assert_int_equal(rp_srtp_global_init(), 0);
    static struct fixture f;
    memset(&f, 0, sizeof f);
    struct rp_session *s = new_session(&f, true);
    f.s = s;

    uint8_t pkt[64] = { 0x80 };
    deliver(&f, pkt, 5, T0, T0);                   /* shorter than the fixed header */
    pkt[0] = 0x40;
    deliver(&f, pkt, 40, T0, T0);                  /* version 1 */
    pkt[0] = 0x8F;
    deliver(&f, pkt, 20, T0, T0);                  /* 15 CSRCs do not fit in 20 bytes */
    memset(pkt, 0, sizeof pkt);
    pkt[0] = 0xA0;                                 /* P bit, well-formed otherwise */
    pkt[11] = 1;                                   /* SSRC 1: not the session's */
    deliver(&f, pkt, 16, T0, T0);                  /* under header + tag (22): refused before authentication */
    assert_int_equal(malformed_rtp(s, "too_short"), 1);
    assert_int_equal(malformed_rtp(s, "bad_version"), 1);
    assert_int_equal(malformed_rtp(s, "bad_csrc"), 1);
    assert_int_equal(malformed_rtp(s, "bad_padding"), 0);
    assert_int_equal(dropped(s, "bad_rtp"), 3);
    assert_int_equal(dropped(s, "wrong_ssrc"), 1);
    /* Long enough: libsrtp's own header check refuses a CSRC list or an
     * extension running past the end, with the session's SSRC. */
    uint32_t ssrc = ssrc_up(s);
    pkt[8] = (uint8_t)(ssrc >> 24);
    pkt[9] = (uint8_t)(ssrc >> 16);
    pkt[10] = (uint8_t)(ssrc >> 8);
    pkt[11] = (uint8_t)ssrc;
    pkt[0] = 0x8F;                                 /* 15 CSRCs: 72 bytes of header in 40 */
    deliver(&f, pkt, 40, T0, T0);
    pkt[0] = 0x90;                                 /* X bit: extension of 255 words in 40 bytes */
    pkt[12] = 0xBE;
    pkt[13] = 0xDE;
    pkt[14] = 0x00;
    pkt[15] = 0xFF;
    deliver(&f, pkt, 40, T0, T0);
    assert_int_equal(malformed_rtp(s, "bad_csrc"), 2);
    assert_int_equal(malformed_rtp(s, "bad_extension"), 1);
    assert_int_equal(dropped(s, "bad_rtp"), 5);
    /* Readable and long enough, any SSRC: authentication decides. */
    memset(pkt + 12, 0, 4);
    pkt[0] = 0x80;
    deliver(&f, pkt, 40, T0, T0);
    pkt[11] ^= 1;
    deliver(&f, pkt, 40, T0, T0);
    assert_int_equal(dropped(s, "auth_failure"), 2);
    assert_int_equal(dropped(s, "wrong_ssrc"), 1);
    assert_int_equal(up_field(s, "received"), 0);
    rp_session_free(s);
}

static void test_authentic_packet_from_another_ip_is_foreign_source(void **state)
{
    struct fixture *f = *state;
    uint8_t pkt[RP_RTP_MAX_PKT];
    size_t n = upstream_packet(pkt, ssrc_up(f->s), 0, 1, 0, 1);
    struct rp_udp_meta meta = { .rx_mono = T0, .rx_ns = WALL + STEP, .read_mono = T0 };
    socklen_t len;
    assert_int_equal(rp_addr_parse("127.0.0.2:40000", 0, &meta.from, &len), 0);
    meta.fromlen = len;
    rp_session_on_datagram(f->s, pkt, n, &meta, T0);
    assert_int_equal(dropped(f->s, "foreign_source"), 1);
    assert_int_equal(up_field(f->s, "received"), 0);
    /* Neither latched nor started: a token holder cannot aim the stream elsewhere. */
    assert_true(rp_session_next_due(f->s) == UINT64_MAX);
    assert_string_equal(snapshot(f->s).latched, "");
}

static void test_counter_far_behind_the_newest_is_a_replay(void **state)
{
    struct fixture *f = *state;
    uint8_t pkt[RP_RTP_MAX_PKT];
    size_t n = upstream_packet(pkt, ssrc_up(f->s), 0, 2000, 2000, 1);
    deliver(f, pkt, n, T0, T0);
    n = upstream_packet(pkt, ssrc_up(f->s), 0, 977, 977, 1); /* 1023 behind: late, not a replay */
    deliver(f, pkt, n, T0, T0);
    n = upstream_packet(pkt, ssrc_up(f->s), 0, 976, 976, 1); /* 1024 behind */
    deliver(f, pkt, n, T0, T0);
    assert_int_equal(dropped(f->s, "replay"), 1);
    assert_int_equal(up_field(f->s, "received"), 2);
}

static size_t priming_packet(uint8_t *buf, uint32_t ssrc)
{
    struct rp_mext_up up = { .flags = RP_MEXT_F_PRIME };
    uint8_t elem[RP_MEXT_UP_LEN], tag[RP_MEXT_AUTH_LEN] = { 0 }, payload[160] = { 0 };
    rp_mext_up_encode(&up, elem, sizeof elem);
    struct rp_rtp_hdr h = { .pt = 0, .seq = 9, .ssrc = ssrc };
    struct rp_rtp_elem elems[] = { { RP_MEXT_ID_UP, elem, sizeof elem }, { RP_MEXT_ID_AUTH, tag, sizeof tag } };
    size_t n = rp_rtp_build_elems(buf, RP_RTP_MAX_PKT, &h, elems, 2, payload, sizeof payload);
    assert_int_equal(rp_mext_auth_sign(buf, n, session_key), 0);
    return n;
}

static void test_priming_latches_and_starts_but_is_not_measured(void **state)
{
    struct fixture *f = *state;
    uint8_t pkt[RP_RTP_MAX_PKT];
    deliver(f, pkt, priming_packet(pkt, ssrc_up(f->s)), T0, T0);
    assert_int_equal(up_field(f->s, "primed"), 1);
    assert_int_equal(up_field(f->s, "received"), 0);
    assert_int_equal(up_field(f->s, "accepted"), 0);
    char want[RP_ADDRSTRLEN];
    rp_addr_format((struct sockaddr *)&f->probe_addr, want, sizeof want);
    assert_string_equal(snapshot(f->s).latched, want);
    assert_true(rp_session_next_due(f->s) == T0);
}

static void test_refused_sends_are_counted_and_the_clock_goes_on(void **state)
{
    struct fixture *f = *state;
    f->refuse = true;
    rp_session_announce(f->s, (struct sockaddr *)&f->probe_addr, T0);
    assert_int_equal(rp_session_send_due(f->s, T0 + 40 * MS), 3);
    json_t *j = session_json(f->s);
    json_t *down = json_object_get(j, "downstream");
    assert_int_equal(json_integer_value(json_object_get(down, "send_errors")), 3);
    assert_int_equal(json_integer_value(json_object_get(down, "sent")), 3);
    json_decref(j);
    assert_true(rp_session_next_due(f->s) == T0 + 60 * MS);
}

/* Steps the clock by ptime up to `until`, refreshing upstream when asked;
 * returns the datagrams sent. */
static unsigned run_clock(struct fixture *f, uint64_t until, bool upstream)
{
    uint8_t pkt[RP_RTP_MAX_PKT];
    unsigned before = f->total;
    for (uint64_t t = T0, i = 0; t <= until; t += 20 * MS, i++) {
        if (upstream) {
            size_t n = upstream_packet(pkt, ssrc_up(f->s), 0, (uint16_t)i, (uint32_t)i, 1);
            deliver(f, pkt, n, t, t);
        }
        rp_session_send_due(f->s, t);
    }
    return f->total - before;
}

static void test_stream_stops_five_seconds_after_upstream_goes_quiet(void **state)
{
    struct fixture *f = *state;
    rp_session_free(f->s);
    f->s = new_session_for(f, false, 60);
    load_session_key(f->s);
    uint8_t pkt[RP_RTP_MAX_PKT];
    size_t n = upstream_packet(pkt, ssrc_up(f->s), 0, 1, 0, 1);
    deliver(f, pkt, n, T0, T0);
    /* Packets at T0 .. T0 + 4.98 s: 250, then consent is gone. */
    assert_int_equal(run_clock(f, T0 + 10000 * MS, false), 250);
    assert_true(rp_session_next_due(f->s) == UINT64_MAX);
}

static void test_unanswered_stream_stops_after_thirty_seconds(void **state)
{
    struct fixture *f = *state;
    rp_session_free(f->s);
    f->s = new_session_for(f, false, 60);
    rp_session_announce(f->s, (struct sockaddr *)&f->probe_addr, T0);
    assert_int_equal(run_clock(f, T0 + 40000 * MS, false), 1500);
    assert_true(rp_session_next_due(f->s) == UINT64_MAX);
}

static void test_stream_never_exceeds_its_packet_budget(void **state)
{
    struct fixture *f = *state;
    /* 10 s session: duration + 5 s of slack = 750 packets, before its 20 s end. */
    rp_session_announce(f->s, (struct sockaddr *)&f->probe_addr, T0);
    assert_int_equal(run_clock(f, T0 + 25000 * MS, true), 750);
    assert_true(rp_session_next_due(f->s) == UINT64_MAX);
}

static json_int_t down_field(struct rp_session *s, const char *key)
{
    json_t *j = session_json(s);
    json_int_t v = json_integer_value(json_object_get(json_object_get(j, "downstream"), key));
    json_decref(j);
    return v;
}

/* The daemon stalled (descheduled, overloaded) for 10 periods: the slots it
 * missed are skipped and counted, and the next packet's seq and timestamp
 * jump past them, so the probe counts them lost; the in-band count has them. */
static void test_stall_beyond_catch_up_skips_slots_and_leaves_a_gap(void **state)
{
    struct fixture *f = *state;
    rp_session_announce(f->s, (struct sockaddr *)&f->probe_addr, T0);
    assert_int_equal(rp_session_send_due(f->s, T0), 1);
    /* Slot 1 was due at 20 ms; at 220 ms slots 1..10 are 10 periods overdue. */
    assert_int_equal(rp_session_send_due(f->s, T0 + 220 * MS), 1);
    assert_true(rp_session_next_due(f->s) == T0 + 240 * MS);
    assert_int_equal(rp_session_send_due(f->s, T0 + 240 * MS), 1);
    struct rp_rtp_pkt p0, p1, p2;
    struct rp_mext_down d0 = down_elem(must_send(f), &p0);
    struct rp_mext_down d1 = down_elem(must_send(f), &p1);
    struct rp_mext_down d2 = down_elem(must_send(f), &p2);
    assert_int_equal((uint16_t)(p1.hdr.seq - p0.hdr.seq), 11);
    assert_int_equal(p1.hdr.ts - p0.hdr.ts, 11 * 160);
    assert_int_equal((uint16_t)(p2.hdr.seq - p1.hdr.seq), 1);
    assert_int_equal(d0.down_sent, 1);
    assert_int_equal(d1.down_sent, 12);
    assert_int_equal(d2.down_sent, 13);
    assert_true(d1.t3_ns == WALL + 220 * MS);
    assert_int_equal(down_field(f->s, "sent"), 3);
    assert_int_equal(down_field(f->s, "skipped"), 10);
    struct rp_session_counters c = { 0 };
    rp_session_add_counters(f->s, &c);
    assert_int_equal(c.down_packets, 3);
    assert_int_equal(c.down_skipped, 10);
}

/* Late by up to 5 periods: the overdue packets go out at once (late, not
 * lost), numbered without a gap, nothing skipped. */
static void test_short_stall_is_caught_up_not_skipped(void **state)
{
    struct fixture *f = *state;
    rp_session_announce(f->s, (struct sockaddr *)&f->probe_addr, T0);
    assert_int_equal(rp_session_send_due(f->s, T0), 1);
    /* Slots 1..6 due at 20..120 ms: 5 periods behind at 120 ms. */
    assert_int_equal(rp_session_send_due(f->s, T0 + 120 * MS), 6);
    struct rp_rtp_pkt p;
    uint16_t seq0 = 0;
    for (uint32_t i = 0; i < 7; i++) {
        struct rp_mext_down d = down_elem(must_send(f), &p);
        if (i == 0)
            seq0 = p.hdr.seq;
        assert_int_equal((uint16_t)(p.hdr.seq - seq0), i);
        assert_int_equal(d.down_sent, i + 1);
    }
    assert_int_equal(down_field(f->s, "skipped"), 0);
    /* One more period behind: skipped. Slot 7 was due at 140 ms, now 260 ms. */
    assert_int_equal(rp_session_send_due(f->s, T0 + 260 * MS), 1);
    assert_int_equal(down_field(f->s, "skipped"), 6);
    assert_int_equal(down_elem(must_send(f), &p).down_sent, 14);
    assert_int_equal((uint16_t)(p.hdr.seq - seq0), 13);
}

/* Skipped slots use the budget too, and a stall past the stream's end skips
 * only what the stream would have sent. */
static void test_skipped_slots_count_against_the_budget(void **state)
{
    struct fixture *f = *state;
    uint8_t pkt[RP_RTP_MAX_PKT];
    rp_session_announce(f->s, (struct sockaddr *)&f->probe_addr, T0);
    for (uint64_t t = T0, i = 0; t <= T0 + 25000 * MS; t += 20 * MS, i++) {
        size_t n = upstream_packet(pkt, ssrc_up(f->s), 0, (uint16_t)i, (uint32_t)i, 1);
        deliver(f, pkt, n, t, t);
        if (t <= T0 + 3000 * MS || t > T0 + 4000 * MS) /* a 1 s stall */
            rp_session_send_due(f->s, t);
    }
    assert_int_equal(down_field(f->s, "skipped"), 50);
    assert_int_equal(down_field(f->s, "sent") + down_field(f->s, "skipped"), 750);
    rp_session_free(f->s);
    /* Stalled from 1 s to 60 s: the stream (10 s + 5 s of slack) ends in the stall. */
    f->s = new_session(f, false);
    rp_session_announce(f->s, (struct sockaddr *)&f->probe_addr, T0);
    f->total = 0;
    for (uint64_t t = T0; t <= T0 + 1000 * MS; t += 20 * MS)
        rp_session_send_due(f->s, t);
    rp_session_send_due(f->s, T0 + 60000 * MS);
    assert_int_equal(down_field(f->s, "sent"), 51);
    assert_int_equal(down_field(f->s, "sent") + down_field(f->s, "skipped"), 750);
    assert_true(rp_session_next_due(f->s) == UINT64_MAX);
}

/* Upstream every 20 ms up to `until` (sending on the clock as it comes). */
static void stream_both_ways(struct fixture *f, uint64_t from, uint64_t until, uint16_t *seq)
{
    uint8_t pkt[RP_RTP_MAX_PKT];
    for (uint64_t t = from; t <= until; t += 20 * MS, (*seq)++) {
        size_t n = upstream_packet(pkt, ssrc_up(f->s), 0, *seq, (uint32_t)*seq * 160, 1);
        deliver(f, pkt, n, t, t);
        rp_session_send_due(f->s, t);
    }
}

/* The daemon stalls for 7 s (longer than consent) while upstream goes on
 * arriving: the tick after the stall runs before the queued upstream is read,
 * so it must not take the stale last arrival for a lapsed consent. The stream
 * goes on and the missed slots are skipped, never a silent gap. */
static void test_stall_longer_than_consent_with_upstream_queued_is_not_silent(void **state)
{
    struct fixture *f = *state;
    rp_session_free(f->s);
    f->s = new_session_for(f, false, 30);
    load_session_key(f->s);
    uint16_t seq = 0;
    rp_session_announce(f->s, (struct sockaddr *)&f->probe_addr, T0);
    stream_both_ways(f, T0, T0 + 1000 * MS, &seq);
    assert_int_equal(down_field(f->s, "sent"), 51);
    /* Stalled from 1 s to 8 s: the tick first, then the queued upstream. */
    assert_int_equal(rp_session_send_due(f->s, T0 + 8000 * MS), 1);
    uint8_t pkt[RP_RTP_MAX_PKT];
    for (uint64_t t = T0 + 1020 * MS; t <= T0 + 8000 * MS; t += 20 * MS, seq++)
        deliver(f, pkt, upstream_packet(pkt, ssrc_up(f->s), 0, seq, (uint32_t)seq * 160, 1), t,
                T0 + 8000 * MS);
    assert_int_equal(down_field(f->s, "skipped"), 349); /* slots due 1.02 s .. 7.98 s */
    stream_both_ways(f, T0 + 8020 * MS, T0 + 10000 * MS, &seq);
    assert_int_equal(down_field(f->s, "sent"), 51 + 1 + 100);
    assert_int_equal(down_field(f->s, "sent") + down_field(f->s, "skipped"), 501);
    assert_true(rp_session_next_due(f->s) == T0 + 10020 * MS);
}

/* Upstream really ended at 1 s (consent until 6 s) and the daemon stalled
 * until 8 s: the stall skips up to now (whether upstream stopped is known
 * only after the reads), the next tick finds consent gone and stops. */
static void test_stall_across_consent_with_upstream_gone_stops_at_the_next_tick(void **state)
{
    struct fixture *f = *state;
    uint16_t seq = 0;
    rp_session_announce(f->s, (struct sockaddr *)&f->probe_addr, T0);
    stream_both_ways(f, T0, T0 + 1000 * MS, &seq);
    assert_int_equal(rp_session_send_due(f->s, T0 + 8000 * MS), 1);
    assert_int_equal(rp_session_send_due(f->s, T0 + 8020 * MS), 0);
    assert_int_equal(down_field(f->s, "sent"), 52);
    assert_int_equal(down_field(f->s, "skipped"), 349);
    assert_true(rp_session_next_due(f->s) == UINT64_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_series_only_when_asked_and_in_the_document, setup, teardown),
        cmocka_unit_test_setup_teardown(test_input_alone_never_sends_anything, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_id_is_lowercase_hex_and_new_each_time, setup, teardown),
        cmocka_unit_test(test_stun_flood_spread_over_session_ports_shares_one_budget),
        cmocka_unit_test_setup_teardown(test_foreign_and_malformed_packets_are_counted_and_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_downstream_goes_to_latched_source_with_reflection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_downstream_is_clocked_at_ptime, setup, teardown),
        cmocka_unit_test_setup_teardown(test_announce_alone_starts_downstream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_freezes_counters_and_counts_late_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_expires_after_its_duration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stun_on_the_media_port_gets_one_answer_no_larger, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upstream_before_downstream_is_not_reply_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upstream_only_after_downstream_is_reply_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forged_or_unsigned_packets_are_dropped_as_auth_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replayed_packet_from_elsewhere_does_not_move_the_latch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_authentic_packet_from_another_ip_is_foreign_source, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counter_far_behind_the_newest_is_a_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_priming_latches_and_starts_but_is_not_measured, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_sends_are_counted_and_the_clock_goes_on, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_stops_five_seconds_after_upstream_goes_quiet, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unanswered_stream_stops_after_thirty_seconds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_never_exceeds_its_packet_budget, setup, teardown),
        cmocka_unit_test(test_unreadable_srtp_is_counted_per_reason),
        cmocka_unit_test_setup_teardown(test_stall_beyond_catch_up_skips_slots_and_leaves_a_gap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_short_stall_is_caught_up_not_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_skipped_slots_count_against_the_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stall_longer_than_consent_with_upstream_queued_is_not_silent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stall_across_consent_with_upstream_gone_stops_at_the_next_tick, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
