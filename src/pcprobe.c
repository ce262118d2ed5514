/* Port-range check, probe side (include/pcprobe.h, docs/port-check.md). One
 * unconnected UDP socket: the daemon binds none of the ports it observes, so
 * the kernel there answers ICMP port-unreachable to every probe packet; an
 * unconnected socket is not told of those (no ECONNREFUSED), and answers are
 * taken only when their tag verifies. */
#include "pcprobe.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>
#include <openssl/crypto.h>

#include "httpc.h"
#include "netaddr.h"
#include "portcheck.h"
#include "report.h"
#include "timeutil.h"
#include "wire.h"

#define PCP_DRAIN_MS 1000 /* answers still on their way after the last packet */
/* Kept for the DELETE that ends a check and reads its result. */
#define PCP_DELETE_RESERVE_NS (1000 * NS_PER_MS)
/* The sample's blocked runs checked again, at most this many: a real block
 * repeats, random loss does not. */
#define PCP_RECHECK_RUNS 2

struct pcp {
    struct rp_httpc *http;
    char path[64];                    /* /v1/portchecks/ID */
    uint8_t id[RP_PC_ID_LEN], key[RP_PC_KEY_LEN];
    bool full;
    unsigned lo, hi, per_port, rate, nports, nbusy;
    uint16_t ports[RP_PC_MAX_PORTS], busy[RP_PC_MAX_PORTS];
    bool seen[RP_PC_MAX_PORTS], answered[RP_PC_MAX_PORTS];
    enum rp_pc_status status[RP_PC_MAX_PORTS];
    struct sockaddr_storage host;
    unsigned sent, answers;
    char err[512];
};

/* A JSON array of ports (ascending, 1..65535) into out. -1 if malformed. */
static int port_list(json_t *a, uint16_t *out, unsigned cap, unsigned *n)
{
    size_t i;
    json_t *v;
    *n = 0;
    if (!json_is_array(a) || json_array_size(a) > cap)
        return -1;
    json_array_foreach(a, i, v) {
        json_int_t p = json_integer_value(v);
        if (!json_is_integer(v) || p < 1 || p > 65535 || (*n && p <= out[*n - 1]))
            return -1;
        out[(*n)++] = (uint16_t)p;
    }
    return 0;
}

static int index_of(const struct pcp *c, unsigned port)
{
    for (unsigned a = 0, b = c->nports; a < b;) {
        unsigned m = (a + b) / 2;
        if (c->ports[m] == port)
            return (int)m;
        if (c->ports[m] < port)
            a = m + 1;
        else
            b = m;
    }
    return -1;
}

static const char *error_text(json_t *resp)
{
    const char *e = json_string_value(json_object_get(resp, "error"));
    return e ? e : "no error text";
}

/* POST /v1/portchecks and the daemon's plan. 0, or -1 with c->err. */
static int create(struct pcp *c, const struct rp_pcp_opts *pc)
{
    json_t *req = json_pack("{s:s}", "mode", pc->full ? "full" : "sample"), *resp = NULL;
    int status = 0, rc = -1;
    if (req && pc->range)
        json_object_set_new(req, "range", json_string(pc->range));
    if (rp_httpc_request(c->http, "POST", "/v1/portchecks", req, &status, &resp, c->err, sizeof c->err) < 0)
        goto out;
    if (status != 201) {
        snprintf(c->err, sizeof c->err, "the daemon refused the port check (HTTP %d): %s", status, error_text(resp));
        goto out;
    }
    const char *id = json_string_value(json_object_get(resp, "id"));
    json_int_t ppp = json_integer_value(json_object_get(resp, "packets_per_port"));
    json_int_t rate = json_integer_value(json_object_get(resp, "rate_pps"));
    json_t *range = json_object_get(resp, "range");
    c->lo = (unsigned)json_integer_value(json_object_get(range, "from"));
    c->hi = (unsigned)json_integer_value(json_object_get(range, "to"));
    if (rp_hex_decode(id, c->id, sizeof c->id) < 0 ||
        rp_hex_decode(json_string_value(json_object_get(resp, "key")), c->key, sizeof c->key) < 0 ||
        port_list(json_object_get(resp, "ports"), c->ports, RP_PC_MAX_PORTS, &c->nports) < 0 || !c->nports ||
        port_list(json_object_get(resp, "in_use"), c->busy, RP_PC_MAX_PORTS, &c->nbusy) < 0 || ppp < 1 ||
        ppp > 10 || rate < 1 || c->lo < 1 || c->hi > 65535 || c->lo > c->hi) {
        snprintf(c->err, sizeof c->err, "the daemon's port check answer is malformed");
        goto out;
    }
    /* The daemon's plan is not trusted further than the request: ports
     * within its range, a sample no bigger than a sample. */
    bool inside = c->ports[0] >= c->lo && c->ports[c->nports - 1] <= c->hi;
    if (!inside || (!pc->full && c->nports > RP_PC_SAMPLE_INNER + 2)) {
        snprintf(c->err, sizeof c->err, "the daemon's port check plan is not what was asked for");
        goto out;
    }
    c->per_port = (unsigned)ppp;
    c->rate = rate < RP_PC_RATE_PPS ? (unsigned)rate : RP_PC_RATE_PPS; /* never faster than ours */
    snprintf(c->path, sizeof c->path, "/v1/portchecks/%s", id);
    rc = 0;
out:
    json_decref(req);
    json_decref(resp);
    return rc;
}

/* Answers waiting on fd: each counts once its tag, check and source verify. */
static void take_answers(struct pcp *c, int fd)
{
    uint8_t buf[256];
    struct sockaddr_in from;
    for (;;) {
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return; /* EAGAIN; an ICMP error is not reported on an unconnected socket */
        struct rp_pc_pkt p;
        const struct sockaddr_in *h = (const struct sockaddr_in *)&c->host;
        if (from.sin_addr.s_addr != h->sin_addr.s_addr || rp_pc_decode(buf, (size_t)n, c->key, &p) < 0 ||
            p.type != RP_PC_ANSWER || memcmp(p.id, c->id, sizeof c->id) != 0 || p.port != ntohs(from.sin_port))
            continue;
        int i = index_of(c, p.port);
        if (i >= 0) {
            c->answers++;
            c->answered[i] = true;
        }
    }
}

/* Waits until the monotonic instant `until`, taking answers meanwhile. */
static void wait_until(struct pcp *c, int fd, uint64_t until)
{
    for (uint64_t now; (now = rp_monotonic_ns()) < until;) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int ms = (int)((until - now + 999999) / 1000000);
        if (poll(&pfd, 1, ms) > 0)
            take_answers(c, fd);
    }
    take_answers(c, fd);
}

/* The tagged packets, round-robin over the ports (a port's repeats spread in
 * time), at c->rate at most. 0, or -1 with c->err. */
static int send_all(struct pcp *c)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(c->err, sizeof c->err, "cannot open a UDP socket: %s", strerror(errno));
        return -1;
    }
    struct sockaddr_in to = *(const struct sockaddr_in *)&c->host;
    uint64_t t0 = rp_monotonic_ns(), step = NS_PER_S / c->rate;
    unsigned npkts = c->nports * c->per_port;
    for (unsigned seq = 0; seq < npkts; seq++) {
        struct rp_pc_pkt p = { .type = RP_PC_PROBE, .seq = seq, .port = c->ports[seq % c->nports] };
        uint8_t buf[RP_PC_PKT_LEN];
        memcpy(p.id, c->id, sizeof p.id);
        wait_until(c, fd, t0 + (uint64_t)seq * step);
        if (rp_pc_encode(&p, c->key, buf, sizeof buf) == 0)
            continue;
        to.sin_port = htons(p.port);
        /* ECONNREFUSED cannot come on an unconnected socket; any other error
         * (a full queue) counts the packet as not sent. */
        if (sendto(fd, buf, sizeof buf, 0, (struct sockaddr *)&to, sizeof to) == (ssize_t)sizeof buf)
            c->sent++;
    }
    wait_until(c, fd, rp_monotonic_ns() + (uint64_t)PCP_DRAIN_MS * 1000000u);
    close(fd);
    return 0;
}

/* DELETE ends the check and gives the ports the daemon saw. 0, or -1. */
static int finish(struct pcp *c)
{
    json_t *resp = NULL;
    int status = 0, rc = -1;
    if (rp_httpc_request(c->http, "DELETE", c->path, NULL, &status, &resp, c->err, sizeof c->err) < 0)
        return -1;
    uint16_t seen[RP_PC_MAX_PORTS];
    unsigned nseen = 0;
    if (status != 200)
        snprintf(c->err, sizeof c->err, "the daemon did not give the check's result (HTTP %d): %s", status,
                 error_text(resp));
    else if (port_list(json_object_get(resp, "seen"), seen, RP_PC_MAX_PORTS, &nseen) < 0)
        snprintf(c->err, sizeof c->err, "the daemon's port check result is malformed");
    else
        rc = 0;
    for (unsigned i = 0; rc == 0 && i < nseen; i++) {
        int k = index_of(c, seen[i]);
        if (k >= 0)
            c->seen[k] = true;
    }
    json_decref(resp);
    return rc;
}

static unsigned ranges_of(const struct pcp *c, struct rp_pc_range *r, unsigned cap)
{
    return rp_pc_merge(c->ports, c->status, c->nports, c->full, c->hi, r, cap);
}

static void print_text(const struct pcp *c, FILE *out)
{
    static struct rp_pc_range r[RP_PC_MAX_PORTS];
    unsigned n = ranges_of(c, r, RP_PC_MAX_PORTS);
    char host[RP_ADDRSTRLEN];
    rp_addr_format_ip((const struct sockaddr *)&c->host, host, sizeof host);
    fprintf(out, "Port check: %s, UDP %u-%u, %s: %u port(s) tried, %u packet(s) sent, %u answer(s)\n", host, c->lo,
            c->hi, c->full ? "every even port" : "sample", c->nports, c->sent, c->answers);
    for (unsigned i = 0; i < n; i++)
        fprintf(out, "  %5u-%-5u  %s\n", r[i].from, r[i].to, rp_pc_status_text(r[i].status));
    if (c->nbusy) {
        fprintf(out, "  in use on the host (not tried, left alone):");
        for (unsigned i = 0; i < c->nbusy && i < 20; i++)
            fprintf(out, " %u", c->busy[i]);
        fprintf(out, "%s\n", c->nbusy > 20 ? " ..." : "");
    }
    bool all = n == 1 && r[0].status == RP_PC_BOTH;
    fprintf(out, "%s\n", all ? "Verdict: every port tried is reachable both ways"
                             : "Verdict: partial-port-range: forward (and allow back) all of the media range's UDP "
                               "ports to the media host");
}

static int print_json(const struct pcp *c, FILE *out)
{
    static struct rp_pc_range r[RP_PC_MAX_PORTS];
    unsigned n = ranges_of(c, r, RP_PC_MAX_PORTS);
    char host[RP_ADDRSTRLEN];
    rp_addr_format_ip((const struct sockaddr *)&c->host, host, sizeof host);
    json_t *ranges = json_array(), *ports = json_array(), *busy = json_array();
    for (unsigned i = 0; ranges && i < n; i++)
        json_array_append_new(ranges, json_pack("{s:i, s:i, s:s}", "from", (int)r[i].from, "to", (int)r[i].to,
                                                "status", rp_pc_status_name(r[i].status)));
    for (unsigned i = 0; ports && i < c->nports; i++)
        json_array_append_new(ports, json_pack("{s:i, s:b, s:b, s:s}", "port", (int)c->ports[i], "seen",
                                               c->seen[i], "answered", c->answered[i], "status",
                                               rp_pc_status_name(c->status[i])));
    for (unsigned i = 0; busy && i < c->nbusy; i++)
        json_array_append_new(busy, json_integer(c->busy[i]));
    bool all = n == 1 && r[0].status == RP_PC_BOTH;
    json_t *doc = json_pack("{s:i, s:s, s:s, s:{s:i, s:i}, s:i, s:i, s:s, s:o, s:o, s:o}", "schema_version", 1,
                            "host", host, "mode", c->full ? "full" : "sample", "range", "from", (int)c->lo, "to",
                            (int)c->hi, "packets_sent", (int)c->sent, "answers", (int)c->answers, "verdict",
                            all ? "pass" : "fail", "ranges", ranges, "ports", ports, "in_use", busy);
    int rc = doc && json_dumpf(doc, out, JSON_INDENT(2)) == 0 ? 0 : -1;
    fputc('\n', out);
    json_decref(doc);
    return rc;
}

/* The plan's packets and the last answers must fit before the deadline,
 * with time left for the DELETE. 0, or -1 with c->err. */
static int fits_in_time(struct pcp *c)
{
    uint64_t plan = (uint64_t)c->nports * c->per_port * NS_PER_S / c->rate + (uint64_t)PCP_DRAIN_MS * NS_PER_MS;
    uint64_t left = rp_httpc_time_left(c->http);
    if (left == UINT64_MAX || plan + PCP_DELETE_RESERVE_NS <= left)
        return 0;
    snprintf(c->err, sizeof c->err, "the check takes %.1f s, more than is left of -t (%.1f s)",
             (double)plan / NS_PER_S, (double)left / NS_PER_S);
    return -1;
}

/* Create, send, collect: the check on c->http. 0, or -1 with c->err. */
static int check_on(struct pcp *c, const struct rp_pcp_opts *pc)
{
    if (create(c, pc) < 0)
        return -1;
    int rc = fits_in_time(c);
    if (rc == 0)
        rc = rp_httpc_media_host(c->http, &c->host, c->err, sizeof c->err);
    if (rc == 0 && c->host.ss_family != AF_INET) {
        snprintf(c->err, sizeof c->err, "the port check is IPv4 only; the daemon's address is IPv6");
        rc = -1;
    }
    if (rc == 0)
        rc = send_all(c);
    if (rc == 0 && finish(c) == 0) {
        for (unsigned i = 0; i < c->nports; i++)
            c->status[i] = rp_pc_status_of(c->seen[i], c->answered[i]);
        return 0;
    }
    if (rc == 0)
        return -1;
    char keep[sizeof c->err];
    snprintf(keep, sizeof keep, "%s", c->err);
    (void)finish(c); /* ends the daemon's check early; the first error is the one told */
    snprintf(c->err, sizeof c->err, "%s", keep);
    return -1;
}

static int run_check(struct pcp *c, const struct rp_probe_opts *o, const struct rp_pcp_opts *pc)
{
    struct rp_httpc_opts ho = { .token = o->token, .cacert = o->cacert, .proxy = o->proxy,
                                .insecure = o->insecure, .verbose = o->verbose };
    c->http = rp_httpc_new(o->server, &ho, c->err, sizeof c->err);
    if (!c->http)
        return -1;
    rp_httpc_set_deadline(c->http, o->start_ns + (uint64_t)o->timeout_s * NS_PER_S);
    return check_on(c, pc);
}

static bool all_both(const struct pcp *c)
{
    for (unsigned i = 0; i < c->nports; i++)
        if (c->status[i] != RP_PC_BOTH)
            return false;
    return true;
}

int rp_pcp_run(const struct rp_probe_opts *o, const struct rp_pcp_opts *pc, FILE *out)
{
    struct pcp *c = calloc(1, sizeof *c);
    if (!c) {
        fprintf(stderr, "rtpprobe: out of memory\n");
        return RP_EXIT_UNKNOWN;
    }
    c->full = pc->full;
    int code = RP_EXIT_UNKNOWN;
    if (run_check(c, o, pc) == 0) {
        code = (pc->json ? print_json(c, out) : (print_text(c, out), 0)) < 0 ? RP_EXIT_UNKNOWN
               : all_both(c)                                               ? RP_EXIT_OK
                                                                           : RP_EXIT_CRIT;
    } else {
        rp_httpc_clean_text(c->err, strlen(c->err));
        fprintf(stderr, "rtpprobe: port check: %s\n", c->err);
    }
    rp_httpc_free(c->http);
    OPENSSL_cleanse(c->key, sizeof c->key);
    free(c);
    return code;
}

/* The check's outcome as the report keeps it: counts and the merged runs. */
static void keep_sample(const struct pcp *c, struct rp_port_sample *out)
{
    struct rp_pc_range r[RP_REPORT_MAX_PORT_RANGES + 1];
    unsigned n = ranges_of(c, r, RP_REPORT_MAX_PORT_RANGES + 1);
    *out = (struct rp_port_sample){ .state = RP_PORT_SAMPLE_DONE, .from = c->lo, .to = c->hi, .tried = c->nports };
    for (unsigned i = 0; i < c->nports; i++) {
        out->blocked += c->status[i] != RP_PC_BOTH;
        out->upstream_blocked |= c->status[i] == RP_PC_UP_BLOCKED;
    }
    out->truncated = n > RP_REPORT_MAX_PORT_RANGES;
    out->nranges = out->truncated ? RP_REPORT_MAX_PORT_RANGES : n;
    memcpy(out->ranges, r, out->nranges * sizeof r[0]);
}

/* Checks the run from..to again (a sample of it). 1 if some port of it is
 * still blocked, 0 if none is (the first round met loss, not a block), -1
 * with err (no time left, the daemon refused). */
static int still_blocked(struct rp_httpc *http, unsigned from, unsigned to, char *err, size_t errlen)
{
    struct pcp *c = calloc(1, sizeof *c);
    char range[16];
    snprintf(range, sizeof range, "%u-%u", from, to);
    const struct rp_pcp_opts part = { .range = range, .full = false };
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    c->http = http;
    int rc = check_on(c, &part) < 0 ? -1 : !all_both(c);
    if (rc >= 0 && (c->lo < from || c->hi > to)) {
        snprintf(c->err, sizeof c->err, "the daemon checked %u-%u, not %u-%u", c->lo, c->hi, from, to);
        rc = -1;
    }
    if (rc < 0)
        snprintf(err, errlen, "%s", c->err);
    OPENSSL_cleanse(c->key, sizeof c->key);
    free(c);
    return rc;
}

/* Every blocked run of the first round checked again (PCP_RECHECK_RUNS at
 * most: more, and the first round stands); one that is not blocked the
 * second time was loss, and its ports count as reachable. A second look that
 * could not be had (no time left within -t, the daemon busy) leaves the
 * first round's word. */
static void confirm_blocked(struct pcp *c)
{
    struct rp_pc_range r[RP_PC_SAMPLE_INNER + 2]; /* a run per port at most */
    unsigned n = ranges_of(c, r, RP_PC_SAMPLE_INNER + 2), blocked_runs = 0;
    for (unsigned i = 0; i < n; i++)
        blocked_runs += r[i].status != RP_PC_BOTH;
    for (unsigned i = 0; i < n && blocked_runs <= PCP_RECHECK_RUNS; i++) {
        if (r[i].status == RP_PC_BOTH)
            continue;
        char why[sizeof c->err];
        int still = still_blocked(c->http, r[i].from, r[i].to, why, sizeof why);
        if (still < 0) {
            rp_httpc_clean_text(why, strlen(why)); /* may quote the daemon */
            fprintf(stderr, "rtpprobe: port sample: %u-%u not checked again: %s\n", r[i].from, r[i].to, why);
        }
        for (unsigned k = 0; still == 0 && k < c->nports; k++)
            if (c->ports[k] >= r[i].from && c->ports[k] <= r[i].to)
                c->status[k] = RP_PC_BOTH;
    }
}

int rp_pcp_sample(struct rp_httpc *http, struct rp_port_sample *out, char *err, size_t errlen)
{
    struct pcp *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    c->http = http;
    const struct rp_pcp_opts whole = { .range = NULL, .full = false };
    int rc = check_on(c, &whole);
    if (rc < 0)
        snprintf(err, errlen, "%s", c->err);
    else if (!all_both(c))
        confirm_blocked(c);
    if (rc == 0)
        keep_sample(c, out);
    OPENSSL_cleanse(c->key, sizeof c->key);
    free(c);
    return rc;
}
