/* include/caps.h. glibc has no capset wrapper and libcap would be a
 * dependency for two system calls: the raw calls, version 3 (64 bits). */
#include "caps.h"

#include <errno.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int get(struct __user_cap_data_struct data[2])
{
    struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
    return (int)syscall(SYS_capget, &hdr, data);
}

int rp_caps_drop(int cap)
{
    if (cap < 0 || cap > 63) {
        errno = EINVAL;
        return -1;
    }
    /* Ambient explicitly: capset clears it too, but only as a side effect
     * (a capability leaves ambient when it leaves permitted). */
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, (unsigned long)cap, 0UL, 0UL) < 0 && errno != EINVAL)
        return -1;
    /* The bounding set needs CAP_SETPCAP (root); under systemd the unit's
     * CapabilityBoundingSet already is the limit, so EPERM is fine. */
    (void)prctl(PR_CAPBSET_DROP, (unsigned long)cap, 0UL, 0UL, 0UL);
    struct __user_cap_data_struct data[2];
    if (get(data) < 0)
        return -1;
    unsigned word = (unsigned)cap / 32;
    __u32 bit = 1u << ((unsigned)cap % 32);
    data[word].effective &= ~bit;
    data[word].permitted &= ~bit;
    data[word].inheritable &= ~bit;
    struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
    return (int)syscall(SYS_capset, &hdr, data);
}

bool rp_caps_has(int cap)
{
    struct __user_cap_data_struct data[2];
    if (cap < 0 || cap > 63 || get(data) < 0)
        return false;
    __u32 bit = 1u << ((unsigned)cap % 32);
    return ((data[cap / 32].effective | data[cap / 32].permitted) & bit) != 0;
}
