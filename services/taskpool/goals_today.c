/* goals_today.c - today's share of the week's planned goal actions. */
#include "taskpool/goals_today.h"

#include <string.h>

/* Floor division for instants before the epoch too. */
static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* 1 for Monday to Friday of a day number (days since 1970-01-01, a Thursday). */
static int weekday(int64_t day)
{
    int64_t dow = ((day + 3) % 7 + 7) % 7; /* 0 = Monday */
    return dow < 5;
}

int goals_today_is_working(int64_t at_ms)
{
    return weekday(floor_div(at_ms, GOALS_DAY_MS));
}

sp_err goals_today_day_of(int64_t week_start_ms, int64_t now_ms, goals_today_day *out)
{
    memset(out, 0, sizeof *out);
    if (now_ms < week_start_ms || now_ms - week_start_ms >= GOALS_WEEK_MS) return SP_EINVAL;
    int64_t today = floor_div(now_ms, GOALS_DAY_MS);
    int64_t last = floor_div(week_start_ms + GOALS_WEEK_MS - 1, GOALS_DAY_MS);
    out->day_start_ms = today * GOALS_DAY_MS;
    if (out->day_start_ms < week_start_ms) out->day_start_ms = week_start_ms;
    out->working = weekday(today);
    for (int64_t d = today; d <= last; d++)
        out->days_left += weekday(d);
    return SP_OK;
}

sp_err goals_today_share(
    int64_t planned, int64_t passed_before_today, const goals_today_day *d, int64_t *count)
{
    *count = 0;
    if (planned < 0 || passed_before_today < 0) return SP_EINVAL;
    int64_t owed = planned - passed_before_today;
    if (owed <= 0 || !d->working || d->days_left <= 0) return SP_OK;
    *count = (owed + d->days_left - 1) / d->days_left;
    return SP_OK;
}
