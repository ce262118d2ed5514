/* Logging: one line per event to stderr, which journald records under systemd.
 * The level is module state, as in OpenBSD's log.c: it is set once at start-up
 * and on reload, and every module logs through it. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static const char *log_progname = "rtpprobe";
static enum rp_log_level log_level = RP_LOG_INFO;

static const char *const level_names[] = { "err", "warn", "info", "debug" };

void rp_log_init(const char *progname, enum rp_log_level level)
{
    log_progname = progname;
    log_level = level;
}

void rp_log_set_level(enum rp_log_level level)
{
    log_level = level;
}

int rp_log_level_parse(const char *name, enum rp_log_level *out)
{
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (enum rp_log_level)i;
            return 0;
        }
    }
    return -1;
}

static void vlog(enum rp_log_level level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void vlog(enum rp_log_level level, const char *fmt, va_list ap)
{
    if (level > log_level)
        return;
    /* One fprintf per line so that concurrent writers do not interleave. */
    char line[1024];
    vsnprintf(line, sizeof line, fmt, ap);
    fprintf(stderr, "%s: %s: %s\n", log_progname, level_names[level], line);
}

#define DEFINE_LOG(fn, level)                                                                      \
    void fn(const char *fmt, ...)                                                                  \
    {                                                                                              \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        vlog(level, fmt, ap);                                                                      \
        va_end(ap);                                                                                \
    }

DEFINE_LOG(rp_log_err, RP_LOG_ERR)
DEFINE_LOG(rp_log_warn, RP_LOG_WARN)
DEFINE_LOG(rp_log_info, RP_LOG_INFO)
DEFINE_LOG(rp_log_debug, RP_LOG_DEBUG)

void rp_fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(RP_LOG_ERR, fmt, ap);
    va_end(ap);
    exit(1);
}
