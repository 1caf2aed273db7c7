/* signals.h - the thirteen signal evaluators of sp-score (architecture.md
 * section 6) as pure functions: facts + rules + now_ms -> score_eval.
 *
 * Each facts struct is what one indexed query returns for one subject, so
 * the lead can fill it from a PostgreSQL row set (a sweep) or after applying
 * an EnrichedInteraction. All strings and arrays are borrowed for the call;
 * the evaluation copies what it keeps (fixed-size buffers, no allocation),
 * so a score_eval needs no free. Times are Unix ms UTC; "days" are elapsed
 * 24-hour periods (now - t) / 86400000 unless a rule says working days.
 *
 * Then score_state_apply(state, &eval.obs, &rules->rule[eval.kind], now)
 * gives the transition, and score_signal_build turns eval + state +
 * transition into a Salespulse__V1__Signal. */
#ifndef SCORE_SIGNALS_H
#define SCORE_SIGNALS_H

#include "err.h"
#include "ids.h"
#include "score/calendar.h"
#include "score/rules.h"
#include "score/signal_state.h"

#include <stddef.h>
#include <stdint.h>

#define SCORE_ID_LEN     (SP_ID_MAX + 1) /* interaction / subject ids (common/ids.h) */
#define SCORE_QUOTE_LEN  256
#define SCORE_TEXT_LEN   512 /* explanations */
#define SCORE_TAG_LEN    80
#define SCORE_EV_IDS     16
#define SCORE_EV_NUMBERS 8
#define SCORE_EV_QUOTES  4
#define SCORE_EV_TAGS    10

/* Who the subject is. subject_id is the id of the kind's subject type (deal
 * id for deal.*, customer id for customer.*, rep id for rep.*, team id,
 * region id); required. subject_name is a display name used in the
 * explanation ("王校长"); NULL or "" falls back to the id. The rest fill the
 * Signal's routing fields; NULL = "". */
typedef struct score_ctx {
    const char *subject_id;
    const char *subject_name;
    const char *owner_rep_id;
    const char *team_id;
    const char *region_id;
    const char *customer_id;
    const char *deal_id;
} score_ctx;

/* One interaction referred to as evidence. label depends on the facts: an
 * intent, a competitor or product name, a channel. quote: the customer's own
 * words, if any. */
typedef struct score_touch {
    const char *interaction_id;
    int64_t at_ms;
    const char *label;
    const char *quote;
} score_touch;

/* The result of one evaluation. */
typedef struct score_eval {
    score_kind kind;
    score_obs obs; /* met, held, level, value, threshold, evidence hash */
    char subject_id[SCORE_ID_LEN];
    char variant[SCORE_ID_LEN]; /* deal.risk_raised: the risk tag; else "" */
    char subject_name[SCORE_ID_LEN];
    char owner_rep_id[SCORE_ID_LEN];
    char team_id[SCORE_ID_LEN];
    char region_id[SCORE_ID_LEN];
    char customer_id[SCORE_ID_LEN];
    char deal_id[SCORE_ID_LEN];
    size_t n_ids;
    char ids[SCORE_EV_IDS][SCORE_ID_LEN];
    size_t n_numbers;
    struct {
        const char *name; /* static string */
        double value;
    } numbers[SCORE_EV_NUMBERS];
    size_t n_quotes;
    char quotes[SCORE_EV_QUOTES][SCORE_QUOTE_LEN];
    size_t n_tags;
    char tags[SCORE_EV_TAGS][SCORE_TAG_LEN]; /* "assignee:rep", "risk:after_sales", "pack:wakeup_list", ... */
    char explanation_zh[SCORE_TEXT_LEN];
    char explanation_en[SCORE_TEXT_LEN];
} score_eval;

/* Every evaluator: fills *out (always fully, even when the condition is not
 * met, so a clear can be decided); SP_EINVAL when f, r or out is NULL or the
 * subject id is empty, naming nothing else - the caller logs the subject.
 * Evidence lists are capped (SCORE_EV_*): pass items newest first. */

/* deal.no_progress_after_visit - subject deal.
 * SQL: the deal's latest visit (activity kind VISIT; none -> visit.at_ms 0);
 * whether a stage change to a later stage happened after it; the intents
 * extracted from customer-side interactions after it (label = intent).
 * Met: visit at least no_progress.days ago, deal open, no stage advance and
 * no commitment intent (meeting_scheduled, demo_request, ready_to_sign). */
typedef struct score_facts_no_progress {
    score_ctx ctx;
    int deal_open;
    score_touch visit;
    int stage_advanced;
    const score_touch *intents;
    size_t n_intents;
} score_facts_no_progress;
sp_err score_eval_no_progress_after_visit(
    const score_facts_no_progress *f, const score_rules *r, int64_t now_ms, score_eval *out);

/* deal.key_role_uncovered - subject deal.
 * SQL: the deal's stage and open flag, when it was created, and for each
 * role the last interaction in which a contact with that role took part
 * (roles never seen may be left out). Met: open, stage >= key_role.min_stage
 * and some required role not seen for >= key_role.days (never seen counts
 * from deal_created_ms). value = the longest such gap in days. */
typedef struct score_role_seen {
    int role; /* Salespulse__V1__Role */
    int64_t last_seen_ms;
    const char *interaction_id;
    const char *contact_name;
} score_role_seen;
typedef struct score_facts_key_role {
    score_ctx ctx;
    int stage; /* Salespulse__V1__Stage */
    int deal_open;
    int64_t deal_created_ms;
    const score_role_seen *roles;
    size_t n_roles;
} score_facts_key_role;
sp_err score_eval_key_role_uncovered(
    const score_facts_key_role *f, const score_rules *r, int64_t now_ms, score_eval *out);

/* deal.competitor_surge - subject deal.
 * SQL: the customer's competitor-page visits (tracking, page_class
 * COMPETITOR) in [now-7d, now) and [now-14d, now-7d); the customer-side
 * interactions naming a competitor in the last surge.mentions_window_days
 * (label = competitor name, quote = the words). Met: visits_7d >=
 * visits_7d_min and >= ratio_min x previous, or >= mentions_min distinct
 * interactions naming competitors within the window. */
typedef struct score_facts_surge {
    score_ctx ctx;
    double visits_7d;
    double visits_prev_7d;
    const score_touch *mentions;
    size_t n_mentions;
} score_facts_surge;
sp_err score_eval_competitor_surge(
    const score_facts_surge *f, const score_rules *r, int64_t now_ms, score_eval *out);

/* deal.demo_refused_twice - subject deal.
 * SQL: customer-side interactions with intent demo_refused in the last
 * demo_refused.window_days; whether risk/concern technical_doubt was raised.
 * Met: >= count refusals within the window. Tag "pack:technical_doubt". */
typedef struct score_facts_demo_refused {
    score_ctx ctx;
    const score_touch *refusals;
    size_t n_refusals;
    int technical_doubt;
} score_facts_demo_refused;
sp_err score_eval_demo_refused_twice(
    const score_facts_demo_refused *f, const score_rules *r, int64_t now_ms, score_eval *out);

/* deal.stage_stalled - subject deal.
 * SQL: the open deal's stage and when it entered it. Met: days in stage >
 * norm x red_factor (yellow, not a signal, above norm x yellow_factor). A
 * stage without a norm never fires. */
typedef struct score_facts_stalled {
    score_ctx ctx;
    int stage;
    int deal_open;
    int64_t stage_entered_ms;
} score_facts_stalled;
sp_err score_eval_stage_stalled(
    const score_facts_stalled *f, const score_rules *r, int64_t now_ms, score_eval *out);

/* deal.risk_raised - subject deal, one evaluation per risk tag (variant =
 * tag, so each tag has its own state and signal id).
 * SQL: each customer-side risk tag of the deal with the interaction that
 * first raised it in this episode, and whether it is still open (not marked
 * resolved); sweep the active states too so a resolved risk clears. Level and
 * assignee from the rules' tag map. Tags "risk:<tag>", "assignee:<hint>". */
typedef struct score_facts_risk {
    score_ctx ctx;
    const char *tag;
    int open;
    score_touch raised;
} score_facts_risk;
sp_err score_eval_risk_raised(
    const score_facts_risk *f, const score_rules *r, int64_t now_ms, score_eval *out);

/* The Chinese name of a risk tag of the extraction contract ("price" ->
 * "价格异议"), a static string; NULL for any other tag (a tenant lexicon's
 * own tag is shown as it is). */
const char *score_risk_name_zh(const char *tag);

/* The same for an intent tag ("ready_to_sign" -> "准备签约"). */
const char *score_intent_name_zh(const char *tag);

/* deal.unanswered_inbound - subject deal.
 * SQL: the oldest customer-side (inbound) message of the deal with no rep
 * (outbound) message after it (oldest.at_ms 0 = none) and how many are
 * waiting. Met: waiting >= l1_hours (level L1, assignee rep); >= l2_hours
 * (l2_level, l2_assignee): the level change is an UPDATED transition. */
typedef struct score_facts_unanswered {
    score_ctx ctx;
    score_touch oldest;
    int n_waiting;
} score_facts_unanswered;
sp_err score_eval_unanswered_inbound(
    const score_facts_unanswered *f, const score_rules *r, int64_t now_ms, score_eval *out);

/* customer.interest_warming - subject customer.
 * SQL: the customer's product-page visits (tracking, page_class PRODUCT) in
 * the last warming.window_days (label = product name). Met: count >
 * visits_gt. */
typedef struct score_facts_warming {
    score_ctx ctx;
    const score_touch *visits;
    size_t n_visits;
} score_facts_warming;
sp_err score_eval_interest_warming(
    const score_facts_warming *f, const score_rules *r, int64_t now_ms, score_eval *out);

/* customer.stale - subject customer.
 * SQL: the customer's last interaction of any kind (0 = none: counts from
 * customer_created_ms), the last 3 touch points (label = channel or
 * activity, quote = what was said) and the card's core need. Met: >= days
 * without interaction. Tags "pack:wakeup_list". */
typedef struct score_facts_stale {
    score_ctx ctx;
    int64_t last_interaction_ms;
    int64_t customer_created_ms;
    const score_touch *touches;
    size_t n_touches;
    const char *likely_need;
} score_facts_stale;
sp_err score_eval_customer_stale(
    const score_facts_stale *f, const score_rules *r, int64_t now_ms, score_eval *out);

/* rep.key_action_missing - subject rep.
 * SQL: per local day over the last ~15 days, the rep's planned and completed
 * key actions (days without a plan may be left out). Walking back from
 * yesterday (a day counts once it is over) through working days of the
 * calendar, counts consecutive working days with planned > 0 and
 * completed == 0; a working day without a plan or with a completion ends the
 * run. Met: run >= key_action.working_days. */
typedef struct score_day_actions {
    int32_t day; /* local day number, calendar_local_day */
    int planned;
    int completed;
} score_day_actions;
typedef struct score_facts_key_action {
    score_ctx ctx;
    const score_calendar *cal;
    const score_day_actions *days;
    size_t n_days;
} score_facts_key_action;
sp_err score_eval_key_action_missing(
    const score_facts_key_action *f, const score_rules *r, int64_t now_ms, score_eval *out);

/* rep.status_not_updated - subject rep (one signal per rep listing the deals).
 * SQL: the rep's open deals with the last time the rep updated their status
 * (stage change, note or activity on the deal). Met: some deal not updated
 * for >= status.days; value = the longest gap; tags "deal:<id>" name them. */
typedef struct score_deal_update {
    const char *deal_id;
    const char *deal_name;
    int64_t last_update_ms;
} score_deal_update;
typedef struct score_facts_status {
    score_ctx ctx;
    const score_deal_update *deals;
    size_t n_deals;
} score_facts_status;
sp_err score_eval_status_not_updated(
    const score_facts_status *f, const score_rules *r, int64_t now_ms, score_eval *out);

/* region.first_visit_timeout - subject region.
 * SQL: per ISO week (local time) of lead creation, the region's new leads and
 * those whose first visit or response came more than
 * first_visit.timeout_hours after creation (or not yet, once the timeout has
 * passed; score_first_visit_timed_out decides one lead). Considers the
 * first_visit.weeks complete ISO weeks before the current one. Met: in each,
 * new_leads >= min_new_leads and share > share_gt. value = the smallest
 * share. */
typedef struct score_week_leads {
    int iso_week; /* iso_year * 100 + week, calendar_iso_week */
    int new_leads;
    int timed_out;
} score_week_leads;
typedef struct score_facts_first_visit {
    score_ctx ctx;
    const score_calendar *cal; /* time zone of the ISO weeks */
    const score_week_leads *weeks;
    size_t n_weeks;
} score_facts_first_visit;
sp_err score_eval_first_visit_timeout(
    const score_facts_first_visit *f, const score_rules *r, int64_t now_ms, score_eval *out);

/* 1 if a lead created at created_ms with its first visit/response at
 * first_ms (0 = none yet) counts as timed out at now_ms. */
int score_first_visit_timed_out(const score_rules *r, int64_t created_ms, int64_t first_ms, int64_t now_ms);

/* team.funnel_collapse - subject team.
 * SQL: per stage transition (from -> to), deals of the team that entered
 * `from` and those that then reached `to`, over the last funnel.window_days
 * and over the funnel.baseline_days baseline. Met: some transition with
 * window_entered >= min_deals, baseline rate > 0 and window rate <
 * ratio_lt x baseline rate; value = the lowest window/baseline ratio. */
typedef struct score_funnel_step {
    int from_stage, to_stage;
    int window_entered, window_converted;
    int baseline_entered, baseline_converted;
} score_funnel_step;
typedef struct score_facts_funnel {
    score_ctx ctx;
    const score_funnel_step *steps;
    size_t n_steps;
} score_facts_funnel;
sp_err score_eval_funnel_collapse(
    const score_facts_funnel *f, const score_rules *r, int64_t now_ms, score_eval *out);

#endif
