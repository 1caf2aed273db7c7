/* clock.c - wall, event-watermark and manual clocks. */
#include "clock.h"

#include "err.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_PARTS 1024

struct part {
    int32_t id;
    int assigned;
    int64_t high; /* highest event time seen; INT64_MIN = none */
    int64_t pending; /* seen in the batch in hand, not yet counted (sp_clock_hold); INT64_MIN = none */
    int64_t held; /* the lowest time of a message the consumer holds back (sp_clock_held); INT64_MAX = none */
    int64_t last_wall; /* wall time of the last event (or of assignment) */
};

struct sp_clock {
    sp_clock_kind kind;
    int64_t idle_grace_ms;
    pthread_mutex_t mu;
    sp_clock_wall_fn wall;
    void *wall_arg;
    sp_clock_behind_fn behind;
    void *behind_arg;
    int64_t manual;
    int64_t watermark;
    int64_t lateness_ms; /* sp_clock_set_lateness */
    int busy; /* a batch in hand: no partition is idle (sp_clock_hold) */
    struct part *parts;
    int nparts;
};

int64_t sp_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t sp_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t default_wall(void *arg)
{
    (void)arg;
    return sp_wall_ms();
}

int sp_clock_kind_parse(const char *s, sp_clock_kind *out)
{
    if (s == NULL) return SP_EINVAL;
    if (strcmp(s, "wall") == 0)
        *out = SP_CLOCK_WALL;
    else if (strcmp(s, "event") == 0)
        *out = SP_CLOCK_EVENT;
    else if (strcmp(s, "manual") == 0)
        *out = SP_CLOCK_MANUAL;
    else
        return SP_EINVAL;
    return SP_OK;
}

int sp_clock_new(sp_clock_kind kind, int64_t idle_grace_ms, sp_clock **out)
{
    sp_clock *c = calloc(1, sizeof *c);
    if (c == NULL) return SP_ENOMEM;
    c->parts = calloc(MAX_PARTS, sizeof *c->parts);
    if (c->parts == NULL) {
        free(c);
        return SP_ENOMEM;
    }
    c->kind = kind;
    c->idle_grace_ms = idle_grace_ms;
    c->wall = default_wall;
    pthread_mutex_init(&c->mu, NULL);
    *out = c;
    return SP_OK;
}

void sp_clock_destroy(sp_clock *c)
{
    if (c == NULL) return;
    pthread_mutex_destroy(&c->mu);
    free(c->parts);
    free(c);
}

sp_clock_kind sp_clock_kind_of(const sp_clock *c)
{
    return c->kind;
}

void sp_clock_set_wall(sp_clock *c, sp_clock_wall_fn fn, void *arg)
{
    pthread_mutex_lock(&c->mu);
    c->wall = fn ? fn : default_wall;
    c->wall_arg = arg;
    pthread_mutex_unlock(&c->mu);
}

void sp_clock_set_behind(sp_clock *c, sp_clock_behind_fn fn, void *arg)
{
    pthread_mutex_lock(&c->mu);
    c->behind = fn;
    c->behind_arg = arg;
    pthread_mutex_unlock(&c->mu);
}

void sp_clock_set_ms(sp_clock *c, int64_t now_ms)
{
    pthread_mutex_lock(&c->mu);
    c->manual = now_ms;
    pthread_mutex_unlock(&c->mu);
}

/* Finds or adds a partition slot; NULL when the table is full. Lock held. */
static struct part *part_get(sp_clock *c, int32_t id)
{
    for (int i = 0; i < c->nparts; i++)
        if (c->parts[i].id == id) return &c->parts[i];
    if (c->nparts == MAX_PARTS) return NULL;
    struct part *p = &c->parts[c->nparts++];
    p->id = id;
    p->high = INT64_MIN;
    p->pending = INT64_MIN;
    p->held = INT64_MAX;
    p->last_wall = c->wall(c->wall_arg);
    return p;
}

/* Recomputes the watermark; it only moves forward. Lock held. */
static void advance(sp_clock *c)
{
    int64_t now = c->wall(c->wall_arg);
    int64_t min_active = INT64_MAX, max_any = INT64_MIN;
    int active = 0, drained = !c->busy;
    for (int i = 0; i < c->nparts; i++) {
        struct part *p = &c->parts[i];
        if (!p->assigned) continue;
        if (p->high > max_any) max_any = p->high;
        if (drained && c->lateness_ms > 0
            && (now - p->last_wall <= c->idle_grace_ms || (c->behind && c->behind(c->behind_arg, p->id))))
            drained = 0;
        /* Only a partition that has never delivered an event can drop out
         * (an empty partition must not hold time back). One that has stays
         * in the minimum even when silent: in a replay a silent partition
         * means its producer stalled, and letting time run past its backlog
         * would make sweeps judge incomplete facts. */
        int idle = p->high == INT64_MIN && !c->busy && now - p->last_wall > c->idle_grace_ms
            && (c->behind == NULL || !c->behind(c->behind_arg, p->id));
        if (idle) continue;
        if (p->high == INT64_MIN) { /* assigned, nothing seen yet, not idle: holds time back */
            min_active = INT64_MIN;
            active = 1;
            continue;
        }
        active = 1;
        if (p->high < min_active) min_active = p->high;
    }
    int64_t wm = active ? min_active : max_any;
    if (wm == INT64_MIN || wm == INT64_MAX) return;
    if (c->lateness_ms > 0 && !drained)
        wm = wm > INT64_MIN + c->lateness_ms ? wm - c->lateness_ms : INT64_MIN;
    if (wm > c->watermark) c->watermark = wm;
}

void sp_clock_set_lateness(sp_clock *c, int64_t lateness_ms)
{
    pthread_mutex_lock(&c->mu);
    c->lateness_ms = lateness_ms > 0 ? lateness_ms : 0;
    pthread_mutex_unlock(&c->mu);
}

void sp_clock_observe(sp_clock *c, int32_t partition, int64_t event_ms)
{
    if (c->kind != SP_CLOCK_EVENT) return;
    pthread_mutex_lock(&c->mu);
    struct part *p = part_get(c, partition);
    if (p) {
        p->assigned = 1;
        p->last_wall = c->wall(c->wall_arg);
        if (c->busy) { /* counted once the batch is done with (sp_clock_hold) */
            if (event_ms > p->pending) p->pending = event_ms;
        } else {
            if (event_ms > p->high) p->high = event_ms;
            advance(c);
        }
    }
    pthread_mutex_unlock(&c->mu);
}

void sp_clock_seed(sp_clock *c, int32_t partition, int64_t high_ms)
{
    if (c->kind != SP_CLOCK_EVENT) return;
    pthread_mutex_lock(&c->mu);
    struct part *p = part_get(c, partition);
    if (p && high_ms > p->high) p->high = high_ms;
    pthread_mutex_unlock(&c->mu);
}

int sp_clock_partition_high(sp_clock *c, int32_t partition, int64_t *high_ms)
{
    int rv = SP_ENOTFOUND;
    pthread_mutex_lock(&c->mu);
    for (int i = 0; i < c->nparts; i++)
        if (c->parts[i].id == partition && c->parts[i].high != INT64_MIN) {
            *high_ms = c->parts[i].high < c->parts[i].held ? c->parts[i].high : c->parts[i].held;
            rv = SP_OK;
        }
    pthread_mutex_unlock(&c->mu);
    return rv;
}

int sp_clock_partition_ahead(sp_clock *c, int32_t partition, int64_t margin_ms)
{
    if (c->kind != SP_CLOCK_EVENT || margin_ms <= 0) return 0;
    int ahead = 0;
    pthread_mutex_lock(&c->mu);
    advance(c);
    /* from the slowest partition's high: the watermark may trail it by the lateness */
    int64_t base = c->watermark + c->lateness_ms;
    int64_t edge = base > INT64_MAX - margin_ms ? INT64_MAX : base + margin_ms;
    for (int i = 0; i < c->nparts; i++)
        if (c->parts[i].id == partition && c->parts[i].assigned && c->parts[i].high != INT64_MIN)
            ahead = c->parts[i].high > edge;
    int slow_behind = 0;
    for (int i = 0; ahead && i < c->nparts && !slow_behind; i++) {
        const struct part *q = &c->parts[i];
        if (!q->assigned || q->high > edge) continue;
        slow_behind = c->behind == NULL || c->behind(c->behind_arg, q->id);
    }
    pthread_mutex_unlock(&c->mu);
    return ahead && slow_behind;
}

void sp_clock_held(sp_clock *c, int32_t partition, int64_t ms)
{
    if (c->kind != SP_CLOCK_EVENT) return;
    pthread_mutex_lock(&c->mu);
    for (int i = 0; i < c->nparts; i++) {
        struct part *p = &c->parts[i];
        if (partition < 0)
            p->held = INT64_MAX;
        else if (p->id == partition && ms < p->held)
            p->held = ms;
    }
    pthread_mutex_unlock(&c->mu);
}

void sp_clock_describe(sp_clock *c, char *buf, size_t cap)
{
    size_t l = 0;
    if (cap) buf[0] = '\0';
    pthread_mutex_lock(&c->mu);
    for (int i = 0; i < c->nparts && l + 1 < cap; i++) {
        int n = snprintf(buf + l, cap - l, "%sp%d=%lld%s", i ? "," : "", (int)c->parts[i].id,
            c->parts[i].high == INT64_MIN ? -1LL : (long long)c->parts[i].high,
            c->parts[i].assigned ? "a" : "-");
        if (n < 0) break;
        l += (size_t)n;
    }
    pthread_mutex_unlock(&c->mu);
}

void sp_clock_assign(sp_clock *c, int32_t partition)
{
    pthread_mutex_lock(&c->mu);
    struct part *p = part_get(c, partition);
    if (p) {
        p->assigned = 1;
        p->last_wall = c->wall(c->wall_arg);
    }
    pthread_mutex_unlock(&c->mu);
}

void sp_clock_revoke(sp_clock *c, int32_t partition)
{
    pthread_mutex_lock(&c->mu);
    for (int i = 0; i < c->nparts; i++)
        if (c->parts[i].id == partition) c->parts[i].assigned = 0;
    pthread_mutex_unlock(&c->mu);
}

void sp_clock_hold(sp_clock *c, int busy)
{
    pthread_mutex_lock(&c->mu);
    c->busy = busy != 0;
    if (!busy) { /* the batch's times count; the idle countdown of every partition starts now */
        int64_t now = c->wall(c->wall_arg);
        for (int i = 0; i < c->nparts; i++) {
            struct part *p = &c->parts[i];
            if (p->pending > p->high) p->high = p->pending;
            p->pending = INT64_MIN;
            if (p->assigned) p->last_wall = now;
        }
        advance(c);
    }
    pthread_mutex_unlock(&c->mu);
}

void sp_clock_discard(sp_clock *c)
{
    pthread_mutex_lock(&c->mu);
    for (int i = 0; i < c->nparts; i++)
        c->parts[i].pending = INT64_MIN;
    pthread_mutex_unlock(&c->mu);
}

int64_t sp_clock_now_ms(sp_clock *c)
{
    switch (c->kind) {
    case SP_CLOCK_WALL: return c->wall(c->wall_arg);
    case SP_CLOCK_MANUAL: {
        pthread_mutex_lock(&c->mu);
        int64_t v = c->manual;
        pthread_mutex_unlock(&c->mu);
        return v;
    }
    case SP_CLOCK_EVENT: {
        pthread_mutex_lock(&c->mu);
        advance(c); /* idle partitions may have dropped out since the last event */
        int64_t v = c->watermark;
        pthread_mutex_unlock(&c->mu);
        return v;
    }
    }
    return 0;
}
