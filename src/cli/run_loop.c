/*
 * run_loop.c: --loop INTERVAL around one run, with an interruptible sleep
 * and the configuration read again before every later iteration; and
 * --watch, which runs a pass only when a poll of the server says that
 * something changed.
 */
#include "cli/run_loop.h"

#include <errno.h>
#include <time.h>

#include "api/api_poll.h"
#include "cli/cli_server.h"
#include "cli/run_session.h"
#include "core/log.h"
#include "core/sigflag.h"
#include "core/timeutil.h"

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

/* ---- --watch ------------------------------------------------------------ */

/* Failed polls and passes are tried again after the interval, doubled
 * after each failure up to this (or the interval, if longer). */
#define WATCH_BACKOFF_MAX_S 900L

struct watch {
    struct cli_ctx *ctx;
    long interval;            /* between polls, seconds */
    long full_every;          /* between full passes, seconds */
    int64_t since;            /* server clock (ms) the next poll asks from;
                                 TIME_NONE before the first good pass */
    uint64_t albums_fp;       /* album list at the last good pass's poll */
    struct api_changed *seen; /* assets that poll returned: a later poll
                                 returning one with the same updatedAt
                                 (changed within the second "since" was
                                 taken in) does not count it again */
    size_t seen_nr;
    time_t next_full;  /* monotonic seconds: a full pass is due */
    unsigned failures; /* consecutive failed polls or passes */
    unsigned long passes;
    int dialect; /* 2 or 3; 0 until the first poll asked */
    bool warned_clock;
};

/* A poll's answer (api_changes, with its items copied). */
struct poll_result {
    bool done, ok;
    struct api_changed *items;
    size_t nr;
    size_t changed; /* items not in watch.seen */
    bool more;
    int64_t server_ms;
    uint64_t albums_fp;
    struct buf why;
};

static void on_changes(void *ctx, const struct api_status *st,
                       const struct api_changes *ch)
{
    struct poll_result *r = ctx;

    r->done = true;
    r->ok = st->ok;
    if (!st->ok) {
        buf_addstr(&r->why, st->error);
        return;
    }
    r->items = xcalloc(ch->nr + 1, sizeof(*r->items));
    if (ch->nr)
        memcpy(r->items, ch->items, ch->nr * sizeof(*r->items));
    r->nr = ch->nr;
    r->more = ch->more;
    r->server_ms = ch->server_ms;
    r->albums_fp = ch->albums_fp;
}

size_t watch_count_changed(const struct api_changed *items, size_t nr,
                           const struct api_changed *seen, size_t seen_nr)
{
    size_t i, j, n = 0;

    for (i = 0; i < nr; i++) {
        for (j = 0; j < seen_nr; j++)
            if (uuid_eq(&items[i].id, &seen[j].id) &&
                items[i].updated_at == seen[j].updated_at)
                break;
        n += j == seen_nr;
    }
    return n;
}

static time_t mono_s(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

/* Asks the server what changed since w->since (api_poll.h: two requests,
 * five on 2.x);
 * false with the reason in r->why when it could not say. */
static bool watch_poll(struct watch *w, struct poll_result *r,
                       uint64_t *requests)
{
    struct http_engine *eng = cli_engine_open(w->ctx, NULL);
    struct http_totals t;
    struct buf err = BUF_INIT;
    struct api a;

    *requests = 0;
    if (!eng) {
        buf_addstr(&r->why, "no HTTP engine (see above)");
        return false;
    }
    api_init(&a, eng);
    a.dialect = w->dialect;
    api_poll_changes(&a, w->since, on_changes, r);
    if (http_engine_run(eng, &err) < 0 && !r->why.len)
        buf_add(&r->why, err.buf, err.len);
    http_metrics_totals(eng, &t);
    *requests = t.requests;
    w->dialect = a.dialect;
    http_engine_free(eng);
    buf_release(&err);
    if (!r->done && !r->why.len)
        buf_addstr(&r->why, "no answer");
    return r->done && r->ok;
}

/* The wait after the failures-th failure in a row. */
static long watch_backoff(const struct watch *w)
{
    long cap =
        w->interval > WATCH_BACKOFF_MAX_S ? w->interval : WATCH_BACKOFF_MAX_S;
    long d = w->interval;
    unsigned i;

    for (i = 1; i < w->failures && d < cap; i++)
        d *= 2;
    return d < cap ? d : cap;
}

/* "12:03:05" in local time, for the user. */
static void clock_text(int64_t ms, char out[16])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    if (!localtime_r(&t, &tm) || !strftime(out, 16, "%H:%M:%S", &tm))
        snprintf(out, 16, "?");
}

/* The server's clock at the poll, or this machine's (said once). */
static int64_t poll_clock(struct watch *w, const struct poll_result *r)
{
    if (r->server_ms != TIME_NONE)
        return r->server_ms;
    if (!w->warned_clock)
        warn_log("watching: the server's answers carry no Date header: "
                 "using this machine's clock to tell what is new");
    w->warned_clock = true;
    return run_now_ms();
}

/*
 * Runs one pass because a poll said so (or a full one is due), with the
 * configuration read again after the first; on success the next polls
 * ask from this poll's time on and compare with this poll's albums.
 * Returns the pass's status.
 */
static enum cli_status watch_pass(struct watch *w, run_once_fn *once,
                                  struct poll_result *r, bool full)
{
    struct cli_ctx *ctx = w->ctx;
    bool full_read = ctx->opts.full_read;
    int64_t clock = poll_clock(w, r);
    enum cli_status st;

    if (w->passes)
        reload_config(ctx, w->passes + 1);
    ctx->opts.full_read = full_read || full;
    st = once(ctx);
    ctx->opts.full_read = full_read;
    if (st != CLI_OK)
        return st;
    /* The poll's Date (whole seconds, rounded down) is before this pass
     * began to read: whatever changed since then is newer. */
    w->since = clock;
    w->albums_fp = r->albums_fp;
    free(w->seen);
    w->seen = r->items;
    w->seen_nr = r->nr;
    r->items = NULL;
    if (full)
        w->next_full = mono_s() + w->full_every;
    w->passes++;
    return st;
}

/* Says why a pass runs now. */
static void say_why(const struct watch *w, const struct poll_result *r,
                    bool full)
{
    if (full && !w->passes)
        info_log("watching: a full pass to start with");
    else if (full)
        info_log("watching: a full pass (every %ld s)", w->full_every);
    else if (r->more)
        info_log("watching: more than %zu new or changed assets: running "
                 "a pass",
                 r->nr);
    else if (r->changed > 0)
        info_log("watching: %zu new or changed asset%s: running a pass",
                 r->changed, r->changed == 1 ? "" : "s");
    else
        info_log("watching: albums changed: running a pass");
}

/* The wait after a pass, counting a failure for the backoff. */
static long after_pass(struct watch *w, enum cli_status st)
{
    if (st == CLI_OK || st == CLI_USAGE || sig_stop_requested) {
        w->failures = 0;
        info_log("watching: next poll in %ld s", w->interval);
        return w->interval;
    }
    w->failures++;
    warn_log("watching: the pass failed; its changes are looked at again "
             "at the next poll, in %ld s",
             watch_backoff(w));
    return watch_backoff(w);
}

/*
 * One poll and what follows it: nothing (logged), a pass, or a failure
 * counted for the backoff.  Returns the seconds to sleep before the next
 * poll; *st gets a pass's status.  A failed poll never leads to a pass.
 */
static long watch_step(struct watch *w, run_once_fn *once, enum cli_status *st)
{
    struct poll_result r;
    uint64_t requests;
    bool ok, full;
    long wait;
    char when[16];

    memset(&r, 0, sizeof(r));
    buf_init(&r.why, 0);
    ok = watch_poll(w, &r, &requests);
    if (sig_stop_requested) {
        wait = 0;
    } else if (!ok) {
        w->failures++;
        wait = watch_backoff(w);
        warn_log("watching: could not ask the server what changed (%s); "
                 "nothing written; next poll in %ld s",
                 r.why.buf, wait);
    } else {
        r.changed = watch_count_changed(r.items, r.nr, w->seen, w->seen_nr);
        full = !w->passes || mono_s() >= w->next_full;
        wait = w->interval;
        if (!full && !r.more && !r.changed && r.albums_fp == w->albums_fp) {
            w->failures = 0;
            clock_text(w->since, when);
            info_log("watching: nothing new since %s (%llu requests); next "
                     "poll in %ld s",
                     when, (unsigned long long)requests, wait);
        } else {
            say_why(w, &r, full);
            *st = watch_pass(w, once, &r, full);
            wait = after_pass(w, *st);
        }
    }
    free(r.items);
    buf_release(&r.why);
    return wait;
}

enum cli_status run_watch(struct cli_ctx *ctx, run_once_fn *once)
{
    struct watch w;
    enum cli_status st = CLI_OK;
    long wait;

    memset(&w, 0, sizeof(w));
    w.ctx = ctx;
    w.interval = ctx->opts.watch_seconds;
    w.full_every = ctx->opts.full_every_seconds > 0
                       ? ctx->opts.full_every_seconds
                       : CLI_FULL_EVERY_DEFAULT_S;
    w.since = TIME_NONE;
    if (ctx->opts.dialect != CLI_DIALECT_AUTO)
        w.dialect = ctx->opts.dialect == CLI_DIALECT_V2 ? 2 : 3;
    sig_install();
    info_log("watching %s every %ld s (a full pass every %ld s)",
             ctx->cfg->server.url, w.interval, w.full_every);
    for (;;) {
        wait = watch_step(&w, once, &st);
        if (sig_stop_requested || st == CLI_USAGE)
            break;
        sleep_interruptible(wait);
        if (sig_stop_requested)
            break;
    }
    if (sig_stop_requested)
        info_log("watching: stopped by signal %d", (int)sig_stop_requested);
    free(w.seen);
    sig_restore();
    return st;
}
