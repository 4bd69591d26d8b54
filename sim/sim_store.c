/*
 * sim_store.c: records, links and lookups of the simulated library.
 *
 * Lists of links are short (an asset has a few tags and albums), so they
 * are plain arrays searched linearly; the album side of the album links
 * can be long and is searched the same way only on removal, which is rare.
 */
#include "core/timeutil.h"
#include "sim/sim_store.h"

#include <math.h>

static const char *const perm_names[] = {
    "server.about",      "server.statistics", "user.read",
    "tag.read",          "tag.create",        "tag.update",
    "tag.delete",        "tag.asset",         "asset.read",
    "asset.update",      "asset.statistics",  "asset.delete",
    "asset.share",       "album.read",        "album.create",
    "album.update",      "album.delete",      "album.statistics",
    "albumAsset.create", "albumAsset.delete", "albumUser.create",
    "albumUser.update",  "albumUser.delete",  "duplicate.read",
    "timeline.read",     "apiKey.read",       "partner.read",
    "job.read",          "partner.create",    "partner.update",
};

int sim_perm_find(const char *name)
{
    size_t i;

    for (i = 0; i < ARRAY_SIZE(perm_names); i++)
        if (!strcmp(perm_names[i], name))
            return (int)i;
    return -1;
}

const char *sim_perm_name(int i)
{
    if (i < 0 || (size_t)i >= ARRAY_SIZE(perm_names))
        return NULL;
    return perm_names[i];
}

void u32vec_push(struct u32vec *v, uint32_t x)
{
    if (v->nr == v->alloc) {
        uint32_t n = v->alloc < 4 ? 4 : v->alloc * 2;

        v->items = xrealloc(v->items, st_mult(n, sizeof(*v->items)));
        v->alloc = n;
    }
    v->items[v->nr++] = x;
}

bool u32vec_has(const struct u32vec *v, uint32_t x)
{
    uint32_t i;

    for (i = 0; i < v->nr; i++)
        if (v->items[i] == x)
            return true;
    return false;
}

bool u32vec_remove(struct u32vec *v, uint32_t x)
{
    uint32_t i;

    for (i = 0; i < v->nr; i++) {
        if (v->items[i] == x) {
            memmove(v->items + i, v->items + i + 1,
                    (v->nr - i - 1) * sizeof(*v->items));
            v->nr--;
            return true;
        }
    }
    return false;
}

void u32vec_release(struct u32vec *v)
{
    free(v->items);
    v->items = NULL;
    v->nr = v->alloc = 0;
}

void sim_lib_init(struct sim_lib *lib, uint64_t seed)
{
    memset(lib, 0, sizeof(*lib));
    lib->pool = (struct strpool)STRPOOL_INIT;
    (void)strpool_intern(&lib->pool, "", 0);
    lib->uuid_state = seed ^ 0x5eed5eed5eedULL;
    lib->order_dirty = true;
    lib->public_users = true;
}

void sim_lib_release(struct sim_lib *lib)
{
    size_t i;

    if (!lib)
        return;
    for (i = 0; i < lib->users_nr; i++) {
        u32vec_release(&lib->users[i].partners);
        u32vec_release(&lib->users[i].sharers);
    }
    for (i = 0; i < lib->assets_nr; i++) {
        u32vec_release(&lib->assets[i].tags);
        u32vec_release(&lib->assets[i].albums);
    }
    for (i = 0; i < lib->albums_nr; i++) {
        u32vec_release(&lib->albums[i].assets);
        free(lib->albums[i].members);
    }
    free(lib->users);
    free(lib->keys);
    free(lib->assets);
    free(lib->exifs);
    free(lib->tags);
    free(lib->albums);
    free(lib->dups);
    free(lib->order);
    uuidmap_release(&lib->asset_map);
    uuidmap_release(&lib->album_map);
    uuidmap_release(&lib->tag_map);
    uuidmap_release(&lib->user_map);
    uuidmap_release(&lib->dup_map);
    strpool_release(&lib->pool);
    memset(lib, 0, sizeof(*lib));
}

uint32_t sim_str(struct sim_lib *lib, const char *s)
{
    if (!s || !*s)
        return 0;
    return strpool_intern_str(&lib->pool, s);
}

const char *sim_cstr(const struct sim_lib *lib, uint32_t id)
{
    return strpool_str(&lib->pool, id);
}

/* True if any record (or duplicate group) already has id u. */
static bool id_taken(const struct sim_lib *lib, const struct uuid *u)
{
    size_t i;

    if (uuidmap_get(&lib->asset_map, u) != HASHMAP_NONE ||
        uuidmap_get(&lib->album_map, u) != HASHMAP_NONE ||
        uuidmap_get(&lib->tag_map, u) != HASHMAP_NONE ||
        uuidmap_get(&lib->user_map, u) != HASHMAP_NONE ||
        uuidmap_get(&lib->dup_map, u) != HASHMAP_NONE)
        return true;
    for (i = 0; i < lib->keys_nr; i++)
        if (!memcmp(&lib->keys[i].id, u, sizeof(*u)))
            return true;
    return false;
}

/*
 * The id of a new record: the given one, or the next of the seeded
 * sequence that no record has yet.  A library loaded from a file was
 * usually generated from the same seed, so the sequence replays the
 * file's own ids; skipping them keeps every id unique.
 */
static void mint(struct sim_lib *lib, const struct uuid *id, struct uuid *out)
{
    struct uuid u;

    if (id) {
        *out = *id;
        return;
    }
    /* out may be the new record's own field: draw into a local */
    do
        uuid_v4_from_state(&lib->uuid_state, &u);
    while (id_taken(lib, &u));
    *out = u;
}

uint32_t sim_lib_add_user(struct sim_lib *lib, const struct uuid *id,
                          const char *email, const char *name, bool admin)
{
    struct sim_user *u;
    uint32_t i = (uint32_t)lib->users_nr;

    ALLOC_GROW(lib->users, lib->users_nr + 1, lib->users_alloc);
    u = &lib->users[lib->users_nr++];
    memset(u, 0, sizeof(*u));
    mint(lib, id, &u->id);
    u->email = sim_str(lib, email);
    u->name = sim_str(lib, name);
    u->is_admin = admin;
    u->created_at = 1577836800000LL; /* 2020-01-01 */
    (void)uuidmap_put(&lib->user_map, &u->id, i);
    return i;
}

uint32_t sim_lib_add_key(struct sim_lib *lib, uint32_t user, const char *secret,
                         const char *name)
{
    struct sim_key *k;
    uint32_t i = (uint32_t)lib->keys_nr;

    ALLOC_GROW(lib->keys, lib->keys_nr + 1, lib->keys_alloc);
    k = &lib->keys[lib->keys_nr++];
    memset(k, 0, sizeof(*k));
    mint(lib, NULL, &k->id);
    k->secret = sim_str(lib, secret);
    k->name = sim_str(lib, name);
    k->user = user;
    k->created_at = 1577836800000LL;
    return i;
}

uint32_t sim_lib_add_asset(struct sim_lib *lib, const struct uuid *id,
                           uint32_t owner)
{
    struct sim_asset *a;
    uint32_t i = (uint32_t)lib->assets_nr;

    ALLOC_GROW(lib->assets, lib->assets_nr + 1, lib->assets_alloc);
    a = &lib->assets[lib->assets_nr++];
    memset(a, 0, sizeof(*a));
    mint(lib, id, &a->id);
    a->owner = owner;
    a->dup = SIM_NONE;
    a->exif = SIM_NONE;
    a->deleted_at = TIME_NONE;
    (void)uuidmap_put(&lib->asset_map, &a->id, i);
    lib->order_dirty = true;
    return i;
}

uint32_t sim_lib_add_exif(struct sim_lib *lib, uint32_t asset)
{
    struct sim_exif *e;
    uint32_t i = (uint32_t)lib->exifs_nr;

    ALLOC_GROW(lib->exifs, lib->exifs_nr + 1, lib->exifs_alloc);
    e = &lib->exifs[lib->exifs_nr++];
    memset(e, 0, sizeof(*e));
    e->date_time_original = TIME_NONE;
    e->latitude = NAN;
    e->longitude = NAN;
    e->rating = -1;
    lib->assets[asset].exif = i;
    return i;
}

uint32_t sim_lib_add_tag(struct sim_lib *lib, const struct uuid *id,
                         uint32_t owner, const char *value, uint32_t parent)
{
    struct sim_tag *t;
    uint32_t i = (uint32_t)lib->tags_nr;

    ALLOC_GROW(lib->tags, lib->tags_nr + 1, lib->tags_alloc);
    t = &lib->tags[lib->tags_nr++];
    memset(t, 0, sizeof(*t));
    mint(lib, id, &t->id);
    t->owner = owner;
    t->value = sim_str(lib, value);
    t->parent = parent;
    (void)uuidmap_put(&lib->tag_map, &t->id, i);
    return i;
}

uint32_t sim_lib_add_album(struct sim_lib *lib, const struct uuid *id,
                           uint32_t owner, const char *name)
{
    struct sim_album *al;
    uint32_t i = (uint32_t)lib->albums_nr;

    ALLOC_GROW(lib->albums, lib->albums_nr + 1, lib->albums_alloc);
    al = &lib->albums[lib->albums_nr++];
    memset(al, 0, sizeof(*al));
    mint(lib, id, &al->id);
    al->owner = owner;
    al->name = sim_str(lib, name);
    al->thumb = SIM_NONE;
    al->activity = true;
    (void)uuidmap_put(&lib->album_map, &al->id, i);
    return i;
}

uint32_t sim_lib_dup(struct sim_lib *lib, const struct uuid *id)
{
    uint32_t i = uuidmap_get(&lib->dup_map, id);

    if (i != HASHMAP_NONE)
        return i;
    i = (uint32_t)lib->dups_nr;
    ALLOC_GROW(lib->dups, lib->dups_nr + 1, lib->dups_alloc);
    lib->dups[lib->dups_nr++] = *id;
    (void)uuidmap_put(&lib->dup_map, id, i);
    return i;
}

void sim_asset_set_path(struct sim_lib *lib, uint32_t asset, const char *path)
{
    const char *slash = strrchr(path, '/');
    struct sim_asset *a = &lib->assets[asset];

    if (!slash) {
        a->dir = SIM_NONE;
        a->base = sim_str(lib, path);
        return;
    }
    a->dir = strpool_intern(&lib->pool, path, (size_t)(slash - path));
    a->base = sim_str(lib, slash + 1);
}

bool sim_link_album(struct sim_lib *lib, uint32_t album, uint32_t asset)
{
    struct sim_asset *a = &lib->assets[asset];

    if (u32vec_has(&a->albums, album))
        return false;
    u32vec_push(&a->albums, album);
    u32vec_push(&lib->albums[album].assets, asset);
    return true;
}

bool sim_unlink_album(struct sim_lib *lib, uint32_t album, uint32_t asset)
{
    if (!u32vec_remove(&lib->assets[asset].albums, album))
        return false;
    (void)u32vec_remove(&lib->albums[album].assets, asset);
    return true;
}

bool sim_link_tag(struct sim_lib *lib, uint32_t tag, uint32_t asset)
{
    struct sim_asset *a = &lib->assets[asset];

    if (u32vec_has(&a->tags, tag))
        return false;
    u32vec_push(&a->tags, tag);
    return true;
}

bool sim_unlink_tag(struct sim_lib *lib, uint32_t tag, uint32_t asset)
{
    return u32vec_remove(&lib->assets[asset].tags, tag);
}

uint32_t sim_find_asset(const struct sim_lib *lib, const struct uuid *id)
{
    return uuidmap_get(&lib->asset_map, id);
}

uint32_t sim_find_album(const struct sim_lib *lib, const struct uuid *id)
{
    uint32_t i = uuidmap_get(&lib->album_map, id);

    if (i == HASHMAP_NONE || lib->albums[i].deleted)
        return SIM_NONE;
    return i;
}

uint32_t sim_find_tag(const struct sim_lib *lib, const struct uuid *id)
{
    uint32_t i = uuidmap_get(&lib->tag_map, id);

    if (i == HASHMAP_NONE || lib->tags[i].deleted)
        return SIM_NONE;
    return i;
}

uint32_t sim_find_user(const struct sim_lib *lib, const struct uuid *id)
{
    return uuidmap_get(&lib->user_map, id);
}

uint32_t sim_find_user_email(const struct sim_lib *lib, const char *email)
{
    uint32_t s = strpool_find(&lib->pool, email, strlen(email));
    size_t i;

    if (s == STRPOOL_NONE)
        return SIM_NONE;
    for (i = 0; i < lib->users_nr; i++)
        if (lib->users[i].email == s)
            return (uint32_t)i;
    return SIM_NONE;
}

uint32_t sim_find_key(const struct sim_lib *lib, const char *s)
{
    uint32_t id = strpool_find(&lib->pool, s, strlen(s));
    size_t i;

    if (id == STRPOOL_NONE || id == 0)
        return SIM_NONE;
    for (i = 0; i < lib->keys_nr; i++)
        if (lib->keys[i].secret == id)
            return (uint32_t)i;
    return SIM_NONE;
}

uint32_t sim_find_tag_value(const struct sim_lib *lib, uint32_t owner,
                            const char *value)
{
    uint32_t v = strpool_find(&lib->pool, value, strlen(value));
    size_t i;

    if (v == STRPOOL_NONE)
        return SIM_NONE;
    for (i = 0; i < lib->tags_nr; i++) {
        const struct sim_tag *t = &lib->tags[i];

        if (!t->deleted && t->owner == owner && t->value == v)
            return (uint32_t)i;
    }
    return SIM_NONE;
}

int sim_album_role(const struct sim_lib *lib, uint32_t album, uint32_t user)
{
    const struct sim_album *al = &lib->albums[album];
    uint32_t i;

    if (al->owner == user)
        return SIM_ROLE_OWNER;
    for (i = 0; i < al->members_nr; i++)
        if (al->members[i].user == user)
            return al->members[i].role;
    return -1;
}

bool sim_tag_is_under(const struct sim_lib *lib, uint32_t t, uint32_t anc)
{
    int depth = 0;

    /* depth bound guards against a cycle in a hand-written library */
    while (t != SIM_NONE && depth++ < 64) {
        if (t == anc)
            return true;
        t = lib->tags[t].parent;
    }
    return false;
}

bool sim_can_share_asset(const struct sim_lib *lib, uint32_t user,
                         uint32_t asset)
{
    uint32_t owner = lib->assets[asset].owner;

    if (owner == user)
        return true;
    return u32vec_has(&lib->users[user].partners, owner);
}

int sim_asset_sub_ms(const struct sim_lib *lib, uint32_t asset)
{
    uint64_t h;

    if (!lib->micros)
        return 0;
    memcpy(&h, lib->assets[asset].id.b + 8, sizeof(h));
    return (int)(h % 1000);
}

bool sim_can_read_asset(const struct sim_lib *lib, uint32_t user,
                        uint32_t asset)
{
    const struct sim_asset *a = &lib->assets[asset];
    uint32_t i;

    if (a->visibility == SIM_VIS_LOCKED)
        return false;
    if (sim_can_share_asset(lib, user, asset))
        return true;
    for (i = 0; i < a->albums.nr; i++)
        if (sim_album_role(lib, a->albums.items[i], user) >= 0)
            return true;
    return false;
}

static const struct sim_lib *sort_lib; /* qsort has no context argument */

static int cmp_order(const void *pa, const void *pb)
{
    const struct sim_asset *a = &sort_lib->assets[*(const uint32_t *)pa];
    const struct sim_asset *b = &sort_lib->assets[*(const uint32_t *)pb];

    if (a->file_created_at != b->file_created_at)
        return a->file_created_at < b->file_created_at ? 1 : -1;
    return uuid_cmp(&a->id, &b->id);
}

const uint32_t *sim_lib_order(struct sim_lib *lib)
{
    size_t i;

    if (!lib->order_dirty)
        return lib->order;
    lib->order =
        xrealloc(lib->order, st_mult(lib->assets_nr + 1, sizeof(*lib->order)));
    for (i = 0; i < lib->assets_nr; i++)
        lib->order[i] = (uint32_t)i;
    /* callers hold the library mutex, so the file-scope pointer is safe */
    sort_lib = lib;
    qsort(lib->order, lib->assets_nr, sizeof(*lib->order), cmp_order);
    sort_lib = NULL;
    lib->order_dirty = false;
    return lib->order;
}

void sim_lib_expect(struct sim_lib *lib, const char *name, long value)
{
    size_t i;

    for (i = 0; i < lib->expect_nr; i++) {
        if (!strcmp(lib->expect[i].name, name)) {
            lib->expect[i].value = value;
            return;
        }
    }
    if (lib->expect_nr == ARRAY_SIZE(lib->expect))
        return;
    (void)snprintf(lib->expect[lib->expect_nr].name,
                   sizeof(lib->expect[0].name), "%s", name);
    lib->expect[lib->expect_nr++].value = value;
}
