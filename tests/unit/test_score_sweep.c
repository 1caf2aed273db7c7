/* Unit tests of the sweep clock in services/score/score_svc.c: which
 * boundaries are due, when a local day / ISO week begins, and the promise
 * stamped on signals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "score/score_svc.h"

#define H   3600000LL
#define DAY (24 * H)
/* 2026-03-02T00:00:00Z, a Monday (08:00 in Shanghai) */
#define MON 1772409600000LL

static void test_due_table(void **state)
{
    (void)state;
    static const struct {
        int64_t last, now, every;
        size_t cap, n;
        int64_t first, last_out;
    } cases[] = {
        {0, MON + 90 * 60000, H, 48, 1, MON + H, MON + H}, /* nothing done yet: only the latest */
        {MON, MON + 59 * 60000, H, 48, 0, 0, 0}, /* next boundary not reached */
        {MON, MON + H, H, 48, 1, MON + H, MON + H}, /* exactly on the boundary */
        {MON, MON + 5 * H + 1, H, 48, 5, MON + H, MON + 5 * H}, /* each crossed boundary, in order */
        {MON, MON + 100 * H, H, 48, 48, MON + H, MON + 48 * H}, /* a far jump is capped */
        {MON + 48 * H, MON + 100 * H, H, 48, 48, MON + 49 * H, MON + 96 * H}, /* and continued */
        {MON + H / 2, MON + 2 * H, H, 48, 2, MON + H, MON + 2 * H}, /* a last not on a boundary */
        {MON, MON - H, H, 48, 0, 0, 0}, /* clock behind the last */
        {0, 0, H, 48, 0, 0, 0}, /* no time yet */
        {MON, MON + 3 * DAY, DAY, 48, 3, MON + DAY, MON + 3 * DAY},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t out[64] = {0};
        size_t n = score_sweep_due(cases[i].last, cases[i].now, cases[i].every, out, cases[i].cap);
        assert_int_equal(n, cases[i].n);
        if (!n) continue;
        assert_int_equal(out[0], cases[i].first);
        assert_int_equal(out[n - 1], cases[i].last_out);
        for (size_t k = 1; k < n; k++)
            assert_int_equal(out[k] - out[k - 1], cases[i].every);
    }
    int64_t out[4];
    assert_int_equal(score_sweep_due(MON, MON + 10 * H, 0, out, 4), 0);
    assert_int_equal(score_sweep_due(MON, MON + 10 * H, H, NULL, 4), 0);
}

/* Running boundaries in capped steps visits the same boundaries as one long run. */
static void test_due_steps_deterministic(void **state)
{
    (void)state;
    int64_t last = MON, seen = 0, out[7];
    for (int round = 0; round < 100; round++) {
        size_t n = score_sweep_due(last, MON + 50 * H + 17, H, out, 7);
        if (!n) break;
        for (size_t k = 0; k < n; k++) {
            assert_int_equal(out[k], last + H);
            last = out[k];
            seen++;
        }
    }
    assert_int_equal(seen, 50);
}

/* The promise on signals: the clock's time only once every boundary up to
 * it is swept, else the last boundary swept. */
static void test_promise(void **state)
{
    (void)state;
    static const struct {
        int64_t done, now, every, want;
    } cases[] = {
        {MON, MON + 30 * 60000, H, MON + 30 * 60000}, /* swept to the boundary before now */
        {MON, MON + H, H, MON}, /* on a boundary not swept yet: its sweep may still emit at MON + H */
        {MON + H, MON + H, H, MON + H}, /* and once it ran */
        {MON, MON + 5 * H + 1, H, MON}, /* several behind (catching up) */
        {0, MON, H, 0}, /* nothing swept yet: no promise */
        {MON, 0, H, 0}, /* no time yet */
        {MON, MON + H, 0, 0}, /* no sweeps */
        {MON + DAY, MON + DAY + 5 * H, DAY, MON + DAY + 5 * H},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(score_promise_of(cases[i].done, cases[i].now, cases[i].every), cases[i].want);
}

/* A Shanghai calendar of 2026 with no holidays; caller frees with calendar_destroy. */
static score_calendar *shanghai(void)
{
    score_calendar *cal = NULL;
    char err[256];
    assert_int_equal(
        calendar_load_string("{\"time_zone\":\"Asia/Shanghai\",\"utc_offset_minutes\":480,\"years\":[2026],"
                             "\"holidays\":[],\"workdays\":[]}",
            "cal.json", &cal, err, sizeof err),
        SP_OK);
    return cal;
}

static void test_crosses_day_and_week(void **state)
{
    (void)state;
    score_calendar *cal = shanghai();
    /* local midnight is 16:00 UTC the day before */
    int64_t mid = MON - 8 * H; /* 2026-03-02 00:00 in Shanghai */
    assert_true(score_sweep_crosses(cal, mid - H, mid, 0));
    assert_false(score_sweep_crosses(cal, mid, mid + H, 0));
    assert_false(score_sweep_crosses(cal, mid - 2 * H, mid - H, 0));
    /* Monday 00:00 local starts an ISO week; Tuesday does not */
    assert_true(score_sweep_crosses(cal, mid - H, mid, 1));
    assert_false(score_sweep_crosses(cal, mid + DAY - H, mid + DAY, 1));
    assert_true(score_sweep_crosses(cal, mid + DAY - H, mid + DAY, 0));
    calendar_destroy(cal);
}

/* First-visit shares move only in the first timeout hours of a local ISO
 * week (the judged weeks' last deadlines); the boundary that crosses the
 * last deadline still judges, the one after it does not. */
static void test_first_visit_due(void **state)
{
    (void)state;
    score_calendar *cal = shanghai();
    int64_t mon = MON - 8 * H, limit = 48 * H; /* Monday 00:00 in Shanghai */
    static const struct {
        int64_t prev, t;
        int want;
    } cases[] = {
        {-H, 0, 1}, /* the week begins */
        {0, H, 1}, /* the first hours: deadlines pass */
        {47 * H, 48 * H, 1}, /* the last deadline is before Wednesday 00:00 */
        {48 * H - 1, 48 * H + 59 * 60000, 1}, /* a deadline just before 48 h is crossed here */
        {48 * H, 49 * H, 0}, /* every deadline passed by prev: the counts stand */
        {6 * DAY, 7 * DAY - H, 0}, /* Sunday */
        {7 * DAY - H, 7 * DAY, 1}, /* the next week */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(
            score_first_visit_due(cal, limit, mon + cases[i].prev, mon + cases[i].t), cases[i].want);
    /* no timeout: only the week's first boundary */
    assert_true(score_first_visit_due(cal, 0, mon - H, mon));
    assert_false(score_first_visit_due(cal, 0, mon, mon + H));
    calendar_destroy(cal);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_due_table),
        cmocka_unit_test(test_due_steps_deterministic),
        cmocka_unit_test(test_crosses_day_and_week),
        cmocka_unit_test(test_first_visit_due),
        cmocka_unit_test(test_promise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
