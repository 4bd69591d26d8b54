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
#include "resume/resume.h"
#include "rules/rules.h"
#include "state/state.h"

const char cmd_plan_help[] =
    "usage: immich-autotag plan [--json] [options]\n"
    "\n"
    "Reads the library and prints every change a run would make, grouped\n"
    "by tag and album, without writing anything.  --json prints the plan\n"
    "as JSON, which `immich-autotag apply FILE` can apply later.  Album\n"
    "memberships remembered by earlier runs in the log root (--log-dir) are\n"
    "reused, read-only.  With sliced runs (skip.max_items, --max-items) it\n"
    "shows the slice the next run will process, resuming where the last\n"
    "runs stopped.\n";

/*
 * The slice a run would take now (src/resume: the same decision as
 * run_session_checkpoint(), read-only: nothing is archived).
 */
static void plan_window(const struct cli_ctx *ctx, struct state *st,
                        int64_t total, int64_t now, struct rules_opts *ro)
{
    struct resume_in in = RESUME_IN_INIT;
    struct resume r;
    struct buf warnings = BUF_INIT;

    in.root = ctx->opts.log_dir ? ctx->opts.log_dir : REPORT_DEFAULT_ROOT;
    in.resume_previous = ctx->cfg->skip.resume_previous;
    in.skip_n = ctx->cfg->skip.skip_n;
    in.max_items =
        resume_max_items(ctx->opts.max_items, ctx->cfg->skip.max_items);
    in.total = total;
    in.now_ms = now;
    resume_decide(&r, &in, st, &warnings);
    cli_print_warnings(warnings.buf);
    ro->skip_n = (long)r.skip;
    ro->max_items = (long)in.max_items;
    info_log("[CHECKPOINT] skip_n=%lld (origin: %s)", (long long)r.skip,
             r.source);
    resume_release(&r);
    buf_release(&warnings);
}

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
    struct cli_readonly r;
    struct state *memory;

    if (st != CLI_OK)
        return st;
    if (!cli_readonly_open(ctx, &r)) {
        cli_readonly_close(&r);
        return CLI_FAILED;
    }
    memory = open_memory(ctx);
    st = cli_read_library(ctx, r.eng, &r.m, &info, NULL, memory, false);
    cli_metrics_out(ctx, r.eng, NULL);
    if (st != CLI_OK) {
        state_close(memory);
        goto out;
    }
    ro.now = run_now_ms();
    plan_window(ctx, memory, info.server_total, ro.now, &ro);
    state_close(memory);
    if (rules_evaluate(ctx->cfg, &r.m, &ro, &r.p, &r.err) < 0) {
        error_log("%s", r.err.buf);
        st = CLI_FAILED;
        goto out;
    }
    cli_warn_hidden_users(ctx->cfg, &info, &r.p);
    if (ctx->opts.json)
        plan_to_json(&r.p, &r.out);
    else {
        struct plan_names names = {cli_model_name, &r.m};

        plan_print_summary_named(&r.p, &r.out, 5, &names);
    }
    st = cli_stdout(&r.out, "plan");
out:
    cli_readonly_close(&r);
    return st;
}
