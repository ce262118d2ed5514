/* NAT discovery for the probe. See include/natdisc.h. */
#include "natdisc.h"

#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

#include "netaddr.h"
#include "stun.h"
#include "timeutil.h"
#include "udp.h"

/* Binding requests every 100 ms, for at most this many rounds. */
#define STUN_ROUNDS 6
#define STUN_INTERVAL_MS 100
/* A third-party server is asked again only 500 ms after the first request
 * (RFC 8489 §6.2.1: RTO >= 500 ms). */
#define SERVER_RETRY_ROUND 5
/* Our requests are at least as large as any answer: servers that refuse to
 * amplify (rtpprobed) still answer them. */
#define STUN_REQUEST_LEN 64

struct query {
    const struct sockaddr *to;
    uint8_t txid[RP_STUN_TXID_LEN];
    bool answered;
    struct sockaddr_storage *mapped;
};

static bool due(int q, int round)
{
    return q == 0 || round == 0 || round == SERVER_RETRY_ROUND;
}

/* Sends this round's requests; false when nothing is left to ask. */
static bool send_round(int fd, struct query *q, int nq, int round)
{
    bool pending = false;
    for (int i = 0; i < nq; i++) {
        if (q[i].answered)
            continue;
        pending = true;
        if (!due(i, round))
            continue;
        uint8_t req[128];
        size_t n = rp_stun_build_request(req, sizeof req, q[i].txid, STUN_REQUEST_LEN);
        if (n)
            (void)rp_udp_send(fd, req, n, q[i].to, rp_addr_len(q[i].to));
    }
    return pending;
}

static void take_answer(struct query *q, int nq, const uint8_t *buf, size_t len, const struct rp_udp_meta *meta)
{
    struct rp_stun_msg msg;
    if (rp_stun_parse(buf, len, &msg) != RP_STUN_OK || msg.type != RP_STUN_BINDING_SUCCESS || !msg.has_mapped)
        return;
    for (int i = 0; i < nq; i++) {
        if (!q[i].answered && memcmp(msg.txid, q[i].txid, sizeof msg.txid) == 0 &&
            rp_addr_equal((const struct sockaddr *)&meta->from, q[i].to)) {
            q[i].answered = true;
            *q[i].mapped = msg.mapped;
        }
    }
}

static void collect_until(int fd, struct query *q, int nq, uint64_t until)
{
    for (;;) {
        uint64_t now = rp_monotonic_ns();
        if (now >= until)
            return;
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        if (poll(&pfd, 1, (int)((until - now) / NS_PER_MS) + 1) <= 0)
            continue;
        uint8_t buf[2048];
        struct rp_udp_meta meta;
        ssize_t n = rp_udp_recv(fd, buf, sizeof buf, &meta);
        if (n > 0)
            take_answer(q, nq, buf, (size_t)n, &meta);
    }
}

int rp_natdisc_run(int fd, const struct sockaddr *media_port, const struct sockaddr *server, struct rp_natdisc *out)
{
    memset(out, 0, sizeof *out);
    struct query q[2] = {
        { .to = media_port, .mapped = &out->media_mapped },
        { .to = server, .mapped = &out->server_mapped },
    };
    int nq = server ? 2 : 1;
    for (int i = 0; i < nq; i++)
        if (RAND_bytes(q[i].txid, sizeof q[i].txid) != 1)
            return -1;
    for (int round = 0; round < STUN_ROUNDS && send_round(fd, q, nq, round); round++)
        collect_until(fd, q, nq, rp_monotonic_ns() + STUN_INTERVAL_MS * NS_PER_MS);
    out->media_answered = q[0].answered;
    out->server_answered = nq == 2 && q[1].answered;
    return 0;
}

void rp_natdisc_announce(const char *mapped, const char *mapped_stun, const char *control_seen, const char *local,
                         char *out, size_t outlen)
{
    struct sockaddr_storage seen, ours;
    socklen_t sl, ol;
    if (mapped[0] || mapped_stun[0]) {
        snprintf(out, outlen, "%s", mapped[0] ? mapped : mapped_stun);
    } else if (rp_addr_parse(local, 0, &ours, &ol) == 0 &&
               /* a bare IP too: behind nginx the daemon knows the client from X-Forwarded-For */
               rp_addr_parse(control_seen, rp_addr_port((struct sockaddr *)&ours), &seen, &sl) == 0 &&
               rp_addr_set_port((struct sockaddr *)&seen, rp_addr_port((struct sockaddr *)&ours)) == 0) {
        rp_addr_format((struct sockaddr *)&seen, out, outlen);
    } else {
        snprintf(out, outlen, "%s", local);
    }
}
