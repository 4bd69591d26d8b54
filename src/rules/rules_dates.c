/*
 * rules_dates.c: dates in album names, temporary album names, and the
 * date correction step (docs/upstream-behavior.md §4.3 step 2; a bare §
 * below cites that page too).
 *
 * Dates found in file names carry no zone: they are read as wall-clock
 * time in duplicate_processing.date_correction.extraction_timezone, the
 * zone the configuration read once (config.h, core/tzif.h), so a name
 * inside a DST change gets the offset in force on that day.  Nothing here
 * reads the tz database or touches TZ.
 */
#include "rules/rules_int.h"

#define DAY_MS  86400000LL
#define HOUR_MS 3600000LL

enum cand_kind { CK_IMMICH, CK_FILENAME, CK_WA_FILENAME, CK_WA_PATH };

struct cand {
    int64_t t;   /* ms UTC */
    int off_min; /* offset of the zone it was read in */
    enum cand_kind kind;
};

static int digits(const char *s, int n)
{
    int v = 0, i;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/*
 * Upstream's `^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?`: year, optional month,
 * optional day (missing parts are 1).  Midnight UTC of that date, or
 * TIME_NONE when the name does not start with a date or the date is
 * invalid (upstream counts those as errors and skips them).
 */
int64_t rules_album_name_date(const char *name)
{
    int y, mo = 1, d = 1;
    size_t len = strlen(name);

    if (len < 4 || (y = digits(name, 4)) < 0)
        return TIME_NONE;
    if (len >= 7 && name[4] == '-' && digits(name + 5, 2) >= 0) {
        mo = digits(name + 5, 2);
        if (len >= 10 && name[7] == '-' && digits(name + 8, 2) >= 0)
            d = digits(name + 8, 2);
    }
    if (!civil_is_valid(y, mo, d))
        return TIME_NONE;
    return days_from_civil(y, mo, d) * DAY_MS;
}

void rules_temp_name(int64_t best, char out[64])
{
    char day[16];

    time_format_date(best, day);
    snprintf(out, 64, "%s%s", day, RULES_TEMP_ALBUM_MARK);
}

static const char *const date_patterns[4] = {
    /* WhatsApp, IMG-20240101-WA0001.jpg: date only (midnight) */
    "(?:IMG|VID)[-_]?(\\d{4})(\\d{2})(\\d{2})-WA\\d+",
    /* WhatsApp desktop export names */
    "WhatsApp (?:Image|Video) (\\d{4})-(\\d{2})-(\\d{2}) at "
    "(\\d{2})\\.(\\d{2})\\.(\\d{2})",
    /* Android / Samsung / Pixel: 20240101_123456 */
    "(\\d{8})[_-](\\d{6})",
    /* 2024-01-01_12-34-56 */
    "(\\d{4})-(\\d{2})-(\\d{2})[_-](\\d{2})[-_](\\d{2})[-_](\\d{2})",
};

void rules_dates_init(struct ws *w)
{
    const struct tzif *zone =
        &w->cfg->duplicate_processing.date_correction.extraction_zone;
    size_t i;

    /* a configuration without the key has no zone: no file-name dates */
    w->zone = zone->name ? zone : NULL;
    for (i = 0; i < 4; i++) {
        int code;
        PCRE2_SIZE off;

        w->re_date[i] =
            pcre2_compile((PCRE2_SPTR)date_patterns[i], PCRE2_ZERO_TERMINATED,
                          i < 2 ? PCRE2_CASELESS : 0, &code, &off, NULL);
        if (!w->re_date[i])
            BUG("built-in date pattern %zu does not compile", i);
    }
    w->md = pcre2_match_data_create(8, NULL);
}

void rules_dates_release(struct ws *w)
{
    size_t i;

    for (i = 0; i < 4; i++)
        pcre2_code_free(w->re_date[i]);
    pcre2_match_data_free(w->md);
}

/* Group g's digits of the last match, or -1. */
static int group_int(struct ws *w, const char *s, int g)
{
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(w->md);

    if (ov[2 * g] == PCRE2_UNSET)
        return -1;
    return digits(s + ov[2 * g], (int)(ov[2 * g + 1] - ov[2 * g]));
}

static bool search(struct ws *w, int re, const char *s)
{
    return pcre2_match(w->re_date[re], (PCRE2_SPTR)s, strlen(s), 0, 0, w->md,
                       NULL) >= 0;
}

/* Wall-clock civil time in the extraction zone -> candidate. */
static bool local_cand(struct ws *w, struct civil *c, enum cand_kind k,
                       struct cand *out)
{
    if (!civil_is_valid(c->year, c->month, c->day) || c->hour > 23 ||
        c->minute > 59 || c->second > 59)
        return false;
    out->t = tzif_local_to_utc(w->zone, c);
    out->off_min = tzif_offset_at(w->zone, out->t) / 60;
    out->kind = k;
    return true;
}

/* Both WhatsApp patterns against s. */
/* The date in groups 1..3 of the last match of s and, with_time, the
 * time of day in groups 4..6. */
static void civil_from_groups(struct ws *w, const char *s, bool with_time,
                              struct civil *c)
{
    c->year = group_int(w, s, 1);
    c->month = group_int(w, s, 2);
    c->day = group_int(w, s, 3);
    if (!with_time)
        return;
    c->hour = group_int(w, s, 4);
    c->minute = group_int(w, s, 5);
    c->second = group_int(w, s, 6);
}

static bool whatsapp(struct ws *w, const char *s, enum cand_kind k,
                     struct cand *out)
{
    struct civil c;

    memset(&c, 0, sizeof(c));
    if (search(w, 0, s)) {
        civil_from_groups(w, s, false, &c);
        return local_cand(w, &c, k, out);
    }
    if (search(w, 1, s)) {
        civil_from_groups(w, s, true, &c);
        return local_cand(w, &c, k, out);
    }
    return false;
}

/* Camera names; an invalid first-pattern match yields nothing. */
static bool camera(struct ws *w, const char *s, struct cand *out)
{
    struct civil c;
    PCRE2_SIZE *ov;

    memset(&c, 0, sizeof(c));
    if (search(w, 2, s)) {
        ov = pcre2_get_ovector_pointer(w->md);
        c.year = digits(s + ov[2], 4);
        c.month = digits(s + ov[2] + 4, 2);
        c.day = digits(s + ov[2] + 6, 2);
        c.hour = digits(s + ov[4], 2);
        c.minute = digits(s + ov[4] + 2, 2);
        c.second = digits(s + ov[4] + 4, 2);
        return local_cand(w, &c, CK_FILENAME, out);
    }
    if (search(w, 3, s)) {
        civil_from_groups(w, s, true, &c);
        return local_cand(w, &c, CK_FILENAME, out);
    }
    return false;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
    int64_t r = a % b;

    return r < 0 ? r + b : r;
}

static bool is_midnight(const struct cand *c)
{
    return floor_mod(c->t + (int64_t)c->off_min * 60000, DAY_MS) == 0;
}

static int64_t local_day(int64_t t, int off_min)
{
    return time_days(t + (int64_t)off_min * 60000);
}

/* A duplicate's own date without its upload time (§8 item 18). */
static int64_t other_best(const struct ws *w, uint32_t x)
{
    const struct model_asset *a = &w->m->assets[x];
    struct model_asset tmp = *a;
    int64_t b;

    tmp.created_at = TIME_NONE;
    b = model_asset_best_date(&tmp);
    if (w->best[x] != model_asset_best_date(a)) /* corrected in this run */
        return w->best[x];
    return b;
}

static void add_cands(struct ws *w, uint32_t x, bool self, struct cand *c,
                      size_t *nr, size_t cap)
{
    const struct model_asset *a = &w->m->assets[x];
    const char *fname = model_str(w->m, a->file_name);
    const char *path = model_str(w->m, a->path);
    int64_t im = self ? w->best[x] : other_best(w, x);

    if (*nr + 4 > cap)
        return;
    if (im != TIME_NONE) {
        c[*nr].t = im;
        c[*nr].off_min = 0;
        c[(*nr)++].kind = CK_IMMICH;
    }
    if (!w->zone)
        return;
    if (whatsapp(w, fname, CK_WA_FILENAME, &c[*nr]))
        (*nr)++;
    if (whatsapp(w, path, CK_WA_PATH, &c[*nr]))
        (*nr)++;
    if (camera(w, fname, &c[*nr]))
        (*nr)++;
}

/* What Immich will show once the new date is extracted. */
static int64_t best_after(const struct model_asset *a, int64_t t, int off)
{
    struct model_asset tmp = *a;

    tmp.file_created_at = t;
    tmp.local_date_time = t + (int64_t)off * 60000;
    tmp.date_time_original = t; /* what the edit writes */
    return model_asset_best_date(&tmp);
}

/*
 * The EXIF date differs from fileCreatedAt: a date edit (this tool's
 * correction, or someone's) the server has recorded but not applied to
 * the file's dates yet, because its background jobs have not run, or
 * never will (a read-only file).  The asset's date is taken to be the
 * EXIF one (model_asset_best_date()), so it is not corrected again; this
 * note says so, every run until the server applies it.
 */
static void note_pending(struct ws *w, uint32_t a)
{
    const struct model_asset *x = &w->m->assets[a];
    struct plan_fields f = PLAN_FIELDS_INIT;

    plan_fields_str(&f, "reason", "not_applied_by_server");
    plan_fields_time(&f, "exif_date", x->date_time_original);
    plan_fields_time(&f, "file_created_at", x->file_created_at);
    ws_note(w, PLAN_NOTE_DATE_CORRECTION_UNHANDLED, a, MODEL_NONE, &f);
}

static void note_unhandled(struct ws *w, uint32_t a, int64_t d,
                           const struct cand *o)
{
    struct plan_fields f = PLAN_FIELDS_INIT;
    static const char *const kinds[] = {"IMMICH", "FILENAME",
                                        "WHATSAPP_FILENAME", "WHATSAPP_PATH"};

    plan_fields_str(&f, "reason", "unhandled_case");
    plan_fields_time(&f, "immich_date", d);
    plan_fields_time(&f, "candidate_date", o->t);
    plan_fields_str(&f, "candidate_kind", kinds[o->kind]);
    plan_fields_str(&f, "asset_name",
                    model_str(w->m, w->m->assets[a].file_name));
    ws_note(w, PLAN_NOTE_DATE_CORRECTION_UNHANDLED, a, MODEL_NONE, &f);
}

/*
 * Step 2.  Stage A (file names and Immich dates of the whole duplicate
 * group): the earliest b replaces the asset's date D when D - b > 1.1 days,
 * or when b carries a time of day and is at least a minute earlier.
 * Stage B (all candidates): what stage A left alone and is not explained
 * by zones or the same day becomes a DATE_CORRECTION_UNHANDLED note.
 */
void rules_date_correction(struct ws *w, uint32_t a)
{
    struct cand c[64];
    size_t nr = 0, i;
    const struct cand *b = NULL, *o = NULL;
    int64_t d = w->best[a];
    uint32_t dup = w->m->assets[a].duplicate;

    if (d == TIME_NONE)
        return;
    if (model_asset_date_pending(&w->m->assets[a]))
        note_pending(w, a);
    add_cands(w, a, true, c, &nr, ARRAY_SIZE(c));
    if (dup != MODEL_NONE) {
        size_t mn;
        const uint32_t *mem = model_dup_assets(w->m, dup, &mn);

        for (i = 0; i < mn; i++)
            if (mem[i] != a)
                add_cands(w, mem[i], false, c, &nr, ARRAY_SIZE(c));
    }
    for (i = 0; i < nr; i++) {
        if (c[i].kind != CK_WA_PATH && (!b || c[i].t < b->t))
            b = &c[i];
        if (!o || c[i].t < o->t)
            o = &c[i];
    }
    if (b && (d - b->t > DAY_MS + DAY_MS / 10 ||
              (!is_midnight(b) && b->t < d && d - b->t >= 60000))) {
        struct ws_date *nd;

        ALLOC_GROW(w->dates, w->dates_nr + 1, w->dates_alloc);
        nd = &w->dates[w->dates_nr++];
        nd->asset = a;
        nd->date = b->t;
        nd->offset_min = b->off_min;
        w->best[a] = best_after(&w->m->assets[a], b->t, b->off_min);
        w->plan->stats.dates_corrected++;
        return;
    }
    if (!o || d <= o->t)
        return;
    if (time_days(d) == local_day(o->t, o->off_min))
        return;
    if (floor_mod(d, DAY_MS) != 0 && is_midnight(o) && d - o->t < 4 * HOUR_MS)
        return;
    if (d - o->t < 20 * HOUR_MS)
        return;
    note_unhandled(w, a, d, o);
}
