/* Routing decisions: every signal of the design table lands on the
 * expected role and person; absences and inactive people skip up the
 * chain with the reason in Chinese and English; CLOSE, keys, suppression
 * and the TaskCommand. Data: tests/data/org_small.json and
 * deploy/tenants/default/route_rules.json. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "err.h"
#include "route/cntime.h"
#include "route/org.h"
#include "route/route.h"
#include "route/route_rules.h"

#include <stdio.h>
#include <string.h>

#define ORG_FILE   "tests/data/org_small.json"
#define RULES_FILE "deploy/tenants/default/route_rules.json"

static org *g_org;
static route_rules *g_rules;
static int64_t NOW_FREE; /* 2026-03-20 10:00 Shanghai: nobody away */
static int64_t NOW_TRIP; /* 2026-03-05 10:00 Shanghai: supervisor Li Ming away until 10 Mar */

static int setup(void **state)
{
    char err[256] = "";
    (void)state;
    if (org_load_json(ORG_FILE, &g_org, err, sizeof err) != SP_OK) {
        fprintf(stderr, "org: %s\n", err);
        return -1;
    }
    if (route_rules_load_file(RULES_FILE, &g_rules, err, sizeof err) != SP_OK) {
        fprintf(stderr, "rules: %s\n", err);
        return -1;
    }
    cntime_parse("2026-03-20T10:00", &NOW_FREE);
    cntime_parse("2026-03-05T10:00", &NOW_TRIP);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    org_destroy(g_org);
    route_rules_destroy(g_rules);
    return 0;
}

/* A signal with its own storage. */
typedef struct sig {
    Salespulse__V1__Signal s;
    Salespulse__V1__Subject sub;
    Salespulse__V1__EventMeta meta;
    char *tags[2];
} sig;

static void sig_init(sig *g, const char *kind, int level, Salespulse__V1__SubjectType st, const char *sid,
    const char *rep, const char *tag)
{
    memset(g, 0, sizeof *g);
    salespulse__v1__signal__init(&g->s);
    salespulse__v1__subject__init(&g->sub);
    salespulse__v1__event_meta__init(&g->meta);
    g->meta.event_id = "sig-1:1:1";
    g->meta.occurred_at_ms = 1773000000000LL;
    g->meta.trace_id = "tr-1";
    g->s.meta = &g->meta;
    g->s.kind = (char *)kind;
    g->s.level = (Salespulse__V1__Level)level;
    g->s.transition = SALESPULSE__V1__TRANSITION__TRANSITION_RAISED;
    g->sub.type = st;
    g->sub.id = (char *)sid;
    g->s.subject = &g->sub;
    g->s.owner_rep_id = (char *)(rep ? rep : "");
    g->s.episode = 1;
    if (tag != NULL) {
        g->tags[0] = (char *)tag;
        g->s.tags = g->tags;
        g->s.n_tags = 1;
    }
}

#define DEAL     SALESPULSE__V1__SUBJECT_TYPE__SUBJECT_TYPE_DEAL
#define CUSTOMER SALESPULSE__V1__SUBJECT_TYPE__SUBJECT_TYPE_CUSTOMER
#define REP      SALESPULSE__V1__SUBJECT_TYPE__SUBJECT_TYPE_REP
#define TEAM     SALESPULSE__V1__SUBJECT_TYPE__SUBJECT_TYPE_TEAM
#define REGION   SALESPULSE__V1__SUBJECT_TYPE__SUBJECT_TYPE_REGION

static int has(const char *const *arr, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(arr[i], s) == 0) return 1;
    return 0;
}

/* The design's signals table, one row per case. */
static void test_design_table(void **state)
{
    (void)state;
    static const struct row {
        const char *kind;
        int level;
        Salespulse__V1__SubjectType st;
        const char *sid, *rep, *tag;
        route_target role;
        const char *assignee;
        int64_t sla_s;
        const char *playbook; /* one expected playbook, or NULL */
        const char *watcher; /* one expected watcher, or NULL */
    } rows[] = {
        {"deal.no_progress_after_visit", 1, DEAL, "D1", "P-R1", NULL, ROUTE_T_OWNER_REP, "P-R1", 86400,
            "advancement_card", NULL},
        {"deal.key_role_uncovered", 2, DEAL, "D1", "P-R1", NULL, ROUTE_T_MENTOR, "P-M1", 28800, NULL, NULL},
        {"deal.competitor_surge", 3, DEAL, "D1", "P-R1", NULL, ROUTE_T_COMPETITION, "P-C1", 7200,
            "competition_kit", "P-C2"},
        {"deal.demo_refused_twice", 2, DEAL, "D1", "P-R1", "pack:technical_doubt", ROUTE_T_MENTOR, "P-M1",
            28800, "technical_doubt_pack", NULL},
        {"deal.demo_refused_twice", 2, DEAL, "D1", "P-R1", NULL, ROUTE_T_MENTOR, "P-M1", 28800,
            "similar_won_case", NULL},
        {"deal.stage_stalled", 2, DEAL, "D1", "P-R1", NULL, ROUTE_T_SUPERVISOR, "P-S1", 28800, NULL, NULL},
        {"deal.risk_raised", 1, DEAL, "D1", "P-R1", "risk:after_sales", ROUTE_T_AFTER_SALES, "P-A1", 86400,
            NULL, "P-A2"},
        {"deal.risk_raised", 2, DEAL, "D1", "P-R1", "risk:budget_freeze", ROUTE_T_SUPERVISOR, "P-S1", 28800,
            NULL, NULL},
        {"deal.risk_raised", 2, DEAL, "D1", "P-R1", "risk:decision_change", ROUTE_T_SUPERVISOR, "P-S1", 28800,
            "policy_guide", NULL},
        {"deal.risk_raised", 1, DEAL, "D1", "P-R1", "risk:price_pressure", ROUTE_T_OWNER_REP, "P-R1", 86400,
            NULL, NULL},
        {"deal.unanswered_inbound", 1, DEAL, "D1", "P-R1", NULL, ROUTE_T_OWNER_REP, "P-R1", 86400, NULL,
            NULL},
        {"deal.unanswered_inbound", 2, DEAL, "D1", "P-R1", NULL, ROUTE_T_SUPERVISOR, "P-S1", 28800, NULL,
            NULL},
        {"customer.interest_warming", 1, CUSTOMER, "C1", "P-R3", NULL, ROUTE_T_OWNER_REP, "P-R3", 86400, NULL,
            NULL},
        {"customer.stale", 1, CUSTOMER, "C1", "P-R1", NULL, ROUTE_T_OWNER_REP, "P-R1", 86400, "wakeup_list",
            NULL},
        {"rep.key_action_missing", 1, REP, "P-R4", NULL, NULL, ROUTE_T_OWNER_REP, "P-R4", 86400,
            "similar_won_case", NULL},
        {"rep.status_not_updated", 2, DEAL, "D1", "P-R1", NULL, ROUTE_T_SUPERVISOR, "P-S1", 28800, NULL,
            NULL},
        /* region's supervisors: T-HZ sorts first; the other supervisor watches */
        {"region.first_visit_timeout", 2, REGION, "R-EAST", NULL, NULL, ROUTE_T_SUPERVISOR, "P-S2", 28800,
            NULL, "P-S1"},
        /* choice: the director is assigned, the team's supervisor watches */
        {"team.funnel_collapse", 3, TEAM, "T-SH", NULL, NULL, ROUTE_T_DIRECTOR, "P-D1", 7200,
            "three_layer_review", "P-S1"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct row *r = &rows[i];
        sig g;
        route_decision d;
        sig_init(&g, r->kind, r->level, r->st, r->sid, r->rep, r->tag);
        int rv = route_decide(g_rules, g_org, &g.s, NOW_FREE, &d);
        if (rv != SP_OK || d.assignee_role != r->role || strcmp(d.assignee_id, r->assignee) != 0)
            fail_msg("row %zu %s: rv %d role %s assignee %s (%s)", i, r->kind, rv,
                route_target_name(d.assignee_role), d.assignee_id ? d.assignee_id : "-", d.reason_en);
        assert_int_equal(d.op, SALESPULSE__V1__TASK_OP__TASK_OP_UPSERT);
        assert_int_equal(d.sla_s, r->sla_s);
        assert_int_equal(d.n_skips, 0);
        if (r->playbook && !has(d.playbooks, d.n_playbooks, r->playbook))
            fail_msg("row %zu %s: playbook %s missing", i, r->kind, r->playbook);
        if (r->watcher && !has(d.watchers, d.n_watchers, r->watcher))
            fail_msg("row %zu %s: watcher %s missing", i, r->kind, r->watcher);
        assert_false(has(d.watchers, d.n_watchers, d.assignee_id));
        assert_false(has(d.chain, d.n_chain, d.assignee_id));
    }
}

/* The escalation chain after the owner rep is mentor → supervisor → director. */
static void test_chain_after_rep(void **state)
{
    (void)state;
    sig g;
    route_decision d;
    sig_init(&g, "customer.stale", 1, CUSTOMER, "C1", "P-R1", NULL);
    assert_int_equal(route_decide(g_rules, g_org, &g.s, NOW_FREE, &d), SP_OK);
    assert_int_equal(d.n_chain, 3);
    assert_string_equal(d.chain[0], "P-M1");
    assert_string_equal(d.chain[1], "P-S1");
    assert_string_equal(d.chain[2], "P-D1");
    assert_string_equal(d.task_key, "task:customer.stale:customer:C1:1");
    assert_non_null(strstr(d.reason_zh, "销售张伟"));
    assert_non_null(strstr(d.reason_en, "rep Zhang Wei"));
}

/* Supervisor on a trip: rep.status_not_updated goes to the director. */
static void test_supervisor_absent_goes_to_director(void **state)
{
    (void)state;
    sig g;
    route_decision d;
    sig_init(&g, "rep.status_not_updated", 2, DEAL, "D7", "P-R1", NULL);
    assert_int_equal(route_decide(g_rules, g_org, &g.s, NOW_TRIP, &d), SP_OK);
    assert_string_equal(d.assignee_id, "P-D1");
    assert_int_equal(d.assignee_role, ROUTE_T_DIRECTOR);
    assert_int_equal(d.n_skips, 1);
    assert_int_equal(d.skips[0].why, ROUTE_SKIP_ABSENT);
    assert_string_equal(d.skips[0].person_id, "P-S1");
    assert_non_null(strstr(d.reason_zh, "主管李明 3月10日前出差 → 总监王芳"));
    assert_non_null(strstr(d.reason_en, "supervisor Li Ming away until 10 Mar → director Wang Fang"));
    assert_int_equal(d.n_chain, 0);

    /* the absence ends at 2026-03-10 00:00 Shanghai (exclusive) */
    int64_t back;
    cntime_parse("2026-03-10T00:00+08:00", &back);
    assert_int_equal(route_decide(g_rules, g_org, &g.s, back - 1, &d), SP_OK);
    assert_string_equal(d.assignee_id, "P-D1");
    assert_int_equal(route_decide(g_rules, g_org, &g.s, back, &d), SP_OK);
    assert_string_equal(d.assignee_id, "P-S1");
    assert_int_equal(d.n_skips, 0);
}

/* An inactive mentor skips to the supervisor; with the supervisor away
 * too, on to the director, every step recorded. */
static void test_inactive_mentor(void **state)
{
    (void)state;
    sig g;
    route_decision d;
    sig_init(&g, "deal.key_role_uncovered", 2, DEAL, "D2", "P-R2", NULL);
    assert_int_equal(route_decide(g_rules, g_org, &g.s, NOW_FREE, &d), SP_OK);
    assert_string_equal(d.assignee_id, "P-S1");
    assert_int_equal(d.assignee_role, ROUTE_T_SUPERVISOR);
    assert_int_equal(d.skips[0].why, ROUTE_SKIP_INACTIVE);
    assert_non_null(strstr(d.reason_zh, "导师吴刚已停用 → 主管李明"));
    assert_non_null(strstr(d.reason_en, "mentor Wu Gang inactive → supervisor Li Ming"));
    assert_int_equal(d.n_chain, 1);
    assert_string_equal(d.chain[0], "P-D1");

    assert_int_equal(route_decide(g_rules, g_org, &g.s, NOW_TRIP, &d), SP_OK);
    assert_string_equal(d.assignee_id, "P-D1");
    assert_int_equal(d.n_skips, 2);
    assert_non_null(strstr(d.reason_zh, "导师吴刚已停用 → 主管李明 3月10日前出差 → 总监王芳"));
}

/* A rep with no mentor on record: the skip says so. */
static void test_missing_mentor(void **state)
{
    (void)state;
    sig g;
    route_decision d;
    sig_init(&g, "deal.key_role_uncovered", 2, DEAL, "D3", "P-R3", NULL);
    assert_int_equal(route_decide(g_rules, g_org, &g.s, NOW_FREE, &d), SP_OK);
    assert_string_equal(d.assignee_id, "P-S2");
    assert_int_equal(d.skips[0].why, ROUTE_SKIP_MISSING);
    assert_non_null(strstr(d.reason_en, "no mentor on record → supervisor Chen Jing"));
}

/* The after-sales lead on leave: a team member stands in; the region's
 * director is next for escalation. */
static void test_named_team_lead_absent(void **state)
{
    (void)state;
    sig g;
    route_decision d;
    int64_t t;
    cntime_parse("2026-04-05T09:00", &t);
    sig_init(&g, "deal.risk_raised", 1, DEAL, "D1", "P-R1", "risk:after_sales");
    assert_int_equal(route_decide(g_rules, g_org, &g.s, t, &d), SP_OK);
    assert_string_equal(d.assignee_id, "P-A2");
    assert_int_equal(d.assignee_role, ROUTE_T_AFTER_SALES);
    assert_non_null(strstr(d.reason_zh, "售后经理钱雪 4月8日前休假 → 售后经理冯超"));
    assert_non_null(strstr(d.reason_en, "after-sales manager Qian Xue on leave until 8 Apr"));
    assert_int_equal(d.n_chain, 1);
    assert_string_equal(d.chain[0], "P-D1");
}

/* Region supervisors with one away: the present one is assigned, no
 * absent watcher. */
static void test_region_supervisors_absent(void **state)
{
    (void)state;
    sig g;
    route_decision d;
    sig_init(&g, "region.first_visit_timeout", 2, REGION, "R-EAST", NULL, NULL);
    assert_int_equal(route_decide(g_rules, g_org, &g.s, NOW_TRIP, &d), SP_OK);
    assert_string_equal(d.assignee_id, "P-S2");
    assert_int_equal(d.n_watchers, 0);
    assert_int_equal(d.n_chain, 1);
    assert_string_equal(d.chain[0], "P-D1");
}

/* Everybody away: the first active person is assigned anyway, said so;
 * nobody active at all: SP_ENOTFOUND. Built with the row API. */
static void test_everyone_away(void **state)
{
    (void)state;
    org *o;
    char err[200];
    assert_int_equal(org_new(&o), SP_OK);
    org_region r = {"R1", "区", "D"};
    org_team t = {"T1", "组", "S", "R1"};
    org_person pd = {"D", "王总", NULL, ORG_ROLE_DIRECTOR, NULL, NULL, "R1", NULL, NULL, 1};
    org_person ps = {"S", "李主管", NULL, ORG_ROLE_SUPERVISOR, "T1", NULL, "R1", NULL, NULL, 0};
    org_absence a = {"D", 0, 4000000000000LL, "sick"};
    assert_int_equal(org_add_region(o, &r, err, sizeof err), SP_OK);
    assert_int_equal(org_add_team(o, &t, err, sizeof err), SP_OK);
    assert_int_equal(org_add_person(o, &pd, err, sizeof err), SP_OK);
    assert_int_equal(org_add_person(o, &ps, err, sizeof err), SP_OK);
    assert_int_equal(org_add_absence(o, &a, err, sizeof err), SP_OK);
    assert_int_equal(org_finish(o, err, sizeof err), SP_OK);

    sig g;
    route_decision d;
    sig_init(&g, "deal.stage_stalled", 2, DEAL, "D1", NULL, NULL);
    g.s.team_id = "T1";
    assert_int_equal(route_decide(g_rules, o, &g.s, NOW_FREE, &d), SP_OK);
    assert_string_equal(d.assignee_id, "D");
    assert_non_null(strstr(d.reason_en, "assigned anyway"));
    assert_non_null(strstr(d.reason_zh, "主管李主管已停用"));
    org_destroy(o);

    /* nobody active */
    assert_int_equal(org_new(&o), SP_OK);
    pd.active = 0;
    assert_int_equal(org_add_region(o, &r, err, sizeof err), SP_OK);
    assert_int_equal(org_add_team(o, &t, err, sizeof err), SP_OK);
    assert_int_equal(org_add_person(o, &pd, err, sizeof err), SP_OK);
    assert_int_equal(org_add_person(o, &ps, err, sizeof err), SP_OK);
    assert_int_equal(org_finish(o, err, sizeof err), SP_OK);
    assert_int_equal(route_decide(g_rules, o, &g.s, NOW_FREE, &d), SP_ENOTFOUND);
    assert_non_null(strstr(d.reason_en, "nobody active"));
    org_destroy(o);
}

static void test_cleared_closes(void **state)
{
    (void)state;
    sig g;
    route_decision d;
    sig_init(&g, "customer.stale", 1, CUSTOMER, "C1", "P-R1", NULL);
    g.s.transition = SALESPULSE__V1__TRANSITION__TRANSITION_CLEARED;
    g.s.episode = 3;
    assert_int_equal(route_decide(g_rules, g_org, &g.s, NOW_FREE, &d), SP_OK);
    assert_int_equal(d.op, SALESPULSE__V1__TASK_OP__TASK_OP_CLOSE);
    assert_string_equal(d.task_key, "task:customer.stale:customer:C1:3");
    assert_null(d.assignee_id);
    /* UPDATED upserts the same key */
    g.s.transition = SALESPULSE__V1__TRANSITION__TRANSITION_UPDATED;
    assert_int_equal(route_decide(g_rules, g_org, &g.s, NOW_FREE, &d), SP_OK);
    assert_int_equal(d.op, SALESPULSE__V1__TASK_OP__TASK_OP_UPSERT);
    assert_string_equal(d.task_key, "task:customer.stale:customer:C1:3");
}

static void test_invalid_signals(void **state)
{
    (void)state;
    sig g;
    route_decision d;
    sig_init(&g, "", 1, CUSTOMER, "C1", "P-R1", NULL);
    assert_int_equal(route_decide(g_rules, g_org, &g.s, NOW_FREE, &d), SP_EINVAL);
    assert_non_null(strstr(d.reason_en, "kind"));
    sig_init(&g, "customer.stale", 1, CUSTOMER, "", "P-R1", NULL);
    assert_int_equal(route_decide(g_rules, g_org, &g.s, NOW_FREE, &d), SP_EINVAL);
    assert_non_null(strstr(d.reason_en, "subject.id"));
    sig_init(&g, "customer.stale", 1, 0, "C1", "P-R1", NULL);
    assert_int_equal(route_decide(g_rules, g_org, &g.s, NOW_FREE, &d), SP_EINVAL);
    sig_init(&g, "customer.stale", 1, CUSTOMER, "C1", "P-R1", NULL);
    g.s.subject = NULL;
    assert_int_equal(route_decide(g_rules, g_org, &g.s, NOW_FREE, &d), SP_EINVAL);
    sig_init(&g, "customer.stale", 1, CUSTOMER, "C1", "P-R1", NULL);
    g.s.transition = 0;
    assert_int_equal(route_decide(g_rules, g_org, &g.s, NOW_FREE, &d), SP_EINVAL);
    assert_int_equal(route_decide(g_rules, g_org, NULL, NOW_FREE, &d), SP_EINVAL);
    sig_init(&g, "deal.unheard_of", 1, DEAL, "D1", "P-R1", NULL);
    assert_int_equal(route_decide(g_rules, g_org, &g.s, NOW_FREE, &d), SP_ENOTFOUND);
    assert_non_null(strstr(d.reason_en, "deal.unheard_of"));
    /* an unknown owner rep: no rep, no mentor, no team → nobody */
    sig_init(&g, "customer.stale", 1, CUSTOMER, "C1", "P-NOPE", NULL);
    assert_int_equal(route_decide(g_rules, g_org, &g.s, NOW_FREE, &d), SP_ENOTFOUND);
    /* ... unless the signal names the team */
    g.s.team_id = "T-HZ";
    assert_int_equal(route_decide(g_rules, g_org, &g.s, NOW_FREE, &d), SP_OK);
    assert_string_equal(d.assignee_id, "P-S2");
    assert_int_equal(d.n_skips, 2);
    /* a key that does not fit */
    char big[400];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    sig_init(&g, "customer.stale", 1, CUSTOMER, big, "P-R1", NULL);
    assert_int_equal(route_decide(g_rules, g_org, &g.s, NOW_FREE, &d), SP_ETOOBIG);
}

/* What sp-route checks before it writes: every refusal names the field,
 * and a valid signal's task key comes back (a long event id once crashed
 * the service in a loop: the command could not be filled). */
static void test_signal_check(void **state)
{
    (void)state;
    sig g;
    char key[256], why[128], big[400], id[300];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    sig_init(&g, "customer.stale", 1, CUSTOMER, "C1", "P-R1", NULL);
    assert_int_equal(route_signal_check(&g.s, key, sizeof key, why, sizeof why), SP_OK);
    assert_string_equal(key, "task:customer.stale:customer:C1:1");
    memset(id, 'e', sizeof id - 1);
    id[ROUTE_EVENT_ID_MAX] = '\0'; /* 256 bytes: the longest routed */
    g.meta.event_id = id;
    assert_int_equal(route_signal_check(&g.s, key, sizeof key, why, sizeof why), SP_OK);
    id[ROUTE_EVENT_ID_MAX] = 'e', id[ROUTE_EVENT_ID_MAX + 1] = '\0';
    assert_int_equal(route_signal_check(&g.s, key, sizeof key, why, sizeof why), SP_EINVAL);
    assert_string_equal(why, "invalid Signal: meta.event_id over 256 bytes");
    const struct {
        const char *kind, *sid;
        int type, no_subject, no_meta;
        const char *why;
    } bad[] = {
        {"customer.stale", "C1", CUSTOMER, 0, 1, "invalid Signal: meta.event_id missing"},
        {"", "C1", CUSTOMER, 0, 0, "invalid Signal: kind missing"},
        {"customer.stale", "", CUSTOMER, 0, 0, "invalid Signal: subject.id missing"},
        {"customer.stale", "C1", CUSTOMER, 1, 0, "invalid Signal: subject.id missing"},
        {"customer.stale", "C1", 0, 0, 0, "invalid Signal: subject.type unknown"},
        {"customer.stale", big, CUSTOMER, 0, 0, "invalid Signal: task key (kind, subject.id) too long"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sig_init(&g, bad[i].kind, 1, bad[i].type, bad[i].sid, "P-R1", NULL);
        if (bad[i].no_subject) g.s.subject = NULL;
        if (bad[i].no_meta) g.s.meta = NULL;
        assert_int_equal(route_signal_check(&g.s, key, sizeof key, why, sizeof why), SP_EINVAL);
        assert_string_equal(why, bad[i].why);
    }
}

static void test_suppression(void **state)
{
    (void)state;
    const int64_t day = 86400000LL, t0 = NOW_FREE;
    int64_t until;
    assert_int_equal(route_suppressed(g_rules, -1, t0, &until), 0);
    assert_int_equal(route_suppressed(g_rules, t0, t0, &until), 1);
    assert_int_equal(until, t0 + 7 * day);
    assert_int_equal(route_suppressed(g_rules, t0, t0 + 7 * day - 1, NULL), 1);
    assert_int_equal(route_suppressed(g_rules, t0, t0 + 7 * day, NULL), 0);
    /* configurable */
    route_rules *r;
    char err[200];
    assert_int_equal(route_rules_load_string("{\"suppress_after_dismiss\":\"2d\",\"rules\":[{\"id\":\"a\","
                                             "\"kind\":\"x.y\",\"assignee\":\"owner_rep\"}]}",
                         "t", &r, err, sizeof err),
        SP_OK);
    assert_int_equal(route_suppressed(r, t0, t0 + 2 * day - 1, NULL), 1);
    assert_int_equal(route_suppressed(r, t0, t0 + 2 * day, NULL), 0);
    route_rules_destroy(r);
}

static void test_command_fill(void **state)
{
    (void)state;
    sig g;
    route_decision d;
    Salespulse__V1__TaskCommand cmd;
    Salespulse__V1__EventMeta meta;
    char eid[128];
    sig_init(&g, "rep.status_not_updated", 2, DEAL, "D7", "P-R1", NULL);
    assert_int_equal(route_decide(g_rules, g_org, &g.s, NOW_TRIP, &d), SP_OK);
    assert_int_equal(route_command_fill(&d, &g.s, NOW_TRIP + 5, &cmd, &meta, eid, sizeof eid), SP_OK);
    assert_string_equal(cmd.meta->event_id, "cmd:sig-1:1:1");
    assert_int_equal(cmd.meta->occurred_at_ms, 1773000000000LL);
    assert_int_equal(cmd.meta->produced_at_ms, NOW_TRIP + 5);
    assert_string_equal(cmd.meta->producer, "sp-route");
    assert_string_equal(cmd.task_key, "task:rep.status_not_updated:deal:D7:1");
    assert_int_equal(cmd.op, SALESPULSE__V1__TASK_OP__TASK_OP_UPSERT);
    assert_string_equal(cmd.assignee_id, "P-D1");
    assert_string_equal(cmd.assignee_role, "director");
    assert_int_equal(cmd.sla_s, 28800);
    assert_ptr_equal(cmd.signal, &g.s);
    assert_non_null(strstr(cmd.route_reason_en, "Li Ming away"));
    /* it packs and unpacks */
    size_t n = salespulse__v1__task_command__get_packed_size(&cmd);
    uint8_t buf[4096];
    assert_true(n < sizeof buf);
    salespulse__v1__task_command__pack(&cmd, buf);
    Salespulse__V1__TaskCommand *u = salespulse__v1__task_command__unpack(NULL, n, buf);
    assert_non_null(u);
    assert_string_equal(u->assignee_id, "P-D1");
    assert_string_equal(u->signal->kind, "rep.status_not_updated");
    salespulse__v1__task_command__free_unpacked(u, NULL);

    g.meta.event_id = "";
    assert_int_equal(route_command_fill(&d, &g.s, 0, &cmd, &meta, eid, sizeof eid), SP_EINVAL);
}

static int valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = *p < 0x80      ? 1
            : (*p & 0xE0) == 0xC0 ? 2
            : (*p & 0xF0) == 0xE0 ? 3
            : (*p & 0xF8) == 0xF0 ? 4
                                  : 0;
        if (n == 0) return 0;
        for (size_t i = 1; i < n; i++)
            if ((p[i] & 0xC0) != 0x80) return 0;
        p += n;
    }
    return 1;
}

/* Very long names overflow the reason buffer: it is cut, still valid UTF-8. */
static void test_long_reason_stays_utf8(void **state)
{
    (void)state;
    static char longname[700];
    for (size_t i = 0; i + 3 < sizeof longname; i += 3)
        memcpy(longname + i, "长", 3);
    org *o;
    char err[200];
    assert_int_equal(org_new(&o), SP_OK);
    org_region r = {"R1", "区", "D"};
    org_team t = {"T1", "组", "S", "R1"};
    org_person rep = {"P", longname, longname, ORG_ROLE_REP, "T1", "M", "R1", NULL, NULL, 1};
    org_person m = {"M", longname, longname, ORG_ROLE_REP, "T1", NULL, "R1", NULL, NULL, 0};
    org_person s = {"S", longname, longname, ORG_ROLE_SUPERVISOR, "T1", NULL, "R1", NULL, NULL, 0};
    org_person d = {"D", longname, longname, ORG_ROLE_DIRECTOR, NULL, NULL, "R1", NULL, NULL, 1};
    org_absence a = {"P", 0, 4000000000000LL, "trip"};
    assert_int_equal(org_add_region(o, &r, err, sizeof err), SP_OK);
    assert_int_equal(org_add_team(o, &t, err, sizeof err), SP_OK);
    assert_int_equal(org_add_person(o, &rep, err, sizeof err), SP_OK);
    assert_int_equal(org_add_person(o, &m, err, sizeof err), SP_OK);
    assert_int_equal(org_add_person(o, &s, err, sizeof err), SP_OK);
    assert_int_equal(org_add_person(o, &d, err, sizeof err), SP_OK);
    assert_int_equal(org_add_absence(o, &a, err, sizeof err), SP_OK);
    assert_int_equal(org_finish(o, err, sizeof err), SP_OK);
    sig g;
    route_decision dec;
    sig_init(&g, "customer.stale", 1, CUSTOMER, "C1", "P", NULL);
    assert_int_equal(route_decide(g_rules, o, &g.s, NOW_FREE, &dec), SP_OK);
    assert_string_equal(dec.assignee_id, "D");
    assert_int_equal(dec.n_skips, 3);
    assert_true(strlen(dec.reason_zh) < sizeof dec.reason_zh);
    assert_true(strlen(dec.reason_zh) > 900);
    assert_true(valid_utf8(dec.reason_zh));
    assert_true(valid_utf8(dec.reason_en));
    org_destroy(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_design_table),
        cmocka_unit_test(test_signal_check),
        cmocka_unit_test(test_chain_after_rep),
        cmocka_unit_test(test_supervisor_absent_goes_to_director),
        cmocka_unit_test(test_inactive_mentor),
        cmocka_unit_test(test_missing_mentor),
        cmocka_unit_test(test_named_team_lead_absent),
        cmocka_unit_test(test_region_supervisors_absent),
        cmocka_unit_test(test_everyone_away),
        cmocka_unit_test(test_cleared_closes),
        cmocka_unit_test(test_invalid_signals),
        cmocka_unit_test(test_suppression),
        cmocka_unit_test(test_command_fill),
        cmocka_unit_test(test_long_reason_stays_utf8),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
