/* utf8.h - UTF-8 validation and code-point-safe truncation. */
#ifndef SP_UTF8_H
#define SP_UTF8_H

#include <stddef.h>

/* Returns 1 when s[0..len) is well-formed UTF-8 (no overlongs, no
 * surrogates, nothing above U+10FFFF), 0 otherwise; *bad_at (may be NULL)
 * gets the byte offset of the first bad sequence. */
int sp_utf8_valid(const char *s, size_t len, size_t *bad_at);

/* The largest n <= max such that s[0..n) ends on a code-point boundary
 * (s must be valid UTF-8). */
size_t sp_utf8_cut(const char *s, size_t len, size_t max);

#endif
