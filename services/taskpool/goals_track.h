/* goals_track.h - action tracking against a plan and goal health.
 *
 * A rep activity counts against the plan only when it passes its action's
 * quality standard (from the template); otherwise it is done but failed
 * quality and is counted apart. Goal health for a rep, team, region or the
 * company is a 0-100 score from plan-to-date completion (each action capped
 * at 100 %, weighted by its conversion weight) and the quality pass rate,
 * with the three actions most behind. Pure: no I/O, no clock. */
#ifndef GOALS_TRACK_H
#define GOALS_TRACK_H

#include "taskpool/goals_plan.h"

typedef struct goals_activity {
    const char *rep_id;
    goals_action action;
    int64_t at_ms;
    unsigned roles_covered; /* bit set of goals_role */
    int customer_specific_data;
    int has_next_step;
} goals_activity;

typedef enum goals_count {
    GOALS_COUNTED_PASSED = 0, /* counts against the plan */
    GOALS_COUNTED_FAILED, /* done, failed its quality standard */
    GOALS_IGNORED /* rep not in the plan, outside its weeks, or action not in the target */
} goals_count;

/* Whether an activity meets its action's quality standard in target t; when
 * not, `why` names what is missing ("missing roles: decision_maker"). */
int goals_quality_check(const goals_target *t, const goals_activity *a, char *why, size_t cap);

typedef struct goals_actuals goals_actuals;

/* Actuals sized for a plan. Caller frees with goals_actuals_destroy. */
sp_err goals_actuals_new(const goals_plan *p, goals_actuals **out);
void goals_actuals_destroy(goals_actuals *x);
/* Records one activity; *result says how it counted (may be NULL). */
sp_err goals_actuals_add(goals_actuals *x, const goals_plan *p, const goals_target *t,
    const goals_activity *a, goals_count *result, char *why, size_t cap);
/* Records an activity whose quality was already judged upstream (sp-enrich's
 * interactions.quality_passed): counts like goals_actuals_add. */
sp_err goals_actuals_add_judged(goals_actuals *x, const goals_plan *p, const goals_target *t,
    const char *rep_id, goals_action action, int64_t at_ms, int passed, goals_count *result);
/* Records results (target units achieved, e.g. a new A-class customer) for a rep and week. */
sp_err goals_actuals_add_result(
    goals_actuals *x, const goals_plan *p, const char *rep_id, int64_t at_ms, int64_t units);
/* Sums over the reps of (scope, id) and weeks [w0, w1). */
int64_t goals_actuals_passed(const goals_actuals *x, const goals_plan *p, goals_scope scope, const char *id,
    int w0, int w1, goals_action a);
int64_t goals_actuals_failed(const goals_actuals *x, const goals_plan *p, goals_scope scope, const char *id,
    int w0, int w1, goals_action a);
int64_t goals_actuals_results(
    const goals_actuals *x, const goals_plan *p, goals_scope scope, const char *id, int w0, int w1);

typedef struct goals_behind {
    goals_action action;
    int64_t planned; /* plan to date */
    int64_t passed; /* done and passed quality */
    int64_t shortfall; /* planned - passed, > 0 */
} goals_behind;

typedef struct goals_health {
    int score; /* 0..100 */
    double completion; /* 0..1, weighted by conversion weight, each action capped at 1 */
    double pass_rate; /* passed / (passed + failed); 1 when nothing was done yet */
    int64_t planned, passed, failed; /* all actions, plan to date */
    size_t n_behind; /* 0..3 */
    goals_behind behind[3]; /* most behind first: by shortfall/planned, then shortfall */
} goals_health;

/* Health of (scope, id) over weeks [0, through_week] (the plan to date).
 * Fails SP_EINVAL on a bad week or an unknown subject (no rep in it). */
sp_err goals_health_compute(const goals_plan *p, const goals_actuals *x, const goals_template *tmpl,
    const goals_target *t, goals_scope scope, const char *id, int through_week, goals_health *out);

#endif
