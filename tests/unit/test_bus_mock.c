/* Fault-injection tests of common/bus on librdkafka's built-in mock cluster
 * (no real broker): produce errors are retried without duplicates, a broker
 * that is down makes the bounded wait time out (the 503 path), a
 * handler's RETRY re-handles the same message in order, a DEFER holds a
 * message (and the handler's note on it) without committing past it,
 * may_pause holds a partition back, and a group's only member is told it
 * is (bus_consumer_sole) until a second one joins. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "bus.h"
#include "err.h"
#include "log.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define API_PRODUCE 0

struct mock {
    rd_kafka_t *owner;
    rd_kafka_mock_cluster_t *mc;
    const char *bootstrap;
};

static int mock_setup(void **state)
{
    struct mock *m = calloc(1, sizeof *m);
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
    m->owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    assert_non_null(m->owner);
    m->mc = rd_kafka_mock_cluster_new(m->owner, 1);
    assert_non_null(m->mc);
    m->bootstrap = rd_kafka_mock_cluster_bootstraps(m->mc);
    assert_int_equal(rd_kafka_mock_topic_create(m->mc, "t1", 2, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(
        rd_kafka_mock_topic_create(m->mc, SP_TOPIC_DEADLETTER, 1, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    *state = m;
    return 0;
}

static int mock_teardown(void **state)
{
    struct mock *m = *state;
    rd_kafka_mock_cluster_destroy(m->mc);
    rd_kafka_destroy(m->owner);
    free(m);
    return 0;
}

static void send_n(bus_producer *p, bus_group *g, const char *topic, int from, int n)
{
    for (int i = from; i < from + n; i++) {
        char key[16], val[16];
        snprintf(key, sizeof key, "k%d", i % 7);
        snprintf(val, sizeof val, "%d", i);
        assert_int_equal(bus_group_send(g, p, topic, key, strlen(key), val, strlen(val)), SP_OK);
    }
}

struct tally {
    volatile sig_atomic_t stop;
    int target;
    int seen[1000];
    int handled;
    int retry_value; /* this value answers RETRY its first retry_times times */
    int retry_times;
    int last_per_key[7];
    int out_of_order;
};

static void tally_handler(
    void *arg, const bus_msg *msgs, size_t n, bus_result *res, char (*reasons)[BUS_REASON_LEN])
{
    struct tally *t = arg;
    int32_t blocked = -1; /* after a RETRY, the rest of that partition waits too */
    for (size_t i = 0; i < n; i++) {
        if (msgs[i].partition == blocked) {
            res[i] = BUS_RETRY;
            continue;
        }
        char buf[16];
        snprintf(buf, sizeof buf, "%.*s", (int)msgs[i].len, (const char *)msgs[i].payload);
        int v = atoi(buf);
        if (v == t->retry_value && t->retry_times > 0) {
            t->retry_times--;
            res[i] = BUS_RETRY;
            blocked = msgs[i].partition;
            continue;
        }
        res[i] = BUS_OK;
        if (v >= 0 && v < 1000) {
            if (t->seen[v]++ == 0) t->handled++;
            int k = v % 7;
            if (v < t->last_per_key[k]) t->out_of_order++;
            t->last_per_key[k] = v;
        }
    }
    if (t->handled >= t->target) t->stop = 1;
}

struct run_arg {
    bus_consumer *c;
    volatile sig_atomic_t *stop;
};
static void *run_main(void *a)
{
    struct run_arg *r = a;
    bus_consumer_run(r->c, r->stop);
    return NULL;
}

/* Runs a consumer of group on topic with handler(arg) until *stop is set
 * (by the handler) or 30 s passed. */
static void consume(const char *bootstrap, const char *topic, const char *group, bus_batch_fn handler,
    void *arg, volatile sig_atomic_t *stop)
{
    const char *topics[] = {topic, NULL};
    bus_consumer_opts o = {.bootstrap = bootstrap,
        .group_id = group,
        .topics = topics,
        .handler = handler,
        .arg = arg,
        .retry_backoff_max_ms = 200};
    bus_consumer *c = NULL;
    char err[256];
    assert_int_equal(bus_consumer_new(&o, &c, err, sizeof err), SP_OK);
    struct run_arg r = {c, stop};
    pthread_t th;
    pthread_create(&th, NULL, run_main, &r);
    for (int i = 0; i < 300 && !*stop; i++)
        usleep(100000);
    *stop = 1;
    pthread_join(th, NULL);
    bus_consumer_destroy(c);
}

static void consume_all(const char *bootstrap, struct tally *t)
{
    consume(bootstrap, "t1", "g1", tally_handler, t, &t->stop);
}

static void test_produce_errors_retried_once_each(void **state)
{
    struct mock *m = *state;
    bus_producer *p = NULL;
    bus_group *g = NULL;
    char err[256];
    assert_int_equal(bus_producer_new(m->bootstrap, "t", &p, err, sizeof err), SP_OK);
    rd_kafka_mock_push_request_errors(m->mc, API_PRODUCE, 4, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
        RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
        RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
    assert_int_equal(bus_group_new(&g), SP_OK);
    send_n(p, g, "t1", 0, 300);
    assert_int_equal(bus_group_wait(g, 20000, err, sizeof err), SP_OK);
    bus_group_release(g);
    bus_producer_destroy(p);

    struct tally *t = calloc(1, sizeof *t);
    t->target = 300;
    t->retry_value = -1;
    consume_all(m->bootstrap, t);
    assert_int_equal(t->handled, 300);
    for (int i = 0; i < 300; i++)
        assert_int_equal(t->seen[i], 1); /* idempotent producer: no duplicates */
    assert_int_equal(t->out_of_order, 0);
    free(t);
}

static void test_broker_down_bounded_wait_times_out(void **state)
{
    struct mock *m = *state;
    bus_producer *p = NULL;
    bus_group *g = NULL;
    char err[256];
    assert_int_equal(bus_producer_new(m->bootstrap, "t", &p, err, sizeof err), SP_OK);
    rd_kafka_mock_broker_set_down(m->mc, 1);
    assert_int_equal(bus_group_new(&g), SP_OK);
    send_n(p, g, "t1", 0, 10);
    assert_int_equal(bus_group_wait(g, 1000, err, sizeof err), SP_ETIMEOUT);
    assert_non_null(strstr(err, "not acknowledged"));
    bus_group_release(g); /* callbacks arriving later must not touch freed memory (ASan checks) */
    rd_kafka_mock_broker_set_up(m->mc, 1);
    assert_int_equal(bus_producer_flush(p, 20000), SP_OK);
    assert_int_equal(bus_producer_queue_len(p), 0);
    bus_producer_destroy(p);
}

static void test_handler_retry_rehandles_in_order(void **state)
{
    struct mock *m = *state;
    bus_producer *p = NULL;
    bus_group *g = NULL;
    char err[256];
    assert_int_equal(bus_producer_new(m->bootstrap, "t", &p, err, sizeof err), SP_OK);
    assert_int_equal(bus_group_new(&g), SP_OK);
    send_n(p, g, "t1", 300, 100);
    assert_int_equal(bus_group_wait(g, 20000, err, sizeof err), SP_OK);
    bus_group_release(g);
    bus_producer_destroy(p);

    struct tally *t = calloc(1, sizeof *t);
    t->target = 110; /* the 10 of the broker-down test, then these 100 */
    t->retry_value = 350;
    t->retry_times = 3;
    consume_all(m->bootstrap, t); /* group g1 resumes after the first test's commits */
    assert_int_equal(t->retry_times, 0);
    assert_int_equal(t->handled, 110);
    for (int i = 300; i < 400; i++)
        assert_true(t->seen[i] >= 1);
    for (int i = 0; i < 10; i++)
        assert_int_equal(t->seen[i], 1);
    assert_int_equal(t->out_of_order, 0);
    free(t);
}

/* BUS_DEFER: a message answered DEFER comes again, marked held, with
 * later batches while the rest of its partition goes on; its offset is not
 * committed while it is held, so a consumer that stops then (a crash, a
 * rebalance) leaves it for the next one. */
struct hold {
    volatile sig_atomic_t stop;
    int defer_value, defer_times; /* this value answers DEFER this many times (-1: always) */
    int ok[1000], held_seen[1000];
    int handled, target;
    int bad_note; /* a note that did not come back as set (or a new message's not 0, 0) */
};

static void hold_handler(
    void *arg, const bus_msg *msgs, size_t n, bus_result *res, char (*reasons)[BUS_REASON_LEN])
{
    (void)reasons;
    struct hold *h = arg;
    for (size_t i = 0; i < n; i++) {
        char buf[16];
        snprintf(buf, sizeof buf, "%.*s", (int)msgs[i].len, (const char *)msgs[i].payload);
        int v = atoi(buf);
        if (v < 0 || v >= 1000) {
            res[i] = BUS_OK;
            continue;
        }
        if (msgs[i].held) h->held_seen[v]++;
        if (msgs[i].held ? msgs[i].note[0] != v || msgs[i].note[1] != -v : msgs[i].note[0] || msgs[i].note[1])
            h->bad_note++;
        if (v == h->defer_value && h->defer_times != 0) {
            if (h->defer_times > 0) h->defer_times--;
            res[i] = BUS_DEFER;
            msgs[i].note[0] = v; /* comes back with the message */
            msgs[i].note[1] = -v;
            continue;
        }
        res[i] = BUS_OK;
        if (h->ok[v]++ == 0) h->handled++;
    }
    if (h->handled >= h->target) h->stop = 1;
}

static void hold_run(const char *bootstrap, struct hold *h)
{
    consume(bootstrap, "t2", "g2", hold_handler, h, &h->stop);
}

static void test_handler_defer_holds_and_keeps_offset(void **state)
{
    struct mock *m = *state;
    bus_producer *p = NULL;
    bus_group *g = NULL;
    char err[256];
    assert_int_equal(bus_producer_new(m->bootstrap, "t", &p, err, sizeof err), SP_OK);
    assert_int_equal(bus_group_new(&g), SP_OK);
    send_n(p, g, "t2", 500, 30);
    assert_int_equal(bus_group_wait(g, 20000, err, sizeof err), SP_OK);
    bus_group_release(g);

    /* 510 is deferred three times, then done once; everything else once */
    struct hold *h = calloc(1, sizeof *h);
    h->defer_value = 510;
    h->defer_times = 3;
    h->target = 30;
    hold_run(m->bootstrap, h);
    assert_int_equal(h->handled, 30);
    assert_int_equal(h->defer_times, 0);
    assert_true(h->held_seen[510] >= 3); /* handed over again, marked held */
    assert_int_equal(h->bad_note, 0);
    for (int v = 500; v < 530; v++)
        assert_int_equal(h->ok[v], 1);

    /* 535 deferred for good: the consumer stops with it held ... */
    assert_int_equal(bus_group_new(&g), SP_OK);
    send_n(p, g, "t2", 530, 10);
    assert_int_equal(bus_group_wait(g, 20000, err, sizeof err), SP_OK);
    bus_group_release(g);
    memset(h, 0, sizeof *h);
    h->defer_value = 535;
    h->defer_times = -1;
    h->target = 9;
    hold_run(m->bootstrap, h);
    assert_int_equal(h->handled, 9);
    assert_int_equal(h->ok[535], 0);
    /* ... and the next consumer of the group gets it: its offset was not committed */
    memset(h, 0, sizeof *h);
    h->defer_value = -1;
    h->target = 1;
    hold_run(m->bootstrap, h);
    assert_int_equal(h->ok[535], 1);
    for (int v = 500; v < 530; v++)
        assert_int_equal(h->ok[v], 0); /* done before: not again */
    free(h);
    bus_producer_destroy(p);
}

/* may_pause: a paused partition delivers nothing while the others go on,
 * then everything, once and in order, after it is resumed; and a batch
 * takes at most its share (max_batch / partitions) of one partition. */
struct pauser {
    volatile sig_atomic_t stop;
    volatile int pause0; /* may_pause answers 1 for partition 0 while set */
    volatile int got[2]; /* messages handled per partition */
    int last[2], out_of_order, max_share;
};

static int pauser_may_pause(void *arg, const char *topic, int32_t partition)
{
    (void)topic;
    struct pauser *p = arg;
    return partition == 0 && p->pause0;
}

static void pauser_handler(
    void *arg, const bus_msg *msgs, size_t n, bus_result *res, char (*reasons)[BUS_REASON_LEN])
{
    (void)reasons;
    struct pauser *p = arg;
    int in_batch[2] = {0, 0};
    for (size_t i = 0; i < n; i++) {
        res[i] = BUS_OK;
        int part = msgs[i].partition;
        if (part < 0 || part > 1) continue;
        char buf[16];
        snprintf(buf, sizeof buf, "%.*s", (int)msgs[i].len, (const char *)msgs[i].payload);
        int v = atoi(buf);
        if (v <= p->last[part]) p->out_of_order++;
        p->last[part] = v;
        p->got[part]++;
        if (++in_batch[part] > p->max_share) p->max_share = in_batch[part];
    }
}

static void send_to(bus_producer *prod, const char *topic, int32_t part, int from, int n)
{
    bus_group *g = NULL;
    char err[256];
    assert_int_equal(bus_group_new(&g), SP_OK);
    for (int i = from; i < from + n; i++) {
        char val[16];
        snprintf(val, sizeof val, "%d", i);
        assert_int_equal(bus_group_send_to(g, prod, topic, part, "k", 1, val, strlen(val)), SP_OK);
    }
    assert_int_equal(bus_group_wait(g, 20000, err, sizeof err), SP_OK);
    bus_group_release(g);
}

/* Waits up to 20 s for *v >= want. */
static int wait_for(volatile int *v, int want)
{
    for (int i = 0; i < 200 && *v < want; i++)
        usleep(100000);
    return *v >= want;
}

/* A pauser's consumer of a 2-partition topic on its own thread, and a
 * producer for the topic. */
struct paused_run {
    struct pauser *p;
    bus_producer *prod;
    bus_consumer *c;
    struct run_arg r;
    pthread_t th;
};

/* Creates topic, the producer and the pauser (the consumer comes with
 * paused_run_start). */
static void paused_run_setup(struct mock *m, const char *topic, struct paused_run *x)
{
    char err[256];
    memset(x, 0, sizeof *x);
    assert_int_equal(rd_kafka_mock_topic_create(m->mc, topic, 2, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(bus_producer_new(m->bootstrap, "t", &x->prod, err, sizeof err), SP_OK);
    x->p = calloc(1, sizeof *x->p);
    assert_non_null(x->p);
}

/* Starts the consumer of group on topic: batches of 10 to pauser_handler,
 * may_pause asked with the pauser. */
static void paused_run_start(struct mock *m, const char *topic, const char *group,
    int (*may_pause)(void *, const char *, int32_t), int whole_batches, struct paused_run *x)
{
    char err[256];
    const char *topics[] = {topic, NULL};
    bus_consumer_opts o = {.bootstrap = m->bootstrap,
        .group_id = group,
        .topics = topics,
        .max_batch = 10,
        .handler = pauser_handler,
        .arg = x->p,
        .may_pause = may_pause,
        .pause_arg = x->p,
        .whole_batches = whole_batches};
    assert_int_equal(bus_consumer_new(&o, &x->c, err, sizeof err), SP_OK);
    x->r = (struct run_arg) {x->c, &x->p->stop};
    pthread_create(&x->th, NULL, run_main, &x->r);
}

/* Stops the consumer's thread and frees what paused_run_setup / _start made. */
static void paused_run_stop(struct paused_run *x)
{
    x->p->stop = 1;
    pthread_join(x->th, NULL);
    bus_consumer_destroy(x->c);
    bus_producer_destroy(x->prod);
    free(x->p);
}

static void test_may_pause_holds_a_partition_back(void **state)
{
    struct paused_run x;
    paused_run_setup(*state, "t3", &x);
    struct pauser *p = x.p;
    bus_producer *prod = x.prod;
    p->pause0 = 1;
    paused_run_start(*state, "t3", "g3", pauser_may_pause, 0, &x);
    bus_consumer *c = x.c;

    send_to(prod, "t3", 1, 1, 10); /* the consumer is assigned and running, partition 0 paused */
    assert_true(wait_for(&p->got[1], 10));
    send_to(prod, "t3", 0, 1, 20);
    send_to(prod, "t3", 1, 11, 30); /* partition 1 goes on, in batches of at most 5 of it */
    assert_true(wait_for(&p->got[1], 40));
    usleep(500000);
    assert_int_equal(p->got[0], 0); /* nothing of the paused partition */
    bus_consumer_stats st;
    bus_consumer_stats_get(c, &st);
    assert_int_equal(st.paused, 1);
    assert_true(st.pauses >= 1);

    p->pause0 = 0; /* resumed: all of it, once, in order */
    assert_true(wait_for(&p->got[0], 20));
    usleep(300000);
    assert_int_equal(p->got[0], 20);
    assert_int_equal(p->got[1], 40);
    assert_int_equal(p->out_of_order, 0);
    assert_true(p->max_share <= 5); /* 10 per batch, 2 partitions */
    assert_true(p->max_share >= 1);
    bus_consumer_stats_get(c, &st);
    assert_int_equal(st.paused, 0);
    paused_run_stop(&x);
}

/* A member of a group that asks bus_consumer_sole in each batch. */
struct member {
    bus_consumer *c;
    volatile sig_atomic_t stop;
    volatile int got, sole;
    struct run_arg r;
    pthread_t th;
};

static void member_handler(
    void *arg, const bus_msg *msgs, size_t n, bus_result *res, char (*reasons)[BUS_REASON_LEN])
{
    (void)msgs, (void)reasons;
    struct member *mb = arg;
    for (size_t i = 0; i < n; i++)
        res[i] = BUS_OK;
    mb->sole = bus_consumer_sole(mb->c);
    mb->got += (int)n;
}

static void member_start(struct mock *m, const char *topic, const char *group, struct member *mb)
{
    char err[256];
    const char *topics[] = {topic, NULL};
    bus_consumer_opts o = {
        .bootstrap = m->bootstrap, .group_id = group, .topics = topics, .handler = member_handler, .arg = mb};
    mb->sole = -1;
    assert_int_equal(bus_consumer_new(&o, &mb->c, err, sizeof err), SP_OK);
    mb->r = (struct run_arg) {mb->c, &mb->stop};
    pthread_create(&mb->th, NULL, run_main, &mb->r);
}

static void member_stop(struct member *mb)
{
    mb->stop = 1;
    pthread_join(mb->th, NULL);
    bus_consumer_destroy(mb->c);
}

/* sole: a group's only member holds both partitions of its topic; once a
 * second member has joined, each holds one and neither is sole. */
static void test_sole_member_of_its_group(void **state)
{
    struct mock *m = *state;
    char err[256];
    bus_producer *prod = NULL;
    assert_int_equal(rd_kafka_mock_topic_create(m->mc, "t6", 2, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(bus_producer_new(m->bootstrap, "t", &prod, err, sizeof err), SP_OK);
    struct member a = {0}, b = {0};
    member_start(m, "t6", "g6", &a);
    send_to(prod, "t6", 0, 1, 3);
    send_to(prod, "t6", 1, 1, 3);
    assert_true(wait_for(&a.got, 6));
    assert_int_equal(a.sole, 1);

    member_start(m, "t6", "g6", &b);
    /* after the rebalance each member gets its partition's messages */
    for (int i = 0; i < 100 && (b.got == 0 || a.sole != 0); i++) {
        send_to(prod, "t6", 0, 10 + i, 1);
        send_to(prod, "t6", 1, 10 + i, 1);
        usleep(200000);
    }
    assert_true(b.got > 0);
    assert_int_equal(a.sole, 0);
    assert_int_equal(b.sole, 0);
    member_stop(&b);
    member_stop(&a);
    bus_producer_destroy(prod);
}

static int never_pause(void *arg, const char *topic, int32_t partition)
{
    (void)arg, (void)topic, (void)partition;
    return 0;
}

/* whole_batches: a consumer with may_pause whose handler orders by event
 * time itself gets whole batches of one partition's backlog, not its share. */
static void test_whole_batches_not_cut_at_share(void **state)
{
    struct paused_run x;
    paused_run_setup(*state, "t4", &x);
    send_to(x.prod, "t4", 1, 1, 40); /* a backlog before the consumer starts */
    send_to(x.prod, "t4", 0, 1, 2);
    paused_run_start(*state, "t4", "g4", never_pause, 1, &x);
    struct pauser *p = x.p;
    assert_true(wait_for(&p->got[1], 40));
    assert_true(wait_for(&p->got[0], 2));
    assert_int_equal(p->out_of_order, 0);
    assert_true(p->max_share > 5); /* the share would be 5 (10 per batch, 2 partitions) */
    paused_run_stop(&x);
}

int main(void)
{
    sp_log_init("test_bus_mock", SP_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_produce_errors_retried_once_each),
        cmocka_unit_test(test_broker_down_bounded_wait_times_out),
        cmocka_unit_test(test_handler_retry_rehandles_in_order),
        cmocka_unit_test(test_handler_defer_holds_and_keeps_offset),
        cmocka_unit_test(test_whole_batches_not_cut_at_share),
        cmocka_unit_test(test_may_pause_holds_a_partition_back),
        cmocka_unit_test(test_sole_member_of_its_group),
    };
    return cmocka_run_group_tests(tests, mock_setup, mock_teardown);
}
