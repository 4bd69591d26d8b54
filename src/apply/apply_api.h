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

/*
 * The albums the one listing between the read and the writes found that
 * the read had not (made meanwhile by another writer): the torn-read
 * check lists the albums before the first write
 * (snapshot_albums_changed() in snapshot/snapshot.h) and hands them
 * here through apply_api_listed(); the album creates reuse one of the
 * same name that the key's user owns (reuse_existing_albums() in
 * apply_api.c) rather than list the albums once more.
 */
struct apply_listed {
    bool answered; /* an answer came */
    bool failed;   /* an answer failed: nothing is created */
    struct apply_listed_album {
        char *name;
        struct uuid id, owner;
    } * v;
    size_t nr, alloc;
};

/* An api_albums_fn: records albums (ctx: struct apply_listed). */
void apply_api_listed(void *ctx, const struct api_status *st,
                      const struct api_album *albums, size_t nr);
/* Frees what l holds and empties it, for the next listing. */
void apply_listed_reset(struct apply_listed *l);

struct apply_api {
    struct apply_writer writer; /* pass &writer to apply_run() */
    struct api *api;            /* borrowed */
    struct uuid me;             /* the key's user: albums it owns are
                                   looked up before creating */
    bool know_me;
    const struct model *read;          /* the library as read (borrowed, may be
                                          NULL): its albums are never taken for
                                          ones made meanwhile */
    const struct apply_listed *listed; /* the listing before the writes
                                          (borrowed); NULL or not
                                          answered: no album is
                                          created */
    size_t resent;                     /* ids sent again after a read-back */
    struct apply_hold *hold;           /* NULL: never hold writes (borrowed) */
    bool fatal;                        /* set by a callback: stop the run */
    struct buf fatal_msg;
};

void apply_api_init(struct apply_api *aa, struct api *api);

/* ---- the server's background jobs (apply_verify.c) ---- */

/* Called while waiting for the job queues: jobs ahead, ms waited. */
typedef void apply_jobs_wait_fn(void *ctx, long pending, long waited_ms);

/*
 * Holding writes while the server's queues are deep: every tag change
 * and date change queues a sidecar write and a metadata re-read per
 * asset (docs/simulator.md, "Background jobs").  When the key may read
 * the queues (GET /jobs), after each `threshold` asset ids sent in such
 * writes the writer asks how many sidecar and metadata jobs are ahead and
 * sends no more of them until at most `threshold` are (at most
 * max_wait_ms per hold; then it goes on, and says so).  So one run keeps
 * about 2 x threshold jobs queued at most.
 */
#define APPLY_HOLD_DEFAULT     5000   /* jobs */
#define APPLY_HOLD_MAX_DEFAULT 300000 /* ms */

struct apply_hold {
    long threshold;              /* jobs ahead; 0 = never hold */
    long max_wait_ms;            /* per hold */
    long poll_ms;                /* between two GET /jobs */
    apply_jobs_wait_fn *waiting; /* may be NULL */
    /* After a hold (may be NULL): how long writes were held. */
    void (*held)(void *ctx, long waited_ms);
    void *ctx;
    /* what happened */
    long since_check; /* ids sent since the queues were last asked */
    bool off;         /* the queues cannot be read: no more holding */
    bool denied;      /* ... because the key may not (403) */
    size_t holds;     /* times writes were held */
    size_t timeouts;  /* holds that ran out of time */
    long held_ms;     /* time writes were held, in all */
};

#define APPLY_VERIFY_ROUNDS 3

struct apply_verify_opts {
    long max_wait_ms;            /* per round, for the job queues */
    long poll_ms;                /* between two GET /jobs */
    apply_jobs_wait_fn *waiting; /* may be NULL */
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
/*
 * Waits until at most `below` sidecar and metadata jobs are ahead: 1
 * when they are, 0 when max_wait_ms ran out or a signal came, -1 with err
 * when GET /jobs failed (*denied: 403, the key may not read it).
 * *waited (may be NULL) gets the ms waited.
 */
int apply_api_wait_jobs(struct apply_api *aa, long below, long max_wait_ms,
                        long poll_ms, apply_jobs_wait_fn *waiting, void *ctx,
                        bool *denied, long *waited, struct buf *err);
void apply_api_release(struct apply_api *aa);

#endif
