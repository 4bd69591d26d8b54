/*
 * model.c: building the compact library model and its CSR indexes.
 *
 * Records are appended to arrays; UUID and name maps are filled as they
 * come.  Memberships are collected as (row, column) pairs and turned into
 * two CSR indexes each by model_build_indexes(): O(n log n) once, then
 * every lookup is a slice of an array.
 */
#include "model/model.h"

static const struct uuid *asset_key(const void *ctx, uint32_t idx)
{
    return &((const struct model *)ctx)->assets[idx].id;
}

void model_init(struct model *m)
{
    memset(m, 0, sizeof(*m));
    m->me = MODEL_NONE;
    m->asset_by_id.key_of = asset_key;
    (void)strpool_intern(&m->strings, "", 0);
}

static void csr_release(struct model_csr *c)
{
    free(c->start);
    free(c->items);
    c->start = c->items = NULL;
}

void model_release(struct model *m)
{
    if (!m)
        return;
    strpool_release(&m->strings);
    free(m->assets);
    free(m->albums);
    free(m->album_users);
    free(m->tags);
    free(m->users);
    free(m->dups);
    uuidix_release(&m->asset_by_id);
    uuidmap_release(&m->album_by_id);
    uuidmap_release(&m->tag_by_id);
    uuidmap_release(&m->user_by_id);
    uuidmap_release(&m->dup_by_id);
    u64map_release(&m->album_by_name);
    u64map_release(&m->tag_by_name);
    u64map_release(&m->user_by_email);
    free(m->album_asset_pairs);
    free(m->tag_asset_pairs);
    free(m->foreign);
    csr_release(&m->asset_albums);
    csr_release(&m->album_assets);
    csr_release(&m->asset_tags);
    csr_release(&m->tag_assets);
    csr_release(&m->dup_assets);
    memset(m, 0, sizeof(*m));
    m->me = MODEL_NONE;
    m->asset_by_id.key_of = asset_key;
}

uint32_t model_intern(struct model *m, const char *s)
{
    return strpool_intern_str(&m->strings, s ? s : "");
}

static void check_not_indexed(const struct model *m)
{
    if (m->indexed)
        BUG("model changed after model_build_indexes()");
}

static uint32_t to_index(size_t nr)
{
    if (nr >= MODEL_NONE)
        BUG("model record count overflows uint32_t");
    return (uint32_t)nr;
}

uint32_t model_add_user(struct model *m, const struct uuid *id,
                        const char *email, const char *name)
{
    uint32_t idx = uuidmap_get(&m->user_by_id, id);
    struct model_user *u;

    if (idx != HASHMAP_NONE) {
        /* Known only by id so far (an album member listed before the
         * user list arrived): the details complete it. */
        u = &m->users[idx];
        if (email && *email && !*model_str(m, u->email)) {
            check_not_indexed(m);
            u->email = model_intern(m, email);
            if (u64map_get(&m->user_by_email, u->email) == HASHMAP_NONE)
                u64map_put(&m->user_by_email, u->email, idx);
        }
        if (name && *name && !*model_str(m, u->name))
            u->name = model_intern(m, name);
        return idx;
    }
    check_not_indexed(m);
    idx = to_index(m->users_nr);
    ALLOC_GROW(m->users, m->users_nr + 1, m->users_alloc);
    u = &m->users[m->users_nr++];
    u->id = *id;
    u->email = model_intern(m, email);
    u->name = model_intern(m, name);
    uuidmap_put(&m->user_by_id, id, idx);
    if (u64map_get(&m->user_by_email, u->email) == HASHMAP_NONE)
        u64map_put(&m->user_by_email, u->email, idx);
    return idx;
}

uint32_t model_add_asset(struct model *m, const struct model_asset *a)
{
    uint32_t idx = uuidix_get(&m->asset_by_id, &a->id, m);

    if (idx != HASHMAP_NONE)
        return idx;
    check_not_indexed(m);
    idx = to_index(m->assets_nr);
    ALLOC_GROW(m->assets, m->assets_nr + 1, m->assets_alloc);
    m->assets[m->assets_nr++] = *a;
    uuidix_put(&m->asset_by_id, &a->id, idx, m);
    return idx;
}

void model_asset_strings(struct model *m, struct model_asset *a,
                         const char *file_name, size_t file_name_len,
                         const char *path, size_t path_len)
{
    a->path = strpool_add(&m->strings, path, path_len);
    path_len = strpool_strlen(&m->strings, a->path);
    /* "dir/name" ending in "/" + the file name: the name is the tail. */
    if (file_name_len && file_name_len < path_len &&
        !memchr(file_name, '\0', file_name_len) &&
        path[path_len - file_name_len - 1] == '/' &&
        !memcmp(path + path_len - file_name_len, file_name, file_name_len))
        a->file_name = a->path + (uint32_t)(path_len - file_name_len);
    else
        a->file_name = strpool_add(&m->strings, file_name, file_name_len);
}

/* Appends idx to the same-name chain that starts at map[name]. */
static void chain_name(struct u64map *map, uint32_t name, uint32_t idx,
                       uint32_t *(*next_of)(struct model *, uint32_t),
                       struct model *m)
{
    uint32_t cur = u64map_get(map, name);

    if (cur == HASHMAP_NONE) {
        u64map_put(map, name, idx);
        return;
    }
    while (*next_of(m, cur) != MODEL_NONE)
        cur = *next_of(m, cur);
    *next_of(m, cur) = idx;
}

static uint32_t *album_next(struct model *m, uint32_t i)
{
    return &m->albums[i].next_same_name;
}

static uint32_t *tag_next(struct model *m, uint32_t i)
{
    return &m->tags[i].next_same_name;
}

uint32_t model_add_album(struct model *m, const struct model_album *a,
                         const struct model_album_user *users, size_t users_nr)
{
    uint32_t idx = uuidmap_get(&m->album_by_id, &a->id);
    struct model_album *al;

    if (idx != HASHMAP_NONE)
        return idx;
    check_not_indexed(m);
    idx = to_index(m->albums_nr);
    ALLOC_GROW(m->albums, m->albums_nr + 1, m->albums_alloc);
    al = &m->albums[m->albums_nr++];
    *al = *a;
    al->next_same_name = MODEL_NONE;
    al->users_first = to_index(m->album_users_nr);
    al->users_nr = to_index(users_nr);
    ALLOC_GROW(m->album_users, m->album_users_nr + users_nr,
               m->album_users_alloc);
    if (users_nr)
        memcpy(m->album_users + m->album_users_nr, users,
               users_nr * sizeof(*users));
    m->album_users_nr += users_nr;
    uuidmap_put(&m->album_by_id, &a->id, idx);
    chain_name(&m->album_by_name, al->name, idx, album_next, m);
    return idx;
}

uint32_t model_add_tag(struct model *m, const struct model_tag *t)
{
    uint32_t idx = uuidmap_get(&m->tag_by_id, &t->id);
    struct model_tag *tg;

    if (idx != HASHMAP_NONE)
        return idx;
    check_not_indexed(m);
    idx = to_index(m->tags_nr);
    ALLOC_GROW(m->tags, m->tags_nr + 1, m->tags_alloc);
    tg = &m->tags[m->tags_nr++];
    *tg = *t;
    tg->next_same_name = MODEL_NONE;
    uuidmap_put(&m->tag_by_id, &t->id, idx);
    chain_name(&m->tag_by_name, tg->name, idx, tag_next, m);
    return idx;
}

uint32_t model_add_dup(struct model *m, const struct uuid *id)
{
    uint32_t idx = uuidmap_get(&m->dup_by_id, id);

    if (idx != HASHMAP_NONE)
        return idx;
    check_not_indexed(m);
    idx = to_index(m->dups_nr);
    ALLOC_GROW(m->dups, m->dups_nr + 1, m->dups_alloc);
    m->dups[m->dups_nr++].id = *id;
    uuidmap_put(&m->dup_by_id, id, idx);
    return idx;
}

void model_link_album_asset(struct model *m, uint32_t album, uint32_t asset)
{
    check_not_indexed(m);
    if (album >= m->albums_nr || asset >= m->assets_nr)
        BUG("album/asset link out of range (%u, %u)", album, asset);
    ALLOC_GROW(m->album_asset_pairs, m->album_asset_nr + 1,
               m->album_asset_alloc);
    m->album_asset_pairs[m->album_asset_nr].a = album;
    m->album_asset_pairs[m->album_asset_nr++].b = asset;
}

void model_album_add_foreign(struct model *m, uint32_t album,
                             const struct uuid *asset)
{
    if (album >= m->albums_nr)
        BUG("foreign member of album %u out of range", album);
    ALLOC_GROW(m->foreign, m->foreign_nr + 1, m->foreign_alloc);
    m->foreign[m->foreign_nr].album = album;
    m->foreign[m->foreign_nr++].asset = *asset;
    m->albums[album].foreign_nr++;
}

void model_link_tag_asset(struct model *m, uint32_t tag, uint32_t asset)
{
    check_not_indexed(m);
    if (tag >= m->tags_nr || asset >= m->assets_nr)
        BUG("tag/asset link out of range (%u, %u)", tag, asset);
    ALLOC_GROW(m->tag_asset_pairs, m->tag_asset_nr + 1, m->tag_asset_alloc);
    m->tag_asset_pairs[m->tag_asset_nr].a = tag;
    m->tag_asset_pairs[m->tag_asset_nr++].b = asset;
}

/*
 * Sorts pairs by (a, b) with two stable counting passes (LSD radix on the
 * two columns): O(n + rows), no comparisons, then drops repeats.
 */
static size_t sort_pairs(struct model_pair *p, size_t nr, size_t a_rows,
                         size_t b_rows)
{
    struct model_pair *tmp = xmalloc(st_mult(nr ? nr : 1, sizeof(*tmp)));
    size_t rows = a_rows > b_rows ? a_rows : b_rows;
    size_t *count = xcalloc(rows + 1, sizeof(*count));
    size_t i, out;
    int pass;

    for (pass = 0; pass < 2; pass++) {
        struct model_pair *src = pass ? tmp : p, *dst = pass ? p : tmp;

        memset(count, 0, (rows + 1) * sizeof(*count));
        for (i = 0; i < nr; i++)
            count[(pass ? src[i].a : src[i].b) + 1]++;
        for (i = 1; i <= rows; i++)
            count[i] += count[i - 1];
        for (i = 0; i < nr; i++)
            dst[count[pass ? src[i].a : src[i].b]++] = src[i];
    }
    free(tmp);
    free(count);
    for (i = 0, out = 0; i < nr; i++)
        if (!out || p[out - 1].a != p[i].a || p[out - 1].b != p[i].b)
            p[out++] = p[i];
    return out;
}

/* Builds row->column (by a) and column->row (by b) CSR from sorted pairs. */
static void build_csr_pair(const struct model_pair *p, size_t nr, size_t a_rows,
                           size_t b_rows, struct model_csr *by_a,
                           struct model_csr *by_b)
{
    size_t i;
    uint32_t *fill;

    by_a->start = xcalloc(a_rows + 1, sizeof(uint32_t));
    by_b->start = xcalloc(b_rows + 1, sizeof(uint32_t));
    by_a->items = xmalloc(st_mult(nr ? nr : 1, sizeof(uint32_t)));
    by_b->items = xmalloc(st_mult(nr ? nr : 1, sizeof(uint32_t)));
    for (i = 0; i < nr; i++) {
        by_a->start[p[i].a + 1]++;
        by_b->start[p[i].b + 1]++;
    }
    for (i = 0; i < a_rows; i++)
        by_a->start[i + 1] += by_a->start[i];
    for (i = 0; i < b_rows; i++)
        by_b->start[i + 1] += by_b->start[i];
    fill = xmemdup(by_b->start, (b_rows + 1) * sizeof(uint32_t));
    for (i = 0; i < nr; i++) {
        by_a->items[i] = p[i].b;
        by_b->items[fill[p[i].b]++] = p[i].a; /* rows of a stay sorted */
    }
    free(fill);
}

static int cmp_foreign(const void *x, const void *y)
{
    const struct model_foreign *a = x, *b = y;

    if (a->album != b->album)
        return a->album < b->album ? -1 : 1;
    return memcmp(a->asset.b, b->asset.b, sizeof(a->asset.b));
}

const struct model_foreign *model_album_foreign(const struct model *m,
                                                uint32_t album, size_t *nr)
{
    size_t lo = 0, hi = m->foreign_nr;

    if (!m->indexed)
        BUG("model_album_foreign() before model_build_indexes()");
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (m->foreign[mid].album < album)
            lo = mid + 1;
        else
            hi = mid;
    }
    *nr = m->albums[album].foreign_nr;
    return m->foreign + lo;
}

void model_build_indexes(struct model *m)
{
    struct model_pair *dp;
    size_t i, dn = 0;

    if (m->indexed)
        BUG("model_build_indexes() called twice");
    if (m->album_asset_nr >= MODEL_NONE || m->tag_asset_nr >= MODEL_NONE)
        BUG("membership count overflows uint32_t");
    if (m->foreign_nr)
        qsort(m->foreign, m->foreign_nr, sizeof(*m->foreign), cmp_foreign);
    m->album_asset_nr = sort_pairs(m->album_asset_pairs, m->album_asset_nr,
                                   m->albums_nr, m->assets_nr);
    build_csr_pair(m->album_asset_pairs, m->album_asset_nr, m->albums_nr,
                   m->assets_nr, &m->album_assets, &m->asset_albums);
    m->tag_asset_nr = sort_pairs(m->tag_asset_pairs, m->tag_asset_nr,
                                 m->tags_nr, m->assets_nr);
    build_csr_pair(m->tag_asset_pairs, m->tag_asset_nr, m->tags_nr,
                   m->assets_nr, &m->tag_assets, &m->asset_tags);

    dp = xmalloc(st_mult(m->assets_nr ? m->assets_nr : 1, sizeof(*dp)));
    for (i = 0; i < m->assets_nr; i++) {
        if (m->assets[i].duplicate == MODEL_NONE)
            continue;
        dp[dn].a = m->assets[i].duplicate;
        dp[dn++].b = (uint32_t)i;
    }
    /* build_csr_pair() fills rows in pair order: group the pairs by
     * duplicate group first (asset order would mix the groups up). */
    dn = sort_pairs(dp, dn, m->dups_nr, m->assets_nr);
    {
        struct model_csr unused = {NULL, NULL};

        build_csr_pair(dp, dn, m->dups_nr, m->assets_nr, &m->dup_assets,
                       &unused);
        csr_release(&unused);
    }
    free(dp);
    /* The pairs are now redundant with the CSR arrays. */
    free(m->album_asset_pairs);
    free(m->tag_asset_pairs);
    m->album_asset_pairs = m->tag_asset_pairs = NULL;
    m->album_asset_alloc = m->tag_asset_alloc = 0;
    m->indexed = true;
}

uint32_t model_find_asset(const struct model *m, const struct uuid *id)
{
    return uuidix_get(&m->asset_by_id, id, m);
}

uint32_t model_find_album(const struct model *m, const struct uuid *id)
{
    return uuidmap_get(&m->album_by_id, id);
}

uint32_t model_find_tag(const struct model *m, const struct uuid *id)
{
    return uuidmap_get(&m->tag_by_id, id);
}

uint32_t model_find_user(const struct model *m, const struct uuid *id)
{
    return uuidmap_get(&m->user_by_id, id);
}

int model_album_role(const struct model *m, uint32_t album, uint32_t user)
{
    const struct model_album *al = &m->albums[album];
    uint32_t i;

    for (i = 0; i < al->users_nr; i++)
        if (m->album_users[al->users_first + i].user == user)
            return m->album_users[al->users_first + i].role;
    return -1;
}

static uint32_t by_name(const struct model *m, const struct u64map *map,
                        const char *s)
{
    uint32_t id = strpool_find(&m->strings, s, strlen(s));

    if (id == STRPOOL_NONE)
        return MODEL_NONE;
    return u64map_get(map, id);
}

uint32_t model_find_user_by_email(const struct model *m, const char *email)
{
    return by_name(m, &m->user_by_email, email);
}

uint32_t model_find_album_by_name(const struct model *m, const char *name)
{
    return by_name(m, &m->album_by_name, name);
}

uint32_t model_find_tag_by_name(const struct model *m, const char *name)
{
    return by_name(m, &m->tag_by_name, name);
}

uint32_t model_find_tag_by_value(const struct model *m, const char *value)
{
    const char *slash = strrchr(value, '/');
    uint32_t t = model_find_tag_by_name(m, slash ? slash + 1 : value);

    for (; t != MODEL_NONE; t = m->tags[t].next_same_name)
        if (!strcmp(model_str(m, m->tags[t].value), value))
            return t;
    return MODEL_NONE;
}

static const uint32_t *csr_row(const struct model *m, const struct model_csr *c,
                               uint32_t row, size_t rows, size_t *nr)
{
    if (!m->indexed)
        BUG("model lookup before model_build_indexes()");
    if (row >= rows)
        BUG("model row %u out of range (%zu)", row, rows);
    *nr = c->start[row + 1] - c->start[row];
    return c->items + c->start[row];
}

const uint32_t *model_asset_albums(const struct model *m, uint32_t asset,
                                   size_t *nr)
{
    return csr_row(m, &m->asset_albums, asset, m->assets_nr, nr);
}

const uint32_t *model_album_assets(const struct model *m, uint32_t album,
                                   size_t *nr)
{
    return csr_row(m, &m->album_assets, album, m->albums_nr, nr);
}

const uint32_t *model_asset_tags(const struct model *m, uint32_t asset,
                                 size_t *nr)
{
    return csr_row(m, &m->asset_tags, asset, m->assets_nr, nr);
}

const uint32_t *model_tag_assets(const struct model *m, uint32_t tag,
                                 size_t *nr)
{
    return csr_row(m, &m->tag_assets, tag, m->tags_nr, nr);
}

const uint32_t *model_dup_assets(const struct model *m, uint32_t dup,
                                 size_t *nr)
{
    return csr_row(m, &m->dup_assets, dup, m->dups_nr, nr);
}

bool model_asset_date_pending(const struct model_asset *a)
{
    return a->date_time_original != TIME_NONE &&
           a->file_created_at != TIME_NONE &&
           a->date_time_original != a->file_created_at;
}

int64_t model_asset_best_date(const struct model_asset *a)
{
    int64_t fca = a->file_created_at, ldt = a->local_date_time;
    int64_t v[4];

    /* A date edit is recorded in the EXIF row at once and reaches
     * fileCreatedAt/localDateTime only when the server's background jobs
     * re-read the file (never, for a file that cannot be written): the
     * EXIF date is what the asset's date is, or will be. */
    if (model_asset_date_pending(a)) {
        if (ldt != TIME_NONE && fca != TIME_NONE)
            ldt += a->date_time_original - fca;
        fca = a->date_time_original;
    }
    v[0] = a->created_at;
    v[1] = fca;
    v[2] = a->file_modified_at;
    v[3] = ldt;
    int64_t best = TIME_NONE;
    size_t i;

    for (i = 0; i < 4; i++)
        if (v[i] != TIME_NONE && (best == TIME_NONE || v[i] < best))
            best = v[i];
    return best;
}

size_t model_memory_bytes(const struct model *m)
{
    size_t n = 0;

    n += m->strings.alloc + m->strings.slots_nr * sizeof(uint32_t);
    n += m->assets_alloc * sizeof(*m->assets);
    n += m->albums_alloc * sizeof(*m->albums);
    n += m->album_users_alloc * sizeof(*m->album_users);
    n += m->tags_alloc * sizeof(*m->tags);
    n += m->users_alloc * sizeof(*m->users);
    n += m->dups_alloc * sizeof(*m->dups);
    n += m->asset_by_id.slots_nr * sizeof(uint32_t);
    n += (m->album_by_id.slots_nr + m->tag_by_id.slots_nr +
          m->user_by_id.slots_nr + m->dup_by_id.slots_nr) *
         sizeof(struct uuidmap_slot);
    n += (m->album_by_name.slots_nr + m->tag_by_name.slots_nr +
          m->user_by_email.slots_nr) *
         sizeof(struct u64map_slot);
    if (m->indexed) {
        n += (m->assets_nr * 3 + m->albums_nr + m->tags_nr + m->dups_nr + 5) *
             sizeof(uint32_t);
        n += (m->album_asset_nr * 2 + m->tag_asset_nr * 2 + m->assets_nr) *
             sizeof(uint32_t);
    }
    return n;
}

/* ---- digest ---------------------------------------------------------------
 */

/* FNV-1a over a record's bytes, then a finalizer so that the sum of many
 * record hashes stays well mixed. */
struct dig {
    uint64_t h;
};

/* FNV-1a over 8-byte words (then the tail), a word at a time: the
 * digest of a million-asset model is ~100 MB of fields. */
static void dig_bytes(struct dig *d, const void *p, size_t n)
{
    const unsigned char *b = p;
    size_t i = 0;

    for (; i + 8 <= n; i += 8) {
        uint64_t w;

        memcpy(&w, b + i, 8);
        d->h ^= w;
        d->h *= 0x100000001b3ULL;
    }
    for (; i < n; i++) {
        d->h ^= b[i];
        d->h *= 0x100000001b3ULL;
    }
}

static void dig_str(struct dig *d, const struct model *m, uint32_t s)
{
    const char *v = model_str(m, s);

    dig_bytes(d, v, strlen(v) + 1);
}

static void dig_i64(struct dig *d, int64_t v)
{
    dig_bytes(d, &v, sizeof(v));
}

static uint64_t dig_end(struct dig *d)
{
    uint64_t st = d->h;

    return splitmix64(&st);
}

#define DIG_INIT(tag)                                                          \
    {                                                                          \
        0xcbf29ce484222325ULL ^ (uint64_t)(tag)                                \
    }

static const struct uuid *user_id(const struct model *m, uint32_t u)
{
    static const struct uuid none;

    return u < m->users_nr ? &m->users[u].id : &none;
}

void model_digest(const struct model *m, char out[MODEL_DIGEST_LEN + 1])
{
    uint64_t sum = 0;

    if (!m->indexed)
        BUG("model_digest() before model_build_indexes()");
    for (size_t i = 0; i < m->assets_nr; i++) {
        const struct model_asset *a = &m->assets[i];
        struct dig d = DIG_INIT(1);
        const uint32_t *row;
        size_t n;

        dig_bytes(&d, &a->id, sizeof(a->id));
        dig_bytes(&d, user_id(m, a->owner), sizeof(struct uuid));
        dig_str(&d, m, a->file_name);
        dig_str(&d, m, a->path);
        dig_i64(&d, a->file_created_at);
        dig_i64(&d, a->file_modified_at);
        dig_i64(&d, a->local_date_time);
        dig_i64(&d, a->date_time_original);
        uint8_t flags = a->flags & (uint8_t)~MODEL_ASSET_CHANGED;

        dig_bytes(&d, &a->visibility, 1);
        /* CHANGED says how the model was read, not what the library is */
        dig_bytes(&d, &flags, 1);
        if (a->duplicate != MODEL_NONE)
            dig_bytes(&d, &m->dups[a->duplicate].id, sizeof(struct uuid));
        sum += dig_end(&d);
        /* memberships as (album|tag, asset) pairs: order-free */
        row = model_asset_albums(m, (uint32_t)i, &n);
        for (size_t k = 0; k < n; k++) {
            struct dig p = DIG_INIT(2);

            dig_bytes(&p, &m->albums[row[k]].id, sizeof(struct uuid));
            dig_bytes(&p, &a->id, sizeof(a->id));
            sum += dig_end(&p);
        }
        row = model_asset_tags(m, (uint32_t)i, &n);
        for (size_t k = 0; k < n; k++) {
            struct dig p = DIG_INIT(3);

            dig_bytes(&p, &m->tags[row[k]].id, sizeof(struct uuid));
            dig_bytes(&p, &a->id, sizeof(a->id));
            sum += dig_end(&p);
        }
    }
    for (size_t i = 0; i < m->albums_nr; i++) {
        const struct model_album *al = &m->albums[i];
        struct dig d = DIG_INIT(4);

        dig_bytes(&d, &al->id, sizeof(al->id));
        dig_str(&d, m, al->name);
        dig_bytes(&d, user_id(m, al->owner), sizeof(struct uuid));
        sum += dig_end(&d);
        for (uint32_t k = 0; k < al->users_nr; k++) {
            const struct model_album_user *u =
                &m->album_users[al->users_first + k];
            struct dig p = DIG_INIT(5);

            dig_bytes(&p, &al->id, sizeof(al->id));
            dig_bytes(&p, user_id(m, u->user), sizeof(struct uuid));
            dig_bytes(&p, &u->role, 1);
            sum += dig_end(&p);
        }
    }
    for (size_t i = 0; i < m->tags_nr; i++) {
        const struct model_tag *t = &m->tags[i];
        struct dig d = DIG_INIT(6);

        dig_bytes(&d, &t->id, sizeof(t->id));
        dig_str(&d, m, t->value);
        if (t->parent != MODEL_NONE)
            dig_bytes(&d, &m->tags[t->parent].id, sizeof(struct uuid));
        sum += dig_end(&d);
    }
    snprintf(out, MODEL_DIGEST_LEN + 1, "%016llx", (unsigned long long)sum);
}
