/*
 * apply_api_int.h: what apply_api.c and apply_settle.c share; not for
 * other modules.
 */
#ifndef IA_APPLY_API_INT_H
#define IA_APPLY_API_INT_H

#include "apply/apply_api.h"

/* One request of a batch in flight. */
struct call_ctx {
    struct apply_api *aa;
    struct apply_req *r;
};

/* Is al one the key's user owns and the library read did not have (made
 * since by someone else, or by a create whose answer was lost)? */
bool apply_api_new_album(const struct apply_api *aa,
                         const struct api_album *al);
/* Submits cc->r through the API (the engine runs it later). */
void apply_api_submit(struct apply_api *aa, struct call_ctx *cc);
/* Stops the run: the key was refused (network false) or the server is
 * gone (network true); msg says why. */
void apply_api_fatal(struct apply_api *aa, const char *msg, bool network);
/*
 * After a batch ran: finds out what the server did for every request
 * whose outcome is unknown (req->unknown, or bulk ids the answer did not
 * mention) by reading the target back, and sends once more what is safe
 * to send again.  -1 when those reads fail (the run must stop).
 */
int apply_api_settle(struct apply_api *aa, struct apply_req *reqs, size_t nr,
                     struct buf *err);

#endif
