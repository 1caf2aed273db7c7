/* Unit tests of sp-ingest tracking: sealed tokens, page rules, beacons. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "err.h"
#include "ingest/tracking.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1772417700000LL

static const unsigned char K1[] = "0123456789abcdef0123456789abcdef";
static const unsigned char K2[] = "fedcba9876543210fedcba9876543210";

static tracking_token sample_click(void)
{
    tracking_token t = {.kind = 2, .issued_at_ms = NOW};
    snprintf(t.ref, sizeof t.ref, "<msg-1@hengyuan.cn>");
    snprintf(t.customer, sizeof t.customer, "email:li.wei@example.com");
    snprintf(t.rep_id, sizeof t.rep_id, "rep-7");
    snprintf(t.url, sizeof t.url, "https://hengyuan.cn/products/x200?utm=mail");
    return t;
}

static void test_gif(void **state)
{
    (void)state;
    assert_memory_equal(SP_TRACKING_GIF, "GIF89a\x01\x00\x01\x00", 10);
    assert_int_equal(SP_TRACKING_GIF[SP_TRACKING_GIF_LEN - 1], 0x3b); /* trailer */
}

static void test_token_round_trip_and_rotation(void **state)
{
    (void)state;
    tracking_token t = sample_click(), got;
    tracking_key k1 = {K1, 32}, k2 = {K2, 32};
    char *tok = NULL;
    assert_int_equal(tracking_token_seal(&t, &k1, &tok), SP_OK);
    for (const char *p = tok; *p; p++)
        assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p));
    assert_int_equal(tracking_token_open(tok, strlen(tok), &k1, 1, NOW + 1000, 0, &got), SP_OK);
    assert_int_equal(got.kind, 2);
    assert_string_equal(got.ref, t.ref);
    assert_string_equal(got.customer, t.customer);
    assert_string_equal(got.rep_id, "rep-7");
    assert_string_equal(got.url, t.url);
    assert_int_equal(got.issued_at_ms, NOW);
    /* rotation: old key still accepted next to the new one */
    tracking_key both[] = {k2, k1};
    assert_int_equal(tracking_token_open(tok, strlen(tok), both, 2, NOW, 0, &got), SP_OK);
    assert_int_equal(tracking_token_open(tok, strlen(tok), &k2, 1, NOW, 0, &got), SP_EAUTH);
    assert_int_equal(got.kind, 0);
    /* expiry */
    assert_int_equal(
        tracking_token_open(tok, strlen(tok), &k1, 1, NOW + 91LL * 86400000, 90LL * 86400000, &got),
        SP_ETIMEOUT);
    assert_int_equal(
        tracking_token_open(tok, strlen(tok), &k1, 1, NOW + 89LL * 86400000, 90LL * 86400000, &got), SP_OK);
    free(tok);
}

static void test_token_forgery_table(void **state)
{
    (void)state;
    tracking_token t = sample_click(), got;
    tracking_key k1 = {K1, 32};
    char *tok = NULL;
    assert_int_equal(tracking_token_seal(&t, &k1, &tok), SP_OK);
    size_t n = strlen(tok);
    /* every single-character change, and every truncation, is rejected */
    for (size_t i = 0; i < n; i++) {
        char *m = strdup(tok);
        m[i] = m[i] == 'A' ? 'B' : 'A';
        int rv = tracking_token_open(m, n, &k1, 1, NOW, 0, &got);
        if (rv == SP_OK) fail_msg("altered at %zu accepted", i);
        free(m);
    }
    for (size_t l = 0; l < n; l++)
        assert_int_not_equal(tracking_token_open(tok, l, &k1, 1, NOW, 0, &got), SP_OK);
    assert_int_equal(tracking_token_open("!!!!", 4, &k1, 1, NOW, 0, &got), SP_EDECODE);
    assert_int_equal(tracking_token_open(tok, n, &k1, 0, NOW, 0, &got), SP_EAUTH);
    free(tok);
    /* seal refuses bad input */
    tracking_key short_key = {K1, 8};
    assert_int_equal(tracking_token_seal(&t, &short_key, &tok), SP_EINVAL);
    t.url[0] = '\0';
    assert_int_equal(tracking_token_seal(&t, &k1, &tok), SP_EINVAL); /* click without url */
    t.kind = 9;
    assert_int_equal(tracking_token_seal(&t, &k1, &tok), SP_EINVAL);
}

static tracking_rules *load_default(void)
{
    tracking_rules *r = NULL;
    char err[256] = "";
    int rv = tracking_rules_load("deploy/tenants/default/tracking.json", &r, err, sizeof err);
    if (rv != SP_OK) fail_msg("load: %s", err);
    return r;
}

static void test_rules_classify_table(void **state)
{
    (void)state;
    tracking_rules *r = load_default();
    static const struct {
        const char *url;
        int cls;
        const char *pid, *cid;
    } cases[] = {
        {"https://hengyuan.cn/pricing", 3, "", ""},
        {"https://hengyuan.cn/education/pricing?plan=school", 3, "", ""},
        {"https://hengyuan.cn/compare/apex-vs-hengyuan", 2, "", "apex"},
        {"https://hengyuan.cn/compare/%E8%93%9D%E9%B2%B8", 2, "", ""},
        {"https://hengyuan.cn/compare/蓝鲸", 2, "", "bluewhale"},
        {"https://hengyuan.cn/Products/X300-Pro", 1, "X300PRO", ""},
        {"https://hengyuan.cn/products/x200?utm=mail", 1, "X200", ""},
        {"https://hengyuan.cn/products/", 1, "", ""},
        {"https://hengyuan.cn/about", 4, "", ""},
        {"https://hengyuan.cn/products-news", 4, "", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int pc;
        const char *pid, *cid;
        tracking_rules_classify(r, cases[i].url, &pc, &pid, &cid);
        if (pc != cases[i].cls) fail_msg("case %zu %s: class %d, want %d", i, cases[i].url, pc, cases[i].cls);
        assert_string_equal(pid, cases[i].pid);
        assert_string_equal(cid, cases[i].cid);
    }
    int pc;
    tracking_rules_classify(NULL, "https://x/pricing", &pc, NULL, NULL);
    assert_int_equal(pc, SALESPULSE__V1__PAGE_CLASS__PAGE_CLASS_OTHER);
    tracking_rules_destroy(r);
}

static void test_rules_errors_name_item_and_key(void **state)
{
    (void)state;
    static const struct {
        const char *json, *want;
    } cases[] = {
        {"{\"pages\":[{\"pattern\":\"(\",\"class\":\"pricing\"}]}",
            "t.json: pages[0].pattern: missing closing"},
        {"{\"pages\":[{\"pattern\":\"/a\",\"class\":\"pricing\"},{\"pattern\":\"/b\",\"class\":\"cheap\"}]}",
            "t.json: pages[1].class"},
        {"{\"pages\":[{\"class\":\"pricing\"}]}", "t.json: pages[0].pattern: required"},
        {"{\"pages\":{}}", "t.json: \"pages\" must be an array"},
        {"{\"pages\":[{\"pattern\":\"/a\",\"class\":\"product\",\"product_id\":7}]}",
            "t.json: pages[0]: product_id"},
        {"{", "t.json: line"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tracking_rules *r = (tracking_rules *)1;
        char err[256] = "";
        assert_int_equal(
            tracking_rules_parse(cases[i].json, strlen(cases[i].json), "t.json", &r, err, sizeof err),
            SP_ECONFIG);
        assert_null(r);
        if (strstr(err, cases[i].want) == NULL) fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].want);
    }
    tracking_rules *r = NULL;
    char err[256];
    assert_int_equal(tracking_rules_load("/nonexistent/tracking.json", &r, err, sizeof err), SP_EIO);
}

static void test_token_interaction(void **state)
{
    (void)state;
    tracking_rules *r = load_default();
    tracking_token t = sample_click();
    sp_interaction *ix = NULL;
    assert_int_equal(tracking_token_interaction(&t, r, NOW + 5000, &ix), SP_OK);
    assert_int_equal(ix->channel, SALESPULSE__V1__CHANNEL__CHANNEL_TRACKING);
    assert_string_equal(ix->source, "tracking");
    assert_int_equal(ix->meta->occurred_at_ms, NOW + 5000);
    assert_int_equal(ix->customer_identity->kind, SALESPULSE__V1__IDENTITY_KIND__IDENTITY_KIND_EMAIL);
    assert_string_equal(ix->customer_identity->value, "li.wei@example.com");
    assert_string_equal(ix->rep_id, "rep-7");
    assert_int_equal(ix->tracking->kind, SALESPULSE__V1__TRACKING_KIND__TRACKING_KIND_LINK_CLICK);
    assert_int_equal(ix->tracking->page_class, SALESPULSE__V1__PAGE_CLASS__PAGE_CLASS_PRODUCT);
    assert_string_equal(ix->tracking->product_id, "X200");
    assert_int_equal(strncmp(ix->meta->event_id, "ix-", 3), 0);
    interaction_destroy(ix);
    /* a token sealed before identities were normalised opens to the form
     * the batch API gives (one customer, not a new lead per click) */
    snprintf(t.customer, sizeof t.customer, "phone:138 0013 8000");
    assert_int_equal(tracking_token_interaction(&t, r, NOW + 5000, &ix), SP_OK);
    assert_int_equal(ix->customer_identity->kind, SALESPULSE__V1__IDENTITY_KIND__IDENTITY_KIND_PHONE);
    assert_string_equal(ix->customer_identity->value, "+8613800138000");
    interaction_destroy(ix);
    tracking_rules_destroy(r);
}

static const ingest_batch_opts OPTS = {.now_ms = NOW};

static void test_beacon(void **state)
{
    (void)state;
    tracking_rules *r = load_default();
    const char *body = "{\"beacon_id\":\"b-77\",\"visitor_id\":\"v-1\",\"email\":\"Li.Wei@Example.com\","
                       "\"url\":\"https://hengyuan.cn/compare/apex\",\"dwell_ms\":42000,"
                       "\"occurred_at\":\"2026-03-02T09:00:00+08:00\"}";
    sp_interaction *ix = NULL;
    ingest_errlist errs = {0};
    assert_int_equal(tracking_beacon_parse(body, strlen(body), r, &OPTS, &ix, &errs), SP_OK);
    assert_string_equal(ix->external_id, "b-77");
    assert_int_equal(ix->tracking->kind, SALESPULSE__V1__TRACKING_KIND__TRACKING_KIND_WEB_VISIT);
    assert_int_equal(ix->tracking->page_class, SALESPULSE__V1__PAGE_CLASS__PAGE_CLASS_COMPETITOR);
    assert_string_equal(ix->tracking->competitor_id, "apex");
    assert_string_equal(ix->tracking->visitor_id, "v-1");
    assert_int_equal(ix->tracking->dwell_ms, 42000);
    assert_string_equal(ix->customer_identity->value, "li.wei@example.com");
    interaction_destroy(ix);

    static const struct {
        const char *body, *field;
    } bad[] = {
        {"{\"visitor_id\":\"v\",\"url\":\"https://x/\",\"occurred_at\":\"2026-03-02T09:00:00Z\"}",
            "beacon_id"},
        {"{\"beacon_id\":\"b\",\"occurred_at\":\"2026-03-02T09:00:00Z\"}", "url"},
        {"{\"beacon_id\":\"b\",\"url\":\"https://x/\"}", "occurred_at"},
        {"{\"beacon_id\":\"b\",\"url\":\"https://x/"
         "\",\"occurred_at\":\"2026-03-02T09:00:00Z\",\"dwell_ms\":-1}",
            "dwell_ms"},
        {"{\"beacon_id\":\"b\",\"url\":\"https://x/"
         "\",\"occurred_at\":\"2026-03-02T09:00:00Z\",\"email\":\"nobody\"}",
            "email"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(
            tracking_beacon_parse(bad[i].body, strlen(bad[i].body), r, &OPTS, &ix, &errs), SP_EINVAL);
        assert_null(ix);
        if (!ingest_errlist_find(&errs, 0, bad[i].field)) {
            for (size_t k = 0; k < errs.n; k++)
                fprintf(stderr, "  got %s: %s\n", errs.items[k].field, errs.items[k].message);
            fail_msg("case %zu: no error on %s", i, bad[i].field);
        }
        ingest_errlist_clear(&errs);
    }
    assert_int_equal(tracking_beacon_parse("[1]", 3, r, &OPTS, &ix, &errs), SP_EDECODE);
    ingest_errlist_clear(&errs);
    tracking_rules_destroy(r);
}

/* POST /v1/tracking/links: the answer's paths open to what was sealed. */
static void test_links_seal(void **state)
{
    (void)state;
    tracking_key k1 = {K1, 32};
    const char *body = "{\"ref\":\"<m-9@hengyuan.cn>\",\"customer\":\"email:li.wei@example.com\","
                       "\"rep_id\":\"rep-7\",\"open\":true,"
                       "\"links\":[\"https://hengyuan.cn/x200\",\"http://hengyuan.cn/p?a=1&b=2\"]}";
    char *out = NULL;
    ingest_errlist errs = {0};
    assert_int_equal(tracking_links_seal(body, strlen(body), &k1, NOW, &out, &errs), SP_OK);
    assert_int_equal(errs.n, 0);
    json_error_t je;
    json_t *a = json_loads(out, 0, &je);
    assert_non_null(a);
    const char *open = json_string_value(json_object_get(a, "open"));
    assert_non_null(open);
    assert_int_equal(strncmp(open, "/t/o/", 5), 0);
    assert_string_equal(open + strlen(open) - 4, ".gif");
    tracking_token got;
    assert_int_equal(tracking_token_open(open + 5, strlen(open) - 9, &k1, 1, NOW, 0, &got), SP_OK);
    assert_int_equal(got.kind, SALESPULSE__V1__TRACKING_KIND__TRACKING_KIND_EMAIL_OPEN);
    assert_string_equal(got.ref, "<m-9@hengyuan.cn>");
    assert_string_equal(got.customer, "email:li.wei@example.com");
    assert_string_equal(got.rep_id, "rep-7");
    assert_int_equal(got.issued_at_ms, NOW);
    json_t *links = json_object_get(a, "links");
    assert_int_equal(json_array_size(links), 2);
    for (size_t i = 0; i < 2; i++) {
        json_t *l = json_array_get(links, i);
        const char *path = json_string_value(json_object_get(l, "path"));
        assert_int_equal(strncmp(path, "/t/c/", 5), 0);
        assert_int_equal(tracking_token_open(path + 5, strlen(path) - 5, &k1, 1, NOW, 0, &got), SP_OK);
        assert_int_equal(got.kind, SALESPULSE__V1__TRACKING_KIND__TRACKING_KIND_LINK_CLICK);
        assert_string_equal(got.url, json_string_value(json_object_get(l, "url")));
    }
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(links, 1), "url")), "http://hengyuan.cn/p?a=1&b=2");
    json_decref(a);
    free(out);

    /* the customer in the form the batch API gives it: e-mail trimmed and
     * lower-cased, phone in E.164 */
    static const struct {
        const char *in, *want;
    } ids[] = {
        {"email: Li.Wei@Example.COM ", "email:li.wei@example.com"},
        {"phone:138 0013 8000", "phone:+8613800138000"},
        {"phone:+86 138-0013-8000", "phone:+8613800138000"},
        {"wecom:wmAbC", "wecom:wmAbC"},
    };
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        char b[256];
        snprintf(b, sizeof b, "{\"ref\":\"r\",\"customer\":\"%s\",\"open\":true}", ids[i].in);
        assert_int_equal(tracking_links_seal(b, strlen(b), &k1, NOW, &out, &errs), SP_OK);
        a = json_loads(out, 0, &je);
        open = json_string_value(json_object_get(a, "open"));
        assert_int_equal(tracking_token_open(open + 5, strlen(open) - 9, &k1, 1, NOW, 0, &got), SP_OK);
        assert_string_equal(got.customer, ids[i].want);
        json_decref(a);
        free(out);
    }

    /* links only: "open" is null */
    const char *only = "{\"ref\":\"r\",\"customer\":\"phone:+8613800138000\",\"links\":[\"https://x.cn/\"]}";
    assert_int_equal(tracking_links_seal(only, strlen(only), &k1, NOW, &out, &errs), SP_OK);
    a = json_loads(out, 0, &je);
    assert_true(json_is_null(json_object_get(a, "open")));
    json_decref(a);
    free(out);

    static const struct {
        const char *body, *field;
    } bad[] = {
        {"{\"customer\":\"email:a@b.cn\",\"open\":true}", "ref"},
        {"{\"ref\":\"\",\"customer\":\"email:a@b.cn\",\"open\":true}", "ref"},
        {"{\"ref\":\"r\",\"open\":true}", "customer"},
        {"{\"ref\":\"r\",\"customer\":\"li@b.cn\",\"open\":true}", "customer"},
        {"{\"ref\":\"r\",\"customer\":\"fax:123\",\"open\":true}", "customer"},
        {"{\"ref\":\"r\",\"customer\":\"email:\",\"open\":true}", "customer"},
        {"{\"ref\":\"r\",\"customer\":\"email:nobody\",\"open\":true}", "customer"},
        {"{\"ref\":\"r\",\"customer\":\"phone:call me\",\"open\":true}", "customer"},
        {"{\"ref\":\"r\",\"customer\":\"email:a@b.cn\",\"open\":1}", "open"},
        {"{\"ref\":\"r\",\"customer\":\"email:a@b.cn\"}", "links"},
        {"{\"ref\":\"r\",\"customer\":\"email:a@b.cn\",\"links\":\"https://x.cn/\"}", "links"},
        {"{\"ref\":\"r\",\"customer\":\"email:a@b.cn\",\"links\":[\"https://x.cn/"
         "\",\"javascript:alert(1)\"]}",
            "links[1]"},
        {"{\"ref\":\"r\",\"customer\":\"email:a@b.cn\",\"links\":[\"//evil.example/\"]}", "links[0]"},
        {"{\"ref\":\"r\",\"customer\":\"email:a@b.cn\",\"links\":[\"https:///x\"]}", "links[0]"},
        {"{\"ref\":\"r\",\"customer\":\"email:a@b.cn\",\"links\":[\"https://x.cn/a b\"]}", "links[0]"},
        {"{\"ref\":\"r\",\"customer\":\"email:a@b.cn\",\"links\":[7]}", "links[0]"},
        {"{\"ref\":\"r\",\"customer\":\"email:a@b.cn\",\"open\":true,\"colour\":1}", "colour"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(
            tracking_links_seal(bad[i].body, strlen(bad[i].body), &k1, NOW, &out, &errs), SP_EINVAL);
        assert_null(out);
        if (!ingest_errlist_find(&errs, 0, bad[i].field))
            fail_msg("case %zu: no error on %s", i, bad[i].field);
        ingest_errlist_clear(&errs);
    }
    /* 101 links */
    char big[4096];
    size_t n = (size_t)snprintf(big, sizeof big, "{\"ref\":\"r\",\"customer\":\"email:a@b.cn\",\"links\":[");
    for (int i = 0; i < 101; i++)
        n += (size_t)snprintf(big + n, sizeof big - n, "%s\"https://x.cn/\"", i ? "," : "");
    snprintf(big + n, sizeof big - n, "]}");
    assert_int_equal(tracking_links_seal(big, strlen(big), &k1, NOW, &out, &errs), SP_EINVAL);
    assert_non_null(ingest_errlist_find(&errs, 0, "links"));
    ingest_errlist_clear(&errs);
    assert_int_equal(tracking_links_seal("[]", 2, &k1, NOW, &out, &errs), SP_EDECODE);
    ingest_errlist_clear(&errs);
    assert_int_equal(tracking_links_seal("{", 1, &k1, NOW, &out, &errs), SP_EDECODE);
    ingest_errlist_clear(&errs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gif),
        cmocka_unit_test(test_token_round_trip_and_rotation),
        cmocka_unit_test(test_token_forgery_table),
        cmocka_unit_test(test_rules_classify_table),
        cmocka_unit_test(test_rules_errors_name_item_and_key),
        cmocka_unit_test(test_token_interaction),
        cmocka_unit_test(test_beacon),
        cmocka_unit_test(test_links_seal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
