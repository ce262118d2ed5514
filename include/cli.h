/* rtpprobe's command line: option parsing, validation with one-line errors,
 * and the `emodel` planning subcommand. Exit codes follow the Nagios plugin
 * convention: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (including usage errors). */
#ifndef RP_CLI_H
#define RP_CLI_H

/* Exit codes: RP_EXIT_* in report.h. */

int rp_cli_main(int argc, char **argv);

#endif
