/* ICE-lite (RFC 8445 §2.5) connectivity checks: a Binding request with the
 * short-term credential (RFC 8489 §9.1) is verified and answered. The STUN wire
 * format (parse, FINGERPRINT, XOR address, MESSAGE-INTEGRITY) is stun.c's; this
 * module adds the ICE attributes and the policy. Every request byte is hostile:
 * rp_stun_parse has bounded every attribute before we read one. */
#include "ice.h"
#include "stun.h"
#include "wire.h"

#include <netinet/in.h>
#include <string.h>

#define ATTR_USERNAME        0x0006u
#define ATTR_XOR_MAPPED      0x0020u
#define ATTR_PRIORITY        0x0024u   /* RFC 8445 §16.1 */
#define ATTR_USE_CANDIDATE   0x0025u
#define ATTR_ICE_CONTROLLED  0x8029u
#define ATTR_ICE_CONTROLLING 0x802Au
#define COMPREHENSION_OPTIONAL 0x8000u
#define USERNAME_MAX         512       /* RFC 8489 §14.3: less than 513 bytes */
#define TIE_BREAKER_LEN      8
/* What a browser's check carries (RFC 8445 §5.1.2.1: type preference 110 for
 * peer-reflexive, the candidate a check would create; top local preference). */
#define CHECK_PRIORITY       ((110u << 24) | (65535u << 8) | 255u)

static const char *const verdict_names[RP_ICE_VERDICTS] = {
    "answered", "malformed", "not_request", "no_integrity", "bad_username", "bad_integrity", "role", "too_small",
};

const char *rp_ice_verdict_name(enum rp_ice_verdict v)
{
    return (unsigned)v < RP_ICE_VERDICTS ? verdict_names[v] : "unknown";
}

static size_t pad4(size_t n)
{
    return (n + 3) & ~(size_t)3;
}

/* What the attributes before MESSAGE-INTEGRITY say (those after it are not
 * authenticated and, FINGERPRINT aside, ignored: RFC 8489 §14.5). */
struct check_attrs {
    const uint8_t *username;
    size_t username_len;
    size_t mi_off;                /* 0 = no MESSAGE-INTEGRITY */
    bool controlled, controlling, use_candidate, unknown_required, bad_value;
    uint32_t priority;
};

static void take_attr(struct check_attrs *a, uint16_t type, const uint8_t *val, size_t vlen)
{
    switch (type) {
    case ATTR_USERNAME:
        if (!a->username) {
            a->username = val;
            a->username_len = vlen;
        }
        break;
    case ATTR_PRIORITY:
        if (vlen != 4)
            a->bad_value = true;
        else
            a->priority = rp_get32(val);
        break;
    case ATTR_USE_CANDIDATE:
        a->use_candidate = true;
        break;
    case ATTR_ICE_CONTROLLED:
        a->controlled = true;
        a->bad_value |= vlen != TIE_BREAKER_LEN;
        break;
    case ATTR_ICE_CONTROLLING:
        a->controlling = true;
        a->bad_value |= vlen != TIE_BREAKER_LEN;
        break;
    default:
        if (type < COMPREHENSION_OPTIONAL)
            a->unknown_required = true;
        break;
    }
}

/* Walks a message rp_stun_parse accepted: every attribute lies inside len. */
static void scan_attrs(const uint8_t *buf, size_t len, struct check_attrs *a)
{
    memset(a, 0, sizeof *a);
    size_t off = RP_STUN_HDR_LEN;
    while (len - off >= RP_STUN_ATTR_HDR_LEN) {
        uint16_t type = rp_get16(buf + off);
        size_t vlen = rp_get16(buf + off + 2);
        if (pad4(vlen) > len - off - RP_STUN_ATTR_HDR_LEN) {
            a->bad_value = true; /* rp_stun_parse refused this already; kept for the reader */
            return;
        }
        if (type == RP_STUN_ATTR_INTEGRITY) {
            if (vlen == RP_STUN_INTEGRITY_LEN)
                a->mi_off = off;
            else
                a->bad_value = true;
            return;
        }
        take_attr(a, type, buf + off + RP_STUN_ATTR_HDR_LEN, vlen);
        off += RP_STUN_ATTR_HDR_LEN + pad4(vlen);
    }
}

/* USERNAME must be exactly "<our ufrag>:<their ufrag>" (RFC 8445 §7.2.2);
 * without a remote ufrag (not known yet) only our part is checked. */
static bool username_ok(const struct rp_ice_creds *c, const uint8_t *u, size_t n)
{
    size_t ll = strlen(c->local_ufrag);
    if (n > USERNAME_MAX || n <= ll || memcmp(u, c->local_ufrag, ll) != 0 || u[ll] != ':')
        return false;
    if (!c->remote_ufrag)
        return true;
    size_t rl = strlen(c->remote_ufrag);
    return n - ll - 1 == rl && memcmp(u + ll + 1, c->remote_ufrag, rl) == 0;
}

/* The request's verdict before any answer is built. */
static enum rp_ice_verdict judge(const struct rp_ice_creds *c, const uint8_t *req, size_t len,
                                 struct rp_stun_msg *msg, struct check_attrs *a)
{
    /* Header, attribute bounds, FINGERPRINT right and last: stun.c's checks. */
    if (rp_stun_parse(req, len, msg) != RP_STUN_OK)
        return RP_ICE_DROP_MALFORMED;
    if (msg->type != RP_STUN_BINDING_REQUEST)
        return RP_ICE_DROP_NOT_REQUEST;
    scan_attrs(req, len, a);
    /* RFC 8489 §7.3.1 wants a 420 for an unknown comprehension-required
     * attribute, which could be larger than the request: we stay silent. */
    if (a->bad_value || a->unknown_required)
        return RP_ICE_DROP_MALFORMED;
    if (!a->username || a->mi_off == 0)
        return RP_ICE_DROP_NO_INTEGRITY;
    if (!username_ok(c, a->username, a->username_len))
        return RP_ICE_DROP_BAD_USERNAME;
    /* Short-term credential: the key is the password itself (RFC 8489 §9.1.1;
     * ICE passwords are ice-char, which SASLprep leaves as they are). */
    if (!rp_stun_integrity_ok(req, len, a->mi_off, (const uint8_t *)c->local_pwd, strlen(c->local_pwd)))
        return RP_ICE_DROP_BAD_INTEGRITY;
    /* Only after the MAC: an unauthenticated role claim is not worth a verdict. */
    if (a->controlled)
        return RP_ICE_DROP_ROLE;
    return RP_ICE_ANSWERED;
}

/* XOR-MAPPED-ADDRESS of `from` at off (header with the txid already written).
 * The new offset, or 0 for an address family other than IPv4/IPv6. */
static size_t put_xor_mapped(uint8_t *buf, size_t off, const struct sockaddr *from)
{
    uint8_t addr[16];
    size_t alen;
    uint16_t port;
    if (from->sa_family == AF_INET) {
        struct sockaddr_in sin;
        memcpy(&sin, from, sizeof sin);
        memcpy(addr, &sin.sin_addr, 4);
        alen = 4;
        port = ntohs(sin.sin_port);
    } else if (from->sa_family == AF_INET6) {
        struct sockaddr_in6 sin6;
        memcpy(&sin6, from, sizeof sin6);
        memcpy(addr, &sin6.sin6_addr, 16);
        alen = 16;
        port = ntohs(sin6.sin6_port);
    } else {
        return 0;
    }
    rp_put16(buf + off, ATTR_XOR_MAPPED);
    rp_put16(buf + off + 2, (uint16_t)(4 + alen));
    uint8_t *v = buf + off + RP_STUN_ATTR_HDR_LEN;
    v[0] = 0;
    v[1] = alen == 4 ? 0x01 : 0x02;
    rp_put16(v + 2, (uint16_t)(port ^ (RP_STUN_MAGIC >> 16)));
    for (size_t i = 0; i < alen; i++)
        v[4 + i] = (uint8_t)(addr[i] ^ buf[4 + i]); /* cookie, then txid, as in the header */
    return off + RP_STUN_ATTR_HDR_LEN + 4 + alen;
}

/* Header + XOR-MAPPED-ADDRESS (12 or 24) + MESSAGE-INTEGRITY (24) + FINGERPRINT (8). */
static size_t answer_len(int family)
{
    size_t addr = family == AF_INET ? 8 : family == AF_INET6 ? 20 : 0;
    if (addr == 0)
        return 0;
    return RP_STUN_HDR_LEN + RP_STUN_ATTR_HDR_LEN + addr + RP_STUN_ATTR_HDR_LEN + RP_STUN_INTEGRITY_LEN + 8;
}

enum rp_ice_verdict rp_ice_answer(const struct rp_ice_creds *c, const uint8_t *req, size_t len,
                                  const struct sockaddr *from, uint8_t *resp, size_t cap, size_t *resp_len,
                                  struct rp_ice_check *check)
{
    struct rp_stun_msg msg;
    struct check_attrs a;
    if (check)
        memset(check, 0, sizeof *check);
    enum rp_ice_verdict v = judge(c, req, len, &msg, &a);
    if (v != RP_ICE_ANSWERED)
        return v;
    /* A spoofed source must not turn us into an amplifier. */
    size_t want = answer_len(from->sa_family);
    if (want == 0 || want > len || want > cap)
        return RP_ICE_DROP_TOO_SMALL;

    rp_put16(resp, RP_STUN_BINDING_SUCCESS);
    rp_put16(resp + 2, 0);
    rp_put32(resp + 4, RP_STUN_MAGIC);
    memcpy(resp + 8, msg.txid, RP_STUN_TXID_LEN);
    size_t off = put_xor_mapped(resp, RP_STUN_HDR_LEN, from);
    size_t n = rp_stun_finish(resp, cap, off, (const uint8_t *)c->local_pwd, strlen(c->local_pwd));
    if (n == 0 || n != want)
        return RP_ICE_DROP_TOO_SMALL;
    *resp_len = n;
    if (check) {
        check->use_candidate = a.use_candidate;
        check->priority = a.priority;
    }
    return RP_ICE_ANSWERED;
}

/* One attribute of vlen bytes at *off, zero-padded; its value, or NULL if it does not fit. */
static uint8_t *put_attr(uint8_t *buf, size_t cap, size_t *off, uint16_t type, size_t vlen)
{
    if (vlen > 0xFFFF || *off > cap || cap - *off < RP_STUN_ATTR_HDR_LEN + pad4(vlen))
        return NULL;
    uint8_t *p = buf + *off;
    rp_put16(p, type);
    rp_put16(p + 2, (uint16_t)vlen);
    memset(p + RP_STUN_ATTR_HDR_LEN, 0, pad4(vlen));
    *off += RP_STUN_ATTR_HDR_LEN + pad4(vlen);
    return p + RP_STUN_ATTR_HDR_LEN;
}

size_t rp_ice_build_check(uint8_t *buf, size_t cap, const uint8_t txid[12], const char *username,
                          const char *pwd, bool use_candidate)
{
    size_t ulen = strlen(username);
    if (cap < RP_STUN_HDR_LEN || ulen > USERNAME_MAX)
        return 0;
    rp_put16(buf, RP_STUN_BINDING_REQUEST);
    rp_put16(buf + 2, 0);
    rp_put32(buf + 4, RP_STUN_MAGIC);
    memcpy(buf + 8, txid, RP_STUN_TXID_LEN);
    size_t off = RP_STUN_HDR_LEN;
    uint8_t *u = put_attr(buf, cap, &off, ATTR_USERNAME, ulen);
    uint8_t *prio = u ? put_attr(buf, cap, &off, ATTR_PRIORITY, 4) : NULL;
    /* The tie-breaker is random in a browser; here it comes from the txid so
     * that tests and fuzz seeds are reproducible. */
    uint8_t *tie = prio ? put_attr(buf, cap, &off, ATTR_ICE_CONTROLLING, TIE_BREAKER_LEN) : NULL;
    if (!tie || (use_candidate && !put_attr(buf, cap, &off, ATTR_USE_CANDIDATE, 0)))
        return 0;
    memcpy(u, username, ulen);
    rp_put32(prio, CHECK_PRIORITY);
    memcpy(tie, txid, TIE_BREAKER_LEN);
    return rp_stun_finish(buf, cap, off, (const uint8_t *)pwd, strlen(pwd));
}
