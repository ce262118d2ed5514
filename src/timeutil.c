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
