/* sp-score against the real PostgreSQL and Kafka: a fixture inserted as
 * sp-enrich would leave it, EnrichedInteractions driven straight into the
 * batch handler, sweeps on a manual clock, Signals read back from Kafka.
 *
 * SP_SCORE_BENCH=1 adds the measurements (=only: runs them alone; events/s through the handler,
 * one sweep over a generated book of SP_SCORE_BENCH_CUSTOMERS customers,
 * default 100000, with 1% due; SP_SCORE_BENCH_EVENTS events, default 5000). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "bus.h"
#include "clock.h"
#include "db.h"
#include "err.h"
#include "itest.h"
#include "salespulse/v1/enriched.pb-c.h"
#include "salespulse/v1/signal.pb-c.h"
#include "score/calendar.h"
#include "score/event_lock.h"
#include "score/rollups.h"
#include "score/rules.h"
#include "score/score_facts.h"
#include "watermark.h"
#include "score/score_svc.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DAY  86400000LL
#define HOUR 3600000LL
#define T0   1772416800000LL /* 2026-03-02T02:00:00Z */

typedef struct fx {
    sp_db *db;
    bus_producer *prod;
    sp_clock *clock;
    score_calendar *cal;
    score_svc svc;
    char *topic;
    char pfx[64];
} fx;

static fx F;

static int setup(void **state)
{
    (void)state;
    char err[512], path[1024];
    const char *root = itest_env("SP_ROOT");
    assert_int_equal(sp_db_open(itest_env("SP_PG_URL"), &F.db), SP_OK);
    assert_int_equal(
        bus_producer_new(itest_env("SP_KAFKA_BOOTSTRAP"), "itest-score", &F.prod, err, sizeof err), SP_OK);
    assert_int_equal(sp_clock_new(SP_CLOCK_MANUAL, 0, &F.clock), SP_OK);
    snprintf(path, sizeof path, "%s/deploy/tenants/default/calendar.json", root);
    assert_int_equal(calendar_load(path, &F.cal, err, sizeof err), SP_OK);
    snprintf(path, sizeof path, "%s/deploy/tenants/default/score_rules.json", root);
    assert_int_equal(score_rules_load(path, &F.svc.rules, err, sizeof err), SP_OK);
    F.topic = itest_unique("itest.score.signals");
    const char *topics[] = {F.topic, NULL};
    assert_int_equal(itest_topics(topics, 1), 0);
    F.svc.cal = F.cal;
    F.svc.producer = F.prod;
    F.svc.clock = F.clock;
    F.svc.signals_topic = F.topic;
    F.svc.tenant_id = "itest";
    F.svc.sweep_every_ms = DAY;
    char *u = itest_unique("s");
    snprintf(F.pfx, sizeof F.pfx, "%s", u);
    free(u);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    score_svc_clear(&F.svc);
    calendar_destroy(F.cal);
    sp_clock_destroy(F.clock);
    bus_producer_destroy(F.prod);
    sp_db_destroy(F.db);
    free(F.topic);
    return 0;
}

static void sql(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sql(const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    assert_int_equal(itest_sql(buf), 0);
}

static long long sql_int(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static long long sql_int(const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return itest_sql_int(buf);
}

/* An interaction row as enrich_apply writes it. */
static void ins_interaction(const char *ev, int64_t at, const char *cust, const char *deal,
    const char *channel, const char *dir, int cside, const char *extraction)
{
    sql("INSERT INTO interactions (event_id, occurred_at, source, channel, direction, customer_id, deal_id, "
        "rep_id, "
        "customer_side, extraction) VALUES ('%s', score_ts(%lld), 'itest', '%s', '%s', '%s', "
        "nullif('%s',''), '%s-R', %s, "
        "'%s')",
        ev, (long long)at, channel, dir, cust, deal ? deal : "", F.pfx, cside ? "true" : "false",
        extraction ? extraction : "{}");
    sql("UPDATE customers SET last_interaction_at = greatest(last_interaction_at, score_ts(%lld)) WHERE id = "
        "'%s'",
        (long long)at, cust);
}

static int64_t g_upstream; /* stamped as upstream_watermark_ms by enriched() */

/* The EnrichedInteraction sp-enrich publishes for that interaction. */
static uint8_t *enriched(const char *ev, int64_t at, const char *cust, const char *deal, int channel, int dir,
    int cside, size_t *len)
{
    Salespulse__V1__EnrichedInteraction e = SALESPULSE__V1__ENRICHED_INTERACTION__INIT;
    Salespulse__V1__EventMeta em = SALESPULSE__V1__EVENT_META__INIT, im = SALESPULSE__V1__EVENT_META__INIT;
    Salespulse__V1__Interaction in = SALESPULSE__V1__INTERACTION__INIT;
    Salespulse__V1__Extraction x = SALESPULSE__V1__EXTRACTION__INIT;
    char eid[256], rep[96];
    snprintf(eid, sizeof eid, "enr:%s", ev);
    snprintf(rep, sizeof rep, "%s-R", F.pfx);
    em.event_id = eid;
    em.occurred_at_ms = at;
    im.event_id = (char *)ev;
    im.occurred_at_ms = at;
    in.meta = &im;
    in.channel = (Salespulse__V1__Channel)channel;
    in.direction = (Salespulse__V1__Direction)dir;
    e.meta = &em;
    e.interaction = &in;
    e.customer_id = (char *)cust;
    e.deal_id = (char *)(deal ? deal : "");
    e.rep_id = rep;
    e.customer_side = cside;
    e.extraction = &x;
    e.upstream_watermark_ms = g_upstream;
    *len = salespulse__v1__enriched_interaction__get_packed_size(&e);
    uint8_t *buf = malloc(*len);
    salespulse__v1__enriched_interaction__pack(&e, buf);
    return buf;
}

/* Drives one message through the batch handler; returns its result. */
static bus_result drive(const uint8_t *buf, size_t len, int64_t offset)
{
    bus_msg m = {.topic = SP_TOPIC_ENRICHED, .partition = 0, .offset = offset, .payload = buf, .len = len};
    bus_result res = BUS_RETRY;
    char reasons[1][BUS_REASON_LEN] = {""};
    score_svc_batch(&F.svc, F.db, &m, 1, &res, reasons);
    return res;
}

static void drive_event(
    const char *ev, int64_t at, const char *cust, const char *deal, int channel, int dir, int cside)
{
    size_t len;
    uint8_t *buf = enriched(ev, at, cust, deal, channel, dir, cside, &len);
    assert_int_equal(drive(buf, len, 0), BUS_OK);
    free(buf);
}

/* Every Signal event id on the test topic for subject, in order. */
static size_t read_signals(const char *subject, char ids[][256], size_t cap, size_t expect)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char *group = itest_unique("itest-score-reader");
    rd_kafka_conf_set(conf, "bootstrap.servers", itest_env("SP_KAFKA_BOOTSTRAP"), err, sizeof err);
    rd_kafka_conf_set(conf, "group.id", group, err, sizeof err);
    rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", err, sizeof err);
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    assert_non_null(rk);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(tl, F.topic, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    assert_int_equal(rd_kafka_assign(rk, tl), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(tl);
    size_t n = 0;
    int64_t until = sp_wall_ms() + 8000;
    int idle = 0;
    while (sp_wall_ms() < until) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (!m) {
            if (n >= expect && ++idle >= 5) break; /* a quiet second after the expected count */
            continue;
        }
        idle = 0;
        if (!m->err) {
            Salespulse__V1__Signal *s = salespulse__v1__signal__unpack(NULL, m->len, m->payload);
            if (s && s->subject && !strcmp(s->subject->id, subject) && n < cap)
                snprintf(ids[n++], 256, "%s", s->meta->event_id);
            salespulse__v1__signal__free_unpacked(s, NULL);
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    free(group);
    return n;
}

static int state_active(const char *kind, const char *subject)
{
    return (int)sql_int(
        "SELECT coalesce((SELECT active::int FROM signal_state WHERE kind = '%s' AND subject_id = '%s'), -1)",
        kind, subject);
}

static void sweep_to(int64_t now)
{
    sp_clock_set_ms(F.clock, now);
    int ran = 0;
    assert_int_equal(score_svc_sweep(&F.svc, F.db, &ran), SP_OK);
}

/* The stale scenario; the ids of the signals it produced for the customer
 * are returned in ids (Kafka), their count as the result. */
static size_t stale_scenario(const char *cust, const char *tag, char ids[][256], size_t already)
{
    char ev1[128], ev2[128];
    snprintf(ev1, sizeof ev1, "%s-i1", cust);
    snprintf(ev2, sizeof ev2, "%s-i2", cust);
    /* fresh sweep progress and clock for this run */
    sql("DELETE FROM score_sweeps");
    F.svc.next_sweep_ms = 0;
    sp_clock_set_ms(F.clock, 0);
    drive_event(ev1, T0, cust, NULL, SALESPULSE__V1__CHANNEL__CHANNEL_WECOM,
        SALESPULSE__V1__DIRECTION__DIRECTION_INBOUND, 1);
    assert_int_equal(state_active("customer.stale", cust), 0);

    sweep_to(T0 + 29 * DAY);
    assert_int_equal(state_active("customer.stale", cust), 0);
    sweep_to(T0 + 31 * DAY);
    assert_int_equal(state_active("customer.stale", cust), 1);
    assert_int_equal(
        sql_int("SELECT episode FROM signal_state WHERE kind = 'customer.stale' AND subject_id = '%s'", cust),
        1);

    /* a new interaction clears it */
    int64_t t2 = T0 + 31 * DAY + 5 * HOUR;
    ins_interaction(ev2, t2, cust, NULL, "wecom", "outbound", 0, NULL);
    size_t len;
    uint8_t *buf = enriched(ev2, t2, cust, NULL, SALESPULSE__V1__CHANNEL__CHANNEL_WECOM,
        SALESPULSE__V1__DIRECTION__DIRECTION_OUTBOUND, 0, &len);
    assert_int_equal(drive(buf, len, 1), BUS_OK);
    assert_int_equal(state_active("customer.stale", cust), 0);
    /* redelivered: no second signal, state untouched */
    unsigned long dup = F.svc.duplicates, sent = F.svc.signals;
    assert_int_equal(drive(buf, len, 1), BUS_OK);
    assert_int_equal(F.svc.duplicates, dup + 1);
    assert_int_equal(F.svc.signals, sent);
    free(buf);
    (void)tag;
    return read_signals(cust, ids, 16, already + 2);
}

static void test_stale_raise_clear_redeliver_replay(void **state)
{
    (void)state;
    char cust[96];
    snprintf(cust, sizeof cust, "%s-C", F.pfx);
    sql("INSERT INTO customers (id, name, owner_rep_id, created_at) VALUES ('%s', '王校长', '%s-R', "
        "score_ts(%lld))",
        cust, F.pfx, (long long)(T0 - 60 * DAY));
    char ev1[128];
    snprintf(ev1, sizeof ev1, "%s-i1", cust);
    ins_interaction(ev1, T0, cust, NULL, "wecom", "inbound", 1, NULL);

    /* the loader + evaluator directly: not at 29 days, at 31 */
    score_eval ev;
    assert_int_equal(
        score_facts_eval(F.db, F.svc.rules, F.cal, SCORE_CUSTOMER_STALE, cust, NULL, T0 + 29 * DAY, &ev),
        SP_OK);
    assert_false(ev.obs.met);
    assert_int_equal(
        score_facts_eval(F.db, F.svc.rules, F.cal, SCORE_CUSTOMER_STALE, cust, NULL, T0 + 31 * DAY, &ev),
        SP_OK);
    assert_true(ev.obs.met);
    assert_string_equal(ev.ids[0], ev1);
    assert_string_equal(ev.subject_name, "王校长");

    /* an id a bulk array literal must escape (quote, backslash, comma, braces) */
    char odd[128];
    snprintf(odd, sizeof odd, "%s-q\"u,o\\t{e}", F.pfx);
    sql("INSERT INTO customers (id, owner_rep_id, created_at) VALUES ($odd$%s$odd$, '%s-R', score_ts(%lld))",
        odd, F.pfx, (long long)(T0 - 60 * DAY));
    sql("INSERT INTO interactions (event_id, occurred_at, source, channel, direction, customer_id, "
        "customer_side) "
        "VALUES ('%s-odd', score_ts(%lld), 'itest', 'wecom', 'inbound', $odd$%s$odd$, true)",
        F.pfx, (long long)(T0 + 1000), odd);

    char first[16][256], second[16][256];
    size_t n1 = stale_scenario(cust, "run1", first, 0);
    assert_int_equal(
        sql_int("SELECT active::int FROM signal_state WHERE kind = 'customer.stale' AND subject_id = "
                "$odd$%s$odd$",
            odd),
        1);
    assert_int_equal(n1, 2);
    char want[256];
    snprintf(want, sizeof want, "sig:customer.stale:customer:%s:1:raised:1", cust);
    assert_string_equal(first[0], want);
    snprintf(want, sizeof want, "sig:customer.stale:customer:%s:1:cleared:2", cust);
    assert_string_equal(first[1], want);

    /* replay from scratch: same signals, same ids */
    sql("DELETE FROM signal_state WHERE subject_id = '%s'", cust);
    sql("DELETE FROM processed_events WHERE consumer = 'sp-score' AND event_id LIKE 'enr:%s-%%'", cust);
    sql("DELETE FROM interactions WHERE event_id = '%s-i2'", cust);
    size_t n2 = stale_scenario(cust, "run2", second, 2);
    assert_int_equal(n2, 4);
    assert_string_equal(second[2], first[0]);
    assert_string_equal(second[3], first[1]);
}

static void test_unanswered_inbound_levels(void **state)
{
    (void)state;
    char cust[96], deal[96], ev[128];
    snprintf(cust, sizeof cust, "%s-C2", F.pfx);
    snprintf(deal, sizeof deal, "%s-D2", F.pfx);
    int64_t t = T0 + 100 * DAY;
    sql("INSERT INTO customers (id, owner_rep_id, created_at) VALUES ('%s', '%s-R', score_ts(%lld))", cust,
        F.pfx, (long long)(t - 10 * DAY));
    sql("INSERT INTO deals (id, customer_id, name, stage, stage_since, owner_rep_id, created_at, "
        "last_status_update_at) "
        "VALUES ('%s', '%s', '新校区', 'demo', score_ts(%lld), '%s-R', score_ts(%lld), score_ts(%lld))",
        deal, cust, (long long)(t - 10 * DAY), F.pfx, (long long)(t - 10 * DAY), (long long)(t - 10 * DAY));
    sql("INSERT INTO deal_stage_history VALUES ('%s', '%s-sc', '', 'demo', score_ts(%lld))", deal, deal,
        (long long)(t - 10 * DAY));
    snprintf(ev, sizeof ev, "%s-in", deal);
    ins_interaction(ev, t, cust, deal, "wecom", "inbound", 1, "{\"concern\":\"价格太高\"}");
    sql("DELETE FROM score_sweeps");
    F.svc.next_sweep_ms = 0;
    F.svc.sweep_every_ms = HOUR;
    sp_clock_set_ms(F.clock, 0);
    drive_event(ev, t, cust, deal, SALESPULSE__V1__CHANNEL__CHANNEL_WECOM,
        SALESPULSE__V1__DIRECTION__DIRECTION_INBOUND, 1);
    assert_int_equal(state_active("deal.unanswered_inbound", deal), 0);
    sweep_to(t + 12 * HOUR);
    assert_int_equal(state_active("deal.unanswered_inbound", deal), 0);
    sweep_to(t + 30 * HOUR);
    assert_int_equal(state_active("deal.unanswered_inbound", deal), 1);
    assert_int_equal(
        sql_int("SELECT level FROM signal_state WHERE kind = 'deal.unanswered_inbound' AND subject_id = '%s'",
            deal),
        1);
    sweep_to(t + 54 * HOUR);
    assert_int_equal(
        sql_int("SELECT level FROM signal_state WHERE kind = 'deal.unanswered_inbound' AND subject_id = '%s'",
            deal),
        2);
    char ids[16][256];
    assert_int_equal(read_signals(deal, ids, 16, 2), 2);
    char want[256];
    snprintf(want, sizeof want, "sig:deal.unanswered_inbound:deal:%s:1:updated:2", deal);
    assert_string_equal(ids[1], want);
    F.svc.sweep_every_ms = DAY;
}

static void customer_new(const char *cust);

/* What answers an inbound message (the unanswered fact's two lookups): the
 * rep's outbound on the deal, or to the deal's customer with no deal id
 * (an e-mail reply); not one to another customer, nor one before it. */
static void test_unanswered_answer_paths(void **state)
{
    (void)state;
    const char *how[] = {"none", "deal", "customer", "other", "before", "deal before, customer after",
        "customer before, deal after"};
    int want_met[] = {1, 0, 0, 1, 1, 0, 0};
    int64_t t = T0 + 120 * DAY;
    for (int k = 0; k < 7; k++) {
        char cust[96], other[96], deal[96], ev[128];
        snprintf(cust, sizeof cust, "%s-UA%d", F.pfx, k);
        snprintf(other, sizeof other, "%s-UA%d-x", F.pfx, k);
        snprintf(deal, sizeof deal, "%s-UA%d-D", F.pfx, k);
        customer_new(cust);
        customer_new(other);
        sql("INSERT INTO deals (id, customer_id, name, stage, stage_since, owner_rep_id, created_at, "
            "last_status_update_at) VALUES ('%s', '%s', 'x', 'demo', score_ts(%lld), '%s-UAR', "
            "score_ts(%lld), "
            "score_ts(%lld))",
            deal, cust, (long long)(t - 10 * DAY), F.pfx, (long long)(t - 10 * DAY),
            (long long)(t - 10 * DAY));
        sql("INSERT INTO deal_stage_history VALUES ('%s', '%s-sc', '', 'demo', score_ts(%lld))", deal, deal,
            (long long)(t - 10 * DAY));
        snprintf(ev, sizeof ev, "%s-in", deal);
        ins_interaction(ev, t, cust, deal, "wecom", "inbound", 1, "{}");
        snprintf(ev, sizeof ev, "%s-out", deal);
        /* the deal's own answers name another customer: only the deal's lookup finds them */
        if (k == 1) ins_interaction(ev, t + 2 * HOUR, other, deal, "wecom", "outbound", 0, NULL);
        if (k == 2) ins_interaction(ev, t + 2 * HOUR, cust, NULL, "email", "outbound", 0, NULL);
        if (k == 3) ins_interaction(ev, t + 2 * HOUR, other, NULL, "email", "outbound", 0, NULL);
        if (k == 4) ins_interaction(ev, t - 2 * HOUR, cust, NULL, "email", "outbound", 0, NULL);
        /* both lookups find one: the later counts */
        if (k == 5 || k == 6) {
            char ev2[160];
            snprintf(ev2, sizeof ev2, "%s-out2", deal);
            ins_interaction(ev, t + (k == 5 ? -2 : 2) * HOUR, other, deal, "wecom", "outbound", 0, NULL);
            ins_interaction(ev2, t + (k == 5 ? 2 : -2) * HOUR, cust, NULL, "email", "outbound", 0, NULL);
        }
        score_eval e;
        assert_int_equal(score_facts_eval(F.db, F.svc.rules, F.cal, SCORE_UNANSWERED_INBOUND, deal, NULL,
                             t + 30 * HOUR, &e),
            SP_OK);
        if (e.obs.met != want_met[k]) fail_msg("answer %s: met %d, want %d", how[k], e.obs.met, want_met[k]);
    }
}

static void test_poison_dead_lettered(void **state)
{
    (void)state;
    static const uint8_t junk[] = {0xff, 0xff, 0xff, 0x01};
    bus_msg m = {.topic = SP_TOPIC_ENRICHED, .payload = junk, .len = sizeof junk};
    bus_result res = BUS_OK;
    char reasons[1][BUS_REASON_LEN] = {""};
    score_svc_batch(&F.svc, F.db, &m, 1, &res, reasons);
    assert_int_equal(res, BUS_DEAD);
    assert_non_null(strstr(reasons[0], "undecodable salespulse.v1.EnrichedInteraction"));
    /* decodable but without an interaction */
    Salespulse__V1__EnrichedInteraction e = SALESPULSE__V1__ENRICHED_INTERACTION__INIT;
    Salespulse__V1__EventMeta em = SALESPULSE__V1__EVENT_META__INIT;
    em.event_id = "enr:nothing";
    e.meta = &em;
    uint8_t buf[64];
    size_t len = salespulse__v1__enriched_interaction__pack(&e, buf);
    m.payload = buf, m.len = len;
    score_svc_batch(&F.svc, F.db, &m, 1, &res, reasons);
    assert_int_equal(res, BUS_DEAD);
    assert_non_null(strstr(reasons[0], "interaction.meta.event_id missing"));
    /* ... and with a watermark promise, the shape of a heartbeat but not
     * its "wm:" id: still dead-lettered, not taken for one */
    e.upstream_watermark_ms = T0 + 400 * DAY;
    len = salespulse__v1__enriched_interaction__pack(&e, buf);
    m.payload = buf, m.len = len;
    score_svc_batch(&F.svc, F.db, &m, 1, &res, reasons);
    assert_int_equal(res, BUS_DEAD); /* a heartbeat would be BUS_OK */
    assert_non_null(strstr(reasons[0], "interaction.meta.event_id missing"));
}

/* One batch: good, poison, good, and the same subject twice. The
 * optimistic pass (no savepoints) meets the poison, is rolled back and the
 * batch runs again with savepoints: both good items applied exactly once,
 * the state row saved once with the later evaluation, the poison DEAD. */
static void test_batch_with_poison_keeps_the_rest(void **state)
{
    (void)state;
    char cust[96], e1[128], e2[128], e3[128];
    snprintf(cust, sizeof cust, "%s-MIX", F.pfx);
    snprintf(e1, sizeof e1, "%s-m1", cust);
    snprintf(e2, sizeof e2, "%s-m2", cust);
    snprintf(e3, sizeof e3, "%s-m3", cust);
    sql("INSERT INTO customers (id, owner_rep_id, created_at) VALUES ('%s', '%s-R', score_ts(%lld))", cust,
        F.pfx, (long long)(T0 - 60 * DAY));
    ins_interaction(e1, T0 + HOUR, cust, NULL, "wecom", "inbound", 1, NULL);
    ins_interaction(e3, T0 + 2 * HOUR, cust, NULL, "wecom", "outbound", 0, NULL);
    size_t l1, l3;
    uint8_t *b1 = enriched(e1, T0 + HOUR, cust, NULL, SALESPULSE__V1__CHANNEL__CHANNEL_WECOM,
        SALESPULSE__V1__DIRECTION__DIRECTION_INBOUND, 1, &l1);
    uint8_t *b3 = enriched(e3, T0 + 2 * HOUR, cust, NULL, SALESPULSE__V1__CHANNEL__CHANNEL_WECOM,
        SALESPULSE__V1__DIRECTION__DIRECTION_OUTBOUND, 0, &l3);
    static const uint8_t junk[] = {0xff, 0xff, 0xff, 0x01};
    bus_msg m[3] = {{.topic = SP_TOPIC_ENRICHED, .payload = b1, .len = l1, .offset = 1},
        {.topic = SP_TOPIC_ENRICHED, .payload = junk, .len = sizeof junk, .offset = 2},
        {.topic = SP_TOPIC_ENRICHED, .payload = b3, .len = l3, .offset = 3}};
    bus_result res[3] = {BUS_OK, BUS_OK, BUS_OK};
    char reasons[3][BUS_REASON_LEN] = {""};
    unsigned long events = F.svc.events;
    score_svc_batch(&F.svc, F.db, m, 3, res, reasons);
    assert_int_equal(res[0], BUS_OK);
    assert_int_equal(res[1], BUS_DEAD);
    assert_int_equal(res[2], BUS_OK);
    assert_non_null(strstr(reasons[1], "undecodable"));
    assert_true(F.svc.events >= events + 2);
    assert_int_equal(sql_int("SELECT count(*) FROM processed_events WHERE consumer = 'sp-score' AND event_id "
                             "IN ('enr:%s', 'enr:%s')",
                         e1, e3),
        2);
    /* one state row, written by the flush with the later evaluation's time */
    assert_int_equal(
        sql_int(
            "SELECT count(*) FROM signal_state WHERE kind = 'customer.stale' AND subject_id = '%s'", cust),
        1);
    assert_int_equal(
        sql_int("SELECT score_ms(updated_at) FROM signal_state WHERE kind = 'customer.stale' AND "
                "subject_id = '%s'",
            cust),
        T0 + 2 * HOUR);
    /* the same batch again: duplicates, nothing changes */
    unsigned long dup = F.svc.duplicates;
    score_svc_batch(&F.svc, F.db, m, 3, res, reasons);
    assert_int_equal(res[0], BUS_OK);
    assert_int_equal(res[2], BUS_OK);
    assert_true(F.svc.duplicates >= dup + 2);
    free(b1);
    free(b3);
}

/* sp-enrich's watermark heartbeat: handled without any database row, and
 * it is the partition's progress (the clock here is manual, so the
 * handler's answer and the untouched tables are what can be seen). */
static void test_watermark_heartbeat(void **state)
{
    (void)state;
    uint8_t buf[128];
    size_t len = 0;
    assert_int_equal(sp_watermark_pack_enriched(T0 + 5 * DAY, buf, sizeof buf, &len), SP_OK);
    long long before = sql_int("SELECT count(*) FROM processed_events WHERE consumer = 'sp-score'");
    assert_int_equal(drive(buf, len, 7), BUS_OK);
    assert_int_equal(sql_int("SELECT count(*) FROM processed_events WHERE consumer = 'sp-score'"), before);
    assert_int_equal(sql_int("SELECT count(*) FROM processed_events WHERE event_id LIKE 'wm:%%'"), 0);
}

/* A customer of the test rep, created 60 days before T0. */
static void customer_new(const char *cust)
{
    sql("INSERT INTO customers (id, owner_rep_id, created_at) VALUES ('%s', '%s-R', score_ts(%lld))", cust,
        F.pfx, (long long)(T0 - 60 * DAY));
}

/* The sweeps start over: none recorded, none known to the service (its
 * origin too), the manual clock at 0. */
static void sweeps_restart(void)
{
    sql("DELETE FROM score_sweeps");
    F.svc.next_sweep_ms = F.svc.sweep_done_ms = F.svc.sweep_origin_ms = 0;
    F.svc.hold_min_ms = 0;
    sp_clock_set_ms(F.clock, 0);
}

/* An event far ahead of the sweeps (the watermark trails the events of a
 * batch; after a restart by days): a customer silent for 39 days whose
 * boundaries no sweep has judged yet is judged at the boundary before the
 * event - raised - and then cleared by the event itself. Without that the
 * event's own evaluation made the later sweeps leave the state alone and
 * the silence never raised (the demo's planted e_customer_stale). */
static void test_event_ahead_of_sweeps(void **state)
{
    (void)state;
    char cust[96], e1[128], e2[128];
    snprintf(cust, sizeof cust, "%s-AHEAD", F.pfx);
    snprintf(e1, sizeof e1, "%s-a1", cust);
    snprintf(e2, sizeof e2, "%s-a2", cust);
    customer_new(cust);
    sweeps_restart();
    ins_interaction(e1, T0, cust, NULL, "wecom", "inbound", 1, NULL);
    drive_event(e1, T0, cust, NULL, SALESPULSE__V1__CHANNEL__CHANNEL_WECOM,
        SALESPULSE__V1__DIRECTION__DIRECTION_INBOUND, 1);
    sweep_to(T0 + DAY); /* the sweeps got this far */
    assert_int_equal(state_active("customer.stale", cust), 0);
    int64_t t2 = T0 + 39 * DAY;
    ins_interaction(e2, t2, cust, NULL, "wecom", "outbound", 0, NULL);
    drive_event(e2, t2, cust, NULL, SALESPULSE__V1__CHANNEL__CHANNEL_WECOM,
        SALESPULSE__V1__DIRECTION__DIRECTION_OUTBOUND, 0);
    assert_int_equal(state_active("customer.stale", cust), 0);
    assert_int_equal(
        sql_int("SELECT episode FROM signal_state WHERE kind = 'customer.stale' AND subject_id = '%s'", cust),
        1);
    char ids[8][256];
    assert_int_equal(read_signals(cust, ids, 8, 2), 2);
    char want[256];
    snprintf(want, sizeof want, "sig:customer.stale:customer:%s:1:raised:1", cust);
    assert_string_equal(ids[0], want);
    snprintf(want, sizeof want, "sig:customer.stale:customer:%s:1:cleared:2", cust);
    assert_string_equal(ids[1], want);
}

/* The same before any sweep has run (a fresh replay whose watermark has not
 * reached the first boundary while one partition's events run ahead): the
 * first sweep will start after the earliest interaction but leave alone a
 * state evaluated later, so the event judges the boundary before it itself.
 * Without that the customer's silence was never raised (one customer.stale
 * episode in three runs of a 100,000-event replay, depending on fetches). */
static void test_event_before_any_sweep(void **state)
{
    (void)state;
    char cust[96], e1[128];
    snprintf(cust, sizeof cust, "%s-FIRST", F.pfx);
    snprintf(e1, sizeof e1, "%s-f1", cust);
    customer_new(cust);
    sweeps_restart();
    int64_t t1 = T0 + 39 * DAY;
    ins_interaction(e1, t1, cust, NULL, "wecom", "outbound", 0, NULL);
    drive_event(e1, t1, cust, NULL, SALESPULSE__V1__CHANNEL__CHANNEL_WECOM,
        SALESPULSE__V1__DIRECTION__DIRECTION_OUTBOUND, 0);
    assert_true(F.svc.sweep_origin_ms > 0 && F.svc.sweep_origin_ms < t1);
    assert_int_equal(state_active("customer.stale", cust), 0);
    assert_int_equal(
        sql_int("SELECT episode FROM signal_state WHERE kind = 'customer.stale' AND subject_id = '%s'", cust),
        1);
    char ids[8][256], want[256];
    assert_int_equal(read_signals(cust, ids, 8, 2), 2);
    snprintf(want, sizeof want, "sig:customer.stale:customer:%s:1:raised:1", cust);
    assert_string_equal(ids[0], want);
    snprintf(want, sizeof want, "sig:customer.stale:customer:%s:1:cleared:2", cust);
    assert_string_equal(ids[1], want);
}

/* One batch through the handler with the event clock: msgs[i] on
 * partition part[i], held[i] as the consumer marks a message it hands over
 * again; the results into res. */
static void drive_batch(const uint8_t *const *bufs, const size_t *lens, const int *part, const int *held,
    size_t n, bus_result *res)
{
    bus_msg m[8];
    char reasons[8][BUS_REASON_LEN];
    for (size_t i = 0; i < n; i++)
        m[i] = (bus_msg) {.topic = SP_TOPIC_ENRICHED,
            .partition = part[i],
            .offset = (int64_t)i,
            .payload = bufs[i],
            .len = lens[i],
            .held = held[i]};
    score_svc_batch(&F.svc, F.db, m, n, res, reasons);
}

/* The fixture's sweeps from scratch on an event clock instead of its manual
 * one, which is returned for event_clock_end. */
static sp_clock *event_clock_begin(void)
{
    sweeps_restart();
    sp_clock *ec = NULL, *manual = F.svc.clock;
    assert_int_equal(sp_clock_new(SP_CLOCK_EVENT, 60000, &ec), SP_OK);
    F.svc.clock = ec;
    return manual;
}

/* Back to the manual clock, the sweeps and holds from scratch. */
static void event_clock_end(sp_clock *manual)
{
    g_upstream = 0;
    F.svc.hold_flush_ms = 0;
    F.svc.hold_min_ms = 0;
    sp_clock_destroy(F.svc.clock);
    F.svc.clock = manual;
    sweeps_restart();
}

/* Event clock: cust touched at T0 (event e1) while sp-enrich promises
 * T0 + 10 d: swept to the last day boundary before that, returned. */
static int64_t touched_and_swept(const char *cust, const char *e1)
{
    uint8_t hb[128];
    size_t l, lh;
    bus_result res[2];
    ins_interaction(e1, T0, cust, NULL, "wecom", "outbound", 0, NULL);
    g_upstream = T0 + 10 * DAY;
    uint8_t *b = enriched(e1, T0, cust, NULL, SALESPULSE__V1__CHANNEL__CHANNEL_WECOM,
        SALESPULSE__V1__DIRECTION__DIRECTION_OUTBOUND, 0, &l);
    assert_int_equal(sp_watermark_pack_enriched(T0 + 10 * DAY, hb, sizeof hb, &lh), SP_OK);
    drive_batch((const uint8_t *[]) {b, hb}, (size_t[]) {l, lh}, (int[]) {0, 0}, (int[]) {0, 0}, 2, res);
    assert_int_equal(res[0], BUS_OK);
    free(b);
    const int64_t day10 = (T0 + 10 * DAY) / DAY * DAY;
    assert_true(F.svc.sweep_done_ms == day10);
    return day10;
}

/* Event clock: events are applied in event time with the sweeps between
 * them, whatever the order partitions deliver them in. A customer touched
 * at T0, T0 + 20 d and T0 + 39 d was never silent for 30 days; but the last
 * touch arrives first (partition 0 runs ahead, as after a crash) while the
 * 20-day one is still upstream (not even in PostgreSQL). It is held
 * (BUS_DEFER) until the watermark - sp-enrich's promises on both
 * partitions - passes its boundaries; then the middle touch, the sweeps and
 * the last touch go in order: no customer.stale episode. Applied as it came
 * (before session 5) the last touch judged the boundary before it with only
 * T0 known and raised a 39-day silence that never was (the e2e crash run's
 * false deal.unanswered_inbound, same cause). Then the end of the input:
 * a held event is applied anyway once nothing new came for hold_flush_ms. */
static void test_events_in_event_time_order(void **state)
{
    (void)state;
    char cust[96], e1[128], e2[128], e3[128], e4[128];
    snprintf(cust, sizeof cust, "%s-ORDER", F.pfx);
    snprintf(e1, sizeof e1, "%s-o1", cust);
    snprintf(e2, sizeof e2, "%s-o2", cust);
    snprintf(e3, sizeof e3, "%s-o3", cust);
    snprintf(e4, sizeof e4, "%s-o4", cust);
    customer_new(cust);
    sp_clock *manual = event_clock_begin();
    const int W = SALESPULSE__V1__CHANNEL__CHANNEL_WECOM, OUT = SALESPULSE__V1__DIRECTION__DIRECTION_OUTBOUND;
    uint8_t *b[4], hb0[128], hb1[128];
    size_t l[4], lh0, lh1;
    bus_result res[4];
    /* partition 0: the first touch; partition 1: only a heartbeat so far */
    ins_interaction(e1, T0, cust, NULL, "wecom", "outbound", 0, NULL);
    g_upstream = T0;
    b[0] = enriched(e1, T0, cust, NULL, W, OUT, 0, &l[0]);
    assert_int_equal(sp_watermark_pack_enriched(T0, hb1, sizeof hb1, &lh1), SP_OK);
    drive_batch(
        (const uint8_t *[]) {b[0], hb1}, (size_t[]) {l[0], lh1}, (int[]) {0, 1}, (int[]) {0, 0}, 2, res);
    assert_int_equal(res[0], BUS_OK);
    assert_int_equal(res[1], BUS_OK);
    /* partition 0 runs ahead: the last touch, while sp-enrich still promises only T0 + 1 h */
    int64_t t2 = T0 + 20 * DAY, t3 = T0 + 39 * DAY;
    ins_interaction(e3, t3, cust, NULL, "wecom", "outbound", 0, NULL);
    g_upstream = T0 + HOUR;
    b[1] = enriched(e3, t3, cust, NULL, W, OUT, 0, &l[1]);
    drive_batch((const uint8_t *[]) {b[1]}, (size_t[]) {l[1]}, (int[]) {0}, (int[]) {0}, 1, res);
    assert_int_equal(res[0], BUS_DEFER);
    assert_int_equal(F.svc.hold_min_ms, t3);
    assert_int_equal(sql_int("SELECT count(*) FROM processed_events WHERE event_id = 'enr:%s'", e3), 0);
    /* the middle touch reaches sp-enrich and partition 1; time has not passed it yet */
    ins_interaction(e2, t2, cust, NULL, "wecom", "outbound", 0, NULL);
    g_upstream = T0 + HOUR;
    b[2] = enriched(e2, t2, cust, NULL, W, OUT, 0, &l[2]);
    drive_batch(
        (const uint8_t *[]) {b[1], b[2]}, (size_t[]) {l[1], l[2]}, (int[]) {0, 1}, (int[]) {1, 0}, 2, res);
    assert_int_equal(res[0], BUS_DEFER);
    assert_int_equal(res[1], BUS_DEFER);
    /* sp-enrich's heartbeats move both partitions past the last touch */
    assert_int_equal(sp_watermark_pack_enriched(t3 + DAY, hb0, sizeof hb0, &lh0), SP_OK);
    assert_int_equal(sp_watermark_pack_enriched(t3 + DAY, hb1, sizeof hb1, &lh1), SP_OK);
    drive_batch((const uint8_t *[]) {b[1], b[2], hb0, hb1}, (size_t[]) {l[1], l[2], lh0, lh1},
        (int[]) {0, 1, 0, 1}, (int[]) {1, 1, 0, 0}, 4, res);
    for (int i = 0; i < 4; i++)
        assert_int_equal(res[i], BUS_OK);
    assert_int_equal(F.svc.hold_min_ms, 0);
    assert_true(F.svc.sweep_done_ms >= t3);
    assert_int_equal(
        sql_int("SELECT coalesce((SELECT episode FROM signal_state WHERE kind = 'customer.stale' AND "
                "subject_id = '%s'), 0)",
            cust),
        0);
    /* the input stops with an event beyond the watermark: held, then applied */
    int64_t t4 = t3 + 3 * DAY;
    ins_interaction(e4, t4, cust, NULL, "wecom", "outbound", 0, NULL);
    g_upstream = t3 + DAY;
    b[3] = enriched(e4, t4, cust, NULL, W, OUT, 0, &l[3]);
    drive_batch((const uint8_t *[]) {b[3]}, (size_t[]) {l[3]}, (int[]) {0}, (int[]) {0}, 1, res);
    assert_int_equal(res[0], BUS_DEFER);
    F.svc.hold_flush_ms = 20;
    drive_batch((const uint8_t *[]) {b[3]}, (size_t[]) {l[3]}, (int[]) {0}, (int[]) {1}, 1, res);
    assert_int_equal(res[0], BUS_DEFER); /* the countdown starts */
    usleep(40000);
    drive_batch((const uint8_t *[]) {b[3]}, (size_t[]) {l[3]}, (int[]) {0}, (int[]) {1}, 1, res);
    assert_int_equal(res[0], BUS_OK);
    assert_int_equal(sql_int("SELECT count(*) FROM processed_events WHERE event_id = 'enr:%s'", e4), 1);
    for (int i = 0; i < 4; i++)
        free(b[i]);
    event_clock_end(manual);
}

static score_memo *CC; /* test_every_kind_loads's query memo */
static unsigned long CC_runs, CC_hits, CC_grouped;
#define EARLY (3 * DAY + 5 * HOUR) /* met's second evaluation: other facts, other results */

static void eval_same(const score_eval *a, const score_eval *b)
{
    assert_int_equal(a->obs.met, b->obs.met);
    assert_true(a->obs.value == b->obs.value);
    assert_string_equal(a->subject_name, b->subject_name);
    assert_string_equal(a->owner_rep_id, b->owner_rep_id);
    assert_string_equal(a->explanation_en, b->explanation_en);
}

/* Evaluates unmemoised, then through CC twice - first collecting (each
 * round's queries asked for, then run in one pipeline, until the facts are
 * in), then from what it kept: the same decision, value and explanation
 * every time. Beside it, collecting, the same evaluation EARLY before:
 * the same statements with other parameters, so each runs in its
 * set form (memo.h) and must give what it gives alone. CC starts empty
 * each time (the test writes rows between evaluations; the memo is for
 * rows that stand still). */
static int met(score_kind kind, const char *subject, const char *variant, int64_t now, score_eval *ev)
{
    score_eval *early = calloc(1, sizeof *early);
    assert_non_null(early);
    assert_int_equal(
        score_facts_eval(F.db, F.svc.rules, F.cal, kind, subject, variant, now - EARLY, early), SP_OK);
    assert_int_equal(score_facts_eval(F.db, F.svc.rules, F.cal, kind, subject, variant, now, ev), SP_OK);
    if (CC) score_memo_reset(CC);
    for (int k = 0; k < 2 && CC; k++) {
        score_eval *c = calloc(1, sizeof *c), *c1 = calloc(1, sizeof *c1);
        assert_true(c && c1);
        score_memo_collect(CC, k == 0);
        sp_err rv, rv1;
        int rounds = 0;
        for (;;) {
            rv = score_facts_eval_cached(F.db, CC, F.svc.rules, F.cal, kind, subject, variant, now, c);
            rv1 = k ? SP_OK
                    : score_facts_eval_cached(
                        F.db, CC, F.svc.rules, F.cal, kind, subject, variant, now - EARLY, c1);
            if (rv != SP_EAGAIN && rv1 != SP_EAGAIN) break;
            assert_int_equal(score_memo_run(CC, F.db), SP_OK);
            assert_true(++rounds <= 3); /* context, facts, facts after facts */
        }
        assert_int_equal(rv, SP_OK);
        assert_int_equal(rv1, SP_OK);
        if (k == 0) assert_true(rounds >= 1);
        score_memo_collect(CC, 0);
        eval_same(c, ev);
        if (k == 0) eval_same(c1, early);
        free(c);
        free(c1);
    }
    unsigned long runs = 0, hits = 0;
    score_memo_stats(CC, &runs, &hits);
    CC_runs += runs;
    CC_hits += hits;
    CC_grouped += score_memo_grouped(CC);
    free(early);
    return ev->obs.met;
}

static int has_tag(const score_eval *ev, const char *tag)
{
    for (size_t i = 0; i < ev->n_tags; i++)
        if (!strcmp(ev->tags[i], tag)) return 1;
    return 0;
}

/* Every loader's SQL against one fixture, with the decision it must lead to. */
static void test_every_kind_loads(void **state)
{
    (void)state;
    const char *x = F.pfx;
    int64_t t = T0 + 200 * DAY; /* 2026-09-18T02:00Z, a Friday */
    long long d = DAY;
    assert_int_equal(score_memo_new(&CC), SP_OK);
    CC_runs = CC_hits = CC_grouped = 0;
    sql("INSERT INTO regions (id, name) VALUES ('%s-G', '华东')", x);
    sql("INSERT INTO teams (id, name, region_id) VALUES ('%s-T', '一组', '%s-G')", x, x);
    sql("INSERT INTO people (id, name, role, team_id, region_id) VALUES ('%s-R', '李雷', 'rep', '%s-T', "
        "'%s-G')",
        x, x, x);
    sql("INSERT INTO customers (id, name, owner_rep_id, created_at) VALUES ('%s-C3', '一中', '%s-R', "
        "score_ts(%lld))",
        x, x, (long long)(t - 60 * d));
    sql("INSERT INTO contacts (id, customer_id, name, role, created_at) VALUES ('%s-K1', '%s-C3', '王校长', "
        "'decision_maker', score_ts(%lld))",
        x, x, (long long)(t - 60 * d));
    sql("INSERT INTO deals (id, customer_id, name, stage, stage_since, owner_rep_id, created_at, "
        "last_status_update_at) "
        "VALUES ('%s-D3', '%s-C3', '智慧教室', 'proposal', score_ts(%lld), '%s-R', score_ts(%lld), "
        "score_ts(%lld))",
        x, x, (long long)(t - 40 * d), x, (long long)(t - 60 * d), (long long)(t - 40 * d));
    sql("INSERT INTO deal_stage_history VALUES ('%s-D3', 'h1', '', 'lead', score_ts(%lld)), "
        "('%s-D3', 'h2', 'lead', 'proposal', score_ts(%lld))",
        x, (long long)(t - 60 * d), x, (long long)(t - 40 * d));
    char ev[128], deal[96], cust[96];
    snprintf(deal, sizeof deal, "%s-D3", x);
    snprintf(cust, sizeof cust, "%s-C3", x);
    snprintf(ev, sizeof ev, "%s-k1", x);
    ins_interaction(ev, t - 45 * d, cust, deal, "wecom", "inbound", 1, NULL);
    sql("UPDATE interactions SET contact_id = '%s-K1' WHERE event_id = '%s'", x, ev);
    snprintf(ev, sizeof ev, "%s-visit", x);
    ins_interaction(ev, t - 10 * d, cust, deal, "activity", "internal", 0, NULL);
    sql("UPDATE interactions SET activity_kind = 'visit' WHERE event_id = '%s'", ev);
    snprintf(ev, sizeof ev, "%s-m1", x);
    ins_interaction(ev, t - 5 * d, cust, deal, "wecom", "inbound", 1,
        "{\"intents\":[\"demo_refused\"],\"risks\":[\"budget_freeze\",\"technical_doubt\"],\"competitors\":["
        "\"seewo\"],"
        "\"concern\":\"预算冻结\"}");
    snprintf(ev, sizeof ev, "%s-m2", x);
    ins_interaction(ev, t - 3 * d, cust, deal, "wecom", "inbound", 1,
        "{\"intents\":[\"demo_refused\"],\"competitors\":[\"hikvision\"]}");
    for (int i = 0; i < 7; i++) /* six competitor-page visits this week, one the week before */
        sql("INSERT INTO score_tracking VALUES ('%s-cv%d', score_ts(%lld), '%s-C3', NULL, 'competitor', '', "
            "'seewo')",
            x, i, (long long)(t - (i < 6 ? i + 1 : 9) * d + HOUR), x);
    for (int i = 0; i < 4; i++)
        sql("INSERT INTO score_tracking VALUES ('%s-pv%d', score_ts(%lld), '%s-C3', NULL, 'product', "
            "'smart_board', '')",
            x, i, (long long)(t - (i + 1) * d), x);
    /* planned key actions on the three working days before today, none completed */
    int32_t day = calendar_local_day(F.cal, t) - 1;
    for (int n = 0; n < 3; day--) {
        if (!calendar_is_working_day(F.cal, day)) continue;
        sql("INSERT INTO score_rep_actions VALUES ('%s-plan%d', 'planned', '%s-R', %d, score_ts(%lld))", x, n,
            x, (int)day, (long long)(t - 20 * d));
        n++;
    }
    /* two new leads in each of the two ISO weeks before this one, nobody went */
    int y, w;
    calendar_iso_week(calendar_local_day(F.cal, t), &y, &w);
    int64_t monday = calendar_day_start_ms(F.cal, calendar_iso_week_monday(y, w));
    /* new leads are new deals (an imported deal is not judged) */
    for (int i = 0; i < 4; i++) {
        long long at = (long long)(monday - (i < 2 ? 10 : 3) * d + i * HOUR);
        sql("INSERT INTO customers (id, owner_rep_id, created_at) VALUES ('%s-L%d', '%s-R', score_ts(%lld))",
            x, i, x, at);
        sql("INSERT INTO deals (id, customer_id, stage, stage_since, owner_rep_id, created_at, "
            "last_status_update_at) "
            "VALUES ('%s-LD%d', '%s-L%d', 'lead', score_ts(%lld), '%s-R', score_ts(%lld), score_ts(%lld))",
            x, i, x, i, at, x, at, at);
    }

    score_eval e;
    assert_true(met(SCORE_NO_PROGRESS_AFTER_VISIT, deal, NULL, t, &e));
    assert_false(met(SCORE_NO_PROGRESS_AFTER_VISIT, deal, NULL, t - 4 * d, &e)); /* 6 days after the visit */
    assert_true(met(SCORE_KEY_ROLE_UNCOVERED, deal, NULL, t, &e));
    assert_true(has_tag(&e, "role:procurement"));
    assert_true(has_tag(&e, "role:decision_maker"));
    assert_true(met(SCORE_COMPETITOR_SURGE, deal, NULL, t, &e));
    assert_int_equal((int)e.obs.value, 6);
    assert_true(has_tag(&e, "competitor:seewo"));
    assert_true(met(SCORE_DEMO_REFUSED_TWICE, deal, NULL, t, &e));
    assert_true(has_tag(&e, "pack:technical_doubt"));
    assert_false(met(SCORE_DEMO_REFUSED_TWICE, deal, NULL, t - 4 * d, &e)); /* only one refusal then */
    assert_true(met(SCORE_STAGE_STALLED, deal, NULL, t, &e)); /* 40 days in proposal > 31.5 */
    assert_false(met(SCORE_STAGE_STALLED, deal, NULL, t - 10 * d, &e)); /* 30 days */
    assert_true(met(SCORE_RISK_RAISED, deal, "budget_freeze", t, &e));
    assert_int_equal(e.obs.level, 2);
    assert_false(met(SCORE_RISK_RAISED, deal, "price", t, &e));
    assert_false(met(SCORE_RISK_RAISED, deal, "budget_freeze", t + 40 * d, &e)); /* aged out */
    assert_true(met(SCORE_UNANSWERED_INBOUND, deal, NULL, t, &e));
    assert_int_equal(e.obs.level, 2); /* 72 hours */
    assert_true(met(SCORE_INTEREST_WARMING, cust, NULL, t, &e));
    assert_false(met(SCORE_CUSTOMER_STALE, cust, NULL, t, &e));
    assert_true(met(SCORE_KEY_ACTION_MISSING, "x-unknown-rep", NULL, t, &e) == 0);
    char rep[96], region[96], team[96];
    snprintf(rep, sizeof rep, "%s-R", x);
    snprintf(region, sizeof region, "%s-G", x);
    snprintf(team, sizeof team, "%s-T", x);
    assert_true(met(SCORE_KEY_ACTION_MISSING, rep, NULL, t, &e));
    assert_string_equal(e.region_id, region);
    assert_true(met(SCORE_STATUS_NOT_UPDATED, rep, NULL, t, &e)); /* last update: the visit 10 days ago */
    char dtag[128];
    snprintf(dtag, sizeof dtag, "deal:%s", deal);
    assert_true(has_tag(&e, dtag));
    assert_true(met(SCORE_FIRST_VISIT_TIMEOUT, region, NULL, t, &e));
    assert_string_equal(e.subject_name, "华东");
    assert_false(met(SCORE_FUNNEL_COLLAPSE, team, NULL, t, &e)); /* too few deals to judge */
    /* the past as it was: before the proposal stage the deal was a lead (norm 14 x 1.5) */
    assert_int_equal(
        score_facts_eval(F.db, F.svc.rules, F.cal, SCORE_STAGE_STALLED, deal, NULL, t - 41 * d, &e), SP_OK);
    assert_true(has_tag(&e, "stage:lead"));

    /* an event on the deal scores its health; the roll-ups see it */
    snprintf(ev, sizeof ev, "%s-m3", x);
    ins_interaction(ev, t, cust, deal, "wecom", "outbound", 0, NULL);
    drive_event(ev, t, cust, deal, SALESPULSE__V1__CHANNEL__CHANNEL_WECOM,
        SALESPULSE__V1__DIRECTION__DIRECTION_OUTBOUND, 0);
    long long score = sql_int("SELECT score FROM deal_health WHERE deal_id = '%s'", deal);
    assert_true(score >= 0 && score <= 100);
    assert_int_equal(
        sql_int("SELECT jsonb_array_length(dims->'dimensions') FROM deal_health WHERE deal_id = '%s'", deal),
        10);
    /* the rep's deals: this one and the one of test_unanswered_inbound_levels */
    assert_int_equal(sql_int("SELECT deals FROM rep_health WHERE rep_id = '%s'", rep), 2);
    assert_int_equal(
        sql_int("SELECT count(*) FROM rep_health r JOIN region_health g ON g.score = r.score AND g.deals = "
                "r.deals WHERE r.rep_id = '%s' AND g.region_id = '%s'",
            rep, region),
        1);
    /* key roles: only the decision maker ever took part (45 days ago) -> red */
    assert_int_equal(
        sql_int("SELECT (SELECT d->>'colour' = 'red' FROM jsonb_array_elements(dims->'dimensions') d "
                "WHERE d->>'name' = 'key_role_coverage')::int FROM deal_health WHERE deal_id = '%s'",
            deal),
        1);
    /* the reply cleared the unanswered signal raised by nobody: still inactive, no row churn */
    assert_int_equal(state_active("deal.unanswered_inbound", deal), 0);
    /* health is for open deals: once the deal is lost, an event on it leaves its health as it
     * stood while open (the roll-ups count open deals only) */
    long long scored_at = sql_int("SELECT score_ms(updated_at) FROM deal_health WHERE deal_id = '%s'", deal);
    assert_int_equal(scored_at, t);
    sql("INSERT INTO deal_stage_history VALUES ('%s', '%s-lost', 'proposal', 'lost', score_ts(%lld))", deal,
        deal, (long long)(t + d));
    snprintf(ev, sizeof ev, "%s-m4", x);
    ins_interaction(ev, t + 2 * d, cust, deal, "wecom", "outbound", 0, NULL);
    drive_event(ev, t + 2 * d, cust, deal, SALESPULSE__V1__CHANNEL__CHANNEL_WECOM,
        SALESPULSE__V1__DIRECTION__DIRECTION_OUTBOUND, 0);
    assert_int_equal(sql_int("SELECT score_ms(updated_at) FROM deal_health WHERE deal_id = '%s'", deal), t);
    /* every query run once (pipelined), found again by the second pass;
     * most in their set forms (the evaluation EARLY before) */
    assert_true(CC_runs > 0 && CC_hits >= CC_runs / 2);
    assert_true(CC_grouped > CC_runs / 2);
    score_memo_destroy(CC);
    CC = NULL;
}

/* A second instance holding the sweep lock: this one skips the boundary. */
static void test_sweep_lock_skips(void **state)
{
    (void)state;
    PGconn *other = PQconnectdb(itest_env("SP_PG_URL"));
    assert_int_equal(PQstatus(other), CONNECTION_OK);
    PGresult *r = PQexec(other, "BEGIN; SELECT pg_advisory_xact_lock(hashtext('sp-score.sweep'))");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    PQclear(r);
    sql("DELETE FROM score_sweeps");
    int ran = -1;
    assert_int_equal(score_svc_sweep_at(&F.svc, F.db, T0 + 300 * DAY, &ran), SP_OK);
    assert_int_equal(ran, 0);
    assert_int_equal(sql_int("SELECT count(*) FROM score_sweeps"), 0);
    PQclear(PQexec(other, "COMMIT"));
    assert_int_equal(score_svc_sweep_at(&F.svc, F.db, T0 + 300 * DAY, &ran), SP_OK);
    assert_int_equal(ran, 1);
    /* done once: the same boundary again is a no-op */
    assert_int_equal(score_svc_sweep_at(&F.svc, F.db, T0 + 300 * DAY, &ran), SP_OK);
    assert_int_equal(ran, 0);
    PQfinish(other);
}

/* Event clock: the sweeps a stretch's transaction ran count only once it
 * commits. A pass that ran its tail of sweeps and then did not commit (a
 * failed delivery or commit) left them in tail_done; a later stretch that
 * ran no tail counted them, and the boundaries up to there were never
 * swept (sweep_done_ms jumped; a restart would have run them). (Daily
 * sweeps.) */
static void test_uncommitted_tail_not_counted(void **state)
{
    (void)state;
    char cust[96], e1[128], e2[128];
    snprintf(cust, sizeof cust, "%s-TAIL", F.pfx);
    snprintf(e1, sizeof e1, "%s-t1", cust);
    snprintf(e2, sizeof e2, "%s-t2", cust);
    customer_new(cust);
    sp_clock *manual = event_clock_begin();
    const int64_t done = touched_and_swept(cust, e1);
    /* a pass that swept to T0 + 40 d and rolled back; then an event before
     * the next boundary, none passed: no tail */
    F.svc.tail_done = T0 + 40 * DAY;
    F.svc.tail_ran = 30;
    size_t l;
    bus_result res[1];
    ins_interaction(e2, T0 + 10 * DAY + HOUR, cust, NULL, "wecom", "outbound", 0, NULL);
    uint8_t *b = enriched(e2, T0 + 10 * DAY + HOUR, cust, NULL, SALESPULSE__V1__CHANNEL__CHANNEL_WECOM,
        SALESPULSE__V1__DIRECTION__DIRECTION_OUTBOUND, 0, &l);
    drive_batch((const uint8_t *[]) {b}, (size_t[]) {l}, (int[]) {0}, (int[]) {0}, 1, res);
    assert_int_equal(res[0], BUS_OK);
    assert_int_equal(sql_int("SELECT count(*) FROM processed_events WHERE event_id = 'enr:%s'", e2), 1);
    assert_true(F.svc.sweep_done_ms == done);
    free(b);
    event_clock_end(manual);
}

/* Event clock: a stretch whose transaction fails (here its processed_events
 * insert waits on another transaction past lock_timeout; in life a
 * deadlock, a delivery timeout) is retried, and the sweeps after the batch
 * stop before it: they used to run to the watermark and judge the
 * boundaries after the event without it, which then came after its sweeps.
 * (Daily sweeps.) */
static void test_failed_stretch_stops_sweeps(void **state)
{
    (void)state;
    char cust[96], e1[128], e2[128];
    snprintf(cust, sizeof cust, "%s-FAIL", F.pfx);
    snprintf(e1, sizeof e1, "%s-f1", cust);
    snprintf(e2, sizeof e2, "%s-f2", cust);
    customer_new(cust);
    sp_clock *manual = event_clock_begin();
    const int64_t day10 = touched_and_swept(cust, e1), day20 = (T0 + 20 * DAY) / DAY * DAY;
    uint8_t *b, hb[128];
    size_t l, lh;
    bus_result res[2];
    /* the next event's transaction fails; time has moved 10 days on */
    PGconn *other = PQconnectdb(itest_env("SP_PG_URL"));
    assert_int_equal(PQstatus(other), CONNECTION_OK);
    char q[512];
    snprintf(q, sizeof q,
        "BEGIN; INSERT INTO processed_events (consumer, event_id) VALUES ('sp-score', 'enr:%s')", e2);
    PGresult *r = PQexec(other, q);
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    assert_int_equal(sp_db_exec(F.db, "SET lock_timeout = '300ms'", 0, NULL, NULL), SP_OK);
    ins_interaction(e2, T0 + 10 * DAY + HOUR, cust, NULL, "wecom", "outbound", 0, NULL);
    g_upstream = T0 + 20 * DAY;
    b = enriched(e2, T0 + 10 * DAY + HOUR, cust, NULL, SALESPULSE__V1__CHANNEL__CHANNEL_WECOM,
        SALESPULSE__V1__DIRECTION__DIRECTION_OUTBOUND, 0, &l);
    assert_int_equal(sp_watermark_pack_enriched(T0 + 20 * DAY, hb, sizeof hb, &lh), SP_OK);
    drive_batch((const uint8_t *[]) {b, hb}, (size_t[]) {l, lh}, (int[]) {0, 0}, (int[]) {0, 0}, 2, res);
    assert_int_equal(res[0], BUS_RETRY);
    assert_true(F.svc.sweep_done_ms == day10);
    score_svc_idle(&F.svc, F.db);
    assert_true(F.svc.sweep_done_ms == day10);
    /* the other transaction goes: the retry applies the event, then the sweeps */
    PQclear(PQexec(other, "ROLLBACK"));
    PQfinish(other);
    assert_int_equal(sp_db_exec(F.db, "RESET lock_timeout", 0, NULL, NULL), SP_OK);
    drive_batch((const uint8_t *[]) {b, hb}, (size_t[]) {l, lh}, (int[]) {0, 0}, (int[]) {0, 0}, 2, res);
    assert_int_equal(res[0], BUS_OK);
    assert_int_equal(sql_int("SELECT count(*) FROM processed_events WHERE event_id = 'enr:%s'", e2), 1);
    assert_true(F.svc.sweep_done_ms == day20);
    free(b);
    event_clock_end(manual);
}

/* A local day begins: every open deal is re-scored at that boundary - one
 * no event touched (never scored) and one scored two days before - but not
 * one opened after it; sweeps within a day re-score nothing. */
static void test_health_refresh_daily(void **state)
{
    (void)state;
    char cust[96], quiet[96], old[96], later[96];
    snprintf(cust, sizeof cust, "%s-HR", F.pfx);
    snprintf(quiet, sizeof quiet, "%s-HR-quiet", F.pfx);
    snprintf(old, sizeof old, "%s-HR-old", F.pfx);
    snprintf(later, sizeof later, "%s-HR-later", F.pfx);
    customer_new(cust);
    /* a local midnight (Asia/Shanghai, the calendar's zone) */
    int64_t mid = calendar_day_start_ms(F.cal, calendar_local_day(F.cal, T0 + 300 * DAY) + 1);
    const char *ids[3] = {quiet, old, later};
    int64_t created[3] = {mid - 20 * DAY, mid - 20 * DAY, mid + 5 * DAY};
    for (int k = 0; k < 3; k++) {
        sql("INSERT INTO deals (id, customer_id, name, stage, stage_since, owner_rep_id, created_at, "
            "last_status_update_at) VALUES ('%s', '%s', 'x', 'demo', score_ts(%lld), '%s-HRR', "
            "score_ts(%lld), "
            "score_ts(%lld))",
            ids[k], cust, (long long)created[k], F.pfx, (long long)created[k], (long long)created[k]);
        sql("INSERT INTO deal_stage_history VALUES ('%s', '%s-sc', '', 'demo', score_ts(%lld))", ids[k],
            ids[k], (long long)created[k]);
    }
    sql("INSERT INTO deal_health VALUES ('%s', 50, 'yellow', '{}', score_ts(%lld))", old,
        (long long)(mid - 2 * DAY));
#define AT "SELECT coalesce((SELECT score_ms(updated_at) FROM deal_health WHERE deal_id = '%s'), 0)"
    sweeps_restart();
    F.svc.sweep_every_ms = HOUR;
    sweep_to(mid - 2 * HOUR); /* the first sweep since the start: no day began since one */
    score_svc_idle(&F.svc, F.db);
    sweep_to(mid - HOUR);
    score_svc_idle(&F.svc, F.db);
    assert_int_equal(sql_int(AT, quiet), 0);
    assert_int_equal(sql_int(AT, old), mid - 2 * DAY);
    sweep_to(mid + HOUR); /* boundaries mid and mid + 1 h */
    score_svc_idle(&F.svc, F.db);
    assert_int_equal(sql_int(AT, quiet), mid + HOUR);
    assert_int_equal(sql_int(AT, old), mid + HOUR);
    assert_int_equal(sql_int(AT, later), 0);
    assert_int_equal(
        sql_int("SELECT jsonb_array_length(dims->'dimensions') FROM deal_health WHERE deal_id = '%s'", quiet),
        10);
    assert_int_equal(F.svc.health_refresh_ms, 0); /* done in one round */
    /* the roll-ups as of the same boundary: the deals entered demo 20 days before */
    assert_int_equal(sql_int("SELECT as_of_ms FROM score_rollups WHERE subject_type = 'rep' AND subject_id = "
                             "'%s-HRR' AND metric = 'conversion:demo_to_proposal' AND win = '30d'",
                         F.pfx),
        mid + HOUR);
    /* a late event of the day before (ingest lag): the deal is scored again at the
     * refresh's time, now counting it - at its own time the upsert would refuse it */
#define DIMS                                                                                                 \
    "SELECT ('x' || substr(md5(dims::text), 1, 15))::bit(60)::bigint FROM deal_health WHERE deal_id = '%s'"
    char ev[128];
    long long before = sql_int(DIMS, quiet);
    snprintf(ev, sizeof ev, "%s-late", quiet);
    ins_interaction(ev, mid - 3 * HOUR, cust, quiet, "wecom", "inbound", 1, "{}");
    drive_event(ev, mid - 3 * HOUR, cust, quiet, SALESPULSE__V1__CHANNEL__CHANNEL_WECOM,
        SALESPULSE__V1__DIRECTION__DIRECTION_INBOUND, 1);
    score_svc_idle(&F.svc, F.db);
    assert_int_equal(sql_int(AT, quiet), mid + HOUR);
    assert_true(sql_int(DIMS, quiet) != before);
#undef DIMS
    sweep_to(mid + 2 * HOUR); /* the same day: nothing again */
    sql("UPDATE deal_health SET updated_at = score_ts(%lld) WHERE deal_id = '%s'", (long long)(mid - DAY),
        old);
    score_svc_idle(&F.svc, F.db);
    assert_int_equal(sql_int(AT, old), mid - DAY);
    F.svc.sweep_every_ms = DAY;
#undef AT
}

/* Roll-ups (rollups.h): a rep of a team of a region (the region through
 * the team); five deals entered demo, four 10 days before the boundary (one
 * went on to proposal) and one 100 days before (it did too): demo ->
 * proposal is 1 of 4 over 30 days, 2 of 5 over 180. Three new leads on the
 * boundary week's Monday 09:00: answered in 2 h, visited after 60 h, not
 * answered 49 h on; an imported one does not count: 2 of 3 late. */
static void test_rollups(void **state)
{
    (void)state;
    const char *x = F.pfx;
    int y, w;
    calendar_iso_week(calendar_local_day(F.cal, T0 + 400 * DAY), &y, &w);
    int32_t monday = calendar_iso_week_monday(y, w);
    int64_t t = calendar_day_start_ms(F.cal, monday + 2) + 10 * HOUR,
            mon9 = calendar_day_start_ms(F.cal, monday) + 9 * HOUR;
    sql("INSERT INTO regions (id, name) VALUES ('%s-UG', 'g')", x);
    sql("INSERT INTO teams (id, name, region_id) VALUES ('%s-UT', 't', '%s-UG')", x, x);
    sql("INSERT INTO people (id, name, role, team_id) VALUES ('%s-UR', 'r', 'rep', '%s-UT')", x, x);
    sql("INSERT INTO customers (id, owner_rep_id, created_at) VALUES ('%s-UC0', '%s-UR', score_ts(%lld))", x,
        x, (long long)(t - 300 * DAY));
    for (int k = 1; k <= 5; k++) {
        int64_t demo = t - (k == 5 ? 100 : 10) * DAY;
        sql("INSERT INTO deals (id, customer_id, name, stage, stage_since, owner_rep_id, created_at, "
            "last_status_update_at) VALUES ('%s-UD%d', '%s-UC0', 'x', 'demo', score_ts(%lld), '%s-UR', "
            "score_ts(%lld), score_ts(%lld))",
            x, k, x, (long long)demo, x, (long long)(t - 200 * DAY), (long long)demo);
        sql("INSERT INTO deal_stage_history VALUES ('%s-UD%d', '%s-UD%d-h1', 'qualified', 'demo', "
            "score_ts(%lld))",
            x, k, x, k, (long long)demo);
        if (k == 1 || k == 5)
            sql("INSERT INTO deal_stage_history VALUES ('%s-UD%d', '%s-UD%d-h2', 'demo', 'proposal', "
                "score_ts(%lld))",
                x, k, x, k, (long long)(demo + 5 * DAY));
    }
    for (int k = 1; k <= 4; k++) {
        char cust[96], ev[128];
        snprintf(cust, sizeof cust, "%s-UL%d", x, k);
        sql("INSERT INTO customers (id, owner_rep_id, created_at) VALUES ('%s', '%s-UR', score_ts(%lld))",
            cust, x, (long long)mon9);
        sql("INSERT INTO deals (id, customer_id, name, stage, stage_since, owner_rep_id, created_at, "
            "last_status_update_at, imported_last_status_update_at) VALUES ('%s-L', '%s', 'x', 'lead', "
            "score_ts(%lld), '%s-UR', score_ts(%lld), score_ts(%lld), %s)",
            cust, cust, (long long)mon9, x, (long long)mon9, (long long)mon9,
            k == 4 ? "score_ts(0)" : "NULL");
        snprintf(ev, sizeof ev, "%s-first", cust);
        if (k == 1) ins_interaction(ev, mon9 + 2 * HOUR, cust, NULL, "wecom", "outbound", 0, NULL);
        if (k == 2) {
            ins_interaction(ev, mon9 + 60 * HOUR, cust, NULL, "activity", "internal", 0, NULL);
            sql("UPDATE interactions SET activity_kind = 'visit' WHERE event_id = '%s'", ev);
        }
    }
    long rows = 0;
    assert_int_equal(sp_db_begin(F.db), SP_OK);
    assert_int_equal(score_rollups_write(F.db, F.svc.rules, F.cal, t, &rows), SP_OK);
    assert_int_equal(sp_db_commit(F.db), SP_OK);
    assert_true(rows >= 15);
#define RU(type, id, metric, win)                                                                            \
    sql_int("SELECT coalesce((SELECT num * 1000 + den FROM score_rollups WHERE subject_type = '%s' AND "     \
            "subject_id = '%s-%s' AND metric = '%s' AND win = '%s'), -1)",                                   \
        type, x, id, metric, win)
    char wk[16];
    snprintf(wk, sizeof wk, "%04d-W%02d", y, w);
    const char *types[3] = {"rep", "team", "region"}, *ids[3] = {"UR", "UT", "UG"};
    for (int k = 0; k < 3; k++) {
        assert_int_equal(RU(types[k], ids[k], "conversion:demo_to_proposal", "30d"), 1004);
        assert_int_equal(RU(types[k], ids[k], "conversion:demo_to_proposal", "180d"), 2005);
        assert_int_equal(RU(types[k], ids[k], "conversion:proposal_to_negotiation", "180d"), 2);
        assert_int_equal(RU(types[k], ids[k], "conversion:lead_to_qualified", "30d"), -1); /* none entered */
        assert_int_equal(RU(types[k], ids[k], "first_visit_timeout_share", wk), 2003);
    }
    assert_int_equal(
        sql_int("SELECT round(rate * 100) FROM score_rollups WHERE subject_type = 'team' AND "
                "subject_id = '%s-UT' AND metric = 'conversion:demo_to_proposal' AND win = '30d'",
            x),
        25);
    /* 40 days on, nothing entered demo in 30 days: those rows go, the 180-day ones stay */
    assert_int_equal(sp_db_begin(F.db), SP_OK);
    assert_int_equal(score_rollups_write(F.db, F.svc.rules, F.cal, t + 40 * DAY, NULL), SP_OK);
    assert_int_equal(sp_db_commit(F.db), SP_OK);
    assert_int_equal(RU("team", "UT", "conversion:demo_to_proposal", "30d"), -1);
    assert_int_equal(RU("team", "UT", "conversion:demo_to_proposal", "180d"), 2005);
    assert_int_equal(RU("team", "UT", "first_visit_timeout_share", wk), 2003); /* a week's row stays */
#undef RU
}

/* The event clock's single writer (event_lock.h): a second instance waits
 * while the first holds the lock and takes it once released; an instance
 * whose session was lost (PostgreSQL restarted, here: terminated) while
 * another took the lock must stop, and takes it again once free; a stop
 * while standing by ends the wait. */
struct lock_wait {
    score_event_lock *l;
    volatile sig_atomic_t stop;
    volatile int done;
    sp_err rv;
};

static void *lock_wait_main(void *arg)
{
    struct lock_wait *w = arg;
    w->rv = score_event_lock_take(itest_env("SP_PG_URL"), NULL, &w->stop, &w->l);
    w->done = 1;
    return NULL;
}

static void test_event_lock_single_writer(void **state)
{
    (void)state;
    score_event_lock *a = NULL;
    assert_int_equal(score_event_lock_take(itest_env("SP_PG_URL"), NULL, NULL, &a), SP_OK);
    assert_int_equal(score_event_lock_held(a), 1);
    struct lock_wait b = {0}, c = {0}, d = {.stop = 1};
    pthread_t tb, tc;
    assert_int_equal(pthread_create(&tb, NULL, lock_wait_main, &b), 0);
    usleep(1500 * 1000);
    assert_false(b.done); /* a holds it */
    score_event_lock_destroy(a);
    pthread_join(tb, NULL);
    assert_int_equal(b.rv, SP_OK);
    /* b's session ends; c takes the lock; b must stop */
    assert_true(
        sql_int("SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' AND "
                "objsubid = 1 AND granted")
        >= 1);
    assert_int_equal(pthread_create(&tc, NULL, lock_wait_main, &c), 0);
    pthread_join(tc, NULL);
    assert_int_equal(c.rv, SP_OK);
    usleep(250 * 1000); /* past b's last check */
    assert_int_equal(score_event_lock_held(b.l), 0);
    /* a stop while standing by */
    lock_wait_main(&d);
    assert_int_equal(d.rv, SP_ECLOSED);
    assert_null(d.l);
    /* c stops: b takes it again */
    score_event_lock_destroy(c.l);
    usleep(250 * 1000);
    assert_int_equal(score_event_lock_held(b.l), 1);
    score_event_lock_destroy(b.l);
}

/* --- measurements (SP_SCORE_BENCH=1) ---------------------------------------------- */

static void test_bench(void **state)
{
    (void)state;
    if (!getenv("SP_SCORE_BENCH")) {
        skip();
        return;
    }
    const char *nc = getenv("SP_SCORE_BENCH_CUSTOMERS");
    const char *ne = getenv("SP_SCORE_BENCH_EVENTS");
    long customers = nc ? atol(nc) : 100000, deals = customers / 5, events = ne ? atol(ne) / 500 * 500 : 5000;
    const int64_t T = 1811808000000LL; /* 2027-06-01T00:00:00Z: an era of its own */
    char p[96];
    snprintf(p, sizeof p, "%s-b", F.pfx);
    int64_t w0 = sp_wall_ms();
    /* book: customers last heard 30 days + 0..99 hours before T (1% in the last hour's slice) */
    sql("INSERT INTO customers (id, owner_rep_id, created_at, last_interaction_at) SELECT '%s-C' || g, "
        "'%s-R' || (g %% 1000), "
        "score_ts(%lld) - interval '200 days', score_ts(%lld) - interval '30 days' - (g %% 100) * interval "
        "'1 hour' "
        "+ interval '1 minute' FROM generate_series(1, %ld) g",
        p, p, (long long)T, (long long)T, customers);
    sql("INSERT INTO interactions (event_id, occurred_at, source, channel, direction, customer_id, "
        "customer_side) "
        "SELECT '%s-I' || g, score_ts(%lld) - interval '30 days' - (g %% 100) * interval '1 hour' + interval "
        "'1 minute', "
        "'bench', 'wecom', 'inbound', '%s-C' || g, true FROM generate_series(1, %ld) g",
        p, (long long)T, p, customers);
    sql("INSERT INTO deals (id, customer_id, stage, stage_since, owner_rep_id, created_at, "
        "last_status_update_at) "
        "SELECT '%s-D' || g, '%s-C' || g, 'demo', score_ts(%lld) - interval '100 days', '%s-R' || (g %% "
        "1000), "
        "score_ts(%lld) - interval '100 days', score_ts(%lld) - interval '5 days' - (g %% 100) * interval '1 "
        "hour' "
        "+ interval '1 minute' FROM generate_series(1, %ld) g",
        p, p, (long long)T, p, (long long)T, (long long)T, deals);
    sql("INSERT INTO interactions (event_id, occurred_at, source, channel, direction, customer_id, deal_id, "
        "rep_id) "
        "SELECT '%s-N' || g, score_ts(%lld) - interval '5 days' - (g %% 100) * interval '1 hour' + interval "
        "'1 minute', "
        "'bench', 'note', 'internal', '%s-C' || g, '%s-D' || g, '%s-R' || (g %% 1000) FROM "
        "generate_series(1, %ld) g",
        p, (long long)T, p, p, p, deals);
    sql("ANALYZE customers; ANALYZE deals; ANALYZE interactions");
    int64_t w1 = sp_wall_ms();
    fprintf(stderr, "bench: book of %ld customers, %ld open deals generated in %lld ms\n", customers, deals,
        (long long)(w1 - w0));

    /* one sweep boundary at T: 1%% of customers and deals crossed their line in (T - 1 h, T] */
    F.svc.sweep_every_ms = HOUR;
    sql("DELETE FROM score_sweeps");
    int ran = 0;
    int64_t s0 = sp_wall_ms();
    unsigned long sig0 = F.svc.signals;
    assert_int_equal(score_svc_sweep_at(&F.svc, F.db, T, &ran), SP_OK);
    int64_t s1 = sp_wall_ms();
    assert_int_equal(ran, 1);
    long stale = (long)sql_int("SELECT count(*) FROM signal_state WHERE kind = 'customer.stale' AND active "
                               "AND subject_id LIKE '%s-C%%'",
        p);
    fprintf(stderr, "bench: sweep at one boundary: %lld ms, %lu signals (%ld customers stale)\n",
        (long long)(s1 - s0), F.svc.signals - sig0, stale);
    assert_int_equal(stale, customers / 100 - deals / 100); /* customers with a deal had a note 5 days ago */

    /* events through the handler in batches of 500, PostgreSQL state, real Kafka */
    enum { BATCH = 500 };
    bus_msg msgs[BATCH];
    uint8_t *bufs[BATCH];
    bus_result res[BATCH];
    static char reasons[BATCH][BUS_REASON_LEN];
    int64_t e0 = sp_wall_ms();
    for (long i = 0; i < events; i += BATCH) {
        for (int k = 0; k < BATCH; k++) {
            char ev[160], cust[160], deal[160];
            long g = (i + k) % customers + 1;
            snprintf(ev, sizeof ev, "%s-E%ld", p, i + k);
            snprintf(cust, sizeof cust, "%s-C%ld", p, g);
            snprintf(deal, sizeof deal, "%s-D%ld", p, g);
            size_t len;
            bufs[k] = enriched(ev, T + HOUR + i + k, cust, g <= deals ? deal : NULL,
                SALESPULSE__V1__CHANNEL__CHANNEL_WECOM, SALESPULSE__V1__DIRECTION__DIRECTION_INBOUND, 1,
                &len);
            msgs[k] = (bus_msg) {
                .topic = SP_TOPIC_ENRICHED, .partition = 0, .offset = i + k, .payload = bufs[k], .len = len};
        }
        score_svc_batch(&F.svc, F.db, msgs, BATCH, res, reasons);
        for (int k = 0; k < BATCH; k++) {
            assert_int_equal(res[k], BUS_OK);
            free(bufs[k]);
        }
    }
    int64_t e1 = sp_wall_ms();
    fprintf(stderr, "bench: %ld enriched events through the handler in %lld ms: %.0f events/s\n", events,
        (long long)(e1 - e0), events * 1000.0 / (double)(e1 - e0 > 0 ? e1 - e0 : 1));
    F.svc.sweep_every_ms = DAY;
}

int main(void)
{
    /* make bench: the measurement alone */
    if (getenv("SP_SCORE_BENCH") && !strcmp(getenv("SP_SCORE_BENCH"), "only"))
        cmocka_set_test_filter("test_bench");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stale_raise_clear_redeliver_replay),
        cmocka_unit_test(test_unanswered_inbound_levels),
        cmocka_unit_test(test_unanswered_answer_paths),
        cmocka_unit_test(test_poison_dead_lettered),
        cmocka_unit_test(test_batch_with_poison_keeps_the_rest),
        cmocka_unit_test(test_watermark_heartbeat),
        cmocka_unit_test(test_event_ahead_of_sweeps),
        cmocka_unit_test(test_event_before_any_sweep),
        cmocka_unit_test(test_events_in_event_time_order),
        cmocka_unit_test(test_every_kind_loads),
        cmocka_unit_test(test_sweep_lock_skips),
        cmocka_unit_test(test_uncommitted_tail_not_counted),
        cmocka_unit_test(test_failed_stretch_stops_sweeps),
        cmocka_unit_test(test_health_refresh_daily),
        cmocka_unit_test(test_rollups),
        cmocka_unit_test(test_event_lock_single_writer),
        cmocka_unit_test(test_bench),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
