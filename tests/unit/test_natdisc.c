/* Unit tests for src/natdisc.c: the announce choice (a pure function), and the
 * STUN exchange on loopback against responders this test runs itself (a
 * forked child answering with rp_stun_answer) or sockets that never answer.
 * No assertion depends on timing: only on what was answered and what arrived. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "natdisc.h"
#include "netaddr.h"
#include "stun.h"
#include "udp.h"

/* ---- rp_natdisc_announce ---- */

static const char *announce(const char *mapped, const char *mapped_stun, const char *control_seen, const char *local)
{
    static char out[RP_ADDRSTRLEN];
    memset(out, 'x', sizeof out);
    rp_natdisc_announce(mapped, mapped_stun, control_seen, local, out, sizeof out);
    return out;
}

static void test_media_port_mapping_wins(void **state)
{
    (void)state;
    assert_string_equal(announce("203.0.113.5:40000", "203.0.113.5:41000", "203.0.113.5:55555", "192.168.1.2:40000"),
                        "203.0.113.5:40000");
    assert_string_equal(announce("[2001:db8::9]:40000", "", "", "[fd00::2]:40000"), "[2001:db8::9]:40000");
}

static void test_stun_server_mapping_when_media_port_silent(void **state)
{
    (void)state;
    assert_string_equal(announce("", "203.0.113.5:41000", "203.0.113.5:55555", "192.168.1.2:40000"),
                        "203.0.113.5:41000");
}

static void test_control_connection_ip_with_local_port(void **state)
{
    (void)state;
    assert_string_equal(announce("", "", "203.0.113.5:55555", "192.168.1.2:40000"), "203.0.113.5:40000");
    assert_string_equal(announce("", "", "[2001:db8::1]:5000", "[fd00::2]:40002"), "[2001:db8::1]:40002");
    /* The families may differ: only the port is taken from the local address. */
    assert_string_equal(announce("", "", "[2001:db8::1]:5000", "192.168.1.2:40004"), "[2001:db8::1]:40004");
}

/* Behind nginx the daemon's "client" is a bare IP (X-Forwarded-For): still ours. */
static void test_control_ip_without_port_takes_the_local_port(void **state)
{
    (void)state;
    assert_string_equal(announce("", "", "203.0.113.5", "192.168.1.2:40000"), "203.0.113.5:40000");
    assert_string_equal(announce("", "", "2001:db8::1", "[fd00::2]:40002"), "[2001:db8::1]:40002");
}

static void test_local_address_when_control_ip_unusable(void **state)
{
    (void)state;
    assert_string_equal(announce("", "", "nope", "192.168.1.2:40000"), "192.168.1.2:40000");
    assert_string_equal(announce("", "", "", "192.168.1.2:40000"), "192.168.1.2:40000");
    /* A local address without a port cannot lend one. */
    assert_string_equal(announce("", "", "203.0.113.5:55555", "192.168.1.2"), "192.168.1.2");
}

static void test_announce_respects_the_output_size(void **state)
{
    (void)state;
    char out[8];
    rp_natdisc_announce("203.0.113.5:40000", "", "", "", out, sizeof out);
    assert_string_equal(out, "203.0.1");
}

/* ---- rp_natdisc_run on loopback ---- */

struct sock {
    int fd;
    struct sockaddr_storage addr;
};

static struct sock open_loopback(void)
{
    struct sock s;
    socklen_t len;
    assert_int_equal(rp_addr_from_ip("127.0.0.1", 0, &s.addr, &len), 0);
    s.fd = rp_udp_open((struct sockaddr *)&s.addr, len, -1);
    assert_true(s.fd >= 0);
    len = sizeof s.addr;
    assert_int_equal(getsockname(s.fd, (struct sockaddr *)&s.addr, &len), 0);
    assert_true(rp_addr_port((struct sockaddr *)&s.addr) != 0);
    return s;
}

#define SA(s) ((const struct sockaddr *)&(s).addr)

/* A child that answers every Binding request arriving on listen_fd[i] with
 * rp_stun_answer, sent from reply_fd[i]; it leaves after a second of silence
 * (the test kills it earlier). */
static pid_t start_responder(const int *listen_fd, const int *reply_fd, int n)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid > 0)
        return pid;
    struct pollfd pfd[2];
    for (int i = 0; i < n; i++)
        pfd[i] = (struct pollfd){ .fd = listen_fd[i], .events = POLLIN };
    while (poll(pfd, (nfds_t)n, 1000) > 0) {
        for (int i = 0; i < n; i++) {
            uint8_t req[2048], resp[256];
            struct sockaddr_storage from;
            socklen_t fl = sizeof from;
            ssize_t got = recvfrom(listen_fd[i], req, sizeof req, 0, (struct sockaddr *)&from, &fl);
            size_t rlen;
            if (got > 0 && rp_stun_answer(req, (size_t)got, (struct sockaddr *)&from, resp, sizeof resp, &rlen) ==
                               RP_STUN_ANSWERED)
                (void)sendto(reply_fd[i], resp, rlen, 0, (struct sockaddr *)&from, fl);
        }
    }
    _exit(0);
}

static void stop_responder(pid_t pid)
{
    int status;
    assert_int_equal(kill(pid, SIGTERM), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
}

/* The Binding requests waiting on a socket that never answered: how many, all
 * valid, all of one transaction (*txid). */
static int drain_requests(int fd, uint8_t txid[RP_STUN_TXID_LEN])
{
    int n = 0;
    for (;;) {
        uint8_t buf[2048];
        ssize_t got = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (got < 0) {
            assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
            return n;
        }
        struct rp_stun_msg msg;
        assert_int_equal(rp_stun_parse(buf, (size_t)got, &msg), RP_STUN_OK);
        assert_int_equal(msg.type, RP_STUN_BINDING_REQUEST);
        assert_true(msg.has_fingerprint);
        assert_true(got >= 64); /* never smaller than an answer: servers that refuse to amplify answer it */
        if (n == 0)
            memcpy(txid, msg.txid, RP_STUN_TXID_LEN);
        else
            assert_memory_equal(msg.txid, txid, RP_STUN_TXID_LEN); /* retransmissions of one transaction */
        n++;
    }
}

static void test_answers_from_media_port_and_server_give_our_address(void **state)
{
    (void)state;
    struct sock probe = open_loopback(), media = open_loopback(), server = open_loopback();
    int fds[2] = { media.fd, server.fd };
    pid_t pid = start_responder(fds, fds, 2);
    struct rp_natdisc nd;
    assert_int_equal(rp_natdisc_run(probe.fd, SA(media), SA(server), &nd), 0);
    stop_responder(pid);
    assert_true(nd.media_answered);
    assert_true(nd.server_answered);
    assert_true(rp_addr_equal((struct sockaddr *)&nd.media_mapped, SA(probe)));
    assert_true(rp_addr_equal((struct sockaddr *)&nd.server_mapped, SA(probe)));
    close(probe.fd);
    close(media.fd);
    close(server.fd);
}

static void test_server_answer_alone_leaves_media_unanswered(void **state)
{
    (void)state;
    struct sock probe = open_loopback(), media = open_loopback(), server = open_loopback();
    pid_t pid = start_responder(&server.fd, &server.fd, 1);
    struct rp_natdisc nd;
    assert_int_equal(rp_natdisc_run(probe.fd, SA(media), SA(server), &nd), 0);
    stop_responder(pid);
    assert_false(nd.media_answered);
    assert_true(nd.server_answered);
    assert_true(rp_addr_equal((struct sockaddr *)&nd.server_mapped, SA(probe)));
    uint8_t txid[RP_STUN_TXID_LEN];
    int n = drain_requests(media.fd, txid);
    assert_true(n >= 1 && n <= 6);
    close(probe.fd);
    close(media.fd);
    close(server.fd);
}

/* An answer with the right transaction id but from another port is not the media port's. */
static void test_answer_from_another_source_is_ignored(void **state)
{
    (void)state;
    struct sock probe = open_loopback(), media = open_loopback(), other = open_loopback();
    pid_t pid = start_responder(&media.fd, &other.fd, 1);
    struct rp_natdisc nd;
    assert_int_equal(rp_natdisc_run(probe.fd, SA(media), NULL, &nd), 0);
    stop_responder(pid);
    assert_false(nd.media_answered);
    assert_false(nd.server_answered);
    close(probe.fd);
    close(media.fd);
    close(other.fd);
}

static void test_silent_ports_get_a_bounded_number_of_requests(void **state)
{
    (void)state;
    struct sock probe = open_loopback(), media = open_loopback(), server = open_loopback();
    struct rp_natdisc nd;
    assert_int_equal(rp_natdisc_run(probe.fd, SA(media), SA(server), &nd), 0);
    assert_false(nd.media_answered);
    assert_false(nd.server_answered);
    uint8_t txid_media[RP_STUN_TXID_LEN], txid_server[RP_STUN_TXID_LEN];
    int n_media = drain_requests(media.fd, txid_media);
    int n_server = drain_requests(server.fd, txid_server);
    assert_true(n_media >= 1 && n_media <= 6);
    /* A third-party server is asked at the RFC 8489 pace: at most twice in the window. */
    assert_true(n_server >= 1 && n_server <= 2);
    assert_memory_not_equal(txid_media, txid_server, RP_STUN_TXID_LEN);
    close(probe.fd);
    close(media.fd);
    close(server.fd);
}

static void test_silent_media_port_alone(void **state)
{
    (void)state;
    struct sock probe = open_loopback(), media = open_loopback();
    struct rp_natdisc nd;
    memset(&nd, 0xff, sizeof nd);
    assert_int_equal(rp_natdisc_run(probe.fd, SA(media), NULL, &nd), 0);
    assert_false(nd.media_answered);
    assert_false(nd.server_answered);
    uint8_t txid[RP_STUN_TXID_LEN];
    int n = drain_requests(media.fd, txid);
    assert_true(n >= 1 && n <= 6);
    close(probe.fd);
    close(media.fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_media_port_mapping_wins),
        cmocka_unit_test(test_stun_server_mapping_when_media_port_silent),
        cmocka_unit_test(test_control_connection_ip_with_local_port),
        cmocka_unit_test(test_control_ip_without_port_takes_the_local_port),
        cmocka_unit_test(test_local_address_when_control_ip_unusable),
        cmocka_unit_test(test_announce_respects_the_output_size),
        cmocka_unit_test(test_answers_from_media_port_and_server_give_our_address),
        cmocka_unit_test(test_server_answer_alone_leaves_media_unanswered),
        cmocka_unit_test(test_answer_from_another_source_is_ignored),
        cmocka_unit_test(test_silent_ports_get_a_bounded_number_of_requests),
        cmocka_unit_test(test_silent_media_port_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
