/* api_views.c - read-only views: deal health, customer card, team board,
 * funnel and the rep's today list. Counting happens in SQL; rates, buckets
 * and hints in api_stats.c / api_hint.c. */
#include "taskpool/api_internal.h"

#include "civil.h"
#include "err.h"
#include "taskpool/api_hint.h"
#include "taskpool/api_stats.h"
#include "taskpool/goals_today.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Runs a statement; on failure fills res. */
static int q(sp_db *db, sp_http_res *res, const char *sql, int n, const char *const *p, PGresult **r)
{
    int rv = sp_db_exec(db, sql, n, p, r);
    if (rv != SP_OK) api_db_fail(res, db, rv);
    return rv;
}

int api_owner_visible(sp_db *db, const acl_principal *p, const char *owner, int *visible)
{
    *visible = 0;
    if (p->role == ACL_ROLE_ADMIN) return (*visible = 1), SP_OK;
    if (owner == NULL || *owner == '\0') return SP_OK;
    PGresult *r = NULL;
    const char *prm[1] = {owner};
    int rv = sp_db_exec(db,
        "SELECT coalesce(p.team_id, ''), coalesce(p.region_id, t.region_id, '') FROM people p "
        "LEFT JOIN teams t ON t.id = p.team_id WHERE p.id = $1",
        1, prm, &r);
    if (rv != SP_OK) return rv;
    acl_task scope
        = {owner, PQntuples(r) ? PQgetvalue(r, 0, 0) : "", PQntuples(r) ? PQgetvalue(r, 0, 1) : ""};
    *visible = acl_in_scope(p, &scope);
    PQclear(r);
    return SP_OK;
}

/* The id in "/v1/<things>/{id}/<leaf>"; SP_ENOTFOUND otherwise. */
static int id_with_leaf(const sp_http_req *req, const char *leaf, char *id, size_t cap)
{
    const char *slash = strchr(req->tail, '/');
    if (slash == NULL || strcmp(slash + 1, leaf) != 0) return SP_ENOTFOUND;
    return api_segment_decode(req->tail, (size_t)(slash - req->tail), id, cap) == SP_OK ? SP_OK
                                                                                        : SP_ENOTFOUND;
}

static int not_found(sp_http_res *res, const char *what)
{
    sp_http_res_error(res, 404, "not_found", what, NULL);
    return SP_ENOTFOUND;
}

int api_h_deal_health(const sp_http_req *req, sp_http_res *res, void *arg)
{
    taskpool_api *api = arg;
    acl_principal p;
    char id[128];
    api_principal(req, &p);
    if (id_with_leaf(req, "health", id, sizeof id) != SP_OK) return not_found(res, "no such resource");
    sp_db *db = NULL;
    if (api_db_get(api, res, &db) != SP_OK) return SP_EDBDOWN;
    PGresult *r = NULL;
    const char *prm[1] = {id};
    int rv = q(db, res,
        "SELECT coalesce(owner_rep_id, ''), to_regclass('deal_health') IS NOT NULL FROM deals WHERE id = $1",
        1, prm, &r);
    int visible = 0, has_table = 0;
    if (rv == SP_OK && PQntuples(r) == 1) {
        has_table = PQgetvalue(r, 0, 1)[0] == 't';
        if ((rv = api_owner_visible(db, &p, PQgetvalue(r, 0, 0), &visible)) != SP_OK)
            api_db_fail(res, db, rv);
    }
    PQclear(r);
    r = NULL;
    if (rv == SP_OK && visible && has_table)
        /* deal_health comes with 0005 (sp-score); asked for only when it exists */
        rv = q(db, res,
            "SELECT deal_id, score, dims, " API_TS(
                "updated_at") " AS updated_at FROM deal_health WHERE deal_id = $1",
            1, prm, &r);
    api_pool_put(api->cfg.pool, db);
    if (rv != SP_OK) return rv;
    if (!visible) return not_found(res, "no such deal");
    if (!has_table) {
        sp_http_res_error(
            res, 404, "not_available", "deal health is not computed on this installation", NULL);
        return SP_ENOTFOUND;
    }
    if (PQntuples(r) != 1) {
        PQclear(r);
        sp_http_res_error(res, 404, "not_scored", "this deal has no health score yet", NULL);
        return SP_ENOTFOUND;
    }
    json_t *o = api_row_json(r, 0);
    PQclear(r);
    return api_reply(res, o);
}

/* Groups current facts by field into the card. */
static void card_facts(json_t *card, const PGresult *r)
{
    json_t *products = json_array(), *competitors = json_array(), *budget = json_null(),
           *delivery = json_null();
    for (int i = 0; i < PQntuples(r); i++) {
        const char *field = PQgetvalue(r, i, PQfnumber(r, "field"));
        json_t *f = api_row_json(r, i);
        json_object_del(f, "field");
        if (strcmp(field, "product") == 0)
            json_array_append_new(products, f);
        else if (strcmp(field, "competitor") == 0)
            json_array_append_new(competitors, f);
        else if (strcmp(field, "budget") == 0 && json_is_null(budget)) /* newest first */
            json_decref(budget), budget = f;
        else if (strcmp(field, "delivery_by") == 0 && json_is_null(delivery))
            json_decref(delivery), delivery = f;
        else
            json_decref(f);
    }
    json_object_set_new(card, "products", products);
    json_object_set_new(card, "budget", budget);
    json_object_set_new(card, "delivery_by", delivery);
    json_object_set_new(card, "competitors", competitors);
}

#define FACT_COLS                                                                                            \
    "field, value, level, status, source_event_id AS source, source_channel, quote, " API_TS(                \
        "occurred_at") " AS occurred_at"

int api_h_customer_card(const sp_http_req *req, sp_http_res *res, void *arg)
{
    taskpool_api *api = arg;
    acl_principal p;
    char id[128];
    api_principal(req, &p);
    if (id_with_leaf(req, "card", id, sizeof id) != SP_OK) return not_found(res, "no such resource");
    sp_db *db = NULL;
    if (api_db_get(api, res, &db) != SP_OK) return SP_EDBDOWN;
    const char *prm[1] = {id};
    PGresult *c = NULL, *deal = NULL, *card = NULL, *facts = NULL, *conflicts = NULL, *contacts = NULL;
    json_t *o = NULL;
    int visible = 0;
    int rv = q(db, res,
        "SELECT id, name, industry, class, owner_rep_id, is_lead FROM customers WHERE id = $1", 1, prm, &c);
    if (rv != SP_OK) goto out;
    if (PQntuples(c) == 1 && (rv = api_owner_visible(db, &p, PQgetvalue(c, 0, 4), &visible)) != SP_OK) {
        api_db_fail(res, db, rv);
        goto out;
    }
    if (!visible) {
        rv = not_found(res, "no such customer");
        goto out;
    }
    if ((rv = q(db, res,
             "SELECT id, name, stage, " API_TS(
                 "stage_since") " AS stage_since, amount, next_step FROM deals "
                                "WHERE customer_id = $1 AND is_open ORDER BY amount DESC, id LIMIT 1",
             1, prm, &deal))
            != SP_OK
        || (rv = q(db, res,
                "SELECT core_need, core_need_level, core_need_source, concern, concern_tag, "
                "concern_severity, "
                "concern_source, " API_TS(
                    "concern_at") " AS concern_at FROM customer_cards WHERE customer_id = $1",
                1, prm, &card))
            != SP_OK
        || (rv = q(db, res,
                "SELECT " FACT_COLS " FROM facts WHERE customer_id = $1 AND status = 'current' "
                "ORDER BY occurred_at DESC, id DESC",
                1, prm, &facts))
            != SP_OK
        || (rv = q(db, res,
                "SELECT " FACT_COLS " FROM facts WHERE customer_id = $1 AND status = 'conflict' "
                "ORDER BY occurred_at DESC, id DESC",
                1, prm, &conflicts))
            != SP_OK
        || (rv = q(db, res,
                "SELECT role, id, name, title, " API_TS(
                    "last_contact_at") " AS last_contact_at FROM contacts "
                                       "WHERE customer_id = $1 AND role IS NOT NULL ORDER BY role, "
                                       "last_contact_at DESC NULLS LAST, id",
                1, prm, &contacts))
            != SP_OK)
        goto out;
    o = json_object();
    json_object_set_new(o, "customer", api_row_json(c, 0));
    json_t *tri = json_object();
    json_object_set_new(tri, "deal", PQntuples(deal) ? api_row_json(deal, 0) : json_null());
    json_object_set_new(tri, "stage", PQntuples(deal) ? json_string(PQgetvalue(deal, 0, 2)) : json_null());
    if (PQntuples(card)) {
        json_t *row = api_row_json(card, 0);
        json_object_set_new(tri, "core_need",
            json_pack("{s:O,s:O,s:O}", "text", json_object_get(row, "core_need"), "level",
                json_object_get(row, "core_need_level"), "source", json_object_get(row, "core_need_source")));
        json_object_set_new(tri, "concern",
            json_pack("{s:O,s:O,s:O,s:O,s:O}", "text", json_object_get(row, "concern"), "tag",
                json_object_get(row, "concern_tag"), "level", json_object_get(row, "concern_severity"),
                "source", json_object_get(row, "concern_source"), "at", json_object_get(row, "concern_at")));
        json_decref(row);
    } else {
        json_object_set_new(tri, "core_need", json_null());
        json_object_set_new(tri, "concern", json_null());
    }
    json_object_set_new(o, "golden_triangle", tri);
    card_facts(o, facts);
    json_object_set_new(o, "conflicts", api_rows_json(conflicts));
    /* decision chain: contacts grouped by buying role */
    json_t *chain = json_object();
    for (int i = 0; i < PQntuples(contacts); i++) {
        const char *role = PQgetvalue(contacts, i, 0);
        json_t *list = json_object_get(chain, role);
        if (list == NULL) json_object_set_new(chain, role, list = json_array());
        json_t *row = api_row_json(contacts, i);
        json_object_del(row, "role");
        json_array_append_new(list, row);
    }
    json_object_set_new(o, "decision_chain", chain);
out:
    api_pool_put(api->cfg.pool, db);
    PQclear(c);
    PQclear(deal);
    PQclear(card);
    PQclear(facts);
    PQclear(conflicts);
    PQclear(contacts);
    if (rv != SP_OK || o == NULL) {
        json_decref(o);
        return rv != SP_OK ? rv : SP_ENOMEM;
    }
    return api_reply(res, o);
}

static json_t *rate_json(int has, double v)
{
    return has ? json_real(v) : json_null();
}

/* GET /v1/teams/{id}/rollups: sp-score's roll-ups (score_rollups) of the
 * team and of its reps - stage conversion rates over the funnel rule's
 * windows, first-visit timeout shares by ISO week - as of the last local
 * day start sp-score swept. Scope as the team's board. */
int api_h_team_rollups(taskpool_api *api, const sp_http_req *req, sp_http_res *res, const char *team_id)
{
    acl_principal p;
    api_principal(req, &p);
    sp_db *db = NULL;
    if (api_db_get(api, res, &db) != SP_OK) return SP_EDBDOWN;
    char region[96];
    PGresult *r = NULL;
    int rv = api_team_scope(db, &p, team_id, res, region);
    const char *prm[1] = {team_id};
    if (rv == SP_OK)
        rv = q(db, res,
            "SELECT r.subject_type, r.subject_id, r.metric, r.win, r.num, r.den, r.rate, r.as_of_ms "
            "FROM score_rollups r WHERE (r.subject_type = 'team' AND r.subject_id = $1) "
            "OR (r.subject_type = 'rep' AND r.subject_id IN (SELECT id FROM people WHERE team_id = $1)) "
            "ORDER BY 1 DESC, 2, 3, 4",
            1, prm, &r);
    api_pool_put(api->cfg.pool, db);
    if (rv != SP_OK) return rv;
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(r); i++)
        json_array_append_new(list,
            json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:o,s:I}", "subject_type", PQgetvalue(r, i, 0), "subject_id",
                PQgetvalue(r, i, 1), "metric", PQgetvalue(r, i, 2), "window", PQgetvalue(r, i, 3), "num",
                (json_int_t)strtoll(PQgetvalue(r, i, 4), NULL, 10), "den",
                (json_int_t)strtoll(PQgetvalue(r, i, 5), NULL, 10), "rate",
                rate_json(!PQgetisnull(r, i, 6), strtod(PQgetvalue(r, i, 6), NULL)), "as_of_ms",
                (json_int_t)strtoll(PQgetvalue(r, i, 7), NULL, 10)));
    PQclear(r);
    return api_reply(res, json_pack("{s:s,s:o}", "team_id", team_id, "rollups", list));
}

int api_h_team_board(taskpool_api *api, const sp_http_req *req, sp_http_res *res, const char *team_id)
{
    acl_principal p;
    api_principal(req, &p);
    sp_db *db = NULL;
    if (api_db_get(api, res, &db) != SP_OK) return SP_EDBDOWN;
    char region[96], from[24], to[24];
    int64_t now = api->cfg.now_ms(api->cfg.now_arg);
    /* the window ends at the team's last activity when that is earlier than
     * now (a replayed or paused book shows its last active week, not zeros) */
    {
        const char *tp[1] = {team_id};
        PGresult *last = NULL;
        if (sp_db_exec(db,
                "SELECT (extract(epoch FROM max(i.occurred_at)) * 1000)::bigint FROM people p "
                "CROSS JOIN LATERAL (SELECT occurred_at FROM interactions WHERE rep_id = p.id "
                "ORDER BY occurred_at DESC LIMIT 1) i WHERE p.team_id = $1",
                1, tp, &last)
                == SP_OK
            && PQntuples(last) == 1 && !PQgetisnull(last, 0, 0)) {
            int64_t l = strtoll(PQgetvalue(last, 0, 0), NULL, 10);
            if (l > 0 && l < now) now = l + 1; /* the window is [from, to): keep the last one */
        }
        PQclear(last);
    }
    snprintf(to, sizeof to, "%lld", (long long)now);
    snprintf(from, sizeof from, "%lld", (long long)(now - 7LL * 86400000));
    PGresult *reps = NULL, *heat = NULL;
    int rv = api_team_scope(db, &p, team_id, res, region);
    const char *prm[3] = {team_id, from, to};
    if (rv == SP_OK)
        rv = q(db, res,
            "WITH w AS (SELECT to_timestamp($2::bigint / 1000.0) AS f, to_timestamp($3::bigint / 1000.0) AS "
            "t) "
            "SELECT p.id, p.name, "
            "(SELECT count(*) FROM deals d WHERE d.owner_rep_id = p.id AND d.is_open) AS open_deals, "
            "(SELECT count(DISTINCT i.deal_id) FROM interactions i JOIN deals d ON d.id = i.deal_id "
            "  WHERE i.rep_id = p.id AND d.is_open AND d.owner_rep_id = p.id AND i.activity_kind IS NOT NULL "
            "  AND i.activity_kind <> 'touch' AND i.occurred_at >= w.f AND i.occurred_at < w.t) AS acted, "
            "(SELECT count(*) FROM interactions i WHERE i.rep_id = p.id AND i.quality_passed IS NOT NULL "
            "  AND i.occurred_at >= w.f AND i.occurred_at < w.t) AS assessed, "
            "(SELECT count(*) FROM interactions i WHERE i.rep_id = p.id AND i.quality_passed "
            "  AND i.occurred_at >= w.f AND i.occurred_at < w.t) AS passed "
            "FROM people p, w WHERE p.team_id = $1 AND p.role = 'rep' AND p.active ORDER BY p.id",
            3, prm, &reps);
    if (rv == SP_OK)
        rv = q(db, res,
            "SELECT d.stage, floor(extract(epoch FROM (to_timestamp($3::bigint / 1000.0) - d.stage_since)) / "
            "86400)::bigint "
            "AS days, count(*) FROM deals d JOIN people p ON p.id = d.owner_rep_id "
            "WHERE p.team_id = $1 AND d.is_open AND ($2::text IS NULL OR TRUE) GROUP BY 1, 2",
            3, prm, &heat);
    /* the team's active goal: its plan-to-date completion and quality pass rate replace the rates */
    json_t *goal = NULL;
    if (rv == SP_OK && (rv = api_goal_board(api, db, team_id, now, &goal)) != SP_OK) api_db_fail(res, db, rv);
    api_pool_put(api->cfg.pool, db);
    if (rv != SP_OK) {
        PQclear(reps);
        PQclear(heat);
        return rv;
    }
    json_t *goal_reps = json_object_get(goal, "reps");
    json_t *o = json_object(), *list = json_array();
    for (int i = 0; i < PQntuples(reps); i++) {
        api_board_counts c
            = {strtol(PQgetvalue(reps, i, 2), NULL, 10), strtol(PQgetvalue(reps, i, 3), NULL, 10),
                strtol(PQgetvalue(reps, i, 4), NULL, 10), strtol(PQgetvalue(reps, i, 5), NULL, 10)};
        api_board_rates br;
        api_board_rates_of(&c, &br);
        json_t *gh = json_object_get(goal_reps, PQgetvalue(reps, i, 0));
        int from_goal = gh != NULL && json_integer_value(json_object_get(gh, "planned_to_date")) > 0;
        json_array_append_new(list,
            json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:o,s:o,s:s,s:O?}", "rep_id", PQgetvalue(reps, i, 0), "name",
                PQgetvalue(reps, i, 1), "open_deals", (json_int_t)c.open_deals, "deals_with_action",
                (json_int_t)c.deals_with_action, "activities_assessed", (json_int_t)c.assessed,
                "activities_passed", (json_int_t)c.passed, "action_completion_rate",
                from_goal ? json_copy(json_object_get(gh, "completion"))
                          : rate_json(br.has_completion, br.completion),
                "quality_pass_rate",
                from_goal ? json_copy(json_object_get(gh, "quality_pass_rate"))
                          : rate_json(br.has_quality, br.quality),
                "rates_source", from_goal ? "goal" : "activity", "goal_health", gh));
    }
    long cells[API_NSTAGES][API_NBUCKETS] = {{0}};
    for (int i = 0; i < PQntuples(heat); i++) {
        int s = api_stage_index(PQgetvalue(heat, i, 0));
        if (s < 0) continue;
        cells[s][api_days_bucket(strtoll(PQgetvalue(heat, i, 1), NULL, 10))]
            += strtol(PQgetvalue(heat, i, 2), NULL, 10);
    }
    json_t *hm = json_object(), *buckets = json_array(), *rows = json_array();
    for (int b = 0; b < API_NBUCKETS; b++)
        json_array_append_new(buckets, json_string(api_days_bucket_label(b)));
    for (int s = 0; s < API_NSTAGES - 1; s++) { /* won deals are closed */
        json_t *row = json_array();
        for (int b = 0; b < API_NBUCKETS; b++)
            json_array_append_new(row, json_integer(cells[s][b]));
        json_array_append_new(rows, json_pack("{s:s,s:o}", "stage", api_stage_name(s), "counts", row));
    }
    json_object_set_new(hm, "buckets_days", buckets);
    json_object_set_new(hm, "stages", rows);
    json_object_set_new(o, "team_id", json_string(team_id));
    json_object_set_new(o, "window_days", json_integer(7));
    json_object_set_new(o, "as_of_ms", json_integer(now));
    json_object_set_new(o, "reps", list);
    if (goal) json_object_del(goal, "reps"); /* each rep carries its own */
    json_object_set_new(o, "goal", goal ? goal : json_null());
    json_object_set_new(o, "bottleneck_heatmap", hm);
    PQclear(reps);
    PQclear(heat);
    return api_reply(res, o);
}

int api_h_funnel(const sp_http_req *req, sp_http_res *res, void *arg)
{
    taskpool_api *api = arg;
    acl_principal p;
    api_principal(req, &p);
    char team[96] = "", region[96] = "";
    int rt = sp_http_req_query(req, "team", team, sizeof team),
        rr = sp_http_req_query(req, "region", region, sizeof region);
    if (rt == SP_ETOOBIG) return sp_http_res_error(res, 400, "invalid_query", "team too long", "team");
    if (rr == SP_ETOOBIG) return sp_http_res_error(res, 400, "invalid_query", "region too long", "region");
    if (team[0] && region[0])
        return sp_http_res_error(res, 400, "invalid_query", "give team or region, not both", "team");
    if (acl_check(&p, ACL_LIST_TEAM, NULL) != ACL_ALLOW)
        return sp_http_res_error(res, 403, "forbidden", "your role may not read the funnel", NULL);
    /* default scope: a supervisor's team, a director's region, an admin's all */
    if (!team[0] && !region[0]) {
        if (p.role == ACL_ROLE_SUPERVISOR && p.team_id) snprintf(team, sizeof team, "%s", p.team_id);
        if (p.role == ACL_ROLE_DIRECTOR && p.region_id) snprintf(region, sizeof region, "%s", p.region_id);
    }
    sp_db *db = NULL;
    if (api_db_get(api, res, &db) != SP_OK) return SP_EDBDOWN;
    int rv = SP_OK;
    char team_region[96];
    if (team[0]) {
        rv = api_team_scope(db, &p, team, res, team_region);
    } else if (region[0] && p.role != ACL_ROLE_ADMIN
        && !(p.role == ACL_ROLE_DIRECTOR && p.region_id && strcmp(region, p.region_id) == 0)) {
        /* a region is a director's (own) or an admin's: a supervisor's
         * region from their team is not theirs to read */
        rv = SP_ENOTFOUND;
        sp_http_res_error(res, 404, "not_found", "no such region", "region");
    } else if (!team[0] && !region[0] && p.role != ACL_ROLE_ADMIN) {
        /* no team or region of their own: not the whole company */
        rv = SP_ENOTFOUND;
        sp_http_res_error(res, 404, "not_found", "no team or region to read", NULL);
    }
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)api->cfg.now_ms(api->cfg.now_arg));
    const char *prm[3] = {team[0] ? team : NULL, region[0] ? region : NULL, now};
    PGresult *r = NULL;
    if (rv == SP_OK)
        rv = q(db, res,
            "WITH owners AS (SELECT p.id FROM people p LEFT JOIN teams t ON t.id = p.team_id "
            "  WHERE ($1::text IS NULL OR p.team_id = $1) AND ($2::text IS NULL OR coalesce(p.region_id, "
            "t.region_id) = $2)), "
            "since AS (SELECT date_trunc('month', to_timestamp($3::bigint / 1000.0) AT TIME ZONE 'UTC') "
            "  - interval '11 months' AS m), "
            "e AS (SELECT d.created_at AS at, 'lead' AS stage, d.id FROM deals d JOIN owners o ON o.id = "
            "d.owner_rep_id "
            "  UNION ALL SELECT h.at, h.to_stage, h.deal_id FROM deal_stage_history h JOIN deals d ON d.id = "
            "h.deal_id "
            "  JOIN owners o ON o.id = d.owner_rep_id) "
            "SELECT to_char(date_trunc('month', e.at AT TIME ZONE 'UTC'), 'YYYY-MM') AS month, e.stage, "
            "count(DISTINCT e.id) FROM e, since WHERE e.at AT TIME ZONE 'UTC' >= since.m GROUP BY 1, 2 ORDER "
            "BY 1",
            3, prm, &r);
    api_pool_put(api->cfg.pool, db);
    if (rv != SP_OK) return rv;
    json_t *months = json_array();
    api_funnel_month m = {{0}};
    for (int i = 0; i <= PQntuples(r); i++) {
        const char *mon = i < PQntuples(r) ? PQgetvalue(r, i, 0) : "";
        if (m.month[0] && strcmp(mon, m.month) != 0) { /* flush the month */
            double rate[API_NSTAGES - 1];
            int has[API_NSTAGES - 1];
            api_funnel_rates(&m, rate, has);
            json_t *entered = json_object(), *conv = json_object();
            for (int s = 0; s < API_NSTAGES; s++)
                json_object_set_new(entered, api_stage_name(s), json_integer(m.entered[s]));
            for (int s = 0; s < API_NSTAGES - 1; s++) {
                char k[48];
                snprintf(k, sizeof k, "%s_to_%s", api_stage_name(s), api_stage_name(s + 1));
                json_object_set_new(conv, k, rate_json(has[s], rate[s]));
            }
            json_array_append_new(
                months, json_pack("{s:s,s:o,s:o}", "month", m.month, "entered", entered, "conversion", conv));
            memset(&m, 0, sizeof m);
        }
        if (i == PQntuples(r)) break;
        snprintf(m.month, sizeof m.month, "%s", mon);
        int s = api_stage_index(PQgetvalue(r, i, 1));
        if (s >= 0) m.entered[s] += strtol(PQgetvalue(r, i, 2), NULL, 10);
    }
    PQclear(r);
    json_t *o = json_pack("{s:o,s:o,s:o}", "team", team[0] ? json_string(team) : json_null(), "region",
        region[0] ? json_string(region) : json_null(), "months", months);
    return api_reply(res, o);
}

int api_h_today(const sp_http_req *req, sp_http_res *res, void *arg)
{
    taskpool_api *api = arg;
    acl_principal p;
    api_principal(req, &p);
    char now[24];
    int64_t now_ms = api_today_ms(api); /* the service clock: event time in replays */
    snprintf(now, sizeof now, "%lld", (long long)now_ms);
    const char *prm[2] = {p.person_id, now};
    sp_db *db = NULL;
    if (api_db_get(api, res, &db) != SP_OK) return SP_EDBDOWN;
    PGresult *t = NULL, *d = NULL;
    json_t *planned = NULL;
    int rv = q(db, res,
        "SELECT key, kind, level, status, customer_id, deal_id, explanation_zh, explanation_en, " API_TS(
            "due_at") " AS due_at FROM tasks WHERE assignee_id = $1 AND status IN "
                      "('open','acknowledged','in_progress') "
                      "AND ($2::text IS NULL OR TRUE) ORDER BY level DESC, due_at, key LIMIT 50",
        2, prm, &t);
    if (rv == SP_OK)
        rv = q(db, res,
            "SELECT d.id AS deal_id, d.name AS deal_name, d.stage, d.amount, d.customer_id, c.name AS "
            "customer_name, "
            "coalesce(cc.core_need, '') AS core_need, coalesce(cc.concern, '') AS concern, d.next_step, "
            "(d.next_step_due IS NOT NULL AND d.next_step_due < to_timestamp($2::bigint / 1000.0)) AS "
            "_overdue, "
            /* the playbooks sp-route attached to the rep's open tasks on this deal or customer */
            "array_to_string(ARRAY(SELECT DISTINCT pb FROM tasks t, unnest(t.playbooks) pb WHERE "
            "t.assignee_id = "
            "$1 AND t.status IN ('open','acknowledged','in_progress') AND (t.deal_id = d.id OR t.customer_id "
            "= "
            "d.customer_id) ORDER BY pb), ',') AS _playbooks "
            "FROM deals d JOIN customers c ON c.id = d.customer_id LEFT JOIN customer_cards cc ON "
            "cc.customer_id = c.id "
            "WHERE d.owner_rep_id = $1 AND d.is_open ORDER BY d.amount DESC, d.id LIMIT 10",
            2, prm, &d);
    if (rv == SP_OK) rv = api_today_goal_actions(api, db, p.person_id, now_ms, res, &planned);
    api_pool_put(api->cfg.pool, db);
    if (rv != SP_OK) {
        PQclear(t);
        PQclear(d);
        return rv;
    }
    json_t *cust = json_array();
    for (int i = 0; i < PQntuples(d); i++) {
        json_t *row = api_row_json(d, i);
        api_hint_in in = {PQgetvalue(d, i, 2), PQgetvalue(d, i, 6), PQgetvalue(d, i, 7), PQgetvalue(d, i, 8),
            PQgetvalue(d, i, 9)[0] == 't'};
        char hint[512];
        api_hint_write(&in, hint, sizeof hint);
        json_object_set_new(row, "talking_point", json_string(hint));
        /* materials: the advancement card for every open deal, then the tasks' playbooks */
        char pbs[1024];
        const char *ids[32] = {"advancement_card"};
        size_t n = 1;
        snprintf(pbs, sizeof pbs, "%s", PQgetvalue(d, i, 10));
        for (char *save = NULL, *tok = strtok_r(pbs, ",", &save); tok && n < 32;
             tok = strtok_r(NULL, ",", &save))
            ids[n++] = tok;
        json_object_set_new(row, "materials", api_playbook_links(api, ids, n));
        json_array_append_new(cust, row);
    }
    int y, mo, dd;
    sp_civil_from_days(
        (now_ms - ((now_ms % GOALS_DAY_MS) + GOALS_DAY_MS) % GOALS_DAY_MS) / GOALS_DAY_MS, &y, &mo, &dd);
    char date[16];
    snprintf(date, sizeof date, "%04d-%02d-%02d", y % 10000, mo, dd);
    json_t *o
        = json_pack("{s:s,s:b,s:o,s:o,s:o}", "date", date, "working_day", goals_today_is_working(now_ms),
            "tasks", api_rows_json(t), "planned_actions", planned, "priority_customers", cust);
    PQclear(t);
    PQclear(d);
    return api_reply(res, o);
}
