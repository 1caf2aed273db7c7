/* triggers.h - from an EnrichedInteraction (sp.enriched.v1) to the
 * evaluations it may change now, and the borrowed score_ctx / score_touch an
 * evaluator's facts start from. Everything else the facts need comes from
 * PostgreSQL; time-driven signals (stale, stalled, timeouts, weekly and
 * funnel rates) are also swept on the clock. */
#ifndef SCORE_TRIGGERS_H
#define SCORE_TRIGGERS_H

#include "err.h"
#include "salespulse/v1/enriched.pb-c.h"
#include "score/rules.h"
#include "score/signals.h"

#include <stdint.h>

/* Bit (1u << kind) set = re-evaluate that kind for this event's subject. */
typedef uint32_t score_kind_mask;

/* Which kinds the event may raise, update or clear right away:
 *   any interaction of a customer      -> customer.stale (clears it)
 *   customer-side message on a deal    -> deal.unanswered_inbound; rep outbound -> the same (clears)
 *   customer-side risk tags            -> deal.risk_raised
 *   intent demo_refused                -> deal.demo_refused_twice
 *   a visit, a commitment intent       -> deal.no_progress_after_visit
 *   competitors named / competitor page-> deal.competitor_surge
 *   product page visit                 -> customer.interest_warming
 *   stage change                       -> stage_stalled, no_progress_after_visit, key_role_uncovered,
 *                                         rep.status_not_updated
 *   contact with roles on a deal       -> deal.key_role_uncovered
 *   rep activity / note on a deal      -> rep.status_not_updated, rep.key_action_missing
 * region.first_visit_timeout and team.funnel_collapse are sweep-only.
 * SP_EINVAL when ei, its interaction or mask is NULL. */
sp_err score_enriched_triggers(
    const Salespulse__V1__EnrichedInteraction *ei, const score_rules *r, score_kind_mask *mask);

/* Fills ctx with pointers into ei (borrowed: valid while ei lives): the
 * subject id is the id of the kind's subject type (deal, customer, rep,
 * team, region). SP_ENOTFOUND when ei has no such id. */
sp_err score_enriched_ctx(const Salespulse__V1__EnrichedInteraction *ei, score_kind kind, score_ctx *ctx);

/* One evaluation an event asks for: kind for subject (and variant: the
 * risk tag, else ""); clears: the event by itself cannot make the
 * condition true at its own time - it makes it false (a touch for
 * customer.stale, a rep reply for deal.unanswered_inbound) or only
 * shortens what it measures (a contact's touch for deal.key_role_uncovered)
 * - so an inactive state needs no facts. Strings borrowed from ei. */
typedef sp_err (*score_eval_fn)(
    void *arg, score_kind kind, const char *subject, const char *variant, int clears);

/* Calls fn, in a fixed order, for every evaluation ei triggers: the kinds
 * of score_enriched_triggers for the subject score_enriched_ctx names, one
 * per distinct risk tag for deal.risk_raised, rep kinds left out (sweeps
 * judge those: a rep's facts span every partition). Stops at and returns
 * fn's first error; SP_EINVAL for NULL arguments. */
sp_err score_enriched_each(
    const Salespulse__V1__EnrichedInteraction *ei, const score_rules *r, score_eval_fn fn, void *arg);

/* Fills t from ei (borrowed): the interaction's event id and occurred_at,
 * label as given, quote = the customer's own words (extraction concern, else
 * core need; "" for rep-side events). SP_EINVAL without an interaction. */
sp_err score_enriched_touch(const Salespulse__V1__EnrichedInteraction *ei, const char *label, score_touch *t);

#endif
