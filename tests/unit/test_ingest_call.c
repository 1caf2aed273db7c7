/* Unit tests of sp-ingest call transcripts and the E.164 phone rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "err.h"
#include "ingest/call.h"
#include "ingest/event_id.h"
#include "ingest/phone.h"

#include <stdio.h>
#include <string.h>

#define NOW 1772417700000LL /* 2026-03-02T02:15:00Z */

static void test_phone_table(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want; /* want NULL: rejected */
    } cases[] = {
        {"138 0013 8000", "+8613800138000"}, {"+86-138-0013-8000", "+8613800138000"},
        {"8613800138000", "+8613800138000"}, {"13800138000", "+8613800138000"},
        {"+86 138 0013 8000", "+8613800138000"}, {"0086 138 0013 8000", "+8613800138000"},
        {"tel:+86-138-0013-8000", "+8613800138000"}, {"(010) 6552 9988", "+861065529988"},
        {"0755-8888 6666", "+8675588886666"}, {"+86 (0)10 6552 9988", "+861065529988"},
        {"+1 (415) 555-2671", "+14155552671"}, {"+44 20 7946 0958", "+442079460958"}, {"12345", NULL},
        {"", NULL}, {"call me", NULL}, {"+86 138 0013 800a", NULL}, {"1+3800138000", NULL},
        {"+1234567890123456", NULL}, /* 16 digits */
        {"12800138000", NULL}, /* not a mobile prefix, no country */
        {"4155552671", NULL}, /* no country code: not guessed */
        {"+860(0)10 652 9988", NULL}, /* two trunk zeros (found by fuzz_call) */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[SP_PHONE_E164_MAX + 1] = "";
        int rv = phone_e164_normalize(cases[i].in, out, sizeof out);
        if (cases[i].want == NULL) {
            if (rv != SP_EINVAL) fail_msg("case %zu '%s': accepted as %s", i, cases[i].in, out);
        } else {
            if (rv != SP_OK) fail_msg("case %zu '%s': rejected", i, cases[i].in);
            assert_string_equal(out, cases[i].want);
        }
    }
    char small[8];
    assert_int_equal(phone_e164_normalize("13800138000", small, sizeof small), SP_ETOOBIG);
}

static const ingest_batch_opts OPTS = {.now_ms = NOW};

static void test_call_ok(void **state)
{
    (void)state;
    const char *body
        = "{\"call_id\":\"cc-2026-0001\",\"started_at\":\"2026-03-01T14:00:00+08:00\",\"duration_s\":312,"
          "\"rep_id\":\"rep-7\",\"customer_phone\":\"138 0013 8000\",\"direction\":\"outbound\","
          "\"turns\":[{\"speaker\":\"rep\",\"start_ms\":0,\"text\":\"\xe6\x82\xa8\xe5\xa5\xbd\"},"
          "{\"speaker\":\"customer\",\"start_ms\":2100,\"text\":\"budget is 50k\"}]}";
    sp_interaction *ix = NULL;
    ingest_errlist errs = {0};
    assert_int_equal(ingest_call_parse(body, strlen(body), &OPTS, &ix, &errs), SP_OK);
    assert_int_equal(errs.n, 0);
    assert_string_equal(ix->source, "call");
    assert_string_equal(ix->external_id, "cc-2026-0001");
    assert_int_equal(ix->channel, SALESPULSE__V1__CHANNEL__CHANNEL_CALL);
    assert_int_equal(ix->direction, SALESPULSE__V1__DIRECTION__DIRECTION_OUTBOUND);
    assert_int_equal(ix->meta->occurred_at_ms, 1772344800000LL);
    assert_string_equal(ix->rep_id, "rep-7");
    assert_int_equal(ix->customer_identity->kind, SALESPULSE__V1__IDENTITY_KIND__IDENTITY_KIND_PHONE);
    assert_string_equal(ix->customer_identity->value, "+8613800138000");
    assert_int_equal(ix->detail_case, SALESPULSE__V1__INTERACTION__DETAIL_CALL);
    assert_int_equal(ix->call->duration_s, 312);
    assert_string_equal(ix->call->customer_phone, "+8613800138000");
    assert_int_equal(ix->n_turns, 2);
    assert_int_equal(ix->turns[1]->start_ms, 2100);
    assert_string_equal(ix->turns[1]->text, "budget is 50k");
    char id[SP_EVENT_ID_LEN + 1];
    ingest_event_id_derive("call", "cc-2026-0001", id);
    assert_string_equal(ix->meta->event_id, id);
    interaction_destroy(ix);
}

static void test_call_errors_table(void **state)
{
    (void)state;
    static const struct {
        const char *body, *field;
        int rv;
    } cases[] = {
        {"{\"started_at\":\"2026-03-01T14:00:00Z\",\"turns\":[{\"speaker\":\"rep\",\"text\":\"a\"}]}",
            "call_id", SP_EINVAL},
        {"{\"call_id\":\"c\",\"turns\":[{\"speaker\":\"rep\",\"text\":\"a\"}]}", "started_at", SP_EINVAL},
        {"{\"call_id\":\"c\",\"started_at\":\"yesterday\",\"turns\":[{\"speaker\":\"rep\",\"text\":\"a\"}]}",
            "started_at", SP_EINVAL},
        {"{\"call_id\":\"c\",\"started_at\":\"2026-03-01T14:00:00Z\"}", "turns", SP_EINVAL},
        {"{\"call_id\":\"c\",\"started_at\":\"2026-03-01T14:00:00Z\",\"turns\":[{\"speaker\":\"agent\","
         "\"text\":\"a\"}]}",
            "turns[0].speaker", SP_EINVAL},
        {"{\"call_id\":\"c\",\"started_at\":\"2026-03-01T14:00:00Z\",\"turns\":[{\"speaker\":\"rep\",\"start_"
         "ms\":-5,"
         "\"text\":\"a\"}]}",
            "turns[0].start_ms", SP_EINVAL},
        {"{\"call_id\":\"c\",\"started_at\":\"2026-03-01T14:00:00Z\",\"customer_phone\":\"n/a\","
         "\"turns\":[{\"speaker\":\"rep\",\"text\":\"a\"}]}",
            "customer_phone", SP_EINVAL},
        {"{\"call_id\":\"c\",\"started_at\":\"2026-03-01T14:00:00Z\",\"duration_s\":\"long\","
         "\"turns\":[{\"speaker\":\"rep\",\"text\":\"a\"}]}",
            "duration_s", SP_EINVAL},
        {"[]", "", SP_EDECODE},
        {"{\"call_id\":", "", SP_EDECODE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sp_interaction *ix = NULL;
        ingest_errlist errs = {0};
        int rv = ingest_call_parse(cases[i].body, strlen(cases[i].body), &OPTS, &ix, &errs);
        if (rv != cases[i].rv) fail_msg("case %zu: rv %d, want %d", i, rv, cases[i].rv);
        assert_null(ix);
        if (ingest_errlist_find(&errs, 0, cases[i].field) == NULL) {
            for (size_t k = 0; k < errs.n; k++)
                fprintf(stderr, "  got %s: %s\n", errs.items[k].field, errs.items[k].message);
            fail_msg("case %zu: no error on '%s'", i, cases[i].field);
        }
        /* each field is reported once */
        for (size_t a = 0; a < errs.n; a++)
            for (size_t b = a + 1; b < errs.n; b++)
                assert_string_not_equal(errs.items[a].field, errs.items[b].field);
        ingest_errlist_clear(&errs);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_phone_table),
        cmocka_unit_test(test_call_ok),
        cmocka_unit_test(test_call_errors_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
