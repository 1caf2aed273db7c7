/* sp-taskpool's consumer batch (taskpool_svc_batch) on a real PostgreSQL
 * and Kafka, without a consumer: the batch path that reads every task at
 * once and pipelines the writes must decide exactly as the message-by-
 * message path. A batch with two commands for one key (the second updates
 * the task the first opened), a replayed command (no change), an
 * undecodable message and one without meta (dead, the rest applied); then
 * a batch where one command's write fails in PostgreSQL (invalid UTF-8):
 * the batch is redone message by message, only that command is dead.
 * Then the whole path with the real sp-taskpool: a TaskCommand produced to
 * Kafka reaches a WebSocket client of its assignee within a second. */
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
#include "taskpool/token.h"
#include "taskpool/taskpool_svc.h"
#include "watermark.h"

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 1772611200000LL /* 2026-03-04T08:00Z */

static char P[32];

/* A packed UPSERT command for key P:name at event time at; caller frees. */
static const char *assignee = "it-batch-rep";

/* Options of cmd_ex beyond cmd's: the op, sp-route's promise, an escalation chain. */
typedef struct cmd_opts {
    Salespulse__V1__TaskOp op; /* 0: UPSERT */
    int64_t upstream; /* upstream_watermark_ms */
    const char *chain; /* one person, or NULL */
} cmd_opts;

static uint8_t *cmd_ex(
    const char *name, const char *event, int64_t at, const char *reason, const cmd_opts *o, size_t *len);

static uint8_t *cmd(const char *name, const char *event, int64_t at, const char *reason, size_t *len)
{
    return cmd_ex(name, event, at, reason, NULL, len);
}

static uint8_t *cmd_ex(
    const char *name, const char *event, int64_t at, const char *reason, const cmd_opts *o, size_t *len)
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
    c.assignee_id = (char *)assignee;
    c.assignee_role = "owner_rep";
    c.route_reason_en = (char *)reason;
    c.sla_s = 28800;
    char *chain[1] = {o && o->chain ? (char *)o->chain : NULL};
    if (o) {
        if (o->op) c.op = o->op;
        c.upstream_watermark_ms = o->upstream;
        c.n_chain = o->chain ? 1 : 0;
        c.chain = chain;
    }
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

/* The batch tests' sp-taskpool: a database connection, a producer, a
 * fresh TaskEvent topic, an event clock; SLA 24 h / 8 h / 2 h. */
typedef struct batch_fx {
    sp_db *db;
    bus_producer *prod;
    char *topic;
    sp_clock *clock;
    taskpool_svc ts;
} batch_fx;

static void fx_open(batch_fx *f)
{
    memset(f, 0, sizeof *f);
    assert_int_equal(sp_db_open(itest_env("SP_PG_URL"), &f->db), SP_OK);
    char err[256];
    assert_int_equal(
        bus_producer_new(itest_env("SP_KAFKA_BOOTSTRAP"), "itest-batch", &f->prod, err, sizeof err), SP_OK);
    f->topic = itest_unique("itest-taskevents");
    const char *topics[] = {f->topic, NULL};
    assert_int_equal(itest_topics(topics, 1), 0);
    assert_int_equal(sp_clock_new(SP_CLOCK_EVENT, 300, &f->clock), SP_OK);
    f->ts = (taskpool_svc) {.producer = f->prod,
        .clock = f->clock,
        .events_topic = f->topic,
        .suppress_ms = 7 * 86400000LL,
        .sweep_every_ms = 600000};
    f->ts.sla.sla_s[1] = 86400, f->ts.sla.sla_s[2] = 28800, f->ts.sla.sla_s[3] = 7200;
}

static void fx_close(batch_fx *f)
{
    taskpool_svc_clear(&f->ts);
    free(f->topic);
    sp_clock_destroy(f->clock);
    bus_producer_destroy(f->prod);
    sp_db_destroy(f->db);
}

static void test_batch(void **state)
{
    (void)state;
    snprintf(P, sizeof P, "tb%d", (int)getpid());
    batch_fx f;
    fx_open(&f);
    sp_db *db = f.db;
    taskpool_svc *ts = &f.ts;

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
    taskpool_svc_batch(ts, db, m, 5, res, reasons);
    assert_int_equal(res[0], BUS_OK);
    assert_int_equal(res[1], BUS_OK);
    assert_int_equal(res[2], BUS_DEAD);
    assert_non_null(strstr(reasons[2], "undecodable"));
    assert_int_equal(res[3], BUS_DEAD);
    assert_non_null(strstr(reasons[3], "meta"));
    assert_int_equal(res[4], BUS_OK);
    assert_int_equal(
        q("SELECT count(*) FROM tasks WHERE key = 'task:deal.stalled:deal:{}:1' AND status = 'open' "
          "AND explanation_en = 'e2' AND last_cmd_event_id LIKE '%e2'",
            "a"),
        1);
    long long rev_a = q("SELECT revision FROM tasks WHERE key = 'task:deal.stalled:deal:{}:1'", "a");
    long long hist_a
        = q("SELECT count(*) FROM task_history WHERE task_key = 'task:deal.stalled:deal:{}:1'", "a");
    assert_true(hist_a >= 1);
    assert_int_equal(q("SELECT count(*) FROM tasks WHERE key = 'task:deal.stalled:deal:{}:1'", "b"), 1);

    /* the same batch again changes nothing: e2 is the last applied, e1 is
     * older (stale, 0011's last_cmd_at), no second task, no new history */
    taskpool_svc_batch(ts, db, m, 5, res, reasons);
    assert_int_equal(res[0], BUS_OK);
    assert_int_equal(res[4], BUS_OK);
    assert_int_equal(q("SELECT revision FROM tasks WHERE key = 'task:deal.stalled:deal:{}:1'", "a"), rev_a);
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
    taskpool_svc_batch(ts, db, m2, 3, res, reasons);
    assert_int_equal(res[0], BUS_OK);
    assert_int_equal(res[1], BUS_DEAD);
    assert_non_null(strstr(reasons[1], "database"));
    assert_int_equal(res[2], BUS_OK);
    assert_int_equal(q("SELECT count(*) FROM tasks WHERE key = 'task:deal.stalled:deal:{}:1'", "c"), 1);
    assert_int_equal(q("SELECT count(*) FROM tasks WHERE key = 'task:deal.stalled:deal:{}:1'", "d"), 0);
    assert_int_equal(q("SELECT count(*) FROM tasks WHERE key = 'task:deal.stalled:deal:{}:1'", "e"), 1);
    /* the failed pass published nothing: no TaskEvent reports the task
     * that was never written (the pipelined pass used to send its events
     * before PostgreSQL had answered its writes); c's and e's are there */
    assert_int_equal(itest_sh("test \"$(kcat -b %s -C -t %s -e -q -f '%%k\\n' | grep -c ':%s-d:')\" = 0",
                         itest_env("SP_KAFKA_BOOTSTRAP"), f.topic, P),
        0);
    assert_int_equal(itest_sh("test \"$(kcat -b %s -C -t %s -e -q -f '%%k\\n' | grep -c ':%s-[ce]:')\" -ge 2",
                         itest_env("SP_KAFKA_BOOTSTRAP"), f.topic, P),
        0);
    /* and the connection still works for the fast path afterwards */
    size_t l3;
    uint8_t *c3 = cmd("f", "e7", T0 + 5000, "after", &l3);
    bus_msg m3 = {.topic = "t", .partition = 0, .offset = 20, .payload = c3, .len = l3};
    taskpool_svc_batch(ts, db, &m3, 1, res, reasons);
    assert_int_equal(res[0], BUS_OK);
    assert_int_equal(q("SELECT count(*) FROM tasks WHERE key = 'task:deal.stalled:deal:{}:1'", "f"), 1);

    for (int i = 0; i < 5; i++)
        free(b[i]);
    for (int i = 0; i < 3; i++)
        free(c2[i]);
    free(c3);
    fx_close(&f);
}

/* Escalations in event time, whatever the batching and arrival order:
 * (1) a task opened and closed 10 h later (SLA 8 h) in one batch escalated
 * at its deadline before the close; one closed exactly at its deadline did
 * not; (2) the SLA clock follows sp-route's promise, not the commands'
 * times: a command dated 20 h later that promises only T0 does not let a
 * late-arriving close (dated 5 h) find its task escalated; sp-route's
 * heartbeat (a command with no task key) moves the clock and is no dead
 * letter. Without either the task ends at level 1. */
static void test_escalation_in_event_time(void **state)
{
    (void)state;
    snprintf(P, sizeof P, "te%d", (int)getpid());
    assignee = "it-batch-rep";
    batch_fx f;
    fx_open(&f);
    sp_db *db = f.db;
    sp_clock *clock = f.clock;
    taskpool_svc *ts = &f.ts;
    const int64_t H = 3600000;
    const Salespulse__V1__TaskOp CLOSE = SALESPULSE__V1__TASK_OP__TASK_OP_CLOSE;
    bus_result res[4];
    char reasons[4][BUS_REASON_LEN];
    uint8_t *b[4];
    size_t len[4];
    bus_msg m[4];
#define BATCH(N)                                                                                             \
    do {                                                                                                     \
        for (int i = 0; i < (N); i++)                                                                        \
            m[i] = (bus_msg) {.topic = "t", .partition = 0, .offset = i, .payload = b[i], .len = len[i]};    \
        taskpool_svc_batch(ts, db, m, (N), res, reasons);                                                    \
        for (int i = 0; i < (N); i++) {                                                                      \
            assert_int_equal(res[i], BUS_OK);                                                                \
            free(b[i]);                                                                                      \
        }                                                                                                    \
    } while (0)
    /* (1) one batch each; the promise (1) keeps the sweep out of it */
    b[0] = cmd_ex("a", "a1", T0, "open", &(cmd_opts) {0, 1, "it-batch-sup"}, &len[0]);
    b[1] = cmd_ex("a", "a2", T0 + 10 * H, "close", &(cmd_opts) {CLOSE, 1, "it-batch-sup"}, &len[1]);
    b[2] = cmd_ex("b", "b1", T0, "open", &(cmd_opts) {0, 1, "it-batch-sup"}, &len[2]);
    b[3] = cmd_ex("b", "b2", T0 + 8 * H, "close", &(cmd_opts) {CLOSE, 1, "it-batch-sup"}, &len[3]);
    BATCH(4);
    assert_int_equal(q("SELECT escalation_level FROM tasks WHERE key = 'task:deal.stalled:deal:{}:1' AND "
                       "status = 'resolved' AND assignee_id = 'it-batch-sup'",
                         "a"),
        1);
    assert_int_equal(q("SELECT count(*) FROM task_history WHERE task_key = 'task:deal.stalled:deal:{}:1' AND "
                       "action = 'escalate' AND at = to_timestamp(1772640000)", /* T0 + 8 h */
                         "a"),
        1);
    assert_int_equal(q("SELECT escalation_level FROM tasks WHERE key = 'task:deal.stalled:deal:{}:1' AND "
                       "status = 'resolved'",
                         "b"),
        0);
    /* (2) c opened; d, dated 20 h later, still promises only T0 */
    b[0] = cmd_ex("c", "c1", T0, "open", &(cmd_opts) {0, T0, "it-batch-sup"}, &len[0]);
    b[1] = cmd_ex("d", "d1", T0 + 20 * H, "open", &(cmd_opts) {0, T0, "it-batch-sup"}, &len[1]);
    BATCH(2);
    assert_int_equal(sp_clock_now_ms(clock), T0);
    b[0] = cmd_ex("c", "c2", T0 + 5 * H, "close", &(cmd_opts) {CLOSE, T0, "it-batch-sup"}, &len[0]);
    BATCH(1);
    b[0] = malloc(128);
    assert_int_equal(sp_watermark_pack_command(T0 + 30 * H, b[0], 128, &len[0]), SP_OK);
    BATCH(1);
    assert_int_equal(sp_clock_now_ms(clock), T0 + 30 * H);
    assert_int_equal(q("SELECT escalation_level FROM tasks WHERE key = 'task:deal.stalled:deal:{}:1' AND "
                       "status = 'resolved'",
                         "c"),
        0);
    /* d's deadline (T0 + 28 h) is behind the heartbeat's T0 + 30 h */
    assert_int_equal(q("SELECT escalation_level FROM tasks WHERE key = 'task:deal.stalled:deal:{}:1' AND "
                       "status = 'open'",
                         "d"),
        1);
    /* the shape of a heartbeat (no task key, a promise) without its "wm:"
     * id: a dead letter with its reason, and the clock not moved by it */
    {
        Salespulse__V1__TaskCommand c = SALESPULSE__V1__TASK_COMMAND__INIT;
        Salespulse__V1__EventMeta em = SALESPULSE__V1__EVENT_META__INIT;
        em.event_id = "not-a-heartbeat";
        c.meta = &em;
        c.upstream_watermark_ms = T0 + 40 * H;
        uint8_t buf[128];
        bus_msg hm = {.topic = "t", .partition = 0, .offset = 9, .payload = buf};
        hm.len = salespulse__v1__task_command__pack(&c, buf);
        bus_result r = BUS_OK;
        char why[1][BUS_REASON_LEN] = {""};
        taskpool_svc_batch(ts, db, &hm, 1, &r, why);
        assert_int_equal(r, BUS_DEAD);
        assert_true(why[0][0] != '\0');
        assert_int_equal(sp_clock_now_ms(clock), T0 + 30 * H);
    }
#undef BATCH
    fx_close(&f);
}

/* The SLA sweep stops at the first escalation it cannot deliver (Kafka
 * unreachable): each further one would wait out its own delivery timeout
 * (15 s, up to 500 tasks a sweep: the consumer stalled for hours). The
 * escalations are rolled back, the sweep does not count, and the next one
 * (Kafka back) escalates them all. */
static void test_sweep_stops_at_first_failure(void **state)
{
    (void)state;
    snprintf(P, sizeof P, "ts%d", (int)getpid());
    batch_fx f;
    fx_open(&f);
    taskpool_svc *ts = &f.ts;
    const int64_t H = 3600000;
    bus_result res[3];
    char reasons[3][BUS_REASON_LEN];
    uint8_t *b[3];
    size_t len[3];
    bus_msg m[3];
    const char *names[3] = {"x", "y", "z"};
    for (int i = 0; i < 3; i++) {
        char ev[8];
        snprintf(ev, sizeof ev, "%s1", names[i]);
        b[i] = cmd_ex(names[i], ev, T0, "open", &(cmd_opts) {0, T0, "it-batch-sup"}, &len[i]);
        m[i] = (bus_msg) {.topic = "t", .partition = 0, .offset = i, .payload = b[i], .len = len[i]};
    }
    taskpool_svc_batch(ts, f.db, m, 3, res, reasons);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(res[i], BUS_OK);
        free(b[i]);
    }
    /* Kafka unreachable; time passes every deadline (8 h) */
    bus_producer *dead = NULL;
    char err[256];
    assert_int_equal(bus_producer_new("127.0.0.1:1", "itest-dead", &dead, err, sizeof err), SP_OK);
    bus_producer *live = ts->producer;
    ts->producer = dead;
    ts->deliver_wait_ms = 300;
    b[0] = malloc(128);
    assert_int_equal(sp_watermark_pack_command(T0 + 30 * H, b[0], 128, &len[0]), SP_OK);
    m[0] = (bus_msg) {.topic = "t", .partition = 0, .offset = 10, .payload = b[0], .len = len[0]};
    taskpool_svc_batch(ts, f.db, m, 1, res, reasons); /* the sweep after it fails */
    assert_int_equal(res[0], BUS_OK);
    assert_int_equal(ts->escalation_failures, 1);
    assert_int_equal(ts->last_sweep_ms, 0);
    assert_int_equal(q("SELECT count(*) FROM tasks WHERE key LIKE 'task:deal.stalled:deal:{}:1' AND "
                       "escalation_level > 0",
                         "_"),
        0);
    /* Kafka back: the next sweep escalates all three */
    ts->producer = live;
    assert_int_equal(taskpool_sla_sweep(ts, f.db), 3);
    assert_int_equal(q("SELECT count(*) FROM tasks WHERE key LIKE 'task:deal.stalled:deal:{}:1' AND "
                       "escalation_level = 1",
                         "_"),
        3);
    free(b[0]);
    bus_producer_destroy(dead); /* its undelivered message: a 10 s flush */
    fx_close(&f);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static nng_stream *ws_dial(int port, const char *query)
{
    char url[512];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/v1/tasks/ws?%s", port, query);
    nng_stream_dialer *d = NULL;
    nng_aio *aio = NULL;
    assert_int_equal(nng_stream_dialer_alloc(&d, url), 0);
    assert_int_equal(nng_stream_dialer_set_bool(d, NNG_OPT_WS_RECV_TEXT, true), 0);
    assert_int_equal(nng_aio_alloc(&aio, NULL, NULL), 0);
    nng_stream_dialer_dial(d, aio);
    nng_aio_wait(aio);
    int rv = nng_aio_result(aio);
    nng_stream *st = rv == 0 ? nng_aio_get_output(aio, 0) : NULL;
    nng_aio_free(aio);
    nng_stream_dialer_free(d);
    return st;
}

static int ws_recv(nng_stream *st, char *buf, size_t cap, int timeout_ms)
{
    nng_aio *aio = NULL;
    assert_int_equal(nng_aio_alloc(&aio, NULL, NULL), 0);
    nng_iov iov = {buf, cap - 1};
    nng_aio_set_iov(aio, 1, &iov);
    nng_aio_set_timeout(aio, timeout_ms);
    nng_stream_recv(st, aio);
    nng_aio_wait(aio);
    int rv = nng_aio_result(aio);
    size_t n = rv == 0 ? nng_aio_count(aio) : 0;
    buf[n] = '\0';
    nng_aio_free(aio);
    return rv;
}

static void send_cmd(bus_producer *prod, const uint8_t *buf, size_t len)
{
    assert_int_equal(bus_producer_send(prod, SP_TOPIC_TASK_COMMANDS, "k", 1, buf, len, NULL, NULL), SP_OK);
    assert_int_equal(bus_producer_flush(prod, 10000), SP_OK);
}

static void test_ws_within_a_second(void **state)
{
    (void)state;
    snprintf(P, sizeof P, "tw%d", (int)getpid());
    char rep[64], sql[256];
    snprintf(rep, sizeof rep, "%s-rep", P);
    assignee = rep;
    snprintf(sql, sizeof sql, "INSERT INTO people (id, name, role) VALUES ('%s', 'WS Rep', 'rep')", rep);
    assert_int_equal(itest_sql(sql), 0);
    sp_db *db = NULL;
    assert_int_equal(sp_db_open(itest_env("SP_PG_URL"), &db), SP_OK);
    char tok[SP_TOKEN_LEN + 1], hash[SP_TOKEN_HASH_LEN + 1], ins[384];
    assert_int_equal(token_generate(tok, hash), SP_OK);
    snprintf(ins, sizeof ins,
        "INSERT INTO api_tokens (token_sha256, person_id, label) VALUES ('%s', '%s', 'itest')", hash, rep);
    assert_int_equal(itest_sql(ins), 0);
    const char *topics[] = {SP_TOPIC_TASK_COMMANDS, SP_TOPIC_TASK_EVENTS, NULL};
    itest_topics(topics, 1); /* exists already under run.sh */
    int ws_port = 20000 + (int)(getpid() % 20000);
    char *group = itest_unique("itest-ws-taskpool");
    pid_t svc = fork();
    if (svc == 0) {
        char path[1024], ws[96];
        snprintf(path, sizeof path, "%s/build/bin/sp-taskpool", itest_env("SP_ROOT"));
        snprintf(ws, sizeof ws, "ws://127.0.0.1:%d/v1/tasks/ws", ws_port);
        setenv("SP_GROUP_ID", group, 1);
        setenv("SP_WS_ADDR", ws, 1);
        setenv("SP_HTTP_ADDR", "http://127.0.0.1:0", 1);
        setenv("SP_LOG_LEVEL", "warn", 1);
        setenv("SP_WEB_DIR", "/nonexistent", 1);
        execl(path, path, (char *)NULL);
        _exit(127);
    }
    char err[256];
    bus_producer *prod = NULL;
    assert_int_equal(
        bus_producer_new(itest_env("SP_KAFKA_BOOTSTRAP"), "itest-ws", &prod, err, sizeof err), SP_OK);
    /* warm up: the consumer has joined its group once a first command is a row */
    size_t len;
    uint8_t *warm = cmd("warm", "w1", sp_wall_ms(), "warm", &len);
    send_cmd(prod, warm, len);
    free(warm);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM tasks WHERE key = 'task:deal.stalled:deal:%s-warm:1'", P);
    int i;
    for (i = 0; i < 300 && itest_sql_int(sql) != 1; i++)
        usleep(100000);
    assert_true(i < 300);
    snprintf(sql, sizeof sql, "SELECT max(seq) FROM tasks");
    char q[256], buf[65536];
    snprintf(q, sizeof q, "since=%lld&token=%s", itest_sql_int(sql), tok);
    nng_stream *st = NULL;
    for (i = 0; i < 50 && (st = ws_dial(ws_port, q)) == NULL; i++)
        usleep(100000);
    assert_non_null(st);
    usleep(300000);
    uint8_t *c = cmd("live", "l1", sp_wall_ms(), "live", &len);
    int64_t t0 = mono_ms();
    send_cmd(prod, c, len);
    free(c);
    char want[128];
    snprintf(want, sizeof want, "task:deal.stalled:deal:%s-live:1", P);
    int got = 0;
    while (!got && mono_ms() - t0 < 5000 && ws_recv(st, buf, sizeof buf, 5000) == 0)
        got = strstr(buf, want) != NULL;
    int64_t took = mono_ms() - t0;
    assert_true(got);
    printf("websocket: the task arrived %lld ms after its command was produced\n", (long long)took);
    if (took > 1000) fail_msg("the WebSocket client got the task %lld ms after the command", (long long)took);
    nng_stream_close(st);
    nng_stream_free(st);
    kill(svc, SIGTERM);
    waitpid(svc, NULL, 0);
    bus_producer_destroy(prod);
    sp_db_destroy(db);
    free(group);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch),
        cmocka_unit_test(test_escalation_in_event_time),
        cmocka_unit_test(test_sweep_stops_at_first_failure),
        cmocka_unit_test(test_ws_within_a_second),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
