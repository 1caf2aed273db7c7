/* health.h - process health of an open deal: ten dimensions, each 0..100
 * with green / yellow / red and a reason (zh + en), and the weighted deal
 * score (weights and anchors in score_rules.json "health"); roll-ups for
 * rep / team / region boards; JSON for the API. Pure functions. */
#ifndef SCORE_HEALTH_H
#define SCORE_HEALTH_H

#include "err.h"
#include "score/rules.h"
#include "score/signals.h"

#include <stddef.h>
#include <stdint.h>

typedef enum score_colour { SCORE_GREEN = 0, SCORE_YELLOW = 1, SCORE_RED = 2 } score_colour;

/* "green", "yellow", "red". */
const char *score_colour_name(score_colour c);

/* What the health query returns for one open deal.
 * SQL sketch: deal row (stage, stage_entered -> days_in_stage); count of
 * interactions with the customer in the last 30 days; per role the last
 * interaction with a contact of that role; max proposal_revision and whether
 * a proposal carried customer data; customer-side competitor mentions in
 * 30 days with the delay of our next outbound message; median delay of rep
 * replies to inbound messages (30 days); replies + e-mail opens + web visits
 * in [now-14d, now) and [now-28d, now-14d); the latest agreed next step and
 * due time; open risk tags with their age; card fields filled / total and
 * filled facts by credibility level. */
typedef struct score_health_facts {
    const char *deal_id;
    int stage; /* Salespulse__V1__Stage */
    double days_in_stage;
    int contacts_30d;
    const score_role_seen *roles; /* last seen per role; absent = never */
    size_t n_roles;
    int proposal_revisions;
    int proposal_customer_specific;
    int competitor_mentions; /* customer-side, last 30 days */
    double competitor_response_hours; /* our delay to the latest mention; < 0 = not answered yet */
    int64_t competitor_last_mention_ms; /* when unanswered: waiting since */
    double median_response_hours; /* < 0 = no customer message in the window */
    int engagement_cur; /* replies + opens + visits, last 14 days */
    int engagement_prev; /* the 14 days before */
    int next_step_defined;
    int64_t next_step_due_ms; /* 0 = no due date */
    int open_risks;
    double oldest_risk_age_days;
    int card_fields_filled, card_fields_total;
    int card_l1, card_l2, card_l3; /* filled facts by credibility level */
} score_health_facts;

typedef struct score_dim_result {
    score_dim dim;
    int score; /* 0..100 */
    score_colour colour;
    double measure; /* the number the score came from (ratio, hours, days) */
    double weight;
    char reason_zh[192];
    char reason_en[224];
} score_dim_result;

typedef struct score_health {
    char deal_id[SCORE_ID_LEN];
    int score; /* weighted mean, 0..100 */
    score_colour colour;
    score_dim_result dims[SCORE_DIM_COUNT];
} score_health;

/* Computes every dimension and the deal score at now_ms. SP_EINVAL for NULL
 * arguments or negative counts; *out is then zeroed. */
sp_err score_health_eval(
    const score_health_facts *f, const score_rules *r, int64_t now_ms, score_health *out);

/* {"deal_id", "score", "colour", "dimensions": [{"name", "score", "colour",
 * "weight", "measure", "reason_zh", "reason_en"}]} as a malloc'd string;
 * caller frees with free(). SP_ENOMEM. */
sp_err score_health_to_json(const score_health *h, char **out);

/* Mean of deal scores weighted by deal value (values <= 0 weigh as the
 * smallest positive value, or all 1 when none is positive). SP_ENOTFOUND
 * when n == 0. */
sp_err score_rollup_weighted(const double *scores, const double *values, size_t n, double *out);

/* converted / entered (a stage conversion rate, a first-visit timeout
 * share). SP_ENOTFOUND when den <= 0; SP_EINVAL when num < 0 or num > den. */
sp_err score_rollup_rate(long num, long den, double *out);

/* The colour of a 0..100 score under the health thresholds. */
score_colour score_health_colour(const score_rules *r, double score);

#endif
