/* metricsrender: what one /metrics scrape costs the daemon's loop with N
 * agents in the report store (docs/bench.md, "The cost of a scrape").
 *
 *   build/tools/metricsrender [N [ROUNDS]]
 *
 * Fills a store with N agents (every figure present, names as long as a site
 * would use) and times rp_metrics_render() ROUNDS times (default 1000 agents,
 * 20 rounds); prints the size and the fastest and median render. The render
 * runs on the loop that sends the media, so this is the stall a scrape adds. */
#include <stdio.h>
#include <stdlib.h>

#include "agents.h"
#include "metrics.h"
#include "timeutil.h"

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 1000;
    unsigned rounds = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 20;
    if (n < 1 || n > RP_AGENTS_LIMIT || rounds < 1 || rounds > 1000) {
        fprintf(stderr, "usage: metricsrender [N (1-%d) [ROUNDS (1-1000)]]\n", RP_AGENTS_LIMIT);
        return 2;
    }
    struct rp_agents *a = rp_agents_new(n);
    uint64_t *ns = calloc(rounds, sizeof *ns);
    if (!a || !ns)
        return 1;
    struct rp_agent_report r = { .f = { .mos = { 4.41, 4.2 }, .loss_ratio = { 0.01, 0 }, .jitter_s = { 0.002, 0.003 },
                                        .delay_rise_s = { 0.001, 0.0005 }, .rtt_s = 0.0301, .verdict = 1 } };
    for (unsigned i = 0; i < n; i++) {
        snprintf(r.agent, sizeof r.agent, "agent-%05u.site-a", i);
        if (rp_agents_put(a, &r, 1733480000.5 + i) < 0)
            return 1;
    }
    struct rp_metrics_snapshot m = { .port_min = 10000, .port_max = 20000, .agents = a };
    size_t len = 0;
    for (unsigned k = 0; k < rounds; k++) {
        uint64_t t0 = rp_monotonic_ns();
        char *text = rp_metrics_render(&m, &len);
        ns[k] = rp_monotonic_ns() - t0;
        if (!text)
            return 1;
        free(text);
    }
    qsort(ns, rounds, sizeof *ns, cmp_u64);
    printf("%u agents: %zu bytes; render fastest %.2f ms, median %.2f ms (%u rounds)\n", n, len, ns[0] / 1e6,
           ns[rounds / 2] / 1e6, rounds);
    free(ns);
    rp_agents_free(a);
    return 0;
}
