/* --push: the agent name (a label value), the body (the --json report without
 * its per-second arrays) and the request against a small HTTP server on an
 * ephemeral loopback port (a thread here): path, token, status handling. */
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "agents.h"
#include "push.h"
#include "report.h"
#include "timeutil.h"

static void test_agent_names_are_label_values(void **state)
{
    (void)state;
    assert_true(rp_agent_name_valid("agent-1.site_b", strlen("agent-1.site_b")));
    assert_true(rp_agent_name_valid("a", strlen("a")));
    assert_false(rp_agent_name_valid("", strlen("")));
    assert_false(rp_agent_name_valid("a b", strlen("a b")));
    assert_false(rp_agent_name_valid("a\"b", strlen("a\"b")));
    assert_false(rp_agent_name_valid("caf\xc3\xa9", strlen("caf\xc3\xa9")));
    char name[65 + 1];
    memset(name, 'x', 65);
    name[65] = '\0';
    assert_false(rp_agent_name_valid(name, strlen(name)));
    name[64] = '\0';
    assert_true(rp_agent_name_valid(name, strlen(name)));

    char out[RP_AGENT_NAME_MAX + 1];
    rp_push_agent_clean("pc 12\"\n.example.com", out, sizeof out);
    assert_string_equal(out, "pc_12__.example.com");
    memset(name, 'y', 65);
    name[65] = '\0';
    rp_push_agent_clean(name, out, sizeof out);
    assert_int_equal(strlen(out), RP_AGENT_NAME_MAX);
    rp_push_agent_clean("", out, sizeof out);
    assert_string_equal(out, "unknown");
    rp_push_agent_default(out, sizeof out);
    assert_true(rp_agent_name_valid(out, strlen(out)));
}

static void test_strip_drops_only_the_per_second_arrays(void **state)
{
    (void)state;
    json_t *r = json_pack("{s:s, s:[], s:{s:f, s:[]}, s:{s:f, s:[]}}", "verdict", "pass", "rtt_per_second",
                          "upstream", "mos", 4.4, "per_second", "downstream", "mos", 4.3, "per_second");
    assert_non_null(r);
    rp_push_strip(r);
    assert_null(json_object_get(r, "rtt_per_second"));
    assert_null(json_object_get(json_object_get(r, "upstream"), "per_second"));
    assert_null(json_object_get(json_object_get(r, "downstream"), "per_second"));
    assert_string_equal(json_string_value(json_object_get(r, "verdict")), "pass");
    assert_true(json_is_real(json_object_get(json_object_get(r, "upstream"), "mos")));
    json_decref(r);
}

static void small_report(struct rp_report *r)
{
    memset(r, 0, sizeof *r);
    snprintf(r->codec, sizeof r->codec, "pcmu");
    snprintf(r->transport, sizeof r->transport, "rtp");
    snprintf(r->server, sizeof r->server, "https://media.example.net:8743");
    r->up.measured = r->down.measured = true;
    r->up.sent = r->up.rx.received = r->up.rx.expected = 500;
    r->down.sent = r->down.rx.received = r->down.rx.expected = 500;
    r->up.mos = r->down.mos = 4.41;
    r->verdict = RP_VERDICT_WARN;
}

static void test_body_is_the_agent_and_the_json_report(void **state)
{
    (void)state;
    struct rp_report r;
    small_report(&r);
    json_t *b = rp_push_body(&r, "t1");
    assert_non_null(b);
    assert_string_equal(json_string_value(json_object_get(b, "agent")), "t1");
    json_t *rep = json_object_get(b, "report");
    assert_string_equal(json_string_value(json_object_get(rep, "verdict")), "warn");
    assert_true(json_real_value(json_object_get(json_object_get(rep, "upstream"), "mos")) == 4.41);
    assert_null(json_object_get(rep, "rtt_per_second"));
    assert_null(json_object_get(json_object_get(rep, "upstream"), "per_second"));
    char *text = json_dumps(b, JSON_COMPACT);
    assert_true(strlen(text) < 16384); /* the daemon's limits.max_body */
    free(text);
    json_decref(b);
}

/* ---- a one-request-per-connection HTTP server ---- */

struct srv {
    int       lfd;
    unsigned  port;
    pthread_t thread;
    int       status;       /* answer's status */
    const char *body;       /* answer's body */
    char      request[32768]; /* the last request, head and body */
};

static void *srv_main(void *arg)
{
    struct srv *s = arg;
    for (int fd; (fd = accept(s->lfd, NULL, NULL)) >= 0; close(fd)) {
        size_t n = 0;
        for (;;) {
            ssize_t k = recv(fd, s->request + n, sizeof s->request - 1 - n, 0);
            if (k <= 0)
                break;
            n += (size_t)k;
            s->request[n] = '\0';
            const char *end = strstr(s->request, "\r\n\r\n"), *cl = strcasestr(s->request, "content-length:");
            if (end && (!cl || (size_t)(end + 4 - s->request) + strtoul(cl + 15, NULL, 10) <= n))
                break;
        }
        char answer[1024];
        int len = snprintf(answer, sizeof answer, "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                           "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", s->status, strlen(s->body), s->body);
        (void)send(fd, answer, (size_t)len, MSG_NOSIGNAL);
    }
    return NULL;
}

static void srv_start(struct srv *s, int status, const char *body)
{
    memset(s, 0, sizeof *s);
    s->status = status;
    s->body = body;
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t sl = sizeof sin;
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&sin, sl), 0);
    assert_int_equal(listen(s->lfd, 4), 0);
    assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&sin, &sl), 0);
    s->port = ntohs(sin.sin_port);
    assert_int_equal(pthread_create(&s->thread, NULL, srv_main, s), 0);
}

static void srv_stop(struct srv *s)
{
    shutdown(s->lfd, SHUT_RDWR);
    close(s->lfd);
    pthread_join(s->thread, NULL);
}

static int push_within(unsigned port, uint64_t deadline_ns, char *err, size_t errlen)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", port);
    /* --proxy "": off any proxy of the environment. */
    struct rp_probe_opts o = { .server = url, .token = "t0ken", .proxy = "" };
    struct rp_report r;
    small_report(&r);
    return rp_push_report(&o, &r, "t1", deadline_ns, err, errlen);
}

static int push_to(unsigned port, char *err, size_t errlen)
{
    return push_within(port, rp_monotonic_ns() + 5 * NS_PER_S, err, errlen);
}

static void test_push_posts_to_v1_reports_with_the_token(void **state)
{
    (void)state;
    struct srv s;
    srv_start(&s, 204, "");
    char err[512] = "";
    assert_int_equal(push_to(s.port, err, sizeof err), 0);
    srv_stop(&s);
    assert_int_equal(strncmp(s.request, "POST /v1/reports HTTP/1.1\r\n", 27), 0);
    assert_non_null(strcasestr(s.request, "\r\nAuthorization: Bearer t0ken\r\n"));
    json_t *b = json_loads(strstr(s.request, "\r\n\r\n") + 4, 0, NULL);
    assert_non_null(b);
    assert_string_equal(json_string_value(json_object_get(b, "agent")), "t1");
    assert_string_equal(json_string_value(json_object_get(json_object_get(b, "report"), "verdict")), "warn");
    json_decref(b);
}

static void test_push_refusals_say_why(void **state)
{
    (void)state;
    struct {
        int status;
        const char *body, *want;
    } cases[] = {
        { 202, "{\"agent\": \"t1\"}", NULL },
        { 401, "{\"error\": \"no\", \"status\": 401}", "token" },
        { 404, "{\"error\": \"not found\", \"status\": 404}", "/v1/reports" },
        { 413, "", "larger" },
        { 400, "{\"error\": \"missing key \\\"verdict\\\"\\u001b[2J\", \"status\": 400}", "missing key \"verdict\"?[2J" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct srv s;
        srv_start(&s, cases[i].status, cases[i].body);
        char err[512] = "";
        int rc = push_to(s.port, err, sizeof err);
        srv_stop(&s);
        if (!cases[i].want) {
            assert_int_equal(rc, 0);
            continue;
        }
        assert_int_equal(rc, -1);
        if (!strstr(err, cases[i].want))
            fail_msg("HTTP %d: \"%s\" not in \"%s\"", cases[i].status, cases[i].want, err);
    }
    /* Nobody listening: the control client's own words. */
    struct srv s;
    srv_start(&s, 204, "");
    unsigned port = s.port;
    srv_stop(&s);
    char err[512] = "";
    assert_int_equal(push_to(port, err, sizeof err), -1);
    assert_non_null(strstr(err, "refused"));
}

/* A daemon that takes the connection and never answers: the push ends at its deadline. */
static void test_push_ends_at_its_deadline(void **state)
{
    (void)state;
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t sl = sizeof sin;
    assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sl), 0);
    assert_int_equal(listen(lfd, 4), 0); /* the kernel completes the handshake; nobody reads */
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &sl), 0);
    char err[512] = "";
    /* A push that ignored its deadline would hang: the watchdog makes that a
     * failure (SIGALRM) without timing the push itself. */
    alarm(60);
    uint64_t t0 = rp_monotonic_ns();
    int rc = push_within(ntohs(sin.sin_port), t0 + NS_PER_S / 2, err, sizeof err);
    uint64_t took = rp_monotonic_ns() - t0;
    alarm(0); /* before any assert: a failed one must not leave it pending */
    assert_int_equal(rc, -1);
    close(lfd);
    assert_non_null(strstr(err, "timed out"));
    assert_true(took >= NS_PER_S / 2 - NS_PER_S / 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agent_names_are_label_values),
        cmocka_unit_test(test_strip_drops_only_the_per_second_arrays),
        cmocka_unit_test(test_body_is_the_agent_and_the_json_report),
        cmocka_unit_test(test_push_posts_to_v1_reports_with_the_token),
        cmocka_unit_test(test_push_refusals_say_why),
        cmocka_unit_test(test_push_ends_at_its_deadline),
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
