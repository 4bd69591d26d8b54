/*
 * fsutil.c: mkdir -p, opening files privately without following links,
 * write-to-temp-and-rename, read a whole file.
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
        if (mkdir(p.buf, 0700) < 0 && errno != EEXIST) {
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

int fs_open_private(const char *path, int flags, struct buf *err)
{
    struct stat st;
    int fd;

    /* O_NONBLOCK: a FIFO planted in our place must not hang the open;
     * it is refused below like any other non-regular file. */
    fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
    if (fd < 0) {
        if (errno == ELOOP)
            buf_addf(err,
                     "cannot open '%s': it is a symbolic link "
                     "(refusing to follow it)",
                     path);
        else
            buf_addf(err, "cannot open '%s': %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0) {
        buf_addf(err, "cannot open '%s': %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        buf_addf(err, "cannot open '%s': not a regular file", path);
        goto fail;
    }
    if (st.st_uid != geteuid()) {
        buf_addf(err,
                 "cannot open '%s': owned by uid %ld, not by us "
                 "(uid %ld)",
                 path, (long)st.st_uid, (long)geteuid());
        goto fail;
    }
    /* A file an older version left readable by others becomes ours. */
    if ((st.st_mode & 077) && fchmod(fd, st.st_mode & 0700) < 0) {
        buf_addf(err, "cannot make '%s' private: %s", path, strerror(errno));
        goto fail;
    }
    if (fcntl(fd, F_SETFL, flags & O_APPEND) < 0) {
        buf_addf(err, "cannot open '%s': %s", path, strerror(errno));
        goto fail;
    }
    return fd;
fail:
    (void)close(fd);
    return -1;
}

FILE *fs_fopen_append(const char *path, struct buf *err)
{
    int fd = fs_open_private(path, O_WRONLY | O_CREAT | O_APPEND, err);
    FILE *f;

    if (fd < 0)
        return NULL;
    f = fdopen(fd, "a");
    if (!f) {
        buf_addf(err, "cannot open '%s': %s", path, strerror(errno));
        (void)close(fd);
        return NULL;
    }
    setvbuf(f, NULL, _IOLBF, 0);
    return f;
}

int fs_check_private_dir(const char *dir, struct buf *err)
{
    struct stat st;

    /* stat, not lstat: the directory itself may be a link an
     * administrator made; what matters is who can write in it. */
    if (stat(dir, &st) < 0) {
        buf_addf(err, "cannot use directory '%s': %s", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        buf_addf(err, "cannot use directory '%s': not a directory", dir);
        return -1;
    }
    if (st.st_uid != geteuid() && st.st_uid != 0) {
        buf_addf(err,
                 "refusing directory '%s': owned by uid %ld, not by "
                 "us (uid %ld) or root",
                 dir, (long)st.st_uid, (long)geteuid());
        return -1;
    }
    if (st.st_mode & 022) {
        buf_addf(err,
                 "refusing directory '%s': others can write to it "
                 "(mode %04o); run 'chmod go-w %s' or choose another "
                 "--log-dir",
                 dir, (unsigned)(st.st_mode & 07777), dir);
        return -1;
    }
    return 0;
}

int fs_atomic_open(struct fs_atomic *a, const char *path, struct buf *err)
{
    buf_init(&a->path, 0);
    buf_init(&a->tmp, 0);
    buf_addstr(&a->path, path);
    buf_addf(&a->tmp, "%s.tmp%ld", path, (long)getpid());
    /* A leftover of a killed run with our pid (or anything planted under
     * that name) goes; the new file is created, never reused. */
    if (unlink(a->tmp.buf) < 0 && errno != ENOENT) {
        buf_addf(err, "cannot write '%s': %s", path, strerror(errno));
        a->fd = -1;
        fs_atomic_abort(a);
        return -1;
    }
    a->fd = fs_open_private(a->tmp.buf, O_WRONLY | O_CREAT | O_EXCL, err);
    if (a->fd < 0) {
        fs_atomic_abort(a);
        return -1;
    }
    return 0;
}

int fs_atomic_write(struct fs_atomic *a, const void *data, size_t len,
                    struct buf *err)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n = write(a->fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            buf_addf(err, "cannot write '%s': %s", a->path.buf,
                     strerror(errno));
            fs_atomic_abort(a);
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int fs_atomic_commit(struct fs_atomic *a, struct buf *err)
{
    int fd = a->fd;

    if (fsync(fd) < 0 && errno != EINVAL) {
        buf_addf(err, "cannot write '%s': fsync: %s", a->path.buf,
                 strerror(errno));
        fs_atomic_abort(a);
        return -1;
    }
    a->fd = -1;
    if (close(fd) < 0) {
        buf_addf(err, "cannot write '%s': %s", a->path.buf, strerror(errno));
        fs_atomic_abort(a);
        return -1;
    }
    if (rename(a->tmp.buf, a->path.buf) < 0) {
        buf_addf(err, "cannot rename '%s' to '%s': %s", a->tmp.buf, a->path.buf,
                 strerror(errno));
        fs_atomic_abort(a);
        return -1;
    }
    buf_release(&a->path);
    buf_release(&a->tmp);
    return 0;
}

void fs_atomic_abort(struct fs_atomic *a)
{
    if (a->fd >= 0)
        (void)close(a->fd);
    a->fd = -1;
    if (a->tmp.len)
        (void)unlink(a->tmp.buf);
    buf_release(&a->path);
    buf_release(&a->tmp);
}

int fs_write_atomic(const char *path, const void *data, size_t len,
                    struct buf *err)
{
    struct fs_atomic a;

    if (fs_atomic_open(&a, path, err) < 0 ||
        fs_atomic_write(&a, data, len, err) < 0)
        return -1;
    return fs_atomic_commit(&a, err);
}

int fs_read_file(const char *path, size_t max, struct buf *out, struct buf *err)
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
            buf_addf(err, "cannot read '%s': larger than %zu bytes", path, max);
            goto out;
        }
        buf_add(out, chunk, (size_t)n);
    }
    ret = 0;
out:
    (void)close(fd);
    return ret;
}
