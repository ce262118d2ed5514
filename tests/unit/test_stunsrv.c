/* The STUN answering policy: answer well-formed Binding requests with the
 * source address, never with more bytes than the request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "netaddr.h"
#include "ratelimit.h"
#include "stun.h"
#include "stunrate.h"
#include "stunsrv.h"

#define MS 1000000ull
#define T0 (1000ull * 1000 * MS) /* an arbitrary monotonic origin */
#define RATE 20                  /* stun.rate's default; the daemon's burst is the same */

static const uint8_t txid[RP_STUN_TXID_LEN] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2 };

static void addr(const char *s, struct sockaddr_storage *ss)
{
    socklen_t len;
    assert_int_equal(rp_addr_parse(s, 0, ss, &len), 0);
}

static void test_padded_request_is_answered_with_the_source_address(void **state)
{
    (void)state;
    struct sockaddr_storage from;
    addr("198.18.1.2:40000", &from);
    uint8_t req[128], resp[256];
    size_t n = rp_stun_build_request(req, sizeof req, txid, 64), rlen = 0;
    assert_int_equal(rp_stun_answer(req, n, (struct sockaddr *)&from, resp, sizeof resp, &rlen), RP_STUN_ANSWERED);
    assert_true(rlen <= n);
    struct rp_stun_msg msg;
    assert_int_equal(rp_stun_parse(resp, rlen, &msg), RP_STUN_OK);
    assert_int_equal(msg.type, RP_STUN_BINDING_SUCCESS);
    assert_memory_equal(msg.txid, txid, sizeof txid);
    assert_true(msg.has_mapped);
    assert_true(rp_addr_equal((struct sockaddr *)&msg.mapped, (struct sockaddr *)&from));
}

static void test_minimal_request_is_not_answered_because_the_answer_is_larger(void **state)
{
    (void)state;
    struct sockaddr_storage from;
    addr("198.18.1.2:40000", &from);
    /* A bare 20-byte Binding request, as many clients send: answering it would amplify. */
    uint8_t req[20] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42 };
    memcpy(req + 8, txid, sizeof txid);
    uint8_t resp[256];
    size_t rlen = 0;
    assert_int_equal(rp_stun_answer(req, sizeof req, (struct sockaddr *)&from, resp, sizeof resp, &rlen),
                     RP_STUN_DROP_TOO_SMALL);
    /* 40 bytes suffice for IPv4, not for IPv6 (52). */
    uint8_t req40[64];
    size_t n = rp_stun_build_request(req40, sizeof req40, txid, 40);
    assert_int_equal(n, 40);
    assert_int_equal(rp_stun_answer(req40, n, (struct sockaddr *)&from, resp, sizeof resp, &rlen), RP_STUN_ANSWERED);
    struct sockaddr_storage from6;
    addr("[2001:db8::1]:40000", &from6);
    assert_int_equal(rp_stun_answer(req40, n, (struct sockaddr *)&from6, resp, sizeof resp, &rlen),
                     RP_STUN_DROP_TOO_SMALL);
}

static void test_responses_and_garbage_are_not_answered(void **state)
{
    (void)state;
    struct sockaddr_storage from;
    addr("198.18.1.2:40000", &from);
    uint8_t resp[256], other[256];
    size_t rlen;
    size_t n = rp_stun_build_response(other, sizeof other, txid, (struct sockaddr *)&from);
    assert_int_equal(rp_stun_answer(other, n, (struct sockaddr *)&from, resp, sizeof resp, &rlen),
                     RP_STUN_DROP_NOT_REQUEST);
    memset(other, 0x01, sizeof other);
    assert_int_equal(rp_stun_answer(other, 64, (struct sockaddr *)&from, resp, sizeof resp, &rlen),
                     RP_STUN_DROP_MALFORMED);
}

static void test_unknown_comprehension_required_attribute_gets_no_answer(void **state)
{
    (void)state;
    struct sockaddr_storage from;
    addr("198.18.1.2:40000", &from);
    /* Binding request with PRIORITY (0x0024, ICE, comprehension-required, not ours)
     * and a 36-byte SOFTWARE: 68 bytes, large enough to deserve an answer. */
    uint8_t req[68] = { 0x00, 0x01, 0x00, 0x30, 0x21, 0x12, 0xa4, 0x42 };
    memcpy(req + 8, txid, sizeof txid);
    static const uint8_t attrs[] = { 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff, 0x80, 0x22, 0x00, 0x24 };
    memcpy(req + 20, attrs, sizeof attrs);
    memset(req + 32, 'a', 36);
    uint8_t resp[256];
    size_t rlen = 0;
    assert_int_equal(rp_stun_answer(req, sizeof req, (struct sockaddr *)&from, resp, sizeof resp, &rlen),
                     RP_STUN_DROP_UNKNOWN_ATTR);
}

/* One padded Binding request from `from_text` at `now`, through the limiter;
 * an answer must carry that very address. */
static enum rp_stun_verdict ask(struct rp_ratelimit *rl, uint64_t now, const char *from_text)
{
    struct sockaddr_storage from;
    addr(from_text, &from);
    uint8_t req[128], resp[256];
    size_t n = rp_stun_build_request(req, sizeof req, txid, 64), rlen = 0;
    enum rp_stun_verdict v =
        rp_stunrate_answer(rl, now, req, n, (struct sockaddr *)&from, resp, sizeof resp, &rlen);
    if (v == RP_STUN_ANSWERED) {
        struct rp_stun_msg msg;
        assert_true(rlen > 0 && rlen <= n);
        assert_int_equal(rp_stun_parse(resp, rlen, &msg), RP_STUN_OK);
        assert_true(rp_addr_equal((struct sockaddr *)&msg.mapped, (struct sockaddr *)&from));
    }
    return v;
}

/* A spoofed flood at one victim address (1000 requests/s for 5 s, from
 * ever-changing ports: the limit is per IP) gets at most RATE x t + burst
 * answers at every instant; a bystander asking 10 times a second meanwhile
 * gets every answer; one quiet second later the victim's IP, from another
 * port (a probe behind the same NAT), is answered again, a full burst. */
static void test_flood_at_one_source_is_capped_and_others_are_unaffected(void **state)
{
    (void)state;
    struct rp_ratelimit *rl = rp_ratelimit_new(256, RATE, RATE);
    assert_non_null(rl);
    unsigned answered = 0, refused = 0, bystander = 0;
    char from[64];
    for (uint64_t ms = 0; ms < 5000; ms++) {
        uint64_t now = T0 + ms * MS;
        snprintf(from, sizeof from, "198.18.1.2:%u", 20000 + (unsigned)(ms % 40000));
        enum rp_stun_verdict v = ask(rl, now, from);
        assert_true(v == RP_STUN_ANSWERED || v == RP_STUN_DROP_RATE);
        answered += v == RP_STUN_ANSWERED;
        refused += v == RP_STUN_DROP_RATE;
        /* never ahead of the bucket: answered <= burst + RATE x elapsed */
        assert_true((uint64_t)answered * 1000 <= (uint64_t)RATE * 1000 + (uint64_t)RATE * ms);
        if (ms % 100 == 50)
            bystander += ask(rl, now, "198.18.1.3:40000") == RP_STUN_ANSWERED;
    }
    /* 20 at once, then one every 50 ms: 20 + 99.98 tokens in all */
    assert_in_range(answered, RATE + RATE * 5 - 2, RATE + RATE * 5);
    assert_int_equal(answered + refused, 5000);
    assert_int_equal(bystander, 50);

    uint64_t later = T0 + 6000 * MS;
    for (unsigned i = 0; i < RATE; i++)
        assert_int_equal(ask(rl, later, "198.18.1.2:50000"), RP_STUN_ANSWERED);
    assert_int_equal(ask(rl, later, "198.18.1.2:50001"), RP_STUN_DROP_RATE);
    assert_int_equal(ask(rl, later + 50 * MS, "198.18.1.2:50002"), RP_STUN_ANSWERED);
    rp_ratelimit_free(rl);
}

/* Only answers take a token: junk and requests too small to answer from the
 * same address do not eat the budget of a real probe behind it. */
static void test_requests_not_answered_take_no_token(void **state)
{
    (void)state;
    struct rp_ratelimit *rl = rp_ratelimit_new(256, RATE, RATE);
    assert_non_null(rl);
    struct sockaddr_storage from;
    addr("198.18.1.2:40000", &from);
    uint8_t bare[20] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42 }, junk[64], resp[256];
    memset(junk, 0x01, sizeof junk);
    size_t rlen;
    for (unsigned i = 0; i < 1000; i++) {
        assert_int_equal(rp_stunrate_answer(rl, T0, bare, sizeof bare, (struct sockaddr *)&from, resp, sizeof resp,
                                            &rlen),
                         RP_STUN_DROP_TOO_SMALL);
        assert_int_equal(rp_stunrate_answer(rl, T0, junk, sizeof junk, (struct sockaddr *)&from, resp, sizeof resp,
                                            &rlen),
                         RP_STUN_DROP_MALFORMED);
    }
    for (unsigned i = 0; i < RATE; i++)
        assert_int_equal(ask(rl, T0, "198.18.1.2:40000"), RP_STUN_ANSWERED);
    assert_int_equal(ask(rl, T0, "198.18.1.2:40000"), RP_STUN_DROP_RATE);
    assert_string_equal(rp_stun_verdict_name(RP_STUN_DROP_RATE), "rate");
    rp_ratelimit_free(rl);
}

/* Without a limiter (NULL) every good request is answered, as before stun.rate. */
static void test_no_limiter_answers_everything(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 1000; i++)
        assert_int_equal(ask(NULL, T0, "198.18.1.2:40000"), RP_STUN_ANSWERED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_padded_request_is_answered_with_the_source_address),
        cmocka_unit_test(test_minimal_request_is_not_answered_because_the_answer_is_larger),
        cmocka_unit_test(test_responses_and_garbage_are_not_answered),
        cmocka_unit_test(test_unknown_comprehension_required_attribute_gets_no_answer),
        cmocka_unit_test(test_flood_at_one_source_is_capped_and_others_are_unaffected),
        cmocka_unit_test(test_requests_not_answered_take_no_token),
        cmocka_unit_test(test_no_limiter_answers_everything),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
