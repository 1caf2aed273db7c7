/* goals_db.c - goals against PostgreSQL: plan/re-plan and store, load back,
 * actuals, the monthly review of one goal (goals_db.h). */
#include "taskpool/goals_db.h"

#include "civil.h"
#include "err.h"
#include "taskpool/goals_catchup.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WEEK_MS (7LL * 86400 * 1000)

static sp_err dberr(sp_db *db, const char *what, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: %s", what, sp_db_errmsg(db));
    return SP_EDB;
}

static sp_err q(sp_db *db, const char *what, const char *sql, int n, const char *const *p, PGresult **res,
    char *err, size_t errlen)
{
    int rv = sp_db_exec(db, sql, n, p, res);
    if (rv != SP_OK) dberr(db, what, err, errlen);
    return rv;
}

void goals_db_goal_clear(goals_db_goal *g)
{
    if (!g) return;
    goals_plan_destroy(g->plan);
    goals_template_destroy(g->tm);
    memset(g, 0, sizeof *g);
}

void goals_db_minutes_clear(goals_db_minutes *m)
{
    if (!m) return;
    free(m->md);
    free(m->json);
    memset(m, 0, sizeof *m);
}

sp_err goals_db_date(const char *s, int64_t *ms)
{
    int y, m, d;
    char tail;
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-'
        || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
        return SP_EINVAL;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] || (m == 2 && d == 29 && !leap))
        return SP_EINVAL;
    *ms = sp_days_from_civil(y, m, d) * 86400000LL;
    return SP_OK;
}

/* An industry name that is safe in a file name. */
static int plain_name(const char *s)
{
    if (!s || !*s || strlen(s) >= GOALS_NAME_MAX) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'
                || *s == '-'))
            return 0;
    return 1;
}

static sp_err load_template(const char *dir, const char *industry, const char *kind, goals_db_goal *g,
    const char **field, char *err, size_t errlen)
{
    char path[1024];
    if (!plain_name(industry)) {
        *field = "template";
        snprintf(err, errlen, "template: \"%.64s\" is not a template name ([A-Za-z0-9_-])",
            industry ? industry : "");
        return SP_EINVAL;
    }
    snprintf(path, sizeof path, "%s/%s.json", dir, industry);
    if (goals_template_load(path, &g->tm, err, errlen)) {
        *field = "template";
        return SP_EINVAL;
    }
    g->t = goals_template_target(g->tm, kind);
    if (!g->t) {
        *field = "kind";
        snprintf(err, errlen, "%s: no target kind \"%.128s\"", path, kind);
        return SP_EINVAL;
    }
    return SP_OK;
}

/* The reps of a result set (id, team, region, capacity, history), strings owned by res. */
static sp_err reps_of(PGresult *res, goals_rep **out, size_t *n)
{
    size_t m = (size_t)PQntuples(res);
    goals_rep *r = calloc(m ? m : 1, sizeof *r);
    if (!r) return SP_ENOMEM;
    for (size_t i = 0; i < m; i++)
        r[i] = (goals_rep) {PQgetvalue(res, (int)i, 0), PQgetvalue(res, (int)i, 1),
            PQgetvalue(res, (int)i, 2), atof(PQgetvalue(res, (int)i, 3)), atof(PQgetvalue(res, (int)i, 4))};
    *out = r;
    *n = m;
    return SP_OK;
}

/* Rebuilds a stored goal's plan into g->plan: its reps and weights from
 * goal_reps, every cell from goal_plans (cells not stored are 0). */
static sp_err plan_restore(sp_db *db, goals_db_goal *g, char *err, size_t errlen)
{
    const char *p[1] = {g->id};
    PGresult *rr = NULL, *cells = NULL;
    goals_rep *reps = NULL;
    size_t n = 0;
    goals_plan *plan = NULL;
    sp_err rv = q(db, "goal reps",
        "SELECT rep_id, team_id, region_id, 1, weight FROM goal_reps WHERE goal_id = $1 ORDER BY rep_id", 1,
        p, &rr, err, errlen);
    if (rv) goto fail;
    if ((rv = reps_of(rr, &reps, &n))) goto fail;
    goals_goal gg = {GOALS_SCOPE_COMPANY, NULL, g->target, g->start_ms, g->weeks, GOALS_BASIS_HISTORY, NULL};
    if ((rv = goals_plan_build(g->t, reps, n, &gg, &plan, err, errlen))) goto fail;
    for (size_t r = 0; r < n; r++)
        for (int w = 0; w < g->weeks; w++)
            for (int a = -1; a < GOALS_ACTION_COUNT; a++)
                goals_plan_set_cell(plan, r, w, a, 0);
    if ((rv = q(db, "goal plan", "SELECT rep_id, week, action, planned FROM goal_plans WHERE goal_id = $1", 1,
             p, &cells, err, errlen)))
        goto fail;
    for (int i = 0; i < PQntuples(cells); i++) {
        int r = goals_plan_rep_index(plan, PQgetvalue(cells, i, 0));
        const char *an = PQgetvalue(cells, i, 2);
        int a = strcmp(an, "target") ? goals_action_parse(an) : -1;
        if (r < 0 || (a < 0 && strcmp(an, "target"))
            || goals_plan_set_cell(
                plan, (size_t)r, atoi(PQgetvalue(cells, i, 1)), a, atoll(PQgetvalue(cells, i, 3)))) {
            snprintf(err, errlen, "goal %s: stored cell %s/%s/%s does not fit the plan", g->id,
                PQgetvalue(cells, i, 0), PQgetvalue(cells, i, 1), an);
            rv = SP_EINVAL;
            goto fail;
        }
    }
    g->plan = plan;
    plan = NULL;
fail:
    goals_plan_destroy(plan);
    free(reps);
    PQclear(rr);
    PQclear(cells);
    return rv;
}

/* Writes the cells of weeks >= w0 (non-zero only), replacing the stored ones. */
static sp_err cells_store(
    sp_db *db, const char *goal_id, const goals_plan *p, int w0, char *err, size_t errlen)
{
    json_t *rows = json_array();
    if (!rows) return SP_ENOMEM;
    for (size_t r = 0; r < goals_plan_n_reps(p); r++)
        for (int w = w0; w < goals_plan_n_weeks(p); w++)
            for (int a = -1; a < GOALS_ACTION_COUNT; a++) {
                int64_t v
                    = a < 0 ? goals_plan_target_cell(p, r, w) : goals_plan_cell(p, r, w, (goals_action)a);
                if (v == 0) continue;
                json_array_append_new(rows,
                    json_pack("{s:s, s:s, s:s, s:i, s:s, s:I}", "rep_id", goals_plan_rep_id(p, r), "team_id",
                        goals_plan_rep_team(p, r), "region_id", goals_plan_rep_region(p, r), "week", w,
                        "action", a < 0 ? "target" : goals_action_name((goals_action)a), "planned",
                        (json_int_t)v));
            }
    char *js = json_dumps(rows, JSON_COMPACT);
    json_decref(rows);
    if (!js) return SP_ENOMEM;
    char wbuf[16];
    snprintf(wbuf, sizeof wbuf, "%d", w0);
    const char *p1[2] = {goal_id, wbuf};
    sp_err rv = q(db, "clear plan", "DELETE FROM goal_plans WHERE goal_id = $1 AND week >= $2::int", 2, p1,
        NULL, err, errlen);
    const char *p2[2] = {goal_id, js};
    if (!rv)
        rv = q(db, "store plan",
            "INSERT INTO goal_plans (goal_id, rep_id, team_id, region_id, week, action, planned) "
            "SELECT $1, x.rep_id, x.team_id, x.region_id, x.week, x.action, x.planned "
            "FROM jsonb_to_recordset($2::jsonb) AS x(rep_id text, team_id text, region_id text, week int, "
            "action text, planned bigint)",
            2, p2, NULL, err, errlen);
    free(js);
    return rv;
}

static sp_err bad(const char **field, const char *f, char *err, size_t errlen, const char *msg)
{
    *field = f;
    snprintf(err, errlen, "%s", msg);
    return SP_EINVAL;
}

/* A new goal: the active reps of the org chart (history = quality-passed
 * activities in the same number of weeks before the start), the plan, the
 * rows. Inside the caller's transaction. */
static sp_err plan_new(sp_db *db, const goals_spec *s, goals_scope scope, const char *sid, goals_basis basis,
    goals_db_goal *g, const char **field, char *err, size_t errlen)
{
    PGresult *res = NULL;
    goals_rep *reps = NULL;
    size_t n = 0;
    char tbuf[32], wbuf[16], sbuf[32];
    snprintf(tbuf, sizeof tbuf, "%lld", (long long)s->target);
    snprintf(wbuf, sizeof wbuf, "%d", s->weeks);
    snprintf(sbuf, sizeof sbuf, "%lld", (long long)g->start_ms);
    const char *pr[2] = {sbuf, wbuf};
    sp_err rv = q(db, "reps",
        "SELECT p.id, p.team_id, coalesce(p.region_id, t.region_id), 1, "
        "(SELECT count(*) FROM interactions i WHERE i.rep_id = p.id AND i.quality_passed "
        "  AND i.occurred_at >= to_timestamp($1::bigint/1000.0) - $2::int * interval '7 days' "
        "  AND i.occurred_at < to_timestamp($1::bigint/1000.0)) "
        "FROM people p JOIN teams t ON t.id = p.team_id WHERE p.role = 'rep' AND p.active ORDER BY p.id",
        2, pr, &res, err, errlen);
    if (rv) goto done;
    if ((rv = reps_of(res, &reps, &n))) goto done;
    goals_goal goal = {scope, sid, s->target, g->start_ms, s->weeks, basis, NULL};
    if ((rv = goals_plan_build(g->t, reps, n, &goal, &g->plan, err, errlen))) {
        *field = "scope";
        goto done;
    }
    const char *pb[9] = {g->id, g->tm->industry, s->kind, g->scope, sid, tbuf, sbuf, wbuf, s->basis};
    if ((rv = q(db, "insert goal",
             "INSERT INTO goals (id, industry, kind, scope, scope_id, target, starts_at, weeks, basis) "
             "VALUES ($1, $2, $3, $4, $5, $6::bigint, to_timestamp($7::bigint/1000.0), $8::int, $9)",
             9, pb, NULL, err, errlen)))
        goto done;
    for (size_t r = 0; r < goals_plan_n_reps(g->plan); r++) {
        char w[32];
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (!strcmp(reps[i].id, goals_plan_rep_id(g->plan, r))) k = i;
        snprintf(w, sizeof w, "%.6f", basis == GOALS_BASIS_HISTORY ? reps[k].history : reps[k].capacity);
        const char *pr2[5] = {g->id, goals_plan_rep_id(g->plan, r), goals_plan_rep_team(g->plan, r),
            goals_plan_rep_region(g->plan, r), w};
        if ((rv = q(db, "goal reps",
                 "INSERT INTO goal_reps (goal_id, rep_id, team_id, region_id, weight) VALUES "
                 "($1,$2,$3,$4,$5::float8)",
                 5, pr2, NULL, err, errlen)))
            goto done;
    }
    rv = cells_store(db, g->id, g->plan, 0, err, errlen);
    g->revision = 1;
done:
    PQclear(res);
    free(reps);
    return rv;
}

sp_err goals_db_plan(sp_db *db, const char *templates, const goals_spec *s, goals_db_goal *out,
    goals_db_status *status, const char **field, char *err, size_t errlen)
{
    static const char *dummy;
    if (!field) field = &dummy;
    *field = NULL;
    if (!db || !templates || !s || !out || !status) return SP_EINVAL;
    goals_db_goal *g = out;
    PGresult *row = NULL;
    int64_t as_of = 0;
    sp_err rv = load_template(templates, s->industry, s->kind ? s->kind : "", g, field, err, errlen);
    if (rv) return rv;
    if (s->target < 0) return bad(field, "target", err, errlen, "target: must be a whole number >= 0");
    if (s->weeks < 1 || s->weeks > GOALS_MAX_WEEKS)
        return bad(field, "weeks", err, errlen, "weeks: must be 1..53");
    if (goals_db_date(s->from, &g->start_ms))
        return bad(field, "from", err, errlen, "from: must be a date YYYY-MM-DD");
    if (goals_db_date(s->as_of ? s->as_of : s->from, &as_of))
        return bad(field, "as_of", err, errlen, "as_of: must be a date YYYY-MM-DD");
    goals_scope scope = GOALS_SCOPE_COMPANY;
    const char *sc = s->scope ? s->scope : "company", *sid = "";
    if (!strncmp(sc, "region:", 7))
        scope = GOALS_SCOPE_REGION, sid = sc + 7;
    else if (!strncmp(sc, "team:", 5))
        scope = GOALS_SCOPE_TEAM, sid = sc + 5;
    else if (strcmp(sc, "company"))
        return bad(field, "scope", err, errlen, "scope: must be company, region:ID or team:ID");
    if (scope != GOALS_SCOPE_COMPANY && (!*sid || strlen(sid) >= GOALS_NAME_MAX))
        return bad(field, "scope", err, errlen, "scope: the region or team id must be 1..63 characters");
    const char *basis_s = s->basis ? s->basis : "capacity";
    if (strcmp(basis_s, "capacity") && strcmp(basis_s, "history"))
        return bad(field, "basis", err, errlen, "basis: must be capacity or history");
    goals_basis basis = !strcmp(basis_s, "history") ? GOALS_BASIS_HISTORY : GOALS_BASIS_CAPACITY;
    goals_spec spec = *s;
    spec.basis = basis_s;
    snprintf(g->scope, sizeof g->scope, "%s",
        scope == GOALS_SCOPE_REGION     ? "region"
            : scope == GOALS_SCOPE_TEAM ? "team"
                                        : "company");
    snprintf(g->scope_id, sizeof g->scope_id, "%s", sid);
    snprintf(g->industry, sizeof g->industry, "%s", g->tm->industry);
    snprintf(g->kind, sizeof g->kind, "%s", g->t->kind);
    snprintf(g->id, sizeof g->id, "goal:%s:%s:%s:%s", g->t->kind, g->scope, *sid ? sid : "all", s->from);
    g->weeks = s->weeks;
    g->target = s->target;
    if ((rv = sp_db_begin(db))) return dberr(db, "begin", err, errlen);
    const char *pg[1] = {g->id};
    if ((rv = q(db, "goal", "SELECT target, weeks, revision, industry FROM goals WHERE id = $1 FOR UPDATE", 1,
             pg, &row, err, errlen)))
        goto rollback;
    if (PQntuples(row) == 0) {
        if ((rv = plan_new(db, &spec, scope, sid, basis, g, field, err, errlen))) goto rollback;
        if ((rv = sp_db_commit(db))) {
            rv = dberr(db, "commit", err, errlen);
            goto done;
        }
        *status = GOALS_DB_CREATED;
        goto done;
    }
    /* an existing goal: same target = nothing to do; another target = re-plan the weeks not yet started */
    int64_t old = atoll(PQgetvalue(row, 0, 0));
    int weeks = atoi(PQgetvalue(row, 0, 1));
    g->revision = atoi(PQgetvalue(row, 0, 2));
    if (weeks != s->weeks || strcmp(PQgetvalue(row, 0, 3), g->tm->industry)) {
        *field = weeks != s->weeks ? "weeks" : "template";
        snprintf(err, errlen, "goal %s exists with %d weeks and template %s: weeks/template must match",
            g->id, weeks, PQgetvalue(row, 0, 3));
        rv = SP_EINVAL;
        goto rollback;
    }
    g->target = old;
    if ((rv = plan_restore(db, g, err, errlen))) goto rollback;
    if (old == s->target) {
        sp_db_rollback(db);
        *status = GOALS_DB_UNCHANGED;
        goto done;
    }
    int from_week = as_of <= g->start_ms ? 0 : (int)((as_of - g->start_ms + WEEK_MS - 1) / WEEK_MS);
    if (from_week >= weeks) {
        *field = "as_of";
        snprintf(err, errlen, "goal %s: every week has started as of %s; nothing to re-plan", g->id,
            s->as_of ? s->as_of : s->from);
        rv = SP_EINVAL;
        goto rollback;
    }
    if ((rv = goals_plan_replan(g->plan, g->t, s->target, from_week))) {
        snprintf(err, errlen, "goal %s: re-plan failed: %s", g->id, sp_strerror(rv));
        goto rollback;
    }
    if ((rv = cells_store(db, g->id, g->plan, from_week, err, errlen))) goto rollback;
    char tbuf[32];
    snprintf(tbuf, sizeof tbuf, "%lld", (long long)s->target);
    if ((rv = q(db, "update goal",
             "UPDATE goals SET target = $2::bigint, revision = revision + 1, updated_at = now() WHERE id = "
             "$1",
             2, (const char *const[]) {g->id, tbuf}, NULL, err, errlen)))
        goto rollback;
    if ((rv = sp_db_commit(db))) {
        rv = dberr(db, "commit", err, errlen);
        goto done;
    }
    g->target = s->target;
    g->revision++;
    *status = GOALS_DB_REPLANNED;
    g->from_week = from_week;
    g->old_target = old;
    goto done;
rollback:
    sp_db_rollback(db);
done:
    PQclear(row);
    return rv;
}

sp_err goals_db_load(
    sp_db *db, const char *templates, const char *id, goals_db_goal *out, char *err, size_t errlen)
{
    if (!db || !templates || !id || !out) return SP_EINVAL;
    PGresult *r = NULL;
    const char *p[1] = {id};
    const char *field = NULL;
    sp_err rv = q(db, "goal",
        "SELECT industry, kind, scope, scope_id, target, (extract(epoch FROM starts_at) * 1000)::bigint, "
        "weeks, "
        "revision FROM goals WHERE id = $1",
        1, p, &r, err, errlen);
    if (rv) return rv;
    if (PQntuples(r) == 0) {
        snprintf(err, errlen, "no goal %.200s", id);
        PQclear(r);
        return SP_ENOTFOUND;
    }
    snprintf(out->id, sizeof out->id, "%s", id);
    snprintf(out->industry, sizeof out->industry, "%s", PQgetvalue(r, 0, 0));
    snprintf(out->kind, sizeof out->kind, "%s", PQgetvalue(r, 0, 1));
    snprintf(out->scope, sizeof out->scope, "%s", PQgetvalue(r, 0, 2));
    snprintf(out->scope_id, sizeof out->scope_id, "%s", PQgetvalue(r, 0, 3));
    out->target = atoll(PQgetvalue(r, 0, 4));
    out->start_ms = atoll(PQgetvalue(r, 0, 5));
    out->weeks = atoi(PQgetvalue(r, 0, 6));
    out->revision = atoi(PQgetvalue(r, 0, 7));
    PQclear(r);
    if ((rv = load_template(templates, out->industry, out->kind, out, &field, err, errlen))) return rv;
    return plan_restore(db, out, err, errlen);
}

sp_err goals_db_actuals(sp_db *db, const goals_db_goal *g, int64_t end_ms, const char *team_id,
    goals_actuals **out, char *err, size_t errlen)
{
    if (!db || !g || !g->plan || !out) return SP_EINVAL;
    goals_actuals *x = NULL;
    if (goals_actuals_new(g->plan, &x)) {
        snprintf(err, errlen, "out of memory");
        return SP_ENOMEM;
    }
    char end_ts[24];
    snprintf(end_ts, sizeof end_ts, "%lld", (long long)end_ms);
    const char *pa[3] = {g->id, end_ts, team_id};
    PGresult *acts = NULL;
    sp_err rv = q(db, "activities",
        "SELECT i.rep_id, i.activity_kind, (extract(epoch FROM i.occurred_at) * 1000)::bigint, "
        "coalesce(i.quality_passed, false) FROM interactions i JOIN goals g ON g.id = $1 "
        "WHERE i.rep_id IN (SELECT rep_id FROM goal_reps WHERE goal_id = $1 AND ($3::text IS NULL OR team_id "
        "= "
        "$3)) AND i.activity_kind IS NOT NULL AND i.occurred_at >= g.starts_at AND i.occurred_at < "
        "to_timestamp($2::bigint / 1000.0)",
        3, pa, &acts, err, errlen);
    for (int i = 0; !rv && i < PQntuples(acts); i++) {
        int a = goals_action_parse(PQgetvalue(acts, i, 1));
        if (a < 0) continue;
        goals_actuals_add_judged(x, g->plan, g->t, PQgetvalue(acts, i, 0), (goals_action)a,
            atoll(PQgetvalue(acts, i, 2)), PQgetvalue(acts, i, 3)[0] == 't', NULL);
    }
    PQclear(acts);
    /* results: new A-class customers by owner and creation time; signed revenue by deals moved to won */
    const char *results_sql = NULL;
    if (!strcmp(g->kind, "new_a_class_customers"))
        results_sql
            = "SELECT c.owner_rep_id, (extract(epoch FROM c.created_at) * 1000)::bigint, 1 FROM customers c "
              "JOIN goals g ON g.id = $1 WHERE c.class = 'A' AND c.merged_into IS NULL "
              "AND c.owner_rep_id IN (SELECT rep_id FROM goal_reps WHERE goal_id = $1 AND ($3::text IS NULL "
              "OR "
              "team_id = $3)) AND c.created_at >= g.starts_at AND c.created_at < to_timestamp($2::bigint / "
              "1000.0)";
    else if (!strcmp(g->kind, "signed_revenue"))
        results_sql = "SELECT d.owner_rep_id, (extract(epoch FROM h.at) * 1000)::bigint, d.amount FROM "
                      "deal_stage_history h JOIN deals d ON d.id = h.deal_id JOIN goals g ON g.id = $1 "
                      "WHERE h.to_stage = 'won' AND d.owner_rep_id IN (SELECT rep_id FROM goal_reps WHERE "
                      "goal_id = $1 AND ($3::text IS NULL OR team_id = $3)) AND h.at >= g.starts_at AND "
                      "h.at < to_timestamp($2::bigint / 1000.0)";
    if (!rv && results_sql) {
        PGresult *res = NULL;
        rv = q(db, "results", results_sql, 3, pa, &res, err, errlen);
        for (int i = 0; !rv && i < PQntuples(res); i++)
            goals_actuals_add_result(x, g->plan, PQgetvalue(res, i, 0), atoll(PQgetvalue(res, i, 1)),
                atoll(PQgetvalue(res, i, 2)));
        PQclear(res);
    }
    if (rv) {
        goals_actuals_destroy(x);
        return rv;
    }
    *out = x;
    return SP_OK;
}

/* Publishes one TaskCommand per catch-up item (key = task key) and waits
 * for every delivery report: SP_OK when the broker has them all, else
 * SP_EKAFKA with the reason in err. */
static sp_err catchups_publish(const goals_db_bus *b, const char *goal_id, const goals_review *r,
    int64_t at_ms, int *total, char *err, size_t errlen)
{
    goals_catchup *cu = NULL;
    size_t n = 0;
    bus_group *g = NULL;
    goals_catchup_cmd *cmd = malloc(sizeof *cmd);
    sp_err rv = cmd ? goals_review_catchups(r, &cu, &n) : SP_ENOMEM;
    if (!rv) rv = bus_group_new(&g);
    if (rv) {
        snprintf(err, errlen, "catch-ups: %s", sp_strerror(rv));
        goto done;
    }
    *total = (int)n;
    for (size_t i = 0; i < n && !rv; i++) {
        if ((rv = goals_catchup_command(&cu[i], goal_id, r->month, at_ms, cmd))) {
            snprintf(err, errlen, "catch-up %s: %s", cu[i].key, sp_strerror(rv));
            break;
        }
        size_t len = salespulse__v1__task_command__get_packed_size(&cmd->cmd);
        uint8_t *buf = malloc(len ? len : 1);
        if (!buf) {
            rv = SP_ENOMEM;
            snprintf(err, errlen, "out of memory");
            break;
        }
        salespulse__v1__task_command__pack(&cmd->cmd, buf);
        rv = bus_group_send(g, b->producer, b->topic, cu[i].key, strlen(cu[i].key), buf, len);
        free(buf);
        if (rv) snprintf(err, errlen, "Kafka: cannot queue catch-up %s: %s", cu[i].key, sp_strerror(rv));
    }
    /* wait even after a failure: nothing may be left queued unreported */
    char why[256] = "";
    int wv = bus_group_wait(g, b->wait_ms, why, sizeof why);
    if (!rv && wv) {
        rv = SP_EKAFKA;
        snprintf(err, errlen, "Kafka %s: catch-up task commands not delivered to %s: %s",
            b->bootstrap ? b->bootstrap : "", b->topic, why[0] ? why : sp_strerror(wv));
    }
done:
    bus_group_release(g);
    free(cu);
    free(cmd);
    return rv;
}

sp_err goals_db_review(sp_db *db, const goals_db_bus *bus, const char *templates, const char *id,
    const char *month, goals_db_minutes *out, char *err, size_t errlen)
{
    if (!db || !bus || !bus->producer || !bus->topic || !templates || !id || !month || !out) return SP_EINVAL;
    goals_db_goal g = {0};
    goals_actuals *x = NULL;
    goals_review *r = NULL;
    int64_t m0 = 0;
    char first[16], next[32];
    snprintf(first, sizeof first, "%.7s-01", month);
    if (strlen(month) != 7 || goals_db_date(first, &m0)) {
        snprintf(err, errlen, "month: must be YYYY-MM");
        return SP_EINVAL;
    }
    int y = atoi(month), m = atoi(month + 5);
    snprintf(next, sizeof next, "%04d-%02d-01", (m == 12 ? y + 1 : y) % 10000, m == 12 ? 1 : m % 12 + 1);
    int64_t next_ms = 0;
    goals_db_date(next, &next_ms);
    sp_err rv = goals_db_load(db, templates, id, &g, err, errlen);
    if (!rv) rv = goals_db_actuals(db, &g, next_ms, NULL, &x, err, errlen);
    if (!rv && (rv = goals_review_build(g.plan, x, g.tm, g.t, month, &r)))
        snprintf(err, errlen, "goal %s: no plan week starts in %s", id, month);
    if (!rv && ((rv = goals_review_markdown(r, &out->md)) || (rv = goals_review_json(r, &out->json))))
        snprintf(err, errlen, "out of memory");
    /* the catch-up commands first, the minutes only once the broker has them
     * all: a failed delivery leaves no minutes behind, and a rerun is harmless */
    if (!rv) rv = catchups_publish(bus, id, r, next_ms, &out->catch_ups, err, errlen);
    if (!rv) {
        char nb[16];
        snprintf(nb, sizeof nb, "%d", out->catch_ups);
        const char *pr[5] = {id, month, out->md, out->json, nb};
        rv = q(db, "minutes",
            "INSERT INTO goal_reviews (goal_id, month, minutes_md, minutes_json, catch_ups) "
            "VALUES ($1, $2, $3, $4::jsonb, $5::int) ON CONFLICT (goal_id, month) DO UPDATE SET "
            "minutes_md = EXCLUDED.minutes_md, minutes_json = EXCLUDED.minutes_json, catch_ups = "
            "EXCLUDED.catch_ups, written_at = now()",
            5, pr, NULL, err, errlen);
    }
    goals_review_destroy(r);
    goals_actuals_destroy(x);
    goals_db_goal_clear(&g);
    return rv;
}

sp_err goals_db_key_actions(sp_db *db, int64_t now_ms, long *n, char *err, size_t errlen)
{
    if (!db || !n) return SP_EINVAL;
    char now_s[24];
    snprintf(now_s, sizeof now_s, "%lld", (long long)now_ms);
    const char *p[1] = {now_s};
    PGresult *r = NULL;
    /* day numbers: 1970-01-01 (day 0) was a Thursday, so Monday..Friday is (day + 3) mod 7 < 5 */
    sp_err rv = q(db, "planned key actions",
        "WITH w AS (SELECT p.goal_id, p.rep_id, g.starts_at + p.week * interval '7 days' AS ws FROM goals g "
        "  JOIN goal_plans p ON p.goal_id = g.id AND p.action <> 'target' "
        "  WHERE g.starts_at + p.week * interval '7 days' <= to_timestamp($1::bigint / 1000.0) "
        "  AND g.starts_at + p.week * interval '7 days' > to_timestamp($1::bigint / 1000.0) - interval '35 "
        "days' "
        "  GROUP BY 1, 2, 3 HAVING sum(p.planned) > 0), "
        "d AS (SELECT w.*, floor(extract(epoch FROM w.ws) / 86400)::int + k AS day FROM w, "
        "generate_series(0, 6) k) "
        "INSERT INTO score_rep_actions (event_id, what, rep_id, day, occurred_at) "
        "SELECT 'goal-plan:' || goal_id || ':' || rep_id || ':' || day, 'planned', rep_id, day, ws FROM d "
        "WHERE (day + 3) % 7 < 5 ON CONFLICT DO NOTHING",
        1, p, &r, err, errlen);
    if (rv == SP_OK) *n = atol(PQcmdTuples(r));
    PQclear(r);
    return rv;
}
