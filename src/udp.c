/* Media sockets. Kernel receive timestamps make jitter and RTT reflect the
 * network rather than our own scheduling; they are realtime, so each is also
 * given on the monotonic clock, which no wall-clock step moves. SO_RXQ_OVFL
 * separates drops in our own socket queue from loss on the path. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "timeutil.h"
#include "udp.h"

int rp_udp_open(const struct sockaddr *bind_addr, socklen_t len, int dscp)
{
    int fd = socket(bind_addr->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int on = 1;
    /* Best effort: without them we fall back to user-space time and no drop count. */
    (void)setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
    (void)setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof on);
    if (dscp >= 0) {
        int tos = (dscp & 0x3f) << 2;
        if (bind_addr->sa_family == AF_INET6)
            (void)setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof tos);
        else
            (void)setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof tos);
    }
    if (bind(fd, bind_addr, len) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/* Room for one datagram's kernel timestamp and queue-drop count. */
union rp_udp_control {
    char buf[CMSG_SPACE(sizeof(struct timespec)) + CMSG_SPACE(sizeof(uint32_t))];
    struct cmsghdr align;
};

/* The arrival stamps and drop count of a received message. now_real and
 * now_mono: both clocks read right after the read, whose offset maps the
 * kernel's realtime stamp onto the monotonic clock. */
static void read_meta(struct msghdr *msg, uint64_t now_real, uint64_t now_mono, struct rp_udp_meta *meta)
{
    meta->fromlen = msg->msg_namelen;
    meta->read_mono = now_mono;
    meta->rx_ns = 0;
    meta->has_drops = false;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
        if (c->cmsg_level != SOL_SOCKET)
            continue;
        if (c->cmsg_type == SCM_TIMESTAMPNS && c->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
            struct timespec ts;
            memcpy(&ts, CMSG_DATA(c), sizeof ts);
            meta->rx_ns = (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
        } else if (c->cmsg_type == SO_RXQ_OVFL && c->cmsg_len >= CMSG_LEN(sizeof(uint32_t))) {
            memcpy(&meta->rxq_drops, CMSG_DATA(c), sizeof meta->rxq_drops);
            meta->has_drops = true;
        }
    }
    if (meta->rx_ns == 0) {
        meta->rx_ns = now_real;
        meta->rx_mono = now_mono;
    } else {
        meta->rx_mono = rp_mono_of_real(meta->rx_ns, now_real, now_mono);
    }
}

ssize_t rp_udp_recv(int fd, uint8_t *buf, size_t cap, struct rp_udp_meta *meta)
{
    struct iovec iov = { .iov_base = buf, .iov_len = cap };
    union rp_udp_control control;
    struct msghdr msg = {
        .msg_name = &meta->from,
        .msg_namelen = sizeof meta->from,
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = control.buf,
        .msg_controllen = sizeof control.buf,
    };
    ssize_t n = recvmsg(fd, &msg, 0);
    if (n < 0)
        return -1;
    if (msg.msg_flags & MSG_TRUNC) {
        errno = EMSGSIZE;
        return -1;
    }
    uint64_t now_real = rp_realtime_ns(), now_mono = rp_monotonic_ns();
    read_meta(&msg, now_real, now_mono, meta);
    return n;
}

/* One recvmmsg batch: its datagrams handed on. The number read, or -1 with errno. */
static int drain_batch(int fd, rp_udp_datagram_fn *on_datagram, void (*on_oversized)(void *arg), void *arg)
{
    uint8_t bufs[RP_UDP_BATCH][RP_UDP_DGRAM_CAP];
    struct iovec iov[RP_UDP_BATCH];
    union rp_udp_control control[RP_UDP_BATCH];
    struct rp_udp_meta meta[RP_UDP_BATCH];
    struct mmsghdr msgs[RP_UDP_BATCH];
    for (int i = 0; i < RP_UDP_BATCH; i++) {
        iov[i] = (struct iovec){ .iov_base = bufs[i], .iov_len = sizeof bufs[i] };
        msgs[i].msg_hdr = (struct msghdr){
            .msg_name = &meta[i].from, .msg_namelen = sizeof meta[i].from, .msg_iov = &iov[i], .msg_iovlen = 1,
            .msg_control = control[i].buf, .msg_controllen = sizeof control[i].buf,
        };
    }
    int n = recvmmsg(fd, msgs, RP_UDP_BATCH, 0, NULL);
    if (n <= 0)
        return n < 0 ? -1 : 0;
    uint64_t now_real = rp_realtime_ns(), now_mono = rp_monotonic_ns();
    for (int i = 0; i < n; i++) {
        if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
            if (on_oversized)
                on_oversized(arg);
            continue;
        }
        read_meta(&msgs[i].msg_hdr, now_real, now_mono, &meta[i]);
        on_datagram(arg, bufs[i], msgs[i].msg_len, &meta[i]);
    }
    return n;
}

void rp_udp_drain(int fd, rp_udp_datagram_fn *on_datagram, void (*on_oversized)(void *arg), void *arg)
{
    /* A full batch may have more behind it; a short one drained the queue. */
    for (int done = 0; done < RP_UDP_READ_BUDGET;) {
        int n = drain_batch(fd, on_datagram, on_oversized, arg);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n >= 0 && n < RP_UDP_BATCH)
            return;
        done += n > 0 ? n : 1; /* an error (an ICMP report) is skipped, within the budget */
    }
}

uint64_t rp_udp_arrival(const struct rp_udp_meta *meta, uint64_t *last)
{
    uint64_t t = meta->rx_mono >= *last ? meta->rx_mono : meta->read_mono;
    *last = t;
    return t;
}

ssize_t rp_udp_send(int fd, const uint8_t *buf, size_t len, const struct sockaddr *to, socklen_t tolen)
{
    return sendto(fd, buf, len, 0, to, tolen);
}
