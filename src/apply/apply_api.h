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
    const struct model *read;   /* the library as read (borrowed, may be
                                   NULL): its albums are never taken for
                                   ones made meanwhile */
    bool fatal;                 /* set by a callback: stop the run */
    struct buf fatal_msg;
};

void apply_api_init(struct apply_api *aa, struct api *api);
void apply_api_release(struct apply_api *aa);

#endif
