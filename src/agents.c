/* The latest report per agent. See include/agents.h. Agents are kept in an
 * array of pointers sorted by name: a report finds its agent by binary
 * search, /metrics lists them in a stable order, and only an eviction (a new
 * agent when full) scans them all for the oldest report. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agents.h"
#include "errbuf.h"

struct agent {
    char     name[RP_AGENT_NAME_MAX + 1];
    struct rp_agent_figures f;
    double   when_s;
    uint64_t seq;   /* order of acceptance: the oldest report has the lowest */
};

struct rp_agents {
    struct agent **by_name;
    unsigned n, cap, max;
    uint64_t seq;
    uint64_t evictions;
    uint64_t accepted, rejected;
};

/* ---- parsing ---- */

bool rp_agent_name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
}

bool rp_agent_name_valid(const char *name, size_t len)
{
    if (len == 0 || len > RP_AGENT_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!rp_agent_name_char(name[i]))
            return false;
    return true;
}

/* obj.key, which must be there: an object, or null when may_be_null. */
static int get_object(const json_t *obj, const char *where, const char *key, bool may_be_null, json_t **out,
                      char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return rp_errf(err, errlen, "%s%s: missing", where, key);
    if (json_is_null(v) && may_be_null) {
        *out = NULL;
        return 0;
    }
    if (!json_is_object(v))
        return rp_errf(err, errlen, "%s%s: expected an object%s", where, key, may_be_null ? " or null" : "");
    *out = v;
    return 0;
}

/* obj.key, a number in lo..hi (in the report's unit) or null (NaN), times scale. */
static int get_figure(const json_t *obj, const char *where, const char *key, double lo, double hi, double scale,
                      double *out, char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return rp_errf(err, errlen, "%s%s: missing", where, key);
    if (json_is_null(v)) {
        *out = NAN;
        return 0;
    }
    if (!json_is_number(v))
        return rp_errf(err, errlen, "%s%s: expected a number or null", where, key);
    double d = json_number_value(v);
    if (!(d >= lo && d <= hi))
        return rp_errf(err, errlen, "%s%s: %g is out of range %g..%g", where, key, d, lo, hi);
    *out = d * scale;
    return 0;
}

/* Bounds: what a report can hold, with room; anything beyond is not a report. */
#define MAX_MS 3600000.0 /* an hour */

static int parse_direction(const json_t *report, const char *key, enum rp_agent_dir d, struct rp_agent_figures *f,
                           char *err, size_t errlen)
{
    json_t *dir, *delay;
    char where[48];
    snprintf(where, sizeof where, "report.%s.", key);
    if (get_object(report, "report.", key, false, &dir, err, errlen) < 0 ||
        get_figure(dir, where, "mos", 1, 5, 1, &f->mos[d], err, errlen) < 0 ||
        get_figure(dir, where, "loss_pct", 0, 100, 0.01, &f->loss_ratio[d], err, errlen) < 0 ||
        get_figure(dir, where, "jitter_mean_ms", 0, MAX_MS, 1e-3, &f->jitter_s[d], err, errlen) < 0 ||
        get_object(dir, where, "delay_ms", true, &delay, err, errlen) < 0)
        return -1;
    f->delay_rise_s[d] = NAN;
    snprintf(where, sizeof where, "report.%s.delay_ms.", key);
    return delay ? get_figure(delay, where, "rise", 0, MAX_MS, 1e-3, &f->delay_rise_s[d], err, errlen) : 0;
}

static int parse_verdict(const json_t *report, unsigned *out, char *err, size_t errlen)
{
    static const char *const names[] = { "pass", "warn", "fail", "unknown" }; /* = the Nagios codes */
    json_t *v = json_object_get(report, "verdict");
    if (!v)
        return rp_errf(err, errlen, "report.verdict: missing");
    const char *s = json_string_value(v);
    for (unsigned i = 0; s && i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return 0;
        }
    }
    return rp_errf(err, errlen, "report.verdict: expected \"pass\", \"warn\", \"fail\" or \"unknown\"");
}

static int parse_report(const json_t *root, struct rp_agent_report *out, char *err, size_t errlen)
{
    json_t *agent = json_object_get(root, "agent");
    if (!agent)
        return rp_errf(err, errlen, "agent: missing");
    const char *name = json_string_value(agent);
    size_t nlen = name ? json_string_length(agent) : 0;
    if (!name || !rp_agent_name_valid(name, nlen))
        return rp_errf(err, errlen, "agent: expected 1-%d characters of A-Z a-z 0-9 . _ -", RP_AGENT_NAME_MAX);
    memcpy(out->agent, name, nlen);
    out->agent[nlen] = '\0';
    json_t *report, *rtt;
    struct rp_agent_figures *f = &out->f;
    if (get_object(root, "", "report", false, &report, err, errlen) < 0 ||
        parse_verdict(report, &f->verdict, err, errlen) < 0 ||
        parse_direction(report, "upstream", RP_AGENT_UP, f, err, errlen) < 0 ||
        parse_direction(report, "downstream", RP_AGENT_DOWN, f, err, errlen) < 0 ||
        get_object(report, "report.", "rtt_ms", true, &rtt, err, errlen) < 0)
        return -1;
    f->rtt_s = NAN;
    return rtt ? get_figure(rtt, "report.rtt_ms.", "avg", 0, MAX_MS, 1e-3, &f->rtt_s, err, errlen) : 0;
}

int rp_agents_parse(const char *body, size_t len, struct rp_agent_report *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return rp_errf(err, errlen, "body is not JSON: %s", jerr.text);
    int rc = json_is_object(root) ? parse_report(root, out, err, errlen)
                                  : rp_errf(err, errlen, "body: expected an object {\"agent\":..., \"report\":...}");
    json_decref(root);
    return rc;
}

/* ---- the store ---- */

struct rp_agents *rp_agents_new(unsigned max_agents)
{
    struct rp_agents *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->max = max_agents ? max_agents : 1;
    return a;
}

void rp_agents_free(struct rp_agents *a)
{
    if (!a)
        return;
    for (unsigned i = 0; i < a->n; i++)
        free(a->by_name[i]);
    free(a->by_name);
    free(a);
}

/* Index of name, or of where it would go (*found false). */
static unsigned find(const struct rp_agents *a, const char *name, bool *found)
{
    unsigned lo = 0, hi = a->n;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        int c = strcmp(a->by_name[mid]->name, name);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

static void remove_at(struct rp_agents *a, unsigned i)
{
    free(a->by_name[i]);
    memmove(&a->by_name[i], &a->by_name[i + 1], (a->n - i - 1) * sizeof a->by_name[0]);
    a->n--;
}

static void evict_oldest(struct rp_agents *a)
{
    unsigned old = 0;
    for (unsigned i = 1; i < a->n; i++)
        if (a->by_name[i]->seq < a->by_name[old]->seq)
            old = i;
    remove_at(a, old);
    a->evictions++;
}

void rp_agents_set_max(struct rp_agents *a, unsigned max_agents)
{
    a->max = max_agents ? max_agents : 1;
    while (a->n > a->max)
        evict_oldest(a);
}

/* A new agent at index i (from find), making room first when full. */
static struct agent *insert(struct rp_agents *a, unsigned i, const char *name)
{
    struct agent *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    if (a->n < a->max && a->n == a->cap) {
        unsigned cap = a->cap ? a->cap * 2 : 16;
        cap = cap < a->max ? cap : a->max;
        struct agent **grown = realloc(a->by_name, cap * sizeof *grown);
        if (!grown) {
            free(e);
            return NULL;
        }
        a->by_name = grown;
        a->cap = cap;
    } else if (a->n >= a->max) {
        evict_oldest(a);
        bool found;
        i = find(a, name, &found); /* the eviction may have moved its place */
    }
    memmove(&a->by_name[i + 1], &a->by_name[i], (a->n - i) * sizeof a->by_name[0]);
    a->by_name[i] = e;
    a->n++;
    snprintf(e->name, sizeof e->name, "%s", name);
    return e;
}

int rp_agents_put(struct rp_agents *a, const struct rp_agent_report *r, double now_s)
{
    bool found;
    unsigned i = find(a, r->agent, &found);
    struct agent *e = found ? a->by_name[i] : insert(a, i, r->agent);
    if (!e)
        return -1;
    e->f = r->f;
    e->when_s = now_s;
    e->seq = ++a->seq;
    a->accepted++;
    return 0;
}

void rp_agents_note_rejected(struct rp_agents *a)
{
    a->rejected++;
}

unsigned rp_agents_count(const struct rp_agents *a)
{
    return a->n;
}

unsigned rp_agents_max(const struct rp_agents *a)
{
    return a->max;
}

uint64_t rp_agents_evictions(const struct rp_agents *a)
{
    return a->evictions;
}

uint64_t rp_agents_reports(const struct rp_agents *a, bool accepted)
{
    return accepted ? a->accepted : a->rejected;
}

const char *rp_agents_name(const struct rp_agents *a, unsigned i)
{
    return i < a->n ? a->by_name[i]->name : NULL;
}

const struct rp_agent_figures *rp_agents_figures(const struct rp_agents *a, unsigned i, double *when_s)
{
    if (i >= a->n)
        return NULL;
    if (when_s)
        *when_s = a->by_name[i]->when_s;
    return &a->by_name[i]->f;
}
