/*
 * resume.c: the checkpoint of sliced runs (see resume.h): the recent run
 * directories and the state database read back, the skip rule, and the
 * archive of a completed pass.
 */
#include "resume/resume.h"

#include <dirent.h>
#include <errno.h>

#include "core/fsutil.h"
#include "core/numparse.h"
#include "report/report.h"
#include "state/state.h"

int64_t resume_max_items(long opt_max_items, long cfg_max_items)
{
    if (opt_max_items >= 0)
        return opt_max_items;
    return cfg_max_items > 0 ? cfg_max_items : -1;
}

/* The top-level `count:` of a run_statistics.yaml, or -1. */
static int64_t read_count(const char *path)
{
    struct buf text = BUF_INIT, ignored = BUF_INIT;
    int64_t count = -1;
    const char *p;

    if (fs_read_file(path, 1 << 22, &text, &ignored) < 0)
        goto out;
    for (p = text.buf; *p;) {
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

/*
 * The run directories of the window other than the current one: their
 * names into r->recent, the highest `count` into r->prev_count/prev_run.
 * A missing root is no error.
 */
static int scan_runs(struct resume *r, const struct resume_in *in,
                     struct buf *err)
{
    struct buf path = BUF_INIT;
    struct dirent *de;
    DIR *d = opendir(in->root);

    if (!d) {
        if (errno == ENOENT)
            return 0;
        buf_addf(err, "cannot read log directory '%s': %s", in->root,
                 strerror(errno));
        return -1;
    }
    while ((de = readdir(d))) {
        int64_t when, count;

        if (report_run_name_time(de->d_name, &when) < 0)
            continue;
        if (in->exclude_run && !strcmp(de->d_name, in->exclude_run))
            continue;
        if (in->now_ms - when > RESUME_WINDOW_MS)
            continue;
        buf_reset(&path);
        buf_addf(&path, "%s/%s", in->root, de->d_name);
        if (!fs_is_dir(path.buf))
            continue;
        ALLOC_GROW(r->recent, r->recent_nr + 1, r->recent_alloc);
        r->recent[r->recent_nr++] = xstrdup(de->d_name);
        buf_addstr(&path, "/" REPORT_FILE_STATISTICS);
        count = read_count(path.buf);
        if (count > r->prev_count) {
            r->prev_count = count;
            free(r->prev_run);
            r->prev_run = xstrdup(de->d_name);
        }
    }
    (void)closedir(d);
    buf_release(&path);
    return 0;
}

void resume_decide(struct resume *r, const struct resume_in *in,
                   struct state *st, struct buf *warnings)
{
    struct buf err = BUF_INIT;
    int64_t db = -1;

    memset(r, 0, sizeof(*r));
    r->prev_count = -1;
    if (in->root && scan_runs(r, in, &err) < 0) {
        buf_addf(warnings, "checkpoint: %s\n", err.buf);
        buf_reset(&err);
    }
    /* The database remembers runs whose directories were removed. */
    if (st && state_max_count(st, in->now_ms - RESUME_WINDOW_MS,
                              in->exclude_state_id, &db, &err) < 0)
        buf_addf(warnings, "checkpoint: %s\n", err.buf);
    if (db > r->prev_count) {
        r->prev_count = db;
        free(r->prev_run);
        r->prev_run = NULL;
    }
    r->skip = resume_skip(in->resume_previous, in->skip_n, in->max_items,
                          r->prev_count, in->total, &r->cycle_done, &r->source);
    if (in->total >= 0 && r->skip > in->total)
        r->skip = in->total;
    buf_release(&err);
}

int resume_archive(const struct resume *r, const char *root, int64_t now_ms,
                   struct buf *err)
{
    struct buf dest = BUF_INIT, from = BUF_INIT, to = BUF_INIT;
    char stamp[32];
    size_t i;
    int ret = -1;

    if (!r->recent_nr)
        return 0;
    report_stamp(now_ms, stamp);
    buf_addf(&dest, "%s/_archive/cycle-%s", root, stamp);
    if (fs_mkdir_p(dest.buf, err) < 0)
        goto out;
    for (i = 0; i < r->recent_nr; i++) {
        buf_reset(&from);
        buf_reset(&to);
        buf_addf(&from, "%s/%s", root, r->recent[i]);
        buf_addf(&to, "%s/%s", dest.buf, r->recent[i]);
        if (rename(from.buf, to.buf) < 0) {
            buf_addf(err, "cannot archive '%s': %s", from.buf, strerror(errno));
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

void resume_release(struct resume *r)
{
    size_t i;

    if (!r)
        return;
    for (i = 0; i < r->recent_nr; i++)
        free(r->recent[i]);
    free(r->recent);
    free(r->prev_run);
    memset(r, 0, sizeof(*r));
}

int64_t resume_skip(bool resume_previous, int64_t skip_n, int64_t max_items,
                    int64_t prev_count, int64_t total, bool *cycle_done,
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
