/* rules.h - sp-score's thresholds: the thirteen signals of the design
 * (architecture.md section 6), their levels, assignee hints and hysteresis,
 * and the process-health weights. Loaded from
 * deploy/tenants/<tenant>/score_rules.json (documented in docs/score_rules.md)
 * with jansson and validated: an unknown key, a wrong type or a value out of
 * range fails with a message naming file, rule and key, e.g.
 * "score_rules.json: customer.stale.days: must be > 0".
 *
 * A missing key keeps its default (score_rules_defaults, equal to the shipped
 * file). A rules object is immutable once loaded: reload = load a new one and
 * swap the pointer (the caller handles SIGHUP), then destroy the old one when
 * no evaluation uses it any more. */
#ifndef SCORE_RULES_H
#define SCORE_RULES_H

#include "err.h"

#include <stddef.h>
#include <stdint.h>

typedef enum score_kind {
    SCORE_NO_PROGRESS_AFTER_VISIT = 0, /* deal.no_progress_after_visit */
    SCORE_KEY_ROLE_UNCOVERED, /* deal.key_role_uncovered */
    SCORE_COMPETITOR_SURGE, /* deal.competitor_surge */
    SCORE_DEMO_REFUSED_TWICE, /* deal.demo_refused_twice */
    SCORE_STAGE_STALLED, /* deal.stage_stalled */
    SCORE_RISK_RAISED, /* deal.risk_raised */
    SCORE_UNANSWERED_INBOUND, /* deal.unanswered_inbound */
    SCORE_INTEREST_WARMING, /* customer.interest_warming */
    SCORE_CUSTOMER_STALE, /* customer.stale */
    SCORE_KEY_ACTION_MISSING, /* rep.key_action_missing */
    SCORE_STATUS_NOT_UPDATED, /* rep.status_not_updated */
    SCORE_FIRST_VISIT_TIMEOUT, /* region.first_visit_timeout */
    SCORE_FUNNEL_COLLAPSE, /* team.funnel_collapse */
    SCORE_KIND_COUNT
} score_kind;

/* Subject types; values equal Salespulse__V1__SubjectType. */
typedef enum score_subject_type {
    SCORE_SUBJECT_DEAL = 1,
    SCORE_SUBJECT_CUSTOMER = 2,
    SCORE_SUBJECT_REP = 3,
    SCORE_SUBJECT_TEAM = 4,
    SCORE_SUBJECT_REGION = 5,
} score_subject_type;

/* Stage numbers equal Salespulse__V1__Stage (1 lead .. 5 negotiation,
 * 6 won, 7 lost). */
#define SCORE_STAGE_COUNT 8

/* "customer.stale", ...; NULL for an out-of-range kind. */
const char *score_kind_name(score_kind kind);
/* SP_ENOTFOUND when name is not one of the thirteen. */
sp_err score_kind_from_name(const char *name, score_kind *out);
/* The subject type a kind is raised on. */
score_subject_type score_kind_subject(score_kind kind);
/* "deal", "customer", "rep", "team", "region"; "unknown" otherwise. */
const char *score_subject_type_name(score_subject_type t);
/* "lead", "qualified", "demo", "proposal", "negotiation", "won", "lost";
 * "unspecified" otherwise. */
const char *score_stage_name(int stage);

#define SCORE_NAME_MAX     40
#define SCORE_ASSIGNEE_MAX 3
#define SCORE_RISK_MAX     16
#define SCORE_INTENT_MAX   8
#define SCORE_ROLE_MAX     4

/* What every rule has. level: 1..3 (L1..L3). Hysteresis: once raised, a
 * signal clears only when its value is beyond threshold x (1 - margin) (or
 * x (1 + margin) for "below" signals) and has stayed there clear_delay_ms. */
typedef struct score_rule {
    int enabled;
    int level;
    char assignees[SCORE_ASSIGNEE_MAX][SCORE_NAME_MAX]; /* routing hints */
    size_t n_assignees;
    double margin; /* [0, 1) */
    int64_t clear_delay_ms; /* >= 0 */
} score_rule;

typedef struct score_risk_map {
    char tag[SCORE_NAME_MAX];
    int level; /* 0 = the rule's level */
    char assignee[SCORE_NAME_MAX]; /* "" = the rule's first assignee */
} score_risk_map;

/* Health dimensions, in the order of the design. */
typedef enum score_dim {
    SCORE_DIM_CONTACT_FREQUENCY = 0,
    SCORE_DIM_KEY_ROLE_COVERAGE,
    SCORE_DIM_PROPOSAL_ITERATIONS,
    SCORE_DIM_COMPETITOR_RESPONSE,
    SCORE_DIM_STAGE_DWELL,
    SCORE_DIM_RESPONSE_LATENCY,
    SCORE_DIM_ENGAGEMENT_TREND,
    SCORE_DIM_NEXT_STEP,
    SCORE_DIM_OPEN_RISKS,
    SCORE_DIM_CARD_QUALITY,
    SCORE_DIM_COUNT
} score_dim;

/* "contact_frequency", ...; NULL out of range. */
const char *score_dim_name(score_dim dim);

/* Anchors of a piecewise-linear 0..100 score: for "higher is better"
 * measures bad -> 40, good -> 70, full -> 100; for "lower is better" good ->
 * 70, bad -> 40, 0 -> 100, 2 x bad -> 0. */
typedef struct score_anchor {
    double good, bad, full;
} score_anchor;

typedef struct score_health_rules {
    double weights[SCORE_DIM_COUNT]; /* >= 0, sum > 0 */
    double green_min; /* score >= green_min is green (70) */
    double yellow_min; /* score >= yellow_min is yellow (40) */
    double contact_norm_30d[SCORE_STAGE_COUNT]; /* expected contacts in 30 days per stage */
    score_anchor contact_ratio; /* contacts / norm: higher is better */
    double role_days; /* a role counts covered when seen within this (30) */
    score_anchor role_share; /* covered / required: higher is better */
    score_anchor competitor_hours; /* our response delay to a competitor mention: lower is better */
    score_anchor latency_hours; /* median response latency: lower is better */
    score_anchor engagement_ratio; /* this 14 days / previous 14: higher is better */
    double next_step_grace_days; /* overdue up to this is yellow */
    score_anchor risk_age_days; /* oldest open risk: lower is better */
    double risk_extra_penalty; /* points off per open risk beyond the first */
    score_anchor card_quality; /* completeness x credibility: higher is better */
} score_health_rules;

typedef struct score_rules {
    score_rule rule[SCORE_KIND_COUNT];

    struct {
        double days; /* 7 */
        char intents[SCORE_INTENT_MAX][SCORE_NAME_MAX]; /* customer commitments */
        size_t n_intents;
    } no_progress;
    struct {
        double days; /* 30 */
        int min_stage; /* proposal */
        int roles[SCORE_ROLE_MAX]; /* Salespulse__V1__Role values */
        size_t n_roles;
    } key_role;
    struct {
        double visits_min; /* 5 */
        double ratio_min; /* 3 */
        double mentions_min; /* 2 */
        double mentions_window_days; /* 14 */
    } surge;
    struct {
        double count; /* 2 */
        double window_days; /* 30 */
    } demo_refused;
    struct {
        double norm_days[SCORE_STAGE_COUNT]; /* 0 = no norm for the stage */
        double yellow_factor; /* 1.0 */
        double red_factor; /* 1.5: signal */
    } stalled;
    struct {
        score_risk_map map[SCORE_RISK_MAX];
        size_t n; /* tags not listed use rule[SCORE_RISK_RAISED].level/assignees */
    } risk;
    struct {
        double l1_hours; /* 24 */
        double l2_hours; /* 48 */
        int l2_level; /* 2 */
        char l2_assignee[SCORE_NAME_MAX];
    } unanswered;
    struct {
        double visits_gt; /* 3: fires when visits > 3 */
        double window_days; /* 7 */
    } warming;
    struct {
        double days; /* 30 */
    } stale;
    struct {
        double working_days; /* 3 */
    } key_action;
    struct {
        double days; /* 5 */
    } status;
    struct {
        double share_gt; /* 0.40 */
        double weeks; /* 2 consecutive ISO weeks */
        double timeout_hours; /* 48 */
        double min_new_leads; /* weeks with fewer new leads do not count */
    } first_visit;
    struct {
        double ratio_lt; /* 0.5 of the baseline */
        double window_days; /* 30 */
        double baseline_days; /* 180 */
        double min_deals; /* 20 */
    } funnel;
    score_health_rules health;
} score_rules;

/* Fills r with the design's defaults (the shipped score_rules.json). */
void score_rules_defaults(score_rules *r);

/* Loads and validates a rules file over the defaults. On error returns
 * SP_ECONFIG (SP_ENOMEM) with "file: rule.key: problem" in errbuf; *out
 * untouched. Caller frees with score_rules_destroy. */
sp_err score_rules_load(const char *path, score_rules **out, char *errbuf, size_t errlen);

/* As score_rules_load from JSON text; name is the file name in messages. */
sp_err score_rules_load_string(
    const char *json, const char *name, score_rules **out, char *errbuf, size_t errlen);

/* Accepts NULL. */
void score_rules_destroy(score_rules *r);

/* Level and assignee hint of a deal.risk_raised tag: the mapped entry, else
 * the rule's default level and first assignee. */
void score_rules_risk_lookup(const score_rules *r, const char *tag, int *level, const char **assignee);

#endif
