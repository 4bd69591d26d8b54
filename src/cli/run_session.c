/*
 * run_session.c: the lock, run directory, state database, checkpoint and
 * reports of one run (see run_session.h).
 */
#include "cli/run_session.h"

#include <time.h>

#include "core/fsutil.h"
#include "core/log.h"
#include "core/procstat.h"
#include "resume/resume.h"
#include "report/html.h"

int64_t run_now_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One info line per line of text. */
static void info_lines(const char *text)
{
    while (*text) {
        const char *eol = strchr(text, '\n');
        int len = eol ? (int)(eol - text) : (int)strlen(text);

        info_log("%.*s", len, text);
        text += len + (eol ? 1 : 0);
    }
}

static int write_file(struct run_session *rs, const char *name,
                      const struct buf *data)
{
    struct buf err = BUF_INIT;
    int ret = report_write(&rs->run, name, data, &err);

    if (ret < 0)
        error_log("%s", err.buf);
    buf_release(&err);
    return ret;
}

enum cli_status run_session_begin(struct run_session *rs,
                                  const struct cli_ctx *ctx, int64_t now_ms)
{
    const char *root =
        ctx->opts.log_dir ? ctx->opts.log_dir : REPORT_DEFAULT_ROOT;
    struct buf err = BUF_INIT, path = BUF_INIT, text = BUF_INIT;
    enum cli_status ret = CLI_FAILED;

    memset(rs, 0, sizeof(*rs));
    rs->lock.fd = -1;
    rs->journal.fd = -1;
    rs->cfg = ctx->cfg;
    rs->dry_run = ctx->opts.dry_run;
    rs->max_items =
        resume_max_items(ctx->opts.max_items, ctx->cfg->skip.max_items);
    rs->skip_source = "none";
    if (fs_mkdir_p(root, &err) < 0)
        goto out;
    switch (state_lock_acquire(&rs->lock, root, &err)) {
    case STATE_LOCK_ACQUIRED:
        break;
    case STATE_LOCK_BUSY:
    case STATE_LOCK_STALE:
    case STATE_LOCK_ERROR:
        goto out;
    }
    if (report_run_create(&rs->run, root, now_ms, &err) < 0 ||
        report_journal_open(&rs->journal, &rs->run, &err) < 0)
        goto out;
    buf_addf(&path, "%s/immich_autotag_full_output.log", rs->run.dir);
    rs->tee = fs_fopen_append(path.buf, &err);
    if (!rs->tee)
        goto out;
    log_set_tee(rs->tee);
    buf_reset(&path);
    buf_addf(&path, "%s/%s", root, STATE_DB_NAME);
    if (state_open(&rs->st, path.buf, &err) < 0 ||
        state_run_begin(rs->st, rs->run.name, now_ms, &rs->state_run_id, &err) <
            0)
        goto out;
    info_log("run %s: reports in %s", rs->run.name, rs->run.dir);

    /* As upstream: the links and the config dump are there from the
     * start, so an interrupted run still has them. */
    report_links_md(ctx->cfg, ctx->cfg->server.url, &text);
    if (write_file(rs, REPORT_FILE_LINKS, &text) < 0)
        goto out_printed;
    buf_reset(&text);
    report_links_console(ctx->cfg, ctx->cfg->server.url, &text);
    info_log("You can monitor the results and progress at the following "
             "links:");
    info_lines(text.buf);
    buf_reset(&text);
    config_write_yaml(ctx->cfg, true, &text);
    if (write_file(rs, REPORT_FILE_CONFIG_DUMP, &text) < 0)
        goto out_printed;
    ret = CLI_OK;
    goto out_printed;
out:
    error_log("%s", err.buf);
out_printed:
    buf_release(&err);
    buf_release(&path);
    buf_release(&text);
    return ret;
}

void run_session_checkpoint(struct run_session *rs, int64_t total_assets,
                            int64_t now_ms)
{
    struct resume_in in = RESUME_IN_INIT;
    struct resume r;
    struct buf warnings = BUF_INIT, err = BUF_INIT;

    in.root = rs->run.root;
    in.exclude_run = rs->run.name;
    in.exclude_state_id = rs->state_run_id;
    in.resume_previous = rs->cfg->skip.resume_previous;
    in.skip_n = rs->cfg->skip.skip_n;
    in.max_items = rs->max_items;
    in.total = total_assets;
    in.now_ms = now_ms;
    resume_decide(&r, &in, rs->st, &warnings);
    cli_print_warnings(warnings.buf);
    rs->skip = r.skip;
    rs->skip_source = r.source;
    if (r.prev_run)
        rs->prev_run = xstrdup(r.prev_run);
    /* A pass made of slices is complete: put its runs aside, as
     * upstream does (unsliced runs are each a whole pass already). */
    if (r.cycle_done && rs->max_items > 0 && !rs->dry_run) {
        if (resume_archive(&r, rs->run.root, now_ms, &err) < 0)
            warn_log("checkpoint: %s", err.buf);
        else if (r.recent_nr)
            info_log("[CHECKPOINT] pass complete: %zu run directories "
                     "archived",
                     r.recent_nr);
    }
    info_log("[CHECKPOINT] skip_n=%lld (origin: %s)", (long long)rs->skip,
             rs->skip_source);
    resume_release(&r);
    buf_release(&warnings);
    buf_release(&err);
}

/* The report counters as state counters, and back. */
static void to_state(const struct report_counters *rc,
                     struct state_counters *sc)
{
    size_t i;

    for (i = 0; i < rc->nr; i++)
        state_counters_add(sc, rc->c[i].key, rc->c[i].value);
}

static const char *const counter_keys[] = {
    "assets_seen",
    "assets_skipped",
    "classified",
    "unclassified",
    "unclassified_found",
    "conflict",
    "duplicates_flagged",
    "date_mismatches",
    "dates_corrected",
    "albums_created",
    "shares_changed",
    "changes_planned",
    "changes_done",
    "changes_unchanged",
    "changes_failed",
    "changes_pending",
    "tags_added",
    "tags_removed",
    "album_assets_added",
    "album_assets_removed",
    "albums_deleted",
    "write_requests",
    "write_requests_failed",
};

/* Previous counters keep the static key strings of this program. */
static void from_state(const struct state_counters *sc,
                       struct report_counters *rc)
{
    size_t i, k;

    memset(rc, 0, sizeof(*rc));
    for (i = 0; i < sc->nr && rc->nr < REPORT_COUNTERS_MAX; i++) {
        for (k = 0; k < ARRAY_SIZE(counter_keys); k++) {
            if (!strcmp(sc->items[i].key, counter_keys[k])) {
                rc->c[rc->nr].key = counter_keys[k];
                rc->c[rc->nr].value = sc->items[i].value;
                rc->nr++;
                break;
            }
        }
    }
}

static void fill_ctx(struct report_ctx *c, const struct run_result *res,
                     const struct plan *empty, int64_t now_ms)
{
    memset(c, 0, sizeof(*c));
    c->plan = res->plan ? res->plan : empty;
    c->model = res->model;
    c->outcome = res->outcome;
    c->server_url = res->server_url;
    c->user_name = res->user_name;
    c->now_ms = now_ms;
}

void run_session_journal(struct run_session *rs, const struct run_result *res)
{
    struct report_ctx c;
    struct buf err = BUF_INIT;

    if (!res->plan)
        return;
    fill_ctx(&c, res, NULL, run_now_ms());
    if (report_journal_flush(&rs->journal, &c, false, &err) < 0) {
        error_log("%s", err.buf);
        rs->journal_failed = true;
    }
    buf_release(&err);
}

enum cli_status run_session_finish(struct run_session *rs,
                                   const struct run_result *res, int64_t now_ms)
{
    struct plan empty;
    struct report_ctx c;
    struct report_kinds kinds;
    struct report_counters cur, prev;
    struct report_stats s;
    struct state_run prev_run;
    struct state_counters sc = STATE_COUNTERS_INIT;
    struct state_run_end end;
    struct buf txt = BUF_INIT, text = BUF_INIT, err = BUF_INIT,
               progress = BUF_INIT;
    char last[UUID_STR_LEN + 1];
    bool advanced =
        res->status == STATE_RUN_DONE || res->status == STATE_RUN_PARTIAL;
    bool have_prev = false;
    int failed = 0;

    plan_init(&empty);
    fill_ctx(&c, res, &empty, now_ms);
    report_modifications(&c, &txt, NULL, &kinds);
    report_counters(&c, &cur);

    switch (state_previous_run(rs->st, rs->state_run_id, &prev_run, &err)) {
    case 1:
        from_state(&prev_run.counters, &prev);
        have_prev = true;
        break;
    case 0:
        break;
    default:
        warn_log("%s", err.buf);
        buf_reset(&err);
        break;
    }

    memset(&s, 0, sizeof(s));
    s.git_describe_package = "v" IA_VERSION;
    s.total_assets = res->total_assets;
    s.max_assets = rs->max_items;
    s.skip_n = rs->skip;
    /* Only a run that made its changes moves the checkpoint on. */
    s.count = advanced ? rs->skip + res->processed : rs->skip;
    s.last_processed_id = res->last_id;
    s.has_last_processed_id = res->has_last_id && advanced;
    s.started_at = rs->run.started_at;
    s.finished_at = now_ms;
    s.abrupt_exit_at =
        res->status == STATE_RUN_INTERRUPTED ? now_ms : TIME_NONE;
    buf_addf(&progress, "Processed:%lld/%lld Skip:%lld", (long long)s.count,
             (long long)res->total_assets, (long long)rs->skip);
    s.progress_description = progress.buf;
    s.checkpoint_source = rs->skip_source;
    s.counters = &cur;
    s.previous = have_prev ? &prev : NULL;
    s.previous_run = have_prev ? prev_run.name : NULL;

    failed |= write_file(rs, REPORT_FILE_MODIFICATIONS, &txt) < 0;
    /* The journal has the events settled while writing; the rest and
     * the notes now. */
    if (report_journal_flush(&rs->journal, &c, true, &err) < 0) {
        error_log("%s", err.buf);
        buf_reset(&err);
        failed = 1;
    }
    failed |= rs->journal_failed;
    if (res->metrics_json) {
        struct buf m = BUF_INIT;

        buf_addstr(&m, res->metrics_json);
        failed |= write_file(rs, REPORT_FILE_METRICS, &m) < 0;
        buf_release(&m);
    }
    if (res->timeline_json) {
        struct buf t = BUF_INIT;

        buf_addstr(&t, res->timeline_json);
        failed |= write_file(rs, REPORT_FILE_TIMELINE, &t) < 0;
        buf_release(&t);
    }
    end.finished_at = now_ms;
    end.status = res->status;
    end.skip_n = rs->skip;
    end.count = s.count;
    if (s.has_last_processed_id)
        uuid_format(&res->last_id, last);
    end.last_processed_id = s.has_last_processed_id ? last : NULL;
    to_state(&cur, &sc);
    end.counters = &sc;
    if (state_run_finish(rs->st, rs->state_run_id, &end, &err) < 0) {
        error_log("%s", err.buf);
        buf_reset(&err);
        failed = 1;
    }
    /* The page shows this run in the history too: after the state. */
    if (cli_report_html(rs->run.dir, rs->run.name, rs->st, res->server_url,
                        &err) < 0) {
        error_log("%s", err.buf);
        failed = 1;
    }
    /* Every big report is built and written: the run's peak is behind
     * (the HTML page, which reads the journal back, came last; measured
     * before it, a run whose read had become small missed its peak). */
    s.peak_rss_kb = procstat_peak_rss_kb();
    report_statistics_yaml(&c, &s, &kinds, &text);
    failed |= write_file(rs, REPORT_FILE_STATISTICS, &text) < 0;
    buf_reset(&text);
    report_summary(&c, &s, &kinds, &text);
    failed |= write_file(rs, REPORT_FILE_SUMMARY, &text) < 0;

    /* stdout: the summary, then the run directory on the last line. */
    {
        struct buf out = BUF_INIT;

        log_redact(&out, text.buf);
        fputs(out.buf, stdout);
        printf("%s\n", rs->run.dir);
        fflush(stdout);
        buf_release(&out);
    }
    if (have_prev)
        state_run_release(&prev_run);
    state_counters_release(&sc);
    plan_release(&empty);
    buf_release(&txt);
    buf_release(&text);
    buf_release(&err);
    buf_release(&progress);
    return failed ? CLI_FAILED : CLI_OK;
}

void run_session_release(struct run_session *rs)
{
    if (!rs)
        return;
    if (rs->tee) {
        log_set_tee(NULL);
        (void)fclose(rs->tee);
        rs->tee = NULL;
    }
    state_close(rs->st);
    rs->st = NULL;
    report_journal_close(&rs->journal);
    report_run_release(&rs->run);
    state_lock_release(&rs->lock);
    free(rs->prev_run);
    rs->prev_run = NULL;
}
