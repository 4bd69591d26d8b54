/*
 * fsutil.c: mkdir -p, write-to-temp-and-rename, read a whole file.
 */
#include "core/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

bool fs_is_dir(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int fs_mkdir_p(const char *dir, struct buf *err)
{
    struct buf p = BUF_INIT;
    size_t i;
    int ret = -1;

    if (!*dir) {
        buf_addstr(err, "cannot create directory '': empty path");
        return -1;
    }
    buf_addstr(&p, dir);
    /* Create each prefix ending at a '/', then the whole path. */
    for (i = 1; i <= p.len; i++) {
        if (i < p.len && p.buf[i] != '/')
            continue;
        p.buf[i] = '\0';
        if (mkdir(p.buf, 0755) < 0 && errno != EEXIST) {
            buf_addf(err, "cannot create directory '%s': %s", p.buf,
                     strerror(errno));
            goto out;
        }
        if (i < p.len)
            p.buf[i] = '/';
    }
    if (!fs_is_dir(dir)) {
        buf_addf(err, "cannot create directory '%s': not a directory", dir);
        goto out;
    }
    ret = 0;
out:
    buf_release(&p);
    return ret;
}

int fs_write_atomic(const char *path, const void *data, size_t len,
                    struct buf *err)
{
    struct buf tmp = BUF_INIT;
    const char *p = data;
    int fd = -1, ret = -1;

    buf_addf(&tmp, "%s.tmp%ld", path, (long)getpid());
    fd = open(tmp.buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        buf_addf(err, "cannot write '%s': %s", path, strerror(errno));
        goto out;
    }
    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            buf_addf(err, "cannot write '%s': %s", path, strerror(errno));
            goto out;
        }
        p += n;
        len -= (size_t)n;
    }
    if (fsync(fd) < 0 && errno != EINVAL) {
        buf_addf(err, "cannot write '%s': fsync: %s", path, strerror(errno));
        goto out;
    }
    if (close(fd) < 0) {
        fd = -1;
        buf_addf(err, "cannot write '%s': %s", path, strerror(errno));
        goto out;
    }
    fd = -1;
    if (rename(tmp.buf, path) < 0) {
        buf_addf(err, "cannot rename '%s' to '%s': %s", tmp.buf, path,
                 strerror(errno));
        goto out;
    }
    ret = 0;
out:
    if (fd >= 0)
        (void)close(fd);
    if (ret < 0)
        (void)unlink(tmp.buf);
    buf_release(&tmp);
    return ret;
}

int fs_read_file(const char *path, size_t max, struct buf *out,
                 struct buf *err)
{
    char chunk[8192];
    size_t total = 0;
    int fd, ret = -1;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        buf_addf(err, "cannot read '%s': %s", path, strerror(errno));
        return -1;
    }
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            buf_addf(err, "cannot read '%s': %s", path, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        total += (size_t)n;
        if (total > max) {
            buf_addf(err, "cannot read '%s': larger than %zu bytes", path,
                     max);
            goto out;
        }
        buf_add(out, chunk, (size_t)n);
    }
    ret = 0;
out:
    (void)close(fd);
    return ret;
}
