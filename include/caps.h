/* Giving up capabilities for good once the daemon no longer needs them
 * (CAP_NET_RAW after the port check's raw socket is open). */
#ifndef RP_CAPS_H
#define RP_CAPS_H

#include <stdbool.h>

/* Drops capability `cap` (linux/capability.h) from the effective,
 * permitted, inheritable and ambient sets, so that this process cannot raise
 * it again, and from the bounding set where the process may (CAP_SETPCAP:
 * root outside systemd), so that a program it ran as root would not get it
 * back either. A process without it succeeds too. 0, or -1 with errno. */
int rp_caps_drop(int cap);
/* Whether the process has `cap` in its effective or permitted set. */
bool rp_caps_has(int cap);

#endif
