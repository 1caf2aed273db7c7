/* goals_review.h - the monthly action-attribution review: not "why was the
 * goal missed" but "which three actions' shortfalls explain the gap, and how
 * do we front-load them next month". For every rep and team, each action's
 * impact = shortfall (planned - passed quality) x its historical conversion
 * weight; the three largest impacts are the causes. Rendered as minutes in
 * Markdown and JSON, and as catch-up items for each rep's task pool
 * (task key "task:goal.catch_up:rep:<id>:<yyyymm>", so a rerun is idempotent).
 * Pure: no I/O, no clock. */
#ifndef GOALS_REVIEW_H
#define GOALS_REVIEW_H

#include "taskpool/goals_track.h"

typedef struct goals_cause {
    goals_action action;
    int64_t planned, passed, failed;
    int64_t shortfall; /* planned - passed, > 0 */
    double impact; /* shortfall x conversion weight */
    double share; /* impact / the subject's total impact */
} goals_cause;

typedef struct goals_review_item {
    goals_scope level; /* GOALS_SCOPE_REP or GOALS_SCOPE_TEAM */
    char id[GOALS_NAME_MAX];
    char team_id[GOALS_NAME_MAX];
    char region_id[GOALS_NAME_MAX];
    int64_t target_planned; /* target units planned in the month */
    int64_t results; /* target units achieved */
    double total_impact;
    int health; /* goal health over the month's weeks, 0..100 */
    size_t n_causes; /* 0..3 */
    goals_cause cause[3];
} goals_review_item;

typedef struct goals_review {
    char month[8]; /* "2026-03" */
    char kind[GOALS_NAME_MAX];
    int w0, w1; /* plan weeks [w0, w1) reviewed */
    size_t n; /* reps first (plan order), then teams (first-seen order) */
    goals_review_item *items;
} goals_review;

/* The plan weeks whose first day (UTC) lies in month `yyyy_mm` ("2026-03"):
 * [*w0, *w1), possibly empty. Fails SP_EINVAL on a malformed month. */
sp_err goals_month_weeks(const goals_plan *p, const char *yyyy_mm, int *w0, int *w1);

/* When the scheduled review of month `yyyy_mm` is due: the first working
 * moment of the next month, 00:00 UTC of its first Monday-Friday date
 * (the tenant's holidays are not applied). SP_EINVAL on a malformed month. */
sp_err goals_review_due_ms(const char *yyyy_mm, int64_t *out);

/* Builds the review of month `yyyy_mm`. Fails SP_EINVAL on a malformed month
 * or when no plan week starts in it. Caller frees with goals_review_destroy. */
sp_err goals_review_build(const goals_plan *p, const goals_actuals *x, const goals_template *tmpl,
    const goals_target *t, const char *yyyy_mm, goals_review **out);
void goals_review_destroy(goals_review *r);

/* The minutes; caller frees *out with free(). */
sp_err goals_review_markdown(const goals_review *r, char **out);
sp_err goals_review_json(const goals_review *r, char **out);

typedef struct goals_catchup {
    char key[192]; /* task:goal.catch_up:rep:<id>:<yyyymm> */
    char rep_id[GOALS_NAME_MAX];
    char team_id[GOALS_NAME_MAX];
    char region_id[GOALS_NAME_MAX];
    size_t n; /* 1..3 */
    goals_action action[3];
    int64_t count[3]; /* extra actions to front-load next month */
    char note[512]; /* one line, English: "front-load next month: 3 needs_diagnosis, ..." */
} goals_catchup;

/* One catch-up item per rep with at least one cause. Caller frees *out with free(). */
sp_err goals_review_catchups(const goals_review *r, goals_catchup **out, size_t *n);

#endif
