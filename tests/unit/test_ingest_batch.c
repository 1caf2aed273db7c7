/* Unit tests of sp-ingest's generic batch: event ids, time/UTF-8 helpers,
 * JSON array and NDJSON parsing, validation errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "err.h"
#include "ingest/batch.h"
#include "ingest/jarena.h"
#include "ingest/event_id.h"
#include "ingest/response.h"
#include "ingest/textutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1772417700000LL /* 2026-03-02T02:15:00Z */

static void test_event_id(void **state)
{
    (void)state;
    char a[SP_EVENT_ID_LEN + 1], b[SP_EVENT_ID_LEN + 1];
    /* printf 'ab\0c' | openssl dgst -sha256 -> 6c032e631d39a14d85aff7e319546af7... */
    assert_int_equal(ingest_event_id_derive("ab", "c", a), SP_OK);
    assert_string_equal(a, "ix-6c032e631d39a14d85aff7e319546af7");
    assert_int_equal(ingest_event_id_derive("ab", "c", b), SP_OK);
    assert_string_equal(a, b);
    /* the NUL separator keeps ("a","bc") apart from ("ab","c") */
    assert_int_equal(ingest_event_id_derive("a", "bc", b), SP_OK);
    assert_string_not_equal(a, b);
    assert_int_equal(ingest_event_id_derive("", "c", b), SP_EINVAL);
    assert_int_equal(ingest_event_id_derive("a", NULL, b), SP_EINVAL);
}

static void test_time_parse(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int rv;
        long long ms;
    } cases[] = {
        {"2026-03-02T02:15:00Z", SP_OK, NOW},
        {"2026-03-02T10:15:00+08:00", SP_OK, NOW},
        {"2026-03-02T10:15:00.123+0800", SP_OK, NOW + 123},
        {"2026-03-01 21:15:00.5-05:00", SP_OK, NOW + 500},
        {"1970-01-01T00:00:00Z", SP_OK, 0},
        {"2024-02-29T00:00:00Z", SP_OK, 1709164800000LL},
        {"2026-03-02T10:15:00", SP_EINVAL, 0}, /* no offset */
        {"2025-02-29T00:00:00Z", SP_EINVAL, 0}, /* not a leap year */
        {"2026-13-02T10:15:00Z", SP_EINVAL, 0},
        {"2026-03-02T10:15:00Zx", SP_EINVAL, 0},
        {"2026-03-02", SP_EINVAL, 0},
        {"", SP_EINVAL, 0},
        {"1772417700000", SP_EINVAL, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        long long ms = -1;
        assert_int_equal(ingest_time_parse(cases[i].s, &ms), cases[i].rv);
        if (cases[i].rv == SP_OK) assert_int_equal(ms, cases[i].ms);
    }
}

static void test_utf8(void **state)
{
    (void)state;
    assert_true(ingest_utf8_valid("abc", 3));
    assert_true(ingest_utf8_valid("\xe9\x9c\x80\xe6\xb1\x82", 6)); /* 需求 */
    assert_true(ingest_utf8_valid("\xf0\x9f\x98\x80", 4));
    assert_false(ingest_utf8_valid("\xc0\xaf", 2)); /* overlong */
    assert_false(ingest_utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
    assert_false(ingest_utf8_valid("\xe9\x9c", 2)); /* truncated */
    assert_false(ingest_utf8_valid("\xb0\xa1", 2)); /* GBK bytes */
    assert_false(ingest_utf8_valid("a\0b", 3));
}

static const ingest_batch_opts OPTS = {.now_ms = NOW, .tenant_id = "acme"};

static ingest_batch *parse_ok(const char *body)
{
    ingest_batch *b = NULL;
    ingest_errlist errs = {0};
    int rv = ingest_batch_parse(body, strlen(body), &OPTS, &b, &errs);
    if (rv != SP_OK) {
        for (size_t i = 0; i < errs.n; i++)
            fprintf(
                stderr, "  [%d] %s: %s\n", errs.items[i].index, errs.items[i].field, errs.items[i].message);
    }
    assert_int_equal(rv, SP_OK);
    assert_int_equal(errs.n, 0);
    ingest_errlist_clear(&errs);
    return b;
}

static void test_array_every_kind(void **state)
{
    (void)state;
    const char *body
        = "[{\"source\":\"crm-x\",\"external_id\":\"m-1\",\"occurred_at\":\"2026-03-02T10:00:00+08:00\","
          "\"channel\":\"wecom\",\"direction\":\"inbound\",\"customer_identity\":{\"kind\":\"wecom\","
          "\"value\":\"wmABC\"},"
          "\"rep_id\":\"rep-7\",\"text\":\"\xe9\xa2\x84\xe7\xae\x97\xe5\xa4\x9a\xe5\xb0\x91\"},"
          " {\"source\":\"crm-x\",\"external_id\":\"a-1\",\"occurred_at\":\"2026-03-01T09:00:00Z\","
          "\"channel\":\"activity\","
          "\"direction\":\"internal\",\"customer_ref\":\"C-9\",\"activity\":{\"kind\":\"needs_diagnosis\","
          "\"roles_covered\":[\"procurement\",\"technical\"],\"next_step\":\"demo\",\"next_step_due\":\"2026-"
          "03-05T09:00:00Z\"}},"
          " {\"source\":\"crm-x\",\"event_id\":\"ix-given\",\"occurred_at\":\"2026-03-01T09:00:00Z\","
          "\"channel\":\"crm\","
          "\"deal_id\":\"D-1\",\"stage_change\":{\"from_stage\":\"qualified\",\"to_stage\":\"proposal\","
          "\"amount\":120000,"
          "\"product_ids\":[\"p-erp\"]}},"
          " {\"source\":\"web\",\"external_id\":\"b-1\",\"occurred_at\":\"2026-03-01T09:00:00Z\",\"channel\":"
          "\"tracking\","
          "\"customer_identity\":{\"kind\":\"email\",\"value\":\" Li.Wei@Example.COM \"},"
          "\"tracking\":{\"kind\":\"web_visit\",\"url\":\"https://x/"
          "pricing\",\"page_class\":\"pricing\",\"dwell_ms\":5000}},"
          " {\"source\":\"cc\",\"external_id\":\"c-1\",\"occurred_at\":\"2026-03-01T09:00:00Z\",\"channel\":"
          "\"call\","
          "\"turns\":[{\"speaker\":\"rep\",\"start_ms\":0,\"text\":\"hi\"},{\"speaker\":\"customer\",\"start_"
          "ms\":900,\"text\":\"hello\"}],"
          "\"call\":{\"call_id\":\"c-1\",\"duration_s\":60,\"customer_phone\":\"138 0013 8000\"}}]";
    ingest_batch *b = parse_ok(body);
    assert_int_equal(b->n, 5);
    sp_interaction **it = b->items;
    assert_int_equal(it[0]->channel, SALESPULSE__V1__CHANNEL__CHANNEL_WECOM);
    assert_int_equal(it[0]->direction, SALESPULSE__V1__DIRECTION__DIRECTION_INBOUND);
    assert_int_equal(it[0]->meta->occurred_at_ms, 1772416800000LL);
    assert_int_equal(it[0]->meta->produced_at_ms, NOW);
    assert_string_equal(it[0]->meta->producer, "sp-ingest");
    assert_string_equal(it[0]->meta->tenant_id, "acme");
    char id[SP_EVENT_ID_LEN + 1];
    ingest_event_id_derive("crm-x", "m-1", id);
    assert_string_equal(it[0]->meta->event_id, id);
    assert_string_equal(it[0]->customer_identity->value, "wmABC");
    assert_int_equal(it[1]->detail_case, SALESPULSE__V1__INTERACTION__DETAIL_ACTIVITY);
    assert_int_equal(it[1]->activity->kind, SALESPULSE__V1__ACTIVITY_KIND__ACTIVITY_KIND_NEEDS_DIAGNOSIS);
    assert_int_equal(it[1]->activity->n_roles_covered, 2);
    assert_int_equal(it[1]->activity->roles_covered[1], SALESPULSE__V1__ROLE__ROLE_TECHNICAL);
    assert_int_equal(it[1]->activity->next_step_due_ms, 1772701200000LL);
    assert_string_equal(it[2]->meta->event_id, "ix-given");
    assert_string_equal(it[2]->stage_change->deal_id, "D-1"); /* taken from the item */
    assert_int_equal(it[2]->stage_change->to_stage, SALESPULSE__V1__STAGE__STAGE_PROPOSAL);
    assert_int_equal(it[2]->stage_change->amount, 120000);
    assert_string_equal(it[2]->stage_change->product_ids[0], "p-erp");
    assert_string_equal(it[3]->customer_identity->value, "li.wei@example.com");
    assert_int_equal(it[3]->tracking->page_class, SALESPULSE__V1__PAGE_CLASS__PAGE_CLASS_PRICING);
    assert_int_equal(it[4]->n_turns, 2);
    assert_int_equal(it[4]->turns[1]->speaker, SALESPULSE__V1__SPEAKER__SPEAKER_CUSTOMER);
    assert_string_equal(it[4]->call->customer_phone, "+8613800138000");
    char key[128];
    assert_int_equal(interaction_customer_key(it[0], key, sizeof key), SP_OK);
    assert_string_equal(key, "wecom:wmABC");
    assert_int_equal(interaction_customer_key(it[1], key, sizeof key), SP_OK);
    assert_string_equal(key, "C-9");
    assert_int_equal(interaction_customer_key(it[2], key, sizeof key), SP_OK);
    assert_string_equal(key, "deal:D-1");
    /* every message packs */
    for (size_t i = 0; i < b->n; i++)
        assert_true(salespulse__v1__interaction__get_packed_size(it[i]) > 0);
    ingest_batch_destroy(b);
}

static void test_ndjson(void **state)
{
    (void)state;
    const char *body = "{\"source\":\"s\",\"external_id\":\"1\",\"occurred_at\":\"2026-03-01T09:00:00Z\","
                       "\"channel\":\"note\",\"text\":\"a\"}\n"
                       "\n"
                       "{\"source\":\"s\",\"external_id\":\"2\",\"occurred_at\":\"2026-03-01T09:00:00Z\","
                       "\"channel\":\"note\",\"text\":\"b\"}\r\n";
    ingest_batch *b = parse_ok(body);
    assert_int_equal(b->n, 2);
    assert_string_equal(b->items[1]->text, "b");
    assert_string_not_equal(b->items[0]->meta->event_id, b->items[1]->meta->event_id);
    ingest_batch_destroy(b);
    /* the same item twice (a retry) gets the same id */
    ingest_batch *b1 = parse_ok(body), *b2 = parse_ok(body);
    assert_string_equal(b1->items[0]->meta->event_id, b2->items[0]->meta->event_id);
    ingest_batch_destroy(b1);
    ingest_batch_destroy(b2);
}

#define OK_HEAD "\"source\":\"s\",\"external_id\":\"x\",\"occurred_at\":\"2026-03-01T09:00:00Z\""

/* One bad item each: the error must name index 0 and the field. */
#define X16  "xxxxxxxxxxxxxxxx"
#define X128 X16 X16 X16 X16 X16 X16 X16 X16

static void test_validation_table(void **state)
{
    (void)state;
    static const struct {
        const char *item;
        const char *field;
        const char *msg_part;
    } cases[] = {
        {"{\"external_id\":\"x\",\"occurred_at\":\"2026-03-01T09:00:00Z\",\"channel\":\"note\",\"text\":"
         "\"a\"}",
            "source", "required"},
        {"{\"source\":\"s\",\"occurred_at\":\"2026-03-01T09:00:00Z\",\"channel\":\"note\",\"text\":\"a\"}",
            "external_id", "required"},
        {"{\"source\":\"s\",\"external_id\":\"x\",\"channel\":\"note\",\"text\":\"a\"}", "occurred_at",
            "required"},
        {"{" OK_HEAD ",\"text\":\"a\"}", "channel", "required"},
        {"{" OK_HEAD ",\"channel\":\"fax\",\"text\":\"a\"}", "channel", "unknown"},
        {"{" OK_HEAD ",\"channel\":\"unspecified\",\"text\":\"a\"}", "channel", "unknown"},
        {"{\"source\":\"s\",\"external_id\":\"x\",\"occurred_at\":\"2026-03-03T02:15:01Z\",\"channel\":"
         "\"note\","
         "\"text\":\"a\"}",
            "occurred_at", "future"},
        {"{\"source\":\"s\",\"external_id\":\"x\",\"occurred_at\":\"2026-03-01 09:00\",\"channel\":\"note\","
         "\"text\":\"a\"}",
            "occurred_at", "ISO-8601"},
        {"{" OK_HEAD ",\"channel\":\"note\",\"direction\":\"sideways\",\"text\":\"a\"}", "direction",
            "inbound"},
        {"{" OK_HEAD ",\"channel\":\"wecom\"}", "text", "required"},
        {"{" OK_HEAD ",\"channel\":\"note\",\"text\":42}", "text", "string"},
        {"{" OK_HEAD ",\"channel\":\"call\"}", "turns", "turns or text"},
        {"{" OK_HEAD ",\"channel\":\"call\",\"turns\":[{\"speaker\":\"bot\",\"text\":\"x\"}]}",
            "turns[0].speaker", "unknown"},
        {"{" OK_HEAD ",\"channel\":\"call\",\"turns\":[{\"speaker\":\"rep\"}]}", "turns[0].text", "required"},
        {"{" OK_HEAD ",\"channel\":\"crm\",\"stage_change\":{\"to_stage\":\"won\"}}", "stage_change.deal_id",
            "required"},
        {"{" OK_HEAD ",\"channel\":\"crm\",\"stage_change\":{\"deal_id\":\"D\"}}", "stage_change.to_stage",
            "required"},
        {"{" OK_HEAD ",\"channel\":\"crm\",\"stage_change\":{\"deal_id\":\"D\",\"to_stage\":\"closed\"}}",
            "stage_change.to_stage", "unknown"},
        {"{" OK_HEAD ",\"channel\":\"crm\",\"deal_id\":\"D\"}", "stage_change", "required"},
        {"{" OK_HEAD ",\"channel\":\"tracking\",\"tracking\":{}}", "tracking.kind", "required"},
        {"{" OK_HEAD ",\"channel\":\"tracking\",\"tracking\":{\"kind\":\"link_click\"}}", "tracking.url",
            "required"},
        {"{" OK_HEAD ",\"channel\":\"tracking\"}", "tracking", "required"},
        {"{" OK_HEAD ",\"channel\":\"activity\",\"activity\":{\"kind\":\"needs_diagnosis\",\"roles_covered\":"
         "[\"procurement\",\"ceo\"]}}",
            "activity.roles_covered[1]", "unknown"},
        {"{" OK_HEAD ",\"channel\":\"activity\",\"activity\":{\"kind\":\"party\"}}", "activity.kind",
            "unknown"},
        {"{" OK_HEAD
         ",\"channel\":\"note\",\"text\":\"a\",\"stage_change\":{\"deal_id\":\"D\",\"to_stage\":\"won\"}}",
            "stage_change", "not allowed"},
        {"{" OK_HEAD
         ",\"channel\":\"note\",\"text\":\"a\",\"customer_identity\":{\"kind\":\"phone\",\"value\":\"abc\"}}",
            "customer_identity.value", "phone"},
        {"{" OK_HEAD
         ",\"channel\":\"note\",\"text\":\"a\",\"customer_identity\":{\"kind\":\"fax\",\"value\":\"1\"}}",
            "customer_identity.kind", "unknown"},
        {"{" OK_HEAD ",\"channel\":\"note\",\"text\":\"a\\u0000b\"}", "", "JSON"},
        {"{" OK_HEAD ",\"channel\":\"note\",\"text\":\"\xb0\xa1\xb0\xa1\"}", "text", "UTF-8"},
        {"{" OK_HEAD ",\"channel\":\"note\",\"text\":\"a\",\"parties\":[{\"customer_side\":\"yes\"}]}",
            "parties[0].customer_side", "true or false"},
        /* ids every service keys by: at most 127 bytes (sp-score's fields) */
        {"{" OK_HEAD ",\"channel\":\"note\",\"text\":\"a\",\"customer_ref\":\"" X128 "\"}", "customer_ref",
            "too long"},
        {"{" OK_HEAD ",\"channel\":\"note\",\"text\":\"a\",\"rep_id\":\"" X128 "\"}", "rep_id", "too long"},
        {"{" OK_HEAD ",\"channel\":\"note\",\"text\":\"a\",\"deal_id\":\"" X128 "\"}", "deal_id", "too long"},
        {"{" OK_HEAD ",\"channel\":\"crm\",\"stage_change\":{\"deal_id\":\"" X128 "\",\"to_stage\":\"won\"}}",
            "stage_change.deal_id", "too long"},
        {"[1]", "", "object"},
        {"{" OK_HEAD ",\"channel\":\"note\",\"text\":\"a\"", "", "JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ingest_batch *b = (ingest_batch *)1;
        ingest_errlist errs = {0};
        const char *body = cases[i].item; /* a single NDJSON line, or "[1]" */
        int rv = ingest_batch_parse(body, strlen(body), &OPTS, &b, &errs);
        if (rv == SP_OK || errs.n == 0) fail_msg("case %zu: accepted %s", i, cases[i].item);
        assert_null(b);
        const ingest_error *e = ingest_errlist_find(&errs, 0, cases[i].field);
        if (e == NULL || strstr(e->message, cases[i].msg_part) == NULL) {
            for (size_t k = 0; k < errs.n; k++)
                fprintf(stderr, "  got [%d] %s: %s\n", errs.items[k].index, errs.items[k].field,
                    errs.items[k].message);
            fail_msg(
                "case %zu: expected error on '%s' containing '%s'", i, cases[i].field, cases[i].msg_part);
        }
        ingest_errlist_clear(&errs);
    }
}

static void test_text_limit_and_all_or_nothing(void **state)
{
    (void)state;
    size_t big = SP_INGEST_TEXT_MAX + 1;
    size_t cap = big + 4096;
    char *body = malloc(cap);
    int n = snprintf(body, cap,
        "[{\"source\":\"s\",\"external_id\":\"1\",\"occurred_at\":\"2026-03-01T09:00:00Z\",\"channel\":"
        "\"note\",\"text\":\"ok\"},"
        "{\"source\":\"s\",\"external_id\":\"2\",\"occurred_at\":\"2026-03-01T09:00:00Z\",\"channel\":"
        "\"note\",\"text\":\"");
    memset(body + n, 'a', big);
    n += (int)big;
    n += snprintf(body + n, cap - (size_t)n, "\"}]");
    ingest_batch *b = NULL;
    ingest_errlist errs = {0};
    assert_int_equal(ingest_batch_parse(body, (size_t)n, &OPTS, &b, &errs), SP_EINVAL);
    assert_null(b);
    assert_int_equal(errs.n, 1);
    assert_int_equal(errs.items[0].index, 1);
    assert_string_equal(errs.items[0].field, "text");
    char *json = NULL;
    assert_int_equal(ingest_errlist_to_json(&errs, &json), SP_OK);
    assert_non_null(strstr(json, "{\"errors\":[{\"index\":1,\"field\":\"text\",\"message\":\"too long"));
    free(json);
    ingest_errlist_clear(&errs);
    free(body);
}

/* Invalid UTF-8 inside a JSON array names the element and the field. */
static void test_array_bad_utf8_located(void **state)
{
    (void)state;
    const char *body = "[{\"source\":\"s\",\"external_id\":\"1\",\"occurred_at\":\"2026-03-01T09:00:00Z\","
                       "\"channel\":\"note\",\"text\":\"a, [b] {c}\"},\n"
                       " {\"source\":\"s\",\"external_id\":\"2\",\"occurred_at\":\"2026-03-01T09:00:00Z\","
                       "\"channel\":\"note\",\"text\":\"ok\"},\n"
                       " {\"source\":\"s\",\"external_id\":\"3\",\"occurred_at\":\"2026-03-01T09:00:00Z\","
                       "\"channel\":\"note\",\"subject\":\"x\",\"text\":\"\xb1\xa8\xbc\xdb\"}]";
    ingest_batch *b = NULL;
    ingest_errlist errs = {0};
    assert_int_equal(ingest_batch_parse(body, strlen(body), &OPTS, &b, &errs), SP_EDECODE);
    assert_int_equal(errs.n, 1);
    assert_int_equal(errs.items[0].index, 2);
    assert_string_equal(errs.items[0].field, "text");
    ingest_errlist_clear(&errs);
    /* a syntax error in an array stays a request-level error */
    assert_int_equal(ingest_batch_parse("[{\"a\":1},", 10, &OPTS, &b, &errs), SP_EDECODE);
    assert_int_equal(errs.items[0].index, -1);
    ingest_errlist_clear(&errs);
}

static void test_limits(void **state)
{
    (void)state;
    ingest_batch *b = NULL;
    ingest_errlist errs = {0};
    /* 1001 items */
    const char *one = "{\"source\":\"s\",\"external_id\":\"1\",\"occurred_at\":\"2026-03-01T09:00:00Z\","
                      "\"channel\":\"note\",\"text\":\"a\"}\n";
    size_t l = strlen(one);
    char *body = malloc(l * 1001 + 1);
    for (int i = 0; i < 1001; i++)
        memcpy(body + (size_t)i * l, one, l);
    assert_int_equal(ingest_batch_parse(body, l * 1001, &OPTS, &b, &errs), SP_ETOOBIG);
    assert_int_equal(errs.items[0].index, -1);
    ingest_errlist_clear(&errs);
    /* exactly 1000 pass */
    assert_int_equal(ingest_batch_parse(body, l * 1000, &OPTS, &b, &errs), SP_OK);
    assert_int_equal(b->n, 1000);
    ingest_batch_destroy(b);
    b = NULL;
    free(body);
    /* over 4 MiB is refused before parsing */
    assert_int_equal(ingest_batch_parse("[]", SP_BATCH_MAX_BYTES + 1, &OPTS, &b, &errs), SP_ETOOBIG);
    ingest_errlist_clear(&errs);
    assert_int_equal(ingest_batch_parse("  \n", 3, &OPTS, &b, &errs), SP_EDECODE);
    ingest_errlist_clear(&errs);
    assert_int_equal(ingest_batch_parse("[]", 2, &OPTS, &b, &errs), SP_EDECODE);
    ingest_errlist_clear(&errs);
    assert_int_equal(ingest_batch_parse("nonsense", 8, &OPTS, &b, &errs), SP_EDECODE);
    ingest_errlist_clear(&errs);
}

/* Every "```json batch" and "```ndjson" block of docs/api/ingest.md is a
 * valid request. */
static void test_doc_examples(void **state)
{
    (void)state;
    FILE *f = fopen("docs/api/ingest.md", "rb");
    if (f == NULL) fail_msg("docs/api/ingest.md not found (run from the repository root)");
    static char doc[1 << 17];
    size_t n = fread(doc, 1, sizeof doc - 1, f);
    fclose(f);
    doc[n] = '\0';
    int blocks = 0;
    for (char *p = doc; (p = strstr(p, "\n```")) != NULL;) {
        p += 4;
        int take = strncmp(p, "json batch\n", 11) == 0 || strncmp(p, "ndjson\n", 7) == 0;
        char *body = strchr(p, '\n') + 1, *end = strstr(body, "\n```");
        assert_non_null(end);
        if (take) {
            ingest_batch *b = NULL;
            ingest_errlist errs = {0};
            static const ingest_batch_opts later = {.now_ms = 1773532800000LL}; /* 2026-03-15 */
            int rv = ingest_batch_parse(body, (size_t)(end - body + 1), &later, &b, &errs);
            if (rv != SP_OK)
                fail_msg("doc block %d: %s: %s", blocks, errs.n ? errs.items[0].field : "",
                    errs.n ? errs.items[0].message : "");
            ingest_batch_destroy(b);
            blocks++;
        }
        p = end + 4;
    }
    assert_true(blocks >= 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_id),
        cmocka_unit_test(test_time_parse),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_array_every_kind),
        cmocka_unit_test(test_ndjson),
        cmocka_unit_test(test_validation_table),
        cmocka_unit_test(test_text_limit_and_all_or_nothing),
        cmocka_unit_test(test_array_bad_utf8_located),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_doc_examples),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    /* again with jansson on sp-ingest's per-request arena: every item must
     * come out the same (nothing kept may point into the arena) */
    ingest_jarena_install();
    return failed + cmocka_run_group_tests_name("with the jansson arena", tests, NULL, NULL);
}
