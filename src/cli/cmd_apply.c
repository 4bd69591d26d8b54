/*
 * cmd_apply.c: `immich-autotag apply FILE`: applies a plan saved by
 * `immich-autotag plan --json`.
 */
#include "cli/cli.h"

#include "core/log.h"

const char cmd_apply_help[] =
    "usage: immich-autotag apply FILE [options]\n"
    "\n"
    "Applies the plan saved in FILE by `immich-autotag plan --json`.\n";

enum cli_status cmd_apply(struct cli_ctx *ctx)
{
    enum cli_status st;

    if (ctx->opts.args_nr != 1) {
        error_log("apply: expected one plan file, got %zu arguments "
                  "(usage: immich-autotag apply FILE)",
                  ctx->opts.args_nr);
        return CLI_USAGE;
    }
    st = cli_load_server_config(ctx);
    if (st != CLI_OK)
        return st;
    return cli_not_built(ctx, "apply");
}
