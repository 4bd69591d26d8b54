/*
 * run_pass.h: one pass of `run` and of `apply FILE`: the session (lock,
 * run directory), the library read, the evaluation, the writes and the
 * reports, in that order and only in that order.
 */
#ifndef IA_RUN_PASS_H
#define IA_RUN_PASS_H

#include "cli/cli.h"
#include "plan/plan.h"

/*
 * Runs one pass for ctx (configuration loaded).  saved == NULL: applies
 * the plan evaluated now (nothing with --dry-run).  saved != NULL: checks
 * the saved plan against the library as it is now and applies it when it
 * still fits, else writes nothing.  Exit status: CLI_OK when every
 * request was made (per-asset refusals are warnings, listed in the
 * modification report); CLI_FAILED for a failed or interrupted run or a
 * write request that failed as a whole; CLI_SERVER when
 * the server is unreachable or refused the key.  The run directory's path
 * is the last line of stdout whenever the session began.
 */
enum cli_status run_pass(struct cli_ctx *ctx, const struct plan *saved);

/*
 * Builds the plan of a pass from the library as read now, in place of
 * the rules (`undo`): fills out (plan_init()ed and empty); -1 with a
 * message in err stops the pass before any write.
 */
struct model;
typedef int run_plan_fn(void *ctx, const struct model *m, struct plan *out,
                        struct buf *err);

/* run_pass() with the plan made by build(build_ctx, ...) after the read. */
enum cli_status run_pass_build(struct cli_ctx *ctx, run_plan_fn *build,
                               void *build_ctx);

#endif
