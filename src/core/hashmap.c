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
