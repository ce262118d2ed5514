/* RTCP (RFC 3550 §6.4, §6.5.1) for the WebRTC peer: the browser's SR/RR read
 * out of a compound packet, our SR or RR + SDES CNAME compound written, and
 * the NTP arithmetic behind the round trip (LSR/DLSR). Pure wire format. The
 * packets come from the network after SRTCP authentication, but they are
 * still checked as if hostile: every length field before it is used. */
#include "rtcp.h"
#include "wire.h"

#include <string.h>

#define RTCP_VERSION     2
#define RTCP_HDR_LEN     4
#define PT_SR            200
#define PT_RR            201
#define PT_SDES          202
#define SR_INFO_LEN      20      /* NTP (8), RTP timestamp, packet and octet counts */
#define BLOCK_LEN        24
#define SDES_CNAME       1
#define CNAME_MAX        255     /* one SDES item's length octet */
#define NTP_UNIX_OFFSET  2208988800u   /* seconds from 1900-01-01 to 1970-01-01 */
#define NS_PER_S         1000000000u
#define CUM_LOST_MAX     0x7FFFFF      /* 24-bit signed (RFC 3550 §6.4.1) */
#define CUM_LOST_MIN     (-0x800000)

bool rp_rtcp_is_rtcp(const uint8_t *buf, size_t len)
{
    /* RFC 5761 §4: RTP payload types 64..95 are avoided, so a second byte of
     * 192..223 (RTCP 200..204 and the feedback types) can only be RTCP. */
    return len >= 2 && (buf[0] >> 6) == RTCP_VERSION && buf[1] >= 192 && buf[1] <= 223;
}

static void read_block(const uint8_t *p, struct rp_rtcp_block *b)
{
    b->ssrc = rp_get32(p);
    b->fraction_lost = p[4];
    uint32_t lost = (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
    /* Sign-extend the 24-bit field. */
    b->cum_lost = (lost & 0x800000u) ? (int32_t)lost - 0x1000000 : (int32_t)lost;
    b->ext_high_seq = rp_get32(p + 8);
    b->jitter = rp_get32(p + 12);
    b->lsr = rp_get32(p + 16);
    b->dlsr = rp_get32(p + 20);
}

/* One SR or RR, body (after the 4-byte header) of body_len bytes. -1 if its
 * report count does not fit in it. */
static int read_report(const uint8_t *body, size_t body_len, bool sr, unsigned count, bool first,
                       struct rp_rtcp_info *out)
{
    size_t fixed = 4 + (sr ? SR_INFO_LEN : 0);
    if (body_len < fixed || (body_len - fixed) / BLOCK_LEN < count)
        return -1;
    uint32_t ssrc = rp_get32(body);
    if (first) {
        out->sender_ssrc = ssrc;
        if (sr) {
            out->has_sr = true;
            out->sr.ssrc = ssrc;
            out->sr.ntp = rp_get64(body + 4);
            out->sr.rtp_ts = rp_get32(body + 12);
            out->sr.packets = rp_get32(body + 16);
            out->sr.octets = rp_get32(body + 20);
        }
    } else if (ssrc != out->sender_ssrc) {
        return 0; /* another sender's report in the same compound: not the peer's view */
    }
    for (unsigned i = 0; i < count && out->nblocks < RP_RTCP_MAX_BLOCKS; i++)
        read_block(body + fixed + (size_t)i * BLOCK_LEN, &out->blocks[out->nblocks++]);
    return 0;
}

int rp_rtcp_parse(const uint8_t *buf, size_t len, struct rp_rtcp_info *out)
{
    memset(out, 0, sizeof *out);
    if (len < RTCP_HDR_LEN)
        return -1;
    bool seen_report = false;
    size_t off = 0;
    /* off <= len throughout, so len - off never wraps. */
    while (off < len) {
        if (len - off < RTCP_HDR_LEN)
            return -1;
        const uint8_t *p = buf + off;
        size_t plen = ((size_t)rp_get16(p + 2) + 1) * 4;
        if ((p[0] >> 6) != RTCP_VERSION || plen > len - off)
            return -1;
        size_t body_len = plen - RTCP_HDR_LEN;
        if (p[0] & 0x20) {
            /* Padding: only the last packet of a compound may have it (RFC
             * 3550 §6.4.1), and its count octet must lie inside the body. */
            if (off + plen != len || p[plen - 1] == 0 || p[plen - 1] > body_len)
                return -1;
            body_len -= p[plen - 1];
        }
        unsigned count = p[0] & 0x1F;
        if (p[1] == PT_SR || p[1] == PT_RR) {
            if (read_report(p + RTCP_HDR_LEN, body_len, p[1] == PT_SR, count, !seen_report, out) < 0)
                return -1;
            seen_report = true;
        }
        off += plen;
    }
    return 0;
}

static void write_block(uint8_t *p, const struct rp_rtcp_block *b)
{
    int32_t lost = b->cum_lost > CUM_LOST_MAX ? CUM_LOST_MAX : b->cum_lost < CUM_LOST_MIN ? CUM_LOST_MIN : b->cum_lost;
    uint32_t l24 = (uint32_t)lost & 0xFFFFFFu;
    rp_put32(p, b->ssrc);
    p[4] = b->fraction_lost;
    p[5] = (uint8_t)(l24 >> 16);
    p[6] = (uint8_t)(l24 >> 8);
    p[7] = (uint8_t)l24;
    rp_put32(p + 8, b->ext_high_seq);
    rp_put32(p + 12, b->jitter);
    rp_put32(p + 16, b->lsr);
    rp_put32(p + 20, b->dlsr);
}

/* SDES with one chunk: the SSRC, a CNAME item, then the null octets that end
 * the item list and pad the chunk to 32 bits (at least one: RFC 3550 §6.5). */
static size_t sdes_len(size_t cname_len)
{
    return RTCP_HDR_LEN + ((4 + 2 + cname_len + 1 + 3) & ~(size_t)3);
}

static void write_sdes(uint8_t *p, uint32_t ssrc, const char *cname, size_t n)
{
    size_t total = sdes_len(n);
    memset(p, 0, total);
    p[0] = (uint8_t)(RTCP_VERSION << 6 | 1);
    p[1] = PT_SDES;
    rp_put16(p + 2, (uint16_t)(total / 4 - 1));
    rp_put32(p + 4, ssrc);
    p[8] = SDES_CNAME;
    p[9] = (uint8_t)n;
    memcpy(p + 10, cname, n);
}

/* SR or RR (sr_info NULL) with at most one block, then SDES CNAME. */
static size_t build_report(uint8_t *buf, size_t cap, uint32_t ssrc, const struct rp_rtcp_sr *sr,
                           const struct rp_rtcp_block *rb, const char *cname)
{
    size_t n = cname ? strnlen(cname, CNAME_MAX + 1) : 0;
    if (!cname || n > CNAME_MAX)
        return 0;
    size_t rlen = RTCP_HDR_LEN + 4 + (sr ? SR_INFO_LEN : 0) + (rb ? BLOCK_LEN : 0);
    size_t total = rlen + sdes_len(n);
    if (total > cap)
        return 0;
    buf[0] = (uint8_t)(RTCP_VERSION << 6 | (rb ? 1 : 0));
    buf[1] = sr ? PT_SR : PT_RR;
    rp_put16(buf + 2, (uint16_t)(rlen / 4 - 1));
    rp_put32(buf + 4, ssrc);
    size_t off = 8;
    if (sr) {
        rp_put64(buf + 8, sr->ntp);
        rp_put32(buf + 16, sr->rtp_ts);
        rp_put32(buf + 20, sr->packets);
        rp_put32(buf + 24, sr->octets);
        off += SR_INFO_LEN;
    }
    if (rb)
        write_block(buf + off, rb);
    write_sdes(buf + rlen, ssrc, cname, n);
    return total;
}

size_t rp_rtcp_build_sr(uint8_t *buf, size_t cap, const struct rp_rtcp_sr *sr, const struct rp_rtcp_block *rb,
                        const char *cname)
{
    return sr ? build_report(buf, cap, sr->ssrc, sr, rb, cname) : 0;
}

size_t rp_rtcp_build_rr(uint8_t *buf, size_t cap, uint32_t ssrc, const struct rp_rtcp_block *rb, const char *cname)
{
    return build_report(buf, cap, ssrc, NULL, rb, cname);
}

uint64_t rp_rtcp_ntp_from_ns(uint64_t unix_ns)
{
    /* The seconds wrap in 2036 (NTP era 1), as every RTCP stack's do. */
    uint32_t sec = (uint32_t)(unix_ns / NS_PER_S + NTP_UNIX_OFFSET);
    uint64_t frac = ((unix_ns % NS_PER_S) << 32) / NS_PER_S;  /* < 2^30 << 32: no overflow */
    return (uint64_t)sec << 32 | frac;
}

uint32_t rp_rtcp_ntp_mid(uint64_t ntp)
{
    return (uint32_t)(ntp >> 16);
}

int64_t rp_rtcp_rtt_ns(const struct rp_rtcp_block *b, uint32_t arrival_mid)
{
    /* RFC 3550 §6.4.1: LSR 0 means no SR received yet. All in 1/65536 s,
     * modulo 2^32 (the middle bits wrap every 18 h); a difference in the
     * upper half is an arrival before the SR, i.e. negative. */
    if (b->lsr == 0)
        return -1;
    uint32_t since = arrival_mid - b->lsr;
    if (since > UINT32_MAX / 2 || since < b->dlsr)
        return -1;
    uint64_t rtt = since - b->dlsr;
    return (int64_t)((rtt * NS_PER_S) >> 16);   /* rtt < 2^31: the product fits */
}
