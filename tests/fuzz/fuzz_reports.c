/* libFuzzer target: a POST /v1/reports body (not NUL-terminated), as the
 * daemon parses it, then kept in a small store that lives as long as the
 * process (so evictions and replacements build up across inputs).
 *
 * Aborts when a parse fails without a reason, or succeeds with an agent name
 * that is not label-safe or a figure outside its range, or when the store
 * holds more agents than its bound or loses its name order. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agents.h"

#define STORE_MAX 4

static void check_figure(double v, double lo, double hi)
{
    if (!isnan(v) && !(v >= lo && v <= hi))
        abort();
}

static void check_report(const struct rp_agent_report *r)
{
    if (!rp_agent_name_valid(r->agent, strlen(r->agent)) || r->f.verdict > 3)
        abort();
    for (unsigned d = 0; d < RP_AGENT_DIRS; d++) {
        check_figure(r->f.mos[d], 1, 5);
        check_figure(r->f.loss_ratio[d], 0, 1);
        check_figure(r->f.jitter_s[d], 0, 3600);
        check_figure(r->f.delay_rise_s[d], 0, 3600);
    }
    check_figure(r->f.rtt_s, 0, 3600);
}

static void check_store(const struct rp_agents *a)
{
    unsigned n = rp_agents_count(a);
    if (n > STORE_MAX || n == 0)
        abort();
    for (unsigned i = 1; i < n; i++)
        if (strcmp(rp_agents_name(a, i - 1), rp_agents_name(a, i)) >= 0)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct rp_agents *store;
    static double now;
    if (!store && !(store = rp_agents_new(STORE_MAX)))
        abort();
    struct rp_agent_report r;
    char err[256];
    err[0] = '\0';
    if (rp_agents_parse((const char *)data, size, &r, err, sizeof err) < 0) {
        if (err[0] == '\0' || memchr(err, '\0', sizeof err) == NULL)
            abort();
        return 0;
    }
    check_report(&r);
    if (rp_agents_put(store, &r, now++) < 0)
        abort();
    check_store(store);
    return 0;
}
