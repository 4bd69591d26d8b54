/*
 * sim_api_assets.c: asset info and updates, asset statistics.
 *
 * An EXIF edit changes the exif row at once; fileCreatedAt, localDateTime
 * and updatedAt follow when its background jobs finish (sim_jobs.h).
 */
#include "core/timeutil.h"
#include "sim/sim_json.h"
#include "sim/sim_server.h"

static const char *const vis_values[] = {"timeline", "archive", "hidden",
                                         "locked", NULL};

void sim_api_asset_get(struct sim_req *r)
{
    struct uuid id;
    uint32_t a;

    if (sim_param_uuid(r, 0, "id", &id) < 0)
        return;
    a = sim_find_asset(r->lib, &id);
    if (a == SIM_NONE || !sim_can_read_asset(r->lib, r->user, a)) {
        sim_error(r, 400, "Not found or no asset.read access");
        return;
    }
    sim_json_asset(&r->out, r->lib, a, r->dialect,
                   SIM_J_EXIF | SIM_J_TAGS | SIM_J_OWNER, r->user);
    if (r->lib->assets[a].exif != SIM_NONE)
        r->items_exif = 1;
    else
        r->items_plain = 1;
}

/* Offset in minutes of an ISO string's zone suffix; false if none. */
static bool zone_offset(const char *s, int *minutes)
{
    size_t n = strlen(s);
    int h, m;

    if (n && (s[n - 1] == 'Z' || s[n - 1] == 'z')) {
        *minutes = 0;
        return true;
    }
    if (n >= 6 && (s[n - 6] == '+' || s[n - 6] == '-') && s[n - 3] == ':' &&
        sscanf(s + n - 5, "%2d:%2d", &h, &m) == 2) {
        *minutes = (h * 60 + m) * (s[n - 6] == '-' ? -1 : 1);
        return true;
    }
    return false;
}

/* True if body sets any asset_exif column. */
static bool has_exif_fields(json_t *body)
{
    static const char *const keys[] = {
        "dateTimeOriginal", "description", "rating",          "latitude",
        "longitude",        "timeZone",    "dateTimeRelative"};
    size_t i;

    for (i = 0; i < ARRAY_SIZE(keys); i++)
        if (json_object_get(body, keys[i]))
            return true;
    return false;
}

/*
 * Writes body's EXIF fields into asset ai's exif row (created first when
 * create is set).  Returns the enum sim_edit bits of what changed.
 */
static unsigned update_exif(struct sim_lib *lib, uint32_t ai, json_t *body,
                            bool create)
{
    struct sim_asset *a = &lib->assets[ai];
    struct sim_exif *e;
    const char *s;
    json_t *v;
    int off = 0;

    if (a->exif == SIM_NONE) {
        if (!create)
            return 0;
        (void)sim_lib_add_exif(lib, ai);
        a = &lib->assets[ai];
    }
    e = &lib->exifs[a->exif];
    if ((s = json_string_value(json_object_get(body, "description"))))
        e->description = sim_str(lib, s);
    if ((v = json_object_get(body, "rating")))
        e->rating = (int8_t)json_integer_value(v);
    if ((v = json_object_get(body, "latitude")))
        e->latitude = json_number_value(v);
    if ((v = json_object_get(body, "longitude")))
        e->longitude = json_number_value(v);
    if ((s = json_string_value(json_object_get(body, "timeZone"))))
        e->time_zone = sim_str(lib, s);
    s = json_string_value(json_object_get(body, "dateTimeOriginal"));
    if (s) {
        (void)time_parse_iso(s, strlen(s), &e->date_time_original, NULL);
        /* a fixed offset names the zone as luxon does: UTC+2, UTC+5:30 */
        if (zone_offset(s, &off) && s[strlen(s) - 1] != 'Z') {
            char tz[16];
            int m = abs(off);

            if (m % 60)
                (void)snprintf(tz, sizeof(tz), "UTC%c%d:%02d",
                               off < 0 ? '-' : '+', m / 60, m % 60);
            else
                (void)snprintf(tz, sizeof(tz), "UTC%c%d", off < 0 ? '-' : '+',
                               m / 60);
            e->time_zone = sim_str(lib, tz);
        }
    } else if (e->date_time_original == TIME_NONE) {
        e->date_time_original = a->file_created_at;
    }
    if ((v = json_object_get(body, "dateTimeRelative")))
        e->date_time_original += json_integer_value(v) * 60000;
    return s || json_object_get(body, "dateTimeRelative") ? SIM_EDIT_DATE : 0;
}

/*
 * Applies one UpdateAssetDto-like object to asset a.  bulk is PUT /assets
 * (asset.service updateAll): its EXIF write is a plain UPDATE, so an asset
 * without an exif row keeps none, and every id gets a SidecarWrite;
 * PUT /assets/{id} upserts the row and queues the write only when it
 * changed EXIF.  The asset row (favorite, visibility, duplicate) changes
 * at once; the dates follow the EXIF date when the jobs finish.
 */
static void apply_update(struct sim_req *r, uint32_t ai, json_t *body,
                         bool bulk)
{
    struct sim_lib *lib = r->lib;
    struct sim_asset *a = &lib->assets[ai];
    json_t *v;
    int64_t now = sim_now();
    bool row = false, exif = has_exif_fields(body);
    unsigned edit = 0;

    if ((v = json_object_get(body, "isFavorite"))) {
        a->favorite = json_is_true(v);
        row = true;
    }
    if ((v = json_object_get(body, "visibility"))) {
        a->visibility = (uint8_t)sim_visibility_parse(json_string_value(v));
        if (a->visibility == SIM_VIS_LOCKED)
            while (a->albums.nr)
                (void)sim_unlink_album(lib, a->albums.items[0], ai);
        row = true;
    }
    if ((v = json_object_get(body, "duplicateId"))) {
        struct uuid d;

        if (json_is_string(v) &&
            uuid_parse(json_string_value(v), json_string_length(v), &d) == 0)
            a->dup = sim_lib_dup(lib, &d);
        else
            a->dup = SIM_NONE;
        row = true;
    }
    if (exif)
        edit = update_exif(lib, ai, body, !bulk);
    if (bulk || exif)
        sim_jobs_edit(r->jobs, ai, edit, now);
    /* with jobs off the re-extraction's bump happens here, at once */
    if (row || !sim_jobs_on(r->jobs))
        lib->assets[ai].updated_at = now;
    r->wrote = true;
    r->items_written++;
}

static const struct sim_field update_fields[] = {
    {"dateTimeOriginal", FT_STR, false, 0, 0, NULL},
    {"description", FT_STR, false, 0, 0, NULL},
    {"isFavorite", FT_BOOL, false, 0, 0, NULL},
    {"latitude", FT_NUM, false, 0, 0, NULL},
    {"longitude", FT_NUM, false, 0, 0, NULL},
    {"rating", FT_INT, false, -1, 5, NULL},
    {"visibility", FT_STR, false, 0, 0, vis_values},
    {"livePhotoVideoId", FT_NSTR, false, 0, 0, NULL},
    /* bulk only, below this line */
    {"ids", FT_UUIDS, true, 0, 0, NULL},
    {"dateTimeRelative", FT_INT, false, 0, 0, NULL},
    {"timeZone", FT_STR, false, 0, 0, NULL},
    {"duplicateId", FT_NSTR, false, 0, 0, NULL},
};

static int check_date(struct sim_req *r)
{
    const char *s =
        json_string_value(json_object_get(r->body, "dateTimeOriginal"));
    int64_t t;

    if (!s || time_parse_iso(s, strlen(s), &t, NULL) == 0)
        return 0;
    sim_error_validation(r,
                         "dateTimeOriginal must be a valid ISO 8601 date "
                         "string",
                         "{\"code\":\"invalid_format\",\"format\":"
                         "\"datetime\",\"path\":[\"dateTimeOriginal\"],"
                         "\"message\":\"Invalid ISO datetime\"}");
    return -1;
}

void sim_api_asset_update(struct sim_req *r)
{
    struct uuid id;
    uint32_t a;

    if (sim_body_fields(r, update_fields, 8) < 0 || check_date(r) < 0 ||
        sim_param_uuid(r, 0, "id", &id) < 0)
        return;
    a = sim_find_asset(r->lib, &id);
    if (a == SIM_NONE || r->lib->assets[a].owner != r->user) {
        sim_error(r, 400, "Not found or no asset.update access");
        return;
    }
    apply_update(r, a, r->body, false);
    sim_json_asset(&r->out, r->lib, a, r->dialect,
                   SIM_J_EXIF | SIM_J_TAGS | SIM_J_OWNER, r->user);
    r->items_exif++;
}

/*
 * The body's "ids" as asset indexes, all the caller's own (requireAccess
 * is all or nothing: one foreign or unknown id fails the request with
 * the 400 naming perm).  NULL after the error; caller frees.
 */
static uint32_t *own_assets(struct sim_req *r, const char *perm, size_t *n)
{
    struct uuid *ids;
    uint32_t *idx;
    size_t i;

    *n = sim_uuid_list(json_object_get(r->body, "ids"), &ids);
    idx = xmalloc(st_mult(*n + 1, sizeof(*idx)));
    for (i = 0; i < *n; i++) {
        idx[i] = sim_find_asset(r->lib, &ids[i]);
        if (idx[i] == SIM_NONE || r->lib->assets[idx[i]].owner != r->user) {
            sim_error(r, 400, "Not found or no %s access", perm);
            free(idx);
            idx = NULL;
            break;
        }
    }
    free(ids);
    return idx;
}

void sim_api_assets_update(struct sim_req *r)
{
    uint32_t *idx;
    size_t n, i;

    if (sim_body_fields(r, update_fields, ARRAY_SIZE(update_fields)) < 0 ||
        check_date(r) < 0 || !(idx = own_assets(r, "asset.update", &n)))
        return;
    for (i = 0; i < n; i++)
        apply_update(r, idx[i], r->body, true);
    r->status = 204;
    free(idx);
}

void sim_api_assets_statistics(struct sim_req *r)
{
    struct sim_lib *lib = r->lib;
    int trashed = sim_query_bool(r, "isTrashed");
    int fav = sim_query_bool(r, "isFavorite");
    const char *vs = sim_query(r, "visibility");
    int vis = vs ? sim_visibility_parse(vs) : -1;
    long images = 0, videos = 0, total = 0;
    size_t i;

    if (vs && vis < 0) {
        sim_error_validation(r, "visibility must be a valid enum value",
                             "{\"code\":\"invalid_value\",\"path\":"
                             "[\"visibility\"],\"message\":\"Invalid "
                             "option\"}");
        return;
    }
    for (i = 0; i < lib->assets_nr; i++) {
        const struct sim_asset *a = &lib->assets[i];

        if (a->owner != r->user)
            continue;
        if ((a->deleted_at != TIME_NONE) != (trashed == 1))
            continue;
        if (vis < 0 ? !(a->visibility == SIM_VIS_TIMELINE ||
                        a->visibility == SIM_VIS_ARCHIVE)
                    : a->visibility != vis)
            continue;
        if (fav >= 0 && a->favorite != (fav == 1))
            continue;
        total++;
        if (a->type == SIM_TYPE_VIDEO)
            videos++;
        else if (a->type == SIM_TYPE_IMAGE)
            images++;
    }
    buf_addf(&r->out, "{\"images\":%ld,\"videos\":%ld,\"total\":%ld}", images,
             videos, total);
}

/*
 * An asset left its albums' live members (trash, hide): a thumbnail that
 * pointed at it is replaced, as updateThumbnails() does at the next album
 * read, and that UPDATE bumps the album's updatedAt.  Nothing else about
 * the album moves.
 */
static void repair_thumbnails(struct sim_lib *lib, uint32_t ai, int64_t now)
{
    const struct sim_asset *a = &lib->assets[ai];
    uint32_t i, k;

    for (i = 0; i < a->albums.nr; i++) {
        struct sim_album *al = &lib->albums[a->albums.items[i]];

        if (al->thumb != ai)
            continue;
        al->thumb = SIM_NONE;
        for (k = 0; k < al->assets.nr; k++) {
            if (sim_asset_counts(&lib->assets[al->assets.items[k]])) {
                al->thumb = al->assets.items[k];
                break;
            }
        }
        al->updated_at = now;
    }
}

/*
 * DELETE /assets {ids, force}: asset.service deleteAll, an UPDATE of
 * deletedAt (so updatedAt moves too); all or nothing on access.  force
 * deletes for good (the asset cannot be restored).
 */
void sim_api_assets_delete(struct sim_req *r)
{
    static const struct sim_field fields[] = {
        {"ids", FT_UUIDS, true, 0, 0, NULL},
        {"force", FT_BOOL, false, 0, 0, NULL},
    };
    uint32_t *idx;
    size_t n, i;
    int64_t now = sim_now();
    bool force;

    if (sim_body_fields(r, fields, ARRAY_SIZE(fields)) < 0 ||
        !(idx = own_assets(r, "asset.delete", &n)))
        return;
    force = json_is_true(json_object_get(r->body, "force"));
    for (i = 0; i < n; i++) {
        struct sim_asset *a = &r->lib->assets[idx[i]];

        if (a->deleted_at == TIME_NONE)
            a->deleted_at = now;
        a->purged |= force;
        a->updated_at = now;
        repair_thumbnails(r->lib, idx[i], now);
        r->items_written++;
    }
    r->lib->order_dirty = true;
    r->wrote = n > 0;
    r->status = 204;
    free(idx);
}

/* Restores asset ai if it is in the trash; true if it was. */
static bool restore(struct sim_lib *lib, uint32_t ai, int64_t now)
{
    struct sim_asset *a = &lib->assets[ai];

    if (a->deleted_at == TIME_NONE || a->purged)
        return false;
    a->deleted_at = TIME_NONE;
    /* trash.repository restore is an UPDATE asset: the updatedAt trigger
     * makes the restored asset its albums' newest member */
    a->updated_at = now;
    return true;
}

/* POST /trash/restore: every trashed asset of the caller; {count}. */
void sim_api_trash_restore(struct sim_req *r)
{
    int64_t now = sim_now();
    long count = 0;
    size_t i;

    for (i = 0; i < r->lib->assets_nr; i++)
        if (r->lib->assets[i].owner == r->user &&
            restore(r->lib, (uint32_t)i, now))
            count++;
    r->lib->order_dirty = true;
    r->wrote = count > 0;
    r->items_written = count;
    buf_addf(&r->out, "{\"count\":%ld}", count);
}

/* POST /trash/restore/assets {ids}: those of them in the trash; {count}. */
void sim_api_trash_restore_assets(struct sim_req *r)
{
    static const struct sim_field fields[] = {
        {"ids", FT_UUIDS, true, 0, 0, NULL},
    };
    struct uuid *ids;
    int64_t now = sim_now();
    long count = 0;
    size_t n, i;

    if (sim_body_fields(r, fields, ARRAY_SIZE(fields)) < 0)
        return;
    n = sim_uuid_list(json_object_get(r->body, "ids"), &ids);
    for (i = 0; i < n; i++) {
        uint32_t a = sim_find_asset(r->lib, &ids[i]);

        if (a != SIM_NONE && r->lib->assets[a].owner == r->user &&
            restore(r->lib, a, now))
            count++;
    }
    free(ids);
    r->lib->order_dirty = true;
    r->wrote = count > 0;
    r->items_written = count;
    buf_addf(&r->out, "{\"count\":%ld}", count);
}
