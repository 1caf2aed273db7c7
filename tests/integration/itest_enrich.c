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

#include <jansson.h>
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

/* The documents of one batch (P = this run's prefix): a new e-mail lead and
 * a colleague linked by domain, a CRM stage change creating a deal, a rep's
 * visit dated earlier (L2 budget, next step, concern), an in-batch
 * duplicate, a tracking event that does not touch, an L1 budget that
 * conflicts, a tie on time, a deal id never announced; a customer the CRM
 * names first (created by the batch, then named again with an e-mail address
 * of the lead's domain: the named customer wins), a new contact read with
 * its role by a later item, a contact given a role later and read with it,
 * through the same identity and through another. */
#define FX_DOC(ev, at, rest)                                                                                 \
    "{\"event_id\":\"fx-%1$s" ev "\",\"occurred_at_ms\":" at ",\"source\":\"itest\",\"external_id\":\"" ev   \
    "\",\"rep_id\":\"P-R01\",\"customer_side\":true,\"level\":1,\"touch\":true,\"rep_update\":false" rest    \
    "}"
static const char fx_docs[] = "[" FX_DOC("1", "1772416800000",
    ",\"channel\":\"email\",\"direction\":\"inbound\",\"id_kind\":\"email\",\"id_value\":"
    "\"wang@%1$sschool.cn\",\"party_name\":\"王校长\",\"party_title\":\"校长\",\"party_role\":\"decision_"
    "maker\","
    "\"text\":\"X200 四十台，预算50万\",\"core_need\":\"X200 "
    "四十台\",\"facts\":[{\"field\":\"budget\",\"value\":"
    "{\"min\":null,\"max\":500000,\"currency\":\"CNY\"},\"single\":true},{\"field\":\"product\","
    "\"value\":"
    "\"X200\",\"single\":false,\"quote\":\"X200 四十台\"},{\"field\":\"competitor\",\"value\":\"汉王\","
    "\"single\":false},{\"field\":\"product\",\"value\":\"X200\",\"single\":false}]") "," FX_DOC("2",
    "1772416801000",
    ",\"channel\":\"email\",\"direction\":\"inbound\",\"id_kind\":\"email\",\"id_value\":"
    "\"li@%1$sschool.cn\",\"party_title\":\"采购经理\",\"party_role\":\"procurement\",\"facts\":[]") "," FX_DOC("3",
    "1772416802000",
    ",\"channel\":\"crm\",\"direction\":\"internal\",\"id_kind\":\"email\",\"id_value\":"
    "\"wang@%1$sschool.cn\",\"rep_update\":true,\"stage_change\":{\"deal_id\":\"D-%1$s1\",\"to_stage\":"
    "\"needs_diagnosis\",\"amount\":300000,\"deal_name\":\"X200\",\"product_ids\":[\"X200\"]},\"facts\":["
    "]") "," FX_DOC("4", "1772416800500",
    ",\"channel\":\"activity\",\"direction\":\"internal\",\"id_kind\":\"email\","
    "\"id_value\":\"wang@%1$sschool.cn\",\"level\":2,\"rep_update\":true,\"activity_kind\":\"visit\","
    "\"quality_passed\":true,\"next_step\":\"送样机\",\"next_step_due_ms\":1772503200000,\"concern\":"
    "\"售后太慢\","
    "\"concern_tag\":\"after_sales\",\"concern_severity\":2,\"facts\":[{\"field\":\"budget\",\"value\":{"
    "\"min\":"
    "null,\"max\":450000,\"currency\":\"CNY\"},\"single\":true},{\"field\":\"product\",\"value\":"
    "\"X300\",\"single\":false}]") "," FX_DOC("1", "1772416800000",
    ",\"channel\":\"email\",\"direction\":\"inbound\",\"id_kind\":\"email\",\"id_value\":"
    "\"wang@%1$sschool.cn\",\"facts\":[]") "," FX_DOC("5", "1772416804000",
    ",\"channel\":\"tracking\",\"direction\":\"inbound\",\"id_kind\":\"email\","
    "\"id_value\":\"li@%1$sschool.cn\",\"touch\":false,\"facts\":[]") "," FX_DOC("6", "1772416805000",
    ",\"channel\":\"wecom\",\"direction\":\"outbound\",\"id_kind\":\"email\","
    "\"id_value\":\"wang@%1$sschool.cn\",\"concern\":\"担心交付\",\"concern_tag\":\"delivery\","
    "\"concern_severity\":1,\"facts\":[{\"field\":\"budget\",\"value\":{\"min\":null,\"max\":300000,"
    "\"currency\":\"CNY\"},\"single\":true}]") "," FX_DOC("7", "1772416805000",
    ",\"channel\":\"wecom\",\"direction\":\"inbound\",\"id_kind\":\"wecom\",\"id_value\":"
    "\"wx-%1$s1\",\"deal_id\":\"D-%1$snever\",\"text\":\"在吗\",\"facts\":[]") "," FX_DOC("8",
    "1772416806000",
    ",\"channel\":\"wecom\",\"direction\":\"inbound\",\"customer_ref\":\"CR-%1$s\",\"id_kind\":\"wecom\","
    "\"id_value\":\"wx-%1$s2\",\"facts\":[]") "," FX_DOC("10", "1772416807000",
    ",\"channel\":\"email\",\"direction\":\"inbound\",\"customer_ref\":\"CR-%1$s\",\"id_kind\":\"email\","
    "\"id_value\":\"zhao@%1$sschool.cn\",\"party_title\":\"技术总监\",\"party_role\":\"technical\","
    "\"facts\":[]") "," FX_DOC("11", "1772416808000",
    ",\"channel\":\"email\",\"direction\":\"inbound\",\"id_kind\":\"email\",\"id_value\":\"zhao@%1$sschool."
    "cn\","
    "\"facts\":[]") "," FX_DOC("12", "1772416809000",
    ",\"channel\":\"wecom\",\"direction\":\"inbound\",\"id_kind\":\"wecom\",\"id_value\":\"wx-%1$s2\","
    "\"party_title\":\"财务\",\"party_role\":\"finance\",\"facts\":[]") "," FX_DOC("13", "1772416810000",
    ",\"channel\":\"wecom\",\"direction\":\"inbound\",\"id_kind\":\"wecom\",\"id_value\":\"wx-%1$s2\","
    "\"facts\":[]") "," FX_DOC("14", "1772416811000",
    ",\"channel\":\"wecom\",\"direction\":\"inbound\",\"id_kind\":\"wecom\",\"id_value\":\"wq-%1$s\","
    "\"party_title\":\"校长\",\"party_role\":\"decision_maker\",\"facts\":[]") "," FX_DOC("15",
    "1772416812000",
    ",\"channel\":\"call\",\"direction\":\"inbound\",\"id_kind\":\"phone\",\"id_value\":\"+86-%1$s\","
    "\"facts\":[]") "]";
/* the same with a bad last item (a role the schema refuses) */
static const char fx_bad[]
    = ",{\"event_id\":\"fx-%1$s9\",\"occurred_at_ms\":1772416806000,\"channel\":\"wecom\","
      "\"direction\":\"inbound\",\"id_kind\":\"wecom\",\"id_value\":\"wx-%1$s9\","
      "\"party_role\":\"janitor\",\"facts\":[]}]";

/* Every row enrich_apply writes, as one digest (fact ids left out: the
 * sequence is not transactional, and enrich_apply_fast numbers a batch's
 * many-valued facts after its single-valued ones). */
static const char fx_digest[]
    = "SELECT md5(concat_ws('#', (SELECT string_agg(t::text, '|' ORDER BY t::text) FROM customers t), "
      "(SELECT string_agg(t::text, '|' ORDER BY t::text) FROM contacts t), "
      "(SELECT string_agg(t::text, '|' ORDER BY t::text) FROM identities t), "
      "(SELECT string_agg(t::text, '|' ORDER BY t::text) FROM deals t), "
      "(SELECT string_agg(t::text, '|' ORDER BY t::text) FROM deal_stage_history t), "
      "(SELECT string_agg(t::text, '|' ORDER BY t::text) FROM interactions t), "
      "(SELECT string_agg(r, '|' ORDER BY r) FROM (SELECT (t.customer_id, t.deal_id, t.field, t.value, "
      "t.level, "
      "t.status, t.source_event_id, t.source_channel, t.quote, t.occurred_at)::text r FROM facts t) t), "
      "(SELECT string_agg(t::text, '|' ORDER BY t::text) FROM customer_cards t), "
      "(SELECT string_agg(t.event_id, '|' ORDER BY t.event_id) FROM processed_events t WHERE consumer = "
      "'sp-enrich')))";

/* The one value sql yields with param (may be NULL), as JSON (or a JSON
 * string when it is not JSON); NULL when the statement fails. */
static json_t *fx_value(sp_db *db, const char *sql, const char *param)
{
    PGresult *r = NULL;
    const char *p[1] = {param};
    if (sp_db_exec(db, sql, param ? 1 : 0, param ? p : NULL, &r) != SP_OK) return NULL;
    json_t *v = json_loads(PQgetvalue(r, 0, 0), JSON_DECODE_ANY, NULL);
    if (v == NULL) v = json_string(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

/* enrich_apply_fast (deferred writes, one subtransaction) answers and
 * writes exactly what enrich_apply gives item by item; a bad item makes
 * enrich_apply_batch fall back and dead-letter only that item. */
static void test_fast_path_equals_item_by_item(void **state)
{
    struct fixture *f = *state;
    char docs[16384], bad[16384];
    snprintf(docs, sizeof docs, fx_docs, prefix);
    snprintf(bad, sizeof bad, "%.*s", (int)strlen(docs) - 1, docs);
    snprintf(bad + strlen(bad), sizeof bad - strlen(bad), fx_bad, prefix);
    json_t *in = json_loads(docs, 0, NULL);
    assert_non_null(in);
    /* a known contact with two identities (as the CRM import makes them) */
    char known[1024];
    snprintf(known, sizeof known,
        "INSERT INTO customers (id, created_at) VALUES ('CQ-%1$s', now());"
        "INSERT INTO contacts (id, customer_id, created_at) VALUES ('KQ-%1$s', 'CQ-%1$s', now());"
        "INSERT INTO identities (kind, value, contact_id) VALUES ('wecom', 'wq-%1$s', 'KQ-%1$s'), "
        "('phone', '+86-%1$s', 'KQ-%1$s');",
        prefix);
    assert_int_equal(itest_sql(known), 0);

    assert_int_equal(sp_db_begin(f->db), SP_OK);
    json_t *fast = fx_value(f->db, "SELECT enrich_apply_fast($1::jsonb)::text", docs);
    json_t *fast_rows = fx_value(f->db, fx_digest, NULL);
    /* the many-valued facts: X200 once (repeated in its item), 汉王, X300 */
    char many[256];
    snprintf(many, sizeof many,
        "SELECT string_agg(field || '=' || (value #>> '{}'), ',' ORDER BY field, value #>> '{}') FROM facts "
        "WHERE source_event_id LIKE 'fx-%s%%' AND field IN ('product', 'competitor')",
        prefix);
    json_t *many_facts = fx_value(f->db, many, NULL);
    sp_db_rollback(f->db);
    assert_string_equal(json_string_value(many_facts), "competitor=汉王,product=X200,product=X300");
    json_decref(many_facts);

    assert_int_equal(sp_db_begin(f->db), SP_OK);
    json_t *slow = json_array();
    for (size_t i = 0; i < json_array_size(in); i++) {
        char *one = json_dumps(json_array_get(in, i), JSON_COMPACT);
        json_array_append_new(slow, fx_value(f->db, "SELECT enrich_apply($1::jsonb)::text", one));
        free(one);
    }
    json_t *slow_rows = fx_value(f->db, fx_digest, NULL);
    sp_db_rollback(f->db);

    assert_int_equal(sp_db_begin(f->db), SP_OK);
    json_t *fallback = fx_value(f->db, "SELECT enrich_apply_batch($1::jsonb)::text", bad);
    json_t *fallback_rows = fx_value(f->db, fx_digest, NULL);
    sp_db_rollback(f->db);

    assert_true(json_is_array(fast) && json_array_size(fast) == json_array_size(in));
    assert_true(json_equal(fast, slow));
    assert_string_equal(json_string_value(fast_rows), json_string_value(slow_rows));
    /* what the batch resolved: the colleague joins the lead by domain, the
     * duplicate is answered as such, the deal comes from the stage change */
    const char *lead = json_string_value(json_object_get(json_array_get(fast, 0), "customer_id"));
    assert_string_equal(json_string_value(json_object_get(json_array_get(fast, 1), "customer_id")), lead);
    assert_true(json_is_true(json_object_get(json_array_get(fast, 0), "new_customer")));
    assert_true(json_is_true(json_object_get(json_array_get(fast, 4), "duplicate")));
    char deal[64];
    snprintf(deal, sizeof deal, "D-%s1", prefix);
    assert_string_equal(json_string_value(json_object_get(json_array_get(fast, 3), "deal_id")), deal);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(fast, 3), "deal_stage")), "needs_diagnosis");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(fast, 1), "contact_role")), "procurement");
    assert_true(json_is_null(json_object_get(json_array_get(fast, 7), "deal_id")));
    char cr[64];
    snprintf(cr, sizeof cr, "CR-%s", prefix);
    assert_true(json_is_true(json_object_get(json_array_get(fast, 8), "new_customer")));
    assert_string_equal(json_string_value(json_object_get(json_array_get(fast, 9), "customer_id")), cr);
    assert_false(json_is_true(json_object_get(json_array_get(fast, 9), "new_customer")));
    assert_string_equal(json_string_value(json_object_get(json_array_get(fast, 10), "customer_id")), cr);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(fast, 10), "contact_role")), "technical");
    assert_true(json_is_null(json_object_get(json_array_get(fast, 8), "contact_role")));
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(fast, 12), "contact_role")), "finance");

    /* the fallback: the good items as before, the bad one an error */
    assert_true(json_is_array(fallback) && json_array_size(fallback) == json_array_size(in) + 1);
    for (size_t i = 0; i < json_array_size(in); i++)
        assert_true(json_equal(json_array_get(fallback, i), json_array_get(fast, i)));
    assert_non_null(
        json_string_value(json_object_get(json_array_get(fallback, json_array_size(in)), "error")));
    assert_string_equal(json_string_value(fallback_rows), json_string_value(fast_rows));
    json_decref(in);
    json_decref(fast);
    json_decref(fast_rows);
    json_decref(slow);
    json_decref(slow_rows);
    json_decref(fallback);
    json_decref(fallback_rows);
}

/* enrich_svc.sole answering what *arg says. */
static int sole_flag(void *arg)
{
    return *(int *)arg;
}

/* A batch takes enrich_lock unless the service says no other instance
 * applies batches now (its consumer holds every input partition); either
 * way the batch is applied. */
static void test_sole_instance_skips_the_lock(void **state)
{
    struct fixture *f = *state;
    const int64_t T = 1772416800000LL;
    size_t len;
    uint8_t *b;
    int sole = 1;
    unsigned long locked = f->svc.locked;
    b = make("s1", "wx-s1", SALESPULSE__V1__CHANNEL__CHANNEL_WECOM, "周老师: 想问一下X200的价格", 0, T, &len);
    assert_int_equal(run_batch(f, &b, &len, 1), 0); /* no sole function: locked */
    free(b);
    assert_int_equal(f->svc.locked, locked + 1);
    f->svc.sole = sole_flag;
    f->svc.sole_arg = &sole;
    b = make("s2", "wx-s2", SALESPULSE__V1__CHANNEL__CHANNEL_WECOM, "吴老师: 想问一下X200的价格", 0, T, &len);
    assert_int_equal(run_batch(f, &b, &len, 1), 0); /* the only instance: no lock */
    free(b);
    assert_int_equal(f->svc.locked, locked + 1);
    sole = 0;
    b = make("s3", "wx-s3", SALESPULSE__V1__CHANNEL__CHANNEL_WECOM, "郑老师: 想问一下X200的价格", 0, T, &len);
    assert_int_equal(run_batch(f, &b, &len, 1), 0); /* sharing the partitions: locked */
    free(b);
    assert_int_equal(f->svc.locked, locked + 2);
    f->svc.sole = NULL;
    f->svc.sole_arg = NULL;
    assert_int_equal(q("SELECT count(*) FROM interactions WHERE event_id IN ('ix-%1$ss1', 'ix-%1$ss2', "
                       "'ix-%1$ss3') AND customer_id IS NOT NULL",
                         prefix),
        3);
}

/* enrich_lock (0017) resolves a batch's keys to customers the way
 * enrich_apply_fast does (a merged customer to its survivor, an identity to
 * its contact's customer, an unknown e-mail address to its domain's
 * customer, a deal to its customer) and holds them until commit: a second
 * transaction wanting one of them waits (here: runs into lock_timeout). */
static void test_lock_holds_the_batch_customers(void **state)
{
    struct fixture *f = *state;
    char sql[4096], keys[1024];
    snprintf(sql, sizeof sql,
        "INSERT INTO customers (id, created_at, email_domain, merged_into) VALUES "
        "('%1$sC1', now(), NULL, NULL), ('%1$sC2', now(), NULL, NULL), ('%1$sC4', now(), '%1$sdom.cn', "
        "NULL), "
        "('%1$sC5', now(), NULL, NULL), ('%1$sC6', now(), NULL, NULL);"
        "INSERT INTO customers (id, created_at, merged_into) VALUES ('%1$sC3', now(), '%1$sC1');"
        "INSERT INTO contacts (id, customer_id, created_at) VALUES ('%1$sK2', '%1$sC2', now());"
        "INSERT INTO identities (kind, value, contact_id) VALUES ('wecom', '%1$sw2', '%1$sK2');"
        "INSERT INTO deals (id, customer_id, stage_since, created_at, last_status_update_at) "
        "VALUES ('%1$sD5', '%1$sC5', now(), now(), now());",
        prefix);
    assert_int_equal(itest_sql(sql), 0);
    snprintf(keys, sizeof keys,
        "[{\"r\":\"%1$sC3\"},{\"k\":\"wecom\",\"v\":\"%1$sw2\"},{\"d\":\"%1$sD5\"},"
        "{\"k\":\"email\",\"v\":\"new@%1$sdom.cn\"},{\"r\":\"%1$sC2\",\"k\":\"wecom\",\"v\":\"%1$sw2\"},{}]",
        prefix);
    const char *p[1] = {keys};
    PGresult *r = NULL;
    assert_int_equal(sp_db_begin(f->db), SP_OK);
    assert_int_equal(sp_db_exec(f->db, "SELECT enrich_lock($1::jsonb)", 1, p, &r), SP_OK);
    assert_string_equal(PQgetvalue(r, 0, 0), "4"); /* C1 (for C3), C2, C5, C4; not C6 */
    PQclear(r);

    sp_db *other = NULL;
    assert_int_equal(sp_db_open(itest_env("SP_PG_URL"), &other), SP_OK);
    char one[256];
    const char *ids[] = {"C1", "C2", "C4", "C5"};
    for (size_t i = 0; i < 4; i++) { /* each is held */
        snprintf(one, sizeof one, "[{\"r\":\"%s%s\"}]", prefix, ids[i]);
        const char *po[1] = {one};
        assert_int_equal(sp_db_begin(other), SP_OK);
        assert_int_equal(sp_db_exec(other, "SET LOCAL lock_timeout = '100ms'", 0, NULL, NULL), SP_OK);
        assert_int_not_equal(sp_db_exec(other, "SELECT enrich_lock($1::jsonb)", 1, po, NULL), SP_OK);
        assert_non_null(strstr(sp_db_errmsg(other), "lock"));
        sp_db_rollback(other);
    }
    snprintf(one, sizeof one, "[{\"r\":\"%sC6\"}]", prefix); /* not part of the batch: free */
    const char *p6[1] = {one};
    assert_int_equal(sp_db_begin(other), SP_OK);
    assert_int_equal(sp_db_exec(other, "SET LOCAL lock_timeout = '100ms'", 0, NULL, NULL), SP_OK);
    assert_int_equal(sp_db_exec(other, "SELECT enrich_lock($1::jsonb)", 1, p6, NULL), SP_OK);
    sp_db_rollback(other);

    assert_int_equal(sp_db_commit(f->db), SP_OK); /* released at commit */
    snprintf(one, sizeof one, "[{\"r\":\"%sC2\"}]", prefix);
    const char *p2[1] = {one};
    assert_int_equal(sp_db_begin(other), SP_OK);
    assert_int_equal(sp_db_exec(other, "SET LOCAL lock_timeout = '100ms'", 0, NULL, NULL), SP_OK);
    assert_int_equal(sp_db_exec(other, "SELECT enrich_lock($1::jsonb)", 1, p2, &r), SP_OK);
    assert_string_equal(PQgetvalue(r, 0, 0), "1");
    PQclear(r);
    sp_db_rollback(other);
    sp_db_destroy(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_card_levels_redelivery_poison_merge),
        cmocka_unit_test(test_fast_path_equals_item_by_item),
        cmocka_unit_test(test_lock_holds_the_batch_customers),
        cmocka_unit_test(test_sole_instance_skips_the_lock),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
