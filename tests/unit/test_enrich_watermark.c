/* test_enrich_watermark.c - the heartbeat sp-enrich forwards downstream. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "enrich/watermark.h"
#include "err.h"
#include "salespulse/v1/enriched.pb-c.h"

static void test_pack_roundtrip(void **state)
{
    (void)state;
    uint8_t buf[128];
    size_t len = 0;
    assert_int_equal(enrich_watermark_pack(1773820195000LL, buf, sizeof buf, &len), SP_OK);
    Salespulse__V1__EnrichedInteraction *e = salespulse__v1__enriched_interaction__unpack(NULL, len, buf);
    assert_non_null(e);
    assert_null(e->interaction); /* what tells a consumer it is not an event */
    assert_int_equal(e->upstream_watermark_ms, 1773820195000LL);
    assert_string_equal(e->meta->event_id, "wm:sp-enrich:1773820195000");
    assert_int_equal(e->meta->occurred_at_ms, 1773820195000LL);
    salespulse__v1__enriched_interaction__free_unpacked(e, NULL);
    assert_int_equal(enrich_watermark_pack(1, buf, 4, &len), SP_EINVAL);
}

static void test_now_by_clock_kind(void **state)
{
    (void)state;
    sp_clock *c = NULL;
    assert_int_equal(sp_clock_new(SP_CLOCK_EVENT, 1000, &c), SP_OK);
    assert_int_equal(enrich_watermark_now(c), 1); /* none yet: hold consumers back */
    sp_clock_observe(c, 0, 5000);
    assert_int_equal(enrich_watermark_now(c), 5000);
    sp_clock_destroy(c);
    assert_int_equal(sp_clock_new(SP_CLOCK_WALL, 1000, &c), SP_OK);
    assert_int_equal(enrich_watermark_now(c), 0); /* wall clock: nothing forwarded */
    sp_clock_destroy(c);
    assert_int_equal(enrich_watermark_now(NULL), 0);
}

/* Nothing to send while the event clock has no watermark (no broker is
 * touched, so this runs without Kafka). */
static void test_send_needs_a_watermark(void **state)
{
    (void)state;
    sp_clock *c = NULL;
    assert_int_equal(sp_clock_new(SP_CLOCK_EVENT, 1000, &c), SP_OK);
    enrich_watermark w = {0};
    int sent = 1;
    assert_int_equal(enrich_watermark_send(&w, c, NULL, NULL, "t", 1, &sent), SP_OK);
    assert_int_equal(sent, 0);
    w.sent_ms = 9000; /* already sent a later one */
    sp_clock_observe(c, 0, 5000);
    assert_int_equal(enrich_watermark_send(&w, c, NULL, NULL, "t", 1, &sent), SP_OK);
    assert_int_equal(sent, 0);
    sp_clock_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pack_roundtrip),
        cmocka_unit_test(test_now_by_clock_kind),
        cmocka_unit_test(test_send_needs_a_watermark),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
