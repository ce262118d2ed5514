/* SRTP (RFC 3711, RFC 7714) over libsrtp2, plus RFC 4568 "inline:" key strings.
 * One context = one libsrtp session with a single any-SSRC template for one
 * direction, so a sender and a receiver never share replay state. No MKI is
 * ever configured, which is what lets protect() promise at most
 * RP_SRTP_MAX_OVERHEAD extra bytes (see the note above rp_srtp_protect). */
#include "srtp.h"
#include "errbuf.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <srtp2/srtp.h>

#define RTP_FIXED_HDR_LEN 12
#define RTCP_MIN_LEN      8            /* header + sender SSRC: what libsrtp reads in clear */
#define SRTCP_TRAILER_LEN 4            /* E flag + 31-bit SRTCP index (RFC 3711 §3.4) */
#define RTP_VERSION       2
#define REPLAY_WINDOW     128          /* packets; libsrtp's default and RFC 3711 §3.3.2 minimum is 64 */
#define INLINE_PREFIX     "inline:"
#define INLINE_PREFIX_LEN (sizeof(INLINE_PREFIX) - 1)
#define B64_LEN(n)        (4 * (((n) + 2) / 3))   /* padded base64 length of n bytes */
#define B64_MAX_LEN       B64_LEN(RP_SRTP_MAX_KEY_LEN)

struct suite_info {
    const char *name;
    size_t key_len;   /* master key + master salt */
    size_t overhead;  /* SRTP auth tag or AEAD tag */
    size_t rtcp_tag;  /* SRTCP's (set_crypto_policy's rtcp policy): SHA1_32 keeps an 80-bit one */
};

/* Indexed by enum rp_srtp_suite. Key lengths are libsrtp's own constants so the
 * two can never disagree about how many key bytes srtp_create reads. */
static const struct suite_info SUITES[RP_SRTP_NSUITES] = {
    [RP_SRTP_AES_CM_128_HMAC_SHA1_80] = { "AES_CM_128_HMAC_SHA1_80", SRTP_AES_ICM_128_KEY_LEN_WSALT, 10, 10 },
    [RP_SRTP_AES_CM_128_HMAC_SHA1_32] = { "AES_CM_128_HMAC_SHA1_32", SRTP_AES_ICM_128_KEY_LEN_WSALT, 4, 10 },
    [RP_SRTP_AEAD_AES_128_GCM]        = { "AEAD_AES_128_GCM",        SRTP_AES_GCM_128_KEY_LEN_WSALT, 16, 16 },
    [RP_SRTP_AEAD_AES_256_GCM]        = { "AEAD_AES_256_GCM",        SRTP_AES_GCM_256_KEY_LEN_WSALT, 16, 16 },
};

_Static_assert(SRTP_AES_GCM_256_KEY_LEN_WSALT <= RP_SRTP_MAX_KEY_LEN, "largest key fits RP_SRTP_MAX_KEY_LEN");
_Static_assert(SRTP_MAX_TAG_LEN <= RP_SRTP_MAX_OVERHEAD, "no tag is longer than RP_SRTP_MAX_OVERHEAD");
_Static_assert(INLINE_PREFIX_LEN + B64_MAX_LEN + 1 <= RP_SRTP_INLINE_MAX, "inline string fits RP_SRTP_INLINE_MAX");
_Static_assert(SRTCP_TRAILER_LEN + SRTP_MAX_TAG_LEN <= RP_SRTCP_MAX_OVERHEAD, "SRTCP fits RP_SRTCP_MAX_OVERHEAD");
_Static_assert(RP_SRTP_MAX_KEY_LEN <= SRTP_MAX_KEY_LEN, "key copy buffer is large enough");

struct rp_srtp {
    srtp_t session;
    enum rp_srtp_suite suite;
    enum rp_srtp_dir dir;
};

static bool suite_valid(enum rp_srtp_suite s)
{
    return (unsigned)s < RP_SRTP_NSUITES;
}

const char *rp_srtp_suite_name(enum rp_srtp_suite s)
{
    return suite_valid(s) ? SUITES[s].name : "unknown";
}

int rp_srtp_suite_parse(const char *name, enum rp_srtp_suite *out)
{
    if (!name || !out)
        return -1;
    for (unsigned i = 0; i < RP_SRTP_NSUITES; i++) {
        if (strcasecmp(name, SUITES[i].name) == 0) {
            *out = (enum rp_srtp_suite)i;
            return 0;
        }
    }
    return -1;
}

size_t rp_srtp_key_len(enum rp_srtp_suite s)
{
    return suite_valid(s) ? SUITES[s].key_len : 0;
}

size_t rp_srtp_overhead(enum rp_srtp_suite s)
{
    return suite_valid(s) ? SUITES[s].overhead : 0;
}

int rp_srtp_keygen(enum rp_srtp_suite s, uint8_t *key, size_t len)
{
    size_t want = rp_srtp_key_len(s);

    if (want == 0 || !key || len < want)
        return -1;
    return RAND_bytes(key, (int)want) == 1 ? 0 : -1;
}

int rp_srtp_inline_encode(const uint8_t *key, size_t len, char *out, size_t outlen)
{
    if (!key || !out || len == 0 || len > RP_SRTP_MAX_KEY_LEN)
        return -1;
    if (outlen < INLINE_PREFIX_LEN + B64_LEN(len) + 1)
        return -1;
    memcpy(out, INLINE_PREFIX, INLINE_PREFIX_LEN);
    /* EVP_EncodeBlock writes the padded text and a NUL. */
    int n = EVP_EncodeBlock((unsigned char *)out + INLINE_PREFIX_LEN, key, (int)len);
    if (n < 0 || (size_t)n != B64_LEN(len)) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}

static bool is_b64_char(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '+' || ch == '/';
}

/* Strict on purpose: the key must be exactly the suite's length in canonical,
 * padded base64 (RFC 4648 §4), with nothing around it. That rejects a lifetime
 * or MKI ("|2^20|1:32": we run without MKI and rekeying), whitespace, a second
 * key-param, and non-zero unused bits. EVP_DecodeBlock alone would skip
 * surrounding whitespace and count '=' padding as output bytes. */
int rp_srtp_inline_decode(enum rp_srtp_suite s, const char *text, uint8_t *key, size_t keycap)
{
    size_t want = rp_srtp_key_len(s);

    if (want == 0 || !text || !key || keycap < want)
        return -1;
    /* ABNF literals (RFC 4568 "inline") are case-insensitive (RFC 5234 §2.3). */
    if (strncasecmp(text, INLINE_PREFIX, INLINE_PREFIX_LEN) != 0)
        return -1;
    const char *b64 = text + INLINE_PREFIX_LEN;
    size_t b64len = strnlen(b64, B64_MAX_LEN + 1);
    size_t expect = B64_LEN(want);
    if (b64len != expect)
        return -1;

    size_t pad = (3 - want % 3) % 3;
    for (size_t i = 0; i < b64len; i++) {
        bool ok = i < b64len - pad ? is_b64_char(b64[i]) : b64[i] == '=';
        if (!ok)
            return -1;
    }

    unsigned char raw[B64_MAX_LEN / 4 * 3];
    unsigned char again[B64_MAX_LEN + 1];
    int rc = -1;
    int got = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)b64len);
    /* got counts the '=' positions as zero bytes; the real length is got - pad. */
    if (got < 0 || (size_t)got != expect / 4 * 3)
        goto out;
    /* Re-encoding must give the same text, or unused low bits were set. */
    if (EVP_EncodeBlock(again, raw, (int)want) != (int)expect || memcmp(again, b64, expect) != 0)
        goto out;
    memcpy(key, raw, want);
    rc = 0;
out:
    OPENSSL_cleanse(raw, sizeof raw);
    OPENSSL_cleanse(again, sizeof again);
    return rc;
}

/* libsrtp refuses a second srtp_init (bad_param) and has no reference count, so a
 * file-local once-flag keeps init/fini idempotent. It is the one piece of mutable
 * static state in this module, accepted because libsrtp's own state is
 * process-wide anyway. */
static bool srtp_ready;

int rp_srtp_global_init(void)
{
    if (srtp_ready)
        return 0;
    if (srtp_init() != srtp_err_status_ok)
        return -1;
    srtp_ready = true;
    return 0;
}

void rp_srtp_global_fini(void)
{
    if (!srtp_ready)
        return;
    (void)srtp_shutdown();
    srtp_ready = false;
}

static void set_crypto_policy(enum rp_srtp_suite s, srtp_policy_t *p)
{
    switch (s) {
    case RP_SRTP_AES_CM_128_HMAC_SHA1_80:
        srtp_crypto_policy_set_rtp_default(&p->rtp);
        srtp_crypto_policy_set_rtcp_default(&p->rtcp);
        break;
    case RP_SRTP_AES_CM_128_HMAC_SHA1_32:
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p->rtp);
        /* RFC 4568 and RFC 5764 define this suite with an 80-bit SRTCP tag. */
        srtp_crypto_policy_set_rtcp_default(&p->rtcp);
        break;
    case RP_SRTP_AEAD_AES_128_GCM:
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtcp);
        break;
    case RP_SRTP_AEAD_AES_256_GCM:
        srtp_crypto_policy_set_aes_gcm_256_16_auth(&p->rtp);
        srtp_crypto_policy_set_aes_gcm_256_16_auth(&p->rtcp);
        break;
    case RP_SRTP_NSUITES:
        break;
    }
}

struct rp_srtp *rp_srtp_new(enum rp_srtp_suite s, enum rp_srtp_dir dir, const uint8_t *key, size_t len,
                            char *err, size_t errlen)
{
    if (!suite_valid(s)) {
        rp_errf(err, errlen, "unknown SRTP suite %d", (int)s);
        return NULL;
    }
    if (dir != RP_SRTP_OUTBOUND && dir != RP_SRTP_INBOUND) {
        rp_errf(err, errlen, "bad SRTP direction %d", (int)dir);
        return NULL;
    }
    if (!key || len != SUITES[s].key_len) {
        rp_errf(err, errlen, "%s needs a %zu-byte master key+salt, got %zu", SUITES[s].name,
                SUITES[s].key_len, key ? len : 0);
        return NULL;
    }

    struct rp_srtp *c = calloc(1, sizeof *c);
    if (!c) {
        rp_errf(err, errlen, "out of memory");
        return NULL;
    }
    c->suite = s;
    c->dir = dir;

    /* libsrtp takes a non-const key pointer; hand it a zero-padded private copy. */
    unsigned char keycopy[SRTP_MAX_KEY_LEN] = { 0 };
    memcpy(keycopy, key, len);

    srtp_policy_t policy;
    memset(&policy, 0, sizeof policy);
    set_crypto_policy(s, &policy);
    policy.ssrc.type = dir == RP_SRTP_OUTBOUND ? ssrc_any_outbound : ssrc_any_inbound;
    policy.key = keycopy;
    policy.window_size = REPLAY_WINDOW;
    policy.allow_repeat_tx = 0;
    policy.next = NULL;

    srtp_err_status_t st = srtp_create(&c->session, &policy);
    OPENSSL_cleanse(keycopy, sizeof keycopy);
    if (st != srtp_err_status_ok) {
        rp_errf(err, errlen, "srtp_create (%s) failed: libsrtp status %d%s", SUITES[s].name, (int)st,
                st == srtp_err_status_init_fail || st == srtp_err_status_fail
                    ? " (was rp_srtp_global_init called?)" : "");
        free(c);
        return NULL;
    }
    return c;
}

void rp_srtp_free(struct rp_srtp *c)
{
    if (!c)
        return;
    (void)srtp_dealloc(c->session);
    free(c);
}

const char *rp_srtp_result_name(enum rp_srtp_result r)
{
    switch (r) {
    case RP_SRTP_OK:        return "ok";
    case RP_SRTP_EAUTH:     return "auth_failure";
    case RP_SRTP_EREPLAY:   return "replay";
    case RP_SRTP_EINVALID:  return "malformed";
    case RP_SRTP_EINTERNAL: return "internal";
    }
    return "unknown";
}

static enum rp_srtp_result map_status(srtp_err_status_t st)
{
    switch (st) {
    case srtp_err_status_ok:
        return RP_SRTP_OK;
    case srtp_err_status_auth_fail:
        return RP_SRTP_EAUTH;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
    case srtp_err_status_pkt_idx_old:  /* index behind the window: a replay by another name */
        return RP_SRTP_EREPLAY;
    case srtp_err_status_bad_param:    /* srtp_validate_rtp_header: CSRC/extension past the end */
    case srtp_err_status_parse_err:
    case srtp_err_status_bad_mki:
        return RP_SRTP_EINVALID;
    default:
        return RP_SRTP_EINTERNAL;
    }
}

static bool looks_like_rtp(const uint8_t *pkt, size_t len)
{
    return len >= RTP_FIXED_HDR_LEN && (pkt[0] >> 6) == RTP_VERSION;
}

/* libsrtp documents that srtp_protect "assumes it can write SRTP_MAX_TRAILER_LEN"
 * (144 bytes, tag + largest MKI). Reading the 2.5.0 source (srtp_protect_mki,
 * srtp_protect_aead, the NSS and OpenSSL HMAC/ICM/GCM back ends) it writes only
 * the tag after the payload when no MKI is configured: HMAC output is copied
 * tag_len bytes from a local buffer, ICM encrypts in place, and GCM writes
 * payload + 16-byte tag (NSS: PK11_Encrypt with maxOut = len + 16). So
 * cap >= len + overhead is enough here, and the result length is checked. */
enum rp_srtp_result rp_srtp_protect(struct rp_srtp *c, uint8_t *pkt, size_t *len, size_t cap)
{
    if (!c || !pkt || !len || c->dir != RP_SRTP_OUTBOUND)
        return RP_SRTP_EINVALID;
    size_t plain = *len;
    size_t overhead = SUITES[c->suite].overhead;
    if (!looks_like_rtp(pkt, plain) || plain > cap || cap - plain < overhead ||
        plain > (size_t)INT_MAX - overhead)
        return RP_SRTP_EINVALID;

    int n = (int)plain;
    srtp_err_status_t st = srtp_protect(c->session, pkt, &n);
    if (st != srtp_err_status_ok)
        return map_status(st);
    if (n < 0 || (size_t)n != plain + overhead)
        return RP_SRTP_EINTERNAL;
    *len = (size_t)n;
    return RP_SRTP_OK;
}

enum rp_srtp_result rp_srtp_unprotect(struct rp_srtp *c, uint8_t *pkt, size_t *len)
{
    if (!c || !pkt || !len || c->dir != RP_SRTP_INBOUND)
        return RP_SRTP_EINVALID;
    size_t prot = *len;
    size_t overhead = SUITES[c->suite].overhead;
    if (!looks_like_rtp(pkt, prot) || prot < RTP_FIXED_HDR_LEN + overhead || prot > INT_MAX)
        return RP_SRTP_EINVALID;

    int n = (int)prot;
    srtp_err_status_t st = srtp_unprotect(c->session, pkt, &n);
    if (st != srtp_err_status_ok)
        return map_status(st);
    if (n < RTP_FIXED_HDR_LEN || (size_t)n > prot)
        return RP_SRTP_EINTERNAL;
    *len = (size_t)n;
    return RP_SRTP_OK;
}

/* SRTCP (RFC 3711 §3.4): the same session and per-SSRC streams as RTP (the
 * any-SSRC template covers RTCP too; libsrtp keeps a separate SRTCP replay
 * window per stream). As for RTP, with no MKI srtp_protect_rtcp writes only
 * the 4-byte E+index trailer and the tag after the packet (2.5.0:
 * srtp_protect_rtcp_mki / srtp_protect_rtcp_aead), hence the cap check. */
static bool looks_like_rtcp(const uint8_t *pkt, size_t len)
{
    return len >= RTCP_MIN_LEN && (pkt[0] >> 6) == RTP_VERSION;
}

size_t rp_srtp_rtcp_overhead(enum rp_srtp_suite s)
{
    return suite_valid(s) ? SRTCP_TRAILER_LEN + SUITES[s].rtcp_tag : 0;
}

enum rp_srtp_result rp_srtp_protect_rtcp(struct rp_srtp *c, uint8_t *pkt, size_t *len, size_t cap)
{
    if (!c || !pkt || !len || c->dir != RP_SRTP_OUTBOUND)
        return RP_SRTP_EINVALID;
    size_t plain = *len;
    size_t overhead = SRTCP_TRAILER_LEN + SUITES[c->suite].rtcp_tag;
    if (!looks_like_rtcp(pkt, plain) || plain > cap || cap - plain < overhead ||
        plain > (size_t)INT_MAX - overhead)
        return RP_SRTP_EINVALID;

    int n = (int)plain;
    srtp_err_status_t st = srtp_protect_rtcp(c->session, pkt, &n);
    if (st != srtp_err_status_ok)
        return map_status(st);
    if (n < 0 || (size_t)n != plain + overhead)
        return RP_SRTP_EINTERNAL;
    *len = (size_t)n;
    return RP_SRTP_OK;
}

enum rp_srtp_result rp_srtp_unprotect_rtcp(struct rp_srtp *c, uint8_t *pkt, size_t *len)
{
    if (!c || !pkt || !len || c->dir != RP_SRTP_INBOUND)
        return RP_SRTP_EINVALID;
    size_t prot = *len;
    size_t overhead = SRTCP_TRAILER_LEN + SUITES[c->suite].rtcp_tag;
    if (!looks_like_rtcp(pkt, prot) || prot < RTCP_MIN_LEN + overhead || prot > INT_MAX)
        return RP_SRTP_EINVALID;

    int n = (int)prot;
    srtp_err_status_t st = srtp_unprotect_rtcp(c->session, pkt, &n);
    if (st != srtp_err_status_ok)
        return map_status(st);
    if (n < RTCP_MIN_LEN || (size_t)n > prot)
        return RP_SRTP_EINTERNAL;
    *len = (size_t)n;
    return RP_SRTP_OK;
}
