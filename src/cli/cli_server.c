/*
 * cli_server.c: engine, library read and metrics for the subcommands
 * that talk to the server (check, plan, run, apply).
 */
#include "cli/cli_server.h"

#include "core/fsutil.h"
#include "core/log.h"
#include "core/sigflag.h"
#include "cli/run_session.h"

static void on_progress(void *ctx, size_t done, size_t total,
                        size_t in_flight)
{
    struct progress *p = ctx;

    /* The first call of a phase comes before any of its requests has
     * finished: what the engine completed so far belongs to earlier
     * phases. */
    if (p->rebase) {
        p->base = done;
        p->rebase = false;
    }
    p->total = total - p->base;
    progress_update(p, done - p->base, in_flight, run_now_ms());
}

struct http_engine *cli_engine_open(const struct cli_ctx *ctx,
                                    struct progress *p)
{
    struct http_engine_opts o = HTTP_ENGINE_OPTS_INIT;
    struct http_engine *e;
    struct buf err = BUF_INIT;

    o.base_url = ctx->cfg->server.url;
    o.api_key = ctx->cfg->server.api_key;
    o.concurrency = ctx->opts.concurrency;
    o.ca_file = ctx->opts.ca_file;
    o.insecure = ctx->opts.insecure;
    o.stop = &sig_stop_requested;
    if (p && p->enabled) {
        o.progress = on_progress;
        o.progress_ctx = p;
    }
    e = http_engine_new(&o, &err);
    if (!e)
        error_log("%s", err.buf);
    buf_release(&err);
    return e;
}

enum cli_status cli_status_of(enum api_fail kind, long http)
{
    if (kind == API_FAIL_NETWORK || (kind == API_FAIL_AUTH && http == 401))
        return CLI_SERVER;
    /* 403 on a read: the key lacks a permission the run needs. */
    if (kind == API_FAIL_AUTH)
        return CLI_SERVER;
    return CLI_FAILED;
}

enum cli_status cli_read_library(const struct cli_ctx *ctx,
                                 struct http_engine *eng, struct model *m,
                                 struct snapshot_info *info,
                                 struct progress *p)
{
    struct snapshot_opts so = SNAPSHOT_OPTS_INIT;
    struct buf err = BUF_INIT;
    enum cli_status st = CLI_OK;

    if (ctx->opts.dialect == CLI_DIALECT_V2)
        so.dialect = 2;
    else if (ctx->opts.dialect == CLI_DIALECT_V3)
        so.dialect = 3;
    if (p)
        progress_phase(p, "read", "library", 0, run_now_ms());
    if (snapshot_load(ctx->cfg, eng, &so, m, info, &err) < 0) {
        /* The progress line goes before the messages, not under them. */
        if (p)
            progress_end(p, run_now_ms());
        error_log("%s", err.buf);
        error_log("nothing was written: a run needs the whole library");
        st = sig_stop_requested ? CLI_FAILED
                                : cli_status_of(info->fail_kind,
                                                info->fail_http);
    } else {
        if (p)
            progress_end(p, run_now_ms());
        info_log("library: %zu assets (%zu of partners), %zu albums, "
                 "%zu tags, %zu duplicate groups, read in %llu requests",
                 info->assets, info->partner_assets, info->albums,
                 info->tags, info->dups,
                 (unsigned long long)info->requests);
    }
    buf_release(&err);
    return st;
}

void cli_metrics_out(const struct cli_ctx *ctx, struct http_engine *eng,
                     struct buf *json)
{
    struct http_totals t;
    struct buf b = BUF_INIT, err = BUF_INIT;

    http_metrics_totals(eng, &t);
    if (log_level_current >= LOG_VERBOSE) {
        http_metrics_table(eng, &b);
        cli_print_lines(LOG_VERBOSE, b.buf);
        buf_reset(&b);
    }
    info_log("requests: %llu (%llu retries, %llu errors), %llu connections, "
             "%.2f s on the network, %.2f s CPU, peak RSS %ld MiB",
             (unsigned long long)t.requests, (unsigned long long)t.retries,
             (unsigned long long)t.errors,
             (unsigned long long)t.connections, t.wait_s, t.cpu_s,
             t.peak_rss_kb / 1024);
    http_metrics_json(eng, &b);
    if (ctx->opts.metrics_json &&
        fs_write_atomic(ctx->opts.metrics_json, b.buf, b.len, &err) < 0)
        error_log("--metrics-json: %s", err.buf);
    if (json)
        buf_add(json, b.buf, b.len);
    buf_release(&b);
    buf_release(&err);
}
