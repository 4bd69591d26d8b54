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

#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "canned_server.h"
#include "core/numparse.h"
#include "sim_harness.h"

/* ---- the mini server ---------------------------------------------------- */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long hits[16];       /* calls per route */
static long fail_first = 2; /* the flaky routes fail this many times */
static char last_api_key[128];
static char last_accept_encoding[64];
static char last_body[256];

enum route {
    RT_OK,
    RT_503,
    RT_429,
    RT_RESET,
    RT_TRUNC,
    RT_SLOW,
    RT_BIG,
    RT_ALWAYS503,
    RT_CREATE,
    RT_ECHO,
    RT_404,
    RT_REDIRECT,
    RT_COUNT
};

static const char *const route_paths[] = {
    "/ok",  "/flaky503",  "/busy429", "/reset", "/trunc",   "/slow",
    "/big", "/always503", "/create",  "/echo",  "/missing", "/api/server/about",
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
    key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding");
    snprintf(last_accept_encoding, sizeof(last_accept_encoding), "%s",
             key ? key : "(none)");
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
        struct timespec ts = {0, 100 * 1000 * 1000};

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
    case RT_REDIRECT: {
        /* What a reverse proxy does for http:// when only https serves. */
        struct MHD_Response *resp = MHD_create_response_from_buffer(
            0, (void *)"", MHD_RESPMEM_PERSISTENT);
        enum MHD_Result ret;

        MHD_add_response_header(resp, "Location",
                                "https://photos.example/api/server/about");
        ret = MHD_queue_response(c, 301, resp);
        MHD_destroy_response(resp);
        return ret;
    }
    default:
        return reply(c, 404, "{}", NULL);
    }
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
    int chain; /* submit this many more, one by one */
};

static void on_done(const struct http_response *resp, void *ctx)
{
    struct tally *t = ctx;

    long *const by_result[] = {
        [HTTP_RESULT_OK] = &t->ok,
        [HTTP_RESULT_NETWORK] = &t->network,
        [HTTP_RESULT_TOO_BIG] = &t->too_big,
        [HTTP_RESULT_CANCELLED] = &t->cancelled,
    };

    assert_in_range(resp->result, 0, ARRAY_SIZE(by_result) - 1);
    (*by_result[resp->result])++;
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

/* An engine on the canned server and the tally of its answers. */
struct fx {
    struct buf err;
    struct http_engine *e;
    struct tally t;
};

/* An engine made with o (on the canned server unless o names a URL);
 * f->e is NULL, f->err says why, when it cannot be made. */
static void fx_open_with(struct fx *f, struct http_engine_opts *o)
{
    memset(f, 0, sizeof(*f));
    f->err = (struct buf)BUF_INIT;
    if (!o->base_url)
        o->base_url = canned_group_url();
    f->e = http_engine_new(o, &f->err);
}

/* An engine of `concurrency` slots, with short retry delays. */
static void fx_open(struct fx *f, long concurrency)
{
    struct http_engine_opts o = HTTP_ENGINE_OPTS_INIT;

    o.api_key = "secret-key-123";
    o.concurrency = concurrency;
    o.retry_base_ms = 5;
    o.retry_max_ms = 20;
    o.jitter_seed = 42;
    fx_open_with(f, &o);
}

static void fx_close(struct fx *f)
{
    http_engine_free(f->e);
    buf_release(&f->err);
}

static void submit(struct http_engine *e, const char *method, const char *path,
                   bool safe, struct tally *t)
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

/* The tally's answers: ok ones, and the last one's status and attempts. */
static void assert_answers(const struct tally *t, long ok, long status,
                           int attempts)
{
    assert_int_equal(t->ok, ok);
    assert_int_equal(t->last_status, status);
    assert_int_equal(t->last_attempts, attempts);
}

/* The engine's metrics of endpoint; a count of -1 is not checked. */
static void assert_endpoint(struct http_engine *e, const char *endpoint,
                            long calls, long retries, long errors)
{
    struct http_endpoint_stats s;

    assert_int_equal(http_metrics_find(e, endpoint, &s), 0);
    if (calls >= 0)
        assert_int_equal(s.calls, calls);
    if (retries >= 0)
        assert_int_equal(s.retries, retries);
    if (errors >= 0)
        assert_int_equal(s.errors, errors);
}

/* One network failure, after attempts, with the message error. */
static void assert_network_failure(const struct tally *t, int attempts,
                                   const char *error)
{
    assert_int_equal(t->network, 1);
    assert_int_equal(t->last_attempts, attempts);
    assert_string_equal(t->last_error, error);
}

/* ---- tests -------------------------------------------------------------- */

static void test_sequential_requests_reuse_one_connection(void **state)
{
    struct fx f;
    struct http_totals tot;
    struct http_endpoint_stats s;

    (void)state;
    fx_open(&f, 1);
    assert_non_null(f.e);
    for (int i = 0; i < 10; i++)
        submit(f.e, "GET", "/ok", true, &f.t);
    run(f.e);
    assert_int_equal(f.t.ok, 10);
    assert_int_equal(f.t.last_status, 200);
    assert_string_equal(f.t.last_body, "{\"res\":\"pong\"}");
    http_metrics_totals(f.e, &tot);
    assert_int_equal(tot.connections, 1);
    assert_int_equal(tot.requests, 10);
    assert_endpoint(f.e, "/ok", 10, 0, 0);
    assert_int_equal(http_metrics_find(f.e, "/ok", &s), 0);
    assert_int_equal(s.bytes_in, 10 * strlen("{\"res\":\"pong\"}"));
    assert_true(s.p50_s <= s.p95_s && s.p95_s <= s.max_s);
    assert_string_equal(last_api_key, "secret-key-123");
    fx_close(&f);
}

static void test_parallel_requests_stay_under_the_limit(void **state)
{
    struct fx f;
    struct http_totals tot;

    (void)state;
    fx_open(&f, 3);
    for (int i = 0; i < 9; i++)
        submit(f.e, "GET", "/slow", true, &f.t);
    run(f.e);
    assert_int_equal(f.t.ok, 9);
    http_metrics_totals(f.e, &tot);
    /* One connection per slot, reused: never more than the limit. */
    assert_true(tot.connections >= 1 && tot.connections <= 3);
    fx_close(&f);
}

/* One request and what should come of it: its answer, how often the
 * server saw it, and the engine's metrics of it. */
struct one_call {
    const char *method, *path;
    bool safe;
    long status;
    int attempts;
    enum route route;
    int seen;
    long calls, retries, errors;
};

/* Sends w's request alone on an engine of 2 and checks what came of it. */
static void check_one_call(const struct one_call *w)
{
    struct fx f;

    fx_open(&f, 2);
    submit(f.e, w->method, w->path, w->safe, &f.t);
    run(f.e);
    assert_answers(&f.t, 1, w->status, w->attempts);
    assert_int_equal(count(w->route), w->seen);
    assert_endpoint(f.e, w->path, w->calls, w->retries, w->errors);
    fx_close(&f);
}

/* The cases of check_one_call(), each a test of its own in main(). */
static struct one_call one_calls[] = {
    /* a 503 is retried until the server answers */
    {"GET", "/flaky503", true, 200, 3, RT_503, 3, 3, 2, 0},
    /* a create (not safe to send twice) is never retried */
    {"POST", "/create", false, 503, 1, RT_CREATE, 1, 1, 0, 1},
};

static void test_one_call(void **state)
{
    check_one_call(*state);
}

static void test_429_honours_retry_after(void **state)
{
    struct fx f;

    (void)state;
    fx_open(&f, 2);
    fail_first = 1;
    submit(f.e, "GET", "/busy429", true, &f.t);
    run(f.e);
    assert_answers(&f.t, 1, 200, 2);
    /* The delay scheduled was the server's "Retry-After: 1", not the
     * 5..20 ms backoff of this engine. */
    assert_int_equal(f.t.last_waited_ms, 1000);
    fx_close(&f);
}

static void test_reset_and_truncated_bodies_are_retried(void **state)
{
    struct fx f;

    (void)state;
    fx_open(&f, 2);
    submit(f.e, "GET", "/reset", true, &f.t);
    submit(f.e, "GET", "/trunc", true, &f.t);
    run(f.e);
    assert_int_equal(f.t.ok, 2);
    assert_int_equal(f.t.network, 0);
    assert_int_equal(count(RT_RESET), 3);
    assert_int_equal(count(RT_TRUNC), 3);
    fx_close(&f);
}

static void test_retries_are_bounded(void **state)
{
    struct http_engine_opts o = HTTP_ENGINE_OPTS_INIT;
    struct fx f;

    (void)state;
    o.retry_base_ms = 1;
    o.retry_max_ms = 4;
    o.max_retries = 3;
    fx_open_with(&f, &o);
    submit(f.e, "GET", "/always503", true, &f.t);
    run(f.e);
    assert_answers(&f.t, 1, 503, 4);
    assert_int_equal(count(RT_ALWAYS503), 4);
    assert_endpoint(f.e, "/always503", -1, 3, 1);
    fx_close(&f);
}

static void test_server_never_reached_fails_without_retries(void **state)
{
    struct http_engine_opts o = HTTP_ENGINE_OPTS_INIT;
    struct fx f;

    (void)state;
    /* Port 1 on loopback: connection refused at once.  A server that
     * never answered is not retried (wrong address, not started). */
    o.base_url = "http://127.0.0.1:1";
    o.retry_base_ms = 1;
    o.retry_max_ms = 2;
    o.max_retries = 2;
    o.api_key = "secret-key-123";
    fx_open_with(&f, &o);
    submit(f.e, "GET", "/ok", true, &f.t);
    run(f.e);
    assert_int_equal(f.t.network, 1);
    assert_int_equal(f.t.last_attempts, 1);
    assert_int_equal(f.t.last_status, 0);
    assert_true(f.t.last_error[0] != '\0');
    assert_null(strstr(f.t.last_error, "secret-key-123"));
    fx_close(&f);
}

static void test_wrap_up_cancels_queued_and_lets_in_flight_finish(void **state)
{
    struct fx f;

    (void)state;
    fx_open(&f, 2);
    for (int i = 0; i < 20; i++)
        submit(f.e, "GET", "/slow", true, &f.t);
    f.t.wrap_on_first = f.e;
    run(f.e);
    assert_int_equal(f.t.ok, 2);
    assert_int_equal(f.t.cancelled, 18);
    assert_int_equal(count(RT_SLOW), 2);
    assert_true(http_engine_is_wrapping_up(f.e));
    /* Nothing new is accepted once wrapping up. */
    {
        struct http_call c = HTTP_CALL_INIT;

        c.method = "GET";
        c.path = "/ok";
        assert_int_equal(http_engine_submit(f.e, &c), -1);
    }
    fx_close(&f);
}

static void test_stop_flag_wraps_up(void **state)
{
    struct http_engine_opts o = HTTP_ENGINE_OPTS_INIT;
    volatile sig_atomic_t stop = 0;
    struct fx f;

    (void)state;
    o.concurrency = 1;
    o.stop = &stop;
    fx_open_with(&f, &o);
    for (int i = 0; i < 5; i++)
        submit(f.e, "GET", "/ok", true, &f.t);
    f.t.stop_on_first = &stop;
    run(f.e);
    assert_int_equal(f.t.ok, 1);
    assert_int_equal(f.t.cancelled, 4);
    assert_int_equal(count(RT_OK), 1);
    fx_close(&f);
}

static void test_oversized_body_fails_as_too_big(void **state)
{
    struct http_engine_opts o = HTTP_ENGINE_OPTS_INIT;
    struct fx f;

    (void)state;
    o.body_max = 1000;
    fx_open_with(&f, &o);
    submit(f.e, "GET", "/big", true, &f.t);
    run(f.e);
    assert_int_equal(f.t.too_big, 1);
    assert_int_equal(count(RT_BIG), 1); /* not retried */
    assert_non_null(strstr(f.t.last_error, "larger than 1000"));
    fx_close(&f);
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
    struct fx f;

    (void)state;
    fx_open(&f, 4);
    chain_engine = f.e;
    f.t.chain = 4;
    chain_next(chain_engine, &f.t);
    run(chain_engine);
    assert_int_equal(f.t.ok, 5);
    assert_endpoint(chain_engine, "GET /ok", 5, -1, -1);
    fx_close(&f);
}

static void test_bodies_are_sent_and_metrics_print(void **state)
{
    struct fx f;
    struct http_call c = HTTP_CALL_INIT;
    struct buf table = BUF_INIT, json = BUF_INIT;
    const char *body = "{\"ids\":[\"a\"]}";

    (void)state;
    fx_open(&f, 1);
    c.method = "PUT";
    c.path = "/echo";
    c.endpoint = "PUT /echo";
    c.body = body;
    c.body_len = strlen(body);
    c.retry_safe = true;
    c.done = on_done;
    c.ctx = &f.t;
    assert_int_equal(http_engine_submit(f.e, &c), 0);
    submit(f.e, "GET", "/missing", true, &f.t);
    run(f.e);
    assert_int_equal(f.t.ok, 2);
    http_metrics_table(f.e, &table);
    http_metrics_json(f.e, &json);
    assert_non_null(strstr(table.buf, "PUT /echo"));
    assert_non_null(strstr(json.buf, "\"endpoint\":\"PUT /echo\",\"calls\":1,"
                                     "\"errors\":0,\"retries\":0"));
    assert_non_null(strstr(json.buf, "\"endpoint\":\"/missing\",\"calls\":1,"
                                     "\"errors\":1"));
    assert_non_null(strstr(json.buf, "\"bytes_out\":13"));
    assert_null(strstr(table.buf, "secret-key-123"));
    assert_null(strstr(json.buf, "secret-key-123"));
    fx_close(&f);
    buf_release(&table);
    buf_release(&json);
}

/*
 * gzip is asked of remote servers only: on this host the bytes cost
 * nothing to carry and inflating them cost ~8 s of a 1m library's read.
 */
static void test_gzip_is_asked_of_remote_servers_only(void **state)
{
    struct fx f;
    char got[64];

    (void)state;
    fx_open(&f, 1);
    assert_false(http_url_compresses("http://127.0.0.1:2283"));
    assert_false(http_url_compresses("http://127.1.2.3:2283/api"));
    assert_false(http_url_compresses("http://LOCALHOST:2283"));
    assert_false(http_url_compresses("http://[::1]:2283"));
    assert_true(http_url_compresses("https://photos.example.org"));
    assert_true(http_url_compresses("http://192.168.1.5:2283"));
    assert_true(http_url_compresses("http://127.example.org:2283"));
    assert_true(http_url_compresses("http://10.0.0.127"));
    /* the engine's requests to this test's 127.0.0.1 server */
    submit(f.e, "GET", "/ok", true, &f.t);
    run(f.e);
    assert_int_equal(f.t.ok, 1);
    pthread_mutex_lock(&lock);
    snprintf(got, sizeof(got), "%s", last_accept_encoding);
    pthread_mutex_unlock(&lock);
    assert_string_equal(got, "(none)");
    fx_close(&f);
}

/* ---- time limits, signals, descriptors, messages ------------------------ */

/* A server that accepts connections and never answers. */
static int stalled_listener(char *url, size_t size)
{
    int fd = sim_listen_silent(url, size);

    assert_true(fd >= 0);
    return fd;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct wait_seen {
    char endpoint[64];
    long max_waited_s;
};

static void on_progress(void *ctx, size_t done, size_t total, size_t in_flight,
                        const struct http_wait *w)
{
    struct wait_seen *ws = ctx;

    (void)done;
    (void)total;
    (void)in_flight;
    if (w->endpoint && w->waited_s > ws->max_waited_s) {
        ws->max_waited_s = w->waited_s;
        snprintf(ws->endpoint, sizeof(ws->endpoint), "%s", w->endpoint);
    }
}

static void test_stalled_server_fails_with_the_stall_timeout(void **state)
{
    char url[64];
    int fd = stalled_listener(url, sizeof(url));
    struct http_engine_opts o = HTTP_ENGINE_OPTS_INIT;
    struct fx f;
    struct wait_seen ws = {"", 0};

    (void)state;
    o.base_url = url;
    o.stall_timeout_ms = 2000;
    o.retry_base_ms = 5;
    o.progress = on_progress;
    o.progress_ctx = &ws;
    fx_open_with(&f, &o);
    assert_non_null(f.e);
    submit(f.e, "GET", "/albums", true, &f.t);
    run(f.e);
    /* Retried once, then given up: a server that stalls twice is hung. */
    assert_network_failure(&f.t, 2,
                           "the server sent nothing for 2 s "
                           "(stall timeout), 2 attempts");
    /* What was waited for was shown while it lasted. */
    assert_string_equal(ws.endpoint, "/albums");
    assert_true(ws.max_waited_s >= 1);
    fx_close(&f);
    close(fd);
}

static void test_timeout_bounds_a_request_with_its_retries(void **state)
{
    char url[64];
    int fd = stalled_listener(url, sizeof(url));
    struct http_engine_opts o = HTTP_ENGINE_OPTS_INIT;
    struct fx f;

    (void)state;
    o.base_url = url;
    o.stall_timeout_ms = 60000;
    o.timeout_ms = 1000;
    fx_open_with(&f, &o);
    submit(f.e, "GET", "/albums", true, &f.t);
    run(f.e);
    assert_network_failure(
        &f.t, 1, "no complete answer within 1 s (timeout), 1 attempt");
    fx_close(&f);
    close(fd);
}

static volatile sig_atomic_t late_stop;

static void *stop_later(void *arg)
{
    struct timespec ts = {0, 300 * 1000 * 1000};

    (void)arg;
    nanosleep(&ts, NULL);
    late_stop = SIGTERM;
    return NULL;
}

static void test_stop_abandons_a_stalled_request_soon(void **state)
{
    char url[64];
    int fd = stalled_listener(url, sizeof(url));
    struct http_engine_opts o = HTTP_ENGINE_OPTS_INIT;
    struct fx f;
    pthread_t th;
    double t0;

    (void)state;
    late_stop = 0;
    o.base_url = url;
    o.stop = &late_stop;
    fx_open_with(&f, &o);
    submit(f.e, "PUT", "/albums/1/assets", true, &f.t);
    submit(f.e, "GET", "/never-started", true, &f.t);
    t0 = now_s();
    assert_int_equal(pthread_create(&th, NULL, stop_later, NULL), 0);
    run(f.e);
    /* A liveness bound, far above the grace period: the default stall
     * timeout (30 s) is what an engine that waits would take. */
    assert_true(now_s() - t0 < 5.0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(f.t.network + f.t.cancelled, 2);
    assert_true(f.t.network >= 1);
    fx_close(&f);
    close(fd);
}

/*
 * A plain HTTP server as a TLS client meets it: reads the ClientHello,
 * answers 400 in plain text and closes cleanly (a close with unread data
 * would reset the connection before the client reads the answer).
 */
static void *plain_http_once(void *arg)
{
    static const char answer[] = "HTTP/1.1 400 Bad Request\r\n"
                                 "Content-Length: 0\r\n"
                                 "Connection: close\r\n\r\n";
    int lfd = *(int *)arg, fd = accept(lfd, NULL, NULL);
    char junk[4096];

    if (fd < 0)
        return NULL;
    if (read(fd, junk, sizeof(junk)) > 0 &&
        write(fd, answer, sizeof(answer) - 1) == (ssize_t)sizeof(answer) - 1)
        (void)shutdown(fd, SHUT_WR);
    while (read(fd, junk, sizeof(junk)) > 0)
        ;
    close(fd);
    return NULL;
}

static void test_https_to_a_plain_http_server_says_so(void **state)
{
    struct http_engine_opts o = HTTP_ENGINE_OPTS_INIT;
    struct buf url = BUF_INIT, want = BUF_INIT;
    struct fx f;
    char plain[64];
    int lfd = stalled_listener(plain, sizeof(plain));
    pthread_t th;

    (void)state;
    assert_int_equal(pthread_create(&th, NULL, plain_http_once, &lfd), 0);
    buf_addf(&url, "https://%s", plain + strlen("http://"));
    buf_addf(&want, "the server speaks plain HTTP: use %s", plain);
    o.base_url = url.buf;
    fx_open_with(&f, &o);
    submit(f.e, "GET", "/ok", true, &f.t);
    run(f.e);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_network_failure(&f.t, 1, want.buf);
    fx_close(&f);
    close(lfd);
    buf_release(&url);
    buf_release(&want);
}

static void test_redirect_to_https_names_the_url_to_use(void **state)
{
    struct fx f;

    (void)state;
    fx_open(&f, 1);
    submit(f.e, "GET", "/api/server/about", true, &f.t);
    run(f.e);
    assert_int_equal(f.t.network, 1);
    assert_int_equal(f.t.last_status, 301);
    assert_string_equal(f.t.last_error, "the server redirects to "
                                        "https://photos.example: use that URL");
    assert_int_equal(count(RT_REDIRECT), 1);
    fx_close(&f);
}

static void set_fd_limit(rlim_t n)
{
    struct rlimit rl;

    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    rl.rlim_cur = n;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

/*
 * The descriptors open in this process, once the server's connection
 * threads have closed those of the earlier tests' connections (they do so
 * a moment after the client): two counts 20 ms apart agree.
 */
static int open_fds_settled(void)
{
    struct timespec ts = {0, 20 * 1000 * 1000};
    int last = -1;

    for (int tries = 0; tries < 250; tries++) {
        int n = 0;

        for (int fd = 0; fd < 1024; fd++)
            n += fcntl(fd, F_GETFD) >= 0;
        if (n == last)
            return n;
        last = n;
        nanosleep(&ts, NULL);
    }
    fail_msg("the open descriptors did not settle");
    return -1;
}

static void test_descriptor_limit_sizes_the_pool(void **state)
{
    struct rlimit saved;
    struct fx f;
    int open_nr;

    (void)state;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
    open_nr = open_fds_settled();
    /* Room for the reserve and two connections, not for ten. */
    set_fd_limit((rlim_t)open_nr + 6 + 2 + 2 * 2);
    fx_open(&f, 10);
    assert_non_null(f.e);
    assert_int_equal(http_engine_concurrency(f.e), 2);
    for (int i = 0; i < 6; i++)
        submit(f.e, "GET", "/ok", true, &f.t);
    run(f.e);
    assert_int_equal(f.t.ok, 6);
    fx_close(&f);
    /* No room at all: refused with the limit named. */
    set_fd_limit((rlim_t)open_nr + 4);
    fx_open(&f, 10);
    assert_null(f.e);
    assert_non_null(strstr(f.err.buf, "out of file descriptors (limit "));
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
    fx_close(&f);
}

static void
test_running_out_of_descriptors_is_said_and_not_retried(void **state)
{
    struct fx f;
    struct rlimit saved;
    int fds[64], nr = 0, fd;

    (void)state;
    fx_open(&f, 1);
    assert_non_null(f.e);
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
    /* Use up every descriptor under a small limit, once the canned
     * server has closed the earlier tests' connections (a descriptor it
     * frees later would let this request connect). */
    nr = open_fds_settled();
    set_fd_limit((rlim_t)nr + 8);
    nr = 0;
    while (nr < 64 && (fd = open("/dev/null", O_RDONLY)) >= 0)
        fds[nr++] = fd;
    assert_true(nr < 64);
    submit(f.e, "GET", "/ok", true, &f.t);
    run(f.e);
    while (nr > 0)
        close(fds[--nr]);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
    assert_int_equal(f.t.network, 1);
    assert_int_equal(f.t.last_attempts, 1);
    assert_non_null(strstr(f.t.last_error, "out of file descriptors (limit "));
    assert_int_equal(count(RT_OK), 0);
    fx_close(&f);
}

/* Each answer's body, as its callback saw it (kept buffers are reused). */
struct bodies {
    size_t nr;
    size_t len[4];
    char head[4][16];
};

static void on_body(const struct http_response *resp, void *ctx)
{
    struct bodies *b = ctx;

    if (b->nr < 4) {
        b->len[b->nr] = resp->body->len;
        snprintf(b->head[b->nr], sizeof(b->head[0]), "%s", resp->body->buf);
    }
    b->nr++;
}

/* One connection, a big answer then small ones and a big one again: the
 * buffers and handles an ended transfer leaves for the next carry
 * nothing of the earlier answer. */
static void test_reused_buffers_hold_only_their_answer(void **state)
{
    static const char *const paths[] = {"/big", "/ok", "/ok", "/big"};
    struct fx f;
    struct http_engine *e;
    struct bodies b = {0};

    (void)state;
    fx_open(&f, 1);
    e = f.e;
    assert_non_null(e);
    for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
        struct http_call c = HTTP_CALL_INIT;

        c.method = "GET";
        c.path = c.endpoint = paths[i];
        c.retry_safe = true;
        c.done = on_body;
        c.ctx = &b;
        assert_int_equal(http_engine_submit(e, &c), 0);
    }
    run(e);
    assert_int_equal(b.nr, 4);
    assert_int_equal(b.len[0], 19999);
    assert_int_equal(b.len[1], strlen("{\"res\":\"pong\"}"));
    assert_string_equal(b.head[1], "{\"res\":\"pong\"}");
    assert_int_equal(b.len[2], strlen("{\"res\":\"pong\"}"));
    assert_int_equal(b.len[3], 19999);
    assert_string_equal(b.head[3], "aaaaaaaaaaaaaaa");
    fx_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup(f, reset_hits)
        T(test_sequential_requests_reuse_one_connection),
        T(test_reused_buffers_hold_only_their_answer),
        T(test_parallel_requests_stay_under_the_limit),
#define ONE_CALL(name, i) {name, test_one_call, reset_hits, NULL, &one_calls[i]}
        ONE_CALL("test_503_is_retried_until_success", 0),
        T(test_429_honours_retry_after),
        T(test_reset_and_truncated_bodies_are_retried),
        ONE_CALL("test_create_is_never_retried", 1),
        T(test_retries_are_bounded),
        T(test_server_never_reached_fails_without_retries),
        T(test_wrap_up_cancels_queued_and_lets_in_flight_finish),
        T(test_stop_flag_wraps_up),
        T(test_oversized_body_fails_as_too_big),
        T(test_callbacks_may_submit_the_next_page),
        T(test_bodies_are_sent_and_metrics_print),
        T(test_gzip_is_asked_of_remote_servers_only),
        T(test_stalled_server_fails_with_the_stall_timeout),
        T(test_timeout_bounds_a_request_with_its_retries),
        T(test_stop_abandons_a_stalled_request_soon),
        T(test_https_to_a_plain_http_server_says_so),
        T(test_redirect_to_https_names_the_url_to_use),
        T(test_descriptor_limit_sizes_the_pool),
        T(test_running_out_of_descriptors_is_said_and_not_retried),
#undef T
    };

    return canned_main(tests, handler, NULL, http_global_cleanup);
}
