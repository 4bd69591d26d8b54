/*
 * api.h: the Immich REST API as typed C calls, reads side (writes are in
 * api_write.h).
 *
 * Every call is asynchronous: it submits one request to the HTTP engine
 * and returns; when the response has arrived and been decoded, the
 * callback gets a struct api_status and the decoded values.  Run the
 * engine (http_engine_run) to make progress.  Callbacks may issue more
 * calls (the next page).
 *
 *     struct api a;
 *     api_init(&a, eng);
 *     api_server_version(&a, on_version, &st);
 *     http_engine_run(eng, &err);
 *
 * Decoding is strict: a missing or ill-typed required field fails the
 * call with a message naming endpoint and field,
 *     "POST /search/metadata: assets.items[3].id: expected a UUID string"
 * never a crash or a silent default.  Unknown fields are ignored.
 *
 * Lifetimes: everything a callback receives (structs, arrays, strings) is
 * borrowed and valid only during the callback; copy or intern what you
 * keep.  No jansson value ever leaves src/api.
 *
 * Failures reach the callback with st->ok false, st->kind telling why,
 * and st->error one line: "GET /albums: 503 Service Unavailable" or
 * "GET /users/me: 401 Invalid API key" (the server's message) or
 * "GET /tags: connection refused".  The API key never appears.
 */
#ifndef IA_API_H
#define IA_API_H

#include "core/buf.h"
#include "core/timeutil.h"
#include "core/uuid.h"
#include "http/http_engine.h"

/* Why a call failed. */
enum api_fail {
    API_OK = 0,
    API_FAIL_NETWORK,   /* no response after the retries */
    API_FAIL_AUTH,      /* 401 or 403 */
    API_FAIL_HTTP,      /* any other status >= 400 */
    API_FAIL_DECODE,    /* response not what the contract says */
    API_FAIL_CANCELLED, /* the engine was wrapping up */
};

struct api_status {
    bool ok;
    enum api_fail kind;
    long http;            /* HTTP status, 0 when none */
    const char *endpoint; /* "GET /albums/{id}" */
    const char *error;    /* one line when !ok, "" otherwise */
    int64_t server_date;  /* the answer's Date (the server's clock, ms,
                             whole seconds), -1 when none */
};

/* The client: an engine and the dialect of the server behind it. */
struct api {
    struct http_engine *eng; /* borrowed */
    int dialect;             /* 2 or 3 (major version >= 3); 0 = unknown */
};

void api_init(struct api *a, struct http_engine *eng);
/* Dialect from a server version: 3 for 3.x and later, else 2. */
int api_dialect_of(int major);

/* ---- decoded values ---------------------------------------------------- */

struct api_version {
    int major, minor, patch;
};

struct api_user {
    struct uuid id;
    const char *email;
    const char *name;
};

struct api_key_info {
    const char *name;
    const char *const *permissions; /* e.g. "all", "tag.asset" */
    size_t permissions_nr;
};

struct api_tag {
    struct uuid id;
    const char *name;   /* leaf */
    const char *value;  /* full path "a/b/c" */
    struct uuid parent; /* valid when has_parent */
    bool has_parent;
};

struct api_album_user {
    struct uuid user;
    int role; /* enum model_role: 0 viewer, 1 editor */
};

struct api_album {
    struct uuid id;
    const char *name;
    struct uuid owner;
    const struct api_album_user *users; /* members, owner excluded */
    size_t users_nr;
    long asset_count;
    bool shared;
    int64_t start_date, end_date; /* TIME_NONE when absent */
    int64_t created_at, updated_at;
    int64_t last_modified; /* lastModifiedAssetTimestamp,
                              TIME_NONE when absent */
};

/* Bits of api_asset.flags mirror enum model_asset_flags. */
struct api_asset {
    struct uuid id;
    struct uuid owner;
    const char *file_name;
    size_t file_name_len;
    const char *path;
    size_t path_len;
    struct uuid duplicate;
    bool has_duplicate;
    int64_t file_created_at, file_modified_at, local_date_time;
    int64_t created_at, updated_at;
    int64_t date_time_original; /* TIME_NONE without exif or date */
    bool has_exif;
    bool trashed, favorite, video;
    int visibility; /* enum model_visibility */
};

struct api_asset_stats {
    long images, videos, total;
};

struct api_dup {
    struct uuid id;
    const struct uuid *assets;
    size_t assets_nr;
};

/* ---- callbacks ----------------------------------------------------------- */

typedef void api_done_fn(void *ctx, const struct api_status *st);
typedef void api_version_fn(void *ctx, const struct api_status *st,
                            const struct api_version *v);
typedef void api_user_fn(void *ctx, const struct api_status *st,
                         const struct api_user *u);
typedef void api_users_fn(void *ctx, const struct api_status *st,
                          const struct api_user *users, size_t nr);
typedef void api_key_fn(void *ctx, const struct api_status *st,
                        const struct api_key_info *k);
typedef void api_tags_fn(void *ctx, const struct api_status *st,
                         const struct api_tag *tags, size_t nr);
typedef void api_albums_fn(void *ctx, const struct api_status *st,
                           const struct api_album *albums, size_t nr);
/* One search page; next_page is 0 when it was the last. */
typedef void api_page_fn(void *ctx, const struct api_status *st,
                         const struct api_asset *assets, size_t nr,
                         long next_page);
typedef void api_count_fn(void *ctx, const struct api_status *st,
                          int64_t total);
typedef void api_asset_stats_fn(void *ctx, const struct api_status *st,
                                const struct api_asset_stats *s);
typedef void api_dups_fn(void *ctx, const struct api_status *st,
                         const struct api_dup *groups, size_t nr);

/* ---- reads --------------------------------------------------------------- */

/* GET /server/version (no authentication needed). */
void api_server_version(struct api *a, api_version_fn *cb, void *ctx);
/* GET /users/me: the API key's user. */
void api_users_me(struct api *a, api_user_fn *cb, void *ctx);
/* GET /users: every user the key may see. */
void api_users(struct api *a, api_users_fn *cb, void *ctx);
/* GET /api-keys/me: the key's name and permissions. */
void api_keys_me(struct api *a, api_key_fn *cb, void *ctx);
/* GET /tags: the caller's tags (flat; parent links give the tree). */
void api_tags(struct api *a, api_tags_fn *cb, void *ctx);
/*
 * GET /albums.  shared < 0: no parameter (3.x: every album the caller
 * is in; 2.x: only owned ones); shared > 0: "?shared=true" (2.x: shared
 * albums incl. those shared with the caller).
 */
void api_albums(struct api *a, int shared, api_albums_fn *cb, void *ctx);
/* GET /albums/{id}?withoutAssets=true (delivered as a one-item array). */
void api_album_info(struct api *a, const struct uuid *id, api_albums_fn *cb,
                    void *ctx);

/* Filters of POST /search/metadata and /search/statistics (flat shape). */
/* Whether the caller has the asset's record already (api_search.known). */
typedef bool api_known_fn(void *ctx, const struct uuid *id);

struct api_search {
    long page;                /* >= 1 (metadata only) */
    long size;                /* 1..1000 (metadata only) */
    int64_t taken_after;      /* inclusive, TIME_NONE = unset */
    int64_t taken_before;     /* inclusive, TIME_NONE = unset */
    const struct uuid *album; /* albumIds:[album], NULL = none */
    const struct uuid *tag;   /* tagIds:[tag], NULL = none */
    const char *visibility;   /* "timeline"/"archive"/..., NULL = default */
    bool with_deleted;
    bool with_exif;
    const char *order;      /* "asc", "desc", NULL = server default */
    int64_t created_after;  /* upload time, inclusive, TIME_NONE = unset */
    int64_t created_before; /* inclusive, TIME_NONE = unset */
    int64_t updated_after;  /* updatedAfter (the server's clock),
                               TIME_NONE = unset */
    /* Only the assets' ids are wanted (a membership query): the other
     * fields are skipped, not decoded nor checked, and the page's
     * assets carry their id alone. */
    bool ids_only;
    /* With ids_only: an asset for which known() is false is decoded
     * whole (known_ctx is its argument); NULL: every asset by id alone.
     * The id comes first in the server's assets, so a known asset's
     * other fields are skipped. */
    api_known_fn *known;
    void *known_ctx;
    /* isNotInAlbum: only assets in no album of any user (the server
     * ignores it when albumIds is set) */
    bool not_in_album;
};

#define API_SEARCH_INIT                                                        \
    {                                                                          \
        1, 1000, TIME_NONE, TIME_NONE, NULL, NULL, NULL, false, false, NULL,   \
            TIME_NONE, TIME_NONE, TIME_NONE, false, NULL, NULL, false          \
    }

/* POST /search/metadata: one page. */
void api_search_metadata(struct api *a, const struct api_search *q,
                         api_page_fn *cb, void *ctx);
/* POST /search/statistics: the number of assets matching q. */
void api_search_statistics(struct api *a, const struct api_search *q,
                           api_count_fn *cb, void *ctx);
/* GET /assets/statistics (the caller's own assets). */
void api_asset_statistics(struct api *a, api_asset_stats_fn *cb, void *ctx);
/*
 * GET /jobs: the jobs still ahead (active, waiting, delayed) in the
 * sidecar and metadataExtraction queues, -1 on failure (403 without
 * job.read or for a non-admin user).
 */
typedef void api_jobs_fn(void *ctx, const struct api_status *st, long pending);
void api_jobs_pending(struct api *a, api_jobs_fn *cb, void *ctx);
/* GET /duplicates: every duplicate group with its member ids. */
void api_duplicates(struct api *a, api_dups_fn *cb, void *ctx);

/* ---- one asset (`explain`) ---------------------------------------------- */

/* The asset (NULL on failure) and its tags, valid during the call. */
typedef void api_asset_fn(void *ctx, const struct api_status *st,
                          const struct api_asset *asset,
                          const struct api_tag *tags, size_t tags_nr);
/* GET /assets/{id}: the asset with its EXIF date and its tags. */
void api_asset_info(struct api *a, const struct uuid *id, api_asset_fn *cb,
                    void *ctx);
/* GET /albums?assetId={id}: the albums holding the asset. */
void api_albums_of_asset(struct api *a, const struct uuid *id,
                         api_albums_fn *cb, void *ctx);
/* POST /search/metadata {originalFileName}: the first 100 assets of that
 * file name. */
void api_search_file_name(struct api *a, const char *name, api_page_fn *cb,
                          void *ctx);

/*
 * The decoder of a search page on its own, for tests and fuzzing: data
 * need not be NUL-terminated.  Calls cb once (with ok or a decode
 * failure) and returns 0 if the page decoded, -1 otherwise (err gets the
 * message too).
 */
int api_decode_search_page(const char *data, size_t len, api_page_fn *cb,
                           void *ctx, struct buf *err);

#endif
