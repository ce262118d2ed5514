/* Clocks in nanoseconds, and the unit conversions every module shares. */
#ifndef RP_TIMEUTIL_H
#define RP_TIMEUTIL_H
#include <stdint.h>
#include <sys/time.h>

/* unsigned long long: a product with seconds or milliseconds never wraps at 32 bits. */
#define NS_PER_MS 1000000ull
#define NS_PER_S  1000000000ull

uint64_t rp_realtime_ns(void);   /* CLOCK_REALTIME: what goes on the wire */
uint64_t rp_monotonic_ns(void);  /* CLOCK_MONOTONIC: for scheduling and expiry */
/* A duration in ns as libevent's timeout (microsecond resolution). */
struct timeval rp_timeval_of_ns(uint64_t ns);
#endif
