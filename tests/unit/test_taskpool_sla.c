/* SLA escalation in event time: an unacknowledged L3 escalates after 2 h
 * and not before, once per level, up the chain; acknowledged tasks never;
 * replays and late sweeps decide the same escalations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "err.h"
#include "taskpool/sla.h"
#include "taskpool/task.h"

#include <stdio.h>
#include <string.h>

#define H  3600000LL
#define T0 1773000000000LL

static const task_actor SYS = {"system", ACL_ROLE_SYSTEM};

static void mk(task *t, int level)
{
    memset(t, 0, sizeof *t);
    snprintf(t->key, sizeof t->key, "task:deal.competitor_surge:deal:D1:1");
    snprintf(t->assignee_id, sizeof t->assignee_id, "P-R1");
    t->level = level;
    t->status = TASK_OPEN;
    t->created_ms = t->assigned_ms = T0;
    snprintf(t->chain[0], sizeof t->chain[0], "P-S1");
    snprintf(t->chain[1], sizeof t->chain[1], "P-D1");
    t->n_chain = 2;
}

/* Applies a decision the way the sweep will. */
static void apply(task *t, const sla_decision *d)
{
    task_event ev;
    assert_int_equal(task_transition(t, TASK_ACT_ESCALATE, &SYS,
                         &(task_args) {.to_id = d->to_id, .escalation_level = d->new_level}, d->due_ms, &ev),
        SP_OK);
}

static void test_l3_escalates_after_2h_once_per_level(void **state)
{
    (void)state;
    task t;
    sla_table tbl;
    sla_decision d;
    sla_table_default(&tbl);
    mk(&t, 3);

    assert_int_equal(sla_check(&t, &tbl, T0 + 2 * H - 1, NULL, &d), SP_OK);
    assert_false(d.escalate);
    assert_int_equal(d.due_ms, T0 + 2 * H);
    /* at the deadline itself: an acknowledgement dated then is in time */
    assert_int_equal(sla_check(&t, &tbl, T0 + 2 * H, NULL, &d), SP_OK);
    assert_false(d.escalate);

    assert_int_equal(sla_check(&t, &tbl, T0 + 2 * H + 1, NULL, &d), SP_OK);
    assert_true(d.escalate);
    assert_string_equal(d.from_id, "P-R1");
    assert_string_equal(d.to_id, "P-S1");
    assert_int_equal(d.new_level, 1);
    assert_int_equal(d.due_ms, T0 + 2 * H);
    assert_non_null(strstr(d.reason_en, "L3 task not acknowledged within 2 h"));
    assert_non_null(strstr(d.reason_en, "P-R1 → P-S1"));
    assert_non_null(strstr(d.reason_zh, "L3任务2小时内未确认"));
    apply(&t, &d);

    /* same level never twice: not again until another 2 h */
    assert_int_equal(sla_check(&t, &tbl, T0 + 2 * H, NULL, &d), SP_OK);
    assert_false(d.escalate);
    assert_int_equal(sla_check(&t, &tbl, T0 + 4 * H, NULL, &d), SP_OK);
    assert_false(d.escalate);
    assert_int_equal(sla_check(&t, &tbl, T0 + 4 * H + 1, NULL, &d), SP_OK);
    assert_true(d.escalate);
    assert_string_equal(d.from_id, "P-S1");
    assert_string_equal(d.to_id, "P-D1");
    assert_int_equal(d.new_level, 2);
    apply(&t, &d);

    /* top of the chain */
    assert_int_equal(sla_check(&t, &tbl, T0 + 100 * H, NULL, &d), SP_OK);
    assert_false(d.escalate);
    assert_int_equal(d.due_ms, 0);
}

static void test_acknowledged_never_escalates(void **state)
{
    (void)state;
    task t;
    sla_table tbl;
    sla_decision d;
    task_event ev;
    const task_actor rep = {"P-R1", ACL_ROLE_REP};
    sla_table_default(&tbl);
    mk(&t, 3);
    assert_int_equal(task_transition(&t, TASK_ACT_ACK, &rep, NULL, T0 + H, &ev), SP_OK);
    assert_int_equal(sla_check(&t, &tbl, T0 + 50 * H, NULL, &d), SP_OK);
    assert_false(d.escalate);
    t.status = TASK_DONE;
    assert_int_equal(sla_check(&t, &tbl, T0 + 50 * H, NULL, &d), SP_OK);
    assert_false(d.escalate);
}

/* A sweep every 10 minutes of event time over 12 h: exactly two
 * escalations, at +2 h and +4 h; a sweep that wakes up late at +5 h makes
 * the same two, dated the same. */
static void test_sweeps_are_deterministic(void **state)
{
    (void)state;
    sla_table tbl;
    sla_table_default(&tbl);
    int64_t at_fine[4], at_late[4];
    int n_fine = 0, n_late = 0;
    task t;
    sla_decision d;

    mk(&t, 3);
    for (int64_t now = T0; now <= T0 + 12 * H; now += 10 * 60000) {
        assert_int_equal(sla_check(&t, &tbl, now, NULL, &d), SP_OK);
        if (d.escalate) {
            at_fine[n_fine++] = d.due_ms;
            apply(&t, &d);
        }
    }
    assert_int_equal(n_fine, 2);
    assert_int_equal(at_fine[0], T0 + 2 * H);
    assert_int_equal(at_fine[1], T0 + 4 * H);

    mk(&t, 3);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(sla_check(&t, &tbl, T0 + 5 * H, NULL, &d), SP_OK);
        if (!d.escalate) break;
        at_late[n_late++] = d.due_ms;
        apply(&t, &d);
    }
    assert_int_equal(n_late, 2);
    assert_memory_equal(at_fine, at_late, sizeof(int64_t) * 2);
}

static void test_levels_and_override(void **state)
{
    (void)state;
    task t;
    sla_table tbl;
    sla_decision d;
    sla_table_default(&tbl);
    static const struct {
        int level;
        int64_t sla_s;
        int64_t due_h;
    } rows[] = {{1, 0, 24}, {2, 0, 8}, {3, 0, 2}, {0, 0, 24}, {2, 3600, 1}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        mk(&t, rows[i].level);
        t.sla_s = rows[i].sla_s;
        assert_int_equal(sla_check(&t, &tbl, T0 + rows[i].due_h * H, NULL, &d), SP_OK);
        assert_false(d.escalate);
        assert_int_equal(sla_check(&t, &tbl, T0 + rows[i].due_h * H + 1, NULL, &d), SP_OK);
        assert_true(d.escalate);
    }
    /* configurable table: L3 in 30 minutes */
    tbl.sla_s[3] = 1800;
    mk(&t, 3);
    assert_int_equal(sla_check(&t, &tbl, T0 + H / 2 + 1, NULL, &d), SP_OK);
    assert_true(d.escalate);
    assert_non_null(strstr(d.reason_en, "within 30 min"));
    assert_int_equal(sla_check(NULL, &tbl, T0, NULL, &d), SP_EINVAL);
    t.assignee_id[0] = '\0';
    assert_int_equal(sla_check(&t, &tbl, T0, NULL, &d), SP_EINVAL);
}

static int avail(void *ctx, const char *id, int64_t at)
{
    (void)ctx;
    (void)at;
    return strcmp(id, "P-S1") != 0; /* the supervisor is away */
}

static const char *names(void *ctx, const char *id, int en)
{
    (void)ctx;
    if (strcmp(id, "P-R1") == 0) return en ? "Zhang Wei" : "张伟";
    if (strcmp(id, "P-D1") == 0) return en ? "Wang Fang" : "王芳";
    return NULL;
}

static void test_people(void **state)
{
    (void)state;
    task t;
    sla_table tbl;
    sla_decision d;
    sla_people pp = {avail, names, NULL};
    sla_table_default(&tbl);
    mk(&t, 3);
    assert_int_equal(sla_check(&t, &tbl, T0 + 2 * H + 1, &pp, &d), SP_OK);
    assert_true(d.escalate);
    assert_string_equal(d.to_id, "P-D1");
    assert_int_equal(d.new_level, 2);
    assert_int_equal(d.n_skipped, 1);
    assert_non_null(strstr(d.reason_zh, "张伟 → 王芳"));
    assert_non_null(strstr(d.reason_en, "Zhang Wei → Wang Fang (skipping people away)"));
    apply(&t, &d);
    assert_int_equal(sla_check(&t, &tbl, T0 + 50 * H, &pp, &d), SP_OK);
    assert_false(d.escalate);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_l3_escalates_after_2h_once_per_level),
        cmocka_unit_test(test_acknowledged_never_escalates),
        cmocka_unit_test(test_sweeps_are_deterministic),
        cmocka_unit_test(test_levels_and_override),
        cmocka_unit_test(test_people),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
