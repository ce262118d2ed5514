/* The measurement extension elements (docs/wire-format.md): fixed-size,
 * network byte order, version byte first so the layout can evolve. */
#include "mext.h"
#include "wire.h"

#include <string.h>

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
