/* rtpprobed configuration: libconfig syntax, validated here; errors as "file:line: message". */
#ifndef RP_CONFIG_H
#define RP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "netaddr.h"
#include "token.h"

#define RP_CONTROL_PORT 8743u /* control.listen's default port (the probe's --help quotes it) */
#define RP_CONFIG_MAX_TOKENS 64
#define RP_CONFIG_PATH_MAX 512
#define RP_CONFIG_MAX_ECHO_PORTS 16
#define RP_CONFIG_MAX_ECHO_ALLOW 32

struct rp_config {
    char     control_listen[128];           /* "127.0.0.1:8743" */
    char     tls_cert[RP_CONFIG_PATH_MAX];  /* empty: plain HTTP */
    char     tls_key[RP_CONFIG_PATH_MAX];
    unsigned ntokens;
    uint8_t  tokens[RP_CONFIG_MAX_TOKENS][RP_TOKEN_HASH_LEN];
    char     media_bind[64];                /* "0.0.0.0" */
    unsigned port_min;                      /* 10000 */
    unsigned port_max;                      /* 20000 */
    bool     allow_foreign_peer;            /* false: a probe may announce only its own (control) IP */
    char     stun_listen[128];              /* "0.0.0.0:3478"; "" = off. Skipped with a notice when
                                               another process (coturn) holds the port. */
    unsigned max_sessions;                  /* 100 */
    unsigned max_duration;                  /* seconds, 3600 */
    unsigned max_body;                      /* control request body limit, bytes, 16384 */
    unsigned max_sessions_per_source;       /* 10 */
    unsigned requests_per_second;           /* control requests per source IP, 10 */
    unsigned request_burst;                 /* token bucket depth, 40 */
    unsigned request_timeout;               /* seconds to receive a whole request, 10 */
    unsigned ptime_min, ptime_max;          /* 10, 60 */
    unsigned bitrate_min, bitrate_max;      /* Opus, bps: 6000, 128000 */
    enum rp_log_level log_level;            /* "info" */
    /* Echo ports for third-party phones and ffmpeg: RTP sent back to its source. */
    unsigned necho_ports;
    uint16_t echo_ports[RP_CONFIG_MAX_ECHO_PORTS];
    unsigned necho_allow;                   /* sources allowed to use them; none = nobody */
    struct rp_cidr echo_allow[RP_CONFIG_MAX_ECHO_ALLOW];
    unsigned echo_rate;                     /* packets per second per source, 100 */
};

void rp_config_defaults(struct rp_config *cfg);
/* Load and validate. On error returns -1 and writes "path:line: message" to err. */
int  rp_config_load(const char *path, struct rp_config *cfg, char *err, size_t errlen);

#endif
