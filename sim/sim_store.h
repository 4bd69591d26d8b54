/*
 * sim_store.h: the simulator's in-memory Immich library.
 *
 * Built for a million assets: fixed-size records in arrays referenced by
 * uint32_t index, UUIDs as 16 bytes, every string interned once in one
 * strpool (ids, not pointers, are kept in records).  Membership is held on
 * both sides where the endpoints need it: an asset lists its albums and
 * tags, an album lists its assets.  Nothing is ever removed from the
 * arrays: deleted albums and tags carry a flag, trashed assets a
 * deletedAt, so indexes stay valid for the life of the library.
 *
 * One mutex (owned by the server) guards the whole library; nothing here
 * locks.
 *
 *     struct sim_lib lib;
 *     sim_lib_init(&lib, seed);
 *     uint32_t u = sim_lib_add_user(&lib, "john@example.com", "John", false);
 *     ...
 *     sim_lib_release(&lib);
 */
#ifndef IA_SIM_STORE_H
#define IA_SIM_STORE_H

#include "core/buf.h"
#include "core/hashmap.h"
#include "core/strpool.h"
#include "core/uuid.h"

#define SIM_NONE UINT32_MAX

enum sim_visibility {
    SIM_VIS_TIMELINE = 0,
    SIM_VIS_ARCHIVE = 1,
    SIM_VIS_HIDDEN = 2,
    SIM_VIS_LOCKED = 3,
};

enum sim_asset_type {
    SIM_TYPE_IMAGE = 0,
    SIM_TYPE_VIDEO = 1,
    SIM_TYPE_AUDIO = 2,
    SIM_TYPE_OTHER = 3,
};

enum sim_role {
    SIM_ROLE_VIEWER = 0,
    SIM_ROLE_EDITOR = 1,
    SIM_ROLE_OWNER = 2, /* only in 3.x responses, never stored */
};

/* A small growable list of record indexes. */
struct u32vec {
    uint32_t *items;
    uint32_t nr, alloc;
};

void u32vec_push(struct u32vec *v, uint32_t x);
bool u32vec_has(const struct u32vec *v, uint32_t x);
/* Removes the first x; true if it was there.  Order is kept. */
bool u32vec_remove(struct u32vec *v, uint32_t x);
void u32vec_release(struct u32vec *v);

struct sim_user {
    struct uuid id;
    uint32_t email, name; /* strpool ids */
    bool is_admin;
    int64_t created_at;     /* ms UTC */
    struct u32vec partners; /* users whose assets show in my timeline */
    struct u32vec sharers;  /* users who share with me (POST /partners),
                               in my timeline or not */
};

/* Permission bits of an API key; "all" is a flag of its own. */
struct sim_key {
    struct uuid id;
    uint32_t secret; /* strpool id of the key itself */
    uint32_t name;   /* strpool id */
    uint32_t user;   /* index into users */
    bool all;        /* "all" grants every permission */
    uint64_t perms;  /* 1 << sim_perm_find(name) */
    int64_t created_at;
};

struct sim_exif {
    uint32_t make, model, lens;      /* strpool ids, 0 = null */
    uint32_t city, state, country;   /* strpool ids, 0 = null */
    uint32_t time_zone, description; /* strpool ids, 0 = null */
    int64_t date_time_original;      /* TIME_NONE = null */
    double latitude, longitude;      /* NAN = null */
    uint32_t file_size;              /* bytes */
    uint16_t width, height;
    uint16_t iso;
    uint8_t f_number10, focal_length; /* f-number x10, mm */
    int8_t rating;                    /* -1 = null */
};

struct sim_asset {
    struct uuid id;
    uint32_t owner;     /* user index */
    uint32_t dir, base; /* originalPath = dir + "/" + base */
    uint32_t file_name; /* originalFileName */
    uint32_t dup;       /* duplicate group index or SIM_NONE */
    uint32_t exif;      /* index into exifs or SIM_NONE */
    int64_t file_created_at, file_modified_at, local_date_time;
    int64_t created_at, updated_at;
    int64_t deleted_at; /* TIME_NONE unless trashed */
    uint8_t type;       /* enum sim_asset_type */
    uint8_t visibility; /* enum sim_visibility */
    bool favorite;
    bool read_only;       /* its file cannot get a sidecar (an
                             external library mounted read-only) */
    bool purged;          /* deleted with force: not restorable */
    struct u32vec tags;   /* tag indexes, direct links */
    struct u32vec albums; /* album indexes */
};

struct sim_tag {
    struct uuid id;
    uint32_t owner;  /* user index */
    uint32_t value;  /* full path "a/b/c", strpool id */
    uint32_t parent; /* tag index or SIM_NONE */
    uint32_t color;  /* strpool id, 0 = unset */
    int64_t created_at, updated_at;
    bool deleted;
};

struct sim_member {
    uint32_t user;
    uint8_t role; /* SIM_ROLE_VIEWER or SIM_ROLE_EDITOR */
};

struct sim_album {
    struct uuid id;
    uint32_t owner;
    uint32_t name, description;
    uint32_t thumb; /* asset index or SIM_NONE */
    int64_t created_at, updated_at;
    bool deleted;
    bool activity;  /* isActivityEnabled */
    bool order_asc; /* order "asc" (default desc) */
    struct u32vec assets;
    struct sim_member *members;
    uint32_t members_nr, members_alloc;
};

/* A named expected figure of a generated library ("tag_additions"...). */
struct sim_expect {
    char name[48];
    long value;
};

struct sim_lib {
    struct strpool pool;
    struct sim_user *users;
    size_t users_nr, users_alloc;
    struct sim_key *keys;
    size_t keys_nr, keys_alloc;
    struct sim_asset *assets;
    size_t assets_nr, assets_alloc;
    struct sim_exif *exifs;
    size_t exifs_nr, exifs_alloc;
    struct sim_tag *tags;
    size_t tags_nr, tags_alloc;
    struct sim_album *albums;
    size_t albums_nr, albums_alloc;
    struct uuid *dups; /* duplicate group ids */
    size_t dups_nr, dups_alloc;
    struct uuidmap asset_map, album_map, tag_map, user_map, dup_map;
    struct sim_expect expect[24];
    size_t expect_nr;
    uint32_t *order; /* assets by fileCreatedAt desc, id */
    bool order_dirty;
    uint64_t gen;        /* bumped by every write: caches of
                            query results check it */
    uint64_t uuid_state; /* mints ids of new records */
    bool public_users;   /* server.publicUsers (default on) */
    bool micros;         /* createdAt/updatedAt carry
                            microseconds (sim_asset_sub_ms) */
};

void sim_lib_init(struct sim_lib *lib, uint64_t seed);
void sim_lib_release(struct sim_lib *lib);

/* Interning shorthands; "" and NULL give id 0. */
uint32_t sim_str(struct sim_lib *lib, const char *s);
const char *sim_cstr(const struct sim_lib *lib, uint32_t id);

/* Record constructors: return the new index.  id NULL mints a v4 UUID. */
uint32_t sim_lib_add_user(struct sim_lib *lib, const struct uuid *id,
                          const char *email, const char *name, bool admin);
uint32_t sim_lib_add_key(struct sim_lib *lib, uint32_t user, const char *secret,
                         const char *name);
uint32_t sim_lib_add_asset(struct sim_lib *lib, const struct uuid *id,
                           uint32_t owner);
uint32_t sim_lib_add_exif(struct sim_lib *lib, uint32_t asset);
uint32_t sim_lib_add_tag(struct sim_lib *lib, const struct uuid *id,
                         uint32_t owner, const char *value, uint32_t parent);
uint32_t sim_lib_add_album(struct sim_lib *lib, const struct uuid *id,
                           uint32_t owner, const char *name);
/* The group index of duplicate id (created on first use). */
uint32_t sim_lib_dup(struct sim_lib *lib, const struct uuid *id);

/* Path setter: splits at the last '/'. */
void sim_asset_set_path(struct sim_lib *lib, uint32_t asset, const char *path);

/* Links; each returns true if the link is new (or was removed). */
bool sim_link_album(struct sim_lib *lib, uint32_t album, uint32_t asset);
bool sim_unlink_album(struct sim_lib *lib, uint32_t album, uint32_t asset);
bool sim_link_tag(struct sim_lib *lib, uint32_t tag, uint32_t asset);
bool sim_unlink_tag(struct sim_lib *lib, uint32_t tag, uint32_t asset);

/* Lookups by UUID string or struct: index or SIM_NONE (deleted count). */
uint32_t sim_find_asset(const struct sim_lib *lib, const struct uuid *id);
uint32_t sim_find_album(const struct sim_lib *lib, const struct uuid *id);
uint32_t sim_find_tag(const struct sim_lib *lib, const struct uuid *id);
uint32_t sim_find_user(const struct sim_lib *lib, const struct uuid *id);
uint32_t sim_find_user_email(const struct sim_lib *lib, const char *email);
/* The key record whose secret is s, or SIM_NONE. */
uint32_t sim_find_key(const struct sim_lib *lib, const char *s);
/* The live tag of owner with this exact value, or SIM_NONE. */
uint32_t sim_find_tag_value(const struct sim_lib *lib, uint32_t owner,
                            const char *value);

/* The role of user in album: SIM_ROLE_OWNER, _EDITOR, _VIEWER or -1. */
int sim_album_role(const struct sim_lib *lib, uint32_t album, uint32_t user);
/* True if tag `anc` is tag `t` or one of its ancestors. */
bool sim_tag_is_under(const struct sim_lib *lib, uint32_t t, uint32_t anc);
/* True if user may read asset / share asset (owner or partner). */
bool sim_can_share_asset(const struct sim_lib *lib, uint32_t user,
                         uint32_t asset);
bool sim_can_read_asset(const struct sim_lib *lib, uint32_t user,
                        uint32_t asset);

/*
 * The microseconds (0..999) an asset's createdAt/updatedAt carry beyond
 * the millisecond JSON shows, when lib->micros is set (0 otherwise): a
 * fixed draw from its id.
 */
int sim_asset_sub_ms(const struct sim_lib *lib, uint32_t asset);

/* The asset order (fileCreatedAt desc, then id), rebuilt when dirty. */
const uint32_t *sim_lib_order(struct sim_lib *lib);

/* Sets (or adds) an expected figure. */
void sim_lib_expect(struct sim_lib *lib, const char *name, long value);

/* The permission table: index of name or -1; names for the bit index. */
int sim_perm_find(const char *name);
const char *sim_perm_name(int i);

#endif
