/* The measurement extension elements (docs/wire-format.md): fixed-size,
 * network byte order, version byte first so the layout can evolve. */
#include "mext.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "rtp.h"

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) << 32 | get32(p + 4);
}

size_t rp_mext_up_encode(const struct rp_mext_up *in, uint8_t *buf, size_t cap)
{
    if (cap < RP_MEXT_UP_LEN)
        return 0;
    memset(buf, 0, RP_MEXT_UP_LEN);     /* flags and reserved are zero */
    buf[0] = RP_MEXT_VERSION;
    put32(buf + 4, in->seq);
    put64(buf + 8, in->t1_ns);
    return RP_MEXT_UP_LEN;
}

int rp_mext_up_decode(const uint8_t *data, size_t len, struct rp_mext_up *out)
{
    /* Exact size: a longer element would be a layout this version does not know. */
    if (len != RP_MEXT_UP_LEN || data[0] != RP_MEXT_VERSION)
        return -1;
    out->seq = get32(data + 4);
    out->t1_ns = get64(data + 8);
    return 0;
}

size_t rp_mext_down_encode(const struct rp_mext_down *in, uint8_t *buf, size_t cap)
{
    if (cap < RP_MEXT_DOWN_LEN)
        return 0;
    memset(buf, 0, RP_MEXT_DOWN_LEN);
    buf[0] = RP_MEXT_VERSION;
    buf[1] = in->flags;
    put32(buf + 4, in->refl_seq);
    put64(buf + 8, in->t1_ns);
    put64(buf + 16, in->t2_ns);
    put64(buf + 24, in->t3_ns);
    put32(buf + 32, in->up_received);
    put32(buf + 36, in->down_sent);
    put32(buf + 40, in->up_host_drops);
    return RP_MEXT_DOWN_LEN;
}

int rp_mext_down_decode(const uint8_t *data, size_t len, struct rp_mext_down *out)
{
    if (len != RP_MEXT_DOWN_LEN || data[0] != RP_MEXT_VERSION)
        return -1;
    out->flags = data[1];
    out->refl_seq = get32(data + 4);
    out->t1_ns = get64(data + 8);
    out->t2_ns = get64(data + 16);
    out->t3_ns = get64(data + 24);
    out->up_received = get32(data + 32);
    out->down_sent = get32(data + 36);
    out->up_host_drops = get32(data + 40);
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
