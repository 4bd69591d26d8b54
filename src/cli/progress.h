/*
 * progress.h: what a long run shows while it works.
 *
 * On a terminal (stderr is a tty, text log format, not --quiet) one line
 * is redrawn in place, at most ten times a second:
 *
 *     [apply] tag adds 12/40 requests, 4 in flight, 6.1/s, ETA 5s
 *     [read] library 3/40, 1 in flight, waiting for GET /albums (12 s)
 *
 * Anywhere else (cron, systemd, a pipe, --log-format json) nothing is
 * redrawn: each phase ends with one ordinary log line
 * ("tag adds: 40 requests in 6.5 s"), so logs stay readable.
 *
 * The times are passed in (ms) so the module has no clock of its own.
 */
#ifndef IA_PROGRESS_H
#define IA_PROGRESS_H

#include "core/buf.h"

/* One phase as it happened, for the run's timeline (report.html). */
struct progress_span {
    char stage[16];
    char phase[40];
    int64_t start, end;  /* ms; end 0 while running */
    size_t requests;     /* requests the phase completed */
    size_t max_inflight; /* most requests in flight at once */
};

struct progress {
    bool enabled;   /* false: --quiet */
    bool tty;       /* redraw one line */
    bool drawn;     /* a line is on screen (must be cleared) */
    char stage[16]; /* "read", "apply" */
    char phase[40]; /* "tag adds" */
    size_t done, total, inflight;
    char waiting[48]; /* longest-waiting request, "" = none shown */
    size_t open_span; /* spans[] index of the phase under way: marks
                         (progress_mark()) may come after it */
    long waited_s;
    int64_t phase_start; /* ms */
    int64_t last_draw;   /* ms */
    FILE *out;           /* stderr (a test may pass a file) */
    /* The engine counts requests since it was made; a phase shows its
     * own: base is the engine's count when the phase began. */
    bool rebase; /* take base from the next engine count */
    size_t base;
    struct progress_span *spans; /* every phase so far, in order */
    size_t spans_nr, spans_alloc;
};

/* enabled: progress wanted at all; tty: the output is a terminal. */
void progress_init(struct progress *p, FILE *out, bool enabled, bool tty);
/* Starts a phase (ends the previous one). */
void progress_phase(struct progress *p, const char *stage, const char *phase,
                    size_t total, int64_t now_ms);
/*
 * New counts for the current phase; redraws on a tty when due.  waiting
 * (may be NULL) names the request in flight that has waited longest,
 * waited_s how long: from PROGRESS_WAIT_SHOW_S on the line ends with
 * "waiting for GET /albums (12 s)".
 */
#define PROGRESS_WAIT_SHOW_S 3
void progress_update(struct progress *p, size_t done, size_t inflight,
                     const char *waiting, long waited_s, int64_t now_ms);
/* Ends the current phase: clears the line / logs the plain summary. */
void progress_end(struct progress *p, int64_t now_ms);
/* Records a phase that drew nothing (evaluation), for the timeline. */
void progress_mark(struct progress *p, const char *stage, const char *phase,
                   int64_t start_ms, int64_t end_ms);
/* The timeline as a JSON array: [{"stage","phase","start_ms","end_ms",
 * "requests","max_in_flight"}...]. */
void progress_timeline_json(const struct progress *p, struct buf *out);
void progress_release(struct progress *p);
/* Formats the live line (for tests): no escape codes. */
void progress_format(const struct progress *p, int64_t now_ms, struct buf *out);

#endif
