/* The stun.listen socket: reads Binding requests, answers per rp_stun_answer(). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "netaddr.h"
#include "stun.h"
#include "stunrate.h"
#include "stunsrv.h"
#include "timeutil.h"
#include "udp.h"


struct rp_stunsrv {
    int fd;
    struct event *ev;
    struct rp_ratelimit *rate; /* the daemon's, shared with the session ports */
    uint64_t counts[RP_STUN_VERDICTS];
};

static void stun_datagram(void *arg, uint8_t *buf, size_t len, const struct rp_udp_meta *meta)
{
    struct rp_stunsrv *s = arg;
    uint8_t resp[256];
    size_t rlen;
    const struct sockaddr *from = (const struct sockaddr *)&meta->from;
    enum rp_stun_verdict v = rp_stunrate_answer(s->rate, rp_monotonic_ns(), buf, len, from, resp, sizeof resp, &rlen);
    s->counts[v]++;
    if (v == RP_STUN_ANSWERED)
        (void)rp_udp_send(s->fd, resp, rlen, from, meta->fromlen);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    rp_udp_drain(fd, stun_datagram, NULL, arg);
}

struct rp_stunsrv *rp_stunsrv_new(struct event_base *base, const char *listen, struct rp_ratelimit *rate, char *err,
                                  size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t len;
    if (rp_addr_parse(listen, 0, &ss, &len) < 0) {
        snprintf(err, errlen, "stun.listen \"%s\" is not IP:port", listen);
        errno = EINVAL;
        return NULL;
    }
    int fd = rp_udp_open((struct sockaddr *)&ss, len, -1);
    if (fd < 0) {
        int saved = errno;
        snprintf(err, errlen, "stun.listen %s: %s", listen, strerror(errno));
        errno = saved;
        return NULL;
    }
    struct rp_stunsrv *s = calloc(1, sizeof *s);
    if (!s) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        errno = ENOMEM;
        return NULL;
    }
    s->fd = fd;
    s->rate = rate;
    s->ev = event_new(base, fd, EV_READ | EV_PERSIST, on_readable, s);
    if (!s->ev || event_add(s->ev, NULL) < 0) {
        snprintf(err, errlen, "stun.listen: cannot watch the socket");
        rp_stunsrv_free(s);
        errno = ENOMEM;
        return NULL;
    }
    return s;
}

void rp_stunsrv_free(struct rp_stunsrv *s)
{
    if (!s)
        return;
    if (s->ev)
        event_free(s->ev);
    close(s->fd);
    free(s);
}

uint64_t rp_stunsrv_count(const struct rp_stunsrv *s, enum rp_stun_verdict v)
{
    return (unsigned)v < RP_STUN_VERDICTS ? s->counts[v] : 0;
}
