/* ids.h - the one limit on the ids every service keys by.
 *
 * Customer refs, rep, deal, team and region ids travel in events and become
 * keys of PostgreSQL rows, Kafka messages and fixed-size fields in sp-score.
 * sp-ingest refuses a longer id (422 naming the field) and sp-enrich
 * dead-letters one published straight to Kafka, so no later service has to
 * cut one (two ids cut to the same prefix would merge two customers). */
#ifndef SP_IDS_H
#define SP_IDS_H

#include <string.h>

#define SP_ID_MAX 127 /* bytes, without the terminating NUL */

/* 1 when s (NULL counts as absent) fits SP_ID_MAX. */
static inline int sp_id_fits(const char *s)
{
    return s == NULL || strnlen(s, SP_ID_MAX + 1) <= SP_ID_MAX;
}

#endif
