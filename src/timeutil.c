#include <time.h>

#include "timeutil.h"

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

uint64_t rp_realtime_ns(void)
{
    return clock_ns(CLOCK_REALTIME);
}

uint64_t rp_monotonic_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

struct timeval rp_timeval_of_ns(uint64_t ns)
{
    struct timeval tv = { .tv_sec = (time_t)(ns / NS_PER_S), .tv_usec = (suseconds_t)(ns % NS_PER_S / 1000u) };
    return tv;
}

uint64_t rp_mono_of_real(uint64_t real_ns, uint64_t now_real, uint64_t now_mono)
{
    /* Through the stamp's age: both sides of each subtraction are on one clock,
     * and no intermediate value can wrap. */
    if (real_ns >= now_real)
        return now_mono;
    uint64_t age = now_real - real_ns;
    return age < now_mono ? now_mono - age : 0;
}

struct rp_wallclock rp_wallclock_at(uint64_t now_real, uint64_t now_mono)
{
    return (struct rp_wallclock){ .offset_ns = now_real - now_mono };
}

struct rp_wallclock rp_wallclock_now(void)
{
    uint64_t real = rp_realtime_ns();
    return rp_wallclock_at(real, rp_monotonic_ns());
}

uint64_t rp_wallclock_ns(const struct rp_wallclock *c, uint64_t mono_ns)
{
    return mono_ns + c->offset_ns;
}
