/*
 * cmd_report.c: report.html of a run directory (written at the end of
 * every run, again by `immich-autotag report [RUN]`) and `immich-autotag
 * history`, the past runs with their headline figures.  Both read the run
 * directories and the run history in state.sqlite; neither talks to the
 * server.
 */
#include "cli/cli.h"

#include <errno.h>
#include <unistd.h>

#include "cli/run_session.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "report/html.h"

/* Files of a run directory read at most. */
#define RUN_FILE_MAX ((size_t)1024 * 1024 * 1024)

const char cmd_report_help[] =
    "usage: immich-autotag report [RUN] [options]\n"
    "\n"
    "Writes report.html again in the run directory RUN (a path, or a name\n"
    "under --log-dir; by default the last run): one page that opens in\n"
    "any browser, without network, with what the run changed by kind and\n"
    "rule, its requests, latency, phases, CPU and memory, the trend over\n"
    "the last runs and every change with a link to its asset.  Prints the\n"
    "file's path.\n";

const char cmd_history_help[] =
    "usage: immich-autotag history [options]\n"
    "\n"
    "Lists the past runs of the log directory (--log-dir), newest first,\n"
    "with their status, duration, changes and write requests.\n";

static int64_t counter(const struct state_run *r, const char *key)
{
    size_t i;

    for (i = 0; i < r->counters.nr; i++)
        if (!strcmp(r->counters.items[i].key, key))
            return r->counters.items[i].value;
    return 0;
}

/* A file of dir into out; false (out empty) when it is absent. */
static int read_opt(const char *dir, const char *name, struct buf *out,
                    bool *present, struct buf *err)
{
    struct buf path = BUF_INIT;
    int ret = 0;

    buf_addf(&path, "%s/%s", dir, name);
    *present = !access(path.buf, F_OK);
    if (*present)
        ret = fs_read_file(path.buf, RUN_FILE_MAX, out, err);
    buf_release(&path);
    return ret;
}

int cli_report_html(const char *dir, const char *name, struct state *st,
                    const char *server_url, struct buf *err)
{
    struct buf metrics = BUF_INIT, timeline = BUF_INIT, jpath = BUF_INIT,
               page = BUF_INIT;
    FILE *jfile = NULL;
    struct report_html_run hist[REPORT_HTML_HISTORY_MAX];
    struct report_html_input in;
    struct state_run *runs = NULL;
    struct report_run where;
    size_t nr = 0, i;
    bool has_m, has_t;
    int ret = -1;

    memset(&in, 0, sizeof(in));
    if (read_opt(dir, REPORT_FILE_METRICS, &metrics, &has_m, err) < 0 ||
        read_opt(dir, REPORT_FILE_TIMELINE, &timeline, &has_t, err) < 0)
        goto out;
    /* The journal can be big: read a line at a time, never whole. */
    buf_addf(&jpath, "%s/%s", dir, REPORT_FILE_MODIFICATIONS_JSONL);
    jfile = fopen(jpath.buf, "re");
    if (!jfile && errno != ENOENT) {
        buf_addf(err, "cannot read '%s': %s", jpath.buf, strerror(errno));
        goto out;
    }
    if (st &&
        state_runs_recent(st, REPORT_HTML_HISTORY_MAX, &runs, &nr, err) < 0)
        goto out;
    /* The trend reads oldest first. */
    for (i = 0; i < nr; i++) {
        const struct state_run *r = &runs[nr - 1 - i];

        hist[i].name = r->name;
        hist[i].started_at = r->started_at;
        hist[i].finished_at = r->finished_at ? r->finished_at : r->started_at;
        hist[i].status = (int)r->status;
        hist[i].write_requests = counter(r, "write_requests");
        hist[i].changes = counter(r, "changes_done");
    }
    in.run_name = name;
    in.server_url = server_url ? server_url : "";
    in.metrics_json = has_m ? metrics.buf : NULL;
    in.timeline_json = has_t ? timeline.buf : NULL;
    in.journal_file = jfile;
    in.history = hist;
    in.history_nr = nr;
    if (report_html(&in, &page, err) < 0)
        goto out;
    memset(&where, 0, sizeof(where));
    where.dir = (char *)dir;
    ret = report_write(&where, REPORT_FILE_HTML, &page, err);
out:
    if (ret < 0 && err->len)
        buf_addf(err, " (%s)", dir);
    state_runs_free(runs, nr);
    buf_release(&metrics);
    buf_release(&timeline);
    if (jfile)
        (void)fclose(jfile);
    buf_release(&jpath);
    buf_release(&page);
    return ret;
}

static const char *log_root(const struct cli_ctx *ctx)
{
    return ctx->opts.log_dir ? ctx->opts.log_dir : REPORT_DEFAULT_ROOT;
}

/* The run history of the log root, read-only; NULL with err. */
static struct state *open_history(const struct cli_ctx *ctx, struct buf *err)
{
    struct buf path = BUF_INIT;
    struct state *st = NULL;

    buf_addf(&path, "%s/%s", log_root(ctx), STATE_DB_NAME);
    if (access(path.buf, R_OK))
        buf_addf(err, "no run history in '%s'", log_root(ctx));
    else if (state_open_readonly(&st, path.buf, err) < 0)
        st = NULL;
    buf_release(&path);
    return st;
}

enum cli_status cmd_report(struct cli_ctx *ctx)
{
    struct buf err = BUF_INIT, dir = BUF_INIT;
    enum cli_status st = cli_load_config(ctx);
    struct state *hist = NULL;
    struct state_run *runs = NULL;
    const char *name;
    size_t nr = 0;

    if (st != CLI_OK)
        return st;
    st = CLI_USAGE;
    hist = open_history(ctx, &err);
    if (ctx->opts.args_nr) {
        const char *arg = ctx->opts.args[0];

        if (fs_is_dir(arg))
            buf_addstr(&dir, arg);
        else
            buf_addf(&dir, "%s/%s", log_root(ctx), arg);
        if (!fs_is_dir(dir.buf)) {
            error_log("report: no run directory '%s'", arg);
            goto out;
        }
        buf_reset(&err); /* a run directory of its own: no history */
    } else {
        if (!hist || state_runs_recent(hist, 1, &runs, &nr, &err) < 0)
            goto fail;
        if (!nr) {
            error_log("report: no run in '%s'", log_root(ctx));
            goto out;
        }
        buf_addf(&dir, "%s/%s", log_root(ctx), runs[0].name);
    }
    name = strrchr(dir.buf, '/') ? strrchr(dir.buf, '/') + 1 : dir.buf;
    if (cli_report_html(dir.buf, name, hist, ctx->cfg->server.url, &err) < 0)
        goto fail;
    printf("%s/%s\n", dir.buf, REPORT_FILE_HTML);
    st = fflush(stdout) ? CLI_FAILED : CLI_OK;
    goto out;
fail:
    error_log("report: %s", err.buf);
    st = CLI_FAILED;
out:
    state_runs_free(runs, nr);
    state_close(hist);
    buf_release(&err);
    buf_release(&dir);
    return st;
}

enum cli_status cmd_history(struct cli_ctx *ctx)
{
    struct buf err = BUF_INIT, out = BUF_INIT;
    struct state *hist = open_history(ctx, &err);
    struct state_run *runs = NULL;
    enum cli_status st = CLI_FAILED;
    size_t nr = 0, i;

    if (!hist || state_runs_recent(hist, 1000, &runs, &nr, &err) < 0) {
        error_log("history: %s", err.buf);
        goto out;
    }
    buf_addf(&out, "%-28s %-11s %8s %8s %8s %8s\n", "run", "status", "seconds",
             "changes", "failed", "writes");
    for (i = 0; i < nr; i++) {
        const struct state_run *r = &runs[i];

        buf_addf(&out, "%-28s %-11s %8.1f %8lld %8lld %8lld\n", r->name,
                 report_html_status((int)r->status),
                 r->finished_at
                     ? (double)(r->finished_at - r->started_at) / 1000
                     : 0.0,
                 (long long)counter(r, "changes_done"),
                 (long long)counter(r, "changes_failed"),
                 (long long)counter(r, "write_requests"));
    }
    fputs(out.buf, stdout);
    st = fflush(stdout) ? CLI_FAILED : CLI_OK;
out:
    state_runs_free(runs, nr);
    state_close(hist);
    buf_release(&err);
    buf_release(&out);
    return st;
}
