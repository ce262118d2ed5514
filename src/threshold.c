/* Threshold ranges (Monitoring Plugins development guidelines) and the probe's
 * warning and critical ranges per metric. Pure: no I/O. */
#include "threshold.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The input's own length limit: the text written back may add "0:" or "@0:". */
#define RANGE_INPUT_MAX (RP_RANGE_TEXT - 4)

/* An optional sign, digits, an optional decimal part: "5", "-0.5", ".5", "+5.".
 * The plain decimal form every perfdata reader takes (Monitoring::Plugin, the
 * C library's strtod, Icinga 2). Copies it (without a '+') into text. */
static int parse_number(const char *s, size_t n, double *v, char *text)
{
    size_t i = 0, digits = 0;
    if (n > 0 && (s[0] == '+' || s[0] == '-'))
        i++;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
        digits++;
    if (i < n && s[i] == '.')
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            digits++;
    if (i != n || digits == 0)
        return -1;
    size_t skip = s[0] == '+' ? 1 : 0;
    memcpy(text, s + skip, n - skip);
    text[n - skip] = '\0';
    *v = strtod(text, NULL);
    return 0;
}

/* The range as the guidelines write it, numbers as given: the start is left
 * out when it is 0 and the form is the normal one with an end ("10", not
 * "0:10"); '@' ranges always say their start. */
static void range_text(struct rp_range *r, const char *start, const char *end)
{
    bool start_inf = isinf(r->start);
    bool show_start = start_inf || !end[0] || r->inside || r->start != 0;
    /* Both numbers come from an input of at most RANGE_INPUT_MAX characters:
     * the text fits; the bound is for the compiler. */
    char buf[2 * RP_RANGE_TEXT + 4];
    snprintf(buf, sizeof buf, "%s%s%s%s", r->inside ? "@" : "",
             start_inf ? "~" : show_start ? (start[0] ? start : "0") : "", show_start ? ":" : "", end);
    size_t n = strnlen(buf, sizeof r->text - 1);
    memcpy(r->text, buf, n);
    r->text[n] = '\0';
}

int rp_range_parse(const char *s, struct rp_range *r, char *err, size_t errlen)
{
    struct rp_range out = { .start = 0, .end = INFINITY, .inside = false };
    char start[RP_RANGE_TEXT] = "", end[RP_RANGE_TEXT] = "";
    const char *p = s;
    if (strlen(s) > RANGE_INPUT_MAX) {
        snprintf(err, errlen, "range \"%.40s...\" is too long (at most %d characters)", s, RANGE_INPUT_MAX);
        return -1;
    }
    if (*p == '@') {
        out.inside = true;
        p++;
    }
    const char *colon = strchr(p, ':');
    int bad = 0;
    if (colon) {
        size_t n = (size_t)(colon - p);
        if (n == 1 && p[0] == '~')
            out.start = -INFINITY;
        else if (n > 0)
            bad |= parse_number(p, n, &out.start, start);
        p = colon + 1;
        if (*p)
            bad |= parse_number(p, strlen(p), &out.end, end);
    } else {
        bad |= parse_number(p, strlen(p), &out.end, end);
    }
    /* Something must bound it: "", ":" and "@" are no range. */
    if (!bad && !isinf(out.start) && !start[0] && !end[0])
        bad = -1;
    if (bad) {
        snprintf(err, errlen, "\"%s\" is not a threshold range (10, 10:, ~:10, 10:20 or @10:20; plain decimal "
                 "numbers)", s);
        return -1;
    }
    if (out.start > out.end) {
        snprintf(err, errlen, "range \"%s\": the start is above the end", s);
        return -1;
    }
    range_text(&out, start, end);
    *r = out;
    return 0;
}

bool rp_range_alerts(const struct rp_range *r, double v)
{
    bool in = v >= r->start && v <= r->end;
    return r->inside ? in : !in;
}

/* An outside-form range alerts on (-inf, start) and (end, inf); an inside-form
 * one on [start, end]. Infinite ends make the open parts empty. */
bool rp_range_alerts_within(const struct rp_range *n, const struct rp_range *w)
{
    if (!n->inside && !w->inside) /* w's quiet interval inside n's */
        return n->start <= w->start && n->end >= w->end;
    if (n->inside && w->inside)
        return w->start <= n->start && n->end <= w->end;
    if (n->inside) /* n's alert interval clear of w's quiet one */
        return n->end < w->start || n->start > w->end;
    /* Both open parts of n inside w's alert interval (or empty). */
    bool low = isinf(n->start) || (isinf(w->start) && n->start <= w->end);
    bool high = isinf(n->end) || (isinf(w->end) && n->end >= w->start);
    return low && high;
}

static const char *const metric_names[RP_THR_N] = {
    [RP_THR_LOSS] = "loss", [RP_THR_JITTER] = "jitter", [RP_THR_RTT] = "rtt", [RP_THR_MOS] = "mos",
};

const char *rp_thr_metric_name(enum rp_thr_metric m)
{
    return (unsigned)m < RP_THR_N ? metric_names[m] : "?";
}

void rp_thresholds_default(struct rp_thresholds *t)
{
    static const char *const warn[RP_THR_N] = { "1", "30", "300", "4:" };
    static const char *const crit[RP_THR_N] = { "5", "60", "600", "3.6:" };
    char err[128];
    for (unsigned m = 0; m < RP_THR_N; m++) {
        /* Constant and valid: cannot fail. */
        (void)rp_range_parse(warn[m], &t->warn[m], err, sizeof err);
        (void)rp_range_parse(crit[m], &t->crit[m], err, sizeof err);
    }
}

/* One "METRIC=RANGE" of length n into set[]. */
static int set_one(struct rp_range *set, const char *item, size_t n, char *err, size_t errlen)
{
    const char *eq = memchr(item, '=', n);
    char range[RANGE_INPUT_MAX + 2];
    if (!eq) {
        snprintf(err, errlen, "\"%.*s\" is not METRIC=RANGE (metrics: loss, jitter, rtt, mos)", (int)n, item);
        return -1;
    }
    size_t name_len = (size_t)(eq - item), range_len = n - name_len - 1;
    unsigned m = 0;
    while (m < RP_THR_N && (strlen(metric_names[m]) != name_len || memcmp(item, metric_names[m], name_len) != 0))
        m++;
    if (m == RP_THR_N) {
        snprintf(err, errlen, "unknown metric \"%.*s\" (loss, jitter, rtt, mos)", (int)name_len, item);
        return -1;
    }
    if (range_len >= sizeof range) {
        snprintf(err, errlen, "%s: range \"%.*s\" is too long", metric_names[m], (int)range_len, eq + 1);
        return -1;
    }
    memcpy(range, eq + 1, range_len);
    range[range_len] = '\0';
    char why[160];
    if (rp_range_parse(range, &set[m], why, sizeof why) < 0) {
        snprintf(err, errlen, "%s: %s", metric_names[m], why);
        return -1;
    }
    return 0;
}

int rp_thresholds_set(struct rp_thresholds *t, enum rp_thr_level level, const char *spec, char *err, size_t errlen)
{
    struct rp_range set[RP_THR_N];
    memcpy(set, level == RP_THR_CRIT ? t->crit : t->warn, sizeof set);
    const char *p = spec;
    for (;;) {
        size_t n = strcspn(p, ",");
        if (n == 0) {
            snprintf(err, errlen, "expected METRIC=RANGE[,METRIC=RANGE...], got \"%s\"", spec);
            return -1;
        }
        if (set_one(set, p, n, err, errlen) < 0)
            return -1;
        if (p[n] == '\0')
            break;
        p += n + 1;
    }
    memcpy(level == RP_THR_CRIT ? t->crit : t->warn, set, sizeof set);
    return 0;
}

int rp_thresholds_check_order(const struct rp_thresholds *t, char *err, size_t errlen)
{
    for (unsigned m = 0; m < RP_THR_N; m++) {
        /* Ranges of different forms (-w loss=@0:0 -c loss=5: "no loss at all
         * is suspect, much loss is critical") say different things: no order. */
        if (t->crit[m].inside != t->warn[m].inside || rp_range_alerts_within(&t->crit[m], &t->warn[m]))
            continue;
        snprintf(err, errlen, "warning and critical in the wrong order for %s: critical %s=%s alerts where "
                 "warning %s=%s does not (the warning range must lie inside the critical one)",
                 metric_names[m], metric_names[m], t->crit[m].text, metric_names[m], t->warn[m].text);
        return -1;
    }
    return 0;
}
