/*
 * snapshot_load.c: the library read in four rounds, each a batch of
 * independent requests run concurrently by the engine:
 *
 *   1. GET /server/version                       (dialect)
 *   2. users/me, [users], tags, albums (2.x: + shared listing), and one
 *      POST /search/statistics per visibility pass (3.x: one pass, the
 *      default "all but locked"; 2.x: timeline, archive and hidden,
 *      since its default is timeline only)
 *   2b. a pass of more than split_min assets is split into date ranges
 *      (its oldest and newest asset by two one-item searches, then one
 *      statistics call per slice of that span), so that no page sits
 *      deeper than one range: the server's OFFSET paging scans every row
 *      before the page, and a million-asset library read by offset alone
 *      makes the last pages the slowest;
 *   3. every page of every pass at once (page count from the statistics;
 *      a last page that still has a next page chains on).  When a rule
 *      reads EXIF dates the passes are read with withExif, which drops
 *      the assets that have no EXIF row (flat search shape): a pass that
 *      returned fewer assets than its statistics is completed from round
 *      4's answers and its isNotInAlbum pages (recover(), when every
 *      album is read), else read again without it (exif_fallback()).
 *      2.x then
 *      re-reads the exact timestamp at each page boundary that cut a
 *      group of equal fileCreatedAt (2.x sorts without a tie-breaker)
 *   4. membership: search albumIds:[a] per album, tagIds:[t] per needed
 *      tag and its descendants, pages chained (2.x: an archive pass too
 *      when the library has archived assets)
 *
 * Any failure after retries records the first error and wraps the engine
 * up: nothing new starts, and the load returns -1.
 */
#include "snapshot/snapshot.h"

#include "api/api.h"
#include "core/log.h"
#include "snapshot/snapshot_incr.h"

#define PAGE_SIZE 1000
/* Passes of at least this many assets are read in date ranges. */
#define SPLIT_MIN_DEFAULT 50000
#define SPLIT_SLICES      32

struct pass {
    const char *visibility;    /* NULL = server default */
    bool exif;                 /* withExif: only assets with EXIF */
    uint8_t key;               /* model_asset.search_pass of its assets */
    bool counted;              /* its statistics answered */
    bool started;              /* its pages are submitted */
    bool recovering;           /* short: its missing assets are taken
                                  from memberships and isNotInAlbum */
    bool reread;               /* read again without withExif */
    int64_t after, before;     /* fileCreatedAt range, TIME_NONE = open */
    int64_t total;             /* from the statistics */
    long pages;                /* pages submitted so far */
    int64_t *first_t, *last_t; /* fileCreatedAt at each page's ends */
    size_t bounds_alloc;
};

struct dup_pair {
    uint32_t asset;
    struct uuid dup;
};

/* Assets a membership query returned, per tag (before the subtraction). */
struct u32list {
    uint32_t *items;
    size_t nr, alloc;
};

/* A membership answer kept until every asset of the passes is known. */
struct member_link {
    struct uuid id;
    uint32_t record; /* album or tag index */
    bool is_tag;
};

struct snap {
    struct api api;
    struct http_engine *eng;
    struct model *m;
    const struct snapshot_needs *needs;
    struct snapshot_info *info;
    bool failed;
    struct buf err;
    struct uuid me;
    bool have_me;
    struct pass *passes;
    size_t passes_nr, passes_alloc;
    bool have_archived; /* 2.x: album/tag queries need an archive pass */
    int64_t split_min;  /* passes this big are read in date ranges */
    const struct snapshot_album_cache *cache; /* may be NULL */
    /* The remembered library (asked in on_me()), NULL: read it all. */
    const struct snapshot_prev_source *prev_src;
    const struct snapshot_prev *prev;
    struct u32list *tag_hits; /* per tag index, NULL when not fetched */
    bool *tag_fetch;          /* per tag: membership fetched */
    struct dup_pair *dup_pairs;
    size_t dup_pairs_nr, dup_pairs_alloc;
    /* Short EXIF passes completed from the round-4 answers (recover()):
     * memberships are decoded whole, their links wait in links[] until
     * the passes are complete, and an asset is taken only when its owner
     * owns assets of the passes (owners[], per users[] index). */
    bool recover;
    bool *owners;
    size_t owners_nr;
    struct member_link *links;
    size_t links_nr, links_alloc;
};

/* True when st is ok; otherwise records the first failure and stops. */
static bool ok(struct snap *s, const struct api_status *st)
{
    if (st->ok)
        return true;
    if (!s->failed) {
        s->failed = true;
        s->info->fail_kind = st->kind;
        s->info->fail_http = st->http;
        if (st->kind == API_FAIL_CANCELLED)
            buf_addstr(&s->err, "snapshot interrupted: stop requested");
        else
            buf_addf(&s->err, "snapshot incomplete: %s", st->error);
        http_engine_wrap_up(s->eng);
    }
    return false;
}

/* ---- round 1 and 2 --------------------------------------------------------
 */

static void on_version(void *ctx, const struct api_status *st,
                       const struct api_version *v)
{
    struct snap *s = ctx;

    if (!ok(s, st))
        return;
    s->info->server_date = st->server_date;
    s->m->server_major = v->major;
    s->m->server_minor = v->minor;
    s->m->server_patch = v->patch;
}

static void start_pass(struct snap *s, size_t pass);

static void on_me(void *ctx, const struct api_status *st,
                  const struct api_user *u)
{
    struct snap *s = ctx;

    if (!ok(s, st))
        return;
    s->me = u->id;
    s->have_me = true;
    s->m->me = model_add_user(s->m, &u->id, u->email, u->name);
    /* What the last good read of this user saw: with it, the assets are
     * read incrementally after round 2 (incr_read()), so no page starts
     * early. */
    if (s->prev_src)
        s->prev = s->prev_src->get(s->prev_src->ctx, s->m);
    if (s->prev)
        return;
    /* The passes counted before we knew whose key this is waited. */
    for (size_t i = 0; i < s->passes_nr; i++)
        if (s->passes[i].counted && !s->passes[i].started &&
            s->passes[i].total < s->split_min)
            start_pass(s, i);
}

static void on_users(void *ctx, const struct api_status *st,
                     const struct api_user *users, size_t nr)
{
    struct snap *s = ctx;

    if (!ok(s, st))
        return;
    s->info->users_listed = (long)nr;
    for (size_t i = 0; i < nr; i++)
        model_add_user(s->m, &users[i].id, users[i].email, users[i].name);
}

static void on_tags(void *ctx, const struct api_status *st,
                    const struct api_tag *tags, size_t nr)
{
    struct snap *s = ctx;

    if (!ok(s, st))
        return;
    snapshot_model_tags(s->m, tags, nr, false);
}

static void on_albums(void *ctx, const struct api_status *st,
                      const struct api_album *albums, size_t nr)
{
    struct snap *s = ctx;

    if (!ok(s, st))
        return;
    for (size_t i = 0; i < nr; i++)
        snapshot_model_album(s->m, &albums[i]);
}

struct pass_ctx {
    struct snap *s;
    size_t pass;
    long page;  /* 0 for the statistics call */
    int64_t at; /* repair: the timestamp re-read, else TIME_NONE */
};

/* A pass's size; one that needs no date ranges is read at once, while
 * the rest of round 2 is still under way (no barrier before its pages). */
static void on_total(void *ctx, const struct api_status *st, int64_t total)
{
    struct pass_ctx *pc = ctx;

    if (ok(pc->s, st)) {
        pc->s->passes[pc->pass].total = total;
        pc->s->passes[pc->pass].counted = true;
        /* Not before users/me: whose each asset is (own or a partner's)
         * is decided as it is added; on_me() starts it then. */
        if (total < pc->s->split_min && pc->s->have_me && !pc->s->prev)
            start_pass(pc->s, pc->pass);
    }
    free(pc);
}

/* ---- round 2b: date ranges for big passes -------------------------------- */

static int run(struct snap *s);

struct split {
    size_t pass;     /* the pass being split */
    int64_t ends[2]; /* newest, oldest fileCreatedAt */
    int64_t counts[SPLIT_SLICES];
    int64_t bounds[SPLIT_SLICES + 1];
};

struct split_ctx {
    struct snap *s;
    struct split *sp;
    int which; /* 0/1: ends[]; >= 2: counts[which - 2] */
};

/*
 * The search order the rules walk (model_asset.search_pass/search_index):
 * pass i of the read is key 2i + 1; its plain re-read, when the EXIF
 * pass missed assets (exif_fallback()), is key 2i, so that the plain
 * pass's order wins for every asset, as when it was read first.  Only
 * the relative order of the keys matters.
 */
static void pass_set_key(struct pass *p, size_t i)
{
    p->key = i < 127 ? (uint8_t)(2 * i + 1) : 255;
}

static struct pass *add_pass(struct snap *s)
{
    struct pass *p;

    ALLOC_GROW(s->passes, s->passes_nr + 1, s->passes_alloc);
    p = &s->passes[s->passes_nr++];
    memset(p, 0, sizeof(*p));
    p->after = p->before = TIME_NONE;
    pass_set_key(p, s->passes_nr - 1);
    return p;
}

static void on_split_end(void *ctx, const struct api_status *st,
                         const struct api_asset *assets, size_t nr,
                         long next_page)
{
    struct split_ctx *sc = ctx;

    (void)next_page;
    if (ok(sc->s, st) && nr)
        sc->sp->ends[sc->which] = assets[0].file_created_at;
    free(sc);
}

static void on_split_count(void *ctx, const struct api_status *st,
                           int64_t total)
{
    struct split_ctx *sc = ctx;

    if (ok(sc->s, st))
        sc->sp->counts[sc->which - 2] = total;
    free(sc);
}

static struct split_ctx *split_ctx(struct snap *s, struct split *sp, int which)
{
    struct split_ctx *sc = xcalloc(1, sizeof(*sc));

    sc->s = s;
    sc->sp = sp;
    sc->which = which;
    return sc;
}

/* Slice k of the span: [bounds[k], bounds[k + 1] - 1], open at both ends
 * of the whole span (an asset added meanwhile still falls in one). */
static void slice_range(const struct split *sp, int k, int64_t *after,
                        int64_t *before)
{
    *after = k == 0 ? TIME_NONE : sp->bounds[k];
    *before = k == SPLIT_SLICES - 1 ? TIME_NONE : sp->bounds[k + 1] - 1;
}

/* Replaces the split pass by one pass per non-empty slice, when the
 * slices account for every asset of the pass. */
static void apply_split(struct snap *s, const struct split *sp)
{
    struct pass base = s->passes[sp->pass];
    int64_t sum = 0;
    bool first = true;

    for (int k = 0; k < SPLIT_SLICES; k++)
        sum += sp->counts[k];
    if (sum != base.total) {
        verbose_log("snapshot: date ranges count %lld of %lld assets; "
                    "reading the pass by offset",
                    (long long)sum, (long long)base.total);
        return;
    }
    for (int k = 0; k < SPLIT_SLICES; k++) {
        struct pass *p;

        if (!sp->counts[k])
            continue;
        p = first ? &s->passes[sp->pass] : add_pass(s);
        first = false;
        *p = base;
        pass_set_key(p, (size_t)(p - s->passes));
        slice_range(sp, k, &p->after, &p->before);
        p->total = sp->counts[k];
    }
    s->info->range_passes += (size_t)SPLIT_SLICES;
}

/*
 * Splits the passes too big for OFFSET paging into date slices: the span
 * of each (newest and oldest asset), then the count in each slice, so each
 * slice is read as a pass of its own and no page goes deep.
 */
static int split_passes(struct snap *s, int64_t split_min)
{
    size_t base_nr = s->passes_nr, nr = 0;
    struct split *sp = xcalloc(base_nr + 1, sizeof(*sp));
    int ret = 0;

    /* The span of each big pass: its newest and its oldest asset. */
    for (size_t i = 0; i < base_nr; i++) {
        struct api_search q = API_SEARCH_INIT;

        if (s->passes[i].total < split_min)
            continue;
        sp[nr].pass = i;
        sp[nr].ends[0] = sp[nr].ends[1] = TIME_NONE;
        q.size = 1;
        q.visibility = s->passes[i].visibility;
        q.order = "desc";
        api_search_metadata(&s->api, &q, on_split_end,
                            split_ctx(s, &sp[nr], 0));
        q.order = "asc";
        api_search_metadata(&s->api, &q, on_split_end,
                            split_ctx(s, &sp[nr], 1));
        nr++;
    }
    if (!nr || (ret = run(s)) < 0)
        goto out;
    /* How many assets each slice of the span holds. */
    for (size_t j = 0; j < nr; j++) {
        struct split *x = &sp[j];
        int64_t lo = x->ends[1], hi = x->ends[0], width;

        if (lo == TIME_NONE || hi == TIME_NONE || hi <= lo) {
            x->pass = SIZE_MAX;
            continue;
        }
        width = (hi - lo) / SPLIT_SLICES + 1;
        for (int k = 0; k <= SPLIT_SLICES; k++)
            x->bounds[k] = lo + width * k;
        for (int k = 0; k < SPLIT_SLICES; k++) {
            struct api_search q = API_SEARCH_INIT;

            q.visibility = s->passes[x->pass].visibility;
            slice_range(x, k, &q.taken_after, &q.taken_before);
            api_search_statistics(&s->api, &q, on_split_count,
                                  split_ctx(s, x, k + 2));
        }
    }
    if ((ret = run(s)) < 0)
        goto out;
    for (size_t j = 0; j < nr; j++)
        if (sp[j].pass != SIZE_MAX)
            apply_split(s, &sp[j]);
out:
    free(sp);
    return ret;
}

/* ---- round 3: the assets ------------------------------------------------- */

static void add_asset(struct snap *s, const struct api_asset *a, uint8_t pass,
                      uint32_t index)
{
    struct model_asset r;
    uint32_t idx;

    if (a->visibility == 1)
        s->have_archived = true;
    idx = model_find_asset(s->m, &a->id);
    if (idx != MODEL_NONE) {
        /* Seen in the other pass (or twice across a 2.x boundary): the
         * EXIF pass brings the date; the first place in the search order
         * is kept, whichever page arrived first. */
        struct model_asset *old = &s->m->assets[idx];

        if (pass < old->search_pass ||
            (pass == old->search_pass && index < old->search_index)) {
            old->search_pass = pass;
            old->search_index = index;
        }

        if (a->has_exif && !(old->flags & MODEL_ASSET_EXIF)) {
            old->flags |= MODEL_ASSET_EXIF;
            old->date_time_original = a->date_time_original;
        }
        return;
    }
    /* Only now: a second sight stores no second copy of the strings. */
    snapshot_model_asset(s->m, a, &s->me, &r);
    r.search_pass = pass;
    r.search_index = index;
    idx = model_add_asset(s->m, &r);
    if (a->has_duplicate && s->needs->duplicates) {
        ALLOC_GROW(s->dup_pairs, s->dup_pairs_nr + 1, s->dup_pairs_alloc);
        s->dup_pairs[s->dup_pairs_nr].asset = idx;
        s->dup_pairs[s->dup_pairs_nr].dup = a->duplicate;
        s->dup_pairs_nr++;
    }
}

static void submit_page(struct snap *s, size_t pass, long page, int64_t at);

/* Room for page n's ends; unknown ends are TIME_NONE. */
static void grow_bounds(struct pass *p, size_t n)
{
    size_t old = p->bounds_alloc;

    if (n <= old)
        return;
    p->bounds_alloc = n < 2 * old ? 2 * old : n;
    p->first_t =
        xrealloc(p->first_t, st_mult(p->bounds_alloc, sizeof(int64_t)));
    p->last_t = xrealloc(p->last_t, st_mult(p->bounds_alloc, sizeof(int64_t)));
    for (size_t i = old; i < p->bounds_alloc; i++)
        p->first_t[i] = p->last_t[i] = TIME_NONE;
}

/*
 * One page of a pass: its assets into the model with their position in
 * the search order (a boundary re-read's after the pass's own pages, and
 * it follows its own next pages); when the server has more pages than
 * the statistics announced (assets added during the read), the next one
 * too, so they are not silently missed.
 */
static void on_page(void *ctx, const struct api_status *st,
                    const struct api_asset *assets, size_t nr, long next_page)
{
    struct pass_ctx *pc = ctx;
    struct snap *s = pc->s;
    struct pass *p = &s->passes[pc->pass];

    if (!ok(s, st))
        goto out;
    for (size_t i = 0; i < nr; i++) {
        uint32_t index;

        /* A boundary re-read finds the members a page boundary skipped:
         * they go after the pass's pages, in an order of their own. */
        if (pc->at != TIME_NONE)
            index = 0x80000000u | ((uint32_t)assets[i].id.b[12] << 24 |
                                   (uint32_t)assets[i].id.b[13] << 16 |
                                   (uint32_t)assets[i].id.b[14] << 8 |
                                   (uint32_t)assets[i].id.b[15]) >>
                                      1;
        else
            index = (uint32_t)((pc->page - 1) * PAGE_SIZE + (long)i);
        add_asset(s, &assets[i], p->key, index);
    }
    if (pc->at != TIME_NONE) {
        /* A boundary re-read: follow its own pages. */
        if (next_page)
            submit_page(s, pc->pass, next_page, pc->at);
        goto out;
    }
    if (nr) {
        grow_bounds(p, (size_t)pc->page + 1);
        p->first_t[pc->page] = assets[0].file_created_at;
        p->last_t[pc->page] = assets[nr - 1].file_created_at;
    }
    /* More assets than the statistics announced: keep going. */
    if (next_page && next_page > p->pages) {
        p->pages = next_page;
        submit_page(s, pc->pass, next_page, TIME_NONE);
    }
out:
    free(pc);
}

/* Page `page` of the pass's search (visibility, date range). */
static void pass_query(const struct snap *s, size_t pass, long page,
                       struct api_search *q)
{
    q->page = page;
    q->size = PAGE_SIZE;
    q->visibility = s->passes[pass].visibility;
    q->taken_after = s->passes[pass].after;
    q->taken_before = s->passes[pass].before;
}

static void submit_page(struct snap *s, size_t pass, long page, int64_t at)
{
    struct api_search q = API_SEARCH_INIT;
    struct pass_ctx *pc = xcalloc(1, sizeof(*pc));

    pc->s = s;
    pc->pass = pass;
    pc->page = page;
    pc->at = at;
    pass_query(s, pass, page, &q);
    q.with_exif = s->passes[pass].exif;
    if (at != TIME_NONE)
        q.taken_after = q.taken_before = at;
    api_search_metadata(&s->api, &q, on_page, pc);
}

/* Submits every page of a pass (page count from its statistics). */
static void start_pass(struct snap *s, size_t pass)
{
    struct pass *p = &s->passes[pass];

    p->started = true;
    p->pages = (long)((p->total + PAGE_SIZE - 1) / PAGE_SIZE);
    if (!p->pages)
        p->pages = 1; /* one request confirms an empty pass */
    for (long k = 1; k <= p->pages; k++)
        submit_page(s, pass, k, TIME_NONE);
}

/*
 * 2.x and 3.0/3.1 sort pages by fileCreatedAt alone, so a page boundary
 * inside a
 * group of equal timestamps may repeat or skip members of the group.  A
 * boundary can only cut such a group if the items on both sides share
 * the timestamp; those groups are read again (takenAfter == takenBefore
 * == t) and de-duplicated by id.  A group of more than a page has the
 * same problem inside the re-read, so it is cut by upload time
 * (createdAfter/createdBefore, halving the range) until every part fits
 * in one page; a part that cannot be cut (same upload instant too) fails
 * the load rather than leave assets unread.
 */
#define CREATED_MIN 0LL             /* 1970: no upload is older */
#define CREATED_MAX 4102444800000LL /* 2100-01-01 */

struct repair_ctx {
    struct snap *s;
    size_t pass;
    int64_t t, lo, hi; /* group timestamp, upload-time range */
};

static void repair_part(struct snap *s, size_t pass, int64_t t, int64_t lo,
                        int64_t hi);

/*
 * The count of one same-timestamp group in an upload-time range: read
 * whole when it fits in a page, else halved (the halves overlap by a
 * millisecond, ids de-duplicate) until it does; a range that cannot be cut
 * fails the load rather than leave assets unread.
 */
static void on_repair_count(void *ctx, const struct api_status *st,
                            int64_t total)
{
    struct repair_ctx *rc = ctx;
    struct snap *s = rc->s;
    struct api_search q = API_SEARCH_INIT;
    struct pass_ctx *pc;
    int64_t lo, hi, mid;

    if (!ok(s, st) || !total)
        goto out;
    if (total <= PAGE_SIZE) {
        pc = xcalloc(1, sizeof(*pc));
        pc->s = s;
        pc->pass = rc->pass;
        pc->page = 1;
        pc->at = rc->t;
        q.size = PAGE_SIZE;
        q.visibility = s->passes[rc->pass].visibility;
        q.with_exif = s->passes[rc->pass].exif;
        q.taken_after = q.taken_before = rc->t;
        q.created_after = rc->lo;
        q.created_before = rc->hi;
        s->info->repair_requests++;
        api_search_metadata(&s->api, &q, on_page, pc);
        goto out;
    }
    lo = rc->lo == TIME_NONE ? CREATED_MIN : rc->lo;
    hi = rc->hi == TIME_NONE ? CREATED_MAX : rc->hi;
    /* The halves overlap by a millisecond (below): a range of 2 ms or
     * less cannot be cut further. */
    if (hi - lo <= 2) {
        char when[32];

        if (!s->failed) {
            time_format_iso(rc->t, when);
            s->failed = true;
            s->info->fail_kind = API_FAIL_DECODE;
            buf_addf(&s->err,
                     "snapshot incomplete: %lld assets share "
                     "fileCreatedAt %s and their upload time: the "
                     "server's search cannot page them reliably",
                     (long long)total, when);
            http_engine_wrap_up(s->eng);
        }
        goto out;
    }
    /* Upload times have microseconds, the bounds milliseconds: halves
     * that met at mid / mid + 1 would miss an asset at mid.0005.  They
     * overlap instead; what both return is read once (by id). */
    mid = lo + (hi - lo) / 2;
    repair_part(s, rc->pass, rc->t, lo, mid + 1);
    repair_part(s, rc->pass, rc->t, mid, hi);
out:
    free(rc);
}

static void repair_part(struct snap *s, size_t pass, int64_t t, int64_t lo,
                        int64_t hi)
{
    struct api_search q = API_SEARCH_INIT;
    struct repair_ctx *rc = xcalloc(1, sizeof(*rc));

    rc->s = s;
    rc->pass = pass;
    rc->t = t;
    rc->lo = lo;
    rc->hi = hi;
    q.visibility = s->passes[pass].visibility;
    q.taken_after = q.taken_before = t;
    q.created_after = lo;
    q.created_before = hi;
    api_search_statistics(&s->api, &q, on_repair_count, rc);
}

/* Repairs the boundaries of passes[from..]. */
static void repair_boundaries(struct snap *s, size_t from)
{
    for (size_t i = from; i < s->passes_nr; i++) {
        struct pass *p = &s->passes[i];
        int64_t last = TIME_NONE;

        for (long k = 1; k < p->pages; k++) {
            int64_t t;

            if ((size_t)k + 1 >= p->bounds_alloc)
                break;
            t = p->last_t[k];
            if (t == TIME_NONE || t != p->first_t[k + 1] || t == last)
                continue;
            last = t; /* a group over several pages: one repair */
            repair_part(s, i, t, TIME_NONE, TIME_NONE);
        }
    }
}

/* seen[key]: the assets of the model at each search_pass key. */
static void count_keys(const struct snap *s, size_t seen[256])
{
    memset(seen, 0, 256 * sizeof(*seen));
    for (size_t i = 0; i < s->m->assets_nr; i++)
        seen[s->m->assets[i].search_pass]++;
}

/* Whether EXIF pass k has fewer assets than its statistics counted. */
static bool pass_short(const struct snap *s, const size_t seen[256], size_t k)
{
    return s->passes[k].exif &&
           (int64_t)seen[s->passes[k].key] < s->passes[k].total;
}

/*
 * withExif drops the assets that have no EXIF row (Immich's search joins
 * asset_exif; docs/http-and-snapshot.md), and Immich writes that row when
 * it first reads the file's metadata, so almost every asset has one.  The
 * passes were read with EXIF; a pass that returned fewer assets than its
 * statistics counted (exact: a pass recover() left at any other number) is read
 * again without it, with the same range and its own boundary repairs,
 * and its order replaces the EXIF pass's (keys: pass_set_key()).
 * Returns -1 when a read failed.
 */
static int exif_fallback(struct snap *s, bool exact)
{
    size_t nr = s->passes_nr, seen[256];
    int ret;

    if (!s->needs->exif)
        return 0;
    count_keys(s, seen);
    for (size_t k = 0; k < nr; k++) {
        struct pass *p;
        uint8_t key;

        if (!s->passes[k].exif ||
            (exact ? !s->passes[k].recovering ||
                         (int64_t)seen[s->passes[k].key] == s->passes[k].total
                   : !pass_short(s, seen, k)))
            continue;
        key = s->passes[k].key;
        s->passes[k].reread = true;
        p = add_pass(s);
        *p = s->passes[k];
        p->exif = false;
        p->key = (uint8_t)(key - 1);
        p->first_t = p->last_t = NULL;
        p->bounds_alloc = 0;
        s->info->exif_fallback_passes++;
        for (long g = 1; g <= p->pages; g++)
            submit_page(s, s->passes_nr - 1, g, TIME_NONE);
    }
    if (s->passes_nr == nr)
        return 0;
    if ((ret = run(s)) < 0)
        return ret;
    repair_boundaries(s, nr);
    return run(s);
}

/* ---- round 4: memberships ------------------------------------------------ */

struct member_ctx {
    struct snap *s;
    uint32_t record; /* album or tag index */
    bool is_tag;
    const char *visibility;
    long page;
    size_t seen; /* assets the chain returned before this page */
};

static void submit_members(struct snap *s, uint32_t record, bool is_tag,
                           const char *visibility, long page, size_t seen);

/*
 * 2.x only answers album searches for one visibility at a time: after an
 * album's timeline pages, its archived members are asked for only when
 * the timeline did not return all of its assetCount (which counts
 * timeline and archive members).  This halves the membership searches of
 * a 2.x library with archived assets.
 */
static bool archive_pass_needed(const struct snap *s,
                                const struct member_ctx *mc, size_t seen)
{
    return !mc->is_tag && mc->visibility &&
           !strcmp(mc->visibility, "timeline") &&
           seen < s->m->albums[mc->record].asset_count;
}

/* One member of an album or tag: linked, or another member's asset. */
static void link_member(struct snap *s, uint32_t record, bool is_tag,
                        const struct uuid *id)
{
    uint32_t a = model_find_asset(s->m, id);

    if (a == MODEL_NONE) {
        s->info->skipped_links++; /* another member's asset */
        if (!is_tag)
            model_album_add_foreign(s->m, record, id);
        return;
    }
    if (is_tag) {
        struct u32list *l = &s->tag_hits[record];

        ALLOC_GROW(l->items, l->nr + 1, l->alloc);
        l->items[l->nr++] = a;
    } else {
        model_link_album_asset(s->m, record, a);
    }
}

static void recover_asset(struct snap *s, const struct api_asset *a);

static void on_members(void *ctx, const struct api_status *st,
                       const struct api_asset *assets, size_t nr,
                       long next_page)
{
    struct member_ctx *mc = ctx;
    struct snap *s = mc->s;

    if (!ok(s, st))
        goto out;
    for (size_t i = 0; i < nr; i++) {
        struct member_link *l;

        if (!s->recover) {
            link_member(s, mc->record, mc->is_tag, &assets[i].id);
            continue;
        }
        /* The link waits until the passes are complete: an asset
         * another answer recovers later is not anyone's yet. */
        recover_asset(s, &assets[i]);
        ALLOC_GROW(s->links, s->links_nr + 1, s->links_alloc);
        l = &s->links[s->links_nr++];
        l->id = assets[i].id;
        l->record = mc->record;
        l->is_tag = mc->is_tag;
    }
    if (next_page)
        submit_members(s, mc->record, mc->is_tag, mc->visibility, next_page,
                       mc->seen + nr);
    else if (archive_pass_needed(s, mc, mc->seen + nr))
        submit_members(s, mc->record, false, "archive", 1, 0);
out:
    free(mc);
}

static bool asset_known(void *ctx, const struct uuid *id)
{
    const struct snap *s = ctx;

    return model_find_asset(s->m, id) != MODEL_NONE;
}

static void submit_members(struct snap *s, uint32_t record, bool is_tag,
                           const char *visibility, long page, size_t seen)
{
    struct api_search q = API_SEARCH_INIT;
    struct member_ctx *mc = xcalloc(1, sizeof(*mc));

    mc->s = s;
    mc->record = record;
    mc->is_tag = is_tag;
    mc->visibility = visibility;
    mc->page = page;
    mc->seen = seen;
    q.page = page;
    q.size = PAGE_SIZE;
    q.visibility = visibility;
    /* on_members reads the ids alone, and while the answers complete the
     * passes (recover()) the records of the assets not in the model */
    q.ids_only = true;
    if (s->recover) {
        q.known = asset_known;
        q.known_ctx = s;
    }
    if (is_tag)
        q.tag = &s->m->tags[record].id;
    else
        q.album = &s->m->albums[record].id;
    api_search_metadata(&s->api, &q, on_members, mc);
}

/* Marks t and all its descendants for fetching. */
static void mark_subtree(struct snap *s, uint32_t t)
{
    s->tag_fetch[t] = true;
    for (size_t i = 0; i < s->m->tags_nr; i++)
        if (s->m->tags[i].parent == t && !s->tag_fetch[i])
            mark_subtree(s, (uint32_t)i);
}

/*
 * Albums whose members need no request: empty ones (assetCount counts
 * every non-trashed timeline/archive member, of any owner) and those the
 * cache remembers as listed now.
 */
static bool album_known(struct snap *s, uint32_t al)
{
    struct model *m = s->m;
    const struct snapshot_album_cache *c = s->cache;
    struct uuid *ids = NULL;
    size_t nr = 0;

    if (!m->albums[al].asset_count) {
        s->info->albums_empty++;
        return true;
    }
    if (!c || !c->lookup(c->ctx, m, al, s->api.dialect, &ids, &nr))
        return false;
    /* While short passes are completed, a remembered member that the
     * EXIF pass did not return may be one of the missing assets, and
     * only a read gives its record: such an album is read again. */
    for (size_t i = 0; s->recover && i < nr; i++) {
        if (model_find_asset(m, &ids[i]) == MODEL_NONE) {
            free(ids);
            s->info->albums_cache_bypassed++;
            return false;
        }
    }
    for (size_t i = 0; i < nr; i++) {
        uint32_t a = model_find_asset(m, &ids[i]);

        if (a == MODEL_NONE) {
            s->info->skipped_links++;
            model_album_add_foreign(m, al, &ids[i]);
        } else
            model_link_album_asset(m, al, a);
    }
    free(ids);
    m->albums[al].members_cached = true;
    s->info->albums_cached++;
    return true;
}

static void submit_memberships(struct snap *s)
{
    const char *vis[2] = {NULL, NULL};
    size_t vis_nr = 1;
    struct model *m = s->m;

    if (s->api.dialect == 2 && s->have_archived) {
        vis[0] = "timeline";
        vis[1] = "archive";
        vis_nr = 2;
    }
    /* albums: the archive pass follows the timeline one when needed */
    if (s->needs->album_members)
        for (size_t i = 0; i < m->albums_nr; i++)
            if (!album_known(s, (uint32_t)i))
                submit_members(s, (uint32_t)i, false, vis[0], 1, 0);
    s->tag_fetch = xcalloc(m->tags_nr + 1, sizeof(*s->tag_fetch));
    s->tag_hits = xcalloc(m->tags_nr + 1, sizeof(*s->tag_hits));
    for (size_t i = 0; i < m->tags_nr; i++)
        if (!s->tag_fetch[i] &&
            snapshot_needs_tag(s->needs, model_str(m, m->tags[i].name),
                               model_str(m, m->tags[i].value)))
            mark_subtree(s, (uint32_t)i);
    for (size_t i = 0; i < m->tags_nr; i++)
        if (s->tag_fetch[i])
            for (size_t v = 0; v < vis_nr; v++)
                submit_members(s, (uint32_t)i, true, vis[v], 1, 0);
}

/* ---- short EXIF passes completed from round 4 ---------------------------- */

#define RECOVERED UINT32_MAX /* search_index of an asset not yet placed */

/* Whether pass p's filter (visibility, date range) takes asset a. */
static bool pass_takes(const struct pass *p, const struct api_asset *a)
{
    static const char *const vis[] = {"timeline", "archive", "hidden"};

    if (p->visibility ? a->visibility > MODEL_VIS_HIDDEN ||
                            strcmp(p->visibility, vis[a->visibility])
                      : a->visibility == MODEL_VIS_LOCKED)
        return false;
    return (p->after == TIME_NONE || a->file_created_at >= p->after) &&
           (p->before == TIME_NONE || a->file_created_at <= p->before);
}

/*
 * A membership answer's asset that no pass returned: into the model when
 * a short pass's search would have returned it.  A membership returns
 * other users' assets too (3.x: every member's of a shared album), so
 * the owner must own assets of the passes (the user, or a partner whose
 * assets the passes showed: they search no one else; a partner with no
 * asset seen yet leaves the pass short, and it is read again), it must
 * not be trashed, and its visibility and date must be the pass's.
 */
static void recover_asset(struct snap *s, const struct api_asset *a)
{
    uint32_t u;

    if (a->trashed || model_find_asset(s->m, &a->id) != MODEL_NONE)
        return;
    u = model_find_user(s->m, &a->owner);
    if (u == MODEL_NONE || u >= s->owners_nr || !s->owners[u])
        return;
    for (size_t k = 0; k < s->passes_nr; k++)
        if (s->passes[k].recovering && pass_takes(&s->passes[k], a)) {
            add_asset(s, a, s->passes[k].key, RECOVERED);
            return;
        }
}

struct unfiled_ctx {
    struct snap *s;
    size_t pass;
};

static void submit_unfiled(struct snap *s, size_t pass, long page);

/* A page of the pass's assets in no album: all of them are the pass's. */
static void on_unfiled(void *ctx, const struct api_status *st,
                       const struct api_asset *assets, size_t nr,
                       long next_page)
{
    struct unfiled_ctx *uc = ctx;
    struct snap *s = uc->s;

    if (ok(s, st)) {
        for (size_t i = 0; i < nr; i++)
            add_asset(s, &assets[i], s->passes[uc->pass].key, RECOVERED);
        if (next_page)
            submit_unfiled(s, uc->pass, next_page);
    }
    free(uc);
}

static void submit_unfiled(struct snap *s, size_t pass, long page)
{
    struct api_search q = API_SEARCH_INIT;
    struct unfiled_ctx *uc = xcalloc(1, sizeof(*uc));

    uc->s = s;
    uc->pass = pass;
    pass_query(s, pass, page, &q);
    q.not_in_album = true;
    api_search_metadata(&s->api, &q, on_unfiled, uc);
}

struct ranked {
    int64_t t; /* fileCreatedAt */
    struct uuid id;
    uint32_t index, asset;
};

static int cmp_index(const void *x, const void *y)
{
    const struct ranked *a = x, *b = y;

    return (a->index > b->index) - (a->index < b->index);
}

/* The server's order: newest first, equal dates by id (ascending). */
static int cmp_newest_id_asc(const void *x, const void *y)
{
    const struct ranked *a = x, *b = y;

    if (a->t != b->t)
        return a->t < b->t ? 1 : -1;
    return uuid_cmp(&a->id, &b->id);
}

/* The same, equal dates by id descending. */
static int cmp_newest_id_desc(const void *x, const void *y)
{
    const struct ranked *a = x, *b = y;

    if (a->t != b->t)
        return a->t < b->t ? 1 : -1;
    return uuid_cmp(&b->id, &a->id);
}

/*
 * Places a completed pass's assets as its plain re-read would have: in
 * the server's order (fileCreatedAt newest first; a server with an id
 * tie-break orders equal dates by id, in the direction the EXIF pages
 * show; one without has no order to keep), under the plain pass's key,
 * the place being the page x size + index that read would give.
 */
static void rank_pass(struct snap *s, const struct pass *p)
{
    struct model *m = s->m;
    struct ranked *v = NULL;
    size_t n = 0, alloc = 0, asc = 0, desc = 0;

    for (size_t i = 0; i < m->assets_nr; i++) {
        if (m->assets[i].search_pass != p->key)
            continue;
        ALLOC_GROW(v, n + 1, alloc);
        v[n].t = m->assets[i].file_created_at;
        v[n].id = m->assets[i].id;
        v[n].index = m->assets[i].search_index;
        v[n++].asset = (uint32_t)i;
    }
    if (!n)
        return;
    /* The tie direction: consecutive equal dates of the EXIF pages
     * (boundary re-reads, above 2^31, and recovered assets excluded). */
    qsort(v, n, sizeof(*v), cmp_index);
    for (size_t i = 1; i < n && v[i].index < 0x80000000u; i++)
        if (v[i].t == v[i - 1].t)
            *(uuid_cmp(&v[i - 1].id, &v[i].id) < 0 ? &asc : &desc) += 1;
    qsort(v, n, sizeof(*v),
          desc > asc ? cmp_newest_id_desc : cmp_newest_id_asc);
    for (size_t i = 0; i < n; i++) {
        m->assets[v[i].asset].search_pass = (uint8_t)(p->key - 1);
        m->assets[v[i].asset].search_index = (uint32_t)i;
    }
    free(v);
}

/*
 * Whether the short passes can be completed from round 4: every album's
 * membership is read (the missing assets in an album come whole from it,
 * the others from isNotInAlbum pages), and each pass has a key of its
 * own to rank.
 */
static bool can_recover(const struct snap *s, const size_t seen[256])
{
    bool any = false;

    if (!s->needs->album_members)
        return false;
    for (size_t k = 0; k < s->passes_nr; k++) {
        if (s->passes[k].key == 255)
            return false;
        any |= pass_short(s, seen, k);
    }
    return any;
}

/*
 * Short EXIF passes, when every album's membership is read anyway: the
 * assets a pass missed are in an album (round 4 returns them whole: its
 * searches are read now, decoded whole, their links kept until the end)
 * or in none (the pass's isNotInAlbum pages).  A pass whose count then
 * matches its statistics exactly is placed in the server's order
 * (rank_pass()); any other is read again whole (exif_fallback()), never
 * a partial model.  Round 4 is done on return: 1; 0 when the passes
 * cannot be completed this way (nothing was read); -1 on a failed read.
 */
static int recover(struct snap *s)
{
    size_t seen[256], recovered = 0;
    struct model *m = s->m;
    int ret;

    count_keys(s, seen);
    if (!can_recover(s, seen))
        return 0;
    s->recover = true;
    s->owners_nr = m->users_nr;
    s->owners = xcalloc(s->owners_nr + 1, sizeof(*s->owners));
    s->owners[m->me] = true;
    for (size_t i = 0; i < m->assets_nr; i++)
        s->owners[m->assets[i].owner] = true;
    for (size_t k = 0; k < s->passes_nr; k++) {
        struct pass *p = &s->passes[k];

        /* 2.x: an archive searched for the memberships even when none
         * of its assets has EXIF */
        if (p->visibility && !strcmp(p->visibility, "archive") && p->total)
            s->have_archived = true;
        p->recovering = pass_short(s, seen, k);
        if (p->recovering)
            submit_unfiled(s, k, 1);
    }
    submit_memberships(s);
    if ((ret = run(s)) < 0)
        return ret;
    if ((ret = exif_fallback(s, true)) < 0)
        return ret;
    for (size_t k = 0; k < s->passes_nr; k++)
        if (s->passes[k].recovering && !s->passes[k].reread) {
            rank_pass(s, &s->passes[k]);
            recovered++;
        }
    s->info->exif_recovered_passes = recovered;
    s->recover = false;
    for (size_t i = 0; i < s->links_nr; i++)
        link_member(s, s->links[i].record, s->links[i].is_tag, &s->links[i].id);
    return 1;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return (x > y) - (x < y);
}

/*
 * A tag query answers the tag's closure.  The direct links of t are its
 * hits minus the hits of its children (fetched too, by mark_subtree).
 * Residual ambiguity: an asset that carries both t and a descendant is
 * recorded on the descendant only.
 */
static void link_tags(struct snap *s)
{
    struct model *m = s->m;

    for (size_t i = 0; i < m->tags_nr; i++)
        if (s->tag_fetch[i] && s->tag_hits[i].nr) /* qsort(NULL) is UB */
            qsort(s->tag_hits[i].items, s->tag_hits[i].nr, sizeof(uint32_t),
                  cmp_u32);
    for (size_t i = 0; i < m->tags_nr; i++) {
        const struct u32list *l = &s->tag_hits[i];

        if (!s->tag_fetch[i])
            continue;
        for (size_t k = 0; k < l->nr; k++) {
            bool in_child = false;

            for (size_t c = 0; c < m->tags_nr && !in_child; c++) {
                const struct u32list *cl = &s->tag_hits[c];

                if (m->tags[c].parent != i)
                    continue;
                in_child = bsearch(&l->items[k], cl->items, cl->nr,
                                   sizeof(uint32_t), cmp_u32) != NULL;
            }
            if (!in_child)
                model_link_tag_asset(m, (uint32_t)i, l->items[k]);
        }
        m->tags[i].members_known = true;
        s->info->tags_loaded++;
    }
}

static int cmp_dup(const void *a, const void *b)
{
    const struct dup_pair *x = a, *y = b;
    int c = uuid_cmp(&x->dup, &y->dup);

    return c ? c : (x->asset > y->asset) - (x->asset < y->asset);
}

/* Groups of two or more assets sharing a duplicateId. */
static void link_dups(struct snap *s)
{
    struct dup_pair *v = s->dup_pairs;
    size_t n = s->dup_pairs_nr, i = 0;

    if (n)
        qsort(v, n, sizeof(*v), cmp_dup);
    while (i < n) {
        size_t j = i;

        while (j < n && uuid_eq(&v[j].dup, &v[i].dup))
            j++;
        if (j - i >= 2) {
            uint32_t d = model_add_dup(s->m, &v[i].dup);

            for (size_t k = i; k < j; k++)
                s->m->assets[v[k].asset].duplicate = d;
        }
        i = j;
    }
    s->info->dups = s->m->dups_nr;
}

static int run(struct snap *s)
{
    if (http_engine_run(s->eng, &s->err) < 0) {
        s->failed = true;
        return -1;
    }
    return s->failed ? -1 : 0;
}

static void incr_dup(void *ctx, uint32_t asset, const struct uuid *dup)
{
    struct snap *s = ctx;

    ALLOC_GROW(s->dup_pairs, s->dup_pairs_nr + 1, s->dup_pairs_alloc);
    s->dup_pairs[s->dup_pairs_nr].asset = asset;
    s->dup_pairs[s->dup_pairs_nr].dup = *dup;
    s->dup_pairs_nr++;
}

/* Round 3 from what the last good read saw (snapshot_incr.c): 1 when the
 * assets are in the model, 0 to read them all, -1 on a failed read. */
static int incr_read(struct snap *s, const struct snapshot_prev *prev)
{
    struct incr_pass *ip = xcalloc(s->passes_nr + 1, sizeof(*ip));
    struct api_status st;
    struct buf why = BUF_INIT;
    int r;

    for (size_t i = 0; i < s->passes_nr; i++) {
        ip[i].visibility = s->passes[i].visibility;
        ip[i].total = s->passes[i].total;
    }
    r = snapshot_incr_assets(&s->api, prev, s->needs, ip, s->passes_nr, &s->me,
                             s->m, incr_dup, s, &st, &why);
    if (r < 0)
        (void)ok(s, &st);
    if (r == 0) {
        snprintf(s->info->full_why, sizeof(s->info->full_why), "%s", why.buf);
        verbose_log("snapshot: reading every asset: %s", why.buf);
    }
    if (r == 1) {
        s->info->incremental = true;
        for (size_t i = 0; i < s->m->assets_nr; i++) {
            if (s->m->assets[i].visibility == MODEL_VIS_ARCHIVE)
                s->have_archived = true;
            if (s->m->assets[i].flags & MODEL_ASSET_CHANGED)
                s->info->changed++;
        }
    }
    free(ip);
    buf_release(&why);
    return r;
}

int snapshot_load(const struct config *cfg, struct http_engine *eng,
                  const struct snapshot_opts *opts, struct model *out,
                  struct snapshot_info *info, struct buf *err)
{
    struct snap s;
    struct snapshot_needs own;
    struct http_totals t0, t1;
    int ret = -1, r = 0;

    memset(&s, 0, sizeof(s));
    memset(info, 0, sizeof(*info));
    info->users_listed = -1;
    memset(&own, 0, sizeof(own));
    buf_init(&s.err, 0);
    api_init(&s.api, eng);
    s.eng = eng;
    s.m = out;
    s.info = info;
    s.cache = opts ? opts->albums : NULL;
    s.prev_src = opts ? opts->prev : NULL;
    if (opts && opts->needs) {
        s.needs = opts->needs;
    } else {
        snapshot_needs_from_config(cfg, &own);
        s.needs = &own;
    }
    http_metrics_totals(eng, &t0);

    /* Round 1: the version decides the dialect. */
    api_server_version(&s.api, on_version, &s);
    if (run(&s) < 0)
        goto out;
    if (opts && opts->dialect)
        s.api.dialect = opts->dialect;
    info->dialect = s.api.dialect;

    /* Round 2: who am I, the tag and album lists, the pass sizes. */
    api_users_me(&s.api, on_me, &s);
    if (s.needs->users)
        api_users(&s.api, on_users, &s);
    api_tags(&s.api, on_tags, &s);
    api_albums(&s.api, -1, on_albums, &s);
    if (s.api.dialect == 2) {
        api_albums(&s.api, 1, on_albums, &s);
        add_pass(&s)->visibility = "timeline";
        add_pass(&s)->visibility = "archive";
        add_pass(&s)->visibility = "hidden";
    } else {
        add_pass(&s);
    }
    /* Dates: every pass is read with EXIF (exif_fallback() below). */
    for (size_t i = 0; i < s.passes_nr; i++)
        s.passes[i].exif = s.needs->exif;
    s.split_min = opts && opts->split_min ? opts->split_min : SPLIT_MIN_DEFAULT;
    for (size_t i = 0; i < s.passes_nr; i++) {
        struct api_search q = API_SEARCH_INIT;
        struct pass_ctx *pc = xcalloc(1, sizeof(*pc));

        pc->s = &s;
        pc->pass = i;
        q.visibility = s.passes[i].visibility;
        api_search_statistics(&s.api, &q, on_total, pc);
    }
    if (run(&s) < 0)
        goto out;
    if (!s.have_me)
        BUG("users/me succeeded without a user");
    for (size_t i = 0; i < s.passes_nr; i++)
        info->server_total += s.passes[i].total;
    if (s.prev) {
        int ir = incr_read(&s, s.prev);

        if (ir < 0)
            goto out;
        if (ir == 1)
            goto memberships;
    }
    if (split_passes(&s, s.split_min) < 0)
        goto out;

    /* Round 3: every page of every pass not already under way. */
    for (size_t i = 0; i < s.passes_nr; i++)
        if (!s.passes[i].started)
            start_pass(&s, i);
    if (run(&s) < 0)
        goto out;
    /* Whether the server breaks ties by id is not a matter of its
     * version number (2.x and 3.0/3.1 do not, 3.2 does): every read
     * checks its page boundaries; with a tie-break a repair only reads
     * again what it already has. */
    repair_boundaries(&s, 0);
    if (run(&s) < 0)
        goto out;
    /* Short EXIF passes: completed from round 4 when it reads every
     * album, else read again whole. */
    if ((r = recover(&s)) < 0 || (!r && exif_fallback(&s, false) < 0))
        goto out;
    /* Fewer assets than the server counted: some were not seen, and a
     * plan made without them could be wrong (an album that looks empty,
     * a duplicate group cut in half).  More: added while reading. */
    if ((int64_t)out->assets_nr < info->server_total) {
        s.failed = true;
        info->fail_kind = API_FAIL_DECODE;
        buf_addf(&s.err,
                 "snapshot incomplete: read %zu of the %lld assets "
                 "the server counts (assets deleted while reading? "
                 "the next run reads again)",
                 out->assets_nr, (long long)info->server_total);
        goto out;
    }
    if ((int64_t)out->assets_nr > info->server_total)
        warn_log("snapshot: read %zu assets, the server counted %lld "
                 "(library changed while reading?)",
                 out->assets_nr, (long long)info->server_total);

    /* Round 4: memberships (already read when recover() was). */
memberships:
    if (!r) {
        submit_memberships(&s);
        if (run(&s) < 0)
            goto out;
    }
    link_tags(&s);
    if (s.needs->album_members) {
        for (size_t i = 0; i < out->albums_nr; i++)
            out->albums[i].members_known = true;
        info->albums_loaded = out->albums_nr;
    }
    if (info->incremental)
        snapshot_incr_flag(s.prev, out);
    link_dups(&s);
    ret = 0;
out:
    info->complete = ret == 0;
    info->assets = out->assets_nr;
    for (size_t i = 0; i < out->assets_nr; i++)
        if (out->assets[i].flags & MODEL_ASSET_PARTNER)
            info->partner_assets++;
    info->albums = out->albums_nr;
    info->tags = out->tags_nr;
    http_metrics_totals(eng, &t1);
    info->requests = t1.requests - t0.requests;
    if (ret == 0)
        model_build_indexes(out);
    else
        buf_addstr(err, s.err.len ? s.err.buf : "snapshot incomplete");
    for (size_t i = 0; i < s.passes_nr; i++) {
        free(s.passes[i].first_t);
        free(s.passes[i].last_t);
    }
    free(s.passes);
    if (s.tag_hits)
        for (size_t i = 0; i < out->tags_nr; i++)
            free(s.tag_hits[i].items);
    free(s.tag_hits);
    free(s.tag_fetch);
    free(s.dup_pairs);
    free(s.owners);
    free(s.links);
    buf_release(&s.err);
    snapshot_needs_release(&own);
    return ret;
}
