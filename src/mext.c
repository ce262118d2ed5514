/* The measurement extension elements (docs/wire-format.md): fixed-size,
 * network byte order, version byte first so the layout can evolve. */
/* SHA256_Init and friends: OpenSSL 3 marks them deprecated but keeps them; they
 * are the only allocation-free way to resume a hashed HMAC pad (see below). */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "mext.h"
#include "wire.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "rtp.h"

size_t rp_mext_up_encode(const struct rp_mext_up *in, uint8_t *buf, size_t cap)
{
    if (cap < RP_MEXT_UP_LEN)
        return 0;
    memset(buf, 0, RP_MEXT_UP_LEN);     /* reserved bytes are zero */
    buf[0] = RP_MEXT_VERSION;
    buf[1] = in->flags;
    rp_put32(buf + 4, in->seq);
    rp_put64(buf + 8, in->t1_ns);
    return RP_MEXT_UP_LEN;
}

int rp_mext_up_decode(const uint8_t *data, size_t len, struct rp_mext_up *out)
{
    /* Exact size: a longer element would be a layout this version does not know. */
    if (len != RP_MEXT_UP_LEN || data[0] != RP_MEXT_VERSION)
        return -1;
    out->flags = data[1];
    out->seq = rp_get32(data + 4);
    out->t1_ns = rp_get64(data + 8);
    return 0;
}

size_t rp_mext_down_encode(const struct rp_mext_down *in, uint8_t *buf, size_t cap)
{
    if (cap < RP_MEXT_DOWN_LEN)
        return 0;
    memset(buf, 0, RP_MEXT_DOWN_LEN);
    buf[0] = RP_MEXT_VERSION;
    buf[1] = in->flags;
    rp_put32(buf + 4, in->refl_seq);
    rp_put64(buf + 8, in->t1_ns);
    rp_put64(buf + 16, in->t2_ns);
    rp_put64(buf + 24, in->t3_ns);
    rp_put32(buf + 32, in->up_received);
    rp_put32(buf + 36, in->down_sent);
    rp_put32(buf + 40, in->up_host_drops);
    return RP_MEXT_DOWN_LEN;
}

int rp_mext_down_decode(const uint8_t *data, size_t len, struct rp_mext_down *out)
{
    if (len != RP_MEXT_DOWN_LEN || data[0] != RP_MEXT_VERSION)
        return -1;
    out->flags = data[1];
    out->refl_seq = rp_get32(data + 4);
    out->t1_ns = rp_get64(data + 8);
    out->t2_ns = rp_get64(data + 16);
    out->t3_ns = rp_get64(data + 24);
    out->up_received = rp_get32(data + 32);
    out->down_sent = rp_get32(data + 36);
    out->up_host_drops = rp_get32(data + 40);
    return 0;
}

/* Offset of the ID-3 tag inside pkt, or -1. */
static long auth_offset(const uint8_t *pkt, size_t len)
{
    struct rp_rtp_pkt p;
    const uint8_t *tag;
    size_t tlen;
    if (rp_rtp_parse(pkt, len, &p) != RP_RTP_OK || rp_rtp_ext_find(&p, RP_MEXT_ID_AUTH, &tag, &tlen) != 1 ||
        tlen != RP_MEXT_AUTH_LEN)
        return -1;
    return (long)(tag - pkt);
}

static int compute_tag(const uint8_t *pkt, size_t len, size_t off, const uint8_t *key,
                       uint8_t out[RP_MEXT_AUTH_LEN])
{
    uint8_t copy[RP_RTP_MAX_PKT + 64];
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    if (len > sizeof copy)
        return -1;
    memcpy(copy, pkt, len);
    memset(copy + off, 0, RP_MEXT_AUTH_LEN);
    if (!HMAC(EVP_sha256(), key, RP_MEXT_AUTH_KEY_LEN, copy, len, md, &mdlen) || mdlen < RP_MEXT_AUTH_LEN)
        return -1;
    memcpy(out, md, RP_MEXT_AUTH_LEN);
    return 0;
}

int rp_mext_auth_sign(uint8_t *pkt, size_t len, const uint8_t key[RP_MEXT_AUTH_KEY_LEN])
{
    long off = auth_offset(pkt, len);
    uint8_t tag[RP_MEXT_AUTH_LEN];
    if (off < 0 || compute_tag(pkt, len, (size_t)off, key, tag) < 0)
        return -1;
    memcpy(pkt + off, tag, sizeof tag);
    return 0;
}

int rp_mext_auth_verify(const uint8_t *pkt, size_t len, const uint8_t key[RP_MEXT_AUTH_KEY_LEN])
{
    long off = auth_offset(pkt, len);
    uint8_t tag[RP_MEXT_AUTH_LEN];
    if (off < 0 || compute_tag(pkt, len, (size_t)off, key, tag) < 0)
        return -1;
    return CRYPTO_memcmp(tag, pkt + off, sizeof tag) == 0 ? 0 : -2;
}

/* HMAC-SHA256 (RFC 2104) with the key's inner and outer states hashed once:
 * a packet then costs a copy of each 112-byte state and the hashing of its own
 * bytes. Through EVP_MAC the same reset duplicated a provider context (malloc,
 * copy, free) and chased pointers across several structures per packet, which
 * at a thousand sessions is mostly cache misses. The tag is the same: the
 * packet is hashed in three runs (before the tag, ten zero bytes, after it)
 * instead of through a zeroed copy. */
struct rp_mext_auth {
    SHA256_CTX inner; /* after (key ^ ipad) */
    SHA256_CTX outer; /* after (key ^ opad) */
};

static void pad_state(SHA256_CTX *st, const uint8_t key[RP_MEXT_AUTH_KEY_LEN], uint8_t pad)
{
    uint8_t block[SHA256_CBLOCK];
    /* A key no longer than a block is used as is, zero-filled (RFC 2104 §2). */
    _Static_assert(RP_MEXT_AUTH_KEY_LEN <= SHA256_CBLOCK, "the session key fits one SHA-256 block");
    memset(block, pad, sizeof block);
    for (size_t i = 0; i < RP_MEXT_AUTH_KEY_LEN; i++)
        block[i] ^= key[i];
    SHA256_Init(st);
    SHA256_Update(st, block, sizeof block);
    OPENSSL_cleanse(block, sizeof block);
}

struct rp_mext_auth *rp_mext_auth_new(const uint8_t key[RP_MEXT_AUTH_KEY_LEN])
{
    struct rp_mext_auth *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    pad_state(&a->inner, key, 0x36);
    pad_state(&a->outer, key, 0x5c);
    return a;
}

void rp_mext_auth_free(struct rp_mext_auth *a)
{
    if (!a)
        return;
    OPENSSL_cleanse(a, sizeof *a); /* the states are as good as the key */
    free(a);
}

static int keyed_tag(const struct rp_mext_auth *a, const uint8_t *pkt, size_t len, size_t off,
                     uint8_t out[RP_MEXT_AUTH_LEN])
{
    static const uint8_t zero[RP_MEXT_AUTH_LEN];
    uint8_t md[SHA256_DIGEST_LENGTH];
    size_t after = off + RP_MEXT_AUTH_LEN;
    SHA256_CTX st = a->inner;
    if (after > len)
        return -1;
    SHA256_Update(&st, pkt, off);
    SHA256_Update(&st, zero, sizeof zero);
    SHA256_Update(&st, pkt + after, len - after);
    SHA256_Final(md, &st);
    st = a->outer;
    SHA256_Update(&st, md, sizeof md);
    SHA256_Final(md, &st);
    memcpy(out, md, RP_MEXT_AUTH_LEN);
    OPENSSL_cleanse(md, sizeof md);
    OPENSSL_cleanse(&st, sizeof st);
    return 0;
}

int rp_mext_auth_seal(const struct rp_mext_auth *a, uint8_t *pkt, size_t len)
{
    long off = auth_offset(pkt, len);
    uint8_t tag[RP_MEXT_AUTH_LEN];
    if (off < 0 || keyed_tag(a, pkt, len, (size_t)off, tag) < 0)
        return -1;
    memcpy(pkt + off, tag, sizeof tag);
    return 0;
}

int rp_mext_auth_check(const struct rp_mext_auth *a, const uint8_t *pkt, size_t len)
{
    long off = auth_offset(pkt, len);
    uint8_t tag[RP_MEXT_AUTH_LEN];
    if (off < 0 || keyed_tag(a, pkt, len, (size_t)off, tag) < 0)
        return -1;
    return CRYPTO_memcmp(tag, pkt + off, sizeof tag) == 0 ? 0 : -2;
}
