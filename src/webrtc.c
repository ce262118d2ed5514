/* The WebRTC transport of a browser session. See include/webrtc.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "dtls.h"
#include "log.h"
#include "netaddr.h"
#include "stun.h"
#include "webrtc.h"

/* Addresses that passed a check: a browser checks each of its candidate
 * pairs, and a relayed and a direct one may both succeed. */
#define MAX_VERIFIED 4
/* ICE credentials: 4 random bytes as 8 hex characters (RFC 8839 needs >= 24
 * bits of ufrag), 16 bytes as 32 for the password (>= 128 bits). */
#define UFRAG_BYTES 4
#define PWD_BYTES 16
/* Largest RTCP compound taken or built (a browser's SR/RR + SDES + feedback). */
#define RTCP_CAP 1500

struct rp_webrtc {
    char     local_ufrag[2 * UFRAG_BYTES + 1];
    char     local_pwd[2 * PWD_BYTES + 1];
    char     remote_ufrag[RP_SDP_UFRAG_MAX + 1];
    rp_webrtc_send_fn *send;
    void    *send_ctx;
    struct rp_dtls *dtls;
    /* The peer: pinned to the source of the first DTLS record (from a
     * verified address); DTLS answers, then media and RTCP, go there only.
     * The handshake, cookie first, proves it receives what we send (a
     * spoofed source cannot finish one), so no later check can move the
     * stream elsewhere. What we take may come from any verified address:
     * a browser can switch candidate pairs (a relay first, then direct),
     * and DTLS, SRTP and SRTCP authenticate themselves. */
    bool     pinned;
    struct sockaddr_storage peer;
    struct sockaddr_storage verified[MAX_VERIFIED];
    unsigned nverified, next_slot;
    bool     connected;
    char     error[200];
    struct rp_srtp *rtcp_out, *rtcp_in;
    /* The browser's last SR: its NTP middle bits and when it came (for DLSR). */
    bool     have_sr;
    uint32_t sr_mid;
    uint64_t sr_arrival_wall;
    uint64_t prev_expected, prev_received;  /* at our last report block (fraction lost since) */
    uint32_t our_ssrc;                  /* our stream's, as our SR says: the browser's block about it */
    struct rp_webrtc_stats st;
};

static void hex_random(char *out, size_t nbytes, bool *ok)
{
    unsigned char b[PWD_BYTES];
    if (RAND_bytes(b, (int)nbytes) != 1) {
        *ok = false;
        return;
    }
    for (size_t i = 0; i < nbytes; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static int dtls_send(void *ctx, const uint8_t *buf, size_t len)
{
    struct rp_webrtc *w = ctx;
    return w->send(w->send_ctx, buf, len, (const struct sockaddr *)&w->peer);
}

struct rp_webrtc *rp_webrtc_new(const struct rp_webrtc_params *p, rp_webrtc_send_fn *send, void *ctx, char *err,
                                size_t errlen)
{
    struct rp_webrtc *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    bool ok = true;
    hex_random(w->local_ufrag, UFRAG_BYTES, &ok);
    hex_random(w->local_pwd, PWD_BYTES, &ok);
    if (!ok) {
        snprintf(err, errlen, "no randomness (RAND_bytes failed)");
        free(w);
        return NULL;
    }
    snprintf(w->remote_ufrag, sizeof w->remote_ufrag, "%s", p->remote_ufrag);
    w->send = send;
    w->send_ctx = ctx;
    /* The browser offers actpass and we answer passive: we are the DTLS server. */
    w->dtls = rp_dtls_new(p->cert, RP_DTLS_SERVER, p->fp_hash, p->fp, p->fp_len, dtls_send, w, err, errlen);
    if (!w->dtls) {
        free(w);
        return NULL;
    }
    return w;
}

void rp_webrtc_free(struct rp_webrtc *w)
{
    if (!w)
        return;
    rp_dtls_free(w->dtls);
    rp_srtp_free(w->rtcp_out);
    rp_srtp_free(w->rtcp_in);
    OPENSSL_cleanse(w->local_pwd, sizeof w->local_pwd);
    free(w);
}

const char *rp_webrtc_local_ufrag(const struct rp_webrtc *w) { return w->local_ufrag; }
const char *rp_webrtc_local_pwd(const struct rp_webrtc *w) { return w->local_pwd; }
bool rp_webrtc_connected(const struct rp_webrtc *w) { return w->connected; }
const char *rp_webrtc_error(const struct rp_webrtc *w) { return w->error; }

enum rp_webrtc_kind rp_webrtc_classify(const uint8_t *buf, size_t len)
{
    if (len == 0)
        return RP_WEBRTC_OTHER;
    uint8_t b = buf[0];
    if (b <= 3)
        return RP_WEBRTC_STUN;
    if (b >= 20 && b <= 63)
        return RP_WEBRTC_DTLS;
    if (b >= 128 && b <= 191)
        return rp_rtcp_is_rtcp(buf, len) ? RP_WEBRTC_RTCP : RP_WEBRTC_RTP;
    return RP_WEBRTC_OTHER;
}

bool rp_webrtc_verified(const struct rp_webrtc *w, const struct sockaddr *from)
{
    for (unsigned i = 0; i < w->nverified; i++)
        if (rp_addr_equal(from, (const struct sockaddr *)&w->verified[i]))
            return true;
    return false;
}

static void remember_verified(struct rp_webrtc *w, const struct sockaddr *from)
{
    if (rp_webrtc_verified(w, from))
        return;
    /* Full: the oldest gives way (a browser that moved on to another pair). */
    memcpy(&w->verified[w->next_slot], from, rp_addr_len(from));
    w->next_slot = (w->next_slot + 1) % MAX_VERIFIED;
    if (w->nverified < MAX_VERIFIED)
        w->nverified++;
}

enum rp_ice_verdict rp_webrtc_on_stun(struct rp_webrtc *w, const uint8_t *buf, size_t len, const struct sockaddr *from)
{
    struct rp_ice_creds creds = { w->local_ufrag, w->local_pwd, w->remote_ufrag };
    struct rp_ice_check check;
    uint8_t resp[256];
    size_t rlen = 0;
    enum rp_ice_verdict v = rp_ice_answer(&creds, buf, len, from, resp, sizeof resp, &rlen, &check);
    w->st.ice[v]++;
    if (v != RP_ICE_ANSWERED)
        return v;
    /* Nominations (USE-CANDIDATE) are not followed: the handshake's address
     * is the pair (see `peer`). Consent checks keep coming and are answered. */
    remember_verified(w, from);
    (void)w->send(w->send_ctx, resp, rlen, from);
    return v;
}

static bool make_rtcp_contexts(struct rp_webrtc *w)
{
    enum rp_srtp_suite suite;
    uint8_t local[RP_SRTP_MAX_KEY_LEN], remote[RP_SRTP_MAX_KEY_LEN];
    char err[160];
    bool ok = rp_dtls_srtp_keys(w->dtls, &suite, local, remote) == 0;
    if (ok) {
        w->rtcp_out = rp_srtp_new(suite, RP_SRTP_OUTBOUND, local, rp_srtp_key_len(suite), err, sizeof err);
        w->rtcp_in = rp_srtp_new(suite, RP_SRTP_INBOUND, remote, rp_srtp_key_len(suite), err, sizeof err);
        ok = w->rtcp_out && w->rtcp_in;
        if (!ok)
            snprintf(w->error, sizeof w->error, "SRTCP: %s", err);
    } else {
        snprintf(w->error, sizeof w->error, "no SRTP keys from the DTLS handshake");
    }
    OPENSSL_cleanse(local, sizeof local);
    OPENSSL_cleanse(remote, sizeof remote);
    return ok;
}

bool rp_webrtc_on_dtls(struct rp_webrtc *w, const uint8_t *buf, size_t len, const struct sockaddr *from)
{
    if (!rp_webrtc_takes(w, from)) {
        w->st.dtls_refused++;
        return false;
    }
    w->st.dtls_in++;
    if (!w->pinned) {
        memcpy(&w->peer, from, rp_addr_len(from));
        w->pinned = true;
    }
    bool was = rp_dtls_state(w->dtls) == RP_DTLS_CONNECTED;
    enum rp_dtls_state st = rp_dtls_on_datagram(w->dtls, buf, len);
    if (st == RP_DTLS_FAILED && !w->error[0]) {
        snprintf(w->error, sizeof w->error, "DTLS: %s", rp_dtls_error(w->dtls));
        rp_log_info("webrtc: %s", w->error);
    }
    if (st != RP_DTLS_CONNECTED || was)
        return false;
    if (!make_rtcp_contexts(w))
        return false;
    w->connected = true;
    return true;
}

int rp_webrtc_keys(const struct rp_webrtc *w, enum rp_srtp_suite *suite, uint8_t local[RP_SRTP_MAX_KEY_LEN],
                   uint8_t remote[RP_SRTP_MAX_KEY_LEN])
{
    return w->connected ? rp_dtls_srtp_keys(w->dtls, suite, local, remote) : -1;
}

const struct sockaddr *rp_webrtc_peer(const struct rp_webrtc *w)
{
    return w->connected ? (const struct sockaddr *)&w->peer : NULL;
}

bool rp_webrtc_takes(const struct rp_webrtc *w, const struct sockaddr *from)
{
    /* The peer itself even if its check aged out of the verified list. */
    return rp_webrtc_verified(w, from) || (w->pinned && rp_addr_equal(from, (const struct sockaddr *)&w->peer));
}

static void note_rtt(struct rp_webrtc *w, double ms)
{
    if (w->st.nrtt < RP_WEBRTC_RTT_MAX)
        w->st.rtt_ms[w->st.nrtt++] = ms;
}

/* The browser's SR (LSR for our next block) and its block about our stream. */
static void take_report(struct rp_webrtc *w, const struct rp_rtcp_info *info, uint32_t our_ssrc,
                        uint64_t arrival_wall)
{
    if (info->has_sr) {
        w->have_sr = true;
        w->sr_mid = rp_rtcp_ntp_mid(info->sr.ntp);
        w->sr_arrival_wall = arrival_wall;
    }
    for (unsigned i = 0; i < info->nblocks; i++) {
        const struct rp_rtcp_block *b = &info->blocks[i];
        if (b->ssrc != our_ssrc)
            continue;
        w->st.block = *b;
        w->st.has_block = true;
        int64_t rtt = rp_rtcp_rtt_ns(b, rp_rtcp_ntp_mid(rp_rtcp_ntp_from_ns(arrival_wall)));
        if (rtt >= 0)
            note_rtt(w, (double)rtt / 1e6);
    }
}

void rp_webrtc_on_rtcp(struct rp_webrtc *w, const uint8_t *buf, size_t len, const struct sockaddr *from,
                       uint64_t arrival_wall)
{
    uint8_t pkt[RTCP_CAP];
    struct rp_rtcp_info info;
    if (!w->connected || !rp_webrtc_takes(w, from) || len > sizeof pkt) {
        w->st.rtcp_bad++;
        return;
    }
    memcpy(pkt, buf, len);
    if (rp_srtp_unprotect_rtcp(w->rtcp_in, pkt, &len) != RP_SRTP_OK || rp_rtcp_parse(pkt, len, &info) < 0) {
        w->st.rtcp_bad++;
        return;
    }
    w->st.rtcp_in++;
    take_report(w, &info, w->our_ssrc, arrival_wall);
}

/* Our report block about the browser's stream (RFC 3550 section 6.4.1):
 * loss since the last block, cumulative loss, jitter, and LSR/DLSR so that
 * the browser can time the round trip. */
static void upstream_block(struct rp_webrtc *w, const struct rp_webrtc_sender *snd, uint64_t now_wall,
                           struct rp_rtcp_block *b)
{
    uint64_t exp = snd->up_expected - w->prev_expected, rec = snd->up_received - w->prev_received;
    if (snd->up_expected < w->prev_expected || snd->up_received < w->prev_received)
        exp = rec = 0;
    uint64_t lost = exp > rec ? exp - rec : 0;
    int64_t cum = (int64_t)snd->up_expected - (int64_t)snd->up_received;
    *b = (struct rp_rtcp_block){
        .ssrc = snd->up_ssrc,
        .fraction_lost = exp ? (uint8_t)(lost >= exp ? 255 : (lost << 8) / exp) : 0,
        .cum_lost = cum > 0x7FFFFF ? 0x7FFFFF : cum < -0x800000 ? -0x800000 : (int32_t)cum,
        .ext_high_seq = snd->up_ext_high_seq,
        .jitter = snd->up_jitter,
    };
    if (w->have_sr) {
        b->lsr = w->sr_mid;
        /* DLSR in units of 1/65536 s. */
        b->dlsr = (uint32_t)(((now_wall - w->sr_arrival_wall) << 16) / 1000000000ull);
    }
    w->prev_expected = snd->up_expected;
    w->prev_received = snd->up_received;
}

void rp_webrtc_send_rtcp(struct rp_webrtc *w, const struct rp_webrtc_sender *snd, uint64_t now_wall)
{
    const struct sockaddr *to = rp_webrtc_peer(w);
    if (!to)
        return;
    w->our_ssrc = snd->ssrc;
    struct rp_rtcp_sr sr = { .ssrc = snd->ssrc, .ntp = rp_rtcp_ntp_from_ns(now_wall), .rtp_ts = snd->rtp_ts,
                             .packets = snd->packets, .octets = snd->octets };
    struct rp_rtcp_block block;
    if (snd->have_upstream)
        upstream_block(w, snd, now_wall, &block);
    uint8_t pkt[RTCP_CAP];
    size_t n = rp_rtcp_build_sr(pkt, sizeof pkt - RP_SRTCP_MAX_OVERHEAD, &sr, snd->have_upstream ? &block : NULL,
                                "rtpprobed");
    if (n == 0 || rp_srtp_protect_rtcp(w->rtcp_out, pkt, &n, sizeof pkt) != RP_SRTP_OK)
        return;
    if (w->send(w->send_ctx, pkt, n, to) == 0)
        w->st.rtcp_out++;
}

void rp_webrtc_stats(const struct rp_webrtc *w, struct rp_webrtc_stats *out)
{
    *out = w->st;
}
