/*
 * html.c: report.html, the run directory as one page a person reads.
 *
 * One self-contained file: inline CSS, inline SVG charts, a few lines of
 * inline JavaScript for the filters, no network access.  Everything it
 * shows comes from the run's own files (metrics.json, timeline.json,
 * modifications.jsonl) and the run history, so `immich-autotag report`
 * can build it again later.  Every text that comes from the library or
 * the configuration (file names, album and tag names, endpoints) goes
 * through esc(): an album named "<script>" is shown, never run.
 */
#include "report/html.h"

#include <errno.h>
#include <jansson.h>
#include <yajl/yajl_parse.h>

/* Changes listed at most (the counts above the list are always whole). */
#define HTML_LIST_MAX 20000

static void esc(struct buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            buf_addstr(b, "&amp;");
            break;
        case '<':
            buf_addstr(b, "&lt;");
            break;
        case '>':
            buf_addstr(b, "&gt;");
            break;
        case '"':
            buf_addstr(b, "&quot;");
            break;
        case '\'':
            buf_addstr(b, "&#39;");
            break;
        default:
            buf_addch(b, *s);
        }
    }
}

static const char *str_of(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s ? s : "";
}

static double num_of(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    return json_is_number(v) ? json_number_value(v) : 0.0;
}

/* A named count, kept in first-seen order. */
struct tally {
    char **names;
    double *values;
    size_t nr, alloc, alloc_v;
};

static void tally_add(struct tally *t, const char *name, double v)
{
    size_t i;

    for (i = 0; i < t->nr; i++)
        if (!strcmp(t->names[i], name)) {
            t->values[i] += v;
            return;
        }
    ALLOC_GROW(t->names, t->nr + 1, t->alloc);
    ALLOC_GROW(t->values, t->nr + 1, t->alloc_v);
    t->names[t->nr] = xstrdup(name);
    t->values[t->nr++] = v;
}

static void tally_release(struct tally *t)
{
    size_t i;

    for (i = 0; i < t->nr; i++)
        free(t->names[i]);
    free(t->names);
    free(t->values);
    memset(t, 0, sizeof(*t));
}

/* Horizontal bars, one per name, scaled to the largest value. */
static void svg_bars(struct buf *b, const struct tally *t, const char *unit)
{
    double max = 0;
    size_t i;

    for (i = 0; i < t->nr; i++)
        if (t->values[i] > max)
            max = t->values[i];
    buf_addf(b,
             "<svg class=\"chart\" viewBox=\"0 0 360 %zu\" "
             "role=\"img\">",
             t->nr * 20 + 4);
    for (i = 0; i < t->nr; i++) {
        double w = max > 0 ? t->values[i] / max * 150 : 0;

        buf_addf(b, "<text x=\"0\" y=\"%zu\" class=\"l\">", i * 20 + 15);
        esc(b, t->names[i]);
        buf_addf(b,
                 "</text><rect x=\"180\" y=\"%zu\" width=\"%.1f\" "
                 "height=\"14\" class=\"bar\"/><text x=\"%.1f\" y=\"%zu\">"
                 "%g%s</text>",
                 i * 20 + 3, w > 0 && w < 1 ? 1 : w, 184 + w, i * 20 + 15,
                 t->values[i], unit);
    }
    buf_addstr(b, "</svg>\n");
}

/* A figure with an id the tests read back. */
static void card(struct buf *b, const char *id, const char *label,
                 const char *value)
{
    buf_addf(b,
             "<div class=\"card\"><div class=\"v\" id=\"%s\">%s</div>"
             "<div class=\"k\">%s</div></div>",
             id, value, label);
}

static void summary(struct buf *b, const struct report_html_input *in,
                    json_t *metrics, size_t changes, size_t failed)
{
    char v[64];
    size_t i;

    buf_addstr(b, "<section><h2>Summary</h2><div class=\"cards\">");
    snprintf(v, sizeof(v), "%zu", changes);
    card(b, "m-changes", "changes made", v);
    snprintf(v, sizeof(v), "%zu", failed);
    card(b, "m-failed", "changes failed", v);
    for (i = 0; i < in->history_nr; i++) {
        const struct report_html_run *r = &in->history[i];

        if (in->run_name && !strcmp(r->name, in->run_name)) {
            snprintf(v, sizeof(v), "%.1f",
                     (double)(r->finished_at - r->started_at) / 1000);
            card(b, "m-time", "run time, s", v);
            card(b, "m-status", "status", report_html_status(r->status));
        }
    }
    if (metrics) {
        snprintf(v, sizeof(v), "%.0f", num_of(metrics, "requests"));
        card(b, "m-requests", "requests", v);
        snprintf(v, sizeof(v), "%.0f", num_of(metrics, "errors"));
        card(b, "m-errors", "request errors", v);
        snprintf(v, sizeof(v), "%.3f", num_of(metrics, "wall_s"));
        card(b, "m-wall", "seconds in requests", v);
        snprintf(v, sizeof(v), "%.3f", num_of(metrics, "cpu_s"));
        card(b, "m-cpu", "client CPU seconds", v);
        snprintf(v, sizeof(v), "%.1f", num_of(metrics, "peak_rss_kb") / 1024.0);
        card(b, "m-rss", "peak memory, MiB", v);
    }
    buf_addstr(b, "</div></section>\n");
}

/*
 * The endpoints section of report.html: calls per endpoint as bars, and
 * the latency of each (a line to the slowest call, a box from p50 to p95)
 * on one scale, from metrics.json.
 */
static void endpoints(struct buf *b, json_t *metrics)
{
    json_t *eps = json_object_get(metrics, "endpoints"), *e;
    struct tally calls = {0};
    double max = 0;
    size_t i, nr = json_array_size(eps);

    if (!nr)
        return;
    json_array_foreach(eps, i, e)
    {
        tally_add(&calls, str_of(e, "endpoint"), num_of(e, "calls"));
        if (num_of(e, "max_s") > max)
            max = num_of(e, "max_s");
    }
    buf_addstr(b, "<section><h2>Requests by endpoint</h2>");
    svg_bars(b, &calls, "");
    buf_addstr(b, "<table id=\"endpoints\"><thead><tr><th>endpoint</th>"
                  "<th>calls</th><th>errors</th><th>retries</th>"
                  "<th>p50 ms</th><th>p95 ms</th><th>max ms</th></tr>"
                  "</thead><tbody>");
    json_array_foreach(eps, i, e)
    {
        buf_addstr(b, "<tr data-endpoint=\"");
        esc(b, str_of(e, "endpoint"));
        buf_addstr(b, "\"><td>");
        esc(b, str_of(e, "endpoint"));
        buf_addf(b,
                 "</td><td class=\"calls\">%.0f</td><td>%.0f</td>"
                 "<td>%.0f</td><td>%.1f</td><td>%.1f</td><td>%.1f</td>"
                 "</tr>",
                 num_of(e, "calls"), num_of(e, "errors"), num_of(e, "retries"),
                 num_of(e, "p50_s") * 1000, num_of(e, "p95_s") * 1000,
                 num_of(e, "max_s") * 1000);
    }
    buf_addstr(b, "</tbody></table></section>\n");

    /* Latency: a line to the slowest call, a box from p50 to p95. */
    buf_addstr(b, "<section><h2>Latency distribution</h2>"
                  "<p class=\"note\">per endpoint: the box spans the median "
                  "(p50) to p95, the line reaches the slowest call</p>");
    buf_addf(b, "<svg class=\"chart\" viewBox=\"0 0 360 %zu\" role=\"img\">",
             nr * 20 + 24);
    json_array_foreach(eps, i, e)
    {
        double k = max > 0 ? 150 / max : 0;
        double p50 = num_of(e, "p50_s") * k, p95 = num_of(e, "p95_s") * k;

        buf_addf(b, "<text x=\"0\" y=\"%zu\" class=\"l\">", i * 20 + 15);
        esc(b, str_of(e, "endpoint"));
        buf_addf(b,
                 "</text><line x1=\"180\" x2=\"%.1f\" y1=\"%zu\" "
                 "y2=\"%zu\" class=\"whisker\"/><rect x=\"%.1f\" "
                 "y=\"%zu\" width=\"%.1f\" height=\"12\" class=\"box\"/>",
                 180 + num_of(e, "max_s") * k, i * 20 + 10, i * 20 + 10,
                 180 + p50, i * 20 + 4, p95 - p50 < 1 ? 1 : p95 - p50);
    }
    buf_addf(b,
             "<text x=\"180\" y=\"%zu\">0</text><text x=\"330\" "
             "y=\"%zu\" text-anchor=\"end\">%.1f ms</text></svg>"
             "</section>\n",
             nr * 20 + 18, nr * 20 + 18, max * 1000);
    tally_release(&calls);
}

/*
 * The run's stages and phases as bars on one time axis, from the
 * timeline's spans, so where the time went is visible.
 */
static void timeline(struct buf *b, json_t *spans)
{
    double t0 = 0, t1 = 0;
    json_t *s;
    size_t i, nr = json_array_size(spans);

    if (!nr)
        return;
    json_array_foreach(spans, i, s)
    {
        if (!i || num_of(s, "start_ms") < t0)
            t0 = num_of(s, "start_ms");
        if (num_of(s, "end_ms") > t1)
            t1 = num_of(s, "end_ms");
    }
    buf_addf(b,
             "<section><h2>Timeline</h2><p class=\"note\">%.2f s from "
             "the first phase to the last; each phase with the requests "
             "it made and the most in flight at once</p>",
             (t1 - t0) / 1000.0);
    buf_addf(b, "<svg class=\"chart\" viewBox=\"0 0 360 %zu\" role=\"img\">",
             nr * 20 + 4);
    json_array_foreach(spans, i, s)
    {
        double k = t1 > t0 ? 150 / (t1 - t0) : 0;
        double x = (num_of(s, "start_ms") - t0) * k;
        double w = (num_of(s, "end_ms") - num_of(s, "start_ms")) * k;

        buf_addf(b, "<text x=\"0\" y=\"%zu\" class=\"l\">", i * 20 + 15);
        esc(b, str_of(s, "stage"));
        buf_addstr(b, ": ");
        esc(b, str_of(s, "phase"));
        buf_addf(b,
                 "</text><rect x=\"%.1f\" y=\"%zu\" width=\"%.1f\" "
                 "height=\"14\" class=\"span\"/><text x=\"%.1f\" y=\"%zu\" "
                 "class=\"s\">%.0f req, %.0f in flight</text>",
                 180 + x, i * 20 + 3, w < 1 ? 1 : w, 180 + x, i * 20 + 15,
                 num_of(s, "requests"), num_of(s, "max_in_flight"));
    }
    buf_addstr(b, "</svg></section>\n");
}

static const char *const status_names[] = {
    "running", "done", "partial", "failed", "interrupted", "dry run",
};

const char *report_html_status(int status)
{
    return status >= 0 && (size_t)status < ARRAY_SIZE(status_names)
               ? status_names[status]
               : "unknown";
}

/* Per run, oldest first: one bar chart per figure. */
static void trend(struct buf *b, const struct report_html_input *in)
{
    static const char *const what[] = {"run time, s", "write requests",
                                       "changes made"};
    size_t f, i, nr = in->history_nr;

    if (!nr)
        return;
    buf_addstr(b, "<section><h2>Run over run</h2><div class=\"trend\">");
    for (f = 0; f < ARRAY_SIZE(what); f++) {
        double max = 0, v[REPORT_HTML_HISTORY_MAX];
        double w = 300.0 / (double)nr;

        for (i = 0; i < nr && i < REPORT_HTML_HISTORY_MAX; i++) {
            const struct report_html_run *r = &in->history[i];

            v[i] = f == 0   ? (double)(r->finished_at - r->started_at) / 1000
                   : f == 1 ? (double)r->write_requests
                            : (double)r->changes;
            if (v[i] < 0)
                v[i] = 0;
            if (v[i] > max)
                max = v[i];
        }
        buf_addf(b,
                 "<figure><figcaption>%s</figcaption><svg class=\"chart\" "
                 "viewBox=\"0 0 300 90\" role=\"img\">",
                 what[f]);
        for (i = 0; i < nr && i < REPORT_HTML_HISTORY_MAX; i++) {
            double h = max > 0 ? v[i] / max * 70 : 0;
            bool cur =
                in->run_name && !strcmp(in->history[i].name, in->run_name);

            buf_addf(b,
                     "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                     "height=\"%.1f\" class=\"%s\"><title>",
                     i * w + 1, 80 - h, w > 3 ? w - 2 : w, h < 1 ? 1 : h,
                     cur ? "cur" : "bar");
            esc(b, in->history[i].name);
            buf_addf(b, ": %g</title></rect>", v[i]);
        }
        buf_addf(b,
                 "<text x=\"0\" y=\"89\" class=\"s\">max %g</text>"
                 "</svg></figure>",
                 max);
    }
    buf_addstr(b, "</div><table><thead><tr><th>run</th><th>status</th>"
                  "<th>seconds</th><th>write requests</th><th>changes</th>"
                  "</tr></thead><tbody>");
    for (i = nr; i-- > 0;) {
        const struct report_html_run *r = &in->history[i];

        buf_addstr(b, "<tr><td>");
        esc(b, r->name);
        buf_addf(b,
                 "</td><td>%s</td><td>%.1f</td><td>%lld</td><td>%lld</td>"
                 "</tr>",
                 report_html_status(r->status),
                 (double)(r->finished_at - r->started_at) / 1000,
                 (long long)r->write_requests, (long long)r->changes);
    }
    buf_addstr(b, "</tbody></table></section>\n");
}

/* The rule an event came from: "reason" or "reason #rule". */
static void select_of(struct buf *b, const char *id, const char *label,
                      const struct tally *t)
{
    size_t i;

    buf_addf(b,
             "<label>%s <select id=\"%s\"><option value=\"\">all"
             "</option>",
             label, id);
    for (i = 0; i < t->nr; i++) {
        buf_addstr(b, "<option value=\"");
        esc(b, t->names[i]);
        buf_addstr(b, "\">");
        esc(b, t->names[i]);
        buf_addf(b, " (%g)</option>", t->values[i]);
    }
    buf_addstr(b, "</select></label> ");
}

static void change_row(struct buf *b, json_t *ev, const char *rule,
                       const char *url)
{
    const char *asset = str_of(ev, "asset_id");
    const char *album = str_of(ev, "album_id");
    const char *kind = str_of(ev, "kind");

    buf_addstr(b, "<tr data-kind=\"");
    esc(b, kind);
    buf_addstr(b, "\" data-rule=\"");
    esc(b, rule);
    buf_addstr(b, "\"><td>");
    esc(b, kind);
    buf_addstr(b, "<div class=\"k\">");
    esc(b, str_of(ev, "status"));
    buf_addstr(b, "</div></td><td>");
    if (*asset) {
        buf_addstr(b, "<a href=\"");
        esc(b, url);
        buf_addstr(b, "/photos/");
        esc(b, asset);
        buf_addstr(b, "\">");
        esc(b, *str_of(ev, "asset_name") ? str_of(ev, "asset_name") : asset);
        buf_addstr(b, "</a>");
    } else if (*album) {
        buf_addstr(b, "<a href=\"");
        esc(b, url);
        buf_addstr(b, "/albums/");
        esc(b, album);
        buf_addstr(b, "\">album</a>");
    }
    buf_addstr(b, "</td><td>");
    esc(b, *str_of(ev, "tag") ? str_of(ev, "tag") : str_of(ev, "album_name"));
    buf_addstr(b, "</td><td>");
    esc(b, rule);
    buf_addstr(b, "</td></tr>\n");
}

/* The journal's lines, from its text or its file. */
struct lines {
    const char *p; /* the text left, or NULL */
    FILE *f;       /* or the file */
    char *line;    /* getline()'s buffer */
    size_t cap;
};

/* The next line (without its newline) in *line, its length in *len;
 * false at the end, or on a read error (err set). */
static bool next_line(struct lines *l, const char **line, size_t *len,
                      struct buf *err, bool *failed)
{
    if (l->f) {
        ssize_t n = getline(&l->line, &l->cap, l->f);

        if (n < 0) {
            if (ferror(l->f)) {
                buf_addf(err, "modifications.jsonl: %s", strerror(errno));
                *failed = true;
            }
            return false;
        }
        if (n > 0 && l->line[n - 1] == '\n')
            n--;
        *line = l->line;
        *len = (size_t)n;
        return true;
    }
    if (!l->p || !*l->p)
        return false;
    {
        const char *nl = strchr(l->p, '\n');

        *line = l->p;
        *len = nl ? (size_t)(nl - l->p) : strlen(l->p);
        l->p += nl ? *len + 1 : *len;
    }
    return true;
}

/*
 * What the counts need of one journal line: its kind, status and rule
 * (extra.reason, extra.rule), read from the parser's events without
 * building a tree: the line is parsed whole once more (jansson) only when
 * it is listed.  A journal holds a line per change, 225,000 on the 1m
 * library, and a tree per line was a third of the report phase.  As
 * json_object_get() would: the last of duplicate keys wins, a value of
 * another type counts as absent.
 */
struct scan {
    unsigned depth;  /* containers open */
    int key;         /* the member the next value is (K_*), -1 none */
    bool in_extra;   /* depth 2 is the top object's "extra" object */
    bool top_object; /* the line's value is an object */
    struct buf kind, status, reason;
    bool has_rule;
    long long rule;
};

enum { K_KIND, K_STATUS, K_EXTRA, K_REASON, K_RULE };

/* A value other than a string: the member it is for is absent ("extra"
 * that is not an object has no reason and no rule). */
static void scan_other(struct scan *sc)
{
    if (sc->depth == 1 && sc->key == K_KIND) {
        buf_reset(&sc->kind);
    } else if (sc->depth == 1 && sc->key == K_STATUS) {
        buf_reset(&sc->status);
    } else if (sc->depth == 1 && sc->key == K_EXTRA) {
        buf_reset(&sc->reason);
        sc->has_rule = false;
    } else if (sc->depth == 2 && sc->in_extra && sc->key == K_REASON) {
        buf_reset(&sc->reason);
    } else if (sc->depth == 2 && sc->in_extra && sc->key == K_RULE) {
        sc->has_rule = false;
    }
    sc->key = -1;
}

static int scan_string(void *ctx, const unsigned char *s, size_t len)
{
    struct scan *sc = ctx;
    struct buf *to = sc->depth == 1 && sc->key == K_KIND     ? &sc->kind
                     : sc->depth == 1 && sc->key == K_STATUS ? &sc->status
                     : sc->depth == 2 && sc->in_extra && sc->key == K_REASON
                         ? &sc->reason
                         : NULL;

    if (to) {
        buf_reset(to);
        buf_add(to, s, len);
        sc->key = -1;
    } else {
        scan_other(sc);
    }
    return 1;
}

static int scan_integer(void *ctx, long long v)
{
    struct scan *sc = ctx;
    bool rule = sc->depth == 2 && sc->in_extra && sc->key == K_RULE;

    scan_other(sc);
    if (rule) {
        sc->has_rule = true;
        sc->rule = v;
    }
    return 1;
}

static int scan_scalar(struct scan *sc)
{
    scan_other(sc);
    return 1;
}

static int scan_null(void *ctx)
{
    return scan_scalar(ctx);
}

static int scan_bool(void *ctx, int b)
{
    (void)b;
    return scan_scalar(ctx);
}

static int scan_double(void *ctx, double d)
{
    (void)d;
    return scan_scalar(ctx);
}

static int scan_open(struct scan *sc, bool map)
{
    if (sc->depth == 0)
        sc->top_object = map;
    if (sc->depth == 1) /* the container is the value of a member */
        sc->in_extra = map && sc->key == K_EXTRA;
    scan_other(sc); /* a later "extra" replaces an earlier one */
    sc->depth++;
    sc->key = -1;
    return 1;
}

static int scan_start_map(void *ctx)
{
    return scan_open(ctx, true);
}

static int scan_start_array(void *ctx)
{
    return scan_open(ctx, false);
}

static int scan_close(void *ctx)
{
    struct scan *sc = ctx;

    sc->depth--;
    sc->key = -1;
    return 1;
}

static int scan_key(void *ctx, const unsigned char *k, size_t len)
{
    struct scan *sc = ctx;
    static const char *const top[] = {"kind", "status", "extra"};
    static const char *const extra[] = {"reason", "rule"};
    size_t i;

    sc->key = -1;
    for (i = 0; sc->depth == 1 && i < ARRAY_SIZE(top); i++)
        if (strlen(top[i]) == len && !memcmp(k, top[i], len))
            sc->key = K_KIND + (int)i;
    for (i = 0; sc->depth == 2 && sc->in_extra && i < ARRAY_SIZE(extra); i++)
        if (strlen(extra[i]) == len && !memcmp(k, extra[i], len))
            sc->key = K_REASON + (int)i;
    return 1;
}

static const yajl_callbacks scan_callbacks = {
    scan_null,  scan_bool,        scan_integer,   scan_double,
    NULL,       scan_string,      scan_start_map, scan_key,
    scan_close, scan_start_array, scan_close,
};

/*
 * Scans one line into sc (0), or says why it is not an object (-1, err).
 * The rule, as the page names it: "reason #rule", or "-".
 */
static int scan_line(struct scan *sc, const char *p, size_t len,
                     struct buf *rule, struct buf *err)
{
    yajl_handle h = yajl_alloc(&scan_callbacks, NULL, sc);
    yajl_status st;
    int ret = 0;

    sc->depth = 0;
    sc->key = -1;
    sc->in_extra = sc->top_object = sc->has_rule = false;
    buf_reset(&sc->kind);
    buf_reset(&sc->status);
    buf_reset(&sc->reason);
    st = yajl_parse(h, (const unsigned char *)p, len);
    if (st == yajl_status_ok)
        st = yajl_complete_parse(h);
    if (st != yajl_status_ok) {
        unsigned char *msg = yajl_get_error(h, 0, NULL, 0);

        buf_addstr(err, (const char *)msg);
        yajl_free_error(h, msg);
        ret = -1;
    } else if (!sc->top_object) {
        buf_addstr(err, "not an object");
        ret = -1;
    }
    yajl_free(h);
    buf_reset(rule);
    buf_add(rule, sc->reason.buf, sc->reason.len);
    if (sc->has_rule)
        buf_addf(rule, " #%lld", sc->rule);
    if (!rule->len)
        buf_addstr(rule, "-");
    return ret;
}

/*
 * The journal, one pass a line at a time: the counts by kind and by rule
 * (the bar charts, into b), the done and failed totals for the summary,
 * the filters (into head) and the first HTML_LIST_MAX changes as table
 * rows (into list).  The page is bounded whatever the run's size; the
 * journal is not, so it is never held whole when read from its file.
 */
static int changes(struct buf *b, const struct report_html_input *in,
                   size_t *done, size_t *failed, struct buf *head,
                   struct buf *list, struct buf *err)
{
    struct lines src = {in->journal_file ? NULL : in->journal, in->journal_file,
                        NULL, 0};
    struct tally kinds = {0}, rules = {0};
    struct buf rule = BUF_INIT, why = BUF_INIT;
    struct scan sc = {0,        -1,       false, false, BUF_INIT,
                      BUF_INIT, BUF_INIT, false, 0};
    size_t lineno = 0, listed = 0, total = 0, len;
    const char *p;
    bool read_failed = false;
    int ret = -1;

    *done = *failed = 0;
    while (next_line(&src, &p, &len, err, &read_failed)) {
        lineno++;
        if (!len)
            continue;
        buf_reset(&why);
        if (scan_line(&sc, p, len, &rule, &why) < 0) {
            buf_addf(err, "modifications.jsonl:%zu: %s", lineno, why.buf);
            goto out;
        }
        tally_add(&kinds, sc.kind.buf, 1);
        if (strcmp(sc.status.buf, "noted")) {
            tally_add(&rules, rule.buf, 1);
            total++;
            if (!strcmp(sc.status.buf, "done"))
                (*done)++;
            else if (!strcmp(sc.status.buf, "failed"))
                (*failed)++;
            if (listed < HTML_LIST_MAX) {
                json_t *ev = json_loadb(p, len, 0, NULL);

                if (ev) /* the same text: yajl and jansson agree */
                    change_row(list, ev, rule.buf, in->server_url);
                json_decref(ev);
                listed++;
            }
        }
    }
    if (read_failed)
        goto out;
    buf_addstr(b, "<section><h2>Changes by kind</h2>");
    svg_bars(b, &kinds, "");
    buf_addstr(b, "</section>\n<section><h2>Changes by rule</h2>");
    svg_bars(b, &rules, "");
    buf_addstr(b, "</section>\n");
    buf_addf(head,
             "<section><h2>Every change</h2><p class=\"note\">"
             "<span id=\"shown\">%zu</span> of %zu shown%s</p><p>",
             listed, total,
             listed < total ? " (the list stops there; the journal holds "
                              "them all)"
                            : "");
    select_of(head, "fk", "kind", &kinds);
    select_of(head, "fr", "rule", &rules);
    buf_addstr(head, "</p>");
    ret = 0;
out:
    free(src.line);
    tally_release(&kinds);
    tally_release(&rules);
    buf_release(&rule);
    buf_release(&why);
    buf_release(&sc.kind);
    buf_release(&sc.status);
    buf_release(&sc.reason);
    return ret;
}

static const char css[] =
    "body{font:15px/1.4 system-ui,sans-serif;margin:0 auto;max-width:960px;"
    "padding:8px;color:#222;background:#fafafa}"
    "h1{font-size:1.3em;margin:.3em 0}h2{font-size:1.1em;margin:.2em 0}"
    "section{background:#fff;border:1px solid #ddd;border-radius:6px;"
    "padding:8px;margin:8px 0;overflow-x:auto}"
    ".cards{display:flex;flex-wrap:wrap;gap:8px}"
    ".card{flex:1 1 120px;border:1px solid #eee;border-radius:4px;"
    "padding:6px;text-align:center}.v{font-size:1.4em;font-weight:600}"
    ".k,.note{color:#666;font-size:.85em}"
    ".chart{width:100%;max-width:720px;font-size:10px}"
    ".chart .l{font-size:9px}.chart .s{font-size:8px}"
    ".bar{fill:#4a7fb5}.cur{fill:#d9822b}.span{fill:#6aa56a}"
    ".box{fill:#4a7fb5}.whisker{stroke:#999;stroke-width:1}"
    ".trend{display:flex;flex-wrap:wrap;gap:8px}"
    ".trend figure{flex:1 1 260px;margin:0}"
    "table{border-collapse:collapse;font-size:.85em;width:100%}"
    "td,th{border-bottom:1px solid #eee;padding:2px 4px;text-align:left;"
    "word-break:break-word}select{max-width:100%}";

static const char script[] =
    "(function(){var k=document.getElementById('fk'),"
    "r=document.getElementById('fr');"
    "function f(){var n=0;document.querySelectorAll('#changes tbody tr')"
    ".forEach(function(t){var s=(!k.value||t.dataset.kind===k.value)&&"
    "(!r.value||t.dataset.rule===r.value);t.style.display=s?'':'none';"
    "if(s)n++;});document.getElementById('shown').textContent=n;}"
    "k.addEventListener('change',f);r.addEventListener('change',f);})();";

int report_html(const struct report_html_input *in, struct buf *out,
                struct buf *err)
{
    json_t *metrics = NULL, *spans = NULL;
    struct buf list = BUF_INIT, body = BUF_INIT, head = BUF_INIT;
    size_t done, failed;
    json_error_t je;
    int ret = -1;

    /* json_is_*() evaluate their argument twice: load first. */
    if (in->metrics_json)
        metrics = json_loads(in->metrics_json, 0, &je);
    if (in->metrics_json && !json_is_object(metrics)) {
        buf_addf(err, "metrics.json: %s", metrics ? "not an object" : je.text);
        goto out;
    }
    if (in->timeline_json)
        spans = json_loads(in->timeline_json, 0, &je);
    if (in->timeline_json && !json_is_array(spans)) {
        buf_addf(err, "timeline.json: %s", spans ? "not an array" : je.text);
        goto out;
    }
    if (changes(&body, in, &done, &failed, &head, &list, err) < 0)
        goto out;
    buf_addstr(out, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
                    "<meta charset=\"utf-8\"><meta name=\"viewport\" "
                    "content=\"width=device-width,initial-scale=1\">"
                    "<meta http-equiv=\"Content-Security-Policy\" "
                    "content=\"default-src 'none'; style-src 'unsafe-inline'; "
                    "script-src 'unsafe-inline'; img-src data:\">"
                    "<title>immich-autotag run ");
    esc(out, in->run_name);
    buf_addf(out,
             "</title><style>%s</style></head><body>\n"
             "<h1>immich-autotag run <span id=\"run\">",
             css);
    esc(out, in->run_name);
    buf_addstr(out, "</span></h1><p class=\"note\">");
    esc(out, in->server_url);
    buf_addstr(out, "</p>\n");
    summary(out, in, metrics, done, failed);
    buf_add(out, body.buf, body.len);
    if (metrics)
        endpoints(out, metrics);
    if (spans)
        timeline(out, spans);
    trend(out, in);
    buf_add(out, head.buf, head.len);
    buf_addstr(out, "<table id=\"changes\"><thead><tr><th>kind</th>"
                    "<th>asset</th><th>tag / album</th><th>rule</th></tr>"
                    "</thead><tbody>\n");
    buf_add(out, list.buf, list.len);
    buf_addstr(out, "</tbody></table></section>\n");
    buf_addf(out, "<script>%s</script>\n</body></html>\n", script);
    ret = 0;
out:
    json_decref(metrics);
    json_decref(spans);
    buf_release(&list);
    buf_release(&body);
    buf_release(&head);
    return ret;
}
