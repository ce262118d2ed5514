/* /proc is the kernel's, but it is still text we parse: every read is bounded
 * by the buffer's length, numbers are checked for overflow, and anything
 * unexpected makes a figure absent rather than wrong. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "procstat.h"
#include "wire.h"

/* A decimal number at buf[*i], advancing *i. 0, or -1 if none or too large. */
static int dec_u64(const char *buf, size_t len, size_t *i, uint64_t *out)
{
    uint64_t v = 0;
    size_t start = *i;
    while (*i < len && buf[*i] >= '0' && buf[*i] <= '9') {
        unsigned d = (unsigned)(buf[*i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
        (*i)++;
    }
    if (*i == start)
        return -1;
    *out = v;
    return 0;
}

static void skip_spaces(const char *buf, size_t len, size_t *i)
{
    while (*i < len && buf[*i] == ' ')
        (*i)++;
}

int rp_proc_parse_stat(const char *buf, size_t len, uint64_t *cpu_ticks, uint64_t *start_ticks)
{
    size_t i = len;
    while (i > 0 && buf[i - 1] != ')')
        i--;
    if (i == 0)
        return -1;
    /* Fields after the name, from 3 (state): utime is 14, stime 15, starttime 22. */
    uint64_t utime = 0, stime = 0, start = 0;
    for (unsigned field = 3; field <= 22; field++) {
        if (i >= len || buf[i] != ' ')
            return -1;
        i++;
        if (field == 3) {
            if (i >= len || buf[i] == ' ')
                return -1;
            i++; /* one state letter */
            continue;
        }
        uint64_t v;
        if (buf[i] == '-') /* some fields are signed (priority, nice): only ours must not be */
            i++;
        if (dec_u64(buf, len, &i, &v) < 0)
            return -1;
        if (field == 14)
            utime = v;
        else if (field == 15)
            stime = v;
        else if (field == 22)
            start = v;
    }
    if (utime > UINT64_MAX - stime)
        return -1;
    *cpu_ticks = utime + stime;
    *start_ticks = start;
    return 0;
}

int rp_proc_parse_statm(const char *buf, size_t len, uint64_t *resident_pages)
{
    size_t i = 0;
    uint64_t size;
    if (dec_u64(buf, len, &i, &size) < 0 || i >= len || buf[i] != ' ')
        return -1;
    i++;
    return dec_u64(buf, len, &i, resident_pages);
}

double rp_proc_start_time(uint64_t start_ticks, long clk_tck, uint64_t boot_now_ns, uint64_t real_now_ns)
{
    double since_boot = (double)start_ticks / (double)(clk_tck > 0 ? clk_tck : 100);
    return (double)real_now_ns / 1e9 - ((double)boot_now_ns / 1e9 - since_boot);
}

/* Up to cap-1 bytes of a file, NUL-terminated. Its length, or -1. */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = 0;
    while (len < cap - 1) {
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n < 0)
                len = 0;
            break;
        }
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    return len ? (ssize_t)len : -1;
}

static int count_fds(uint64_t *out)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    uint64_t n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    *out = n > 0 ? n - 1 : 0; /* not the directory's own descriptor */
    return 0;
}

void rp_procstat_read(struct rp_procstat *out)
{
    memset(out, 0, sizeof *out);
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        out->cpu_seconds = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
        out->have_cpu = true;
    }
    char buf[1024]; /* stat is ~300 bytes; a longer one is cut and fails to parse */
    long page = sysconf(_SC_PAGESIZE);
    uint64_t pages;
    ssize_t n = read_small("/proc/self/statm", buf, sizeof buf);
    if (n > 0 && page > 0 && rp_proc_parse_statm(buf, (size_t)n, &pages) == 0 && pages <= UINT64_MAX / (uint64_t)page) {
        out->rss_bytes = pages * (uint64_t)page;
        out->have_rss = true;
    }
    out->have_fds = count_fds(&out->open_fds) == 0;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        out->max_fds = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
        out->have_max_fds = true;
    }
    uint64_t cpu_ticks, start_ticks;
    struct timespec boot, real;
    n = read_small("/proc/self/stat", buf, sizeof buf);
    if (n > 0 && rp_proc_parse_stat(buf, (size_t)n, &cpu_ticks, &start_ticks) == 0 &&
        clock_gettime(CLOCK_BOOTTIME, &boot) == 0 && clock_gettime(CLOCK_REALTIME, &real) == 0) {
        uint64_t boot_ns = (uint64_t)boot.tv_sec * 1000000000u + (uint64_t)boot.tv_nsec;
        uint64_t real_ns = (uint64_t)real.tv_sec * 1000000000u + (uint64_t)real.tv_nsec;
        out->start_time_seconds = rp_proc_start_time(start_ticks, sysconf(_SC_CLK_TCK), boot_ns, real_ns);
        out->have_start = true;
    }
}

/* "  12: 0100007F:1F90 00000000:0000 07 ..." (udp6: 32 hex digits of address).
 * The local port, or -1 if the line is not a socket line. */
static int udp_line_port(const char *l, size_t len)
{
    size_t i = 0;
    uint64_t slot;
    skip_spaces(l, len, &i);
    if (dec_u64(l, len, &i, &slot) < 0 || i >= len || l[i] != ':')
        return -1;
    i++;
    skip_spaces(l, len, &i);
    size_t a = i;
    while (i < len && rp_hex_digit(l[i]) >= 0)
        i++;
    if ((i - a != 8 && i - a != 32) || i >= len || l[i] != ':')
        return -1;
    i++;
    int port = 0;
    for (unsigned k = 0; k < 4; k++, i++) {
        if (i >= len || rp_hex_digit(l[i]) < 0)
            return -1;
        port = port * 16 + rp_hex_digit(l[i]);
    }
    if (i >= len || l[i] != ' ')
        return -1;
    return port;
}

size_t rp_proc_parse_udp(const char *buf, size_t len, bool final, struct rp_portbits *set, unsigned *bad)
{
    size_t at = 0;
    while (at < len) {
        const char *nl = memchr(buf + at, '\n', len - at);
        if (!nl && !final)
            break;
        size_t end = nl ? (size_t)(nl - buf) : len;
        int port = udp_line_port(buf + at, end - at);
        if (port >= 0)
            set->bit[port / 8] |= (uint8_t)(1u << (port % 8));
        else if (bad && end > at)
            (*bad)++;
        at = nl ? end + 1 : len;
    }
    return at;
}

unsigned rp_portbits_count(const struct rp_portbits *set, unsigned lo, unsigned hi, bool even_only)
{
    unsigned n = 0;
    if (hi > 65535)
        hi = 65535;
    for (unsigned p = lo; p <= hi; p++)
        if ((!even_only || p % 2 == 0) && (set->bit[p / 8] & (1u << (p % 8))))
            n++;
    return n;
}

/* One file, parsed chunk by chunk with a partial line carried over: memory is
 * one chunk whatever the number of sockets. A line longer than the chunk is
 * not a socket line: it is dropped. 0, or -1 if it cannot be read. */
static int read_udp_file(const char *path, size_t cap, char *chunk, size_t chunk_size, struct rp_portbits *set)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t have = 0, total = 0;
    int rc = 0;
    for (;;) {
        size_t want = chunk_size - have;
        if (want > cap - total)
            want = cap - total;
        ssize_t n = want ? read(fd, chunk + have, want) : 0;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = -1;
        if (n <= 0) {
            rp_proc_parse_udp(chunk, have, total < cap, set, NULL); /* a cut last line is not whole */
            break;
        }
        total += (size_t)n;
        have += (size_t)n;
        size_t used = rp_proc_parse_udp(chunk, have, false, set, NULL);
        if (used == 0 && have == chunk_size)
            used = have; /* an overlong line: drop it */
        memmove(chunk, chunk + used, have - used);
        have -= used;
    }
    close(fd);
    return rc;
}

unsigned rp_proc_read_udp(const char *const *paths, unsigned npaths, size_t cap, struct rp_portbits *set)
{
    enum { CHUNK = 64 * 1024 };
    char *chunk = malloc(CHUNK);
    if (!chunk)
        return 0;
    unsigned ok = 0;
    for (unsigned i = 0; i < npaths; i++)
        ok += read_udp_file(paths[i], cap, chunk, CHUNK, set) == 0;
    free(chunk);
    return ok;
}
