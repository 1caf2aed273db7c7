/* Task lifecycle: every (state, action) pair against the expected result,
 * 409 data with the current state, argument checks; the effect of task
 * commands (create, update evidence, resolve, replay, suppression). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "err.h"
#include "taskpool/task.h"

#include <stdio.h>
#include <string.h>

static const task_actor REP = {"P-R1", ACL_ROLE_REP};
static const task_actor SUP = {"P-S1", ACL_ROLE_SUPERVISOR};
static const task_actor SYS = {"system", ACL_ROLE_SYSTEM};

static void mk_task(task *t, task_status st)
{
    memset(t, 0, sizeof *t);
    snprintf(t->key, sizeof t->key, "task:customer.stale:customer:C1:1");
    snprintf(t->kind, sizeof t->kind, "customer.stale");
    snprintf(t->assignee_id, sizeof t->assignee_id, "P-R1");
    t->level = 1;
    t->status = st;
    t->created_ms = t->assigned_ms = 1000;
    snprintf(t->chain[0], sizeof t->chain[0], "P-M1");
    snprintf(t->chain[1], sizeof t->chain[1], "P-S1");
    t->n_chain = 2;
}

/* Expected result of each action from each state: the new state, or 0
 * for SP_ECONFLICT. Args are always valid here. */
static void test_transition_matrix(void **state)
{
    (void)state;
#define O TASK_OPEN
#define A TASK_ACKNOWLEDGED
#define I TASK_IN_PROGRESS
#define D TASK_DONE
#define X TASK_DISMISSED
#define R TASK_RESOLVED
    static const task_status from[] = {O, A, I, D, X, R};
    static const struct {
        task_action act;
        const task_actor *who;
        int to[6]; /* from O, A, I, D, X, R */
    } rows[] = {
        {TASK_ACT_ACK, &REP, {A, 0, 0, 0, 0, 0}},
        {TASK_ACT_START, &REP, {I, I, 0, 0, 0, 0}},
        {TASK_ACT_COMPLETE, &REP, {0, D, D, 0, 0, 0}},
        {TASK_ACT_DISMISS, &REP, {X, X, X, 0, 0, 0}},
        {TASK_ACT_REASSIGN, &SUP, {O, O, O, 0, 0, 0}},
        {TASK_ACT_SYSTEM_CLOSE, &SYS, {R, R, R, 0, 0, 0}},
        {TASK_ACT_ESCALATE, &SYS, {O, 0, 0, 0, 0, 0}},
    };
    const task_args args = {.outcome = "advanced",
        .note = "约了下周演示",
        .reason = "客户已另行采购",
        .to_id = "P-S1",
        .to_role = "supervisor",
        .escalation_level = 1};
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++)
        for (size_t f = 0; f < 6; f++) {
            task t, before;
            task_event ev;
            mk_task(&t, from[f]);
            before = t;
            int rv = task_transition(&t, rows[r].act, rows[r].who, &args, 5000, &ev);
            if (rows[r].to[f] == 0) {
                if (rv != SP_ECONFLICT)
                    fail_msg("%s from %s: rv %d, want conflict", task_action_name(rows[r].act),
                        task_status_name(from[f]), rv);
                assert_int_equal(ev.status, from[f]); /* the current state for the 409 */
                assert_non_null(ev.error);
                assert_false(ev.emit);
                assert_memory_equal(&t, &before, sizeof t);
            } else {
                if (rv != SP_OK || (int)t.status != rows[r].to[f])
                    fail_msg("%s from %s: rv %d status %s", task_action_name(rows[r].act),
                        task_status_name(from[f]), rv, task_status_name(t.status));
                assert_true(ev.emit);
                assert_int_equal(ev.previous_status, from[f]);
                assert_int_equal(ev.status, rows[r].to[f]);
                assert_int_equal(t.revision, before.revision + 1);
                assert_int_equal(t.updated_ms, 5000);
            }
        }
#undef O
#undef A
#undef I
#undef D
#undef X
#undef R
}

static void test_conflict_body(void **state)
{
    (void)state;
    task t;
    task_event ev;
    char body[200];
    mk_task(&t, TASK_OPEN);
    assert_int_equal(task_transition(&t, TASK_ACT_COMPLETE, &REP,
                         &(task_args) {.outcome = "advanced", .note = "x"}, 1, &ev),
        SP_ECONFLICT);
    assert_int_equal(task_conflict_body(&ev, body, sizeof body), SP_OK);
    assert_string_equal(body,
        "{\"error\":\"acknowledge or start the task before completing it\",\"current_status\":\"open\"}");
    mk_task(&t, TASK_DONE);
    assert_int_equal(task_transition(&t, TASK_ACT_ACK, &REP, NULL, 1, &ev), SP_ECONFLICT);
    assert_int_equal(task_conflict_body(&ev, body, sizeof body), SP_OK);
    assert_string_equal(body, "{\"error\":\"the task is already closed\",\"current_status\":\"done\"}");
    mk_task(&t, TASK_ACKNOWLEDGED);
    assert_int_equal(task_transition(&t, TASK_ACT_ACK, &REP, NULL, 1, &ev), SP_ECONFLICT);
    assert_int_equal(task_conflict_body(&ev, body, sizeof body), SP_OK);
    assert_non_null(strstr(body, "\"current_status\":\"acknowledged\""));
    assert_int_equal(task_conflict_body(&ev, body, 10), SP_ETOOBIG);
}

static void test_arguments(void **state)
{
    (void)state;
    task t;
    task_event ev;
    mk_task(&t, TASK_IN_PROGRESS);
    assert_int_equal(
        task_transition(&t, TASK_ACT_COMPLETE, &REP, &(task_args) {.note = "x"}, 1, &ev), SP_EINVAL);
    assert_string_equal(ev.field, "outcome");
    assert_int_equal(
        task_transition(&t, TASK_ACT_COMPLETE, &REP, &(task_args) {.outcome = "Won!", .note = "x"}, 1, &ev),
        SP_EINVAL);
    assert_int_equal(
        task_transition(&t, TASK_ACT_COMPLETE, &REP, &(task_args) {.outcome = "won"}, 1, &ev), SP_EINVAL);
    assert_string_equal(ev.field, "note");
    assert_int_equal(task_transition(&t, TASK_ACT_DISMISS, &REP, NULL, 1, &ev), SP_EINVAL);
    assert_string_equal(ev.field, "reason");
    static char longnote[SP_TASK_NOTE_MAX + 10];
    memset(longnote, 'n', sizeof longnote - 1);
    assert_int_equal(task_transition(&t, TASK_ACT_COMPLETE, &REP,
                         &(task_args) {.outcome = "won", .note = longnote}, 1, &ev),
        SP_ETOOBIG);
    assert_int_equal(t.status, TASK_IN_PROGRESS);
    /* a rep may not reassign; a supervisor must name someone */
    assert_int_equal(
        task_transition(&t, TASK_ACT_REASSIGN, &REP, &(task_args) {.to_id = "P-R2"}, 1, &ev), SP_EFORBIDDEN);
    assert_int_equal(task_transition(&t, TASK_ACT_REASSIGN, &SUP, NULL, 1, &ev), SP_EINVAL);
    assert_string_equal(ev.field, "to_id");
    assert_int_equal(
        task_transition(&t, TASK_ACT_ACK, &(task_actor) {NULL, ACL_ROLE_REP}, NULL, 1, &ev), SP_EINVAL);
    assert_int_equal(task_transition(&t, (task_action)99, &REP, NULL, 1, &ev), SP_EINVAL);
    assert_int_equal(t.status, TASK_IN_PROGRESS);
    assert_int_equal(t.revision, 0);

    /* complete stores outcome and note */
    assert_int_equal(task_transition(&t, TASK_ACT_COMPLETE, &REP,
                         &(task_args) {.outcome = "advanced", .note = "已约演示"}, 77, &ev),
        SP_OK);
    assert_string_equal(t.outcome, "advanced");
    assert_string_equal(t.note, "已约演示");
    assert_int_equal(t.closed_ms, 77);
}

static void test_reassign_and_escalate(void **state)
{
    (void)state;
    task t;
    task_event ev;
    mk_task(&t, TASK_ACKNOWLEDGED);
    t.acked_ms = 2000;
    t.escalation_level = 1;
    const char *chain[] = {"P-D1"};
    assert_int_equal(
        task_transition(&t, TASK_ACT_REASSIGN, &SUP,
            &(task_args) {.to_id = "P-R2", .to_role = "owner_rep", .chain = chain, .n_chain = 1}, 9000, &ev),
        SP_OK);
    assert_string_equal(t.assignee_id, "P-R2");
    assert_int_equal(t.status, TASK_OPEN);
    assert_int_equal(t.acked_ms, 0);
    assert_int_equal(t.assigned_ms, 9000);
    assert_int_equal(t.escalation_level, 0);
    assert_int_equal(t.n_chain, 1);
    assert_string_equal(t.chain[0], "P-D1");

    mk_task(&t, TASK_OPEN);
    assert_int_equal(
        task_transition(&t, TASK_ACT_ESCALATE, &SYS,
            &(task_args) {.to_id = "P-M1", .to_role = "mentor", .escalation_level = 1}, 4000, &ev),
        SP_OK);
    assert_string_equal(t.assignee_id, "P-M1");
    assert_int_equal(t.escalation_level, 1);
    assert_int_equal(t.assigned_ms, 4000);
    /* never twice for the same level */
    assert_int_equal(task_transition(&t, TASK_ACT_ESCALATE, &SYS,
                         &(task_args) {.to_id = "P-S1", .escalation_level = 1}, 5000, &ev),
        SP_EINVAL);
    assert_string_equal(ev.field, "escalation_level");
}

/* --- task commands ---------------------------------------------------- */

typedef struct cmdbuf {
    Salespulse__V1__TaskCommand c;
    Salespulse__V1__EventMeta m;
    Salespulse__V1__Signal s;
    char *chain[2];
} cmdbuf;

static void mk_cmd(
    cmdbuf *b, Salespulse__V1__TaskOp op, const char *event_id, int64_t at, int level, const char *assignee)
{
    memset(b, 0, sizeof *b);
    salespulse__v1__task_command__init(&b->c);
    salespulse__v1__event_meta__init(&b->m);
    salespulse__v1__signal__init(&b->s);
    b->m.event_id = (char *)event_id;
    b->m.occurred_at_ms = at;
    b->s.kind = "customer.stale";
    b->s.level = (Salespulse__V1__Level)level;
    b->s.team_id = "T-SH";
    b->s.region_id = "R-EAST";
    b->c.meta = &b->m;
    b->c.task_key = "task:customer.stale:customer:C1:1";
    b->c.op = op;
    b->c.signal = &b->s;
    b->c.assignee_id = (char *)assignee;
    b->c.assignee_role = "owner_rep";
    b->c.sla_s = level == 2 ? 28800 : 86400;
    b->chain[0] = "P-M1";
    b->chain[1] = "P-S1";
    b->c.chain = b->chain;
    b->c.n_chain = 2;
}

#define UPSERT SALESPULSE__V1__TASK_OP__TASK_OP_UPSERT
#define CLOSE  SALESPULSE__V1__TASK_OP__TASK_OP_CLOSE

static void test_apply_lifecycle(void **state)
{
    (void)state;
    cmdbuf b;
    task row, next;
    task_effect eff;
    task_noop_why why;
    task_event ev;

    /* new key: insert an open task */
    mk_cmd(&b, UPSERT, "cmd:e1", 1000, 1, "P-R1");
    assert_int_equal(task_apply_command(NULL, &b.c, 5, 0, &row, &eff, &why, &ev), SP_OK);
    assert_int_equal(eff, TASK_EFFECT_INSERT);
    assert_int_equal(row.status, TASK_OPEN);
    assert_string_equal(row.assignee_id, "P-R1");
    assert_string_equal(row.team_id, "T-SH");
    assert_int_equal(row.created_ms, 1000);
    assert_int_equal(row.assigned_ms, 1000);
    assert_int_equal(row.sla_s, 86400);
    assert_int_equal(row.n_chain, 2);
    assert_true(ev.emit);
    assert_int_equal(ev.status, TASK_OPEN);

    /* the same command replayed: nothing */
    assert_int_equal(task_apply_command(&row, &b.c, 6, 0, &next, &eff, &why, &ev), SP_OK);
    assert_int_equal(eff, TASK_EFFECT_NONE);
    assert_int_equal(why, TASK_NOOP_DUPLICATE);
    assert_false(ev.emit);

    /* a repeat (UPDATED) on the open task: update, no new task, no event */
    mk_cmd(&b, UPSERT, "cmd:e2", 2000, 1, "P-R1");
    assert_int_equal(task_apply_command(&row, &b.c, 7, 0, &next, &eff, &why, &ev), SP_OK);
    assert_int_equal(eff, TASK_EFFECT_UPDATE);
    assert_false(ev.emit);
    assert_int_equal(next.created_ms, 1000);
    assert_string_equal(next.last_cmd_event_id, "cmd:e2");
    row = next;

    /* an older command redelivered after a newer one: stale */
    mk_cmd(&b, UPSERT, "cmd:e0", 500, 1, "P-R1");
    assert_int_equal(task_apply_command(&row, &b.c, 8, 0, &next, &eff, &why, &ev), SP_OK);
    assert_int_equal(why, TASK_NOOP_STALE);

    /* the level rose and routing picked someone else: re-routed, with an event */
    mk_cmd(&b, UPSERT, "cmd:e3", 3000, 2, "P-S1");
    row.status = TASK_ACKNOWLEDGED;
    row.acked_ms = 2500;
    assert_int_equal(task_apply_command(&row, &b.c, 9, 0, &next, &eff, &why, &ev), SP_OK);
    assert_int_equal(eff, TASK_EFFECT_UPDATE);
    assert_true(ev.emit);
    assert_string_equal(next.assignee_id, "P-S1");
    assert_int_equal(next.status, TASK_OPEN);
    assert_int_equal(next.level, 2);
    assert_int_equal(next.assigned_ms, 3000);
    row = next;

    /* CLOSE resolves the open task */
    mk_cmd(&b, CLOSE, "cmd:e4", 4000, 2, NULL);
    assert_int_equal(task_apply_command(&row, &b.c, 10, 0, &next, &eff, &why, &ev), SP_OK);
    assert_int_equal(eff, TASK_EFFECT_RESOLVE);
    assert_int_equal(next.status, TASK_RESOLVED);
    assert_int_equal(ev.previous_status, TASK_OPEN);
    assert_true(ev.emit);
    row = next;
    /* ... and again: nothing */
    mk_cmd(&b, CLOSE, "cmd:e5", 4100, 2, NULL);
    assert_int_equal(task_apply_command(&row, &b.c, 11, 0, &next, &eff, &why, &ev), SP_OK);
    assert_int_equal(why, TASK_NOOP_CLOSED);

    /* CLOSE for a task never opened */
    assert_int_equal(task_apply_command(NULL, &b.c, 11, 0, &next, &eff, &why, &ev), SP_OK);
    assert_int_equal(why, TASK_NOOP_UNKNOWN);
}

/* A dismissed (kind, subject) is suppressed for the window, then reopens. */
static void test_apply_suppression(void **state)
{
    (void)state;
    const int64_t day = 86400000LL, t0 = 1773000000000LL;
    cmdbuf b;
    task row, next;
    task_effect eff;
    task_noop_why why;
    task_event ev;
    int64_t until = t0 + 7 * day;

    /* a new episode (new key) inside the window: not created */
    mk_cmd(&b, UPSERT, "cmd:n1", t0 + 3 * day, 1, "P-R1");
    assert_int_equal(task_apply_command(NULL, &b.c, 0, until, &row, &eff, &why, &ev), SP_OK);
    assert_int_equal(why, TASK_NOOP_SUPPRESSED);
    mk_cmd(&b, UPSERT, "cmd:n2", until, 1, "P-R1");
    assert_int_equal(task_apply_command(NULL, &b.c, 0, until, &row, &eff, &why, &ev), SP_OK);
    assert_int_equal(eff, TASK_EFFECT_INSERT);

    /* the same key dismissed: an update inside the window is ignored... */
    task_event tev;
    mk_cmd(&b, UPSERT, "cmd:n0", t0 - day, 1, "P-R1");
    assert_int_equal(task_apply_command(NULL, &b.c, 0, 0, &row, &eff, &why, &ev), SP_OK);
    assert_int_equal(eff, TASK_EFFECT_INSERT);
    assert_int_equal(
        task_transition(&row, TASK_ACT_DISMISS, &REP, &(task_args) {.reason = "客户已另行采购"}, t0, &tev),
        SP_OK);
    mk_cmd(&b, UPSERT, "cmd:n3", t0 + day, 1, "P-R1");
    assert_int_equal(task_apply_command(&row, &b.c, 0, until, &next, &eff, &why, &ev), SP_OK);
    assert_int_equal(why, TASK_NOOP_SUPPRESSED);
    /* ... and after it the task reopens */
    mk_cmd(&b, UPSERT, "cmd:n4", until + 1, 1, "P-R1");
    assert_int_equal(task_apply_command(&row, &b.c, 0, until, &next, &eff, &why, &ev), SP_OK);
    assert_int_equal(eff, TASK_EFFECT_REOPEN);
    assert_int_equal(next.status, TASK_OPEN);
    assert_string_equal(next.note, "");
    assert_int_equal(ev.previous_status, TASK_DISMISSED);

    /* a done task stays done */
    row.status = TASK_DONE;
    assert_int_equal(task_apply_command(&row, &b.c, 0, 0, &next, &eff, &why, &ev), SP_OK);
    assert_int_equal(why, TASK_NOOP_CLOSED);
}

static void test_apply_invalid(void **state)
{
    (void)state;
    cmdbuf b;
    task row;
    task_effect eff;
    task_noop_why why;
    task_event ev;
    mk_cmd(&b, UPSERT, "", 1, 1, "P-R1");
    assert_int_equal(task_apply_command(NULL, &b.c, 0, 0, &row, &eff, &why, &ev), SP_EINVAL);
    mk_cmd(&b, UPSERT, "e", 1, 1, NULL);
    assert_int_equal(task_apply_command(NULL, &b.c, 0, 0, &row, &eff, &why, &ev), SP_EINVAL);
    mk_cmd(&b, 0, "e", 1, 1, "P-R1");
    assert_int_equal(task_apply_command(NULL, &b.c, 0, 0, &row, &eff, &why, &ev), SP_EINVAL);
    mk_cmd(&b, UPSERT, "e", 1, 1, "P-R1");
    b.c.signal = NULL;
    assert_int_equal(task_apply_command(NULL, &b.c, 0, 0, &row, &eff, &why, &ev), SP_EINVAL);
    assert_int_equal(task_apply_command(NULL, NULL, 0, 0, &row, &eff, &why, &ev), SP_EINVAL);
    static char longkey[400];
    memset(longkey, 'k', sizeof longkey - 1);
    mk_cmd(&b, UPSERT, "e", 1, 1, "P-R1");
    b.c.task_key = longkey;
    assert_int_equal(task_apply_command(NULL, &b.c, 0, 0, &row, &eff, &why, &ev), SP_ETOOBIG);
}

static void test_event_fill(void **state)
{
    (void)state;
    task t;
    task_event ev;
    Salespulse__V1__TaskEvent pb;
    Salespulse__V1__EventMeta meta;
    char id[300];
    mk_task(&t, TASK_OPEN);
    assert_int_equal(task_transition(&t, TASK_ACT_ACK, &REP, NULL, 4242, &ev), SP_OK);
    assert_int_equal(task_event_fill(&t, &ev, &pb, &meta, id, sizeof id), SP_OK);
    assert_string_equal(pb.meta->event_id, "tev:task:customer.stale:customer:C1:1:1");
    assert_int_equal(pb.status, SALESPULSE__V1__TASK_STATUS__TASK_STATUS_ACKNOWLEDGED);
    assert_int_equal(pb.previous_status, SALESPULSE__V1__TASK_STATUS__TASK_STATUS_OPEN);
    assert_string_equal(pb.actor_id, "P-R1");
    assert_int_equal(pb.meta->occurred_at_ms, 4242);
    assert_string_equal(pb.kind, "customer.stale");
    task_status s;
    assert_int_equal(task_status_parse("in_progress", &s), SP_OK);
    assert_int_equal(s, TASK_IN_PROGRESS);
    assert_int_equal(task_status_parse("closed", &s), SP_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transition_matrix),
        cmocka_unit_test(test_conflict_body),
        cmocka_unit_test(test_arguments),
        cmocka_unit_test(test_reassign_and_escalate),
        cmocka_unit_test(test_apply_lifecycle),
        cmocka_unit_test(test_apply_suppression),
        cmocka_unit_test(test_apply_invalid),
        cmocka_unit_test(test_event_fill),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
