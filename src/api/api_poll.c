/*
 * api_poll.c: the two requests of a watch-mode poll (api_poll.h).
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
    p->cb(p->ctx, &p->st, p->st.ok ? &p->ch : NULL);
    buf_release(&p->error);
    free(p);
}

static void deliver_count(struct api_call *c, json_t *root,
                          struct api_status *st)
{
    struct poll *p = c->ctx;
    struct jdec d = {c->endpoint, &c->err};
    long total = 0;

    if (st->ok && (jd_obj(&d, root, "", -1, NULL, &root) < 0 ||
                   jd_long(&d, root, "", -1, "total", &total) < 0))
        api_decode_failed(c, st);
    if (st->ok) {
        p->ch.changed += total;
        if (c->date_ms >= 0 && p->ch.server_ms == TIME_NONE)
            p->ch.server_ms = c->date_ms;
    } else {
        fail(p, st);
    }
    one_done(p);
}

/* FNV-1a, 64 bits. */
static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
    const unsigned char *s = data;

    while (len--)
        h = (h ^ *s++) * 0x100000001b3ULL;
    return h;
}

static void on_albums(void *ctx, const struct api_status *st,
                      const struct api_album *albums, size_t nr)
{
    struct poll *p = ctx;
    size_t i;

    if (!st->ok) {
        fail(p, st);
        one_done(p);
        return;
    }
    p->ch.albums_nr = nr;
    for (i = 0; i < nr; i++) {
        const struct api_album *al = &albums[i];
        uint64_t h = 0xcbf29ce484222325ULL;
        int64_t v[3] = {al->updated_at, al->asset_count, al->last_modified};

        h = fnv(h, &al->id, sizeof(al->id));
        h = fnv(h, al->name, strlen(al->name) + 1);
        h = fnv(h, v, sizeof(v));
        p->ch.albums_fp += h; /* a sum: the list's order does not matter */
    }
    one_done(p);
}

/* One statistics call: {"withDeleted":true[,"updatedAfter"][,"visibility"]}. */
static void count_changed(struct poll *p, const char *visibility)
{
    struct buf body = BUF_INIT;
    char t[32];

    buf_addstr(&body, "{\"withDeleted\":true");
    if (p->since != TIME_NONE) {
        time_format_iso(p->since, t);
        buf_addf(&body, ",\"updatedAfter\":\"%s\"", t);
    }
    if (visibility)
        buf_addf(&body, ",\"visibility\":\"%s\"", visibility);
    buf_addch(&body, '}');
    api_submit(p->a, "POST", "/search/statistics", "POST /search/statistics",
               &body, true, true, deliver_count, NULL, p);
    buf_release(&body);
}

/* 2.x counts the timeline only by default: its archive is asked apart. */
static void count_all(struct poll *p)
{
    if (p->a->dialect == 2) {
        p->pending++;
        count_changed(p, "timeline");
        count_changed(p, "archive");
    } else {
        count_changed(p, NULL);
    }
}

static void on_version(void *ctx, const struct api_status *st,
                       const struct api_version *v)
{
    struct poll *p = ctx;

    if (!st->ok) {
        fail(p, st);
        one_done(p);
        return;
    }
    p->a->dialect = api_dialect_of(v->major);
    count_all(p);
}

void api_poll_changes(struct api *a, int64_t since_ms, api_changes_fn *cb,
                      void *ctx)
{
    struct poll *p = xcalloc(1, sizeof(*p));

    p->a = a;
    p->since = since_ms;
    p->cb = cb;
    p->ctx = ctx;
    p->pending = 2;
    p->st.ok = true;
    p->st.kind = API_OK;
    p->st.error = "";
    p->st.endpoint = "";
    p->ch.server_ms = TIME_NONE;
    buf_init(&p->error, 0);
    if (a->dialect)
        count_all(p);
    else
        api_server_version(a, on_version, p);
    api_albums(a, -1, on_albums, p);
}
