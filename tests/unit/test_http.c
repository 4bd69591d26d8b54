/*
 * test_http.c: the HTTP engine against a tiny libmicrohttpd server started
 * by the test on 127.0.0.1 (port chosen by the kernel).  Each route plays
 * one server behaviour: plain answers, 503 / 429 + Retry-After for the
 * first N calls, a reset connection, a truncated body, a slow answer.
 * Assertions are on counts and states, never on durations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "http/http_engine.h"

#include <pthread.h>
#include <time.h>

#include "canned_server.h"
#include "core/numparse.h"

/* ---- the mini server ---------------------------------------------------- */

static struct canned_server server;
static char base_url[64];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long hits[16];          /* calls per route */
static long fail_first = 2;    /* the flaky routes fail this many times */
static char last_api_key[128];
static char last_body[256];

enum route { RT_OK, RT_503, RT_429, RT_RESET, RT_TRUNC, RT_SLOW, RT_BIG,
             RT_ALWAYS503, RT_CREATE, RT_ECHO, RT_404, RT_COUNT };

static const char *const route_paths[] = {
    "/ok", "/flaky503", "/busy429", "/reset", "/trunc", "/slow", "/big",
    "/always503", "/create", "/echo", "/missing",
};

static long bump(enum route r)
{
    long n;

    pthread_mutex_lock(&lock);
    n = ++hits[r];
    pthread_mutex_unlock(&lock);
    return n;
}

static long count(enum route r)
{
    long n;

    pthread_mutex_lock(&lock);
    n = hits[r];
    pthread_mutex_unlock(&lock);
    return n;
}

static ssize_t trunc_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)cls;
    if (pos >= 10)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    if (max > 10 - pos)
        max = 10 - pos;
    memset(buf, 'x', max);
    return (ssize_t)max;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status,
                             const char *body, const char *retry_after)
{
    return canned_reply(c, status, body, retry_after ? "Retry-After" : NULL,
                        retry_after);
}

static enum MHD_Result handler(const struct canned_req *req, void *ctx)
{
    struct MHD_Connection *c = req->conn;
    const char *url = req->url;
    enum route r;
    long n;
    const char *key;

    (void)ctx;
    key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "x-api-key");
    pthread_mutex_lock(&lock);
    snprintf(last_api_key, sizeof(last_api_key), "%s", key ? key : "");
    snprintf(last_body, sizeof(last_body), "%s", req->body);
    pthread_mutex_unlock(&lock);
    for (r = 0; r < RT_COUNT; r++)
        if (!strcmp(url, route_paths[r]))
            break;
    if (r == RT_COUNT)
        return reply(c, 404, "{\"message\":\"Cannot GET\"}", NULL);
    n = bump(r);
    switch (r) {
    case RT_OK:
        return reply(c, 200, "{\"res\":\"pong\"}", NULL);
    case RT_503:
        if (n <= fail_first)
            return reply(c, 503, "{\"message\":\"busy\"}", NULL);
        return reply(c, 200, "{\"ok\":true}", NULL);
    case RT_429:
        if (n <= fail_first)
            return reply(c, 429, "{\"message\":\"slow down\"}", "1");
        return reply(c, 200, "{\"ok\":true}", NULL);
    case RT_RESET:
        if (n <= fail_first)
            return MHD_NO; /* closes the connection without an answer */
        return reply(c, 200, "{\"ok\":true}", NULL);
    case RT_TRUNC:
        if (n <= fail_first) {
            struct MHD_Response *resp = MHD_create_response_from_callback(
                100, 1024, trunc_reader, NULL, NULL);
            enum MHD_Result ret = MHD_queue_response(c, 200, resp);

            MHD_destroy_response(resp);
            return ret;
        }
        return reply(c, 200, "{\"ok\":true}", NULL);
    case RT_SLOW: {
        struct timespec ts = { 0, 100 * 1000 * 1000 };

        nanosleep(&ts, NULL);
        return reply(c, 200, "{\"slow\":true}", NULL);
    }
    case RT_BIG: {
        static char big[20000];

        memset(big, 'a', sizeof(big) - 1);
        return reply(c, 200, big, NULL);
    }
    case RT_ALWAYS503:
        return reply(c, 503, "{\"message\":\"down\"}", NULL);
    case RT_CREATE:
        return reply(c, 503, "{\"message\":\"busy\"}", NULL);
    case RT_ECHO: {
        char copy[256];

        pthread_mutex_lock(&lock);
        snprintf(copy, sizeof(copy), "%s", last_body);
        pthread_mutex_unlock(&lock);
        return reply(c, 200, copy, NULL);
    }
    default:
        return reply(c, 404, "{}", NULL);
    }
}

static int server_up(void **state)
{
    (void)state;
    if (canned_start(&server, handler, NULL) < 0)
        return -1;
    snprintf(base_url, sizeof(base_url), "%s", server.url);
    return 0;
}

static int server_down(void **state)
{
    (void)state;
    canned_stop(&server);
    http_global_cleanup();
    return 0;
}

static int reset_hits(void **state)
{
    (void)state;
    pthread_mutex_lock(&lock);
    memset(hits, 0, sizeof(hits));
    fail_first = 2;
    pthread_mutex_unlock(&lock);
    return 0;
}

/* ---- client side helpers ------------------------------------------------ */

struct tally {
    long ok, network, too_big, cancelled;
    long last_status;
    int last_attempts;
    long last_waited_ms;
    char last_error[256];
    char last_body[256];
    struct http_engine *wrap_on_first; /* wrap up at the first completion */
    volatile sig_atomic_t *stop_on_first;
    int chain;                          /* submit this many more, one by one */
};

static void on_done(const struct http_response *resp, void *ctx)
{
    struct tally *t = ctx;

    switch (resp->result) {
    case HTTP_RESULT_OK:
        t->ok++;
        break;
    case HTTP_RESULT_NETWORK:
        t->network++;
        break;
    case HTTP_RESULT_TOO_BIG:
        t->too_big++;
        break;
    case HTTP_RESULT_CANCELLED:
        t->cancelled++;
        break;
    }
    t->last_status = resp->status;
    t->last_attempts = resp->attempts;
    t->last_waited_ms = resp->waited_ms;
    snprintf(t->last_error, sizeof(t->last_error), "%s", resp->error);
    snprintf(t->last_body, sizeof(t->last_body), "%s", resp->body->buf);
    if (t->wrap_on_first) {
        http_engine_wrap_up(t->wrap_on_first);
        t->wrap_on_first = NULL;
    }
    if (t->stop_on_first) {
        *t->stop_on_first = 1;
        t->stop_on_first = NULL;
    }
}

static struct http_engine *engine(long concurrency, struct buf *err)
{
    struct http_engine_opts o = HTTP_ENGINE_OPTS_INIT;

    o.base_url = base_url;
    o.api_key = "secret-key-123";
    o.concurrency = concurrency;
    o.retry_base_ms = 5;
    o.retry_max_ms = 20;
    o.jitter_seed = 42;
    return http_engine_new(&o, err);
}

static void submit(struct http_engine *e, const char *method,
                   const char *path, bool safe, struct tally *t)
{
    struct http_call c = HTTP_CALL_INIT;

    c.method = method;
    c.path = path;
    c.endpoint = path;
    c.retry_safe = safe;
    c.done = on_done;
    c.ctx = t;
    assert_int_equal(http_engine_submit(e, &c), 0);
}

static void run(struct http_engine *e)
{
    struct buf err = BUF_INIT;

    assert_int_equal(http_engine_run(e, &err), 0);
    buf_release(&err);
}

/* ---- tests -------------------------------------------------------------- */

static void test_sequential_requests_reuse_one_connection(void **state)
{
    struct buf err = BUF_INIT;
    struct http_engine *e = engine(1, &err);
    struct tally t = { 0 };
    struct http_totals tot;
    struct http_endpoint_stats s;

    (void)state;
    assert_non_null(e);
    for (int i = 0; i < 10; i++)
        submit(e, "GET", "/ok", true, &t);
    run(e);
    assert_int_equal(t.ok, 10);
    assert_int_equal(t.last_status, 200);
    assert_string_equal(t.last_body, "{\"res\":\"pong\"}");
    http_metrics_totals(e, &tot);
    assert_int_equal(tot.connections, 1);
    assert_int_equal(tot.requests, 10);
    assert_int_equal(http_metrics_find(e, "/ok", &s), 0);
    assert_int_equal(s.calls, 10);
    assert_int_equal(s.errors, 0);
    assert_int_equal(s.retries, 0);
    assert_int_equal(s.bytes_in, 10 * strlen("{\"res\":\"pong\"}"));
    assert_true(s.p50_s <= s.p95_s && s.p95_s <= s.max_s);
    assert_string_equal(last_api_key, "secret-key-123");
    http_engine_free(e);
    buf_release(&err);
}

static void test_parallel_requests_stay_under_the_limit(void **state)
{
    struct buf err = BUF_INIT;
    struct http_engine *e = engine(3, &err);
    struct tally t = { 0 };
    struct http_totals tot;

    (void)state;
    for (int i = 0; i < 9; i++)
        submit(e, "GET", "/slow", true, &t);
    run(e);
    assert_int_equal(t.ok, 9);
    http_metrics_totals(e, &tot);
    /* One connection per slot, reused: never more than the limit. */
    assert_true(tot.connections >= 1 && tot.connections <= 3);
    http_engine_free(e);
    buf_release(&err);
}

static void test_503_is_retried_until_success(void **state)
{
    struct buf err = BUF_INIT;
    struct http_engine *e = engine(2, &err);
    struct tally t = { 0 };
    struct http_endpoint_stats s;

    (void)state;
    submit(e, "GET", "/flaky503", true, &t);
    run(e);
    assert_int_equal(t.ok, 1);
    assert_int_equal(t.last_status, 200);
    assert_int_equal(t.last_attempts, 3);
    assert_int_equal(count(RT_503), 3);
    assert_int_equal(http_metrics_find(e, "/flaky503", &s), 0);
    assert_int_equal(s.calls, 3);
    assert_int_equal(s.retries, 2);
    assert_int_equal(s.errors, 0);
    http_engine_free(e);
    buf_release(&err);
}

static void test_429_honours_retry_after(void **state)
{
    struct buf err = BUF_INIT;
    struct http_engine *e = engine(2, &err);
    struct tally t = { 0 };

    (void)state;
    fail_first = 1;
    submit(e, "GET", "/busy429", true, &t);
    run(e);
    assert_int_equal(t.ok, 1);
    assert_int_equal(t.last_status, 200);
    assert_int_equal(t.last_attempts, 2);
    /* The delay scheduled was the server's "Retry-After: 1", not the
     * 5..20 ms backoff of this engine. */
    assert_int_equal(t.last_waited_ms, 1000);
    http_engine_free(e);
    buf_release(&err);
}

static void test_reset_and_truncated_bodies_are_retried(void **state)
{
    struct buf err = BUF_INIT;
    struct http_engine *e = engine(2, &err);
    struct tally t = { 0 };

    (void)state;
    submit(e, "GET", "/reset", true, &t);
    submit(e, "GET", "/trunc", true, &t);
    run(e);
    assert_int_equal(t.ok, 2);
    assert_int_equal(t.network, 0);
    assert_int_equal(count(RT_RESET), 3);
    assert_int_equal(count(RT_TRUNC), 3);
    http_engine_free(e);
    buf_release(&err);
}

static void test_create_is_never_retried(void **state)
{
    struct buf err = BUF_INIT;
    struct http_engine *e = engine(2, &err);
    struct tally t = { 0 };
    struct http_endpoint_stats s;

    (void)state;
    submit(e, "POST", "/create", false, &t);
    run(e);
    assert_int_equal(t.ok, 1);
    assert_int_equal(t.last_status, 503);
    assert_int_equal(t.last_attempts, 1);
    assert_int_equal(count(RT_CREATE), 1);
    assert_int_equal(http_metrics_find(e, "/create", &s), 0);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.retries, 0);
    assert_int_equal(s.errors, 1);
    http_engine_free(e);
    buf_release(&err);
}

static void test_retries_are_bounded(void **state)
{
    struct buf err = BUF_INIT;
    struct http_engine_opts o = HTTP_ENGINE_OPTS_INIT;
    struct http_engine *e;
    struct tally t = { 0 };
    struct http_endpoint_stats s;

    (void)state;
    o.base_url = base_url;
    o.retry_base_ms = 1;
    o.retry_max_ms = 4;
    o.max_retries = 3;
    e = http_engine_new(&o, &err);
    submit(e, "GET", "/always503", true, &t);
    run(e);
    assert_int_equal(t.ok, 1);
    assert_int_equal(t.last_status, 503);
    assert_int_equal(t.last_attempts, 4);
    assert_int_equal(count(RT_ALWAYS503), 4);
    assert_int_equal(http_metrics_find(e, "/always503", &s), 0);
    assert_int_equal(s.retries, 3);
    assert_int_equal(s.errors, 1);
    http_engine_free(e);
    buf_release(&err);
}

static void test_server_never_reached_fails_without_retries(void **state)
{
    struct buf err = BUF_INIT;
    struct http_engine_opts o = HTTP_ENGINE_OPTS_INIT;
    struct http_engine *e;
    struct tally t = { 0 };

    (void)state;
    /* Port 1 on loopback: connection refused at once.  A server that
     * never answered is not retried (wrong address, not started). */
    o.base_url = "http://127.0.0.1:1";
    o.retry_base_ms = 1;
    o.retry_max_ms = 2;
    o.max_retries = 2;
    o.api_key = "secret-key-123";
    e = http_engine_new(&o, &err);
    submit(e, "GET", "/ok", true, &t);
    run(e);
    assert_int_equal(t.network, 1);
    assert_int_equal(t.last_attempts, 1);
    assert_int_equal(t.last_status, 0);
    assert_true(t.last_error[0] != '\0');
    assert_null(strstr(t.last_error, "secret-key-123"));
    http_engine_free(e);
    buf_release(&err);
}

static void test_wrap_up_cancels_queued_and_lets_in_flight_finish(void **state)
{
    struct buf err = BUF_INIT;
    struct http_engine *e = engine(2, &err);
    struct tally t = { 0 };

    (void)state;
    for (int i = 0; i < 20; i++)
        submit(e, "GET", "/slow", true, &t);
    t.wrap_on_first = e;
    run(e);
    assert_int_equal(t.ok, 2);
    assert_int_equal(t.cancelled, 18);
    assert_int_equal(count(RT_SLOW), 2);
    assert_true(http_engine_is_wrapping_up(e));
    /* Nothing new is accepted once wrapping up. */
    {
        struct http_call c = HTTP_CALL_INIT;

        c.method = "GET";
        c.path = "/ok";
        assert_int_equal(http_engine_submit(e, &c), -1);
    }
    http_engine_free(e);
    buf_release(&err);
}

static void test_stop_flag_wraps_up(void **state)
{
    struct buf err = BUF_INIT;
    struct http_engine_opts o = HTTP_ENGINE_OPTS_INIT;
    volatile sig_atomic_t stop = 0;
    struct http_engine *e;
    struct tally t = { 0 };

    (void)state;
    o.base_url = base_url;
    o.concurrency = 1;
    o.stop = &stop;
    e = http_engine_new(&o, &err);
    for (int i = 0; i < 5; i++)
        submit(e, "GET", "/ok", true, &t);
    t.stop_on_first = &stop;
    run(e);
    assert_int_equal(t.ok, 1);
    assert_int_equal(t.cancelled, 4);
    assert_int_equal(count(RT_OK), 1);
    http_engine_free(e);
    buf_release(&err);
}

static void test_oversized_body_fails_as_too_big(void **state)
{
    struct buf err = BUF_INIT;
    struct http_engine_opts o = HTTP_ENGINE_OPTS_INIT;
    struct http_engine *e;
    struct tally t = { 0 };

    (void)state;
    o.base_url = base_url;
    o.body_max = 1000;
    e = http_engine_new(&o, &err);
    submit(e, "GET", "/big", true, &t);
    run(e);
    assert_int_equal(t.too_big, 1);
    assert_int_equal(count(RT_BIG), 1); /* not retried */
    assert_non_null(strstr(t.last_error, "larger than 1000"));
    http_engine_free(e);
    buf_release(&err);
}

static void on_chain(const struct http_response *resp, void *ctx);

static void chain_next(struct http_engine *e, struct tally *t)
{
    struct http_call c = HTTP_CALL_INIT;

    c.method = "GET";
    c.path = "/ok";
    c.endpoint = "GET /ok";
    c.retry_safe = true;
    c.done = on_chain;
    c.ctx = t;
    assert_int_equal(http_engine_submit(e, &c), 0);
}

static struct http_engine *chain_engine;

static void on_chain(const struct http_response *resp, void *ctx)
{
    struct tally *t = ctx;

    if (resp->result == HTTP_RESULT_OK)
        t->ok++;
    if (t->chain-- > 0)
        chain_next(chain_engine, t);
}

static void test_callbacks_may_submit_the_next_page(void **state)
{
    struct buf err = BUF_INIT;
    struct tally t = { 0 };
    struct http_endpoint_stats s;

    (void)state;
    chain_engine = engine(4, &err);
    t.chain = 4;
    chain_next(chain_engine, &t);
    run(chain_engine);
    assert_int_equal(t.ok, 5);
    assert_int_equal(http_metrics_find(chain_engine, "GET /ok", &s), 0);
    assert_int_equal(s.calls, 5);
    http_engine_free(chain_engine);
    buf_release(&err);
}

static void test_bodies_are_sent_and_metrics_print(void **state)
{
    struct buf err = BUF_INIT;
    struct http_engine *e = engine(1, &err);
    struct tally t = { 0 };
    struct http_call c = HTTP_CALL_INIT;
    struct buf table = BUF_INIT, json = BUF_INIT;
    const char *body = "{\"ids\":[\"a\"]}";

    (void)state;
    c.method = "PUT";
    c.path = "/echo";
    c.endpoint = "PUT /echo";
    c.body = body;
    c.body_len = strlen(body);
    c.retry_safe = true;
    c.done = on_done;
    c.ctx = &t;
    assert_int_equal(http_engine_submit(e, &c), 0);
    submit(e, "GET", "/missing", true, &t);
    run(e);
    assert_int_equal(t.ok, 2);
    http_metrics_table(e, &table);
    http_metrics_json(e, &json);
    assert_non_null(strstr(table.buf, "PUT /echo"));
    assert_non_null(strstr(json.buf, "\"endpoint\":\"PUT /echo\",\"calls\":1,"
                                     "\"errors\":0,\"retries\":0"));
    assert_non_null(strstr(json.buf, "\"endpoint\":\"/missing\",\"calls\":1,"
                                     "\"errors\":1"));
    assert_non_null(strstr(json.buf, "\"bytes_out\":13"));
    assert_null(strstr(table.buf, "secret-key-123"));
    assert_null(strstr(json.buf, "secret-key-123"));
    http_engine_free(e);
    buf_release(&table);
    buf_release(&json);
    buf_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup(f, reset_hits)
        T(test_sequential_requests_reuse_one_connection),
        T(test_parallel_requests_stay_under_the_limit),
        T(test_503_is_retried_until_success),
        T(test_429_honours_retry_after),
        T(test_reset_and_truncated_bodies_are_retried),
        T(test_create_is_never_retried),
        T(test_retries_are_bounded),
        T(test_server_never_reached_fails_without_retries),
        T(test_wrap_up_cancels_queued_and_lets_in_flight_finish),
        T(test_stop_flag_wraps_up),
        T(test_oversized_body_fails_as_too_big),
        T(test_callbacks_may_submit_the_next_page),
        T(test_bodies_are_sent_and_metrics_print),
#undef T
    };

    return cmocka_run_group_tests(tests, server_up, server_down);
}
