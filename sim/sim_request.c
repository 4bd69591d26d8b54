/*
 * sim_request.c: what handlers share: query parameters, the two dialects'
 * error bodies, UUID rules and the body validator that rejects unknown
 * fields the way Immich's DTO validation does (class-validator messages
 * in 2.x, Zod issues in 3.x).
 */
#include "core/timeutil.h"
#include "sim/sim_json.h"
#include "sim/sim_server.h"

#include <microhttpd.h>
#include <stdarg.h>
#include <time.h>

const char *sim_query(const struct sim_req *r, const char *name)
{
    if (!r->conn)
        return NULL;
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

int sim_query_bool(const struct sim_req *r, const char *name)
{
    const char *v = sim_query(r, name);

    if (!v)
        return -1;
    return !strcmp(v, "true") || !strcmp(v, "1");
}

int64_t sim_now(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *status_text(int status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 413:
        return "Payload Too Large";
    case 429:
        return "Too Many Requests";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "Internal Server Error";
    }
}

static void error_tail(struct sim_req *r, int status)
{
    if (r->dialect < 3)
        buf_addf(&r->out,
                 ",\"error\":\"%s\",\"statusCode\":%d,"
                 "\"correlationId\":\"%s\"}",
                 status_text(status), status, r->correlation);
    else
        buf_addch(&r->out, '}');
}

void sim_error(struct sim_req *r, int status, const char *fmt, ...)
{
    struct buf msg = BUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    buf_vaddf(&msg, fmt, ap);
    va_end(ap);
    buf_reset(&r->out);
    r->status = status;
    buf_addstr(&r->out, "{\"message\":");
    buf_add_json_str(&r->out, msg.buf, msg.len);
    error_tail(r, status);
    buf_release(&msg);
}

void sim_error_validation(struct sim_req *r, const char *msg2,
                          const char *issue3)
{
    buf_reset(&r->out);
    r->status = 400;
    if (r->dialect < 3) {
        buf_addstr(&r->out, "{\"message\":[");
        buf_add_json_str(&r->out, msg2, strlen(msg2));
        buf_addch(&r->out, ']');
    } else {
        buf_addf(&r->out, "{\"message\":\"Validation failed\",\"errors\":[%s]",
                 issue3);
    }
    error_tail(r, 400);
}

bool sim_uuid_ok(const struct sim_req *r, const char *s, struct uuid *out)
{
    if (!s || uuid_parse(s, strlen(s), out) < 0)
        return false;
    /* Zod uuidv4(): version nibble 4 and RFC 4122 variant */
    if (r->dialect >= 3 &&
        ((out->b[6] >> 4) != 4 || (out->b[8] & 0xc0) != 0x80))
        return false;
    return true;
}

/* The 400 of a parameter name that is no UUID (a path parameter's issue
 * also names the format). */
static int not_a_uuid(struct sim_req *r, const char *name, bool path)
{
    struct buf m2 = BUF_INIT, m3 = BUF_INIT;

    buf_addf(&m2, "%s must be a UUID", name);
    buf_addf(&m3,
             "{\"code\":\"invalid_format\",%s\"path\":[\"%s\"],"
             "\"message\":\"Invalid UUID\"}",
             path ? "\"format\":\"uuid\"," : "", name);
    sim_error_validation(r, m2.buf, m3.buf);
    buf_release(&m2);
    buf_release(&m3);
    return -1;
}

int sim_param_uuid(struct sim_req *r, int i, const char *name, struct uuid *out)
{
    if (sim_uuid_ok(r, r->params[i], out))
        return 0;
    return not_a_uuid(r, name, true);
}

int sim_query_uuid(struct sim_req *r, const char *name, struct uuid *out)
{
    const char *s = sim_query(r, name);

    if (!s)
        return 0;
    if (sim_uuid_ok(r, s, out))
        return 1;
    return not_a_uuid(r, name, false);
}

int sim_need_body(struct sim_req *r)
{
    if (json_is_object(r->body))
        return 0;
    sim_error_validation(r, "body must be an object",
                         "{\"code\":\"invalid_type\",\"expected\":\"object\","
                         "\"path\":[],\"message\":\"Invalid input: expected "
                         "object\"}");
    return -1;
}

int sim_body_fields(struct sim_req *r, const struct sim_field *fields,
                    size_t nr)
{
    if (sim_need_body(r) < 0)
        return -1;
    return sim_validate(r, r->body, fields, nr);
}

size_t sim_uuid_list(json_t *arr, struct uuid **out)
{
    size_t i, n = json_array_size(arr);
    json_t *v;

    *out = xcalloc(n + 1, sizeof(**out));
    json_array_foreach(arr, i, v)
    {
        const char *s = json_string_value(v);

        if (s)
            (void)uuid_parse(s, strlen(s), &(*out)[i]);
    }
    return n;
}

int sim_body_bulk_links(struct sim_req *r, const char *targets_key,
                        struct uuid **targets, size_t *targets_nr,
                        struct uuid **assets, size_t *assets_nr)
{
    const struct sim_field fields[] = {
        {targets_key, FT_UUIDS, true, 0, 0, NULL},
        {"assetIds", FT_UUIDS, true, 0, 0, NULL},
    };

    if (sim_body_fields(r, fields, ARRAY_SIZE(fields)) < 0)
        return -1;
    *targets_nr = sim_uuid_list(json_object_get(r->body, targets_key), targets);
    *assets_nr = sim_uuid_list(json_object_get(r->body, "assetIds"), assets);
    return 0;
}

void sim_bulk_ids(struct sim_req *r, sim_bulk_fn *fn, void *ctx)
{
    struct uuid *ids;
    size_t n = sim_uuid_list(json_object_get(r->body, "ids"), &ids);

    buf_addch(&r->out, '[');
    for (size_t i = 0; i < n; i++)
        sim_json_bulk(&r->out, i == 0, &ids[i],
                      fn(r, sim_find_asset(r->lib, &ids[i]), ctx));
    buf_addch(&r->out, ']');
    free(ids);
}

static const char *type_word2(enum sim_ftype t)
{
    switch (t) {
    case FT_BOOL:
        return "must be a boolean value";
    case FT_INT:
        return "must be an integer number";
    case FT_NUM:
        return "must be a number conforming to the specified constraints";
    case FT_DATE:
        return "must be a valid ISO 8601 date string";
    case FT_UUIDS:
    case FT_NUUIDS:
    case FT_STRS:
    case FT_ARR:
        return "must be an array";
    case FT_OBJ:
        return "must be an object";
    default:
        return "must be a string";
    }
}

static const char *type_word3(enum sim_ftype t)
{
    switch (t) {
    case FT_BOOL:
        return "boolean";
    case FT_INT:
    case FT_NUM:
        return "number";
    case FT_UUIDS:
    case FT_NUUIDS:
    case FT_STRS:
    case FT_ARR:
        return "array";
    case FT_OBJ:
        return "object";
    default:
        return "string";
    }
}

static int bad_type(struct sim_req *r, const struct sim_field *f, bool missing)
{
    struct buf m2 = BUF_INIT, m3 = BUF_INIT;

    buf_addf(&m2, "%s %s", f->name, type_word2(f->type));
    buf_addf(&m3,
             "{\"code\":\"invalid_type\",\"expected\":\"%s\","
             "\"path\":[\"%s\"],\"message\":\"Invalid input: expected "
             "%s, received %s\"}",
             type_word3(f->type), f->name, type_word3(f->type),
             missing ? "undefined" : "other");
    sim_error_validation(r, m2.buf, m3.buf);
    buf_release(&m2);
    buf_release(&m3);
    return -1;
}

static int bad_uuid(struct sim_req *r, const struct sim_field *f, size_t idx)
{
    struct buf m2 = BUF_INIT, m3 = BUF_INIT;

    if (f->type == FT_UUID) {
        buf_addf(&m2, "%s must be a UUID", f->name);
        buf_addf(&m3,
                 "{\"code\":\"invalid_format\",\"format\":\"uuid\","
                 "\"path\":[\"%s\"],\"message\":\"Invalid UUID\"}",
                 f->name);
    } else {
        buf_addf(&m2, "each value in %s must be a UUID", f->name);
        buf_addf(&m3,
                 "{\"code\":\"invalid_format\",\"format\":\"uuid\","
                 "\"path\":[\"%s\",%zu],\"message\":\"Invalid UUID\"}",
                 f->name, idx);
    }
    sim_error_validation(r, m2.buf, m3.buf);
    buf_release(&m2);
    buf_release(&m3);
    return -1;
}

static int check_int(struct sim_req *r, const struct sim_field *f, json_t *v)
{
    struct buf m2 = BUF_INIT, m3 = BUF_INIT;
    json_int_t n;
    bool small;
    long long bound;

    if (!json_is_integer(v))
        return bad_type(r, f, false);
    n = json_integer_value(v);
    if ((!f->min && !f->max) || (n >= f->min && n <= f->max))
        return 0;
    small = n < f->min;
    bound = (long long)(small ? f->min : f->max);
    buf_addf(&m2, "%s must not be %s than %lld", f->name,
             small ? "less" : "greater", bound);
    buf_addf(&m3,
             "{\"code\":\"too_%s\",\"%s\":%lld,\"path\":[\"%s\"],"
             "\"message\":\"Too %s: expected number to be %s%lld\"}",
             small ? "small" : "big", small ? "minimum" : "maximum", bound,
             f->name, small ? "small" : "big", small ? ">=" : "<=", bound);
    sim_error_validation(r, m2.buf, m3.buf);
    buf_release(&m2);
    buf_release(&m3);
    return -1;
}

static int check_enum(struct sim_req *r, const struct sim_field *f,
                      const char *s)
{
    struct buf m2 = BUF_INIT, m3 = BUF_INIT;
    size_t i;

    for (i = 0; f->values[i]; i++)
        if (!strcmp(f->values[i], s))
            return 0;
    buf_addf(&m2, "%s must be one of the following values: ", f->name);
    for (i = 0; f->values[i]; i++)
        buf_addf(&m2, "%s%s", i ? ", " : "", f->values[i]);
    buf_addf(&m3,
             "{\"code\":\"invalid_value\",\"path\":[\"%s\"],"
             "\"message\":\"Invalid option\"}",
             f->name);
    sim_error_validation(r, m2.buf, m3.buf);
    buf_release(&m2);
    buf_release(&m3);
    return -1;
}

/*
 * Checks one request field against its declared type (UUID, UUID list,
 * string, enum, integer in a range, boolean, date, object) and answers a
 * mismatch with the 400 body Immich's validation gives, so the client sees
 * the same error text as against a real server.
 */
static int check_field(struct sim_req *r, const struct sim_field *f, json_t *v)
{
    struct uuid u;
    size_t i;
    json_t *x;
    int64_t t;

    /* a nullable type takes null, else is checked as its plain type */
    if ((f->type == FT_NUUIDS || f->type == FT_NSTR) && json_is_null(v))
        return 0;
    switch (f->type) {
    case FT_UUID:
        if (!json_is_string(v))
            return bad_type(r, f, false);
        if (!sim_uuid_ok(r, json_string_value(v), &u))
            return bad_uuid(r, f, 0);
        return 0;
    case FT_NUUIDS:
    case FT_UUIDS:
        if (!json_is_array(v))
            return bad_type(r, f, false);
        json_array_foreach(v, i, x)
        {
            if (!sim_uuid_ok(r, json_string_value(x), &u))
                return bad_uuid(r, f, i);
        }
        return 0;
    case FT_NSTR:
    case FT_STR:
        if (!json_is_string(v))
            return bad_type(r, f, false);
        if (f->values)
            return check_enum(r, f, json_string_value(v));
        return 0;
    case FT_STRS:
        if (!json_is_array(v))
            return bad_type(r, f, false);
        json_array_foreach(v, i, x)
        {
            if (!json_is_string(x))
                return bad_type(r, f, false);
        }
        return 0;
    case FT_BOOL:
        return json_is_boolean(v) ? 0 : bad_type(r, f, false);
    case FT_INT:
        return check_int(r, f, v);
    case FT_NUM:
        return json_is_number(v) ? 0 : bad_type(r, f, false);
    case FT_DATE:
        if (!json_is_string(v) ||
            time_parse_iso(json_string_value(v), json_string_length(v), &t,
                           NULL) < 0)
            return bad_type(r, f, false);
        return 0;
    case FT_OBJ:
        return json_is_object(v) ? 0 : bad_type(r, f, false);
    case FT_ARR:
        return json_is_array(v) ? 0 : bad_type(r, f, false);
    case FT_ANY:
        return 0;
    }
    return 0;
}

int sim_validate(struct sim_req *r, json_t *obj, const struct sim_field *fields,
                 size_t nr)
{
    const char *key;
    json_t *v;
    size_t i;

    if (obj && !json_is_object(obj))
        return sim_need_body(r);
    json_object_foreach(obj, key, v)
    {
        for (i = 0; i < nr; i++)
            if (!strcmp(fields[i].name, key))
                break;
        if (i == nr) {
            struct buf m2 = BUF_INIT, m3 = BUF_INIT;

            buf_addf(&m2, "property %s should not exist", key);
            buf_addstr(&m3, "{\"code\":\"unrecognized_keys\",\"keys\":[");
            buf_add_json_str(&m3, key, strlen(key));
            buf_addstr(&m3, "],\"path\":[],\"message\":");
            {
                struct buf t = BUF_INIT;

                buf_addf(&t, "Unrecognized key: \"%s\"", key);
                buf_add_json_str(&m3, t.buf, t.len);
                buf_release(&t);
            }
            buf_addch(&m3, '}');
            sim_error_validation(r, m2.buf, m3.buf);
            buf_release(&m2);
            buf_release(&m3);
            return -1;
        }
        if (check_field(r, &fields[i], v) < 0)
            return -1;
    }
    for (i = 0; i < nr; i++)
        if (fields[i].required && !json_object_get(obj, fields[i].name))
            return bad_type(r, &fields[i], true);
    return 0;
}
