/* --paths: direct UDP, TURN/UDP, TURN/TCP, TURN/TLS one after the other, each
 * a complete short probe run, then one table and one recommendation. */
#include "paths.h"
#include "timeutil.h"
#include "turn.h"

#include <stdio.h>
#include <string.h>

#define NPATHS 4

struct path_result {
    const char *label;
    char uri[300];          /* "" = direct */
    int rc;                 /* rp_probe_run */
    char err[512];
    struct rp_report rep;
    bool works;             /* media both ways */
    double mos;             /* the worse direction's */
    enum rp_verdict media;  /* the verdict on the media alone, without the port sample */
};

/* The four URIs from the relay named in --turn (its host; its port for the
 * scheme it gave, the default for the other). */
static void path_uris(const struct rp_turn_uri *u, struct path_result *p)
{
    char host[270];
    snprintf(host, sizeof host, strchr(u->host, ':') ? "[%s]" : "%s", u->host);
    unsigned plain = u->transport != RP_TURN_TLS ? u->port : 3478;
    unsigned tls = u->transport == RP_TURN_TLS ? u->port : 5349;
    p[0].label = "direct UDP";
    p[1].label = "TURN/UDP";
    p[2].label = "TURN/TCP";
    p[3].label = "TURN/TLS";
    snprintf(p[1].uri, sizeof p[1].uri, "turn:%s:%u?transport=udp", host, plain);
    snprintf(p[2].uri, sizeof p[2].uri, "turn:%s:%u?transport=tcp", host, plain);
    snprintf(p[3].uri, sizeof p[3].uri, "turns:%s:%u", host, tls);
}

static void run_one(const struct rp_probe_opts *base, struct path_result *p)
{
    struct rp_probe_opts o = *base;
    o.turn = p->uri[0] ? p->uri : NULL;
    o.start_ns = rp_monotonic_ns(); /* each path gets the whole -t */
    o.progress = false;
    p->rc = rp_probe_run(&o, &p->rep, p->err, sizeof p->err);
    const struct rp_dir_report *up = &p->rep.up, *down = &p->rep.down;
    p->works = p->rc == 0 && up->measured && down->measured && up->rx.received > 0 && down->rx.received > 0;
    p->mos = up->mos < down->mos ? up->mos : down->mos;
    /* The paths are ranked on their media: a relay reaches the same partly
     * forwarded range (the direct path alone runs the port sample). */
    struct rp_report media = p->rep;
    media.port_sample.state = RP_PORT_SAMPLE_NOT_RUN;
    rp_report_evaluate(&media, &base->thresholds);
    p->media = media.verdict;
}

/* The working path with the best verdict on its media (pass, warn, fail), the
 * simplest (direct first, TLS last) among equals: a warning TLS beats a
 * failing TCP. */
static int best_path(const struct path_result *p)
{
    static const enum rp_verdict order[] = { RP_VERDICT_PASS, RP_VERDICT_WARN, RP_VERDICT_FAIL };
    for (size_t v = 0; v < sizeof order / sizeof order[0]; v++)
        for (int i = 0; i < NPATHS; i++)
            if (p[i].works && p[i].media == order[v])
                return i;
    for (int i = 0; i < NPATHS; i++)
        if (p[i].works)
            return i;
    return -1;
}

static void print_table(const struct path_result *p, FILE *out)
{
    fprintf(out, "%-11s  %-7s  %-7s  %-9s  %-9s  %-8s  %s\n", "path", "verdict", "MOS", "loss up", "loss down",
            "RTT", "note");
    for (int i = 0; i < NPATHS; i++) {
        const struct rp_report *r = &p[i].rep;
        if (p[i].rc < 0) {
            fprintf(out, "%-11s  %-7s  %-7s  %-9s  %-9s  %-8s  %s\n", p[i].label, "error", "-", "-", "-", "-",
                    p[i].err);
            continue;
        }
        char mos[16] = "-", lu[16] = "-", ld[16] = "-", rtt[16] = "-", note[96] = "";
        if (p[i].works)
            snprintf(mos, sizeof mos, "%.2f", p[i].mos);
        if (r->up.measured)
            snprintf(lu, sizeof lu, "%.2f %%", r->up.rx.loss_pct);
        if (r->down.measured)
            snprintf(ld, sizeof ld, "%.2f %%", r->down.rx.loss_pct);
        if (r->has_rtt)
            snprintf(rtt, sizeof rtt, "%.1f ms", r->rtt_avg_ms);
        if (r->relay.has_added)
            snprintf(note, sizeof note, "relay adds %.1f ms%s", r->relay.added_ms,
                     r->relay.vs_direct ? "" : " (RTT; direct unknown)");
        if (!p[i].works || r->diagnosis == RP_DIAG_PARTIAL_PORT_RANGE)
            snprintf(note, sizeof note, "%s", rp_diagnosis_name(r->diagnosis));
        fprintf(out, "%-11s  %-7s  %-7s  %-9s  %-9s  %-8s  %s\n", p[i].label, rp_verdict_name(r->verdict), mos, lu,
                ld, rtt, note);
    }
}

static void recommend(const struct path_result *p, int best, FILE *out)
{
    if (best < 0) {
        fprintf(out, "no path carries media both ways: not direct UDP, and not through the TURN server "
                     "(see the errors above)\n");
        return;
    }
    if (best == 0 && p[0].rep.diagnosis == RP_DIAG_PARTIAL_PORT_RANGE) {
        fprintf(out, "direct UDP works on the test's port, MOS %.1f, but not on the whole media range "
                     "(partial-port-range): forward the range; a relay would reach the same range\n", p[0].mos);
        return;
    }
    if (best == 0) {
        fprintf(out, "direct UDP works, MOS %.1f: no relay needed\n", p[0].mos);
        return;
    }
    const char *port = strrchr(p[best].uri, ':');
    unsigned n = 0;
    if (port)
        sscanf(port + 1, "%u", &n);
    fprintf(out, "%s; %s on %u works, MOS %.1f: configure the client to use it\n",
            p[1].works ? "direct UDP to the media host does not work"
                       : "UDP is blocked by the agent's network",
            p[best].label, n, p[best].mos);
}

int rp_paths_run(const struct rp_probe_opts *base, FILE *out)
{
    struct rp_turn_uri u;
    char err[160];
    if (!base->turn || rp_turn_uri_parse(base->turn, &u, err, sizeof err) < 0) {
        fprintf(stderr, "rtpprobe: --paths needs --turn naming the TURN server\n");
        return RP_EXIT_UNKNOWN;
    }
    struct path_result p[NPATHS];
    memset(p, 0, sizeof p);
    path_uris(&u, p);
    for (int i = 0; i < NPATHS; i++)
        run_one(base, &p[i]);
    /* The relay's added delay against the direct path, when both have an RTT. */
    for (int i = 1; i < NPATHS && p[0].rc == 0 && p[0].rep.has_rtt; i++) {
        if (p[i].rc == 0 && p[i].rep.has_rtt) {
            p[i].rep.relay.has_added = true;
            p[i].rep.relay.vs_direct = true;
            p[i].rep.relay.added_ms = p[i].rep.rtt_avg_ms - p[0].rep.rtt_avg_ms;
        }
    }
    print_table(p, out);
    int best = best_path(p);
    recommend(p, best, out);
    int code = best < 0 ? RP_EXIT_UNKNOWN : rp_report_exit_code(&p[best].rep);
    for (int i = 0; i < NPATHS; i++)
        rp_report_release(&p[i].rep);
    return code;
}
