/* The daemon's own process figures and the host's bound UDP ports, read from
 * /proc for /metrics. The parsers are pure (buffer and length in, figures out)
 * so tests feed them synthetic contents; the readers open the files with a
 * byte cap and never fail hard: a figure they cannot read is left out. */
#ifndef RP_PROCSTAT_H
#define RP_PROCSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The process_* families of the Prometheus client libraries. */
struct rp_procstat {
    bool     have_cpu, have_rss, have_fds, have_max_fds, have_start;
    double   cpu_seconds;        /* user + system */
    uint64_t rss_bytes;
    uint64_t open_fds;
    uint64_t max_fds;            /* RLIMIT_NOFILE soft limit */
    double   start_time_seconds; /* Unix time */
};

/* /proc/<pid>/stat: utime + stime (field 14, 15) and starttime (field 22), in
 * clock ticks. The command name (field 2) may hold spaces and parentheses: the
 * fields are counted from its last ')'. 0, or -1 if malformed. */
int rp_proc_parse_stat(const char *buf, size_t len, uint64_t *cpu_ticks, uint64_t *start_ticks);
/* /proc/<pid>/statm: resident pages (field 2). 0, or -1 if malformed. */
int rp_proc_parse_statm(const char *buf, size_t len, uint64_t *resident_pages);
/* Unix time the process started: starttime is in ticks since boot, so it is
 * now minus (time since boot - starttime). Needs no /proc/stat (btime), which
 * ProcSubset=pid hides. boot_now_ns: CLOCK_BOOTTIME, real_now_ns: CLOCK_REALTIME. */
double rp_proc_start_time(uint64_t start_ticks, long clk_tck, uint64_t boot_now_ns, uint64_t real_now_ns);

/* This process, now. Figures that could not be read have have_* false. */
void rp_procstat_read(struct rp_procstat *out);

/* A set of UDP ports. */
struct rp_portbits {
    uint8_t bit[65536 / 8];
};
/* Lines of /proc/net/udp or udp6: marks each line's local port in *set. Parses
 * the complete lines of buf[0..len) (and, if final, a last line without its
 * newline); returns the bytes consumed, so a reader can carry over a partial
 * line. Lines that are not socket lines (the header, garbage) are skipped and
 * counted in *bad when bad is not NULL. */
size_t rp_proc_parse_udp(const char *buf, size_t len, bool final, struct rp_portbits *set, unsigned *bad);
/* Ports of *set in lo..hi; only the even ones if even_only. */
unsigned rp_portbits_count(const struct rp_portbits *set, unsigned lo, unsigned hi, bool even_only);
/* Marks the local ports of the sockets listed in each file (at most cap bytes
 * read from each). Returns the number of files read, 0 if none could be. */
unsigned rp_proc_read_udp(const char *const *paths, unsigned npaths, size_t cap, struct rp_portbits *set);
/* The sockets of this process's network namespace: /proc/self/net/udp and udp6
 * (under /proc/self, which ProcSubset=pid leaves visible, unlike /proc/net). */
#define RP_PROC_UDP_PATHS { "/proc/self/net/udp", "/proc/self/net/udp6" }
#define RP_PROC_UDP_CAP   (8u << 20) /* ~65,000 sockets of 128-byte lines */

#endif
