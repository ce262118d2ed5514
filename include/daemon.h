/* rtpprobed's life cycle: load config, bind, announce readiness, run the loop,
 * reload on SIGHUP, shut down cleanly on SIGTERM/SIGINT. */
#ifndef RP_DAEMON_H
#define RP_DAEMON_H

#include <event2/event.h>

/* rtpprobed's exit status (docs/rtpprobed.8): its own convention, not the
 * probe's Nagios codes (RP_EXIT_* in report.h). */
#define RP_DAEMON_EXIT_OK 0
#define RP_DAEMON_EXIT_FAIL 1  /* cannot start; --check-config found a problem; --hash-token got no token */
#define RP_DAEMON_EXIT_USAGE 2

/* Returns the process exit code. */
int rp_daemon_run(const char *config_path);

/* The daemon's event loop: precise timers, RP_PRIORITIES priorities (new
 * events get RP_PRIO_DEFAULT), and at most RP_LOOP_SLICE_MS of default-priority
 * callbacks in a row before timers are looked at again (a callback already
 * running is not interrupted). NULL on failure. */
#define RP_LOOP_SLICE_MS 5
struct event_base *rp_daemon_event_base(void);

#endif
