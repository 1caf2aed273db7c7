/* Unit tests of services/score/calendar.c: holidays, 调休, weekends, time
 * zone, working-day arithmetic, ISO weeks, and the data file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "score/calendar.h"

#include <stdio.h>
#include <string.h>

#define CAL_FILE "deploy/tenants/default/calendar.json"

static score_calendar *cal;

static int setup(void **state)
{
    (void)state;
    char err[256] = "";
    if (calendar_load(CAL_FILE, &cal, err, sizeof err) != SP_OK) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    calendar_destroy(cal);
    calendar_destroy(NULL);
    return 0;
}

static int32_t D(const char *s)
{
    int32_t d = 0;
    SP_ASSERT(calendar_parse_date(s, &d) == SP_OK);
    return d;
}

/* Unix ms of a local (UTC+8) date and hour. */
static int64_t at(const char *date, int hour)
{
    return calendar_day_start_ms(cal, D(date)) + (int64_t)hour * 3600000;
}

static const struct {
    const char *date;
    int working;
    const char *why;
} days[] = {
    {"2026-03-02", 1, "Monday"},
    {"2026-03-07", 0, "Saturday"},
    {"2026-03-08", 0, "Sunday"},
    {"2026-01-01", 0, "元旦 (Thursday)"},
    {"2026-01-04", 1, "元旦调休 Sunday"},
    {"2026-02-14", 1, "春节调休 Saturday"},
    {"2026-02-16", 0, "春节 Monday"},
    {"2026-02-23", 0, "春节 last day, Monday"},
    {"2026-02-24", 1, "first working day after 春节"},
    {"2026-02-28", 1, "春节调休 Saturday"},
    {"2026-05-09", 1, "劳动节调休 Saturday"},
    {"2026-10-01", 0, "国庆"},
    {"2026-10-10", 1, "国庆调休 Saturday"},
    {"2025-01-26", 1, "2025 春节调休 Sunday"},
    {"2025-10-08", 0, "2025 国庆中秋 last day"},
    {"2025-10-11", 1, "2025 国庆调休 Saturday"},
    {"2027-02-08", 0, "2027 春节 (provisional)"},
    {"2027-10-09", 1, "2027 国庆调休 (provisional)"},
    {"2028-01-03", 1, "uncovered year: Monday"},
    {"2028-01-01", 0, "uncovered year: Saturday"},
};

static void test_working_days_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof days / sizeof days[0]; i++)
        if (calendar_is_working_day(cal, D(days[i].date)) != days[i].working)
            fail_msg("%s (%s): want working=%d", days[i].date, days[i].why, days[i].working);
    assert_true(calendar_covers_year(cal, 2025) && calendar_covers_year(cal, 2026)
        && calendar_covers_year(cal, 2027));
    assert_false(calendar_covers_year(cal, 2028));
}

static void test_dates_and_time_zone(void **state)
{
    (void)state;
    int y, m, d;
    assert_int_equal(calendar_day_from_ymd(1970, 1, 1), 0);
    calendar_ymd_from_day(D("2028-02-29"), &y, &m, &d);
    assert_true(y == 2028 && m == 2 && d == 29);
    int32_t x;
    assert_int_equal(calendar_parse_date("2026-02-29", &x), SP_EINVAL);
    assert_int_equal(calendar_parse_date("2026-2-1", &x), SP_EINVAL);
    assert_int_equal(calendar_parse_date(NULL, &x), SP_EINVAL);
    assert_int_equal(calendar_utc_offset_min(cal), 480);
    /* 2026-03-01 16:30 UTC is already 2026-03-02 00:30 in Shanghai. */
    int64_t t = (int64_t)D("2026-03-01") * SCORE_DAY_MS + (16 * 60 + 30) * 60000LL;
    assert_int_equal(calendar_local_day(cal, t), D("2026-03-02"));
    assert_int_equal(calendar_local_day(cal, t - 3600000), D("2026-03-01"));
}

static void test_working_days_between(void **state)
{
    (void)state;
    /* Mon 09:00 -> Fri 09:00 of a plain week: Mon..Thu. */
    assert_int_equal(calendar_working_days_between(cal, at("2026-03-02", 9), at("2026-03-06", 9)), 4);
    /* Across a weekend. */
    assert_int_equal(calendar_working_days_between(cal, at("2026-03-06", 9), at("2026-03-09", 9)), 1);
    /* Across 春节 2026: Fri 02-13, Sat 02-14 (调休), then 9 days off, Tue 02-24. */
    assert_int_equal(calendar_working_days_between(cal, at("2026-02-13", 9), at("2026-02-24", 9)), 2);
    assert_int_equal(calendar_working_days_between(cal, at("2026-02-24", 9), at("2026-02-13", 9)), 0);
}

static void test_add_working_days(void **state)
{
    (void)state;
    int64_t out;
    assert_int_equal(calendar_add_working_days(cal, at("2026-03-06", 15), 1, &out), SP_OK);
    assert_int_equal(out, at("2026-03-09", 15)); /* Friday + 1 = Monday, same time */
    assert_int_equal(calendar_add_working_days(cal, at("2026-02-13", 10), 2, &out), SP_OK);
    assert_int_equal(out, at("2026-02-24", 10)); /* Sat 02-14 (调休), then Tue 02-24 */
    assert_int_equal(calendar_add_working_days(cal, at("2026-09-30", 10), 1, &out), SP_OK);
    assert_int_equal(out, at("2026-10-08", 10)); /* 国庆 01..07 */
    assert_int_equal(calendar_add_working_days(cal, at("2026-03-02", 10), 0, &out), SP_OK);
    assert_int_equal(out, at("2026-03-02", 10));
    assert_int_equal(calendar_add_working_days(cal, 0, -1, &out), SP_EINVAL);
}

static void test_iso_week(void **state)
{
    (void)state;
    static const struct {
        const char *date;
        int key;
    } rows[] = {
        {"2026-01-01", 202601}, /* Thursday: week 1 of 2026 */
        {"2025-12-29", 202601}, /* Monday of that week */
        {"2027-01-01", 202653}, /* Friday: week 53 of 2026 */
        {"2024-12-30", 202501},
        {"2026-03-02", 202610},
        {"2026-03-08", 202610},
        {"2026-03-09", 202611},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int key = calendar_iso_week(D(rows[i].date), NULL, NULL);
        if (key != rows[i].key) fail_msg("%s: ISO week %d, want %d", rows[i].date, key, rows[i].key);
    }
    int y, w;
    calendar_iso_week(D("2027-01-01"), &y, &w);
    assert_true(y == 2026 && w == 53);
    assert_int_equal(calendar_iso_week_monday(2026, 10), D("2026-03-02"));
    assert_int_equal(calendar_iso_week_monday(2026, 1), D("2025-12-29"));
}

static void test_bad_files(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        const char *message;
    } rows[] = {
        {"{\"holidays\": [{\"date\": \"2026-13-01\"}]}",
            "calendar.json: holidays[0].date: must be a date \"YYYY-MM-DD\""},
        {"{\"holidays\": [{\"from\": \"2026-02-15\"}]}",
            "calendar.json: holidays[0]: needs \"date\" or both \"from\" and \"to\""},
        {"{\"holidays\": [{\"from\": \"2026-02-15\", \"to\": \"2026-02-01\"}]}",
            "calendar.json: holidays[0].to: must be on or after from, within 31 days"},
        {"{\"workdays\": [{\"date\": \"2026-02-14\", \"why\": \"x\"}]}",
            "calendar.json: workdays[0].why: unknown key"},
        {"{\"holidays\": [{\"date\": \"2026-02-14\"}], \"workdays\": [{\"date\": \"2026-02-14\"}]}",
            "calendar.json: workdays: 2026-02-14 is also listed in holidays"},
        {"{\"utc_offset_minutes\": 2000}",
            "calendar.json: utc_offset_minutes: must be an integer in [-720, 840]"},
        {"{\"holiday\": []}", "calendar.json: holiday: unknown key"},
        {"{\"years\": [1900]}", "calendar.json: years[0]: must be a year in [1970, 2200]"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char err[256] = "";
        score_calendar *c = NULL;
        int rv = calendar_load_string(rows[i].json, "calendar.json", &c, err, sizeof err);
        if (rv != SP_ECONFIG || strcmp(err, rows[i].message))
            fail_msg("row %zu: rv %d, got \"%s\", want \"%s\"", i, rv, err, rows[i].message);
        assert_null(c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_working_days_table),
        cmocka_unit_test(test_dates_and_time_zone),
        cmocka_unit_test(test_working_days_between),
        cmocka_unit_test(test_add_working_days),
        cmocka_unit_test(test_iso_week),
        cmocka_unit_test(test_bad_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
