/*
 * test_api.c: the API client's decoders and request bodies.  The search
 * page decoder is driven directly (the fuzz entry point); the other
 * endpoints go through the real engine to a libmicrohttpd server started
 * by the test on 127.0.0.1 that answers canned bodies and records what it
 * received.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <jansson.h>

#include "api/api.h"
#include "api/api_write.h"

#include <pthread.h>

#include "canned_server.h"

/* ---- canned server ------------------------------------------------------- */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned canned_status = 200;
static const char *canned_body = "{}";
static char got_method[16], got_url[256], got_body[1024];

/* Records the request, answers the canned status and body. */
static enum MHD_Result handler(const struct canned_req *req, void *ctx)
{
    enum MHD_Result ret;

    (void)ctx;
    pthread_mutex_lock(&lock);
    snprintf(got_method, sizeof(got_method), "%s", req->method);
    snprintf(got_url, sizeof(got_url), "%s", req->url);
    snprintf(got_body, sizeof(got_body), "%s", req->body);
    ret = canned_reply(req->conn, canned_status, canned_body, NULL, NULL);
    pthread_mutex_unlock(&lock);
    return ret;
}

static void serve(unsigned status, const char *body)
{
    pthread_mutex_lock(&lock);
    canned_status = status;
    canned_body = body;
    pthread_mutex_unlock(&lock);
}

struct fixture {
    struct http_engine *eng;
    struct api api;
};

static void fx_open(struct fixture *f)
{
    struct http_engine_opts o = HTTP_ENGINE_OPTS_INIT;
    struct buf err = BUF_INIT;

    o.base_url = canned_group_url();
    o.api_key = "k3y-not-printed";
    o.max_retries = 0;
    f->eng = http_engine_new(&o, &err);
    assert_non_null(f->eng);
    api_init(&f->api, f->eng);
    buf_release(&err);
}

static void fx_run_close(struct fixture *f)
{
    struct buf err = BUF_INIT;

    assert_int_equal(http_engine_run(f->eng, &err), 0);
    http_engine_free(f->eng);
    buf_release(&err);
}

/* ---- search page decoding ------------------------------------------------ */

#define ASSET(id, owner, extra)                                                \
    "{\"id\":\"" id "\",\"ownerId\":\"" owner "\","                            \
    "\"originalFileName\":\"IMG_1.jpg\",\"originalPath\":\"/p/Ünïcode/IMG_1" \
    ".jpg\",\"fileCreatedAt\":\"2024-06-15T13:14:02.251Z\","                   \
    "\"fileModifiedAt\":\"2024-06-15T13:14:02.251Z\","                         \
    "\"localDateTime\":\"2024-06-15T15:14:02.251Z\","                          \
    "\"createdAt\":\"2024-07-01T00:00:00.000Z\","                              \
    "\"updatedAt\":\"2024-07-02T00:00:00.000Z\",\"isFavorite\":true,"          \
    "\"isTrashed\":false,\"type\":\"VIDEO\",\"visibility\":\"archive\","       \
    "\"people\":[],\"futureField\":{\"x\":1}" extra "}"

#define ID1 "11111111-1111-4111-8111-111111111111"
#define ID2 "22222222-2222-4222-8222-222222222222"
#define OWN "33333333-3333-4333-8333-333333333333"
#define DUP "44444444-4444-4444-8444-444444444444"

/* What each answer's callback keeps of its status and item count: r is
 * a result with ok, nr and error. */
#define KEEP_STATUS(r, st, n)                                                  \
    ((r)->ok = (st)->ok, (r)->nr = (n),                                        \
     (void)snprintf((r)->error, sizeof((r)->error), "%s", (st)->error))

struct page_result {
    int calls;
    bool ok;
    size_t nr;
    long next;
    struct api_asset first, second;
    char error[256];
};

static void on_page(void *ctx, const struct api_status *st,
                    const struct api_asset *assets, size_t nr, long next)
{
    struct page_result *r = ctx;

    r->calls++;
    KEEP_STATUS(r, st, nr);
    r->next = next;
    if (nr >= 2) {
        r->first = assets[0];
        r->second = assets[1];
        /* strings are only valid during the callback */
        r->first.file_name = r->first.path = NULL;
        r->second.file_name = r->second.path = NULL;
        assert_string_equal(assets[0].path, "/p/Ünïcode/IMG_1.jpg");
    }
}

static void test_search_page_decodes_fields_and_ignores_extras(void **state)
{
    static const char page[] = "{\"albums\":{\"total\":0,\"count\":0,\"items\":"
                               "[],\"facets\":[]},"
                               "\"assets\":{\"total\":2,\"count\":2,"
                               "\"nextPage\":\"2\",\"items\":[" ASSET(
                                   ID1, OWN,
                                   ",\"duplicateId\":\"" DUP "\",\"exifInfo\":"
                                   "{\"dateTimeOriginal\":\"2024-06-15T13:14:"
                                   "02.000Z\"}") "," ASSET(ID2, OWN,
                                                           ",\"duplicateId\":"
                                                           "null") "]}}";
    struct page_result r;
    struct buf err = BUF_INIT;
    struct uuid id1, dup;

    (void)state;
    memset(&r, 0, sizeof(r));
    assert_int_equal(
        api_decode_search_page(page, strlen(page), on_page, &r, &err), 0);
    assert_int_equal(r.calls, 1);
    assert_true(r.ok);
    assert_int_equal(r.nr, 2);
    assert_int_equal(r.next, 2);
    uuid_parse(ID1, 36, &id1);
    uuid_parse(DUP, 36, &dup);
    assert_true(uuid_eq(&r.first.id, &id1));
    assert_true(r.first.has_duplicate);
    assert_true(uuid_eq(&r.first.duplicate, &dup));
    assert_false(r.second.has_duplicate);
    assert_true(r.first.has_exif);
    assert_false(r.second.has_exif);
    assert_int_equal(r.second.date_time_original, TIME_NONE);
    assert_true(r.first.favorite && r.first.video && !r.first.trashed);
    assert_int_equal(r.first.visibility, 1);
    assert_int_equal(r.first.local_date_time - r.first.file_created_at,
                     2 * 3600 * 1000);
    buf_release(&err);
}

static void test_search_page_names_the_bad_field(void **state)
{
    static const struct {
        const char *json;
        const char *error;
    } cases[] = {
        {"{\"assets\":{\"nextPage\":null,\"items\":[" ASSET(
             ID1, OWN, "") ",{\"ownerId\":\"" OWN "\"}]}}",
         "POST /search/metadata: assets.items[1].id: expected a UUID "
         "string"},
        {"{\"assets\":{\"items\":[" ASSET("not-a-uuid", OWN, "") "]}}",
         "POST /search/metadata: assets.items[0].id: expected a UUID "
         "string"},
        {"{\"assets\":{\"items\":[" ASSET(ID1, OWN,
                                          ",\"exifInfo\":{\"dateTimeOriginal"
                                          "\":17}") "]}}",
         "POST /search/metadata: assets.items[0].exifInfo."
         "dateTimeOriginal: expected an ISO-8601 date string"},
        {"{\"assets\":{\"items\":{}}}",
         "POST /search/metadata: assets.items: expected an array"},
        {"{\"albums\":{}}",
         "POST /search/metadata: assets: expected an object"},
        {"[]", "POST /search/metadata: response: expected an object"},
        {"{\"assets\":{\"nextPage\":7,\"items\":[]}}",
         "POST /search/metadata: assets.nextPage: expected a page number "
         "string or null"},
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct page_result r;
        struct buf err = BUF_INIT;

        memset(&r, 0, sizeof(r));
        assert_int_equal(api_decode_search_page(cases[i].json,
                                                strlen(cases[i].json), on_page,
                                                &r, &err),
                         -1);
        assert_int_equal(r.calls, 1);
        assert_false(r.ok);
        assert_int_equal(r.nr, 0);
        assert_string_equal(err.buf, cases[i].error);
        buf_release(&err);
    }
}

static void test_search_page_rejects_broken_json(void **state)
{
    struct page_result r;
    struct buf err = BUF_INIT;

    (void)state;
    memset(&r, 0, sizeof(r));
    assert_int_equal(
        api_decode_search_page("{\"assets\":", 10, on_page, &r, &err), -1);
    assert_non_null(strstr(err.buf, "POST /search/metadata: invalid JSON"));
    buf_release(&err);
}

/* ---- endpoints through the engine ---------------------------------------- */

struct albums_result {
    bool ok;
    size_t nr, users_nr;
    struct uuid owner;
    int role;
    long count;
    char name[64];
    char error[256];
};

static void on_albums(void *ctx, const struct api_status *st,
                      const struct api_album *a, size_t nr)
{
    struct albums_result *r = ctx;

    KEEP_STATUS(r, st, nr);
    if (nr) {
        r->owner = a[0].owner;
        r->users_nr = a[0].users_nr;
        r->role = a[0].users_nr ? a[0].users[0].role : -1;
        r->count = a[0].asset_count;
        snprintf(r->name, sizeof(r->name), "%s", a[0].name);
    }
}

#define ALBUM_COMMON                                                           \
    "\"id\":\"" ID1 "\",\"albumName\":\"2019 Été\",\"assetCount\":3,"        \
    "\"createdAt\":\"2024-01-01T00:00:00.000Z\",\"updatedAt\":"                \
    "\"2024-01-02T00:00:00.000Z\",\"shared\":true"

static void test_albums_decode_both_dialects(void **state)
{
    struct fixture f;
    struct albums_result r2, r3;
    struct uuid own;

    (void)state;
    uuid_parse(OWN, 36, &own);
    /* 2.x: ownerId, members in albumUsers. */
    serve(200, "[{" ALBUM_COMMON ",\"ownerId\":\"" OWN "\",\"albumUsers\":"
               "[{\"user\":{\"id\":\"" ID2 "\"},\"role\":\"editor\"}]}]");
    memset(&r2, 0, sizeof(r2));
    fx_open(&f);
    api_albums(&f.api, 1, on_albums, &r2);
    fx_run_close(&f);
    assert_string_equal(got_url, "/api/albums");
    assert_true(r2.ok);
    assert_int_equal(r2.nr, 1);
    assert_true(uuid_eq(&r2.owner, &own));
    assert_int_equal(r2.users_nr, 1);
    assert_int_equal(r2.role, 1);
    assert_string_equal(r2.name, "2019 Été");
    /* 3.x: the owner is an albumUsers entry with role owner. */
    serve(200, "[{" ALBUM_COMMON ",\"albumUsers\":[{\"user\":{\"id\":\"" OWN
               "\"},\"role\":\"owner\"},{\"user\":{\"id\":\"" ID2
               "\"},\"role\":\"viewer\"}]}]");
    memset(&r3, 0, sizeof(r3));
    fx_open(&f);
    api_albums(&f.api, -1, on_albums, &r3);
    fx_run_close(&f);
    assert_true(r3.ok);
    assert_true(uuid_eq(&r3.owner, &own));
    assert_int_equal(r3.users_nr, 1);
    assert_int_equal(r3.role, 0);
    assert_int_equal(r3.count, 3);
    /* Neither: an error naming the field. */
    serve(200, "[{" ALBUM_COMMON ",\"albumUsers\":[]}]");
    memset(&r3, 0, sizeof(r3));
    fx_open(&f);
    api_albums(&f.api, -1, on_albums, &r3);
    fx_run_close(&f);
    assert_false(r3.ok);
    assert_string_equal(r3.error, "GET /albums: [0].ownerId: expected an "
                                  "owner (ownerId or an albumUsers owner)");
}

/* ---- the album listing, one element at a time ---------------------------- */

/* jansson's live bytes and their high-water mark (json_set_alloc_funcs):
 * each block carries its size in front. */
static size_t jn_live, jn_peak;

static void *jn_malloc(size_t n)
{
    size_t *p = malloc(n + sizeof(size_t));

    if (!p)
        return NULL;
    *p = n;
    jn_live += n;
    if (jn_live > jn_peak)
        jn_peak = jn_live;
    return p + 1;
}

static void jn_free(void *q)
{
    size_t *p = q;

    if (!p)
        return;
    jn_live -= p[-1];
    free(p - 1);
}

struct listing_result {
    bool ok;
    size_t nr;
    struct buf text; /* "name:user/role,...;" per album */
    char error[256];
};

static void on_listing(void *ctx, const struct api_status *st,
                       const struct api_album *a, size_t nr)
{
    struct listing_result *r = ctx;
    char id[UUID_STR_LEN + 1];

    KEEP_STATUS(r, st, nr);
    for (size_t i = 0; i < nr; i++) {
        buf_addf(&r->text, "%s:", a[i].name);
        for (size_t k = 0; k < a[i].users_nr; k++) {
            uuid_format(&a[i].users[k].user, id);
            buf_addf(&r->text, "%.4s/%d,", id, a[i].users[k].role);
        }
        buf_addch(&r->text, ';');
    }
}

#define LISTING_ALBUMS 2000

/* A GET /albums body of n albums (3.x), album i named "album <i>" with
 * i % 3 members; `sep` goes between the elements. */
static void listing(struct buf *b, size_t n, const char *sep)
{
    buf_addstr(b, " [\n");
    for (size_t i = 0; i < n; i++) {
        buf_addf(b,
                 "%s{\"id\":\"%08zx-0000-4000-8000-000000000000\","
                 "\"albumName\":\"album %zu\",\"assetCount\":%zu,"
                 "\"createdAt\":\"2024-01-01T00:00:00.000Z\","
                 "\"updatedAt\":\"2024-01-02T00:00:00.000Z\","
                 "\"description\":\"%0200zu\",\"albumUsers\":"
                 "[{\"user\":{\"id\":\"" OWN "\"},\"role\":\"owner\"}",
                 i ? sep : "", i + 1, i, i, i);
        for (size_t k = 0; k < i % 3; k++)
            buf_addf(b,
                     ",{\"user\":{\"id\":\"%04zx%04zx-0000-4000-8000-"
                     "000000000000\"},\"role\":\"%s\"}",
                     i % 0x10000, k, k ? "editor" : "viewer");
        buf_addstr(b, "]}");
    }
    buf_addstr(b, "\n]\n");
}

static void fetch_listing(const char *body, struct listing_result *r)
{
    struct fixture f;

    memset(r, 0, sizeof(*r));
    buf_init(&r->text, 0);
    serve(200, body);
    fx_open(&f);
    api_albums(&f.api, -1, on_listing, r);
    fx_run_close(&f);
}

/*
 * GET /albums of thousands of albums is decoded one album at a time: the
 * result is the tree reader's (every album, name and member, in order)
 * while jansson never holds more than a few albums' worth of nodes (the
 * whole listing as one tree is ~1,000 times that).  Irregular bodies
 * still fail with the tree reader's messages.
 */
static void test_album_listing_is_decoded_one_album_at_a_time(void **state)
{
    struct buf body = BUF_INIT, want = BUF_INIT;
    struct listing_result r;
    char id[UUID_STR_LEN + 1];
    struct uuid u;

    (void)state;
    listing(&body, LISTING_ALBUMS, " ,\r\n\t");
    for (size_t i = 0; i < LISTING_ALBUMS; i++) {
        buf_addf(&want, "album %zu:", i);
        for (size_t k = 0; k < i % 3; k++) {
            snprintf(id, sizeof(id), "%04zx%04zx-0000-4000-8000-000000000000",
                     i % 0x10000, k);
            assert_int_equal(uuid_parse(id, UUID_STR_LEN, &u), 0);
            uuid_format(&u, id);
            buf_addf(&want, "%.4s/%d,", id, k ? 1 : 0);
        }
        buf_addch(&want, ';');
    }
    jn_live = jn_peak = 0;
    json_set_alloc_funcs(jn_malloc, jn_free);
    fetch_listing(body.buf, &r);
    json_set_alloc_funcs(malloc, free);
    assert_true(r.ok);
    assert_int_equal(r.nr, LISTING_ALBUMS);
    assert_string_equal(r.text.buf, want.buf);
    /* One album's tree is ~1.5 KB; the listing's body alone is 700 KB. */
    assert_true(jn_peak < 16 * 1024);
    assert_true(body.len > 600 * 1024);
    buf_release(&r.text);

    /* An empty listing, and the tree reader's messages for the rest. */
    fetch_listing(" [ ] ", &r);
    assert_true(r.ok);
    assert_int_equal(r.nr, 0);
    buf_release(&r.text);
    fetch_listing("[{" ALBUM_COMMON ",\"albumUsers\":[]}]", &r);
    assert_string_equal(r.error, "GET /albums: [0].ownerId: expected an "
                                 "owner (ownerId or an albumUsers owner)");
    buf_release(&r.text);
    buf_reset(&body);
    listing(&body, 3, ",");
    buf_addstr(&body, "x");
    fetch_listing(body.buf, &r);
    assert_false(r.ok);
    assert_non_null(strstr(r.error, "GET /albums: invalid JSON at byte "));
    buf_release(&r.text);
    buf_reset(&body);
    listing(&body, 2, ",7,");
    fetch_listing(body.buf, &r);
    assert_string_equal(r.error, "GET /albums: [1]: expected an object");
    buf_release(&r.text);
    fetch_listing("{\"albums\":[]}", &r);
    assert_false(r.ok);
    buf_release(&r.text);
    buf_release(&body);
    buf_release(&want);
}

/* ---- membership pages: ids only -------------------------------------------
 */

struct ids_result {
    bool ok;
    size_t nr;
    long next;
    struct uuid ids[4];
    char error[256];
};

static void on_ids(void *ctx, const struct api_status *st,
                   const struct api_asset *assets, size_t nr, long next)
{
    struct ids_result *r = ctx;

    KEEP_STATUS(r, st, nr);
    r->next = next;
    for (size_t i = 0; i < nr && i < 4; i++)
        r->ids[i] = assets[i].id;
}

/* q answered with body, the page to cb. */
static void run_search(const char *body, const struct api_search *q,
                       api_page_fn *cb, void *r)
{
    struct fixture f;

    serve(200, body);
    fx_open(&f);
    api_search_metadata(&f.api, q, cb, r);
    fx_run_close(&f);
}

static void search_page(const char *body, bool ids_only, struct ids_result *r)
{
    struct api_search q = API_SEARCH_INIT;

    memset(r, 0, sizeof(*r));
    q.ids_only = ids_only;
    run_search(body, &q, on_ids, r);
}

/* Knows ID1 only (api_search.known). */
static bool knows_id1(void *ctx, const struct uuid *id)
{
    struct uuid id1;

    (void)ctx;
    uuid_parse(ID1, 36, &id1);
    return uuid_eq(id, &id1);
}

static void known_page(const char *body, struct page_result *r)
{
    struct api_search q = API_SEARCH_INIT;

    memset(r, 0, sizeof(*r));
    q.ids_only = true;
    q.known = knows_id1;
    run_search(body, &q, on_page, r);
}

/*
 * A membership answer that completes a short EXIF pass: the assets the
 * caller knows are read by id alone (their other fields neither decoded
 * nor checked), the others whole and checked as a pass's page.
 */
static void test_membership_pages_decode_unknown_assets_whole(void **state)
{
    static const char mixed[] = "{\"assets\":{\"items\":[" ASSET(
        ID2, OWN, "") ",{\"id\":\"" ID1
                      "\",\"fileCreatedAt\":\"not a date\",\"ownerId\":7}],"
                      "\"nextPage\":null}}";
    static const char unknown_sparse[] =
        "{\"assets\":{\"items\":[{\"id\":\"" ID1 "\"},{\"id\":\"" ID2
        "\",\"fileCreatedAt\":\"not a date\"}],\"nextPage\":null}}";
    struct page_result r;
    struct uuid own, id1;

    (void)state;
    uuid_parse(OWN, 36, &own);
    uuid_parse(ID1, 36, &id1);
    known_page(mixed, &r);
    assert_true(r.ok);
    assert_int_equal(r.nr, 2);
    assert_true(uuid_eq(&r.first.owner, &own));
    assert_int_equal(r.first.visibility, 1); /* archive */
    assert_true(r.first.video);
    assert_int_equal(r.first.file_created_at, 1718457242251LL);
    assert_true(uuid_eq(&r.second.id, &id1));
    assert_int_equal(r.second.file_created_at, 0); /* not decoded */
    known_page(unknown_sparse, &r);
    assert_false(r.ok);
    assert_non_null(strstr(r.error, "assets.items[1].fileCreatedAt"));
}

/*
 * A membership query reads its assets' ids alone (the snapshot's pages
 * decoded the rest already): the other fields are neither decoded nor
 * checked, the id still is, and the page's nextPage too.
 */
static void test_membership_pages_read_ids_only(void **state)
{
    static const char sparse[] =
        "{\"assets\":{\"items\":[{\"id\":\"" ID1
        "\",\"fileCreatedAt\":\"not a date\",\"exifInfo\":{\"x\":1}},"
        "{\"id\":\"" ID2 "\",\"ownerId\":7}],\"nextPage\":\"2\"}}";
    static const char bad_id[] = "{\"assets\":{\"items\":[{\"id\":\"" ID1
                                 "\"},{\"id\":\"nope\"}],\"nextPage\":null}}";
    static const char no_id[] = "{\"assets\":{\"items\":[{\"ownerId\":\"" OWN
                                "\"}],\"nextPage\":null}}";
    struct ids_result r;
    struct uuid id1, id2;

    (void)state;
    uuid_parse(ID1, 36, &id1);
    uuid_parse(ID2, 36, &id2);
    search_page(sparse, true, &r);
    assert_true(r.ok);
    assert_int_equal(r.nr, 2);
    assert_int_equal(r.next, 2);
    assert_true(uuid_eq(&r.ids[0], &id1));
    assert_true(uuid_eq(&r.ids[1], &id2));
    /* the full decoder refuses the same page */
    search_page(sparse, false, &r);
    assert_false(r.ok);
    assert_non_null(strstr(r.error, "assets.items[0].fileCreatedAt"));
    search_page(bad_id, true, &r);
    assert_false(r.ok);
    assert_string_equal(r.error, "POST /search/metadata: assets.items[1].id: "
                                 "expected a UUID string");
    search_page(no_id, true, &r);
    assert_false(r.ok);
    assert_string_equal(r.error, "POST /search/metadata: assets.items[0].id: "
                                 "expected a UUID string");
}

struct me_result {
    bool ok;
    enum api_fail kind;
    long http;
    char error[256];
};

static void on_me(void *ctx, const struct api_status *st,
                  const struct api_user *u)
{
    struct me_result *r = ctx;

    r->ok = st->ok;
    r->kind = st->kind;
    r->http = st->http;
    snprintf(r->error, sizeof(r->error), "%s", st->error);
    if (st->ok)
        assert_string_equal(u->email, "john@example.com");
}

static void test_errors_carry_endpoint_status_and_message(void **state)
{
    struct fixture f;
    struct me_result r;

    (void)state;
    serve(401, "{\"message\":\"Invalid API key\",\"statusCode\":401}");
    memset(&r, 0, sizeof(r));
    fx_open(&f);
    api_users_me(&f.api, on_me, &r);
    fx_run_close(&f);
    assert_false(r.ok);
    assert_int_equal(r.kind, API_FAIL_AUTH);
    assert_int_equal(r.http, 401);
    assert_string_equal(r.error, "GET /users/me: 401 Invalid API key");
    assert_null(strstr(r.error, "k3y-not-printed"));

    serve(400, "{\"message\":[\"email must be a string\",\"x\"]}");
    fx_open(&f);
    api_users_me(&f.api, on_me, &r);
    fx_run_close(&f);
    assert_int_equal(r.kind, API_FAIL_HTTP);
    assert_string_equal(r.error,
                        "GET /users/me: 400 email must be a string; x");

    serve(200, "{\"id\":\"" ID1 "\",\"email\":\"john@example.com\","
               "\"name\":\"John\"}");
    fx_open(&f);
    api_users_me(&f.api, on_me, &r);
    fx_run_close(&f);
    assert_true(r.ok);

    serve(200, "{\"id\":\"" ID1 "\",\"email\":null,\"name\":\"John\"}");
    fx_open(&f);
    api_users_me(&f.api, on_me, &r);
    fx_run_close(&f);
    assert_int_equal(r.kind, API_FAIL_DECODE);
    assert_string_equal(r.error, "GET /users/me: email: expected a string");
}

struct bulk_result {
    bool ok;
    size_t nr;
    struct api_bulk_item items[4];
    char error[256];
};

static void on_bulk(void *ctx, const struct api_status *st,
                    const struct api_bulk_item *items, size_t nr)
{
    struct bulk_result *r = ctx;

    KEEP_STATUS(r, st, nr);
    for (size_t i = 0; i < nr && i < 4; i++)
        r->items[i] = items[i];
}

static void test_bulk_tag_add_sends_ids_and_decodes_outcomes(void **state)
{
    struct fixture f;
    struct bulk_result r;
    struct uuid tag, ids[3];

    (void)state;
    uuid_parse(ID1, 36, &tag);
    uuid_parse(ID1, 36, &ids[0]);
    uuid_parse(ID2, 36, &ids[1]);
    uuid_parse(OWN, 36, &ids[2]);
    serve(200, "[{\"id\":\"" ID1 "\",\"success\":true},"
               "{\"id\":\"" ID2 "\",\"success\":false,\"error\":"
               "\"duplicate\"},{\"id\":\"" OWN "\",\"success\":false,"
               "\"error\":\"no_permission\"}]");
    memset(&r, 0, sizeof(r));
    fx_open(&f);
    api_tag_assets_add(&f.api, &tag, ids, 3, on_bulk, &r);
    fx_run_close(&f);
    assert_string_equal(got_method, "PUT");
    assert_string_equal(got_url, "/api/tags/" ID1 "/assets");
    assert_string_equal(got_body,
                        "{\"ids\":[\"" ID1 "\",\"" ID2 "\",\"" OWN "\"]}");
    assert_true(r.ok);
    assert_int_equal(r.nr, 3);
    assert_true(r.items[0].success);
    assert_int_equal(r.items[1].error, API_BULK_DUPLICATE);
    assert_int_equal(r.items[2].error, API_BULK_NO_PERMISSION);

    serve(200, "[{\"id\":\"" ID1 "\",\"success\":false,\"error\":\"odd\"}]");
    fx_open(&f);
    api_album_assets_remove(&f.api, &tag, ids, 1, on_bulk, &r);
    fx_run_close(&f);
    assert_string_equal(got_method, "DELETE");
    assert_string_equal(got_url, "/api/albums/" ID1 "/assets");
    assert_false(r.ok);
    assert_string_equal(r.error,
                        "DELETE /albums/{id}/assets: [0].error: expected "
                        "duplicate, no_permission, not_found, unknown or "
                        "validation");
}

static void test_search_body_and_date_formats(void **state)
{
    struct fixture f;
    struct page_result r;
    struct api_search q = API_SEARCH_INIT;
    struct uuid album;
    char date[64];

    (void)state;
    uuid_parse(ID1, 36, &album);
    serve(200, "{\"assets\":{\"items\":[],\"nextPage\":null}}");
    q.page = 3;
    q.album = &album;
    q.visibility = "archive";
    q.taken_after = 0;
    q.not_in_album = true;
    memset(&r, 0, sizeof(r));
    fx_open(&f);
    api_search_metadata(&f.api, &q, on_page, &r);
    fx_run_close(&f);
    assert_true(r.ok);
    assert_int_equal(r.next, 0);
    assert_string_equal(got_body,
                        "{\"page\":3,\"size\":1000,\"takenAfter\":"
                        "\"1970-01-01T00:00:00.000Z\",\"albumIds\":[\"" ID1
                        "\"],\"visibility\":\"archive\","
                        "\"isNotInAlbum\":true}");
    api_format_date_offset(0, 120, date);
    assert_string_equal(date, "1970-01-01T02:00:00.000+02:00");
    api_format_date_offset(0, -330, date);
    assert_string_equal(date, "1969-12-31T18:30:00.000-05:30");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_search_page_decodes_fields_and_ignores_extras),
        cmocka_unit_test(test_search_page_names_the_bad_field),
        cmocka_unit_test(test_search_page_rejects_broken_json),
        cmocka_unit_test(test_albums_decode_both_dialects),
        cmocka_unit_test(test_album_listing_is_decoded_one_album_at_a_time),
        cmocka_unit_test(test_membership_pages_read_ids_only),
        cmocka_unit_test(test_membership_pages_decode_unknown_assets_whole),
        cmocka_unit_test(test_errors_carry_endpoint_status_and_message),
        cmocka_unit_test(test_bulk_tag_add_sends_ids_and_decodes_outcomes),
        cmocka_unit_test(test_search_body_and_date_formats),
    };

    return canned_main(tests, handler, NULL, http_global_cleanup);
}
