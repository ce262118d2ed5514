/* Hex text for bytes (rp_hex_encode / rp_hex_decode): ids, keys and token hashes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "wire.h"

static const uint8_t bytes[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xcd, 0xef, 0xff };
static const char bytes_hex[] = "00017f80abcdefff";

static void test_encode_writes_lowercase_digits_and_nul(void **state)
{
    (void)state;
    char out[2 * sizeof bytes + 1];
    memset(out, 'x', sizeof out);
    assert_int_equal(rp_hex_encode(bytes, sizeof bytes, out, sizeof out), 0);
    assert_string_equal(out, bytes_hex);
    char empty[1] = { 'x' };
    assert_int_equal(rp_hex_encode(bytes, 0, empty, sizeof empty), 0);
    assert_string_equal(empty, "");
}

static void test_encode_refuses_a_short_buffer_without_truncating(void **state)
{
    (void)state;
    char out[2 * sizeof bytes + 1];
    memset(out, 'x', sizeof out);
    /* one byte short of the NUL: nothing half-written that reads as an id */
    assert_int_equal(rp_hex_encode(bytes, sizeof bytes, out, sizeof out - 1), -1);
    assert_string_equal(out, "");
    assert_int_equal(rp_hex_encode(bytes, 1, out, 0), -1);
    assert_int_equal(out[0], '\0');
}

static void test_decode_then_encode_round_trips(void **state)
{
    (void)state;
    uint8_t b[sizeof bytes];
    char s[sizeof bytes_hex];
    assert_int_equal(rp_hex_decode(bytes_hex, b, sizeof b), 0);
    assert_memory_equal(b, bytes, sizeof b);
    assert_int_equal(rp_hex_encode(b, sizeof b, s, sizeof s), 0);
    assert_string_equal(s, bytes_hex);
    uint8_t all[256];
    char all_hex[2 * sizeof all + 1];
    uint8_t back[sizeof all];
    for (size_t i = 0; i < sizeof all; i++)
        all[i] = (uint8_t)i;
    assert_int_equal(rp_hex_encode(all, sizeof all, all_hex, sizeof all_hex), 0);
    assert_int_equal(rp_hex_decode(all_hex, back, sizeof back), 0);
    assert_memory_equal(back, all, sizeof all);
}

static void test_decode_accepts_upper_case(void **state)
{
    (void)state;
    uint8_t b[sizeof bytes];
    assert_int_equal(rp_hex_decode("00017F80ABCDEFFF", b, sizeof b), 0);
    assert_memory_equal(b, bytes, sizeof b);
    assert_int_equal(rp_hex_decode("00017f80AbCdEfFf", b, sizeof b), 0);
    assert_memory_equal(b, bytes, sizeof b);
}

static void assert_rejected(const char *s, size_t n)
{
    uint8_t b[sizeof bytes];
    memset(b, 0x5a, sizeof b);
    assert_int_equal(rp_hex_decode(s, b, n), -1);
    for (size_t i = 0; i < sizeof b; i++)
        assert_int_equal(b[i], 0x5a); /* untouched */
}

static void test_decode_rejects_malformed_text_leaving_out_untouched(void **state)
{
    (void)state;
    assert_rejected(NULL, 8);
    assert_rejected("00017f80abcdeff", 8);   /* odd length */
    assert_rejected("00017f80abcdef", 8);    /* too short */
    assert_rejected("00017f80abcdefff0", 8); /* too long */
    assert_rejected("00017f80abcdefff00", 8);
    assert_rejected("", 8);
    assert_rejected("00017f80abcdefgf", 8);  /* not hex, last byte */
    assert_rejected("00017f80abcdeffg", 8);  /* not hex, last digit */
    assert_rejected("0x017f80abcdefff", 8);  /* not hex, first byte */
    assert_rejected("00017f80 bcdefff", 8);
    assert_rejected("00017f80-bcdefff", 8);
    assert_rejected("x", 0);                 /* n = 0 wants "" */
    uint8_t none[1] = { 0x5a };
    assert_int_equal(rp_hex_decode("", none, 0), 0);
    assert_int_equal(none[0], 0x5a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_writes_lowercase_digits_and_nul),
        cmocka_unit_test(test_encode_refuses_a_short_buffer_without_truncating),
        cmocka_unit_test(test_decode_then_encode_round_trips),
        cmocka_unit_test(test_decode_accepts_upper_case),
        cmocka_unit_test(test_decode_rejects_malformed_text_leaving_out_untouched),
    };
    return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
