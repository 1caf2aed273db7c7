/* Unit tests of services/score/health.c: each dimension's colour boundaries
 * (rows of: one fact changed from an all-green deal, expected colour), the
 * weighted deal score, JSON and roll-ups. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "score/health.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOUR 3600000LL
#define DAY  86400000LL
static const int64_t NOW = 1772589600000LL; /* 2026-03-04 10:00 +08 */

static score_rules R;

static int setup(void **state)
{
    (void)state;
    score_rules_defaults(&R);
    return 0;
}

static score_role_seen roles[3];

/* An open proposal-stage deal on which every dimension is green. */
static score_health_facts green_deal(void)
{
    roles[0] = (score_role_seen) {1, NOW - DAY, "i1", "李采购"};
    roles[1] = (score_role_seen) {2, NOW - DAY, "i2", "张工"};
    roles[2] = (score_role_seen) {3, NOW - DAY, "i3", "赵局"};
    return (score_health_facts) {
        .deal_id = "D1",
        .stage = 4,
        .days_in_stage = 10,
        .contacts_30d = 6,
        .roles = roles,
        .n_roles = 3,
        .proposal_revisions = 2,
        .proposal_customer_specific = 1,
        .competitor_mentions = 0,
        .competitor_response_hours = -1,
        .median_response_hours = 2,
        .engagement_cur = 10,
        .engagement_prev = 10,
        .next_step_defined = 1,
        .next_step_due_ms = NOW + 2 * DAY,
        .open_risks = 0,
        .card_fields_filled = 9,
        .card_fields_total = 10,
        .card_l3 = 5,
    };
}

typedef enum field {
    CONTACTS,
    ROLE_AGE_DAYS, /* procurement last seen x days ago */
    ROLES_SEEN, /* only the first x roles seen */
    PROPOSALS,
    NOT_CUSTOM, /* revisions x without customer data */
    PROPOSAL_STAGE, /* stage x with no proposal */
    COMP_HOURS, /* 2 mentions answered after x h */
    COMP_WAIT, /* 2 mentions unanswered for x h */
    DWELL,
    LATENCY,
    ENG_CUR, /* previous 14 days = 10 */
    ENG_NONE,
    OVERDUE_DAYS,
    NO_NEXT,
    RISK_AGE, /* one risk x days old */
    THREE_RISKS, /* three risks, oldest x days */
    CARD_FILLED_L3, /* x of 10 filled, all L3 */
    CARD_FULL_L1, /* 10 of 10 filled, all L1 */
} field;

static const struct hrow {
    score_dim dim;
    field f;
    double x;
    score_colour want;
    int score; /* -1 = not checked */
} rows[] = {
    {SCORE_DIM_CONTACT_FREQUENCY, CONTACTS, 6, SCORE_GREEN, 100},
    {SCORE_DIM_CONTACT_FREQUENCY, CONTACTS, 5, SCORE_GREEN, -1},
    {SCORE_DIM_CONTACT_FREQUENCY, CONTACTS, 4, SCORE_YELLOW, -1},
    {SCORE_DIM_CONTACT_FREQUENCY, CONTACTS, 3, SCORE_YELLOW, 40}, /* exactly the bad anchor 0.5 */
    {SCORE_DIM_CONTACT_FREQUENCY, CONTACTS, 2, SCORE_RED, -1},
    {SCORE_DIM_CONTACT_FREQUENCY, CONTACTS, 0, SCORE_RED, 0},

    {SCORE_DIM_KEY_ROLE_COVERAGE, ROLE_AGE_DAYS, 29.9, SCORE_GREEN, 100},
    {SCORE_DIM_KEY_ROLE_COVERAGE, ROLE_AGE_DAYS, 30, SCORE_YELLOW, -1},
    {SCORE_DIM_KEY_ROLE_COVERAGE, ROLES_SEEN, 2, SCORE_YELLOW, -1},
    {SCORE_DIM_KEY_ROLE_COVERAGE, ROLES_SEEN, 1, SCORE_RED, -1},

    {SCORE_DIM_PROPOSAL_ITERATIONS, PROPOSALS, 2, SCORE_GREEN, 100},
    {SCORE_DIM_PROPOSAL_ITERATIONS, PROPOSALS, 1, SCORE_YELLOW, -1},
    {SCORE_DIM_PROPOSAL_ITERATIONS, PROPOSALS, 0, SCORE_RED, 0},
    {SCORE_DIM_PROPOSAL_ITERATIONS, NOT_CUSTOM, 3, SCORE_YELLOW, -1},
    {SCORE_DIM_PROPOSAL_ITERATIONS, PROPOSAL_STAGE, 3, SCORE_GREEN, 100}, /* demo: not yet expected */
    {SCORE_DIM_PROPOSAL_ITERATIONS, PROPOSAL_STAGE, 5, SCORE_RED, 0},

    {SCORE_DIM_COMPETITOR_RESPONSE, COMP_HOURS, 24, SCORE_GREEN, 70},
    {SCORE_DIM_COMPETITOR_RESPONSE, COMP_HOURS, 24.5, SCORE_YELLOW, -1},
    {SCORE_DIM_COMPETITOR_RESPONSE, COMP_HOURS, 72, SCORE_YELLOW, 40},
    {SCORE_DIM_COMPETITOR_RESPONSE, COMP_HOURS, 73, SCORE_RED, -1},
    {SCORE_DIM_COMPETITOR_RESPONSE, COMP_WAIT, 10, SCORE_GREEN, -1},
    {SCORE_DIM_COMPETITOR_RESPONSE, COMP_WAIT, 80, SCORE_RED, -1},

    {SCORE_DIM_STAGE_DWELL, DWELL, 21, SCORE_GREEN, 70}, /* at the norm */
    {SCORE_DIM_STAGE_DWELL, DWELL, 21.5, SCORE_YELLOW, -1},
    {SCORE_DIM_STAGE_DWELL, DWELL, 31.5, SCORE_YELLOW, 40}, /* at 1.5 x */
    {SCORE_DIM_STAGE_DWELL, DWELL, 32, SCORE_RED, -1}, {SCORE_DIM_STAGE_DWELL, DWELL, 70, SCORE_RED, 0},

    {SCORE_DIM_RESPONSE_LATENCY, LATENCY, 4, SCORE_GREEN, 70},
    {SCORE_DIM_RESPONSE_LATENCY, LATENCY, 4.1, SCORE_YELLOW, -1},
    {SCORE_DIM_RESPONSE_LATENCY, LATENCY, 24, SCORE_YELLOW, 40},
    {SCORE_DIM_RESPONSE_LATENCY, LATENCY, 24.5, SCORE_RED, -1},
    {SCORE_DIM_RESPONSE_LATENCY, LATENCY, -1, SCORE_GREEN, 100}, /* no customer message */

    {SCORE_DIM_ENGAGEMENT_TREND, ENG_CUR, 12, SCORE_GREEN, 100},
    {SCORE_DIM_ENGAGEMENT_TREND, ENG_CUR, 9, SCORE_GREEN, 70},
    {SCORE_DIM_ENGAGEMENT_TREND, ENG_CUR, 8, SCORE_YELLOW, -1},
    {SCORE_DIM_ENGAGEMENT_TREND, ENG_CUR, 5, SCORE_YELLOW, 40},
    {SCORE_DIM_ENGAGEMENT_TREND, ENG_CUR, 4, SCORE_RED, -1},
    {SCORE_DIM_ENGAGEMENT_TREND, ENG_NONE, 0, SCORE_RED, -1},

    {SCORE_DIM_NEXT_STEP, OVERDUE_DAYS, 0, SCORE_GREEN, 100}, /* due right now */
    {SCORE_DIM_NEXT_STEP, OVERDUE_DAYS, 1, SCORE_YELLOW, -1},
    {SCORE_DIM_NEXT_STEP, OVERDUE_DAYS, 3, SCORE_YELLOW, 40},
    {SCORE_DIM_NEXT_STEP, OVERDUE_DAYS, 3.1, SCORE_RED, -1}, {SCORE_DIM_NEXT_STEP, NO_NEXT, 0, SCORE_RED, 0},

    {SCORE_DIM_OPEN_RISKS, RISK_AGE, 2, SCORE_GREEN, 70},
    {SCORE_DIM_OPEN_RISKS, RISK_AGE, 2.5, SCORE_YELLOW, -1},
    {SCORE_DIM_OPEN_RISKS, RISK_AGE, 7, SCORE_YELLOW, 40},
    {SCORE_DIM_OPEN_RISKS, RISK_AGE, 7.5, SCORE_RED, -1},
    {SCORE_DIM_OPEN_RISKS, THREE_RISKS, 1, SCORE_YELLOW, 65}, /* 85 - 2 x 10 */

    {SCORE_DIM_CARD_QUALITY, CARD_FILLED_L3, 9, SCORE_GREEN, 100},
    {SCORE_DIM_CARD_QUALITY, CARD_FILLED_L3, 6, SCORE_GREEN, 70},
    {SCORE_DIM_CARD_QUALITY, CARD_FILLED_L3, 5, SCORE_YELLOW, -1},
    {SCORE_DIM_CARD_QUALITY, CARD_FILLED_L3, 3, SCORE_YELLOW, 40},
    {SCORE_DIM_CARD_QUALITY, CARD_FILLED_L3, 2, SCORE_RED, -1},
    {SCORE_DIM_CARD_QUALITY, CARD_FULL_L1, 10, SCORE_YELLOW, -1}, /* complete but only L1: 0.5 */
};

static void apply(score_health_facts *f, field fl, double x)
{
    switch (fl) {
    case CONTACTS: f->contacts_30d = (int)x; break;
    case ROLE_AGE_DAYS: roles[0].last_seen_ms = NOW - (int64_t)(x * DAY); break;
    case ROLES_SEEN: f->n_roles = (size_t)x; break;
    case PROPOSALS: f->proposal_revisions = (int)x; break;
    case NOT_CUSTOM: f->proposal_revisions = (int)x, f->proposal_customer_specific = 0; break;
    case PROPOSAL_STAGE: f->stage = (int)x, f->proposal_revisions = 0; break;
    case COMP_HOURS: f->competitor_mentions = 2, f->competitor_response_hours = x; break;
    case COMP_WAIT:
        f->competitor_mentions = 2, f->competitor_response_hours = -1;
        f->competitor_last_mention_ms = NOW - (int64_t)(x * HOUR);
        break;
    case DWELL: f->days_in_stage = x; break;
    case LATENCY: f->median_response_hours = x; break;
    case ENG_CUR: f->engagement_cur = (int)x; break;
    case ENG_NONE: f->engagement_cur = 0, f->engagement_prev = 0; break;
    case OVERDUE_DAYS: f->next_step_due_ms = NOW - (int64_t)(x * DAY); break;
    case NO_NEXT: f->next_step_defined = 0; break;
    case RISK_AGE: f->open_risks = 1, f->oldest_risk_age_days = x; break;
    case THREE_RISKS: f->open_risks = 3, f->oldest_risk_age_days = x; break;
    case CARD_FILLED_L3: f->card_fields_filled = (int)x, f->card_l3 = (int)x; break;
    case CARD_FULL_L1: f->card_fields_filled = 10, f->card_l3 = 0, f->card_l1 = 10; break;
    }
}

static void test_green_deal(void **state)
{
    (void)state;
    score_health_facts f = green_deal();
    score_health h;
    assert_int_equal(score_health_eval(&f, &R, NOW, &h), SP_OK);
    for (int i = 0; i < SCORE_DIM_COUNT; i++) {
        if (h.dims[i].colour != SCORE_GREEN)
            fail_msg("%s: %s %d (%s)", score_dim_name((score_dim)i), score_colour_name(h.dims[i].colour),
                h.dims[i].score, h.dims[i].reason_en);
        assert_true(h.dims[i].reason_zh[0] && h.dims[i].reason_en[0]);
    }
    assert_int_equal(h.colour, SCORE_GREEN);
    assert_string_equal(h.deal_id, "D1");
}

static void test_dimension_boundaries(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        score_health_facts f = green_deal();
        apply(&f, rows[i].f, rows[i].x);
        score_health h;
        assert_int_equal(score_health_eval(&f, &R, NOW, &h), SP_OK);
        const score_dim_result *d = &h.dims[rows[i].dim];
        if (d->colour != rows[i].want || (rows[i].score >= 0 && d->score != rows[i].score))
            fail_msg("row %zu %s x=%g: %s %d, want %s %d (%s)", i, score_dim_name(rows[i].dim), rows[i].x,
                score_colour_name(d->colour), d->score, score_colour_name(rows[i].want), rows[i].score,
                d->reason_en);
        /* the number always agrees with the colour */
        assert_int_equal(score_health_colour(&R, d->score), d->colour);
    }
}

static void test_weighted_score(void **state)
{
    (void)state;
    score_health_facts f = green_deal();
    f.next_step_defined = 0; /* red 0 */
    f.proposal_revisions = 0; /* red 0 */
    f.days_in_stage = 40; /* red */
    score_health h;
    assert_int_equal(score_health_eval(&f, &R, NOW, &h), SP_OK);
    double sum = 0, w = 0;
    for (int i = 0; i < SCORE_DIM_COUNT; i++)
        sum += h.dims[i].weight * h.dims[i].score, w += h.dims[i].weight;
    assert_int_equal(h.score, (int)(sum / w));
    assert_true(h.score < 80 && h.score > 40);
    /* only next_step weighs: the deal score is that dimension's */
    score_rules r2 = R;
    memset(r2.health.weights, 0, sizeof r2.health.weights);
    r2.health.weights[SCORE_DIM_NEXT_STEP] = 1;
    assert_int_equal(score_health_eval(&f, &r2, NOW, &h), SP_OK);
    assert_int_equal(h.score, 0);
    assert_int_equal(h.colour, SCORE_RED);
    f.contacts_30d = -1;
    assert_int_equal(score_health_eval(&f, &R, NOW, &h), SP_EINVAL);
    assert_int_equal(score_health_eval(NULL, &R, NOW, &h), SP_EINVAL);
}

static void test_json(void **state)
{
    (void)state;
    score_health_facts f = green_deal();
    f.median_response_hours = 30;
    score_health h;
    char *js = NULL;
    assert_int_equal(score_health_eval(&f, &R, NOW, &h), SP_OK);
    assert_int_equal(score_health_to_json(&h, &js), SP_OK);
    json_error_t err;
    json_t *root = json_loads(js, 0, &err);
    assert_non_null(root);
    assert_string_equal(json_string_value(json_object_get(root, "deal_id")), "D1");
    assert_int_equal(json_integer_value(json_object_get(root, "score")), h.score);
    json_t *dims = json_object_get(root, "dimensions");
    assert_int_equal(json_array_size(dims), SCORE_DIM_COUNT);
    json_t *lat = json_array_get(dims, SCORE_DIM_RESPONSE_LATENCY);
    assert_string_equal(json_string_value(json_object_get(lat, "name")), "response_latency");
    assert_string_equal(json_string_value(json_object_get(lat, "colour")), "red");
    assert_string_equal(
        json_string_value(json_object_get(lat, "reason_zh")), "客户消息回复时间中位数 30.0 小时");
    json_decref(root);
    free(js);
}

static void test_rollups(void **state)
{
    (void)state;
    double out;
    const double scores[] = {80, 40}, values[] = {300000, 100000}, zero[] = {0, 0};
    assert_int_equal(score_rollup_weighted(scores, values, 2, &out), SP_OK);
    assert_true(out > 69.999 && out < 70.001);
    assert_int_equal(score_rollup_weighted(scores, zero, 2, &out), SP_OK);
    assert_true(out > 59.999 && out < 60.001);
    assert_int_equal(score_rollup_weighted(scores, NULL, 2, &out), SP_OK);
    assert_true(out > 59.999 && out < 60.001);
    assert_int_equal(score_rollup_weighted(scores, values, 0, &out), SP_ENOTFOUND);
    assert_int_equal(score_rollup_rate(3, 25, &out), SP_OK);
    assert_true(out > 0.1199 && out < 0.1201);
    assert_int_equal(score_rollup_rate(1, 0, &out), SP_ENOTFOUND);
    assert_int_equal(score_rollup_rate(5, 4, &out), SP_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_green_deal),
        cmocka_unit_test(test_dimension_boundaries),
        cmocka_unit_test(test_weighted_score),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_rollups),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
