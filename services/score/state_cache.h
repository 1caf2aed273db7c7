/* state_cache.h - the signal states one transaction has read and changed.
 *
 * Every evaluation used to cost two statements (lock the state row, save
 * it). Within one batch transaction the rows a batch touches are locked at
 * first use anyway, so later evaluations of the same (kind, subject,
 * variant) read the state here, and every state the batch touched is
 * written back in one statement just before the commit
 * (score_state_cache_flush). An item answered DEAD has its changes taken
 * back (score_state_cache_item_undo), mirroring the savepoint rollback of
 * its rows. The cache is per transaction: reset it when one begins. */
#ifndef SCORE_STATE_CACHE_H
#define SCORE_STATE_CACHE_H

#include "db.h"
#include "err.h"
#include "score/rules.h"
#include "score/signal_state.h"

#include <stddef.h>
#include <stdint.h>

typedef struct score_state_cache score_state_cache;

/* Caller frees with score_state_cache_destroy. SP_ENOMEM. */
sp_err score_state_cache_new(score_state_cache **out);
void score_state_cache_destroy(score_state_cache *c);

/* Forgets every entry (a new transaction begins, or one was rolled back). */
void score_state_cache_reset(score_state_cache *c);

/* Marks the start of one item: changes from here on belong to it. */
void score_state_cache_item_begin(score_state_cache *c);

/* Takes back every change the current item made (it is answered DEAD). */
void score_state_cache_item_undo(score_state_cache *c);

/* The cached state of (kind, subject, variant) in *out and the time of its
 * last evaluation in *at_ms (may be NULL): 1 when cached, 0 when the caller
 * must read (and lock) the row first. */
int score_state_cache_get(const score_state_cache *c, score_kind kind, const char *subject,
    const char *variant, score_state *out, int64_t *at_ms);

/* Stores st as evaluated at now_ms (the row's updated_at). SP_ENOMEM. */
sp_err score_state_cache_put(score_state_cache *c, score_kind kind, const char *subject, const char *variant,
    const score_state *st, int64_t now_ms);

/* Adds the stored state of a key read ahead (a batch's prefetch) unless
 * the key is cached already: get finds it, flush writes it only once a put
 * changed it. SP_ENOMEM, SP_EINVAL. */
sp_err score_state_cache_load(score_state_cache *c, score_kind kind, const char *subject, const char *variant,
    const score_state *st, int64_t at_ms);

/* The nine stored columns of a signal_state row - active, episode,
 * revision, level, last_value, raised_at_ms, changed_at_ms,
 * clear_pending_since_ms, evidence_hash - from column col of row in r. */
score_state score_state_from_row(const PGresult *r, int row, int col);

/* Number of live entries. */
size_t score_state_cache_count(const score_state_cache *c);
/* Number of entries flush would write (live, changed since loaded). */
size_t score_state_cache_dirty(const score_state_cache *c);

/* Writes every live entry to signal_state in one upsert (inside the
 * caller's transaction). SP_OK (also when empty), SP_ENOMEM, or the
 * database error. The entries stay (reset when the transaction ends). */
sp_err score_state_cache_flush(score_state_cache *c, sp_db *db);

#endif
