/*
 * apply_perms.h: the API-key permissions a plan's writes need, and the
 * check `run` and `apply FILE` make before their first write.
 *
 * Immich guards every endpoint with one permission (the server's
 * controllers: @Authenticated({ permission: Permission.X })).  The
 * applier writes through these endpoints only, so a plan needs exactly:
 *
 *   plan group              endpoint                      permission
 *   tag add, tag not there  PUT /tags (upsert)            tag.create
 *   tag add, tag remove     PUT|DELETE /tags/{id}/assets  tag.asset
 *   album create            POST /albums                  album.create
 *   album add               PUT /albums/{id}/assets       albumAsset.create
 *   album remove            DELETE /albums/{id}/assets    albumAsset.delete
 *   album delete            DELETE /albums/{id}           album.delete
 *   album user add          PUT /albums/{id}/users        albumUser.create
 *   album user role         PUT /albums/{id}/user/{uid}   albumUser.update
 *   album user remove       DELETE /albums/{id}/user/{u}  albumUser.delete
 *   asset date              PUT /assets                   asset.update
 *
 * This table is the only place that says so: snapshot_needed_permissions()
 * (what `check` lists for a configuration) must agree with it, and a unit
 * test holds them together.  An album add counts even when its assets
 * ride on the album's create: a large album's later chunks, and a create
 * that finds the album made meanwhile, go through PUT /albums/{id}/assets.
 *
 *     struct buf err = BUF_INIT;
 *     switch (apply_check_permissions(plan, api, &err)) {
 *     case APPLY_PERMS_MISSING: ...  // err: "missing permissions: ..."
 *     }
 */
#ifndef IA_APPLY_PERMS_H
#define IA_APPLY_PERMS_H

#include "api/api.h"
#include "plan/plan.h"

/* Every permission a write may need, in the table's order. */
#define APPLY_PERMS_MAX 10

/*
 * The permissions the writes of p need, each once, in the table's order,
 * stored in out[0..max) as static strings.  Returns how many there are
 * (possibly more than max).  An empty plan needs none.
 */
size_t apply_needed_permissions(const struct plan *p, const char **out,
                                size_t max);

/*
 * Appends to missing (comma separated) the permissions p needs that the
 * key's list `have` lacks; a key with "all" lacks none.  Returns how many
 * are missing.
 */
size_t apply_missing_permissions(const struct plan *p, const char *const *have,
                                 size_t have_nr, struct buf *missing);

enum apply_perms_result {
    APPLY_PERMS_OK = 0,   /* the key holds them all (or the plan needs
                             none: nothing was asked) */
    APPLY_PERMS_MISSING,  /* err: "missing permissions: a, b" */
    APPLY_PERMS_UNLISTED, /* the server has no GET /api-keys/me (404):
                             err says the permissions were not checked */
    APPLY_PERMS_SERVER,   /* refused key or server unreachable: err */
    APPLY_PERMS_FAILED,   /* any other failure of the request: err */
};

/*
 * Asks the server which permissions the key holds (GET /api-keys/me,
 * through api's engine, which it runs) and compares them with what p
 * needs.  Nothing is sent when p needs nothing.  One line in err for
 * every result but APPLY_PERMS_OK.
 */
enum apply_perms_result
apply_check_permissions(const struct plan *p, struct api *api, struct buf *err);

#endif
