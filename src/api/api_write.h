/*
 * api_write.h: the Immich write endpoints the applier uses, as async
 * calls on the same engine as the reads (see api.h for the calling
 * pattern, the status and the lifetime of what callbacks receive).
 *
 * Retry policy, decided here per endpoint because only the endpoint knows
 * whether sending it twice is harmless:
 *   retried   PUT /tags (upsert by path), PUT|DELETE /tags/{id}/assets,
 *             PUT|DELETE /albums/{id}/assets (a repeat only turns
 *             "success" into "duplicate"/"not_found"), PUT /assets/{id}
 *             and PUT /assets (setting a date twice is the same date),
 *             PUT /albums/{id}/user/{userId} (setting a role)
 *   never     POST /albums (a create: a blind retry may make two albums),
 *             DELETE /albums/{id}, PUT /albums/{id}/users and
 *             DELETE /albums/{id}/user/{userId} (a repeat answers 400
 *             after a success the client did not see)
 *
 * Bulk per-id outcomes come back as struct api_bulk_item, one per id the
 * server answered, in the server's order.
 */
#ifndef IA_API_WRITE_H
#define IA_API_WRITE_H

#include "api/api.h"

/* BulkIdResponseDto.error ("duplicate", "no_permission", ...). */
enum api_bulk_error {
    API_BULK_NONE = 0, /* success */
    API_BULK_DUPLICATE,
    API_BULK_NO_PERMISSION,
    API_BULK_NOT_FOUND,
    API_BULK_UNKNOWN,
    API_BULK_VALIDATION,
};

struct api_bulk_item {
    struct uuid id;
    bool success;
    enum api_bulk_error error; /* API_BULK_NONE when success */
};

typedef void api_bulk_fn(void *ctx, const struct api_status *st,
                         const struct api_bulk_item *items, size_t nr);

/* PUT /tags {tags: names}: creates missing paths, answers one tag per
 * distinct name in input order. */
void api_tags_upsert(struct api *a, const char *const *names, size_t nr,
                     api_tags_fn *cb, void *ctx);
/* PUT /tags/{id}/assets {ids} and DELETE /tags/{id}/assets {ids}. */
void api_tag_assets_add(struct api *a, const struct uuid *tag,
                        const struct uuid *ids, size_t nr, api_bulk_fn *cb,
                        void *ctx);
void api_tag_assets_remove(struct api *a, const struct uuid *tag,
                           const struct uuid *ids, size_t nr, api_bulk_fn *cb,
                           void *ctx);
/* POST /albums {albumName[, assetIds]}: the new album (one-item array),
 * with the assets the key may share in it (others are dropped silently:
 * compare the album's asset_count with nr). */
void api_album_create(struct api *a, const char *name, const struct uuid *ids,
                      size_t nr, api_albums_fn *cb, void *ctx);
/* PUT /albums/{id}/assets {ids} and DELETE /albums/{id}/assets {ids}. */
void api_album_assets_add(struct api *a, const struct uuid *album,
                          const struct uuid *ids, size_t nr, api_bulk_fn *cb,
                          void *ctx);
void api_album_assets_remove(struct api *a, const struct uuid *album,
                             const struct uuid *ids, size_t nr, api_bulk_fn *cb,
                             void *ctx);
/* DELETE /albums/{id}. */
void api_album_delete(struct api *a, const struct uuid *album, api_done_fn *cb,
                      void *ctx);
/* PUT /albums/{id}/users {albumUsers:[{userId, role}]}; role per user is
 * 0 viewer / 1 editor (enum model_role). */
void api_album_users_add(struct api *a, const struct uuid *album,
                         const struct api_album_user *users, size_t nr,
                         api_done_fn *cb, void *ctx);
/* PUT /albums/{id}/user/{userId} {role}. */
void api_album_user_role(struct api *a, const struct uuid *album,
                         const struct uuid *user, int role, api_done_fn *cb,
                         void *ctx);
/* DELETE /albums/{id}/user/{userId}. */
void api_album_user_remove(struct api *a, const struct uuid *album,
                           const struct uuid *user, api_done_fn *cb, void *ctx);
/*
 * PUT /assets/{id} {dateTimeOriginal} and PUT /assets {ids,
 * dateTimeOriginal}.  The date is the instant `when` (ms UTC) written as
 * wall-clock time at offset_min minutes east of UTC with that offset
 * ("2024-06-15T15:14:02.251+02:00"), so the server records the zone too.
 */
void api_asset_date(struct api *a, const struct uuid *id, int64_t when,
                    int offset_min, api_done_fn *cb, void *ctx);
void api_assets_date(struct api *a, const struct uuid *ids, size_t nr,
                     int64_t when, int offset_min, api_done_fn *cb, void *ctx);
/* "2024-06-15T15:14:02.251+02:00" for the instant and offset (exposed for
 * tests). */
void api_format_date_offset(int64_t when, int offset_min, char out[64]);

#endif
