/*
 * canned_server.h: a small libmicrohttpd server on 127.0.0.1 (port chosen
 * by the kernel) for the unit tests of the HTTP engine, the API client and
 * the snapshot, which each need a server that answers what the test
 * decides.  It collects each request's body and hands the whole request
 * to the test's function, which answers it.
 *
 *     static enum MHD_Result answer(const struct canned_req *req, void *ctx)
 *     {
 *         return canned_reply(req->conn, 200, "{}", NULL, NULL);
 *     }
 *     ...
 *     struct canned_server srv;
 *
 *     if (canned_start(&srv, answer, NULL) < 0)
 *         return -1;
 *     ... requests to srv.url ...
 *     canned_stop(&srv);
 *
 * One thread per connection: the function may be called concurrently and
 * guards the test's own state.
 */
#ifndef IA_CANNED_SERVER_H
#define IA_CANNED_SERVER_H

#include <stddef.h>

#include <microhttpd.h>

struct canned_req {
    struct MHD_Connection *conn;
    const char *method, *url;
    const char *body; /* the whole upload, NUL-terminated ("" if none) */
    size_t body_len;
};

/*
 * Answers req: canned_reply(), a response of its own queued on req->conn,
 * or MHD_NO to close the connection without an answer.
 */
typedef enum MHD_Result canned_fn(const struct canned_req *req, void *ctx);

struct canned_server {
    struct MHD_Daemon *daemon;
    char url[64]; /* "http://127.0.0.1:PORT" */
    canned_fn *fn;
    void *ctx;
};

/* Starts the server; 0, or -1 when it could not listen. */
int canned_start(struct canned_server *s, canned_fn *fn, void *ctx);
void canned_stop(struct canned_server *s);

struct CMUnitTest;

/*
 * One server for a whole test file, answered by fn: main() ends with
 *
 *     return canned_main(tests, answer, NULL, http_global_cleanup);
 *
 * which runs the array `tests` as one cmocka group, the server started
 * before the first test and stopped after the last, then calls after (may
 * be NULL: what the file releases last) and returns cmocka's result.  The
 * tests send to canned_group_url().
 */
int canned_run(const char *name, const struct CMUnitTest *tests, size_t n,
               canned_fn *fn, void *ctx, void (*after)(void));
#define canned_main(tests, fn, ctx, after)                                     \
    canned_run(#tests, tests, ARRAY_SIZE(tests), fn, ctx, after)
const char *canned_group_url(void);

/*
 * Queues body (copied) with status, Content-Type application/json and, if
 * header is not NULL, one more header.
 */
enum MHD_Result canned_reply(struct MHD_Connection *c, unsigned status,
                             const char *body, const char *header,
                             const char *value);

#endif
