/*
 * test_scenario.c: runs one end-to-end scenario directory (curl's
 * tests/data is the model: a new case is a new folder, not new C).
 *
 *     test_scenario tests/scenarios/<name>
 *
 * The directory holds (docs/DEVELOPING.md, "End-to-end scenarios"):
 *   sim          immich-sim's options, one per line ("--dialect 2",
 *                "--faults 500@PUT /albums/{id}/assets", "--library
 *                %DIR/library.json"); optional, the small preset when
 *                it names no --library or --preset;
 *   config.yaml  the configuration (%CONFIG);
 *   cmd          the tool's runs in order, one per line:
 *                "exit=N [key=KEY] ARGS..." (words split on spaces);
 *   expect       what must hold after the last run: the end state on
 *                the server, request counts, what the runs said.
 * In every file "#" starts a comment line; %DIR is the scenario
 * directory, %CONFIG its config.yaml, %TMP a scratch directory, %DATA
 * tests/data.
 *
 * Every check of `expect` is made and each one that does not hold is
 * reported with its line; a directory or file that cannot be read, a
 * line that is not understood, or an `expect` without a check fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <jansson.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/common.h"
#include "core/fsutil.h"
#include "e2e_state.h"
#include "e2e_tool.h"
#include "sim_harness.h"

#define MAX_RUNS 16
#define MAX_ARGS 32

static const char *scenario; /* the directory, from argv[1] */

/* What each run left: its output and /__sim/stats after it (stats[0] is
 * before the first run). */
struct runs {
    size_t nr;
    struct e2e_run out[MAX_RUNS];
    json_t *stats[MAX_RUNS + 1];
};

/* ---- reading the directory ------------------------------------------ */

/* s with %DIR, %CONFIG, %TMP and %DATA replaced, into out (reset). */
static void expand(const char *s, struct buf *out)
{
    static const char *const names[] = {"%DIR", "%CONFIG", "%TMP", "%DATA"};
    const char *values[] = {scenario, NULL, e2e_tmpdir(), IA_TEST_DATA};
    struct buf config = BUF_INIT;

    buf_addf(&config, "%s/config.yaml", scenario);
    values[1] = config.buf;
    buf_reset(out);
    while (*s) {
        size_t i;

        for (i = 0; i < ARRAY_SIZE(names); i++)
            if (!strncmp(s, names[i], strlen(names[i])))
                break;
        if (i < ARRAY_SIZE(names)) {
            buf_addstr(out, values[i]);
            s += strlen(names[i]);
        } else {
            buf_addch(out, *s++);
        }
    }
    buf_release(&config);
}

/*
 * The lines of the scenario's file `name` that are not blank or comments,
 * expanded, as a JSON array of [line number, text].  A missing file is
 * an empty list when optional, else the test fails.
 */
static json_t *read_lines(const char *name, bool optional)
{
    struct buf path = BUF_INIT, text = BUF_INIT, raw = BUF_INIT,
               line = BUF_INIT;
    json_t *lines = json_array();
    const char *p, *nl;
    int no = 0;

    buf_addf(&path, "%s/%s", scenario, name);
    if (optional && access(path.buf, F_OK) < 0) {
        buf_release(&path);
        return lines;
    }
    e2e_slurp(path.buf, &text);
    for (p = text.buf; *p; p = nl + (*nl != '\0')) {
        size_t len;

        nl = strchr(p, '\n');
        if (!nl)
            nl = p + strlen(p);
        len = (size_t)(nl - p);
        no++;
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\r'))
            len--;
        if (!len || *p == '#')
            continue;
        buf_reset(&raw);
        buf_add(&raw, p, len);
        expand(raw.buf, &line);
        json_array_append_new(lines, json_pack("[i,s]", no, line.buf));
    }
    buf_release(&path);
    buf_release(&text);
    buf_release(&raw);
    buf_release(&line);
    return lines;
}

/* ---- the runs ---------------------------------------------------------- */

/* Boots the simulator with the options of `sim`, one per line: the first
 * word, then the rest of the line as one argument. */
static void boot(struct sim_proc *sim)
{
    json_t *lines = read_lines("sim", true), *l;
    const char *args[MAX_ARGS + 1];
    size_t i, n = 0;

    json_array_foreach(lines, i, l)
    {
        const char *text = json_string_value(json_array_get(l, 1));
        const char *sp = strchr(text, ' ');

        if (n + 2 > MAX_ARGS)
            fail_msg("sim:%d: too many options",
                     (int)json_integer_value(json_array_get(l, 0)));
        args[n++] = sp ? strndup(text, (size_t)(sp - text)) : strdup(text);
        if (sp)
            args[n++] = strdup(sp + 1);
    }
    args[n] = NULL;
    e2e_boot(sim, args);
    for (i = 0; i < n; i++)
        free((char *)args[i]);
    json_decref(lines);
}

/*
 * One line of `cmd`: "exit=N [key=KEY] ARGS...".  Runs the tool, checks
 * its exit code, keeps its output and the simulator's counters after it.
 */
static void run_line(const struct sim_proc *sim, int no, const char *text,
                     struct runs *runs)
{
    char *copy = strdup(text), *save = NULL, *w;
    const char *args[MAX_ARGS + 1], *key = NULL;
    long want = -1;
    size_t n = 0;
    struct e2e_run *r;

    for (w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        if (!n && !strncmp(w, "exit=", 5))
            want = strtol(w + 5, NULL, 10);
        else if (!n && !strncmp(w, "key=", 4))
            key = w + 4;
        else if (n < MAX_ARGS)
            args[n++] = w;
        else
            fail_msg("cmd:%d: too many arguments", no);
    }
    args[n] = NULL;
    if (want < 0 || !n)
        fail_msg("cmd:%d: not \"exit=N [key=KEY] ARGS...\": %s", no, text);
    if (runs->nr == MAX_RUNS)
        fail_msg("cmd:%d: more than %d runs", no, MAX_RUNS);
    r = &runs->out[runs->nr++];
    if (e2e_tool_key(sim, key, args, r) != want)
        fail_msg("cmd:%d: %s: exit %d, expected %ld; stderr:\n%s", no, text,
                 r->code, want, r->err.buf);
    runs->stats[runs->nr] = es_get(sim, "/__sim/stats");
    free(copy);
}

/* ---- the expectations ---------------------------------------------------- */

/* The one live-or-trashed asset named file (its originalFileName). */
static json_t *asset_named(json_t *st, const char *file, struct buf *bad)
{
    json_t *a, *found = NULL;
    size_t i, n = 0;

    json_array_foreach(json_object_get(st, "assets"), i,
                       a) if (!strcmp(es_str(a, "originalFileName"), file))
    {
        found = a;
        n++;
    }
    if (n != 1)
        buf_addf(bad, "%zu assets are named '%s'", n, file);
    return n == 1 ? found : NULL;
}

static int by_name(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The words of list sorted, space-separated, into out (reset): the form
 * two lists of names are compared in (the server's order is not state). */
static void normalise(const char *list, struct buf *out)
{
    char *copy = strdup(list), *save = NULL, *w, **words;
    size_t n = 0, i;

    words = calloc(strlen(list) / 2 + 1, sizeof(*words));
    assert_non_null(words);
    for (w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
        words[n++] = w;
    qsort(words, n, sizeof(*words), by_name);
    buf_reset(out);
    for (i = 0; i < n; i++)
        buf_addf(out, "%s%s", i ? " " : "", words[i]);
    free(words);
    free(copy);
}

/* The names of the assets for which has(st, asset, what) holds, in
 * normalise()'s form. */
static void names_where(json_t *st,
                        bool (*has)(json_t *, json_t *, const char *),
                        const char *what, struct buf *out)
{
    struct buf names = BUF_INIT;
    json_t *a;
    size_t i;

    json_array_foreach(json_object_get(st, "assets"), i,
                       a) if (has(st, a, what))
        buf_addf(&names, "%s%s", names.len ? " " : "",
                 es_str(a, "originalFileName"));
    normalise(names.len ? names.buf : "", out);
    buf_release(&names);
}

/* Compares a list of asset names (or "N assets") with what holds. */
static void check_assets(const char *want, const char *got, struct buf *bad)
{
    struct buf w = BUF_INIT;
    char *end;
    long n = strtol(want, &end, 10);

    if (end != want && !strcmp(end, " assets")) {
        long have = *got ? 1 : 0;

        for (const char *p = got; *p; p++)
            have += *p == ' ';
        if (have != n)
            buf_addf(bad, "%ld assets, expected %ld: %s", have, n, got);
    } else {
        normalise(want, &w);
        if (strcmp(w.buf, got))
            buf_addf(bad, "got '%s'", got);
    }
    buf_release(&w);
}

/* "email=role ..." as es_album_users() writes it: {"email":"role"}. */
static void users_json(const char *list, struct buf *out)
{
    char *copy = strdup(list), *save = NULL, *w, *eq, *s;
    json_t *o = json_object();

    for (w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        eq = strchr(w, '=');
        if (eq) {
            *eq = '\0';
            json_object_set_new(o, w, json_string(eq + 1));
        }
    }
    s = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
    buf_reset(out);
    buf_addstr(out, s);
    free(s);
    json_decref(o);
    free(copy);
}

/* The counter `key` ("writes", "faults.500" or "METHOD /path") in one
 * /__sim/stats; 0 when absent. */
static long counter(json_t *stats, const char *key)
{
    char part[128];
    json_t *cur = stats;
    const char *p = key;

    if (!stats)
        return 0;
    if (strchr(key, ' '))
        return (long)json_integer_value(
            json_object_get(json_object_get(stats, "by_endpoint"), key));
    while (cur && *p) {
        size_t n = strcspn(p, ".");

        snprintf(part, sizeof(part), "%.*s", (int)n, p);
        cur = json_object_get(cur, part);
        p += n + (p[n] == '.');
    }
    return (long)json_integer_value(cur);
}

/* The comparison op ("=", "<=", ">=") of want with got; -1 when op is
 * none of them. */
static int holds(const char *op, long got, long want)
{
    if (!strcmp(op, "="))
        return got == want;
    if (!strcmp(op, "<="))
        return got <= want;
    if (!strcmp(op, ">="))
        return got >= want;
    return -1;
}

/* "requests [run N] KEY OP COUNT": the count of all runs, or of run N
 * alone (its counters minus those before it). */
static void check_requests(const struct runs *runs, const char *spec,
                           struct buf *bad)
{
    char key[128] = "", op[3] = "";
    const char *p = spec, *last, *o;
    int run = 0, used = 0, ok;
    long want, got;

    if (sscanf(p, "run %d %n", &run, &used) == 1)
        p += used;
    last = strrchr(p, ' ');
    for (o = last; o && o > p && o[-1] != ' ';)
        o--;
    if (!last || !o || o == p || run < 0 || (size_t)run > runs->nr ||
        (size_t)(last - o) >= sizeof(op) ||
        (size_t)(o - 1 - p) >= sizeof(key)) {
        buf_addstr(bad, "not \"requests [run N] KEY =|<=|>= COUNT\"");
        return;
    }
    snprintf(op, sizeof(op), "%.*s", (int)(last - o), o);
    snprintf(key, sizeof(key), "%.*s", (int)(o - 1 - p), p);
    want = strtol(last + 1, NULL, 10);
    if (run)
        got =
            counter(runs->stats[run], key) - counter(runs->stats[run - 1], key);
    else
        got =
            counter(runs->stats[runs->nr], key) - counter(runs->stats[0], key);
    ok = holds(op, got, want);
    if (ok < 0)
        buf_addf(bad, "unknown comparison '%s'", op);
    else if (!ok)
        buf_addf(bad, "counted %ld", got);
}

/*
 * "stderr N: TEXT" / "stdout N: TEXT": run N's output contains TEXT;
 * after "no " (the caller skips it, absent = true), it does not.
 */
static void check_output(const struct runs *runs, const char *line, bool absent,
                         struct buf *bad)
{
    bool err = !strncmp(line, "stderr ", 7);
    int run = 0, used = 0;
    const struct buf *out;

    if (sscanf(line + 7, "%d: %n", &run, &used) != 1 || !used || run < 1 ||
        (size_t)run > runs->nr) {
        buf_addstr(bad, "not \"[no] stderr|stdout RUN: TEXT\" with a run of "
                        "cmd");
        return;
    }
    out = err ? &runs->out[run - 1].err : &runs->out[run - 1].out;
    if (!strstr(out->buf, line + 7 + used) != absent)
        buf_addf(bad, "run %d said:\n%s", run, out->buf);
}

/*
 * "report N: FILE...": run N's run directory (the last line of its
 * stdout) holds each FILE.
 */
static void check_report(const struct runs *runs, const char *line,
                         struct buf *bad)
{
    struct buf dir = BUF_INIT, path = BUF_INIT;
    char *files, *save = NULL, *w;
    int run = 0, used = 0;

    if (sscanf(line, "report %d: %n", &run, &used) != 1 || !used || run < 1 ||
        (size_t)run > runs->nr) {
        buf_addstr(bad, "not \"report RUN: FILE...\" with a run of cmd");
        return;
    }
    e2e_run_dir(&runs->out[run - 1], &dir);
    files = strdup(line + used);
    for (w = strtok_r(files, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        buf_reset(&path);
        buf_addf(&path, "%s/%s", dir.buf, w);
        if (access(path.buf, R_OK) < 0)
            buf_addf(bad, "no %s", path.buf);
    }
    free(files);
    buf_release(&dir);
    buf_release(&path);
}

/* The part of line after `prefix` up to ": " (the name), and after it. */
static bool split_name(const char *line, const char *prefix, const char *mid,
                       struct buf *name, const char **rest)
{
    size_t pl = strlen(prefix);
    const char *sep;

    if (strncmp(line, prefix, pl))
        return false;
    sep = strstr(line + pl, mid);
    if (!sep)
        return false;
    buf_reset(name);
    buf_add(name, line + pl, (size_t)(sep - line - pl));
    *rest = sep + strlen(mid);
    while (**rest == ' ')
        (*rest)++;
    return true;
}

/* One end-state line: tag, album, no album, asset; false when the line
 * is none of them. */
static bool check_state(json_t *st, const char *line, struct buf *bad)
{
    struct buf name = BUF_INIT, got = BUF_INIT, want = BUF_INIT,
               sorted = BUF_INIT;
    const char *rest;
    json_t *a;
    bool known = true;

    if (split_name(line, "tag ", ":", &name, &rest)) {
        names_where(st, es_has_tag, name.buf, &got);
        check_assets(rest, got.buf, bad);
    } else if (!strncmp(line, "no album ", 9)) {
        if (es_find(st, "albums", "albumName", line + 9))
            buf_addstr(bad, "the album exists");
    } else if (split_name(line, "album ", " users:", &name, &rest)) {
        if (!es_find(st, "albums", "albumName", name.buf)) {
            buf_addstr(bad, "no such album");
        } else {
            es_album_users(st, name.buf, &got);
            users_json(rest, &want);
            if (strcmp(got.buf, want.buf))
                buf_addf(bad, "users %s", got.buf);
        }
    } else if (split_name(line, "album ", ":", &name, &rest)) {
        if (!es_find(st, "albums", "albumName", name.buf)) {
            buf_addstr(bad, "no such album");
        } else {
            names_where(st, es_in_album, name.buf, &got);
            check_assets(rest, got.buf, bad);
        }
    } else if (split_name(line, "asset ", " date:", &name, &rest)) {
        if ((a = asset_named(st, name.buf, bad)) &&
            strcmp(es_str(a, "fileCreatedAt"), rest))
            buf_addf(bad, "fileCreatedAt %s", es_str(a, "fileCreatedAt"));
    } else if (split_name(line, "asset ", " tags:", &name, &rest)) {
        if ((a = asset_named(st, name.buf, bad))) {
            json_t *t;
            size_t i;

            json_array_foreach(json_object_get(st, "tags"), i,
                               t) if (es_has_tag(st, a, es_str(t, "value")))
                buf_addf(&got, "%s%s", got.len ? " " : "", es_str(t, "value"));
            normalise(got.buf, &sorted);
            normalise(rest, &want);
            if (strcmp(sorted.buf, want.buf))
                buf_addf(bad, "tags '%s'", sorted.buf);
        }
    } else {
        known = false;
    }
    buf_release(&name);
    buf_release(&got);
    buf_release(&want);
    buf_release(&sorted);
    return known;
}

/*
 * Checks every line of `expect` against the server's state and the runs;
 * each line that does not hold goes into `failed` with what was found
 * (all of them, not only the first, so one run shows everything that
 * changed).
 */
static void check_expect(const struct sim_proc *sim, const struct runs *runs,
                         struct buf *failed)
{
    json_t *lines = read_lines("expect", false), *l, *st = es_state(sim);
    struct buf bad = BUF_INIT;
    size_t i;

    if (!json_array_size(lines))
        buf_addstr(failed, "expect: no expectation\n");
    json_array_foreach(lines, i, l)
    {
        int no = (int)json_integer_value(json_array_get(l, 0));
        const char *text = json_string_value(json_array_get(l, 1));

        buf_reset(&bad);
        if (!strncmp(text, "requests ", 9))
            check_requests(runs, text + 9, &bad);
        else if (!strncmp(text, "stderr ", 7) || !strncmp(text, "stdout ", 7))
            check_output(runs, text, false, &bad);
        else if (!strncmp(text, "no stderr ", 10) ||
                 !strncmp(text, "no stdout ", 10))
            check_output(runs, text + 3, true, &bad);
        else if (!strncmp(text, "report ", 7))
            check_report(runs, text, &bad);
        else if (!check_state(st, text, &bad))
            buf_addstr(&bad, "not understood");
        if (bad.len)
            buf_addf(failed, "expect:%d: %s\n    %s\n", no, text, bad.buf);
    }
    json_decref(st);
    json_decref(lines);
    buf_release(&bad);
}

static void test_scenario(void **state)
{
    static char report[16384]; /* outlives the buffers released below */
    struct sim_proc sim;
    struct runs runs = {0};
    struct buf failed = BUF_INIT;
    json_t *lines, *l;
    size_t i;

    (void)state;
    if (!fs_is_dir(scenario))
        fail_msg("cannot read scenario directory '%s'", scenario);
    lines = read_lines("cmd", false);
    if (!json_array_size(lines))
        fail_msg("%s/cmd: no run", scenario);
    boot(&sim);
    runs.stats[0] = es_get(&sim, "/__sim/stats");
    json_array_foreach(lines, i, l)
        run_line(&sim, (int)json_integer_value(json_array_get(l, 0)),
                 json_string_value(json_array_get(l, 1)), &runs);
    check_expect(&sim, &runs, &failed);
    e2e_halt(&sim);
    for (i = 0; i < runs.nr; i++)
        e2e_run_release(&runs.out[i]);
    for (i = 0; i <= runs.nr; i++)
        json_decref(runs.stats[i]);
    json_decref(lines);
    snprintf(report, sizeof(report), "%s", failed.buf);
    buf_release(&failed);
    if (report[0])
        fail_msg("%s: does not hold:\n%s", scenario, report);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenario),
    };

    if (argc != 2) {
        fprintf(stderr, "usage: %s SCENARIO-DIRECTORY\n", argv[0]);
        return 2;
    }
    scenario = argv[1];
    return e2e_run_group("scenario", IA_BIN, tests);
}
