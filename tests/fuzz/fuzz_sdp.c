/* libFuzzer target: a browser's SDP offer as POST /v1/webrtc hands it over (a JSON string's
 * bytes, not NUL-terminated: copied into a buffer of exactly the input's size, so that a read
 * past len is a heap-buffer-overflow).
 *
 * Aborts when rp_sdp_parse_offer fails without a one-line reason (or leaves an offer in *out),
 * or succeeds with an offer sdp.h says it refuses (longer than RP_SDP_MAX_LEN, a NUL byte,
 * credentials outside RFC 8839's ice-char and lengths, a fingerprint not of its hash's size,
 * setup passive, no rtcp-mux, no codec, a mid we could not echo). Then the
 * round trip: the answer written for an accepted offer (its mid and pt echoed) must parse back,
 * with setup:passive swapped for active, to the same mid, pt and credentials. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtp.h"
#include "sdp.h"

static bool ice_ok(const char *s, size_t min, size_t max)
{
    size_t n = strlen(s);
    if (n < min || n > max)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '+' ||
              *s == '/'))
            return false;
    return true;
}

static size_t hash_len(const char *h)
{
    static const struct { const char *name; size_t len; } t[] = {
        { "sha-1", 20 }, { "sha-224", 28 }, { "sha-256", 32 }, { "sha-384", 48 }, { "sha-512", 64 },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(h, t[i].name) == 0)
            return t[i].len;
    return 0;
}

static void check_offer(const struct rp_sdp_offer *o)
{
    if (!ice_ok(o->ice_ufrag, 4, RP_SDP_UFRAG_MAX) || !ice_ok(o->ice_pwd, 22, RP_SDP_PWD_MAX))
        abort();
    if (hash_len(o->fp_hash) == 0 || o->fp_len != hash_len(o->fp_hash))
        abort();
    if (o->setup != RP_SDP_SETUP_ACTPASS && o->setup != RP_SDP_SETUP_ACTIVE)
        abort();
    if (!o->rtcp_mux || strlen(o->mid) > RP_SDP_MID_MAX || strpbrk(o->mid, " \t\r\n:/"))
        abort();
    if (o->pt_opus < -1 || o->pt_opus > 127 || o->pt_pcmu < -1 || o->pt_pcmu > 127 || o->pt_pcma < -1 ||
        o->pt_pcma > 127 || (o->pt_opus < 0 && o->pt_pcmu < 0 && o->pt_pcma < 0))
        abort();
    if (o->abs_send_time_id > RP_RTP_EXT_ONE_BYTE_ID_MAX)
        abort();
}

static void round_trip(const struct rp_sdp_offer *o)
{
    struct rp_sdp_answer a = {
        .sess_id = 1, .ice_ufrag = "rpUf", .ice_pwd = "rtpprobeIcePassword0123", .mid = o->mid,
        .encoding = o->pt_opus >= 0 ? "opus" : o->pt_pcmu >= 0 ? "PCMU" : "PCMA",
        .clock_rate = o->pt_opus >= 0 ? 48000 : 8000, .channels = o->pt_opus >= 0 ? 2 : 1,
        .pt = o->pt_opus >= 0 ? o->pt_opus : o->pt_pcmu >= 0 ? o->pt_pcmu : o->pt_pcma,
        .ptime_ms = 20, .ssrc = 7, .cname = "rtpprobe", .addr = o->ipv6 ? "::1" : "127.0.0.1", .port = 10000,
        .abs_send_time_id = o->abs_send_time_id,
    };
    memcpy(a.fp_sha256, o->fp, sizeof a.fp_sha256 < o->fp_len ? sizeof a.fp_sha256 : o->fp_len);
    static char text[4096];
    size_t n = rp_sdp_write_answer(&a, text, sizeof text);
    char *at = n ? strstr(text, "a=setup:passive") : NULL;
    if (at == NULL)
        abort();
    memcpy(at, "a=setup:active \r", 16);   /* same length: trailing blank, then CR LF */
    struct rp_sdp_offer back;
    char err[256];
    if (rp_sdp_parse_offer(text, n, &back, err, sizeof err) != 0)
        abort();
    int pt = a.pt;
    bool pt_same = strcmp(a.encoding, "opus") == 0 ? back.pt_opus == pt
                 : strcmp(a.encoding, "PCMU") == 0 ? back.pt_pcmu == pt : back.pt_pcma == pt;
    if (strcmp(back.mid, o->mid) != 0 || !pt_same || strcmp(back.ice_ufrag, "rpUf") != 0 ||
        back.ipv6 != o->ipv6 || back.ssrc != 7 || back.setup != RP_SDP_SETUP_ACTIVE ||
        back.abs_send_time_id != o->abs_send_time_id)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    struct rp_sdp_offer o;
    char err[256];
    memset(err, 'x', sizeof err);
    if (rp_sdp_parse_offer(text, size, &o, err, sizeof err) == 0) {
        if (size > RP_SDP_MAX_LEN || memchr(text, '\0', size))
            abort();
        check_offer(&o);
        round_trip(&o);
    } else if (memchr(err, '\0', sizeof err) == NULL || err[0] == '\0' || strpbrk(err, "\r\n") ||
               o.pt_opus != -1 || o.fp_len != 0 || o.ice_ufrag[0] != '\0') {
        abort();
    }
    free(text);
    return 0;
}
