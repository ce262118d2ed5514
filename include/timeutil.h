/* Clocks in nanoseconds, and the unit conversions every module shares. */
#ifndef RP_TIMEUTIL_H
#define RP_TIMEUTIL_H
#include <stdint.h>
#include <sys/time.h>

/* unsigned long long: a product with seconds or milliseconds never wraps at 32 bits. */
#define NS_PER_MS 1000000ull
#define NS_PER_S  1000000000ull

uint64_t rp_realtime_ns(void);   /* CLOCK_REALTIME: only to set a steady wall clock or map a stamp (below) */
uint64_t rp_monotonic_ns(void);  /* CLOCK_MONOTONIC: every interval, scheduling and expiry */
/* A duration in ns as libevent's timeout (microsecond resolution). */
struct timeval rp_timeval_of_ns(uint64_t ns);

/* A realtime instant (a kernel receive stamp) on the monotonic clock, given
 * both clocks read together just after it: real_ns - (now_real - now_mono).
 * Exact unless the wall clock was stepped in between (microseconds for a
 * stamp read at once); a stamp after now_real gives now_mono. */
uint64_t rp_mono_of_real(uint64_t real_ns, uint64_t now_real, uint64_t now_mono);

/* A wall clock no step of the system clock can move: CLOCK_MONOTONIC plus the
 * realtime - monotonic offset captured once (per daemon session, per probe
 * run). T1..T3 on the wire come from it, so the differences the RTT takes are
 * monotonic intervals; the wall time itself is the one set at capture. */
struct rp_wallclock {
    uint64_t offset_ns;  /* realtime - monotonic at capture, modulo 2^64 */
};
struct rp_wallclock rp_wallclock_at(uint64_t now_real, uint64_t now_mono);
struct rp_wallclock rp_wallclock_now(void);
/* The steady wall time of a monotonic instant. */
uint64_t rp_wallclock_ns(const struct rp_wallclock *c, uint64_t mono_ns);
#endif
