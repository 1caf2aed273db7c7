/* dedupe.h - a bounded set of recently published event ids, so a client's
 * retry (or WeCom's redelivery of a MsgId) publishes nothing new. Ids leave
 * in insertion order once the capacity is reached; downstream consumers
 * dedupe by event id anyway, so forgetting is safe. Thread-safe. */
#ifndef SP_INGEST_DEDUPE_H
#define SP_INGEST_DEDUPE_H

#include <stddef.h>

typedef struct ingest_dedupe ingest_dedupe;

/* Creates a set holding up to cap ids. SP_ENOMEM. Caller frees with
 * ingest_dedupe_destroy. */
int ingest_dedupe_new(size_t cap, ingest_dedupe **out);
void ingest_dedupe_destroy(ingest_dedupe *d);

/* 1 when id is in the set. */
int ingest_dedupe_seen(ingest_dedupe *d, const char *id);

/* seen[i] = 1 when ids[i] is in the set, else 0; one lock for the lot
 * (a request's 500 ids each taking the lock made the HTTP workers queue
 * on it). */
void ingest_dedupe_seen_n(ingest_dedupe *d, const char *const *ids, size_t n, unsigned char *seen);

/* Adds id (after the broker acknowledged it). Out of memory: not added
 * (forgetting is safe, above). */
void ingest_dedupe_add(ingest_dedupe *d, const char *id);

/* Adds ids[0..n) under one lock. */
void ingest_dedupe_add_n(ingest_dedupe *d, const char *const *ids, size_t n);

#endif
