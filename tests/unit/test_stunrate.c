/* The daemon's STUN answer budget (stun.rate): rp_stunrate_answer answers as
 * rp_stun_answer does, within a per-source-IP token bucket that only answers
 * draw on. */
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

#define MS 1000000ull
#define T0 (1000ull * 1000 * MS) /* an arbitrary monotonic origin */
#define RATE 20                  /* stun.rate's default; the daemon's burst is the same */

static const uint8_t txid[RP_STUN_TXID_LEN] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2 };

static void addr(const char *s, struct sockaddr_storage *ss)
{
    socklen_t len;
    assert_int_equal(rp_addr_parse(s, 0, ss, &len), 0);
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
        cmocka_unit_test(test_flood_at_one_source_is_capped_and_others_are_unaffected),
        cmocka_unit_test(test_requests_not_answered_take_no_token),
        cmocka_unit_test(test_no_limiter_answers_everything),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
