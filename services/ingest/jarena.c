/* jarena.c - a per-thread bump allocator for jansson (see jarena.h). */
#include "ingest/jarena.h"

#include <jansson.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define CHUNK_MIN ((size_t)256 * 1024)

typedef struct chunk {
    struct chunk *next;
    size_t size, used;
    alignas(max_align_t) unsigned char data[];
} chunk;

typedef struct arena {
    chunk *head; /* the chunk being filled; the older ones follow */
    int active;
} arena;

static _Thread_local arena tl;
static int installed;

/* The arena chunk holding p on this thread, or NULL. */
static int owned(const void *p)
{
    for (const chunk *c = tl.head; c; c = c->next)
        if ((const unsigned char *)p >= c->data && (const unsigned char *)p < c->data + c->size) return 1;
    return 0;
}

static void *arena_malloc(size_t n)
{
    if (!tl.active) return malloc(n);
    size_t need = (n + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1);
    if (need < n) return NULL; /* overflow */
    chunk *c = tl.head;
    if (c == NULL || c->size - c->used < need) {
        size_t size = c && c->size * 2 > CHUNK_MIN ? c->size * 2 : CHUNK_MIN;
        while (size < need)
            size *= 2;
        chunk *fresh = malloc(sizeof *fresh + size);
        if (fresh == NULL) return NULL;
        fresh->next = c;
        fresh->size = size;
        fresh->used = 0;
        tl.head = c = fresh;
    }
    void *p = c->data + c->used;
    c->used += need;
    return p;
}

static void arena_free(void *p)
{
    if (p == NULL || (tl.head && owned(p))) return; /* released with the arena */
    free(p);
}

void ingest_jarena_install(void)
{
    json_set_alloc_funcs(arena_malloc, arena_free);
    installed = 1;
}

void ingest_jarena_begin(void)
{
    if (installed) tl.active = 1;
}

void ingest_jarena_end(void)
{
    if (!installed) return;
    tl.active = 0;
    /* keep the newest (largest) chunk for the next request, free the rest;
     * a chunk grown for a huge body is not kept (RSS) */
    chunk *keep = tl.head;
    if (keep == NULL) return;
    if (keep->size > 4 * CHUNK_MIN) {
        for (chunk *c = keep, *next; c; c = next) {
            next = c->next;
            free(c);
        }
        tl.head = NULL;
        return;
    }
    for (chunk *c = keep->next, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    keep->next = NULL;
    keep->used = 0;
}
