/*
 * cmd_check.c: `immich-autotag check`: the configuration, the server's
 * reachability and what the API key may do.  Read-only.
 */
#include "cli/cli.h"

#include "cli/cli_server.h"
#include "core/log.h"

const char cmd_check_help[] =
    "usage: immich-autotag check [options]\n"
    "\n"
    "Validates the configuration, then connects to the server and checks\n"
    "that the API key is accepted and has the permissions a run needs.\n"
    "Nothing is written.  Exit 0 when all is well, 1 for an unexpected\n"
    "server answer, 2 for a configuration problem, 3 when the server\n"
    "cannot be reached, refuses the key or the key lacks a permission.\n";

enum cli_status cmd_check(struct cli_ctx *ctx)
{
    enum cli_status st = cli_load_server_config(ctx);
    struct buf report = BUF_INIT, err = BUF_INIT;
    struct http_engine *eng;

    if (st != CLI_OK)
        return st;
    printf("config: %s: valid\n", ctx->config_path.buf);
    eng = cli_engine_open(ctx, NULL);
    if (!eng)
        return CLI_FAILED;
    switch (snapshot_check(ctx->cfg, eng, &report, &err)) {
    case SNAPSHOT_CHECK_OK:
        st = CLI_OK;
        break;
    case SNAPSHOT_CHECK_FAILED:
        st = CLI_FAILED;
        break;
    case SNAPSHOT_CHECK_CONFIG:
        st = CLI_USAGE;
        break;
    case SNAPSHOT_CHECK_SERVER:
        st = CLI_SERVER;
        break;
    }
    fputs(report.buf, stdout);
    fflush(stdout);
    if (err.len)
        cli_print_errors(err.buf);
    http_engine_free(eng);
    buf_release(&report);
    buf_release(&err);
    return st;
}
