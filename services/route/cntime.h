/* cntime.h - Asia/Shanghai calendar arithmetic (UTC+8, no DST since 1991),
 * computed without the tz database so results never depend on the host. */
#ifndef SP_ROUTE_CNTIME_H
#define SP_ROUTE_CNTIME_H

#include <stdint.h>

#define SP_SHANGHAI_OFFSET_S (8 * 3600)

/* Days since 1970-01-01 of a proleptic Gregorian date. */
int64_t cntime_days_from_civil(int y, int m, int d);

/* Splits ms since epoch into the Shanghai local date. */
void cntime_date(int64_t ms, int *year, int *month, int *day);

/* Parses "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM]" (no offset =
 * Shanghai) into ms. Returns SP_EINVAL on anything else. */
int cntime_parse(const char *s, int64_t *ms);

/* "3月10日" and "10 Mar" for ms in Shanghai; buffers of 32 bytes suffice. */
void cntime_fmt_zh(int64_t ms, char *buf, int cap);
void cntime_fmt_en(int64_t ms, char *buf, int cap);

#endif
