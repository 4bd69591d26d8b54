/*
 * remember.h: what a run keeps for the next one, and when the next one
 * may trust it.  One owner for the two memories of a (server, user) in
 * the state database (src/state/state.c stores the bytes):
 *
 *   album memberships  an album's members are taken from memory while its
 *                      listing (updatedAt, assetCount,
 *                      lastModifiedAssetTimestamp) is unchanged, and
 *                      re-read anyway in a rotation (a few albums a run,
 *                      the longest-remembered first, once remembered
 *                      for most of a day) and after
 *                      STATE_ALBUM_MAX_AGE_MS, for the changes that move
 *                      none of the three (docs/simulator.md "Members that
 *                      change behind the album");
 *   the library        the assets as the last good read saw them: the
 *                      next read asks only for those updated since
 *                      (snapshot_incr.c), unless the last full read is
 *                      older than the limit (--full-read-days) or the
 *                      memory is missing, damaged or for other needs.
 *
 *     struct remember *r = remember_open(st, url, &ro);
 *     remember_wire(r, &snapshot_opts);
 *     snapshot_load(..., &snapshot_opts, &m, &info, &err);
 *     remember_store(r, &m, &info, needs);   // after a complete read
 *     ... apply ...
 *     remember_writes(r, &m, dialect, &plan, &outcome);
 *     remember_close(r);
 *
 * Nothing here prints beyond the log; a database that fails is warned
 * about once and then ignored (the run reads everything).
 */
#ifndef IA_REMEMBER_H
#define IA_REMEMBER_H

#include "snapshot/snapshot.h"

struct state;
struct plan;
struct outcome;

/* Library reads are full at least this often (--full-read-days). */
#define REMEMBER_FULL_DAYS_DEFAULT 7
/* Remembered albums re-read per run regardless of their listing, among
 * those read at least REMEMBER_RECHECK_AGE_MS ago (runs minutes apart
 * re-check nothing; a nightly run re-checks a few). */
#define REMEMBER_RECHECK_ALBUMS 4
#define REMEMBER_RECHECK_AGE_MS (20LL * 3600 * 1000)

struct remember_opts {
    int64_t now;    /* ms, the local clock */
    bool full_read; /* --full-read: trust nothing remembered */
    long full_days; /* a full library read at least every N days;
                       0: every run */
    bool read_only; /* `plan`: use the memory, store nothing */
};

/* st may be NULL: then nothing is remembered or reused. */
struct remember *remember_open(struct state *st, const char *server,
                               const struct remember_opts *o);
void remember_close(struct remember *r);

/* Points so->albums and so->prev at the memory (nothing when r is
 * NULL or has no database). */
void remember_wire(struct remember *r, struct snapshot_opts *so);

/* After a complete read: remembers the memberships read now and the
 * library.  needs: what the read fetched. */
void remember_store(struct remember *r, const struct model *m,
                    const struct snapshot_info *info,
                    const struct snapshot_needs *needs);

/*
 * After the writes: remembers the members of the albums this run created
 * with all their assets (the create's answer gave their listing), and
 * forgets the library when the run changed dates (a date edit moves the
 * asset's updatedAt only when the server's jobs have run, so the next
 * read must not trust the remembered dates).
 */
void remember_writes(struct remember *r, const struct model *m, int dialect,
                     const struct plan *p, const struct outcome *o);

/*
 * May the rules evaluate only what changed (model.changes_only)?  Only
 * when the library was read incrementally from a remembered read whose
 * run then made every change it planned (remember_settled()): a dry run,
 * a failed or interrupted write, or a window of the library leave
 * planned changes unmade, which a change-only evaluation would not plan
 * again.  The read stays incremental either way.
 */
bool remember_trusts_changes(const struct remember *r);
/* After a run whose plan was entirely made (every write done or already
 * so, the whole library evaluated, not a dry run): marks the library this
 * run's read remembered as settled. */
void remember_settled(struct remember *r, const struct model *m);
/* The key of both memories: "<server> user=<id>". */
void remember_scope(const char *server, const struct uuid *user,
                    struct buf *out);

#endif
