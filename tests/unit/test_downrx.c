/* Unit tests for src/downrx.c, the probe's downstream receiver: the pure
 * classifier on a hand-written downstream packet and on sealed ones, then the
 * accounting of a fed stream (progress, drops per reason, loss against the
 * daemon's count) and the RTT samples of its reflections. No sockets. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "downrx.h"
#include "mext.h"
#include "netaddr.h"
#include "rtp.h"
#include "stream.h"

#define SSRC_DOWN 0xcafe0001u
#define MS 1000000ull
#define SEQ0 40000

static const uint8_t hmac_key[RP_MEXT_AUTH_KEY_LEN] = {
    0x5a, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0xa5,
};

/* A downstream packet as the daemon sends it (docs/wire-format.md): PCMU, seq
 * 0x0102, ts 0x00000a00, SSRC 0xcafe0001; element 2 (reflection of upstream
 * seq 9: T1 1000, T2 2000, T3 3000, up_received 8, down_sent 5, host drops 1),
 * element 3 (tag, zero until signed), 2 bytes of padding, 4 bytes of payload. */
#define OFF_DOWN_SENT (16 + 2 + 36)
static const uint8_t pkt_down[] = {
    0x90, 0x00, 0x01, 0x02,             /* V=2 X=1 | PT 0 | seq 0x0102 */
    0x00, 0x00, 0x0a, 0x00,             /* ts */
    0xca, 0xfe, 0x00, 0x01,             /* SSRC */
    0x10, 0x00, 0x00, 0x10,             /* two-byte form, 16 words */
    0x02, 0x30,                         /* ID 2, 48 bytes */
    0x01, 0x01, 0x00, 0x00,             /*   version 1, flags reflection, reserved */
    0x00, 0x00, 0x00, 0x09,             /*   refl_seq 9 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xe8, /* T1 1000 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0xd0, /* T2 2000 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0b, 0xb8, /* T3 3000 */
    0x00, 0x00, 0x00, 0x08,             /*   up_received 8 */
    0x00, 0x00, 0x00, 0x05,             /*   down_sent 5 */
    0x00, 0x00, 0x00, 0x01,             /*   up_host_drops 1 */
    0x00, 0x00, 0x00, 0x00,             /*   reserved */
    0x03, 0x0a,                         /* ID 3, 10 bytes */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00,                         /* padding */
    0xff, 0xff, 0x7f, 0x7f,             /* payload */
};

struct fixture {
    struct sockaddr_storage media_port, other_port;
    struct rp_stream *seal;   /* the daemon's side */
    struct rp_stream *open;   /* ours, for rp_downrx_classify */
};

static struct rp_stream *new_stream(enum rp_stream_role role)
{
    struct rp_stream_cfg cfg = {
        .role = role, .codec = RP_CODEC_PCMU, .ptime_ms = 20, .ssrc = SSRC_DOWN, .elem_id = RP_MEXT_ID_DOWN,
        .seq0 = SEQ0, .ts0 = 123456, .bitrate_bps = 64000, .loop_frames = 4, .payload_seed = 7, .key = hmac_key,
    };
    char err[128] = "";
    struct rp_stream *s = rp_stream_new(&cfg, err, sizeof err);
    if (!s)
        fail_msg("rp_stream_new: %s", err);
    return s;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    socklen_t len;
    assert_non_null(f);
    assert_int_equal(rp_addr_parse("192.0.2.1:36124", 0, &f->media_port, &len), 0);
    assert_int_equal(rp_addr_parse("192.0.2.1:36125", 0, &f->other_port, &len), 0);
    f->seal = new_stream(RP_STREAM_SEAL);
    f->open = new_stream(RP_STREAM_OPEN);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    rp_stream_free(f->seal);
    rp_stream_free(f->open);
    free(f);
    return 0;
}

#define SA(ss) ((const struct sockaddr *)&(ss))

struct dgram {
    uint8_t b[RP_STREAM_MAX_PKT];
    size_t len;
};

static struct dgram seal(struct fixture *f, int64_t index, const struct rp_mext_down *m)
{
    struct dgram d;
    struct rp_stream_elem e = { .down = *m };
    d.len = rp_stream_seal(f->seal, index, &e, d.b, sizeof d.b);
    assert_true(d.len > 0);
    return d;
}

/* ---- the classifier ---- */

static void test_hand_written_downstream_packet_is_taken(void **state)
{
    struct fixture *f = *state;
    uint8_t b[sizeof pkt_down];
    memcpy(b, pkt_down, sizeof b);
    assert_int_equal(rp_mext_auth_sign(b, sizeof b, hmac_key), 0);
    struct rp_stream_rx rx;
    assert_int_equal(rp_downrx_classify(f->open, b, sizeof b, SA(f->media_port), SA(f->media_port), &rx),
                     RP_DROP_NONE);
    assert_int_equal(rx.hdr.seq, 0x0102);
    assert_int_equal(rx.hdr.ts, 0x0a00);
    assert_int_equal(rx.hdr.ssrc, SSRC_DOWN);
    const struct rp_mext_down *m = &rx.elem.down;
    assert_int_equal(m->flags, RP_MEXT_F_REFLECTION);
    assert_int_equal(m->refl_seq, 9);
    assert_true(m->t1_ns == 1000 && m->t2_ns == 2000 && m->t3_ns == 3000);
    assert_int_equal(m->up_received, 8);
    assert_int_equal(m->down_sent, 5);
    assert_int_equal(m->up_host_drops, 1);
}

static void test_hand_written_packet_counting_no_send_is_bad_extension(void **state)
{
    struct fixture *f = *state;
    uint8_t b[sizeof pkt_down];
    memcpy(b, pkt_down, sizeof b);
    b[OFF_DOWN_SENT + 3] = 0x00; /* down_sent 0: authentic, but no daemon sends that */
    assert_int_equal(rp_mext_auth_sign(b, sizeof b, hmac_key), 0);
    struct rp_stream_rx rx;
    assert_int_equal(rp_downrx_classify(f->open, b, sizeof b, SA(f->media_port), SA(f->media_port), &rx),
                     RP_DROP_BAD_EXT);
}

static void test_authentic_packet_from_another_port_is_foreign_source(void **state)
{
    struct fixture *f = *state;
    struct dgram d = seal(f, 0, &(struct rp_mext_down){ .down_sent = 1 });
    struct rp_stream_rx rx;
    assert_int_equal(rp_downrx_classify(f->open, d.b, d.len, SA(f->other_port), SA(f->media_port), &rx),
                     RP_DROP_FOREIGN_SOURCE);
    /* The same bytes from the media port are fine. */
    assert_int_equal(rp_downrx_classify(f->open, d.b, d.len, SA(f->media_port), SA(f->media_port), &rx),
                     RP_DROP_NONE);
}

static void test_sealed_downstream_packet_is_taken(void **state)
{
    struct fixture *f = *state;
    struct rp_mext_down m = { .flags = RP_MEXT_F_REFLECTION, .refl_seq = 77, .t1_ns = 1, .t2_ns = 2, .t3_ns = 3,
                              .up_received = 70, .down_sent = 6, .up_host_drops = 9 };
    struct dgram d = seal(f, 5, &m);
    struct rp_stream_rx rx;
    assert_int_equal(rp_downrx_classify(f->open, d.b, d.len, SA(f->media_port), SA(f->media_port), &rx),
                     RP_DROP_NONE);
    assert_int_equal(rx.hdr.seq, SEQ0 + 5);
    const struct rp_mext_down *got = &rx.elem.down;
    assert_int_equal(got->flags, m.flags);
    assert_int_equal(got->refl_seq, 77);
    assert_true(got->t1_ns == 1 && got->t2_ns == 2 && got->t3_ns == 3);
    assert_int_equal(got->up_received, 70);
    assert_int_equal(got->down_sent, 6);
    assert_int_equal(got->up_host_drops, 9);
}

static void test_sealed_packet_with_down_sent_0_is_bad_extension(void **state)
{
    struct fixture *f = *state;
    struct dgram d = seal(f, 0, &(struct rp_mext_down){ .down_sent = 0 });
    struct rp_stream_rx rx;
    assert_int_equal(rp_downrx_classify(f->open, d.b, d.len, SA(f->media_port), SA(f->media_port), &rx),
                     RP_DROP_BAD_EXT);
}

static void test_the_stream_decides_for_the_media_port(void **state)
{
    struct fixture *f = *state;
    struct dgram d = seal(f, 0, &(struct rp_mext_down){ .down_sent = 1 });
    struct rp_stream_rx rx;
    d.b[d.len - 1] ^= 0x01;
    assert_int_equal(rp_downrx_classify(f->open, d.b, d.len, SA(f->media_port), SA(f->media_port), &rx),
                     RP_DROP_AUTH);
    assert_int_equal(rp_downrx_classify(f->open, d.b, 7, SA(f->media_port), SA(f->media_port), &rx),
                     RP_DROP_BAD_RTP);
    assert_int_equal(rx.rtp_err, RP_RTP_ETOOSHORT);
    /* Foreign source is decided first: even garbage from elsewhere is foreign. */
    assert_int_equal(rp_downrx_classify(f->open, d.b, 7, SA(f->other_port), SA(f->media_port), &rx),
                     RP_DROP_FOREIGN_SOURCE);
}

/* ---- accounting ---- */

/* Clocks: the probe sent upstream packet i at T1 = t1_0 + i*20 ms; the
 * daemon's clock is 5 s ahead, the path 10 ms each way and the daemon holds a
 * reflection 4 ms: T2 = T1 + 5 s + 10 ms, T3 = T2 + 4 ms, T4 = T1 + 34 ms.
 * RTT = (T4 - T1) - (T3 - T2) = 30 ms, whatever the offset. T1 and T4 are on
 * the probe's steady wall clock: t1_0 at the monotonic instant mono_0. */
static const uint64_t t1_0 = 1700000000000000000ull;
static const uint64_t mono_0 = 86400ull * 1000 * MS;  /* a day after boot */
#define OFFSET (5000 * MS)

static struct rp_mext_down reflection(uint32_t i, uint32_t down_sent)
{
    uint64_t t1 = t1_0 + i * 20 * MS, t2 = t1 + OFFSET + 10 * MS;
    return (struct rp_mext_down){ .flags = RP_MEXT_F_REFLECTION, .refl_seq = i, .t1_ns = t1, .t2_ns = t2,
                                  .t3_ns = t2 + 4 * MS, .up_received = i + 1, .down_sent = down_sent };
}

/* A datagram arriving at T4 = t4 on the probe's steady wall clock. */
static void feed(struct rp_downrx *d, const struct dgram *g, const struct sockaddr_storage *from, uint64_t t4)
{
    struct rp_udp_meta meta;
    memset(&meta, 0, sizeof meta);
    memcpy(&meta.from, from, sizeof meta.from);
    meta.fromlen = rp_addr_len(SA(*from));
    meta.rx_mono = mono_0 + (t4 - t1_0);
    meta.read_mono = meta.rx_mono;
    meta.rx_ns = t4;
    rp_downrx_on_datagram(d, g->b, g->len, &meta);
}

static struct rp_downrx *new_downrx_capped(struct fixture *f, size_t rtt_cap)
{
    struct rp_downrx *d = rp_downrx_new(new_stream(RP_STREAM_OPEN), SA(f->media_port), 8000, 40, rtt_cap,
                                        rp_wallclock_at(t1_0, mono_0));
    assert_non_null(d);
    return d;
}

static struct rp_downrx *new_downrx(struct fixture *f)
{
    struct rp_downrx *d = new_downrx_capped(f, 64);
    assert_non_null(d);
    return d;
}

/* Packets 0..9 but 3, each reflecting upstream packet i, plus one drop of each kind the receiver sees. */
static struct rp_downrx *fed_stream(struct fixture *f)
{
    struct rp_downrx *d = new_downrx(f);
    for (uint32_t i = 0; i < 10; i++) {
        if (i == 3)
            continue;
        struct rp_mext_down m = reflection(i, i + 1);
        struct dgram g = seal(f, i, &m);
        feed(d, &g, &f->media_port, m.t1_ns + 34 * MS);
    }
    struct rp_mext_down m = reflection(20, 11);
    struct dgram g = seal(f, 10, &m);
    feed(d, &g, &f->other_port, t1_0);          /* foreign_source */
    g.b[g.len - 1] ^= 0x01;
    feed(d, &g, &f->media_port, t1_0);          /* auth_failure */
    g.len = 5;
    feed(d, &g, &f->media_port, t1_0);          /* bad_rtp */
    m.down_sent = 0;
    g = seal(f, 11, &m);
    feed(d, &g, &f->media_port, t1_0);          /* bad_extension */
    return d;
}

static void test_progress_counts_packets_and_drops(void **state)
{
    struct fixture *f = *state;
    struct rp_downrx *d = fed_stream(f);
    struct rp_downrx_progress p;
    rp_downrx_progress(d, &p);
    assert_int_equal(p.received, 9);
    assert_int_equal(p.down_sent_seen, 10);
    assert_int_equal(p.up_received_seen, 10);   /* packet 9 said 10 */
    assert_int_equal(p.up_highest_seen, 10);    /* refl_seq 9 + 1 */
    assert_int_equal(p.host_drops, 0);
    for (int r = 0; r < RP_DROP_COUNT; r++) {
        uint64_t want = r == RP_DROP_FOREIGN_SOURCE || r == RP_DROP_AUTH || r == RP_DROP_BAD_RTP ||
                        r == RP_DROP_BAD_EXT;
        if (p.drops[r] != want)
            fail_msg("drops[%s] = %llu, want %llu", rp_drop_reason_name((enum rp_drop_reason)r),
                     (unsigned long long)p.drops[r], (unsigned long long)want);
    }
    rp_downrx_free(d);
}

static void test_summary_counts_the_missing_packet_as_lost(void **state)
{
    struct fixture *f = *state;
    struct rp_downrx *d = fed_stream(f);
    struct rp_rxsummary s;
    rp_downrx_summary(d, 10, &s);
    assert_int_equal(s.received, 9);
    assert_int_equal(s.expected, 10);
    assert_true(s.lost == 1);
    assert_int_equal(s.bursts, 1);
    assert_int_equal(s.max_burst, 1);
    assert_int_equal(s.duplicates, 0);
    /* Every accepted datagram on the wire: its bytes plus 28 of IPv4 and UDP. */
    assert_int_equal(s.wire_bytes, 9 * (12 + 4 + 64 + 160 + 28));
    rp_downrx_free(d);
}

static void test_leading_losses_count_from_down_sent(void **state)
{
    struct fixture *f = *state;
    struct rp_downrx *d = new_downrx(f);
    /* The first two never arrive; packet 2 says it is the third the daemon sent. */
    for (uint32_t i = 2; i < 6; i++) {
        struct rp_mext_down m = reflection(i, i + 1);
        struct dgram g = seal(f, i, &m);
        feed(d, &g, &f->media_port, m.t1_ns + 34 * MS);
    }
    struct rp_rxsummary s;
    rp_downrx_summary(d, 0, &s); /* the daemon's count unknown: the first sequence tells */
    assert_int_equal(s.received, 4);
    assert_int_equal(s.expected, 6);
    assert_true(s.lost == 2);
    rp_downrx_free(d);
}

/* An overloaded daemon skipped slots 4..8 (the media clock's index: seq and
 * the in-band count jump together); the first packet after the gap counts
 * them, and with expected = sent + skipped they are lost like any other. */
static void test_skipped_slots_count_as_lost(void **state)
{
    struct fixture *f = *state;
    struct rp_downrx *d = new_downrx(f);
    static const uint32_t slots[] = { 0, 1, 2, 3, 9, 10, 11 };
    for (size_t k = 0; k < sizeof slots / sizeof slots[0]; k++) {
        struct rp_mext_down m = reflection((uint32_t)k, slots[k] + 1);
        struct dgram g = seal(f, slots[k], &m);
        feed(d, &g, &f->media_port, m.t1_ns + 34 * MS);
    }
    struct rp_downrx_progress p;
    rp_downrx_progress(d, &p);
    assert_int_equal(p.received, 7);
    assert_int_equal(p.down_sent_seen, 12);     /* slots, the 5 skipped included */
    struct rp_rxsummary s;
    rp_downrx_summary(d, 7 + 5, &s);            /* downstream.sent 7 + skipped 5 */
    assert_int_equal(s.expected, 12);
    assert_true(s.lost == 5);
    assert_int_equal(s.max_burst, 5);
    rp_downrx_free(d);
}

static void test_host_drops_come_from_the_socket(void **state)
{
    struct fixture *f = *state;
    struct rp_downrx *d = new_downrx(f);
    struct rp_mext_down m = reflection(0, 1);
    struct dgram g = seal(f, 0, &m);
    struct rp_udp_meta meta;
    memset(&meta, 0, sizeof meta);
    memcpy(&meta.from, &f->media_port, sizeof meta.from);
    meta.rx_mono = meta.read_mono = mono_0;
    meta.rx_ns = t1_0;
    meta.has_drops = true;
    meta.rxq_drops = 17;
    rp_downrx_on_datagram(d, g.b, g.len, &meta);
    struct rp_downrx_progress p;
    rp_downrx_progress(d, &p);
    assert_int_equal(p.host_drops, 17);
    rp_downrx_free(d);
}

/* ---- RTT ---- */

static void test_rtt_samples_are_30_ms_one_per_reflection(void **state)
{
    struct fixture *f = *state;
    struct rp_downrx *d = fed_stream(f);
    size_t n;
    int64_t max;
    const int64_t *rtt = rp_downrx_rtts(d, &n, &max);
    assert_int_equal(n, 9);
    for (size_t i = 0; i < n; i++)
        assert_true(rtt[i] == 30000000);
    assert_true(max == 30000000);
    rp_downrx_free(d);
}

static void test_repeated_reflection_adds_no_sample(void **state)
{
    struct fixture *f = *state;
    struct rp_downrx *d = new_downrx(f);
    struct rp_mext_down m = reflection(4, 1);
    struct dgram g = seal(f, 0, &m);
    feed(d, &g, &f->media_port, m.t1_ns + 34 * MS);
    /* The next downstream packet still reflects upstream packet 4 (none newer arrived). */
    m.down_sent = 2;
    m.t3_ns += 20 * MS;
    g = seal(f, 1, &m);
    feed(d, &g, &f->media_port, m.t1_ns + 54 * MS);
    size_t n;
    int64_t max;
    const int64_t *rtt = rp_downrx_rtts(d, &n, &max);
    assert_int_equal(n, 1);
    assert_true(rtt[0] == 30000000);
    struct rp_downrx_progress p;
    rp_downrx_progress(d, &p);
    assert_int_equal(p.received, 2);
    rp_downrx_free(d);
}

static void test_negative_or_absurd_rtt_and_non_reflections_are_ignored(void **state)
{
    struct fixture *f = *state;
    struct rp_downrx *d = new_downrx(f);
    /* T4 - T1 = 3 ms but the daemon held it 4 ms: -1 ms. */
    struct rp_mext_down m = reflection(0, 1);
    struct dgram g = seal(f, 0, &m);
    feed(d, &g, &f->media_port, m.t1_ns + 3 * MS);
    /* 11 s: a bogus reflection, not a network. */
    m = reflection(1, 2);
    g = seal(f, 1, &m);
    feed(d, &g, &f->media_port, m.t1_ns + 11000 * MS);
    /* No reflection flag: nothing to measure. */
    m = reflection(2, 3);
    m.flags = 0;
    g = seal(f, 2, &m);
    feed(d, &g, &f->media_port, m.t1_ns + 34 * MS);
    /* A good one: 45 - 4 = 41 ms. */
    m = reflection(3, 4);
    g = seal(f, 3, &m);
    feed(d, &g, &f->media_port, m.t1_ns + 45 * MS);
    size_t n;
    int64_t max;
    const int64_t *rtt = rp_downrx_rtts(d, &n, &max);
    assert_int_equal(n, 1);
    assert_true(rtt[0] == 41000000);
    assert_true(max == 41000000);
    struct rp_downrx_progress p;
    rp_downrx_progress(d, &p);
    assert_int_equal(p.received, 4);
    assert_int_equal(p.up_highest_seen, 4); /* refl_seq 3 + 1; the unflagged one does not count */
    rp_downrx_free(d);
}

/* Downstream packet i reflects upstream packet i (20 ms each): 30 ms RTT in
 * upstream's second 0, 40 ms in second 1, no sample in second 2; downstream
 * packet 75 lost in its second 1. */
static void test_rtt_and_downstream_per_second(void **state)
{
    struct fixture *f = *state;
    struct rp_downrx *d = new_downrx(f); /* 64 samples kept: the seconds are not cut by it */
    assert_int_equal(rp_downrx_series_enable(d, 20, 5), 0);
    for (uint32_t i = 0; i < 100; i++) {
        if (i == 75)
            continue;
        struct rp_mext_down m = reflection(i, i + 1);
        struct dgram g = seal(f, i, &m);
        feed(d, &g, &f->media_port, m.t1_ns + (i < 50 ? 34 : 44) * MS);
    }
    struct rp_rtt_second *rtt;
    size_t n;
    assert_int_equal(rp_downrx_rtt_seconds(d, 150, &rtt, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(rtt[0].samples, 50);
    assert_true(fabs(rtt[0].rtt_ms - 30.0) < 1e-9);
    assert_int_equal(rtt[1].samples, 49);
    assert_true(fabs(rtt[1].rtt_ms - 40.0) < 1e-9);
    assert_int_equal(rtt[2].samples, 0);
    assert_true(isnan(rtt[2].rtt_ms));
    free(rtt);
    struct rp_second *sec;
    assert_int_equal(rp_downrx_seconds(d, 100, &sec, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(sec[0].packets, 50);
    assert_int_equal(sec[1].packets, 49);
    assert_int_equal(sec[1].lost, 1);
    free(sec);
    rp_downrx_free(d);
}

static void test_rtt_samples_stop_at_the_cap(void **state)
{
    struct fixture *f = *state;
    struct rp_downrx *d = new_downrx_capped(f, 3);
    for (uint32_t i = 0; i < 6; i++) {
        struct rp_mext_down m = reflection(i, i + 1);
        struct dgram g = seal(f, i, &m);
        feed(d, &g, &f->media_port, m.t1_ns + (34 + i) * MS);
    }
    size_t n;
    int64_t max;
    const int64_t *rtt = rp_downrx_rtts(d, &n, &max);
    assert_int_equal(n, 3);
    assert_true(rtt[0] == 30000000 && rtt[1] == 31000000 && rtt[2] == 32000000);
    assert_true(max == 32000000);
    rp_downrx_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hand_written_downstream_packet_is_taken, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hand_written_packet_counting_no_send_is_bad_extension, setup, teardown),
        cmocka_unit_test_setup_teardown(test_authentic_packet_from_another_port_is_foreign_source, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealed_downstream_packet_is_taken, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealed_packet_with_down_sent_0_is_bad_extension, setup, teardown),
        cmocka_unit_test_setup_teardown(test_the_stream_decides_for_the_media_port, setup, teardown),
        cmocka_unit_test_setup_teardown(test_progress_counts_packets_and_drops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_summary_counts_the_missing_packet_as_lost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leading_losses_count_from_down_sent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_skipped_slots_count_as_lost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_host_drops_come_from_the_socket, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rtt_samples_are_30_ms_one_per_reflection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repeated_reflection_adds_no_sample, setup, teardown),
        cmocka_unit_test_setup_teardown(test_negative_or_absurd_rtt_and_non_reflections_are_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rtt_samples_stop_at_the_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rtt_and_downstream_per_second, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
