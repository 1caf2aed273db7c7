/* sp-score against the real PostgreSQL and Kafka: a fixture inserted as
 * sp-enrich would leave it, EnrichedInteractions driven straight into the
 * batch handler, sweeps on a manual clock, Signals read back from Kafka.
 *
 * SP_SCORE_BENCH=1 adds the measurements (events/s through the handler,
 * one sweep over a generated book of SP_SCORE_BENCH_CUSTOMERS customers,
 * default 100000, with 1% due). */
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
#include "score/rules.h"
#include "score/score_facts.h"
#include "score/score_svc.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    assert_int_equal(bus_producer_new(itest_env("SP_KAFKA_BOOTSTRAP"), "itest-score", &F.prod, err, sizeof err), SP_OK);
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
static void ins_interaction(const char *ev, int64_t at, const char *cust, const char *deal, const char *channel,
    const char *dir, int cside, const char *extraction)
{
    sql("INSERT INTO interactions (event_id, occurred_at, source, channel, direction, customer_id, deal_id, rep_id, "
        "customer_side, extraction) VALUES ('%s', score_ts(%lld), 'itest', '%s', '%s', '%s', nullif('%s',''), '%s-R', %s, "
        "'%s')",
        ev, (long long)at, channel, dir, cust, deal ? deal : "", F.pfx, cside ? "true" : "false",
        extraction ? extraction : "{}");
    sql("UPDATE customers SET last_interaction_at = greatest(last_interaction_at, score_ts(%lld)) WHERE id = '%s'",
        (long long)at, cust);
}

/* The EnrichedInteraction sp-enrich publishes for that interaction. */
static uint8_t *enriched(const char *ev, int64_t at, const char *cust, const char *deal, int channel, int dir, int cside,
    size_t *len)
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

static void drive_event(const char *ev, int64_t at, const char *cust, const char *deal, int channel, int dir, int cside)
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
    return (int)sql_int("SELECT coalesce((SELECT active::int FROM signal_state WHERE kind = '%s' AND subject_id = '%s'), -1)",
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
    assert_int_equal(sql_int("SELECT episode FROM signal_state WHERE kind = 'customer.stale' AND subject_id = '%s'", cust),
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
    sql("INSERT INTO customers (id, name, owner_rep_id, created_at) VALUES ('%s', '王校长', '%s-R', score_ts(%lld))", cust,
        F.pfx, (long long)(T0 - 60 * DAY));
    char ev1[128];
    snprintf(ev1, sizeof ev1, "%s-i1", cust);
    ins_interaction(ev1, T0, cust, NULL, "wecom", "inbound", 1, NULL);

    /* the loader + evaluator directly: not at 29 days, at 31 */
    score_eval ev;
    assert_int_equal(score_facts_eval(F.db, F.svc.rules, F.cal, SCORE_CUSTOMER_STALE, cust, NULL, T0 + 29 * DAY, &ev), SP_OK);
    assert_false(ev.obs.met);
    assert_int_equal(score_facts_eval(F.db, F.svc.rules, F.cal, SCORE_CUSTOMER_STALE, cust, NULL, T0 + 31 * DAY, &ev), SP_OK);
    assert_true(ev.obs.met);
    assert_string_equal(ev.ids[0], ev1);
    assert_string_equal(ev.subject_name, "王校长");

    char first[16][256], second[16][256];
    size_t n1 = stale_scenario(cust, "run1", first, 0);
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
    sql("INSERT INTO customers (id, owner_rep_id, created_at) VALUES ('%s', '%s-R', score_ts(%lld))", cust, F.pfx,
        (long long)(t - 10 * DAY));
    sql("INSERT INTO deals (id, customer_id, name, stage, stage_since, owner_rep_id, created_at, last_status_update_at) "
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
    drive_event(ev, t, cust, deal, SALESPULSE__V1__CHANNEL__CHANNEL_WECOM, SALESPULSE__V1__DIRECTION__DIRECTION_INBOUND, 1);
    assert_int_equal(state_active("deal.unanswered_inbound", deal), 0);
    sweep_to(t + 12 * HOUR);
    assert_int_equal(state_active("deal.unanswered_inbound", deal), 0);
    sweep_to(t + 30 * HOUR);
    assert_int_equal(state_active("deal.unanswered_inbound", deal), 1);
    assert_int_equal(sql_int("SELECT level FROM signal_state WHERE kind = 'deal.unanswered_inbound' AND subject_id = '%s'",
                         deal), 1);
    sweep_to(t + 54 * HOUR);
    assert_int_equal(sql_int("SELECT level FROM signal_state WHERE kind = 'deal.unanswered_inbound' AND subject_id = '%s'",
                         deal), 2);
    char ids[16][256];
    assert_int_equal(read_signals(deal, ids, 16, 2), 2);
    char want[256];
    snprintf(want, sizeof want, "sig:deal.unanswered_inbound:deal:%s:1:updated:2", deal);
    assert_string_equal(ids[1], want);
    F.svc.sweep_every_ms = DAY;
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
    long customers = nc ? atol(nc) : 100000, deals = customers / 5, events = 5000;
    const int64_t T = 1811808000000LL; /* 2027-06-01T00:00:00Z: an era of its own */
    char p[96];
    snprintf(p, sizeof p, "%s-b", F.pfx);
    int64_t w0 = sp_wall_ms();
    /* book: customers last heard 30 days + 0..99 hours before T (1% in the last hour's slice) */
    sql("INSERT INTO customers (id, owner_rep_id, created_at, last_interaction_at) SELECT '%s-C' || g, '%s-R' || (g %% 1000), "
        "score_ts(%lld) - interval '200 days', score_ts(%lld) - interval '30 days' - (g %% 100) * interval '1 hour' "
        "+ interval '1 minute' FROM generate_series(1, %ld) g",
        p, p, (long long)T, (long long)T, customers);
    sql("INSERT INTO interactions (event_id, occurred_at, source, channel, direction, customer_id, customer_side) "
        "SELECT '%s-I' || g, score_ts(%lld) - interval '30 days' - (g %% 100) * interval '1 hour' + interval '1 minute', "
        "'bench', 'wecom', 'inbound', '%s-C' || g, true FROM generate_series(1, %ld) g",
        p, (long long)T, p, customers);
    sql("INSERT INTO deals (id, customer_id, stage, stage_since, owner_rep_id, created_at, last_status_update_at) "
        "SELECT '%s-D' || g, '%s-C' || g, 'demo', score_ts(%lld) - interval '100 days', '%s-R' || (g %% 1000), "
        "score_ts(%lld) - interval '100 days', score_ts(%lld) - interval '5 days' - (g %% 100) * interval '1 hour' "
        "+ interval '1 minute' FROM generate_series(1, %ld) g",
        p, p, (long long)T, p, (long long)T, (long long)T, deals);
    sql("INSERT INTO interactions (event_id, occurred_at, source, channel, direction, customer_id, deal_id, rep_id) "
        "SELECT '%s-N' || g, score_ts(%lld) - interval '5 days' - (g %% 100) * interval '1 hour' + interval '1 minute', "
        "'bench', 'note', 'internal', '%s-C' || g, '%s-D' || g, '%s-R' || (g %% 1000) FROM generate_series(1, %ld) g",
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
    long stale = (long)sql_int("SELECT count(*) FROM signal_state WHERE kind = 'customer.stale' AND active AND subject_id LIKE '%s-C%%'", p);
    fprintf(stderr, "bench: sweep at one boundary: %lld ms, %lu signals (%ld customers stale)\n", (long long)(s1 - s0),
        F.svc.signals - sig0, stale);
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
            bufs[k] = enriched(ev, T + HOUR + i + k, cust, g <= deals ? deal : NULL, SALESPULSE__V1__CHANNEL__CHANNEL_WECOM,
                SALESPULSE__V1__DIRECTION__DIRECTION_INBOUND, 1, &len);
            msgs[k] = (bus_msg){.topic = SP_TOPIC_ENRICHED, .partition = 0, .offset = i + k, .payload = bufs[k], .len = len};
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
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stale_raise_clear_redeliver_replay),
        cmocka_unit_test(test_unanswered_inbound_levels),
        cmocka_unit_test(test_poison_dead_lettered),
        cmocka_unit_test(test_bench),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
