/* sp-taskpool's consumer batch (taskpool_svc_batch) on a real PostgreSQL
 * and Kafka, without a consumer: the batch path that reads every task at
 * once and pipelines the writes must decide exactly as the message-by-
 * message path. A batch with two commands for one key (the second updates
 * the task the first opened), a replayed command (no change), an
 * undecodable message and one without meta (dead, the rest applied); then
 * a batch where one command's write fails in PostgreSQL (invalid UTF-8):
 * the batch is redone message by message, only that command is dead. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "bus.h"
#include "clock.h"
#include "db.h"
#include "err.h"
#include "itest.h"
#include "salespulse/v1/task.pb-c.h"
#include "taskpool/taskpool_svc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 1772611200000LL /* 2026-03-04T08:00Z */

static char P[32];

/* A packed UPSERT command for key P:name at event time at; caller frees. */
static uint8_t *cmd(const char *name, const char *event, int64_t at, const char *reason, size_t *len)
{
    char key[96], eid[96], subj[64];
    snprintf(key, sizeof key, "task:deal.stalled:deal:%s-%s:1", P, name);
    snprintf(eid, sizeof eid, "%s-%s", P, event);
    snprintf(subj, sizeof subj, "%s-%s", P, name);
    Salespulse__V1__TaskCommand c;
    Salespulse__V1__EventMeta m;
    Salespulse__V1__Signal s;
    Salespulse__V1__Subject sb;
    salespulse__v1__task_command__init(&c);
    salespulse__v1__event_meta__init(&m);
    salespulse__v1__signal__init(&s);
    salespulse__v1__subject__init(&sb);
    m.event_id = eid;
    m.occurred_at_ms = at;
    sb.type = SALESPULSE__V1__SUBJECT_TYPE__SUBJECT_TYPE_DEAL;
    sb.id = subj;
    s.kind = "deal.stalled";
    s.level = SALESPULSE__V1__LEVEL__LEVEL_L2;
    s.subject = &sb;
    s.explanation_en = (char *)event;
    c.meta = &m;
    c.task_key = key;
    c.op = SALESPULSE__V1__TASK_OP__TASK_OP_UPSERT;
    c.signal = &s;
    c.assignee_id = "it-batch-rep";
    c.assignee_role = "owner_rep";
    c.route_reason_en = (char *)reason;
    c.sla_s = 28800;
    *len = salespulse__v1__task_command__get_packed_size(&c);
    uint8_t *buf = malloc(*len);
    salespulse__v1__task_command__pack(&c, buf);
    return buf;
}

/* The single integer of a query about the tasks of P-name; the SQL uses
 * {} where the task key's subject goes. */
static long long q(const char *sql, const char *name)
{
    char out[512], subj[64];
    snprintf(subj, sizeof subj, "%s-%s", P, name);
    const char *at = strstr(sql, "{}");
    SP_ASSERT(at != NULL);
    snprintf(out, sizeof out, "%.*s%s%s", (int)(at - sql), sql, subj, at + 2);
    return itest_sql_int(out);
}

static void test_batch(void **state)
{
    (void)state;
    snprintf(P, sizeof P, "tb%d", (int)getpid());
    sp_db *db = NULL;
    assert_int_equal(sp_db_open(itest_env("SP_PG_URL"), &db), SP_OK);
    char err[256];
    bus_producer *prod = NULL;
    assert_int_equal(bus_producer_new(itest_env("SP_KAFKA_BOOTSTRAP"), "itest-batch", &prod, err, sizeof err), SP_OK);
    char *topic = itest_unique("itest-taskevents");
    const char *topics[] = {topic, NULL};
    assert_int_equal(itest_topics(topics, 1), 0);
    sp_clock *clock = NULL;
    assert_int_equal(sp_clock_new(SP_CLOCK_EVENT, 300, &clock), SP_OK);
    taskpool_svc ts = {.producer = prod, .clock = clock, .events_topic = topic, .suppress_ms = 7 * 86400000LL,
        .sweep_every_ms = 600000};
    ts.sla.sla_s[1] = 86400, ts.sla.sla_s[2] = 28800, ts.sla.sla_s[3] = 7200;

    size_t len[5];
    uint8_t *b[5];
    b[0] = cmd("a", "e1", T0, "first", &len[0]);
    b[1] = cmd("a", "e2", T0 + 60000, "again", &len[1]); /* same key: updates the task e1 opened */
    b[2] = (uint8_t *)strdup("\x0a\xff\xff not a command");
    len[2] = strlen((char *)b[2]);
    Salespulse__V1__TaskCommand nometa;
    salespulse__v1__task_command__init(&nometa);
    nometa.task_key = "task:x:deal:y:1";
    len[3] = salespulse__v1__task_command__get_packed_size(&nometa);
    b[3] = malloc(len[3]);
    salespulse__v1__task_command__pack(&nometa, b[3]);
    b[4] = cmd("b", "e3", T0 + 1000, "other", &len[4]);
    bus_msg m[5];
    for (int i = 0; i < 5; i++)
        m[i] = (bus_msg) {.topic = "t", .partition = 0, .offset = i, .payload = b[i], .len = len[i]};
    bus_result res[5];
    char reasons[5][BUS_REASON_LEN];
    taskpool_svc_batch(&ts, db, m, 5, res, reasons);
    assert_int_equal(res[0], BUS_OK);
    assert_int_equal(res[1], BUS_OK);
    assert_int_equal(res[2], BUS_DEAD);
    assert_non_null(strstr(reasons[2], "undecodable"));
    assert_int_equal(res[3], BUS_DEAD);
    assert_non_null(strstr(reasons[3], "meta"));
    assert_int_equal(res[4], BUS_OK);
    assert_int_equal(q("SELECT count(*) FROM tasks WHERE key = 'task:deal.stalled:deal:{}:1' AND status = 'open' "
                       "AND explanation_en = 'e2' AND last_cmd_event_id LIKE '%e2'",
                         "a"),
        1);
    long long rev_a = q("SELECT revision FROM tasks WHERE key = 'task:deal.stalled:deal:{}:1'", "a");
    long long hist_a = q("SELECT count(*) FROM task_history WHERE task_key = 'task:deal.stalled:deal:{}:1'", "a");
    assert_true(hist_a >= 1);
    assert_int_equal(q("SELECT count(*) FROM tasks WHERE key = 'task:deal.stalled:deal:{}:1'", "b"), 1);

    /* the same batch again: no second task, no new history; the task is
     * where the message-by-message path leaves it (e2 last) */
    taskpool_svc_batch(&ts, db, m, 5, res, reasons);
    assert_int_equal(res[0], BUS_OK);
    assert_int_equal(res[4], BUS_OK);
    assert_true(q("SELECT revision FROM tasks WHERE key = 'task:deal.stalled:deal:{}:1'", "a") >= rev_a);
    assert_int_equal(q("SELECT count(*) FROM tasks WHERE key = 'task:deal.stalled:deal:{}:1' AND "
                       "last_cmd_event_id LIKE '%e2'",
                         "a"),
        1);
    assert_int_equal(
        q("SELECT count(*) FROM task_history WHERE task_key = 'task:deal.stalled:deal:{}:1'", "a"), hist_a);
    assert_int_equal(q("SELECT count(*) FROM tasks WHERE key LIKE 'task:deal.stalled:deal:{}'", "_:1"), 2);

    /* a write PostgreSQL refuses (invalid UTF-8): redone one by one, only it is dead */
    size_t l2[3];
    uint8_t *c2[3];
    c2[0] = cmd("c", "e4", T0 + 2000, "fine", &l2[0]);
    c2[1] = cmd("d", "e5", T0 + 3000, "bad \xff\xfe utf-8", &l2[1]);
    c2[2] = cmd("e", "e6", T0 + 4000, "fine too", &l2[2]);
    bus_msg m2[3];
    for (int i = 0; i < 3; i++)
        m2[i] = (bus_msg) {.topic = "t", .partition = 0, .offset = 10 + i, .payload = c2[i], .len = l2[i]};
    taskpool_svc_batch(&ts, db, m2, 3, res, reasons);
    assert_int_equal(res[0], BUS_OK);
    assert_int_equal(res[1], BUS_DEAD);
    assert_non_null(strstr(reasons[1], "database"));
    assert_int_equal(res[2], BUS_OK);
    assert_int_equal(q("SELECT count(*) FROM tasks WHERE key = 'task:deal.stalled:deal:{}:1'", "c"), 1);
    assert_int_equal(q("SELECT count(*) FROM tasks WHERE key = 'task:deal.stalled:deal:{}:1'", "d"), 0);
    assert_int_equal(q("SELECT count(*) FROM tasks WHERE key = 'task:deal.stalled:deal:{}:1'", "e"), 1);
    /* and the connection still works for the fast path afterwards */
    size_t l3;
    uint8_t *c3 = cmd("f", "e7", T0 + 5000, "after", &l3);
    bus_msg m3 = {.topic = "t", .partition = 0, .offset = 20, .payload = c3, .len = l3};
    taskpool_svc_batch(&ts, db, &m3, 1, res, reasons);
    assert_int_equal(res[0], BUS_OK);
    assert_int_equal(q("SELECT count(*) FROM tasks WHERE key = 'task:deal.stalled:deal:{}:1'", "f"), 1);

    for (int i = 0; i < 5; i++)
        free(b[i]);
    for (int i = 0; i < 3; i++)
        free(c2[i]);
    free(c3);
    free(topic);
    sp_clock_destroy(clock);
    bus_producer_destroy(prod);
    sp_db_destroy(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
