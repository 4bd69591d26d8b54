/*
 * pyre_driver.c: runs Python-syntax patterns through pyre_compile() and
 * PCRE2 for tests/pyre/pyre_diff.py, which runs the same cases through
 * Python's re and compares.
 *
 * stdin: a JSON array of cases {"p": pattern, "i": bool (re.IGNORECASE),
 * "m": bool (re.match, else re.search), "s": [subject, ...]}.
 * stdout: a JSON array, per case {"err": message} or {"r": [result per
 * subject]}, a result being null (no match) or the spans of the match and
 * of each group, [start, end, start1, end1, ...] in code points, -1 for a
 * group that did not take part.
 */
#include "config/pyre.h"

#include <jansson.h>

/* Code points before byte offset off of s. */
static json_int_t cp_index(const char *s, size_t off)
{
    json_int_t n = 0;
    size_t i;

    for (i = 0; i < off; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            n++;
    return n;
}

static json_t *run_one(pcre2_code *code, bool anchored, const char *s,
                       size_t len, pcre2_match_data *md)
{
    PCRE2_SIZE *ov;
    json_t *spans;
    uint32_t i, groups = 0;
    int rc;

    rc = pcre2_match(code, (PCRE2_SPTR)s, len, 0, anchored ? PCRE2_ANCHORED : 0,
                     md, NULL);
    if (rc == PCRE2_ERROR_NOMATCH)
        return json_null();
    if (rc < 0)
        return json_string("match error");
    (void)pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &groups);
    ov = pcre2_get_ovector_pointer(md);
    spans = json_array();
    for (i = 0; i <= groups; i++) {
        bool set = i < (uint32_t)rc && ov[2 * i] != PCRE2_UNSET;

        json_array_append_new(spans,
                              json_integer(set ? cp_index(s, ov[2 * i]) : -1));
        json_array_append_new(
            spans, json_integer(set ? cp_index(s, ov[2 * i + 1]) : -1));
    }
    return spans;
}

int main(void)
{
    json_error_t jerr;
    json_t *in = json_loadf(stdin, JSON_ALLOW_NUL, &jerr), *out, *c;
    pcre2_match_data *md = pcre2_match_data_create(200, NULL);
    size_t i, j;

    if (!in || !json_is_array(in) || !md) {
        fprintf(stderr, "pyre_driver: bad input: %s\n", jerr.text);
        return 2;
    }
    out = json_array();
    json_array_foreach(in, i, c)
    {
        struct buf err = BUF_INIT;
        const char *p = json_string_value(json_object_get(c, "p"));
        bool ic = json_is_true(json_object_get(c, "i"));
        bool anchored = json_is_true(json_object_get(c, "m"));
        json_t *subjects = json_object_get(c, "s"), *s, *res, *r;
        pcre2_code *code;

        code = pyre_compile(p ? p : "", ic ? PYRE_IGNORECASE : 0, &err);
        res = json_object();
        if (!code) {
            json_object_set_new(res, "err", json_string(err.buf));
        } else {
            r = json_array();
            json_array_foreach(subjects, j, s) json_array_append_new(
                r, run_one(code, anchored, json_string_value(s),
                           json_string_length(s), md));
            json_object_set_new(res, "r", r);
        }
        json_array_append_new(out, res);
        pcre2_code_free(code);
        buf_release(&err);
    }
    json_dumpf(out, stdout, JSON_COMPACT);
    putchar('\n');
    json_decref(in);
    json_decref(out);
    pcre2_match_data_free(md);
    return 0;
}
