/* A probe session on the daemon. See include/session.h. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "log.h"
#include "mext.h"
#include "netaddr.h"
#include "rtp.h"
#include "rxstats.h"
#include "session.h"
#include "stun.h"
#include "timeutil.h"

#define NS_PER_MS 1000000ull
#define NS_PER_S  1000000000ull
/* Downstream keeps going this long past the requested duration, so that a probe
 * that started late still gets a full stream; then it stops by itself. */
#define SEND_GRACE_NS (10 * NS_PER_S)
/* Downstream packets beyond duration / ptime that a session may send. */
#define DOWN_SLACK_MS 5000
/* A stream that no authenticated upstream ever answered stops after this
 * long: an announced address alone does not buy a full-length stream. */
#define UNANSWERED_NS (30 * NS_PER_S)
/* Once upstream was heard, the stream lasts only while it keeps coming (in the
 * spirit of RFC 7675 consent freshness): a probe stops its upstream and then
 * the stream within about a second; 5 s of silence means nobody is there. */
#define CONSENT_NS (5 * NS_PER_S)
/* Packets this far behind the newest are replays, not reordering (20 s at 20 ms). */
#define REPLAY_WINDOW 1024
/* The session stays readable this long after its duration for the final GET. */
#define LINGER_NS (60 * NS_PER_S)
/* Payload loop length: two seconds of signal, long enough not to look periodic to a codec. */
#define PAYLOAD_LOOP_MS 2000

struct rp_session {
    char     id[RP_SESSION_ID_LEN + 1];
    struct rp_session_params params;
    const struct rp_codec_info *codec;
    int      fd;
    uint16_t port;
    uint32_t ssrc_up;
    uint32_t ssrc_down;
    uint64_t created_mono;
    uint64_t send_until_mono;
    uint64_t expires_mono;
    struct sockaddr_storage control_peer;

    bool     announced;
    struct sockaddr_storage announced_addr;
    bool     latched;
    struct sockaddr_storage latched_addr;
    uint64_t relatched;   /* times the upstream source address changed */

    struct rp_rxstats *up_stats;
    uint64_t up_accepted;      /* every accepted datagram, duplicates included */
    uint64_t up_primed;        /* priming packets (latch, not measured) */
    uint64_t last_up_mono;     /* last authentic upstream packet */
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

    /* Plain RTP: both directions carry an HMAC tag under this key. SRTP: libsrtp
     * contexts, up (we unprotect) and down (we protect). */
    uint8_t  auth_key[RP_MEXT_AUTH_KEY_LEN];
    uint8_t  key_up[RP_SRTP_MAX_KEY_LEN];
    uint8_t  key_down[RP_SRTP_MAX_KEY_LEN];
    struct rp_srtp *srtp_in;
    struct rp_srtp *srtp_out;

    struct rp_payloads *payloads;
    bool     stopped;
    bool     sending;          /* peer known, stream running */
    uint64_t next_send_mono;
    uint16_t down_seq;
    uint32_t down_ts;
    uint32_t down_sent;
    uint32_t down_budget;      /* most downstream packets this session may send */
    uint64_t down_started_mono;
    uint64_t down_wire_bytes;
    uint64_t down_send_errors;
};

static const char *const drop_names[RP_DROP_COUNT] = {
    "bad_rtp", "wrong_ssrc", "wrong_pt", "bad_extension", "after_stop", "auth_failure", "replay", "oversized", "foreign_source",
};

const char *rp_drop_reason_name(enum rp_drop_reason r)
{
    return (unsigned)r < RP_DROP_COUNT ? drop_names[r] : "unknown";
}

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

struct rp_session *rp_session_new(const struct rp_session_params *p, int fd, uint16_t port,
                                  const struct sockaddr *control_peer, uint64_t now_mono,
                                  char *err, size_t errlen)
{
    struct rp_session *s = calloc(1, sizeof *s);
    if (!s) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->params = *p;
    s->codec = rp_codec_get(p->codec);
    s->fd = fd;
    s->port = port;
    struct randoms rnd;
    if (draw_randoms(&rnd) < 0 || RAND_bytes(s->auth_key, sizeof s->auth_key) != 1) {
        snprintf(err, errlen, "no randomness (RAND_bytes failed)");
        rp_session_free(s);
        return NULL;
    }
    for (size_t i = 0; i < sizeof rnd.id; i++)
        snprintf(s->id + 2 * i, 3, "%02x", rnd.id[i]);
    s->ssrc_up = rnd.ssrc_up;
    s->ssrc_down = rnd.ssrc_down;
    s->down_seq = (uint16_t)rnd.seq;
    s->down_ts = rnd.ts;
    s->created_mono = now_mono;
    s->send_until_mono = now_mono + p->duration_s * NS_PER_S + SEND_GRACE_NS;
    s->expires_mono = now_mono + p->duration_s * NS_PER_S + LINGER_NS;
    /* The stream never carries more than the session asked for, plus the slack a
     * probe needs around it (STUN, control calls, draining). */
    s->down_budget = (uint32_t)(((uint64_t)p->duration_s * 1000 + DOWN_SLACK_MS) / p->ptime_ms);
    memcpy(&s->control_peer, control_peer, rp_addr_len(control_peer));

    if (p->srtp) {
        size_t klen = rp_srtp_key_len(p->suite);
        if (p->has_key_up)
            memcpy(s->key_up, p->key_up, klen);
        if ((!p->has_key_up && rp_srtp_keygen(p->suite, s->key_up, klen) < 0) ||
            rp_srtp_keygen(p->suite, s->key_down, klen) < 0) {
            snprintf(err, errlen, "no randomness (RAND_bytes failed)");
            rp_session_free(s);
            return NULL;
        }
        s->srtp_in = rp_srtp_new(p->suite, RP_SRTP_INBOUND, s->key_up, klen, err, errlen);
        s->srtp_out = s->srtp_in ? rp_srtp_new(p->suite, RP_SRTP_OUTBOUND, s->key_down, klen, err, errlen) : NULL;
        if (!s->srtp_out) {
            rp_session_free(s);
            return NULL;
        }
    }
    s->up_stats = rp_rxstats_new(s->codec->clock_rate, p->jitter_buffer_ms);
    unsigned nframes = PAYLOAD_LOOP_MS / p->ptime_ms;
    s->payloads = rp_payloads_new(p->codec, p->ptime_ms, p->bitrate_bps, nframes, rnd.payload_seed, err, errlen);
    if (!s->up_stats || !s->payloads) {
        if (!s->up_stats)
            snprintf(err, errlen, "out of memory");
        rp_session_free(s);
        return NULL;
    }
    return s;
}

void rp_session_free(struct rp_session *s)
{
    if (!s)
        return;
    if (s->fd >= 0)
        close(s->fd);
    rp_rxstats_free(s->up_stats);
    rp_payloads_free(s->payloads);
    rp_srtp_free(s->srtp_in);
    rp_srtp_free(s->srtp_out);
    OPENSSL_cleanse(s->auth_key, sizeof s->auth_key);
    OPENSSL_cleanse(s->key_up, sizeof s->key_up);
    OPENSSL_cleanse(s->key_down, sizeof s->key_down);
    free(s);
}

const char *rp_session_id(const struct rp_session *s) { return s->id; }
int rp_session_fd(const struct rp_session *s) { return s->fd; }
uint16_t rp_session_port(const struct rp_session *s) { return s->port; }
uint32_t rp_session_ssrc_up(const struct rp_session *s) { return s->ssrc_up; }
uint32_t rp_session_ssrc_down(const struct rp_session *s) { return s->ssrc_down; }
const struct rp_session_params *rp_session_params(const struct rp_session *s) { return &s->params; }
bool rp_session_stopped(const struct rp_session *s) { return s->stopped; }
const struct sockaddr *rp_session_control_peer(const struct rp_session *s)
{
    return (const struct sockaddr *)&s->control_peer;
}

bool rp_session_expired(const struct rp_session *s, uint64_t now_mono)
{
    return now_mono >= s->expires_mono;
}

static void start_sending(struct rp_session *s, uint64_t now_mono)
{
    if (s->sending || s->stopped || s->down_sent >= s->down_budget)
        return;
    s->sending = true;
    s->next_send_mono = now_mono;
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
        rp_log_debug("session %s: first upstream datagram dropped for %s", s->id, drop_names[r]);
}

/* Refused before authentication (shorter than header + tag, not version 2, or
 * CSRC list / extension past the end for libsrtp's header check): say why from
 * the clear header, as for plain RTP. The padding count lies in the encrypted
 * part, so it is judged only after decryption; here the P bit is ignored. */
static void drop_unreadable_srtp(struct rp_session *s, const uint8_t *buf, size_t len, uint8_t *scratch,
                                 size_t scratch_cap)
{
    struct rp_rtp_pkt pkt;
    if (len > scratch_cap) {
        drop(s, RP_DROP_BAD_RTP);
        return;
    }
    memcpy(scratch, buf, len);
    if (len > 0)
        scratch[0] &= (uint8_t)~0x20;
    enum rp_rtp_err perr = rp_rtp_parse(scratch, len, &pkt);
    if (perr != RP_RTP_OK) {
        s->rtp_errors[perr]++;
        drop(s, RP_DROP_BAD_RTP);
    } else {
        drop(s, pkt.hdr.ssrc != s->ssrc_up ? RP_DROP_WRONG_SSRC : RP_DROP_BAD_RTP);
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
    if (rp_stun_first_byte_is_stun(buf, len)) {
        uint8_t resp[256];
        size_t rlen;
        const struct sockaddr *src = (const struct sockaddr *)&meta->from;
        enum rp_stun_verdict v = rp_stun_answer(buf, len, src, resp, sizeof resp, &rlen);
        s->stun[v]++;
        if (v == RP_STUN_DROP_MALFORMED) {
            struct rp_stun_msg msg;
            s->stun_errors[rp_stun_parse(buf, len, &msg)]++;
        }
        if (v == RP_STUN_ANSWERED || v == RP_STUN_DROP_TOO_SMALL)
            note_upstream(s, now_mono);
        if (v == RP_STUN_ANSWERED)
            (void)rp_udp_send(s->fd, resp, rlen, src, meta->fromlen);
        return;
    }
    size_t wire_len = len; /* what crossed the network, SRTP tag included */
    uint8_t plain[RP_RTP_MAX_PKT + RP_SRTP_MAX_OVERHEAD];
    if (s->params.srtp) {
        if (len > sizeof plain) {
            drop(s, RP_DROP_BAD_RTP);
            return;
        }
        memcpy(plain, buf, len);
        enum rp_srtp_result r = rp_srtp_unprotect(s->srtp_in, plain, &len);
        if (r == RP_SRTP_EINVALID) {
            drop_unreadable_srtp(s, buf, wire_len, plain, sizeof plain);
            return;
        }
        if (r != RP_SRTP_OK) {
            /* EINTERNAL (libsrtp's own failure, e.g. key expiry) is not the
             * sender's malformation: bad_rtp without a parser reason. */
            drop(s, r == RP_SRTP_EAUTH ? RP_DROP_AUTH : r == RP_SRTP_EREPLAY ? RP_DROP_REPLAY : RP_DROP_BAD_RTP);
            return;
        }
        buf = plain;
    }
    struct rp_rtp_pkt pkt;
    enum rp_rtp_err perr = rp_rtp_parse(buf, len, &pkt);
    if (perr != RP_RTP_OK) {
        s->rtp_errors[perr]++;
        drop(s, RP_DROP_BAD_RTP);
        return;
    }
    if (pkt.hdr.ssrc != s->ssrc_up) {
        drop(s, RP_DROP_WRONG_SSRC);
        return;
    }
    if (pkt.hdr.pt != s->codec->pt) {
        drop(s, RP_DROP_WRONG_PT);
        return;
    }
    if (!s->params.srtp) {
        int a = rp_mext_auth_verify(buf, len, s->auth_key);
        if (a != 0) {
            drop(s, a == -2 ? RP_DROP_AUTH : RP_DROP_BAD_EXT);
            return;
        }
    }
    /* SRTP authenticates the packet itself; then the measurement element is
     * optional, so that other SRTP senders (ffmpeg) can be measured too. */
    const uint8_t *elem;
    size_t elem_len;
    struct rp_mext_up up;
    int found = rp_rtp_ext_find(&pkt, RP_MEXT_ID_UP, &elem, &elem_len);
    bool has_up = found == 1 && rp_mext_up_decode(elem, elem_len, &up) == 0;
    if (found < 0 || (found == 1 && !has_up) || (!has_up && !s->params.srtp)) {
        drop(s, RP_DROP_BAD_EXT);
        return;
    }

    bool prime = has_up && (up.flags & RP_MEXT_F_PRIME);
    const struct sockaddr *from = (const struct sockaddr *)&meta->from;
    /* An authentic packet still comes only from the client's own IP: a token
     * holder who spoofs a victim's address must not aim the stream at it. */
    if (!s->params.allow_foreign_peer && !rp_addr_same_ip(from, (const struct sockaddr *)&s->control_peer)) {
        drop(s, RP_DROP_FOREIGN_SOURCE);
        return;
    }
    s->last_up_mono = now_mono;
    if (prime) {
        if (!s->latched)
            latch(s, from);
        /* Upstream evidence and a latch, but not part of the measured stream. */
        s->up_primed++;
        note_upstream(s, now_mono);
        start_sending(s, now_mono);
        return;
    }
    if (!s->first_seen) {
        /* The probe's counter starts at 0 with its first RTP sequence number. */
        if (has_up)
            rp_rxstats_set_first_seq(s->up_stats, (uint16_t)(pkt.hdr.seq - (uint16_t)up.seq));
        s->first_seen = true;
    }
    s->up_accepted++;
    note_upstream(s, now_mono);
    /* The probe's 32-bit counter is authenticated and does not wrap like the
     * 16-bit RTP sequence: a packet far older than the newest is a replay (a
     * real one that late would be useless to a listener anyway). */
    if (has_up && s->have_counter && (int32_t)(s->max_counter - up.seq) >= REPLAY_WINDOW) {
        drop(s, RP_DROP_REPLAY);
        return;
    }
    bool newest = !has_up || !s->have_counter || (int32_t)(up.seq - s->max_counter) > 0;
    if (has_up && newest) {
        s->max_counter = up.seq;
        s->have_counter = true;
    }
    enum rp_rx_class cls =
        rp_rxstats_add(s->up_stats, pkt.hdr.seq, pkt.hdr.ts, meta->rx_ns, wire_len + rp_addr_udp_overhead(from));
    /* Symmetric RTP: send where the media really comes from (RFC 4961), but
     * move only for a packet newer than any before: a replayed authentic packet
     * from elsewhere must not pull the stream away. */
    if (!s->latched || (newest && cls == RP_RX_IN_ORDER))
        latch(s, from);
    if (has_up && (!s->have_reflection || (int32_t)(up.seq - s->refl_seq) > 0)) {
        s->have_reflection = true;
        s->refl_seq = up.seq;
        s->refl_t1 = up.t1_ns;
        s->refl_t2 = meta->rx_ns;
    }
    start_sending(s, now_mono);
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
    size_t payload_len;
    const uint8_t *payload = rp_payloads_get(s->payloads, s->down_sent, &payload_len);
    struct rp_rxsummary sum;
    rp_rxstats_summary(s->up_stats, 0, &sum);
    struct rp_mext_down d = {
        .flags = s->have_reflection ? RP_MEXT_F_REFLECTION : 0,
        .refl_seq = s->refl_seq,
        .t1_ns = s->refl_t1,
        .t2_ns = s->refl_t2,
        .up_received = u32_sat(sum.received),
        .down_sent = s->down_sent + 1,
        .up_host_drops = u32_sat(s->up_host_drops),
    };
    struct rp_rtp_hdr h = {
        .pt = s->codec->pt,
        .marker = s->down_sent == 0,
        .seq = s->down_seq,
        .ts = s->down_ts,
        .ssrc = s->ssrc_down,
    };
    uint8_t elem[RP_MEXT_DOWN_LEN], zero_tag[RP_MEXT_AUTH_LEN] = { 0 };
    uint8_t pkt[RP_RTP_MAX_PKT + RP_SRTP_MAX_OVERHEAD];
    /* T3 as late as possible: the reflection hold time (T3 - T2) leaves the RTT. */
    d.t3_ns = rp_realtime_ns();
    struct rp_rtp_elem elems[2] = {
        { RP_MEXT_ID_DOWN, elem, rp_mext_down_encode(&d, elem, sizeof elem) },
        { RP_MEXT_ID_AUTH, zero_tag, sizeof zero_tag },
    };
    size_t n = rp_rtp_build_elems(pkt, RP_RTP_MAX_PKT, &h, elems, s->params.srtp ? 1 : 2, payload, payload_len);
    if (n == 0)
        return;
    if (s->params.srtp ? rp_srtp_protect(s->srtp_out, pkt, &n, sizeof pkt) != RP_SRTP_OK
                       : rp_mext_auth_sign(pkt, n, s->auth_key) != 0)
        return;
    if (rp_udp_send(s->fd, pkt, n, dest, rp_addr_len(dest)) < 0) {
        /* A blocked path (ICMP unreachable) must not stop the clock: the packet
         * still counts as sent, so the probe sees it as lost. */
        s->down_send_errors++;
    }
    if (!s->first_down_mono)
        s->first_down_mono = now_mono;
    s->down_sent++;
    s->down_wire_bytes += n + rp_addr_udp_overhead(dest);
    s->down_seq++;
    s->down_ts += rp_codec_samples_per_packet(s->params.codec, s->params.ptime_ms);
}

unsigned rp_session_send_due(struct rp_session *s, uint64_t now_mono)
{
    unsigned sent = 0;
    uint64_t period = (uint64_t)s->params.ptime_ms * NS_PER_MS;
    while (s->sending && s->next_send_mono <= now_mono) {
        if (s->next_send_mono >= s->send_until_mono || s->down_sent >= s->down_budget ||
            (s->up_accepted == 0 && s->next_send_mono >= s->down_started_mono + UNANSWERED_NS) ||
            (s->last_up_mono && s->next_send_mono >= s->last_up_mono + CONSENT_NS)) {
            s->sending = false;
            break;
        }
        send_one(s, s->next_send_mono);
        sent++;
        s->next_send_mono += period;
        /* After a long stall (suspend, overload), resynchronise instead of bursting. */
        if (now_mono > s->next_send_mono + 5 * period)
            s->next_send_mono = now_mono + period;
    }
    if (s->sending && s->next_send_mono >= s->send_until_mono)
        s->sending = false;
    return sent;
}

static json_t *addr_json(bool set, const struct sockaddr_storage *ss)
{
    if (!set)
        return json_null();
    char buf[RP_ADDRSTRLEN];
    rp_addr_format((const struct sockaddr *)ss, buf, sizeof buf);
    return json_string(buf);
}

/* Microsecond resolution is plenty for the API; round(v*1000)/1000 prints as written. */
static double round3(double v)
{
    return round(v * 1000.0) / 1000.0;
}

_Static_assert(sizeof(((struct rp_session_counters *)0)->stun) / sizeof(uint64_t) == RP_STUN_VERDICTS,
               "one STUN counter per verdict");

void rp_session_add_counters(const struct rp_session *s, struct rp_session_counters *acc)
{
    struct rp_rxsummary sum;
    rp_rxstats_summary(s->up_stats, 0, &sum);
    acc->up_packets += s->up_accepted;
    acc->up_bytes += sum.wire_bytes;
    acc->down_packets += s->down_sent;
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
}

json_t *rp_session_keys_json(const struct rp_session *s)
{
    if (!s->params.srtp) {
        char b64[RP_MEXT_AUTH_KEY_LEN * 2];
        EVP_EncodeBlock((unsigned char *)b64, s->auth_key, sizeof s->auth_key);
        json_t *j = json_pack("{s:s}", "auth_key", b64);
        OPENSSL_cleanse(b64, sizeof b64);
        return j;
    }
    char up[RP_SRTP_INLINE_MAX], down[RP_SRTP_INLINE_MAX];
    size_t klen = rp_srtp_key_len(s->params.suite);
    rp_srtp_inline_encode(s->key_up, klen, up, sizeof up);
    rp_srtp_inline_encode(s->key_down, klen, down, sizeof down);
    json_t *j = json_pack("{s:{s:s, s:s, s:s}}", "srtp", "suite", rp_srtp_suite_name(s->params.suite), "key_up", up,
                          "key_down", down);
    OPENSSL_cleanse(up, sizeof up);
    OPENSSL_cleanse(down, sizeof down);
    return j;
}

json_t *rp_session_to_json(const struct rp_session *s)
{
    struct rp_rxsummary sum;
    rp_rxstats_summary(s->up_stats, s->upstream_sent, &sum);
    char peer[RP_ADDRSTRLEN];
    rp_addr_format((const struct sockaddr *)&s->control_peer, peer, sizeof peer);

    json_t *drops = json_object();
    for (unsigned r = 0; r < RP_DROP_COUNT; r++)
        json_object_set_new(drops, drop_names[r], json_integer((json_int_t)s->drops[r]));

    json_t *up = json_pack("{s:I, s:I, s:I, s:I, s:f, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:{s:f, s:f, s:f, s:f},"
                           " s:I, s:I, s:o}",
                           "accepted", (json_int_t)s->up_accepted,
                           "sent_by_probe", (json_int_t)s->upstream_sent,
                           "received", (json_int_t)sum.received,
                           "lost", (json_int_t)sum.lost,
                           "loss_pct", round3(sum.loss_pct),
                           "duplicates", (json_int_t)sum.duplicates,
                           "reordered", (json_int_t)sum.reordered,
                           "late", (json_int_t)sum.late,
                           "bursts", (json_int_t)sum.bursts,
                           "max_burst", (json_int_t)sum.max_burst,
                           "burst_ratio", round3(sum.burst_ratio),
                           "jitter_ms", round3(sum.jitter_ms),
                           "jitter_mean_ms", round3(sum.jitter_mean_ms),
                           "ipdv_ms", "p50", round3(sum.ipdv_p50_ms), "p95", round3(sum.ipdv_p95_ms),
                           "p99", round3(sum.ipdv_p99_ms), "max", round3(sum.ipdv_max_ms),
                           "wire_bytes", (json_int_t)sum.wire_bytes,
                           "host_drops", (json_int_t)s->up_host_drops,
                           "dropped", drops);
    json_t *down = json_pack("{s:I, s:I, s:I}",
                             "sent", (json_int_t)s->down_sent,
                             "wire_bytes", (json_int_t)s->down_wire_bytes,
                             "send_errors", (json_int_t)s->down_send_errors);
    json_t *stun = json_object();
    for (unsigned v = 0; v < RP_STUN_VERDICTS; v++)
        json_object_set_new(stun, rp_stun_verdict_name(v), json_integer((json_int_t)s->stun[v]));
    json_object_set_new(up, "reply_only", json_boolean(s->first_up_mono && s->first_down_mono &&
                                                       s->first_up_mono > s->first_down_mono));
    json_object_set_new(up, "stun", stun);
    json_t *malformed = json_object(), *mrtp = json_object(), *mstun = json_object();
    for (unsigned e = 1; e < RP_RTP_NERR; e++)
        json_object_set_new(mrtp, rp_rtp_strerror(e), json_integer((json_int_t)s->rtp_errors[e]));
    for (unsigned e = 1; e < RP_STUN_NERR; e++)
        json_object_set_new(mstun, rp_stun_strerror(e), json_integer((json_int_t)s->stun_errors[e]));
    json_object_set_new(malformed, "rtp", mrtp);
    json_object_set_new(malformed, "stun", mstun);
    json_object_set_new(up, "malformed", malformed);
    json_object_set_new(up, "auth_failures", json_integer((json_int_t)s->drops[RP_DROP_AUTH]));
    json_object_set_new(up, "primed", json_integer((json_int_t)s->up_primed));
    const char *state = s->stopped ? "stopped" : s->sending ? "sending" : "waiting";
    json_t *j = json_pack("{s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:s, s:s, s:o, s:o, s:I, s:I, s:I, s:o, s:o}",
                     "id", s->id,
                     "codec", s->codec->name,
                     "ptime_ms", (int)s->params.ptime_ms,
                     "bitrate_bps", (int)s->params.bitrate_bps,
                     "duration_s", (int)s->params.duration_s,
                     "jitter_buffer_ms", (int)s->params.jitter_buffer_ms,
                     "media_port", (int)s->port,
                     "state", state,
                     "client", peer,
                     "announced", addr_json(s->announced, &s->announced_addr),
                     "latched", addr_json(s->latched, &s->latched_addr),
                     "relatched", (json_int_t)s->relatched,
                     "ssrc_up", (json_int_t)s->ssrc_up,
                     "ssrc_down", (json_int_t)s->ssrc_down,
                     "upstream", up,
                     "downstream", down);
    json_object_set_new(j, "transport", json_string(s->params.srtp ? "srtp" : "rtp"));
    json_object_set_new(j, "cipher", s->params.srtp ? json_string(rp_srtp_suite_name(s->params.suite)) : json_null());
    return j;
}
