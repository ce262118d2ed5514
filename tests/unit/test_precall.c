/* The embedded pre-call page: one HTML document whose only script and style are
 * inline and allowed by the served Content-Security-Policy through their SHA-256
 * (recomputed here with OpenSSL from the bytes the daemon serves), that names no
 * other origin, and that rp_precall_serve delivers with its security headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <sys/socket.h>

#include "precall.h"

static const char *page(void)
{
    return (const char *)rp_precall_page;
}

/* Occurrences of needle in the page, case-insensitive. */
static unsigned count_ci(const char *needle)
{
    unsigned n = 0;
    size_t nl = strlen(needle);
    for (size_t i = 0; i + nl <= rp_precall_page_len; i++)
        n += strncasecmp(page() + i, needle, nl) == 0;
    return n;
}

/* The text between open and close (the one inline element of that kind). */
static const char *element(const char *open, const char *close, size_t *len)
{
    const char *a = strstr(page(), open);
    assert_non_null(a);
    a += strlen(open);
    const char *b = strstr(a, close);
    assert_non_null(b);
    *len = (size_t)(b - a);
    return a;
}

static void csp_source(const char *text, size_t len, char *out, size_t cap)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    unsigned char b64[64];
    assert_int_equal(EVP_Digest(text, len, md, &mdlen, EVP_sha256(), NULL), 1);
    assert_int_equal(mdlen, 32);
    EVP_EncodeBlock(b64, md, (int)mdlen);
    snprintf(out, cap, "'sha256-%s'", (const char *)b64);
}

static void test_page_is_one_html_document(void **state)
{
    (void)state;
    assert_true(rp_precall_page_len > 1000);
    assert_int_equal(strlen(page()), rp_precall_page_len); /* NUL after it, none inside */
    assert_memory_equal(page(), "<!DOCTYPE html>", 15);
    assert_non_null(strstr(page(), "</html>"));
    assert_non_null(strstr(page(), "<meta charset=\"utf-8\">"));
    /* What tests and the lead's glue rely on. */
    assert_non_null(strstr(page(), "id=\"start\""));
    assert_non_null(strstr(page(), "rtpprobeResult"));
    assert_non_null(strstr(page(), "dataset.state"));
}

static void test_csp_hashes_match_the_inline_script_and_style(void **state)
{
    (void)state;
    /* One of each, both inline: the generator replaced the file references. */
    assert_int_equal(count_ci("<script"), 1);
    assert_int_equal(count_ci("<style"), 1);
    assert_int_equal(count_ci("precall.js"), 0);
    assert_int_equal(count_ci("precall.css"), 0);
    char want[128], pol[256];
    size_t len;
    const char *js = element("<script>", "</script>", &len);
    csp_source(js, len, want, sizeof want);
    snprintf(pol, sizeof pol, "script-src %s;", want);
    assert_non_null(strstr(rp_precall_csp, pol));
    const char *css = element("<style>", "</style>", &len);
    csp_source(css, len, want, sizeof want);
    snprintf(pol, sizeof pol, "style-src %s;", want);
    assert_non_null(strstr(rp_precall_csp, pol));
    assert_non_null(strstr(rp_precall_csp, "default-src 'none';"));
    assert_non_null(strstr(rp_precall_csp, "connect-src 'self';"));
    assert_null(strstr(rp_precall_csp, "unsafe"));
    assert_null(strstr(rp_precall_csp, "http"));
    assert_null(strchr(rp_precall_csp, '*'));
}

static void test_page_names_no_other_origin(void **state)
{
    (void)state;
    assert_int_equal(count_ci("http://"), 0);
    assert_int_equal(count_ci("https://"), 0);
    assert_int_equal(count_ci("src=\"//"), 0);
    assert_int_equal(count_ci("href=\"//"), 0);
    assert_int_equal(count_ci(" src="), 0);        /* nothing loaded by reference */
    size_t len;
    const char *css = element("<style>", "</style>", &len);
    assert_null(memmem(css, len, "@import", 7));
    assert_null(memmem(css, len, "url(", 4));
    /* The one href: the empty icon (no favicon request). */
    assert_int_equal(count_ci("href="), 1);
    assert_non_null(strstr(page(), "href=\"data:,\""));
}

/* ---- rp_precall_serve on a loopback evhttp server, asked by an evhttp client. */
struct reply {
    struct event_base *base;
    int code;
    char ctype[64], csp[512], cache[32], nosniff[32], referrer[32], allow[32];
    unsigned char *body;
    size_t body_len;
};

static void copy_header(struct evkeyvalq *h, const char *name, char *out, size_t cap)
{
    const char *v = evhttp_find_header(h, name);
    snprintf(out, cap, "%s", v ? v : "");
}

static void on_reply(struct evhttp_request *req, void *arg)
{
    struct reply *r = arg;
    if (req != NULL) {
        struct evkeyvalq *h = evhttp_request_get_input_headers(req);
        r->code = evhttp_request_get_response_code(req);
        copy_header(h, "Content-Type", r->ctype, sizeof r->ctype);
        copy_header(h, "Content-Security-Policy", r->csp, sizeof r->csp);
        copy_header(h, "Cache-Control", r->cache, sizeof r->cache);
        copy_header(h, "X-Content-Type-Options", r->nosniff, sizeof r->nosniff);
        copy_header(h, "Referrer-Policy", r->referrer, sizeof r->referrer);
        copy_header(h, "Allow", r->allow, sizeof r->allow);
        struct evbuffer *b = evhttp_request_get_input_buffer(req);
        r->body_len = evbuffer_get_length(b);
        r->body = malloc(r->body_len + 1);
        assert_non_null(r->body);
        evbuffer_remove(b, r->body, r->body_len);
    }
    event_base_loopexit(r->base, NULL);
}

static void serve(struct evhttp_request *req, void *arg)
{
    (void)arg;
    rp_precall_serve(req);
}

static void ask(enum evhttp_cmd_type cmd, struct reply *r)
{
    struct event_base *base = event_base_new();
    struct evhttp *http = evhttp_new(base);
    assert_non_null(http);
    evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST);
    evhttp_set_gencb(http, serve, NULL);
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
    assert_non_null(bs);
    struct sockaddr_in sin;
    socklen_t sl = sizeof sin;
    assert_int_equal(getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sin, &sl), 0);
    struct evhttp_connection *c = evhttp_connection_base_new(base, NULL, "127.0.0.1", ntohs(sin.sin_port));
    memset(r, 0, sizeof *r);
    r->base = base;
    struct evhttp_request *req = evhttp_request_new(on_reply, r);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Host", "127.0.0.1");
    assert_int_equal(evhttp_make_request(c, req, cmd, "/rtpprobe/precall"), 0);
    struct timeval limit = { 10, 0 };
    event_base_loopexit(base, &limit);
    event_base_dispatch(base);
    evhttp_connection_free(c);
    evhttp_free(http);
    event_base_free(base);
}

static void test_serve_sends_the_page_with_its_headers(void **state)
{
    (void)state;
    struct reply r;
    ask(EVHTTP_REQ_GET, &r);
    assert_int_equal(r.code, 200);
    assert_string_equal(r.ctype, "text/html; charset=utf-8");
    assert_string_equal(r.csp, rp_precall_csp);
    assert_string_equal(r.cache, "no-store");
    assert_string_equal(r.nosniff, "nosniff");
    assert_string_equal(r.referrer, "no-referrer");
    assert_int_equal(r.body_len, rp_precall_page_len);
    assert_memory_equal(r.body, rp_precall_page, rp_precall_page_len);
    free(r.body);
}

static void test_serve_head_sends_the_headers_only(void **state)
{
    (void)state;
    struct reply r;
    ask(EVHTTP_REQ_HEAD, &r);
    assert_int_equal(r.code, 200);
    assert_string_equal(r.csp, rp_precall_csp);
    assert_int_equal(r.body_len, 0);
    free(r.body);
}

static void test_serve_refuses_other_methods(void **state)
{
    (void)state;
    struct reply r;
    ask(EVHTTP_REQ_POST, &r);
    assert_int_equal(r.code, 405);
    assert_string_equal(r.allow, "GET, HEAD");
    assert_true(r.body_len < rp_precall_page_len);
    free(r.body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_page_is_one_html_document),
        cmocka_unit_test(test_csp_hashes_match_the_inline_script_and_style),
        cmocka_unit_test(test_page_names_no_other_origin),
        cmocka_unit_test(test_serve_sends_the_page_with_its_headers),
        cmocka_unit_test(test_serve_head_sends_the_headers_only),
        cmocka_unit_test(test_serve_refuses_other_methods),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
