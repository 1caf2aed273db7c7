/* Unit tests of the goal decomposition engine (services/taskpool/goals_plan.c):
 * largest-remainder apportionment, a quarter's plan for 3 regions / 6 teams /
 * 40 reps that sums back at every level and week, scope validation, history
 * basis and re-planning. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "taskpool/goals_plan.h"

#include <stdio.h>
#include <string.h>

#define EDU           "deploy/tenants/default/goal_templates/education.json"
#define N_REPS        40
#define WEEKS         13
#define MAR_2_2026_MS 1772409600000LL /* Monday 2026-03-02 00:00 UTC */

static char rep_ids[N_REPS][16], team_ids[6][16], region_ids[3][16];
static goals_rep reps[N_REPS];

/* 3 regions, 2 teams each, 40 reps spread 7/7/7/7/6/6 with capacities 1, 1.5, 0.5. */
static void make_org(void)
{
    static const int team_size[6] = {7, 7, 7, 7, 6, 6};
    for (int g = 0; g < 3; g++)
        snprintf(region_ids[g], sizeof region_ids[g], "G%d", g + 1);
    for (int t = 0; t < 6; t++)
        snprintf(team_ids[t], sizeof team_ids[t], "T%d", t + 1);
    int r = 0;
    for (int t = 0; t < 6; t++)
        for (int k = 0; k < team_size[t]; k++, r++) {
            snprintf(rep_ids[r], sizeof rep_ids[r], "R%02d", r + 1);
            reps[r] = (goals_rep) {rep_ids[r], team_ids[t], region_ids[t / 2],
                r % 3 == 0       ? 1.5
                    : r % 3 == 1 ? 1.0
                                 : 0.5,
                (double)(r % 5)};
        }
}

static goals_template *edu(void)
{
    char err[256] = "";
    goals_template *t = NULL;
    sp_err rv = goals_template_load(EDU, &t, err, sizeof err);
    if (rv) fprintf(stderr, "%s\n", err);
    assert_int_equal(rv, SP_OK);
    return t;
}

static goals_plan *quarter(const goals_target *t, int64_t target)
{
    goals_goal g = {GOALS_SCOPE_COMPANY, NULL, target, MAR_2_2026_MS, WEEKS, GOALS_BASIS_CAPACITY, NULL};
    goals_plan *p = NULL;
    char err[256] = "";
    assert_int_equal(goals_plan_build(t, reps, N_REPS, &g, &p, err, sizeof err), SP_OK);
    return p;
}

static void test_apportion_table(void **state)
{
    (void)state;
    static const struct {
        int64_t total;
        double w[4];
        size_t n;
        int64_t want[4];
    } cases[] = {
        {10, {1, 1, 1}, 3, {4, 3, 3}},
        {7, {0, 0}, 2, {4, 3}},
        {5, {0.5, 0.3, 0.2}, 3, {3, 1, 1}}, /* 2.5 1.5 1.0: .5 tie goes to the lower index */
        {100, {1, 2, 3, 4}, 4, {10, 20, 30, 40}},
        {20, {1.5, 1, 0.5, 1}, 4, {8, 5, 2, 5}}, /* 7.5 5 2.5 5 */
        {0, {1, 2}, 2, {0, 0}},
        {1, {0, 3, 1}, 3, {0, 1, 0}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t out[4] = {0};
        assert_int_equal(goals_apportion(cases[i].total, cases[i].w, cases[i].n, out), SP_OK);
        int64_t s = 0;
        for (size_t k = 0; k < cases[i].n; k++) {
            assert_int_equal(out[k], cases[i].want[k]);
            s += out[k];
        }
        assert_int_equal(s, cases[i].total);
    }
    int64_t out[2];
    double bad[2] = {1, -1};
    assert_int_equal(goals_apportion(5, bad, 2, out), SP_EINVAL);
    assert_int_equal(goals_apportion(-1, bad, 1, out), SP_EINVAL);
    assert_int_equal(goals_apportion(5, bad, 0, out), SP_EINVAL);
}

/* The plan sums back: reps -> teams -> regions -> company for every action
 * and every week, and weeks -> totals. */
static void test_quarter_sums_back(void **state)
{
    (void)state;
    goals_template *tm = edu();
    const goals_target *t = goals_template_target(tm, "new_a_class_customers");
    assert_non_null(t);
    goals_plan *p = quarter(t, 100);
    assert_int_equal(goals_plan_n_reps(p), N_REPS);
    int64_t want[GOALS_ACTION_COUNT];
    assert_int_equal(goals_target_actions(t, 100, want), SP_OK);
    assert_int_equal(want[GOALS_TOUCH], 200);
    assert_int_equal(want[GOALS_NEEDS_DIAGNOSIS], 80);
    assert_int_equal(want[GOALS_PROPOSAL], 40);
    assert_int_equal(want[GOALS_EXECUTIVE_VISIT], 20);
    assert_int_equal(want[GOALS_VISIT], 0);
    for (int a = -1; a < GOALS_ACTION_COUNT; a++) {
        int64_t total = a < 0 ? 100 : want[a];
        assert_int_equal(goals_plan_sum(p, GOALS_SCOPE_COMPANY, NULL, 0, WEEKS, a), total);
        /* each week's company total is its own largest-remainder share */
        double ww[WEEKS];
        int64_t wq[WEEKS];
        for (int w = 0; w < WEEKS; w++)
            ww[w] = 1;
        assert_int_equal(goals_apportion(total, ww, WEEKS, wq), SP_OK);
        for (int w = 0; w < WEEKS; w++) {
            int64_t c = goals_plan_sum(p, GOALS_SCOPE_COMPANY, NULL, w, w + 1, a);
            assert_int_equal(c, wq[w]);
            int64_t sg = 0;
            for (int g = 0; g < 3; g++) {
                int64_t gv = goals_plan_sum(p, GOALS_SCOPE_REGION, region_ids[g], w, w + 1, a), st = 0;
                for (int k = 0; k < 6; k++)
                    if (k / 2 == g) st += goals_plan_sum(p, GOALS_SCOPE_TEAM, team_ids[k], w, w + 1, a);
                assert_int_equal(st, gv);
                sg += gv;
            }
            assert_int_equal(sg, c);
        }
        /* totals per level, and each rep's weeks add up to its total */
        int64_t sr = 0;
        for (size_t r = 0; r < N_REPS; r++) {
            int64_t rt = goals_plan_sum(p, GOALS_SCOPE_REP, rep_ids[r], 0, WEEKS, a), sw = 0;
            for (int w = 0; w < WEEKS; w++)
                sw += a < 0 ? goals_plan_target_cell(p, r, w) : goals_plan_cell(p, r, w, a);
            assert_int_equal(sw, rt);
            sr += rt;
            /* even cadence: no week holds more than ceil(total/weeks)+1 */
            for (int w = 0; a >= 0 && w < WEEKS; w++)
                assert_true(goals_plan_cell(p, r, w, a) <= (rt + WEEKS - 1) / WEEKS + 1);
        }
        assert_int_equal(sr, total);
    }
    /* by capacity: regions get 20/20/... in proportion; a 1.5 rep gets more touches than a 0.5 rep of the
     * same team */
    assert_true(goals_plan_sum(p, GOALS_SCOPE_REP, "R01", 0, WEEKS, GOALS_TOUCH)
        > goals_plan_sum(p, GOALS_SCOPE_REP, "R03", 0, WEEKS, GOALS_TOUCH));
    /* a rep's units are spread, not front-loaded: R01's touches start in the first weeks and reach the last
     */
    int first = -1, last = -1;
    for (int w = 0; w < WEEKS; w++)
        if (goals_plan_cell(p, 0, w, GOALS_TOUCH)) {
            if (first < 0) first = w;
            last = w;
        }
    assert_true(first <= 1 && last >= WEEKS - 2);
    goals_plan_destroy(p);
    goals_template_destroy(tm);
}

static void test_scope_and_validation(void **state)
{
    (void)state;
    goals_template *tm = edu();
    const goals_target *t = goals_template_target(tm, "new_a_class_customers");
    char err[256] = "";
    goals_plan *p = NULL;
    goals_goal g = {GOALS_SCOPE_TEAM, "T9", 10, MAR_2_2026_MS, WEEKS, GOALS_BASIS_CAPACITY, NULL};
    assert_int_equal(goals_plan_build(t, reps, N_REPS, &g, &p, err, sizeof err), SP_EINVAL);
    assert_null(p);
    assert_string_equal(err, "goal.scope_id: unknown team \"T9\"");
    g.scope = GOALS_SCOPE_REGION;
    g.scope_id = "G7";
    assert_int_equal(goals_plan_build(t, reps, N_REPS, &g, &p, err, sizeof err), SP_EINVAL);
    assert_string_equal(err, "goal.scope_id: unknown region \"G7\"");
    g.scope = GOALS_SCOPE_TEAM;
    g.scope_id = "T2";
    g.n_weeks = 0;
    assert_int_equal(goals_plan_build(t, reps, N_REPS, &g, &p, err, sizeof err), SP_EINVAL);
    assert_non_null(strstr(err, "goal.n_weeks"));
    g.n_weeks = WEEKS;
    goals_rep bad[2] = {reps[0], reps[1]};
    bad[1].capacity = 0;
    g.scope = GOALS_SCOPE_COMPANY;
    assert_int_equal(goals_plan_build(t, bad, 2, &g, &p, err, sizeof err), SP_EINVAL);
    assert_string_equal(err, "reps[1].capacity: must be > 0");
    bad[1] = reps[0];
    assert_int_equal(goals_plan_build(t, bad, 2, &g, &p, err, sizeof err), SP_EINVAL);
    assert_string_equal(err, "reps[1].id: \"R01\" appears twice");
    /* a team goal keeps only that team's reps and sums to its target */
    g.scope = GOALS_SCOPE_TEAM;
    g.scope_id = "T2";
    assert_int_equal(goals_plan_build(t, reps, N_REPS, &g, &p, err, sizeof err), SP_OK);
    assert_int_equal(goals_plan_n_reps(p), 7);
    assert_string_equal(goals_plan_rep_id(p, 0), "R08");
    assert_int_equal(goals_plan_sum(p, GOALS_SCOPE_COMPANY, NULL, 0, WEEKS, -1), 10);
    assert_int_equal(goals_plan_sum(p, GOALS_SCOPE_TEAM, "T2", 0, WEEKS, GOALS_TOUCH), 20);
    assert_int_equal(goals_plan_week_of(p, MAR_2_2026_MS - 1), -1);
    assert_int_equal(goals_plan_week_of(p, MAR_2_2026_MS + 7 * 86400000LL), 1);
    assert_int_equal(goals_plan_week_of(p, MAR_2_2026_MS + WEEKS * 7 * 86400000LL), -1);
    goals_plan_destroy(p);
    goals_template_destroy(tm);
}

static void test_history_basis_and_curve(void **state)
{
    (void)state;
    goals_template *tm = edu();
    const goals_target *t = goals_template_target(tm, "new_a_class_customers");
    double curve[4] = {1, 2, 3, 4};
    goals_goal g = {GOALS_SCOPE_TEAM, "T1", 50, MAR_2_2026_MS, 4, GOALS_BASIS_HISTORY, curve};
    goals_plan *p = NULL;
    char err[256];
    assert_int_equal(goals_plan_build(t, reps, N_REPS, &g, &p, err, sizeof err), SP_OK);
    /* R01 and R06 have history 0 (r % 5 == 0): nothing planned for them */
    assert_int_equal(goals_plan_sum(p, GOALS_SCOPE_REP, "R01", 0, 4, GOALS_TOUCH), 0);
    assert_int_equal(goals_plan_sum(p, GOALS_SCOPE_REP, "R06", 0, 4, GOALS_TOUCH), 0);
    assert_true(goals_plan_sum(p, GOALS_SCOPE_REP, "R05", 0, 4, GOALS_TOUCH) > 0);
    /* the curve 1:2:3:4 over 100 touches */
    for (int w = 0; w < 4; w++)
        assert_int_equal(goals_plan_sum(p, GOALS_SCOPE_TEAM, "T1", w, w + 1, GOALS_TOUCH), 10 * (w + 1));
    goals_plan_destroy(p);
    goals_template_destroy(tm);
}

/* Changing the target keeps past weeks and spreads the new remainder over the rest. */
static void test_replan(void **state)
{
    (void)state;
    goals_template *tm = edu();
    const goals_target *t = goals_template_target(tm, "new_a_class_customers");
    goals_plan *p = quarter(t, 100);
    int64_t past[N_REPS][4][GOALS_ACTION_COUNT];
    for (size_t r = 0; r < N_REPS; r++)
        for (int w = 0; w < 4; w++)
            for (int a = 0; a < GOALS_ACTION_COUNT; a++)
                past[r][w][a] = goals_plan_cell(p, r, w, (goals_action)a);
    assert_int_equal(goals_plan_replan(p, t, 130, 4), SP_OK);
    assert_int_equal(goals_plan_target(p), 130);
    for (size_t r = 0; r < N_REPS; r++)
        for (int w = 0; w < 4; w++)
            for (int a = 0; a < GOALS_ACTION_COUNT; a++)
                assert_int_equal(goals_plan_cell(p, r, w, (goals_action)a), past[r][w][a]);
    int64_t want[GOALS_ACTION_COUNT];
    goals_target_actions(t, 130, want);
    for (int a = 0; a < GOALS_ACTION_COUNT; a++) {
        assert_int_equal(goals_plan_sum(p, GOALS_SCOPE_COMPANY, NULL, 0, WEEKS, a), want[a]);
        int64_t s = 0;
        for (int g = 0; g < 3; g++)
            s += goals_plan_sum(p, GOALS_SCOPE_REGION, region_ids[g], 0, WEEKS, a);
        assert_int_equal(s, want[a]);
    }
    assert_int_equal(goals_plan_sum(p, GOALS_SCOPE_COMPANY, NULL, 0, WEEKS, GOALS_TOUCH), 260);
    /* the remainder lands only in weeks 4..12, evenly: 260 - past over 9 weeks */
    int64_t done = goals_plan_sum(p, GOALS_SCOPE_COMPANY, NULL, 0, 4, GOALS_TOUCH);
    int64_t rest = 260 - done;
    for (int w = 4; w < WEEKS; w++) {
        int64_t c = goals_plan_sum(p, GOALS_SCOPE_COMPANY, NULL, w, w + 1, GOALS_TOUCH);
        assert_true(c == rest / 9 || c == rest / 9 + 1);
    }
    /* lowered below what the past weeks already hold: the future is empty, the past stays */
    assert_int_equal(goals_plan_replan(p, t, 10, 6), SP_OK);
    assert_int_equal(goals_plan_sum(p, GOALS_SCOPE_COMPANY, NULL, 6, WEEKS, GOALS_TOUCH), 0);
    assert_true(goals_plan_sum(p, GOALS_SCOPE_COMPANY, NULL, 0, 6, GOALS_TOUCH) > 20);
    /* bad week: refused, plan unchanged */
    assert_int_equal(goals_plan_replan(p, t, 100, WEEKS), SP_EINVAL);
    assert_int_equal(goals_plan_replan(p, t, -1, 2), SP_EINVAL);
    assert_int_equal(goals_plan_target(p), 10);
    goals_plan_destroy(p);
    goals_template_destroy(tm);
}

/* A plan loaded back from stored cells: set_cell overrides, sums follow the cells. */
static void test_set_cell(void **state)
{
    (void)state;
    goals_template *tm = edu();
    const goals_target *t = goals_template_target(tm, "new_a_class_customers");
    goals_plan *p = quarter(t, 100);
    int64_t before = goals_plan_sum(p, GOALS_SCOPE_TEAM, "T1", 0, WEEKS, GOALS_TOUCH);
    int64_t cell = goals_plan_cell(p, 0, 0, GOALS_TOUCH);
    assert_int_equal(goals_plan_set_cell(p, 0, 0, GOALS_TOUCH, cell + 5), SP_OK);
    assert_int_equal(goals_plan_sum(p, GOALS_SCOPE_TEAM, "T1", 0, WEEKS, GOALS_TOUCH), before + 5);
    assert_int_equal(goals_plan_set_cell(p, 0, 0, -1, 7), SP_OK);
    assert_int_equal(goals_plan_target_cell(p, 0, 0), 7);
    assert_int_equal(goals_plan_set_cell(p, N_REPS, 0, GOALS_TOUCH, 1), SP_EINVAL);
    assert_int_equal(goals_plan_set_cell(p, 0, WEEKS, GOALS_TOUCH, 1), SP_EINVAL);
    assert_int_equal(goals_plan_set_cell(p, 0, 0, GOALS_ACTION_COUNT, 1), SP_EINVAL);
    assert_int_equal(goals_plan_set_cell(p, 0, 0, GOALS_TOUCH, -1), SP_EINVAL);
    goals_plan_destroy(p);
    goals_template_destroy(tm);
}

int main(void)
{
    make_org();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apportion_table),
        cmocka_unit_test(test_quarter_sums_back),
        cmocka_unit_test(test_scope_and_validation),
        cmocka_unit_test(test_history_basis_and_curve),
        cmocka_unit_test(test_replan),
        cmocka_unit_test(test_set_cell),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
