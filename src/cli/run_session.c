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

/* Previous counters, by the report's table of counter names: a key this
 * program does not count any more is left out. */
static void from_state(const struct state_counters *sc,
                       struct report_counters *rc)
{
    size_t i;

    memset(rc, 0, sizeof(*rc));
    for (i = 0; i < sc->nr && rc->nr < REPORT_COUNTERS_MAX; i++)
        (void)report_counter_set(rc, sc->items[i].key, sc->items[i].value);
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

/* The counters of the run before this one, when the state has it: 1,
 * else 0 (a read that fails is a warning, not a failed run). */
static int previous_counters(struct run_session *rs, struct state_run *run,
                             struct report_counters *prev)
{
    struct buf err = BUF_INIT;
    int have = 0;

    switch (state_previous_run(rs->st, rs->state_run_id, run, &err)) {
    case 1:
        from_state(&run->counters, prev);
        have = 1;
        break;
    case 0:
        break;
    default:
        warn_log("%s", err.buf);
        break;
    }
    buf_release(&err);
    return have;
}

/*
 * The figures of run_statistics.yaml and the summary: where the run
 * started and how far it got (only a run that made its changes moves the
 * checkpoint on), this run's counters and the previous run's.  `progress`
 * holds the text s points into.
 */
static void fill_stats(struct report_stats *s, const struct run_session *rs,
                       const struct run_result *res, int64_t now_ms,
                       struct buf *progress)
{
    bool advanced =
        res->status == STATE_RUN_DONE || res->status == STATE_RUN_PARTIAL;

    memset(s, 0, sizeof(*s));
    s->git_describe_package = "v" IA_VERSION;
    s->total_assets = res->total_assets;
    s->max_assets = rs->max_items;
    s->skip_n = rs->skip;
    s->count = advanced ? rs->skip + res->processed : rs->skip;
    s->last_processed_id = res->last_id;
    s->has_last_processed_id = res->has_last_id && advanced;
    s->started_at = rs->run.started_at;
    s->finished_at = now_ms;
    s->abrupt_exit_at =
        res->status == STATE_RUN_INTERRUPTED ? now_ms : TIME_NONE;
    buf_addf(progress, "Processed:%lld/%lld Skip:%lld", (long long)s->count,
             (long long)res->total_assets, (long long)rs->skip);
    s->progress_description = progress->buf;
    s->checkpoint_source = rs->skip_source;
}

/* A text the run carries (metrics, timeline) as the report file name. */
static int write_text(struct run_session *rs, const char *name,
                      const char *text)
{
    struct buf b = BUF_INIT;
    int ret;

    buf_addstr(&b, text);
    ret = write_file(rs, name, &b);
    buf_release(&b);
    return ret;
}

/*
 * Writes the modification report as it is built (never whole in memory)
 * and fills kinds; 1 when the file failed (the counts are still made).
 */
static int write_modifications(struct run_session *rs,
                               const struct report_ctx *c,
                               struct report_kinds *kinds)
{
    struct report_file mods;
    struct buf err = BUF_INIT;
    int failed = 0;

    if (report_file_open(&mods, &rs->run, REPORT_FILE_MODIFICATIONS, &err) <
            0 ||
        report_modifications_write(c, &mods, kinds, &err) < 0 ||
        report_file_commit(&mods, &err) < 0) {
        error_log("%s", err.buf);
        failed = 1;
        /* the counts are wanted even when the file is not */
        report_modifications(c, NULL, NULL, kinds);
    }
    buf_release(&err);
    return failed;
}

/*
 * Writes the rest of the journal (the events settled while writing are
 * in it already; the rest and the notes now), the metrics and the
 * timeline.  1 when any of them failed.
 */
static int write_journal(struct run_session *rs, const struct run_result *res,
                         const struct report_ctx *c)
{
    struct buf err = BUF_INIT;
    int failed = 0;

    if (report_journal_flush(&rs->journal, c, true, &err) < 0) {
        error_log("%s", err.buf);
        failed = 1;
    }
    failed |= rs->journal_failed;
    if (res->metrics_json)
        failed |= write_text(rs, REPORT_FILE_METRICS, res->metrics_json) < 0;
    if (res->timeline_json)
        failed |= write_text(rs, REPORT_FILE_TIMELINE, res->timeline_json) < 0;
    buf_release(&err);
    return failed;
}

/*
 * Writes the statistics (one entry per tag and album, written as built)
 * and the summary, which stays in `summary` for stdout.  Last of the
 * reports, so the peak memory they give is the run's: the HTML page,
 * which reads the journal back, comes before.  1 when any failed.
 */
static int write_statistics(struct run_session *rs, const struct report_ctx *c,
                            struct report_stats *s,
                            const struct report_kinds *kinds,
                            struct buf *summary)
{
    struct report_file stats;
    struct buf err = BUF_INIT;
    int failed = 0;

    s->peak_rss_kb = procstat_peak_rss_kb();
    if (report_file_open(&stats, &rs->run, REPORT_FILE_STATISTICS, &err) < 0 ||
        report_statistics_write(c, s, kinds, &stats, &err) < 0 ||
        report_file_commit(&stats, &err) < 0) {
        error_log("%s", err.buf);
        failed = 1;
    }
    buf_reset(summary);
    report_summary(c, s, kinds, summary);
    failed |= write_file(rs, REPORT_FILE_SUMMARY, summary) < 0;
    buf_release(&err);
    return failed;
}

/* The run's end in the state database (status, checkpoint, counters);
 * 0 or -1, said. */
static int record_end(struct run_session *rs, const struct run_result *res,
                      const struct report_stats *s,
                      const struct report_counters *cur, int64_t now_ms)
{
    struct state_counters sc = STATE_COUNTERS_INIT;
    struct state_run_end end;
    struct buf err = BUF_INIT;
    char last[UUID_STR_LEN + 1];
    int ret;

    end.finished_at = now_ms;
    end.status = res->status;
    end.skip_n = rs->skip;
    end.count = s->count;
    if (s->has_last_processed_id)
        uuid_format(&res->last_id, last);
    end.last_processed_id = s->has_last_processed_id ? last : NULL;
    to_state(cur, &sc);
    end.counters = &sc;
    ret = state_run_finish(rs->st, rs->state_run_id, &end, &err);
    if (ret < 0)
        error_log("%s", err.buf);
    state_counters_release(&sc);
    buf_release(&err);
    return ret;
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
    struct buf summary = BUF_INIT, err = BUF_INIT, progress = BUF_INIT,
               out = BUF_INIT;
    int have_prev, failed;

    plan_init(&empty);
    fill_ctx(&c, res, &empty, now_ms);
    failed = write_modifications(rs, &c, &kinds);
    report_counters(&c, &cur);
    have_prev = previous_counters(rs, &prev_run, &prev);
    fill_stats(&s, rs, res, now_ms, &progress);
    s.counters = &cur;
    s.previous = have_prev ? &prev : NULL;
    s.previous_run = have_prev ? prev_run.name : NULL;

    failed |= write_journal(rs, res, &c);
    failed |= record_end(rs, res, &s, &cur, now_ms) < 0;
    /* The page shows this run in the history too: after the state. */
    if (cli_report_html(rs->run.dir, rs->run.name, rs->st, res->server_url,
                        &err) < 0) {
        error_log("%s", err.buf);
        failed = 1;
    }
    /* Every big report is written: the run's peak is behind (measured
     * before the page, a run whose read had become small missed it). */
    failed |= write_statistics(rs, &c, &s, &kinds, &summary);

    /* stdout: the summary, then the run directory on the last line. */
    log_redact(&out, summary.buf);
    fputs(out.buf, stdout);
    printf("%s\n", rs->run.dir);
    fflush(stdout);
    if (have_prev)
        state_run_release(&prev_run);
    plan_release(&empty);
    buf_release(&summary);
    buf_release(&err);
    buf_release(&progress);
    buf_release(&out);
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
