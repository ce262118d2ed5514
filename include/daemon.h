/* rtpprobed's life cycle: load config, bind, announce readiness, run the loop,
 * reload on SIGHUP, shut down cleanly on SIGTERM/SIGINT. */
#ifndef RP_DAEMON_H
#define RP_DAEMON_H

/* Returns the process exit code. */
int rp_daemon_run(const char *config_path);

#endif
