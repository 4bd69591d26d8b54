/*
 * common.h: the header every source file of the project includes first.
 *
 * It brings the standard types, the allocation wrappers, BUG() for broken
 * invariants and ALLOC_GROW() for the items/nr/alloc array idiom:
 *
 *     struct thing *items; size_t nr, alloc;
 *     ALLOC_GROW(items, nr + 1, alloc);
 *     items[nr++] = t;
 */
#ifndef IA_COMMON_H
#define IA_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"

#if defined(__GNUC__)
#define IA_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define IA_NORETURN          __attribute__((noreturn))
#else
#define IA_PRINTF(fmt, args)
#define IA_NORETURN
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Aborts with file and line: for broken invariants, never for bad input. */
#define BUG(...) bug_fl(__FILE__, __LINE__, __VA_ARGS__)
IA_NORETURN void bug_fl(const char *file, int line, const char *fmt, ...)
    IA_PRINTF(3, 4);

/* Grows x (an array of alloc elements) so that it holds at least nr. */
#define ALLOC_GROW(x, nr, alloc)                                               \
    do {                                                                       \
        if ((size_t)(nr) > (alloc)) {                                          \
            size_t ag_new_ = (alloc) < 8 ? 16 : st_add((alloc), (alloc) / 2);  \
            if (ag_new_ < (size_t)(nr))                                        \
                ag_new_ = (size_t)(nr);                                        \
            (x) = xrealloc((x), st_mult(sizeof(*(x)), ag_new_));               \
            (alloc) = ag_new_;                                                 \
        }                                                                      \
    } while (0)

#include "core/banned.h"

#endif
