/*
 * snapshot_needs.c: from the configuration to the list of things the
 * loader must fetch (the seed's lazy loading, generalised: nothing is
 * read that no rule reads), and to the API permissions a run needs.
 */
#include "snapshot/snapshot.h"

static void add_name(struct config_strlist *l, const char *s)
{
    if (!s || !*s)
        return;
    for (size_t i = 0; i < l->nr; i++)
        if (!strcmp(l->items[i], s))
            return;
    l->items = xrealloc(l->items, st_mult(l->nr + 1, sizeof(char *)));
    l->items[l->nr++] = xstrdup(s);
}

void snapshot_needs_add_tag(struct snapshot_needs *n, const char *name)
{
    add_name(&n->tag_names, name);
}

static void add_list(struct config_strlist *l, const struct config_strlist *s)
{
    for (size_t i = 0; i < s->nr; i++)
        add_name(l, s->items[i]);
}

/* A rule reads tags by name and albums by pattern. */
static void add_rule(struct snapshot_needs *n, const struct config_rule *r)
{
    add_list(&n->tag_names, &r->tag_names);
    if (r->album_patterns_nr)
        n->album_members = true;
}

void snapshot_needs_from_config(const struct config *cfg,
                                struct snapshot_needs *n)
{
    memset(n, 0, sizeof(*n));
    if (!cfg) {
        n->users = n->album_members = n->exif = n->duplicates = true;
        n->all_tag_members = true;
        return;
    }
    for (size_t i = 0; i < cfg->classification.rules_nr; i++)
        add_rule(n, &cfg->classification.rules[i]);
    add_name(&n->tag_names, cfg->classification.autotag_unknown);
    add_name(&n->tag_names, cfg->classification.autotag_conflict);
    for (size_t i = 0; i < cfg->filters.filter_in_nr; i++)
        add_rule(n, &cfg->filters.filter_in[i]);
    for (size_t i = 0; i < cfg->filters.filter_out_nr; i++)
        add_rule(n, &cfg->filters.filter_out[i]);
    if (cfg->conversions.enabled) {
        for (size_t i = 0; i < cfg->conversions.nr; i++) {
            const struct config_conversion *c = &cfg->conversions.items[i];

            add_rule(n, &c->source);
            add_list(&n->tag_names, &c->dest_tags);
            if (c->dest_albums.nr)
                n->album_members = true;
        }
    }
    if (cfg->duplicate_processing.present) {
        n->duplicates = true;
        add_name(&n->tag_names, cfg->duplicate_processing.album_conflict);
        add_name(&n->tag_names,
                 cfg->duplicate_processing.classification_conflict);
        add_name(&n->tag_names,
                 cfg->duplicate_processing.album_detection_conflict);
        /* The album conflict tag also exists per group: "<tag>_<id>". */
        if (cfg->duplicate_processing.album_conflict) {
            struct buf b = BUF_INIT;

            buf_addf(&b, "%s_", cfg->duplicate_processing.album_conflict);
            add_name(&n->tag_prefixes, b.buf);
            buf_release(&b);
        }
        if (cfg->duplicate_processing.classification_conflict_prefix)
            add_name(&n->tag_prefixes,
                     cfg->duplicate_processing.classification_conflict_prefix);
        /* Album conflicts compare the albums of a group's members. */
        n->album_members = true;
        if (cfg->duplicate_processing.date_correction.enabled)
            n->exif = true;
    }
    if (cfg->album_date_consistency.present &&
        cfg->album_date_consistency.enabled) {
        n->album_members = true;
        add_name(&n->tag_names, cfg->album_date_consistency.tag);
    }
    /* Folder albums and date albums go to unclassified assets: which of
     * an asset's albums classify, which are temporary and how many it is
     * in all take the memberships (docs/http-and-snapshot.md,
     * "isNotInAlbum completes EXIF passes only"). */
    if (cfg->album_detection_from_folders.enabled ||
        cfg->create_album_from_date_if_missing)
        n->album_members = true;
    if (cfg->album_permissions.present && cfg->album_permissions.enabled)
        n->users = true;
}

void snapshot_needs_release(struct snapshot_needs *n)
{
    for (size_t i = 0; i < n->tag_names.nr; i++)
        free(n->tag_names.items[i]);
    for (size_t i = 0; i < n->tag_prefixes.nr; i++)
        free(n->tag_prefixes.items[i]);
    free(n->tag_names.items);
    free(n->tag_prefixes.items);
    memset(n, 0, sizeof(*n));
}

bool snapshot_needs_tag(const struct snapshot_needs *n, const char *name,
                        const char *value)
{
    if (n->all_tag_members)
        return true;
    for (size_t i = 0; i < n->tag_names.nr; i++)
        if (!strcmp(n->tag_names.items[i], name) ||
            !strcmp(n->tag_names.items[i], value))
            return true;
    for (size_t i = 0; i < n->tag_prefixes.nr; i++) {
        const char *p = n->tag_prefixes.items[i];
        size_t len = strlen(p);

        if (!strncmp(name, p, len) || !strncmp(value, p, len))
            return true;
    }
    return false;
}

/* Do the classification rules name albums (by pattern)? */
static bool has_class_albums(const struct config *cfg)
{
    for (size_t i = 0; i < cfg->classification.rules_nr; i++)
        if (cfg->classification.rules[i].album_patterns_nr)
            return true;
    return false;
}

static bool converts_to_albums(const struct config *cfg)
{
    if (!cfg->conversions.enabled)
        return false;
    for (size_t i = 0; i < cfg->conversions.nr; i++)
        if (cfg->conversions.items[i].dest_albums.nr)
            return true;
    return false;
}

/*
 * The writes are those of src/apply/apply_perms.h's table (what `run`
 * checks against its plan before writing), for the plan groups each
 * feature can make; test_apply.c holds the two lists together.
 */
size_t snapshot_needed_permissions(const struct config *cfg, const char **out,
                                   size_t max)
{
    struct snapshot_needs n;
    size_t nr = 0;
    bool creates, adds, temps;

#define NEED(p)                                                                \
    do {                                                                       \
        if (nr < max)                                                          \
            out[nr] = (p);                                                     \
        nr++;                                                                  \
    } while (0)
    snapshot_needs_from_config(cfg, &n);
    /* Reads of every run. */
    NEED("user.read");
    NEED("asset.read");
    NEED("asset.statistics");
    NEED("tag.read");
    NEED("album.read");
    /* Output tags, conversions and duplicate tags: upserts, adds,
     * removes. */
    if (n.all_tag_members || n.tag_names.nr || n.tag_prefixes.nr) {
        NEED("tag.create");
        NEED("tag.asset");
    }
    /* Albums are created for folders, dates and an asset whose duplicate
     * is in a classifying album; conversions add to existing ones.
     * Temporary (date) albums are left and deleted once empty. */
    temps = !cfg || cfg->create_album_from_date_if_missing;
    creates = temps || cfg->album_detection_from_folders.enabled ||
              (n.duplicates && has_class_albums(cfg));
    adds = creates || converts_to_albums(cfg);
    if (creates)
        NEED("album.create");
    if (adds)
        NEED("albumAsset.create");
    if (temps) {
        NEED("albumAsset.delete");
        NEED("album.delete");
    }
    if (n.users) {
        NEED("albumUser.create");
        NEED("albumUser.update");
        NEED("albumUser.delete");
    }
    /* Duplicate date correction. */
    if (n.exif)
        NEED("asset.update");
#undef NEED
    snapshot_needs_release(&n);
    return nr;
}
