/*
 * buf.h: the one growable byte buffer of the project.
 *
 * A struct buf is usable as soon as it is initialised with BUF_INIT (or
 * buf_init()): `buf` is never NULL and always NUL-terminated, so it can be
 * handed to any function that wants a C string.  `len` excludes the NUL.
 *
 *     struct buf b = BUF_INIT;
 *     buf_addf(&b, "%s:%d", file, line);
 *     use(b.buf);
 *     buf_release(&b);
 *
 * Buffers fed from the network get a ceiling with buf_set_max(): the
 * buf_add_limited() family then refuses to grow past it (returns -1 and
 * leaves the buffer unchanged), the way curl's dynbuf refuses "toobig".
 * The plain buf_add*() functions ignore the ceiling and abort only when
 * memory runs out.
 */
#ifndef IA_BUF_H
#define IA_BUF_H

#include <stdarg.h>

#include "core/common.h"

struct buf {
    char *buf;    /* data, never NULL, NUL-terminated */
    size_t len;   /* bytes used, excluding the NUL */
    size_t alloc; /* bytes allocated; 0 while buf points at buf_empty */
    size_t max;   /* ceiling for buf_add_limited(); 0 = none */
};

extern char buf_empty[];
#define BUF_INIT                                                               \
    {                                                                          \
        buf_empty, 0, 0, 0                                                     \
    }

void buf_init(struct buf *b, size_t hint);
void buf_set_max(struct buf *b, size_t max);
/* Frees the memory and leaves b as after BUF_INIT.  Accepts NULL. */
void buf_release(struct buf *b);
/* Empties b but keeps its memory. */
void buf_reset(struct buf *b);
/* Hands the (always non-NULL, malloc'd) string to the caller; b is reset. */
char *buf_detach(struct buf *b, size_t *len);
/* Makes room for extra more bytes. */
void buf_grow(struct buf *b, size_t extra);
/* Sets len (<= alloc-1) and writes the NUL. */
void buf_setlen(struct buf *b, size_t len);

void buf_add(struct buf *b, const void *data, size_t len);
void buf_addstr(struct buf *b, const char *s);
void buf_addch(struct buf *b, int c);
void buf_addf(struct buf *b, const char *fmt, ...) IA_PRINTF(2, 3);
void buf_vaddf(struct buf *b, const char *fmt, va_list ap);
/* Like buf_add() but fails with -1 when len would pass b->max. */
int buf_add_limited(struct buf *b, const void *data, size_t len);
/* Appends s as a JSON string literal, quotes included. */
void buf_add_json_str(struct buf *b, const char *s, size_t len);
/* Appends u as a JSON string literal: 36 lowercase characters, quoted. */
struct uuid;
void buf_add_json_uuid(struct buf *b, const struct uuid *u);
/* Removes trailing whitespace. */
void buf_rtrim(struct buf *b);

#endif
