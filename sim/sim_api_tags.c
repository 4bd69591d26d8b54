/*
 * sim_api_tags.c: per-user hierarchical tags and tag<->asset links, with
 * Immich's per-id outcomes (docs/simulator.md, "Endpoints": bulk outcomes).
 */
#include "sim/sim_json.h"
#include "sim/sim_server.h"

static const struct sim_lib *tag_sort_lib; /* under the library mutex */

static int cmp_value(const void *pa, const void *pb)
{
    const struct sim_tag *a = &tag_sort_lib->tags[*(const uint32_t *)pa];
    const struct sim_tag *b = &tag_sort_lib->tags[*(const uint32_t *)pb];

    return strcmp(sim_cstr(tag_sort_lib, a->value),
                  sim_cstr(tag_sort_lib, b->value));
}

void sim_api_tags_list(struct sim_req *r)
{
    struct sim_lib *lib = r->lib;
    uint32_t *ids = xmalloc(st_mult(lib->tags_nr + 1, sizeof(*ids)));
    size_t n = 0, i;

    for (i = 0; i < lib->tags_nr; i++)
        if (!lib->tags[i].deleted && lib->tags[i].owner == r->user)
            ids[n++] = (uint32_t)i;
    tag_sort_lib = lib;
    qsort(ids, n, sizeof(*ids), cmp_value);
    tag_sort_lib = NULL;
    buf_addch(&r->out, '[');
    for (i = 0; i < n; i++) {
        if (i)
            buf_addch(&r->out, ',');
        sim_json_tag(&r->out, lib, ids[i]);
    }
    buf_addch(&r->out, ']');
    r->items_plain = (long)n;
    free(ids);
}

/* The caller's tag named by path parameter 0, or SIM_NONE after a 400. */
static uint32_t own_tag(struct sim_req *r, const char *perm)
{
    struct uuid id;
    uint32_t t;

    if (sim_param_uuid(r, 0, "id", &id) < 0)
        return SIM_NONE;
    t = sim_find_tag(r->lib, &id);
    if (t == SIM_NONE || r->lib->tags[t].owner != r->user) {
        sim_error(r, 400, "Not found or no %s access", perm);
        return SIM_NONE;
    }
    return t;
}

void sim_api_tag_get(struct sim_req *r)
{
    uint32_t t = own_tag(r, "tag.read");

    if (t != SIM_NONE)
        sim_json_tag(&r->out, r->lib, t);
}

void sim_api_tag_create(struct sim_req *r)
{
    static const struct sim_field fields[] = {
        {"name", FT_STR, true, 0, 0, NULL},
        {"parentId", FT_UUID, false, 0, 0, NULL},
        {"color", FT_NSTR, false, 0, 0, NULL},
    };
    struct sim_lib *lib = r->lib;
    uint32_t parent = SIM_NONE, t;
    const char *name, *color;
    struct buf value = BUF_INIT;
    struct uuid pid;
    json_t *p;

    if (sim_body_fields(r, fields, ARRAY_SIZE(fields)) < 0)
        return;
    name = json_string_value(json_object_get(r->body, "name"));
    p = json_object_get(r->body, "parentId");
    if (p) {
        (void)uuid_parse(json_string_value(p), 36, &pid);
        parent = sim_find_tag(lib, &pid);
        if (parent == SIM_NONE || lib->tags[parent].owner != r->user) {
            sim_error(r, 400, "Not found or no tag.read access");
            return;
        }
        buf_addf(&value, "%s/", sim_cstr(lib, lib->tags[parent].value));
    }
    buf_addstr(&value, name);
    if (sim_find_tag_value(lib, r->user, value.buf) != SIM_NONE) {
        sim_error(r, 400, "A tag with that name already exists");
        buf_release(&value);
        return;
    }
    t = sim_lib_add_tag(lib, NULL, r->user, value.buf, parent);
    color = json_string_value(json_object_get(r->body, "color"));
    lib->tags[t].color = sim_str(lib, color);
    lib->tags[t].created_at = lib->tags[t].updated_at = sim_now();
    r->status = 201;
    r->wrote = true;
    r->items_written = 1;
    sim_json_tag(&r->out, lib, t);
    buf_release(&value);
}

/* Creates or re-parents every prefix of path; returns the leaf or NONE. */
static uint32_t upsert_path(struct sim_req *r, const char *path)
{
    struct sim_lib *lib = r->lib;
    struct buf prefix = BUF_INIT;
    uint32_t parent = SIM_NONE, t = SIM_NONE;
    const char *p = path;

    while (*p) {
        size_t n = strcspn(p, "/");

        if (n) {
            if (prefix.len)
                buf_addch(&prefix, '/');
            buf_add(&prefix, p, n);
            t = sim_find_tag_value(lib, r->user, prefix.buf);
            if (t == SIM_NONE) {
                t = sim_lib_add_tag(lib, NULL, r->user, prefix.buf, parent);
                lib->tags[t].created_at = lib->tags[t].updated_at = sim_now();
                r->wrote = true;
                r->items_written++;
            } else if (lib->tags[t].parent != parent) {
                /* ON CONFLICT DO UPDATE SET parentId */
                lib->tags[t].parent = parent;
                lib->tags[t].updated_at = sim_now();
                r->wrote = true;
            }
            parent = t;
        }
        p += n;
        if (*p == '/')
            p++;
    }
    buf_release(&prefix);
    return t;
}

void sim_api_tags_upsert(struct sim_req *r)
{
    static const struct sim_field fields[] = {
        {"tags", FT_STRS, true, 0, 0, NULL},
    };
    uint32_t *seen;
    size_t i, n = 0, k;
    json_t *v;
    json_t *tags;

    if (sim_body_fields(r, fields, ARRAY_SIZE(fields)) < 0)
        return;
    tags = json_object_get(r->body, "tags");
    seen = xmalloc(st_mult(json_array_size(tags) + 1, sizeof(*seen)));
    buf_addch(&r->out, '[');
    json_array_foreach(tags, i, v)
    {
        uint32_t t = upsert_path(r, json_string_value(v));

        if (t == SIM_NONE)
            continue;
        for (k = 0; k < n; k++)
            if (seen[k] == t)
                break;
        if (k < n)
            continue;
        seen[n++] = t;
        if (n > 1)
            buf_addch(&r->out, ',');
        sim_json_tag(&r->out, r->lib, t);
    }
    buf_addch(&r->out, ']');
    r->items_plain = (long)n;
    free(seen);
}

void sim_api_tag_update(struct sim_req *r)
{
    static const struct sim_field fields2[] = {
        {"color", FT_NSTR, false, 0, 0, NULL},
    };
    static const struct sim_field fields3[] = {
        {"color", FT_NSTR, false, 0, 0, NULL},
        {"name", FT_STR, false, 0, 0, NULL},
    };
    struct sim_lib *lib = r->lib;
    uint32_t t;
    json_t *c, *name;

    if (sim_need_body(r) < 0)
        return;
    if (r->dialect < 3 ? sim_validate(r, r->body, fields2, 1) < 0
                       : sim_validate(r, r->body, fields3, 2) < 0)
        return;
    t = own_tag(r, "tag.update");
    if (t == SIM_NONE)
        return;
    c = json_object_get(r->body, "color");
    if (c)
        lib->tags[t].color = sim_str(lib, json_string_value(c));
    name = json_object_get(r->body, "name");
    if (name) {
        struct buf v = BUF_INIT;
        uint32_t parent = lib->tags[t].parent;

        if (parent != SIM_NONE)
            buf_addf(&v, "%s/", sim_cstr(lib, lib->tags[parent].value));
        buf_addstr(&v, json_string_value(name));
        lib->tags[t].value = sim_str(lib, v.buf);
        buf_release(&v);
    }
    lib->tags[t].updated_at = sim_now();
    r->wrote = true;
    sim_json_tag(&r->out, lib, t);
}

void sim_api_tag_delete(struct sim_req *r)
{
    struct sim_lib *lib = r->lib;
    uint32_t t = own_tag(r, "tag.delete");
    size_t i;
    uint32_t k;

    if (t == SIM_NONE)
        return;
    /* children go too (ON DELETE CASCADE), then the asset links */
    for (i = 0; i < lib->tags_nr; i++)
        if (!lib->tags[i].deleted && sim_tag_is_under(lib, (uint32_t)i, t))
            lib->tags[i].deleted = true;
    for (i = 0; i < lib->assets_nr; i++) {
        struct u32vec *v = &lib->assets[i].tags;

        for (k = 0; k < v->nr;) {
            if (lib->tags[v->items[k]].deleted)
                (void)u32vec_remove(v, v->items[k]);
            else
                k++;
        }
    }
    r->status = 204;
    r->wrote = true;
    r->items_written = 1;
}

static const struct sim_field ids_fields[] = {
    {"ids", FT_UUIDS, true, 0, 0, NULL},
};

/* Linking assets to one tag, or unlinking them. */
struct tag_link {
    uint32_t t;
    bool add;
};

/* Links or unlinks asset a (sim_bulk_fn): its error, or NULL. */
static const char *link_one(struct sim_req *r, uint32_t a, void *ctx)
{
    const struct tag_link *x = ctx;
    struct sim_lib *lib = r->lib;

    if (x->add) {
        if (a != SIM_NONE && u32vec_has(&lib->assets[a].tags, x->t))
            return "duplicate";
        if (a == SIM_NONE || !sim_can_share_asset(lib, r->user, a))
            return "no_permission";
        (void)sim_link_tag(lib, x->t, a);
    } else if (a == SIM_NONE || !sim_unlink_tag(lib, x->t, a)) {
        /* the tag owner may always remove */
        return "not_found";
    }
    /* AssetTag / AssetUntag -> SidecarWrite */
    sim_jobs_edit(r->jobs, a, SIM_EDIT_TAGS, sim_now());
    r->wrote = true;
    r->items_written++;
    return NULL;
}

/* Adds or removes the links of tag t (per-id outcomes, §3.4). */
static void tag_links(struct sim_req *r, bool add)
{
    struct tag_link x = {SIM_NONE, add};

    if (sim_body_fields(r, ids_fields, ARRAY_SIZE(ids_fields)) < 0)
        return;
    x.t = own_tag(r, "tag.asset");
    if (x.t == SIM_NONE)
        return;
    sim_bulk_ids(r, link_one, &x);
}

void sim_api_tag_assets_add(struct sim_req *r)
{
    tag_links(r, true);
}

void sim_api_tag_assets_remove(struct sim_req *r)
{
    tag_links(r, false);
}

/* PUT /tags/assets: owned tags x owned assets, silently dropping others. */
void sim_api_tags_bulk_assets(struct sim_req *r)
{
    struct sim_lib *lib = r->lib;
    struct uuid *tids, *aids;
    size_t nt, na, i, j;
    long count = 0;

    if (sim_body_bulk_links(r, "tagIds", &tids, &nt, &aids, &na) < 0)
        return;
    for (i = 0; i < nt; i++) {
        uint32_t t = sim_find_tag(lib, &tids[i]);

        if (t == SIM_NONE || lib->tags[t].owner != r->user)
            continue;
        for (j = 0; j < na; j++) {
            uint32_t a = sim_find_asset(lib, &aids[j]);

            if (a == SIM_NONE || lib->assets[a].owner != r->user)
                continue;
            if (sim_link_tag(lib, t, a)) {
                sim_jobs_edit(r->jobs, a, SIM_EDIT_TAGS, sim_now());
                count++;
            }
        }
    }
    if (count)
        r->wrote = true;
    r->items_written = count;
    buf_addf(&r->out, "{\"count\":%ld}", count);
    free(tids);
    free(aids);
}
