/* civil.h - proleptic Gregorian dates <-> days since 1970-01-01 (Howard
 * Hinnant's algorithms). Pure; no time zone: callers add their offset. */
#ifndef SP_CIVIL_H
#define SP_CIVIL_H

#include <stdint.h>

/* Days since 1970-01-01 of y-m-d (m 1..12, d 1..31; not validated). */
int64_t sp_days_from_civil(int y, int m, int d);

/* The date of day z (days since 1970-01-01). */
void sp_civil_from_days(int64_t z, int *y, int *m, int *d);

#endif
