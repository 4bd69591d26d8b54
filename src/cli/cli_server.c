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

enum cli_status cli_status_of(enum api_fail kind)
{
    /* Unreachable, key refused (401), or a permission the run needs is
     * missing (403 on a read): the server side, exit 3. */
    return kind == API_FAIL_NETWORK || kind == API_FAIL_AUTH ? CLI_SERVER
                                                             : CLI_FAILED;
}

struct album_cache {
    struct state *st;
    const char *server;
    struct buf scope; /* server + the key's user: whose view */
    int64_t now;
    bool no_lookup; /* --full-read, or the database failed (one
                       warning, then no more lookups) */
};

/*
 * What a remembered membership is keyed by: the server and the user whose
 * view it is.  Album searches show a user only some members (2.x: their
 * own and partners' assets), so one user's list is never another's.
 */
void cli_cache_scope(const char *server, const struct uuid *user,
                     struct buf *out)
{
    char id[UUID_STR_LEN + 1];

    uuid_format(user, id);
    buf_reset(out);
    buf_addf(out, "%s user=%s", server, id);
}

static const char *cache_scope(struct album_cache *c, const struct model *m)
{
    if (!c->scope.len)
        cli_cache_scope(c->server, &m->users[m->me].id, &c->scope);
    return c->scope.buf;
}

static void album_key(const struct model_album *a, int dialect,
                      struct state_album_key *k)
{
    k->updated_at = a->updated_at;
    k->last_modified = a->last_modified;
    k->asset_count = a->asset_count;
    k->dialect = dialect;
}

static bool cache_lookup(void *ctx, const struct model *m, uint32_t album,
                         int dialect, struct uuid **ids, size_t *nr)
{
    struct album_cache *c = ctx;
    struct state_album_key k;
    struct buf err = BUF_INIT;
    int r;

    if (c->no_lookup)
        return false;
    album_key(&m->albums[album], dialect, &k);
    r = state_album_members_get(c->st, cache_scope(c, m), &m->albums[album].id,
                                &k, c->now - STATE_ALBUM_MAX_AGE_MS, ids, nr,
                                &err);
    if (r < 0) {
        warn_log("%s; reading every album", err.buf);
        c->no_lookup = true;
    }
    buf_release(&err);
    /* 3.x album searches show every member (hidden ones too), so a list
     * shorter than the server's count is not the whole album. */
    if (r == 1 && dialect >= 3 &&
        (int64_t)*nr < (int64_t)m->albums[album].asset_count) {
        verbose_log("state: remembered members of album %s disagree with "
                    "its assetCount; reading it",
                    model_str(m, m->albums[album].name));
        free(*ids);
        *ids = NULL;
        *nr = 0;
        return false;
    }
    return r == 1;
}

/* Remembers the memberships read in this run, in one transaction. */
static void cache_store(struct album_cache *c, const struct model *m,
                        int dialect)
{
    struct buf err = BUF_INIT;
    struct uuid *ids = NULL;
    size_t alloc = 0, stored = 0;

    if (state_begin(c->st, &err) < 0)
        goto fail;
    for (size_t i = 0; i < m->albums_nr; i++) {
        const struct model_album *a = &m->albums[i];
        struct state_album_key k;
        const struct model_foreign *fo;
        const uint32_t *row;
        size_t n, fn;

        if (!a->members_known || a->members_cached || !a->asset_count)
            continue;
        row = model_album_assets(m, (uint32_t)i, &n);
        ALLOC_GROW(ids, n + a->foreign_nr + 1, alloc);
        for (size_t j = 0; j < n; j++)
            ids[j] = m->assets[row[j]].id;
        /* Members of other users: the list stays the album's whole
         * membership as this user's search showed it. */
        fo = model_album_foreign(m, (uint32_t)i, &fn);
        for (size_t j = 0; j < fn; j++)
            ids[n++] = fo[j].asset;
        album_key(a, dialect, &k);
        if (state_album_members_put(c->st, cache_scope(c, m), &a->id, &k,
                                    c->now, ids, n, &err) < 0) {
            state_rollback(c->st);
            goto fail;
        }
        stored++;
    }
    if (state_album_members_prune(c->st, cache_scope(c, m),
                                  c->now - STATE_ALBUM_MAX_AGE_MS, &err) < 0) {
        state_rollback(c->st);
        goto fail;
    }
    if (state_commit(c->st, &err) < 0)
        goto fail;
    verbose_log("state: remembered the members of %zu albums", stored);
    free(ids);
    buf_release(&err);
    return;
fail:
    warn_log("%s (the next run reads every album)", err.buf);
    free(ids);
    buf_release(&err);
}

void cli_remember_new_albums(const struct cli_ctx *ctx, struct state *st,
                             const struct model *m, int dialect,
                             const struct plan *p, const struct outcome *o)
{
    struct buf err = BUF_INIT, scope = BUF_INIT;
    struct uuid *ids = NULL;
    size_t alloc = 0;
    int64_t now = run_now_ms();

    if (!st || state_begin(st, &err) < 0)
        goto out;
    cli_cache_scope(ctx->cfg->server.url, &m->users[m->me].id, &scope);
    for (size_t g = 0; g < p->nr; g++) {
        const struct plan_group *pg = &p->groups[g];
        const struct outcome_group *og = &o->groups[g];
        struct state_album_key k;

        if (pg->op != PLAN_ALBUM_ADD || !og->album_state || !og->has_target)
            continue;
        ALLOC_GROW(ids, pg->nr + 1, alloc);
        for (size_t i = 0; i < pg->nr; i++)
            ids[i] = pg->items[i].id;
        k.updated_at = og->album_updated_at;
        k.last_modified = og->album_last_modified;
        k.asset_count = og->album_asset_count;
        k.dialect = dialect;
        if (state_album_members_put(st, scope.buf, &og->target, &k, now, ids,
                                    pg->nr, &err) < 0) {
            state_rollback(st);
            goto out;
        }
    }
    (void)state_commit(st, &err);
out:
    if (err.len)
        warn_log("%s (the next run reads the new albums)", err.buf);
    free(ids);
    buf_release(&scope);
    buf_release(&err);
}

enum cli_status cli_read_library(const struct cli_ctx *ctx,
                                 struct http_engine *eng, struct model *m,
                                 struct snapshot_info *info, struct progress *p,
                                 struct state *state, bool remember)
{
    struct snapshot_opts so = SNAPSHOT_OPTS_INIT;
    struct album_cache cache = {state, ctx->cfg->server.url, BUF_INIT,
                                run_now_ms(), ctx->opts.full_read};
    struct snapshot_album_cache sc = {&cache, cache_lookup};
    struct buf err = BUF_INIT;
    enum cli_status st = CLI_OK;

    if (state)
        so.albums = &sc;
    so.needs = ctx->needs;

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
        if (state && remember)
            cache_store(&cache, m, info->dialect);
    }
    buf_release(&cache.scope);
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
