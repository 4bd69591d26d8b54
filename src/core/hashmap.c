/*
 * hashmap.c: open-addressing maps to uint32_t (see hashmap.h).
 */
#include "core/hashmap.h"

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

static size_t uuid_slot(const struct uuidmap *m, const struct uuid *key)
{
    size_t mask = m->slots_nr - 1, i = (size_t)uuid_hash(key) & mask;

    while (m->slots[i].value != HASHMAP_NONE && !uuid_eq(&m->slots[i].key, key))
        i = (i + 1) & mask;
    return i;
}

static void uuidmap_grow(struct uuidmap *m)
{
    struct uuidmap_slot *old = m->slots;
    size_t old_nr = m->slots_nr, i;

    m->slots_nr = old_nr ? old_nr * 2 : 64;
    m->slots = xmalloc(st_mult(m->slots_nr, sizeof(*m->slots)));
    for (i = 0; i < m->slots_nr; i++)
        m->slots[i].value = HASHMAP_NONE;
    for (i = 0; i < old_nr; i++)
        if (old[i].value != HASHMAP_NONE)
            m->slots[uuid_slot(m, &old[i].key)] = old[i];
    free(old);
}

uint32_t uuidmap_put(struct uuidmap *m, const struct uuid *key, uint32_t value)
{
    size_t i;
    uint32_t prev;

    if (value == HASHMAP_NONE)
        BUG("uuidmap value HASHMAP_NONE is reserved");
    if ((m->count + 1) * 2 > m->slots_nr)
        uuidmap_grow(m);
    i = uuid_slot(m, key);
    prev = m->slots[i].value;
    if (prev == HASHMAP_NONE)
        m->count++;
    m->slots[i].key = *key;
    m->slots[i].value = value;
    return prev;
}

uint32_t uuidmap_get(const struct uuidmap *m, const struct uuid *key)
{
    if (!m->slots_nr)
        return HASHMAP_NONE;
    return m->slots[uuid_slot(m, key)].value;
}

void uuidmap_release(struct uuidmap *m)
{
    free(m->slots);
    memset(m, 0, sizeof(*m));
}

static size_t ix_slot(const struct uuidix *m, const struct uuid *key,
                      const void *ctx)
{
    size_t mask = m->slots_nr - 1, i = (size_t)uuid_hash(key) & mask;

    while (m->slots[i] != HASHMAP_NONE &&
           !uuid_eq(m->key_of(ctx, m->slots[i]), key))
        i = (i + 1) & mask;
    return i;
}

static void uuidix_grow(struct uuidix *m, const void *ctx)
{
    uint32_t *old = m->slots;
    size_t old_nr = m->slots_nr, i;

    m->slots_nr = old_nr ? old_nr * 2 : 64;
    m->slots = xmalloc(st_mult(m->slots_nr, sizeof(*m->slots)));
    memset(m->slots, 0xff, m->slots_nr * sizeof(*m->slots));
    for (i = 0; i < old_nr; i++)
        if (old[i] != HASHMAP_NONE)
            m->slots[ix_slot(m, m->key_of(ctx, old[i]), ctx)] = old[i];
    free(old);
}

uint32_t uuidix_put(struct uuidix *m, const struct uuid *key, uint32_t value,
                    const void *ctx)
{
    size_t i;
    uint32_t prev;

    if (value == HASHMAP_NONE)
        BUG("uuidix value HASHMAP_NONE is reserved");
    if ((m->count + 1) * 2 > m->slots_nr)
        uuidix_grow(m, ctx);
    i = ix_slot(m, key, ctx);
    prev = m->slots[i];
    if (prev == HASHMAP_NONE)
        m->count++;
    m->slots[i] = value;
    return prev;
}

uint32_t uuidix_get(const struct uuidix *m, const struct uuid *key,
                    const void *ctx)
{
    if (!m->slots_nr)
        return HASHMAP_NONE;
    return m->slots[ix_slot(m, key, ctx)];
}

void uuidix_release(struct uuidix *m)
{
    uuidix_key_fn *key_of = m->key_of;

    free(m->slots);
    memset(m, 0, sizeof(*m));
    m->key_of = key_of;
}

static size_t u64_slot(const struct u64map *m, uint64_t key)
{
    size_t mask = m->slots_nr - 1, i = (size_t)mix64(key) & mask;

    while (m->slots[i].value != HASHMAP_NONE && m->slots[i].key != key)
        i = (i + 1) & mask;
    return i;
}

static void u64map_grow(struct u64map *m)
{
    struct u64map_slot *old = m->slots;
    size_t old_nr = m->slots_nr, i;

    m->slots_nr = old_nr ? old_nr * 2 : 64;
    m->slots = xmalloc(st_mult(m->slots_nr, sizeof(*m->slots)));
    for (i = 0; i < m->slots_nr; i++)
        m->slots[i].value = HASHMAP_NONE;
    for (i = 0; i < old_nr; i++)
        if (old[i].value != HASHMAP_NONE)
            m->slots[u64_slot(m, old[i].key)] = old[i];
    free(old);
}

uint32_t u64map_put(struct u64map *m, uint64_t key, uint32_t value)
{
    size_t i;
    uint32_t prev;

    if (value == HASHMAP_NONE)
        BUG("u64map value HASHMAP_NONE is reserved");
    if ((m->count + 1) * 2 > m->slots_nr)
        u64map_grow(m);
    i = u64_slot(m, key);
    prev = m->slots[i].value;
    if (prev == HASHMAP_NONE)
        m->count++;
    m->slots[i].key = key;
    m->slots[i].value = value;
    return prev;
}

uint32_t u64map_get(const struct u64map *m, uint64_t key)
{
    if (!m->slots_nr)
        return HASHMAP_NONE;
    return m->slots[u64_slot(m, key)].value;
}

void u64map_release(struct u64map *m)
{
    free(m->slots);
    memset(m, 0, sizeof(*m));
}
