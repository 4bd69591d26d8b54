/*
 * api_internal.h: the plumbing shared by the api files: one request in
 * flight (struct api_call), and the strict field readers.  Not for other
 * modules: jansson types appear here.
 */
#ifndef IA_API_INTERNAL_H
#define IA_API_INTERNAL_H

#include <jansson.h>

#include "api/api.h"

struct api_call;

/*
 * Decodes root (NULL when the call failed or returned no body) and calls
 * the user's callback exactly once.  st is ok on entry unless the call
 * already failed; the deliverer turns decode failures into st->error.
 */
typedef void api_deliver_fn(struct api_call *c, json_t *root,
                            struct api_status *st);

/* The same from the raw body (data NULL when the call failed), for the
 * responses decoded while they are parsed (api_page.c). */
typedef void api_deliver_raw_fn(struct api_call *c, const char *data,
                                size_t len, struct api_status *st);

/* Any callback type, cast back by the deliverer that knows it. */
typedef void api_any_fn(void);

struct api_call {
    struct api *a;
    char endpoint[64]; /* "GET /albums/{id}" */
    api_deliver_fn *deliver;
    api_deliver_raw_fn *deliver_raw; /* set: deliver is not used */
    api_any_fn *cb;
    void *ctx;
    bool want_json; /* false: success has no body (204) */
    /* a search page decoded by id alone: the assets known() says the
     * caller has not yet are decoded whole (api_search.known) */
    api_known_fn *known;
    void *known_ctx;
    struct buf err; /* decode message */
};

/* Submits method path; endpoint is the metrics key. */
void api_submit(struct api *a, const char *method, const char *path,
                const char *endpoint, const struct buf *body, bool retry_safe,
                bool want_json, api_deliver_fn *deliver, api_any_fn *cb,
                void *ctx);

/* api_submit() for a raw deliverer. */
void api_submit_raw(struct api *a, const char *method, const char *path,
                    const char *endpoint, const struct buf *body,
                    bool retry_safe, api_deliver_raw_fn *deliver,
                    api_any_fn *cb, void *ctx);
/* The search page decoder (api_page.c). */
void api_deliver_page_raw(struct api_call *c, const char *data, size_t len,
                          struct api_status *st);
/* The same for a membership query (api_search.ids_only). */
void api_deliver_page_ids_raw(struct api_call *c, const char *data, size_t len,
                              struct api_status *st);

/* Marks st failed with a decode error built from c->err. */
void api_decode_failed(struct api_call *c, struct api_status *st);

/*
 * Strict readers.  Each reads obj[key] and fails (-1, message in d->err
 * "<endpoint>: <where>.<key>: expected <what>") when it is missing or of
 * the wrong type.  `where` is the path of obj ("" for the root) and idx
 * its index in an array (-1 = not in an array).  The _opt forms accept a
 * missing key or null and report it through *has or TIME_NONE.
 */
struct jdec {
    const char *endpoint;
    struct buf *err;
};

int jd_fail(struct jdec *d, const char *where, long idx, const char *key,
            const char *what);
int jd_obj(struct jdec *d, json_t *obj, const char *where, long idx,
           const char *key, json_t **out);
/* The response root must be an array: 0, or -1 with the message. */
int jd_root_array(struct jdec *d, json_t *root);
int jd_arr(struct jdec *d, json_t *obj, const char *where, long idx,
           const char *key, json_t **out);
int jd_uuid(struct jdec *d, json_t *obj, const char *where, long idx,
            const char *key, struct uuid *out);
int jd_uuid_opt(struct jdec *d, json_t *obj, const char *where, long idx,
                const char *key, struct uuid *out, bool *has);
int jd_str(struct jdec *d, json_t *obj, const char *where, long idx,
           const char *key, const char **out, size_t *len);
int jd_bool(struct jdec *d, json_t *obj, const char *where, long idx,
            const char *key, bool *out);
int jd_bool_opt(struct jdec *d, json_t *obj, const char *where, long idx,
                const char *key, bool *out);
int jd_long(struct jdec *d, json_t *obj, const char *where, long idx,
            const char *key, long *out);
int jd_time(struct jdec *d, json_t *obj, const char *where, long idx,
            const char *key, int64_t *out);
int jd_time_opt(struct jdec *d, json_t *obj, const char *where, long idx,
                const char *key, int64_t *out);

/* Appends a JSON array of UUID strings (the request bodies' id lists). */
void api_add_uuid_array(struct buf *b, const struct uuid *ids, size_t nr);

#endif
