/* Unit tests of goal templates (services/taskpool/goals_template.c): the
 * shipped industry files load, and every kind of bad template is refused
 * with a message naming file, item and key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "taskpool/goals_template.h"

#include <stdio.h>
#include <string.h>

#define DIR "deploy/tenants/default/goal_templates/"

static void test_shipped_templates(void **state)
{
    (void)state;
    static const char *const files[] = {"education", "manufacturing", "healthcare"};
    for (size_t i = 0; i < 3; i++) {
        char path[256], err[256] = "";
        snprintf(path, sizeof path, DIR "%s.json", files[i]);
        goals_template *t = NULL;
        sp_err rv = goals_template_load(path, &t, err, sizeof err);
        if (rv) fprintf(stderr, "%s\n", err);
        assert_int_equal(rv, SP_OK);
        assert_string_equal(t->industry, files[i]);
        const goals_target *a = goals_template_target(t, "new_a_class_customers");
        const goals_target *r = goals_template_target(t, "signed_revenue");
        assert_non_null(a);
        assert_non_null(r);
        assert_null(goals_template_target(t, "nope"));
        /* every shipped template: a needs diagnosis covers procurement, technical and decision maker;
         * a proposal must carry customer-specific data */
        unsigned three
            = 1u << GOALS_ROLE_PROCUREMENT | 1u << GOALS_ROLE_TECHNICAL | 1u << GOALS_ROLE_DECISION_MAKER;
        assert_true(a->action[GOALS_NEEDS_DIAGNOSIS].used);
        assert_int_equal(a->action[GOALS_NEEDS_DIAGNOSIS].quality.roles_required & three, three);
        assert_true(a->action[GOALS_PROPOSAL].quality.customer_data_required);
        assert_int_equal(a->action[GOALS_NEEDS_DIAGNOSIS].stage, GOALS_STAGE_DISCOVERY);
        goals_template_destroy(t);
    }
    /* education's A-class target is the method's example: 200 + 80 + 40 + 20 (+ 30 demos) per 100 */
    goals_template *t = NULL;
    char err[256];
    assert_int_equal(goals_template_load(DIR "education.json", &t, err, sizeof err), SP_OK);
    int64_t n[GOALS_ACTION_COUNT];
    assert_int_equal(goals_target_actions(goals_template_target(t, "new_a_class_customers"), 50, n), SP_OK);
    assert_int_equal(n[GOALS_TOUCH], 100);
    assert_int_equal(n[GOALS_NEEDS_DIAGNOSIS], 40);
    assert_int_equal(n[GOALS_PROPOSAL], 20);
    assert_int_equal(n[GOALS_DEMO], 15);
    assert_int_equal(n[GOALS_EXECUTIVE_VISIT], 10);
    assert_int_equal(n[GOALS_VISIT], 0);
    /* revenue: 2.5 M CNY -> 75 touches, 7.5 -> 8 proposals (round half up) */
    assert_int_equal(goals_target_actions(goals_template_target(t, "signed_revenue"), 2500000, n), SP_OK);
    assert_int_equal(n[GOALS_TOUCH], 75);
    assert_int_equal(n[GOALS_NEEDS_DIAGNOSIS], 30);
    assert_int_equal(n[GOALS_PROPOSAL], 15);
    assert_int_equal(n[GOALS_EXECUTIVE_VISIT], 8);
    assert_int_equal(goals_target_actions(goals_template_target(t, "signed_revenue"), -1, n), SP_EINVAL);
    goals_template_destroy(t);
    assert_int_equal(goals_template_load(DIR "missing.json", &t, err, sizeof err), SP_ECONFIG);
    assert_non_null(strstr(err, "missing.json: "));
}

/* A valid template with four stages; the cases below break one thing each. */
#define STAGES(lead, tail)                                                                                   \
    "[{\"stage\":\"lead\",\"actions\":[{\"action\":\"touch\",\"count\":200,\"weight\":" lead "}]},"          \
    "{\"stage\":\"discovery\",\"actions\":[{\"action\":\"needs_diagnosis\",\"count\":80,\"weight\":0.3,"     \
    "\"quality\":{\"roles_required\":[\"procurement\",\"technical\",\"decision_maker\"]}}]},"                \
    "{\"stage\":\"solution\",\"actions\":[{\"action\":\"proposal\",\"count\":40,\"weight\":0.3,"             \
    "\"quality\":{\"customer_data_required\":true}}]}" tail "]"
#define DECISION                                                                                             \
    ",{\"stage\":\"decision\",\"actions\":[{\"action\":\"executive_visit\",\"count\":20,\"weight\":0.3}]}"
#define TPL(stages)                                                                                          \
    "{\"industry\":\"x\",\"targets\":[{\"kind\":\"k\",\"unit\":\"customers\",\"per\":100,\"stages\":" stages \
    "}]}"

static void test_template_errors(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        const char *want; /* the exact message, or NULL for a valid template */
    } cases[] = {
        {TPL(STAGES("0.1", DECISION)), NULL},
        {TPL(STAGES("0.1", "")), "t.json: targets[0].stages: stage \"decision\" missing"},
        {TPL(STAGES("0.2", DECISION)), "t.json: targets[0].stages: action weights add up to 1.1, not 1"},
        {TPL(STAGES("0.1",
             DECISION ",{\"stage\":\"lead\",\"actions\":[{\"action\":\"demo\",\"count\":1,\"weight\":0}]}")),
            "t.json: targets[0].stages[4].stage: \"lead\" appears twice"},
        {TPL(STAGES("0.1",
             ",{\"stage\":\"decision\",\"actions\":[{\"action\":\"touch\",\"count\":20,\"weight\":0.3}]}")),
            "t.json: targets[0].stages[3].actions[0].action: \"touch\" appears twice in the target"},
        {TPL(STAGES("0.1",
             ",{\"stage\":\"decision\",\"actions\":[{\"action\":\"lunch\",\"count\":20,\"weight\":0.3}]}")),
            "t.json: targets[0].stages[3].actions[0].action: must be one of visit, needs_diagnosis, "
            "proposal, "
            "executive_visit, demo, touch"},
        {TPL(STAGES("0.1",
             ",{\"stage\":\"decision\",\"actions\":[{\"action\":\"executive_visit\",\"count\":0,\"weight\":0."
             "3}]}")),
            "t.json: targets[0].stages[3].actions[0].count: must be a whole number > 0 and <= 1000000"},
        {TPL(STAGES("0.1",
             ",{\"stage\":\"decision\",\"actions\":[{\"action\":\"executive_visit\",\"count\":2,\"weight\":0."
             "3,"
             "\"quality\":{\"roles_required\":[\"cfo\"]}}]}")),
            "t.json: targets[0].stages[3].actions[0].quality.roles_required[0]: must be one of procurement, "
            "technical, "
            "decision_maker, user, finance"},
        {TPL(STAGES("0.1",
             ",{\"stage\":\"decision\",\"actions\":[{\"action\":\"executive_visit\",\"count\":2,\"weight\":0."
             "3,"
             "\"colour\":1}]}")),
            "t.json: targets[0].stages[3].actions[0].colour: unknown key"},
        {TPL(STAGES("0.1",
             ",{\"stage\":\"decision\",\"actions\":[{\"action\":\"executive_visit\",\"count\":2,\"weight\":0."
             "3,\"description\":7}]}")),
            "t.json: targets[0].stages[3].actions[0].description: must be a string of at most 255 bytes"},
        {TPL(STAGES("0.1", ",{\"stage\":\"decision\",\"actions\":[]}")),
            "t.json: targets[0].stages[3].actions: must be a non-empty array"},
        {TPL(STAGES("\"0.1\"", DECISION)),
            "t.json: targets[0].stages[0].actions[0].weight: must be a number"},
        {"{\"industry\":\"x\",\"targets\":[{\"kind\":\"k\",\"unit\":\"u\",\"stages\":[]}]}",
            "t.json: targets[0].per: missing"},
        {"{\"industry\":\"x\",\"targets\":[]}", "t.json: targets: must be a non-empty array"},
        {"{\"targets\":[]}", "t.json: industry: missing"},
        {"{\"industry\":\"x\",\"health\":{\"completion_weight\":0.5,\"quality_weight\":0.3},\"targets\":[]}",
            "t.json: health: completion_weight + quality_weight = 0.8, not 1"},
        {"{\"industry\":\"x\",\"tagrets\":[]}", "t.json: tagrets: unknown key"},
        {"{\"industry\":\"x\",", "t.json: line 1: string or '}' expected near end of file"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[512] = "";
        goals_template *t = NULL;
        sp_err rv = goals_template_parse("t.json", cases[i].json, &t, err, sizeof err);
        if (!cases[i].want) {
            if (rv) fprintf(stderr, "case %zu: %s\n", i, err);
            assert_int_equal(rv, SP_OK);
            assert_non_null(t);
            goals_template_destroy(t);
            continue;
        }
        if (strcmp(err, cases[i].want)) fprintf(stderr, "case %zu: got \"%s\"\n", i, err);
        assert_int_equal(rv, SP_ECONFIG);
        assert_null(t);
        assert_string_equal(err, cases[i].want);
    }
}

/* The quality standard as the today list shows it, and the template's text. */
static void test_quality_text(void **state)
{
    (void)state;
    goals_template *t = NULL;
    char err[256], buf[256];
    assert_int_equal(goals_template_load(DIR "education.json", &t, err, sizeof err), SP_OK);
    const goals_target *a = goals_template_target(t, "new_a_class_customers");
    goals_quality_text(&a->action[GOALS_NEEDS_DIAGNOSIS].quality, 0, buf, sizeof buf);
    assert_string_equal(
        buf, "must cover procurement, technical, decision_maker; an agreed next step recorded");
    goals_quality_text(&a->action[GOALS_NEEDS_DIAGNOSIS].quality, 1, buf, sizeof buf);
    assert_string_equal(buf, "须覆盖采购、技术、决策人;须记录约定的下一步");
    goals_quality_text(&a->action[GOALS_PROPOSAL].quality, 0, buf, sizeof buf);
    assert_string_equal(buf, "must carry customer-specific data");
    goals_quality_text(&a->action[GOALS_TOUCH].quality, 0, buf, sizeof buf);
    assert_string_equal(buf, "no quality standard");
    assert_string_equal(a->action[GOALS_PROPOSAL].description,
        "carries the school's own data (enrolment, devices, timetable)");
    /* cut short on a code-point boundary; the full length is returned */
    char small[8];
    size_t n = goals_quality_text(&a->action[GOALS_NEEDS_DIAGNOSIS].quality, 1, small, sizeof small);
    assert_string_equal(small, "须覆"); /* 6 bytes: a third character would not fit */
    assert_int_equal(n, strlen("须覆盖采购、技术、决策人;须记录约定的下一步"));
    assert_string_equal(goals_action_name_zh(GOALS_NEEDS_DIAGNOSIS), "需求诊断");
    assert_string_equal(goals_role_name_zh(GOALS_ROLE_DECISION_MAKER), "决策人");
    goals_template_destroy(t);
}

static void test_names(void **state)
{
    (void)state;
    for (int a = 0; a < GOALS_ACTION_COUNT; a++)
        assert_int_equal(goals_action_parse(goals_action_name((goals_action)a)), a);
    assert_int_equal(goals_action_parse("lunch"), -1);
    assert_int_equal(goals_action_parse(NULL), -1);
    assert_string_equal(goals_stage_name(GOALS_STAGE_DECISION), "decision");
    assert_string_equal(goals_role_name(GOALS_ROLE_DECISION_MAKER), "decision_maker");
    assert_string_equal(goals_action_name(GOALS_ACTION_COUNT), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_templates),
        cmocka_unit_test(test_template_errors),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_quality_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
