/* Logging to stderr (journald picks it up under systemd). */
#ifndef RP_LOG_H
#define RP_LOG_H

enum rp_log_level { RP_LOG_ERR = 0, RP_LOG_WARN, RP_LOG_INFO, RP_LOG_DEBUG };

void rp_log_init(const char *progname, enum rp_log_level level);
void rp_log_set_level(enum rp_log_level level);
int  rp_log_level_parse(const char *name, enum rp_log_level *out); /* 0 ok, -1 unknown */
void rp_log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rp_log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rp_log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rp_log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Start-up only, or where going on would be worse than stopping: log and exit(1). */
_Noreturn void rp_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
