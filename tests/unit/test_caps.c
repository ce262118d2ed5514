/* src/caps.c: after rp_caps_drop(CAP_NET_RAW) the process can no longer open
 * a raw socket and cannot get the capability back. In a child process, so
 * that the test program keeps its own. Needs CAP_NET_RAW to begin with (root
 * in make check); without it the test is skipped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caps.h"

static int raw_socket_errno(void)
{
    int fd = socket(AF_INET, SOCK_RAW, IPPROTO_UDP);
    if (fd < 0)
        return errno;
    close(fd);
    return 0;
}

/* The child's verdict: 0 all as expected, else the step that failed. */
static int drop_in_child(void)
{
    if (raw_socket_errno() != 0)
        return 1;
    if (rp_caps_drop(CAP_NET_RAW) < 0)
        return 2;
    if (rp_caps_has(CAP_NET_RAW))
        return 3;
    if (raw_socket_errno() != EPERM)
        return 4;
    /* Back into the permitted set: refused, it is gone for good. */
    struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
    struct __user_cap_data_struct data[2];
    if (syscall(SYS_capget, &hdr, data) < 0)
        return 5;
    data[0].permitted |= 1u << CAP_NET_RAW;
    data[0].effective |= 1u << CAP_NET_RAW;
    if (syscall(SYS_capset, &hdr, data) == 0 || raw_socket_errno() != EPERM)
        return 6;
    /* Dropping what is not there is fine. */
    return rp_caps_drop(CAP_NET_RAW) < 0 ? 7 : 0;
}

static void test_dropped_net_raw_is_gone_for_good(void **state)
{
    (void)state;
    if (!rp_caps_has(CAP_NET_RAW))
        skip();
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0)
        _exit(drop_in_child());
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_true(rp_caps_has(CAP_NET_RAW)); /* ours untouched */
}

static void test_out_of_range_capability_is_refused(void **state)
{
    (void)state;
    assert_int_equal(rp_caps_drop(64), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(rp_caps_drop(-1), -1);
    assert_false(rp_caps_has(64));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dropped_net_raw_is_gone_for_good),
        cmocka_unit_test(test_out_of_range_capability_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
