/*
 * run_loop.h: one-shot and --loop runs, and their signal handling.
 *
 * run_loop() installs the SIGINT/SIGTERM flag (core/sigflag.h), runs
 * `once` and, with --loop INTERVAL, runs it again every interval until a
 * signal arrives.  A signal during a run lets that run wind down (no new
 * requests, reports written) and ends the loop; a signal during the sleep
 * ends it at once.  A failed iteration is logged and the loop goes on,
 * except a usage/configuration error (CLI_USAGE), which no later
 * iteration can fix.  Consecutive iterations are at least one second
 * apart, so their run directories never share a timestamp.
 *
 * Every iteration after the first reads the configuration file again
 * (cli_load_server_config()), so an edit takes effect at the next run; a
 * file that no longer loads is reported with the loader's file:line
 * message and the last good configuration is used.
 */
#ifndef IA_RUN_LOOP_H
#define IA_RUN_LOOP_H

#include "api/api_poll.h"
#include "cli/cli.h"

typedef enum cli_status run_once_fn(struct cli_ctx *ctx);

/* Returns the status of the last iteration: CLI_FAILED when a signal
 * interrupted a run; a signal during the sleep between runs is a clean stop
 * and keeps the last run's status (0 after a good run, what a service
 * manager expects of SIGTERM). */
enum cli_status run_loop(struct cli_ctx *ctx, run_once_fn *once);

/*
 * --watch INTERVAL: every interval, asks the server what changed since
 * the last good pass (api_poll.h: two requests, on the server's clock)
 * and runs `once` only when something did; a full pass (--full-read) at
 * start and every --full-every.  A poll that fails is logged and tried
 * again with a growing wait, and never leads to a pass; a failed pass
 * leaves the last good pass's time in place, so its changes are seen
 * again.  Signals as run_loop(): a signal during a pass ends it with its
 * reports (CLI_FAILED), during a poll or the sleep a clean stop that
 * keeps the last pass's status.  A configuration error (CLI_USAGE) ends
 * the watch.
 */
enum cli_status run_watch(struct cli_ctx *ctx, run_once_fn *once);

/*
 * How many of a poll's items are news: those the poll before the last
 * good pass (seen) did not return with the same updatedAt.  An asset
 * changed within the second a poll's Date names is returned again by the
 * next poll ("since" is that second); unchanged, it needs no second pass.
 */
size_t watch_count_changed(const struct api_changed *items, size_t nr,
                           const struct api_changed *seen, size_t seen_nr);

#endif
