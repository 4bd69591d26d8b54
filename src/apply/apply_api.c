/*
 * apply_api.c: struct apply_writer on top of api_write.h.  One call per
 * request of the batch, all submitted before the engine runs, so the
 * engine keeps its concurrency full; callbacks only record results.
 */
#include "apply/apply_api_int.h"

#include "core/hashmap.h"
#include "core/sigflag.h"

static void set_failed(struct apply_req *r, const struct api_status *st)
{
    r->result = APPLY_REQ_FAILED;
    r->http_status = (int)st->http;
    free(r->message);
    r->message = xstrdup(st->error && *st->error ? st->error : st->endpoint);
}

bool apply_api_new_album(const struct apply_api *aa, const struct api_album *al)
{
    if (aa->know_me && !uuid_eq(&al->owner, &aa->me))
        return false;
    return !aa->read || model_find_album(aa->read, &al->id) == MODEL_NONE;
}

void apply_api_fatal(struct apply_api *aa, const char *msg, bool network)
{
    if (network)
        aa->writer.unreachable = true;
    else
        aa->writer.auth_failed = true;
    if (!aa->fatal) {
        aa->fatal = true;
        buf_addstr(&aa->fatal_msg, msg);
    }
    http_engine_wrap_up(aa->api->eng);
}

/*
 * Common handling of a finished call: true when it succeeded.  A refused
 * key stops the run; a cancelled call stays UNSENT.  A write that got no
 * answer, an answer cut short or a 5xx may have been made all the same:
 * it is marked unknown, for apply_api_settle() to find out.
 */
static bool take_status(struct call_ctx *cc, const struct api_status *st)
{
    if (st->ok) {
        cc->r->result = APPLY_REQ_OK;
        cc->r->http_status = (int)st->http;
        return true;
    }
    if (st->kind == API_FAIL_CANCELLED)
        return false;
    set_failed(cc->r, st);
    if (st->kind == API_FAIL_AUTH && st->http == 401)
        apply_api_fatal(cc->aa, cc->r->message, false);
    else if (st->kind == API_FAIL_NETWORK || st->kind == API_FAIL_DECODE ||
             (st->kind == API_FAIL_HTTP && st->http >= 500))
        cc->r->unknown = true;
    return false;
}

static void on_done(void *ctx, const struct api_status *st)
{
    (void)take_status(ctx, st);
}

/* Server outcome of one id into the request's per-id arrays. */
static void map_bulk(struct apply_req *r, size_t k,
                     const struct api_bulk_item *it)
{
    bool removing = r->kind == APPLY_TAG_ASSETS_REMOVE ||
                    r->kind == APPLY_ALBUM_ASSETS_REMOVE;
    uint8_t s = OUTCOME_FAILED, e;

    switch (it->success ? API_BULK_NONE : it->error) {
    case API_BULK_NONE:
        s = OUTCOME_DONE;
        e = OUTCOME_E_NONE;
        break;
    case API_BULK_DUPLICATE:
        /* Adding what is there already changes nothing. */
        s = removing ? OUTCOME_FAILED : OUTCOME_UNCHANGED;
        e = OUTCOME_E_DUPLICATE;
        break;
    case API_BULK_NOT_FOUND:
        /* Removing what is not there changes nothing either. */
        s = removing ? OUTCOME_UNCHANGED : OUTCOME_FAILED;
        e = OUTCOME_E_NOT_FOUND;
        break;
    case API_BULK_NO_PERMISSION:
        e = OUTCOME_E_NO_PERMISSION;
        break;
    case API_BULK_VALIDATION:
        e = OUTCOME_E_VALIDATION;
        break;
    case API_BULK_UNKNOWN:
    default:
        e = OUTCOME_E_UNKNOWN;
        break;
    }
    r->id_status[k] = s;
    r->id_error[k] = e;
}

static void on_bulk(void *ctx, const struct api_status *st,
                    const struct api_bulk_item *items, size_t nr)
{
    struct call_ctx *cc = ctx;
    struct apply_req *r = cc->r;
    struct uuidmap pos = UUIDMAP_INIT;
    size_t i;

    if (!take_status(cc, st))
        return;
    for (i = 0; i < r->ids_nr; i++)
        uuidmap_put(&pos, &r->ids[i], (uint32_t)i);
    /* Ids the server does not mention stay PENDING: the applier counts
     * them as failed (unknown). */
    for (i = 0; i < nr; i++) {
        uint32_t k = uuidmap_get(&pos, &items[i].id);

        if (k != HASHMAP_NONE)
            map_bulk(r, k, &items[i]);
    }
    uuidmap_release(&pos);
}

static void on_tags(void *ctx, const struct api_status *st,
                    const struct api_tag *tags, size_t nr)
{
    struct call_ctx *cc = ctx;
    struct apply_req *r = cc->r;
    size_t i, k;

    if (!take_status(cc, st))
        return;
    /* The answer holds one tag per name; match by full path. */
    for (i = 0; i < r->names_nr; i++) {
        for (k = 0; k < nr; k++) {
            if (tags[k].value && !strcmp(tags[k].value, r->names[i])) {
                r->created[i] = tags[k].id;
                r->created_ok[i] = true;
                break;
            }
        }
    }
}

static void on_album(void *ctx, const struct api_status *st,
                     const struct api_album *albums, size_t nr)
{
    struct call_ctx *cc = ctx;

    if (!take_status(cc, st))
        return;
    if (nr == 1) {
        cc->r->created[0] = albums[0].id;
        cc->r->created_ok[0] = true;
        cc->r->created_assets = albums[0].asset_count;
        cc->r->created_updated_at = albums[0].updated_at;
        cc->r->created_last_modified = albums[0].last_modified;
    }
}

/*
 * An album is deleted only when the server reports it empty: the plan
 * counted the members the key's user can see, and others (an editor's own
 * assets, hidden in 2.x searches) may still be in it.  The album is read
 * again right before the delete, after this run's removals.
 */
static void on_album_before_delete(void *ctx, const struct api_status *st,
                                   const struct api_album *albums, size_t nr)
{
    struct call_ctx *cc = ctx;
    struct apply_req *r = cc->r;

    if (!take_status(cc, st))
        return;
    if (nr != 1 || albums[0].asset_count != 0) {
        struct buf msg = BUF_INIT;

        buf_addf(&msg,
                 "DELETE /albums/{id}: not deleted: the server "
                 "counts %ld assets in it (assets the key's user cannot "
                 "see)",
                 nr == 1 ? albums[0].asset_count : -1L);
        r->result = APPLY_REQ_FAILED;
        r->http_status = 0;
        free(r->message);
        r->message = buf_detach(&msg, NULL);
        return;
    }
    r->result = APPLY_REQ_UNSENT;
    api_album_delete(cc->aa->api, &r->target, on_done, cc);
}

void apply_api_submit(struct apply_api *aa, struct call_ctx *cc)
{
    struct api *a = aa->api;
    struct apply_req *r = cc->r;
    struct api_album_user *users;
    size_t i;

    switch (r->kind) {
    case APPLY_TAGS_UPSERT:
        api_tags_upsert(a, r->names, r->names_nr, on_tags, cc);
        break;
    case APPLY_ALBUM_CREATE:
        api_album_create(a, r->name, r->ids, r->ids_nr, on_album, cc);
        break;
    case APPLY_ALBUM_ASSETS_ADD:
        api_album_assets_add(a, &r->target, r->ids, r->ids_nr, on_bulk, cc);
        break;
    case APPLY_TAG_ASSETS_ADD:
        api_tag_assets_add(a, &r->target, r->ids, r->ids_nr, on_bulk, cc);
        break;
    case APPLY_TAG_ASSETS_REMOVE:
        api_tag_assets_remove(a, &r->target, r->ids, r->ids_nr, on_bulk, cc);
        break;
    case APPLY_ALBUM_ASSETS_REMOVE:
        api_album_assets_remove(a, &r->target, r->ids, r->ids_nr, on_bulk, cc);
        break;
    case APPLY_ALBUM_DELETE:
        api_album_info(a, &r->target, on_album_before_delete, cc);
        break;
    case APPLY_ALBUM_USERS_ADD:
        users = xcalloc(r->ids_nr ? r->ids_nr : 1, sizeof(*users));
        for (i = 0; i < r->ids_nr; i++) {
            users[i].user = r->ids[i];
            users[i].role = r->role;
        }
        api_album_users_add(a, &r->target, users, r->ids_nr, on_done, cc);
        free(users);
        break;
    case APPLY_ALBUM_USER_ROLE:
        api_album_user_role(a, &r->target, &r->ids[0], r->role, on_done, cc);
        break;
    case APPLY_ALBUM_USER_REMOVE:
        api_album_user_remove(a, &r->target, &r->ids[0], on_done, cc);
        break;
    case APPLY_ASSETS_DATE:
        api_assets_date(a, r->ids, r->ids_nr, r->date, r->offset_min, on_done,
                        cc);
        break;
    case APPLY_KIND_COUNT:
        break;
    }
}

void apply_api_listed(void *ctx, const struct api_status *st,
                      const struct api_album *albums, size_t nr)
{
    struct apply_listed *l = ctx;
    size_t i;

    if (!st->ok) {
        l->failed = true;
        return;
    }
    l->answered = true;
    ALLOC_GROW(l->v, l->nr + nr, l->alloc);
    for (i = 0; i < nr; i++) {
        struct apply_listed_album *a = &l->v[l->nr++];

        a->name = xstrdup(albums[i].name ? albums[i].name : "");
        a->id = albums[i].id;
        a->owner = albums[i].owner;
    }
}

void apply_listed_reset(struct apply_listed *l)
{
    for (size_t i = 0; i < l->nr; i++)
        free(l->v[i].name);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

/*
 * Creating an album is not idempotent, and another writer (a process
 * that is not this tool, the web page) may have made the same album
 * since this run read the library.  The torn-read check's listing, the
 * one between the read and the writes (aa->listed), names the albums made
 * since: a create whose name is among those the key's user owns reuses
 * it (its assets then go in through the album-add phase).  Without that
 * listing, nothing is created.
 */
static void reuse_existing_albums(struct apply_api *aa, struct apply_req *reqs,
                                  size_t nr)
{
    const struct apply_listed *l = aa->listed;
    size_t i, k;

    for (i = 0; i < nr; i++) {
        struct apply_req *r = &reqs[i];

        if (r->kind != APPLY_ALBUM_CREATE)
            continue;
        if (!l || !l->answered || l->failed) {
            r->result = APPLY_REQ_FAILED;
            free(r->message);
            r->message = xstrdup("POST /albums: not sent: GET /albums "
                                 "failed, so an album of that name made "
                                 "meanwhile could not be ruled out");
            continue;
        }
        for (k = 0; k < l->nr; k++) {
            struct api_album al;

            memset(&al, 0, sizeof(al));
            al.id = l->v[k].id;
            al.owner = l->v[k].owner;
            if (strcmp(l->v[k].name, r->name) || !apply_api_new_album(aa, &al))
                continue;
            r->result = APPLY_REQ_OK;
            r->reused = true;
            r->created[0] = l->v[k].id;
            r->created_ok[0] = true;
            r->created_assets = -1;
            break;
        }
    }
}

/* Does r queue a sidecar write (and a metadata re-read) per asset? */
static bool makes_jobs(const struct apply_req *r)
{
    return r->kind == APPLY_TAG_ASSETS_ADD ||
           r->kind == APPLY_TAG_ASSETS_REMOVE || r->kind == APPLY_ASSETS_DATE;
}

/*
 * Before r: once `threshold` ids went out in job-making writes since the
 * queues were last asked, finish what is in flight and wait until the
 * queues are down to the threshold (struct apply_hold).  A key that may
 * not read them, or a failed GET /jobs, ends the holding (the writes go
 * on: holding is a courtesy).  -1 when the engine failed.
 */
static int hold_before(struct apply_api *aa, const struct apply_req *r,
                       struct buf *err)
{
    struct apply_hold *h = aa->hold;
    struct buf why = BUF_INIT;
    bool denied = false;
    long waited = 0;
    int w;

    if (!h || h->off || h->threshold <= 0 || !makes_jobs(r))
        return 0;
    if (h->since_check < h->threshold) {
        h->since_check += (long)r->ids_nr;
        return 0;
    }
    if (http_engine_run(aa->api->eng, err) < 0)
        return -1;
    w = apply_api_wait_jobs(aa, h->threshold, h->max_wait_ms, h->poll_ms,
                            h->waiting, h->ctx, &denied, &waited, &why);
    if (w < 0) {
        h->off = true;
        h->denied = denied;
    } else {
        if (waited > 0) {
            h->holds++;
            if (h->held)
                h->held(h->ctx, waited);
        }
        if (!w)
            h->timeouts++;
        h->held_ms += waited;
    }
    buf_release(&why);
    h->since_check = (long)r->ids_nr;
    return 0;
}

/*
 * Sends one batch of write requests through the engine and settles each
 * request's result (albums that another run already made are reused, not
 * created twice); a fatal answer or a stop signal ends the batch with an
 * error, and requests never sent stay UNSENT so the report says so.
 */
static int execute(void *ctx, struct apply_req *reqs, size_t nr,
                   struct buf *err)
{
    struct apply_api *aa = ctx;
    struct call_ctx *cc;
    size_t i;
    int rc = 0;

    if (aa->fatal || sig_stop_requested) {
        buf_addstr(err, aa->fatal ? aa->fatal_msg.buf : "stopped by a signal");
        return -1;
    }
    for (i = 0; i < nr; i++)
        reqs[i].result = APPLY_REQ_UNSENT;
    reuse_existing_albums(aa, reqs, nr);
    cc = xcalloc(nr ? nr : 1, sizeof(*cc));
    for (i = 0; i < nr; i++) {
        cc[i].aa = aa;
        cc[i].r = &reqs[i];
        if (reqs[i].result != APPLY_REQ_UNSENT)
            continue; /* settled before sending */
        /* A call the engine refuses (wrapping up) never calls back and
         * stays UNSENT. */
        if (http_engine_is_wrapping_up(aa->api->eng))
            break;
        if (hold_before(aa, &reqs[i], err) < 0) {
            rc = -1;
            break;
        }
        if (sig_stop_requested)
            break;
        apply_api_submit(aa, &cc[i]);
    }
    if (rc < 0 || http_engine_run(aa->api->eng, err) < 0)
        rc = -1;
    else if (!aa->fatal && !sig_stop_requested &&
             apply_api_settle(aa, reqs, nr, err) < 0)
        rc = -1;
    else if (aa->fatal) {
        buf_addstr(err, aa->fatal_msg.buf);
        rc = -1;
    } else if (sig_stop_requested) {
        buf_addstr(err, "stopped by a signal");
        rc = -1;
    }
    free(cc);
    return rc;
}

void apply_api_init(struct apply_api *aa, struct api *api)
{
    memset(aa, 0, sizeof(*aa));
    buf_init(&aa->fatal_msg, 0);
    aa->api = api;
    aa->writer.ctx = aa;
    aa->writer.execute = execute;
}

void apply_api_release(struct apply_api *aa)
{
    buf_release(&aa->fatal_msg);
}
