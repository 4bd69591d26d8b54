/*
 * e2e_state.h: immich-sim's /__sim/state (the library-file format, plus
 * each asset's albumIds) as the end-to-end tests read it.  Every helper
 * fails the current cmocka test on a malformed state.
 */
#ifndef IA_E2E_STATE_H
#define IA_E2E_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/buf.h"
#include "sim_harness.h"

/* JSON text -> value (fails the test on bad JSON). */
json_t *es_parse(const char *text, size_t len);
/* GET path ("/__sim/stats"), parsed; fails the test unless 200. */
json_t *es_get(const struct sim_proc *sim, const char *path);
/* GET /__sim/state, parsed. */
json_t *es_state(const struct sim_proc *sim);
/* o[key] as a string, "" when absent. */
const char *es_str(json_t *o, const char *key);
/* The element of st[list] whose key is value, or NULL. */
json_t *es_find(json_t *st, const char *list, const char *key,
                const char *value);
/* Ids of admin@example.com and of the user with email. */
const char *es_admin_id(json_t *st);
const char *es_user_id(json_t *st, const char *email);
/* Does the asset carry a tag whose value is `value`? */
bool es_has_tag(json_t *st, json_t *asset, const char *value);
/* The asset's album names, in turn: the i-th or NULL past the end. */
const char *es_album_of(json_t *st, json_t *asset, size_t i);
bool es_in_album(json_t *st, json_t *asset, const char *name);
/* How many assets carry tag `value` (by name: every owner's tag). */
long es_tag_count(json_t *st, const char *value);
/* Members of the album named name, -1 when there is none. */
long es_album_size(json_t *st, const char *name);
/* The album's users as a JSON object text {email: role}, keys sorted. */
void es_album_users(json_t *st, const char *name, struct buf *out);
/*
 * The library without the ids and times the server mints, as canonical
 * JSON text (malloc'ed): per asset its date, tag values and album names;
 * per album (by name) its owner and users.
 */
char *es_end_state_text(json_t *st);
char *es_end_state(const struct sim_proc *sim);

#endif
