/* health_db.h - deal health in PostgreSQL: the health facts (health.h) of
 * many deals read in one query, each at its own event time, scored with
 * score_health_eval and upserted into deal_health in one statement. */
#ifndef SCORE_HEALTH_DB_H
#define SCORE_HEALTH_DB_H

#include "db.h"
#include "err.h"
#include "score/rules.h"

#include <stddef.h>
#include <stdint.h>

/* Scores deals[i] at now_ms[i] (a deal listed twice is scored once, at its
 * latest time) and upserts deal_health; a late time never overwrites a
 * newer score, an unknown deal is skipped. Sources (every read bounded by
 * the deal's time): contacts and roles on the deal; proposals = rep
 * activities of kind proposal (customer data = one passed its quality
 * standard); the customer's competitor mentions in 30 days and our next
 * outbound message; median delay of our first reply to the deal's customer
 * messages (30 days); engagement = customer messages + tracked page visits,
 * last 14 days and the 14 before; next step (today's deal row); open risks
 * = tags mentioned in 30 days; card = core need, concern and the current
 * product / budget / delivery / competitor facts with their levels.
 * *scored (may be NULL) counts deals written. SP_EDB / SP_EDBDOWN,
 * SP_ENOMEM. */
sp_err score_health_update_many(sp_db *db, const score_rules *r, const char *const *deals,
    const int64_t *now_ms, size_t n, size_t *scored);

#endif
