/* Page tokens and coturn REST credentials. A page token is handed to a browser
 * (in the page's URL fragment), so it is short-lived and says nothing secret:
 * "v1:<expiry>:<agent>:<base64url(HMAC-SHA256(secret, "v1:<expiry>:<agent>"))>".
 * The parse is strict (one spelling per token: no leading zeros, no padding,
 * canonical base64url) so that a token cannot be re-spelt past a log or a
 * rate limiter keyed on it. */
#include "pagetoken.h"
#include "errbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define MAC_LEN 32                       /* HMAC-SHA256 */
#define MAC_B64_LEN 43                   /* base64url of 32 bytes, no padding */
#define AGENT_MAX 64
#define NAME_MAX_LEN 64                  /* a TURN REST name */
#define SHA1_LEN 20
#define SECRET_FILE_MAX 4096             /* a secret is a line; more is not a secret file */
static const char version[] = "v1:";
#define VERSION_LEN (sizeof version - 1)

static const char *const verdict_names[RP_PAGETOKEN_VERDICTS] = {
    [RP_PAGETOKEN_OK] = "ok",
    [RP_PAGETOKEN_MALFORMED] = "malformed",
    [RP_PAGETOKEN_BAD_SIGNATURE] = "bad_signature",
    [RP_PAGETOKEN_EXPIRED] = "expired",
    [RP_PAGETOKEN_TOO_LONG] = "too_long",
};

const char *rp_pagetoken_verdict_name(enum rp_pagetoken_verdict v)
{
    return (unsigned)v < RP_PAGETOKEN_VERDICTS ? verdict_names[v] : "unknown";
}

static bool agent_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
}

bool rp_pagetoken_agent_ok(const char *agent)
{
    size_t len = strnlen(agent, AGENT_MAX + 1);
    for (size_t i = 0; i < len; i++)
        if (!agent_char(agent[i]))
            return false;
    return len <= AGENT_MAX;
}

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int b64url_value(char c)
{
    const char *p = c != '\0' ? strchr(b64url, c) : NULL;
    return p ? (int)(p - b64url) : -1;
}

/* base64url without padding (RFC 4648 §5): 32 bytes -> 43 characters + NUL. */
static void mac_encode(const uint8_t mac[MAC_LEN], char out[MAC_B64_LEN + 1])
{
    size_t o = 0;
    for (size_t i = 0; i < MAC_LEN; i += 3) {
        uint32_t v = (uint32_t)mac[i] << 16;
        if (i + 1 < MAC_LEN)
            v |= (uint32_t)mac[i + 1] << 8;
        if (i + 2 < MAC_LEN)
            v |= mac[i + 2];
        size_t chars = i + 2 < MAC_LEN ? 4 : MAC_LEN - i + 1;
        for (size_t k = 0; k < chars; k++)
            out[o++] = b64url[(v >> (18 - 6 * k)) & 63];
    }
    out[o] = '\0';
}

/* The inverse, refusing anything but the one spelling mac_encode writes
 * (the last character's two low bits unused, so they must be zero). */
static int mac_decode(const char *s, uint8_t mac[MAC_LEN])
{
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < MAC_B64_LEN; i++) {
        int v = b64url_value(s[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            mac[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return o == MAC_LEN && acc == 0 ? 0 : -1;
}

static int sign(const uint8_t *secret, size_t secret_len, const char *msg, size_t len, uint8_t mac[MAC_LEN])
{
    unsigned outl = 0;
    /* HMAC(): in OpenSSL 1.1.1 and 3.x alike */
    if (HMAC(EVP_sha256(), secret, (int)secret_len, (const unsigned char *)msg, len, mac, &outl) == NULL ||
        outl != MAC_LEN)
        return -1;
    return 0;
}

int rp_pagetoken_mint(const uint8_t *secret, size_t secret_len, uint64_t expiry, const char *agent, char *out,
                      size_t cap)
{
    uint8_t mac[MAC_LEN];
    char b64[MAC_B64_LEN + 1];

    if (agent == NULL)
        agent = "";
    if (secret_len < RP_PAGETOKEN_SECRET_MIN || !rp_pagetoken_agent_ok(agent))
        return -1;
    char msg[RP_PAGETOKEN_MAX];
    int n = snprintf(msg, sizeof msg, "%s%llu:%s", version, (unsigned long long)expiry, agent);
    if (n < 0 || (size_t)n >= sizeof msg || sign(secret, secret_len, msg, (size_t)n, mac) < 0)
        return -1;
    mac_encode(mac, b64);
    int m = snprintf(out, cap, "%s:%s", msg, b64);
    OPENSSL_cleanse(mac, sizeof mac);
    return m > 0 && (size_t)m < cap ? 0 : -1;
}

/* "<decimal>" without sign or leading zero, fitting in 64 bits: its length, 0 if none. */
static size_t parse_expiry(const char *s, size_t len, uint64_t *out)
{
    size_t i = 0;
    uint64_t v = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
        unsigned d = (unsigned)(s[i] - '0');
        if ((i == 1 && s[0] == '0') || v > (UINT64_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
        i++;
    }
    *out = v;
    return i;
}

/* The signed part's length (up to the last ':'), with expiry and agent read; 0 if malformed. */
static size_t parse_signed_part(const char *token, size_t len, uint64_t *expiry, char agent[AGENT_MAX + 1])
{
    if (len > RP_PAGETOKEN_MAX || len < VERSION_LEN || memcmp(token, version, VERSION_LEN) != 0)
        return 0;
    size_t at = VERSION_LEN;
    size_t digits = parse_expiry(token + at, len - at, expiry);
    if (digits == 0 || at + digits >= len || token[at + digits] != ':')
        return 0;
    at += digits + 1;
    size_t alen = 0;
    while (at + alen < len && agent_char(token[at + alen]))
        alen++;
    if (alen > AGENT_MAX || at + alen >= len || token[at + alen] != ':')
        return 0;
    memcpy(agent, token + at, alen);
    agent[alen] = '\0';
    return at + alen;
}

enum rp_pagetoken_verdict rp_pagetoken_check(const uint8_t *secret, size_t secret_len, const char *token, size_t len,
                                             uint64_t now, unsigned max_ttl, char agent_out[65])
{
    uint64_t expiry = 0;
    char agent[AGENT_MAX + 1];
    uint8_t got[MAC_LEN], want[MAC_LEN];

    if (agent_out != NULL)
        agent_out[0] = '\0';
    size_t signed_len = token != NULL ? parse_signed_part(token, len, &expiry, agent) : 0;
    if (signed_len == 0 || len - signed_len - 1 != MAC_B64_LEN || mac_decode(token + signed_len + 1, got) < 0)
        return RP_PAGETOKEN_MALFORMED;
    /* A secret too short to have been configured verifies nothing. */
    if (secret_len < RP_PAGETOKEN_SECRET_MIN || sign(secret, secret_len, token, signed_len, want) < 0)
        return RP_PAGETOKEN_BAD_SIGNATURE;
    int differ = CRYPTO_memcmp(got, want, MAC_LEN);
    OPENSSL_cleanse(want, sizeof want);
    /* The signature first: expired and too_long then count only tokens we minted. */
    if (differ != 0)
        return RP_PAGETOKEN_BAD_SIGNATURE;
    if (expiry <= now)
        return RP_PAGETOKEN_EXPIRED;
    if (expiry - now > max_ttl)
        return RP_PAGETOKEN_TOO_LONG;
    if (agent_out != NULL)
        memcpy(agent_out, agent, strlen(agent) + 1);
    return RP_PAGETOKEN_OK;
}

int rp_turn_rest_credentials(const uint8_t *secret, size_t secret_len, uint64_t expiry, const char *name,
                             char *user, size_t ucap, char *pass, size_t pcap)
{
    uint8_t mac[SHA1_LEN];
    unsigned outl = 0;

    if (name == NULL)
        name = "";
    size_t nlen = strlen(name);
    /* coturn reads the expiry up to the first ':'; the name rides along as
     * printable ASCII (it reaches coturn's log and the page's JSON). */
    if (nlen > NAME_MAX_LEN || secret == NULL || secret_len == 0 || pcap < 4 * ((SHA1_LEN + 2) / 3) + 1)
        return -1;
    for (size_t i = 0; i < nlen; i++)
        if (name[i] < 0x21 || name[i] > 0x7e)
            return -1;
    int n = snprintf(user, ucap, "%llu:%s", (unsigned long long)expiry, name);
    if (n < 0 || (size_t)n >= ucap)
        return -1;
    if (HMAC(EVP_sha1(), secret, (int)secret_len, (const unsigned char *)user, (size_t)n, mac, &outl) == NULL ||
        outl != SHA1_LEN)
        return -1;
    /* standard, padded base64: what coturn compares the password with */
    EVP_EncodeBlock((unsigned char *)pass, mac, SHA1_LEN);
    OPENSSL_cleanse(mac, sizeof mac);
    return 0;
}

/* Whole file into out (at most cap bytes and SECRET_FILE_MAX), the fd's mode checked first. */
static int read_secret_fd(int fd, const char *path, uint8_t *out, size_t cap, size_t *len, char *err,
                          size_t errlen)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return rp_errf(err, errlen, "%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return rp_errf(err, errlen, "%s: not a regular file", path);
    /* As ssh refuses an open private key: a secret others can read is not one,
     * and one the group can write is not ours. Group read stays allowed: the
     * shipped unit runs as a dynamic user that owns no file and reads its
     * files through the rtpprobe group (root:rtpprobe 0640, as the TLS key). */
    if ((st.st_mode & 027) != 0)
        return rp_errf(err, errlen, "%s: permissions %04o are too open: the secret must not be accessible "
                       "by others nor writable by the group (chmod 0640 %s, group rtpprobe; or 0600)", path,
                       (unsigned)(st.st_mode & 07777), path);
    size_t limit = cap < SECRET_FILE_MAX ? cap : SECRET_FILE_MAX;
    size_t got = 0;
    for (;;) {
        uint8_t extra;
        ssize_t r = got < limit ? read(fd, out + got, limit - got) : read(fd, &extra, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return rp_errf(err, errlen, "%s: %s", path, strerror(errno));
        if (r == 0)
            break;
        if (got >= limit)
            return rp_errf(err, errlen, "%s: larger than %zu bytes; not a secret file?", path, limit);
        got += (size_t)r;
    }
    if (got > 0 && out[got - 1] == '\n')
        got--;
    if (got < RP_PAGETOKEN_SECRET_MIN)
        return rp_errf(err, errlen, "%s: %zu bytes, at least %d needed (make one with: openssl rand -hex 32 "
                       "> %s)", path, got, RP_PAGETOKEN_SECRET_MIN, path);
    *len = got;
    return 0;
}

int rp_pagetoken_read_secret(const char *path, uint8_t *out, size_t cap, size_t *len, char *err, size_t errlen)
{
    if (path == NULL || path[0] == '\0')
        return rp_errf(err, errlen, "no secret file given");
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return rp_errf(err, errlen, "%s: %s", path, strerror(errno));
    int rc = read_secret_fd(fd, path, out, cap, len, err, errlen);
    close(fd);
    if (rc < 0)
        OPENSSL_cleanse(out, cap);
    return rc;
}
