/* The probe's run: control calls before and after, media both ways in between
 * on one libevent loop with a precise upstream clock. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "contract.h"
#include "downrx.h"
#include "httpc.h"
#include "natdisc.h"
#include "netaddr.h"
#include "probe.h"
#include "pcprobe.h"
#include "stream.h"
#include "stun.h"
#include "timeutil.h"
#include "turn.h"
#include "udp.h"

/* Wait after the last upstream packet before asking for the daemon's counters,
 * and after stopping downstream before counting ours: in-flight packets land. */
#define DRAIN_MIN_NS (250 * NS_PER_MS)
#define DRAIN_MAX_NS (3000 * NS_PER_MS)
/* The DELETE gets at most this, and never past the run's deadline: it is
 * best effort (the daemon ends sessions itself). */
#define DELETE_MAX_NS (2000 * NS_PER_MS)
#define PAYLOAD_LOOP_MS 2000
/* The port sample takes about 1.5 s (108 packets at 200/s, a second for the
 * last answers, two requests), and each of up to two blocked runs checked
 * again as much, each with a second kept for its DELETE; it is not started
 * with less time than this left. */
#define SAMPLE_MIN_NS (7 * NS_PER_S)
/* Priming RTP packets sent when the media port gave no STUN answer. */
#define PRIME_PACKETS 5

struct run {
    const struct rp_probe_opts *opts;
    const struct rp_codec_info *codec;
    struct rp_httpc *http;
    enum { PHASE_SETUP, PHASE_MEDIA, PHASE_TEARDOWN } phase;  /* what the deadline may cut */
    uint64_t start, deadline;   /* -t: the run ends by deadline (CLOCK_MONOTONIC) */
    uint64_t work_end;          /* setup, media, stop and drains end by this; the rest is for the DELETE */
    bool     expired;           /* the media loop reached work_end */
    struct sockaddr_storage media_host;  /* where the control connection went (port 0) */
    char session_path[96];
    struct rp_report *report;
    struct rp_contract_created created;  /* the daemon's answer, keys included */

    int fd;
    struct rp_turn *turn;       /* --turn: media through the relay (fd is its socket) */
    struct sockaddr_storage media_dest;
    socklen_t media_dest_len;
    struct rp_stream *up;       /* seals upstream */
    struct rp_downrx *down;     /* opens and measures downstream */
    uint64_t n_total, n_sent, send_errors;
    uint64_t period_ns, t0_mono;
    struct rp_wallclock wall;   /* T1 and T4: steady for the whole run */

    struct event_base *base;
    struct event *send_ev, *read_ev, *progress_ev, *stop_ev, *deadline_ev;
};

static int random_u32(uint32_t *v)
{
    return RAND_bytes((unsigned char *)v, sizeof *v) == 1 ? 0 : -1;
}

static void arm_in(struct event *ev, uint64_t ns)
{
    struct timeval tv = rp_timeval_of_ns(ns);
    evtimer_add(ev, &tv);
}

static uint64_t drain_ns(const struct run *r)
{
    size_t n;
    int64_t rtt_max;
    (void)rp_downrx_rtts(r->down, &n, &rtt_max);
    uint64_t d = rtt_max > 0 ? 2 * (uint64_t)rtt_max : 0;
    return d < DRAIN_MIN_NS ? DRAIN_MIN_NS : d > DRAIN_MAX_NS ? DRAIN_MAX_NS : d;
}

/* The one place media leaves: straight to the media port, or as ChannelData
 * through the TURN relay. */
static int media_send(struct run *r, const uint8_t *pkt, size_t n)
{
    if (r->turn)
        return rp_turn_send(r->turn, pkt, n);
    return rp_udp_send(r->fd, pkt, n, (struct sockaddr *)&r->media_dest, r->media_dest_len) < 0 ? -1 : 0;
}

/* The one place media arrives: a datagram, or a packet the relay passed on
 * (meta.from is then the media host, as the relay's permission says). */
static ssize_t media_recv(struct run *r, uint8_t *buf, size_t cap, struct rp_udp_meta *meta)
{
    if (r->turn)
        return rp_turn_recv(r->turn, buf, cap, meta);
    return rp_udp_recv(r->fd, buf, cap, meta);
}

/* Upstream packet `index` (negative: priming before the stream). 0, or -1 if
 * it could not be built or sent (a refused send, e.g. ICMP unreachable, is
 * counted by the caller: the daemon's receive count tells what arrived). */
static int send_rtp(struct run *r, int64_t index, uint8_t flags)
{
    struct rp_stream_elem e = {
        .up = { .flags = flags, .seq = index < 0 ? 0 : (uint32_t)index,
                .t1_ns = rp_wallclock_ns(&r->wall, rp_monotonic_ns()) },
    };
    uint8_t pkt[RP_STREAM_MAX_PKT];
    size_t n = rp_stream_seal(r->up, index, &e, pkt, sizeof pkt);
    if (n == 0 || media_send(r, pkt, n) < 0)
        return -1;
    return 0;
}

static void on_send(evutil_socket_t fd, short what, void *arg)
{
    struct run *r = arg;
    (void)fd;
    (void)what;
    uint64_t now = rp_monotonic_ns();
    while (r->n_sent < r->n_total && r->t0_mono + r->n_sent * r->period_ns <= now) {
        if (send_rtp(r, (int64_t)r->n_sent, 0) < 0)
            r->send_errors++;
        r->n_sent++;
    }
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

/* The run's work time is up: the media stop where they are. */
static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct run *r = arg;
    (void)fd;
    (void)what;
    r->expired = true;
    event_base_loopbreak(r->base);
}

/* The end of the next control step: the setup and the stop share what -t
 * leaves beyond the media, each at most half of it or RP_PROBE_STEP_MAX_S if
 * that is more (a hung server fails well before a long -t is over), never
 * past the work's end. */
static uint64_t step_deadline(const struct run *r)
{
    const struct rp_probe_opts *o = r->opts;
    uint64_t media = (uint64_t)o->duration_s * NS_PER_S, all = r->deadline - r->start;
    uint64_t spare = all > media ? all - media : 0;
    uint64_t step = (uint64_t)RP_PROBE_STEP_MAX_S * NS_PER_S;
    uint64_t cap = rp_monotonic_ns() + (spare / 2 > step ? spare / 2 : step);
    return cap < r->work_end ? cap : r->work_end;
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct run *r = arg;
    uint8_t buf[2048];
    (void)what;
    (void)fd;
    for (;;) {
        struct rp_udp_meta meta;
        ssize_t n = media_recv(r, buf, sizeof buf, &meta);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            if (r->turn && rp_turn_transport_of(r->turn) != RP_TURN_UDP) {
                /* The relay's TCP/TLS connection is gone: nothing more will come. */
                event_del(r->read_ev);
                return;
            }
            continue; /* ICMP errors, oversized datagrams */
        }
        /* A STUN answer that came after discovery ended: not media, not malformed. */
        if (rp_stun_first_byte_is_stun(buf, (size_t)n))
            continue;
        rp_downrx_on_datagram(r->down, buf, (size_t)n, &meta);
    }
}

/* rp_httpc's watch: the stop request waits while downstream still comes.
 * False once reading has stopped (the relay's connection is gone). */
static bool read_media(void *arg)
{
    struct run *r = arg;
    on_readable(-1, EV_READ, r);
    return event_pending(r->read_ev, EV_READ, NULL) != 0;
}

static void on_progress(evutil_socket_t fd, short what, void *arg)
{
    struct run *r = arg;
    (void)fd;
    (void)what;
    struct rp_downrx_progress p;
    rp_downrx_progress(r->down, &p);
    double t = (double)(rp_monotonic_ns() - r->t0_mono) / (double)NS_PER_S;
    /* Loss so far as of the newest downstream packet: packets in flight are not lost. */
    long long up_lost = (long long)p.up_highest_seen - p.up_received_seen;
    long long down_lost = (long long)p.down_sent_seen - (long long)p.received;
    fprintf(stderr, "\r%5.1fs  upstream: sent %" PRIu64 ", host got %u (lost %lld)  downstream: got %" PRIu64
                    " of %u (lost %lld)   ",
            t, r->n_sent, p.up_received_seen, up_lost > 0 ? up_lost : 0, p.received, p.down_sent_seen,
            down_lost > 0 ? down_lost : 0);
}

/* Runs the loop until on_stop breaks it or `limit_ns` passes. */
static void run_loop(struct run *r, uint64_t limit_ns)
{
    if (limit_ns)
        arm_in(r->stop_ev, limit_ns);
    event_base_dispatch(r->base);
}

/* The daemon's side from its final session document: upstream as it measured
 * it, and how much downstream it sent. A document that breaks the contract
 * leaves upstream unmeasured and says why, rather than reading zeros. */
static void fill_upstream(struct run *r, const json_t *daemon, struct rp_contract_down *down)
{
    struct rp_dir_report *up = &r->report->up;
    up->sent = r->n_sent;
    up->send_errors = r->send_errors;
    struct rp_contract_session doc;
    struct rp_downrx_progress seen;
    rp_downrx_progress(r->down, &seen);
    struct rp_contract_truth truth = {
        .id = r->created.id, .up_sent = r->n_sent, .down_received = seen.received,
        .down_sent_seen = seen.down_sent_seen,
        .down_budget = rp_contract_down_budget(r->created.duration_s, r->created.ptime_ms),
    };
    char *why = r->report->host_figures_error;
    size_t whylen = sizeof r->report->host_figures_error;
    /* A rejected document is not used at all, downstream.sent included. */
    if (rp_contract_session_decode(daemon, &doc, why, whylen) < 0) {
        rp_contract_session_release(&doc);
        rp_httpc_clean_text(why, strlen(why)); /* may quote the daemon */
        fprintf(stderr, "rtpprobe: the daemon's final figures break the contract (%s): upstream is not measured "
                        "and there is no verdict (is it another rtpprobed version?)\n", why);
        return;
    }
    if (rp_contract_session_consistent(&doc, &truth, why, whylen) < 0) {
        rp_contract_session_release(&doc);
        rp_httpc_clean_text(why, strlen(why));
        fprintf(stderr, "rtpprobe: the daemon's final figures contradict themselves (%s): upstream is not "
                        "measured and there is no verdict\n", why);
        return;
    }
    /* The seconds move into the report (absent from an older daemon: none). */
    up->per_second = doc.up.per_second;
    up->nseconds = doc.up.nseconds;
    doc.up.per_second = NULL;
    rp_contract_session_release(&doc);
    *down = doc.down;
    up->measured = true;
    up->rx = doc.up.rx;
    up->rx.expected = r->n_sent;
    up->rx.lost = (int64_t)r->n_sent - (int64_t)up->rx.received;
    up->rx.loss_pct = r->n_sent ? 100.0 * (double)up->rx.lost / (double)r->n_sent : 0;
    up->host_drops = doc.up.host_drops;
    up->reply_only = doc.up.reply_only;
    up->foreign_source = doc.up.dropped[RP_DROP_FOREIGN_SOURCE];
    up->auth_failures = doc.up.auth_failures;
    snprintf(r->report->nat.latched, sizeof r->report->nat.latched, "%s", doc.latched);
}

static void build_report(struct run *r, const json_t *daemon_final)
{
    struct rp_report *rep = r->report;
    const struct rp_probe_opts *o = r->opts;
    struct rp_downrx_progress seen;
    rp_downrx_progress(r->down, &seen);
    /* Without the daemon's figures, its in-band count of slots (sent + skipped). */
    struct rp_contract_down down = { .sent = seen.down_sent_seen };
    fill_upstream(r, daemon_final, &down);
    rep->down.measured = true;
    rep->down.sent = down.sent;
    /* Expected: every slot of the daemon's media clock, the ones it skipped
     * under overload included, so that those count as lost. */
    rep->down.host_skipped = down.skipped;
    rp_downrx_summary(r->down, down.sent + down.skipped, &rep->down.rx);
    rep->down.host_drops = seen.host_drops;
    rep->down.auth_failures = seen.drops[RP_DROP_AUTH];
    rep->down.send_errors = down.send_errors;
    /* Per-second figures; without memory for them the report goes without. */
    if (rp_downrx_seconds(r->down, down.sent + down.skipped, &rep->down.per_second, &rep->down.nseconds) < 0 ||
        rp_downrx_rtt_seconds(r->down, r->n_sent, &rep->rtt_per_second, &rep->nrtt_seconds) < 0)
        fprintf(stderr, "rtpprobe: out of memory for the per-second figures\n");

    size_t nrtt;
    int64_t rtt_max;
    struct rp_score_in in = { .codec = r->codec, .ptime_ms = o->ptime_ms, .jitter_buffer_ms = o->jitter_buffer_ms,
                              .adaptive = o->jitter_buffer_adaptive };
    in.rtt_ns = rp_downrx_rtts(r->down, &nrtt, &rtt_max);
    in.nrtt = nrtt;
    rp_report_finish(rep, &in, &o->thresholds);
}

static const char *json_error_message(json_t *resp)
{
    json_t *e = json_is_object(resp) ? json_object_get(resp, "error") : NULL;
    return json_is_string(e) ? json_string_value(e) : "no detail";
}

/* The daemon's errors are JSON {"error": ..., "status": ...}; anything else
 * answering is not rtpprobed (a web server, a proxy in front of the wrong path). */
static bool daemon_error_body(const json_t *resp)
{
    return json_is_object(resp) && json_is_string(json_object_get(resp, "error")) &&
           json_is_integer(json_object_get(resp, "status"));
}

/* Why the daemon refused the session, in the user's words. */
static void refused(const struct run *r, const char *path, int status, json_t *resp, char *err, size_t errlen)
{
    if (status == 404 && !daemon_error_body(resp))
        snprintf(err, errlen, "HTTP 404 from %s%s: no rtpprobed there; is the URL path right (behind nginx: "
                 "https://HOST/rtpprobe)?", rp_httpc_base(r->http), path);
    else if (status == 403)
        snprintf(err, errlen, "the daemon refused (HTTP 403): %s", json_error_message(resp));
    else if (status == 401)
        snprintf(err, errlen, "the daemon rejected the token (HTTP 401): check --token-file or RTPPROBE_TOKEN");
    else if (status == 429 || status == 503)
        snprintf(err, errlen, "the daemon is busy (HTTP %d): %s; try again later", status, json_error_message(resp));
    else
        snprintf(err, errlen, "the daemon refused the session (HTTP %d): %s", status, json_error_message(resp));
}

/* The daemon's answer must be the session we asked for. */
static int check_created(const struct run *r, const struct rp_contract_created *c, char *err, size_t errlen)
{
    const struct rp_probe_opts *o = r->opts;
    if (c->keys.srtp != o->srtp || (o->srtp && c->keys.suite != o->srtp_suite)) {
        snprintf(err, errlen, "the daemon's answer lacks valid %s keys%s%s", o->srtp ? "SRTP" : "RTP",
                 o->srtp ? " for " : "", o->srtp ? rp_srtp_suite_name(o->srtp_suite) : "");
        return -1;
    }
    /* Defensive only: the contract's decoder takes 6000 and up (an Opus rate),
     * and the stream cannot be built for 0. */
    if (c->bitrate_bps == 0) {
        snprintf(err, errlen, "the daemon's answer breaks the contract (bitrate_bps 0)");
        return -1;
    }
    if (c->ptime_ms != o->ptime_ms) {
        snprintf(err, errlen, "the daemon's answer does not match the session asked for (ptime %u ms, bitrate %u)",
                 c->ptime_ms, c->bitrate_bps);
        return -1;
    }
    return 0;
}

/* POST /v1/sessions; with series, the daemon keeps upstream's per-second figures. */
static int post_session(struct run *r, bool series, int *status, json_t **resp, char *err, size_t errlen)
{
    const struct rp_probe_opts *o = r->opts;
    json_t *req = json_pack("{s:s, s:i, s:i, s:i, s:i, s:s}", "codec", r->codec->name, "ptime_ms", (int)o->ptime_ms,
                            "duration_s", (int)o->duration_s, "bitrate_bps",
                            (int)(o->bitrate_bps ? o->bitrate_bps : r->codec->default_bitrate), "jitter_buffer_ms",
                            (int)o->jitter_buffer_ms, "transport", o->srtp ? "srtp" : "rtp");
    if (o->srtp)
        json_object_set_new(req, "srtp_suite", json_string(rp_srtp_suite_name(o->srtp_suite)));
    if (series)
        json_object_set_new(req, "series", json_true());
    int rc = rp_httpc_request(r->http, "POST", "/v1/sessions", req, status, resp, err, errlen);
    json_decref(req);
    return rc;
}

static int open_session(struct run *r, char *err, size_t errlen)
{
    int status;
    json_t *resp;
    if (post_session(r, true, &status, &resp, err, errlen) < 0)
        return -1;
    /* A daemon older than "series" refuses the unknown field (400, no session
     * made): ask again without it; upstream then has no per-second figures. */
    if (status == 400 && strstr(json_error_message(resp), "\"series\"")) {
        json_decref(resp);
        if (post_session(r, false, &status, &resp, err, errlen) < 0)
            return -1;
    }
    char why[160];
    int rc = -1;
    if (status != 201) {
        refused(r, "/v1/sessions", status, resp, err, errlen);
    } else if (rp_contract_created_decode(resp, &r->created, why, sizeof why) < 0) {
        snprintf(err, errlen, "the daemon's answer breaks the contract (%s): is it another rtpprobed version?", why);
        /* A session may exist all the same: delete it (within the setup
         * deadline) if its id is one that can go into a path. */
        const char *id = json_string_value(json_object_get(resp, "id"));
        if (rp_contract_id_valid(id))
            snprintf(r->session_path, sizeof r->session_path, "/v1/sessions/%s", id);
    } else {
        /* From here on the session exists: it is deleted at the end whatever happens. */
        snprintf(r->session_path, sizeof r->session_path, "/v1/sessions/%s", r->created.id);
        rc = check_created(r, &r->created, err, errlen);
        /* The media go where the control connection went. */
        if (rc == 0)
            rc = rp_httpc_media_host(r->http, &r->media_host, err, errlen);
    }
    json_decref(resp);
    return rc;
}

/* Upstream sealed with the daemon's key for it, downstream opened with the other. */
static int make_streams(struct run *r, const struct sockaddr *media_port, char *err, size_t errlen)
{
    const struct rp_probe_opts *o = r->opts;
    const struct rp_contract_keys *k = &r->created.keys;
    uint32_t seq0, ts0, seed;
    if (random_u32(&seq0) < 0 || random_u32(&ts0) < 0 || random_u32(&seed) < 0) {
        snprintf(err, errlen, "no randomness (RAND_bytes failed)");
        return -1;
    }
    struct rp_stream_cfg up = {
        .role = RP_STREAM_SEAL, .codec = o->codec, .ptime_ms = o->ptime_ms, .ssrc = r->created.ssrc_up,
        .elem_id = RP_MEXT_ID_UP, .seq0 = (uint16_t)seq0, .ts0 = ts0, .bitrate_bps = r->created.bitrate_bps,
        .loop_frames = PAYLOAD_LOOP_MS / o->ptime_ms, .payload_seed = seed,
        .srtp = k->srtp, .suite = k->suite, .key = k->srtp ? k->key_up : k->auth_key,
    };
    struct rp_stream_cfg down = {
        .role = RP_STREAM_OPEN, .codec = o->codec, .ptime_ms = o->ptime_ms, .ssrc = r->created.ssrc_down,
        .elem_id = RP_MEXT_ID_DOWN,
        .srtp = k->srtp, .suite = k->suite, .key = k->srtp ? k->key_down : k->auth_key,
    };
    r->up = rp_stream_new(&up, err, errlen);
    struct rp_stream *opener = r->up ? rp_stream_new(&down, err, errlen) : NULL;
    if (!opener)
        return -1;
    r->down = rp_downrx_new(opener, media_port, r->codec->clock_rate, o->jitter_buffer_ms, r->n_total, r->wall);
    /* Per-second figures of downstream and the RTT. Downstream may run up to
     * its budget, the duration and 5 s (rp_contract_down_budget): that many
     * seconds, so that every slot it may use has its second. */
    unsigned seconds = (unsigned)((rp_contract_down_budget(o->duration_s, o->ptime_ms) * o->ptime_ms + 999) / 1000);
    if (!r->down || rp_downrx_series_enable(r->down, o->ptime_ms, seconds) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static int control_call(struct run *r, const char *method, json_t *body, json_t **resp, char *err, size_t errlen)
{
    int status;
    if (rp_httpc_request(r->http, method, r->session_path, body, &status, resp, err, errlen) < 0)
        return -1;
    if (status == 404 && !daemon_error_body(*resp)) {
        refused(r, r->session_path, status, *resp, err, errlen);
        json_decref(*resp);
        *resp = NULL;
        return -1;
    }
    if (status != 200) {
        snprintf(err, errlen, "%s %s: HTTP %d: %s", method, r->session_path, status, json_error_message(*resp));
        json_decref(*resp);
        *resp = NULL;
        return -1;
    }
    return 0;
}

/* Our media socket's address for the report: the source address the kernel
 * picks towards the host, with the socket's port. */
static int local_address(struct run *r, const struct sockaddr *srv)
{
    struct sockaddr_storage local, via;
    socklen_t llen = sizeof local, vlen = sizeof via;
    if (getsockname(r->fd, (struct sockaddr *)&local, &llen) < 0)
        return -1;
    int probe = socket(srv->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (probe >= 0 && connect(probe, (struct sockaddr *)&r->media_dest, r->media_dest_len) == 0 &&
        getsockname(probe, (struct sockaddr *)&via, &vlen) == 0 &&
        rp_addr_set_port((struct sockaddr *)&via, rp_addr_port((struct sockaddr *)&local)) == 0)
        memcpy(&local, &via, vlen);
    if (probe >= 0)
        close(probe);
    rp_addr_format((struct sockaddr *)&local, r->report->nat.local, sizeof r->report->nat.local);
    return 0;
}

/* --turn: a relay allocated for us, permitted and channel-bound to the
 * session's media port; its socket becomes the media socket. */
static int open_relay(struct run *r, char *err, size_t errlen)
{
    const struct rp_probe_opts *o = r->opts;
    struct rp_report *rep = r->report;
    struct rp_turn_cfg cfg = { .uri = o->turn, .user = o->turn_user, .pass = o->turn_pass,
                               .secret = o->turn_secret, .cacert = o->cacert, .insecure = o->insecure,
                               .dscp = o->dscp };
    enum rp_turn_fail why;
    uint64_t until = step_deadline(r);
    r->turn = rp_turn_open(&cfg, until, &why, err, errlen);
    if (!r->turn || rp_turn_bind_peer(r->turn, (struct sockaddr *)&r->media_dest, until, err, errlen) < 0)
        return -1;
    r->fd = rp_turn_fd(r->turn);
    snprintf(rep->path, sizeof rep->path, "%s", rp_turn_path_name(rp_turn_transport_of(r->turn)));
    rp_addr_format(rp_turn_server(r->turn), rep->relay.server, sizeof rep->relay.server);
    rp_addr_format(rp_turn_relayed(r->turn), rep->relay.relayed, sizeof rep->relay.relayed);
    struct sockaddr_storage local;
    socklen_t llen = sizeof local;
    if (getsockname(r->fd, (struct sockaddr *)&local, &llen) == 0)
        rp_addr_format((struct sockaddr *)&local, rep->nat.local, sizeof rep->nat.local);
    rep->media_port = r->created.media_port;
    return 0;
}

static int open_media(struct run *r, char *err, size_t errlen)
{
    const struct sockaddr *srv = (const struct sockaddr *)&r->media_host;
    struct sockaddr_storage any;
    socklen_t alen;
    memcpy(&r->media_dest, srv, rp_addr_len(srv));
    r->media_dest_len = rp_addr_len(srv);
    rp_addr_set_port((struct sockaddr *)&r->media_dest, (uint16_t)r->created.media_port);
    if (r->opts->turn)
        return open_relay(r, err, errlen);
    snprintf(r->report->path, sizeof r->report->path, "direct");
    if (rp_addr_from_ip(srv->sa_family == AF_INET6 ? "::" : "0.0.0.0", 0, &any, &alen) < 0) {
        snprintf(err, errlen, "cannot open a media socket: unknown address family");
        return -1;
    }
    /* Not connected: STUN answers come from a second address too. */
    r->fd = rp_udp_open((struct sockaddr *)&any, alen, r->opts->dscp);
    if (r->fd < 0 || local_address(r, srv) < 0) {
        snprintf(err, errlen, "cannot open a media socket: %s", strerror(errno));
        return -1;
    }
    r->report->media_port = r->created.media_port;
    return 0;
}

/* --stun HOST:PORT, "none", or the media host's 3478 (rtpprobed or coturn). */
static bool stun_server(const struct run *r, struct sockaddr_storage *to)
{
    const char *spec = r->opts->stun;
    socklen_t len;
    if (spec && strcmp(spec, "none") == 0)
        return false;
    if (spec)
        return rp_addr_resolve(spec, RP_STUN_PORT, to, &len) == 0;
    const struct sockaddr *srv = (const struct sockaddr *)&r->media_host;
    memcpy(to, srv, rp_addr_len(srv));
    return rp_addr_set_port((struct sockaddr *)to, RP_STUN_PORT) == 0;
}

/* Learns the NAT mapping as the session's media port and a STUN server see it.
 * Runs before the daemon is told where to send: the request to the media port
 * opens the agent's NAT pinhole first, and it is the first upstream packet the
 * host can see, so that upstream which only gets in as a reply shows. */
static int discover_nat(struct run *r, char *err, size_t errlen)
{
    struct rp_report *rep = r->report;
    struct sockaddr_storage server;
    struct rp_natdisc nat;
    if (r->turn) {
        /* Through a relay the media host sees the relayed address, nothing
         * else: announce it, and prime through the channel. */
        for (int i = PRIME_PACKETS; i > 0; i--) {
            (void)send_rtp(r, -i, RP_MEXT_F_PRIME);
            usleep(r->opts->ptime_ms * 1000);
        }
        snprintf(rep->nat.announced, sizeof rep->nat.announced, "%s", rep->relay.relayed);
        return 0;
    }
    bool ask_server = stun_server(r, &server);
    if (rp_natdisc_run(r->fd, (struct sockaddr *)&r->media_dest, ask_server ? (struct sockaddr *)&server : NULL,
                       &nat) < 0) {
        snprintf(err, errlen, "no randomness for STUN transaction ids (RAND_bytes failed)");
        return -1;
    }
    if (nat.media_answered)
        rp_addr_format((struct sockaddr *)&nat.media_mapped, rep->nat.mapped, sizeof rep->nat.mapped);
    if (nat.server_answered)
        rp_addr_format((struct sockaddr *)&nat.server_mapped, rep->nat.mapped_stun, sizeof rep->nat.mapped_stun);
    if (!nat.media_answered) {
        /* No STUN answer from the media port, which may just mean STUN is
         * filtered: send real RTP there before announcing anything, so that our
         * NAT maps the media flow and the host hears us first if it can. These
         * packets are marked: they latch but are not measured. */
        for (int i = PRIME_PACKETS; i > 0; i--) {
            (void)send_rtp(r, -i, RP_MEXT_F_PRIME);
            usleep(r->opts->ptime_ms * 1000);
        }
    }
    rp_natdisc_announce(rep->nat.mapped, rep->nat.mapped_stun, rep->nat.control_seen, rep->nat.local,
                        rep->nat.announced, sizeof rep->nat.announced);
    return 0;
}

/* Tells the daemon where to send, so that downstream flows even if upstream never arrives. */
static int announce(struct run *r, char *err, size_t errlen)
{
    struct rp_report *rep = r->report;
    json_t *patch = json_pack("{s:s}", "peer", rep->nat.announced), *resp = NULL;
    int status;
    int rc = rp_httpc_request(r->http, "PATCH", r->session_path, patch, &status, &resp, err, errlen);
    json_decref(patch);
    if (rc == 0 && status == 404 && !daemon_error_body(resp)) {
        refused(r, r->session_path, status, resp, err, errlen); /* the URL path hint */
        rc = -1;
    }
    json_decref(resp);
    if (rc < 0)
        return -1;
    if (status == 403 && r->turn) {
        snprintf(err, errlen, "the daemon refuses the TURN relay's address %s as the media peer (HTTP 403): "
                 "set media.allow_foreign_peer = true on rtpprobed to test through a relay", rep->nat.announced);
        return -1;
    }
    if (status == 403) {
        /* The daemon takes only our own (control) IP. If our media leaves from
         * another IP (an HTTPS proxy), the host drops it as foreign_source and
         * the report says so. */
        rep->nat.announced[0] = '\0';
    } else if (status != 200) {
        snprintf(err, errlen, "PATCH %s: HTTP %d", r->session_path, status);
        return -1;
    }
    return 0;
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
    r->deadline_ev = evtimer_new(r->base, on_deadline, r);
    return r->send_ev && r->stop_ev && r->read_ev && r->progress_ev && r->deadline_ev &&
                   event_add(r->read_ev, NULL) == 0 ? 0 : -1;
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
    if (r->deadline_ev)
        event_free(r->deadline_ev);
    if (r->base)
        event_base_free(r->base);
    if (r->turn) {
        /* Releases the relay now, within what is left of the run (at most 1 s). */
        uint64_t until = rp_monotonic_ns() + NS_PER_S;
        rp_turn_close(r->turn, until < r->deadline ? until : r->deadline);
        r->fd = -1; /* was the relay's */
    }
    if (r->fd >= 0)
        close(r->fd);
    rp_stream_free(r->up);
    rp_downrx_free(r->down);
    OPENSSL_cleanse(&r->created.keys, sizeof r->created.keys);
    rp_httpc_free(r->http);
}

/* What the report says before any media: the session as agreed. */
static void describe_session(struct run *r)
{
    const struct rp_probe_opts *o = r->opts;
    struct rp_report *rep = r->report;
    const struct rp_contract_created *c = &r->created;
    snprintf(rep->session_id, sizeof rep->session_id, "%s", c->id);
    /* No user:password@ can be here: rp_httpc_new refused such a --server. */
    snprintf(rep->server, sizeof rep->server, "%s", o->server);
    snprintf(rep->codec, sizeof rep->codec, "%s", r->codec->name);
    snprintf(rep->transport, sizeof rep->transport, "%s", o->srtp ? "srtp" : "rtp");
    if (o->srtp)
        snprintf(rep->cipher, sizeof rep->cipher, "%s", rp_srtp_suite_name(o->srtp_suite));
    snprintf(rep->nat.control_seen, sizeof rep->nat.control_seen, "%s", c->client);
    if (c->port_min > 0 && c->port_max > 0)
        snprintf(rep->port_range, sizeof rep->port_range, "%u-%u", (unsigned)(uint16_t)c->port_min,
                 (unsigned)(uint16_t)c->port_max);
    rep->ptime_ms = o->ptime_ms;
    rep->bitrate = c->bitrate_bps;
    rep->duration_s = o->duration_s;
    rep->jitter_buffer_ms = o->jitter_buffer_ms;
}

/* The PATCH stop: a control step of its own. */
static void start_teardown(struct run *r)
{
    r->phase = PHASE_TEARDOWN;
    rp_httpc_set_deadline(r->http, step_deadline(r));
}

/* Media loops stop at the work's end; true (with a message) if it came. */
static bool media_expired(const struct run *r, char *err, size_t errlen)
{
    if (r->expired)
        snprintf(err, errlen, "%" PRIu64 " of %" PRIu64 " packets sent", r->n_sent, r->n_total);
    return r->expired;
}

/* Media both ways for the duration, then stop the session and let the tail land. */
static int stream_media(struct run *r, json_t **final, char *err, size_t errlen)
{
    r->t0_mono = rp_monotonic_ns();
    arm_in(r->deadline_ev, r->work_end > r->t0_mono ? r->work_end - r->t0_mono : 0);
    if (r->opts->progress) {
        struct timeval sec = { 1, 0 };
        event_add(r->progress_ev, &sec);
    }
    on_send(-1, 0, r);
    run_loop(r, 0);
    if (media_expired(r, err, errlen))
        return -1;

    start_teardown(r);
    json_t *stop = json_pack("{s:b, s:I}", "stop", 1, "upstream_sent", (json_int_t)r->n_sent);
    /* Downstream runs until the daemon has the stop: read it meanwhile, or a
     * slow stop (a congested uplink) overflows the socket and reads as loss. */
    rp_httpc_watch(r->http, r->fd, read_media, r);
    int rc = control_call(r, "PATCH", stop, final, err, errlen);
    rp_httpc_watch(r->http, -1, NULL, NULL);
    json_decref(stop);
    if (rc < 0)
        return -1;
    /* Downstream packets sent before the stop may still be in flight. */
    run_loop(r, drain_ns(r));
    if (media_expired(r, err, errlen))
        return -1;
    if (r->opts->progress) {
        on_progress(-1, 0, r);
        fputc('\n', stderr);
    }
    return 0;
}

/* Why the quick port sample is not run, decided before any words. */
enum sample_skip {
    SAMPLE_RUN = 0, SAMPLE_OFF, SAMPLE_RELAY, SAMPLE_IPV6, SAMPLE_OWN_PORT, SAMPLE_OTHER_ADDRESS, SAMPLE_NO_TIME
};

static const char *const sample_skip_words[] = {
    [SAMPLE_OFF] = "--no-port-sample",
    [SAMPLE_RELAY] = "the media went through a TURN relay (--port-check tells the range from a network with direct "
                     "UDP)",
    [SAMPLE_IPV6] = "the media host's address is IPv6; the port check is IPv4 only",
    [SAMPLE_OWN_PORT] = "the test's own port did not work both ways (the diagnosis says why)",
    [SAMPLE_OTHER_ADDRESS] = "the media left from another address than the control connection (a proxy, or a "
                             "second public address): the host would look for the sample's packets from the wrong one",
    [SAMPLE_NO_TIME] = "too little time left within --timeout",
};

/* The daemon takes the check's packets only from the control connection's
 * address: the media must have come from there too, or every port reads
 * as blocked. */
static bool media_from_control_address(const struct rp_report *rep)
{
    return rp_addr_text_same_ip(rep->nat.control_seen, rep->nat.latched);
}

static enum sample_skip sample_skip_of(const struct run *r)
{
    const struct rp_report *rep = r->report;
    bool up = rep->up.measured && rep->up.rx.received > 0 && !rep->up.reply_only;
    bool down = rep->down.measured && rep->down.rx.received > 0;
    if (r->opts->no_port_sample)
        return SAMPLE_OFF;
    if (r->turn)
        return SAMPLE_RELAY;
    if (r->media_dest.ss_family != AF_INET)
        return SAMPLE_IPV6;
    if (!up || !down || rep->host_figures_error[0])
        return SAMPLE_OWN_PORT;
    if (!media_from_control_address(rep))
        return SAMPLE_OTHER_ADDRESS;
    if (rp_monotonic_ns() + SAMPLE_MIN_NS > r->work_end)
        return SAMPLE_NO_TIME;
    return SAMPLE_RUN;
}

/* A call gets a random port of the range: when the test's own port worked,
 * a quick sample of the others (rp_pcp_sample), then the verdict again. */
static void sample_ports(struct run *r)
{
    struct rp_port_sample *ps = &r->report->port_sample;
    enum sample_skip skip = sample_skip_of(r);
    if (skip != SAMPLE_RUN) {
        *ps = (struct rp_port_sample){ .state = RP_PORT_SAMPLE_NOT_RUN };
        snprintf(ps->why, sizeof ps->why, "%s", sample_skip_words[skip]);
        return;
    }
    char err[sizeof ps->why];
    rp_httpc_set_deadline(r->http, step_deadline(r));
    if (rp_pcp_sample(r->http, ps, err, sizeof err) < 0) {
        *ps = (struct rp_port_sample){ .state = RP_PORT_SAMPLE_FAILED };
        rp_httpc_clean_text(err, strlen(err));
        snprintf(ps->why, sizeof ps->why, "%s", err);
    }
    rp_report_evaluate(r->report, &r->opts->thresholds);
}

/* From the created session to the final report; the session exists on the daemon. */
static int measure(struct run *r, char *err, size_t errlen)
{
    const struct rp_probe_opts *o = r->opts;
    json_t *final = NULL;
    describe_session(r);
    r->n_total = (uint64_t)o->duration_s * 1000 / o->ptime_ms;
    r->period_ns = (uint64_t)o->ptime_ms * NS_PER_MS;
    r->wall = rp_wallclock_now();
    if (open_media(r, err, errlen) < 0 || make_streams(r, (struct sockaddr *)&r->media_dest, err, errlen) < 0)
        return -1;
    if (setup_events(r) < 0) {
        snprintf(err, errlen, "cannot set up the event loop");
        return -1;
    }
    if (discover_nat(r, err, errlen) < 0 || announce(r, err, errlen) < 0)
        return -1;
    r->phase = PHASE_MEDIA; /* the setup deadline no longer applies */
    if (stream_media(r, &final, err, errlen) < 0)
        return -1;
    build_report(r, final);
    json_decref(final);
    sample_ports(r);
    if (r->turn && r->report->has_rtt) {
        /* One run knows only the RTT via the relay; --paths subtracts the direct one. */
        r->report->relay.has_added = true;
        r->report->relay.added_ms = r->report->rtt_avg_ms;
    }
    return 0;
}

/* Deletes the session unless kept, within DELETE_MAX_NS and what is left of
 * the run (RP_PROBE_CLEANUP_S at least when the work used all of its time):
 * the daemon ends abandoned sessions itself. */
static void delete_session(struct run *r)
{
    if (!r->session_path[0] || r->opts->keep_session)
        return;
    uint64_t now = rp_monotonic_ns();
    if (now >= r->deadline)
        return;
    rp_httpc_set_deadline(r->http, now + DELETE_MAX_NS < r->deadline ? now + DELETE_MAX_NS : r->deadline);
    char derr[256];
    json_t *resp = NULL;
    if (control_call(r, "DELETE", NULL, &resp, derr, sizeof derr) == 0)
        json_decref(resp);
}

/* A run that failed once its work time was up failed for the deadline: said
 * first (Nagios shows the first words), the step's own message after. */
static void blame_deadline(const struct run *r, char *err, size_t errlen)
{
    static const char *const doing[] = { [PHASE_SETUP] = "setting up the session",
                                         [PHASE_MEDIA] = "during the media",
                                         [PHASE_TEARDOWN] = "stopping the session" };
    if (!r->expired && rp_monotonic_ns() < r->work_end)
        return;
    char was[512];
    snprintf(was, sizeof was, "%s", err);
    snprintf(err, errlen, "timeout after %u s (--timeout) %s%s%s", r->opts->timeout_s, doing[r->phase],
             was[0] ? ": " : "", was);
}

/* The run's deadline and the share of it the work may use. */
static void set_deadlines(struct run *r)
{
    const struct rp_probe_opts *o = r->opts;
    uint64_t s = (uint64_t)(o->timeout_s ? o->timeout_s : o->duration_s + RP_PROBE_DEFAULT_SLACK_S) * NS_PER_S;
    uint64_t cleanup = (uint64_t)RP_PROBE_CLEANUP_S * NS_PER_S;
    r->start = o->start_ns ? o->start_ns : rp_monotonic_ns();
    r->deadline = r->start + s;
    r->work_end = r->deadline - (cleanup < s / 2 ? cleanup : s / 2);
}

int rp_probe_run(const struct rp_probe_opts *o, struct rp_report *rep, char *err, size_t errlen)
{
    struct run r = { .opts = o, .report = rep, .fd = -1, .phase = PHASE_SETUP };
    int rc = -1;
    set_deadlines(&r);
    memset(rep, 0, sizeof *rep);
    r.codec = rp_codec_get(o->codec);
    struct rp_httpc_opts ho = { .token = o->token, .cacert = o->cacert, .proxy = o->proxy,
                                .insecure = o->insecure, .verbose = o->verbose };
    r.http = rp_httpc_new(o->server, &ho, err, errlen);
    if (r.http) {
        /* Setup, from resolving the daemon to telling it our address: one step. */
        rp_httpc_set_deadline(r.http, step_deadline(&r));
        if (open_session(&r, err, errlen) == 0)
            rc = measure(&r, err, errlen);
        if (rc < 0)
            blame_deadline(&r, err, errlen);
        delete_session(&r);
    }
    teardown(&r);
    /* The daemon's {"error": ...} and the like are in there: no terminal
     * escapes from a hostile server (cli.c cleans again where it prints). */
    if (rc < 0)
        rp_httpc_clean_text(err, strlen(err));
    return rc;
}
