/* rtpprobe's command line: option parsing, validation with one-line errors,
 * and the `emodel` planning subcommand. Exit codes follow the Nagios plugin
 * convention: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (including usage errors). */
#ifndef RP_CLI_H
#define RP_CLI_H

#include <stdbool.h>

/* Exit codes: RP_EXIT_* in report.h. */

int rp_cli_main(int argc, char **argv);

/* --timeout S: whole seconds 1..600; a value above 600 is the old milliseconds
 * form (601..600000), rounded up to seconds, with *ms_form set to it (else 0)
 * for the deprecation warning. 0, or -1 when out of range. */
int rp_cli_parse_timeout(const char *s, unsigned *seconds, unsigned *ms_form);

/* A bearer token of RFC 6750's b64token characters only (no header injection). */
bool rp_cli_token_valid(const char *token);

/* One printable line: control bytes become '?', and with nagios '|' becomes '/'. */
void rp_cli_clean_line(char *s, bool nagios);

#endif
