/*
 * sim_jobs.h: Immich's background jobs after an asset edit, as far as the
 * API can see them (docs/simulator.md, "Background jobs").
 *
 * Every tag or untag and every metadata edit queues a SidecarWrite (queue
 * "sidecar"); when it succeeds it queues AssetExtractMetadata (queue
 * "metadataExtraction").  The write copies the asset's tag list and EXIF
 * date into the XMP sidecar; the extraction reads the sidecar back: it
 * moves fileCreatedAt/localDateTime to the EXIF date, moves updatedAt and,
 * in the 2.x dialect, replaces the asset's tags with the sidecar's list
 * (so an API change made between the two is reverted).  A read-only asset
 * fails its sidecar write and nothing follows.
 *
 * Jobs run in real time: each waits at least `delay` after it is queued,
 * and each queue finishes at most `rate` jobs a second.  Nothing runs in
 * the background: sim_jobs_run() catches up with the clock, and the
 * server calls it (under the library lock) before every request.
 *
 *     struct sim_jobs_opts o;
 *     sim_jobs_parse("delay=2s,rate=200/s", &o, &err);
 *     struct sim_jobs *j = sim_jobs_new(&o, lib, dialect);
 *     sim_jobs_edit(j, asset, SIM_EDIT_TAGS, sim_now());
 *     sim_jobs_run(j, sim_now());
 *     sim_jobs_free(j);
 */
#ifndef IA_SIM_JOBS_H
#define IA_SIM_JOBS_H

#include "sim/sim_store.h"

struct sim_jobs_opts {
    bool on;          /* false: "--jobs off", the deterministic profile */
    int64_t delay_ms; /* a job's least wait after it is queued */
    double rate;      /* jobs a second per queue; 0 = unlimited */
};

/* The realistic default: 2 s before a job runs, 200 jobs/s per queue. */
#define SIM_JOBS_OPTS_INIT                                                     \
    {                                                                          \
        true, 2000, 200.0                                                      \
    }

/*
 * Parses "off" or "delay=D,rate=R" (D as 250ms, 2s or 1h; R as 200/s or
 * 200); keys left out keep o's value.  0, or -1 with err.
 */
int sim_jobs_parse(const char *spec, struct sim_jobs_opts *o, struct buf *err);

enum sim_edit {
    SIM_EDIT_TAGS = 1u << 0, /* the tag list changed */
    SIM_EDIT_DATE = 1u << 1, /* the EXIF date changed */
};

struct sim_jobs;

struct sim_jobs *sim_jobs_new(const struct sim_jobs_opts *o,
                              struct sim_lib *lib, int dialect);
void sim_jobs_free(struct sim_jobs *j);
/* False with "--jobs off". */
bool sim_jobs_on(const struct sim_jobs *j);

/*
 * An API edit of asset (enum sim_edit bits) at time now: queues its
 * SidecarWrite.  With jobs off, its effects happen at once instead: a
 * date edit moves fileCreatedAt/localDateTime unless the asset is
 * read-only; tags and updatedAt are left alone.
 */
void sim_jobs_edit(struct sim_jobs *j, uint32_t asset, unsigned edit,
                   int64_t now);

/* Runs every job due by now, in the order they fall due. */
void sim_jobs_run(struct sim_jobs *j, int64_t now);

/*
 * Runs the next n jobs (of one queue if queue is not NULL: "sidecar" or
 * "metadataExtraction"), whenever they fall due: the test driver's way to
 * order a race.  Returns how many ran.
 */
long sim_jobs_step(struct sim_jobs *j, const char *queue, long n);

/*
 * For /__sim/stats: "jobs":{"on", per queue {"pending", "completed",
 * "failed"}, "drain_ms" (until the last queued job is due; 0 = none),
 * "max_ahead_at_write" (the most sidecar + metadata jobs pending when a
 * write queued its first job: how deep a client let the queues get)}.
 */
void sim_jobs_stats_json(const struct sim_jobs *j, struct buf *b, int64_t now);

/* GET /jobs: every queue of the dialect with its counts at time now. */
void sim_jobs_json(const struct sim_jobs *j, struct buf *b, int64_t now);

/* fileCreatedAt/localDateTime from the asset's EXIF date and zone. */
void sim_asset_take_exif_date(struct sim_lib *lib, uint32_t asset);

#endif
