/* watermark.h - sp-enrich's event-time watermark, forwarded downstream.
 *
 * sp-enrich re-keys events by customer, so a partition of sp.enriched.v1 is
 * not in event-time order: a consumer cannot take the highest event time it
 * has seen on a partition as "everything before has arrived". Every
 * EnrichedInteraction therefore carries sp-enrich's watermark at publish
 * time (upstream_watermark_ms), and when the watermark has moved, sp-enrich
 * sends a heartbeat - an EnrichedInteraction with no interaction, event id
 * "wm:sp-enrich:<ms>" - to every partition, after that batch's outputs, so
 * a partition that gets no further events (the end of a replay) still
 * advances. Event clock only; with the wall clock nothing is sent. */
#ifndef SP_ENRICH_WATERMARK_H
#define SP_ENRICH_WATERMARK_H

#include "bus.h"
#include "clock.h"

#include <stdint.h>

typedef struct enrich_watermark {
    int32_t partitions; /* of the output topic; 0 until looked up */
    int64_t sent_ms; /* last watermark sent */
    int64_t sent_wall_ms; /* when (heartbeats at most every SP_WM_EVERY_MS) */
} enrich_watermark;

#define ENRICH_WM_EVERY_MS 200

/* The watermark to put into an EnrichedInteraction: the clock's now, 1 when
 * the event clock has none yet (holds consumers back), 0 for other clocks. */
int64_t enrich_watermark_now(sp_clock *c);

/* Queues a heartbeat on every partition of topic in g when the event
 * clock's watermark moved since the last one (and, unless force, at least
 * ENRICH_WM_EVERY_MS of wall time passed). *sent = 1 when queued. SP_OK;
 * SP_EKAFKA / SP_ENOTFOUND when the partition count cannot be read;
 * SP_ENOMEM. Nothing is queued on error. */
int enrich_watermark_send(
    enrich_watermark *w, sp_clock *c, bus_producer *p, bus_group *g, const char *topic, int force, int *sent);

/* Builds a heartbeat message for watermark ms into buf (cap bytes); the
 * packed length in *len. SP_EINVAL when it does not fit. Pure. */
int enrich_watermark_pack(int64_t ms, uint8_t *buf, size_t cap, size_t *len);

#endif
