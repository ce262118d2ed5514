/* rtpprobed configuration. libconfig parses; this file checks names, types and
 * ranges and reports the first problem as "file:line: message", so that a typo
 * stops the daemon at start-up (or `--check-config`) instead of being ignored. */
#include "config.h"

#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netaddr.h"
#include "stun.h"

/* Config files are a few kB; the cap only stops `-c /dev/zero` from eating memory. */
#define CONFIG_FILE_MAX (1024 * 1024)

/* a printf format fragment: %% is a literal % */
#define HASH_TOKEN_HINT "make one with: printf %%s \"$TOKEN\" | rtpprobed --hash-token"

struct loader {
    const char *path;
    const char *text;  /* the main file, NUL-terminated, to correct list element lines */
    char        dir[RP_CONFIG_PATH_MAX]; /* of path: where @include names are looked up */
    char       *err;
    size_t      errlen;
    /* settings seen, for the rules between keys */
    const config_setting_t *tls_cert, *tls_key, *port_min, *port_max, *tokens;
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

/* ---- one handler per key ---- */

typedef int (*key_handler)(struct loader *ld, const config_setting_t *s, struct rp_config *c);

static int set_listen(struct loader *ld, const config_setting_t *s, struct rp_config *c)
{
    struct sockaddr_storage ss;
    socklen_t sslen;

    if (get_string(ld, s, c->control_listen, sizeof c->control_listen) < 0)
        return -1;
    if (rp_addr_parse(c->control_listen, 0, &ss, &sslen) < 0)
        return fail_at(ld, s, "control.listen: \"%s\" is not IP:port (e.g. \"127.0.0.1:%u\" or \"[::1]:%u\")",
                       c->control_listen, RP_CONTROL_PORT, RP_CONTROL_PORT);
    return 0;
}

static int set_tls_cert(struct loader *ld, const config_setting_t *s, struct rp_config *c)
{
    ld->tls_cert = s;
    return get_string(ld, s, c->tls_cert, sizeof c->tls_cert);
}

static int set_tls_key(struct loader *ld, const config_setting_t *s, struct rp_config *c)
{
    ld->tls_key = s;
    return get_string(ld, s, c->tls_key, sizeof c->tls_key);
}

static int set_tokens(struct loader *ld, const config_setting_t *s, struct rp_config *c)
{
    ld->tokens = s;
    if (!config_setting_is_list(s) && !config_setting_is_array(s))
        return fail_at(ld, s, "control.tokens: expected a list of strings, e.g. ( \"sha256:...\" )");
    int n = config_setting_length(s);
    if (n == 0)
        return fail_at(ld, s, "control.tokens: at least one token hash is required; " HASH_TOKEN_HINT);
    if (n > RP_CONFIG_MAX_TOKENS)
        return fail_at(ld, s, "control.tokens: %d entries, at most %d", n, RP_CONFIG_MAX_TOKENS);
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        /* The value is never echoed: a plain token pasted here by mistake must not reach the log. */
        if (config_setting_type(e) != CONFIG_TYPE_STRING ||
            rp_token_parse_hash(config_setting_get_string(e), c->tokens[i]) < 0)
            return fail_at(ld, e, "control.tokens[%d]: expected \"sha256:<64 hex digits>\", the hash of a "
                           "token, not the token itself; " HASH_TOKEN_HINT, i);
    }
    c->ntokens = (unsigned)n;
    return 0;
}

static int set_bind(struct loader *ld, const config_setting_t *s, struct rp_config *c)
{
    struct sockaddr_storage ss;
    socklen_t sslen;

    if (get_string(ld, s, c->media_bind, sizeof c->media_bind) < 0)
        return -1;
    if (rp_addr_from_ip(c->media_bind, 0, &ss, &sslen) < 0)
        return fail_at(ld, s, "media.bind: \"%s\" is not an IPv4 or IPv6 address (no port, no name)",
                       c->media_bind);
    return 0;
}

static int set_echo_ports(struct loader *ld, const config_setting_t *s, struct rp_config *c)
{
    if (!config_setting_is_list(s) && !config_setting_is_array(s))
        return fail_at(ld, s, "echo.ports: expected a list of port numbers, e.g. [ 9000, 9002 ]");
    int n = config_setting_length(s);
    if (n > RP_CONFIG_MAX_ECHO_PORTS)
        return fail_at(ld, s, "echo.ports: %d entries, at most %d", n, RP_CONFIG_MAX_ECHO_PORTS);
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        int v = config_setting_type(e) == CONFIG_TYPE_INT ? config_setting_get_int(e) : -1;
        if (v < 1024 || v > 65535)
            return fail_at(ld, e, "echo.ports[%d]: expected a port number from 1024 to 65535", i);
        c->echo_ports[i] = (uint16_t)v;
    }
    c->necho_ports = (unsigned)n;
    return 0;
}

static int set_echo_allow(struct loader *ld, const config_setting_t *s, struct rp_config *c)
{
    if (!config_setting_is_list(s) && !config_setting_is_array(s))
        return fail_at(ld, s, "echo.allow: expected a list of prefixes, e.g. [ \"10.0.0.0/8\" ]");
    int n = config_setting_length(s);
    if (n > RP_CONFIG_MAX_ECHO_ALLOW)
        return fail_at(ld, s, "echo.allow: %d entries, at most %d", n, RP_CONFIG_MAX_ECHO_ALLOW);
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING ||
            rp_cidr_parse(config_setting_get_string(e), &c->echo_allow[i]) < 0)
            return fail_at(ld, e, "echo.allow[%d]: expected an address prefix like \"198.51.100.0/24\"", i);
    }
    c->necho_allow = (unsigned)n;
    return 0;
}

static int set_allow_foreign_peer(struct loader *ld, const config_setting_t *s, struct rp_config *c)
{
    if (config_setting_type(s) != CONFIG_TYPE_BOOL)
        return fail_at(ld, s, "media.allow_foreign_peer: expected true or false");
    c->allow_foreign_peer = config_setting_get_bool(s) != 0;
    return 0;
}

/* "" disables the listener; otherwise IP:port. */
static int set_stun_listen(struct loader *ld, const config_setting_t *s, struct rp_config *c)
{
    struct sockaddr_storage ss;
    socklen_t sslen;

    /* Unlike other strings, "" means something here: off. */
    if (config_setting_type(s) == CONFIG_TYPE_STRING && config_setting_get_string(s)[0] == '\0') {
        c->stun_listen[0] = '\0';
        return 0;
    }
    if (get_string(ld, s, c->stun_listen, sizeof c->stun_listen) < 0)
        return -1;
    if (c->stun_listen[0] && rp_addr_parse(c->stun_listen, 0, &ss, &sslen) < 0)
        return fail_at(ld, s, "stun.listen: \"%s\" is not IP:port (or \"\" to disable)", c->stun_listen);
    return 0;
}

static int set_port_min(struct loader *ld, const config_setting_t *s, struct rp_config *c)
{
    ld->port_min = s;
    if (get_uint(ld, s, 1024, 65535, &c->port_min) < 0)
        return -1;
    if (c->port_min % 2 != 0)
        return fail_at(ld, s, "media.port_min: %u is odd; RTP uses even ports, with RTCP on the odd port "
                       "above (RFC 3550 section 11)", c->port_min);
    return 0;
}

static int set_port_max(struct loader *ld, const config_setting_t *s, struct rp_config *c)
{
    ld->port_max = s;
    return get_uint(ld, s, 1024, 65535, &c->port_max);
}

static int set_max_sessions(struct loader *ld, const config_setting_t *s, struct rp_config *c)
{
    return get_uint(ld, s, 1, 100000, &c->max_sessions);
}

static int set_max_duration(struct loader *ld, const config_setting_t *s, struct rp_config *c)
{
    return get_uint(ld, s, 1, 86400, &c->max_duration);
}

#define UINT_SETTER(fn, field, lo, hi)                                                               \
    static int fn(struct loader *ld, const config_setting_t *s, struct rp_config *c)                 \
    {                                                                                                \
        return get_uint(ld, s, lo, hi, &c->field);                                                   \
    }
UINT_SETTER(set_sessions_per_source, max_sessions_per_source, 1, 100000)
UINT_SETTER(set_requests_per_second, requests_per_second, 1, 100000)
UINT_SETTER(set_request_burst, request_burst, 1, 100000)
UINT_SETTER(set_request_timeout, request_timeout, 1, 300)
UINT_SETTER(set_ptime_min, ptime_min, 10, 60)
UINT_SETTER(set_ptime_max, ptime_max, 10, 60)
UINT_SETTER(set_bitrate_min, bitrate_min, 6000, 510000)
UINT_SETTER(set_bitrate_max, bitrate_max, 6000, 510000)
UINT_SETTER(set_echo_rate, echo_rate, 1, 1000)

static int set_max_body(struct loader *ld, const config_setting_t *s, struct rp_config *c)
{
    return get_uint(ld, s, 256, 1048576, &c->max_body);
}

static int set_log_level(struct loader *ld, const config_setting_t *s, struct rp_config *c)
{
    char name[16];

    if (get_string(ld, s, name, sizeof name) < 0 || rp_log_level_parse(name, &c->log_level) < 0)
        return fail_at(ld, s, "log.level: expected one of \"err\", \"warn\", \"info\", \"debug\"");
    return 0;
}

struct key_spec {
    const char *group;
    const char *name;
    key_handler set;
};

static const struct key_spec keys[] = {
    { "control", "listen", set_listen },
    { "control", "tls_cert", set_tls_cert },
    { "control", "tls_key", set_tls_key },
    { "control", "tokens", set_tokens },
    { "media", "bind", set_bind },
    { "media", "port_min", set_port_min },
    { "media", "port_max", set_port_max },
    { "media", "allow_foreign_peer", set_allow_foreign_peer },
    { "limits", "max_sessions", set_max_sessions },
    { "limits", "max_duration", set_max_duration },
    { "limits", "max_body", set_max_body },
    { "limits", "max_sessions_per_source", set_sessions_per_source },
    { "limits", "requests_per_second", set_requests_per_second },
    { "limits", "request_burst", set_request_burst },
    { "limits", "request_timeout", set_request_timeout },
    { "limits", "ptime_min", set_ptime_min },
    { "limits", "ptime_max", set_ptime_max },
    { "limits", "bitrate_min", set_bitrate_min },
    { "limits", "bitrate_max", set_bitrate_max },
    { "log", "level", set_log_level },
    { "stun", "listen", set_stun_listen },
    { "echo", "ports", set_echo_ports },
    { "echo", "allow", set_echo_allow },
    { "echo", "rate", set_echo_rate },
};
#define NKEYS (sizeof keys / sizeof keys[0])

static const char *const groups[] = { "control", "media", "limits", "log", "stun", "echo" };
#define NGROUPS (sizeof groups / sizeof groups[0])

/* "listen, tls_cert, ..." for the "unknown setting" message. */
static void list_keys(const char *group, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < NKEYS && used < size; i++) {
        if (strcmp(keys[i].group, group) != 0)
            continue;
        int n = snprintf(buf + used, size - used, "%s%s", used ? ", " : "", keys[i].name);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

static int load_group(struct loader *ld, const config_setting_t *group, struct rp_config *c)
{
    const char *gname = config_setting_name(group);
    int n = config_setting_length(group);

    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
        const struct key_spec *spec = NULL;
        for (size_t k = 0; k < NKEYS && spec == NULL; k++)
            if (strcmp(keys[k].group, gname) == 0 && strcmp(keys[k].name, config_setting_name(s)) == 0)
                spec = &keys[k];
        if (spec == NULL) {
            char known[128];
            list_keys(gname, known, sizeof known);
            return fail_at(ld, s, "unknown setting %s.%s (%s has: %s)", gname, config_setting_name(s), gname,
                           known);
        }
        if (spec->set(ld, s, c) < 0)
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
        bool known = false;
        for (size_t g = 0; g < NGROUPS; g++)
            known = known || strcmp(groups[g], name) == 0;
        if (!known)
            return fail_at(ld, s, "unknown setting %s (top-level groups are control, media, limits, log, stun, echo)", name);
        if (!config_setting_is_group(s))
            return fail_at(ld, s, "%s: expected a group, e.g. %s = { ... };", name, name);
        if (load_group(ld, s, c) < 0)
            return -1;
    }
    return 0;
}

/* Rules between keys, checked once every key has been read. */
static int check_together(struct loader *ld, const config_setting_t *root, const struct rp_config *c)
{
    if (ld->tls_cert != NULL && ld->tls_key == NULL)
        return fail_at(ld, ld->tls_cert, "control.tls_cert is set but control.tls_key is not; TLS needs both");
    if (ld->tls_key != NULL && ld->tls_cert == NULL)
        return fail_at(ld, ld->tls_key, "control.tls_key is set but control.tls_cert is not; TLS needs both");
    if (c->port_min >= c->port_max) {
        /* without port_max, port_min was raised past the default maximum */
        const config_setting_t *at = ld->port_max ? ld->port_max : ld->port_min;
        return fail_at(ld, at, "media.port_max (%u) must be above media.port_min (%u): a session needs an "
                       "even RTP port and the odd port above it", c->port_max, c->port_min);
    }
    if (c->ptime_min > c->ptime_max)
        return fail_at(ld, root, "limits.ptime_min (%u) is above limits.ptime_max (%u)", c->ptime_min, c->ptime_max);
    if (c->bitrate_min > c->bitrate_max)
        return fail_at(ld, root, "limits.bitrate_min (%u) is above limits.bitrate_max (%u)", c->bitrate_min,
                       c->bitrate_max);
    if (ld->tokens == NULL) {
        const config_setting_t *control = config_setting_get_member(root, "control");
        if (control != NULL)
            return fail_at(ld, control, "control.tokens is missing: the control API needs at least one token "
                           "hash; " HASH_TOKEN_HINT);
        return fail_file(ld, "control.tokens is missing: the control API needs at least one token hash; "
                         HASH_TOKEN_HINT);
    }
    return 0;
}

void rp_config_defaults(struct rp_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->control_listen, sizeof cfg->control_listen, "127.0.0.1:%u", RP_CONTROL_PORT);
    snprintf(cfg->media_bind, sizeof cfg->media_bind, "%s", "0.0.0.0");
    cfg->port_min = 10000;
    cfg->port_max = 20000;
    snprintf(cfg->stun_listen, sizeof cfg->stun_listen, "0.0.0.0:%u", RP_STUN_PORT);
    cfg->max_sessions = 100;
    cfg->max_duration = 3600;
    cfg->max_body = 16384;
    cfg->max_sessions_per_source = 10;
    cfg->requests_per_second = 10;
    cfg->request_burst = 40;
    cfg->request_timeout = 10;
    cfg->ptime_min = 10;
    cfg->ptime_max = 60;
    cfg->bitrate_min = 6000;
    cfg->bitrate_max = 128000;
    cfg->echo_rate = 100;
    cfg->log_level = RP_LOG_INFO;
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
