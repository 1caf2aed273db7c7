/* rollups.h - stage conversion rates and first-visit timeout shares of
 * every rep, team and region, stored for the task pool and the boards.
 *
 * Written by sp-score once a local day begins, as of that sweep boundary,
 * into score_rollups (migration 0021): one row per (subject type, subject,
 * metric, window) with its numerator, denominator and rate. The
 * definitions are those of the signals that judge them, with the rules'
 * values:
 * - "conversion:<from>_to_<to>" for each step of lead -> qualified -> demo
 *   -> proposal -> negotiation -> won, windows "<window_days>d" and
 *   "<baseline_days>d" of team.funnel_collapse: the deals that entered
 *   <from> in the window, and of them those that reached <to> at or after
 *   (score_load_funnel); a subject without one in a window has no row;
 * - "first_visit_timeout_share", window = a local ISO week ("2026-W09"):
 *   the rules' weeks before the boundary's and the boundary's own so far;
 *   new leads (deals created in the week, not imported from the CRM) and
 *   those whose first outbound message or visit came more than
 *   timeout_hours after creation, or has not come and the boundary is past
 *   that (score_load_first_visit). Earlier weeks' rows stay as history. */
#ifndef SCORE_ROLLUPS_H
#define SCORE_ROLLUPS_H

#include "db.h"
#include "err.h"
#include "score/calendar.h"
#include "score/rules.h"

#include <stdint.h>

/* Writes the roll-ups as of at_ms inside the caller's transaction (two
 * statements; the conversion rows not counted again are deleted). *rows
 * (may be NULL): rows written. SP_EINVAL on a NULL argument; SP_EDB /
 * SP_EDBDOWN from the database (the caller rolls back). */
sp_err score_rollups_write(
    sp_db *db, const score_rules *r, const score_calendar *cal, int64_t at_ms, long *rows);

#endif
