/*
 * sim_json.c: writes Immich DTOs from the store, dumps the library and
 * loads a library file.  Writers append to a struct buf without building
 * JSON trees: the 1m preset serialises hundreds of megabytes.
 */
#include "core/timeutil.h"
#include "sim/sim_json.h"

#include <jansson.h>
#include <math.h>

static const char *const vis_names[] = {"timeline", "archive", "hidden",
                                        "locked"};
static const char *const type_names[] = {"IMAGE", "VIDEO", "AUDIO", "OTHER"};

const char *sim_visibility_name(int v)
{
    if (v < 0 || (size_t)v >= ARRAY_SIZE(vis_names))
        return "timeline";
    return vis_names[v];
}

int sim_visibility_parse(const char *s)
{
    size_t i;

    for (i = 0; i < ARRAY_SIZE(vis_names); i++)
        if (!strcmp(vis_names[i], s))
            return (int)i;
    return -1;
}

void sim_json_bulk(struct buf *b, bool first, const struct uuid *id,
                   const char *error)
{
    buf_addstr(b, first ? "{\"id\":" : ",{\"id\":");
    buf_add_json_uuid(b, id);
    if (error)
        buf_addf(b, ",\"success\":false,\"error\":\"%s\"}", error);
    else
        buf_addstr(b, ",\"success\":true}");
}

void sim_json_time(struct buf *b, int64_t ms)
{
    char s[32];

    if (ms == TIME_NONE) {
        buf_addstr(b, "null");
        return;
    }
    time_format_iso(ms, s);
    buf_addf(b, "\"%s\"", s);
}

void sim_json_key_time(struct buf *b, const char *key, int64_t ms)
{
    buf_addstr(b, key);
    sim_json_time(b, ms);
}

void sim_json_key_str(struct buf *b, const struct sim_lib *lib, const char *key,
                      uint32_t id)
{
    buf_addstr(b, key);
    sim_json_str(b, lib, id);
}

void sim_json_str(struct buf *b, const struct sim_lib *lib, uint32_t id)
{
    const char *s = sim_cstr(lib, id);

    buf_add_json_str(b, s, strlen(s));
}

/* A nullable interned string: id 0 is null. */
static void add_nstr(struct buf *b, const struct sim_lib *lib, uint32_t id)
{
    if (!id)
        buf_addstr(b, "null");
    else
        sim_json_str(b, lib, id);
}

static void add_num(struct buf *b, double v)
{
    if (isnan(v))
        buf_addstr(b, "null");
    else
        buf_addf(b, "%.6f", v);
}

/* 20 pseudo-random bytes of an id, base64: Immich's SHA-1 checksum form. */
static void add_b64_of(struct buf *b, const struct uuid *u, uint64_t salt,
                       size_t nbytes)
{
    static const char tbl[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint8_t raw[30];
    uint64_t st = uuid_hash(u) ^ salt;
    size_t i;

    for (i = 0; i < nbytes; i += 8) {
        uint64_t r = splitmix64(&st);

        memcpy(raw + i, &r, nbytes - i < 8 ? nbytes - i : 8);
    }
    buf_addch(b, '"');
    for (i = 0; i + 2 < nbytes; i += 3) {
        uint32_t v =
            (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 | raw[i + 2];

        buf_addch(b, tbl[v >> 18 & 63]);
        buf_addch(b, tbl[v >> 12 & 63]);
        buf_addch(b, tbl[v >> 6 & 63]);
        buf_addch(b, tbl[v & 63]);
    }
    if (nbytes % 3 == 2) {
        uint32_t v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8;

        buf_addch(b, tbl[v >> 18 & 63]);
        buf_addch(b, tbl[v >> 12 & 63]);
        buf_addch(b, tbl[v >> 6 & 63]);
        buf_addch(b, '=');
    }
    buf_addch(b, '"');
}

void sim_json_user(struct buf *b, const struct sim_lib *lib, uint32_t user)
{
    const struct sim_user *u = &lib->users[user];

    buf_addstr(b, "{\"id\":");
    buf_add_json_uuid(b, &u->id);
    sim_json_key_str(b, lib, ",\"name\":", u->name);
    sim_json_key_str(b, lib, ",\"email\":", u->email);
    buf_addstr(b, ",\"avatarColor\":\"primary\",\"profileImagePath\":\"\","
                  "\"profileChangedAt\":");
    sim_json_time(b, u->created_at);
    buf_addch(b, '}');
}

void sim_json_user_admin(struct buf *b, const struct sim_lib *lib,
                         uint32_t user, int dialect)
{
    const struct sim_user *u = &lib->users[user];

    buf_addstr(b, "{\"id\":");
    buf_add_json_uuid(b, &u->id);
    sim_json_key_str(b, lib, ",\"email\":", u->email);
    sim_json_key_str(b, lib, ",\"name\":", u->name);
    buf_addf(b,
             ",\"isAdmin\":%s,\"createdAt\":", u->is_admin ? "true" : "false");
    sim_json_time(b, u->created_at);
    sim_json_key_time(b, ",\"updatedAt\":", u->created_at);
    buf_addstr(b, ",\"deletedAt\":null,\"status\":\"active\","
                  "\"storageLabel\":null,\"quotaSizeInBytes\":null,"
                  "\"quotaUsageInBytes\":0,\"shouldChangePassword\":false,"
                  "\"oauthId\":\"\",\"avatarColor\":\"primary\","
                  "\"profileImagePath\":\"\",\"profileChangedAt\":");
    sim_json_time(b, u->created_at);
    buf_addstr(b, ",\"license\":null");
    if (dialect >= 3) {
        /* 3.2's user.clusterGroupId is a NOT NULL uuid (each user is in
         * a cluster group); the sim derives one from the user's id */
        struct uuid g = u->id;
        size_t i;

        for (i = 0; i < sizeof(g.b); i++)
            g.b[i] ^= 0x5a;
        g.b[6] = (uint8_t)((g.b[6] & 0x0f) | 0x40);
        g.b[8] = (uint8_t)((g.b[8] & 0x3f) | 0x80);
        buf_addstr(b, ",\"clusterGroupId\":");
        buf_add_json_uuid(b, &g);
    }
    buf_addch(b, '}');
}

void sim_json_tag(struct buf *b, const struct sim_lib *lib, uint32_t tag)
{
    const struct sim_tag *t = &lib->tags[tag];
    const char *value = sim_cstr(lib, t->value);
    const char *name = strrchr(value, '/');

    name = name ? name + 1 : value;
    buf_addstr(b, "{\"id\":");
    buf_add_json_uuid(b, &t->id);
    buf_addstr(b, ",\"name\":");
    buf_add_json_str(b, name, strlen(name));
    buf_addstr(b, ",\"value\":");
    buf_add_json_str(b, value, strlen(value));
    if (t->parent != SIM_NONE) {
        buf_addstr(b, ",\"parentId\":");
        buf_add_json_uuid(b, &lib->tags[t->parent].id);
    }
    if (t->color) {
        sim_json_key_str(b, lib, ",\"color\":", t->color);
    }
    sim_json_key_time(b, ",\"createdAt\":", t->created_at);
    sim_json_key_time(b, ",\"updatedAt\":", t->updated_at);
    buf_addch(b, '}');
}

void sim_json_exif(struct buf *b, const struct sim_lib *lib, uint32_t asset)
{
    const struct sim_asset *a = &lib->assets[asset];
    const struct sim_exif *e = &lib->exifs[a->exif];

    buf_addstr(b, "{\"make\":");
    add_nstr(b, lib, e->make);
    buf_addstr(b, ",\"model\":");
    add_nstr(b, lib, e->model);
    buf_addf(b,
             ",\"exifImageWidth\":%u,\"exifImageHeight\":%u,"
             "\"fileSizeInByte\":%u,\"orientation\":\"1\","
             "\"dateTimeOriginal\":",
             (unsigned)e->width, (unsigned)e->height, (unsigned)e->file_size);
    sim_json_time(b, e->date_time_original);
    sim_json_key_time(b, ",\"modifyDate\":", a->file_modified_at);
    buf_addstr(b, ",\"timeZone\":");
    add_nstr(b, lib, e->time_zone);
    buf_addstr(b, ",\"lensModel\":");
    add_nstr(b, lib, e->lens);
    if (e->f_number10)
        buf_addf(b,
                 ",\"fNumber\":%.1f,\"focalLength\":%u,\"iso\":%u,"
                 "\"exposureTime\":\"1/125\"",
                 e->f_number10 / 10.0, (unsigned)e->focal_length,
                 (unsigned)e->iso);
    else
        buf_addstr(b, ",\"fNumber\":null,\"focalLength\":null,\"iso\":null,"
                      "\"exposureTime\":null");
    buf_addstr(b, ",\"latitude\":");
    add_num(b, e->latitude);
    buf_addstr(b, ",\"longitude\":");
    add_num(b, e->longitude);
    buf_addstr(b, ",\"city\":");
    add_nstr(b, lib, e->city);
    buf_addstr(b, ",\"state\":");
    add_nstr(b, lib, e->state);
    buf_addstr(b, ",\"country\":");
    add_nstr(b, lib, e->country);
    buf_addstr(b, ",\"description\":");
    if (e->description)
        sim_json_str(b, lib, e->description);
    else
        buf_addstr(b, "\"\"");
    buf_addstr(b, ",\"projectionType\":null,\"rating\":");
    if (e->rating < 0)
        buf_addstr(b, "null");
    else
        buf_addf(b, "%d", e->rating);
    buf_addch(b, '}');
}

static const char *mime_of(const char *name, int type)
{
    const char *dot = strrchr(name, '.');

    if (dot && (!strcmp(dot, ".png") || !strcmp(dot, ".PNG")))
        return "image/png";
    if (dot && (!strcmp(dot, ".heic") || !strcmp(dot, ".HEIC")))
        return "image/heic";
    if (type == SIM_TYPE_VIDEO)
        return "video/mp4";
    return "image/jpeg";
}

void sim_json_asset(struct buf *b, const struct sim_lib *lib, uint32_t asset,
                    int dialect, unsigned flags, uint32_t viewer)
{
    const struct sim_asset *a = &lib->assets[asset];
    const char *fname = sim_cstr(lib, a->file_name);
    bool video = a->type == SIM_TYPE_VIDEO;
    uint32_t i;

    buf_addstr(b, "{\"id\":");
    buf_add_json_uuid(b, &a->id);
    buf_addstr(b, ",\"ownerId\":");
    buf_add_json_uuid(b, &lib->users[a->owner].id);
    if (flags & SIM_J_OWNER) {
        buf_addstr(b, ",\"owner\":");
        sim_json_user(b, lib, a->owner);
    }
    if (dialect < 3) {
        buf_addstr(b, ",\"deviceAssetId\":");
        buf_add_json_str(b, fname, strlen(fname));
        buf_addstr(b, ",\"deviceId\":\"immich-sim\"");
    }
    buf_addf(b, ",\"libraryId\":null,\"type\":\"%s\",\"originalPath\":",
             type_names[a->type & 3]);
    if (a->dir != SIM_NONE) {
        struct buf p = BUF_INIT;

        buf_addstr(&p, sim_cstr(lib, a->dir));
        buf_addch(&p, '/');
        buf_addstr(&p, sim_cstr(lib, a->base));
        buf_add_json_str(b, p.buf, p.len);
        buf_release(&p);
    } else {
        sim_json_str(b, lib, a->base);
    }
    buf_addstr(b, ",\"originalFileName\":");
    buf_add_json_str(b, fname, strlen(fname));
    buf_addf(b, ",\"originalMimeType\":\"%s\",\"thumbhash\":",
             mime_of(fname, a->type));
    add_b64_of(b, &a->id, 0x7468756d62ULL, 18);
    sim_json_key_time(b, ",\"fileCreatedAt\":", a->file_created_at);
    sim_json_key_time(b, ",\"fileModifiedAt\":", a->file_modified_at);
    sim_json_key_time(b, ",\"localDateTime\":", a->local_date_time);
    sim_json_key_time(b, ",\"createdAt\":", a->created_at);
    sim_json_key_time(b, ",\"updatedAt\":", a->updated_at);
    buf_addf(b,
             ",\"isFavorite\":%s,\"isArchived\":%s,\"isTrashed\":%s,"
             "\"isOffline\":false,\"isEdited\":false,\"visibility\":\"%s\","
             "\"hasMetadata\":true,\"resized\":true",
             a->favorite && a->owner == viewer ? "true" : "false",
             a->visibility == SIM_VIS_ARCHIVE ? "true" : "false",
             a->deleted_at != TIME_NONE ? "true" : "false",
             sim_visibility_name(a->visibility));
    if (a->exif != SIM_NONE)
        buf_addf(b, ",\"width\":%u,\"height\":%u",
                 (unsigned)lib->exifs[a->exif].width,
                 (unsigned)lib->exifs[a->exif].height);
    else
        buf_addstr(b, ",\"width\":null,\"height\":null");
    if (dialect < 3)
        buf_addf(b, ",\"duration\":\"%s\"",
                 video ? "0:00:12.480000" : "0:00:00.00000");
    else
        buf_addf(b, ",\"duration\":%s", video ? "12480" : "null");
    buf_addstr(b, ",\"livePhotoVideoId\":null,\"checksum\":");
    add_b64_of(b, &a->id, 0x636865636bULL, 20);
    if (a->dup != SIM_NONE) {
        buf_addstr(b, ",\"duplicateId\":");
        buf_add_json_uuid(b, &lib->dups[a->dup]);
    } else {
        buf_addstr(b, ",\"duplicateId\":null");
    }
    if ((flags & SIM_J_EXIF) && a->exif != SIM_NONE) {
        buf_addstr(b, ",\"exifInfo\":");
        sim_json_exif(b, lib, asset);
    }
    if (flags & SIM_J_TAGS) {
        buf_addstr(b, ",\"tags\":[");
        for (i = 0; i < a->tags.nr; i++) {
            if (i)
                buf_addch(b, ',');
            sim_json_tag(b, lib, a->tags.items[i]);
        }
        buf_addch(b, ']');
    }
    buf_addstr(b, ",\"people\":[]");
    if (dialect < 3)
        buf_addstr(b, ",\"unassignedFaces\":[]");
    buf_addch(b, '}');
}

bool sim_asset_counts(const struct sim_asset *a)
{
    return a->deleted_at == TIME_NONE && (a->visibility == SIM_VIS_TIMELINE ||
                                          a->visibility == SIM_VIS_ARCHIVE);
}

static const struct sim_lib *album_sort_lib; /* under the library mutex */

static int cmp_created_desc(const void *pa, const void *pb)
{
    const struct sim_asset *a = &album_sort_lib->assets[*(const uint32_t *)pa];
    const struct sim_asset *b = &album_sort_lib->assets[*(const uint32_t *)pb];

    if (a->file_created_at != b->file_created_at)
        return a->file_created_at < b->file_created_at ? 1 : -1;
    return uuid_cmp(&a->id, &b->id);
}

void sim_json_album_fields(struct buf *b, const struct sim_lib *lib,
                           const struct sim_album *al)
{
    sim_json_key_str(b, lib, ",\"albumName\":", al->name);
    sim_json_key_str(b, lib, ",\"description\":", al->description);
    sim_json_key_time(b, ",\"createdAt\":", al->created_at);
    sim_json_key_time(b, ",\"updatedAt\":", al->updated_at);
    buf_addstr(b, ",\"albumThumbnailAssetId\":");
    if (al->thumb != SIM_NONE)
        buf_add_json_uuid(b, &lib->assets[al->thumb].id);
    else
        buf_addstr(b, "null");
}

void sim_json_album(struct buf *b, const struct sim_lib *lib, uint32_t album,
                    int dialect, unsigned flags, uint32_t viewer,
                    long *exif_items)
{
    const struct sim_album *al = &lib->albums[album];
    int64_t start = INT64_MAX, end = INT64_MIN, last_mod = INT64_MIN;
    uint32_t count = 0, i;
    char d[16];

    for (i = 0; i < al->assets.nr; i++) {
        const struct sim_asset *a = &lib->assets[al->assets.items[i]];

        if (!sim_asset_counts(a))
            continue;
        count++;
        if (a->local_date_time < start)
            start = a->local_date_time;
        if (a->local_date_time > end)
            end = a->local_date_time;
        if (a->updated_at > last_mod)
            last_mod = a->updated_at;
    }
    buf_addstr(b, "{\"id\":");
    buf_add_json_uuid(b, &al->id);
    sim_json_album_fields(b, lib, al);
    if (dialect < 3) {
        buf_addstr(b, ",\"ownerId\":");
        buf_add_json_uuid(b, &lib->users[al->owner].id);
        buf_addstr(b, ",\"owner\":");
        sim_json_user(b, lib, al->owner);
    }
    buf_addstr(b, ",\"albumUsers\":[");
    if (dialect >= 3) {
        buf_addstr(b, "{\"user\":");
        sim_json_user(b, lib, al->owner);
        buf_addstr(b, ",\"role\":\"owner\"}");
    }
    for (i = 0; i < al->members_nr; i++) {
        if (i || dialect >= 3)
            buf_addch(b, ',');
        buf_addstr(b, "{\"user\":");
        sim_json_user(b, lib, al->members[i].user);
        buf_addf(b, ",\"role\":\"%s\"}",
                 al->members[i].role == SIM_ROLE_EDITOR ? "editor" : "viewer");
    }
    buf_addf(b, "],\"shared\":%s,\"hasSharedLink\":false,\"assetCount\":%u",
             al->members_nr ? "true" : "false", count);
    if (count) {
        time_format_date(start, d);
        buf_addf(b, ",\"startDate\":\"%sT00:00:00.000Z\"", d);
        time_format_date(end, d);
        buf_addf(b, ",\"endDate\":\"%sT00:00:00.000Z\"", d);
        if (!(flags & SIM_JA_NO_LAST)) {
            sim_json_key_time(b, ",\"lastModifiedAssetTimestamp\":", last_mod);
        }
    }
    buf_addf(b, ",\"isActivityEnabled\":%s,\"order\":\"%s\"",
             al->activity ? "true" : "false", al->order_asc ? "asc" : "desc");
    if (dialect < 3) {
        buf_addstr(b, ",\"assets\":[");
        if (flags & SIM_JA_ASSETS) {
            uint32_t *ids = xmalloc(st_mult(al->assets.nr + 1, 4));
            uint32_t n = 0;

            for (i = 0; i < al->assets.nr; i++)
                if (sim_asset_counts(&lib->assets[al->assets.items[i]]))
                    ids[n++] = al->assets.items[i];
            album_sort_lib = lib;
            qsort(ids, n, sizeof(*ids), cmp_created_desc);
            album_sort_lib = NULL;
            for (i = 0; i < n; i++) {
                if (i)
                    buf_addch(b, ',');
                sim_json_asset(b, lib, ids[i], dialect, SIM_J_EXIF, viewer);
            }
            if (exif_items)
                *exif_items += n;
            free(ids);
        }
        buf_addch(b, ']');
    }
    buf_addch(b, '}');
}
