/* Unit tests of sp-ingest authentication: hashed API keys and Standard
 * Webhooks signatures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "err.h"
#include "ingest/auth.h"
#include "ingest/b64.h"
#include "ingest/ingest_api.h"

#include <string.h>

static void test_b64(void **state)
{
    (void)state;
    static const struct {
        const char *raw, *std, *url;
    } cases[] = {
        {"", "", ""},
        {"f", "Zg==", "Zg"},
        {"fo", "Zm8=", "Zm8"},
        {"foo", "Zm9v", "Zm9v"},
        {"\xfb\xff\xbf", "+/+/", "-_-_"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[32];
        unsigned char dec[32];
        size_t n = 0;
        ingest_b64_encode((const unsigned char *)cases[i].raw, strlen(cases[i].raw), out, 0);
        assert_string_equal(out, cases[i].std);
        ingest_b64_encode((const unsigned char *)cases[i].raw, strlen(cases[i].raw), out, 1);
        assert_string_equal(out, cases[i].url);
        assert_int_equal(ingest_b64_decode(cases[i].std, strlen(cases[i].std), dec, &n, 0), SP_OK);
        assert_memory_equal(dec, cases[i].raw, n);
        assert_int_equal(ingest_b64_decode(cases[i].url, strlen(cases[i].url), dec, &n, 1), SP_OK);
        assert_int_equal(n, strlen(cases[i].raw));
    }
    unsigned char dec[32];
    size_t n;
    const char *bad[] = {"Zg", "Z===", "Zm9v!", "Zh==", "Zm 9v"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ingest_b64_decode(bad[i], strlen(bad[i]), dec, &n, 0), SP_EINVAL);
}

static void test_apikey(void **state)
{
    (void)state;
    char h[SP_SHA256_HEX_LEN + 1];
    /* echo -n abc | sha256sum */
    assert_int_equal(ingest_apikey_hash("abc", h), SP_OK);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *stored[] = {"0000000000000000000000000000000000000000000000000000000000000000",
        "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", "short"};
    size_t which = 99;
    assert_int_equal(ingest_apikey_check("abc", stored, 3, &which), INGEST_AUTH_OK);
    assert_int_equal(which, 1);
    assert_int_equal(ingest_apikey_check("abd", stored, 3, NULL), INGEST_AUTH_BAD_KEY);
    assert_int_equal(ingest_apikey_check("", stored, 3, NULL), INGEST_AUTH_MISSING);
    assert_int_equal(ingest_apikey_check(NULL, stored, 3, NULL), INGEST_AUTH_MISSING);
    assert_int_equal(ingest_apikey_check("abc", stored, 0, NULL), INGEST_AUTH_BAD_KEY);
    assert_int_equal(ingest_auth_http_status(INGEST_AUTH_MISSING), 401);
    assert_int_equal(ingest_auth_http_status(INGEST_AUTH_BAD_KEY), 401);
    assert_int_equal(ingest_auth_http_status(INGEST_AUTH_BAD_SIGNATURE), 403);
    assert_int_equal(ingest_auth_http_status(INGEST_AUTH_REPLAY), 403);
}

/* The test vector published with the Standard Webhooks specification
 * (github.com/standard-webhooks/standard-webhooks); re-checked with
 *   printf '%s' 'msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{"test": 2432232314}' |
 *   openssl dgst -sha256 -mac HMAC -macopt hexkey:$(echo -n MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw |
 *   base64 -d | xxd -p -c 100) -binary | base64 */
#define WH_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define WH_ID     "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define WH_TS     "1614265330"
#define WH_BODY   "{\"test\": 2432232314}"
#define WH_SIG    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
#define WH_NOW    1614265330LL

static void test_webhook_vector(void **state)
{
    (void)state;
    char sig[128];
    assert_int_equal(
        ingest_webhook_sign(WH_ID, WH_TS, WH_BODY, strlen(WH_BODY), WH_SECRET, sig, sizeof sig), SP_OK);
    assert_string_equal(sig, WH_SIG);
    /* bare base64 secret works as well */
    assert_int_equal(
        ingest_webhook_sign(WH_ID, WH_TS, WH_BODY, strlen(WH_BODY), WH_SECRET + 6, sig, sizeof sig), SP_OK);
    assert_string_equal(sig, WH_SIG);
}

static void test_webhook_verify_table(void **state)
{
    (void)state;
    const char *one[] = {WH_SECRET};
    const char *rotated[] = {"whsec_c2VjcmV0LW9mLWEtcm90YXRlZC1lbmRwb2ludA==", WH_SECRET};
    const char *broken[] = {"whsec_***"};
    static const char *body = WH_BODY;
    struct {
        const char *id, *ts, *sig, *body;
        const char **secrets;
        size_t ns;
        long long now;
        ingest_auth_result want;
    } cases[] = {
        {WH_ID, WH_TS, WH_SIG, body, one, 1, WH_NOW, INGEST_AUTH_OK},
        {WH_ID, WH_TS, WH_SIG, body, rotated, 2, WH_NOW, INGEST_AUTH_OK},
        {WH_ID, WH_TS, "v1,bm9wZQ== " WH_SIG, body, one, 1, WH_NOW, INGEST_AUTH_OK}, /* several entries */
        {WH_ID, WH_TS, "v2,xyz " WH_SIG, body, one, 1, WH_NOW, INGEST_AUTH_OK}, /* unknown version skipped */
        {WH_ID, WH_TS, WH_SIG, body, one, 1, WH_NOW + 300, INGEST_AUTH_OK},
        {WH_ID, WH_TS, WH_SIG, body, one, 1, WH_NOW - 300, INGEST_AUTH_OK},
        {WH_ID, WH_TS, WH_SIG, body, one, 1, WH_NOW + 301, INGEST_AUTH_REPLAY},
        {WH_ID, WH_TS, WH_SIG, body, one, 1, WH_NOW - 301, INGEST_AUTH_REPLAY},
        {WH_ID, "16142x5330", WH_SIG, body, one, 1, WH_NOW, INGEST_AUTH_REPLAY},
        {WH_ID, WH_TS, WH_SIG, "{\"test\": 2432232315}", one, 1, WH_NOW, INGEST_AUTH_BAD_SIGNATURE},
        {"msg_other", WH_TS, WH_SIG, body, one, 1, WH_NOW, INGEST_AUTH_BAD_SIGNATURE},
        {WH_ID, WH_TS, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE", body, one, 1, WH_NOW,
            INGEST_AUTH_BAD_SIGNATURE},
        {WH_ID, WH_TS, "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", body, one, 1, WH_NOW,
            INGEST_AUTH_BAD_SIGNATURE},
        {WH_ID, WH_TS, "v1,", body, one, 1, WH_NOW, INGEST_AUTH_BAD_SIGNATURE},
        {WH_ID, WH_TS, WH_SIG, body, rotated, 1, WH_NOW, INGEST_AUTH_BAD_SIGNATURE},
        {NULL, WH_TS, WH_SIG, body, one, 1, WH_NOW, INGEST_AUTH_MISSING},
        {WH_ID, "", WH_SIG, body, one, 1, WH_NOW, INGEST_AUTH_MISSING},
        {WH_ID, WH_TS, NULL, body, one, 1, WH_NOW, INGEST_AUTH_MISSING},
        {WH_ID, WH_TS, WH_SIG, body, broken, 1, WH_NOW, INGEST_AUTH_CONFIG},
        {WH_ID, WH_TS, WH_SIG, body, one, 0, WH_NOW, INGEST_AUTH_CONFIG},
    };
    /* what sp-ingest checks at start: the broken secret is refused there */
    assert_true(ingest_webhook_secret_valid(one[0]));
    assert_true(ingest_webhook_secret_valid(rotated[0]));
    assert_false(ingest_webhook_secret_valid(broken[0]));
    assert_false(ingest_webhook_secret_valid("whsec_"));
    assert_false(ingest_webhook_secret_valid(""));
    assert_false(ingest_webhook_secret_valid(NULL));
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ingest_auth_result r = ingest_webhook_verify(cases[i].id, cases[i].ts, cases[i].sig, cases[i].body,
            strlen(cases[i].body), cases[i].secrets, cases[i].ns, cases[i].now);
        if (r != cases[i].want)
            fail_msg("case %zu: got %s, want %s", i, ingest_auth_result_name(r),
                ingest_auth_result_name(cases[i].want));
    }
}

static long long wh_now_ms(void)
{
    return WH_NOW * 1000;
}

/* The hook names the header at fault in the 401/403 (the error's field). */
static void test_api_auth_names_header(void **state)
{
    (void)state;
    char hash[SP_SHA256_HEX_LEN + 1];
    assert_int_equal(ingest_apikey_hash("k-1", hash), SP_OK);
    const char *hashes[] = {hash}, *sources[] = {"crm"}, *secrets[] = {WH_SECRET};
    ingest_api a = {.api_key_hashes = hashes,
        .api_key_sources = sources,
        .n_api_keys = 1,
        .webhook_secrets = secrets,
        .n_webhook_secrets = 1,
        .now_ms = wh_now_ms};
    const struct {
        const char *key_header, *key, *id, *ts, *sig;
        int rv;
        const char *field;
    } cases[] = {
        {"Authorization", "Bearer k-1", WH_ID, WH_TS, WH_SIG, SP_OK, ""},
        {"X-Api-Key", "k-1", WH_ID, WH_TS, WH_SIG, SP_OK, ""},
        {"Authorization", "Bearer nope", WH_ID, WH_TS, WH_SIG, SP_EAUTH, "Authorization"},
        {"X-Api-Key", "nope", WH_ID, WH_TS, WH_SIG, SP_EAUTH, "X-Api-Key"},
        {"X-Api-Key", "k-1", NULL, WH_TS, WH_SIG, SP_EAUTH, "webhook-id"},
        {"X-Api-Key", "k-1", WH_ID, NULL, WH_SIG, SP_EAUTH, "webhook-timestamp"},
        {"X-Api-Key", "k-1", WH_ID, WH_TS, NULL, SP_EAUTH, "webhook-signature"},
        {"X-Api-Key", "k-1", WH_ID, "1614264000", WH_SIG, SP_EFORBIDDEN, "webhook-timestamp"},
        {"X-Api-Key", "k-1", WH_ID, WH_TS, "v1,bm9wZQ==", SP_EFORBIDDEN, "webhook-signature"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sp_http_header h[4];
        size_t nh = 0;
        h[nh++] = (sp_http_header) {cases[i].key_header, cases[i].key};
        if (cases[i].id) h[nh++] = (sp_http_header) {"webhook-id", cases[i].id};
        if (cases[i].ts) h[nh++] = (sp_http_header) {"webhook-timestamp", cases[i].ts};
        if (cases[i].sig) h[nh++] = (sp_http_header) {"webhook-signature", cases[i].sig};
        sp_http_req req = {.method = "POST",
            .path = "/v1/interactions",
            .headers = h,
            .nheaders = nh,
            .body = WH_BODY,
            .body_len = strlen(WH_BODY)};
        sp_http_principal p = {0};
        int rv = ingest_api_auth(&req, &a, &p);
        if (rv != cases[i].rv || strcmp(p.denied_field, cases[i].field) != 0)
            fail_msg("case %zu: rv %d field \"%s\", want %d \"%s\"", i, rv, p.denied_field, cases[i].rv,
                cases[i].field);
        /* on the headers alone (a large body not read yet) the key is
         * checked and the signature over the body left for the second call */
        req.body = "", req.body_len = 0, req.body_unread = 1;
        memset(&p, 0, sizeof p);
        rv = ingest_api_auth(&req, &a, &p);
        int want = cases[i].rv == SP_OK || strncmp(cases[i].field, "webhook-", 8) == 0 ? SP_OK : cases[i].rv;
        if (rv != want) fail_msg("case %zu, body unread: rv %d, want %d", i, rv, want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_api_auth_names_header),
        cmocka_unit_test(test_b64),
        cmocka_unit_test(test_apikey),
        cmocka_unit_test(test_webhook_vector),
        cmocka_unit_test(test_webhook_verify_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
