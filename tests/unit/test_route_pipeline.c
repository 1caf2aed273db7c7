/* The pure pipeline end to end, as the services will wire it: a signal is
 * routed, the TaskCommand crosses the wire (pack/unpack), the task pool
 * applies it, the SLA sweep escalates it using the org for availability
 * and names, the signal clears and the task resolves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "err.h"
#include "route/cntime.h"
#include "route/org.h"
#include "route/route.h"
#include "route/route_rules.h"
#include "taskpool/sla.h"
#include "taskpool/task.h"

#include <string.h>

static org *g_org;
static route_rules *g_rules;

static int setup(void **state)
{
    char err[256];
    (void)state;
    if (org_load_json("tests/data/org_small.json", &g_org, err, sizeof err) != SP_OK) return -1;
    if (route_rules_load_file("deploy/tenants/default/route_rules.json", &g_rules, err, sizeof err) != SP_OK)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    org_destroy(g_org);
    route_rules_destroy(g_rules);
    return 0;
}

/* sla_people over the org snapshot: present = active and not absent. */
static int org_available(void *ctx, const char *id, int64_t at)
{
    const org_person *p = org_person_get(ctx, id);
    return p != NULL && p->active && org_absence_at(ctx, id, at) == NULL;
}

static const char *org_name(void *ctx, const char *id, int en)
{
    const org_person *p = org_person_get(ctx, id);
    if (p == NULL) return NULL;
    return en && p->name_en ? p->name_en : p->name;
}

/* Routes sig at now, ships the command over the wire and applies it. */
static Salespulse__V1__TaskCommand *route_and_ship(
    Salespulse__V1__Signal *sig, int64_t now, route_decision *d)
{
    Salespulse__V1__TaskCommand cmd;
    Salespulse__V1__EventMeta meta;
    char eid[200];
    static uint8_t wire[8192];
    assert_int_equal(route_decide(g_rules, g_org, sig, now, d), SP_OK);
    assert_int_equal(route_command_fill(d, sig, now, &cmd, &meta, eid, sizeof eid), SP_OK);
    size_t n = salespulse__v1__task_command__get_packed_size(&cmd);
    assert_true(n < sizeof wire);
    salespulse__v1__task_command__pack(&cmd, wire);
    Salespulse__V1__TaskCommand *u = salespulse__v1__task_command__unpack(NULL, n, wire);
    assert_non_null(u);
    return u;
}

static void test_competitor_surge_l3(void **state)
{
    (void)state;
    int64_t t0;
    cntime_parse("2026-03-05T09:00", &t0); /* supervisor Li Ming is away until 10 Mar */
    const int64_t H = 3600000;

    Salespulse__V1__Signal sig = SALESPULSE__V1__SIGNAL__INIT;
    Salespulse__V1__Subject sub = SALESPULSE__V1__SUBJECT__INIT;
    Salespulse__V1__EventMeta sm = SALESPULSE__V1__EVENT_META__INIT;
    sm.event_id = "sig:deal.competitor_surge:deal:D9:1:RAISED:1";
    sm.occurred_at_ms = t0;
    sub.type = SALESPULSE__V1__SUBJECT_TYPE__SUBJECT_TYPE_DEAL;
    sub.id = "D9";
    sig.meta = &sm;
    sig.kind = "deal.competitor_surge";
    sig.transition = SALESPULSE__V1__TRANSITION__TRANSITION_RAISED;
    sig.level = SALESPULSE__V1__LEVEL__LEVEL_L3;
    sig.subject = &sub;
    sig.owner_rep_id = "P-R1";
    sig.team_id = "T-SH";
    sig.region_id = "R-EAST";
    sig.episode = 1;

    route_decision d;
    Salespulse__V1__TaskCommand *cmd = route_and_ship(&sig, t0, &d);
    assert_string_equal(cmd->assignee_id, "P-C1");
    assert_string_equal(cmd->assignee_role, "competition_team");
    assert_int_equal(cmd->sla_s, 7200);
    assert_int_equal(cmd->n_chain, 1);
    assert_string_equal(cmd->chain[0], "P-D1");

    task row, next;
    task_effect eff;
    task_noop_why why;
    task_event ev;
    assert_int_equal(task_apply_command(NULL, cmd, t0, 0, &row, &eff, &why, &ev), SP_OK);
    assert_int_equal(eff, TASK_EFFECT_INSERT);
    /* redelivered: nothing */
    assert_int_equal(task_apply_command(&row, cmd, t0, 0, &next, &eff, &why, &ev), SP_OK);
    assert_int_equal(why, TASK_NOOP_DUPLICATE);
    salespulse__v1__task_command__free_unpacked(cmd, NULL);

    /* nobody acknowledges: after 2 h of event time, the director */
    sla_table tbl;
    sla_table_default(&tbl);
    sla_people pp = {org_available, org_name, g_org};
    sla_decision sd;
    assert_int_equal(sla_check(&row, &tbl, t0 + 2 * H, &pp, &sd), SP_OK);
    assert_false(sd.escalate);
    assert_int_equal(sla_check(&row, &tbl, t0 + 2 * H + 1, &pp, &sd), SP_OK);
    assert_true(sd.escalate);
    assert_string_equal(sd.to_id, "P-D1");
    assert_non_null(strstr(sd.reason_zh, "何俊 → 王芳"));
    assert_non_null(strstr(sd.reason_en, "He Jun → Wang Fang"));
    const task_actor sys = {"system", ACL_ROLE_SYSTEM};
    assert_int_equal(
        task_transition(&row, TASK_ACT_ESCALATE, &sys,
            &(task_args) {.to_id = sd.to_id, .to_role = "director", .escalation_level = sd.new_level},
            sd.due_ms, &ev),
        SP_OK);
    assert_int_equal(sla_check(&row, &tbl, t0 + 10 * H, &pp, &sd), SP_OK);
    assert_false(sd.escalate); /* top of the chain */

    /* the signal clears: the task resolves */
    sig.transition = SALESPULSE__V1__TRANSITION__TRANSITION_CLEARED;
    sm.event_id = "sig:deal.competitor_surge:deal:D9:1:CLEARED:2";
    sm.occurred_at_ms = t0 + 20 * H;
    cmd = route_and_ship(&sig, t0 + 20 * H, &d);
    assert_int_equal(cmd->op, SALESPULSE__V1__TASK_OP__TASK_OP_CLOSE);
    assert_int_equal(task_apply_command(&row, cmd, t0 + 20 * H, 0, &next, &eff, &why, &ev), SP_OK);
    assert_int_equal(eff, TASK_EFFECT_RESOLVE);
    assert_int_equal(next.status, TASK_RESOLVED);
    assert_string_equal(next.assignee_id, "P-D1");
    salespulse__v1__task_command__free_unpacked(cmd, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_competitor_surge_l3),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
