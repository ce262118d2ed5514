/* The latest report of each probe agent (POST /v1/reports), for /metrics.
 * Bounded: reports.max_agents agents at most; a new agent beyond that evicts
 * the one whose latest report is oldest, and the evictions are counted.
 * No I/O and no clock: the caller hands in the time a report was accepted. */
#ifndef RP_AGENTS_H
#define RP_AGENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RP_AGENT_NAME_MAX 64    /* [A-Za-z0-9._-]{1,64}: it becomes a label value */
/* The largest reports.max_agents: /metrics is rendered on the media loop, at
 * about 1.6 ms per 1000 agents (docs/configuration.md), a stall every scrape. */
#define RP_AGENTS_LIMIT 2000
#define RP_AGENTS_DEFAULT 1000

enum rp_agent_dir { RP_AGENT_UP = 0, RP_AGENT_DOWN, RP_AGENT_DIRS };

/* What the daemon keeps of a report, in base units. NaN: the report had no
 * figure (null: not measured); /metrics then leaves the sample out. */
struct rp_agent_figures {
    double   mos[RP_AGENT_DIRS];
    double   loss_ratio[RP_AGENT_DIRS];   /* 0-1 */
    double   jitter_s[RP_AGENT_DIRS];     /* mean jitter */
    double   delay_rise_s[RP_AGENT_DIRS];
    double   rtt_s;                       /* mean RTT */
    unsigned verdict;                     /* 0 pass, 1 warn, 2 fail, 3 unknown */
};

struct rp_agent_report {
    char agent[RP_AGENT_NAME_MAX + 1];
    struct rp_agent_figures f;
};

/* 1-64 characters of [A-Za-z0-9._-]: the daemon checks what it is sent, the
 * probe what it is given (--agent) and what it makes of the host name. */
bool rp_agent_name_char(char c);
bool rp_agent_name_valid(const char *name, size_t len);
/* The body of POST /v1/reports: {"agent": NAME, "report": <rtpprobe --json>}.
 * Every key the daemon reads must be there with its type (a figure may be
 * null) and in range; otherwise -1 and a message naming the key. */
int rp_agents_parse(const char *body, size_t len, struct rp_agent_report *out, char *err, size_t errlen);

struct rp_agents;
struct rp_agents *rp_agents_new(unsigned max_agents);
void rp_agents_free(struct rp_agents *a);
/* A new bound (reload); agents beyond it are evicted, oldest report first. */
void rp_agents_set_max(struct rp_agents *a, unsigned max_agents);
/* Keeps r as its agent's latest report, accepted at now_s (the daemon's wall
 * clock, Unix seconds: the agent's clock is not trusted). 0, or -1 when out
 * of memory (nothing changed). */
int rp_agents_put(struct rp_agents *a, const struct rp_agent_report *r, double now_s);
/* A report refused (bad body): counted for /metrics. */
void rp_agents_note_rejected(struct rp_agents *a);

unsigned rp_agents_count(const struct rp_agents *a);
unsigned rp_agents_max(const struct rp_agents *a);
uint64_t rp_agents_evictions(const struct rp_agents *a);
uint64_t rp_agents_reports(const struct rp_agents *a, bool accepted);
/* The i-th agent (0 <= i < count), in name order: its name, figures and
 * when its report was accepted. */
const char *rp_agents_name(const struct rp_agents *a, unsigned i);
const struct rp_agent_figures *rp_agents_figures(const struct rp_agents *a, unsigned i, double *when_s);

#endif
