/* The report as one self-contained HTML page (rtpprobe --html FILE): the verdict,
 * diagnosis, cause and remediation in the static HTML, the per-direction table and
 * the per-second plots drawn by an inline script from the report's JSON embedded in
 * the page. No external assets, no network fetches: an agent attaches it to a ticket. */
#ifndef RP_HTMLREPORT_H
#define RP_HTMLREPORT_H

#include <stddef.h>
#include <stdio.h>

#include "report.h"

/* Writes the page to path atomically (a temporary file in the same directory,
 * then rename): a reader never sees half a page. 0, or -1 with the reason in err. */
int rp_report_write_html(const struct rp_report *r, const char *path, char *err, size_t errlen);

/* The page itself, to out (what rp_report_write_html writes). 0, or -1. */
int rp_report_html(const struct rp_report *r, FILE *out);

#endif
