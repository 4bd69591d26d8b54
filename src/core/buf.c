/*
 * buf.c: growable NUL-terminated byte buffer (see buf.h for the contract).
 */
#include "core/buf.h"

#include <stdarg.h>

#include "core/uuid.h"

char buf_empty[1];

void buf_init(struct buf *b, size_t hint)
{
    b->buf = buf_empty;
    b->len = 0;
    b->alloc = 0;
    b->max = 0;
    if (hint)
        buf_grow(b, hint);
}

void buf_set_max(struct buf *b, size_t max)
{
    b->max = max;
}

void buf_release(struct buf *b)
{
    if (!b)
        return;
    if (b->alloc)
        free(b->buf);
    b->buf = buf_empty;
    b->len = 0;
    b->alloc = 0;
}

void buf_reset(struct buf *b)
{
    if (b->alloc)
        buf_setlen(b, 0);
}

char *buf_detach(struct buf *b, size_t *len)
{
    char *s;

    if (!b->alloc)
        buf_grow(b, 0);
    s = b->buf;
    if (len)
        *len = b->len;
    b->buf = buf_empty;
    b->len = 0;
    b->alloc = 0;
    return s;
}

void buf_grow(struct buf *b, size_t extra)
{
    size_t need = st_add(st_add(b->len, extra), 1);
    int fresh = !b->alloc;

    if (need <= b->alloc)
        return;
    if (fresh)
        b->buf = NULL;
    ALLOC_GROW(b->buf, need, b->alloc);
    if (fresh)
        b->buf[0] = '\0';
}

void buf_setlen(struct buf *b, size_t len)
{
    if (!b->alloc) {
        if (len)
            BUG("buf_setlen(%zu) on an empty buffer", len);
        return;
    }
    if (len >= b->alloc)
        BUG("buf_setlen(%zu) beyond alloc %zu", len, b->alloc);
    b->len = len;
    b->buf[len] = '\0';
}

void buf_add(struct buf *b, const void *data, size_t len)
{
    if (!len)
        return;
    buf_grow(b, len);
    memcpy(b->buf + b->len, data, len);
    buf_setlen(b, b->len + len);
}

int buf_add_limited(struct buf *b, const void *data, size_t len)
{
    if (b->max && (len > b->max || b->len > b->max - len))
        return -1;
    buf_add(b, data, len);
    return 0;
}

void buf_addstr(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

void buf_addch(struct buf *b, int c)
{
    char ch = (char)c;

    buf_add(b, &ch, 1);
}

#if defined(__clang__)
#pragma clang diagnostic ignored "-Wformat-nonliteral"
#endif

void buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    int n;

    buf_grow(b, 64);
    va_copy(cp, ap);
    n = vsnprintf(b->buf + b->len, b->alloc - b->len, fmt, cp);
    va_end(cp);
    if (n < 0)
        BUG("vsnprintf failed for format '%s'", fmt);
    if ((size_t)n >= b->alloc - b->len) {
        buf_grow(b, (size_t)n);
        n = vsnprintf(b->buf + b->len, b->alloc - b->len, fmt, ap);
        if (n < 0)
            BUG("vsnprintf failed for format '%s'", fmt);
    }
    buf_setlen(b, b->len + (size_t)n);
}

void buf_addf(struct buf *b, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    buf_vaddf(b, fmt, ap);
    va_end(ap);
}

void buf_add_json_str(struct buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = 0, run;

    buf_addch(b, '"');
    while (i < len) {
        unsigned char c;

        /* The bytes that need no escape go in one piece: journals of
         * 225,000 lines pass here. */
        for (run = i; run < len; run++) {
            c = (unsigned char)s[run];
            if (c < 0x20 || c == '"' || c == '\\')
                break;
        }
        buf_add(b, s + i, run - i);
        if (run == len)
            break;
        c = (unsigned char)s[run];
        i = run + 1;
        switch (c) {
        case '"':
            buf_add(b, "\\\"", 2);
            break;
        case '\\':
            buf_add(b, "\\\\", 2);
            break;
        case '\n':
            buf_add(b, "\\n", 2);
            break;
        case '\r':
            buf_add(b, "\\r", 2);
            break;
        case '\t':
            buf_add(b, "\\t", 2);
            break;
        default: {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

            buf_add(b, esc, sizeof(esc));
        }
        }
    }
    buf_addch(b, '"');
}

void buf_add_json_uuid(struct buf *b, const struct uuid *u)
{
    char s[UUID_STR_LEN + 1];

    uuid_format(u, s);
    buf_addch(b, '"');
    buf_add(b, s, UUID_STR_LEN);
    buf_addch(b, '"');
}

void buf_rtrim(struct buf *b)
{
    size_t n = b->len;

    while (n && (b->buf[n - 1] == ' ' || b->buf[n - 1] == '\t' ||
                 b->buf[n - 1] == '\n' || b->buf[n - 1] == '\r'))
        n--;
    if (b->alloc)
        buf_setlen(b, n);
}
