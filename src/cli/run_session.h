/*
 * run_session.h: everything around one run that is not reading or
 * writing the library: the lock, the run directory and its reports, the
 * state database, the checkpoint.
 *
 *     struct run_session rs;
 *     if (run_session_begin(&rs, ctx, now) != CLI_OK) ...  // lock, dir
 *     ... snapshot ...
 *     run_session_checkpoint(&rs, total_assets, now);     // skip decided
 *     ... evaluate (with rs.skip, rs.max_items), apply ...
 *     run_session_finish(&rs, &result, now);              // reports
 *     run_session_release(&rs);                           // unlock
 *
 * begin writes immich_autotag_links.md and user_config_dump.yaml (key
 * masked) right away and tees the log into
 * immich_autotag_full_output.log, as upstream does at start; finish writes
 * the rest and prints the summary, then the run directory's path as the
 * last line of stdout.
 */
#ifndef IA_RUN_SESSION_H
#define IA_RUN_SESSION_H

#include "cli/cli.h"
#include "report/report.h"
#include "state/state.h"

struct run_session {
    const struct config *cfg;
    bool dry_run;
    struct state_lock lock;
    struct report_run run;
    struct state *st;
    int64_t state_run_id;
    FILE *tee;                     /* immich_autotag_full_output.log */
    struct report_journal journal; /* modifications.jsonl, as it goes */
    bool journal_failed;           /* an append failed (logged) */
    int64_t skip;                  /* decided by run_session_checkpoint() */
    int64_t max_items;             /* --max-items or skip.max_items, -1 none */
    const char *skip_source;       /* "resume", "config", "none", "cycle" */
    char *prev_run;                /* run the checkpoint came from (owned) */
};

/*
 * Takes the lock in the log root (--log-dir or ./logs_local), creates the
 * run directory, opens the state database and records the run.  Prints
 * its errors; CLI_FAILED when another run holds the lock or a file cannot
 * be written.
 */
enum cli_status run_session_begin(struct run_session *rs,
                                  const struct cli_ctx *ctx, int64_t now_ms);

/*
 * Decides this run's skip from the checkpoint of recent runs (run
 * directories of the last 72 h and the state database), the skip keys of
 * the configuration and the library size; archives the recent run
 * directories when a sliced pass has completed.  Logs the upstream-style
 * "[CHECKPOINT] skip_n=<n> (origin: <source>)" line.
 */
void run_session_checkpoint(struct run_session *rs, int64_t total_assets,
                            int64_t now_ms);

/* What the run did, for the reports. */
struct run_result {
    const struct plan *plan;       /* may be NULL: failed before a plan */
    const struct model *model;     /* may be NULL */
    const struct outcome *outcome; /* may be NULL */
    const char *server_url;
    const char *user_name; /* API key's user, may be NULL */
    int64_t total_assets;  /* -1 unknown */
    int64_t processed;     /* assets evaluated after the skip */
    struct uuid last_id;
    bool has_last_id;
    enum state_run_status status;
    const char *metrics_json;  /* engine metrics, may be NULL */
    const char *timeline_json; /* the phases (progress_timeline_json),
                                  may be NULL */
};

/* Appends the events of the changes settled so far to
 * modifications.jsonl (after each batch of writes); errors are logged. */
void run_session_journal(struct run_session *rs, const struct run_result *res);

/*
 * Writes the reports, records the run's end in the state database,
 * prints the summary and the run directory's path on stdout.  The
 * checkpoint `count` advances only for DONE / PARTIAL runs.  Returns
 * CLI_OK or CLI_FAILED (a report could not be written; printed).
 */
enum cli_status run_session_finish(struct run_session *rs,
                                   const struct run_result *res,
                                   int64_t now_ms);

/* Releases the lock and everything else; accepts a session whose begin
 * failed. */
void run_session_release(struct run_session *rs);

/*
 * Writes dir/report.html (cmd_report.c) from the run directory's files
 * and the history of st (may be NULL: no trend); name is the run's.  -1
 * with err when a file cannot be read or parsed, or the page written.
 */
int cli_report_html(const char *dir, const char *name, struct state *st,
                    const char *server_url, struct buf *err);

/* Milliseconds since the epoch, now. */
int64_t run_now_ms(void);

#endif
