/*
 * cmd_check.c: `immich-autotag check`: the configuration, the server's
 * reachability and what the API key may do.
 */
#include "cli/cli.h"

const char cmd_check_help[] =
    "usage: immich-autotag check [options]\n"
    "\n"
    "Validates the configuration, then connects to the server and checks\n"
    "that the API key is accepted and has the permissions a run needs.\n"
    "Exit 0 when all is well, 2 for a configuration problem, 3 when the\n"
    "server cannot be reached or refuses the key.\n";

enum cli_status cmd_check(struct cli_ctx *ctx)
{
    enum cli_status st = cli_load_server_config(ctx);

    if (st != CLI_OK)
        return st;
    return cli_not_built(ctx, "check");
}
