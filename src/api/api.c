/*
 * api.c: the call plumbing (one struct api_call per request: submit, turn
 * the HTTP outcome into an api_status, parse the JSON, hand the root to
 * the endpoint's deliverer) and the read endpoints with their decoders.
 * Each deliverer validates the fields it needs, fills plain C structs
 * whose strings point into the JSON, calls the user's callback once, and
 * the JSON is freed when the callback returns.
 */
#include <ctype.h>
#include <strings.h>

#include "api/api_internal.h"

#include "core/numparse.h"

void api_init(struct api *a, struct http_engine *eng)
{
    a->eng = eng;
    a->dialect = 0;
}

int api_dialect_of(int major)
{
    return major >= 3 ? 3 : 2;
}

/* The server's own message: "message" string or array of strings. */
static void server_message(const struct buf *body, struct buf *out)
{
    json_t *root = json_loadb(body->buf, body->len, 0, NULL);
    json_t *m = json_is_object(root) ? json_object_get(root, "message") : NULL;

    if (json_is_string(m)) {
        buf_addf(out, " %.200s", json_string_value(m));
    } else if (json_is_array(m)) {
        size_t i;
        json_t *v;

        json_array_foreach(m, i, v)
        {
            if (json_is_string(v) && i < 5)
                buf_addf(out, "%s%.100s", i ? "; " : " ", json_string_value(v));
        }
    }
    json_decref(root);
}

/*
 * A 2xx answer Immich could have given: JSON, or nothing.  An HTML page
 * (a login form served by a proxy whose session expired) is not; for the
 * writes whose success has no body this is the only sign that nothing
 * was done.  False with the message in msg.
 */
static bool immich_body(const struct http_response *r, struct buf *msg,
                        const char *endpoint)
{
    const char *t = r->content_type;
    size_t i = 0;

    while (i < r->body->len && isspace((unsigned char)r->body->buf[i]))
        i++;
    if (i == r->body->len)
        return true;
    if ((!t || !strncasecmp(t, "application/json", 16)) &&
        (r->body->buf[i] == '{' || r->body->buf[i] == '['))
        return true;
    buf_addf(msg,
             "%s: %ld answered %s, not Immich's JSON — a proxy login "
             "page? (the change may not have been made)",
             endpoint, r->status,
             t && !strncasecmp(t, "text/html", 9) ? "an HTML page"
                                                  : "something else");
    return false;
}

/*
 * The engine's answer to one API call turned into an api_status: network
 * failures, cancellations, redirects (a proxy's sign-in page, never
 * Immich), non-JSON 2xx bodies and HTTP errors with the server's message,
 * and for JSON calls the parsed body, then handed to the call's decoder.
 * One place decides what counts as success for every endpoint.
 */
static void on_http(const struct http_response *r, void *ctx)
{
    struct api_call *c = ctx;
    struct api_status st;
    struct buf msg = BUF_INIT;
    json_t *root = NULL;

    st.ok = true;
    st.kind = API_OK;
    st.http = r->status;
    st.endpoint = c->endpoint;
    st.error = "";
    st.server_date = r->date_ms;
    switch (r->result) {
    case HTTP_RESULT_CANCELLED:
        st.ok = false;
        st.kind = API_FAIL_CANCELLED;
        buf_addf(&msg, "%s: cancelled (stopping)", c->endpoint);
        break;
    case HTTP_RESULT_NETWORK:
    case HTTP_RESULT_TOO_BIG:
        st.ok = false;
        st.kind = API_FAIL_NETWORK;
        buf_addf(&msg, "%s: %s", c->endpoint, r->error);
        break;
    case HTTP_RESULT_OK:
        if (r->status >= 300 && r->status < 400) {
            /* Immich never redirects an API call: a proxy or a single
             * sign-on gateway answered instead of the server. */
            st.ok = false;
            st.kind = API_FAIL_HTTP;
            buf_addf(&msg,
                     "%s: %ld a redirect to %s — a proxy login "
                     "page? (nothing was changed by this request)",
                     c->endpoint, r->status,
                     r->location ? r->location : "(no Location)");
        } else if (r->status >= 200 && r->status < 300 &&
                   !immich_body(r, &msg, c->endpoint)) {
            st.ok = false;
            st.kind = API_FAIL_HTTP;
        } else if (r->status >= 400 || r->status < 200) {
            st.ok = false;
            st.kind = r->status == 401 || r->status == 403 ? API_FAIL_AUTH
                                                           : API_FAIL_HTTP;
            buf_addf(&msg, "%s: %ld", c->endpoint, r->status);
            server_message(r->body, &msg);
        } else if (c->want_json && !c->deliver_raw) {
            json_error_t jerr;

            root = json_loadb(r->body->buf, r->body->len, 0, &jerr);
            if (!root) {
                st.ok = false;
                st.kind = API_FAIL_DECODE;
                buf_addf(&msg, "%s: invalid JSON at byte %d: %s", c->endpoint,
                         jerr.position, jerr.text);
            }
        }
        break;
    }
    if (!st.ok)
        st.error = msg.buf;
    if (c->deliver_raw)
        c->deliver_raw(c, st.ok ? r->body->buf : NULL, st.ok ? r->body->len : 0,
                       &st);
    else
        c->deliver(c, root, &st);
    json_decref(root);
    buf_release(&msg);
    buf_release(&c->err);
    free(c);
}

static void submit_call(struct api *a, struct api_call *c, const char *method,
                        const char *path, const char *endpoint,
                        const struct buf *body, bool retry_safe)
{
    struct http_call h = HTTP_CALL_INIT;
    struct buf url = BUF_INIT;

    c->a = a;
    snprintf(c->endpoint, sizeof(c->endpoint), "%s", endpoint);
    buf_init(&c->err, 0);
    buf_addf(&url, "/api%s", path);
    h.method = method;
    h.path = url.buf;
    h.endpoint = endpoint;
    if (body) {
        h.body = body->buf;
        h.body_len = body->len;
    }
    h.retry_safe = retry_safe;
    h.done = on_http;
    h.ctx = c;
    if (http_engine_submit(a->eng, &h) < 0) {
        /* Wrapping up: complete at once as cancelled. */
        struct http_response r;
        struct buf empty = BUF_INIT;

        memset(&r, 0, sizeof(r));
        r.result = HTTP_RESULT_CANCELLED;
        r.body = &empty;
        r.error = "";
        on_http(&r, c);
    }
    buf_release(&url);
}

void api_submit(struct api *a, const char *method, const char *path,
                const char *endpoint, const struct buf *body, bool retry_safe,
                bool want_json, api_deliver_fn *deliver, api_any_fn *cb,
                void *ctx)
{
    struct api_call *c = xcalloc(1, sizeof(*c));

    c->deliver = deliver;
    c->cb = cb;
    c->ctx = ctx;
    c->want_json = want_json;
    submit_call(a, c, method, path, endpoint, body, retry_safe);
}

/* A call whose answer goes to a raw deliverer (not yet submitted). */
static struct api_call *raw_call(api_deliver_raw_fn *deliver, api_any_fn *cb,
                                 void *ctx)
{
    struct api_call *c = xcalloc(1, sizeof(*c));

    c->deliver_raw = deliver;
    c->cb = cb;
    c->ctx = ctx;
    c->want_json = true;
    return c;
}

void api_submit_raw(struct api *a, const char *method, const char *path,
                    const char *endpoint, const struct buf *body,
                    bool retry_safe, api_deliver_raw_fn *deliver,
                    api_any_fn *cb, void *ctx)
{
    submit_call(a, raw_call(deliver, cb, ctx), method, path, endpoint, body,
                retry_safe);
}

void api_decode_failed(struct api_call *c, struct api_status *st)
{
    st->ok = false;
    st->kind = API_FAIL_DECODE;
    st->error = c->err.buf;
}

#define JD(c)                                                                  \
    {                                                                          \
        (c)->endpoint, &(c)->err                                               \
    }

/* ---- server version ------------------------------------------------------ */

static void deliver_version(struct api_call *c, json_t *root,
                            struct api_status *st)
{
    struct api_version v = {0, 0, 0};
    struct jdec d = JD(c);
    long maj = 0, min = 0, pat = 0;

    if (st->ok && (jd_obj(&d, root, "", -1, NULL, &root) < 0 ||
                   jd_long(&d, root, "", -1, "major", &maj) < 0 ||
                   jd_long(&d, root, "", -1, "minor", &min) < 0 ||
                   jd_long(&d, root, "", -1, "patch", &pat) < 0))
        api_decode_failed(c, st);
    v.major = (int)maj;
    v.minor = (int)min;
    v.patch = (int)pat;
    if (st->ok)
        c->a->dialect = api_dialect_of(v.major);
    ((api_version_fn *)c->cb)(c->ctx, st, st->ok ? &v : NULL);
}

void api_server_version(struct api *a, api_version_fn *cb, void *ctx)
{
    api_submit(a, "GET", "/server/version", "GET /server/version", NULL, true,
               true, deliver_version, (api_any_fn *)cb, ctx);
}

/* ---- users --------------------------------------------------------------- */

static int decode_user(struct jdec *d, json_t *o, const char *where, long idx,
                       struct api_user *u)
{
    if (jd_obj(d, o, where, idx, NULL, &o) < 0 ||
        jd_uuid(d, o, where, idx, "id", &u->id) < 0 ||
        jd_str(d, o, where, idx, "email", &u->email, NULL) < 0 ||
        jd_str(d, o, where, idx, "name", &u->name, NULL) < 0)
        return -1;
    return 0;
}

static void deliver_me(struct api_call *c, json_t *root, struct api_status *st)
{
    struct api_user u;
    struct jdec d = JD(c);

    if (st->ok && decode_user(&d, root, "", -1, &u) < 0)
        api_decode_failed(c, st);
    ((api_user_fn *)c->cb)(c->ctx, st, st->ok ? &u : NULL);
}

void api_users_me(struct api *a, api_user_fn *cb, void *ctx)
{
    api_submit(a, "GET", "/users/me", "GET /users/me", NULL, true, true,
               deliver_me, (api_any_fn *)cb, ctx);
}

/* One array element decoded into *item (typed by the caller). */
typedef int item_decode_fn(struct jdec *d, json_t *o, long idx, void *item);

/*
 * A root array decoded element by element into an xcalloc'd list of
 * `size`-byte items (the caller frees it); *nr is 0 when any element fails,
 * since a partial list would be read as the whole answer.
 */
static void *decode_list(struct api_call *c, json_t *root,
                         struct api_status *st, size_t size,
                         item_decode_fn *decode, size_t *nr)
{
    struct jdec d = JD(c);
    char *v;
    size_t n;

    *nr = 0;
    if (st->ok && jd_root_array(&d, root) < 0)
        api_decode_failed(c, st);
    if (!st->ok)
        return NULL;
    n = json_array_size(root);
    v = xcalloc(n + 1, size);
    for (size_t i = 0; i < n; i++) {
        if (decode(&d, json_array_get(root, i), (long)i, v + i * size) < 0) {
            api_decode_failed(c, st);
            return v;
        }
    }
    *nr = n;
    return v;
}

static int user_item(struct jdec *d, json_t *o, long idx, void *item)
{
    return decode_user(d, o, "", idx, item);
}

static void deliver_users(struct api_call *c, json_t *root,
                          struct api_status *st)
{
    size_t nr;
    struct api_user *v = decode_list(c, root, st, sizeof(*v), user_item, &nr);

    ((api_users_fn *)c->cb)(c->ctx, st, v, nr);
    free(v);
}

void api_users(struct api *a, api_users_fn *cb, void *ctx)
{
    api_submit(a, "GET", "/users", "GET /users", NULL, true, true,
               deliver_users, (api_any_fn *)cb, ctx);
}

static void deliver_key(struct api_call *c, json_t *root, struct api_status *st)
{
    struct api_key_info k = {"", NULL, 0};
    const char **perms = NULL;
    json_t *arr;
    struct jdec d = JD(c);

    if (st->ok && (jd_obj(&d, root, "", -1, NULL, &root) < 0 ||
                   jd_str(&d, root, "", -1, "name", &k.name, NULL) < 0 ||
                   jd_arr(&d, root, "", -1, "permissions", &arr) < 0))
        api_decode_failed(c, st);
    if (st->ok) {
        size_t n = json_array_size(arr);

        perms = xcalloc(n + 1, sizeof(*perms));
        for (size_t i = 0; i < n; i++) {
            if (jd_str(&d, json_array_get(arr, i), "permissions", (long)i, NULL,
                       &perms[i], NULL) < 0) {
                api_decode_failed(c, st);
                break;
            }
        }
        k.permissions = perms;
        k.permissions_nr = n;
    }
    ((api_key_fn *)c->cb)(c->ctx, st, st->ok ? &k : NULL);
    free(perms);
}

void api_keys_me(struct api *a, api_key_fn *cb, void *ctx)
{
    api_submit(a, "GET", "/api-keys/me", "GET /api-keys/me", NULL, true, true,
               deliver_key, (api_any_fn *)cb, ctx);
}

/* ---- tags ---------------------------------------------------------------- */

int api_decode_tag(struct jdec *d, json_t *o, const char *where, long idx,
                   struct api_tag *t);

int api_decode_tag(struct jdec *d, json_t *o, const char *where, long idx,
                   struct api_tag *t)
{
    if (jd_obj(d, o, where, idx, NULL, &o) < 0 ||
        jd_uuid(d, o, where, idx, "id", &t->id) < 0 ||
        jd_str(d, o, where, idx, "name", &t->name, NULL) < 0 ||
        jd_str(d, o, where, idx, "value", &t->value, NULL) < 0 ||
        jd_uuid_opt(d, o, where, idx, "parentId", &t->parent, &t->has_parent) <
            0)
        return -1;
    return 0;
}

static int tag_item(struct jdec *d, json_t *o, long idx, void *item)
{
    return api_decode_tag(d, o, "", idx, item);
}

static void deliver_tags(struct api_call *c, json_t *root,
                         struct api_status *st)
{
    size_t nr;
    struct api_tag *v = decode_list(c, root, st, sizeof(*v), tag_item, &nr);

    ((api_tags_fn *)c->cb)(c->ctx, st, v, nr);
    free(v);
}

void api_tags(struct api *a, api_tags_fn *cb, void *ctx)
{
    api_submit(a, "GET", "/tags", "GET /tags", NULL, true, true, deliver_tags,
               (api_any_fn *)cb, ctx);
}

/* Called by api_write.c for PUT /tags. */
void api_deliver_tags(struct api_call *c, json_t *root, struct api_status *st);
void api_deliver_tags(struct api_call *c, json_t *root, struct api_status *st)
{
    deliver_tags(c, root, st);
}

/* ---- albums -------------------------------------------------------------- */

static int decode_role(struct jdec *d, json_t *o, const char *where, long idx,
                       int *role, bool *is_owner)
{
    const char *s;

    if (jd_str(d, o, where, idx, "role", &s, NULL) < 0)
        return -1;
    *is_owner = false;
    if (!strcmp(s, "viewer"))
        *role = 0;
    else if (!strcmp(s, "editor"))
        *role = 1;
    else if (!strcmp(s, "owner"))
        *is_owner = true;
    else
        return jd_fail(d, where, idx, "role",
                       "\"viewer\", \"editor\" or \"owner\"");
    return 0;
}

/*
 * One AlbumResponseDto.  2.x names the owner in ownerId; 3.x lists it in
 * albumUsers with role "owner".  users must hold room for every member.
 */
static int decode_album(struct jdec *d, json_t *o, long idx,
                        struct api_album *al, struct api_album_user *users)
{
    json_t *au;
    bool has_owner = false;
    size_t i;
    json_t *m;
    char where[48];

    if (jd_obj(d, o, "", idx, NULL, &o) < 0 ||
        jd_uuid(d, o, "", idx, "id", &al->id) < 0 ||
        jd_str(d, o, "", idx, "albumName", &al->name, NULL) < 0 ||
        jd_long(d, o, "", idx, "assetCount", &al->asset_count) < 0 ||
        jd_bool_opt(d, o, "", idx, "shared", &al->shared) < 0 ||
        jd_time_opt(d, o, "", idx, "startDate", &al->start_date) < 0 ||
        jd_time_opt(d, o, "", idx, "endDate", &al->end_date) < 0 ||
        jd_time(d, o, "", idx, "createdAt", &al->created_at) < 0 ||
        jd_time(d, o, "", idx, "updatedAt", &al->updated_at) < 0 ||
        jd_time_opt(d, o, "", idx, "lastModifiedAssetTimestamp",
                    &al->last_modified) < 0 ||
        jd_uuid_opt(d, o, "", idx, "ownerId", &al->owner, &has_owner) < 0 ||
        jd_arr(d, o, "", idx, "albumUsers", &au) < 0)
        return -1;
    al->users = users;
    al->users_nr = 0;
    if (idx >= 0)
        snprintf(where, sizeof(where), "[%ld].albumUsers", idx);
    else
        snprintf(where, sizeof(where), "albumUsers");
    json_array_foreach(au, i, m)
    {
        json_t *user;
        struct uuid uid;
        int role = 0;
        bool is_owner;
        char uwhere[112];

        snprintf(uwhere, sizeof(uwhere), "%s[%zu].user", where, i);
        if (jd_obj(d, m, where, (long)i, "user", &user) < 0 ||
            jd_uuid(d, user, uwhere, -1, "id", &uid) < 0 ||
            decode_role(d, m, where, (long)i, &role, &is_owner) < 0)
            return -1;
        if (is_owner) {
            if (!has_owner)
                al->owner = uid;
            has_owner = true;
            continue;
        }
        users[al->users_nr].user = uid;
        users[al->users_nr].role = role;
        al->users_nr++;
    }
    if (!has_owner)
        return jd_fail(d, "", idx, "ownerId",
                       "an owner (ownerId or an albumUsers owner)");
    return 0;
}

static void deliver_albums(struct api_call *c, json_t *root,
                           struct api_status *st)
{
    struct api_album *v = NULL;
    struct api_album_user *users = NULL;
    size_t nr = 0, total_users = 0;
    struct jdec d = JD(c);
    bool single = json_is_object(root);

    if (st->ok && !single && !json_is_array(root)) {
        jd_fail(&d, "", -1, NULL, "an array");
        api_decode_failed(c, st);
    }
    if (st->ok) {
        nr = single ? 1 : json_array_size(root);
        for (size_t i = 0; i < nr; i++) {
            json_t *o = single ? root : json_array_get(root, i);

            total_users += json_array_size(json_object_get(o, "albumUsers"));
        }
        v = xcalloc(nr + 1, sizeof(*v));
        users = xcalloc(total_users + 1, sizeof(*users));
        total_users = 0;
        for (size_t i = 0; i < nr; i++) {
            json_t *o = single ? root : json_array_get(root, i);

            if (decode_album(&d, o, single ? -1 : (long)i, &v[i],
                             users + total_users) < 0) {
                api_decode_failed(c, st);
                nr = 0;
                break;
            }
            total_users += v[i].users_nr;
        }
    }
    ((api_albums_fn *)c->cb)(c->ctx, st, v, nr);
    free(v);
    free(users);
}

/* For api_write.c: POST /albums answers one album. */
void api_deliver_albums(struct api_call *c, json_t *root,
                        struct api_status *st);
void api_deliver_albums(struct api_call *c, json_t *root, struct api_status *st)
{
    deliver_albums(c, root, st);
}

static size_t skip_ws(const char *s, size_t len, size_t i)
{
    while (i < len &&
           (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

/* Albums decoded one listing element at a time (see albums_streamed()). */
struct album_list {
    struct api_album *v;
    size_t nr, alloc;
    struct api_album_user *users;
    size_t users_nr, users_alloc;
    size_t *users_first; /* per album: its members in users[] */
    struct buf names;    /* album names, NUL-separated */
    size_t *name_off;    /* per album: its name in names */
    size_t off_alloc;
};

/* Decodes one element o (index idx) into l; -1 if decode_album fails. */
static int album_list_add(struct album_list *l, struct jdec *d, json_t *o,
                          size_t idx)
{
    size_t members = json_array_size(json_object_get(o, "albumUsers"));
    struct api_album *al;

    ALLOC_GROW(l->v, l->nr + 1, l->alloc);
    if (l->alloc > l->off_alloc) {
        l->off_alloc = l->alloc;
        l->users_first = xrealloc(
            l->users_first, st_mult(l->off_alloc, sizeof(*l->users_first)));
        l->name_off =
            xrealloc(l->name_off, st_mult(l->off_alloc, sizeof(*l->name_off)));
    }
    ALLOC_GROW(l->users, l->users_nr + members + 1, l->users_alloc);
    al = &l->v[l->nr];
    memset(al, 0, sizeof(*al));
    if (decode_album(d, o, (long)idx, al, l->users + l->users_nr) < 0)
        return -1;
    l->users_first[l->nr] = l->users_nr;
    l->users_nr += al->users_nr;
    l->name_off[l->nr] = l->names.len;
    buf_addstr(&l->names, al->name);
    buf_addch(&l->names, '\0');
    l->nr++;
    return 0;
}

/*
 * GET /albums answers every album at once: 20,000 albums are 14 MB of
 * JSON, ~90 MB as one jansson tree, and the run reads the listing again
 * while it writes (its peak memory, issue #13).  So the root array is
 * parsed one element at a time (json_loadb with JSON_DISABLE_EOF_CHECK
 * stops after one value and says how many bytes it read), each element
 * decoded and freed before the next.  Returns 0 with the albums in l, or
 * -1 for anything irregular (not an array, bad JSON, a decode failure):
 * the caller then parses the whole body as before, which gives the
 * message the tree reader always gave.
 */
static int albums_streamed(struct api_call *c, const char *data, size_t len,
                           struct album_list *l)
{
    struct jdec d = JD(c);
    size_t i = skip_ws(data, len, 0);

    if (i >= len || data[i] != '[')
        return -1;
    i = skip_ws(data, len, i + 1);
    if (i < len && data[i] == ']')
        return skip_ws(data, len, i + 1) == len ? 0 : -1;
    for (;;) {
        json_error_t jerr;
        json_t *o =
            json_loadb(data + i, len - i, JSON_DISABLE_EOF_CHECK, &jerr);
        int rc;

        if (!o)
            return -1;
        rc = json_is_object(o) ? album_list_add(l, &d, o, l->nr) : -1;
        json_decref(o);
        if (rc < 0)
            return -1;
        i = skip_ws(data, len, i + (size_t)jerr.position);
        if (i < len && data[i] == ']')
            return skip_ws(data, len, i + 1) == len ? 0 : -1;
        if (i >= len || data[i] != ',')
            return -1;
        i = skip_ws(data, len, i + 1);
    }
}

static void album_list_release(struct album_list *l)
{
    free(l->v);
    free(l->users);
    free(l->users_first);
    free(l->name_off);
    buf_release(&l->names);
}

static void deliver_albums_raw(struct api_call *c, const char *data, size_t len,
                               struct api_status *st)
{
    struct album_list l;
    json_error_t jerr;
    json_t *root;

    memset(&l, 0, sizeof(l));
    buf_init(&l.names, 0);
    if (st->ok && albums_streamed(c, data, len, &l) == 0) {
        for (size_t i = 0; i < l.nr; i++) {
            l.v[i].users = l.users + l.users_first[i];
            l.v[i].name = l.names.buf + l.name_off[i];
        }
        ((api_albums_fn *)c->cb)(c->ctx, st, l.v, l.nr);
        album_list_release(&l);
        return;
    }
    album_list_release(&l);
    buf_reset(&c->err);
    root = st->ok ? json_loadb(data, len, 0, &jerr) : NULL;
    if (st->ok && !root) {
        buf_addf(&c->err, "%s: invalid JSON at byte %d: %s", c->endpoint,
                 jerr.position, jerr.text);
        api_decode_failed(c, st);
    }
    deliver_albums(c, root, st);
    json_decref(root);
}

void api_albums(struct api *a, int shared, api_albums_fn *cb, void *ctx)
{
    api_submit_raw(a, "GET", shared > 0 ? "/albums?shared=true" : "/albums",
                   "GET /albums", NULL, true, deliver_albums_raw,
                   (api_any_fn *)cb, ctx);
}

void api_album_info(struct api *a, const struct uuid *id, api_albums_fn *cb,
                    void *ctx)
{
    char s[UUID_STR_LEN + 1];
    char path[96];

    uuid_format(id, s);
    snprintf(path, sizeof(path), "/albums/%s?withoutAssets=true", s);
    api_submit(a, "GET", path, "GET /albums/{id}", NULL, true, true,
               deliver_albums, (api_any_fn *)cb, ctx);
}

/* ---- search -------------------------------------------------------------- */

/* ,"key":"<ISO time>" when t is set. */
static void add_time(struct buf *b, const char *key, int64_t t)
{
    char iso[32];

    if (t == TIME_NONE)
        return;
    time_format_iso(t, iso);
    buf_addf(b, ",\"%s\":\"%s\"", key, iso);
}

/* The filter fields shared by metadata and statistics. */
static void add_filters(struct buf *b, const struct api_search *q)
{
    add_time(b, "takenAfter", q->taken_after);
    add_time(b, "takenBefore", q->taken_before);
    add_time(b, "createdAfter", q->created_after);
    add_time(b, "createdBefore", q->created_before);
    add_time(b, "updatedAfter", q->updated_after);
    if (q->album) {
        buf_addstr(b, ",\"albumIds\":");
        api_add_uuid_array(b, q->album, 1);
    }
    if (q->tag) {
        buf_addstr(b, ",\"tagIds\":");
        api_add_uuid_array(b, q->tag, 1);
    }
    if (q->visibility)
        buf_addf(b, ",\"visibility\":\"%s\"", q->visibility);
    if (q->with_deleted)
        buf_addstr(b, ",\"withDeleted\":true");
    if (q->not_in_album)
        buf_addstr(b, ",\"isNotInAlbum\":true");
}

void api_search_metadata(struct api *a, const struct api_search *q,
                         api_page_fn *cb, void *ctx)
{
    struct buf body = BUF_INIT;
    struct api_call *c;

    buf_addf(&body, "{\"page\":%ld,\"size\":%ld", q->page, q->size);
    add_filters(&body, q);
    if (q->with_exif)
        buf_addstr(&body, ",\"withExif\":true");
    if (q->order)
        buf_addf(&body, ",\"order\":\"%s\"", q->order);
    buf_addch(&body, '}');
    c = raw_call(q->ids_only ? api_deliver_page_ids_raw : api_deliver_page_raw,
                 (api_any_fn *)cb, ctx);
    c->known = q->known;
    c->known_ctx = q->known_ctx;
    submit_call(a, c, "POST", "/search/metadata", "POST /search/metadata",
                &body, true);
    buf_release(&body);
}

int api_decode_search_page(const char *data, size_t len, api_page_fn *cb,
                           void *ctx, struct buf *err)
{
    struct api_call c;
    struct api_status st = {true, API_OK, 200, "POST /search/metadata", "", 0};
    int ret;

    memset(&c, 0, sizeof(c));
    snprintf(c.endpoint, sizeof(c.endpoint), "%s", st.endpoint);
    c.cb = (api_any_fn *)cb;
    c.ctx = ctx;
    buf_init(&c.err, 0);
    api_deliver_page_raw(&c, data, len, &st);
    ret = st.ok ? 0 : -1;
    if (!st.ok)
        buf_addstr(err, st.error);
    buf_release(&c.err);
    return ret;
}

static void deliver_count(struct api_call *c, json_t *root,
                          struct api_status *st)
{
    struct jdec d = JD(c);
    long total = 0;

    if (st->ok && (jd_obj(&d, root, "", -1, NULL, &root) < 0 ||
                   jd_long(&d, root, "", -1, "total", &total) < 0))
        api_decode_failed(c, st);
    ((api_count_fn *)c->cb)(c->ctx, st, st->ok ? total : 0);
}

void api_search_statistics(struct api *a, const struct api_search *q,
                           api_count_fn *cb, void *ctx)
{
    struct buf body = BUF_INIT, f = BUF_INIT;

    add_filters(&f, q); /* each filter starts with a comma */
    buf_addf(&body, "{%s}", f.len ? f.buf + 1 : "");
    buf_release(&f);
    api_submit(a, "POST", "/search/statistics", "POST /search/statistics",
               &body, true, true, deliver_count, (api_any_fn *)cb, ctx);
    buf_release(&body);
}

static void deliver_asset_stats(struct api_call *c, json_t *root,
                                struct api_status *st)
{
    struct jdec d = JD(c);
    struct api_asset_stats s = {0, 0, 0};

    if (st->ok && (jd_obj(&d, root, "", -1, NULL, &root) < 0 ||
                   jd_long(&d, root, "", -1, "images", &s.images) < 0 ||
                   jd_long(&d, root, "", -1, "videos", &s.videos) < 0 ||
                   jd_long(&d, root, "", -1, "total", &s.total) < 0))
        api_decode_failed(c, st);
    ((api_asset_stats_fn *)c->cb)(c->ctx, st, st->ok ? &s : NULL);
}

void api_asset_statistics(struct api *a, api_asset_stats_fn *cb, void *ctx)
{
    api_submit(a, "GET", "/assets/statistics", "GET /assets/statistics", NULL,
               true, true, deliver_asset_stats, (api_any_fn *)cb, ctx);
}

/* ---- duplicates ---------------------------------------------------------- */

/*
 * GET /duplicates: each group's id and its assets' ids, decoded into one
 * array of groups pointing into one id array; a malformed group fails the
 * whole answer (a partial list of duplicates would be read as the truth).
 */
static void deliver_dups(struct api_call *c, json_t *root,
                         struct api_status *st)
{
    struct jdec d = JD(c);
    struct api_dup *v = NULL;
    struct uuid *ids = NULL;
    size_t nr = 0, total = 0, i;
    json_t *g;

    if (st->ok && jd_root_array(&d, root) < 0)
        api_decode_failed(c, st);
    if (st->ok) {
        nr = json_array_size(root);
        json_array_foreach(root, i, g) total +=
            json_array_size(json_object_get(g, "assets"));
        v = xcalloc(nr + 1, sizeof(*v));
        ids = xcalloc(total + 1, sizeof(*ids));
        total = 0;
        json_array_foreach(root, i, g)
        {
            json_t *assets, *m;
            size_t j;
            char where[32];

            snprintf(where, sizeof(where), "[%zu].assets", i);
            if (jd_uuid(&d, g, "", (long)i, "duplicateId", &v[i].id) < 0 ||
                jd_arr(&d, g, "", (long)i, "assets", &assets) < 0) {
                api_decode_failed(c, st);
                break;
            }
            v[i].assets = ids + total;
            json_array_foreach(assets, j, m)
            {
                if (jd_uuid(&d, m, where, (long)j, "id", &ids[total]) < 0) {
                    api_decode_failed(c, st);
                    break;
                }
                total++;
            }
            if (!st->ok)
                break;
            v[i].assets_nr = json_array_size(assets);
        }
        if (!st->ok)
            nr = 0;
    }
    ((api_dups_fn *)c->cb)(c->ctx, st, v, nr);
    free(v);
    free(ids);
}

void api_duplicates(struct api *a, api_dups_fn *cb, void *ctx)
{
    api_submit(a, "GET", "/duplicates", "GET /duplicates", NULL, true, true,
               deliver_dups, (api_any_fn *)cb, ctx);
}

/* ---- background jobs ----------------------------------------------------- */

/*
 * GET /jobs (job.read, admin users): the legacy shape, one object per
 * queue name with jobCounts {active, waiting, delayed, paused, ...}.
 * What the caller gets is the work still ahead in the queues an asset
 * edit feeds: sidecar writes and metadata re-reads.
 */
static void deliver_jobs(struct api_call *c, json_t *root,
                         struct api_status *st)
{
    static const char *const queues[] = {"sidecar", "metadataExtraction"};
    static const char *const counts[] = {"active", "waiting", "delayed"};
    struct jdec d = JD(c);
    long pending = 0;

    if (st->ok && jd_obj(&d, root, "", -1, NULL, &root) < 0)
        api_decode_failed(c, st);
    for (size_t i = 0; st->ok && i < ARRAY_SIZE(queues); i++) {
        json_t *q, *jc;

        if (jd_obj(&d, root, "", -1, queues[i], &q) < 0 ||
            jd_obj(&d, q, queues[i], -1, "jobCounts", &jc) < 0) {
            api_decode_failed(c, st);
            break;
        }
        for (size_t k = 0; k < ARRAY_SIZE(counts); k++) {
            long n = 0;

            if (jd_long(&d, jc, "jobCounts", -1, counts[k], &n) < 0) {
                api_decode_failed(c, st);
                break;
            }
            pending += n;
        }
    }
    ((api_jobs_fn *)c->cb)(c->ctx, st, st->ok ? pending : -1);
}

void api_jobs_pending(struct api *a, api_jobs_fn *cb, void *ctx)
{
    api_submit(a, "GET", "/jobs", "GET /jobs", NULL, true, true, deliver_jobs,
               (api_any_fn *)cb, ctx);
}
