/*
 * test_report_html.c: report.html from given run files: user data is
 * text, never markup; counts by kind and rule; broken inputs are errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "report/html.h"

static const char journal[] =
    "{\"time\":\"t\",\"kind\":\"ASSIGN_ASSET_TO_ALBUM\",\"status\":\"done\","
    "\"asset_id\":\"11111111-1111-1111-1111-111111111111\","
    "\"asset_name\":\"<img src=x onerror=alert(1)>.jpg\","
    "\"album_id\":\"22222222-2222-2222-2222-222222222222\","
    "\"album_name\":\"<script>alert('x')</script>\","
    "\"extra\":{\"reason\":\"conversion\",\"rule\":2}}\n"
    "{\"time\":\"t\",\"kind\":\"ADD_TAG_TO_ASSET\",\"status\":\"failed\","
    "\"asset_id\":\"11111111-1111-1111-1111-111111111111\","
    "\"tag\":\"a&b\",\"extra\":{\"reason\":\"classify_unknown\"}}\n"
    "{\"time\":\"t\",\"kind\":\"CLASSIFICATION_CONFLICT\","
    "\"status\":\"noted\",\"extra\":{}}\n";

static const char metrics[] =
    "{\"endpoints\":[{\"endpoint\":\"GET /albums/<x>\",\"calls\":3,"
    "\"errors\":0,\"retries\":0,\"p50_s\":0.01,\"p95_s\":0.02,"
    "\"max_s\":0.03}],\"requests\":3,\"errors\":0,\"wall_s\":0.5,"
    "\"cpu_s\":0.25,\"peak_rss_kb\":2048}";

static void page(const char *m, const char *j, struct buf *out, int want)
{
    const struct report_html_run hist[] = {
        {"<run>", 0, 1000, 1, 2, 1},
    };
    struct report_html_input in = {"<run>", "http://h\"x", m, NULL,
                                   j,       hist,          1, NULL};
    struct buf err = BUF_INIT;

    assert_int_equal(report_html(&in, out, &err), want);
    if (want < 0)
        assert_true(err.len > 0);
    buf_release(&err);
}

static void test_user_data_is_escaped(void **state)
{
    struct buf out = BUF_INIT;

    (void)state;
    page(metrics, journal, &out, 0);
    /* The one script is ours, at the end. */
    assert_non_null(strstr(out.buf, "<script>(function(){"));
    assert_ptr_equal(strstr(out.buf, "<script>"),
                     strstr(out.buf, "<script>(function(){"));
    assert_non_null(
        strstr(out.buf, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert_non_null(strstr(out.buf, "&lt;img src=x onerror=alert(1)&gt;"));
    assert_null(strstr(out.buf, "<img"));
    assert_non_null(strstr(out.buf, "a&amp;b"));
    assert_non_null(strstr(out.buf, "GET /albums/&lt;x&gt;"));
    assert_non_null(strstr(out.buf, "href=\"http://h&quot;x/photos/"
                                    "11111111-1111-1111-1111-111111111111"));
    assert_non_null(strstr(out.buf, "&lt;run&gt;"));
    assert_null(strstr(out.buf, "<run>"));
    buf_release(&out);
}

static void test_counts_changes_and_figures(void **state)
{
    static const char *const figures[] = {
        "id=\"m-changes\">1<",
        "id=\"m-failed\">1<",
        "id=\"m-requests\">3<",
        "id=\"m-cpu\">0.250<",
        "id=\"m-rss\">2.0<",
        /* two changes listed (the note is not one), filterable by rule */
        "id=\"shown\">2<",
        "data-rule=\"conversion #2\"",
        "<option value=\"classify_unknown\">",
    };
    struct buf out = BUF_INIT;

    (void)state;
    page(metrics, journal, &out, 0);
    for (size_t i = 0; i < ARRAY_SIZE(figures); i++)
        assert_non_null(strstr(out.buf, figures[i]));
    buf_release(&out);
}

/* Every line counts, listed or not (the list stops at 20,000): by kind,
 * and by rule from extra's reason and integer rule only (a "reason"
 * elsewhere, a rule that is text, an "extra" that is not an object, or
 * an earlier "extra" replaced by a later one count as none: "-"). */
static void test_counts_past_the_list_by_rule(void **state)
{
    struct buf j = BUF_INIT, out = BUF_INIT;
    int i;

    (void)state;
    for (i = 0; i < 20005; i++)
        buf_addstr(&j, "{\"kind\":\"K\",\"status\":\"done\",\"extra\":"
                       "{\"reason\":\"r\",\"rule\":3}}\n");
    buf_addstr(&j, "{\"kind\":\"K\",\"status\":\"failed\",\"extra\":"
                   "{\"rule\":\"4\",\"n\":[{\"reason\":\"deep\"}]},"
                   "\"other\":{\"reason\":\"fake\"}}\n");
    buf_addstr(&j, "{\"kind\":\"K\",\"status\":\"done\",\"extra\":"
                   "{\"reason\":\"r\",\"rule\":3},\"extra\":\"x\"}\n");
    buf_addstr(&j, "{\"status\":\"done\",\"kind\":\"K\",\"kind\":\"L\","
                   "\"extra\":{\"rule\":1.5,\"reason\":\"s\"}}\n");
    page(metrics, j.buf, &out, 0);
    assert_non_null(strstr(out.buf, "id=\"m-changes\">20007<"));
    assert_non_null(strstr(out.buf, "id=\"m-failed\">1<"));
    assert_non_null(strstr(out.buf, "id=\"shown\">20000<"));
    assert_non_null(strstr(out.buf, ">r #3</text>"));
    assert_non_null(strstr(out.buf, ">20005</text>"));
    assert_non_null(strstr(out.buf, ">-</text>"));
    assert_non_null(strstr(out.buf, ">s</text>"));
    assert_non_null(strstr(out.buf, ">L</text>"));
    assert_null(strstr(out.buf, "fake"));
    assert_null(strstr(out.buf, "deep"));
    assert_null(strstr(out.buf, " #4<"));
    assert_null(strstr(out.buf, ">20006</text>"));
    buf_release(&j);
    buf_release(&out);
}

static void test_broken_inputs_fail(void **state)
{
    struct buf out = BUF_INIT;

    (void)state;
    page("{\"requests\":", journal, &out, -1);
    buf_reset(&out);
    page(metrics, "{\"kind\":\"X\"}\nnot json\n", &out, -1);
    buf_reset(&out);
    page(NULL, NULL, &out, 0);
    assert_non_null(strstr(out.buf, "id=\"m-changes\">0<"));
    buf_release(&out);
}

/* The journal read from its file, a line at a time, counts the same
 * changes as its text; a broken line there is an error too.  The last
 * line has no newline. */
static void test_journal_read_from_its_file(void **state)
{
    static const char tail[] =
        "{\"time\":\"t\",\"kind\":\"REMOVE_TAG_FROM_ASSET\","
        "\"status\":\"done\",\"tag\":\"x\",\"extra\":{}}";
    struct report_html_input in = {"r",  "http://h", metrics, NULL,
                                   NULL, NULL,       0,       NULL};
    struct buf text = BUF_INIT, out = BUF_INIT, err = BUF_INIT;

    (void)state;
    buf_addstr(&text, journal);
    buf_addstr(&text, "\n"); /* an empty line is skipped */
    buf_addstr(&text, tail);
    in.journal_file = fmemopen(text.buf, text.len, "r");
    assert_non_null(in.journal_file);
    assert_int_equal(report_html(&in, &out, &err), 0);
    fclose(in.journal_file);
    assert_non_null(strstr(out.buf, "id=\"m-changes\">2<"));
    assert_non_null(strstr(out.buf, "id=\"m-failed\">1<"));
    assert_non_null(strstr(out.buf, "id=\"shown\">3<"));
    assert_non_null(
        strstr(out.buf, "<option value=\"REMOVE_TAG_FROM_ASSET\">"));

    buf_reset(&out);
    buf_addstr(&text, "\nnot json\n");
    in.journal_file = fmemopen(text.buf, text.len, "r");
    assert_non_null(in.journal_file);
    assert_int_equal(report_html(&in, &out, &err), -1);
    fclose(in.journal_file);
    assert_non_null(strstr(err.buf, "modifications.jsonl:6:"));
    buf_release(&text);
    buf_release(&out);
    buf_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_user_data_is_escaped),
        cmocka_unit_test(test_counts_changes_and_figures),
        cmocka_unit_test(test_counts_past_the_list_by_rule),
        cmocka_unit_test(test_broken_inputs_fail),
        cmocka_unit_test(test_journal_read_from_its_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
