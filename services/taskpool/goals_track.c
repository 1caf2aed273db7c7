/* goals_track.c - quality-checked action counts and goal health. */
#include "taskpool/goals_track.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct goals_actuals {
    size_t n;
    int n_weeks;
    int64_t *passed; /* [rep][week][action] */
    int64_t *failed;
    int64_t *results; /* [rep][week] */
};

#define AIX(x, r, w, a) (((r) * (size_t)(x)->n_weeks + (size_t)(w)) * GOALS_ACTION_COUNT + (size_t)(a))

int goals_quality_check(const goals_target *t, const goals_activity *a, char *why, size_t cap)
{
    if (why && cap) why[0] = '\0';
    if (!t || !a || (unsigned)a->action >= GOALS_ACTION_COUNT) {
        if (why) snprintf(why, cap, "unknown action");
        return 0;
    }
    const goals_quality *q = &t->action[a->action].quality;
    unsigned missing = q->roles_required & ~a->roles_covered;
    if (missing) {
        size_t l = 0;
        if (why && cap) l = (size_t)snprintf(why, cap, "missing roles: ");
        for (int r = 0; r < GOALS_ROLE_COUNT; r++) {
            if (!(missing & (1u << r)) || !why || l >= cap) continue;
            l += (size_t)snprintf(
                why + l, cap - l, "%s%s", why[l - 1] == ' ' ? "" : ",", goals_role_name((goals_role)r));
        }
        return 0;
    }
    if (q->customer_data_required && !a->customer_specific_data) {
        if (why) snprintf(why, cap, "no customer-specific data");
        return 0;
    }
    if (q->next_step_required && !a->has_next_step) {
        if (why) snprintf(why, cap, "no agreed next step");
        return 0;
    }
    return 1;
}

sp_err goals_actuals_new(const goals_plan *p, goals_actuals **out)
{
    if (!p || !out) return SP_EINVAL;
    goals_actuals *x = calloc(1, sizeof *x);
    if (!x) return SP_ENOMEM;
    x->n = goals_plan_n_reps(p);
    x->n_weeks = goals_plan_n_weeks(p);
    size_t cells = x->n * (size_t)x->n_weeks;
    x->passed = calloc(cells * GOALS_ACTION_COUNT, sizeof *x->passed);
    x->failed = calloc(cells * GOALS_ACTION_COUNT, sizeof *x->failed);
    x->results = calloc(cells, sizeof *x->results);
    if (!x->passed || !x->failed || !x->results) {
        goals_actuals_destroy(x);
        return SP_ENOMEM;
    }
    *out = x;
    return SP_OK;
}

void goals_actuals_destroy(goals_actuals *x)
{
    if (!x) return;
    free(x->passed);
    free(x->failed);
    free(x->results);
    free(x);
}

sp_err goals_actuals_add(goals_actuals *x, const goals_plan *p, const goals_target *t,
    const goals_activity *a, goals_count *result, char *why, size_t cap)
{
    if (!x || !p || !t || !a) return SP_EINVAL;
    if (result) *result = GOALS_IGNORED;
    if (why && cap) why[0] = '\0';
    int r = goals_plan_rep_index(p, a->rep_id);
    int w = goals_plan_week_of(p, a->at_ms);
    if (r < 0 || w < 0 || (unsigned)a->action >= GOALS_ACTION_COUNT || !t->action[a->action].used)
        return SP_OK;
    int ok = goals_quality_check(t, a, why, cap);
    if (ok)
        x->passed[AIX(x, (size_t)r, w, a->action)]++;
    else
        x->failed[AIX(x, (size_t)r, w, a->action)]++;
    if (result) *result = ok ? GOALS_COUNTED_PASSED : GOALS_COUNTED_FAILED;
    return SP_OK;
}

sp_err goals_actuals_add_judged(goals_actuals *x, const goals_plan *p, const goals_target *t,
    const char *rep_id, goals_action action, int64_t at_ms, int passed, goals_count *result)
{
    if (!x || !p || !t) return SP_EINVAL;
    if (result) *result = GOALS_IGNORED;
    int r = goals_plan_rep_index(p, rep_id);
    int w = goals_plan_week_of(p, at_ms);
    if (r < 0 || w < 0 || (unsigned)action >= GOALS_ACTION_COUNT || !t->action[action].used) return SP_OK;
    if (passed)
        x->passed[AIX(x, (size_t)r, w, action)]++;
    else
        x->failed[AIX(x, (size_t)r, w, action)]++;
    if (result) *result = passed ? GOALS_COUNTED_PASSED : GOALS_COUNTED_FAILED;
    return SP_OK;
}

sp_err goals_actuals_add_result(
    goals_actuals *x, const goals_plan *p, const char *rep_id, int64_t at_ms, int64_t units)
{
    if (!x || !p) return SP_EINVAL;
    int r = goals_plan_rep_index(p, rep_id);
    int w = goals_plan_week_of(p, at_ms);
    if (r < 0 || w < 0 || units < 0) return SP_EINVAL;
    x->results[(size_t)r * (size_t)x->n_weeks + (size_t)w] += units;
    return SP_OK;
}

static int64_t sum(const goals_actuals *x, const int64_t *arr, const goals_plan *p, goals_scope scope,
    const char *id, int w0, int w1, int a)
{
    int64_t s = 0;
    if (!x || !p) return 0;
    if (w0 < 0) w0 = 0;
    if (w1 > x->n_weeks) w1 = x->n_weeks;
    for (size_t r = 0; r < x->n; r++) {
        if (!goals_plan_rep_in(p, r, scope, id)) continue;
        for (int w = w0; w < w1; w++)
            s += a < 0 ? arr[r * (size_t)x->n_weeks + (size_t)w] : arr[AIX(x, r, w, a)];
    }
    return s;
}

int64_t goals_actuals_passed(const goals_actuals *x, const goals_plan *p, goals_scope scope, const char *id,
    int w0, int w1, goals_action a)
{
    return (unsigned)a < GOALS_ACTION_COUNT && x ? sum(x, x->passed, p, scope, id, w0, w1, (int)a) : 0;
}

int64_t goals_actuals_failed(const goals_actuals *x, const goals_plan *p, goals_scope scope, const char *id,
    int w0, int w1, goals_action a)
{
    return (unsigned)a < GOALS_ACTION_COUNT && x ? sum(x, x->failed, p, scope, id, w0, w1, (int)a) : 0;
}

int64_t goals_actuals_results(
    const goals_actuals *x, const goals_plan *p, goals_scope scope, const char *id, int w0, int w1)
{
    return x ? sum(x, x->results, p, scope, id, w0, w1, -1) : 0;
}

/* Most behind first: larger share missing, then larger shortfall, then action order. */
static int behind_cmp(const void *a, const void *b)
{
    const goals_behind *x = a, *y = b;
    double fx = (double)x->shortfall / (double)x->planned, fy = (double)y->shortfall / (double)y->planned;
    if (fx != fy) return fx > fy ? -1 : 1;
    if (x->shortfall != y->shortfall) return x->shortfall > y->shortfall ? -1 : 1;
    return (int)x->action - (int)y->action;
}

static int has_rep(const goals_plan *p, goals_scope scope, const char *id)
{
    for (size_t r = 0; r < goals_plan_n_reps(p); r++)
        if (goals_plan_rep_in(p, r, scope, id)) return 1;
    return 0;
}

sp_err goals_health_compute(const goals_plan *p, const goals_actuals *x, const goals_template *tmpl,
    const goals_target *t, goals_scope scope, const char *id, int through_week, goals_health *out)
{
    if (!p || !x || !t || !out || through_week < 0 || through_week >= goals_plan_n_weeks(p)) return SP_EINVAL;
    if (!has_rep(p, scope, id)) return SP_EINVAL;
    memset(out, 0, sizeof *out);
    double cw = tmpl ? tmpl->health_completion_weight : 0.7, qw = tmpl ? tmpl->health_quality_weight : 0.3;
    double wsum = 0, wdone = 0;
    goals_behind all[GOALS_ACTION_COUNT];
    size_t nb = 0;
    for (int a = 0; a < GOALS_ACTION_COUNT; a++) {
        if (!t->action[a].used) continue;
        int64_t pl = goals_plan_sum(p, scope, id, 0, through_week + 1, a);
        int64_t ps = goals_actuals_passed(x, p, scope, id, 0, through_week + 1, (goals_action)a);
        int64_t fl = goals_actuals_failed(x, p, scope, id, 0, through_week + 1, (goals_action)a);
        out->planned += pl;
        out->passed += ps;
        out->failed += fl;
        if (pl > 0) {
            wsum += t->action[a].weight;
            wdone += t->action[a].weight * (ps >= pl ? 1.0 : (double)ps / (double)pl);
            if (ps < pl) all[nb++] = (goals_behind) {(goals_action)a, pl, ps, pl - ps};
        }
    }
    out->completion = wsum > 0 ? wdone / wsum : 1.0;
    out->pass_rate
        = out->passed + out->failed > 0 ? (double)out->passed / (double)(out->passed + out->failed) : 1.0;
    double s = 100.0 * (cw * out->completion + qw * out->pass_rate);
    out->score = (int)lround(s < 0 ? 0 : s > 100 ? 100 : s);
    qsort(all, nb, sizeof *all, behind_cmp);
    out->n_behind = nb < 3 ? nb : 3;
    memcpy(out->behind, all, out->n_behind * sizeof *all);
    return SP_OK;
}
