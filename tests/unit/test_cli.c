/* The command line's pure parts: --timeout, the token's form, the error line. */
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
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timeout_is_seconds_and_takes_the_old_ms_form),
        cmocka_unit_test(test_token_must_be_a_bearer_token),
        cmocka_unit_test(test_error_line_is_one_printable_line),
        cmocka_unit_test(test_usage_error_under_nagios_is_an_unknown_line_on_stdout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
