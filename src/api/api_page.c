/*
 * api_page.c: the search page decoder, streaming.
 *
 * A search page is the one response that is both big and frequent: every
 * asset of the library arrives in them once (twice when EXIF dates are
 * read) and every album and tag membership again.  Building a jansson
 * tree of it cost about 70 % of a run's CPU (1,000 assets = 1.3 MB, parsed
 * at ~47 MB/s); yajl's event parser reads the same bytes at ~570 MB/s
 * (measured on a seed page, docs/performance.md).  So pages are decoded
 * from the parser's events into struct api_asset directly, with the same
 * strictness and the same messages as the tree readers of api_json.c:
 * a missing or ill-typed required field fails the page with
 *     "POST /search/metadata: assets.items[3].id: expected a UUID string".
 * Unknown keys are skipped whatever their value; duplicate keys keep the
 * last value, as jansson does.
 */
#include "api/api_internal.h"

#include <yajl/yajl_parse.h>

#include "core/numparse.h"

/* Where the parser is. */
enum where {
    W_TOP,    /* before the root value */
    W_ROOT,   /* in the root object */
    W_ASSETS, /* in "assets" */
    W_ITEMS,  /* in "assets"."items" */
    W_ITEM,   /* in one asset */
    W_EXIF,   /* in its "exifInfo" */
    W_DONE,   /* after the root value */
};

/* The fields read; the order is the order of the checks (and of the
 * message when several are missing). */
enum field {
    F_ID,
    F_OWNER,
    F_NAME,
    F_PATH,
    F_FILE_CREATED,
    F_FILE_MODIFIED,
    F_LOCAL,
    F_CREATED,
    F_UPDATED,
    F_FAVORITE,
    F_TRASHED,
    F_TYPE,
    F_VISIBILITY,
    F_REQUIRED_NR = F_VISIBILITY + 1,
    F_DUPLICATE = F_REQUIRED_NR,
    F_EXIF,
    F_DTO,
    F_ITEMS,
    F_ASSETS,
    F_NEXT,
    F_NONE
};

#define FIELD(k, w)                                                            \
    {                                                                          \
        k, sizeof(k) - 1, w                                                    \
    }

static const struct {
    const char *key;
    size_t len; /* strlen(key): keys are compared by length first */
    const char *what;
} fields[] = {
    [F_ID] = FIELD("id", "a UUID string"),
    [F_OWNER] = FIELD("ownerId", "a UUID string"),
    [F_NAME] = FIELD("originalFileName", "a string"),
    [F_PATH] = FIELD("originalPath", "a string"),
    [F_FILE_CREATED] = FIELD("fileCreatedAt", "an ISO-8601 date string"),
    [F_FILE_MODIFIED] = FIELD("fileModifiedAt", "an ISO-8601 date string"),
    [F_LOCAL] = FIELD("localDateTime", "an ISO-8601 date string"),
    [F_CREATED] = FIELD("createdAt", "an ISO-8601 date string"),
    [F_UPDATED] = FIELD("updatedAt", "an ISO-8601 date string"),
    [F_FAVORITE] = FIELD("isFavorite", "a boolean"),
    [F_TRASHED] = FIELD("isTrashed", "a boolean"),
    [F_TYPE] = FIELD("type", "a string"),
    [F_VISIBILITY] = FIELD("visibility", "a string"),
    [F_DUPLICATE] = FIELD("duplicateId", "a UUID string"),
    [F_EXIF] = FIELD("exifInfo", "an object"),
    [F_DTO] = FIELD("dateTimeOriginal", "an ISO-8601 date string"),
    [F_ITEMS] = FIELD("items", "an array"),
    [F_ASSETS] = FIELD("assets", "an object"),
    [F_NEXT] = FIELD("nextPage", "a page number string or null"),
};

#define ITEMS_WHERE "assets.items"

/* The longest key an asset's fields have (originalFileName). */
#define ITEM_KEY_MAX 16

struct page {
    struct jdec d;
    enum where at;
    enum field key;  /* the field the next value is for */
    unsigned skip;   /* depth inside a skipped value */
    bool skip_value; /* the next value is skipped */
    bool failed;
    bool have_assets, have_items;
    bool ids_only;       /* api_search.ids_only: an asset's id alone is read */
    api_known_fn *known; /* with ids_only: assets it does not know whole */
    void *known_ctx;
    bool item_ids; /* the current asset is read by id alone */
    /* The asset fields read, by key length, each list ending in F_NONE:
     * an asset has ~30 keys (60 with EXIF), most of them not read.
     * [0]: an asset read whole, [1]: by id alone (item_ids). */
    uint8_t item_keys[2][ITEM_KEY_MAX + 1][4];
    long next;
    struct api_asset *v; /* decoded assets */
    size_t nr, alloc;
    uint32_t seen; /* fields of the current asset */
    bool video;
    struct buf strings; /* file names and paths, fixed up at the end */
    size_t *name_off, *path_off;
    size_t off_alloc;
};

static int fail(struct page *p, const char *where, long idx, enum field f,
                const char *what)
{
    jd_fail(&p->d, where, idx, f == F_NONE ? NULL : fields[f].key,
            what ? what : fields[f].what);
    p->failed = true;
    return 0; /* stops the parser */
}

static int fail_item(struct page *p, enum field f, const char *what)
{
    if (p->at == W_EXIF) {
        char where[64];

        snprintf(where, sizeof(where), ITEMS_WHERE "[%zu].exifInfo", p->nr - 1);
        return fail(p, where, -1, f, what);
    }
    return fail(p, ITEMS_WHERE, (long)p->nr - 1, f, what);
}

/* A value for a key we do not read (or a scalar where none is wanted). */
static bool skipping(struct page *p, bool opens)
{
    if (p->skip) {
        p->skip += opens;
        return true;
    }
    if (p->skip_value) {
        p->skip_value = false;
        p->skip = opens;
        return true;
    }
    return false;
}

static struct api_asset *cur(struct page *p)
{
    return &p->v[p->nr - 1];
}

/* The value of p->key is the wrong type. */
static int wrong_type(struct page *p)
{
    switch (p->at) {
    case W_ITEM:
    case W_EXIF:
        return fail_item(p, p->key, NULL);
    case W_ASSETS:
        return fail(p, "assets", -1, p->key, NULL);
    case W_ITEMS:
        return fail(p, ITEMS_WHERE, (long)p->nr, F_NONE, "an object");
    case W_ROOT:
        return fail(p, "", -1, p->key, NULL);
    default:
        return fail(p, "", -1, F_NONE, "an object");
    }
}

static int on_scalar(void *ctx)
{
    struct page *p = ctx;

    if (skipping(p, false))
        return 1;
    return wrong_type(p);
}

static int on_bool(void *ctx, int b)
{
    struct page *p = ctx;

    if (skipping(p, false))
        return 1;
    if (p->at != W_ITEM || (p->key != F_FAVORITE && p->key != F_TRASHED))
        return wrong_type(p);
    if (p->key == F_FAVORITE)
        cur(p)->favorite = b;
    else
        cur(p)->trashed = b;
    p->seen |= 1u << p->key;
    return 1;
}

static int on_null(void *ctx)
{
    struct page *p = ctx;

    if (skipping(p, false))
        return 1;
    /* Optional fields: null is absent. */
    if (p->at == W_ITEM && (p->key == F_DUPLICATE || p->key == F_EXIF))
        return 1;
    if (p->at == W_EXIF && p->key == F_DTO)
        return 1;
    if (p->at == W_ASSETS && p->key == F_NEXT) {
        p->next = 0;
        return 1;
    }
    return wrong_type(p);
}

static int on_number(void *ctx, const char *s, size_t len)
{
    (void)s;
    (void)len;
    return on_scalar(ctx);
}

static int set_time(struct page *p, const char *s, size_t len, int64_t *out)
{
    if (time_parse_iso(s, len, out, NULL) < 0)
        return fail_item(p, p->key, NULL);
    if (p->key < F_REQUIRED_NR)
        p->seen |= 1u << p->key;
    return 1;
}

static int set_visibility(struct page *p, const char *s, size_t len)
{
    static const char *const names[] = {"timeline", "archive", "hidden",
                                        "locked"};

    for (int i = 0; i < 4; i++) {
        if (strlen(names[i]) == len && !memcmp(s, names[i], len)) {
            cur(p)->visibility = i;
            p->seen |= 1u << F_VISIBILITY;
            return 1;
        }
    }
    return fail_item(p, F_VISIBILITY, "timeline, archive, hidden or locked");
}

static int set_string(struct page *p, size_t *offs, const char *s, size_t len,
                      size_t *len_out)
{
    offs[p->nr - 1] = p->strings.len;
    buf_add(&p->strings, s, len);
    buf_addch(&p->strings, '\0');
    *len_out = len;
    p->seen |= 1u << p->key;
    return 1;
}

/*
 * A string field of the asset being decoded: ids, names and paths (kept
 * in the page's string pool), the dates, the type and visibility enums;
 * a value of the wrong form fails the item with the field's name.
 */
static int item_string(struct page *p, const char *s, size_t len)
{
    struct api_asset *a = cur(p);

    switch (p->key) {
    case F_ID:
    case F_OWNER:
    case F_DUPLICATE:
        if (uuid_parse(s, len,
                       p->key == F_ID      ? &a->id
                       : p->key == F_OWNER ? &a->owner
                                           : &a->duplicate) < 0)
            return fail_item(p, p->key, NULL);
        if (p->key == F_DUPLICATE)
            a->has_duplicate = true;
        else
            p->seen |= 1u << p->key;
        /* a known asset's other fields are not read */
        if (p->key == F_ID && p->known)
            p->item_ids = p->known(p->known_ctx, &a->id);
        return 1;
    case F_NAME:
        return set_string(p, p->name_off, s, len, &a->file_name_len);
    case F_PATH:
        return set_string(p, p->path_off, s, len, &a->path_len);
    case F_FILE_CREATED:
        return set_time(p, s, len, &a->file_created_at);
    case F_FILE_MODIFIED:
        return set_time(p, s, len, &a->file_modified_at);
    case F_LOCAL:
        return set_time(p, s, len, &a->local_date_time);
    case F_CREATED:
        return set_time(p, s, len, &a->created_at);
    case F_UPDATED:
        return set_time(p, s, len, &a->updated_at);
    case F_TYPE:
        a->video = len == 5 && !memcmp(s, "VIDEO", 5);
        p->seen |= 1u << F_TYPE;
        return 1;
    case F_VISIBILITY:
        return set_visibility(p, s, len);
    default:
        return wrong_type(p);
    }
}

static int on_string(void *ctx, const unsigned char *us, size_t len)
{
    struct page *p = ctx;
    const char *s = (const char *)us;
    int64_t n;

    if (skipping(p, false))
        return 1;
    if (p->at == W_ITEM)
        return item_string(p, s, len);
    if (p->at == W_EXIF && p->key == F_DTO)
        return set_time(p, s, len, &cur(p)->date_time_original);
    if (p->at == W_ASSETS && p->key == F_NEXT) {
        if (num_parse_i64(s, len, 2, 1000000000, &n) < 0)
            return fail(p, "assets", -1, F_NEXT, NULL);
        p->next = (long)n;
        return 1;
    }
    return wrong_type(p);
}

static enum field lookup(const char *k, size_t len, enum field from,
                         enum field to)
{
    /* Length and first byte first: an asset has ~30 keys, most of them
     * not read, and a memcmp per same-length key showed in profiles. */
    for (int f = from; f <= (int)to; f++)
        if (fields[f].len == len && fields[f].key[0] == k[0] &&
            !memcmp(k, fields[f].key, len))
            return (enum field)f;
    return F_NONE;
}

static int on_key(void *ctx, const unsigned char *uk, size_t len)
{
    struct page *p = ctx;
    const char *k = (const char *)uk;
    enum field f = F_NONE;

    if (p->skip)
        return 1;
    switch (p->at) {
    case W_ROOT:
        f = lookup(k, len, F_ASSETS, F_ASSETS);
        break;
    case W_ASSETS:
        f = lookup(k, len, F_ITEMS, F_ITEMS);
        if (f == F_NONE)
            f = lookup(k, len, F_NEXT, F_NEXT);
        break;
    case W_ITEM:
        for (const uint8_t *c = len <= ITEM_KEY_MAX
                                    ? p->item_keys[p->item_ids][len]
                                    : p->item_keys[p->item_ids][0];
             *c != F_NONE; c++)
            if (fields[*c].key[0] == k[0] && !memcmp(k, fields[*c].key, len)) {
                f = (enum field) * c;
                break;
            }
        break;
    case W_EXIF:
        f = lookup(k, len, F_DTO, F_DTO);
        break;
    default:
        break;
    }
    p->key = f;
    p->skip_value = f == F_NONE;
    return 1;
}

static void grow_items(struct page *p)
{
    size_t old = p->off_alloc;

    ALLOC_GROW(p->v, p->nr + 1, p->alloc);
    if (p->alloc > old) {
        p->name_off =
            xrealloc(p->name_off, st_mult(p->alloc, sizeof(*p->name_off)));
        p->path_off =
            xrealloc(p->path_off, st_mult(p->alloc, sizeof(*p->path_off)));
        p->off_alloc = p->alloc;
    }
}

/*
 * yajl's "{": the page's root, its "assets" object, a new asset (a fresh
 * record, read whole or by id alone) or an asset's "exifInfo".  Any other
 * object where the page has a scalar is a wrong type; objects under keys
 * the decoder does not read are skipped.
 */
static int on_start_map(void *ctx)
{
    struct page *p = ctx;

    if (skipping(p, true))
        return 1;
    switch (p->at) {
    case W_TOP:
        p->at = W_ROOT;
        p->key = F_NONE;
        return 1;
    case W_ROOT:
        if (p->key != F_ASSETS)
            return wrong_type(p);
        p->have_assets = true;
        p->at = W_ASSETS;
        p->key = F_NONE;
        return 1;
    case W_ITEMS:
        grow_items(p);
        memset(&p->v[p->nr], 0, sizeof(p->v[0]));
        p->v[p->nr].date_time_original = TIME_NONE;
        p->name_off[p->nr] = p->path_off[p->nr] = 0;
        p->nr++;
        p->seen = 0;
        p->item_ids = p->ids_only && !p->known;
        p->at = W_ITEM;
        p->key = F_NONE;
        return 1;
    case W_ITEM:
        if (p->key != F_EXIF)
            return wrong_type(p);
        cur(p)->has_exif = true;
        p->at = W_EXIF;
        p->key = F_NONE;
        return 1;
    default:
        return wrong_type(p);
    }
}

/* The first required field the asset lacks, in check order. */
static int check_item(struct page *p)
{
    for (int f = 0; f < (p->item_ids ? F_ID + 1 : F_REQUIRED_NR); f++)
        if (!(p->seen & (1u << f)))
            return fail_item(p, (enum field)f, NULL);
    return 1;
}

static int on_end_map(void *ctx)
{
    struct page *p = ctx;

    if (p->skip) {
        p->skip--;
        return 1;
    }
    switch (p->at) {
    case W_ROOT:
        p->at = W_DONE;
        if (!p->have_assets)
            return fail(p, "", -1, F_ASSETS, NULL);
        return 1;
    case W_ASSETS:
        p->at = W_ROOT;
        p->key = F_NONE;
        if (!p->have_items)
            return fail(p, "assets", -1, F_ITEMS, NULL);
        return 1;
    case W_ITEM:
        p->at = W_ITEMS;
        p->key = F_NONE;
        return check_item(p);
    case W_EXIF:
        p->at = W_ITEM;
        p->key = F_NONE;
        return 1;
    default:
        return 1;
    }
}

static int on_start_array(void *ctx)
{
    struct page *p = ctx;

    if (skipping(p, true))
        return 1;
    if (p->at == W_ASSETS && p->key == F_ITEMS) {
        p->have_items = true;
        p->at = W_ITEMS;
        p->key = F_NONE;
        return 1;
    }
    return wrong_type(p);
}

static int on_end_array(void *ctx)
{
    struct page *p = ctx;

    if (p->skip) {
        p->skip--;
        return 1;
    }
    if (p->at == W_ITEMS) {
        p->at = W_ASSETS;
        p->key = F_NONE;
    }
    return 1;
}

static const yajl_callbacks callbacks = {
    on_null,      on_bool, NULL,       NULL,           on_number,    on_string,
    on_start_map, on_key,  on_end_map, on_start_array, on_end_array,
};

/* A root that is not an object fails like the tree reader's jd_obj. */
static int root_not_object(struct page *p)
{
    return fail(p, "", -1, F_NONE, "an object");
}

/*
 * Decodes data into p.  Returns 0, or -1 with the message in p->d.err.
 * On success the assets' strings point into p->strings.
 */
static int parse(struct page *p, const char *data, size_t len)
{
    yajl_handle h = yajl_alloc(&callbacks, NULL, p);
    yajl_status s;

    if (!h)
        BUG("yajl_alloc failed");
    s = yajl_parse(h, (const unsigned char *)data, len);
    if (s == yajl_status_ok)
        s = yajl_complete_parse(h);
    if (s == yajl_status_error && !p->failed) {
        unsigned char *msg = yajl_get_error(h, 0, NULL, 0);

        buf_reset(p->d.err);
        buf_addf(p->d.err, "%s: invalid JSON at byte %zu: %s", p->d.endpoint,
                 yajl_get_bytes_consumed(h),
                 msg ? (const char *)msg : "parse error");
        yajl_free_error(h, msg);
        p->failed = true;
    }
    yajl_free(h);
    if (!p->failed && p->at != W_DONE)
        root_not_object(p);
    if (p->failed)
        return -1;
    for (size_t i = 0; i < p->nr; i++) {
        p->v[i].file_name = p->strings.buf + p->name_off[i];
        p->v[i].path = p->strings.buf + p->path_off[i];
    }
    return 0;
}

/* Fills p->item_keys from fields[]: the id alone when ids_only. */
static void item_keys_init(struct page *p)
{
    memset(p->item_keys, F_NONE, sizeof(p->item_keys));
    for (int ids = 0; ids < 2; ids++) {
        for (int f = F_ID; f <= (ids ? F_ID : F_EXIF); f++) {
            uint8_t *c;
            size_t n = 0;

            if (fields[f].len > ITEM_KEY_MAX)
                BUG("api_page: item key %s is too long", fields[f].key);
            c = p->item_keys[ids][fields[f].len];
            while (c[n] != F_NONE)
                n++;
            if (n + 1 >= sizeof(p->item_keys[0][0]))
                BUG("api_page: too many item keys of length %zu",
                    fields[f].len);
            c[n] = (uint8_t)f;
        }
    }
}

static void deliver_page(struct api_call *c, const char *data, size_t len,
                         struct api_status *st, bool ids_only)
{
    struct page p;

    memset(&p, 0, sizeof(p));
    p.ids_only = ids_only;
    p.known = ids_only ? c->known : NULL;
    p.known_ctx = c->known_ctx;
    item_keys_init(&p);
    p.d.endpoint = c->endpoint;
    p.d.err = &c->err;
    p.key = F_NONE;
    buf_init(&p.strings, 0);
    if (st->ok && parse(&p, data, len) < 0) {
        /* A scalar root: the parser saw no map at all. */
        api_decode_failed(c, st);
        p.nr = 0;
        p.next = 0;
    }
    ((api_page_fn *)c->cb)(c->ctx, st, st->ok ? p.v : NULL, st->ok ? p.nr : 0,
                           st->ok ? p.next : 0);
    free(p.v);
    free(p.name_off);
    free(p.path_off);
    buf_release(&p.strings);
}

void api_deliver_page_raw(struct api_call *c, const char *data, size_t len,
                          struct api_status *st)
{
    deliver_page(c, data, len, st, false);
}

void api_deliver_page_ids_raw(struct api_call *c, const char *data, size_t len,
                              struct api_status *st)
{
    deliver_page(c, data, len, st, true);
}
