/* Echo policy and address prefixes: only allowed sources, only RTP, within the rate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "echo.h"
#include "netaddr.h"
#include "ratelimit.h"
#include "rtp.h"

#define S 1000000000ull

static void addr(const char *s, struct sockaddr_storage *ss)
{
    socklen_t len;
    assert_int_equal(rp_addr_parse(s, 0, ss, &len), 0);
}

static void test_cidr_prefixes_match_by_bits(void **state)
{
    (void)state;
    struct rp_cidr c;
    struct sockaddr_storage a;
    assert_int_equal(rp_cidr_parse("198.18.0.0/15", &c), 0);
    addr("198.19.255.255:1", &a);
    assert_true(rp_cidr_match(&c, (struct sockaddr *)&a));
    addr("198.20.0.0:1", &a);
    assert_false(rp_cidr_match(&c, (struct sockaddr *)&a));
    addr("[::ffff:198.18.3.4]:1", &a);
    assert_true(rp_cidr_match(&c, (struct sockaddr *)&a));
    assert_int_equal(rp_cidr_parse("2001:db8::/32", &c), 0);
    addr("[2001:db8:ffff::1]:1", &a);
    assert_true(rp_cidr_match(&c, (struct sockaddr *)&a));
    addr("[2001:db9::1]:1", &a);
    assert_false(rp_cidr_match(&c, (struct sockaddr *)&a));
    assert_int_equal(rp_cidr_parse("10.0.0.1", &c), 0);
    assert_int_equal(c.bits, 32);
    assert_int_equal(rp_cidr_parse("10.0.0.0/33", &c), -1);
    assert_int_equal(rp_cidr_parse("10.0.0.0/", &c), -1);
    assert_int_equal(rp_cidr_parse("host.example/8", &c), -1);
}

static void test_echo_only_rtp_from_allowed_sources_within_rate(void **state)
{
    (void)state;
    struct rp_config cfg;
    rp_config_defaults(&cfg);
    cfg.necho_allow = 1;
    assert_int_equal(rp_cidr_parse("127.0.0.0/8", &cfg.echo_allow[0]), 0);
    cfg.echo_rate = 10;
    struct rp_ratelimit *rl = rp_ratelimit_new(16, cfg.echo_rate, 2.0 * cfg.echo_rate);
    struct sockaddr_storage in, out;
    addr("127.0.0.1:5000", &in);
    addr("192.0.2.1:5000", &out);
    uint8_t rtp[RP_RTP_MAX_PKT], payload[160] = { 0 };
    struct rp_rtp_hdr h = { .pt = 0, .seq = 1, .ssrc = 1 };
    size_t n = rp_rtp_build(rtp, sizeof rtp, &h, 0, NULL, 0, payload, sizeof payload);
    uint8_t junk[64];
    memset(junk, 0x01, sizeof junk);

    assert_int_equal(rp_echo_check(&cfg, rl, rtp, n, (struct sockaddr *)&out, S), RP_ECHO_DROP_NOT_ALLOWED);
    assert_int_equal(rp_echo_check(&cfg, rl, junk, sizeof junk, (struct sockaddr *)&in, S), RP_ECHO_DROP_NOT_RTP);
    /* Burst of 2 x rate, then refilled at `rate` per second. */
    unsigned sent = 0;
    for (int i = 0; i < 100; i++)
        sent += rp_echo_check(&cfg, rl, rtp, n, (struct sockaddr *)&in, S) == RP_ECHO_ANSWER;
    assert_int_equal(sent, 20);
    assert_int_equal(rp_echo_check(&cfg, rl, rtp, n, (struct sockaddr *)&in, S + S / 10 + 1), RP_ECHO_ANSWER);
    assert_int_equal(rp_echo_check(&cfg, rl, rtp, n, (struct sockaddr *)&in, S + S / 10 + 1), RP_ECHO_DROP_RATE);
    /* Nobody is allowed when echo.allow is empty. */
    cfg.necho_allow = 0;
    assert_int_equal(rp_echo_check(&cfg, rl, rtp, n, (struct sockaddr *)&in, 5 * S), RP_ECHO_DROP_NOT_ALLOWED);
    rp_ratelimit_free(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cidr_prefixes_match_by_bits),
        cmocka_unit_test(test_echo_only_rtp_from_allowed_sources_within_rate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
