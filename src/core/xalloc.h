/*
 * xalloc.h: allocation wrappers that never return NULL.  On exhaustion they
 * print the size requested and abort; sizes that come from input must be
 * capped by the caller before they get here.  st_add()/st_mult() abort on
 * size_t overflow.
 */
#ifndef IA_XALLOC_H
#define IA_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t len);
/* Copies len bytes of p into a new allocation. */
void *xmemdup(const void *p, size_t len);
size_t st_add(size_t a, size_t b);
size_t st_mult(size_t a, size_t b);

/* Sets the allocator up for a long process with large arrays: call once,
 * first thing in main(). */
void xalloc_tune(void);

#endif
