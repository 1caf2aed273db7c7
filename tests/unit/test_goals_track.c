/* Unit tests of action tracking, goal health and the monthly attribution
 * review (services/taskpool/goals_track.c, goals_review.c): a simulated March
 * for 40 reps in which one team never makes executive visits or demos and one
 * rep's needs diagnoses skip the decision maker; the review must name exactly
 * those actions, and nothing for the reps who did their plan. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "taskpool/goals_review.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EDU           "deploy/tenants/default/goal_templates/education.json"
#define N_REPS        40
#define WEEKS         13
#define DAY_MS        86400000LL
#define MAR_2_2026_MS 1772409600000LL /* Monday 2026-03-02 00:00 UTC */

static char rep_ids[N_REPS][16], team_ids[6][16], region_ids[3][16];
static goals_rep reps[N_REPS];

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
            reps[r] = (goals_rep) {rep_ids[r], team_ids[t], region_ids[t / 2], r % 3 == 0 ? 1.5 : 1.0, 0};
        }
}

typedef struct fixture {
    goals_template *tm;
    const goals_target *t;
    goals_plan *p;
    goals_actuals *x;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char err[256] = "";
    if (!f || goals_template_load(EDU, &f->tm, err, sizeof err)) return -1;
    f->t = goals_template_target(f->tm, "new_a_class_customers");
    goals_goal g = {GOALS_SCOPE_COMPANY, NULL, 100, MAR_2_2026_MS, WEEKS, GOALS_BASIS_CAPACITY, NULL};
    if (goals_plan_build(f->t, reps, N_REPS, &g, &f->p, err, sizeof err)) return -1;
    if (goals_actuals_new(f->p, &f->x)) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    goals_actuals_destroy(f->x);
    goals_plan_destroy(f->p);
    goals_template_destroy(f->tm);
    free(f);
    return 0;
}

#define ALL_ROLES                                                                                            \
    (1u << GOALS_ROLE_PROCUREMENT | 1u << GOALS_ROLE_TECHNICAL | 1u << GOALS_ROLE_DECISION_MAKER)

static void test_quality_standards(void **state)
{
    fixture *f = *state;
    static const struct {
        goals_action a;
        unsigned roles;
        int data, next;
        int want;
        const char *why;
    } cases[] = {
        {GOALS_NEEDS_DIAGNOSIS, ALL_ROLES, 0, 1, 1, ""},
        {GOALS_NEEDS_DIAGNOSIS, ALL_ROLES & ~(1u << GOALS_ROLE_DECISION_MAKER), 0, 1, 0,
            "missing roles: decision_maker"},
        {GOALS_NEEDS_DIAGNOSIS, 1u << GOALS_ROLE_TECHNICAL, 0, 1, 0,
            "missing roles: procurement,decision_maker"},
        {GOALS_NEEDS_DIAGNOSIS, ALL_ROLES, 0, 0, 0, "no agreed next step"},
        {GOALS_PROPOSAL, 0, 1, 0, 1, ""},
        {GOALS_PROPOSAL, 0, 0, 0, 0, "no customer-specific data"},
        {GOALS_EXECUTIVE_VISIT, 1u << GOALS_ROLE_DECISION_MAKER, 0, 1, 1, ""},
        {GOALS_EXECUTIVE_VISIT, 1u << GOALS_ROLE_TECHNICAL, 0, 1, 0, "missing roles: decision_maker"},
        {GOALS_TOUCH, 0, 0, 0, 1, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        goals_activity a = {"R01", cases[i].a, MAR_2_2026_MS, cases[i].roles, cases[i].data, cases[i].next};
        char why[128] = "x";
        assert_int_equal(goals_quality_check(f->t, &a, why, sizeof why), cases[i].want);
        assert_string_equal(why, cases[i].why);
    }
    /* what is not counted: unknown rep, before the plan, an action the target does not use */
    goals_count c;
    goals_activity a = {"R99", GOALS_TOUCH, MAR_2_2026_MS, 0, 0, 0};
    assert_int_equal(goals_actuals_add(f->x, f->p, f->t, &a, &c, NULL, 0), SP_OK);
    assert_int_equal(c, GOALS_IGNORED);
    a.rep_id = "R01";
    a.at_ms = MAR_2_2026_MS - 1;
    assert_int_equal(goals_actuals_add(f->x, f->p, f->t, &a, &c, NULL, 0), SP_OK);
    assert_int_equal(c, GOALS_IGNORED);
    a.at_ms = MAR_2_2026_MS;
    a.action = GOALS_VISIT; /* education's A-class target plans no plain visits */
    assert_int_equal(goals_actuals_add(f->x, f->p, f->t, &a, &c, NULL, 0), SP_OK);
    assert_int_equal(c, GOALS_IGNORED);
    assert_int_equal(goals_actuals_passed(f->x, f->p, GOALS_SCOPE_COMPANY, NULL, 0, WEEKS, GOALS_VISIT), 0);
    /* judged upstream (interactions.quality_passed): counted as judged */
    assert_int_equal(
        goals_actuals_add_judged(f->x, f->p, f->t, "R01", GOALS_PROPOSAL, MAR_2_2026_MS, 0, &c), SP_OK);
    assert_int_equal(c, GOALS_COUNTED_FAILED);
    assert_int_equal(
        goals_actuals_add_judged(f->x, f->p, f->t, "R01", GOALS_PROPOSAL, MAR_2_2026_MS, 1, &c), SP_OK);
    assert_int_equal(c, GOALS_COUNTED_PASSED);
    assert_int_equal(
        goals_actuals_add_judged(f->x, f->p, f->t, "R01", GOALS_VISIT, MAR_2_2026_MS, 1, &c), SP_OK);
    assert_int_equal(c, GOALS_IGNORED);
    assert_int_equal(goals_actuals_passed(f->x, f->p, GOALS_SCOPE_TEAM, "T1", 0, 1, GOALS_PROPOSAL), 1);
    assert_int_equal(goals_actuals_failed(f->x, f->p, GOALS_SCOPE_REGION, "G1", 0, 1, GOALS_PROPOSAL), 1);
    assert_int_equal(goals_actuals_failed(f->x, f->p, GOALS_SCOPE_REGION, "G2", 0, 1, GOALS_PROPOSAL), 0);
    assert_int_equal(goals_actuals_add_result(f->x, f->p, "R99", MAR_2_2026_MS, 1), SP_EINVAL);
    assert_int_equal(goals_actuals_add_result(f->x, f->p, "R01", MAR_2_2026_MS, 2), SP_OK);
    assert_int_equal(goals_actuals_results(f->x, f->p, GOALS_SCOPE_COMPANY, NULL, 0, WEEKS), 2);
}

static int withheld_team(const char *team)
{
    return !strcmp(team, "T3");
}

/* Every rep does exactly its plan for weeks [0, 5) (March), except: team T3
 * never makes executive visits or demos, and `bad_rep`'s needs diagnoses skip
 * the decision maker. */
static void simulate_march(fixture *f, const char *bad_rep)
{
    for (size_t r = 0; r < goals_plan_n_reps(f->p); r++) {
        const char *id = goals_plan_rep_id(f->p, r);
        for (int w = 0; w < 5; w++) {
            int64_t at = MAR_2_2026_MS + w * 7 * DAY_MS + DAY_MS;
            for (int a = 0; a < GOALS_ACTION_COUNT; a++) {
                if (withheld_team(goals_plan_rep_team(f->p, r))
                    && (a == GOALS_EXECUTIVE_VISIT || a == GOALS_DEMO))
                    continue;
                unsigned roles = ALL_ROLES;
                if (!strcmp(id, bad_rep) && a == GOALS_NEEDS_DIAGNOSIS)
                    roles &= ~(1u << GOALS_ROLE_DECISION_MAKER);
                for (int64_t k = 0; k < goals_plan_cell(f->p, r, w, (goals_action)a); k++) {
                    goals_activity act = {id, (goals_action)a, at, roles, 1, 1};
                    goals_count c;
                    char why[128];
                    assert_int_equal(goals_actuals_add(f->x, f->p, f->t, &act, &c, why, sizeof why), SP_OK);
                    if (roles != ALL_ROLES) {
                        assert_int_equal(c, GOALS_COUNTED_FAILED);
                        assert_string_equal(why, "missing roles: decision_maker");
                    } else {
                        assert_int_equal(c, GOALS_COUNTED_PASSED);
                    }
                }
            }
            if (!withheld_team(goals_plan_rep_team(f->p, r)))
                assert_int_equal(
                    goals_actuals_add_result(f->x, f->p, id, at, goals_plan_target_cell(f->p, r, w)), SP_OK);
        }
    }
}

/* The first T1 rep with needs diagnoses planned in March. */
static const char *pick_bad_rep(const fixture *f)
{
    for (size_t r = 0; r < goals_plan_n_reps(f->p); r++)
        if (!strcmp(goals_plan_rep_team(f->p, r), "T1")
            && goals_plan_sum(f->p, GOALS_SCOPE_REP, goals_plan_rep_id(f->p, r), 0, 5, GOALS_NEEDS_DIAGNOSIS)
                > 0)
            return goals_plan_rep_id(f->p, r);
    return NULL;
}

static int has_cause(const goals_review_item *it, goals_action a)
{
    for (size_t i = 0; i < it->n_causes; i++)
        if (it->cause[i].action == a) return 1;
    return 0;
}

static void test_health(void **state)
{
    fixture *f = *state;
    const char *bad = pick_bad_rep(f);
    assert_non_null(bad);
    simulate_march(f, bad);
    goals_health h;
    /* a rep who did the plan: 100 */
    assert_int_equal(goals_health_compute(f->p, f->x, f->tm, f->t, GOALS_SCOPE_REP, "R40", 4, &h), SP_OK);
    assert_int_equal(h.score, 100);
    assert_int_equal(h.n_behind, 0);
    /* the rep whose diagnoses failed quality: completion and pass rate both lower, diagnosis most behind */
    assert_int_equal(goals_health_compute(f->p, f->x, f->tm, f->t, GOALS_SCOPE_REP, bad, 4, &h), SP_OK);
    int64_t nd = goals_plan_sum(f->p, GOALS_SCOPE_REP, bad, 0, 5, GOALS_NEEDS_DIAGNOSIS);
    assert_int_equal(goals_actuals_failed(f->x, f->p, GOALS_SCOPE_REP, bad, 0, 5, GOALS_NEEDS_DIAGNOSIS), nd);
    assert_int_equal(goals_actuals_passed(f->x, f->p, GOALS_SCOPE_REP, bad, 0, 5, GOALS_NEEDS_DIAGNOSIS), 0);
    assert_true(h.score < 90);
    assert_true(h.pass_rate < 1.0);
    assert_int_equal(h.failed, nd);
    assert_int_equal(h.n_behind, 1);
    assert_int_equal(h.behind[0].action, GOALS_NEEDS_DIAGNOSIS);
    assert_int_equal(h.behind[0].shortfall, nd);
    /* team T3: executive visits and demos behind, nothing else */
    assert_int_equal(goals_health_compute(f->p, f->x, f->tm, f->t, GOALS_SCOPE_TEAM, "T3", 4, &h), SP_OK);
    assert_int_equal(h.n_behind, 2);
    assert_true(h.behind[0].action == GOALS_EXECUTIVE_VISIT || h.behind[0].action == GOALS_DEMO);
    assert_true(h.behind[1].action == GOALS_EXECUTIVE_VISIT || h.behind[1].action == GOALS_DEMO);
    assert_true(h.score < 100 && h.score > 50);
    assert_int_equal(h.pass_rate, 1.0);
    /* region G2 holds T3; the company total includes everything */
    goals_health hg, hc;
    assert_int_equal(goals_health_compute(f->p, f->x, f->tm, f->t, GOALS_SCOPE_REGION, "G2", 4, &hg), SP_OK);
    assert_int_equal(goals_health_compute(f->p, f->x, f->tm, f->t, GOALS_SCOPE_COMPANY, NULL, 4, &hc), SP_OK);
    assert_true(hg.score < 100 && hc.score < 100 && hc.score >= hg.score);
    assert_int_equal(goals_health_compute(f->p, f->x, f->tm, f->t, GOALS_SCOPE_TEAM, "T9", 4, &h), SP_EINVAL);
    assert_int_equal(
        goals_health_compute(f->p, f->x, f->tm, f->t, GOALS_SCOPE_TEAM, "T1", WEEKS, &h), SP_EINVAL);
    /* nothing done by week 6 for anyone: health falls */
    assert_int_equal(goals_health_compute(f->p, f->x, f->tm, f->t, GOALS_SCOPE_REP, "R40", 8, &h), SP_OK);
    assert_true(h.score < 100);
    assert_true(h.n_behind >= 1);
    for (size_t i = 0; i < h.n_behind; i++) {
        assert_int_equal(h.behind[i].shortfall, h.behind[i].planned - h.behind[i].passed);
        assert_true(h.behind[i].shortfall > 0);
    }
}

static void test_month_weeks(void **state)
{
    fixture *f = *state;
    int w0, w1;
    assert_int_equal(goals_month_weeks(f->p, "2026-03", &w0, &w1), SP_OK);
    assert_int_equal(w0, 0);
    assert_int_equal(w1, 5); /* Mar 2, 9, 16, 23, 30 */
    assert_int_equal(goals_month_weeks(f->p, "2026-04", &w0, &w1), SP_OK);
    assert_int_equal(w0, 5);
    assert_int_equal(w1, 9); /* Apr 6, 13, 20, 27 */
    assert_int_equal(goals_month_weeks(f->p, "2026-06", &w0, &w1), SP_OK);
    assert_int_equal(w1 - w0, 0);
    assert_int_equal(goals_month_weeks(f->p, "2026-13", &w0, &w1), SP_EINVAL);
    assert_int_equal(goals_month_weeks(f->p, "2026-3", &w0, &w1), SP_EINVAL);
    goals_review *r = NULL;
    assert_int_equal(goals_review_build(f->p, f->x, f->tm, f->t, "2026-06", &r), SP_EINVAL);
    assert_null(r);
}

static void test_review_names_withheld_actions(void **state)
{
    fixture *f = *state;
    const char *bad = pick_bad_rep(f);
    assert_non_null(bad);
    /* the scenario only tests something if T3 had executive visits and demos planned in March */
    assert_true(goals_plan_sum(f->p, GOALS_SCOPE_TEAM, "T3", 0, 5, GOALS_EXECUTIVE_VISIT) > 0);
    assert_true(goals_plan_sum(f->p, GOALS_SCOPE_TEAM, "T3", 0, 5, GOALS_DEMO) > 0);
    simulate_march(f, bad);
    goals_review *r = NULL;
    assert_int_equal(goals_review_build(f->p, f->x, f->tm, f->t, "2026-03", &r), SP_OK);
    assert_int_equal(r->n, N_REPS + 6);
    size_t reps_with_causes = 0;
    for (size_t i = 0; i < r->n; i++) {
        const goals_review_item *it = &r->items[i];
        if (it->level == GOALS_SCOPE_TEAM) {
            if (!strcmp(it->id, "T3")) {
                assert_int_equal(it->n_causes, 2);
                assert_true(has_cause(it, GOALS_EXECUTIVE_VISIT) && has_cause(it, GOALS_DEMO));
                assert_int_equal(it->results, 0);
                assert_true(it->target_planned > 0);
            } else if (!strcmp(it->id, "T1")) {
                assert_int_equal(it->n_causes, 1);
                assert_int_equal(it->cause[0].action, GOALS_NEEDS_DIAGNOSIS);
            } else {
                assert_int_equal(it->n_causes, 0);
                assert_int_equal(it->results, it->target_planned);
            }
            continue;
        }
        int in_t3 = !strcmp(it->team_id, "T3");
        if (!strcmp(it->id, bad)) {
            assert_int_equal(it->n_causes, 1);
            assert_int_equal(it->cause[0].action, GOALS_NEEDS_DIAGNOSIS);
            assert_int_equal(it->cause[0].shortfall, it->cause[0].failed);
            assert_true(it->cause[0].share > 0.999);
        } else if (!in_t3) {
            assert_int_equal(it->n_causes, 0);
        } else {
            /* only the withheld actions can be causes, ordered by impact */
            for (size_t k = 0; k < it->n_causes; k++)
                assert_true(
                    it->cause[k].action == GOALS_EXECUTIVE_VISIT || it->cause[k].action == GOALS_DEMO);
            if (it->n_causes == 2) assert_true(it->cause[0].impact >= it->cause[1].impact);
        }
        if (it->n_causes) reps_with_causes++;
    }
    assert_true(reps_with_causes >= 2);

    goals_catchup *c = NULL;
    size_t n = 0;
    assert_int_equal(goals_review_catchups(r, &c, &n), SP_OK);
    assert_int_equal(n, reps_with_causes);
    char key[64];
    snprintf(key, sizeof key, "task:goal.catch_up:rep:%s:202603", bad);
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(c[i].key, key)) continue;
        found = 1;
        assert_int_equal(c[i].n, 1);
        assert_int_equal(c[i].action[0], GOALS_NEEDS_DIAGNOSIS);
        assert_int_equal(
            c[i].count[0], goals_plan_sum(f->p, GOALS_SCOPE_REP, bad, 0, 5, GOALS_NEEDS_DIAGNOSIS));
        assert_string_equal(c[i].team_id, "T1");
        assert_non_null(strstr(c[i].note, "needs_diagnosis"));
    }
    assert_true(found);
    free(c);

    char *md = NULL, *js = NULL;
    assert_int_equal(goals_review_markdown(r, &md), SP_OK);
    assert_non_null(strstr(md, "# Action attribution review 2026-03 (new_a_class_customers)"));
    assert_non_null(strstr(md, "| T3 | G2 | 0/"));
    assert_non_null(strstr(md, "executive_visit"));
    assert_non_null(strstr(md, "## Catch-up for next month"));
    assert_int_equal(goals_review_json(r, &js), SP_OK);
    json_error_t e;
    json_t *root = json_loads(js, 0, &e);
    assert_non_null(root);
    assert_string_equal(json_string_value(json_object_get(root, "month")), "2026-03");
    assert_int_equal(json_array_size(json_object_get(root, "items")), N_REPS + 6);
    json_decref(root);
    free(md);
    free(js);
    goals_review_destroy(r);
}

int main(void)
{
    make_org();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_quality_standards, setup, teardown),
        cmocka_unit_test_setup_teardown(test_health, setup, teardown),
        cmocka_unit_test_setup_teardown(test_month_weeks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_review_names_withheld_actions, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
