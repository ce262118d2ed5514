/* The probe's figures for node_exporter's textfile collector (Prometheus text
 * exposition format 0.0.4), and the atomic replace of the file. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agents.h"
#include "filereplace.h"
#include "httpc.h"
#include "textfile.h"

/* ---- formatting ----------------------------------------------------------- */

/* The label values every sample carries, escaped once. */
struct ctx {
    const struct rp_report     *r;
    const struct rp_textfile_run *run;
    char agent[2 * RP_AGENT_NAME_MAX + 1];
    char server[2 * sizeof ((struct rp_report *)0)->server + 1];
    char codec[2 * sizeof ((struct rp_report *)0)->codec + 1];
    char transport[2 * sizeof ((struct rp_report *)0)->transport + 1];
};

size_t rp_textfile_escape(const char *s, char *out, size_t outlen)
{
    size_t n = 0;
    if (outlen == 0)
        return 0;
    for (; *s; s++) {
        const char *rep = *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" : *s == '\n' ? "\\n" : NULL;
        size_t k = rep ? 2 : 1;
        if (n + k >= outlen)
            break;
        if (rep)
            memcpy(out + n, rep, 2);
        else
            out[n] = *s;
        n += k;
    }
    out[n] = '\0';
    return n;
}

/* The precision of the --json report (report.c), so that the file, the JSON
 * and what --push sends agree to the digit. */
static double round_to(double v, unsigned decimals)
{
    double f = pow(10, decimals);
    return round(v * f) / f;
}

/* Stream-derived figures mean nothing without a packet (as in the JSON report). */
static bool got_packets(const struct rp_dir_report *d)
{
    return d->measured && d->rx.received > 0;
}

static bool v_mos(const struct ctx *c, const struct rp_dir_report *d, double *v)
{
    (void)c;
    *v = round_to(d->mos, 2);
    return got_packets(d);
}

static bool v_loss(const struct ctx *c, const struct rp_dir_report *d, double *v)
{
    (void)c;
    *v = round_to(d->rx.loss_pct, 3) / 100.0;
    return d->measured;
}

/* The mean of RFC 3550's J over the stream: what the daemon's histograms and
 * Wireshark call mean jitter; the final J is one packet's luck. */
static bool v_jitter(const struct ctx *c, const struct rp_dir_report *d, double *v)
{
    (void)c;
    *v = round_to(d->rx.jitter_mean_ms, 3) / 1000.0;
    return got_packets(d);
}

static bool v_rise(const struct ctx *c, const struct rp_dir_report *d, double *v)
{
    (void)c;
    *v = round_to(d->rx.delay_rise_ms, 3) / 1000.0;
    return got_packets(d);
}

/* The sender's own count is known even when the receiver's figures are not. */
static bool v_sent(const struct ctx *c, const struct rp_dir_report *d, double *v)
{
    (void)c;
    *v = (double)d->sent;
    return d->measured || d->sent > 0;
}

static bool v_lost(const struct ctx *c, const struct rp_dir_report *d, double *v)
{
    (void)c;
    *v = (double)d->rx.lost;
    return d->measured;
}

static bool v_rtt(const struct ctx *c, const struct rp_dir_report *d, double *v)
{
    (void)d;
    *v = round_to(c->r->rtt_avg_ms, 3) / 1000.0;
    return c->r->has_rtt;
}

/* The Nagios exit codes, as everywhere else (0 pass .. 3 unknown). */
static bool v_verdict(const struct ctx *c, const struct rp_dir_report *d, double *v)
{
    (void)d;
    *v = rp_report_exit_code(c->r);
    return true;
}

static bool v_time(const struct ctx *c, const struct rp_dir_report *d, double *v)
{
    (void)d;
    *v = c->run->timestamp_s;
    return true;
}

static bool v_duration(const struct ctx *c, const struct rp_dir_report *d, double *v)
{
    (void)d;
    *v = c->run->duration_s;
    return c->run->duration_s >= 0;
}

struct family {
    const char *name;
    const char *help;
    bool        per_direction;
    bool      (*value)(const struct ctx *c, const struct rp_dir_report *d, double *v);
};

/* Gauges only: each file holds one run, not a running total. */
static const struct family families[] = {
    { "rtpprobe_mos", "MOS (1-5) of the last run, ITU-T G.107 E-model, per direction.", true, v_mos },
    { "rtpprobe_loss_ratio", "Packets lost / packets expected in the last run (0-1), per direction.", true, v_loss },
    { "rtpprobe_jitter_seconds", "Mean RFC 3550 interarrival jitter of the last run, per direction.", true, v_jitter },
    { "rtpprobe_delay_rise_seconds", "How far the one-way delay floor rose during the last run (a queue building "
      "up), per direction.", true, v_rise },
    { "rtpprobe_packets_sent", "RTP packets sent in the last run, per direction.", true, v_sent },
    { "rtpprobe_packets_lost", "RTP packets lost in the last run, per direction.", true, v_lost },
    { "rtpprobe_rtt_seconds", "Mean round-trip time of the last run.", false, v_rtt },
    { "rtpprobe_verdict", "Verdict of the last run: 0 pass, 1 warn, 2 fail, 3 unknown.", false, v_verdict },
    { "rtpprobe_last_run_timestamp_seconds", "Unix time the last run ended.", false, v_time },
    { "rtpprobe_run_duration_seconds", "Wall time of the last run, control exchange included.", false,
      v_duration },
};

/* 15 significant digits: the figures as rounded (4.3e-05, not 4.3000000000000002e-05);
 * integers exact to 10^15, times to 10 us. */
static void fmt_value(double v, char *buf, size_t len)
{
    snprintf(buf, len, "%.15g", v);
}

static int sample(FILE *out, const struct ctx *c, const char *name, const char *direction, double v)
{
    char num[32];
    fmt_value(v, num, sizeof num);
    return fprintf(out, "%s{agent=\"%s\",server=\"%s\",codec=\"%s\",transport=\"%s\"%s%s%s} %s\n", name, c->agent,
                   c->server, c->codec, c->transport, direction ? ",direction=\"" : "", direction ? direction : "",
                   direction ? "\"" : "", num) < 0 ? -1 : 0;
}

/* One family: HELP and TYPE only when it has a sample (a family without one
 * tells nothing). Non-finite values are left out as unmeasured. */
static int family(FILE *out, const struct ctx *c, const struct family *f)
{
    static const char *const dir_names[2] = { "upstream", "downstream" };
    const struct rp_dir_report *dirs[2] = { &c->r->up, &c->r->down };
    double v[2];
    bool have[2] = { false, false };
    size_t n = f->per_direction ? 2 : 1;
    for (size_t i = 0; i < n; i++)
        have[i] = f->value(c, f->per_direction ? dirs[i] : NULL, &v[i]) && isfinite(v[i]);
    if (!have[0] && !have[1])
        return 0;
    if (fprintf(out, "# HELP %s %s\n# TYPE %s gauge\n", f->name, f->help, f->name) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (have[i] && sample(out, c, f->name, f->per_direction ? dir_names[i] : NULL, v[i]) < 0)
            return -1;
    return 0;
}

int rp_textfile_format(const struct rp_report *r, const struct rp_textfile_run *run, FILE *out)
{
    struct ctx c = { .r = r, .run = run };
    char server[sizeof r->server];
    /* No user:password@ of the URL in a world-readable file. */
    rp_httpc_strip_userinfo(r->server, server, sizeof server);
    rp_textfile_escape(run->agent ? run->agent : "", c.agent, sizeof c.agent);
    rp_textfile_escape(server, c.server, sizeof c.server);
    rp_textfile_escape(r->codec, c.codec, sizeof c.codec);
    rp_textfile_escape(r->transport, c.transport, sizeof c.transport);
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
        if (family(out, &c, &families[i]) < 0)
            return -1;
    return fflush(out) == EOF ? -1 : 0;
}

int rp_textfile_write(const struct rp_report *r, const struct rp_textfile_run *run, const char *path, char *err,
                      size_t errlen)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    int rc = rp_textfile_format(r, run, mem);
    if (fclose(mem) != 0 || rc < 0) {
        snprintf(err, errlen, "%s: out of memory", path);
        free(buf);
        return -1;
    }
    rc = rp_file_replace(path, buf, len, err, errlen);
    free(buf);
    return rc;
}
