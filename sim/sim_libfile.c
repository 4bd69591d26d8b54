/*
 * sim_libfile.c: the library file format (see sim_json.h): dump for
 * --save-library and GET /__sim/state, load for --library.
 *
 * The dump is deterministic: records in index order, keys in a fixed
 * order, so two libraries generated from the same seed dump to the same
 * bytes.
 */
#include "core/timeutil.h"
#include "sim/sim_json.h"

#include <jansson.h>
#include <math.h>

enum record { REC_USER, REC_TAG, REC_ALBUM, REC_ASSET };

/* The ids of the records of kind k that v indexes, comma-separated. */
static void id_list(struct buf *b, const struct sim_lib *lib, enum record k,
                    const struct u32vec *v)
{
    for (size_t j = 0; j < v->nr; j++) {
        uint32_t i = v->items[j];

        if (j)
            buf_addch(b, ',');
        buf_add_json_uuid(b, k == REC_USER    ? &lib->users[i].id
                             : k == REC_TAG   ? &lib->tags[i].id
                             : k == REC_ALBUM ? &lib->albums[i].id
                                              : &lib->assets[i].id);
    }
}

/*
 * One asset in the library-file format (--save-library and GET
 * /__sim/state): every field the loader reads back, with its EXIF data;
 * with `state`, also the albums that hold it, which tests read but the
 * loader derives from the albums.
 */
static void dump_asset(struct buf *b, const struct sim_lib *lib, uint32_t i,
                       bool state)
{
    const struct sim_asset *a = &lib->assets[i];

    buf_addstr(b, "{\"id\":");
    buf_add_json_uuid(b, &a->id);
    buf_addstr(b, ",\"ownerId\":");
    buf_add_json_uuid(b, &lib->users[a->owner].id);
    buf_addf(b, ",\"type\":\"%s\",\"originalPath\":",
             a->type == SIM_TYPE_VIDEO   ? "VIDEO"
             : a->type == SIM_TYPE_AUDIO ? "AUDIO"
             : a->type == SIM_TYPE_OTHER ? "OTHER"
                                         : "IMAGE");
    if (a->dir != SIM_NONE) {
        struct buf p = BUF_INIT;

        buf_addf(&p, "%s/%s", sim_cstr(lib, a->dir), sim_cstr(lib, a->base));
        buf_add_json_str(b, p.buf, p.len);
        buf_release(&p);
    } else {
        sim_json_str(b, lib, a->base);
    }
    sim_json_key_str(b, lib, ",\"originalFileName\":", a->file_name);
    sim_json_key_time(b, ",\"fileCreatedAt\":", a->file_created_at);
    sim_json_key_time(b, ",\"fileModifiedAt\":", a->file_modified_at);
    sim_json_key_time(b, ",\"localDateTime\":", a->local_date_time);
    sim_json_key_time(b, ",\"createdAt\":", a->created_at);
    sim_json_key_time(b, ",\"updatedAt\":", a->updated_at);
    sim_json_key_time(b, ",\"deletedAt\":", a->deleted_at);
    buf_addf(b, ",\"visibility\":\"%s\",\"isFavorite\":%s,\"duplicateId\":",
             sim_visibility_name(a->visibility),
             a->favorite ? "true" : "false");
    if (a->dup != SIM_NONE)
        buf_add_json_uuid(b, &lib->dups[a->dup]);
    else
        buf_addstr(b, "null");
    if (a->read_only)
        buf_addstr(b, ",\"readOnly\":true");
    buf_addstr(b, ",\"tagIds\":[");
    id_list(b, lib, REC_TAG, &a->tags);
    buf_addch(b, ']');
    if (state) {
        buf_addstr(b, ",\"albumIds\":[");
        id_list(b, lib, REC_ALBUM, &a->albums);
        buf_addch(b, ']');
    }
    buf_addstr(b, ",\"exifInfo\":");
    if (a->exif != SIM_NONE)
        sim_json_exif(b, lib, i);
    else
        buf_addstr(b, "null");
    buf_addch(b, '}');
}

void sim_lib_dump(struct buf *b, const struct sim_lib *lib, bool state)
{
    size_t i;
    uint32_t j;
    int p;

    buf_addstr(b, "{\"format\":\"immich-sim-library/1\",\"users\":[");
    for (i = 0; i < lib->users_nr; i++) {
        const struct sim_user *u = &lib->users[i];
        bool first = true;

        buf_addstr(b, i ? ",\n{\"id\":" : "\n{\"id\":");
        buf_add_json_uuid(b, &u->id);
        sim_json_key_str(b, lib, ",\"email\":", u->email);
        sim_json_key_str(b, lib, ",\"name\":", u->name);
        buf_addf(b, ",\"isAdmin\":%s,\"partners\":[",
                 u->is_admin ? "true" : "false");
        id_list(b, lib, REC_USER, &u->partners);
        buf_addstr(b, "],\"apiKeys\":[");
        for (j = 0; j < lib->keys_nr; j++) {
            const struct sim_key *k = &lib->keys[j];
            bool pfirst = true;

            if (k->user != i)
                continue;
            buf_addstr(b, first ? "{\"key\":" : ",{\"key\":");
            first = false;
            sim_json_str(b, lib, k->secret);
            sim_json_key_str(b, lib, ",\"name\":", k->name);
            buf_addstr(b, ",\"permissions\":[");
            if (k->all) {
                buf_addstr(b, "\"all\"");
                pfirst = false;
            }
            for (p = 0; sim_perm_name(p); p++) {
                if (!(k->perms >> p & 1))
                    continue;
                if (!pfirst)
                    buf_addch(b, ',');
                pfirst = false;
                buf_addf(b, "\"%s\"", sim_perm_name(p));
            }
            buf_addstr(b, "]}");
        }
        buf_addstr(b, "]}");
    }
    buf_addstr(b, "],\"tags\":[");
    for (i = 0, j = 0; i < lib->tags_nr; i++) {
        const struct sim_tag *t = &lib->tags[i];

        if (t->deleted)
            continue;
        buf_addstr(b, j++ ? ",\n{\"id\":" : "\n{\"id\":");
        buf_add_json_uuid(b, &t->id);
        buf_addstr(b, ",\"ownerId\":");
        buf_add_json_uuid(b, &lib->users[t->owner].id);
        sim_json_key_str(b, lib, ",\"value\":", t->value);
        buf_addstr(b, ",\"parentId\":");
        if (t->parent != SIM_NONE)
            buf_add_json_uuid(b, &lib->tags[t->parent].id);
        else
            buf_addstr(b, "null");
        buf_addstr(b, ",\"color\":");
        if (t->color)
            sim_json_str(b, lib, t->color);
        else
            buf_addstr(b, "null");
        sim_json_key_time(b, ",\"createdAt\":", t->created_at);
        sim_json_key_time(b, ",\"updatedAt\":", t->updated_at);
        buf_addch(b, '}');
    }
    buf_addstr(b, "],\"albums\":[");
    for (i = 0, j = 0; i < lib->albums_nr; i++) {
        const struct sim_album *al = &lib->albums[i];
        uint32_t k;

        if (al->deleted)
            continue;
        buf_addstr(b, j++ ? ",\n{\"id\":" : "\n{\"id\":");
        buf_add_json_uuid(b, &al->id);
        buf_addstr(b, ",\"ownerId\":");
        buf_add_json_uuid(b, &lib->users[al->owner].id);
        sim_json_album_fields(b, lib, al);
        buf_addstr(b, ",\"albumUsers\":[");
        for (k = 0; k < al->members_nr; k++) {
            buf_addstr(b, k ? ",{\"userId\":" : "{\"userId\":");
            buf_add_json_uuid(b, &lib->users[al->members[k].user].id);
            buf_addf(b, ",\"role\":\"%s\"}",
                     al->members[k].role == SIM_ROLE_EDITOR ? "editor"
                                                            : "viewer");
        }
        buf_addstr(b, "],\"assetIds\":[");
        id_list(b, lib, REC_ASSET, &al->assets);
        buf_addstr(b, "]}");
    }
    buf_addstr(b, "],\"assets\":[");
    for (i = 0; i < lib->assets_nr; i++) {
        buf_addstr(b, i ? ",\n" : "\n");
        dump_asset(b, lib, (uint32_t)i, state);
    }
    buf_addstr(b, "],");
    if (!lib->public_users)
        buf_addstr(b, "\"server\":{\"publicUsers\":false},");
    buf_addstr(b, "\"expected\":{");
    for (i = 0; i < lib->expect_nr; i++)
        buf_addf(b, "%s\"%s\":%ld", i ? "," : "", lib->expect[i].name,
                 lib->expect[i].value);
    buf_addstr(b, "}}\n");
}

/* ---- loading ---- */

struct loader {
    struct sim_lib *lib;
    struct buf *err;
};

static int get_uuid(struct loader *ld, json_t *o, const char *key,
                    struct uuid *out, bool nullable, bool *present)
{
    json_t *v = json_object_get(o, key);
    const char *s;

    if (present)
        *present = false;
    if (!v || json_is_null(v)) {
        if (nullable)
            return 0;
        buf_addf(ld->err, "missing \"%s\"", key);
        return -1;
    }
    s = json_string_value(v);
    if (!s || uuid_parse(s, strlen(s), out) < 0) {
        buf_addf(ld->err, "\"%s\" is not a UUID", key);
        return -1;
    }
    if (present)
        *present = true;
    return 0;
}

/*
 * The record an id of the file names, found by find (sim_find_user, _tag,
 * _asset); SIM_NONE, with what as the error, when v is no UUID or names
 * none.
 */
static uint32_t known_id(struct loader *ld, json_t *v,
                         uint32_t (*find)(const struct sim_lib *,
                                          const struct uuid *),
                         const char *what)
{
    const char *s = json_string_value(v);
    struct uuid id;
    uint32_t i;

    if (!s || uuid_parse(s, strlen(s), &id) < 0 ||
        (i = find(ld->lib, &id)) == SIM_NONE) {
        buf_addstr(ld->err, what);
        return SIM_NONE;
    }
    return i;
}

static const char *get_str(json_t *o, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s ? s : dflt;
}

static int get_time(struct loader *ld, json_t *o, const char *key, int64_t *out,
                    int64_t dflt)
{
    const char *s = json_string_value(json_object_get(o, key));

    if (!s) {
        *out = dflt;
        return 0;
    }
    if (time_parse_iso(s, strlen(s), out, NULL) < 0) {
        buf_addf(ld->err, "\"%s\": bad date '%s'", key, s);
        return -1;
    }
    return 0;
}

static uint32_t user_ref(struct loader *ld, json_t *o, const char *key)
{
    struct uuid id;
    uint32_t u;

    if (get_uuid(ld, o, key, &id, false, NULL) < 0)
        return SIM_NONE;
    u = sim_find_user(ld->lib, &id);
    if (u == SIM_NONE)
        buf_addf(ld->err, "\"%s\" names an unknown user", key);
    return u;
}

/*
 * The library file's users, with their partners and API keys (each key's
 * permissions checked against the names Immich knows), so a test can plant
 * users whose keys hold exactly some permissions.
 */
static int load_users(struct loader *ld, json_t *users)
{
    size_t i, j, k;
    json_t *u, *kv, *p;

    json_array_foreach(users, i, u)
    {
        struct uuid id;
        uint32_t ui;

        if (get_uuid(ld, u, "id", &id, false, NULL) < 0)
            return -1;
        ui = sim_lib_add_user(ld->lib, &id, get_str(u, "email", ""),
                              get_str(u, "name", ""),
                              json_is_true(json_object_get(u, "isAdmin")));
        json_array_foreach(json_object_get(u, "apiKeys"), j, kv)
        {
            uint32_t ki = sim_lib_add_key(ld->lib, ui, get_str(kv, "key", ""),
                                          get_str(kv, "name", "key"));
            struct sim_key *key = &ld->lib->keys[ki];

            if (!key->secret) {
                buf_addstr(ld->err, "api key without \"key\"");
                return -1;
            }
            json_array_foreach(json_object_get(kv, "permissions"), k, p)
            {
                const char *s = json_string_value(p);
                int bit;

                if (s && !strcmp(s, "all")) {
                    key->all = true;
                    continue;
                }
                bit = s ? sim_perm_find(s) : -1;
                if (bit < 0) {
                    buf_addf(ld->err, "unknown permission '%s'", s ? s : "?");
                    return -1;
                }
                key->perms |= 1ULL << bit;
            }
        }
    }
    /* partners refer to users, so a second pass */
    json_array_foreach(users, i, u)
    {
        json_array_foreach(json_object_get(u, "partners"), j, p)
        {
            uint32_t pi = known_id(ld, p, sim_find_user, "bad partner id");

            if (pi == SIM_NONE)
                return -1;
            u32vec_push(&ld->lib->users[i].partners, pi);
        }
    }
    return 0;
}

/*
 * The library file's tags: owner, value, parent (which must come first),
 * colour and times; a tag naming an unknown owner or parent fails the load.
 */
static int load_tags(struct loader *ld, json_t *tags)
{
    size_t i;
    json_t *t;

    json_array_foreach(tags, i, t)
    {
        struct uuid id, pid;
        bool has_parent;
        uint32_t owner, parent = SIM_NONE, ti;
        const char *value = get_str(t, "value", NULL);
        struct sim_tag *tag;

        if (get_uuid(ld, t, "id", &id, false, NULL) < 0 ||
            get_uuid(ld, t, "parentId", &pid, true, &has_parent) < 0)
            return -1;
        owner = user_ref(ld, t, "ownerId");
        if (owner == SIM_NONE)
            return -1;
        if (!value || !*value) {
            buf_addstr(ld->err, "tag without \"value\"");
            return -1;
        }
        if (has_parent) {
            parent = sim_find_tag(ld->lib, &pid);
            if (parent == SIM_NONE) {
                buf_addf(ld->err, "tag '%s': parent not listed before it",
                         value);
                return -1;
            }
        }
        ti = sim_lib_add_tag(ld->lib, &id, owner, value, parent);
        tag = &ld->lib->tags[ti];
        tag->color = sim_str(ld->lib, get_str(t, "color", NULL));
        if (get_time(ld, t, "createdAt", &tag->created_at, 1577836800000LL) <
                0 ||
            get_time(ld, t, "updatedAt", &tag->updated_at, tag->created_at) < 0)
            return -1;
    }
    return 0;
}

static uint32_t intern_opt(struct sim_lib *lib, json_t *o, const char *key)
{
    return sim_str(lib, json_string_value(json_object_get(o, key)));
}

static double num_or_nan(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    return json_is_number(v) ? json_number_value(v) : NAN;
}

static int load_exif(struct loader *ld, uint32_t ai, json_t *e)
{
    struct sim_lib *lib = ld->lib;
    uint32_t xi = sim_lib_add_exif(lib, ai);
    struct sim_exif *x = &lib->exifs[xi];
    json_t *v;

    x->make = intern_opt(lib, e, "make");
    x->model = intern_opt(lib, e, "model");
    x->lens = intern_opt(lib, e, "lensModel");
    x->city = intern_opt(lib, e, "city");
    x->state = intern_opt(lib, e, "state");
    x->country = intern_opt(lib, e, "country");
    x->time_zone = intern_opt(lib, e, "timeZone");
    x->description = intern_opt(lib, e, "description");
    if (get_time(ld, e, "dateTimeOriginal", &x->date_time_original, TIME_NONE) <
        0)
        return -1;
    x->latitude = num_or_nan(e, "latitude");
    x->longitude = num_or_nan(e, "longitude");
    x->file_size =
        (uint32_t)json_integer_value(json_object_get(e, "fileSizeInByte"));
    x->width =
        (uint16_t)json_integer_value(json_object_get(e, "exifImageWidth"));
    x->height =
        (uint16_t)json_integer_value(json_object_get(e, "exifImageHeight"));
    x->iso = (uint16_t)json_integer_value(json_object_get(e, "iso"));
    v = json_object_get(e, "fNumber");
    x->f_number10 =
        json_is_number(v) ? (uint8_t)(json_number_value(v) * 10.0 + 0.5) : 0;
    v = json_object_get(e, "focalLength");
    x->focal_length = json_is_number(v) ? (uint8_t)json_number_value(v) : 0;
    v = json_object_get(e, "rating");
    x->rating = json_is_integer(v) ? (int8_t)json_integer_value(v) : -1;
    return 0;
}

/*
 * The library file's assets: owner, type, path, visibility, flags, the
 * dates (missing ones default to fileCreatedAt, as the server fills them),
 * duplicate group, tags and EXIF; a reference to an unknown tag or user
 * fails the load rather than leave a library the server could not have.
 */
static int load_assets(struct loader *ld, json_t *assets)
{
    struct sim_lib *lib = ld->lib;
    size_t i, j;
    json_t *a, *t;

    json_array_foreach(assets, i, a)
    {
        struct uuid id, did;
        bool has_dup;
        uint32_t owner, ai;
        struct sim_asset *as;
        const char *type = get_str(a, "type", "IMAGE");
        const char *path = get_str(a, "originalPath", "");
        int vis = sim_visibility_parse(get_str(a, "visibility", "timeline"));
        json_t *e;

        if (get_uuid(ld, a, "id", &id, false, NULL) < 0 ||
            get_uuid(ld, a, "duplicateId", &did, true, &has_dup) < 0)
            return -1;
        owner = user_ref(ld, a, "ownerId");
        if (owner == SIM_NONE)
            return -1;
        if (vis < 0) {
            buf_addstr(ld->err, "asset with an unknown visibility");
            return -1;
        }
        ai = sim_lib_add_asset(lib, &id, owner);
        sim_asset_set_path(lib, ai, path);
        as = &lib->assets[ai];
        as->file_name = sim_str(lib, get_str(a, "originalFileName", ""));
        as->type = !strcmp(type, "VIDEO")   ? SIM_TYPE_VIDEO
                   : !strcmp(type, "AUDIO") ? SIM_TYPE_AUDIO
                   : !strcmp(type, "OTHER") ? SIM_TYPE_OTHER
                                            : SIM_TYPE_IMAGE;
        as->visibility = (uint8_t)vis;
        as->favorite = json_is_true(json_object_get(a, "isFavorite"));
        as->read_only = json_is_true(json_object_get(a, "readOnly"));
        if (get_time(ld, a, "fileCreatedAt", &as->file_created_at, 0) < 0 ||
            get_time(ld, a, "fileModifiedAt", &as->file_modified_at,
                     as->file_created_at) < 0 ||
            get_time(ld, a, "localDateTime", &as->local_date_time,
                     as->file_created_at) < 0 ||
            get_time(ld, a, "createdAt", &as->created_at, as->file_created_at) <
                0 ||
            get_time(ld, a, "updatedAt", &as->updated_at, as->created_at) < 0 ||
            get_time(ld, a, "deletedAt", &as->deleted_at, TIME_NONE) < 0)
            return -1;
        if (has_dup)
            lib->assets[ai].dup = sim_lib_dup(lib, &did);
        json_array_foreach(json_object_get(a, "tagIds"), j, t)
        {
            uint32_t ti =
                known_id(ld, t, sim_find_tag, "asset names an unknown tag");

            if (ti == SIM_NONE)
                return -1;
            (void)sim_link_tag(lib, ti, ai);
        }
        e = json_object_get(a, "exifInfo");
        if (json_is_object(e) && load_exif(ld, ai, e) < 0)
            return -1;
    }
    return 0;
}

/*
 * The library file's albums: owner, name, description, times, members
 * with their roles and the assets, each reference checked, so the album
 * indexes hold only what exists.
 */
static int load_albums(struct loader *ld, json_t *albums)
{
    struct sim_lib *lib = ld->lib;
    size_t i, j;
    json_t *al, *m, *x;

    json_array_foreach(albums, i, al)
    {
        struct uuid id, thumb;
        bool has_thumb;
        uint32_t owner, ai;
        struct sim_album *album;

        if (get_uuid(ld, al, "id", &id, false, NULL) < 0 ||
            get_uuid(ld, al, "albumThumbnailAssetId", &thumb, true,
                     &has_thumb) < 0)
            return -1;
        owner = user_ref(ld, al, "ownerId");
        if (owner == SIM_NONE)
            return -1;
        ai = sim_lib_add_album(lib, &id, owner, get_str(al, "albumName", ""));
        album = &lib->albums[ai];
        album->description = intern_opt(lib, al, "description");
        if (get_time(ld, al, "createdAt", &album->created_at, 1577836800000LL) <
                0 ||
            get_time(ld, al, "updatedAt", &album->updated_at,
                     album->created_at) < 0)
            return -1;
        json_array_foreach(json_object_get(al, "albumUsers"), j, m)
        {
            uint32_t u = user_ref(ld, m, "userId");

            album = &lib->albums[ai];
            if (u == SIM_NONE)
                return -1;
            ALLOC_GROW(album->members, album->members_nr + 1,
                       album->members_alloc);
            album->members[album->members_nr].user = u;
            album->members[album->members_nr++].role =
                strcmp(get_str(m, "role", "viewer"), "editor")
                    ? SIM_ROLE_VIEWER
                    : SIM_ROLE_EDITOR;
        }
        json_array_foreach(json_object_get(al, "assetIds"), j, x)
        {
            uint32_t asset =
                known_id(ld, x, sim_find_asset, "album names an unknown asset");

            if (asset == SIM_NONE)
                return -1;
            (void)sim_link_album(lib, ai, asset);
        }
        if (has_thumb)
            lib->albums[ai].thumb = sim_find_asset(lib, &thumb);
    }
    return 0;
}

int sim_lib_load(struct sim_lib *lib, const char *data, size_t len,
                 struct buf *err)
{
    struct loader ld = {lib, err};
    json_error_t jerr;
    json_t *root = json_loadb(data, len, 0, &jerr);
    json_t *exp;
    const char *k;
    json_t *v;
    int ret = -1;

    if (!root) {
        buf_addf(err, "line %d: %s", jerr.line, jerr.text);
        return -1;
    }
    if (!json_is_object(root) ||
        !json_is_array(json_object_get(root, "users"))) {
        buf_addstr(err, "not a library file (no \"users\" array)");
        goto out;
    }
    if (load_users(&ld, json_object_get(root, "users")) < 0 ||
        load_tags(&ld, json_object_get(root, "tags")) < 0 ||
        load_assets(&ld, json_object_get(root, "assets")) < 0 ||
        load_albums(&ld, json_object_get(root, "albums")) < 0)
        goto out;
    if (!lib->users_nr) {
        buf_addstr(err, "library has no user");
        goto out;
    }
    if (json_is_false(
            json_object_get(json_object_get(root, "server"), "publicUsers")))
        lib->public_users = false;
    exp = json_object_get(root, "expected");
    json_object_foreach(exp, k, v)
    {
        if (json_is_integer(v))
            sim_lib_expect(lib, k, (long)json_integer_value(v));
    }
    ret = 0;
out:
    json_decref(root);
    return ret;
}
