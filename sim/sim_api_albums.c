/*
 * sim_api_albums.c: albums, their assets and their members, with the 2.x
 * and 3.x differences and the bookkeeping docs/simulator.md describes
 * ("Endpoints": Albums)
 * (updatedAt moves on an add, not on a plain remove; the thumbnail is set
 * on the first add and repaired when its asset leaves).
 */
#include "core/timeutil.h"
#include "sim/sim_json.h"
#include "sim/sim_server.h"

static const char *const role_values[] = {"editor", "viewer", "owner", NULL};
static const char *const order_values[] = {"asc", "desc", NULL};

static bool is_shared(const struct sim_album *al)
{
    return al->members_nr > 0;
}

/* The caller's role on album i (sim_album_role), or -1 once it is deleted. */
static int live_role(const struct sim_lib *lib, size_t i, uint32_t user)
{
    if (lib->albums[i].deleted)
        return -1;
    return sim_album_role(lib, (uint32_t)i, user);
}

void sim_api_albums_list(struct sim_req *r)
{
    struct sim_lib *lib = r->lib;
    uint32_t asset = SIM_NONE;
    int shared = -1, owned = -1;
    const char *name = NULL;
    struct uuid id;
    bool has_id = false, first = true;
    size_t i;
    int got;

    if ((got = sim_query_uuid(r, "assetId", &id)) < 0)
        return;
    if (got) {
        asset = sim_find_asset(lib, &id);
        if (asset == SIM_NONE) {
            buf_addstr(&r->out, "[]");
            return;
        }
    }
    if (r->dialect < 3) {
        shared = sim_query_bool(r, "shared");
    } else {
        shared = sim_query_bool(r, "isShared");
        owned = sim_query_bool(r, "isOwned");
        name = sim_query(r, "name");
        if ((got = sim_query_uuid(r, "id", &id)) < 0)
            return;
        has_id = got;
    }
    buf_addch(&r->out, '[');
    for (i = 0; i < lib->albums_nr; i++) {
        const struct sim_album *al = &lib->albums[i];
        int role;

        role = live_role(lib, i, r->user);
        if (role < 0)
            continue;
        if (asset != SIM_NONE) {
            if (!u32vec_has(&al->assets, asset))
                continue;
        } else if (r->dialect < 3) {
            /* 2.x: owned only, unless shared=true */
            if (shared == 1 && !is_shared(al))
                continue;
            if (shared != 1 && role != SIM_ROLE_OWNER)
                continue;
            if (shared == 0 && is_shared(al))
                continue;
        } else {
            if (shared >= 0 && is_shared(al) != (shared == 1))
                continue;
            if (owned >= 0 && (role == SIM_ROLE_OWNER) != (owned == 1))
                continue;
            if (name && strcmp(name, sim_cstr(lib, al->name)))
                continue;
            if (has_id && !uuid_eq(&id, &al->id))
                continue;
        }
        if (!first)
            buf_addch(&r->out, ',');
        first = false;
        sim_json_album(&r->out, lib, (uint32_t)i, r->dialect, 0, r->user, NULL);
        r->items_plain++;
    }
    buf_addch(&r->out, ']');
}

/* The album of path parameter 0 if the caller's role allows perm. */
static uint32_t album_for(struct sim_req *r, const char *perm, int min_role)
{
    struct uuid id;
    uint32_t al;

    if (sim_param_uuid(r, 0, "id", &id) < 0)
        return SIM_NONE;
    al = sim_find_album(r->lib, &id);
    if (al == SIM_NONE || sim_album_role(r->lib, al, r->user) < min_role) {
        sim_error(r, 400, "Not found or no %s access", perm);
        return SIM_NONE;
    }
    return al;
}

/* album_for once the body passed sim_body_fields (400 on either). */
static uint32_t album_with_body(struct sim_req *r,
                                const struct sim_field *fields, size_t nr,
                                const char *perm, int min_role)
{
    if (sim_body_fields(r, fields, nr) < 0)
        return SIM_NONE;
    return album_for(r, perm, min_role);
}

void sim_api_album_get(struct sim_req *r)
{
    uint32_t al = album_for(r, "album.read", SIM_ROLE_VIEWER);
    bool with = r->dialect < 3 && sim_query_bool(r, "withoutAssets") != 1;

    if (al == SIM_NONE)
        return;
    sim_json_album(&r->out, r->lib, al, r->dialect, with ? SIM_JA_ASSETS : 0,
                   r->user, &r->items_exif);
}

/* Adding assets to one album: what was added, whether one was there. */
struct album_add {
    uint32_t al;
    long added;
    bool dup;
};

/* Adds asset a to the album (sim_bulk_fn): its error, or NULL. */
static const char *add_one(struct sim_req *r, uint32_t a, void *ctx)
{
    struct album_add *x = ctx;
    struct sim_lib *lib = r->lib;

    if (a != SIM_NONE && u32vec_has(&lib->assets[a].albums, x->al)) {
        x->dup = true;
        return "duplicate";
    }
    if (a == SIM_NONE || !sim_can_share_asset(lib, r->user, a))
        return "no_permission";
    (void)sim_link_album(lib, x->al, a);
    if (lib->albums[x->al].thumb == SIM_NONE)
        lib->albums[x->al].thumb = a;
    x->added++;
    return NULL;
}

/* After add_one: an album that gained assets was updated. */
static void add_done(struct sim_req *r, const struct album_add *x)
{
    if (!x->added)
        return;
    r->lib->albums[x->al].updated_at = sim_now();
    r->wrote = true;
    r->items_written += x->added;
}

/* add_one for each of ids with no per-id answer, then add_done. */
static void add_list(struct sim_req *r, struct album_add *x,
                     const struct uuid *ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        (void)add_one(r, sim_find_asset(r->lib, &ids[i]), x);
    add_done(r, x);
}

static const struct sim_field ids_fields[] = {
    {"ids", FT_UUIDS, true, 0, 0, NULL},
};

void sim_api_album_assets_add(struct sim_req *r)
{
    struct album_add x = {SIM_NONE, 0, false};

    x.al = album_with_body(r, ids_fields, ARRAY_SIZE(ids_fields),
                           "albumAsset.create", SIM_ROLE_EDITOR);
    if (x.al == SIM_NONE)
        return;
    sim_bulk_ids(r, add_one, &x);
    add_done(r, &x);
}

/* Removing assets from one album: whether its thumbnail went. */
struct album_remove {
    uint32_t al;
    bool thumb_gone;
};

/* Takes asset a out of the album (sim_bulk_fn): its error, or NULL. */
static const char *remove_one(struct sim_req *r, uint32_t a, void *ctx)
{
    struct album_remove *x = ctx;
    struct sim_lib *lib = r->lib;

    if (a == SIM_NONE || !u32vec_has(&lib->assets[a].albums, x->al))
        return "not_found";
    /* the owner always removes (AlbumDelete); others need
     * asset.share: their own assets or a partner's */
    if (lib->albums[x->al].owner != r->user &&
        !sim_can_share_asset(lib, r->user, a))
        return "no_permission";
    (void)sim_unlink_album(lib, x->al, a);
    if (lib->albums[x->al].thumb == a)
        x->thumb_gone = true;
    r->wrote = true;
    r->items_written++;
    return NULL;
}

void sim_api_album_assets_remove(struct sim_req *r)
{
    struct album_remove x = {SIM_NONE, false};

    x.al = album_with_body(r, ids_fields, ARRAY_SIZE(ids_fields),
                           "albumAsset.delete", SIM_ROLE_EDITOR);
    if (x.al == SIM_NONE)
        return;
    sim_bulk_ids(r, remove_one, &x);
    if (x.thumb_gone) {
        struct sim_album *album = &r->lib->albums[x.al];

        /* updateThumbnails() rewrites it; that UPDATE bumps updatedAt */
        album->thumb = album->assets.nr ? album->assets.items[0] : SIM_NONE;
        album->updated_at = sim_now();
    }
}

void sim_api_albums_assets_add(struct sim_req *r)
{
    struct sim_lib *lib = r->lib;
    struct uuid *aids, *ids;
    size_t na, n, i;
    long added = 0;
    bool usable = false, dup = false;

    if (sim_body_bulk_links(r, "albumIds", &aids, &na, &ids, &n) < 0)
        return;
    for (i = 0; i < na; i++) {
        struct album_add x = {sim_find_album(lib, &aids[i]), 0, false};

        if (x.al == SIM_NONE ||
            sim_album_role(lib, x.al, r->user) < SIM_ROLE_EDITOR)
            continue;
        usable = true;
        add_list(r, &x, ids, n);
        added += x.added;
        dup = dup || x.dup;
    }
    if (added)
        buf_addstr(&r->out, "{\"success\":true}");
    else
        buf_addf(&r->out, "{\"success\":false,\"error\":\"%s\"}",
                 usable && dup ? "duplicate" : "no_permission");
    free(aids);
    free(ids);
}

/* Adds members from an albumUsers array; 0 or -1 after a 400. */
static int add_members(struct sim_req *r, uint32_t al, json_t *users)
{
    struct sim_lib *lib = r->lib;
    size_t i;
    json_t *m;

    json_array_foreach(users, i, m)
    {
        static const struct sim_field fields[] = {
            {"userId", FT_UUID, true, 0, 0, NULL},
            {"role", FT_STR, false, 0, 0, role_values},
        };
        const char *role = json_string_value(json_object_get(m, "role"));
        struct uuid uid;
        uint32_t u;
        struct sim_album *album;

        if (sim_validate(r, m, fields, ARRAY_SIZE(fields)) < 0)
            return -1;
        (void)uuid_parse(json_string_value(json_object_get(m, "userId")), 36,
                         &uid);
        u = sim_find_user(lib, &uid);
        if (role && !strcmp(role, "owner")) {
            sim_error(r, 400, "Cannot add another owner");
            return -1;
        }
        if (u == SIM_NONE) {
            sim_error(r, 400,
                      r->dialect < 3 ? "User not found" : "Invalid user");
            return -1;
        }
        if (u == lib->albums[al].owner) {
            if (r->dialect >= 3)
                continue;
            sim_error(r, 400, "Cannot be shared with owner");
            return -1;
        }
        if (sim_album_role(lib, al, u) >= 0) {
            if (r->dialect >= 3)
                continue;
            sim_error(r, 400, "User already added");
            return -1;
        }
        album = &lib->albums[al];
        ALLOC_GROW(album->members, album->members_nr + 1, album->members_alloc);
        album->members[album->members_nr].user = u;
        album->members[album->members_nr++].role =
            role && !strcmp(role, "viewer") ? SIM_ROLE_VIEWER : SIM_ROLE_EDITOR;
        album->updated_at = sim_now();
        r->wrote = true;
        r->items_written++;
    }
    return 0;
}

void sim_api_album_create(struct sim_req *r)
{
    static const struct sim_field fields[] = {
        {"albumName", FT_STR, true, 0, 0, NULL},
        {"description", FT_STR, false, 0, 0, NULL},
        {"albumUsers", FT_ARR, false, 0, 0, NULL},
        {"assetIds", FT_UUIDS, false, 0, 0, NULL},
    };
    struct sim_lib *lib = r->lib;
    struct album_add added = {SIM_NONE, 0, false};
    struct uuid *ids = NULL;
    size_t n;
    uint32_t al;
    json_t *users;

    if (sim_body_fields(r, fields, ARRAY_SIZE(fields)) < 0)
        return;
    users = json_object_get(r->body, "albumUsers");
    /* check the members before creating anything */
    {
        size_t i;
        json_t *m;

        json_array_foreach(users, i, m)
        {
            const char *s = json_string_value(json_object_get(m, "userId"));
            struct uuid uid;

            if (!json_is_object(m) || !sim_uuid_ok(r, s, &uid)) {
                sim_error_validation(r, "albumUsers.userId must be a UUID",
                                     "{\"code\":\"invalid_format\",\"path\":"
                                     "[\"albumUsers\",\"userId\"],\"message\":"
                                     "\"Invalid UUID\"}");
                return;
            }
            if (sim_find_user(lib, &uid) == SIM_NONE) {
                sim_error(r, 400,
                          r->dialect < 3 ? "User not found" : "Invalid user");
                return;
            }
            if (r->dialect < 3 && sim_find_user(lib, &uid) == r->user) {
                sim_error(r, 400, "Cannot share album with owner");
                return;
            }
        }
    }
    al = sim_lib_add_album(
        lib, NULL, r->user,
        json_string_value(json_object_get(r->body, "albumName")));
    lib->albums[al].description = sim_str(
        lib, json_string_value(json_object_get(r->body, "description")));
    lib->albums[al].created_at = lib->albums[al].updated_at = sim_now();
    r->wrote = true;
    r->items_written++;
    if (add_members(r, al, users) < 0)
        return;
    n = sim_uuid_list(json_object_get(r->body, "assetIds"), &ids);
    added.al = al;
    add_list(r, &added, ids, n);
    free(ids);
    r->status = 201;
    /* mapAlbum() answers without lastModifiedAssetTimestamp (2.x
     * album.service create; same in 3.x) */
    sim_json_album(&r->out, lib, al, r->dialect,
                   r->create_last ? 0 : SIM_JA_NO_LAST, r->user, NULL);
}

void sim_api_album_update(struct sim_req *r)
{
    static const struct sim_field fields[] = {
        {"albumName", FT_STR, false, 0, 0, NULL},
        {"description", FT_STR, false, 0, 0, NULL},
        {"albumThumbnailAssetId", FT_UUID, false, 0, 0, NULL},
        {"isActivityEnabled", FT_BOOL, false, 0, 0, NULL},
        {"order", FT_STR, false, 0, 0, order_values},
    };
    struct sim_lib *lib = r->lib;
    struct sim_album *album;
    uint32_t al;
    json_t *v;

    al = album_with_body(r, fields, ARRAY_SIZE(fields), "album.update",
                         SIM_ROLE_OWNER);
    if (al == SIM_NONE)
        return;
    album = &lib->albums[al];
    if ((v = json_object_get(r->body, "albumThumbnailAssetId"))) {
        struct uuid id;
        uint32_t a;

        (void)uuid_parse(json_string_value(v), 36, &id);
        a = sim_find_asset(lib, &id);
        if (a == SIM_NONE || !u32vec_has(&album->assets, a)) {
            sim_error(r, 400, "Invalid album thumbnail");
            return;
        }
        album->thumb = a;
    }
    if ((v = json_object_get(r->body, "albumName")))
        album->name = sim_str(lib, json_string_value(v));
    if ((v = json_object_get(r->body, "description")))
        album->description = sim_str(lib, json_string_value(v));
    if ((v = json_object_get(r->body, "isActivityEnabled")))
        album->activity = json_is_true(v);
    if ((v = json_object_get(r->body, "order")))
        album->order_asc = !strcmp(json_string_value(v), "asc");
    album->updated_at = sim_now();
    r->wrote = true;
    r->items_written++;
    sim_json_album(&r->out, lib, al, r->dialect, 0, r->user, NULL);
}

void sim_api_album_delete(struct sim_req *r)
{
    struct sim_lib *lib = r->lib;
    uint32_t al = album_for(r, "album.delete", SIM_ROLE_OWNER);
    struct sim_album *album;

    if (al == SIM_NONE)
        return;
    album = &lib->albums[al];
    while (album->assets.nr)
        (void)sim_unlink_album(lib, al, album->assets.items[0]);
    album->deleted = true;
    r->status = 204;
    r->wrote = true;
    r->items_written++;
}

void sim_api_album_users_add(struct sim_req *r)
{
    static const struct sim_field fields[] = {
        {"albumUsers", FT_ARR, true, 0, 0, NULL},
    };
    uint32_t al;

    al = album_with_body(r, fields, ARRAY_SIZE(fields), "albumUser.create",
                         SIM_ROLE_OWNER);
    if (al == SIM_NONE)
        return;
    if (add_members(r, al, json_object_get(r->body, "albumUsers")) < 0)
        return;
    sim_json_album(&r->out, r->lib, al, r->dialect, 0, r->user, NULL);
}

/* Index of user in the album's member list, or -1. */
static int member_index(const struct sim_album *al, uint32_t u)
{
    uint32_t i;

    for (i = 0; i < al->members_nr; i++)
        if (al->members[i].user == u)
            return (int)i;
    return -1;
}

void sim_api_album_user_update(struct sim_req *r)
{
    static const struct sim_field fields[] = {
        {"role", FT_STR, true, 0, 0, role_values},
    };
    struct sim_lib *lib = r->lib;
    struct uuid uid;
    uint32_t al, u;
    int mi;
    const char *role;

    al = album_with_body(r, fields, ARRAY_SIZE(fields), "albumUser.update",
                         SIM_ROLE_OWNER);
    if (al == SIM_NONE || sim_param_uuid(r, 1, "userId", &uid) < 0)
        return;
    u = sim_find_user(lib, &uid);
    if (u != SIM_NONE && u == lib->albums[al].owner && r->dialect >= 3) {
        sim_error(r, 400, "User is owner");
        return;
    }
    mi = u == SIM_NONE ? -1 : member_index(&lib->albums[al], u);
    if (mi < 0) {
        sim_error(r, 400, "Album not shared with user");
        return;
    }
    role = json_string_value(json_object_get(r->body, "role"));
    if (!strcmp(role, "owner")) {
        sim_error(r, 400, "Cannot add another owner");
        return;
    }
    lib->albums[al].members[mi].role =
        !strcmp(role, "editor") ? SIM_ROLE_EDITOR : SIM_ROLE_VIEWER;
    r->status = 204;
    r->wrote = true;
    r->items_written++;
}

void sim_api_album_user_remove(struct sim_req *r)
{
    struct sim_lib *lib = r->lib;
    struct sim_album *album;
    struct uuid id, uid;
    uint32_t al, u;
    int mi;

    if (sim_param_uuid(r, 0, "id", &id) < 0)
        return;
    al = sim_find_album(lib, &id);
    if (al == SIM_NONE || sim_album_role(lib, al, r->user) < 0) {
        sim_error(r, 400, "Not found or no album.read access");
        return;
    }
    if (!strcmp(r->params[1], "me")) {
        u = r->user;
    } else {
        if (sim_param_uuid(r, 1, "userId", &uid) < 0)
            return;
        u = sim_find_user(lib, &uid);
    }
    album = &lib->albums[al];
    if (u != SIM_NONE && u == album->owner) {
        sim_error(r, 400,
                  r->dialect < 3 ? "Cannot remove album owner"
                                 : "Cannot remove the last owner");
        return;
    }
    mi = u == SIM_NONE ? -1 : member_index(album, u);
    if (mi < 0) {
        sim_error(r, 400, "Album not shared with user");
        return;
    }
    if (album->owner != r->user && u != r->user) {
        sim_error(r, 400, "Not found or no albumUser.delete access");
        return;
    }
    memmove(album->members + mi, album->members + mi + 1,
            (album->members_nr - (uint32_t)mi - 1) * sizeof(*album->members));
    album->members_nr--;
    r->status = 204;
    r->wrote = true;
    r->items_written++;
}

void sim_api_albums_statistics(struct sim_req *r)
{
    struct sim_lib *lib = r->lib;
    long owned = 0, shared = 0, not_shared = 0;
    size_t i;

    for (i = 0; i < lib->albums_nr; i++) {
        const struct sim_album *al = &lib->albums[i];
        int role;

        role = live_role(lib, i, r->user);
        if (role == SIM_ROLE_OWNER) {
            owned++;
            if (!is_shared(al))
                not_shared++;
        }
        if (role >= 0 && is_shared(al))
            shared++;
    }
    buf_addf(&r->out, "{\"owned\":%ld,\"shared\":%ld,\"notShared\":%ld}", owned,
             shared, not_shared);
}

/*
 * What a guest's upload through an album's shared link does
 * (asset-media.service: a checksum the link's owner already has goes to
 * handleUploadError -> addToSharedLink -> albumRepository.addAssetIds):
 * the asset joins the album and neither the album's updatedAt nor the
 * asset's moves.  Without assetId a new asset is uploaded: it is the
 * owner's newest (updatedAt now) and joins the album the same way.
 */
/* A new asset of owner, uploaded now (taken at `taken`). */
static uint32_t new_upload(struct sim_lib *lib, uint32_t owner, int64_t taken)
{
    uint32_t a = sim_lib_add_asset(lib, NULL, owner);

    lib->assets[a].file_created_at = lib->assets[a].local_date_time =
        lib->assets[a].file_modified_at = taken;
    lib->assets[a].created_at = lib->assets[a].updated_at = sim_now();
    lib->assets[a].file_name = sim_str(lib, "upload.jpg");
    sim_asset_set_path(lib, a, "/upload/upload.jpg");
    (void)sim_lib_add_exif(lib, a);
    return a;
}

int sim_shared_link_upload(struct sim_lib *lib, json_t *body, struct buf *out,
                           struct buf *err)
{
    const char *album = json_string_value(json_object_get(body, "albumId"));
    const char *asset = json_string_value(json_object_get(body, "assetId"));
    struct uuid id;
    uint32_t al, a;
    int64_t now = sim_now();
    bool dup = asset != NULL;

    if (!album || uuid_parse(album, strlen(album), &id) < 0 ||
        (al = sim_find_album(lib, &id)) == SIM_NONE) {
        buf_addstr(err, "albumId names no album");
        return -1;
    }
    if (dup) {
        if (uuid_parse(asset, strlen(asset), &id) < 0 ||
            (a = sim_find_asset(lib, &id)) == SIM_NONE ||
            lib->assets[a].owner != lib->albums[al].owner) {
            buf_addstr(err, "assetId names no asset of the album's owner");
            return -1;
        }
    } else {
        a = new_upload(lib, lib->albums[al].owner, now);
    }
    (void)sim_link_album(lib, al, a);
    if (lib->albums[al].thumb == SIM_NONE)
        lib->albums[al].thumb = a;
    lib->gen++;
    buf_addstr(out, "{\"id\":");
    buf_add_json_uuid(out, &lib->assets[a].id);
    buf_addf(out, ",\"duplicate\":%s}\n", dup ? "true" : "false");
    return 0;
}

int sim_upload(struct sim_lib *lib, json_t *body, struct buf *out,
               struct buf *err)
{
    const char *owner = json_string_value(json_object_get(body, "ownerId"));
    json_int_t n = json_integer_value(json_object_get(body, "count"));
    uint32_t u = 0;
    int64_t now = sim_now();

    if (owner) {
        struct uuid id;

        for (u = 0; u < lib->users_nr; u++)
            if (uuid_parse(owner, strlen(owner), &id) == 0 &&
                uuid_eq(&id, &lib->users[u].id))
                break;
        if (u == lib->users_nr) {
            buf_addstr(err, "ownerId names no user");
            return -1;
        }
    }
    if (n < 1 || n > 100000) {
        buf_addstr(err, "count must be 1..100000");
        return -1;
    }
    buf_addstr(out, "{\"ids\":[");
    for (json_int_t i = 0; i < n; i++) {
        /* taken a second apart, the newest first in the timeline */
        uint32_t a = new_upload(lib, u, now - i * 1000);

        if (i)
            buf_addch(out, ',');
        buf_add_json_uuid(out, &lib->assets[a].id);
    }
    buf_addstr(out, "]}\n");
    lib->gen++;
    return 0;
}
