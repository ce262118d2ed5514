/* The probe's side of the port-range check (rtpprobe --port-check, docs/port-check.md):
 * asks the daemon for a check, sends the tagged packets at RP_PC_RATE_PPS at
 * most, collects the answers, reads which ports the daemon saw, and prints
 * the merged ranges as text or JSON. */
#ifndef RP_PCPROBE_H
#define RP_PCPROBE_H

#include <stdbool.h>
#include <stdio.h>

#include "httpc.h"
#include "probe.h"

struct rp_pcp_opts {
    const char *range;   /* "A-B" within the daemon's range, or NULL for all of it */
    bool full;           /* every even port, else a sample */
    bool json;
};

/* Returns the exit code: RP_EXIT_OK every port tried is reachable both ways,
 * RP_EXIT_CRIT some are blocked, RP_EXIT_UNKNOWN no result (message on stderr). */
int rp_pcp_run(const struct rp_probe_opts *o, const struct rp_pcp_opts *pc, FILE *out);

/* The normal test's quick sample (diagnosis partial-port-range): the default
 * sample of the daemon's whole media range through the run's own control
 * client, within its deadline. 0 with *out filled (state DONE), -1 with a
 * one-line message (an older daemon, one without CAP_NET_RAW, another check
 * running on the host, an IPv6 media host). */
int rp_pcp_sample(struct rp_httpc *http, struct rp_port_sample *out, char *err, size_t errlen);

#endif
