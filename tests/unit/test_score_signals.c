/* Scenario tests of the thirteen signals, the hysteresis state machine and
 * the Signal builder (pgbouncer hba_test style: rows of facts, now, expected
 * transition and level). No Kafka, no PostgreSQL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "score/calendar.h"
#include "score/rules.h"
#include "score/signal_msg.h"
#include "score/signal_state.h"
#include "score/signals.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOUR 3600000LL
#define DAY  86400000LL

static score_rules R;
static score_calendar *cal;
static int64_t NOW; /* Wednesday 2026-03-04 10:00 Asia/Shanghai */

static int setup(void **state)
{
    (void)state;
    char err[256];
    score_rules_defaults(&R);
    if (calendar_load("deploy/tenants/default/calendar.json", &cal, err, sizeof err) != SP_OK) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    NOW = calendar_day_start_ms(cal, calendar_day_from_ymd(2026, 3, 4)) + 10 * HOUR;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    calendar_destroy(cal);
    return 0;
}

static int64_t ms_days(double d)
{
    return (int64_t)(d * (double)DAY);
}

static int has_tag(const score_eval *e, const char *tag)
{
    for (size_t i = 0; i < e->n_tags; i++)
        if (!strcmp(e->tags[i], tag)) return 1;
    return 0;
}

/* --- the table runner -------------------------------------------------------- */

/* Builds an evaluation of one signal from the scenario parameter x at now. */
typedef void (*build_fn)(double x, int64_t now, score_eval *e);

typedef struct row {
    double x;
    int fresh; /* start from a never-raised state */
    score_transition want;
    int level; /* level of the state after the row; 0 = not checked */
} row;

#define F 1 /* fresh */
#define C 0 /* continue the previous row's state */

/* Rows run one hour apart; facts are placed relative to each row's now. */
static void run_table(const char *name, build_fn build, const row *rows, size_t n)
{
    score_state st = {0};
    for (size_t i = 0; i < n; i++) {
        if (rows[i].fresh) memset(&st, 0, sizeof st);
        int64_t now = NOW + (int64_t)i * HOUR;
        score_eval e;
        score_transition tr;
        build(rows[i].x, now, &e);
        assert_int_equal(score_state_apply(&st, &e.obs, &R.rule[e.kind], now, &tr), SP_OK);
        if (tr != rows[i].want)
            fail_msg("%s row %zu (x=%g): transition %s, want %s (value %g, threshold %g)", name, i, rows[i].x,
                score_transition_name(tr), score_transition_name(rows[i].want), e.obs.value, e.obs.threshold);
        if (rows[i].level && st.level != rows[i].level)
            fail_msg("%s row %zu (x=%g): level L%d, want L%d", name, i, rows[i].x, st.level, rows[i].level);
    }
}

#define RUN(name, build, rows) run_table(name, build, rows, sizeof rows / sizeof rows[0])

/* Rows at explicit times (hours after NOW), one state throughout: for clear delays. */
typedef struct timed_row {
    double x;
    int64_t at;
    score_transition want;
} timed_row;

/* Runs rows on *st (the state after them stays there for the caller). */
static void run_timed(const char *name, build_fn build, const timed_row *rows, size_t n, score_state *st)
{
    for (size_t i = 0; i < n; i++) {
        score_eval e;
        score_transition tr;
        build(rows[i].x, NOW + rows[i].at, &e);
        assert_int_equal(score_state_apply(st, &e.obs, &R.rule[e.kind], NOW + rows[i].at, &tr), SP_OK);
        if (tr != rows[i].want) fail_msg("%s row %zu: %s", name, i, score_transition_name(tr));
    }
}

#define RUN_TIMED(name, build, rows, st) run_timed(name, build, rows, sizeof rows / sizeof rows[0], st)

/* --- customer.stale ----------------------------------------------------------------- */

static const score_touch stale_touches[] = {
    {"int:wecom:9", 0, "wecom", "下学期再说"},
    {"int:email:8", 0, "email", NULL},
    {"int:call:7", 0, "call", NULL},
};

static void build_stale(double x, int64_t now, score_eval *e)
{
    score_facts_stale f = {
        .ctx = {.subject_id = "C123",
            .subject_name = "王校长",
            .owner_rep_id = "R1",
            .team_id = "T1",
            .region_id = "G1",
            .customer_id = "C123"},
        .last_interaction_ms = now - ms_days(x),
        .customer_created_ms = now - ms_days(400),
        .touches = stale_touches,
        .n_touches = 3,
        .likely_need = "智慧教室",
    };
    assert_int_equal(score_eval_customer_stale(&f, &R, now, e), SP_OK);
}

static void test_customer_stale(void **state)
{
    (void)state;
    static const row rows[] = {
        {29, F, SCORE_TR_NONE, 0},
        {30, F, SCORE_TR_RAISED, 1},
        {31, F, SCORE_TR_RAISED, 1},
        /* clear path: back inside the band (>= 27 days) holds, below clears */
        {31, F, SCORE_TR_RAISED, 1},
        {28, C, SCORE_TR_NONE, 1},
        {26.9, C, SCORE_TR_CLEARED, 0},
        {1, C, SCORE_TR_NONE, 0},
        {30, C, SCORE_TR_RAISED, 1},
    };
    RUN("customer.stale", build_stale, rows);
    score_eval e;
    build_stale(32, NOW, &e);
    assert_string_equal(e.explanation_zh, "客户王校长 32 天无任何互动，可能需求：智慧教室");
    assert_string_equal(
        e.explanation_en, "no interaction with customer 王校长 for 32 days; likely need: 智慧教室");
    assert_int_equal(e.n_ids, 3);
    assert_string_equal(e.quotes[0], "下学期再说");
    /* a customer heard from within the day (what clears it) is not "0 days silent" */
    score_eval back;
    build_stale(0.2, NOW, &back);
    assert_string_equal(back.explanation_zh, "客户王校长 最近一天内有互动");
    assert_string_equal(back.explanation_en, "customer 王校长 had an interaction within the last day");
    assert_true(has_tag(&e, "assignee:rep") && has_tag(&e, "pack:wakeup_list"));
    /* never contacted: counts from creation */
    score_facts_stale f = {.ctx = {.subject_id = "C9"}, .customer_created_ms = NOW - ms_days(40)};
    assert_int_equal(score_eval_customer_stale(&f, &R, NOW, &e), SP_OK);
    assert_true(e.obs.met);
    f.ctx.subject_id = "";
    assert_int_equal(score_eval_customer_stale(&f, &R, NOW, &e), SP_EINVAL);
    assert_int_equal(score_eval_customer_stale(NULL, &R, NOW, &e), SP_EINVAL);
}

/* --- deal.no_progress_after_visit -------------------------------------------------- */

static void build_no_progress(double x, int64_t now, score_eval *e)
{
    score_facts_no_progress f = {
        .ctx = {.subject_id = "D1", .subject_name = "智慧校园一期", .deal_id = "D1"},
        .deal_open = 1,
        .visit = {"int:act:1", x < 0 ? 0 : now - ms_days(x), "visit", NULL},
    };
    assert_int_equal(score_eval_no_progress_after_visit(&f, &R, now, e), SP_OK);
}

static void test_no_progress_after_visit(void **state)
{
    (void)state;
    static const row rows[] = {
        {6.9, F, SCORE_TR_NONE, 0}, {7, F, SCORE_TR_RAISED, 1}, {8, F, SCORE_TR_RAISED, 1},
        {0.5, C, SCORE_TR_CLEARED, 0}, /* a new visit */
        {-1, F, SCORE_TR_NONE, 0}, /* no visit at all */
    };
    RUN("deal.no_progress_after_visit", build_no_progress, rows);
    /* a commitment after the visit, or a stage advance, blocks it */
    score_touch intents[] = {{"int:wecom:5", NOW - ms_days(2), "demo_request", "下周来演示吧"},
        {"int:wecom:4", NOW - ms_days(12), "meeting_scheduled", NULL}};
    score_facts_no_progress f = {.ctx = {.subject_id = "D1"},
        .deal_open = 1,
        .visit = {"int:act:1", NOW - ms_days(10), NULL, NULL},
        .intents = intents,
        .n_intents = 2};
    score_eval e;
    assert_int_equal(score_eval_no_progress_after_visit(&f, &R, NOW, &e), SP_OK);
    assert_false(e.obs.met || e.obs.held);
    /* what the customer committed to, named in Chinese, not as its tag */
    assert_non_null(strstr(e.explanation_zh, "（要求演示）"));
    assert_null(strstr(e.explanation_zh, "demo_request"));
    assert_non_null(strstr(e.explanation_en, "demo_request"));
    static const char *const intents_contract[]
        = {"inquiry", "demo_request", "demo_refused", "ready_to_sign", "meeting_scheduled"};
    for (size_t i = 0; i < sizeof intents_contract / sizeof intents_contract[0]; i++)
        if (score_intent_name_zh(intents_contract[i]) == NULL)
            fail_msg("%s: no Chinese name", intents_contract[i]);
    assert_null(score_intent_name_zh("tenant_own_intent"));
    f.n_intents = 0;
    f.intents = intents + 1; /* the meeting was before the visit: does not count */
    f.n_intents = 1;
    assert_int_equal(score_eval_no_progress_after_visit(&f, &R, NOW, &e), SP_OK);
    assert_true(e.obs.met);
    f.stage_advanced = 1;
    assert_int_equal(score_eval_no_progress_after_visit(&f, &R, NOW, &e), SP_OK);
    assert_false(e.obs.met);
}

/* --- deal.key_role_uncovered ---------------------------------------------------------- */

static int role_stage = 4;

static void build_key_role(double x, int64_t now, score_eval *e)
{
    score_role_seen roles[] = {
        {1, now - ms_days(x), "int:mail:p", "李采购"},
        {2, now - ms_days(1), "int:mail:t", "张工"},
        {3, now - ms_days(2), "int:mail:d", "赵局"},
    };
    score_facts_key_role f = {.ctx = {.subject_id = "D7", .subject_name = "区教育局平台"},
        .stage = role_stage,
        .deal_open = 1,
        .deal_created_ms = now - ms_days(90),
        .roles = roles,
        .n_roles = 3};
    assert_int_equal(score_eval_key_role_uncovered(&f, &R, now, e), SP_OK);
}

static void test_key_role_uncovered(void **state)
{
    (void)state;
    static const row rows[] = {
        {29, F, SCORE_TR_NONE, 0},
        {31, C, SCORE_TR_RAISED, 2}, /* procurement last seen 29 then 31 days ago */
        {30, F, SCORE_TR_RAISED, 2}, {28, C, SCORE_TR_NONE, 2}, /* 28 >= 27: held */
        {2, C, SCORE_TR_CLEARED, 0}, /* procurement back in a meeting */
    };
    RUN("deal.key_role_uncovered", build_key_role, rows);
    score_eval e;
    build_key_role(31, NOW, &e);
    assert_true(has_tag(&e, "role:procurement") && has_tag(&e, "assignee:mentor"));
    assert_non_null(strstr(e.explanation_zh, "采购"));
    role_stage = 3; /* demo: before proposal, not applicable */
    build_key_role(60, NOW, &e);
    role_stage = 4;
    assert_false(e.obs.met);
    /* a role never seen counts from the deal's creation */
    score_role_seen two[] = {{1, NOW - DAY, "a", NULL}, {2, NOW - DAY, "b", NULL}};
    score_facts_key_role f = {.ctx = {.subject_id = "D8"},
        .stage = 5,
        .deal_open = 1,
        .deal_created_ms = NOW - ms_days(45),
        .roles = two,
        .n_roles = 2};
    assert_int_equal(score_eval_key_role_uncovered(&f, &R, NOW, &e), SP_OK);
    assert_true(e.obs.met && has_tag(&e, "role:decision_maker"));
}

/* --- deal.competitor_surge ---------------------------------------------------------------- */

static double surge_prev = 1;

static void build_surge_visits(double x, int64_t now, score_eval *e)
{
    score_facts_surge f = {.ctx = {.subject_id = "D2"}, .visits_7d = x, .visits_prev_7d = surge_prev};
    assert_int_equal(score_eval_competitor_surge(&f, &R, now, e), SP_OK);
}

static void build_surge_mentions(double x, int64_t now, score_eval *e)
{
    static char ids[8][32];
    score_touch m[8];
    size_t n = 0;
    m[n++] = (score_touch) {"int:old", now - ms_days(15), "希沃", "old"}; /* outside 14 days */
    for (int i = 0; i < (int)x && n < 8; i++, n++) {
        snprintf(ids[n], sizeof ids[n], "int:m%d", i);
        m[n] = (score_touch) {ids[n], now - ms_days(1 + i), i % 2 ? "鸿合" : "希沃", "他们报价更低"};
    }
    score_facts_surge f = {.ctx = {.subject_id = "D2"}, .mentions = m, .n_mentions = n};
    assert_int_equal(score_eval_competitor_surge(&f, &R, now, e), SP_OK);
}

static void test_competitor_surge(void **state)
{
    (void)state;
    static const row visits[] = {
        {4, F, SCORE_TR_NONE, 0}, {5, F, SCORE_TR_RAISED, 3}, {6, F, SCORE_TR_RAISED, 3},
        {4, C, SCORE_TR_NONE, 3}, /* 4 >= 5 x 0.8: held */
        {3, C, SCORE_TR_NONE, 3}, /* out of the band, 72 h clear delay pending */
    };
    RUN("competitor_surge visits (prev 1)", build_surge_visits, visits);
    surge_prev = 2; /* 5 < 3 x 2 */
    static const row ratio[] = {{5, F, SCORE_TR_NONE, 0}, {6, F, SCORE_TR_RAISED, 3}};
    RUN("competitor_surge visits (prev 2)", build_surge_visits, ratio);
    surge_prev = 1;
    static const row mentions[] = {
        {1, F, SCORE_TR_NONE, 0},
        {2, F, SCORE_TR_RAISED, 3},
        {3, C, SCORE_TR_UPDATED, 3}, /* a further mention is new evidence */
        {3, C, SCORE_TR_NONE, 3},
    };
    RUN("competitor_surge mentions", build_surge_mentions, mentions);
    /* the clear path: out of the band for the 72 h clear delay */
    static const timed_row later[] = {
        {5, 0, SCORE_TR_RAISED},
        {3, 1 * HOUR, SCORE_TR_NONE}, /* out of the band: pending */
        {3, 72 * HOUR, SCORE_TR_NONE}, /* 71 h out */
        {3, 73 * HOUR, SCORE_TR_CLEARED},
    };
    score_state st = {0};
    RUN_TIMED("competitor_surge clear", build_surge_visits, later, &st);
    score_eval e;
    build_surge_mentions(2, NOW, &e);
    assert_int_equal(e.n_ids, 2); /* the 15-day-old mention is not evidence */
    assert_true(has_tag(&e, "competitor:希沃") && has_tag(&e, "competitor:鸿合")
        && has_tag(&e, "assignee:competition_team"));
}

/* --- deal.demo_refused_twice ------------------------------------------------------------ */

static void build_demo(double x, int64_t now, score_eval *e)
{
    score_touch t[4] = {{"int:r0", now - ms_days(31), "demo_refused", NULL}};
    size_t n = 1;
    for (int i = 0; i < (int)x; i++)
        t[n++] = (score_touch) {i ? "int:r2" : "int:r1", now - ms_days(3 + i), NULL, "先不用演示"};
    score_facts_demo_refused f
        = {.ctx = {.subject_id = "D3"}, .refusals = t, .n_refusals = n, .technical_doubt = 1};
    assert_int_equal(score_eval_demo_refused_twice(&f, &R, now, e), SP_OK);
}

static void test_demo_refused_twice(void **state)
{
    (void)state;
    static const row rows[] = {
        {1, F, SCORE_TR_NONE, 0}, {2, F, SCORE_TR_RAISED, 2}, {3, F, SCORE_TR_RAISED, 2}, /* above */
        {1, C, SCORE_TR_CLEARED, 0}, /* refusals aged out of the window */
    };
    RUN("deal.demo_refused_twice", build_demo, rows);
    score_eval e;
    build_demo(2, NOW, &e);
    assert_true(has_tag(&e, "pack:technical_doubt") && has_tag(&e, "assignee:mentor"));
}

/* --- deal.stage_stalled ------------------------------------------------------------------ */

static int stall_stage = 4;

static void build_stalled(double x, int64_t now, score_eval *e)
{
    score_facts_stalled f = {.ctx = {.subject_id = "D4", .subject_name = "市一中"},
        .stage = stall_stage,
        .deal_open = 1,
        .stage_entered_ms = now - ms_days(x)};
    assert_int_equal(score_eval_stage_stalled(&f, &R, now, e), SP_OK);
}

static void test_stage_stalled(void **state)
{
    (void)state;
    static const row proposal[] = {
        {21, F, SCORE_TR_NONE, 0}, /* at the norm: green */
        {31.5, F, SCORE_TR_NONE, 0}, /* at 1.5 x: yellow, no signal yet */
        {31.6, F, SCORE_TR_RAISED, 2}, {29, C, SCORE_TR_NONE, 2}, /* > 28.35: held */
        {0, C, SCORE_TR_CLEARED, 0}, /* stage changed */
    };
    RUN("deal.stage_stalled proposal", build_stalled, proposal);
    stall_stage = 5;
    static const row negotiation[] = {{45, F, SCORE_TR_NONE, 0}, {45.1, F, SCORE_TR_RAISED, 2}};
    RUN("deal.stage_stalled negotiation", build_stalled, negotiation);
    stall_stage = 1;
    static const row lead[] = {{21, F, SCORE_TR_NONE, 0}, {21.1, F, SCORE_TR_RAISED, 2}};
    RUN("deal.stage_stalled lead", build_stalled, lead);
    stall_stage = 4;
    score_eval e;
    build_stalled(25, NOW, &e);
    assert_true(has_tag(&e, "colour:yellow") && !e.obs.met);
    build_stalled(33, NOW, &e);
    assert_true(has_tag(&e, "colour:red") && e.obs.met);
    assert_string_equal(
        e.explanation_en, "deal 市一中 has been in proposal for 33 days (norm 21 days, 1.6x)");
}

/* --- deal.risk_raised ------------------------------------------------------------------ */

/* The Chinese explanation names every risk tag of the extraction contract
 * in Chinese, raised and resolved (competitor_pressure, compliance and
 * delivery once reached supervisors as the bare English tag); a tenant's
 * own tag is shown as it is. */
static void test_risk_names_zh(void **state)
{
    (void)state;
    static const char *const contract[] = {"price", "budget_freeze", "stall", "after_sales",
        "technical_doubt", "compliance", "decision_change", "delivery", "competitor_pressure"};
    for (size_t i = 0; i < sizeof contract / sizeof contract[0]; i++) {
        const char *zh = score_risk_name_zh(contract[i]);
        if (zh == NULL) fail_msg("%s: no Chinese name", contract[i]);
        for (const char *c = zh; *c; c++)
            if ((*c >= 'a' && *c <= 'z') || *c == '_')
                fail_msg("%s: name \"%s\" is not Chinese", contract[i], zh);
        for (int open = 1; open >= 0; open--) {
            score_facts_risk f = {.ctx = {.subject_id = "D5", .deal_id = "D5"},
                .tag = contract[i],
                .open = open,
                .raised = {"int:x", NOW - DAY, contract[i], ""}};
            score_eval e;
            assert_int_equal(score_eval_risk_raised(&f, &R, NOW, &e), SP_OK);
            if (strstr(e.explanation_zh, zh) == NULL || strstr(e.explanation_zh, contract[i]) != NULL)
                fail_msg("%s (open %d): %s", contract[i], open, e.explanation_zh);
            assert_non_null(strstr(e.explanation_en, contract[i]));
        }
    }
    assert_null(score_risk_name_zh("tenant_own_tag"));
    assert_null(score_risk_name_zh(NULL));
    score_facts_risk own = {.ctx = {.subject_id = "D5", .deal_id = "D5"},
        .tag = "tenant_own_tag",
        .open = 1,
        .raised = {"int:x", NOW - DAY, "tenant_own_tag", ""}};
    score_eval e;
    assert_int_equal(score_eval_risk_raised(&own, &R, NOW, &e), SP_OK);
    assert_non_null(strstr(e.explanation_zh, "tenant_own_tag"));
}

static void test_risk_raised(void **state)
{
    (void)state;
    static const struct {
        const char *tag;
        int level;
        const char *assignee;
    } rows[] = {
        {"after_sales", 1, "assignee:after_sales_manager"},
        {"budget_freeze", 2, "assignee:supervisor"},
        {"decision_change", 2, "assignee:supervisor"},
        {"price", 1, "assignee:rep"},
        {"stall", 1, "assignee:rep"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        score_facts_risk f = {.ctx = {.subject_id = "D5", .deal_id = "D5"},
            .tag = rows[i].tag,
            .open = 1,
            .raised = {"int:x", NOW - DAY, rows[i].tag, "预算冻结了"}};
        score_eval e;
        score_state st = {0};
        score_transition tr;
        assert_int_equal(score_eval_risk_raised(&f, &R, NOW, &e), SP_OK);
        assert_int_equal(score_state_apply(&st, &e.obs, &R.rule[e.kind], NOW, &tr), SP_OK);
        if (tr != SCORE_TR_RAISED || st.level != rows[i].level || !has_tag(&e, rows[i].assignee))
            fail_msg("%s: transition %s level L%d", rows[i].tag, score_transition_name(tr), st.level);
        char tag[64];
        snprintf(tag, sizeof tag, "risk:%s", rows[i].tag);
        assert_true(has_tag(&e, tag));
        assert_string_equal(e.variant, rows[i].tag);
        /* still open: nothing new; resolved: cleared */
        assert_int_equal(score_state_apply(&st, &e.obs, &R.rule[e.kind], NOW + HOUR, &tr), SP_OK);
        assert_int_equal(tr, SCORE_TR_NONE);
        f.open = 0;
        assert_int_equal(score_eval_risk_raised(&f, &R, NOW, &e), SP_OK);
        assert_int_equal(score_state_apply(&st, &e.obs, &R.rule[e.kind], NOW + 2 * HOUR, &tr), SP_OK);
        assert_int_equal(tr, SCORE_TR_CLEARED);
    }
    /* each tag its own signal id */
    char a[256], b[256];
    assert_int_equal(score_signal_id(SCORE_RISK_RAISED, "D5", "price", 1, a, sizeof a), SP_OK);
    assert_int_equal(score_signal_id(SCORE_RISK_RAISED, "D5", "after_sales", 1, b, sizeof b), SP_OK);
    assert_string_equal(a, "sig:deal.risk_raised:deal:D5#price:1");
    assert_string_not_equal(a, b);
    score_facts_risk bad = {.ctx = {.subject_id = "D5"}, .tag = "", .open = 1};
    score_eval e;
    assert_int_equal(score_eval_risk_raised(&bad, &R, NOW, &e), SP_EINVAL);
}

/* --- deal.unanswered_inbound ------------------------------------------------------------ */

static void build_unanswered(double x, int64_t now, score_eval *e)
{
    score_facts_unanswered f = {.ctx = {.subject_id = "D6"},
        .oldest = {"int:in:1", x < 0 ? 0 : now - (int64_t)(x * HOUR), NULL, "报价什么时候给？"},
        .n_waiting = x < 0 ? 0 : 2};
    assert_int_equal(score_eval_unanswered_inbound(&f, &R, now, e), SP_OK);
}

static void test_unanswered_inbound(void **state)
{
    (void)state;
    static const row rows[] = {
        {23, F, SCORE_TR_NONE, 0},
        {24, F, SCORE_TR_RAISED, 1},
        {47, C, SCORE_TR_NONE, 1},
        {48, C, SCORE_TR_UPDATED, 2}, /* escalates to L2: an update, not a new signal */
        {50, C, SCORE_TR_NONE, 2},
        {-1, C, SCORE_TR_CLEARED, 0}, /* answered */
        {49, F, SCORE_TR_RAISED, 2},
    };
    RUN("deal.unanswered_inbound", build_unanswered, rows);
    score_eval e;
    build_unanswered(24, NOW, &e);
    assert_true(has_tag(&e, "assignee:rep") && !has_tag(&e, "assignee:supervisor"));
    build_unanswered(48, NOW, &e);
    assert_true(has_tag(&e, "assignee:supervisor") && e.obs.level == 2);
}

/* --- customer.interest_warming --------------------------------------------------------------- */

static void build_warming(double x, int64_t now, score_eval *e)
{
    static const char *ids[] = {"v1", "v2", "v3", "v4", "v5", "v6"};
    score_touch t[8] = {{"v0", now - ms_days(8), "智慧黑板", NULL}};
    size_t n = 1;
    for (int i = 0; i < (int)x; i++)
        t[n++] = (score_touch) {ids[i], now - ms_days(i + 0.5), "智慧黑板", NULL};
    score_facts_warming f
        = {.ctx = {.subject_id = "C5", .subject_name = "实验小学"}, .visits = t, .n_visits = n};
    assert_int_equal(score_eval_interest_warming(&f, &R, now, e), SP_OK);
}

static void test_interest_warming(void **state)
{
    (void)state;
    static const row rows[] = {
        {3, F, SCORE_TR_NONE, 0}, {4, F, SCORE_TR_RAISED, 1},
        {5, C, SCORE_TR_NONE, 1}, /* one more visit of the same product: not news */
    };
    RUN("customer.interest_warming", build_warming, rows);
}

/* --- rep.status_not_updated ------------------------------------------------------------------ */

static void build_status(double x, int64_t now, score_eval *e)
{
    score_deal_update d[] = {{"D1", "一中", now - DAY}, {"D2", "二中", now - ms_days(x)}};
    score_facts_status f = {.ctx = {.subject_id = "R1", .subject_name = "小李"}, .deals = d, .n_deals = 2};
    assert_int_equal(score_eval_status_not_updated(&f, &R, now, e), SP_OK);
}

static void test_status_not_updated(void **state)
{
    (void)state;
    static const row rows[] = {
        {4.9, F, SCORE_TR_NONE, 0},
        {5, F, SCORE_TR_RAISED, 2},
        {6, C, SCORE_TR_NONE, 2},
        {0, C, SCORE_TR_CLEARED, 0},
    };
    RUN("rep.status_not_updated", build_status, rows);
    score_eval e;
    build_status(6, NOW, &e);
    assert_true(has_tag(&e, "deal:D2") && !has_tag(&e, "deal:D1") && has_tag(&e, "assignee:supervisor"));
    assert_string_equal(e.explanation_zh, "销售小李 有 1 个进行中商机超过 5 天未更新状态（最长 6 天）：二中");
    /* every deal updated (cleared, or held in the band): not "0 deals" */
    build_status(4.5, NOW, &e);
    assert_string_equal(e.explanation_zh, "销售小李 的进行中商机均在 5 天内更新过状态（最久 4 天）");
    assert_string_equal(
        e.explanation_en, "rep 小李 has updated every open deal within 5 days (longest 4 days)");
}

/* --- rep.key_action_missing (working days) ---------------------------------------------------------- */

static void test_key_action_missing(void **state)
{
    (void)state;
    int32_t mon = calendar_day_from_ymd(2026, 3, 2);
    score_day_actions days[] = {{mon, 2, 0}, {mon + 1, 3, 0}, {mon + 2, 1, 0}};
    score_facts_key_action f = {.ctx = {.subject_id = "R1"}, .cal = cal, .days = days, .n_days = 3};
    int64_t thu = calendar_day_start_ms(cal, mon + 3) + 10 * HOUR;
    score_eval e;
    /* Thursday: Mon, Tue, Wed missed = 3 */
    assert_int_equal(score_eval_key_action_missing(&f, &R, thu, &e), SP_OK);
    assert_true(e.obs.met && e.obs.value == 3);
    /* Wednesday: only Mon, Tue are over */
    assert_int_equal(score_eval_key_action_missing(&f, &R, thu - DAY, &e), SP_OK);
    assert_false(e.obs.met);
    /* a completed action on Tuesday breaks the run */
    days[1].completed = 1;
    assert_int_equal(score_eval_key_action_missing(&f, &R, thu, &e), SP_OK);
    assert_true(!e.obs.met && e.obs.value == 1);
    /* the state: below (Wednesday, 2 missed) nothing, at (Thursday, 3) raised, above
     * (Friday, 4) still raised (a longer run is no new evidence), an action completed on
     * Thursday ends the run: cleared; above from a fresh state (Friday) raised */
    days[1].completed = 0;
    score_day_actions more[] = {{mon, 2, 0}, {mon + 1, 3, 0}, {mon + 2, 1, 0}, {mon + 3, 1, 0}};
    f.days = more;
    f.n_days = 4;
    static const struct {
        int64_t at;
        int completed_thu;
        score_transition want;
    } ka[] = {
        {-DAY, 0, SCORE_TR_NONE}, {0, 0, SCORE_TR_RAISED}, {DAY, 0, SCORE_TR_NONE},
        {DAY + HOUR, 1, SCORE_TR_CLEARED}, {DAY, 0, SCORE_TR_RAISED}, /* fresh (below) */
    };
    score_state st = {0};
    for (size_t i = 0; i < sizeof ka / sizeof ka[0]; i++) {
        score_transition tr;
        more[3].completed = ka[i].completed_thu;
        if (i == 4) memset(&st, 0, sizeof st);
        assert_int_equal(score_eval_key_action_missing(&f, &R, thu + ka[i].at, &e), SP_OK);
        assert_int_equal(score_state_apply(&st, &e.obs, &R.rule[e.kind], thu + ka[i].at, &tr), SP_OK);
        if (tr != ka[i].want)
            fail_msg("key_action_missing row %zu: %s (value %g)", i, score_transition_name(tr), e.obs.value);
        /* the explanation a task carries: the run when raised; when cleared
         * (no run left) what ended it, not "0 consecutive working days" */
        if (tr == SCORE_TR_RAISED && i == 1) assert_non_null(strstr(e.explanation_zh, "连续 3 个工作日"));
        if (tr == SCORE_TR_CLEARED) {
            assert_null(strstr(e.explanation_zh, "连续 0"));
            assert_non_null(strstr(e.explanation_zh, "没有漏掉计划的关键动作"));
            assert_non_null(strstr(e.explanation_en, "missed no planned key action"));
        }
    }
    f.days = days;
    f.n_days = 3;
    /* Around 春节 2026: Fri 02-13, Sat 02-14 (调休 working day), holidays 02-15..23, Tue 02-24. */
    int32_t f13 = calendar_day_from_ymd(2026, 2, 13);
    score_day_actions cny[] = {{f13, 1, 0}, {f13 + 1, 1, 0}, {f13 + 11, 2, 0}};
    f.days = cny;
    int64_t wed25 = calendar_day_start_ms(cal, f13 + 12) + 9 * HOUR;
    assert_int_equal(score_eval_key_action_missing(&f, &R, wed25, &e), SP_OK);
    assert_true(e.obs.met && e.obs.value == 3);
    assert_int_equal(e.numbers[1].value, 4); /* planned */
    /* the same dates with a plain weekend calendar would not chain the Saturday */
    score_calendar *plain = NULL;
    char err[128];
    assert_int_equal(calendar_load_string("{}", "plain", &plain, err, sizeof err), SP_OK);
    f.cal = plain;
    assert_int_equal(score_eval_key_action_missing(&f, &R, wed25, &e), SP_OK);
    assert_false(e.obs.met); /* Mon 02-23 is a working day without a plan there */
    calendar_destroy(plain);
    f.cal = NULL;
    assert_int_equal(score_eval_key_action_missing(&f, &R, wed25, &e), SP_EINVAL);
}

/* --- region.first_visit_timeout (ISO weeks) --------------------------------------------------------- */

static void test_first_visit_timeout(void **state)
{
    (void)state;
    /* NOW is in 2026-W10: the complete weeks are W08 and W09. */
    static const struct {
        int w8_leads, w8_late, w9_leads, w9_late;
        int met;
    } rows[] = {
        {10, 5, 10, 3, 0}, /* > 40% in one week only */
        {10, 3, 10, 5, 0}, /* the other week only */
        {10, 5, 10, 5, 1}, /* two consecutive weeks */
        {10, 5, 10, 4, 0}, /* exactly 40% is not above */
        {10, 5, 0, 0, 0}, /* no leads in W09 */
        {20, 9, 12, 6, 1},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        score_week_leads w[] = {{202607, 10, 9}, {202608, rows[i].w8_leads, rows[i].w8_late},
            {202609, rows[i].w9_leads, rows[i].w9_late}, {202610, 10, 10}};
        score_facts_first_visit f
            = {.ctx = {.subject_id = "G1", .subject_name = "华东"}, .cal = cal, .weeks = w, .n_weeks = 4};
        score_eval e;
        assert_int_equal(score_eval_first_visit_timeout(&f, &R, NOW, &e), SP_OK);
        if (e.obs.met != rows[i].met) fail_msg("row %zu: met %d, want %d", i, e.obs.met, rows[i].met);
    }
    /* the state: one week only -> nothing; two weeks -> raised; next week in the band -> held */
    score_state st = {0};
    score_transition tr;
    score_week_leads w1[] = {{202608, 10, 3}, {202609, 10, 5}};
    score_facts_first_visit f = {.ctx = {.subject_id = "G1"}, .cal = cal, .weeks = w1, .n_weeks = 2};
    score_eval e;
    assert_int_equal(score_eval_first_visit_timeout(&f, &R, NOW, &e), SP_OK);
    assert_int_equal(score_state_apply(&st, &e.obs, &R.rule[e.kind], NOW, &tr), SP_OK);
    assert_int_equal(tr, SCORE_TR_NONE);
    score_week_leads w2[] = {{202609, 10, 5}, {202610, 10, 6}};
    f.weeks = w2;
    int64_t next_week = NOW + 7 * DAY;
    assert_int_equal(score_eval_first_visit_timeout(&f, &R, next_week, &e), SP_OK);
    assert_int_equal(score_state_apply(&st, &e.obs, &R.rule[e.kind], next_week, &tr), SP_OK);
    assert_int_equal(tr, SCORE_TR_RAISED);
    assert_int_equal(st.level, 2);
    assert_true(has_tag(&e, "week:2026-W09") && has_tag(&e, "week:2026-W10")
        && has_tag(&e, "assignee:region_supervisors"));
    assert_non_null(strstr(e.explanation_en, "2026-W10 60% (6/10)"));
    /* the week after: 40% is inside the band (> 36%): held; 30% clears */
    score_week_leads w3[] = {{202610, 10, 6}, {202611, 10, 4}};
    f.weeks = w3;
    assert_int_equal(score_eval_first_visit_timeout(&f, &R, next_week + 7 * DAY, &e), SP_OK);
    assert_int_equal(score_state_apply(&st, &e.obs, &R.rule[e.kind], next_week + 7 * DAY, &tr), SP_OK);
    assert_int_equal(tr, SCORE_TR_NONE);
    assert_true(st.active);
    w3[1].timed_out = 3;
    assert_int_equal(score_eval_first_visit_timeout(&f, &R, next_week + 7 * DAY + HOUR, &e), SP_OK);
    assert_int_equal(score_state_apply(&st, &e.obs, &R.rule[e.kind], next_week + 7 * DAY + HOUR, &tr), SP_OK);
    assert_int_equal(tr, SCORE_TR_CLEARED);
    /* 48 h timeout of one lead */
    assert_false(score_first_visit_timed_out(&R, 0, 48 * HOUR, 100 * HOUR));
    assert_true(score_first_visit_timed_out(&R, 0, 48 * HOUR + 1, 100 * HOUR));
    assert_false(score_first_visit_timed_out(&R, 0, 0, 47 * HOUR));
    assert_true(score_first_visit_timed_out(&R, 0, 0, 49 * HOUR));
}

/* --- team.funnel_collapse --------------------------------------------------------------------------- */

static void test_funnel_collapse(void **state)
{
    (void)state;
    static const struct {
        int entered, converted;
        score_transition want;
    } rows[] = {
        {25, 3, SCORE_TR_RAISED}, /* 12% vs 38%: 0.32 of baseline */
        {19, 2, SCORE_TR_NONE}, /* fewer than 20 deals */
        {20, 2, SCORE_TR_RAISED}, /* 10%, exactly 20 deals */
        {50, 10, SCORE_TR_NONE}, /* 20% = 0.526 of baseline */
        {100, 19, SCORE_TR_NONE}, /* 19% = exactly 0.5: not below */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        score_funnel_step s[] = {
            {3, 5, rows[i].entered, rows[i].converted, 100, 38}, /* demo -> negotiation */
            {1, 2, 40, 20, 300, 150}, /* lead -> qualified: steady */
        };
        score_facts_funnel f
            = {.ctx = {.subject_id = "T1", .subject_name = "华东一组"}, .steps = s, .n_steps = 2};
        score_eval e;
        score_state st = {0};
        score_transition tr;
        assert_int_equal(score_eval_funnel_collapse(&f, &R, NOW, &e), SP_OK);
        assert_int_equal(score_state_apply(&st, &e.obs, &R.rule[e.kind], NOW, &tr), SP_OK);
        if (tr != rows[i].want) fail_msg("row %zu: %s (ratio %g)", i, score_transition_name(tr), e.obs.value);
        if (tr == SCORE_TR_RAISED) {
            assert_int_equal(st.level, 3);
            assert_true(
                has_tag(&e, "transition:demo->negotiation") && !has_tag(&e, "transition:lead->qualified"));
            assert_true(has_tag(&e, "assignee:director") && has_tag(&e, "assignee:supervisor")
                && has_tag(&e, "pack:three_layer_review"));
        }
    }
    /* clear path of a below-threshold signal: band up to 0.6 of baseline, then a 7-day delay */
    score_state st = {0};
    score_transition tr;
    score_eval e;
    int conv[] = {3, 5, 12, 12, 12}; /* 5 of 25 = 0.53 of baseline: in the band */
    int64_t at[] = {0, DAY, 2 * DAY, 8 * DAY, 9 * DAY};
    score_transition want[]
        = {SCORE_TR_RAISED, SCORE_TR_NONE, SCORE_TR_NONE, SCORE_TR_NONE, SCORE_TR_CLEARED};
    for (int i = 0; i < 5; i++) {
        score_funnel_step s[] = {{3, 5, 25, conv[i], 100, 38}};
        score_facts_funnel f = {.ctx = {.subject_id = "T1"}, .steps = s, .n_steps = 1};
        assert_int_equal(score_eval_funnel_collapse(&f, &R, NOW + at[i], &e), SP_OK);
        assert_int_equal(score_state_apply(&st, &e.obs, &R.rule[e.kind], NOW + at[i], &tr), SP_OK);
        if (tr != want[i]) fail_msg("clear path step %d: %s", i, score_transition_name(tr));
    }
}

/* --- hysteresis ---------------------------------------------------------------------------------- */

static void test_hysteresis_no_flap(void **state)
{
    (void)state;
    static const double days[] = {29.5, 30.2, 29.6, 30.4, 29.1, 30.9, 28.0, 30.0, 27.5};
    score_state st = {0};
    int raised = 0, cleared = 0, updated = 0;
    for (size_t i = 0; i < sizeof days / sizeof days[0]; i++) {
        score_eval e;
        score_transition tr;
        int64_t now = NOW + (int64_t)i * HOUR;
        build_stale(days[i], now, &e);
        assert_int_equal(score_state_apply(&st, &e.obs, &R.rule[e.kind], now, &tr), SP_OK);
        raised += tr == SCORE_TR_RAISED;
        cleared += tr == SCORE_TR_CLEARED;
        updated += tr == SCORE_TR_UPDATED;
    }
    assert_int_equal(raised, 1);
    assert_int_equal(cleared, 0);
    assert_int_equal(updated, 0);
    assert_int_equal(st.episode, 1);
    /* the same sequence without a band flaps: that is what the margin prevents */
    score_rules nomargin = R;
    nomargin.rule[SCORE_CUSTOMER_STALE].margin = 0;
    memset(&st, 0, sizeof st);
    raised = 0;
    for (size_t i = 0; i < sizeof days / sizeof days[0]; i++) {
        score_eval e;
        score_transition tr;
        int64_t now = NOW + (int64_t)i * HOUR;
        score_facts_stale f = {.ctx = {.subject_id = "C1"}, .last_interaction_ms = now - ms_days(days[i])};
        assert_int_equal(score_eval_customer_stale(&f, &nomargin, now, &e), SP_OK);
        assert_int_equal(score_state_apply(&st, &e.obs, &nomargin.rule[e.kind], now, &tr), SP_OK);
        raised += tr == SCORE_TR_RAISED;
    }
    assert_int_equal(raised, 4);
}

static void test_clear_delay(void **state)
{
    (void)state;
    /* customer.interest_warming: margin 0.2 (holds at > 2.4 visits), clear delay 48 h */
    static const timed_row rows[] = {
        {4, 0, SCORE_TR_RAISED},
        {2, 1 * HOUR, SCORE_TR_NONE}, /* out of band: pending */
        {4, 30 * HOUR, SCORE_TR_NONE}, /* back: pending reset, no second raise */
        {2, 31 * HOUR, SCORE_TR_NONE},
        {2, 78 * HOUR, SCORE_TR_NONE}, /* 47 h out */
        {2, 79 * HOUR, SCORE_TR_CLEARED},
        {4, 80 * HOUR, SCORE_TR_RAISED},
    };
    score_state st = {0};
    RUN_TIMED("interest_warming clear delay", build_warming, rows, &st);
    assert_int_equal(st.episode, 2);
}

static void test_disabled_rule_clears(void **state)
{
    (void)state;
    score_rules r2 = R;
    score_state st = {0};
    score_eval e;
    score_transition tr;
    build_stale(40, NOW, &e);
    assert_int_equal(score_state_apply(&st, &e.obs, &r2.rule[e.kind], NOW, &tr), SP_OK);
    assert_int_equal(tr, SCORE_TR_RAISED);
    r2.rule[SCORE_CUSTOMER_STALE].enabled = 0;
    assert_int_equal(score_state_apply(&st, &e.obs, &r2.rule[e.kind], NOW + HOUR, &tr), SP_OK);
    assert_int_equal(tr, SCORE_TR_CLEARED);
    assert_int_equal(score_state_apply(&st, &e.obs, &r2.rule[e.kind], NOW + 2 * HOUR, &tr), SP_OK);
    assert_int_equal(tr, SCORE_TR_NONE);
    e.obs.level = 7;
    r2.rule[SCORE_CUSTOMER_STALE].enabled = 1;
    score_state before = st;
    assert_int_equal(score_state_apply(&st, &e.obs, &r2.rule[e.kind], NOW, &tr), SP_EINVAL);
    assert_int_equal(memcmp(&st, &before, sizeof st), 0);
}

/* --- the Signal message ---------------------------------------------------------------------------- */

static void test_signal_message(void **state)
{
    (void)state;
    score_state st = {0};
    score_eval e;
    score_transition tr;
    Salespulse__V1__Signal *sig = NULL;
    build_stale(32, NOW, &e);
    assert_int_equal(score_signal_step(&st, &e, &R, NOW, "t1", &tr, &sig), SP_OK);
    assert_int_equal(tr, SCORE_TR_RAISED);
    assert_non_null(sig);
    assert_string_equal(sig->signal_id, "sig:customer.stale:customer:C123:1");
    assert_string_equal(sig->meta->event_id, "sig:customer.stale:customer:C123:1:raised:1");
    assert_string_equal(sig->meta->producer, "sp-score");
    assert_string_equal(sig->meta->tenant_id, "t1");
    assert_int_equal(sig->meta->occurred_at_ms, NOW);
    assert_int_equal(sig->meta->schema_version, 1);
    assert_string_equal(sig->kind, "customer.stale");
    assert_int_equal(sig->transition, SALESPULSE__V1__TRANSITION__TRANSITION_RAISED);
    assert_int_equal(sig->level, SALESPULSE__V1__LEVEL__LEVEL_L1);
    assert_int_equal(sig->subject->type, SALESPULSE__V1__SUBJECT_TYPE__SUBJECT_TYPE_CUSTOMER);
    assert_string_equal(sig->subject->id, "C123");
    assert_string_equal(sig->owner_rep_id, "R1");
    assert_string_equal(sig->team_id, "T1");
    assert_string_equal(sig->region_id, "G1");
    assert_string_equal(sig->customer_id, "C123");
    assert_int_equal(sig->episode, 1);
    assert_string_equal(sig->explanation_zh, "客户王校长 32 天无任何互动，可能需求：智慧教室");
    assert_int_equal(sig->evidence->n_interaction_ids, 3);
    assert_string_equal(sig->evidence->interaction_ids[0], "int:wecom:9");
    assert_string_equal(sig->evidence->numbers[0]->name, "days_silent");
    assert_true(sig->evidence->numbers[0]->value > 31.99 && sig->evidence->numbers[0]->value < 32.01);
    assert_string_equal(sig->evidence->quotes[0], "下学期再说");
    /* round trip through the wire format */
    size_t len = salespulse__v1__signal__get_packed_size(sig);
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    salespulse__v1__signal__pack(sig, buf);
    Salespulse__V1__Signal *back = salespulse__v1__signal__unpack(NULL, len, buf);
    assert_non_null(back);
    assert_string_equal(back->signal_id, sig->signal_id);
    assert_int_equal(back->n_tags, sig->n_tags);
    assert_string_equal(back->tags[0], "assignee:rep");
    salespulse__v1__signal__free_unpacked(back, NULL);
    free(buf);
    score_signal_free(sig);

    /* nothing new: no message */
    build_stale(33, NOW + DAY, &e);
    assert_int_equal(score_signal_step(&st, &e, &R, NOW + DAY, "t1", &tr, &sig), SP_OK);
    assert_int_equal(tr, SCORE_TR_NONE);
    assert_null(sig);
    /* contact: cleared, revision 2, level of the episode */
    build_stale(0, NOW + 2 * DAY, &e);
    assert_int_equal(score_signal_step(&st, &e, &R, NOW + 2 * DAY, NULL, &tr, &sig), SP_OK);
    assert_int_equal(tr, SCORE_TR_CLEARED);
    assert_string_equal(sig->meta->event_id, "sig:customer.stale:customer:C123:1:cleared:2");
    assert_int_equal(sig->level, SALESPULSE__V1__LEVEL__LEVEL_L1);
    assert_non_null(strstr(sig->explanation_en, "cleared: "));
    score_signal_free(sig);
    score_signal_free(NULL);
    /* bad arguments */
    assert_int_equal(score_signal_build(&e, &st, SCORE_TR_NONE, NOW, NULL, NULL, &sig), SP_EINVAL);
    char small[8];
    assert_int_equal(score_signal_id(SCORE_CUSTOMER_STALE, "C123", NULL, 1, small, sizeof small), SP_ETOOBIG);
    assert_int_equal(score_signal_id(SCORE_CUSTOMER_STALE, "", NULL, 1, small, sizeof small), SP_EINVAL);
}

/* A scripted quarter of several signals -> one byte stream of packed Signals. */
static size_t run_script(uint8_t **out, int redeliver)
{
    static const struct {
        build_fn build;
        double x;
        int64_t at;
    } script[] = {
        {build_stale, 29, 0},
        {build_stale, 31, DAY},
        {build_unanswered, 30, DAY},
        {build_unanswered, 49, 2 * DAY},
        {build_surge_mentions, 2, 2 * DAY},
        {build_surge_mentions, 3, 3 * DAY},
        {build_stalled, 40, 3 * DAY},
        {build_status, 6, 4 * DAY},
        {build_stale, 2, 5 * DAY},
        {build_unanswered, -1, 5 * DAY},
        {build_stale, 35, 40 * DAY},
        {build_demo, 2, 41 * DAY},
    };
    score_state states[SCORE_KIND_COUNT];
    memset(states, 0, sizeof states);
    size_t len = 0, cap = 4096;
    uint8_t *buf = malloc(cap);
    SP_ASSERT(buf);
    for (size_t i = 0; i < sizeof script / sizeof script[0]; i++) {
        score_eval e;
        script[i].build(script[i].x, NOW + script[i].at, &e);
        for (int pass = 0; pass <= redeliver; pass++) {
            /* a redelivery re-applies the same input to the state as stored before it */
            score_state stored = states[e.kind];
            score_transition tr;
            Salespulse__V1__Signal *sig = NULL;
            SP_ASSERT(score_signal_step(&stored, &e, &R, NOW + script[i].at, "", &tr, &sig) == SP_OK);
            if (pass == redeliver) states[e.kind] = stored;
            if (!sig || pass < redeliver) {
                score_signal_free(sig);
                continue;
            }
            size_t n = salespulse__v1__signal__get_packed_size(sig);
            while (len + n + 4 > cap)
                buf = realloc(buf, cap *= 2), SP_ASSERT(buf);
            buf[len++] = (uint8_t)(n >> 24), buf[len++] = (uint8_t)(n >> 16), buf[len++] = (uint8_t)(n >> 8),
            buf[len++] = (uint8_t)n;
            len += salespulse__v1__signal__pack(sig, buf + len);
            score_signal_free(sig);
        }
    }
    *out = buf;
    return len;
}

static void test_determinism(void **state)
{
    (void)state;
    uint8_t *a, *b, *c;
    size_t la = run_script(&a, 0), lb = run_script(&b, 0), lc = run_script(&c, 1);
    assert_true(la > 0);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    /* redelivering every input once more yields the same stream */
    assert_int_equal(la, lc);
    assert_memory_equal(a, c, la);
    /* count the messages: stale raised/cleared/raised(ep 2), unanswered raised/updated/cleared,
     * surge raised/updated, stalled raised, status raised, demo raised */
    size_t n = 0;
    for (size_t off = 0; off < la; n++)
        off += 4 + ((size_t)a[off] << 24 | (size_t)a[off + 1] << 16 | (size_t)a[off + 2] << 8 | a[off + 3]);
    assert_int_equal(n, 11);
    free(a);
    free(b);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_customer_stale),
        cmocka_unit_test(test_no_progress_after_visit),
        cmocka_unit_test(test_key_role_uncovered),
        cmocka_unit_test(test_competitor_surge),
        cmocka_unit_test(test_demo_refused_twice),
        cmocka_unit_test(test_stage_stalled),
        cmocka_unit_test(test_risk_raised),
        cmocka_unit_test(test_risk_names_zh),
        cmocka_unit_test(test_unanswered_inbound),
        cmocka_unit_test(test_interest_warming),
        cmocka_unit_test(test_status_not_updated),
        cmocka_unit_test(test_key_action_missing),
        cmocka_unit_test(test_first_visit_timeout),
        cmocka_unit_test(test_funnel_collapse),
        cmocka_unit_test(test_hysteresis_no_flap),
        cmocka_unit_test(test_clear_delay),
        cmocka_unit_test(test_disabled_rule_clears),
        cmocka_unit_test(test_signal_message),
        cmocka_unit_test(test_determinism),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
