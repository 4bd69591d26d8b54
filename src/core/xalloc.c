/*
 * xalloc.c: allocation that aborts instead of returning NULL, and the
 * overflow-checked size arithmetic used by ALLOC_GROW().
 */
#include "core/common.h"

#include <malloc.h>
#include <stdarg.h>

/* Blocks of this size and more are mapped on their own (xalloc_tune()). */
#define XALLOC_MMAP_MIN (256 * 1024)

void bug_fl(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "BUG: %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

static IA_NORETURN void die_oom(size_t size)
{
    fprintf(stderr, "fatal: out of memory allocating %zu bytes\n", size);
    abort();
}

void *xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);

    if (!p)
        die_oom(size);
    return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

    if (!p)
        die_oom(st_mult(nmemb, size));
    return p;
}

void *xrealloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);

    if (!p)
        die_oom(size);
    return p;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t len)
{
    char *p = xmalloc(st_add(len, 1));

    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

void *xmemdup(const void *p, size_t len)
{
    void *q = xmalloc(len);

    if (len)
        memcpy(q, p, len);
    return q;
}

size_t st_add(size_t a, size_t b)
{
    if (a > SIZE_MAX - b)
        BUG("size_t overflow: %zu + %zu", a, b);
    return a + b;
}

size_t st_mult(size_t a, size_t b)
{
    if (a && b > SIZE_MAX / a)
        BUG("size_t overflow: %zu * %zu", a, b);
    return a * b;
}

/*
 * glibc raises its mmap threshold to the size of each mmapped block freed
 * (up to 32 MiB): after the first large response buffer is freed, arrays
 * of up to 32 MiB come from the heap, where growing one copies it (old and
 * new both resident) and frees a hole that only small blocks reuse.  A
 * fixed threshold keeps every large array mmapped: realloc moves its
 * pages (mremap) and free returns them to the system.
 */
void xalloc_tune(void)
{
    (void)mallopt(M_MMAP_THRESHOLD, XALLOC_MMAP_MIN);
}
