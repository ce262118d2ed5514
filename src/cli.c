#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "agents.h"
#include "cli.h"
#include "codec.h"
#include "config.h"
#include "emodel.h"
#include "htmlreport.h"
#include "httpc.h"
#include "log.h"
#include "netaddr.h"
#include "pcprobe.h"
#include "portcheck.h"
#include "probe.h"
#include "push.h"
#include "report.h"
#include "srtp.h"
#include "stun.h"
#include "paths.h"
#include "turn.h"
#include "textfile.h"
#include "timeutil.h"
#include "udp.h"

#define DEFAULT_DURATION_S 10
#define DEFAULT_PTIME_MS 20
#define DEFAULT_JB_MS 40
#define MAX_TIMEOUT_S 600
/* --timeout values above MAX_TIMEOUT_S are the old milliseconds form. */
#define MAX_DURATION_S 86400
/* --turn: within the relay permission's 300 s, with room for setup and stop. */
#define RP_TURN_MAX_DURATION_S 240
/* --push after the run: one request, by the run's deadline (-t) and never longer than this. */
#define PUSH_MAX_S 10

static void usage(FILE *out)
{
    fprintf(out,
            "usage: rtpprobe --server https://HOST:PORT [options]\n"
            "       rtpprobe emodel --codec CODEC --loss PCT [--burst-ratio B] --delay MS\n"
            "\n"
            "Media test against rtpprobed: RTP both ways, loss, jitter, RTT, MOS, one-way audio diagnosis.\n"
            "\n"
            "  --server URL          control API of rtpprobed (https://host:%u, or behind nginx https://host/rtpprobe)\n"
            "  --token-file FILE     bearer token (first line); or set RTPPROBE_TOKEN\n"
            "  --codec pcmu|pcma|opus  (pcmu)\n"
            "  --ptime MS            packet time (20)\n"
            "  --duration S          seconds of media (10)\n"
            "  --srtp [SUITE]        SRTP (libsrtp2): AES_CM_128_HMAC_SHA1_80 (default), AES_CM_128_HMAC_SHA1_32,\n"
            "                        AEAD_AES_128_GCM, AEAD_AES_256_GCM; keys come over the TLS control API\n"
            "  --bitrate BPS         Opus bitrate (32000; 6000-510000)\n"
            "  --dscp N|none         DSCP on media packets (%d = EF, as phones mark voice)\n"
            "  --stun HOST[:PORT]|none  STUN server for NAT discovery (default: the media host's %u,\n"
            "                        rtpprobed or coturn); the media port itself is always asked too\n"
            "  --turn URI            media through a TURN relay (RFC 8656): turn:HOST[:3478][?transport=udp|tcp]\n"
            "                        or turns:HOST[:5349] (TLS, verified with --cacert unless --insecure)\n"
            "  --turn-user U --turn-pass P   TURN long-term credentials, or\n"
            "  --turn-secret S       coturn's shared secret (use-auth-secret): user expiry:HOSTNAME\n"
            "  --paths               run direct UDP, TURN/UDP, TURN/TCP and TURN/TLS (the --turn server's host)\n"
            "                        in turn, each for --duration: a table and the best working path\n"
            "  --jitter-buffer adaptive|MS\n"
            "                        the receiver the MOS assumes: an adaptive jitter buffer as WebRTC's\n"
            "                        (default), or a fixed one of MS ms; late packets under a fixed 40 ms\n"
            "                        buffer (or MS) are reported either way\n"
            "  --json                JSON report (schema: docs/report.schema.json)\n"
            "  --html FILE           also write the report as a self-contained HTML page (verdict, table, plots)\n"
            "  --nagios              Nagios/Icinga status line with perfdata\n"
            "  --textfile FILE       also write the figures for node_exporter's textfile collector (atomically)\n"
            "  --push                also send the report to the daemon (POST /v1/reports) for its /metrics\n"
            "  --agent NAME          this probe's name in both (default: the host name; [A-Za-z0-9._-], 1-64)\n"
            "  --cacert FILE         CA certificate(s) to verify the daemon\n"
            "  --insecure            do not verify the daemon's certificate (self-signed tests only)\n"
            "  -t, --timeout S       the whole run ends within S seconds, else UNKNOWN (at least --duration\n"
            "                        + %u; at most %u; default --duration + %u); the setup and the stop\n"
            "                        each get at most half of what it leaves beyond the media (%u s if more)\n"
            "  --proxy URL           HTTP CONNECT proxy for the control API (default: https_proxy, no_proxy...)\n"
            "  -v, --verbose         print the control exchange on stderr (the token is not shown)\n"
            "  --keep                do not delete the session at the end (it expires by itself)\n"
            "  --no-port-sample      skip the quick sample of the media range after the test (about 1.5 s;\n"
            "                        it finds partial-port-range: docs/port-check.md)\n"
            "  --quiet               no live progress\n"
            "  --port-check [A-B]    instead of a media test: which parts of the daemon's media range (or A-B\n"
            "                        within it) are reachable both ways; a sample across it, both edges\n"
            "                        included (docs/port-check.md); exit 0 all reachable, 2 some blocked\n"
            "  --full                with --port-check: every even port (up to %u, at %u packets/s)\n"
            "  -w, --warning METRIC=RANGE[,METRIC=RANGE...]\n"
            "  -c, --critical METRIC=RANGE[,...]  verdict thresholds, Monitoring Plugins ranges (10, 10:, ~:10,\n"
            "                        10:20, @10:20; alert outside, or inside with @); metrics loss (%%),\n"
            "                        jitter (ms), rtt (ms), mos; repeatable; default -w loss=1,jitter=30,\n"
            "                        rtt=300,mos=4: -c loss=5,jitter=60,rtt=600,mos=3.6:\n"
            "  --warn-loss/--crit-loss PCT, --warn-jitter/--crit-jitter MS, --warn-rtt/--crit-rtt MS,\n"
            "  --warn-mos/--crit-mos MOS   the same as -w/-c loss=PCT ... mos=MOS: (alert above, MOS below)\n"
            "\n"
            "Exit status: %d pass, %d warn, %d fail, %d unknown (error, no measurement).\n",
            RP_CONTROL_PORT, RP_DSCP_EF, RP_STUN_PORT, RP_PROBE_MIN_SLACK_S, MAX_TIMEOUT_S,
            RP_PROBE_DEFAULT_SLACK_S, RP_PROBE_STEP_MAX_S, RP_PC_MAX_PORTS, RP_PC_RATE_PPS, RP_EXIT_OK, RP_EXIT_WARN, RP_EXIT_CRIT, RP_EXIT_UNKNOWN);
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

/* --jitter-buffer adaptive|MS: the MOS basis; MS also sizes the fixed buffer reported beside it. */
static int parse_jitter_buffer(const char *s, struct rp_probe_opts *p)
{
    if (strcmp(s, "adaptive") == 0) {
        p->jitter_buffer_adaptive = true;
        return 0;
    }
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v > 1000) {
        fprintf(stderr, "rtpprobe: --jitter-buffer: expected \"adaptive\" or a whole number of ms from 0 to 1000, "
                        "got \"%s\"\n", s);
        return -1;
    }
    p->jitter_buffer_adaptive = false;
    p->jitter_buffer_ms = (unsigned)v;
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

void rp_cli_clean_line(char *s, bool nagios)
{
    rp_httpc_clean_text(s, strlen(s));
    for (; nagios && *s; s++)
        if (*s == '|')
            *s = '/';
}

int rp_cli_parse_timeout(const char *s, unsigned *seconds, unsigned *ms_form)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < 1 || v > MAX_TIMEOUT_S * 1000UL)
        return -1;
    *ms_form = 0;
    if (v > MAX_TIMEOUT_S) {
        *ms_form = (unsigned)v;
        v = (v + 999) / 1000; /* never shorter than asked */
    }
    if (v > MAX_TIMEOUT_S)
        return -1;
    *seconds = (unsigned)v;
    return 0;
}

static int parse_timeout(const char *s, unsigned *seconds)
{
    unsigned ms;
    if (rp_cli_parse_timeout(s, seconds, &ms) < 0) {
        fprintf(stderr, "rtpprobe: -t/--timeout: expected whole seconds from 1 to %u, got \"%s\"\n", MAX_TIMEOUT_S,
                s);
        return -1;
    }
    if (ms)
        fprintf(stderr, "rtpprobe: warning: --timeout takes seconds now; %u read as %u s (milliseconds are "
                        "deprecated)\n", ms, *seconds);
    return 0;
}

/* RFC 6750 b64token: what a bearer token may hold, so that it cannot add
 * header lines; `openssl rand -hex` and -base64 tokens fit. */
bool rp_cli_token_valid(const char *t)
{
    size_t n = strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/");
    return n > 0 && strspn(t + n, "=") == strlen(t + n);
}

/* The token's first line. Anything but a regular file (a directory, a FIFO
 * that would block before any deadline) or an unreadable one stops the run;
 * a file others can read is only warned about (it works, but leaks). */
static int read_token_file(const char *path, char *buf, size_t len)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0 || fstat(fd, &st) < 0) {
        fprintf(stderr, "rtpprobe: --token-file %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        fprintf(stderr, "rtpprobe: --token-file %s: %s\n", path,
                S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file");
        close(fd);
        return -1;
    }
    if (st.st_mode & 044)
        fprintf(stderr, "rtpprobe: warning: --token-file %s is readable by others (chmod 600 %s)\n", path, path);
    /* read(2) into buf itself: no stdio buffer keeps a copy of the token. */
    ssize_t n = read(fd, buf, len - 1);
    int rerr = errno;
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    if (n < 0 || !buf[0]) {
        fprintf(stderr, "rtpprobe: --token-file %s: %s\n", path, n < 0 ? strerror(rerr) : "no token on the first line");
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
    OPT_JSON, OPT_HTML, OPT_NAGIOS, OPT_CACERT, OPT_INSECURE, OPT_TIMEOUT, OPT_KEEP, OPT_QUIET, OPT_VERSION,
    OPT_WARN_LOSS, OPT_CRIT_LOSS, OPT_WARN_JITTER, OPT_CRIT_JITTER, OPT_WARN_RTT, OPT_CRIT_RTT,
    OPT_WARN_MOS, OPT_CRIT_MOS, OPT_STUN, OPT_SRTP, OPT_PROXY,
    OPT_TEXTFILE, OPT_PUSH, OPT_AGENT, OPT_TURN, OPT_TURN_USER, OPT_TURN_PASS, OPT_TURN_SECRET, OPT_PATHS,
    OPT_PORT_CHECK, OPT_FULL, OPT_NO_PORT_SAMPLE,
};

static const struct option probe_options[] = {
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
    { "html", required_argument, NULL, OPT_HTML },
    { "cacert", required_argument, NULL, OPT_CACERT },
    { "insecure", no_argument, NULL, OPT_INSECURE },
    { "timeout", required_argument, NULL, 't' },
    { "warning", required_argument, NULL, 'w' },
    { "critical", required_argument, NULL, 'c' },
    { "proxy", required_argument, NULL, OPT_PROXY },
    { "verbose", no_argument, NULL, 'v' },
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
    { "textfile", required_argument, NULL, OPT_TEXTFILE },
    { "push", no_argument, NULL, OPT_PUSH },
    { "agent", required_argument, NULL, OPT_AGENT },
    { "turn", required_argument, NULL, OPT_TURN },
    { "turn-user", required_argument, NULL, OPT_TURN_USER },
    { "turn-pass", required_argument, NULL, OPT_TURN_PASS },
    { "turn-secret", required_argument, NULL, OPT_TURN_SECRET },
    { "paths", no_argument, NULL, OPT_PATHS },
    { "port-check", optional_argument, NULL, OPT_PORT_CHECK },
    { "full", no_argument, NULL, OPT_FULL },
    { "no-port-sample", no_argument, NULL, OPT_NO_PORT_SAMPLE },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

/* What the command line asks for. probe.token points into token[]. */
struct cli_opts {
    struct rp_probe_opts probe;
    const char *html;           /* --html FILE, written after the run */
    const char *token_file;
    char        token[512];
    bool        json, nagios, quiet;
    const char *textfile;       /* --textfile FILE */
    bool        push;
    bool        paths;          /* --paths: direct, TURN/UDP, TURN/TCP, TURN/TLS in turn */
    char        agent[RP_AGENT_NAME_MAX + 1]; /* --agent, else the host name: set by setup() */
    bool        port_check;     /* --port-check [RANGE] (pc.range, pc.full: --full) */
    struct rp_pcp_opts pc;
};

/* One option parsed: go on, stop with a usage error, or stop after --help/--version. */
enum cli_step { CLI_NEXT, CLI_BAD, CLI_HELP, CLI_VERSION };

static void cli_defaults(struct cli_opts *o)
{
    memset(o, 0, sizeof *o);
    o->probe.codec = RP_CODEC_PCMU;
    o->probe.ptime_ms = DEFAULT_PTIME_MS;
    o->probe.duration_s = DEFAULT_DURATION_S;
    o->probe.dscp = RP_DSCP_EF;
    o->probe.jitter_buffer_ms = DEFAULT_JB_MS;
    o->probe.jitter_buffer_adaptive = true;
    o->probe.timeout_s = 0; /* settle_limits(): --duration + RP_PROBE_DEFAULT_SLACK_S unless given */
    rp_thresholds_default(&o->probe.thresholds);
}

static int parse_dscp(const char *s, int *dscp)
{
    unsigned u;
    if (strcmp(s, "none") == 0) {
        *dscp = -1;
        return 0;
    }
    if (parse_unsigned("--dscp", s, 0, 63, &u) < 0)
        return -1;
    *dscp = (int)u;
    return 0;
}

/* "--srtp SUITE" as well as "--srtp=SUITE": take the next word if it names a suite. */
static int parse_srtp(const char *suite, int argc, char **argv, struct rp_probe_opts *p)
{
    if (!suite && optind < argc && rp_srtp_suite_parse(argv[optind], &p->srtp_suite) == 0)
        suite = argv[optind++];
    p->srtp = true;
    if (suite && rp_srtp_suite_parse(suite, &p->srtp_suite) < 0) {
        fprintf(stderr, "rtpprobe: --srtp: unknown suite \"%s\" (AES_CM_128_HMAC_SHA1_80, "
                        "AES_CM_128_HMAC_SHA1_32, AEAD_AES_128_GCM, AEAD_AES_256_GCM)\n", suite);
        return -1;
    }
    return 0;
}

/* Checked here so that a typo fails before the session is opened. */
static int parse_stun(const char *s, struct rp_probe_opts *p)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    p->stun = s;
    if (strcmp(s, "none") != 0 && rp_addr_resolve(s, RP_STUN_PORT, &ss, &sl) < 0) {
        fprintf(stderr, "rtpprobe: --stun: cannot resolve \"%s\" (HOST[:PORT] or none)\n", s);
        return -1;
    }
    return 0;
}

/* A label value on Prometheus' side: refused rather than changed behind the user's back. */
static int parse_agent(const char *s, char *out, size_t outlen)
{
    if (!rp_agent_name_valid(s, strlen(s))) {
        fprintf(stderr, "rtpprobe: --agent: expected 1 to %d of A-Z a-z 0-9 . _ -, got \"%s\"\n", RP_AGENT_NAME_MAX,
                s);
        return -1;
    }
    snprintf(out, outlen, "%s", s);
    return 0;
}

/* -w/--warning and -c/--critical METRIC=RANGE[,...], and the single-number
 * options before them, which are the same as -w/-c loss=PCT ... mos=MOS:. */
static int parse_threshold(int opt, const char *arg, struct rp_thresholds *t)
{
    static const struct {
        int opt;
        const char *name;
        enum rp_thr_level level;
        enum rp_thr_metric metric;
        double min, max;
    } old[] = {
        { OPT_WARN_LOSS, "--warn-loss", RP_THR_WARN, RP_THR_LOSS, 0, 100 },
        { OPT_CRIT_LOSS, "--crit-loss", RP_THR_CRIT, RP_THR_LOSS, 0, 100 },
        { OPT_WARN_JITTER, "--warn-jitter", RP_THR_WARN, RP_THR_JITTER, 0, 10000 },
        { OPT_CRIT_JITTER, "--crit-jitter", RP_THR_CRIT, RP_THR_JITTER, 0, 10000 },
        { OPT_WARN_RTT, "--warn-rtt", RP_THR_WARN, RP_THR_RTT, 0, 100000 },
        { OPT_CRIT_RTT, "--crit-rtt", RP_THR_CRIT, RP_THR_RTT, 0, 100000 },
        { OPT_WARN_MOS, "--warn-mos", RP_THR_WARN, RP_THR_MOS, 1, 5 },
        { OPT_CRIT_MOS, "--crit-mos", RP_THR_CRIT, RP_THR_MOS, 1, 5 },
    };
    const char *name = opt == 'c' ? "-c/--critical" : "-w/--warning", *spec = arg;
    enum rp_thr_level level = opt == 'c' ? RP_THR_CRIT : RP_THR_WARN;
    char err[256], one[64];
    for (size_t i = 0; i < sizeof old / sizeof old[0]; i++) {
        double v;
        if (old[i].opt != opt)
            continue;
        if (parse_double(old[i].name, arg, old[i].min, old[i].max, &v) < 0)
            return -1;
        /* The MOS alerts below its limit, the others above. */
        snprintf(one, sizeof one, "%s=%.40s%s", rp_thr_metric_name(old[i].metric), arg,
                 old[i].metric == RP_THR_MOS ? ":" : "");
        name = old[i].name;
        level = old[i].level;
        spec = one;
    }
    if (rp_thresholds_set(t, level, spec, err, sizeof err) < 0) {
        fprintf(stderr, "rtpprobe: %s: %s\n", name, err);
        return -1;
    }
    return 0;
}

/* "--port-check RANGE" as well as "--port-check=RANGE": the next word if it is a range. */
static int parse_port_check(const char *range, int argc, char **argv, struct cli_opts *o)
{
    unsigned lo, hi;
    if (!range && optind < argc && rp_pc_parse_range(argv[optind], &lo, &hi) == 0)
        range = argv[optind++];
    o->port_check = true;
    o->pc.range = range;
    if (range && rp_pc_parse_range(range, &lo, &hi) < 0) {
        fprintf(stderr, "rtpprobe: --port-check: expected a UDP port range A-B (1-65535), got \"%s\"\n", range);
        return -1;
    }
    return 0;
}

static enum cli_step parse_option(int opt, int argc, char **argv, struct cli_opts *o)
{
    struct rp_probe_opts *p = &o->probe;
    int bad = 0;
    switch (opt) {
    case OPT_SERVER: p->server = optarg; break;
    case OPT_TOKEN_FILE: o->token_file = optarg; break;
    case OPT_CODEC: bad = parse_codec(optarg, &p->codec); break;
    case OPT_PTIME: bad = parse_unsigned("--ptime", optarg, 10, 60, &p->ptime_ms); break;
    case OPT_DURATION: bad = parse_unsigned("--duration", optarg, 1, MAX_DURATION_S, &p->duration_s); break;
    case OPT_BITRATE: bad = parse_unsigned("--bitrate", optarg, 6000, 510000, &p->bitrate_bps); break;
    case OPT_DSCP: bad = parse_dscp(optarg, &p->dscp); break;
    case OPT_JB: bad = parse_jitter_buffer(optarg, p); break;
    case OPT_JSON: o->json = true; break;
    case OPT_NAGIOS: o->nagios = true; break;
    case OPT_HTML: o->html = optarg; break;
    case OPT_CACERT: p->cacert = optarg; break;
    case OPT_SRTP: bad = parse_srtp(optarg, argc, argv, p); break;
    case OPT_STUN: bad = parse_stun(optarg, p); break;
    case OPT_INSECURE: p->insecure = true; break;
    case 't': bad = parse_timeout(optarg, &p->timeout_s); break;
    case OPT_PROXY: p->proxy = optarg; break;
    case 'v': p->verbose = true; break;
    case OPT_KEEP: p->keep_session = true; break;
    case OPT_NO_PORT_SAMPLE: p->no_port_sample = true; break;
    case OPT_QUIET: o->quiet = true; break;
    case OPT_TEXTFILE: o->textfile = optarg; break;
    case OPT_PUSH: o->push = true; break;
    case OPT_AGENT: bad = parse_agent(optarg, o->agent, sizeof o->agent); break;
    case OPT_TURN: p->turn = optarg; break;
    case OPT_TURN_USER: p->turn_user = optarg; break;
    case OPT_TURN_PASS: p->turn_pass = optarg; break;
    case OPT_TURN_SECRET: p->turn_secret = optarg; break;
    case OPT_PATHS: o->paths = true; break;
    case OPT_PORT_CHECK: bad = parse_port_check(optarg, argc, argv, o); break;
    case OPT_FULL: o->pc.full = true; break;
    case 'w': case 'c':
    case OPT_WARN_LOSS: case OPT_CRIT_LOSS: case OPT_WARN_JITTER: case OPT_CRIT_JITTER:
    case OPT_WARN_RTT: case OPT_CRIT_RTT: case OPT_WARN_MOS: case OPT_CRIT_MOS:
        bad = parse_threshold(opt, optarg, &p->thresholds); break;
    case OPT_VERSION: return CLI_VERSION;
    case 'h': return CLI_HELP;
    default: bad = -1;
    }
    return bad ? CLI_BAD : CLI_NEXT;
}

/* Options in order: the first bad one, --help or --version ends the parse. */
static enum cli_step parse_args(int argc, char **argv, struct cli_opts *o)
{
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "hvw:c:t:", probe_options, NULL)) != -1) {
        enum cli_step step = parse_option(opt, argc, argv, o);
        if (step != CLI_NEXT)
            return step;
    }
    if (optind != argc) {
        fprintf(stderr, "rtpprobe: unexpected argument \"%s\" (see --help)\n", argv[optind]);
        return CLI_BAD;
    }
    return CLI_NEXT;
}

/* --html and --textfile name a file: said before the run, not after it. */
static int output_name_ok(const char *opt, const char *path)
{
    size_t n = path ? strlen(path) : 0;
    if (!path || (n > 0 && path[n - 1] != '/'))
        return 0;
    fprintf(stderr, "rtpprobe: %s: expected a file name, got \"%s\"\n", opt, path);
    return -1;
}

/* --turn with one kind of credentials, and the credentials only with --turn. */
static int validate_turn(const struct rp_probe_opts *p)
{
    struct rp_turn_uri uri;
    char err[160];
    bool lt = p->turn_user || p->turn_pass;
    if (!p->turn) {
        if (!lt && !p->turn_secret)
            return 0;
        fprintf(stderr, "rtpprobe: --turn-user/--turn-pass/--turn-secret need --turn\n");
        return -1;
    }
    if (rp_turn_uri_parse(p->turn, &uri, err, sizeof err) < 0) {
        fprintf(stderr, "rtpprobe: --turn: %s\n", err);
        return -1;
    }
    if (lt == !!p->turn_secret || (lt && (!p->turn_user || !p->turn_pass))) {
        fprintf(stderr, "rtpprobe: --turn needs --turn-user and --turn-pass, or --turn-secret\n");
        return -1;
    }
    /* The client refreshes neither the permission (300 s, RFC 8656) nor the
     * channel: a longer run would lose its media to the relay, not the network. */
    if (p->duration_s > RP_TURN_MAX_DURATION_S) {
        fprintf(stderr, "rtpprobe: --turn: --duration %u is longer than a relayed run may be (%u s: the relay's "
                        "permission is not refreshed)\n", p->duration_s, RP_TURN_MAX_DURATION_S);
        return -1;
    }
    return 0;
}

/* What only the options together can tell. 0, or -1 after a one-line message. */
static int validate(const struct cli_opts *o)
{
    const struct rp_probe_opts *p = &o->probe;
    if (!p->server) {
        fprintf(stderr, "rtpprobe: --server is required, e.g. --server https://media.example.com:%u\n",
                RP_CONTROL_PORT);
        return -1;
    }
    if (validate_turn(p) < 0)
        return -1;
    if (o->paths && (!p->turn || o->json || o->nagios || o->html || o->textfile || o->push)) {
        fprintf(stderr, "rtpprobe: --paths needs --turn, and prints a table only (no --json, --nagios, --html, "
                        "--textfile, --push)\n");
        return -1;
    }
    if (o->pc.full && !o->port_check) {
        fprintf(stderr, "rtpprobe: --full goes with --port-check\n");
        return -1;
    }
    if (o->port_check && (o->nagios || o->html || o->textfile || o->push)) {
        fprintf(stderr, "rtpprobe: --port-check prints text or --json only (not --nagios, --html, --textfile, "
                        "--push)\n");
        return -1;
    }
    if (o->json && o->nagios) {
        fprintf(stderr, "rtpprobe: --json and --nagios are exclusive\n");
        return -1;
    }
    if (output_name_ok("--html", o->html) < 0 || output_name_ok("--textfile", o->textfile) < 0)
        return -1;
    if (!rp_codec_ptime_valid(p->codec, p->ptime_ms)) {
        fprintf(stderr, "rtpprobe: --ptime %u is not valid for %s%s\n", p->ptime_ms, rp_codec_get(p->codec)->name,
                p->codec == RP_CODEC_OPUS ? " (Opus: 10, 20, 40 or 60)" : " (G.711: 10 to 60 in steps of 10)");
        return -1;
    }
    if (p->bitrate_bps && !rp_codec_bitrate_valid(p->codec, p->bitrate_bps)) {
        fprintf(stderr, "rtpprobe: --bitrate %u is not valid for %s (G.711 is always 64000)\n", p->bitrate_bps,
                rp_codec_get(p->codec)->name);
        return -1;
    }
    return 0;
}

/* Thresholds in order, and the run's deadline (-t): at least the media plus
 * the time its setup, drains and stop take; without -t, --duration plus
 * RP_PROBE_DEFAULT_SLACK_S. 0, or -1 after a one-line message. */
static int settle_limits(struct cli_opts *o)
{
    struct rp_probe_opts *p = &o->probe;
    char err[256];
    if (rp_thresholds_check_order(&p->thresholds, err, sizeof err) < 0) {
        fprintf(stderr, "rtpprobe: -w/-c: %s\n", err);
        return -1;
    }
    unsigned need = p->duration_s + RP_PROBE_MIN_SLACK_S;
    if (o->port_check) { /* the check's own length: at most RP_PC_MAX_S */
        if (!p->timeout_s)
            p->timeout_s = RP_PC_MAX_S + RP_PROBE_DEFAULT_SLACK_S;
        return 0;
    }
    if (!p->timeout_s) {
        p->timeout_s = p->duration_s + RP_PROBE_DEFAULT_SLACK_S;
    } else if (p->timeout_s < need) {
        fprintf(stderr, "rtpprobe: --timeout %u s is shorter than the run: --duration %u s + %u s (setup, "
                        "drains, stop); give -t %u or more%s\n", p->timeout_s, p->duration_s, RP_PROBE_MIN_SLACK_S,
                need, need > MAX_TIMEOUT_S ? " (above 600: leave -t out, the default is --duration + 30)" : "");
        return -1;
    }
    return 0;
}

/* --token-file, else RTPPROBE_TOKEN. 0, or -1 after a one-line message. */
static int load_token(struct cli_opts *o)
{
    const char *env = getenv("RTPPROBE_TOKEN");
    if (o->token_file) {
        if (read_token_file(o->token_file, o->token, sizeof o->token) < 0)
            return -1;
    } else if (env && env[0]) {
        snprintf(o->token, sizeof o->token, "%s", env);
    } else {
        fprintf(stderr, "rtpprobe: no token: give --token-file FILE or set RTPPROBE_TOKEN\n");
        return -1;
    }
    if (!rp_cli_token_valid(o->token)) {
        fprintf(stderr, "rtpprobe: the token (%s) holds characters a bearer token cannot (RFC 6750: letters, "
                        "digits, -._~+/ and = at the end)\n", o->token_file ? o->token_file : "RTPPROBE_TOKEN");
        return -1;
    }
    o->probe.token = o->token;
    return 0;
}

/* The measurement. 0 with *rep filled, or -1 after the reason is printed
 * (as the Nagios status line with --nagios). */
static int run(const struct cli_opts *o, struct rp_report *rep)
{
    if (rp_srtp_global_init() < 0) {
        fprintf(stderr, "rtpprobe: cannot initialise libsrtp2\n");
        return -1;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "rtpprobe: cannot initialise libcurl\n");
        rp_srtp_global_fini();
        return -1;
    }
    char err[1024] = "";
    int rc = rp_probe_run(&o->probe, rep, err, sizeof err);
    curl_global_cleanup();
    rp_srtp_global_fini();
    if (rc < 0) {
        /* err may quote the server (its error text, certificate names): one
         * line, no terminal controls, and no '|' before Nagios perfdata. */
        rp_cli_clean_line(err, o->nagios);
        if (o->nagios)
            printf("RTPPROBE UNKNOWN - %s\n", err);
        else
            fprintf(stderr, "rtpprobe: %s\n", err);
        return -1;
    }
    return 0;
}

/* --paths: four runs and a table; the exit code of the recommended path. */
static int run_paths(const struct cli_opts *o)
{
    if (rp_srtp_global_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "rtpprobe: cannot initialise libsrtp2 or libcurl\n");
        return RP_EXIT_UNKNOWN;
    }
    int code = rp_paths_run(&o->probe, stdout);
    curl_global_cleanup();
    rp_srtp_global_fini();
    return code;
}

/* --port-check: its own run and report (docs/port-check.md). */
static int port_check(struct cli_opts *o)
{
    o->pc.json = o->json;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "rtpprobe: cannot initialise libcurl\n");
        return RP_EXIT_UNKNOWN;
    }
    int code = rp_pcp_run(&o->probe, &o->pc, stdout);
    curl_global_cleanup();
    OPENSSL_cleanse(o->token, sizeof o->token);
    return code;
}

/* Returns the exit code: the verdict's, or UNKNOWN if the report cannot be
 * written or an output besides it failed (output_error: the first failure). */
static int print_report(const struct cli_opts *o, const struct rp_report *rep, const char *output_error)
{
    if (o->json) {
        if (rp_report_print_json(rep, stdout) < 0) {
            fprintf(stderr, "rtpprobe: cannot write the JSON report\n");
            return RP_EXIT_UNKNOWN;
        }
    } else if (o->nagios) {
        /* Nagios reads one line: a failed output must be in it, not only on stderr. */
        if (output_error)
            rp_report_print_nagios_error(rep, output_error, stdout);
        else
            rp_report_print_nagios(rep, stdout);
    } else {
        rp_report_print_text(rep, stdout);
    }
    return output_error ? RP_EXIT_UNKNOWN : rp_report_exit_code(rep);
}

/* A run that measured nothing still leaves its mark in the textfile: verdict
 * unknown and a fresh time, so that a stale file does not look healthy. */
static void unknown_report(const struct cli_opts *o, struct rp_report *rep)
{
    memset(rep, 0, sizeof *rep);
    rp_httpc_strip_userinfo(o->probe.server, rep->server, sizeof rep->server);
    snprintf(rep->codec, sizeof rep->codec, "%s", rp_codec_get(o->probe.codec)->name);
    snprintf(rep->transport, sizeof rep->transport, "%s", o->probe.srtp ? "srtp" : "rtp");
    rep->verdict = RP_VERDICT_UNKNOWN;
}

/* One output's failure: a line on stderr, and the first one kept for the
 * status line (first[0] == '\0' until then). */
static void output_failed(const char *what, char *err, char *first, size_t firstlen)
{
    rp_cli_clean_line(err, false);
    fprintf(stderr, "rtpprobe: %s %s\n", what, err);
    if (!first[0])
        snprintf(first, firstlen, "%s %s", what, err);
}

/* --push: one POST of the report, within what is left of the run's deadline. */
static int push(const struct cli_opts *o, const struct rp_report *rep, char *err, size_t errlen)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "cannot initialise libcurl");
        return -1;
    }
    /* Within the run's deadline (-t is the whole run's), and never long. */
    uint64_t deadline = rp_monotonic_ns() + (uint64_t)PUSH_MAX_S * NS_PER_S;
    uint64_t run_end = o->probe.start_ns + (uint64_t)o->probe.timeout_s * NS_PER_S;
    if (run_end < deadline)
        deadline = run_end;
    int rc = rp_push_report(&o->probe, rep, o->agent, deadline, err, errlen);
    curl_global_cleanup();
    return rc;
}

/* --html, --textfile and --push, before the stdout report so that a failure
 * can be in it (docs/usage.md "Monitoring outputs"); rep is NULL when the run
 * measured nothing (then no page and no push, but a textfile saying unknown).
 * 0, or -1 with the first failure in first. */
static int monitoring_outputs(const struct cli_opts *o, const struct rp_report *rep, uint64_t t0, char *first,
                              size_t firstlen)
{
    char err[1024];
    first[0] = '\0';
    if (o->html && rep && rp_report_write_html(rep, o->html, err, sizeof err) < 0)
        output_failed("--html", err, first, firstlen);
    if (o->textfile) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        struct rp_textfile_run tr = { .agent = o->agent, .timestamp_s = (double)now.tv_sec + now.tv_nsec / 1e9,
                                      .duration_s = (double)(rp_monotonic_ns() - t0) / 1e9 };
        struct rp_report unknown;
        if (!rep)
            unknown_report(o, &unknown);
        if (rp_textfile_write(rep ? rep : &unknown, &tr, o->textfile, err, sizeof err) < 0)
            output_failed("--textfile", err, first, firstlen);
    }
    if (o->push && rep && push(o, rep, err, sizeof err) < 0)
        output_failed("--push:", err, first, firstlen);
    return first[0] ? -1 : 0;
}

/* --nagios anywhere on the line (before "--"): wanted before the options are
 * parsed, since a usage error may come before it. */
static bool wants_nagios(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--nagios") == 0)
            return true;
    return false;
}

/* Under --nagios a usage error must reach Nagios, which reads only stdout
 * ("(No output on stdout)" otherwise): the messages the setup writes to stderr
 * are caught in a memory file and passed on, and the first one also goes to
 * stdout as the plugin's UNKNOWN line. */
struct err_capture {
    int saved, mem;
};

static void capture_begin(struct err_capture *c, bool on)
{
    c->saved = c->mem = -1;
    if (!on)
        return;
    fflush(stderr);
    c->mem = memfd_create("rtpprobe-usage", MFD_CLOEXEC);
    c->saved = c->mem >= 0 ? dup(STDERR_FILENO) : -1;
    if (c->saved < 0 || dup2(c->mem, STDERR_FILENO) < 0) {
        if (c->mem >= 0)
            close(c->mem);
        if (c->saved >= 0)
            close(c->saved);
        c->saved = c->mem = -1;
    }
}

/* Restores stderr, passes the caught text on; with failed, prints the first
 * line as "RTPPROBE UNKNOWN - ..." on stdout. */
static void capture_end(struct err_capture *c, bool failed)
{
    if (c->mem < 0)
        return;
    fflush(stderr);
    (void)dup2(c->saved, STDERR_FILENO);
    close(c->saved);
    char buf[2048];
    ssize_t n = pread(c->mem, buf, sizeof buf - 1, 0);
    close(c->mem);
    buf[n > 0 ? n : 0] = '\0';
    fputs(buf, stderr);
    if (!failed)
        return;
    char *line = buf;
    /* Warnings before the error (a deprecated form, a token file others can
     * read) are not what stopped the run. */
    while (strncmp(line, "rtpprobe: warning: ", 19) == 0 && strchr(line, '\n'))
        line = strchr(line, '\n') + 1;
    if (strncmp(line, "rtpprobe: ", 10) == 0)
        line += 10;
    line[strcspn(line, "\n")] = '\0';
    rp_cli_clean_line(line, true);
    printf("RTPPROBE UNKNOWN - %s\n", line[0] ? line : "usage error (see rtpprobe --help)");
    fflush(stdout);
}

/* Options, their checks and the token: a usage error gives exit 3. */
static enum cli_step setup(int argc, char **argv, struct cli_opts *o)
{
    enum cli_step step = parse_args(argc, argv, o);
    if (step == CLI_NEXT && (validate(o) < 0 || settle_limits(o) < 0 || load_token(o) < 0))
        step = CLI_BAD;
    if (!o->agent[0])
        rp_push_agent_default(o->agent, sizeof o->agent);
    return step;
}

int rp_cli_main(int argc, char **argv)
{
    uint64_t start = rp_monotonic_ns(); /* -t counts from here */
    rp_log_init("rtpprobe", RP_LOG_WARN);
    /* A daemon that closes the connection mid-write must give an error, not kill us. */
    signal(SIGPIPE, SIG_IGN);
    if (argc > 1 && strcmp(argv[1], "emodel") == 0)
        return emodel_main(argc - 1, argv + 1);

    struct cli_opts o;
    cli_defaults(&o);
    o.probe.start_ns = start;
    struct err_capture cap;
    capture_begin(&cap, wants_nagios(argc, argv));
    enum cli_step step = setup(argc, argv, &o);
    capture_end(&cap, step == CLI_BAD);
    switch (step) {
    case CLI_NEXT: break;
    case CLI_BAD: return RP_EXIT_UNKNOWN;
    case CLI_HELP: usage(stdout); return RP_EXIT_OK;
    case CLI_VERSION: printf("rtpprobe %s\n", RP_VERSION); return RP_EXIT_OK;
    }
    o.probe.progress = !o.quiet && !o.json && !o.nagios && isatty(STDERR_FILENO);
    if (o.paths) {
        int pc = run_paths(&o);
        OPENSSL_cleanse(o.token, sizeof o.token);
        return pc;
    }
    if (o.port_check)
        return port_check(&o);

    struct rp_report rep = { 0 };
    uint64_t t0 = rp_monotonic_ns();
    int rc = run(&o, &rep);
    char output_error[1024];
    int outputs = monitoring_outputs(&o, rc == 0 ? &rep : NULL, t0, output_error, sizeof output_error);
    int code = rc < 0 ? RP_EXIT_UNKNOWN : print_report(&o, &rep, outputs < 0 ? output_error : NULL);
    OPENSSL_cleanse(o.token, sizeof o.token);
    rp_report_release(&rep); /* the per-second arrays */
    return code;
}
