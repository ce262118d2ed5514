/* Config loading and validation. Fixtures are written to /tmp; each line is
 * numbered in a comment so the expected "path:line:" can be checked by eye. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

/* SHA-256("abc") and SHA-256("") (FIPS 180-2 B.1; the empty-message digest) */
#define ABC_HASH "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define EMPTY_HASH "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
static const uint8_t abc_digest[RP_TOKEN_HASH_LEN] = {
    0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
    0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
};
static const uint8_t empty_digest[RP_TOKEN_HASH_LEN] = {
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
};

/* ---- helpers ---- */

static void write_temp(const char *text, char path[64])
{
    snprintf(path, 64, "/tmp/rtpprobe-test-config-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t len = strlen(text);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
}

static int load_text(const char *text, struct rp_config *cfg, char *err, size_t errlen, char path[64])
{
    write_temp(text, path);
    int rc = rp_config_load(path, cfg, err, errlen);
    unlink(path);
    return rc;
}

/* Loading `text` must fail with "<path>:<line>: " followed by a message containing `needle`
 * (line 0: "<path>: ", an error about the file as a whole). */
static void expect_error(const char *text, unsigned line, const char *needle)
{
    struct rp_config cfg;
    char err[512], path[64], prefix[96];

    assert_int_equal(load_text(text, &cfg, err, sizeof err, path), -1);
    if (line > 0)
        snprintf(prefix, sizeof prefix, "%s:%u: ", path, line);
    else
        snprintf(prefix, sizeof prefix, "%s: ", path);
    if (strncmp(err, prefix, strlen(prefix)) != 0)
        fail_msg("error \"%s\" does not start with \"%s\"", err, prefix);
    if (strstr(err + strlen(prefix), needle) == NULL)
        fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
}

static void expect_ok(const char *text, struct rp_config *cfg)
{
    char err[512] = "", path[64];
    if (load_text(text, cfg, err, sizeof err, path) != 0)
        fail_msg("unexpected error: %s", err);
}

/* The smallest valid config: everything else takes its default. */
#define TOKENS_ONLY "control = { tokens = ( \"" ABC_HASH "\" ); };\n"

/* ---- loading ---- */

static void test_full_config_loads_every_value(void **state)
{
    (void)state;
    static const char text[] =
        /*  1 */ "# every key set, none to its default\n"
        /*  2 */ "control = {\n"
        /*  3 */ "  listen = \"[::1]:9443\";\n"
        /*  4 */ "  tls_cert = \"/etc/rtpprobe/cert.pem\";\n"
        /*  5 */ "  tls_key = \"/etc/rtpprobe/key.pem\";\n"
        /*  6 */ "  tokens = ( \"" ABC_HASH "\",\n"
        /*  7 */ "             \"" EMPTY_HASH "\" );\n"
        /*  8 */ "};\n"
        /*  9 */ "media = {\n"
        /* 10 */ "  bind = \"192.0.2.10\";\n"
        /* 11 */ "  port_min = 30000;\n"
        /* 12 */ "  port_max = 30999;\n"
        /* 13 */ "};\n"
        /* 14 */ "limits = {\n"
        /* 15 */ "  max_sessions = 100000;\n"
        /* 16 */ "  max_duration = 86400L;\n" /* a 64-bit literal is an integer too */
        /* 17 */ "  max_body = 256;\n"
        /* 18 */ "};\n"
        /* 19 */ "log = { level = \"debug\"; };\n";
    struct rp_config cfg;

    expect_ok(text, &cfg);
    assert_string_equal(cfg.control_listen, "[::1]:9443");
    assert_string_equal(cfg.tls_cert, "/etc/rtpprobe/cert.pem");
    assert_string_equal(cfg.tls_key, "/etc/rtpprobe/key.pem");
    assert_int_equal(cfg.ntokens, 2);
    assert_memory_equal(cfg.tokens[0], abc_digest, RP_TOKEN_HASH_LEN);
    assert_memory_equal(cfg.tokens[1], empty_digest, RP_TOKEN_HASH_LEN);
    assert_string_equal(cfg.media_bind, "192.0.2.10");
    assert_int_equal(cfg.port_min, 30000);
    assert_int_equal(cfg.port_max, 30999);
    assert_int_equal(cfg.max_sessions, 100000);
    assert_int_equal(cfg.max_duration, 86400);
    assert_int_equal(cfg.max_body, 256);
    assert_int_equal(cfg.log_level, RP_LOG_DEBUG);
    assert_true(rp_token_check((const uint8_t (*)[RP_TOKEN_HASH_LEN])cfg.tokens, cfg.ntokens, "abc", 3));
}

static void assert_documented_defaults(const struct rp_config *cfg)
{
    assert_string_equal(cfg->control_listen, "127.0.0.1:8743");
    assert_string_equal(cfg->stun_listen, "0.0.0.0:3478");
    assert_string_equal(cfg->tls_cert, "");
    assert_string_equal(cfg->tls_key, "");
    assert_string_equal(cfg->media_bind, "0.0.0.0");
    assert_int_equal(cfg->port_min, 10000);
    assert_int_equal(cfg->port_max, 20000);
    assert_int_equal(cfg->max_sessions, 100);
    assert_int_equal(cfg->max_duration, 3600);
    assert_int_equal(cfg->max_body, 16384);
    assert_int_equal(cfg->log_level, RP_LOG_INFO);
    assert_int_equal(cfg->stun_rate, 20);
    assert_int_equal(cfg->max_agents, 1000);
    assert_string_equal(cfg->webrtc_page_secret_file, "");
    assert_int_equal(cfg->webrtc_token_max_ttl, 3600);
    assert_int_equal(cfg->webrtc_max_sessions, 20);
    assert_string_equal(cfg->webrtc_address, "");
    assert_string_equal(cfg->webrtc_turn_secret_file, "");
    assert_int_equal(cfg->nwebrtc_turn_urls, 0);
    assert_int_equal(cfg->webrtc_turn_ttl, 600);
}

static void test_absent_keys_take_documented_defaults(void **state)
{
    (void)state;
    struct rp_config cfg;

    expect_ok(TOKENS_ONLY, &cfg);
    assert_documented_defaults(&cfg);
    assert_int_equal(cfg.ntokens, 1);
    assert_memory_equal(cfg.tokens[0], abc_digest, RP_TOKEN_HASH_LEN);

    /* empty groups are fine too */
    expect_ok(TOKENS_ONLY "media = { };\nlimits = { };\nlog = { };\n", &cfg);
    assert_documented_defaults(&cfg);

    rp_config_defaults(&cfg);
    assert_documented_defaults(&cfg);
    assert_int_equal(cfg.ntokens, 0);
}

static void test_tokens_may_be_an_array_with_upper_case_hex(void **state)
{
    (void)state;
    struct rp_config cfg;

    expect_ok("control = { tokens = [ \"sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855\" ]; };\n",
              &cfg);
    assert_int_equal(cfg.ntokens, 1);
    assert_memory_equal(cfg.tokens[0], empty_digest, RP_TOKEN_HASH_LEN);
}

static void test_raising_port_min_alone_past_default_max_is_rejected(void **state)
{
    (void)state;
    expect_error(
        /* 1 */ TOKENS_ONLY
        /* 2 */ "media = {\n"
        /* 3 */ "  port_min = 30000;\n"
        /* 4 */ "};\n",
        3, "media.port_max (20000) must be above media.port_min (30000)");
}

/* ---- errors, each at the line that causes it ---- */

static void test_syntax_error_reports_its_line(void **state)
{
    (void)state;
    expect_error(
        /* 1 */ TOKENS_ONLY
        /* 2 */ "media = {\n"
        /* 3 */ "  port_min = 10000;\n"
        /* 4 */ "  port_max 20000;\n"
        /* 5 */ "};\n",
        4, "syntax error");
    /* libconfig lists take no trailing comma */
    expect_error(
        /* 1 */ "# comment\n"
        /* 2 */ "control = {\n"
        /* 3 */ "  tokens = ( \"" ABC_HASH "\", );\n"
        /* 4 */ "};\n",
        3, "syntax error");
}

static void test_out_of_range_values_report_key_and_line(void **state)
{
    (void)state;
    expect_error(TOKENS_ONLY
                 /* 2 */ "limits = {\n"
                 /* 3 */ "  max_duration = 60;\n"
                 /* 4 */ "  max_sessions = 0;\n"
                 /* 5 */ "};\n",
                 4, "limits.max_sessions: 0 is out of range 1..100000");
    expect_error(TOKENS_ONLY
                 /* 2 */ "limits = {\n"
                 /* 3 */ "\n"
                 /* 4 */ "\n"
                 /* 5 */ "  max_sessions = 100001;\n"
                 /* 6 */ "};\n",
                 5, "limits.max_sessions: 100001 is out of range 1..100000");
    expect_error(TOKENS_ONLY "limits = { max_duration = 86401; };\n", 2,
                 "limits.max_duration: 86401 is out of range 1..86400");
    expect_error(TOKENS_ONLY "limits = { max_duration = 0; };\n", 2,
                 "limits.max_duration: 0 is out of range 1..86400");
    expect_error(TOKENS_ONLY "limits = { max_body = 255; };\n", 2,
                 "limits.max_body: 255 is out of range 256..1048576");
    expect_error(TOKENS_ONLY "limits = { max_body = 1048577; };\n", 2,
                 "limits.max_body: 1048577 is out of range 256..1048576");
    expect_error(TOKENS_ONLY
                 /* 2 */ "media = {\n"
                 /* 3 */ "  port_min = 1022;\n"
                 /* 4 */ "};\n",
                 3, "media.port_min: 1022 is out of range 1024..65535");
    expect_error(TOKENS_ONLY
                 /* 2 */ "media = {\n"
                 /* 3 */ "  port_min = 10000;\n"
                 /* 4 */ "  port_max = 65536;\n"
                 /* 5 */ "};\n",
                 4, "media.port_max: 65536 is out of range 1024..65535");
    /* beyond 32 bits: not truncated into range */
    expect_error(TOKENS_ONLY "limits = { max_sessions = 4294967396L; };\n", 2,
                 "limits.max_sessions: 4294967396 is out of range");
    expect_error(TOKENS_ONLY "limits = { max_sessions = -1; };\n", 2,
                 "limits.max_sessions: -1 is out of range");
}

static void test_wrong_types_are_reported_with_line(void **state)
{
    (void)state;
    expect_error(TOKENS_ONLY
                 /* 2 */ "media = {\n"
                 /* 3 */ "  port_min = \"10000\";\n"
                 /* 4 */ "};\n",
                 3, "media.port_min: expected an integer");
    expect_error(TOKENS_ONLY "limits = { max_duration = 1.5; };\n", 2, "limits.max_duration: expected an integer");
    expect_error(TOKENS_ONLY "limits = { max_body = true; };\n", 2, "limits.max_body: expected an integer");
    expect_error(/* 1 */ "control = {\n"
                 /* 2 */ "  tokens = ( \"" ABC_HASH "\" );\n"
                 /* 3 */ "  listen = 8743;\n"
                 /* 4 */ "};\n",
                 3, "control.listen: expected a string");
    expect_error(TOKENS_ONLY "media = { bind = [ \"0.0.0.0\" ]; };\n", 2, "media.bind: expected a string");
    expect_error(/* 1 */ "control = {\n"
                 /* 2 */ "  tokens = \"" ABC_HASH "\";\n"
                 /* 3 */ "};\n",
                 2, "control.tokens: expected a list of strings");
    expect_error(TOKENS_ONLY "log = \"debug\";\n", 2, "log: expected a group");
}

static void test_unknown_key_is_reported_with_line(void **state)
{
    (void)state;
    expect_error(TOKENS_ONLY
                 /* 2 */ "media = {\n"
                 /* 3 */ "  bind = \"0.0.0.0\";\n"
                 /* 4 */ "  prot_min = 10000;\n"
                 /* 5 */ "};\n",
                 4, "unknown setting media.prot_min (media has: bind, port_min, port_max, allow_foreign_peer)");
    expect_error(/* 1 */ "control = {\n"
                 /* 2 */ "  tokens = ( \"" ABC_HASH "\" );\n"
                 /* 3 */ "  token = \"x\";\n"
                 /* 4 */ "};\n",
                 3, "unknown setting control.token");
}

static void test_unknown_top_level_name_is_reported_with_line(void **state)
{
    (void)state;
    expect_error(TOKENS_ONLY
                 /* 2 */ "# typo in a group name\n"
                 /* 3 */ "limit = {\n"
                 /* 4 */ "  max_sessions = 10;\n"
                 /* 5 */ "};\n",
                 3, "unknown setting limit");
    expect_error(/* 1 */ "level = \"debug\";\n" TOKENS_ONLY, 1, "unknown setting level");
}

static void test_odd_port_min_is_rejected_citing_rfc_3550(void **state)
{
    (void)state;
    expect_error(TOKENS_ONLY
                 /* 2 */ "media = {\n"
                 /* 3 */ "  port_min = 10001;\n"
                 /* 4 */ "  port_max = 20000;\n"
                 /* 5 */ "};\n",
                 3, "media.port_min: 10001 is odd; RTP uses even ports");
    expect_error(TOKENS_ONLY "media = { port_min = 10001; };\n", 2, "RFC 3550 section 11");
}

static void test_port_max_must_be_above_port_min(void **state)
{
    (void)state;
    expect_error(TOKENS_ONLY
                 /* 2 */ "media = {\n"
                 /* 3 */ "  port_max = 10000;\n"
                 /* 4 */ "  port_min = 10000;\n"
                 /* 5 */ "};\n",
                 3, "media.port_max (10000) must be above media.port_min (10000)");

    /* the smallest range: one RTP/RTCP pair */
    struct rp_config cfg;
    expect_ok(TOKENS_ONLY "media = { port_min = 40000; port_max = 40001; };\n", &cfg);
    assert_int_equal(cfg.port_min, 40000);
    assert_int_equal(cfg.port_max, 40001);
}

static void test_tls_cert_without_key_is_rejected(void **state)
{
    (void)state;
    expect_error(/* 1 */ "control = {\n"
                 /* 2 */ "  tokens = ( \"" ABC_HASH "\" );\n"
                 /* 3 */ "  tls_cert = \"/etc/rtpprobe/cert.pem\";\n"
                 /* 4 */ "};\n",
                 3, "control.tls_cert is set but control.tls_key is not");
    expect_error(/* 1 */ "control = {\n"
                 /* 2 */ "  tls_key = \"/etc/rtpprobe/key.pem\";\n"
                 /* 3 */ "  tokens = ( \"" ABC_HASH "\" );\n"
                 /* 4 */ "};\n",
                 2, "control.tls_key is set but control.tls_cert is not");
    expect_error(/* 1 */ "control = {\n"
                 /* 2 */ "  tokens = ( \"" ABC_HASH "\" );\n"
                 /* 3 */ "  tls_cert = \"\";\n"
                 /* 4 */ "};\n",
                 3, "control.tls_cert: empty");
}

static void test_bad_token_is_reported_at_its_line_without_its_value(void **state)
{
    (void)state;
    /* The last element sits on its own line with ")" on the next: libconfig
     * alone would report line 6 here. */
    static const char text[] =
        /* 1 */ "control = {\n"
        /* 2 */ "  listen = \"127.0.0.1:8743\";\n"
        /* 3 */ "  tokens = (\n"
        /* 4 */ "    \"" ABC_HASH "\",\n"
        /* 5 */ "    \"s3cret-plain-token\"\n"
        /* 6 */ "  );\n"
        /* 7 */ "};\n";
    struct rp_config cfg;
    char err[512], path[64];

    expect_error(text, 5, "control.tokens[1]: expected \"sha256:<64 hex digits>\"");
    expect_error(text, 5, "rtpprobed --hash-token");
    assert_int_equal(load_text(text, &cfg, err, sizeof err, path), -1);
    assert_null(strstr(err, "s3cret"));

    expect_error(/* 1 */ "control = {\n"
                 /* 2 */ "  tokens = (\n"
                 /* 3 */ "    \"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a\"\n"
                 /* 4 */ "\n"
                 /* 5 */ "  # a comment before the closing bracket\n"
                 /* 6 */ "  );\n"
                 /* 7 */ "};\n",
                 3, "control.tokens[0]");
    expect_error(/* 1 */ "control = {\n"
                 /* 2 */ "  tokens = ( \"" ABC_HASH "\",\n"
                 /* 3 */ "    42 );\n"
                 /* 4 */ "};\n",
                 3, "control.tokens[1]");
}

static void test_tokens_are_required(void **state)
{
    (void)state;
    expect_error(/* 1 */ "media = { bind = \"::\"; };\n"
                 /* 2 */ "control = {\n"
                 /* 3 */ "  listen = \"127.0.0.1:8743\";\n"
                 /* 4 */ "};\n",
                 2, "control.tokens is missing");
    expect_error("log = { level = \"info\"; };\n", 0, "control.tokens is missing");
    expect_error(/* 1 */ "control = {\n"
                 /* 2 */ "  tokens = ( );\n"
                 /* 3 */ "};\n",
                 2, "control.tokens: at least one token hash is required");
}

static void test_more_tokens_than_the_table_holds_are_rejected(void **state)
{
    (void)state;
    size_t one = strlen("\"" ABC_HASH "\",");
    char *text = malloc(64 + (RP_CONFIG_MAX_TOKENS + 1) * one);
    assert_non_null(text);
    char *p = text + sprintf(text, "control = { tokens = (");
    for (int i = 0; i < RP_CONFIG_MAX_TOKENS + 1; i++)
        p += sprintf(p, "%s\"" ABC_HASH "\"", i ? "," : "");
    sprintf(p, "); };\n");
    expect_error(text, 1, "control.tokens: 65 entries, at most 64");
    free(text);
}

static void test_addresses_must_be_numeric(void **state)
{
    (void)state;
    expect_error(/* 1 */ "control = {\n"
                 /* 2 */ "  tokens = ( \"" ABC_HASH "\" );\n"
                 /* 3 */ "  listen = \"127.0.0.1\";\n"
                 /* 4 */ "};\n",
                 3, "control.listen: \"127.0.0.1\" is not IP:port");
    expect_error(/* 1 */ "control = {\n"
                 /* 2 */ "  tokens = ( \"" ABC_HASH "\" );\n"
                 /* 3 */ "  listen = \"localhost:8743\";\n"
                 /* 4 */ "};\n",
                 3, "control.listen");
    expect_error(TOKENS_ONLY "media = { bind = \"media.example.com\"; };\n", 2,
                 "media.bind: \"media.example.com\" is not an IPv4 or IPv6 address");
    expect_error(TOKENS_ONLY "media = { bind = \"0.0.0.0:10000\"; };\n", 2, "media.bind");

    struct rp_config cfg;
    expect_ok(TOKENS_ONLY "media = { bind = \"2001:db8::1\"; };\n", &cfg);
    assert_string_equal(cfg.media_bind, "2001:db8::1");
}

static void test_unknown_log_level_is_rejected(void **state)
{
    (void)state;
    expect_error(TOKENS_ONLY
                 /* 2 */ "log = {\n"
                 /* 3 */ "  level = \"verbose\";\n"
                 /* 4 */ "};\n",
                 3, "log.level: expected one of \"err\", \"warn\", \"info\", \"debug\"");

    struct rp_config cfg;
    expect_ok(TOKENS_ONLY "log = { level = \"err\"; };\n", &cfg);
    assert_int_equal(cfg.log_level, RP_LOG_ERR);
    expect_ok(TOKENS_ONLY "log = { level = \"warn\"; };\n", &cfg);
    assert_int_equal(cfg.log_level, RP_LOG_WARN);
}

static void test_failed_load_leaves_cfg_untouched(void **state)
{
    (void)state;
    struct rp_config cfg, before;
    char err[512], path[64];

    memset(&cfg, 0xa5, sizeof cfg);
    before = cfg;
    /* The error (odd port) comes after valid settings that would have been stored. */
    assert_int_equal(load_text("control = { tokens = ( \"" ABC_HASH "\" ); listen = \"[::1]:1\"; };\n"
                               "log = { level = \"debug\"; };\n"
                               "media = { port_min = 10001; };\n",
                               &cfg, err, sizeof err, path),
                     -1);
    assert_memory_equal(&cfg, &before, sizeof cfg);
}

static void test_unreadable_file_is_reported_with_its_path(void **state)
{
    (void)state;
    struct rp_config cfg;
    char err[256];

    assert_int_equal(rp_config_load("/nonexistent/rtpprobed.conf", &cfg, err, sizeof err), -1);
    assert_string_equal(err, "/nonexistent/rtpprobed.conf: cannot open: No such file or directory");

    /* a tiny buffer is truncated, not overrun; no buffer at all is allowed */
    char small[8];
    assert_int_equal(rp_config_load("/nonexistent/rtpprobed.conf", &cfg, small, sizeof small), -1);
    assert_string_equal(small, "/nonexi");
    assert_int_equal(rp_config_load("/nonexistent/rtpprobed.conf", &cfg, NULL, 0), -1);
}

static void test_error_in_included_file_names_that_file(void **state)
{
    (void)state;
    char inc[64], main_text[256], err[512], path[64];
    struct rp_config cfg;

    write_temp(/* 1 */ "limits = {\n"
               /* 2 */ "  max_sessions = 10;\n"
               /* 3 */ "  max_session = 10;\n"
               /* 4 */ "};\n",
               inc);
    /* relative to the including file's directory (both are in /tmp) */
    snprintf(main_text, sizeof main_text, TOKENS_ONLY "@include \"%s\"\n", inc + strlen("/tmp/"));
    int rc = load_text(main_text, &cfg, err, sizeof err, path);
    unlink(inc);
    assert_int_equal(rc, -1);
    char prefix[160];
    snprintf(prefix, sizeof prefix, "%s:3: unknown setting limits.max_session", inc);
    if (strncmp(err, prefix, strlen(prefix)) != 0)
        fail_msg("error \"%s\" does not start with \"%s\"", err, prefix);

    /* a syntax error in it too */
    write_temp(/* 1 */ "limits = {\n"
               /* 2 */ "  max_sessions 10;\n"
               /* 3 */ "};\n",
               inc);
    snprintf(main_text, sizeof main_text, TOKENS_ONLY "@include \"%s\"\n", inc + strlen("/tmp/"));
    rc = load_text(main_text, &cfg, err, sizeof err, path);
    unlink(inc);
    assert_int_equal(rc, -1);
    snprintf(prefix, sizeof prefix, "%s:2: syntax error", inc);
    assert_string_equal(err, prefix);
}

/* ---- the key table ---- */

static bool is_number(const struct rp_config_key *k)
{
    return k->type == RP_CONFIG_UINT || k->type == RP_CONFIG_RTP_PORT || k->type == RP_CONFIG_BOOL ||
           k->type == RP_CONFIG_LOG_LEVEL;
}

static bool is_list(const struct rp_config_key *k)
{
    return k->type == RP_CONFIG_TOKENS || k->type == RP_CONFIG_PORTS || k->type == RP_CONFIG_PREFIXES ||
           k->type == RP_CONFIG_TURN_URLS;
}

static const char *value_of(const struct rp_config_key *k, const struct rp_config *c)
{
    return (const char *)c + k->offset;
}

static char *value_at(const struct rp_config_key *k, struct rp_config *c)
{
    return (char *)c + k->offset;
}

static unsigned *count_at(const struct rp_config_key *k, struct rp_config *c)
{
    return (unsigned *)(void *)((char *)c + k->count_offset);
}

static unsigned count_of(const struct rp_config_key *k, const struct rp_config *c)
{
    return *(const unsigned *)(const void *)((const char *)c + k->count_offset);
}

static long long number_of(const struct rp_config_key *k, const struct rp_config *c)
{
    switch (k->type) {
    case RP_CONFIG_BOOL:
        return *(const bool *)(const void *)value_of(k, c);
    case RP_CONFIG_LOG_LEVEL:
        return *(const enum rp_log_level *)(const void *)value_of(k, c);
    default:
        return *(const unsigned *)(const void *)value_of(k, c);
    }
}

static void set_number(const struct rp_config_key *k, struct rp_config *c, long long v)
{
    switch (k->type) {
    case RP_CONFIG_BOOL:
        *(bool *)(void *)value_at(k, c) = v != 0;
        break;
    case RP_CONFIG_LOG_LEVEL:
        *(enum rp_log_level *)(void *)value_at(k, c) = (enum rp_log_level)v;
        break;
    default:
        *(unsigned *)(void *)value_at(k, c) = (unsigned)v;
        break;
    }
}

static bool same_value(const struct rp_config_key *k, const struct rp_config *a, const struct rp_config *b)
{
    if (is_list(k) && count_of(k, a) != count_of(k, b))
        return false;
    return memcmp(value_of(k, a), value_of(k, b), k->size) == 0;
}

static void test_every_default_lies_in_its_range_and_is_what_defaults_sets(void **state)
{
    (void)state;
    const struct rp_config_key *keys;
    size_t n = rp_config_keys(&keys);
    struct rp_config cfg;

    rp_config_defaults(&cfg);
    assert_true(n >= 24);
    for (size_t i = 0; i < n; i++) {
        const struct rp_config_key *k = &keys[i];
        assert_true(k->offset + k->size <= sizeof cfg);
        if (is_number(k)) {
            if (k->def < k->min || k->def > k->max)
                fail_msg("%s.%s: default %lld outside %lld..%lld", k->group, k->name, k->def, k->min, k->max);
            if (number_of(k, &cfg) != k->def)
                fail_msg("%s.%s: rp_config_defaults sets %lld, the table says %lld", k->group, k->name,
                         number_of(k, &cfg), k->def);
        } else if (is_list(k)) {
            assert_int_equal(count_of(k, &cfg), 0);
        } else {
            assert_string_equal(value_of(k, &cfg), k->def_text ? k->def_text : "");
            assert_true(k->def_text == NULL || strlen(k->def_text) < k->size);
        }
        /* on/off is about a string being set */
        assert_true(k->apply != RP_APPLY_ONOFF || (!is_number(k) && !is_list(k)));
        /* one row per key, the rows of a group together (the "unknown setting" lists rely on it) */
        for (size_t j = 0; j < i; j++) {
            assert_false(strcmp(keys[j].group, k->group) == 0 && strcmp(keys[j].name, k->name) == 0);
            assert_true(strcmp(keys[j].group, k->group) != 0 || strcmp(keys[i - 1].group, k->group) == 0);
        }
    }
    assert_documented_defaults(&cfg);
}

/* fresh: running with k's value changed (for on/off keys, set where it was empty) */
static void change_value(const struct rp_config_key *k, struct rp_config *c)
{
    if (is_number(k)) {
        set_number(k, c, number_of(k, c) == k->min ? k->max : k->min);
    } else if (is_list(k)) {
        *count_at(k, c) += 1;
        value_at(k, c)[0] ^= 1;
    } else {
        snprintf(value_at(k, c), k->size, "%s", value_of(k, c)[0] ? "" : "/changed");
    }
}

/* Driven by the table: every key a reload applies is applied, every key that
 * needs a restart keeps its running value and is named. */
static void test_reload_applies_live_keys_and_names_restart_only_ones(void **state)
{
    (void)state;
    const struct rp_config_key *keys;
    size_t n = rp_config_keys(&keys);
    struct rp_config running, before, fresh;
    char restart[256], name[64], all[512] = "";

    expect_ok(TOKENS_ONLY, &before);
    for (size_t i = 0; i < n; i++) {
        const struct rp_config_key *k = &keys[i];
        running = before;
        fresh = before;
        change_value(k, &fresh);
        unsigned named = rp_config_reload(&running, &fresh, restart, sizeof restart);
        if (k->apply == RP_APPLY_LIVE) {
            if (!same_value(k, &running, &fresh) || named != 0)
                fail_msg("%s.%s: a reload should apply it (named: \"%s\")", k->group, k->name, restart);
            continue;
        }
        snprintf(name, sizeof name, "%s.%s%s", k->group, k->name, k->apply == RP_APPLY_ONOFF ? " (on/off)" : "");
        snprintf(all + strlen(all), sizeof all - strlen(all), "%s%s", all[0] ? ", " : "", name);
        if (!same_value(k, &running, &before) || named != 1 || strcmp(restart, name) != 0)
            fail_msg("%s.%s: a reload should keep it and name it (named %u: \"%s\")", k->group, k->name, named,
                     restart);
        /* everything else of fresh is taken */
        memcpy(value_at(k, &fresh), value_of(k, &running), k->size);
        if (is_list(k))
            *count_at(k, &fresh) = count_of(k, &running);
        assert_memory_equal(&running, &fresh, sizeof running);
    }
    /* as docs/configuration.md, docs/rtpprobed.8 and conf/rtpprobed.conf say */
    assert_string_equal(all, "control.listen, control.tls_cert (on/off), control.tls_key (on/off), media.bind, "
                             "stun.listen, echo.ports");
}

static void test_reload_keeps_listen_and_echo_ports_and_applies_the_rest(void **state)
{
    (void)state;
    struct rp_config running, fresh;
    char restart[256];

    expect_ok(TOKENS_ONLY "echo = { ports = [ 9000 ]; allow = [ \"10.0.0.0/8\" ]; };\n", &running);
    expect_ok("control = { tokens = ( \"" EMPTY_HASH "\" ); listen = \"[::1]:9443\"; };\n"
              "limits = { max_sessions = 5; };\n"
              "log = { level = \"debug\"; };\n"
              "echo = { ports = [ 9000, 9002 ]; allow = [ ]; rate = 50; };\n",
              &fresh);
    assert_int_equal(rp_config_reload(&running, &fresh, restart, sizeof restart), 2);
    assert_string_equal(restart, "control.listen, echo.ports");
    assert_string_equal(running.control_listen, "127.0.0.1:8743");
    assert_int_equal(running.necho_ports, 1);
    assert_int_equal(running.echo_ports[0], 9000);
    assert_int_equal(running.ntokens, 1);
    assert_memory_equal(running.tokens[0], empty_digest, RP_TOKEN_HASH_LEN);
    assert_int_equal(running.max_sessions, 5);
    assert_int_equal(running.log_level, RP_LOG_DEBUG);
    assert_int_equal(running.necho_allow, 0);
    assert_int_equal(running.echo_rate, 50);

    /* the same file again: nothing to name, nothing changes */
    struct rp_config again = running;
    assert_int_equal(rp_config_reload(&running, &again, restart, sizeof restart), 0);
    assert_string_equal(restart, "");
    assert_memory_equal(&running, &again, sizeof running);
}

static void test_reload_applies_new_tls_files_but_not_tls_on_or_off(void **state)
{
    (void)state;
    struct rp_config running, fresh, plain;
    char restart[256];

#define TLS(cert, key) "control = { tokens = ( \"" ABC_HASH "\" ); tls_cert = \"" cert "\"; tls_key = \"" key "\"; };\n"
    expect_ok(TLS("/old/cert.pem", "/old/key.pem"), &running);
    expect_ok(TLS("/new/cert.pem", "/new/key.pem"), &fresh);
#undef TLS
    assert_int_equal(rp_config_reload(&running, &fresh, restart, sizeof restart), 0);
    assert_string_equal(running.tls_cert, "/new/cert.pem");
    assert_string_equal(running.tls_key, "/new/key.pem");

    /* switching TLS off keeps it on (the listener is bound), and says so */
    expect_ok(TOKENS_ONLY, &plain);
    assert_int_equal(rp_config_reload(&running, &plain, restart, sizeof restart), 2);
    assert_string_equal(restart, "control.tls_cert (on/off), control.tls_key (on/off)");
    assert_string_equal(running.tls_cert, "/new/cert.pem");

    /* a short buffer is truncated, not overrun; none at all is allowed */
    char small[8];
    assert_int_equal(rp_config_reload(&running, &plain, small, sizeof small), 2);
    assert_string_equal(small, "control");
    assert_int_equal(rp_config_reload(&running, &plain, NULL, 0), 2);
}

/* conf/rtpprobed.conf ships with a placeholder token, so that the daemon refuses to
 * start until one is set, and otherwise with exactly the compiled-in defaults. */
static void test_shipped_config_needs_a_token_and_documents_the_defaults(void **state)
{
    (void)state;
    static const char placeholder[] = "\"sha256:REPLACE-ME\"";
    FILE *f = fopen("conf/rtpprobed.conf", "r");
    if (f == NULL)
        skip(); /* run from the repository root, as `make unit` does */
    char text[32768];
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[len] = '\0';

    char *at = strstr(text, placeholder);
    assert_non_null(at);
    unsigned line = 1;
    for (const char *p = text; p < at; p++)
        line += *p == '\n';
    expect_error(text, line, "control.tokens[0]");

    /* with the placeholder replaced by a real hash */
    char fixed[sizeof text + 128];
    snprintf(fixed, sizeof fixed, "%.*s\"%s\"%s", (int)(at - text), text, ABC_HASH, at + strlen(placeholder));
    struct rp_config cfg;
    expect_ok(fixed, &cfg);
    assert_documented_defaults(&cfg);
    /* every key, as the table has it */
    struct rp_config defaults;
    const struct rp_config_key *keys;
    size_t n = rp_config_keys(&keys);
    rp_config_defaults(&defaults);
    for (size_t i = 0; i < n; i++)
        if (keys[i].type != RP_CONFIG_TOKENS && !same_value(&keys[i], &cfg, &defaults))
            fail_msg("conf/rtpprobed.conf: %s.%s is not its default", keys[i].group, keys[i].name);
    assert_int_equal(cfg.ntokens, 1);
    assert_memory_equal(cfg.tokens[0], abc_digest, RP_TOKEN_HASH_LEN);
}

/* reports.max_agents: agents whose latest report the daemon keeps, 1..2000,
 * default 1000, applied by a reload (the store evicts down to a lower one). */
static void test_reports_max_agents_parses_is_bounded_and_reloads(void **state)
{
    (void)state;
    struct rp_config cfg, fresh;
    char restart[256];

    expect_ok(TOKENS_ONLY "reports = { };\n", &cfg);
    assert_int_equal(cfg.max_agents, 1000);
    expect_ok(TOKENS_ONLY "reports = { max_agents = 1; };\n", &cfg);
    assert_int_equal(cfg.max_agents, 1);
    expect_ok(TOKENS_ONLY "reports = { max_agents = 2000; };\n", &fresh);
    assert_int_equal(fresh.max_agents, 2000);
    assert_int_equal(rp_config_reload(&cfg, &fresh, restart, sizeof restart), 0);
    assert_int_equal(cfg.max_agents, 2000);
    expect_error(TOKENS_ONLY "reports = { max_agents = 0; };\n", 2, "reports.max_agents: 0 is out of range 1..2000");
    expect_error(TOKENS_ONLY "reports = {\n  max_agents = 2001;\n};\n", 3,
                 "reports.max_agents: 2001 is out of range 1..2000");
    expect_error(TOKENS_ONLY "reports = { max_agents = \"5\"; };\n", 2, "reports.max_agents: expected an integer");
    expect_error(TOKENS_ONLY "reports = { agents = 5; };\n", 2, "unknown setting reports.agents");
}

/* stun.rate: STUN answers per second per source IP, 1..100000, default 20,
 * applied by a reload (the daemon's limiter takes it at once). */
static void test_stun_rate_parses_is_bounded_and_reloads(void **state)
{
    (void)state;
    struct rp_config cfg, fresh;
    char restart[256];

    expect_ok(TOKENS_ONLY "stun = { listen = \"127.0.0.1:3479\"; };\n", &cfg);
    assert_int_equal(cfg.stun_rate, 20);
    expect_ok(TOKENS_ONLY "stun = { rate = 1; };\n", &cfg);
    assert_int_equal(cfg.stun_rate, 1);
    expect_ok(TOKENS_ONLY "stun = { rate = 100000; };\n", &cfg);
    assert_int_equal(cfg.stun_rate, 100000);
    expect_error(TOKENS_ONLY "stun = { rate = 0; };\n", 2, "stun.rate: 0 is out of range 1..100000");
    expect_error(TOKENS_ONLY "stun = {\n  rate = 100001;\n};\n", 3, "stun.rate: 100001 is out of range 1..100000");
    expect_error(TOKENS_ONLY "stun = { rate = -20; };\n", 2, "stun.rate: -20 is out of range");
    expect_error(TOKENS_ONLY "stun = { rate = 2.5; };\n", 2, "stun.rate: expected an integer");
    expect_error(TOKENS_ONLY "stun = { rate = \"20\"; };\n", 2, "stun.rate: expected an integer");
    expect_error(TOKENS_ONLY "stun = { rates = 20; };\n", 2, "unknown setting stun.rates");

    expect_ok(TOKENS_ONLY, &cfg);
    expect_ok(TOKENS_ONLY "stun = { rate = 5; };\n", &fresh);
    assert_int_equal(rp_config_reload(&cfg, &fresh, restart, sizeof restart), 0);
    assert_string_equal(restart, "");
    assert_int_equal(cfg.stun_rate, 5);
}

/* webrtc: the browser pre-call page's keys, "" spelling "off", TURN only as
 * URLs and secret together, all applied by a reload. */
#define WEBRTC_FULL                                                                    \
    "webrtc = {\n"                                                                     \
    "  page_secret_file = \"/etc/rtpprobe/page.secret\";\n"                            \
    "  token_max_ttl = 900;\n"                                                         \
    "  max_sessions = 5;\n"                                                            \
    "  address = \"2001:db8::7\";\n"                                                   \
    "  turn_secret_file = \"/etc/rtpprobe/turn.secret\";\n"                            \
    "  turn_urls = [ \"turn:media.example.com:3478?transport=udp\",\n"                 \
    "                \"turns:media.example.com:5349?transport=tcp\" ];\n"              \
    "  turn_ttl = 120;\n"                                                              \
    "};\n"

static void test_webrtc_keys_parse(void **state)
{
    (void)state;
    struct rp_config cfg;

    expect_ok(TOKENS_ONLY WEBRTC_FULL, &cfg);
    assert_string_equal(cfg.webrtc_page_secret_file, "/etc/rtpprobe/page.secret");
    assert_int_equal(cfg.webrtc_token_max_ttl, 900);
    assert_int_equal(cfg.webrtc_max_sessions, 5);
    assert_string_equal(cfg.webrtc_address, "2001:db8::7");
    assert_string_equal(cfg.webrtc_turn_secret_file, "/etc/rtpprobe/turn.secret");
    assert_int_equal(cfg.nwebrtc_turn_urls, 2);
    assert_string_equal(cfg.webrtc_turn_urls[0], "turn:media.example.com:3478?transport=udp");
    assert_string_equal(cfg.webrtc_turn_urls[1], "turns:media.example.com:5349?transport=tcp");
    assert_int_equal(cfg.webrtc_turn_ttl, 120);

    /* "" is off, as the shipped example spells it; an empty list is no TURN */
    expect_ok(TOKENS_ONLY "webrtc = { page_secret_file = \"\"; address = \"\"; turn_secret_file = \"\"; "
                          "turn_urls = [ ]; };\n", &cfg);
    assert_documented_defaults(&cfg);
    /* four URLs, the longest of 255 characters */
    char text[2048], url[256];
    snprintf(url, sizeof url, "turns:%0249d", 7);
    assert_int_equal(strlen(url), 255);
    snprintf(text, sizeof text, TOKENS_ONLY "webrtc = { turn_secret_file = \"/t\"; turn_urls = [ \"turn:a\", "
             "\"turn:b\", \"turns:c\", \"%s\" ]; address = \"192.0.2.1\"; };\n", url);
    expect_ok(text, &cfg);
    assert_int_equal(cfg.nwebrtc_turn_urls, 4);
    assert_string_equal(cfg.webrtc_turn_urls[3], url);
    assert_string_equal(cfg.webrtc_address, "192.0.2.1");
}

static void test_webrtc_bad_values_are_reported_with_line(void **state)
{
    (void)state;
    expect_error(TOKENS_ONLY "webrtc = { token_max_ttl = 0; };\n", 2, "webrtc.token_max_ttl: 0 is out of range 1..86400");
    expect_error(TOKENS_ONLY "webrtc = { token_max_ttl = 86401; };\n", 2, "webrtc.token_max_ttl: 86401 is out of range");
    expect_error(TOKENS_ONLY "webrtc = { max_sessions = 0; };\n", 2, "webrtc.max_sessions: 0 is out of range");
    expect_error(TOKENS_ONLY "webrtc = { turn_ttl = 59; };\n", 2, "webrtc.turn_ttl: 59 is out of range 60..86400");
    expect_error(TOKENS_ONLY "webrtc = { address = \"media.example.com\"; };\n", 2,
                 "webrtc.address: \"media.example.com\" is not an IPv4 or IPv6 address");
    expect_error(TOKENS_ONLY "webrtc = { address = \"192.0.2.1:3478\"; };\n", 2, "webrtc.address:");
    expect_error(TOKENS_ONLY "webrtc = { page_secret_file = 5; };\n", 2, "webrtc.page_secret_file: expected a string");
    expect_error(TOKENS_ONLY "webrtc = { secret_file = \"/x\"; };\n", 2, "unknown setting webrtc.secret_file");
    static const char *const bad_urls[] = {
        "stun:media.example.com", "http://media.example.com", "turn:", "turns:", "TURN:media.example.com",
        "turn:media.example.com 3478", "turn:media.example.com\\\"", "turn:a'b", "turn:a<b", "turn:a\\tb",
    };
    char text[512];
    for (size_t i = 0; i < sizeof bad_urls / sizeof bad_urls[0]; i++) {
        snprintf(text, sizeof text, TOKENS_ONLY "webrtc = {\n  turn_secret_file = \"/t\";\n  turn_urls = [ \"turn:ok\",\n"
                 "    \"%s\" ];\n};\n", bad_urls[i]);
        expect_error(text, 5, "webrtc.turn_urls[1]: expected a TURN URL like");
    }
    char url[300];
    snprintf(url, sizeof url, "turns:%0250d", 7); /* 256 characters */
    snprintf(text, sizeof text, TOKENS_ONLY "webrtc = { turn_secret_file = \"/t\"; turn_urls = [ \"%s\" ]; };\n", url);
    expect_error(text, 2, "webrtc.turn_urls[0]: expected a TURN URL");
    expect_error(TOKENS_ONLY "webrtc = { turn_secret_file = \"/t\"; turn_urls = [ 3478 ]; };\n", 2,
                 "webrtc.turn_urls[0]: expected a TURN URL");
    expect_error(TOKENS_ONLY "webrtc = { turn_secret_file = \"/t\"; turn_urls = \"turn:a\"; };\n", 2,
                 "webrtc.turn_urls: expected a list of TURN URLs");
    expect_error(TOKENS_ONLY "webrtc = { turn_secret_file = \"/t\";\n"
                 "turn_urls = [ \"turn:a\", \"turn:b\", \"turn:c\", \"turn:d\", \"turn:e\" ]; };\n", 3,
                 "webrtc.turn_urls: 5 entries, at most 4");
}

static void test_webrtc_turn_needs_urls_and_secret_together(void **state)
{
    (void)state;
    expect_error(TOKENS_ONLY "webrtc = {\n  turn_urls = [ \"turn:a\" ];\n};\n", 3,
                 "webrtc.turn_urls is set but webrtc.turn_secret_file is not");
    expect_error(TOKENS_ONLY "webrtc = {\n  turn_secret_file = \"\";\n  turn_urls = [ \"turn:a\" ];\n};\n", 4,
                 "webrtc.turn_urls is set but webrtc.turn_secret_file is not");
    expect_error(TOKENS_ONLY "webrtc = {\n  turn_secret_file = \"/t\";\n};\n", 3,
                 "webrtc.turn_secret_file is set but webrtc.turn_urls is empty");
    expect_error(TOKENS_ONLY "webrtc = {\n  turn_secret_file = \"/t\";\n  turn_urls = [ ];\n};\n", 3,
                 "webrtc.turn_secret_file is set but webrtc.turn_urls is empty");
}

static void test_webrtc_reload_applies_every_key(void **state)
{
    (void)state;
    struct rp_config running, fresh;
    char restart[256];

    expect_ok(TOKENS_ONLY, &running);
    expect_ok(TOKENS_ONLY WEBRTC_FULL, &fresh);
    assert_int_equal(rp_config_reload(&running, &fresh, restart, sizeof restart), 0);
    assert_string_equal(restart, "");
    assert_memory_equal(&running, &fresh, sizeof running);
    /* and off again */
    expect_ok(TOKENS_ONLY, &fresh);
    assert_int_equal(rp_config_reload(&running, &fresh, restart, sizeof restart), 0);
    assert_string_equal(running.webrtc_page_secret_file, "");
    assert_int_equal(running.nwebrtc_turn_urls, 0);
    assert_string_equal(running.webrtc_turn_urls[0], "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_config_loads_every_value),
        cmocka_unit_test(test_absent_keys_take_documented_defaults),
        cmocka_unit_test(test_tokens_may_be_an_array_with_upper_case_hex),
        cmocka_unit_test(test_raising_port_min_alone_past_default_max_is_rejected),
        cmocka_unit_test(test_syntax_error_reports_its_line),
        cmocka_unit_test(test_out_of_range_values_report_key_and_line),
        cmocka_unit_test(test_wrong_types_are_reported_with_line),
        cmocka_unit_test(test_unknown_key_is_reported_with_line),
        cmocka_unit_test(test_unknown_top_level_name_is_reported_with_line),
        cmocka_unit_test(test_odd_port_min_is_rejected_citing_rfc_3550),
        cmocka_unit_test(test_port_max_must_be_above_port_min),
        cmocka_unit_test(test_tls_cert_without_key_is_rejected),
        cmocka_unit_test(test_bad_token_is_reported_at_its_line_without_its_value),
        cmocka_unit_test(test_tokens_are_required),
        cmocka_unit_test(test_more_tokens_than_the_table_holds_are_rejected),
        cmocka_unit_test(test_addresses_must_be_numeric),
        cmocka_unit_test(test_unknown_log_level_is_rejected),
        cmocka_unit_test(test_failed_load_leaves_cfg_untouched),
        cmocka_unit_test(test_unreadable_file_is_reported_with_its_path),
        cmocka_unit_test(test_error_in_included_file_names_that_file),
        cmocka_unit_test(test_shipped_config_needs_a_token_and_documents_the_defaults),
        cmocka_unit_test(test_every_default_lies_in_its_range_and_is_what_defaults_sets),
        cmocka_unit_test(test_reload_applies_live_keys_and_names_restart_only_ones),
        cmocka_unit_test(test_reload_keeps_listen_and_echo_ports_and_applies_the_rest),
        cmocka_unit_test(test_reload_applies_new_tls_files_but_not_tls_on_or_off),
        cmocka_unit_test(test_stun_rate_parses_is_bounded_and_reloads),
        cmocka_unit_test(test_reports_max_agents_parses_is_bounded_and_reloads),
        cmocka_unit_test(test_webrtc_keys_parse),
        cmocka_unit_test(test_webrtc_bad_values_are_reported_with_line),
        cmocka_unit_test(test_webrtc_turn_needs_urls_and_secret_together),
        cmocka_unit_test(test_webrtc_reload_applies_every_key),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
