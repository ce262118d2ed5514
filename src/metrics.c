#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "metrics.h"

/* A buffer that grows: the size of the exposition depends on the agents held. */
struct out {
    char  *buf;
    size_t cap, len;
    int    failed;
};

static void emit(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void emit(struct out *o, const char *fmt, ...)
{
    for (int attempt = 0; !o->failed && attempt < 2; attempt++) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            o->failed = 1;
            return;
        }
        if ((size_t)n < o->cap - o->len) {
            o->len += (size_t)n;
            return;
        }
        size_t cap = o->cap * 2 > o->len + (size_t)n + 1 ? o->cap * 2 : o->len + (size_t)n + 1;
        char *grown = realloc(o->buf, cap);
        if (!grown) {
            o->failed = 1;
            return;
        }
        o->buf = grown;
        o->cap = cap;
    }
}

static void family(struct out *o, const char *name, const char *type, const char *help)
{
    emit(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Sessions by codec, port usage, build and process: figures of the host and
 * the process rather than of the media plane. */
static void render_host(struct out *o, const struct rp_metrics_snapshot *m)
{
    family(o, "rtpprobed_sessions_by_codec", "gauge", "Probe sessions open now, by codec.");
    for (unsigned c = 0; c < RP_CODEC_COUNT; c++)
        emit(o, "rtpprobed_sessions_by_codec{codec=\"%s\"} %u\n", rp_codec_get(c)->name, m->sessions_by_codec[c]);
    if (m->have_ports_bound) {
        family(o, "rtpprobed_media_ports_bound", "gauge",
               "Even media ports in the configured range bound by any process of the host's network namespace "
               "(/proc/net/udp and udp6): port usage is this over rtpprobed_media_ports.");
        emit(o, "rtpprobed_media_ports_bound %u\n", m->media_ports_bound);
    }
    family(o, "rtpprobed_build_info", "gauge", "Always 1; the version of rtpprobed in a label.");
    emit(o, "rtpprobed_build_info{version=\"%s\"} 1\n", RP_VERSION);
    const struct rp_procstat *p = &m->proc;
    if (p->have_cpu) {
        family(o, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
        emit(o, "process_cpu_seconds_total %.6f\n", p->cpu_seconds);
    }
    if (p->have_rss) {
        family(o, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
        emit(o, "process_resident_memory_bytes %" PRIu64 "\n", p->rss_bytes);
    }
    if (p->have_fds) {
        family(o, "process_open_fds", "gauge", "Number of open file descriptors.");
        emit(o, "process_open_fds %" PRIu64 "\n", p->open_fds);
    }
    if (p->have_max_fds) {
        family(o, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
        emit(o, "process_max_fds %" PRIu64 "\n", p->max_fds);
    }
    if (p->have_start) {
        family(o, "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.");
        emit(o, "process_start_time_seconds %.2f\n", p->start_time_seconds);
    }
}

/* Upstream quality of finished sessions: one histogram per codec and
 * transport, every combination listed (zero until a session ends). */
static void render_quality(struct out *o, const struct rp_quality *q)
{
    for (unsigned f = 0; f < RP_QF_COUNT; f++) {
        const struct rp_quality_family_info *fi = rp_quality_family(f);
        family(o, fi->name, "histogram", fi->help);
        for (unsigned c = 0; c < RP_CODEC_COUNT; c++) {
            for (unsigned t = 0; t < RP_TRANSPORT_COUNT; t++) {
                const struct rp_histogram *h = &q->h[f][c][t];
                char labels[64];
                snprintf(labels, sizeof labels, "codec=\"%s\",transport=\"%s\"", rp_codec_get(c)->name,
                         rp_transport_name(t));
                for (unsigned b = 0; b < fi->nbounds; b++)
                    emit(o, "%s_bucket{%s,le=\"%g\"} %" PRIu64 "\n", fi->name, labels, fi->bounds[b],
                         h->bucket[b]);
                emit(o, "%s_bucket{%s,le=\"+Inf\"} %" PRIu64 "\n", fi->name, labels, h->count);
                emit(o, "%s_sum{%s} %.6f\n", fi->name, labels, h->sum);
                emit(o, "%s_count{%s} %" PRIu64 "\n", fi->name, labels, h->count);
            }
        }
    }
}

/* One per-agent gauge family; a figure the report did not have (NaN) has no
 * sample, and a family without samples is left out. */
static void render_agent_dir_family(struct out *o, const struct rp_agents *a, const char *name, const char *help,
                                    size_t field)
{
    static const char *const dirs[RP_AGENT_DIRS] = { "upstream", "downstream" };
    bool header = false;
    for (unsigned i = 0; i < rp_agents_count(a); i++) {
        const struct rp_agent_figures *f = rp_agents_figures(a, i, NULL);
        const double *v = (const double *)(const void *)((const char *)f + field);
        for (unsigned d = 0; d < RP_AGENT_DIRS; d++) {
            if (isnan(v[d]))
                continue;
            if (!header)
                family(o, name, "gauge", help);
            header = true;
            emit(o, "%s{agent=\"%s\",direction=\"%s\"} %.6f\n", name, rp_agents_name(a, i), dirs[d], v[d]);
        }
    }
}

/* The per-agent figures that have no direction: RTT, verdict, report time. */
static void render_agent_gauges(struct out *o, const struct rp_agents *a)
{
    unsigned n = rp_agents_count(a);
    bool header = false;
    for (unsigned i = 0; i < n; i++) {
        const struct rp_agent_figures *f = rp_agents_figures(a, i, NULL);
        if (isnan(f->rtt_s))
            continue;
        if (!header)
            family(o, "rtpprobed_agent_rtt_seconds", "gauge", "Mean round-trip time of the agent's latest report.");
        header = true;
        emit(o, "rtpprobed_agent_rtt_seconds{agent=\"%s\"} %.6f\n", rp_agents_name(a, i), f->rtt_s);
    }
    if (n == 0)
        return;
    family(o, "rtpprobed_agent_verdict", "gauge",
           "Verdict of the agent's latest report: 0 pass, 1 warn, 2 fail, 3 unknown.");
    for (unsigned i = 0; i < n; i++)
        emit(o, "rtpprobed_agent_verdict{agent=\"%s\"} %u\n", rp_agents_name(a, i),
             rp_agents_figures(a, i, NULL)->verdict);
    family(o, "rtpprobed_agent_report_timestamp_seconds", "gauge",
           "When the daemon accepted the agent's latest report (its own clock), Unix seconds.");
    for (unsigned i = 0; i < n; i++) {
        double when;
        (void)rp_agents_figures(a, i, &when);
        emit(o, "rtpprobed_agent_report_timestamp_seconds{agent=\"%s\"} %.3f\n", rp_agents_name(a, i), when);
    }
}

/* The browser pre-call test (docs/webrtc.md): hostile input is refused and counted here. */
static void render_webrtc(struct out *o, const struct rp_metrics_snapshot *m)
{
    const struct rp_webctl_counters *w = &m->webrtc;
    family(o, "rtpprobed_webrtc_page_tokens_total", "counter", "Page tokens presented on /v1/webrtc, by verdict.");
    for (unsigned v = 0; v < RP_PAGETOKEN_VERDICTS; v++)
        emit(o, "rtpprobed_webrtc_page_tokens_total{verdict=\"%s\"} %" PRIu64 "\n", rp_pagetoken_verdict_name(v),
             w->tokens[v]);
    family(o, "rtpprobed_webrtc_sessions_total", "counter",
           "POST /v1/webrtc: browser sessions created, or refused (bad body or SDP, limits).");
    emit(o, "rtpprobed_webrtc_sessions_total{result=\"created\"} %" PRIu64 "\n", w->created);
    emit(o, "rtpprobed_webrtc_sessions_total{result=\"refused\"} %" PRIu64 "\n", w->offers_refused);
    family(o, "rtpprobed_webrtc_reports_total", "counter",
           "POST /v1/webrtc/{id}/stats: reports made, or the browser's figures refused.");
    emit(o, "rtpprobed_webrtc_reports_total{result=\"made\"} %" PRIu64 "\n", w->reports);
    emit(o, "rtpprobed_webrtc_reports_total{result=\"refused\"} %" PRIu64 "\n", w->stats_refused);
    family(o, "rtpprobed_webrtc_ice_checks_total", "counter",
           "ICE connectivity checks on browser sessions' ports, by verdict (only answered ones get a reply).");
    for (unsigned v = 0; v < RP_ICE_VERDICTS; v++)
        emit(o, "rtpprobed_webrtc_ice_checks_total{verdict=\"%s\"} %" PRIu64 "\n", rp_ice_verdict_name(v),
             m->media.ice[v]);
    family(o, "rtpprobed_webrtc_dtls_refused_total", "counter",
           "DTLS records from an address no connectivity check verified (never answered).");
    emit(o, "rtpprobed_webrtc_dtls_refused_total %" PRIu64 "\n", m->media.dtls_refused);
    family(o, "rtpprobed_webrtc_rtcp_bad_total", "counter", "SRTCP packets that did not verify or parse.");
    emit(o, "rtpprobed_webrtc_rtcp_bad_total %" PRIu64 "\n", m->media.rtcp_bad);
}

static void render_agents(struct out *o, const struct rp_agents *a)
{
    unsigned n = rp_agents_count(a);
    family(o, "rtpprobed_agents", "gauge", "Agents whose latest report (POST /v1/reports) is held.");
    emit(o, "rtpprobed_agents %u\n", n);
    family(o, "rtpprobed_agents_max", "gauge", "reports.max_agents: agents held at most.");
    emit(o, "rtpprobed_agents_max %u\n", rp_agents_max(a));
    family(o, "rtpprobed_agent_evictions_total", "counter",
           "Agents dropped, oldest report first, to make room for a new one (or after a reload lowered the bound).");
    emit(o, "rtpprobed_agent_evictions_total %" PRIu64 "\n", rp_agents_evictions(a));
    family(o, "rtpprobed_reports_total", "counter", "POST /v1/reports by result (rejected: bad body).");
    emit(o, "rtpprobed_reports_total{result=\"accepted\"} %" PRIu64 "\n", rp_agents_reports(a, true));
    emit(o, "rtpprobed_reports_total{result=\"rejected\"} %" PRIu64 "\n", rp_agents_reports(a, false));
    render_agent_dir_family(o, a, "rtpprobed_agent_mos", "E-model MOS of the agent's latest report.",
                            offsetof(struct rp_agent_figures, mos));
    render_agent_dir_family(o, a, "rtpprobed_agent_loss_ratio", "Packet loss (0-1) of the agent's latest report.",
                            offsetof(struct rp_agent_figures, loss_ratio));
    render_agent_dir_family(o, a, "rtpprobed_agent_jitter_seconds", "Mean jitter of the agent's latest report.",
                            offsetof(struct rp_agent_figures, jitter_s));
    render_agent_dir_family(o, a, "rtpprobed_agent_delay_rise_seconds",
                            "Queueing delay that built up during the agent's latest run.",
                            offsetof(struct rp_agent_figures, delay_rise_s));
    render_agent_gauges(o, a);
}

char *rp_metrics_render(const struct rp_metrics_snapshot *m, size_t *len)
{
    struct out o = { .cap = 16384 };
    o.buf = malloc(o.cap);
    if (!o.buf)
        return NULL;
    o.buf[0] = '\0';
    family(&o, "rtpprobed_sessions", "gauge", "Probe sessions open now.");
    emit(&o, "rtpprobed_sessions %u\n", m->sessions_active);
    family(&o, "rtpprobed_sessions_max", "gauge", "limits.max_sessions.");
    emit(&o, "rtpprobed_sessions_max %u\n", m->sessions_max);
    family(&o, "rtpprobed_sessions_created_total", "counter", "Probe sessions created since start.");
    emit(&o, "rtpprobed_sessions_created_total %" PRIu64 "\n", m->sessions_created);
    family(&o, "rtpprobed_media_ports", "gauge", "Even media ports in the configured range (the range a session takes its RTP port from; the _bound gauge counts those in use by anyone).");
    emit(&o, "rtpprobed_media_ports %u\n", (m->port_max - ((m->port_min + 1) & ~1u)) / 2 + 1);
    render_host(&o, m);

    family(&o, "rtpprobed_packets_total", "counter", "Media packets accepted upstream or sent downstream.");
    emit(&o, "rtpprobed_packets_total{direction=\"upstream\"} %" PRIu64 "\n", m->media.up_packets);
    emit(&o, "rtpprobed_packets_total{direction=\"downstream\"} %" PRIu64 "\n", m->media.down_packets);
    family(&o, "rtpprobed_downstream_skipped_total", "counter",
           "Downstream packets the media clock called for but an overloaded daemon skipped (the probe counts them lost).");
    emit(&o, "rtpprobed_downstream_skipped_total %" PRIu64 "\n", m->media.down_skipped);
    family(&o, "rtpprobed_bytes_total", "counter", "Media bytes on the wire (IP and UDP headers included).");
    emit(&o, "rtpprobed_bytes_total{direction=\"upstream\"} %" PRIu64 "\n", m->media.up_bytes);
    emit(&o, "rtpprobed_bytes_total{direction=\"downstream\"} %" PRIu64 "\n", m->media.down_bytes);
    family(&o, "rtpprobed_dropped_total", "counter", "Datagrams dropped on session ports, by reason.");
    for (unsigned r = RP_DROP_FIRST; r < RP_DROP_COUNT; r++)
        emit(&o, "rtpprobed_dropped_total{reason=\"%s\"} %" PRIu64 "\n", rp_drop_reason_name(r), m->media.drops[r]);
    family(&o, "rtpprobed_malformed_total", "counter", "Malformed datagrams on session ports, by parser and reason.");
    for (unsigned e = 1; e < RP_RTP_NERR; e++)
        emit(&o, "rtpprobed_malformed_total{parser=\"rtp\",reason=\"%s\"} %" PRIu64 "\n", rp_rtp_strerror(e),
             m->media.rtp_errors[e]);
    for (unsigned e = 1; e < RP_STUN_NERR; e++)
        emit(&o, "rtpprobed_malformed_total{parser=\"stun\",reason=\"%s\"} %" PRIu64 "\n", rp_stun_strerror(e),
             m->media.stun_errors[e]);
    family(&o, "rtpprobed_auth_failures_total", "counter",
           "Media packets whose SRTP or HMAC tag failed, and control requests with a bad token.");
    emit(&o, "rtpprobed_auth_failures_total{plane=\"media\"} %" PRIu64 "\n", m->media.drops[RP_DROP_AUTH]);
    emit(&o, "rtpprobed_auth_failures_total{plane=\"control\"} %" PRIu64 "\n", m->auth_failures_control);
    family(&o, "rtpprobed_socket_drops_total", "counter",
           "Datagrams the kernel dropped on session sockets (SO_RXQ_OVFL), summed over sessions.");
    emit(&o, "rtpprobed_socket_drops_total %" PRIu64 "\n", m->media.host_drops);
    family(&o, "rtpprobed_stun_total", "counter", "STUN datagrams by verdict, on session ports and on stun.listen.");
    for (unsigned v = 0; v < RP_STUN_VERDICTS; v++) {
        emit(&o, "rtpprobed_stun_total{port=\"session\",verdict=\"%s\"} %" PRIu64 "\n", rp_stun_verdict_name(v),
             m->media.stun[v]);
        emit(&o, "rtpprobed_stun_total{port=\"listen\",verdict=\"%s\"} %" PRIu64 "\n", rp_stun_verdict_name(v),
             m->stun_listener[v]);
    }
    family(&o, "rtpprobed_echo_total", "counter", "Datagrams on echo ports by verdict (echoed or why not).");
    for (unsigned v = 0; v < RP_ECHO_VERDICTS; v++)
        emit(&o, "rtpprobed_echo_total{verdict=\"%s\"} %" PRIu64 "\n", rp_echo_verdict_name(v), m->echo[v]);
    family(&o, "rtpprobed_http_slow_clients_dropped_total", "counter",
           "Control connections cut for not completing a request within limits.request_timeout.");
    emit(&o, "rtpprobed_http_slow_clients_dropped_total %" PRIu64 "\n", m->slow_clients_dropped);
    family(&o, "rtpprobed_http_responses_total", "counter", "Control API responses by status class.");
    for (unsigned c = 1; c < RP_HTTP_STATUS_CLASSES; c++)
        emit(&o, "rtpprobed_http_responses_total{code=\"%uxx\"} %" PRIu64 "\n", c, m->http_responses[c]);
    if (m->quality)
        render_quality(&o, m->quality);
    if (m->agents)
        render_agents(&o, m->agents);
    render_webrtc(&o, m);
    if (o.failed) {
        free(o.buf);
        return NULL;
    }
    *len = o.len;
    return o.buf;
}
