/*
 * sim_fault.c: parses --faults and decides, per request, which rules
 * fire.  The random draw for the nth match of rule i is a hash of
 * (seed, i, n), not a shared generator, so concurrent requests to other
 * endpoints do not shift an endpoint's failures.
 */
#include "core/numparse.h"
#include "core/uuid.h"
#include "sim/sim_fault.h"

static int parse_kind(struct sim_fault *r, const char *s, size_t len)
{
    int64_t n;

    if (len == 5 && !memcmp(s, "reset", 5)) {
        r->kind = SIM_FAULT_RESET;
    } else if (len == 8 && !memcmp(s, "truncate", 8)) {
        r->kind = SIM_FAULT_TRUNCATE;
    } else if (len == 5 && !memcmp(s, "login", 5)) {
        r->kind = SIM_FAULT_LOGIN;
    } else if (len == 7 && !memcmp(s, "partial", 7)) {
        r->kind = SIM_FAULT_PARTIAL;
    } else if (len == 9 && !memcmp(s, "loginpage", 9)) {
        r->kind = SIM_FAULT_LOGIN_PAGE;
    } else if (len == 5 && !memcmp(s, "spike", 5)) {
        r->kind = SIM_FAULT_SPIKE;
        r->ms = 500;
    } else if (num_parse_i64(s, len, 400, 599, &n) == 0) {
        r->status = (int)n;
        r->kind = n == 429 ? SIM_FAULT_429 : SIM_FAULT_STATUS;
        if (n == 429)
            r->retry_after = 1;
    } else {
        return -1;
    }
    return 0;
}

static int parse_param(struct sim_fault *r, const char *s, size_t len)
{
    const char *eq = memchr(s, '=', len);
    int64_t n;

    if (!eq) {
        double d;
        char tmp[32];

        if (len >= sizeof(tmp))
            return -1;
        memcpy(tmp, s, len);
        tmp[len] = '\0';
        if (num_parse_double(tmp, len, &d) < 0 || d < 0 || d > 1)
            return -1;
        r->rate = d;
        r->rate_given = true;
        return 0;
    }
    if (num_parse_i64(eq + 1, len - (size_t)(eq + 1 - s), 0, 1000000000, &n) <
        0)
        return -1;
    len = (size_t)(eq - s);
    if (len == 5 && !memcmp(s, "first", 5))
        r->first = (long)n;
    else if (len == 5 && !memcmp(s, "every", 5))
        r->every = (long)n;
    else if (len == 11 && !memcmp(s, "retry-after", 11))
        r->retry_after = (int)n;
    else if (len == 2 && !memcmp(s, "ms", 2))
        r->ms = (int)n;
    else
        return -1;
    return 0;
}

static int parse_rule(struct sim_fault *r, const char *s, size_t len)
{
    const char *at = memchr(s, '@', len);
    const char *end = at ? at : s + len;
    const char *p = s;
    bool first = true;

    memset(r, 0, sizeof(*r));
    r->retry_after = -1;
    while (p <= end) {
        const char *c = memchr(p, ':', (size_t)(end - p));
        const char *e = c ? c : end;

        if (e == p)
            return -1;
        if (first ? parse_kind(r, p, (size_t)(e - p)) < 0
                  : parse_param(r, p, (size_t)(e - p)) < 0)
            return -1;
        first = false;
        p = e + 1;
    }
    if (at) {
        size_t n = len - (size_t)(at + 1 - s);

        if (!n || n >= sizeof(r->endpoint) || !memchr(at + 1, ' ', n))
            return -1;
        memcpy(r->endpoint, at + 1, n);
        r->endpoint[n] = '\0';
    }
    /* no rate, first= or every=: every matching request ("500@POST
     * /search/metadata" is a persistent fault, not a rule that never
     * fires) */
    if (!r->rate_given && !r->first && !r->every)
        r->rate = 1.0;
    return 0;
}

int sim_faults_parse(struct sim_faults *f, const char *spec, uint64_t seed,
                     struct buf *err)
{
    const char *p = spec;

    f->seed = seed;
    while (*p) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);

        ALLOC_GROW(f->items, f->nr + 1, f->alloc);
        if (parse_rule(&f->items[f->nr], p, len) < 0) {
            buf_addf(err, "bad fault rule '%.*s'", (int)len, p);
            return -1;
        }
        f->nr++;
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

void sim_faults_release(struct sim_faults *f)
{
    free(f->items);
    f->items = NULL;
    f->nr = f->alloc = 0;
}

static bool fires(const struct sim_faults *f, size_t i,
                  const struct sim_fault *r)
{
    uint64_t st;
    double u;

    if (r->first && r->seen <= r->first)
        return true;
    if (r->every && r->seen % r->every == 0)
        return true;
    if (r->rate <= 0)
        return false;
    st =
        f->seed * 0x9e3779b97f4a7c15ULL ^ (uint64_t)i << 48 ^ (uint64_t)r->seen;
    u = (double)(splitmix64(&st) >> 11) / 9007199254740992.0;
    return u < r->rate;
}

void sim_faults_decide(struct sim_faults *f, const char *endpoint,
                       struct sim_fault_hit *hit)
{
    size_t i;

    memset(hit, 0, sizeof(*hit));
    hit->retry_after = -1;
    for (i = 0; i < f->nr; i++) {
        struct sim_fault *r = &f->items[i];

        if (r->endpoint[0] && strcmp(r->endpoint, endpoint))
            continue;
        r->seen++;
        if (!fires(f, i, r))
            continue;
        if (r->kind == SIM_FAULT_SPIKE) {
            r->fired++;
            hit->spike_ms += r->ms;
            continue;
        }
        /* the first answering rule wins; later ones are not consumed */
        if (hit->status || hit->reset || hit->truncate || hit->login ||
            hit->partial)
            continue;
        r->fired++;
        switch (r->kind) {
        case SIM_FAULT_STATUS:
        case SIM_FAULT_429:
            hit->status = r->status;
            hit->retry_after = r->retry_after;
            hit->kind = r->status == 429   ? "429"
                        : r->status == 500 ? "500"
                        : r->status == 502 ? "502"
                        : r->status == 503 ? "503"
                                           : "5xx";
            break;
        case SIM_FAULT_RESET:
            hit->reset = true;
            hit->kind = "reset";
            break;
        case SIM_FAULT_TRUNCATE:
            hit->truncate = true;
            hit->kind = "truncate";
            break;
        case SIM_FAULT_LOGIN:
        case SIM_FAULT_LOGIN_PAGE:
            hit->login = r->kind == SIM_FAULT_LOGIN ? 302 : 200;
            hit->kind = "login";
            break;
        case SIM_FAULT_PARTIAL:
            hit->partial = true;
            hit->kind = "partial";
            break;
        case SIM_FAULT_SPIKE:
            break;
        }
    }
}
