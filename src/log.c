/* Logging: one line per event to stderr, which journald records under systemd.
 * The level is module state, as in OpenBSD's log.c: it is set once at start-up
 * and on reload, and every module logs through it. So are the output stream and
 * whether it is the journal's (both set at start-up, by rp_log_init). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"

static const char *log_progname = "rtpprobe";
static enum rp_log_level log_level = RP_LOG_INFO;
static FILE *log_out;   /* NULL: stderr (it is not a constant initialiser) */
static int log_journal; /* log_out is a journal stream: lines carry the level prefix */

static const char *const level_names[] = { "err", "warn", "info", "debug" };
/* sd-daemon(3) SD_ERR, SD_WARNING, SD_INFO, SD_DEBUG: journald strips the prefix
 * and records the line at that priority (journalctl -p warning shows err and warn). */
static const char *const level_prefix[] = { "<3>", "<4>", "<6>", "<7>" };

void rp_log_init(const char *progname, enum rp_log_level level)
{
    log_progname = progname;
    log_level = level;
    rp_log_set_output(stderr);
}

/* One decimal number, digits only (strtoumax alone would take "-1" and " 1"). */
static const char *parse_u64(const char *s, uintmax_t *out)
{
    if (!isdigit((unsigned char)*s))
        return NULL;
    char *end;
    errno = 0;
    *out = strtoumax(s, &end, 10);
    return errno ? NULL : end;
}

/* systemd passes JOURNAL_STREAM on to children whatever they do with stderr (a
 * shell in a service redirecting to a file, a terminal), so the variable alone
 * says nothing: only the device and inode of the stream it names, compared with
 * our own descriptor's, do (sd_journal_stream_fd(3), systemd.exec(5)). */
int rp_log_journal_stream_is(const char *value, int fd)
{
    uintmax_t dev, ino;
    struct stat st;
    if (!value || !(value = parse_u64(value, &dev)) || *value != ':')
        return 0;
    if (!(value = parse_u64(value + 1, &ino)) || *value != '\0')
        return 0;
    if (fd < 0 || fstat(fd, &st) < 0)
        return 0;
    return (uintmax_t)st.st_dev == dev && (uintmax_t)st.st_ino == ino;
}

void rp_log_set_output(FILE *out)
{
    log_out = out;
    log_journal = rp_log_journal_stream_is(getenv("JOURNAL_STREAM"), fileno(out));
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
    fprintf(log_out ? log_out : stderr, "%s%s: %s: %s\n", log_journal ? level_prefix[level] : "", log_progname,
            level_names[level], line);
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
