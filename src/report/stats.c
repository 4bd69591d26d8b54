/*
 * stats.c: the run's counters, run_statistics.yaml in upstream's key order
 * (docs/upstream-behavior.md §5.4, with the counters upstream leaves at
 * zero filled in, §8 item 25)
 * and the end-of-run summary.
 */
#include "report/report.h"
#include "core/escape.h"
#include "core/hashmap.h"
#include "core/strpool.h"

static void put(struct report_counters *cs, const char *key, int64_t v)
{
    if (cs->nr == REPORT_COUNTERS_MAX)
        BUG("too many report counters");
    cs->c[cs->nr].key = key;
    cs->c[cs->nr].value = v;
    cs->nr++;
}

bool report_counter_get(const struct report_counters *cs, const char *key,
                        int64_t *value)
{
    size_t i;

    for (i = 0; cs && i < cs->nr; i++) {
        if (!strcmp(cs->c[i].key, key)) {
            *value = cs->c[i].value;
            return true;
        }
    }
    return false;
}

/* Items of op whose outcome is st (any status when st < 0). */
static int64_t items_of(const struct report_ctx *c, enum plan_op op, int st)
{
    int64_t n = 0;
    size_t g, i;

    for (g = 0; g < c->plan->nr; g++) {
        const struct plan_group *pg = &c->plan->groups[g];

        if (pg->op != op)
            continue;
        if (outcome_group_has_action(pg) &&
            (op == PLAN_ALBUM_CREATE || op == PLAN_ALBUM_DELETE)) {
            int s = c->outcome ? c->outcome->groups[g].action : 0;

            n += st < 0 || s == st;
            continue;
        }
        for (i = 0; i < pg->nr; i++) {
            int s = c->outcome ? c->outcome->groups[g].status[i] : 0;

            n += st < 0 || s == st;
        }
    }
    return n;
}

const char *const report_counter_names[REPORT_C_NR] = {
    [REPORT_C_ASSETS_SEEN] = "assets_seen",
    [REPORT_C_ASSETS_SKIPPED] = "assets_skipped",
    [REPORT_C_CLASSIFIED] = "classified",
    [REPORT_C_UNCLASSIFIED] = "unclassified",
    [REPORT_C_UNCLASSIFIED_FOUND] = "unclassified_found",
    [REPORT_C_CONFLICT] = "conflict",
    [REPORT_C_DUPLICATES_FLAGGED] = "duplicates_flagged",
    [REPORT_C_DATE_MISMATCHES] = "date_mismatches",
    [REPORT_C_DATES_CORRECTED] = "dates_corrected",
    [REPORT_C_ALBUMS_CREATED] = "albums_created",
    [REPORT_C_SHARES_CHANGED] = "shares_changed",
    [REPORT_C_CHANGES_PLANNED] = "changes_planned",
    [REPORT_C_CHANGES_DONE] = "changes_done",
    [REPORT_C_CHANGES_UNCHANGED] = "changes_unchanged",
    [REPORT_C_CHANGES_FAILED] = "changes_failed",
    [REPORT_C_CHANGES_PENDING] = "changes_pending",
    [REPORT_C_TAGS_ADDED] = "tags_added",
    [REPORT_C_TAGS_REMOVED] = "tags_removed",
    [REPORT_C_ALBUM_ASSETS_ADDED] = "album_assets_added",
    [REPORT_C_ALBUM_ASSETS_REMOVED] = "album_assets_removed",
    [REPORT_C_ALBUMS_DELETED] = "albums_deleted",
    [REPORT_C_WRITE_REQUESTS] = "write_requests",
    [REPORT_C_WRITE_REQUESTS_FAILED] = "write_requests_failed",
};

_Static_assert(REPORT_C_NR <= REPORT_COUNTERS_MAX,
               "report_counters holds every counter");

bool report_counter_set(struct report_counters *cs, const char *key,
                        int64_t value)
{
    size_t k;

    for (k = 0; k < REPORT_C_NR; k++) {
        if (report_counter_names[k] && !strcmp(key, report_counter_names[k])) {
            if (cs->nr == REPORT_COUNTERS_MAX)
                return false;
            cs->c[cs->nr].key = report_counter_names[k];
            cs->c[cs->nr].value = value;
            cs->nr++;
            return true;
        }
    }
    return false;
}

void report_counters(const struct report_ctx *c, struct report_counters *out)
{
    const struct plan_stats *s = &c->plan->stats;
    const struct outcome *o = c->outcome;
    int64_t v[REPORT_C_NR] = {0};
    size_t k;

    v[REPORT_C_ASSETS_SEEN] = (int64_t)s->assets_seen;
    v[REPORT_C_ASSETS_SKIPPED] = (int64_t)s->assets_skipped;
    v[REPORT_C_CLASSIFIED] = (int64_t)s->classified;
    v[REPORT_C_UNCLASSIFIED] = (int64_t)s->unclassified;
    v[REPORT_C_UNCLASSIFIED_FOUND] = (int64_t)s->unclassified_found;
    v[REPORT_C_CONFLICT] = (int64_t)s->conflict;
    v[REPORT_C_DUPLICATES_FLAGGED] = (int64_t)s->duplicates_flagged;
    v[REPORT_C_DATE_MISMATCHES] = (int64_t)s->date_mismatches;
    v[REPORT_C_DATES_CORRECTED] = (int64_t)s->dates_corrected;
    v[REPORT_C_ALBUMS_CREATED] = (int64_t)s->albums_created;
    v[REPORT_C_SHARES_CHANGED] = (int64_t)s->shares_changed;
    v[REPORT_C_CHANGES_PLANNED] = (int64_t)plan_changes(c->plan);
    v[REPORT_C_CHANGES_DONE] = o ? (int64_t)o->done : 0;
    v[REPORT_C_CHANGES_UNCHANGED] = o ? (int64_t)o->unchanged : 0;
    v[REPORT_C_CHANGES_FAILED] = o ? (int64_t)o->failed : 0;
    v[REPORT_C_CHANGES_PENDING] =
        o ? (int64_t)o->pending : (int64_t)plan_changes(c->plan);
    v[REPORT_C_TAGS_ADDED] = items_of(c, PLAN_TAG_ADD, OUTCOME_DONE);
    v[REPORT_C_TAGS_REMOVED] = items_of(c, PLAN_TAG_REMOVE, OUTCOME_DONE);
    v[REPORT_C_ALBUM_ASSETS_ADDED] = items_of(c, PLAN_ALBUM_ADD, OUTCOME_DONE);
    v[REPORT_C_ALBUM_ASSETS_REMOVED] =
        items_of(c, PLAN_ALBUM_REMOVE, OUTCOME_DONE);
    v[REPORT_C_ALBUMS_DELETED] = items_of(c, PLAN_ALBUM_DELETE, OUTCOME_DONE);
    v[REPORT_C_WRITE_REQUESTS] = o ? (int64_t)o->requests : 0;
    v[REPORT_C_WRITE_REQUESTS_FAILED] = o ? (int64_t)o->requests_failed : 0;

    memset(out, 0, sizeof(*out));
    for (k = 0; k < REPORT_C_NR; k++)
        put(out, report_counter_names[k], v[k]);
}

/* ---- YAML helpers ---- */

static bool is_plain_safe(const char *s)
{
    static const char *const words[] = {
        "null",  "Null",  "NULL",  "~",   "true", "True", "TRUE",
        "false", "False", "FALSE", "yes", "Yes",  "YES",  "no",
        "No",    "NO",    "on",    "On",  "ON",   "off",  "Off",
        "OFF",   "y",     "Y",     "n",   "N"};
    const char *p;
    size_t i;
    bool digits_only = true;

    if (!*s || *s == '-' || *s == '.' || *s == ' ')
        return false;
    for (i = 0; i < ARRAY_SIZE(words); i++)
        if (!strcmp(s, words[i]))
            return false;
    for (p = s; *p; p++) {
        unsigned char ch = (unsigned char)*p;

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.' ||
              ch == '/'))
            return false;
        if (!(ch >= '0' && ch <= '9') && ch != '.' && ch != '-' && ch != '_')
            digits_only = false;
    }
    return !digits_only; /* numbers, dates and the like get quotes */
}

/* A YAML scalar: plain when unambiguous, else single-quoted. */
static void yaml_str(struct buf *b, const char *s)
{
    struct buf esc = BUF_INIT;
    const char *p;

    if (!s) {
        buf_addstr(b, "null");
        return;
    }
    if (is_plain_safe(s)) {
        buf_addstr(b, s);
        return;
    }
    /* Control characters (a name from the server) cannot be written in
     * single quotes: double quotes take escape_text's escapes. */
    escape_text(&esc, s, strlen(s), NULL);
    if (esc.len != strlen(s)) {
        buf_addch(b, '"');
        escape_text(b, s, strlen(s), "\"\\");
        buf_addch(b, '"');
        buf_release(&esc);
        return;
    }
    buf_release(&esc);
    buf_addch(b, '\'');
    for (p = s; *p; p++) {
        if (*p == '\'')
            buf_addch(b, '\'');
        buf_addch(b, *p);
    }
    buf_addch(b, '\'');
}

/* "key: time\n", the time as PyYAML dumps an aware UTC datetime
 * ("2024-06-15 13:14:02.251000+00:00"), or null. */
static void yaml_time_line(struct buf *b, const char *key, int64_t ms)
{
    struct civil cv;

    if (ms == TIME_NONE) {
        buf_addf(b, "%s: null\n", key);
        return;
    }
    time_to_civil(ms, &cv);
    buf_addf(b, "%s: %04d-%02d-%02d %02d:%02d:%02d.%03d000+00:00\n", key,
             cv.year, cv.month, cv.day, cv.hour, cv.minute, cv.second, cv.ms);
}

/* "key: v\n", or null when v is negative (unknown). */
static void yaml_int_line(struct buf *b, const char *key, int64_t v)
{
    if (v < 0)
        buf_addf(b, "%s: null\n", key);
    else
        buf_addf(b, "%s: %lld\n", key, (long long)v);
}

/* A tag or album's counters, found by name in a small list. */
struct named {
    const char *name;
    int64_t total; /* albums: assets before the run */
    int64_t added; /* albums: "assigned" */
    int64_t removed;
    int64_t removed_globally; /* tags only, always 0 here */
    int64_t created;          /* tags only */
    int64_t errors;
};

/* The names seen so far, each with its place in the list: one hash per
 * group, not a scan of the list (7,300 new albums on the 1m library). */
struct named_ix {
    struct strpool names;
    struct u64map at; /* interned name id -> index in the list */
};

static struct named *named_get(struct named **list, size_t *nr, size_t *alloc,
                               struct named_ix *ix, const char *name)
{
    uint64_t id = strpool_intern_str(&ix->names, name);
    uint32_t i = u64map_get(&ix->at, id);

    if (i != HASHMAP_NONE)
        return &(*list)[i];
    ALLOC_GROW(*list, *nr + 1, *alloc);
    memset(&(*list)[*nr], 0, sizeof(**list));
    (*list)[*nr].name = name;
    (void)u64map_put(&ix->at, id, (uint32_t)*nr);
    return &(*list)[(*nr)++];
}

/* Assets carrying tag `name` in the snapshot (any tag with that value). */
static int64_t tag_total(const struct model *m, const char *name)
{
    uint32_t t;
    size_t nr = 0;

    if (!m || !m->indexed)
        return 0;
    t = model_find_tag_by_value(m, name);
    if (t == MODEL_NONE)
        return 0;
    (void)model_tag_assets(m, t, &nr);
    return (int64_t)nr;
}

/* Where run_statistics.yaml goes: out, and with rf, the file, a piece at
 * a time. */
struct yout {
    struct buf *out;
    struct report_file *rf; /* NULL: out keeps it all */
    struct buf *err;
    int ret; /* -1 once a write failed */
};

/* Writes what out holds once it is a piece (anything when all). */
static void yspill(struct yout *y, bool all)
{
    if (!y->ret && report_file_spill(y->rf, y->out, all, y->err) < 0)
        y->ret = -1;
}

/* Counts pg's items by outcome into n: done ones as added (op add_op) or
 * removed, failed ones as errors. */
static void tally_items(struct named *n, const struct plan_group *pg,
                        const struct outcome_group *og, enum plan_op add_op)
{
    size_t i;

    for (i = 0; i < pg->nr; i++) {
        int s = og ? og->status[i] : OUTCOME_PENDING;

        if (s == OUTCOME_DONE && pg->op == add_op)
            n->added++;
        else if (s == OUTCOME_DONE)
            n->removed++;
        else if (s == OUTCOME_FAILED)
            n->errors++;
    }
}

/* After the run: total before plus added minus removed, never below 0. */
static long long total_after(int64_t before, const struct named *n)
{
    int64_t total = before + n->added - n->removed;

    return (long long)(total < 0 ? 0 : total);
}

/* Assets of pg's album in the snapshot, 0 when it is not there. */
static int64_t album_total(const struct model *m, const struct plan_group *pg)
{
    uint32_t a;
    size_t nr = 0;

    if (!m || !pg->target_exists || !m->indexed)
        return 0;
    a = model_find_album(m, &pg->target);
    if (a == MODEL_NONE)
        return 0;
    (void)model_album_assets(m, a, &nr);
    return (int64_t)nr;
}

/*
 * The tags (add_op PLAN_TAG_ADD) or albums (PLAN_ALBUM_ADD) the plan adds
 * to or removes from, each once by name with its counts; for albums, the
 * members the snapshot had; for tags, whether the run created it.
 */
static struct named *collect_named(const struct report_ctx *c,
                                   enum plan_op add_op, enum plan_op remove_op,
                                   size_t *nr)
{
    struct named *list = NULL;
    struct named_ix ix = {STRPOOL_INIT, U64MAP_INIT};
    size_t alloc = 0, g;

    *nr = 0;
    for (g = 0; g < c->plan->nr; g++) {
        const struct plan_group *pg = &c->plan->groups[g];
        const struct outcome_group *og =
            c->outcome ? &c->outcome->groups[g] : NULL;
        struct named *n;

        if (pg->op != add_op && pg->op != remove_op)
            continue;
        n = named_get(&list, nr, &alloc, &ix, pg->name);
        if (add_op == PLAN_ALBUM_ADD && !n->total)
            n->total = album_total(c->model, pg);
        if (add_op == PLAN_TAG_ADD && og && og->created &&
            og->action == OUTCOME_DONE)
            n->created = 1;
        tally_items(n, pg, og, add_op);
    }
    strpool_release(&ix.names);
    u64map_release(&ix.at);
    return list;
}

/*
 * output_tag_counters (add_op PLAN_TAG_ADD): per tag the run added or
 * removed, its total after the run, what was added, removed, created and
 * failed; output_album_counters (PLAN_ALBUM_ADD): per album, its total
 * after the run, what was assigned, removed and failed.
 */
static void write_named_counters(const struct report_ctx *c, struct yout *y,
                                 enum plan_op add_op, enum plan_op remove_op)
{
    const bool tags = add_op == PLAN_TAG_ADD;
    const char *key = tags ? "output_tag_counters" : "output_album_counters";
    struct buf *out = y->out;
    size_t nr, i;
    struct named *list = collect_named(c, add_op, remove_op, &nr);

    if (!nr)
        buf_addf(out, "%s: {}\n", key);
    else
        buf_addf(out, "%s:\n", key);
    for (i = 0; i < nr; i++) {
        const struct named *n = &list[i];

        buf_addstr(out, "  ");
        yaml_str(out, n->name);
        if (tags)
            buf_addf(out,
                     ":\n    total: %lld\n    added: %lld\n"
                     "    removed: %lld\n    removed_globally: %lld\n"
                     "    created: %lld\n    errors: %lld\n",
                     total_after(tag_total(c->model, n->name), n),
                     (long long)n->added, (long long)n->removed,
                     (long long)n->removed_globally, (long long)n->created,
                     (long long)n->errors);
        else
            buf_addf(out,
                     ":\n    total: %lld\n    assigned: %lld\n"
                     "    removed: %lld\n    errors: %lld\n",
                     total_after(n->total, n), (long long)n->added,
                     (long long)n->removed, (long long)n->errors);
        yspill(y, false);
    }
    free(list);
}

/*
 * run_statistics.yaml: upstream's keys in upstream's order, our counters
 * under `extra`, the per-tag and per-album counters (which grow with the
 * library: written out as they come when y has a file) and the events
 * per kind.
 */
static int statistics(const struct report_ctx *c, const struct report_stats *s,
                      const struct report_kinds *kinds, struct yout *y)
{
    struct buf *out = y->out;
    char id[UUID_STR_LEN + 1];
    size_t i, nkinds = 0;
    int64_t v;

    buf_addstr(out, "git_describe_runtime: null\n");
    buf_addstr(out, "git_describe_package: ");
    yaml_str(out, s->git_describe_package);
    buf_addch(out, '\n');
    buf_addf(out, "album_date_mismatch_count: %lld\n",
             (long long)(kinds ? kinds->n[REPORT_K_ALBUM_DATE_MISMATCH] : 0));
    buf_addf(out, "update_asset_date_count: %lld\n",
             (long long)(kinds ? kinds->n[REPORT_K_UPDATE_ASSET_DATE] : 0));
    yaml_int_line(out, "total_assets", s->total_assets);
    yaml_int_line(out, "max_assets", s->max_assets);
    buf_addf(out, "skip_n: %lld\n", (long long)s->skip_n);
    buf_addstr(out, "last_processed_id: ");
    if (s->has_last_processed_id) {
        uuid_format(&s->last_processed_id, id);
        buf_addstr(out, id);
    } else {
        buf_addstr(out, "null");
    }
    buf_addf(out, "\ncount: %lld\n", (long long)s->count);
    yaml_time_line(out, "started_at", s->started_at);
    yaml_time_line(out, "finished_at", s->finished_at);
    yaml_time_line(out, "abrupt_exit_at", s->abrupt_exit_at);
    buf_addf(out, "previous_sessions_time: %.3f\n", s->previous_sessions_time);

    /* Our additions live under `extra`, which upstream leaves empty. */
    buf_addstr(out, "extra:\n");
    buf_addstr(out, "  checkpoint_source: ");
    yaml_str(out, s->checkpoint_source ? s->checkpoint_source : "none");
    buf_addstr(out, "\n  previous_run: ");
    yaml_str(out, s->previous_run);
    buf_addch(out, '\n');
    if (s->peak_rss_kb > 0)
        buf_addf(out, "  peak_rss_kb: %ld\n", s->peak_rss_kb);
    if (s->counters) {
        buf_addstr(out, "  counts:\n");
        for (i = 0; i < s->counters->nr; i++)
            buf_addf(out, "    %s: %lld\n", s->counters->c[i].key,
                     (long long)s->counters->c[i].value);
        buf_addstr(out, "  change_since_previous_run:");
        if (!s->previous) {
            buf_addstr(out, " null\n");
        } else {
            buf_addch(out, '\n');
            for (i = 0; i < s->counters->nr; i++) {
                const struct report_counter *k = &s->counters->c[i];

                if (!report_counter_get(s->previous, k->key, &v))
                    v = 0;
                buf_addf(out, "    %s: %+lld\n", k->key,
                         (long long)(k->value - v));
            }
        }
    }
    write_named_counters(c, y, PLAN_TAG_ADD, PLAN_TAG_REMOVE);
    write_named_counters(c, y, PLAN_ALBUM_ADD, PLAN_ALBUM_REMOVE);
    buf_addstr(out, "progress_description: ");
    yaml_str(out, s->progress_description);
    buf_addch(out, '\n');
    for (i = 0; kinds && i < REPORT_K_COUNT; i++)
        nkinds += kinds->n[i] > 0;
    if (!nkinds) {
        buf_addstr(out, "event_counters: {}\n");
    } else {
        buf_addstr(out, "event_counters:\n");
        for (i = 0; i < REPORT_K_COUNT; i++)
            if (kinds->n[i])
                buf_addf(out, "  %s: %zu\n",
                         report_kind_name((enum report_kind)i), kinds->n[i]);
    }
    yspill(y, true);
    return y->ret;
}

void report_statistics_yaml(const struct report_ctx *c,
                            const struct report_stats *s,
                            const struct report_kinds *kinds, struct buf *out)
{
    struct yout y = {out, NULL, NULL, 0};

    (void)statistics(c, s, kinds, &y);
}

int report_statistics_write(const struct report_ctx *c,
                            const struct report_stats *s,
                            const struct report_kinds *kinds,
                            struct report_file *rf, struct buf *err)
{
    struct buf out = BUF_INIT;
    struct yout y = {&out, rf, err, 0};
    int ret = statistics(c, s, kinds, &y);

    buf_release(&out);
    return ret;
}

static void rule(struct buf *out, const char *glyph, int n)
{
    int i;

    for (i = 0; i < n; i++)
        buf_addstr(out, glyph);
    buf_addch(out, '\n');
}

void report_summary(const struct report_ctx *c, const struct report_stats *s,
                    const struct report_kinds *kinds, struct buf *out)
{
    int64_t end = s->finished_at != TIME_NONE      ? s->finished_at
                  : s->abrupt_exit_at != TIME_NONE ? s->abrupt_exit_at
                                                   : c->now_ms;
    double secs = (double)(end - s->started_at) / 1000.0;
    int64_t processed = s->count - s->skip_n;
    size_t i;
    bool any = false;

    rule(out, "\xe2\x95\x90", 55);
    buf_addstr(out, "EXECUTION SUMMARY\n");
    rule(out, "\xe2\x94\x80", 55);
    buf_addf(out, "Total assets processed: %lld\n", (long long)s->count);
    buf_addf(out, "Total time: %.2f s | Average per asset: %.6f s\n", secs,
             processed > 0 ? secs / (double)processed : 0.0);
    if (s->peak_rss_kb > 0)
        buf_addf(out, "Peak memory: %ld MiB\n", s->peak_rss_kb / 1024);
    rule(out, "\xe2\x94\x80", 55);
    buf_addstr(out, "MODIFICATIONS DETECTED\n");
    rule(out, "\xe2\x94\x80", 55);
    buf_addstr(out, "Modification type counts:\n");
    for (i = 0; kinds && i < REPORT_K_COUNT; i++) {
        if (!kinds->n[i])
            continue;
        buf_addf(out, "  - ModificationKind.%s: %zu\n",
                 report_kind_name((enum report_kind)i), kinds->n[i]);
        any = true;
    }
    if (!any)
        buf_addstr(out, "  (none)\n");
    if (s->counters) {
        rule(out, "\xe2\x94\x80", 55);
        buf_addf(out, "%-24s %10s %10s\n", "counter", "this run",
                 s->previous ? "change" : "");
        for (i = 0; i < s->counters->nr; i++) {
            const struct report_counter *k = &s->counters->c[i];
            int64_t v;

            if (s->previous) {
                if (!report_counter_get(s->previous, k->key, &v))
                    v = 0;
                buf_addf(out, "%-24s %10lld %+10lld\n", k->key,
                         (long long)k->value, (long long)(k->value - v));
            } else {
                buf_addf(out, "%-24s %10lld\n", k->key, (long long)k->value);
            }
        }
    }
    if (c->outcome && (c->outcome->dry_run || c->outcome->interrupted ||
                       c->outcome->aborted)) {
        rule(out, "\xe2\x94\x80", 55);
        if (c->outcome->dry_run)
            buf_addstr(out, "Dry run: nothing was written to the server.\n");
        if (c->outcome->interrupted)
            buf_addstr(out, "Interrupted: the changes left pending are "
                            "made by the next run.\n");
        if (c->outcome->aborted)
            buf_addstr(out, "Stopped at the first asset error "
                            "(fail_fast_on_asset_errors).\n");
    }
    rule(out, "\xe2\x95\x90", 55);
}
