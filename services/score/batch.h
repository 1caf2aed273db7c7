/* batch.h - what one batch of enriched events reads and writes up front.
 *
 * Scoring an event used to cost about seven statements, each a round trip
 * to PostgreSQL: its processed_events row, the score-side facts it carries
 * (tracking pages, planned and completed key actions, key roles reached)
 * and one read-and-lock per signal state it evaluates. Round trips, not
 * work, bounded throughput (loopback ~55 us each). score_batch_prepare does
 * those for a whole batch in three statements; the fact queries of its
 * evaluations are then read ahead in pipelines (memo.h).
 *
 * Writing a batch's facts before its first evaluation changes nothing the
 * evaluations see that they should not: every fact query is bounded by
 * occurred_at <= the event's time, so an earlier event in the batch reads
 * the same facts whether or not later ones were recorded.
 *
 * Used by the optimistic pass only; the savepoint pass (after an item went
 * DEAD) records item by item with score_batch_record(..., 1) so a dead
 * item leaves nothing behind. */
#ifndef SCORE_BATCH_H
#define SCORE_BATCH_H

#include "db.h"
#include "err.h"
#include "salespulse/v1/enriched.pb-c.h"
#include "score/calendar.h"
#include "score/rules.h"
#include "score/state_cache.h"

#include <stddef.h>

typedef struct score_batch score_batch;

/* Caller frees with score_batch_destroy. SP_ENOMEM. */
sp_err score_batch_new(score_batch **out);
void score_batch_destroy(score_batch *b);

/* Inside the batch's transaction: inserts the processed_events row of
 * every valid message of eis[0..n) (decoded; borrowed, NULL for one that
 * did not decode), remembering which were new, records their facts
 * (score_batch_record), and reads and locks into states every signal
 * state the new ones will evaluate (score_enriched_each), creating
 * missing rows as the per-event path would. Messages that did not decode
 * or lack ids are skipped here (their item answers DEAD). Errors: SP_EDB /
 * SP_EDBDOWN from the database, SP_ENOMEM; the caller rolls back. */
sp_err score_batch_prepare(score_batch *b, sp_db *db, const score_rules *r, const score_calendar *cal,
    score_state_cache *states, Salespulse__V1__EnrichedInteraction *const *eis, size_t n);

/* Reads (creating and locking, in one statement) the states of n
 * (kind, subject, variant) into states, as the per-state read-and-lock
 * would: a missing row is created as evaluated never (at now). Duplicate
 * keys are read once. SP_EDB / SP_EDBDOWN, SP_ENOMEM, SP_EINVAL. */
sp_err score_states_load(sp_db *db, score_state_cache *states, int64_t now, size_t n, const score_kind *kinds,
    const char *const *subjects, const char *const *variants);

/* 1 when event_id's processed_events row was inserted by the last prepare
 * and not claimed since (it is claimed now), 0 for a duplicate. */
int score_batch_claim(score_batch *b, const char *event_id);

/* score_batch_claim without the claim. */
int score_batch_fresh(const score_batch *b, const char *event_id);

/* Forgets the last prepare (its transaction ended). */
void score_batch_reset(score_batch *b);

/* Records what sp-enrich does not keep, for n events in one pipelined
 * round trip: web visits by page class (score_tracking), planned and
 * completed key actions (score_rep_actions), and the key roles an event on
 * a deal reached (score_role_touches: an activity's roles_covered, and
 * every customer-side party whose identity belongs to a contact with a
 * role). Idempotent by event id. SP_EDB / SP_EDBDOWN, SP_ENOMEM. */
sp_err score_batch_record(
    sp_db *db, const score_calendar *cal, const Salespulse__V1__EnrichedInteraction *const *eis, size_t n);

#endif
