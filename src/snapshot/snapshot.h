/*
 * snapshot.h: reads the library from the server into a struct model, in
 * the fewest round trips, fetching only what the configuration reads.
 *
 *     struct snapshot_info info;
 *     struct model m;
 *     model_init(&m);
 *     if (snapshot_load(cfg, eng, NULL, &m, &info, &err) < 0)
 *         fail(err.buf);        // nothing may be written: the run stops
 *     ... rules read m ...
 *     model_release(&m);
 *
 * What is fetched is decided before the first request
 * (snapshot_needs_from_config):
 *   always    server version (its major picks the dialect), users/me,
 *             tags, albums (2.x: owned + shared=true listings), every
 *             asset through POST /search/metadata pages of 1000;
 *   if needed users (album_permissions), album membership (any feature
 *             that reads albums), tag membership of the tags the rules
 *             name (rule, conversion and output tags, and every tag under
 *             the per-group conflict prefix), EXIF dates (duplicate date
 *             correction), duplicate groups (from the assets' duplicateId,
 *             no extra request).
 * Never one request per asset.  docs/http-and-snapshot.md gives the
 * request count of each step and why each path is the cheapest.
 *
 * Fail closed: a read that still fails after the engine's retries stops
 * the load (no new request starts), and snapshot_load() returns -1 with
 * err naming the endpoint and the status, e.g.
 *     "snapshot incomplete: POST /search/metadata: 503 busy"
 * The model is then partial and must not be used for writing.
 */
#ifndef IA_SNAPSHOT_H
#define IA_SNAPSHOT_H

#include "api/api.h"
#include "config/config.h"
#include "http/http_engine.h"
#include "model/model.h"

/* What the configuration reads, hence what the loader fetches. */
struct snapshot_needs {
    bool users;                         /* GET /users */
    bool album_members;                 /* membership of every album */
    bool exif;                          /* exifInfo.dateTimeOriginal */
    bool duplicates;                    /* duplicate groups */
    bool all_tag_members;               /* membership of every tag */
    struct config_strlist tag_names;    /* tags by leaf name or value */
    struct config_strlist tag_prefixes; /* tags whose name or value starts
                                           with one of these */
};

/*
 * Fills n from cfg (owned copies; release with snapshot_needs_release).
 * cfg may be NULL: then everything is needed.
 */
void snapshot_needs_from_config(const struct config *cfg,
                                struct snapshot_needs *n);
void snapshot_needs_release(struct snapshot_needs *n);
/* Adds the members of the tag named (leaf or full value) name. */
void snapshot_needs_add_tag(struct snapshot_needs *n, const char *name);
/* True if the tag named (leaf) `name` with full path `value` is needed. */
bool snapshot_needs_tag(const struct snapshot_needs *n, const char *name,
                        const char *value);

/*
 * Album memberships remembered from earlier runs (the CLI keeps them in
 * the state database).  lookup() is asked, for each album whose members
 * are needed, before a request is made: true with *ids (malloc'ed, freed
 * by the loader) when the members are known for the album as it is listed
 * now (updatedAt, assetCount, lastModifiedAssetTimestamp) in this dialect.
 */
struct snapshot_album_cache {
    void *ctx;
    bool (*lookup)(void *ctx, const struct model *m, uint32_t album,
                   int dialect, struct uuid **ids, size_t *nr);
};

/*
 * The library as the last good read saw it (snapshot_incr.c): the bytes
 * snapshot_prev_encode() made after a complete load, kept by the caller
 * (the state database) and decoded for the next load, which then reads
 * only the assets updated since (an incremental read), or everything
 * when the remembered library and the server's counts disagree.
 */
struct snapshot_prev;
struct snapshot_info;
/* 0 with *out (free with snapshot_prev_free), -1 with err when damaged. */
int snapshot_prev_decode(const void *data, size_t len,
                         struct snapshot_prev **out, struct buf *err);
void snapshot_prev_free(struct snapshot_prev *p);
/* True when asset id was in the library the last good read saw. */
bool snapshot_prev_has(const struct snapshot_prev *p, const struct uuid *id);
/*
 * What a complete load of m (indexed, described by info) leaves for the
 * next one: snapshot_prev_size(m) bytes, handed to write() in pieces of
 * up to 1 MiB (a million assets are a few hundred MB, never held whole).
 */
typedef void snapshot_write_fn(void *ctx, const void *data, size_t len);
size_t snapshot_prev_size(const struct model *m);
void snapshot_prev_encode(const struct model *m,
                          const struct snapshot_info *info,
                          const struct snapshot_needs *needs,
                          snapshot_write_fn *write, void *ctx);

/*
 * Where the remembered library comes from: get() is asked once the key's
 * user is known (m->me set), before the assets are read; NULL means a
 * full read.
 */
struct snapshot_prev_source {
    void *ctx;
    const struct snapshot_prev *(*get)(void *ctx, const struct model *m);
};

struct snapshot_opts {
    int dialect;                        /* 0 = from the server, 2 or 3 */
    const struct snapshot_needs *needs; /* NULL = from the configuration */
    int64_t split_min;                  /* read a pass of at least this
                                           many assets in date ranges;
                                           0 = 50,000, INT64_MAX = never */
    const struct snapshot_album_cache *albums; /* NULL: read every album */
    const struct snapshot_prev_source *prev;   /* NULL: a full read */
};

#define SNAPSHOT_OPTS_INIT                                                     \
    {                                                                          \
        0, NULL, 0, NULL, NULL                                                 \
    }

struct snapshot_info {
    bool complete;        /* every read succeeded */
    int dialect;          /* 2 or 3 */
    int64_t server_total; /* assets the statistics announced */
    size_t assets;        /* assets in the model (own + partners) */
    long users_listed;    /* users GET /users listed, -1 not read */
    size_t partner_assets;
    size_t albums, albums_loaded; /* albums / with membership */
    size_t albums_cached;         /* membership remembered, not read */
    size_t albums_empty;          /* assetCount 0: nothing to read */
    size_t tags, tags_loaded;     /* tags / with membership */
    size_t dups;
    size_t skipped_links;         /* album/tag members not in the model (other
                                     users' assets of shared albums) */
    size_t repair_requests;       /* 2.x page-boundary re-reads */
    size_t range_passes;          /* date-range statistics calls (split) */
    size_t exif_fallback_passes;  /* passes read again without withExif
                                     (assets without an EXIF row) */
    size_t exif_recovered_passes; /* short EXIF passes completed from the
                                     memberships and isNotInAlbum pages */
    size_t albums_cache_bypassed; /* remembered albums read again: a
                                     member was missing from the EXIF pass */
    uint64_t requests;            /* requests the load submitted */
    enum api_fail fail_kind;      /* why the first failed read failed
                                     (API_OK when none): the CLI exits 3 for
                                     API_FAIL_AUTH / API_FAIL_NETWORK */
    long fail_http;               /* its HTTP status, 0 when none */
    int64_t server_date;          /* the server's clock when the read began (the
                                     version answer's Date), 0 unknown */
    bool incremental;             /* the assets were rebuilt from opts->prev */
    size_t changed;     /* ... of which read now (MODEL_ASSET_CHANGED) */
    char full_why[160]; /* with opts->prev, why it read everything */
};

/*
 * Loads the library into out (initialised by the caller with
 * model_init(), empty).  Sets out->me, the server version, every record
 * and membership, members_known on the tags and albums whose membership
 * was read, then calls model_build_indexes().  Returns 0, or -1 with one
 * line in err (the model is then incomplete; info->complete is false).
 * eng is borrowed; its stop flag and wrap-up are honoured.
 */
int snapshot_load(const struct config *cfg, struct http_engine *eng,
                  const struct snapshot_opts *opts, struct model *out,
                  struct snapshot_info *info, struct buf *err);

/*
 * Lists the albums again as snapshot_load() did and compares them with
 * m: 1 when one was created, deleted, or has another updatedAt or
 * assetCount (what names the first, "album 'X' changed"), 0 when none,
 * -1 with err when the list could not be read.  unread (may be NULL) gets
 * each answer's albums that m does not have (none, with the failed
 * status, when an answer failed): the album creates reuse them by name
 * (apply_api_listed() in apply/apply_api.h).
 */
int snapshot_albums_changed(struct http_engine *eng, int dialect,
                            const struct model *m, api_albums_fn *unread,
                            void *unread_ctx, struct buf *what,
                            struct buf *err);

/* What `immich-autotag check` found; the CLI maps it to its exit code. */
enum snapshot_check_class {
    SNAPSHOT_CHECK_OK = 0,     /* exit 0 */
    SNAPSHOT_CHECK_FAILED = 1, /* server error or unexpected answer: 1 */
    SNAPSHOT_CHECK_CONFIG = 2, /* configuration cannot work: exit 2 */
    SNAPSHOT_CHECK_SERVER = 3, /* unreachable, 401/403, missing
                                  permission: exit 3 */
};

/*
 * The checks of `immich-autotag check`, read-only: server reachable and
 * its version and dialect, the API key's user, every permission the
 * configured features need (GET /api-keys/me; nothing is written), and a
 * one-line summary of the library's size.  Appends human lines to report
 * (for stdout), e.g.
 *     server: http://photos.lan:2283 reachable, Immich 2.7.5 (dialect 2)
 *     user: John <john@example.com>
 *     permissions: all needed permissions granted (tag.asset, ...)
 *     library: 26562 assets (25000 images, 1562 videos), 340 albums, 85 tags
 * and on failure one line to err ("server: GET /users/me: 401 Invalid
 * API key", "missing permissions: album.create, tag.asset").
 */
enum snapshot_check_class snapshot_check(const struct config *cfg,
                                         struct http_engine *eng,
                                         struct buf *report, struct buf *err);
/*
 * Permissions the configured features need: the reads of every run, then
 * the writes of the plan groups those features can make, named and
 * ordered as src/apply/apply_perms.h's table (what `run` checks against
 * its plan).  Static strings in out[0..max); returns how many (possibly
 * more than max).  cfg NULL: every feature.
 */
size_t snapshot_needed_permissions(const struct config *cfg, const char **out,
                                   size_t max);

/*
 * The server's records as model records (snapshot_model.c), shared by
 * the library read and `explain`.  snapshot_model_user() finds or adds
 * (without email or name) the user of id; snapshot_model_tags() adds the
 * tags, then links their parents; snapshot_model_album() adds the album
 * with its members; snapshot_model_asset() fills *r from a (not added:
 * the caller decides), flagging partners' assets (owner other than me).
 */
uint32_t snapshot_model_user(struct model *m, const struct uuid *id);
void snapshot_model_tags(struct model *m, const struct api_tag *tags, size_t nr,
                         bool members_known);
uint32_t snapshot_model_album(struct model *m, const struct api_album *a);
void snapshot_model_asset(struct model *m, const struct api_asset *a,
                          const struct uuid *me, struct model_asset *r);

#endif
