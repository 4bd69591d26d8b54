/*
 * apply_settle.c: writes whose outcome is unknown are found out, not
 * guessed.
 *
 * A write may reach the server and be made although its answer never
 * arrives (a timeout, a connection reset), arrives cut short, is a 5xx
 * from a proxy that did forward it, or (a bulk answer) does not mention
 * some ids.  Counting those as failures reports changes that were made
 * as refused; counting them as done reports what may not be true.  So,
 * after each batch:
 *
 *   - an album create of unknown outcome: the user's albums are listed;
 *     one of that name made since is this create's (it is used, and its
 *     assets go in through the album-add phase); none: it is sent again;
 *   - a bulk add or remove of unknown outcome, or its unmentioned ids:
 *     the target's members are read (one paged search per album or tag);
 *     an id already as the request wanted is done, the others are sent
 *     once more (adds and removals are idempotent);
 *   - a tag upsert, a date or a role change: idempotent, sent once more.
 *
 * What is still unknown after that is reported as such (FAILED with
 * OUTCOME_E_UNKNOWN and "outcome unknown").  A read-back that fails means
 * the server is gone: the run stops.
 */
#include "apply/apply_api_int.h"

#include "core/hashmap.h"

/* The members of one album or tag, as read back. */
struct members {
    struct apply_api *aa;
    struct uuid target;
    bool is_tag;
    struct uuidmap ids;
    bool failed;
    struct buf *err;
};

struct chain;

struct settle {
    struct apply_api *aa;
    struct members *m; /* not moved once the reads are submitted */
    size_t m_nr, m_alloc;
    struct chain *chains;
    size_t chains_nr;
    struct api_album *albums; /* owned copies of id, name, owner */
    char **names;
    size_t albums_nr;
    bool list_needed, list_ok, list_failed;
    struct buf err;
};

static bool is_bulk(enum apply_kind k)
{
    return k == APPLY_ALBUM_ASSETS_ADD || k == APPLY_TAG_ASSETS_ADD ||
           k == APPLY_TAG_ASSETS_REMOVE || k == APPLY_ALBUM_ASSETS_REMOVE;
}

static bool is_tag_kind(enum apply_kind k)
{
    return k == APPLY_TAG_ASSETS_ADD || k == APPLY_TAG_ASSETS_REMOVE;
}

static bool is_removal(enum apply_kind k)
{
    return k == APPLY_TAG_ASSETS_REMOVE || k == APPLY_ALBUM_ASSETS_REMOVE;
}

/* True when r needs a read-back. */
static bool in_question(const struct apply_req *r)
{
    if (r->unknown)
        return true;
    if (!is_bulk(r->kind) || r->result != APPLY_REQ_OK)
        return false;
    for (size_t i = 0; i < r->ids_nr; i++)
        if (r->id_status[i] == 0 /* OUTCOME_PENDING */)
            return true;
    return false;
}

/* One paged search over a target's members, under one visibility. */
struct chain {
    struct members *mb;
    const char *visibility; /* NULL = the server's default */
};

static void read_members_page(struct chain *ch, long page);

static void on_member_page(void *ctx, const struct api_status *st,
                           const struct api_asset *assets, size_t nr,
                           long next_page)
{
    struct chain *ch = ctx;
    struct members *mb = ch->mb;

    if (!st->ok) {
        if (!mb->failed && !mb->err->len)
            buf_addstr(mb->err, st->error);
        mb->failed = true;
        return;
    }
    for (size_t i = 0; i < nr; i++)
        (void)uuidmap_put(&mb->ids, &assets[i].id, 1);
    if (next_page)
        read_members_page(ch, next_page);
}

static void read_members_page(struct chain *ch, long page)
{
    struct api_search q = API_SEARCH_INIT;

    q.page = page;
    q.visibility = ch->visibility;
    if (ch->mb->is_tag)
        q.tag = &ch->mb->target;
    else
        q.album = &ch->mb->target;
    api_search_metadata(ch->mb->aa->api, &q, on_member_page, ch);
}

/* The members record of (target, is_tag), added if new. */
static struct members *members_of(struct settle *s, const struct uuid *t,
                                  bool is_tag)
{
    struct members *mb;

    for (size_t i = 0; i < s->m_nr; i++)
        if (s->m[i].is_tag == is_tag && uuid_eq(&s->m[i].target, t))
            return &s->m[i];
    ALLOC_GROW(s->m, s->m_nr + 1, s->m_alloc);
    mb = &s->m[s->m_nr++];
    memset(mb, 0, sizeof(*mb));
    mb->aa = s->aa;
    mb->target = *t;
    mb->is_tag = is_tag;
    mb->err = &s->err;
    return mb;
}

static void on_list(void *ctx, const struct api_status *st,
                    const struct api_album *albums, size_t nr)
{
    struct settle *s = ctx;

    if (!st->ok) {
        if (!s->err.len)
            buf_addstr(&s->err, st->error);
        s->list_failed = true;
        return;
    }
    s->list_ok = true;
    s->albums = xcalloc(nr + 1, sizeof(*s->albums));
    s->names = xcalloc(nr + 1, sizeof(*s->names));
    for (size_t i = 0; i < nr; i++) {
        s->albums[i].id = albums[i].id;
        s->albums[i].owner = albums[i].owner;
        s->names[i] = xstrdup(albums[i].name ? albums[i].name : "");
    }
    s->albums_nr = nr;
}

/* Submits every read the questions need; false when none. */
static bool submit_reads(struct settle *s, struct apply_req *reqs, size_t nr)
{
    struct api *api = s->aa->api;
    bool any = false;

    for (size_t i = 0; i < nr; i++) {
        struct apply_req *r = &reqs[i];

        if (!in_question(r))
            continue;
        if (r->kind == APPLY_ALBUM_CREATE)
            s->list_needed = true;
        else if (is_bulk(r->kind))
            (void)members_of(s, &r->target, is_tag_kind(r->kind));
    }
    if (s->list_needed) {
        api_albums(api, 0, on_list, s);
        any = true;
    }
    /* In 2.x a search shows the timeline only unless asked. */
    s->chains = xcalloc(s->m_nr * 3 + 1, sizeof(*s->chains));
    for (size_t i = 0; i < s->m_nr; i++) {
        static const char *const vis2[] = {"timeline", "archive", "hidden"};
        size_t nv = api->dialect == 2 ? ARRAY_SIZE(vis2) : 1;

        for (size_t v = 0; v < nv; v++) {
            struct chain *ch = &s->chains[s->chains_nr++];

            ch->mb = &s->m[i];
            ch->visibility = api->dialect == 2 ? vis2[v] : NULL;
            read_members_page(ch, 1);
            any = true;
        }
    }
    return any;
}

/* A copy of r restricted to ids[k] for the k where pick[k], for a resend;
 * NULL when none. */
static struct apply_req *resend_of(const struct apply_req *r, const bool *pick,
                                   size_t **pos)
{
    struct apply_req *c;
    struct uuid *ids;
    size_t n = 0;

    for (size_t k = 0; k < r->ids_nr; k++)
        n += pick[k];
    if (!n)
        return NULL;
    c = xcalloc(1, sizeof(*c));
    *c = *r;
    ids = xcalloc(n, sizeof(*ids));
    *pos = xcalloc(n, sizeof(**pos));
    n = 0;
    for (size_t k = 0; k < r->ids_nr; k++) {
        if (!pick[k])
            continue;
        ids[n] = r->ids[k];
        (*pos)[n++] = k;
    }
    c->ids = ids;
    c->ids_nr = n;
    c->id_status = xcalloc(n, 1);
    c->id_error = xcalloc(n, 1);
    c->message = NULL;
    c->result = APPLY_REQ_UNSENT;
    c->unknown = false;
    return c;
}

/* A resend in flight, and where its answers go. */
struct resend {
    struct apply_req *orig;
    struct apply_req *copy;
    size_t *pos; /* copy->ids[j] is orig->ids[pos[j]] (bulk) */
    struct call_ctx cc;
};

static void resend_free(struct resend *rs)
{
    if (!rs->copy)
        return;
    free((void *)rs->copy->ids);
    free(rs->copy->id_status);
    free(rs->copy->id_error);
    free(rs->copy->message);
    if (rs->copy->created != rs->orig->created) {
        free(rs->copy->created);
        free(rs->copy->created_ok);
    }
    free(rs->copy);
    free(rs->pos);
}

/* A copy of r to send again whole (its created arrays shared with r). */
static struct apply_req *whole_copy(const struct apply_req *r)
{
    struct apply_req *c = xcalloc(1, sizeof(*c));

    *c = *r;
    c->ids =
        xmemdup(r->ids, st_mult(r->ids_nr ? r->ids_nr : 1, sizeof(*r->ids)));
    c->id_status = xcalloc(r->ids_nr + 1, 1);
    c->id_error = xcalloc(r->ids_nr + 1, 1);
    c->message = NULL;
    c->result = APPLY_REQ_UNSENT;
    c->unknown = false;
    return c;
}

/* Decides every question from what was read; fills the resends. */
static void resolve(struct settle *s, struct apply_req *reqs, size_t nr,
                    struct resend *out, size_t *out_nr)
{
    for (size_t i = 0; i < nr; i++) {
        struct apply_req *r = &reqs[i];
        struct resend *rs = &out[*out_nr];

        if (!in_question(r))
            continue;
        memset(rs, 0, sizeof(*rs));
        rs->orig = r;
        if (r->kind == APPLY_ALBUM_CREATE) {
            for (size_t k = 0; k < s->albums_nr; k++) {
                if (strcmp(s->names[k], r->name) ||
                    !apply_api_new_album(s->aa, &s->albums[k]))
                    continue;
                r->result = APPLY_REQ_OK;
                r->unknown = false;
                r->created[0] = s->albums[k].id;
                r->created_ok[0] = true;
                r->created_assets = -1;
                break;
            }
            if (r->unknown) {
                /* Not there: the create did not happen; send it again. */
                rs->copy = whole_copy(r);
                (*out_nr)++;
            }
        } else if (is_bulk(r->kind)) {
            struct members *mb =
                members_of(s, &r->target, is_tag_kind(r->kind));
            bool *pick = xcalloc(r->ids_nr + 1, sizeof(*pick));
            bool whole = r->result != APPLY_REQ_OK;

            for (size_t k = 0; k < r->ids_nr; k++) {
                bool present, wanted;

                if (!whole && r->id_status[k] != 0)
                    continue; /* the server answered for this one */
                present = uuidmap_get(&mb->ids, &r->ids[k]) != HASHMAP_NONE;
                wanted = !is_removal(r->kind);
                if (present == wanted) {
                    r->id_status[k] = 1; /* OUTCOME_DONE */
                    r->id_error[k] = 0;
                } else {
                    r->id_status[k] = 0;
                    pick[k] = true;
                }
            }
            if (whole) {
                /* Every id now has its own answer or a resend. */
                r->result = APPLY_REQ_OK;
                r->unknown = false;
            }
            rs->copy = resend_of(r, pick, &rs->pos);
            if (rs->copy) {
                s->aa->resent += rs->copy->ids_nr;
                (*out_nr)++;
            }
            free(pick);
        } else if (r->kind == APPLY_TAGS_UPSERT ||
                   r->kind == APPLY_ASSETS_DATE ||
                   r->kind == APPLY_ALBUM_USER_ROLE) {
            rs->copy = whole_copy(r);
            (*out_nr)++;
        }
    }
}

/* The resend's answer into the original request. */
static void take_resend(struct resend *rs)
{
    struct apply_req *r = rs->orig, *c = rs->copy;

    if (c->result == APPLY_REQ_UNSENT)
        return;
    if (is_bulk(r->kind)) {
        if (c->result != APPLY_REQ_OK) {
            /* Failed again as a whole: the request failed (the ids read
             * back as done stay done). */
            r->result = APPLY_REQ_FAILED;
            r->http_status = c->http_status;
            r->unknown = c->unknown;
            free(r->message);
            r->message = c->message;
            c->message = NULL;
            return;
        }
        for (size_t j = 0; j < c->ids_nr; j++) {
            r->id_status[rs->pos[j]] = c->id_status[j];
            r->id_error[rs->pos[j]] = c->id_error[j];
        }
        return;
    }
    r->result = c->result;
    r->http_status = c->http_status;
    r->unknown = c->unknown;
    r->created_assets = c->created_assets;
    r->created_updated_at = c->created_updated_at;
    r->created_last_modified = c->created_last_modified;
    free(r->message);
    r->message = c->message;
    c->message = NULL;
}

/* Unknown to the end: say so in the request's message. */
static void mark_still_unknown(struct apply_req *r)
{
    struct buf msg = BUF_INIT;

    if (!r->unknown)
        return;
    buf_addf(&msg, "%s: outcome unknown (%s); read back, still unknown",
             apply_kind_endpoint(r->kind),
             r->message ? r->message : "no answer");
    free(r->message);
    r->message = buf_detach(&msg, NULL);
    r->result = APPLY_REQ_FAILED;
}

int apply_api_settle(struct apply_api *aa, struct apply_req *reqs, size_t nr,
                     struct buf *err)
{
    struct settle s;
    struct resend *rs;
    size_t rs_nr = 0, i;
    int ret = 0;
    bool any = false;

    for (i = 0; i < nr && !any; i++)
        any = in_question(&reqs[i]);
    if (!any)
        return 0;
    memset(&s, 0, sizeof(s));
    s.aa = aa;
    buf_init(&s.err, 0);
    if (submit_reads(&s, reqs, nr)) {
        bool failed = s.list_failed;

        if (http_engine_run(aa->api->eng, err) < 0)
            ret = -1;
        for (i = 0; i < s.m_nr; i++)
            failed |= s.m[i].failed;
        if (ret == 0 && (failed || (s.list_needed && !s.list_ok))) {
            buf_addf(err, "reading back writes of unknown outcome: %s",
                     s.err.len ? s.err.buf : "no answer");
            apply_api_fatal(aa, err->buf, true);
            ret = -1;
        }
    }
    if (ret == 0) {
        rs = xcalloc(nr + 1, sizeof(*rs));
        resolve(&s, reqs, nr, rs, &rs_nr);
        for (i = 0; i < rs_nr; i++) {
            rs[i].cc.aa = aa;
            rs[i].cc.r = rs[i].copy;
            apply_api_submit(aa, &rs[i].cc);
        }
        if (rs_nr && http_engine_run(aa->api->eng, err) < 0)
            ret = -1;
        for (i = 0; i < rs_nr; i++) {
            take_resend(&rs[i]);
            resend_free(&rs[i]);
        }
        free(rs);
    }
    for (i = 0; i < nr; i++)
        mark_still_unknown(&reqs[i]);
    for (i = 0; i < s.m_nr; i++)
        uuidmap_release(&s.m[i].ids);
    free(s.m);
    free(s.chains);
    for (i = 0; i < s.albums_nr; i++)
        free(s.names[i]);
    free(s.names);
    free(s.albums);
    buf_release(&s.err);
    return ret;
}
