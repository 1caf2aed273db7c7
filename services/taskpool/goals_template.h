/* goals_template.h - industry goal templates: for a target kind (e.g.
 * "new_a_class_customers"), the action units per customer-lifecycle stage,
 * how many of each per `per` target units, their historical conversion
 * weight, and each action's quality standard. Loaded from
 * deploy/tenants/<tenant>/goal_templates/<industry>.json (docs/goals.md) and
 * validated: a missing stage, conversion weights that do not add up to 1, an
 * unknown key or a wrong type fails with a message naming file, item and key,
 * e.g. "education.json: targets[0].stages[2].actions[0].count: must be > 0".
 * A template set is immutable once loaded. */
#ifndef GOALS_TEMPLATE_H
#define GOALS_TEMPLATE_H

#include "err.h"

#include <stddef.h>
#include <stdint.h>

/* Action units; the order and names follow Salespulse__V1__ActivityKind - 1. */
typedef enum goals_action {
    GOALS_VISIT = 0,
    GOALS_NEEDS_DIAGNOSIS,
    GOALS_PROPOSAL,
    GOALS_EXECUTIVE_VISIT,
    GOALS_DEMO,
    GOALS_TOUCH,
    GOALS_ACTION_COUNT
} goals_action;

/* Customer-lifecycle stages every target must cover. */
typedef enum goals_stage {
    GOALS_STAGE_LEAD = 0, /* "lead": reach the right people */
    GOALS_STAGE_DISCOVERY, /* "discovery": understand the need */
    GOALS_STAGE_SOLUTION, /* "solution": tailored proposal, demo */
    GOALS_STAGE_DECISION, /* "decision": win the decision maker */
    GOALS_STAGE_COUNT
} goals_stage;

/* Roles a needs diagnosis may have to cover (bit = 1 << role). */
typedef enum goals_role {
    GOALS_ROLE_PROCUREMENT = 0,
    GOALS_ROLE_TECHNICAL,
    GOALS_ROLE_DECISION_MAKER,
    GOALS_ROLE_USER,
    GOALS_ROLE_FINANCE,
    GOALS_ROLE_COUNT
} goals_role;

#define GOALS_NAME_MAX    64
#define GOALS_MAX_TARGETS 8
#define GOALS_DESC_MAX    256

typedef struct goals_quality {
    unsigned roles_required; /* bit set of goals_role */
    int customer_data_required; /* proposal must carry customer-specific data */
    int next_step_required; /* an agreed next step must be recorded */
} goals_quality;

typedef struct goals_unit {
    int used; /* 1: this action is part of the target */
    goals_stage stage;
    int64_t count; /* actions per `per` target units */
    double weight; /* historical conversion weight; weights of a target sum to 1 */
    goals_quality quality;
    char description[GOALS_DESC_MAX]; /* the template's free text, "" when none */
} goals_unit;

typedef struct goals_target {
    char kind[GOALS_NAME_MAX]; /* "new_a_class_customers", "signed_revenue", ... */
    char unit[GOALS_NAME_MAX]; /* "customers", "CNY" */
    int64_t per; /* counts are per this many target units */
    goals_unit action[GOALS_ACTION_COUNT];
} goals_target;

typedef struct goals_template {
    char industry[GOALS_NAME_MAX];
    double health_completion_weight; /* health = 100 * (cw * completion + qw * pass rate) */
    double health_quality_weight;
    size_t n_targets;
    goals_target target[GOALS_MAX_TARGETS];
} goals_template;

/* Name of an action ("needs_diagnosis"), stage ("discovery"), role ("decision_maker"). */
const char *goals_action_name(goals_action a);
const char *goals_stage_name(goals_stage s);
const char *goals_role_name(goals_role r);
/* Parses a name; returns the index or -1 when unknown. */
int goals_action_parse(const char *name);
/* Chinese names of an action ("需求诊断") and a role ("决策人"). */
const char *goals_action_name_zh(goals_action a);
const char *goals_role_name_zh(goals_role r);

/* The quality standard q as one line for people, English (zh = 0: "must
 * cover procurement, technical, decision_maker; agreed next step recorded")
 * or Chinese (zh = 1); "no quality standard" / "无质量标准" when q asks
 * nothing. Truncated to cap (UTF-8 safe); returns the untruncated length. */
size_t goals_quality_text(const goals_quality *q, int zh, char *buf, size_t cap);

/* Loads and validates one template file. On error returns SP_ECONFIG (or
 * SP_ENOMEM) with a message naming file, item and key in errbuf. Caller frees
 * *out with goals_template_destroy. */
sp_err goals_template_load(const char *path, goals_template **out, char *errbuf, size_t errlen);
/* The same from JSON text; `name` stands for the file name in messages. */
sp_err goals_template_parse(
    const char *name, const char *json, goals_template **out, char *errbuf, size_t errlen);
void goals_template_destroy(goals_template *t);

/* The target of a kind, or NULL. */
const goals_target *goals_template_target(const goals_template *t, const char *kind);

/* Company-level action totals for `target` units: round(target * count / per)
 * for every used action (0 for the others). Fails SP_EINVAL on a negative or
 * overflowing target. */
sp_err goals_target_actions(const goals_target *t, int64_t target, int64_t out[GOALS_ACTION_COUNT]);

#endif
