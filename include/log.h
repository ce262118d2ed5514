/* Logging to stderr (journald picks it up under systemd). */
#ifndef RP_LOG_H
#define RP_LOG_H

#include <stdio.h>

enum rp_log_level { RP_LOG_ERR = 0, RP_LOG_WARN, RP_LOG_INFO, RP_LOG_DEBUG };

/* Logs to stderr; see rp_log_set_output for the journal's level prefixes. */
void rp_log_init(const char *progname, enum rp_log_level level);
/* Where the lines go (stderr unless a test says otherwise). Each line starts with
 * the sd-daemon(3) level prefix ("<3>" err ... "<7>" debug) when JOURNAL_STREAM
 * names this stream's file (systemd connected it to the journal); otherwise the
 * lines are as on a terminal. Evaluated here, once, not per line. */
void rp_log_set_output(FILE *out);
/* 1 when value ("<dev>:<inode>", decimal, as systemd sets JOURNAL_STREAM) names
 * the file fd is open on; 0 otherwise, NULL or malformed included. */
int  rp_log_journal_stream_is(const char *value, int fd);
void rp_log_set_level(enum rp_log_level level);
int  rp_log_level_parse(const char *name, enum rp_log_level *out); /* 0 ok, -1 unknown */
void rp_log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rp_log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rp_log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rp_log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Start-up only, or where going on would be worse than stopping: log and exit(1). */
_Noreturn void rp_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
