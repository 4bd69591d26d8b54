/*
 * sim_server.h: the HTTP side of immich-sim.
 *
 * A request goes through sim_server.c in this order:
 *
 *   1. the body is collected (10 MB cap -> 413);
 *   2. the route is matched ("METHOD /path/template"; unknown -> 404);
 *   3. authentication and the route's permission (401 / 403);
 *   4. faults configured for the route may answer instead (5xx, 429);
 *   5. the request takes one of K capacity slots, locks the library, runs
 *      its handler, unlocks, then sleeps its modeled service time while
 *      still holding the slot, so at most K requests are "served" at once;
 *   6. the response is sent (possibly cut by a reset/truncate fault),
 *      counted in the stats and written to the request log.
 *
 * Handlers (sim_api_*.c) see only struct sim_req: they read the body and
 * parameters, write the response body into r->out, set r->status, and
 * count the items they returned or wrote so the latency model can price
 * the request.
 */
#ifndef IA_SIM_SERVER_H
#define IA_SIM_SERVER_H

#include <jansson.h>

#include "sim/sim_jobs.h"
#include "sim/sim_store.h"

struct sim_server;
struct MHD_Connection;

/* Endpoint classes of the latency model (model_ms() in sim_server.c). */
enum sim_class {
    SC_META,            /* server info, users, keys */
    SC_ASSET_GET,       /* GET /assets/{id} */
    SC_ASSET_WRITE,     /* PUT /assets, PUT /assets/{id} */
    SC_SEARCH,          /* POST /search/metadata */
    SC_STATISTICS,      /* statistics endpoints */
    SC_ALBUM_LIST,      /* GET /albums */
    SC_ALBUM_GET,       /* GET /albums/{id} */
    SC_ALBUM_WRITE,     /* album create/update/delete/users */
    SC_ALBUM_ASSET_ADD, /* PUT /albums/{id}/assets, PUT /albums/assets */
    SC_ALBUM_ASSET_DEL, /* DELETE /albums/{id}/assets */
    SC_TAG_READ,        /* GET /tags, GET /tags/{id} */
    SC_TAG_WRITE,       /* POST/PUT/DELETE tags */
    SC_TAG_ASSET_ADD,   /* PUT /tags/{id}/assets, PUT /tags/assets */
    SC_TAG_ASSET_DEL,   /* DELETE /tags/{id}/assets */
    SC_DUPLICATES,      /* GET /duplicates */
    SC_TIMELINE,        /* GET /timeline/bucket(s) */
    SC_SIM,             /* /__sim/... (never delayed) */
    SC__NR
};

struct sim_req {
    struct sim_lib *lib;
    int dialect;           /* 2 or 3 */
    int minor;             /* 3.x minor: 0 and 1 have no id
                              tie-break in search order */
    struct sim_jobs *jobs; /* background jobs of edits */
    bool create_last;      /* POST /albums answers with
                              lastModifiedAssetTimestamp (not as
                              Immich does; --profile test) */
    const char *method;
    const char *path;            /* without "/api" */
    struct MHD_Connection *conn; /* for query parameters */
    char params[2][64];          /* {id}, {userId} from the path */
    json_t *body;                /* parsed body or NULL */
    uint32_t user;               /* authenticated user (SIM_NONE: none) */
    uint32_t key;                /* API key index (SIM_NONE: none) */
    /* response */
    int status;
    struct buf out;
    const char *location; /* Location header of a 3xx, or NULL */
    bool html;            /* out is an HTML page, not JSON */
    char correlation[16];
    /* latency model inputs */
    long items_plain;   /* items returned without EXIF */
    long items_exif;    /* items returned with EXIF */
    long items_light;   /* ids/columns (timeline) */
    long items_written; /* links or assets changed */
    long items_skipped; /* rows an OFFSET page walked past */
    bool wrote;         /* the request changed state */
};

typedef void sim_handler_fn(struct sim_req *r);

/* ---- helpers for handlers (sim_request.c) ---- */

/* A query parameter or NULL. */
const char *sim_query(const struct sim_req *r, const char *name);
/* Query boolean: 1 "true", 0 "false", -1 absent. */
int sim_query_bool(const struct sim_req *r, const char *name);

/* Error body in the dialect's shape; message is plain text. */
void sim_error(struct sim_req *r, int status, const char *fmt, ...)
    IA_PRINTF(3, 4);
/*
 * A validation error (400): 2.x {"message":[msg2],...}; 3.x
 * {"message":"Validation failed","errors":[issue3]} where issue3 is a
 * ready JSON object.
 */
void sim_error_validation(struct sim_req *r, const char *msg2,
                          const char *issue3);

/* Parses a UUID as the dialect accepts it (3.x: version 4 only). */
bool sim_uuid_ok(const struct sim_req *r, const char *s, struct uuid *out);
/* Parses the path parameter i as a UUID, answering 400 if it is not. */
int sim_param_uuid(struct sim_req *r, int i, const char *name,
                   struct uuid *out);
/* The query parameter name as a UUID: 1, 0 when absent, -1 after the 400
 * naming it. */
int sim_query_uuid(struct sim_req *r, const char *name, struct uuid *out);

enum sim_ftype {
    FT_UUID,   /* UUID string */
    FT_UUIDS,  /* array of UUID strings */
    FT_NUUIDS, /* array of UUIDs, or null */
    FT_STR,    /* string */
    FT_NSTR,   /* string or null */
    FT_STRS,   /* array of strings */
    FT_BOOL,
    FT_INT,  /* integer in [min, max] */
    FT_NUM,  /* number */
    FT_DATE, /* ISO-8601 string */
    FT_OBJ,  /* object (checked by the handler) */
    FT_ARR,  /* array (checked by the handler) */
    FT_ANY,
};

struct sim_field {
    const char *name;
    enum sim_ftype type;
    bool required;
    int64_t min, max;          /* FT_INT bounds (both 0 = none) */
    const char *const *values; /* FT_STR allowed values, NULL-ended */
};

/*
 * Checks obj (the body, or a nested object) against fields: every key must
 * be listed, every value of the listed type.  On failure writes the 400 and
 * returns -1.  A NULL obj is checked as {}.
 */
int sim_validate(struct sim_req *r, json_t *obj, const struct sim_field *fields,
                 size_t nr);

/* Requires a JSON object body (400 otherwise). */
int sim_need_body(struct sim_req *r);

/* sim_need_body, then sim_validate of the body against fields. */
int sim_body_fields(struct sim_req *r, const struct sim_field *fields,
                    size_t nr);

/* Reads an array of UUIDs already validated; caller frees *out. */
size_t sim_uuid_list(json_t *arr, struct uuid **out);

/*
 * The body of a bulk link (PUT /albums/assets, PUT /tags/assets): two
 * required UUID lists, targets_key (albumIds, tagIds) and assetIds, and
 * nothing else (400 and -1 otherwise).  Reads both; the caller frees
 * *targets and *assets.
 */
int sim_body_bulk_links(struct sim_req *r, const char *targets_key,
                        struct uuid **targets, size_t *targets_nr,
                        struct uuid **assets, size_t *assets_nr);

/*
 * The answer of a per-id bulk endpoint (PUT/DELETE /albums/{id}/assets,
 * /tags/{id}/assets): one BulkIdResponseDto for each of the body's "ids"
 * (validated), in order, whose error is fn's for that asset (SIM_NONE
 * for an unknown id; NULL: done).
 */
typedef const char *sim_bulk_fn(struct sim_req *r, uint32_t asset, void *ctx);
void sim_bulk_ids(struct sim_req *r, sim_bulk_fn *fn, void *ctx);

/* The current time in ms, for updatedAt stamps. */
int64_t sim_now(void);

/* ---- handlers (sim_api_*.c) ---- */

sim_handler_fn sim_api_jobs, sim_api_assets_delete, sim_api_trash_restore,
    sim_api_trash_restore_assets, sim_api_partner_create,
    sim_api_partner_update;
sim_handler_fn sim_api_server_ping, sim_api_server_version,
    sim_api_server_about, sim_api_server_statistics, sim_api_users_me,
    sim_api_users, sim_api_user_get, sim_api_keys_me;
sim_handler_fn sim_api_tags_list, sim_api_tag_get, sim_api_tag_create,
    sim_api_tags_upsert, sim_api_tag_update, sim_api_tag_delete,
    sim_api_tags_bulk_assets, sim_api_tag_assets_add, sim_api_tag_assets_remove;
sim_handler_fn sim_api_search_metadata, sim_api_search_statistics,
    sim_api_asset_get, sim_api_asset_update, sim_api_assets_update,
    sim_api_assets_statistics, sim_api_duplicates, sim_api_timeline_buckets,
    sim_api_timeline_bucket;
sim_handler_fn sim_api_albums_list, sim_api_album_get, sim_api_album_create,
    sim_api_album_update, sim_api_album_delete, sim_api_album_assets_add,
    sim_api_album_assets_remove, sim_api_albums_assets_add,
    sim_api_album_users_add, sim_api_album_user_update,
    sim_api_album_user_remove, sim_api_albums_statistics;

/*
 * POST /__sim/shared-link-upload {albumId, assetId?}: a guest's upload
 * through the album's shared link (sim_api_albums.c).  0, or -1 + err.
 */
/*
 * POST /__sim/upload {"count": N, "ownerId"?}: N new assets of the user
 * (the first user by default), uploaded now, as the mobile app's backup
 * does; answers {"ids": [...]}.
 */
int sim_upload(struct sim_lib *lib, json_t *body, struct buf *out,
               struct buf *err);
int sim_shared_link_upload(struct sim_lib *lib, json_t *body, struct buf *out,
                           struct buf *err);

/* ---- the server (sim_server.c) ---- */

struct sim_opts {
    const char *bind;     /* "127.0.0.1" */
    bool allow_remote;    /* --allow-remote: any bind address */
    int port;             /* 0 = any free port */
    int dialect;          /* 2 or 3 */
    int minor;            /* the 3.x release: 0, 1 or 2 */
    int latency;          /* 0 off, 1 seed preset */
    double latency_scale; /* multiplies every modeled latency */
    int capacity;         /* K concurrent requests served */
    const char *faults;   /* fault spec or NULL */
    uint64_t seed;
    const char *request_log; /* JSON-lines file or NULL */
    bool gzip;               /* compress bodies of 1 KiB and more for
                                clients that accept gzip (as Immich's
                                compression middleware does) */
    struct sim_jobs_opts jobs;
    int public_users; /* -1 the library's, 0 off, 1 on */
    bool deep_cost;   /* OFFSET pages pay for the rows skipped */
    bool one_loop;    /* responses serialise on one thread */
    bool create_last; /* --create-last-modified on */
    bool micros;      /* createdAt/updatedAt carry microseconds */
};

/*
 * Starts serving lib (borrowed, guarded by the server's mutex from now
 * on).  Returns NULL with err on failure.  *port gets the bound port.
 */
struct sim_server *sim_server_start(const struct sim_opts *o,
                                    struct sim_lib *lib, int *port,
                                    struct buf *err);
void sim_server_stop(struct sim_server *s);

#endif
