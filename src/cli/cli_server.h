/*
 * cli_server.h: what the subcommands that talk to the server share: the
 * engine built from the options, reading the library, turning failures
 * into exit statuses, and the engine's metrics at the end.
 */
#ifndef IA_CLI_SERVER_H
#define IA_CLI_SERVER_H

#include "cli/cli.h"
#include "cli/progress.h"
#include "http/http_engine.h"
#include "model/model.h"
#include "plan/plan.h"
#include "snapshot/snapshot.h"

/*
 * The engine for ctx's server (configuration loaded): --concurrency,
 * --ca-file, --insecure, the signal flag as its stop flag, and progress
 * drawn into p (may be NULL).  NULL with the error printed.
 */
struct http_engine *cli_engine_open(const struct cli_ctx *ctx,
                                    struct progress *p);

/*
 * What a command that reads the library and prints a plan without writing
 * (plan, undo --json) holds: the engine, the library, the plan, the
 * output and an error message.  cli_readonly_open() makes the engine
 * (false, the error printed, when it cannot) and empties the rest;
 * cli_readonly_close() releases all of it, opened or not.
 */
struct cli_readonly {
    struct http_engine *eng;
    struct model m;
    struct plan p;
    struct buf out, err;
};
bool cli_readonly_open(const struct cli_ctx *ctx, struct cli_readonly *ro);
void cli_readonly_close(struct cli_readonly *ro);

/* CLI_SERVER (exit 3) for an unreachable server, a refused key or a
 * missing permission, else CLI_FAILED. */
enum cli_status cli_status_of(enum api_fail kind);

/*
 * Reads the library into m (model_init()ed) with the dialect of
 * --dialect, showing progress in p (may be NULL) as the "read" phase.
 * With a state database (st, may be NULL) album memberships remembered
 * from earlier runs are reused while the albums are unchanged (not with
 * --full-read), and with `remember` those read now are stored.  Prints the
 * error
 * ("snapshot incomplete: ...") and returns its status when the read
 * failed: then nothing may be written.
 */
struct state;
enum cli_status cli_read_library(const struct cli_ctx *ctx,
                                 struct http_engine *eng, struct model *m,
                                 struct snapshot_info *info, struct progress *p,
                                 struct state *st, bool remember);

/*
 * Remembers the members of the albums this run created with all their
 * assets (the create's answer gave their updatedAt and assetCount), so
 * that the next run does not read them back.
 */
struct plan;
struct outcome;
/* After a run that made every change the whole library called for: the
 * next run may evaluate only what changed (remember_settled()). */
void cli_remember_settled(const struct cli_ctx *ctx, struct state *st,
                          const struct model *m);
void cli_remember_new_albums(const struct cli_ctx *ctx, struct state *st,
                             const struct model *m, int dialect,
                             const struct plan *p, const struct outcome *o);

/*
 * The end of a run's network work: the per-endpoint table in the log
 * (verbose: always; else one totals line) and --metrics-json written.
 * json (may be NULL) receives the metrics JSON.
 */
void cli_metrics_out(const struct cli_ctx *ctx, struct http_engine *eng,
                     struct buf *json);

/* struct plan_names over a model (ctx): file names and emails. */
const char *cli_model_name(void *ctx, const struct uuid *id, bool user);

/*
 * Album sharing names users by email; a server whose administrator turned
 * "public users" off lists a non-admin key only its own user.  Says so
 * (once, a warning) when that leaves configured emails unmatched.
 */
void cli_warn_hidden_users(const struct config *cfg,
                           const struct snapshot_info *info,
                           const struct plan *p);

#endif
