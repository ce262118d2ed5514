/* rtpprobed configuration. libconfig parses; this file checks names, types and
 * ranges and reports the first problem as "file:line: message", so that a typo
 * stops the daemon at start-up (or `--check-config`) instead of being ignored.
 * Every key is one row of the table below: defaults, checks and what a reload
 * applies are all read from it. */
#include "config.h"

#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents.h" /* RP_AGENTS_LIMIT, RP_AGENTS_DEFAULT */
#include "netaddr.h"
#include "stun.h" /* RP_STUN_PORT */

/* Config files are a few kB; the cap only stops `-c /dev/zero` from eating memory. */
#define CONFIG_FILE_MAX (1024 * 1024)

/* a printf format fragment: %% is a literal % */
#define HASH_TOKEN_HINT "make one with: printf %%s \"$TOKEN\" | rtpprobed --hash-token"

/* ---- the keys ---- */

#define FIELD(f) .offset = offsetof(struct rp_config, f), .size = sizeof(((struct rp_config *)0)->f)
#define NUMBER(g, n, t, f, lo, hi, d, a) \
    { .group = g, .name = n, .type = t, FIELD(f), .min = lo, .max = hi, .def = d, .apply = a }
#define TEXT(g, n, t, f, d, a) { .group = g, .name = n, .type = t, FIELD(f), .def_text = d, .apply = a }
#define LIST(g, n, t, f, count, lo, hi, a)                                                            \
    { .group = g, .name = n, .type = t, FIELD(f), .count_offset = offsetof(struct rp_config, count), \
      .min = lo, .max = hi, .apply = a }

/* In the order of conf/rtpprobed.conf, which is also the order the "unknown
 * setting" message lists them in. The three places that document each key
 * (that file, docs/rtpprobed.8, docs/configuration.md) must agree with its row. */
static const struct rp_config_key keys[] = {
    TEXT("control", "listen", RP_CONFIG_LISTEN, control_listen, "127.0.0.1:" RP_PORT_TEXT(RP_CONTROL_PORT), RP_APPLY_RESTART),
    TEXT("control", "tls_cert", RP_CONFIG_PATH, tls_cert, NULL, RP_APPLY_ONOFF),
    TEXT("control", "tls_key", RP_CONFIG_PATH, tls_key, NULL, RP_APPLY_ONOFF),
    LIST("control", "tokens", RP_CONFIG_TOKENS, tokens, ntokens, 0, 0, RP_APPLY_LIVE),
    TEXT("media", "bind", RP_CONFIG_IP, media_bind, "0.0.0.0", RP_APPLY_RESTART),
    NUMBER("media", "port_min", RP_CONFIG_RTP_PORT, port_min, 1024, 65535, 10000, RP_APPLY_LIVE),
    NUMBER("media", "port_max", RP_CONFIG_UINT, port_max, 1024, 65535, 20000, RP_APPLY_LIVE),
    NUMBER("media", "allow_foreign_peer", RP_CONFIG_BOOL, allow_foreign_peer, 0, 1, 0, RP_APPLY_LIVE),
    NUMBER("limits", "max_sessions", RP_CONFIG_UINT, max_sessions, 1, 100000, 100, RP_APPLY_LIVE),
    NUMBER("limits", "max_duration", RP_CONFIG_UINT, max_duration, 1, 86400, 3600, RP_APPLY_LIVE),
    NUMBER("limits", "max_body", RP_CONFIG_UINT, max_body, 256, 1048576, 16384, RP_APPLY_LIVE),
    NUMBER("limits", "max_sessions_per_source", RP_CONFIG_UINT, max_sessions_per_source, 1, 100000, 10,
           RP_APPLY_LIVE),
    NUMBER("limits", "requests_per_second", RP_CONFIG_UINT, requests_per_second, 1, 100000, 10, RP_APPLY_LIVE),
    NUMBER("limits", "request_burst", RP_CONFIG_UINT, request_burst, 1, 100000, 40, RP_APPLY_LIVE),
    NUMBER("limits", "request_timeout", RP_CONFIG_UINT, request_timeout, 1, 300, 10, RP_APPLY_LIVE),
    NUMBER("limits", "ptime_min", RP_CONFIG_UINT, ptime_min, 10, 60, 10, RP_APPLY_LIVE),
    NUMBER("limits", "ptime_max", RP_CONFIG_UINT, ptime_max, 10, 60, 60, RP_APPLY_LIVE),
    NUMBER("limits", "bitrate_min", RP_CONFIG_UINT, bitrate_min, 6000, 510000, 6000, RP_APPLY_LIVE),
    NUMBER("limits", "bitrate_max", RP_CONFIG_UINT, bitrate_max, 6000, 510000, 128000, RP_APPLY_LIVE),
    NUMBER("log", "level", RP_CONFIG_LOG_LEVEL, log_level, RP_LOG_ERR, RP_LOG_DEBUG, RP_LOG_INFO, RP_APPLY_LIVE),
    TEXT("stun", "listen", RP_CONFIG_LISTEN_OFF, stun_listen, "0.0.0.0:" RP_PORT_TEXT(RP_STUN_PORT), RP_APPLY_RESTART),
    NUMBER("stun", "rate", RP_CONFIG_UINT, stun_rate, 1, 100000, 20, RP_APPLY_LIVE),
    LIST("echo", "ports", RP_CONFIG_PORTS, echo_ports, necho_ports, 1024, 65535, RP_APPLY_RESTART),
    LIST("echo", "allow", RP_CONFIG_PREFIXES, echo_allow, necho_allow, 0, 0, RP_APPLY_LIVE),
    NUMBER("echo", "rate", RP_CONFIG_UINT, echo_rate, 1, 1000, 100, RP_APPLY_LIVE),
    NUMBER("reports", "max_agents", RP_CONFIG_UINT, max_agents, 1, RP_AGENTS_LIMIT, RP_AGENTS_DEFAULT, RP_APPLY_LIVE),
    TEXT("webrtc", "page_secret_file", RP_CONFIG_PATH_OFF, webrtc_page_secret_file, NULL, RP_APPLY_LIVE),
    NUMBER("webrtc", "token_max_ttl", RP_CONFIG_UINT, webrtc_token_max_ttl, 1, 86400, 3600, RP_APPLY_LIVE),
    NUMBER("webrtc", "max_sessions", RP_CONFIG_UINT, webrtc_max_sessions, 1, 100000, 20, RP_APPLY_LIVE),
    TEXT("webrtc", "address", RP_CONFIG_IP_OFF, webrtc_address, NULL, RP_APPLY_LIVE),
    TEXT("webrtc", "turn_secret_file", RP_CONFIG_PATH_OFF, webrtc_turn_secret_file, NULL, RP_APPLY_LIVE),
    LIST("webrtc", "turn_urls", RP_CONFIG_TURN_URLS, webrtc_turn_urls, nwebrtc_turn_urls, 0, 0, RP_APPLY_LIVE),
    NUMBER("webrtc", "turn_ttl", RP_CONFIG_UINT, webrtc_turn_ttl, 60, 86400, 600, RP_APPLY_LIVE),
};
#define NKEYS (sizeof keys / sizeof keys[0])

size_t rp_config_keys(const struct rp_config_key **out)
{
    *out = keys;
    return NKEYS;
}

enum value_kind { VALUE_NUMBER, VALUE_TEXT, VALUE_LIST };

static enum value_kind kind_of(const struct rp_config_key *k)
{
    switch (k->type) {
    case RP_CONFIG_PATH:
    case RP_CONFIG_LISTEN:
    case RP_CONFIG_LISTEN_OFF:
    case RP_CONFIG_IP:
    case RP_CONFIG_PATH_OFF:
    case RP_CONFIG_IP_OFF:
        return VALUE_TEXT;
    case RP_CONFIG_TOKENS:
    case RP_CONFIG_PORTS:
    case RP_CONFIG_PREFIXES:
    case RP_CONFIG_TURN_URLS:
        return VALUE_LIST;
    default:
        return VALUE_NUMBER;
    }
}

static void *value_at(struct rp_config *c, const struct rp_config_key *k)
{
    return (char *)c + k->offset;
}

static const void *value_in(const struct rp_config *c, const struct rp_config_key *k)
{
    return (const char *)c + k->offset;
}

static unsigned *count_at(struct rp_config *c, const struct rp_config_key *k)
{
    return (void *)((char *)c + k->count_offset);
}

static unsigned count_in(const struct rp_config *c, const struct rp_config_key *k)
{
    return *(const unsigned *)(const void *)((const char *)c + k->count_offset);
}

/* Numbers are stored as the field's own type. */
static void set_number(struct rp_config *c, const struct rp_config_key *k, long long v)
{
    switch (k->type) {
    case RP_CONFIG_BOOL:
        *(bool *)value_at(c, k) = v != 0;
        break;
    case RP_CONFIG_LOG_LEVEL:
        *(enum rp_log_level *)value_at(c, k) = (enum rp_log_level)v;
        break;
    default:
        *(unsigned *)value_at(c, k) = (unsigned)v;
        break;
    }
}

static const struct rp_config_key *find_key(const char *group, const char *name)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].group, group) == 0 && strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

struct loader {
    const char *path;
    const char *text;  /* the main file, NUL-terminated, to correct list element lines */
    char        dir[RP_CONFIG_PATH_MAX]; /* of path: where @include names are looked up */
    char       *err;
    size_t      errlen;
    const config_setting_t *seen[NKEYS]; /* for the rules between keys, by row */
};

static void put_error(const struct loader *ld, const char *file, unsigned line,
                      const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));
static void put_error(const struct loader *ld, const char *file, unsigned line,
                      const char *fmt, va_list ap)
{
    if (ld->err == NULL || ld->errlen == 0)
        return;
    int n = line > 0 ? snprintf(ld->err, ld->errlen, "%s:%u: ", file, line)
                     : snprintf(ld->err, ld->errlen, "%s: ", file);
    if (n < 0 || (size_t)n >= ld->errlen)
        return;
    vsnprintf(ld->err + n, ld->errlen - (size_t)n, fmt, ap);
}

static int fail_line(const struct loader *ld, const char *file, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail_line(const struct loader *ld, const char *file, unsigned line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    put_error(ld, file, line, fmt, ap);
    va_end(ap);
    return -1;
}

/* An error about the file as a whole (unreadable, a required setting absent). */
#define fail_file(ld, ...) fail_line((ld), (ld)->path, 0, __VA_ARGS__)

/* libconfig gives the line of a string inside a list only after reading the
 * token that follows it, so an element on its own line followed by ")" on the
 * next is reported one line late. Look back from there to the line that holds
 * the literal, but not past the previous element. */
static unsigned element_line(const struct loader *ld, const config_setting_t *elem)
{
    unsigned reported = config_setting_source_line(elem);
    const config_setting_t *parent = config_setting_parent(elem);
    int idx = config_setting_index(elem);

    if (ld->text == NULL || config_setting_source_file(elem) != NULL || parent == NULL || idx < 0 ||
        config_setting_type(elem) != CONFIG_TYPE_STRING)
        return reported; /* from an @include, or nothing to correct */
    unsigned floor = idx > 0 ? config_setting_source_line(config_setting_get_elem(parent, (unsigned)idx - 1))
                             : config_setting_source_line(parent);
    if (floor == 0 || floor > reported)
        return reported;
    const char *value = config_setting_get_string(elem);
    size_t vlen = strlen(value);

    /* Walk to line `floor`, then keep the last line up to `reported` that holds
     * "value" before any # comment. */
    const char *line_start = ld->text;
    for (unsigned l = 1; l < floor && line_start != NULL; l++) {
        line_start = strchr(line_start, '\n');
        if (line_start)
            line_start++;
    }
    unsigned found = 0;
    for (unsigned l = floor; l <= reported && line_start != NULL; l++) {
        const char *end = strchr(line_start, '\n');
        size_t len = end ? (size_t)(end - line_start) : strlen(line_start);
        for (size_t i = 0; i + vlen + 2 <= len; i++) {
            if (line_start[i] == '#')
                break;
            if (line_start[i] == '"' && memcmp(line_start + i + 1, value, vlen) == 0 &&
                line_start[i + 1 + vlen] == '"') {
                found = l;
                break;
            }
        }
        line_start = end ? end + 1 : NULL;
    }
    return found ? found : reported;
}

/* libconfig names an included file as written in @include; show where it was found. */
static const char *file_name(const struct loader *ld, const char *file, char *buf, size_t size)
{
    if (file == NULL)
        return ld->path;
    if (file[0] == '/' || ld->dir[0] == '\0')
        return file;
    snprintf(buf, size, "%s/%s", strcmp(ld->dir, "/") == 0 ? "" : ld->dir, file);
    return buf;
}

/* An error about one setting, at its file and line. */
static int fail_at(const struct loader *ld, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail_at(const struct loader *ld, const config_setting_t *s, const char *fmt, ...)
{
    char buf[2 * RP_CONFIG_PATH_MAX];
    const char *file = file_name(ld, config_setting_source_file(s), buf, sizeof buf);
    unsigned line = config_setting_name(s) == NULL ? element_line(ld, s) : config_setting_source_line(s);
    va_list ap;

    va_start(ap, fmt);
    put_error(ld, file, line, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- typed getters: each reports "group.key: ..." at the setting's line ---- */

static const char *group_name(const config_setting_t *s)
{
    const config_setting_t *p = config_setting_parent(s);
    return p && config_setting_name(p) ? config_setting_name(p) : "";
}

static int get_uint(const struct loader *ld, const config_setting_t *s, long long min, long long max,
                    unsigned *out)
{
    int type = config_setting_type(s);
    if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
        return fail_at(ld, s, "%s.%s: expected an integer", group_name(s), config_setting_name(s));
    long long v = config_setting_get_int64(s);
    if (v < min || v > max)
        return fail_at(ld, s, "%s.%s: %lld is out of range %lld..%lld", group_name(s),
                       config_setting_name(s), v, min, max);
    *out = (unsigned)v;
    return 0;
}

static int get_string(const struct loader *ld, const config_setting_t *s, char *out, size_t size)
{
    if (config_setting_type(s) != CONFIG_TYPE_STRING)
        return fail_at(ld, s, "%s.%s: expected a string", group_name(s), config_setting_name(s));
    const char *v = config_setting_get_string(s);
    size_t len = strlen(v);
    if (len == 0)
        return fail_at(ld, s, "%s.%s: empty; leave the setting out instead", group_name(s),
                       config_setting_name(s));
    if (len >= size)
        return fail_at(ld, s, "%s.%s: longer than %zu characters", group_name(s), config_setting_name(s),
                       size - 1);
    memcpy(out, v, len + 1);
    return 0;
}

/* ---- one parser per type; the row gives the field and the range ---- */

typedef int (*key_parser)(struct loader *ld, const config_setting_t *s, const struct rp_config_key *k,
                          struct rp_config *c);

static int parse_uint(struct loader *ld, const config_setting_t *s, const struct rp_config_key *k,
                      struct rp_config *c)
{
    return get_uint(ld, s, k->min, k->max, value_at(c, k));
}

static int parse_rtp_port(struct loader *ld, const config_setting_t *s, const struct rp_config_key *k,
                          struct rp_config *c)
{
    unsigned *port = value_at(c, k);
    if (get_uint(ld, s, k->min, k->max, port) < 0)
        return -1;
    if (*port % 2 != 0)
        return fail_at(ld, s, "%s.%s: %u is odd; RTP uses even ports, with RTCP on the odd port above "
                       "(RFC 3550 section 11)", k->group, k->name, *port);
    return 0;
}

static int parse_bool(struct loader *ld, const config_setting_t *s, const struct rp_config_key *k,
                      struct rp_config *c)
{
    if (config_setting_type(s) != CONFIG_TYPE_BOOL)
        return fail_at(ld, s, "%s.%s: expected true or false", k->group, k->name);
    set_number(c, k, config_setting_get_bool(s));
    return 0;
}

static int parse_log_level(struct loader *ld, const config_setting_t *s, const struct rp_config_key *k,
                           struct rp_config *c)
{
    char name[16];

    if (get_string(ld, s, name, sizeof name) < 0 || rp_log_level_parse(name, value_at(c, k)) < 0)
        return fail_at(ld, s, "%s.%s: expected one of \"err\", \"warn\", \"info\", \"debug\"", k->group, k->name);
    return 0;
}

static int parse_path(struct loader *ld, const config_setting_t *s, const struct rp_config_key *k,
                      struct rp_config *c)
{
    return get_string(ld, s, value_at(c, k), k->size);
}

static int listen_address(struct loader *ld, const config_setting_t *s, const struct rp_config_key *k,
                          struct rp_config *c, const char *hint)
{
    char *v = value_at(c, k);
    struct sockaddr_storage ss;
    socklen_t sslen;

    if (get_string(ld, s, v, k->size) < 0)
        return -1;
    if (rp_addr_parse(v, 0, &ss, &sslen) < 0)
        return fail_at(ld, s, "%s.%s: \"%s\" is not IP:port (%s)", k->group, k->name, v, hint);
    return 0;
}

static int parse_listen(struct loader *ld, const config_setting_t *s, const struct rp_config_key *k,
                        struct rp_config *c)
{
    return listen_address(ld, s, k, c, "e.g. \"127.0.0.1:" RP_PORT_TEXT(RP_CONTROL_PORT) "\" or \"[::1]:" RP_PORT_TEXT(RP_CONTROL_PORT) "\"");
}

static int parse_listen_off(struct loader *ld, const config_setting_t *s, const struct rp_config_key *k,
                            struct rp_config *c)
{
    /* Unlike other strings, "" means something here: off. */
    if (config_setting_type(s) == CONFIG_TYPE_STRING && config_setting_get_string(s)[0] == '\0') {
        memset(value_at(c, k), 0, k->size);
        return 0;
    }
    return listen_address(ld, s, k, c, "or \"\" to disable");
}

static int parse_ip(struct loader *ld, const config_setting_t *s, const struct rp_config_key *k,
                    struct rp_config *c)
{
    char *v = value_at(c, k);
    struct sockaddr_storage ss;
    socklen_t sslen;

    if (get_string(ld, s, v, k->size) < 0)
        return -1;
    if (rp_addr_from_ip(v, 0, &ss, &sslen) < 0)
        return fail_at(ld, s, "%s.%s: \"%s\" is not an IPv4 or IPv6 address (no port, no name)", k->group,
                       k->name, v);
    return 0;
}

/* A list or array of at most cap entries: its length, or -1. */
static int list_length(struct loader *ld, const config_setting_t *s, const struct rp_config_key *k, int cap,
                       const char *example)
{
    if (!config_setting_is_list(s) && !config_setting_is_array(s))
        return fail_at(ld, s, "%s.%s: expected a list of %s", k->group, k->name, example);
    int n = config_setting_length(s);
    if (n > cap)
        return fail_at(ld, s, "%s.%s: %d entries, at most %d", k->group, k->name, n, cap);
    return n;
}

static int parse_tokens(struct loader *ld, const config_setting_t *s, const struct rp_config_key *k,
                        struct rp_config *c)
{
    uint8_t (*hashes)[RP_TOKEN_HASH_LEN] = value_at(c, k);
    int n = list_length(ld, s, k, RP_CONFIG_MAX_TOKENS, "strings, e.g. ( \"sha256:...\" )");
    if (n < 0)
        return -1;
    if (n == 0)
        return fail_at(ld, s, "%s.%s: at least one token hash is required; " HASH_TOKEN_HINT, k->group, k->name);
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        /* The value is never echoed: a plain token pasted here by mistake must not reach the log. */
        if (config_setting_type(e) != CONFIG_TYPE_STRING || rp_token_parse_hash(config_setting_get_string(e),
                                                                                 hashes[i]) < 0)
            return fail_at(ld, e, "%s.%s[%d]: expected \"sha256:<64 hex digits>\", the hash of a token, not "
                           "the token itself; " HASH_TOKEN_HINT, k->group, k->name, i);
    }
    *count_at(c, k) = (unsigned)n;
    return 0;
}

static int parse_ports(struct loader *ld, const config_setting_t *s, const struct rp_config_key *k,
                       struct rp_config *c)
{
    uint16_t *ports = value_at(c, k);
    int n = list_length(ld, s, k, RP_CONFIG_MAX_ECHO_PORTS, "port numbers, e.g. [ 9000, 9002 ]");
    if (n < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        int v = config_setting_type(e) == CONFIG_TYPE_INT ? config_setting_get_int(e) : -1;
        if (v < k->min || v > k->max)
            return fail_at(ld, e, "%s.%s[%d]: expected a port number from %lld to %lld", k->group, k->name, i,
                           k->min, k->max);
        ports[i] = (uint16_t)v;
    }
    *count_at(c, k) = (unsigned)n;
    return 0;
}

static int parse_prefixes(struct loader *ld, const config_setting_t *s, const struct rp_config_key *k,
                          struct rp_config *c)
{
    struct rp_cidr *prefixes = value_at(c, k);
    int n = list_length(ld, s, k, RP_CONFIG_MAX_ECHO_ALLOW, "prefixes, e.g. [ \"10.0.0.0/8\" ]");
    if (n < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING ||
            rp_cidr_parse(config_setting_get_string(e), &prefixes[i]) < 0)
            return fail_at(ld, e, "%s.%s[%d]: expected an address prefix like \"198.51.100.0/24\"", k->group,
                           k->name, i);
    }
    *count_at(c, k) = (unsigned)n;
    return 0;
}

/* "" is off (or unset) for these: the shipped file spells the default out. */
static bool empty_string(const config_setting_t *s)
{
    return config_setting_type(s) == CONFIG_TYPE_STRING && config_setting_get_string(s)[0] == '\0';
}

static int parse_path_off(struct loader *ld, const config_setting_t *s, const struct rp_config_key *k,
                          struct rp_config *c)
{
    if (empty_string(s)) {
        memset(value_at(c, k), 0, k->size);
        return 0;
    }
    return parse_path(ld, s, k, c);
}

static int parse_ip_off(struct loader *ld, const config_setting_t *s, const struct rp_config_key *k,
                        struct rp_config *c)
{
    if (empty_string(s)) {
        memset(value_at(c, k), 0, k->size);
        return 0;
    }
    return parse_ip(ld, s, k, c);
}

/* A URL the page hands to RTCPeerConnection as given: a TURN scheme, and
 * nothing that could end a JSON string or an HTML attribute on the way. */
static bool turn_url_ok(const char *u)
{
    size_t len = strlen(u), scheme = strncmp(u, "turn:", 5) == 0 ? 5 : strncmp(u, "turns:", 6) == 0 ? 6 : 0;
    if (scheme == 0 || len <= scheme || len >= RP_CONFIG_TURN_URL_SIZE)
        return false;
    for (size_t i = 0; i < len; i++)
        if (u[i] < 0x21 || u[i] > 0x7e || strchr("\"'\\<>`", u[i]) != NULL)
            return false;
    return true;
}

static int parse_turn_urls(struct loader *ld, const config_setting_t *s, const struct rp_config_key *k,
                           struct rp_config *c)
{
    char (*urls)[RP_CONFIG_TURN_URL_SIZE] = value_at(c, k);
    int n = list_length(ld, s, k, RP_CONFIG_MAX_TURN_URLS, "TURN URLs, e.g. [ \"turn:media.example.com:3478\" ]");
    if (n < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING || !turn_url_ok(config_setting_get_string(e)))
            return fail_at(ld, e, "%s.%s[%d]: expected a TURN URL like \"turn:media.example.com:3478?transport=udp\" "
                           "or \"turns:media.example.com:5349?transport=tcp\" (no spaces or quotes, at most %d "
                           "characters)", k->group, k->name, i, RP_CONFIG_TURN_URL_SIZE - 1);
        snprintf(urls[i], RP_CONFIG_TURN_URL_SIZE, "%s", config_setting_get_string(e));
    }
    *count_at(c, k) = (unsigned)n;
    return 0;
}

static const key_parser parsers[RP_CONFIG_TYPES] = {
    [RP_CONFIG_UINT] = parse_uint,
    [RP_CONFIG_RTP_PORT] = parse_rtp_port,
    [RP_CONFIG_BOOL] = parse_bool,
    [RP_CONFIG_LOG_LEVEL] = parse_log_level,
    [RP_CONFIG_PATH] = parse_path,
    [RP_CONFIG_LISTEN] = parse_listen,
    [RP_CONFIG_LISTEN_OFF] = parse_listen_off,
    [RP_CONFIG_IP] = parse_ip,
    [RP_CONFIG_TOKENS] = parse_tokens,
    [RP_CONFIG_PORTS] = parse_ports,
    [RP_CONFIG_PREFIXES] = parse_prefixes,
    [RP_CONFIG_PATH_OFF] = parse_path_off,
    [RP_CONFIG_IP_OFF] = parse_ip_off,
    [RP_CONFIG_TURN_URLS] = parse_turn_urls,
};

/* ---- the file: groups, then keys in file order ---- */

/* The groups (group == NULL), or a group's keys, as "a, b, c" for the "unknown setting" messages. */
static void list_names(const char *group, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < NKEYS && used < size; i++) {
        /* the rows of a group are together */
        bool skip = group ? strcmp(keys[i].group, group) != 0 : i > 0 && strcmp(keys[i - 1].group, keys[i].group) == 0;
        if (skip)
            continue;
        int n = snprintf(buf + used, size - used, "%s%s", used ? ", " : "", group ? keys[i].name : keys[i].group);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

static bool is_group(const char *name)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].group, name) == 0)
            return true;
    return false;
}

static int load_group(struct loader *ld, const config_setting_t *group, struct rp_config *c)
{
    const char *gname = config_setting_name(group);
    int n = config_setting_length(group);

    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
        const struct rp_config_key *k = find_key(gname, config_setting_name(s));
        if (k == NULL) {
            char known[128];
            list_names(gname, known, sizeof known);
            return fail_at(ld, s, "unknown setting %s.%s (%s has: %s)", gname, config_setting_name(s), gname,
                           known);
        }
        ld->seen[k - keys] = s;
        if (parsers[k->type](ld, s, k, c) < 0)
            return -1;
    }
    return 0;
}

static int load_root(struct loader *ld, const config_setting_t *root, struct rp_config *c)
{
    int n = config_setting_length(root);

    /* In file order, so that the first error reported is the first in the file. */
    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
        const char *name = config_setting_name(s);
        if (!is_group(name)) {
            char groups[128];
            list_names(NULL, groups, sizeof groups);
            return fail_at(ld, s, "unknown setting %s (top-level groups are %s)", name, groups);
        }
        if (!config_setting_is_group(s))
            return fail_at(ld, s, "%s: expected a group, e.g. %s = { ... };", name, name);
        if (load_group(ld, s, c) < 0)
            return -1;
    }
    return 0;
}

/* The setting a key was read from; NULL when the file left it out. */
static const config_setting_t *seen(const struct loader *ld, const char *group, const char *name)
{
    const struct rp_config_key *k = find_key(group, name);
    return k ? ld->seen[k - keys] : NULL;
}

/* TURN is offered with credentials or not at all: URLs without the secret
 * would send every browser to a relay that refuses it. */
static int check_webrtc(struct loader *ld, const struct rp_config *c)
{
    if (c->nwebrtc_turn_urls > 0 && c->webrtc_turn_secret_file[0] == '\0')
        return fail_at(ld, seen(ld, "webrtc", "turn_urls"), "webrtc.turn_urls is set but webrtc.turn_secret_file is "
                       "not: TURN needs both (the file holds coturn's static-auth-secret)");
    if (c->nwebrtc_turn_urls == 0 && c->webrtc_turn_secret_file[0] != '\0')
        return fail_at(ld, seen(ld, "webrtc", "turn_secret_file"), "webrtc.turn_secret_file is set but "
                       "webrtc.turn_urls is empty: TURN needs both (the URLs of the coturn that has the secret)");
    return 0;
}

/* Rules between keys, checked once every key has been read. */
static int check_together(struct loader *ld, const config_setting_t *root, const struct rp_config *c)
{
    const config_setting_t *tls_cert = seen(ld, "control", "tls_cert"), *tls_key = seen(ld, "control", "tls_key");
    if (tls_cert != NULL && tls_key == NULL)
        return fail_at(ld, tls_cert, "control.tls_cert is set but control.tls_key is not; TLS needs both");
    if (tls_key != NULL && tls_cert == NULL)
        return fail_at(ld, tls_key, "control.tls_key is set but control.tls_cert is not; TLS needs both");
    if (c->port_min >= c->port_max) {
        /* without port_max, port_min was raised past the default maximum */
        const config_setting_t *at = seen(ld, "media", "port_max");
        return fail_at(ld, at ? at : seen(ld, "media", "port_min"), "media.port_max (%u) must be above "
                       "media.port_min (%u): a session needs an even RTP port and the odd port above it",
                       c->port_max, c->port_min);
    }
    if (c->ptime_min > c->ptime_max)
        return fail_at(ld, root, "limits.ptime_min (%u) is above limits.ptime_max (%u)", c->ptime_min, c->ptime_max);
    if (c->bitrate_min > c->bitrate_max)
        return fail_at(ld, root, "limits.bitrate_min (%u) is above limits.bitrate_max (%u)", c->bitrate_min,
                       c->bitrate_max);
    if (seen(ld, "control", "tokens") == NULL) {
        const config_setting_t *control = config_setting_get_member(root, "control");
        if (control != NULL)
            return fail_at(ld, control, "control.tokens is missing: the control API needs at least one token "
                           "hash; " HASH_TOKEN_HINT);
        return fail_file(ld, "control.tokens is missing: the control API needs at least one token hash; "
                         HASH_TOKEN_HINT);
    }
    return check_webrtc(ld, c);
}

void rp_config_defaults(struct rp_config *cfg)
{
    /* Lists start empty and strings without a default empty; unused list
     * entries and string tails stay zero, which rp_config_reload relies on. */
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < NKEYS; i++) {
        const struct rp_config_key *k = &keys[i];
        if (kind_of(k) == VALUE_NUMBER)
            set_number(cfg, k, k->def);
        else if (k->def_text != NULL)
            snprintf(value_at(cfg, k), k->size, "%s", k->def_text);
    }
}

/* The whole file in memory: libconfig parses it from there, and element_line()
 * needs the text. Returns NULL (error written) on failure. */
static char *read_file(const struct loader *ld)
{
    FILE *f = fopen(ld->path, "r");
    if (f == NULL) {
        fail_file(ld, "cannot open: %s", strerror(errno));
        return NULL;
    }
    char *buf = malloc(CONFIG_FILE_MAX + 1);
    size_t len = buf ? fread(buf, 1, CONFIG_FILE_MAX + 1, f) : 0;
    int read_errno = errno;
    bool bad = buf == NULL || ferror(f) || len > CONFIG_FILE_MAX || memchr(buf, '\0', len) != NULL;
    if (buf == NULL)
        fail_file(ld, "out of memory");
    else if (ferror(f))
        fail_file(ld, "cannot read: %s", strerror(read_errno));
    else if (len > CONFIG_FILE_MAX)
        fail_file(ld, "larger than %d bytes; not a configuration file?", CONFIG_FILE_MAX);
    else if (memchr(buf, '\0', len) != NULL)
        fail_file(ld, "contains a NUL byte; not a configuration file?");
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    return buf;
}

int rp_config_load(const char *path, struct rp_config *cfg, char *err, size_t errlen)
{
    struct loader ld = { .path = path, .err = err, .errlen = errlen };
    struct rp_config tmp; /* cfg is written only when everything checked out */
    config_t lc;
    int rc = -1;

    if (err && errlen)
        err[0] = '\0';
    char *text = read_file(&ld);
    if (text == NULL)
        return -1;
    ld.text = text;

    config_init(&lc);
    /* @include "x" is relative to the config file's directory, not the daemon's cwd. */
    const char *slash = strrchr(path, '/');
    if (slash != NULL && (size_t)(slash - path) < sizeof ld.dir) {
        memcpy(ld.dir, path, (size_t)(slash - path));
        ld.dir[slash - path] = '\0';
        if (slash == path)
            strcpy(ld.dir, "/");
        config_set_include_dir(&lc, ld.dir);
    }
    if (config_read_string(&lc, text) != CONFIG_TRUE) {
        char buf[2 * RP_CONFIG_PATH_MAX];
        int line = config_error_line(&lc);
        const char *what = config_error_text(&lc);
        fail_line(&ld, file_name(&ld, config_error_file(&lc), buf, sizeof buf), line > 0 ? (unsigned)line : 0,
                  "%s", what ? what : "cannot parse");
        goto out;
    }
    rp_config_defaults(&tmp);
    const config_setting_t *root = config_root_setting(&lc);
    if (load_root(&ld, root, &tmp) < 0 || check_together(&ld, root, &tmp) < 0)
        goto out;
    *cfg = tmp;
    rc = 0;
out:
    config_destroy(&lc);
    free(text);
    return rc;
}

/* ---- reload ---- */

static bool same_value(const struct rp_config_key *k, const struct rp_config *a, const struct rp_config *b)
{
    switch (kind_of(k)) {
    case VALUE_TEXT:
        return strcmp(value_in(a, k), value_in(b, k)) == 0;
    case VALUE_LIST:
        /* loaded into a cleared struct from the first entry on: unused entries are zero in both */
        return count_in(a, k) == count_in(b, k) && memcmp(value_in(a, k), value_in(b, k), k->size) == 0;
    default:
        return memcmp(value_in(a, k), value_in(b, k), k->size) == 0;
    }
}

/* Whether fresh changes k in a way a reload cannot apply. */
static bool needs_restart(const struct rp_config_key *k, const struct rp_config *running,
                          const struct rp_config *fresh)
{
    switch (k->apply) {
    case RP_APPLY_RESTART:
        return !same_value(k, running, fresh);
    case RP_APPLY_ONOFF: {
        const char *was = value_in(running, k), *now = value_in(fresh, k);
        return (was[0] != '\0') != (now[0] != '\0');
    }
    default:
        return false;
    }
}

/* "a.b" appended to a ", "-separated list, truncated to fit. */
static void append_name(char *buf, size_t size, const struct rp_config_key *k)
{
    size_t used = strnlen(buf, size);
    if (used + 1 < size)
        snprintf(buf + used, size - used, "%s%s.%s%s", used ? ", " : "", k->group, k->name,
                 k->apply == RP_APPLY_ONOFF ? " (on/off)" : "");
}

unsigned rp_config_reload(struct rp_config *running, const struct rp_config *fresh, char *restart,
                          size_t restartlen)
{
    struct rp_config next = *fresh;
    unsigned named = 0;

    if (restartlen > 0)
        restart[0] = '\0';
    for (size_t i = 0; i < NKEYS; i++) {
        const struct rp_config_key *k = &keys[i];
        if (!needs_restart(k, running, fresh))
            continue;
        memcpy(value_at(&next, k), value_in(running, k), k->size);
        if (kind_of(k) == VALUE_LIST)
            *count_at(&next, k) = count_in(running, k);
        if (restartlen > 0)
            append_name(restart, restartlen, k);
        named++;
    }
    *running = next;
    return named;
}
