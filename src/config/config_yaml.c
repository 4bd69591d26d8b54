/*
 * config_yaml.c: typed reads of libyaml document nodes for the loader.
 *
 * libyaml gives every node a position and a tag but resolves nothing: a
 * plain `yes` arrives as the string "yes".  This file applies what PyYAML's
 * SafeLoader would (YAML 1.1 null/bool/int/float resolution, merge keys)
 * and then pydantic's lax coercions ("1" is an int, "true" a bool), so a
 * file means here what it means to the Python tool.  Every problem is
 * reported with the file, line and column of the node that caused it.
 */
#include "config/config_yaml.h"

#include <ctype.h>
#include <math.h>

#include "core/numparse.h"

#define CONVMODE_TAG                                                           \
    "tag:yaml.org,2002:python/object/apply:"                                   \
    "immich_autotag.config.models.ConversionMode"
#define MAX_MERGE_DEPTH 8

static void vreport(struct yload *L, struct buf *to, const yaml_node_t *n,
                    const char *fmt, va_list ap)
{
    if (to->len)
        buf_addch(to, '\n');
    if (n)
        buf_addf(to, "%s:%lu:%lu: ", L->name,
                 (unsigned long)n->start_mark.line + 1,
                 (unsigned long)n->start_mark.column + 1);
    else
        buf_addf(to, "%s: ", L->name);
    buf_vaddf(to, fmt, ap);
}

void yerr(struct yload *L, const yaml_node_t *n, const char *fmt, ...)
{
    va_list ap;

    L->nerr++;
    if (L->nerr > CONFIG_MAX_ERRORS) {
        if (L->nerr == CONFIG_MAX_ERRORS + 1)
            buf_addf(L->err, "\n%s: too many problems, stopping after %d",
                     L->name, CONFIG_MAX_ERRORS);
        return;
    }
    va_start(ap, fmt);
    vreport(L, L->err, n, fmt, ap);
    va_end(ap);
}

void ywarn(struct yload *L, const yaml_node_t *n, const char *fmt, ...)
{
    va_list ap;

    if (!L->warn)
        return;
    va_start(ap, fmt);
    vreport(L, L->warn, n, fmt, ap);
    va_end(ap);
}

bool yvisit(struct yload *L, const yaml_node_t *n)
{
    if (L->budget == 0)
        return false;
    if (--L->budget == 0) {
        yerr(L, n, "too many values (aliases expand past the limit)");
        return false;
    }
    return true;
}

const char *ykind_name(enum ynode_kind k)
{
    switch (k) {
    case YK_NULL:
        return "null";
    case YK_BOOL:
        return "a boolean";
    case YK_INT:
        return "an integer";
    case YK_FLOAT:
        return "a number";
    case YK_STR:
        return "a string";
    case YK_MAP:
        return "a mapping";
    case YK_SEQ:
        return "a list";
    case YK_CONVMODE:
        return "a python ConversionMode object";
    case YK_BAD:
        break;
    }
    return "an unsupported value";
}

static bool is_one_of(const char *s, size_t len, const char *const *words)
{
    for (; *words; words++)
        if (strlen(*words) == len && !memcmp(s, *words, len))
            return true;
    return false;
}

static const char *const null_words[] = {"~", "null", "Null", "NULL", NULL};
static const char *const true_words[] = {"yes",  "Yes", "YES", "true", "True",
                                         "TRUE", "on",  "On",  "ON",   NULL};
static const char *const false_words[] = {
    "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", NULL};

/* Digits of base `base` and underscores, at least one digit. */
static bool digits_ok(const char *s, size_t len, int base)
{
    bool any = false;
    size_t i;

    for (i = 0; i < len; i++) {
        int c = (unsigned char)s[i], d;

        if (c == '_')
            continue;
        if (isdigit(c))
            d = c - '0';
        else if (isxdigit(c))
            d = 10 + tolower(c) - 'a';
        else
            return false;
        if (d >= base)
            return false;
        any = true;
    }
    return any;
}

/*
 * PyYAML's int forms: [-+]? then 0b..., 0x..., 0 + octal, or a decimal
 * without leading zero; underscores allowed.  (Sexagesimal 1:30 is left
 * as a string.)  *overflow is set when the form is right but the value
 * does not fit.
 */
static bool yaml_int(const char *s, size_t len, int64_t *out, bool *overflow)
{
    size_t i = 0;
    int base = 10;
    bool neg = false;
    uint64_t v = 0;

    *overflow = false;
    if (i < len && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    if (i >= len)
        return false;
    if (len - i >= 2 && s[i] == '0' && (s[i + 1] == 'b' || s[i + 1] == 'x')) {
        base = s[i + 1] == 'b' ? 2 : 16;
        i += 2;
    } else if (s[i] == '0' && len - i > 1) {
        base = 8;
        i++;
    } else if (s[i] == '0') {
        *out = 0;
        return true;
    } else if (s[i] == '_') {
        return false;
    }
    if (!digits_ok(s + i, len - i, base))
        return false;
    for (; i < len; i++) {
        int c = (unsigned char)s[i];
        unsigned d;

        if (c == '_')
            continue;
        d = isdigit(c) ? (unsigned)(c - '0')
                       : (unsigned)(10 + tolower(c) - 'a');
        if (v > (UINT64_MAX - d) / (unsigned)base) {
            *overflow = true;
            return true;
        }
        v = v * (unsigned)base + d;
    }
    if (v > (uint64_t)INT64_MAX + (neg ? 1u : 0u)) {
        *overflow = true;
        return true;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

/* PyYAML's float forms (a dot is required, or .inf / .nan). */
static bool yaml_float(const char *s, size_t len, double *out)
{
    static const char *const inf[] = {".inf", ".Inf", ".INF", NULL};
    static const char *const nan_[] = {".nan", ".NaN", ".NAN", NULL};
    struct buf t = BUF_INIT;
    size_t i = 0;
    bool neg = false, ok;

    if (is_one_of(s, len, nan_)) {
        *out = NAN;
        return true;
    }
    if (len && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (is_one_of(s + i, len - i, inf)) {
        *out = neg ? -INFINITY : INFINITY;
        return true;
    }
    if (!memchr(s, '.', len) || len > 200)
        return false;
    for (; i < len; i++) {
        int c = (unsigned char)s[i];

        if (c == '_')
            continue;
        if (!isdigit(c) && c != '.' && c != 'e' && c != 'E' && c != '-' &&
            c != '+') {
            buf_release(&t);
            return false;
        }
        buf_addch(&t, c);
    }
    if (!t.len || t.buf[0] == 'e' || t.buf[0] == 'E' ||
        (t.len == 1 && t.buf[0] == '.')) {
        buf_release(&t);
        return false;
    }
    ok = num_parse_double(t.buf, t.len, out) == 0;
    if (ok && neg)
        *out = -*out;
    buf_release(&t);
    return ok;
}

static enum ynode_kind resolve_plain(const char *s, size_t len)
{
    int64_t i;
    double d;
    bool ovf;

    if (len == 0 || is_one_of(s, len, null_words))
        return YK_NULL;
    if (is_one_of(s, len, true_words) || is_one_of(s, len, false_words))
        return YK_BOOL;
    if (yaml_int(s, len, &i, &ovf))
        return YK_INT;
    if (yaml_float(s, len, &d))
        return YK_FLOAT;
    return YK_STR;
}

/*
 * The kind of n, or YK_BAD with the reason in *why (a static string or
 * NULL) for a tag PyYAML's SafeLoader would not construct.
 */
static enum ynode_kind kind_of(const yaml_node_t *n, const char **why)
{
    const char *tag = n->tag ? (const char *)n->tag : "";
    const char *s;
    size_t len;
    enum ynode_kind k;

    *why = NULL;
    if (!strcmp(tag, CONVMODE_TAG))
        return YK_CONVMODE;
    if (strstr(tag, "python/")) {
        *why = "python";
        return YK_BAD;
    }
    if (n->type == YAML_MAPPING_NODE)
        return strcmp(tag, YAML_MAP_TAG) ? YK_BAD : YK_MAP;
    if (n->type == YAML_SEQUENCE_NODE)
        return strcmp(tag, YAML_SEQ_TAG) ? YK_BAD : YK_SEQ;
    if (n->type != YAML_SCALAR_NODE)
        return YK_NULL;
    s = (const char *)n->data.scalar.value;
    len = n->data.scalar.length;
    if (!strcmp(tag, YAML_STR_TAG))
        return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE
                   ? resolve_plain(s, len)
                   : YK_STR;
    k = resolve_plain(s, len);
    if ((!strcmp(tag, YAML_NULL_TAG) && k == YK_NULL) ||
        (!strcmp(tag, YAML_BOOL_TAG) && k == YK_BOOL) ||
        (!strcmp(tag, YAML_INT_TAG) && k == YK_INT))
        return k;
    if (!strcmp(tag, YAML_FLOAT_TAG) && (k == YK_FLOAT || k == YK_INT))
        return YK_FLOAT;
    return YK_BAD;
}

enum ynode_kind ykind(struct yload *L, yaml_node_t *n)
{
    const char *why;

    (void)L; /* bad tags were all reported by ycheck_tags() */
    return kind_of(n, &why);
}

void ycheck_tags(struct yload *L)
{
    yaml_node_t *n;

    for (n = L->doc->nodes.start; n < L->doc->nodes.top; n++) {
        const char *why, *tag = n->tag ? (const char *)n->tag : "";

        if (kind_of(n, &why) != YK_BAD)
            continue;
        if (!strncmp(tag, "tag:yaml.org,2002:", 18))
            tag += 18;
        if (why)
            yerr(L, n,
                 "python tag '%.100s' is not allowed (only the legacy "
                 "ConversionMode tag is understood)",
                 tag);
        else
            yerr(L, n, "unsupported tag '%.100s'", tag);
    }
}

/* "got 'text'" or "got a list", for messages. */
/* Digits and underscores after an optional sign: float() reads them. */
static bool is_decimal(const char *s, size_t len)
{
    size_t i = len && (*s == '-' || *s == '+');

    if (i == len)
        return false;
    for (; i < len; i++)
        if (!isdigit((unsigned char)s[i]) && s[i] != '_')
            return false;
    return true;
}

/* What a node is, for "expected X, got Y": its text and explicit tag. */
static void describe(const yaml_node_t *n, enum ynode_kind k, struct buf *b)
{
    size_t i, len;
    const unsigned char *s;

    if (n->type != YAML_SCALAR_NODE || k == YK_BAD) {
        buf_addstr(b, ykind_name(k));
        return;
    }
    s = n->data.scalar.value;
    len = n->data.scalar.length;
    if (k == YK_NULL) {
        buf_addstr(b, "null");
        return;
    }
    buf_addch(b, '\'');
    for (i = 0; i < len && i < 40; i++) {
        if (s[i] < 0x20 || s[i] == 0x7f)
            buf_addf(b, "\\x%02x", s[i]);
        else
            buf_addch(b, s[i]);
    }
    if (len > 40)
        buf_addstr(b, "...");
    buf_addch(b, '\'');
    /* untagged scalars carry the default str tag; others were written */
    if (n->tag && strcmp((const char *)n->tag, YAML_STR_TAG) &&
        !strncmp((const char *)n->tag, "tag:yaml.org,2002:", 18))
        buf_addf(b, " (tagged !!%.20s)", (const char *)n->tag + 18);
}

static void expected(struct yload *L, const yaml_node_t *n, enum ynode_kind k,
                     const char *path, const char *what)
{
    struct buf got = BUF_INIT;

    if (k == YK_BAD)
        return; /* the tag was reported */
    describe(n, k, &got);
    yerr(L, n, "%s: expected %s, got %s", path, what, got.buf);
    buf_release(&got);
}

int yget_str(struct yload *L, yaml_node_t *n, const char *path, bool nullable,
             char **out)
{
    enum ynode_kind k;

    if (!yvisit(L, n))
        return -1;
    k = ykind(L, n);
    if (k == YK_NULL && nullable) {
        free(*out);
        *out = NULL;
        return 0;
    }
    /* Numbers are kept as written: an album called 2024 is a name. */
    if (k != YK_STR && k != YK_INT && k != YK_FLOAT) {
        expected(L, n, k, path,
                 k == YK_BOOL ? "a string (quote it: \"yes\")" : "a string");
        return -1;
    }
    if (memchr(n->data.scalar.value, 0, n->data.scalar.length)) {
        yerr(L, n, "%s: a string may not contain a NUL character", path);
        return -1;
    }
    free(*out);
    *out = xmemdup(n->data.scalar.value, n->data.scalar.length + 1);
    return 0;
}

static bool ci_is_one_of(const char *s, size_t len, const char *const *words)
{
    for (; *words; words++) {
        size_t i;

        if (strlen(*words) != len)
            continue;
        for (i = 0; i < len; i++)
            if (tolower((unsigned char)s[i]) != (*words)[i])
                break;
        if (i == len)
            return true;
    }
    return false;
}

/*
 * n as a non-null scalar: its kind, text and length; 1 then, 0 when it is
 * something else (the caller reports it), -1 when yvisit refused it.
 */
static int yscalar(struct yload *L, yaml_node_t *n, enum ynode_kind *k,
                   const char **s, size_t *len)
{
    if (!yvisit(L, n))
        return -1;
    *k = ykind(L, n);
    if (n->type != YAML_SCALAR_NODE || *k == YK_NULL)
        return 0;
    *s = (const char *)n->data.scalar.value;
    *len = n->data.scalar.length;
    return 1;
}

int yget_bool(struct yload *L, yaml_node_t *n, const char *path, bool *out)
{
    /* pydantic's lax string forms, compared case-insensitively */
    static const char *const lax_true[] = {"1", "on",  "t", "true",
                                           "y", "yes", NULL};
    static const char *const lax_false[] = {"0", "off", "f", "false",
                                            "n", "no",  NULL};
    enum ynode_kind k;
    const char *s;
    size_t len;
    int64_t i;
    double d;
    bool ovf;

    switch (yscalar(L, n, &k, &s, &len)) {
    case -1:
        return -1;
    case 0:
        goto bad;
    }
    if (k == YK_BOOL) {
        *out = is_one_of(s, len, true_words);
        return 0;
    }
    if (k == YK_INT && yaml_int(s, len, &i, &ovf) && !ovf &&
        (i == 0 || i == 1)) {
        *out = i == 1;
        return 0;
    }
    if (k == YK_FLOAT && yaml_float(s, len, &d) && (d == 0.0 || d == 1.0)) {
        *out = d == 1.0;
        return 0;
    }
    if (k == YK_STR && ci_is_one_of(s, len, lax_true)) {
        *out = true;
        return 0;
    }
    if (k == YK_STR && ci_is_one_of(s, len, lax_false)) {
        *out = false;
        return 0;
    }
bad:
    expected(L, n, k, path, "a boolean (true or false)");
    return -1;
}

/* pydantic accepts "  12 " and "1_000" for an int field. */
static bool lax_str_int(const char *s, size_t len, int64_t *out)
{
    struct buf t = BUF_INIT;
    bool ok;

    while (len && isspace((unsigned char)*s)) {
        s++;
        len--;
    }
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    if (!len || len > 64 || s[len - 1] == '_')
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '_' && i > 0 && isdigit((unsigned char)s[i - 1]))
            continue;
        buf_addch(&t, s[i]);
    }
    ok = num_parse_i64(t.buf, t.len, INT64_MIN, INT64_MAX, out) == 0;
    buf_release(&t);
    return ok;
}

int yget_int(struct yload *L, yaml_node_t *n, const char *path, long min,
             long max, long *out)
{
    enum ynode_kind k;
    const char *s;
    size_t len;
    int64_t v = 0;
    double d;
    bool ovf = false, ok = false;

    switch (yscalar(L, n, &k, &s, &len)) {
    case -1:
        return -1;
    case 0:
        goto bad;
    }
    if (k == YK_INT)
        ok = yaml_int(s, len, &v, &ovf) && !ovf;
    else if (k == YK_BOOL) {
        v = is_one_of(s, len, true_words);
        ok = true;
    } else if (k == YK_FLOAT && yaml_float(s, len, &d) && isfinite(d) &&
               d == floor(d) && fabs(d) < 9.0e15) {
        v = (int64_t)d;
        ok = true;
    } else if (k == YK_FLOAT && is_decimal(s, len)) {
        /* "!!float 180": PyYAML makes it 180.0, pydantic takes it */
        ok = yaml_int(s, len, &v, &ovf) && !ovf;
    } else if (k == YK_STR)
        ok = lax_str_int(s, len, &v);
    if (ok && v >= min && v <= max) {
        *out = (long)v;
        return 0;
    }
    if (ok || ovf) {
        yerr(L, n, "%s: %.40s is out of range (%ld to %ld)", path, s, min, max);
        return -1;
    }
bad:
    expected(L, n, k, path, "an integer");
    return -1;
}

int yget_seq(struct yload *L, yaml_node_t *n, const char *path,
             yaml_node_item_t **start, size_t *nr)
{
    enum ynode_kind k;

    *start = NULL;
    *nr = 0;
    if (!yvisit(L, n))
        return -1;
    k = ykind(L, n);
    if (k == YK_NULL)
        return 0;
    if (k != YK_SEQ) {
        expected(L, n, k, path, "a list");
        return -1;
    }
    *start = n->data.sequence.items.start;
    *nr = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    return 0;
}

int yget_strlist(struct yload *L, yaml_node_t *n, const char *path,
                 struct config_strlist *out)
{
    yaml_node_item_t *it;
    size_t nr, i;
    int ret = 0;

    if (!n)
        return 0;
    if (yget_seq(L, n, path, &it, &nr) < 0)
        return -1;
    for (i = 0; i < nr; i++) {
        yaml_node_t *e = yaml_document_get_node(L->doc, it[i]);
        struct buf p = BUF_INIT;
        char *s = NULL;

        if (!e)
            continue;
        buf_addf(&p, "%s[%zu]", path, i);
        if (yget_str(L, e, p.buf, false, &s) == 0) {
            out->items =
                xrealloc(out->items, st_mult(sizeof(char *), out->nr + 1));
            out->items[out->nr++] = s;
        } else {
            ret = -1;
        }
        buf_release(&p);
        if (!L->budget)
            return -1;
    }
    return ret;
}

size_t ylevenshtein(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), i, j, *row, r;

    if (la > 64 || lb > 64)
        return SIZE_MAX;
    row = xcalloc(lb + 1, sizeof(*row));
    for (j = 0; j <= lb; j++)
        row[j] = j;
    for (i = 1; i <= la; i++) {
        size_t diag = row[0];

        row[0] = i;
        for (j = 1; j <= lb; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);

            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            diag = up;
            row[j] = best;
        }
    }
    r = row[lb];
    free(row);
    return r;
}

static const char *closest(const char *key, const char *const *known)
{
    const char *best = NULL;
    size_t bestd = SIZE_MAX, limit = 1 + strlen(key) / 3;

    if (limit < 2)
        limit = 2;
    for (; *known; known++) {
        size_t d = ylevenshtein(key, *known);

        if (d < bestd) {
            bestd = d;
            best = *known;
        }
    }
    return bestd <= limit ? best : NULL;
}

static void add_pair(struct ymap *m, const char *key, yaml_node_t *k,
                     yaml_node_t *v)
{
    ALLOC_GROW(m->items, m->nr + 1, m->alloc);
    m->items[m->nr].key = key;
    m->items[m->nr].knode = k;
    m->items[m->nr].vnode = v;
    m->nr++;
}

static int collect(struct yload *L, yaml_node_t *n, const char *path,
                   struct ymap *m, int depth);

/* `<<: *base` or `<<: [*a, *b]`: earlier sources win, explicit keys win. */
static int merge(struct yload *L, yaml_node_t *v, const char *path,
                 struct ymap *m, int depth)
{
    yaml_node_item_t *it;
    size_t nr, i;

    if (!*path)
        path = "top level";
    if (depth >= MAX_MERGE_DEPTH) {
        yerr(L, v, "%s: merge keys nest too deeply", path);
        return -1;
    }
    if (v->type == YAML_MAPPING_NODE)
        return collect(L, v, path, m, depth + 1);
    if (v->type != YAML_SEQUENCE_NODE) {
        yerr(L, v, "%s: '<<' expects a mapping or a list of mappings", path);
        return -1;
    }
    it = v->data.sequence.items.start;
    nr = (size_t)(v->data.sequence.items.top - it);
    for (i = nr; i-- > 0;) {
        yaml_node_t *e = yaml_document_get_node(L->doc, it[i]);

        if (!e || e->type != YAML_MAPPING_NODE) {
            yerr(L, e ? e : v, "%s: '<<' expects a list of mappings", path);
            return -1;
        }
        if (collect(L, e, path, m, depth + 1) < 0)
            return -1;
    }
    return 0;
}

/*
 * The pairs of a mapping into m; a merge key (<<) brings in the mappings
 * it names (merge()), the map's own keys winning.  A key repeated in the
 * same map is warned about: PyYAML keeps the last one, which the user may
 * not expect.
 */
static int collect(struct yload *L, yaml_node_t *n, const char *path,
                   struct ymap *m, int depth)
{
    yaml_node_pair_t *p;
    struct ymap own = {NULL, 0, 0};
    int ret = 0;

    for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(L->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(L->doc, p->value);

        if (!k || !v || !yvisit(L, k)) {
            ret = -1;
            break;
        }
        if (k->type != YAML_SCALAR_NODE ||
            memchr(k->data.scalar.value, 0, k->data.scalar.length)) {
            yerr(L, k, "%s: keys must be plain strings",
                 *path ? path : "top level");
            ret = -1;
            continue;
        }
        if (k->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
            !strcmp((const char *)k->data.scalar.value, "<<")) {
            if (merge(L, v, path, m, depth) < 0)
                ret = -1;
            continue;
        }
        /* PyYAML keeps the last of repeated keys; say so (small maps) */
        for (size_t i = 0; own.nr < 256 && i < own.nr; i++)
            if (!strcmp(own.items[i].key, (const char *)k->data.scalar.value))
                ywarn(L, k, "key '%s%s%s' is repeated; the last one wins", path,
                      *path ? "." : "", own.items[i].key);
        add_pair(&own, (const char *)k->data.scalar.value, k, v);
    }
    for (size_t i = 0; i < own.nr; i++)
        add_pair(m, own.items[i].key, own.items[i].knode, own.items[i].vnode);
    ymap_release(&own);
    return ret;
}

/*
 * Keys of upstream's older configuration schemas (its README's example
 * before the blocks came) and where they went; the errors say so instead
 * of guessing a spelling.  docs/migrating.md has the whole list.
 */
static const struct old_key {
    const char *path, *hint;
} old_keys[] = {
    {"classification_rules", "renamed to classification.rules, the same "
                             "list inside the classification block"},
    {"auto_tags", "split into classification.autotag_unknown and "
                  "autotag_conflict, and duplicate_processing."
                  "autotag_album_conflict, autotag_classification_conflict "
                  "and autotag_classification_conflict_prefix"},
    {"features", "dissolved: enable_album_name_strip and "
                 "album_detection_from_folders are top-level keys, "
                 "date_correction is duplicate_processing.date_correction, "
                 "enable_checkpoint_resume is skip.resume_previous"},
    {"enable_checkpoint_resume", "renamed to skip.resume_previous"},
    {"filter_out_asset_links", "replaced by filters.filter_out: "
                               "[{asset_links: [...]}]"},
    {"conversions", "conversions is now a block: conversions: {enabled: "
                    "true, conversions: [the list]}"},
};

static const char *old_key_hint(const char *path)
{
    size_t i;

    for (i = 0; i < ARRAY_SIZE(old_keys); i++)
        if (!strcmp(old_keys[i].path, path))
            return old_keys[i].hint;
    return NULL;
}

int ymap_read(struct yload *L, yaml_node_t *n, const char *path,
              const char *const *known, enum ymap_policy policy, struct ymap *m)
{
    enum ynode_kind k;
    size_t i;

    memset(m, 0, sizeof(*m));
    if (!yvisit(L, n))
        return -1;
    k = ykind(L, n);
    if (k == YK_NULL)
        return 0;
    if (k == YK_SEQ && old_key_hint(path)) {
        yerr(L, n,
             "%s: expected a mapping, got a list (upstream's older "
             "schema: %s; see docs/migrating.md)",
             path, old_key_hint(path));
        return -1;
    }
    if (k != YK_MAP) {
        expected(L, n, k, *path ? path : "top level", "a mapping");
        return -1;
    }
    if (collect(L, n, path, m, 0) < 0) {
        ymap_release(m);
        return -1;
    }
    for (i = 0; i < m->nr; i++) {
        const char *key = m->items[i].key, *hint;
        struct buf full = BUF_INIT, tail = BUF_INIT;

        if (is_one_of(key, strlen(key), known))
            continue;
        buf_addf(&full, "%s%s%s", path, *path ? "." : "", key);
        hint = closest(key, known);
        if (old_key_hint(full.buf))
            buf_addf(&tail,
                     " (upstream's older schema: %s; see "
                     "docs/migrating.md)",
                     old_key_hint(full.buf));
        else if (hint)
            buf_addf(&tail, " (did you mean '%s'?)", hint);
        if (policy == YMAP_STRICT)
            yerr(L, m->items[i].knode, "unknown key '%s'%s", full.buf,
                 tail.buf);
        else
            ywarn(L, m->items[i].knode, "key '%s' is not used%s", full.buf,
                  tail.buf);
        buf_release(&full);
        buf_release(&tail);
    }
    return 0;
}

yaml_node_t *ymap_get(const struct ymap *m, const char *key)
{
    size_t i;

    for (i = m->nr; i-- > 0;)
        if (!strcmp(m->items[i].key, key))
            return m->items[i].vnode;
    return NULL;
}

void ymap_release(struct ymap *m)
{
    free(m->items);
    m->items = NULL;
    m->nr = m->alloc = 0;
}
