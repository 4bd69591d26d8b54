/*
 * strpool.c: string interning with an open-addressing table of offsets.
 * The table is kept at most half full; growth rehashes from the data.
 */
#include "core/strpool.h"

uint64_t hash_bytes(const void *data, size_t len)
{
    /* FNV-1a, 64 bit: short keys, good enough spread, no dependencies. */
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL;
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h ^ (h >> 32);
}

static void ensure_empty_string(struct strpool *p)
{
    if (p->alloc)
        return;
    ALLOC_GROW(p->data, 4096, p->alloc);
    p->data[0] = '\0';
    p->len = 1;
}

static size_t probe(const struct strpool *p, const char *s, size_t len,
                    bool *found)
{
    size_t mask = p->slots_nr - 1;
    size_t i = (size_t)hash_bytes(s, len) & mask;

    for (;; i = (i + 1) & mask) {
        uint32_t id1 = p->slots[i];
        const char *cand;

        if (!id1) {
            *found = false;
            return i;
        }
        cand = p->data + id1 - 1;
        if (!strncmp(cand, s, len) && cand[len] == '\0') {
            *found = true;
            return i;
        }
    }
}

static void rehash(struct strpool *p)
{
    size_t old_nr = p->slots_nr, i;
    uint32_t *old = p->slots;

    p->slots_nr = old_nr ? old_nr * 2 : 1024;
    p->slots = xcalloc(p->slots_nr, sizeof(*p->slots));
    for (i = 0; i < old_nr; i++) {
        bool found;
        const char *s;
        size_t slot;

        if (!old[i])
            continue;
        s = p->data + old[i] - 1;
        slot = probe(p, s, strlen(s), &found);
        p->slots[slot] = old[i];
    }
    free(old);
}

uint32_t strpool_find(const struct strpool *p, const char *s, size_t len)
{
    bool found;
    size_t slot;

    if (!len)
        return 0;
    if (!p->slots_nr || memchr(s, '\0', len))
        return STRPOOL_NONE;
    slot = probe(p, s, len, &found);
    return found ? p->slots[slot] - 1 : STRPOOL_NONE;
}

/* Copies s (len bytes, no NUL among them) to the end of the pool. */
static uint32_t append(struct strpool *p, const char *s, size_t len)
{
    size_t off = p->len;

    if (st_add(off, len) >= UINT32_MAX - 1)
        BUG("string pool exceeds 4 GiB");
    ALLOC_GROW(p->data, off + len + 1, p->alloc);
    memcpy(p->data + off, s, len);
    p->data[off + len] = '\0';
    p->len = off + len + 1;
    return (uint32_t)off;
}

uint32_t strpool_add(struct strpool *p, const char *s, size_t len)
{
    const char *nul = len ? memchr(s, '\0', len) : NULL;

    if (nul)
        len = (size_t)(nul - s);
    ensure_empty_string(p);
    return len ? append(p, s, len) : 0;
}

uint32_t strpool_intern(struct strpool *p, const char *s, size_t len)
{
    bool found;
    size_t slot, off;
    const char *nul;

    nul = len ? memchr(s, '\0', len) : NULL;
    if (nul)
        len = (size_t)(nul - s); /* ids name C strings: stop at a NUL */
    ensure_empty_string(p);
    if (!len)
        return 0;
    if ((p->count + 1) * 2 > p->slots_nr)
        rehash(p);
    slot = probe(p, s, len, &found);
    if (found)
        return p->slots[slot] - 1;
    off = append(p, s, len);
    p->slots[slot] = (uint32_t)off + 1;
    p->count++;
    return (uint32_t)off;
}

uint32_t strpool_intern_str(struct strpool *p, const char *s)
{
    return strpool_intern(p, s, strlen(s));
}

const char *strpool_str(const struct strpool *p, uint32_t id)
{
    if (!p->data)
        return "";
    if (id >= p->len)
        BUG("string id %u outside the pool (%zu bytes)", id, p->len);
    return p->data + id;
}

size_t strpool_strlen(const struct strpool *p, uint32_t id)
{
    return strlen(strpool_str(p, id));
}

void strpool_release(struct strpool *p)
{
    free(p->data);
    free(p->slots);
    memset(p, 0, sizeof(*p));
}
