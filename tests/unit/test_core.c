/*
 * test_core.c: buf, strpool, maps, number and time parsing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/escape.h"
#include "core/secure.h"
#include "core/hashmap.h"
#include "core/log.h"
#include "core/numparse.h"
#include "core/strpool.h"
#include "core/timeutil.h"

static void test_buf_addf_grows_past_initial_alloc(void **state)
{
    struct buf b = BUF_INIT;
    int i;

    (void)state;
    assert_string_equal(b.buf, "");
    for (i = 0; i < 1000; i++)
        buf_addf(&b, "%d,", i);
    assert_int_equal(b.len, strlen(b.buf));
    assert_memory_equal(b.buf, "0,1,2,", 6);
    buf_release(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.buf, "");
}

static void test_buf_add_limited_refuses_past_max(void **state)
{
    struct buf b = BUF_INIT;

    (void)state;
    buf_set_max(&b, 8);
    assert_int_equal(buf_add_limited(&b, "12345", 5), 0);
    assert_int_equal(buf_add_limited(&b, "6789", 4), -1);
    assert_string_equal(b.buf, "12345");
    buf_release(&b);
}

static void test_buf_json_string_escapes_controls(void **state)
{
    struct buf b = BUF_INIT;

    (void)state;
    buf_add_json_str(&b, "a\"b\\\n\x01", 6);
    assert_string_equal(b.buf, "\"a\\\"b\\\\\\n\\u0001\"");
    buf_release(&b);
}

static void test_strpool_interns_once(void **state)
{
    struct strpool p = STRPOOL_INIT;
    uint32_t a, b, c;
    int i;

    (void)state;
    a = strpool_intern_str(&p, "2019-07-14 Beach");
    b = strpool_intern(&p, "2019-07-14 Beach!!", 16);
    assert_int_equal(a, b);
    c = strpool_intern_str(&p, "family");
    assert_int_not_equal(a, c);
    assert_int_equal(strpool_intern_str(&p, ""), 0);
    for (i = 0; i < 5000; i++) {
        char tmp[32];

        snprintf(tmp, sizeof(tmp), "tag-%d", i);
        strpool_intern_str(&p, tmp);
    }
    assert_string_equal(strpool_str(&p, a), "2019-07-14 Beach");
    assert_int_equal(strpool_find(&p, "family", 6), c);
    assert_int_equal(strpool_find(&p, "nope", 4), STRPOOL_NONE);
    strpool_release(&p);
}

static void test_uuidmap_finds_every_key(void **state)
{
    struct uuidmap m = UUIDMAP_INIT;
    uint64_t seed = 42;
    struct uuid keys[2000];
    uint32_t i;

    (void)state;
    for (i = 0; i < 2000; i++) {
        uuid_v4_from_state(&seed, &keys[i]);
        assert_int_equal(uuidmap_put(&m, &keys[i], i), HASHMAP_NONE);
    }
    for (i = 0; i < 2000; i++)
        assert_int_equal(uuidmap_get(&m, &keys[i]), i);
    uuid_v4_from_state(&seed, &keys[0]);
    assert_int_equal(uuidmap_get(&m, &keys[0]), HASHMAP_NONE);
    uuidmap_release(&m);
}

static void test_uuid_parse_and_format_round_trip(void **state)
{
    const char *s = "5f0c3e4a-9b1d-4c2e-8f3a-0123456789ab";
    struct uuid u;
    char out[UUID_STR_LEN + 1];

    (void)state;
    assert_int_equal(uuid_parse(s, strlen(s), &u), 0);
    uuid_format(&u, out);
    assert_string_equal(out, s);
    assert_int_equal(uuid_parse("5f0c3e4a9b1d", 12, &u), -1);
    assert_int_equal(
        uuid_parse("5f0c3e4a-9b1d-4c2e-8f3a-0123456789ag", 36, &u), -1);
}

static void test_num_parse_checks_range_and_junk(void **state)
{
    int64_t v;

    (void)state;
    assert_int_equal(num_parse_i64("2283", 4, 1, 65535, &v), 0);
    assert_int_equal(v, 2283);
    assert_int_equal(num_parse_i64("-5", 2, -10, 10, &v), 0);
    assert_int_equal(v, -5);
    assert_int_equal(num_parse_i64("70000", 5, 1, 65535, &v), -1);
    assert_int_equal(num_parse_i64("12a", 3, 0, 100, &v), -1);
    assert_int_equal(num_parse_i64("", 0, 0, 100, &v), -1);
    assert_int_equal(
        num_parse_i64("99999999999999999999", 20, INT64_MIN, INT64_MAX, &v),
        -1);
}

static void test_time_parse_iso_with_and_without_zone(void **state)
{
    int64_t t;
    bool zone;
    char out[32];

    (void)state;
    assert_int_equal(
        time_parse_iso("2024-06-15T13:14:02.251Z", 24, &t, &zone), 0);
    assert_true(zone);
    time_format_iso(t, out);
    assert_string_equal(out, "2024-06-15T13:14:02.251Z");
    assert_int_equal(
        time_parse_iso("2024-06-15T15:14:02+02:00", 25, &t, &zone), 0);
    time_format_iso(t, out);
    assert_string_equal(out, "2024-06-15T13:14:02.000Z");
    assert_int_equal(time_parse_iso("2024-02-30", 10, &t, &zone), -1);
    assert_int_equal(time_parse_iso("1969-12-31", 10, &t, &zone), 0);
    assert_false(zone);
    assert_int_equal(time_days(t), -1);
}

static void test_tz_local_to_utc_handles_dst(void **state)
{
    struct civil summer = { 2024, 7, 1, 12, 0, 0, 0 };
    struct civil winter = { 2024, 1, 1, 12, 0, 0, 0 };
    struct civil gap = { 2024, 3, 31, 2, 30, 0, 0 };
    int64_t t;
    char out[32];

    (void)state;
    if (!tz_is_valid("Europe/Madrid"))
        skip();
    assert_int_equal(tz_local_to_utc("Europe/Madrid", &summer, &t), 0);
    time_format_iso(t, out);
    assert_string_equal(out, "2024-07-01T10:00:00.000Z");
    assert_int_equal(tz_local_to_utc("Europe/Madrid", &winter, &t), 0);
    time_format_iso(t, out);
    assert_string_equal(out, "2024-01-01T11:00:00.000Z");
    assert_int_equal(tz_local_to_utc("Europe/Madrid", &gap, &t), 0);
    time_format_iso(t, out);
    assert_string_equal(out, "2024-03-31T01:30:00.000Z");
    assert_false(tz_is_valid("Mars/Olympus"));
    assert_int_equal(tz_local_to_utc("Mars/Olympus", &gap, &t), -1);
    /* Zones may alternate; the user's TZ comes back on tz_restore(). */
    if (tz_is_valid("America/New_York")) {
        int off = 0;

        tz_restore();
        assert_int_equal(setenv("TZ", "Asia/Tokyo", 1), 0);
        assert_int_equal(tz_offset_at("America/New_York", t, &off), 0);
        assert_int_equal(off, -4 * 3600);
        assert_int_equal(tz_offset_at("Europe/Madrid", t, &off), 0);
        assert_int_equal(off, 2 * 3600);
        assert_string_equal(getenv("TZ"), "Europe/Madrid");
        tz_restore();
        assert_string_equal(getenv("TZ"), "Asia/Tokyo");
        assert_int_equal(unsetenv("TZ"), 0);
    }
}

static void test_log_redact_masks_secrets(void **state)
{
    struct buf b = BUF_INIT;

    (void)state;
    log_add_secret("s3cr3t-key");
    log_redact(&b, "GET with x-api-key: s3cr3t-key done");
    assert_string_equal(b.buf, "GET with x-api-key: *** done");
    buf_release(&b);
    log_release();
}

static void test_escape_text_cases(void **state)
{
    static const struct {
        const char *in, *also, *want;
    } cases[] = {
        { "plain name", NULL, "plain name" },
        { "a\nb\r\tc", NULL, "a\\nb\\r\\tc" },
        { "\x1b[2J\x07\x7f", NULL, "\\x1b[2J\\x07\\x7f" },
        { "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xb7", NULL,
          "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xb7" },
        { "\xc2\x9b" "31m", NULL, "\\u009b31m" },  /* C1 CSI */
        { "x\x9by", NULL, "x\\x9by" },              /* lone byte */
        { "\xc0\xaf", NULL, "\\xc0\\xaf" },        /* overlong */
        { "\xed\xa0\x80", NULL, "\\xed\\xa0\\x80" }, /* surrogate */
        { "\xe2\x82", NULL, "\\xe2\\x82" },        /* truncated */
        { "say \"hi\" \\o/", "\"\\", "say \\\"hi\\\" \\\\o/" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        struct buf b = BUF_INIT;

        escape_text(&b, cases[i].in, strlen(cases[i].in), cases[i].also);
        assert_string_equal(b.buf, cases[i].want);
        buf_release(&b);
    }
}

/* A log line carrying a server's name stays one line, with no escape
 * sequence for the terminal. */
static void test_log_line_escapes_controls(void **state)
{
    char text[256];
    size_t n;
    FILE *f = tmpfile();

    (void)state;
    assert_non_null(f);
    log_set_tee(f);
    info_log("album '%s' read", "Trip\n2024 | kind=DELETE_ALBUM\x1b[2J");
    log_set_tee(NULL);
    rewind(f);
    n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    assert_int_equal(fclose(f), 0);
    assert_string_equal(text, "album 'Trip\\n2024 | kind=DELETE_ALBUM"
                              "\\x1b[2J' read\n");
}

/* In a child whose core limit is unlimited: after secure_process() no
 * core can be written (soft and hard limit 0) and it is not dumpable. */
static void test_secure_process_forbids_core_dumps(void **state)
{
    pid_t pid;
    int status;

    (void)state;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit all = { RLIM_INFINITY, RLIM_INFINITY }, now;
        struct buf err = BUF_INIT;

        if (setrlimit(RLIMIT_CORE, &all) < 0 ||
            prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
            _exit(2);
        if (secure_process(&err) < 0 || getrlimit(RLIMIT_CORE, &now) < 0)
            _exit(3);
        if (now.rlim_cur != 0 || now.rlim_max != 0)
            _exit(4);
        if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
            _exit(5);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_addf_grows_past_initial_alloc),
        cmocka_unit_test(test_buf_add_limited_refuses_past_max),
        cmocka_unit_test(test_buf_json_string_escapes_controls),
        cmocka_unit_test(test_strpool_interns_once),
        cmocka_unit_test(test_uuidmap_finds_every_key),
        cmocka_unit_test(test_uuid_parse_and_format_round_trip),
        cmocka_unit_test(test_num_parse_checks_range_and_junk),
        cmocka_unit_test(test_time_parse_iso_with_and_without_zone),
        cmocka_unit_test(test_tz_local_to_utc_handles_dst),
        cmocka_unit_test(test_log_redact_masks_secrets),
        cmocka_unit_test(test_escape_text_cases),
        cmocka_unit_test(test_log_line_escapes_controls),
        cmocka_unit_test(test_secure_process_forbids_core_dumps),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
