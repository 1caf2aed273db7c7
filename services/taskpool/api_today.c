/* api_today.c - the goal part of the rep's today list: for every goal the
 * rep is planned in whose week holds today, each planned action with
 * today's share of what the week still owes (goals_today.h), what was done
 * this week and today, and the action's quality standard from the goal's
 * template. Counting happens in SQL, the share in goals_today.c. */
#include "taskpool/api_internal.h"

#include "err.h"
#include "log.h"
#include "taskpool/goals_template.h"
#include "taskpool/goals_today.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int64_t api_today_ms(taskpool_api *api)
{
    int64_t t = api->cfg.clock ? sp_clock_now_ms(api->cfg.clock) : 0;
    return t > 0 ? t : api->cfg.now_ms(api->cfg.now_arg);
}

/* An industry name that is safe in a file name. */
static int plain_name(const char *s)
{
    if (!*s || strlen(s) >= GOALS_NAME_MAX) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'
                || *s == '-'))
            return 0;
    return 1;
}

/* The template of a goal's industry, or NULL (logged) when it does not load:
 * the list then goes without quality standards rather than not at all. */
static goals_template *template_of(taskpool_api *api, const char *industry)
{
    char path[1024], err[512];
    goals_template *t = NULL;
    if (!plain_name(industry)) return NULL;
    snprintf(path, sizeof path, "%s/%s.json", api->cfg.goal_templates, industry);
    if (goals_template_load(path, &t, err, sizeof err) != SP_OK) {
        sp_warn("today list: goal template: %s", err);
        return NULL;
    }
    return t;
}

int api_today_goal_actions(
    taskpool_api *api, sp_db *db, const char *rep_id, int64_t now_ms, sp_http_res *res, json_t **out)
{
    char now_s[24], day_s[24];
    int64_t day = now_ms - ((now_ms % GOALS_DAY_MS) + GOALS_DAY_MS) % GOALS_DAY_MS;
    snprintf(now_s, sizeof now_s, "%lld", (long long)now_ms);
    snprintf(day_s, sizeof day_s, "%lld", (long long)day);
    const char *prm[3] = {rep_id, now_s, day_s};
    PGresult *r = NULL;
    int rv = sp_db_exec(db,
        "WITH g AS (SELECT g.id, g.industry, g.kind, w.week, g.starts_at + w.week * interval '7 days' AS ws "
        "  FROM goals g JOIN goal_reps gr ON gr.goal_id = g.id AND gr.rep_id = $1 "
        "  CROSS JOIN LATERAL (SELECT floor(extract(epoch FROM (to_timestamp($2::bigint / 1000.0) - "
        "g.starts_at)) / 604800)::int AS week) w "
        "  WHERE to_timestamp($2::bigint / 1000.0) >= g.starts_at AND w.week < g.weeks) "
        "SELECT g.id, g.industry, g.kind, g.week, (extract(epoch FROM g.ws) * 1000)::bigint, " API_TS(
            "g.ws") ", p.action, p.planned, "
                    "count(i.event_id) FILTER (WHERE i.quality_passed AND i.occurred_at < greatest(g.ws, "
                    "to_timestamp($3::bigint / 1000.0))), "
                    "count(i.event_id) FILTER (WHERE i.quality_passed AND i.occurred_at >= greatest(g.ws, "
                    "to_timestamp($3::bigint / 1000.0))), "
                    "count(i.event_id) FILTER (WHERE NOT coalesce(i.quality_passed, false)) "
                    "FROM g JOIN goal_plans p ON p.goal_id = g.id AND p.rep_id = $1 AND p.week = g.week "
                    "AND p.action <> 'target' "
                    "LEFT JOIN interactions i ON i.rep_id = $1 AND i.activity_kind = p.action "
                    "AND i.occurred_at >= g.ws AND i.occurred_at <= to_timestamp($2::bigint / 1000.0) "
                    "GROUP BY g.id, g.industry, g.kind, g.week, g.ws, p.action, p.planned "
                    "ORDER BY g.id, array_position(ARRAY['touch', 'visit', 'needs_diagnosis', 'demo', "
                    "'proposal', 'executive_visit'], p.action), p.action",
        3, prm, &r);
    if (rv != SP_OK) return api_db_fail(res, db, rv);
    json_t *items = json_array();
    goals_template *tm = NULL;
    char tm_industry[GOALS_NAME_MAX] = "";
    for (int i = 0; i < PQntuples(r); i++) {
        const char *goal = PQgetvalue(r, i, 0), *industry = PQgetvalue(r, i, 1), *kind = PQgetvalue(r, i, 2),
                   *action = PQgetvalue(r, i, 6);
        int64_t ws = strtoll(PQgetvalue(r, i, 4), NULL, 10), planned = strtoll(PQgetvalue(r, i, 7), NULL, 10),
                before = strtoll(PQgetvalue(r, i, 8), NULL, 10),
                today = strtoll(PQgetvalue(r, i, 9), NULL, 10),
                failed = strtoll(PQgetvalue(r, i, 10), NULL, 10), count = 0;
        goals_today_day d;
        if (goals_today_day_of(ws, now_ms, &d) != SP_OK
            || goals_today_share(planned, before, &d, &count) != SP_OK)
            continue; /* cannot happen: the query picked the week that holds now */
        if (strcmp(tm_industry, industry) != 0) {
            goals_template_destroy(tm);
            tm = template_of(api, industry);
            snprintf(tm_industry, sizeof tm_industry, "%s", industry);
        }
        const goals_target *t = tm ? goals_template_target(tm, kind) : NULL;
        int a = goals_action_parse(action);
        const goals_unit *u = t && a >= 0 && t->action[a].used ? &t->action[a] : NULL;
        char q_en[512], q_zh[512];
        if (u) {
            goals_quality_text(&u->quality, 0, q_en, sizeof q_en);
            goals_quality_text(&u->quality, 1, q_zh, sizeof q_zh);
        }
        int64_t done = before + today;
        json_array_append_new(items,
            json_pack("{s:s,s:s,s:i,s:s,s:i,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:o,s:o}", "goal_id", goal,
                "kind", kind, "week", atoi(PQgetvalue(r, i, 3)) + 1, "week_start", PQgetvalue(r, i, 5),
                "working_days_left", d.days_left, "action", action, "count", (json_int_t)count,
                "planned_this_week", (json_int_t)planned, "done_this_week", (json_int_t)done, "done_today",
                (json_int_t)today, "failed_this_week", (json_int_t)failed, "remaining_this_week",
                (json_int_t)(planned > done ? planned - done : 0), "quality_standard",
                u ? json_string(q_en) : json_null(), "quality_standard_zh",
                u ? json_string(q_zh) : json_null(), "description",
                u && *u->description ? json_string(u->description) : json_null()));
    }
    goals_template_destroy(tm);
    PQclear(r);
    *out = items;
    return SP_OK;
}
