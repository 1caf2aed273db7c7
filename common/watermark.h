/* watermark.h - an event-time watermark forwarded to the next hop.
 *
 * With the event clock a consumer may not take the highest event time it
 * has seen on a partition as "everything before has arrived": sp-enrich
 * re-keys by customer, sp-score publishes an event's signals before the
 * sweeps of earlier boundaries have run, a restarted service publishes one
 * input partition's backlog before another's. So each hop stamps what it
 * publishes with a promise - no message it publishes later is dated before
 * this time - in the message's upstream_watermark_ms, and when the promise
 * moved it sends a heartbeat (the message with no payload, event id
 * "wm:<service>:<ms>") to every partition of its output topic, after that
 * batch's outputs, so a partition that gets no further message (the end of
 * a replay) still advances. The next hop's clock observes these promises,
 * not the events' own times:
 *   sp-enrich -> EnrichedInteraction (no interaction)  -> sp-score
 *   sp-score  -> Signal (no subject)                   -> sp-route
 *   sp-route  -> TaskCommand (no task key)             -> sp-taskpool
 * Event clock only; with the wall clock nothing is sent (0). */
#ifndef SP_WATERMARK_H
#define SP_WATERMARK_H

#include "bus.h"
#include "clock.h"

#include <stddef.h>
#include <stdint.h>

/* Builds the heartbeat for watermark ms into buf (cap bytes); the packed
 * length in *len. SP_EINVAL when it does not fit. Pure. */
typedef int (*sp_watermark_pack_fn)(int64_t ms, uint8_t *buf, size_t cap, size_t *len);

typedef struct sp_watermark {
    int32_t partitions; /* of the output topic; 0 until looked up */
    int64_t sent_ms; /* last watermark sent */
    int64_t sent_wall_ms; /* when (heartbeats at most every SP_WM_EVERY_MS) */
} sp_watermark;

#define SP_WM_EVERY_MS 200

/* The clock's watermark as a promise to stamp on outputs: its now, 1 when
 * the event clock has none yet (holds consumers back), 0 for other clocks
 * and NULL. */
int64_t sp_watermark_of(sp_clock *c);

/* Queues pack(wm) on every partition of topic in g when wm > 1 and moved
 * past the last one sent (and, unless force, at least SP_WM_EVERY_MS of
 * wall time passed). *sent = 1 when queued; the caller waits for the group
 * and, if that fails, sets w->sent_ms = 0 to send again. SP_OK; SP_EKAFKA
 * / SP_ENOTFOUND when the partition count cannot be read; SP_EINVAL
 * without a pack function; SP_ENOMEM. */
int sp_watermark_send(sp_watermark *w, sp_watermark_pack_fn pack, int64_t wm, bus_producer *p, bus_group *g,
    const char *topic, int force, int *sent);

/* sp_watermark_send in a delivery group of its own, waited for (a
 * heartbeat between batches or when idle). A failure is logged and the
 * next call sends again; nothing is returned (a heartbeat is progress
 * only, never data). */
void sp_watermark_flush(
    sp_watermark *w, sp_watermark_pack_fn pack, int64_t wm, bus_producer *p, const char *topic, int force);

/* 1 when event_id (may be NULL) is a heartbeat's, "wm:<producer>:<ms>".
 * Consumers take a message as a heartbeat only with such an id and no
 * data: anything else without data is invalid (dead-lettered), not a
 * silent clock tick. */
int sp_watermark_is_heartbeat(const char *event_id);

/* The three heartbeats (sp_watermark_pack_fn), event id "wm:<producer>:<ms>". */
int sp_watermark_pack_enriched(int64_t ms, uint8_t *buf, size_t cap, size_t *len); /* sp-enrich */
int sp_watermark_pack_signal(int64_t ms, uint8_t *buf, size_t cap, size_t *len); /* sp-score */
int sp_watermark_pack_command(int64_t ms, uint8_t *buf, size_t cap, size_t *len); /* sp-route */

#endif
