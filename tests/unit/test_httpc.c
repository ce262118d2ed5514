/* The control client: causes from curl's facts, the words for them, the
 * --server URL, --timeout, the verbose trace's redaction, and real requests
 * against a small HTTP server on an ephemeral loopback port (a thread here). */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <openssl/x509_vfy.h>

#include "cli.h"
#include "httpc.h"
#include "timeutil.h"

/* ---- classifier ---- */

static enum rp_httpc_cause classify(int rc, long connect_code, long verify, long os_errno, bool at_proxy,
                                    const char *errbuf)
{
    struct rp_httpc_facts f = { .rc = rc, .connect_code = connect_code, .verify_result = verify,
                                .os_errno = os_errno, .at_proxy = at_proxy, .errbuf = errbuf };
    return rp_httpc_classify(&f);
}

static void test_classify_connection_failures(void **state)
{
    (void)state;
    assert_int_equal(classify(CURLE_OK, 0, 0, 0, false, ""), RP_HTTPC_OK);
    assert_int_equal(classify(CURLE_OPERATION_TIMEDOUT, 0, 0, 0, false, ""), RP_HTTPC_TIMEOUT);
    assert_int_equal(classify(CURLE_COULDNT_RESOLVE_HOST, 0, 0, 0, false, ""), RP_HTTPC_RESOLVE);
    assert_int_equal(classify(CURLE_COULDNT_CONNECT, 0, 0, ECONNREFUSED, false, ""), RP_HTTPC_REFUSED);
    assert_int_equal(classify(CURLE_COULDNT_CONNECT, 0, 0, EHOSTUNREACH, false, ""), RP_HTTPC_UNREACHABLE);
    assert_int_equal(classify(CURLE_GOT_NOTHING, 0, 0, 0, false, ""), RP_HTTPC_CLOSED);
    assert_int_equal(classify(CURLE_SEND_ERROR, 0, 0, EPIPE, false, ""), RP_HTTPC_CLOSED);
    assert_int_equal(classify(CURLE_OUT_OF_MEMORY, 0, 0, 0, false, ""), RP_HTTPC_NOMEM);
    /* Our write callback's realloc failed: curl says only "write error". */
    struct rp_httpc_facts wr = { .rc = CURLE_WRITE_ERROR, .response_code = 201, .body_nomem = true, .errbuf = "" };
    assert_int_equal(rp_httpc_classify(&wr), RP_HTTPC_NOMEM);
    /* After a status line: a header over curl's 100 KB line limit. */
    struct rp_httpc_facts big = { .rc = CURLE_OUT_OF_MEMORY, .response_code = 201, .errbuf = "" };
    assert_int_equal(rp_httpc_classify(&big), RP_HTTPC_NOT_HTTP);
    assert_int_equal(classify(CURLE_SSL_CONNECT_ERROR, 0, 0, 0, false, "wrong version number"), RP_HTTPC_TLS);
}

static void test_classify_proxy_failures(void **state)
{
    (void)state;
    assert_int_equal(classify(CURLE_COULDNT_RESOLVE_PROXY, 0, 0, 0, true, ""), RP_HTTPC_PROXY_RESOLVE);
    /* A refused connection to the proxy is the proxy's fault, not the daemon's. */
    assert_int_equal(classify(CURLE_COULDNT_CONNECT, 0, 0, ECONNREFUSED, true, ""), RP_HTTPC_PROXY_UNREACHABLE);
    /* curl 7.88 ends a refused CONNECT with RECV_ERROR; the status decides. */
    assert_int_equal(classify(CURLE_RECV_ERROR, 403, 0, 0, true, "CONNECT tunnel failed, response 403"),
                     RP_HTTPC_PROXY_REFUSED);
    assert_int_equal(classify(CURLE_COULDNT_CONNECT, 502, 0, 0, true, ""), RP_HTTPC_PROXY_REFUSED);
    /* A CONNECT that worked says nothing about a later failure. */
    assert_int_equal(classify(CURLE_OPERATION_TIMEDOUT, 200, 0, 0, false, ""), RP_HTTPC_TIMEOUT);
}

static void test_failed_connect_is_at_the_proxy_only_by_facts(void **state)
{
    (void)state;
    const char *px = "http://alice:pw@proxy.corp:3128";
    /* curl tried the proxy's port. */
    assert_true(rp_httpc_failed_at_proxy(px, 3128, "daemon.example", 8743, ""));
    /* Port not known: only curl's text can tell. */
    assert_false(rp_httpc_failed_at_proxy(px, 0, "daemon.example", 8743, ""));
    assert_true(rp_httpc_failed_at_proxy(px, 0, "daemon.example", 8743,
                                         "Failed to connect to proxy.corp port 3128 after 0 ms: Connection refused"));
    /* no_proxy sent it straight to the daemon: its refusal is the daemon's. */
    assert_false(rp_httpc_failed_at_proxy(px, 8743, "daemon.example", 8743,
                                          "Failed to connect to daemon.example port 8743 after 0 ms: Connection refused"));
    assert_false(rp_httpc_failed_at_proxy(px, 0, "daemon.example", 8743,
                                          "Failed to connect to proxy.corp port 31280 after 0 ms"));
    /* No proxy at all, default ports, brackets. */
    assert_false(rp_httpc_failed_at_proxy(NULL, 3128, "d", 8743, ""));
    assert_false(rp_httpc_failed_at_proxy("", 3128, "d", 8743, ""));
    assert_true(rp_httpc_failed_at_proxy("proxy.corp", 1080, "d", 8743, ""));
    assert_true(rp_httpc_failed_at_proxy("https://proxy.corp", 443, "d", 8743, ""));
    assert_true(rp_httpc_failed_at_proxy("http://[fd00::1]:3128", 0, "d", 8743,
                                         "Failed to connect to fd00::1 port 3128 after 1 ms: No route to host"));
    /* Proxy and daemon on the same port: the port alone says nothing. */
    assert_false(rp_httpc_failed_at_proxy("http://p:443", 443, "d", 443, ""));
    assert_true(rp_httpc_failed_at_proxy("http://p:443", 443, "d", 443, "Failed to connect to p port 443 after 3 ms"));
}

static void test_classify_certificates(void **state)
{
    (void)state;
    const char *mismatch = "SSL: no alternative certificate subject name matches target host name '127.0.0.1'";
    assert_int_equal(classify(CURLE_PEER_FAILED_VERIFICATION, 0, X509_V_ERR_UNSPECIFIED, 0, false, mismatch),
                     RP_HTTPC_CERT_MISMATCH);
    assert_int_equal(classify(CURLE_PEER_FAILED_VERIFICATION, 0, X509_V_OK, 0, false, mismatch),
                     RP_HTTPC_CERT_MISMATCH);
    assert_int_equal(classify(CURLE_PEER_FAILED_VERIFICATION, 0, X509_V_ERR_HOSTNAME_MISMATCH, 0, false, ""),
                     RP_HTTPC_CERT_MISMATCH);
    assert_int_equal(classify(CURLE_PEER_FAILED_VERIFICATION, 0, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, 0, false,
                              "SSL certificate problem: self-signed certificate"),
                     RP_HTTPC_CERT_UNTRUSTED);
    assert_int_equal(classify(CURLE_PEER_FAILED_VERIFICATION, 0, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, 0,
                              false, ""),
                     RP_HTTPC_CERT_UNTRUSTED);
    assert_int_equal(classify(CURLE_SSL_CACERT_BADFILE, 0, 0, 0, false, ""), RP_HTTPC_CACERT_FILE);
}

static void test_classify_bad_answers(void **state)
{
    (void)state;
    assert_int_equal(classify(CURLE_WEIRD_SERVER_REPLY, 0, 0, 0, false, ""), RP_HTTPC_NOT_HTTP);
    assert_int_equal(classify(CURLE_UNSUPPORTED_PROTOCOL, 0, 0, 0, false, "Received HTTP/0.9 when not allowed"),
                     RP_HTTPC_NOT_HTTP);
    assert_int_equal(classify(CURLE_RECV_ERROR, 0, 0, 0, false,
                              "Illegal or missing hexadecimal sequence in chunked-encoding"),
                     RP_HTTPC_NOT_HTTP);
    assert_int_equal(classify(CURLE_RECV_ERROR, 0, 0, 0, false, "Too large response headers: 307864 > 307200"),
                     RP_HTTPC_NOT_HTTP);
    assert_int_equal(classify(CURLE_RECV_ERROR, 0, 0, ECONNRESET, false, "Recv failure: Connection reset by peer"),
                     RP_HTTPC_CLOSED);
    assert_int_equal(classify(CURLE_FILESIZE_EXCEEDED, 0, 0, 0, false, ""), RP_HTTPC_TOO_LARGE);
    struct rp_httpc_facts f = { .rc = CURLE_WRITE_ERROR, .body_too_large = true, .errbuf = "" };
    assert_int_equal(rp_httpc_classify(&f), RP_HTTPC_TOO_LARGE);
    f.body_too_large = false;
    assert_int_equal(rp_httpc_classify(&f), RP_HTTPC_OTHER);
}

/* The phrases the tests of the whole probe grep for (docs/control-client.md). */
static void test_cause_names_carry_the_documented_words(void **state)
{
    (void)state;
    static const struct { enum rp_httpc_cause c; const char *word; } want[] = {
        { RP_HTTPC_TIMEOUT, "timed out" },           { RP_HTTPC_RESOLVE, "cannot resolve" },
        { RP_HTTPC_REFUSED, "refused" },             { RP_HTTPC_PROXY_REFUSED, "proxy" },
        { RP_HTTPC_PROXY_UNREACHABLE, "proxy" },     { RP_HTTPC_PROXY_RESOLVE, "proxy" },
        { RP_HTTPC_NOT_HTTP, "not valid http" },     { RP_HTTPC_TOO_LARGE, "too large" },
        { RP_HTTPC_CERT_MISMATCH, "mismatch" },      { RP_HTTPC_CERT_UNTRUSTED, "not trusted" },
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_non_null(strcasestr(rp_httpc_cause_name(want[i].c), want[i].word));
    for (int c = 0; c < RP_HTTPC_NCAUSES; c++)
        assert_non_null(rp_httpc_cause_name((enum rp_httpc_cause)c));
}

/* ---- URL ---- */

static void test_url_defaults_ports_and_strips_the_prefix_slash(void **state)
{
    (void)state;
    struct rp_httpc_url u;
    char err[256];
    assert_int_equal(rp_httpc_parse_url("https://media.example.com", &u, err, sizeof err), 0);
    assert_true(u.tls);
    assert_int_equal(u.port, 443);
    assert_string_equal(u.hostport, "media.example.com:443");
    assert_string_equal(u.prefix, "");
    assert_int_equal(rp_httpc_parse_url("http://h:8080/rtpprobe/", &u, err, sizeof err), 0);
    assert_false(u.tls);
    assert_int_equal(u.port, 8080);
    assert_string_equal(u.prefix, "/rtpprobe");
    assert_int_equal(rp_httpc_parse_url("https://[2001:db8::1]:8443/x", &u, err, sizeof err), 0);
    assert_string_equal(u.host, "2001:db8::1");
    assert_string_equal(u.hostport, "[2001:db8::1]:8443");
    assert_string_equal(u.prefix, "/x");
    assert_int_equal(rp_httpc_parse_url("HTTPS://h/", &u, err, sizeof err), 0);
    assert_string_equal(u.prefix, "");
}

static void test_url_rejects_what_no_request_can_be_built_from(void **state)
{
    (void)state;
    struct rp_httpc_url u;
    char err[256];
    static const char *const bad[] = {
        "ftp://h", "h:8443", "https://", "https://:8443", "https://h:0", "https://h:65536", "https://h:",
        "https://h:12x", "https://[::1", "https://[::1]x", "https://user@h", "https://h/a b", "https://h/\r\nX: y",
        "https://h/?q=1", "https://h/#f",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(rp_httpc_parse_url(bad[i], &u, err, sizeof err), -1);
        assert_true(err[0] != '\0');
    }
    /* Credentials in the URL are refused by name and never quoted (the message
     * reaches stderr, the journal and the Nagios line). */
    static const char *const creds[] = { "https://alice:s3cret@h/", "https://alice:s3cret@h:8443/x",
                                         "https://alice:s3cret@[::1]:8443", "ftp://alice:s3cret@h" };
    for (size_t i = 0; i < sizeof creds / sizeof creds[0]; i++) {
        assert_int_equal(rp_httpc_parse_url(creds[i], &u, err, sizeof err), -1);
        assert_null(strstr(err, "s3cret"));
        assert_null(strstr(err, "alice"));
    }
    assert_int_equal(rp_httpc_parse_url("https://alice:s3cret@h/", &u, err, sizeof err), -1);
    assert_non_null(strstr(err, "user:password@"));
}

/* ---- redaction ---- */

static void test_redaction_hides_the_token_keeps_the_scheme(void **state)
{
    (void)state;
    char out[256];
    const char *line = "Authorization: Bearer s3cr3t-t0ken";
    size_t n = rp_httpc_redact_line(line, strlen(line), out, sizeof out);
    assert_string_equal(out, "Authorization: Bearer [redacted]");
    assert_int_equal(n, strlen(out));
    line = "authorization:   Bearer s3cr3t";
    rp_httpc_redact_line(line, strlen(line), out, sizeof out);
    assert_null(strstr(out, "s3cr3t"));
    line = "Proxy-Authorization: Basic dXNlcjpwYXNz";
    rp_httpc_redact_line(line, strlen(line), out, sizeof out);
    assert_string_equal(out, "Proxy-Authorization: Basic [redacted]");
    /* A bare value (no scheme) goes as well. */
    line = "Authorization: s3cr3t";
    rp_httpc_redact_line(line, strlen(line), out, sizeof out);
    assert_string_equal(out, "Authorization: [redacted]");
}

static void test_redaction_leaves_other_lines_and_bounds(void **state)
{
    (void)state;
    char out[256], tiny[12];
    const char *line = "Content-Type: application/json";
    rp_httpc_redact_line(line, strlen(line), out, sizeof out);
    assert_string_equal(out, line);
    /* Only the given length is read: the trace's lines are not NUL-terminated. */
    rp_httpc_redact_line("Host: a\r\nAuthorization: Bearer x", 7, out, sizeof out);
    assert_string_equal(out, "Host: a");
    line = "Authorization: Bearer s3cr3t";
    size_t n = rp_httpc_redact_line(line, strlen(line), tiny, sizeof tiny);
    assert_true(n < sizeof tiny);
    assert_int_equal(strlen(tiny), n);
    assert_null(strstr(tiny, "s3cr3t"));
    assert_int_equal(rp_httpc_redact_line(line, strlen(line), out, 0), 0);
}

static void test_proxy_credentials_are_cut_from_urls(void **state)
{
    (void)state;
    char out[128], tiny[8];
    rp_httpc_strip_userinfo("http://user:pa@ss@proxy.corp:3128/x", out, sizeof out);
    assert_string_equal(out, "http://proxy.corp:3128/x");
    rp_httpc_strip_userinfo("user:secret@10.0.0.1:3128", out, sizeof out);
    assert_string_equal(out, "10.0.0.1:3128");
    rp_httpc_strip_userinfo("http://[::1]:3128", out, sizeof out);
    assert_string_equal(out, "http://[::1]:3128");
    /* An '@' after the authority is not a user's. */
    rp_httpc_strip_userinfo("http://proxy:3128/a@b", out, sizeof out);
    assert_string_equal(out, "http://proxy:3128/a@b");
    size_t n = rp_httpc_strip_userinfo("http://u:p@h:1", tiny, sizeof tiny);
    assert_int_equal(n, strlen(tiny));
    assert_null(strstr(tiny, "p@"));
    assert_int_equal(rp_httpc_strip_userinfo("x", out, 0), 0);
}

static void test_redaction_hides_proxy_credentials_in_curls_text(void **state)
{
    (void)state;
    char out[256];
    const char *line = "Uses proxy env variable https_proxy == 'http://alice:s3cr3t@proxy.corp:3128'";
    rp_httpc_redact_line(line, strlen(line), out, sizeof out);
    assert_string_equal(out, "Uses proxy env variable https_proxy == 'http://[redacted]@proxy.corp:3128'");
    line = "Uses proxy env variable HTTPS_PROXY == 'alice:s3cr3t@proxy.corp:3128'";
    rp_httpc_redact_line(line, strlen(line), out, sizeof out);
    assert_string_equal(out, "Uses proxy env variable HTTPS_PROXY == '[redacted]@proxy.corp:3128'");
    /* An '@' inside the password: nothing of it shows. */
    line = "Uses proxy env variable https_proxy == 'http://u:pa@ss@proxy:3128'";
    rp_httpc_redact_line(line, strlen(line), out, sizeof out);
    assert_string_equal(out, "Uses proxy env variable https_proxy == 'http://[redacted]@proxy:3128'");
    line = "Proxy-Authorization: Basic YWxpY2U6czNjcjN0";
    rp_httpc_redact_line(line, strlen(line), out, sizeof out);
    assert_string_equal(out, "Proxy-Authorization: Basic [redacted]");
    /* Not credentials: left alone. */
    line = "Link: <http://h/a@b>; x=mail@example.org";
    rp_httpc_redact_line(line, strlen(line), out, sizeof out);
    assert_string_equal(out, line);
}

static void test_control_characters_from_the_server_become_question_marks(void **state)
{
    (void)state;
    char s[] = "HTTP 403: \x1b]0;owned\x07 \x1b[2J\r\nX\x7f\t\xc3\xa9";
    size_t len = sizeof s - 1;
    assert_int_equal(rp_httpc_clean_text(s, len), 7);
    assert_string_equal(s, "HTTP 403: ?]0;owned? ?[2J??X??\xc3\xa9"); /* UTF-8 stays */
    char nul[] = { 'a', '\0', 'b', '\0' };
    assert_int_equal(rp_httpc_clean_text(nul, 3), 1);
    assert_string_equal(nul, "a?b");
    /* The trace's lines go through the redaction, then the cleaning. */
    char out[64];
    const char *line = "X-Evil: \x1b[31mred";
    size_t n = rp_httpc_redact_line(line, strlen(line), out, sizeof out);
    rp_httpc_clean_text(out, n);
    assert_string_equal(out, "X-Evil: ?[31mred");
}

/* ---- real requests: a plain HTTP server thread on an ephemeral port ---- */

enum srv_mode { SRV_OK_KEEPALIVE, SRV_CLOSE_AFTER, SRV_SILENT, SRV_BAD_CHUNK, SRV_HUGE_BODY, SRV_NOT_HTTP,
                SRV_WATCHED };

struct srv {
    int lfd;
    uint16_t port;
    enum srv_mode mode;
    int accepted, requests;
    pthread_t thread;
    /* SRV_WATCHED: datagrams sent to udp_port before the answer, which waits
     * (5 s at most) until the client's watch has read them all. */
    atomic_int udp_port;       /* set after the thread started */
    atomic_int read_by_watch;
    bool answered_after_all_read;
};

/* Reads one request head (and the short body the tests send). */
static int read_request(int fd)
{
    char buf[8192];
    size_t len = 0;
    while (len < sizeof buf - 1) {
        ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
        if (n <= 0)
            return -1;
        len += (size_t)n;
        buf[len] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        const char *cl = strcasestr(buf, "Content-Length:");
        if (end && (!cl || len >= (size_t)(end + 4 - buf) + (size_t)atoi(cl + 15)))
            return 0;
    }
    return -1;
}

static void write_all(int fd, const char *s, size_t len)
{
    while (len > 0) {
        /* MSG_NOSIGNAL: the client may have hung up (a giant body it refused);
         * SIGPIPE would end the whole test program. */
        ssize_t n = send(fd, s, len, MSG_NOSIGNAL);
        if (n <= 0)
            return;
        s += n;
        len -= (size_t)n;
    }
}

#define WATCHED_DATAGRAMS 50

/* Sends the datagrams, waits for the client's watch to take them, answers. */
static void serve_watched(struct srv *s, int fd, const char *ok, size_t oklen)
{
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atomic_load(&s->udp_port)),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    for (int i = 0; i < WATCHED_DATAGRAMS; i++)
        (void)sendto(u, "rtp", 3, 0, (struct sockaddr *)&to, sizeof to);
    close(u);
    for (int i = 0; i < 500 && atomic_load(&s->read_by_watch) < WATCHED_DATAGRAMS; i++)
        usleep(10 * 1000);
    s->answered_after_all_read = atomic_load(&s->read_by_watch) == WATCHED_DATAGRAMS;
    write_all(fd, ok, oklen);
}

static void serve_conn(struct srv *s, int fd)
{
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n"
                             "{\"a\": true}";
    while (read_request(fd) == 0) {
        s->requests++;
        if (s->mode == SRV_SILENT) {
            usleep(1500 * 1000);
            return;
        } else if (s->mode == SRV_OK_KEEPALIVE) {
            write_all(fd, ok, sizeof ok - 1);
        } else if (s->mode == SRV_CLOSE_AFTER) {
            /* Kept alive by its headers, closed after each answer: as
             * rtpprobed closes an idle connection. */
            write_all(fd, ok, sizeof ok - 1);
            return;
        } else if (s->mode == SRV_BAD_CHUNK) {
            const char r[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n";
            write_all(fd, r, sizeof r - 1);
            return;
        } else if (s->mode == SRV_WATCHED) {
            serve_watched(s, fd, ok, sizeof ok - 1);
        } else if (s->mode == SRV_NOT_HTTP) {
            write_all(fd, "SSH-2.0-OpenSSH_9.2\r\n", 21);
            return;
        } else {
            static char chunk[64 * 1024];
            memset(chunk, 'a', sizeof chunk);
            const char h[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n";
            write_all(fd, h, sizeof h - 1);
            for (int i = 0; i < 40; i++) /* 2.5 MiB, no length given */
                write_all(fd, chunk, sizeof chunk);
            return;
        }
    }
}

static void *srv_main(void *arg)
{
    struct srv *s = arg;
    for (;;) {
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0)
            return NULL;
        s->accepted++;
        serve_conn(s, fd);
        close(fd);
    }
}

/* On ::1 or 127.0.0.1 at `port` (0 = any); -1 if it cannot bind. */
static int srv_start_on(struct srv *s, enum srv_mode mode, int family, uint16_t port)
{
    memset(s, 0, sizeof *s);
    s->mode = mode;
    s->lfd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = IN6ADDR_LOOPBACK_INIT };
    struct sockaddr *sa = family == AF_INET6 ? (struct sockaddr *)&sin6 : (struct sockaddr *)&sin;
    socklen_t sl = family == AF_INET6 ? sizeof sin6 : sizeof sin;
    int one = 1;
    (void)setsockopt(s->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (s->lfd < 0 || bind(s->lfd, sa, sl) < 0) {
        if (s->lfd >= 0)
            close(s->lfd);
        return -1;
    }
    assert_int_equal(listen(s->lfd, 4), 0);
    assert_int_equal(getsockname(s->lfd, sa, &sl), 0);
    s->port = ntohs(family == AF_INET6 ? sin6.sin6_port : sin.sin_port);
    assert_int_equal(pthread_create(&s->thread, NULL, srv_main, s), 0);
    return 0;
}

static void srv_start(struct srv *s, enum srv_mode mode)
{
    assert_int_equal(srv_start_on(s, mode, AF_INET, 0), 0);
}

static void srv_stop(struct srv *s)
{
    shutdown(s->lfd, SHUT_RDWR);
    close(s->lfd);
    pthread_join(s->thread, NULL);
}

static struct rp_httpc *client_for(const struct srv *s, const char *prefix)
{
    char url[128], err[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", s->port, prefix);
    /* --proxy "" keeps the test's requests off any proxy of the environment. */
    struct rp_httpc_opts o = { .token = "t0ken", .proxy = "", .timeout_ms = 5000 };
    struct rp_httpc *c = rp_httpc_new(url, &o, err, sizeof err);
    assert_non_null(c);
    return c;
}

static void test_requests_reuse_one_connection(void **state)
{
    (void)state;
    struct srv s;
    srv_start(&s, SRV_OK_KEEPALIVE);
    struct rp_httpc *c = client_for(&s, "/rtpprobe/");
    char err[512];
    int status;
    json_t *resp, *body = json_pack("{s:s}", "peer", "1.2.3.4:5");
    const char *methods[] = { "POST", "PATCH", "PATCH", "DELETE" };
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(rp_httpc_request(c, methods[i], "/v1/sessions", i < 3 ? body : NULL, &status, &resp, err,
                                          sizeof err), 0);
        assert_int_equal(status, 200);
        assert_true(json_is_true(json_object_get(resp, "a")));
        json_decref(resp);
    }
    struct sockaddr_storage media;
    assert_int_equal(rp_httpc_media_host(c, &media, err, sizeof err), 0);
    assert_int_equal(media.ss_family, AF_INET);
    assert_int_equal(ntohl(((struct sockaddr_in *)&media)->sin_addr.s_addr), INADDR_LOOPBACK);
    assert_null(rp_httpc_pin(c)); /* an address in --server: nothing to pin */
    json_decref(body);
    rp_httpc_free(c);
    srv_stop(&s);
    assert_int_equal(s.requests, 4);
    assert_int_equal(s.accepted, 1);
}

/* The daemon closes the idle connection; curl reconnects, and must go to the
 * address it used first, not to another one of the name (here: "localhost"
 * is 127.0.0.1 where the daemon is, and ::1 where another server comes up
 * after the first request, which curl would try first). */
static void test_reconnect_is_pinned_to_the_first_address(void **state)
{
    (void)state;
    struct srv a, b;
    srv_start(&a, SRV_CLOSE_AFTER);
    char url[128], err[512];
    snprintf(url, sizeof url, "http://localhost:%u", a.port);
    struct rp_httpc_opts o = { .token = "t0ken", .proxy = "", .timeout_ms = 5000 };
    struct rp_httpc *c = rp_httpc_new(url, &o, err, sizeof err);
    assert_non_null(c);
    int status;
    json_t *resp;
    assert_int_equal(rp_httpc_request(c, "POST", "/v1/sessions", NULL, &status, &resp, err, sizeof err), 0);
    json_decref(resp);
    struct sockaddr_storage media;
    assert_int_equal(rp_httpc_media_host(c, &media, err, sizeof err), 0);
    assert_int_equal(media.ss_family, AF_INET);
    assert_int_equal(ntohl(((struct sockaddr_in *)&media)->sin_addr.s_addr), INADDR_LOOPBACK);
    char pin[300];
    snprintf(pin, sizeof pin, "localhost:%u:127.0.0.1", a.port);
    assert_non_null(rp_httpc_pin(c));
    assert_string_equal(rp_httpc_pin(c), pin);
    /* Where "localhost" is not ::1 too (/etc/hosts), this part proves nothing more. */
    bool other = srv_start_on(&b, SRV_OK_KEEPALIVE, AF_INET6, a.port) == 0;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(rp_httpc_request(c, "PATCH", "/v1/sessions/x", NULL, &status, &resp, err, sizeof err), 0);
        json_decref(resp);
    }
    rp_httpc_free(c);
    srv_stop(&a);
    if (other) {
        srv_stop(&b);
        assert_int_equal(b.accepted, 0);
    }
    assert_int_equal(a.requests, 3);
    assert_int_equal(a.accepted, 3);
}

/* Runs one request against a server in `mode`; returns how long it took, the message in err. */
static uint64_t fail_one(enum srv_mode mode, uint64_t deadline_in_ns, char *err, size_t errlen)
{
    struct srv s;
    srv_start(&s, mode);
    struct rp_httpc *c = client_for(&s, "");
    if (deadline_in_ns)
        rp_httpc_set_deadline(c, rp_monotonic_ns() + deadline_in_ns);
    int status;
    json_t *resp = NULL;
    uint64_t t0 = rp_monotonic_ns();
    assert_int_equal(rp_httpc_request(c, "POST", "/v1/sessions", NULL, &status, &resp, err, errlen), -1);
    uint64_t took = rp_monotonic_ns() - t0;
    assert_null(resp);
    rp_httpc_free(c);
    srv_stop(&s);
    return took;
}

static void test_deadline_ends_a_silent_server(void **state)
{
    (void)state;
    char err[512];
    uint64_t took = fail_one(SRV_SILENT, 300 * NS_PER_MS, err, sizeof err);
    assert_non_null(strstr(err, "timed out"));
    assert_non_null(strstr(err, "127.0.0.1:"));
    assert_true(took < 1400 * NS_PER_MS); /* the server would hold 1.5 s */
}

struct watched { int fd; struct srv *s; };

static bool take_datagrams(void *arg)
{
    struct watched *w = arg;
    char b[16];
    while (recv(w->fd, b, sizeof b, MSG_DONTWAIT) > 0)
        atomic_fetch_add(&w->s->read_by_watch, 1);
    return true;
}

/* The probe's stop request: the answer comes only once the datagrams that
 * arrived meanwhile were read, which only the watch can do. */
static void test_a_watched_fd_is_read_while_the_request_waits(void **state)
{
    (void)state;
    struct srv s;
    int u = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof a;
    assert_int_equal(bind(u, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(u, (struct sockaddr *)&a, &al), 0);
    srv_start(&s, SRV_WATCHED);
    atomic_store(&s.udp_port, ntohs(a.sin_port));
    struct rp_httpc *c = client_for(&s, "");
    struct watched w = { .fd = u, .s = &s };
    rp_httpc_watch(c, u, take_datagrams, &w);
    int status = 0;
    json_t *resp = NULL;
    char err[256];
    assert_int_equal(rp_httpc_request(c, "PATCH", "/v1/x", NULL, &status, &resp, err, sizeof err), 0);
    assert_int_equal(status, 200);
    json_decref(resp);
    rp_httpc_free(c);
    srv_stop(&s);
    close(u);
    assert_true(s.answered_after_all_read);
}

static void test_no_time_left_fails_at_once(void **state)
{
    (void)state;
    char err[512];
    struct srv s;
    srv_start(&s, SRV_OK_KEEPALIVE);
    struct rp_httpc *c = client_for(&s, "");
    rp_httpc_set_deadline(c, rp_monotonic_ns() - 1);
    assert_int_equal(rp_httpc_time_left(c), 0);
    int status;
    json_t *resp;
    assert_int_equal(rp_httpc_request(c, "DELETE", "/v1/sessions/x", NULL, &status, &resp, err, sizeof err), -1);
    assert_non_null(strstr(err, "timed out"));
    rp_httpc_free(c);
    srv_stop(&s);
    assert_int_equal(s.requests, 0);
}

static void test_bad_answers_are_named(void **state)
{
    (void)state;
    char err[512];
    fail_one(SRV_BAD_CHUNK, 0, err, sizeof err);
    assert_non_null(strcasestr(err, "not valid http"));
    fail_one(SRV_HUGE_BODY, 0, err, sizeof err);
    assert_non_null(strcasestr(err, "too large"));
    fail_one(SRV_NOT_HTTP, 0, err, sizeof err);
    assert_non_null(strcasestr(err, "not valid http"));
}

static void test_refused_port_is_named(void **state)
{
    (void)state;
    /* A port just closed: nothing listens there. */
    struct srv s;
    srv_start(&s, SRV_OK_KEEPALIVE);
    struct rp_httpc *c = client_for(&s, "");
    srv_stop(&s);
    char err[512];
    int status;
    json_t *resp;
    assert_int_equal(rp_httpc_request(c, "POST", "/v1/sessions", NULL, &status, &resp, err, sizeof err), -1);
    assert_non_null(strstr(err, "refused"));
    rp_httpc_free(c);
}

static void test_path_with_control_characters_is_refused(void **state)
{
    (void)state;
    struct srv s;
    srv_start(&s, SRV_OK_KEEPALIVE);
    struct rp_httpc *c = client_for(&s, "");
    char err[512];
    int status;
    json_t *resp;
    assert_int_equal(rp_httpc_request(c, "DELETE", "/v1/sessions/a\r\nX-Evil: 1", NULL, &status, &resp, err,
                                      sizeof err), -1);
    rp_httpc_free(c);
    srv_stop(&s);
    assert_int_equal(s.requests, 0);
}

static int setup_curl(void **state)
{
    (void)state;
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static int teardown_curl(void **state)
{
    (void)state;
    curl_global_cleanup();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify_connection_failures),
        cmocka_unit_test(test_classify_proxy_failures),
        cmocka_unit_test(test_failed_connect_is_at_the_proxy_only_by_facts),
        cmocka_unit_test(test_classify_certificates),
        cmocka_unit_test(test_classify_bad_answers),
        cmocka_unit_test(test_cause_names_carry_the_documented_words),
        cmocka_unit_test(test_url_defaults_ports_and_strips_the_prefix_slash),
        cmocka_unit_test(test_url_rejects_what_no_request_can_be_built_from),
        cmocka_unit_test(test_redaction_hides_the_token_keeps_the_scheme),
        cmocka_unit_test(test_redaction_leaves_other_lines_and_bounds),
        cmocka_unit_test(test_proxy_credentials_are_cut_from_urls),
        cmocka_unit_test(test_control_characters_from_the_server_become_question_marks),
        cmocka_unit_test(test_redaction_hides_proxy_credentials_in_curls_text),
        cmocka_unit_test(test_requests_reuse_one_connection),
        cmocka_unit_test(test_reconnect_is_pinned_to_the_first_address),
        cmocka_unit_test(test_deadline_ends_a_silent_server),
        cmocka_unit_test(test_a_watched_fd_is_read_while_the_request_waits),
        cmocka_unit_test(test_no_time_left_fails_at_once),
        cmocka_unit_test(test_bad_answers_are_named),
        cmocka_unit_test(test_refused_port_is_named),
        cmocka_unit_test(test_path_with_control_characters_is_refused),
    };
    return cmocka_run_group_tests(tests, setup_curl, teardown_curl);
}
