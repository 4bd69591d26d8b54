/*
 * cmd_plan.c: `immich-autotag plan`: evaluate and print what a run would
 * change; writes nothing.
 */
#include "cli/cli.h"

const char cmd_plan_help[] =
    "usage: immich-autotag plan [--json] [options]\n"
    "\n"
    "Reads the library and prints every change a run would make, grouped\n"
    "by tag and album, without writing anything.  --json prints the plan\n"
    "as JSON, which `immich-autotag apply FILE` can apply later.\n";

enum cli_status cmd_plan(struct cli_ctx *ctx)
{
    enum cli_status st = cli_load_server_config(ctx);

    if (st != CLI_OK)
        return st;
    return cli_not_built(ctx, "plan");
}
