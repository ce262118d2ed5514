/* Replacing a file atomically: a reader sees the old file or the whole new one. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "filereplace.h"

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Makes the rename itself durable; the new file is complete either way. */
static void sync_dir(const char *tmp, size_t dirlen)
{
    char dir[PATH_MAX];
    /* No directory part: the working directory. */
    snprintf(dir, sizeof dir, "%.*s", dirlen ? (int)dirlen : 1, dirlen ? tmp : ".");
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* The temporary file's data made safe, then renamed over path. */
static int commit(int fd, const char *tmp, const char *path, const char *data, size_t len, char *err,
                  size_t errlen)
{
    const char *step = "write";
    int rc = write_all(fd, data, len);
    if (rc == 0 && (step = "fsync", fsync(fd)) < 0)
        rc = -1;
    /* mkstemp makes it 0600: the reader (a collector, a person) may be another user. */
    if (rc == 0 && (step = "chmod", fchmod(fd, 0644)) < 0)
        rc = -1;
    int saved = errno;
    if (close(fd) < 0 && rc == 0) {
        step = "close";
        saved = errno;
        rc = -1;
    }
    if (rc == 0 && rename(tmp, path) < 0) {
        snprintf(err, errlen, "%s: cannot rename %s over it: %s", path, tmp, strerror(errno));
        return -1;
    }
    if (rc < 0)
        snprintf(err, errlen, "%s: %s of %s failed: %s", path, step, tmp, strerror(saved));
    return rc;
}

int rp_file_replace(const char *path, const char *data, size_t len, char *err, size_t errlen)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    char tmp[PATH_MAX];
    if (!*base) {
        snprintf(err, errlen, "%s: names a directory, not a file", path);
        return -1;
    }
    /* A dot file beside path: the same file system (rename is one step), and
     * hidden from readers that take only *.prom or *.html. */
    int n = snprintf(tmp, sizeof tmp, "%.*s.%s.XXXXXX", (int)dirlen, path, base);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        snprintf(err, errlen, "%s: path too long", path);
        return -1;
    }
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        /* The directory without its trailing '/', unless it is "/". */
        int shown = dirlen > 1 ? (int)dirlen - 1 : 1;
        snprintf(err, errlen, "%s: cannot create a temporary file in %.*s: %s", path, shown, dirlen ? path : ".",
                 strerror(errno));
        return -1;
    }
    if (commit(fd, tmp, path, data, len, err, errlen) < 0) {
        unlink(tmp);
        return -1;
    }
    sync_dir(tmp, dirlen);
    return 0;
}
