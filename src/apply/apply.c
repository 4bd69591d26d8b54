/*
 * apply.c: plan -> batches of write requests, phase by phase, and the
 * writer's per-id results -> the outcome.  No I/O here: the writer
 * (apply_api.c in production, a recorder in the unit test) sends.
 */
#include "apply/apply.h"

#include "core/hashmap.h"
#include "core/sigflag.h"

static const char *const phase_names[APPLY_PHASE_COUNT] = {
    "tags upsert",   "album creates and ready writes",
    "album adds",    "tag adds",
    "tag removes",   "album removes",
    "album deletes", "sharing",
    "dates",
};

static const char *const kind_endpoints[APPLY_KIND_COUNT] = {
    [APPLY_TAGS_UPSERT] = "PUT /tags",
    [APPLY_ALBUM_CREATE] = "POST /albums",
    [APPLY_ALBUM_ASSETS_ADD] = "PUT /albums/{id}/assets",
    [APPLY_TAG_ASSETS_ADD] = "PUT /tags/{id}/assets",
    [APPLY_TAG_ASSETS_REMOVE] = "DELETE /tags/{id}/assets",
    [APPLY_ALBUM_ASSETS_REMOVE] = "DELETE /albums/{id}/assets",
    [APPLY_ALBUM_DELETE] = "DELETE /albums/{id}",
    [APPLY_ALBUM_USERS_ADD] = "PUT /albums/{id}/users",
    [APPLY_ALBUM_USER_ROLE] = "PUT /albums/{id}/user/{userId}",
    [APPLY_ALBUM_USER_REMOVE] = "DELETE /albums/{id}/user/{userId}",
    [APPLY_ASSETS_DATE] = "PUT /assets",
};

const char *apply_phase_name(enum apply_phase ph)
{
    return (unsigned)ph < APPLY_PHASE_COUNT ? phase_names[ph] : "?";
}

const char *apply_kind_endpoint(enum apply_kind k)
{
    return (unsigned)k < APPLY_KIND_COUNT ? kind_endpoints[k] : "?";
}

/* The requests of one phase, and the id arrays they borrow. */
struct batch {
    struct apply_req *reqs;
    size_t nr, alloc;
};

/* The state of one apply_run(). */
struct run {
    const struct plan *p;
    struct apply_writer *w;
    const struct apply_opts *opts;
    struct outcome *o;
    struct buf *err;
    size_t chunk;
    bool stop;        /* writer stop: no more phases */
    bool id_failures; /* a per-id failure happened in this phase */
};

static struct apply_req *batch_add(struct batch *b, enum apply_kind kind,
                                   size_t group)
{
    struct apply_req *r;

    ALLOC_GROW(b->reqs, b->nr + 1, b->alloc);
    r = &b->reqs[b->nr++];
    memset(r, 0, sizeof(*r));
    r->kind = kind;
    r->group = group;
    return r;
}

/* Gives r its own copy of ids and zeroed result arrays. */
static void req_set_ids(struct apply_req *r, const struct uuid *ids, size_t nr,
                        size_t first)
{
    r->ids = xmemdup(ids, st_mult(nr ? nr : 1, sizeof(*ids)));
    r->ids_nr = nr;
    r->first = first;
    r->id_status = xcalloc(nr ? nr : 1, 1);
    r->id_error = xcalloc(nr ? nr : 1, 1);
}

/*
 * Requests of kind for group g, ids[0..nr) cut into chunks of `per` ids,
 * each with its own copy; returns the index in b of the first, so that
 * the caller can give them their target, role or date.
 */
static size_t add_id_chunks(struct batch *b, enum apply_kind kind, size_t g,
                            const struct uuid *ids, size_t nr, size_t per)
{
    size_t first = b->nr;

    for (size_t i = 0; i < nr; i += per)
        req_set_ids(batch_add(b, kind, g), ids + i, nr - i < per ? nr - i : per,
                    i);
    return first;
}

static void batch_release(struct batch *b)
{
    size_t i;

    for (i = 0; i < b->nr; i++) {
        struct apply_req *r = &b->reqs[i];

        free((void *)r->ids);
        free(r->id_status);
        free(r->id_error);
        free(r->message);
        free(r->created);
        free(r->created_ok);
        free((void *)r->names);
    }
    free(b->reqs);
    memset(b, 0, sizeof(*b));
}

/* Item ids of group g as a flat array (caller frees). */
static struct uuid *group_ids(const struct plan_group *g)
{
    struct uuid *ids = xmalloc(st_mult(g->nr ? g->nr : 1, sizeof(*ids)));
    size_t i;

    for (i = 0; i < g->nr; i++)
        ids[i] = g->items[i].id;
    return ids;
}

static void fail_items(struct run *rn, size_t g, enum outcome_error e,
                       const char *msg)
{
    struct outcome_group *og = &rn->o->groups[g];
    size_t i;

    for (i = 0; i < rn->p->groups[g].nr; i++) {
        if (og->status[i] != OUTCOME_PENDING)
            continue;
        og->status[i] = OUTCOME_FAILED;
        og->error[i] = (uint8_t)e;
    }
    if (msg)
        outcome_set_message(rn->o, g, msg);
    if (rn->p->groups[g].nr)
        rn->id_failures = true;
}

/* Sends a batch; false when the run must stop. */
static bool send(struct run *rn, enum apply_phase ph, struct batch *b)
{
    size_t i;
    int rc;

    if (!b->nr)
        return true;
    if (rn->opts->progress)
        rn->opts->progress(rn->opts->progress_ctx, ph, 0, b->nr);
    rc = rn->w->execute(rn->w->ctx, b->reqs, b->nr, rn->err);
    for (i = 0; i < b->nr; i++) {
        if (b->reqs[i].result != APPLY_REQ_UNSENT)
            rn->o->requests++;
        if (b->reqs[i].result == APPLY_REQ_FAILED)
            rn->o->requests_failed++;
    }
    if (rn->opts->progress)
        rn->opts->progress(rn->opts->progress_ctx, ph, b->nr, b->nr);
    if (rc < 0) {
        rn->stop = true;
        return false;
    }
    return true;
}

/* Per-id results of a bulk-id request into the outcome. */
static void take_bulk(struct run *rn, const struct apply_req *r)
{
    struct outcome_group *og = &rn->o->groups[r->group];
    size_t i;

    if (r->result == APPLY_REQ_UNSENT)
        return;
    if (r->result == APPLY_REQ_FAILED) {
        for (i = 0; i < r->ids_nr; i++) {
            /* The writer read some back: those are known done. */
            if (r->id_status[i] == OUTCOME_DONE) {
                og->status[r->first + i] = OUTCOME_DONE;
                og->error[r->first + i] = OUTCOME_E_NONE;
                continue;
            }
            og->status[r->first + i] = OUTCOME_FAILED;
            og->error[r->first + i] = OUTCOME_E_REQUEST;
        }
        outcome_set_message(rn->o, r->group,
                            r->message ? r->message
                                       : apply_kind_endpoint(r->kind));
        rn->id_failures = true;
        return;
    }
    for (i = 0; i < r->ids_nr; i++) {
        uint8_t s = r->id_status[i], e = r->id_error[i];

        if (s == OUTCOME_PENDING) {
            /* The server said nothing about this id. */
            s = OUTCOME_FAILED;
            e = OUTCOME_E_UNKNOWN;
        }
        og->status[r->first + i] = s;
        og->error[r->first + i] = e;
        if (s == OUTCOME_FAILED)
            rn->id_failures = true;
    }
}

/* All-or-nothing request: every id shares the request's fate. */
static void take_whole(struct run *rn, const struct apply_req *r)
{
    struct outcome_group *og = &rn->o->groups[r->group];
    size_t i;

    if (r->result == APPLY_REQ_UNSENT)
        return;
    for (i = 0; i < r->ids_nr; i++) {
        og->status[r->first + i] =
            r->result == APPLY_REQ_OK ? OUTCOME_DONE : OUTCOME_FAILED;
        og->error[r->first + i] =
            r->result == APPLY_REQ_OK ? OUTCOME_E_NONE : OUTCOME_E_REQUEST;
    }
    if (r->result == APPLY_REQ_FAILED) {
        outcome_set_message(rn->o, r->group,
                            r->message ? r->message
                                       : apply_kind_endpoint(r->kind));
        rn->id_failures = true;
    }
}

/* ---- phases ---------------------------------------------------------- */

/*
 * Phase 1: creates the tags the plan needs that do not exist (their
 * distinct names in PUT /tags, chunked, as upstream's upsert) and hands
 * each returned id to every group that wanted that tag; groups whose tag
 * could not be created fail without a write.
 */
static void phase_tag_upsert(struct run *rn)
{
    const struct plan *p = rn->p;
    struct batch b = {NULL, 0, 0};
    const char **names = NULL;
    size_t nr = 0, alloc = 0, g, i, k;

    /* Distinct names of the tags to create, in plan order. */
    for (g = 0; g < p->nr; g++) {
        const struct plan_group *pg = &p->groups[g];
        bool seen = false;

        if (!outcome_group_has_action(pg) || pg->op != PLAN_TAG_ADD)
            continue;
        for (i = 0; i < nr && !seen; i++)
            seen = !strcmp(names[i], pg->name);
        if (!seen) {
            ALLOC_GROW(names, nr + 1, alloc);
            names[nr++] = pg->name;
        }
    }
    for (i = 0; i < nr; i += rn->chunk) {
        size_t n = nr - i < rn->chunk ? nr - i : rn->chunk;
        struct apply_req *r = batch_add(&b, APPLY_TAGS_UPSERT, SIZE_MAX);

        r->names = xmemdup(names + i, st_mult(n, sizeof(*names)));
        r->names_nr = n;
        r->created = xcalloc(n, sizeof(*r->created));
        r->created_ok = xcalloc(n, sizeof(*r->created_ok));
    }
    (void)send(rn, APPLY_PHASE_TAG_UPSERT, &b);
    /* Hand every created id to the groups that wanted that tag. */
    for (k = 0; k < b.nr; k++) {
        const struct apply_req *r = &b.reqs[k];

        for (i = 0; i < r->names_nr; i++) {
            for (g = 0; g < p->nr; g++) {
                const struct plan_group *pg = &p->groups[g];
                struct outcome_group *og = &rn->o->groups[g];

                if (pg->op != PLAN_TAG_ADD || pg->target_exists ||
                    strcmp(pg->name, r->names[i]))
                    continue;
                if (r->result == APPLY_REQ_UNSENT)
                    continue;
                if (r->result == APPLY_REQ_OK && r->created_ok[i]) {
                    og->action = OUTCOME_DONE;
                    og->target = r->created[i];
                    og->has_target = true;
                    og->created = true;
                } else {
                    og->action = OUTCOME_FAILED;
                    og->action_error = OUTCOME_E_REQUEST;
                    fail_items(rn, g, OUTCOME_E_TARGET,
                               r->message ? r->message : "PUT /tags");
                }
            }
        }
    }
    free(names);
    batch_release(&b);
}

/*
 * The groups of albums that do not exist yet (adds, removes, deletes,
 * shares: those that learn a new album's id), sorted by name and then
 * plan order, so that each create finds its album's groups by a binary
 * search instead of a scan of the plan (7,300 creates in a plan of
 * 15,000 groups were 100 million name comparisons).
 */
struct by_name {
    const char *name;
    size_t g;
};

static int cmp_by_name(const void *x, const void *y)
{
    const struct by_name *a = x, *b = y;
    int c = strcmp(a->name, b->name);

    return c ? c : (a->g > b->g) - (a->g < b->g);
}

/* Whether group pg is one a new album's id goes to. */
static bool learns_new_album(const struct plan_group *pg)
{
    return !pg->target_exists && pg->name && pg->op != PLAN_TAG_ADD &&
           pg->op != PLAN_TAG_REMOVE && pg->op != PLAN_ASSET_DATE &&
           pg->op != PLAN_ALBUM_CREATE;
}

static struct by_name *new_album_groups(const struct plan *p, size_t *nr)
{
    struct by_name *ix = xcalloc(p->nr ? p->nr : 1, sizeof(*ix));
    size_t g;

    *nr = 0;
    for (g = 0; g < p->nr; g++)
        if (learns_new_album(&p->groups[g]))
            ix[(*nr)++] = (struct by_name){p->groups[g].name, g};
    qsort(ix, *nr, sizeof(*ix), cmp_by_name);
    return ix;
}

/* The first entry of ix (nr long) named name; nr when none is. */
static size_t first_named(const struct by_name *ix, size_t nr, const char *name)
{
    size_t lo = 0, hi = nr;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (strcmp(ix[mid].name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < nr && !strcmp(ix[lo].name, name) ? lo : nr;
}

/* The add group of the album group g creates, if small enough to ride
 * along with the create (SIZE_MAX: none): the first in plan order. */
static size_t adds_of_new_album(const struct run *rn, const struct by_name *ix,
                                size_t nr, size_t g)
{
    const char *name = rn->p->groups[g].name;
    size_t k;

    for (k = first_named(ix, nr, name); k < nr && !strcmp(ix[k].name, name);
         k++) {
        const struct plan_group *pg = &rn->p->groups[ix[k].g];

        if (pg->op == PLAN_ALBUM_ADD && pg->nr && pg->nr <= rn->chunk)
            return ix[k].g;
    }
    return SIZE_MAX;
}

/* The assets a create carried are in when the new album counts them all;
 * otherwise the album-add phase sends them again for per-id answers. */
static void take_create_assets(struct run *rn, const struct apply_req *r,
                               size_t ga)
{
    struct outcome_group *og = &rn->o->groups[ga];
    size_t i;

    if (ga == SIZE_MAX || r->created_assets != (long)r->ids_nr)
        return;
    for (i = 0; i < r->ids_nr; i++) {
        og->status[i] = OUTCOME_DONE;
        og->error[i] = OUTCOME_E_NONE;
    }
    og->album_state = true;
    og->album_updated_at = r->created_updated_at;
    og->album_last_modified = r->created_last_modified;
    og->album_asset_count = r->created_assets;
}

/* Which groups a builder takes now (NULL: all; the unready fail). */
typedef bool ready_fn(const struct run *rn, size_t g);

static void bulk_build(struct run *rn, enum plan_op op, enum apply_kind kind,
                       struct batch *b, ready_fn *ready);
static bool has_target(const struct run *rn, size_t g);
static bool removal_ready(const struct run *rn, size_t g);
static void sharing_build(struct run *rn, struct batch *b, ready_fn *ready);
static bool sharing_ready(const struct run *rn, size_t g);
static void dates_build(struct run *rn, struct batch *b);
static void settle_whole(struct run *rn, enum apply_phase ph, struct batch *b,
                         size_t from, size_t to);

/*
 * The first batch after the tag upsert: one POST /albums per new album,
 * carrying its assets when they fit in a chunk (adds_of_new_album()); the
 * album's other groups learn its id.  Every write that needs nothing
 * from another goes in the same batch, so that the engine keeps its slots
 * busy across what used to be phase boundaries (not with fail_fast, whose
 * phases stop one after the other): the adds to albums and tags that
 * exist already, the removals that are no move's source and whose pair is
 * not also added (removal_ready()), the dates, and the sharing of albums
 * that exist already (sharing_ready()).  The long bulk requests go first,
 * the short creates last, so that no slot idles at the batch's end.  What
 * waits for this batch: the adds to new albums beyond the create's
 * carried assets, the moves' removals (hold_unconfirmed_moves()), the
 * album deletes (after their albums' removals) and the sharing of new
 * albums (their ids).
 */
static void phase_album_create(struct run *rn)
{
    const struct plan *p = rn->p;
    struct batch b = {NULL, 0, 0};
    size_t *adds = NULL, g, k, bulk = 0, ride = 0, ix_nr, j;
    struct by_name *ix;

    if (!rn->opts->fail_fast) {
        bulk_build(rn, PLAN_ALBUM_ADD, APPLY_ALBUM_ASSETS_ADD, &b, has_target);
        bulk_build(rn, PLAN_TAG_ADD, APPLY_TAG_ASSETS_ADD, &b, has_target);
        bulk_build(rn, PLAN_TAG_REMOVE, APPLY_TAG_ASSETS_REMOVE, &b,
                   removal_ready);
        bulk_build(rn, PLAN_ALBUM_REMOVE, APPLY_ALBUM_ASSETS_REMOVE, &b,
                   removal_ready);
        bulk = b.nr;
        dates_build(rn, &b);
        sharing_build(rn, &b, sharing_ready);
        ride = b.nr;
    }
    ix = new_album_groups(p, &ix_nr);
    for (g = 0; g < p->nr; g++) {
        struct apply_req *r;
        size_t ga;

        if (p->groups[g].op != PLAN_ALBUM_CREATE)
            continue;
        r = batch_add(&b, APPLY_ALBUM_CREATE, g);
        r->name = p->groups[g].name;
        r->created = xcalloc(1, sizeof(*r->created));
        r->created_ok = xcalloc(1, sizeof(*r->created_ok));
        ga = adds_of_new_album(rn, ix, ix_nr, g);
        adds = xrealloc(adds, st_mult(b.nr - ride, sizeof(*adds)));
        adds[b.nr - ride - 1] = ga;
        if (ga != SIZE_MAX) {
            struct uuid *ids = group_ids(&p->groups[ga]);

            req_set_ids(r, ids, p->groups[ga].nr, 0);
            free(ids);
        }
    }
    (void)send(rn, APPLY_PHASE_ALBUM_CREATE, &b);
    for (k = 0; k < bulk; k++)
        take_bulk(rn, &b.reqs[k]);
    settle_whole(rn, APPLY_PHASE_ALBUM_CREATE, &b, bulk, ride);
    for (k = ride; k < b.nr; k++) {
        const struct apply_req *r = &b.reqs[k];
        struct outcome_group *og = &rn->o->groups[r->group];
        bool ok = r->result == APPLY_REQ_OK && r->created_ok[0];

        if (r->result == APPLY_REQ_UNSENT)
            continue;
        og->action = ok ? OUTCOME_DONE : OUTCOME_FAILED;
        if (!ok) {
            og->action_error = OUTCOME_E_REQUEST;
            outcome_set_message(rn->o, r->group,
                                r->message ? r->message : "POST /albums");
            continue;
        }
        og->target = r->created[0];
        og->has_target = true;
        og->created = !r->reused;
        /* The album's other groups (adds, shares) learn its id. */
        for (j = first_named(ix, ix_nr, r->name);
             j < ix_nr && !strcmp(ix[j].name, r->name); j++) {
            rn->o->groups[ix[j].g].target = r->created[0];
            rn->o->groups[ix[j].g].has_target = true;
        }
        take_create_assets(rn, r, adds[k - ride]);
    }
    free(ix);
    free(adds);
    batch_release(&b);
}

/* True when no item of group g is still to be sent. */
static bool group_settled(const struct run *rn, size_t g)
{
    const struct outcome_group *og = &rn->o->groups[g];
    size_t i;

    for (i = 0; i < rn->p->groups[g].nr; i++)
        if (og->status[i] == OUTCOME_PENDING)
            return false;
    return true;
}

/* ---- moves: a source is removed only where its add was confirmed ----- */

/* One (asset, conversion rule) whose add the server did not confirm. */
struct move_key {
    struct uuid asset;
    unsigned rule;
};

static int cmp_move_key(const void *x, const void *y)
{
    const struct move_key *a = x, *b = y;
    int c = memcmp(a->asset.b, b->asset.b, sizeof(a->asset.b));

    if (c)
        return c;
    return (a->rule > b->rule) - (a->rule < b->rule);
}

/*
 * A conversion in move mode plans, for the same asset and rule, adds (the
 * destination tags or albums) and removals (the source).  Removing the
 * source of an asset whose add failed, or was never sent, would lose what
 * the rule was about, so those removals are not sent: they fail with
 * OUTCOME_E_MOVE_ADD and the next run moves them again.
 */
static void hold_unconfirmed_moves(struct run *rn, enum plan_op removal)
{
    const struct plan *p = rn->p;
    struct move_key *keys = NULL, k;
    size_t nr = 0, alloc = 0, g, i;

    for (g = 0; g < p->nr; g++) {
        const struct plan_group *pg = &p->groups[g];
        const struct outcome_group *og = &rn->o->groups[g];

        if (pg->op != PLAN_TAG_ADD && pg->op != PLAN_ALBUM_ADD)
            continue;
        for (i = 0; i < pg->nr; i++) {
            if (pg->items[i].reason != PLAN_R_CONVERSION ||
                og->status[i] == OUTCOME_DONE ||
                og->status[i] == OUTCOME_UNCHANGED)
                continue;
            ALLOC_GROW(keys, nr + 1, alloc);
            keys[nr].asset = pg->items[i].id;
            keys[nr++].rule = pg->items[i].rule;
        }
    }
    if (!nr)
        return;
    qsort(keys, nr, sizeof(*keys), cmp_move_key);
    for (g = 0; g < p->nr; g++) {
        const struct plan_group *pg = &p->groups[g];
        struct outcome_group *og = &rn->o->groups[g];
        bool held = false;

        if (pg->op != removal)
            continue;
        for (i = 0; i < pg->nr; i++) {
            if (pg->items[i].reason != PLAN_R_CONVERSION ||
                og->status[i] != OUTCOME_PENDING)
                continue;
            k.asset = pg->items[i].id;
            k.rule = pg->items[i].rule;
            if (!bsearch(&k, keys, nr, sizeof(*keys), cmp_move_key))
                continue;
            og->status[i] = OUTCOME_FAILED;
            og->error[i] = OUTCOME_E_MOVE_ADD;
            held = true;
        }
        if (held) {
            outcome_set_message(rn->o, g,
                                "kept: the move's add was not "
                                "confirmed by the server");
            rn->id_failures = true;
        }
    }
    free(keys);
}

/*
 * Ids per request in a bulk phase of `total` ids: the server's cost of a
 * bulk write grows with its ids, so one request of thousands of ids would
 * run alone on one slot after the others are done (the phase's tail).
 * Spread over the writer's slots, never below APPLY_SPREAD_MIN ids (each
 * request has a fixed cost too), never above the chunk.
 */
static size_t bulk_chunk(const struct run *rn, size_t total)
{
    size_t n;

    if (rn->opts->slots < 2)
        return rn->chunk;
    n = (total + rn->opts->slots - 1) / rn->opts->slots;
    if (n < APPLY_SPREAD_MIN)
        n = APPLY_SPREAD_MIN;
    return n < rn->chunk ? n : rn->chunk;
}

static bool has_target(const struct run *rn, size_t g)
{
    return rn->o->groups[g].has_target;
}

/*
 * May removal group g go out before the adds are made?  Not when one of
 * its items is a move's source (removed only once the move's add is
 * confirmed: hold_unconfirmed_moves()), nor when an add still to be made
 * has the same (asset, tag or album) pair: the add goes first.
 */
static bool removal_ready(const struct run *rn, size_t g)
{
    const struct plan *p = rn->p;
    const struct plan_group *pg = &p->groups[g];
    const struct outcome_group *og = &rn->o->groups[g];
    enum plan_op add =
        pg->op == PLAN_TAG_REMOVE ? PLAN_TAG_ADD : PLAN_ALBUM_ADD;
    struct uuidmap added = UUIDMAP_INIT;
    bool ready = og->has_target;
    size_t i, k;

    for (i = 0; i < pg->nr && ready; i++)
        ready = pg->items[i].reason != PLAN_R_CONVERSION;
    for (k = 0; k < p->nr && ready; k++) {
        const struct plan_group *ag = &p->groups[k];
        const struct outcome_group *ao = &rn->o->groups[k];

        /* An add with no target yet is to an album made in this run,
         * never one a removal names. */
        if (ag->op != add || group_settled(rn, k) || !ao->has_target ||
            !uuid_eq(&ao->target, &og->target))
            continue;
        for (i = 0; i < ag->nr; i++)
            uuidmap_put(&added, &ag->items[i].id, (uint32_t)i);
    }
    for (i = 0; i < pg->nr && ready && added.count; i++)
        ready = uuidmap_get(&added, &pg->items[i].id) == HASHMAP_NONE;
    uuidmap_release(&added);
    return ready;
}

/*
 * Adds the requests of the groups of op to b, chunked (bulk_chunk()).
 * ready (may be NULL): only the groups it accepts (the rest wait for
 * their own phase); NULL: every group still to send, and a group whose
 * target is unknown fails.
 */
static void bulk_build(struct run *rn, enum plan_op op, enum apply_kind kind,
                       struct batch *b, ready_fn *ready)
{
    const struct plan *p = rn->p;
    size_t g, i, total = 0, chunk;
    bool *take = xcalloc(p->nr ? p->nr : 1, sizeof(*take));

    for (g = 0; g < p->nr; g++) {
        const struct plan_group *pg = &p->groups[g];

        if (pg->op != op || !pg->nr || group_settled(rn, g))
            continue;
        if (!rn->o->groups[g].has_target) {
            if (!ready)
                fail_items(rn, g, OUTCOME_E_TARGET, NULL);
            continue;
        }
        take[g] = !ready || ready(rn, g);
        if (take[g])
            total += pg->nr;
    }
    chunk = bulk_chunk(rn, total);
    for (g = 0; g < p->nr; g++) {
        const struct plan_group *pg = &p->groups[g];
        struct uuid *ids;

        if (!take[g])
            continue;
        ids = group_ids(pg);
        for (i = add_id_chunks(b, kind, g, ids, pg->nr, chunk); i < b->nr; i++)
            b->reqs[i].target = rn->o->groups[g].target;
        free(ids);
    }
    free(take);
}

/* Groups of op whose target is unknown fail; others get chunked
 * requests of kind. */
static void phase_bulk(struct run *rn, enum apply_phase ph, enum plan_op op,
                       enum apply_kind kind)
{
    struct batch b = {NULL, 0, 0};
    size_t i;

    bulk_build(rn, op, kind, &b, NULL);
    (void)send(rn, ph, &b);
    for (i = 0; i < b.nr; i++)
        take_bulk(rn, &b.reqs[i]);
    batch_release(&b);
}

static void phase_album_delete(struct run *rn)
{
    const struct plan *p = rn->p;
    struct batch b = {NULL, 0, 0};
    size_t g, k;

    for (g = 0; g < p->nr; g++) {
        struct apply_req *r;

        if (p->groups[g].op != PLAN_ALBUM_DELETE)
            continue;
        if (!rn->o->groups[g].has_target) {
            rn->o->groups[g].action = OUTCOME_FAILED;
            rn->o->groups[g].action_error = OUTCOME_E_TARGET;
            continue;
        }
        r = batch_add(&b, APPLY_ALBUM_DELETE, g);
        r->target = rn->o->groups[g].target;
        r->name = p->groups[g].name;
    }
    (void)send(rn, APPLY_PHASE_ALBUM_DELETE, &b);
    for (k = 0; k < b.nr; k++) {
        const struct apply_req *r = &b.reqs[k];
        struct outcome_group *og = &rn->o->groups[r->group];

        if (r->result == APPLY_REQ_UNSENT)
            continue;
        og->action = r->result == APPLY_REQ_OK ? OUTCOME_DONE : OUTCOME_FAILED;
        if (r->result != APPLY_REQ_OK) {
            og->action_error = OUTCOME_E_REQUEST;
            outcome_set_message(rn->o, r->group,
                                r->message ? r->message
                                           : "DELETE /albums/{id}");
        }
    }
    batch_release(&b);
}

/*
 * After an all-or-nothing batch ran, its requests [from, to): those that
 * failed with a 400 for several ids are sent again one id per request, so
 * one bad id sinks only itself; then every result goes into the outcome.
 */
static void settle_whole(struct run *rn, enum apply_phase ph, struct batch *b,
                         size_t from, size_t to)
{
    struct batch again = {NULL, 0, 0};
    size_t i, k;

    for (i = from; i < to && !rn->stop && !sig_stop_requested; i++) {
        const struct apply_req *r = &b->reqs[i];

        if (r->result != APPLY_REQ_FAILED || r->ids_nr < 2)
            continue;
        /* A 401/5xx would fail the singles too; a 400 names one id. */
        if (r->http_status != 400)
            continue;
        for (k = 0; k < r->ids_nr; k++) {
            struct apply_req *s = batch_add(&again, r->kind, r->group);

            s->target = r->target;
            s->role = r->role;
            s->date = r->date;
            s->offset_min = r->offset_min;
            req_set_ids(s, r->ids + k, 1, r->first + k);
        }
    }
    if (again.nr)
        (void)send(rn, ph, &again);
    for (i = from; i < to; i++) {
        const struct apply_req *r = &b->reqs[i];
        bool split = r->result == APPLY_REQ_FAILED && r->ids_nr >= 2 &&
                     r->http_status == 400 && again.nr;

        if (!split)
            take_whole(rn, r);
    }
    for (i = 0; i < again.nr; i++)
        take_whole(rn, &again.reqs[i]);
    batch_release(&again);
}

/* May sharing group g go out with the creates?  Its album exists already
 * and the plan does not delete it (the delete goes first, as before). */
static bool sharing_ready(const struct run *rn, size_t g)
{
    const struct outcome_group *og = &rn->o->groups[g];
    size_t k;

    if (!og->has_target)
        return false;
    for (k = 0; k < rn->p->nr; k++)
        if (rn->p->groups[k].op == PLAN_ALBUM_DELETE &&
            rn->o->groups[k].has_target &&
            uuid_eq(&rn->o->groups[k].target, &og->target))
            return false;
    return true;
}

/*
 * The sharing requests of the groups still to send, in plan order; users
 * added to an album go in one request (chunked), role changes and
 * removals one user per request, as those endpoints take them.  ready
 * (may be NULL): only the groups it accepts; NULL: every group, and one
 * whose album has no id (its create failed) fails.
 */
static void sharing_build(struct run *rn, struct batch *b, ready_fn *ready)
{
    const struct plan *p = rn->p;
    size_t g, i;

    for (g = 0; g < p->nr; g++) {
        const struct plan_group *pg = &p->groups[g];
        const struct outcome_group *og = &rn->o->groups[g];
        struct uuid *ids;

        if ((pg->op != PLAN_ALBUM_USER_ADD && pg->op != PLAN_ALBUM_USER_ROLE &&
             pg->op != PLAN_ALBUM_USER_REMOVE) ||
            !pg->nr || group_settled(rn, g))
            continue;
        if (ready ? !ready(rn, g) : !og->has_target) {
            if (!ready)
                fail_items(rn, g, OUTCOME_E_TARGET, NULL);
            continue;
        }
        ids = group_ids(pg);
        /* Every user of the album in one request; the other endpoints
         * take one user each. */
        for (i = add_id_chunks(
                 b,
                 pg->op == PLAN_ALBUM_USER_ADD    ? APPLY_ALBUM_USERS_ADD
                 : pg->op == PLAN_ALBUM_USER_ROLE ? APPLY_ALBUM_USER_ROLE
                                                  : APPLY_ALBUM_USER_REMOVE,
                 g, ids, pg->nr, pg->op == PLAN_ALBUM_USER_ADD ? rn->chunk : 1);
             i < b->nr; i++) {
            b->reqs[i].target = og->target;
            b->reqs[i].role = pg->role;
        }
        free(ids);
    }
}

/* The sharing phase: what the first batch left (the new albums'). */
static void phase_sharing(struct run *rn)
{
    struct batch b = {NULL, 0, 0};

    sharing_build(rn, &b, NULL);
    (void)send(rn, APPLY_PHASE_SHARING, &b);
    settle_whole(rn, APPLY_PHASE_SHARING, &b, 0, b.nr);
    batch_release(&b);
}

/* One PUT /assets per date group still to send (chunked). */
static void dates_build(struct run *rn, struct batch *b)
{
    const struct plan *p = rn->p;
    size_t g, i;

    for (g = 0; g < p->nr; g++) {
        const struct plan_group *pg = &p->groups[g];
        struct uuid *ids;

        if (pg->op != PLAN_ASSET_DATE || !pg->nr || group_settled(rn, g))
            continue;
        ids = group_ids(pg);
        for (i = add_id_chunks(b, APPLY_ASSETS_DATE, g, ids, pg->nr, rn->chunk);
             i < b->nr; i++) {
            b->reqs[i].date = pg->date;
            b->reqs[i].offset_min = pg->offset_min;
        }
        free(ids);
    }
}

static void phase_dates(struct run *rn)
{
    struct batch b = {NULL, 0, 0};

    dates_build(rn, &b);
    (void)send(rn, APPLY_PHASE_DATES, &b);
    settle_whole(rn, APPLY_PHASE_DATES, &b, 0, b.nr);
    batch_release(&b);
}

/* Between phases: may the next one start? */
static bool may_continue(struct run *rn)
{
    if (rn->stop)
        return false;
    if (sig_stop_requested) {
        rn->o->interrupted = true;
        return false;
    }
    if (rn->opts->fail_fast && rn->id_failures) {
        rn->o->aborted = true;
        return false;
    }
    return true;
}

enum apply_result apply_run(const struct plan *p, struct apply_writer *w,
                            const struct apply_opts *opts, struct outcome *o,
                            struct buf *err)
{
    struct run rn;
    int ph;

    memset(&rn, 0, sizeof(rn));
    rn.p = p;
    rn.w = w;
    rn.opts = opts;
    rn.o = o;
    rn.err = err;
    rn.chunk = opts->chunk ? opts->chunk : APPLY_CHUNK_DEFAULT;
    if (opts->dry_run) {
        o->dry_run = true;
        outcome_tally(o, p);
        return APPLY_OK;
    }
    for (ph = 0; ph < APPLY_PHASE_COUNT; ph++) {
        if (!may_continue(&rn))
            break;
        switch ((enum apply_phase)ph) {
        case APPLY_PHASE_TAG_UPSERT:
            phase_tag_upsert(&rn);
            break;
        case APPLY_PHASE_ALBUM_CREATE:
            phase_album_create(&rn);
            break;
        case APPLY_PHASE_ALBUM_ADD:
            phase_bulk(&rn, APPLY_PHASE_ALBUM_ADD, PLAN_ALBUM_ADD,
                       APPLY_ALBUM_ASSETS_ADD);
            break;
        case APPLY_PHASE_TAG_ADD:
            phase_bulk(&rn, APPLY_PHASE_TAG_ADD, PLAN_TAG_ADD,
                       APPLY_TAG_ASSETS_ADD);
            break;
        case APPLY_PHASE_TAG_REMOVE:
            hold_unconfirmed_moves(&rn, PLAN_TAG_REMOVE);
            phase_bulk(&rn, APPLY_PHASE_TAG_REMOVE, PLAN_TAG_REMOVE,
                       APPLY_TAG_ASSETS_REMOVE);
            break;
        case APPLY_PHASE_ALBUM_REMOVE:
            hold_unconfirmed_moves(&rn, PLAN_ALBUM_REMOVE);
            phase_bulk(&rn, APPLY_PHASE_ALBUM_REMOVE, PLAN_ALBUM_REMOVE,
                       APPLY_ALBUM_ASSETS_REMOVE);
            break;
        case APPLY_PHASE_ALBUM_DELETE:
            phase_album_delete(&rn);
            break;
        case APPLY_PHASE_SHARING:
            phase_sharing(&rn);
            break;
        case APPLY_PHASE_DATES:
            phase_dates(&rn);
            break;
        case APPLY_PHASE_COUNT:
            break;
        }
    }
    /* A signal during the last phase still counts as an interruption. */
    if (sig_stop_requested)
        o->interrupted = true;
    outcome_tally(o, p);
    if (rn.stop || o->interrupted || o->aborted) {
        if (!rn.stop && !err->len)
            buf_addstr(err, o->interrupted
                                ? "run interrupted by a signal"
                                : "run stopped at the first asset error "
                                  "(fail_fast_on_asset_errors)");
        return APPLY_STOPPED;
    }
    return APPLY_OK;
}
