/*
 * http_engine.c: the request loop.  One multi handle, one thread: fill the
 * in-flight slots from the ready queue, poll no later than the next retry
 * time, perform, drain the finished transfers, decide for each whether it
 * is done or goes back to wait for its retry.  Modelled on curl's
 * src/tool_operate.c parallel mode (add_parallel_transfers, startat,
 * wrapitup).
 */
#include "http/http_internal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include "core/log.h"
#include "core/secure.h"
#include "core/uuid.h"

/* Request states; changed only through set_state(), which traces. */
enum req_state {
    REQ_QUEUED,  /* in the ready queue */
    REQ_RUNNING, /* easy handle in the multi handle */
    REQ_WAITING, /* in the delayed list until not_before */
    REQ_DONE,    /* callback called */
};

static const char *const state_names[] = {"queued", "running", "waiting",
                                          "done"};

struct http_req {
    struct http_req *next;                /* ready queue or delayed list */
    struct http_req *run_prev, *run_next; /* running list */
    enum req_state state;
    char *method, *url, *endpoint;
    char *body;
    size_t body_len;
    bool retry_safe;
    http_done_fn *done;
    void *ctx;
    int attempts;          /* attempts started */
    long waited_ms;        /* sum of retry delays scheduled */
    int64_t not_before_us; /* REQ_WAITING: earliest start */
    int64_t deadline_us;   /* set at the first start: timeout_ms later */
    int64_t attempt_us;    /* REQ_RUNNING: when this attempt started */
    int timeouts;          /* attempts that hit a time limit */
    int sock_errno;        /* errno of a socket() that failed, else 0 */
    CURL *easy;            /* REQ_RUNNING only */
    struct buf resp;       /* capped at body_max */
    bool too_big;
    char *location;     /* a redirect's target (owned), or NULL */
    char *content_type; /* the answer's Content-Type (owned), NULL */
    int64_t date_ms;    /* the answer's Date header, -1 when none */
    char errbuf[CURL_ERROR_SIZE];
};

struct http_engine {
    CURLM *multi;
    char *base_url;
    struct curl_slist *headers; /* shared by every request */
    struct http_engine_opts o;  /* defaults filled; strings borrowed
                                   except base_url/ca_file copies */
    char *ca_file;
    struct http_req *ready_head, *ready_tail;
    struct http_req *delayed; /* unsorted; retries are few */
    struct http_req *running; /* in the multi handle */
    size_t in_flight;
    size_t submitted, completed;
    bool wrapping;
    bool answered;            /* some response has arrived */
    bool compress;            /* ask for gzip (http_url_compresses) */
    int64_t stop_us;          /* when the stop flag was first seen, 0 */
    int64_t next_wait_log_us; /* "waiting for" lines: not before this */
    long retries_used;
    uint64_t rng;
    struct http_metrics metrics;
    /* Kept from ended transfers for the next ones of the same
     * http_engine_run(), at most one per connection slot: easy handles
     * (each holds libcurl's 256 KiB receive buffer) and answer buffers.
     * Gigabytes of search pages otherwise fault in fresh pages for every
     * answer and unmap them after. */
    CURL **idle_easy;
    size_t idle_easy_nr, idle_easy_alloc;
    struct buf *idle_body;
    size_t idle_body_nr, idle_body_alloc;
};

static int curl_inited;

/* Descriptors kept free for the files a run opens while connections are
 * open (a report and its directory, the state database's journal, the
 * metrics file). */
#define FD_RESERVE 6
/* Descriptors per connection slot: its socket, and room for the socket
 * pair libcurl's threaded resolver holds while a name is resolved. */
#define FD_PER_SLOT 2
/* libcurl's own: the multi handle's wake-up socket pair. */
#define FD_CURL 2
/* libcurl's receive buffer per transfer, bytes. */
#define HTTP_READ_BUFFER (256L * 1024)
/* Poll no longer than this, so that a stop request is seen soon. */
#define POLL_MAX_MS 250
/* A request waiting this long is reported (verbose), then every 5 s. */
#define WAIT_LOG_US ((int64_t)5000000)

static long fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY ||
        rl.rlim_cur > (rlim_t)LONG_MAX)
        return LONG_MAX;
    return (long)rl.rlim_cur;
}

/*
 * How many connection slots the descriptor limit leaves room for, at most
 * `want`.  Only counts the open descriptors when the limit is low enough
 * to matter (then the count costs at most `limit` fcntl calls).
 */
static long fd_slots(long want, long *limit, long *open_nr)
{
    long need = FD_RESERVE + FD_CURL + want * FD_PER_SLOT, n = 0;

    *limit = fd_limit();
    *open_nr = 0;
    if (*limit == LONG_MAX || *limit > 4096)
        return want;
    for (int fd = 0; fd < (int)*limit; fd++)
        if (fcntl(fd, F_GETFD) >= 0)
            n++;
    *open_nr = n;
    if (n + need <= *limit)
        return want;
    return (*limit - n - FD_RESERVE - FD_CURL) / FD_PER_SLOT;
}

/* "127.x.y.z" with digits and dots only. */
static bool is_ipv4_loopback(const char *h)
{
    if (strncmp(h, "127.", 4))
        return false;
    for (h += 4; *h; h++)
        if (!isdigit((unsigned char)*h) && *h != '.')
            return false;
    return true;
}

bool http_url_compresses(const char *url)
{
    CURLU *u = curl_url();
    char *host = NULL;
    bool local = false;

    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host)
        local = !strcasecmp(host, "localhost") || !strcmp(host, "[::1]") ||
                is_ipv4_loopback(host);
    curl_free(host);
    curl_url_cleanup(u);
    return !local;
}

static int64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static double cpu_seconds(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_SELF, &ru) < 0)
        return 0;
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void set_state(struct http_req *r, enum req_state st)
{
    debug_log("http: %s #%d: %s -> %s", r->endpoint, r->attempts,
              state_names[r->state], state_names[st]);
    r->state = st;
}

static void req_free(struct http_req *r)
{
    if (!r)
        return;
    if (r->easy)
        curl_easy_cleanup(r->easy);
    free(r->method);
    free(r->url);
    free(r->endpoint);
    free(r->body);
    free(r->location);
    free(r->content_type);
    buf_release(&r->resp);
    free(r);
}

/* An easy handle for a new attempt: an idle one (reset) or a new one. */
static CURL *easy_take(struct http_engine *e)
{
    return e->idle_easy_nr ? e->idle_easy[--e->idle_easy_nr] : curl_easy_init();
}

/* The handle of a transfer that ended cleanly (out of the multi handle)
 * is kept for the next attempt while there is room, else freed. */
static void easy_give(struct http_engine *e, CURL *easy, CURLcode rc)
{
    if (rc != CURLE_OK || e->idle_easy_nr >= (size_t)e->o.concurrency) {
        curl_easy_cleanup(easy);
        return;
    }
    curl_easy_reset(easy);
    ALLOC_GROW(e->idle_easy, e->idle_easy_nr + 1, e->idle_easy_alloc);
    e->idle_easy[e->idle_easy_nr++] = easy;
}

/* An answer buffer of at most this many bytes is kept for the next. */
#define IDLE_BODY_MAX ((size_t)64 << 20)

/* Gives r an idle answer buffer when it has none. */
static void body_take(struct http_engine *e, struct http_req *r)
{
    if (r->resp.alloc || !e->idle_body_nr)
        return;
    r->resp = e->idle_body[--e->idle_body_nr];
    buf_set_max(&r->resp, e->o.body_max);
}

/* Keeps r's answer buffer (emptied) for a later request while there is
 * room; r is left with none. */
static void body_give(struct http_engine *e, struct http_req *r)
{
    if (!r->resp.alloc || r->resp.alloc > IDLE_BODY_MAX ||
        e->idle_body_nr >= (size_t)e->o.concurrency)
        return;
    buf_reset(&r->resp);
    ALLOC_GROW(e->idle_body, e->idle_body_nr + 1, e->idle_body_alloc);
    e->idle_body[e->idle_body_nr++] = r->resp;
    buf_init(&r->resp, 0);
}

/* Frees what was kept: between runs nothing stays resident. */
static void idle_release(struct http_engine *e)
{
    while (e->idle_easy_nr)
        curl_easy_cleanup(e->idle_easy[--e->idle_easy_nr]);
    while (e->idle_body_nr)
        buf_release(&e->idle_body[--e->idle_body_nr]);
}

/*
 * The connection count: the default when unset, at most the maximum, and
 * no more than the descriptors left allow (with a warning); 0, or -1 with
 * err when not even one connection fits.
 */
static int fit_concurrency(struct http_engine_opts *o, struct buf *err)
{
    long limit, open_nr, slots;

    if (o->concurrency <= 0)
        o->concurrency = HTTP_CONCURRENCY_DEFAULT;
    if (o->concurrency > HTTP_CONCURRENCY_MAX)
        o->concurrency = HTTP_CONCURRENCY_MAX;
    slots = fd_slots(o->concurrency, &limit, &open_nr);
    if (slots < 1) {
        buf_addf(err,
                 "cannot connect to the server: out of file "
                 "descriptors (limit %ld, %ld already open; raise "
                 "it with ulimit -n or LimitNOFILE=)",
                 limit, open_nr);
        return -1;
    }
    if (slots < o->concurrency) {
        warn_log("out of file descriptors for %ld connections (limit "
                 "%ld, %ld open): using %ld",
                 o->concurrency, limit, open_nr, slots);
        o->concurrency = slots;
    }
    return 0;
}

/* The time limits, retry policy and body ceiling a caller left unset. */
static void default_limits(struct http_engine_opts *o)
{
    if (o->connect_timeout_ms <= 0)
        o->connect_timeout_ms = HTTP_CONNECT_TIMEOUT_DEFAULT_MS;
    if (o->timeout_ms <= 0)
        o->timeout_ms = HTTP_TIMEOUT_DEFAULT_MS;
    if (o->stall_timeout_ms <= 0)
        o->stall_timeout_ms = HTTP_STALL_TIMEOUT_DEFAULT_MS;
    if (o->max_retries < 0)
        o->max_retries = 5;
    if (o->retry_budget < 0)
        o->retry_budget = 1000;
    if (o->retry_base_ms <= 0)
        o->retry_base_ms = 500;
    if (o->retry_max_ms <= 0)
        o->retry_max_ms = 30000;
    if (o->retry_after_max_ms <= 0)
        o->retry_after_max_ms = 120000;
    if (!o->body_max)
        o->body_max = HTTP_BODY_MAX_DEFAULT;
}

/* The multi handle, sized to the connection count; 0 or -1 with err. */
static int multi_init(struct http_engine *e, struct buf *err)
{
    CURLMcode mc;

    e->multi = curl_multi_init();
    if (!e->multi) {
        buf_addstr(err, "http engine: cannot create the multi handle");
        return -1;
    }
    /* One connection per slot, reused across requests; HTTP/2 streams
     * share a connection when the server offers it. */
    mc = curl_multi_setopt(e->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                           e->o.concurrency);
    if (mc == CURLM_OK)
        mc = curl_multi_setopt(e->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                               e->o.concurrency);
    /* Idle connections kept for reuse count against the limit too. */
    if (mc == CURLM_OK)
        mc =
            curl_multi_setopt(e->multi, CURLMOPT_MAXCONNECTS, e->o.concurrency);
    if (mc == CURLM_OK)
        mc = curl_multi_setopt(e->multi, CURLMOPT_PIPELINING,
                               (long)CURLPIPE_MULTIPLEX);
    if (mc != CURLM_OK) {
        buf_addf(err, "http engine: cannot configure libcurl: %s",
                 curl_multi_strerror(mc));
        return -1;
    }
    return 0;
}

/* The headers of every request, the API key among them; 0 or -1. */
static int build_headers(struct http_engine *e, const char *api_key,
                         struct buf *err)
{
    struct buf key = BUF_INIT;

    /* "Expect:" off: the server answers JSON bodies without 100-continue. */
    e->headers = curl_slist_append(NULL, "Accept: application/json");
    e->headers =
        curl_slist_append(e->headers, "Content-Type: application/json");
    e->headers = curl_slist_append(e->headers, "Expect:");
    if (api_key) {
        buf_addf(&key, "x-api-key: %s", api_key);
        e->headers = curl_slist_append(e->headers, key.buf);
        /* Wipe the copy: the header list is the only one the engine keeps. */
        secure_wipe(key.buf, key.len);
        buf_release(&key);
    }
    if (!e->headers) {
        buf_addstr(err, "http engine: cannot build request headers");
        return -1;
    }
    return 0;
}

struct http_engine *http_engine_new(const struct http_engine_opts *opts,
                                    struct buf *err)
{
    struct http_engine *e;

    if (!opts->base_url || !*opts->base_url) {
        buf_addstr(err, "http engine: no server url");
        return NULL;
    }
    if (!curl_inited) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            buf_addstr(err, "http engine: libcurl initialisation failed");
            return NULL;
        }
        curl_inited = 1;
    }
    e = xcalloc(1, sizeof(*e));
    e->o = *opts;
    if (fit_concurrency(&e->o, err) < 0) {
        free(e);
        return NULL;
    }
    default_limits(&e->o);
    e->rng = opts->jitter_seed ? opts->jitter_seed : (uint64_t)now_us();
    e->base_url = xstrdup(opts->base_url);
    e->compress = http_url_compresses(opts->base_url);
    e->ca_file = opts->ca_file ? xstrdup(opts->ca_file) : NULL;
    e->o.api_key = NULL; /* kept only inside the header list */
    if (multi_init(e, err) < 0 || build_headers(e, opts->api_key, err) < 0) {
        http_engine_free(e);
        return NULL;
    }
    if (e->o.insecure)
        warn_log("TLS certificate verification is off (--insecure): "
                 "the server's identity is not checked");
    return e;
}

static void free_list(struct http_req *r)
{
    while (r) {
        struct http_req *next = r->next;

        req_free(r);
        r = next;
    }
}

void http_engine_free(struct http_engine *e)
{
    struct curl_slist *h;

    if (!e)
        return;
    free_list(e->ready_head);
    free_list(e->delayed);
    /* Transfers are left running only when run() failed half way. */
    while (e->running) {
        struct http_req *r = e->running;

        e->running = r->run_next;
        (void)curl_multi_remove_handle(e->multi, r->easy);
        req_free(r);
    }
    if (e->multi)
        curl_multi_cleanup(e->multi);
    for (h = e->headers; h; h = h->next)
        secure_wipe(h->data, strlen(h->data)); /* x-api-key among them */
    curl_slist_free_all(e->headers);
    http_metrics_release(&e->metrics);
    idle_release(e);
    free(e->idle_easy);
    free(e->idle_body);
    free(e->base_url);
    free(e->ca_file);
    free(e);
}

void http_global_cleanup(void)
{
    if (curl_inited) {
        curl_global_cleanup();
        curl_inited = 0;
    }
}

static void push_ready(struct http_engine *e, struct http_req *r)
{
    r->next = NULL;
    if (e->ready_tail)
        e->ready_tail->next = r;
    else
        e->ready_head = r;
    e->ready_tail = r;
    set_state(r, REQ_QUEUED);
}

int http_engine_submit(struct http_engine *e, const struct http_call *c)
{
    struct http_req *r;
    struct buf url = BUF_INIT;

    if (e->wrapping || (e->o.stop && *e->o.stop))
        return -1;
    if (!c->method || !c->path)
        BUG("http_engine_submit without method or path");
    r = xcalloc(1, sizeof(*r));
    r->date_ms = -1;
    r->method = xstrdup(c->method);
    buf_addstr(&url, e->base_url);
    buf_addstr(&url, c->path);
    r->url = buf_detach(&url, NULL);
    r->endpoint = xstrdup(c->endpoint ? c->endpoint : c->path);
    if (c->body) {
        r->body = xmemdup(c->body, c->body_len);
        r->body_len = c->body_len;
    }
    r->retry_safe = c->retry_safe;
    r->done = c->done;
    r->ctx = c->ctx;
    buf_init(&r->resp, 0);
    buf_set_max(&r->resp, e->o.body_max);
    e->submitted++;
    e->metrics.requests++;
    push_ready(e, r);
    return 0;
}

void http_engine_wrap_up(struct http_engine *e)
{
    e->wrapping = true;
}

bool http_engine_is_wrapping_up(const struct http_engine *e)
{
    return e->wrapping;
}

long http_engine_concurrency(const struct http_engine *e)
{
    return e->o.concurrency;
}

const struct http_metrics *http_engine_metrics(const struct http_engine *e)
{
    return &e->metrics;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *ctx)
{
    struct http_req *r = ctx;
    size_t n = size * nmemb;

    if (buf_add_limited(&r->resp, data, n) < 0) {
        r->too_big = true;
        return 0; /* CURLE_WRITE_ERROR ends the transfer */
    }
    return n;
}

/* Opens the socket as libcurl would, remembering why it failed: libcurl
 * reports a missing descriptor as "Couldn't connect to server". */
static curl_socket_t open_socket(void *ctx, curlsocktype purpose,
                                 struct curl_sockaddr *a)
{
    struct http_req *r = ctx;
    curl_socket_t s;

    (void)purpose;
    s = socket(a->family, a->socktype, a->protocol);
    if (s == CURL_SOCKET_BAD)
        r->sock_errno = errno;
    return s;
}

/* Calls the callback and frees the request. */
static void complete(struct http_engine *e, struct http_req *r,
                     enum http_result result, long status, const char *error)
{
    struct http_response resp;

    set_state(r, REQ_DONE);
    resp.result = result;
    resp.status = status;
    resp.body = &r->resp;
    resp.error = error ? error : "";
    resp.method = r->method;
    resp.endpoint = r->endpoint;
    resp.attempts = r->attempts;
    resp.waited_ms = r->waited_ms;
    resp.location = r->location;
    resp.content_type = r->content_type;
    resp.date_ms = r->date_ms;
    if (result != HTTP_RESULT_CANCELLED &&
        (result != HTTP_RESULT_OK || status >= 400))
        http_metrics_ep(&e->metrics, r->endpoint)->errors++;
    e->completed++;
    if (r->done)
        r->done(&resp, r->ctx);
    body_give(e, r);
    req_free(r);
}

#define SETOPT(opt, val)                                                       \
    do {                                                                       \
        if (rc == CURLE_OK)                                                    \
            rc = curl_easy_setopt(easy, opt, val);                             \
    } while (0)

/* Creates the easy handle of one attempt and hands it to the multi. */
static void start(struct http_engine *e, struct http_req *r)
{
    CURL *easy = easy_take(e);
    CURLcode rc = CURLE_OK;
    CURLMcode mc;

    r->attempts++;
    if (!easy) {
        complete(e, r, HTTP_RESULT_NETWORK, 0, "cannot create a transfer");
        return;
    }
    r->errbuf[0] = '\0';
    r->too_big = false;
    r->sock_errno = 0;
    r->attempt_us = now_us();
    if (!r->deadline_us)
        r->deadline_us = r->attempt_us + (int64_t)e->o.timeout_ms * 1000;
    buf_reset(&r->resp);
    body_take(e, r);
    SETOPT(CURLOPT_URL, r->url);
    SETOPT(CURLOPT_PRIVATE, (void *)r);
    SETOPT(CURLOPT_ERRORBUFFER, r->errbuf);
    SETOPT(CURLOPT_WRITEFUNCTION, on_write);
    SETOPT(CURLOPT_WRITEDATA, (void *)r);
    SETOPT(CURLOPT_HTTPHEADER, e->headers);
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    /* No CURLOPT_PIPEWAIT: waiting for the first connection to learn
     * whether it multiplexes queues every other request behind it, and a
     * server that never answers then costs one stall timeout per request
     * in turn instead of one for all. */
    SETOPT(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    if (e->compress)
        SETOPT(CURLOPT_ACCEPT_ENCODING, "");
    /* Reads of 256 KiB, not 16: a million-asset library is gigabytes of
     * search pages, and each read is a system call and a callback. */
    SETOPT(CURLOPT_BUFFERSIZE, HTTP_READ_BUFFER);
    SETOPT(CURLOPT_DNS_CACHE_TIMEOUT, 300L);
    SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
    SETOPT(CURLOPT_OPENSOCKETFUNCTION, open_socket);
    SETOPT(CURLOPT_OPENSOCKETDATA, (void *)r);
    SETOPT(CURLOPT_CONNECTTIMEOUT_MS, e->o.connect_timeout_ms);
    /* What is left of the request's time (at least 1 ms: 0 means none). */
    SETOPT(CURLOPT_TIMEOUT_MS,
           (long)((r->deadline_us - r->attempt_us) / 1000 > 0
                      ? (r->deadline_us - r->attempt_us) / 1000
                      : 1));
    /* Stalled: below 1 byte/s for the stall time (whole seconds). */
    SETOPT(CURLOPT_LOW_SPEED_LIMIT, 1L);
    SETOPT(CURLOPT_LOW_SPEED_TIME, (e->o.stall_timeout_ms + 999) / 1000);
    SETOPT(CURLOPT_SSL_VERIFYPEER, e->o.insecure ? 0L : 1L);
    SETOPT(CURLOPT_SSL_VERIFYHOST, e->o.insecure ? 0L : 2L);
    if (e->ca_file)
        SETOPT(CURLOPT_CAINFO, e->ca_file);
    if (!strcmp(r->method, "GET")) {
        SETOPT(CURLOPT_HTTPGET, 1L);
    } else {
        SETOPT(CURLOPT_CUSTOMREQUEST, r->method);
        if (r->body) {
            SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
            SETOPT(CURLOPT_POSTFIELDS, r->body);
        }
    }
    if (rc != CURLE_OK) {
        curl_easy_cleanup(easy);
        complete(e, r, HTTP_RESULT_NETWORK, 0, curl_easy_strerror(rc));
        return;
    }
    mc = curl_multi_add_handle(e->multi, easy);
    if (mc != CURLM_OK) {
        curl_easy_cleanup(easy);
        complete(e, r, HTTP_RESULT_NETWORK, 0, curl_multi_strerror(mc));
        return;
    }
    r->easy = easy;
    r->run_prev = NULL;
    r->run_next = e->running;
    if (e->running)
        e->running->run_prev = r;
    e->running = r;
    e->in_flight++;
    set_state(r, REQ_RUNNING);
}

static bool is_retryable_code(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_BAD_CONTENT_ENCODING:
        return true;
    default:
        return false;
    }
}

static bool is_retryable_status(long status)
{
    return status == 429 || status == 502 || status == 503 || status == 504;
}

/* Backoff of the n-th retry (n >= 1) with jitter in [d/2, d]. */
static long backoff_ms(struct http_engine *e, int n)
{
    long d = e->o.retry_base_ms;

    for (int i = 1; i < n && d < e->o.retry_max_ms; i++)
        d *= 2;
    if (d > e->o.retry_max_ms)
        d = e->o.retry_max_ms;
    return d / 2 + (long)(splitmix64(&e->rng) % (uint64_t)(d / 2 + 1));
}

/*
 * Takes a finished or abandoned transfer out of the multi handle's
 * bookkeeping: metrics and trace of the attempt, the running list, the
 * easy handle.  What finish() needs of the handle is read before.
 */
static void detach(struct http_engine *e, struct http_req *r, CURLcode rc,
                   long status)
{
    struct http_ep *ep = http_metrics_ep(&e->metrics, r->endpoint);
    long connects = 0;
    curl_off_t total_us = 0, down = 0;
    double s;

    (void)curl_easy_getinfo(r->easy, CURLINFO_TOTAL_TIME_T, &total_us);
    (void)curl_easy_getinfo(r->easy, CURLINFO_SIZE_DOWNLOAD_T, &down);
    (void)curl_easy_getinfo(r->easy, CURLINFO_NUM_CONNECTS, &connects);
    e->metrics.connections += (uint64_t)connects;
    trace_log(LOG_TRACE_API,
              "api: %s %s %ld %lld ms %lld bytes in %zu out "
              "retry %d%s%s",
              r->method, r->url + strlen(e->base_url), status,
              (long long)(total_us / 1000), (long long)down, r->body_len,
              r->attempts - 1, rc ? ": " : "",
              rc ? curl_easy_strerror(rc) : "");
    ep->calls++;
    ep->bytes_in += (uint64_t)down;
    ep->bytes_out += r->body_len;
    s = (double)total_us / 1e6;
    ep->latency_sum += s;
    if (s > ep->latency_max)
        ep->latency_max = s;
    ALLOC_GROW(ep->lat, ep->lat_nr + 1, ep->lat_alloc);
    ep->lat[ep->lat_nr++] = s;
    (void)curl_multi_remove_handle(e->multi, r->easy);
    easy_give(e, r->easy, rc);
    r->easy = NULL;
    e->in_flight--;
    if (r->run_prev)
        r->run_prev->run_next = r->run_next;
    else
        e->running = r->run_next;
    if (r->run_next)
        r->run_next->run_prev = r->run_prev;
}

/*
 * Failures with a cause the user can act on, in words instead of
 * libcurl's: true (and msg filled) for those, which are never retried.
 */
static bool plain_failure(struct http_engine *e, struct http_req *r,
                          CURLcode rc, long status, char *msg, size_t size)
{
    if (r->sock_errno == EMFILE || r->sock_errno == ENFILE) {
        long limit = fd_limit();

        if (limit == LONG_MAX)
            snprintf(msg, size, "out of file descriptors (%s)",
                     r->sock_errno == EMFILE ? "no limit"
                                             : "system-wide limit");
        else
            snprintf(msg, size, "out of file descriptors (limit %ld)", limit);
        return true;
    }
    if (rc == CURLE_SSL_CONNECT_ERROR &&
        strstr(r->errbuf, "wrong version number") &&
        !strncmp(e->base_url, "https://", 8)) {
        snprintf(msg, size, "the server speaks plain HTTP: use http://%s",
                 e->base_url + 8);
        return true;
    }
    if (rc == CURLE_OK && status >= 300 && status < 400 && r->location) {
        /* The same path elsewhere (http:// upgraded to https://, a new
         * host): the server moved, and the Location minus the request's
         * path is the base to use.  Any other redirect (a proxy's sign-in
         * page) is the caller's to report. */
        const char *path = r->url + strlen(e->base_url);
        size_t ll = strlen(r->location), pl = strlen(path);

        if (ll > pl && !strcmp(r->location + ll - pl, path)) {
            snprintf(msg, size,
                     "the server redirects to %.*s: use that "
                     "URL",
                     (int)(ll - pl), r->location);
            return true;
        }
    }
    return false;
}

/* Says which time limit a timed-out attempt hit. */
static void timeout_message(const struct http_engine *e,
                            const struct http_req *r, curl_off_t connect_us,
                            char *msg, size_t size)
{
    const char *s = r->attempts > 1 ? "s" : "";

    if (!connect_us)
        snprintf(msg, size,
                 "no connection within %ld s (connect timeout), "
                 "%d attempt%s",
                 (e->o.connect_timeout_ms + 999) / 1000, r->attempts, s);
    else if (now_us() >= r->deadline_us - 1000)
        snprintf(msg, size,
                 "no complete answer within %ld s (timeout), "
                 "%d attempt%s",
                 (e->o.timeout_ms + 999) / 1000, r->attempts, s);
    else
        snprintf(msg, size,
                 "the server sent nothing for %ld s (stall "
                 "timeout), %d attempt%s",
                 (e->o.stall_timeout_ms + 999) / 1000, r->attempts, s);
}

/*
 * Is the failure of this attempt one a retry may cure?  Busy answers
 * (429, 5xx gateways) and broken transfers are; a server that refused
 * every connection so far is not there (wrong port, not started: said at
 * once, while after it has answered a refusal is a restart worth waiting
 * for), and one that stalled twice is hung, not slow.
 */
static bool is_transient(struct http_engine *e, struct http_req *r, CURLcode rc,
                         long status)
{
    bool retry;

    if (rc == CURLE_OK) {
        e->answered = true;
        retry = is_retryable_status(status);
    } else {
        retry = !r->too_big && is_retryable_code(rc);
    }
    if (rc == CURLE_COULDNT_CONNECT && !e->answered)
        retry = false;
    if (rc == CURLE_OPERATION_TIMEDOUT && ++r->timeouts > 1)
        retry = false;
    return retry;
}

/*
 * Queues the request again after its backoff (or the server's
 * Retry-After, capped), if it may be sent twice, the run is not stopping,
 * the retries left (its own and the run's budget) allow it and the wait
 * ends before its deadline: true when queued.
 */
static bool schedule_retry(struct http_engine *e, struct http_req *r,
                           CURLcode rc, curl_off_t retry_after)
{
    long delay;

    if (!r->retry_safe || e->wrapping || (e->o.stop && *e->o.stop) ||
        r->attempts > e->o.max_retries || e->retries_used >= e->o.retry_budget)
        return false;
    delay = backoff_ms(e, r->attempts);
    if (rc == CURLE_OK && retry_after > 0) {
        delay = (long)retry_after * 1000;
        if (delay > e->o.retry_after_max_ms)
            delay = e->o.retry_after_max_ms;
    }
    if (now_us() + (int64_t)delay * 1000 >= r->deadline_us)
        return false;
    verbose_log("http: %s: %s, retry %d in %ld ms", r->endpoint,
                rc == CURLE_OK ? "server busy" : curl_easy_strerror(rc),
                r->attempts, delay);
    http_metrics_ep(&e->metrics, r->endpoint)->retries++;
    e->retries_used++;
    r->waited_ms += delay;
    r->not_before_us = now_us() + (int64_t)delay * 1000;
    r->next = e->delayed;
    e->delayed = r;
    set_state(r, REQ_WAITING);
    return true;
}

/* The answer's Date header (RFC 9110, whole seconds) in milliseconds
 * since the epoch, -1 when it has none or it does not parse. */
static int64_t answer_date_ms(CURL *easy)
{
    struct curl_header *h = NULL;
    time_t t;

    if (curl_easy_header(easy, "Date", 0, CURLH_HEADER, -1, &h) != CURLHE_OK ||
        !h)
        return -1;
    t = curl_getdate(h->value, NULL);
    return t < 0 ? -1 : (int64_t)t * 1000;
}

/* A transfer ended: account for it, then retry or complete it. */
static void finish(struct http_engine *e, struct http_req *r, CURLcode rc)
{
    long status = 0;
    curl_off_t retry_after = 0, connect_us = 0;
    char *loc = NULL, *type = NULL;
    bool retry, plain;
    char errmsg[CURL_ERROR_SIZE + 256];

    (void)curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    (void)curl_easy_getinfo(r->easy, CURLINFO_RETRY_AFTER, &retry_after);
    (void)curl_easy_getinfo(r->easy, CURLINFO_CONNECT_TIME_T, &connect_us);
    (void)curl_easy_getinfo(r->easy, CURLINFO_REDIRECT_URL, &loc);
    (void)curl_easy_getinfo(r->easy, CURLINFO_CONTENT_TYPE, &type);
    free(r->location);
    free(r->content_type);
    r->location = loc ? xstrdup(loc) : NULL;
    r->content_type = type ? xstrdup(type) : NULL;
    r->date_ms = answer_date_ms(r->easy);
    plain = plain_failure(e, r, rc, status, errmsg, sizeof(errmsg));
    detach(e, r, rc, status);

    retry = is_transient(e, r, rc, status);
    if (retry && !plain && schedule_retry(e, r, rc, retry_after))
        return;
    if (plain) {
        complete(e, r, HTTP_RESULT_NETWORK, rc == CURLE_OK ? status : 0,
                 errmsg);
        return;
    }
    if (rc == CURLE_OK) {
        complete(e, r, HTTP_RESULT_OK, status, NULL);
        return;
    }
    if (r->too_big) {
        snprintf(errmsg, sizeof(errmsg), "response larger than %zu bytes",
                 e->o.body_max);
        complete(e, r, HTTP_RESULT_TOO_BIG, status, errmsg);
        return;
    }
    if (rc == CURLE_OPERATION_TIMEDOUT)
        timeout_message(e, r, connect_us, errmsg, sizeof(errmsg));
    else
        snprintf(errmsg, sizeof(errmsg), "%s",
                 r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc));
    complete(e, r, HTTP_RESULT_NETWORK, 0, errmsg);
}

/*
 * Stop requested and the grace period over: the requests still in flight
 * are abandoned (the server may or may not have done a write).
 */
static void abandon_running(struct http_engine *e)
{
    while (e->running) {
        struct http_req *r = e->running;

        detach(e, r, CURLE_ABORTED_BY_CALLBACK, 0);
        complete(e, r, HTTP_RESULT_NETWORK, 0,
                 "interrupted: stopped before the server answered");
    }
}

/* Once per loop turn: the longest wait, logged every 5 s (verbose). */
static void longest_wait(struct http_engine *e, struct http_wait *w)
{
    int64_t now = now_us(), oldest = 0;

    w->endpoint = NULL;
    w->waited_s = 0;
    for (struct http_req *r = e->running; r; r = r->run_next) {
        if (!w->endpoint || r->attempt_us < oldest) {
            oldest = r->attempt_us;
            w->endpoint = r->endpoint;
        }
    }
    if (!w->endpoint)
        return;
    w->waited_s = (long)((now - oldest) / 1000000);
    if (now - oldest >= WAIT_LOG_US && now >= e->next_wait_log_us) {
        verbose_log("waiting for %s (%ld s)", w->endpoint, w->waited_s);
        e->next_wait_log_us = now + WAIT_LOG_US;
    }
}

/* Wrap-up: every request not yet started completes as cancelled. */
static void cancel_queued(struct http_engine *e)
{
    while (e->ready_head || e->delayed) {
        struct http_req *r = e->ready_head;

        if (r) {
            e->ready_head = r->next;
            if (!e->ready_head)
                e->ready_tail = NULL;
        } else {
            r = e->delayed;
            e->delayed = r->next;
        }
        complete(e, r, HTTP_RESULT_CANCELLED, 0, "cancelled: stopping");
    }
}

/* Moves due retries to the ready queue; returns ms until the next one
 * (or `cap` when none is waiting). */
static long promote_delayed(struct http_engine *e, long cap)
{
    struct http_req **pp = &e->delayed;
    int64_t now = now_us();
    long wait = cap;

    while (*pp) {
        struct http_req *r = *pp;

        if (r->not_before_us <= now) {
            *pp = r->next;
            push_ready(e, r);
            continue;
        }
        if ((r->not_before_us - now) / 1000 + 1 < wait)
            wait = (long)((r->not_before_us - now) / 1000 + 1);
        pp = &r->next;
    }
    return wait;
}

int http_engine_run(struct http_engine *e, struct buf *err)
{
    int64_t t0 = now_us();
    double cpu0 = cpu_seconds();
    int ret = -1;

    for (;;) {
        long wait;
        int running = 0;
        CURLMcode mc;
        CURLMsg *msg;
        int left;

        struct http_wait w;

        if (e->o.stop && *e->o.stop) {
            e->wrapping = true;
            if (!e->stop_us)
                e->stop_us = now_us();
            else if (now_us() - e->stop_us >= HTTP_STOP_GRACE_MS * 1000)
                abandon_running(e);
        }
        if (e->wrapping)
            cancel_queued(e);
        wait = promote_delayed(e, POLL_MAX_MS);
        while (e->in_flight < (size_t)e->o.concurrency && e->ready_head) {
            struct http_req *r = e->ready_head;

            e->ready_head = r->next;
            if (!e->ready_head)
                e->ready_tail = NULL;
            start(e, r);
        }
        longest_wait(e, &w);
        if (e->o.progress)
            e->o.progress(e->o.progress_ctx, e->completed, e->submitted,
                          e->in_flight, &w);
        if (!e->in_flight && !e->ready_head && !e->delayed)
            break;
        if (e->ready_head && e->in_flight < (size_t)e->o.concurrency)
            wait = 0; /* a start failed synchronously: loop again */
        mc = curl_multi_poll(e->multi, NULL, 0, (int)wait, NULL);
        if (mc == CURLM_OK)
            mc = curl_multi_perform(e->multi, &running);
        if (mc != CURLM_OK) {
            buf_addf(err, "http engine: %s", curl_multi_strerror(mc));
            goto out;
        }
        while ((msg = curl_multi_info_read(e->multi, &left))) {
            struct http_req *r = NULL;
            CURL *easy = msg->easy_handle;
            CURLcode rc = msg->data.result;

            if (msg->msg != CURLMSG_DONE)
                continue;
            /* msg dies with remove_handle (in finish()): copied above. */
            (void)curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&r);
            if (!r)
                BUG("transfer without its request");
            finish(e, r, rc);
        }
    }
    ret = 0;
out:
    idle_release(e);
    e->metrics.wall_s += (double)(now_us() - t0) / 1e6;
    e->metrics.cpu_s += cpu_seconds() - cpu0;
    return ret;
}
