#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "echo.h"
#include "log.h"
#include "netaddr.h"
#include "rtp.h"
#include "timeutil.h"
#include "udp.h"

#define RATE_SOURCES 256

static const char *const verdict_names[RP_ECHO_VERDICTS] = { "echoed", "not_allowed", "not_rtp", "rate" };

const char *rp_echo_verdict_name(enum rp_echo_verdict v)
{
    return (unsigned)v < RP_ECHO_VERDICTS ? verdict_names[v] : "unknown";
}

enum rp_echo_verdict rp_echo_check(const struct rp_config *cfg, struct rp_ratelimit *rate, const uint8_t *buf,
                                   size_t len, const struct sockaddr *from, uint64_t now_mono)
{
    bool allowed = false;
    for (unsigned i = 0; i < cfg->necho_allow && !allowed; i++)
        allowed = rp_cidr_match(&cfg->echo_allow[i], from);
    if (!allowed)
        return RP_ECHO_DROP_NOT_ALLOWED;
    struct rp_rtp_pkt pkt;
    if (rp_rtp_parse(buf, len, &pkt) != RP_RTP_OK)
        return RP_ECHO_DROP_NOT_RTP;
    if (!rp_ratelimit_allow(rate, from, now_mono))
        return RP_ECHO_DROP_RATE;
    return RP_ECHO_ANSWER;
}

struct echo_port {
    struct rp_echo *owner;
    int fd;
    struct event *ev;
};

struct rp_echo {
    const struct rp_config *cfg;
    struct rp_ratelimit *rate;
    struct echo_port ports[RP_CONFIG_MAX_ECHO_PORTS];
    unsigned nports;
    uint64_t counts[RP_ECHO_VERDICTS];
};

static void echo_datagram(void *arg, uint8_t *buf, size_t len, const struct rp_udp_meta *meta)
{
    struct echo_port *p = arg;
    struct rp_echo *e = p->owner;
    const struct sockaddr *from = (const struct sockaddr *)&meta->from;
    enum rp_echo_verdict v = rp_echo_check(e->cfg, e->rate, buf, len, from, rp_monotonic_ns());
    e->counts[v]++;
    if (v == RP_ECHO_ANSWER)
        (void)rp_udp_send(p->fd, buf, len, from, meta->fromlen);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct echo_port *p = arg;
    (void)what;
    rp_udp_drain(fd, echo_datagram, NULL, p);
}

struct rp_echo *rp_echo_new(struct event_base *base, const struct rp_config *cfg)
{
    struct rp_echo *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->cfg = cfg;
    e->rate = rp_ratelimit_new(RATE_SOURCES, cfg->echo_rate, 2.0 * cfg->echo_rate);
    if (!e->rate) {
        free(e);
        return NULL;
    }
    for (unsigned i = 0; i < cfg->necho_ports; i++) {
        struct sockaddr_storage ss;
        socklen_t len;
        if (rp_addr_from_ip(cfg->media_bind, cfg->echo_ports[i], &ss, &len) < 0)
            continue;
        int fd = rp_udp_open((struct sockaddr *)&ss, len, RP_DSCP_EF);
        if (fd < 0) {
            rp_log_warn("echo port %u: %s; skipped", cfg->echo_ports[i], strerror(errno));
            continue;
        }
        struct echo_port *p = &e->ports[e->nports];
        p->owner = e;
        p->fd = fd;
        p->ev = event_new(base, fd, EV_READ | EV_PERSIST, on_readable, p);
        if (!p->ev || event_add(p->ev, NULL) < 0) {
            if (p->ev)
                event_free(p->ev);
            close(fd);
            continue;
        }
        e->nports++;
        if (cfg->necho_allow == 0)
            rp_log_warn("echo port %u open but echo.allow is empty: nothing will be echoed", cfg->echo_ports[i]);
    }
    return e;
}

void rp_echo_reload(struct rp_echo *e, const struct rp_config *cfg)
{
    if (!e)
        return;
    e->cfg = cfg;
    rp_ratelimit_set(e->rate, cfg->echo_rate, 2.0 * cfg->echo_rate);
}

void rp_echo_free(struct rp_echo *e)
{
    if (!e)
        return;
    for (unsigned i = 0; i < e->nports; i++) {
        event_free(e->ports[i].ev);
        close(e->ports[i].fd);
    }
    rp_ratelimit_free(e->rate);
    free(e);
}

uint64_t rp_echo_count(const struct rp_echo *e, enum rp_echo_verdict v)
{
    return (unsigned)v < RP_ECHO_VERDICTS ? e->counts[v] : 0;
}
