/*
 * test_e2e_report.c: report.html as a person sees it (issue #16).
 *
 * A run against immich-sim's small preset writes report.html; headless
 * Chromium (Debian's `chromium`) loads it from the file system: no console
 * message (a script error, a blocked network request), and the figures of
 * the page are those of the run's metrics.json and journal.  The page's
 * screenshot at a phone's width is kept as build/report-html.png.  Then
 * `report` writes the same page again and `history` lists the run.
 *
 * Without chromium the test exits 77 (CTest's SKIP_RETURN_CODE): the
 * test command's setup installs it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "core/common.h"
#include "core/fsutil.h"
#include "e2e_tool.h"
#include "sim_harness.h"

#define TEMPLATE IA_TEST_DATA "/config/upstream-template.yaml"
#define SKIP     77

static int failures;

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);               \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
            failures++;                                                        \
        }                                                                      \
    } while (0)

/* The chromium on PATH, or NULL. */
static const char *find_chromium(struct buf *path)
{
    const char *env = getenv("PATH");
    const char *p = env ? env : "/usr/bin:/bin";

    while (*p) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);

        buf_reset(path);
        buf_add(path, p, len);
        buf_addstr(path, "/chromium");
        if (!access(path->buf, X_OK))
            return path->buf;
        p += end ? len + 1 : len;
    }
    return NULL;
}

/* A tool run's exit code, its stdout in out. */
static int tool(const struct sim_proc *sim, const char *const *args,
                struct buf *out)
{
    struct e2e_run r;

    (void)e2e_tool(sim, args, &r);
    return e2e_run_output(&r, out, NULL);
}

/* The text of the element with id="id" ("" when absent). */
static void element_text(const char *dom, const char *id, struct buf *out)
{
    struct buf key = BUF_INIT;
    const char *p, *end;

    buf_reset(out);
    buf_addf(&key, "id=\"%s\">", id);
    p = strstr(dom, key.buf);
    if (p) {
        p += key.len;
        end = strchr(p, '<');
        if (end)
            buf_add(out, p, (size_t)(end - p));
    }
    buf_release(&key);
}

/* The element id of the page shows the figure printed from fmt. */
static void check_figure(const char *dom, const char *id, const char *fmt, ...)
    IA_PRINTF(3, 4);
static void check_figure(const char *dom, const char *id, const char *fmt, ...)
{
    struct buf got = BUF_INIT, want = BUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    buf_vaddf(&want, fmt, ap);
    va_end(ap);
    element_text(dom, id, &got);
    CHECK(!strcmp(got.buf, want.buf), "%s: page shows '%s', metrics say '%s'",
          id, got.buf, want.buf);
    buf_release(&got);
    buf_release(&want);
}

/* The page (dom) shows what the run directory's files say: the figures
 * of metrics.json, a row per endpoint, and one row per change the journal
 * marks done. */
static void check_page(const char *dom, const char *rundir)
{
    struct buf path = BUF_INIT, data = BUF_INIT, err = BUF_INIT,
               want = BUF_INIT;
    json_t *m, *e;
    json_error_t je;
    size_t i, done = 0;
    const char *p;

    buf_addf(&path, "%s/metrics.json", rundir);
    CHECK(fs_read_file(path.buf, 1 << 24, &data, &err) == 0, "%s", err.buf);
    m = json_loads(data.buf, 0, &je);
    CHECK(json_is_object(m), "metrics.json: %s", je.text);
    check_figure(dom, "m-requests", "%lld",
                 (long long)json_integer_value(json_object_get(m, "requests")));
    check_figure(dom, "m-errors", "%lld",
                 (long long)json_integer_value(json_object_get(m, "errors")));
    check_figure(dom, "m-cpu", "%.3f",
                 json_number_value(json_object_get(m, "cpu_s")));
    check_figure(dom, "m-wall", "%.3f",
                 json_number_value(json_object_get(m, "wall_s")));
    check_figure(dom, "m-rss", "%.1f",
                 (double)json_integer_value(json_object_get(m, "peak_rss_kb")) /
                     1024.0);
    /* Every endpoint with its calls. */
    json_array_foreach(json_object_get(m, "endpoints"), i, e)
    {
        buf_reset(&want);
        buf_addf(&want,
                 "data-endpoint=\"%s\"><td>%s</td><td class=\"calls\">"
                 "%lld</td>",
                 json_string_value(json_object_get(e, "endpoint")),
                 json_string_value(json_object_get(e, "endpoint")),
                 json_integer_value(json_object_get(e, "calls")));
        CHECK(strstr(dom, want.buf), "endpoint row missing: %s", want.buf);
    }
    CHECK(i > 3, "only %zu endpoints in metrics.json", i);
    json_decref(m);

    /* The changes made: the journal's "done" lines, one row each. */
    buf_reset(&path);
    buf_reset(&data);
    buf_addf(&path, "%s/modifications.jsonl", rundir);
    CHECK(fs_read_file(path.buf, 1 << 24, &data, &err) == 0, "%s", err.buf);
    for (p = data.buf; (p = strstr(p, "\"status\":\"done\"")); p++)
        done++;
    check_figure(dom, "m-changes", "%zu", done);
    check_figure(dom, "shown", "%zu", done);
    CHECK(done > 10, "the run changed only %zu things", done);
    i = 0;
    for (p = dom; (p = strstr(p, "<tr data-kind=")); p++)
        i++;
    CHECK(i == done, "%zu change rows, %zu changes", i, done);
    CHECK(strstr(dom, "/photos/"), "no asset link");
    buf_release(&path);
    buf_release(&data);
    buf_release(&err);
    buf_release(&want);
}

static struct buf chromium = BUF_INIT;

/* Every check of the page; the failures are counted, then reported. */
static void test_report_html(void **state)
{
    const char *logs = e2e_path("logs");
    const char *run_args[] = {"run",       "--quiet", "--config", TEMPLATE,
                              "--log-dir", logs,      NULL};
    struct buf out = BUF_INIT, err = BUF_INIT, rundir = BUF_INIT,
               page = BUF_INIT, again = BUF_INIT, url = BUF_INIT,
               shot = BUF_INIT, profile = BUF_INIT, dom = BUF_INIT,
               cerr = BUF_INIT;
    struct sim_proc sim;
    struct e2e_run r;

    (void)state;
    e2e_boot(&sim, NULL);
    CHECK(e2e_tool(&sim, run_args, &r) == 0, "run failed");
    e2e_run_dir(&r, &rundir);
    e2e_run_release(&r);
    buf_addf(&page, "%s/report.html", rundir.buf);
    CHECK(fs_read_file(page.buf, 1 << 26, &again, &err) == 0, "%s", err.buf);

    {
        const char *argv[] = {chromium.buf,
                              "--headless",
                              "--no-sandbox",
                              "--disable-gpu",
                              "--enable-logging=stderr",
                              "--v=0",
                              NULL,
                              "--dump-dom",
                              NULL,
                              NULL};
        const char *shot_argv[] = {chromium.buf,
                                   "--headless",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--hide-scrollbars",
                                   "--window-size=412,2400",
                                   NULL,
                                   NULL,
                                   NULL,
                                   NULL};
        struct buf o = BUF_INIT, ignored = BUF_INIT;

        buf_addf(&profile, "--user-data-dir=%s", e2e_path("chrome"));
        buf_addf(&url, "file://%s", page.buf);
        argv[6] = profile.buf;
        argv[8] = url.buf;
        buf_addstr(&o, e2e_path("dom.html"));
        buf_addstr(&cerr, e2e_path("chrome.err"));
        CHECK(e2e_exec(argv, o.buf, cerr.buf) == 0, "chromium --dump-dom");
        CHECK(fs_read_file(o.buf, 1 << 26, &dom, &ignored) == 0, "%s",
              ignored.buf);
        buf_reset(&ignored);
        CHECK(fs_read_file(cerr.buf, 1 << 24, &err, &ignored) == 0, "%s",
              ignored.buf);
        /* A script error or a blocked request is a console message. */
        CHECK(!strstr(err.buf, ":CONSOLE"), "console: %s",
              strstr(err.buf, ":CONSOLE"));
        CHECK(strstr(dom.buf, "</html>"), "no page rendered");
        check_page(dom.buf, rundir.buf);

        buf_addf(&shot, "--screenshot=%s", IA_BUILD_DIR "/report-html.png");
        (void)unlink(IA_BUILD_DIR "/report-html.png");
        shot_argv[6] = profile.buf;
        shot_argv[7] = shot.buf;
        shot_argv[8] = url.buf;
        CHECK(e2e_exec(shot_argv, o.buf, cerr.buf) == 0, "chromium "
                                                         "--screenshot");
        CHECK(!access(IA_BUILD_DIR "/report-html.png", R_OK), "no screenshot");
        buf_release(&o);
        buf_release(&ignored);
    }

    /* `report` writes the same page again; `history` lists the run. */
    {
        const char *report_args[] = {"report", rundir.buf,  "--config",
                                     TEMPLATE, "--log-dir", logs,
                                     NULL};
        const char *history_args[] = {"history",   "--config", TEMPLATE,
                                      "--log-dir", logs,       NULL};
        struct buf now = BUF_INIT, ignored = BUF_INIT;
        const char *name = strrchr(rundir.buf, '/') + 1;

        CHECK(unlink(page.buf) == 0, "cannot remove report.html");
        CHECK(tool(&sim, report_args, &out) == 0, "report failed");
        CHECK(fs_read_file(page.buf, 1 << 26, &now, &ignored) == 0,
              "report.html not written again");
        CHECK(now.len == again.len && !memcmp(now.buf, again.buf, now.len),
              "report wrote another page");
        CHECK(tool(&sim, history_args, &out) == 0, "history failed");
        CHECK(strstr(out.buf, name) && strstr(out.buf, " done "), "history: %s",
              out.buf);
        buf_release(&now);
        buf_release(&ignored);
    }
    e2e_halt(&sim);
    buf_release(&out);
    buf_release(&err);
    buf_release(&rundir);
    buf_release(&page);
    buf_release(&again);
    buf_release(&url);
    buf_release(&shot);
    buf_release(&profile);
    buf_release(&dom);
    buf_release(&cerr);
    if (failures)
        fail_msg("%d checks failed", failures);
    printf("report.html: loads without console messages, figures equal "
           "metrics.json; screenshot %s/report-html.png\n",
           IA_BUILD_DIR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_html),
    };
    int rc;

    if (!find_chromium(&chromium)) {
        printf("SKIP: chromium is not installed (scripts/setup.sh installs "
               "it)\n");
        return SKIP;
    }
    rc = e2e_run_group("report", IA_BIN, tests);
    buf_release(&chromium);
    return rc;
}
