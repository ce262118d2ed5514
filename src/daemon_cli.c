/* rtpprobed's command line. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "control.h"
#include "daemon.h"
#include "daemon_cli.h"
#include "log.h"
#include "token.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: rtpprobed -c FILE           run in the foreground, log to stderr\n"
            "       rtpprobed -c FILE --check-config\n"
            "       rtpprobed --hash-token      read a token on stdin, print its config line\n"
            "       rtpprobed --version | --help\n");
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

int rp_daemon_main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "check-config", no_argument, NULL, 'k' },
        { "hash-token", no_argument, NULL, 't' },
        { "version", no_argument, NULL, 'V' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *config = NULL;
    int check = 0, opt;
    rp_log_init("rtpprobed", RP_LOG_INFO);
    while ((opt = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'c': config = optarg; break;
        case 'k': check = 1; break;
        case 't': return hash_token();
        case 'V': printf("rtpprobed %s\n", RP_VERSION); return RP_DAEMON_EXIT_OK;
        case 'h': usage(stdout); return RP_DAEMON_EXIT_OK;
        default: usage(stderr); return RP_DAEMON_EXIT_USAGE;
        }
    }
    if (!config || optind != argc) {
        usage(stderr);
        return RP_DAEMON_EXIT_USAGE;
    }
    if (check) {
        struct rp_config cfg;
        char err[512];
        /* Everything start-up would refuse: the file, and the certificate and key it names. */
        if (rp_config_load(config, &cfg, err, sizeof err) < 0 || rp_control_check_tls(&cfg, err, sizeof err) < 0) {
            fprintf(stderr, "%s\n", err);
            return RP_DAEMON_EXIT_FAIL;
        }
        printf("%s: OK\n", config);
        return RP_DAEMON_EXIT_OK;
    }
    return rp_daemon_run(config);
}
