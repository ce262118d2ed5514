/* Log lines: the sd-daemon(3) level prefix when, and only when, JOURNAL_STREAM
 * names the very stream the log writes to; otherwise the terminal format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

/* "dev:inode" of fd, as systemd writes JOURNAL_STREAM; dev_delta/ino_delta make a near miss. */
static void stream_id(int fd, long dev_delta, long ino_delta, char *buf, size_t len)
{
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    snprintf(buf, len, "%ju:%ju", (uintmax_t)st.st_dev + (uintmax_t)dev_delta,
             (uintmax_t)st.st_ino + (uintmax_t)ino_delta);
}

static void set_journal_stream(const char *value)
{
    if (value)
        assert_int_equal(setenv("JOURNAL_STREAM", value, 1), 0);
    else
        assert_int_equal(unsetenv("JOURNAL_STREAM"), 0);
}

/* One line at each level, as the daemon logs them. */
static void log_one_of_each(void)
{
    rp_log_err("bind failed");
    rp_log_warn("auth-failure client=192.0.2.7 path=/v1/sessions");
    rp_log_info("session s1 created for 192.0.2.7");
    rp_log_debug("first dropped datagram: short");
}

/* Reads back what was logged to f and compares it line by line with want[n]. */
static void assert_lines(FILE *f, const char *const *want, size_t n)
{
    char line[512];
    size_t i = 0;
    assert_int_equal(fflush(f), 0);
    rewind(f);
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        assert_true(i < n);
        assert_string_equal(line, want[i]);
        i++;
    }
    assert_int_equal(i, n);
}

static const char *const plain_lines[] = {
    "rtpprobed: err: bind failed",
    "rtpprobed: warn: auth-failure client=192.0.2.7 path=/v1/sessions",
    "rtpprobed: info: session s1 created for 192.0.2.7",
    "rtpprobed: debug: first dropped datagram: short",
};

static int teardown(void **state)
{
    (void)state;
    unsetenv("JOURNAL_STREAM");
    rp_log_init("rtpprobe", RP_LOG_INFO); /* back to stderr before the test's file closes */
    return 0;
}

static void test_journal_stream_naming_the_log_file_prefixes_each_level(void **state)
{
    (void)state;
    static const char *const want[] = {
        "<3>rtpprobed: err: bind failed",
        "<4>rtpprobed: warn: auth-failure client=192.0.2.7 path=/v1/sessions",
        "<6>rtpprobed: info: session s1 created for 192.0.2.7",
        "<7>rtpprobed: debug: first dropped datagram: short",
    };
    char id[64];
    FILE *f = tmpfile();
    assert_non_null(f);
    stream_id(fileno(f), 0, 0, id, sizeof id);
    set_journal_stream(id);
    rp_log_init("rtpprobed", RP_LOG_DEBUG);
    rp_log_set_output(f);
    log_one_of_each();
    assert_lines(f, want, 4);
    teardown(NULL);
    fclose(f);
}

static void test_journal_stream_naming_a_pipe_prefixes(void **state)
{
    (void)state;
    int p[2];
    char id[64], buf[256];
    assert_int_equal(pipe(p), 0);
    FILE *w = fdopen(p[1], "w");
    assert_non_null(w);
    stream_id(p[1], 0, 0, id, sizeof id);
    set_journal_stream(id);
    rp_log_init("rtpprobed", RP_LOG_INFO);
    rp_log_set_output(w);
    rp_log_warn("auth-failure client=192.0.2.7 path=/");
    rp_log_debug("not at level info");
    assert_int_equal(fflush(w), 0);
    ssize_t n = read(p[0], buf, sizeof buf - 1);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_string_equal(buf, "<4>rtpprobed: warn: auth-failure client=192.0.2.7 path=/\n");
    teardown(NULL);
    fclose(w);
    close(p[0]);
}

static void test_no_journal_stream_keeps_the_terminal_format(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    set_journal_stream(NULL);
    rp_log_init("rtpprobed", RP_LOG_DEBUG);
    rp_log_set_output(f);
    log_one_of_each();
    assert_lines(f, plain_lines, 4);
    teardown(NULL);
    fclose(f);
}

/* Inherited from a service by a child whose stderr went elsewhere: not ours. */
static void test_journal_stream_naming_another_file_keeps_the_terminal_format(void **state)
{
    (void)state;
    char id[64];
    FILE *f = tmpfile(), *other = tmpfile();
    assert_non_null(f);
    assert_non_null(other);
    rp_log_init("rtpprobed", RP_LOG_DEBUG);

    stream_id(fileno(other), 0, 0, id, sizeof id);
    set_journal_stream(id);
    rp_log_set_output(f);
    log_one_of_each();
    assert_lines(f, plain_lines, 4);

    /* Same inode number on another device, and the neighbouring inode. */
    stream_id(fileno(f), 1, 0, id, sizeof id);
    assert_false(rp_log_journal_stream_is(id, fileno(f)));
    stream_id(fileno(f), 0, 1, id, sizeof id);
    assert_false(rp_log_journal_stream_is(id, fileno(f)));
    teardown(NULL);
    fclose(f);
    fclose(other);
}

/* The stream is checked when the output is set, not per line, and again each time. */
static void test_set_output_re_evaluates_journal_stream(void **state)
{
    (void)state;
    char id[64];
    FILE *f = tmpfile();
    assert_non_null(f);
    stream_id(fileno(f), 0, 0, id, sizeof id);
    rp_log_init("rtpprobed", RP_LOG_INFO);
    set_journal_stream(id);
    rp_log_set_output(f);
    rp_log_info("one");
    set_journal_stream(NULL);
    rp_log_info("two");
    rp_log_set_output(f);
    rp_log_info("three");
    static const char *const want[] = {
        "<6>rtpprobed: info: one",
        "<6>rtpprobed: info: two",
        "rtpprobed: info: three",
    };
    assert_lines(f, want, 3);
    teardown(NULL);
    fclose(f);
}

static void test_journal_stream_value_must_be_exactly_dev_colon_inode(void **state)
{
    (void)state;
    char id[64], bad[96];
    FILE *f = tmpfile();
    assert_non_null(f);
    int fd = fileno(f);
    stream_id(fd, 0, 0, id, sizeof id);
    assert_true(rp_log_journal_stream_is(id, fd));
    assert_false(rp_log_journal_stream_is(id, -1));
    assert_false(rp_log_journal_stream_is(NULL, fd));
    static const char *const malformed[] = {
        "", ":", "1", "1:", ":1", "-1:2", "+1:2", " 1:2", "1: 2", "1:-2", "1;2", "0x1:2",
        "99999999999999999999999999:1", "1:99999999999999999999999999",
    };
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++)
        assert_false(rp_log_journal_stream_is(malformed[i], fd));
    /* The right numbers with something after them. */
    static const char *const tails[] = { " ", "\n", ":0", "x" };
    for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++) {
        snprintf(bad, sizeof bad, "%s%s", id, tails[i]);
        assert_false(rp_log_journal_stream_is(bad, fd));
    }
    /* Leading zeros are still the same number (strtoumax); systemd writes none. */
    snprintf(bad, sizeof bad, "0%s", id);
    assert_true(rp_log_journal_stream_is(bad, fd));
    fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_journal_stream_naming_the_log_file_prefixes_each_level, teardown),
        cmocka_unit_test_teardown(test_journal_stream_naming_a_pipe_prefixes, teardown),
        cmocka_unit_test_teardown(test_no_journal_stream_keeps_the_terminal_format, teardown),
        cmocka_unit_test_teardown(test_journal_stream_naming_another_file_keeps_the_terminal_format, teardown),
        cmocka_unit_test_teardown(test_set_output_re_evaluates_journal_stream, teardown),
        cmocka_unit_test(test_journal_stream_value_must_be_exactly_dev_colon_inode),
    };
    return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
