/* rtpprobed's command line: options, --check-config, --hash-token. */
#ifndef RP_DAEMON_CLI_H
#define RP_DAEMON_CLI_H

int rp_daemon_main(int argc, char **argv);

#endif
