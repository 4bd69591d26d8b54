/*
 * apply_verify.c: tag changes that Immich's background jobs undid are
 * found and made again.
 *
 * Immich writes every tag change to the asset's XMP sidecar in a
 * background job, then re-reads the file; in 2.x that re-read replaces
 * the asset's tags with the sidecar's (docs/simulator.md, "Background
 * jobs").  A tag change made through the API between a sidecar write and
 * its re-read is undone seconds later.  So after the writes, when the key
 * may read the job queues (GET /jobs: job.read, admin user), the run
 * waits until the sidecar and metadata queues are empty (bounded), reads
 * back the members of every tag it changed, and makes again what was
 * undone (apply_api_settle(): the same read-back and resend as for a lost
 * answer); then waits and checks once more, a few rounds at most.
 */
#include "apply/apply_api_int.h"

#include <time.h>

#include "core/sigflag.h"

struct poll {
    long pending;
    bool ok, denied;
    struct buf err;
};

static void on_jobs(void *ctx, const struct api_status *st, long pending)
{
    struct poll *pl = ctx;

    pl->ok = st->ok;
    pl->pending = pending;
    if (!st->ok) {
        pl->denied = st->kind == API_FAIL_AUTH;
        buf_addstr(&pl->err, st->error);
    }
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    (void)nanosleep(&ts, NULL);
}

/*
 * Waits until at most `below` sidecar and metadata jobs are ahead.  1
 * when they are, 0 when max_wait_ms ran out (or a signal came), -1 with
 * err when the queues cannot be read (*denied: the key may not).
 * *waited (may be NULL) gets the time waited.  Shared by the tag check
 * below and the hold before writes (apply_api.c).
 */
int apply_api_wait_jobs(struct apply_api *aa, long below, long max_wait_ms,
                        long poll_ms, apply_jobs_wait_fn *waiting, void *ctx,
                        bool *denied, long *waited_out, struct buf *err)
{
    long waited = 0;
    int ret;

    for (;;) {
        struct poll pl = {0, false, false, BUF_INIT};

        api_jobs_pending(aa->api, on_jobs, &pl);
        if (http_engine_run(aa->api->eng, err) < 0) {
            buf_release(&pl.err);
            ret = -1;
            break;
        }
        if (!pl.ok) {
            *denied = pl.denied;
            buf_addstr(err, pl.err.buf);
            buf_release(&pl.err);
            ret = -1;
            break;
        }
        buf_release(&pl.err);
        if (pl.pending <= below) {
            ret = 1;
            break;
        }
        if (waited >= max_wait_ms || sig_stop_requested) {
            ret = 0;
            break;
        }
        if (waiting)
            waiting(ctx, pl.pending, waited);
        sleep_ms(poll_ms);
        waited += poll_ms;
    }
    if (waited_out)
        *waited_out = waited;
    return ret;
}

/* Requests that ask the server again about every tag change made. */
static size_t question_batch(const struct plan *p, const struct outcome *o,
                             struct apply_req **out)
{
    struct apply_req *reqs = NULL;
    size_t nr = 0, alloc = 0;

    for (size_t g = 0; g < p->nr; g++) {
        const struct plan_group *pg = &p->groups[g];
        const struct outcome_group *og = &o->groups[g];
        struct uuid *ids = NULL;
        size_t n = 0;

        if ((pg->op != PLAN_TAG_ADD && pg->op != PLAN_TAG_REMOVE) ||
            !og->has_target)
            continue;
        for (size_t i = 0; i < pg->nr; i++) {
            if (og->status[i] != OUTCOME_DONE)
                continue;
            if (!ids)
                ids = xcalloc(pg->nr, sizeof(*ids));
            ids[n++] = pg->items[i].id;
        }
        if (!n)
            continue;
        ALLOC_GROW(reqs, nr + 1, alloc);
        memset(&reqs[nr], 0, sizeof(reqs[nr]));
        reqs[nr].kind = pg->op == PLAN_TAG_ADD ? APPLY_TAG_ASSETS_ADD
                                               : APPLY_TAG_ASSETS_REMOVE;
        reqs[nr].group = g;
        reqs[nr].target = og->target;
        reqs[nr].ids = ids;
        reqs[nr].ids_nr = n;
        /* answered as a whole, each id still to be confirmed */
        reqs[nr].result = APPLY_REQ_OK;
        reqs[nr].id_status = xcalloc(n, 1);
        reqs[nr].id_error = xcalloc(n, 1);
        nr++;
    }
    *out = reqs;
    return nr;
}

static void batch_free(struct apply_req *reqs, size_t nr)
{
    for (size_t i = 0; i < nr; i++) {
        free((void *)reqs[i].ids);
        free(reqs[i].id_status);
        free(reqs[i].id_error);
        free(reqs[i].message);
    }
    free(reqs);
}

int apply_api_verify_tags(struct apply_api *aa, const struct plan *p,
                          const struct outcome *o,
                          const struct apply_verify_opts *vo,
                          struct apply_verify_result *res, struct buf *err)
{
    memset(res, 0, sizeof(*res));
    for (int round = 0; round < APPLY_VERIFY_ROUNDS; round++) {
        struct apply_req *reqs;
        size_t nr, before;
        bool denied = false;
        int w = apply_api_wait_jobs(aa, 0, vo->max_wait_ms, vo->poll_ms,
                                    vo->waiting, vo->ctx, &denied, NULL, err);

        if (w < 0) {
            if (denied) {
                buf_reset(err);
                res->no_job_access = true;
                return 0;
            }
            return -1;
        }
        if (w == 0) {
            res->timed_out = true;
            return 0;
        }
        nr = question_batch(p, o, &reqs);
        if (!nr) {
            batch_free(reqs, nr);
            return 0;
        }
        before = aa->resent;
        res->rounds++;
        for (size_t i = 0; i < nr; i++)
            res->checked += reqs[i].ids_nr;
        if (apply_api_settle(aa, reqs, nr, err) < 0) {
            batch_free(reqs, nr);
            return -1;
        }
        batch_free(reqs, nr);
        res->reverted += aa->resent - before;
        if (aa->resent == before)
            return 0; /* nothing was undone: done */
    }
    return 0;
}
