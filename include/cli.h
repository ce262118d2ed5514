/* rtpprobe's command line: option parsing, validation with one-line errors,
 * and the `emodel` planning subcommand. Exit codes follow the Nagios plugin
 * convention: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (including usage errors). */
#ifndef RP_CLI_H
#define RP_CLI_H

/* Exit codes: RP_EXIT_* in report.h. */

int rp_cli_main(int argc, char **argv);

/* --timeout S: whole seconds 1..600; a value >= 100 is the old milliseconds
 * form, rounded up to seconds, with *ms_form set to it (else 0) for the
 * deprecation warning. 0, or -1 when out of range. */
int rp_cli_parse_timeout(const char *s, unsigned *seconds, unsigned *ms_form);

#endif
