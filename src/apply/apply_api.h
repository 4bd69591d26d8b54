/*
 * apply_api.h: the applier's writer bound to the Immich API client.
 *
 *     struct apply_api aa;
 *     apply_api_init(&aa, &api);       // api on the run's engine
 *     apply_run(&plan, &aa.writer, &opts, &outcome, &err);
 *
 * Each batch is submitted at once and runs through the engine with its
 * bounded concurrency and the per-endpoint retry policy of api_write.h
 * (creates are never retried).  Bulk answers are matched to the request's
 * ids by id, not by position.  What a writer error means:
 *   - 401 on any write: the key was refused; the engine winds down, the
 *     batch returns -1 and writer.auth_failed is set (exit 3);
 *   - no response after the retries: the server is gone; same, with
 *     writer.unreachable;
 *   - a stop request (signal): queued requests are cancelled, those in
 *     flight finish; -1 with "stopped by a signal".
 * Anything else (403 missing permission, 400, 5xx after retries) fails
 * that request only; the applier reports it with its endpoint and status.
 */
#ifndef IA_APPLY_API_H
#define IA_APPLY_API_H

#include "api/api_write.h"
#include "apply/apply.h"

struct apply_api {
    struct apply_writer writer; /* pass &writer to apply_run() */
    struct api *api;            /* borrowed */
    struct uuid me;             /* the key's user: albums it owns are
                                   looked up before creating */
    bool know_me;
    const struct model *read; /* the library as read (borrowed, may be
                                 NULL): its albums are never taken for
                                 ones made meanwhile */
    size_t resent;            /* ids sent again after a read-back */
    bool fatal;               /* set by a callback: stop the run */
    struct buf fatal_msg;
};

void apply_api_init(struct apply_api *aa, struct api *api);

/* ---- tag changes undone by background jobs (apply_verify.c) ---- */

#define APPLY_VERIFY_ROUNDS 3

struct apply_verify_opts {
    long max_wait_ms; /* per round, for the job queues */
    long poll_ms;     /* between two GET /jobs */
    /* Called while waiting (may be NULL): jobs ahead, ms waited. */
    void (*waiting)(void *ctx, long pending, long waited_ms);
    void *ctx;
};

struct apply_verify_result {
    bool no_job_access; /* the key may not read GET /jobs */
    bool timed_out;     /* the queues were not empty in time */
    size_t rounds;      /* read-backs made */
    size_t checked;     /* tag changes read back (all rounds) */
    size_t reverted;    /* ... found undone and made again */
};

/*
 * After apply_run(): waits for the server's sidecar and metadata jobs and
 * makes again the tag changes of p (done, per o) that they undid.  0 with
 * res filled (no_job_access: nothing could be checked), or -1 with err
 * when the server failed.
 */
int apply_api_verify_tags(struct apply_api *aa, const struct plan *p,
                          const struct outcome *o,
                          const struct apply_verify_opts *vo,
                          struct apply_verify_result *res, struct buf *err);
void apply_api_release(struct apply_api *aa);

#endif
