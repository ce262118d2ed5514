/* The browser pre-call report (docs/webrtc.md, "How the page's report is
 * computed"): the page's getStats() figures, decoded strictly (they come from
 * the network), and combined with the daemon's own session document into the
 * CLI's report, scored and judged by report.c as the CLI's run is. */
#include "webreport.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "codec.h"

#define COUNT_MAX (UINT64_C(1) << 40)
#define LOST_MIN (-(INT64_C(1) << 31))
#define SECONDS_MAX 3600.0
/* jitterBufferDelay and totalRoundTripTime are sums over samples or
 * measurements (15 s of Opus held 40 ms: 720000 * 0.04 = 28800 s): bounded
 * as counts of seconds, their means checked against SECONDS_MAX. */
#define SUM_MAX ((double)COUNT_MAX * SECONDS_MAX)
/* DOMHighResTimeStamp of getStats(): ms since the epoch; 2^53 ms is beyond any clock. */
#define STAMP_MAX 9007199254740992.0

/* ---- decoding ------------------------------------------------------------- */

struct dec {
    const json_t *group;
    const char *name; /* "inbound", ... for the error's key */
    char *err;
    size_t errlen;
};

static int fail(const struct dec *d, const char *key, const char *why)
{
    snprintf(d->err, d->errlen, "%s%s%s: %s", d->name, d->name[0] ? "." : "", key, why);
    return -1;
}

/* The value of key, NULL when absent or null (JSON.stringify writes null for NaN). */
static const json_t *field(const struct dec *d, const char *key, bool required, int *rc)
{
    const json_t *v = json_object_get(d->group, key);
    *rc = 0;
    if (v && json_is_null(v))
        v = NULL;
    if (!v && required)
        *rc = fail(d, key, "missing");
    return v;
}

static int get_int(const struct dec *d, const char *key, bool required, int64_t min, int64_t max, int64_t *out)
{
    int rc;
    const json_t *v = field(d, key, required, &rc);
    if (!v)
        return rc;
    if (!json_is_integer(v))
        return fail(d, key, "not an integer");
    json_int_t n = json_integer_value(v);
    if (n < min || n > max)
        return fail(d, key, "out of range");
    *out = n;
    return 0;
}

static int get_count(const struct dec *d, const char *key, bool required, uint64_t *out)
{
    int64_t n = 0;
    if (get_int(d, key, required, 0, (int64_t)COUNT_MAX, &n) < 0)
        return -1;
    *out = (uint64_t)n;
    return 0;
}

static int get_real(const struct dec *d, const char *key, bool required, double max, double *out)
{
    int rc;
    const json_t *v = field(d, key, required, &rc);
    if (!v)
        return rc;
    if (!json_is_number(v))
        return fail(d, key, "not a number");
    double x = json_number_value(v);
    if (!isfinite(x) || x < 0 || x > max)
        return fail(d, key, "out of range");
    *out = x;
    return 0;
}

/* Printable ASCII only (no control characters: the text reaches logs and the
 * page). Longer than cap - 1: refused, or cut when `cut` (display only). */
static int get_text(const struct dec *d, const char *key, char *out, size_t cap, bool cut)
{
    int rc;
    const json_t *v = field(d, key, false, &rc);
    out[0] = '\0';
    if (!v)
        return rc;
    if (!json_is_string(v))
        return fail(d, key, "not a string");
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n >= cap && !cut)
        return fail(d, key, "too long");
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return fail(d, key, "not printable ASCII");
    n = n >= cap ? cap - 1 : n;
    memcpy(out, s, n);
    out[n] = '\0';
    return 0;
}

/* One of the words getStats() uses ("" = not given). */
static int get_word(const struct dec *d, const char *key, char *out, size_t cap, const char *const *words)
{
    if (get_text(d, key, out, cap, false) < 0)
        return -1;
    if (!out[0])
        return 0;
    for (size_t i = 0; words[i]; i++)
        if (strcmp(out, words[i]) == 0)
            return 0;
    out[0] = '\0';
    return fail(d, key, "not a known value");
}

/* A group: absent or null = not given; anything else must be an object. */
static int group(const json_t *j, const char *name, struct dec *d, char *err, size_t errlen)
{
    *d = (struct dec){ .group = json_object_get(j, name), .name = name, .err = err, .errlen = errlen };
    if (!d->group || json_is_null(d->group))
        return 0;
    if (!json_is_object(d->group)) {
        snprintf(err, errlen, "%s: not an object", name);
        return -1;
    }
    return 1;
}

static int decode_inbound(const struct dec *d, struct rp_browser_stats *o)
{
    int64_t lost = 0;
    if (get_count(d, "packetsReceived", true, &o->packets_received) < 0 ||
        get_int(d, "packetsLost", true, LOST_MIN, (int64_t)COUNT_MAX, &lost) < 0 ||
        get_real(d, "jitter", true, SECONDS_MAX, &o->jitter_s) < 0 ||
        get_real(d, "jitterBufferDelay", false, SUM_MAX, &o->jitter_buffer_delay_s) < 0 ||
        get_count(d, "jitterBufferEmittedCount", false, &o->jitter_buffer_emitted) < 0 ||
        get_count(d, "concealedSamples", false, &o->concealed_samples) < 0 ||
        get_count(d, "silentConcealedSamples", false, &o->silent_concealed_samples) < 0 ||
        get_count(d, "totalSamplesReceived", false, &o->total_samples_received) < 0 ||
        get_count(d, "concealmentEvents", false, &o->concealment_events) < 0 ||
        get_count(d, "bytesReceived", false, &o->bytes_received) < 0 ||
        get_real(d, "timestamp", false, STAMP_MAX, &o->stats_time_ms) < 0 ||
        get_real(d, "lastPacketReceivedTimestamp", false, STAMP_MAX, &o->last_packet_ms) < 0)
        return -1;
    o->packets_lost = lost;
    o->has_inbound = true;
    /* Older browsers lack these: then no late packets and no buffer delay. */
    int rc;
    o->has_jitter_buffer = field(d, "jitterBufferEmittedCount", false, &rc) != NULL;
    o->has_concealment = field(d, "totalSamplesReceived", false, &rc) != NULL &&
                         field(d, "concealedSamples", false, &rc) != NULL;
    return 0;
}

static int decode_remote_inbound(const struct dec *d, struct rp_browser_stats *o)
{
    int rc;
    bool latest = field(d, "roundTripTime", false, &rc) != NULL;
    if (get_real(d, "roundTripTime", false, SECONDS_MAX, &o->rtt_s) < 0 ||
        get_real(d, "totalRoundTripTime", false, SUM_MAX, &o->rtt_total_s) < 0 ||
        get_count(d, "roundTripTimeMeasurements", false, &o->rtt_measurements) < 0)
        return -1;
    o->has_rtt = latest || o->rtt_measurements > 0;
    return 0;
}

static int decode_pair(const struct dec *d, struct rp_browser_stats *o)
{
    static const char *const types[] = { "host", "srflx", "prflx", "relay", NULL };
    static const char *const protocols[] = { "udp", "tcp", "tls", NULL };
    return get_word(d, "local_type", o->local_type, sizeof o->local_type, types) < 0 ||
                   get_word(d, "remote_type", o->remote_type, sizeof o->remote_type, types) < 0 ||
                   get_word(d, "relay_protocol", o->relay_protocol, sizeof o->relay_protocol, protocols) < 0 ||
                   get_text(d, "local_address", o->local_address, sizeof o->local_address, false) < 0 ||
                   get_text(d, "remote_address", o->remote_address, sizeof o->remote_address, false) < 0
               ? -1
               : 0;
}

static int decode_checks(const struct dec *d, struct rp_browser_stats *o)
{
    o->has_checks = true;
    return get_count(d, "requestsSent", false, &o->checks_sent) < 0 ||
                   get_count(d, "responsesReceived", false, &o->checks_answered) < 0
               ? -1
               : 0;
}

static int decode_sr_delays(const struct dec *d, struct rp_browser_stats *o)
{
    int rc = 0;
    const json_t *a = field(d, "delays_ms", false, &rc);
    if (rc < 0 || !a)
        return rc;
    if (!json_is_array(a) || json_array_size(a) > RP_WEBREPORT_SR_MAX)
        return fail(d, "delays_ms", "not an array of at most 120 numbers");
    size_t i;
    const json_t *v;
    json_array_foreach(a, i, v) {
        double ms = json_number_value(v);
        /* The clocks' offset is in them: any hour either way, not more. */
        if (!json_is_number(v) || !isfinite(ms) || ms < -3.6e6 || ms > 3.6e6)
            return fail(d, "delays_ms", "a value is not a number of milliseconds within an hour");
        o->sr_delays_ms[o->nsr_delays++] = ms;
    }
    return 0;
}

int rp_browser_stats_decode(const json_t *j, struct rp_browser_stats *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(j)) {
        snprintf(err, errlen, "the stats are not a JSON object");
        return -1;
    }
    struct dec d;
    int g;
    if ((g = group(j, "outbound", &d, err, errlen)) < 0 ||
        (g && get_count(&d, "packetsSent", true, &out->packets_sent) < 0))
        return -1;
    if ((g = group(j, "inbound", &d, err, errlen)) < 0 || (g && decode_inbound(&d, out) < 0))
        return -1;
    if ((g = group(j, "remote_inbound", &d, err, errlen)) < 0 || (g && decode_remote_inbound(&d, out) < 0))
        return -1;
    if ((g = group(j, "pair", &d, err, errlen)) < 0 || (g && decode_pair(&d, out) < 0))
        return -1;
    if ((g = group(j, "checks", &d, err, errlen)) < 0 || (g && decode_checks(&d, out) < 0))
        return -1;
    if ((g = group(j, "remote_outbound", &d, err, errlen)) < 0 || (g && decode_sr_delays(&d, out) < 0))
        return -1;
    d = (struct dec){ .group = j, .name = "", .err = err, .errlen = errlen };
    /* Shown, never parsed: a long one is cut rather than the report refused. */
    return get_text(&d, "user_agent", out->user_agent, sizeof out->user_agent, true);
}

/* ---- the report ----------------------------------------------------------- */

static void fill_meta(const struct rp_webreport_in *in, struct rp_report *r)
{
    const struct rp_contract_session *s = in->daemon;
    snprintf(r->codec, sizeof r->codec, "%s", in->codec->name);
    r->ptime_ms = in->ptime_ms;
    r->bitrate = s->bitrate_bps;
    snprintf(r->transport, sizeof r->transport, "srtp");
    snprintf(r->cipher, sizeof r->cipher, "%s", s->cipher);
    r->duration_s = s->duration_s;
    r->jitter_buffer_ms = s->jitter_buffer_ms;
    r->jitter_buffer_adaptive = true;
    snprintf(r->server, sizeof r->server, "%s", in->server ? in->server : "");
    snprintf(r->session_id, sizeof r->session_id, "%s", s->id);
    r->media_port = s->media_port;
    snprintf(r->port_range, sizeof r->port_range, "%s", in->port_range ? in->port_range : "");
}

/* Upstream as the daemon measured it, against what the browser says it sent.
 * The browser's count was read before the page posted, the daemon's when the
 * post arrived: more received than "sent" is a stale count, not a contradiction. */
static void fill_up(const struct rp_webreport_in *in, struct rp_report *r, char *note, size_t notelen)
{
    const struct rp_contract_up *du = &in->daemon->up;
    const struct rp_browser_stats *b = in->browser;
    struct rp_dir_report *up = &r->up;
    uint64_t got = du->rx.received;
    up->measured = du->accepted > 0 || got > 0 || b->packets_sent > 0;
    up->sent = b->packets_sent;
    if (got > up->sent) {
        snprintf(note, notelen, "the browser's outbound.packetsSent %" PRIu64 " is older than the daemon's %" PRIu64
                 " packets received: upstream sent counted as %" PRIu64, b->packets_sent, got, got);
        up->sent = got;
    }
    up->rx = du->rx;
    up->rx.expected = up->sent;
    up->rx.lost = (int64_t)(up->sent - got);
    up->rx.loss_pct = up->sent ? 100.0 * (double)up->rx.lost / (double)up->sent : 0;
    up->host_drops = du->host_drops;
    /* Not du->reply_only: the daemon is ICE-lite and DTLS-passive, so all it
     * sends answers the browser's checks and handshake. Media after our first
     * packet proves nothing of a firewall here: the checks came in unasked. */
    up->reply_only = false;
    up->foreign_source = du->dropped[RP_DROP_FOREIGN_SOURCE];
    up->auth_failures = du->auth_failures;
}

/* The browser's figures that cannot all be true. */
static int browser_contradicts(const struct rp_browser_stats *b, char *err, size_t errlen)
{
    if (b->has_concealment && b->concealed_samples > b->total_samples_received)
        snprintf(err, errlen, "inbound.concealedSamples %" PRIu64 " is more than totalSamplesReceived %" PRIu64,
                 b->concealed_samples, b->total_samples_received);
    else if (b->has_concealment && b->silent_concealed_samples > b->concealed_samples)
        snprintf(err, errlen, "inbound.silentConcealedSamples %" PRIu64 " is more than concealedSamples %" PRIu64,
                 b->silent_concealed_samples, b->concealed_samples);
    /* A lastPacketReceivedTimestamp after the stats' own timestamp is no
     * contradiction: Chromium stamps the object before it reads the last
     * arrival (seen in the loopback test); down_late() takes no tail then. */
    else if ((int64_t)b->packets_received + b->packets_lost < 0)
        snprintf(err, errlen, "inbound.packetsLost %" PRId64 " is below minus packetsReceived %" PRIu64,
                 b->packets_lost, b->packets_received);
    else if (b->rtt_total_s > (double)b->rtt_measurements * SECONDS_MAX)
        snprintf(err, errlen, "remote_inbound.totalRoundTripTime is more than an hour per roundTripTimeMeasurement");
    else if (b->jitter_buffer_delay_s > (double)b->jitter_buffer_emitted * SECONDS_MAX)
        snprintf(err, errlen, "inbound.jitterBufferDelay is more than an hour per jitterBufferEmittedCount");
    else if (strcmp(b->local_type, "relay") == 0 && !b->relay_protocol[0])
        snprintf(err, errlen, "pair.relay_protocol: missing for a relay candidate");
    else
        return 0;
    return -1;
}

/* Downstream packets the browser's jitter buffer played out as concealment
 * although they were not lost: late for its adaptive buffer (docs/webrtc.md).
 * Concealed samples less the silent ones (comfort noise, muted expansion),
 * less one packet's worth per packet lost inside the stream, less the time
 * from the stream's last packet to the stats (concealment of the end, not
 * lateness: the whole gap, as Chromium's buffer was found nearly drained at
 * the end), in packets of rate * ptime samples (NetEq counts at the decoder's
 * rate). */
static uint64_t down_late(const struct rp_browser_stats *b, unsigned rate, unsigned ptime_ms, uint64_t received)
{
    uint64_t spp = (uint64_t)rate * ptime_ms / 1000;
    if (!b->has_concealment || spp == 0)
        return 0;
    double voiced = (double)(b->concealed_samples - b->silent_concealed_samples);
    double lost = b->packets_lost > 0 ? (double)b->packets_lost * (double)spp : 0;
    double tail_ms = 0;
    if (b->stats_time_ms > 0 && b->last_packet_ms > 0)
        tail_ms = b->stats_time_ms - b->last_packet_ms;
    double tail = tail_ms > 0 ? tail_ms * rate / 1000.0 : 0;
    double late = floor((voiced - lost - tail) / (double)spp + 0.5);
    if (!(late > 0))
        return 0;
    return late >= (double)received ? received : (uint64_t)late;
}

/* Downstream as the browser received it, against every slot of the daemon's
 * media clock (sent + skipped): RFC 3550's packetsLost counts only the gaps
 * between the first and highest packet received, so loss before the first
 * and after the last (a blocked path, a cut) comes from our count. */
static int fill_down(const struct rp_webreport_in *in, struct rp_report *r, char *err, size_t errlen)
{
    const struct rp_browser_stats *b = in->browser;
    const struct rp_contract_down *dd = &in->daemon->down;
    struct rp_dir_report *down = &r->down;
    uint64_t slots = dd->sent + dd->skipped;
    /* received + lost = the highest sequence less the first, plus one: the
     * duplicates packetsReceived includes are above it. */
    uint64_t span = (uint64_t)((int64_t)b->packets_received + b->packets_lost);
    uint64_t unique = span < b->packets_received ? span : b->packets_received;
    if (unique > dd->sent || span > slots) {
        snprintf(err, errlen, "the browser counts %" PRIu64 " packets received over a span of %" PRIu64
                 ", more than the %" PRIu64 " the daemon sent (%" PRIu64 " slots)", unique, span, dd->sent, slots);
        return -1;
    }
    /* A browser that received nothing has no inbound-rtp (it appears with the
     * first packet): what the daemon sent is then what it did not receive. */
    down->measured = b->has_inbound || dd->sent > 0;
    down->sent = dd->sent;
    down->host_skipped = dd->skipped;
    down->send_errors = dd->send_errors;
    struct rp_rxsummary *rx = &down->rx;
    rx->expected = slots;
    rx->received = unique;
    rx->lost = (int64_t)(slots - unique);
    rx->loss_pct = slots ? 100.0 * (double)rx->lost / (double)slots : 0;
    rx->duplicates = b->packets_received - unique;
    rx->burst_ratio = 1.0;
    rx->jitter_ms = b->jitter_s * 1000.0;
    rx->jitter_mean_ms = rx->jitter_ms;
    if (b->has_jitter_buffer && b->jitter_buffer_emitted > 0)
        rx->jb_mean_ms = b->jitter_buffer_delay_s / (double)b->jitter_buffer_emitted * 1000.0;
    rx->jb_max_ms = rx->jb_mean_ms;
    rx->late_adaptive = down_late(b, in->codec->clock_rate, in->ptime_ms, unique);
    rx->late = rx->late_adaptive;
    /* The daemon's bytes on the wire, for the share of its packets that arrived. */
    rx->wire_bytes = dd->sent ? (uint64_t)((double)dd->wire_bytes * (double)unique / (double)dd->sent) : 0;
    return 0;
}

/* No handshake, so no media either way: each direction is judged by the ICE
 * checks, the only packets there were. Checks that never reached the daemon
 * block upstream; answers that never reached the browser block downstream.
 * A direction with nothing sent stays unmeasured. */
static void fill_unconnected(const struct rp_webreport_in *in, struct rp_report *r)
{
    const struct rp_browser_stats *b = in->browser;
    struct rp_dir_report *up = &r->up, *down = &r->down;
    uint64_t up_got = in->checks_received, down_got = b->checks_answered;
    up->sent = b->checks_sent > up_got ? b->checks_sent : up_got;
    up->measured = up->sent > 0;
    up->rx.expected = up->sent;
    up->rx.received = up_got;
    up->rx.lost = (int64_t)(up->sent - up_got);
    up->rx.loss_pct = up->sent ? 100.0 * (double)up->rx.lost / (double)up->sent : 0;
    /* Without the browser's count of answers (an older page) downstream is unknown. */
    down->sent = in->checks_answered > down_got ? in->checks_answered : down_got;
    down->measured = b->has_checks && down->sent > 0;
    down->rx.expected = down->sent;
    down->rx.received = down_got;
    down->rx.lost = (int64_t)(down->sent - down_got);
    down->rx.loss_pct = down->sent ? 100.0 * (double)down->rx.lost / (double)down->sent : 0;
    up->rx.burst_ratio = down->rx.burst_ratio = 1.0;
}

/* The checks got through both ways, yet no handshake completed: the path
 * carries STUN but not the media that follows it, and no audio moved. */
static void handshake_failed(const struct rp_webreport_in *in, struct rp_report *r)
{
    const char *why = in->handshake_error && in->handshake_error[0] ? in->handshake_error : "none completed";
    r->verdict = RP_VERDICT_FAIL;
    r->diagnosis = RP_DIAG_NO_MEDIA;
    snprintf(r->cause, sizeof r->cause,
             "the ICE checks got through both ways, but the encrypted handshake did not (%.120s): no audio either way",
             why);
    snprintf(r->remediation, sizeof r->remediation, "%s",
             "something on the path passes STUN but drops or alters DTLS (a VPN, or a security appliance "
             "inspecting UDP): allow UDP to the media host's ports unchanged");
}

/* The path and the addresses from the selected candidate pair. */
static void fill_path(const struct rp_webreport_in *in, struct rp_report *r)
{
    const struct rp_browser_stats *b = in->browser;
    const char *path = "direct";
    if (strcmp(b->local_type, "relay") == 0) {
        path = strcmp(b->relay_protocol, "tls") == 0   ? "turns"
               : strcmp(b->relay_protocol, "tcp") == 0 ? "turn-tcp"
                                                        : "turn-udp";
        snprintf(r->relay.relayed, sizeof r->relay.relayed, "%s", b->local_address);
        snprintf(r->nat.announced, sizeof r->nat.announced, "%s", b->local_address);
    } else if (strcmp(b->local_type, "host") == 0) {
        snprintf(r->nat.local, sizeof r->nat.local, "%s", b->local_address);
    } else {
        /* srflx/prflx: the mapping a STUN answer (ours, or the TURN server's) showed the browser. */
        snprintf(r->nat.mapped, sizeof r->nat.mapped, "%s", b->local_address);
    }
    snprintf(r->path, sizeof r->path, "%s", path);
    snprintf(r->nat.control_seen, sizeof r->nat.control_seen, "%s", in->daemon->client);
    snprintf(r->nat.latched, sizeof r->nat.latched, "%s", in->daemon->latched);
}

/* The browser's mean round trip (remote-inbound-rtp, from our RRs): one sample. */
static size_t rtt_sample(const struct rp_webreport_in *in, int64_t *ns);

/* How far the floor of a delay series taken about once a second (the lower
 * of two in a row: about 2 s, as rxstats' floor of transit) rose above its
 * lowest. Any offset the series carries cancels out. */
static double floor_rise(const double *ms, size_t n)
{
    if (n < 2)
        return 0;
    double lowest = ms[0], top_floor = ms[0] < ms[1] ? ms[0] : ms[1];
    for (size_t i = 0; i < n; i++)
        lowest = ms[i] < lowest ? ms[i] : lowest;
    for (size_t i = 0; i + 1 < n; i++) {
        double floor = ms[i] < ms[i + 1] ? ms[i] : ms[i + 1];
        top_floor = floor > top_floor ? floor : top_floor;
    }
    return top_floor - lowest;
}

/* Downstream's delay rise: from our sender reports' one-way delays as the
 * browser timed them (one a second), else from the round trips less what
 * upstream itself measured one way (Chromium times a round trip only every
 * 5 s or so: a short test may have too few). No percentiles: a browser
 * reports no per-packet delay. */
static void down_delay_rise(const struct rp_webreport_in *in, struct rp_report *r)
{
    const struct rp_browser_stats *b = in->browser;
    double rise = b->nsr_delays >= 2 ? floor_rise(b->sr_delays_ms, b->nsr_delays)
                  : floor_rise(in->rtt_series_ms, in->rtt_series_ms ? in->nrtt_series : 0) - r->up.rx.delay_rise_ms;
    r->down.rx.delay_rise_ms = rise > 0 ? rise : 0;
}

/* The round trips: each of the daemon's own (RTCP) when there are any,
 * else the browser's mean. ns has room for RP_WEBREPORT_RTT_MAX. */
static size_t rtt_samples(const struct rp_webreport_in *in, int64_t *ns)
{
    size_t n = 0;
    for (size_t i = 0; in->rtt_series_ms && i < in->nrtt_series && n < RP_WEBREPORT_RTT_MAX; i++)
        if (isfinite(in->rtt_series_ms[i]) && in->rtt_series_ms[i] >= 0 && in->rtt_series_ms[i] < 3.6e6)
            ns[n++] = (int64_t)llround(in->rtt_series_ms[i] * 1e6);
    return n ? n : rtt_sample(in, ns);
}

static size_t rtt_sample(const struct rp_webreport_in *in, int64_t *ns)
{
    const struct rp_browser_stats *b = in->browser;
    double ms;
    if (b->has_rtt && b->rtt_measurements > 0)
        ms = b->rtt_total_s / (double)b->rtt_measurements * 1000.0;
    else if (b->has_rtt)
        ms = b->rtt_s * 1000.0;
    else
        return 0;
    *ns = (int64_t)llround(ms * 1e6);
    return 1;
}

int rp_webreport_build(const struct rp_webreport_in *in, const struct rp_thresholds *t, struct rp_report *out,
                       char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    err[0] = '\0';
    if (!in || !in->daemon || !in->browser || !in->codec || !t || in->ptime_ms == 0) {
        snprintf(err, errlen, "the report needs the daemon's figures, the browser's, the codec and its ptime");
        return -1;
    }
    if (browser_contradicts(in->browser, err, errlen) < 0)
        return -1;
    fill_meta(in, out);
    char why[256];
    bool no_media = !in->connected && in->daemon->up.accepted == 0 && in->daemon->down.sent == 0;
    if (no_media)
        fill_unconnected(in, out);
    else
        fill_up(in, out, err, errlen);
    if (!no_media && fill_down(in, out, why, sizeof why) < 0) {
        snprintf(err, errlen, "%s", why);
        memset(out, 0, sizeof *out);
        return -1;
    }
    fill_path(in, out);
    if (!no_media)
        down_delay_rise(in, out);
    int64_t rtt_ns[RP_WEBREPORT_RTT_MAX];
    struct rp_score_in score = { .codec = in->codec, .ptime_ms = in->ptime_ms,
                                 .jitter_buffer_ms = in->daemon->jitter_buffer_ms, .adaptive = true,
                                 .rtt_ns = rtt_ns };
    score.nrtt = rtt_samples(in, rtt_ns);
    rp_report_finish(out, &score, t);
    if (no_media && in->checks_received > 0 && in->browser->checks_answered > 0)
        handshake_failed(in, out);
    return 0;
}
