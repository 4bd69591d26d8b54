/*
 * lower_driver.c: ws_lower() (src/rules/rules_ws.c) for
 * tests/pyre/lower_diff.py, which compares it with Python's str.lower().
 *
 * stdin: a JSON array of strings; stdout: a JSON array of their
 * lowercase forms, in the same order.
 */
#include "rules/rules_int.h"

#include <jansson.h>

int main(void)
{
    json_error_t jerr;
    json_t *in = json_loadf(stdin, JSON_ALLOW_NUL, &jerr), *out, *s;
    struct buf b = BUF_INIT;
    size_t i;

    if (!in || !json_is_array(in)) {
        fprintf(stderr, "lower_driver: bad input: %s\n", jerr.text);
        return 2;
    }
    out = json_array();
    json_array_foreach(in, i, s)
    {
        buf_reset(&b);
        ws_lower(json_string_value(s), json_string_length(s), &b);
        json_array_append_new(out, json_stringn(b.buf, b.len));
    }
    json_dumpf(out, stdout, JSON_COMPACT);
    putchar('\n');
    json_decref(in);
    json_decref(out);
    buf_release(&b);
    return 0;
}
