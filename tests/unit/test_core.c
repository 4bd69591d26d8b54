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
#include "core/fsutil.h"
#include "core/timeutil.h"
#include "core/tzif.h"

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
    struct uuid u, v;
    char out[UUID_STR_LEN + 1];

    (void)state;
    assert_int_equal(uuid_parse(s, strlen(s), &u), 0);
    uuid_format(&u, out);
    assert_string_equal(out, s);
    assert_int_equal(uuid_parse("5f0c3e4a9b1d", 12, &u), -1);
    assert_int_equal(uuid_parse("5f0c3e4a-9b1d-4c2e-8f3a-0123456789ag", 36, &u),
                     -1);
    /* upper case is the same id; any other byte anywhere, or a dash
     * missing or moved, is not an id */
    assert_int_equal(uuid_parse("5F0C3E4A-9B1D-4C2E-8F3A-0123456789AB", 36, &v),
                     0);
    assert_true(uuid_eq(&u, &v));
    {
        static const char *const bad[] = {
            "gf0c3e4a-9b1d-4c2e-8f3a-0123456789ab", /* high digit */
            "5f0c3e4a-9b1d-4c2e-8f3a-012345678 ab", /* low digit */
            "5f0c3e4a-9b1d-4c2e-8f3a-0123456789\xff"
            "b",
            "5f0c3e4a-9b1d-4c2e-8f3a-0123456789:b",
            "5f0c3e4a-9b1d-4c2e-8f3a-0123456789/b",
            "5f0c3e4a-9b1d-4c2e-8f3a-0123456789@b",
            "5f0c3e4a-9b1d-4c2e-8f3a-0123456789`b",
            "5f0c3e4a09b1d-4c2e-8f3a-0123456789ab",
            "5f0c3e4a-9b1d-4c2e-8f3-a0123456789ab",
        };

        for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
            assert_int_equal(uuid_parse(bad[i], 36, &v), -1);
    }
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
    assert_int_equal(time_parse_iso("2024-06-15T13:14:02.251Z", 24, &t, &zone),
                     0);
    assert_true(zone);
    time_format_iso(t, out);
    assert_string_equal(out, "2024-06-15T13:14:02.251Z");
    assert_int_equal(time_parse_iso("2024-06-15T15:14:02+02:00", 25, &t, &zone),
                     0);
    time_format_iso(t, out);
    assert_string_equal(out, "2024-06-15T13:14:02.000Z");
    assert_int_equal(time_parse_iso("2024-02-30", 10, &t, &zone), -1);
    assert_int_equal(time_parse_iso("1969-12-31", 10, &t, &zone), 0);
    assert_false(zone);
    assert_int_equal(time_days(t), -1);
}

/* The UTC instant of wall-clock time c in z, as ISO text. */
static const char *utc_of(const struct tzif *z, struct civil c)
{
    static char out[32];

    time_format_iso(tzif_local_to_utc(z, &c), out);
    return out;
}

/*
 * Zones as data (tzdata is a dependency: scripts/setup.sh): DST both
 * ways, the spring gap and the autumn overlap, instants after the file's
 * last transition (its footer rule), a southern-hemisphere rule that
 * spans the new year, bad names and bad files; TZ is never touched.
 */
static void test_tzif_answers_without_touching_tz(void **state)
{
    struct tzif madrid = TZIF_INIT, sydney = TZIF_INIT, ny = TZIF_INIT,
                bad = TZIF_INIT;
    struct buf err = BUF_INIT, data = BUF_INIT;
    static const struct {
        bool sydney; /* else Madrid */
        struct civil c;
        const char *utc;
    } cases[] = {
        {false, {2024, 7, 1, 12, 0, 0, 0}, "2024-07-01T10:00:00.000Z"},
        {false, {2024, 1, 1, 12, 0, 0, 0}, "2024-01-01T11:00:00.000Z"},
        /* 02:30 on 2024-03-31 does not exist: moved forward */
        {false, {2024, 3, 31, 2, 30, 0, 0}, "2024-03-31T01:30:00.000Z"},
        /* 02:30 on 2024-10-27 happens twice: the first, summer, one */
        {false, {2024, 10, 27, 2, 30, 0, 0}, "2024-10-27T00:30:00.000Z"},
        /* 2040 is past the file's table: its footer rule */
        {false, {2040, 7, 1, 12, 0, 0, 0}, "2040-07-01T10:00:00.000Z"},
        {false, {2040, 12, 1, 12, 0, 0, 0}, "2040-12-01T11:00:00.000Z"},
        /* the last Sunday of March 2040: 02:30 does not exist */
        {false, {2040, 3, 25, 2, 30, 0, 0}, "2040-03-25T01:30:00.000Z"},
        /* southern summer spans the new year (AEDT +11, AEST +10) */
        {true, {2045, 1, 15, 12, 0, 0, 0}, "2045-01-15T01:00:00.000Z"},
        {true, {2045, 7, 15, 12, 0, 0, 0}, "2045-07-15T02:00:00.000Z"},
        {true, {2024, 12, 25, 12, 0, 0, 0}, "2024-12-25T01:00:00.000Z"},
    };
    struct civil july = {2024, 7, 1, 12, 0, 0, 0};
    size_t i;

    (void)state;
    assert_int_equal(setenv("TZ", "Asia/Tokyo", 1), 0);
    assert_int_equal(tzif_load(&madrid, "Europe/Madrid", &err), 0);
    assert_int_equal(tzif_load(&sydney, "Australia/Sydney", &err), 0);
    assert_int_equal(tzif_load(&ny, "America/New_York", &err), 0);
    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        const struct tzif *z = cases[i].sydney ? &sydney : &madrid;

        if (strcmp(utc_of(z, cases[i].c), cases[i].utc))
            fail_msg("case %zu: %s, want %s", i, utc_of(z, cases[i].c),
                     cases[i].utc);
    }
    assert_int_equal(tzif_offset_at(&madrid, 1729990800000LL), 3600);
    assert_int_equal(tzif_offset_at(&madrid, 1729990799000LL), 7200);
    /* 2040 is past the table: the footer "CET-1CEST,M3.5.0,M10.5.0/3" */
    assert_true(madrid.nr > 0 && madrid.at[madrid.nr - 1] < 2208988800LL);
    assert_int_equal(tzif_offset_at(&ny, civil_to_time(&july)), -4 * 3600);
    /* before the first transition: local mean time of the file's type 0 */
    assert_int_equal(tzif_offset_at(&madrid, -4102444800000LL), -884);

    assert_int_equal(tzif_load(&bad, "Mars/Olympus", &err), -1);
    assert_non_null(strstr(err.buf, "Mars/Olympus"));
    assert_int_equal(tzif_load(&bad, "Europe", &err), -1);
    assert_int_equal(tzif_load(&bad, "../../etc/passwd", &err), -1);
    assert_int_equal(
        tzif_parse(&bad, "x", (const unsigned char *)"TZif2", 5, &err), -1);
    /* a real file cut short is refused, not read past its end */
    assert_int_equal(
        fs_read_file("/usr/share/zoneinfo/Europe/Madrid", 1 << 20, &data, &err),
        0);
    assert_int_equal(tzif_parse(&bad, "cut", (const unsigned char *)data.buf,
                                data.len / 2, &err),
                     -1);
    assert_int_equal(tzif_parse(&bad, "whole", (const unsigned char *)data.buf,
                                data.len, &err),
                     0);
    assert_int_equal(bad.nr, madrid.nr);
    assert_true(bad.has_dst);
    tzif_release(&bad);
    assert_int_equal(tzif_load(&bad, "UTC", &err), 0);
    assert_int_equal(tzif_offset_at(&bad, 1729990800000LL), 0);

    assert_string_equal(getenv("TZ"), "Asia/Tokyo");
    assert_int_equal(unsetenv("TZ"), 0);
    tzif_release(&madrid);
    tzif_release(&sydney);
    tzif_release(&ny);
    tzif_release(&bad);
    buf_release(&err);
    buf_release(&data);
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

/* Several secrets, each masked wherever it occurs, the earliest first;
 * where two start at one place the one registered first wins. */
static void test_log_redact_several_secrets(void **state)
{
    struct buf b = BUF_INIT;

    (void)state;
    log_add_secret("tokenAB");
    log_add_secret("key-1234");
    log_add_secret("tokenABCD");
    log_redact(&b, "key-1234 tokenABCD|key-1234key-1234 tokenAB");
    assert_string_equal(b.buf, "*** ***CD|****** ***");
    buf_reset(&b);
    log_redact(&b, "");
    assert_int_equal(b.len, 0);
    buf_release(&b);
    log_release();
}

static void test_escape_text_cases(void **state)
{
    static const struct {
        const char *in, *also, *want;
    } cases[] = {
        {"plain name", NULL, "plain name"},
        {"a\nb\r\tc", NULL, "a\\nb\\r\\tc"},
        {"\x1b[2J\x07\x7f", NULL, "\\x1b[2J\\x07\\x7f"},
        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xb7", NULL,
         "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xb7"},
        {"\xc2\x9b"
         "31m",
         NULL, "\\u009b31m"},                      /* C1 CSI */
        {"x\x9by", NULL, "x\\x9by"},               /* lone byte */
        {"\xc0\xaf", NULL, "\\xc0\\xaf"},          /* overlong */
        {"\xed\xa0\x80", NULL, "\\xed\\xa0\\x80"}, /* surrogate */
        {"\xe2\x82", NULL, "\\xe2\\x82"},          /* truncated */
        {"say \"hi\" \\o/", "\"\\", "say \\\"hi\\\" \\\\o/"},
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
        struct rlimit all = {RLIM_INFINITY, RLIM_INFINITY}, now;
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
        cmocka_unit_test(test_tzif_answers_without_touching_tz),
        cmocka_unit_test(test_log_redact_masks_secrets),
        cmocka_unit_test(test_log_redact_several_secrets),
        cmocka_unit_test(test_escape_text_cases),
        cmocka_unit_test(test_log_line_escapes_controls),
        cmocka_unit_test(test_secure_process_forbids_core_dumps),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
