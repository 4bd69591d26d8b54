/*
 * cmd_plan.c: `immich-autotag plan`: evaluate and print what a run would
 * change; writes nothing, to the server or to the log directory.
 */
#include "cli/cli.h"

#include "cli/cli_server.h"
#include "cli/run_session.h"
#include "core/log.h"
#include "rules/rules.h"

const char cmd_plan_help[] =
    "usage: immich-autotag plan [--json] [options]\n"
    "\n"
    "Reads the library and prints every change a run would make, grouped\n"
    "by tag and album, without writing anything.  --json prints the plan\n"
    "as JSON, which `immich-autotag apply FILE` can apply later.\n";

enum cli_status cmd_plan(struct cli_ctx *ctx)
{
    enum cli_status st = cli_load_server_config(ctx);
    struct rules_opts ro = RULES_OPTS_INIT;
    struct snapshot_info info;
    struct http_engine *eng;
    struct buf out = BUF_INIT, err = BUF_INIT;
    struct model m;
    struct plan p;

    if (st != CLI_OK)
        return st;
    eng = cli_engine_open(ctx, NULL);
    if (!eng)
        return CLI_FAILED;
    model_init(&m);
    plan_init(&p);
    st = cli_read_library(ctx, eng, &m, &info, NULL, NULL);
    cli_metrics_out(ctx, eng, NULL);
    if (st != CLI_OK)
        goto out;
    ro.now = run_now_ms();
    if (ctx->opts.max_items >= 0)
        ro.max_items = ctx->opts.max_items;
    if (rules_evaluate(ctx->cfg, &m, &ro, &p, &err) < 0) {
        error_log("%s", err.buf);
        st = CLI_FAILED;
        goto out;
    }
    if (ctx->opts.json)
        plan_to_json(&p, &out);
    else
        plan_print_summary(&p, &out, 5);
    fputs(out.buf, stdout);
    if (fflush(stdout) != 0) {
        error_log("plan: cannot write to stdout");
        st = CLI_FAILED;
    }
out:
    plan_release(&p);
    model_release(&m);
    http_engine_free(eng);
    buf_release(&out);
    buf_release(&err);
    return st;
}
