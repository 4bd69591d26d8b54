/*
 * cmd_apply.c: `immich-autotag apply FILE`: applies a plan saved by
 * `immich-autotag plan --json`, after checking it still fits the server.
 */
#include "cli/cli.h"

#include "cli/run_loop.h"
#include "cli/run_pass.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/sigflag.h"

/* Saved plans larger than this are refused before parsing. */
#define PLAN_FILE_MAX ((size_t)2 * 1024 * 1024 * 1024 - 1)

const char cmd_apply_help[] =
    "usage: immich-autotag apply FILE [options]\n"
    "\n"
    "Applies the plan saved in FILE by `immich-autotag plan --json`.  The\n"
    "library is read again first; if the plan no longer fits it (a tag or\n"
    "album it names is gone, an asset changed since), nothing is written.\n";

enum cli_status cmd_apply(struct cli_ctx *ctx)
{
    struct buf data = BUF_INIT, err = BUF_INIT;
    enum cli_status st;
    struct plan saved;

    if (ctx->opts.args_nr != 1) {
        error_log("apply: expected one plan file, got %zu arguments "
                  "(usage: immich-autotag apply FILE)",
                  ctx->opts.args_nr);
        return CLI_USAGE;
    }
    st = cli_load_server_config(ctx);
    if (st != CLI_OK)
        return st;
    plan_init(&saved);
    if (fs_read_file(ctx->opts.args[0], PLAN_FILE_MAX, &data, &err) < 0 ||
        plan_from_json(data.buf, data.len, &saved, &err) < 0) {
        error_log("apply: %s: %s", ctx->opts.args[0], err.buf);
        st = CLI_USAGE;
        goto out;
    }
    sig_install();
    st = run_pass(ctx, &saved);
    sig_restore();
out:
    plan_release(&saved);
    buf_release(&data);
    buf_release(&err);
    return st;
}
