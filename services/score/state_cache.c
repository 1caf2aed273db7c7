/* state_cache.c - signal states of one transaction, written back at once. */
#include "score/state_cache.h"

#include "score/sqlbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    char *subject, *variant; /* NULL subject: free slot */
    score_kind kind;
    uint64_t hash;
    int live; /* 0: created by an item that was undone */
    score_state st, prev;
    int64_t at_ms, prev_at_ms;
    unsigned gen; /* item that last changed it */
    int created; /* created by item gen (undo kills it) */
    int clean; /* 1: loaded ahead, unchanged (flush skips it); 2: first changed by item gen */
} entry;

struct score_state_cache {
    entry *slot;
    size_t cap, used; /* used counts occupied slots, live or not */
    unsigned gen;
};

#define INITIAL_CAP 1024

static uint64_t key_hash(score_kind kind, const char *subject, const char *variant)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)kind;
    for (const char *s = subject; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
    for (const char *s = variant; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static entry *find(
    const score_state_cache *c, score_kind kind, const char *subject, const char *variant, uint64_t h)
{
    for (size_t i = h & (c->cap - 1);; i = (i + 1) & (c->cap - 1)) {
        entry *e = &c->slot[i];
        if (!e->subject) return e;
        if (e->hash == h && e->kind == kind && !strcmp(e->subject, subject) && !strcmp(e->variant, variant))
            return e;
    }
}

sp_err score_state_cache_new(score_state_cache **out)
{
    score_state_cache *c = calloc(1, sizeof *c);
    if (!c || !(c->slot = calloc(INITIAL_CAP, sizeof *c->slot))) {
        free(c);
        return SP_ENOMEM;
    }
    c->cap = INITIAL_CAP;
    *out = c;
    return SP_OK;
}

void score_state_cache_reset(score_state_cache *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->cap; i++) {
        free(c->slot[i].subject);
        free(c->slot[i].variant);
    }
    memset(c->slot, 0, c->cap * sizeof *c->slot);
    c->used = 0;
}

void score_state_cache_destroy(score_state_cache *c)
{
    if (!c) return;
    score_state_cache_reset(c);
    free(c->slot);
    free(c);
}

void score_state_cache_item_begin(score_state_cache *c)
{
    c->gen++;
}

void score_state_cache_item_undo(score_state_cache *c)
{
    for (size_t i = 0; i < c->cap; i++) {
        entry *e = &c->slot[i];
        if (!e->subject || e->gen != c->gen) continue;
        if (e->created) {
            e->live = 0;
        } else {
            e->st = e->prev;
            e->at_ms = e->prev_at_ms;
            if (e->clean == 2) e->clean = 1; /* loaded ahead, first changed by this item */
        }
        e->gen = 0;
    }
}

int score_state_cache_get(const score_state_cache *c, score_kind kind, const char *subject,
    const char *variant, score_state *out, int64_t *at_ms)
{
    entry *e = find(c, kind, subject, variant, key_hash(kind, subject, variant));
    if (!e->subject || !e->live) return 0;
    *out = e->st;
    if (at_ms) *at_ms = e->at_ms;
    return 1;
}

/* Doubles the table; entries keep their strings. */
static sp_err grow(score_state_cache *c)
{
    score_state_cache n = {calloc(c->cap * 2, sizeof(entry)), c->cap * 2, c->used, c->gen};
    if (!n.slot) return SP_ENOMEM;
    for (size_t i = 0; i < c->cap; i++)
        if (c->slot[i].subject)
            *find(&n, c->slot[i].kind, c->slot[i].subject, c->slot[i].variant, c->slot[i].hash) = c->slot[i];
    free(c->slot);
    *c = n;
    return SP_OK;
}

sp_err score_state_cache_put(score_state_cache *c, score_kind kind, const char *subject, const char *variant,
    const score_state *st, int64_t now_ms)
{
    if (!c || !subject || !st) return SP_EINVAL;
    if (!variant) variant = "";
    if ((c->used + 1) * 2 > c->cap && grow(c) != SP_OK) return SP_ENOMEM;
    uint64_t h = key_hash(kind, subject, variant);
    entry *e = find(c, kind, subject, variant, h);
    if (!e->subject) {
        char *s = strdup(subject), *v = strdup(variant);
        if (!s || !v) {
            free(s);
            free(v);
            return SP_ENOMEM;
        }
        *e = (entry) {.subject = s, .variant = v, .kind = kind, .hash = h, .gen = c->gen, .created = 1};
        c->used++;
    } else if (!e->live) { /* revived by a later item */
        e->gen = c->gen;
        e->created = 1;
    } else if (e->gen != c->gen) {
        e->prev = e->st;
        e->prev_at_ms = e->at_ms;
        e->gen = c->gen;
        e->created = 0;
        /* loaded ahead: this item's undo makes it clean again; an earlier
         * item's change stands (dirty for good) */
        e->clean = e->clean == 1 ? 2 : 0;
    }
    e->live = 1;
    e->st = *st;
    e->at_ms = now_ms;
    return SP_OK;
}

sp_err score_state_cache_load(score_state_cache *c, score_kind kind, const char *subject, const char *variant,
    const score_state *st, int64_t at_ms)
{
    if (!c || !subject || !st) return SP_EINVAL;
    if (!variant) variant = "";
    if ((c->used + 1) * 2 > c->cap && grow(c) != SP_OK) return SP_ENOMEM;
    uint64_t h = key_hash(kind, subject, variant);
    entry *e = find(c, kind, subject, variant, h);
    if (e->subject) return SP_OK;
    char *sj = strdup(subject), *v = strdup(variant);
    if (!sj || !v) {
        free(sj);
        free(v);
        return SP_ENOMEM;
    }
    *e = (entry) {.subject = sj,
        .variant = v,
        .kind = kind,
        .hash = h,
        .live = 1,
        .st = *st,
        .at_ms = at_ms,
        .clean = 1};
    c->used++;
    return SP_OK;
}

score_state score_state_from_row(const PGresult *q, int row, int col)
{
    score_state st = {.active = PQgetvalue(q, row, col)[0] == 't',
        .episode = (uint32_t)strtoll(PQgetvalue(q, row, col + 1), NULL, 10),
        .revision = (uint32_t)strtoll(PQgetvalue(q, row, col + 2), NULL, 10),
        .level = atoi(PQgetvalue(q, row, col + 3)),
        .last_value = strtod(PQgetvalue(q, row, col + 4), NULL),
        .raised_at_ms = strtoll(PQgetvalue(q, row, col + 5), NULL, 10),
        .changed_at_ms = strtoll(PQgetvalue(q, row, col + 6), NULL, 10),
        .clear_pending_since_ms = strtoll(PQgetvalue(q, row, col + 7), NULL, 10),
        .evidence_hash = (uint64_t)strtoll(PQgetvalue(q, row, col + 8), NULL, 10)};
    return st;
}

size_t score_state_cache_count(const score_state_cache *c)
{
    size_t n = 0;
    for (size_t i = 0; c && i < c->cap; i++)
        n += c->slot[i].subject && c->slot[i].live;
    return n;
}

size_t score_state_cache_dirty(const score_state_cache *c)
{
    size_t n = 0;
    for (size_t i = 0; c && i < c->cap; i++)
        n += c->slot[i].subject && c->slot[i].live && c->slot[i].clean != 1;
    return n;
}

enum {
    C_KIND,
    C_TYPE,
    C_ID,
    C_VAR,
    C_ACTIVE,
    C_EPISODE,
    C_REVISION,
    C_LEVEL,
    C_VALUE,
    C_RAISED,
    C_CHANGED,
    C_PENDING,
    C_HASH,
    C_AT,
    N_COLS
};

sp_err score_state_cache_flush(score_state_cache *c, sp_db *db)
{
    if (!c || !db) return SP_EINVAL;
    score_sqlbuf col[N_COLS] = {{0}};
    sp_err rv = SP_OK;
    size_t n = 0;
    for (int k = 0; k < N_COLS; k++)
        score_sqlbuf_puts(&col[k], "{");
    for (size_t i = 0; i < c->cap; i++) {
        const entry *e = &c->slot[i];
        if (!e->subject || !e->live || e->clean == 1) continue;
        const score_state *st = &e->st;
        char v[N_COLS][40];
        snprintf(v[C_ACTIVE], 40, "%s", st->active ? "t" : "f");
        snprintf(v[C_EPISODE], 40, "%u", st->episode);
        snprintf(v[C_REVISION], 40, "%u", st->revision);
        snprintf(v[C_LEVEL], 40, "%d", st->level);
        snprintf(v[C_VALUE], 40, "%.17g", st->last_value == st->last_value ? st->last_value : 0.0);
        snprintf(v[C_RAISED], 40, "%lld", (long long)st->raised_at_ms);
        snprintf(v[C_CHANGED], 40, "%lld", (long long)st->changed_at_ms);
        snprintf(v[C_PENDING], 40, "%lld", (long long)st->clear_pending_since_ms);
        snprintf(v[C_HASH], 40, "%lld", (long long)(int64_t)st->evidence_hash);
        snprintf(v[C_AT], 40, "%lld", (long long)e->at_ms);
        score_sqlbuf_elem(&col[C_KIND], score_kind_name(e->kind), 0);
        score_sqlbuf_elem(&col[C_TYPE], score_subject_type_name(score_kind_subject(e->kind)), 0);
        score_sqlbuf_elem(&col[C_ID], e->subject, 0);
        score_sqlbuf_elem(&col[C_VAR], e->variant, 0);
        for (int k = C_ACTIVE; k < N_COLS; k++)
            score_sqlbuf_elem(&col[k], v[k], 1);
        n++;
    }
    const char *p[N_COLS];
    for (int k = 0; k < N_COLS; k++) {
        score_sqlbuf_puts(&col[k], "}");
        if (col[k].oom) rv = SP_ENOMEM;
        p[k] = col[k].p;
    }
    if (rv == SP_OK && n)
        rv = sp_db_exec(db,
            "INSERT INTO signal_state AS s (kind, subject_type, subject_id, variant, active, episode, "
            "revision, "
            "level, last_value, raised_at_ms, changed_at_ms, clear_pending_since_ms, evidence_hash, "
            "updated_at) "
            "SELECT k, t, i, v, a, e, r, l, lv, ra, ch, pe, h, score_ts(at) FROM unnest($1::text[], "
            "$2::text[], $3::text[], $4::text[], $5::boolean[], $6::bigint[], $7::bigint[], $8::smallint[], "
            "$9::float8[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[]) "
            "u(k, t, i, v, a, e, r, l, lv, ra, ch, pe, h, at) "
            "ON CONFLICT (kind, subject_type, subject_id, variant) DO UPDATE SET active = EXCLUDED.active, "
            "episode = EXCLUDED.episode, revision = EXCLUDED.revision, level = EXCLUDED.level, "
            "last_value = EXCLUDED.last_value, raised_at_ms = EXCLUDED.raised_at_ms, "
            "changed_at_ms = EXCLUDED.changed_at_ms, clear_pending_since_ms = "
            "EXCLUDED.clear_pending_since_ms, evidence_hash = EXCLUDED.evidence_hash, updated_at = "
            "EXCLUDED.updated_at",
            N_COLS, p, NULL);
    for (int k = 0; k < N_COLS; k++)
        free(col[k].p);
    return rv;
}
