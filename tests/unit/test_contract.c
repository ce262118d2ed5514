/* Unit tests for src/contract.c, the daemon<->probe JSON contract. Every field
 * round-trips with a distinct value; a hand-written session document with the
 * keys docs/control-api.md documents decodes to the right fields and encodes
 * back to the same JSON (so a key renamed on either side fails here); the
 * answers copied from docs/control-api.md decode and re-encode unchanged; and
 * each kind of bad input fails loudly, naming its key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <math.h>

#include "contract.h"

/* Every key of the session document, each with its own value (doubles with at
 * most 3 decimals, as the daemon writes them). auth_failures is documented as
 * the same count as dropped.auth_failure; it differs here so that a table row
 * pointing at the wrong member shows. */
static const char golden_session[] =
    "{\"id\":\"0123456789abcdef0123456789abcdef\",\"codec\":\"opus\",\"ptime_ms\":40,\"bitrate_bps\":24000,"
    "\"duration_s\":33,\"jitter_buffer_ms\":60,\"media_port\":36210,\"state\":\"stopped\","
    "\"client\":\"192.0.2.10:45000\",\"announced\":\"198.51.100.7:40001\",\"latched\":\"[2001:db8::5]:40002\","
    "\"relatched\":2,\"ssrc_up\":4000000001,\"ssrc_down\":3000000002,\"upstream\":{\"accepted\":1501,"
    "\"sent_by_probe\":1502,\"received\":1498,\"lost\":4,\"loss_pct\":0.266,\"duplicates\":5,"
    "\"reordered\":6,\"late\":7,\"late_adaptive\":36,\"jitter_buffer_mean_ms\":47.5,"
    "\"jitter_buffer_max_ms\":120.0,\"bursts\":3,\"max_burst\":2,\"burst_ratio\":1.125,\"jitter_ms\":2.25,"
    "\"jitter_mean_ms\":1.875,\"ipdv_ms\":{\"p50\":0.5,\"p95\":3.375,\"p99\":4.625,\"max\":9.75},"
    "\"delay_ms\":{\"p50\":12.5,\"p95\":61.25,\"max\":88.125,\"rise\":55.5},"
    "\"wire_bytes\":345678,\"host_drops\":8,\"dropped\":{\"bad_rtp\":11,\"wrong_ssrc\":12,"
    "\"wrong_pt\":13,\"bad_extension\":14,\"after_stop\":17,\"auth_failure\":15,\"replay\":16,"
    "\"oversized\":18,\"foreign_source\":19},\"reply_only\":true,\"stun\":{\"answered\":21,"
    "\"malformed\":22,\"not_request\":23,\"too_small\":24,\"unknown_attribute\":25,\"rate\":27},"
    "\"malformed\":{\"rtp\":{\"too_short\":31,\"bad_version\":32,\"bad_csrc\":33,\"bad_extension\":34,"
    "\"bad_padding\":35},\"stun\":{\"too_short\":41,\"not_stun\":42,\"bad_length\":43,"
    "\"bad_attribute\":44,\"bad_fingerprint\":45}},\"auth_failures\":26,\"primed\":9},"
    "\"downstream\":{\"sent\":1650,\"skipped\":12,\"wire_bytes\":440550,\"send_errors\":10},\"transport\":\"srtp\","
    "\"cipher\":\"AES_CM_128_HMAC_SHA1_80\"}";

/* Answers copied verbatim from docs/control-api.md. */
static const char doc_patch_answer[] =
    "{\"id\":\"c6bcaa90775c902ff8f653567e41ad66\",\"codec\":\"pcmu\",\"ptime_ms\":20,\"bitrate_bps\":64000,"
    "\"duration_s\":30,\"jitter_buffer_ms\":40,\"media_port\":36138,\"state\":\"sending\","
    "\"client\":\"127.0.0.1:45684\",\"announced\":\"127.0.0.1:40000\",\"latched\":null,"
    "\"relatched\":0,\"ssrc_up\":3694866393,\"ssrc_down\":2202199177,\"upstream\":{\"accepted\":0,"
    "\"sent_by_probe\":0,\"received\":0,\"lost\":0,\"loss_pct\":0.0,\"duplicates\":0,\"reordered\":0,"
    "\"late\":0,\"late_adaptive\":0,\"jitter_buffer_mean_ms\":0.0,\"jitter_buffer_max_ms\":0.0,"
    "\"bursts\":0,\"max_burst\":0,\"burst_ratio\":1.0,\"jitter_ms\":0.0,\"jitter_mean_ms\":0.0,"
    "\"ipdv_ms\":{\"p50\":0.0,\"p95\":0.0,\"p99\":0.0,\"max\":0.0},"
    "\"delay_ms\":{\"p50\":0.0,\"p95\":0.0,\"max\":0.0,\"rise\":0.0},\"wire_bytes\":0,\"host_drops\":0,"
    "\"dropped\":{\"bad_rtp\":0,\"wrong_ssrc\":0,\"wrong_pt\":0,\"bad_extension\":0,\"after_stop\":0,"
    "\"auth_failure\":0,\"replay\":0,\"oversized\":0,\"foreign_source\":0},\"reply_only\":false,"
    "\"stun\":{\"answered\":0,\"malformed\":0,\"not_request\":0,\"too_small\":0,\"unknown_attribute\":0,"
    "\"rate\":0},"
    "\"malformed\":{\"rtp\":{\"too_short\":0,\"bad_version\":0,\"bad_csrc\":0,\"bad_extension\":0,"
    "\"bad_padding\":0},\"stun\":{\"too_short\":0,\"not_stun\":0,\"bad_length\":0,\"bad_attribute\":0,"
    "\"bad_fingerprint\":0}},\"auth_failures\":0,\"primed\":0},\"downstream\":{\"sent\":0,"
    "\"skipped\":0,\"wire_bytes\":0,\"send_errors\":0},\"transport\":\"rtp\",\"cipher\":null}";

static const char doc_created_rtp[] =
    "{\"id\":\"c6bcaa90775c902ff8f653567e41ad66\",\"media_port\":36138,\"ssrc_up\":3694866393,"
    "\"ssrc_down\":2202199177,\"pt\":0,\"clock_rate\":8000,\"codec\":\"pcmu\",\"ptime_ms\":20,"
    "\"bitrate_bps\":64000,\"duration_s\":30,\"jitter_buffer_ms\":40,\"transport\":\"rtp\","
    "\"client\":\"127.0.0.1:45684\",\"port_min\":36000,\"port_max\":36299,"
    "\"auth_key\":\"UH1bFyIoKIR63Oq7MJgte9nqIb++5FEqhw+TeA5oxUo=\"}";

static const char doc_created_srtp[] =
    "{\"id\":\"8916ae9bbc550899e3a96b26bc2d9862\",\"media_port\":36094,\"ssrc_up\":878364704,"
    "\"ssrc_down\":3094933494,\"pt\":111,\"clock_rate\":48000,\"codec\":\"opus\",\"ptime_ms\":20,"
    "\"bitrate_bps\":32000,\"duration_s\":5,\"jitter_buffer_ms\":40,\"transport\":\"srtp\","
    "\"client\":\"127.0.0.1:59840\",\"port_min\":36000,\"port_max\":36299,"
    "\"srtp\":{\"suite\":\"AEAD_AES_128_GCM\","
    "\"key_up\":\"inline:P9q693qiyznF0CbwDiMl+dXBfbcq8p/AwkpnwA==\","
    "\"key_down\":\"inline:wXBVQ+PKz98WFNjnyvBYXoXppet4qFca0duQkQ==\"}}";

static json_t *load(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &e);
    if (!j)
        fail_msg("literal is not JSON: %s at %d:%d", e.text, e.line, e.column);
    return j;
}

static void fail_unequal_json(const json_t *want, const json_t *got)
{
    char *w = json_dumps(want, JSON_SORT_KEYS), *g = json_dumps(got, JSON_SORT_KEYS);
    print_error("want %s\n got  %s\n", w ? w : "?", g ? g : "?");
    free(w);
    free(g);
    fail();
}

static void assert_json_equal(const json_t *want, const json_t *got)
{
    assert_non_null(got);
    if (!json_equal(want, got))
        fail_unequal_json(want, got);
}

static void decode_session_ok(const json_t *j, struct rp_contract_session *s)
{
    char err[160] = "";
    if (rp_contract_session_decode(j, s, err, sizeof err) != 0)
        fail_msg("session decode failed: %s", err);
}

static void decode_created_ok(const json_t *j, struct rp_contract_created *c)
{
    char err[160] = "";
    if (rp_contract_created_decode(j, c, err, sizeof err) != 0)
        fail_msg("created decode failed: %s", err);
}

/* ---- round trips: a distinct value in every field ---- */

static void fill_session(struct rp_contract_session *s)
{
    memset(s, 0, sizeof *s);
    strcpy(s->id, "fedcba9876543210fedcba9876543210");
    strcpy(s->codec, "pcma");
    s->ptime_ms = 30;
    s->bitrate_bps = 64000;
    s->duration_s = 17;
    s->jitter_buffer_ms = 80;
    s->media_port = 10002;
    strcpy(s->state, "sending");
    strcpy(s->client, "203.0.113.4:5000");
    strcpy(s->announced, "[2001:db8::1]:5002");
    strcpy(s->latched, "203.0.113.4:5004");
    s->relatched = 3;
    s->ssrc_up = 4294967295u;
    s->ssrc_down = 123456789;
    strcpy(s->transport, "srtp");
    strcpy(s->cipher, "AEAD_AES_256_GCM");
    struct rp_contract_up *u = &s->up;
    u->rx.received = 1001;
    u->rx.lost = -2;             /* duplicates beyond what was sent */
    u->rx.loss_pct = -0.125;
    u->rx.duplicates = 1002;
    u->rx.reordered = 1003;
    u->rx.late = 1004;
    u->rx.late_adaptive = 1044;
    u->rx.jb_mean_ms = 41.125;
    u->rx.jb_max_ms = 140.25;
    u->rx.delay_p50_ms = 3.5;
    u->rx.delay_p95_ms = 17.75;
    u->rx.delay_max_ms = 30.625;
    u->rx.delay_rise_ms = 11.375;
    u->rx.bursts = 1005;
    u->rx.max_burst = 1006;
    u->rx.burst_ratio = 1.375;
    u->rx.jitter_ms = 2.25;
    u->rx.jitter_mean_ms = 3.5;
    u->rx.ipdv_p50_ms = 4.625;
    u->rx.ipdv_p95_ms = 5.75;
    u->rx.ipdv_p99_ms = 6.875;
    u->rx.ipdv_max_ms = 7.001;
    u->rx.wire_bytes = 1007;
    u->accepted = 1008;
    u->sent_by_probe = 1009;
    u->host_drops = 1010;
    u->auth_failures = 1011;
    u->primed = 1012;
    u->reply_only = true;
    for (unsigned i = RP_DROP_FIRST; i < RP_DROP_COUNT; i++)
        u->dropped[i] = 2000 + i;
    for (unsigned i = 0; i < RP_STUN_VERDICTS; i++)
        u->stun[i] = 3000 + i;
    for (unsigned i = 1; i < RP_RTP_NERR; i++)
        u->malformed_rtp[i] = 4000 + i;
    for (unsigned i = 1; i < RP_STUN_NERR; i++)
        u->malformed_stun[i] = 5000 + i;
    s->down.sent = 6001;
    s->down.wire_bytes = (uint64_t)1 << 40;
    s->down.send_errors = 6003;
}

static void test_session_round_trips_every_field(void **state)
{
    (void)state;
    struct rp_contract_session in, out;
    fill_session(&in);
    json_t *j = rp_contract_session_encode(&in);
    assert_non_null(j);
    decode_session_ok(j, &out);
    assert_string_equal(out.id, in.id);
    assert_string_equal(out.announced, in.announced);
    assert_int_equal(out.ssrc_up, 4294967295u);
    assert_true(out.up.rx.lost == -2);
    assert_true(out.up.rx.loss_pct == -0.125);
    assert_true(out.up.rx.ipdv_max_ms == 7.001);
    assert_true(out.down.wire_bytes == (uint64_t)1 << 40);
    assert_int_equal(out.down.skipped, 0);
    for (unsigned i = RP_DROP_FIRST; i < RP_DROP_COUNT; i++)
        assert_int_equal(out.up.dropped[i], 2000 + i);
    for (unsigned i = 0; i < RP_STUN_VERDICTS; i++)
        assert_int_equal(out.up.stun[i], 3000 + i);
    for (unsigned i = 1; i < RP_RTP_NERR; i++)
        assert_int_equal(out.up.malformed_rtp[i], 4000 + i);
    for (unsigned i = 1; i < RP_STUN_NERR; i++)
        assert_int_equal(out.up.malformed_stun[i], 5000 + i);
    /* Both start from zeroed memory: any field lost or misplaced shows here. */
    assert_memory_equal(&out, &in, sizeof in);
    json_decref(j);
}

static void test_unset_addresses_travel_as_null(void **state)
{
    (void)state;
    struct rp_contract_session in, out;
    fill_session(&in);
    memset(in.announced, 0, sizeof in.announced);
    memset(in.latched, 0, sizeof in.latched);
    memset(in.cipher, 0, sizeof in.cipher);
    json_t *j = rp_contract_session_encode(&in);
    assert_non_null(j);
    assert_true(json_is_null(json_object_get(j, "announced")));
    assert_true(json_is_null(json_object_get(j, "latched")));
    assert_true(json_is_null(json_object_get(j, "cipher")));
    decode_session_ok(j, &out);
    assert_memory_equal(&out, &in, sizeof in);
    json_decref(j);
}

static void fill_created(struct rp_contract_created *c)
{
    memset(c, 0, sizeof *c);
    strcpy(c->id, "00112233445566778899aabbccddeeff");
    c->media_port = 20000;
    c->ssrc_up = 11;
    c->ssrc_down = 22;
    c->pt = 111;
    c->clock_rate = 48000;
    strcpy(c->codec, "opus");
    c->ptime_ms = 60;
    c->bitrate_bps = 96000;
    c->duration_s = 600;
    c->jitter_buffer_ms = 1000;
    strcpy(c->transport, "rtp");
    strcpy(c->client, "[2001:db8::7]:443");
    c->port_min = 10000;
    c->port_max = 19999;
}

static void test_created_round_trips_with_hmac_key(void **state)
{
    (void)state;
    struct rp_contract_created in, out;
    fill_created(&in);
    for (size_t i = 0; i < sizeof in.keys.auth_key; i++)
        in.keys.auth_key[i] = (uint8_t)(0xa0 + i);
    json_t *j = rp_contract_created_encode(&in);
    assert_non_null(j);
    assert_null(json_object_get(j, "srtp"));
    decode_created_ok(j, &out);
    assert_false(out.keys.srtp);
    assert_memory_equal(out.keys.auth_key, in.keys.auth_key, sizeof in.keys.auth_key);
    assert_memory_equal(&out, &in, sizeof in);
    json_decref(j);
}

static void test_created_round_trips_with_srtp_keys(void **state)
{
    (void)state;
    struct rp_contract_created in, out;
    fill_created(&in);
    strcpy(in.transport, "srtp");
    in.keys.srtp = true;
    in.keys.suite = RP_SRTP_AEAD_AES_256_GCM;
    for (size_t i = 0; i < 44; i++) {
        in.keys.key_up[i] = (uint8_t)(1 + i);
        in.keys.key_down[i] = (uint8_t)(200 - i);
    }
    json_t *j = rp_contract_created_encode(&in);
    assert_non_null(j);
    assert_null(json_object_get(j, "auth_key"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "srtp"), "suite")), "AEAD_AES_256_GCM");
    decode_created_ok(j, &out);
    assert_true(out.keys.srtp);
    assert_int_equal(out.keys.suite, RP_SRTP_AEAD_AES_256_GCM);
    assert_memory_equal(out.keys.key_up, in.keys.key_up, 44);
    assert_memory_equal(out.keys.key_down, in.keys.key_down, 44);
    assert_memory_equal(&out, &in, sizeof in);
    json_decref(j);
}

/* ---- the golden document: keys as documented ---- */

static void assert_golden_fields(const struct rp_contract_session *s)
{
    assert_string_equal(s->id, "0123456789abcdef0123456789abcdef");
    assert_string_equal(s->codec, "opus");
    assert_int_equal(s->ptime_ms, 40);
    assert_int_equal(s->bitrate_bps, 24000);
    assert_int_equal(s->duration_s, 33);
    assert_int_equal(s->jitter_buffer_ms, 60);
    assert_int_equal(s->media_port, 36210);
    assert_string_equal(s->state, "stopped");
    assert_string_equal(s->client, "192.0.2.10:45000");
    assert_string_equal(s->announced, "198.51.100.7:40001");
    assert_string_equal(s->latched, "[2001:db8::5]:40002");
    assert_int_equal(s->relatched, 2);
    assert_int_equal(s->ssrc_up, 4000000001u);
    assert_int_equal(s->ssrc_down, 3000000002u);
    const struct rp_contract_up *u = &s->up;
    assert_int_equal(u->accepted, 1501);
    assert_int_equal(u->sent_by_probe, 1502);
    assert_int_equal(u->rx.received, 1498);
    assert_true(u->rx.lost == 4);
    assert_true(u->rx.loss_pct == 0.266);
    assert_int_equal(u->rx.duplicates, 5);
    assert_int_equal(u->rx.reordered, 6);
    assert_int_equal(u->rx.late, 7);
    assert_int_equal(u->rx.late_adaptive, 36);
    assert_true(u->rx.jb_mean_ms == 47.5 && u->rx.jb_max_ms == 120.0);
    assert_true(u->rx.delay_p50_ms == 12.5 && u->rx.delay_p95_ms == 61.25 && u->rx.delay_max_ms == 88.125 &&
                u->rx.delay_rise_ms == 55.5);
    assert_int_equal(u->rx.bursts, 3);
    assert_int_equal(u->rx.max_burst, 2);
    assert_true(u->rx.burst_ratio == 1.125);
    assert_true(u->rx.jitter_ms == 2.25);
    assert_true(u->rx.jitter_mean_ms == 1.875);
    assert_true(u->rx.ipdv_p50_ms == 0.5);
    assert_true(u->rx.ipdv_p95_ms == 3.375);
    assert_true(u->rx.ipdv_p99_ms == 4.625);
    assert_true(u->rx.ipdv_max_ms == 9.75);
    assert_int_equal(u->rx.wire_bytes, 345678);
    assert_int_equal(u->host_drops, 8);
    assert_int_equal(u->dropped[RP_DROP_BAD_RTP], 11);
    assert_int_equal(u->dropped[RP_DROP_WRONG_SSRC], 12);
    assert_int_equal(u->dropped[RP_DROP_WRONG_PT], 13);
    assert_int_equal(u->dropped[RP_DROP_BAD_EXT], 14);
    assert_int_equal(u->dropped[RP_DROP_AUTH], 15);
    assert_int_equal(u->dropped[RP_DROP_REPLAY], 16);
    assert_int_equal(u->dropped[RP_DROP_STOPPED], 17);
    assert_int_equal(u->dropped[RP_DROP_OVERSIZED], 18);
    assert_int_equal(u->dropped[RP_DROP_FOREIGN_SOURCE], 19);
    assert_true(u->reply_only);
    assert_int_equal(u->stun[RP_STUN_ANSWERED], 21);
    assert_int_equal(u->stun[RP_STUN_DROP_MALFORMED], 22);
    assert_int_equal(u->stun[RP_STUN_DROP_NOT_REQUEST], 23);
    assert_int_equal(u->stun[RP_STUN_DROP_TOO_SMALL], 24);
    assert_int_equal(u->stun[RP_STUN_DROP_UNKNOWN_ATTR], 25);
    assert_int_equal(u->stun[RP_STUN_DROP_RATE], 27);
    assert_int_equal(u->malformed_rtp[RP_RTP_ETOOSHORT], 31);
    assert_int_equal(u->malformed_rtp[RP_RTP_EVERSION], 32);
    assert_int_equal(u->malformed_rtp[RP_RTP_ECSRC], 33);
    assert_int_equal(u->malformed_rtp[RP_RTP_EEXT], 34);
    assert_int_equal(u->malformed_rtp[RP_RTP_EPADDING], 35);
    assert_int_equal(u->malformed_stun[RP_STUN_ETOOSHORT], 41);
    assert_int_equal(u->malformed_stun[RP_STUN_ENOTSTUN], 42);
    assert_int_equal(u->malformed_stun[RP_STUN_ELENGTH], 43);
    assert_int_equal(u->malformed_stun[RP_STUN_EATTR], 44);
    assert_int_equal(u->malformed_stun[RP_STUN_EFINGERPRINT], 45);
    assert_int_equal(u->auth_failures, 26);
    assert_int_equal(u->primed, 9);
    assert_int_equal(s->down.sent, 1650);
    assert_int_equal(s->down.skipped, 12);
    assert_int_equal(s->down.wire_bytes, 440550);
    assert_int_equal(s->down.send_errors, 10);
    assert_string_equal(s->transport, "srtp");
    assert_string_equal(s->cipher, "AES_CM_128_HMAC_SHA1_80");
}

static void test_golden_document_decodes_to_its_fields(void **state)
{
    (void)state;
    json_t *j = load(golden_session);
    struct rp_contract_session s;
    decode_session_ok(j, &s);
    assert_golden_fields(&s);
    json_decref(j);
}

static void test_golden_document_encodes_back_unchanged(void **state)
{
    (void)state;
    json_t *j = load(golden_session);
    struct rp_contract_session s;
    decode_session_ok(j, &s);
    json_t *again = rp_contract_session_encode(&s);
    assert_json_equal(j, again);
    json_decref(again);
    json_decref(j);
}

/* The daemon's answer copied from docs/control-api.md, reals and nulls as sent. */
static void test_documented_session_answer_decodes_and_encodes_unchanged(void **state)
{
    (void)state;
    json_t *j = load(doc_patch_answer);
    struct rp_contract_session s;
    decode_session_ok(j, &s);
    assert_string_equal(s.id, "c6bcaa90775c902ff8f653567e41ad66");
    assert_string_equal(s.state, "sending");
    assert_string_equal(s.announced, "127.0.0.1:40000");
    assert_string_equal(s.latched, "");
    assert_string_equal(s.cipher, "");
    assert_int_equal(s.ssrc_up, 3694866393u);
    assert_true(s.up.rx.burst_ratio == 1.0);
    json_t *again = rp_contract_session_encode(&s);
    assert_json_equal(j, again);
    json_decref(again);
    json_decref(j);
}

static void test_documented_created_answers_decode_and_encode_unchanged(void **state)
{
    (void)state;
    static const uint8_t auth_key[32] = {
        0x50, 0x7d, 0x5b, 0x17, 0x22, 0x28, 0x28, 0x84, 0x7a, 0xdc, 0xea, 0xbb, 0x30, 0x98, 0x2d, 0x7b,
        0xd9, 0xea, 0x21, 0xbf, 0xbe, 0xe4, 0x51, 0x2a, 0x87, 0x0f, 0x93, 0x78, 0x0e, 0x68, 0xc5, 0x4a,
    };
    static const uint8_t key_up[28] = {
        0x3f, 0xda, 0xba, 0xf7, 0x7a, 0xa2, 0xcb, 0x39, 0xc5, 0xd0, 0x26, 0xf0, 0x0e, 0x23,
        0x25, 0xf9, 0xd5, 0xc1, 0x7d, 0xb7, 0x2a, 0xf2, 0x9f, 0xc0, 0xc2, 0x4a, 0x67, 0xc0,
    };
    json_t *j = load(doc_created_rtp);
    struct rp_contract_created c;
    decode_created_ok(j, &c);
    assert_string_equal(c.id, "c6bcaa90775c902ff8f653567e41ad66");
    assert_int_equal(c.media_port, 36138);
    assert_int_equal(c.ssrc_up, 3694866393u);
    assert_int_equal(c.ssrc_down, 2202199177u);
    assert_int_equal(c.pt, 0);
    assert_int_equal(c.clock_rate, 8000);
    assert_string_equal(c.codec, "pcmu");
    assert_int_equal(c.ptime_ms, 20);
    assert_int_equal(c.bitrate_bps, 64000);
    assert_int_equal(c.duration_s, 30);
    assert_int_equal(c.jitter_buffer_ms, 40);
    assert_string_equal(c.transport, "rtp");
    assert_string_equal(c.client, "127.0.0.1:45684");
    assert_int_equal(c.port_min, 36000);
    assert_int_equal(c.port_max, 36299);
    assert_false(c.keys.srtp);
    assert_memory_equal(c.keys.auth_key, auth_key, sizeof auth_key);
    json_t *again = rp_contract_created_encode(&c);
    assert_json_equal(j, again);
    json_decref(again);
    json_decref(j);

    j = load(doc_created_srtp);
    decode_created_ok(j, &c);
    assert_true(c.keys.srtp);
    assert_int_equal(c.keys.suite, RP_SRTP_AEAD_AES_128_GCM);
    assert_memory_equal(c.keys.key_up, key_up, sizeof key_up);
    assert_int_equal(c.pt, 111);
    again = rp_contract_created_encode(&c);
    assert_json_equal(j, again);
    json_decref(again);
    json_decref(j);
}

/* ---- loud failures ---- */

static json_t *upstream(json_t *j)
{
    return json_object_get(j, "upstream");
}

/* Decoding j fails, and the message contains `needle`. Consumes j. */
static void expect_session_failure(json_t *j, const char *needle)
{
    struct rp_contract_session s;
    char err[160] = "";
    int rc = rp_contract_session_decode(j, &s, err, sizeof err);
    json_decref(j);
    if (rc != -1)
        fail_msg("decode returned %d, want -1 with \"%s\"", rc, needle);
    if (!strstr(err, needle))
        fail_msg("error \"%s\" does not say \"%s\"", err, needle);
}

static void expect_created_failure(json_t *j, const char *needle)
{
    struct rp_contract_created c;
    char err[160] = "";
    int rc = rp_contract_created_decode(j, &c, err, sizeof err);
    json_decref(j);
    if (rc != -1)
        fail_msg("decode returned %d, want -1 with \"%s\"", rc, needle);
    if (!strstr(err, needle))
        fail_msg("error \"%s\" does not say \"%s\"", err, needle);
}

static void test_missing_jitter_key_fails_naming_it(void **state)
{
    (void)state;
    json_t *j = load(golden_session);
    assert_int_equal(json_object_del(upstream(j), "jitter_ms"), 0);
    expect_session_failure(j, "upstream.jitter_ms: missing");
}

static void test_jitter_as_string_is_not_a_number(void **state)
{
    (void)state;
    json_t *j = load(golden_session);
    json_object_set_new(upstream(j), "jitter_ms", json_string("2.25"));
    expect_session_failure(j, "upstream.jitter_ms: not a number");
}

static void test_negative_jitter_is_out_of_range(void **state)
{
    (void)state;
    json_t *j = load(golden_session);
    json_object_set_new(upstream(j), "jitter_ms", json_real(-0.5));
    expect_session_failure(j, "upstream.jitter_ms: out of range");
}

static void test_negative_loss_pct_is_allowed(void **state)
{
    (void)state;
    /* More unique packets than the probe says it sent: lost and loss_pct go negative. */
    json_t *j = load(golden_session);
    json_object_set_new(upstream(j), "lost", json_integer(-1));
    json_object_set_new(upstream(j), "loss_pct", json_real(-0.067));
    struct rp_contract_session s;
    decode_session_ok(j, &s);
    assert_true(s.up.rx.lost == -1);
    assert_true(s.up.rx.loss_pct == -0.067);
    json_decref(j);
}

static void test_fractional_count_is_not_an_integer(void **state)
{
    (void)state;
    json_t *j = load(golden_session);
    json_object_set_new(upstream(j), "received", json_real(1.5));
    expect_session_failure(j, "upstream.received: not an integer");
}

static void test_ssrc_beyond_32_bits_is_out_of_range(void **state)
{
    (void)state;
    json_t *j = load(golden_session);
    json_object_set_new(j, "ssrc_up", json_integer(4294967295LL));
    struct rp_contract_session s;
    decode_session_ok(j, &s);
    assert_int_equal(s.ssrc_up, 4294967295u);
    json_object_set_new(j, "ssrc_up", json_integer(4294967296LL));
    expect_session_failure(j, "ssrc_up: out of range");
}

static void test_negative_max_burst_is_out_of_range(void **state)
{
    (void)state;
    json_t *j = load(golden_session);
    json_object_set_new(upstream(j), "max_burst", json_integer(-1));
    expect_session_failure(j, "upstream.max_burst: out of range");
}

static void test_negative_counter_is_out_of_range(void **state)
{
    (void)state;
    json_t *j = load(golden_session);
    json_object_set_new(json_object_get(upstream(j), "dropped"), "replay", json_integer(-3));
    expect_session_failure(j, "upstream.dropped.replay: out of range");
}

static void test_missing_counter_in_a_counts_object_fails_naming_it(void **state)
{
    (void)state;
    json_t *j = load(golden_session);
    json_t *rtp = json_object_get(json_object_get(upstream(j), "malformed"), "rtp");
    assert_int_equal(json_object_del(rtp, "bad_padding"), 0);
    expect_session_failure(j, "upstream.malformed.rtp.bad_padding");
}

static void test_missing_upstream_object_fails_naming_it(void **state)
{
    (void)state;
    json_t *j = load(golden_session);
    assert_int_equal(json_object_del(j, "upstream"), 0);
    expect_session_failure(j, "upstream: missing");

    j = load(golden_session);
    json_object_set_new(j, "upstream", json_array());
    expect_session_failure(j, "upstream: not an object");
}

static void test_wrong_types_fail_naming_the_key(void **state)
{
    (void)state;
    json_t *j = load(golden_session);
    json_object_set_new(upstream(j), "reply_only", json_integer(1));
    expect_session_failure(j, "upstream.reply_only: not a boolean");

    j = load(golden_session);
    json_object_set_new(j, "client", json_null()); /* only the address fields may be null */
    expect_session_failure(j, "client: not a string");

    j = load(golden_session);
    json_object_set_new(j, "state", json_string("sending-and-more")); /* 16 chars: no room */
    expect_session_failure(j, "state: too long");

    j = load(golden_session);
    json_object_set_new(j, "ptime_ms", json_string("20"));
    expect_session_failure(j, "ptime_ms: not an integer");

    expect_session_failure(json_array(), "not a JSON object");
}

static void test_created_id_must_be_the_daemons_form(void **state)
{
    (void)state;
    assert_true(rp_contract_id_valid("c6bcaa90775c902ff8f653567e41ad66"));
    assert_false(rp_contract_id_valid(NULL));
    static const char *const bad_ids[] = {
        "c6bcaa90775c902ff8f653567e41ad\r\n",  /* 32 bytes ending in CR LF */
        "c6bcaa90775c902ff8f653567e41ad661",   /* 33 hex digits */
        "C6BCAA90775C902FF8F653567E41AD66",    /* uppercase */
        "c6bcaa90775c902ff8f653567e41ad6",     /* 31 */
        "",
    };
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        json_t *j = load(doc_created_rtp);
        json_object_set_new(j, "id", json_string(bad_ids[i]));
        expect_created_failure(j, "id: ");
    }
}

static void test_created_media_port_must_be_a_port(void **state)
{
    (void)state;
    json_t *j = load(doc_created_rtp);
    json_object_set_new(j, "media_port", json_integer(0));
    expect_created_failure(j, "media_port: out of range");

    j = load(doc_created_rtp);
    json_object_set_new(j, "media_port", json_integer(70000));
    expect_created_failure(j, "media_port: out of range");

    j = load(doc_created_rtp);
    json_object_set_new(j, "port_max", json_integer(65536));
    expect_created_failure(j, "port_max: out of range");
}

static void test_created_auth_key_must_be_256_bits(void **state)
{
    (void)state;
    static const char *const bad_keys[] = {
        "UH1bFyIoKIR63Oq7MJgte9nqIb++5FEqhw+TeA5oxQ==",   /* 31 bytes */
        "UH1bFyIoKIR63Oq7MJgte9nqIb++5FEqhw+TeA5oxUo",    /* unpadded */
        "UH1bFyIoKIR63Oq7MJgte9nqIb++5FEqhw+TeA5oxUo=AAAA", /* 35 bytes */
        "UH1bFyIoKIR63Oq7MJgte9nqIb++5FEqhw+TeA5ox!o=",   /* not base64 */
        "UH1bFyIoKIR63Oq7MJgte9nqIb++5FEqhw+TeA5oxUo ",   /* padding replaced by a space */
    };
    for (size_t i = 0; i < sizeof bad_keys / sizeof bad_keys[0]; i++) {
        json_t *j = load(doc_created_rtp);
        json_object_set_new(j, "auth_key", json_string(bad_keys[i]));
        expect_created_failure(j, "auth_key: ");
    }
    json_t *j = load(doc_created_rtp);
    json_object_del(j, "auth_key");
    expect_created_failure(j, "auth_key: missing");
}

static void test_created_srtp_keys_must_fit_the_suite(void **state)
{
    (void)state;
    /* The document's 28-byte AEAD_AES_128_GCM keys under suites of 44 and 30 bytes. */
    json_t *j = load(doc_created_srtp);
    json_object_set_new(json_object_get(j, "srtp"), "suite", json_string("AEAD_AES_256_GCM"));
    expect_created_failure(j, "srtp.key_up");

    j = load(doc_created_srtp);
    json_object_set_new(json_object_get(j, "srtp"), "suite", json_string("AES_CM_128_HMAC_SHA1_80"));
    expect_created_failure(j, "srtp.key_up");

    j = load(doc_created_srtp);
    json_object_set_new(json_object_get(j, "srtp"), "key_down",
                        json_string("inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR")); /* 30 bytes */
    expect_created_failure(j, "srtp.key_down");

    j = load(doc_created_srtp);
    json_object_set_new(json_object_get(j, "srtp"), "suite", json_string("NULL"));
    expect_created_failure(j, "srtp.suite");
}

static void test_created_numbers_must_fit_their_field(void **state)
{
    (void)state;
    static const struct { const char *key; json_int_t value; } bad[] = {
        { "bitrate_bps", 0 },          /* once reported as "out of memory" */
        { "bitrate_bps", 510001 },
        { "ptime_ms", 0 },
        { "ptime_ms", 4294967295LL },
        { "pt", 128 },
        { "clock_rate", 0 },
        { "clock_rate", 96000 },
        { "duration_s", 0 },
        { "jitter_buffer_ms", 1001 },
        { "ssrc_up", (json_int_t)1 << 40 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *j = load(doc_created_rtp);
        json_object_set_new(j, bad[i].key, json_integer(bad[i].value));
        char needle[64];
        snprintf(needle, sizeof needle, "%s: out of range", bad[i].key);
        expect_created_failure(j, needle);
    }
}

static void test_huge_figures_are_out_of_range(void **state)
{
    (void)state;
    json_t *j = load(golden_session);
    json_object_set_new(upstream(j), "jitter_ms", json_real(1e300));
    expect_session_failure(j, "upstream.jitter_ms: out of range");

    j = load(golden_session);
    json_object_set_new(upstream(j), "loss_pct", json_real(-1e300));
    expect_session_failure(j, "upstream.loss_pct: out of range");

    j = load(golden_session);
    json_object_set_new(j, "ptime_ms", json_integer(0));
    expect_session_failure(j, "ptime_ms: out of range");
}

static void test_strings_with_control_characters_are_refused(void **state)
{
    (void)state;
    json_t *j = load(golden_session);
    json_object_set_new(j, "latched", json_string("203.0.113.4:5004\x1b[2J"));
    expect_session_failure(j, "latched: holds control characters");

    j = load(doc_created_rtp);
    json_object_set_new(j, "client", json_string("198.51.100.7:443\r\nX: 1"));
    expect_created_failure(j, "client: holds control characters");
}

static void test_session_id_must_be_the_daemons_form(void **state)
{
    (void)state;
    json_t *j = load(golden_session);
    json_object_set_new(j, "id", json_string("fedcba9876543210fedcba98765432\r\n"));
    expect_session_failure(j, "id: ");
}

/* The golden document's figures, against what the probe itself knows. */
static void expect_contradiction(const struct rp_contract_session *s, const struct rp_contract_truth *t,
                                 const char *needle)
{
    char err[192] = "";
    assert_int_equal(rp_contract_session_consistent(s, t, err, sizeof err), -1);
    if (!strstr(err, needle))
        fail_msg("error \"%s\" does not say \"%s\"", err, needle);
}

static void test_contradicting_figures_are_refused(void **state)
{
    (void)state;
    struct rp_contract_session s;
    fill_session(&s);
    char err[192] = "";
    /* fill_session: received 1001, accepted 1008, downstream sent 6001. */
    /* Long enough a session for its 6001 downstream packets: (200000 + 5000) / 30. */
    s.duration_s = 200;
    assert_int_equal(rp_contract_down_budget(200, 30), 6833);
    struct rp_contract_truth ok = { .id = s.id, .up_sent = 1001, .down_received = 6001, .down_sent_seen = 6001,
                                    .down_budget = rp_contract_down_budget(200, 30) };
    assert_int_equal(rp_contract_session_consistent(&s, &ok, err, sizeof err), 0);

    struct rp_contract_truth t = ok;
    t.up_sent = 1000;
    expect_contradiction(&s, &t, "upstream.received 1001 is more than the 1000 packets the probe sent");
    t = ok;
    t.down_received = 6002;
    expect_contradiction(&s, &t, "downstream.sent 6001 is less than the 6002 packets the probe received");
    t = ok;
    t.down_received = 6000;
    t.down_sent_seen = 6002;
    expect_contradiction(&s, &t, "downstream.sent 6001 is less than the 6002 packets the probe saw counted in them");
    t = ok;
    t.down_budget = 6000;
    expect_contradiction(&s, &t, "downstream.sent 6001 is more than the 6000 packets the session may send");
    t = ok;
    t.id = "00112233445566778899aabbccddeeff";
    expect_contradiction(&s, &t, "the figures are for session fedcba98");
    s.up.accepted = 1000;
    expect_contradiction(&s, &ok, "upstream.received 1001 is more than upstream.accepted 1000");
}

/* downstream.skipped travels both ways and is required (a figure, not an option). */
static void test_skipped_round_trips_and_is_required(void **state)
{
    (void)state;
    struct rp_contract_session in, out;
    fill_session(&in);
    in.down.skipped = 812;
    json_t *j = rp_contract_session_encode(&in);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "downstream"), "skipped")), 812);
    decode_session_ok(j, &out);
    assert_int_equal(out.down.skipped, 812);
    assert_memory_equal(&out, &in, sizeof in);
    json_object_del(json_object_get(j, "downstream"), "skipped");
    expect_session_failure(j, "downstream.skipped");
}

/* Skipped slots count with the sent ones against the in-band count and the budget. */
static void test_skipped_slots_count_in_the_consistency_checks(void **state)
{
    (void)state;
    struct rp_contract_session s;
    fill_session(&s);
    s.duration_s = 200;
    s.down.sent = 5000;
    s.down.skipped = 1001;
    char err[192] = "";
    struct rp_contract_truth ok = { .id = s.id, .up_sent = 1001, .down_received = 5000, .down_sent_seen = 6001,
                                    .down_budget = rp_contract_down_budget(200, 30) };
    assert_int_equal(rp_contract_session_consistent(&s, &ok, err, sizeof err), 0);
    struct rp_contract_truth t = ok;
    t.down_sent_seen = 6002;
    expect_contradiction(&s, &t, "downstream.sent 5000 + skipped 1001 is less than the 6002 packets the probe saw");
    t = ok;
    t.down_budget = 6000;
    expect_contradiction(&s, &t, "downstream.sent 5000 + skipped 1001 is more than the 6000 packets the session may");
    t = ok;
    t.down_received = 5001;
    expect_contradiction(&s, &t, "downstream.sent 5000 is less than the 5001 packets the probe received");
}

/* ---- upstream.per_second (optional) ---- */

static struct rp_second three_seconds[3] = {
    { .packets = 50, .lost = 0, .late = 1, .late_adaptive = 2, .jitter_ms = 0.375, .delay_ms = 0.125 },
    { .packets = 0, .lost = 50, .late = 0, .late_adaptive = 0, .jitter_ms = 0.375, .delay_ms = NAN },
    { .packets = 49, .lost = 1, .late = 3, .late_adaptive = 4, .jitter_ms = 1.5, .delay_ms = 12.25 },
};

static void assert_seconds_equal(const struct rp_second *a, const struct rp_second *b, size_t n)
{
    for (size_t t = 0; t < n; t++) {
        assert_int_equal(a[t].packets, b[t].packets);
        assert_int_equal(a[t].lost, b[t].lost);
        assert_int_equal(a[t].late, b[t].late);
        assert_int_equal(a[t].late_adaptive, b[t].late_adaptive);
        assert_true(a[t].jitter_ms == b[t].jitter_ms);
        assert_true(isnan(a[t].delay_ms) ? isnan(b[t].delay_ms) : a[t].delay_ms == b[t].delay_ms);
    }
}

static void test_per_second_round_trips_and_is_optional(void **state)
{
    (void)state;
    struct rp_contract_session in, out;
    fill_session(&in);
    json_t *j = rp_contract_session_encode(&in);
    assert_null(json_object_get(json_object_get(j, "upstream"), "per_second")); /* not asked for: no key */
    decode_session_ok(j, &out);
    assert_false(out.up.has_per_second);
    assert_null(out.up.per_second);
    json_decref(j);

    in.up.has_per_second = true;
    in.up.per_second = three_seconds;
    in.up.nseconds = 3;
    j = rp_contract_session_encode(&in);
    json_t *a = json_object_get(json_object_get(j, "upstream"), "per_second");
    assert_int_equal(json_array_size(a), 3);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(a, 2), "t")), 2);
    assert_true(json_is_null(json_object_get(json_array_get(a, 1), "delay_ms")));
    decode_session_ok(j, &out);
    assert_true(out.up.has_per_second);
    assert_int_equal(out.up.nseconds, 3);
    assert_seconds_equal(out.up.per_second, three_seconds, 3);
    rp_contract_session_release(&out);
    assert_null(out.up.per_second);
    json_decref(j);

    /* An empty series is a key with [], not no key. */
    in.up.nseconds = 0;
    j = rp_contract_session_encode(&in);
    assert_int_equal(json_array_size(json_object_get(json_object_get(j, "upstream"), "per_second")), 0);
    decode_session_ok(j, &out);
    assert_true(out.up.has_per_second);
    rp_contract_session_release(&out);
    json_decref(j);
}

static void test_per_second_is_written_from_the_daemons_statistics(void **state)
{
    (void)state;
    struct rp_rxstats *rx = rp_rxstats_new(8000, 40);
    assert_non_null(rx);
    assert_int_equal(rp_rxstats_series_enable(rx, 20, 10), 0);
    rp_rxstats_set_first_seq(rx, 500);
    for (uint32_t i = 0; i < 120; i++)
        if (i != 70)
            rp_rxstats_add(rx, (uint16_t)(500 + i), i * 160u, 1000000000ull + i * 20000000ull, 214);
    struct rp_contract_session in, out;
    fill_session(&in);
    in.up.series = rx;
    in.up.sent_by_probe = 150; /* 30 more sent and lost at the end */
    json_t *j = rp_contract_session_encode(&in);
    assert_non_null(j);
    decode_session_ok(j, &out);
    assert_int_equal(out.up.nseconds, 3);
    assert_int_equal(out.up.per_second[0].packets, 50);
    assert_int_equal(out.up.per_second[1].packets, 49);
    assert_int_equal(out.up.per_second[1].lost, 1);
    assert_int_equal(out.up.per_second[2].packets, 20);
    assert_int_equal(out.up.per_second[2].lost, 30);
    rp_contract_session_release(&out);
    json_decref(j);
    rp_rxstats_free(rx);
}

/* A broken entry fails the document, naming it; nothing leaks (ASan). */
static void expect_bad_second(const char *key, json_t *value, const char *needle)
{
    struct rp_contract_session in, out;
    fill_session(&in);
    in.up.has_per_second = true;
    in.up.per_second = three_seconds;
    in.up.nseconds = 3;
    json_t *j = rp_contract_session_encode(&in);
    json_t *a = json_object_get(json_object_get(j, "upstream"), "per_second");
    if (key)
        json_object_set_new(json_array_get(a, 1), key, value);
    else
        json_object_set_new(json_object_get(j, "upstream"), "per_second", value);
    char err[160] = "";
    assert_int_equal(rp_contract_session_decode(j, &out, err, sizeof err), -1);
    rp_contract_session_release(&out);
    if (!strstr(err, needle))
        fail_msg("error \"%s\" does not say \"%s\"", err, needle);
    json_decref(j);
}

static void test_broken_per_second_fails_naming_the_entry(void **state)
{
    (void)state;
    expect_bad_second("t", json_integer(2), "upstream.per_second[1].t");
    expect_bad_second("lost", json_integer(-1), "upstream.per_second[1].lost");
    expect_bad_second("packets", json_real(1.5), "upstream.per_second[1].packets");
    expect_bad_second("jitter_ms", json_null(), "upstream.per_second[1].jitter_ms");
    expect_bad_second("delay_ms", json_string("0"), "upstream.per_second[1].delay_ms");
    expect_bad_second(NULL, json_object(), "upstream.per_second: not an array");
    json_t *big = json_array();
    for (int i = 0; i < 3601; i++)
        json_array_append_new(big, json_object());
    expect_bad_second(NULL, big, "at most 3600");
}

static void test_per_second_beyond_the_totals_is_a_contradiction(void **state)
{
    (void)state;
    struct rp_contract_session s;
    fill_session(&s);
    s.duration_s = 200;
    s.up.rx.received = 99;
    s.up.rx.lost = 51;
    s.up.per_second = three_seconds; /* 99 packets, 51 lost */
    s.up.nseconds = 3;
    struct rp_contract_truth ok = { .id = s.id, .up_sent = 1001, .down_received = 6001, .down_sent_seen = 6001,
                                    .down_budget = rp_contract_down_budget(200, 30) };
    char err[192] = "";
    assert_int_equal(rp_contract_session_consistent(&s, &ok, err, sizeof err), 0);
    s.up.rx.received = 98;
    expect_contradiction(&s, &ok, "upstream.per_second counts more packets or losses");
    s.up.rx.received = 99;
    s.up.rx.lost = 50;
    expect_contradiction(&s, &ok, "upstream.per_second counts more packets or losses");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_skipped_round_trips_and_is_required),
        cmocka_unit_test(test_skipped_slots_count_in_the_consistency_checks),
        cmocka_unit_test(test_session_round_trips_every_field),
        cmocka_unit_test(test_unset_addresses_travel_as_null),
        cmocka_unit_test(test_created_round_trips_with_hmac_key),
        cmocka_unit_test(test_created_round_trips_with_srtp_keys),
        cmocka_unit_test(test_golden_document_decodes_to_its_fields),
        cmocka_unit_test(test_golden_document_encodes_back_unchanged),
        cmocka_unit_test(test_documented_session_answer_decodes_and_encodes_unchanged),
        cmocka_unit_test(test_documented_created_answers_decode_and_encode_unchanged),
        cmocka_unit_test(test_missing_jitter_key_fails_naming_it),
        cmocka_unit_test(test_jitter_as_string_is_not_a_number),
        cmocka_unit_test(test_negative_jitter_is_out_of_range),
        cmocka_unit_test(test_negative_loss_pct_is_allowed),
        cmocka_unit_test(test_fractional_count_is_not_an_integer),
        cmocka_unit_test(test_ssrc_beyond_32_bits_is_out_of_range),
        cmocka_unit_test(test_negative_max_burst_is_out_of_range),
        cmocka_unit_test(test_negative_counter_is_out_of_range),
        cmocka_unit_test(test_missing_counter_in_a_counts_object_fails_naming_it),
        cmocka_unit_test(test_missing_upstream_object_fails_naming_it),
        cmocka_unit_test(test_wrong_types_fail_naming_the_key),
        cmocka_unit_test(test_created_id_must_be_the_daemons_form),
        cmocka_unit_test(test_created_media_port_must_be_a_port),
        cmocka_unit_test(test_created_auth_key_must_be_256_bits),
        cmocka_unit_test(test_created_srtp_keys_must_fit_the_suite),
        cmocka_unit_test(test_created_numbers_must_fit_their_field),
        cmocka_unit_test(test_huge_figures_are_out_of_range),
        cmocka_unit_test(test_session_id_must_be_the_daemons_form),
        cmocka_unit_test(test_strings_with_control_characters_are_refused),
        cmocka_unit_test(test_contradicting_figures_are_refused),
        cmocka_unit_test(test_per_second_round_trips_and_is_optional),
        cmocka_unit_test(test_per_second_is_written_from_the_daemons_statistics),
        cmocka_unit_test(test_broken_per_second_fails_naming_the_entry),
        cmocka_unit_test(test_per_second_beyond_the_totals_is_a_contradiction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
