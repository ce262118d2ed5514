/* The probe's figures as a node_exporter textfile collector file (Prometheus
 * text exposition format 0.0.4): formatting, kept pure for the tests, and an
 * atomic replace of the file (temporary file, fsync, rename) so that the
 * collector never reads half a file. Names and labels: docs/usage.md
 * "Monitoring outputs". */
#ifndef RP_TEXTFILE_H
#define RP_TEXTFILE_H

#include <stddef.h>
#include <stdio.h>

#include "report.h"

/* What the report does not hold. */
struct rp_textfile_run {
    const char *agent;       /* label value: --agent or the host name */
    double      timestamp_s; /* Unix time the run ended */
    double      duration_s;  /* the run's wall time, control exchange included; < 0 = left out */
};

/* Writes every family that has a sample, each with its HELP and TYPE lines.
 * Values not measured have no sample (never a 0). 0, or -1 when out fails. */
int rp_textfile_format(const struct rp_report *r, const struct rp_textfile_run *run, FILE *out);

/* A label value escaped as the format wants (\\, \" and \n) into out, always
 * NUL-terminated when outlen > 0; a value that does not fit is cut whole
 * escapes first. Returns the length written. */
size_t rp_textfile_escape(const char *s, char *out, size_t outlen);


/* rp_textfile_format() then rp_file_replace(). 0 or -1 with err set. */
int rp_textfile_write(const struct rp_report *r, const struct rp_textfile_run *run, const char *path, char *err,
                      size_t errlen);

#endif
