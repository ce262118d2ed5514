/* The probe's report: scores, a verdict and a diagnosis from what each side saw,
 * and three renderings of it (human table, JSON per docs/report.schema.json, Nagios). */
#include "report.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "codec.h"
#include "emodel.h"
#include "netaddr.h"

const char *rp_verdict_name(enum rp_verdict v)
{
    switch (v) {
    case RP_VERDICT_PASS: return "pass";
    case RP_VERDICT_WARN: return "warn";
    case RP_VERDICT_FAIL: return "fail";
    case RP_VERDICT_UNKNOWN: break;
    }
    return "unknown";
}

const char *rp_diagnosis_name(enum rp_diagnosis d)
{
    switch (d) {
    case RP_DIAG_TWO_WAY: return "two-way";
    case RP_DIAG_ONE_WAY_UPSTREAM_BLOCKED: return "one-way-upstream-blocked";
    case RP_DIAG_ONE_WAY_DOWNSTREAM_BLOCKED: return "one-way-downstream-blocked";
    case RP_DIAG_NO_MEDIA: return "no-media";
    case RP_DIAG_DEGRADED: return "degraded";
    case RP_DIAG_SYMMETRIC_NAT: return "symmetric-nat";
    case RP_DIAG_BUFFERBLOAT: return "bufferbloat";
    case RP_DIAG_PARTIAL_PORT_RANGE: return "partial-port-range";
    }
    return "unknown";
}

int rp_report_exit_code(const struct rp_report *r)
{
    switch (r->verdict) {
    case RP_VERDICT_PASS: return RP_EXIT_OK;
    case RP_VERDICT_WARN: return RP_EXIT_WARN;
    case RP_VERDICT_FAIL: return RP_EXIT_CRIT;
    case RP_VERDICT_UNKNOWN: break;
    }
    return RP_EXIT_UNKNOWN;
}

/* ---- number formatting -------------------------------------------------- */

/* Fixed-point text without printf's %f, so a probe that called setlocale()
 * still writes '.' decimals (perfdata and scripts parse them). trim drops
 * trailing zeros ("3.20" -> "3.2", "12.000" -> "12"). */
static void fmt_fixed(char *buf, size_t size, double v, unsigned decimals, int trim)
{
    if (!isfinite(v)) {
        snprintf(buf, size, "%s", "n/a");
        return;
    }
    long long scale = 1;
    for (unsigned i = 0; i < decimals; i++)
        scale *= 10;
    if (fabs(v) * (double)scale >= 9e18) { /* beyond long long: no report figure gets here */
        snprintf(buf, size, "%.0e", v);
        return;
    }
    long long scaled = llround(v * (double)scale);
    const char *sign = scaled < 0 ? "-" : "";
    unsigned long long mag = scaled < 0 ? 0ULL - (unsigned long long)scaled : (unsigned long long)scaled;
    unsigned long long ipart = mag / (unsigned long long)scale;
    unsigned long long fpart = mag % (unsigned long long)scale;
    if (decimals == 0) {
        snprintf(buf, size, "%s%llu", sign, ipart);
        return;
    }
    unsigned shown = decimals;
    if (trim) {
        while (shown > 0 && fpart % 10 == 0) {
            fpart /= 10;
            shown--;
        }
    }
    if (shown == 0)
        snprintf(buf, size, "%s%llu", sign, ipart);
    else
        snprintf(buf, size, "%s%llu.%0*llu", sign, ipart, (int)shown, fpart);
}

/* A short-lived formatted number, for building one line. */
struct num { char s[40]; };

static struct num num_fixed(double v, unsigned decimals)
{
    struct num n;
    fmt_fixed(n.s, sizeof n.s, v, decimals, 0);
    return n;
}

static struct num num_trim(double v, unsigned decimals)
{
    struct num n;
    fmt_fixed(n.s, sizeof n.s, v, decimals, 1);
    return n;
}

/* ---- appending text -------------------------------------------------------- */

/* After truncation: drop a multi-byte character cut in half, so that the text
 * stays valid UTF-8 (jansson refuses anything else). */
static void utf8_cut_partial(char *s)
{
    size_t len = strlen(s), i = len;
    while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--;
    if (i == 0 || ((unsigned char)s[i - 1] & 0x80) == 0)
        return; /* ends in ASCII */
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3 : (lead & 0xF8) == 0xF0 ? 4 : 1;
    if (len - (i - 1) < need)
        s[i - 1] = '\0';
}

/* Appends to a fixed buffer; a cut-off line is better than none. */
static void append(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t size, const char *fmt, ...)
{
    size_t used = strnlen(buf, size);
    if (used + 1 >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + used, size - used, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n >= size - used)
        utf8_cut_partial(buf);
}

/* ---- evaluation: the findings ------------------------------------------- */

/* In order of priority when two findings are equally severe: loss and jitter
 * are causes, RTT is the path, MOS is the consequence of all of them. */
enum metric { METRIC_LOSS = 0, METRIC_JITTER, METRIC_RTT, METRIC_MOS };

enum side { SIDE_UP = 0, SIDE_DOWN, SIDE_PATH };

struct finding {
    enum rp_verdict level;
    enum metric metric;
    enum side side;
    double value;      /* as the perfdata prints it */
    const struct rp_range *range;  /* the range that alerted */
    double excess;     /* how far beyond it, relative: to order equal findings */
};

struct findings {
    struct finding f[8];
    unsigned n;
};

/* The decimals each figure has in the Nagios perfdata. */
static const unsigned perf_decimals[] = { [METRIC_LOSS] = 3, [METRIC_JITTER] = 3, [METRIC_RTT] = 3,
                                          [METRIC_MOS] = 2 };

/* v rounded as fmt_fixed() prints it: the verdict judges the figure a perfdata
 * reader sees, so that both always agree (MOS 3.996 prints 4.00: not below 4:). */
static double as_printed(double v, unsigned decimals)
{
    double scale = 1;
    for (unsigned i = 0; i < decimals; i++)
        scale *= 10;
    if (!isfinite(v) || fabs(v) * scale >= 9e18)
        return v;
    return (double)llround(v * scale) / scale;
}

/* How far v is beyond the range it alerted on, relative: orders findings of
 * the same level and metric. */
static double excess_of(const struct rp_range *r, double v)
{
    if (r->inside)
        return 1.0;
    if (v > r->end)
        return r->end > 0 ? v / r->end : v;
    return v > 0 ? r->start / v : r->start;
}

/* The figure against the metric's critical, then warning range. */
static void check(struct findings *fs, enum metric m, enum side side, double raw, const struct rp_thresholds *t)
{
    static const enum rp_thr_metric which[] = { [METRIC_LOSS] = RP_THR_LOSS, [METRIC_JITTER] = RP_THR_JITTER,
                                                [METRIC_RTT] = RP_THR_RTT, [METRIC_MOS] = RP_THR_MOS };
    double value = as_printed(raw, perf_decimals[m]);
    const struct rp_range *crit = &t->crit[which[m]], *warn = &t->warn[which[m]];
    const struct rp_range *hit = rp_range_alerts(crit, value) ? crit : rp_range_alerts(warn, value) ? warn : NULL;
    if (!hit || fs->n >= sizeof fs->f / sizeof fs->f[0])
        return;
    fs->f[fs->n++] = (struct finding){ hit == crit ? RP_VERDICT_FAIL : RP_VERDICT_WARN, m, side, value, hit,
                                       excess_of(hit, value) };
}

static bool dir_received(const struct rp_dir_report *d)
{
    return d->measured && d->rx.received > 0;
}

static void check_dir(struct findings *fs, const struct rp_dir_report *d, enum side side,
                      const struct rp_thresholds *t)
{
    if (!dir_received(d))
        return;
    check(fs, METRIC_LOSS, side, d->rx.loss_pct, t);
    /* The mean of J: the final J averages only the last ~16 packets and swings
     * by +-20 % from run to run on the same path. */
    check(fs, METRIC_JITTER, side, d->rx.jitter_mean_ms, t);
    /* The E-model never yields a MOS below 1: 0 means the caller computed none. */
    if (d->mos > 0)
        check(fs, METRIC_MOS, side, d->mos, t);
}

static bool finding_worse(const struct finding *a, const struct finding *b)
{
    if (a->level != b->level)
        return a->level > b->level;
    if (a->metric != b->metric)
        return a->metric < b->metric;
    return a->excess > b->excess;
}

/* Worst first. */
static void sort_findings(struct findings *fs)
{
    for (unsigned i = 1; i < fs->n; i++) {
        struct finding f = fs->f[i];
        unsigned j = i;
        for (; j > 0 && finding_worse(&f, &fs->f[j - 1]); j--)
            fs->f[j] = fs->f[j - 1];
        fs->f[j] = f;
    }
}

static void find_all(struct findings *fs, const struct rp_report *r, const struct rp_thresholds *t)
{
    fs->n = 0;
    check_dir(fs, &r->up, SIDE_UP, t);
    check_dir(fs, &r->down, SIDE_DOWN, t);
    if (r->has_rtt)
        check(fs, METRIC_RTT, SIDE_PATH, r->rtt_avg_ms, t);
    sort_findings(fs);
}

/* ---- evaluation: the decision ------------------------------------------- */

/* Every sentence of a cause or a remediation, by what it says. The decision
 * picks phrases; phrase_text[] holds their words. */
enum phrase {
    P_NONE = 0,
    /* causes */
    P_NOTHING_MEASURED,
    P_FLOWS_WITHIN,         /* both sides measured, nothing crossed */
    P_MEASURED_WITHIN,      /* one side unknown, the other within */
    P_FINDINGS,             /* the crossings, worst first */
    P_ALSO_FINDINGS,
    P_SYMMETRIC_NAT,
    P_UP_NOT_ARRIVED,
    P_UP_SEND_REFUSED,
    P_UP_REPLY_ONLY,
    P_UP_FOREIGN_SOURCE,
    P_DOWN_NOT_ARRIVED,
    P_BOTH_BLOCKED,
    P_UP_UNKNOWN,
    P_UP_UNKNOWN_RTT,       /* ... but RTT replies prove upstream arrived */
    P_DOWN_UNKNOWN,
    P_BLOAT_UP,             /* the delay rose: a queue on the path */
    P_BLOAT_DOWN,
    P_TOO_MUCH_DELAY,
    P_HOST_SKIPPED,         /* the media host skipped downstream packets: overloaded */
    P_HOST_DROPPED,         /* the media host's socket queue dropped upstream packets: overloaded */
    P_PARTIAL_RANGE,        /* the test's port works, sampled others of the range do not */
    /* remediations */
    P_FIX_NOTHING,
    P_FIX_CONTROL,
    P_FIX_HOST_FIGURES,
    P_FIX_FORWARD_RANGE,
    P_FIX_INBOUND_REPLIES,
    P_FIX_TURN_OR_VPN,
    P_FIX_SYMMETRIC_NAT,
    P_FIX_SAME_ADDRESS,
    P_FIX_PATH,
    P_FIX_UPLINK,
    P_FIX_UPLINK_MOS,
    P_FIX_DOWNLINK,
    P_FIX_DOWNLINK_MOS,
    P_FIX_BLOAT_UP,
    P_FIX_BLOAT_DOWN,
    P_FIX_HOST_LOAD,
    P_COUNT
};

/* What rp_report_evaluate() decided, before any words. */
struct decision {
    enum rp_diagnosis diagnosis;
    enum rp_verdict verdict;
    enum phrase cause[2];   /* the second, if any, follows after "; " */
    enum phrase remedy;
};

static enum rp_verdict verdict_max(enum rp_verdict a, enum rp_verdict b)
{
    return a > b ? a : b;
}

/* Blocked, or nothing to go on: a failure whatever the thresholds. */
static void decide_fail(struct decision *d, enum rp_diagnosis diagnosis, enum phrase cause,
                        enum phrase more, enum phrase remedy)
{
    *d = (struct decision){ diagnosis, RP_VERDICT_FAIL, { cause, more }, remedy };
}

static enum phrase finding_remedy(const struct finding *f)
{
    if (f->metric == METRIC_RTT)
        return P_FIX_PATH;
    if (f->side == SIDE_UP)
        return f->metric == METRIC_MOS ? P_FIX_UPLINK_MOS : P_FIX_UPLINK;
    return f->metric == METRIC_MOS ? P_FIX_DOWNLINK_MOS : P_FIX_DOWNLINK;
}

/* Both sides (or the one known side, named by unknown) saw media: two-way or
 * degraded, by the worst finding. */
static void decide_flowing(struct decision *d, const struct findings *fs, enum phrase unknown)
{
    const struct finding *w = fs->n ? &fs->f[0] : NULL;
    enum phrase what = w ? P_FINDINGS : unknown ? P_MEASURED_WITHIN : P_FLOWS_WITHIN;
    *d = (struct decision){
        .diagnosis = w ? RP_DIAG_DEGRADED : RP_DIAG_TWO_WAY,
        .verdict = w ? w->level : RP_VERDICT_PASS,
        .cause = { unknown ? unknown : what, unknown ? what : P_NONE },
        .remedy = w ? finding_remedy(w) : unknown ? P_FIX_CONTROL : P_FIX_NOTHING,
    };
    /* Half of the answer is missing. */
    if (unknown)
        d->verdict = verdict_max(d->verdict, RP_VERDICT_WARN);
}

/* Media flows both ways only thanks to latching: a warning of its own, with
 * any threshold crossing after it. */
static void decide_symmetric(struct decision *d)
{
    bool degraded = d->diagnosis == RP_DIAG_DEGRADED;
    d->diagnosis = RP_DIAG_SYMMETRIC_NAT;
    d->verdict = verdict_max(d->verdict, RP_VERDICT_WARN);
    d->cause[0] = P_SYMMETRIC_NAT;
    d->cause[1] = degraded ? P_ALSO_FINDINGS : P_NONE;
    d->remedy = P_FIX_SYMMETRIC_NAT;
}

/* A standing queue worth naming: the delay's floor rose this far during the run. */
#define BLOAT_RISE_MS 30.0
/* Mouth-to-ear delay a call tolerates (G.114 keeps 150 ms for good interactivity). */
#define CALL_ONE_WAY_MS 150.0

/* The direction whose delay rose most during the run. */
static enum side most_delayed(const struct rp_report *r)
{
    return r->up.rx.delay_rise_ms > r->down.rx.delay_rise_ms ? SIDE_UP : SIDE_DOWN;
}

/* Loss or jitter beyond a threshold: then the delay is not the story. */
static bool loss_or_jitter(const struct findings *fs)
{
    for (unsigned i = 0; i < fs->n; i++)
        if (fs->f[i].metric == METRIC_LOSS || fs->f[i].metric == METRIC_JITTER)
            return true;
    return false;
}

/* Media both ways and loss and jitter within the thresholds, but the delay
 * rose under load: name the queue. A pass unless the mouth-to-ear delay is
 * more than a call tolerates, or the queue also pushed RTT or MOS over a
 * threshold (then those follow "also"). */
static void decide_bloat(struct decision *d, const struct rp_report *r, const struct findings *fs)
{
    enum side side = most_delayed(r);
    const struct rp_dir_report *dir = side == SIDE_UP ? &r->up : &r->down;
    if (dir->rx.delay_rise_ms < BLOAT_RISE_MS || loss_or_jitter(fs))
        return;
    bool too_slow = r->mouth_to_ear_ms > CALL_ONE_WAY_MS;
    d->diagnosis = RP_DIAG_BUFFERBLOAT;
    d->verdict = verdict_max(d->verdict, too_slow ? RP_VERDICT_WARN : RP_VERDICT_PASS);
    d->cause[0] = side == SIDE_UP ? P_BLOAT_UP : P_BLOAT_DOWN;
    d->cause[1] = fs->n ? P_ALSO_FINDINGS : too_slow ? P_TOO_MUCH_DELAY : P_NONE;
    d->remedy = side == SIDE_UP ? P_FIX_BLOAT_UP : P_FIX_BLOAT_DOWN;
}

/* Why upstream did not count as arrived, when downstream did. */
static enum phrase up_blocked_cause(const struct rp_dir_report *up)
{
    if (up->sent > 0 && up->send_errors >= up->sent)
        return P_UP_SEND_REFUSED;
    /* Upstream that got in only as a reply to our own packets is not open: a
     * call where the agent speaks first would lose it. */
    return up->reply_only ? P_UP_REPLY_ONLY : P_UP_NOT_ARRIVED;
}

/* A side's loss that crossed a threshold, mostly the media host's own: the
 * slots it skipped downstream (it fell behind its own clock), or the
 * datagrams its socket queue dropped upstream (it did not read in time). */
static bool host_made_loss(const struct rp_dir_report *dir, uint64_t host, const struct findings *fs,
                           enum side side)
{
    bool loss_finding = false;
    for (unsigned i = 0; i < fs->n; i++)
        loss_finding |= fs->f[i].metric == METRIC_LOSS && fs->f[i].side == side;
    return host > 0 && loss_finding && (dir->rx.lost <= 0 || host * 2 >= (uint64_t)dir->rx.lost);
}

/* On a line that otherwise flows both ways, a loss that is mostly the media
 * host's is the story: named first, with its own remedy. A blocked direction
 * or a NAT keeps its cause and remedy (forwarding a port range beats more
 * CPU); downstream skips are then said after the first cause, if there is
 * room. */
static void decide_overload(struct decision *d, const struct rp_report *r, const struct findings *fs,
                            bool down_arrived)
{
    bool flowing = d->diagnosis == RP_DIAG_DEGRADED || d->diagnosis == RP_DIAG_TWO_WAY;
    bool down = host_made_loss(&r->down, r->down.host_skipped, fs, SIDE_DOWN);
    bool up = host_made_loss(&r->up, r->up.host_drops, fs, SIDE_UP);
    if (flowing && (down || up)) {
        d->cause[0] = down ? P_HOST_SKIPPED : P_HOST_DROPPED;
        d->cause[1] = P_FINDINGS;
        d->remedy = P_FIX_HOST_LOAD;
    } else if (down_arrived && r->down.host_skipped > 0 && d->cause[1] == P_NONE) {
        d->cause[1] = P_HOST_SKIPPED;
    }
}

/* The test's own port works both ways, but the sample found ports of the
 * range that do not: a call is given a random port of the range, and one on
 * a blocked port has one-way or no audio. A failure, whatever the figures
 * (they follow "also"); the blocked range's forward is the remedy. */
static void decide_partial(struct decision *d, const struct rp_report *r, const struct findings *fs)
{
    const struct rp_port_sample *ps = &r->port_sample;
    if (ps->state != RP_PORT_SAMPLE_DONE || ps->blocked == 0)
        return;
    bool symmetric = d->diagnosis == RP_DIAG_SYMMETRIC_NAT;
    d->diagnosis = RP_DIAG_PARTIAL_PORT_RANGE;
    d->verdict = RP_VERDICT_FAIL;
    d->cause[0] = P_PARTIAL_RANGE;
    d->cause[1] = fs->n ? P_ALSO_FINDINGS : symmetric ? P_SYMMETRIC_NAT : P_NONE;
    /* Blocked only on the way back: the forward is there, replies are not let in. */
    d->remedy = ps->upstream_blocked ? P_FIX_FORWARD_RANGE : P_FIX_INBOUND_REPLIES;
}

/* Both sides' figures are known. */
static void decide_measured(struct decision *d, const struct rp_report *r, const struct findings *fs,
                            bool up, bool down)
{
    if (up && down) {
        decide_flowing(d, fs, P_NONE);
        decide_bloat(d, r, fs);
        if (strcmp(r->nat.type, "symmetric") == 0)
            decide_symmetric(d);
    } else if (down) {
        decide_fail(d, RP_DIAG_ONE_WAY_UPSTREAM_BLOCKED, up_blocked_cause(&r->up), P_NONE,
                    P_FIX_FORWARD_RANGE);
    } else if (up) {
        decide_fail(d, RP_DIAG_ONE_WAY_DOWNSTREAM_BLOCKED, P_DOWN_NOT_ARRIVED, P_NONE,
                    P_FIX_INBOUND_REPLIES);
    } else {
        decide_fail(d, RP_DIAG_NO_MEDIA, P_BOTH_BLOCKED, P_NONE, P_FIX_TURN_OR_VPN);
    }
    /* The host heard authentic media and refused it for its source address:
     * not a blocked path but a policy, with its own remedy. */
    if (r->up.foreign_source > 0 && !up) {
        d->cause[0] = P_UP_FOREIGN_SOURCE;
        d->cause[1] = P_NONE;
        d->remedy = P_FIX_SAME_ADDRESS;
    }
    decide_overload(d, r, fs, down);
    if (up && down)
        decide_partial(d, r, fs);
}

static void decide(struct decision *d, const struct rp_report *r, const struct findings *fs)
{
    bool up = dir_received(&r->up) && !r->up.reply_only, down = dir_received(&r->down);
    enum phrase up_unknown = r->has_rtt ? P_UP_UNKNOWN_RTT : P_UP_UNKNOWN;

    if (!r->up.measured && !r->down.measured)
        decide_fail(d, RP_DIAG_NO_MEDIA, P_NOTHING_MEASURED, P_NONE, P_FIX_CONTROL);
    else if (!r->up.measured && down)
        decide_flowing(d, fs, up_unknown);
    else if (!r->up.measured) /* downstream is what we know failed; upstream may have worked */
        decide_fail(d, RP_DIAG_ONE_WAY_DOWNSTREAM_BLOCKED, P_DOWN_NOT_ARRIVED, up_unknown,
                    P_FIX_INBOUND_REPLIES);
    else if (!r->down.measured && up)
        decide_flowing(d, fs, P_DOWN_UNKNOWN);
    else if (!r->down.measured)
        decide_fail(d, RP_DIAG_ONE_WAY_UPSTREAM_BLOCKED, P_UP_NOT_ARRIVED, P_DOWN_UNKNOWN,
                    P_FIX_FORWARD_RANGE);
    else
        decide_measured(d, r, fs, up, down);
}

/* ---- evaluation: the words ---------------------------------------------- */

/* In braces, what word_phrase() fills in: {port} the session's media port,
 * {udp_range} and {range} the daemon's media port range, {count} the packets
 * refused for their source, {skipped} the downstream packets the media host
 * skipped, {findings} the threshold crossings. */
static const char *const phrase_text[P_COUNT] = {
    [P_NONE] = "",
    [P_NOTHING_MEASURED] = "neither direction was measured",
    [P_FLOWS_WITHIN] = "media flows both ways within the thresholds",
    [P_MEASURED_WITHIN] = "the measured figures are within the thresholds",
    [P_FINDINGS] = "{findings}",
    [P_ALSO_FINDINGS] = "also {findings}",
    [P_SYMMETRIC_NAT] = "the agent's NAT maps each destination to a different port (symmetric NAT): media "
                        "flows only because the media host latches to where it really comes from",
    [P_UP_NOT_ARRIVED] = "no RTP from the agent reached the media host on {port}",
    [P_UP_SEND_REFUSED] = "the agent's own host refused to send RTP to {port} (local firewall or no route): "
                          "nothing left the agent",
    [P_UP_REPLY_ONLY] = "RTP from the agent reached the media host on {port} only as replies to the host's "
                        "own packets: the RTP range is not forwarded or is blocked inbound",
    [P_UP_FOREIGN_SOURCE] = "the agent's RTP reached the media host from another IP than its HTTPS (a proxy "
                            "or a second public address), so the host refused it ({count} packets)",
    [P_DOWN_NOT_ARRIVED] = "the agent would not hear the customer: RTP from the media host did not reach "
                           "the agent",
    [P_BOTH_BLOCKED] = "UDP is blocked both ways",
    [P_UP_UNKNOWN] = "upstream unknown (no figures from the media host)",
    [P_UP_UNKNOWN_RTT] = "upstream unknown (no figures from the media host, but RTT replies show upstream "
                         "arrived)",
    [P_DOWN_UNKNOWN] = "downstream unknown (no receive figures from the probe)",
    [P_BLOAT_UP] = "delay rose by {rise} during the test on the way from the agent, with little loss: a queue "
                   "on the agent's link (bufferbloat); the call's jitter buffer absorbs it as delay",
    [P_BLOAT_DOWN] = "delay rose by {rise} during the test on the way to the agent, with little loss: a queue "
                     "on the agent's link (bufferbloat); the call's jitter buffer absorbs it as delay",
    [P_TOO_MUCH_DELAY] = "mouth-to-ear delay with the jitter buffer reaches {oneway}, more than a call "
                         "tolerates (150 ms)",
    [P_HOST_SKIPPED] = "the media host skipped {skipped} packets: it is overloaded",
    [P_HOST_DROPPED] = "the media host dropped {hostdrops} upstream packets unread from its socket queue: it is "
                       "overloaded",
    [P_PARTIAL_RANGE] = "the test's port {port} works both ways, but not the whole range: {blocked}; a call "
                        "given such a port has one-way or no audio",
    [P_FIX_NOTHING] = "none needed",
    [P_FIX_CONTROL] = "check the probe's control connection to the daemon (HTTPS, nginx on 443) and run "
                      "again",
    [P_FIX_HOST_FIGURES] = "run the same version of rtpprobed on the media host as of this probe (rtpprobe "
                           "--version) and check that --server reaches rtpprobed, then run again",
    [P_FIX_FORWARD_RANGE] = "forward {udp_range} to the media host and allow it in firewalld (firewall-cmd "
                            "--permanent --add-port={range}/udp); check the agent's firewall allows "
                            "outbound UDP",
    [P_FIX_INBOUND_REPLIES] = "allow inbound UDP replies at the agent (home router/corporate firewall), or "
                              "use TURN over TLS on 5349",
    [P_FIX_TURN_OR_VPN] = "use TURN/TLS on 5349 or a VPN; open {udp_range}",
    [P_FIX_SYMMETRIC_NAT] = "use TURN (coturn on 3478, TURN/TLS on 5349) for this agent, or a router with "
                            "endpoint-independent mapping (RFC 4787); keep latching (strictrtp/comedia) on",
    [P_FIX_SAME_ADDRESS] = "send HTTPS and media from the same address, or set media.allow_foreign_peer = "
                           "true on the host",
    [P_FIX_PATH] = "shorten the path between agent and media host: avoid VPN/proxy detours and mobile or "
                   "satellite links; a TURN relay adds delay, prefer direct UDP",
    [P_FIX_UPLINK] = "check the agent's uplink: bandwidth, Wi-Fi, QoS/DSCP EF for {udp_range}",
    [P_FIX_UPLINK_MOS] = "late packets or delay lower the upstream MOS: check the agent's uplink (bandwidth, "
                         "Wi-Fi) and QoS/DSCP EF for {udp_range}",
    [P_FIX_DOWNLINK] = "check the agent's downlink (Wi-Fi, competing downloads) and the media host's outbound "
                       "bandwidth; QoS/DSCP EF for {udp_range}",
    [P_FIX_DOWNLINK_MOS] = "late packets or delay lower the downstream MOS: check the agent's downlink (Wi-Fi, "
                           "competing downloads) and QoS/DSCP EF for {udp_range}",
    [P_FIX_BLOAT_UP] = "enable SQM/fq_codel on the agent's router, or stop large uploads (backups, cloud sync) "
                       "during calls",
    [P_FIX_BLOAT_DOWN] = "enable SQM/fq_codel on the agent's router, or stop large downloads during calls",
    [P_FIX_HOST_LOAD] = "give rtpprobed on the media host more CPU or run fewer probe sessions at once "
                        "(rtpprobed_downstream_skipped_total and rtpprobed_socket_drops_total in its /metrics), "
                        "then run again",
};

/* How each metric reads in a finding: "upstream loss 3.2 % (warn > 1 %)",
 * "round-trip time 700 ms avg (fail > 600 ms)", "downstream MOS 3.50 (warn < 4)",
 * "upstream loss 0 % (warn in @0:0)". */
static const struct metric_word {
    const char *name;
    const char *unit;       /* after the value and after the threshold */
    unsigned decimals;      /* of the value */
    bool keep_zeros;        /* "3.50", not "3.5" */
    const char *qualifier;  /* between the value and the threshold */
    unsigned limit_decimals;
} metric_words[] = {
    [METRIC_LOSS]   = { "loss", " %", 2, false, "", 3 },
    [METRIC_JITTER] = { "jitter", " ms", 1, false, "", 3 },
    [METRIC_RTT]    = { "round-trip time", " ms", 1, false, " avg", 3 },
    [METRIC_MOS]    = { "MOS", "", 2, true, "", 2 },
};

static const char *const side_words[] = { [SIDE_UP] = "upstream ", [SIDE_DOWN] = "downstream ",
                                           [SIDE_PATH] = "" };

static struct num finding_value(const struct finding *f, unsigned decimals)
{
    return metric_words[f->metric].keep_zeros ? num_fixed(f->value, decimals) : num_trim(f->value, decimals);
}

/* "downstream jitter 42 ms": for the findings after the worst one. */
static void describe_short(char *buf, size_t size, const struct finding *f)
{
    const struct metric_word *m = &metric_words[f->metric];
    snprintf(buf, size, "%s%s %s%s", side_words[f->side], m->name, finding_value(f, m->decimals).s, m->unit);
}

/* "upstream loss 3.2 % (warn > 1 %)": the short form and the range crossed,
 * by its end crossed (or whole, for an '@' range). A value that would read as
 * its limit ("1 % (warn > 1 %)") gets the perfdata's decimals. */
static void describe_finding(char *buf, size_t size, const struct finding *f)
{
    const struct metric_word *m = &metric_words[f->metric];
    const struct rp_range *r = f->range;
    if (r->inside) {
        describe_short(buf, size, f);
        append(buf, size, "%s (%s in %s)", m->qualifier, rp_verdict_name(f->level), r->text);
        return;
    }
    bool above = f->value > r->end;
    struct num limit = num_trim(above ? r->end : r->start, m->limit_decimals);
    struct num v = finding_value(f, m->decimals);
    if (strcmp(v.s, limit.s) == 0)
        v = finding_value(f, perf_decimals[f->metric]);
    snprintf(buf, size, "%s%s %s%s", side_words[f->side], m->name, v.s, m->unit);
    append(buf, size, "%s (%s %s %s%s)", m->qualifier, rp_verdict_name(f->level), above ? ">" : "<", limit.s,
           m->unit);
}

/* The worst finding in full, then the others in short. */
static void append_findings(char *buf, size_t size, const struct findings *fs, const struct rp_report *r)
{
    char what[160];
    const struct finding *w = &fs->f[0];
    describe_finding(what, sizeof what, w);
    append(buf, size, "%s", what);
    if (w->metric == METRIC_LOSS) {
        const struct rp_dir_report *d = w->side == SIDE_UP ? &r->up : &r->down;
        if (d->host_drops > 0)
            append(buf, size, ", %" PRIu64 " of them dropped by the receiving host, not the network",
                   d->host_drops);
        if (d->host_skipped > 0)
            append(buf, size, ", %" PRIu64 " of them skipped by the media host, not the network",
                   d->host_skipped);
    }
    for (unsigned i = 1; i < fs->n; i++) {
        describe_short(what, sizeof what, &fs->f[i]);
        append(buf, size, "%s%s", i == 1 ? "; also " : ", ", what);
    }
}

/* What the braces in phrase_text[] name, and their values. */
enum filler {
    F_PORT = 0, F_UDP_RANGE, F_RANGE, F_COUNT, F_SKIPPED, F_HOSTDROPS, F_RISE, F_ONEWAY, F_BLOCKED, F_FINDINGS, F_N
};

static const char *const filler_name[F_N] = {
    [F_PORT] = "port", [F_UDP_RANGE] = "udp_range", [F_RANGE] = "range", [F_COUNT] = "count",
    [F_SKIPPED] = "skipped", [F_HOSTDROPS] = "hostdrops", [F_RISE] = "rise", [F_ONEWAY] = "oneway", [F_BLOCKED] = "blocked",
    [F_FINDINGS] = "findings",
};

struct fillers {
    char text[F_FINDINGS][96];  /* all but the findings, which are appended in place */
    const struct findings *fs;
    const struct rp_report *r;
};

/* "sampled UDP 15296-20000 blocked upstream (+1 more range)": the first
 * blocked run of the port sample. */
static void blocked_words(const struct rp_port_sample *ps, char *buf, size_t size)
{
    static const char *const how[RP_PC_NSTATUS] = { [RP_PC_UP_BLOCKED] = "blocked upstream",
                                                    [RP_PC_DOWN_BLOCKED] = "blocked downstream" };
    unsigned first = ps->nranges, more = 0;
    for (unsigned i = 0; i < ps->nranges; i++) {
        if (ps->ranges[i].status == RP_PC_BOTH)
            continue;
        if (first == ps->nranges)
            first = i;
        else
            more++;
    }
    buf[0] = '\0';
    if (first == ps->nranges)
        return;
    const struct rp_pc_range *b = &ps->ranges[first];
    snprintf(buf, size, "sampled UDP %u-%u %s", b->from, b->to, how[b->status]);
    if (more || ps->truncated)
        append(buf, size, " (+%s%u more range%s)", ps->truncated ? "at least " : "", more, more == 1 ? "" : "s");
}

static void fillers_init(struct fillers *v, const struct rp_report *r, const struct findings *fs)
{
    if (r->media_port)
        snprintf(v->text[F_PORT], sizeof v->text[F_PORT], "UDP %u", r->media_port);
    else
        snprintf(v->text[F_PORT], sizeof v->text[F_PORT], "its media port");
    /* The range is the daemon's (its answer to the session): without one, no
     * number is better than a guess. */
    int len = (int)strnlen(r->port_range, sizeof r->port_range);
    if (len) {
        snprintf(v->text[F_UDP_RANGE], sizeof v->text[F_UDP_RANGE], "UDP %.*s", len, r->port_range);
        snprintf(v->text[F_RANGE], sizeof v->text[F_RANGE], "%.*s", len, r->port_range);
    } else {
        snprintf(v->text[F_UDP_RANGE], sizeof v->text[F_UDP_RANGE], "the daemon's UDP media port range");
        snprintf(v->text[F_RANGE], sizeof v->text[F_RANGE], "<media.port_min>-<media.port_max>");
    }
    snprintf(v->text[F_COUNT], sizeof v->text[F_COUNT], "%" PRIu64, r->up.foreign_source);
    snprintf(v->text[F_SKIPPED], sizeof v->text[F_SKIPPED], "%" PRIu64, r->down.host_skipped);
    snprintf(v->text[F_HOSTDROPS], sizeof v->text[F_HOSTDROPS], "%" PRIu64, r->up.host_drops);
    const struct rp_dir_report *slow = most_delayed(r) == SIDE_UP ? &r->up : &r->down;
    snprintf(v->text[F_RISE], sizeof v->text[F_RISE], "%s ms", num_trim(slow->rx.delay_rise_ms, 0).s);
    snprintf(v->text[F_ONEWAY], sizeof v->text[F_ONEWAY], "%s ms", num_trim(r->mouth_to_ear_ms, 0).s);
    blocked_words(&r->port_sample, v->text[F_BLOCKED], sizeof v->text[F_BLOCKED]);
    v->fs = fs;
    v->r = r;
}

static void append_filler(char *buf, size_t size, const char *name, size_t len, const struct fillers *v)
{
    for (unsigned i = 0; i < F_N; i++) {
        if (strlen(filler_name[i]) != len || memcmp(name, filler_name[i], len) != 0)
            continue;
        if (i != F_FINDINGS)
            append(buf, size, "%s", v->text[i]);
        else if (v->fs->n > 0)
            append_findings(buf, size, v->fs, v->r);
        return;
    }
}

static void append_phrase(char *buf, size_t size, enum phrase p, const struct fillers *v)
{
    const char *s = phrase_text[p];
    const char *open, *close;
    while ((open = strchr(s, '{')) != NULL && (close = strchr(open, '}')) != NULL) {
        append(buf, size, "%.*s", (int)(open - s), s);
        append_filler(buf, size, open + 1, (size_t)(close - open - 1), v);
        s = close + 1;
    }
    append(buf, size, "%s", s);
}

static void word(struct rp_report *r, const struct decision *d, const struct findings *fs)
{
    struct fillers v;
    fillers_init(&v, r, fs);
    r->cause[0] = '\0';
    append_phrase(r->cause, sizeof r->cause, d->cause[0], &v);
    if (d->cause[1] != P_NONE) {
        append(r->cause, sizeof r->cause, "; ");
        append_phrase(r->cause, sizeof r->cause, d->cause[1], &v);
    }
    r->remediation[0] = '\0';
    append_phrase(r->remediation, sizeof r->remediation, d->remedy, &v);
}

/* Figures the daemon contradicted are no basis for a verdict: the words say
 * what was seen, the verdict says nothing can be concluded from it. */
static void distrust_host(struct rp_report *r)
{
    char seen[sizeof r->cause];
    snprintf(seen, sizeof seen, "%s", r->cause);
    r->verdict = RP_VERDICT_UNKNOWN;
    r->cause[0] = '\0';
    append(r->cause, sizeof r->cause, "the media host's figures are unusable (%.*s); %s",
           (int)sizeof r->host_figures_error, r->host_figures_error, seen);
    snprintf(r->remediation, sizeof r->remediation, "%s", phrase_text[P_FIX_HOST_FIGURES]);
}

void rp_report_evaluate(struct rp_report *r, const struct rp_thresholds *t)
{
    struct findings fs;
    struct decision d;
    r->thresholds = *t;
    find_all(&fs, r, t);
    decide(&d, r, &fs);
    r->diagnosis = d.diagnosis;
    r->verdict = d.verdict;
    word(r, &d, &fs);
    if (r->host_figures_error[0])
        distrust_host(r);
}

/* ---- NAT type --------------------------------------------------------------- */

static bool addr_str_equal(const char *a, const char *b)
{
    struct sockaddr_storage x, y;
    socklen_t xl, yl;
    return a[0] && b[0] && rp_addr_parse(a, 0, &x, &xl) == 0 && rp_addr_parse(b, 0, &y, &yl) == 0 &&
           rp_addr_equal((struct sockaddr *)&x, (struct sockaddr *)&y);
}

/* RFC 4787 terms: a mapping that depends on the destination is "symmetric". */
void rp_report_classify_nat(struct rp_report *rep)
{
    const char *seen = rep->nat.mapped[0] ? rep->nat.mapped : rep->nat.mapped_stun[0] ? rep->nat.mapped_stun
                                                                                        : rep->nat.latched;
    const char *type = "unknown";
    /* Only an announcement that came from STUN says where the NAT maps us
     * (a refused one is empty). */
    bool announced_from_stun = (rep->nat.mapped_stun[0] || rep->nat.mapped[0]) && rep->nat.announced[0];
    if ((rep->nat.mapped[0] && rep->nat.mapped_stun[0] && !addr_str_equal(rep->nat.mapped, rep->nat.mapped_stun)) ||
        (announced_from_stun && rep->nat.latched[0] && !addr_str_equal(rep->nat.latched, rep->nat.announced)))
        type = "symmetric";
    else if (seen[0])
        type = addr_str_equal(seen, rep->nat.local) ? "none" : "nat";
    snprintf(rep->nat.type, sizeof rep->nat.type, "%s", type);
}

/* ---- scoring ---------------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* min, avg, p95 (nearest rank) and max of the samples; sorts them. */
static void score_rtt(struct rp_report *rep, int64_t *rtt_ns, size_t n)
{
    rep->has_rtt = n > 0;
    if (n == 0)
        return;
    qsort(rtt_ns, n, sizeof rtt_ns[0], cmp_i64);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += (double)rtt_ns[i];
    rep->rtt_min_ms = (double)rtt_ns[0] / 1e6;
    rep->rtt_max_ms = (double)rtt_ns[n - 1] / 1e6;
    rep->rtt_avg_ms = sum / (double)n / 1e6;
    size_t p95 = (size_t)ceil(0.95 * (double)n) - 1;
    rep->rtt_p95_ms = (double)rtt_ns[p95] / 1e6;
}

/* The packets a receiver would have discarded: late under the MOS basis buffer. */
uint64_t rp_dir_late(const struct rp_report *r, const struct rp_dir_report *d)
{
    return r->jitter_buffer_adaptive ? d->rx.late_adaptive : d->rx.late;
}

/* Bitrate on the wire, and the E-model with the late packets counted as lost
 * and the buffer's depth as delay: a deep adaptive buffer costs delay rather
 * than loss, as in a real call. */
static void score_dir(struct rp_dir_report *d, const struct rp_score_in *in, double path_ms, uint64_t late)
{
    d->kbps = d->sent ? (double)d->rx.wire_bytes * 8.0 / (double)(d->sent * in->ptime_ms) : 0;
    double buffer_ms = in->adaptive ? d->rx.jb_mean_ms : (double)in->jitter_buffer_ms;
    d->mouth_to_ear_ms = path_ms + in->ptime_ms + buffer_ms + in->codec->algo_delay_ms;
    double expected = (double)d->rx.expected;
    double ppl = expected > 0 ? 100.0 * ((double)d->rx.lost + (double)late) / expected : 100.0;
    if (ppl < 0)
        ppl = 0;
    struct rp_emodel_in e = {
        .ie = in->codec->ie,
        .bpl = in->codec->bpl,
        .ppl_pct = ppl > 100 ? 100 : ppl,
        .burst_r = d->rx.burst_ratio >= 1 ? d->rx.burst_ratio : 1,
        .delay_ms = d->mouth_to_ear_ms,
    };
    struct rp_emodel_out out;
    rp_emodel_compute(&e, &out);
    d->r_factor = out.r;
    d->mos = out.mos;
}

void rp_report_finish(struct rp_report *rep, const struct rp_score_in *in, const struct rp_thresholds *t)
{
    score_rtt(rep, in->rtt_ns, in->nrtt);
    rep->jitter_buffer_adaptive = in->adaptive;
    /* Mouth-to-ear: half the RTT (clocks are not assumed in sync), packetisation,
     * jitter buffer, codec look-ahead. */
    double path_ms = rep->has_rtt ? rep->rtt_avg_ms / 2 : 0;
    score_dir(&rep->up, in, path_ms, rp_dir_late(rep, &rep->up));
    score_dir(&rep->down, in, path_ms, rp_dir_late(rep, &rep->down));
    rep->mouth_to_ear_ms = rep->up.mouth_to_ear_ms > rep->down.mouth_to_ear_ms ? rep->up.mouth_to_ear_ms
                                                                               : rep->down.mouth_to_ear_ms;
    rp_report_classify_nat(rep);
    rp_report_evaluate(rep, t);
}

/* ---- JSON ----------------------------------------------------------------- */

static double round_to(double v, unsigned decimals)
{
    double scale = pow(10.0, (double)decimals);
    double x = round(v * scale) / scale;
    return x == 0.0 ? 0.0 : x; /* no "-0.0" */
}

static json_t *j_real(double v, unsigned decimals)
{
    return isfinite(v) ? json_real(round_to(v, decimals)) : json_null();
}

static json_t *j_u64(uint64_t v)
{
    /* json_int_t is long or long long: both are at least 64 bits, signed. */
    return json_integer(v > (uint64_t)INT64_MAX ? (json_int_t)INT64_MAX : (json_int_t)v);
}

/* Text from outside (a server name typed on the command line) may not be
 * UTF-8; JSON must be: fall back to ASCII with '?' for the rest. */
static json_t *j_str(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    json_t *j = json_stringn(s, n);
    if (j)
        return j;
    char ascii[256];
    size_t m = n < sizeof ascii - 1 ? n : sizeof ascii - 1;
    for (size_t i = 0; i < m; i++)
        ascii[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
    return json_stringn(ascii, m);
}

static json_t *j_str_or_null(const char *s, size_t cap)
{
    return strnlen(s, cap) ? j_str(s, cap) : json_null();
}

/* Records a failed allocation instead of checking every call. */
static void put(json_t *obj, const char *key, json_t *value, bool *ok)
{
    if (!value || json_object_set_new(obj, key, value) != 0)
        *ok = false;
}

/* The adaptive buffer's and the delay view's figures of one direction. */
static void put_playout(json_t *o, const struct rp_dir_report *d, bool got, bool *ok)
{
    put(o, "late_adaptive", d->measured ? j_u64(d->rx.late_adaptive) : json_null(), ok);
    put(o, "late_fixed", d->measured ? j_u64(d->rx.late) : json_null(), ok);
    put(o, "jitter_buffer_mean_ms", got ? j_real(d->rx.jb_mean_ms, 3) : json_null(), ok);
    put(o, "jitter_buffer_max_ms", got ? j_real(d->rx.jb_max_ms, 3) : json_null(), ok);
    json_t *delay = got ? json_object() : json_null();
    if (got && delay) {
        put(delay, "p50", j_real(d->rx.delay_p50_ms, 3), ok);
        put(delay, "p95", j_real(d->rx.delay_p95_ms, 3), ok);
        put(delay, "max", j_real(d->rx.delay_max_ms, 3), ok);
        put(delay, "rise", j_real(d->rx.delay_rise_ms, 3), ok);
        put(delay, "sender_lag", d->rx.has_sender_lag ? j_real(d->rx.sender_lag_ms, 3) : json_null(), ok);
    }
    put(o, "delay_ms", delay, ok);
    put(o, "mouth_to_ear_ms", got ? j_real(d->mouth_to_ear_ms, 3) : json_null(), ok);
}

static json_t *dir_json(const struct rp_report *r, const struct rp_dir_report *d, bool is_up, bool *ok)
{
    json_t *o = json_object();
    if (!o) {
        *ok = false;
        return NULL;
    }
    bool m = d->measured;
    /* Stream-derived figures mean nothing without a packet. */
    bool got = m && d->rx.received > 0;
    put(o, "measured", json_boolean(m), ok);
    /* The sender's own count is known even when the receiver's figures are not. */
    put(o, "sent", (m || d->sent) ? j_u64(d->sent) : json_null(), ok);
    put(o, "received", m ? j_u64(d->rx.received) : json_null(), ok);
    put(o, "lost", m ? json_integer(d->rx.lost) : json_null(), ok);
    put(o, "loss_pct", m ? j_real(d->rx.loss_pct, 3) : json_null(), ok);
    put(o, "duplicates", m ? j_u64(d->rx.duplicates) : json_null(), ok);
    put(o, "reordered", m ? j_u64(d->rx.reordered) : json_null(), ok);
    put(o, "late", m ? j_u64(rp_dir_late(r, d)) : json_null(), ok);
    put_playout(o, d, got, ok);
    put(o, "bursts", m ? j_u64(d->rx.bursts) : json_null(), ok);
    put(o, "max_burst", m ? j_u64(d->rx.max_burst) : json_null(), ok);
    put(o, "burst_ratio", got ? j_real(d->rx.burst_ratio, 3) : json_null(), ok);
    put(o, "jitter_ms", got ? j_real(d->rx.jitter_ms, 3) : json_null(), ok);
    put(o, "jitter_mean_ms", got ? j_real(d->rx.jitter_mean_ms, 3) : json_null(), ok);
    if (got) {
        json_t *ipdv = json_object();
        if (ipdv) {
            put(ipdv, "p50", j_real(d->rx.ipdv_p50_ms, 3), ok);
            put(ipdv, "p95", j_real(d->rx.ipdv_p95_ms, 3), ok);
            put(ipdv, "p99", j_real(d->rx.ipdv_p99_ms, 3), ok);
            put(ipdv, "max", j_real(d->rx.ipdv_max_ms, 3), ok);
        }
        put(o, "ipdv_ms", ipdv, ok);
    } else {
        put(o, "ipdv_ms", json_null(), ok);
    }
    put(o, "kbps", m ? j_real(d->kbps, 3) : json_null(), ok);
    put(o, "r_factor", got ? j_real(d->r_factor, 2) : json_null(), ok);
    put(o, "mos", got ? j_real(d->mos, 2) : json_null(), ok);
    put(o, "host_drops", m ? j_u64(d->host_drops) : json_null(), ok);
    /* Only the media host's skips are known, and only from its final figures
     * (up.measured): the probe counts none of its own. */
    put(o, "host_skipped", m && !is_up && r->up.measured ? j_u64(d->host_skipped) : json_null(), ok);
    put(o, "auth_failures", m ? j_u64(d->auth_failures) : json_null(), ok);
    put(o, "send_errors", j_u64(d->send_errors), ok);
    put(o, "foreign_source", m && is_up ? j_u64(d->foreign_source) : json_null(), ok);
    put(o, "reply_only", m && is_up ? json_boolean(d->reply_only) : json_null(), ok);
    return o;
}

/* The direction's seconds ([] when not recorded); late under the MOS's buffer. */
static json_t *seconds_json(const struct rp_report *r, const struct rp_dir_report *d, bool *ok)
{
    json_t *a = json_array();
    for (size_t t = 0; a && t < d->nseconds; t++) {
        const struct rp_second *v = &d->per_second[t];
        json_t *o = json_object();
        put(o, "t", j_u64(t), ok);
        put(o, "packets", j_u64(v->packets), ok);
        put(o, "lost", j_u64(v->lost), ok);
        put(o, "late", j_u64(r->jitter_buffer_adaptive ? v->late_adaptive : v->late), ok);
        put(o, "jitter_ms", j_real(v->jitter_ms, 3), ok);
        put(o, "delay_ms", j_real(v->delay_ms, 3), ok); /* NAN (no packet): null */
        if (!o || json_array_append_new(a, o) != 0)
            *ok = false;
    }
    if (!a)
        *ok = false;
    return a;
}

static json_t *rtt_seconds_json(const struct rp_report *r, bool *ok)
{
    json_t *a = json_array();
    for (size_t t = 0; a && t < r->nrtt_seconds; t++) {
        json_t *o = json_object();
        put(o, "t", j_u64(t), ok);
        put(o, "rtt_ms", j_real(r->rtt_per_second[t].rtt_ms, 3), ok); /* NAN (no sample): null */
        if (!o || json_array_append_new(a, o) != 0)
            *ok = false;
    }
    if (!a)
        *ok = false;
    return a;
}

void rp_report_release(struct rp_report *r)
{
    free(r->up.per_second);
    free(r->down.per_second);
    free(r->rtt_per_second);
    r->up.per_second = r->down.per_second = NULL;
    r->rtt_per_second = NULL;
    r->up.nseconds = r->down.nseconds = r->nrtt_seconds = 0;
}

/* The TURN relay the media went through; null on the direct path. */
static json_t *relay_json(const struct rp_report *r, bool *ok)
{
    if (!r->relay.relayed[0])
        return json_null();
    json_t *o = json_object();
    if (!o)
        return NULL;
    put(o, "server", j_str(r->relay.server, sizeof r->relay.server), ok);
    put(o, "relayed", j_str(r->relay.relayed, sizeof r->relay.relayed), ok);
    put(o, "added_delay_ms", r->relay.has_added ? j_real(r->relay.added_ms, 3) : json_null(), ok);
    put(o, "added_delay_basis", r->relay.has_added ? json_string(r->relay.vs_direct ? "rtt-minus-direct" : "rtt")
                                                   : json_null(), ok);
    return o;
}

static const char *const port_sample_state[] = { [RP_PORT_SAMPLE_NOT_RUN] = "not-run",
                                                  [RP_PORT_SAMPLE_DONE] = "done",
                                                  [RP_PORT_SAMPLE_FAILED] = "failed" };

/* The quick sample of the media range (docs/report.md "port_sample"). */
static json_t *port_sample_json(const struct rp_port_sample *ps, bool *ok)
{
    json_t *o = json_object(), *ranges = json_array();
    if (!o || !ranges) {
        json_decref(o);
        json_decref(ranges);
        return NULL;
    }
    bool done = ps->state == RP_PORT_SAMPLE_DONE;
    for (unsigned i = 0; done && i < ps->nranges; i++)
        json_array_append_new(ranges, json_pack("{s:i, s:i, s:s}", "from", (int)ps->ranges[i].from, "to",
                                                (int)ps->ranges[i].to, "status",
                                                rp_pc_status_name(ps->ranges[i].status)));
    put(o, "state", json_string(port_sample_state[ps->state]), ok);
    put(o, "reason", done ? json_null() : j_str(ps->why[0] ? ps->why : "not run", sizeof ps->why), ok);
    put(o, "range", done ? json_pack("{s:i, s:i}", "from", (int)ps->from, "to", (int)ps->to) : json_null(), ok);
    put(o, "ports_tried", json_integer(ps->tried), ok);
    put(o, "blocked", json_integer(ps->blocked), ok);
    put(o, "ranges", ranges, ok);
    put(o, "truncated", json_boolean(ps->truncated), ok);
    return o;
}

json_t *rp_report_json(const struct rp_report *r)
{
    bool ok = true;
    json_t *o = json_object();
    if (!o)
        return NULL;
    put(o, "version", json_integer(1), &ok);
    put(o, "server", j_str(r->server, sizeof r->server), &ok);
    put(o, "session_id", j_str_or_null(r->session_id, sizeof r->session_id), &ok);
    put(o, "codec", j_str(r->codec, sizeof r->codec), &ok);
    put(o, "ptime_ms", json_integer(r->ptime_ms), &ok);
    put(o, "bitrate_bps", json_integer(r->bitrate), &ok);
    put(o, "transport", j_str(r->transport, sizeof r->transport), &ok);
    put(o, "cipher", j_str_or_null(r->cipher, sizeof r->cipher), &ok);
    put(o, "path", json_string(r->path[0] ? r->path : "direct"), &ok);
    put(o, "relay", relay_json(r, &ok), &ok);
    put(o, "duration_s", j_real(r->duration_s, 3), &ok);
    put(o, "jitter_buffer_ms", json_integer(r->jitter_buffer_ms), &ok);
    put(o, "media_port", r->media_port ? json_integer(r->media_port) : json_null(), &ok);
    put(o, "jitter_buffer", json_string(r->jitter_buffer_adaptive ? "adaptive" : "fixed"), &ok);
    json_t *up = dir_json(r, &r->up, true, &ok), *down = dir_json(r, &r->down, false, &ok);
    if (up)
        put(up, "per_second", seconds_json(r, &r->up, &ok), &ok);
    if (down)
        put(down, "per_second", seconds_json(r, &r->down, &ok), &ok);
    put(o, "upstream", up, &ok);
    put(o, "downstream", down, &ok);
    if (r->has_rtt) {
        json_t *rtt = json_object();
        if (rtt) {
            put(rtt, "min", j_real(r->rtt_min_ms, 3), &ok);
            put(rtt, "avg", j_real(r->rtt_avg_ms, 3), &ok);
            put(rtt, "p95", j_real(r->rtt_p95_ms, 3), &ok);
            put(rtt, "max", j_real(r->rtt_max_ms, 3), &ok);
        }
        put(o, "rtt_ms", rtt, &ok);
    } else {
        put(o, "rtt_ms", json_null(), &ok);
    }
    put(o, "rtt_per_second", rtt_seconds_json(r, &ok), &ok);
    put(o, "mouth_to_ear_ms", j_real(r->mouth_to_ear_ms, 3), &ok);
    json_t *nat = json_object();
    if (nat) {
        put(nat, "local", j_str_or_null(r->nat.local, sizeof r->nat.local), &ok);
        put(nat, "control_seen", j_str_or_null(r->nat.control_seen, sizeof r->nat.control_seen), &ok);
        put(nat, "mapped", j_str_or_null(r->nat.mapped, sizeof r->nat.mapped), &ok);
        put(nat, "mapped_stun", j_str_or_null(r->nat.mapped_stun, sizeof r->nat.mapped_stun), &ok);
        put(nat, "announced", j_str_or_null(r->nat.announced, sizeof r->nat.announced), &ok);
        put(nat, "latched", j_str_or_null(r->nat.latched, sizeof r->nat.latched), &ok);
        put(nat, "type", strnlen(r->nat.type, sizeof r->nat.type)
                             ? j_str(r->nat.type, sizeof r->nat.type) : json_string("unknown"), &ok);
    }
    put(o, "nat", nat, &ok);
    put(o, "port_sample", port_sample_json(&r->port_sample, &ok), &ok);
    put(o, "host_figures_error", j_str_or_null(r->host_figures_error, sizeof r->host_figures_error), &ok);
    put(o, "verdict", json_string(rp_verdict_name(r->verdict)), &ok);
    put(o, "diagnosis", json_string(rp_diagnosis_name(r->diagnosis)), &ok);
    put(o, "cause", j_str(r->cause, sizeof r->cause), &ok);
    put(o, "remediation", j_str(r->remediation, sizeof r->remediation), &ok);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int rp_report_print_json(const struct rp_report *r, FILE *out)
{
    json_t *o = rp_report_json(r);
    if (!o)
        return -1;
    /* 15 significant digits print rounded values as written (3.2, not 3.2000000000000002). */
    int rc = json_dumpf(o, out, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
    json_decref(o);
    if (rc != 0 || fputc('\n', out) == EOF || fflush(out) == EOF)
        return -1;
    return 0;
}

/* ---- human text ----------------------------------------------------------- */

#define LABEL_W 22
#define COL_W 14

static void row(FILE *out, const char *label, const char *up, const char *down)
{
    fprintf(out, "  %-*s %*s %*s\n", LABEL_W, label, COL_W, up, COL_W, down);
}

/* Either side's cell: "-" where that side has no such figure. */
struct cell { char s[48]; };

static struct cell cell_u64(bool known, uint64_t v)
{
    struct cell c;
    if (known)
        snprintf(c.s, sizeof c.s, "%" PRIu64, v);
    else
        snprintf(c.s, sizeof c.s, "-");
    return c;
}

static struct cell cell_i64(bool known, int64_t v)
{
    struct cell c;
    if (known)
        snprintf(c.s, sizeof c.s, "%" PRId64, v);
    else
        snprintf(c.s, sizeof c.s, "-");
    return c;
}

static struct cell cell_real(bool known, double v, unsigned decimals, const char *unit)
{
    struct cell c;
    if (known && isfinite(v))
        snprintf(c.s, sizeof c.s, "%s%s%s", num_fixed(v, decimals).s, *unit ? " " : "", unit);
    else
        snprintf(c.s, sizeof c.s, "-");
    return c;
}

static const char *text_or_dash(const char *s, size_t cap)
{
    return strnlen(s, cap) ? s : "-";
}

/* Late packets under each buffer (the MOS basis first) and the delay view. */
static void print_playout_rows(const struct rp_report *r, FILE *out)
{
    const struct rp_dir_report *u = &r->up, *d = &r->down;
    bool um = u->measured, dm = d->measured, ug = dir_received(u), dg = dir_received(d);
    char fixed[48];
    snprintf(fixed, sizeof fixed, "late (fixed %u ms)", r->jitter_buffer_ms);
    if (r->jitter_buffer_adaptive)
        row(out, "late (adaptive buffer)", cell_u64(um, u->rx.late_adaptive).s, cell_u64(dm, d->rx.late_adaptive).s);
    row(out, fixed, cell_u64(um, u->rx.late).s, cell_u64(dm, d->rx.late).s);
    if (!r->jitter_buffer_adaptive)
        row(out, "late (adaptive buffer)", cell_u64(um, u->rx.late_adaptive).s, cell_u64(dm, d->rx.late_adaptive).s);
    row(out, "adaptive buffer mean", cell_real(ug, u->rx.jb_mean_ms, 1, "ms").s,
        cell_real(dg, d->rx.jb_mean_ms, 1, "ms").s);
    row(out, "delay rise (queue)", cell_real(ug, u->rx.delay_rise_ms, 1, "ms").s,
        cell_real(dg, d->rx.delay_rise_ms, 1, "ms").s);
    row(out, "delay above min p95", cell_real(ug, u->rx.delay_p95_ms, 1, "ms").s,
        cell_real(dg, d->rx.delay_p95_ms, 1, "ms").s);
}

/* The TURN relay the media went through, when they did. */
static void print_relay(const struct rp_report *r, FILE *out)
{
    if (!r->relay.relayed[0])
        return;
    fprintf(out, "  path %.*s: TURN server %.*s, relayed address %.*s", (int)sizeof r->path, r->path,
            (int)sizeof r->relay.server, r->relay.server, (int)sizeof r->relay.relayed, r->relay.relayed);
    if (r->relay.has_added)
        fprintf(out, ", relay adds %s ms%s", num_trim(r->relay.added_ms, 1).s,
                r->relay.vs_direct ? " over the direct path" : " (RTT via the relay; direct unknown)");
    fputs("\n\n", out);
}

/* "port sample   18 ports of 10000-20000: 10000-14708 both ways, 15296-20000
 * blocked upstream", or why there is none. */
static void print_port_sample(const struct rp_port_sample *ps, FILE *out)
{
    static const char *const how[RP_PC_NSTATUS] = { [RP_PC_BOTH] = "both ways",
                                                    [RP_PC_UP_BLOCKED] = "blocked upstream",
                                                    [RP_PC_DOWN_BLOCKED] = "blocked downstream" };
    fprintf(out, "  %-*s ", LABEL_W, "port sample");
    if (ps->state != RP_PORT_SAMPLE_DONE) {
        fprintf(out, "%s: %.*s\n\n", port_sample_state[ps->state], (int)sizeof ps->why,
                ps->why[0] ? ps->why : "not run");
        return;
    }
    fprintf(out, "%u ports of %u-%u:", ps->tried, ps->from, ps->to);
    for (unsigned i = 0; i < ps->nranges; i++)
        fprintf(out, "%s %u-%u %s", i ? "," : "", ps->ranges[i].from, ps->ranges[i].to, how[ps->ranges[i].status]);
    fprintf(out, "%s\n\n", ps->truncated ? ", ..." : "");
}

/* The NAT block: the type, then each address the run saw. */
static void print_nat(const struct rp_report *r, FILE *out)
{
    const struct { const char *label, *text; size_t cap; } rows[] = {
        { "  local media socket", r->nat.local, sizeof r->nat.local },
        { "  seen by control", r->nat.control_seen, sizeof r->nat.control_seen },
        { "  STUN via media port", r->nat.mapped, sizeof r->nat.mapped },
        { "  STUN via STUN server", r->nat.mapped_stun, sizeof r->nat.mapped_stun },
        { "  announced", r->nat.announced, sizeof r->nat.announced },
        { "  latched by host", r->nat.latched, sizeof r->nat.latched },
    };
    fprintf(out, "  %-*s %.*s\n", LABEL_W, "NAT type",
            (int)sizeof r->nat.type, strnlen(r->nat.type, sizeof r->nat.type) ? r->nat.type : "unknown");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        fprintf(out, "  %-*s %.*s\n", LABEL_W, rows[i].label, (int)rows[i].cap,
                text_or_dash(rows[i].text, rows[i].cap));
    fputc('\n', out);
}

void rp_report_print_text(const struct rp_report *r, FILE *out)
{
    const struct rp_dir_report *u = &r->up, *d = &r->down;
    bool um = u->measured, dm = d->measured;
    bool ug = um && u->rx.received > 0, dg = dm && d->rx.received > 0;

    fprintf(out, "rtpprobe report: %.*s, session %.*s\n",
            (int)sizeof r->server, text_or_dash(r->server, sizeof r->server),
            (int)sizeof r->session_id, text_or_dash(r->session_id, sizeof r->session_id));
    bool has_cipher = strnlen(r->cipher, sizeof r->cipher) > 0;
    char jb[48];
    snprintf(jb, sizeof jb, r->jitter_buffer_adaptive ? "adaptive (MOS), fixed %u ms" : "%u ms (MOS)",
             r->jitter_buffer_ms);
    fprintf(out, "  %.*s %u ms, %s kbit/s, %.*s%s%.*s, %s s, jitter buffer %s, media port %u\n\n",
            (int)sizeof r->codec, text_or_dash(r->codec, sizeof r->codec), r->ptime_ms,
            num_trim(r->bitrate / 1000.0, 3).s,
            (int)sizeof r->transport, text_or_dash(r->transport, sizeof r->transport),
            has_cipher ? " " : "", (int)sizeof r->cipher, has_cipher ? r->cipher : "",
            num_trim(r->duration_s, 1).s, jb, r->media_port);
    print_relay(r, out);

    row(out, "", "upstream", "downstream");
    row(out, "", "agent->host", "host->agent");
    row(out, "measured", um ? "yes" : "no", dm ? "yes" : "no");
    row(out, "sent", cell_u64(um || u->sent, u->sent).s, cell_u64(dm || d->sent, d->sent).s);
    row(out, "received", cell_u64(um, u->rx.received).s, cell_u64(dm, d->rx.received).s);
    row(out, "lost", cell_i64(um, u->rx.lost).s, cell_i64(dm, d->rx.lost).s);
    row(out, "loss", cell_real(um, u->rx.loss_pct, 2, "%").s, cell_real(dm, d->rx.loss_pct, 2, "%").s);
    row(out, "duplicates", cell_u64(um, u->rx.duplicates).s, cell_u64(dm, d->rx.duplicates).s);
    row(out, "reordered", cell_u64(um, u->rx.reordered).s, cell_u64(dm, d->rx.reordered).s);
    print_playout_rows(r, out);
    row(out, "loss bursts", cell_u64(um, u->rx.bursts).s, cell_u64(dm, d->rx.bursts).s);
    row(out, "longest burst", cell_u64(um, u->rx.max_burst).s, cell_u64(dm, d->rx.max_burst).s);
    row(out, "burst ratio", cell_real(ug, u->rx.burst_ratio, 2, "").s,
        cell_real(dg, d->rx.burst_ratio, 2, "").s);
    row(out, "jitter", cell_real(ug, u->rx.jitter_ms, 2, "ms").s, cell_real(dg, d->rx.jitter_ms, 2, "ms").s);
    row(out, "jitter (mean)", cell_real(ug, u->rx.jitter_mean_ms, 2, "ms").s,
        cell_real(dg, d->rx.jitter_mean_ms, 2, "ms").s);
    row(out, "IPDV p50", cell_real(ug, u->rx.ipdv_p50_ms, 2, "ms").s, cell_real(dg, d->rx.ipdv_p50_ms, 2, "ms").s);
    row(out, "IPDV p95", cell_real(ug, u->rx.ipdv_p95_ms, 2, "ms").s, cell_real(dg, d->rx.ipdv_p95_ms, 2, "ms").s);
    row(out, "IPDV p99", cell_real(ug, u->rx.ipdv_p99_ms, 2, "ms").s, cell_real(dg, d->rx.ipdv_p99_ms, 2, "ms").s);
    row(out, "IPDV max", cell_real(ug, u->rx.ipdv_max_ms, 2, "ms").s, cell_real(dg, d->rx.ipdv_max_ms, 2, "ms").s);
    row(out, "bitrate (on the wire)", cell_real(um, u->kbps, 1, "kbps").s, cell_real(dm, d->kbps, 1, "kbps").s);
    row(out, "R-factor", cell_real(ug, u->r_factor, 1, "").s, cell_real(dg, d->r_factor, 1, "").s);
    row(out, "MOS", cell_real(ug, u->mos, 2, "").s, cell_real(dg, d->mos, 2, "").s);
    row(out, "host drops", cell_u64(um, u->host_drops).s, cell_u64(dm, d->host_drops).s);
    row(out, "host skipped", cell_u64(false, 0).s, cell_u64(dm && um, d->host_skipped).s);
    row(out, "auth failures", cell_u64(um, u->auth_failures).s, cell_u64(dm, d->auth_failures).s);
    fputc('\n', out);

    if (r->has_rtt)
        fprintf(out, "  %-*s min %s  avg %s  p95 %s  max %s ms\n", LABEL_W, "RTT",
                num_fixed(r->rtt_min_ms, 2).s, num_fixed(r->rtt_avg_ms, 2).s,
                num_fixed(r->rtt_p95_ms, 2).s, num_fixed(r->rtt_max_ms, 2).s);
    else
        fprintf(out, "  %-*s -\n", LABEL_W, "RTT");
    fprintf(out, "  %-*s %s ms (estimate)\n", LABEL_W, "mouth-to-ear",
            num_fixed(r->mouth_to_ear_ms, 1).s);
    print_nat(r, out);
    print_port_sample(&r->port_sample, out);
    fprintf(out, "  %-*s %s\n", LABEL_W, "verdict", rp_verdict_name(r->verdict));
    fprintf(out, "  %-*s %s\n", LABEL_W, "diagnosis", rp_diagnosis_name(r->diagnosis));
    fprintf(out, "  %-*s %.*s\n", LABEL_W, "cause",
            (int)sizeof r->cause, text_or_dash(r->cause, sizeof r->cause));
    fprintf(out, "  %-*s %.*s\n", LABEL_W, "remediation",
            (int)sizeof r->remediation, text_or_dash(r->remediation, sizeof r->remediation));
}

/* ---- Nagios ----------------------------------------------------------------- */

static const char *nagios_state(enum rp_verdict v)
{
    switch (v) {
    case RP_VERDICT_PASS: return "OK";
    case RP_VERDICT_WARN: return "WARNING";
    case RP_VERDICT_FAIL: return "CRITICAL";
    case RP_VERDICT_UNKNOWN: break;
    }
    return "UNKNOWN";
}

/* Plugin output must not contain '|' before the perfdata, nor a newline. */
static void put_plugin_text(FILE *out, const char *s, size_t cap)
{
    for (size_t i = 0; i < cap && s[i]; i++) {
        char c = s[i];
        fputc(c == '|' ? '/' : (c == '\n' || c == '\r') ? ' ' : c, out);
    }
}

/* Perfdata value: 'U' where the figure could not be determined (plugin guidelines). */
static struct num perf_value(bool known, double v, unsigned decimals, const char *uom)
{
    struct num n;
    if (known && isfinite(v)) {
        fmt_fixed(n.s, sizeof n.s, v, decimals, 1);
        append(n.s, sizeof n.s, "%s", uom);
    } else {
        snprintf(n.s, sizeof n.s, "U");
    }
    return n;
}

static void print_perfdata(const struct rp_report *r, FILE *out);

void rp_report_print_nagios(const struct rp_report *r, FILE *out)
{
    const struct rp_dir_report *u = &r->up, *d = &r->down;
    bool um = u->measured, dm = d->measured;
    bool ug = um && u->rx.received > 0, dg = dm && d->rx.received > 0;

    fprintf(out, "RTPPROBE %s - %s", nagios_state(r->verdict), rp_diagnosis_name(r->diagnosis));
    if (r->verdict != RP_VERDICT_PASS && r->cause[0]) {
        fputs(": ", out);
        put_plugin_text(out, r->cause, sizeof r->cause);
    }
    fprintf(out, ", MOS up %s down %s, loss up %s%s down %s%s",
            ug && u->mos > 0 ? num_fixed(u->mos, 2).s : "n/a",
            dg && d->mos > 0 ? num_fixed(d->mos, 2).s : "n/a",
            um ? num_fixed(u->rx.loss_pct, 1).s : "n/a", um ? "%" : "",
            dm ? num_fixed(d->rx.loss_pct, 1).s : "n/a", dm ? "%" : "");
    print_perfdata(r, out);
}

void rp_report_print_nagios_error(const struct rp_report *r, const char *error, FILE *out)
{
    fputs("RTPPROBE UNKNOWN - ", out);
    put_plugin_text(out, error, strlen(error) + 1);
    fprintf(out, " (measured: %s %s)", rp_verdict_name(r->verdict), rp_diagnosis_name(r->diagnosis));
    print_perfdata(r, out);
}

/* " | label=value[UOM];warn;crit;min;max ...\n": warn and crit the ranges
 * evaluated (guidelines' form), so a reader of the perfdata gets our state
 * per figure; verdict=N (0 pass ... 3 unknown) with warn 0 and crit 1 carries
 * what no single figure shows (a blocked direction, a symmetric NAT, a queue). */
static void print_perfdata(const struct rp_report *r, FILE *out)
{
    const struct rp_dir_report *u = &r->up, *d = &r->down;
    const struct rp_thresholds *t = &r->thresholds;
    bool um = u->measured, dm = d->measured;
    bool ug = um && u->rx.received > 0, dg = dm && d->rx.received > 0;
    const struct rp_range *w = t->warn, *c = t->crit;
    fprintf(out, " | up_loss=%s;%s;%s;0;100 down_loss=%s;%s;%s;0;100",
            perf_value(um, u->rx.loss_pct, perf_decimals[METRIC_LOSS], "%").s, w[RP_THR_LOSS].text,
            c[RP_THR_LOSS].text, perf_value(dm, d->rx.loss_pct, perf_decimals[METRIC_LOSS], "%").s,
            w[RP_THR_LOSS].text, c[RP_THR_LOSS].text);
    fprintf(out, " up_jitter=%s;%s;%s;0 down_jitter=%s;%s;%s;0",
            perf_value(ug, u->rx.jitter_mean_ms, perf_decimals[METRIC_JITTER], "ms").s, w[RP_THR_JITTER].text,
            c[RP_THR_JITTER].text, perf_value(dg, d->rx.jitter_mean_ms, perf_decimals[METRIC_JITTER], "ms").s,
            w[RP_THR_JITTER].text, c[RP_THR_JITTER].text);
    fprintf(out, " rtt=%s;%s;%s;0", perf_value(r->has_rtt, r->rtt_avg_ms, perf_decimals[METRIC_RTT], "ms").s,
            w[RP_THR_RTT].text, c[RP_THR_RTT].text);
    fprintf(out, " up_mos=%s;%s;%s;1;5 down_mos=%s;%s;%s;1;5",
            perf_value(ug && u->mos > 0, u->mos, perf_decimals[METRIC_MOS], "").s, w[RP_THR_MOS].text,
            c[RP_THR_MOS].text, perf_value(dg && d->mos > 0, d->mos, perf_decimals[METRIC_MOS], "").s,
            w[RP_THR_MOS].text, c[RP_THR_MOS].text);
    fprintf(out, " verdict=%d;0;1;0;3\n", rp_report_exit_code(r));
}
