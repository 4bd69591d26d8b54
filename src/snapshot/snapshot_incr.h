/*
 * snapshot_incr.h: the incremental read, private to the snapshot module
 * (snapshot_load.c calls it; snapshot.h has the public side:
 * snapshot_prev_decode/encode).
 */
#ifndef IA_SNAPSHOT_INCR_H
#define IA_SNAPSHOT_INCR_H

#include "snapshot/snapshot.h"

/* A visibility pass of the full read and the statistics' count of it. */
struct incr_pass {
    const char *visibility; /* NULL = the server's default */
    int64_t total;
};

/* Called for each rebuilt asset that carries a duplicateId. */
typedef void incr_dup_fn(void *ctx, uint32_t asset, const struct uuid *dup);

/*
 * Rebuilds the model's assets from prev plus the assets updated since
 * prev was read (updatedAfter, with trashed ones), and checks the result
 * against the statistics' count of every pass.  1: the assets are in m
 * (flagged MODEL_ASSET_CHANGED where read now; m->changes_only set);
 * 0: nothing was added, the caller reads everything (why says what
 * disagreed); -1: a read failed (*st holds its status).
 */
int snapshot_incr_assets(struct api *api, const struct snapshot_prev *prev,
                         const struct snapshot_needs *needs,
                         const struct incr_pass *passes, size_t passes_nr,
                         const struct uuid *me, struct model *m,
                         incr_dup_fn *dup, void *dup_ctx, struct api_status *st,
                         struct buf *why);

/*
 * After the memberships are read: flags the assets whose albums or tags
 * differ from prev's, and sets `changed` on the albums that are new or
 * whose name, users or members differ.  Call before indexing.
 */
void snapshot_incr_flag(const struct snapshot_prev *prev, struct model *m);

#endif
