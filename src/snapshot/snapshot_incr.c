/*
 * snapshot_incr.c: the incremental read.  What the last good read saw is
 * kept as bytes (snapshot_prev_encode, stored by the caller); the next
 * read decodes them, asks the server only for the assets updated since
 * (POST /search/metadata updatedAfter, trashed ones included) and checks
 * the rebuilt list against the statistics' count of every pass.  Which
 * changes move an asset's updatedAt, and which do not (tag and album
 * links, shared-link duplicates, partners), is in docs/simulator.md
 * "What moves an asset's updatedAt"; the loader reads tag memberships
 * and changed albums as always, so this file only replaces round 3.
 *
 * The encoding (host byte order, never leaves the machine):
 *   "IAL1" u32 dialect, u64 needs-hash, i64 read_at, u32 n_assets,
 *   n x asset (ids, times, visibility, flags, order, name, path),
 *   u32 n_links, n x (kind byte, record id, asset id),
 *   u32 n_albums, n x (album id, u64 signature),
 *   u64 FNV-1a of everything before.
 * Anything that does not decode exactly is "damaged": a full read.
 */
#include "snapshot/snapshot_incr.h"

#include "core/hashmap.h"
#include "core/log.h"

#define MAGIC "IAL1"
/* updatedAfter starts this long before the last read began (the Date of
 * its first answer, whole seconds): a statement that stamped its rows
 * (clock_timestamp(), row by row) before that read and committed after it
 * is still seen. */
#define MARGIN_MS (10LL * 1000)
#define PAGE_SIZE 1000

enum { LINK_ALBUM = 1, LINK_TAG = 2 };

struct irec {
    struct uuid id, owner, dup;
    bool has_dup;
    int64_t t[6]; /* fileCreatedAt, fileModifiedAt, localDateTime,
                     createdAt, updatedAt, dateTimeOriginal */
    uint8_t visibility, flags;
    uint32_t order; /* place in the last read's order (ties) */
    char *name, *path;
};

struct ilink {
    uint8_t kind;
    struct uuid rec, asset;
};

struct isig {
    struct uuid album;
    uint64_t sig;
};

struct snapshot_prev {
    int dialect;
    uint64_t needs;
    int64_t read_at;
    struct irec *recs;
    size_t recs_nr;
    struct ilink *links; /* sorted */
    size_t links_nr;
    struct isig *sigs; /* sorted by album */
    size_t sigs_nr;
    struct uuidmap by_id; /* recs by asset id */
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;

    for (size_t i = 0; i < n; i++) {
        h ^= c[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

#define FNV_INIT 0xcbf29ce484222325ULL

/* What the configuration reads, as a number: a remembered library read
 * for other needs is not reused. */
static uint64_t needs_hash(const struct snapshot_needs *n)
{
    uint64_t h = FNV_INIT;
    unsigned char f[5] = {n->users, n->album_members, n->exif, n->duplicates,
                          n->all_tag_members};

    h = fnv(h, f, sizeof(f));
    for (size_t i = 0; i < n->tag_names.nr; i++)
        h = fnv(h, n->tag_names.items[i], strlen(n->tag_names.items[i]) + 1);
    h = fnv(h, "/", 1);
    for (size_t i = 0; i < n->tag_prefixes.nr; i++)
        h = fnv(h, n->tag_prefixes.items[i],
                strlen(n->tag_prefixes.items[i]) + 1);
    return h;
}

/* An album's name, owner and users with their roles. */
static uint64_t album_sig(const struct model *m, uint32_t al)
{
    const struct model_album *a = &m->albums[al];
    const char *name = model_str(m, a->name);
    uint64_t h = fnv(FNV_INIT, name, strlen(name) + 1);

    h = fnv(h, &m->users[a->owner].id, sizeof(struct uuid));
    for (uint32_t i = 0; i < a->users_nr; i++) {
        const struct model_album_user *u = &m->album_users[a->users_first + i];

        h = fnv(h, &m->users[u->user].id, sizeof(struct uuid));
        h = fnv(h, &u->role, 1);
    }
    return h;
}

static int cmp_link(const void *a, const void *b)
{
    const struct ilink *x = a, *y = b;
    int c = memcmp(&x->asset, &y->asset, sizeof(x->asset));

    if (c)
        return c;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return memcmp(&x->rec, &y->rec, sizeof(x->rec));
}

static int cmp_sig(const void *a, const void *b)
{
    return memcmp(&((const struct isig *)a)->album,
                  &((const struct isig *)b)->album, sizeof(struct uuid));
}

/* ---- encoding ------------------------------------------------------------ */

/* The encoder: bytes go out in pieces of up to CHUNK, summed as they go,
 * so a million assets never sit in memory as one buffer. */
#define CHUNK (1u << 20)

struct enc {
    struct buf chunk;
    snapshot_write_fn *write;
    void *ctx;
    uint64_t sum;
    size_t total;
};

static void flush(struct enc *e)
{
    if (!e->chunk.len)
        return;
    e->sum = fnv(e->sum, e->chunk.buf, e->chunk.len);
    e->write(e->ctx, e->chunk.buf, e->chunk.len);
    e->total += e->chunk.len;
    buf_reset(&e->chunk);
}

static void put(struct enc *e, const void *p, size_t n)
{
    buf_add(&e->chunk, p, n);
    if (e->chunk.len >= CHUNK)
        flush(e);
}

static void put_u32(struct enc *e, uint32_t v)
{
    put(e, &v, sizeof(v));
}

static void put_u64(struct enc *e, uint64_t v)
{
    put(e, &v, sizeof(v));
}

static void put_str(struct enc *e, const char *s)
{
    size_t n = strlen(s);

    put_u32(e, (uint32_t)n);
    put(e, s, n);
}

/* Links of one kind (a CSR row per album or tag whose members are
 * known): how many, or with e, each as (kind, record id, asset id). */
static size_t put_links(struct enc *e, const struct model *m, bool tags)
{
    size_t rows = tags ? m->tags_nr : m->albums_nr, n = 0;
    const struct model_csr *c = tags ? &m->tag_assets : &m->album_assets;
    uint8_t kind = tags ? LINK_TAG : LINK_ALBUM;

    for (size_t r = 0; r < rows; r++) {
        const struct uuid *rec = tags ? &m->tags[r].id : &m->albums[r].id;

        if (!(tags ? m->tags[r].members_known : m->albums[r].members_known))
            continue;
        for (uint32_t k = c->start[r]; k < c->start[r + 1]; k++, n++) {
            if (!e)
                continue;
            put(e, &kind, 1);
            put(e, rec, sizeof(*rec));
            put(e, &m->assets[c->items[k]].id, sizeof(struct uuid));
        }
    }
    return n;
}

size_t snapshot_prev_size(const struct model *m)
{
    size_t n = 4 + 4 + 8 + 8 + 4 + 4 + 4 + 8;

    for (size_t i = 0; i < m->assets_nr; i++)
        n += 3 * 16 + 6 * 8 + 2 + 4 + 8 +
             strlen(model_str(m, m->assets[i].file_name)) +
             strlen(model_str(m, m->assets[i].path));
    n += (1 + 2 * 16) * (put_links(NULL, m, false) + put_links(NULL, m, true));
    return n + m->albums_nr * (16 + 8);
}

void snapshot_prev_encode(const struct model *m,
                          const struct snapshot_info *info,
                          const struct snapshot_needs *needs,
                          snapshot_write_fn *write, void *ctx)
{
    struct enc e = {BUF_INIT, write, ctx, FNV_INIT, 0};
    int64_t read_at = TIME_NONE;
    static const struct uuid none;

    buf_grow(&e.chunk, CHUNK + 4096);
    put(&e, MAGIC, 4);
    put_u32(&e, (uint32_t)info->dialect);
    put_u64(&e, needs_hash(needs));
    /* "since when": the server's clock when this read began; without a
     * Date header, the newest updatedAt the read saw */
    for (size_t i = 0; i < m->assets_nr; i++)
        if (m->assets[i].updated_at > read_at)
            read_at = m->assets[i].updated_at;
    if (info->server_date > 0)
        read_at = info->server_date;
    put_u64(&e, (uint64_t)read_at);
    put_u32(&e, (uint32_t)m->assets_nr);
    for (size_t i = 0; i < m->assets_nr; i++) {
        const struct model_asset *a = &m->assets[i];
        uint8_t vf[2] = {a->visibility,
                         (uint8_t)(a->flags & ~MODEL_ASSET_CHANGED)};

        put(&e, &a->id, sizeof(a->id));
        put(&e, &m->users[a->owner].id, sizeof(struct uuid));
        put(&e, a->duplicate == MODEL_NONE ? &none : &m->dups[a->duplicate].id,
            sizeof(struct uuid));
        put_u64(&e, (uint64_t)a->file_created_at);
        put_u64(&e, (uint64_t)a->file_modified_at);
        put_u64(&e, (uint64_t)a->local_date_time);
        put_u64(&e, (uint64_t)a->created_at);
        put_u64(&e, (uint64_t)a->updated_at);
        put_u64(&e, (uint64_t)a->date_time_original);
        put(&e, vf, 2);
        put_u32(&e, a->search_index);
        put_str(&e, model_str(m, a->file_name));
        put_str(&e, model_str(m, a->path));
    }
    put_u32(&e,
            (uint32_t)(put_links(NULL, m, false) + put_links(NULL, m, true)));
    (void)put_links(&e, m, false);
    (void)put_links(&e, m, true);
    put_u32(&e, (uint32_t)m->albums_nr);
    for (size_t i = 0; i < m->albums_nr; i++) {
        put(&e, &m->albums[i].id, sizeof(struct uuid));
        put_u64(&e, album_sig(m, (uint32_t)i));
    }
    flush(&e);
    /* the checksum of everything before, outside the sum */
    write(ctx, &e.sum, sizeof(e.sum));
    if (e.total + sizeof(e.sum) != snapshot_prev_size(m))
        BUG("snapshot_prev_encode: %zu bytes, %zu foreseen",
            e.total + sizeof(e.sum), snapshot_prev_size(m));
    buf_release(&e.chunk);
}

/* ---- decoding ------------------------------------------------------------ */

struct rd {
    const unsigned char *p, *end;
    bool bad;
};

static void get(struct rd *r, void *into, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = true;
        memset(into, 0, n);
        return;
    }
    memcpy(into, r->p, n);
    r->p += n;
}

static uint32_t get_u32(struct rd *r)
{
    uint32_t v;

    get(r, &v, sizeof(v));
    return v;
}

static uint64_t get_u64(struct rd *r)
{
    uint64_t v;

    get(r, &v, sizeof(v));
    return v;
}

static char *get_str(struct rd *r)
{
    uint32_t n = get_u32(r);
    char *s;

    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = true;
        return xstrdup("");
    }
    s = xstrndup((const char *)r->p, n);
    r->p += n;
    return s;
}

/* A count of items of at least `each` bytes that the rest can hold. */
static size_t get_count(struct rd *r, size_t each)
{
    uint32_t n = get_u32(r);

    if (r->bad || n > (size_t)(r->end - r->p) / each) {
        r->bad = true;
        return 0;
    }
    return n;
}

void snapshot_prev_free(struct snapshot_prev *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->recs_nr; i++) {
        free(p->recs[i].name);
        free(p->recs[i].path);
    }
    free(p->recs);
    free(p->links);
    free(p->sigs);
    uuidmap_release(&p->by_id);
    free(p);
}

/*
 * Decodes what snapshot_prev_encode() wrote: 0 with *out, or -1 with err
 * when the bytes are damaged (wrong magic, a length past the end, bytes
 * left over, or a checksum that does not match).
 */
int snapshot_prev_decode(const void *data, size_t len,
                         struct snapshot_prev **out, struct buf *err)
{
    struct rd r = {data, (const unsigned char *)data + len, false};
    struct snapshot_prev *p = xcalloc(1, sizeof(*p));
    char magic[4];
    uint64_t sum;

    *out = NULL;
    if (len < 4 + 8 ||
        fnv(FNV_INIT, data, len - 8) != (memcpy(&sum, r.end - 8, 8), sum)) {
        buf_addstr(err, "the remembered library is damaged (checksum)");
        free(p);
        return -1;
    }
    r.end -= 8;
    get(&r, magic, 4);
    if (memcmp(magic, MAGIC, 4))
        r.bad = true;
    p->dialect = (int)get_u32(&r);
    p->needs = get_u64(&r);
    p->read_at = (int64_t)get_u64(&r);
    p->recs_nr = get_count(&r, 3 * 16 + 6 * 8 + 2 + 4 + 8);
    p->recs = xcalloc(p->recs_nr + 1, sizeof(*p->recs));
    for (size_t i = 0; i < p->recs_nr; i++) {
        struct irec *x = &p->recs[i];
        uint8_t vf[2];

        get(&r, &x->id, sizeof(x->id));
        get(&r, &x->owner, sizeof(x->owner));
        get(&r, &x->dup, sizeof(x->dup));
        x->has_dup = !uuid_is_zero(&x->dup);
        for (int k = 0; k < 6; k++)
            x->t[k] = (int64_t)get_u64(&r);
        get(&r, vf, 2);
        x->visibility = vf[0];
        x->flags = vf[1];
        x->order = get_u32(&r);
        x->name = get_str(&r);
        x->path = get_str(&r);
    }
    p->links_nr = get_count(&r, 1 + 2 * 16);
    p->links = xcalloc(p->links_nr + 1, sizeof(*p->links));
    for (size_t i = 0; i < p->links_nr; i++) {
        get(&r, &p->links[i].kind, 1);
        get(&r, &p->links[i].rec, sizeof(struct uuid));
        get(&r, &p->links[i].asset, sizeof(struct uuid));
    }
    p->sigs_nr = get_count(&r, 16 + 8);
    p->sigs = xcalloc(p->sigs_nr + 1, sizeof(*p->sigs));
    for (size_t i = 0; i < p->sigs_nr; i++) {
        get(&r, &p->sigs[i].album, sizeof(struct uuid));
        p->sigs[i].sig = get_u64(&r);
    }
    if (r.bad || r.p != r.end) {
        buf_addstr(err, "the remembered library is damaged (its records "
                        "do not decode)");
        snapshot_prev_free(p);
        return -1;
    }
    if (p->links_nr)
        qsort(p->links, p->links_nr, sizeof(*p->links), cmp_link);
    if (p->sigs_nr)
        qsort(p->sigs, p->sigs_nr, sizeof(*p->sigs), cmp_sig);
    for (size_t i = 0; i < p->recs_nr; i++)
        uuidmap_put(&p->by_id, &p->recs[i].id, (uint32_t)i);
    *out = p;
    return 0;
}

bool snapshot_prev_has(const struct snapshot_prev *p, const struct uuid *id)
{
    return uuidmap_get(&p->by_id, id) != HASHMAP_NONE;
}

/* ---- the read ------------------------------------------------------------ */

struct incr {
    struct api *api;
    const struct snapshot_needs *needs;
    struct irec *recs; /* read now */
    size_t nr, alloc;
    struct uuidmap by_id;
    int64_t after;
    bool failed;
    struct api_status st;
    char error[256];
};

struct incr_page {
    struct incr *in;
    const char *visibility;
    bool exif;
};

static void submit(struct incr *in, const char *visibility, bool exif,
                   long page);

/*
 * A page of the assets updated since: each is recorded once (the EXIF
 * twin's copy only brings the date), and the next page is asked for.
 * The first failure is kept and the engine wrapped up: the load fails.
 */
static void on_delta(void *ctx, const struct api_status *st,
                     const struct api_asset *assets, size_t nr, long next_page)
{
    struct incr_page *pg = ctx;
    struct incr *in = pg->in;

    if (!st->ok) {
        if (!in->failed) {
            in->failed = true;
            in->st = *st;
            snprintf(in->error, sizeof(in->error), "%s", st->error);
            in->st.error = in->error;
            http_engine_wrap_up(in->api->eng);
        }
        goto out;
    }
    for (size_t i = 0; i < nr; i++) {
        const struct api_asset *a = &assets[i];
        uint32_t k = uuidmap_get(&in->by_id, &a->id);
        struct irec *x;

        if (k != HASHMAP_NONE) {
            /* the EXIF twin brings the date */
            x = &in->recs[k];
            if (a->has_exif && !(x->flags & MODEL_ASSET_EXIF)) {
                x->flags |= MODEL_ASSET_EXIF;
                x->t[5] = a->date_time_original;
            }
            continue;
        }
        ALLOC_GROW(in->recs, in->nr + 1, in->alloc);
        x = &in->recs[in->nr];
        memset(x, 0, sizeof(*x));
        x->id = a->id;
        x->owner = a->owner;
        x->dup = a->duplicate;
        x->has_dup = a->has_duplicate;
        x->t[0] = a->file_created_at;
        x->t[1] = a->file_modified_at;
        x->t[2] = a->local_date_time;
        x->t[3] = a->created_at;
        x->t[4] = a->updated_at;
        x->t[5] = a->date_time_original;
        x->visibility = (uint8_t)a->visibility;
        x->flags = (uint8_t)((a->trashed ? MODEL_ASSET_TRASHED : 0) |
                             (a->favorite ? MODEL_ASSET_FAVORITE : 0) |
                             (a->video ? MODEL_ASSET_VIDEO : 0) |
                             (a->has_exif ? MODEL_ASSET_EXIF : 0));
        x->order = UINT32_MAX;
        x->name = xstrndup((const char *)a->file_name, a->file_name_len);
        x->path = xstrndup((const char *)a->path, a->path_len);
        uuidmap_put(&in->by_id, &a->id, (uint32_t)in->nr);
        in->nr++;
    }
    if (next_page)
        submit(in, pg->visibility, pg->exif, next_page);
out:
    free(pg);
}

static void submit(struct incr *in, const char *visibility, bool exif,
                   long page)
{
    struct api_search q = API_SEARCH_INIT;
    struct incr_page *pg = xcalloc(1, sizeof(*pg));

    pg->in = in;
    pg->visibility = visibility;
    pg->exif = exif;
    q.page = page;
    q.size = PAGE_SIZE;
    q.visibility = visibility;
    q.with_exif = exif;
    q.with_deleted = true; /* trashed since: to drop them */
    q.updated_after = in->after;
    api_search_metadata(in->api, &q, on_delta, pg);
}

/* The pass (of the full read's) an asset of visibility v is in. */
static size_t pass_of(const struct incr_pass *passes, size_t nr, uint8_t v)
{
    static const char *const names[] = {"timeline", "archive", "hidden",
                                        "locked"};

    for (size_t i = 0; i < nr; i++)
        if (!passes[i].visibility ||
            (v < ARRAY_SIZE(names) && !strcmp(passes[i].visibility, names[v])))
            return i;
    return SIZE_MAX;
}

struct placed {
    const struct irec *r;
    size_t pass;
    bool fresh;
};

/* The server's order: pass, then fileCreatedAt newest first; equal dates
 * keep the last read's order, new ones after them by id. */
static int cmp_placed(const void *a, const void *b)
{
    const struct placed *x = a, *y = b;

    if (x->pass != y->pass)
        return x->pass < y->pass ? -1 : 1;
    if (x->r->t[0] != y->r->t[0])
        return x->r->t[0] > y->r->t[0] ? -1 : 1;
    if (x->r->order != y->r->order)
        return x->r->order < y->r->order ? -1 : 1;
    return memcmp(&x->r->id, &y->r->id, sizeof(struct uuid));
}

static void add_rec(struct model *m, const struct placed *p, uint32_t index,
                    const struct uuid *me, incr_dup_fn *dup, void *dup_ctx,
                    bool dups)
{
    struct model_asset a;
    uint32_t idx;

    memset(&a, 0, sizeof(a));
    a.id = p->r->id;
    a.owner = snapshot_model_user(m, &p->r->owner);
    a.file_name = model_intern(m, p->r->name);
    a.path = model_intern(m, p->r->path);
    a.duplicate = MODEL_NONE;
    a.file_created_at = p->r->t[0];
    a.file_modified_at = p->r->t[1];
    a.local_date_time = p->r->t[2];
    a.created_at = p->r->t[3];
    a.updated_at = p->r->t[4];
    a.date_time_original = p->r->t[5];
    a.visibility = p->r->visibility;
    a.flags =
        p->r->flags & (uint8_t) ~(MODEL_ASSET_CHANGED | MODEL_ASSET_PARTNER);
    if (!uuid_eq(&p->r->owner, me))
        a.flags |= MODEL_ASSET_PARTNER;
    if (p->fresh)
        a.flags |= MODEL_ASSET_CHANGED;
    a.search_pass = p->pass < 255 ? (uint8_t)p->pass : 255;
    a.search_index = index;
    idx = model_add_asset(m, &a);
    if (p->r->has_dup && dups)
        dup(dup_ctx, idx, &p->r->dup);
}

/*
 * Merges prev and what was read now, counts per pass, and adds them to m
 * in the server's order when every count matches the statistics.
 */
static int merge(struct incr *in, const struct snapshot_prev *prev,
                 const struct incr_pass *passes, size_t passes_nr,
                 const struct uuid *me, struct model *m, incr_dup_fn *dup,
                 void *dup_ctx, struct buf *why)
{
    struct placed *v = xcalloc(prev->recs_nr + in->nr + 1, sizeof(*v));
    int64_t *counts = xcalloc(passes_nr + 1, sizeof(*counts));
    size_t n = 0, fresh = 0;
    int ret = 1;

    for (size_t i = 0; i < prev->recs_nr; i++)
        if (uuidmap_get(&in->by_id, &prev->recs[i].id) == HASHMAP_NONE)
            v[n++] = (struct placed){&prev->recs[i], 0, false};
    for (size_t i = 0; i < in->nr; i++) {
        struct irec *x = &in->recs[i];
        uint32_t k = uuidmap_get(&prev->by_id, &x->id);
        /* the margin brings back what the last read already had: the
         * same updatedAt is the same asset */
        bool same = k != HASHMAP_NONE && prev->recs[k].t[4] == x->t[4];

        if (same)
            x->order = prev->recs[k].order;
        if (x->flags & MODEL_ASSET_TRASHED)
            continue;
        v[n++] = (struct placed){x, 0, !same};
        fresh += !same;
    }
    for (size_t i = 0; i < n; i++) {
        v[i].pass = pass_of(passes, passes_nr, v[i].r->visibility);
        if (v[i].pass == SIZE_MAX) {
            buf_addf(why, "an asset left the passes (visibility %u)",
                     v[i].r->visibility);
            ret = 0;
            goto out;
        }
        counts[v[i].pass]++;
    }
    for (size_t i = 0; i < passes_nr; i++)
        if (counts[i] != passes[i].total) {
            buf_addf(why,
                     "%lld assets remembered and changed, the server "
                     "counts %lld (%s)",
                     (long long)counts[i], (long long)passes[i].total,
                     passes[i].visibility ? passes[i].visibility : "all");
            ret = 0;
            goto out;
        }
    if (n)
        qsort(v, n, sizeof(*v), cmp_placed);
    for (size_t i = 0, k = 0; i < n; i++, k++) {
        if (i && v[i].pass != v[i - 1].pass)
            k = 0;
        add_rec(m, &v[i], (uint32_t)k, me, dup, dup_ctx, in->needs->duplicates);
    }
    m->changes_only = true;
    verbose_log("snapshot: incremental: %zu assets read since %lld, "
                "%zu of them changed, %zu assets in all",
                in->nr, (long long)in->after, fresh, n);
out:
    free(v);
    free(counts);
    return ret;
}

int snapshot_incr_assets(struct api *api, const struct snapshot_prev *prev,
                         const struct snapshot_needs *needs,
                         const struct incr_pass *passes, size_t passes_nr,
                         const struct uuid *me, struct model *m,
                         incr_dup_fn *dup, void *dup_ctx, struct api_status *st,
                         struct buf *why)
{
    struct incr in;
    struct buf err = BUF_INIT;
    int ret;

    if (prev->dialect != api->dialect) {
        buf_addf(why, "remembered from dialect %d", prev->dialect);
        return 0;
    }
    if (prev->needs != needs_hash(needs)) {
        buf_addstr(why, "the configuration reads other things now");
        return 0;
    }
    if (prev->read_at == TIME_NONE) {
        buf_addstr(why, "nothing remembered");
        return 0;
    }
    memset(&in, 0, sizeof(in));
    in.api = api;
    in.needs = needs;
    in.after = prev->read_at - MARGIN_MS;
    for (size_t i = 0; i < passes_nr; i++) {
        submit(&in, passes[i].visibility, false, 1);
        /* withExif drops the assets without EXIF (flat search): the
         * twin gives the dates of those that have it */
        if (needs->exif)
            submit(&in, passes[i].visibility, true, 1);
    }
    if (http_engine_run(api->eng, &err) < 0 && !in.failed) {
        in.failed = true;
        in.st.ok = false;
        in.st.kind = API_FAIL_NETWORK;
        snprintf(in.error, sizeof(in.error), "%s", err.buf);
        in.st.error = in.error;
    }
    if (in.failed) {
        *st = in.st;
        ret = -1;
    } else {
        ret = merge(&in, prev, passes, passes_nr, me, m, dup, dup_ctx, why);
    }
    for (size_t i = 0; i < in.nr; i++) {
        free(in.recs[i].name);
        free(in.recs[i].path);
    }
    free(in.recs);
    uuidmap_release(&in.by_id);
    buf_release(&err);
    return ret;
}

/* ---- what changed in the memberships ------------------------------------- */

static bool sig_changed(const struct snapshot_prev *prev, const struct model *m,
                        uint32_t al)
{
    struct isig key = {m->albums[al].id, 0}, *hit;

    hit =
        bsearch(&key, prev->sigs, prev->sigs_nr, sizeof(*prev->sigs), cmp_sig);
    return !hit || hit->sig != album_sig(m, al);
}

static void flag_link(struct model *m, const struct ilink *l)
{
    uint32_t a = model_find_asset(m, &l->asset);

    if (a != MODEL_NONE)
        m->assets[a].flags |= MODEL_ASSET_CHANGED;
    if (l->kind == LINK_ALBUM) {
        uint32_t al = model_find_album(m, &l->rec);

        if (al != MODEL_NONE)
            m->albums[al].changed = true;
    }
}

/*
 * The links now (from the pairs the loader recorded) against prev's, both
 * sorted: an asset or album on either side only is flagged.  Tags whose
 * members were not read now are left out of both sides.
 */
void snapshot_incr_flag(const struct snapshot_prev *prev, struct model *m)
{
    struct ilink *now;
    size_t nr = 0, i = 0, j = 0;

    if (!m->changes_only)
        return;
    for (size_t al = 0; al < m->albums_nr; al++)
        if (sig_changed(prev, m, (uint32_t)al))
            m->albums[al].changed = true;
    now = xcalloc(m->album_asset_nr + m->tag_asset_nr + 1, sizeof(*now));
    for (size_t k = 0; k < m->album_asset_nr; k++) {
        now[nr].kind = LINK_ALBUM;
        now[nr].rec = m->albums[m->album_asset_pairs[k].a].id;
        now[nr++].asset = m->assets[m->album_asset_pairs[k].b].id;
    }
    for (size_t k = 0; k < m->tag_asset_nr; k++) {
        now[nr].kind = LINK_TAG;
        now[nr].rec = m->tags[m->tag_asset_pairs[k].a].id;
        now[nr++].asset = m->assets[m->tag_asset_pairs[k].b].id;
    }
    if (nr)
        qsort(now, nr, sizeof(*now), cmp_link);
    while (i < nr || j < prev->links_nr) {
        int c;

        if (i < nr && i && !cmp_link(&now[i], &now[i - 1])) {
            i++; /* a repeated pair */
            continue;
        }
        if (i == nr)
            c = 1;
        else if (j == prev->links_nr)
            c = -1;
        else
            c = cmp_link(&now[i], &prev->links[j]);
        if (c < 0) {
            flag_link(m, &now[i++]);
        } else if (c > 0) {
            const struct ilink *l = &prev->links[j++];
            uint32_t t =
                l->kind == LINK_TAG ? model_find_tag(m, &l->rec) : MODEL_NONE;

            /* a tag not read now says nothing */
            if (l->kind == LINK_ALBUM ||
                (t != MODEL_NONE && m->tags[t].members_known))
                flag_link(m, l);
        } else {
            i++;
            j++;
        }
    }
    free(now);
}
