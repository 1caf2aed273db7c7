/* Unit tests of sp-ingest's bounded set of recently published event ids:
 * membership, first-in-first-out forgetting at capacity, and membership kept
 * exact through the deleted-slot rebuilds of a long run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "err.h"
#include "ingest/dedupe.h"

#include <stdio.h>
#include <string.h>

static void test_dedupe_basic(void **state)
{
    (void)state;
    ingest_dedupe *d = NULL;
    assert_int_equal(ingest_dedupe_new(3, &d), SP_OK);
    assert_false(ingest_dedupe_seen(d, "ix-a"));
    ingest_dedupe_add(d, "ix-a");
    ingest_dedupe_add(d, "ix-b");
    ingest_dedupe_add(d, "ix-a"); /* already there: takes no place */
    assert_true(ingest_dedupe_seen(d, "ix-a"));
    assert_true(ingest_dedupe_seen(d, "ix-b"));
    assert_false(ingest_dedupe_seen(d, "ix-c"));
    ingest_dedupe_add(d, "ix-c");
    ingest_dedupe_add(d, "ix-d"); /* over capacity: the oldest (a) goes */
    assert_false(ingest_dedupe_seen(d, "ix-a"));
    assert_true(ingest_dedupe_seen(d, "ix-b"));
    assert_true(ingest_dedupe_seen(d, "ix-c"));
    assert_true(ingest_dedupe_seen(d, "ix-d"));
    ingest_dedupe_destroy(d);
    ingest_dedupe_destroy(NULL);
}

/* Id number k: 11, 39 or 100 bytes in turn (the set keeps ids under 40
 * bytes in its own storage and copies longer ones). */
static const char *id_of(int k, char *buf, size_t cap)
{
    static const int len[] = {11, 39, 100};
    snprintf(buf, cap, "ix-%08d%0*d", k, len[k % 3] - 11, 0);
    return buf;
}

/* 50 rounds of the capacity through a set of 1,000: after every add exactly
 * the last 1,000 ids are members (the ones before are not), across the
 * rebuilds that drop deleted slots; short and long ids mixed. */
static void test_dedupe_window(void **state)
{
    (void)state;
    enum { CAP = 1000, N = 50 * CAP };
    ingest_dedupe *d = NULL;
    assert_int_equal(ingest_dedupe_new(CAP, &d), SP_OK);
    char id[128];
    assert_int_equal(strlen(id_of(1, id, sizeof id)), 39);
    assert_int_equal(strlen(id_of(2, id, sizeof id)), 100);
    for (int i = 0; i < N; i++) {
        ingest_dedupe_add(d, id_of(i, id, sizeof id));
        if (i % 997 == 0 || i == N - 1) {
            for (int k = i - CAP - 5; k <= i; k++) {
                if (k < 0) continue;
                id_of(k, id, sizeof id);
                if (k > i - CAP)
                    assert_true(ingest_dedupe_seen(d, id));
                else
                    assert_false(ingest_dedupe_seen(d, id));
            }
        }
    }
    ingest_dedupe_destroy(d);
}

/* The batch forms answer and add as the one-id forms do, duplicates in
 * one call taking one place. */
static void test_dedupe_many(void **state)
{
    (void)state;
    ingest_dedupe *d = NULL;
    assert_int_equal(ingest_dedupe_new(3, &d), SP_OK);
    const char *first[] = {"ix-a", "ix-b", "ix-a"};
    unsigned char seen[4] = {9, 9, 9, 9};
    ingest_dedupe_seen_n(d, first, 3, seen);
    assert_memory_equal(seen, ((unsigned char[]) {0, 0, 0, 9}), 4);
    ingest_dedupe_add_n(d, first, 3);
    const char *next[] = {"ix-b", "ix-c", "ix-a", "ix-d"};
    ingest_dedupe_seen_n(d, next, 4, seen);
    assert_memory_equal(seen, ((unsigned char[]) {1, 0, 1, 0}), 4);
    ingest_dedupe_add_n(d, next, 4); /* c and d: a (the oldest) goes */
    ingest_dedupe_seen_n(d, next, 4, seen);
    assert_memory_equal(seen, ((unsigned char[]) {1, 1, 0, 1}), 4);
    ingest_dedupe_destroy(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dedupe_basic),
        cmocka_unit_test(test_dedupe_window),
        cmocka_unit_test(test_dedupe_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
