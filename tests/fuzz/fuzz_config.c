/* libFuzzer target: rtpprobed.conf. The input becomes a memfd, loaded through
 * its /proc/self/fd path as the daemon loads /etc/rtpprobe/rtpprobed.conf.
 *
 * Inputs containing "@include" are skipped: an include names a file relative
 * to the config's directory, here /proc/self/fd, so `@include "0"` reads the
 * fuzzer's stdin and hangs, and others would read whatever the host has; the
 * configuration file is trusted, so includes are left to test_config.c.
 *
 * Aborts when a load fails without a "path: ..." / "path:line: ..." message,
 * or succeeds with settings that break the rules config.c promises. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

/* libconfig 1.5 (Debian 12) leaks a string token that bison discards during
 * error recovery, e.g. `a =94, "x")`: hyperrealm/libconfig#142, fixed by #155
 * in 1.7.3. Not ours and bounded (one config load per start or reload), so
 * only the scanner's two string allocation sites are suppressed: strbuf_append
 * for a non-empty string, libconfig_yylex's calloc for "". */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:strbuf_append\n"
           "leak:libconfig_yylex\n";
}

static void check_config(const struct rp_config *c)
{
    if (c->ntokens < 1 || c->ntokens > RP_CONFIG_MAX_TOKENS || c->port_min < 1024 || c->port_min % 2 != 0 ||
        c->port_min >= c->port_max || c->port_max > 65535 || c->ptime_min > c->ptime_max ||
        c->bitrate_min > c->bitrate_max || c->max_sessions < 1 || c->max_duration < 1 ||
        c->max_duration > 86400 || c->max_body < 256 || c->max_body > 1048576 ||
        (c->tls_cert[0] == '\0') != (c->tls_key[0] == '\0'))
        abort();
    if (memchr(c->control_listen, '\0', sizeof c->control_listen) == NULL ||
        memchr(c->media_bind, '\0', sizeof c->media_bind) == NULL ||
        memchr(c->stun_listen, '\0', sizeof c->stun_listen) == NULL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (memmem(data, size, "@include", 8) != NULL)
        return 0;
    int fd = memfd_create("fuzz_config", MFD_CLOEXEC);
    if (fd < 0) {
        perror("memfd_create");
        abort();
    }
    for (size_t off = 0; off < size;) {
        ssize_t n = write(fd, data + off, size - off);
        if (n <= 0) {
            perror("write");
            abort();
        }
        off += (size_t)n;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);

    struct rp_config cfg;
    char err[1024];
    rp_config_defaults(&cfg);
    if (rp_config_load(path, &cfg, err, sizeof err) == 0) {
        check_config(&cfg);
    } else {
        size_t plen = strlen(path);
        if (strncmp(err, path, plen) != 0 || err[plen] != ':' || memchr(err, '\0', sizeof err) == NULL)
            abort();
    }
    close(fd);
    return 0;
}
