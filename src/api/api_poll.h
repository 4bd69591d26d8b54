/*
 * api_poll.h: the requests of a watch-mode poll (run --watch).
 *
 * Asks whether anything a pass would read has changed since a point of
 * the server's clock, at a cost that does not depend on the library's
 * size: two requests on 3.x, five on 2.x (below), one more (GET
 * /server/version) on the first poll when the server line is not known:
 *
 *   POST /search/metadata {"updatedAfter": since, "withDeleted": true,
 *                          "size": API_POLL_PAGE}
 *     the assets uploaded, edited, trashed or restored since then: each
 *     of these updates the asset row, whose updatedAt trigger moves
 *     (docs/simulator.md "Members that change behind the album"); their
 *     ids and updatedAt, the first page only.  (Not /search/statistics:
 *     its DTO has no withDeleted, so it cannot count the trash.)  2.x
 *     searches the timeline only by default: it is asked three times,
 *     "visibility" timeline, archive and hidden, the passes the full
 *     read makes.
 *   GET /albums
 *     a fingerprint of the album list (ids, names, owners, members and
 *     their roles, updatedAt, assetCount, lastModifiedAssetTimestamp):
 *     an asset added to or taken out of an album, which leaves the asset
 *     row alone, moves its album's updatedAt or assetCount; a member
 *     added, removed or given another role changes the members.  3.x
 *     lists the albums the caller owns and those shared with it; 2.x
 *     only those it owns, so its poll lists GET /albums?shared=true too
 *     (owned and shared, or shared with the caller), as the full read
 *     does: an album shared with the caller that changes, appears or
 *     disappears moves the fingerprint on both lines.
 *
 * The search answer's Date header is the server's clock: the next poll
 * asks "since" that, so a change made while a pass reads is seen by the
 * poll after it, whatever this machine's clock says.
 *
 *     api_poll_changes(&api, since_ms, on_changes, &ctx);
 *     http_engine_run(eng, &err);
 */
#ifndef IA_API_POLL_H
#define IA_API_POLL_H

#include "api/api.h"

/* Assets asked for per search: a poll that finds this many (more
 * pending) just says "more". */
#define API_POLL_PAGE 1000

/* An asset the search returned. */
struct api_changed {
    struct uuid id;
    int64_t updated_at;
};

struct api_changes {
    const struct api_changed *items; /* updatedAt >= since, trash
                                        included (every asset when since
                                        is TIME_NONE); the first page */
    size_t nr;
    bool more;          /* the search had more pages */
    int64_t server_ms;  /* the search answer's Date header, ms since the
                           epoch; TIME_NONE when the server sent none */
    uint64_t albums_fp; /* fingerprint of the album lists, independent of
                           their order */
    size_t albums_nr;   /* albums listed (2.x: an owned album shared
                           out is in both lists) */
};

/* st is the first failure of the requests (or ok); ch is NULL then.
 * ch and its items are borrowed for the call. */
typedef void api_changes_fn(void *ctx, const struct api_status *st,
                            const struct api_changes *ch);

/* Submits the requests; cb is called once, when all have ended.
 * since_ms: TIME_NONE = no updatedAfter filter.  With a->dialect 0 it
 * asks GET /server/version first and sets a->dialect (once: keep it for
 * the next polls). */
void api_poll_changes(struct api *a, int64_t since_ms, api_changes_fn *cb,
                      void *ctx);

#endif
