/* /proc parsers fed synthetic contents: the figures /metrics shows, and
 * malformed, truncated or hostile text skipped without a crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <fcntl.h>

#include "procstat.h"

#define S(lit) lit, sizeof lit - 1

static void test_stat_fields_counted_from_the_last_parenthesis(void **state)
{
    (void)state;
    /* a command name with spaces and a ')' of its own */
    static const char stat[] = "4242 (rtp probed) x) S 1 4242 4242 0 -1 4194560 1200 0 0 0 "
                               "150 75 0 0 20 0 1 0 98765 123456789 512 18446744073709551615 1 1 0 0 0 0 0 0 0 "
                               "0 0 0 17 1 0 0 0 0 0\n";
    uint64_t cpu = 0, start = 0;
    assert_int_equal(rp_proc_parse_stat(S(stat), &cpu, &start), 0);
    assert_int_equal(cpu, 225);
    assert_int_equal(start, 98765);
}

static void test_stat_malformed_is_refused(void **state)
{
    (void)state;
    uint64_t cpu, start;
    assert_int_equal(rp_proc_parse_stat(S(""), &cpu, &start), -1);
    assert_int_equal(rp_proc_parse_stat(S("4242 no parenthesis S 1 2 3"), &cpu, &start), -1);
    /* cut before starttime (field 22) */
    assert_int_equal(rp_proc_parse_stat(S("1 (x) S 1 1 1 0 -1 0 0 0 0 0 150 75 0 0 20 0 1 0"), &cpu, &start), -1);
    /* a letter where utime should be */
    assert_int_equal(rp_proc_parse_stat(S("1 (x) S 1 1 1 0 -1 0 0 0 0 0 1x0 75 0 0 20 0 1 0 9 1 1"), &cpu, &start),
                     -1);
    /* utime larger than 64 bits */
    assert_int_equal(rp_proc_parse_stat(S("1 (x) S 1 1 1 0 -1 0 0 0 0 0 99999999999999999999 75 0 0 20 0 1 0 9 1"),
                                        &cpu, &start),
                     -1);
    /* the length is honoured: the same text cut by len, not by a NUL */
    static const char ok[] = "1 (x) S 1 1 1 0 -1 0 0 0 0 0 150 75 0 0 20 0 1 0 98765 1 1";
    assert_int_equal(rp_proc_parse_stat(ok, sizeof ok - 1, &cpu, &start), 0);
    assert_int_equal(rp_proc_parse_stat(ok, sizeof ok - 11, &cpu, &start), -1); /* without " 98765 1 1" */
}

static void test_statm_resident_pages(void **state)
{
    (void)state;
    uint64_t pages = 0;
    assert_int_equal(rp_proc_parse_statm(S("5120 1792 900 120 0 1400 0\n"), &pages), 0);
    assert_int_equal(pages, 1792);
    assert_int_equal(rp_proc_parse_statm(S("5120"), &pages), -1);
    assert_int_equal(rp_proc_parse_statm(S("5120 "), &pages), -1);
    assert_int_equal(rp_proc_parse_statm(S("x 1792"), &pages), -1);
}

static void test_start_time_is_now_minus_the_time_since_start(void **state)
{
    (void)state;
    /* booted 1000 s ago; started 250 s after boot (25,000 ticks of 100 Hz):
     * it started 750 s ago */
    double t = rp_proc_start_time(25000, 100, 1000000000000ull, 1733480000000000000ull);
    assert_true(t > 1733479250.0 - 1e-3 && t < 1733479250.0 + 1e-3);
}

/* This process: figures present and plausible. */
static void test_reads_this_process(void **state)
{
    (void)state;
    struct rp_procstat p;
    rp_procstat_read(&p);
    assert_true(p.have_cpu && p.have_rss && p.have_fds && p.have_max_fds && p.have_start);
    assert_true(p.rss_bytes > 100 * 1024);
    assert_true(p.open_fds >= 3 && p.open_fds <= p.max_fds);
    unsigned open_now = 0; /* counted another way: the descriptors fcntl knows */
    for (int fd = 0; fd < 4096; fd++)
        open_now += fcntl(fd, F_GETFD) >= 0;
    assert_int_equal(p.open_fds, open_now);
    FILE *f = fopen("/dev/null", "r"); /* one more descriptor is seen */
    assert_non_null(f);
    struct rp_procstat q;
    rp_procstat_read(&q);
    assert_int_equal(q.open_fds, p.open_fds + 1);
    fclose(f);
    /* started within the last hour, not in the future */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    assert_true(p.start_time_seconds <= (double)now.tv_sec + 1 && p.start_time_seconds > (double)now.tv_sec - 3600);
}

static const char udp_text[] =
    "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref "
    "pointer drops\n"
    "  100: 00000000:2710 00000000:0000 07 00000000:00000000 00:00000000 00000000   106        0 3341 2 "
    "0000000000000000 0\n"                                           /* 10000 */
    "  101: 0100007F:2711 00000000:0000 07 00000000:00000000 00:00000000 00000000   106        0 3342 2 "
    "0000000000000000 0\n"                                           /* 10001, odd: RTCP */
    "  102: 0100007F:2712 0200007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 3343 2 "
    "0000000000000000 0\n"                                           /* 10002, connected */
    "  103: 00000000:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 11 2 "
    "0000000000000000 0\n"                                           /* 53: outside */
    "  104: 00000000:2710 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 12 2 "
    "0000000000000000 0\n"                                           /* 10000 again (SO_REUSEPORT) */
    "garbage line\n"
    "  105: 0000000:2714 00000000:0000 07\n"                         /* 7 hex digits of address */
    "  106: 00000000:27Z4 00000000:0000 07\n"                        /* not hex */
    "  107: 00000000:271\n"                                          /* port cut */
    "  108 00000000:2716 00000000:0000 07\n"                         /* no ':' after the slot */
    "\n"
    "  109: 00000000:FFFE 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 13 2 "
    "0000000000000000 0\n";                                          /* 65534: outside, top */

static const char udp6_text[] =
    "  sl  local_address                         remote_address                        st tx_queue rx_queue tr "
    "tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
    "  200: 00000000000000000000000000000000:2710 00000000000000000000000000000000:0000 07 "
    "00000000:00000000 00:00000000 00000000   106        0 4441 2 0000000000000000 0\n" /* 10000: dup of v4 */
    "  201: 00000000000000000000000001000000:4E1E 00000000000000000000000000000000:0000 07 "
    "00000000:00000000 00:00000000 00000000   106        0 4442 2 0000000000000000 0\n" /* 19998 */
    "  202: 00000000000000000000000001000000:4E20 00000000000000000000000000000000:0000 07 "
    "00000000:00000000 00:00000000 00000000   106        0 4443 2 0000000000000000 0"; /* 20000, no newline */

static void test_udp_ports_counted_distinct_in_range(void **state)
{
    (void)state;
    struct rp_portbits *set = calloc(1, sizeof *set);
    assert_non_null(set);
    unsigned bad = 0;
    assert_int_equal(rp_proc_parse_udp(udp_text, sizeof udp_text - 1, true, set, &bad), sizeof udp_text - 1);
    assert_int_equal(bad, 6); /* header, garbage, four broken lines (an empty line is no line) */
    assert_int_equal(rp_portbits_count(set, 10000, 20000, true), 2);   /* 10000, 10002 */
    assert_int_equal(rp_portbits_count(set, 10000, 20000, false), 3);  /* and 10001 */
    assert_int_equal(rp_portbits_count(set, 0, 65535, false), 5);      /* and 53, 65534 */
    bad = 0;
    /* not final: the last line (no newline yet) waits for the rest */
    size_t used = rp_proc_parse_udp(udp6_text, sizeof udp6_text - 1, false, set, &bad);
    assert_true(used < sizeof udp6_text - 1 && udp6_text[used - 1] == '\n');
    assert_int_equal(rp_portbits_count(set, 10000, 20000, true), 3);   /* 19998; 10000 once */
    assert_int_equal(rp_proc_parse_udp(udp6_text + used, sizeof udp6_text - 1 - used, true, set, &bad),
                     sizeof udp6_text - 1 - used);
    assert_int_equal(bad, 1); /* the header */
    assert_int_equal(rp_portbits_count(set, 10000, 20000, true), 4);   /* 20000, the range's top */
    assert_int_equal(rp_portbits_count(set, 10001, 19999, true), 2);   /* ends excluded */
    assert_int_equal(rp_portbits_count(set, 60000, 70000, false), 1);  /* hi clamped to 65535 */
    free(set);
}

/* Hostile text: random bytes and lines that stop anywhere never crash. */
static void test_udp_parser_survives_any_prefix(void **state)
{
    (void)state;
    struct rp_portbits *set = calloc(1, sizeof *set);
    assert_non_null(set);
    for (size_t n = 0; n < sizeof udp6_text; n++) {
        char *copy = malloc(n ? n : 1); /* exactly n bytes: ASan sees a read past them */
        assert_non_null(copy);
        memcpy(copy, udp6_text, n);
        assert_int_equal(rp_proc_parse_udp(copy, n, true, set, NULL), n);
        uint64_t a, b;
        (void)rp_proc_parse_stat(copy, n, &a, &b);
        (void)rp_proc_parse_statm(copy, n, &a);
        free(copy);
    }
    srand(15);
    char noise[4096];
    for (unsigned round = 0; round < 200; round++) {
        for (size_t i = 0; i < sizeof noise; i++)
            noise[i] = (char)(rand() % 4 == 0 ? "0123456789ABCDEF: \n"[rand() % 19] : rand());
        rp_proc_parse_udp(noise, sizeof noise, round % 2, set, NULL);
    }
    free(set);
}

/* The reader: both files, a missing one skipped, the byte cap honoured. */
static void test_reader_reads_files_within_the_cap(void **state)
{
    (void)state;
    char v4[] = "/tmp/rp_udp4_XXXXXX", v6[] = "/tmp/rp_udp6_XXXXXX";
    int f4 = mkstemp(v4), f6 = mkstemp(v6);
    assert_true(f4 >= 0 && f6 >= 0);
    assert_int_equal(write(f4, udp_text, sizeof udp_text - 1), (ssize_t)(sizeof udp_text - 1));
    assert_int_equal(write(f6, udp6_text, sizeof udp6_text - 1), (ssize_t)(sizeof udp6_text - 1));
    close(f4);
    close(f6);
    const char *paths[] = { v4, "/nonexistent/udp", v6 };
    struct rp_portbits *set = calloc(1, sizeof *set);
    assert_non_null(set);
    assert_int_equal(rp_proc_read_udp(paths, 3, 1 << 20, set), 2);
    assert_int_equal(rp_portbits_count(set, 10000, 20000, true), 4);
    /* a cap that ends inside udp6's second line: its first line only */
    memset(set, 0, sizeof *set);
    const char *only6[] = { v6 };
    size_t second = (size_t)(strstr(udp6_text, "  201:") - udp6_text);
    assert_int_equal(rp_proc_read_udp(only6, 1, second + 40, set), 1);
    assert_int_equal(rp_portbits_count(set, 0, 65535, false), 1);
    /* the real files of this machine parse */
    static const char *const real[] = RP_PROC_UDP_PATHS;
    assert_true(rp_proc_read_udp(real, 2, RP_PROC_UDP_CAP, set) >= 1);
    unlink(v4);
    unlink(v6);
    free(set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stat_fields_counted_from_the_last_parenthesis),
        cmocka_unit_test(test_stat_malformed_is_refused),
        cmocka_unit_test(test_statm_resident_pages),
        cmocka_unit_test(test_start_time_is_now_minus_the_time_since_start),
        cmocka_unit_test(test_reads_this_process),
        cmocka_unit_test(test_udp_ports_counted_distinct_in_range),
        cmocka_unit_test(test_udp_parser_survives_any_prefix),
        cmocka_unit_test(test_reader_reads_files_within_the_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
