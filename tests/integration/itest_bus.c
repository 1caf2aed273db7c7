/* Integration tests of common/bus against the real broker (and PostgreSQL
 * for the database-down case): round trip, dead letter, RETRY while the
 * database is stopped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "bus.h"
#include "clock.h"
#include "db.h"
#include "err.h"
#include "itest.h"
#include "salespulse/v1/deadletter.pb-c.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NKEYS 50

/* Produces n messages "k<key>:<seq>" keyed "k<key>", round-robin over keys,
 * and waits until the broker has them all. */
static void produce_seq(const char *topic, int n, int poison_at)
{
    bus_producer *p = NULL;
    bus_group *g = NULL;
    char err[256];
    assert_int_equal(bus_producer_new(itest_env("SP_KAFKA_BOOTSTRAP"), "itest", &p, err, sizeof err), SP_OK);
    assert_int_equal(bus_group_new(&g), SP_OK);
    int seq[NKEYS] = {0};
    for (int i = 0; i < n; i++) {
        char key[16], val[64];
        int k = i % NKEYS;
        snprintf(key, sizeof key, "k%d", k);
        if (i == poison_at)
            snprintf(val, sizeof val, "POISON");
        else
            snprintf(val, sizeof val, "k%d:%d", k, seq[k]++);
        assert_int_equal(bus_group_send(g, p, topic, key, strlen(key), val, strlen(val)), SP_OK);
    }
    assert_int_equal(bus_group_wait(g, 60000, err, sizeof err), SP_OK);
    bus_group_release(g);
    bus_producer_destroy(p);
}

struct seen {
    volatile sig_atomic_t stop;
    int target;
    int count, dups, out_of_order, poison;
    int next[NKEYS];
    sp_db *db; /* database-down test: apply into PostgreSQL */
    const char *table;
    int db_retries;
};

static void count_msg(struct seen *s, const bus_msg *m)
{
    int k, q;
    char buf[64];
    snprintf(buf, sizeof buf, "%.*s", (int)m->len, (const char *)m->payload);
    if (sscanf(buf, "k%d:%d", &k, &q) != 2 || k < 0 || k >= NKEYS) return;
    if (q == s->next[k]) {
        s->next[k]++;
        s->count++;
    } else if (q < s->next[k]) {
        s->dups++;
    } else {
        s->out_of_order++;
    }
}

static void seq_handler(
    void *arg, const bus_msg *msgs, size_t n, bus_result *res, char (*reasons)[BUS_REASON_LEN])
{
    struct seen *s = arg;
    for (size_t i = 0; i < n; i++) {
        if (msgs[i].len == 6 && memcmp(msgs[i].payload, "POISON", 6) == 0) {
            res[i] = BUS_DEAD;
            snprintf(reasons[i], BUS_REASON_LEN, "undecodable: not a sequence record");
            s->poison++;
            continue;
        }
        count_msg(s, &msgs[i]);
        res[i] = BUS_OK;
    }
    if (s->count >= s->target) s->stop = 1;
}

struct runner {
    bus_consumer *c;
    struct seen *s;
    int rv;
};

static void *run_thread(void *arg)
{
    struct runner *r = arg;
    r->rv = bus_consumer_run(r->c, &r->s->stop);
    return NULL;
}

/* Runs a consumer of group (NULL: a new one) on topic until s->stop or the
 * deadline; returns its stats. */
static void consume_as(const char *group_or_null, const char *topic, const char *dlq, bus_batch_fn fn,
    struct seen *s, int deadline_s, bus_consumer_stats *st)
{
    const char *topics[] = {topic, NULL};
    char *group = group_or_null ? strdup(group_or_null) : itest_unique("itest-group");
    bus_consumer_opts o = {
        .bootstrap = itest_env("SP_KAFKA_BOOTSTRAP"),
        .group_id = group,
        .client_id = "itest",
        .topics = topics,
        .dlq_topic = dlq,
        .service = "itest",
        .handler = fn,
        .arg = s,
        .retry_backoff_max_ms = 500,
    };
    char err[256];
    bus_consumer *c = NULL;
    assert_int_equal(bus_consumer_new(&o, &c, err, sizeof err), SP_OK);
    struct runner r = {c, s, -1};
    pthread_t t;
    pthread_create(&t, NULL, run_thread, &r);
    for (int i = 0; i < deadline_s * 10 && !s->stop; i++)
        usleep(100000);
    s->stop = 1;
    pthread_join(t, NULL);
    assert_int_equal(r.rv, SP_OK);
    bus_consumer_stats_get(c, st);
    bus_consumer_destroy(c);
    free(group);
}

static void consume(const char *topic, const char *dlq, bus_batch_fn fn, struct seen *s, int deadline_s,
    bus_consumer_stats *st)
{
    consume_as(NULL, topic, dlq, fn, s, deadline_s, st);
}

static void test_roundtrip_10000(void **state)
{
    (void)state;
    char *topic = itest_unique("itest-roundtrip");
    const char *topics[] = {topic, NULL};
    assert_int_equal(itest_topics(topics, 6), 0);
    int64_t t0 = sp_wall_ms();
    produce_seq(topic, 10000, -1);
    int64_t t1 = sp_wall_ms();
    struct seen s = {.target = 10000};
    bus_consumer_stats st;
    consume(topic, NULL, seq_handler, &s, 60, &st);
    int64_t t2 = sp_wall_ms();
    printf("# roundtrip: produced 10000 in %lld ms, consumed in %lld ms (%llu batches)\n",
        (long long)(t1 - t0), (long long)(t2 - t1), (unsigned long long)st.batches);
    assert_int_equal(s.count, 10000);
    assert_int_equal(s.dups, 0);
    assert_int_equal(s.out_of_order, 0);
    for (int k = 0; k < NKEYS; k++)
        assert_int_equal(s.next[k], 10000 / NKEYS);
    free(topic);
}

/* One lag reader, kept across reads, follows a group from nothing to read,
 * to 500 behind, to caught up once the group has consumed and committed;
 * bus_group_lag (a reader for one read) agrees at each step. */
static void test_lag_reader_follows_the_group(void **state)
{
    (void)state;
    char *topic = itest_unique("itest-lag");
    char *group = itest_unique("itest-lag-group");
    const char *topics[] = {topic, NULL};
    const char *bootstrap = itest_env("SP_KAFKA_BOOTSTRAP");
    assert_int_equal(itest_topics(topics, 3), 0);
    bus_lag *l = NULL;
    char err[256];
    int64_t lag = -1, once = -1;
    assert_int_equal(bus_lag_new(bootstrap, group, topic, &l, err, sizeof err), SP_OK);
    /* a new topic's partitions may have no leader for a moment: the reader
     * says so and a later read answers */
    int rv = SP_EKAFKA;
    for (int i = 0; i < 50 && (rv = bus_lag_read(l, 10000, &lag, err, sizeof err)) != SP_OK; i++)
        usleep(200000);
    if (rv != SP_OK) fprintf(stderr, "lag of a new topic: %s\n", err);
    assert_int_equal(rv, SP_OK);
    assert_int_equal(lag, 0);

    produce_seq(topic, 500, -1);
    assert_int_equal(bus_lag_read(l, 10000, &lag, err, sizeof err), SP_OK);
    assert_int_equal(lag, 500);
    assert_int_equal(bus_group_lag(bootstrap, group, topic, &once, err, sizeof err), SP_OK);
    assert_int_equal(once, 500);

    struct seen s = {.target = 500};
    bus_consumer_stats st;
    consume_as(group, topic, NULL, seq_handler, &s, 60, &st);
    assert_int_equal(s.count, 500);
    assert_int_equal(bus_lag_read(l, 10000, &lag, err, sizeof err), SP_OK);
    assert_int_equal(lag, 0);
    assert_int_equal(bus_group_lag(bootstrap, group, topic, &once, err, sizeof err), SP_OK);
    assert_int_equal(once, 0);

    produce_seq(topic, 7, -1); /* behind again, on the same connection */
    assert_int_equal(bus_lag_read(l, 10000, &lag, err, sizeof err), SP_OK);
    assert_int_equal(lag, 7);
    bus_lag_destroy(l);
    bus_lag_destroy(NULL);
    free(group);
    free(topic);
}

/* Reads the dead-letter topic back and checks the DeadLetter's fields. */
static void dlq_handler(
    void *arg, const bus_msg *msgs, size_t n, bus_result *res, char (*reasons)[BUS_REASON_LEN])
{
    struct seen *s = arg;
    for (size_t i = 0; i < n; i++) {
        res[i] = BUS_OK;
        Salespulse__V1__DeadLetter *dl
            = salespulse__v1__dead_letter__unpack(NULL, msgs[i].len, msgs[i].payload);
        if (dl == NULL) continue;
        if (strstr(dl->reason, "undecodable") && dl->payload.len == 6
            && memcmp(dl->payload.data, "POISON", 6) == 0 && dl->offset >= 0
            && strncmp(dl->topic, "itest-dl", 8) == 0 && strcmp(dl->service, "itest") == 0)
            s->count++;
        salespulse__v1__dead_letter__free_unpacked(dl, NULL);
    }
    if (s->count >= s->target) s->stop = 1;
}

static void test_dead_letter_and_stream_goes_on(void **state)
{
    (void)state;
    char *topic = itest_unique("itest-dl");
    char *dlq = itest_unique("itest-dlq");
    const char *topics[] = {topic, dlq, NULL};
    assert_int_equal(itest_topics(topics, 1), 0);
    produce_seq(topic, 201, 100); /* message 100 is poison, 200 valid ones around it */
    struct seen s = {.target = 200};
    bus_consumer_stats st;
    consume(topic, dlq, seq_handler, &s, 60, &st);
    assert_int_equal(s.count, 200);
    assert_int_equal(s.poison, 1);
    assert_int_equal(st.dead, 1);
    struct seen d = {.target = 1};
    consume(dlq, NULL, dlq_handler, &d, 30, &st);
    assert_int_equal(d.count, 1);
    free(topic);
    free(dlq);
}

/* Applies each message into PostgreSQL (idempotency key = payload) in one
 * transaction per batch; RETRY when the database is down. */
static void db_handler(
    void *arg, const bus_msg *msgs, size_t n, bus_result *res, char (*reasons)[BUS_REASON_LEN])
{
    struct seen *s = arg;
    int rv = sp_db_begin(s->db);
    for (size_t i = 0; i < n && rv == SP_OK; i++) {
        char key[64], sql[256];
        snprintf(key, sizeof key, "%.*s", (int)msgs[i].len, (const char *)msgs[i].payload);
        const char *p[1] = {key};
        snprintf(sql, sizeof sql, "INSERT INTO %s(k) VALUES ($1) ON CONFLICT DO NOTHING", s->table);
        rv = sp_db_exec(s->db, sql, 1, p, NULL);
    }
    if (rv == SP_OK) rv = sp_db_commit(s->db);
    if (rv != SP_OK) sp_db_rollback(s->db);
    for (size_t i = 0; i < n; i++) {
        res[i] = rv == SP_OK ? BUS_OK : rv == SP_EDBDOWN ? BUS_RETRY : BUS_DEAD;
        if (rv != SP_OK) snprintf(reasons[i], BUS_REASON_LEN, "%s", sp_db_errmsg(s->db));
    }
    if (rv == SP_OK) {
        for (size_t i = 0; i < n; i++)
            count_msg(s, &msgs[i]);
    } else {
        s->db_retries++;
    }
    if (s->count >= s->target) s->stop = 1;
}

struct restarter {
    struct seen *s;
};

/* Stops PostgreSQL once a third is applied, starts it again 3 s later. */
static void *pg_bouncer(void *arg)
{
    struct seen *s = arg;
    while (s->count < s->target / 3 && !s->stop)
        usleep(20000);
    itest_sh("bash deploy/local/pg.sh stop >/dev/null");
    sleep(3);
    itest_sh("bash deploy/local/pg.sh start >/dev/null");
    return NULL;
}

static void test_database_down_retries_without_loss(void **state)
{
    (void)state;
    char *topic = itest_unique("itest-dbdown");
    const char *topics[] = {topic, NULL};
    assert_int_equal(itest_topics(topics, 3), 0);
    assert_int_equal(
        itest_sql("DROP TABLE IF EXISTS itest_dbdown; CREATE TABLE itest_dbdown(k text PRIMARY KEY)"), 0);
    /* slow the handler a little so the stop lands mid-stream */
    produce_seq(topic, 3000, -1);
    struct seen s = {.target = 3000, .table = "itest_dbdown"};
    sp_db_open(itest_env("SP_PG_URL"), &s.db);
    pthread_t t;
    pthread_create(&t, NULL, pg_bouncer, &s);
    bus_consumer_stats st;
    const char *t_topics[] = {topic, NULL};
    (void)t_topics;
    consume(topic, NULL, db_handler, &s, 90, &st);
    pthread_join(t, NULL);
    sp_db_destroy(s.db);
    printf("# database down: %d retried batches, %llu dead\n", s.db_retries, (unsigned long long)st.dead);
    assert_int_equal(st.dead, 0);
    assert_int_equal(itest_sql_int("SELECT count(*) FROM itest_dbdown"), 3000);
    assert_int_equal(s.count, 3000);
    free(topic);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_10000),
        cmocka_unit_test(test_dead_letter_and_stream_goes_on),
        cmocka_unit_test(test_lag_reader_follows_the_group),
        cmocka_unit_test(test_database_down_retries_without_loss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
