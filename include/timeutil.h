#ifndef RP_TIMEUTIL_H
#define RP_TIMEUTIL_H
#include <stdint.h>
uint64_t rp_realtime_ns(void);   /* CLOCK_REALTIME: what goes on the wire */
uint64_t rp_monotonic_ns(void);  /* CLOCK_MONOTONIC: for scheduling and expiry */
#endif
