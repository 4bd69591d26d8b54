/*
 * progress.c: the live progress line on a terminal, plain lines
 * elsewhere.
 */
#include "cli/progress.h"

#include "core/buf.h"
#include "core/log.h"

#define REDRAW_MS 100

void progress_init(struct progress *p, FILE *out, bool enabled, bool tty)
{
    memset(p, 0, sizeof(*p));
    p->out = out;
    p->enabled = enabled;
    p->tty = tty;
}

void progress_format(const struct progress *p, int64_t now_ms, struct buf *out)
{
    double secs = (double)(now_ms - p->phase_start) / 1000.0;
    double rate = secs > 0 ? (double)p->done / secs : 0.0;

    buf_addf(out, "[%s] %s %zu/%zu", p->stage, p->phase, p->done, p->total);
    if (p->inflight)
        buf_addf(out, ", %zu in flight", p->inflight);
    if (rate > 0) {
        buf_addf(out, ", %.1f/s", rate);
        if (p->total > p->done)
            buf_addf(out, ", ETA %.0fs", (double)(p->total - p->done) / rate);
    }
    if (p->waiting[0])
        buf_addf(out, ", waiting for %s (%ld s)", p->waiting, p->waited_s);
}

static void draw(struct progress *p, int64_t now_ms)
{
    struct buf line = BUF_INIT;

    progress_format(p, now_ms, &line);
    /* \r and erase-to-end-of-line: the line is rewritten in place. */
    fprintf(p->out, "\r\033[K%s", line.buf);
    fflush(p->out);
    p->drawn = true;
    p->last_draw = now_ms;
    buf_release(&line);
}

static struct progress_span *span_new(struct progress *p, const char *stage,
                                      const char *phase, int64_t start)
{
    struct progress_span *s;

    ALLOC_GROW(p->spans, p->spans_nr + 1, p->spans_alloc);
    s = &p->spans[p->spans_nr++];
    memset(s, 0, sizeof(*s));
    snprintf(s->stage, sizeof(s->stage), "%s", stage);
    snprintf(s->phase, sizeof(s->phase), "%s", phase);
    s->start = start;
    return s;
}

void progress_mark(struct progress *p, const char *stage, const char *phase,
                   int64_t start_ms, int64_t end_ms)
{
    span_new(p, stage, phase, start_ms)->end = end_ms;
}

void progress_timeline_json(const struct progress *p, struct buf *out)
{
    size_t i;

    buf_addch(out, '[');
    for (i = 0; i < p->spans_nr; i++) {
        const struct progress_span *s = &p->spans[i];

        buf_addstr(out, i ? ",{\"stage\":" : "{\"stage\":");
        buf_add_json_str(out, s->stage, strlen(s->stage));
        buf_addstr(out, ",\"phase\":");
        buf_add_json_str(out, s->phase, strlen(s->phase));
        buf_addf(out,
                 ",\"start_ms\":%lld,\"end_ms\":%lld,\"requests\":%zu,"
                 "\"max_in_flight\":%zu}",
                 (long long)s->start, (long long)(s->end ? s->end : s->start),
                 s->requests, s->max_inflight);
    }
    buf_addch(out, ']');
}

void progress_release(struct progress *p)
{
    free(p->spans);
    p->spans = NULL;
    p->spans_nr = p->spans_alloc = 0;
}

void progress_phase(struct progress *p, const char *stage, const char *phase,
                    size_t total, int64_t now_ms)
{
    if (p->phase[0])
        progress_end(p, now_ms);
    span_new(p, stage, phase, now_ms);
    p->open_span = p->spans_nr - 1;
    snprintf(p->stage, sizeof(p->stage), "%s", stage);
    snprintf(p->phase, sizeof(p->phase), "%s", phase);
    p->done = p->inflight = 0;
    p->waiting[0] = '\0';
    p->total = total;
    p->rebase = true;
    p->phase_start = now_ms;
    p->last_draw = 0;
    if (p->enabled && p->tty)
        draw(p, now_ms);
}

void progress_update(struct progress *p, size_t done, size_t inflight,
                     const char *waiting, long waited_s, int64_t now_ms)
{
    p->done = done;
    p->inflight = inflight;
    p->waited_s = waited_s;
    if (waiting && waited_s >= PROGRESS_WAIT_SHOW_S)
        snprintf(p->waiting, sizeof(p->waiting), "%s", waiting);
    else
        p->waiting[0] = '\0';
    if (p->phase[0] && !p->spans[p->open_span].end) {
        struct progress_span *s = &p->spans[p->open_span];

        s->requests = done;
        if (inflight > s->max_inflight)
            s->max_inflight = inflight;
    }
    if (p->enabled && p->tty && now_ms - p->last_draw >= REDRAW_MS)
        draw(p, now_ms);
}

void progress_end(struct progress *p, int64_t now_ms)
{
    if (!p->phase[0])
        return;
    if (!p->spans[p->open_span].end)
        p->spans[p->open_span].end = now_ms;
    if (p->drawn) {
        fputs("\r\033[K", p->out);
        fflush(p->out);
        p->drawn = false;
    }
    /* Off a terminal this line is the progress; on one, a detail. */
    if (p->enabled && !p->tty)
        info_log("%s: %zu/%zu requests in %.1f s", p->phase, p->done, p->total,
                 (double)(now_ms - p->phase_start) / 1000.0);
    else if (p->enabled)
        verbose_log("%s: %zu/%zu requests in %.1f s", p->phase, p->done,
                    p->total, (double)(now_ms - p->phase_start) / 1000.0);
    p->phase[0] = '\0';
}
