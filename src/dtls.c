/* DTLS-SRTP (RFC 5764, RFC 8842) over OpenSSL, without sockets.
 *
 * One SSL_CTX + SSL per peer, so nothing (session cache, error state, verify
 * state) is shared between two browsers' sessions. Incoming datagrams are
 * written into a memory BIO one at a time and consumed at once; outgoing
 * records go through a small custom BIO whose write hands each BIO_write to
 * the send callback as one datagram. DTLS needs those datagram boundaries: a
 * memory BIO for the write side would glue a flight's records together
 * (janus-gateway's src/dtls-bio.c "BIO agent writer" exists for this reason,
 * meetecho/janus-gateway#252; its ctrl answers the MTU queries the same way).
 *
 * Builds with OpenSSL 1.1.1 (EL 8) and 3.0 (Debian 12): only APIs present in
 * both, the one 3.0 rename guarded. */
#include "dtls.h"
#include "errbuf.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#define DTLS_MTU          1200   /* datagram payload; what browsers use too (no PMTU discovery here) */
#define CERT_CN           "rtpprobed"
#define CERT_BACKDATE_S   (24L * 3600)        /* clock skew between us and the browser */
#define CERT_LIFETIME_S   (30L * 24 * 3600)
#define SERIAL_BITS       63                  /* positive, fits in 8 bytes */
#define SRTP_PROFILES     "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"   /* our preference order */
#define EXPORTER_LABEL    "EXTRACTOR-dtls_srtp"                           /* RFC 5764 §4.2 */
#define ERR_MAX           160
#define READ_DRAIN_MAX    64     /* records read per datagram after the handshake */

struct rp_dtls_cert {
    EVP_PKEY *key;
    X509 *x509;
    uint8_t sha256[32];
};

struct rp_dtls {
    SSL_CTX *ctx;
    SSL *ssl;
    BIO *rbio;                     /* memory BIO: the datagram being processed */
    enum rp_dtls_role role;
    enum rp_dtls_state state;
    const EVP_MD *peer_md;
    uint8_t peer_fp[EVP_MAX_MD_SIZE];
    size_t peer_fp_len;
    bool fp_mismatch;              /* set by the verify callback */
    bool peer_closed;              /* close_notify or an alert after CONNECTED */
    uint8_t cookie[16];            /* server: the HelloVerifyRequest cookie (one SSL per peer) */
    rp_dtls_send_fn *send;
    void *send_ctx;
    enum rp_srtp_suite suite;      /* from here on, valid once CONNECTED */
    uint8_t local_key[RP_SRTP_MAX_KEY_LEN];
    uint8_t remote_key[RP_SRTP_MAX_KEY_LEN];
    char err[ERR_MAX];
};

/* The reason of the first queued OpenSSL error (one short line), then the
 * queue cleared so nothing carries over to another session's call. */
static void openssl_err(char *err, size_t errlen, const char *what)
{
    unsigned long e = ERR_peek_error();
    const char *reason = e ? ERR_reason_error_string(e) : NULL;
    if (reason)
        rp_errf(err, errlen, "%s: %s", what, reason);
    else
        rp_errf(err, errlen, "%s: error %lu", what, e);
    ERR_clear_error();
}

/* ---- certificate ---- */

static EVP_PKEY *p256_key(void)
{
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *kctx = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL);
    if (kctx && EVP_PKEY_keygen_init(kctx) > 0 &&
        EVP_PKEY_CTX_set_ec_paramgen_curve_nid(kctx, NID_X9_62_prime256v1) > 0 && EVP_PKEY_keygen(kctx, &key) > 0) {
        EVP_PKEY_CTX_free(kctx);
        return key;
    }
    EVP_PKEY_CTX_free(kctx);
    EVP_PKEY_free(key);
    return NULL;
}

/* A random serial: browsers do not care, but two certificates with one issuer
 * name and one serial confuse other tools. */
static bool set_random_serial(X509 *x)
{
    BIGNUM *bn = BN_new();
    bool ok = bn && BN_rand(bn, SERIAL_BITS, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1;
    ASN1_INTEGER *serial = ok ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
    ok = serial && X509_set_serialNumber(x, serial) == 1;
    ASN1_INTEGER_free(serial);
    BN_free(bn);
    return ok;
}

static X509 *self_signed(EVP_PKEY *key)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    bool ok = x && name && X509_set_version(x, 2) == 1 && set_random_serial(x) &&
              X509_gmtime_adj(X509_getm_notBefore(x), -CERT_BACKDATE_S) &&
              X509_gmtime_adj(X509_getm_notAfter(x), CERT_LIFETIME_S) &&
              X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)CERT_CN, -1, -1, 0) == 1 &&
              X509_set_subject_name(x, name) == 1 && X509_set_issuer_name(x, name) == 1 &&
              X509_set_pubkey(x, key) == 1 && X509_sign(x, key, EVP_sha256()) > 0;
    X509_NAME_free(name);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

struct rp_dtls_cert *rp_dtls_cert_new(char *err, size_t errlen)
{
    struct rp_dtls_cert *c = calloc(1, sizeof *c);
    if (!c) {
        rp_errf(err, errlen, "out of memory");
        return NULL;
    }
    unsigned n = 0;
    c->key = p256_key();
    c->x509 = c->key ? self_signed(c->key) : NULL;
    /* X509_digest hashes the DER encoding: what RFC 8122 a=fingerprint is. */
    if (!c->x509 || X509_digest(c->x509, EVP_sha256(), c->sha256, &n) != 1 || n != sizeof c->sha256) {
        openssl_err(err, errlen, "certificate");
        rp_dtls_cert_free(c);
        return NULL;
    }
    ERR_clear_error();
    return c;
}

void rp_dtls_cert_free(struct rp_dtls_cert *c)
{
    if (!c)
        return;
    X509_free(c->x509);
    EVP_PKEY_free(c->key);
    free(c);
}

const uint8_t *rp_dtls_cert_sha256(const struct rp_dtls_cert *c)
{
    return c->sha256;
}

/* ---- the outgoing datagram BIO ---- */

static int wbio_write(BIO *b, const char *buf, int len)
{
    struct rp_dtls *d = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (!d || len < 0)
        return -1;
    /* A send failure is a lost datagram to DTLS: its timer retransmits. */
    (void)d->send(d->send_ctx, (const uint8_t *)buf, (size_t)len);
    return len;
}

static long wbio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;                 /* every write already left */
    case BIO_CTRL_DGRAM_QUERY_MTU:
    case BIO_CTRL_DGRAM_GET_MTU:
        return DTLS_MTU;
    case BIO_CTRL_WPENDING:
    case BIO_CTRL_PENDING:
        return 0;                 /* nothing is ever buffered here */
    default:
        return 0;                 /* includes GET_MTU_OVERHEAD: the MTU above is already UDP payload */
    }
}

static int wbio_create(BIO *b)
{
    BIO_set_init(b, 1);
    BIO_set_data(b, NULL);
    return 1;
}

static int wbio_destroy(BIO *b)
{
    BIO_set_data(b, NULL);
    return 1;
}

/* The one process-wide state outside the daemon's top level, by OpenSSL's
 * design: a BIO_METHOD is a type, made once and shared by every BIO of it. */
static BIO_METHOD *wbio_method;
static CRYPTO_ONCE wbio_once = CRYPTO_ONCE_STATIC_INIT;

/* Once per process, never freed (it would have to outlive every SSL). */
static void wbio_method_init(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "rtpprobe dtls datagram");
    if (m && BIO_meth_set_write(m, wbio_write) == 1 && BIO_meth_set_ctrl(m, wbio_ctrl) == 1 &&
        BIO_meth_set_create(m, wbio_create) == 1 && BIO_meth_set_destroy(m, wbio_destroy) == 1) {
        wbio_method = m;
        return;
    }
    BIO_meth_free(m);
}

/* ---- peer fingerprint ---- */

static const EVP_MD *md_by_sdp_name(const char *name)
{
    static const struct { const char *sdp; const EVP_MD *(*md)(void); } hashes[] = {
        { "sha-1", EVP_sha1 }, { "sha-224", EVP_sha224 }, { "sha-256", EVP_sha256 },
        { "sha-384", EVP_sha384 }, { "sha-512", EVP_sha512 },
    };
    for (size_t i = 0; name && i < sizeof hashes / sizeof hashes[0]; i++)
        if (strcmp(name, hashes[i].sdp) == 0)
            return hashes[i].md();
    return NULL;
}

/* The certificate's digest (over its DER) with the SDP's hash, compared in
 * constant time with the SDP's fingerprint. */
static bool fingerprint_matches(const struct rp_dtls *d, X509 *cert)
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (!cert || X509_digest(cert, d->peer_md, md, &n) != 1 || n != d->peer_fp_len)
        return false;
    return CRYPTO_memcmp(md, d->peer_fp, n) == 0;
}

/* The browser's certificate is self-signed and unknown to any CA, so OpenSSL's
 * own verdict (preverify) is ignored: the SDP fingerprint is the trust anchor
 * (RFC 8122 §5). Checked here at depth 0 so a mismatch stops the handshake
 * before our Finished, and again after it (check_connected). */
static int verify_cb(int preverify, X509_STORE_CTX *store)
{
    (void)preverify;
    if (X509_STORE_CTX_get_error_depth(store) != 0)
        return 1;
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct rp_dtls *d = ssl ? SSL_get_app_data(ssl) : NULL;
    if (!d)
        return 0;
    if (!fingerprint_matches(d, X509_STORE_CTX_get_current_cert(store))) {
        d->fp_mismatch = true;
        return 0;
    }
    return 1;
}

/* ---- session ---- */

/* HelloVerifyRequest (RFC 6347 section 4.2.1): the ClientHello's source must
 * echo our cookie before it gets a full flight. ICE checks prove an address
 * only to whoever holds the ICE password -- the page's token holder, who can
 * spoof a victim's address; with the cookie a spoofed ClientHello costs us a
 * reply smaller than itself. One random cookie per peer: one SSL per peer, so
 * no address needs to be hashed in. */
static int cookie_generate(SSL *ssl, unsigned char *cookie, unsigned int *len)
{
    const struct rp_dtls *d = SSL_get_app_data(ssl);
    memcpy(cookie, d->cookie, sizeof d->cookie);
    *len = sizeof d->cookie;
    return 1;
}

static int cookie_verify(SSL *ssl, const unsigned char *cookie, unsigned int len)
{
    const struct rp_dtls *d = SSL_get_app_data(ssl);
    return len == sizeof d->cookie && CRYPTO_memcmp(cookie, d->cookie, len) == 0;
}

static SSL_CTX *new_ctx(const struct rp_dtls_cert *c, enum rp_dtls_role role)
{
    SSL_CTX *ctx = SSL_CTX_new(DTLS_method());
    if (!ctx)
        return NULL;
    /* SSL_CTX_set_tlsext_use_srtp returns 0 on success. */
    if (SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) != 1 || SSL_CTX_use_certificate(ctx, c->x509) != 1 ||
        SSL_CTX_use_PrivateKey(ctx, c->key) != 1 || SSL_CTX_check_private_key(ctx) != 1 ||
        SSL_CTX_set_tlsext_use_srtp(ctx, SRTP_PROFILES) != 0) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    /* No resumption across peers, no tickets: every call is a fresh handshake
     * with a fresh browser certificate. */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    /* No renegotiation either: a peer could make us redo handshake work at will. */
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
    if (role == RP_DTLS_SERVER) {
        SSL_CTX_set_cookie_generate_cb(ctx, cookie_generate);
        SSL_CTX_set_cookie_verify_cb(ctx, cookie_verify);
        SSL_CTX_set_options(ctx, SSL_OP_COOKIE_EXCHANGE);
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
    return ctx;
}

/* The SSL with its two BIOs. */
static bool new_ssl(struct rp_dtls *d)
{
    BIO *wbio = NULL;
    d->ssl = SSL_new(d->ctx);
    d->rbio = BIO_new(BIO_s_mem());
    if (wbio_method)
        wbio = BIO_new(wbio_method);
    if (!d->ssl || !d->rbio || !wbio) {
        BIO_free(d->rbio);
        BIO_free(wbio);
        d->rbio = NULL;
        return false;
    }
    BIO_set_mem_eof_return(d->rbio, -1);   /* empty = "want read", not EOF */
    BIO_set_data(wbio, d);
    SSL_set_bio(d->ssl, d->rbio, wbio);    /* the SSL owns both from here */
    SSL_set_app_data(d->ssl, d);
    /* Our MTU, never a query to a socket we do not have. */
    SSL_set_options(d->ssl, SSL_OP_NO_QUERY_MTU);
    if (SSL_set_mtu(d->ssl, DTLS_MTU) <= 0 || DTLS_set_link_mtu(d->ssl, DTLS_MTU) != 1)
        return false;
    if (d->role == RP_DTLS_SERVER)
        SSL_set_accept_state(d->ssl);
    else
        SSL_set_connect_state(d->ssl);
    return true;
}

struct rp_dtls *rp_dtls_new(const struct rp_dtls_cert *c, enum rp_dtls_role role, const char *peer_hash,
                            const uint8_t *peer_fp, size_t fp_len, rp_dtls_send_fn *send, void *ctx,
                            char *err, size_t errlen)
{
    const EVP_MD *md = md_by_sdp_name(peer_hash);
    if (!c || !send || !peer_fp || (role != RP_DTLS_SERVER && role != RP_DTLS_CLIENT)) {
        rp_errf(err, errlen, "dtls: bad arguments");
        return NULL;
    }
    if (!md || fp_len != (size_t)EVP_MD_size(md)) {
        rp_errf(err, errlen, "dtls: unsupported fingerprint hash or length");
        return NULL;
    }
    struct rp_dtls *d = calloc(1, sizeof *d);
    if (!d) {
        rp_errf(err, errlen, "out of memory");
        return NULL;
    }
    d->role = role;
    d->state = RP_DTLS_HANDSHAKING;
    d->peer_md = md;
    memcpy(d->peer_fp, peer_fp, fp_len);
    d->peer_fp_len = fp_len;
    d->send = send;
    d->send_ctx = ctx;
    CRYPTO_THREAD_run_once(&wbio_once, wbio_method_init);
    d->ctx = RAND_bytes(d->cookie, sizeof d->cookie) == 1 ? new_ctx(c, role) : NULL;
    if (!d->ctx || !new_ssl(d)) {
        openssl_err(err, errlen, "dtls");
        rp_dtls_free(d);
        return NULL;
    }
    ERR_clear_error();
    return d;
}

void rp_dtls_free(struct rp_dtls *d)
{
    if (!d)
        return;
    SSL_free(d->ssl);            /* frees both BIOs */
    SSL_CTX_free(d->ctx);
    OPENSSL_cleanse(d->local_key, sizeof d->local_key);
    OPENSSL_cleanse(d->remote_key, sizeof d->remote_key);
    free(d);
}

static enum rp_dtls_state fail(struct rp_dtls *d, const char *why)
{
    d->state = RP_DTLS_FAILED;
    snprintf(d->err, sizeof d->err, "%s", why);
    ERR_clear_error();
    return d->state;
}

/* RFC 5764 §4.2: client_write_SRTP_master_key, server_write_SRTP_master_key,
 * client salt, server salt. Ours go to local, the peer's to remote, each as
 * key||salt (rp_srtp_new). Exported once, at CONNECTED, so a later alert
 * cannot take the keys away mid-call. */
static bool export_keys(struct rp_dtls *d, unsigned long profile_id)
{
    size_t key_len = 16, salt_len;
    if (profile_id == SRTP_AES128_CM_SHA1_80) {
        d->suite = RP_SRTP_AES_CM_128_HMAC_SHA1_80;
        salt_len = 14;
    } else if (profile_id == SRTP_AEAD_AES_128_GCM) {
        d->suite = RP_SRTP_AEAD_AES_128_GCM;
        salt_len = 12;
    } else {
        return false;
    }
    if (key_len + salt_len != rp_srtp_key_len(d->suite))
        return false;
    uint8_t m[2 * RP_SRTP_MAX_KEY_LEN];
    size_t n = 2 * (key_len + salt_len);
    if (SSL_export_keying_material(d->ssl, m, n, EXPORTER_LABEL, strlen(EXPORTER_LABEL), NULL, 0, 0) != 1)
        return false;
    const uint8_t *client_key = m, *server_key = m + key_len;
    const uint8_t *client_salt = m + 2 * key_len, *server_salt = client_salt + salt_len;
    bool server = d->role == RP_DTLS_SERVER;
    memcpy(d->local_key, server ? server_key : client_key, key_len);
    memcpy(d->local_key + key_len, server ? server_salt : client_salt, salt_len);
    memcpy(d->remote_key, server ? client_key : server_key, key_len);
    memcpy(d->remote_key + key_len, server ? client_salt : server_salt, salt_len);
    OPENSSL_cleanse(m, sizeof m);
    return true;
}

static X509 *peer_certificate(SSL *ssl)
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    return SSL_get1_peer_certificate(ssl);
#else
    return SSL_get_peer_certificate(ssl);
#endif
}

/* The handshake finished: the fingerprint once more (whatever the verify
 * callback saw), the SRTP profile, the keys. */
static enum rp_dtls_state check_connected(struct rp_dtls *d)
{
    X509 *cert = peer_certificate(d->ssl);
    bool fp_ok = fingerprint_matches(d, cert);
    X509_free(cert);
    if (!fp_ok)
        return fail(d, "peer fingerprint does not match the SDP");
    const SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(d->ssl);
    if (!p)
        return fail(d, "no SRTP profile in common");
    if (!export_keys(d, p->id))
        return fail(d, "SRTP key export failed");
    d->state = RP_DTLS_CONNECTED;
    ERR_clear_error();
    return d->state;
}

static enum rp_dtls_state handshake(struct rp_dtls *d)
{
    int r = SSL_do_handshake(d->ssl);
    if (r == 1)
        return check_connected(d);
    int e = SSL_get_error(d->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        ERR_clear_error();
        return d->state;
    }
    if (d->fp_mismatch)
        return fail(d, "peer fingerprint does not match the SDP");
    openssl_err(d->err, sizeof d->err, "handshake");
    d->state = RP_DTLS_FAILED;
    return d->state;
}

enum rp_dtls_state rp_dtls_start(struct rp_dtls *d)
{
    ERR_clear_error();
    if (d->state == RP_DTLS_HANDSHAKING && d->role == RP_DTLS_CLIENT)
        return handshake(d);
    return d->state;
}

/* After CONNECTED: read whatever the datagram holds. Application data is
 * dropped (no data channel is offered); a retransmitted client flight makes
 * OpenSSL resend our last flight in here. A close_notify or an alert is noted
 * and nothing more: the SRTP keys stay, media may still flow. */
static void read_connected(struct rp_dtls *d)
{
    uint8_t sink[2048];
    for (int i = 0; i < READ_DRAIN_MAX; i++) {
        int r = SSL_read(d->ssl, sink, sizeof sink);
        if (r > 0)
            continue;
        int e = SSL_get_error(d->ssl, r);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
            d->peer_closed = true;
        break;
    }
    OPENSSL_cleanse(sink, sizeof sink);
}

enum rp_dtls_state rp_dtls_on_datagram(struct rp_dtls *d, const uint8_t *buf, size_t len)
{
    ERR_clear_error();
    if (d->state == RP_DTLS_FAILED || len == 0 || len > (size_t)INT32_MAX)
        return d->state;
    if (BIO_write(d->rbio, buf, (int)len) != (int)len) {
        ERR_clear_error();
        return d->state;
    }
    if (d->state == RP_DTLS_HANDSHAKING) {
        (void)handshake(d);
        /* The handshake completed in the middle of the datagram: the rest
         * (unlikely, but legal) is post-handshake. */
        if (d->state == RP_DTLS_CONNECTED && BIO_ctrl_pending(d->rbio) > 0)
            read_connected(d);
    } else {
        read_connected(d);
    }
    /* One datagram per call: whatever OpenSSL left unread (a record cut
     * short, trailing garbage) must not be glued to the next datagram. */
    (void)BIO_reset(d->rbio);
    ERR_clear_error();
    return d->state;
}

uint64_t rp_dtls_timeout_ns(struct rp_dtls *d)
{
    struct timeval tv;
    if (d->state == RP_DTLS_FAILED || DTLSv1_get_timeout(d->ssl, &tv) != 1) {
        ERR_clear_error();
        return UINT64_MAX;
    }
    ERR_clear_error();
    if (tv.tv_sec < 0 || tv.tv_usec < 0)
        return 0;
    return (uint64_t)tv.tv_sec * 1000000000u + (uint64_t)tv.tv_usec * 1000u;
}

void rp_dtls_tick(struct rp_dtls *d)
{
    ERR_clear_error();
    if (d->state != RP_DTLS_HANDSHAKING)
        return;
    /* 1: retransmitted, 0: not due; < 0: gave up (too many retransmissions). */
    if (DTLSv1_handle_timeout(d->ssl) < 0) {
        openssl_err(d->err, sizeof d->err, "handshake");
        d->state = RP_DTLS_FAILED;
    }
    ERR_clear_error();
}

enum rp_dtls_state rp_dtls_state(const struct rp_dtls *d)
{
    return d->state;
}

const char *rp_dtls_error(const struct rp_dtls *d)
{
    return d->err;
}

bool rp_dtls_peer_closed(const struct rp_dtls *d)
{
    return d->peer_closed;
}

int rp_dtls_srtp_keys(const struct rp_dtls *d, enum rp_srtp_suite *suite, uint8_t local[RP_SRTP_MAX_KEY_LEN],
                      uint8_t remote[RP_SRTP_MAX_KEY_LEN])
{
    if (d->state != RP_DTLS_CONNECTED)
        return -1;
    size_t n = rp_srtp_key_len(d->suite);
    *suite = d->suite;
    memcpy(local, d->local_key, n);
    memcpy(remote, d->remote_key, n);
    return 0;
}
