/* dedupe.c - open-addressing hash set with a FIFO ring for eviction. */
#include "ingest/dedupe.h"

#include "err.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct ingest_dedupe {
    pthread_mutex_t mu;
    size_t cap, nslots, head, tombs;
    char **ring; /* insertion order; owns the strings */
    char **slots; /* hash table of pointers into ring; NULL empty, TOMB deleted */
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

/* Slot holding id, or NULL. Lock held. */
static char **find(ingest_dedupe *d, const char *id)
{
    size_t mask = d->nslots - 1;
    for (size_t i = hash(id) & mask, n = 0; n < d->nslots; i = (i + 1) & mask, n++) {
        if (d->slots[i] == NULL) return NULL;
        if (d->slots[i] != TOMB && strcmp(d->slots[i], id) == 0) return &d->slots[i];
    }
    return NULL;
}

int ingest_dedupe_seen(ingest_dedupe *d, const char *id)
{
    pthread_mutex_lock(&d->mu);
    int seen = find(d, id) != NULL;
    pthread_mutex_unlock(&d->mu);
    return seen;
}

void ingest_dedupe_add(ingest_dedupe *d, const char *id)
{
    char *copy = strdup(id);
    if (copy == NULL) return;
    pthread_mutex_lock(&d->mu);
    if (find(d, id)) {
        pthread_mutex_unlock(&d->mu);
        free(copy);
        return;
    }
    char *old = d->ring[d->head];
    if (old) {
        char **slot = find(d, old);
        if (slot) {
            *slot = TOMB;
            d->tombs++;
        }
        free(old);
    }
    d->ring[d->head] = copy;
    d->head = (d->head + 1) % d->cap;
    size_t mask = d->nslots - 1;
    if (d->tombs > d->cap / 2) { /* rebuild so misses stay short */
        memset(d->slots, 0, d->nslots * sizeof *d->slots);
        d->tombs = 0;
        for (size_t k = 0; k < d->cap; k++) {
            if (d->ring[k] == NULL || d->ring[k] == copy) continue;
            size_t j = hash(d->ring[k]) & mask;
            while (d->slots[j] != NULL)
                j = (j + 1) & mask;
            d->slots[j] = d->ring[k];
        }
    }
    size_t i = hash(copy) & mask;
    while (d->slots[i] != NULL && d->slots[i] != TOMB)
        i = (i + 1) & mask;
    d->slots[i] = copy;
    pthread_mutex_unlock(&d->mu);
}
