/* --paths: the same short media test over direct UDP, TURN/UDP, TURN/TCP and
 * TURN/TLS in turn, a table, and the best working path recommended. */
#ifndef RP_PATHS_H
#define RP_PATHS_H

#include <stdio.h>

#include "probe.h"

/* Runs the four paths with `base` (its turn URI names the relay's host; the
 * credentials are used for every relay path) and prints the table and the
 * recommendation to out. Returns the exit code: the recommended path's
 * verdict, or RP_EXIT_UNKNOWN (3) when no path carries media both ways. */
int rp_paths_run(const struct rp_probe_opts *base, FILE *out);

#endif
