/* rtpprobed's command line. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "config.h"
#include "control.h"
#include "daemon.h"
#include "daemon_cli.h"
#include "webctl.h"
#include "log.h"
#include "pagetoken.h"
#include "token.h"

/* --page-token is run by hand or from cron on the media host, where the
 * service's own file is (make install's SYSCONFDIR). */
#ifndef RP_SYSCONFDIR
#define RP_SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG RP_SYSCONFDIR "/rtpprobe/rtpprobed.conf"
#define SECRET_CAP 4096 /* rp_pagetoken_read_secret reads no more */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: rtpprobed -c FILE           run in the foreground, log to stderr\n"
            "       rtpprobed -c FILE --check-config\n"
            "       rtpprobed --hash-token      read a token on stdin, print its config line\n"
            "       rtpprobed --page-token [--agent NAME] [--ttl SECONDS] [-c FILE]\n"
            "                                   print a page token for the browser pre-call page\n"
            "                                   (ttl default %u; FILE default %s)\n"
            "       rtpprobed --version | --help\n",
            RP_PAGE_TOKEN_TTL_DEFAULT, DEFAULT_CONFIG);
}

static int hash_token(void)
{
    char buf[1024];
    size_t n = fread(buf, 1, sizeof buf - 1, stdin);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    if (n == 0) {
        fprintf(stderr, "rtpprobed: --hash-token: no token on stdin\n");
        return RP_DAEMON_EXIT_FAIL;
    }
    uint8_t h[RP_TOKEN_HASH_LEN];
    char line[RP_TOKEN_HASH_STRLEN];
    rp_token_hash(buf, n, h);
    rp_token_format_hash(h, line);
    printf("%s\n", line);
    return RP_DAEMON_EXIT_OK;
}

int rp_daemon_page_token(const char *config, const char *agent, unsigned ttl, uint64_t now, char *out, size_t cap,
                         char *err, size_t errlen)
{
    struct rp_config cfg;
    uint8_t secret[SECRET_CAP];
    size_t secret_len = 0;

    if (!rp_pagetoken_agent_ok(agent)) {
        snprintf(err, errlen, "--agent: not a page token's agent name: up to 64 of A-Z a-z 0-9 . _ -");
        return -1;
    }
    if (rp_config_load(config, &cfg, err, errlen) < 0)
        return -1;
    if (cfg.webrtc_page_secret_file[0] == '\0') {
        snprintf(err, errlen, "webrtc.page_secret_file is not set in %s", config);
        return -1;
    }
    if (ttl < 1 || ttl > cfg.webrtc_token_max_ttl) {
        /* the daemon would refuse the token: say so now, not in the agent's browser */
        snprintf(err, errlen, "--ttl %u is outside 1..%u (webrtc.token_max_ttl in %s)", ttl,
                 cfg.webrtc_token_max_ttl, config);
        return -1;
    }
    if (rp_pagetoken_read_secret(cfg.webrtc_page_secret_file, secret, sizeof secret, &secret_len, err, errlen) < 0)
        return -1;
    int rc = rp_pagetoken_mint(secret, secret_len, now + ttl, agent, out, cap);
    OPENSSL_cleanse(secret, sizeof secret);
    if (rc < 0)
        snprintf(err, errlen, "cannot make the token");
    return rc;
}

struct args {
    const char *config, *agent, *ttl;
    bool check, page_token;
};

/* "600": decimal seconds, nothing else. */
static int parse_ttl(const char *s, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = s[0] >= '0' && s[0] <= '9' ? strtoul(s, &end, 10) : 0;
    if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 || v > UINT_MAX)
        return -1;
    *out = (unsigned)v;
    return 0;
}

static int page_token(const struct args *a)
{
    char token[RP_PAGETOKEN_MAX], err[512];
    unsigned ttl = RP_PAGE_TOKEN_TTL_DEFAULT;

    if (a->ttl != NULL && parse_ttl(a->ttl, &ttl) < 0) {
        fprintf(stderr, "rtpprobed: --page-token: --ttl: \"%s\" is not a number of seconds\n", a->ttl);
        return RP_DAEMON_EXIT_FAIL;
    }
    if (rp_daemon_page_token(a->config ? a->config : DEFAULT_CONFIG, a->agent ? a->agent : "", ttl,
                             (uint64_t)time(NULL), token, sizeof token, err, sizeof err) < 0) {
        fprintf(stderr, "rtpprobed: --page-token: %s\n", err);
        return RP_DAEMON_EXIT_FAIL;
    }
    printf("%s\n", token);
    return fflush(stdout) == 0 ? RP_DAEMON_EXIT_OK : RP_DAEMON_EXIT_FAIL;
}

static int check_config(const char *config)
{
    struct rp_config cfg;
    char err[512];
    /* Everything start-up would refuse: the file, and the certificate and key it names. */
    if (rp_config_load(config, &cfg, err, sizeof err) < 0 || rp_control_check_tls(&cfg, err, sizeof err) < 0 ||
        rp_webctl_check(&cfg, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return RP_DAEMON_EXIT_FAIL;
    }
    printf("%s: OK\n", config);
    return RP_DAEMON_EXIT_OK;
}

int rp_daemon_main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "check-config", no_argument, NULL, 'k' },
        { "hash-token", no_argument, NULL, 't' },
        { "page-token", no_argument, NULL, 'p' },
        { "agent", required_argument, NULL, 'a' },
        { "ttl", required_argument, NULL, 'l' },
        { "version", no_argument, NULL, 'V' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct args a = { 0 };
    int opt;
    rp_log_init("rtpprobed", RP_LOG_INFO);
    while ((opt = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'c': a.config = optarg; break;
        case 'k': a.check = true; break;
        case 't': return hash_token();
        case 'p': a.page_token = true; break;
        case 'a': a.agent = optarg; break;
        case 'l': a.ttl = optarg; break;
        case 'V': printf("rtpprobed %s\n", RP_VERSION); return RP_DAEMON_EXIT_OK;
        case 'h': usage(stdout); return RP_DAEMON_EXIT_OK;
        default: usage(stderr); return RP_DAEMON_EXIT_USAGE;
        }
    }
    /* --agent and --ttl belong to --page-token, which needs no -c and runs nothing else */
    bool misplaced = a.page_token ? a.check : a.agent != NULL || a.ttl != NULL;
    if (optind != argc || misplaced || (!a.page_token && !a.config)) {
        usage(stderr);
        return RP_DAEMON_EXIT_USAGE;
    }
    if (a.page_token)
        return page_token(&a);
    if (a.check)
        return check_config(a.config);
    return rp_daemon_run(a.config);
}
