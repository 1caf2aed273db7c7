/* goals_today.h - a rep's planned goal actions for today: today's share of
 * what the current plan week still owes. Days are UTC dates, like the plan's
 * weeks (a week starts at the goal's start + 7 x week days); working days
 * are Monday to Friday (the tenant's holiday calendar is not applied).
 *
 * owed  = planned this week - passed quality this week before today (>= 0)
 * count = on a working day ceil(owed / working days left in the week,
 *         today included): at least 1 for any action still owed, and the
 *         week's remainder is front-loaded rather than piled on its last
 *         day; on a day off 0.
 * The count is fixed for the day: what is done today does not move it (the
 * list shows done today against it). Pure: no I/O, no clock. */
#ifndef GOALS_TODAY_H
#define GOALS_TODAY_H

#include "err.h"

#include <stdint.h>

#define GOALS_DAY_MS  (86400000LL)
#define GOALS_WEEK_MS (7 * GOALS_DAY_MS)

typedef struct goals_today_day {
    int64_t day_start_ms; /* 00:00 UTC of now's date (not before the week's start) */
    int working; /* today is Monday to Friday */
    int days_left; /* working days from today through the week's last day, today included */
} goals_today_day;

/* Where now_ms falls in the plan week that starts at week_start_ms. Fails
 * SP_EINVAL when now_ms lies outside [week_start_ms, week_start_ms + 7 days). */
sp_err goals_today_day_of(int64_t week_start_ms, int64_t now_ms, goals_today_day *out);

/* 1 when the UTC date of at_ms is Monday to Friday. */
int goals_today_is_working(int64_t at_ms);

/* Today's share of one action (see above). Fails SP_EINVAL on a negative
 * count; *count is then 0. */
sp_err goals_today_share(
    int64_t planned, int64_t passed_before_today, const goals_today_day *d, int64_t *count);

#endif
