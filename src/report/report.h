/*
 * report.h: what a run tells the user, in upstream immich-autotag's layout.
 *
 * Every run gets its own directory under a log root (default
 * ./logs_local, --log-dir to change it), named like upstream's
 * "<YYYYmmdd_HHMMSS>_PID<pid>" in local time.  In it
 * (docs/upstream-behavior.md §5):
 *
 *   modification_report.txt   one " | "-joined line per event (§5.3)
 *   modifications.jsonl       the same events as JSON lines (ours),
 *                             appended as the writes happen (journal)
 *   summary.txt               the human summary printed at the end (ours)
 *   run_statistics.yaml       upstream's keys (§5.4) incl. the checkpoint
 *   immich_autotag_links.md   quick links (§5.5)
 *   user_config_dump.yaml     the effective configuration, key redacted
 *   metrics.json              request metrics of the HTTP engine (ours)
 *
 * The small writers below build text into a struct buf; report_write()
 * stores a buffer under the run directory (temporary name + rename) with
 * every registered secret (log_add_secret) masked on the way, so the API
 * key cannot reach a report file even if some text carried it.  The big
 * ones are written as they are built, a piece at a time, through the same
 * masking (struct report_file, the journal; report.html reads the journal
 * a line at a time): on a library of a million assets no report is whole
 * in memory.
 *
 * A run:
 *
 *     struct report_run run;
 *     report_run_create(&run, "logs_local", now, &err);
 *     ... apply ...
 *     struct report_ctx c = { &plan, &model, &outcome, url, user, now };
 *     struct report_kinds k;
 *     struct report_file f;
 *     report_file_open(&f, &run, REPORT_FILE_MODIFICATIONS, &err);
 *     report_modifications_write(&c, &f, &k, &err);
 *     report_file_commit(&f, &err);
 *     ...
 *     report_run_release(&run);
 */
#ifndef IA_REPORT_H
#define IA_REPORT_H

#include "config/config.h"
#include "core/fsutil.h"
#include "model/model.h"
#include "apply/outcome.h"

#define REPORT_DEFAULT_ROOT             "logs_local"
#define REPORT_FILE_MODIFICATIONS       "modification_report.txt"
#define REPORT_FILE_MODIFICATIONS_JSONL "modifications.jsonl"
#define REPORT_FILE_SUMMARY             "summary.txt"
#define REPORT_FILE_STATISTICS          "run_statistics.yaml"
#define REPORT_FILE_LINKS               "immich_autotag_links.md"
#define REPORT_FILE_CONFIG_DUMP         "user_config_dump.yaml"
#define REPORT_FILE_METRICS             "metrics.json"
#define REPORT_FILE_PLAN                "plan.json"

/* ---- run directory ------------------------------------------------- */

struct report_run {
    char *root; /* log root as given (owned) */
    char *dir;  /* root + "/" + name (owned) */
    char *name; /* "20240615_131402_PID4242" (owned): upstream's run id */
    int64_t started_at; /* ms UTC */
};

/*
 * Creates the log root if needed and a fresh run directory in it, named
 * after now_ms in local time and the process id.  If that name is taken
 * (two runs of one --loop process in the same second) a "_2", "_3"...
 * suffix is added.  -1 with a message if a directory cannot be created.
 */
int report_run_create(struct report_run *run, const char *root, int64_t now_ms,
                      struct buf *err);
void report_run_release(struct report_run *run);
/* Writes data as run->dir/name, secrets masked, atomically. */
int report_write(const struct report_run *run, const char *name,
                 const struct buf *data, struct buf *err);
/*
 * The same for a report written as it is built, so that a big one is
 * never whole in memory: report_file_add() writes a piece (whole lines,
 * so a secret cannot straddle two pieces) with secrets masked and
 * empties it; the file appears under its name at report_file_commit().
 * On an error the file is abandoned (nothing to release).
 */
struct report_file {
    struct fs_atomic f;
    struct buf clean; /* the masked piece, reused */
};
int report_file_open(struct report_file *rf, const struct report_run *run,
                     const char *name, struct buf *err);
int report_file_add(struct report_file *rf, struct buf *piece, struct buf *err);
/* report_file_add() once piece holds REPORT_FILE_PIECE bytes (any, when
 * all); 0 when nothing is due, or rf is NULL (piece is then kept). */
int report_file_spill(struct report_file *rf, struct buf *piece, bool all,
                      struct buf *err);
int report_file_commit(struct report_file *rf, struct buf *err);
void report_file_abort(struct report_file *rf);
/* Pieces are written once they pass this size. */
#define REPORT_FILE_PIECE (64 * 1024)
/* "YYYYmmdd_HHMMSS" of ms in local time. */
void report_stamp(int64_t ms, char out[32]);
/* Python's datetime.now().isoformat(): "2024-06-15T13:14:02.251000". */
void report_iso_local(int64_t ms, char out[40]);

/* ---- modification report (§5.3) ------------------------------------ */

/* The event kinds of upstream's ModificationKind that this tool emits. */
enum report_kind {
    REPORT_K_CREATE_TAG,
    REPORT_K_ADD_TAG_TO_ASSET,
    REPORT_K_REMOVE_TAG_FROM_ASSET,
    REPORT_K_CREATE_ALBUM,
    REPORT_K_ASSIGN_ASSET_TO_ALBUM,
    REPORT_K_REMOVE_ASSET_FROM_ALBUM,
    REPORT_K_DELETE_ALBUM,
    REPORT_K_UPDATE_ASSET_DATE,
    REPORT_K_ALBUM_PERMISSION_SHARED,
    REPORT_K_ALBUM_PERMISSION_ROLE_CHANGED,
    REPORT_K_ALBUM_PERMISSION_REMOVED,
    REPORT_K_ALBUM_PERMISSION_RULE_MATCHED,
    REPORT_K_ALBUM_PERMISSION_NO_MATCH,
    REPORT_K_CLASSIFICATION_CONFLICT,
    REPORT_K_ALBUM_DATE_MISMATCH,
    REPORT_K_ALBUM_DETECTION_CONFLICT,
    REPORT_K_WARNING_MISSING_DESTINATION_ALBUM,
    REPORT_K_WARNING_DATE_CORRECTION_UNHANDLED,
    REPORT_K_WARNING_UNKNOWN_EMAIL,
    REPORT_K_WARNING_ALBUM_NAME_DUPLICATE,
    REPORT_K_WARNING_ASSET_ALREADY_IN_ALBUM,
    REPORT_K_WARNING_ASSET_NOT_IN_ALBUM,
    REPORT_K_WARNING_TAG_ADDITION_TO_ASSET_FAILED,
    REPORT_K_WARNING_TAG_REMOVAL_FROM_ASSET_FAILED,
    REPORT_K_ERROR_PERMISSION_DENIED,
    REPORT_K_ERROR_ALBUM_NOT_FOUND,
    REPORT_K_ERROR_ASSET_SKIPPED_RECOVERABLE,
    REPORT_K_ALBUM_PERMISSION_SHARE_FAILED,
    REPORT_K_COUNT
};

/* "ADD_TAG_TO_ASSET"... */
const char *report_kind_name(enum report_kind k);
/* True for the kinds that record a change `undo` reverses (not notes or
 * warnings). */
bool report_kind_undoable(enum report_kind k);

/* Events per kind, as the summary and event_counters show them. */
struct report_kinds {
    size_t n[REPORT_K_COUNT];
};

/* What the report writers read; all borrowed. */
struct report_ctx {
    const struct plan *plan;
    const struct model *model;     /* names of assets; may be NULL */
    const struct outcome *outcome; /* may be NULL: everything pending */
    const char *server_url;        /* "http://host:2283", no "/api" */
    const char *user_name;         /* the API key's user, may be NULL */
    int64_t now_ms;                /* timestamp of the lines */
};

/*
 * Builds modification_report.txt (into txt) and modifications.jsonl (into
 * jsonl) from the plan items and their outcomes and counts the events per
 * kind into kinds (all three may be NULL).  Items left PENDING (dry run,
 * stopped run) are not events: nothing happened to them.  Notes of the
 * plan are events of their own kinds.  Cost: linear in the plan.
 */
void report_modifications(const struct report_ctx *c, struct buf *txt,
                          struct buf *jsonl, struct report_kinds *kinds);
/*
 * The same text written to rf as it is built (a piece at a time, never
 * the whole report in memory), the events counted into kinds (may be
 * NULL).  -1 with err when a write fails (rf is then abandoned).
 */
int report_modifications_write(const struct report_ctx *c,
                               struct report_file *rf,
                               struct report_kinds *kinds, struct buf *err);

/* ---- the modification journal ---------------------------------------- */

/*
 * modifications.jsonl written while the applier works, not after it: a
 * run that is killed, or whose reports cannot be written at the end (full
 * disk), still leaves the record of what it changed on the server.
 *
 *     report_journal_open(&j, &run, &err);     // empty file, 0600
 *     ... after each batch of writes:
 *     report_journal_flush(&j, &c, false, &err); // settled groups
 *     ... at the end:
 *     report_journal_flush(&j, &c, true, &err);  // the rest + notes
 *     report_journal_close(&j);
 *
 * A plan group is written once, when it is settled: its own action (tag
 * or album create, album delete) and every item attempted, so a line is
 * never taken back.  A flush appends whole lines, a piece
 * (REPORT_FILE_PIECE) at a time, secrets masked; the
 * events are those report_modifications() would write, in the order the
 * groups settle, stamped with the time of the flush.
 */
struct report_journal {
    int fd;           /* -1 when not open */
    char *path;       /* owned */
    uint8_t *written; /* per plan group: its events are in the file */
    size_t nr;
    struct buf seen_tags; /* CREATE_TAG names already written */
};

#define REPORT_JOURNAL_INIT                                                    \
    {                                                                          \
        -1, NULL, NULL, 0, BUF_INIT                                            \
    }

/* Creates run->dir/modifications.jsonl (privately, never through a
 * link). */
int report_journal_open(struct report_journal *j, const struct report_run *run,
                        struct buf *err);
/* Appends the events of the groups settled since the last flush (all of
 * them and the plan's notes when final); nothing when not open. */
int report_journal_flush(struct report_journal *j, const struct report_ctx *c,
                         bool final, struct buf *err);
void report_journal_close(struct report_journal *j);

/*
 * Before the first write to the server: checks that the run directory
 * and the log root (where the state database lives) can be written and
 * have room for the reports of plan (a few hundred bytes per change, and
 * REPORT_ROOM_MIN at least), so that a run never changes the library
 * without being able to say what it changed.  -1 with the numbers.
 */
#define REPORT_ROOM_MIN      (256 * 1024)
#define REPORT_ROOM_PER_ITEM 1024
int report_run_check_room(const struct report_run *run, const struct plan *plan,
                          struct buf *err);

/* ---- statistics (§5.4) --------------------------------------------- */

/* The run's counters, in the order run_statistics.yaml lists them; their
 * names (report_counter_names) are the keys the state DB keeps them under
 * across runs. One table: the report writes them, the state mapping reads
 * them back by it. */
enum report_counter_id {
    REPORT_C_ASSETS_SEEN,
    REPORT_C_ASSETS_SKIPPED,
    REPORT_C_CLASSIFIED,
    REPORT_C_UNCLASSIFIED,
    REPORT_C_UNCLASSIFIED_FOUND,
    REPORT_C_CONFLICT,
    REPORT_C_DUPLICATES_FLAGGED,
    REPORT_C_DATE_MISMATCHES,
    REPORT_C_DATES_CORRECTED,
    REPORT_C_ALBUMS_CREATED,
    REPORT_C_SHARES_CHANGED,
    REPORT_C_CHANGES_PLANNED,
    REPORT_C_CHANGES_DONE,
    REPORT_C_CHANGES_UNCHANGED,
    REPORT_C_CHANGES_FAILED,
    REPORT_C_CHANGES_PENDING,
    REPORT_C_TAGS_ADDED,
    REPORT_C_TAGS_REMOVED,
    REPORT_C_ALBUM_ASSETS_ADDED,
    REPORT_C_ALBUM_ASSETS_REMOVED,
    REPORT_C_ALBUMS_DELETED,
    REPORT_C_WRITE_REQUESTS,
    REPORT_C_WRITE_REQUESTS_FAILED,
    REPORT_C_NR
};

extern const char *const report_counter_names[REPORT_C_NR];

/* One named counter of the run, kept in the state DB across runs. */
struct report_counter {
    const char *key; /* static string: an entry of report_counter_names */
    int64_t value;
};

#define REPORT_COUNTERS_MAX 32

struct report_counters {
    struct report_counter c[REPORT_COUNTERS_MAX];
    size_t nr;
};

/* The counters of a run: categories of the plan stats plus outcome
 * totals ("classified", "unclassified", ..., "changes_failed"). */
void report_counters(const struct report_ctx *c, struct report_counters *out);
/* The value of key, or false when absent. */
bool report_counter_get(const struct report_counters *cs, const char *key,
                        int64_t *value);
/* Appends key = value when key names a counter of report_counter_names
 * (the key stored is the table's string, so key may be freed after);
 * false for any other key or when cs is full. How counters read back from
 * the state DB become report counters. */
bool report_counter_set(struct report_counters *cs, const char *key,
                        int64_t value);

struct report_stats {
    const char *git_describe_package; /* version string */
    int64_t total_assets;             /* -1: unknown (null) */
    int64_t max_assets;               /* -1: unlimited (null) */
    int64_t skip_n;                   /* skip used by this run */
    int64_t count; /* absolute position reached: resume key */
    struct uuid last_processed_id;
    bool has_last_processed_id;
    int64_t started_at;            /* ms UTC */
    int64_t finished_at;           /* TIME_NONE: null */
    int64_t abrupt_exit_at;        /* TIME_NONE: null (set when interrupted) */
    double previous_sessions_time; /* seconds */
    const char *progress_description; /* may be NULL */
    const char *checkpoint_source;    /* how skip_n was decided */
    const struct report_counters *counters;
    const struct report_counters *previous; /* NULL: no previous run */
    const char *previous_run;               /* its name, may be NULL */
    long peak_rss_kb; /* true peak memory of the run, 0: unknown */
};

/* run_statistics.yaml: upstream's keys in upstream's order, counters
 * (and their change since the previous run) under `extra`. */
void report_statistics_yaml(const struct report_ctx *c,
                            const struct report_stats *s,
                            const struct report_kinds *kinds, struct buf *out);
/* The same written to rf as it is built (one entry per tag and album:
 * thousands on a big library); -1 with err when a write fails. */
int report_statistics_write(const struct report_ctx *c,
                            const struct report_stats *s,
                            const struct report_kinds *kinds,
                            struct report_file *rf, struct buf *err);

/* ---- links (§5.5) -------------------------------------------------- */

/* immich_autotag_links.md exactly as upstream writes it. */
void report_links_md(const struct config *cfg, const char *server_url,
                     struct buf *out);
/* The console variant: "- <label>: <url>" lines. */
void report_links_console(const struct config *cfg, const char *server_url,
                          struct buf *out);

/* ---- summary ------------------------------------------------------- */

/*
 * The end-of-run block (upstream's EXECUTION SUMMARY, then our counts):
 * assets processed, time, events per kind, write requests and failures,
 * counters with their change since the previous run.
 */
void report_summary(const struct report_ctx *c, const struct report_stats *s,
                    const struct report_kinds *kinds, struct buf *out);

/*
 * The time (ms, local) in a run directory's name "YYYYmmdd_HHMMSS_PID<n>";
 * -1 when the name is not a run directory's.
 */
int report_run_name_time(const char *name, int64_t *ms);

#endif
