/* The probe's run: control calls before and after, media both ways in between
 * on one libevent loop with a precise upstream clock. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "emodel.h"
#include "httpc.h"
#include "mext.h"
#include "netaddr.h"
#include "probe.h"
#include "rtp.h"
#include "rxstats.h"
#include "srtp.h"
#include "stun.h"
#include "timeutil.h"
#include "udp.h"

#define NS_PER_MS 1000000ull
/* Wait after the last upstream packet before asking for the daemon's counters,
 * and after stopping downstream before counting ours: in-flight packets land. */
#define DRAIN_MIN_NS (250 * NS_PER_MS)
#define DRAIN_MAX_NS (3000 * NS_PER_MS)
#define PAYLOAD_LOOP_MS 2000
/* An RTT sample beyond this is a bogus reflection, not a network. */
#define RTT_SANE_NS (10ull * 1000 * NS_PER_MS)
/* NAT discovery: Binding requests every 100 ms, for at most this many rounds. */
#define STUN_ROUNDS 6
#define STUN_INTERVAL_MS 100
/* Our requests are at least as large as any answer: servers that refuse to
 * amplify (rtpprobed) still answer them. */
#define STUN_REQUEST_LEN 64
#define DEFAULT_STUN_PORT 3478
#define STUN_SERVER_RETRY_ROUND 5   /* 500 ms after the first request */
/* Priming RTP packets sent when the media port gave no STUN answer. */
#define PRIME_PACKETS 5

struct run {
    const struct rp_probe_opts *opts;
    const struct rp_codec_info *codec;
    struct rp_httpc *http;
    char session_path[96];
    struct rp_report *report;

    int fd;
    struct sockaddr_storage media_dest;
    socklen_t media_dest_len;
    uint32_t ssrc_up, ssrc_down;
    uint16_t up_seq0;
    uint32_t up_ts0;
    struct rp_payloads *payloads;
    uint8_t auth_key[RP_MEXT_AUTH_KEY_LEN];   /* plain RTP: HMAC key from the daemon */
    struct rp_srtp *srtp_out, *srtp_in;       /* SRTP: up (we protect), down (we unprotect) */
    uint64_t down_auth_failures, down_replays;
    uint64_t n_total, n_sent, send_errors;
    uint64_t period_ns, t0_mono;

    struct event_base *base;
    struct event *send_ev, *read_ev, *progress_ev, *stop_ev;

    struct rp_rxstats *down;
    bool down_first;
    uint32_t down_sent_seen, up_received_seen;
    uint32_t up_highest_seen;  /* upstream packets up to the daemon's latest reflection */
    uint64_t down_host_drops, foreign, malformed;
    int64_t *rtt_ns;
    size_t nrtt, rtt_cap;
    bool have_refl;
    uint32_t last_refl_seq;
    int64_t rtt_max_ns;
    unsigned overhead;
};

static uint32_t random_u32(void)
{
    uint32_t v = 0;
    RAND_bytes((unsigned char *)&v, sizeof v);
    return v;
}

static void arm_in(struct event *ev, uint64_t ns)
{
    struct timeval tv = { .tv_sec = (time_t)(ns / 1000000000u), .tv_usec = (suseconds_t)(ns % 1000000000u / 1000u) };
    evtimer_add(ev, &tv);
}

static uint64_t drain_ns(const struct run *r)
{
    uint64_t d = r->rtt_max_ns > 0 ? 2 * (uint64_t)r->rtt_max_ns : 0;
    return d < DRAIN_MIN_NS ? DRAIN_MIN_NS : d > DRAIN_MAX_NS ? DRAIN_MAX_NS : d;
}

/* One upstream RTP packet, HMAC-signed or SRTP-protected. 0, or -1 if it could
 * not be built or sent (a refused send, e.g. ICMP unreachable, is counted by the
 * caller: the daemon's receive count tells what arrived). */
static int send_rtp(struct run *r, uint16_t seq, uint32_t ts, uint32_t counter, uint8_t flags, bool marker)
{
    size_t plen;
    const uint8_t *payload = rp_payloads_get(r->payloads, counter, &plen);
    struct rp_rtp_hdr h = { .pt = r->codec->pt, .marker = marker, .seq = seq, .ts = ts, .ssrc = r->ssrc_up };
    struct rp_mext_up up = { .flags = flags, .seq = counter, .t1_ns = rp_realtime_ns() };
    uint8_t elem[RP_MEXT_UP_LEN], zero_tag[RP_MEXT_AUTH_LEN] = { 0 };
    uint8_t pkt[RP_RTP_MAX_PKT + RP_SRTP_MAX_OVERHEAD];
    struct rp_rtp_elem elems[2] = {
        { RP_MEXT_ID_UP, elem, rp_mext_up_encode(&up, elem, sizeof elem) },
        { RP_MEXT_ID_AUTH, zero_tag, sizeof zero_tag },
    };
    size_t n = rp_rtp_build_elems(pkt, RP_RTP_MAX_PKT, &h, elems, r->srtp_out ? 1 : 2, payload, plen);
    bool ok = n > 0 && (r->srtp_out ? rp_srtp_protect(r->srtp_out, pkt, &n, sizeof pkt) == RP_SRTP_OK
                                    : rp_mext_auth_sign(pkt, n, r->auth_key) == 0);
    if (!ok || rp_udp_send(r->fd, pkt, n, (struct sockaddr *)&r->media_dest, r->media_dest_len) < 0)
        return -1;
    return 0;
}

static uint32_t ts_of(const struct run *r, int64_t index)
{
    return r->up_ts0 + (uint32_t)(index * (int64_t)rp_codec_samples_per_packet(r->codec->id, r->opts->ptime_ms));
}

static void send_upstream(struct run *r)
{
    uint64_t i = r->n_sent;
    if (send_rtp(r, (uint16_t)(r->up_seq0 + i), ts_of(r, (int64_t)i), (uint32_t)i, 0, i == 0) < 0)
        r->send_errors++;
    r->n_sent++;
}

static void on_send(evutil_socket_t fd, short what, void *arg)
{
    struct run *r = arg;
    (void)fd;
    (void)what;
    uint64_t now = rp_monotonic_ns();
    while (r->n_sent < r->n_total && r->t0_mono + r->n_sent * r->period_ns <= now)
        send_upstream(r);
    if (r->n_sent < r->n_total)
        arm_in(r->send_ev, r->t0_mono + r->n_sent * r->period_ns - now);
    else
        arm_in(r->stop_ev, drain_ns(r));
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
    struct run *r = arg;
    (void)fd;
    (void)what;
    event_base_loopbreak(r->base);
}

static void record_rtt(struct run *r, const struct rp_mext_down *d, uint64_t t4)
{
    if (!(d->flags & RP_MEXT_F_REFLECTION) || (r->have_refl && d->refl_seq == r->last_refl_seq))
        return;
    r->have_refl = true;
    r->last_refl_seq = d->refl_seq;
    int64_t rtt = (int64_t)(t4 - d->t1_ns) - (int64_t)(d->t3_ns - d->t2_ns);
    if (rtt < 0 || (uint64_t)rtt > RTT_SANE_NS || r->nrtt == r->rtt_cap)
        return;
    r->rtt_ns[r->nrtt++] = rtt;
    if (rtt > r->rtt_max_ns)
        r->rtt_max_ns = rtt;
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct run *r = arg;
    uint8_t buf[2048];
    (void)what;
    for (;;) {
        struct rp_udp_meta meta;
        ssize_t n = rp_udp_recv(fd, buf, sizeof buf, &meta);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            continue; /* ICMP errors, oversized datagrams */
        }
        if (meta.has_drops)
            r->down_host_drops = meta.rxq_drops;
        /* A STUN answer that came after discovery ended: not media, not malformed. */
        if (rp_stun_first_byte_is_stun(buf, (size_t)n))
            continue;
        if (!rp_addr_equal((struct sockaddr *)&meta.from, (struct sockaddr *)&r->media_dest)) {
            r->foreign++;
            continue;
        }
        size_t len = (size_t)n;
        if (r->srtp_in) {
            enum rp_srtp_result sr = rp_srtp_unprotect(r->srtp_in, buf, &len);
            if (sr != RP_SRTP_OK) {
                if (sr == RP_SRTP_EAUTH)
                    r->down_auth_failures++;
                else if (sr == RP_SRTP_EREPLAY)
                    r->down_replays++;
                else
                    r->malformed++;
                continue;
            }
        } else {
            int a = rp_mext_auth_verify(buf, len, r->auth_key);
            if (a == -2) {
                r->down_auth_failures++;
                continue;
            }
            if (a < 0) {
                r->malformed++;
                continue;
            }
        }
        struct rp_rtp_pkt pkt;
        const uint8_t *elem;
        size_t elen;
        struct rp_mext_down d;
        if (rp_rtp_parse(buf, len, &pkt) != RP_RTP_OK || pkt.hdr.ssrc != r->ssrc_down ||
            pkt.hdr.pt != r->codec->pt) {
            r->foreign++;
            continue;
        }
        if (rp_rtp_ext_find(&pkt, RP_MEXT_ID_DOWN, &elem, &elen) != 1 ||
            rp_mext_down_decode(elem, elen, &d) != 0 || d.down_sent == 0) {
            r->malformed++;
            continue;
        }
        if (!r->down_first) {
            /* down_sent counts this packet: the stream began down_sent - 1 packets earlier. */
            rp_rxstats_set_first_seq(r->down, (uint16_t)(pkt.hdr.seq - (uint16_t)(d.down_sent - 1)));
            r->down_first = true;
        }
        /* Bytes on the wire: the datagram as received, SRTP tag included. */
        rp_rxstats_add(r->down, pkt.hdr.seq, pkt.hdr.ts, meta.rx_ns, (size_t)n + r->overhead);
        if (d.down_sent > r->down_sent_seen)
            r->down_sent_seen = d.down_sent;
        if (d.up_received > r->up_received_seen)
            r->up_received_seen = d.up_received;
        if ((d.flags & RP_MEXT_F_REFLECTION) && d.refl_seq + 1 > r->up_highest_seen)
            r->up_highest_seen = d.refl_seq + 1;
        record_rtt(r, &d, meta.rx_ns);
    }
}

static void on_progress(evutil_socket_t fd, short what, void *arg)
{
    struct run *r = arg;
    (void)fd;
    (void)what;
    struct rp_rxsummary s;
    rp_rxstats_summary(r->down, 0, &s);
    double t = (double)(rp_monotonic_ns() - r->t0_mono) / 1e9;
    /* Loss so far as of the newest downstream packet: packets in flight are not lost. */
    long long up_lost = (long long)r->up_highest_seen - r->up_received_seen;
    long long down_lost = (long long)r->down_sent_seen - (long long)s.received;
    fprintf(stderr, "\r%5.1fs  upstream: sent %" PRIu64 ", host got %u (lost %lld)  downstream: got %" PRIu64
                    " of %u (lost %lld)   ",
            t, r->n_sent, r->up_received_seen, up_lost > 0 ? up_lost : 0, s.received, r->down_sent_seen,
            down_lost > 0 ? down_lost : 0);
}

/* Runs the loop until on_stop breaks it or `limit_ns` passes. */
static void run_loop(struct run *r, uint64_t limit_ns)
{
    if (limit_ns)
        arm_in(r->stop_ev, limit_ns);
    event_base_dispatch(r->base);
}

static double jnum(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    double d = json_is_number(v) ? json_number_value(v) : 0.0;
    /* The daemon's numbers feed integer counters: keep them in range whatever
     * it (or whatever answers in its place) sent. */
    return isfinite(d) && d >= 0 ? (d < 1e15 ? d : 1e15) : 0.0;
}

static void fill_upstream(struct run *r, json_t *daemon)
{
    struct rp_dir_report *up = &r->report->up;
    json_t *u = json_object_get(daemon, "upstream");
    up->sent = r->n_sent;
    up->send_errors = r->send_errors;
    if (!json_is_object(u))
        return;
    up->measured = true;
    struct rp_rxsummary *s = &up->rx;
    json_t *ipdv = json_object_get(u, "ipdv_ms");
    s->received = (uint64_t)jnum(u, "received");
    s->expected = r->n_sent;
    s->lost = (int64_t)r->n_sent - (int64_t)s->received;
    s->loss_pct = r->n_sent ? 100.0 * (double)s->lost / (double)r->n_sent : 0;
    s->duplicates = (uint64_t)jnum(u, "duplicates");
    s->reordered = (uint64_t)jnum(u, "reordered");
    s->late = (uint64_t)jnum(u, "late");
    s->bursts = (uint64_t)jnum(u, "bursts");
    s->max_burst = (uint32_t)jnum(u, "max_burst");
    s->burst_ratio = jnum(u, "burst_ratio");
    s->jitter_ms = jnum(u, "jitter_ms");
    s->jitter_mean_ms = jnum(u, "jitter_mean_ms");
    s->ipdv_p50_ms = jnum(ipdv, "p50");
    s->ipdv_p95_ms = jnum(ipdv, "p95");
    s->ipdv_p99_ms = jnum(ipdv, "p99");
    s->ipdv_max_ms = jnum(ipdv, "max");
    s->wire_bytes = (uint64_t)jnum(u, "wire_bytes");
    up->host_drops = (uint64_t)jnum(u, "host_drops");
    up->reply_only = json_is_true(json_object_get(u, "reply_only"));
    up->foreign_source = (uint64_t)jnum(json_object_get(u, "dropped"), "foreign_source");
    up->auth_failures = (uint64_t)jnum(u, "auth_failures");

    json_t *latched = json_object_get(daemon, "latched");
    if (json_is_string(latched))
        snprintf(r->report->nat.latched, sizeof r->report->nat.latched, "%s", json_string_value(latched));
}

static void build_report(struct run *r, json_t *daemon_final)
{
    struct rp_report *rep = r->report;
    const struct rp_probe_opts *o = r->opts;
    fill_upstream(r, daemon_final);

    json_t *down_json = json_object_get(daemon_final, "downstream");
    uint64_t down_sent = json_is_object(down_json) ? (uint64_t)jnum(down_json, "sent") : r->down_sent_seen;
    rep->down.measured = true;
    rep->down.sent = down_sent;
    rp_rxstats_summary(r->down, down_sent, &rep->down.rx);
    rep->down.host_drops = r->down_host_drops;
    rep->down.auth_failures = r->down_auth_failures;
    rep->down.send_errors = json_is_object(down_json) ? (uint64_t)jnum(down_json, "send_errors") : 0;

    struct rp_score_in in = { .codec = r->codec, .ptime_ms = o->ptime_ms,
                              .jitter_buffer_ms = o->jitter_buffer_ms, .rtt_ns = r->rtt_ns, .nrtt = r->nrtt };
    rp_report_finish(rep, &in, &o->thresholds);
}

static const char *json_error_message(json_t *resp)
{
    json_t *e = json_is_object(resp) ? json_object_get(resp, "error") : NULL;
    return json_is_string(e) ? json_string_value(e) : "no detail";
}

static int open_session(struct run *r, json_t **created, char *err, size_t errlen)
{
    const struct rp_probe_opts *o = r->opts;
    json_t *req = json_pack("{s:s, s:i, s:i, s:i, s:i, s:s}", "codec", r->codec->name, "ptime_ms", (int)o->ptime_ms,
                            "duration_s", (int)o->duration_s, "bitrate_bps",
                            (int)(o->bitrate_bps ? o->bitrate_bps : r->codec->default_bitrate), "jitter_buffer_ms",
                            (int)o->jitter_buffer_ms, "transport", o->srtp ? "srtp" : "rtp");
    if (o->srtp)
        json_object_set_new(req, "srtp_suite", json_string(rp_srtp_suite_name(o->srtp_suite)));
    int status;
    json_t *resp;
    int rc = rp_httpc_request(r->http, "POST", "/v1/sessions", req, &status, &resp, err, errlen);
    json_decref(req);
    if (rc < 0)
        return -1;
    if (status == 403) {
        snprintf(err, errlen, "the daemon refused (HTTP 403): %s", json_error_message(resp));
    } else if (status == 401) {
        snprintf(err, errlen, "the daemon rejected the token (HTTP 401): check --token-file or RTPPROBE_TOKEN");
    } else if (status == 429 || status == 503) {
        snprintf(err, errlen, "the daemon is busy (HTTP %d): %s; try again later", status, json_error_message(resp));
    } else if (status != 201) {
        snprintf(err, errlen, "the daemon refused the session (HTTP %d): %s", status, json_error_message(resp));
    } else if (!json_is_string(json_object_get(resp, "id")) || jnum(resp, "media_port") < 1 ||
               jnum(resp, "media_port") > 65535) {
        snprintf(err, errlen, "the daemon's answer lacks a session id or media port");
    } else {
        *created = resp;
        return 0;
    }
    json_decref(resp);
    return -1;
}

/* The session's keys from the daemon's answer. */
static int take_keys(struct run *r, json_t *created, char *err, size_t errlen)
{
    if (!r->opts->srtp) {
        json_t *k = json_object_get(created, "auth_key");
        unsigned char raw[RP_MEXT_AUTH_KEY_LEN + 4];
        const char *b64 = json_string_value(k);
        if (!b64 || strlen(b64) != 44 || EVP_DecodeBlock(raw, (const unsigned char *)b64, 44) != 33) {
            snprintf(err, errlen, "the daemon's answer lacks a valid auth_key (is it an older rtpprobed?)");
            return -1;
        }
        memcpy(r->auth_key, raw, sizeof r->auth_key);
        OPENSSL_cleanse(raw, sizeof raw);
        return 0;
    }
    json_t *srtp = json_object_get(created, "srtp");
    const char *up = json_string_value(json_object_get(srtp, "key_up"));
    const char *down = json_string_value(json_object_get(srtp, "key_down"));
    uint8_t kup[RP_SRTP_MAX_KEY_LEN], kdown[RP_SRTP_MAX_KEY_LEN];
    enum rp_srtp_suite suite = r->opts->srtp_suite;
    size_t klen = rp_srtp_key_len(suite);
    if (!up || !down || rp_srtp_inline_decode(suite, up, kup, sizeof kup) < 0 ||
        rp_srtp_inline_decode(suite, down, kdown, sizeof kdown) < 0) {
        snprintf(err, errlen, "the daemon's answer lacks valid SRTP keys for %s", rp_srtp_suite_name(suite));
        return -1;
    }
    r->srtp_out = rp_srtp_new(suite, RP_SRTP_OUTBOUND, kup, klen, err, errlen);
    r->srtp_in = r->srtp_out ? rp_srtp_new(suite, RP_SRTP_INBOUND, kdown, klen, err, errlen) : NULL;
    OPENSSL_cleanse(kup, sizeof kup);
    OPENSSL_cleanse(kdown, sizeof kdown);
    return r->srtp_in ? 0 : -1;
}

static int control_call(struct run *r, const char *method, json_t *body, json_t **resp, char *err, size_t errlen)
{
    int status;
    if (rp_httpc_request(r->http, method, r->session_path, body, &status, resp, err, errlen) < 0)
        return -1;
    if (status != 200) {
        snprintf(err, errlen, "%s %s: HTTP %d: %s", method, r->session_path, status, json_error_message(*resp));
        json_decref(*resp);
        *resp = NULL;
        return -1;
    }
    return 0;
}

static int open_media(struct run *r, json_t *created, char *err, size_t errlen)
{
    struct sockaddr_storage any, local;
    socklen_t alen, llen = sizeof local;
    const struct sockaddr *srv = rp_httpc_server_addr(r->http);
    char ip[RP_ADDRSTRLEN];
    rp_addr_format_ip(srv, ip, sizeof ip);
    rp_addr_from_ip(ip, (uint16_t)jnum(created, "media_port"), &r->media_dest, &r->media_dest_len);
    rp_addr_from_ip(srv->sa_family == AF_INET6 ? "::" : "0.0.0.0", 0, &any, &alen);
    /* Not connected: STUN answers come from a second address too. */
    r->fd = rp_udp_open((struct sockaddr *)&any, alen, r->opts->dscp);
    if (r->fd < 0 || getsockname(r->fd, (struct sockaddr *)&local, &llen) < 0) {
        snprintf(err, errlen, "cannot open a media socket: %s", strerror(errno));
        return -1;
    }
    /* The source address the kernel picks towards the host, for the report. */
    int probe = socket(srv->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_storage via;
    socklen_t vlen = sizeof via;
    if (probe >= 0 && connect(probe, (struct sockaddr *)&r->media_dest, r->media_dest_len) == 0 &&
        getsockname(probe, (struct sockaddr *)&via, &vlen) == 0) {
        char vip[RP_ADDRSTRLEN];
        rp_addr_format_ip((struct sockaddr *)&via, vip, sizeof vip);
        rp_addr_from_ip(vip, rp_addr_port((struct sockaddr *)&local), &local, &llen);
    }
    if (probe >= 0)
        close(probe);
    rp_addr_format((struct sockaddr *)&local, r->report->nat.local, sizeof r->report->nat.local);
    r->overhead = rp_addr_udp_overhead((struct sockaddr *)&r->media_dest);
    r->report->media_port = rp_addr_port((struct sockaddr *)&r->media_dest);
    return 0;
}

struct stun_query {
    struct sockaddr_storage to;
    socklen_t tolen;
    uint8_t txid[RP_STUN_TXID_LEN];
    bool active, answered;
    struct sockaddr_storage mapped;
};

/* --stun HOST:PORT, "none", or the media host's 3478 (rtpprobed or coturn). */
static bool stun_server(const struct run *r, struct stun_query *q)
{
    const char *spec = r->opts->stun;
    if (spec && strcmp(spec, "none") == 0)
        return false;
    if (spec)
        return rp_addr_resolve(spec, DEFAULT_STUN_PORT, &q->to, &q->tolen) == 0;
    const struct sockaddr *srv = rp_httpc_server_addr(r->http);
    char ip[RP_ADDRSTRLEN];
    rp_addr_format_ip(srv, ip, sizeof ip);
    return rp_addr_from_ip(ip, DEFAULT_STUN_PORT, &q->to, &q->tolen) == 0;
}

/* Learns the NAT mapping as the session's media port and a STUN server see it.
 * Runs before the daemon is told where to send: the request to the media port
 * opens the agent's NAT pinhole first, and it is the first upstream packet the
 * host can see, so that upstream which only gets in as a reply shows. */
static void discover_nat(struct run *r)
{
    struct stun_query q[2] = { { .active = true }, { .active = false } };
    memcpy(&q[0].to, &r->media_dest, r->media_dest_len);
    q[0].tolen = r->media_dest_len;
    q[1].active = stun_server(r, &q[1]);
    for (int i = 0; i < 2; i++)
        RAND_bytes(q[i].txid, sizeof q[i].txid);

    for (int round = 0; round < STUN_ROUNDS; round++) {
        bool pending = false;
        for (int i = 0; i < 2; i++) {
            if (!q[i].active || q[i].answered)
                continue;
            /* Our own media port is asked every round; a third-party STUN
             * server only at the RFC 8489 §6.2.1 pace (RTO >= 500 ms). */
            if (i == 1 && round != 0 && round != STUN_SERVER_RETRY_ROUND) {
                pending = true;
                continue;
            }
            uint8_t req[128];
            size_t n = rp_stun_build_request(req, sizeof req, q[i].txid, STUN_REQUEST_LEN);
            if (n)
                (void)rp_udp_send(r->fd, req, n, (struct sockaddr *)&q[i].to, q[i].tolen);
            pending = true;
        }
        if (!pending)
            break;
        uint64_t until = rp_monotonic_ns() + STUN_INTERVAL_MS * NS_PER_MS;
        for (;;) {
            uint64_t now = rp_monotonic_ns();
            if (now >= until)
                break;
            struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
            if (poll(&pfd, 1, (int)((until - now) / NS_PER_MS) + 1) <= 0)
                continue;
            uint8_t buf[2048];
            struct rp_udp_meta meta;
            ssize_t n = rp_udp_recv(r->fd, buf, sizeof buf, &meta);
            struct rp_stun_msg msg;
            if (n <= 0 || rp_stun_parse(buf, (size_t)n, &msg) != RP_STUN_OK ||
                msg.type != RP_STUN_BINDING_SUCCESS || !msg.has_mapped)
                continue;
            for (int i = 0; i < 2; i++) {
                if (q[i].active && !q[i].answered && memcmp(msg.txid, q[i].txid, sizeof msg.txid) == 0 &&
                    rp_addr_equal((struct sockaddr *)&meta.from, (struct sockaddr *)&q[i].to)) {
                    q[i].answered = true;
                    q[i].mapped = msg.mapped;
                }
            }
        }
    }
    struct rp_report *rep = r->report;
    if (q[0].answered)
        rp_addr_format((struct sockaddr *)&q[0].mapped, rep->nat.mapped, sizeof rep->nat.mapped);
    if (q[1].answered)
        rp_addr_format((struct sockaddr *)&q[1].mapped, rep->nat.mapped_stun, sizeof rep->nat.mapped_stun);
    if (!q[0].answered) {
        /* No STUN answer from the media port, which may just mean STUN is
         * filtered: send real RTP there before announcing anything, so that our
         * NAT maps the media flow and the host hears us first if it can. These
         * packets are marked: they latch but are not measured. */
        for (int i = PRIME_PACKETS; i > 0; i--) {
            (void)send_rtp(r, (uint16_t)(r->up_seq0 - i), ts_of(r, -i), 0, RP_MEXT_F_PRIME, false);
            usleep(r->opts->ptime_ms * 1000);
        }
    }
    /* Announce the mapping the media port saw: behind a symmetric NAT the STUN
     * server's answer is a port the media flow does not use. Then the STUN
     * server's answer; without either, our address as the daemon sees the
     * control connection with our media port (right for port-preserving NATs),
     * which a blocked path then shows as unanswered downstream. */
    if (rep->nat.mapped[0] || rep->nat.mapped_stun[0]) {
        snprintf(rep->nat.announced, sizeof rep->nat.announced, "%s",
                 rep->nat.mapped[0] ? rep->nat.mapped : rep->nat.mapped_stun);
    } else {
        struct sockaddr_storage seen, local;
        socklen_t sl, ll;
        char ip[RP_ADDRSTRLEN];
        if (rp_addr_parse(rep->nat.control_seen, 0, &seen, &sl) == 0 &&
            rp_addr_parse(rep->nat.local, 0, &local, &ll) == 0) {
            rp_addr_format_ip((struct sockaddr *)&seen, ip, sizeof ip);
            rp_addr_from_ip(ip, rp_addr_port((struct sockaddr *)&local), &seen, &sl);
            rp_addr_format((struct sockaddr *)&seen, rep->nat.announced, sizeof rep->nat.announced);
        } else {
            snprintf(rep->nat.announced, sizeof rep->nat.announced, "%s", rep->nat.local);
        }
    }
}

static int setup_events(struct run *r)
{
    struct event_config *ec = event_config_new();
    if (!ec)
        return -1;
    event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
    r->base = event_base_new_with_config(ec);
    event_config_free(ec);
    if (!r->base)
        return -1;
    r->send_ev = evtimer_new(r->base, on_send, r);
    r->stop_ev = evtimer_new(r->base, on_stop, r);
    r->read_ev = event_new(r->base, r->fd, EV_READ | EV_PERSIST, on_readable, r);
    r->progress_ev = event_new(r->base, -1, EV_PERSIST, on_progress, r);
    return r->send_ev && r->stop_ev && r->read_ev && r->progress_ev && event_add(r->read_ev, NULL) == 0 ? 0 : -1;
}

static void teardown(struct run *r)
{
    if (r->send_ev)
        event_free(r->send_ev);
    if (r->stop_ev)
        event_free(r->stop_ev);
    if (r->read_ev)
        event_free(r->read_ev);
    if (r->progress_ev)
        event_free(r->progress_ev);
    if (r->base)
        event_base_free(r->base);
    if (r->fd >= 0)
        close(r->fd);
    rp_payloads_free(r->payloads);
    rp_rxstats_free(r->down);
    rp_srtp_free(r->srtp_out);
    rp_srtp_free(r->srtp_in);
    OPENSSL_cleanse(r->auth_key, sizeof r->auth_key);
    free(r->rtt_ns);
    rp_httpc_free(r->http);
}

int rp_probe_run(const struct rp_probe_opts *o, struct rp_report *rep, char *err, size_t errlen)
{
    struct run r = { .opts = o, .report = rep, .fd = -1 };
    json_t *created = NULL, *final = NULL, *resp = NULL;
    int rc = -1;
    memset(rep, 0, sizeof *rep);
    r.codec = rp_codec_get(o->codec);
    struct rp_httpc_opts ho = { .token = o->token, .cacert = o->cacert, .insecure = o->insecure,
                                .timeout_ms = o->timeout_ms };
    r.http = rp_httpc_new(o->server, &ho, err, errlen);
    if (!r.http)
        goto out;
    if (open_session(&r, &created, err, errlen) < 0)
        goto out;
    snprintf(r.session_path, sizeof r.session_path, "/v1/sessions/%s", json_string_value(json_object_get(created, "id")));
    snprintf(rep->session_id, sizeof rep->session_id, "%s", json_string_value(json_object_get(created, "id")));
    snprintf(rep->server, sizeof rep->server, "%s", o->server);
    snprintf(rep->codec, sizeof rep->codec, "%s", r.codec->name);
    snprintf(rep->transport, sizeof rep->transport, "%s", o->srtp ? "srtp" : "rtp");
    if (o->srtp)
        snprintf(rep->cipher, sizeof rep->cipher, "%s", rp_srtp_suite_name(o->srtp_suite));
    if (take_keys(&r, created, err, errlen) < 0)
        goto delete;
    json_t *client = json_object_get(created, "client");
    if (json_is_string(client))
        snprintf(rep->nat.control_seen, sizeof rep->nat.control_seen, "%s", json_string_value(client));
    if (jnum(created, "port_min") > 0 && jnum(created, "port_max") > 0)
        snprintf(rep->port_range, sizeof rep->port_range, "%u-%u", (unsigned)jnum(created, "port_min"),
                 (unsigned)jnum(created, "port_max"));
    rep->ptime_ms = o->ptime_ms;
    rep->bitrate = (unsigned)jnum(created, "bitrate_bps");
    rep->duration_s = o->duration_s;
    rep->jitter_buffer_ms = o->jitter_buffer_ms;
    r.ssrc_up = (uint32_t)jnum(created, "ssrc_up");
    r.ssrc_down = (uint32_t)jnum(created, "ssrc_down");

    r.n_total = (uint64_t)o->duration_s * 1000 / o->ptime_ms;
    r.period_ns = (uint64_t)o->ptime_ms * NS_PER_MS;
    r.rtt_cap = r.n_total;
    r.rtt_ns = calloc(r.rtt_cap ? r.rtt_cap : 1, sizeof *r.rtt_ns);
    r.down = rp_rxstats_new(r.codec->clock_rate, o->jitter_buffer_ms);
    r.payloads = rp_payloads_new(o->codec, o->ptime_ms, rep->bitrate, PAYLOAD_LOOP_MS / o->ptime_ms, random_u32(),
                                 err, errlen);
    if (!r.rtt_ns || !r.down || !r.payloads) {
        if (r.rtt_ns && r.down)
            snprintf(err, errlen, "out of memory");
        goto delete;
    }
    if (open_media(&r, created, err, errlen) < 0 || setup_events(&r) < 0) {
        if (r.base == NULL && !err[0])
            snprintf(err, errlen, "cannot set up the event loop");
        goto delete;
    }
    r.up_seq0 = (uint16_t)random_u32();
    r.up_ts0 = random_u32();
    discover_nat(&r);
    /* Tell the daemon where to send, so that downstream flows even if upstream never arrives. */
    json_t *patch = json_pack("{s:s}", "peer", rep->nat.announced);
    int status;
    int prc = rp_httpc_request(r.http, "PATCH", r.session_path, patch, &status, &resp, err, errlen);
    json_decref(patch);
    json_decref(resp);
    resp = NULL;
    if (prc < 0)
        goto delete;
    if (status == 403) {
        /* The daemon takes only our own (control) IP. If our media leaves from
         * another IP (an HTTPS proxy), the host drops it as foreign_source and
         * the report says so. */
        rep->nat.announced[0] = '\0';
    } else if (status != 200) {
        snprintf(err, errlen, "PATCH %s: HTTP %d", r.session_path, status);
        goto delete;
    }

    r.t0_mono = rp_monotonic_ns();
    if (o->progress) {
        struct timeval sec = { 1, 0 };
        event_add(r.progress_ev, &sec);
    }
    on_send(-1, 0, &r);
    run_loop(&r, 0);

    json_t *stop = json_pack("{s:b, s:I}", "stop", 1, "upstream_sent", (json_int_t)r.n_sent);
    prc = control_call(&r, "PATCH", stop, &final, err, errlen);
    json_decref(stop);
    if (prc < 0)
        goto delete;
    /* Downstream packets sent before the stop may still be in flight. */
    run_loop(&r, drain_ns(&r));
    if (o->progress) {
        on_progress(-1, 0, &r);
        fputc('\n', stderr);
    }
    build_report(&r, final);
    rc = 0;
delete:
    if (!o->keep_session && r.session_path[0]) {
        char derr[256];
        if (control_call(&r, "DELETE", NULL, &resp, derr, sizeof derr) == 0)
            json_decref(resp);
    }
out:
    json_decref(created);
    json_decref(final);
    teardown(&r);
    return rc;
}
