/* goals_plan.c - goal decomposition: largest-remainder splits down the org
 * and over weeks. */
#include "taskpool/goals_plan.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_UNITS 5000000 /* action units per action and plan: bounds memory */

struct goals_plan {
    size_t n;
    int n_weeks;
    int64_t start_ms;
    int64_t target;
    char (*id)[GOALS_NAME_MAX];
    char (*team)[GOALS_NAME_MAX];
    char (*region)[GOALS_NAME_MAX];
    double *w; /* rep weight (capacity or history) */
    double week_w[GOALS_MAX_WEEKS];
    int64_t *cell; /* [rep][week][action] */
    int64_t *tcell; /* [rep][week] target units */
};

#define CELL(p, c, r, wk, a)                                                                                 \
    (c)[((r) * (size_t)(p)->n_weeks + (size_t)(wk)) * GOALS_ACTION_COUNT + (size_t)(a)]
#define TCELL(p, c, r, wk) (c)[(r) * (size_t)(p)->n_weeks + (size_t)(wk)]

typedef struct rem_item {
    double frac;
    size_t i;
} rem_item;

static int rem_cmp(const void *a, const void *b)
{
    const rem_item *x = a, *y = b;
    if (x->frac > y->frac) return -1;
    if (x->frac < y->frac) return 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

sp_err goals_apportion(int64_t total, const double *w, size_t n, int64_t *out)
{
    if (total < 0 || n == 0 || !w || !out) return SP_EINVAL;
    long double sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(w[i]) || w[i] < 0) return SP_EINVAL;
        sum += w[i];
    }
    rem_item *r = malloc(n * sizeof *r);
    if (!r) return SP_ENOMEM;
    int64_t given = 0;
    for (size_t i = 0; i < n; i++) {
        long double q = sum > 0 ? (long double)total * w[i] / sum : (long double)total / n;
        long double f = floorl(q);
        out[i] = (int64_t)f;
        if (out[i] > total) out[i] = total;
        given += out[i];
        r[i] = (rem_item) {(double)(q - f), i};
    }
    /* Guards against rounding in q: never hand out more than total. */
    for (size_t i = 0; given > total && i < n; i++) {
        int64_t take = out[i] < given - total ? out[i] : given - total;
        out[i] -= take;
        given -= take;
    }
    qsort(r, n, sizeof *r, rem_cmp);
    for (size_t k = 0; given < total; k = (k + 1) % n, given++)
        out[r[k].i]++;
    free(r);
    return SP_OK;
}

/* --- splitting down the org -------------------------------------------- */

static const char *level_key(const goals_plan *p, size_t rep, int level)
{
    return level == 0 ? p->region[rep] : p->team[rep];
}

/* Splits `total` over members (rep indices) at `level` (0 regions, 1 teams,
 * 2 reps), writing each rep's share into rep_out. */
static sp_err split_level(
    const goals_plan *p, int64_t total, const size_t *members, size_t m, int level, int64_t *rep_out)
{
    sp_err rv = SP_ENOMEM;
    double *gw = calloc(m, sizeof *gw);
    int64_t *share = calloc(m, sizeof *share);
    size_t *grp = calloc(m, sizeof *grp); /* group of each member */
    size_t *first = calloc(m, sizeof *first); /* first member of each group */
    size_t *sub = calloc(m, sizeof *sub);
    if (!gw || !share || !grp || !first || !sub) goto fail;
    if (level == 2) {
        for (size_t i = 0; i < m; i++)
            gw[i] = p->w[members[i]];
        if ((rv = goals_apportion(total, gw, m, share))) goto fail;
        for (size_t i = 0; i < m; i++)
            rep_out[members[i]] = share[i];
        rv = SP_OK;
        goto fail;
    }
    size_t ng = 0;
    for (size_t i = 0; i < m; i++) {
        size_t g = 0;
        while (g < ng && strcmp(level_key(p, first[g], level), level_key(p, members[i], level)))
            g++;
        if (g == ng) first[ng++] = members[i];
        grp[i] = g;
        gw[g] += p->w[members[i]];
    }
    if ((rv = goals_apportion(total, gw, ng, share))) goto fail;
    for (size_t g = 0; g < ng; g++) {
        size_t k = 0;
        for (size_t i = 0; i < m; i++)
            if (grp[i] == g) sub[k++] = members[i];
        if ((rv = split_level(p, share[g], sub, k, level + 1, rep_out))) goto fail;
    }
    rv = SP_OK;
fail:
    free(gw);
    free(share);
    free(grp);
    free(first);
    free(sub);
    return rv;
}

static sp_err split_down(const goals_plan *p, int64_t total, int64_t *rep_out)
{
    size_t *all = malloc(p->n * sizeof *all);
    if (!all) return SP_ENOMEM;
    for (size_t i = 0; i < p->n; i++)
        all[i] = i;
    sp_err rv = split_level(p, total, all, p->n, 0, rep_out);
    free(all);
    return rv;
}

/* --- spreading over weeks ---------------------------------------------- */

typedef struct unit {
    int64_t num; /* 2k+1 */
    int64_t den; /* 2 * rep total: the unit's ideal time is num/den of the span */
    size_t rep;
} unit;

static int unit_cmp(const void *a, const void *b)
{
    const unit *x = a, *y = b;
    /* num <= 2*MAX_UNITS, den <= 2*MAX_UNITS: the products fit in int64 */
    int64_t l = x->num * y->den, r = y->num * x->den;
    if (l != r) return l < r ? -1 : 1;
    return x->rep < y->rep ? -1 : x->rep > y->rep;
}

/* Fills weeks [w0, n_weeks) of each rep from rep totals R: the span's week
 * quotas are a largest-remainder split of sum(R) by week weight, and units
 * are dealt in order of their ideal time so each rep's units spread evenly.
 * put(rep, week) is called once per unit through the cells pointer. */
static sp_err spread(const goals_plan *p, const int64_t *R, int w0, int64_t *cells, int stride_action)
{
    int64_t total = 0;
    for (size_t r = 0; r < p->n; r++)
        total += R[r];
    if (total > MAX_UNITS) return SP_EINVAL;
    int nw = p->n_weeks - w0;
    int64_t W[GOALS_MAX_WEEKS];
    sp_err rv = goals_apportion(total, p->week_w + w0, (size_t)nw, W);
    if (rv) return rv;
    if (total == 0) return SP_OK;
    unit *u = malloc((size_t)total * sizeof *u);
    if (!u) return SP_ENOMEM;
    size_t k = 0;
    for (size_t r = 0; r < p->n; r++)
        for (int64_t j = 0; j < R[r]; j++)
            u[k++] = (unit) {2 * j + 1, 2 * R[r], r};
    qsort(u, (size_t)total, sizeof *u, unit_cmp);
    int w = 0;
    int64_t filled = 0;
    for (size_t i = 0; i < (size_t)total; i++) {
        while (filled == W[w]) {
            w++;
            filled = 0;
        }
        if (stride_action >= 0)
            CELL(p, cells, u[i].rep, w0 + w, stride_action)++;
        else
            TCELL(p, cells, u[i].rep, w0 + w)++;
        filled++;
    }
    free(u);
    return SP_OK;
}

/* Re-fills weeks >= w0 of cell/tcell for the new totals. */
static sp_err fill(
    const goals_plan *p, const goals_target *t, int64_t target, int w0, int64_t *cell, int64_t *tcell)
{
    int64_t totals[GOALS_ACTION_COUNT];
    sp_err rv = goals_target_actions(t, target, totals);
    if (rv) return rv;
    int64_t *R = calloc(p->n ? p->n : 1, sizeof *R);
    if (!R) return SP_ENOMEM;
    for (int a = -1; a < GOALS_ACTION_COUNT; a++) {
        int64_t past = 0, want = a < 0 ? target : totals[a];
        for (size_t r = 0; r < p->n; r++)
            for (int w = 0; w < p->n_weeks; w++) {
                int64_t *c = a < 0 ? &TCELL(p, tcell, r, w) : &CELL(p, cell, r, w, a);
                if (w < w0)
                    past += *c;
                else
                    *c = 0;
            }
        int64_t rem = want > past ? want - past : 0;
        if ((rv = split_down(p, rem, R))) break;
        if ((rv = spread(p, R, w0, a < 0 ? tcell : cell, a))) break;
    }
    free(R);
    return rv;
}

/* --- build ------------------------------------------------------------- */

__attribute__((format(printf, 3, 4))) static sp_err fail_msg(
    char *errbuf, size_t errlen, const char *fmt, ...)
{
    if (errbuf && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errbuf, errlen, fmt, ap);
        va_end(ap);
    }
    return SP_EINVAL;
}

static int name_ok(const char *s)
{
    return s && *s && strlen(s) < GOALS_NAME_MAX;
}

static int in_scope(const goals_rep *r, const goals_goal *g)
{
    if (g->scope == GOALS_SCOPE_REGION) return !strcmp(r->region_id, g->scope_id);
    if (g->scope == GOALS_SCOPE_TEAM) return !strcmp(r->team_id, g->scope_id);
    return 1;
}

sp_err goals_plan_build(const goals_target *t, const goals_rep *reps, size_t n, const goals_goal *g,
    goals_plan **out, char *errbuf, size_t errlen)
{
    if (!t || !g || !out) return fail_msg(errbuf, errlen, "goal: missing argument");
    if (g->target < 0) return fail_msg(errbuf, errlen, "goal.target: must be >= 0");
    if (g->n_weeks < 1 || g->n_weeks > GOALS_MAX_WEEKS)
        return fail_msg(errbuf, errlen, "goal.n_weeks: must be 1..%d", GOALS_MAX_WEEKS);
    if (g->scope != GOALS_SCOPE_COMPANY && g->scope != GOALS_SCOPE_REGION && g->scope != GOALS_SCOPE_TEAM)
        return fail_msg(errbuf, errlen, "goal.scope: must be company, region or team");
    if (g->scope != GOALS_SCOPE_COMPANY && !name_ok(g->scope_id))
        return fail_msg(errbuf, errlen, "goal.scope_id: missing");
    double wsum = 0;
    for (int w = 0; g->week_weights && w < g->n_weeks; w++) {
        if (!isfinite(g->week_weights[w]) || g->week_weights[w] < 0)
            return fail_msg(errbuf, errlen, "goal.week_weights[%d]: must be >= 0", w);
        wsum += g->week_weights[w];
    }
    if (g->week_weights && !(wsum > 0)) return fail_msg(errbuf, errlen, "goal.week_weights: all 0");
    size_t m = 0;
    double hist = 0;
    for (size_t i = 0; i < n; i++) {
        const goals_rep *r = &reps[i];
        if (!name_ok(r->id)) return fail_msg(errbuf, errlen, "reps[%zu].id: missing or too long", i);
        if (!name_ok(r->team_id))
            return fail_msg(errbuf, errlen, "reps[%zu].team_id: missing or too long", i);
        if (!name_ok(r->region_id))
            return fail_msg(errbuf, errlen, "reps[%zu].region_id: missing or too long", i);
        if (!isfinite(r->capacity) || !(r->capacity > 0))
            return fail_msg(errbuf, errlen, "reps[%zu].capacity: must be > 0", i);
        if (!isfinite(r->history) || r->history < 0)
            return fail_msg(errbuf, errlen, "reps[%zu].history: must be >= 0", i);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(reps[j].id, r->id))
                return fail_msg(errbuf, errlen, "reps[%zu].id: \"%s\" appears twice", i, r->id);
        if (in_scope(r, g)) {
            m++;
            hist += r->history;
        }
    }
    if (m == 0) {
        if (g->scope == GOALS_SCOPE_COMPANY) return fail_msg(errbuf, errlen, "reps: none");
        return fail_msg(errbuf, errlen, "goal.scope_id: unknown %s \"%s\"",
            g->scope == GOALS_SCOPE_REGION ? "region" : "team", g->scope_id);
    }
    goals_plan *p = calloc(1, sizeof *p);
    if (!p) return SP_ENOMEM;
    p->n = m;
    p->n_weeks = g->n_weeks;
    p->start_ms = g->start_ms;
    p->target = g->target;
    p->id = calloc(m, sizeof *p->id);
    p->team = calloc(m, sizeof *p->team);
    p->region = calloc(m, sizeof *p->region);
    p->w = calloc(m, sizeof *p->w);
    p->cell = calloc(m * (size_t)g->n_weeks * GOALS_ACTION_COUNT, sizeof *p->cell);
    p->tcell = calloc(m * (size_t)g->n_weeks, sizeof *p->tcell);
    sp_err rv = SP_ENOMEM;
    if (!p->id || !p->team || !p->region || !p->w || !p->cell || !p->tcell) goto fail;
    for (int w = 0; w < g->n_weeks; w++)
        p->week_w[w] = g->week_weights ? g->week_weights[w] : 1.0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!in_scope(&reps[i], g)) continue;
        snprintf(p->id[k], GOALS_NAME_MAX, "%s", reps[i].id);
        snprintf(p->team[k], GOALS_NAME_MAX, "%s", reps[i].team_id);
        snprintf(p->region[k], GOALS_NAME_MAX, "%s", reps[i].region_id);
        p->w[k] = g->basis == GOALS_BASIS_HISTORY && hist > 0 ? reps[i].history : reps[i].capacity;
        k++;
    }
    if ((rv = fill(p, t, g->target, 0, p->cell, p->tcell))) {
        fail_msg(
            errbuf, errlen, "goal.target: too large for a plan (over %d units of one action)", MAX_UNITS);
        goto fail;
    }
    *out = p;
    return SP_OK;
fail:
    goals_plan_destroy(p);
    return rv;
}

void goals_plan_destroy(goals_plan *p)
{
    if (!p) return;
    free(p->id);
    free(p->team);
    free(p->region);
    free(p->w);
    free(p->cell);
    free(p->tcell);
    free(p);
}

sp_err goals_plan_replan(goals_plan *p, const goals_target *t, int64_t new_target, int from_week)
{
    if (!p || !t || new_target < 0 || from_week < 0 || from_week >= p->n_weeks) return SP_EINVAL;
    size_t nc = p->n * (size_t)p->n_weeks;
    int64_t *cell = malloc(nc * GOALS_ACTION_COUNT * sizeof *cell);
    int64_t *tcell = malloc(nc * sizeof *tcell);
    sp_err rv = SP_ENOMEM;
    if (!cell || !tcell) goto done;
    memcpy(cell, p->cell, nc * GOALS_ACTION_COUNT * sizeof *cell);
    memcpy(tcell, p->tcell, nc * sizeof *tcell);
    if ((rv = fill(p, t, new_target, from_week, cell, tcell))) goto done;
    int64_t *oc = p->cell, *ot = p->tcell;
    p->cell = cell;
    p->tcell = tcell;
    cell = oc;
    tcell = ot;
    p->target = new_target;
done:
    free(cell);
    free(tcell);
    return rv;
}

sp_err goals_plan_set_cell(goals_plan *p, size_t rep, int week, int a, int64_t value)
{
    if (!p || rep >= p->n || week < 0 || week >= p->n_weeks || a < -1 || a >= GOALS_ACTION_COUNT || value < 0)
        return SP_EINVAL;
    if (a < 0)
        TCELL(p, p->tcell, rep, week) = value;
    else
        CELL(p, p->cell, rep, week, a) = value;
    return SP_OK;
}

/* --- accessors --------------------------------------------------------- */

size_t goals_plan_n_reps(const goals_plan *p)
{
    return p ? p->n : 0;
}

int goals_plan_n_weeks(const goals_plan *p)
{
    return p ? p->n_weeks : 0;
}

int64_t goals_plan_start_ms(const goals_plan *p)
{
    return p ? p->start_ms : 0;
}

int64_t goals_plan_target(const goals_plan *p)
{
    return p ? p->target : 0;
}

const char *goals_plan_rep_id(const goals_plan *p, size_t rep)
{
    return p && rep < p->n ? p->id[rep] : NULL;
}

const char *goals_plan_rep_team(const goals_plan *p, size_t rep)
{
    return p && rep < p->n ? p->team[rep] : NULL;
}

const char *goals_plan_rep_region(const goals_plan *p, size_t rep)
{
    return p && rep < p->n ? p->region[rep] : NULL;
}

int goals_plan_rep_index(const goals_plan *p, const char *rep_id)
{
    for (size_t i = 0; p && rep_id && i < p->n; i++)
        if (!strcmp(p->id[i], rep_id)) return (int)i;
    return -1;
}

int goals_plan_week_of(const goals_plan *p, int64_t at_ms)
{
    const int64_t week_ms = 7LL * 86400 * 1000;
    if (!p || at_ms < p->start_ms) return -1;
    int64_t w = (at_ms - p->start_ms) / week_ms;
    return w < p->n_weeks ? (int)w : -1;
}

int64_t goals_plan_cell(const goals_plan *p, size_t rep, int week, goals_action a)
{
    if (!p || rep >= p->n || week < 0 || week >= p->n_weeks || (unsigned)a >= GOALS_ACTION_COUNT) return 0;
    return CELL(p, p->cell, rep, week, a);
}

int64_t goals_plan_target_cell(const goals_plan *p, size_t rep, int week)
{
    if (!p || rep >= p->n || week < 0 || week >= p->n_weeks) return 0;
    return TCELL(p, p->tcell, rep, week);
}

int goals_plan_rep_in(const goals_plan *p, size_t rep, goals_scope scope, const char *id)
{
    if (!p || rep >= p->n) return 0;
    switch (scope) {
    case GOALS_SCOPE_COMPANY: return 1;
    case GOALS_SCOPE_REGION: return id && !strcmp(p->region[rep], id);
    case GOALS_SCOPE_TEAM: return id && !strcmp(p->team[rep], id);
    case GOALS_SCOPE_REP: return id && !strcmp(p->id[rep], id);
    }
    return 0;
}

int64_t goals_plan_sum(const goals_plan *p, goals_scope scope, const char *id, int w0, int w1, int a)
{
    int64_t s = 0;
    if (!p || a >= GOALS_ACTION_COUNT || a < -1) return 0;
    if (w0 < 0) w0 = 0;
    if (w1 > p->n_weeks) w1 = p->n_weeks;
    for (size_t r = 0; r < p->n; r++) {
        if (!goals_plan_rep_in(p, r, scope, id)) continue;
        for (int w = w0; w < w1; w++)
            s += a < 0 ? TCELL(p, p->tcell, r, w) : CELL(p, p->cell, r, w, a);
    }
    return s;
}
