/*
 * cmd_plan.c: `immich-autotag plan`: evaluate and print what a run would
 * change; writes nothing, to the server or to the log directory.
 */
#include "cli/cli.h"

#include <unistd.h>

#include "cli/cli_server.h"
#include "cli/run_session.h"
#include "core/log.h"
#include "report/report.h"
#include "rules/rules.h"
#include "state/state.h"

const char cmd_plan_help[] =
    "usage: immich-autotag plan [--json] [options]\n"
    "\n"
    "Reads the library and prints every change a run would make, grouped\n"
    "by tag and album, without writing anything.  --json prints the plan\n"
    "as JSON, which `immich-autotag apply FILE` can apply later.  Album\n"
    "memberships remembered by earlier runs in the log root (--log-dir) are\n"
    "reused, read-only.\n";

/*
 * The album memberships earlier runs remembered, read-only (plan writes
 * nothing, not even there); NULL when there is no usable database.
 */
static struct state *open_memory(const struct cli_ctx *ctx)
{
    struct buf path = BUF_INIT, err = BUF_INIT;
    struct state *st = NULL;

    buf_addf(&path, "%s/%s",
             ctx->opts.log_dir ? ctx->opts.log_dir : REPORT_DEFAULT_ROOT,
             STATE_DB_NAME);
    if (!access(path.buf, R_OK) &&
        state_open_readonly(&st, path.buf, &err) < 0) {
        verbose_log("%s: reading every album", err.buf);
        st = NULL;
    }
    buf_release(&path);
    buf_release(&err);
    return st;
}

enum cli_status cmd_plan(struct cli_ctx *ctx)
{
    enum cli_status st = cli_load_server_config(ctx);
    struct rules_opts ro = RULES_OPTS_INIT;
    struct snapshot_info info;
    struct http_engine *eng;
    struct state *memory;
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
    memory = open_memory(ctx);
    st = cli_read_library(ctx, eng, &m, &info, NULL, memory, false);
    state_close(memory);
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
