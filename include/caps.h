/* Giving up capabilities for good once the daemon no longer needs them
 * (CAP_NET_RAW after the port check's raw socket is open). */
#ifndef RP_CAPS_H
#define RP_CAPS_H

#include <stdbool.h>

/* Drops capability `cap` (linux/capability.h) from the effective,
 * permitted and inheritable sets (capset) and the ambient set (prctl), so
 * that neither this process nor what it runs can raise it again. A process
 * without it succeeds too. 0, or -1 with errno. */
int rp_caps_drop(int cap);
/* Whether the process has `cap` in its effective or permitted set. */
bool rp_caps_has(int cap);

#endif
