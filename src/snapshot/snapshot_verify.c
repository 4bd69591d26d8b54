/*
 * snapshot_verify.c: did the albums change while the library was read?
 *
 * Immich has no snapshot reads: a run reads its library in a few hundred
 * requests over seconds, and another writer (a second run, the web page,
 * a phone uploading into a shared album) may change it in between.  A
 * read that saw an album list from before such a change and memberships
 * from after it can take classified photos for unclassified ones.  Before
 * the first write the albums are listed again, the same way the load
 * listed them, and compared with the model: an album added, gone, or with
 * another updatedAt or assetCount means the read may be torn.
 *
 * That listing is the run's only one between the read and the writes:
 * the albums it has that the read had not go on to the caller (`unread`),
 * for the album creates to reuse one of the same name made meanwhile
 * (reuse_existing_albums() in src/apply/apply_api.c) instead of listing
 * the albums once more.
 */
#include "snapshot/snapshot.h"

#include "api/api.h"

struct verify {
    const struct model *m;
    bool *seen;
    bool failed;
    struct buf *what;
    struct buf *err;
    api_albums_fn *unread; /* may be NULL */
    void *unread_ctx;
};

static void changed(struct verify *v, const char *name, const char *how)
{
    if (!v->what->len)
        buf_addf(v->what, "album '%s' %s", name, how);
}

static void on_albums(void *ctx, const struct api_status *st,
                      const struct api_album *albums, size_t nr)
{
    struct verify *v = ctx;
    struct api_album *unread;
    size_t unread_nr = 0;

    if (!st->ok) {
        if (!v->failed)
            buf_addstr(v->err, st->error);
        v->failed = true;
        if (v->unread)
            v->unread(v->unread_ctx, st, NULL, 0);
        return;
    }
    unread = xcalloc(nr ? nr : 1, sizeof(*unread));
    for (size_t i = 0; i < nr; i++) {
        const struct api_album *a = &albums[i];
        uint32_t k = model_find_album(v->m, &a->id);

        if (k == MODEL_NONE) {
            changed(v, a->name ? a->name : "", "was created");
            unread[unread_nr++] = *a;
            continue;
        }
        v->seen[k] = true;
        if (a->updated_at != v->m->albums[k].updated_at ||
            a->asset_count != (long)v->m->albums[k].asset_count)
            changed(v, a->name ? a->name : "", "changed");
    }
    if (v->unread)
        v->unread(v->unread_ctx, st, unread, unread_nr);
    free(unread);
}

int snapshot_albums_changed(struct http_engine *eng, int dialect,
                            const struct model *m, api_albums_fn *unread,
                            void *unread_ctx, struct buf *what, struct buf *err)
{
    struct verify v = {m, NULL, false, what, err, unread, unread_ctx};
    struct api api;
    int ret = 0;

    v.seen = xcalloc(m->albums_nr + 1, sizeof(*v.seen));
    api_init(&api, eng);
    api.dialect = dialect;
    api_albums(&api, -1, on_albums, &v);
    if (dialect == 2)
        api_albums(&api, 1, on_albums, &v);
    if (http_engine_run(eng, err) < 0 || v.failed) {
        ret = -1;
        goto out;
    }
    for (size_t i = 0; i < m->albums_nr && !what->len; i++)
        if (!v.seen[i])
            changed(&v, model_str(m, m->albums[i].name), "was deleted");
    ret = what->len ? 1 : 0;
out:
    free(v.seen);
    return ret;
}
