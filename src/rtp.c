/* RTP (RFC 3550 §5.1) header parse/build and RFC 8285 header-extension elements.
 * Everything here reads untrusted bytes: every offset is checked against the
 * length before the read, and multi-byte fields go through rp_get16/rp_get32 (wire.h). */
#include "rtp.h"
#include "wire.h"

#include <string.h>

#define RTP_VERSION       2
#define EXT_HDR_LEN       4     /* "defined by profile" u16 + length-in-words u16 */
#define ONE_BYTE_ID_STOP  15    /* RFC 8285 §4.2: reserved, ends processing */
#define TWO_BYTE_MASK     0xFFF0u

const char *rp_rtp_strerror(enum rp_rtp_err err)
{
    /* Also used as metric labels, hence snake_case without spaces. */
    switch (err) {
    case RP_RTP_OK:        return "ok";
    case RP_RTP_ETOOSHORT: return "too_short";
    case RP_RTP_EVERSION:  return "bad_version";
    case RP_RTP_ECSRC:     return "bad_csrc";
    case RP_RTP_EEXT:      return "bad_extension";
    case RP_RTP_EPADDING:  return "bad_padding";
    case RP_RTP_NERR:      break;
    }
    return "unknown";
}

enum rp_rtp_err rp_rtp_parse(const uint8_t *buf, size_t len, struct rp_rtp_pkt *out)
{
    if (len < RP_RTP_HDR_LEN)
        return RP_RTP_ETOOSHORT;
    if (buf[0] >> 6 != RTP_VERSION)
        return RP_RTP_EVERSION;

    bool padding = (buf[0] & 0x20) != 0;
    bool extension = (buf[0] & 0x10) != 0;
    uint8_t cc = buf[0] & 0x0F;

    memset(out, 0, sizeof(*out));
    out->hdr.marker = (buf[1] & 0x80) != 0;
    out->hdr.pt = buf[1] & 0x7F;
    out->hdr.seq = rp_get16(buf + 2);
    out->hdr.ts = rp_get32(buf + 4);
    out->hdr.ssrc = rp_get32(buf + 8);
    out->csrc_count = cc;

    size_t off = RP_RTP_HDR_LEN;
    /* off <= len holds from here on, so len - off never wraps. */
    if ((size_t)cc * 4 > len - off)
        return RP_RTP_ECSRC;
    off += (size_t)cc * 4;

    if (extension) {
        if (len - off < EXT_HDR_LEN)
            return RP_RTP_EEXT;
        uint16_t profile = rp_get16(buf + off);
        size_t ext_len = (size_t)rp_get16(buf + off + 2) * 4;
        off += EXT_HDR_LEN;
        if (ext_len > len - off)
            return RP_RTP_EEXT;
        out->has_ext = true;
        out->ext_profile = profile;
        out->ext = buf + off;
        out->ext_len = ext_len;
        off += ext_len;
    }

    size_t end = len;
    if (padding) {
        /* The count includes itself (RFC 3550 §5.1), so 0 is invalid, and it
         * may not eat into the header, CSRCs or extension (which also rejects
         * P=1 with no byte left after them: count >= 1 > 0). */
        uint8_t count = buf[len - 1];
        if (count == 0 || count > len - off)
            return RP_RTP_EPADDING;
        out->padding_len = count;
        end = len - count;
    }

    out->payload = buf + off;
    out->payload_len = end - off;
    return RP_RTP_OK;
}

/* RFC 8285 §4.2: 4-bit ID, 4-bit length-minus-one, IDs 1..14. */
static int find_one_byte(const uint8_t *ext, size_t ext_len, uint8_t id,
                         const uint8_t **data, size_t *len)
{
    size_t i = 0;
    while (i < ext_len) {
        uint8_t elem_id = ext[i] >> 4;
        if (elem_id == 0) {             /* padding byte */
            i++;
            continue;
        }
        if (elem_id == ONE_BYTE_ID_STOP)
            return 0;
        size_t elem_len = (size_t)(ext[i] & 0x0F) + 1;
        i++;
        if (elem_len > ext_len - i)
            return -1;
        if (elem_id == id) {
            *data = ext + i;
            *len = elem_len;
            return 1;
        }
        i += elem_len;
    }
    return 0;
}

/* RFC 8285 §4.3: 8-bit ID, 8-bit length (0 allowed), ID 0 is a padding byte. */
static int find_two_byte(const uint8_t *ext, size_t ext_len, uint8_t id,
                         const uint8_t **data, size_t *len)
{
    size_t i = 0;
    while (i < ext_len) {
        uint8_t elem_id = ext[i];
        if (elem_id == 0) {
            i++;
            continue;
        }
        if (ext_len - i < 2)
            return -1;
        size_t elem_len = ext[i + 1];
        i += 2;
        if (elem_len > ext_len - i)
            return -1;
        if (elem_id == id) {
            *data = ext + i;
            *len = elem_len;
            return 1;
        }
        i += elem_len;
    }
    return 0;
}

int rp_rtp_ext_find(const struct rp_rtp_pkt *pkt, uint8_t id, const uint8_t **data, size_t *len)
{
    if (!pkt->has_ext || id == 0)
        return 0;
    if (pkt->ext_profile == RP_RTP_EXT_ONE_BYTE) {
        if (id >= ONE_BYTE_ID_STOP)
            return 0;       /* cannot be expressed in this form */
        return find_one_byte(pkt->ext, pkt->ext_len, id, data, len);
    }
    if ((pkt->ext_profile & TWO_BYTE_MASK) == RP_RTP_EXT_TWO_BYTE)
        return find_two_byte(pkt->ext, pkt->ext_len, id, data, len);
    return 0;
}

size_t rp_rtp_build_elems(uint8_t *buf, size_t cap, const struct rp_rtp_hdr *hdr,
                         const struct rp_rtp_elem *elems, size_t nelems,
                         const uint8_t *payload, size_t payload_len)
{
    if (hdr->pt > 0x7F)
        return 0;
    if (payload_len > 0 && payload == NULL)
        return 0;
    /* Two-byte element headers (ID, length) + data, the whole rounded up to 32 bits. */
    size_t elems_len = 0;
    for (size_t i = 0; i < nelems; i++) {
        if (elems[i].id == 0 || elems[i].len == 0 || elems[i].len > 255 || elems[i].data == NULL)
            return 0;
        elems_len += 2 + elems[i].len;
    }
    size_t ext_body = (elems_len + 3) / 4 * 4;
    size_t head = RP_RTP_HDR_LEN + (nelems > 0 ? EXT_HDR_LEN + ext_body : 0);
    if (ext_body / 4 > 0xFFFF || cap < head || payload_len > cap - head)
        return 0;

    buf[0] = (uint8_t)(RTP_VERSION << 6 | (nelems > 0 ? 0x10 : 0));
    buf[1] = (uint8_t)((hdr->marker ? 0x80 : 0) | hdr->pt);
    rp_put16(buf + 2, hdr->seq);
    rp_put32(buf + 4, hdr->ts);
    rp_put32(buf + 8, hdr->ssrc);

    size_t off = RP_RTP_HDR_LEN;
    if (nelems > 0) {
        rp_put16(buf + off, (uint16_t)RP_RTP_EXT_TWO_BYTE);
        rp_put16(buf + off + 2, (uint16_t)(ext_body / 4));
        off += EXT_HDR_LEN;
        size_t start = off;
        for (size_t i = 0; i < nelems; i++) {
            buf[off] = elems[i].id;
            buf[off + 1] = (uint8_t)elems[i].len;
            memcpy(buf + off + 2, elems[i].data, elems[i].len);
            off += 2 + elems[i].len;
        }
        memset(buf + off, 0, ext_body - (off - start));
        off = start + ext_body;
    }
    if (payload_len > 0)
        memcpy(buf + off, payload, payload_len);
    return off + payload_len;
}

size_t rp_rtp_build(uint8_t *buf, size_t cap, const struct rp_rtp_hdr *hdr,
                    uint8_t elem_id, const uint8_t *elem, size_t elem_len,
                    const uint8_t *payload, size_t payload_len)
{
    struct rp_rtp_elem e = { .id = elem_id, .data = elem, .len = elem_len };
    if (elem_len > 0 && (elem_id == 0 || elem_len > 255 || elem == NULL))
        return 0;
    return rp_rtp_build_elems(buf, cap, hdr, &e, elem_len > 0 ? 1 : 0, payload, payload_len);
}

#define ABS_SEND_TIME_FRAC_BITS 18

uint32_t rp_abs_send_time_from_ns(uint64_t ns)
{
    /* ns * 2^18 / 1e9 without overflow: whole seconds and the rest apart */
    uint64_t secs = ns / 1000000000u, rest = ns % 1000000000u;
    uint64_t ticks = (secs << ABS_SEND_TIME_FRAC_BITS) + (rest << ABS_SEND_TIME_FRAC_BITS) / 1000000000u;
    return (uint32_t)(ticks & RP_ABS_SEND_TIME_MASK);
}

uint32_t rp_abs_send_time_get(const uint8_t b[RP_ABS_SEND_TIME_LEN])
{
    return (uint32_t)b[0] << 16 | (uint32_t)b[1] << 8 | b[2];
}

void rp_abs_send_time_put(uint32_t stamp, uint8_t b[RP_ABS_SEND_TIME_LEN])
{
    b[0] = (uint8_t)(stamp >> 16);
    b[1] = (uint8_t)(stamp >> 8);
    b[2] = (uint8_t)stamp;
}

#define ABS_SEND_TIME_CIRCLE ((int64_t)RP_ABS_SEND_TIME_MASK + 1)

int64_t rp_abs_send_time_step(uint32_t from, uint32_t to, int64_t expect_ticks)
{
    int64_t d = (int64_t)((to - from) & RP_ABS_SEND_TIME_MASK);
    /* k circles added: the k that brings d + k * 64 s nearest the expected step */
    int64_t off = expect_ticks - d + ABS_SEND_TIME_CIRCLE / 2;
    int64_t k = off >= 0 ? off / ABS_SEND_TIME_CIRCLE : -((-off + ABS_SEND_TIME_CIRCLE - 1) / ABS_SEND_TIME_CIRCLE);
    return d + k * ABS_SEND_TIME_CIRCLE;
}

int64_t rp_abs_send_time_ticks(int64_t ns)
{
    int64_t secs = ns / 1000000000, rest = ns % 1000000000;
    return secs * ((int64_t)1 << ABS_SEND_TIME_FRAC_BITS) + rest * ((int64_t)1 << ABS_SEND_TIME_FRAC_BITS) / 1000000000;
}

int64_t rp_abs_send_time_ns(int64_t ticks)
{
    /* exact: 1e9 / 2^18 = 3814.697265625 = 1953125 / 512 */
    return ticks / 512 * 1953125 + ticks % 512 * 1953125 / 512;
}
