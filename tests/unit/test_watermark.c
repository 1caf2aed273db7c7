/* test_watermark.c - the watermark heartbeats each hop forwards downstream. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "salespulse/v1/enriched.pb-c.h"
#include "salespulse/v1/signal.pb-c.h"
#include "salespulse/v1/task.pb-c.h"
#include "watermark.h"

static void test_pack_roundtrip(void **state)
{
    (void)state;
    uint8_t buf[128];
    size_t len = 0;
    assert_int_equal(sp_watermark_pack_enriched(1773820195000LL, buf, sizeof buf, &len), SP_OK);
    Salespulse__V1__EnrichedInteraction *e = salespulse__v1__enriched_interaction__unpack(NULL, len, buf);
    assert_non_null(e);
    assert_null(e->interaction); /* what tells a consumer it is not an event */
    assert_int_equal(e->upstream_watermark_ms, 1773820195000LL);
    assert_string_equal(e->meta->event_id, "wm:sp-enrich:1773820195000");
    assert_int_equal(e->meta->occurred_at_ms, 1773820195000LL);
    salespulse__v1__enriched_interaction__free_unpacked(e, NULL);
    assert_int_equal(sp_watermark_pack_enriched(1, buf, 4, &len), SP_EINVAL);
}

/* Only a heartbeat's id makes a data-less message a heartbeat. */
static void test_is_heartbeat(void **state)
{
    (void)state;
    assert_true(sp_watermark_is_heartbeat("wm:sp-enrich:1773820195000"));
    assert_true(sp_watermark_is_heartbeat("wm:"));
    assert_false(sp_watermark_is_heartbeat("enr:ix-1"));
    assert_false(sp_watermark_is_heartbeat("WM:sp-score:1"));
    assert_false(sp_watermark_is_heartbeat("w"));
    assert_false(sp_watermark_is_heartbeat(""));
    assert_false(sp_watermark_is_heartbeat(NULL));
}

/* sp-score's heartbeat: a Signal with no subject (sp-route's test). */
static void test_pack_signal(void **state)
{
    (void)state;
    uint8_t buf[128];
    size_t len = 0;
    assert_int_equal(sp_watermark_pack_signal(1773820195000LL, buf, sizeof buf, &len), SP_OK);
    Salespulse__V1__Signal *s = salespulse__v1__signal__unpack(NULL, len, buf);
    assert_non_null(s);
    assert_null(s->subject);
    assert_string_equal(s->kind, "");
    assert_int_equal(s->upstream_watermark_ms, 1773820195000LL);
    assert_string_equal(s->meta->event_id, "wm:sp-score:1773820195000");
    salespulse__v1__signal__free_unpacked(s, NULL);
    assert_int_equal(sp_watermark_pack_signal(1, buf, 4, &len), SP_EINVAL);
}

/* sp-route's heartbeat: a TaskCommand with no task key (sp-taskpool's test). */
static void test_pack_command(void **state)
{
    (void)state;
    uint8_t buf[128];
    size_t len = 0;
    assert_int_equal(sp_watermark_pack_command(1773820195000LL, buf, sizeof buf, &len), SP_OK);
    Salespulse__V1__TaskCommand *c = salespulse__v1__task_command__unpack(NULL, len, buf);
    assert_non_null(c);
    assert_string_equal(c->task_key, "");
    assert_null(c->signal);
    assert_int_equal(c->upstream_watermark_ms, 1773820195000LL);
    assert_string_equal(c->meta->event_id, "wm:sp-route:1773820195000");
    assert_int_equal(c->meta->occurred_at_ms, 1773820195000LL);
    salespulse__v1__task_command__free_unpacked(c, NULL);
    assert_int_equal(sp_watermark_pack_command(1, buf, 4, &len), SP_EINVAL);
}

static void test_now_by_clock_kind(void **state)
{
    (void)state;
    sp_clock *c = NULL;
    assert_int_equal(sp_clock_new(SP_CLOCK_EVENT, 1000, &c), SP_OK);
    assert_int_equal(sp_watermark_of(c), 1); /* none yet: hold consumers back */
    sp_clock_observe(c, 0, 5000);
    assert_int_equal(sp_watermark_of(c), 5000);
    sp_clock_destroy(c);
    assert_int_equal(sp_clock_new(SP_CLOCK_WALL, 1000, &c), SP_OK);
    assert_int_equal(sp_watermark_of(c), 0); /* wall clock: nothing forwarded */
    sp_clock_destroy(c);
    assert_int_equal(sp_watermark_of(NULL), 0);
}

/* Nothing to send while the event clock has no watermark (no broker is
 * touched, so this runs without Kafka). */
static void test_send_needs_a_watermark(void **state)
{
    (void)state;
    sp_clock *c = NULL;
    assert_int_equal(sp_clock_new(SP_CLOCK_EVENT, 1000, &c), SP_OK);
    sp_watermark w = {0};
    int sent = 1;
    assert_int_equal(
        sp_watermark_send(&w, sp_watermark_pack_signal, sp_watermark_of(c), NULL, NULL, "t", 1, &sent),
        SP_OK);
    assert_int_equal(sent, 0);
    w.sent_ms = 9000; /* already sent a later one */
    sp_clock_observe(c, 0, 5000);
    assert_int_equal(
        sp_watermark_send(&w, sp_watermark_pack_signal, sp_watermark_of(c), NULL, NULL, "t", 1, &sent),
        SP_OK);
    assert_int_equal(sent, 0);
    sp_watermark none = {0}; /* a new watermark but nothing to pack it with */
    assert_int_equal(sp_watermark_send(&none, NULL, 5000, NULL, NULL, "t", 1, &sent), SP_EINVAL);
    assert_int_equal(sent, 0);
    sp_clock_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pack_roundtrip),
        cmocka_unit_test(test_is_heartbeat),
        cmocka_unit_test(test_pack_signal),
        cmocka_unit_test(test_pack_command),
        cmocka_unit_test(test_now_by_clock_kind),
        cmocka_unit_test(test_send_needs_a_watermark),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
