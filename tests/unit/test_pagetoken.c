/* Page tokens, secret files and coturn REST credentials. The expected tokens
 * were made by Python's hmac/base64 (the docs/webrtc.md minting example), not
 * by this code: a site's web app must produce the same bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "pagetoken.h"

static const uint8_t secret[] = "0123456789abcdef0123456789abcdef"; /* 32 bytes + NUL */
#define SECRET_LEN 32
/* python3: m = "v1:%d:%s" % (e, a); m + ":" + urlsafe_b64encode(hmac.new(s, m, sha256).digest()).rstrip("=") */
#define ALICE "v1:1700000000:alice:iIEtOAo6X_mx9LWyKwI50XTK4tdeKUu8slnqP5J5Rjc"
#define NOBODY "v1:1700000600::u0_8p6MVBlU_o6iuSSWFeFLBS1yOmdGxMCKihVhmdKg"
#define T0 1699999000u /* "now" for ALICE: 1000 s before its expiry */

static enum rp_pagetoken_verdict check(const char *token, uint64_t now, unsigned max_ttl, char agent[65])
{
    return rp_pagetoken_check(secret, SECRET_LEN, token, strlen(token), now, max_ttl, agent);
}

static void test_mint_matches_the_python_reference(void **state)
{
    (void)state;
    char out[RP_PAGETOKEN_MAX];
    assert_int_equal(rp_pagetoken_mint(secret, SECRET_LEN, 1700000000, "alice", out, sizeof out), 0);
    assert_string_equal(out, ALICE);
    assert_int_equal(rp_pagetoken_mint(secret, SECRET_LEN, 1700000600, "", out, sizeof out), 0);
    assert_string_equal(out, NOBODY);
    assert_int_equal(rp_pagetoken_mint(secret, SECRET_LEN, 1700000600, NULL, out, sizeof out), 0);
    assert_string_equal(out, NOBODY);
}

static void test_mint_refuses_short_secret_bad_agent_and_small_buffer(void **state)
{
    (void)state;
    char out[RP_PAGETOKEN_MAX], agent65[66];
    assert_int_equal(rp_pagetoken_mint(secret, SECRET_LEN - 1, 1700000000, "alice", out, sizeof out), -1);
    assert_int_equal(rp_pagetoken_mint(secret, SECRET_LEN, 1700000000, "al ice", out, sizeof out), -1);
    assert_int_equal(rp_pagetoken_mint(secret, SECRET_LEN, 1700000000, "al:ice", out, sizeof out), -1);
    memset(agent65, 'a', 65);
    agent65[65] = '\0';
    assert_int_equal(rp_pagetoken_mint(secret, SECRET_LEN, 1700000000, agent65, out, sizeof out), -1);
    agent65[64] = '\0'; /* 64 is the limit */
    assert_int_equal(rp_pagetoken_mint(secret, SECRET_LEN, UINT64_MAX, agent65, out, sizeof out), 0);
    assert_true(strlen(out) < RP_PAGETOKEN_MAX);
    assert_int_equal(rp_pagetoken_mint(secret, SECRET_LEN, 1700000000, "alice", out, strlen(ALICE)), -1);
    assert_int_equal(rp_pagetoken_mint(secret, SECRET_LEN, 1700000000, "alice", out, strlen(ALICE) + 1), 0);
}

static void test_check_accepts_a_valid_token_and_names_its_agent(void **state)
{
    (void)state;
    char agent[65] = "x";
    assert_int_equal(check(ALICE, T0, 3600, agent), RP_PAGETOKEN_OK);
    assert_string_equal(agent, "alice");
    assert_int_equal(check(NOBODY, T0, 3600, agent), RP_PAGETOKEN_OK);
    assert_string_equal(agent, "");
    assert_int_equal(check(ALICE, T0, 3600, NULL), RP_PAGETOKEN_OK);
    /* the longest agent round-trips */
    char agent64[65], tok[RP_PAGETOKEN_MAX];
    memset(agent64, 'Z', 64);
    agent64[64] = '\0';
    assert_int_equal(rp_pagetoken_mint(secret, SECRET_LEN, T0 + 1, agent64, tok, sizeof tok), 0);
    assert_int_equal(check(tok, T0, 1, agent), RP_PAGETOKEN_OK);
    assert_string_equal(agent, agent64);
}

static void test_expiry_and_max_ttl_bound_the_token_life(void **state)
{
    (void)state;
    char agent[65] = "x";
    assert_int_equal(check(ALICE, 1700000000, 3600, agent), RP_PAGETOKEN_EXPIRED);
    assert_string_equal(agent, "");
    assert_int_equal(check(ALICE, 1700000001, 3600, agent), RP_PAGETOKEN_EXPIRED);
    assert_int_equal(check(ALICE, 1699999999, 3600, agent), RP_PAGETOKEN_OK);
    /* 1000 s left: fine up to a max_ttl of 1000, too long below */
    assert_int_equal(check(ALICE, T0, 1000, agent), RP_PAGETOKEN_OK);
    assert_int_equal(check(ALICE, T0, 999, agent), RP_PAGETOKEN_TOO_LONG);
    assert_string_equal(agent, "");
    assert_int_equal(check(ALICE, 0, 3600, agent), RP_PAGETOKEN_TOO_LONG);
    /* far future, no overflow */
    char tok[RP_PAGETOKEN_MAX];
    assert_int_equal(rp_pagetoken_mint(secret, SECRET_LEN, UINT64_MAX, "a", tok, sizeof tok), 0);
    assert_int_equal(check(tok, 0, UINT32_MAX, agent), RP_PAGETOKEN_TOO_LONG);
    assert_int_equal(check(tok, UINT64_MAX - 5, 5, agent), RP_PAGETOKEN_OK);
}

static void test_a_forged_or_altered_token_has_a_bad_signature(void **state)
{
    (void)state;
    char agent[65], tok[sizeof ALICE];
    static const uint8_t other[] = "0123456789abcdef0123456789abcdeF";
    assert_int_equal(rp_pagetoken_check(other, SECRET_LEN, ALICE, strlen(ALICE), T0, 3600, agent),
                     RP_PAGETOKEN_BAD_SIGNATURE);
    /* a secret too short to be configured verifies nothing, not even a token it signed (Python, 31 bytes) */
    static const char short_signed[] = "v1:1700000000:alice:drlYABaT0LIqIVTHXG0LohWehIRVbi8bS98iAfdbnmM";
    assert_int_equal(rp_pagetoken_check(secret, SECRET_LEN - 1, short_signed, strlen(short_signed), T0, 3600, agent),
                     RP_PAGETOKEN_BAD_SIGNATURE);
    assert_int_equal(rp_pagetoken_check(secret, 0, ALICE, strlen(ALICE), T0, 3600, agent), RP_PAGETOKEN_BAD_SIGNATURE);
    /* another agent, a later expiry, one MAC character changed (still canonical) */
    const char *edits[][2] = { { ":alice:", ":alicf:" }, { ":1700000000:", ":1700000001:" }, { ":iIEt", ":jIEt" } };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        memcpy(tok, ALICE, sizeof ALICE);
        char *at = strstr(tok, edits[i][0]);
        assert_non_null(at);
        memcpy(at, edits[i][1], strlen(edits[i][1]));
        if (check(tok, T0, 3600, agent) != RP_PAGETOKEN_BAD_SIGNATURE)
            fail_msg("%s: not a bad signature", tok);
    }
    /* an expired forgery is a forgery */
    memcpy(tok, ALICE, sizeof ALICE);
    tok[sizeof ALICE - 3] ^= 1;
    assert_int_equal(check(tok, 1800000000, 3600, agent), RP_PAGETOKEN_BAD_SIGNATURE);
}

static void test_every_other_spelling_is_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "v1",
        "v1:",
        "v2:1700000000:alice:iIEtOAo6X_mx9LWyKwI50XTK4tdeKUu8slnqP5J5Rjc",
        "V1:1700000000:alice:iIEtOAo6X_mx9LWyKwI50XTK4tdeKUu8slnqP5J5Rjc",
        "v1:01700000000:alice:iIEtOAo6X_mx9LWyKwI50XTK4tdeKUu8slnqP5J5Rjc",   /* leading zero */
        "v1:+1700000000:alice:iIEtOAo6X_mx9LWyKwI50XTK4tdeKUu8slnqP5J5Rjc",   /* sign */
        "v1::alice:iIEtOAo6X_mx9LWyKwI50XTK4tdeKUu8slnqP5J5Rjc",              /* no expiry */
        "v1:18446744073709551616:a:iIEtOAo6X_mx9LWyKwI50XTK4tdeKUu8slnqP5J5Rjc", /* 2^64 */
        "v1:1700000000 :alice:iIEtOAo6X_mx9LWyKwI50XTK4tdeKUu8slnqP5J5Rjc",
        "v1:1700000000:al ice:iIEtOAo6X_mx9LWyKwI50XTK4tdeKUu8slnqP5J5Rjc",   /* agent charset */
        "v1:1700000000:alice:x:iIEtOAo6X_mx9LWyKwI50XTK4tdeKUu8slnqP5J5Rjc",  /* an extra field */
        "v1:1700000000:alice",
        "v1:1700000000:alice:",
        "v1:1700000000:alice:iIEtOAo6X_mx9LWyKwI50XTK4tdeKUu8slnqP5J5Rj",     /* 42 characters */
        "v1:1700000000:alice:iIEtOAo6X_mx9LWyKwI50XTK4tdeKUu8slnqP5J5Rjc=",   /* padding */
        "v1:1700000000:alice:iIEtOAo6X_mx9LWyKwI50XTK4tdeKUu8slnqP5J5RjcA",   /* 44 characters */
        "v1:1700000000:alice:iIEtOAo6X/mx9LWyKwI50XTK4tdeKUu8slnqP5J5Rjc",    /* standard alphabet */
        "v1:1700000000:alice:iIEtOAo6X_mx9LWyKwI50XTK4tdeKUu8slnqP5J5Rjd",    /* unused bits set */
        "v1:1700000000:alice:iIEtOAo6X_mx9LWyKwI50XTK4tdeKUu8slnqP5J5Rjc\n",
        " v1:1700000000:alice:iIEtOAo6X_mx9LWyKwI50XTK4tdeKUu8slnqP5J5Rjc",
    };
    char agent[65];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (check(bad[i], T0, 3600, agent) != RP_PAGETOKEN_MALFORMED)
            fail_msg("\"%s\" is not malformed", bad[i]);

    /* 65-character agent; a NUL inside the given length; longer than RP_PAGETOKEN_MAX */
    char tok[2 * RP_PAGETOKEN_MAX];
    snprintf(tok, sizeof tok, "v1:1:%065d:iIEtOAo6X_mx9LWyKwI50XTK4tdeKUu8slnqP5J5Rjc", 0);
    assert_int_equal(check(tok, 0, 3600, agent), RP_PAGETOKEN_MALFORMED);
    memcpy(tok, ALICE, sizeof ALICE);
    tok[15] = '\0';
    assert_int_equal(rp_pagetoken_check(secret, SECRET_LEN, tok, strlen(ALICE), T0, 3600, agent),
                     RP_PAGETOKEN_MALFORMED);
    memset(tok, 'a', sizeof tok);
    assert_int_equal(rp_pagetoken_check(secret, SECRET_LEN, tok, sizeof tok, T0, 3600, agent),
                     RP_PAGETOKEN_MALFORMED);
    /* the length is honoured: a valid token cut short, and one read only up to len */
    assert_int_equal(rp_pagetoken_check(secret, SECRET_LEN, ALICE, strlen(ALICE) - 1, T0, 3600, agent),
                     RP_PAGETOKEN_MALFORMED);
    assert_int_equal(rp_pagetoken_check(secret, SECRET_LEN, ALICE "zz", strlen(ALICE), T0, 3600, agent),
                     RP_PAGETOKEN_OK);
    assert_int_equal(rp_pagetoken_check(secret, SECRET_LEN, NULL, 0, T0, 3600, agent), RP_PAGETOKEN_MALFORMED);
}

static void test_verdict_names(void **state)
{
    (void)state;
    assert_string_equal(rp_pagetoken_verdict_name(RP_PAGETOKEN_OK), "ok");
    assert_string_equal(rp_pagetoken_verdict_name(RP_PAGETOKEN_MALFORMED), "malformed");
    assert_string_equal(rp_pagetoken_verdict_name(RP_PAGETOKEN_BAD_SIGNATURE), "bad_signature");
    assert_string_equal(rp_pagetoken_verdict_name(RP_PAGETOKEN_EXPIRED), "expired");
    assert_string_equal(rp_pagetoken_verdict_name(RP_PAGETOKEN_TOO_LONG), "too_long");
    assert_string_equal(rp_pagetoken_verdict_name(RP_PAGETOKEN_VERDICTS), "unknown");
}

/* coturn's REST scheme. The expected password is Python's
 * base64.b64encode(hmac.new(b"secret", b"1700000000:agent", sha1).digest()). */
static void test_turn_rest_credentials_as_coturn_computes_them(void **state)
{
    (void)state;
    char user[96], pass[29];
    assert_int_equal(rp_turn_rest_credentials((const uint8_t *)"secret", 6, 1700000000, "agent", user, sizeof user,
                                              pass, sizeof pass), 0);
    assert_string_equal(user, "1700000000:agent");
    assert_string_equal(pass, "tD41Q5c+9WWrTdm+3ERWRLfDzs4=");
    assert_int_equal(rp_turn_rest_credentials(secret, SECRET_LEN, 1700000000, NULL, user, sizeof user, pass,
                                              sizeof pass), 0);
    assert_string_equal(user, "1700000000:");
    /* too small for the 28 characters and the NUL, a user name that does not fit, a name coturn would log oddly */
    assert_int_equal(rp_turn_rest_credentials(secret, SECRET_LEN, 1, "a", user, sizeof user, pass, 28), -1);
    assert_int_equal(rp_turn_rest_credentials(secret, SECRET_LEN, 1700000000, "a", user, 12, pass, sizeof pass), -1);
    assert_int_equal(rp_turn_rest_credentials(secret, SECRET_LEN, 1700000000, "a", user, 13, pass, sizeof pass), 0);
    assert_int_equal(rp_turn_rest_credentials(secret, SECRET_LEN, 1, "a b", user, sizeof user, pass, sizeof pass), -1);
    assert_int_equal(rp_turn_rest_credentials(secret, 0, 1, "a", user, sizeof user, pass, sizeof pass), -1);
}

/* ---- secret files ---- */

static void write_secret(const char *text, size_t len, mode_t mode, char path[64])
{
    snprintf(path, 64, "/tmp/rtpprobe-test-secret-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, mode), 0);
    assert_int_equal(close(fd), 0);
}

/* Reading `text` (mode) fails with an error naming the path and containing `needle`;
 * NULL needle: succeeds with want_len bytes. */
static void expect_secret(const char *text, size_t len, mode_t mode, const char *needle, size_t want_len)
{
    char path[64], err[256] = "";
    uint8_t out[4096];
    size_t got = 0;
    write_secret(text, len, mode, path);
    int rc = rp_pagetoken_read_secret(path, out, sizeof out, &got, err, sizeof err);
    unlink(path);
    if (needle == NULL) {
        if (rc != 0)
            fail_msg("unexpected error: %s", err);
        assert_int_equal(got, want_len);
        assert_memory_equal(out, text, want_len);
        return;
    }
    assert_int_equal(rc, -1);
    if (strncmp(err, path, strlen(path)) != 0 || strstr(err, needle) == NULL)
        fail_msg("error \"%s\" does not name %s and say \"%s\"", err, path, needle);
}

static void test_secret_file_is_read_whole_with_one_newline_stripped(void **state)
{
    (void)state;
    static const char hex64[] = "8f3a0c5e1b7d92f46e0a1c3b5d7f9e2a4c6e8a0b2d4f6a8c0e2b4d6f8a0c2e4b";
    char text[128];
    expect_secret(hex64, 64, 0600, NULL, 64);
    snprintf(text, sizeof text, "%s\n", hex64);
    expect_secret(text, 65, 0600, NULL, 64);
    snprintf(text, sizeof text, "%s\n\n", hex64); /* only one */
    expect_secret(text, 66, 0400, NULL, 65);
    expect_secret(hex64, 32, 0600, NULL, 32);
    /* binary is fine: the bytes are the secret */
    expect_secret("\0\1\2\3\4\5\6\7\0\1\2\3\4\5\6\7\0\1\2\3\4\5\6\7\0\1\2\3\4\5\6\7", 32, 0600, NULL, 32);
}

static void test_secret_file_refuses_open_modes_short_and_large_files(void **state)
{
    (void)state;
    static const char hex64[] = "8f3a0c5e1b7d92f46e0a1c3b5d7f9e2a4c6e8a0b2d4f6a8c0e2b4d6f8a0c2e4b";
    expect_secret(hex64, 64, 0644, "permissions 0644 are too open", 0);
    expect_secret(hex64, 64, 0604, "permissions 0604 are too open", 0);
    expect_secret(hex64, 64, 0601, "permissions 0601 are too open", 0);
    expect_secret(hex64, 64, 0660, "permissions 0660 are too open", 0);
    expect_secret(hex64, 64, 0620, "too open", 0);
    /* the unit's dynamic user reads through the rtpprobe group: root:rtpprobe 0640 */
    expect_secret(hex64, 64, 0640, NULL, 64);
    expect_secret(hex64, 64, 0440, NULL, 64);
    expect_secret(hex64, 31, 0600, "31 bytes, at least 32", 0);
    expect_secret("0123456789abcdef0123456789abcde\n", 32, 0600, "31 bytes, at least 32", 0);
    expect_secret("", 0, 0600, "0 bytes", 0);
    char *big = malloc(4097);
    assert_non_null(big);
    memset(big, 'k', 4097);
    expect_secret(big, 4097, 0600, "larger than 4096 bytes", 0);
    expect_secret(big, 4096, 0600, NULL, 4096);
    free(big);

    char err[256];
    uint8_t out[64];
    size_t got;
    assert_int_equal(rp_pagetoken_read_secret("/nonexistent/secret", out, sizeof out, &got, err, sizeof err), -1);
    assert_string_equal(err, "/nonexistent/secret: No such file or directory");
    assert_int_equal(rp_pagetoken_read_secret("/tmp", out, sizeof out, &got, err, sizeof err), -1);
    assert_string_equal(err, "/tmp: not a regular file");
    /* the caller's buffer bounds it too */
    char path[64];
    write_secret(hex64, 64, 0600, path);
    int rc = rp_pagetoken_read_secret(path, out, 40, &got, err, sizeof err);
    unlink(path);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err, "larger than 40 bytes"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mint_matches_the_python_reference),
        cmocka_unit_test(test_mint_refuses_short_secret_bad_agent_and_small_buffer),
        cmocka_unit_test(test_check_accepts_a_valid_token_and_names_its_agent),
        cmocka_unit_test(test_expiry_and_max_ttl_bound_the_token_life),
        cmocka_unit_test(test_a_forged_or_altered_token_has_a_bad_signature),
        cmocka_unit_test(test_every_other_spelling_is_malformed),
        cmocka_unit_test(test_verdict_names),
        cmocka_unit_test(test_turn_rest_credentials_as_coturn_computes_them),
        cmocka_unit_test(test_secret_file_is_read_whole_with_one_newline_stripped),
        cmocka_unit_test(test_secret_file_refuses_open_modes_short_and_large_files),
    };
    return cmocka_run_group_tests_name("pagetoken", tests, NULL, NULL);
}
