/*
 * plan_print.c: the human summary `immich-autotag plan` prints.
 *
 *     Plan: 3,897 changes (2,479 additions, 1,418 removals, ...)
 *     tag_add     autotag_output_unknown   1,204 assets   e.g. <id>, <id>
 *     ...
 *     notes: CLASSIFICATION_CONFLICT 12, ...
 *
 * Counts per operation, per tag/album, per reason, the first `examples`
 * ids of each group, notes per kind and the statistics counters.
 */
#include "plan/plan.h"

#include "core/escape.h"
#include "core/timeutil.h"

static const char *const role_label[] = {"viewer", "editor", "owner"};

static void add_examples(struct buf *out, const struct plan_group *g,
                         size_t examples, const struct plan_names *names)
{
    bool users =
        g->op >= PLAN_ALBUM_USER_ADD && g->op <= PLAN_ALBUM_USER_REMOVE;
    size_t i;

    for (i = 0; i < g->nr && i < examples; i++) {
        char s[UUID_STR_LEN + 1];
        const char *name = names && names->name
                               ? names->name(names->ctx, &g->items[i].id, users)
                               : NULL;

        uuid_format(&g->items[i].id, s);
        buf_addstr(out, i ? ", " : "   e.g. ");
        /* A file name or an email (from the server: escaped), with the
         * id that finds it. */
        if (name && *name) {
            escape_text(out, name, strlen(name), NULL);
            buf_addf(out, " [%s]", s);
        } else {
            buf_addstr(out, s);
        }
    }
    if (g->nr > examples && examples)
        buf_addstr(out, ", ...");
}

void plan_print_summary(const struct plan *p, struct buf *out, size_t examples)
{
    plan_print_summary_named(p, out, examples, NULL);
}

void plan_print_summary_named(const struct plan *p, struct buf *out,
                              size_t examples, const struct plan_names *names)
{
    size_t per_op[PLAN_OP_COUNT] = {0};
    size_t per_reason[PLAN_REASON_COUNT] = {0};
    size_t per_note[PLAN_NOTE_COUNT] = {0};
    size_t i, j;
    bool any = false;

    for (i = 0; i < p->nr; i++) {
        const struct plan_group *g = &p->groups[i];

        per_op[g->op] +=
            (g->op == PLAN_ALBUM_CREATE || g->op == PLAN_ALBUM_DELETE) ? 1
                                                                       : g->nr;
        if ((g->op == PLAN_ALBUM_CREATE || g->op == PLAN_ALBUM_DELETE) &&
            (unsigned)g->reason < PLAN_REASON_COUNT)
            per_reason[g->reason]++;
        for (j = 0; j < g->nr; j++)
            if (g->items[j].reason < PLAN_REASON_COUNT)
                per_reason[g->items[j].reason]++;
    }
    for (i = 0; i < p->notes_nr; i++)
        if ((unsigned)p->notes[i].kind < PLAN_NOTE_COUNT)
            per_note[p->notes[i].kind]++;

    buf_addf(out, "Plan: %zu change%s", plan_changes(p),
             plan_changes(p) == 1 ? "" : "s");
    if (p->server_url)
        buf_addf(out, " for %s", p->server_url);
    buf_addch(out, '\n');
    buf_addf(out,
             "Assets: %zu evaluated, %zu skipped; %zu classified, "
             "%zu unclassified (%zu found unclassified), %zu conflict\n",
             p->stats.assets_seen, p->stats.assets_skipped, p->stats.classified,
             p->stats.unclassified, p->stats.unclassified_found,
             p->stats.conflict);
    buf_addstr(out, "\nBy operation:\n");
    for (i = 0; i < PLAN_OP_COUNT; i++)
        if (per_op[i])
            buf_addf(out, "  %-18s %zu\n", plan_op_name((enum plan_op)i),
                     per_op[i]);
    buf_addstr(out, "\nBy feature:\n");
    for (i = 0; i < PLAN_REASON_COUNT; i++)
        if (per_reason[i])
            buf_addf(out, "  %-34s %zu\n",
                     plan_reason_name((enum plan_reason)i), per_reason[i]);

    buf_addstr(out, "\nBy tag / album:\n");
    for (i = 0; i < p->nr; i++) {
        const struct plan_group *g = &p->groups[i];

        any = true;
        /* The name comes from the server or the rules: escaped. */
        buf_addf(out, "  %-18s ", plan_op_name(g->op));
        if (g->name)
            escape_text(out, g->name, strlen(g->name), NULL);
        if (g->op == PLAN_ALBUM_USER_ADD || g->op == PLAN_ALBUM_USER_ROLE)
            buf_addf(out, " (%s)",
                     (unsigned)g->role < ARRAY_SIZE(role_label)
                         ? role_label[g->role]
                         : "?");
        if (g->op == PLAN_ALBUM_CREATE || g->op == PLAN_ALBUM_DELETE) {
            buf_addf(out, " (%s)",
                     plan_reason_name((enum plan_reason)g->reason));
        } else {
            buf_addf(out, ": %zu %s", g->nr,
                     g->op >= PLAN_ALBUM_USER_ADD &&
                             g->op <= PLAN_ALBUM_USER_REMOVE
                         ? (g->nr == 1 ? "user" : "users")
                         : (g->nr == 1 ? "asset" : "assets"));
            add_examples(out, g, examples, names);
        }
        buf_addch(out, '\n');
    }
    if (!any)
        buf_addstr(out, "  (nothing to change)\n");

    if (p->notes_nr) {
        buf_addstr(out, "\nNotes:\n");
        for (i = 0; i < PLAN_NOTE_COUNT; i++)
            if (per_note[i])
                buf_addf(out, "  %-30s %zu\n",
                         plan_note_name((enum plan_note_kind)i), per_note[i]);
    }
    if (p->stats.date_mismatches || p->stats.dates_corrected ||
        p->stats.duplicates_flagged || p->stats.albums_created ||
        p->stats.shares_changed)
        buf_addf(out,
                 "\nDate mismatches %zu, dates corrected %zu, duplicates "
                 "flagged %zu, albums created %zu, shares changed %zu\n",
                 p->stats.date_mismatches, p->stats.dates_corrected,
                 p->stats.duplicates_flagged, p->stats.albums_created,
                 p->stats.shares_changed);
}
