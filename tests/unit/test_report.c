/*
 * test_report.c: the report writers (sections of
 * docs/upstream-behavior.md): modification report lines (§5.3),
 * JSON lines, run_statistics.yaml (§5.4), links markdown (§5.5), the run
 * directory, the checkpoint rules (§4.2 / §8 item 19) and redaction.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "core/log.h"
#include "report/report.h"

#define URL   "http://photos.lan:2283"
#define NOW   1718457242251LL /* 2024-06-15T13:14:02.251Z */
#define STAMP "2024-06-15T13:14:02.251000"

static struct uuid uid(unsigned n)
{
    struct uuid u;

    memset(&u, 0, sizeof(u));
    u.b[15] = (uint8_t)n;
    u.b[0] = 0xaa;
    return u;
}

static const char *ustr(unsigned n, char out[UUID_STR_LEN + 1])
{
    struct uuid u = uid(n);

    uuid_format(&u, out);
    return out;
}

/* Removes a test's temporary log root and everything in it. */
static void remove_root(const char *root)
{
    struct buf cmd = BUF_INIT;

    buf_addf(&cmd, "rm -rf '%s'", root);
    assert_int_equal(system(cmd.buf), 0);
    buf_release(&cmd);
}

/* A model with two assets, one user and one album. */
static void small_model(struct model *m)
{
    struct model_asset a;
    struct model_album al;
    struct uuid u;

    model_init(m);
    u = uid(100);
    m->me = model_add_user(m, &u, "alice@example.com", "Alice");
    memset(&a, 0, sizeof(a));
    a.id = uid(1);
    a.file_name = model_intern(m, "IMG_0001.jpg");
    a.date_time_original = TIME_NONE;
    a.duplicate = MODEL_NONE;
    a.file_created_at = a.file_modified_at = a.local_date_time = a.created_at =
        1700000000000LL;
    model_add_asset(m, &a);
    a.id = uid(2);
    a.file_name = model_intern(m, "IMG_0002.jpg");
    model_add_asset(m, &a);
    memset(&al, 0, sizeof(al));
    al.id = uid(50);
    al.name = model_intern(m, "2024-Trip");
    al.next_same_name = MODEL_NONE;
    al.start_date = al.end_date = TIME_NONE;
    model_add_album(m, &al, NULL, 0);
    model_link_album_asset(m, 0, 0);
    model_build_indexes(m);
}

/* text holds the line fmt formats. */
static void IA_PRINTF(2, 3)
    assert_holds(const struct buf *text, const char *fmt, ...)
{
    struct buf want = BUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    buf_vaddf(&want, fmt, ap);
    va_end(ap);
    if (!strstr(text->buf, want.buf))
        fail_msg("no line\n%s\nin\n%s", want.buf, text->buf);
    buf_release(&want);
}

static void test_report_iso_local_prints_python_isoformat(void **state)
{
    char out[40], stamp[32];

    (void)state;
    report_iso_local(NOW, out);
    assert_string_equal(out, STAMP);
    report_stamp(NOW, stamp);
    assert_string_equal(stamp, "20240615_131402");
}

static void test_report_tag_lines_follow_upstream_format(void **state)
{
    struct model m;
    struct plan p;
    struct plan_group *g;
    struct outcome o;
    struct uuid a1 = uid(1), a2 = uid(2), tid = uid(70);
    struct buf txt = BUF_INIT, jsonl = BUF_INIT, want = BUF_INIT;
    struct report_kinds k;
    char s1[40], s2[40], st[40];
    size_t gi;

    (void)state;
    small_model(&m);
    plan_init(&p);
    g = plan_group(&p, PLAN_TAG_ADD, "autotag_output_unknown", NULL);
    plan_add(g, &a1, PLAN_R_CLASSIFY_UNKNOWN, 0);
    plan_add(g, &a2, PLAN_R_CLASSIFY_UNKNOWN, 0);
    plan_finish(&p);
    assert_int_equal(p.nr, 1);
    outcome_init(&o, &p);
    gi = 0;
    o.groups[gi].action = OUTCOME_DONE;
    o.groups[gi].created = true;
    o.groups[gi].has_target = true;
    o.groups[gi].target = tid;
    /* Items are in canonical order: find which is which. */
    {
        size_t i1 = uuid_eq(&p.groups[0].items[0].id, &a1) ? 0 : 1;

        o.groups[gi].status[i1] = OUTCOME_DONE;
        o.groups[gi].status[1 - i1] = OUTCOME_FAILED;
        o.groups[gi].error[1 - i1] = OUTCOME_E_NO_PERMISSION;
    }
    outcome_tally(&o, &p);
    assert_int_equal(o.done, 2); /* the tag creation and one item */
    assert_int_equal(o.failed, 1);

    struct report_ctx c = {&p, &m, &o, URL, "Alice", NOW};
    report_modifications(&c, &txt, &jsonl, &k);
    buf_addf(
        &want,
        STAMP " | kind=CREATE_TAG | tag=autotag_output_unknown"
              " | user=Alice | extra={'tag_id': '%s', 'created': True}\n" STAMP
              " | kind=ADD_TAG_TO_ASSET | asset_link=" URL
              "/photos/%s | name=IMG_0001.jpg"
              " | tag=autotag_output_unknown | user=Alice"
              " | extra={'reason': '%s'}\n" STAMP
              " | kind=WARNING_TAG_ADDITION_TO_ASSET_FAILED"
              " | asset_link=" URL "/photos/%s | name=IMG_0002.jpg"
              " | tag=autotag_output_unknown | user=Alice"
              " | extra={'reason': '%s', 'error_category':"
              " 'no_permission'}\n",
        ustr(70, st), ustr(1, s1), plan_reason_name(PLAN_R_CLASSIFY_UNKNOWN),
        ustr(2, s2), plan_reason_name(PLAN_R_CLASSIFY_UNKNOWN));
    assert_string_equal(txt.buf, want.buf);
    assert_int_equal(k.n[REPORT_K_CREATE_TAG], 1);
    assert_int_equal(k.n[REPORT_K_ADD_TAG_TO_ASSET], 1);
    assert_int_equal(k.n[REPORT_K_WARNING_TAG_ADDITION_TO_ASSET_FAILED], 1);
    /* One JSON object per event. */
    buf_reset(&want);
    buf_addf(&want,
             "{\"time\":\"" STAMP "\",\"kind\":\"ADD_TAG_TO_ASSET\","
             "\"status\":\"done\",\"asset_id\":\"%s\","
             "\"asset_name\":\"IMG_0001.jpg\","
             "\"tag\":\"autotag_output_unknown\","
             "\"extra\":{\"reason\":\"%s\"}}\n",
             ustr(1, s1), plan_reason_name(PLAN_R_CLASSIFY_UNKNOWN));
    assert_non_null(strstr(jsonl.buf, want.buf));
    {
        size_t lines = 0;
        const char *q;

        for (q = jsonl.buf; *q; q++)
            lines += *q == '\n';
        assert_int_equal(lines, 3);
    }
    outcome_release(&o);
    plan_release(&p);
    model_release(&m);
    buf_release(&txt);
    buf_release(&jsonl);
    buf_release(&want);
}

static void test_report_album_lines_and_warnings(void **state)
{
    struct model m;
    struct plan p;
    struct plan_group *g;
    struct outcome o;
    struct uuid a1 = uid(1), a2 = uid(2), alb = uid(50), newalb = uid(60);
    struct buf txt = BUF_INIT;
    struct report_kinds k;
    char s1[40], s2[40], sa[40], sn[40];
    size_t i, gc = 0, ga = 0, gd = 0;

    (void)state;
    small_model(&m);
    plan_init(&p);
    plan_group(&p, PLAN_ALBUM_CREATE, "2023-11-14-autotag-temp-unclassified",
               NULL);
    g = plan_group(&p, PLAN_ALBUM_ADD, "2024-Trip", &alb);
    plan_add(g, &a1, PLAN_R_CONVERSION, 2);
    plan_add(g, &a2, PLAN_R_CONVERSION, 2);
    plan_group_album(&p, PLAN_ALBUM_DELETE,
                     "2020-01-01-autotag-temp-unclassified", &newalb,
                     PLAN_R_TEMP_ALBUM_EMPTY);
    plan_finish(&p);
    assert_int_equal(p.nr, 3);
    outcome_init(&o, &p);
    for (i = 0; i < p.nr; i++) {
        if (p.groups[i].op == PLAN_ALBUM_CREATE)
            gc = i;
        else if (p.groups[i].op == PLAN_ALBUM_ADD)
            ga = i;
        else
            gd = i;
    }
    o.groups[gc].action = OUTCOME_DONE;
    o.groups[gc].has_target = true;
    o.groups[gc].created = true;
    o.groups[gc].target = newalb;
    for (i = 0; i < 2; i++) {
        bool first = uuid_eq(&p.groups[ga].items[i].id, &a1);

        o.groups[ga].status[i] = first ? OUTCOME_UNCHANGED : OUTCOME_DONE;
        o.groups[ga].error[i] = first ? OUTCOME_E_DUPLICATE : 0;
    }
    o.groups[gd].action = OUTCOME_DONE;

    struct report_ctx c = {&p, &m, &o, URL, NULL, NOW};
    report_modifications(&c, &txt, NULL, &k);
    assert_int_equal(k.n[REPORT_K_CREATE_ALBUM], 1);
    assert_int_equal(k.n[REPORT_K_ASSIGN_ASSET_TO_ALBUM], 1);
    assert_int_equal(k.n[REPORT_K_WARNING_ASSET_ALREADY_IN_ALBUM], 1);
    assert_int_equal(k.n[REPORT_K_DELETE_ALBUM], 1);
    assert_holds(&txt,
                 STAMP " | kind=CREATE_ALBUM | album_link=" URL
                       "/albums/%s | album_name=2023-11-14-autotag-temp-"
                       "unclassified | extra={'created': True}\n",
                 ustr(60, sn));
    assert_holds(&txt,
                 STAMP " | kind=ASSIGN_ASSET_TO_ALBUM | asset_link=" URL
                       "/photos/%s | name=IMG_0002.jpg | album_link=" URL
                       "/albums/%s | album_name=2024-Trip"
                       " | extra={'reason': '%s', 'rule': 2}\n",
                 ustr(2, s2), ustr(50, sa),
                 plan_reason_name(PLAN_R_CONVERSION));
    assert_holds(&txt,
                 STAMP " | kind=WARNING_ASSET_ALREADY_IN_ALBUM"
                       " | asset_link=" URL "/photos/%s | name=IMG_0001.jpg"
                       " | album_link=" URL "/albums/%s"
                       " | album_name=2024-Trip | extra={'reason': '%s',"
                       " 'rule': 2, 'error_category': 'duplicate'}\n",
                 ustr(1, s1), ustr(50, sa),
                 plan_reason_name(PLAN_R_CONVERSION));
    assert_holds(&txt,
                 STAMP " | kind=DELETE_ALBUM | album_link=" URL
                       "/albums/%s | old_value=2020-01-01-autotag-temp-"
                       "unclassified | extra={'reason': '%s (SUCCESS)'}\n",
                 ustr(60, sn), plan_reason_name(PLAN_R_TEMP_ALBUM_EMPTY));
    outcome_release(&o);
    plan_release(&p);
    model_release(&m);
    buf_release(&txt);
}

/*
 * A note's fields, every type of them, rendered by hand-written rules:
 * a Python dict repr in modification_report.txt (quotes as repr()
 * chooses them, True/False, lists) and JSON members in
 * modifications.jsonl, in the order the rules added them.
 */
static void test_report_note_detail_becomes_python_dict(void **state)
{
    struct plan p;
    struct uuid a1 = uid(1), zero;
    struct buf txt = BUF_INIT, jsonl = BUF_INIT, want = BUF_INIT;
    struct plan_fields f = PLAN_FIELDS_INIT;
    struct uuid u7 = uid(7);
    char s1[40], s7[40];

    (void)state;
    memset(&zero, 0, sizeof(zero));
    plan_init(&p);
    /* every type of field, and strings Python quotes differently */
    plan_fields_str(&f, "reason", "multiple_rules_matched");
    plan_fields_int(&f, "num_rules", -2);
    plan_fields_bool(&f, "ok", true);
    plan_fields_bool(&f, "no", false);
    plan_fields_str(&f, "s", "it's \"q\"");
    plan_fields_str(&f, "d", "it's");
    plan_fields_list(&f, "l", "a");
    plan_fields_list(&f, "l", "b'c");
    plan_fields_list(&f, "none", NULL);
    plan_fields_time(&f, "t", 1718457242251);
    plan_fields_date(&f, "day", 1718457242251);
    plan_fields_uuid(&f, "u", &u7);
    plan_fields_str(&f, "e", "\xc3\xa9\n");
    plan_note(&p, PLAN_NOTE_CLASSIFICATION_CONFLICT, &a1, &zero, &f);
    assert_int_equal(f.nr, 0); /* the plan took them */
    plan_finish(&p);
    struct report_ctx c = {&p, NULL, NULL, URL, NULL, NOW};
    report_modifications(&c, &txt, &jsonl, NULL);
    buf_addf(&want,
             STAMP " | kind=CLASSIFICATION_CONFLICT | asset_link=" URL
                   "/photos/%s | extra={'reason': "
                   "'multiple_rules_matched', 'num_rules': -2, 'ok': "
                   "True, 'no': False, 's': 'it\\'s \"q\"', 'd': \"it's\", "
                   "'l': ['a', \"b'c\"], 'none': [], "
                   "'t': '2024-06-15T13:14:02.251Z', 'day': '2024-06-15', "
                   "'u': '%s', 'e': '\xc3\xa9\\n'}\n",
             ustr(1, s1), ustr(7, s7));
    assert_string_equal(txt.buf, want.buf);
    buf_reset(&want);
    buf_addf(&want,
             "{\"time\":\"" STAMP "\",\"kind\":\"CLASSIFICATION_CONFLICT\","
             "\"status\":\"noted\",\"asset_id\":\"%s\",\"extra\":{"
             "\"reason\":\"multiple_rules_matched\",\"num_rules\":-2,"
             "\"ok\":true,\"no\":false,\"s\":\"it's \\\"q\\\"\","
             "\"d\":\"it's\",\"l\":[\"a\",\"b'c\"],\"none\":[],"
             "\"t\":\"2024-06-15T13:14:02.251Z\",\"day\":\"2024-06-15\","
             "\"u\":\"%s\",\"e\":\"\xc3\xa9\\n\"}}\n",
             ustr(1, s1), ustr(7, s7));
    assert_string_equal(jsonl.buf, want.buf);
    plan_release(&p);
    buf_release(&txt);
    buf_release(&jsonl);
    buf_release(&want);
}

static void test_report_pending_items_only_in_dry_run(void **state)
{
    struct plan p;
    struct plan_group *g;
    struct outcome o;
    struct uuid a1 = uid(1), t = uid(70);
    struct buf txt = BUF_INIT;
    struct report_kinds k;

    (void)state;
    plan_init(&p);
    g = plan_group(&p, PLAN_TAG_REMOVE, "autotag_output_conflict", &t);
    plan_add(g, &a1, PLAN_R_CLASSIFIED, 0);
    plan_finish(&p);
    outcome_init(&o, &p);
    struct report_ctx c = {&p, NULL, &o, URL, NULL, NOW};
    /* An interrupted run: the pending item did not happen. */
    o.interrupted = true;
    report_modifications(&c, &txt, NULL, &k);
    assert_string_equal(txt.buf, "");
    assert_int_equal(k.n[REPORT_K_REMOVE_TAG_FROM_ASSET], 0);
    /* A dry run: it is what would happen. */
    o.interrupted = false;
    o.dry_run = true;
    report_modifications(&c, &txt, NULL, &k);
    assert_int_equal(k.n[REPORT_K_REMOVE_TAG_FROM_ASSET], 1);
    assert_non_null(strstr(txt.buf, "'dry_run': True}"));
    outcome_release(&o);
    plan_release(&p);
    buf_release(&txt);
}

/* A plan tagging two assets autotag_output_unknown, and its outcome: the
 * group's action done, the first item done, the second failed. */
static void two_unknown_one_failed(struct plan *p, struct outcome *o)
{
    struct uuid a1 = uid(1), a2 = uid(2);
    struct plan_group *g;

    plan_init(p);
    g = plan_group(p, PLAN_TAG_ADD, "autotag_output_unknown", NULL);
    plan_add(g, &a1, PLAN_R_CLASSIFY_UNKNOWN, 0);
    plan_add(g, &a2, PLAN_R_CLASSIFY_UNKNOWN, 0);
    plan_finish(p);
    outcome_init(o, p);
    o->groups[0].action = OUTCOME_DONE;
    o->groups[0].status[0] = OUTCOME_DONE;
    o->groups[0].status[1] = OUTCOME_FAILED;
}

/* run_statistics.yaml, whole: upstream's keys in upstream's order with
 * the values given, our counters and their change since the previous run
 * under extra, the per-tag counters and the events per kind. */
static void test_report_statistics_yaml_has_upstream_keys(void **state)
{
    /* our counters, then their change since the previous run */
    static const char *const counts[] = {
        "    unclassified: 2\n",   "    changes_done: 2\n",
        "    changes_failed: 1\n", "  change_since_previous_run:\n",
        "    unclassified: -3\n",  "    assets_seen: +2\n",
    };
    struct plan p;
    struct outcome o;
    struct uuid last = uid(9);
    struct buf y = BUF_INIT, want = BUF_INIT;
    struct report_kinds k;
    struct report_counters cur, prev;
    struct report_stats s;
    char sl[40];

    (void)state;
    two_unknown_one_failed(&p, &o);
    p.stats.assets_seen = 2;
    p.stats.unclassified = 2;
    o.groups[0].created = true;
    o.requests = 2;
    outcome_tally(&o, &p);
    struct report_ctx c = {&p, NULL, &o, URL, NULL, NOW};
    report_modifications(&c, NULL, NULL, &k);
    report_counters(&c, &cur);
    memset(&prev, 0, sizeof(prev));
    prev.c[0].key = "unclassified";
    prev.c[0].value = 5;
    prev.nr = 1;
    memset(&s, 0, sizeof(s));
    s.git_describe_package = "v0.1.0";
    s.total_assets = 10;
    s.max_assets = -1;
    s.skip_n = 0;
    s.count = 2;
    s.last_processed_id = last;
    s.has_last_processed_id = true;
    s.started_at = NOW - 1000;
    s.finished_at = NOW;
    s.abrupt_exit_at = TIME_NONE;
    s.checkpoint_source = "none";
    /* what the writer is given, not a default: 0 would pass unwritten */
    s.previous_sessions_time = 754.25;
    s.counters = &cur;
    s.previous = &prev;
    s.previous_run = "20240614_010000_PID7";
    report_statistics_yaml(&c, &s, &k, &y);
    buf_addf(&want,
             "git_describe_runtime: null\n"
             "git_describe_package: v0.1.0\n"
             "album_date_mismatch_count: 0\n"
             "update_asset_date_count: 0\n"
             "total_assets: 10\n"
             "max_assets: null\n"
             "skip_n: 0\n"
             "last_processed_id: %s\n"
             "count: 2\n"
             "started_at: 2024-06-15 13:14:01.251000+00:00\n"
             "finished_at: 2024-06-15 13:14:02.251000+00:00\n"
             "abrupt_exit_at: null\n"
             "previous_sessions_time: 754.250\n"
             "extra:\n"
             "  checkpoint_source: none\n"
             "  previous_run: 20240614_010000_PID7\n"
             "  counts:\n",
             ustr(9, sl));
    assert_memory_equal(y.buf, want.buf, want.len);
    for (size_t i = 0; i < ARRAY_SIZE(counts); i++)
        assert_non_null(strstr(y.buf, counts[i]));
    assert_non_null(strstr(y.buf,
                           "output_tag_counters:\n"
                           "  autotag_output_unknown:\n"
                           "    total: 1\n    added: 1\n    removed: 0\n"
                           "    removed_globally: 0\n    created: 1\n"
                           "    errors: 1\n"
                           "output_album_counters: {}\n"
                           "progress_description: null\n"
                           "event_counters:\n"
                           "  CREATE_TAG: 1\n"
                           "  ADD_TAG_TO_ASSET: 1\n"
                           "  WARNING_TAG_ADDITION_TO_ASSET_FAILED: 1\n"));
    /* The checkpoint reader finds `count` again. */
    outcome_release(&o);
    plan_release(&p);
    buf_release(&y);
    buf_release(&want);
}

/* An album the plan both adds to and removes from is one entry, in the
 * order the plan (sorted by name) first names it, with both counts. */
static void test_report_statistics_one_entry_per_name(void **state)
{
    struct report_stats st;
    struct plan p;
    struct outcome o;
    struct uuid a1 = uid(1), a2 = uid(2), al = uid(700);
    struct buf y = BUF_INIT;
    size_t i, j;

    (void)state;
    plan_init(&p);
    plan_add(plan_group(&p, PLAN_ALBUM_ADD, "Beta", &al), &a1,
             PLAN_R_CONVERSION, 1);
    plan_add(plan_group(&p, PLAN_ALBUM_ADD, "Alpha", NULL), &a1,
             PLAN_R_CONVERSION, 1);
    plan_add(plan_group(&p, PLAN_ALBUM_REMOVE, "Beta", &al), &a2,
             PLAN_R_CONVERSION, 1);
    plan_finish(&p);
    outcome_init(&o, &p);
    for (i = 0; i < p.nr; i++)
        for (j = 0; j < p.groups[i].nr; j++)
            o.groups[i].status[j] = OUTCOME_DONE;
    memset(&st, 0, sizeof(st));
    st.started_at = st.finished_at = NOW;
    st.abrupt_exit_at = TIME_NONE;
    struct report_ctx c = {&p, NULL, &o, URL, NULL, NOW};

    report_statistics_yaml(&c, &st, NULL, &y);
    assert_non_null(strstr(y.buf, "output_album_counters:\n"
                                  "  Alpha:\n    total: 1\n    assigned: 1\n"
                                  "    removed: 0\n    errors: 0\n"
                                  "  Beta:\n    total: 0\n    assigned: 1\n"
                                  "    removed: 1\n    errors: 0\n"
                                  "progress_description:"));
    outcome_release(&o);
    plan_release(&p);
    buf_release(&y);
}

static void test_report_links_markdown_matches_upstream(void **state)
{
    struct config cfg;
    struct config_rule rules[2];
    static char people[] = "autotag_input_people_and_PETS",
                meme[] = "autotag_input_meme", other[] = "other",
                unknown[] = "autotag_output_unknown",
                conflict[] = "autotag_output_conflict",
                dup[] = "autotag_output_duplicate_asset_album_conflict",
                mismatch[] = "autotag_output_album_date_mismatch";
    char *t1[] = {people, meme};
    char *t2[] = {other, meme};
    struct buf md = BUF_INIT, con = BUF_INIT;

    (void)state;
    memset(&cfg, 0, sizeof(cfg));
    memset(rules, 0, sizeof(rules));
    rules[0].tag_names.items = t1;
    rules[0].tag_names.nr = 2;
    rules[1].tag_names.items = t2;
    rules[1].tag_names.nr = 2;
    cfg.classification.rules = rules;
    cfg.classification.rules_nr = 2;
    cfg.classification.autotag_unknown = unknown;
    cfg.classification.autotag_conflict = conflict;
    cfg.duplicate_processing.present = true;
    cfg.duplicate_processing.album_conflict = dup;
    cfg.album_date_consistency.present = true;
    cfg.album_date_consistency.enabled = true;
    cfg.album_date_consistency.tag = mismatch;
    report_links_md(&cfg, URL, &md);
    assert_string_equal(
        md.buf,
        "# Immich Autotagging Quick Links\n\n"
        "- [Albums](" URL "/albums)\n"
        "- [Input: People And Pets](" URL
        "/tags?path=autotag_input_people_and_PETS)\n"
        "- [Input: Meme](" URL "/tags?path=autotag_input_meme)\n"
        "- [Classification: Unknown](" URL
        "/tags?path=autotag_output_unknown)\n"
        "- [Classification: Conflict](" URL
        "/tags?path=autotag_output_conflict)\n"
        "- [Duplicates: Album conflict](" URL
        "/tags?path=autotag_output_duplicate_asset_album_conflict)\n"
        "- [Consistency: Album date mismatch](" URL
        "/tags?path=autotag_output_album_date_mismatch)\n"
        "\nFor configuration details, see: [README_config.md]"
        "(https://github.com/txemi/immich-autotag/blob/main/immich_autotag/"
        "config/README_config.md)\n");
    report_links_console(&cfg, URL, &con);
    assert_non_null(strstr(con.buf, "- Albums:        " URL "/albums\n"
                                    "- Input: People And Pets: " URL));
    buf_release(&md);
    buf_release(&con);
}

static void test_report_write_masks_secrets(void **state)
{
    char root[] = "/tmp/ia-report-XXXXXX";
    struct report_run run;
    struct buf err = BUF_INIT, data = BUF_INIT, back = BUF_INIT;
    struct buf path = BUF_INIT;

    (void)state;
    assert_non_null(mkdtemp(root));
    log_add_secret("s3cr3t-api-key-value");
    assert_int_equal(report_run_create(&run, root, NOW, &err), 0);
    buf_addstr(&data, "api_key: s3cr3t-api-key-value\n");
    assert_int_equal(report_write(&run, "user_config_dump.yaml", &data, &err),
                     0);
    buf_addf(&path, "%s/user_config_dump.yaml", run.dir);
    assert_int_equal(fs_read_file(path.buf, 1 << 20, &back, &err), 0);
    assert_string_equal(back.buf, "api_key: ***\n");
    /* A second run in the same second gets its own directory. */
    {
        struct report_run again;

        assert_int_equal(report_run_create(&again, root, NOW, &err), 0);
        assert_non_null(strstr(again.name, "_2"));
        report_run_release(&again);
    }
    report_run_release(&run);
    log_release();
    remove_root(root);
    buf_release(&path);
    buf_release(&err);
    buf_release(&data);
    buf_release(&back);
}

/*
 * modification_report.txt written as it is built: a report of several
 * pieces (REPORT_FILE_PIECE) holds every line once, in order, with the
 * secret masked in each piece; it appears under its name only when
 * committed; a run directory that cannot be written is an error.
 */
static void test_report_modifications_written_in_pieces(void **state)
{
    char root[] = "/tmp/ia-report-XXXXXX";
    struct report_run run;
    struct report_file rf;
    struct report_kinds k;
    struct plan p;
    struct plan_group *g;
    struct buf err = BUF_INIT, want = BUF_INIT, back = BUF_INIT;
    struct buf path = BUF_INIT;
    unsigned i, n = 2000;

    (void)state;
    assert_non_null(mkdtemp(root));
    log_add_secret("s3cr3t-in-a-tag");
    assert_int_equal(report_run_create(&run, root, NOW, &err), 0);
    plan_init(&p);
    g = plan_group(&p, PLAN_TAG_ADD, "tag s3cr3t-in-a-tag", NULL);
    for (i = 0; i < n; i++) {
        struct uuid u;

        memset(&u, 0, sizeof(u));
        u.b[0] = (uint8_t)(i >> 8);
        u.b[1] = (uint8_t)i;
        plan_add(g, &u, PLAN_R_CLASSIFY_UNKNOWN, 0);
    }
    plan_finish(&p);
    struct report_ctx c = {&p, NULL, NULL, URL, NULL, NOW};

    buf_addstr(&want, STAMP " | kind=CREATE_TAG | tag=tag *** | "
                            "extra={'created': True, 'dry_run': True}\n");
    for (i = 0; i < n; i++)
        buf_addf(&want,
                 STAMP " | kind=ADD_TAG_TO_ASSET | asset_link=" URL
                       "/photos/%02x%02x0000-0000-0000-0000-000000000000 | "
                       "tag=tag *** | extra={'reason': 'classify_unknown', "
                       "'dry_run': True}\n",
                 i >> 8, i & 255);
    assert_true(want.len > 3 * REPORT_FILE_PIECE);
    buf_addf(&path, "%s/" REPORT_FILE_MODIFICATIONS, run.dir);
    assert_int_equal(
        report_file_open(&rf, &run, REPORT_FILE_MODIFICATIONS, &err), 0);
    assert_int_equal(report_modifications_write(&c, &rf, &k, &err), 0);
    assert_int_equal(access(path.buf, F_OK), -1); /* not before commit */
    assert_int_equal(report_file_commit(&rf, &err), 0);
    assert_int_equal(fs_read_file(path.buf, 1 << 24, &back, &err), 0);
    assert_string_equal(back.buf, want.buf);
    assert_int_equal(k.n[REPORT_K_ADD_TAG_TO_ASSET], n);
    assert_int_equal(k.n[REPORT_K_CREATE_TAG], 1);

    /* A run directory gone: the file cannot be opened, said so. */
    remove_root(root);
    assert_int_equal(
        report_file_open(&rf, &run, REPORT_FILE_MODIFICATIONS, &err), -1);
    assert_non_null(strstr(err.buf, REPORT_FILE_MODIFICATIONS));

    plan_release(&p);
    report_run_release(&run);
    log_release();
    buf_release(&path);
    buf_release(&err);
    buf_release(&want);
    buf_release(&back);
}

/*
 * run_statistics.yaml written as it is built: thousands of album entries
 * (several pieces) each once, in name order, then the event counters.
 */
static void test_report_statistics_written_in_pieces(void **state)
{
    char root[] = "/tmp/ia-report-XXXXXX";
    struct report_run run;
    struct report_file rf;
    struct report_stats st;
    struct plan p;
    struct outcome o;
    struct uuid a1 = uid(1);
    struct buf err = BUF_INIT, want = BUF_INIT, back = BUF_INIT;
    struct buf path = BUF_INIT, name = BUF_INIT;
    unsigned i, n = 5000;

    (void)state;
    assert_non_null(mkdtemp(root));
    assert_int_equal(report_run_create(&run, root, NOW, &err), 0);
    plan_init(&p);
    for (i = 0; i < n; i++) {
        buf_reset(&name);
        buf_addf(&name, "album-%04u", i);
        plan_add(plan_group(&p, PLAN_ALBUM_ADD, name.buf, NULL), &a1,
                 PLAN_R_CONVERSION, 1);
    }
    plan_finish(&p);
    outcome_init(&o, &p);
    for (i = 0; i < n; i++)
        o.groups[i].status[0] = i % 2 ? OUTCOME_DONE : OUTCOME_FAILED;
    memset(&st, 0, sizeof(st));
    st.git_describe_package = "v0.1.0";
    st.started_at = st.finished_at = NOW;
    st.abrupt_exit_at = TIME_NONE;
    struct report_ctx c = {&p, NULL, &o, URL, NULL, NOW};

    buf_addstr(&want, "output_tag_counters: {}\noutput_album_counters:\n");
    for (i = 0; i < n; i++)
        buf_addf(&want,
                 "  album-%04u:\n    total: %u\n    assigned: %u\n"
                 "    removed: 0\n    errors: %u\n",
                 i, i % 2, i % 2, 1 - i % 2);
    buf_addstr(&want, "progress_description: null\nevent_counters: {}\n");
    assert_true(want.len > 3 * REPORT_FILE_PIECE);
    assert_int_equal(report_file_open(&rf, &run, REPORT_FILE_STATISTICS, &err),
                     0);
    assert_int_equal(report_statistics_write(&c, &st, NULL, &rf, &err), 0);
    assert_int_equal(report_file_commit(&rf, &err), 0);
    buf_addf(&path, "%s/" REPORT_FILE_STATISTICS, run.dir);
    assert_int_equal(fs_read_file(path.buf, 1 << 24, &back, &err), 0);
    assert_non_null(strstr(back.buf, "git_describe_package: v0.1.0\n"));
    assert_true(back.len > want.len);
    assert_string_equal(back.buf + back.len - want.len, want.buf);

    outcome_release(&o);
    plan_release(&p);
    report_run_release(&run);
    remove_root(root);
    buf_release(&path);
    buf_release(&name);
    buf_release(&err);
    buf_release(&want);
    buf_release(&back);
}

/*
 * The run directory and its reports hold names of files, albums and
 * people: private whatever the umask, and a link planted at a report's
 * name (or at its temporary name) is replaced, never written through.
 */
static void test_report_files_are_private_and_never_follow_links(void **s)
{
    char root[] = "/tmp/ia-report-XXXXXX";
    struct report_run run;
    struct buf err = BUF_INIT, data = BUF_INIT, back = BUF_INIT,
               path = BUF_INIT, victim = BUF_INIT;
    struct stat sb;
    mode_t old;

    (void)s;
    assert_non_null(mkdtemp(root));
    buf_addf(&victim, "%s/victim", root);
    buf_addstr(&data, "precious\n");
    assert_int_equal(fs_write_atomic(victim.buf, data.buf, data.len, &err), 0);
    old = umask(0);
    assert_int_equal(report_run_create(&run, root, NOW, &err), 0);
    assert_int_equal(stat(run.dir, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    buf_addf(&path, "%s/summary.txt", run.dir);
    assert_int_equal(symlink(victim.buf, path.buf), 0);
    buf_reset(&path);
    buf_addf(&path, "%s/summary.txt.tmp%ld", run.dir, (long)getpid());
    assert_int_equal(symlink(victim.buf, path.buf), 0);
    buf_reset(&data);
    buf_addstr(&data, "report\n");
    assert_int_equal(report_write(&run, "summary.txt", &data, &err), 0);
    (void)umask(old);
    assert_int_equal(fs_read_file(victim.buf, 1 << 20, &back, &err), 0);
    assert_string_equal(back.buf, "precious\n");
    buf_reset(&path);
    buf_addf(&path, "%s/summary.txt", run.dir);
    assert_int_equal(lstat(path.buf, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
    assert_int_equal(sb.st_mode & 0777, 0600);
    /* A log root others can write to is refused. */
    assert_int_equal(chmod(root, 0777), 0);
    report_run_release(&run);
    assert_int_equal(report_run_create(&run, root, NOW, &err), -1);
    assert_non_null(strstr(err.buf, "others can write to it"));
    report_run_release(&run);
    remove_root(root);
    buf_release(&path);
    buf_release(&victim);
    buf_release(&err);
    buf_release(&data);
    buf_release(&back);
}

/* Counts the lines of text and checks that no byte of it is a control
 * character other than the newline ending each line. */
static size_t clean_lines(const char *text)
{
    size_t lines = 0;
    const unsigned char *p;

    for (p = (const unsigned char *)text; *p; p++) {
        if (*p == '\n')
            lines++;
        else
            assert_true(*p >= 0x20 && *p != 0x7f);
    }
    return lines;
}

/*
 * A shared album's name (anyone may choose it) must not forge a report
 * line nor drive the terminal of whoever reads the report, the summary or
 * the printed plan.
 */
static void test_report_names_cannot_forge_lines(void **state)
{
    static const char evil[] = "Trip\n2024-06-15T13:14:02.251000 | "
                               "kind=DELETE_ALBUM\x1b[2J\xc2\x9b";
    struct model m;
    struct plan p;
    struct plan_group *g;
    struct outcome o;
    struct uuid a1 = uid(1), alb = uid(50);
    struct buf txt = BUF_INIT, jsonl = BUF_INIT, yaml = BUF_INIT,
               out = BUF_INIT;
    struct report_kinds k;
    struct report_counters cs;
    struct report_stats st;

    (void)state;
    small_model(&m);
    plan_init(&p);
    g = plan_group(&p, PLAN_ALBUM_ADD, evil, &alb);
    plan_add(g, &a1, PLAN_R_CONVERSION, 2);
    g = plan_group(&p, PLAN_TAG_ADD, evil, NULL);
    plan_add(g, &a1, PLAN_R_CONVERSION, 2);
    plan_finish(&p);
    outcome_init(&o, &p);
    for (size_t i = 0; i < p.nr; i++) {
        o.groups[i].action = OUTCOME_DONE;
        o.groups[i].status[0] = OUTCOME_DONE;
    }

    struct report_ctx c = {&p, &m, &o, URL, evil, NOW};
    report_modifications(&c, &txt, &jsonl, &k);
    assert_int_equal(k.n[REPORT_K_DELETE_ALBUM], 0);
    /* CREATE_TAG, ADD_TAG_TO_ASSET, ASSIGN_ASSET_TO_ALBUM: 3 lines. */
    assert_int_equal(clean_lines(txt.buf), 3);
    assert_non_null(strstr(txt.buf, "Trip\\n2024-06-15T13:14:02.251000 | "
                                    "kind=DELETE_ALBUM\\x1b[2J\\u009b"));
    assert_int_equal(clean_lines(jsonl.buf), 3);

    report_counters(&c, &cs);
    memset(&st, 0, sizeof(st));
    st.git_describe_package = "v0";
    st.total_assets = st.max_assets = -1;
    st.finished_at = st.abrupt_exit_at = TIME_NONE;
    st.counters = &cs;
    st.previous_run = evil;
    report_statistics_yaml(&c, &st, &k, &yaml);
    clean_lines(yaml.buf);
    assert_non_null(strstr(yaml.buf, "previous_run: \"Trip\\n2024"));
    report_summary(&c, &st, &k, &out);
    clean_lines(out.buf);
    buf_reset(&out);
    plan_print_summary(&p, &out, 5);
    clean_lines(out.buf);
    assert_non_null(strstr(out.buf, "Trip\\n2024"));

    outcome_release(&o);
    plan_release(&p);
    model_release(&m);
    buf_release(&txt);
    buf_release(&jsonl);
    buf_release(&yaml);
    buf_release(&out);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts the lines of b in place (the journal's order is the order the
 * groups settle in, not the plan's). */
static void sort_lines(struct buf *b)
{
    char **v = NULL, *p, *copy = xstrdup(b->buf);
    size_t nr = 0, alloc = 0, i;

    for (p = copy; *p;) {
        char *nl = strchr(p, '\n');

        ALLOC_GROW(v, nr + 1, alloc);
        v[nr++] = p;
        if (!nl)
            break;
        *nl = '\0';
        p = nl + 1;
    }
    qsort(v, nr, sizeof(*v), cmp_str);
    buf_reset(b);
    for (i = 0; i < nr; i++)
        buf_addf(b, "%s\n", v[i]);
    free(v);
    free(copy);
}

/*
 * The journal writes each group once it is settled, and at the end the
 * rest and the notes: the same events as report_modifications(), the
 * ones made so far already on disk while later writes are pending.
 */
static void test_report_journal_appends_settled_groups(void **state)
{
    char root[] = "/tmp/ia-report-XXXXXX";
    struct report_run run;
    struct report_journal j = REPORT_JOURNAL_INIT;
    struct model m;
    struct plan p;
    struct plan_group *g;
    struct outcome o;
    struct uuid a1 = uid(1), a2 = uid(2), alb = uid(50);
    struct buf err = BUF_INIT, back = BUF_INIT, path = BUF_INIT,
               want = BUF_INIT;
    size_t i, gt = 0, ga = 0;

    (void)state;
    assert_non_null(mkdtemp(root));
    assert_int_equal(report_run_create(&run, root, NOW, &err), 0);
    assert_int_equal(report_journal_open(&j, &run, &err), 0);
    buf_addf(&path, "%s/" REPORT_FILE_MODIFICATIONS_JSONL, run.dir);
    small_model(&m);
    plan_init(&p);
    g = plan_group(&p, PLAN_ALBUM_ADD, "2024-Trip", &alb);
    plan_add(g, &a1, PLAN_R_CONVERSION, 2);
    plan_add(g, &a2, PLAN_R_CONVERSION, 2);
    g = plan_group(&p, PLAN_TAG_ADD, "autotag_output_unknown", NULL);
    plan_add(g, &a1, PLAN_R_CONVERSION, 2);
    {
        struct plan_fields f = PLAN_FIELDS_INIT;

        plan_fields_list(&f, "tags", "a");
        plan_fields_list(&f, "tags", "b");
        plan_note(&p, PLAN_NOTE_CLASSIFICATION_CONFLICT, &a2, NULL, &f);
    }
    plan_finish(&p);
    outcome_init(&o, &p);
    for (i = 0; i < p.nr; i++) {
        if (p.groups[i].op == PLAN_TAG_ADD)
            gt = i;
        else
            ga = i;
    }

    struct report_ctx c = {&p, &m, &o, URL, NULL, NOW};
    /* Nothing settled: nothing written. */
    assert_int_equal(report_journal_flush(&j, &c, false, &err), 0);
    assert_int_equal(fs_read_file(path.buf, 1 << 20, &back, &err), 0);
    assert_string_equal(back.buf, "");
    /* The album's items done, the tag created but its item pending. */
    o.groups[ga].status[0] = o.groups[ga].status[1] = OUTCOME_DONE;
    o.groups[gt].action = OUTCOME_DONE;
    assert_int_equal(report_journal_flush(&j, &c, false, &err), 0);
    assert_int_equal(report_journal_flush(&j, &c, false, &err), 0);
    assert_int_equal(fs_read_file(path.buf, 1 << 20, &back, &err), 0);
    assert_non_null(strstr(back.buf, "ASSIGN_ASSET_TO_ALBUM"));
    assert_null(strstr(back.buf, "ADD_TAG_TO_ASSET"));
    assert_null(strstr(back.buf, "CLASSIFICATION_CONFLICT"));
    /* The tag's item done; the end adds it and the note, once each. */
    o.groups[gt].status[0] = OUTCOME_DONE;
    assert_int_equal(report_journal_flush(&j, &c, true, &err), 0);
    buf_reset(&back);
    assert_int_equal(fs_read_file(path.buf, 1 << 20, &back, &err), 0);
    report_modifications(&c, NULL, &want, NULL);
    assert_int_equal(back.len, want.len);
    sort_lines(&back);
    sort_lines(&want);
    assert_string_equal(back.buf, want.buf);
    report_journal_close(&j);
    report_journal_close(&j);

    outcome_release(&o);
    plan_release(&p);
    model_release(&m);
    report_run_release(&run);
    remove_root(root);
    buf_release(&path);
    buf_release(&err);
    buf_release(&back);
    buf_release(&want);
}

/*
 * Without room for the reports a run must not start writing; a probe
 * file is created and removed, the free space compared with the plan.
 */
static void test_report_check_room_counts_the_plan(void **state)
{
    char root[] = "/tmp/ia-report-XXXXXX";
    struct report_run run;
    struct plan p;
    struct plan_group *g;
    struct uuid a = uid(1);
    struct buf err = BUF_INIT, cmd = BUF_INIT;
    struct statvfs vfs;
    uint64_t avail, k;

    (void)state;
    assert_non_null(mkdtemp(root));
    assert_int_equal(report_run_create(&run, root, NOW, &err), 0);
    plan_init(&p);
    g = plan_group(&p, PLAN_TAG_ADD, "t", NULL);
    plan_add(g, &a, PLAN_R_CONVERSION, 1);
    plan_finish(&p);
    assert_int_equal(report_run_check_room(&run, &p, &err), 0);
    assert_string_equal(err.buf, "");
    /* A plan whose reports could not fit in what is free. */
    assert_int_equal(statvfs(run.dir, &vfs), 0);
    avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
    for (k = 0; k <= avail / REPORT_ROOM_PER_ITEM / 1000; k++)
        p.notes_nr += 1000; /* counted, never read */
    assert_int_equal(report_run_check_room(&run, &p, &err), -1);
    assert_non_null(strstr(err.buf, "not enough room in '"));
    p.notes_nr = 0;
    plan_release(&p);
    report_run_release(&run);
    buf_addf(&cmd, "rm -rf '%s'", root);
    assert_int_equal(system(cmd.buf), 0);
    buf_release(&cmd);
    buf_release(&err);
}

/*
 * The counters the report writes are the counters the state DB reads back:
 * every counter of a run, its key stored as a string of its own (as the
 * state DB hands it back), comes back under the same key with the same
 * value, and a key that is no counter is refused.
 */
static void test_report_counters_round_trip_through_state_keys(void **state)
{
    struct plan p;
    struct outcome o;
    struct report_counters cur, back;
    char *keys[REPORT_COUNTERS_MAX];
    int64_t v;
    size_t i, k;

    (void)state;
    two_unknown_one_failed(&p, &o);
    p.stats.assets_seen = 7;
    p.stats.unclassified = 2;
    o.requests = 3;
    o.requests_failed = 1;
    outcome_tally(&o, &p);
    struct report_ctx c = {&p, NULL, &o, URL, NULL, NOW};
    report_counters(&c, &cur);
    for (i = 0; i < cur.nr; i++)
        assert_non_null(cur.c[i].key); /* every counter has a name */

    /* Values the run gave, read by name. */
    assert_true(report_counter_get(&cur, "assets_seen", &v));
    assert_int_equal(v, 7);
    assert_true(report_counter_get(&cur, "tags_added", &v));
    assert_int_equal(v, 1);
    assert_true(report_counter_get(&cur, "write_requests_failed", &v));
    assert_int_equal(v, 1);

    memset(&back, 0, sizeof(back));
    for (i = 0; i < cur.nr; i++) {
        keys[i] = xstrdup(cur.c[i].key);
        assert_true(report_counter_set(&back, keys[i], cur.c[i].value));
    }
    for (i = 0; i < cur.nr; i++)
        free(keys[i]);
    assert_int_equal(back.nr, cur.nr);
    for (i = 0; i < cur.nr; i++) {
        assert_string_equal(back.c[i].key, cur.c[i].key);
        assert_int_equal(back.c[i].value, cur.c[i].value);
        for (k = 0; k < i; k++)
            assert_string_not_equal(cur.c[k].key, cur.c[i].key);
    }
    assert_false(report_counter_set(&back, "no_such_counter", 1));
    assert_int_equal(back.nr, cur.nr);

    outcome_release(&o);
    plan_release(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_iso_local_prints_python_isoformat),
        cmocka_unit_test(test_report_tag_lines_follow_upstream_format),
        cmocka_unit_test(test_report_album_lines_and_warnings),
        cmocka_unit_test(test_report_note_detail_becomes_python_dict),
        cmocka_unit_test(test_report_pending_items_only_in_dry_run),
        cmocka_unit_test(test_report_statistics_yaml_has_upstream_keys),
        cmocka_unit_test(test_report_counters_round_trip_through_state_keys),
        cmocka_unit_test(test_report_links_markdown_matches_upstream),
        cmocka_unit_test(test_report_write_masks_secrets),
        cmocka_unit_test(test_report_modifications_written_in_pieces),
        cmocka_unit_test(test_report_statistics_written_in_pieces),
        cmocka_unit_test(test_report_statistics_one_entry_per_name),
        cmocka_unit_test(test_report_files_are_private_and_never_follow_links),
        cmocka_unit_test(test_report_names_cannot_forge_lines),
        cmocka_unit_test(test_report_journal_appends_settled_groups),
        cmocka_unit_test(test_report_check_room_counts_the_plan),
    };

    /* Local time is part of the formats under test. */
    setenv("TZ", "UTC", 1);
    tzset();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
