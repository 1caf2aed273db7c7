/* rollups.c - stage conversion rates and first-visit timeout shares of
 * every rep, team and region (rollups.h). */
#include "score/rollups.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* clang-format off */
/* the funnel fact's counting (score_load_funnel) for every owner at once:
 * $1 as of (ms), $2/$3 window and baseline days, $4/$5 their names ($5 NULL
 * when they are one window) */
static const char SQL_CONVERSION[] =
    "WITH h AS (SELECT h.deal_id, h.to_stage, h.at, d.owner_rep_id rep, p.team_id team, "
    "  coalesce(p.region_id, t.region_id) region FROM deal_stage_history h JOIN deals d ON d.id = h.deal_id "
    "  LEFT JOIN people p ON p.id = d.owner_rep_id LEFT JOIN teams t ON t.id = p.team_id "
    "  WHERE h.at > score_ts($1::bigint) - greatest($2::float8, $3::float8) * interval '1 day' "
    "  AND h.at <= score_ts($1::bigint)), "
    "x AS (SELECT deal_id, to_stage, max(at) mx FROM h GROUP BY 1, 2), "
    "s(f, t) AS (VALUES ('lead','qualified'), ('qualified','demo'), ('demo','proposal'), "
    "  ('proposal','negotiation'), ('negotiation','won')), "
    "w AS (SELECT * FROM (VALUES ($4::text, $2::float8), ($5::text, $3::float8)) v(name, days) "
    "  WHERE name IS NOT NULL), "
    "e AS (SELECT s.f, s.t, w.name, e.rep, e.team, e.region, coalesce(x.mx >= e.at, false) ok "
    "  FROM s JOIN h e ON e.to_stage = s.f JOIN w ON e.at > score_ts($1::bigint) - w.days * interval '1 day' "
    "  LEFT JOIN x ON x.deal_id = e.deal_id AND x.to_stage = s.t), "
    "g AS (SELECT CASE WHEN GROUPING(rep) = 0 THEN 'rep' WHEN GROUPING(team) = 0 THEN 'team' ELSE 'region' END st, "
    "  coalesce(rep, team, region) sid, 'conversion:' || f || '_to_' || t metric, name win, "
    "  count(*) FILTER (WHERE ok) num, count(*) den "
    "  FROM e GROUP BY GROUPING SETS ((f, t, name, rep), (f, t, name, team), (f, t, name, region))) "
    "INSERT INTO score_rollups (subject_type, subject_id, metric, win, as_of_ms, num, den, rate) "
    "SELECT st, sid, metric, win, $1::bigint, num, den, num::float8 / den FROM g WHERE sid IS NOT NULL "
    "ON CONFLICT (subject_type, subject_id, metric, win) DO UPDATE SET as_of_ms = EXCLUDED.as_of_ms, "
    "num = EXCLUDED.num, den = EXCLUDED.den, rate = EXCLUDED.rate";

/* the first-visit fact's counting (score_load_first_visit) for every owner
 * and local ISO week from $3 (ms) to $1: $2 the calendar's UTC offset in
 * minutes, $4 timeout hours */
static const char SQL_FIRST_VISIT[] =
    "WITH l AS (SELECT d.owner_rep_id rep, p.team_id team, coalesce(p.region_id, t.region_id) region, "
    "  to_char((d.created_at AT TIME ZONE 'UTC') + $2::int * interval '1 minute', 'IYYY-\"W\"IW') wk, "
    "  d.created_at, (SELECT min(i.occurred_at) FROM interactions i WHERE i.customer_id = d.customer_id "
    "    AND i.occurred_at >= score_ts($3::bigint) AND i.occurred_at >= d.created_at "
    "    AND i.occurred_at <= score_ts($1::bigint) AND i.channel <> 'tracking' "
    "    AND (i.direction = 'outbound' OR i.activity_kind IN ('visit','executive_visit'))) first "
    "  FROM deals d LEFT JOIN people p ON p.id = d.owner_rep_id LEFT JOIN teams t ON t.id = p.team_id "
    "  WHERE d.imported_last_status_update_at IS NULL AND d.created_at >= score_ts($3::bigint) "
    "  AND d.created_at <= score_ts($1::bigint)), "
    "o AS (SELECT *, coalesce(first, score_ts($1::bigint)) - created_at > $4::float8 * interval '1 hour' late "
    "  FROM l), "
    "g AS (SELECT CASE WHEN GROUPING(rep) = 0 THEN 'rep' WHEN GROUPING(team) = 0 THEN 'team' ELSE 'region' END st, "
    "  coalesce(rep, team, region) sid, wk, count(*) FILTER (WHERE late) num, count(*) den "
    "  FROM o GROUP BY GROUPING SETS ((wk, rep), (wk, team), (wk, region))) "
    "INSERT INTO score_rollups (subject_type, subject_id, metric, win, as_of_ms, num, den, rate) "
    "SELECT st, sid, 'first_visit_timeout_share', wk, $1::bigint, num, den, num::float8 / den FROM g "
    "WHERE sid IS NOT NULL "
    "ON CONFLICT (subject_type, subject_id, metric, win) DO UPDATE SET as_of_ms = EXCLUDED.as_of_ms, "
    "num = EXCLUDED.num, den = EXCLUDED.den, rate = EXCLUDED.rate";
/* clang-format on */

/* The number of rows a statement's command tag reports (INSERT 0 n). */
static long tag_rows(PGresult *r)
{
    const char *n = PQcmdTuples(r);
    return n && *n ? strtol(n, NULL, 10) : 0;
}

sp_err score_rollups_write(
    sp_db *db, const score_rules *r, const score_calendar *cal, int64_t at_ms, long *rows)
{
    if (!db || !r || !cal) return SP_EINVAL;
    if (rows) *rows = 0;
    char at[32], win_d[32], base_d[32], win[32], base[32], off[16], from[32], tmo[32];
    snprintf(at, sizeof at, "%lld", (long long)at_ms);
    snprintf(win_d, sizeof win_d, "%.6f", r->funnel.window_days);
    snprintf(base_d, sizeof base_d, "%.6f", r->funnel.baseline_days);
    snprintf(win, sizeof win, "%gd", r->funnel.window_days);
    snprintf(base, sizeof base, "%gd", r->funnel.baseline_days);
    /* the judged weeks and the boundary's own */
    int y, w, nweeks = (int)r->first_visit.weeks;
    if (nweeks > 7) nweeks = 7;
    calendar_iso_week(calendar_local_day(cal, at_ms), &y, &w);
    snprintf(from, sizeof from, "%lld",
        (long long)calendar_day_start_ms(cal, calendar_iso_week_monday(y, w) - 7 * nweeks));
    snprintf(off, sizeof off, "%d", calendar_utc_offset_min(cal));
    snprintf(tmo, sizeof tmo, "%.6f", r->first_visit.timeout_hours);
    const char *pc[5] = {at, win_d, base_d, win, strcmp(win, base) ? base : NULL};
    const char *pf[4] = {at, off, from, tmo};
    const char *pd[1] = {at};
    PGresult *res = NULL;
    sp_err rv = sp_db_exec(db, SQL_CONVERSION, 5, pc, &res);
    if (rv != SP_OK) return rv;
    long n = tag_rows(res);
    PQclear(res);
    res = NULL;
    /* a window that no longer counts an owner: its old row would read as current */
    if ((rv = sp_db_exec(db,
             "DELETE FROM score_rollups WHERE metric LIKE 'conversion:%' AND as_of_ms < $1::bigint", 1, pd,
             NULL))
        != SP_OK)
        return rv;
    if ((rv = sp_db_exec(db, SQL_FIRST_VISIT, 4, pf, &res)) != SP_OK) return rv;
    n += tag_rows(res);
    PQclear(res);
    if (rows) *rows = n;
    return SP_OK;
}
