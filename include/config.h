/* rtpprobed configuration: libconfig syntax, validated here; errors as "file:line: message". */
#ifndef RP_CONFIG_H
#define RP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "netaddr.h"
#include "token.h"

#define RP_CONTROL_PORT 8743 /* control.listen's default port (the probe's --help quotes it) */
/* A port number as text, for defaults written as strings ("127.0.0.1:" RP_PORT_TEXT(RP_CONTROL_PORT)). */
#define RP_PORT_TEXT_(p) #p
#define RP_PORT_TEXT(p) RP_PORT_TEXT_(p)
#define RP_CONFIG_MAX_TOKENS 64
#define RP_CONFIG_PATH_MAX 512
#define RP_CONFIG_MAX_ECHO_PORTS 16
#define RP_CONFIG_MAX_ECHO_ALLOW 32
#define RP_CONFIG_MAX_TURN_URLS 4
#define RP_CONFIG_TURN_URL_SIZE 256         /* a URL of up to 255 characters + NUL */

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
    unsigned stun_rate;                     /* STUN answers per second per source IP (stun.listen and
                                               session ports together; burst the same), 20 */
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
    unsigned max_agents;                    /* agents whose latest report (POST /v1/reports) is kept, 1000 */
    /* The browser pre-call page (docs/webrtc.md). The daemon reads the secret files, at start and reload. */
    char     webrtc_page_secret_file[RP_CONFIG_PATH_MAX]; /* "" = the page is off */
    unsigned webrtc_token_max_ttl;          /* seconds: page tokens expiring later than this from now are refused, 3600 */
    unsigned webrtc_max_sessions;           /* WebRTC sessions at once (within max_sessions), 20 */
    char     webrtc_address[64];            /* the IP put in the SDP candidate; "" = the one the control connection reached */
    char     webrtc_turn_secret_file[RP_CONFIG_PATH_MAX]; /* coturn static-auth-secret; "" = no TURN offered */
    unsigned nwebrtc_turn_urls;             /* with turn_secret_file, and only with it */
    char     webrtc_turn_urls[RP_CONFIG_MAX_TURN_URLS][RP_CONFIG_TURN_URL_SIZE]; /* "turn:..." or "turns:..." */
    unsigned webrtc_turn_ttl;               /* seconds the TURN credentials live, 600 */
};

/* One row per key (the table is in config.c): where its value lives in
 * struct rp_config, what it accepts, its default and whether a reload applies
 * it. Defaults, checks and the reload merge all read the table; rules between
 * keys (TLS needs cert and key, port_min below port_max, ...) come after it. */
enum rp_config_type {
    RP_CONFIG_UINT,       /* unsigned, min..max */
    RP_CONFIG_RTP_PORT,   /* unsigned, min..max and even (RFC 3550 section 11) */
    RP_CONFIG_BOOL,       /* bool, true or false */
    RP_CONFIG_LOG_LEVEL,  /* enum rp_log_level, by name */
    RP_CONFIG_PATH,       /* char[size], not empty */
    RP_CONFIG_LISTEN,     /* char[size], "IP:port" */
    RP_CONFIG_LISTEN_OFF, /* char[size], "IP:port" or "" for off */
    RP_CONFIG_IP,         /* char[size], an IP literal */
    RP_CONFIG_TOKENS,     /* list: token hashes, at least one */
    RP_CONFIG_PORTS,      /* list: uint16_t, each min..max */
    RP_CONFIG_PREFIXES,   /* list: struct rp_cidr */
    RP_CONFIG_PATH_OFF,   /* char[size], a path or "" for off */
    RP_CONFIG_IP_OFF,     /* char[size], an IP literal or "" for unset */
    RP_CONFIG_TURN_URLS,  /* list: char[][RP_CONFIG_TURN_URL_SIZE], "turn:" or "turns:" URLs */
    RP_CONFIG_TYPES
};

enum rp_config_apply {
    RP_APPLY_LIVE,    /* a reload applies it */
    RP_APPLY_RESTART, /* bound at start-up: a reload keeps the running value */
    RP_APPLY_ONOFF,   /* a reload applies a new value, but setting or clearing it needs a restart */
};

struct rp_config_key {
    const char *group, *name;
    enum rp_config_type type;
    size_t offset, size;    /* of the value in struct rp_config (lists: of the array) */
    size_t count_offset;    /* lists: of their unsigned entry count */
    long long min, max;     /* numbers (UINT, RTP_PORT, BOOL, LOG_LEVEL): the range; PORTS: of each entry */
    long long def;          /* numbers: the default */
    const char *def_text;   /* strings: the default, NULL for empty; lists start empty */
    enum rp_config_apply apply;
};

/* The table, in the order of conf/rtpprobed.conf. Returns the number of rows. */
size_t rp_config_keys(const struct rp_config_key **keys);

void rp_config_defaults(struct rp_config *cfg);
/* Load and validate. On error returns -1 and writes "path:line: message" to err. */
int  rp_config_load(const char *path, struct rp_config *cfg, char *err, size_t errlen);

/* A reload (SIGHUP): running takes every value of fresh that a reload applies.
 * A key that needs a restart keeps its running value and, when fresh changes
 * it, is named in restart ("control.listen, echo.ports"; RP_APPLY_ONOFF keys
 * as "control.tls_cert (on/off)"). Returns how many keys were named. */
unsigned rp_config_reload(struct rp_config *running, const struct rp_config *fresh, char *restart,
                          size_t restartlen);

#endif
