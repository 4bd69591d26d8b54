/*
 * api_poll.c: the requests of a watch-mode poll (api_poll.h).
 */
#include "api/api_poll.h"

#include "api/api_internal.h"

struct poll {
    struct api *a;
    int64_t since;
    api_changes_fn *cb;
    void *ctx;
    int pending;
    struct api_changes ch;
    struct api_changed *items; /* ch.items, grown per answer */
    size_t alloc;
    struct api_status st; /* the first failure, else ok */
    struct buf error;     /* its message (st.error points here) */
    char endpoint[64];
};

static void fail(struct poll *p, const struct api_status *st)
{
    if (!p->st.ok)
        return;
    p->st = *st;
    buf_addstr(&p->error, st->error);
    p->st.error = p->error.buf;
    snprintf(p->endpoint, sizeof(p->endpoint), "%s", st->endpoint);
    p->st.endpoint = p->endpoint;
}

static void one_done(struct poll *p)
{
    if (--p->pending)
        return;
    p->ch.items = p->items;
    p->cb(p->ctx, &p->st, p->st.ok ? &p->ch : NULL);
    free(p->items);
    buf_release(&p->error);
    free(p);
}

/*
 * On a failed answer: records it (the first failure wins) and finishes this
 * request, which may free p; true then, so the caller returns at once.
 */
static bool failed(struct poll *p, const struct api_status *st)
{
    if (st->ok)
        return false;
    fail(p, st);
    one_done(p);
    return true;
}

static void on_page(void *ctx, const struct api_status *st,
                    const struct api_asset *assets, size_t nr, long next_page)
{
    struct poll *p = ctx;
    size_t i;

    if (failed(p, st))
        return;
    ALLOC_GROW(p->items, p->ch.nr + nr, p->alloc);
    for (i = 0; i < nr; i++) {
        p->items[p->ch.nr + i].id = assets[i].id;
        p->items[p->ch.nr + i].updated_at = assets[i].updated_at;
    }
    p->ch.nr += nr;
    p->ch.more |= next_page != 0;
    one_done(p);
}

/* The page decoder, after noting the answer's Date: the server's clock. */
static void deliver_page(struct api_call *c, const char *data, size_t len,
                         struct api_status *st)
{
    struct poll *p = c->ctx;

    if (st->ok && st->server_date >= 0 && p->ch.server_ms == TIME_NONE)
        p->ch.server_ms = st->server_date;
    api_deliver_page_raw(c, data, len, st);
}

/* FNV-1a, 64 bits. */
static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
    const unsigned char *s = data;

    while (len--)
        h = (h ^ *s++) * 0x100000001b3ULL;
    return h;
}

/* One album's fingerprint: what the full read takes from the list (id,
 * name, owner, members with their roles, updatedAt, assetCount,
 * lastModifiedAssetTimestamp).  The members are summed, so their order
 * in the answer does not matter. */
static uint64_t album_fp(const struct api_album *al)
{
    uint64_t h = 0xcbf29ce484222325ULL, users = 0;
    int64_t v[3] = {al->updated_at, al->asset_count, al->last_modified};

    h = fnv(h, &al->id, sizeof(al->id));
    h = fnv(h, al->name, strlen(al->name) + 1);
    h = fnv(h, &al->owner, sizeof(al->owner));
    h = fnv(h, v, sizeof(v));
    for (size_t i = 0; i < al->users_nr; i++) {
        uint64_t u = fnv(0xcbf29ce484222325ULL, &al->users[i].user,
                         sizeof(al->users[i].user));

        users += fnv(u, &al->users[i].role, sizeof(al->users[i].role));
    }
    return fnv(h, &users, sizeof(users));
}

/* An album list (2.x: the owned one or the shared one): its albums are
 * added to the fingerprint. */
static void on_albums(void *ctx, const struct api_status *st,
                      const struct api_album *albums, size_t nr)
{
    struct poll *p = ctx;
    size_t i;

    if (failed(p, st))
        return;
    p->ch.albums_nr += nr;
    for (i = 0; i < nr; i++)
        p->ch.albums_fp += album_fp(&albums[i]); /* a sum: the lists' order
                                                    does not matter */
    one_done(p);
}

/* One search: {"page":1,"size":N,"withDeleted":true[,"updatedAfter"]
 * [,"visibility"]}. */
static void search_changed(struct poll *p, const char *visibility)
{
    struct buf body = BUF_INIT;
    char t[32];

    buf_addf(&body, "{\"page\":1,\"size\":%d,\"withDeleted\":true",
             API_POLL_PAGE);
    if (p->since != TIME_NONE) {
        time_format_iso(p->since, t);
        buf_addf(&body, ",\"updatedAfter\":\"%s\"", t);
    }
    if (visibility)
        buf_addf(&body, ",\"visibility\":\"%s\"", visibility);
    buf_addch(&body, '}');
    api_submit_raw(p->a, "POST", "/search/metadata", "POST /search/metadata",
                   &body, true, deliver_page, (api_any_fn *)on_page, p);
    buf_release(&body);
}

/*
 * The requests whose form depends on the server line.  3.x: one search
 * (its default is everything but locked).  2.x: its search sees the
 * timeline only unless asked, so the timeline, the archive and the hidden
 * assets are asked apart (the three passes of the full read), and its
 * GET /albums lists the caller's own albums only, so the albums shared
 * with the caller are listed apart (?shared=true, as the full read does).
 */
static void submit_by_dialect(struct poll *p)
{
    if (p->a->dialect == 2) {
        p->pending += 4;
        search_changed(p, "timeline");
        search_changed(p, "archive");
        search_changed(p, "hidden");
        api_albums(p->a, 1, on_albums, p);
    } else {
        p->pending++;
        search_changed(p, NULL);
    }
}

static void on_version(void *ctx, const struct api_status *st,
                       const struct api_version *v)
{
    struct poll *p = ctx;

    if (failed(p, st))
        return;
    p->a->dialect = api_dialect_of(v->major);
    submit_by_dialect(p);
    one_done(p);
}

void api_poll_changes(struct api *a, int64_t since_ms, api_changes_fn *cb,
                      void *ctx)
{
    struct poll *p = xcalloc(1, sizeof(*p));

    p->a = a;
    p->since = since_ms;
    p->cb = cb;
    p->ctx = ctx;
    p->pending = 1; /* the list below */
    p->st.ok = true;
    p->st.kind = API_OK;
    p->st.error = "";
    p->st.endpoint = "";
    p->ch.server_ms = TIME_NONE;
    buf_init(&p->error, 0);
    if (a->dialect) {
        submit_by_dialect(p);
    } else {
        p->pending++;
        api_server_version(a, on_version, p);
    }
    api_albums(a, -1, on_albums, p);
}
