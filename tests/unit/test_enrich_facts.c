/* Unit tests of services/enrich/facts.c: credibility, customer side,
 * activity quality standards, concern severity, fact merging. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "enrich/enrich_svc.h"
#include "enrich/facts.h"
#include "err.h"

#include <string.h>

typedef Salespulse__V1__Interaction Ix;

static void test_levels(void **state)
{
    (void)state;
    Ix ix = SALESPULSE__V1__INTERACTION__INIT;
    ix.channel = SALESPULSE__V1__CHANNEL__CHANNEL_WECOM;
    assert_int_equal(facts_level_of(&ix), 1);
    ix.channel = SALESPULSE__V1__CHANNEL__CHANNEL_NOTE;
    assert_int_equal(facts_level_of(&ix), 2);
    ix.channel = SALESPULSE__V1__CHANNEL__CHANNEL_ACTIVITY;
    assert_int_equal(facts_level_of(&ix), 2);
    Salespulse__V1__StageChange sc = SALESPULSE__V1__STAGE_CHANGE__INIT;
    ix.channel = SALESPULSE__V1__CHANNEL__CHANNEL_CRM;
    ix.detail_case = SALESPULSE__V1__INTERACTION__DETAIL_STAGE_CHANGE;
    ix.stage_change = &sc;
    assert_int_equal(facts_level_of(&ix), 1);
    sc.signed_requirements = 1;
    assert_int_equal(facts_level_of(&ix), 3);
    Salespulse__V1__EmailInfo em = SALESPULSE__V1__EMAIL_INFO__INIT;
    Salespulse__V1__Attachment a1 = SALESPULSE__V1__ATTACHMENT__INIT, a2 = SALESPULSE__V1__ATTACHMENT__INIT;
    Salespulse__V1__Attachment *as[] = {&a1, &a2};
    em.n_attachments = 2;
    em.attachments = as;
    ix.channel = SALESPULSE__V1__CHANNEL__CHANNEL_EMAIL;
    ix.detail_case = SALESPULSE__V1__INTERACTION__DETAIL_EMAIL;
    ix.email = &em;
    assert_int_equal(facts_level_of(&ix), 1);
    a2.signed_ = 1;
    assert_int_equal(facts_level_of(&ix), 3);
}

static void test_customer_side(void **state)
{
    (void)state;
    Ix ix = SALESPULSE__V1__INTERACTION__INIT;
    ix.channel = SALESPULSE__V1__CHANNEL__CHANNEL_WECOM;
    ix.direction = SALESPULSE__V1__DIRECTION__DIRECTION_OUTBOUND;
    assert_false(facts_customer_side(&ix));
    ix.direction = SALESPULSE__V1__DIRECTION__DIRECTION_INBOUND;
    assert_true(facts_customer_side(&ix));
    Salespulse__V1__Turn rep = SALESPULSE__V1__TURN__INIT, cust = SALESPULSE__V1__TURN__INIT;
    rep.speaker = SALESPULSE__V1__SPEAKER__SPEAKER_REP;
    cust.speaker = SALESPULSE__V1__SPEAKER__SPEAKER_CUSTOMER;
    Salespulse__V1__Turn *only_rep[] = {&rep}, *both[] = {&rep, &cust};
    ix.channel = SALESPULSE__V1__CHANNEL__CHANNEL_CALL;
    ix.direction = SALESPULSE__V1__DIRECTION__DIRECTION_OUTBOUND;
    ix.n_turns = 1;
    ix.turns = only_rep;
    assert_false(facts_customer_side(&ix));
    ix.n_turns = 2;
    ix.turns = both;
    assert_true(facts_customer_side(&ix));
    ix.channel = SALESPULSE__V1__CHANNEL__CHANNEL_NOTE;
    assert_true(facts_customer_side(&ix));
    ix.channel = SALESPULSE__V1__CHANNEL__CHANNEL_TRACKING;
    ix.direction = SALESPULSE__V1__DIRECTION__DIRECTION_INBOUND;
    assert_false(facts_customer_side(&ix));
}

static void test_activity_quality(void **state)
{
    (void)state;
    Salespulse__V1__RepActivity a = SALESPULSE__V1__REP_ACTIVITY__INIT;
    char why[128];
    Salespulse__V1__Role two[]
        = {SALESPULSE__V1__ROLE__ROLE_PROCUREMENT, SALESPULSE__V1__ROLE__ROLE_TECHNICAL};
    Salespulse__V1__Role three[] = {SALESPULSE__V1__ROLE__ROLE_TECHNICAL,
        SALESPULSE__V1__ROLE__ROLE_DECISION_MAKER, SALESPULSE__V1__ROLE__ROLE_PROCUREMENT};
    a.kind = SALESPULSE__V1__ACTIVITY_KIND__ACTIVITY_KIND_NEEDS_DIAGNOSIS;
    assert_int_equal(facts_activity_quality(&a, why, sizeof why), 0);
    assert_string_equal(why, "missing roles: procurement,technical,decision_maker");
    a.n_roles_covered = 2;
    a.roles_covered = two;
    assert_int_equal(facts_activity_quality(&a, why, sizeof why), 0);
    assert_string_equal(why, "missing roles: decision_maker");
    a.n_roles_covered = 3;
    a.roles_covered = three;
    assert_int_equal(facts_activity_quality(&a, why, sizeof why), 1);
    assert_string_equal(why, "");

    Salespulse__V1__RepActivity p = SALESPULSE__V1__REP_ACTIVITY__INIT;
    p.kind = SALESPULSE__V1__ACTIVITY_KIND__ACTIVITY_KIND_PROPOSAL;
    p.proposal_revision = 2;
    assert_int_equal(facts_activity_quality(&p, why, sizeof why), 0);
    assert_non_null(strstr(why, "customer-specific"));
    p.customer_specific_data = 1;
    assert_int_equal(facts_activity_quality(&p, why, sizeof why), 1);
    Salespulse__V1__RepActivity v = SALESPULSE__V1__REP_ACTIVITY__INIT;
    v.kind = SALESPULSE__V1__ACTIVITY_KIND__ACTIVITY_KIND_VISIT;
    assert_int_equal(facts_activity_quality(&v, NULL, 0), 1);
    v.kind = SALESPULSE__V1__ACTIVITY_KIND__ACTIVITY_KIND_UNSPECIFIED;
    assert_int_equal(facts_activity_quality(&v, why, sizeof why), 0);
    assert_int_equal(facts_activity_quality(NULL, why, sizeof why), 0);
}

static void test_severity_and_merge(void **state)
{
    (void)state;
    assert_int_equal(facts_risk_severity("budget_freeze"), 3);
    assert_int_equal(facts_risk_severity("after_sales"), 2);
    assert_int_equal(facts_risk_severity("price"), 1);
    assert_int_equal(facts_risk_severity("weather"), 0);
    assert_int_equal(facts_risk_severity(NULL), 0);
    /* rows: current level, new level, same value -> decision */
    struct {
        int cur, nw, same;
        facts_merge want;
    } rows[] = {
        {0, 1, 0, FACT_REPLACE}, /* nothing yet */
        {1, 1, 0, FACT_REPLACE}, /* newer statement at the same level wins */
        {1, 2, 0, FACT_REPLACE}, /* a rep's confirmation beats chat */
        {3, 1, 0, FACT_CONFLICT}, /* L1 never overwrites L3: kept, visible */
        {3, 2, 0, FACT_CONFLICT},
        {3, 1, 1, FACT_CONFIRM}, /* agrees with the signed value */
        {2, 3, 1, FACT_REPLACE},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        assert_int_equal(facts_merge_decide(rows[i].cur, rows[i].nw, rows[i].same), rows[i].want);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(facts_stage_name(SALESPULSE__V1__STAGE__STAGE_NEGOTIATION), "negotiation");
    assert_int_equal(facts_stage_parse("demo"), SALESPULSE__V1__STAGE__STAGE_DEMO);
    assert_int_equal(facts_stage_parse("closing"), 0);
    assert_null(facts_stage_name(99));
    assert_string_equal(facts_role_name(SALESPULSE__V1__ROLE__ROLE_DECISION_MAKER), "decision_maker");
    assert_int_equal(facts_role_parse("finance"), SALESPULSE__V1__ROLE__ROLE_FINANCE);
    assert_int_equal(facts_role_parse("ceo"), 0);
}

/* What every event passes before it is applied (HTTP or straight to Kafka):
 * an id longer than sp-score holds would be cut and merged with another. */
static void test_validate_ids(void **state)
{
    (void)state;
    Salespulse__V1__EventMeta meta = SALESPULSE__V1__EVENT_META__INIT;
    Salespulse__V1__Interaction ix = SALESPULSE__V1__INTERACTION__INIT;
    Salespulse__V1__StageChange sc = SALESPULSE__V1__STAGE_CHANGE__INIT;
    meta.event_id = "ix-1";
    meta.occurred_at_ms = 1772417700000LL;
    ix.meta = &meta;
    ix.channel = SALESPULSE__V1__CHANNEL__CHANNEL_NOTE;
    char why[256], id127[128], id128[129];
    memset(id127, 'c', 127), id127[127] = '\0';
    memset(id128, 'c', 128), id128[128] = '\0';
    ix.customer_ref = id127;
    ix.rep_id = id127;
    ix.deal_id = id127;
    assert_int_equal(enrich_validate(&ix, why, sizeof why), SP_OK);
    ix.customer_ref = id128;
    assert_int_equal(enrich_validate(&ix, why, sizeof why), SP_EINVAL);
    assert_string_equal(why, "invalid Interaction ix-1: customer_ref over 127 bytes");
    ix.customer_ref = id127;
    ix.rep_id = id128;
    assert_int_equal(enrich_validate(&ix, why, sizeof why), SP_EINVAL);
    assert_non_null(strstr(why, "rep_id over 127"));
    ix.rep_id = id127;
    ix.deal_id = id128;
    assert_int_equal(enrich_validate(&ix, why, sizeof why), SP_EINVAL);
    assert_non_null(strstr(why, ": deal_id over 127"));
    ix.deal_id = id127;
    /* detail is a oneof: another member in the union is not a stage change
     * (reading it as one crashed sp-enrich on the first e-mail) */
    Salespulse__V1__EmailInfo em = SALESPULSE__V1__EMAIL_INFO__INIT;
    em.message_id = id128;
    ix.detail_case = SALESPULSE__V1__INTERACTION__DETAIL_EMAIL;
    ix.email = &em;
    assert_int_equal(enrich_validate(&ix, why, sizeof why), SP_OK);
    sc.deal_id = id128;
    ix.detail_case = SALESPULSE__V1__INTERACTION__DETAIL_STAGE_CHANGE;
    ix.stage_change = &sc;
    ix.channel = SALESPULSE__V1__CHANNEL__CHANNEL_CRM;
    assert_int_equal(enrich_validate(&ix, why, sizeof why), SP_EINVAL);
    assert_non_null(strstr(why, "stage_change.deal_id over 127"));
}

/* A call's stored text is its transcript, one labelled line per turn (its
 * touch points and the won case's last call read it); text it has wins. */
static void test_call_text(void **state)
{
    (void)state;
    Salespulse__V1__EventMeta meta = SALESPULSE__V1__EVENT_META__INIT;
    Salespulse__V1__Interaction ix = SALESPULSE__V1__INTERACTION__INIT;
    Salespulse__V1__Turn t1 = SALESPULSE__V1__TURN__INIT, t2 = SALESPULSE__V1__TURN__INIT,
                         t3 = SALESPULSE__V1__TURN__INIT, t4 = SALESPULSE__V1__TURN__INIT;
    Salespulse__V1__Turn *turns[] = {&t1, &t2, &t3, &t4};
    meta.event_id = "ix-call";
    meta.occurred_at_ms = 1772417700000LL;
    ix.meta = &meta;
    ix.channel = SALESPULSE__V1__CHANNEL__CHANNEL_CALL;
    t1.speaker = SALESPULSE__V1__SPEAKER__SPEAKER_REP, t1.text = "王校长您好";
    t2.speaker = SALESPULSE__V1__SPEAKER__SPEAKER_CUSTOMER, t2.text = "预算还没批下来";
    t3.speaker = SALESPULSE__V1__SPEAKER__SPEAKER_CUSTOMER, t3.text = "";
    t4.speaker = SALESPULSE__V1__SPEAKER__SPEAKER_UNSPECIFIED, t4.text = "(hold music)";
    ix.turns = turns;
    ix.n_turns = 4;
    json_t *d = enrich_doc_build(&ix, NULL, NULL, NULL);
    assert_non_null(d);
    assert_string_equal(json_string_value(json_object_get(d, "text")),
        "销售：王校长您好\n客户：预算还没批下来\n(hold music)");
    json_decref(d);
    ix.text = "summary by the recorder";
    d = enrich_doc_build(&ix, NULL, NULL, NULL);
    assert_string_equal(json_string_value(json_object_get(d, "text")), "summary by the recorder");
    json_decref(d);
    /* no words in the turns: no text */
    ix.text = NULL;
    ix.turns = &turns[2];
    ix.n_turns = 1;
    d = enrich_doc_build(&ix, NULL, NULL, NULL);
    assert_null(json_object_get(d, "text"));
    json_decref(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_call_text),
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_customer_side),
        cmocka_unit_test(test_activity_quality),
        cmocka_unit_test(test_severity_and_merge),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_validate_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
