/*
 * remember.c: the memories of a (server, user) and when a run may trust
 * them (remember.h).  The bytes live in the state database; the
 * decisions are here.
 */
#include "remember/remember.h"

#include "core/log.h"
#include "plan/plan.h"
#include "apply/outcome.h"
#include "state/state.h"

struct remember {
    struct state *st;
    const char *server;
    struct remember_opts o;
    struct buf scope; /* server + the key's user: whose view */
    bool no_lookup;   /* --full-read, or the database failed (one
                         warning, then no more lookups) */
    struct snapshot_album_cache sc;
    struct snapshot_prev_source ps;
    struct snapshot_prev *prev; /* the remembered library, or NULL */
    int64_t full_at;            /* its last full read, 0 = none */
    bool settled;               /* the run that read it made every change
                                   it planned (state_library_settle()) */
    uint64_t view;              /* 2.x: whose assets the user sees */
    bool view_known;
    struct uuid recheck[REMEMBER_RECHECK_ALBUMS];
    long recheck_nr; /* -1: not listed yet */
};

void remember_scope(const char *server, const struct uuid *user,
                    struct buf *out)
{
    char id[UUID_STR_LEN + 1];

    uuid_format(user, id);
    buf_reset(out);
    buf_addf(out, "%s user=%s", server, id);
}

static const char *scope_of(struct remember *r, const struct model *m)
{
    if (!r->scope.len)
        remember_scope(r->server, &m->users[m->me].id, &r->scope);
    return r->scope.buf;
}

static void db_failed(struct remember *r, const struct buf *err)
{
    warn_log("%s; reading everything", err->buf);
    r->no_lookup = true;
}

/* ---- album memberships --------------------------------------------------- */

/*
 * Whose assets the user's album searches show (2.x: their own and their
 * partners'): the owners of the library's assets.  A partner who starts
 * sharing changes it, and every remembered list was read without that
 * partner's members, though no album field moved.  3.x album searches
 * show every member: 0.
 */
static uint64_t view_of(struct remember *r, const struct model *m, int dialect)
{
    uint64_t h = 0;
    bool *seen;

    if (r->view_known)
        return r->view;
    r->view_known = true;
    if (dialect >= 3)
        return r->view = 0;
    seen = xcalloc(m->users_nr + 1, sizeof(*seen));
    for (size_t i = 0; i < m->assets_nr; i++)
        seen[m->assets[i].owner] = true;
    for (size_t u = 0; u < m->users_nr; u++)
        if (seen[u]) /* order-free: a sum of per-owner hashes */
            h += uuid_hash(&m->users[u].id) | 1;
    free(seen);
    return r->view = h;
}

static void album_key(struct remember *r, const struct model *m,
                      const struct model_album *a, int dialect,
                      struct state_album_key *k)
{
    k->updated_at = a->updated_at;
    k->last_modified = a->last_modified;
    k->asset_count = a->asset_count;
    k->dialect = dialect;
    k->view = (int64_t)view_of(r, m, dialect);
}

/* True when album is one of this run's rotating re-checks: the albums
 * remembered longest (and at least REMEMBER_RECHECK_AGE_MS) are read
 * again whatever their listing says. */
static bool rechecked(struct remember *r, const struct model *m,
                      const struct uuid *album)
{
    struct buf err = BUF_INIT;

    if (r->recheck_nr < 0) {
        r->recheck_nr = state_album_members_oldest(
            r->st, scope_of(r, m), r->o.now - REMEMBER_RECHECK_AGE_MS,
            r->recheck, REMEMBER_RECHECK_ALBUMS, &err);
        if (r->recheck_nr < 0) {
            db_failed(r, &err);
            r->recheck_nr = 0;
        }
        buf_release(&err);
    }
    for (long i = 0; i < r->recheck_nr; i++)
        if (uuid_eq(&r->recheck[i], album))
            return true;
    return false;
}

/*
 * A remembered list that names an asset read fresh in this run (updated,
 * restored, trashed and back) or one that has left the library since the
 * last read (trashed, deleted, locked) may be out of date even when the
 * album's fields did not move (a shared-link duplicate upload and a
 * trash on the same day): read the album.
 */
static bool members_moved(const struct remember *r, const struct model *m,
                          const struct uuid *ids, size_t nr)
{
    for (size_t i = 0; i < nr; i++) {
        uint32_t a = model_find_asset(m, &ids[i]);

        if (a != MODEL_NONE ? (m->assets[a].flags & MODEL_ASSET_CHANGED) != 0
                            : r->prev && snapshot_prev_has(r->prev, &ids[i]))
            return true;
    }
    return false;
}

/*
 * The snapshot's lookup: the members of album as remembered, when its
 * listing is as remembered (same key), it is not due for its re-check,
 * and none of its remembered members moved.
 */
static bool cache_lookup(void *ctx, const struct model *m, uint32_t album,
                         int dialect, struct uuid **ids, size_t *nr)
{
    struct remember *r = ctx;
    const struct model_album *al = &m->albums[album];
    struct state_album_key k;
    struct buf err = BUF_INIT;
    const char *why = NULL;
    int got;

    if (r->no_lookup)
        return false;
    album_key(r, m, al, dialect, &k);
    got = state_album_members_get(r->st, scope_of(r, m), &al->id, &k,
                                  r->o.now - STATE_ALBUM_MAX_AGE_MS, ids, nr,
                                  &err);
    if (got < 0)
        db_failed(r, &err);
    buf_release(&err);
    if (got != 1)
        return false;
    /* 3.x album searches show every member (hidden ones too), so a list
     * shorter than the server's count is not the whole album. */
    if (dialect >= 3 && (int64_t)*nr < (int64_t)al->asset_count)
        why = "disagree with its assetCount";
    else if (members_moved(r, m, *ids, *nr))
        why = "include assets changed since";
    else if (rechecked(r, m, &al->id))
        why = "are due for their re-check";
    if (why) {
        verbose_log("remember: the remembered members of album %s %s; "
                    "reading it",
                    model_str(m, al->name), why);
        free(*ids);
        *ids = NULL;
        *nr = 0;
        return false;
    }
    return true;
}

/* Remembers the memberships read in this run, in one transaction. */
static void cache_store(struct remember *r, const struct model *m, int dialect)
{
    struct buf err = BUF_INIT;
    struct uuid *ids = NULL;
    size_t alloc = 0, stored = 0;

    if (state_begin(r->st, &err) < 0)
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
        album_key(r, m, a, dialect, &k);
        if (state_album_members_put(r->st, scope_of(r, m), &a->id, &k, r->o.now,
                                    ids, n, &err) < 0) {
            state_rollback(r->st);
            goto fail;
        }
        stored++;
    }
    if (state_album_members_prune(r->st, scope_of(r, m),
                                  r->o.now - STATE_ALBUM_MAX_AGE_MS,
                                  &err) < 0) {
        state_rollback(r->st);
        goto fail;
    }
    if (state_commit(r->st, &err) < 0)
        goto fail;
    verbose_log("remember: the members of %zu albums", stored);
    free(ids);
    buf_release(&err);
    return;
fail:
    warn_log("%s (the next run reads every album)", err.buf);
    free(ids);
    buf_release(&err);
}

/* ---- the library --------------------------------------------------------- */

/*
 * The snapshot's source of the remembered library, asked once the user
 * is known: NULL (a full read) when nothing is remembered, the memory is
 * damaged, or the last full read is older than the limit.  A damaged
 * memory is forgotten.
 */
static const struct snapshot_prev *prev_get(void *ctx, const struct model *m)
{
    struct remember *r = ctx;
    struct state_library lib;
    struct buf err = BUF_INIT;
    int64_t limit = r->o.full_days * 24LL * 3600 * 1000;
    int got;

    got = state_library_get(r->st, scope_of(r, m), &lib, &err);
    if (got < 0) {
        db_failed(r, &err);
        goto out;
    }
    if (got == 0) {
        verbose_log("remember: no library remembered; reading everything");
        goto out;
    }
    r->full_at = lib.full_at;
    r->settled = lib.settled;
    if (snapshot_prev_decode(lib.records, lib.records_len, &r->prev, &err) <
        0) {
        warn_log("%s; reading everything", err.buf);
        buf_reset(&err);
        if (!r->o.read_only &&
            state_library_forget(r->st, scope_of(r, m), &err) < 0)
            warn_log("%s", err.buf);
        r->full_at = 0;
    } else if (r->o.full_read || r->o.now - lib.full_at >= limit ||
               lib.full_at > r->o.now) {
        /* kept for the album check (members that left), not read from */
        verbose_log("remember: %s; reading everything",
                    r->o.full_read ? "--full-read"
                                   : "the last full read is too old");
        state_library_release(&lib);
        buf_release(&err);
        return NULL;
    }
    state_library_release(&lib);
out:
    buf_release(&err);
    return r->prev;
}

/* Where the encoded library goes: the row's records, piece by piece. */
struct lib_writer {
    struct state *st;
    size_t offset;
    bool failed;
    struct buf err;
};

static void lib_write(void *ctx, const void *data, size_t len)
{
    struct lib_writer *w = ctx;

    if (!w->failed &&
        state_library_write(w->st, w->offset, data, len, &w->err) < 0)
        w->failed = true;
    w->offset += len;
}

/* The library as this read saw it, written straight into its row (one
 * transaction: a failure leaves the last good one). */
static void library_store(struct remember *r, const struct model *m,
                          const struct snapshot_info *info,
                          const struct snapshot_needs *needs)
{
    struct state_library lib;
    struct lib_writer w = {r->st, 0, false, BUF_INIT};
    char name[16];

    snprintf(name, sizeof(name), "dialect %d", info->dialect);
    lib.dialect = info->dialect;
    lib.needs = name;
    lib.full_at = info->incremental ? r->full_at : r->o.now;
    lib.settled = false; /* until this run has made its changes */
    lib.records = NULL;
    lib.records_len = snapshot_prev_size(m);
    if (state_begin(r->st, &w.err) < 0)
        goto fail;
    if (state_library_put(r->st, scope_of(r, m), &lib, &w.err) < 0)
        goto rollback;
    snapshot_prev_encode(m, info, needs, lib_write, &w);
    if (w.failed)
        goto rollback;
    if (state_commit(r->st, &w.err) < 0)
        goto fail;
    buf_release(&w.err);
    return;
rollback:
    state_rollback(r->st);
fail:
    warn_log("%s (the next run reads everything)", w.err.buf);
    buf_release(&w.err);
}

/* ---- the run's side ------------------------------------------------------ */

struct remember *remember_open(struct state *st, const char *server,
                               const struct remember_opts *o)
{
    struct remember *r;

    if (!st)
        return NULL;
    r = xcalloc(1, sizeof(*r));
    r->st = st;
    r->server = server;
    r->o = *o;
    if (r->o.full_days < 0)
        r->o.full_days = REMEMBER_FULL_DAYS_DEFAULT;
    buf_init(&r->scope, 0);
    r->no_lookup = o->full_read;
    r->recheck_nr = -1;
    r->sc.ctx = r;
    r->sc.lookup = cache_lookup;
    r->ps.ctx = r;
    r->ps.get = prev_get;
    return r;
}

void remember_close(struct remember *r)
{
    if (!r)
        return;
    snapshot_prev_free(r->prev);
    buf_release(&r->scope);
    free(r);
}

void remember_wire(struct remember *r, struct snapshot_opts *so)
{
    if (!r)
        return;
    so->albums = &r->sc;
    so->prev = &r->ps;
}

void remember_store(struct remember *r, const struct model *m,
                    const struct snapshot_info *info,
                    const struct snapshot_needs *needs)
{
    if (!r || r->o.read_only || !info->complete)
        return;
    cache_store(r, m, info->dialect);
    library_store(r, m, info, needs);
}

bool remember_trusts_changes(const struct remember *r)
{
    return r && r->prev && r->settled;
}

void remember_settled(struct remember *r, const struct model *m)
{
    struct buf err = BUF_INIT;

    if (!r || r->o.read_only)
        return;
    if (state_library_settle(r->st, scope_of(r, m), &err) < 0)
        warn_log("%s (the next run evaluates everything)", err.buf);
    buf_release(&err);
}

void remember_writes(struct remember *r, const struct model *m, int dialect,
                     const struct plan *p, const struct outcome *o)
{
    struct buf err = BUF_INIT;
    struct uuid *ids = NULL;
    size_t alloc = 0;
    bool dated = false;

    if (!r || r->o.read_only || state_begin(r->st, &err) < 0)
        goto out;
    for (size_t g = 0; g < p->nr; g++) {
        const struct plan_group *pg = &p->groups[g];
        const struct outcome_group *og = &o->groups[g];
        struct state_album_key k;

        if (pg->op == PLAN_ASSET_DATE)
            dated = true;
        if (pg->op != PLAN_ALBUM_ADD || !og->album_state || !og->has_target)
            continue;
        ALLOC_GROW(ids, pg->nr + 1, alloc);
        for (size_t i = 0; i < pg->nr; i++)
            ids[i] = pg->items[i].id;
        k.updated_at = og->album_updated_at;
        k.last_modified = og->album_last_modified;
        k.asset_count = og->album_asset_count;
        k.dialect = dialect;
        k.view = (int64_t)view_of(r, m, dialect);
        if (state_album_members_put(r->st, scope_of(r, m), &og->target, &k,
                                    r->o.now, ids, pg->nr, &err) < 0) {
            state_rollback(r->st);
            goto out;
        }
    }
    /* Dates written now reach updatedAt only when the server's jobs have
     * run (docs/simulator.md): the next read must not trust the
     * remembered dates. */
    if (dated && state_library_forget(r->st, scope_of(r, m), &err) < 0) {
        state_rollback(r->st);
        goto out;
    }
    (void)state_commit(r->st, &err);
out:
    if (err.len)
        warn_log("%s (the next run reads the new albums)", err.buf);
    free(ids);
    buf_release(&err);
}
