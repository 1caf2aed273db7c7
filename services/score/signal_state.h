/* signal_state.h - edge-triggered signal state with hysteresis.
 *
 * One score_state per (kind, subject, variant) - a row of the signal state
 * table. Each evaluation gives an observation (raise condition met? still
 * held within the hysteresis band? level, evidence fingerprint) and
 * score_state_apply decides NONE / RAISED / UPDATED / CLEARED, so a value
 * hovering at its threshold raises once and does not flap:
 *   - inactive: met -> RAISED (episode + 1, revision 1);
 *   - active: not held (value beyond threshold x (1 -/+ margin)) for
 *     clear_delay_ms -> CLEARED; else a level or evidence change -> UPDATED;
 *   - a disabled rule clears an active signal.
 * Ids are pure functions of (kind, subject, variant, episode, transition,
 * revision): replaying the same observations on the same stored state gives
 * the same ids, so a redelivered input is deduplicated downstream. */
#ifndef SCORE_SIGNAL_STATE_H
#define SCORE_SIGNAL_STATE_H

#include "err.h"
#include "score/rules.h"

#include <stddef.h>
#include <stdint.h>

/* Values equal Salespulse__V1__Transition. */
typedef enum score_transition {
    SCORE_TR_NONE = 0,
    SCORE_TR_RAISED = 1,
    SCORE_TR_UPDATED = 2,
    SCORE_TR_CLEARED = 3,
} score_transition;

/* What an evaluator observed; see signals.h. */
typedef struct score_obs {
    int met; /* the raise condition holds */
    int held; /* the condition holds within the hysteresis band (met implies held) */
    int level; /* 1..3 */
    double value; /* the primary measure (days, share, ratio, count) */
    double threshold; /* its raise threshold */
    uint64_t evidence_hash; /* fingerprint of the evidence that matters (ids, tags) */
} score_obs;

/* A row of the state table; zero-initialised = never raised. */
typedef struct score_state {
    int active;
    uint32_t episode; /* 1 for the first raise, + 1 per raise */
    uint32_t revision; /* 1 at raise, + 1 per update or clear */
    int level; /* level last emitted */
    double last_value; /* value of the last observation */
    int64_t raised_at_ms; /* when this episode was raised */
    int64_t changed_at_ms; /* last emitted transition */
    int64_t clear_pending_since_ms; /* first observation outside the band, 0 = none */
    uint64_t evidence_hash; /* fingerprint last emitted */
} score_state;

/* Applies one observation at now_ms to st and returns the transition in
 * *out. st changes even when *out is NONE (last_value, pending clear): the
 * caller persists it every time. SP_EINVAL for NULL arguments or a level
 * outside 1..3 on a met observation; st is then unchanged. */
sp_err score_state_apply(
    score_state *st, const score_obs *obs, const score_rule *rule, int64_t now_ms, score_transition *out);

/* The clearing threshold of a rule: threshold x (1 - margin) for signals
 * that fire above their threshold, x (1 + margin) for those that fire below
 * (below = 1). */
double score_hyst_relax(double threshold, double margin, int below);

/* "raised", "updated", "cleared", "none". */
const char *score_transition_name(score_transition tr);

/* "sig:<kind>:<subject type>:<subject id>[#<variant>]:<episode>", e.g.
 * "sig:customer.stale:customer:C123:1". SP_EINVAL for an empty subject id,
 * SP_ETOOBIG when buf is too small. */
sp_err score_signal_id(
    score_kind kind, const char *subject_id, const char *variant, uint32_t episode, char *buf, size_t len);

/* "<signal id>:<transition>:<revision>", e.g. "sig:...:1:raised:1". */
sp_err score_event_id(const char *signal_id, score_transition tr, uint32_t revision, char *buf, size_t len);

/* FNV-1a 64 over s (NULL = "") continuing from h; start with
 * SCORE_HASH_INIT. A separator byte is mixed in so ("ab","c") != ("a","bc"). */
#define SCORE_HASH_INIT 14695981039346656037ULL
uint64_t score_hash_str(uint64_t h, const char *s);

#endif
