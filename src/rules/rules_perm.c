/*
 * rules_perm.c: album permissions (docs/upstream-behavior.md §4.1 step 6)
 * with the safety rules of §8 item 11 there.
 *
 * An album name is cut into tokens at runs of '-', '_', '.' and white
 * space (Python's \s: str.isspace()); a selection rule matches when its
 * keyword, lowercased, equals one lowercased token (Python's str.lower(),
 * so 'été' matches 'Été à Paris').  For a matched album the configuration
 * is the source of truth: members of the rules' groups are added (role of
 * the LAST matching rule), members with another role are changed, other
 * members are removed.  Safety: emails compare case-insensitively, the
 * owner is never added, the API user is never removed, albums the API user
 * does not own are left alone, and nobody is removed from an album when
 * no configured email resolved to a user.  Unmatched albums are never
 * touched.
 */
#include "rules/rules_int.h"

#include <unictype.h>
#include <unistr.h>

/*
 * The code point at p: its length, and whether it separates tokens
 * (upstream's [-_.\s]; Python's \s is str.isspace(): Unicode White_Space
 * and the information separators U+001C..U+001F).
 */
static int next_cp(const char *p, const char *end, bool *sep)
{
    ucs4_t c;
    int n = u8_mbtouc(&c, (const uint8_t *)p, (size_t)(end - p));

    *sep = c == '-' || c == '_' || c == '.' || uc_is_property_white_space(c) ||
           (c >= 0x1c && c <= 0x1f);
    return n;
}

/* Do a and b (len bytes each) have the same Python str.lower()? */
static bool same_lower(struct ws *w, const char *a, size_t alen, const char *b,
                       size_t blen)
{
    buf_reset(&w->low_a);
    buf_reset(&w->low_b);
    ws_lower(a, alen, &w->low_a);
    ws_lower(b, blen, &w->low_b);
    return w->low_a.len == w->low_b.len &&
           !memcmp(w->low_a.buf, w->low_b.buf, w->low_a.len);
}

/* Does keyword.lower() equal one lowercased token of the name? */
static bool keyword_matches(struct ws *w, const char *name, const char *keyword)
{
    const char *p = name, *end = name + strlen(name);
    size_t kl = strlen(keyword);
    bool sep = false;

    if (!kl)
        return false;
    while (p < end) {
        const char *s;
        int n;

        while (p < end && (n = next_cp(p, end, &sep)) > 0 && sep)
            p += n;
        s = p;
        while (p < end && (n = next_cp(p, end, &sep)) > 0 && !sep)
            p += n;
        if (p > s && same_lower(w, s, (size_t)(p - s), keyword, kl))
            return true;
    }
    return false;
}

static int access_role(enum config_access a)
{
    return a == CONFIG_ACCESS_EDIT ? MODEL_ROLE_EDITOR : MODEL_ROLE_VIEWER;
}

static const char *role_name(int role)
{
    return role == MODEL_ROLE_EDITOR ? "editor" : "viewer";
}

static uint32_t user_by_email_ci(struct ws *w, const char *email)
{
    const struct model *m = w->m;
    size_t i;

    for (i = 0; i < m->users_nr; i++) {
        const char *e = model_str(m, m->users[i].email);

        if (same_lower(w, e, strlen(e), email, strlen(email)))
            return (uint32_t)i;
    }
    return MODEL_NONE;
}

static const struct config_user_group *find_group(const struct config *cfg,
                                                  const char *name)
{
    size_t i;

    for (i = 0; i < cfg->album_permissions.groups_nr; i++)
        if (!strcmp(cfg->album_permissions.groups[i].name, name))
            return &cfg->album_permissions.groups[i];
    return NULL;
}

static void note_email(struct ws *w, const char *email)
{
    struct plan_fields f = PLAN_FIELDS_INIT;
    struct buf low = BUF_INIT;

    ws_lower(email, strlen(email), &low);
    if (ws_first_time(w, hash_bytes(low.buf, low.len) ^ 0x5e11ULL)) {
        plan_fields_str(&f, "email", email);
        ws_note(w, PLAN_NOTE_UNKNOWN_EMAIL, MODEL_NONE, MODEL_NONE, &f);
    }
    buf_release(&low);
}

static void note_album(struct ws *w, enum plan_note_kind k, uint32_t al,
                       const struct idvec *rules, int role)
{
    const struct config *cfg = w->cfg;
    struct plan_fields f = PLAN_FIELDS_INIT;
    size_t i;

    plan_fields_str(&f, "album_name", w->albums[al].name);
    if (rules->nr) {
        plan_fields_list(&f, "matched_rules", NULL);
        for (i = 0; i < rules->nr; i++) {
            const char *rn = cfg->album_permissions.rules[rules->items[i]].name;

            plan_fields_list(&f, "matched_rules", rn ? rn : "");
        }
        plan_fields_str(&f, "access_level", role_name(role));
    }
    ws_note(w, k, MODEL_NONE, al, &f);
}

static bool vec_has(const struct idvec *v, uint32_t x)
{
    size_t i;

    for (i = 0; i < v->nr; i++)
        if (v->items[i] == x)
            return true;
    return false;
}

/*
 * The members an album's matching rules ask for (the last rule's access
 * wins), compared with its members now: adds and role changes, and
 * removals only when the configuration resolved to someone (a group whose
 * users are hidden must not unshare everything).
 */
static void sync_album(struct ws *w, uint32_t al, const struct idvec *rules)
{
    const struct config *cfg = w->cfg;
    const struct model *m = w->m;
    const struct ws_album *a = &w->albums[al];
    const struct model_album *ma = al < m->albums_nr ? &m->albums[al] : NULL;
    const struct uuid *aid = ma ? &ma->id : NULL;
    unsigned last = rules->items[rules->nr - 1];
    int role = access_role(cfg->album_permissions.rules[last].access);
    struct idvec *target = &w->v_tmp;
    size_t i, j, k, resolved = 0;
    uint32_t owner = ma ? ma->owner : m->me;

    target->nr = 0;
    for (i = 0; i < rules->nr; i++) {
        const struct config_selection_rule *sr =
            &cfg->album_permissions.rules[rules->items[i]];

        for (j = 0; j < sr->groups.nr; j++) {
            const struct config_user_group *g =
                find_group(cfg, sr->groups.items[j]);

            for (k = 0; g && k < g->members.nr; k++) {
                uint32_t u = user_by_email_ci(w, g->members.items[k]);

                if (u == MODEL_NONE) {
                    note_email(w, g->members.items[k]);
                    continue;
                }
                resolved++;
                if (u != owner && !vec_has(target, u))
                    idvec_push(target, u);
            }
        }
    }
    if (!a->mine)
        return;
    /* Adds and role changes. */
    for (i = 0; i < target->nr; i++) {
        uint32_t u = target->items[i];
        bool member = false;

        for (j = 0; ma && j < ma->users_nr; j++) {
            const struct model_album_user *au =
                &m->album_users[ma->users_first + j];

            if (au->user != u)
                continue;
            member = true;
            if (au->role != role) {
                plan_add(plan_group_role(w->plan, PLAN_ALBUM_USER_ROLE, a->name,
                                         aid, role),
                         &m->users[u].id, PLAN_R_PERMISSIONS, last + 1);
                w->plan->stats.shares_changed++;
            }
        }
        if (!member) {
            plan_add(plan_group_role(w->plan, PLAN_ALBUM_USER_ADD, a->name, aid,
                                     role),
                     &m->users[u].id, PLAN_R_PERMISSIONS, last + 1);
            w->plan->stats.shares_changed++;
        }
    }
    /* Removals, only when the configuration resolved to someone. */
    if (!resolved || !ma)
        return;
    for (j = 0; j < ma->users_nr; j++) {
        const struct model_album_user *au =
            &m->album_users[ma->users_first + j];

        if (au->user == m->me || vec_has(target, au->user))
            continue;
        plan_add(
            plan_group_role(w->plan, PLAN_ALBUM_USER_REMOVE, a->name, aid, 0),
            &m->users[au->user].id, PLAN_R_PERMISSIONS, last + 1);
        w->plan->stats.shares_changed++;
    }
}

void rules_permissions(struct ws *w)
{
    const struct config *cfg = w->cfg;
    struct idvec rules = {NULL, 0, 0};
    size_t al, i;

    if (!cfg->album_permissions.enabled)
        return;
    for (al = 0; al < w->albums_nr; al++) {
        const struct ws_album *a = &w->albums[al];

        if (a->deleted || (al >= w->m->albums_nr && a->count <= 0))
            continue;
        rules.nr = 0;
        for (i = 0; i < cfg->album_permissions.rules_nr; i++) {
            const char *kw = cfg->album_permissions.rules[i].keyword;

            if (kw && keyword_matches(w, a->name, kw))
                idvec_push(&rules, (uint32_t)i);
        }
        if (!rules.nr) {
            if (cfg->album_permissions.log_unmatched)
                note_album(w, PLAN_NOTE_ALBUM_PERMISSION_NO_MATCH, (uint32_t)al,
                           &rules, 0);
            continue;
        }
        note_album(
            w, PLAN_NOTE_ALBUM_PERMISSION_RULE_MATCHED, (uint32_t)al, &rules,
            access_role(cfg->album_permissions.rules[rules.items[rules.nr - 1]]
                            .access));
        sync_album(w, (uint32_t)al, &rules);
    }
    free(rules.items);
}
