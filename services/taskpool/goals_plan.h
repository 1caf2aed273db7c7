/* goals_plan.h - the decomposition engine: a goal (N target units of a
 * template's target kind, for the company, a region or a team) split down
 * the org (region -> team -> rep, by capacity or by each rep's history) and
 * over weeks into a weekly cadence of action units.
 *
 * Every split is integer apportionment by the largest-remainder method, so
 * the plan sums back exactly: reps to their team, teams to their region,
 * regions to the goal, weeks to each rep's total, and each week's company
 * total equals its own largest-remainder share of the action total. Within
 * a rep, units are spread evenly over the weeks (interleaved, not front
 * loaded). Re-planning keeps the weeks already past and spreads what is left
 * of the new totals over the remaining weeks. Pure: no I/O, no clock. */
#ifndef GOALS_PLAN_H
#define GOALS_PLAN_H

#include "taskpool/goals_template.h"

#define GOALS_MAX_WEEKS 53

typedef struct goals_rep {
    const char *id;
    const char *team_id;
    const char *region_id;
    double capacity; /* relative capacity (e.g. 1.0 = a full rep), > 0 */
    double history; /* last period's result, >= 0 (basis GOALS_BASIS_HISTORY) */
} goals_rep;

typedef enum goals_scope {
    GOALS_SCOPE_COMPANY = 0,
    GOALS_SCOPE_REGION,
    GOALS_SCOPE_TEAM,
    GOALS_SCOPE_REP
} goals_scope;
typedef enum goals_basis { GOALS_BASIS_CAPACITY = 0, GOALS_BASIS_HISTORY } goals_basis;

typedef struct goals_goal {
    goals_scope scope; /* company, region or team */
    const char *scope_id; /* region or team id; ignored for the company */
    int64_t target; /* target units (customers, CNY) */
    int64_t start_ms; /* start of week 0 */
    int n_weeks; /* 1 .. GOALS_MAX_WEEKS */
    goals_basis basis; /* history falls back to capacity when all history is 0 */
    const double *week_weights; /* n_weeks relative weights, or NULL for an even cadence */
} goals_goal;

typedef struct goals_plan goals_plan;

/* Largest-remainder apportionment of `total` over n non-negative weights:
 * out[i] = floor(total * w[i] / sum) plus one for the largest remainders
 * (ties to the lower index); sum(out) == total. All weights 0 = equal split.
 * Fails SP_EINVAL on a negative total, a negative or non-finite weight, n 0. */
sp_err goals_apportion(int64_t total, const double *w, size_t n, int64_t *out);

/* Builds the plan of goal `g` for target `t` over reps[0..n). Refuses with
 * SP_EINVAL and a message naming the item ("goal.scope_id: unknown team
 * \"T9\"", "reps[3].capacity: must be > 0") an unknown region/team, no rep in
 * scope, a bad rep or week count. Caller frees *out with goals_plan_destroy. */
sp_err goals_plan_build(const goals_target *t, const goals_rep *reps, size_t n, const goals_goal *g,
    goals_plan **out, char *errbuf, size_t errlen);
void goals_plan_destroy(goals_plan *p);

/* Re-plans for a new target: weeks before `from_week` keep their plan; the
 * rest of each new action total (never below 0) is apportioned to the reps
 * and spread over weeks from_week .. n_weeks-1. Fails SP_EINVAL on a bad week
 * or target (the plan is then unchanged). */
sp_err goals_plan_replan(goals_plan *p, const goals_target *t, int64_t new_target, int from_week);

/* Sets one stored cell when a plan is loaded back from the database: action
 * a, or the target units when a = -1. Fails SP_EINVAL on a bad index or a
 * negative value. Sums are whatever the stored cells add up to. */
sp_err goals_plan_set_cell(goals_plan *p, size_t rep, int week, int a, int64_t value);

/* Accessors. Rep indices follow the order of the reps given to build (only
 * the reps in scope are kept). */
size_t goals_plan_n_reps(const goals_plan *p);
int goals_plan_n_weeks(const goals_plan *p);
int64_t goals_plan_start_ms(const goals_plan *p);
int64_t goals_plan_target(const goals_plan *p);
const char *goals_plan_rep_id(const goals_plan *p, size_t rep);
const char *goals_plan_rep_team(const goals_plan *p, size_t rep);
const char *goals_plan_rep_region(const goals_plan *p, size_t rep);
int goals_plan_rep_index(const goals_plan *p, const char *rep_id); /* -1 when absent */
/* The week index of an instant, or -1 outside the plan. */
int goals_plan_week_of(const goals_plan *p, int64_t at_ms);
/* Planned count of one action for one rep and week. */
int64_t goals_plan_cell(const goals_plan *p, size_t rep, int week, goals_action a);
/* Target units planned for one rep and week (the target split like the actions). */
int64_t goals_plan_target_cell(const goals_plan *p, size_t rep, int week);
/* Whether rep belongs to the subject (scope, id): company = every rep. */
int goals_plan_rep_in(const goals_plan *p, size_t rep, goals_scope scope, const char *id);
/* Sum of an action over the reps of (scope, id) and weeks [w0, w1); a = -1
 * sums the target units instead. */
int64_t goals_plan_sum(const goals_plan *p, goals_scope scope, const char *id, int w0, int w1, int a);

#endif
