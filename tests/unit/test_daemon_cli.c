/* rtpprobed --page-token: the option parsing through rp_daemon_main (stdout and
 * stderr captured), and the token it prints checked by rp_pagetoken_check as
 * the daemon will check it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <getopt.h>

#include <cmocka.h>

#include "daemon.h"
#include "daemon_cli.h"
#include "pagetoken.h"

#define ABC_HASH "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
static const char secret_text[] = "5f0e7a1c9b3d28e46a0c1e3f5b7d9a2c4e6f8a0b2c4d6e8f0a1b3c5d7e9f1a2b";

struct fixture {
    char dir[64];
    char secret[96], conf[96], off_conf[96];
};

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    char text[512];
    if (fx == NULL)
        return -1;
    snprintf(fx->dir, sizeof fx->dir, "/tmp/rtpprobe-test-daemon-cli-XXXXXX");
    if (mkdtemp(fx->dir) == NULL)
        return -1;
    snprintf(fx->secret, sizeof fx->secret, "%s/page.secret", fx->dir);
    snprintf(fx->conf, sizeof fx->conf, "%s/ok.conf", fx->dir);
    snprintf(fx->off_conf, sizeof fx->off_conf, "%s/off.conf", fx->dir);
    snprintf(text, sizeof text, "%s\n", secret_text);
    write_file(fx->secret, text, 0640);
    snprintf(text, sizeof text,
             "control = { tokens = ( \"" ABC_HASH "\" ); };\n"
             "webrtc = { page_secret_file = \"%s\"; token_max_ttl = 900; };\n", fx->secret);
    write_file(fx->conf, text, 0600);
    write_file(fx->off_conf, "control = { tokens = ( \"" ABC_HASH "\" ); };\nwebrtc = { page_secret_file = \"\"; };\n",
               0600);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    unlink(fx->secret);
    unlink(fx->conf);
    unlink(fx->off_conf);
    rmdir(fx->dir);
    free(fx);
    return 0;
}

static enum rp_pagetoken_verdict check(const char *token, uint64_t now, unsigned max_ttl, char agent[65])
{
    return rp_pagetoken_check((const uint8_t *)secret_text, strlen(secret_text), token, strlen(token), now, max_ttl,
                              agent);
}

static void test_page_token_function_mints_what_the_daemon_accepts(void **state)
{
    struct fixture *fx = *state;
    char tok[RP_PAGETOKEN_MAX], err[512] = "", agent[65];
    const uint64_t now = 1800000000;

    if (rp_daemon_page_token(fx->conf, "alice", 600, now, tok, sizeof tok, err, sizeof err) != 0)
        fail_msg("unexpected error: %s", err);
    assert_int_equal(check(tok, now, 900, agent), RP_PAGETOKEN_OK);
    assert_string_equal(agent, "alice");
    /* it expires exactly ttl seconds from now */
    assert_int_equal(check(tok, now + 599, 900, agent), RP_PAGETOKEN_OK);
    assert_int_equal(check(tok, now + 600, 900, agent), RP_PAGETOKEN_EXPIRED);
    assert_int_equal(rp_daemon_page_token(fx->conf, "", 900, now, tok, sizeof tok, err, sizeof err), 0);
    assert_int_equal(check(tok, now, 900, agent), RP_PAGETOKEN_OK);
    assert_string_equal(agent, "");
}

static void expect_fail(const char *config, const char *agent, unsigned ttl, const char *want)
{
    char tok[RP_PAGETOKEN_MAX], err[512] = "";
    assert_int_equal(rp_daemon_page_token(config, agent, ttl, 1800000000, tok, sizeof tok, err, sizeof err), -1);
    if (strstr(err, want) == NULL)
        fail_msg("error \"%s\" does not say \"%s\"", err, want);
}

static void test_page_token_function_refuses_what_the_daemon_would(void **state)
{
    struct fixture *fx = *state;
    char want[256];

    snprintf(want, sizeof want, "webrtc.page_secret_file is not set in %s", fx->off_conf);
    expect_fail(fx->off_conf, "alice", 600, want);
    snprintf(want, sizeof want, "--ttl 901 is outside 1..900 (webrtc.token_max_ttl in %s)", fx->conf);
    expect_fail(fx->conf, "alice", 901, want);
    expect_fail(fx->conf, "alice", 0, "--ttl 0 is outside 1..900");
    expect_fail(fx->conf, "al ice", 600, "--agent: not a page token's agent name");
    expect_fail("/nonexistent/rtpprobed.conf", "", 600, "/nonexistent/rtpprobed.conf: cannot open");
    /* the secret file's own problems, naming it */
    assert_int_equal(chmod(fx->secret, 0644), 0);
    snprintf(want, sizeof want, "%s: permissions 0644 are too open", fx->secret);
    expect_fail(fx->conf, "alice", 600, want);
    assert_int_equal(chmod(fx->secret, 0640), 0);
}

/* ---- through rp_daemon_main, as the command line runs it ---- */

struct run {
    int rc;
    char out[512], err[1024];
};

static void slurp(FILE *f, char *buf, size_t cap)
{
    rewind(f);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
}

static void run_main(struct run *r, const char *const *args)
{
    char *argv[16];
    int argc = 0;
    argv[argc++] = (char *)(uintptr_t) "rtpprobed";
    for (; args[argc - 1] != NULL; argc++)
        argv[argc] = (char *)(uintptr_t)args[argc - 1];
    argv[argc] = NULL;

    FILE *out = tmpfile(), *err = tmpfile();
    assert_non_null(out);
    assert_non_null(err);
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    dup2(fileno(out), 1);
    dup2(fileno(err), 2);
    optind = 0; /* glibc: start a new scan */
    r->rc = rp_daemon_main(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    slurp(out, r->out, sizeof r->out);
    slurp(err, r->err, sizeof r->err);
}

/* The one line printed: a token the daemon accepts, expiring ttl seconds after the run. */
static void expect_token_line(const struct run *r, uint64_t before, unsigned ttl, const char *agent_want)
{
    char agent[65], tok[RP_PAGETOKEN_MAX];
    uint64_t after = (uint64_t)time(NULL);
    unsigned long long expiry = 0;
    size_t len = strlen(r->out);

    if (r->rc != 0)
        fail_msg("exit %d, stderr: %s", r->rc, r->err);
    assert_string_equal(r->err, "");
    assert_true(len > 1 && r->out[len - 1] == '\n' && strchr(r->out, '\n') == r->out + len - 1);
    snprintf(tok, sizeof tok, "%.*s", (int)(len - 1), r->out);
    assert_int_equal(check(tok, after, 900, agent), RP_PAGETOKEN_OK);
    assert_string_equal(agent, agent_want);
    assert_int_equal(sscanf(tok, "v1:%llu:", &expiry), 1);
    assert_true(expiry >= before + ttl && expiry <= after + ttl);
}

static void test_command_line_prints_one_token(void **state)
{
    struct fixture *fx = *state;
    struct run r;
    uint64_t before = (uint64_t)time(NULL);

    run_main(&r, (const char *const[]){ "--page-token", "--agent", "alice", "--ttl", "60", "-c", fx->conf, NULL });
    expect_token_line(&r, before, 60, "alice");
    /* defaults: no agent, 600 s; options in any order */
    run_main(&r, (const char *const[]){ "-c", fx->conf, "--page-token", NULL });
    expect_token_line(&r, before, RP_PAGE_TOKEN_TTL_DEFAULT, "");
    run_main(&r, (const char *const[]){ "--ttl=900", "--config", fx->conf, "--agent=bob.smith_2-x", "--page-token", NULL });
    expect_token_line(&r, before, 900, "bob.smith_2-x");
}

static void test_command_line_errors_are_one_line_and_exit_1(void **state)
{
    struct fixture *fx = *state;
    struct run r;
    char want[256];

    run_main(&r, (const char *const[]){ "--page-token", "-c", fx->off_conf, NULL });
    snprintf(want, sizeof want, "rtpprobed: --page-token: webrtc.page_secret_file is not set in %s\n", fx->off_conf);
    assert_int_equal(r.rc, RP_DAEMON_EXIT_FAIL);
    assert_string_equal(r.err, want);
    assert_string_equal(r.out, "");

    static const char *const bad_ttl[] = { "0", "901", "-1", "+60", "60s", "", "99999999999999999999", " 60" };
    for (size_t i = 0; i < sizeof bad_ttl / sizeof bad_ttl[0]; i++) {
        run_main(&r, (const char *const[]){ "--page-token", "--ttl", bad_ttl[i], "-c", fx->conf, NULL });
        if (r.rc != RP_DAEMON_EXIT_FAIL || strncmp(r.err, "rtpprobed: --page-token: --ttl", 30) != 0 ||
            strchr(r.err, '\n') != r.err + strlen(r.err) - 1 || r.out[0] != '\0')
            fail_msg("--ttl \"%s\": exit %d, stderr \"%s\", stdout \"%s\"", bad_ttl[i], r.rc, r.err, r.out);
    }
    run_main(&r, (const char *const[]){ "--page-token", "--agent", "a:b", "-c", fx->conf, NULL });
    assert_int_equal(r.rc, RP_DAEMON_EXIT_FAIL);
    assert_non_null(strstr(r.err, "--agent"));
}

static void test_page_token_options_alone_or_mixed_are_usage_errors(void **state)
{
    struct fixture *fx = *state;
    struct run r;
    /* a config that cannot start a daemon: were the option taken as "run", this fails (exit 1), not hangs */
    static const char nowhere[] = "/nonexistent/rtpprobed.conf";

    run_main(&r, (const char *const[]){ "--agent", "alice", "-c", nowhere, NULL });
    assert_int_equal(r.rc, RP_DAEMON_EXIT_USAGE);
    assert_non_null(strstr(r.err, "usage: rtpprobed"));
    run_main(&r, (const char *const[]){ "--ttl", "60", "-c", nowhere, NULL });
    assert_int_equal(r.rc, RP_DAEMON_EXIT_USAGE);
    run_main(&r, (const char *const[]){ "--page-token", "--check-config", "-c", fx->conf, NULL });
    assert_int_equal(r.rc, RP_DAEMON_EXIT_USAGE);
    run_main(&r, (const char *const[]){ "--page-token", "-c", fx->conf, "extra", NULL });
    assert_int_equal(r.rc, RP_DAEMON_EXIT_USAGE);
    run_main(&r, (const char *const[]){ "--page-token", "--agent", NULL });
    assert_int_equal(r.rc, RP_DAEMON_EXIT_USAGE);
    assert_string_equal(r.out, "");
    /* --help names it */
    run_main(&r, (const char *const[]){ "--help", NULL });
    assert_int_equal(r.rc, RP_DAEMON_EXIT_OK);
    assert_non_null(strstr(r.out, "--page-token [--agent NAME] [--ttl SECONDS] [-c FILE]"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_page_token_function_mints_what_the_daemon_accepts),
        cmocka_unit_test(test_page_token_function_refuses_what_the_daemon_would),
        cmocka_unit_test(test_command_line_prints_one_token),
        cmocka_unit_test(test_command_line_errors_are_one_line_and_exit_1),
        cmocka_unit_test(test_page_token_options_alone_or_mixed_are_usage_errors),
    };
    return cmocka_run_group_tests_name("daemon_cli", tests, setup, teardown);
}
