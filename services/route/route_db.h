/* route_db.h - the org chart and routing audit in PostgreSQL. */
#ifndef SP_ROUTE_DB_H
#define SP_ROUTE_DB_H

#include "db.h"
#include "route/org.h"

#include <stdint.h>

/* Loads people, teams, regions, named teams and absences into a new org
 * snapshot. SP_EDBDOWN (retry), SP_EDB, SP_ECONFIG (inconsistent rows;
 * errbuf says which) or SP_ENOMEM. Caller frees with org_destroy. */
int route_org_load(sp_db *db, org **out, char *errbuf, size_t errlen);

/* The time (ms) the (kind, subject) task was last dismissed, or -1. */
int route_last_dismissal(
    sp_db *db, const char *kind, const char *subject_type, const char *subject_id, int64_t *out_ms);

#endif
