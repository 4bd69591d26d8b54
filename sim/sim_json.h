/*
 * sim_json.h: Immich response shapes and the library file format.
 *
 * Responses are written straight into a struct buf (a page of 1,000
 * assets is one pass, no JSON tree); the library file is read with
 * jansson.  The dialect (2 or 3) changes field sets as docs/simulator.md says.
 *
 * Library file (also what GET /__sim/state returns, which adds each
 * asset's "albumIds"):
 *
 *     {"format":"immich-sim-library/1",
 *      "users":[{"id","email","name","isAdmin","partners":[userId...],
 *                "apiKeys":[{"key","name","permissions":["all"|perm...]}]}],
 *      "tags":[{"id","ownerId","value","parentId","color","createdAt",
 *               "updatedAt"}],          (parents before children)
 *      "albums":[{"id","ownerId","albumName","description","createdAt",
 *                 "updatedAt","albumThumbnailAssetId",
 *                 "albumUsers":[{"userId","role"}],"assetIds":[...]}],
 *      "assets":[{"id","ownerId","type","originalPath","originalFileName",
 *                 "fileCreatedAt","fileModifiedAt","localDateTime",
 *                 "createdAt","updatedAt","deletedAt","visibility",
 *                 "isFavorite","duplicateId","tagIds":[...],
 *                 "exifInfo":{...}|null}],
 *      "expected":{"name":number...}}
 */
#ifndef IA_SIM_JSON_H
#define IA_SIM_JSON_H

#include "sim/sim_store.h"

enum sim_json_flags {
    SIM_J_EXIF = 1u << 0,  /* exifInfo */
    SIM_J_TAGS = 1u << 1,  /* tags[] */
    SIM_J_OWNER = 1u << 2, /* owner {} */
};

/* AssetResponseDto of asset as seen by user viewer. */
void sim_json_asset(struct buf *b, const struct sim_lib *lib, uint32_t asset,
                    int dialect, unsigned flags, uint32_t viewer);
void sim_json_exif(struct buf *b, const struct sim_lib *lib, uint32_t asset);
void sim_json_tag(struct buf *b, const struct sim_lib *lib, uint32_t tag);
/* UserResponseDto (short form). */
void sim_json_user(struct buf *b, const struct sim_lib *lib, uint32_t user);
/* UserAdminResponseDto (GET /users/me). */
void sim_json_user_admin(struct buf *b, const struct sim_lib *lib,
                         uint32_t user, int dialect);
/* What sim_json_album() writes beyond the plain album. */
enum sim_album_flags {
    SIM_JA_ASSETS = 1u << 0,  /* embed the member assets (2.x album info) */
    SIM_JA_NO_LAST = 1u << 1, /* no lastModifiedAssetTimestamp: the answer
                                 of a write (mapAlbum leaves it out) */
};

/*
 * AlbumResponseDto; flags from enum sim_album_flags.  *exif_items (if not
 * NULL) gets the number of assets written.
 */
void sim_json_album(struct buf *b, const struct sim_lib *lib, uint32_t album,
                    int dialect, unsigned flags, uint32_t viewer,
                    long *exif_items);
/* True if the asset counts in an album's assetCount. */
bool sim_asset_counts(const struct sim_asset *a);

/* One BulkIdResponseDto; error NULL = success. */
void sim_json_bulk(struct buf *b, bool first, const struct uuid *id,
                   const char *error);

/*
 * The album fields the API answer and the library file share, in that
 * order: ,"albumName" through ,"albumThumbnailAssetId".
 */
void sim_json_album_fields(struct buf *b, const struct sim_lib *lib,
                           const struct sim_album *al);
/* An interned string as a JSON string literal. */
void sim_json_str(struct buf *b, const struct sim_lib *lib, uint32_t id);

/* key (a `,"name":` prefix), then the value as sim_json_time / _str. */
void sim_json_key_time(struct buf *b, const char *key, int64_t ms);
void sim_json_key_str(struct buf *b, const struct sim_lib *lib, const char *key,
                      uint32_t id);

/* An ISO-8601 instant string literal, or null for TIME_NONE. */
void sim_json_time(struct buf *b, int64_t ms);

/* The whole library in the file format; state adds asset albumIds. */
void sim_lib_dump(struct buf *b, const struct sim_lib *lib, bool state);
/* Fills an initialised, empty lib from a library file; 0 or -1 + err. */
int sim_lib_load(struct sim_lib *lib, const char *data, size_t len,
                 struct buf *err);

const char *sim_visibility_name(int v);
int sim_visibility_parse(const char *s);

#endif
