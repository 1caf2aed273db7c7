/* signal_msg.h - an evaluation plus a state transition as a
 * Salespulse__V1__Signal (topic sp.signals.v1, key = subject id). */
#ifndef SCORE_SIGNAL_MSG_H
#define SCORE_SIGNAL_MSG_H

#include "err.h"
#include "salespulse/v1/signal.pb-c.h"
#include "score/signals.h"

/* Builds the Signal for transition tr (not NONE) of ev, with st already
 * applied (episode, revision, level come from it). meta: event_id =
 * signal_id + ":" + transition + ":" + revision, occurred_at_ms =
 * produced_at_ms = now_ms (deterministic; set produced_at_ms at send time
 * if the wall clock is wanted), producer "sp-score", schema_version 1,
 * tenant_id (NULL = ""), trace_id (NULL = ""). A CLEARED signal carries the
 * level of its episode and an explanation prefixed "已解除：" / "cleared: ".
 * Strings point into one allocation: free the result only with
 * score_signal_free (never __free_unpacked). SP_EINVAL for a NONE
 * transition or a missing subject id; SP_ENOMEM. */
sp_err score_signal_build(const score_eval *ev, const score_state *st, score_transition tr, int64_t now_ms,
    const char *tenant_id, const char *trace_id, Salespulse__V1__Signal **out);

/* Frees what score_signal_build returned; accepts NULL. */
void score_signal_free(Salespulse__V1__Signal *sig);

/* One step for the caller: score_state_apply with the kind's rule, then, if
 * the transition is not NONE, score_signal_build into *out (else *out =
 * NULL). *tr receives the transition. On error st is unchanged. */
sp_err score_signal_step(score_state *st, const score_eval *ev, const score_rules *r, int64_t now_ms,
    const char *tenant_id, score_transition *tr, Salespulse__V1__Signal **out);

#endif
