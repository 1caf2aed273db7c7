/* Unit tests of the today list's share of the week's planned goal actions
 * (services/taskpool/goals_today.c): which day of the plan week today is,
 * how many working days are left, and today's share of what is owed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "civil.h"
#include "taskpool/goals_today.h"

#define DAY GOALS_DAY_MS
#define H   3600000LL

/* 00:00 UTC of a date. */
static int64_t at(int y, int m, int d)
{
    return sp_days_from_civil(y, m, d) * DAY;
}

static void test_day_of(void **state)
{
    (void)state;
    int64_t mon = at(2026, 3, 2); /* a Monday: the itest goal's week 0 */
    static const struct {
        int day; /* days after the week's Monday */
        int64_t hour;
        int working, days_left;
    } cases[] = {
        {0, 0, 1, 5}, /* Monday 00:00: the whole week */
        {2, 10, 1, 3}, /* Wednesday: Wed, Thu, Fri */
        {4, 23, 1, 1}, /* Friday night: Friday only */
        {5, 9, 0, 0}, /* Saturday: nothing left */
        {6, 23, 0, 0}, /* Sunday */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        goals_today_day d;
        assert_int_equal(goals_today_day_of(mon, mon + cases[i].day * DAY + cases[i].hour * H, &d), SP_OK);
        assert_int_equal(d.day_start_ms, mon + cases[i].day * DAY);
        assert_int_equal(d.working, cases[i].working);
        assert_int_equal(d.days_left, cases[i].days_left);
    }
    /* a week starting on a Thursday: Thu..Wed; on Saturday Mon, Tue, Wed are left */
    int64_t thu = at(2026, 3, 5);
    goals_today_day d;
    assert_int_equal(goals_today_day_of(thu, thu + 2 * DAY + H, &d), SP_OK);
    assert_int_equal(d.working, 0);
    assert_int_equal(d.days_left, 3);
    /* outside the week */
    assert_int_equal(goals_today_day_of(mon, mon - 1, &d), SP_EINVAL);
    assert_int_equal(goals_today_day_of(mon, mon + 7 * DAY, &d), SP_EINVAL);
    assert_true(goals_today_is_working(at(2026, 3, 6)));
    assert_false(goals_today_is_working(at(2026, 3, 7) + 5 * H));
    assert_true(goals_today_is_working(at(1969, 12, 31) + H)); /* a Wednesday before the epoch */
    assert_false(goals_today_is_working(at(1969, 12, 28)));
}

static void test_share(void **state)
{
    (void)state;
    static const struct {
        int64_t planned, passed_before;
        int working, days_left;
        int64_t want;
    } cases[] = {
        {5, 0, 1, 5, 1}, /* Monday: 5 over 5 days */
        {6, 0, 1, 5, 2}, /* front-loaded: 2, then 1 a day */
        {5, 0, 1, 3, 2}, /* Wednesday, nothing done: ceil(5/3) */
        {5, 3, 1, 3, 1}, /* 2 owed over 3 days: still 1 today */
        {1, 0, 1, 5, 1}, /* at least 1 while anything is owed */
        {16, 4, 1, 2, 6}, /* 12 owed, Thursday and Friday */
        {7, 2, 1, 1, 5}, /* Friday: everything owed */
        {5, 5, 1, 3, 0}, /* done */
        {5, 9, 1, 3, 0}, /* more than planned: nothing owed */
        {5, 0, 0, 0, 0}, /* Saturday: a day off */
        {5, 0, 0, 3, 0}, /* a day off inside the week */
        {0, 0, 1, 5, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        goals_today_day d = {0, cases[i].working, cases[i].days_left};
        int64_t n = -1;
        assert_int_equal(goals_today_share(cases[i].planned, cases[i].passed_before, &d, &n), SP_OK);
        if (n != cases[i].want)
            fail_msg("case %zu: got %lld, want %lld", i, (long long)n, (long long)cases[i].want);
    }
    goals_today_day d = {0, 1, 3};
    int64_t n = 9;
    assert_int_equal(goals_today_share(-1, 0, &d, &n), SP_EINVAL);
    assert_int_equal(n, 0);
    assert_int_equal(goals_today_share(1, -1, &d, &n), SP_EINVAL);
}

/* Over a whole week, doing exactly the share every working day completes
 * the plan by Friday, and never asks for more than was owed. */
static void test_week_adds_up(void **state)
{
    (void)state;
    int64_t mon = at(2026, 3, 2);
    for (int64_t planned = 0; planned <= 23; planned++) {
        int64_t done = 0;
        for (int day = 0; day < 7; day++) {
            goals_today_day d;
            assert_int_equal(goals_today_day_of(mon, mon + day * DAY + 9 * H, &d), SP_OK);
            int64_t n;
            assert_int_equal(goals_today_share(planned, done, &d, &n), SP_OK);
            assert_true(n <= planned - done);
            if (planned - done > 0 && d.working) assert_true(n >= 1);
            done += n;
        }
        assert_int_equal(done, planned);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_day_of),
        cmocka_unit_test(test_share),
        cmocka_unit_test(test_week_adds_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
