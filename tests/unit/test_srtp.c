/* Unit tests for src/srtp.c.
 *
 * Reference values:
 * - libsrtp's own known-answer vectors, copied from cisco/libsrtp v2.5.0
 *   test/srtp_driver.c: srtp_validate() (AES_CM_128_HMAC_SHA1_80, key test_key,
 *   first 30 bytes used) and srtp_validate_gcm() (AEAD_AES_128_GCM, key test_key_gcm).
 * - AES_CM_128_HMAC_SHA1_32: RFC 3711 §4.2 truncates the same HMAC-SHA1, so its
 *   packet is the _80 vector with the tag cut to its first 4 bytes.
 * - AEAD_AES_256_GCM has no libsrtp vector; the expected packet comes from an
 *   independent RFC 3711 §4.3 KDF + RFC 7714 §8 AEAD written here on OpenSSL EVP.
 *   That reference is itself first checked against the libsrtp GCM-128 vector.
 * - base64 strings were computed with Python's base64 module; the inline key is the
 *   RFC 4568 example, whose decoded bytes were also computed with Python. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "rtcp.h"
#include "rtp.h"
#include "srtp.h"

#define NSUITES RP_SRTP_NSUITES
#define TEST_SSRC 0x5eed1234u
#define PAYLOAD_LEN 160

/* cisco/libsrtp test/srtp_driver.c: test_key (first 30 bytes = key + salt). */
static const uint8_t libsrtp_test_key[30] = {
    0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0,
    0xd6, 0x4f, 0xa3, 0x2c, 0x06, 0xde, 0x41, 0x39,
    0x0e, 0xc6, 0x75, 0xad, 0x49, 0x8a, 0xfe, 0xeb,
    0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6,
};
/* cisco/libsrtp test/srtp_driver.c: test_key_gcm (16-byte key + 12-byte salt). */
static const uint8_t libsrtp_test_key_gcm[28] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
    0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
    0xa8, 0xa9, 0xaa, 0xab,
};
/* srtp_validate(): srtp_plaintext_ref (SSRC 0xcafebabe, seq 0x1234). */
static const uint8_t libsrtp_plaintext[28] = {
    0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad,
    0xca, 0xfe, 0xba, 0xbe, 0xab, 0xab, 0xab, 0xab,
    0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
    0xab, 0xab, 0xab, 0xab,
};
/* srtp_validate(): srtp_ciphertext. */
static const uint8_t libsrtp_ciphertext_80[38] = {
    0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad,
    0xca, 0xfe, 0xba, 0xbe, 0x4e, 0x55, 0xdc, 0x4c,
    0xe7, 0x99, 0x78, 0xd8, 0x8c, 0xa4, 0xd2, 0x15,
    0x94, 0x9d, 0x24, 0x02, 0xb7, 0x8d, 0x6a, 0xcc,
    0x99, 0xea, 0x17, 0x9b, 0x8d, 0xbb,
};
/* srtp_validate_gcm(): srtp_ciphertext. */
static const uint8_t libsrtp_ciphertext_gcm128[44] = {
    0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad,
    0xca, 0xfe, 0xba, 0xbe, 0xc5, 0x00, 0x2e, 0xde,
    0x04, 0xcf, 0xdd, 0x2e, 0xb9, 0x11, 0x59, 0xe0,
    0x88, 0x0a, 0xa0, 0x6e, 0xd2, 0x97, 0x68, 0x26,
    0xf7, 0x96, 0xb2, 0x01, 0xdf, 0x31, 0x31, 0xa1,
    0x27, 0xe8, 0xa3, 0x92,
};

/* srtp_validate() and srtp_validate_gcm(): rtcp_plaintext_ref (SSRC 0xcafebabe)
 * and its SRTCP forms (first packet, index 1, E flag set), same keys as above. */
static const uint8_t libsrtp_rtcp_plaintext[24] = {
    0x81, 0xc8, 0x00, 0x0b, 0xca, 0xfe, 0xba, 0xbe,
    0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
    0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
};
static const uint8_t libsrtp_srtcp_ciphertext_80[38] = {
    0x81, 0xc8, 0x00, 0x0b, 0xca, 0xfe, 0xba, 0xbe,
    0x71, 0x28, 0x03, 0x5b, 0xe4, 0x87, 0xb9, 0xbd,
    0xbe, 0xf8, 0x90, 0x41, 0xf9, 0x77, 0xa5, 0xa8,
    0x80, 0x00, 0x00, 0x01, 0x99, 0x3e, 0x08, 0xcd,
    0x54, 0xd6, 0xc1, 0x23, 0x07, 0x98,
};
static const uint8_t libsrtp_srtcp_ciphertext_gcm128[44] = {
    0x81, 0xc8, 0x00, 0x0b, 0xca, 0xfe, 0xba, 0xbe,
    0xc9, 0x8b, 0x8b, 0x5d, 0xf0, 0x39, 0x2a, 0x55,
    0x85, 0x2b, 0x6c, 0x21, 0xac, 0x8e, 0x70, 0x25,
    0xc5, 0x2c, 0x6f, 0xbe, 0xa2, 0xb3, 0xb4, 0x46,
    0xea, 0x31, 0x12, 0x3b, 0xa8, 0x8c, 0xe6, 0x1e,
    0x80, 0x00, 0x00, 0x01,
};

/* RFC 4568 example key-salt, and its bytes (Python base64.b64decode). */
#define RFC4568_INLINE "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"
static const uint8_t rfc4568_key[30] = {
    0x3d, 0x2d, 0x6e, 0x40, 0x25, 0x5e, 0x78, 0x21, 0x42, 0x6a,
    0x75, 0x66, 0x72, 0x39, 0x29, 0x3f, 0x2c, 0x23, 0x35, 0x68,
    0x5c, 0x60, 0x3d, 0x26, 0x5d, 0x7b, 0x71, 0x69, 0x50, 0x51,
};

static int group_setup(void **state)
{
    (void)state;
    return rp_srtp_global_init();
}

static int group_teardown(void **state)
{
    (void)state;
    rp_srtp_global_fini();
    return 0;
}

static void fixed_key(enum rp_srtp_suite s, uint8_t seed, uint8_t *key)
{
    for (size_t i = 0; i < rp_srtp_key_len(s); i++)
        key[i] = (uint8_t)(seed + 37 * i);
}

static struct rp_srtp *new_ctx(enum rp_srtp_suite s, enum rp_srtp_dir dir, const uint8_t *key)
{
    char err[128] = "";
    struct rp_srtp *c = rp_srtp_new(s, dir, key, rp_srtp_key_len(s), err, sizeof err);
    if (!c)
        fail_msg("rp_srtp_new(%s): %s", rp_srtp_suite_name(s), err);
    return c;
}

/* A real RTP packet with a two-byte-form RFC 8285 element and a 160-byte payload.
 * *payload_off is where the payload starts (after the extension). */
static size_t build_packet(uint8_t *buf, size_t cap, uint16_t seq, size_t *payload_off)
{
    static const uint8_t elem[] = { 0x10, 0x20, 0x30 };
    uint8_t payload[PAYLOAD_LEN];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i * 3 + 1);
    struct rp_rtp_hdr h = { .pt = 0, .marker = true, .seq = seq, .ts = 160u * seq, .ssrc = TEST_SSRC };
    size_t n = rp_rtp_build(buf, cap, &h, 5, elem, sizeof elem, payload, sizeof payload);
    assert_int_not_equal(n, 0);
    /* 12 fixed + 4 extension header + 8 (2+3 element bytes padded to 32 bits). */
    assert_int_equal(n, 12 + 4 + 8 + PAYLOAD_LEN);
    if (payload_off)
        *payload_off = 12 + 4 + 8;
    return n;
}

/* ---- suite table ---- */

static void test_suite_names_lengths_and_overheads_follow_the_rfcs(void **state)
{
    (void)state;
    static const char *names[NSUITES] = {
        "AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32", "AEAD_AES_128_GCM", "AEAD_AES_256_GCM",
    };
    static const size_t key_lens[NSUITES] = { 30, 30, 28, 44 };  /* RFC 4568, RFC 7714 */
    static const size_t tags[NSUITES] = { 10, 4, 16, 16 };
    for (int s = 0; s < NSUITES; s++) {
        assert_string_equal(rp_srtp_suite_name((enum rp_srtp_suite)s), names[s]);
        assert_int_equal(rp_srtp_key_len((enum rp_srtp_suite)s), key_lens[s]);
        assert_int_equal(rp_srtp_overhead((enum rp_srtp_suite)s), tags[s]);
        assert_true(rp_srtp_key_len((enum rp_srtp_suite)s) <= RP_SRTP_MAX_KEY_LEN);
        assert_true(rp_srtp_overhead((enum rp_srtp_suite)s) <= RP_SRTP_MAX_OVERHEAD);
    }
    assert_int_equal(rp_srtp_key_len(RP_SRTP_NSUITES), 0);
    assert_int_equal(rp_srtp_overhead(RP_SRTP_NSUITES), 0);
}

static void test_suite_name_parse_is_case_insensitive_and_round_trips(void **state)
{
    (void)state;
    enum rp_srtp_suite out;
    for (int s = 0; s < NSUITES; s++) {
        out = RP_SRTP_NSUITES;
        assert_int_equal(rp_srtp_suite_parse(rp_srtp_suite_name((enum rp_srtp_suite)s), &out), 0);
        assert_int_equal(out, s);
    }
    assert_int_equal(rp_srtp_suite_parse("aead_aes_256_gcm", &out), 0);
    assert_int_equal(out, RP_SRTP_AEAD_AES_256_GCM);
    assert_int_equal(rp_srtp_suite_parse("aes_cm_128_hmac_sha1_32", &out), 0);
    assert_int_equal(out, RP_SRTP_AES_CM_128_HMAC_SHA1_32);
}

static void test_unknown_suite_names_are_rejected(void **state)
{
    (void)state;
    enum rp_srtp_suite out = RP_SRTP_AEAD_AES_128_GCM;
    assert_int_equal(rp_srtp_suite_parse("AES_256_CM_HMAC_SHA1_80", &out), -1);
    assert_int_equal(rp_srtp_suite_parse("AES_CM_128_HMAC_SHA1_80 ", &out), -1);
    assert_int_equal(rp_srtp_suite_parse("AES_CM_128_HMAC_SHA1", &out), -1);
    assert_int_equal(rp_srtp_suite_parse("", &out), -1);
    assert_int_equal(rp_srtp_suite_parse(NULL, &out), -1);
    assert_int_equal(out, RP_SRTP_AEAD_AES_128_GCM);
}

static void test_result_names_are_stable_labels(void **state)
{
    (void)state;
    assert_string_equal(rp_srtp_result_name(RP_SRTP_OK), "ok");
    assert_string_equal(rp_srtp_result_name(RP_SRTP_EAUTH), "auth_failure");
    assert_string_equal(rp_srtp_result_name(RP_SRTP_EREPLAY), "replay");
    assert_string_equal(rp_srtp_result_name(RP_SRTP_EINVALID), "malformed");
    assert_string_equal(rp_srtp_result_name(RP_SRTP_EINTERNAL), "internal");
}

/* ---- keys ---- */

static void test_keygen_fills_exactly_the_suite_key_length_with_fresh_bytes(void **state)
{
    (void)state;
    for (int s = 0; s < NSUITES; s++) {
        size_t kl = rp_srtp_key_len((enum rp_srtp_suite)s);
        uint8_t a[RP_SRTP_MAX_KEY_LEN + 4], b[RP_SRTP_MAX_KEY_LEN + 4];
        memset(a, 0xA5, sizeof a);
        memset(b, 0xA5, sizeof b);
        assert_int_equal(rp_srtp_keygen((enum rp_srtp_suite)s, a, sizeof a), 0);
        assert_int_equal(rp_srtp_keygen((enum rp_srtp_suite)s, b, kl), 0);
        /* Two 224+-bit random keys colliding would mean RAND_bytes is broken. */
        assert_memory_not_equal(a, b, kl);
        for (size_t i = kl; i < sizeof a; i++)
            assert_int_equal(a[i], 0xA5);
        assert_int_equal(rp_srtp_keygen((enum rp_srtp_suite)s, a, kl - 1), -1);
    }
    uint8_t k[RP_SRTP_MAX_KEY_LEN];
    assert_int_equal(rp_srtp_keygen(RP_SRTP_NSUITES, k, sizeof k), -1);
}

static void test_new_rejects_wrong_key_length_and_unknown_suite(void **state)
{
    (void)state;
    uint8_t key[RP_SRTP_MAX_KEY_LEN] = { 0 };
    char err[128];
    for (int s = 0; s < NSUITES; s++) {
        size_t kl = rp_srtp_key_len((enum rp_srtp_suite)s);
        err[0] = '\0';
        assert_null(rp_srtp_new((enum rp_srtp_suite)s, RP_SRTP_OUTBOUND, key, kl - 1, err, sizeof err));
        assert_true(strlen(err) > 0);
        assert_null(rp_srtp_new((enum rp_srtp_suite)s, RP_SRTP_INBOUND, key, kl + 1, err, sizeof err));
        assert_null(rp_srtp_new((enum rp_srtp_suite)s, RP_SRTP_INBOUND, NULL, kl, err, sizeof err));
    }
    err[0] = '\0';
    assert_null(rp_srtp_new(RP_SRTP_NSUITES, RP_SRTP_OUTBOUND, key, 30, err, sizeof err));
    assert_true(strlen(err) > 0);
    /* A NULL error buffer is allowed. */
    assert_null(rp_srtp_new(RP_SRTP_AES_CM_128_HMAC_SHA1_80, RP_SRTP_OUTBOUND, key, 29, NULL, 0));
    rp_srtp_free(NULL);
}

/* ---- known answers ---- */

static void test_aes_cm_128_hmac_sha1_80_matches_libsrtp_reference_vector(void **state)
{
    (void)state;
    struct rp_srtp *tx = new_ctx(RP_SRTP_AES_CM_128_HMAC_SHA1_80, RP_SRTP_OUTBOUND, libsrtp_test_key);
    struct rp_srtp *rx = new_ctx(RP_SRTP_AES_CM_128_HMAC_SHA1_80, RP_SRTP_INBOUND, libsrtp_test_key);
    uint8_t pkt[sizeof libsrtp_ciphertext_80];
    memcpy(pkt, libsrtp_plaintext, sizeof libsrtp_plaintext);
    size_t len = sizeof libsrtp_plaintext;
    assert_int_equal(rp_srtp_protect(tx, pkt, &len, sizeof pkt), RP_SRTP_OK);
    assert_int_equal(len, sizeof libsrtp_ciphertext_80);
    assert_memory_equal(pkt, libsrtp_ciphertext_80, len);

    assert_int_equal(rp_srtp_unprotect(rx, pkt, &len), RP_SRTP_OK);
    assert_int_equal(len, sizeof libsrtp_plaintext);
    assert_memory_equal(pkt, libsrtp_plaintext, len);
    rp_srtp_free(tx);
    rp_srtp_free(rx);
}

static void test_aes_cm_128_hmac_sha1_32_tag_is_the_80_bit_tag_truncated(void **state)
{
    (void)state;
    uint8_t expect[28 + 4];
    memcpy(expect, libsrtp_ciphertext_80, sizeof expect);  /* same keystream, first 32 tag bits */

    struct rp_srtp *tx = new_ctx(RP_SRTP_AES_CM_128_HMAC_SHA1_32, RP_SRTP_OUTBOUND, libsrtp_test_key);
    struct rp_srtp *rx = new_ctx(RP_SRTP_AES_CM_128_HMAC_SHA1_32, RP_SRTP_INBOUND, libsrtp_test_key);
    uint8_t pkt[sizeof expect];
    memcpy(pkt, libsrtp_plaintext, sizeof libsrtp_plaintext);
    size_t len = sizeof libsrtp_plaintext;
    assert_int_equal(rp_srtp_protect(tx, pkt, &len, sizeof pkt), RP_SRTP_OK);
    assert_int_equal(len, sizeof expect);
    assert_memory_equal(pkt, expect, len);

    assert_int_equal(rp_srtp_unprotect(rx, pkt, &len), RP_SRTP_OK);
    assert_int_equal(len, sizeof libsrtp_plaintext);
    assert_memory_equal(pkt, libsrtp_plaintext, len);
    rp_srtp_free(tx);
    rp_srtp_free(rx);
}

static void test_aead_aes_128_gcm_matches_libsrtp_reference_vector(void **state)
{
    (void)state;
    struct rp_srtp *tx = new_ctx(RP_SRTP_AEAD_AES_128_GCM, RP_SRTP_OUTBOUND, libsrtp_test_key_gcm);
    struct rp_srtp *rx = new_ctx(RP_SRTP_AEAD_AES_128_GCM, RP_SRTP_INBOUND, libsrtp_test_key_gcm);
    uint8_t pkt[sizeof libsrtp_ciphertext_gcm128];
    memcpy(pkt, libsrtp_plaintext, sizeof libsrtp_plaintext);
    size_t len = sizeof libsrtp_plaintext;
    assert_int_equal(rp_srtp_protect(tx, pkt, &len, sizeof pkt), RP_SRTP_OK);
    assert_int_equal(len, sizeof libsrtp_ciphertext_gcm128);
    assert_memory_equal(pkt, libsrtp_ciphertext_gcm128, len);

    assert_int_equal(rp_srtp_unprotect(rx, pkt, &len), RP_SRTP_OK);
    assert_int_equal(len, sizeof libsrtp_plaintext);
    assert_memory_equal(pkt, libsrtp_plaintext, len);
    rp_srtp_free(tx);
    rp_srtp_free(rx);
}

/* Independent AEAD reference. RFC 3711 §4.3.1/§4.3.3 KDF with kdr = 0: the
 * keystream of AES-CM under the master key at IV = (master_salt XOR label at byte 7) || 0x0000;
 * the 96-bit GCM master salt is zero-extended to the 112 bits the KDF expects. */
static void ref_kdf(const EVP_CIPHER *ctr, const uint8_t *mkey, const uint8_t *msalt, size_t msalt_len,
                    uint8_t label, uint8_t *out, size_t outlen)
{
    uint8_t iv[16] = { 0 };
    uint8_t zeros[32] = { 0 };
    int n = 0;
    memcpy(iv, msalt, msalt_len);
    iv[7] ^= label;
    assert_true(outlen <= sizeof zeros);
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    assert_non_null(x);
    assert_int_equal(EVP_EncryptInit_ex(x, ctr, NULL, mkey, iv), 1);
    assert_int_equal(EVP_EncryptUpdate(x, out, &n, zeros, (int)outlen), 1);
    assert_int_equal(n, (int)outlen);
    EVP_CIPHER_CTX_free(x);
}

/* RFC 7714 §8.1: IV = (00 00 || SSRC || ROC || SEQ) XOR session salt; AAD = the
 * RTP header through the extension (§8.2); ciphertext || 16-byte tag follows it. */
static size_t ref_gcm_protect(bool aes256, const uint8_t *master, const uint8_t *pkt, size_t len,
                              size_t hdr_len, uint32_t roc, uint8_t *out)
{
    size_t klen = aes256 ? 32 : 16;
    uint8_t skey[32], ssalt[12], iv[12] = { 0 };
    ref_kdf(aes256 ? EVP_aes_256_ctr() : EVP_aes_128_ctr(), master, master + klen, 12, 0x00, skey, klen);
    ref_kdf(aes256 ? EVP_aes_256_ctr() : EVP_aes_128_ctr(), master, master + klen, 12, 0x02, ssalt, 12);
    memcpy(iv + 2, pkt + 8, 4);                     /* SSRC */
    iv[6] = (uint8_t)(roc >> 24);
    iv[7] = (uint8_t)(roc >> 16);
    iv[8] = (uint8_t)(roc >> 8);
    iv[9] = (uint8_t)roc;
    memcpy(iv + 10, pkt + 2, 2);                    /* SEQ */
    for (int i = 0; i < 12; i++)
        iv[i] ^= ssalt[i];

    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    int n = 0;
    assert_non_null(x);
    assert_int_equal(EVP_EncryptInit_ex(x, aes256 ? EVP_aes_256_gcm() : EVP_aes_128_gcm(), NULL, NULL, NULL), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_IVLEN, 12, NULL), 1);
    assert_int_equal(EVP_EncryptInit_ex(x, NULL, NULL, skey, iv), 1);
    assert_int_equal(EVP_EncryptUpdate(x, NULL, &n, pkt, (int)hdr_len), 1);
    memcpy(out, pkt, hdr_len);
    assert_int_equal(EVP_EncryptUpdate(x, out + hdr_len, &n, pkt + hdr_len, (int)(len - hdr_len)), 1);
    assert_int_equal(n, (int)(len - hdr_len));
    assert_int_equal(EVP_EncryptFinal_ex(x, out + len, &n), 1);
    assert_int_equal(n, 0);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, 16, out + len), 1);
    EVP_CIPHER_CTX_free(x);
    return len + 16;
}

static void test_independent_gcm_reference_reproduces_libsrtp_vector(void **state)
{
    (void)state;
    uint8_t out[64];
    size_t n = ref_gcm_protect(false, libsrtp_test_key_gcm, libsrtp_plaintext, sizeof libsrtp_plaintext,
                               12, 0, out);
    assert_int_equal(n, sizeof libsrtp_ciphertext_gcm128);
    assert_memory_equal(out, libsrtp_ciphertext_gcm128, n);
}

static void test_aead_aes_256_gcm_matches_independent_rfc7714_computation(void **state)
{
    (void)state;
    uint8_t key[44];
    fixed_key(RP_SRTP_AEAD_AES_256_GCM, 0x42, key);
    struct rp_srtp *tx = new_ctx(RP_SRTP_AEAD_AES_256_GCM, RP_SRTP_OUTBOUND, key);
    uint8_t plain[RP_RTP_MAX_PKT], pkt[RP_RTP_MAX_PKT], expect[RP_RTP_MAX_PKT];
    size_t payload_off;
    size_t len = build_packet(plain, sizeof plain, 0xbeef, &payload_off);
    size_t want = ref_gcm_protect(true, key, plain, len, payload_off, 0, expect);

    memcpy(pkt, plain, len);
    assert_int_equal(rp_srtp_protect(tx, pkt, &len, sizeof pkt), RP_SRTP_OK);
    assert_int_equal(len, want);
    assert_memory_equal(pkt, expect, want);
    rp_srtp_free(tx);
}

/* ---- behaviour for every suite ---- */

static void test_round_trip_restores_packet_and_encrypts_only_the_payload(void **state)
{
    (void)state;
    for (int si = 0; si < NSUITES; si++) {
        enum rp_srtp_suite s = (enum rp_srtp_suite)si;
        uint8_t key[RP_SRTP_MAX_KEY_LEN];
        assert_int_equal(rp_srtp_keygen(s, key, sizeof key), 0);
        struct rp_srtp *tx = new_ctx(s, RP_SRTP_OUTBOUND, key);
        struct rp_srtp *rx = new_ctx(s, RP_SRTP_INBOUND, key);

        uint8_t plain[RP_RTP_MAX_PKT], pkt[RP_RTP_MAX_PKT];
        size_t payload_off;
        size_t plain_len = build_packet(plain, sizeof plain, 1000, &payload_off);
        memcpy(pkt, plain, plain_len);
        size_t len = plain_len;
        assert_int_equal(rp_srtp_protect(tx, pkt, &len, plain_len + rp_srtp_overhead(s)), RP_SRTP_OK);
        assert_int_equal(len, plain_len + rp_srtp_overhead(s));

        /* Header and extension stay in clear and still parse as the same packet. */
        assert_memory_equal(pkt, plain, payload_off);
        struct rp_rtp_pkt p;
        assert_int_equal(rp_rtp_parse(pkt, plain_len, &p), RP_RTP_OK);
        assert_int_equal(p.hdr.seq, 1000);
        assert_int_equal(p.hdr.ssrc, TEST_SSRC);
        const uint8_t *elem;
        size_t elem_len;
        assert_int_equal(rp_rtp_ext_find(&p, 5, &elem, &elem_len), 1);
        assert_int_equal(elem_len, 3);
        assert_int_equal(elem[0], 0x10);

        /* The payload is ciphertext: a keystream byte equal to 0 is a 1/256 event,
         * so more than a handful of unchanged bytes out of 160 means no encryption. */
        size_t same = 0;
        for (size_t i = payload_off; i < plain_len; i++)
            same += pkt[i] == plain[i];
        assert_true(same < 8);

        assert_int_equal(rp_srtp_unprotect(rx, pkt, &len), RP_SRTP_OK);
        assert_int_equal(len, plain_len);
        assert_memory_equal(pkt, plain, plain_len);
        rp_srtp_free(tx);
        rp_srtp_free(rx);
    }
}

static void test_flipped_payload_or_tag_bit_fails_authentication(void **state)
{
    (void)state;
    for (int si = 0; si < NSUITES; si++) {
        enum rp_srtp_suite s = (enum rp_srtp_suite)si;
        uint8_t key[RP_SRTP_MAX_KEY_LEN];
        fixed_key(s, (uint8_t)(si + 1), key);
        struct rp_srtp *tx = new_ctx(s, RP_SRTP_OUTBOUND, key);
        struct rp_srtp *rx = new_ctx(s, RP_SRTP_INBOUND, key);

        uint8_t pkt[RP_RTP_MAX_PKT], bad[RP_RTP_MAX_PKT];
        size_t payload_off;
        size_t len = build_packet(pkt, sizeof pkt, 7, &payload_off);
        assert_int_equal(rp_srtp_protect(tx, pkt, &len, sizeof pkt), RP_SRTP_OK);

        size_t blen = len;
        memcpy(bad, pkt, len);
        bad[payload_off + 20] ^= 0x01;
        assert_int_equal(rp_srtp_unprotect(rx, bad, &blen), RP_SRTP_EAUTH);

        blen = len;
        memcpy(bad, pkt, len);
        bad[len - 1] ^= 0x80;               /* last tag byte */
        assert_int_equal(rp_srtp_unprotect(rx, bad, &blen), RP_SRTP_EAUTH);

        blen = len;
        memcpy(bad, pkt, len);
        bad[3] ^= 0x01;                     /* sequence number: authenticated header */
        assert_int_equal(rp_srtp_unprotect(rx, bad, &blen), RP_SRTP_EAUTH);

        /* Forgeries must not have advanced the replay window: the genuine one passes. */
        assert_int_equal(rp_srtp_unprotect(rx, pkt, &len), RP_SRTP_OK);
        rp_srtp_free(tx);
        rp_srtp_free(rx);
    }
}

static void test_replayed_packet_is_rejected(void **state)
{
    (void)state;
    for (int si = 0; si < NSUITES; si++) {
        enum rp_srtp_suite s = (enum rp_srtp_suite)si;
        uint8_t key[RP_SRTP_MAX_KEY_LEN];
        fixed_key(s, 0x99, key);
        struct rp_srtp *tx = new_ctx(s, RP_SRTP_OUTBOUND, key);
        struct rp_srtp *rx = new_ctx(s, RP_SRTP_INBOUND, key);

        uint8_t pkt[RP_RTP_MAX_PKT], copy[RP_RTP_MAX_PKT];
        size_t len = build_packet(pkt, sizeof pkt, 42, NULL);
        assert_int_equal(rp_srtp_protect(tx, pkt, &len, sizeof pkt), RP_SRTP_OK);
        memcpy(copy, pkt, len);
        size_t clen = len;

        assert_int_equal(rp_srtp_unprotect(rx, pkt, &len), RP_SRTP_OK);
        assert_int_equal(rp_srtp_unprotect(rx, copy, &clen), RP_SRTP_EREPLAY);
        rp_srtp_free(tx);
        rp_srtp_free(rx);
    }
}

static void test_replay_window_holds_the_last_128_packets(void **state)
{
    (void)state;
    uint8_t key[RP_SRTP_MAX_KEY_LEN];
    fixed_key(RP_SRTP_AEAD_AES_128_GCM, 0x31, key);
    struct rp_srtp *tx = new_ctx(RP_SRTP_AEAD_AES_128_GCM, RP_SRTP_OUTBOUND, key);
    struct rp_srtp *rx = new_ctx(RP_SRTP_AEAD_AES_128_GCM, RP_SRTP_INBOUND, key);
    enum { FIRST = 1000, COUNT = 201 };
    static uint8_t prot[COUNT][RP_RTP_MAX_PKT];
    size_t len[COUNT];
    for (int i = 0; i < COUNT; i++) {
        len[i] = build_packet(prot[i], sizeof prot[i], (uint16_t)(FIRST + i), NULL);
        assert_int_equal(rp_srtp_protect(tx, prot[i], &len[i], sizeof prot[i]), RP_SRTP_OK);
    }
    /* Newest first; then 127 behind it is inside a 128-packet window, 128 behind is not. */
    assert_int_equal(rp_srtp_unprotect(rx, prot[COUNT - 1], &len[COUNT - 1]), RP_SRTP_OK);
    assert_int_equal(rp_srtp_unprotect(rx, prot[COUNT - 1 - 127], &len[COUNT - 1 - 127]), RP_SRTP_OK);
    assert_int_equal(rp_srtp_unprotect(rx, prot[COUNT - 1 - 128], &len[COUNT - 1 - 128]), RP_SRTP_EREPLAY);
    assert_int_equal(rp_srtp_unprotect(rx, prot[0], &len[0]), RP_SRTP_EREPLAY);
    rp_srtp_free(tx);
    rp_srtp_free(rx);
}

static void test_sender_refuses_to_reuse_a_sequence_number(void **state)
{
    (void)state;
    uint8_t key[RP_SRTP_MAX_KEY_LEN];
    fixed_key(RP_SRTP_AES_CM_128_HMAC_SHA1_80, 3, key);
    struct rp_srtp *tx = new_ctx(RP_SRTP_AES_CM_128_HMAC_SHA1_80, RP_SRTP_OUTBOUND, key);
    uint8_t pkt[RP_RTP_MAX_PKT];
    size_t len = build_packet(pkt, sizeof pkt, 9, NULL);
    assert_int_equal(rp_srtp_protect(tx, pkt, &len, sizeof pkt), RP_SRTP_OK);
    /* Same index twice would reuse keystream (RFC 3711 §9); allow_repeat_tx is off. */
    len = build_packet(pkt, sizeof pkt, 9, NULL);
    assert_int_equal(rp_srtp_protect(tx, pkt, &len, sizeof pkt), RP_SRTP_EREPLAY);
    rp_srtp_free(tx);
}

static void test_packet_under_another_key_fails_authentication(void **state)
{
    (void)state;
    for (int si = 0; si < NSUITES; si++) {
        enum rp_srtp_suite s = (enum rp_srtp_suite)si;
        uint8_t key_a[RP_SRTP_MAX_KEY_LEN], key_b[RP_SRTP_MAX_KEY_LEN];
        fixed_key(s, 0x10, key_a);
        memcpy(key_b, key_a, sizeof key_b);
        key_b[0] ^= 0x01;                   /* one bit of the master key */
        struct rp_srtp *tx = new_ctx(s, RP_SRTP_OUTBOUND, key_a);
        struct rp_srtp *rx = new_ctx(s, RP_SRTP_INBOUND, key_b);

        uint8_t pkt[RP_RTP_MAX_PKT];
        size_t len = build_packet(pkt, sizeof pkt, 500, NULL);
        assert_int_equal(rp_srtp_protect(tx, pkt, &len, sizeof pkt), RP_SRTP_OK);
        assert_int_equal(rp_srtp_unprotect(rx, pkt, &len), RP_SRTP_EAUTH);
        rp_srtp_free(tx);
        rp_srtp_free(rx);
    }
}

static void test_receivers_with_the_same_key_are_independent_of_sender_and_each_other(void **state)
{
    (void)state;
    for (int si = 0; si < NSUITES; si++) {
        enum rp_srtp_suite s = (enum rp_srtp_suite)si;
        uint8_t key[RP_SRTP_MAX_KEY_LEN];
        assert_int_equal(rp_srtp_keygen(s, key, sizeof key), 0);
        struct rp_srtp *tx = new_ctx(s, RP_SRTP_OUTBOUND, key);

        enum { N = 5 };
        uint8_t prot[N][RP_RTP_MAX_PKT], plain[N][RP_RTP_MAX_PKT];
        size_t prot_len[N], plain_len[N];
        for (int i = 0; i < N; i++) {
            plain_len[i] = build_packet(plain[i], sizeof plain[i], (uint16_t)(100 + i), NULL);
            memcpy(prot[i], plain[i], plain_len[i]);
            prot_len[i] = plain_len[i];
            assert_int_equal(rp_srtp_protect(tx, prot[i], &prot_len[i], sizeof prot[i]), RP_SRTP_OK);
        }

        /* Created after the sender has moved on, and fed out of order. */
        struct rp_srtp *rx1 = new_ctx(s, RP_SRTP_INBOUND, key);
        struct rp_srtp *rx2 = new_ctx(s, RP_SRTP_INBOUND, key);
        static const int order[N] = { 4, 1, 3, 0, 2 };
        for (int k = 0; k < N; k++) {
            int i = order[k];
            uint8_t buf[RP_RTP_MAX_PKT];
            size_t len = prot_len[i];
            memcpy(buf, prot[i], len);
            assert_int_equal(rp_srtp_unprotect(rx1, buf, &len), RP_SRTP_OK);
            assert_int_equal(len, plain_len[i]);
            assert_memory_equal(buf, plain[i], len);
        }
        /* rx1 having seen packet 0 says nothing about rx2. */
        uint8_t buf[RP_RTP_MAX_PKT];
        size_t len = prot_len[0];
        memcpy(buf, prot[0], len);
        assert_int_equal(rp_srtp_unprotect(rx2, buf, &len), RP_SRTP_OK);
        assert_memory_equal(buf, plain[0], len);

        /* The sender continues unaffected by any receiver. */
        uint8_t next[RP_RTP_MAX_PKT], next_plain[RP_RTP_MAX_PKT];
        size_t nlen = build_packet(next, sizeof next, 100 + N, NULL);
        memcpy(next_plain, next, nlen);
        size_t next_plain_len = nlen;
        assert_int_equal(rp_srtp_protect(tx, next, &nlen, sizeof next), RP_SRTP_OK);
        assert_int_equal(rp_srtp_unprotect(rx2, next, &nlen), RP_SRTP_OK);
        assert_int_equal(nlen, next_plain_len);
        assert_memory_equal(next, next_plain, nlen);

        rp_srtp_free(tx);
        rp_srtp_free(rx1);
        rp_srtp_free(rx2);
    }
}

/* ---- malformed input and misuse ---- */

static void test_protect_needs_room_for_the_tag_and_leaves_packet_alone_otherwise(void **state)
{
    (void)state;
    for (int si = 0; si < NSUITES; si++) {
        enum rp_srtp_suite s = (enum rp_srtp_suite)si;
        uint8_t key[RP_SRTP_MAX_KEY_LEN];
        fixed_key(s, 0x55, key);
        struct rp_srtp *tx = new_ctx(s, RP_SRTP_OUTBOUND, key);
        uint8_t pkt[RP_RTP_MAX_PKT], plain[RP_RTP_MAX_PKT];
        size_t plain_len = build_packet(plain, sizeof plain, 1, NULL);
        memcpy(pkt, plain, plain_len);
        size_t len = plain_len;
        assert_int_equal(rp_srtp_protect(tx, pkt, &len, plain_len + rp_srtp_overhead(s) - 1), RP_SRTP_EINVALID);
        assert_int_equal(len, plain_len);
        assert_memory_equal(pkt, plain, plain_len);
        /* cap smaller than the packet itself */
        assert_int_equal(rp_srtp_protect(tx, pkt, &len, plain_len - 1), RP_SRTP_EINVALID);
        assert_memory_equal(pkt, plain, plain_len);
        /* and the refused attempts did not burn the sequence number */
        assert_int_equal(rp_srtp_protect(tx, pkt, &len, plain_len + rp_srtp_overhead(s)), RP_SRTP_OK);
        rp_srtp_free(tx);
    }
}

static void test_short_or_non_rtp_input_is_malformed(void **state)
{
    (void)state;
    for (int si = 0; si < NSUITES; si++) {
        enum rp_srtp_suite s = (enum rp_srtp_suite)si;
        uint8_t key[RP_SRTP_MAX_KEY_LEN];
        fixed_key(s, 0x77, key);
        struct rp_srtp *tx = new_ctx(s, RP_SRTP_OUTBOUND, key);
        struct rp_srtp *rx = new_ctx(s, RP_SRTP_INBOUND, key);
        uint8_t pkt[RP_RTP_MAX_PKT];
        size_t full = build_packet(pkt, sizeof pkt, 1, NULL);
        size_t len;

        len = 11;
        assert_int_equal(rp_srtp_protect(tx, pkt, &len, sizeof pkt), RP_SRTP_EINVALID);
        len = 12 + rp_srtp_overhead(s) - 1;
        assert_int_equal(rp_srtp_unprotect(rx, pkt, &len), RP_SRTP_EINVALID);
        assert_int_equal(len, 12 + rp_srtp_overhead(s) - 1);

        pkt[0] = (uint8_t)(pkt[0] & 0x3f);  /* version 0 */
        len = full;
        assert_int_equal(rp_srtp_protect(tx, pkt, &len, sizeof pkt), RP_SRTP_EINVALID);
        assert_int_equal(rp_srtp_unprotect(rx, pkt, &len), RP_SRTP_EINVALID);

        /* Extension length claiming more words than the packet holds. */
        full = build_packet(pkt, sizeof pkt, 2, NULL);
        pkt[14] = 0xff;
        pkt[15] = 0xff;
        len = full;
        assert_int_equal(rp_srtp_protect(tx, pkt, &len, sizeof pkt), RP_SRTP_EINVALID);
        len = full;
        assert_int_equal(rp_srtp_unprotect(rx, pkt, &len), RP_SRTP_EINVALID);

        /* Each context works one way only. */
        full = build_packet(pkt, sizeof pkt, 3, NULL);
        len = full;
        assert_int_equal(rp_srtp_protect(rx, pkt, &len, sizeof pkt), RP_SRTP_EINVALID);
        assert_int_equal(rp_srtp_unprotect(tx, pkt, &len), RP_SRTP_EINVALID);
        assert_int_equal(rp_srtp_protect(NULL, pkt, &len, sizeof pkt), RP_SRTP_EINVALID);
        assert_int_equal(rp_srtp_unprotect(NULL, pkt, &len), RP_SRTP_EINVALID);
        rp_srtp_free(tx);
        rp_srtp_free(rx);
    }
}

/* ---- SDES inline keys ---- */

static void test_inline_encode_matches_python_base64(void **state)
{
    (void)state;
    char out[RP_SRTP_INLINE_MAX];
    assert_int_equal(rp_srtp_inline_encode(libsrtp_test_key, 30, out, sizeof out), 0);
    assert_string_equal(out, "inline:4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvm");
    assert_int_equal(rp_srtp_inline_encode(libsrtp_test_key_gcm, 28, out, sizeof out), 0);
    assert_string_equal(out, "inline:AAECAwQFBgcICQoLDA0OD6ChoqOkpaanqKmqqw==");
    uint8_t k44[44];
    for (size_t i = 0; i < sizeof k44; i++)
        k44[i] = (uint8_t)i;
    assert_int_equal(rp_srtp_inline_encode(k44, sizeof k44, out, sizeof out), 0);
    assert_string_equal(out, "inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKis=");
}

static void test_inline_encode_refuses_a_buffer_one_byte_short(void **state)
{
    (void)state;
    char out[RP_SRTP_INLINE_MAX];
    size_t need = strlen("inline:") + 40 + 1;       /* 30 bytes -> 40 base64 chars + NUL */
    assert_int_equal(rp_srtp_inline_encode(libsrtp_test_key, 30, out, need - 1), -1);
    assert_int_equal(rp_srtp_inline_encode(libsrtp_test_key, 30, out, need), 0);
    assert_int_equal(strlen(out), need - 1);
    assert_int_equal(rp_srtp_inline_encode(libsrtp_test_key, 0, out, sizeof out), -1);
}

static void test_inline_round_trip_for_every_suite(void **state)
{
    (void)state;
    for (int si = 0; si < NSUITES; si++) {
        enum rp_srtp_suite s = (enum rp_srtp_suite)si;
        uint8_t key[RP_SRTP_MAX_KEY_LEN], back[RP_SRTP_MAX_KEY_LEN];
        char text[RP_SRTP_INLINE_MAX];
        for (int round = 0; round < 20; round++) {
            assert_int_equal(rp_srtp_keygen(s, key, sizeof key), 0);
            assert_int_equal(rp_srtp_inline_encode(key, rp_srtp_key_len(s), text, sizeof text), 0);
            memset(back, 0, sizeof back);
            assert_int_equal(rp_srtp_inline_decode(s, text, back, sizeof back), 0);
            assert_memory_equal(back, key, rp_srtp_key_len(s));
        }
    }
}

static void test_rfc4568_example_key_decodes_without_lifetime_and_mki(void **state)
{
    (void)state;
    uint8_t key[RP_SRTP_MAX_KEY_LEN];
    assert_int_equal(rp_srtp_inline_decode(RP_SRTP_AES_CM_128_HMAC_SHA1_80, RFC4568_INLINE, key, sizeof key), 0);
    assert_memory_equal(key, rfc4568_key, sizeof rfc4568_key);
    memset(key, 0, sizeof key);
    assert_int_equal(rp_srtp_inline_decode(RP_SRTP_AES_CM_128_HMAC_SHA1_32, RFC4568_INLINE, key, 30), 0);
    assert_memory_equal(key, rfc4568_key, sizeof rfc4568_key);
    /* 30 bytes is the wrong size for both GCM suites. */
    assert_int_equal(rp_srtp_inline_decode(RP_SRTP_AEAD_AES_128_GCM, RFC4568_INLINE, key, sizeof key), -1);
    assert_int_equal(rp_srtp_inline_decode(RP_SRTP_AEAD_AES_256_GCM, RFC4568_INLINE, key, sizeof key), -1);
    /* The method name is an ABNF literal, so case-insensitive. */
    assert_int_equal(rp_srtp_inline_decode(RP_SRTP_AES_CM_128_HMAC_SHA1_80,
                                           "INLINE:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR", key, sizeof key), 0);
}

static void test_rfc4568_example_with_lifetime_or_mki_is_rejected(void **state)
{
    (void)state;
    static const char *const with_params[] = {
        RFC4568_INLINE "|2^20|1:32",        /* RFC 4568 example as written */
        RFC4568_INLINE "|2^20",
        RFC4568_INLINE "|1:4",
        RFC4568_INLINE "|",
        RFC4568_INLINE ";inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
    };
    uint8_t key[RP_SRTP_MAX_KEY_LEN];
    for (size_t i = 0; i < sizeof with_params / sizeof with_params[0]; i++) {
        memset(key, 0xEE, sizeof key);
        assert_int_equal(rp_srtp_inline_decode(RP_SRTP_AES_CM_128_HMAC_SHA1_80, with_params[i], key, sizeof key), -1);
        assert_int_equal(key[0], 0xEE);
    }
}

static void test_malformed_inline_keys_are_rejected(void **state)
{
    (void)state;
    static const char *const bad30[] = {
        "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",             /* no method */
        "inline: PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",     /* whitespace */
        " inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
        "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR ",
        "inline:PS1uQCVeeCFCanVmcjkpPywjNWhc\nYD0mXXtxaVBR",
        "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVB",      /* 39 chars */
        "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBRAA==", /* 31 bytes */
        "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaV==",     /* padding a 30-byte key has none of */
        "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVB*",     /* not base64 */
        "inline:PS1uQCVeeCFCanVmcjkpPywj=WhcYD0mXXtxaVBR",     /* '=' inside */
        "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVB-",     /* base64url alphabet */
        "inline:",
        "",
    };
    uint8_t key[RP_SRTP_MAX_KEY_LEN];
    for (size_t i = 0; i < sizeof bad30 / sizeof bad30[0]; i++)
        assert_int_equal(rp_srtp_inline_decode(RP_SRTP_AES_CM_128_HMAC_SHA1_80, bad30[i], key, sizeof key), -1);

    /* 28-byte GCM key: right padding only. "qw==" is canonical; "qx==" sets unused bits. */
    assert_int_equal(rp_srtp_inline_decode(RP_SRTP_AEAD_AES_128_GCM,
                                           "inline:AAECAwQFBgcICQoLDA0OD6ChoqOkpaanqKmqqw==", key, sizeof key), 0);
    assert_memory_equal(key, libsrtp_test_key_gcm, 28);
    assert_int_equal(rp_srtp_inline_decode(RP_SRTP_AEAD_AES_128_GCM,
                                           "inline:AAECAwQFBgcICQoLDA0OD6ChoqOkpaanqKmqqx==", key, sizeof key), -1);
    assert_int_equal(rp_srtp_inline_decode(RP_SRTP_AEAD_AES_128_GCM,
                                           "inline:AAECAwQFBgcICQoLDA0OD6ChoqOkpaanqKmqqw", key, sizeof key), -1);
    assert_int_equal(rp_srtp_inline_decode(RP_SRTP_AEAD_AES_128_GCM,
                                           "inline:AAECAwQFBgcICQoLDA0OD6ChoqOkpaanqKmqqw=", key, sizeof key), -1);

    /* Output buffer smaller than the key, NULL text, unknown suite. */
    assert_int_equal(rp_srtp_inline_decode(RP_SRTP_AES_CM_128_HMAC_SHA1_80, RFC4568_INLINE, key, 29), -1);
    assert_int_equal(rp_srtp_inline_decode(RP_SRTP_AES_CM_128_HMAC_SHA1_80, NULL, key, sizeof key), -1);
    assert_int_equal(rp_srtp_inline_decode(RP_SRTP_NSUITES, RFC4568_INLINE, key, sizeof key), -1);
}

static void test_inline_key_interoperates_with_a_context(void **state)
{
    (void)state;
    /* The key carried in SDP drives the libsrtp reference vector end to end. */
    char text[RP_SRTP_INLINE_MAX];
    uint8_t key[RP_SRTP_MAX_KEY_LEN];
    assert_int_equal(rp_srtp_inline_encode(libsrtp_test_key, 30, text, sizeof text), 0);
    assert_int_equal(rp_srtp_inline_decode(RP_SRTP_AES_CM_128_HMAC_SHA1_80, text, key, sizeof key), 0);
    struct rp_srtp *tx = new_ctx(RP_SRTP_AES_CM_128_HMAC_SHA1_80, RP_SRTP_OUTBOUND, key);
    uint8_t pkt[sizeof libsrtp_ciphertext_80];
    memcpy(pkt, libsrtp_plaintext, sizeof libsrtp_plaintext);
    size_t len = sizeof libsrtp_plaintext;
    assert_int_equal(rp_srtp_protect(tx, pkt, &len, sizeof pkt), RP_SRTP_OK);
    assert_memory_equal(pkt, libsrtp_ciphertext_80, sizeof libsrtp_ciphertext_80);
    rp_srtp_free(tx);
}

static void test_global_init_is_idempotent(void **state)
{
    (void)state;
    /* Already initialised by the group setup; a second call must not fail. */
    assert_int_equal(rp_srtp_global_init(), 0);
    uint8_t key[30] = { 0 };
    struct rp_srtp *c = new_ctx(RP_SRTP_AES_CM_128_HMAC_SHA1_80, RP_SRTP_OUTBOUND, key);
    rp_srtp_free(c);
}

/* ---- SRTCP ---- */

static void srtcp_known_answer(enum rp_srtp_suite s, const uint8_t *key, const uint8_t *want, size_t want_len)
{
    struct rp_srtp *tx = new_ctx(s, RP_SRTP_OUTBOUND, key);
    struct rp_srtp *rx = new_ctx(s, RP_SRTP_INBOUND, key);
    uint8_t pkt[64];
    memcpy(pkt, libsrtp_rtcp_plaintext, sizeof libsrtp_rtcp_plaintext);
    size_t len = sizeof libsrtp_rtcp_plaintext;
    assert_int_equal(rp_srtp_protect_rtcp(tx, pkt, &len, sizeof pkt), RP_SRTP_OK);
    assert_int_equal(len, want_len);
    assert_int_equal(len, sizeof libsrtp_rtcp_plaintext + rp_srtp_rtcp_overhead(s));
    assert_memory_equal(pkt, want, want_len);
    assert_int_equal(rp_srtp_unprotect_rtcp(rx, pkt, &len), RP_SRTP_OK);
    assert_int_equal(len, sizeof libsrtp_rtcp_plaintext);
    assert_memory_equal(pkt, libsrtp_rtcp_plaintext, len);
    rp_srtp_free(tx);
    rp_srtp_free(rx);
}

static void test_srtcp_matches_libsrtp_reference_vectors(void **state)
{
    (void)state;
    srtcp_known_answer(RP_SRTP_AES_CM_128_HMAC_SHA1_80, libsrtp_test_key, libsrtp_srtcp_ciphertext_80,
                       sizeof libsrtp_srtcp_ciphertext_80);
    srtcp_known_answer(RP_SRTP_AEAD_AES_128_GCM, libsrtp_test_key_gcm, libsrtp_srtcp_ciphertext_gcm128,
                       sizeof libsrtp_srtcp_ciphertext_gcm128);
}

static size_t build_sr(uint8_t *buf, size_t cap, uint32_t packets)
{
    struct rp_rtcp_sr sr = { TEST_SSRC, 0xe8fe6f8040000000ull, 160u * packets, packets, 160u * packets };
    struct rp_rtcp_block rb = { 0x11223344u, 3, 7, 1000, 20, 0x6f804000u, 0x10000u };
    size_t n = rp_rtcp_build_sr(buf, cap, &sr, &rb, "srtcp-test-cname");
    assert_int_not_equal(n, 0);
    return n;
}

static void test_srtcp_round_trip_for_every_suite(void **state)
{
    (void)state;
    static const size_t overhead[NSUITES] = { 14, 14, 20, 20 };
    for (int si = 0; si < NSUITES; si++) {
        enum rp_srtp_suite s = (enum rp_srtp_suite)si;
        assert_int_equal(rp_srtp_rtcp_overhead(s), overhead[si]);
        assert_true(overhead[si] <= RP_SRTCP_MAX_OVERHEAD);
        uint8_t key[RP_SRTP_MAX_KEY_LEN];
        assert_int_equal(rp_srtp_keygen(s, key, sizeof key), 0);
        struct rp_srtp *tx = new_ctx(s, RP_SRTP_OUTBOUND, key);
        struct rp_srtp *rx = new_ctx(s, RP_SRTP_INBOUND, key);
        for (uint32_t k = 1; k <= 3; k++) {
            uint8_t plain[256], pkt[256];
            size_t plain_len = build_sr(plain, sizeof plain, 50 * k);
            memcpy(pkt, plain, plain_len);
            size_t len = plain_len;
            assert_int_equal(rp_srtp_protect_rtcp(tx, pkt, &len, plain_len + overhead[si]), RP_SRTP_OK);
            assert_int_equal(len, plain_len + overhead[si]);
            /* Header and sender SSRC in clear, the rest encrypted; E flag and index k. */
            assert_memory_equal(pkt, plain, 8);
            size_t same = 0;
            for (size_t i = 8; i < plain_len; i++)
                same += pkt[i] == plain[i];
            assert_true(same < 8);
            size_t trailer = s == RP_SRTP_AEAD_AES_128_GCM || s == RP_SRTP_AEAD_AES_256_GCM ? len - 4 : plain_len;
            assert_int_equal(pkt[trailer], 0x80);
            assert_int_equal(pkt[trailer + 3], k);
            assert_int_equal(rp_srtp_unprotect_rtcp(rx, pkt, &len), RP_SRTP_OK);
            assert_int_equal(len, plain_len);
            assert_memory_equal(pkt, plain, plain_len);
            struct rp_rtcp_info info;
            assert_int_equal(rp_rtcp_parse(pkt, len, &info), 0);
            assert_int_equal(info.sr.packets, 50 * k);
        }
        rp_srtp_free(tx);
        rp_srtp_free(rx);
    }
}

static void test_srtcp_flipped_byte_fails_authentication(void **state)
{
    (void)state;
    for (int si = 0; si < NSUITES; si++) {
        enum rp_srtp_suite s = (enum rp_srtp_suite)si;
        uint8_t key[RP_SRTP_MAX_KEY_LEN];
        fixed_key(s, (uint8_t)(0x50 + si), key);
        struct rp_srtp *tx = new_ctx(s, RP_SRTP_OUTBOUND, key);
        struct rp_srtp *rx = new_ctx(s, RP_SRTP_INBOUND, key);
        uint8_t pkt[256], bad[256];
        size_t len = build_sr(pkt, sizeof pkt, 10);
        assert_int_equal(rp_srtp_protect_rtcp(tx, pkt, &len, sizeof pkt), RP_SRTP_OK);
        /* Every byte of it: header, SSRC, body, E+index, tag. */
        for (size_t i = 0; i < len; i++) {
            if (i == 0)
                continue; /* the version bits: malformed, checked below */
            memcpy(bad, pkt, len);
            bad[i] ^= 0x01;
            size_t blen = len;
            enum rp_srtp_result r = rp_srtp_unprotect_rtcp(rx, bad, &blen);
            if (r != RP_SRTP_EAUTH)
                fail_msg("%s: byte %zu flipped gave %s", rp_srtp_suite_name(s), i, rp_srtp_result_name(r));
        }
        memcpy(bad, pkt, len);
        bad[0] ^= 0x40;
        size_t blen = len;
        assert_int_equal(rp_srtp_unprotect_rtcp(rx, bad, &blen), RP_SRTP_EINVALID);
        /* The forgeries did not move the replay window: the genuine one passes. */
        assert_int_equal(rp_srtp_unprotect_rtcp(rx, pkt, &len), RP_SRTP_OK);
        rp_srtp_free(tx);
        rp_srtp_free(rx);
    }
}

static void test_srtcp_replay_is_refused(void **state)
{
    (void)state;
    for (int si = 0; si < NSUITES; si++) {
        enum rp_srtp_suite s = (enum rp_srtp_suite)si;
        uint8_t key[RP_SRTP_MAX_KEY_LEN];
        fixed_key(s, 0x77, key);
        struct rp_srtp *tx = new_ctx(s, RP_SRTP_OUTBOUND, key);
        struct rp_srtp *rx = new_ctx(s, RP_SRTP_INBOUND, key);
        uint8_t a[256], a2[256], b[256];
        size_t alen = build_sr(a, sizeof a, 1), blen = build_sr(b, sizeof b, 2);
        assert_int_equal(rp_srtp_protect_rtcp(tx, a, &alen, sizeof a), RP_SRTP_OK);
        assert_int_equal(rp_srtp_protect_rtcp(tx, b, &blen, sizeof b), RP_SRTP_OK);
        memcpy(a2, a, alen);
        size_t a2len = alen;
        assert_int_equal(rp_srtp_unprotect_rtcp(rx, a, &alen), RP_SRTP_OK);
        assert_int_equal(rp_srtp_unprotect_rtcp(rx, a2, &a2len), RP_SRTP_EREPLAY);
        /* Out of order but new: accepted; then it too is a replay. */
        memcpy(a2, b, blen);
        a2len = blen;
        assert_int_equal(rp_srtp_unprotect_rtcp(rx, b, &blen), RP_SRTP_OK);
        assert_int_equal(rp_srtp_unprotect_rtcp(rx, a2, &a2len), RP_SRTP_EREPLAY);
        rp_srtp_free(tx);
        rp_srtp_free(rx);
    }
}

static void test_srtcp_and_srtp_share_a_context_with_separate_windows(void **state)
{
    (void)state;
    uint8_t key[RP_SRTP_MAX_KEY_LEN];
    fixed_key(RP_SRTP_AEAD_AES_128_GCM, 0x21, key);
    struct rp_srtp *tx = new_ctx(RP_SRTP_AEAD_AES_128_GCM, RP_SRTP_OUTBOUND, key);
    struct rp_srtp *rx = new_ctx(RP_SRTP_AEAD_AES_128_GCM, RP_SRTP_INBOUND, key);
    uint8_t rtp[RP_RTP_MAX_PKT], rtcp[256];
    /* The same SSRC: RTP index 1 and SRTCP index 1 do not collide. */
    size_t rlen = build_packet(rtp, sizeof rtp, 1, NULL), clen = build_sr(rtcp, sizeof rtcp, 1);
    assert_int_equal(rp_srtp_protect(tx, rtp, &rlen, sizeof rtp), RP_SRTP_OK);
    assert_int_equal(rp_srtp_protect_rtcp(tx, rtcp, &clen, sizeof rtcp), RP_SRTP_OK);
    assert_int_equal(rp_srtp_unprotect_rtcp(rx, rtcp, &clen), RP_SRTP_OK);
    assert_int_equal(rp_srtp_unprotect(rx, rtp, &rlen), RP_SRTP_OK);
    /* RTP protected as RTCP by mistake does not pass as RTCP the other way. */
    rlen = build_packet(rtp, sizeof rtp, 2, NULL);
    assert_int_equal(rp_srtp_protect(tx, rtp, &rlen, sizeof rtp), RP_SRTP_OK);
    enum rp_srtp_result r = rp_srtp_unprotect_rtcp(rx, rtp, &rlen);
    assert_true(r == RP_SRTP_EAUTH || r == RP_SRTP_EINVALID);
    rp_srtp_free(tx);
    rp_srtp_free(rx);
}

static void test_srtcp_needs_room_and_a_sane_packet(void **state)
{
    (void)state;
    uint8_t key[RP_SRTP_MAX_KEY_LEN];
    fixed_key(RP_SRTP_AES_CM_128_HMAC_SHA1_80, 0x42, key);
    struct rp_srtp *tx = new_ctx(RP_SRTP_AES_CM_128_HMAC_SHA1_80, RP_SRTP_OUTBOUND, key);
    struct rp_srtp *rx = new_ctx(RP_SRTP_AES_CM_128_HMAC_SHA1_80, RP_SRTP_INBOUND, key);
    uint8_t pkt[256], copy[256];
    size_t plain = build_sr(pkt, sizeof pkt, 5), len = plain;
    memcpy(copy, pkt, plain);
    /* One byte short of room: refused, packet untouched. */
    assert_int_equal(rp_srtp_protect_rtcp(tx, pkt, &len, plain + 13), RP_SRTP_EINVALID);
    assert_int_equal(len, plain);
    assert_memory_equal(pkt, copy, plain);
    /* Wrong direction, short, or not version 2. */
    assert_int_equal(rp_srtp_protect_rtcp(rx, pkt, &len, sizeof pkt), RP_SRTP_EINVALID);
    len = 7;
    assert_int_equal(rp_srtp_protect_rtcp(tx, pkt, &len, sizeof pkt), RP_SRTP_EINVALID);
    len = plain;
    pkt[0] = 0x41;
    assert_int_equal(rp_srtp_protect_rtcp(tx, pkt, &len, sizeof pkt), RP_SRTP_EINVALID);
    pkt[0] = copy[0];
    assert_int_equal(rp_srtp_protect_rtcp(tx, pkt, &len, sizeof pkt), RP_SRTP_OK);
    assert_int_equal(rp_srtp_unprotect_rtcp(tx, pkt, &len), RP_SRTP_EINVALID);
    /* Shorter than header + trailer + tag: malformed before libsrtp sees it. */
    for (size_t cut = 0; cut < 8 + 14; cut++) {
        size_t n = cut;
        memcpy(copy, pkt, len);
        assert_int_equal(rp_srtp_unprotect_rtcp(rx, copy, &n), RP_SRTP_EINVALID);
    }
    /* Truncated but long enough: the tag no longer verifies. */
    for (size_t cut = 8 + 14; cut < len; cut++) {
        size_t n = cut;
        memcpy(copy, pkt, len);
        assert_int_not_equal(rp_srtp_unprotect_rtcp(rx, copy, &n), RP_SRTP_OK);
    }
    assert_int_equal(rp_srtp_unprotect_rtcp(rx, pkt, &len), RP_SRTP_OK);
    assert_int_equal(len, plain);
    rp_srtp_free(tx);
    rp_srtp_free(rx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suite_names_lengths_and_overheads_follow_the_rfcs),
        cmocka_unit_test(test_suite_name_parse_is_case_insensitive_and_round_trips),
        cmocka_unit_test(test_unknown_suite_names_are_rejected),
        cmocka_unit_test(test_result_names_are_stable_labels),
        cmocka_unit_test(test_keygen_fills_exactly_the_suite_key_length_with_fresh_bytes),
        cmocka_unit_test(test_new_rejects_wrong_key_length_and_unknown_suite),
        cmocka_unit_test(test_aes_cm_128_hmac_sha1_80_matches_libsrtp_reference_vector),
        cmocka_unit_test(test_aes_cm_128_hmac_sha1_32_tag_is_the_80_bit_tag_truncated),
        cmocka_unit_test(test_aead_aes_128_gcm_matches_libsrtp_reference_vector),
        cmocka_unit_test(test_independent_gcm_reference_reproduces_libsrtp_vector),
        cmocka_unit_test(test_aead_aes_256_gcm_matches_independent_rfc7714_computation),
        cmocka_unit_test(test_round_trip_restores_packet_and_encrypts_only_the_payload),
        cmocka_unit_test(test_flipped_payload_or_tag_bit_fails_authentication),
        cmocka_unit_test(test_replayed_packet_is_rejected),
        cmocka_unit_test(test_replay_window_holds_the_last_128_packets),
        cmocka_unit_test(test_sender_refuses_to_reuse_a_sequence_number),
        cmocka_unit_test(test_packet_under_another_key_fails_authentication),
        cmocka_unit_test(test_receivers_with_the_same_key_are_independent_of_sender_and_each_other),
        cmocka_unit_test(test_protect_needs_room_for_the_tag_and_leaves_packet_alone_otherwise),
        cmocka_unit_test(test_short_or_non_rtp_input_is_malformed),
        cmocka_unit_test(test_inline_encode_matches_python_base64),
        cmocka_unit_test(test_inline_encode_refuses_a_buffer_one_byte_short),
        cmocka_unit_test(test_inline_round_trip_for_every_suite),
        cmocka_unit_test(test_rfc4568_example_key_decodes_without_lifetime_and_mki),
        cmocka_unit_test(test_rfc4568_example_with_lifetime_or_mki_is_rejected),
        cmocka_unit_test(test_malformed_inline_keys_are_rejected),
        cmocka_unit_test(test_inline_key_interoperates_with_a_context),
        cmocka_unit_test(test_global_init_is_idempotent),
        cmocka_unit_test(test_srtcp_matches_libsrtp_reference_vectors),
        cmocka_unit_test(test_srtcp_round_trip_for_every_suite),
        cmocka_unit_test(test_srtcp_flipped_byte_fails_authentication),
        cmocka_unit_test(test_srtcp_replay_is_refused),
        cmocka_unit_test(test_srtcp_and_srtp_share_a_context_with_separate_windows),
        cmocka_unit_test(test_srtcp_needs_room_and_a_sane_packet),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
