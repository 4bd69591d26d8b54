/*
 * run_pass.c: config -> snapshot -> evaluate -> plan -> apply -> report,
 * once.  A read that fails writes nothing; a write that fails is
 * reported with its endpoint; the reports are written whatever happened
 * after the session began.
 */
#include "cli/run_pass.h"

#include <unistd.h>

#include "apply/apply_api.h"
#include "apply/apply_perms.h"
#include "cli/cli_server.h"
#include "cli/run_session.h"
#include "core/log.h"
#include "core/sigflag.h"
#include "rules/rules.h"

struct pass {
    struct cli_ctx *ctx;
    const struct plan *saved;
    run_plan_fn *build; /* NULL: the rules make the plan */
    void *build_ctx;
    struct run_session rs;
    struct progress prog;
    struct http_engine *eng;
    struct model m;
    struct plan fresh;
    struct outcome o;
    bool have_outcome;
    struct snapshot_info info;
    struct state_lock user_lock; /* (server, user): held while writing */
    int64_t read_at;             /* when the library read began, ms */
    struct run_result res;
    struct buf metrics;
    struct buf timeline;        /* the phases, for report.html */
    struct apply_hold hold;     /* writes held for the server's job queues */
    struct apply_listed listed; /* albums made since the read, as the
                                   torn-read check listed them */
};

static void on_apply_progress(void *ctx, enum apply_phase ph, size_t done,
                              size_t total)
{
    struct pass *ps = ctx;
    struct progress *p = &ps->prog;

    /* Between batches: what the previous ones settled goes on record. */
    run_session_journal(&ps->rs, &ps->res);
    if (!done)
        progress_phase(p, "apply", apply_phase_name(ph), total, run_now_ms());
    else if (done == total)
        progress_end(p, run_now_ms());
}

/* Reads the library and evaluates the rules into ps->fresh. */
static enum cli_status read_and_evaluate(struct pass *ps)
{
    struct rules_result rres;
    const struct config *cfg = ps->ctx->cfg;
    struct rules_opts ro = RULES_OPTS_INIT;
    struct buf err = BUF_INIT;
    enum cli_status st;

    ps->read_at = run_now_ms();
    st = cli_read_library(ps->ctx, ps->eng, &ps->m, &ps->info, &ps->prog,
                          ps->rs.st, true);
    if (st != CLI_OK)
        return st;
    ps->res.model = &ps->m;
    ps->res.total_assets = ps->info.server_total;
    if (ps->build) {
        if (ps->build(ps->build_ctx, &ps->m, &ps->fresh, &err) < 0) {
            error_log("%s: nothing written", err.buf);
            buf_release(&err);
            return CLI_FAILED;
        }
        plan_finish(&ps->fresh);
        return CLI_OK;
    }
    ro.now = run_now_ms();
    if (ps->saved) {
        /* The whole library: a saved plan's window is a part of it. */
        ro.skip_n = 0;
        ro.max_items = -1;
    } else {
        run_session_checkpoint(&ps->rs, ps->info.server_total, ro.now);
        ro.skip_n = (long)ps->rs.skip;
        ro.max_items = (long)ps->rs.max_items;
    }
    ro.result = &rres;
    if (rules_evaluate(cfg, &ps->m, &ro, &ps->fresh, &err) < 0) {
        error_log("%s", err.buf);
        buf_release(&err);
        return CLI_FAILED;
    }
    progress_mark(&ps->prog, "plan", "evaluate", ro.now, run_now_ms());
    /* A change-only evaluation covers the whole library (what it did not
     * walk needs nothing): the checkpoint moves past all of it. */
    ps->res.processed = rres.incremental
                            ? ps->info.server_total - (int64_t)ps->rs.skip
                            : (int64_t)ps->fresh.stats.assets_seen;
    cli_warn_hidden_users(cfg, &ps->info, &ps->fresh);
    ps->res.last_id = ps->fresh.stats.last_in_window;
    ps->res.has_last_id = ps->fresh.stats.has_last_in_window;
    buf_release(&err);
    return CLI_OK;
}

/* A saved plan is applied only to the server and library it fits. */
static enum cli_status check_saved(struct pass *ps)
{
    const char *url = ps->ctx->cfg->server.url;
    struct buf err = BUF_INIT;
    enum cli_status st = CLI_OK;

    if (ps->saved->server_url && strcmp(ps->saved->server_url, url)) {
        error_log("apply: the plan was made for %s, not %s: nothing "
                  "written",
                  ps->saved->server_url, url);
        st = CLI_FAILED;
        goto out;
    }
    if (ps->saved->snapshot_digest && ps->fresh.snapshot_digest &&
        !strcmp(ps->saved->snapshot_digest, ps->fresh.snapshot_digest))
        info_log("apply: the library is as it was when the plan was made "
                 "(digest %s)",
                 ps->saved->snapshot_digest);
    else
        info_log("apply: the library changed since the plan was made; "
                 "checking that every change still applies");
    if (apply_check_stale(ps->saved, &ps->fresh, &ps->m, &err) < 0) {
        error_log("apply: %s: nothing written (make a new plan)", err.buf);
        st = CLI_FAILED;
    }
out:
    buf_release(&err);
    return st;
}

static void on_jobs_wait(void *ctx, long pending, long waited_ms)
{
    struct pass *ps = ctx;

    if (waited_ms % 10000 == 0)
        info_log("waiting for the server's background jobs (%ld ahead in "
                 "the sidecar and metadata queues, %ld s so far)",
                 pending, waited_ms / 1000);
    (void)ps;
}

/* Writes held for the server's job queues: the progress line and, every
 * 10 s, a log line (what a log without a terminal shows). */
static void on_hold_wait(void *ctx, long pending, long waited_ms)
{
    struct pass *ps = ctx;
    char what[48];

    snprintf(what, sizeof(what), "the job queues (%ld ahead)", pending);
    progress_update(&ps->prog, ps->prog.done, ps->prog.inflight, what,
                    waited_ms / 1000, run_now_ms());
    if (waited_ms % 10000 == 0)
        info_log("holding writes: %ld jobs ahead in the server's sidecar "
                 "and metadata queues (more than %ld), %ld s so far",
                 pending, ps->hold.threshold, waited_ms / 1000);
}

/* A hold is a phase of the run's timeline (report.html, the bench). */
static void on_held(void *ctx, long waited_ms)
{
    struct pass *ps = ctx;
    int64_t now = run_now_ms();

    progress_mark(&ps->prog, "apply", "holding writes: job queues",
                  now - waited_ms, now);
}

/* The hold's settings from the options (struct apply_hold). */
static void hold_init(struct pass *ps)
{
    const struct cli_opts *o = &ps->ctx->opts;

    memset(&ps->hold, 0, sizeof(ps->hold));
    ps->hold.threshold = o->hold_jobs < 0 ? APPLY_HOLD_DEFAULT : o->hold_jobs;
    ps->hold.max_wait_ms =
        o->hold_jobs_max_s ? o->hold_jobs_max_s * 1000 : APPLY_HOLD_MAX_DEFAULT;
    ps->hold.poll_ms = 500;
    ps->hold.waiting = on_hold_wait;
    ps->hold.held = on_held;
    ps->hold.ctx = ps;
}

/* What the hold did, once the writes are done. */
static void hold_report(const struct pass *ps)
{
    const struct apply_hold *h = &ps->hold;

    if (h->holds)
        info_log("writes held %zu times for the server's job queues "
                 "(%.1f s in all, at most %ld jobs ahead)",
                 h->holds, (double)h->held_ms / 1000.0, h->threshold);
    if (h->timeouts)
        warn_log("the server's job queues stayed above %ld jobs for %ld s "
                 "(%zu times): writes went on",
                 h->threshold, h->max_wait_ms / 1000, h->timeouts);
    if (h->off && !h->denied)
        warn_log("the server's job queues could not be read: writes were "
                 "not held for them");
}

/*
 * Immich 2.x's sidecar jobs may undo tag changes made seconds apart
 * (apply_verify.c): wait for them, check, and make again what they undid.
 */
static int verify_tags(struct pass *ps, struct apply_api *aa,
                       const struct plan *p)
{
    struct apply_verify_opts vo = {300000, 500, on_jobs_wait, NULL};
    struct apply_verify_result res;
    struct buf err = BUF_INIT;
    int64_t start;
    int rc;

    if (!plan_count_op(p, PLAN_TAG_ADD) && !plan_count_op(p, PLAN_TAG_REMOVE))
        return 0;
    vo.ctx = ps;
    start = run_now_ms();
    rc = apply_api_verify_tags(aa, p, &ps->o, &vo, &res, &err);
    /* the waits and the read-backs, one span of the timeline */
    progress_mark(&ps->prog, "apply", "job queues: wait and check tags", start,
                  run_now_ms());
    if (rc < 0)
        error_log("checking the tags after the server's jobs: %s", err.buf);
    else if (res.no_job_access)
        info_log("Immich 2.x's background jobs can undo tag changes made "
                 "seconds apart; this key cannot read the job queues "
                 "(job.read, admin user), so the next run checks them");
    else if (res.timed_out)
        warn_log("the server's background jobs were still running after "
                 "%ld s: the next run checks the tags this one changed",
                 vo.max_wait_ms / 1000);
    else if (res.rounds)
        info_log("tags: %zu changes checked after the server's jobs, %zu "
                 "undone by them and made again",
                 res.checked, res.reverted);
    buf_release(&err);
    return rc;
}

/*
 * Applies the plan: checks there is room under the log directory first
 * (never change the library without room to report it), runs the apply
 * phases against the engine, then says what happened: failed requests
 * with their distinct reasons (exit 1), per-asset refusals as a warning
 * (as upstream), and the counts of changes made.
 */
static enum cli_status write_changes(struct pass *ps, const struct plan *p)
{
    const struct config *cfg = ps->ctx->cfg;
    struct apply_opts ao = {0, false, false, NULL, NULL, 0};
    struct apply_api aa;
    struct api api;
    struct buf err = BUF_INIT;
    enum cli_status st = CLI_OK;
    enum apply_result ar;

    /* Never change the library without room to say what changed. */
    if (report_run_check_room(&ps->rs.run, p, &err) < 0) {
        error_log("%s: nothing written to the server", err.buf);
        buf_release(&err);
        return CLI_FAILED;
    }
    outcome_init(&ps->o, p);
    ps->have_outcome = true;
    ps->res.plan = p;
    ps->res.outcome = &ps->o;
    api_init(&api, ps->eng);
    api.dialect = ps->info.dialect;
    apply_api_init(&aa, &api);
    if (ps->m.me < ps->m.users_nr) {
        aa.me = ps->m.users[ps->m.me].id;
        aa.know_me = true;
    }
    aa.read = &ps->m;
    aa.listed = &ps->listed;
    hold_init(ps);
    aa.hold = &ps->hold;
    ao.slots = (size_t)http_engine_concurrency(ps->eng);
    ao.fail_fast = cfg->performance.fail_fast_on_asset_errors;
    ao.dry_run = ps->ctx->opts.dry_run;
    ao.progress = on_apply_progress;
    ao.progress_ctx = ps;
    ar = apply_run(p, &aa.writer, &ao, &ps->o, &err);
    progress_end(&ps->prog, run_now_ms());
    hold_report(ps);
    if (ar == APPLY_OK && !ao.dry_run && ps->info.dialect == 2 &&
        verify_tags(ps, &aa, p) < 0)
        ar = APPLY_STOPPED;

    if (ao.dry_run) {
        ps->res.status = STATE_RUN_DRY;
    } else if (ps->o.interrupted) {
        ps->res.status = STATE_RUN_INTERRUPTED;
        st = CLI_FAILED;
    } else if (ar == APPLY_STOPPED) {
        error_log("apply: %s", err.buf);
        ps->res.status = STATE_RUN_FAILED;
        st = aa.writer.auth_failed || aa.writer.unreachable ? CLI_SERVER
                                                            : CLI_FAILED;
    } else if (ps->o.requests_failed) {
        size_t shown = 0;

        error_log("%zu write requests failed (%zu changes): see the "
                  "modification report",
                  ps->o.requests_failed, ps->o.failed);
        /* The distinct reasons, the first few: what came back. */
        for (size_t g = 0; g < ps->o.nr && shown < 3; g++) {
            const char *msg = ps->o.groups[g].message;
            bool seen = false;

            for (size_t k = 0; msg && k < g && !seen; k++)
                seen = ps->o.groups[k].message &&
                       !strcmp(ps->o.groups[k].message, msg);
            if (msg && !seen) {
                error_log("  %s", msg);
                shown++;
            }
        }
        ps->res.status = STATE_RUN_PARTIAL;
        st = CLI_FAILED;
    } else if (ps->o.failed) {
        /* Per-id refusals are the server's answer for those assets, not
         * a failure of the run (upstream exits 0 too). */
        warn_log("%zu changes were refused by the server (per asset): see "
                 "the modification report",
                 ps->o.failed);
        ps->res.status = STATE_RUN_PARTIAL;
    } else {
        ps->res.status = STATE_RUN_DONE;
    }
    if (!ao.dry_run)
        cli_remember_new_albums(ps->ctx, ps->rs.st, &ps->m, ps->info.dialect, p,
                                &ps->o);
    info_log("writes: %zu requests; %zu changes made, %zu already so, "
             "%zu failed, %zu not attempted",
             ps->o.requests, ps->o.done, ps->o.unchanged, ps->o.failed,
             ps->o.pending);
    apply_api_release(&aa);
    buf_release(&err);
    return st;
}

#define READ_ATTEMPTS 3

/*
 * Reads and evaluates until the albums did not change during the read
 * (snapshot_albums_changed()): a read torn by another writer is done
 * again, at most READ_ATTEMPTS times in all; album memberships that did
 * not change come from the state database, so a second read costs the
 * asset pages and the changed albums.  A plan with nothing to write needs
 * no check.  The last check's listing also names the albums made since
 * the read (ps->listed), which the album creates reuse by name.
 */
static enum cli_status read_consistent(struct pass *ps)
{
    struct buf what = BUF_INIT, err = BUF_INIT;
    enum cli_status st;

    for (int attempt = 1;; attempt++) {
        int r;

        st = read_and_evaluate(ps);
        if (st == CLI_OK && ps->saved)
            st = check_saved(ps);
        if (st != CLI_OK || ps->ctx->opts.dry_run ||
            plan_is_empty(ps->saved ? ps->saved : &ps->fresh))
            break;
        buf_reset(&what);
        apply_listed_reset(&ps->listed);
        r = snapshot_albums_changed(ps->eng, ps->info.dialect, &ps->m,
                                    apply_api_listed, &ps->listed, &what, &err);
        if (r < 0) {
            error_log("%s: nothing written", err.buf);
            st = CLI_FAILED;
            break;
        }
        if (r == 0)
            break;
        if (attempt == READ_ATTEMPTS) {
            warn_log("%s while the library was read, %d times: writing "
                     "anyway (the server's answers decide each change)",
                     what.buf, attempt);
            break;
        }
        info_log("%s while the library was read: reading it again", what.buf);
        ps->res.model = NULL;
        model_release(&ps->m);
        model_init(&ps->m);
        plan_release(&ps->fresh);
        plan_init(&ps->fresh);
        memset(&ps->info, 0, sizeof(ps->info));
    }
    buf_release(&what);
    buf_release(&err);
    return st;
}

/*
 * Two runs for the same user of the same server never write at once,
 * whatever their log directories: the second stops before its first
 * write.
 */
static enum cli_status lock_user(struct pass *ps)
{
    struct buf err = BUF_INIT;
    enum cli_status st = CLI_OK;

    if (state_user_lock_acquire(&ps->user_lock, ps->ctx->cfg->server.url,
                                &ps->m.users[ps->m.me].id, ps->read_at,
                                &err) != STATE_LOCK_ACQUIRED) {
        error_log("%s", err.buf);
        st = CLI_FAILED;
    }
    buf_release(&err);
    return st;
}

/* Nothing is written unless the key holds what the plan's writes need. */
static enum cli_status check_permissions(struct pass *ps, const struct plan *p)
{
    struct buf err = BUF_INIT;
    enum cli_status st = CLI_OK;
    struct api api;

    api_init(&api, ps->eng);
    api.dialect = ps->info.dialect;
    switch (apply_check_permissions(p, &api, &err)) {
    case APPLY_PERMS_OK:
        break;
    case APPLY_PERMS_UNLISTED:
        warn_log("%s", err.buf);
        break;
    case APPLY_PERMS_MISSING:
    case APPLY_PERMS_SERVER:
        error_log("%s: nothing written", err.buf);
        st = CLI_SERVER;
        break;
    case APPLY_PERMS_FAILED:
        error_log("%s: nothing written", err.buf);
        st = CLI_FAILED;
        break;
    }
    buf_release(&err);
    return st;
}

static void print_plan(const struct plan *p, const struct model *m)
{
    struct buf out = BUF_INIT;
    struct plan_names names = {cli_model_name, (void *)m};

    plan_print_summary_named(p, &out, 5, &names);
    fputs(out.buf, stdout);
    buf_release(&out);
}

/*
 * One run: the session (lock, run directory, state), a consistent read
 * and evaluation, the permission check and the per-user lock before any
 * write, the writes, then the reports, whatever happened before; `saved`
 * is a plan from `apply FILE`, checked against the fresh read.
 */
/*
 * Did this run make every change the whole library calls for?  Then the
 * next run may evaluate only what changes after this read
 * (remember_trusts_changes()).  Not after a dry run, a failure or refusal,
 * a saved plan (made for whatever window `plan` was given), or a window
 * that left assets out.
 */
static bool settled(const struct pass *ps, enum cli_status st)
{
    return st == CLI_OK && !ps->ctx->opts.dry_run && !ps->saved && !ps->build &&
           ps->res.status == STATE_RUN_DONE && !ps->o.pending &&
           !ps->o.failed && ps->rs.skip == 0 &&
           (ps->rs.max_items < 0 ||
            ps->rs.max_items >= (int64_t)ps->m.assets_nr);
}

/*
 * One pass: read the library (consistently), evaluate or take the saved
 * plan, check permissions and take the (server, user) lock, write, mark
 * the remembered read settled when everything planned was made, and
 * finish the run's reports whatever happened.
 */
static enum cli_status run_pass_with(struct cli_ctx *ctx,
                                     const struct plan *saved,
                                     run_plan_fn *build, void *build_ctx)
{
    struct pass ps;
    enum cli_status st, fin;
    bool tty = isatty(STDERR_FILENO) && ctx->opts.log_format == LOG_FORMAT_TEXT;

    memset(&ps, 0, sizeof(ps));
    ps.user_lock.fd = -1;
    ps.ctx = ctx;
    ps.saved = saved;
    ps.build = build;
    ps.build_ctx = build_ctx;
    st = run_session_begin(&ps.rs, ctx, run_now_ms());
    if (st != CLI_OK) {
        run_session_release(&ps.rs);
        return st;
    }
    progress_init(&ps.prog, stderr, log_level_current >= LOG_INFO, tty);
    model_init(&ps.m);
    plan_init(&ps.fresh);
    buf_init(&ps.metrics, 0);
    buf_init(&ps.timeline, 0);
    ps.res.server_url = ctx->cfg->server.url;
    ps.res.total_assets = -1;
    ps.res.status = STATE_RUN_FAILED;

    ps.eng = cli_engine_open(ctx, &ps.prog);
    if (!ps.eng) {
        st = CLI_FAILED;
        goto finish;
    }
    st = read_consistent(&ps);
    if (st != CLI_OK)
        goto finish;
    if (ctx->opts.dry_run)
        print_plan(saved ? saved : &ps.fresh, &ps.m);
    else if ((st = check_permissions(&ps, saved ? saved : &ps.fresh)) !=
                 CLI_OK ||
             (st = lock_user(&ps)) != CLI_OK)
        goto finish;
    st = write_changes(&ps, saved ? saved : &ps.fresh);
    if (settled(&ps, st))
        cli_remember_settled(ctx, ps.rs.st, &ps.m);
    if (ps.o.requests) {
        struct buf err = BUF_INIT;

        if (state_user_lock_wrote(&ps.user_lock, run_now_ms(), &err) < 0)
            warn_log("%s", err.buf);
        buf_release(&err);
    }

finish:
    if (sig_stop_requested && ps.res.status == STATE_RUN_FAILED)
        ps.res.status = STATE_RUN_INTERRUPTED;
    if (ps.eng)
        cli_metrics_out(ctx, ps.eng, &ps.metrics);
    ps.res.metrics_json = ps.metrics.len ? ps.metrics.buf : NULL;
    progress_timeline_json(&ps.prog, &ps.timeline);
    ps.res.timeline_json = ps.timeline.buf;
    if (ps.info.assets && ps.m.me < ps.m.users_nr)
        ps.res.user_name = model_str(&ps.m, ps.m.users[ps.m.me].name);
    fin = run_session_finish(&ps.rs, &ps.res, run_now_ms());
    if (st == CLI_OK)
        st = fin;
    run_session_release(&ps.rs);
    state_lock_release(&ps.user_lock);
    if (ps.have_outcome)
        outcome_release(&ps.o);
    plan_release(&ps.fresh);
    model_release(&ps.m);
    apply_listed_reset(&ps.listed);
    http_engine_free(ps.eng);
    buf_release(&ps.metrics);
    buf_release(&ps.timeline);
    progress_release(&ps.prog);
    return st;
}

enum cli_status run_pass(struct cli_ctx *ctx, const struct plan *saved)
{
    return run_pass_with(ctx, saved, NULL, NULL);
}

enum cli_status run_pass_build(struct cli_ctx *ctx, run_plan_fn *build,
                               void *build_ctx)
{
    return run_pass_with(ctx, NULL, build, build_ctx);
}
