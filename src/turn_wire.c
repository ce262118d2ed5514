/* TURN (RFC 8656) wire format on top of stun.c: request building with the
 * long-term credential, response parsing, MESSAGE-INTEGRITY, ChannelData and
 * stream framing. Pure: no sockets. Every read of server bytes is checked. */
#include "turn_wire.h"
#include "wire.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define ATTR_HDR            4
#define ATTR_USERNAME       0x0006u
#define ATTR_INTEGRITY      0x0008u
#define ATTR_ERROR_CODE     0x0009u
#define ATTR_CHANNEL_NUMBER 0x000Cu
#define ATTR_LIFETIME       0x000Du
#define ATTR_XOR_PEER       0x0012u
#define ATTR_DATA           0x0013u
#define ATTR_REALM          0x0014u
#define ATTR_NONCE          0x0015u
#define ATTR_XOR_RELAYED    0x0016u
#define ATTR_REQ_TRANSPORT  0x0019u
#define ATTR_XOR_MAPPED     0x0020u
#define ATTR_FINGERPRINT    0x8028u
#define INTEGRITY_LEN       RP_STUN_INTEGRITY_LEN
#define PROTO_UDP           17
#define COMPREHENSION_OPTIONAL 0x8000u

static size_t pad4(size_t n)
{
    return (n + 3) & ~(size_t)3;
}

/* Text from the server, kept only if short and printable: it ends up in
 * error messages on a terminal. */
static int copy_text(char *dst, const uint8_t *val, size_t vlen)
{
    if (vlen >= RP_TURN_MAX_TEXT)
        return -1;
    for (size_t i = 0; i < vlen; i++)
        dst[i] = val[i] >= 0x20 && val[i] < 0x7F ? (char)val[i] : '?';
    dst[vlen] = '\0';
    return 0;
}

static int take_error(struct rp_turn_msg *m, const uint8_t *val, size_t vlen)
{
    if (vlen < 4)
        return -1;
    int cls = val[2] & 0x07, num = val[3];
    if (cls < 3 || cls > 6 || num > 99)
        return -1;
    m->error_code = cls * 100 + num;
    /* A reason longer than we keep is cut, not refused: it is only shown. */
    size_t rlen = vlen - 4 < RP_TURN_MAX_TEXT - 1 ? vlen - 4 : RP_TURN_MAX_TEXT - 1;
    return copy_text(m->reason, val + 4, rlen);
}

/* One attribute before MESSAGE-INTEGRITY; -1 if its value is malformed. */
static int take_attr(struct rp_turn_msg *m, const uint8_t *buf, uint16_t type, const uint8_t *val, size_t vlen)
{
    switch (type) {
    case ATTR_ERROR_CODE:
        return take_error(m, val, vlen);
    case ATTR_REALM:
        return copy_text(m->realm, val, vlen);
    case ATTR_NONCE:
        return copy_text(m->nonce, val, vlen);
    case ATTR_XOR_RELAYED:
        m->has_relayed = true;
        return rp_stun_decode_address(val, vlen, true, buf, &m->relayed) == RP_STUN_OK ? 0 : -1;
    case ATTR_XOR_MAPPED:
        m->has_mapped = true;
        return rp_stun_decode_address(val, vlen, true, buf, &m->mapped) == RP_STUN_OK ? 0 : -1;
    case ATTR_XOR_PEER:
        m->has_peer = true;
        return rp_stun_decode_address(val, vlen, true, buf, &m->peer) == RP_STUN_OK ? 0 : -1;
    case ATTR_LIFETIME:
        if (vlen != 4)
            return -1;
        m->has_lifetime = true;
        m->lifetime = rp_get32(val);
        return 0;
    case ATTR_DATA:
        m->data = val;
        m->data_len = vlen;
        return 0;
    default:
        if (type < COMPREHENSION_OPTIONAL && type != ATTR_USERNAME && type != ATTR_CHANNEL_NUMBER &&
            type != ATTR_REQ_TRANSPORT)
            m->unknown_comprehension_required = true;
        return 0;
    }
}

enum rp_stun_err rp_turn_parse(const uint8_t *buf, size_t len, struct rp_turn_msg *out)
{
    struct rp_stun_msg base;
    memset(out, 0, sizeof *out);
    /* Header, length, attribute bounds and FINGERPRINT are stun.c's checks. */
    enum rp_stun_err e = rp_stun_parse(buf, len, &base);
    if (e != RP_STUN_OK)
        return e;
    out->type = base.type;
    memcpy(out->txid, base.txid, RP_STUN_TXID_LEN);
    size_t off = RP_STUN_HDR_LEN;
    while (off + ATTR_HDR <= len) {
        uint16_t type = rp_get16(buf + off);
        size_t vlen = rp_get16(buf + off + 2);
        const uint8_t *val = buf + off + ATTR_HDR;
        if (pad4(vlen) > len - off - ATTR_HDR)
            return RP_STUN_EATTR; /* rp_stun_parse checked it; kept local for the reader */
        if (type == ATTR_INTEGRITY) {
            if (vlen != INTEGRITY_LEN)
                return RP_STUN_EATTR;
            out->integrity_off = off;
            break; /* only FINGERPRINT may follow, and stun.c checked it */
        }
        if (take_attr(out, buf, type, val, vlen) < 0)
            return RP_STUN_EATTR;
        off += ATTR_HDR + pad4(vlen);
    }
    return RP_STUN_OK;
}

bool rp_turn_integrity_ok(const uint8_t *buf, size_t len, const struct rp_turn_msg *m, const uint8_t *key,
                          size_t keylen)
{
    return rp_stun_integrity_ok(buf, len, m->integrity_off, key, keylen);
}

/* A message under construction; `bad` once anything did not fit. */
struct mb {
    uint8_t *buf;
    size_t cap, off;
    bool bad;
};

static uint8_t *mb_attr(struct mb *b, uint16_t type, size_t vlen)
{
    if (b->bad || vlen > 0xFFFF || pad4(vlen) + ATTR_HDR > b->cap - b->off) {
        b->bad = true;
        return NULL;
    }
    uint8_t *p = b->buf + b->off;
    rp_put16(p, type);
    rp_put16(p + 2, (uint16_t)vlen);
    memset(p + ATTR_HDR, 0, pad4(vlen));
    b->off += ATTR_HDR + pad4(vlen);
    return p + ATTR_HDR;
}

static void mb_text(struct mb *b, uint16_t type, const char *s)
{
    size_t n = strlen(s);
    if (n >= RP_TURN_MAX_TEXT * 2) {
        b->bad = true;
        return;
    }
    uint8_t *v = mb_attr(b, type, n);
    if (v)
        memcpy(v, s, n);
}

static void mb_u32(struct mb *b, uint16_t type, uint32_t x)
{
    uint8_t *v = mb_attr(b, type, 4);
    if (v)
        rp_put32(v, x);
}

/* XOR-PEER-ADDRESS: port with the cookie's top half, address with cookie+txid. */
static void mb_xaddr(struct mb *b, uint16_t type, const struct sockaddr *sa)
{
    uint8_t addr[16];
    size_t alen;
    uint16_t port;
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in sin;
        memcpy(&sin, sa, sizeof sin);
        memcpy(addr, &sin.sin_addr, 4);
        alen = 4;
        port = ntohs(sin.sin_port);
    } else if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 sin6;
        memcpy(&sin6, sa, sizeof sin6);
        memcpy(addr, &sin6.sin6_addr, 16);
        alen = 16;
        port = ntohs(sin6.sin6_port);
    } else {
        b->bad = true;
        return;
    }
    uint8_t *v = mb_attr(b, type, 4 + alen);
    if (!v)
        return;
    v[1] = alen == 4 ? 0x01 : 0x02;
    rp_put16(v + 2, (uint16_t)(port ^ (RP_STUN_MAGIC >> 16)));
    for (size_t i = 0; i < alen; i++)
        v[4 + i] = (uint8_t)(addr[i] ^ b->buf[4 + i]); /* cookie, then txid, as in the header */
}

/* MESSAGE-INTEGRITY (when keyed) and FINGERPRINT: stun.c's, shared with ICE. */
static size_t mb_finish(struct mb *b, const uint8_t *key)
{
    return rp_stun_finish(b->buf, b->cap, b->off, key, key ? RP_TURN_KEY_LEN : 0);
}

size_t rp_turn_build(uint8_t *buf, size_t cap, const struct rp_turn_req *req)
{
    struct mb b = { .buf = buf, .cap = cap, .off = RP_STUN_HDR_LEN };
    if (cap < RP_STUN_HDR_LEN)
        return 0;
    rp_put16(buf, req->type);
    rp_put16(buf + 2, 0);
    rp_put32(buf + 4, RP_STUN_MAGIC);
    memcpy(buf + 8, req->txid, RP_STUN_TXID_LEN);
    if (req->requested_udp) {
        uint8_t *v = mb_attr(&b, ATTR_REQ_TRANSPORT, 4);
        if (v)
            v[0] = PROTO_UDP;
    }
    if (req->has_lifetime)
        mb_u32(&b, ATTR_LIFETIME, req->lifetime);
    if (req->channel)
        mb_u32(&b, ATTR_CHANNEL_NUMBER, (uint32_t)req->channel << 16);
    if (req->peer)
        mb_xaddr(&b, ATTR_XOR_PEER, req->peer);
    if (req->key) {
        if (!req->user || !req->realm || !req->nonce)
            return 0;
        mb_text(&b, ATTR_USERNAME, req->user);
        mb_text(&b, ATTR_REALM, req->realm);
        mb_text(&b, ATTR_NONCE, req->nonce);
    }
    if (b.bad)
        return 0;
    /* The length so far, for MESSAGE-INTEGRITY's own header rewrite. */
    rp_put16(buf + 2, (uint16_t)(b.off - RP_STUN_HDR_LEN));
    return mb_finish(&b, req->key);
}

int rp_turn_key(const char *user, const char *realm, const char *pass, uint8_t key[RP_TURN_KEY_LEN])
{
    char in[3 * RP_TURN_MAX_TEXT + 3];
    int n = snprintf(in, sizeof in, "%s:%s:%s", user, realm, pass);
    unsigned outl = 0;
    int rc = n > 0 && (size_t)n < sizeof in &&
             EVP_Digest(in, (size_t)n, key, &outl, EVP_md5(), NULL) == 1 && outl == RP_TURN_KEY_LEN ? 0 : -1;
    OPENSSL_cleanse(in, sizeof in);
    return rc;
}

size_t rp_turn_channel_wrap(uint8_t *out, size_t cap, uint16_t channel, const uint8_t *data, size_t n, bool pad)
{
    size_t total = RP_TURN_CHANNEL_HDR + (pad ? pad4(n) : n);
    if (n > 0xFFFF || total > cap)
        return 0;
    rp_put16(out, channel);
    rp_put16(out + 2, (uint16_t)n);
    memcpy(out + RP_TURN_CHANNEL_HDR, data, n);
    memset(out + RP_TURN_CHANNEL_HDR + n, 0, total - RP_TURN_CHANNEL_HDR - n);
    return total;
}

int rp_turn_channel_parse(const uint8_t *buf, size_t len, uint16_t *channel, const uint8_t **data, size_t *n)
{
    if (len < RP_TURN_CHANNEL_HDR)
        return -1;
    uint16_t ch = rp_get16(buf);
    size_t dlen = rp_get16(buf + 2);
    if (ch < RP_TURN_CHANNEL_MIN || ch > RP_TURN_CHANNEL_MAX)
        return -1;
    if (dlen > len - RP_TURN_CHANNEL_HDR || len - RP_TURN_CHANNEL_HDR > pad4(dlen))
        return -1;
    *channel = ch;
    *data = buf + RP_TURN_CHANNEL_HDR;
    *n = dlen;
    return 0;
}

ssize_t rp_turn_frame_len(const uint8_t *buf, size_t avail)
{
    if (avail < 4)
        return 0;
    uint8_t top = buf[0] >> 6;
    size_t body = rp_get16(buf + 2);
    if (top == 0) {
        /* A STUN message: its length is a multiple of 4 (RFC 8489 §5). */
        return body % 4 == 0 ? (ssize_t)(RP_STUN_HDR_LEN + body) : -1;
    }
    if (top == 1) {
        uint16_t ch = rp_get16(buf);
        if (ch < RP_TURN_CHANNEL_MIN || ch > RP_TURN_CHANNEL_MAX)
            return -1;
        return (ssize_t)(RP_TURN_CHANNEL_HDR + pad4(body)); /* padded on streams (§12.5) */
    }
    return -1;
}
