/*
 * html.h: report.html, one self-contained page per run directory (inline
 * CSS and SVG, a few lines of inline JavaScript, no network): the run's
 * summary, changes by kind and by rule, requests by endpoint, latency,
 * the timeline of the phases, client CPU and peak memory, the trend over
 * the last runs and every change with its asset's link, filterable by
 * kind and rule.
 *
 *     struct report_html_input in = { name, url, metrics, timeline,
 *                                     journal, history, history_nr };
 *     if (report_html(&in, &page, &err) < 0)
 *         fail(err.buf);          // a file of the run is not what we wrote
 *
 * The inputs are the texts of the run directory's files, so the page can
 * be built again from them (`immich-autotag report`).
 */
#ifndef IA_REPORT_HTML_H
#define IA_REPORT_HTML_H

#include <stdio.h>

#include "core/buf.h"

#define REPORT_FILE_HTML     "report.html"
#define REPORT_FILE_TIMELINE "timeline.json"
/* Runs the trend shows at most. */
#define REPORT_HTML_HISTORY_MAX 30

/* One run of the history (state.sqlite), for the trend. */
struct report_html_run {
    const char *name;
    int64_t started_at, finished_at; /* ms UTC */
    int status;                      /* enum state_run_status */
    int64_t write_requests;          /* counter "write_requests" */
    int64_t changes;                 /* counter "changes_done" */
};

struct report_html_input {
    const char *run_name;      /* the run directory's name */
    const char *server_url;    /* links: <url>/photos/<id> */
    const char *metrics_json;  /* metrics.json text, may be NULL */
    const char *timeline_json; /* timeline.json text, may be NULL */
    const char *journal;       /* modifications.jsonl text, may be NULL */
    const struct report_html_run *history; /* oldest first */
    size_t history_nr;                     /* at most REPORT_HTML_HISTORY_MAX */
    FILE *journal_file; /* or the file, read a line at a time (then
                           journal is not used): a big run's journal is
                           never whole in memory */
};

/*
 * Appends the page to out.  -1 with err when metrics.json, timeline.json
 * or a journal line does not parse.
 */
int report_html(const struct report_html_input *in, struct buf *out,
                struct buf *err);

/* "done", "partial", "dry run"... of an enum state_run_status value. */
const char *report_html_status(int status);

#endif
