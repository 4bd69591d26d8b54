/*
 * links.c: immich_autotag_links.md and its console twin
 * (docs/upstream-behavior.md §5.5):
 * links to the server's views of every input and output tag.  Tag names
 * are not URL-encoded, as upstream writes them.
 */
#include "report/report.h"

#include <ctype.h>

#define INPUT_PREFIX "autotag_input_"

struct link {
    struct buf label;
    struct buf url;
};

/* Python's str.title() on the suffix after "_" -> " " (ASCII letters). */
static void title_case(struct buf *out, const char *s)
{
    bool prev_letter = false;

    for (; *s; s++) {
        int ch = (unsigned char)*s == '_' ? ' ' : (unsigned char)*s;
        bool letter = isalpha(ch) != 0;

        if (letter)
            ch = prev_letter ? tolower(ch) : toupper(ch);
        buf_addch(out, ch);
        prev_letter = letter;
    }
}

static void add(struct link **l, size_t *nr, size_t *alloc, const char *label,
                const char *label_tail, const char *url, const char *path)
{
    struct link *k;

    ALLOC_GROW(*l, *nr + 1, *alloc);
    k = &(*l)[(*nr)++];
    buf_init(&k->label, 0);
    buf_init(&k->url, 0);
    buf_addstr(&k->label, label);
    if (label_tail)
        title_case(&k->label, label_tail);
    if (path)
        buf_addf(&k->url, "%s/tags?path=%s", url, path);
    else
        buf_addf(&k->url, "%s/albums", url);
}

/* The links of the output tags the configuration sets, in upstream's
 * order (a NULL tag: not set, or its section is off). */
static void add_outputs(const struct config *cfg, const char *url,
                        struct link **l, size_t *nr, size_t *alloc)
{
    const bool dups = cfg->duplicate_processing.present;
    const bool dates = cfg->album_date_consistency.present &&
                       cfg->album_date_consistency.enabled;
    const struct {
        const char *label, *tag;
    } outputs[] = {
        {"Classification: Unknown", cfg->classification.autotag_unknown},
        {"Classification: Conflict", cfg->classification.autotag_conflict},
        {"Duplicates: Album conflict",
         dups ? cfg->duplicate_processing.album_conflict : NULL},
        {"Duplicates: Classification conflict",
         dups ? cfg->duplicate_processing.classification_conflict : NULL},
        {"Duplicates: Album detection conflict",
         dups ? cfg->duplicate_processing.album_detection_conflict : NULL},
        {"Consistency: Album date mismatch",
         dates ? cfg->album_date_consistency.tag : NULL},
    };
    size_t k;

    for (k = 0; k < ARRAY_SIZE(outputs); k++)
        if (outputs[k].tag)
            add(l, nr, alloc, outputs[k].label, NULL, url, outputs[k].tag);
}

/*
 * The links of immich_autotag_links.md and the console: the album list,
 * one per distinct autotag_input_* tag of the classification rules, and
 * one per output tag the configuration sets (classification, duplicates,
 * album dates), as upstream lists them.
 */
static void collect(const struct config *cfg, const char *url, struct link **l,
                    size_t *nr, size_t *alloc)
{
    size_t r, t, k;

    add(l, nr, alloc, "Albums", NULL, url, NULL);
    /* Distinct autotag_input_* tags of the classification rules. */
    for (r = 0; r < cfg->classification.rules_nr; r++) {
        const struct config_strlist *tags =
            &cfg->classification.rules[r].tag_names;

        for (t = 0; t < tags->nr; t++) {
            const char *tag = tags->items[t];
            bool dup = false;

            if (strncmp(tag, INPUT_PREFIX, strlen(INPUT_PREFIX)))
                continue;
            for (k = 1; k < *nr && !dup; k++) {
                const char *u = strstr((*l)[k].url.buf, "?path=");

                dup = u && !strcmp(u + 6, tag);
            }
            if (!dup)
                add(l, nr, alloc, "Input: ", tag + strlen(INPUT_PREFIX), url,
                    tag);
        }
    }
    add_outputs(cfg, url, l, nr, alloc);
}

static void release(struct link *l, size_t nr)
{
    size_t i;

    for (i = 0; i < nr; i++) {
        buf_release(&l[i].label);
        buf_release(&l[i].url);
    }
    free(l);
}

void report_links_md(const struct config *cfg, const char *server_url,
                     struct buf *out)
{
    struct link *l = NULL;
    size_t nr = 0, alloc = 0, i;

    collect(cfg, server_url, &l, &nr, &alloc);
    buf_addstr(out, "# Immich Autotagging Quick Links\n\n");
    for (i = 0; i < nr; i++)
        buf_addf(out, "- [%s](%s)\n", l[i].label.buf, l[i].url.buf);
    buf_addstr(out, "\nFor configuration details, see: "
                    "[README_config.md](https://github.com/txemi/"
                    "immich-autotag/blob/main/immich_autotag/config/"
                    "README_config.md)\n");
    release(l, nr);
}

void report_links_console(const struct config *cfg, const char *server_url,
                          struct buf *out)
{
    struct link *l = NULL;
    size_t nr = 0, alloc = 0, i;

    collect(cfg, server_url, &l, &nr, &alloc);
    for (i = 0; i < nr; i++) {
        if (i == 0)
            buf_addf(out, "- Albums:        %s\n", l[i].url.buf);
        else
            buf_addf(out, "- %s: %s\n", l[i].label.buf, l[i].url.buf);
    }
    release(l, nr);
}
