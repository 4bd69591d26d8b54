/*
 * api_asset.c: the reads about one asset, for `explain`: the asset with
 * its tags (GET /assets/{id}), the albums holding it (GET
 * /albums?assetId=), the assets of a file name (POST /search/metadata
 * with originalFileName).  The asset itself is decoded by the search page
 * decoder (api_page.c), so that a single asset and a page of them are
 * read by the same rules.
 */
#include "api/api_internal.h"

#define JD(c)                                                                  \
    {                                                                          \
        (c)->endpoint, &(c)->err                                               \
    }

/* api.c: the decoders this file shares. */
int api_decode_tag(struct jdec *d, json_t *o, const char *where, long idx,
                   struct api_tag *t);
void api_deliver_albums(struct api_call *c, json_t *root,
                        struct api_status *st);

struct one_asset {
    struct api_call *c;
    struct api_status *st;
    const struct api_tag *tags;
    size_t tags_nr;
    bool delivered;
};

static void on_page(void *ctx, const struct api_status *st,
                    const struct api_asset *v, size_t nr, long next)
{
    struct one_asset *x = ctx;

    (void)next;
    if (!st->ok || nr != 1)
        return;
    x->delivered = true;
    ((api_asset_fn *)x->c->cb)(x->c->ctx, x->st, v, x->tags, x->tags_nr);
}

/* The tags of an AssetResponseDto (absent: none). */
static int decode_tags(struct jdec *d, json_t *root, struct api_tag **out,
                       size_t *nr)
{
    json_t *tags = json_object_get(root, "tags");
    size_t i;

    *out = NULL;
    *nr = 0;
    if (!tags || json_is_null(tags))
        return 0;
    if (!json_is_array(tags))
        return jd_fail(d, "", -1, "tags", "an array");
    *out = xcalloc(json_array_size(tags) + 1, sizeof(**out));
    for (i = 0; i < json_array_size(tags); i++)
        if (api_decode_tag(d, json_array_get(tags, i), "tags", (long)i,
                           &(*out)[i]) < 0)
            return -1;
    *nr = i;
    return 0;
}

/*
 * GET /assets/{id}: the asset decoded by the page decoder (wrapped as a
 * one-item page, so one decoder knows the asset fields) plus its tags,
 * handed to the caller; a decode failure is reported, not half an asset.
 */
static void deliver_asset(struct api_call *c, const char *data, size_t len,
                          struct api_status *st)
{
    struct one_asset x = {c, st, NULL, 0, false};
    struct api_tag *tags = NULL;
    struct buf wrap = BUF_INIT;
    struct jdec d = JD(c);
    json_t *root = NULL;

    if (st->ok) {
        json_error_t je;

        root = json_loadb(data, len, 0, &je);
        if (!json_is_object(root)) {
            buf_addf(&c->err, "%s: not an asset object", c->endpoint);
            api_decode_failed(c, st);
        } else if (decode_tags(&d, root, &tags, &x.tags_nr) < 0) {
            api_decode_failed(c, st);
        }
    }
    x.tags = tags;
    if (st->ok) {
        struct api_call inner = *c;

        /* The page decoder reads the object as a one-item page. */
        inner.cb = (api_any_fn *)on_page;
        inner.ctx = &x;
        buf_addstr(&wrap, "{\"assets\":{\"items\":[");
        buf_add(&wrap, data, len);
        buf_addstr(&wrap, "],\"nextPage\":null}}");
        api_deliver_page_raw(&inner, wrap.buf, wrap.len, st);
        if (st->ok && !x.delivered) {
            buf_addf(&c->err, "%s: not an asset object", c->endpoint);
            api_decode_failed(c, st);
        }
        c->err = inner.err;
    }
    if (!x.delivered)
        ((api_asset_fn *)c->cb)(c->ctx, st, NULL, NULL, 0);
    json_decref(root);
    free(tags);
    buf_release(&wrap);
}

void api_asset_info(struct api *a, const struct uuid *id, api_asset_fn *cb,
                    void *ctx)
{
    char s[UUID_STR_LEN + 1], path[64];

    uuid_format(id, s);
    snprintf(path, sizeof(path), "/assets/%s", s);
    api_submit_raw(a, "GET", path, "GET /assets/{id}", NULL, true,
                   deliver_asset, (api_any_fn *)cb, ctx);
}

void api_albums_of_asset(struct api *a, const struct uuid *id,
                         api_albums_fn *cb, void *ctx)
{
    char s[UUID_STR_LEN + 1], path[80];

    uuid_format(id, s);
    snprintf(path, sizeof(path), "/albums?assetId=%s", s);
    api_submit(a, "GET", path, "GET /albums", NULL, true, true,
               api_deliver_albums, (api_any_fn *)cb, ctx);
}

void api_search_file_name(struct api *a, const char *name, api_page_fn *cb,
                          void *ctx)
{
    struct buf body = BUF_INIT;

    buf_addstr(&body, "{\"page\":1,\"size\":100,\"withExif\":true,"
                      "\"originalFileName\":");
    buf_add_json_str(&body, name, strlen(name));
    buf_addch(&body, '}');
    api_submit_raw(a, "POST", "/search/metadata", "POST /search/metadata",
                   &body, true, api_deliver_page_raw, (api_any_fn *)cb, ctx);
    buf_release(&body);
}
