/*
 * resume.h: the checkpoint of sliced runs, in one place.
 *
 * A library too large for one run is processed in slices (skip.max_items
 * or --max-items): each run records in its run_statistics.yaml and in the
 * state database how far it got (`count`, `last_processed_id`), and the
 * next run resumes from there (skip.resume_previous).  This module reads
 * both records back and decides the slice, for `run` and for `plan`
 * alike, so that plan previews the slice run will process:
 *
 *     struct resume r;
 *     struct resume_in in = RESUME_IN_INIT;
 *     in.root = log_root; in.exclude_run = run_name;   // NULL for plan
 *     in.resume_previous = cfg->skip.resume_previous;
 *     in.skip_n = cfg->skip.skip_n;
 *     in.max_items = resume_max_items(opts.max_items, cfg->skip.max_items);
 *     in.total = assets_on_the_server; in.now_ms = now;
 *     resume_decide(&r, &in, st, &warnings);    // st may be NULL
 *     ... evaluate with r.skip and in.max_items ...
 *     if (r.cycle_done && in.max_items > 0 && !dry_run)
 *         resume_archive(&r, log_root, now, &err);  // a pass completed
 *     resume_release(&r);
 *
 * The rule (docs/upstream-behavior.md §4.2 with the fixes of
 * §8 item 19): the highest `count` of the runs of the last 72 hours that
 * made their changes, minus an overlap of min(500, max_items / 2) so that
 * small slices still advance; when that count reaches the end of the
 * library a new pass begins from skip_n and the recent run directories
 * are archived.
 * Without resume_previous, or without a recent run, skip_n (else 0).
 */
#ifndef IA_RESUME_H
#define IA_RESUME_H

#include "core/buf.h"

struct state;

/* Run directories older than this do not count (72 h). */
#define RESUME_WINDOW_MS (72LL * 3600 * 1000)

struct resume_in {
    const char *root;         /* log root with the run directories */
    const char *exclude_run;  /* current run directory name, or NULL */
    int64_t exclude_state_id; /* current run's state row, or 0 */
    bool resume_previous;     /* skip.resume_previous */
    int64_t skip_n;           /* skip.skip_n */
    int64_t max_items;        /* slice size, -1 = none */
    int64_t total;            /* assets on the server, -1 = unknown */
    int64_t now_ms;
};

#define RESUME_IN_INIT                                                         \
    {                                                                          \
        NULL, NULL, 0, false, 0, -1, -1, 0                                     \
    }

struct resume {
    int64_t skip;       /* assets this run skips */
    const char *source; /* "resume", "config", "none" or "cycle" */
    bool cycle_done;    /* the recent runs reached the end */
    int64_t prev_count; /* highest recent count, -1 = none */
    char *prev_run;     /* run directory it came from, or NULL */
    char **recent;      /* recent run directory names */
    size_t recent_nr, recent_alloc;
};

/*
 * The slice size: --max-items when given (>= 0), else skip.max_items when
 * positive, else -1 (no limit).
 */
int64_t resume_max_items(long opt_max_items, long cfg_max_items);

/*
 * Decides the skip into r (initialised here; resume_release() it).  st
 * (may be NULL) is the state database.  A record that cannot be read
 * (log root, database) is left out with one line per problem appended to
 * warnings; the decision is made from the rest.
 */
void resume_decide(struct resume *r, const struct resume_in *in,
                   struct state *st, struct buf *warnings);

/*
 * Moves r's recent run directories into root/_archive/cycle-<stamp>/ (a
 * sliced pass completed).  0, or -1 with err.
 */
int resume_archive(const struct resume *r, const char *root, int64_t now_ms,
                   struct buf *err);

void resume_release(struct resume *r);

/*
 * The skip rule alone (see above), for tests: the skip, *cycle_done and
 * *source from the previous count (-1 = none).
 */
int64_t resume_skip(bool resume_previous, int64_t skip_n, int64_t max_items,
                    int64_t prev_count, int64_t total, bool *cycle_done,
                    const char **source);

#endif
