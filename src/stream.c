/* One direction of a measured stream. See include/stream.h. */
#include "stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rp_stream {
    struct rp_stream_cfg cfg;
    const struct rp_codec_info *codec;
    unsigned samples_per_packet;
    /* seal only: the loop, private (own) or held from cfg.payload_cache */
    const struct rp_payloads *payloads;
    struct rp_payloads *own_payloads;
    uint32_t loop_offset;           /* frame of the loop that packet 0 carries */
    struct rp_srtp *srtp;           /* SRTP: protects (seal) or unprotects (open) */
    struct rp_mext_auth *auth;      /* plain RTP: the HMAC keyed once (hashed pads) */
    bool     ssrc_learned;          /* cfg.learn_ssrc: cfg.ssrc is the first authentic packet's */
};

static const char *const drop_names[RP_DROP_COUNT] = {
    "none", "bad_rtp", "wrong_ssrc", "wrong_pt", "bad_extension", "after_stop", "auth_failure", "replay",
    "oversized", "foreign_source",
};

const char *rp_drop_reason_name(enum rp_drop_reason r)
{
    return (unsigned)r < RP_DROP_COUNT ? drop_names[r] : "unknown";
}

static int take_loop(struct rp_stream *s, const struct rp_stream_cfg *cfg, char *err, size_t errlen)
{
    if (cfg->payload_cache) {
        s->payloads = rp_payload_cache_get(cfg->payload_cache, cfg->codec, cfg->ptime_ms, cfg->bitrate_bps,
                                           cfg->loop_frames, err, errlen);
        s->loop_offset = cfg->loop_frames ? cfg->payload_seed % cfg->loop_frames : 0;
    } else {
        s->payloads = s->own_payloads = rp_payloads_new(cfg->codec, cfg->ptime_ms, cfg->bitrate_bps,
                                                        cfg->loop_frames, cfg->payload_seed, err, errlen);
    }
    return s->payloads ? 0 : -1;
}

struct rp_stream *rp_stream_new(const struct rp_stream_cfg *cfg, char *err, size_t errlen)
{
    struct rp_stream *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->cfg = *cfg;
    s->cfg.key = NULL; /* keyed into the HMAC or SRTP context below; the caller's buffer may go */
    uint8_t ast = cfg->abs_send_time_id;
    /* plain RTP's tag is ID 3; SRTP streams carry none, so a browser may put its stamp there */
    if (ast > RP_RTP_EXT_ONE_BYTE_ID_MAX ||
        (ast && ((!cfg->no_elem && ast == cfg->elem_id) || (!cfg->srtp && ast == RP_MEXT_ID_AUTH)))) {
        snprintf(err, errlen, "abs-send-time element ID %u: not 1..%u or taken", ast, RP_RTP_EXT_ONE_BYTE_ID_MAX);
        rp_stream_free(s);
        return NULL;
    }
    s->codec = rp_codec_get(cfg->codec);
    s->samples_per_packet = rp_codec_samples_per_packet(cfg->codec, cfg->ptime_ms);
    if (cfg->srtp) {
        enum rp_srtp_dir dir = cfg->role == RP_STREAM_SEAL ? RP_SRTP_OUTBOUND : RP_SRTP_INBOUND;
        s->srtp = rp_srtp_new(cfg->suite, dir, cfg->key, rp_srtp_key_len(cfg->suite), err, errlen);
        if (!s->srtp) {
            rp_stream_free(s);
            return NULL;
        }
    } else if (!(s->auth = rp_mext_auth_new(cfg->key))) {
        snprintf(err, errlen, "out of memory for the HMAC context");
        rp_stream_free(s);
        return NULL;
    }
    if (cfg->role == RP_STREAM_SEAL && take_loop(s, cfg, err, errlen) < 0) {
        rp_stream_free(s);
        return NULL;
    }
    return s;
}

void rp_stream_free(struct rp_stream *s)
{
    if (!s)
        return;
    if (s->own_payloads)
        rp_payloads_free(s->own_payloads);
    else if (s->payloads)
        rp_payload_cache_put(s->cfg.payload_cache, s->payloads);
    rp_srtp_free(s->srtp);
    rp_mext_auth_free(s->auth);
    free(s);
}

uint32_t rp_stream_ssrc(const struct rp_stream *s)
{
    return s->cfg.ssrc;
}

const struct rp_payloads *rp_stream_loop(const struct rp_stream *s)
{
    return s->payloads;
}

size_t rp_stream_seal(struct rp_stream *s, int64_t index, const struct rp_stream_elem *elem, uint8_t *buf,
                      size_t cap)
{
    size_t plen;
    const uint8_t *payload = rp_payloads_get(s->payloads, (uint32_t)index + s->loop_offset, &plen);
    struct rp_rtp_hdr h = {
        .pt = s->cfg.set_pt ? s->cfg.pt : s->codec->pt,
        .marker = index == 0,
        .seq = (uint16_t)(s->cfg.seq0 + (uint16_t)index),
        .ts = s->cfg.ts0 + (uint32_t)index * s->samples_per_packet,
        .ssrc = s->cfg.ssrc,
    };
    uint8_t el[RP_MEXT_DOWN_LEN], zero_tag[RP_MEXT_AUTH_LEN] = { 0 }, stamp[RP_ABS_SEND_TIME_LEN];
    struct rp_rtp_elem elems[3];
    size_t nelems = 0;
    if (!s->cfg.no_elem) {
        size_t elen = s->cfg.elem_id == RP_MEXT_ID_UP ? rp_mext_up_encode(&elem->up, el, sizeof el)
                                                      : rp_mext_down_encode(&elem->down, el, sizeof el);
        elems[nelems++] = (struct rp_rtp_elem){ s->cfg.elem_id, el, elen };
    }
    if (s->cfg.abs_send_time_id) {
        rp_abs_send_time_put(elem->abs_send_time, stamp);
        elems[nelems++] = (struct rp_rtp_elem){ s->cfg.abs_send_time_id, stamp, sizeof stamp };
    }
    if (!s->srtp)
        elems[nelems++] = (struct rp_rtp_elem){ RP_MEXT_ID_AUTH, zero_tag, sizeof zero_tag };
    /* Room for the SRTP tag after the RTP packet. */
    size_t rtp_cap = cap < RP_SRTP_MAX_OVERHEAD ? 0 : cap - RP_SRTP_MAX_OVERHEAD;
    if (rtp_cap > RP_RTP_MAX_PKT)
        rtp_cap = RP_RTP_MAX_PKT;
    size_t n = rp_rtp_build_elems(buf, rtp_cap, &h, elems, nelems, payload, plen);
    if (n == 0)
        return 0;
    if (s->srtp ? rp_srtp_protect(s->srtp, buf, &n, cap) != RP_SRTP_OK : rp_mext_auth_seal(s->auth, buf, n) != 0)
        return 0;
    return n;
}

/* libsrtp refused the datagram before authentication (shorter than header +
 * tag, not version 2, CSRC list or extension past the end): say why from the
 * clear header, as for plain RTP. The padding count lies in the encrypted
 * part, so it is judged only after decryption; here the P bit is ignored. */
static enum rp_drop_reason unreadable_srtp(const struct rp_stream *s, uint8_t *copy, size_t len,
                                              struct rp_stream_rx *out)
{
    struct rp_rtp_pkt pkt;
    if (len > 0)
        copy[0] &= (uint8_t)~0x20;
    out->rtp_err = rp_rtp_parse(copy, len, &pkt);
    if (out->rtp_err == RP_RTP_OK && pkt.hdr.ssrc != s->cfg.ssrc)
        return RP_DROP_WRONG_SSRC;
    return RP_DROP_BAD_RTP;
}

static enum rp_drop_reason unprotect(struct rp_stream *s, const uint8_t *buf, uint8_t *plain, size_t *len,
                                        struct rp_stream_rx *out)
{
    size_t wire_len = *len;
    switch (rp_srtp_unprotect(s->srtp, plain, len)) {
    case RP_SRTP_OK:
        return RP_DROP_NONE;
    case RP_SRTP_EINVALID:
        memcpy(plain, buf, wire_len); /* as it came, whatever libsrtp did to it */
        return unreadable_srtp(s, plain, wire_len, out);
    case RP_SRTP_EAUTH:
        return RP_DROP_AUTH;
    case RP_SRTP_EREPLAY:
        return RP_DROP_REPLAY;
    default:
        /* libsrtp's own failure (e.g. key expiry) is not the sender's
         * malformation: bad_rtp without a parser reason. */
        return RP_DROP_BAD_RTP;
    }
}

/* The sender's abs-send-time, when it stamped one. An authentic packet whose
 * stamp is missing or malformed is still media. */
static void read_send_time(const struct rp_stream *s, const struct rp_rtp_pkt *pkt, struct rp_stream_rx *out)
{
    const uint8_t *el;
    size_t elen;
    if (!s->cfg.abs_send_time_id || rp_rtp_ext_find(pkt, s->cfg.abs_send_time_id, &el, &elen) != 1 ||
        elen != RP_ABS_SEND_TIME_LEN)
        return;
    out->has_send_time = true;
    out->send_stamp = rp_abs_send_time_get(el);
}

/* The measurement element: required, unless the stream says SRTP senders
 * that are not ours may omit it (SRTP authenticates the packet itself), or
 * carry none (a browser's). */
static enum rp_drop_reason read_elem(const struct rp_stream *s, const struct rp_rtp_pkt *pkt,
                                        struct rp_stream_rx *out)
{
    const uint8_t *el;
    size_t elen;
    if (s->cfg.no_elem)
        return RP_DROP_NONE;
    int found = rp_rtp_ext_find(pkt, s->cfg.elem_id, &el, &elen);
    if (found == 1) {
        int rc = s->cfg.elem_id == RP_MEXT_ID_UP ? rp_mext_up_decode(el, elen, &out->elem.up)
                                                 : rp_mext_down_decode(el, elen, &out->elem.down);
        out->has_elem = rc == 0;
    }
    if (found < 0 || (found == 1 && !out->has_elem) || (found == 0 && !s->cfg.elem_optional))
        return RP_DROP_BAD_EXT;
    return RP_DROP_NONE;
}

enum rp_drop_reason rp_stream_open(struct rp_stream *s, const uint8_t *buf, size_t len, struct rp_stream_rx *out)
{
    memset(out, 0, sizeof *out);
    const uint8_t *rtp = buf;
    uint8_t plain[RP_STREAM_MAX_PKT]; /* SRTP decrypts in place: the caller's datagram stays as it came */
    if (s->srtp) {
        if (len > sizeof plain)
            return RP_DROP_BAD_RTP;
        memcpy(plain, buf, len);
        enum rp_drop_reason v = unprotect(s, buf, plain, &len, out);
        if (v != RP_DROP_NONE)
            return v;
        rtp = plain;
    }
    struct rp_rtp_pkt pkt;
    out->rtp_err = rp_rtp_parse(rtp, len, &pkt);
    if (out->rtp_err != RP_RTP_OK)
        return RP_DROP_BAD_RTP;
    out->hdr = pkt.hdr;
    bool pt_ok = pkt.hdr.pt == (s->cfg.set_pt ? s->cfg.pt : s->codec->pt);
    /* Authentic (SRTP verified it) and of our codec: not a CN or RTX stream's. */
    if (s->cfg.learn_ssrc && s->srtp && !s->ssrc_learned && pt_ok) {
        s->cfg.ssrc = pkt.hdr.ssrc;
        s->ssrc_learned = true;
    }
    if (pkt.hdr.ssrc != s->cfg.ssrc)
        return RP_DROP_WRONG_SSRC;
    if (!pt_ok)
        return RP_DROP_WRONG_PT;
    if (!s->srtp) {
        int a = rp_mext_auth_check(s->auth, rtp, len);
        if (a != 0)
            return a == -2 ? RP_DROP_AUTH : RP_DROP_BAD_EXT;
    }
    enum rp_drop_reason v = read_elem(s, &pkt, out);
    if (v == RP_DROP_NONE)
        read_send_time(s, &pkt, out);
    return v;
}
