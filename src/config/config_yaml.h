/*
 * config_yaml.h: internal to src/config.  The YAML-walking layer the
 * schema code (config_load.c) is written on: typed reads of libyaml
 * document nodes with PyYAML's YAML 1.1 resolution and pydantic's lax
 * coercions, position-prefixed problem lists, and mappings checked against
 * the keys a block knows (with "did you mean").
 *
 * Not for use outside src/config.
 */
#ifndef IA_CONFIG_YAML_H
#define IA_CONFIG_YAML_H

#include <yaml.h>

#include "config/config.h"

/* What a node holds once YAML 1.1 resolution and tags are applied. */
enum ynode_kind {
    YK_NULL,
    YK_BOOL,
    YK_INT,
    YK_FLOAT,
    YK_STR,
    YK_MAP,
    YK_SEQ,
    YK_CONVMODE, /* the legacy python ConversionMode tag */
    YK_BAD,      /* an unsupported tag: already reported */
};

struct yload {
    const char *name; /* file name used in messages */
    yaml_document_t *doc;
    struct buf *err;     /* problems, one per line */
    struct buf *warn;    /* warnings, one per line, may be NULL */
    size_t nerr;         /* problems found so far */
    size_t budget;       /* node visits left (bounds alias expansion) */
    size_t regex_budget; /* regex compilations left */
};

/* One key/value of a mapping, merge keys ("<<") already expanded. */
struct ypair {
    const char *key;
    yaml_node_t *knode, *vnode;
};

struct ymap {
    struct ypair *items;
    size_t nr, alloc;
};

/* How a block treats keys it does not know (upstream's extra="forbid"). */
enum ymap_policy { YMAP_STRICT, YMAP_IGNORE };

/* Appends "name:line:col: <message>" to the problem list. */
void yerr(struct yload *L, const yaml_node_t *n, const char *fmt, ...)
    IA_PRINTF(3, 4);
void ywarn(struct yload *L, const yaml_node_t *n, const char *fmt, ...)
    IA_PRINTF(3, 4);

/* Resolves the node's kind; YK_BAD for a tag ycheck_tags() reported. */
enum ynode_kind ykind(struct yload *L, yaml_node_t *n);
/*
 * Reports every node of the document whose tag PyYAML's SafeLoader would
 * refuse (python tags other than the legacy ConversionMode one, unknown
 * tags, a value that does not fit its !!int/!!bool/!!null tag), wherever
 * it is, as upstream fails on them before validation.
 */
void ycheck_tags(struct yload *L);
const char *ykind_name(enum ynode_kind k);

/*
 * Reads a mapping into m (caller releases with ymap_release).  Null is an
 * empty mapping.  Keys outside `known` (NULL-terminated) are errors under
 * YMAP_STRICT and warnings under YMAP_IGNORE, both naming `path.key`, the
 * position and the closest known key.  Returns -1 (already reported) when
 * n is not a mapping.
 */
int ymap_read(struct yload *L, yaml_node_t *n, const char *path,
              const char *const *known, enum ymap_policy policy,
              struct ymap *m);
/* The value of key in m (the last one when repeated), or NULL. */
yaml_node_t *ymap_get(const struct ymap *m, const char *key);
void ymap_release(struct ymap *m);

/* Typed reads; each reports "path: expected ..., got ..." and returns -1. */
int yget_str(struct yload *L, yaml_node_t *n, const char *path, bool nullable,
             char **out);
int yget_bool(struct yload *L, yaml_node_t *n, const char *path, bool *out);
int yget_int(struct yload *L, yaml_node_t *n, const char *path, long min,
             long max, long *out);
/* Null or absent is an empty list. */
int yget_strlist(struct yload *L, yaml_node_t *n, const char *path,
                 struct config_strlist *out);
/* Sequence items (null = none); -1 if n is neither. */
int yget_seq(struct yload *L, yaml_node_t *n, const char *path,
             yaml_node_item_t **start, size_t *nr);

/* Takes one unit of the visit budget; false (reported once) when spent. */
bool yvisit(struct yload *L, const yaml_node_t *n);

/*
 * Builds server.url from host (a bare name or IP, or an http(s):// URL
 * with optional port and path) and port (0 = absent).  Returns 0 with a
 * malloc'd URL in *url, or -1 with the reason in why.  Shared by the
 * loader and config_apply_env().
 */
int config_build_url(const char *host, long port, char **url, struct buf *why);

/* Edit distance used for "did you mean" (git's levenshtein weights). */
size_t ylevenshtein(const char *a, const char *b);

#endif
