/*
 * model.h: the library as the rules see it, compact and indexed.
 *
 * The snapshot loader (src/snapshot) fills a struct model through the
 * model_add_*() and model_link_*() calls, then calls model_build_indexes()
 * once.  After that the model is read-only: the rules engine reads it and
 * keeps its own working copy of whatever it changes.
 *
 * Records live in arrays and refer to each other by uint32_t index
 * (MODEL_NONE = no record).  Strings are interned in `strings` (ids are
 * strpool ids; 0 is ""), except the assets' file names and paths, which
 * are stored without a hash slot (model_asset_strings()).  UUIDs are 16 bytes.
 * Memberships are CSR arrays built once, both ways:
 *
 *     size_t nr;
 *     const uint32_t *albums = model_asset_albums(m, asset, &nr);
 *     for (size_t i = 0; i < nr; i++)
 *         name = model_str(m, m->albums[albums[i]].name);
 *
 * costs no hashing and no allocation: the seed's 942,569 "album names of an
 * asset" lookups are 942,569 array reads.  Memory for 1M assets is about
 * 88 bytes of record, 8 of UUID index and the path's text an asset, plus
 * 4 bytes each way per membership (tests/unit/test_model.c holds it).
 *
 * Pointers returned by lookups are valid until model_release().
 */
#ifndef IA_MODEL_H
#define IA_MODEL_H

#include "core/hashmap.h"
#include "core/strpool.h"
#include "core/timeutil.h"

#define MODEL_NONE UINT32_MAX

enum model_visibility {
    MODEL_VIS_TIMELINE = 0,
    MODEL_VIS_ARCHIVE = 1,
    MODEL_VIS_HIDDEN = 2,
    MODEL_VIS_LOCKED = 3,
};

/*
 * Bits of model_asset.flags:
 *   TRASHED   the asset is in the trash (deletedAt set)
 *   FAVORITE  isFavorite
 *   PARTNER   owned by another user (a partner's or an album member's)
 *   VIDEO     type VIDEO (else IMAGE or other)
 *   EXIF      exifInfo was fetched (date_time_original meaningful)
 */
enum model_asset_flags {
    MODEL_ASSET_TRASHED = 1u << 0,
    MODEL_ASSET_FAVORITE = 1u << 1,
    MODEL_ASSET_PARTNER = 1u << 2,
    MODEL_ASSET_VIDEO = 1u << 3,
    MODEL_ASSET_EXIF = 1u << 4,
    /* Set by an incremental load (model.changes_only) on an asset read
     * fresh in this run: new, updated, restored, or whose tags or albums
     * changed since the last good run; also on the other members of a
     * duplicate group an asset left (docs/rules.md "What a change can
     * affect").  Unused by a full load. */
    MODEL_ASSET_CHANGED = 1u << 5,
};

struct model_asset {
    struct uuid id;
    uint32_t owner;           /* users[] index */
    uint32_t file_name;       /* originalFileName */
    uint32_t path;            /* originalPath */
    uint32_t duplicate;       /* dups[] index or MODEL_NONE */
    int64_t file_created_at;  /* ms UTC; TIME_NONE if unknown */
    int64_t file_modified_at; /* ms UTC */
    int64_t local_date_time;  /* wall clock labelled UTC */
    int64_t created_at;       /* upload time */
    int64_t updated_at;
    int64_t date_time_original; /* exifInfo.dateTimeOriginal or TIME_NONE */
    uint8_t visibility;         /* enum model_visibility */
    uint8_t flags;              /* enum model_asset_flags */
    /* Where the read met it first: the search (pass) and the place in
     * that search's order (page x size + index).  Pages arrive in any
     * order; this is the server's, for the rules' window and walk (0, 0
     * for a model built by hand: then the order of insertion). */
    uint8_t search_pass;
    uint32_t search_index;
};

enum model_role {
    MODEL_ROLE_VIEWER = 0,
    MODEL_ROLE_EDITOR = 1,
    MODEL_ROLE_OWNER = 2
};

struct model_album_user {
    uint32_t user; /* users[] index */
    uint8_t role;  /* enum model_role, never OWNER here */
};

struct model_album {
    struct uuid id;
    uint32_t name;        /* albumName */
    uint32_t owner;       /* users[] index */
    uint32_t users_first; /* album_users[] slice: members, owner excluded */
    uint32_t users_nr;
    uint32_t asset_count;    /* as the server reported it */
    uint32_t next_same_name; /* next album with this name, MODEL_NONE */
    int64_t start_date;      /* TIME_NONE when the server gave none */
    int64_t end_date;
    int64_t created_at;
    int64_t updated_at;
    int64_t last_modified; /* lastModifiedAssetTimestamp or TIME_NONE */
    uint32_t foreign_nr;   /* members read that are not in the model
                              (other users' assets the key's user may
                              not see in its library) */
    bool members_known;    /* album_assets holds its membership */
    bool members_cached;   /* ... remembered from an earlier run, not
                              read in this one */
    bool changed;          /* incremental load: the album is new, or its
                              name, users or membership changed since the
                              last good run (model.changes_only) */
};

struct model_tag {
    struct uuid id;
    uint32_t name;           /* leaf name (TagResponseDto.name) */
    uint32_t value;          /* full path ("a/b/c") */
    uint32_t parent;         /* tags[] index or MODEL_NONE */
    uint32_t next_same_name; /* next tag with this leaf name, MODEL_NONE */
    bool members_known;      /* asset_tags holds its direct links */
};

struct model_user {
    struct uuid id;
    uint32_t email;
    uint32_t name;
};

struct model_dup {
    struct uuid id; /* Immich duplicateId */
};

/* Compressed sparse rows: row r's items are items[start[r]..start[r+1]). */
struct model_csr {
    uint32_t *start; /* rows + 1 entries */
    uint32_t *items;
};

struct model_pair {
    uint32_t a, b;
};

/* An album member that is not one of the model's assets. */
struct model_foreign {
    uint32_t album;
    struct uuid asset;
};

struct model {
    struct strpool strings;

    struct model_asset *assets;
    size_t assets_nr, assets_alloc;
    struct model_album *albums;
    size_t albums_nr, albums_alloc;
    struct model_album_user *album_users;
    size_t album_users_nr, album_users_alloc;
    struct model_tag *tags;
    size_t tags_nr, tags_alloc;
    struct model_user *users;
    size_t users_nr, users_alloc;
    struct model_dup *dups;
    size_t dups_nr, dups_alloc;

    uint32_t me; /* users[] index of the API key's user */
    int server_major, server_minor, server_patch;

    /* Lookup tables (filled as records are added). */
    struct uuidix asset_by_id; /* 4 bytes a slot: keys are assets[].id */
    struct uuidmap album_by_id, tag_by_id, user_by_id, dup_by_id;
    struct u64map album_by_name; /* name id -> first album with it */
    struct u64map tag_by_name;   /* leaf name id -> first tag with it */
    struct u64map user_by_email; /* email id -> user */

    /* Memberships as added (pairs), then indexed. */
    struct model_pair *album_asset_pairs; /* (album, asset) */
    size_t album_asset_nr, album_asset_alloc;
    struct model_pair *tag_asset_pairs; /* (tag, asset) */
    size_t tag_asset_nr, tag_asset_alloc;
    /* Album members that are not assets of the model, as read. */
    struct model_foreign *foreign;
    size_t foreign_nr, foreign_alloc;

    /* True when the loader rebuilt the model from what the last good run
     * remembered plus what changed since: then only assets flagged
     * MODEL_ASSET_CHANGED, albums with `changed`, and what those reach
     * (their duplicate groups, the albums they are in) can plan anything
     * a full evaluation would not already have planned last time.  False
     * after a full read: everything is evaluated. */
    bool changes_only;

    bool indexed;                  /* model_build_indexes() done */
    struct model_csr asset_albums; /* asset -> albums (sorted) */
    struct model_csr album_assets; /* album -> assets (sorted) */
    struct model_csr asset_tags;   /* asset -> tags (sorted) */
    struct model_csr tag_assets;   /* tag -> assets (sorted) */
    struct model_csr dup_assets;   /* dup -> member assets (sorted) */
};

void model_init(struct model *m);
void model_release(struct model *m);

static inline const char *model_str(const struct model *m, uint32_t id)
{
    return strpool_str(&m->strings, id);
}
uint32_t model_intern(struct model *m, const char *s);

/*
 * Adders return the record's index.  A record whose UUID is already there
 * is not added twice: the existing index is returned and the record is
 * left as it was (the loader de-duplicates overlapping pages this way),
 * except that a user known only by id (an album member seen before the
 * user list) gets the email and name of a later add.
 */
uint32_t model_add_user(struct model *m, const struct uuid *id,
                        const char *email, const char *name);
uint32_t model_add_asset(struct model *m, const struct model_asset *a);
/*
 * Stores an asset's file name and path in the model's strings and sets
 * a->file_name and a->path.  They are stored, not interned: a million
 * distinct paths would cost a hash slot each and are never looked up by
 * value (model_str() reads them; compare them with strcmp, not by id).
 * A path that ends in "/" + the file name (Immich's storage template and
 * external libraries) holds the name: file_name is an id into its tail.
 */
void model_asset_strings(struct model *m, struct model_asset *a,
                         const char *file_name, size_t file_name_len,
                         const char *path, size_t path_len);
/* `users`: members other than the owner. */
uint32_t model_add_album(struct model *m, const struct model_album *a,
                         const struct model_album_user *users, size_t users_nr);
uint32_t model_add_tag(struct model *m, const struct model_tag *t);
uint32_t model_add_dup(struct model *m, const struct uuid *id);

/* Record memberships; repeats are harmless (removed when indexing). */
void model_link_album_asset(struct model *m, uint32_t album, uint32_t asset);
void model_link_tag_asset(struct model *m, uint32_t tag, uint32_t asset);
/*
 * Records a member of album that is not in the model (another user's
 * asset): it counts in album->foreign_nr, so that no decision takes an
 * album for empty, or a remembered list for complete, without it.  A
 * repeated id counts once per call: callers record each member once.
 */
void model_album_add_foreign(struct model *m, uint32_t album,
                             const struct uuid *asset);
/* After indexing: album's foreign members, *nr of them. */
const struct model_foreign *model_album_foreign(const struct model *m,
                                                uint32_t album, size_t *nr);

/*
 * Sorts and de-duplicates the pairs and builds the CSR indexes.  Call once
 * after the last add; adding afterwards is a BUG.
 */
void model_build_indexes(struct model *m);

uint32_t model_find_asset(const struct model *m, const struct uuid *id);
uint32_t model_find_album(const struct model *m, const struct uuid *id);
uint32_t model_find_tag(const struct model *m, const struct uuid *id);
uint32_t model_find_user(const struct model *m, const struct uuid *id);
uint32_t model_find_user_by_email(const struct model *m, const char *email);
/* First album / tag with that (exact) name; follow next_same_name. */
uint32_t model_find_album_by_name(const struct model *m, const char *name);
uint32_t model_find_tag_by_name(const struct model *m, const char *name);
/* The tag whose full value is `value` (linear in same-leaf-name tags). */
uint32_t model_find_tag_by_value(const struct model *m, const char *value);

/* The role (enum model_role) user has on album as a member, -1 when the
 * user is not one of its members (the owner is not a member). */
int model_album_role(const struct model *m, uint32_t album, uint32_t user);

const uint32_t *model_asset_albums(const struct model *m, uint32_t asset,
                                   size_t *nr);
const uint32_t *model_album_assets(const struct model *m, uint32_t album,
                                   size_t *nr);
const uint32_t *model_asset_tags(const struct model *m, uint32_t asset,
                                 size_t *nr);
const uint32_t *model_tag_assets(const struct model *m, uint32_t tag,
                                 size_t *nr);
const uint32_t *model_dup_assets(const struct model *m, uint32_t dup,
                                 size_t *nr);

/* "Best date" (docs/upstream-behavior.md §3.5): min of createdAt,
 * fileCreatedAt, fileModifiedAt and localDateTime that are known; where
 * the EXIF date differs from fileCreatedAt (an edit waiting for the
 * server's jobs, or one they cannot apply), fileCreatedAt and
 * localDateTime as the jobs will set them. */
int64_t model_asset_best_date(const struct model_asset *a);
/* True when the EXIF date is known and is not (yet) fileCreatedAt. */
bool model_asset_date_pending(const struct model_asset *a);

/* Bytes of heap the model holds (for the memory benchmark). */
size_t model_memory_bytes(const struct model *m);

/*
 * A digest of what the model says about the library (assets with their
 * dates, albums with their members and users, tags with their members),
 * independent of the order records were read in: two reads of an
 * unchanged library give the same 16 hex digits.  Indexed models only.
 */
#define MODEL_DIGEST_LEN 16
void model_digest(const struct model *m, char out[MODEL_DIGEST_LEN + 1]);

#endif
