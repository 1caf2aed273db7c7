/* Unit tests of common/clock: watermark semantics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "clock.h"
#include "err.h"

static int64_t fake_wall_now;
static int64_t fake_wall(void *arg)
{
    (void)arg;
    return fake_wall_now;
}

static sp_clock *event_clock(void)
{
    sp_clock *c = NULL;
    assert_int_equal(sp_clock_new(SP_CLOCK_EVENT, 5000, &c), SP_OK);
    fake_wall_now = 1000000;
    sp_clock_set_wall(c, fake_wall, NULL);
    return c;
}

static void test_kind_parse(void **state)
{
    (void)state;
    sp_clock_kind k;
    assert_int_equal(sp_clock_kind_parse("wall", &k), SP_OK);
    assert_int_equal(k, SP_CLOCK_WALL);
    assert_int_equal(sp_clock_kind_parse("event", &k), SP_OK);
    assert_int_equal(k, SP_CLOCK_EVENT);
    assert_int_equal(sp_clock_kind_parse("Event", &k), SP_EINVAL);
    assert_int_equal(sp_clock_kind_parse(NULL, &k), SP_EINVAL);
}

static void test_manual(void **state)
{
    (void)state;
    sp_clock *c = NULL;
    assert_int_equal(sp_clock_new(SP_CLOCK_MANUAL, 0, &c), SP_OK);
    assert_int_equal(sp_clock_now_ms(c), 0);
    sp_clock_set_ms(c, 42);
    assert_int_equal(sp_clock_now_ms(c), 42);
    sp_clock_observe(c, 0, 99999); /* ignored */
    assert_int_equal(sp_clock_now_ms(c), 42);
    sp_clock_destroy(c);
    sp_clock_destroy(NULL);
}

static void test_watermark_is_min_of_partitions(void **state)
{
    (void)state;
    sp_clock *c = event_clock();
    assert_int_equal(sp_clock_now_ms(c), 0);
    sp_clock_assign(c, 0);
    sp_clock_assign(c, 1);
    sp_clock_observe(c, 0, 5000);
    /* partition 1 holds time back until it has seen an event */
    assert_int_equal(sp_clock_now_ms(c), 0);
    sp_clock_observe(c, 1, 3000);
    assert_int_equal(sp_clock_now_ms(c), 3000);
    sp_clock_observe(c, 1, 9000);
    assert_int_equal(sp_clock_now_ms(c), 5000);
    /* a late event does not move time backwards */
    sp_clock_observe(c, 0, 1000);
    assert_int_equal(sp_clock_now_ms(c), 5000);
    sp_clock_observe(c, 0, 12000);
    assert_int_equal(sp_clock_now_ms(c), 9000);
    sp_clock_destroy(c);
}

static void test_idle_partition_drops_out(void **state)
{
    (void)state;
    sp_clock *c = event_clock();
    sp_clock_assign(c, 2); /* an empty partition */
    sp_clock_observe(c, 0, 1000);
    sp_clock_observe(c, 1, 50000);
    assert_int_equal(sp_clock_now_ms(c), 0); /* the empty one holds time back within its grace */
    fake_wall_now += 6000;
    sp_clock_observe(c, 1, 60000);
    assert_int_equal(sp_clock_now_ms(c), 1000); /* it dropped out; partition 0 still counts */
    fake_wall_now += 60000; /* partition 0 silent for a minute: its producer may be stalled */
    assert_int_equal(sp_clock_now_ms(c), 1000);
    sp_clock_observe(c, 0, 70000);
    assert_int_equal(sp_clock_now_ms(c), 60000);
    /* a late event does not move time backwards */
    sp_clock_observe(c, 0, 2000);
    assert_int_equal(sp_clock_now_ms(c), 60000);
    sp_clock_destroy(c);
}

static void test_busy_consumer_keeps_partitions(void **state)
{
    (void)state;
    sp_clock *c = event_clock();
    sp_clock_assign(c, 2); /* empty so far */
    sp_clock_observe(c, 1, 50000);
    sp_clock_hold(c, 1);
    fake_wall_now += 10000; /* the batch took 10 s > 5 s grace */
    sp_clock_observe(c, 1, 60000);
    assert_int_equal(sp_clock_now_ms(c), 0); /* busy: the empty partition still holds time */
    sp_clock_hold(c, 0);
    fake_wall_now += 4000; /* within grace since the batch ended */
    assert_int_equal(sp_clock_now_ms(c), 0);
    fake_wall_now += 2000;
    assert_int_equal(sp_clock_now_ms(c), 60000);
    sp_clock_destroy(c);
}

/* Times observed while a batch is in hand count when it is done with, and
 * not at all when it is discarded (to be redelivered). */
static void test_batch_times_count_when_done(void **state)
{
    (void)state;
    sp_clock *c = event_clock();
    sp_clock_observe(c, 0, 50000);
    assert_int_equal(sp_clock_now_ms(c), 50000);
    sp_clock_hold(c, 1);
    sp_clock_observe(c, 0, 60000);
    assert_int_equal(sp_clock_now_ms(c), 50000); /* the handler sees time as before its batch */
    sp_clock_hold(c, 0);
    assert_int_equal(sp_clock_now_ms(c), 60000);
    int64_t high = 0;
    assert_int_equal(sp_clock_partition_high(c, 0, &high), SP_OK);
    assert_int_equal(high, 60000);
    sp_clock_hold(c, 1);
    sp_clock_observe(c, 0, 70000);
    sp_clock_discard(c); /* the batch will come again */
    sp_clock_hold(c, 0);
    assert_int_equal(sp_clock_now_ms(c), 60000);
    assert_int_equal(sp_clock_partition_high(c, 0, &high), SP_OK);
    assert_int_equal(high, 60000);
    sp_clock_observe(c, 0, 70000); /* redelivered, outside a batch: counts at once */
    assert_int_equal(sp_clock_now_ms(c), 70000);
    sp_clock_destroy(c);
}

/* A held message keeps the checkpointed high at its time (a restart reads
 * it again) but not the watermark (it is known). */
static void test_held_caps_the_checkpoint(void **state)
{
    (void)state;
    sp_clock *c = event_clock();
    sp_clock_observe(c, 0, 50000);
    sp_clock_observe(c, 1, 90000);
    sp_clock_held(c, 1, 70000);
    int64_t high = 0;
    assert_int_equal(sp_clock_partition_high(c, 1, &high), SP_OK);
    assert_int_equal(high, 70000);
    assert_int_equal(sp_clock_partition_high(c, 0, &high), SP_OK);
    assert_int_equal(high, 50000);
    assert_int_equal(sp_clock_now_ms(c), 50000);
    sp_clock_held(c, -1, 0); /* the next batch's notes start over */
    assert_int_equal(sp_clock_partition_high(c, 1, &high), SP_OK);
    assert_int_equal(high, 90000);
    sp_clock_destroy(c);
}

static void test_revoke(void **state)
{
    (void)state;
    sp_clock *c = event_clock();
    sp_clock_observe(c, 0, 1000);
    sp_clock_observe(c, 1, 8000);
    assert_int_equal(sp_clock_now_ms(c), 1000);
    sp_clock_revoke(c, 0);
    assert_int_equal(sp_clock_now_ms(c), 8000);
    sp_clock_destroy(c);
}

static int behind_flag;
static int fake_behind(void *arg, int32_t partition)
{
    (void)arg;
    return partition == 0 && behind_flag;
}

static void test_behind_partition_never_idle(void **state)
{
    (void)state;
    sp_clock *c = event_clock();
    sp_clock_set_behind(c, fake_behind, NULL);
    sp_clock_assign(c, 0); /* nothing delivered yet, but a backlog */
    sp_clock_observe(c, 1, 50000);
    behind_flag = 1;
    fake_wall_now += 60000; /* far past the grace period */
    assert_int_equal(sp_clock_now_ms(c), 0);
    behind_flag = 0; /* truly empty: drops out */
    assert_int_equal(sp_clock_now_ms(c), 50000);
    sp_clock_destroy(c);
}

/* Alignment: a partition more than the margin past the watermark may
 * pause while a slow one (within the margin) still has events to deliver;
 * never the one at the watermark, and not once the slow one is drained
 * (nothing would wake the paused one). */
static void test_partition_ahead_while_a_slow_one_has_backlog(void **state)
{
    (void)state;
    sp_clock *c = event_clock();
    sp_clock_set_behind(c, fake_behind, NULL); /* partition 0 is the slow one */
    sp_clock_assign(c, 0);
    sp_clock_assign(c, 1);
    sp_clock_observe(c, 0, 10000);
    sp_clock_observe(c, 1, 20000);
    assert_int_equal(sp_clock_now_ms(c), 10000);
    behind_flag = 1;
    assert_int_equal(sp_clock_partition_ahead(c, 1, 5000), 1); /* 10 s past, margin 5 s */
    assert_int_equal(sp_clock_partition_ahead(c, 1, 10000), 0); /* exactly at the margin */
    assert_int_equal(sp_clock_partition_ahead(c, 1, 9999), 1);
    assert_int_equal(sp_clock_partition_ahead(c, 0, 5000), 0); /* at the watermark */
    assert_int_equal(sp_clock_partition_ahead(c, 1, 0), 0); /* margin 0: off */
    assert_int_equal(sp_clock_partition_ahead(c, 7, 5000), 0); /* unknown */
    behind_flag = 0; /* the slow one is drained: nothing to wait for */
    assert_int_equal(sp_clock_partition_ahead(c, 1, 5000), 0);
    behind_flag = 1;
    sp_clock_observe(c, 0, 16000); /* caught up to within the margin */
    assert_int_equal(sp_clock_partition_ahead(c, 1, 5000), 0);
    sp_clock_revoke(c, 1); /* not assigned: not paused */
    assert_int_equal(sp_clock_partition_ahead(c, 1, 1), 0);
    behind_flag = 0;
    sp_clock_destroy(c);

    sp_clock *w = NULL; /* other kinds never align */
    assert_int_equal(sp_clock_new(SP_CLOCK_WALL, 0, &w), SP_OK);
    assert_int_equal(sp_clock_partition_ahead(w, 0, 5000), 0);
    sp_clock_destroy(w);
}

/* Lateness: the watermark trails the slowest partition by it while input
 * may still come, and catches up once the input is drained (nothing in
 * hand, nothing behind, idle past the grace period). */
static void test_lateness_until_drained(void **state)
{
    (void)state;
    sp_clock *c = event_clock(); /* grace 5 s */
    sp_clock_set_behind(c, fake_behind, NULL);
    sp_clock_set_lateness(c, 3000);
    sp_clock_assign(c, 0);
    sp_clock_assign(c, 1);
    sp_clock_observe(c, 0, 10000);
    sp_clock_observe(c, 1, 20000);
    assert_int_equal(sp_clock_now_ms(c), 7000);
    assert_int_equal(sp_clock_partition_ahead(c, 1, 5000), 0); /* 10 s past the slowest's 10 s: margin */
    behind_flag = 1; /* partition 0 has a backlog */
    assert_int_equal(sp_clock_partition_ahead(c, 1, 9999), 1); /* measured from 10 s, not from 7 s */
    fake_wall_now += 60000;
    assert_int_equal(sp_clock_now_ms(c), 7000); /* idle, but partition 0 is behind */
    behind_flag = 0;
    sp_clock_hold(c, 1); /* a batch in hand: not drained */
    assert_int_equal(sp_clock_now_ms(c), 7000);
    sp_clock_hold(c, 0); /* restarts the idle countdown */
    assert_int_equal(sp_clock_now_ms(c), 7000);
    fake_wall_now += 5001;
    assert_int_equal(sp_clock_now_ms(c), 10000); /* drained: all that came is all there is */
    sp_clock_observe(c, 0, 15000); /* more input: trails again, never backwards */
    assert_int_equal(sp_clock_now_ms(c), 12000);
    sp_clock_set_lateness(c, 0);
    assert_int_equal(sp_clock_now_ms(c), 15000);
    sp_clock_destroy(c);
}

/* A restarted consumer seeded with the highs of its previous run: the
 * partition that delivered events before never drops out, even before it
 * delivers again; an unseeded one would (the crash-restart bug). */
static void test_seeded_partition_counts_after_restart(void **state)
{
    (void)state;
    sp_clock *c = event_clock();
    int64_t h = 0;
    assert_int_equal(sp_clock_partition_high(c, 1, &h), SP_ENOTFOUND);
    sp_clock_seed(c, 1, 20000);
    assert_int_equal(sp_clock_partition_high(c, 1, &h), SP_OK);
    assert_int_equal(h, 20000);
    assert_int_equal(sp_clock_now_ms(c), 0); /* seeding alone assigns nothing */
    sp_clock_assign(c, 0);
    sp_clock_assign(c, 1);
    sp_clock_observe(c, 0, 90000);
    fake_wall_now += 60000; /* far past the grace period, partition 1 silent */
    assert_int_equal(sp_clock_now_ms(c), 20000);
    sp_clock_observe(c, 1, 30000);
    assert_int_equal(sp_clock_now_ms(c), 30000);
    sp_clock_seed(c, 1, 25000); /* an older seed never lowers a high */
    assert_int_equal(sp_clock_partition_high(c, 1, &h), SP_OK);
    assert_int_equal(h, 30000);
    sp_clock_destroy(c);

    sp_clock *w = NULL; /* other kinds ignore seeds */
    assert_int_equal(sp_clock_new(SP_CLOCK_MANUAL, 0, &w), SP_OK);
    sp_clock_seed(w, 0, 5);
    assert_int_equal(sp_clock_partition_high(w, 0, &h), SP_ENOTFOUND);
    sp_clock_destroy(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kind_parse),
        cmocka_unit_test(test_manual),
        cmocka_unit_test(test_watermark_is_min_of_partitions),
        cmocka_unit_test(test_batch_times_count_when_done),
        cmocka_unit_test(test_held_caps_the_checkpoint),
        cmocka_unit_test(test_idle_partition_drops_out),
        cmocka_unit_test(test_busy_consumer_keeps_partitions),
        cmocka_unit_test(test_revoke),
        cmocka_unit_test(test_behind_partition_never_idle),
        cmocka_unit_test(test_seeded_partition_counts_after_restart),
        cmocka_unit_test(test_partition_ahead_while_a_slow_one_has_backlog),
        cmocka_unit_test(test_lateness_until_drained),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
