/*
 * sim_api_search.c: POST /search/metadata and /search/statistics.
 *
 * Both request shapes compile into one filter (struct branch, plus the
 * "or" branches of the 3.x structured shape), then a scan of the asset
 * order (or of the smallest album named by albumIds) collects matches.
 * Paging is OFFSET paging as on the server; page N of a 1m library scans
 * the matches before it, which is what makes deep pages slow there too.
 *
 * Quirks kept: 2.x sorts without a tie-breaker, so assets sharing a
 * fileCreatedAt come in an order that changes with the page number; 2.x
 * limits album searches to the caller's and partners' assets; 3.x
 * checks album.read and then shows every member's assets.
 */
#include "core/timeutil.h"
#include "sim/sim_json.h"
#include "sim/sim_server.h"

#include <ctype.h>

/* Bounds in microseconds (a request's ms x 1000): Postgres keeps
 * createdAt/updatedAt to the microsecond, JSON and JS Dates to the ms. */
struct range {
    int64_t lo, hi; /* inclusive bounds, us */
    int64_t ne;     /* TIME_NONE = unused, else us */
};

struct idset {
    uint32_t *items;
    size_t nr;
    bool set; /* the filter was given */
};

struct branch {
    struct idset albums_all, albums_any, albums_none;
    struct idset tags_all, tags_any, tags_none;
    bool no_tags; /* tagIds: null */
    struct range taken, created, updated, trashed;
    int trash_null;     /* -1 any, 1 deletedAt null, 0 not null */
    unsigned vis_mask;  /* bit per visibility; 0 = any */
    unsigned type_mask; /* bit per type; 0 = any */
    int favorite, has_albums, has_tags, not_in_album;
    bool empty; /* a filter no asset can match */
    bool has_id;
    struct uuid id;
    const char *file_name, *path; /* case-insensitive substrings */
    int rating;                   /* -2 = any */
};

struct query {
    struct branch base;
    struct branch *ors;
    size_t ors_nr;
    bool scope_all; /* no owner restriction (3.x album search) */
    bool structured;
    bool with_exif, exif_inner;
    bool asc;
    int order_field; /* 0 fileCreatedAt 1 localDateTime 2 size 3 rating */
    int64_t offset, size, page;
};

static void range_init(struct range *r)
{
    r->lo = INT64_MIN;
    r->hi = INT64_MAX;
    r->ne = TIME_NONE;
}

static void branch_init(struct branch *b)
{
    memset(b, 0, sizeof(*b));
    range_init(&b->taken);
    range_init(&b->created);
    range_init(&b->updated);
    range_init(&b->trashed);
    b->trash_null = -1;
    b->favorite = b->has_albums = b->has_tags = b->not_in_album = -1;
    b->rating = -2;
}

static void branch_release(struct branch *b)
{
    free(b->albums_all.items);
    free(b->albums_any.items);
    free(b->albums_none.items);
    free(b->tags_all.items);
    free(b->tags_any.items);
    free(b->tags_none.items);
}

/* Is the instant v (ms) plus us microseconds inside r? */
static bool range_ok(const struct range *r, int64_t v, int us)
{
    if (v == TIME_NONE)
        return r->lo == INT64_MIN && r->hi == INT64_MAX && r->ne == TIME_NONE;
    v = v * 1000 + us;
    return v >= r->lo && v <= r->hi && (r->ne == TIME_NONE || v != r->ne);
}

static bool has_tag_under(const struct sim_lib *lib, const struct sim_asset *a,
                          uint32_t t)
{
    uint32_t k;

    for (k = 0; k < a->tags.nr; k++)
        if (sim_tag_is_under(lib, a->tags.items[k], t))
            return true;
    return false;
}

static bool ci_contains(const char *hay, const char *needle)
{
    size_t n = strlen(needle), i, j;

    for (i = 0; hay[i]; i++) {
        for (j = 0; j < n && hay[i + j]; j++)
            if (tolower((unsigned char)hay[i + j]) !=
                tolower((unsigned char)needle[j]))
                break;
        if (j == n)
            return true;
    }
    return n == 0;
}

/*
 * Does asset ai pass one filter branch?  Every condition of the branch
 * must hold: visibility and type masks, trash state, the date ranges (each
 * at the precision the server stores), favourite, album and tag presence,
 * id, file name and path (case-insensitive substrings, as ILIKE), rating,
 * then the all/any/none album and tag sets (tags include their children).
 */
static bool branch_match(const struct sim_lib *lib, const struct branch *b,
                         uint32_t ai)
{
    const struct sim_asset *a = &lib->assets[ai];
    size_t i;

    if (b->empty)
        return false;
    if (b->vis_mask && !(b->vis_mask >> a->visibility & 1))
        return false;
    if (b->type_mask && !(b->type_mask >> a->type & 1))
        return false;
    if (b->trash_null == 1 && a->deleted_at != TIME_NONE)
        return false;
    if (b->trash_null == 0 && a->deleted_at == TIME_NONE)
        return false;
    /* fileCreatedAt and deletedAt come from JS Dates (ms); createdAt and
     * updatedAt from now() and clock_timestamp() (us) */
    if (!range_ok(&b->taken, a->file_created_at, 0) ||
        !range_ok(&b->created, a->created_at, sim_asset_sub_ms(lib, ai)) ||
        !range_ok(&b->updated, a->updated_at, sim_asset_sub_ms(lib, ai)) ||
        (a->deleted_at != TIME_NONE &&
         !range_ok(&b->trashed, a->deleted_at, 0)))
        return false;
    if (b->favorite >= 0 && a->favorite != (b->favorite == 1))
        return false;
    if (b->has_albums >= 0 && (a->albums.nr > 0) != (b->has_albums == 1))
        return false;
    if (b->has_tags >= 0 && (a->tags.nr > 0) != (b->has_tags == 1))
        return false;
    if (b->not_in_album == 1 && !b->albums_all.nr && a->albums.nr)
        return false;
    if (b->no_tags && a->tags.nr)
        return false;
    if (b->has_id && !uuid_eq(&b->id, &a->id))
        return false;
    if (b->file_name && !ci_contains(sim_cstr(lib, a->file_name), b->file_name))
        return false;
    if (b->path) {
        struct buf p = BUF_INIT;
        bool ok;

        if (a->dir != SIM_NONE)
            buf_addf(&p, "%s/", sim_cstr(lib, a->dir));
        buf_addstr(&p, sim_cstr(lib, a->base));
        ok = ci_contains(p.buf, b->path);
        buf_release(&p);
        if (!ok)
            return false;
    }
    if (b->rating != -2 &&
        (a->exif == SIM_NONE || lib->exifs[a->exif].rating != b->rating))
        return false;
    for (i = 0; i < b->albums_all.nr; i++)
        if (!u32vec_has(&a->albums, b->albums_all.items[i]))
            return false;
    for (i = 0; i < b->albums_none.nr; i++)
        if (u32vec_has(&a->albums, b->albums_none.items[i]))
            return false;
    if (b->albums_any.set) {
        for (i = 0; i < b->albums_any.nr; i++)
            if (u32vec_has(&a->albums, b->albums_any.items[i]))
                break;
        if (i == b->albums_any.nr)
            return false;
    }
    for (i = 0; i < b->tags_all.nr; i++)
        if (!has_tag_under(lib, a, b->tags_all.items[i]))
            return false;
    for (i = 0; i < b->tags_none.nr; i++)
        if (has_tag_under(lib, a, b->tags_none.items[i]))
            return false;
    if (b->tags_any.set) {
        for (i = 0; i < b->tags_any.nr; i++)
            if (has_tag_under(lib, a, b->tags_any.items[i]))
                break;
        if (i == b->tags_any.nr)
            return false;
    }
    return true;
}

static bool query_match(const struct sim_lib *lib, const struct query *q,
                        uint32_t user, uint32_t ai)
{
    const struct sim_asset *a = &lib->assets[ai];
    size_t i;

    if (a->visibility == SIM_VIS_LOCKED)
        return false;
    if (!q->scope_all && a->owner != user &&
        !u32vec_has(&lib->users[user].partners, a->owner))
        return false;
    if (q->with_exif && q->exif_inner && a->exif == SIM_NONE)
        return false;
    if (!branch_match(lib, &q->base, ai))
        return false;
    if (!q->ors_nr)
        return true;
    for (i = 0; i < q->ors_nr; i++)
        if (branch_match(lib, &q->ors[i], ai))
            return true;
    return false;
}

/* ---- request parsing ---- */

/*
 * Resolves album (album true) or tag ids into s; an unknown id empties the
 * branch, since it holds nothing. Albums on 3.x need album.read on each
 * (400 and -1 otherwise).
 */
static int id_set(struct sim_req *r, json_t *arr, struct idset *s,
                  struct branch *b, bool album)
{
    struct uuid *ids;
    size_t n = sim_uuid_list(arr, &ids), i;

    s->set = true;
    s->items = xmalloc(st_mult(n + 1, sizeof(*s->items)));
    for (i = 0; i < n; i++) {
        uint32_t x = album ? sim_find_album(r->lib, &ids[i])
                           : sim_find_tag(r->lib, &ids[i]);

        if (album && r->dialect >= 3 &&
            (x == SIM_NONE || sim_album_role(r->lib, x, r->user) < 0)) {
            sim_error(r, 400, "Not found or no album.read access");
            free(ids);
            return -1;
        }
        if (x == SIM_NONE)
            b->empty = true;
        else
            s->items[s->nr++] = x;
    }
    free(ids);
    return 0;
}

static int album_set(struct sim_req *r, json_t *arr, struct idset *s,
                     struct branch *b)
{
    return id_set(r, arr, s, b, true);
}

static void tag_set(struct sim_req *r, json_t *arr, struct idset *s,
                    struct branch *b)
{
    (void)id_set(r, arr, s, b, false);
}

static int64_t jtime(json_t *v)
{
    int64_t t = TIME_NONE;
    const char *s = json_string_value(v);

    if (s)
        (void)time_parse_iso(s, strlen(s), &t, NULL);
    return t;
}

/* A flat body's <x>After / <x>Before pair into rg (ms to us); whether
 * either was given. */
static bool flat_range(json_t *body, const char *after, const char *before,
                       struct range *rg)
{
    int64_t t;
    bool any = false;

    if ((t = jtime(json_object_get(body, after))) != TIME_NONE) {
        rg->lo = t * 1000;
        any = true;
    }
    if ((t = jtime(json_object_get(body, before))) != TIME_NONE) {
        rg->hi = t * 1000;
        any = true;
    }
    return any;
}

static const char *const vis_values[] = {"timeline", "archive", "hidden",
                                         "locked", NULL};
static const char *const order_values[] = {"asc", "desc", NULL};
static const char *const type_values[] = {"IMAGE", "VIDEO", "AUDIO", "OTHER",
                                          NULL};

static const struct sim_field flat_fields[] = {
    {"page", FT_INT, false, 1, INT32_MAX, NULL},
    {"size", FT_INT, false, 1, 1000, NULL},
    {"order", FT_STR, false, 0, 0, order_values},
    {"albumIds", FT_UUIDS, false, 0, 0, NULL},
    {"tagIds", FT_NUUIDS, false, 0, 0, NULL},
    {"personIds", FT_UUIDS, false, 0, 0, NULL},
    {"isNotInAlbum", FT_BOOL, false, 0, 0, NULL},
    {"updatedAfter", FT_DATE, false, 0, 0, NULL},
    {"updatedBefore", FT_DATE, false, 0, 0, NULL},
    {"takenAfter", FT_DATE, false, 0, 0, NULL},
    {"takenBefore", FT_DATE, false, 0, 0, NULL},
    {"createdAfter", FT_DATE, false, 0, 0, NULL},
    {"createdBefore", FT_DATE, false, 0, 0, NULL},
    {"trashedAfter", FT_DATE, false, 0, 0, NULL},
    {"trashedBefore", FT_DATE, false, 0, 0, NULL},
    {"withDeleted", FT_BOOL, false, 0, 0, NULL},
    {"visibility", FT_STR, false, 0, 0, vis_values},
    {"withExif", FT_BOOL, false, 0, 0, NULL},
    {"withStacked", FT_BOOL, false, 0, 0, NULL},
    {"withPeople", FT_BOOL, false, 0, 0, NULL},
    {"type", FT_STR, false, 0, 0, type_values},
    {"isFavorite", FT_BOOL, false, 0, 0, NULL},
    {"isOffline", FT_BOOL, false, 0, 0, NULL},
    {"isMotion", FT_BOOL, false, 0, 0, NULL},
    {"isEncoded", FT_BOOL, false, 0, 0, NULL},
    {"id", FT_UUID, false, 0, 0, NULL},
    {"libraryId", FT_NSTR, false, 0, 0, NULL},
    {"originalFileName", FT_STR, false, 0, 0, NULL},
    {"originalPath", FT_STR, false, 0, 0, NULL},
    {"rating", FT_INT, false, -1, 5, NULL},
    {"deviceId", FT_STR, false, 0, 0, NULL},
};

/* Fills q from the flat shape; stat excludes the paging fields. */
static int parse_flat(struct sim_req *r, struct query *q, bool stat)
{
    json_t *body = r->body, *v;
    struct branch *b = &q->base;
    size_t nf = ARRAY_SIZE(flat_fields);
    const char *s;

    if (stat) {
        /* no page/size/order in StatisticsSearchDto */
        if (json_object_get(body, "page") || json_object_get(body, "size") ||
            json_object_get(body, "order")) {
            const char *k = json_object_get(body, "page")   ? "page"
                            : json_object_get(body, "size") ? "size"
                                                            : "order";
            struct buf m2 = BUF_INIT, m3 = BUF_INIT;

            buf_addf(&m2, "property %s should not exist", k);
            buf_addf(&m3,
                     "{\"code\":\"unrecognized_keys\",\"keys\":[\"%s\"],"
                     "\"path\":[],\"message\":\"Unrecognized key: "
                     "\\\"%s\\\"\"}",
                     k, k);
            sim_error_validation(r, m2.buf, m3.buf);
            buf_release(&m2);
            buf_release(&m3);
            return -1;
        }
    }
    if (sim_validate(r, body, flat_fields, nf) < 0)
        return -1;
    if (r->dialect >= 3 && json_object_get(body, "deviceId"))
        return sim_validate(r, body, flat_fields, nf - 1);
    q->page = json_integer_value(json_object_get(body, "page"));
    if (q->page < 1)
        q->page = 1;
    q->size = json_integer_value(json_object_get(body, "size"));
    if (q->size < 1)
        q->size = 250;
    q->offset = (q->page - 1) * q->size;
    s = json_string_value(json_object_get(body, "order"));
    q->asc = s && !strcmp(s, "asc");
    q->with_exif = json_is_true(json_object_get(body, "withExif"));
    q->exif_inner = true;
    if ((v = json_object_get(body, "albumIds")) && json_array_size(v)) {
        if (album_set(r, v, &b->albums_all, b) < 0)
            return -1;
        q->scope_all = r->dialect >= 3;
    }
    v = json_object_get(body, "tagIds");
    if (v && json_is_null(v))
        b->no_tags = true;
    else if (v && json_array_size(v))
        tag_set(r, v, &b->tags_all, b);
    if ((v = json_object_get(body, "personIds")) && json_array_size(v))
        b->empty = true; /* the simulator has no faces */
    if (json_is_true(json_object_get(body, "isNotInAlbum")))
        b->not_in_album = 1;
    (void)flat_range(body, "updatedAfter", "updatedBefore", &b->updated);
    (void)flat_range(body, "takenAfter", "takenBefore", &b->taken);
    (void)flat_range(body, "createdAfter", "createdBefore", &b->created);
    b->trash_null = 1;
    if (json_is_true(json_object_get(body, "withDeleted")))
        b->trash_null = -1;
    if (flat_range(body, "trashedAfter", "trashedBefore", &b->trashed))
        b->trash_null = 0;
    if (json_is_true(json_object_get(body, "isOffline")) ||
        json_is_true(json_object_get(body, "isMotion")) ||
        json_is_true(json_object_get(body, "isEncoded")))
        b->empty = true;
    s = json_string_value(json_object_get(body, "visibility"));
    if (s) {
        int vis = sim_visibility_parse(s);

        if (vis == SIM_VIS_LOCKED) {
            sim_error(r, 401, "Elevated permission is required");
            return -1;
        }
        b->vis_mask = 1u << vis;
    } else {
        b->vis_mask = r->dialect < 3
                          ? 1u << SIM_VIS_TIMELINE
                          : (1u << SIM_VIS_TIMELINE) | (1u << SIM_VIS_ARCHIVE) |
                                (1u << SIM_VIS_HIDDEN);
    }
    if ((s = json_string_value(json_object_get(body, "type"))))
        b->type_mask = !strcmp(s, "VIDEO")   ? 1u << SIM_TYPE_VIDEO
                       : !strcmp(s, "AUDIO") ? 1u << SIM_TYPE_AUDIO
                       : !strcmp(s, "OTHER") ? 1u << SIM_TYPE_OTHER
                                             : 1u << SIM_TYPE_IMAGE;
    if ((v = json_object_get(body, "isFavorite")))
        b->favorite = json_is_true(v);
    if ((v = json_object_get(body, "id"))) {
        b->has_id = true;
        (void)uuid_parse(json_string_value(v), 36, &b->id);
    }
    if ((v = json_object_get(body, "libraryId")) && !json_is_null(v))
        b->empty = true; /* no external libraries */
    b->file_name = json_string_value(json_object_get(body, "originalFileName"));
    b->path = json_string_value(json_object_get(body, "originalPath"));
    if ((v = json_object_get(body, "rating")))
        b->rating = (int)json_integer_value(v);
    return 0;
}

/* ---- 3.x structured shape ---- */

static int bad_filter(struct sim_req *r, const char *key)
{
    struct buf m3 = BUF_INIT;

    buf_addstr(&m3, "{\"code\":\"unrecognized_keys\",\"keys\":[");
    buf_add_json_str(&m3, key, strlen(key));
    buf_addstr(&m3, "],\"path\":[\"filter\"],\"message\":\"Unrecognized key "
                    "in filter\"}");
    sim_error_validation(r, key, m3.buf);
    buf_release(&m3);
    return -1;
}

static int parse_ids_filter(struct sim_req *r, json_t *o, struct branch *b,
                            bool album)
{
    static const struct sim_field fields[] = {
        {"any", FT_UUIDS, false, 0, 0, NULL},
        {"all", FT_UUIDS, false, 0, 0, NULL},
        {"none", FT_UUIDS, false, 0, 0, NULL},
    };
    json_t *v;

    if (sim_validate(r, o, fields, ARRAY_SIZE(fields)) < 0)
        return -1;
    if (album) {
        if ((v = json_object_get(o, "any")) &&
            album_set(r, v, &b->albums_any, b) < 0)
            return -1;
        if ((v = json_object_get(o, "all")) &&
            album_set(r, v, &b->albums_all, b) < 0)
            return -1;
        if ((v = json_object_get(o, "none")) &&
            album_set(r, v, &b->albums_none, b) < 0)
            return -1;
        return 0;
    }
    if ((v = json_object_get(o, "any")))
        tag_set(r, v, &b->tags_any, b);
    if ((v = json_object_get(o, "all")))
        tag_set(r, v, &b->tags_all, b);
    if ((v = json_object_get(o, "none")))
        tag_set(r, v, &b->tags_none, b);
    /* "none" ignores unknown tags instead of emptying the result */
    return 0;
}

/*
 * A structured date filter {eq, ne, gt, gte, lt, lte} into a range; with
 * null_flag, "eq": null asks for the field to be null (trashedAt).  Checked
 * field by field so a bad value gets the server's 400.
 */
static int parse_date_filter(struct sim_req *r, json_t *o, struct range *rg,
                             int *null_flag)
{
    static const struct sim_field fields[] = {
        {"eq", FT_ANY, false, 0, 0, NULL},  {"ne", FT_ANY, false, 0, 0, NULL},
        {"gt", FT_DATE, false, 0, 0, NULL}, {"gte", FT_DATE, false, 0, 0, NULL},
        {"lt", FT_DATE, false, 0, 0, NULL}, {"lte", FT_DATE, false, 0, 0, NULL},
    };
    json_t *v;
    int64_t t;

    if (sim_validate(r, o, fields, ARRAY_SIZE(fields)) < 0)
        return -1;
    if ((v = json_object_get(o, "eq"))) {
        if (json_is_null(v) && null_flag) {
            *null_flag = 1;
        } else if ((t = jtime(v)) != TIME_NONE) {
            rg->lo = rg->hi = t * 1000;
        } else {
            return bad_filter(r, "eq");
        }
    }
    if ((v = json_object_get(o, "ne"))) {
        if (json_is_null(v) && null_flag)
            *null_flag = 0;
        else if ((t = jtime(v)) != TIME_NONE)
            rg->ne = t * 1000;
        else
            return bad_filter(r, "ne");
    }
    if ((t = jtime(json_object_get(o, "gt"))) != TIME_NONE)
        rg->lo = t * 1000 + 1;
    if ((t = jtime(json_object_get(o, "gte"))) != TIME_NONE)
        rg->lo = t * 1000;
    if ((t = jtime(json_object_get(o, "lt"))) != TIME_NONE)
        rg->hi = t * 1000 - 1;
    if ((t = jtime(json_object_get(o, "lte"))) != TIME_NONE)
        rg->hi = t * 1000;
    return 0;
}

/*
 * An enum filter {eq, ne, in, notIn} over names (visibility, type) into a
 * bit mask of the values that pass; an unknown name is the server's 400.
 */
static int parse_enum_filter(struct sim_req *r, json_t *o, unsigned *mask,
                             const char *const *names)
{
    static const struct sim_field fields[] = {
        {"eq", FT_STR, false, 0, 0, NULL},
        {"ne", FT_STR, false, 0, 0, NULL},
        {"in", FT_STRS, false, 0, 0, NULL},
        {"notIn", FT_STRS, false, 0, 0, NULL},
    };
    unsigned all = 0, m;
    size_t i, k;
    json_t *v;

    if (sim_validate(r, o, fields, ARRAY_SIZE(fields)) < 0)
        return -1;
    for (k = 0; names[k]; k++)
        all |= 1u << k;
    m = all;
    for (k = 0; k < 4; k++) {
        json_t *x = json_object_get(o, fields[k].name);
        unsigned sel = 0;

        if (!x)
            continue;
        if (json_is_string(x)) {
            for (i = 0; names[i]; i++)
                if (!strcmp(names[i], json_string_value(x)))
                    sel |= 1u << i;
        } else {
            json_array_foreach(x, i, v)
            {
                size_t j;

                for (j = 0; names[j]; j++)
                    if (!strcmp(names[j], json_string_value(v)))
                        sel |= 1u << j;
            }
        }
        m &= (k == 0 || k == 2) ? sel : all & ~sel;
    }
    *mask = m ? m : 1u << 31; /* no valid value: matches nothing */
    return 0;
}

static int parse_bool_filter(struct sim_req *r, json_t *o, int *out)
{
    static const struct sim_field fields[] = {
        {"eq", FT_BOOL, true, 0, 0, NULL},
    };

    if (sim_validate(r, o, fields, ARRAY_SIZE(fields)) < 0)
        return -1;
    *out = json_is_true(json_object_get(o, "eq"));
    return 0;
}

/*
 * One filter object of the 3.x structured search into branch b, key by
 * key (albumIds, tagIds, the date ranges, visibility, type, flags); at the
 * top level "or" adds alternative branches to q.  An unknown key, or
 * people filters the simulator has no data for (they match nothing), are
 * answered as the server would.
 */
static int parse_branch(struct sim_req *r, json_t *f, struct branch *b,
                        struct query *q, bool top)
{
    const char *key;
    json_t *v;

    if (!json_is_object(f))
        return bad_filter(r, "filter");
    json_object_foreach(f, key, v)
    {
        int rc;

        if (!strcmp(key, "albumIds")) {
            rc = parse_ids_filter(r, v, b, true);
            if (top && (json_object_get(v, "any") || json_object_get(v, "all")))
                q->scope_all = true;
        } else if (!strcmp(key, "tagIds")) {
            rc = parse_ids_filter(r, v, b, false);
        } else if (!strcmp(key, "personIds")) {
            rc = 0;
            if (json_object_get(v, "any") || json_object_get(v, "all"))
                b->empty = true;
        } else if (!strcmp(key, "takenAt")) {
            rc = parse_date_filter(r, v, &b->taken, NULL);
        } else if (!strcmp(key, "createdAt")) {
            rc = parse_date_filter(r, v, &b->created, NULL);
        } else if (!strcmp(key, "updatedAt")) {
            rc = parse_date_filter(r, v, &b->updated, NULL);
        } else if (!strcmp(key, "trashedAt")) {
            rc = parse_date_filter(r, v, &b->trashed, &b->trash_null);
        } else if (!strcmp(key, "visibility")) {
            rc = parse_enum_filter(r, v, &b->vis_mask, vis_values);
            if (rc == 0 && b->vis_mask == 1u << SIM_VIS_LOCKED) {
                sim_error(r, 401, "Elevated permission is required");
                rc = -1;
            }
        } else if (!strcmp(key, "type")) {
            rc = parse_enum_filter(r, v, &b->type_mask, type_values);
        } else if (!strcmp(key, "isFavorite")) {
            rc = parse_bool_filter(r, v, &b->favorite);
        } else if (!strcmp(key, "hasAlbums")) {
            rc = parse_bool_filter(r, v, &b->has_albums);
        } else if (!strcmp(key, "hasTags")) {
            rc = parse_bool_filter(r, v, &b->has_tags);
        } else if (!strcmp(key, "or") && top) {
            size_t i;
            json_t *x;

            if (!json_is_array(v))
                return bad_filter(r, "or");
            q->ors = xcalloc(json_array_size(v) + 1, sizeof(*q->ors));
            rc = 0;
            json_array_foreach(v, i, x)
            {
                branch_init(&q->ors[i]);
                q->ors_nr = i + 1;
                if (parse_branch(r, x, &q->ors[i], q, false) < 0)
                    return -1;
            }
        } else {
            return bad_filter(r, key);
        }
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int b64url_decode(const char *s, struct buf *out)
{
    static const char tbl[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint32_t acc = 0;
    int bits = 0;

    for (; *s && *s != '='; s++) {
        const char *p = strchr(tbl, *s);

        if (!p)
            return -1;
        acc = acc << 6 | (uint32_t)(p - tbl);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf_addch(out, (int)(acc >> bits & 0xff));
        }
    }
    return 0;
}

static void b64url_encode(struct buf *out, const char *s, size_t n)
{
    static const char tbl[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint32_t acc = 0;
    int bits = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        acc = acc << 8 | (uint8_t)s[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            buf_addch(out, tbl[acc >> bits & 63]);
        }
    }
    if (bits)
        buf_addch(out, tbl[acc << (6 - bits) & 63]);
}

/*
 * The 3.x structured request (filter, orderBy, cursor, size) into q: the
 * filter's branches, the order field and direction, and the page offset
 * carried in the opaque base64url cursor, which is the server's OFFSET
 * paging underneath (an invalid cursor is a 400).
 */
static int parse_structured(struct sim_req *r, struct query *q, bool stat)
{
    static const char *const fields_o[] = {"fileCreatedAt", "localDateTime",
                                           "fileSizeInBytes", "rating", NULL};
    static const char *const dirs[] = {"asc", "desc", NULL};
    static const struct sim_field fields[] = {
        {"filter", FT_OBJ, false, 0, 0, NULL},
        {"withExif", FT_BOOL, false, 0, 0, NULL},
        {"withPeople", FT_BOOL, false, 0, 0, NULL},
        {"withStacked", FT_BOOL, false, 0, 0, NULL},
        {"orderBy", FT_OBJ, false, 0, 0, NULL},
        {"cursor", FT_STR, false, 0, 0, NULL},
        {"size", FT_INT, false, 1, 1000, NULL},
    };
    static const struct sim_field ob_fields[] = {
        {"field", FT_STR, false, 0, 0, fields_o},
        {"direction", FT_STR, false, 0, 0, dirs},
    };
    json_t *body = r->body, *ob, *f;
    const char *s;
    size_t k;

    if (sim_validate(r, body, fields, stat ? 4 : ARRAY_SIZE(fields)) < 0)
        return -1;
    q->structured = true;
    q->with_exif = json_is_true(json_object_get(body, "withExif"));
    q->size = json_integer_value(json_object_get(body, "size"));
    if (q->size < 1)
        q->size = 250;
    /* no default visibility beyond "not locked", no default trash filter */
    f = json_object_get(body, "filter");
    if (f && parse_branch(r, f, &q->base, q, true) < 0)
        return -1;
    ob = json_object_get(body, "orderBy");
    if (ob) {
        if (sim_validate(r, ob, ob_fields, ARRAY_SIZE(ob_fields)) < 0)
            return -1;
        s = json_string_value(json_object_get(ob, "field"));
        for (k = 0; s && fields_o[k]; k++)
            if (!strcmp(fields_o[k], s))
                q->order_field = (int)k;
        s = json_string_value(json_object_get(ob, "direction"));
        q->asc = s && !strcmp(s, "asc");
    }
    s = json_string_value(json_object_get(body, "cursor"));
    if (s) {
        struct buf dec = BUF_INIT;
        json_t *c = NULL;
        json_t *o;

        if (b64url_decode(s, &dec) == 0)
            c = json_loadb(dec.buf, dec.len, 0, NULL);
        o = json_object_get(c, "o");
        if (!json_is_integer(o) || json_integer_value(o) < 0) {
            json_decref(c);
            buf_release(&dec);
            sim_error(r, 400, "Invalid cursor");
            return -1;
        }
        q->offset = json_integer_value(o);
        json_decref(c);
        buf_release(&dec);
    }
    return 0;
}

static int parse_query(struct sim_req *r, struct query *q, bool stat)
{
    static const char *const shape_keys[] = {"filter", "orderBy", "cursor"};
    static const char *const common[] = {
        "withExif", "withPeople", "withStacked", "size",
        "filter",   "orderBy",    "cursor"};
    bool structured = false;
    const char *key;
    json_t *v;
    size_t i;

    memset(q, 0, sizeof(*q));
    branch_init(&q->base);
    if (!r->body)
        r->body = json_object();
    if (sim_need_body(r) < 0)
        return -1;
    for (i = 0; i < ARRAY_SIZE(shape_keys); i++)
        if (json_object_get(r->body, shape_keys[i]))
            structured = true;
    if (!structured || r->dialect < 3)
        return parse_flat(r, q, stat);
    /* mixing the shapes is rejected */
    json_object_foreach(r->body, key, v)
    {
        for (i = 0; i < ARRAY_SIZE(common); i++)
            if (!strcmp(common[i], key))
                break;
        if (i == ARRAY_SIZE(common)) {
            sim_error(r, 400,
                      "Cannot mix legacy search fields (%s) with "
                      "filter/orderBy/cursor",
                      key);
            return -1;
        }
    }
    return parse_structured(r, q, stat);
}

static void query_release(struct query *q)
{
    size_t i;

    branch_release(&q->base);
    for (i = 0; i < q->ors_nr; i++)
        branch_release(&q->ors[i]);
    free(q->ors);
}

/* ---- ordering and collection ---- */

struct sort_ctx {
    const struct sim_lib *lib;
    int field;
    bool asc;
    int64_t page; /* 2.x tie shuffle seed, 0 = stable */
};

static const struct sort_ctx *sort_ctx; /* under the library mutex */

static int64_t sort_key(const struct sim_lib *lib, int field, uint32_t i)
{
    const struct sim_asset *a = &lib->assets[i];

    switch (field) {
    case 1:
        return a->local_date_time;
    case 2:
        return a->exif == SIM_NONE ? -1
                                   : (int64_t)lib->exifs[a->exif].file_size;
    case 3:
        return a->exif == SIM_NONE ? -2 : lib->exifs[a->exif].rating;
    default:
        return a->file_created_at;
    }
}

static int cmp_assets(const void *pa, const void *pb)
{
    uint32_t ia = *(const uint32_t *)pa, ib = *(const uint32_t *)pb;
    int64_t ka = sort_key(sort_ctx->lib, sort_ctx->field, ia);
    int64_t kb = sort_key(sort_ctx->lib, sort_ctx->field, ib);

    if (ka != kb)
        return (ka < kb) == sort_ctx->asc ? -1 : 1;
    return uuid_cmp(&sort_ctx->lib->assets[ia].id,
                    &sort_ctx->lib->assets[ib].id);
}

static uint64_t tie_hash(const struct sim_lib *lib, uint32_t i, int64_t page)
{
    uint64_t st = uuid_hash(&lib->assets[i].id) ^ (uint64_t)page * 0x9e37ULL;

    return splitmix64(&st);
}

static int cmp_tie(const void *pa, const void *pb)
{
    uint64_t a = tie_hash(sort_ctx->lib, *(const uint32_t *)pa, sort_ctx->page);
    uint64_t b = tie_hash(sort_ctx->lib, *(const uint32_t *)pb, sort_ctx->page);

    return a < b ? -1 : a > b;
}

/* All matching assets in order (before the 2.x tie shuffle). */
static size_t collect_sorted(struct sim_req *r, const struct query *q,
                             uint32_t **out)
{
    struct sim_lib *lib = r->lib;
    const struct idset *small = NULL;
    struct sort_ctx sc = {lib, q->order_field, q->asc, 0};
    uint32_t *ids;
    size_t n = 0, i;

    if (!q->ors_nr && q->base.albums_all.nr) {
        for (i = 0; i < q->base.albums_all.nr; i++) {
            const struct idset *s = &q->base.albums_all;

            if (!small || lib->albums[s->items[i]].assets.nr <
                              lib->albums[small->items[0]].assets.nr)
                small = s;
        }
    }
    if (small) {
        uint32_t best = small->items[0];

        for (i = 0; i < small->nr; i++)
            if (lib->albums[small->items[i]].assets.nr <
                lib->albums[best].assets.nr)
                best = small->items[i];
        ids = xmalloc(st_mult(lib->albums[best].assets.nr + 1, sizeof(*ids)));
        for (i = 0; i < lib->albums[best].assets.nr; i++) {
            uint32_t a = lib->albums[best].assets.items[i];

            if (query_match(lib, q, r->user, a))
                ids[n++] = a;
        }
        sort_ctx = &sc;
        qsort(ids, n, sizeof(*ids), cmp_assets);
        sort_ctx = NULL;
    } else if (q->order_field == 0) {
        const uint32_t *order = sim_lib_order(lib);

        ids = xmalloc(st_mult(lib->assets_nr + 1, sizeof(*ids)));
        for (i = 0; i < lib->assets_nr; i++) {
            uint32_t a = order[q->asc ? lib->assets_nr - 1 - i : i];

            if (query_match(lib, q, r->user, a))
                ids[n++] = a;
        }
        /* reversing desc-with-id-asc gives asc-with-id-desc: fix ties */
        if (q->asc) {
            sort_ctx = &sc;
            qsort(ids, n, sizeof(*ids), cmp_assets);
            sort_ctx = NULL;
        }
    } else {
        ids = xmalloc(st_mult(lib->assets_nr + 1, sizeof(*ids)));
        for (i = 0; i < lib->assets_nr; i++)
            if (query_match(lib, q, r->user, (uint32_t)i))
                ids[n++] = (uint32_t)i;
        sort_ctx = &sc;
        qsort(ids, n, sizeof(*ids), cmp_assets);
        sort_ctx = NULL;
    }
    *out = ids;
    return n;
}

/*
 * A client reading a big library asks for every page of the same query at
 * once; scanning a million assets for each page would make the simulator,
 * not the client, the bottleneck.  The sorted match list of the last few
 * queries (body without page, size and cursor) is kept until the next
 * write (enough of them for a client reading in date ranges, with and
 * without EXIF).  Everything here runs under the library mutex.
 */
#define CACHE_SLOTS 128

struct collect_cache {
    char *key;
    uint64_t gen;
    uint64_t used;
    uint32_t *ids;
    size_t n;
};

static struct collect_cache cache[CACHE_SLOTS];
static uint64_t cache_tick;

static char *cache_key(const struct sim_req *r)
{
    json_t *copy = json_deep_copy(r->body);
    char *dump, *key;
    struct buf b = BUF_INIT;

    if (!copy)
        return NULL;
    json_object_del(copy, "page");
    json_object_del(copy, "size");
    json_object_del(copy, "cursor");
    dump = json_dumps(copy, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(copy);
    if (!dump)
        return NULL;
    buf_addf(&b, "%d/%u/%s", r->dialect, (unsigned)r->user, dump);
    free(dump);
    key = buf_detach(&b, NULL);
    return key;
}

/* Sorted matches of q, from the cache when the library has not changed
 * since; the result is the caller's. */
static size_t collect_cached(struct sim_req *r, const struct query *q,
                             uint32_t **out)
{
    struct collect_cache *c, *victim = &cache[0];
    char *key = r->body ? cache_key(r) : NULL;
    size_t i, n;

    if (!key)
        return collect_sorted(r, q, out);
    for (i = 0; i < CACHE_SLOTS; i++) {
        c = &cache[i];
        if (c->key && c->gen == r->lib->gen && !strcmp(c->key, key)) {
            c->used = ++cache_tick;
            *out = xmemdup(c->ids, st_mult(c->n + 1, sizeof(*c->ids)));
            free(key);
            return c->n;
        }
        if (c->used < victim->used)
            victim = c;
    }
    n = collect_sorted(r, q, out);
    free(victim->key);
    free(victim->ids);
    victim->key = key;
    victim->gen = r->lib->gen;
    victim->used = ++cache_tick;
    victim->ids = xmemdup(*out, st_mult(n + 1, sizeof(**out)));
    victim->n = n;
    return n;
}

/* All matching assets in response order; returns the count. */
static size_t collect(struct sim_req *r, const struct query *q, uint32_t **out)
{
    struct sim_lib *lib = r->lib;
    struct sort_ctx sc = {lib, q->order_field, q->asc, 0};
    size_t n = collect_cached(r, q, out), i;
    uint32_t *ids = *out;

    if ((r->dialect < 3 || r->minor < 2) && !q->structured) {
        /* no tie-breaker in 2.x nor in 3.0/3.1 (the id tie-break came
         * during 3.x): equal timestamps reorder per page */
        size_t j;

        sc.page = q->page;
        sort_ctx = &sc;
        for (i = 0; i < n; i = j) {
            int64_t k = lib->assets[ids[i]].file_created_at;

            for (j = i + 1; j < n && lib->assets[ids[j]].file_created_at == k;
                 j++)
                ;
            if (j - i > 1)
                qsort(ids + i, j - i, sizeof(*ids), cmp_tie);
        }
        sort_ctx = NULL;
    }
    return n;
}

void sim_api_search_metadata(struct sim_req *r)
{
    struct query q;
    uint32_t *ids = NULL;
    size_t n, i, end;
    int64_t off;
    bool more;

    if (parse_query(r, &q, false) < 0)
        goto out;
    n = collect(r, &q, &ids);
    off = q.offset;
    end = (size_t)off + (size_t)q.size;
    if (end > n)
        end = n;
    more = (size_t)off + (size_t)q.size < n;
    /* OFFSET: the database walks every matching row before the page */
    r->items_skipped = (size_t)off < n ? (long)off : (long)n;
    buf_addstr(&r->out, "{\"albums\":{\"total\":0,\"count\":0,\"items\":[],"
                        "\"facets\":[]},\"assets\":{");
    buf_addf(&r->out, "\"total\":%zu,\"count\":%zu,\"items\":[",
             (size_t)off < end ? end - (size_t)off : 0,
             (size_t)off < end ? end - (size_t)off : 0);
    for (i = (size_t)off; i < end; i++) {
        bool exif = q.with_exif && r->lib->assets[ids[i]].exif != SIM_NONE;

        if (i > (size_t)off)
            buf_addch(&r->out, ',');
        sim_json_asset(&r->out, r->lib, ids[i], r->dialect,
                       exif ? SIM_J_EXIF : 0, r->user);
        if (exif)
            r->items_exif++;
        else
            r->items_plain++;
    }
    buf_addstr(&r->out, "],\"facets\":[],\"nextPage\":");
    if (more && !q.structured)
        buf_addf(&r->out, "\"%lld\"", (long long)q.page + 1);
    else
        buf_addstr(&r->out, "null");
    if (r->dialect >= 3) {
        buf_addstr(&r->out, ",\"nextCursor\":");
        if (more && q.structured) {
            char js[48];
            int len = snprintf(js, sizeof(js), "{\"o\":%lld}", (long long)end);

            buf_addch(&r->out, '"');
            b64url_encode(&r->out, js, (size_t)len);
            buf_addch(&r->out, '"');
        } else {
            buf_addstr(&r->out, "null");
        }
    }
    buf_addstr(&r->out, "}}");
out:
    free(ids);
    query_release(&q);
}

void sim_api_search_statistics(struct sim_req *r)
{
    struct query q;
    uint32_t *ids = NULL;
    size_t n;

    if (parse_query(r, &q, true) < 0)
        goto out;
    n = collect(r, &q, &ids);
    buf_addf(&r->out, "{\"total\":%zu}", n);
out:
    free(ids);
    query_release(&q);
}
