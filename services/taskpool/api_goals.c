/* api_goals.c - goals over HTTP (docs/api/taskpool.md, docs/goals.md):
 * POST /v1/goals plans (or re-plans) a goal from the spec `spctl goals plan`
 * takes, with the same library code (goals_db.c); GET /v1/goals/{id} shows
 * the plan per region, team, rep and week; GET /v1/goals/{id}/health the
 * goal health. Admins see and plan everything, directors their region,
 * supervisors see their team. Also the goal part of the team board. */
#include "taskpool/api_internal.h"

#include "civil.h"
#include "err.h"
#include "log.h"
#include "taskpool/goals_db.h"
#include "taskpool/goals_today.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "YYYY-MM-DD" of an instant (UTC). */
static void date_of(int64_t ms, char *buf, size_t cap)
{
    int y, m, d;
    sp_civil_from_days((ms - ((ms % GOALS_DAY_MS) + GOALS_DAY_MS) % GOALS_DAY_MS) / GOALS_DAY_MS, &y, &m, &d);
    snprintf(buf, cap, "%04d-%02d-%02d", y % 10000, m % 100, d % 100);
}

static int invalid(sp_http_res *res, const char *field, const char *msg)
{
    sp_http_res_error(res, 422, "invalid_field", msg, field);
    return SP_EINVAL;
}

/* The spec of a POST body; strings borrowed from body. Fills res with 422
 * naming the field when it is not one. */
static int spec_of(const json_t *body, goals_spec *s, sp_http_res *res)
{
    static const char *const keys[]
        = {"template", "kind", "target", "from", "weeks", "scope", "basis", "as_of"};
    if (!json_is_object(body)) return invalid(res, "body", "body must be a JSON object");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)body, k, v)
    {
        int known = 0;
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            known |= !strcmp(k, keys[i]);
        if (!known) {
            char msg[160];
            snprintf(msg, sizeof msg, "%.64s: unknown field", k);
            return invalid(res, k, msg);
        }
    }
    const char **str[] = {&s->industry, &s->kind, &s->from, &s->scope, &s->basis, &s->as_of};
    const char *names[] = {"template", "kind", "from", "scope", "basis", "as_of"};
    for (size_t i = 0; i < 6; i++) {
        const json_t *x = json_object_get(body, names[i]);
        if (x == NULL || json_is_null(x)) continue;
        if (!json_is_string(x) || json_string_length(x) == 0 || json_string_length(x) > 200) {
            char msg[96];
            snprintf(msg, sizeof msg, "%s: must be a string of 1..200 characters", names[i]);
            return invalid(res, names[i], msg);
        }
        *str[i] = json_string_value(x);
    }
    if (!s->industry) return invalid(res, "template", "template: required (education, manufacturing, ...)");
    if (!s->from) return invalid(res, "from", "from: required, the start date YYYY-MM-DD of week 1");
    const json_t *t = json_object_get(body, "target");
    if (!json_is_integer(t) || json_integer_value(t) < 0)
        return invalid(res, "target", "target: required, a whole number >= 0");
    s->target = json_integer_value(t);
    const json_t *w = json_object_get(body, "weeks");
    if (w && !json_is_null(w)) {
        if (!json_is_integer(w) || json_integer_value(w) < 1 || json_integer_value(w) > GOALS_MAX_WEEKS)
            return invalid(res, "weeks", "weeks: must be a whole number 1..53");
        s->weeks = (int)json_integer_value(w);
    }
    return SP_OK;
}

/* {"target": n, "<action>": n, ...} of (scope, id) over weeks [w0, w1). */
static json_t *sums_json(const goals_db_goal *g, goals_scope scope, const char *id, int w0, int w1)
{
    json_t *o = json_pack("{s:I}", "target", (json_int_t)goals_plan_sum(g->plan, scope, id, w0, w1, -1));
    for (int a = 0; a < GOALS_ACTION_COUNT; a++)
        if (g->t->action[a].used)
            json_object_set_new(o, goals_action_name((goals_action)a),
                json_integer(goals_plan_sum(g->plan, scope, id, w0, w1, a)));
    return o;
}

/* The subject a viewer sees: admin all, director region, supervisor team. */
typedef struct viewer {
    goals_scope scope;
    const char *id;
} viewer;

static int visible(const goals_db_goal *g, size_t r, const viewer *v)
{
    return goals_plan_rep_in(g->plan, r, v->scope, v->id);
}

/* Distinct regions or teams of the visible reps, in plan order. */
static json_t *groups_json(const goals_db_goal *g, const viewer *v, goals_scope level)
{
    json_t *a = json_array();
    size_t n = goals_plan_n_reps(g->plan);
    int weeks = goals_plan_n_weeks(g->plan);
    for (size_t r = 0; r < n; r++) {
        if (!visible(g, r, v)) continue;
        const char *id = level == GOALS_SCOPE_REGION ? goals_plan_rep_region(g->plan, r)
                                                     : goals_plan_rep_team(g->plan, r);
        int seen = 0;
        for (size_t k = 0; k < r && !seen; k++)
            seen = visible(g, k, v)
                && !strcmp(id,
                    level == GOALS_SCOPE_REGION ? goals_plan_rep_region(g->plan, k)
                                                : goals_plan_rep_team(g->plan, k));
        if (seen) continue;
        json_t *o = json_pack("{s:s,s:o}", "id", id, "planned", sums_json(g, level, id, 0, weeks));
        if (level == GOALS_SCOPE_TEAM)
            json_object_set_new(o, "region_id", json_string(goals_plan_rep_region(g->plan, r)));
        json_array_append_new(a, o);
    }
    return a;
}

/* The plan as JSON: the goal, totals and weeks of what the viewer sees,
 * regions, teams, and with reps = 1 every rep with its weeks. */
static json_t *plan_json(const goals_db_goal *g, const viewer *v, int reps)
{
    int weeks = goals_plan_n_weeks(g->plan);
    char start[16];
    date_of(g->start_ms, start, sizeof start);
    json_t *goal = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s*,s:I,s:s,s:i,s:i}", "id", g->id, "industry",
        g->industry, "kind", g->kind, "unit", g->t->unit, "scope", g->scope, "scope_id",
        *g->scope_id ? g->scope_id : NULL, "target", (json_int_t)g->target, "from", start, "weeks", weeks,
        "revision", g->revision);
    json_t *wk = json_array();
    for (int w = 0; w < weeks; w++) {
        char d[16];
        date_of(g->start_ms + w * GOALS_WEEK_MS, d, sizeof d);
        json_array_append_new(wk,
            json_pack("{s:i,s:s,s:o}", "week", w + 1, "starts", d, "planned",
                sums_json(g, v->scope, v->id, w, w + 1)));
    }
    /* a supervisor sees their team, not their region's totals */
    json_t *o = json_pack("{s:o,s:o,s:o,s:o,s:o}", "goal", goal, "planned",
        sums_json(g, v->scope, v->id, 0, weeks), "weeks", wk, "regions",
        v->scope == GOALS_SCOPE_TEAM ? json_array() : groups_json(g, v, GOALS_SCOPE_REGION), "teams",
        groups_json(g, v, GOALS_SCOPE_TEAM));
    if (reps) {
        json_t *ra = json_array();
        for (size_t r = 0; r < goals_plan_n_reps(g->plan); r++) {
            if (!visible(g, r, v)) continue;
            const char *id = goals_plan_rep_id(g->plan, r);
            json_t *rw = json_array();
            for (int w = 0; w < weeks; w++)
                json_array_append_new(rw,
                    json_pack(
                        "{s:i,s:o}", "week", w + 1, "planned", sums_json(g, GOALS_SCOPE_REP, id, w, w + 1)));
            json_array_append_new(ra,
                json_pack("{s:s,s:s,s:s,s:o,s:o}", "id", id, "team_id", goals_plan_rep_team(g->plan, r),
                    "region_id", goals_plan_rep_region(g->plan, r), "planned",
                    sums_json(g, GOALS_SCOPE_REP, id, 0, weeks), "weeks", rw));
        }
        json_object_set_new(o, "reps", ra);
    }
    return o;
}

/* The caller's view, or res filled (403) when the role may not see goals. */
static int viewer_of(const acl_principal *p, viewer *v, sp_http_res *res)
{
    if (acl_check(p, ACL_LIST_TEAM, NULL) != ACL_ALLOW) {
        sp_http_res_error(res, 403, "forbidden", "goals are for supervisors, directors and admins", NULL);
        return SP_EFORBIDDEN;
    }
    v->scope = GOALS_SCOPE_COMPANY, v->id = NULL;
    if (p->role == ACL_ROLE_DIRECTOR) v->scope = GOALS_SCOPE_REGION, v->id = p->region_id ? p->region_id : "";
    if (p->role == ACL_ROLE_SUPERVISOR) v->scope = GOALS_SCOPE_TEAM, v->id = p->team_id ? p->team_id : "";
    return SP_OK;
}

static int any_visible(const goals_db_goal *g, const viewer *v)
{
    for (size_t r = 0; r < goals_plan_n_reps(g->plan); r++)
        if (visible(g, r, v)) return 1;
    return 0;
}

/* A director may plan for their region or a team in it; an admin anything. */
static int may_plan(sp_db *db, const acl_principal *p, const char *scope, sp_http_res *res)
{
    if (p->role == ACL_ROLE_ADMIN) return SP_OK;
    if (p->role != ACL_ROLE_DIRECTOR) {
        sp_http_res_error(res, 403, "forbidden", "goal planning is for admins and directors", NULL);
        return SP_EFORBIDDEN;
    }
    const char *region = p->region_id ? p->region_id : "";
    int ok = 0;
    if (!strncmp(scope, "region:", 7)) {
        ok = !strcmp(scope + 7, region);
    } else if (!strncmp(scope, "team:", 5)) {
        PGresult *r = NULL;
        const char *q[1] = {scope + 5};
        int rv = sp_db_exec(db, "SELECT region_id FROM teams WHERE id = $1", 1, q, &r);
        if (rv != SP_OK) return api_db_fail(res, db, rv);
        /* an unknown team is refused like another region's: a director
         * does not learn which team ids exist elsewhere */
        ok = PQntuples(r) == 1 && !strcmp(PQgetvalue(r, 0, 0), region);
        PQclear(r);
    }
    if (!ok) {
        sp_http_res_error(
            res, 403, "forbidden", "a director plans goals for their own region or its teams", "scope");
        return SP_EFORBIDDEN;
    }
    return SP_OK;
}

/* POST /v1/goals */
int api_h_goals_post(const sp_http_req *req, sp_http_res *res, void *arg)
{
    taskpool_api *api = arg;
    acl_principal p;
    api_principal(req, &p);
    if (p.role != ACL_ROLE_ADMIN && p.role != ACL_ROLE_DIRECTOR)
        return sp_http_res_error(res, 403, "forbidden", "goal planning is for admins and directors", NULL);
    json_t *body = NULL;
    if (sp_http_req_json(req, res, &body) != SP_OK) return SP_EINVAL;
    char today[16];
    date_of(api_today_ms(api), today, sizeof today);
    goals_spec s = {NULL, "new_a_class_customers", -1, NULL, 13, "company", "capacity", today};
    int rv = spec_of(body, &s, res);
    sp_db *db = NULL;
    if (rv == SP_OK && (rv = api_db_get(api, res, &db)) != SP_OK) db = NULL;
    if (rv == SP_OK) rv = may_plan(db, &p, s.scope, res);
    goals_db_goal g = {0};
    goals_db_status st = GOALS_DB_CREATED;
    const char *field = NULL;
    char err[1024];
    if (rv == SP_OK) {
        rv = goals_db_plan(db, api->goal_templates, &s, &g, &st, &field, err, sizeof err);
        if (rv == SP_EINVAL)
            invalid(res, field ? field : "body", err);
        else if (rv == SP_EDB && strstr(err, "duplicate"))
            sp_http_res_error(
                res, 409, "conflict", "the goal is being planned by another request; retry", NULL);
        else if (rv != SP_OK) {
            sp_warn("POST /v1/goals: %s", err);
            api_db_fail(res, db, rv);
        }
    }
    if (db) api_pool_put(api->cfg.pool, db);
    if (rv == SP_OK) {
        viewer v = {GOALS_SCOPE_COMPANY, NULL};
        json_t *o = plan_json(&g, &v, 0);
        static const char *const names[] = {"created", "unchanged", "replanned"};
        json_object_set_new(o, "status", json_string(names[st]));
        json_object_set_new(
            o, "replanned_from_week", st == GOALS_DB_REPLANNED ? json_integer(g.from_week + 1) : json_null());
        json_object_set_new(
            o, "previous_target", st == GOALS_DB_REPLANNED ? json_integer(g.old_target) : json_null());
        rv = sp_http_res_json(res, st == GOALS_DB_CREATED ? 201 : 200, o);
        json_decref(o);
        sp_info("goal %s %s by %s (target %lld, revision %d)", g.id, names[st], p.person_id,
            (long long)g.target, g.revision);
    }
    goals_db_goal_clear(&g);
    json_decref(body);
    return rv;
}

static json_t *health_json(
    const goals_db_goal *g, const goals_actuals *x, goals_scope scope, const char *id, int through)
{
    goals_health h;
    if (goals_health_compute(g->plan, x, g->tm, g->t, scope, id, through, &h) != SP_OK) return NULL;
    json_t *behind = json_array();
    for (size_t i = 0; i < h.n_behind; i++)
        json_array_append_new(behind,
            json_pack("{s:s,s:I,s:I,s:I}", "action", goals_action_name(h.behind[i].action), "planned",
                (json_int_t)h.behind[i].planned, "passed", (json_int_t)h.behind[i].passed, "shortfall",
                (json_int_t)h.behind[i].shortfall));
    return json_pack("{s:s*,s:i,s:f,s:f,s:I,s:I,s:I,s:o}", "id", id, "score", h.score, "completion",
        h.completion, "quality_pass_rate", h.pass_rate, "planned_to_date", (json_int_t)h.planned, "passed",
        (json_int_t)h.passed, "failed_quality", (json_int_t)h.failed, "most_behind", behind);
}

/* GET /v1/goals/{id}/health?as_of=YYYY-MM-DD: health through the week holding as_of (default today). */
static int goal_health(taskpool_api *api, const sp_http_req *req, sp_http_res *res, const goals_db_goal *g,
    const viewer *v, sp_db *db)
{
    char as_of[16];
    int64_t at = 0;
    int qr = sp_http_req_query(req, "as_of", as_of, sizeof as_of);
    if (qr == SP_ENOTFOUND) date_of(api_today_ms(api), as_of, sizeof as_of);
    if ((qr != SP_OK && qr != SP_ENOTFOUND) || goals_db_date(as_of, &at) != SP_OK)
        return sp_http_res_error(res, 400, "invalid_query", "as_of: must be a date YYYY-MM-DD", "as_of");
    if (at < g->start_ms)
        return sp_http_res_error(res, 400, "invalid_query", "as_of: before the goal's first week", "as_of");
    int through = goals_plan_week_of(g->plan, at);
    if (through < 0) through = goals_plan_n_weeks(g->plan) - 1;
    goals_actuals *x = NULL;
    char err[512];
    int rv = goals_db_actuals(
        db, g, at + GOALS_DAY_MS, v->scope == GOALS_SCOPE_TEAM ? v->id : NULL, &x, err, sizeof err);
    if (rv != SP_OK) {
        sp_warn("goal health: %s", err);
        return api_db_fail(res, db, rv);
    }
    json_t *regions = json_array(), *teams = json_array(), *reps = json_array();
    json_t *groups[2] = {v->scope == GOALS_SCOPE_TEAM ? json_array() : groups_json(g, v, GOALS_SCOPE_REGION),
        groups_json(g, v, GOALS_SCOPE_TEAM)};
    for (int l = v->scope == GOALS_SCOPE_TEAM ? 1 : 0; l < 2; l++) {
        size_t i;
        json_t *it;
        json_array_foreach(groups[l], i, it)
        {
            json_t *h = health_json(g, x, l ? GOALS_SCOPE_TEAM : GOALS_SCOPE_REGION,
                json_string_value(json_object_get(it, "id")), through);
            if (h) json_array_append_new(l ? teams : regions, h);
        }
    }
    json_decref(groups[0]);
    json_decref(groups[1]);
    for (size_t r = 0; r < goals_plan_n_reps(g->plan); r++)
        if (visible(g, r, v)) {
            json_t *h = health_json(g, x, GOALS_SCOPE_REP, goals_plan_rep_id(g->plan, r), through);
            if (h) {
                json_object_set_new(h, "team_id", json_string(goals_plan_rep_team(g->plan, r)));
                json_array_append_new(reps, h);
            }
        }
    json_t *all = health_json(g, x, v->scope, v->id, through);
    if (all) json_object_del(all, "id");
    json_t *o = json_pack("{s:s,s:s,s:i,s:s,s:s*,s:o,s:o,s:o,s:o}", "goal_id", g->id, "as_of", as_of,
        "through_week", through + 1, "level",
        v->scope == GOALS_SCOPE_COMPANY      ? "company"
            : v->scope == GOALS_SCOPE_REGION ? "region"
                                             : "team",
        "level_id", v->id, "health", all ? all : json_null(), "regions", regions, "teams", teams, "reps",
        reps);
    goals_actuals_destroy(x);
    return api_reply(res, o);
}

/* GET /v1/goals/{id} and /v1/goals/{id}/health */
int api_h_goals_get(const sp_http_req *req, sp_http_res *res, void *arg)
{
    taskpool_api *api = arg;
    acl_principal p;
    api_principal(req, &p);
    viewer v;
    if (viewer_of(&p, &v, res) != SP_OK) return SP_EFORBIDDEN;
    const char *slash = strchr(req->tail, '/');
    size_t n = slash ? (size_t)(slash - req->tail) : strlen(req->tail);
    char id[256];
    int health = slash && !strcmp(slash, "/health");
    if ((slash && !health) || api_segment_decode(req->tail, n, id, sizeof id) != SP_OK)
        return sp_http_res_error(res, 404, "not_found", "no such resource", NULL);
    sp_db *db = NULL;
    if (api_db_get(api, res, &db) != SP_OK) return SP_EDBDOWN;
    goals_db_goal g = {0};
    char err[1024];
    int rv = goals_db_load(db, api->goal_templates, id, &g, err, sizeof err);
    if (rv == SP_ENOTFOUND || (rv == SP_OK && !any_visible(&g, &v))) {
        rv = SP_ENOTFOUND;
        sp_http_res_error(res, 404, "not_found", "no such goal", NULL);
    } else if (rv == SP_EINVAL) {
        sp_warn("GET /v1/goals/%s: %s", id, err);
        sp_http_res_error(res, 500, "internal", err, NULL);
    } else if (rv != SP_OK) {
        api_db_fail(res, db, rv);
    } else if (health) {
        rv = goal_health(api, req, res, &g, &v, db);
    } else {
        rv = api_reply(res, plan_json(&g, &v, 1));
    }
    api_pool_put(api->cfg.pool, db);
    goals_db_goal_clear(&g);
    return rv;
}

int api_goal_board(taskpool_api *api, sp_db *db, const char *team_id, int64_t now_ms, json_t **out)
{
    *out = NULL;
    char now_s[24];
    snprintf(now_s, sizeof now_s, "%lld", (long long)now_ms);
    const char *prm[2] = {team_id, now_s};
    PGresult *r = NULL;
    /* the team's active goal: its reps planned, now inside its weeks; the latest start wins */
    int rv = sp_db_exec(db,
        "SELECT g.id FROM goals g WHERE EXISTS (SELECT 1 FROM goal_reps r WHERE r.goal_id = g.id AND "
        "r.team_id = $1) "
        "AND to_timestamp($2::bigint / 1000.0) >= g.starts_at "
        "AND to_timestamp($2::bigint / 1000.0) < g.starts_at + g.weeks * interval '7 days' "
        "ORDER BY g.starts_at DESC, g.id LIMIT 1",
        2, prm, &r);
    if (rv != SP_OK) return rv;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return SP_OK;
    }
    goals_db_goal g = {0};
    goals_actuals *x = NULL;
    char err[1024];
    rv = goals_db_load(db, api->goal_templates, PQgetvalue(r, 0, 0), &g, err, sizeof err);
    PQclear(r);
    if (rv == SP_OK) rv = goals_db_actuals(db, &g, now_ms + 1, team_id, &x, err, sizeof err);
    if (rv == SP_OK) {
        int through = goals_plan_week_of(g.plan, now_ms);
        json_t *reps = json_object();
        for (size_t i = 0; i < goals_plan_n_reps(g.plan); i++)
            if (!strcmp(goals_plan_rep_team(g.plan, i), team_id)) {
                json_t *h = health_json(&g, x, GOALS_SCOPE_REP, goals_plan_rep_id(g.plan, i), through);
                if (h) json_object_set_new(reps, goals_plan_rep_id(g.plan, i), h);
            }
        *out = json_pack("{s:s,s:i,s:o?,s:o}", "goal_id", g.id, "through_week", through + 1, "team",
            health_json(&g, x, GOALS_SCOPE_TEAM, team_id, through), "reps", reps);
    } else if (rv == SP_EINVAL || rv == SP_ENOTFOUND) {
        sp_warn("team board: goal: %s", err); /* the board falls back to its own rates */
        rv = SP_OK;
    }
    goals_actuals_destroy(x);
    goals_db_goal_clear(&g);
    return rv;
}
