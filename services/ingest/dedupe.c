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

struct ingest_dedupe {
    pthread_mutex_t mu;
    size_t cap, nslots, head, tombs;
    char **ring; /* insertion order; owns the strings */
    slot *slots; /* open addressing, linear probing */
};

static char tomb_mark;
#define TOMB (&tomb_mark)

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
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

void ingest_dedupe_destroy(ingest_dedupe *d)
{
    if (d == NULL) return;
    for (size_t i = 0; i < d->cap; i++)
        free(d->ring[i]);
    free(d->ring);
    free(d->slots);
    pthread_mutex_destroy(&d->mu);
    free(d);
}

/* Slot holding id (hash h), or NULL. Lock held. */
static slot *find(ingest_dedupe *d, const char *id, uint64_t h)
{
    size_t mask = d->nslots - 1;
    for (size_t i = h & mask, n = 0; n < d->nslots; i = (i + 1) & mask, n++) {
        slot *sl = &d->slots[i];
        if (sl->s == NULL) return NULL;
        if (sl->h == h && sl->s != TOMB && strcmp(sl->s, id) == 0) return sl;
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
        seen[i] = find(d, ids[i], hash(ids[i])) != NULL;
    pthread_mutex_unlock(&d->mu);
}

int ingest_dedupe_seen(ingest_dedupe *d, const char *id)
{
    unsigned char seen = 0;
    ingest_dedupe_seen_n(d, &id, 1, &seen);
    return seen;
}

/* Adds copy (hash h, not yet a member), forgetting the oldest id when full.
 * Lock held; takes ownership of copy. */
static void add_locked(ingest_dedupe *d, char *copy, uint64_t h)
{
    char *old = d->ring[d->head];
    if (old) {
        slot *sl = find(d, old, hash(old));
        if (sl) {
            sl->s = TOMB;
            d->tombs++;
        }
        free(old);
    }
    d->ring[d->head] = copy;
    d->head = (d->head + 1) % d->cap;
    if (d->tombs > d->cap / 2) { /* rebuild so misses stay short */
        memset(d->slots, 0, d->nslots * sizeof *d->slots);
        d->tombs = 0;
        for (size_t k = 0; k < d->cap; k++)
            if (d->ring[k] != NULL && d->ring[k] != copy) place(d, d->ring[k], hash(d->ring[k]));
    }
    place(d, copy, h);
}

void ingest_dedupe_add_n(ingest_dedupe *d, const char *const *ids, size_t n)
{
    pthread_mutex_lock(&d->mu);
    for (size_t i = 0; i < n; i++) {
        uint64_t h = hash(ids[i]);
        if (find(d, ids[i], h)) continue;
        char *copy = strdup(ids[i]);
        if (copy == NULL) break; /* forgetting is safe (see dedupe.h) */
        add_locked(d, copy, h);
    }
    pthread_mutex_unlock(&d->mu);
}

void ingest_dedupe_add(ingest_dedupe *d, const char *id)
{
    ingest_dedupe_add_n(d, &id, 1);
}
