/* The stun.listen server: the answering policy it applies (rp_stun_answer:
 * answer well-formed Binding requests with the source address, never with
 * more bytes than the request) and its set-up. The per-source answer budget
 * is in test_stunrate.c. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "netaddr.h"
#include "stun.h"
#include "stunsrv.h"

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

/* A stun.listen that is not IP:port is refused before any socket is opened,
 * with the text the daemon logs. */
static void test_listen_that_is_not_an_address_is_refused(void **state)
{
    (void)state;
    char err[128] = "";
    errno = 0;
    assert_null(rp_stunsrv_new(NULL, "nope", NULL, err, sizeof err));
    assert_int_equal(errno, EINVAL);
    assert_string_equal(err, "stun.listen \"nope\" is not IP:port");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_padded_request_is_answered_with_the_source_address),
        cmocka_unit_test(test_minimal_request_is_not_answered_because_the_answer_is_larger),
        cmocka_unit_test(test_responses_and_garbage_are_not_answered),
        cmocka_unit_test(test_unknown_comprehension_required_attribute_gets_no_answer),
        cmocka_unit_test(test_listen_that_is_not_an_address_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
