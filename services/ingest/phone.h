/* phone.h - phone numbers to E.164, China-aware. A pure function shared by
 * ingest and enrichment so both derive the same customer identity.
 *
 * Rules, after dropping spaces, '-', '.', '(', ')', '/' and a "tel:" prefix:
 *   "+<cc><n>"            -> kept; "+86 0..." drops the trunk 0
 *   "00<cc><n>"           -> "+<cc><n>"
 *   "1[3-9]xxxxxxxxx"     -> "+86" + 11-digit mobile
 *   "86" + 11-digit mobile -> "+86..."
 *   "0" + 9..11 digits    -> Chinese landline, "+86" without the trunk 0
 * Anything else (letters, too short/long: E.164 allows 8..15 digits) is
 * rejected: ambiguous numbers are not guessed. */
#ifndef SP_INGEST_PHONE_H
#define SP_INGEST_PHONE_H

#include <stddef.h>

#define SP_PHONE_E164_MAX 16 /* '+' and up to 15 digits, without the NUL */

/* Writes the E.164 form of in ("+8613800138000") into out. Returns SP_EINVAL
 * when in is not a recognisable number, SP_ETOOBIG when cap is too small
 * (SP_PHONE_E164_MAX + 1 always suffices). */
int phone_e164_normalize(const char *in, char *out, size_t cap);

#endif
