/*
 * api_json.c: the strict field readers.  A response field the contract
 * requires is either there with the right type or the call fails with a
 * message saying which field of which endpoint, e.g.
 * "POST /search/metadata: assets.items[3].id: expected a UUID string".
 * The message is built only on failure, so reading a million assets costs
 * no formatting.
 */
#include "api/api_internal.h"

int jd_fail(struct jdec *d, const char *where, long idx, const char *key,
            const char *what)
{
    buf_reset(d->err);
    buf_addf(d->err, "%s: ", d->endpoint);
    if (where && *where)
        buf_addstr(d->err, where);
    if (idx >= 0)
        buf_addf(d->err, "[%ld]", idx);
    if (key)
        buf_addf(d->err, "%s%s", (where && *where) || idx >= 0 ? "." : "", key);
    if (!(where && *where) && idx < 0 && !key)
        buf_addstr(d->err, "response");
    buf_addf(d->err, ": expected %s", what);
    return -1;
}

/* obj[key], or obj itself when key is NULL; NULL when absent. */
static json_t *member(json_t *obj, const char *key)
{
    if (!key)
        return obj;
    return json_is_object(obj) ? json_object_get(obj, key) : NULL;
}

/* obj[key] when it is of JSON type `type`; otherwise a failure naming `what`.
 */
static int jd_typed(struct jdec *d, json_t *obj, const char *where, long idx,
                    const char *key, json_type type, const char *what,
                    json_t **out)
{
    json_t *v = member(obj, key);

    if (!v || json_typeof(v) != type)
        return jd_fail(d, where, idx, key, what);
    *out = v;
    return 0;
}

int jd_obj(struct jdec *d, json_t *obj, const char *where, long idx,
           const char *key, json_t **out)
{
    return jd_typed(d, obj, where, idx, key, JSON_OBJECT, "an object", out);
}

int jd_arr(struct jdec *d, json_t *obj, const char *where, long idx,
           const char *key, json_t **out)
{
    return jd_typed(d, obj, where, idx, key, JSON_ARRAY, "an array", out);
}

int jd_uuid(struct jdec *d, json_t *obj, const char *where, long idx,
            const char *key, struct uuid *out)
{
    json_t *v = member(obj, key);

    if (!json_is_string(v) ||
        uuid_parse(json_string_value(v), json_string_length(v), out) < 0)
        return jd_fail(d, where, idx, key, "a UUID string");
    return 0;
}

int jd_uuid_opt(struct jdec *d, json_t *obj, const char *where, long idx,
                const char *key, struct uuid *out, bool *has)
{
    json_t *v = member(obj, key);

    *has = false;
    if (!v || json_is_null(v))
        return 0;
    if (jd_uuid(d, obj, where, idx, key, out) < 0)
        return -1;
    *has = true;
    return 0;
}

int jd_str(struct jdec *d, json_t *obj, const char *where, long idx,
           const char *key, const char **out, size_t *len)
{
    json_t *v = member(obj, key);

    if (!json_is_string(v))
        return jd_fail(d, where, idx, key, "a string");
    *out = json_string_value(v);
    if (len)
        *len = json_string_length(v);
    return 0;
}

int jd_bool(struct jdec *d, json_t *obj, const char *where, long idx,
            const char *key, bool *out)
{
    json_t *v = member(obj, key);

    if (!json_is_boolean(v))
        return jd_fail(d, where, idx, key, "a boolean");
    *out = json_is_true(v);
    return 0;
}

int jd_bool_opt(struct jdec *d, json_t *obj, const char *where, long idx,
                const char *key, bool *out)
{
    json_t *v = member(obj, key);

    if (!v || json_is_null(v)) {
        *out = false;
        return 0;
    }
    return jd_bool(d, obj, where, idx, key, out);
}

int jd_long(struct jdec *d, json_t *obj, const char *where, long idx,
            const char *key, long *out)
{
    json_t *v = member(obj, key);
    json_int_t n;

    if (!json_is_integer(v))
        return jd_fail(d, where, idx, key, "an integer");
    n = json_integer_value(v);
    if (n < 0 || n > 0x7fffffffL)
        return jd_fail(d, where, idx, key, "an integer in range");
    *out = (long)n;
    return 0;
}

int jd_time(struct jdec *d, json_t *obj, const char *where, long idx,
            const char *key, int64_t *out)
{
    json_t *v = member(obj, key);

    if (!json_is_string(v) ||
        time_parse_iso(json_string_value(v), json_string_length(v), out, NULL) <
            0)
        return jd_fail(d, where, idx, key, "an ISO-8601 date string");
    return 0;
}

int jd_time_opt(struct jdec *d, json_t *obj, const char *where, long idx,
                const char *key, int64_t *out)
{
    json_t *v = member(obj, key);

    *out = TIME_NONE;
    if (!v || json_is_null(v))
        return 0;
    return jd_time(d, obj, where, idx, key, out);
}

void api_add_uuid_array(struct buf *b, const struct uuid *ids, size_t nr)
{
    buf_grow(b, nr * (UUID_STR_LEN + 3) + 2);
    buf_addch(b, '[');
    for (size_t i = 0; i < nr; i++) {
        if (i)
            buf_addch(b, ',');
        buf_add_json_uuid(b, &ids[i]);
    }
    buf_addch(b, ']');
}

int jd_root_array(struct jdec *d, json_t *root)
{
    if (json_is_array(root))
        return 0;
    return jd_fail(d, "", -1, NULL, "an array");
}
