/*
 * run_loop.c: --loop INTERVAL around one run, with an interruptible sleep
 * and the configuration read again before every later iteration.
 */
#include "cli/run_loop.h"

#include <errno.h>
#include <time.h>

#include "core/log.h"
#include "core/sigflag.h"

/* Sleeps up to seconds, waking early when a stop was requested. */
static void sleep_interruptible(long seconds)
{
    long left = seconds;

    while (left > 0 && !sig_stop_requested) {
        struct timespec ts = {1, 0};

        /* A signal cuts nanosleep short (EINTR); the flag is then set. */
        if (nanosleep(&ts, NULL) < 0 && errno != EINTR)
            break;
        left--;
    }
}

/*
 * Reads the configuration again before a later iteration, so that an
 * edit takes effect without a restart.  A file that no longer loads (its
 * errors printed with file:line by the loader) leaves the last good
 * configuration in place.
 */
static void reload_config(struct cli_ctx *ctx, unsigned long iteration)
{
    struct config *good = ctx->cfg;
    struct buf path = BUF_INIT;

    buf_addstr(&path, ctx->config_path.buf);
    ctx->cfg = NULL;
    if (cli_load_server_config(ctx) == CLI_OK) {
        verbose_log("loop: configuration read again from %s",
                    ctx->config_path.buf);
        config_free(good);
    } else {
        warn_log("loop: iteration %lu: %s does not load (see above): "
                 "keeping the last good configuration",
                 iteration, path.buf);
        config_free(ctx->cfg);
        ctx->cfg = good;
        buf_reset(&ctx->config_path);
        buf_addstr(&ctx->config_path, path.buf);
    }
    buf_release(&path);
}

enum cli_status run_loop(struct cli_ctx *ctx, run_once_fn *once)
{
    long interval = ctx->opts.loop_seconds;
    enum cli_status st;
    unsigned long iteration = 0;

    sig_install();
    for (;;) {
        iteration++;
        if (interval > 0)
            info_log("loop: iteration %lu", iteration);
        if (iteration > 1)
            reload_config(ctx, iteration);
        st = once(ctx);
        if (sig_stop_requested) {
            warn_log("stopped by signal %d", (int)sig_stop_requested);
            st = CLI_FAILED;
            break;
        }
        if (interval <= 0 || st == CLI_USAGE)
            break;
        if (st != CLI_OK)
            warn_log("loop: iteration %lu failed; next in %ld s", iteration,
                     interval);
        else
            info_log("loop: next run in %ld s", interval);
        sleep_interruptible(interval < 1 ? 1 : interval);
        if (sig_stop_requested) {
            info_log("loop: stopped by signal %d", (int)sig_stop_requested);
            break;
        }
    }
    sig_restore();
    return st;
}
