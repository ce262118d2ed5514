/* The command line's pure parts: --timeout, the token's form, the error line,
 * and the usage errors of -w/-c and -t. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli.h"

static void test_timeout_is_seconds_and_takes_the_old_ms_form(void **state)
{
    (void)state;
    unsigned s, ms;
    assert_int_equal(rp_cli_parse_timeout("10", &s, &ms), 0);
    assert_int_equal(s, 10);
    assert_int_equal(ms, 0);
    assert_int_equal(rp_cli_parse_timeout("99", &s, &ms), 0);
    assert_int_equal(s, 99);
    assert_int_equal(ms, 0);
    /* Every documented value in seconds is seconds. */
    assert_int_equal(rp_cli_parse_timeout("120", &s, &ms), 0);
    assert_int_equal(s, 120);
    assert_int_equal(ms, 0);
    assert_int_equal(rp_cli_parse_timeout("600", &s, &ms), 0);
    assert_int_equal(s, 600);
    assert_int_equal(ms, 0);
    assert_int_equal(rp_cli_parse_timeout("5000", &s, &ms), 0);
    assert_int_equal(s, 5);
    assert_int_equal(ms, 5000);
    /* Rounded up: never a shorter deadline than the old form meant. */
    assert_int_equal(rp_cli_parse_timeout("601", &s, &ms), 0);
    assert_int_equal(s, 1);
    assert_int_equal(ms, 601);
    assert_int_equal(rp_cli_parse_timeout("1500", &s, &ms), 0);
    assert_int_equal(s, 2);
    assert_int_equal(rp_cli_parse_timeout("600000", &s, &ms), 0);
    assert_int_equal(s, 600);
    static const char *const bad[] = { "0", "-5", "", "abc", "2.5", "10s", "600001", "99999999999999999999" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(rp_cli_parse_timeout(bad[i], &s, &ms), -1);
}

static void test_token_must_be_a_bearer_token(void **state)
{
    (void)state;
    assert_true(rp_cli_token_valid("0123456789abcdef0123456789abcdef0123456789abcdef")); /* openssl rand -hex */
    assert_true(rp_cli_token_valid("Zm9v+YmFy/YmF6LX5fLg=="));                         /* -base64, padded */
    static const char *const bad[] = { "", "tok en", "tok\r\nX-Injected: 1", "tok\tx", "=abc", "ab=c",
                                       "t\xc3\xa9", "tok;x" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (rp_cli_token_valid(bad[i]))
            fail_msg("token \"%s\" accepted", bad[i]);
}

static void test_error_line_is_one_printable_line(void **state)
{
    (void)state;
    char s[] = "the daemon refused (HTTP 400): \x1b[31mred\x1b[0m\r\nRTPPROBE OK | up=1";
    char n[sizeof s];
    memcpy(n, s, sizeof s);
    rp_cli_clean_line(s, false);
    assert_string_equal(s, "the daemon refused (HTTP 400): ?[31mred?[0m??RTPPROBE OK | up=1");
    rp_cli_clean_line(n, true);
    assert_string_equal(n, "the daemon refused (HTTP 400): ?[31mred?[0m??RTPPROBE OK / up=1");
}

/* Runs rp_cli_main with argv; its stdout and stderr land in out and err. */
static int run_cli(char **argv, int argc, char *out, size_t outlen, char *err, size_t errlen)
{
    FILE *o = tmpfile(), *e = tmpfile();
    assert_non_null(o);
    assert_non_null(e);
    fflush(stdout);
    fflush(stderr);
    int so = dup(STDOUT_FILENO), se = dup(STDERR_FILENO);
    assert_true(dup2(fileno(o), STDOUT_FILENO) >= 0 && dup2(fileno(e), STDERR_FILENO) >= 0);
    int rc = rp_cli_main(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(so, STDOUT_FILENO);
    dup2(se, STDERR_FILENO);
    close(so);
    close(se);
    size_t n = (rewind(o), fread(out, 1, outlen - 1, o));
    out[n] = '\0';
    n = (rewind(e), fread(err, 1, errlen - 1, e));
    err[n] = '\0';
    fclose(o);
    fclose(e);
    return rc;
}

/* Under --nagios a usage error is the plugin's one UNKNOWN line on stdout
 * (Nagios reads nothing else), wherever --nagios stands; stderr keeps the
 * message; without --nagios stdout stays empty. */
static void test_usage_error_under_nagios_is_an_unknown_line_on_stdout(void **state)
{
    (void)state;
    char out[1024], err[1024];
    char *before[] = { "rtpprobe", "--ptime", "x", "--nagios", NULL };
    assert_int_equal(run_cli(before, 4, out, sizeof out, err, sizeof err), 3);
    assert_string_equal(out, "RTPPROBE UNKNOWN - --ptime: expected a whole number from 10 to 60, got \"x\"\n");
    assert_non_null(strstr(err, "rtpprobe: --ptime: expected"));
    char *missing[] = { "rtpprobe", "--nagios", NULL };
    assert_int_equal(run_cli(missing, 2, out, sizeof out, err, sizeof err), 3);
    assert_non_null(strstr(out, "RTPPROBE UNKNOWN - --server is required"));
    assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1); /* one line */
    char *plain[] = { "rtpprobe", "--ptime", "x", NULL };
    assert_int_equal(run_cli(plain, 3, out, sizeof out, err, sizeof err), 3);
    assert_string_equal(out, "");
    assert_non_null(strstr(err, "rtpprobe: --ptime: expected"));
    /* An output that names no file is refused before the run, not after it. */
    char *html[] = { "rtpprobe", "--server", "https://127.0.0.1:1", "--nagios", "--html", "", NULL };
    assert_int_equal(run_cli(html, 6, out, sizeof out, err, sizeof err), 3);
    assert_string_equal(out, "RTPPROBE UNKNOWN - --html: expected a file name, got \"\"\n");
    char *dir[] = { "rtpprobe", "--server", "https://127.0.0.1:1", "--textfile", "/tmp/", NULL };
    assert_int_equal(run_cli(dir, 5, out, sizeof out, err, sizeof err), 3);
    assert_non_null(strstr(err, "rtpprobe: --textfile: expected a file name, got \"/tmp/\""));
}

/* Thresholds and -t: their errors are usage errors, the one UNKNOWN line
 * under --nagios; a deprecation warning before the error is not that line. */
static void test_threshold_and_timeout_errors_are_one_unknown_line(void **state)
{
    (void)state;
    char out[1024], err[2048];
    char *order[] = { "rtpprobe", "--server", "https://127.0.0.1:1", "-w", "loss=5", "-c", "loss=1", "--nagios",
                      NULL };
    assert_int_equal(run_cli(order, 8, out, sizeof out, err, sizeof err), 3);
    assert_string_equal(out, "RTPPROBE UNKNOWN - -w/-c: warning and critical in the wrong order for loss: critical "
                             "loss=1 alerts where warning loss=5 does not (the warning range must lie inside the "
                             "critical one)\n");
    char *mos[] = { "rtpprobe", "--server", "https://127.0.0.1:1", "--nagios", "--warning=mos=3.6:",
                    "--critical", "mos=4:", NULL };
    assert_int_equal(run_cli(mos, 7, out, sizeof out, err, sizeof err), 3);
    assert_non_null(strstr(out, "RTPPROBE UNKNOWN - -w/-c: warning and critical in the wrong order for mos"));
    /* The old single-number options are the same ranges: --warn-loss 6 is above the default critical 5. */
    char *alias[] = { "rtpprobe", "--server", "https://127.0.0.1:1", "--warn-loss", "6", "--nagios", NULL };
    assert_int_equal(run_cli(alias, 6, out, sizeof out, err, sizeof err), 3);
    assert_non_null(strstr(out, "wrong order for loss: critical loss=5 alerts where warning loss=6 does not"));
    char *range[] = { "rtpprobe", "--server", "https://127.0.0.1:1", "-c", "jitter=20:10", "--nagios", NULL };
    assert_int_equal(run_cli(range, 6, out, sizeof out, err, sizeof err), 3);
    assert_string_equal(out, "RTPPROBE UNKNOWN - -c/--critical: jitter: range \"20:10\": the start is above the "
                             "end\n");
    char *metric[] = { "rtpprobe", "--server", "https://127.0.0.1:1", "-w", "loss=1,lag=3", NULL };
    assert_int_equal(run_cli(metric, 5, out, sizeof out, err, sizeof err), 3);
    assert_string_equal(out, "");
    assert_non_null(strstr(err, "rtpprobe: -w/--warning: unknown metric \"lag\" (loss, jitter, rtt, mos)"));
    char *shortt[] = { "rtpprobe", "--server", "https://127.0.0.1:1", "--duration", "30", "-t", "3", "--nagios",
                       NULL };
    assert_int_equal(run_cli(shortt, 8, out, sizeof out, err, sizeof err), 3);
    assert_string_equal(out, "RTPPROBE UNKNOWN - --timeout 3 s is shorter than the run: --duration 30 s + 3 s "
                             "(setup, drains, stop); give -t 33 or more\n");
    /* The old milliseconds form warns first; the error is still the line. */
    char *ms[] = { "rtpprobe", "--nagios", "--server", "https://127.0.0.1:1", "--timeout", "5000", NULL };
    assert_int_equal(run_cli(ms, 6, out, sizeof out, err, sizeof err), 3);
    assert_non_null(strstr(err, "rtpprobe: warning: --timeout takes seconds now; 5000 read as 5 s"));
    assert_string_equal(out, "RTPPROBE UNKNOWN - --timeout 5 s is shorter than the run: --duration 10 s + 3 s "
                             "(setup, drains, stop); give -t 13 or more\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timeout_is_seconds_and_takes_the_old_ms_form),
        cmocka_unit_test(test_token_must_be_a_bearer_token),
        cmocka_unit_test(test_error_line_is_one_printable_line),
        cmocka_unit_test(test_usage_error_under_nagios_is_an_unknown_line_on_stdout),
        cmocka_unit_test(test_threshold_and_timeout_errors_are_one_unknown_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
