/* Unit tests of services/score/rules.c: defaults, the shipped file, and
 * errors that name the file, rule and key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "score/rules.h"

#include <stdio.h>
#include <string.h>

#define RULES_FILE "deploy/tenants/default/score_rules.json"

static void test_shipped_file_equals_defaults(void **state)
{
    (void)state;
    char err[256] = "";
    score_rules *r = NULL, def;
    assert_int_equal(score_rules_load(RULES_FILE, &r, err, sizeof err), SP_OK);
    score_rules_defaults(&def);
    /* Field by field first, for a readable failure, then the whole struct. */
    for (int k = 0; k < SCORE_KIND_COUNT; k++) {
        assert_int_equal(r->rule[k].level, def.rule[k].level);
        assert_true(r->rule[k].margin == def.rule[k].margin);
        assert_int_equal(r->rule[k].clear_delay_ms, def.rule[k].clear_delay_ms);
        assert_string_equal(r->rule[k].assignees[0], def.rule[k].assignees[0]);
    }
    assert_true(r->stale.days == 30);
    assert_true(r->stalled.norm_days[4] == 21 && r->stalled.red_factor == 1.5);
    assert_int_equal(memcmp(r, &def, sizeof def), 0);
    score_rules_destroy(r);
    score_rules_destroy(NULL);
}

static void test_design_defaults(void **state)
{
    (void)state;
    score_rules r;
    score_rules_defaults(&r);
    assert_true(r.stale.days == 30 && r.no_progress.days == 7 && r.key_role.days == 30);
    assert_int_equal(r.key_role.min_stage, 4);
    assert_true(r.stalled.norm_days[1] == 14 && r.stalled.norm_days[4] == 21 && r.stalled.norm_days[5] == 30);
    assert_true(r.surge.visits_min == 5 && r.surge.ratio_min == 3 && r.surge.mentions_min == 2);
    assert_true(r.unanswered.l1_hours == 24 && r.unanswered.l2_hours == 48);
    assert_true(
        r.first_visit.share_gt == 0.4 && r.first_visit.weeks == 2 && r.first_visit.timeout_hours == 48);
    assert_true(r.funnel.ratio_lt == 0.5 && r.funnel.min_deals == 20 && r.funnel.baseline_days == 180);
    assert_true(r.key_action.working_days == 3 && r.status.days == 5 && r.warming.visits_gt == 3);
    assert_int_equal(r.rule[SCORE_COMPETITOR_SURGE].level, 3);
    assert_int_equal(r.rule[SCORE_FUNNEL_COLLAPSE].level, 3);
    int level;
    const char *who;
    score_rules_risk_lookup(&r, "after_sales", &level, &who);
    assert_int_equal(level, 1);
    assert_string_equal(who, "after_sales_manager");
    score_rules_risk_lookup(&r, "budget_freeze", &level, &who);
    assert_int_equal(level, 2);
    assert_string_equal(who, "supervisor");
    score_rules_risk_lookup(&r, "decision_change", &level, &who);
    assert_int_equal(level, 2);
    score_rules_risk_lookup(&r, "price", &level, &who);
    assert_int_equal(level, 1);
    assert_string_equal(who, "rep");
}

static void test_kind_names(void **state)
{
    (void)state;
    for (int k = 0; k < SCORE_KIND_COUNT; k++) {
        score_kind back;
        assert_non_null(score_kind_name((score_kind)k));
        assert_int_equal(score_kind_from_name(score_kind_name((score_kind)k), &back), SP_OK);
        assert_int_equal(back, k);
    }
    score_kind x;
    assert_int_equal(score_kind_from_name("customer.nope", &x), SP_ENOTFOUND);
    assert_null(score_kind_name(SCORE_KIND_COUNT));
    assert_int_equal(score_kind_subject(SCORE_CUSTOMER_STALE), SCORE_SUBJECT_CUSTOMER);
    assert_int_equal(score_kind_subject(SCORE_FUNNEL_COLLAPSE), SCORE_SUBJECT_TEAM);
    assert_int_equal(score_kind_subject(SCORE_FIRST_VISIT_TIMEOUT), SCORE_SUBJECT_REGION);
    assert_int_equal(score_kind_subject(SCORE_STATUS_NOT_UPDATED), SCORE_SUBJECT_REP);
    assert_int_equal(score_kind_subject(SCORE_STAGE_STALLED), SCORE_SUBJECT_DEAL);
}

static void test_override_and_keep_defaults(void **state)
{
    (void)state;
    char err[256] = "";
    score_rules *r = NULL;
    const char *js
        = "{\"signals\": {\"customer.stale\": {\"days\": 45, \"hysteresis\": {\"clear_delay_hours\": 2}},"
          " \"deal.risk_raised\": {\"tags\": {\"price\": {}}, \"level\": \"L2\"},"
          " \"deal.stage_stalled\": {\"norm_days\": {\"proposal\": 10}}},"
          " \"health\": {\"weights\": {\"next_step\": 0}}}";
    assert_int_equal(score_rules_load_string(js, "t.json", &r, err, sizeof err), SP_OK);
    assert_true(r->stale.days == 45);
    assert_int_equal(r->rule[SCORE_CUSTOMER_STALE].clear_delay_ms, 2 * 3600000LL);
    assert_true(r->no_progress.days == 7); /* untouched default */
    int level;
    const char *who;
    score_rules_risk_lookup(r, "price", &level, &who);
    assert_int_equal(level, 2); /* inherits the rule's level, whatever the key order */
    assert_string_equal(who, "rep");
    score_rules_risk_lookup(r, "after_sales", &level, &who); /* the map was replaced */
    assert_string_equal(who, "rep");
    assert_true(r->stalled.norm_days[4] == 10 && r->stalled.norm_days[5] == 0);
    assert_true(r->health.weights[SCORE_DIM_NEXT_STEP] == 0);
    score_rules_destroy(r);
}

/* pgbouncer hba_test style: rows of input and the exact message. */
static const struct {
    const char *json;
    const char *message;
} bad_rows[] = {
    {"{\"signals\": {\"customer.stale\": {\"days\": 0}}}",
        "score_rules.json: customer.stale.days: must be > 0"},
    {"{\"signals\": {\"customer.stale\": {\"days\": -3}}}",
        "score_rules.json: customer.stale.days: must be > 0"},
    {"{\"signals\": {\"customer.stale\": {\"days\": \"30\"}}}",
        "score_rules.json: customer.stale.days: must be a number"},
    {"{\"signals\": {\"customer.stale\": {\"dayz\": 30}}}",
        "score_rules.json: customer.stale.dayz: unknown key"},
    {"{\"signals\": {\"customer.stale\": {\"level\": \"L4\"}}}",
        "score_rules.json: customer.stale.level: must be \"L1\", \"L2\" or \"L3\""},
    {"{\"signals\": {\"customer.stale\": {\"enabled\": 1}}}",
        "score_rules.json: customer.stale.enabled: must be true or false"},
    {"{\"signals\": {\"customer.stale\": {\"hysteresis\": {\"margin\": 1.5}}}}",
        "score_rules.json: customer.stale.hysteresis.margin: must be <= 0.9"},
    {"{\"signals\": {\"customer.stale\": {\"hysteresis\": {\"clear_delay_hours\": -1}}}}",
        "score_rules.json: customer.stale.hysteresis.clear_delay_hours: must be >= 0"},
    {"{\"signals\": {\"customer.stale\": {\"hysteresis\": {\"delay\": 1}}}}",
        "score_rules.json: customer.stale.hysteresis.delay: unknown key"},
    {"{\"signals\": {\"customer.stale\": {\"assignees\": [\"boss\"]}}}",
        "score_rules.json: customer.stale.assignees[0]: must be one of rep, mentor, supervisor, director, "
        "after_sales_manager, competition_team, region_supervisors"},
    {"{\"signals\": {\"customer.fresh\": {}}}", "score_rules.json: signals.customer.fresh: unknown signal"},
    {"{\"signals\": {\"deal.stage_stalled\": {\"norm_days\": {\"closing\": 3}}}}",
        "score_rules.json: deal.stage_stalled.norm_days.closing: unknown stage"},
    {"{\"signals\": {\"deal.stage_stalled\": {\"red_factor\": 0.5}}}",
        "score_rules.json: deal.stage_stalled.red_factor: must be >= yellow_factor"},
    {"{\"signals\": {\"deal.unanswered_inbound\": {\"l2_hours\": 12}}}",
        "score_rules.json: deal.unanswered_inbound.l2_hours: must be > l1_hours"},
    {"{\"signals\": {\"deal.risk_raised\": {\"tags\": {\"price\": {\"level\": \"high\"}}}}}",
        "score_rules.json: deal.risk_raised.tags.price.level: must be \"L1\", \"L2\" or \"L3\""},
    {"{\"signals\": {\"deal.key_role_uncovered\": {\"min_stage\": \"won\"}}}",
        "score_rules.json: deal.key_role_uncovered.min_stage: must be one of lead, qualified, demo, "
        "proposal, "
        "negotiation"},
    {"{\"signals\": {\"deal.key_role_uncovered\": {\"roles\": [\"ceo\"]}}}",
        "score_rules.json: deal.key_role_uncovered.roles[0]: must be one of procurement, technical, "
        "decision_maker, "
        "finance"},
    {"{\"signals\": {\"region.first_visit_timeout\": {\"weeks\": 1.5}}}",
        "score_rules.json: region.first_visit_timeout.weeks: must be a whole number"},
    {"{\"signals\": {\"region.first_visit_timeout\": {\"share_gt\": 1.2}}}",
        "score_rules.json: region.first_visit_timeout.share_gt: must be <= 0.99"},
    {"{\"signals\": {\"team.funnel_collapse\": {\"baseline_days\": 20}}}",
        "score_rules.json: team.funnel_collapse.baseline_days: must be > window_days"},
    {"{\"signals\": {\"deal.no_progress_after_visit\": {\"commitment_intents\": []}}}",
        "score_rules.json: deal.no_progress_after_visit.commitment_intents: must be an array of 1 to 8 "
        "intents"},
    {"{\"health\": {\"weights\": {\"vibes\": 3}}}",
        "score_rules.json: health.weights.vibes: unknown dimension"},
    {"{\"health\": {\"latency_hours\": 3}}", "score_rules.json: health.latency_hours: unknown key"},
    {"{\"health\": {\"response_latency_hours\": {\"good\": 30, \"bad\": 20}}}",
        "score_rules.json: health.response_latency_hours: must satisfy 0 < good < bad"},
    {"{\"health\": {\"yellow_min\": 80}}", "score_rules.json: health.yellow_min: must be < green_min"},
    {"{\"version\": 2}", "score_rules.json: version: must be 1"},
    {"{\"signal\": {}}", "score_rules.json: signal: unknown key"},
    {"[]", "score_rules.json: top level must be an object"},
};

static void test_errors_name_the_key(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_rows / sizeof bad_rows[0]; i++) {
        char err[256] = "";
        score_rules *r = (score_rules *)0x1;
        int rv = score_rules_load_string(bad_rows[i].json, "score_rules.json", &r, err, sizeof err);
        if (rv != SP_ECONFIG || strcmp(err, bad_rows[i].message))
            fail_msg("row %zu: rv %d, got \"%s\", want \"%s\"", i, rv, err, bad_rows[i].message);
        assert_ptr_equal(r, (score_rules *)0x1); /* untouched on error */
    }
}

static void test_syntax_error_and_missing_file(void **state)
{
    (void)state;
    char err[256] = "";
    score_rules *r = NULL;
    assert_int_equal(
        score_rules_load_string("{\"signals\": ", "score_rules.json", &r, err, sizeof err), SP_ECONFIG);
    assert_non_null(strstr(err, "score_rules.json: line 1"));
    assert_int_equal(score_rules_load("/nonexistent/score_rules.json", &r, err, sizeof err), SP_ECONFIG);
    assert_non_null(strstr(err, "score_rules.json:"));
    /* Duplicate keys are rejected, not silently last-wins. */
    assert_int_equal(
        score_rules_load_string("{\"version\": 1, \"version\": 1}", "x.json", &r, err, sizeof err),
        SP_ECONFIG);
    assert_null(r);
}

static void test_reload_swap(void **state)
{
    (void)state;
    char err[256];
    score_rules *cur = NULL, *next = NULL;
    assert_int_equal(score_rules_load(RULES_FILE, &cur, err, sizeof err), SP_OK);
    /* A bad reload leaves the running rules in place. */
    assert_int_equal(score_rules_load_string("{\"signals\": {\"customer.stale\": {\"days\": 0}}}",
                         "score_rules.json", &next, err, sizeof err),
        SP_ECONFIG);
    assert_null(next);
    assert_true(cur->stale.days == 30);
    assert_int_equal(score_rules_load_string("{\"signals\": {\"customer.stale\": {\"days\": 60}}}",
                         "score_rules.json", &next, err, sizeof err),
        SP_OK);
    score_rules *old = cur;
    cur = next;
    score_rules_destroy(old);
    assert_true(cur->stale.days == 60);
    score_rules_destroy(cur);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_file_equals_defaults),
        cmocka_unit_test(test_design_defaults),
        cmocka_unit_test(test_kind_names),
        cmocka_unit_test(test_override_and_keep_defaults),
        cmocka_unit_test(test_errors_name_the_key),
        cmocka_unit_test(test_syntax_error_and_missing_file),
        cmocka_unit_test(test_reload_swap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
