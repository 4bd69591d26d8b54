/*
 * test_ids.h: the unit tests' made-up ids: a uuid that reads as its
 * number n (last two bytes) under a first byte of its own per test, so an
 * id printed in a failure says which test and which asset it is.
 */
#ifndef IA_TEST_IDS_H
#define IA_TEST_IDS_H

#include <stdint.h>
#include <string.h>

#include "core/uuid.h"

static inline struct uuid test_id(uint8_t first, unsigned n)
{
    struct uuid u;

    memset(&u, 0, sizeof(u));
    u.b[0] = first;
    u.b[14] = (uint8_t)(n >> 8);
    u.b[15] = (uint8_t)n;
    return u;
}

#endif
