/* STUN Binding (RFC 8489) parse/build: header, TLV walk, (XOR-)MAPPED-ADDRESS,
 * FINGERPRINT, and RFC 5780 PADDING for non-amplifying requests.
 * Everything here reads untrusted bytes: every offset is checked against the
 * length before the read, and multi-byte fields go through get16/get32. */
#include "stun.h"
#include "wire.h"

#include <netinet/in.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#define ATTR_HDR_LEN          4
#define ATTR_MAPPED_ADDRESS   0x0001u
#define ATTR_XOR_MAPPED       0x0020u
#define ATTR_PADDING          0x0026u   /* RFC 5780 §7.6 */
#define ATTR_SOFTWARE         0x8022u
#define ATTR_FINGERPRINT      0x8028u
#define COMPREHENSION_OPTIONAL 0x8000u  /* RFC 8489 §14: types below must be understood */

#define FAMILY_IPV4           0x01
#define FAMILY_IPV6           0x02
#define ADDR_VALUE_V4_LEN     8         /* reserved, family, port, 4-byte address */
#define ADDR_VALUE_V6_LEN     20        /* reserved, family, port, 16-byte address */
#define FINGERPRINT_VALUE_LEN 4
#define FINGERPRINT_ATTR_LEN  (ATTR_HDR_LEN + FINGERPRINT_VALUE_LEN)
#define FINGERPRINT_XOR       0x5354554eu  /* "STUN", RFC 8489 §14.7 */
#define MAX_BODY_LEN          0xFFFCu      /* largest 16-bit length that is a multiple of 4 */

static const char SOFTWARE_NAME[] = "rtpprobe";
#define SOFTWARE_LEN (sizeof(SOFTWARE_NAME) - 1)
/* RFC 8489 §14.14: fewer than 128 characters; a multiple of 4 keeps it unpadded. */
#define SOFTWARE_MAX_VALUE 124

static size_t pad4(size_t n)
{
    return (n + 3) & ~(size_t)3;
}

/* CRC-32/ISO-HDLC (zlib's crc32), bitwise: STUN messages are small and this
 * keeps a 1 KiB table out of the module. */
static uint32_t crc32_iso_hdlc(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int bit = 0; bit < 8; bit++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static uint32_t fingerprint_of(const uint8_t *msg, size_t covered)
{
    return crc32_iso_hdlc(msg, covered) ^ FINGERPRINT_XOR;
}

uint32_t rp_stun_fingerprint(const uint8_t *msg, size_t covered)
{
    return fingerprint_of(msg, covered);
}

static enum rp_stun_err decode_address(const uint8_t *val, size_t vlen, bool xored,
                                       const uint8_t *hdr, struct sockaddr_storage *out);

enum rp_stun_err rp_stun_decode_address(const uint8_t *val, size_t vlen, bool xored, const uint8_t *hdr,
                                        struct sockaddr_storage *out)
{
    return decode_address(val, vlen, xored, hdr, out);
}

bool rp_stun_first_byte_is_stun(const uint8_t *buf, size_t len)
{
    return len >= 1 && buf[0] <= 3;
}

const char *rp_stun_strerror(enum rp_stun_err err)
{
    /* Also used as metric labels, hence snake_case without spaces. */
    switch (err) {
    case RP_STUN_OK:           return "ok";
    case RP_STUN_ETOOSHORT:    return "too_short";
    case RP_STUN_ENOTSTUN:     return "not_stun";
    case RP_STUN_ELENGTH:      return "bad_length";
    case RP_STUN_EATTR:        return "bad_attribute";
    case RP_STUN_EFINGERPRINT: return "bad_fingerprint";
    case RP_STUN_NERR:         break;
    }
    return "unknown";
}

/* Decodes a MAPPED-ADDRESS or XOR-MAPPED-ADDRESS value (RFC 8489 §14.1, §14.2).
 * For the XOR form the port is XORed with the cookie's top 16 bits and the
 * address with the cookie, followed for IPv6 by the transaction id. */
static enum rp_stun_err decode_address(const uint8_t *val, size_t vlen, bool xored,
                                       const uint8_t *hdr, struct sockaddr_storage *out)
{
    if (vlen < 4)
        return RP_STUN_EATTR;
    uint8_t family = val[1];
    uint16_t port = rp_get16(val + 2);
    uint8_t mask[16];
    memcpy(mask, hdr + 4, 4);  /* magic cookie as on the wire */
    memcpy(mask + 4, hdr + 8, RP_STUN_TXID_LEN);
    if (xored)
        port ^= (uint16_t)(RP_STUN_MAGIC >> 16);

    memset(out, 0, sizeof(*out));
    uint8_t *addr; /* where the address bytes go, in *out */
    size_t addr_len;
    if (family == FAMILY_IPV4 && vlen == ADDR_VALUE_V4_LEN) {
        struct sockaddr_in *sin = (struct sockaddr_in *)out;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        addr = (uint8_t *)&sin->sin_addr;
        addr_len = 4;
    } else if (family == FAMILY_IPV6 && vlen == ADDR_VALUE_V6_LEN) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        addr = (uint8_t *)&sin6->sin6_addr;
        addr_len = 16;
    } else {
        return RP_STUN_EATTR;
    }
    for (size_t i = 0; i < addr_len; i++)
        addr[i] = xored ? (uint8_t)(val[4 + i] ^ mask[i]) : val[4 + i];
    return RP_STUN_OK;
}

enum rp_stun_err rp_stun_parse(const uint8_t *buf, size_t len, struct rp_stun_msg *out)
{
    memset(out, 0, sizeof(*out));
    if (len < RP_STUN_HDR_LEN)
        return RP_STUN_ETOOSHORT;
    if ((buf[0] & 0xC0) != 0 || rp_get32(buf + 4) != RP_STUN_MAGIC)
        return RP_STUN_ENOTSTUN;
    size_t body_len = rp_get16(buf + 2);
    if (body_len % 4 != 0 || body_len != len - RP_STUN_HDR_LEN)
        return RP_STUN_ELENGTH;

    out->type = rp_get16(buf);
    memcpy(out->txid, buf + 8, RP_STUN_TXID_LEN);
    out->length = len;

    bool has_xor = false, has_plain = false;
    struct sockaddr_storage plain;
    memset(&plain, 0, sizeof(plain));

    size_t off = RP_STUN_HDR_LEN;
    /* off <= len holds throughout, so len - off never wraps. */
    while (off < len) {
        if (len - off < ATTR_HDR_LEN)
            return RP_STUN_EATTR;
        uint16_t type = rp_get16(buf + off);
        size_t vlen = rp_get16(buf + off + 2);
        if (pad4(vlen) > len - off - ATTR_HDR_LEN)
            return RP_STUN_EATTR;
        const uint8_t *val = buf + off + ATTR_HDR_LEN;
        size_t attr_start = off;
        off += ATTR_HDR_LEN + pad4(vlen);

        switch (type) {
        case ATTR_XOR_MAPPED: {
            struct sockaddr_storage addr;
            enum rp_stun_err e = decode_address(val, vlen, true, buf, &addr);
            if (e != RP_STUN_OK)
                return e;
            if (!has_xor) {
                out->mapped = addr;
                has_xor = true;
            }
            break;
        }
        case ATTR_MAPPED_ADDRESS: {
            struct sockaddr_storage addr;
            enum rp_stun_err e = decode_address(val, vlen, false, buf, &addr);
            if (e != RP_STUN_OK)
                return e;
            if (!has_plain) {
                plain = addr;
                has_plain = true;
            }
            break;
        }
        case ATTR_FINGERPRINT:
            if (vlen != FINGERPRINT_VALUE_LEN)
                return RP_STUN_EATTR;
            /* Last attribute, so the header length already covers it, as the
             * CRC input requires (RFC 8489 §14.7). */
            if (off != len)
                return RP_STUN_EFINGERPRINT;
            if (rp_get32(val) != fingerprint_of(buf, attr_start))
                return RP_STUN_EFINGERPRINT;
            out->has_fingerprint = true;
            break;
        case ATTR_PADDING:
            break;
        default:
            if (type < COMPREHENSION_OPTIONAL)
                out->unknown_comprehension_required = true;
            break;
        }
    }

    if (!has_xor && has_plain)
        out->mapped = plain;
    out->has_mapped = has_xor || has_plain;
    return RP_STUN_OK;
}

static void put_header(uint8_t *buf, uint16_t type, size_t total,
                       const uint8_t txid[RP_STUN_TXID_LEN])
{
    rp_put16(buf, type);
    rp_put16(buf + 2, (uint16_t)(total - RP_STUN_HDR_LEN));
    rp_put32(buf + 4, RP_STUN_MAGIC);
    memcpy(buf + 8, txid, RP_STUN_TXID_LEN);
}

/* Appends FINGERPRINT at off; the header length must already count it. */
static void put_fingerprint(uint8_t *buf, size_t off)
{
    rp_put16(buf + off, ATTR_FINGERPRINT);
    rp_put16(buf + off + 2, FINGERPRINT_VALUE_LEN);
    rp_put32(buf + off + ATTR_HDR_LEN, fingerprint_of(buf, off));
}

size_t rp_stun_build_request(uint8_t *buf, size_t cap, const uint8_t txid[RP_STUN_TXID_LEN], size_t min_len)
{
    /* Padding goes into SOFTWARE first: it is comprehension-optional, so any
     * server answers; RFC 5780 PADDING (comprehension-required) would draw a 420
     * from servers without RFC 5780. Only very large requests need PADDING. */
    size_t software_value = pad4(SOFTWARE_LEN);
    size_t fixed = RP_STUN_HDR_LEN + ATTR_HDR_LEN + FINGERPRINT_ATTR_LEN;
    if (min_len > fixed + software_value && pad4(min_len - fixed) <= SOFTWARE_MAX_VALUE)
        software_value = pad4(min_len - fixed);
    size_t software_attr = ATTR_HDR_LEN + software_value;
    size_t base = RP_STUN_HDR_LEN + software_attr + FINGERPRINT_ATTR_LEN;
    size_t padding_value = 0;
    bool padded = min_len > base;
    if (padded) {
        if (min_len - base > MAX_BODY_LEN)
            return 0;
        size_t need = min_len - base;
        padding_value = need > ATTR_HDR_LEN ? pad4(need - ATTR_HDR_LEN) : 0;
    }
    size_t total = base + (padded ? ATTR_HDR_LEN + padding_value : 0);
    if (total - RP_STUN_HDR_LEN > MAX_BODY_LEN || total > cap)
        return 0;

    put_header(buf, RP_STUN_BINDING_REQUEST, total, txid);
    size_t off = RP_STUN_HDR_LEN;
    rp_put16(buf + off, ATTR_SOFTWARE);
    bool grown = software_value > pad4(SOFTWARE_LEN);
    rp_put16(buf + off + 2, (uint16_t)(grown ? software_value : SOFTWARE_LEN));
    memset(buf + off + ATTR_HDR_LEN, grown ? ' ' : 0, software_value);
    memcpy(buf + off + ATTR_HDR_LEN, SOFTWARE_NAME, SOFTWARE_LEN);
    off += software_attr;
    if (padded) {
        /* The server answers only requests at least as large as its response,
         * so PADDING is what makes the request worth answering. */
        rp_put16(buf + off, ATTR_PADDING);
        rp_put16(buf + off + 2, (uint16_t)padding_value);
        memset(buf + off + ATTR_HDR_LEN, 0, padding_value);
        off += ATTR_HDR_LEN + padding_value;
    }
    put_fingerprint(buf, off);
    return total;
}

size_t rp_stun_response_len(int family)
{
    switch (family) {
    case AF_INET:  return RP_STUN_HDR_LEN + ATTR_HDR_LEN + ADDR_VALUE_V4_LEN + FINGERPRINT_ATTR_LEN;
    case AF_INET6: return RP_STUN_HDR_LEN + ATTR_HDR_LEN + ADDR_VALUE_V6_LEN + FINGERPRINT_ATTR_LEN;
    default:       return 0;
    }
}

size_t rp_stun_build_response(uint8_t *buf, size_t cap, const uint8_t txid[RP_STUN_TXID_LEN],
                              const struct sockaddr *mapped)
{
    size_t total = rp_stun_response_len(mapped->sa_family);
    if (total == 0 || total > cap)
        return 0;

    uint8_t addr[16];
    size_t addr_len;
    uint16_t port;
    uint8_t family;
    if (mapped->sa_family == AF_INET) {
        struct sockaddr_in sin;
        memcpy(&sin, mapped, sizeof(sin));
        memcpy(addr, &sin.sin_addr, 4);
        addr_len = 4;
        port = ntohs(sin.sin_port);
        family = FAMILY_IPV4;
    } else {
        struct sockaddr_in6 sin6;
        memcpy(&sin6, mapped, sizeof(sin6));
        memcpy(addr, &sin6.sin6_addr, 16);
        addr_len = 16;
        port = ntohs(sin6.sin6_port);
        family = FAMILY_IPV6;
    }

    put_header(buf, RP_STUN_BINDING_SUCCESS, total, txid);
    size_t off = RP_STUN_HDR_LEN;
    rp_put16(buf + off, ATTR_XOR_MAPPED);
    rp_put16(buf + off + 2, (uint16_t)(4 + addr_len));
    uint8_t *val = buf + off + ATTR_HDR_LEN;
    val[0] = 0;
    val[1] = family;
    rp_put16(val + 2, (uint16_t)(port ^ (RP_STUN_MAGIC >> 16)));
    /* Cookie then transaction id, exactly as just written to the header. */
    for (size_t i = 0; i < addr_len; i++)
        val[4 + i] = (uint8_t)(addr[i] ^ buf[4 + i]);
    off += ATTR_HDR_LEN + 4 + addr_len;
    put_fingerprint(buf, off);
    return total;
}

static const char *const verdict_names[RP_STUN_VERDICTS] = {
    "answered", "malformed", "not_request", "too_small", "unknown_attribute", "rate",
};

const char *rp_stun_verdict_name(enum rp_stun_verdict v)
{
    return (unsigned)v < RP_STUN_VERDICTS ? verdict_names[v] : "unknown";
}

enum rp_stun_verdict rp_stun_answer(const uint8_t *req, size_t len, const struct sockaddr *from,
                                    uint8_t *resp, size_t cap, size_t *resp_len)
{
    struct rp_stun_msg msg;
    if (rp_stun_parse(req, len, &msg) != RP_STUN_OK)
        return RP_STUN_DROP_MALFORMED;
    if (msg.type != RP_STUN_BINDING_REQUEST)
        return RP_STUN_DROP_NOT_REQUEST;
    if (msg.unknown_comprehension_required)
        return RP_STUN_DROP_UNKNOWN_ATTR;
    /* A spoofed source must not turn us into an amplifier: the requester pays
     * for its answer in request bytes (our probe pads its requests). */
    if (rp_stun_response_len(from->sa_family) > len)
        return RP_STUN_DROP_TOO_SMALL;
    size_t n = rp_stun_build_response(resp, cap, msg.txid, from);
    if (n == 0 || n > len)
        return RP_STUN_DROP_TOO_SMALL;
    *resp_len = n;
    return RP_STUN_ANSWERED;
}


int rp_stun_hmac_sha1(const uint8_t *key, size_t keylen, const uint8_t *a, size_t alen, const uint8_t *b,
                      size_t blen, uint8_t mac[RP_STUN_INTEGRITY_LEN])
{
    char digest[] = "SHA1"; /* OSSL_PARAM wants a char *: no cast of a literal */
    EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = hmac ? EVP_MAC_CTX_new(hmac) : NULL;
    OSSL_PARAM params[] = { OSSL_PARAM_construct_utf8_string("digest", digest, 0), OSSL_PARAM_END };
    size_t outl = 0;
    int ok = ctx && EVP_MAC_init(ctx, key, keylen, params) == 1 && EVP_MAC_update(ctx, a, alen) == 1 &&
             (blen == 0 || EVP_MAC_update(ctx, b, blen) == 1) &&
             EVP_MAC_final(ctx, mac, &outl, RP_STUN_INTEGRITY_LEN) == 1 && outl == RP_STUN_INTEGRITY_LEN;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(hmac);
    return ok ? 0 : -1;
}

int rp_stun_integrity(const uint8_t *msg, size_t mi_off, const uint8_t *key, size_t keylen,
                      uint8_t mac[RP_STUN_INTEGRITY_LEN])
{
    if (mi_off < RP_STUN_HDR_LEN || mi_off + RP_STUN_ATTR_HDR_LEN + RP_STUN_INTEGRITY_LEN - RP_STUN_HDR_LEN > 0xFFFF)
        return -1;
    /* The length as if MESSAGE-INTEGRITY were the last attribute: a
     * FINGERPRINT after it is not covered (RFC 8489 §14.5). */
    uint8_t hdr[RP_STUN_HDR_LEN];
    memcpy(hdr, msg, sizeof hdr);
    rp_put16(hdr + 2, (uint16_t)(mi_off + RP_STUN_ATTR_HDR_LEN + RP_STUN_INTEGRITY_LEN - RP_STUN_HDR_LEN));
    return rp_stun_hmac_sha1(key, keylen, hdr, sizeof hdr, msg + RP_STUN_HDR_LEN, mi_off - RP_STUN_HDR_LEN, mac);
}

bool rp_stun_integrity_ok(const uint8_t *msg, size_t len, size_t mi_off, const uint8_t *key, size_t keylen)
{
    uint8_t mac[RP_STUN_INTEGRITY_LEN];
    if (mi_off < RP_STUN_HDR_LEN || mi_off > len || len - mi_off < RP_STUN_ATTR_HDR_LEN + RP_STUN_INTEGRITY_LEN)
        return false;
    if (rp_get16(msg + mi_off) != RP_STUN_ATTR_INTEGRITY ||
        rp_get16(msg + mi_off + 2) != RP_STUN_INTEGRITY_LEN)
        return false;
    if (rp_stun_integrity(msg, mi_off, key, keylen, mac) < 0)
        return false;
    return CRYPTO_memcmp(mac, msg + mi_off + RP_STUN_ATTR_HDR_LEN, RP_STUN_INTEGRITY_LEN) == 0;
}

size_t rp_stun_finish(uint8_t *buf, size_t cap, size_t off, const uint8_t *key, size_t keylen)
{
    size_t tail = (key ? RP_STUN_ATTR_HDR_LEN + RP_STUN_INTEGRITY_LEN : 0) + FINGERPRINT_ATTR_LEN;
    if (off < RP_STUN_HDR_LEN || off % 4 != 0 || off > cap || cap - off < tail ||
        off + tail - RP_STUN_HDR_LEN > MAX_BODY_LEN)
        return 0;
    if (key) {
        rp_put16(buf + off, RP_STUN_ATTR_INTEGRITY);
        rp_put16(buf + off + 2, RP_STUN_INTEGRITY_LEN);
        if (rp_stun_integrity(buf, off, key, keylen, buf + off + RP_STUN_ATTR_HDR_LEN) < 0)
            return 0;
        off += RP_STUN_ATTR_HDR_LEN + RP_STUN_INTEGRITY_LEN;
    }
    rp_put16(buf + 2, (uint16_t)(off + FINGERPRINT_ATTR_LEN - RP_STUN_HDR_LEN));
    put_fingerprint(buf, off);
    return off + FINGERPRINT_ATTR_LEN;
}
