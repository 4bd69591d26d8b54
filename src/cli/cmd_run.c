/*
 * cmd_run.c: `immich-autotag run`, the default command: one full pass
 * (snapshot, evaluate, plan, apply, report), or one every --loop interval.
 */
#include "cli/cli.h"

#include "cli/run_loop.h"
#include "cli/run_pass.h"
#include "core/log.h"

const char cmd_run_help[] =
    "usage: immich-autotag [run] [options]\n"
    "\n"
    "Reads the whole library, applies the configured rules and writes the\n"
    "changes to the server.  With --dry-run it writes nothing and prints\n"
    "the plan instead; with --loop INTERVAL it runs again every interval;\n"
    "with --watch [INTERVAL] it stays running, asks the server every\n"
    "interval (default 60s) what changed, and runs a pass when something\n"
    "did (a full one at start and every --full-every, default 24h).\n"
    "The reports go to a new directory under the log root (--log-dir,\n"
    "default ./logs_local), whose path is the last line printed.\n";

static enum cli_status run_once(struct cli_ctx *ctx)
{
    return run_pass(ctx, NULL);
}

enum cli_status cmd_run(struct cli_ctx *ctx)
{
    enum cli_status st;

    if (ctx->opts.watch_seconds > 0 && ctx->opts.loop_seconds > 0) {
        error_log("--watch and --loop cannot be used together: --watch "
                  "runs a pass when something changed, --loop one every "
                  "interval; choose one");
        return CLI_USAGE;
    }
    st = cli_load_server_config(ctx);
    if (st != CLI_OK)
        return st;
    if (ctx->opts.watch_seconds > 0)
        return run_watch(ctx, run_once);
    return run_loop(ctx, run_once);
}
