#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "codec.h"
#include "emodel.h"
#include "log.h"
#include "netaddr.h"
#include "probe.h"
#include "report.h"
#include "srtp.h"

#define DEFAULT_DURATION_S 10
#define DEFAULT_PTIME_MS 20
#define DEFAULT_JB_MS 40
#define DEFAULT_TIMEOUT_MS 5000
#define MAX_DURATION_S 86400

static void usage(FILE *out)
{
    fprintf(out,
            "usage: rtpprobe --server https://HOST:PORT [options]\n"
            "       rtpprobe emodel --codec CODEC --loss PCT [--burst-ratio B] --delay MS\n"
            "\n"
            "Media test against rtpprobed: RTP both ways, loss, jitter, RTT, MOS, one-way audio diagnosis.\n"
            "\n"
            "  --server URL          control API of rtpprobed (https://host:8743, or behind nginx https://host/rtpprobe)\n"
            "  --token-file FILE     bearer token (first line); or set RTPPROBE_TOKEN\n"
            "  --codec pcmu|pcma|opus  (pcmu)\n"
            "  --ptime MS            packet time (20)\n"
            "  --duration S          seconds of media (10)\n"
            "  --srtp [SUITE]        SRTP (libsrtp2): AES_CM_128_HMAC_SHA1_80 (default), AES_CM_128_HMAC_SHA1_32,\n"
            "                        AEAD_AES_128_GCM, AEAD_AES_256_GCM; keys come over the TLS control API\n"
            "  --bitrate BPS         Opus bitrate (32000; 6000-510000)\n"
            "  --dscp N|none         DSCP on media packets (46 = EF, as phones mark voice)\n"
            "  --stun HOST[:PORT]|none  STUN server for NAT discovery (default: the media host's 3478,\n"
            "                        rtpprobed or coturn); the media port itself is always asked too\n"
            "  --jitter-buffer MS    simulated receive jitter buffer for late packets and MOS (40)\n"
            "  --json                JSON report (schema: docs/report.schema.json)\n"
            "  --nagios              Nagios/Icinga status line with perfdata\n"
            "  --cacert FILE         CA certificate(s) to verify the daemon\n"
            "  --insecure            do not verify the daemon's certificate (self-signed tests only)\n"
            "  --timeout MS          control API timeout (5000)\n"
            "  --keep                do not delete the session at the end (it expires by itself)\n"
            "  --quiet               no live progress\n"
            "  --warn-loss/--crit-loss PCT, --warn-jitter/--crit-jitter MS, --warn-rtt/--crit-rtt MS,\n"
            "  --warn-mos/--crit-mos MOS   verdict thresholds (1/5, 30/60, 300/600, 4.0/3.6)\n"
            "\n"
            "Exit status: 0 pass, 1 warn, 2 fail, 3 unknown (error, no measurement).\n");
}

static int parse_unsigned(const char *opt, const char *s, unsigned min, unsigned max, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < min || v > max) {
        fprintf(stderr, "rtpprobe: %s: expected a whole number from %u to %u, got \"%s\"\n", opt, min, max, s);
        return -1;
    }
    *out = (unsigned)v;
    return 0;
}

static int parse_double(const char *opt, const char *s, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < min || v > max) {
        fprintf(stderr, "rtpprobe: %s: expected a number from %g to %g, got \"%s\"\n", opt, min, max, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_codec(const char *s, enum rp_codec_id *out)
{
    const struct rp_codec_info *c = rp_codec_by_name(s);
    if (!c) {
        fprintf(stderr, "rtpprobe: --codec: unknown codec \"%s\" (use pcmu, pcma or opus)\n", s);
        return -1;
    }
    *out = c->id;
    return 0;
}

static int read_token_file(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "rtpprobe: --token-file %s: %s\n", path, strerror(errno));
        return -1;
    }
    char *ok = fgets(buf, (int)len, f);
    fclose(f);
    if (ok)
        buf[strcspn(buf, "\r\n")] = '\0';
    if (!ok || !buf[0]) {
        fprintf(stderr, "rtpprobe: --token-file %s: no token on the first line\n", path);
        return -1;
    }
    return 0;
}

static int emodel_main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "codec", required_argument, NULL, 'c' },       { "loss", required_argument, NULL, 'l' },
        { "burst-ratio", required_argument, NULL, 'b' }, { "delay", required_argument, NULL, 'd' },
        { "help", no_argument, NULL, 'h' },              { NULL, 0, NULL, 0 },
    };
    enum rp_codec_id codec = RP_CODEC_PCMU;
    double loss = 0, burst = 1, delay = 0;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int bad = 0;
        switch (opt) {
        case 'c': bad = parse_codec(optarg, &codec); break;
        case 'l': bad = parse_double("--loss", optarg, 0, 100, &loss); break;
        case 'b': bad = parse_double("--burst-ratio", optarg, 1, 100, &burst); break;
        case 'd': bad = parse_double("--delay", optarg, 0, 10000, &delay); break;
        case 'h': usage(stdout); return RP_EXIT_OK;
        default: bad = -1;
        }
        if (bad)
            return RP_EXIT_UNKNOWN;
    }
    if (optind != argc) {
        fprintf(stderr, "rtpprobe emodel: unexpected argument \"%s\"\n", argv[optind]);
        return RP_EXIT_UNKNOWN;
    }
    const struct rp_codec_info *c = rp_codec_get(codec);
    struct rp_emodel_in in = { .ie = c->ie, .bpl = c->bpl, .ppl_pct = loss, .burst_r = burst, .delay_ms = delay };
    struct rp_emodel_out out;
    rp_emodel_compute(&in, &out);
    printf("codec %s (Ie %.2f, Bpl %.2f), loss %.2f %%, BurstR %.2f, delay %.0f ms\n", c->name, c->ie, c->bpl, loss,
           burst, delay);
    printf("Id %.2f  Ie,eff %.2f  R %.2f  MOS %.2f\n", out.id, out.ie_eff, out.r, out.mos);
    return RP_EXIT_OK;
}

enum {
    OPT_SERVER = 256, OPT_TOKEN_FILE, OPT_CODEC, OPT_PTIME, OPT_DURATION, OPT_BITRATE, OPT_DSCP, OPT_JB,
    OPT_JSON, OPT_NAGIOS, OPT_CACERT, OPT_INSECURE, OPT_TIMEOUT, OPT_KEEP, OPT_QUIET, OPT_VERSION,
    OPT_WARN_LOSS, OPT_CRIT_LOSS, OPT_WARN_JITTER, OPT_CRIT_JITTER, OPT_WARN_RTT, OPT_CRIT_RTT,
    OPT_WARN_MOS, OPT_CRIT_MOS, OPT_STUN, OPT_SRTP,
};

int rp_cli_main(int argc, char **argv)
{
    rp_log_init("rtpprobe", RP_LOG_WARN);
    /* A daemon that closes the connection mid-write must give an error, not kill us. */
    signal(SIGPIPE, SIG_IGN);
    if (argc > 1 && strcmp(argv[1], "emodel") == 0)
        return emodel_main(argc - 1, argv + 1);

    static const struct option opts[] = {
        { "server", required_argument, NULL, OPT_SERVER },
        { "token-file", required_argument, NULL, OPT_TOKEN_FILE },
        { "codec", required_argument, NULL, OPT_CODEC },
        { "ptime", required_argument, NULL, OPT_PTIME },
        { "duration", required_argument, NULL, OPT_DURATION },
        { "bitrate", required_argument, NULL, OPT_BITRATE },
        { "dscp", required_argument, NULL, OPT_DSCP },
        { "jitter-buffer", required_argument, NULL, OPT_JB },
        { "json", no_argument, NULL, OPT_JSON },
        { "nagios", no_argument, NULL, OPT_NAGIOS },
        { "cacert", required_argument, NULL, OPT_CACERT },
        { "insecure", no_argument, NULL, OPT_INSECURE },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "keep", no_argument, NULL, OPT_KEEP },
        { "quiet", no_argument, NULL, OPT_QUIET },
        { "warn-loss", required_argument, NULL, OPT_WARN_LOSS },
        { "crit-loss", required_argument, NULL, OPT_CRIT_LOSS },
        { "warn-jitter", required_argument, NULL, OPT_WARN_JITTER },
        { "crit-jitter", required_argument, NULL, OPT_CRIT_JITTER },
        { "warn-rtt", required_argument, NULL, OPT_WARN_RTT },
        { "crit-rtt", required_argument, NULL, OPT_CRIT_RTT },
        { "warn-mos", required_argument, NULL, OPT_WARN_MOS },
        { "crit-mos", required_argument, NULL, OPT_CRIT_MOS },
        { "stun", required_argument, NULL, OPT_STUN },
        { "srtp", optional_argument, NULL, OPT_SRTP },
        { "version", no_argument, NULL, OPT_VERSION },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct rp_probe_opts o = {
        .codec = RP_CODEC_PCMU,
        .ptime_ms = DEFAULT_PTIME_MS,
        .duration_s = DEFAULT_DURATION_S,
        .dscp = 46,
        .jitter_buffer_ms = DEFAULT_JB_MS,
        .timeout_ms = DEFAULT_TIMEOUT_MS,
    };
    rp_thresholds_default(&o.thresholds);
    struct rp_thresholds *t = &o.thresholds;
    char token[512] = "";
    const char *token_file = NULL;
    bool json = false, nagios = false, quiet = false;
    int opt;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int bad = 0;
        unsigned u;
        switch (opt) {
        case OPT_SERVER: o.server = optarg; break;
        case OPT_TOKEN_FILE: token_file = optarg; break;
        case OPT_CODEC: bad = parse_codec(optarg, &o.codec); break;
        case OPT_PTIME: bad = parse_unsigned("--ptime", optarg, 10, 60, &o.ptime_ms); break;
        case OPT_DURATION: bad = parse_unsigned("--duration", optarg, 1, MAX_DURATION_S, &o.duration_s); break;
        case OPT_BITRATE: bad = parse_unsigned("--bitrate", optarg, 6000, 510000, &o.bitrate_bps); break;
        case OPT_DSCP:
            if (strcmp(optarg, "none") == 0)
                o.dscp = -1;
            else if (!(bad = parse_unsigned("--dscp", optarg, 0, 63, &u)))
                o.dscp = (int)u;
            break;
        case OPT_JB: bad = parse_unsigned("--jitter-buffer", optarg, 0, 1000, &o.jitter_buffer_ms); break;
        case OPT_JSON: json = true; break;
        case OPT_NAGIOS: nagios = true; break;
        case OPT_CACERT: o.cacert = optarg; break;
        case OPT_SRTP: {
            /* "--srtp SUITE" as well as "--srtp=SUITE": take the next word if it names a suite. */
            const char *suite = optarg;
            if (!suite && optind < argc && rp_srtp_suite_parse(argv[optind], &o.srtp_suite) == 0)
                suite = argv[optind++];
            o.srtp = true;
            if (suite && rp_srtp_suite_parse(suite, &o.srtp_suite) < 0) {
                fprintf(stderr, "rtpprobe: --srtp: unknown suite \"%s\" (AES_CM_128_HMAC_SHA1_80, "
                                "AES_CM_128_HMAC_SHA1_32, AEAD_AES_128_GCM, AEAD_AES_256_GCM)\n", suite);
                bad = -1;
            }
            break;
        }
        case OPT_STUN: {
            struct sockaddr_storage ss;
            socklen_t sl;
            if (strcmp(optarg, "none") != 0 && rp_addr_resolve(optarg, 3478, &ss, &sl) < 0) {
                fprintf(stderr, "rtpprobe: --stun: cannot resolve \"%s\" (HOST[:PORT] or none)\n", optarg);
                bad = -1;
            }
            o.stun = optarg;
            break;
        }
        case OPT_INSECURE: o.insecure = true; break;
        case OPT_TIMEOUT: bad = parse_unsigned("--timeout", optarg, 100, 600000, &o.timeout_ms); break;
        case OPT_KEEP: o.keep_session = true; break;
        case OPT_QUIET: quiet = true; break;
        case OPT_WARN_LOSS: bad = parse_double("--warn-loss", optarg, 0, 100, &t->warn_loss_pct); break;
        case OPT_CRIT_LOSS: bad = parse_double("--crit-loss", optarg, 0, 100, &t->fail_loss_pct); break;
        case OPT_WARN_JITTER: bad = parse_double("--warn-jitter", optarg, 0, 10000, &t->warn_jitter_ms); break;
        case OPT_CRIT_JITTER: bad = parse_double("--crit-jitter", optarg, 0, 10000, &t->fail_jitter_ms); break;
        case OPT_WARN_RTT: bad = parse_double("--warn-rtt", optarg, 0, 100000, &t->warn_rtt_ms); break;
        case OPT_CRIT_RTT: bad = parse_double("--crit-rtt", optarg, 0, 100000, &t->fail_rtt_ms); break;
        case OPT_WARN_MOS: bad = parse_double("--warn-mos", optarg, 1, 5, &t->warn_mos); break;
        case OPT_CRIT_MOS: bad = parse_double("--crit-mos", optarg, 1, 5, &t->fail_mos); break;
        case OPT_VERSION: printf("rtpprobe %s\n", RP_VERSION); return RP_EXIT_OK;
        case 'h': usage(stdout); return RP_EXIT_OK;
        default: bad = -1;
        }
        if (bad)
            return RP_EXIT_UNKNOWN;
    }
    if (optind != argc) {
        fprintf(stderr, "rtpprobe: unexpected argument \"%s\" (see --help)\n", argv[optind]);
        return RP_EXIT_UNKNOWN;
    }
    if (!o.server) {
        fprintf(stderr, "rtpprobe: --server is required, e.g. --server https://media.example.com:8743\n");
        return RP_EXIT_UNKNOWN;
    }
    if (json && nagios) {
        fprintf(stderr, "rtpprobe: --json and --nagios are exclusive\n");
        return RP_EXIT_UNKNOWN;
    }
    if (!rp_codec_ptime_valid(o.codec, o.ptime_ms)) {
        fprintf(stderr, "rtpprobe: --ptime %u is not valid for %s%s\n", o.ptime_ms, rp_codec_get(o.codec)->name,
                o.codec == RP_CODEC_OPUS ? " (Opus: 10, 20, 40 or 60)" : " (G.711: 10 to 60 in steps of 10)");
        return RP_EXIT_UNKNOWN;
    }
    if (o.bitrate_bps && !rp_codec_bitrate_valid(o.codec, o.bitrate_bps)) {
        fprintf(stderr, "rtpprobe: --bitrate %u is not valid for %s (G.711 is always 64000)\n", o.bitrate_bps,
                rp_codec_get(o.codec)->name);
        return RP_EXIT_UNKNOWN;
    }
    if (token_file) {
        if (read_token_file(token_file, token, sizeof token) < 0)
            return RP_EXIT_UNKNOWN;
    } else if (getenv("RTPPROBE_TOKEN") && getenv("RTPPROBE_TOKEN")[0]) {
        snprintf(token, sizeof token, "%s", getenv("RTPPROBE_TOKEN"));
    } else {
        fprintf(stderr, "rtpprobe: no token: give --token-file FILE or set RTPPROBE_TOKEN\n");
        return RP_EXIT_UNKNOWN;
    }
    o.token = token;
    o.progress = !quiet && !json && !nagios && isatty(STDERR_FILENO);

    if (rp_srtp_global_init() < 0) {
        fprintf(stderr, "rtpprobe: cannot initialise libsrtp2\n");
        return RP_EXIT_UNKNOWN;
    }
    struct rp_report rep;
    char err[512] = "";
    int rc = rp_probe_run(&o, &rep, err, sizeof err);
    rp_srtp_global_fini();
    OPENSSL_cleanse(token, sizeof token);
    if (rc < 0) {
        if (nagios)
            printf("RTPPROBE UNKNOWN - %s\n", err);
        else
            fprintf(stderr, "rtpprobe: %s\n", err);
        return RP_EXIT_UNKNOWN;
    }
    if (json) {
        if (rp_report_print_json(&rep, stdout) < 0) {
            fprintf(stderr, "rtpprobe: cannot write the JSON report\n");
            return RP_EXIT_UNKNOWN;
        }
    } else if (nagios) {
        rp_report_print_nagios(&rep, stdout);
    } else {
        rp_report_print_text(&rep, stdout);
    }
    return rp_report_exit_code(&rep);
}
