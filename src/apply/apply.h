/*
 * apply.h: the plan turned into the fewest write requests.
 *
 * The applier walks the plan in a fixed order of phases, because later
 * phases need what earlier ones created:
 *
 *   1. tags upsert     every missing tag in one PUT /tags
 *   2. album creates   one POST /albums per new album, carrying the
 *                      album's first assets (assetIds) so that a new
 *                      album costs one request, not two (never retried
 *                      blindly: a create is not idempotent)
 *   3. album adds      PUT /albums/{id}/assets, one per album per chunk
 *   4. tag adds        PUT /tags/{id}/assets, one per tag per chunk
 *   5. tag removes     DELETE /tags/{id}/assets
 *   6. album removes   DELETE /albums/{id}/assets
 *   7. album deletes   DELETE /albums/{id}
 *   8. sharing         PUT /albums/{id}/users (all users of an album at
 *                      once), PUT|DELETE /albums/{id}/user/{userId}
 *   9. dates           PUT /assets {ids, dateTimeOriginal} per date
 *
 * Only some of that order is needed: an add to a new album needs its id
 * (its create), an add to a new tag the upsert, a move's removal of its
 * source the add that moved it (hold_unconfirmed_moves()), a removal of
 * an (asset, tag or album) pair the run also adds that add, an album's
 * delete the removals that emptied it, and the sharing of a new album its
 * id.  Everything else goes in phase 2's batch, next to the creates, so
 * that the engine keeps its slots busy where phases used to wait for one
 * another: the adds to albums and tags that exist already, the other
 * removals, the dates and the sharing of albums that exist (not one the
 * plan deletes).  The later phases send what is left.  With fail_fast the
 * phases run one after the other, as listed.
 *
 * Within a phase the requests are independent: they go to the writer as
 * one batch, which runs them through the HTTP engine with its bounded
 * concurrency and retry policy.  Ids are chunked (APPLY_CHUNK_DEFAULT per
 * request; a bulk phase's ids are spread over opts.slots requests).  Every bulk
 * call returns one result per id; they land in the struct outcome
 * (apply/outcome.h) next to the plan item they belong to.
 *
 * Failures:
 *   - a per-id failure (no_permission, validation...) marks that item
 *     FAILED and the run goes on, unless fail_fast is set: then no phase
 *     starts after the one that saw it (outcome.aborted);
 *   - a request that fails as a whole marks its items FAILED with the
 *     endpoint and status in the group's message; an all-or-nothing bulk
 *     request (dates, sharing) that fails for several ids is retried one
 *     id per request so that one bad id does not sink the others;
 *   - a writer error (authentication refused, server unreachable, stop
 *     requested) ends the run: apply_run() returns APPLY_STOPPED and the
 *     items never sent stay PENDING.
 *
 * SIGINT/SIGTERM (core/sigflag.h): no phase starts after the flag is set;
 * the writer lets in-flight requests finish.  outcome.interrupted is set.
 *
 * The writer is an interface so that the order, chunking and outcome
 * mapping can be tested without a server; apply_api.h binds it to the
 * Immich API client.
 */
#ifndef IA_APPLY_H
#define IA_APPLY_H

#include "model/model.h"
#include "apply/outcome.h"

#define APPLY_CHUNK_DEFAULT 5000
/* With apply_opts.slots, the fewest ids a bulk request is cut down to. */
#define APPLY_SPREAD_MIN 250

enum apply_phase {
    APPLY_PHASE_TAG_UPSERT,
    APPLY_PHASE_ALBUM_CREATE,
    APPLY_PHASE_ALBUM_ADD,
    APPLY_PHASE_TAG_ADD,
    APPLY_PHASE_TAG_REMOVE,
    APPLY_PHASE_ALBUM_REMOVE,
    APPLY_PHASE_ALBUM_DELETE,
    APPLY_PHASE_SHARING,
    APPLY_PHASE_DATES,
    APPLY_PHASE_COUNT
};

/* What one request does; one enum value per Immich write endpoint. */
enum apply_kind {
    APPLY_TAGS_UPSERT,         /* PUT /tags {tags: names} */
    APPLY_ALBUM_CREATE,        /* POST /albums {albumName[, assetIds]} */
    APPLY_ALBUM_ASSETS_ADD,    /* PUT /albums/{target}/assets {ids} */
    APPLY_TAG_ASSETS_ADD,      /* PUT /tags/{target}/assets {ids} */
    APPLY_TAG_ASSETS_REMOVE,   /* DELETE /tags/{target}/assets {ids} */
    APPLY_ALBUM_ASSETS_REMOVE, /* DELETE /albums/{target}/assets {ids} */
    APPLY_ALBUM_DELETE,        /* DELETE /albums/{target} */
    APPLY_ALBUM_USERS_ADD,     /* PUT /albums/{target}/users {albumUsers} */
    APPLY_ALBUM_USER_ROLE,     /* PUT /albums/{target}/user/{ids[0]} {role} */
    APPLY_ALBUM_USER_REMOVE,   /* DELETE /albums/{target}/user/{ids[0]} */
    APPLY_ASSETS_DATE,         /* PUT /assets {ids, dateTimeOriginal} */
    APPLY_KIND_COUNT
};

/* The result of one request as a whole. */
enum apply_req_result {
    APPLY_REQ_UNSENT = 0, /* never sent (stopped before it) */
    APPLY_REQ_OK,         /* 2xx; per-id results are in id_status */
    APPLY_REQ_FAILED,     /* refused or failed: see status and message */
};

/*
 * One write request.  The applier fills the inputs; the writer fills the
 * results.  For the bulk-id kinds the writer sets id_status[i]/id_error[i]
 * for ids[i] from the server's BulkIdResponseDto (an id missing from the
 * response is FAILED/UNKNOWN); for the all-or-nothing kinds (users, role,
 * date, delete) it may leave them and the applier derives them from
 * `result`.
 */
struct apply_req {
    enum apply_kind kind;
    size_t group;             /* plan group it serves (SIZE_MAX: upsert) */
    struct uuid target;       /* tag / album id */
    const char *name;         /* album name for CREATE */
    const char *const *names; /* tag names for UPSERT (borrowed) */
    size_t names_nr;
    const struct uuid *ids; /* asset or user ids (CREATE: the assets
                               to put in the new album, may be none) */
    size_t ids_nr;
    size_t first;   /* index in the group of ids[0] */
    int role;       /* enum model_role for users add / role */
    int64_t date;   /* APPLY_ASSETS_DATE: instant, ms UTC */
    int offset_min; /* APPLY_ASSETS_DATE: zone offset */

    /* Results (writer). */
    enum apply_req_result result;
    int http_status;               /* 0 when no response */
    char *message;                 /* failure: "PUT /tags/{id}/assets: 403
                                      Missing required permission: tag.asset"
                                      (owned by the request) */
    uint8_t *id_status;            /* ids_nr entries: enum outcome_status */
    uint8_t *id_error;             /* ids_nr entries: enum outcome_error */
    struct uuid *created;          /* CREATE: [0]; UPSERT: one per name, in
                                      order (allocated by the applier) */
    long created_assets;           /* CREATE: the new album's assetCount (the
                                      server drops ids the key may not share
                                      without saying which) */
    int64_t created_updated_at;    /* CREATE: its updatedAt */
    int64_t created_last_modified; /* CREATE: lastModifiedAssetTimestamp */
    bool *created_ok;              /* per created entry */
    bool unknown;                  /* the writer could not tell whether the
                                      server made the change (no answer, an
                                      answer cut short, a 5xx): it reads the
                                      target back before reporting */
    bool reused;                   /* CREATE: an album of that name, owned by
                                      the key's user, existed already (another
                                      run made it): created[0] is its id and
                                      nothing was created */
};

/*
 * The writer: executes a batch of independent requests (concurrently, in
 * any order) and fills their results.  Returns 0 when the batch ran (some
 * requests may have failed: see each result), or -1 with a message when
 * the run must stop (authentication refused, server unreachable after the
 * retries, stop requested): requests it did not send stay UNSENT.
 * `auth_failed` (if the writer sets it) tells the CLI to exit 3.
 */
struct apply_writer {
    void *ctx;
    int (*execute)(void *ctx, struct apply_req *reqs, size_t nr,
                   struct buf *err);
    bool auth_failed; /* set by the writer on 401 */
    bool unreachable; /* set by the writer when the server is
                         gone */
};

/* Progress callback: phase, requests finished / total in the phase. */
typedef void apply_progress_fn(void *ctx, enum apply_phase phase, size_t done,
                               size_t total);

struct apply_opts {
    size_t chunk;                /* ids per request; 0 = default */
    bool fail_fast;              /* performance.fail_fast_on_asset_errors */
    bool dry_run;                /* send nothing, outcome all PENDING */
    apply_progress_fn *progress; /* may be NULL */
    void *progress_ctx;
    size_t slots; /* requests the writer runs at once: a
                     bulk phase's ids are spread over that
                     many requests (at least
                     APPLY_SPREAD_MIN ids each), so that one
                     big request is not the phase's tail;
                     0 = chunk only */
};

enum apply_result {
    APPLY_OK = 0,      /* every request made (per-id failures counted
                          in the outcome) */
    APPLY_STOPPED = 1, /* signal, fail-fast or writer stop: outcome
                          says which; err has the writer's message */
};

/*
 * Applies plan p through w, recording every item's fate in o (which
 * outcome_init(o, p) prepared).  Never fails on per-id problems; returns
 * APPLY_STOPPED as described above.  o->requests counts the requests
 * sent; outcome_tally() has been called on return.
 */
enum apply_result apply_run(const struct plan *p, struct apply_writer *w,
                            const struct apply_opts *opts, struct outcome *o,
                            struct buf *err);

const char *apply_phase_name(enum apply_phase ph);
/* "PUT /tags/{id}/assets" */
const char *apply_kind_endpoint(enum apply_kind k);

/*
 * Is the saved plan still good for the server as it is now?  `fresh` is
 * the plan computed from a new snapshot `m` of the same server.  Every
 * item of `saved` must either still be planned in `fresh` (same op, same
 * tag/album, same id) or already be true in m (the tag is there, the
 * asset is in the album...); every existing tag/album it names must still
 * exist, and an album it would create must not exist yet.  Returns 0, or
 * -1 with "saved plan is stale: <first reason> (<n> items)".
 */
int apply_check_stale(const struct plan *saved, const struct plan *fresh,
                      const struct model *m, struct buf *err);

#endif
