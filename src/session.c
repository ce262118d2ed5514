/* A probe session on the daemon. See include/session.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "contract.h"
#include "log.h"
#include "mext.h"
#include "netaddr.h"
#include "rtp.h"
#include "rxstats.h"
#include "session.h"
#include "stun.h"
#include "stunrate.h"
#include "timeutil.h"
#include "wire.h"

/* Downstream keeps going this long past the requested duration, so that a probe
 * that started late still gets a full stream; then it stops by itself. */
#define SEND_GRACE_NS (10 * NS_PER_S)
/* A stream that no authenticated upstream ever answered stops after this
 * long: an announced address alone does not buy a full-length stream. */
#define UNANSWERED_NS (30 * NS_PER_S)
/* Once upstream was heard, the stream lasts only while it keeps coming (in the
 * spirit of RFC 7675 consent freshness): a probe stops its upstream and then
 * the stream within about a second; 5 s of silence means nobody is there. */
#define CONSENT_NS (5 * NS_PER_S)
/* Downstream streams start on multiples of this (see start_sending). */
#define PHASE_GRID_NS (2 * NS_PER_MS)
/* Packets this far behind the newest are replays, not reordering (20 s at 20 ms). */
#define REPLAY_WINDOW 1024
/* Upstream per-second figures ("series": true) cover the duration and one
 * second more (a sender's clock a little slow), at most RP_SERIES_MAX_SECONDS:
 * 16 bytes a second, so a 30 s session pays 496 bytes and an hour 57.6 kB. */
#define SERIES_SLACK_S 1
/* The session stays readable this long after its duration for the final GET. */
#define LINGER_NS (60 * NS_PER_S)
/* Payload loop length: two seconds of signal, long enough not to look periodic to a codec. */
#define PAYLOAD_LOOP_MS 2000
/* Downstream catch-up after a stall (overload, a descheduled daemon): up to
 * this many overdue slots go out at once, late but not lost, as a sender's
 * burst that the receiver's jitter buffer absorbs or counts late; behind by
 * more, the overdue slots are skipped (a gap in seq and timestamp, counted in
 * down_skipped) and the stream resumes with the slot due now. The same bound
 * as before the media clock numbered the packets, so an unstalled stream
 * sends exactly as it did. */
#define CATCHUP_SLOTS 5
/* A browser's RTCP: one SR a second (RFC 3550's 5 s minimum is relaxed for
 * WebRTC, RFC 8108; browsers themselves send about once a second). */
#define RTCP_INTERVAL_NS NS_PER_S

struct rp_session {
    char     id[RP_SESSION_ID_LEN + 1];
    struct rp_session_params params;
    const struct rp_codec_info *codec;
    uint16_t port;
    uint32_t ssrc_up;
    uint32_t ssrc_down;
    uint64_t created_mono;
    struct rp_wallclock wall;  /* T2 and T3: steady from creation on */
    uint64_t send_until_mono;
    uint64_t expires_mono;
    struct sockaddr_storage client;
    rp_session_send_fn *send;
    void    *send_ctx;
    struct rp_ratelimit *stun_rate; /* the daemon's, shared; NULL: no limit */

    bool     announced;
    struct sockaddr_storage announced_addr;
    bool     latched;
    struct sockaddr_storage latched_addr;
    uint64_t relatched;   /* times the upstream source address changed */

    struct rp_rxstats *up_stats;
    uint64_t up_accepted;      /* every accepted datagram, duplicates included */
    uint64_t up_primed;        /* priming packets (latch, not measured) */
    uint64_t last_up_mono;     /* last authentic upstream packet */
    uint64_t last_rx_mono;     /* its arrival (rp_udp_arrival) */
    bool     have_counter;
    uint32_t max_counter;      /* highest measurement counter (rp_mext_up.seq) seen */
    uint64_t up_host_drops;    /* SO_RXQ_OVFL */
    uint64_t drops[RP_DROP_COUNT];
    uint64_t upstream_sent;    /* from the probe at stop; 0 = unknown */
    bool     first_seen;
    uint64_t stun[RP_STUN_VERDICTS];
    uint64_t rtp_errors[RP_RTP_NERR];   /* bad_rtp, by parser reason */
    uint64_t stun_errors[RP_STUN_NERR]; /* STUN "malformed", by parser reason */
    /* When the first packet from the agent (STUN or RTP) arrived and when the first
     * downstream packet left: upstream that only ever arrives after our own
     * packets went out passes a stateful firewall or NAT as a reply, not because
     * the port is open or forwarded. */
    uint64_t first_up_mono;
    uint64_t first_down_mono;

    bool     have_reflection;
    uint32_t refl_seq;
    uint64_t refl_t1, refl_t2;

    /* The keys handed to the client: plain RTP tags both directions with
     * auth_key; SRTP uses key_up (we unprotect) and key_down (we protect). */
    uint8_t  auth_key[RP_MEXT_AUTH_KEY_LEN];
    uint8_t  key_up[RP_SRTP_MAX_KEY_LEN];
    uint8_t  key_down[RP_SRTP_MAX_KEY_LEN];
    struct rp_stream *up;      /* opens upstream */
    struct rp_stream *down;    /* seals downstream */
    uint16_t seq0;             /* the downstream stream's first sequence number and timestamp, */
    uint32_t ts0, payload_seed;/* kept for a browser's streams, made when its handshake completes */

    struct rp_webrtc *webrtc;  /* a browser's session: its transport; NULL for a probe's */
    uint8_t  webrtc_pt;
    uint8_t  abs_send_time_id; /* a browser's: its send-time stamps (stream.h), 0 = none */
    bool     learn_ssrc;       /* the offer named no SSRC: the first authentic packet's */
    uint64_t next_rtcp_mono;
    uint16_t first_up_seq;
    const struct rp_payloads *warm_loop; /* held from creation: the handshake does not wait for an encoder */
    uint64_t down_payload_bytes;         /* a browser's: RTP payload octets sent (its SR's octet count) */

    bool     stopped;
    bool     sending;          /* peer known, stream running */
    uint64_t next_send_mono;   /* when slot down_slot is due */
    uint32_t down_slot;        /* next slot of the media clock: the packet index it is sent as */
    uint32_t down_sent;        /* packets sent */
    uint32_t down_skipped;     /* slots skipped after a stall: gaps the probe counts as lost */
    uint32_t down_budget;      /* most downstream slots this session may use */
    uint64_t down_started_mono;
    uint64_t down_wire_bytes;
    uint64_t down_send_errors;
};

/* All the session's random material in one place: a failing RAND_bytes fails
 * this request (500), not the daemon. */
struct randoms {
    unsigned char id[RP_SESSION_ID_LEN / 2];
    uint32_t ssrc_up, ssrc_down, seq, ts, payload_seed;
};

static int draw_randoms(struct randoms *r)
{
    if (RAND_bytes((unsigned char *)r, sizeof *r) != 1)
        return -1;
    if (r->ssrc_down == r->ssrc_up)
        r->ssrc_down ^= 1;
    return 0;
}

/* Keys: the client's upstream SRTP key if it chose one, else fresh ones. */
static int make_keys(struct rp_session *s, const struct rp_session_params *p)
{
    if (RAND_bytes(s->auth_key, sizeof s->auth_key) != 1)
        return -1;
    if (!p->srtp)
        return 0;
    size_t klen = rp_srtp_key_len(p->suite);
    if (p->has_key_up)
        memcpy(s->key_up, p->key_up, klen);
    else if (rp_srtp_keygen(p->suite, s->key_up, klen) < 0)
        return -1;
    return rp_srtp_keygen(p->suite, s->key_down, klen);
}

/* Upstream opened with the client's key, downstream sealed with ours (a
 * browser's: the keys of its DTLS handshake, its payload type, no element). */
static int make_streams(struct rp_session *s, char *err, size_t errlen)
{
    const struct rp_session_params *p = &s->params;
    struct rp_stream_cfg up = {
        .role = RP_STREAM_OPEN, .codec = p->codec, .ptime_ms = p->ptime_ms, .ssrc = s->ssrc_up,
        .elem_id = RP_MEXT_ID_UP,
        /* SRTP authenticates the packet itself; then the measurement element is
         * optional, so that other SRTP senders (ffmpeg) can be measured too. */
        .elem_optional = p->srtp,
        .srtp = p->srtp, .suite = p->suite, .key = p->srtp ? s->key_up : s->auth_key,
        .set_pt = s->webrtc != NULL, .pt = s->webrtc_pt, .learn_ssrc = s->learn_ssrc,
        .no_elem = s->webrtc != NULL, .abs_send_time_id = s->abs_send_time_id,
    };
    struct rp_stream_cfg down = {
        .role = RP_STREAM_SEAL, .codec = p->codec, .ptime_ms = p->ptime_ms, .ssrc = s->ssrc_down,
        .elem_id = RP_MEXT_ID_DOWN, .seq0 = s->seq0, .ts0 = s->ts0, .bitrate_bps = p->bitrate_bps,
        .loop_frames = PAYLOAD_LOOP_MS / p->ptime_ms, .payload_seed = s->payload_seed,
        .payload_cache = p->payload_cache,
        .srtp = p->srtp, .suite = p->suite, .key = p->srtp ? s->key_down : s->auth_key,
        .set_pt = s->webrtc != NULL, .pt = s->webrtc_pt, .no_elem = s->webrtc != NULL,
    };
    s->up = rp_stream_new(&up, err, errlen);
    s->down = s->up ? rp_stream_new(&down, err, errlen) : NULL;
    if (!s->down) { /* both or neither: a browser's RTP is taken once s->up exists */
        rp_stream_free(s->up);
        s->up = NULL;
        return -1;
    }
    return 0;
}

/* A browser's session: its transport now, its streams once the handshake
 * gives keys (webrtc_connected). */
static int webrtc_init(struct rp_session *s, const struct rp_webrtc_params *w, char *err, size_t errlen)
{
    s->params.webrtc = NULL; /* read here only: the caller's */
    s->webrtc_pt = w->pt;
    s->abs_send_time_id = w->abs_send_time_id;
    if (w->has_ssrc)
        s->ssrc_up = w->ssrc;
    s->learn_ssrc = !w->has_ssrc;
    /* The downstream loop is made now, as a probe's session makes it at its
     * POST: made at the handshake, it would hold the media clock there. */
    const struct rp_session_params *p = &s->params;
    if (p->payload_cache && !(s->warm_loop = rp_payload_cache_get(p->payload_cache, p->codec, p->ptime_ms,
                                                                  p->bitrate_bps, PAYLOAD_LOOP_MS / p->ptime_ms, err,
                                                                  errlen)))
        return -1;
    s->webrtc = rp_webrtc_new(w, s->send, s->send_ctx, err, errlen);
    return s->webrtc ? 0 : -1;
}

struct rp_session *rp_session_new(const struct rp_session_params *p, uint16_t port,
                                  const struct sockaddr *client, uint64_t now_mono, uint64_t now_real,
                                  rp_session_send_fn *send, void *send_ctx, char *err, size_t errlen)
{
    struct rp_session *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->params = *p;
    s->codec = rp_codec_get(p->codec);
    s->port = port;
    s->send = send;
    s->send_ctx = send_ctx;
    struct randoms rnd;
    if (draw_randoms(&rnd) < 0 || make_keys(s, p) < 0) {
        snprintf(err, errlen, "no randomness (RAND_bytes failed)");
        rp_session_free(s);
        return NULL;
    }
    rp_hex_encode(rnd.id, sizeof rnd.id, s->id, sizeof s->id);
    s->ssrc_up = rnd.ssrc_up;
    s->ssrc_down = rnd.ssrc_down;
    s->seq0 = (uint16_t)rnd.seq;
    s->ts0 = rnd.ts;
    s->payload_seed = rnd.payload_seed;
    s->created_mono = now_mono;
    s->wall = rp_wallclock_at(now_real, now_mono);
    s->send_until_mono = now_mono + p->duration_s * NS_PER_S + SEND_GRACE_NS;
    s->expires_mono = now_mono + p->duration_s * NS_PER_S + LINGER_NS;
    /* The stream never carries more than the session asked for, plus the slack a
     * probe needs around it (STUN, control calls, draining). */
    s->down_budget = (uint32_t)rp_contract_down_budget(p->duration_s, p->ptime_ms);
    memcpy(&s->client, client, rp_addr_len(client));
    s->up_stats = rp_rxstats_new(s->codec->clock_rate, p->jitter_buffer_ms);
    if (!s->up_stats ||
        (p->series && rp_rxstats_series_enable(s->up_stats, p->ptime_ms, p->duration_s + SERIES_SLACK_S) < 0)) {
        snprintf(err, errlen, "out of memory");
        rp_session_free(s);
        return NULL;
    }
    if ((p->webrtc ? webrtc_init(s, p->webrtc, err, errlen) : make_streams(s, err, errlen)) < 0) {
        rp_session_free(s);
        return NULL;
    }
    return s;
}

void rp_session_free(struct rp_session *s)
{
    if (!s)
        return;
    rp_rxstats_free(s->up_stats);
    rp_stream_free(s->up);
    rp_stream_free(s->down);
    rp_webrtc_free(s->webrtc);
    if (s->warm_loop)
        rp_payload_cache_put(s->params.payload_cache, s->warm_loop);
    OPENSSL_cleanse(s->auth_key, sizeof s->auth_key);
    OPENSSL_cleanse(s->key_up, sizeof s->key_up);
    OPENSSL_cleanse(s->key_down, sizeof s->key_down);
    free(s);
}

void rp_session_set_stun_rate(struct rp_session *s, struct rp_ratelimit *rate)
{
    s->stun_rate = rate;
}

const char *rp_session_id(const struct rp_session *s) { return s->id; }
struct rp_webrtc *rp_session_webrtc(const struct rp_session *s) { return s->webrtc; }
uint16_t rp_session_port(const struct rp_session *s) { return s->port; }
const struct rp_session_params *rp_session_params(const struct rp_session *s) { return &s->params; }
bool rp_session_stopped(const struct rp_session *s) { return s->stopped; }
const struct sockaddr *rp_session_client(const struct rp_session *s)
{
    return (const struct sockaddr *)&s->client;
}

bool rp_session_expired(const struct rp_session *s, uint64_t now_mono)
{
    return now_mono >= s->expires_mono;
}

/* A stream that stopped (consent, no answer) and starts again resumes with
 * the next slot now: the pause was no slot anyone called for. */
static void start_sending(struct rp_session *s, uint64_t now_mono)
{
    if (s->sending || s->stopped || s->down_slot >= s->down_budget)
        return;
    s->sending = true;
    /* On a 2 ms grid: streams share ten phases of a 20 ms period, so that one
     * tick of the daemon's clock sends for many sessions at once (a thousand
     * streams at random phases would each need a wakeup of their own). The
     * first packet is at most 2 ms later; the period itself is exact. */
    s->next_send_mono = (now_mono + PHASE_GRID_NS - 1) / PHASE_GRID_NS * PHASE_GRID_NS;
    if (!s->down_started_mono)
        s->down_started_mono = now_mono;
}

static void latch(struct rp_session *s, const struct sockaddr *from)
{
    if (s->latched && rp_addr_equal(from, (const struct sockaddr *)&s->latched_addr))
        return;
    if (s->latched)
        s->relatched++;
    memcpy(&s->latched_addr, from, rp_addr_len(from));
    s->latched = true;
}

static void note_upstream(struct rp_session *s, uint64_t now_mono)
{
    if (!s->first_up_mono)
        s->first_up_mono = now_mono;
}

static void drop(struct rp_session *s, enum rp_drop_reason r)
{
    /* Debug level only: at info, a flood of junk would flood the log too. */
    if (s->drops[r]++ == 0)
        rp_log_debug("session %s: first upstream datagram dropped for %s", s->id, rp_drop_reason_name(r));
}

/* A STUN message on the media port: at most one answer, no larger than it,
 * and only within the source's share of stun.rate. */
static void on_stun(struct rp_session *s, const uint8_t *buf, size_t len, const struct rp_udp_meta *meta,
                    uint64_t now_mono)
{
    uint8_t resp[256];
    size_t rlen;
    const struct sockaddr *src = (const struct sockaddr *)&meta->from;
    enum rp_stun_verdict v = rp_stunrate_answer(s->stun_rate, now_mono, buf, len, src, resp, sizeof resp, &rlen);
    s->stun[v]++;
    if (v == RP_STUN_DROP_MALFORMED) {
        struct rp_stun_msg msg;
        s->stun_errors[rp_stun_parse(buf, len, &msg)]++;
    }
    /* A Binding request came, answered or not: someone is there. */
    if (v == RP_STUN_ANSWERED || v == RP_STUN_DROP_TOO_SMALL || v == RP_STUN_DROP_RATE)
        note_upstream(s, now_mono);
    if (v == RP_STUN_ANSWERED)
        (void)s->send(s->send_ctx, resp, rlen, src);
}

/* A priming packet: upstream evidence and a latch, not part of the measured stream. */
static void on_priming(struct rp_session *s, const struct sockaddr *from, uint64_t now_mono)
{
    if (!s->latched)
        latch(s, from);
    s->up_primed++;
    note_upstream(s, now_mono);
    start_sending(s, now_mono);
}

/* The probe's 32-bit counter is authenticated and does not wrap like the
 * 16-bit RTP sequence: a packet far older than the newest is a replay (a real
 * one that late would be useless to a listener anyway). Sets *newest. */
static bool counter_replayed(struct rp_session *s, const struct rp_stream_rx *rx, bool *newest)
{
    const struct rp_mext_up *up = &rx->elem.up;
    if (rx->has_elem && s->have_counter && (int32_t)(s->max_counter - up->seq) >= REPLAY_WINDOW)
        return true;
    *newest = !rx->has_elem || !s->have_counter || (int32_t)(up->seq - s->max_counter) > 0;
    if (rx->has_elem && *newest) {
        s->max_counter = up->seq;
        s->have_counter = true;
    }
    return false;
}

/* An authentic upstream packet of the measured stream. */
static void on_upstream(struct rp_session *s, const struct rp_stream_rx *rx, size_t wire_len,
                        const struct rp_udp_meta *meta, uint64_t now_mono)
{
    const struct sockaddr *from = (const struct sockaddr *)&meta->from;
    const struct rp_mext_up *up = &rx->elem.up;
    if (!s->first_seen) {
        /* The probe's counter starts at 0 with its first RTP sequence number. */
        if (rx->has_elem)
            rp_rxstats_set_first_seq(s->up_stats, (uint16_t)(rx->hdr.seq - (uint16_t)up->seq));
        s->first_up_seq = rx->hdr.seq;
        s->first_seen = true;
    }
    s->up_accepted++;
    note_upstream(s, now_mono);
    bool newest;
    if (counter_replayed(s, rx, &newest)) {
        drop(s, RP_DROP_REPLAY);
        return;
    }
    uint64_t arrival = rp_udp_arrival(meta, &s->last_rx_mono);
    enum rp_rx_class cls =
        rp_rxstats_add(s->up_stats, rx->hdr.seq, rx->hdr.ts, arrival, wire_len + rp_addr_udp_overhead(from));
    if (rx->has_send_time && cls != RP_RX_DUPLICATE)
        rp_rxstats_add_send_stamp(s->up_stats, arrival, rx->send_stamp);
    /* Symmetric RTP: send where the media really comes from (RFC 4961), but
     * move only for a packet newer than any before: a replayed authentic packet
     * from elsewhere must not pull the stream away. */
    if (!s->webrtc && (!s->latched || (newest && cls == RP_RX_IN_ORDER)))
        latch(s, from);
    if (rx->has_elem && (!s->have_reflection || (int32_t)(up->seq - s->refl_seq) > 0)) {
        s->have_reflection = true;
        s->refl_seq = up->seq;
        s->refl_t1 = up->t1_ns;
        s->refl_t2 = rp_wallclock_ns(&s->wall, arrival);
    }
    start_sending(s, now_mono);
}

/* Where authentic media may come from. A probe's: the client's own IP, so
 * that a token holder who spoofs a victim's address cannot aim the stream
 * at it. A browser's: any address that passed a check (webrtc.h: the
 * stream goes to the handshake's address whatever comes from where), as a
 * relayed one does, although it is not the client's. */
static bool source_allowed(const struct rp_session *s, const struct sockaddr *from)
{
    if (s->webrtc)
        return rp_webrtc_takes(s->webrtc, from);
    return s->params.allow_foreign_peer || rp_addr_same_ip(from, (const struct sockaddr *)&s->client);
}

static void on_media(struct rp_session *s, const uint8_t *buf, size_t len, const struct rp_udp_meta *meta,
                     uint64_t now_mono);

/* The browser's handshake completed: its keys make the streams, and the
 * stream to it starts. */
static void webrtc_connected(struct rp_session *s, uint64_t now_mono)
{
    char err[160];
    if (rp_webrtc_keys(s->webrtc, &s->params.suite, s->key_down, s->key_up) < 0 || make_streams(s, err, sizeof err) < 0) {
        rp_log_warn("session %s: no SRTP streams after the handshake", s->id);
        return;
    }
    latch(s, rp_webrtc_peer(s->webrtc));
    rp_log_debug("session %s: DTLS-SRTP connected (%s)", s->id, rp_srtp_suite_name(s->params.suite));
    start_sending(s, now_mono);
}

/* A browser's datagram (RFC 7983): ICE, DTLS and RTCP to its transport, RTP
 * to the measured stream once there are keys. */
static void on_webrtc(struct rp_session *s, const uint8_t *buf, size_t len, const struct rp_udp_meta *meta,
                      uint64_t now_mono)
{
    const struct sockaddr *from = (const struct sockaddr *)&meta->from;
    switch (rp_webrtc_classify(buf, len)) {
    case RP_WEBRTC_STUN:
        if (rp_webrtc_on_stun(s->webrtc, buf, len, from) == RP_ICE_ANSWERED)
            note_upstream(s, now_mono);
        return;
    case RP_WEBRTC_DTLS:
        if (rp_webrtc_on_dtls(s->webrtc, buf, len, from))
            webrtc_connected(s, now_mono);
        return;
    case RP_WEBRTC_RTCP:
        rp_webrtc_on_rtcp(s->webrtc, buf, len, from, rp_wallclock_ns(&s->wall, meta->rx_mono));
        return;
    case RP_WEBRTC_RTP:
        if (s->up)
            on_media(s, buf, len, meta, now_mono);
        else
            drop(s, RP_DROP_AUTH); /* before the handshake: nothing can verify it */
        return;
    default:
        drop(s, RP_DROP_BAD_RTP);
    }
}

void rp_session_on_datagram(struct rp_session *s, const uint8_t *buf, size_t len,
                            const struct rp_udp_meta *meta, uint64_t now_mono)
{
    if (meta->has_drops)
        s->up_host_drops = meta->rxq_drops;
    if (s->stopped) {
        drop(s, RP_DROP_STOPPED);
        return;
    }
    if (s->webrtc)
        on_webrtc(s, buf, len, meta, now_mono);
    else if (rp_stun_first_byte_is_stun(buf, len))
        on_stun(s, buf, len, meta, now_mono);
    else
        on_media(s, buf, len, meta, now_mono);
}

static void on_media(struct rp_session *s, const uint8_t *buf, size_t len, const struct rp_udp_meta *meta,
                     uint64_t now_mono)
{
    struct rp_stream_rx rx;
    enum rp_drop_reason why = rp_stream_open(s->up, buf, len, &rx);
    const struct sockaddr *from = (const struct sockaddr *)&meta->from;
    if (why == RP_DROP_NONE && !source_allowed(s, from))
        why = RP_DROP_FOREIGN_SOURCE;
    if (why != RP_DROP_NONE) {
        if (why == RP_DROP_BAD_RTP && rx.rtp_err != RP_RTP_OK)
            s->rtp_errors[rx.rtp_err]++;
        drop(s, why);
        return;
    }
    s->last_up_mono = now_mono;
    if (rx.has_elem && (rx.elem.up.flags & RP_MEXT_F_PRIME))
        on_priming(s, from, now_mono);
    else
        on_upstream(s, &rx, len, meta, now_mono); /* len: what crossed the network, SRTP tag included */
}

void rp_session_note_oversized(struct rp_session *s)
{
    drop(s, RP_DROP_OVERSIZED);
}

void rp_session_announce(struct rp_session *s, const struct sockaddr *addr, uint64_t now_mono)
{
    memcpy(&s->announced_addr, addr, rp_addr_len(addr));
    s->announced = true;
    start_sending(s, now_mono);
}

void rp_session_stop(struct rp_session *s, uint64_t upstream_sent)
{
    s->stopped = true;
    s->sending = false;
    if (upstream_sent)
        s->upstream_sent = upstream_sent;
}

uint64_t rp_session_next_due(const struct rp_session *s)
{
    return s->sending ? s->next_send_mono : UINT64_MAX;
}

static const struct sockaddr *downstream_dest(const struct rp_session *s)
{
    if (s->webrtc)
        return rp_webrtc_peer(s->webrtc);
    if (s->latched)
        return (const struct sockaddr *)&s->latched_addr;
    if (s->announced)
        return (const struct sockaddr *)&s->announced_addr;
    return NULL;
}

static uint32_t u32_sat(uint64_t v)
{
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static void send_one(struct rp_session *s, uint64_t now_mono)
{
    const struct sockaddr *dest = downstream_dest(s);
    if (!dest)
        return;
    struct rp_stream_elem e = {
        .down = {
            .flags = s->have_reflection ? RP_MEXT_F_REFLECTION : 0,
            .refl_seq = s->refl_seq,
            .t1_ns = s->refl_t1,
            .t2_ns = s->refl_t2,
            .t3_ns = rp_wallclock_ns(&s->wall, now_mono),
            .up_received = u32_sat(rp_rxstats_received(s->up_stats)),
            /* The slots so far, this one included: skipped ones count, so
             * that the probe's expected count has them as lost. */
            .down_sent = s->down_slot + 1,
            .up_host_drops = u32_sat(s->up_host_drops),
        },
    };
    uint8_t pkt[RP_STREAM_MAX_PKT];
    size_t n = rp_stream_seal(s->down, s->down_slot, &e, pkt, sizeof pkt);
    /* A packet that could not be built uses up its slot like one the host
     * refused: sent and a send error, so that the counts stay consistent. */
    if (n == 0 || s->send(s->send_ctx, pkt, n, dest) < 0) {
        /* A blocked path (ICMP unreachable) must not stop the clock: the packet
         * still counts as sent, so the probe sees it as lost. */
        s->down_send_errors++;
    }
    if (!s->first_down_mono)
        s->first_down_mono = s->next_send_mono;
    s->down_sent++;
    if (n)
        s->down_wire_bytes += n + rp_addr_udp_overhead(dest);
    /* A browser's packets carry no extension: header and tag are all there is besides the payload. */
    if (n && s->webrtc)
        s->down_payload_bytes += n - RP_RTP_HDR_LEN - rp_srtp_overhead(s->params.suite);
}

/* Why the stream stops at its next packet, if it does. Right after a stall
 * the consent and unanswered deadlines are not judged: upstream that came
 * during the stall waits unread in the socket (the clock runs before the
 * reads), so last_up_mono says nothing yet; the next tick judges them. */
static bool stream_over(const struct rp_session *s, bool stalled)
{
    uint64_t t = s->next_send_mono;
    if (t >= s->send_until_mono || s->down_slot >= s->down_budget)
        return true;
    return !stalled && ((s->up_accepted == 0 && t >= s->down_started_mono + UNANSWERED_NS) ||
                        (s->last_up_mono && t >= s->last_up_mono + CONSENT_NS));
}

/* Behind by more than CATCHUP_SLOTS: skip the overdue slots up to the one
 * due now (never past the stream's end or budget), counting them; true when
 * it did. A stall that outlasts the consent deadline skips up to now too:
 * whether upstream stopped is known only after the reads, and a stream that
 * then stops has a few skips too many (the host did stall) rather than a
 * silent gap if upstream had gone on. */
static bool skip_stalled(struct rp_session *s, uint64_t now_mono, uint64_t period)
{
    uint64_t behind = (now_mono - s->next_send_mono) / period;
    if (behind <= CATCHUP_SLOTS)
        return false;
    uint64_t end = s->send_until_mono;
    uint64_t to_end = s->next_send_mono < end ? (end - s->next_send_mono + period - 1) / period : 0;
    uint64_t budget = s->down_budget > s->down_slot ? s->down_budget - s->down_slot : 0;
    uint64_t n = behind < to_end ? behind : to_end;
    n = n < budget ? n : budget;
    s->down_slot += (uint32_t)n;
    s->down_skipped += (uint32_t)n;
    s->next_send_mono += n * period;
    rp_log_debug("session %s: %" PRIu64 " downstream slots skipped after a stall", s->id, n);
    return true;
}

/* A browser's RTCP: our SR, and a report block about its stream once it
 * came (RFC 3550 section 6.4). */
static void send_rtcp(struct rp_session *s, uint64_t now_mono)
{
    struct rp_webrtc_sender snd = {
        .ssrc = s->ssrc_down,
        .rtp_ts = s->ts0 + s->down_slot * rp_codec_samples_per_packet(s->params.codec, s->params.ptime_ms),
        .packets = s->down_sent,
        .octets = (uint32_t)s->down_payload_bytes,
        .have_upstream = s->first_seen,
        .up_ssrc = rp_stream_ssrc(s->up),
    };
    if (s->first_seen) {
        struct rp_rxsummary sum;
        rp_rxstats_summary(s->up_stats, 0, &sum);
        snd.up_expected = sum.expected;
        snd.up_received = sum.received;
        snd.up_ext_high_seq = (uint32_t)s->first_up_seq + (uint32_t)sum.expected - 1;
        snd.up_jitter = (uint32_t)(sum.jitter_ms * s->codec->clock_rate / 1000.0);
    }
    rp_webrtc_send_rtcp(s->webrtc, &snd, rp_wallclock_ns(&s->wall, now_mono));
}

unsigned rp_session_send_due(struct rp_session *s, uint64_t now_mono)
{
    unsigned sent = 0;
    uint64_t period = (uint64_t)s->params.ptime_ms * NS_PER_MS;
    bool stalled = false;
    if (s->sending && s->next_send_mono <= now_mono)
        stalled = skip_stalled(s, now_mono, period);
    while (s->sending && s->next_send_mono <= now_mono) {
        if (stream_over(s, stalled)) {
            s->sending = false;
            break;
        }
        send_one(s, now_mono);
        sent++;
        s->down_slot++;
        s->next_send_mono += period;
    }
    if (s->sending && s->next_send_mono >= s->send_until_mono)
        s->sending = false;
    if (s->webrtc && s->sending && now_mono >= s->next_rtcp_mono) {
        send_rtcp(s, now_mono);
        s->next_rtcp_mono = now_mono + RTCP_INTERVAL_NS;
    }
    return sent;
}

_Static_assert(sizeof(((struct rp_session_counters *)0)->stun) / sizeof(uint64_t) == RP_STUN_VERDICTS,
               "one STUN counter per verdict");

void rp_session_add_counters(const struct rp_session *s, struct rp_session_counters *acc)
{
    acc->up_packets += s->up_accepted;
    acc->up_bytes += rp_rxstats_wire_bytes(s->up_stats);
    acc->down_packets += s->down_sent;
    acc->down_skipped += s->down_skipped;
    acc->down_bytes += s->down_wire_bytes;
    for (unsigned r = 0; r < RP_DROP_COUNT; r++)
        acc->drops[r] += s->drops[r];
    for (unsigned v = 0; v < RP_STUN_VERDICTS; v++)
        acc->stun[v] += s->stun[v];
    for (unsigned e = 0; e < RP_RTP_NERR; e++)
        acc->rtp_errors[e] += s->rtp_errors[e];
    for (unsigned e = 0; e < RP_STUN_NERR; e++)
        acc->stun_errors[e] += s->stun_errors[e];
    acc->host_drops += s->up_host_drops;
    if (s->webrtc) {
        struct rp_webrtc_stats w;
        rp_webrtc_stats(s->webrtc, &w);
        for (unsigned v = 0; v < RP_ICE_VERDICTS; v++)
            acc->ice[v] += w.ice[v];
        acc->dtls_refused += w.dtls_refused;
        acc->rtcp_bad += w.rtcp_bad;
    }
}

void rp_session_keys(const struct rp_session *s, struct rp_contract_keys *out)
{
    memset(out, 0, sizeof *out);
    out->srtp = s->params.srtp;
    out->suite = s->params.suite;
    memcpy(out->auth_key, s->auth_key, sizeof out->auth_key);
    memcpy(out->key_up, s->key_up, sizeof out->key_up);
    memcpy(out->key_down, s->key_down, sizeof out->key_down);
}

static void format_addr(bool set, const struct sockaddr_storage *ss, char *buf, size_t len)
{
    if (set)
        rp_addr_format((const struct sockaddr *)ss, buf, len);
    else
        buf[0] = '\0';
}

static void snapshot_upstream(const struct rp_session *s, struct rp_contract_up *up)
{
    rp_rxstats_summary(s->up_stats, s->upstream_sent, &up->rx);
    up->accepted = s->up_accepted;
    up->sent_by_probe = s->upstream_sent;
    up->host_drops = s->up_host_drops;
    up->auth_failures = s->drops[RP_DROP_AUTH];
    up->primed = s->up_primed;
    up->reply_only = s->first_up_mono && s->first_down_mono && s->first_up_mono > s->first_down_mono;
    memcpy(up->dropped, s->drops, sizeof up->dropped);
    memcpy(up->stun, s->stun, sizeof up->stun);
    memcpy(up->malformed_rtp, s->rtp_errors, sizeof up->malformed_rtp);
    memcpy(up->malformed_stun, s->stun_errors, sizeof up->malformed_stun);
    /* Borrowed: the encoder writes its seconds (contract.h). */
    up->series = rp_rxstats_has_series(s->up_stats) ? s->up_stats : NULL;
}

void rp_session_snapshot(const struct rp_session *s, struct rp_contract_session *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->id, sizeof out->id, "%s", s->id);
    snprintf(out->codec, sizeof out->codec, "%s", s->codec->name);
    out->ptime_ms = s->params.ptime_ms;
    out->bitrate_bps = s->params.bitrate_bps;
    out->duration_s = s->params.duration_s;
    out->jitter_buffer_ms = s->params.jitter_buffer_ms;
    out->media_port = s->port;
    snprintf(out->state, sizeof out->state, "%s", s->stopped ? "stopped" : s->sending ? "sending" : "waiting");
    rp_addr_format((const struct sockaddr *)&s->client, out->client, sizeof out->client);
    format_addr(s->announced, &s->announced_addr, out->announced, sizeof out->announced);
    format_addr(s->latched, &s->latched_addr, out->latched, sizeof out->latched);
    out->relatched = s->relatched;
    out->ssrc_up = s->ssrc_up;
    out->ssrc_down = s->ssrc_down;
    snprintf(out->transport, sizeof out->transport, "%s", s->params.srtp ? "srtp" : "rtp");
    if (s->params.srtp)
        snprintf(out->cipher, sizeof out->cipher, "%s", rp_srtp_suite_name(s->params.suite));
    snapshot_upstream(s, &out->up);
    out->down.sent = s->down_sent;
    out->down.skipped = s->down_skipped;
    out->down.wire_bytes = s->down_wire_bytes;
    out->down.send_errors = s->down_send_errors;
}
