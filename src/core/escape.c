/*
 * escape.c: control characters and malformed UTF-8 made visible (see
 * escape.h).  Linear, one pass, no allocation beyond dst.
 */
#include "core/escape.h"

/* Length of the well-formed UTF-8 sequence at s (RFC 3629), 0 if none. */
static size_t utf8_len(const unsigned char *s, size_t left)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xbf;
    size_t n, i;

    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4;
    else
        return 0;
    if (n > left)
        return 0;
    /* The second byte's range excludes overlongs and surrogates. */
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (i = 2; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    return n;
}

void escape_text(struct buf *dst, const char *s, size_t len, const char *also)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < len) {
        unsigned char c = p[i];
        size_t n;

        /* Printable ASCII that needs no escape goes in one piece. */
        for (n = i; n < len && p[n] >= 0x20 && p[n] < 0x7f &&
                    !(also && strchr(also, p[n]));
             n++)
            ;
        if (n > i) {
            buf_add(dst, s + i, n - i);
            i = n;
            continue;
        }
        if (c >= 0x80) {
            n = utf8_len(p + i, len - i);
            if (!n) {
                buf_addf(dst, "\\x%02x", c);
                i++;
            } else if (c == 0xc2 && p[i + 1] < 0xa0) {
                buf_addf(dst, "\\u%04x", p[i + 1]); /* C1 control */
                i += 2;
            } else {
                buf_add(dst, s + i, n);
                i += n;
            }
            continue;
        }
        if (c == '\n')
            buf_addstr(dst, "\\n");
        else if (c == '\r')
            buf_addstr(dst, "\\r");
        else if (c == '\t')
            buf_addstr(dst, "\\t");
        else if (c < 0x20 || c == 0x7f)
            buf_addf(dst, "\\x%02x", c);
        else if (also && strchr(also, c) && c)
            buf_addf(dst, "\\%c", c);
        else
            buf_addch(dst, c);
        i++;
    }
}
