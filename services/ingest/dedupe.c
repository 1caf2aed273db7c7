/* dedupe.c - open-addressing hash set with a FIFO ring for eviction. */
#include "ingest/dedupe.h"

#include "err.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A slot keeps the id's hash beside its pointer, so a probe compares hashes
 * in one contiguous array and reads an id's string only on a hash match
 * (the strings are scattered: each probe used to cost a cache miss). */
typedef struct slot {
    uint64_t h;
    char *s; /* NULL empty, TOMB deleted, else an id owned by the ring */
} slot;

/* Ids shorter than this (sp-ingest's are 35 bytes) are kept in the ring's own
 * storage: no malloc and free per id. */
#define INLINE_LEN 40

/* A ring entry: the id (in inl, or on the heap when longer) and its hash,
 * so forgetting it finds its slot by pointer without hashing or reading
 * the string again. */
typedef struct entry {
    uint64_t h;
    char *s; /* NULL: empty; inl or a heap copy */
    char inl[INLINE_LEN];
} entry;

struct ingest_dedupe {
    pthread_mutex_t mu;
    size_t cap, nslots, head, tombs;
    entry *ring; /* insertion order; owns the strings */
    slot *slots; /* open addressing, linear probing */
};

static char tomb_mark;
#define TOMB (&tomb_mark)

static uint64_t hash(const char *s, size_t *len)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    const char *p = s;
    for (; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    if (len) *len = (size_t)(p - s);
    return h;
}

int ingest_dedupe_new(size_t cap, ingest_dedupe **out)
{
    ingest_dedupe *d = calloc(1, sizeof *d);
    if (d == NULL) return SP_ENOMEM;
    d->cap = cap ? cap : 1;
    d->nslots = 1;
    while (d->nslots < d->cap * 2)
        d->nslots <<= 1;
    d->ring = calloc(d->cap, sizeof *d->ring);
    d->slots = calloc(d->nslots, sizeof *d->slots);
    if (!d->ring || !d->slots) {
        free(d->ring);
        free(d->slots);
        free(d);
        return SP_ENOMEM;
    }
    pthread_mutex_init(&d->mu, NULL);
    *out = d;
    return SP_OK;
}

/* Frees entry e's id if it is a heap copy, and empties e. */
static void entry_clear(entry *e)
{
    if (e->s != NULL && e->s != e->inl) free(e->s);
    e->s = NULL;
}

void ingest_dedupe_destroy(ingest_dedupe *d)
{
    if (d == NULL) return;
    for (size_t i = 0; i < d->cap; i++)
        entry_clear(&d->ring[i]);
    free(d->ring);
    free(d->slots);
    pthread_mutex_destroy(&d->mu);
    free(d);
}

/* Slot holding id (hash h), or NULL. Lock held. Each id is in the set
 * once, so the ring's own string (forgetting it) matches by pointer
 * without reading it. */
static slot *find(ingest_dedupe *d, const char *id, uint64_t h)
{
    size_t mask = d->nslots - 1;
    for (size_t i = h & mask, n = 0; n < d->nslots; i = (i + 1) & mask, n++) {
        slot *sl = &d->slots[i];
        if (sl->s == NULL) return NULL;
        if (sl->s == id || (sl->h == h && sl->s != TOMB && strcmp(sl->s, id) == 0)) return sl;
    }
    return NULL;
}

/* Puts s (hash h) in the first free or deleted slot. Lock held. */
static void place(ingest_dedupe *d, char *s, uint64_t h)
{
    size_t mask = d->nslots - 1, i = h & mask;
    while (d->slots[i].s != NULL && d->slots[i].s != TOMB)
        i = (i + 1) & mask;
    d->slots[i].h = h;
    d->slots[i].s = s;
}

void ingest_dedupe_seen_n(ingest_dedupe *d, const char *const *ids, size_t n, unsigned char *seen)
{
    pthread_mutex_lock(&d->mu);
    for (size_t i = 0; i < n; i++)
        seen[i] = find(d, ids[i], hash(ids[i], NULL)) != NULL;
    pthread_mutex_unlock(&d->mu);
}

int ingest_dedupe_seen(ingest_dedupe *d, const char *id)
{
    unsigned char seen = 0;
    ingest_dedupe_seen_n(d, &id, 1, &seen);
    return seen;
}

/* Adds id (len bytes, hash h, not yet a member), forgetting the oldest id
 * when full. Lock held. SP_ENOMEM when a long id cannot be copied (then
 * nothing changed). */
static int add_locked(ingest_dedupe *d, const char *id, size_t len, uint64_t h)
{
    entry *e = &d->ring[d->head];
    char *heap = NULL;
    if (len >= INLINE_LEN && (heap = strdup(id)) == NULL) return SP_ENOMEM;
    if (e->s) {
        slot *sl = find(d, e->s, e->h);
        if (sl) {
            sl->s = TOMB;
            d->tombs++;
        }
        entry_clear(e);
    }
    if (heap) {
        e->s = heap;
    } else {
        memcpy(e->inl, id, len + 1);
        e->s = e->inl;
    }
    e->h = h;
    d->head = (d->head + 1) % d->cap;
    if (d->tombs > d->cap / 2) { /* rebuild so misses stay short */
        memset(d->slots, 0, d->nslots * sizeof *d->slots);
        d->tombs = 0;
        for (size_t k = 0; k < d->cap; k++)
            if (d->ring[k].s != NULL && &d->ring[k] != e) place(d, d->ring[k].s, d->ring[k].h);
    }
    place(d, e->s, h);
    return SP_OK;
}

void ingest_dedupe_add_n(ingest_dedupe *d, const char *const *ids, size_t n)
{
    pthread_mutex_lock(&d->mu);
    for (size_t i = 0; i < n; i++) {
        size_t len;
        uint64_t h = hash(ids[i], &len);
        if (find(d, ids[i], h)) continue;
        if (add_locked(d, ids[i], len, h) != SP_OK) break; /* forgetting is safe (see dedupe.h) */
    }
    pthread_mutex_unlock(&d->mu);
}

void ingest_dedupe_add(ingest_dedupe *d, const char *id)
{
    ingest_dedupe_add_n(d, &id, 1);
}
