/*
 * sim_jobs.c: the sidecar and metadata-extraction queues (sim_jobs.h).
 *
 * Each queue is a FIFO of (asset, due time).  A job's due time is fixed
 * when it is queued: max(queued + delay, previous job's due + 1/rate), so
 * a backlog drains at the queue's rate.  The sidecar contents (tag list
 * and EXIF date as the write found them) live in a side array indexed by
 * asset, allocated on first use.
 *
 * Sources (immich-app/immich, server/src): services/metadata.service.ts
 * handleTagAsset/handleUntagAsset queue SidecarWrite; handleSidecarWrite
 * writes TagsList and DateTimeOriginal; job.service.ts queues
 * AssetExtractMetadata when a SidecarWrite succeeds; the 2.x extraction's
 * applyTagList calls tagRepository.replaceAssetTags with the sidecar's
 * list; 3.x reads the list from asset_exif.tags, which TagService keeps
 * current at request time, so nothing is reverted there.
 */
#include "core/numparse.h"
#include "core/timeutil.h"
#include "sim/sim_jobs.h"
#include "sim/sim_server.h"

enum { Q_SIDECAR, Q_META, Q__NR };

static const char *const queue_names[Q__NR] = {"sidecar", "metadataExtraction"};

struct job {
    uint32_t asset;
    unsigned edit; /* enum sim_edit bits of its cause */
    int64_t due;
};

struct queue {
    struct job *items;
    size_t head, nr, alloc; /* pending jobs are items[head..nr) */
    int64_t last_due;
    long completed, failed;
};

struct sidecar {
    struct u32vec tags;
    int64_t date; /* TIME_NONE: none written */
    bool written;
};

struct sim_jobs {
    struct sim_jobs_opts o;
    struct sim_lib *lib;
    int dialect;
    struct queue q[Q__NR];
    struct sidecar *cars; /* indexed by asset */
    size_t cars_nr;
    bool new_request;       /* no edit since the last sim_jobs_run() */
    size_t max_ahead_write; /* most jobs ahead when a write queued its
                               first job */
};

/* "250ms", "2s", "1m", "1h" or plain milliseconds. */
static int parse_ms(const char *s, size_t n, int64_t *out)
{
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
    size_t i;

    for (i = 0; i < ARRAY_SIZE(units); i++) {
        size_t ul = strlen(units[i].unit);

        if (n > ul && !memcmp(s + n - ul, units[i].unit, ul) &&
            (ul > 1 || s[n - 2] != 'm')) {
            if (num_parse_i64(s, n - ul, 0, INT64_MAX / 3600000, out) < 0)
                return -1;
            *out *= units[i].ms;
            return 0;
        }
    }
    return num_parse_i64(s, n, 0, INT64_MAX / 2, out);
}

int sim_jobs_parse(const char *spec, struct sim_jobs_opts *o, struct buf *err)
{
    const char *p = spec;

    if (!strcmp(spec, "off")) {
        o->on = false;
        return 0;
    }
    o->on = true;
    while (*p) {
        size_t n = strcspn(p, ",");
        const char *eq = memchr(p, '=', n);

        if (eq && eq - p == 5 && !memcmp(p, "delay", 5)) {
            if (parse_ms(eq + 1, n - 6, &o->delay_ms) < 0)
                goto bad;
        } else if (eq && eq - p == 4 && !memcmp(p, "rate", 4)) {
            size_t vl = n - 5;
            char num[32];

            if (vl > 2 && !memcmp(eq + 1 + vl - 2, "/s", 2))
                vl -= 2;
            if (!vl || vl >= sizeof(num))
                goto bad;
            memcpy(num, eq + 1, vl);
            num[vl] = '\0';
            if (num_parse_double(num, vl, &o->rate) < 0 || o->rate < 0)
                goto bad;
        } else {
            goto bad;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
bad:
    buf_addf(err, "bad --jobs '%s' (want off or delay=2s,rate=200/s)", spec);
    return -1;
}

struct sim_jobs *sim_jobs_new(const struct sim_jobs_opts *o,
                              struct sim_lib *lib, int dialect)
{
    struct sim_jobs *j = xcalloc(1, sizeof(*j));

    j->o = *o;
    j->lib = lib;
    j->dialect = dialect;
    return j;
}

void sim_jobs_free(struct sim_jobs *j)
{
    size_t i;

    if (!j)
        return;
    for (i = 0; i < Q__NR; i++)
        free(j->q[i].items);
    for (i = 0; i < j->cars_nr; i++)
        u32vec_release(&j->cars[i].tags);
    free(j->cars);
    free(j);
}

bool sim_jobs_on(const struct sim_jobs *j)
{
    return j->o.on;
}

/* Minutes east of UTC of a fixed zone name ("UTC", "UTC+2", "UTC-5:30"). */
static bool fixed_zone(const char *z, int *minutes)
{
    int h = 0, m = 0, sign;

    if (strncmp(z, "UTC", 3))
        return false;
    if (!z[3]) {
        *minutes = 0;
        return true;
    }
    if (z[3] != '+' && z[3] != '-')
        return false;
    sign = z[3] == '-' ? -1 : 1;
    if (sscanf(z + 4, "%d:%d", &h, &m) < 1)
        return false;
    *minutes = sign * (h * 60 + m);
    return true;
}

void sim_asset_take_exif_date(struct sim_lib *lib, uint32_t asset)
{
    struct sim_asset *a = &lib->assets[asset];
    const struct sim_exif *e;
    const char *zone;
    int off = 0, secs;

    if (a->exif == SIM_NONE)
        return;
    e = &lib->exifs[a->exif];
    if (e->date_time_original == TIME_NONE)
        return;
    zone = e->time_zone ? sim_cstr(lib, e->time_zone) : NULL;
    if (zone && !fixed_zone(zone, &off) &&
        tz_offset_at(zone, e->date_time_original, &secs) == 0)
        off = secs / 60;
    a->file_created_at = e->date_time_original;
    a->local_date_time = e->date_time_original + (int64_t)off * 60000;
    lib->order_dirty = true;
}

static int64_t interval_ms(const struct sim_jobs *j)
{
    return j->o.rate > 0 ? (int64_t)(1000.0 / j->o.rate + 0.5) : 0;
}

static void push(struct sim_jobs *j, int qi, uint32_t asset, unsigned edit,
                 int64_t at)
{
    struct queue *q = &j->q[qi];
    int64_t due = at + j->o.delay_ms;

    if (q->last_due + interval_ms(j) > due)
        due = q->last_due + interval_ms(j);
    if (q->head == q->nr)
        q->head = q->nr = 0;
    ALLOC_GROW(q->items, q->nr + 1, q->alloc);
    q->items[q->nr].asset = asset;
    q->items[q->nr].edit = edit;
    q->items[q->nr].due = due;
    q->nr++;
    q->last_due = due;
}

static struct sidecar *car_of(struct sim_jobs *j, uint32_t asset)
{
    if (asset >= j->cars_nr) {
        size_t n = j->lib->assets_nr > asset ? j->lib->assets_nr : asset + 1;

        j->cars = xrealloc(j->cars, st_mult(n, sizeof(*j->cars)));
        memset(j->cars + j->cars_nr, 0, (n - j->cars_nr) * sizeof(*j->cars));
        j->cars_nr = n;
    }
    return &j->cars[asset];
}

void sim_jobs_edit(struct sim_jobs *j, uint32_t asset, unsigned edit,
                   int64_t now)
{
    if (j->o.on) {
        /* the server runs sim_jobs_run() and the handler under one lock:
         * the first edit after it is a write's first job */
        if (j->new_request) {
            size_t ahead = j->q[Q_SIDECAR].nr - j->q[Q_SIDECAR].head +
                           j->q[Q_META].nr - j->q[Q_META].head;

            if (ahead > j->max_ahead_write)
                j->max_ahead_write = ahead;
            j->new_request = false;
        }
        push(j, Q_SIDECAR, asset, edit, now);
        return;
    }
    if ((edit & SIM_EDIT_DATE) && !j->lib->assets[asset].read_only)
        sim_asset_take_exif_date(j->lib, asset);
}

/* SidecarWrite: copies tags and EXIF date to the sidecar. */
static void sidecar_write(struct sim_jobs *j, const struct job *job)
{
    struct sim_lib *lib = j->lib;
    const struct sim_asset *a = &lib->assets[job->asset];
    struct sidecar *c;
    uint32_t i;

    if (a->read_only) {
        j->q[Q_SIDECAR].failed++;
        return;
    }
    /* nothing to write (no tag list asked for, no EXIF row): the job is
     * skipped and no extraction follows */
    if (!(job->edit & SIM_EDIT_TAGS) && a->exif == SIM_NONE) {
        j->q[Q_SIDECAR].completed++;
        return;
    }
    c = car_of(j, job->asset);
    c->tags.nr = 0;
    for (i = 0; i < a->tags.nr; i++)
        u32vec_push(&c->tags, a->tags.items[i]);
    c->date = a->exif != SIM_NONE ? lib->exifs[a->exif].date_time_original
                                  : TIME_NONE;
    c->written = true;
    j->q[Q_SIDECAR].completed++;
    push(j, Q_META, job->asset, job->edit, job->due);
}

/* AssetExtractMetadata: reads the sidecar back into the asset. */
static void extract(struct sim_jobs *j, const struct job *job)
{
    struct sim_lib *lib = j->lib;
    struct sim_asset *a = &lib->assets[job->asset];
    const struct sidecar *c = car_of(j, job->asset);
    uint32_t i;
    int64_t now;

    if (j->dialect < 3 && c->written) {
        a->tags.nr = 0;
        for (i = 0; i < c->tags.nr; i++)
            if (!lib->tags[c->tags.items[i]].deleted)
                u32vec_push(&a->tags, c->tags.items[i]);
    }
    if (c->written && c->date != TIME_NONE)
        sim_asset_take_exif_date(lib, job->asset);
    /* the updated_at() trigger stamps the clock when the job runs: its
     * due time when the server caught up with it, now when a test ran
     * it early (POST /__sim/jobs/run) -- never a time still ahead */
    now = sim_now();
    a->updated_at = job->due < now ? job->due : now;
    lib->gen++;
    j->q[Q_META].completed++;
}

/* The queue whose next job falls due first (of qsel if >= 0), or -1. */
static int next_queue(const struct sim_jobs *j, int qsel)
{
    int qi, best = -1;

    for (qi = 0; qi < Q__NR; qi++) {
        const struct queue *q = &j->q[qi];

        if ((qsel >= 0 && qi != qsel) || q->head == q->nr)
            continue;
        if (best < 0 ||
            q->items[q->head].due < j->q[best].items[j->q[best].head].due)
            best = qi;
    }
    return best;
}

static void run_one(struct sim_jobs *j, int qi)
{
    struct job job = j->q[qi].items[j->q[qi].head++];

    if (qi == Q_SIDECAR)
        sidecar_write(j, &job);
    else
        extract(j, &job);
}

void sim_jobs_run(struct sim_jobs *j, int64_t now)
{
    int qi;

    j->new_request = true;
    while ((qi = next_queue(j, -1)) >= 0 &&
           j->q[qi].items[j->q[qi].head].due <= now)
        run_one(j, qi);
}

long sim_jobs_step(struct sim_jobs *j, const char *queue, long n)
{
    int qsel = -1, qi;
    long done = 0;

    if (queue) {
        for (qi = 0; qi < Q__NR; qi++)
            if (!strcmp(queue, queue_names[qi]))
                qsel = qi;
        if (qsel < 0)
            return 0;
    }
    while ((n < 0 || done < n) && (qi = next_queue(j, qsel)) >= 0) {
        run_one(j, qi);
        done++;
    }
    return done;
}

void sim_jobs_stats_json(const struct sim_jobs *j, struct buf *b, int64_t now)
{
    int64_t last = now;
    int qi;

    buf_addf(b, "\"jobs\":{\"on\":%s", j->o.on ? "true" : "false");
    for (qi = 0; qi < Q__NR; qi++) {
        const struct queue *q = &j->q[qi];

        buf_addf(b,
                 ",\"%s\":{\"pending\":%zu,\"completed\":%ld,"
                 "\"failed\":%ld}",
                 queue_names[qi], q->nr - q->head, q->completed, q->failed);
        if (q->nr > q->head && q->items[q->nr - 1].due > last)
            last = q->items[q->nr - 1].due;
    }
    /* a pending write still has its re-read ahead of it */
    if (j->q[Q_SIDECAR].nr > j->q[Q_SIDECAR].head)
        last += j->o.delay_ms;
    buf_addf(b, ",\"drain_ms\":%lld,\"max_ahead_at_write\":%zu}",
             (long long)(last - now), j->max_ahead_write);
}

void sim_jobs_json(const struct sim_jobs *j, struct buf *b, int64_t now)
{
    /* QueueName of 2.x (enum.ts, 15 queues) and 3.x (adds ocr, workflow,
     * editor); the legacy GET /jobs maps every one to its counts */
    static const char *const names[] = {"thumbnailGeneration",
                                        "metadataExtraction",
                                        "videoConversion",
                                        "faceDetection",
                                        "facialRecognition",
                                        "smartSearch",
                                        "duplicateDetection",
                                        "backgroundTask",
                                        "storageTemplateMigration",
                                        "migration",
                                        "search",
                                        "sidecar",
                                        "library",
                                        "notifications",
                                        "backupDatabase",
                                        "ocr",
                                        "workflow",
                                        "editor"};
    size_t i, nr = j->dialect < 3 ? 15 : ARRAY_SIZE(names);
    int64_t iv = interval_ms(j);

    buf_addch(b, '{');
    for (i = 0; i < nr; i++) {
        const struct queue *q = NULL;
        long active = 0, waiting = 0, completed = 0, failed = 0;
        size_t k;
        int qi;

        for (qi = 0; qi < Q__NR; qi++)
            if (!strcmp(names[i], queue_names[qi]))
                q = &j->q[qi];
        if (q) {
            for (k = q->head; k < q->nr; k++) {
                /* a job is active for its last 1/rate (at least 1 ms) */
                if (q->items[k].due - (iv > 0 ? iv : 1) <= now)
                    active++;
                else
                    waiting++;
            }
            completed = q->completed;
            failed = q->failed;
        }
        buf_addf(b,
                 "%s\"%s\":{\"jobCounts\":{\"active\":%ld,"
                 "\"completed\":%ld,\"failed\":%ld,\"delayed\":0,"
                 "\"waiting\":%ld,\"paused\":0},\"queueStatus\":"
                 "{\"isActive\":%s,\"isPaused\":false}}",
                 i ? "," : "", names[i], active, completed, failed, waiting,
                 active ? "true" : "false");
    }
    buf_addch(b, '}');
}
