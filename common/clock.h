/* clock.h - the injectable service clock.
 *
 * Business logic never reads the system time: it asks a clock.
 *  - wall:   the system's real time (production).
 *  - event:  a watermark of event time (replays, tests, the demo): the
 *            minimum over the partitions this consumer holds of the highest
 *            event time seen on each. A partition that has never delivered
 *            an event drops out after idle_grace_ms of wall time once it is
 *            not behind (an empty partition does not hold time back); one
 *            that has delivered events always counts, so a stalled producer
 *            upstream stops time instead of letting it run past its backlog.
 *            The watermark never goes backwards; 0 until an event is seen.
 *  - manual: set explicitly (unit tests).
 * All functions are thread-safe. */
#ifndef SP_CLOCK_H
#define SP_CLOCK_H

#include <stddef.h>
#include <stdint.h>

typedef enum sp_clock_kind {
    SP_CLOCK_WALL = 0,
    SP_CLOCK_EVENT,
    SP_CLOCK_MANUAL,
} sp_clock_kind;

typedef struct sp_clock sp_clock;

/* Wall-time source, injectable so idle-partition handling is testable. */
typedef int64_t (*sp_clock_wall_fn)(void *arg);

/* Parses "wall", "event" or "manual". SP_EINVAL otherwise. */
int sp_clock_kind_parse(const char *s, sp_clock_kind *out);

/* Creates a clock; caller frees with sp_clock_destroy. SP_ENOMEM on failure. */
int sp_clock_new(sp_clock_kind kind, int64_t idle_grace_ms, sp_clock **out);
void sp_clock_destroy(sp_clock *c);

sp_clock_kind sp_clock_kind_of(const sp_clock *c);

/* Replaces the wall-time source (default: CLOCK_REALTIME in ms). */
void sp_clock_set_wall(sp_clock *c, sp_clock_wall_fn fn, void *arg);

/* Now in ms since the epoch: wall time, the event watermark, or the manual value. */
int64_t sp_clock_now_ms(sp_clock *c);

/* Manual clock: sets now. Ignored by other kinds. */
void sp_clock_set_ms(sp_clock *c, int64_t now_ms);

/* Event clock: events may arrive up to lateness_ms out of event-time
 * order within a partition (e.g. a replay posting in windows over several
 * connections). The watermark then stays lateness_ms behind the minimum
 * of the partitions' highs, except once the input is drained - no batch
 * in hand, no partition behind, nothing new for idle_grace_ms of wall time
 * - when what has arrived is all there is. 0 (default): none. */
void sp_clock_set_lateness(sp_clock *c, int64_t lateness_ms);

/* Event clock: an event with time event_ms was read from partition. A
 * partition not yet assigned is assigned implicitly. */
void sp_clock_observe(sp_clock *c, int32_t partition, int64_t event_ms);

/* Event clock: the consumer has a batch in hand (busy = 1) or is done with
 * it (busy = 0). While busy no partition counts as idle: a partition the
 * batch does not serve may still have a backlog, and dropping it would let
 * the watermark jump over its events (sweeps would skip their boundaries).
 * Times observed while busy count only when the batch is done with (busy =
 * 0) and not discarded: a batch that will be redelivered must not move time
 * past its own events (sweeps and promises downstream would run ahead of
 * them). So a handler reading the clock sees it as before its batch.
 * Leaving busy restarts every partition's idle countdown. */
void sp_clock_hold(sp_clock *c, int busy);

/* Event clock: forgets the times observed since sp_clock_hold(c, 1) (the
 * batch is retried). Call before sp_clock_hold(c, 0). */
void sp_clock_discard(sp_clock *c);

/* Event clock: whether a partition may still have events to deliver (the
 * consumer has not reached its end). A partition that is behind never
 * counts as idle, whatever the grace period: after a restart a slow first
 * fetch must not let the watermark jump over its backlog. NULL: no check. */
typedef int (*sp_clock_behind_fn)(void *arg, int32_t partition);
void sp_clock_set_behind(sp_clock *c, sp_clock_behind_fn fn, void *arg);

/* Event clock: partition delivered events up to high_ms before this
 * process started (persisted by the service). It then counts like a
 * partition that delivered them here - never idle - once assigned; it is
 * not assigned by this call. */
void sp_clock_seed(sp_clock *c, int32_t partition, int64_t high_ms);

/* Event clock: the consumer holds back (BUS_DEFER) a message of partition
 * whose time (promise) is ms; partition -1 forgets every such note (call
 * before noting a batch's). The watermark is unchanged - a held message
 * is known - but sp_clock_partition_high reports no more than the lowest
 * held time: a restart reads the held messages again, so a checkpoint must
 * not promise past them. */
void sp_clock_held(sp_clock *c, int32_t partition, int64_t ms);

/* Event clock: the highest event time seen (or seeded) on partition, in
 * *high_ms, but no more than its lowest held time (sp_clock_held). 0 when
 * known, SP_ENOTFOUND when nothing was seen. */
int sp_clock_partition_high(sp_clock *c, int32_t partition, int64_t *high_ms);

/* Event clock: 1 when partition has delivered events more than margin_ms
 * past the slowest partition (the watermark plus the lateness, which the
 * watermark trails it by) while a slow one (within margin_ms of that, or
 * nothing delivered yet) still has events to deliver
 * (the behind check): the consumer may pause the one ahead until the slow
 * one catches up. 0 otherwise - never for the partition at the watermark,
 * nor when every slow one is drained (nothing would wake the paused) - and
 * for other kinds or margin_ms <= 0. */
int sp_clock_partition_ahead(sp_clock *c, int32_t partition, int64_t margin_ms);

/* The per-partition state as text ("p0=<high>[a|-],..."; a = assigned),
 * for log lines. */
void sp_clock_describe(sp_clock *c, char *buf, size_t cap);

/* Event clock: the consumer gained / lost a partition (rebalance). */
void sp_clock_assign(sp_clock *c, int32_t partition);
void sp_clock_revoke(sp_clock *c, int32_t partition);

/* The real time in ms (CLOCK_REALTIME); for latency measurements and log
 * lines only, never for business decisions. */
int64_t sp_wall_ms(void);

/* A monotonic time in microseconds (CLOCK_MONOTONIC), for measuring how
 * long work took (metrics); its origin means nothing. */
int64_t sp_mono_us(void);

#endif
