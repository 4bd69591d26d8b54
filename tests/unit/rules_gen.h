/*
 * rules_gen.h: generated libraries for the rules' property tests
 * (test_rules_prop.c, test_rules_incr.c): a configuration with every
 * feature on and generate(), a library of n assets with everything the
 * rules read (albums shared and not, temporary albums, tags, partner,
 * archived and trashed assets, duplicate groups), from a seed.
 * Header-only (static functions), like rules_testlib.h.
 */
#ifndef IA_RULES_GEN_H
#define IA_RULES_GEN_H

#include "apply_mem.h"
#include "rules_testlib.h"

static const char *const full_cfg = CFG_BASE CFG_CONV_MEME_MOVE
    "    - source: {tag_names: [old]}\n"
    "      destination: {tag_names: [renamed]}\n"
    "      mode: copy\n"
    "    - source: {tag_names: [lost]}\n"
    "      destination: {album_names: [missing album]}\n"
    "classification:\n"
    "  rules:\n"
    "    - tag_names: [meme, autotag_input_meme]\n"
    "      album_name_patterns: ['^autotag_input_meme$']\n"
    "    - tag_names: [adult_meme]\n"
    "    - tag_names: [renamed, autotag_input_ignore]\n"
    "    - album_name_patterns: ['^\\d{4}-(\\d{2}(-\\d{2})?)?']\n"
    "duplicate_processing:\n"
    "  date_correction: {enabled: true, extraction_timezone: "
    "Europe/Madrid}\n"
    "album_date_consistency: {enabled: true, threshold_days: 180}\n"
    "album_detection_from_folders: {enabled: true, excluded_paths: "
    "[whatsapp]}\n"
    "create_album_from_date_if_missing: true\n"
    "album_permissions:\n"
    "  enabled: true\n"
    "  log_unmatched: true\n"
    "  user_groups:\n"
    "    - {name: fam, members: [ann@example.com, bob@example.com]}\n"
    "    - {name: friends, members: [cid@example.com, "
    "nobody@example.com]}\n"
    "  selection_rules:\n"
    "    - {name: family, keyword: family, groups: [fam], access: edit}\n"
    "    - {name: trip, keyword: trip, groups: [friends]}\n"
    "    - {name: temp, keyword: temp, groups: [fam]}\n";

static inline unsigned pick(uint64_t *s, unsigned n)
{
    return (unsigned)(splitmix64(s) % n);
}

static const char *const album_names[] = {
    "2024-07-15 Beach trip",
    "2023-12 Family",
    "2022 Year",
    "Favourites",
    "family pics",
    "autotag_input_meme",
    "Été 2023 ☀",
    "2021-05-05-autotag-temp-unclassified",
    "2020-02-02-autotag-temp-unclassified",
    "Trip",
    "Trip",
    "2019-03-03 Old",
};
static const char *const tag_names[] = {
    "meme",
    "autotag_input_meme",
    "people/meme",
    "adult_meme",
    "old",
    "lost",
    "holiday",
    "autotag_output_unknown",
    "autotag_output_conflict",
    "autotag_output_album_date_mismatch",
    "Autotag_Output_Unknown",
    "autotag_output_duplicate_asset_album_conflict",
};
static const char *const file_names[] = {
    "IMG_0001.jpg",
    "IMG-20200105-WA0001.jpg",
    "20230331_023000.jpg",
    "2022-10-30_02-30-00.jpg",
    "WhatsApp Image 2021-06-01 at 10.11.12.jpeg",
    "DSC01234.JPG",
    "VID-20221224-WA0007.mp4",
};
static const char *const paths[] = {
    "/lib/2024-07-15 Beach/x.jpg",
    "/lib/2023-01-02/2023-01-03 b/x.jpg",
    "/lib/WhatsApp/2022-02-02 chat/x.jpg",
    "/lib/misc/x.jpg",
    "/lib/2021-05-06/x.jpg",
    "C:\\pics\\2020-08-09 Party\\sub\\x.jpg",
    "",
};

/* A library of n assets with everything the rules read, from a seed. */
static inline void generate(struct lib *l, uint64_t seed, unsigned n)
{
    uint64_t s = seed * 0x9e3779b97f4a7c15ULL + 1;
    uint32_t users[4], albums[ARRAY_SIZE(album_names)];
    uint32_t *assets = xmalloc(n * sizeof(*assets));
    unsigned i, k;

    lib_init(l, seed);
    users[0] = lib_user(l, "ann@example.com");
    users[1] = lib_user(l, "Bob@Example.com");
    users[2] = lib_user(l, "cid@example.com");
    users[3] = lib_user(l, "eve@example.com");
    for (i = 0; i < ARRAY_SIZE(album_names); i++) {
        struct model_album_user u[2];
        size_t un = pick(&s, 3);

        for (k = 0; k < un; k++) {
            u[k].user = users[(i + k) % 4];
            u[k].role = (uint8_t)pick(&s, 2);
        }
        albums[i] = lib_album_users(l, album_names[i],
                                    pick(&s, 8) ? l->me : users[3], u, un);
    }
    for (i = 0; i < n; i++) {
        /* 2019..2024, at any time of day */
        int64_t when = iso("2019-01-01T00:00:00Z") +
                       (int64_t)pick(&s, 6 * 365) * 86400000 +
                       (int64_t)pick(&s, 86400) * 1000;
        uint32_t a = lib_asset(l, file_names[pick(&s, ARRAY_SIZE(file_names))],
                               paths[pick(&s, ARRAY_SIZE(paths))], when);
        unsigned na = pick(&s, 4), nt = pick(&s, 3);

        assets[i] = a;
        if (!pick(&s, 4))
            l->m.assets[a].local_date_time += 2 * 3600000; /* east of UTC */
        if (!pick(&s, 10))
            l->m.assets[a].visibility = MODEL_VIS_ARCHIVE;
        if (!pick(&s, 25))
            l->m.assets[a].flags |= MODEL_ASSET_TRASHED;
        if (!pick(&s, 25)) {
            l->m.assets[a].flags |= MODEL_ASSET_PARTNER;
            l->m.assets[a].owner = users[3];
        }
        for (k = 0; k < na; k++)
            if (pick(&s, 2))
                lib_in(l, albums[pick(&s, ARRAY_SIZE(albums))], a);
        for (k = 0; k < nt; k++)
            lib_tagged(l, tag_names[pick(&s, ARRAY_SIZE(tag_names))], a);
    }
    /* duplicate groups of two or three */
    for (i = 0; i + 3 < n; i += 3 + pick(&s, 8)) {
        uint32_t d;

        if (pick(&s, 2))
            continue;
        d = lib_dup(l, assets[i], assets[i + 1]);
        if (pick(&s, 2))
            l->m.assets[assets[i + 2]].duplicate = d;
    }
    free(assets);
    model_build_indexes(&l->m);
}

/*
 * *m becomes the library after p, as the next read would show it
 * (apply_mem.h); p is released.  Fails the cmocka test when p names an
 * id the library does not hold.
 */
static inline void gen_apply(struct model *m, struct plan *p)
{
    struct model next;
    struct buf err = BUF_INIT;

    model_init(&next);
    if (apply_mem_to_model(m, p, &next, &err) < 0)
        fail_msg("apply: %s", err.buf);
    plan_release(p);
    buf_release(&err);
    model_release(m);
    *m = next;
}

#endif
