/*
 * snapshot_model.c: the server's records (src/api) as model records, one
 * conversion for the library read (snapshot_load.c) and for the small
 * read of `explain`.
 */
#include "snapshot/snapshot.h"

uint32_t snapshot_model_user(struct model *m, const struct uuid *id)
{
    uint32_t u = model_find_user(m, id);

    return u != MODEL_NONE ? u : model_add_user(m, id, "", "");
}

void snapshot_model_tags(struct model *m, const struct api_tag *tags, size_t nr,
                         bool members_known)
{
    for (size_t i = 0; i < nr; i++) {
        struct model_tag t;

        memset(&t, 0, sizeof(t));
        t.id = tags[i].id;
        t.name = model_intern(m, tags[i].name);
        t.value = model_intern(m, tags[i].value);
        t.parent = MODEL_NONE;
        t.members_known = members_known;
        model_add_tag(m, &t);
    }
    /* Parents in a second pass: the listing order is not guaranteed. */
    for (size_t i = 0; i < nr; i++) {
        if (tags[i].has_parent) {
            uint32_t t = model_find_tag(m, &tags[i].id);

            m->tags[t].parent = model_find_tag(m, &tags[i].parent);
        }
    }
}

uint32_t snapshot_model_album(struct model *m, const struct api_album *a)
{
    struct model_album_user *users;
    struct model_album al;
    uint32_t idx;

    memset(&al, 0, sizeof(al));
    al.id = a->id;
    al.name = model_intern(m, a->name);
    al.owner = snapshot_model_user(m, &a->owner);
    al.asset_count = (uint32_t)a->asset_count;
    al.start_date = a->start_date;
    al.end_date = a->end_date;
    al.created_at = a->created_at;
    al.updated_at = a->updated_at;
    al.last_modified = a->last_modified;
    users = xcalloc(a->users_nr + 1, sizeof(*users));
    for (size_t j = 0; j < a->users_nr; j++) {
        users[j].user = snapshot_model_user(m, &a->users[j].user);
        users[j].role = (uint8_t)a->users[j].role;
    }
    idx = model_add_album(m, &al, users, a->users_nr);
    free(users);
    return idx;
}

void snapshot_model_asset(struct model *m, const struct api_asset *a,
                          const struct uuid *me, struct model_asset *r)
{
    memset(r, 0, sizeof(*r));
    r->id = a->id;
    r->owner = snapshot_model_user(m, &a->owner);
    model_asset_strings(m, r, a->file_name, a->file_name_len, a->path,
                        a->path_len);
    r->duplicate = MODEL_NONE;
    r->file_created_at = a->file_created_at;
    r->file_modified_at = a->file_modified_at;
    r->local_date_time = a->local_date_time;
    r->created_at = a->created_at;
    r->updated_at = a->updated_at;
    r->date_time_original = a->date_time_original;
    r->visibility = (uint8_t)a->visibility;
    if (a->trashed)
        r->flags |= MODEL_ASSET_TRASHED;
    if (a->favorite)
        r->flags |= MODEL_ASSET_FAVORITE;
    if (a->video)
        r->flags |= MODEL_ASSET_VIDEO;
    if (a->has_exif)
        r->flags |= MODEL_ASSET_EXIF;
    if (!uuid_eq(&a->owner, me))
        r->flags |= MODEL_ASSET_PARTNER;
}
