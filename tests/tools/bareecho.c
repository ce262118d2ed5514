/* bareecho: the capacity bench's baseline (tests/bench/capacity.sh). N UDP
 * sockets on 127.0.0.1:BASE+i, one epoll; every datagram goes back to its
 * sender unchanged (recvmmsg, then sendmmsg of the batch). No parsing, no
 * crypto: the least any reflector with one socket per session must do.
 *   bareecho N BASE   -- prints "ready"; on SIGTERM/SIGINT one JSON line
 *                        with the datagrams echoed and its own CPU. */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 16
#define MAXPKT 1600

static uint64_t echoed, send_fail;

static void echo_socket(int fd)
{
    static uint8_t bufs[BATCH][MAXPKT];
    struct sockaddr_in from[BATCH];
    struct iovec iov[BATCH];
    struct mmsghdr m[BATCH];
    for (;;) {
        for (int i = 0; i < BATCH; i++) {
            iov[i] = (struct iovec){ .iov_base = bufs[i], .iov_len = sizeof bufs[i] };
            m[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &from[i], .msg_namelen = sizeof from[i],
                                                  .msg_iov = &iov[i], .msg_iovlen = 1 } };
        }
        int got = recvmmsg(fd, m, BATCH, MSG_DONTWAIT, NULL);
        if (got <= 0)
            return;
        for (int i = 0; i < got; i++)
            iov[i].iov_len = m[i].msg_len;
        int sent = sendmmsg(fd, m, (unsigned)got, MSG_DONTWAIT);
        echoed += sent > 0 ? (uint64_t)sent : 0;
        send_fail += (uint64_t)got - (sent > 0 ? (uint64_t)sent : 0);
        if (got < BATCH)
            return;
    }
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return fprintf(stderr, "usage: bareecho N BASE_PORT\n"), 2;
    unsigned n = (unsigned)atoi(argv[1]), base = (unsigned)atoi(argv[2]);
    sigset_t ss;
    sigemptyset(&ss);
    sigaddset(&ss, SIGTERM);
    sigaddset(&ss, SIGINT);
    sigprocmask(SIG_BLOCK, &ss, NULL);
    int ep = epoll_create1(EPOLL_CLOEXEC), sfd = signalfd(-1, &ss, SFD_CLOEXEC);
    struct epoll_event e = { .events = EPOLLIN, .data.fd = sfd };
    if (ep < 0 || sfd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &e) < 0)
        return fprintf(stderr, "bareecho: cannot set up epoll\n"), 1;
    for (unsigned i = 0; i < n; i++) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)(base + i)),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0)
            return fprintf(stderr, "bareecho: cannot bind 127.0.0.1:%u: %s\n", base + i, strerror(errno)), 1;
        e.data.fd = fd;
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
    }
    printf("ready\n");
    fflush(stdout);
    struct epoll_event ev[256];
    for (;;) {
        int got = epoll_wait(ep, ev, 256, -1);
        for (int i = 0; i < got; i++) {
            if (ev[i].data.fd == sfd) {
                struct rusage ru;
                getrusage(RUSAGE_SELF, &ru);
                printf("{\"sockets\":%u,\"echoed\":%llu,\"send_failures\":%llu,\"cpu_s\":%.3f}\n", n,
                       (unsigned long long)echoed, (unsigned long long)send_fail,
                       (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
                return 0;
            }
            echo_socket(ev[i].data.fd);
        }
    }
}
