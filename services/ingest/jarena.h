/* jarena.h - a per-thread bump allocator for jansson while a request body
 * is parsed.
 *
 * Parsing a batch of 500 interactions makes tens of thousands of small
 * jansson allocations, all freed together when the document is released;
 * malloc/free of those were 39% of sp-ingest's CPU (perf, session 4).
 * Between ingest_jarena_begin and ingest_jarena_end on one thread, jansson
 * allocates from that thread's arena and its frees of arena memory are
 * no-ops; ingest_jarena_end makes the arena reusable. Outside a begin/end
 * pair (other threads, other code) jansson uses malloc and free.
 *
 * Rule for callers: nothing jansson allocated between begin and end may be
 * used or freed after end (release the documents before it; copy what you
 * keep). Without ingest_jarena_install, begin and end do nothing. */
#ifndef SP_INGEST_JARENA_H
#define SP_INGEST_JARENA_H

/* Routes jansson's allocations through the arena hooks. Call once at
 * start, before any jansson object exists. */
void ingest_jarena_install(void);

/* Starts (end: finishes) this thread's arena scope. Not nested. */
void ingest_jarena_begin(void);
void ingest_jarena_end(void);

#endif
