/*
 * pyre.c: Python `re` syntax to PCRE2, following CPython 3.11's
 * sre_parse.py construct by construct.
 *
 * One recursive-descent pass reads the pattern the way sre_parse does
 * (tokens are one code point, or a backslash and one code point) and
 * writes PCRE2 text.  Every construct is emitted as one PCRE2 atom, so a
 * quantifier that follows can simply be appended; constructs that need
 * several PCRE2 tokens are wrapped in (?:...).  Flags never reach PCRE2 as
 * options: the translator applies them as it writes (a dot is [^\n] or
 * (?s:.), ^ and $ are lookarounds, IGNORECASE wraps atoms in (?i:...) or,
 * under ASCII, spells out [xX]), and verbose mode is handled while reading.
 *
 * The width of every item (Python's getwidth) is tracked to refuse what
 * Python refuses: a lookbehind that is not fixed-width.
 */
#include "config/pyre.h"

#include <unictype.h>
#include <uniname.h>
#include <unistr.h>

#define MAXREPEAT       4294967295ULL /* CPython's _sre.MAXREPEAT on 64 bits */
#define PCRE2_MAXREPEAT 65535u        /* the largest {n} PCRE2 compiles */
#define MAX_DEPTH       200           /* nesting; bounds the recursion */

/* Flags in effect while reading (Python's SRE_FLAG_*; Unicode = !F_A). */
enum {
    F_I = 1u << 0, /* IGNORECASE */
    F_M = 1u << 1, /* MULTILINE */
    F_S = 1u << 2, /* DOTALL */
    F_X = 1u << 3, /* VERBOSE */
    F_A = 1u << 4, /* ASCII */
    F_U = 1u << 5, /* UNICODE: only seen while checking 'a'/'u' clashes */
};

/* The item just written, for quantifiers (sre_parse's subpattern[-1]). */
enum last {
    L_NONE,   /* nothing yet: "nothing to repeat" */
    L_AT,     /* an anchor: "nothing to repeat" */
    L_REPEAT, /* a quantified item: "multiple repeat" */
    L_ITEM,   /* anything else */
};

struct width {
    uint64_t lo, hi; /* in code points, saturated at MAXREPEAT */
};

struct group {
    char *name;     /* NULL for unnamed */
    bool closed;    /* ")" seen: back references allowed */
    struct width w; /* its width once closed */
};

struct pp {
    const char *start, *p, *end;
    struct buf *out;
    struct buf *err;
    unsigned flags;
    struct group *g; /* g[1..g_nr]: Python's group numbers */
    size_t g_nr, g_alloc;
    size_t lookbehind_groups; /* groups before the lookbehind; 0 = none */
    size_t *condref;          /* numbered (?(N) references, checked last */
    size_t condref_nr, condref_alloc;
    int depth;
};

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a + b > MAXREPEAT ? MAXREPEAT : a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
    if (!a || !b)
        return 0;
    return a > MAXREPEAT / b ? MAXREPEAT : a * b;
}

/* Position of p in code points, as Python reports it. */
static size_t pos_of(const struct pp *pp, const char *p)
{
    return u8_mbsnlen((const uint8_t *)pp->start, (size_t)(p - pp->start));
}

/* Python's "msg at position N" (N where the offending token starts). */
IA_PRINTF(3, 4)
static int fail(struct pp *pp, const char *at, const char *fmt, ...)
{
    va_list ap;

    if (pp->err->len)
        return -1;
    va_start(ap, fmt);
    buf_vaddf(pp->err, fmt, ap);
    va_end(ap);
    buf_addf(pp->err, " at position %zu", pos_of(pp, at));
    /* a pattern of several lines: Python adds where, counting from 1 */
    if (memchr(pp->start, '\n', (size_t)(pp->end - pp->start))) {
        const char *q, *nl = NULL;
        size_t line = 1;

        for (q = pp->start; q < at; q++)
            if (*q == '\n') {
                line++;
                nl = q;
            }
        buf_addf(pp->err, " (line %zu, column %zu)", line,
                 nl ? pos_of(pp, at) - pos_of(pp, nl) : pos_of(pp, at) + 1);
    }
    return -1;
}

/* Python's repr() of a name in a message: quoted, escapes shown. */
static void add_repr(struct buf *b, const char *s, size_t len)
{
    const uint8_t *p = (const uint8_t *)s, *end = p + len;
    char q = memchr(s, '\'', len) && !memchr(s, '"', len) ? '"' : '\'';
    uc_general_category_t hidden = uc_general_category_or(
        UC_CATEGORY_C, uc_general_category_or(UC_CATEGORY_Zl, UC_CATEGORY_Zp));

    buf_addch(b, q);
    while (p < end) {
        ucs4_t c;
        int n = u8_mbtouc(&c, p, (size_t)(end - p));

        if (c == '\\' || c == (ucs4_t)q)
            buf_addf(b, "\\%c", (char)c);
        else if (c == '\n' || c == '\t' || c == '\r')
            buf_addf(b, "\\%c", c == '\n' ? 'n' : c == '\t' ? 't' : 'r');
        else if (c >= ' ' && c < 0x7f)
            buf_addch(b, (int)c);
        else if (c < 0xa1 || uc_is_general_category(c, hidden) ||
                 (c != ' ' && uc_is_general_category(c, UC_CATEGORY_Zs)))
            buf_addf(b,
                     c < 0x100     ? "\\x%02x"
                     : c < 0x10000 ? "\\u%04x"
                                   : "\\U%08x",
                     (unsigned)c);
        else
            buf_add(b, p, (size_t)n);
        p += n;
    }
    buf_addch(b, q);
}

/* "msg 'name'": Python's messages that show a name with %r. */
static int fail_name(struct pp *pp, const char *at, const char *msg,
                     const char *name, size_t len)
{
    struct buf r = BUF_INIT;
    int ret;

    add_repr(&r, name, len);
    ret = fail(pp, at, "%s %s", msg, r.buf);
    buf_release(&r);
    return ret;
}

static bool at_end(const struct pp *pp)
{
    return pp->p >= pp->end;
}

/* The code point at s (the pattern was checked to be UTF-8). */
static ucs4_t cp_at(const struct pp *pp, const char *s, int *n)
{
    ucs4_t c = 0;
    int k = u8_mbtouc(&c, (const uint8_t *)s, (size_t)(pp->end - s));

    *n = k > 0 ? k : 1;
    return c;
}

static ucs4_t peek(const struct pp *pp)
{
    int n;

    return at_end(pp) ? 0 : cp_at(pp, pp->p, &n);
}

static ucs4_t get(struct pp *pp)
{
    int n;
    ucs4_t c;

    if (at_end(pp))
        return 0;
    c = cp_at(pp, pp->p, &n);
    pp->p += n;
    return c;
}

static bool match(struct pp *pp, char c)
{
    if (!at_end(pp) && *pp->p == c) {
        pp->p++;
        return true;
    }
    return false;
}

/* Length of the token at p: a code point, or a backslash and the next. */
static int token_len(const struct pp *pp, const char *p)
{
    int n, m = 0;

    (void)cp_at(pp, p, &n);
    if (*p == '\\' && p + 1 < pp->end)
        (void)cp_at(pp, p + 1, &m);
    return n + m;
}

/* Skips one token; a lone backslash at the end is Python's error. */
static int skip_token(struct pp *pp)
{
    if (*pp->p == '\\' && pp->p + 1 == pp->end)
        return fail(pp, pp->p, "bad escape (end of pattern)");
    pp->p += token_len(pp, pp->p);
    return 0;
}

static bool is_digit(ucs4_t c)
{
    return c >= '0' && c <= '9';
}

static bool is_oct(ucs4_t c)
{
    return c >= '0' && c <= '7';
}

static int hexval(ucs4_t c)
{
    if (is_digit(c))
        return (int)(c - '0');
    if (c >= 'a' && c <= 'f')
        return (int)(c - 'a' + 10);
    if (c >= 'A' && c <= 'F')
        return (int)(c - 'A' + 10);
    return -1;
}

static bool is_ascii_letter(ucs4_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_surrogate(ucs4_t c)
{
    return c >= 0xd800 && c <= 0xdfff;
}

/* str.isidentifier(): group names. */
static bool is_identifier(const char *s, size_t len)
{
    const uint8_t *p = (const uint8_t *)s, *end = p + len;
    bool first = true;

    if (!len)
        return false;
    while (p < end) {
        ucs4_t c;
        int n = u8_mbtouc(&c, p, (size_t)(end - p));

        if (n <= 0)
            return false;
        if (first ? !(c == '_' || uc_is_property_xid_start(c))
                  : !uc_is_property_xid_continue(c))
            return false;
        first = false;
        p += n;
    }
    return true;
}

/* One code point as PCRE2 text, literal in and out of classes. */
static void emit_cp(struct buf *b, ucs4_t c)
{
    if ((c >= '0' && c <= '9') || is_ascii_letter(c))
        buf_addch(b, (int)c);
    else
        buf_addf(b, "\\x{%X}", (unsigned)c);
}

/* ---- classes -------------------------------------------------------- */

/* A character set being built: items PCRE2 takes in [...], plus the sets
 * of negated categories (\D \S \W), which a PCRE2 class cannot union. */
struct cls {
    struct buf pos;    /* PCRE2 class body */
    struct buf neg[3]; /* bodies whose complement is in the set */
    size_t neg_nr;
    bool letters[128]; /* ASCII letters named, for ASCII IGNORECASE */
    bool has_i;        /* one of I_GROUP named, for Unicode IGNORECASE */
};

/*
 * Python's IGNORECASE compares simple lowercases and adds a few
 * equivalences of its own (sre_compile._equivalences).  PCRE2's caseless
 * sets agree on all of them but one, which pyre_diff.py finds by trying
 * every cased character: Python also makes 'i' and dotless 'ı' equal, so
 * I, i, İ (lowercase i) and ı are one group.
 */
#define I_GROUP "iI\\x{130}\\x{131}"

static bool in_i_group(ucs4_t c)
{
    return c == 'i' || c == 'I' || c == 0x130 || c == 0x131;
}

static void cls_init(struct cls *k)
{
    size_t i;

    memset(k, 0, sizeof(*k));
    buf_init(&k->pos, 0);
    for (i = 0; i < 3; i++)
        buf_init(&k->neg[i], 0);
}

static void cls_release(struct cls *k)
{
    size_t i;

    buf_release(&k->pos);
    for (i = 0; i < 3; i++)
        buf_release(&k->neg[i]);
}

static const char *word_set(unsigned flags)
{
    return flags & F_A ? "A-Za-z0-9_" : "\\p{L}\\p{N}_";
}

/* Python's \s: str.isspace() (Unicode) or [ \t\n\r\f\v] (ASCII). */
static const char *space_set(unsigned flags)
{
    return flags & F_A ? "\\t\\n\\x{B}\\f\\r\\x{20}"
                       : "\\t\\n\\x{B}\\f\\r\\x{1C}-\\x{1F}\\x{20}\\x{85}"
                         "\\p{Z}";
}

static const char *digit_set(unsigned flags)
{
    return flags & F_A ? "0-9" : "\\p{Nd}";
}

/* The set of a category letter (d s w, either case), or NULL. */
static const char *category_set(ucs4_t c, unsigned flags, bool *negated)
{
    *negated = c == 'D' || c == 'S' || c == 'W';
    switch (c) {
    case 'd':
    case 'D':
        return digit_set(flags);
    case 's':
    case 'S':
        return space_set(flags);
    case 'w':
    case 'W':
        return word_set(flags);
    default:
        return NULL;
    }
}

static void cls_range(struct cls *k, ucs4_t lo, ucs4_t hi)
{
    ucs4_t c;

    if (is_surrogate(lo))
        lo = 0xe000;
    if (is_surrogate(hi))
        hi = 0xd7ff;
    if (lo > hi)
        return; /* only surrogates: no UTF-8 subject holds one */
    for (c = lo; c <= hi && c < 128; c++)
        if (is_ascii_letter(c))
            k->letters[c] = true;
    if ((lo <= 'I' && hi >= 'I') || (lo <= 'i' && hi >= 'i') ||
        (lo <= 0x131 && hi >= 0x130))
        k->has_i = true;
    emit_cp(&k->pos, lo);
    if (hi != lo) {
        buf_addch(&k->pos, '-');
        emit_cp(&k->pos, hi);
    }
}

/* At most three negated sets exist (\D \S \W), each added once. */
static void cls_category(struct cls *k, const char *set, bool negated)
{
    size_t i;

    if (!negated) {
        buf_addstr(&k->pos, set);
        return;
    }
    for (i = 0; i < k->neg_nr; i++)
        if (!strcmp(k->neg[i].buf, set))
            return;
    if (k->neg_nr == 3)
        BUG("a fourth negated category set");
    buf_addstr(&k->neg[k->neg_nr++], set);
}

/* Python's IGNORECASE under ASCII: the other case of each letter. */
static void cls_ascii_fold(struct cls *k)
{
    int c;

    for (c = 'A'; c <= 'Z'; c++)
        if (k->letters[c] != k->letters[c + 32]) {
            buf_addch(&k->pos, k->letters[c] ? c + 32 : c);
            k->letters[c] = k->letters[c + 32] = true;
        }
}

static void cls_emit(struct pp *pp, struct cls *k, bool negate)
{
    struct buf *o = pp->out;
    bool ci = (pp->flags & F_I) && !(pp->flags & F_A);
    size_t i;

    if ((pp->flags & F_I) && (pp->flags & F_A))
        cls_ascii_fold(k);
    if (ci && k->has_i)
        buf_addstr(&k->pos, I_GROUP);
    if (ci)
        buf_addstr(o, "(?i:");
    if (!k->neg_nr) {
        if (k->pos.len)
            buf_addf(o, "[%s%s]", negate ? "^" : "", k->pos.buf);
        else /* all items were surrogates */
            buf_addf(o, "[%s\\x{0}-\\x{10FFFF}]", negate ? "" : "^");
    } else if (!negate) {
        buf_addstr(o, "(?:");
        if (k->pos.len)
            buf_addf(o, "[%s]|", k->pos.buf);
        for (i = 0; i < k->neg_nr; i++)
            buf_addf(o, "%s[^%s]", i ? "|" : "", k->neg[i].buf);
        buf_addch(o, ')');
    } else {
        buf_addstr(o, "(?:");
        if (k->pos.len)
            buf_addf(o, "(?![%s])", k->pos.buf);
        for (i = 0; i < k->neg_nr; i++)
            buf_addf(o, "(?=[%s])", k->neg[i].buf);
        buf_addstr(o, "(?s:.))");
    }
    if (ci)
        buf_addch(o, ')');
}

/* ---- escapes -------------------------------------------------------- */

/* \xhh, \uhhhh, \Uhhhhhhhh: exactly n hex digits (getwhile + length). */
static int hex_escape(struct pp *pp, const char *at, char kind, int n,
                      ucs4_t *out)
{
    uint32_t v = 0;
    int i;

    for (i = 0; i < n && !at_end(pp) && hexval(peek(pp)) >= 0; i++)
        v = v * 16 + (uint32_t)hexval(get(pp));
    if (i != n)
        return fail(pp, at, "incomplete escape \\%c%.*s", kind,
                    (int)(pp->p - at - 2), at + 2);
    if (v > 0x10ffff)
        return fail(pp, at, "bad escape \\%c%.*s", kind, (int)(pp->p - at - 2),
                    at + 2);
    *out = v;
    return 0;
}

/* Reads "name<term>" (sre_parse Tokenizer.getuntil). */
static int get_name(struct pp *pp, char term, const char *what,
                    const char **name, size_t *len)
{
    const char *s = pp->p;

    while (!at_end(pp) && *pp->p != term)
        if (skip_token(pp) < 0)
            return -1;
    if (at_end(pp))
        return pp->p == s ? fail(pp, pp->p, "missing %s", what)
                          : fail(pp, s, "missing %c, unterminated name", term);
    if (pp->p == s)
        return fail(pp, pp->p, "missing %s", what);
    *name = s;
    *len = (size_t)(pp->p - s);
    pp->p++;
    return 0;
}

/* A group's name up to term, which must be an identifier ((?P<name>,
 * (?P=name)). */
static int group_name(struct pp *pp, char term, const char **name, size_t *len)
{
    if (get_name(pp, term, "group name", name, len) < 0)
        return -1;
    if (!is_identifier(*name, *len))
        return fail_name(pp, *name, "bad character in group name", *name, *len);
    return 0;
}

/*
 * \N{NAME}: unicodedata.lookup(), which ignores case and knows the
 * formal aliases.  libunistring's table is the same Unicode version as
 * Debian's python3 (14.0) and looks names up in upper case.
 */
static int named_escape(struct pp *pp, const char *at, ucs4_t *out)
{
    const char *name;
    char *up;
    size_t i, len;
    ucs4_t c;

    if (!match(pp, '{'))
        return fail(pp, pp->p, "missing {");
    if (get_name(pp, '}', "character name", &name, &len) < 0)
        return -1;
    up = xmemdup(name, len + 1);
    up[len] = '\0';
    for (i = 0; i < len; i++)
        if (up[i] >= 'a' && up[i] <= 'z')
            up[i] = (char)(up[i] - 32);
    c = len < 256 ? unicode_name_character(up) : UNINAME_INVALID;
    free(up);
    if (c == UNINAME_INVALID)
        return fail_name(pp, at, "undefined character name", name, len);
    *out = c;
    return 0;
}

/* Escapes that mean one code point, shared by classes and the rest
 * (\b is not one: it depends on where it is).  Returns 1 when the letter
 * is not one of them. */
static int char_escape(struct pp *pp, const char *at, ucs4_t c, ucs4_t *out)
{
    switch (c) {
    case 'a':
        *out = '\a';
        return 0;
    case 'f':
        *out = '\f';
        return 0;
    case 'n':
        *out = '\n';
        return 0;
    case 'r':
        *out = '\r';
        return 0;
    case 't':
        *out = '\t';
        return 0;
    case 'v':
        *out = '\v';
        return 0;
    case 'x':
        return hex_escape(pp, at, 'x', 2, out);
    case 'u':
        return hex_escape(pp, at, 'u', 4, out);
    case 'U':
        return hex_escape(pp, at, 'U', 8, out);
    case 'N':
        return named_escape(pp, at, out);
    default:
        return 1;
    }
}

/* An escape inside [...] (sre_parse._class_escape). */
static int class_escape(struct pp *pp, struct cls *k, bool *is_char,
                        ucs4_t *out)
{
    const char *at = pp->p - 1;
    ucs4_t c = get(pp);
    const char *set;
    bool negated;
    int r;

    *is_char = true;
    if (!c && at_end(pp))
        return fail(pp, at, "bad escape (end of pattern)");
    if (c == 'b') {
        *out = '\b';
        return 0;
    }
    if ((set = category_set(c, pp->flags, &negated)) != NULL) {
        cls_category(k, set, negated);
        *is_char = false;
        return 0;
    }
    if ((r = char_escape(pp, at, c, out)) <= 0)
        return r;
    if (is_oct(c)) {
        unsigned v = c - '0';
        int i;

        for (i = 0; i < 2 && is_oct(peek(pp)) && !at_end(pp); i++)
            v = v * 8 + (get(pp) - '0');
        if (v > 0377)
            return fail(pp, at,
                        "octal escape value \\%.*s outside of "
                        "range 0-0o377",
                        (int)(pp->p - at - 1), at + 1);
        *out = v;
        return 0;
    }
    if (is_digit(c) || is_ascii_letter(c))
        return fail(pp, at, "bad escape \\%c", (char)c);
    *out = c;
    return 0;
}

/* One item of a class: an escape or a code point. */
static int class_item(struct pp *pp, struct cls *k, bool *is_char, ucs4_t *c)
{
    *is_char = true;
    if (match(pp, '\\'))
        return class_escape(pp, k, is_char, c);
    *c = get(pp);
    return 0;
}

/* [...] (sre_parse._parse, the "[" case). */
static int parse_class(struct pp *pp, const char *at)
{
    struct cls k;
    bool negate = match(pp, '^'), any = false;
    int ret = -1;

    cls_init(&k);
    for (;;) {
        const char *tok = pp->p;
        ucs4_t lo = 0, hi = 0;
        bool lo_char, hi_char;

        if (at_end(pp)) {
            fail(pp, at, "unterminated character set");
            goto out;
        }
        if (*pp->p == ']' && any) {
            pp->p++;
            break;
        }
        if (class_item(pp, &k, &lo_char, &lo) < 0)
            goto out;
        any = true;
        if (!match(pp, '-')) {
            if (lo_char)
                cls_range(&k, lo, lo);
            continue;
        }
        if (at_end(pp)) {
            fail(pp, at, "unterminated character set");
            goto out;
        }
        if (*pp->p == ']') { /* "a-]": a and a dash */
            pp->p++;
            if (lo_char)
                cls_range(&k, lo, lo);
            cls_range(&k, '-', '-');
            break;
        }
        if (class_item(pp, &k, &hi_char, &hi) < 0)
            goto out;
        if (!lo_char || !hi_char || hi < lo) {
            fail(pp, tok, "bad character range %.*s", (int)(pp->p - tok), tok);
            goto out;
        }
        cls_range(&k, lo, hi);
    }
    cls_emit(pp, &k, negate);
    ret = 0;
out:
    cls_release(&k);
    return ret;
}

/* A literal code point, with IGNORECASE applied. */
static void emit_literal(struct pp *pp, ucs4_t c)
{
    struct buf *o = pp->out;

    if (is_surrogate(c)) {
        buf_addstr(o, "[^\\x{0}-\\x{10FFFF}]"); /* never in UTF-8 text */
    } else if (!(pp->flags & F_I) || (c < 128 && !is_ascii_letter(c))) {
        emit_cp(o, c);
    } else if (pp->flags & F_A) {
        if (is_ascii_letter(c))
            buf_addf(o, "[%c%c]", (char)(c | 32), (char)(c & ~32u));
        else
            emit_cp(o, c);
    } else if (in_i_group(c)) {
        buf_addstr(o, "[" I_GROUP "]");
    } else {
        buf_addstr(o, "(?i:");
        emit_cp(o, c);
        buf_addch(o, ')');
    }
}

static void emit_boundary(struct pp *pp, bool negated)
{
    const char *w = word_set(pp->flags);

    /* Python: \b and \B never match in an empty string */
    if (negated)
        buf_addf(pp->out,
                 "(?:(?!\\A\\z)(?:(?<=[%s])(?=[%s])|"
                 "(?<![%s])(?![%s])))",
                 w, w, w, w);
    else
        buf_addf(pp->out, "(?:(?<=[%s])(?![%s])|(?<![%s])(?=[%s]))", w, w, w,
                 w);
}

static int group_ref(struct pp *pp, const char *at, size_t gid,
                     struct width *w);

/* An escape outside [...] (sre_parse._escape). */
static int escape(struct pp *pp, enum last *last, struct width *w)
{
    const char *at = pp->p - 1;
    ucs4_t c = get(pp), v = 0;
    const char *set;
    bool negated;
    int r;

    *last = L_ITEM;
    w->lo = w->hi = 1;
    if (!c && at_end(pp))
        return fail(pp, at, "bad escape (end of pattern)");
    if ((set = category_set(c, pp->flags, &negated)) != NULL) {
        struct cls k;

        cls_init(&k);
        cls_category(&k, set, negated);
        cls_emit(pp, &k, false);
        cls_release(&k);
        return 0;
    }
    if (c == 'A' || c == 'Z' || c == 'b' || c == 'B') {
        *last = L_AT;
        w->lo = w->hi = 0;
        if (c == 'b' || c == 'B')
            emit_boundary(pp, c == 'B');
        else
            buf_addstr(pp->out, c == 'A' ? "\\A" : "\\z");
        return 0;
    }
    if ((r = char_escape(pp, at, c, &v)) <= 0) {
        if (!r)
            emit_literal(pp, v);
        return r;
    }
    if (c == '0') {
        int i;

        for (i = 0; i < 2 && !at_end(pp) && is_oct(peek(pp)); i++)
            v = v * 8 + (get(pp) - '0');
        emit_literal(pp, v);
        return 0;
    }
    if (is_digit(c)) {
        size_t gid = c - '0';

        if (!at_end(pp) && is_digit(peek(pp))) {
            ucs4_t d = get(pp);

            if (is_oct(c) && is_oct(d) && !at_end(pp) && is_oct(peek(pp))) {
                v = ((c - '0') * 8 + (d - '0')) * 8 + (get(pp) - '0');
                if (v > 0377)
                    return fail(pp, at,
                                "octal escape value \\%.*s outside "
                                "of range 0-0o377",
                                (int)(pp->p - at - 1), at + 1);
                emit_literal(pp, v);
                return 0;
            }
            gid = gid * 10 + (d - '0');
        }
        if (gid > pp->g_nr)
            return fail(pp, at + 1, "invalid group reference %zu", gid);
        return group_ref(pp, at, gid, w);
    }
    if (is_ascii_letter(c))
        return fail(pp, at, "bad escape \\%c", (char)c);
    emit_literal(pp, c);
    return 0;
}

/* A back reference to a group opened before (\N or (?P=name)). */
static int group_ref(struct pp *pp, const char *at, size_t gid, struct width *w)
{
    if (!pp->g[gid].closed)
        return fail(pp, at, "cannot refer to an open group");
    if (pp->lookbehind_groups && gid >= pp->lookbehind_groups)
        return fail(pp, at,
                    "cannot refer to group defined in the same "
                    "lookbehind subpattern");
    *w = pp->g[gid].w;
    if ((pp->flags & F_I) && !(pp->flags & F_A))
        buf_addf(pp->out, "(?i:\\g{%zu})", gid);
    else
        buf_addf(pp->out, "\\g{%zu}", gid);
    return 0;
}

/* ---- groups, quantifiers, sequences ------------------------------- */

static int parse_sub(struct pp *pp, bool verbose_top, struct width *w);

static const char flag_letters[] = "imsxau"; /* in F_* bit order */

static bool is_flag(ucs4_t c)
{
    return c && c < 128 &&
           (strchr(flag_letters, (int)c) || c == 'L' || c == 't');
}

/* A flag letter's bit, or -1 with Python's refusal for 'L' and 't'. */
static int flag_bit(struct pp *pp, ucs4_t c, unsigned *bit)
{
    if (c == 'L')
        return fail(pp, pp->p,
                    "bad inline flags: cannot use 'L' flag "
                    "with a str pattern");
    if (c == 't') /* deprecated, and it changes nothing Python matches */
        return fail(pp, pp->p - 1,
                    "the TEMPLATE flag 't' is not "
                    "supported");
    *bit = 1u << (strchr(flag_letters, (int)c) - flag_letters);
    return 0;
}

/*
 * "(?flags)" or "(?flags-flags:" after "(?", the first letter a flag or
 * '-' (sre_parse._parse_flags).  Returns 1 for global flags, 0 for a
 * scoped group, -1 on error.
 */
static int parse_flags(struct pp *pp, unsigned *add, unsigned *del)
{
    const char *tok = pp->p; /* where c starts, for messages */
    ucs4_t c = get(pp);
    unsigned f;

    *add = *del = 0;
    if (c != '-') {
        for (;;) {
            if (flag_bit(pp, c, &f) < 0)
                return -1;
            *add |= f;
            if ((*add & (F_A | F_U)) == (F_A | F_U))
                return fail(pp, pp->p,
                            "bad inline flags: flags 'a', "
                            "'u' and 'L' are incompatible");
            tok = pp->p;
            c = get(pp);
            if (!c && at_end(pp))
                return fail(pp, pp->p, "missing -, : or )");
            if (c == ')' || c == '-' || c == ':')
                break;
            if (!is_flag(c))
                return fail(pp, tok, "%s",
                            uc_is_alpha(c) ? "unknown flag"
                                           : "missing -, : or )");
        }
    }
    if (c == ')')
        return 1;
    if (c == '-') {
        tok = pp->p;
        c = get(pp);
        if (!c && at_end(pp))
            return fail(pp, pp->p, "missing flag");
        if (!is_flag(c))
            return fail(pp, tok, "%s",
                        uc_is_alpha(c) ? "unknown flag" : "missing flag");
        for (;;) {
            if (c == 'a' || c == 'u' || c == 'L')
                return fail(pp, pp->p,
                            "bad inline flags: cannot turn "
                            "off flags 'a', 'u' and 'L'");
            if (flag_bit(pp, c, &f) < 0)
                return -1;
            *del |= f;
            tok = pp->p;
            c = get(pp);
            if (!c && at_end(pp))
                return fail(pp, pp->p, "missing :");
            if (c == ':')
                break;
            if (!is_flag(c))
                return fail(pp, tok, "%s",
                            uc_is_alpha(c) ? "unknown flag" : "missing :");
        }
    }
    if (*add & *del)
        return fail(pp, pp->p - 1,
                    "bad inline flags: flag turned on and "
                    "off");
    return 0;
}

/* sre_compile._combine_flags: 'a' or 'u' replaces the other. */
static unsigned combine_flags(unsigned flags, unsigned add, unsigned del)
{
    if (add & (F_A | F_U))
        flags &= ~(unsigned)(F_A | F_U);
    return (flags | add) & ~del;
}

/* Python's message for a second (?P<name>...) of one name. */
static int redefined(struct pp *pp, const char *name, size_t len, size_t was)
{
    struct buf r = BUF_INIT;
    int ret;

    add_repr(&r, name, len);
    ret = fail(pp, name,
               "redefinition of group name %s as group %zu; was "
               "group %zu",
               r.buf, pp->g_nr + 1, was);
    buf_release(&r);
    return ret;
}

static size_t group_by_name(const struct pp *pp, const char *name, size_t len)
{
    size_t i;

    for (i = 1; i <= pp->g_nr; i++)
        if (pp->g[i].name && strlen(pp->g[i].name) == len &&
            !memcmp(pp->g[i].name, name, len))
            return i;
    return 0;
}

/* The body of a group after "(" and its "?..." head, and the ")". */
static int group_body(struct pp *pp, const char *at, unsigned flags,
                      struct width *w)
{
    unsigned saved = pp->flags;

    pp->flags = flags;
    if (parse_sub(pp, false, w) < 0)
        return -1;
    pp->flags = saved;
    if (!match(pp, ')'))
        return fail(pp, at, "missing ), unterminated subpattern");
    buf_addch(pp->out, ')');
    return 0;
}

static int parse_seq(struct pp *pp, bool first, struct width *w);

/* (?(id)yes|no): two branches at most (sre_parse reads each with _parse). */
static int conditional(struct pp *pp, const char *at, struct width *w)
{
    const char *name;
    size_t len, gid = 0, i;
    struct width yes, no = {0, 0};

    if (get_name(pp, ')', "group name", &name, &len) < 0)
        return -1;
    if (is_identifier(name, len)) {
        gid = group_by_name(pp, name, len);
        if (!gid)
            return fail_name(pp, name, "unknown group name", name, len);
    } else {
        for (i = 0; i < len && is_digit((unsigned char)name[i]); i++)
            gid = gid < 100000 ? gid * 10 + (size_t)(name[i] - '0') : gid;
        if (i != len)
            return fail_name(pp, name, "bad character in group name", name,
                             len);
        if (!gid)
            return fail(pp, name, "bad group number");
        if (gid >= 100000)
            return fail(pp, name, "invalid group reference %zu", gid);
        ALLOC_GROW(pp->condref, pp->condref_nr + 1, pp->condref_alloc);
        pp->condref[pp->condref_nr++] = gid;
    }
    if (pp->lookbehind_groups && (gid > pp->g_nr || !pp->g[gid].closed))
        return fail(pp, name, "cannot refer to an open group");
    if (pp->lookbehind_groups && gid >= pp->lookbehind_groups)
        return fail(pp, name,
                    "cannot refer to group defined in the same "
                    "lookbehind subpattern");
    buf_addf(pp->out, "(?(%zu)", gid);
    if (parse_seq(pp, false, &yes) < 0)
        return -1;
    if (match(pp, '|')) {
        buf_addch(pp->out, '|');
        if (parse_seq(pp, false, &no) < 0)
            return -1;
        if (!at_end(pp) && *pp->p == '|')
            return fail(pp, pp->p,
                        "conditional backref with more than "
                        "two branches");
        w->lo = yes.lo < no.lo ? yes.lo : no.lo;
    } else {
        w->lo = 0; /* Python's GROUPREF_EXISTS without "no" */
    }
    w->hi = yes.hi > no.hi ? yes.hi : no.hi;
    if (!match(pp, ')'))
        return fail(pp, at, "missing ), unterminated subpattern");
    buf_addch(pp->out, ')');
    return 0;
}

static int group(struct pp *pp, const char *at, enum last *last,
                 struct width *w);

/* A capturing group, named or not: the next of Python's numbers. */
static int capture(struct pp *pp, const char *at, const char *name, size_t len,
                   struct width *w)
{
    size_t gid;

    ALLOC_GROW(pp->g, pp->g_nr + 2, pp->g_alloc);
    gid = ++pp->g_nr;
    memset(&pp->g[gid], 0, sizeof(pp->g[gid]));
    if (name) {
        pp->g[gid].name = xmemdup(name, len + 1);
        pp->g[gid].name[len] = '\0';
    }
    buf_addch(pp->out, '(');
    if (group_body(pp, at, pp->flags, w) < 0)
        return -1;
    pp->g[gid].closed = true;
    pp->g[gid].w = *w;
    return 0;
}

/* A group after "(": 0, 1 for a comment, 2 for global flags, -1. */
static int parse_group(struct pp *pp, const char *at, enum last *last,
                       struct width *w)
{
    int r;

    *last = L_ITEM;
    if (pp->depth >= MAX_DEPTH)
        return fail(pp, at, "groups nested more than %d deep", MAX_DEPTH);
    pp->depth++;
    r = group(pp, at, last, w);
    pp->depth--;
    return r;
}

/*
 * A group after "(": a plain capture, or an extension after "(?": named
 * groups and back-references (?P<name>...), (?P=name), non-capturing
 * (?:...), atomic (?>...), comments, look-around, conditionals and
 * inline flags, each
 * translated to PCRE2 or refused with Python's error message, so a pattern
 * means what it meant to the Python tool.
 */
static int group(struct pp *pp, const char *at, enum last *last,
                 struct width *w)
{
    unsigned add = 0, del = 0;
    size_t gid;
    int r;

    if (!match(pp, '?'))
        return capture(pp, at, NULL, 0, w);
    if (at_end(pp))
        return fail(pp, pp->p, "unexpected end of pattern");
    switch (*pp->p) {
    case 'P': {
        const char *name;
        size_t len;
        int n;

        pp->p++;
        if (match(pp, '<')) {
            if (group_name(pp, '>', &name, &len) < 0)
                return -1;
            if ((gid = group_by_name(pp, name, len)) != 0)
                return redefined(pp, name, len, gid);
            return capture(pp, at, name, len, w);
        }
        if (match(pp, '=')) {
            if (group_name(pp, ')', &name, &len) < 0)
                return -1;
            gid = group_by_name(pp, name, len);
            if (!gid)
                return fail_name(pp, name, "unknown group name", name, len);
            return group_ref(pp, name, gid, w);
        }
        if (at_end(pp))
            return fail(pp, pp->p, "unexpected end of pattern");
        n = token_len(pp, pp->p);
        return fail(pp, pp->p - 2, "unknown extension ?P%.*s", n, pp->p);
    }
    case ':':
        pp->p++;
        buf_addstr(pp->out, "(?:");
        return group_body(pp, at, pp->flags, w);
    case '>':
        pp->p++;
        buf_addstr(pp->out, "(?>");
        return group_body(pp, at, pp->flags, w);
    case '#':
        for (pp->p++;;) {
            if (at_end(pp))
                return fail(pp, at, "missing ), unterminated comment");
            if (*pp->p == ')') {
                pp->p++;
                break;
            }
            if (skip_token(pp) < 0)
                return -1;
        }
        *last = L_NONE; /* nothing written; the caller keeps its last */
        return 1;
    case '=':
    case '!':
    case '<': {
        bool behind = false;
        size_t saved_lb = pp->lookbehind_groups;
        char kind;

        if (*pp->p == '<') {
            pp->p++;
            if (at_end(pp))
                return fail(pp, pp->p, "unexpected end of pattern");
            if (*pp->p != '=' && *pp->p != '!') {
                int n;

                n = token_len(pp, pp->p);
                return fail(pp, pp->p - 2, "unknown extension ?<%.*s", n,
                            pp->p);
            }
            behind = true;
            if (!pp->lookbehind_groups)
                pp->lookbehind_groups = pp->g_nr + 1;
        }
        kind = *pp->p++;
        buf_addf(pp->out, "(?%s%c", behind ? "<" : "", kind);
        if (group_body(pp, at, pp->flags, w) < 0)
            return -1;
        pp->lookbehind_groups = saved_lb;
        if (behind && w->lo != w->hi) /* sre_compile's, no position */
            return buf_addstr(pp->err, "look-behind requires fixed-width "
                                       "pattern"),
                   -1;
        w->lo = w->hi = 0;
        return 0;
    }
    case '(':
        pp->p++;
        return conditional(pp, at, w);
    default:
        break;
    }
    if (is_flag((unsigned char)*pp->p) || *pp->p == '-') {
        if ((r = parse_flags(pp, &add, &del)) < 0)
            return -1;
        if (r == 1) { /* global: the caller checks the position */
            pp->flags |= add;
            if ((pp->flags & (F_A | F_U)) == (F_A | F_U))
                return fail(pp, at,
                            "ASCII and UNICODE flags are "
                            "incompatible");
            return 2;
        }
        buf_addstr(pp->out, "(?:");
        return group_body(pp, at, combine_flags(pp->flags, add, del), w);
    }
    {
        int n;

        n = token_len(pp, pp->p);
        return fail(pp, pp->p - 1, "unknown extension ?%.*s", n, pp->p);
    }
}

/* A decimal count, saturated just above MAXREPEAT. */
static uint64_t count_of(const char *s, const char *e)
{
    uint64_t v = 0;

    for (; s < e; s++)
        v = v > MAXREPEAT ? v : v * 10 + (uint64_t)(*s - '0');
    return v;
}

static const char *digits_end(const struct pp *pp, const char *s)
{
    while (s < pp->end && *s >= '0' && *s <= '9')
        s++;
    return s;
}

/* "{m,n}" at pp->p (after "{"): 0 with the counts (absent m is 0, absent
 * n unbounded), 1 when the brace is a literal "{" (nothing consumed). */
static int brace(struct pp *pp, uint64_t *min, uint64_t *max)
{
    const char *lo = pp->p, *lo_end, *hi, *hi_end;

    if (!at_end(pp) && *pp->p == '}')
        return 1;
    lo_end = digits_end(pp, lo);
    hi = hi_end = lo_end;
    if (hi < pp->end && *hi == ',')
        hi_end = digits_end(pp, ++hi);
    else
        hi = lo;
    if (hi_end >= pp->end || *hi_end != '}')
        return 1;
    pp->p = hi_end + 1;
    *min = count_of(lo, lo_end);
    *max = hi_end > hi ? count_of(hi, hi_end) : MAXREPEAT;
    if (hi_end > hi && *max >= MAXREPEAT)
        *max = MAXREPEAT + 1; /* written out: too large, not unbounded */
    return 0;
}

/*
 * A quantifier after an item (*, +, ?, {m,n}, with lazy or possessive
 * modes): checked as Python's sre does (nothing to repeat, multiple
 * repeat, bounds), emitted for PCRE2, and the item's width multiplied for
 * the look-behind width check; a "{" that is no quantifier is a literal.
 */
static int quantifier(struct pp *pp, const char *at, ucs4_t c, enum last *last,
                      struct width *iw, struct width *seq)
{
    uint64_t min = 0, max = MAXREPEAT;
    char mode = 0;

    if (c == '+')
        min = 1;
    else if (c == '?')
        max = 1;
    else if (c == '{' && brace(pp, &min, &max)) {
        emit_literal(pp, '{'); /* not a quantifier: a literal brace */
        *last = L_ITEM;
        *iw = (struct width){1, 1};
        seq->lo = sat_add(seq->lo, 1);
        seq->hi = sat_add(seq->hi, 1);
        return 0;
    }
    if (*last == L_NONE || *last == L_AT)
        return fail(pp, at, "nothing to repeat");
    if (*last == L_REPEAT)
        return fail(pp, at, "multiple repeat");
    if (min >= MAXREPEAT || max > MAXREPEAT)
        return fail(pp, at, "the repetition number is too large");
    if (max < min)
        return fail(pp, at + 1, "min repeat greater than max repeat");
    if (min > PCRE2_MAXREPEAT || (max != MAXREPEAT && max > PCRE2_MAXREPEAT))
        return fail(pp, at,
                    "a repeat count above %u cannot be compiled "
                    "by PCRE2",
                    PCRE2_MAXREPEAT);
    if (match(pp, '?'))
        mode = '?';
    else if (match(pp, '+'))
        mode = '+';
    /* the item is one PCRE2 atom: its count follows it directly */
    if (max == MAXREPEAT)
        buf_addf(pp->out, "{%llu,}", (unsigned long long)min);
    else
        buf_addf(pp->out, "{%llu,%llu}", (unsigned long long)min,
                 (unsigned long long)max);
    if (mode)
        buf_addch(pp->out, mode);
    /* replace the item's width in the sequence by the repeated one */
    seq->lo = sat_add(seq->lo - iw->lo, sat_mul(iw->lo, min));
    seq->hi = seq->hi >= MAXREPEAT
                  ? MAXREPEAT
                  : sat_add(seq->hi - iw->hi, sat_mul(iw->hi, max));
    *last = L_REPEAT;
    return 0;
}

/* sre_parse._parse: items up to "|", ")" or the end. */
static int parse_seq(struct pp *pp, bool first, struct width *w)
{
    enum last last = L_NONE;
    struct width iw = {0, 0};
    bool empty = true; /* no item yet (global flags allowed) */

    w->lo = w->hi = 0;
    while (!at_end(pp) && *pp->p != '|' && *pp->p != ')') {
        const char *at = pp->p;
        ucs4_t c = get(pp);
        enum last now = L_ITEM;
        struct width nw = {1, 1};
        int r = 0;

        if (pp->flags & F_X) {
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
                c == '\f')
                continue;
            if (c == '#') {
                while (!at_end(pp) && *pp->p != '\n')
                    if (skip_token(pp) < 0)
                        return -1;
                (void)match(pp, '\n');
                continue;
            }
        }
        if (c == '*' || c == '+' || c == '?' || c == '{') {
            if (quantifier(pp, at, c, &last, &iw, w) < 0)
                return -1;
            empty = false;
            continue;
        }
        if (c == '\\') {
            r = escape(pp, &now, &nw);
        } else if (c == '[') {
            r = parse_class(pp, at);
        } else if (c == '(') {
            r = parse_group(pp, at, &now, &nw);
            if (r == 1) /* a comment */
                continue;
            if (r == 2) { /* global flags */
                if (!first || !empty)
                    return fail(pp, at,
                                "global flags not at the start of "
                                "the expression");
                continue;
            }
        } else if (c == '.') {
            buf_addstr(pp->out, pp->flags & F_S ? "(?s:.)" : "[^\\n]");
        } else if (c == '^') {
            now = L_AT;
            nw.lo = nw.hi = 0;
            buf_addstr(pp->out, pp->flags & F_M ? "(?<![^\\n])" : "\\A");
        } else if (c == '$') {
            now = L_AT;
            nw.lo = nw.hi = 0;
            buf_addstr(pp->out,
                       pp->flags & F_M ? "(?=\\n|\\z)" : "(?=\\n?\\z)");
        } else {
            emit_literal(pp, c);
        }
        if (r < 0)
            return -1;
        last = now;
        iw = nw;
        empty = false;
        w->lo = sat_add(w->lo, nw.lo);
        w->hi = sat_add(w->hi, nw.hi);
    }
    return 0;
}

/* sre_parse._parse_sub: branches separated by "|". */
static int parse_sub(struct pp *pp, bool top, struct width *w)
{
    bool first = top;

    w->lo = MAXREPEAT;
    w->hi = 0;
    for (;;) {
        struct width b;

        if (parse_seq(pp, first, &b) < 0)
            return -1;
        w->lo = b.lo < w->lo ? b.lo : w->lo;
        w->hi = b.hi > w->hi ? b.hi : w->hi;
        first = false;
        if (!match(pp, '|'))
            break;
        buf_addch(pp->out, '|');
    }
    return 0;
}

int pyre_translate(const char *pattern, size_t len, unsigned flags,
                   struct buf *out, struct buf *err)
{
    struct pp pp;
    struct width w;
    size_t i;
    int ret = -1;

    memset(&pp, 0, sizeof(pp));
    pp.start = pp.p = pattern;
    pp.end = pattern + len;
    pp.out = out;
    pp.err = err;
    pp.flags = flags & PYRE_IGNORECASE ? F_I : 0;
    ALLOC_GROW(pp.g, 1, pp.g_alloc);
    if (u8_check((const uint8_t *)pattern, len)) {
        buf_addstr(err, "the pattern is not valid UTF-8");
        goto out;
    }
    if (memchr(pattern, 0, len)) {
        buf_addstr(err, "the pattern contains a NUL character");
        goto out;
    }
    if (parse_sub(&pp, true, &w) < 0)
        goto out;
    if (!at_end(&pp)) {
        fail(&pp, pp.p, "unbalanced parenthesis");
        goto out;
    }
    for (i = 0; i < pp.condref_nr; i++)
        if (pp.condref[i] > pp.g_nr) {
            buf_addf(err, "invalid group reference %zu", pp.condref[i]);
            goto out;
        }
    ret = 0;
out:
    for (i = 1; i <= pp.g_nr; i++)
        free(pp.g[i].name);
    free(pp.g);
    free(pp.condref);
    return ret;
}

pcre2_code *pyre_compile(const char *pattern, unsigned flags, struct buf *err)
{
    struct buf t = BUF_INIT;
    PCRE2_UCHAR msg[256];
    PCRE2_SIZE off = 0;
    pcre2_code *code = NULL;
    int rc = 0;

    if (pyre_translate(pattern, strlen(pattern), flags, &t, err) < 0)
        goto out;
    /*
     * PCRE2 10.42 studies the first characters of a group repeated zero
     * times, so "(?:a|(?=c)){0}y?" finds no match in "x" (pyre_diff.py's
     * generated cases found it): such a pattern (a "{0,0}" the translator
     * wrote; a literal brace is written \x{7B}) goes without the start
     * optimisation, which halves the cost of a search elsewhere.
     */
    code = pcre2_compile(
        (PCRE2_SPTR)t.buf, t.len,
        PCRE2_UTF | PCRE2_UCP |
            (strstr(t.buf, "{0,0}") ? PCRE2_NO_START_OPTIMIZE : 0) |
            (flags & PYRE_MATCH ? PCRE2_ANCHORED : 0),
        &rc, &off, NULL);
    if (!code) {
        if (pcre2_get_error_message(rc, msg, sizeof(msg)) < 0)
            snprintf((char *)msg, sizeof(msg), "error %d", rc);
        buf_addf(err, "PCRE2 cannot compile its translation: %s", (char *)msg);
        goto out;
    }
    /* Without JIT (no executable memory) the interpreter still works */
    (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
out:
    buf_release(&t);
    return code;
}
