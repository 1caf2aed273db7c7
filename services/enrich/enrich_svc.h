/* enrich_svc.h - sp-enrich's consumer: Interactions in, extraction, identity
 * resolution, facts and card in PostgreSQL (enrich_apply_batch: one
 * transaction per batch, one round trip per chunk of ENRICH_CHUNK documents,
 * the next chunk extracted while PostgreSQL applies the last), then
 * EnrichedInteractions out keyed by customer id. */
#ifndef SP_ENRICH_SVC_H
#define SP_ENRICH_SVC_H

#include "bus.h"
#include "clock.h"
#include "db.h"
#include "enrich/extract.h"
#include "watermark.h"
#include "metrics.h"
#include "salespulse/v1/enriched.pb-c.h"

#include <jansson.h>

/* Most documents per round trip within a batch (SP_MAX_BATCH, default
 * 2000): the next chunk is extracted while PostgreSQL applies this one; a
 * batch starts with ENRICH_CHUNK / 8 and doubles. 250 -> 500 cut
 * PostgreSQL's CPU per interaction by 8% (fewer updates of the same rows). */
#define ENRICH_CHUNK 500

typedef struct enrich_svc {
    const extract_engine *engine; /* borrowed */
    bus_producer *producer; /* borrowed */
    sp_clock *clock; /* borrowed */
    const char *tz; /* tenant zone */
    const char *out_topic;
    size_t chunk; /* documents per round trip; 0 = ENRICH_CHUNK */
    /* 1 when no other instance applies batches now (the service: its
     * consumer holds every input partition), and enrich_lock is skipped;
     * NULL: always locked */
    int (*sole)(void *arg);
    void *sole_arg;
    unsigned long applied, duplicates, dead;
    unsigned long locked; /* batches that took enrich_lock */
    sp_watermark wm; /* heartbeats sent downstream (event clock) */
    int64_t promise_ms; /* the watermark when the batch began: stamped on its outputs */
} enrich_svc;

/* sp_service_batch_fn for Interaction messages. */
void enrich_svc_batch(
    void *arg, sp_db *db, const bus_msg *msgs, size_t n, bus_result *res, char (*reasons)[BUS_REASON_LEN]);

/* The service's on_idle hook: forwards a watermark the clock reached while
 * no input arrived (partitions dropping out as idle), so the end of a
 * replay reaches every downstream partition. */
void enrich_svc_idle(void *arg, sp_db *db);

/* Validates a decoded interaction as the service requires (event id, event
 * time, known channel, UTF-8 text and turns). SP_OK, or SP_EINVAL with the
 * field and problem in why. Pure. */
int enrich_validate(const Salespulse__V1__Interaction *ix, char *why, size_t cap);

/* Builds the enrich_apply document for ix and its extraction (er may be
 * NULL when the channel carries no words). Caller json_decref's. Pure. */
json_t *enrich_doc_build(const Salespulse__V1__Interaction *ix, const extract_result *er,
    const char *extraction_json, const char *party_role);

#endif
