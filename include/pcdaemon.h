/* The daemon's side of the port-range check (docs/port-check.md): one check
 * at a time, observed through one raw IPPROTO_UDP socket with a BPF filter
 * (no media port is bound, so no other process is ever kept from one). The
 * socket is opened by rp_pcd_new, which needs CAP_NET_RAW; nothing later
 * does, so the daemon drops it after start. Between checks the socket takes
 * nothing. */
#ifndef RP_PCDAEMON_H
#define RP_PCDAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <jansson.h>

struct rp_pcd;

/* NULL when out of memory. */
struct rp_pcd *rp_pcd_new(struct event_base *base);
void rp_pcd_free(struct rp_pcd *d);

/* POST /v1/portchecks: body {"mode": "sample"|"full", "range": "A-B"} (both
 * optional) for a check of port_min..port_max (or RANGE within it) from
 * client. Returns the HTTP status; *answer (new reference) is the created
 * check (201) or {"error": ...}. */
int rp_pcd_create(struct rp_pcd *d, const char *body, size_t len, unsigned port_min, unsigned port_max,
                  const struct sockaddr *client, json_t **answer);
/* GET (remove false) or DELETE (remove true) /v1/portchecks/ID: the daemon's
 * view (ports it saw packets on). Returns the HTTP status and *answer. */
int rp_pcd_get(struct rp_pcd *d, const char *id, bool remove, json_t **answer);

#endif
