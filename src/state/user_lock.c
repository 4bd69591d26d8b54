/*
 * user_lock.c: the lock of one (server, user), wherever the logs go.
 *
 * The log-root lock (lock.c) keeps two runs out of one run directory and
 * state database; two runs with different --log-dir (a cron run and a
 * manual one) would still write the same library at once.  This lock is
 * a flock(2) on a file in a private directory of the operating-system
 * user: $XDG_RUNTIME_DIR/immich-autotag (systemd makes it 0700), else
 * /tmp/immich-autotag-<uid>, created 0700 and refused when it is a link,
 * belongs to someone else or others may write it.  The file is named by
 * a hash of the server's address and the Immich user id.
 *
 * Beside it, "last-write" holds when the last run that wrote released
 * the lock (ms, UTC).  A run takes the lock only after its read, so a
 * run that wrote in the meantime makes that read stale: the lock is then
 * refused as STATE_LOCK_STALE and nothing is written from it.
 */
#include "state/state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fsutil.h"

/* FNV-1a, 64 bits: a file name, not a secret. */
static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* Creates dir 0700 if absent; refuses one that is not private to us. */
static int private_dir(const char *dir, struct buf *err)
{
    struct stat st;

    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        buf_addf(err, "cannot create '%s': %s", dir, strerror(errno));
        return -1;
    }
    if (lstat(dir, &st) < 0) {
        buf_addf(err, "cannot stat '%s': %s", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077)) {
        buf_addf(err,
                 "'%s' is not a directory private to this user (a "
                 "link, someone else's, or open to others): refusing "
                 "to keep the run lock there",
                 dir);
        return -1;
    }
    return 0;
}

int state_user_lock_dir(struct buf *out, struct buf *err)
{
    const char *rt = getenv("XDG_RUNTIME_DIR");

    buf_reset(out);
    if (rt && *rt == '/')
        buf_addf(out, "%s/immich-autotag", rt);
    else
        buf_addf(out, "/tmp/immich-autotag-%ld", (long)geteuid());
    return private_dir(out->buf, err);
}

/* The last-write time recorded in dir, 0 when none. */
static int64_t last_write(const char *dir)
{
    struct buf path = BUF_INIT, ignored = BUF_INIT;
    char text[32];
    ssize_t n = -1;
    int fd;

    buf_addf(&path, "%s/last-write", dir);
    fd = access(path.buf, F_OK) == 0
             ? fs_open_private(path.buf, O_RDONLY, &ignored)
             : -1;
    if (fd >= 0) {
        n = read(fd, text, sizeof(text) - 1);
        (void)close(fd);
    }
    buf_release(&path);
    buf_release(&ignored);
    if (n <= 0)
        return 0;
    text[n] = '\0';
    return strtoll(text, NULL, 10);
}

int state_user_lock_wrote(struct state_lock *lk, int64_t now_ms,
                          struct buf *err)
{
    struct buf path = BUF_INIT, text = BUF_INIT;
    char *slash;
    int fd, ret = 0;

    if (lk->fd < 0 || !lk->path)
        return 0;
    buf_addstr(&path, lk->path);
    slash = strrchr(path.buf, '/');
    buf_setlen(&path, (size_t)(slash - path.buf));
    buf_addstr(&path, "/last-write");
    buf_addf(&text, "%lld\n", (long long)now_ms);
    fd = fs_open_private(path.buf, O_WRONLY | O_CREAT | O_TRUNC, err);
    if (fd >= 0 && write(fd, text.buf, text.len) != (ssize_t)text.len) {
        buf_addf(err, "cannot record the write in '%s': %s", path.buf,
                 strerror(errno));
        ret = -1;
    }
    if (fd < 0)
        ret = -1;
    if (fd >= 0)
        (void)close(fd);
    buf_release(&path);
    buf_release(&text);
    return ret;
}

enum state_lock_result state_user_lock_acquire(struct state_lock *lk,
                                               const char *server,
                                               const struct uuid *user,
                                               int64_t read_at, struct buf *err)
{
    struct buf dir = BUF_INIT, key = BUF_INIT;
    char id[UUID_STR_LEN + 1];
    enum state_lock_result r = STATE_LOCK_ERROR;

    lk->fd = -1;
    lk->path = NULL;
    uuid_format(user, id);
    buf_addf(&key, "%s user=%s", server, id);
    if (state_user_lock_dir(&dir, err) < 0)
        goto out;
    buf_addf(&dir, "/%016llx", (unsigned long long)fnv1a(key.buf));
    if (private_dir(dir.buf, err) < 0)
        goto out;
    r = state_lock_acquire(lk, dir.buf, err);
    if (r == STATE_LOCK_ACQUIRED && last_write(dir.buf) >= read_at) {
        state_lock_release(lk);
        buf_addf(err,
                 "another run wrote to %s as this user while this one "
                 "was reading: nothing written (run again)",
                 server);
        r = STATE_LOCK_STALE;
    } else if (r == STATE_LOCK_BUSY) {
        buf_reset(err);
        buf_addf(err,
                 "another run is writing to %s as this user (it holds "
                 "'%s/%s'): nothing written",
                 server, dir.buf, STATE_LOCK_NAME);
    }
out:
    buf_release(&dir);
    buf_release(&key);
    return r;
}
