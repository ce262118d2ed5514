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
