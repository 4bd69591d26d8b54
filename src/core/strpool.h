/*
 * strpool.h: interned strings.
 *
 * Every distinct interned string is stored once; its id is its byte
 * offset in the pool, a uint32_t, so records can refer to strings with 4
 * bytes and two interned strings are equal iff their ids are (strings
 * appended with strpool_add() are not interned).  Id 0 is the empty
 * string.
 *
 *     struct strpool p = STRPOOL_INIT;
 *     uint32_t id = strpool_intern(&p, "2019-07-14 Beach", 16);
 *     puts(strpool_str(&p, id));
 *     strpool_release(&p);
 *
 * Pointers from strpool_str() are valid until the next intern call (the
 * pool may move); keep ids, not pointers.  Lookups cost one hash.
 */
#ifndef IA_STRPOOL_H
#define IA_STRPOOL_H

#include "core/common.h"

#define STRPOOL_NONE UINT32_MAX

struct strpool {
    char *data;        /* NUL-terminated strings back to back */
    size_t len, alloc; /* bytes used / allocated in data */
    uint32_t *slots;   /* open-addressing table of ids+1 (0 = empty) */
    size_t slots_nr;   /* power of two */
    size_t count;      /* distinct strings */
};

#define STRPOOL_INIT                                                           \
    {                                                                          \
        NULL, 0, 0, NULL, 0, 0                                                 \
    }

uint32_t strpool_intern(struct strpool *p, const char *s, size_t len);
uint32_t strpool_intern_str(struct strpool *p, const char *s);
/*
 * Appends s without interning it: no hash slot, no lookup, and the id is
 * not unique (the same text added twice, or also interned, has two ids;
 * strpool_find() does not see added strings).  For many distinct strings
 * that are only ever read back by id.  Stops at a NUL like intern.
 */
uint32_t strpool_add(struct strpool *p, const char *s, size_t len);
/* The id of s if it was interned, else STRPOOL_NONE. */
uint32_t strpool_find(const struct strpool *p, const char *s, size_t len);
const char *strpool_str(const struct strpool *p, uint32_t id);
size_t strpool_strlen(const struct strpool *p, uint32_t id);
void strpool_release(struct strpool *p);
uint64_t hash_bytes(const void *data, size_t len);

#endif
