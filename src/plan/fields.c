/*
 * fields.c: the typed key/value record of a note (fields.h) and its JSON
 * form.
 */
#include "plan/fields.h"

#include "core/timeutil.h"

/* Where the next string of the record's text starts. */
static uint32_t text_offset(const struct plan_fields *fs)
{
    if (fs->text.len > UINT32_MAX)
        BUG("a note's fields hold more than 4 GiB of text");
    return (uint32_t)fs->text.len;
}

static struct plan_field *add(struct plan_fields *fs, const char *key,
                              enum plan_field_type type)
{
    struct plan_field *f;

    ALLOC_GROW(fs->f, fs->nr + 1, fs->alloc);
    f = &fs->f[fs->nr++];
    memset(f, 0, sizeof(*f));
    f->type = (uint8_t)type;
    f->key = text_offset(fs);
    buf_add(&fs->text, key, strlen(key) + 1);
    return f;
}

void plan_fields_str(struct plan_fields *fs, const char *key, const char *val)
{
    struct plan_field *f = add(fs, key, PLAN_F_STR);

    f->str = text_offset(fs);
    buf_add(&fs->text, val, strlen(val) + 1);
}

void plan_fields_int(struct plan_fields *fs, const char *key, int64_t val)
{
    add(fs, key, PLAN_F_INT)->i = val;
}

void plan_fields_bool(struct plan_fields *fs, const char *key, bool val)
{
    add(fs, key, PLAN_F_BOOL)->i = val;
}

void plan_fields_time(struct plan_fields *fs, const char *key, int64_t ms)
{
    add(fs, key, PLAN_F_TIME)->i = ms;
}

void plan_fields_date(struct plan_fields *fs, const char *key, int64_t ms)
{
    add(fs, key, PLAN_F_DATE)->i = ms;
}

void plan_fields_uuid(struct plan_fields *fs, const char *key,
                      const struct uuid *id)
{
    add(fs, key, PLAN_F_UUID)->id = *id;
}

void plan_fields_list(struct plan_fields *fs, const char *key, const char *val)
{
    struct plan_field *f = fs->nr ? &fs->f[fs->nr - 1] : NULL;

    if (!f || f->type != PLAN_F_LIST || strcmp(fs->text.buf + f->key, key)) {
        f = add(fs, key, PLAN_F_LIST);
        f->str = text_offset(fs);
    }
    if (val) {
        buf_add(&fs->text, val, strlen(val) + 1);
        f->n++;
    }
}

void plan_fields_release(struct plan_fields *fs)
{
    free(fs->f);
    buf_release(&fs->text);
    fs->f = NULL;
    fs->nr = fs->alloc = 0;
}

void plan_fields_shrink(struct plan_fields *fs)
{
    if (fs->alloc > fs->nr) {
        if (fs->nr) {
            fs->f = xrealloc(fs->f, fs->nr * sizeof(*fs->f));
        } else {
            free(fs->f);
            fs->f = NULL;
        }
        fs->alloc = fs->nr;
    }
    if (fs->text.alloc > fs->text.len + 1) {
        fs->text.buf = xrealloc(fs->text.buf, fs->text.len + 1);
        fs->text.alloc = fs->text.len + 1;
    }
}

void plan_fields_move(struct plan_fields *to, struct plan_fields *from)
{
    plan_fields_release(to);
    *to = *from;
    from->f = NULL;
    from->nr = from->alloc = 0;
    buf_init(&from->text, 0);
}

const char *plan_field_key(const struct plan_fields *fs,
                           const struct plan_field *f)
{
    return fs->text.buf + f->key;
}

const char *plan_field_text(const struct plan_fields *fs,
                            const struct plan_field *f, char tmp[40])
{
    switch (f->type) {
    case PLAN_F_STR:
    case PLAN_F_LIST:
        return fs->text.buf + f->str;
    case PLAN_F_TIME:
        time_format_iso(f->i, tmp);
        return tmp;
    case PLAN_F_DATE:
        time_format_date(f->i, tmp);
        return tmp;
    case PLAN_F_UUID:
        uuid_format(&f->id, tmp);
        return tmp;
    case PLAN_F_INT:
    case PLAN_F_BOOL:
        break;
    }
    return NULL;
}

const char *plan_field_next(const char *s)
{
    return s + strlen(s) + 1;
}

void plan_fields_write(const struct plan_fields *fs,
                       const struct plan_fields_style *st, uint64_t skip,
                       struct buf *out)
{
    size_t i, k, n = 0;

    for (i = 0; i < fs->nr; i++) {
        const struct plan_field *f = &fs->f[i];
        const char *key = plan_field_key(fs, f), *s;
        char tmp[40];

        if (i < 64 && (skip >> i & 1))
            continue;
        if (n++)
            buf_addstr(out, st->sep);
        st->quote(out, key, strlen(key));
        buf_addstr(out, st->kv);
        switch (f->type) {
        case PLAN_F_INT:
            buf_addf(out, "%lld", (long long)f->i);
            break;
        case PLAN_F_BOOL:
            buf_addstr(out, f->i ? st->yes : st->no);
            break;
        case PLAN_F_LIST:
            buf_addch(out, '[');
            for (k = 0, s = fs->text.buf + f->str; k < f->n;
                 k++, s = plan_field_next(s)) {
                if (k)
                    buf_addstr(out, st->sep);
                st->quote(out, s, strlen(s));
            }
            buf_addch(out, ']');
            break;
        default:
            s = plan_field_text(fs, f, tmp);
            st->quote(out, s, strlen(s));
            break;
        }
    }
}

void plan_fields_json(const struct plan_fields *fs, struct buf *out)
{
    static const struct plan_fields_style json = {",", ":", "true", "false",
                                                  buf_add_json_str};

    plan_fields_write(fs, &json, 0, out);
}

/* strcmp of the two JSON objects, braces included, as the notes were
 * ordered when their detail was JSON text. */
int plan_fields_cmp(const struct plan_fields *a, const struct plan_fields *b)
{
    struct buf ja = BUF_INIT, jb = BUF_INIT;
    int c;

    if (!a->nr || !b->nr)
        return a->nr ? 1 : b->nr ? -1 : 0;
    buf_addch(&ja, '{');
    buf_addch(&jb, '{');
    plan_fields_json(a, &ja);
    plan_fields_json(b, &jb);
    buf_addch(&ja, '}');
    buf_addch(&jb, '}');
    c = strcmp(ja.buf, jb.buf);
    buf_release(&ja);
    buf_release(&jb);
    return c;
}
