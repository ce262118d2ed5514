/* rtpprobe --push: the finished report to the daemon's POST /v1/reports, which
 * keeps the latest figures per agent for its /metrics (docs/usage.md
 * "Monitoring outputs", docs/control-api.md). */
#ifndef RP_PUSH_H
#define RP_PUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "probe.h"
#include "report.h"

/* An agent name becomes a Prometheus label value: rp_agent_name_valid()
 * (agents.h). s with every other byte replaced by '_', cut at
 * RP_AGENT_NAME_MAX; "unknown" when s is empty. out holds RP_AGENT_NAME_MAX + 1
 * bytes or more. */
void rp_push_agent_clean(const char *s, char *out, size_t outlen);
/* The host name (gethostname), cleaned as above: the --agent default. */
void rp_push_agent_default(char *out, size_t outlen);

/* Removes the per-second arrays (upstream/downstream "per_second" and
 * "rtt_per_second") from a --json report object: the daemon reads only the
 * summary, and its request body is bounded. */
void rp_push_strip(json_t *report);
/* {"agent": agent, "report": <the --json report without per-second arrays>};
 * NULL when out of memory. */
json_t *rp_push_body(const struct rp_report *r, const char *agent);

/* POSTs the body to the daemon of o->server with the run's token, TLS,
 * proxy and --cacert/--insecure settings, done before deadline_ns
 * (CLOCK_MONOTONIC, rp_monotonic_ns()). Needs curl_global_init() done. 0 when
 * the daemon accepted it (2xx), else -1 and a one-line message (which may
 * quote the daemon). */
int rp_push_report(const struct rp_probe_opts *o, const struct rp_report *r, const char *agent,
                   uint64_t deadline_ns, char *err, size_t errlen);

#endif
