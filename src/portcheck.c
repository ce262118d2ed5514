/* Port-range check: wire format, BPF filter, UDP answer, port choice and
 * merging (include/portcheck.h). No I/O here: pcdaemon.c and pcprobe.c are
 * the two ends. */
#include "portcheck.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "wire.h"

#define PC_AUTH_OFF (RP_PC_PKT_LEN - RP_PC_TAG_LEN)

static int pc_tag(const uint8_t *buf, const uint8_t key[RP_PC_KEY_LEN], uint8_t tag[RP_PC_TAG_LEN])
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    if (!HMAC(EVP_sha256(), key, RP_PC_KEY_LEN, buf, PC_AUTH_OFF, md, &mdlen) || mdlen < RP_PC_TAG_LEN)
        return -1;
    memcpy(tag, md, RP_PC_TAG_LEN);
    return 0;
}

size_t rp_pc_encode(const struct rp_pc_pkt *in, const uint8_t key[RP_PC_KEY_LEN], uint8_t *buf, size_t cap)
{
    if (cap < RP_PC_PKT_LEN)
        return 0;
    memset(buf, 0, RP_PC_PKT_LEN);
    rp_put32(buf, RP_PC_MAGIC);
    buf[4] = RP_PC_VERSION;
    buf[5] = in->type;
    memcpy(buf + 8, in->id, RP_PC_ID_LEN);
    rp_put32(buf + 16, in->seq);
    rp_put16(buf + 20, in->port);
    if (pc_tag(buf, key, buf + PC_AUTH_OFF) < 0)
        return 0;
    return RP_PC_PKT_LEN;
}

int rp_pc_decode(const uint8_t *buf, size_t len, const uint8_t key[RP_PC_KEY_LEN], struct rp_pc_pkt *out)
{
    uint8_t tag[RP_PC_TAG_LEN];
    if (len != RP_PC_PKT_LEN || rp_get32(buf) != RP_PC_MAGIC || buf[4] != RP_PC_VERSION ||
        (buf[5] != RP_PC_PROBE && buf[5] != RP_PC_ANSWER))
        return -1;
    if (pc_tag(buf, key, tag) < 0 || CRYPTO_memcmp(tag, buf + PC_AUTH_OFF, RP_PC_TAG_LEN) != 0)
        return -2;
    out->type = buf[5];
    memcpy(out->id, buf + 8, RP_PC_ID_LEN);
    out->seq = rp_get32(buf + 16);
    out->port = rp_get16(buf + 20);
    return 0;
}

unsigned rp_pc_bpf(struct sock_filter *prog, uint32_t src_be, uint16_t lo, uint16_t hi)
{
    /* Offsets from the IPv4 header, where a raw socket's data starts. Jumps
     * count instructions after the jump; 11 is the drop. */
    const struct sock_filter p[RP_PC_BPF_LEN] = {
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),                     /* 0: protocol */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 17, 0, 13),            /* 1: UDP */
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 12),                    /* 2: source address */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ntohl(src_be), 0, 11), /* 3: the checking probe's */
        BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),                     /* 4: flags + fragment offset */
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 9, 0),        /* 5: a later fragment has no UDP header */
        BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),                    /* 6: X = IP header length */
        BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),                     /* 7: UDP destination port */
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, lo, 0, 6),             /* 8: >= lo */
        BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, hi, 5, 0),             /* 9: <= hi */
        /* Only check packets: not the copies of a live call's RTP from the same
         * office address (privacy; and they would crowd out the check's own). */
        BPF_STMT(BPF_LD | BPF_H | BPF_IND, 4),                     /* 10: UDP length */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 8 + RP_PC_PKT_LEN, 0, 3), /* 11: a check packet's */
        BPF_STMT(BPF_LD | BPF_W | BPF_IND, 8),                     /* 12: its first word */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, RP_PC_MAGIC, 0, 1),    /* 13: "RPPC" */
        BPF_STMT(BPF_RET | BPF_K, 0xffff),                         /* 14: keep */
        BPF_STMT(BPF_RET | BPF_K, 0),                              /* 15: drop */
    };
    memcpy(prog, p, sizeof p);
    return RP_PC_BPF_LEN;
}

int rp_pc_parse_ipv4(const uint8_t *buf, size_t len, struct rp_pc_dgram *out)
{
    if (len < 20 || buf[0] >> 4 != 4 || buf[9] != 17)
        return -1;
    size_t ihl = (size_t)(buf[0] & 0x0f) * 4, total = rp_get16(buf + 2);
    if (ihl < 20 || total < ihl + 8 || total > len || (rp_get16(buf + 6) & 0x3fff) != 0) /* MF or offset */
        return -1;
    const uint8_t *udp = buf + ihl;
    size_t ulen = rp_get16(udp + 4);
    if (ulen < 8 || ulen > total - ihl)
        return -1;
    memcpy(&out->src_be, buf + 12, 4);
    memcpy(&out->dst_be, buf + 16, 4);
    out->sport = rp_get16(udp);
    out->dport = rp_get16(udp + 2);
    out->payload = udp + 8;
    out->len = ulen - 8;
    return 0;
}

static uint32_t sum16(uint32_t acc, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        acc += rp_get16(p + i);
    if (n & 1)
        acc += (uint32_t)p[n - 1] << 8;
    return acc;
}

size_t rp_pc_build_udp(uint32_t src_be, uint32_t dst_be, uint16_t sport, uint16_t dport, const uint8_t *payload,
                       size_t len, uint8_t *out, size_t cap)
{
    if (cap < 8 || len > cap - 8 || len > 0xffff - 8)
        return 0;
    uint8_t pseudo[12];
    memcpy(pseudo, &src_be, 4);
    memcpy(pseudo + 4, &dst_be, 4);
    pseudo[8] = 0;
    pseudo[9] = 17;
    rp_put16(pseudo + 10, (uint16_t)(8 + len));
    rp_put16(out, sport);
    rp_put16(out + 2, dport);
    rp_put16(out + 4, (uint16_t)(8 + len));
    rp_put16(out + 6, 0);
    memcpy(out + 8, payload, len);
    uint32_t acc = sum16(sum16(0, pseudo, sizeof pseudo), out, 8 + len);
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    uint16_t ck = (uint16_t)~acc;
    rp_put16(out + 6, ck ? ck : 0xffff); /* 0 means "no checksum" in UDP */
    return 8 + len;
}

static void add_port(unsigned p, const struct rp_portbits *in_use, uint16_t *ports, unsigned cap, unsigned *n,
                     uint16_t *busy, unsigned busycap, unsigned *nbusy)
{
    bool used = in_use && (in_use->bit[p / 8] >> (p % 8)) & 1;
    if (used) {
        if ((*nbusy == 0 || busy[*nbusy - 1] != p) && *nbusy < busycap)
            busy[(*nbusy)++] = (uint16_t)p;
    } else if ((*n == 0 || ports[*n - 1] != p) && *n < cap) {
        ports[(*n)++] = (uint16_t)p;
    }
}

unsigned rp_pc_select(unsigned lo, unsigned hi, bool full, const struct rp_portbits *in_use, uint16_t *ports,
                      unsigned cap, uint16_t *busy, unsigned busycap, unsigned *nbusy)
{
    unsigned n = 0, a = (lo + 1) & ~1u, b = hi & ~1u;
    *nbusy = 0;
    if (lo == 0 || hi > 65535 || a > b)
        return 0;
    if (full) {
        for (unsigned p = a; p <= b; p += 2)
            add_port(p, in_use, ports, cap, &n, busy, busycap, nbusy);
        return n;
    }
    /* Ascending, so that duplicates (a narrow range) are neighbours. */
    for (unsigned k = 0; k <= RP_PC_SAMPLE_INNER + 1; k++) {
        unsigned p = a + (unsigned)(((uint64_t)(b - a) * k / (RP_PC_SAMPLE_INNER + 1))) ;
        add_port(k == RP_PC_SAMPLE_INNER + 1 ? b : p & ~1u, in_use, ports, cap, &n, busy, busycap, nbusy);
    }
    return n;
}

int rp_pc_parse_range(const char *s, unsigned *lo, unsigned *hi)
{
    char *end;
    errno = 0;
    if (!s || s[0] < '0' || s[0] > '9')
        return -1;
    unsigned long a = strtoul(s, &end, 10), b = a;
    if (*end == '-') {
        const char *t = end + 1;
        if (*t < '0' || *t > '9')
            return -1;
        b = strtoul(t, &end, 10);
    }
    if (errno || *end || a < 1 || b > 65535 || a > b)
        return -1;
    *lo = (unsigned)a;
    *hi = (unsigned)b;
    return 0;
}

enum rp_pc_status rp_pc_status_of(bool seen, bool answered)
{
    /* An answer needs the daemon to have seen the packet. */
    if (answered)
        return RP_PC_BOTH;
    return seen ? RP_PC_DOWN_BLOCKED : RP_PC_UP_BLOCKED;
}

const char *rp_pc_status_name(enum rp_pc_status s)
{
    static const char *const n[RP_PC_NSTATUS] = { "both", "blocked-upstream", "blocked-downstream" };
    return s < RP_PC_NSTATUS ? n[s] : "?";
}

const char *rp_pc_status_text(enum rp_pc_status s)
{
    static const char *const n[RP_PC_NSTATUS] = {
        "reachable both ways",
        "blocked upstream (agent -> host: the host never saw them)",
        "blocked downstream (host -> agent: the host saw them, no answer came back)",
    };
    return s < RP_PC_NSTATUS ? n[s] : "?";
}

unsigned rp_pc_merge(const uint16_t *ports, const enum rp_pc_status *status, unsigned n, bool extend, unsigned hi,
                     struct rp_pc_range *out, unsigned cap)
{
    unsigned m = 0;
    for (unsigned i = 0; i < n; i++) {
        if (m && out[m - 1].status == status[i]) {
            out[m - 1].to = ports[i];
            continue;
        }
        if (m == cap)
            break;
        if (m && extend)
            out[m - 1].to = ports[i] - 1u;
        out[m++] = (struct rp_pc_range){ .from = ports[i], .to = ports[i], .status = status[i] };
    }
    if (m && extend && out[m - 1].to < hi)
        out[m - 1].to = hi;
    return m;
}
