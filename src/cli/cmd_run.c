/*
 * cmd_run.c: `immich-autotag run`, the default command: one full pass
 * (snapshot, evaluate, plan, apply, report), or one every --loop interval.
 */
#include "cli/cli.h"

#include "cli/run_loop.h"
#include "cli/run_pass.h"

const char cmd_run_help[] =
    "usage: immich-autotag [run] [options]\n"
    "\n"
    "Reads the whole library, applies the configured rules and writes the\n"
    "changes to the server.  With --dry-run it writes nothing and prints\n"
    "the plan instead; with --loop INTERVAL it runs again every interval.\n"
    "The reports go to a new directory under the log root (--log-dir,\n"
    "default ./logs_local), whose path is the last line printed.\n";

static enum cli_status run_once(struct cli_ctx *ctx)
{
    return run_pass(ctx, NULL);
}

enum cli_status cmd_run(struct cli_ctx *ctx)
{
    enum cli_status st = cli_load_server_config(ctx);

    if (st != CLI_OK)
        return st;
    return run_loop(ctx, run_once);
}
