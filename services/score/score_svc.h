/* score_svc.h - sp-score's consumer: EnrichedInteractions in, signal state
 * in PostgreSQL, Signals out (sp.signals.v1, key = subject id), plus the
 * clock sweeps for the signals that fire when nothing happens.
 *
 * Events: each EnrichedInteraction is deduplicated through processed_events
 * (consumer 'sp-score') in the batch transaction, re-evaluates the kinds
 * score_enriched_triggers names at now = the event's occurred_at, and queues
 * the resulting Signals in the batch's delivery group (sp_tx_batch waits for
 * the broker, then commits).
 *
 * Sweeps: boundaries are the multiples of sweep_every_ms; each boundary T
 * that the clock (event watermark or wall time) has passed is run once, in
 * order, at now = T, in one transaction holding a PostgreSQL advisory lock
 * (several instances never run the same boundary twice) and recording T in
 * score_sweeps. Each kind reads only what crossed its threshold between the
 * previous boundary and T (indexed slices of time), plus active states that
 * may clear (window signals, pending clears). */
#ifndef SCORE_SVC_H
#define SCORE_SVC_H

#include "bus.h"
#include "clock.h"
#include "db.h"
#include "metrics.h"
#include "score/calendar.h"
#include "score/rules.h"
#include "score/state_cache.h"
#include "watermark.h"

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#define SCORE_SWEEP_MAX_STEPS 48 /* boundaries run per call; the rest on the next calls */

/* What sp-score's time goes on (busy_us, sp_score_busy_seconds_total). */
enum { SCORE_BUSY_EVENTS, SCORE_BUSY_SWEEPS, SCORE_BUSY_HEALTH, SCORE_BUSY_KINDS };

typedef struct score_svc {
    score_rules *rules; /* owned; replaced between batches by score_svc_reload */
    const score_calendar *cal; /* borrowed */
    bus_producer *producer; /* borrowed */
    sp_clock *clock; /* borrowed */
    const char *signals_topic; /* SP_TOPIC_SIGNALS */
    const char *tenant_id; /* "" allowed */
    const char *rules_path; /* for reloads */
    int64_t sweep_every_ms; /* > 0 */
    volatile sig_atomic_t *reload; /* set by SIGHUP; may be NULL */
    int64_t next_sweep_ms; /* no boundary is due before this */
    unsigned long events, duplicates, dead, signals, boundaries;
    char **health_deals; /* deals to re-score (with the event time of each note) */
    int64_t *health_at;
    size_t n_health, cap_health;
    size_t n_health_kept; /* notes of committed batches; the rest belong to the batch running */
    int64_t health_every_ms; /* re-score at most this often (wall); 0: after every batch */
    int64_t health_due_ms; /* wall time of the next re-score */
    int64_t health_refresh_ms; /* a local day began at this boundary: every open deal is re-scored; 0: none */
    char *health_refresh_after; /* the last deal id of the refresh's previous round; NULL: none yet */
    unsigned long health_refreshed; /* deals re-scored by refreshes */
    int64_t rollups_due_ms; /* a local day began here: the roll-ups as of it (rollups.h); 0: none */
    int rollups_failed; /* attempts at rollups_due_ms that failed */
    struct score_event_lock *event_lock; /* borrowed; event clock: held while applying (event_lock.h) */
    int writer_lost; /* another instance took it: stopping */
    score_state_cache *states; /* the current transaction's states; created on first use */
    struct score_batch *batch; /* the optimistic pass's prefetch; created on first use */
    int memo_live; /* the memo may answer: the transaction's rows stand still (optimistic pass, sweeps) */
    struct score_memo
        *memo; /* the fact queries of the current transaction (optimistic pass); created on first use */
    int prepared; /* batch prepared for the current pass */
    int64_t sweep_done_ms; /* the last boundary known swept (score_sweeps) */
    int64_t sweep_origin_ms; /* event clock, before any sweep: the boundary the first starts after */
    int64_t promise_ms; /* event clock: stamped on signals; no later signal is dated before it */
    /* event clock: events after an unswept boundary are held (BUS_DEFER) */
    int64_t hold_min_ms; /* the earliest event held or to be retried; 0: none (sweeps stop before it) */
    size_t hold_max; /* held events at most (the consumer's room); 0: 2000. Beyond: the earliest go ahead */
    unsigned long prefetched, prefetch_rounds; /* fact queries run ahead in pipelines, and the pipelines */
    unsigned long applied_ahead; /* events applied ahead of their sweeps (input stopped, or too many held) */
    sp_metric *m_ahead, *m_held; /* the same, and events held now, at /metrics; may be NULL */
    sp_metric *m_busy; /* seconds spent applying events, sweeping, re-scoring health; may be NULL */
    int64_t busy_us[SCORE_BUSY_KINDS]; /* the same, for the exit log */
    const int64_t *tail; /* boundaries swept in the current event transaction (apply_ordered) */
    size_t n_tail, tail_ran; /* their count; how many it ran */
    int64_t tail_done; /* the last boundary done once it commits */
    int first_visit_stale; /* new rules: sweeps judge every region's first visits until one commits */
    int64_t hold_flush_ms; /* the input stopped this long (wall): apply what is held; 0: 3 s */
    int64_t hold_seen_ms, hold_since_wall_ms; /* the clock when the input stopped, and since when */
    const char *upstream_bootstrap, *upstream_group, *upstream_topic; /* its lag: has the input stopped? */
    bus_lag *upstream_lag; /* the reader of that lag while the input looks stopped; NULL otherwise */
    /* the batch's messages decoded once, on first use (score_svc_batch) */
    struct score_decoded *dec; /* aligned with the batch; freed when it ends */
    size_t n_dec;
    const bus_msg *cur_msgs; /* the messages of the transaction running (apply_msgs) */
    const size_t *cur_idx; /* their indexes in the batch; NULL: the batch itself */
    size_t n_cur;
    sp_watermark wm; /* the promise's heartbeats to sp-route */
} score_svc;

/* sp_service_batch_fn for EnrichedInteraction messages; after the batch
 * re-scores the health of the deals touched since the last re-score
 * (score_health_update_many; at most every health_every_ms of wall time,
 * checked after each batch and when idle) and runs due sweeps. With the
 * event clock the batch goes in event-time order with the sweeps between
 * its events, and events after the first boundary the watermark has not
 * passed answer BUS_DEFER (held, handed over again) until it has, or until
 * the input stops (hold_flush_ms, upstream group without lag); then sends
 * the promise heartbeat. */
void score_svc_batch(
    void *arg, sp_db *db, const bus_msg *msgs, size_t n, bus_result *res, char (*reasons)[BUS_REASON_LEN]);

/* The service's on_idle hook: reloads rules when asked, runs due sweeps. */
void score_svc_idle(void *arg, sp_db *db);

/* Runs every due boundary (at most SCORE_SWEEP_MAX_STEPS per call). With
 * no boundary done yet, the event clock starts from the boundary before the
 * earliest interaction (every boundary of a replay runs, whatever the
 * watermark did before the first sweep); other clocks run only the latest.
 * *ran (may be NULL) counts boundaries this call ran. SP_OK, or the
 * database / delivery error that stopped it (the boundary is retried). */
sp_err score_svc_sweep(score_svc *s, sp_db *db, int *ran);

/* Runs the one boundary T (a multiple of sweep_every_ms) unless another
 * instance holds the sweep lock or it is done already (*ran = 0). */
sp_err score_svc_sweep_at(score_svc *s, sp_db *db, int64_t t_ms, int *ran);

/* If *reload is set: loads rules_path; on success swaps it in, else logs and
 * keeps the running rules. Call between batches only. */
void score_svc_reload(score_svc *s);

/* Pure: the sweep boundaries to run when the last one done is last_ms
 * (0 = none yet) and the clock says now_ms: multiples of every_ms in
 * (last_ms, now_ms], oldest first, at most cap; with no boundary done yet,
 * only the latest one <= now_ms. Returns the count written to out. */
size_t score_sweep_due(int64_t last_ms, int64_t now_ms, int64_t every_ms, int64_t *out, size_t cap);

/* Pure: sp-score's promise with the event clock - no signal it publishes
 * later is dated before it - when the last boundary swept is done_ms and
 * the clock says now_ms. Events still to come are at or after now
 * (sp-enrich's promises); an event's judgment at an unswept boundary and
 * every sweep after done_ms are later than done_ms. So once every boundary
 * up to now is swept the promise is now, else done_ms (0 for none). */
int64_t score_promise_of(int64_t done_ms, int64_t now_ms, int64_t every_ms);

/* Pure: 1 when a new local day (ISO week when week = 1) begins in
 * (prev_ms, t_ms] in the calendar's zone. */
int score_sweep_crosses(const score_calendar *cal, int64_t prev_ms, int64_t t_ms, int week);

/* Pure: 1 when a region's first-visit shares may differ at boundary t_ms
 * from the previous boundary prev_ms, so the sweep must judge every
 * region. The shares count the leads of the ISO weeks before t's week; a
 * lead is late once timeout_ms has passed without a first response, so
 * those weeks' counts move only while their last deadlines pass - until
 * timeout_ms after t's week began - and stand for the rest of the week.
 * (An input that arrives later than its sweep is not noticed until then.) */
int score_first_visit_due(const score_calendar *cal, int64_t timeout_ms, int64_t prev_ms, int64_t t_ms);

void score_svc_clear(score_svc *s);

#endif
