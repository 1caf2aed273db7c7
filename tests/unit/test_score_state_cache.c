/* test_score_state_cache.c - the per-transaction signal state cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "score/state_cache.h"

static score_state st_of(uint32_t episode, int active)
{
    score_state s = {.active = active, .episode = episode, .revision = episode, .level = 1};
    return s;
}

static void test_get_put(void **state)
{
    (void)state;
    score_state_cache *c = NULL;
    assert_int_equal(score_state_cache_new(&c), SP_OK);
    score_state got;
    assert_int_equal(score_state_cache_get(c, SCORE_CUSTOMER_STALE, "C1", "", &got, NULL), 0);
    score_state_cache_item_begin(c);
    score_state a = st_of(1, 1);
    assert_int_equal(score_state_cache_put(c, SCORE_CUSTOMER_STALE, "C1", "", &a, 10), SP_OK);
    int64_t at = 0;
    assert_int_equal(score_state_cache_get(c, SCORE_CUSTOMER_STALE, "C1", "", &got, &at), 1);
    assert_int_equal(got.episode, 1);
    assert_int_equal(at, 10); /* the time of its last evaluation */
    /* kind, subject and variant all part of the key */
    assert_int_equal(score_state_cache_get(c, SCORE_RISK_RAISED, "C1", "", &got, NULL), 0);
    assert_int_equal(score_state_cache_get(c, SCORE_CUSTOMER_STALE, "C1", "x", &got, NULL), 0);
    assert_int_equal(score_state_cache_get(c, SCORE_CUSTOMER_STALE, "C2", "", &got, NULL), 0);
    assert_int_equal(score_state_cache_put(c, SCORE_CUSTOMER_STALE, "C1", NULL, &a, 11), SP_OK);
    assert_int_equal(score_state_cache_count(c), 1); /* NULL variant = "" */
    score_state_cache_reset(c);
    assert_int_equal(score_state_cache_count(c), 0);
    assert_int_equal(score_state_cache_get(c, SCORE_CUSTOMER_STALE, "C1", "", &got, NULL), 0);
    assert_int_equal(score_state_cache_put(NULL, SCORE_CUSTOMER_STALE, "C1", "", &a, 1), SP_EINVAL);
    score_state_cache_destroy(c);
    score_state_cache_destroy(NULL);
}

/* An undone item restores what the item before it left, and forgets what
 * it created; later items may create the key again. */
static void test_item_undo(void **state)
{
    (void)state;
    score_state_cache *c = NULL;
    assert_int_equal(score_state_cache_new(&c), SP_OK);
    score_state got, one = st_of(1, 1), two = st_of(2, 0), three = st_of(3, 1);
    score_state_cache_item_begin(c);
    assert_int_equal(score_state_cache_put(c, SCORE_RISK_RAISED, "D1", "price", &one, 1), SP_OK);
    score_state_cache_item_begin(c);
    assert_int_equal(score_state_cache_put(c, SCORE_RISK_RAISED, "D1", "price", &two, 2), SP_OK);
    assert_int_equal(score_state_cache_put(c, SCORE_RISK_RAISED, "D1", "price", &three, 3), SP_OK);
    assert_int_equal(score_state_cache_put(c, SCORE_CUSTOMER_STALE, "C9", "", &two, 3), SP_OK);
    score_state_cache_item_undo(c);
    assert_int_equal(score_state_cache_get(c, SCORE_RISK_RAISED, "D1", "price", &got, NULL), 1);
    assert_int_equal(got.episode, 1);
    assert_int_equal(score_state_cache_get(c, SCORE_CUSTOMER_STALE, "C9", "", &got, NULL), 0);
    assert_int_equal(score_state_cache_count(c), 1);
    score_state_cache_item_begin(c);
    assert_int_equal(score_state_cache_put(c, SCORE_CUSTOMER_STALE, "C9", "", &three, 4), SP_OK);
    assert_int_equal(score_state_cache_get(c, SCORE_CUSTOMER_STALE, "C9", "", &got, NULL), 1);
    assert_int_equal(got.episode, 3);
    score_state_cache_destroy(c);
}

/* Far more keys than the initial table: every one still found. */
static void test_grows(void **state)
{
    (void)state;
    score_state_cache *c = NULL;
    assert_int_equal(score_state_cache_new(&c), SP_OK);
    score_state_cache_item_begin(c);
    char id[32];
    for (uint32_t i = 0; i < 5000; i++) {
        snprintf(id, sizeof id, "D%u", i);
        score_state s = st_of(i, (int)(i & 1));
        assert_int_equal(score_state_cache_put(c, SCORE_STAGE_STALLED, id, "", &s, i), SP_OK);
    }
    assert_int_equal(score_state_cache_count(c), 5000);
    for (uint32_t i = 0; i < 5000; i++) {
        snprintf(id, sizeof id, "D%u", i);
        score_state got;
        assert_int_equal(score_state_cache_get(c, SCORE_STAGE_STALLED, id, "", &got, NULL), 1);
        assert_int_equal(got.episode, i);
    }
    score_state_cache_destroy(c);
}

/* A state read ahead (a batch's prefetch) is found like any other but
 * written back only once an item changed it; an undone change makes it
 * clean again, a change that stands keeps it dirty. */
static void test_loaded_ahead(void **state)
{
    (void)state;
    score_state_cache *c = NULL;
    assert_int_equal(score_state_cache_new(&c), SP_OK);
    score_state got, stored = st_of(4, 1), changed = st_of(5, 0), other = st_of(9, 1);
    assert_int_equal(score_state_cache_load(c, SCORE_KEY_ROLE_UNCOVERED, "D1", "", &stored, 100), SP_OK);
    assert_int_equal(score_state_cache_load(c, SCORE_KEY_ROLE_UNCOVERED, "D2", NULL, &stored, 0), SP_OK);
    int64_t at = -1;
    assert_int_equal(score_state_cache_get(c, SCORE_KEY_ROLE_UNCOVERED, "D1", "", &got, &at), 1);
    assert_int_equal(got.episode, 4);
    assert_int_equal(at, 100);
    assert_int_equal(score_state_cache_count(c), 2);
    assert_int_equal(score_state_cache_dirty(c), 0); /* nothing to write yet */
    /* loading a key already cached keeps what is cached */
    assert_int_equal(score_state_cache_load(c, SCORE_KEY_ROLE_UNCOVERED, "D1", "", &other, 7), SP_OK);
    assert_int_equal(score_state_cache_get(c, SCORE_KEY_ROLE_UNCOVERED, "D1", "", &got, &at), 1);
    assert_int_equal(got.episode, 4);
    /* an item changes D1, then is undone: loaded value back, clean again */
    score_state_cache_item_begin(c);
    assert_int_equal(score_state_cache_put(c, SCORE_KEY_ROLE_UNCOVERED, "D1", "", &changed, 200), SP_OK);
    assert_int_equal(score_state_cache_dirty(c), 1);
    score_state_cache_item_undo(c);
    assert_int_equal(score_state_cache_get(c, SCORE_KEY_ROLE_UNCOVERED, "D1", "", &got, &at), 1);
    assert_int_equal(got.episode, 4);
    assert_int_equal(at, 100);
    assert_int_equal(score_state_cache_dirty(c), 0);
    /* a change that stands stays dirty even when a later item is undone */
    score_state_cache_item_begin(c);
    assert_int_equal(score_state_cache_put(c, SCORE_KEY_ROLE_UNCOVERED, "D1", "", &changed, 300), SP_OK);
    score_state_cache_item_begin(c);
    assert_int_equal(score_state_cache_put(c, SCORE_KEY_ROLE_UNCOVERED, "D1", "", &other, 400), SP_OK);
    score_state_cache_item_undo(c);
    assert_int_equal(score_state_cache_get(c, SCORE_KEY_ROLE_UNCOVERED, "D1", "", &got, &at), 1);
    assert_int_equal(got.episode, 5);
    assert_int_equal(at, 300);
    assert_int_equal(score_state_cache_dirty(c), 1);
    assert_int_equal(score_state_cache_load(NULL, SCORE_KEY_ROLE_UNCOVERED, "D1", "", &stored, 0), SP_EINVAL);
    score_state_cache_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_put),
        cmocka_unit_test(test_item_undo),
        cmocka_unit_test(test_grows),
        cmocka_unit_test(test_loaded_ahead),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
