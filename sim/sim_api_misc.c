/*
 * sim_api_misc.c: server info, users, API keys, duplicates, statistics
 * and timeline buckets.
 */
#include "core/timeutil.h"
#include "sim/sim_json.h"
#include "sim/sim_server.h"

void sim_api_server_ping(struct sim_req *r)
{
    buf_addstr(&r->out, "{\"res\":\"pong\"}");
}

void sim_api_server_version(struct sim_req *r)
{
    if (r->dialect < 3)
        buf_addstr(&r->out, "{\"major\":2,\"minor\":7,\"patch\":5}");
    else
        buf_addf(&r->out,
                 "{\"major\":3,\"minor\":%d,\"patch\":%d,"
                 "\"prerelease\":null}",
                 r->minor, r->minor == 2 ? 2 : 1);
}

void sim_api_server_about(struct sim_req *r)
{
    buf_addf(&r->out,
             "{\"version\":\"%s\",\"versionUrl\":"
             "\"https://github.com/immich-app/immich/releases\","
             "\"licensed\":false,\"build\":\"immich-sim\","
             "\"nodejs\":\"v22.0.0\",\"exiftool\":\"13.00\","
             "\"ffmpeg\":\"7.0\"}",
             r->dialect < 3  ? "v2.7.5"
             : r->minor == 0 ? "v3.0.1"
             : r->minor == 1 ? "v3.1.1"
                             : "v3.2.2");
}

void sim_api_server_statistics(struct sim_req *r)
{
    struct sim_lib *lib = r->lib;
    size_t i, u;
    long photos = 0, videos = 0;

    buf_addstr(&r->out, "{\"usageByUser\":[");
    for (u = 0; u < lib->users_nr; u++) {
        long p = 0, v = 0;

        for (i = 0; i < lib->assets_nr; i++) {
            const struct sim_asset *a = &lib->assets[i];

            if (a->owner != u || a->deleted_at != TIME_NONE)
                continue;
            if (a->type == SIM_TYPE_VIDEO)
                v++;
            else
                p++;
        }
        photos += p;
        videos += v;
        buf_addf(&r->out, "%s{\"userId\":", u ? "," : "");
        buf_add_json_uuid(&r->out, &lib->users[u].id);
        buf_addstr(&r->out, ",\"userName\":");
        buf_add_json_str(&r->out, sim_cstr(lib, lib->users[u].name),
                         strlen(sim_cstr(lib, lib->users[u].name)));
        buf_addf(&r->out,
                 ",\"photos\":%ld,\"videos\":%ld,\"usage\":0,"
                 "\"usagePhotos\":0,\"usageVideos\":0,"
                 "\"quotaSizeInBytes\":null}",
                 p, v);
    }
    buf_addf(&r->out,
             "],\"photos\":%ld,\"videos\":%ld,\"usage\":0,"
             "\"usagePhotos\":0,\"usageVideos\":0}",
             photos, videos);
}

void sim_api_users_me(struct sim_req *r)
{
    sim_json_user_admin(&r->out, r->lib, r->user, r->dialect);
}

void sim_api_users(struct sim_req *r)
{
    size_t i;

    /* user.service search(): an admin, or anyone while server.publicUsers
     * is on (the default), sees every user; otherwise only the caller */
    if (!r->lib->public_users && !r->lib->users[r->user].is_admin) {
        buf_addch(&r->out, '[');
        sim_json_user(&r->out, r->lib, r->user);
        buf_addch(&r->out, ']');
        r->items_plain = 1;
        return;
    }
    buf_addch(&r->out, '[');
    for (i = 0; i < r->lib->users_nr; i++) {
        if (i)
            buf_addch(&r->out, ',');
        sim_json_user(&r->out, r->lib, (uint32_t)i);
    }
    buf_addch(&r->out, ']');
    r->items_plain = (long)r->lib->users_nr;
}

void sim_api_jobs(struct sim_req *r)
{
    sim_jobs_json(r->jobs, &r->out, sim_now());
}

/* The user the path's id names (other: not the caller); SIM_NONE after
 * the 400 (a bad UUID, or "User not found"). */
static uint32_t path_user(struct sim_req *r, bool other)
{
    struct uuid id;
    uint32_t u;

    if (sim_param_uuid(r, 0, "id", &id) < 0)
        return SIM_NONE;
    u = sim_find_user(r->lib, &id);
    if (u == SIM_NONE || (other && u == r->user)) {
        sim_error(r, 400, "User not found");
        return SIM_NONE;
    }
    return u;
}

void sim_api_user_get(struct sim_req *r)
{
    uint32_t u = path_user(r, false);

    if (u != SIM_NONE)
        sim_json_user(&r->out, r->lib, u);
}

void sim_api_keys_me(struct sim_req *r)
{
    const struct sim_key *k = &r->lib->keys[r->key];
    const char *name = sim_cstr(r->lib, k->name);
    bool first = true;
    int p;

    buf_addstr(&r->out, "{\"id\":");
    buf_add_json_uuid(&r->out, &k->id);
    buf_addstr(&r->out, ",\"name\":");
    buf_add_json_str(&r->out, name, strlen(name));
    buf_addstr(&r->out, ",\"createdAt\":");
    sim_json_time(&r->out, k->created_at);
    buf_addstr(&r->out, ",\"updatedAt\":");
    sim_json_time(&r->out, k->created_at);
    buf_addstr(&r->out, ",\"permissions\":[");
    if (k->all) {
        buf_addstr(&r->out, "\"all\"");
        first = false;
    }
    for (p = 0; sim_perm_name(p); p++) {
        if (!(k->perms >> p & 1))
            continue;
        buf_addf(&r->out, "%s\"%s\"", first ? "" : ",", sim_perm_name(p));
        first = false;
    }
    buf_addstr(&r->out, "]}");
}

static const struct sim_lib *dup_sort_lib; /* under the library mutex */

static int cmp_dup(const void *pa, const void *pb)
{
    const struct sim_asset *a = &dup_sort_lib->assets[*(const uint32_t *)pa];
    const struct sim_asset *b = &dup_sort_lib->assets[*(const uint32_t *)pb];

    if (a->dup != b->dup)
        return a->dup < b->dup ? -1 : 1;
    if (a->local_date_time != b->local_date_time)
        return a->local_date_time < b->local_date_time ? -1 : 1;
    return uuid_cmp(&a->id, &b->id);
}

/*
 * Groups of the caller's own live archive/timeline assets sharing a
 * duplicateId, with two members or more; the first member is suggested.
 */
void sim_api_duplicates(struct sim_req *r)
{
    struct sim_lib *lib = r->lib;
    uint32_t *ids = xmalloc(st_mult(lib->assets_nr + 1, sizeof(*ids)));
    size_t n = 0, i, j;
    bool first = true;

    for (i = 0; i < lib->assets_nr; i++) {
        const struct sim_asset *a = &lib->assets[i];

        if (a->dup != SIM_NONE && a->owner == r->user && sim_asset_counts(a))
            ids[n++] = (uint32_t)i;
    }
    dup_sort_lib = lib;
    qsort(ids, n, sizeof(*ids), cmp_dup);
    dup_sort_lib = NULL;
    buf_addch(&r->out, '[');
    for (i = 0; i < n; i = j) {
        uint32_t g = lib->assets[ids[i]].dup;
        size_t k;

        for (j = i; j < n && lib->assets[ids[j]].dup == g; j++)
            ;
        if (j - i < 2)
            continue;
        buf_addstr(&r->out, first ? "{\"duplicateId\":" : ",{\"duplicateId\":");
        first = false;
        buf_add_json_uuid(&r->out, &lib->dups[g]);
        buf_addstr(&r->out, ",\"assets\":[");
        for (k = i; k < j; k++) {
            if (k > i)
                buf_addch(&r->out, ',');
            sim_json_asset(&r->out, lib, ids[k], r->dialect, SIM_J_EXIF,
                           r->user);
        }
        buf_addstr(&r->out, "],\"suggestedKeepAssetIds\":[");
        buf_add_json_uuid(&r->out, &lib->assets[ids[i]].id);
        buf_addstr(&r->out, "]}");
        r->items_exif += (long)(j - i);
    }
    buf_addch(&r->out, ']');
    free(ids);
}

/* ---- timeline ---- */

struct tl_filter {
    uint32_t album, tag, user;
    int visibility; /* -1 = archive+timeline */
    int trashed;    /* -1 absent */
    int favorite;   /* -1 absent */
    bool partners;
};

/*
 * The query of GET /timeline/buckets and /timeline/bucket as a filter:
 * album, tag, user (partners with withPartners), visibility, trash and
 * favourite, each checked as the server's DTO validation does, so a client
 * that sends a malformed id gets the same 400 it would get from Immich.
 */
static int tl_parse(struct sim_req *r, struct tl_filter *f)
{
    const char *s;
    struct uuid id;
    int got;

    f->album = f->tag = SIM_NONE;
    f->user = r->user;
    f->visibility = -1;
    f->trashed = sim_query_bool(r, "isTrashed");
    f->favorite = sim_query_bool(r, "isFavorite");
    f->partners = sim_query_bool(r, "withPartners") == 1;
    if ((got = sim_query_uuid(r, "albumId", &id)) < 0)
        return -1;
    if (got) {
        f->album = sim_find_album(r->lib, &id);
        if (f->album == SIM_NONE ||
            sim_album_role(r->lib, f->album, r->user) < 0) {
            sim_error(r, 400, "Not found or no album.read access");
            return -1;
        }
    }
    if ((got = sim_query_uuid(r, "tagId", &id)) < 0)
        return -1;
    if (got) {
        f->tag = sim_find_tag(r->lib, &id);
        if (f->tag == SIM_NONE || r->lib->tags[f->tag].owner != r->user) {
            sim_error(r, 400, "Not found or no tag.read access");
            return -1;
        }
    }
    if ((s = sim_query(r, "visibility"))) {
        f->visibility = sim_visibility_parse(s);
        if (f->visibility < 0) {
            sim_error_validation(r, "visibility must be a valid enum value",
                                 "{\"code\":\"invalid_value\",\"path\":"
                                 "[\"visibility\"],\"message\":\"Invalid "
                                 "option\"}");
            return -1;
        }
        if (f->visibility == SIM_VIS_LOCKED) {
            sim_error(r, 401, "Elevated permission is required");
            return -1;
        }
    }
    return 0;
}

static bool tl_match(const struct sim_lib *lib, const struct tl_filter *f,
                     uint32_t i)
{
    const struct sim_asset *a = &lib->assets[i];
    uint32_t k;

    if (f->album != SIM_NONE) {
        if (!u32vec_has(&a->albums, f->album))
            return false;
    } else if (a->owner != f->user &&
               !(f->partners &&
                 u32vec_has(&lib->users[f->user].partners, a->owner))) {
        return false;
    }
    if (f->visibility < 0 ? !(a->visibility == SIM_VIS_TIMELINE ||
                              a->visibility == SIM_VIS_ARCHIVE)
                          : a->visibility != f->visibility)
        return false;
    if ((a->deleted_at != TIME_NONE) != (f->trashed == 1))
        return false;
    if (f->favorite >= 0 && a->favorite != (f->favorite == 1))
        return false;
    if (f->tag != SIM_NONE) {
        for (k = 0; k < a->tags.nr; k++)
            if (sim_tag_is_under(lib, a->tags.items[k], f->tag))
                break;
        if (k == a->tags.nr)
            return false;
    }
    return true;
}

static int64_t month_of(int64_t ms)
{
    struct civil c;

    time_to_civil(ms, &c);
    return days_from_civil(c.year, c.month, 1);
}

void sim_api_timeline_buckets(struct sim_req *r)
{
    struct sim_lib *lib = r->lib;
    const uint32_t *order;
    struct tl_filter f;
    int64_t cur = INT64_MIN;
    long count = 0;
    size_t i;
    bool first = true;

    if (tl_parse(r, &f) < 0)
        return;
    order = sim_lib_order(lib);
    buf_addch(&r->out, '[');
    for (i = 0; i <= lib->assets_nr; i++) {
        int64_t m = INT64_MIN;

        if (i < lib->assets_nr) {
            if (!tl_match(lib, &f, order[i]))
                continue;
            m = month_of(lib->assets[order[i]].local_date_time);
        }
        if (m != cur && count) {
            int y, mo, d;

            civil_from_days(cur, &y, &mo, &d);
            buf_addf(&r->out,
                     "%s{\"timeBucket\":\"%04d-%02d-01\","
                     "\"count\":%ld}",
                     first ? "" : ",", y, mo, count);
            first = false;
            count = 0;
        }
        cur = m;
        count++;
        r->items_light++;
    }
    buf_addch(&r->out, ']');
}

void sim_api_timeline_bucket(struct sim_req *r)
{
    static const char *const cols[] = {
        "id",         "ownerId",   "fileCreatedAt",
        "isFavorite", "isTrashed", "visibility"};
    struct sim_lib *lib = r->lib;
    const char *tb = sim_query(r, "timeBucket");
    const uint32_t *order;
    struct tl_filter f;
    uint32_t *ids;
    size_t n = 0, i, c;
    int64_t want, t;

    if (!tb || time_parse_iso(tb, strlen(tb), &t, NULL) < 0) {
        sim_error_validation(r, "timeBucket must be a string",
                             "{\"code\":\"invalid_type\",\"path\":"
                             "[\"timeBucket\"],\"message\":\"Invalid input\"}");
        return;
    }
    if (tl_parse(r, &f) < 0)
        return;
    want = month_of(t);
    order = sim_lib_order(lib);
    ids = xmalloc(st_mult(lib->assets_nr + 1, sizeof(*ids)));
    for (i = 0; i < lib->assets_nr; i++)
        if (tl_match(lib, &f, order[i]) &&
            lib->assets[order[i]].exif != SIM_NONE &&
            month_of(lib->assets[order[i]].local_date_time) == want)
            ids[n++] = order[i];
    buf_addch(&r->out, '{');
    for (c = 0; c < ARRAY_SIZE(cols); c++) {
        buf_addf(&r->out, "%s\"%s\":[", c ? "," : "", cols[c]);
        for (i = 0; i < n; i++) {
            const struct sim_asset *a = &lib->assets[ids[i]];

            if (i)
                buf_addch(&r->out, ',');
            switch (c) {
            case 0:
                buf_add_json_uuid(&r->out, &a->id);
                break;
            case 1:
                buf_add_json_uuid(&r->out, &lib->users[a->owner].id);
                break;
            case 2:
                sim_json_time(&r->out, a->file_created_at);
                break;
            case 3:
                buf_addstr(&r->out, a->favorite ? "true" : "false");
                break;
            case 4:
                buf_addstr(&r->out,
                           a->deleted_at != TIME_NONE ? "true" : "false");
                break;
            default:
                buf_addf(&r->out, "\"%s\"", sim_visibility_name(a->visibility));
            }
        }
        buf_addch(&r->out, ']');
    }
    buf_addstr(&r->out, ",\"isImage\":[");
    for (i = 0; i < n; i++)
        buf_addf(&r->out, "%s%s", i ? "," : "",
                 lib->assets[ids[i]].type == SIM_TYPE_IMAGE ? "true" : "false");
    buf_addch(&r->out, ']');
    if (r->dialect >= 3) {
        buf_addstr(&r->out, ",\"createdAt\":[");
        for (i = 0; i < n; i++) {
            if (i)
                buf_addch(&r->out, ',');
            sim_json_time(&r->out, lib->assets[ids[i]].created_at);
        }
        buf_addch(&r->out, ']');
    }
    buf_addch(&r->out, '}');
    r->items_light = (long)n;
    free(ids);
}

/* PartnerResponseDto: the user plus inTimeline. */
static void partner_json(struct sim_req *r, uint32_t user, bool in_timeline)
{
    sim_json_user(&r->out, r->lib, user);
    r->out.len--; /* reopen the object */
    buf_addf(&r->out, ",\"inTimeline\":%s}", in_timeline ? "true" : "false");
}

/*
 * POST /partners/{id}: the caller starts sharing with user id
 * (partner.service create; inTimeline starts false, so id's searches do
 * not show the caller's assets until id turns it on).
 */
void sim_api_partner_create(struct sim_req *r)
{
    uint32_t u = path_user(r, true);

    if (u == SIM_NONE)
        return;
    if (u32vec_has(&r->lib->users[u].sharers, r->user)) {
        sim_error(r, 400, "Partner already exists");
        return;
    }
    u32vec_push(&r->lib->users[u].sharers, r->user);
    r->status = 201;
    r->wrote = true;
    r->items_written = 1;
    partner_json(r, u, false);
}

/*
 * PUT /partners/{id} {inTimeline}: the caller shows (or hides) the assets
 * of id, who shares with it, in its timeline; in 2.x that is what puts
 * them in the caller's searches.
 */
void sim_api_partner_update(struct sim_req *r)
{
    static const struct sim_field fields[] = {
        {"inTimeline", FT_BOOL, true, 0, 0, NULL},
    };
    struct sim_user *me;
    struct uuid id;
    uint32_t u;
    bool on;

    if (sim_param_uuid(r, 0, "id", &id) < 0 ||
        sim_body_fields(r, fields, ARRAY_SIZE(fields)) < 0)
        return;
    u = sim_find_user(r->lib, &id);
    me = &r->lib->users[r->user];
    if (u == SIM_NONE ||
        (!u32vec_has(&me->sharers, u) && !u32vec_has(&me->partners, u))) {
        sim_error(r, 400, "Partner not found");
        return;
    }
    on = json_is_true(json_object_get(r->body, "inTimeline"));
    if (on && !u32vec_has(&me->partners, u))
        u32vec_push(&me->partners, u);
    else if (!on)
        (void)u32vec_remove(&me->partners, u);
    r->wrote = true;
    r->items_written = 1;
    partner_json(r, u, on);
}
