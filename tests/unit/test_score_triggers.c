/* Unit tests of services/score/triggers.c: which evaluations an enriched
 * interaction touches, and the ctx / touch it fills. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "score/triggers.h"

#include <stdio.h>
#include <string.h>

#define BIT(k) ((score_kind_mask)1u << (k))

static score_rules R;

static int setup(void **state)
{
    (void)state;
    score_rules_defaults(&R);
    return 0;
}

typedef struct msg {
    Salespulse__V1__EnrichedInteraction ei;
    Salespulse__V1__Interaction in;
    Salespulse__V1__EventMeta meta;
    Salespulse__V1__Extraction x;
    Salespulse__V1__TrackingInfo tr;
    Salespulse__V1__RepActivity act;
    Salespulse__V1__StageChange sc;
} msg;

static void msg_init(msg *m)
{
    salespulse__v1__enriched_interaction__init(&m->ei);
    salespulse__v1__interaction__init(&m->in);
    salespulse__v1__event_meta__init(&m->meta);
    salespulse__v1__extraction__init(&m->x);
    salespulse__v1__tracking_info__init(&m->tr);
    salespulse__v1__rep_activity__init(&m->act);
    salespulse__v1__stage_change__init(&m->sc);
    m->meta.event_id = "int:wecom:42";
    m->meta.occurred_at_ms = 1772589600000LL;
    m->in.meta = &m->meta;
    m->ei.interaction = &m->in;
    m->ei.extraction = &m->x;
    m->ei.customer_id = "C1";
    m->ei.deal_id = "D1";
    m->ei.rep_id = "R1";
    m->ei.team_id = "T1";
    m->ei.region_id = "G1";
}

static void test_inbound_message(void **state)
{
    (void)state;
    msg m;
    msg_init(&m);
    char *risks[] = {"budget_freeze"}, *intents[] = {"demo_refused"}, *comps[] = {"seewo"};
    m.in.channel = SALESPULSE__V1__CHANNEL__CHANNEL_WECOM;
    m.in.direction = SALESPULSE__V1__DIRECTION__DIRECTION_INBOUND;
    m.ei.customer_side = 1;
    m.x.risks = risks, m.x.n_risks = 1;
    m.x.intents = intents, m.x.n_intents = 1;
    m.x.competitors = comps, m.x.n_competitors = 1;
    m.x.concern = "预算冻结";
    score_kind_mask mask;
    assert_int_equal(score_enriched_triggers(&m.ei, &R, &mask), SP_OK);
    assert_int_equal(mask,
        BIT(SCORE_CUSTOMER_STALE) | BIT(SCORE_UNANSWERED_INBOUND) | BIT(SCORE_RISK_RAISED)
            | BIT(SCORE_DEMO_REFUSED_TWICE) | BIT(SCORE_COMPETITOR_SURGE));
    score_touch t;
    assert_int_equal(score_enriched_touch(&m.ei, "budget_freeze", &t), SP_OK);
    assert_string_equal(t.interaction_id, "int:wecom:42");
    assert_int_equal(t.at_ms, 1772589600000LL);
    assert_string_equal(t.quote, "预算冻结");
    score_ctx c;
    assert_int_equal(score_enriched_ctx(&m.ei, SCORE_RISK_RAISED, &c), SP_OK);
    assert_string_equal(c.subject_id, "D1");
    assert_int_equal(score_enriched_ctx(&m.ei, SCORE_CUSTOMER_STALE, &c), SP_OK);
    assert_string_equal(c.subject_id, "C1");
    assert_int_equal(score_enriched_ctx(&m.ei, SCORE_FIRST_VISIT_TIMEOUT, &c), SP_OK);
    assert_string_equal(c.subject_id, "G1");
    m.ei.team_id = "";
    assert_int_equal(score_enriched_ctx(&m.ei, SCORE_FUNNEL_COLLAPSE, &c), SP_ENOTFOUND);
}

static void test_tracking_and_stage(void **state)
{
    (void)state;
    msg m;
    msg_init(&m);
    m.in.channel = SALESPULSE__V1__CHANNEL__CHANNEL_TRACKING;
    m.in.direction = SALESPULSE__V1__DIRECTION__DIRECTION_INBOUND;
    m.ei.customer_side = 1;
    m.in.detail_case = SALESPULSE__V1__INTERACTION__DETAIL_TRACKING;
    m.in.tracking = &m.tr;
    m.tr.page_class = SALESPULSE__V1__PAGE_CLASS__PAGE_CLASS_PRODUCT;
    score_kind_mask mask;
    assert_int_equal(score_enriched_triggers(&m.ei, &R, &mask), SP_OK);
    assert_int_equal(
        mask, BIT(SCORE_CUSTOMER_STALE) | BIT(SCORE_INTEREST_WARMING)); /* a visit needs no answer */
    m.tr.page_class = SALESPULSE__V1__PAGE_CLASS__PAGE_CLASS_COMPETITOR;
    assert_int_equal(score_enriched_triggers(&m.ei, &R, &mask), SP_OK);
    assert_true(mask & BIT(SCORE_COMPETITOR_SURGE));

    msg_init(&m);
    m.in.channel = SALESPULSE__V1__CHANNEL__CHANNEL_CRM;
    m.in.direction = SALESPULSE__V1__DIRECTION__DIRECTION_INTERNAL;
    m.in.detail_case = SALESPULSE__V1__INTERACTION__DETAIL_STAGE_CHANGE;
    m.in.stage_change = &m.sc;
    assert_int_equal(score_enriched_triggers(&m.ei, &R, &mask), SP_OK);
    assert_int_equal(mask,
        BIT(SCORE_CUSTOMER_STALE) | BIT(SCORE_STAGE_STALLED) | BIT(SCORE_NO_PROGRESS_AFTER_VISIT)
            | BIT(SCORE_KEY_ROLE_UNCOVERED) | BIT(SCORE_STATUS_NOT_UPDATED));

    msg_init(&m);
    m.in.channel = SALESPULSE__V1__CHANNEL__CHANNEL_ACTIVITY;
    m.in.direction = SALESPULSE__V1__DIRECTION__DIRECTION_INTERNAL;
    m.in.detail_case = SALESPULSE__V1__INTERACTION__DETAIL_ACTIVITY;
    m.in.activity = &m.act;
    m.act.kind = SALESPULSE__V1__ACTIVITY_KIND__ACTIVITY_KIND_VISIT;
    assert_int_equal(score_enriched_triggers(&m.ei, &R, &mask), SP_OK);
    assert_true((mask & BIT(SCORE_NO_PROGRESS_AFTER_VISIT)) && (mask & BIT(SCORE_KEY_ACTION_MISSING))
        && (mask & BIT(SCORE_STATUS_NOT_UPDATED)));
    assert_false(mask & BIT(SCORE_UNANSWERED_INBOUND));
    score_touch t;
    assert_int_equal(score_enriched_touch(&m.ei, "visit", &t), SP_OK);
    assert_string_equal(t.quote, ""); /* rep-side: no customer words */
    assert_int_equal(score_enriched_triggers(NULL, &R, &mask), SP_EINVAL);
}

/* what score_enriched_each reports, as one string per evaluation */
typedef struct seen {
    char what[16][96];
    int n;
} seen;

static sp_err note(void *arg, score_kind kind, const char *subject, const char *variant, int clears)
{
    seen *s = arg;
    if (s->n >= 16) return SP_ENOMEM;
    snprintf(s->what[s->n++], 96, "%s %s %s %d", score_kind_name(kind), subject, variant, clears);
    return SP_OK;
}

static sp_err refuse(void *arg, score_kind kind, const char *subject, const char *variant, int clears)
{
    (void)arg, (void)kind, (void)subject, (void)variant, (void)clears;
    return SP_EDB;
}

/* Every evaluation the event asks for, in kind order: one per distinct
 * risk tag, rep kinds left to the sweeps, clears as the event says. */
static void test_each_evaluation(void **state)
{
    (void)state;
    msg m;
    msg_init(&m);
    char *risks[] = {"budget_freeze", "", "after_sales", "budget_freeze"};
    m.in.channel = SALESPULSE__V1__CHANNEL__CHANNEL_WECOM;
    m.in.direction = SALESPULSE__V1__DIRECTION__DIRECTION_INBOUND;
    m.ei.customer_side = 1;
    m.x.risks = risks, m.x.n_risks = 4;
    seen s = {0};
    assert_int_equal(score_enriched_each(&m.ei, &R, note, &s), SP_OK);
    assert_int_equal(s.n, 4);
    assert_string_equal(s.what[0], "deal.risk_raised D1 budget_freeze 0");
    assert_string_equal(s.what[1], "deal.risk_raised D1 after_sales 0");
    assert_string_equal(s.what[2], "deal.unanswered_inbound D1  0");
    assert_string_equal(s.what[3], "customer.stale C1  1"); /* any touch ends a silence */

    /* the rep's reply clears unanswered; its activity kinds are rep kinds */
    msg_init(&m);
    m.in.channel = SALESPULSE__V1__CHANNEL__CHANNEL_WECOM;
    m.in.direction = SALESPULSE__V1__DIRECTION__DIRECTION_OUTBOUND;
    memset(&s, 0, sizeof s);
    assert_int_equal(score_enriched_each(&m.ei, &R, note, &s), SP_OK);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.what[0], "deal.unanswered_inbound D1  1");
    assert_string_equal(s.what[1], "customer.stale C1  1");
    m.in.channel = SALESPULSE__V1__CHANNEL__CHANNEL_ACTIVITY;
    m.in.direction = SALESPULSE__V1__DIRECTION__DIRECTION_INTERNAL;
    m.in.detail_case = SALESPULSE__V1__INTERACTION__DETAIL_ACTIVITY;
    m.in.activity = &m.act;
    m.act.kind = SALESPULSE__V1__ACTIVITY_KIND__ACTIVITY_KIND_VISIT;
    memset(&s, 0, sizeof s);
    assert_int_equal(score_enriched_each(&m.ei, &R, note, &s), SP_OK);
    for (int i = 0; i < s.n; i++)
        assert_null(strstr(s.what[i], "rep."));
    /* no deal id: nothing on a deal */
    m.ei.deal_id = "";
    memset(&s, 0, sizeof s);
    assert_int_equal(score_enriched_each(&m.ei, &R, note, &s), SP_OK);
    for (int i = 0; i < s.n; i++)
        assert_null(strstr(s.what[i], "deal."));
    /* a contact's touch cannot uncover a key role; a stage change can */
    msg_init(&m);
    Salespulse__V1__Role roles[] = {SALESPULSE__V1__ROLE__ROLE_PROCUREMENT};
    m.in.channel = SALESPULSE__V1__CHANNEL__CHANNEL_WECOM;
    m.in.direction = SALESPULSE__V1__DIRECTION__DIRECTION_INBOUND;
    m.ei.contact_roles = roles, m.ei.n_contact_roles = 1;
    memset(&s, 0, sizeof s);
    assert_int_equal(score_enriched_each(&m.ei, &R, note, &s), SP_OK);
    int found = 0;
    for (int i = 0; i < s.n; i++)
        found += !strcmp(s.what[i], "deal.key_role_uncovered D1  1");
    assert_int_equal(found, 1);
    m.in.detail_case = SALESPULSE__V1__INTERACTION__DETAIL_STAGE_CHANGE;
    m.in.stage_change = &m.sc;
    memset(&s, 0, sizeof s);
    assert_int_equal(score_enriched_each(&m.ei, &R, note, &s), SP_OK);
    found = 0;
    for (int i = 0; i < s.n; i++)
        found += !strcmp(s.what[i], "deal.key_role_uncovered D1  0");
    assert_int_equal(found, 1);
    m.ei.deal_id = "D1";
    /* the callback's first error stops the walk */
    assert_int_equal(score_enriched_each(&m.ei, &R, refuse, NULL), SP_EDB);
    assert_int_equal(score_enriched_each(NULL, &R, note, &s), SP_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inbound_message),
        cmocka_unit_test(test_tracking_and_stage),
        cmocka_unit_test(test_each_evaluation),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
