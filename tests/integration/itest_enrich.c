/* sp-enrich's handler against the real PostgreSQL and Kafka: cards carry the
 * customer's own words and their sources; an L1 fact never overwrites an L3
 * one (kept as a visible conflict); a redelivered batch changes no row; a
 * poison message is dead while the rest of the batch is applied; merging two
 * customers keeps every interaction and fact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "bus.h"
#include "clock.h"
#include "db.h"
#include "enrich/enrich_svc.h"
#include "err.h"
#include "itest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef Salespulse__V1__Interaction Ix;

static char prefix[32];

/* Packs an interaction of customer (wecom identity) with text; signed adds
 * a signed requirements attachment (e-mail, L3). */
static uint8_t *make(const char *ext, const char *who, Salespulse__V1__Channel ch, const char *text,
    int signed_att, int64_t at, size_t *len)
{
    Ix ix = SALESPULSE__V1__INTERACTION__INIT;
    Salespulse__V1__EventMeta m = SALESPULSE__V1__EVENT_META__INIT;
    Salespulse__V1__Identity id = SALESPULSE__V1__IDENTITY__INIT;
    Salespulse__V1__EmailInfo em = SALESPULSE__V1__EMAIL_INFO__INIT;
    Salespulse__V1__Attachment a = SALESPULSE__V1__ATTACHMENT__INIT;
    Salespulse__V1__Attachment *as[] = {&a};
    char eid[128], idv[128];
    snprintf(eid, sizeof eid, "ix-%s%s", prefix, ext);
    snprintf(idv, sizeof idv, "%s%s", prefix, who);
    m.event_id = eid;
    m.occurred_at_ms = at;
    m.schema_version = 1;
    id.kind = SALESPULSE__V1__IDENTITY_KIND__IDENTITY_KIND_WECOM;
    id.value = idv;
    ix.meta = &m;
    ix.source = "itest";
    ix.external_id = (char *)ext;
    ix.channel = ch;
    ix.direction = SALESPULSE__V1__DIRECTION__DIRECTION_INBOUND;
    ix.customer_identity = &id;
    ix.rep_id = "P-R01";
    ix.text = (char *)text;
    if (signed_att) {
        a.name = "需求确认书.pdf";
        a.signed_ = 1;
        em.n_attachments = 1;
        em.attachments = as;
        ix.detail_case = SALESPULSE__V1__INTERACTION__DETAIL_EMAIL;
        ix.email = &em;
    }
    *len = salespulse__v1__interaction__get_packed_size(&ix);
    uint8_t *buf = malloc(*len);
    salespulse__v1__interaction__pack(&ix, buf);
    return buf;
}

struct fixture {
    extract_engine *engine;
    bus_producer *producer;
    sp_clock *clock;
    sp_db *db;
    enrich_svc svc;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    char err[512], cat[1024], lex[1024];
    snprintf(cat, sizeof cat, "%s/deploy/tenants/demo/catalog.json", itest_env("SP_ROOT"));
    snprintf(lex, sizeof lex, "%s/deploy/tenants/default/lexicon", itest_env("SP_ROOT"));
    if (extract_engine_new(cat, lex, err, sizeof err, &f->engine) != SP_OK) return -1;
    if (bus_producer_new(itest_env("SP_KAFKA_BOOTSTRAP"), "itest-enrich", &f->producer, err, sizeof err)
        != SP_OK)
        return -1;
    sp_clock_new(SP_CLOCK_EVENT, 1000, &f->clock);
    if (sp_db_open(itest_env("SP_PG_URL"), &f->db) != SP_OK) return -1;
    char *topic = itest_unique("itest-enriched");
    const char *topics[] = {topic, NULL};
    itest_topics(topics, 1);
    f->svc = (enrich_svc) {.engine = f->engine,
        .producer = f->producer,
        .clock = f->clock,
        .tz = "Asia/Shanghai",
        .out_topic = topic};
    snprintf(prefix, sizeof prefix, "e%d-", (int)getpid());
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    free((char *)f->svc.out_topic);
    sp_db_destroy(f->db);
    sp_clock_destroy(f->clock);
    bus_producer_destroy(f->producer);
    extract_engine_destroy(f->engine);
    free(f);
    return 0;
}

/* Runs one batch through the handler; returns the number of DEAD results. */
static int run_batch(struct fixture *f, uint8_t **bufs, size_t *lens, size_t n)
{
    bus_msg msgs[8];
    bus_result res[8];
    char reasons[8][BUS_REASON_LEN];
    for (size_t i = 0; i < n; i++)
        msgs[i] = (bus_msg) {.topic = SP_TOPIC_INTERACTIONS,
            .partition = 0,
            .offset = (int64_t)i,
            .payload = bufs[i],
            .len = lens[i]};
    enrich_svc_batch(&f->svc, f->db, msgs, n, res, reasons);
    int dead = 0;
    for (size_t i = 0; i < n; i++) {
        assert_int_not_equal(res[i], BUS_RETRY);
        if (res[i] == BUS_DEAD) {
            dead++;
            assert_true(strlen(reasons[i]) > 0);
        }
    }
    return dead;
}

__attribute__((format(printf, 1, 2))) static long long q(const char *fmt, ...)
{
    char sql[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    return itest_sql_int(sql);
}

static void test_card_levels_redelivery_poison_merge(void **state)
{
    struct fixture *f = *state;
    const int64_t T = 1772416800000LL;
    size_t lens[4];
    uint8_t *b[4];
    /* L3: a signed requirements e-mail states the budget; then L1 chat contradicts it */
    b[0] = make("m1", "wx-a", SALESPULSE__V1__CHANNEL__CHANNEL_EMAIL,
        "需求确认：X200 四十台，预算50万，6月底前交付。", 1, T, &lens[0]);
    b[1] = make("m2", "wx-a", SALESPULSE__V1__CHANNEL__CHANNEL_WECOM,
        "王校长: 预算只有30万了，还担心售后响应太慢", 0, T + 3600000, &lens[1]);
    uint8_t poison[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f};
    b[2] = poison;
    lens[2] = sizeof poison;
    b[3] = make("m3", "wx-b", SALESPULSE__V1__CHANNEL__CHANNEL_WECOM, "李主任: 我们想了解EC5教学云平台的报价",
        0, T + 7200000, &lens[3]);
    assert_int_equal(run_batch(f, b, lens, 4), 1); /* only the poison is dead */

    char cust_a[64];
    snprintf(cust_a, sizeof cust_a, "%swx-a", prefix);
    /* the L3 budget stays current; the L1 one is a visible conflict */
    assert_int_equal(
        q("SELECT count(*) FROM facts f JOIN contacts c ON c.customer_id = f.customer_id JOIN identities i "
          "ON i.contact_id = c.id WHERE i.value = '%s' AND f.field = 'budget' AND f.status = 'current' AND "
          "f.level = 3 AND f.value->>'max' = '500000'",
            cust_a),
        1);
    assert_int_equal(
        q("SELECT count(*) FROM facts f JOIN contacts c ON c.customer_id = f.customer_id JOIN identities i "
          "ON i.contact_id = c.id WHERE i.value = '%s' AND f.field = 'budget' AND f.status = 'conflict' AND "
          "f.level = 1 AND f.value->>'max' = '300000'",
            cust_a),
        1);
    /* the card: the customer's own words, with the interaction they came from */
    assert_int_equal(
        q("SELECT count(*) FROM customer_cards k JOIN contacts c ON c.customer_id = k.customer_id JOIN "
          "identities i ON i.contact_id = c.id WHERE i.value = '%s' AND k.concern LIKE '%%售后%%' AND "
          "k.concern_tag = 'after_sales' AND k.concern_source LIKE 'ix-%%m2'",
            cust_a),
        1);

    /* redelivery: the same batch changes no row */
    long long before
        = itest_sql_int("SELECT (SELECT count(*) FROM interactions) * 1000000 + (SELECT count(*) FROM "
                        "facts) * 1000 + (SELECT count(*) FROM customers)");
    long long cards = itest_sql_int("SELECT sum(hashtext(k::text)) FROM customer_cards k");
    assert_int_equal(run_batch(f, b, lens, 4), 1);
    assert_int_equal(
        itest_sql_int("SELECT (SELECT count(*) FROM interactions) * 1000000 + (SELECT count(*) FROM "
                      "facts) * 1000 + (SELECT count(*) FROM customers)"),
        before);
    assert_int_equal(itest_sql_int("SELECT sum(hashtext(k::text)) FROM customer_cards k"), cards);

    /* merge b into a: every interaction and fact now belongs to a */
    char sql[1024];
    snprintf(sql, sizeof sql,
        "SELECT count(*) FROM (SELECT customer_merge((SELECT c.customer_id FROM identities i JOIN contacts c "
        "ON c.id = "
        "i.contact_id WHERE i.value = '%swx-b'), (SELECT c.customer_id FROM identities i JOIN contacts c ON "
        "c.id = "
        "i.contact_id WHERE i.value = '%swx-a'))) m",
        prefix, prefix);
    assert_int_equal(itest_sql_int(sql), 1);
    snprintf(sql, sizeof sql,
        "SELECT count(*) FROM interactions WHERE event_id LIKE 'ix-%s%%' AND customer_id = (SELECT "
        "c.customer_id FROM "
        "identities i JOIN contacts c ON c.id = i.contact_id WHERE i.value = '%swx-a')",
        prefix, prefix);
    assert_int_equal(itest_sql_int(sql), 3);
    snprintf(sql, sizeof sql,
        "SELECT count(*) FROM facts WHERE field = 'product' AND value = '\"EC5\"' AND source_event_id LIKE "
        "'ix-%s%%' AND "
        "customer_id = (SELECT c.customer_id FROM identities i JOIN contacts c ON c.id = i.contact_id WHERE "
        "i.value = "
        "'%swx-a')",
        prefix, prefix);
    assert_int_equal(itest_sql_int(sql), 1);
    for (int i = 0; i < 4; i++)
        if (i != 2) free(b[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_card_levels_redelivery_poison_merge),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
