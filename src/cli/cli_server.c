/*
 * cli_server.c: engine, library read and metrics for the subcommands
 * that talk to the server (check, plan, run, apply).
 */
#include "cli/cli_server.h"

#include "cli/run_session.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/sigflag.h"
#include "apply/outcome.h"
#include "remember/remember.h"
#include "state/state.h"

static void on_progress(void *ctx, size_t done, size_t total, size_t in_flight,
                        const struct http_wait *w)
{
    struct progress *p = ctx;

    /* The first call of a phase comes before any of its requests has
     * finished: what the engine completed so far belongs to earlier
     * phases. */
    if (p->rebase) {
        p->base = done;
        p->rebase = false;
    }
    p->total = total - p->base;
    progress_update(p, done - p->base, in_flight, w->endpoint, w->waited_s,
                    run_now_ms());
}

struct http_engine *cli_engine_open(const struct cli_ctx *ctx,
                                    struct progress *p)
{
    struct http_engine_opts o = HTTP_ENGINE_OPTS_INIT;
    struct http_engine *e;
    struct buf err = BUF_INIT;

    o.base_url = ctx->cfg->server.url;
    o.api_key = ctx->cfg->server.api_key;
    o.concurrency = ctx->opts.concurrency;
    o.ca_file = ctx->opts.ca_file;
    o.insecure = ctx->opts.insecure;
    o.connect_timeout_ms = ctx->opts.connect_timeout_s * 1000;
    o.stall_timeout_ms = ctx->opts.stall_timeout_s * 1000;
    o.timeout_ms = ctx->opts.timeout_s * 1000;
    o.stop = &sig_stop_requested;
    if (p) { /* quiet too: the timeline counts the requests */
        o.progress = on_progress;
        o.progress_ctx = p;
    }
    e = http_engine_new(&o, &err);
    if (!e)
        error_log("%s", err.buf);
    buf_release(&err);
    return e;
}

bool cli_readonly_open(const struct cli_ctx *ctx, struct cli_readonly *ro)
{
    model_init(&ro->m);
    plan_init(&ro->p);
    buf_init(&ro->out, 0);
    buf_init(&ro->err, 0);
    ro->eng = cli_engine_open(ctx, NULL);
    return ro->eng != NULL;
}

void cli_readonly_close(struct cli_readonly *ro)
{
    plan_release(&ro->p);
    model_release(&ro->m);
    http_engine_free(ro->eng);
    ro->eng = NULL;
    buf_release(&ro->out);
    buf_release(&ro->err);
}

enum cli_status cli_status_of(enum api_fail kind)
{
    /* Unreachable, key refused (401), or a permission the run needs is
     * missing (403 on a read): the server side, exit 3. */
    return kind == API_FAIL_NETWORK || kind == API_FAIL_AUTH ? CLI_SERVER
                                                             : CLI_FAILED;
}

/* The memory of this run's (server, user), for --full-read and
 * --full-read-days. */
static struct remember *open_memory(const struct cli_ctx *ctx, struct state *st,
                                    bool read_only)
{
    struct remember_opts ro;

    ro.now = run_now_ms();
    ro.full_read = ctx->opts.full_read;
    ro.full_days = ctx->opts.full_read_days;
    ro.read_only = read_only;
    return remember_open(st, ctx->cfg->server.url, &ro);
}

void cli_remember_new_albums(const struct cli_ctx *ctx, struct state *st,
                             const struct model *m, int dialect,
                             const struct plan *p, const struct outcome *o)
{
    struct remember *r = open_memory(ctx, st, false);

    remember_writes(r, m, dialect, p, o);
    remember_close(r);
}

void cli_remember_settled(const struct cli_ctx *ctx, struct state *st,
                          const struct model *m)
{
    struct remember *r = open_memory(ctx, st, false);

    remember_settled(r, m);
    remember_close(r);
}

enum cli_status cli_read_library(const struct cli_ctx *ctx,
                                 struct http_engine *eng, struct model *m,
                                 struct snapshot_info *info, struct progress *p,
                                 struct state *state, bool remember)
{
    struct snapshot_opts so = SNAPSHOT_OPTS_INIT;
    struct remember *mem = open_memory(ctx, state, !remember);
    struct snapshot_needs own;
    struct buf err = BUF_INIT;
    enum cli_status st = CLI_OK;

    memset(&own, 0, sizeof(own));
    if (!ctx->needs)
        snapshot_needs_from_config(ctx->cfg, &own);
    remember_wire(mem, &so);
    so.needs = ctx->needs ? ctx->needs : &own;

    if (ctx->opts.dialect == CLI_DIALECT_V2)
        so.dialect = 2;
    else if (ctx->opts.dialect == CLI_DIALECT_V3)
        so.dialect = 3;
    if (p)
        progress_phase(p, "read", "library", 0, run_now_ms());
    if (snapshot_load(ctx->cfg, eng, &so, m, info, &err) < 0) {
        /* The progress line goes before the messages, not under them. */
        if (p)
            progress_end(p, run_now_ms());
        error_log("%s", err.buf);
        error_log("nothing was written: a run needs the whole library");
        st = sig_stop_requested ? CLI_FAILED : cli_status_of(info->fail_kind);
    } else {
        if (p)
            progress_end(p, run_now_ms());
        info_log("library: %zu assets (%zu of partners), %zu albums "
                 "(%zu unchanged since an earlier run, %zu empty), %zu tags, "
                 "%zu duplicate groups, read in %llu requests",
                 info->assets, info->partner_assets, info->albums,
                 info->albums_cached, info->albums_empty, info->tags,
                 info->dups, (unsigned long long)info->requests);
        if (info->incremental)
            info_log("library: read incrementally, %zu assets changed since "
                     "the last good read",
                     info->changed);
        else if (info->full_why[0])
            info_log("library: read in full: %s", info->full_why);
        if (info->incremental && !remember_trusts_changes(mem)) {
            m->changes_only = false;
            info_log("library: evaluated in full: the last run did not make "
                     "every change it planned");
        }
        remember_store(mem, m, info, so.needs);
    }
    remember_close(mem);
    snapshot_needs_release(&own);
    buf_release(&err);
    return st;
}

void cli_metrics_out(const struct cli_ctx *ctx, struct http_engine *eng,
                     struct buf *json)
{
    struct http_totals t;
    struct buf b = BUF_INIT, err = BUF_INIT;

    http_metrics_totals(eng, &t);
    if (log_level_current >= LOG_VERBOSE) {
        http_metrics_table(eng, &b);
        cli_print_lines(LOG_VERBOSE, b.buf);
        buf_reset(&b);
    }
    info_log("requests: %llu (%llu retries, %llu errors), %llu connections, "
             "%.2f s on the network, %.2f s CPU, peak RSS %ld MiB",
             (unsigned long long)t.requests, (unsigned long long)t.retries,
             (unsigned long long)t.errors, (unsigned long long)t.connections,
             t.wait_s, t.cpu_s, t.peak_rss_kb / 1024);
    http_metrics_json(eng, &b);
    if (ctx->opts.metrics_json &&
        fs_write_atomic(ctx->opts.metrics_json, b.buf, b.len, &err) < 0)
        error_log("--metrics-json: %s", err.buf);
    if (json)
        buf_add(json, b.buf, b.len);
    buf_release(&b);
    buf_release(&err);
}

const char *cli_model_name(void *ctx, const struct uuid *id, bool user)
{
    const struct model *m = ctx;
    uint32_t k;

    if (user) {
        k = model_find_user(m, id);
        return k == MODEL_NONE ? NULL : model_str(m, m->users[k].email);
    }
    k = model_find_asset(m, id);
    return k == MODEL_NONE ? NULL : model_str(m, m->assets[k].file_name);
}

void cli_warn_hidden_users(const struct config *cfg,
                           const struct snapshot_info *info,
                           const struct plan *p)
{
    size_t unknown = 0;

    if (!cfg->album_permissions.enabled)
        return;
    for (size_t i = 0; i < p->notes_nr; i++)
        unknown += p->notes[i].kind == PLAN_NOTE_UNKNOWN_EMAIL;
    /* GET /users listed the caller alone: the others are hidden. */
    if (!unknown || info->users_listed != 1)
        return;
    warn_log("album sharing: the server lists no user but this key's own "
             "(its administrator has turned off \"public users\" in the "
             "server settings), so %zu configured email%s no user, and no "
             "album is shared with or unshared from %s; use an "
             "administrator's key, or ask for the setting to be turned on",
             unknown, unknown == 1 ? " matches" : "s match",
             unknown == 1 ? "it" : "them");
}
