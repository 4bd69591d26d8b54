/*
 * sim_gen.c: builds the preset libraries from a seed.
 *
 * The first user (admin@example.com, the key's user) owns almost
 * everything.  Its assets are made category by category (struct counts):
 * each category is a state the upstream template's rules treat in one
 * known way (already correct, needs the unknown tag, carries a stale
 * conflict tag, ...), so the figures a full run must produce are known
 * by construction and stored in lib->expect.  docs/simulator.md lists
 * the categories and the rules that keep them independent: unclassified
 * assets sit in no album, year albums only hold assets of January to
 * May, dates agree with file names to the second, duplicates share their
 * timestamp, album names are unique.
 */
#include "core/timeutil.h"
#include "sim/sim_gen.h"

#include <math.h>

struct counts {
    long trashed, meme, adult_meme, pending, ignore;
    long unclassified_new, unclassified_ok;
    long conflict_new, conflict_ok;
    long stale_unknown, stale_conflict;
    long mismatch_new, mismatch_ok, stale_mismatch;
    long archived, dup_pairs;
    /* --coverage only */
    long folder_unfiled, date_from_name, live_parts;
};

/* The seed preset: admin-owned assets by category (sum 4,692 + rest). */
static const struct counts seed_counts = {
    .trashed = 120,
    .meme = 300,
    .adult_meme = 100,
    .pending = 80,
    .ignore = 40,
    .unclassified_new = 2150,
    .unclassified_ok = 500,
    .conflict_new = 40,
    .conflict_ok = 25,
    .stale_unknown = 900,
    .stale_conflict = 60,
    .mismatch_new = 289,
    .mismatch_ok = 30,
    .stale_mismatch = 58,
    .archived = 600,
    .dup_pairs = 400,
    .folder_unfiled = 400,
    .date_from_name = 200,
    .live_parts = 300,
};
#define SEED_ADMIN_ASSETS 25262L
#define OTHER_USERS       5

struct gen {
    struct sim_lib *lib;
    uint64_t rng;
    struct counts c;
    uint32_t admin;
    uint32_t users[OTHER_USERS];
    /* tags of the admin */
    uint32_t t_meme, t_adult, t_pending, t_ignore, t_unknown, t_conflict,
        t_mismatch;
    uint32_t t_places[6];
    /* albums */
    uint32_t *date_albums;   /* day albums then month albums */
    int64_t *date_album_day; /* days since epoch of each date album */
    size_t day_nr, month_nr;
    uint32_t *keyword_albums;
    size_t keyword_nr;
    uint32_t year_first; /* first year album index */
    size_t year_nr;
    uint32_t *classified; /* admin assets in exactly one date album */
    size_t classified_nr, classified_alloc;
    long file_no;
};

#define YEAR0 2005
#define YEARS 20

static uint64_t rnd(struct gen *g)
{
    return splitmix64(&g->rng);
}

static long rndn(struct gen *g, long n)
{
    return n <= 0 ? 0 : (long)(rnd(g) % (uint64_t)n);
}

/* Last Sunday of month m of year y, as days since the epoch. */
static int64_t last_sunday(int y, int m)
{
    int64_t d = days_from_civil(y, m + 1, 1) - 1;
    int64_t wd = (d + 4) % 7; /* 1970-01-01 was a Thursday; 0 = Sunday */

    if (wd < 0)
        wd += 7;
    return d - wd;
}

int sim_madrid_offset_min(int64_t ms)
{
    struct civil c;
    int64_t start, end;

    time_to_civil(ms, &c);
    start = last_sunday(c.year, 3) * 86400000LL + 3600000LL;
    end = last_sunday(c.year, 10) * 86400000LL + 3600000LL;
    return ms >= start && ms < end ? 120 : 60;
}

static const char *const events[] = {
    "Beach",
    "Family picnic",
    "Birthday",
    "Hiking",
    "Friends dinner",
    "Wedding",
    "Concert",
    "Zoo",
    "Museum",
    "Skiing",
    "Roadtrip",
    "Barcelona",
    "Roma",
    "Café con amigos",
    "Navidad",
    "Cumpleaños de Ana",
    "Paris  trip",
    "Festa Major",
    "Camping",
    "School play",
    "Graduation",
    "Lisboa",
    "Ñoquis night",
    "Garden",
    "Snow day",
    "Fiesta",
    "Market",
    "Carnaval",
    "Kids' party",
    "Sunset",
    "Picnic with friends",
    "Río",
};

static const char *const themes[] = {
    "Family Christmas",
    "Friends weekend",
    "Best of",
    "Été à Paris",
    "Summer with friends",
    "Our family",
    "  Spaced   Out  ",
    "Pets",
    "Family-Reunion",
    "Screenshots",
    "Scans",
    "Food",
    "Landscapes",
};

static const char *const makes[][2] = {
    {"Apple", "iPhone 12"},     {"samsung", "SM-G991B"}, {"Google", "Pixel 7"},
    {"Canon", "Canon EOS 80D"}, {"SONY", "ILCE-7M3"},    {"Xiaomi", "M2101K6G"},
};

static const struct {
    const char *city, *state, *country;
    double lat, lon;
} places[] = {
    {"Madrid", "Madrid", "Spain", 40.4168, -3.7038},
    {"Barcelona", "Catalonia", "Spain", 41.3874, 2.1686},
    {"Roma", "Lazio", "Italy", 41.9028, 12.4964},
    {"Paris", "Île-de-France", "France", 48.8566, 2.3522},
    {"Lisboa", "Lisboa", "Portugal", 38.7223, -9.1393},
    {"Valencia", "Valencian Community", "Spain", 39.4699, -0.3763},
};

static void gen_users(struct gen *g, const char *api_key)
{
    static const char *const emails[OTHER_USERS][2] = {
        {"grandpa@example.com", "Grandpa"}, {"grandma@example.com", "Grandma"},
        {"mother@example.com", "Mother"},   {"john@example.com", "John"},
        {"jane@example.com", "Jane"},
    };
    struct sim_lib *lib = g->lib;
    struct sim_key *k;
    uint32_t ki;
    int i;

    g->admin = sim_lib_add_user(lib, NULL, "admin@example.com", "Admin", true);
    ki = sim_lib_add_key(lib, g->admin, api_key ? api_key : SIM_DEFAULT_KEY,
                         "immich-autotag");
    lib->keys[ki].all = true;
    for (i = 0; i < OTHER_USERS; i++)
        g->users[i] =
            sim_lib_add_user(lib, NULL, emails[i][0], emails[i][1], false);
    /* a read-only key of the admin, and a full key per other user */
    ki = sim_lib_add_key(lib, g->admin, "immich-sim-readonly-key", "readonly");
    k = &lib->keys[ki];
    k->perms = 1ULL << sim_perm_find("asset.read") |
               1ULL << sim_perm_find("album.read") |
               1ULL << sim_perm_find("tag.read") |
               1ULL << sim_perm_find("user.read");
    for (i = 0; i < OTHER_USERS; i++) {
        char key[64];

        (void)snprintf(key, sizeof(key), "immich-sim-key-%s", emails[i][1]);
        ki = sim_lib_add_key(lib, g->users[i], key, "default");
        lib->keys[ki].all = true;
    }
    /* grandma shows grandpa's photos in her timeline, and back */
    u32vec_push(&lib->users[g->users[1]].partners, g->users[0]);
    u32vec_push(&lib->users[g->users[0]].partners, g->users[1]);
}

static uint32_t tag_path(struct gen *g, uint32_t owner, const char *path)
{
    struct sim_lib *lib = g->lib;
    char prefix[128];
    uint32_t parent = SIM_NONE, t = SIM_NONE;
    size_t i, n = strlen(path);

    for (i = 0; i <= n && i < sizeof(prefix); i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        memcpy(prefix, path, i);
        prefix[i] = '\0';
        t = sim_find_tag_value(lib, owner, prefix);
        if (t == SIM_NONE) {
            t = sim_lib_add_tag(lib, NULL, owner, prefix, parent);
            lib->tags[t].created_at = lib->tags[t].updated_at =
                1640995200000LL; /* 2022-01-01 */
        }
        parent = t;
    }
    return t;
}

static void gen_tags(struct gen *g)
{
    static const char *const places_paths[6] = {
        "Places/Spain/Madrid", "Places/Spain/Barcelona", "Places/Italy/Roma",
        "Places/France/Paris", "People/Family",          "Events/Holidays",
    };
    int i;

    g->t_meme = tag_path(g, g->admin, "meme");
    g->t_adult = tag_path(g, g->admin, "adult_meme");
    g->t_pending = tag_path(g, g->admin, "autotag_input_pending_review");
    g->t_ignore = tag_path(g, g->admin, "autotag_input_ignore");
    g->t_unknown = tag_path(g, g->admin, "autotag_output_unknown");
    g->t_conflict = tag_path(g, g->admin, "autotag_output_conflict");
    g->t_mismatch = tag_path(g, g->admin, "autotag_output_album_date_mismatch");
    for (i = 0; i < 6; i++)
        g->t_places[i] = tag_path(g, g->admin, places_paths[i]);
    g->lib->tags[g->t_places[4]].color = sim_str(g->lib, "#ff8800");
    (void)tag_path(g, g->users[3], "Holiday");
    (void)tag_path(g, g->users[4], "Holiday");
}

static uint32_t new_album(struct gen *g, uint32_t owner, const char *name,
                          int64_t day)
{
    uint32_t al = sim_lib_add_album(g->lib, NULL, owner, name);

    g->lib->albums[al].created_at = day * 86400000LL + 86400000LL * 3;
    g->lib->albums[al].updated_at = g->lib->albums[al].created_at;
    return al;
}

static void add_member(struct gen *g, uint32_t al, uint32_t user, int role)
{
    struct sim_album *a = &g->lib->albums[al];

    ALLOC_GROW(a->members, a->members_nr + 1, a->members_alloc);
    a->members[a->members_nr].user = user;
    a->members[a->members_nr++].role = (uint8_t)role;
}

/* Shares a keyword album roughly as the permission rules would. */
static void share_by_keyword(struct gen *g, uint32_t al, const char *name)
{
    bool family = strstr(name, "amily") != NULL;
    bool friends = strstr(name, "riends") != NULL;
    long pick = rndn(g, 4);

    if (family) {
        /* most albums already shared right, some need work */
        if (pick != 0) {
            add_member(g, al, g->users[0], SIM_ROLE_VIEWER);
            add_member(g, al, g->users[1], SIM_ROLE_VIEWER);
        }
        if (pick == 1)
            add_member(g, al, g->users[2], SIM_ROLE_EDITOR);
        else if (pick >= 2)
            add_member(g, al, g->users[2], SIM_ROLE_VIEWER);
        if (pick == 3)
            add_member(g, al, g->users[3], SIM_ROLE_VIEWER);
    }
    if (friends && pick != 0) {
        add_member(g, al, g->users[3], SIM_ROLE_VIEWER);
        add_member(g, al, g->users[4], SIM_ROLE_VIEWER);
    }
}

/*
 * The preset's albums: the two conversion albums, dated albums per event
 * day and per month (unique names, spread over the years), year albums,
 * theme albums (shared by their keyword, as the template's sharing rules
 * expect), and the other users' albums, every third shared with the admin.
 * Counts scale with the preset so that the template's rules find every
 * category they look for.
 */
static void gen_albums(struct gen *g, size_t total, size_t other_nr)
{
    struct sim_lib *lib = g->lib;
    size_t date_nr, i;
    char name[160];
    int64_t day0 = days_from_civil(YEAR0, 1, 1);
    int64_t span = days_from_civil(YEAR0 + YEARS, 1, 1) - day0;

    g->year_nr = total >= 200 ? YEARS - 5 : 2;
    g->keyword_nr = total >= 200 ? total * 260 / 3377 : 3;
    if (total < other_nr + 2 + g->year_nr + g->keyword_nr + 4)
        BUG("album count %zu too small", total);
    date_nr = total - other_nr - 2 - g->year_nr - g->keyword_nr;
    g->month_nr = date_nr / 15;
    if (g->month_nr > YEARS * 12)
        g->month_nr = YEARS * 12;
    g->day_nr = date_nr - g->month_nr;
    g->date_albums = xmalloc(st_mult(date_nr, sizeof(*g->date_albums)));
    g->date_album_day = xmalloc(st_mult(date_nr, sizeof(*g->date_album_day)));

    (void)new_album(g, g->admin, "autotag_input_meme", day0);
    (void)new_album(g, g->admin, "autotag_input_adult_meme", day0);
    for (i = 0; i < g->day_nr; i++) {
        /* distinct (day, event) pairs keep names unique */
        int64_t day =
            day0 +
            (int64_t)(i % (size_t)span) * span /
                (int64_t)(g->day_nr < (size_t)span ? g->day_nr : (size_t)span);
        size_t ev = (i / (size_t)span + (size_t)(day * 7)) % ARRAY_SIZE(events);
        int y, m, d;
        uint32_t al;

        civil_from_days(day, &y, &m, &d);
        (void)snprintf(name, sizeof(name), "%04d-%02d-%02d %s", y, m, d,
                       events[ev]);
        al = new_album(g, g->admin, name, day);
        g->date_albums[i] = al;
        g->date_album_day[i] = day;
        share_by_keyword(g, al, name);
    }
    for (i = 0; i < g->month_nr; i++) {
        /* months spread over the years; every month of a year first */
        size_t k = i * (YEARS * 12) / g->month_nr;
        int y = YEAR0 + (int)(k / 12), m = (int)(k % 12) + 1;
        int64_t day = days_from_civil(y, m, 1);

        (void)snprintf(name, sizeof(name), "%04d-%02d", y, m);
        g->date_albums[g->day_nr + i] = new_album(g, g->admin, name, day);
        g->date_album_day[g->day_nr + i] = day;
    }
    g->year_first = (uint32_t)lib->albums_nr;
    for (i = 0; i < g->year_nr; i++) {
        (void)snprintf(name, sizeof(name), "%d", YEAR0 + 5 + (int)i);
        (void)new_album(g, g->admin, name,
                        days_from_civil(YEAR0 + 5 + (int)i, 1, 1));
    }
    g->keyword_albums = xmalloc(st_mult(g->keyword_nr + 1, sizeof(uint32_t)));
    for (i = 0; i < g->keyword_nr; i++) {
        const char *th = themes[i % ARRAY_SIZE(themes)];
        int y = YEAR0 + (int)(i / ARRAY_SIZE(themes)) % YEARS;
        size_t round = i / (ARRAY_SIZE(themes) * YEARS);

        if (round)
            (void)snprintf(name, sizeof(name), "%s %d (%zu)", th, y, round + 1);
        else
            (void)snprintf(name, sizeof(name), "%s %d", th, y);
        g->keyword_albums[i] =
            new_album(g, g->admin, name, days_from_civil(y, 6, 1));
        share_by_keyword(g, g->keyword_albums[i], name);
    }
    for (i = 0; i < other_nr; i++) {
        static const char *const own[] = {"Grandpa", "Grandma", "Mother",
                                          "John", "Jane"};
        size_t u = i % OTHER_USERS;
        uint32_t al;

        (void)snprintf(name, sizeof(name), "%s’s album %zu", own[u],
                       i / OTHER_USERS + 1);
        al = new_album(g, g->users[u], name, day0 + rndn(g, span));
        /* every third is shared with the admin, alternately as editor */
        if (i % 3 == 0)
            add_member(g, al, g->admin,
                       i % 2 ? SIM_ROLE_EDITOR : SIM_ROLE_VIEWER);
    }
}

/* File name, path and dates of a new asset taken at ms (UTC). */
static void name_asset(struct gen *g, uint32_t a, int64_t ms,
                       const char *folder, bool video)
{
    struct sim_lib *lib = g->lib;
    struct sim_asset *as = &lib->assets[a];
    const char *uname = sim_cstr(lib, lib->users[as->owner].name);
    char fname[96], path[320];
    struct civil lc;
    int off, style = (int)rndn(g, 100);
    bool whatsapp = false;

    /* the file-name date must equal the asset date to the second */
    ms -= ms % 1000;
    off = sim_madrid_offset_min(ms);
    time_to_civil(ms + (int64_t)off * 60000, &lc);
    g->file_no++;
    if (video) {
        (void)snprintf(fname, sizeof(fname),
                       "VID_%04d%02d%02d_%02d%02d%02d.mp4", lc.year, lc.month,
                       lc.day, lc.hour, lc.minute, lc.second);
    } else if (style < 40) {
        (void)snprintf(fname, sizeof(fname), "IMG_%04ld.JPG",
                       g->file_no % 10000);
    } else if (style < 52) {
        (void)snprintf(fname, sizeof(fname), "DSC%05ld.JPG",
                       g->file_no % 100000);
    } else if (style < 67) {
        (void)snprintf(fname, sizeof(fname), "%04d%02d%02d_%02d%02d%02d.jpg",
                       lc.year, lc.month, lc.day, lc.hour, lc.minute,
                       lc.second);
    } else if (style < 77) {
        (void)snprintf(fname, sizeof(fname),
                       "PXL_%04d%02d%02d_%02d%02d%02d000.jpg", lc.year,
                       lc.month, lc.day, lc.hour, lc.minute, lc.second);
    } else if (style < 93) {
        /* midnight-dated: keep the UTC date equal to the Madrid date */
        struct civil uc;

        time_to_civil(ms, &uc);
        if (uc.hour < 2 || uc.hour > 20)
            ms = ms - (int64_t)uc.hour * 3600000LL + 12 * 3600000LL;
        (void)snprintf(fname, sizeof(fname), "IMG-%04d%02d%02d-WA%04ld.jpg",
                       uc.year, uc.month, uc.day, g->file_no % 10000);
        whatsapp = true;
    } else {
        (void)snprintf(fname, sizeof(fname),
                       "WhatsApp Image %04d-%02d-%02d at %02d.%02d.%02d.jpeg",
                       lc.year, lc.month, lc.day, lc.hour, lc.minute,
                       lc.second);
        whatsapp = true;
    }
    if (whatsapp)
        (void)snprintf(path, sizeof(path),
                       "/photos/library/%s/WhatsApp/Media/WhatsApp Images/%s",
                       uname, fname);
    else
        (void)snprintf(path, sizeof(path), "/photos/library/%s/%s/%s", uname,
                       folder, fname);
    sim_asset_set_path(lib, a, path);
    as = &lib->assets[a];
    as->file_name = sim_str(lib, fname);
    as->type = video ? SIM_TYPE_VIDEO : SIM_TYPE_IMAGE;
    as->file_created_at = ms;
    as->file_modified_at = ms;
    off = sim_madrid_offset_min(ms);
    as->local_date_time = ms + (int64_t)off * 60000;
    as->created_at = ms + 3600000LL + rndn(g, 30) * 86400000LL;
    as->updated_at = as->created_at + rndn(g, 1000) * 1000;
}

static void add_exif(struct gen *g, uint32_t a)
{
    struct sim_lib *lib = g->lib;
    struct sim_asset *as = &lib->assets[a];
    size_t mk = (size_t)rndn(g, ARRAY_SIZE(makes));
    size_t pl = (size_t)rndn(g, ARRAY_SIZE(places));
    struct sim_exif *e;
    uint32_t idx;
    int64_t t = as->file_created_at;
    bool gps = rndn(g, 10) < 7;

    idx = sim_lib_add_exif(lib, a);
    e = &lib->exifs[idx];
    e->make = sim_str(lib, makes[mk][0]);
    e->model = sim_str(lib, makes[mk][1]);
    e->time_zone = sim_str(lib, "Europe/Madrid");
    e->date_time_original = t;
    e->width = rndn(g, 2) ? 4032 : 3024;
    e->height = e->width == 4032 ? 3024 : 4032;
    e->file_size = (uint32_t)(1500000 + rndn(g, 4000000));
    e->iso = (uint16_t)(50 + 50 * rndn(g, 16));
    e->f_number10 = (uint8_t)(16 + rndn(g, 40));
    e->focal_length = (uint8_t)(4 + rndn(g, 60));
    if (gps) {
        e->city = sim_str(lib, places[pl].city);
        e->state = sim_str(lib, places[pl].state);
        e->country = sim_str(lib, places[pl].country);
        e->latitude = places[pl].lat + (double)rndn(g, 1000) / 20000.0;
        e->longitude = places[pl].lon + (double)rndn(g, 1000) / 20000.0;
    }
}

/* A new admin asset taken at ms, named for folder, with EXIF mostly. */
static uint32_t new_asset(struct gen *g, uint32_t owner, int64_t ms,
                          const char *folder)
{
    uint32_t a = sim_lib_add_asset(g->lib, NULL, owner);

    name_asset(g, a, ms, folder, rndn(g, 100) < 6);
    if (rndn(g, 100) < 96)
        add_exif(g, a);
    return a;
}

/* A random instant (08:00-20:59 UTC) on day. */
static int64_t on_day(struct gen *g, int64_t day)
{
    return day * 86400000LL + (8 + rndn(g, 13)) * 3600000LL +
           rndn(g, 3600) * 1000LL;
}

static int64_t random_instant(struct gen *g)
{
    int64_t day0 = days_from_civil(YEAR0, 1, 1);

    return on_day(g, day0 + rndn(g, YEARS * 365));
}

/* Day for an asset of date album k: the day, or a day in the month. */
static int64_t album_day(struct gen *g, size_t k)
{
    if (k < g->day_nr)
        return g->date_album_day[k];
    return g->date_album_day[k] + rndn(g, 28);
}

static const char *album_folder(struct gen *g, uint32_t al, char *buf, size_t n)
{
    const char *name = sim_cstr(g->lib, g->lib->albums[al].name);

    (void)snprintf(buf, n, "%.4s/%s", name, name);
    return buf;
}

/* An admin asset in date album k, taken shift_days after its date. */
static uint32_t dated_asset(struct gen *g, size_t k, int64_t shift_days)
{
    char folder[200];
    uint32_t al = g->date_albums[k];
    uint32_t a = new_asset(g, g->admin, on_day(g, album_day(g, k) + shift_days),
                           album_folder(g, al, folder, sizeof(folder)));

    (void)sim_link_album(g->lib, al, a);
    if (g->lib->albums[al].thumb == SIM_NONE)
        g->lib->albums[al].thumb = a;
    return a;
}

static void keep_classified(struct gen *g, uint32_t a)
{
    ALLOC_GROW(g->classified, g->classified_nr + 1, g->classified_alloc);
    g->classified[g->classified_nr++] = a;
}

/* Unfiled admin asset (no album), optionally tagged. */
static uint32_t loose_asset(struct gen *g, uint32_t tag)
{
    char folder[32];
    int64_t ms = random_instant(g);
    struct civil c;
    uint32_t a;

    time_to_civil(ms, &c);
    (void)snprintf(folder, sizeof(folder), "upload/%04d/%02d", c.year, c.month);
    a = new_asset(g, g->admin, ms, folder);
    if (tag != SIM_NONE)
        (void)sim_link_tag(g->lib, tag, a);
    /* a few carry an unrelated hierarchical tag */
    if (rndn(g, 10) == 0)
        (void)sim_link_tag(g->lib, g->t_places[rndn(g, 6)], a);
    return a;
}

/* A day album whose month also has a month album, or SIZE_MAX. */
static size_t conflict_album(struct gen *g, size_t *month_k)
{
    size_t tries;

    for (tries = 0; tries < 1000; tries++) {
        size_t k = (size_t)rndn(g, (long)g->day_nr), j;
        int y, m, d, y2, m2, d2;

        civil_from_days(g->date_album_day[k], &y, &m, &d);
        for (j = 0; j < g->month_nr; j++) {
            civil_from_days(g->date_album_day[g->day_nr + j], &y2, &m2, &d2);
            if (y == y2 && m == m2) {
                *month_k = g->day_nr + j;
                return k;
            }
        }
    }
    return SIZE_MAX;
}

/*
 * The admin's assets: first one of every category the expected counts
 * name (trashed, memes, pending, unclassified, conflicts, date mismatches,
 * stale output tags), then classified assets spread over the dated albums,
 * with duplicate pairs and archived ones among them.  Each category's
 * count is what set_expectations() reports, so tests compare with it.
 */
static void gen_admin_assets(struct gen *g, long n_admin)
{
    struct sim_lib *lib = g->lib;
    const struct counts *c = &g->c;
    long special, i, n_classified;
    size_t date_nr = g->day_nr + g->month_nr;

    special = c->trashed + c->meme + c->adult_meme + c->pending + c->ignore +
              c->unclassified_new + c->unclassified_ok + c->conflict_new +
              c->conflict_ok + c->stale_unknown + c->stale_conflict +
              c->mismatch_new + c->mismatch_ok + c->stale_mismatch;
    n_classified = n_admin - special;
    if (n_classified < 2 * c->dup_pairs + c->archived)
        BUG("preset too small for its categories");

    /* correctly classified: one date album, date inside its window */
    for (i = 0; i < n_classified - 2 * c->dup_pairs; i++) {
        uint32_t a = dated_asset(g, (size_t)(i % (long)date_nr), 0);

        if (i < c->archived)
            lib->assets[a].visibility = SIM_VIS_ARCHIVE;
        keep_classified(g, a);
        if (rndn(g, 12) == 0)
            (void)sim_link_tag(lib, g->t_places[rndn(g, 6)], a);
        if (rndn(g, 25) == 0)
            lib->assets[a].favorite = true;
    }
    /* duplicate pairs: same album, same instant, same state */
    for (i = 0; i < c->dup_pairs; i++) {
        size_t k = (size_t)rndn(g, (long)date_nr);
        uint32_t a = dated_asset(g, k, 0), b;
        struct uuid did;
        char folder[200];

        b = new_asset(
            g, g->admin, lib->assets[a].file_created_at,
            album_folder(g, g->date_albums[k], folder, sizeof(folder)));
        (void)sim_link_album(lib, g->date_albums[k], b);
        uuid_v4_from_state(&g->rng, &did);
        lib->assets[a].dup = sim_lib_dup(lib, &did);
        lib->assets[b].dup = lib->assets[a].dup;
        keep_classified(g, a);
        keep_classified(g, b);
    }
    for (i = 0; i < c->stale_unknown; i++)
        (void)sim_link_tag(lib, g->t_unknown,
                           dated_asset(g, (size_t)rndn(g, (long)date_nr), 0));
    for (i = 0; i < c->stale_conflict; i++)
        (void)sim_link_tag(lib, g->t_conflict,
                           dated_asset(g, (size_t)rndn(g, (long)date_nr), 0));
    for (i = 0; i < c->stale_mismatch; i++)
        (void)sim_link_tag(lib, g->t_mismatch,
                           dated_asset(g, (size_t)rndn(g, (long)date_nr), 0));
    for (i = 0; i < c->mismatch_new + c->mismatch_ok; i++) {
        /* 200 to 900 days away from the album's date, either side */
        size_t k = (size_t)rndn(g, (long)g->day_nr);
        bool late = g->date_album_day[k] > days_from_civil(2015, 1, 1);
        int64_t shift = (200 + rndn(g, 700)) * (late ? -1 : 1);
        uint32_t a = dated_asset(g, k, shift);

        if (i >= c->mismatch_new)
            (void)sim_link_tag(lib, g->t_mismatch, a);
    }
    for (i = 0; i < c->conflict_new + c->conflict_ok; i++) {
        size_t mk = 0, k = conflict_album(g, &mk);
        uint32_t a;

        if (k == SIZE_MAX)
            BUG("no day album in a month with a month album");
        a = dated_asset(g, k, 0);
        (void)sim_link_album(lib, g->date_albums[mk], a);
        if (i >= c->conflict_new)
            (void)sim_link_tag(lib, g->t_conflict, a);
    }
    for (i = 0; i < c->meme; i++)
        (void)loose_asset(g, g->t_meme);
    for (i = 0; i < c->adult_meme; i++)
        (void)loose_asset(g, g->t_adult);
    for (i = 0; i < c->pending; i++)
        (void)loose_asset(g, g->t_pending);
    for (i = 0; i < c->ignore; i++)
        (void)loose_asset(g, g->t_ignore);
    for (i = 0; i < c->unclassified_new; i++)
        (void)loose_asset(g, SIM_NONE);
    for (i = 0; i < c->unclassified_ok; i++)
        (void)loose_asset(g, g->t_unknown);
    for (i = 0; i < c->trashed; i++) {
        uint32_t a = loose_asset(g, SIM_NONE);

        lib->assets[a].deleted_at = lib->assets[a].created_at + 86400000LL;
    }
}

/* Year albums take classified assets of January to May of their year. */
static void fill_year_and_keyword_albums(struct gen *g, size_t per_keyword)
{
    struct sim_lib *lib = g->lib;
    size_t i, k;

    for (i = 0; i < g->classified_nr; i++) {
        uint32_t a = g->classified[i];
        struct civil c;
        int idx;

        time_to_civil(lib->assets[a].file_created_at, &c);
        idx = c.year - (YEAR0 + 5);
        if (idx < 0 || (size_t)idx >= g->year_nr || c.month > 5 ||
            rndn(g, 8) != 0)
            continue;
        (void)sim_link_album(lib, g->year_first + (uint32_t)idx, a);
    }
    for (k = 0; k < g->keyword_nr; k++) {
        uint32_t al = g->keyword_albums[k];

        for (i = 0; i < per_keyword && g->classified_nr; i++) {
            uint32_t a = g->classified[rndn(g, (long)g->classified_nr)];

            (void)sim_link_album(lib, al, a);
            if (lib->albums[al].thumb == SIM_NONE)
                lib->albums[al].thumb = a;
        }
    }
}

/* Other users' assets go into their own albums (none in admin's view). */

/*
 * The --coverage categories, made after everything else:
 *
 * - folder_unfiled: in the folder of an existing day album
 *   (".../2019/2019-07-14 Beach/IMG_1234.JPG"), on its day, but in no
 *   album and untagged.  Folder-album detection (off in the template)
 *   puts each in that album; with it off they are unclassified like
 *   unclassified_new.
 * - date_from_name: in a day album, named "YYYYMMDD_HHMMSS.jpg" for that
 *   day, but dated 30 to 150 days later (an upload date): date
 *   correction moves each back to its name's instant; the album's date
 *   check passes either way (threshold 180 days).
 * - live_parts: the hidden video part of a live photo (metadata.service
 *   applyMotionPhotos: visibility hidden, "<name>.mp4", same instant) in
 *   the album of its classified photo.  Not counted in assetCount; the
 *   3.x membership search returns it; the rules skip hidden assets.
 */
static void gen_coverage(struct gen *g)
{
    struct sim_lib *lib = g->lib;
    const char *uname = sim_cstr(lib, lib->users[g->admin].name);
    char folder[200], path[320], fname[64];
    long i;

    for (i = 0; i < g->c.folder_unfiled; i++) {
        size_t k = (size_t)rndn(g, (long)g->day_nr);
        uint32_t al = g->date_albums[k];
        uint32_t a =
            new_asset(g, g->admin, on_day(g, album_day(g, k)), "upload");

        (void)snprintf(fname, sizeof(fname), "IMG_%04ld.JPG",
                       g->file_no % 10000);
        (void)snprintf(path, sizeof(path), "/photos/library/%s/%s/%s", uname,
                       album_folder(g, al, folder, sizeof(folder)), fname);
        sim_asset_set_path(lib, a, path);
        lib->assets[a].file_name = sim_str(lib, fname);
        lib->assets[a].type = SIM_TYPE_IMAGE;
    }
    for (i = 0; i < g->c.date_from_name; i++) {
        size_t k = (size_t)rndn(g, (long)g->day_nr);
        uint32_t a = dated_asset(g, k, 0);
        struct sim_asset *as = &lib->assets[a];
        int64_t shift = (30 + rndn(g, 121)) * 86400000LL;
        struct civil lc;

        time_to_civil(as->local_date_time, &lc);
        (void)snprintf(fname, sizeof(fname), "%04d%02d%02d_%02d%02d%02d.jpg",
                       lc.year, lc.month, lc.day, lc.hour, lc.minute,
                       lc.second);
        (void)snprintf(
            path, sizeof(path), "/photos/library/%s/%s/%s", uname,
            album_folder(g, g->date_albums[k], folder, sizeof(folder)), fname);
        sim_asset_set_path(lib, a, path);
        as = &lib->assets[a];
        as->file_name = sim_str(lib, fname);
        as->type = SIM_TYPE_IMAGE;
        as->file_created_at += shift;
        as->file_modified_at = as->file_created_at;
        as->local_date_time =
            as->file_created_at +
            (int64_t)sim_madrid_offset_min(as->file_created_at) * 60000;
        if (as->created_at < as->file_created_at)
            as->created_at = as->file_created_at + 3600000LL;
        as->updated_at = as->created_at;
        if (as->exif != SIM_NONE)
            lib->exifs[as->exif].date_time_original = as->file_created_at;
    }
    for (i = 0; i < g->c.live_parts && g->classified_nr; i++) {
        uint32_t photo = g->classified[rndn(g, (long)g->classified_nr)];
        uint32_t a = sim_lib_add_asset(lib, NULL, g->admin);
        const struct sim_asset *p = &lib->assets[photo];
        struct sim_asset *v;
        char *dot;

        (void)snprintf(folder, sizeof(folder), "%s",
                       sim_cstr(lib, p->file_name));
        if ((dot = strrchr(folder, '.')))
            *dot = '\0';
        (void)snprintf(fname, sizeof(fname), "%.50s.mp4", folder);
        (void)snprintf(path, sizeof(path), "/photos/library/%s/encoded/%s",
                       uname, fname);
        sim_asset_set_path(lib, a, path);
        v = &lib->assets[a];
        v->file_name = sim_str(lib, fname);
        v->type = SIM_TYPE_VIDEO;
        v->visibility = SIM_VIS_HIDDEN;
        v->file_created_at = v->file_modified_at = p->file_created_at;
        v->local_date_time = p->local_date_time;
        v->created_at = v->updated_at = p->created_at;
        (void)sim_link_album(lib, p->albums.items[0], a);
    }
}
static void gen_other_assets(struct gen *g, long n)
{
    struct sim_lib *lib = g->lib;
    size_t first_other = lib->albums_nr;
    size_t i, al;
    long k;

    for (i = 0; i < lib->albums_nr; i++)
        if (lib->albums[i].owner != g->admin) {
            first_other = i;
            break;
        }
    for (k = 0; k < n; k++) {
        uint32_t owner = g->users[k % OTHER_USERS];
        uint32_t a = new_asset(g, owner, random_instant(g), "Camera");

        for (al = first_other; al < lib->albums_nr; al++) {
            if (lib->albums[al].owner != owner || rndn(g, 3) != 0)
                continue;
            (void)sim_link_album(lib, (uint32_t)al, a);
            if (lib->albums[al].thumb == SIM_NONE)
                lib->albums[al].thumb = a;
            break;
        }
        if (k % 7 == 0 && owner == g->users[3])
            (void)sim_link_tag(lib, sim_find_tag_value(lib, owner, "Holiday"),
                               a);
    }
}

static void scale(struct counts *c, double f)
{
    long *p = (long *)c;
    size_t i;

    for (i = 0; i < sizeof(*c) / sizeof(long); i++)
        p[i] = p[i] ? (long)fmax(1.0, floor((double)p[i] * f + 0.5)) : 0;
}

/*
 * The figures a template run on this library must produce (tags added and
 * removed per output tag, albums created, conversions, shares), from the
 * generator's own counts: the library's "expected" section that tests
 * compare the tool's end state with.
 */
static void set_expectations(struct gen *g)
{
    const struct counts *c = &g->c;
    struct sim_lib *lib = g->lib;

    sim_lib_expect(lib, "tag_additions",
                   c->unclassified_new + c->conflict_new + c->mismatch_new);
    sim_lib_expect(lib, "tag_removals",
                   c->stale_unknown + c->stale_conflict + c->meme +
                       c->adult_meme + c->stale_mismatch);
    sim_lib_expect(lib, "unknown_additions", c->unclassified_new);
    sim_lib_expect(lib, "conflict_additions", c->conflict_new);
    sim_lib_expect(lib, "mismatch_additions", c->mismatch_new);
    sim_lib_expect(lib, "unknown_removals", c->stale_unknown);
    sim_lib_expect(lib, "conflict_removals", c->stale_conflict);
    sim_lib_expect(lib, "mismatch_removals", c->stale_mismatch);
    sim_lib_expect(lib, "conversion_removals", c->meme + c->adult_meme);
    sim_lib_expect(lib, "conversion_album_additions", c->meme + c->adult_meme);
    sim_lib_expect(lib, "unclassified_assets",
                   c->unclassified_new + c->unclassified_ok);
    sim_lib_expect(lib, "conflict_assets", c->conflict_new + c->conflict_ok);
    sim_lib_expect(lib, "duplicate_groups", c->dup_pairs);
    sim_lib_expect(lib, "trashed_assets", c->trashed);
    sim_lib_expect(lib, "archived_assets", c->archived);
    if (!c->folder_unfiled && !c->date_from_name && !c->live_parts)
        return;
    /* the template runs with folder detection off: folder_unfiled assets
     * are unclassified, so they get the unknown tag */
    sim_lib_expect(lib, "tag_additions",
                   c->unclassified_new + c->conflict_new + c->mismatch_new +
                       c->folder_unfiled);
    sim_lib_expect(lib, "unknown_additions",
                   c->unclassified_new + c->folder_unfiled);
    sim_lib_expect(lib, "unclassified_assets",
                   c->unclassified_new + c->unclassified_ok +
                       c->folder_unfiled);
    sim_lib_expect(lib, "folder_unfiled_assets", c->folder_unfiled);
    sim_lib_expect(lib, "folder_album_additions", c->folder_unfiled);
    sim_lib_expect(lib, "date_corrections", c->date_from_name);
    sim_lib_expect(lib, "hidden_album_members", c->live_parts);
}

/*
 * The libraries --preset names: the admin's and the other users' assets
 * and albums, assets per keyword album; the seed's category counts are
 * scaled to the admin's assets (seed: as they are), and archived and
 * duplicate_pairs, when not 0, are set rather than scaled.
 */
static const struct preset {
    const char *name;
    long total, others;
    size_t albums, other_albums, per_keyword;
    long archived, dup_pairs;
} presets[] = {
    {"seed", 26562, 26562 - SEED_ADMIN_ASSETS, 3377, 100, 20, 0, 0},
    {"small", 300, 30, 40, 5, 5, 5, 4},
    {"1m", 1000000, 50000, 20000, 500, 40, 0, 0},
};

int sim_gen_preset(struct sim_lib *lib, const char *preset, uint64_t seed,
                   const char *api_key, bool coverage, struct buf *err)
{
    const struct preset *p = NULL;
    struct gen g;

    for (size_t i = 0; i < ARRAY_SIZE(presets); i++)
        if (!strcmp(preset, presets[i].name))
            p = &presets[i];
    if (!p) {
        buf_addf(err, "unknown preset '%s' (small, seed, 1m)", preset);
        return -1;
    }
    memset(&g, 0, sizeof(g));
    g.lib = lib;
    g.rng = seed * 0x2545f4914f6cdd1dULL + 0x1234567ULL;
    g.c = seed_counts;
    scale(&g.c, (double)(p->total - p->others) / SEED_ADMIN_ASSETS);
    if (p->archived)
        g.c.archived = p->archived;
    if (p->dup_pairs)
        g.c.dup_pairs = p->dup_pairs;
    gen_users(&g, api_key);
    gen_tags(&g);
    gen_albums(&g, p->albums, p->other_albums);
    gen_admin_assets(&g, p->total - p->others);
    fill_year_and_keyword_albums(&g, p->per_keyword);
    gen_other_assets(&g, p->others);
    if (coverage)
        gen_coverage(&g);
    else
        g.c.folder_unfiled = g.c.date_from_name = g.c.live_parts = 0;
    set_expectations(&g);
    free(g.date_albums);
    free(g.date_album_day);
    free(g.keyword_albums);
    free(g.classified);
    return 0;
}
