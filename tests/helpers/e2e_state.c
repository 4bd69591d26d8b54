/*
 * e2e_state.c: reading immich-sim's /__sim/state in end-to-end tests.
 * See e2e_state.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "e2e_state.h"

json_t *es_parse(const char *text, size_t len)
{
    json_error_t jerr;
    json_t *v = json_loadb(text, len, 0, &jerr);

    if (!v)
        fail_msg("bad JSON: %s", jerr.text);
    return v;
}

json_t *es_get(const struct sim_proc *sim, const char *path)
{
    struct buf body = BUF_INIT;
    json_t *v;

    assert_int_equal(sim_request(sim, "GET", path, NULL, &body), 200);
    v = es_parse(body.buf, body.len);
    buf_release(&body);
    return v;
}

json_t *es_state(const struct sim_proc *sim)
{
    return es_get(sim, "/__sim/state");
}

const char *es_str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s ? s : "";
}

json_t *es_find(json_t *st, const char *list, const char *key,
                const char *value)
{
    json_t *x;
    size_t i;

    json_array_foreach(json_object_get(st, list), i,
                       x) if (!strcmp(es_str(x, key), value)) return x;
    return NULL;
}

const char *es_admin_id(json_t *st)
{
    json_t *u = es_find(st, "users", "email", "admin@example.com");

    assert_non_null(u);
    return es_str(u, "id");
}

const char *es_user_id(json_t *st, const char *email)
{
    json_t *u = es_find(st, "users", "email", email);

    assert_non_null(u);
    return es_str(u, "id");
}

/* Does the asset carry a tag whose value is `value`? */
bool es_has_tag(json_t *st, json_t *asset, const char *value)
{
    json_t *id, *tag;
    size_t i;

    json_array_foreach(json_object_get(asset, "tagIds"), i, id)
    {
        tag = es_find(st, "tags", "id", json_string_value(id));
        if (tag && !strcmp(es_str(tag, "value"), value))
            return true;
    }
    return false;
}

/* The asset's album names, in turn: the i-th or NULL past the end. */
const char *es_album_of(json_t *st, json_t *asset, size_t i)
{
    json_t *id = json_array_get(json_object_get(asset, "albumIds"), i);
    json_t *al;

    if (!id)
        return NULL;
    al = es_find(st, "albums", "id", json_string_value(id));
    assert_non_null(al);
    return es_str(al, "albumName");
}

bool es_in_album(json_t *st, json_t *asset, const char *name)
{
    const char *n;

    for (size_t i = 0; (n = es_album_of(st, asset, i)); i++)
        if (!strcmp(n, name))
            return true;
    return false;
}

/* How many assets carry tag `value` (by name: every owner's tag). */
long es_tag_count(json_t *st, const char *value)
{
    json_t *a;
    size_t i;
    long n = 0;

    json_array_foreach(json_object_get(st, "assets"), i, a) n +=
        es_has_tag(st, a, value);
    return n;
}

long es_album_size(json_t *st, const char *name)
{
    json_t *al = es_find(st, "albums", "albumName", name);

    return al ? (long)json_array_size(json_object_get(al, "assetIds")) : -1;
}

/* The album's users as a JSON object {email: role}, keys sorted. */
void es_album_users(json_t *st, const char *name, struct buf *out)
{
    json_t *al = es_find(st, "albums", "albumName", name), *u, *user;
    json_t *by_email = json_object();
    size_t i;
    char *s;

    buf_reset(out);
    assert_non_null(al);
    json_array_foreach(json_object_get(al, "albumUsers"), i, u)
    {
        user = es_find(st, "users", "id", es_str(u, "userId"));
        assert_non_null(user);
        json_object_set(by_email, es_str(user, "email"),
                        json_object_get(u, "role"));
    }
    /* sorted keys: the order members were added in is not state */
    s = json_dumps(by_email, JSON_SORT_KEYS | JSON_COMPACT);
    buf_addstr(out, s);
    free(s);
    json_decref(by_email);
}

/*
 * The library without the ids and times the server mints: per asset
 * (by id, which the run never changes) its date, tag values and album
 * names; per album (by name) its owner and users.  Canonical JSON text.
 */
/* A JSON object from the elements of st[list]: key -> element[field]. */
static json_t *index_by(json_t *st, const char *list, const char *key,
                        const char *field)
{
    json_t *map = json_object(), *x;
    size_t i;

    json_array_foreach(json_object_get(st, list), i, x)
        json_object_set(map, es_str(x, key), json_object_get(x, field));
    return map;
}

char *es_end_state_text(json_t *st)
{
    json_t *o = json_object(), *assets = json_object(), *albums = json_object(),
           *a;
    /* hash lookups: the seed library has 26,562 assets, 3,377 albums */
    json_t *tag_value = index_by(st, "tags", "id", "value");
    json_t *album_name = index_by(st, "albums", "id", "albumName");
    json_t *user_email = index_by(st, "users", "id", "email");
    size_t i, j;
    char *s;

    json_array_foreach(json_object_get(st, "assets"), i, a)
    {
        json_t *e = json_object(), *tags = json_object(), *in = json_object(),
               *id;

        json_array_foreach(json_object_get(a, "tagIds"), j, id)
            json_object_set_new(tags,
                                json_string_value(json_object_get(
                                    tag_value, json_string_value(id))),
                                json_true());
        json_array_foreach(json_object_get(a, "albumIds"), j, id)
        {
            const char *n = json_string_value(
                json_object_get(album_name, json_string_value(id)));

            assert_non_null(n);
            json_object_set_new(in, n, json_true());
        }
        json_object_set_new(e, "date", json_string(es_str(a, "fileCreatedAt")));
        json_object_set_new(e, "tags", tags);
        json_object_set_new(e, "albums", in);
        json_object_set_new(assets, es_str(a, "id"), e);
    }
    json_array_foreach(json_object_get(st, "albums"), i, a)
    {
        json_t *by_email = json_object(), *u;
        char *users;

        json_array_foreach(json_object_get(a, "albumUsers"), j, u)
        {
            const char *email = json_string_value(
                json_object_get(user_email, es_str(u, "userId")));

            assert_non_null(email);
            json_object_set(by_email, email, json_object_get(u, "role"));
        }
        /* sorted keys: the order members were added in is not state */
        users = json_dumps(by_email, JSON_SORT_KEYS | JSON_COMPACT);
        json_object_set_new(albums, es_str(a, "albumName"),
                            json_pack("{s:s, s:s}", "owner",
                                      es_str(a, "ownerId"), "users", users));
        free(users);
        json_decref(by_email);
    }
    json_object_set_new(o, "assets", assets);
    json_object_set_new(o, "albums", albums);
    s = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(o);
    json_decref(tag_value);
    json_decref(album_name);
    json_decref(user_email);
    return s;
}

char *es_end_state(const struct sim_proc *sim)
{
    json_t *st = es_state(sim);
    char *s = es_end_state_text(st);

    json_decref(st);
    return s;
}
