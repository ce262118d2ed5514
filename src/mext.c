/* The measurement extension elements (docs/wire-format.md): fixed-size,
 * network byte order, version byte first so the layout can evolve. */
#include "mext.h"
#include "wire.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

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

/* The session key's HMAC state (ipad and opad blocks hashed) is built once;
 * EVP_MAC_init without a key resets to it, which costs a digest-state copy
 * instead of a key schedule, a fetch and three contexts per packet as HMAC()
 * does. The tag is the same: the packet is hashed in three runs (before the
 * tag, ten zero bytes, after it) instead of through a zeroed copy. */
struct rp_mext_auth {
    EVP_MAC_CTX *ctx;
};

struct rp_mext_auth *rp_mext_auth_new(const uint8_t key[RP_MEXT_AUTH_KEY_LEN])
{
    struct rp_mext_auth *a = calloc(1, sizeof *a);
    EVP_MAC *mac = a ? EVP_MAC_fetch(NULL, "HMAC", NULL) : NULL;
    if (mac)
        a->ctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac); /* the context holds its own reference */
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    if (!a || !a->ctx || EVP_MAC_init(a->ctx, key, RP_MEXT_AUTH_KEY_LEN, params) != 1) {
        rp_mext_auth_free(a);
        return NULL;
    }
    return a;
}

void rp_mext_auth_free(struct rp_mext_auth *a)
{
    if (!a)
        return;
    EVP_MAC_CTX_free(a->ctx); /* OpenSSL cleanses the HMAC key state on free */
    free(a);
}

static int keyed_tag(struct rp_mext_auth *a, const uint8_t *pkt, size_t len, size_t off,
                     uint8_t out[RP_MEXT_AUTH_LEN])
{
    static const uint8_t zero[RP_MEXT_AUTH_LEN];
    uint8_t md[EVP_MAX_MD_SIZE];
    size_t mdlen = 0, after = off + RP_MEXT_AUTH_LEN;
    if (EVP_MAC_init(a->ctx, NULL, 0, NULL) != 1 || EVP_MAC_update(a->ctx, pkt, off) != 1 ||
        EVP_MAC_update(a->ctx, zero, sizeof zero) != 1 || EVP_MAC_update(a->ctx, pkt + after, len - after) != 1 ||
        EVP_MAC_final(a->ctx, md, &mdlen, sizeof md) != 1 || mdlen < RP_MEXT_AUTH_LEN)
        return -1;
    memcpy(out, md, RP_MEXT_AUTH_LEN);
    OPENSSL_cleanse(md, sizeof md);
    return 0;
}

int rp_mext_auth_seal(struct rp_mext_auth *a, uint8_t *pkt, size_t len)
{
    long off = auth_offset(pkt, len);
    uint8_t tag[RP_MEXT_AUTH_LEN];
    if (off < 0 || keyed_tag(a, pkt, len, (size_t)off, tag) < 0)
        return -1;
    memcpy(pkt + off, tag, sizeof tag);
    return 0;
}

int rp_mext_auth_check(struct rp_mext_auth *a, const uint8_t *pkt, size_t len)
{
    long off = auth_offset(pkt, len);
    uint8_t tag[RP_MEXT_AUTH_LEN];
    if (off < 0 || keyed_tag(a, pkt, len, (size_t)off, tag) < 0)
        return -1;
    return CRYPTO_memcmp(tag, pkt + off, sizeof tag) == 0 ? 0 : -2;
}
