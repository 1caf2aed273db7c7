/* calendar.h - the tenant's working-day calendar: weekends, public holidays
 * and adjusted working days (调休), loaded from JSON data that operators
 * maintain (deploy/tenants/<tenant>/calendar.json; see docs/score_rules.md).
 *
 * Days are "day numbers": days since 1970-01-01 of the local civil date in
 * the tenant's fixed UTC offset (Asia/Shanghai = +480 minutes, no DST).
 * Instants are Unix ms UTC. Nothing here reads the clock. */
#ifndef SCORE_CALENDAR_H
#define SCORE_CALENDAR_H

#include "err.h"

#include <stddef.h>
#include <stdint.h>

#define SCORE_DAY_MS (86400000LL)

typedef struct score_calendar score_calendar;

/* Loads a calendar file. On error returns SP_ECONFIG (or SP_EIO/SP_ENOMEM)
 * with a message naming the file, item and key in errbuf; *out untouched.
 * Caller frees with calendar_destroy. */
sp_err calendar_load(const char *path, score_calendar **out, char *errbuf, size_t errlen);

/* As calendar_load from JSON text; name is used in error messages. */
sp_err calendar_load_string(
    const char *json, const char *name, score_calendar **out, char *errbuf, size_t errlen);

/* Accepts NULL. */
void calendar_destroy(score_calendar *cal);

/* Civil date <-> day number (proleptic Gregorian). */
int32_t calendar_day_from_ymd(int y, int m, int d);
void calendar_ymd_from_day(int32_t day, int *y, int *m, int *d);

/* Parses "YYYY-MM-DD" (a real date) into a day number; SP_EINVAL if not. */
sp_err calendar_parse_date(const char *s, int32_t *day);

/* The tenant's UTC offset in minutes (+480 for Asia/Shanghai). */
int calendar_utc_offset_min(const score_calendar *cal);

/* Local day number of instant ms. */
int32_t calendar_local_day(const score_calendar *cal, int64_t ms);

/* Instant of local midnight starting the given day. */
int64_t calendar_day_start_ms(const score_calendar *cal, int32_t day);

/* 1 if the day is a working day: an adjusted working day listed in
 * "workdays", else not a listed holiday and not Saturday/Sunday. */
int calendar_is_working_day(const score_calendar *cal, int32_t day);

/* 1 if the calendar lists the year in "years" (its data was maintained for
 * it); outside those years only weekends count as days off. */
int calendar_covers_year(const score_calendar *cal, int year);

/* Number of working days in the half-open range of local dates
 * [date(from_ms), date(to_ms)): how many working days have started and ended
 * between the two instants' dates. 0 when to <= from. */
int calendar_working_days_between(const score_calendar *cal, int64_t from_ms, int64_t to_ms);

/* The instant n working days after from_ms at the same local time of day
 * (n >= 0; n = 0 returns from_ms). SP_EINVAL for n < 0 or n > 3660. */
sp_err calendar_add_working_days(const score_calendar *cal, int64_t from_ms, int n, int64_t *out_ms);

/* ISO 8601 week of a day number: *iso_year and *week (1..53). Returns
 * iso_year * 100 + week (e.g. 202609) for use as a key. */
int calendar_iso_week(int32_t day, int *iso_year, int *week);

/* Day number of the Monday of the given ISO week. */
int32_t calendar_iso_week_monday(int iso_year, int week);

#endif
