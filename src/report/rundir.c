/*
 * rundir.c: the run directory (upstream's "<stamp>_PID<pid>" under the log
 * root), writing report files into it, and the checkpoint: reading the
 * `count` of recent runs back, archiving a completed pass, and deciding
 * the skip of the next run (upstream §4.2 with the fixes of §8 item 19).
 */
#include "report/report.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "core/log.h"
#include "core/numparse.h"

void report_stamp(int64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    if (!localtime_r(&t, &tm))
        memset(&tm, 0, sizeof(tm));
    if (!strftime(out, 32, "%Y%m%d_%H%M%S", &tm))
        out[0] = '\0';
}

void report_iso_local(int64_t ms, char out[40])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char base[32];
    int frac = (int)(ms % 1000);

    if (frac < 0)
        frac += 1000;
    if (!localtime_r(&t, &tm))
        memset(&tm, 0, sizeof(tm));
    if (!strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm))
        base[0] = '\0';
    /* Python prints microseconds; we know milliseconds. */
    snprintf(out, 40, "%s.%03d000", base, frac);
}

int report_run_create(struct report_run *run, const char *root,
                      int64_t now_ms, struct buf *err)
{
    struct buf name = BUF_INIT, dir = BUF_INIT;
    char stamp[32];
    int attempt;

    memset(run, 0, sizeof(*run));
    if (!root || !*root)
        root = REPORT_DEFAULT_ROOT;
    if (fs_mkdir_p(root, err) < 0 || fs_check_private_dir(root, err) < 0)
        return -1;
    report_stamp(now_ms, stamp);
    for (attempt = 1; attempt < 100; attempt++) {
        buf_reset(&name);
        buf_reset(&dir);
        buf_addf(&name, "%s_PID%ld", stamp, (long)getpid());
        if (attempt > 1)
            buf_addf(&name, "_%d", attempt);
        buf_addf(&dir, "%s/%s", root, name.buf);
        if (mkdir(dir.buf, 0700) == 0)
            break;
        if (errno != EEXIST) {
            buf_addf(err, "cannot create run directory '%s': %s", dir.buf,
                     strerror(errno));
            goto fail;
        }
    }
    if (attempt == 100) {
        buf_addf(err, "cannot create run directory '%s': name taken",
                 dir.buf);
        goto fail;
    }
    run->root = xstrdup(root);
    run->dir = buf_detach(&dir, NULL);
    run->name = buf_detach(&name, NULL);
    run->started_at = now_ms;
    return 0;
fail:
    buf_release(&name);
    buf_release(&dir);
    return -1;
}

void report_run_release(struct report_run *run)
{
    if (!run)
        return;
    free(run->root);
    free(run->dir);
    free(run->name);
    memset(run, 0, sizeof(*run));
}

int report_write(const struct report_run *run, const char *name,
                 const struct buf *data, struct buf *err)
{
    struct buf path = BUF_INIT, clean = BUF_INIT;
    int ret;

    buf_addf(&path, "%s/%s", run->dir, name);
    /* Belt and braces: nothing registered as secret reaches a file. */
    log_redact(&clean, data->buf);
    ret = fs_write_atomic(path.buf, clean.buf, clean.len, err);
    buf_release(&clean);
    buf_release(&path);
    return ret;
}

/* Creates and removes a probe file in dir, then compares the room left
 * with need. */
static int check_dir_room(const char *dir, uint64_t need, struct buf *err)
{
    struct buf probe = BUF_INIT;
    struct statvfs vfs;
    uint64_t avail;
    int fd, ret = -1;

    buf_addf(&probe, "%s/.write-check%ld", dir, (long)getpid());
    (void)unlink(probe.buf);
    fd = fs_open_private(probe.buf, O_WRONLY | O_CREAT | O_EXCL, err);
    if (fd < 0)
        goto out;
    (void)close(fd);
    (void)unlink(probe.buf);
    if (statvfs(dir, &vfs) < 0) {
        buf_addf(err, "cannot check the room in '%s': %s", dir,
                 strerror(errno));
        goto out;
    }
    avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
    if (avail < need) {
        buf_addf(err, "not enough room in '%s': %llu KiB free, the reports "
                      "of this run need about %llu KiB", dir,
                 (unsigned long long)(avail / 1024),
                 (unsigned long long)(need / 1024));
        goto out;
    }
    ret = 0;
out:
    buf_release(&probe);
    return ret;
}

int report_run_check_room(const struct report_run *run,
                          const struct plan *plan, struct buf *err)
{
    uint64_t items = plan->notes_nr;
    size_t i;

    for (i = 0; i < plan->nr; i++)
        items += plan->groups[i].nr + 1;
    /* The text and JSON lines of every change, the statistics. */
    return check_dir_room(run->dir,
                          REPORT_ROOM_MIN + items * REPORT_ROOM_PER_ITEM,
                          err) < 0 ||
                   check_dir_room(run->root, REPORT_ROOM_MIN, err) < 0
               ? -1
               : 0;
}

/* Parses "YYYYmmdd_HHMMSS" at the start of a run directory name into ms
 * (local time).  -1 when the name is not a run directory's. */
static int parse_run_name(const char *name, int64_t *ms)
{
    struct tm tm;
    int64_t v[6];
    static const int pos[6][2] = { { 0, 4 },  { 4, 2 },  { 6, 2 },
                                   { 9, 2 },  { 11, 2 }, { 13, 2 } };
    size_t i;
    time_t t;

    if (strlen(name) < 19 || name[8] != '_' || strncmp(name + 15, "_PID", 4))
        return -1;
    for (i = 0; i < 6; i++)
        if (num_parse_i64(name + pos[i][0], (size_t)pos[i][1], 0, 9999,
                          &v[i]) < 0)
            return -1;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = (int)v[0] - 1900;
    tm.tm_mon = (int)v[1] - 1;
    tm.tm_mday = (int)v[2];
    tm.tm_hour = (int)v[3];
    tm.tm_min = (int)v[4];
    tm.tm_sec = (int)v[5];
    tm.tm_isdst = -1;
    t = mktime(&tm);
    if (t == (time_t)-1)
        return -1;
    *ms = (int64_t)t * 1000;
    return 0;
}

/* The top-level `count:` of a run_statistics.yaml, or -1. */
static int64_t read_count(const char *path)
{
    struct buf text = BUF_INIT, ignored = BUF_INIT;
    int64_t count = -1;
    const char *p;

    if (fs_read_file(path, 1 << 22, &text, &ignored) < 0)
        goto out;
    for (p = text.buf; *p; ) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);

        if (len > 7 && !strncmp(p, "count: ", 7)) {
            int64_t v;

            if (num_parse_i64(p + 7, len - 7, 0, INT64_MAX, &v) == 0)
                count = v;
            break;
        }
        p += len + (eol ? 1 : 0);
    }
out:
    buf_release(&text);
    buf_release(&ignored);
    return count;
}

int report_checkpoint_scan(const char *root, const char *exclude,
                           int64_t now_ms, int64_t window_ms,
                           struct report_checkpoint *cp, struct buf *err)
{
    struct buf path = BUF_INIT;
    struct dirent *de;
    DIR *d;

    memset(cp, 0, sizeof(*cp));
    cp->max_count = -1;
    d = opendir(root);
    if (!d) {
        if (errno == ENOENT)
            return 0;
        buf_addf(err, "cannot read log directory '%s': %s", root,
                 strerror(errno));
        return -1;
    }
    while ((de = readdir(d))) {
        int64_t when, count;

        if (parse_run_name(de->d_name, &when) < 0)
            continue;
        if (exclude && !strcmp(de->d_name, exclude))
            continue;
        if (now_ms - when > window_ms)
            continue;
        buf_reset(&path);
        buf_addf(&path, "%s/%s", root, de->d_name);
        if (!fs_is_dir(path.buf))
            continue;
        ALLOC_GROW(cp->recent, cp->recent_nr + 1, cp->recent_alloc);
        cp->recent[cp->recent_nr++] = xstrdup(de->d_name);
        buf_addstr(&path, "/" REPORT_FILE_STATISTICS);
        count = read_count(path.buf);
        if (count > cp->max_count) {
            cp->max_count = count;
            free(cp->max_run);
            cp->max_run = xstrdup(de->d_name);
        }
    }
    (void)closedir(d);
    buf_release(&path);
    return 0;
}

void report_checkpoint_release(struct report_checkpoint *cp)
{
    size_t i;

    if (!cp)
        return;
    for (i = 0; i < cp->recent_nr; i++)
        free(cp->recent[i]);
    free(cp->recent);
    free(cp->max_run);
    memset(cp, 0, sizeof(*cp));
}

int report_checkpoint_archive(const char *root,
                              const struct report_checkpoint *cp,
                              int64_t now_ms, struct buf *err)
{
    struct buf dest = BUF_INIT, from = BUF_INIT, to = BUF_INIT;
    char stamp[32];
    size_t i;
    int ret = -1;

    if (!cp->recent_nr)
        return 0;
    report_stamp(now_ms, stamp);
    buf_addf(&dest, "%s/_archive/cycle-%s", root, stamp);
    if (fs_mkdir_p(dest.buf, err) < 0)
        goto out;
    for (i = 0; i < cp->recent_nr; i++) {
        buf_reset(&from);
        buf_reset(&to);
        buf_addf(&from, "%s/%s", root, cp->recent[i]);
        buf_addf(&to, "%s/%s", dest.buf, cp->recent[i]);
        if (rename(from.buf, to.buf) < 0) {
            buf_addf(err, "cannot archive '%s': %s", from.buf,
                     strerror(errno));
            goto out;
        }
    }
    ret = 0;
out:
    buf_release(&dest);
    buf_release(&from);
    buf_release(&to);
    return ret;
}

int64_t report_checkpoint_skip(bool resume_previous, int64_t skip_n,
                               int64_t max_items, int64_t prev_count,
                               int64_t total, bool *cycle_done,
                               const char **source)
{
    int64_t overlap = 500;

    *cycle_done = false;
    if (max_items > 0 && max_items / 2 < overlap)
        overlap = max_items / 2;
    if (resume_previous && prev_count > 0) {
        if (total >= 0 && prev_count >= total - overlap) {
            /* The previous runs reached the end: a new pass begins,
             * from skip_n as if no checkpoint existed. */
            *cycle_done = true;
            *source = "cycle";
            return skip_n > 0 ? skip_n : 0;
        }
        if (prev_count - overlap > 0) {
            *source = "resume";
            return prev_count - overlap;
        }
    }
    if (skip_n > 0) {
        *source = "config";
        return skip_n;
    }
    *source = "none";
    return 0;
}
