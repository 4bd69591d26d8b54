/*
 * api_write.c: request bodies and response decoding of the write
 * endpoints.  Bodies are built with struct buf (ids as a JSON array of
 * UUID strings, ~39 bytes each); bulk answers decode strictly into
 * struct api_bulk_item.  See api_write.h for which calls are retried.
 */
#include "api/api_write.h"

#include "api/api_internal.h"

void api_deliver_tags(struct api_call *c, json_t *root, struct api_status *st);
void api_deliver_albums(struct api_call *c, json_t *root,
                        struct api_status *st);

static const char *const bulk_errors[] = {
    [API_BULK_DUPLICATE] = "duplicate",
    [API_BULK_NO_PERMISSION] = "no_permission",
    [API_BULK_NOT_FOUND] = "not_found",
    [API_BULK_UNKNOWN] = "unknown",
    [API_BULK_VALIDATION] = "validation",
};

/*
 * The answer of a bulk write ([{id, success, error}]): each id's outcome
 * with the error kinds Immich names (duplicate, no_permission, not_found,
 * unknown, validation); any other shape fails the answer, since apply
 * decides per id from it.
 */
static void deliver_bulk(struct api_call *c, json_t *root,
                         struct api_status *st)
{
    struct jdec d = {c->endpoint, &c->err};
    struct api_bulk_item *v = NULL;
    size_t nr = 0, i;
    json_t *o;

    if (st->ok && jd_root_array(&d, root) < 0)
        api_decode_failed(c, st);
    if (st->ok) {
        nr = json_array_size(root);
        v = xcalloc(nr + 1, sizeof(*v));
        json_array_foreach(root, i, o)
        {
            json_t *e;

            if (jd_uuid(&d, o, "", (long)i, "id", &v[i].id) < 0 ||
                jd_bool(&d, o, "", (long)i, "success", &v[i].success) < 0) {
                api_decode_failed(c, st);
                break;
            }
            e = json_object_get(o, "error");
            if (v[i].success || !e || json_is_null(e)) {
                v[i].error = v[i].success ? API_BULK_NONE : API_BULK_UNKNOWN;
                continue;
            }
            v[i].error = API_BULK_NONE;
            for (size_t k = 1; k < ARRAY_SIZE(bulk_errors); k++)
                if (json_is_string(e) &&
                    !strcmp(json_string_value(e), bulk_errors[k]))
                    v[i].error = (enum api_bulk_error)k;
            if (v[i].error == API_BULK_NONE) {
                jd_fail(&d, "", (long)i, "error",
                        "duplicate, no_permission, not_found, unknown or "
                        "validation");
                api_decode_failed(c, st);
                break;
            }
        }
        if (!st->ok)
            nr = 0;
    }
    ((api_bulk_fn *)c->cb)(c->ctx, st, v, nr);
    free(v);
}

static void deliver_done(struct api_call *c, json_t *root,
                         struct api_status *st)
{
    (void)root;
    if (c->cb)
        ((api_done_fn *)c->cb)(c->ctx, st);
}

/* prefix + a + middle [+ b]: "/albums/<a>/user/<b>". */
static void path_id(char *out, size_t n, const char *prefix,
                    const struct uuid *a, const char *middle,
                    const struct uuid *b)
{
    char sa[UUID_STR_LEN + 1], sb[UUID_STR_LEN + 1] = "";

    uuid_format(a, sa);
    if (b)
        uuid_format(b, sb);
    snprintf(out, n, "%s%s%s%s", prefix, sa, middle, sb);
}

void api_tags_upsert(struct api *a, const char *const *names, size_t nr,
                     api_tags_fn *cb, void *ctx)
{
    struct buf body = BUF_INIT;

    buf_addstr(&body, "{\"tags\":[");
    for (size_t i = 0; i < nr; i++) {
        if (i)
            buf_addch(&body, ',');
        buf_add_json_str(&body, names[i], strlen(names[i]));
    }
    buf_addstr(&body, "]}");
    api_submit(a, "PUT", "/tags", "PUT /tags", &body, true, true,
               api_deliver_tags, (api_any_fn *)cb, ctx);
    buf_release(&body);
}

static void bulk(struct api *a, const char *method, const char *prefix,
                 const char *middle, const char *endpoint,
                 const struct uuid *target, const struct uuid *ids, size_t nr,
                 api_bulk_fn *cb, void *ctx)
{
    struct buf body = BUF_INIT;
    char path[96];

    path_id(path, sizeof(path), prefix, target, middle, NULL);
    buf_addstr(&body, "{\"ids\":");
    api_add_uuid_array(&body, ids, nr);
    buf_addch(&body, '}');
    api_submit(a, method, path, endpoint, &body, true, true, deliver_bulk,
               (api_any_fn *)cb, ctx);
    buf_release(&body);
}

void api_tag_assets_add(struct api *a, const struct uuid *tag,
                        const struct uuid *ids, size_t nr, api_bulk_fn *cb,
                        void *ctx)
{
    bulk(a, "PUT", "/tags/", "/assets", "PUT /tags/{id}/assets", tag, ids, nr,
         cb, ctx);
}

void api_tag_assets_remove(struct api *a, const struct uuid *tag,
                           const struct uuid *ids, size_t nr, api_bulk_fn *cb,
                           void *ctx)
{
    bulk(a, "DELETE", "/tags/", "/assets", "DELETE /tags/{id}/assets", tag, ids,
         nr, cb, ctx);
}

void api_album_assets_add(struct api *a, const struct uuid *album,
                          const struct uuid *ids, size_t nr, api_bulk_fn *cb,
                          void *ctx)
{
    bulk(a, "PUT", "/albums/", "/assets", "PUT /albums/{id}/assets", album, ids,
         nr, cb, ctx);
}

void api_album_assets_remove(struct api *a, const struct uuid *album,
                             const struct uuid *ids, size_t nr, api_bulk_fn *cb,
                             void *ctx)
{
    bulk(a, "DELETE", "/albums/", "/assets", "DELETE /albums/{id}/assets",
         album, ids, nr, cb, ctx);
}

void api_album_create(struct api *a, const char *name, const struct uuid *ids,
                      size_t nr, api_albums_fn *cb, void *ctx)
{
    struct buf body = BUF_INIT;

    buf_addstr(&body, "{\"albumName\":");
    buf_add_json_str(&body, name, strlen(name));
    if (nr) {
        buf_addstr(&body, ",\"assetIds\":");
        api_add_uuid_array(&body, ids, nr);
    }
    buf_addch(&body, '}');
    api_submit(a, "POST", "/albums", "POST /albums", &body, false, true,
               api_deliver_albums, (api_any_fn *)cb, ctx);
    buf_release(&body);
}

void api_album_delete(struct api *a, const struct uuid *album, api_done_fn *cb,
                      void *ctx)
{
    char path[96];

    path_id(path, sizeof(path), "/albums/", album, "", NULL);
    api_submit(a, "DELETE", path, "DELETE /albums/{id}", NULL, false, false,
               deliver_done, (api_any_fn *)cb, ctx);
}

static const char *role_name(int role)
{
    return role == 1 ? "editor" : "viewer";
}

void api_album_users_add(struct api *a, const struct uuid *album,
                         const struct api_album_user *users, size_t nr,
                         api_done_fn *cb, void *ctx)
{
    struct buf body = BUF_INIT;
    char path[96];

    path_id(path, sizeof(path), "/albums/", album, "/users", NULL);
    buf_addstr(&body, "{\"albumUsers\":[");
    for (size_t i = 0; i < nr; i++) {
        buf_addstr(&body, i ? ",{\"userId\":" : "{\"userId\":");
        buf_add_json_uuid(&body, &users[i].user);
        buf_addf(&body, ",\"role\":\"%s\"}", role_name(users[i].role));
    }
    buf_addstr(&body, "]}");
    api_submit(a, "PUT", path, "PUT /albums/{id}/users", &body, false, false,
               deliver_done, (api_any_fn *)cb, ctx);
    buf_release(&body);
}

void api_album_user_role(struct api *a, const struct uuid *album,
                         const struct uuid *user, int role, api_done_fn *cb,
                         void *ctx)
{
    struct buf body = BUF_INIT;
    char path[128];

    path_id(path, sizeof(path), "/albums/", album, "/user/", user);
    buf_addf(&body, "{\"role\":\"%s\"}", role_name(role));
    api_submit(a, "PUT", path, "PUT /albums/{id}/user/{userId}", &body, true,
               false, deliver_done, (api_any_fn *)cb, ctx);
    buf_release(&body);
}

void api_album_user_remove(struct api *a, const struct uuid *album,
                           const struct uuid *user, api_done_fn *cb, void *ctx)
{
    char path[128];

    path_id(path, sizeof(path), "/albums/", album, "/user/", user);
    api_submit(a, "DELETE", path, "DELETE /albums/{id}/user/{userId}", NULL,
               false, false, deliver_done, (api_any_fn *)cb, ctx);
}

void api_format_date_offset(int64_t when, int offset_min, char out[64])
{
    char t[32];
    int off = offset_min < 0 ? -offset_min : offset_min;

    time_format_iso(when + (int64_t)offset_min * 60000, t);
    t[strlen(t) - 1] = '\0'; /* the 'Z' */
    snprintf(out, 64, "%s%c%02d:%02d", t, offset_min < 0 ? '-' : '+', off / 60,
             off % 60);
}

void api_asset_date(struct api *a, const struct uuid *id, int64_t when,
                    int offset_min, api_done_fn *cb, void *ctx)
{
    struct buf body = BUF_INIT;
    char path[96], date[64];

    path_id(path, sizeof(path), "/assets/", id, "", NULL);
    api_format_date_offset(when, offset_min, date);
    buf_addf(&body, "{\"dateTimeOriginal\":\"%s\"}", date);
    api_submit(a, "PUT", path, "PUT /assets/{id}", &body, true, false,
               deliver_done, (api_any_fn *)cb, ctx);
    buf_release(&body);
}

void api_assets_date(struct api *a, const struct uuid *ids, size_t nr,
                     int64_t when, int offset_min, api_done_fn *cb, void *ctx)
{
    struct buf body = BUF_INIT;
    char date[64];

    api_format_date_offset(when, offset_min, date);
    buf_addstr(&body, "{\"ids\":");
    api_add_uuid_array(&body, ids, nr);
    buf_addf(&body, ",\"dateTimeOriginal\":\"%s\"}", date);
    api_submit(a, "PUT", "/assets", "PUT /assets", &body, true, false,
               deliver_done, (api_any_fn *)cb, ctx);
    buf_release(&body);
}
