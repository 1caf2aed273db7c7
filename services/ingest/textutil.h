/* textutil.h - small pure text helpers shared by the ingest parsers. */
#ifndef SP_INGEST_TEXTUTIL_H
#define SP_INGEST_TEXTUTIL_H

#include <stddef.h>

/* Returns 1 when s[0..n) is well-formed UTF-8 (no overlongs, surrogates or
 * code points above U+10FFFF; NUL bytes are rejected too), else 0. */
int ingest_utf8_valid(const char *s, size_t n);

/* Parses an ISO-8601 / RFC 3339 date-time with a mandatory offset:
 * "2026-03-02T10:15:00Z", "2026-03-02T10:15:00.123+08:00", "...+0800"
 * (a space may replace the T). Writes Unix ms UTC to *ms. Returns SP_EINVAL
 * on anything else (missing offset, bad field ranges, trailing bytes). */
int ingest_time_parse(const char *s, long long *ms);

/* Days since 1970-01-01 of a proleptic Gregorian date. */
long long ingest_days_from_civil(int y, int m, int d);

/* Trims ASCII whitespace at both ends in place; returns s. */
char *ingest_trim(char *s);

#endif
