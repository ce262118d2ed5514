#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "metrics.h"

struct out {
    char  *buf;
    size_t cap, len;
    int    full;
};

static void emit(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void emit(struct out *o, const char *fmt, ...)
{
    if (o->full)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->cap - o->len)
        o->full = 1;
    else
        o->len += (size_t)n;
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

size_t rp_metrics_render(const struct rp_metrics_snapshot *m, char *buf, size_t cap)
{
    struct out o = { .buf = buf, .cap = cap };
    if (cap == 0)
        return 0;
    buf[0] = '\0';
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
    return o.full ? 0 : o.len;
}
