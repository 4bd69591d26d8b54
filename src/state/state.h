/*
 * state.h: what the tool remembers between runs, in one SQLite file.
 *
 * The database lives in the log root (state.sqlite next to the run
 * directories) and records every run: when it started and finished, how it
 * ended, the checkpoint it reached (skip_n, count, last_processed_id: the
 * same values as run_statistics.yaml, which is still written for upstream
 * compatibility) and its counters per category.  The next run reads it for
 * "change since the previous run" and for resuming.
 *
 * This module owns the only sqlite3 handle of the program.  The schema is
 * versioned with PRAGMA user_version: state_open() applies the missing
 * migrations in one transaction each and refuses a database written by a
 * newer version.  Statements are prepared once at open and finalized at
 * close.
 *
 *     struct state *st;
 *     int64_t id;
 *     if (state_open(&st, "logs_local/state.sqlite", &err) < 0) ...
 *     state_run_begin(st, run_name, now, &id, &err);
 *     ...
 *     state_run_finish(st, id, &end, &err);
 *     state_close(st);
 *
 * Every call fails with -1 and one line in err, naming the operation and
 * sqlite3_errmsg().
 */
#ifndef IA_STATE_H
#define IA_STATE_H

#include "core/buf.h"
#include "core/uuid.h"

#define STATE_DB_NAME        "state.sqlite"
#define STATE_SCHEMA_VERSION 4

struct state;

enum state_run_status {
    STATE_RUN_RUNNING = 0,     /* begun, never finished (killed) */
    STATE_RUN_DONE = 1,        /* finished, every change made */
    STATE_RUN_PARTIAL = 2,     /* finished with per-id failures */
    STATE_RUN_FAILED = 3,      /* stopped by an error */
    STATE_RUN_INTERRUPTED = 4, /* stopped by a signal */
    STATE_RUN_DRY = 5,         /* --dry-run: nothing written */
};

/* A named counter of a run (owned key). */
struct state_counter {
    char *key;
    int64_t value;
};

struct state_counters {
    struct state_counter *items;
    size_t nr, alloc;
};

#define STATE_COUNTERS_INIT                                                    \
    {                                                                          \
        NULL, 0, 0                                                             \
    }

void state_counters_add(struct state_counters *c, const char *key,
                        int64_t value);
void state_counters_release(struct state_counters *c);

struct state_run_end {
    int64_t finished_at; /* ms UTC */
    enum state_run_status status;
    int64_t skip_n;                        /* skip used by the run */
    int64_t count;                         /* checkpoint reached */
    const char *last_processed_id;         /* may be NULL */
    const struct state_counters *counters; /* may be NULL */
};

/* A past run as read back. */
struct state_run {
    int64_t id;
    char *name;                      /* run directory name (owned) */
    int64_t started_at, finished_at; /* finished_at 0 while RUNNING */
    enum state_run_status status;
    int64_t skip_n, count;
    char *last_processed_id; /* owned, may be NULL */
    struct state_counters counters;
};

/* Opens (creating) the database and migrates it to
 * STATE_SCHEMA_VERSION. */
int state_open(struct state **out, const char *path, struct buf *err);
/* Opens an existing database of this version for reading only (no
 * migration, no file created): for `plan`, which writes nothing. */
int state_open_readonly(struct state **out, const char *path, struct buf *err);
/* Finalizes the statements and closes; accepts NULL. */
void state_close(struct state *st);
/* PRAGMA user_version of the open database. */
int state_schema_version(struct state *st, int *version, struct buf *err);

/* Records a new run as RUNNING; *run_id identifies it. */
int state_run_begin(struct state *st, const char *name, int64_t started_at,
                    int64_t *run_id, struct buf *err);
/* Stores how the run ended and its counters (one transaction). */
int state_run_finish(struct state *st, int64_t run_id,
                     const struct state_run_end *end, struct buf *err);

/*
 * The latest finished run other than exclude_id that wrote to the server
 * (DONE or PARTIAL; dry runs and failed runs do not count), with its
 * counters.  Returns 1 when found, 0 when there is none, -1 on error.
 */
int state_previous_run(struct state *st, int64_t exclude_id,
                       struct state_run *out, struct buf *err);
void state_run_release(struct state_run *r);

/*
 * The last `limit` runs, newest first, with their counters: *out holds
 * *nr of them (free with state_runs_free()).  0, or -1 with err.
 */
int state_runs_recent(struct state *st, size_t limit, struct state_run **out,
                      size_t *nr, struct buf *err);
void state_runs_free(struct state_run *runs, size_t nr);

/*
 * The highest checkpoint `count` of DONE/PARTIAL runs started at or after
 * since_ms, other than exclude_id; -1 when there is none.
 */
int state_max_count(struct state *st, int64_t since_ms, int64_t exclude_id,
                    int64_t *count, struct buf *err);

/* ---- album memberships remembered between runs ------------------------ */

/*
 * Reading an album's members costs a request per album; a library of
 * 3,000 albums spends nearly all of its read there, every night, for
 * albums that did not change.  Immich bumps an album's updatedAt when
 * assets are added to it and when users are added; its assetCount
 * (computed on read: non-trashed timeline/archive members) moves on every
 * add, removal, trash and restore; lastModifiedAssetTimestamp moves when a
 * newer member arrives.  A membership read once is reused while all three
 * are unchanged (same server, same dialect), and read again at the latest
 * after STATE_ALBUM_MAX_AGE_MS, which bounds what the one blind spot of
 * the key (a removal and a restore of as many members between two runs)
 * can cost.
 */
#define STATE_ALBUM_MAX_AGE_MS (7LL * 24 * 3600 * 1000)

struct state_album_key {
    int64_t updated_at;    /* album updatedAt, ms */
    int64_t last_modified; /* lastModifiedAssetTimestamp, TIME_NONE */
    int64_t asset_count;
    int dialect;
    int64_t view; /* whose assets the user's searches show (2.x: self
                     and partners; src/remember), 0 = everyone's */
};

/*
 * The members remembered for album (16-byte id) of server under key, if
 * fetched at or after not_before: 1 with *ids (malloc'ed) and *nr, 0 when
 * not remembered or stale, -1 on error.
 */
int state_album_members_get(struct state *st, const char *server,
                            const struct uuid *album,
                            const struct state_album_key *key,
                            int64_t not_before, struct uuid **ids, size_t *nr,
                            struct buf *err);
/* Remembers them (replacing what was there). */
int state_album_members_put(struct state *st, const char *server,
                            const struct uuid *album,
                            const struct state_album_key *key,
                            int64_t fetched_at, const struct uuid *ids,
                            size_t nr, struct buf *err);
/* Forgets the memberships of server fetched before older_than (deleted
 * albums, entries past their age). */
int state_album_members_prune(struct state *st, const char *server,
                              int64_t older_than, struct buf *err);
/* Up to max albums of server fetched before older_than, the oldest
 * first, into ids; returns how many, or -1. */
long state_album_members_oldest(struct state *st, const char *server,
                                int64_t older_than, struct uuid *ids,
                                size_t max, struct buf *err);
/* A transaction around many puts (one fsync instead of one per album). */
int state_begin(struct state *st, struct buf *err);
int state_commit(struct state *st, struct buf *err);
void state_rollback(struct state *st);

/* ---- the library as the last good read saw it ------------------------- */

/*
 * One row per scope (server and user, as the album memberships): what an
 * incremental read starts from.  `records` is the snapshot's own encoding
 * (src/snapshot/snapshot_incr.c checks it, the dialect and the needs
 * it was read for included; opaque here), `dialect` and `needs` label the
 * row for a reader of the database, `full_at` is when the last full read
 * of this scope finished (the local clock, for the age limit).
 */
struct state_library {
    int dialect;
    char *needs;
    int64_t full_at;
    bool settled; /* the run that read it made every change it planned
                     (state_library_settle()); put() stores it unsettled */
    void *records;
    size_t records_len;
};

/* 1 with *out filled (release it), 0 when nothing is remembered, -1. */
int state_library_get(struct state *st, const char *scope,
                      struct state_library *out, struct buf *err);
/*
 * Remembers in (replacing what was there).  With in->records NULL, makes
 * room for in->records_len bytes that state_library_write() then fills,
 * in the same transaction (state_begin() ... state_commit()).
 */
int state_library_put(struct state *st, const char *scope,
                      const struct state_library *in, struct buf *err);
int state_library_write(struct state *st, size_t offset, const void *data,
                        size_t len, struct buf *err);
/* Marks the scope's row settled: the run that read it then made every
 * change its plan held, so what did not change since needs nothing. */
int state_library_settle(struct state *st, const char *scope, struct buf *err);
/* Forgets the scope's row (a read that cannot be trusted). */
int state_library_forget(struct state *st, const char *scope, struct buf *err);
void state_library_release(struct state_library *l);

/* ---- the run lock ----------------------------------------------------- */

/*
 * An exclusive lock on a file in the log root: two runs (cron and --loop,
 * two cron jobs) never work on one library at once.  flock(2) on
 * "<root>/immich-autotag.lock"; the holder's pid is written into it so the
 * refusal can name it.  The kernel drops the lock if the process dies.
 */
struct state_lock {
    int fd;     /* -1 when not held */
    char *path; /* owned */
};

#define STATE_LOCK_INIT                                                        \
    {                                                                          \
        -1, NULL                                                               \
    }
#define STATE_LOCK_NAME "immich-autotag.lock"

enum state_lock_result {
    STATE_LOCK_ACQUIRED = 0,
    STATE_LOCK_ERROR = -1, /* could not create/open the lock file */
    STATE_LOCK_BUSY = 1,   /* another run holds it; err names its pid */
    STATE_LOCK_STALE = 2,  /* user lock: another run wrote since read_at */
};

/* Takes the lock without waiting. */
enum state_lock_result state_lock_acquire(struct state_lock *lk,
                                          const char *root, struct buf *err);
/*
 * The lock of one (server, Immich user) wherever the logs go, in a
 * directory private to the operating-system user (see user_lock.c):
 * held from before the first write to the end of the run.  BUSY's
 * message names the server and the lock file; STALE (not held) says that
 * a run wrote after read_at (ms), when this run's read began.
 */
enum state_lock_result state_user_lock_acquire(struct state_lock *lk,
                                               const char *server,
                                               const struct uuid *user,
                                               int64_t read_at,
                                               struct buf *err);
/* Records that the holder wrote (at now_ms), for the next holder. */
int state_user_lock_wrote(struct state_lock *lk, int64_t now_ms,
                          struct buf *err);
/* Where those locks live (created private if absent): 0 or -1 + err. */
int state_user_lock_dir(struct buf *out, struct buf *err);

/* Releases the lock (the file stays); accepts an unheld lock. */
void state_lock_release(struct state_lock *lk);

#endif
