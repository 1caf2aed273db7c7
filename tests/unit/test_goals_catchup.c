/* Unit tests of catch-up items as TaskCommands (services/taskpool/
 * goals_catchup.c): the command is one sp-taskpool accepts (an open L1 task
 * for the rep), its ids are deterministic (the same review twice = a
 * duplicate the pool drops), changed numbers update the open task, and the
 * explanations stay valid UTF-8 however long the goal id. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "taskpool/goals_catchup.h"
#include "taskpool/task.h"
#include "utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define APR1 1775001600000LL /* 2026-04-01T00:00:00Z */
#define GOAL "goal:new_a_class_customers:company:all:2026-03-02"

static goals_catchup item(int64_t nd, int64_t demos)
{
    goals_catchup cu = {.key = "task:goal.catch_up:rep:R02:202603",
        .rep_id = "R02",
        .team_id = "T1",
        .region_id = "G1",
        .n = 2};
    cu.action[0] = GOALS_NEEDS_DIAGNOSIS;
    cu.count[0] = nd;
    cu.action[1] = GOALS_DEMO;
    cu.count[1] = demos;
    return cu;
}

/* Packs and unpacks c's command, as the broker would carry it. */
static Salespulse__V1__TaskCommand *wire(const goals_catchup_cmd *c)
{
    size_t n = salespulse__v1__task_command__get_packed_size(&c->cmd);
    uint8_t *buf = malloc(n);
    salespulse__v1__task_command__pack(&c->cmd, buf);
    Salespulse__V1__TaskCommand *out = salespulse__v1__task_command__unpack(NULL, n, buf);
    free(buf);
    assert_non_null(out);
    return out;
}

static void test_command_opens_a_task(void **state)
{
    (void)state;
    goals_catchup cu = item(3, 2);
    goals_catchup_cmd *c = malloc(sizeof *c);
    assert_int_equal(goals_catchup_command(&cu, GOAL, "2026-03", APR1, c), SP_OK);
    Salespulse__V1__TaskCommand *cmd = wire(c);
    assert_string_equal(cmd->task_key, "task:goal.catch_up:rep:R02:202603");
    assert_int_equal(cmd->op, SALESPULSE__V1__TASK_OP__TASK_OP_UPSERT);
    assert_int_equal(cmd->meta->occurred_at_ms, APR1);
    assert_int_equal(cmd->signal->subject->type, SALESPULSE__V1__SUBJECT_TYPE__SUBJECT_TYPE_REP);
    assert_string_equal(cmd->signal->subject->id, "R02");
    assert_int_equal(cmd->signal->evidence->n_numbers, 2);
    assert_string_equal(cmd->signal->evidence->numbers[0]->name, "needs_diagnosis");
    assert_true(cmd->signal->evidence->numbers[0]->value == 3.0);
    assert_string_equal(cmd->signal->evidence->numbers[1]->name, "demo");
    assert_string_equal(cmd->signal->explanation_zh,
        "2026-03 动作归因复盘:下月前置补足 3 次需求诊断、2 次演示(目标 " GOAL ")");
    assert_string_equal(cmd->signal->explanation_en,
        "2026-03 action-attribution review: front-load next month 3 needs_diagnosis, 2 demo (goal " GOAL ")");

    /* what sp-taskpool does with it: a new open L1 task for the rep, due in 14 days */
    task *row = calloc(2, sizeof *row);
    task_effect eff;
    task_noop_why why;
    task_event ev;
    assert_int_equal(task_apply_command(NULL, cmd, APR1, 0, &row[0], &eff, &why, &ev), SP_OK);
    assert_int_equal(eff, TASK_EFFECT_INSERT);
    assert_true(ev.emit);
    assert_string_equal(row[0].kind, "goal.catch_up");
    assert_string_equal(row[0].assignee_id, "R02");
    assert_string_equal(row[0].team_id, "T1");
    assert_int_equal(row[0].level, 1);
    assert_int_equal(row[0].status, TASK_OPEN);
    assert_int_equal(row[0].sla_s, 14 * 86400);
    assert_int_equal(row[0].created_ms, APR1);
    assert_int_equal(row[0].n_chain, 0);

    /* the same review again: the same command, dropped as a duplicate */
    goals_catchup_cmd *again = malloc(sizeof *again);
    assert_int_equal(goals_catchup_command(&cu, GOAL, "2026-03", APR1, again), SP_OK);
    assert_string_equal(again->event_id, c->event_id);
    Salespulse__V1__TaskCommand *cmd2 = wire(again);
    assert_int_equal(task_apply_command(&row[0], cmd2, APR1, 0, &row[1], &eff, &why, &ev), SP_OK);
    assert_int_equal(eff, TASK_EFFECT_NONE);
    assert_int_equal(why, TASK_NOOP_DUPLICATE);
    salespulse__v1__task_command__free_unpacked(cmd2, NULL);

    /* late activities changed the numbers: a new event id updates the open task, no second task */
    goals_catchup cu2 = item(2, 2);
    assert_int_equal(goals_catchup_command(&cu2, GOAL, "2026-03", APR1, again), SP_OK);
    assert_string_not_equal(again->event_id, c->event_id);
    cmd2 = wire(again);
    assert_int_equal(task_apply_command(&row[0], cmd2, APR1, 0, &row[1], &eff, &why, &ev), SP_OK);
    assert_int_equal(eff, TASK_EFFECT_UPDATE);
    assert_string_equal(row[1].key, row[0].key);
    salespulse__v1__task_command__free_unpacked(cmd2, NULL);

    /* another goal or month is another command */
    assert_int_equal(goals_catchup_command(&cu, "goal:x", "2026-03", APR1, again), SP_OK);
    assert_string_not_equal(again->event_id, c->event_id);
    assert_int_equal(goals_catchup_command(&cu, GOAL, "2026-04", APR1, again), SP_OK);
    assert_string_not_equal(again->event_id, c->event_id);

    salespulse__v1__task_command__free_unpacked(cmd, NULL);
    free(row);
    free(again);
    free(c);
}

static void test_bad_input(void **state)
{
    (void)state;
    goals_catchup_cmd *c = malloc(sizeof *c);
    goals_catchup cu = item(1, 1);
    assert_int_equal(goals_catchup_command(NULL, GOAL, "2026-03", APR1, c), SP_EINVAL);
    assert_int_equal(goals_catchup_command(&cu, "", "2026-03", APR1, c), SP_EINVAL);
    assert_int_equal(goals_catchup_command(&cu, GOAL, NULL, APR1, c), SP_EINVAL);
    cu.n = 0;
    assert_int_equal(goals_catchup_command(&cu, GOAL, "2026-03", APR1, c), SP_EINVAL);
    cu = item(1, 1);
    cu.rep_id[0] = '\0';
    assert_int_equal(goals_catchup_command(&cu, GOAL, "2026-03", APR1, c), SP_EINVAL);
    /* a very long goal id is cut on a code-point boundary: still valid UTF-8 */
    cu = item(1, 1);
    char *goal = malloc(2000);
    size_t n = 0;
    while (n + 3 < 1999) {
        memcpy(goal + n, "目", 3);
        n += 3;
    }
    goal[n] = '\0';
    assert_int_equal(goals_catchup_command(&cu, goal, "2026-03", APR1, c), SP_OK);
    assert_true(sp_utf8_valid(c->zh, strlen(c->zh), NULL));
    assert_true(sp_utf8_valid(c->en, strlen(c->en), NULL));
    assert_true(strlen(c->zh) < sizeof c->zh);
    free(goal);
    free(c);
}

/* The scheduled review of a month is due at 00:00 UTC of the next month's
 * first Monday-Friday date. */
static void test_review_due(void **state)
{
    (void)state;
    static const struct {
        const char *month;
        const char *due; /* YYYY-MM-DD, 00:00 UTC */
    } cases[] = {
        {"2026-03", "2026-04-01"}, /* a Wednesday */
        {"2026-04", "2026-05-01"}, /* a Friday */
        {"2026-07", "2026-08-03"}, /* Aug 1st is a Saturday */
        {"2026-02", "2026-03-02"}, /* Mar 1st is a Sunday */
        {"2026-12", "2027-01-01"}, /* over the year, a Friday */
        {"2027-04", "2027-05-03"}, /* May 1st 2027 is a Saturday */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t due = 0;
        assert_int_equal(goals_review_due_ms(cases[i].month, &due), SP_OK);
        int y, m, d;
        sscanf(cases[i].due, "%d-%d-%d", &y, &m, &d);
        struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d};
        assert_int_equal(due, (int64_t)timegm(&tm) * 1000);
    }
    assert_int_equal(goals_review_due_ms("2026-03", NULL), SP_EINVAL);
    static const char *const bad[] = {"2026-13", "2026-00", "26-03", "2026/03", "", "2026-3x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t due = 0;
        assert_int_equal(goals_review_due_ms(bad[i], &due), SP_EINVAL);
    }
    assert_int_equal(goals_review_due_ms(NULL, &(int64_t) {0}), SP_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_command_opens_a_task),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_review_due),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
