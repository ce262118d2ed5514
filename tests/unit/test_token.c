/* Token hashing, the "sha256:<hex>" form and the constant-time check.
 * Digest vectors are the SHA-256 examples of FIPS 180-2 Appendix B / RFC 6234. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "token.h"

/* FIPS 180-2 B.1: SHA-256("abc") */
static const char abc_hex[] = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
static const uint8_t abc_bytes[RP_TOKEN_HASH_LEN] = {
    0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
    0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
};
/* FIPS 180-2 B.2: the 448-bit two-block message */
static const char two_block_msg[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
static const char two_block_hex[] = "sha256:248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
/* SHA-256 of the empty string */
static const char empty_hex[] = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

static void assert_hash_of(const char *msg, size_t len, const char *expect_hex)
{
    uint8_t h[RP_TOKEN_HASH_LEN];
    char s[RP_TOKEN_HASH_STRLEN];

    rp_token_hash(msg, len, h);
    rp_token_format_hash(h, s);
    assert_string_equal(s, expect_hex);
}

static void test_hash_matches_fips_180_vectors(void **state)
{
    (void)state;
    uint8_t h[RP_TOKEN_HASH_LEN];

    rp_token_hash("abc", 3, h);
    assert_memory_equal(h, abc_bytes, sizeof abc_bytes);
    assert_hash_of(two_block_msg, strlen(two_block_msg), two_block_hex);
    assert_hash_of("", 0, empty_hex);
}

static void test_hash_uses_length_not_nul(void **state)
{
    (void)state;
    /* "abc" followed by more bytes must not hash as "abc" */
    assert_hash_of("abcdef", 3, abc_hex);
    uint8_t a[RP_TOKEN_HASH_LEN], b[RP_TOKEN_HASH_LEN];
    rp_token_hash("ab\0c", 4, a);
    rp_token_hash("ab", 2, b);
    assert_memory_not_equal(a, b, sizeof a);
}

static void test_format_is_lowercase_prefixed_hex(void **state)
{
    (void)state;
    char s[RP_TOKEN_HASH_STRLEN];

    memset(s, 'x', sizeof s);
    rp_token_format_hash(abc_bytes, s);
    assert_string_equal(s, abc_hex);
    assert_int_equal(strlen(s), RP_TOKEN_HASH_STRLEN - 1);
}

static void test_parse_accepts_lower_and_upper_hex(void **state)
{
    (void)state;
    uint8_t h[RP_TOKEN_HASH_LEN];

    assert_int_equal(rp_token_parse_hash(abc_hex, h), 0);
    assert_memory_equal(h, abc_bytes, sizeof abc_bytes);

    memset(h, 0, sizeof h);
    assert_int_equal(rp_token_parse_hash(
        "sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", h), 0);
    assert_memory_equal(h, abc_bytes, sizeof abc_bytes);

    memset(h, 0, sizeof h);
    assert_int_equal(rp_token_parse_hash(
        "sha256:Ba7816bF8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015aD", h), 0);
    assert_memory_equal(h, abc_bytes, sizeof abc_bytes);
}

static void test_parse_then_format_round_trips(void **state)
{
    (void)state;
    uint8_t h[RP_TOKEN_HASH_LEN];
    char s[RP_TOKEN_HASH_STRLEN];

    assert_int_equal(rp_token_parse_hash(two_block_hex, h), 0);
    rp_token_format_hash(h, s);
    assert_string_equal(s, two_block_hex);
}

static void test_parse_rejects_malformed_hashes(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "sha256:",
        /* no prefix */
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        /* other prefixes */
        "SHA256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "sha512:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        " sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        /* 63 and 65 hex digits */
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a",
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0",
        /* 62 digits: a whole byte short */
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015",
        /* non-hex characters at the start, middle and end */
        "sha256:ga7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "sha256:ba7816bf8f01cfea414140de5dae2223 00361a396177a9cb410ff61f20015ad",
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015aZ",
        /* trailing whitespace */
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n",
        /* a 0x prefix is not hex here */
        "sha256:0xa7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t h[RP_TOKEN_HASH_LEN];
        memset(h, 0x5a, sizeof h);
        if (rp_token_parse_hash(bad[i], h) != -1)
            fail_msg("accepted malformed hash #%zu: \"%s\"", i, bad[i]);
        for (size_t j = 0; j < sizeof h; j++)
            assert_int_equal(h[j], 0x5a); /* output untouched on failure */
    }
    uint8_t h[RP_TOKEN_HASH_LEN];
    assert_int_equal(rp_token_parse_hash(NULL, h), -1);
}

static void test_check_accepts_token_matching_any_stored_hash(void **state)
{
    (void)state;
    uint8_t stored[3][RP_TOKEN_HASH_LEN];
    const uint8_t (*table)[RP_TOKEN_HASH_LEN] = (const uint8_t (*)[RP_TOKEN_HASH_LEN])stored;

    assert_int_equal(rp_token_parse_hash(two_block_hex, stored[0]), 0);
    assert_int_equal(rp_token_parse_hash(empty_hex, stored[1]), 0);
    assert_int_equal(rp_token_parse_hash(abc_hex, stored[2]), 0);

    assert_true(rp_token_check(table, 3, two_block_msg, strlen(two_block_msg))); /* first */
    assert_true(rp_token_check(table, 3, "", 0));                                /* middle */
    assert_true(rp_token_check(table, 3, "abc", 3));                             /* last */
}

static void test_check_rejects_unknown_or_altered_tokens(void **state)
{
    (void)state;
    uint8_t stored[2][RP_TOKEN_HASH_LEN];
    const uint8_t (*table)[RP_TOKEN_HASH_LEN] = (const uint8_t (*)[RP_TOKEN_HASH_LEN])stored;

    assert_int_equal(rp_token_parse_hash(abc_hex, stored[0]), 0);
    assert_int_equal(rp_token_parse_hash(two_block_hex, stored[1]), 0);

    assert_false(rp_token_check(table, 2, "abd", 3));
    assert_false(rp_token_check(table, 2, "ab", 2));       /* prefix of a valid token */
    assert_false(rp_token_check(table, 2, "abc ", 4));     /* valid token plus a byte */
    assert_false(rp_token_check(table, 2, "ABC", 3));
    assert_false(rp_token_check(table, 2, "", 0));
    /* the stored hash itself is not a token */
    assert_false(rp_token_check(table, 2, abc_hex, strlen(abc_hex)));
    /* only the first n entries count */
    assert_false(rp_token_check(table, 1, two_block_msg, strlen(two_block_msg)));
    assert_false(rp_token_check(table, 0, "abc", 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_matches_fips_180_vectors),
        cmocka_unit_test(test_hash_uses_length_not_nul),
        cmocka_unit_test(test_format_is_lowercase_prefixed_hex),
        cmocka_unit_test(test_parse_accepts_lower_and_upper_hex),
        cmocka_unit_test(test_parse_then_format_round_trips),
        cmocka_unit_test(test_parse_rejects_malformed_hashes),
        cmocka_unit_test(test_check_accepts_token_matching_any_stored_hash),
        cmocka_unit_test(test_check_rejects_unknown_or_altered_tokens),
    };
    return cmocka_run_group_tests_name("token", tests, NULL, NULL);
}
