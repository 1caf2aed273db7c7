/* spctl goals plan / spctl review month: the goal decomposition and the
 * monthly action-attribution review (docs/goals.md) against PostgreSQL.
 *
 * `goals plan` stores a goal, its reps and its plan cells (deploy/sql/0009);
 * run again with another --target it re-plans the weeks not yet past as of
 * --as-of (weeks that started before it keep their plan); with the same
 * target it changes nothing. `review month` rebuilds each goal's plan from
 * the stored cells, counts the reps' activities from `interactions`
 * (activity_kind, quality_passed as judged by sp-enrich), writes the minutes
 * (goal_reviews, and files with --out) and publishes one catch-up
 * TaskCommand per rep with a cause to sp.tasks.commands.v1 (task key
 * task:goal.catch_up:rep:<id>:<yyyymm>, deterministic event id: sp-taskpool
 * drops a rerun's commands as duplicates), waiting for every delivery report;
 * the minutes commit only after that. */
#include "spctl/spctl.h"

#include "bus.h"
#include "db.h"
#include "err.h"
#include "taskpool/goals_catchup.h"
#include "taskpool/goals_review.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_TEMPLATES "deploy/tenants/default/goal_templates"
#define WEEK_MS           (7LL * 86400 * 1000)

typedef struct gctx {
    sp_db *db;
    bus_producer *producer; /* review month: catch-up task commands */
    const char *bootstrap, *topic;
    int wait_ms; /* for the delivery reports */
    char err[1024];
} gctx;

static int dberr(gctx *c, const char *what)
{
    snprintf(c->err, sizeof c->err, "%s: %s", what, sp_db_errmsg(c->db));
    return SP_EDB;
}

static int q(gctx *c, const char *what, const char *sql, int n, const char *const *p, PGresult **res)
{
    int rv = sp_db_exec(c->db, sql, n, p, res);
    if (rv != SP_OK) dberr(c, what);
    return rv;
}

/* "YYYY-MM-DD" -> ms since epoch at 00:00 UTC; -1 when malformed. */
static int64_t parse_date(const char *s)
{
    struct tm tm = {0};
    if (!s || strlen(s) != 10) return -1;
    char *end = strptime(s, "%Y-%m-%d", &tm);
    if (!end || *end) return -1;
    return (int64_t)timegm(&tm) * 1000;
}

static int load_template(gctx *c, const char *dir, const char *industry, const char *kind,
    goals_template **tm, const goals_target **t)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.json", dir, industry);
    if (goals_template_load(path, tm, c->err, sizeof c->err)) return SP_EINVAL;
    *t = goals_template_target(*tm, kind);
    if (!*t) {
        snprintf(c->err, sizeof c->err, "%s: no target kind \"%.128s\"", path, kind);
        return SP_EINVAL;
    }
    return SP_OK;
}

/* The reps of a result set (id, team, region, capacity, history), strings owned by res. */
static int reps_of(gctx *c, PGresult *res, goals_rep **out, size_t *n)
{
    size_t m = (size_t)PQntuples(res);
    goals_rep *r = calloc(m ? m : 1, sizeof *r);
    if (!r) {
        snprintf(c->err, sizeof c->err, "out of memory");
        return SP_ENOMEM;
    }
    for (size_t i = 0; i < m; i++)
        r[i] = (goals_rep) {PQgetvalue(res, (int)i, 0), PQgetvalue(res, (int)i, 1),
            PQgetvalue(res, (int)i, 2), atof(PQgetvalue(res, (int)i, 3)), atof(PQgetvalue(res, (int)i, 4))};
    *out = r;
    *n = m;
    return SP_OK;
}

/* Rebuilds a stored goal's plan: its reps and weights from goal_reps, every
 * cell from goal_plans (cells not stored are 0). */
static int plan_restore(gctx *c, const char *goal_id, const goals_target *t, int64_t target, int64_t start_ms,
    int weeks, goals_plan **out)
{
    const char *p[1] = {goal_id};
    PGresult *rr = NULL, *cells = NULL;
    goals_rep *reps = NULL;
    size_t n = 0;
    goals_plan *plan = NULL;
    int rv = q(c, "goal reps",
        "SELECT rep_id, team_id, region_id, 1, weight FROM goal_reps WHERE goal_id = $1 ORDER BY rep_id", 1,
        p, &rr);
    if (rv) goto fail;
    if ((rv = reps_of(c, rr, &reps, &n))) goto fail;
    goals_goal g = {GOALS_SCOPE_COMPANY, NULL, target, start_ms, weeks, GOALS_BASIS_HISTORY, NULL};
    if ((rv = goals_plan_build(t, reps, n, &g, &plan, c->err, sizeof c->err))) goto fail;
    for (size_t r = 0; r < n; r++)
        for (int w = 0; w < weeks; w++)
            for (int a = -1; a < GOALS_ACTION_COUNT; a++)
                goals_plan_set_cell(plan, r, w, a, 0);
    if ((rv = q(c, "goal plan", "SELECT rep_id, week, action, planned FROM goal_plans WHERE goal_id = $1", 1,
             p, &cells)))
        goto fail;
    for (int i = 0; i < PQntuples(cells); i++) {
        int r = goals_plan_rep_index(plan, PQgetvalue(cells, i, 0));
        const char *an = PQgetvalue(cells, i, 2);
        int a = strcmp(an, "target") ? goals_action_parse(an) : -1;
        if (r < 0 || (a < 0 && strcmp(an, "target"))
            || goals_plan_set_cell(
                plan, (size_t)r, atoi(PQgetvalue(cells, i, 1)), a, atoll(PQgetvalue(cells, i, 3)))) {
            snprintf(c->err, sizeof c->err, "goal %s: stored cell %s/%s/%s does not fit the plan", goal_id,
                PQgetvalue(cells, i, 0), PQgetvalue(cells, i, 1), an);
            rv = SP_EINVAL;
            goto fail;
        }
    }
    *out = plan;
    plan = NULL;
fail:
    goals_plan_destroy(plan);
    free(reps);
    PQclear(rr);
    PQclear(cells);
    return rv;
}

/* Writes the cells of weeks >= w0 (non-zero only). */
static int cells_store(gctx *c, const char *goal_id, const goals_plan *p, int w0)
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
    int rv = q(c, "clear plan", "DELETE FROM goal_plans WHERE goal_id = $1 AND week >= $2::int", 2, p1, NULL);
    const char *p2[2] = {goal_id, js};
    if (!rv)
        rv = q(c, "store plan",
            "INSERT INTO goal_plans (goal_id, rep_id, team_id, region_id, week, action, planned) "
            "SELECT $1, x.rep_id, x.team_id, x.region_id, x.week, x.action, x.planned "
            "FROM jsonb_to_recordset($2::jsonb) AS x(rep_id text, team_id text, region_id text, week int, "
            "action text, "
            "planned bigint)",
            2, p2, NULL);
    free(js);
    return rv;
}

static void print_plan(const char *goal_id, int revision, const goals_plan *p, const goals_target *t)
{
    printf("goal %s (revision %d): target %lld %s over %d weeks, %zu reps\n", goal_id, revision,
        (long long)goals_plan_target(p), t->unit, goals_plan_n_weeks(p), goals_plan_n_reps(p));
    for (int a = 0; a < GOALS_ACTION_COUNT; a++) {
        if (!t->action[a].used) continue;
        printf("  %-16s %6lld  (week 1: %lld, last week: %lld)\n", goals_action_name((goals_action)a),
            (long long)goals_plan_sum(p, GOALS_SCOPE_COMPANY, NULL, 0, goals_plan_n_weeks(p), a),
            (long long)goals_plan_sum(p, GOALS_SCOPE_COMPANY, NULL, 0, 1, a),
            (long long)goals_plan_sum(
                p, GOALS_SCOPE_COMPANY, NULL, goals_plan_n_weeks(p) - 1, goals_plan_n_weeks(p), a));
    }
}

typedef struct plan_args {
    const char *industry, *kind, *from, *scope_arg, *basis, *as_of, *dir;
    long long target;
    int weeks;
} plan_args;

static int goals_plan_cmd(gctx *c, const plan_args *a)
{
    goals_template *tm = NULL;
    const goals_target *t = NULL;
    goals_plan *plan = NULL;
    goals_rep *reps = NULL;
    PGresult *res = NULL, *g = NULL;
    size_t n = 0;
    int rv = load_template(c, a->dir, a->industry, a->kind, &tm, &t);
    if (rv) goto done;
    int64_t start = parse_date(a->from), as_of = a->as_of ? parse_date(a->as_of) : start;
    if (start < 0 || as_of < 0) {
        snprintf(c->err, sizeof c->err, "--from/--as-of: must be YYYY-MM-DD");
        rv = SP_EINVAL;
        goto done;
    }
    goals_scope scope = GOALS_SCOPE_COMPANY;
    const char *sid = "";
    if (!strncmp(a->scope_arg, "region:", 7))
        scope = GOALS_SCOPE_REGION, sid = a->scope_arg + 7;
    else if (!strncmp(a->scope_arg, "team:", 5))
        scope = GOALS_SCOPE_TEAM, sid = a->scope_arg + 5;
    else if (strcmp(a->scope_arg, "company")) {
        snprintf(c->err, sizeof c->err, "--scope: must be company, region:ID or team:ID");
        rv = SP_EINVAL;
        goto done;
    }
    goals_basis basis = !strcmp(a->basis, "history") ? GOALS_BASIS_HISTORY : GOALS_BASIS_CAPACITY;
    const char *scope_name = scope == GOALS_SCOPE_REGION ? "region"
        : scope == GOALS_SCOPE_TEAM                      ? "team"
                                                         : "company";
    char goal_id[256], tbuf[32], wbuf[16], sbuf[32];
    snprintf(goal_id, sizeof goal_id, "goal:%s:%s:%s:%s", a->kind, scope_name, *sid ? sid : "all", a->from);
    snprintf(tbuf, sizeof tbuf, "%lld", a->target);
    snprintf(wbuf, sizeof wbuf, "%d", a->weeks);
    snprintf(sbuf, sizeof sbuf, "%lld", (long long)start);
    if ((rv = sp_db_begin(c->db))) {
        dberr(c, "begin");
        goto done;
    }
    const char *pg[1] = {goal_id};
    if ((rv = q(c, "goal", "SELECT target, weeks, revision, industry FROM goals WHERE id = $1 FOR UPDATE", 1,
             pg, &g)))
        goto rollback;
    if (PQntuples(g) == 0) {
        /* a new goal: the active reps from the org chart; history = quality-passed activities in the
         * same number of weeks before the start */
        const char *pr[2] = {sbuf, wbuf};
        if ((rv = q(c, "reps",
                 "SELECT p.id, p.team_id, coalesce(p.region_id, t.region_id), 1, "
                 "(SELECT count(*) FROM interactions i WHERE i.rep_id = p.id AND i.quality_passed "
                 "  AND i.occurred_at >= to_timestamp($1::bigint/1000.0) - $2::int * interval '7 days' "
                 "  AND i.occurred_at < to_timestamp($1::bigint/1000.0)) "
                 "FROM people p JOIN teams t ON t.id = p.team_id WHERE p.role = 'rep' AND p.active ORDER BY "
                 "p.id",
                 2, pr, &res)))
            goto rollback;
        if ((rv = reps_of(c, res, &reps, &n))) goto rollback;
        goals_goal goal = {scope, sid, a->target, start, a->weeks, basis, NULL};
        if ((rv = goals_plan_build(t, reps, n, &goal, &plan, c->err, sizeof c->err))) goto rollback;
        const char *pi[8] = {goal_id, tm->industry, a->kind, scope_name, sid, tbuf, sbuf, wbuf};
        const char *pb[9] = {pi[0], pi[1], pi[2], pi[3], pi[4], pi[5], pi[6], pi[7], a->basis};
        if ((rv = q(c, "insert goal",
                 "INSERT INTO goals (id, industry, kind, scope, scope_id, target, starts_at, weeks, basis) "
                 "VALUES ($1, $2, $3, $4, $5, $6::bigint, to_timestamp($7::bigint/1000.0), $8::int, $9)",
                 9, pb, NULL)))
            goto rollback;
        for (size_t r = 0; r < goals_plan_n_reps(plan); r++) {
            char w[32];
            int k = -1;
            for (size_t i = 0; i < n; i++)
                if (!strcmp(reps[i].id, goals_plan_rep_id(plan, r))) k = (int)i;
            snprintf(w, sizeof w, "%.6f", basis == GOALS_BASIS_HISTORY ? reps[k].history : reps[k].capacity);
            const char *pr2[5] = {goal_id, goals_plan_rep_id(plan, r), goals_plan_rep_team(plan, r),
                goals_plan_rep_region(plan, r), w};
            if ((rv = q(c, "goal reps",
                     "INSERT INTO goal_reps (goal_id, rep_id, team_id, region_id, weight) VALUES "
                     "($1,$2,$3,$4,$5::float8)",
                     5, pr2, NULL)))
                goto rollback;
        }
        if ((rv = cells_store(c, goal_id, plan, 0))) goto rollback;
        if ((rv = sp_db_commit(c->db))) {
            dberr(c, "commit");
            goto done;
        }
        print_plan(goal_id, 1, plan, t);
        goto done;
    }
    /* an existing goal: same target = nothing to do; another target = re-plan the weeks not yet past */
    long long old = atoll(PQgetvalue(g, 0, 0));
    int weeks = atoi(PQgetvalue(g, 0, 1)), revision = atoi(PQgetvalue(g, 0, 2));
    if (weeks != a->weeks || strcmp(PQgetvalue(g, 0, 3), tm->industry)) {
        snprintf(c->err, sizeof c->err,
            "goal %s exists with %d weeks and template %s: --weeks/--template must match", goal_id, weeks,
            PQgetvalue(g, 0, 3));
        rv = SP_EINVAL;
        goto rollback;
    }
    if ((rv = plan_restore(c, goal_id, t, old, start, weeks, &plan))) goto rollback;
    if (old == a->target) {
        sp_db_rollback(c->db);
        printf("goal %s unchanged (target %lld)\n", goal_id, old);
        print_plan(goal_id, revision, plan, t);
        goto done;
    }
    int from_week = as_of <= start ? 0 : (int)((as_of - start + WEEK_MS - 1) / WEEK_MS);
    if (from_week >= weeks) {
        snprintf(c->err, sizeof c->err, "goal %s: every week is past as of %s; nothing to re-plan", goal_id,
            a->as_of ? a->as_of : a->from);
        rv = SP_EINVAL;
        goto rollback;
    }
    if ((rv = goals_plan_replan(plan, t, a->target, from_week))) {
        snprintf(c->err, sizeof c->err, "goal %s: re-plan failed: %s", goal_id, sp_strerror(rv));
        goto rollback;
    }
    if ((rv = cells_store(c, goal_id, plan, from_week))) goto rollback;
    if ((rv = q(c, "update goal",
             "UPDATE goals SET target = $2::bigint, revision = revision + 1, updated_at = now() WHERE id = "
             "$1",
             2, (const char *const[]) {goal_id, tbuf}, NULL)))
        goto rollback;
    if ((rv = sp_db_commit(c->db))) {
        dberr(c, "commit");
        goto done;
    }
    printf("goal %s re-planned from week %d: target %lld -> %lld\n", goal_id, from_week + 1, old, a->target);
    print_plan(goal_id, revision + 1, plan, t);
    goto done;
rollback:
    sp_db_rollback(c->db);
done:
    PQclear(res);
    PQclear(g);
    free(reps);
    goals_plan_destroy(plan);
    goals_template_destroy(tm);
    return rv;
}

/* Counts the goal reps' activities (quality as judged by sp-enrich) and
 * results from the goal's start up to `end` (a date, exclusive). */
static int load_actuals(gctx *c, const char *goal_id, const char *kind, const goals_target *t,
    const goals_plan *plan, goals_actuals *x, const char *end)
{
    const char *pa[2] = {goal_id, end};
    PGresult *acts = NULL;
    int rv = q(c, "activities",
        "SELECT i.rep_id, i.activity_kind, (extract(epoch FROM i.occurred_at) * 1000)::bigint, "
        "coalesce(i.quality_passed, false) FROM interactions i JOIN goals g ON g.id = $1 "
        "WHERE i.rep_id IN (SELECT rep_id FROM goal_reps WHERE goal_id = $1) AND i.activity_kind IS NOT NULL "
        "AND i.occurred_at >= g.starts_at AND i.occurred_at < $2::date",
        2, pa, &acts);
    for (int i = 0; !rv && i < PQntuples(acts); i++) {
        int a = goals_action_parse(PQgetvalue(acts, i, 1));
        if (a < 0) continue;
        goals_actuals_add_judged(x, plan, t, PQgetvalue(acts, i, 0), (goals_action)a,
            atoll(PQgetvalue(acts, i, 2)), PQgetvalue(acts, i, 3)[0] == 't', NULL);
    }
    PQclear(acts);
    /* results: new A-class customers by owner and creation time; signed revenue by deals moved to won */
    const char *results_sql = NULL;
    if (!strcmp(kind, "new_a_class_customers"))
        results_sql
            = "SELECT c.owner_rep_id, (extract(epoch FROM c.created_at) * 1000)::bigint, 1 FROM customers c "
              "JOIN goals g ON g.id = $1 WHERE c.class = 'A' AND c.merged_into IS NULL "
              "AND c.owner_rep_id IN (SELECT rep_id FROM goal_reps WHERE goal_id = $1) "
              "AND c.created_at >= g.starts_at AND c.created_at < $2::date";
    else if (!strcmp(kind, "signed_revenue"))
        results_sql = "SELECT d.owner_rep_id, (extract(epoch FROM h.at) * 1000)::bigint, d.amount FROM "
                      "deal_stage_history h JOIN deals d ON d.id = h.deal_id JOIN goals g ON g.id = $1 "
                      "WHERE h.to_stage = 'won' AND d.owner_rep_id IN (SELECT rep_id FROM goal_reps WHERE "
                      "goal_id = $1) "
                      "AND h.at >= g.starts_at AND h.at < $2::date";
    if (!rv && results_sql) {
        PGresult *res = NULL;
        rv = q(c, "results", results_sql, 2, pa, &res);
        for (int i = 0; !rv && i < PQntuples(res); i++)
            goals_actuals_add_result(
                x, plan, PQgetvalue(res, i, 0), atoll(PQgetvalue(res, i, 1)), atoll(PQgetvalue(res, i, 2)));
        PQclear(res);
    }
    return rv;
}

/* --- goals health ------------------------------------------------------- */

static void print_health(const goals_plan *p, const goals_actuals *x, const goals_template *tm,
    const goals_target *t, goals_scope scope, const char *level, const char *id, int through)
{
    goals_health h;
    if (goals_health_compute(p, x, tm, t, scope, id, through, &h)) return;
    printf("%-8s %-12s %5d %6.0f%% %6.0f%%  ", level, id ? id : "all", h.score, 100 * h.completion,
        100 * h.pass_rate);
    if (h.n_behind == 0) printf("-");
    for (size_t i = 0; i < h.n_behind; i++)
        printf("%s%s %lld/%lld", i ? ", " : "", goals_action_name(h.behind[i].action),
            (long long)h.behind[i].passed, (long long)h.behind[i].planned);
    printf("\n");
}

/* Goal health of the company, every region, team and rep through the week of as_of. */
static int goals_health_cmd(gctx *c, const char *goal_id, const char *as_of, const char *dir)
{
    goals_template *tm = NULL;
    const goals_target *t = NULL;
    goals_plan *plan = NULL;
    goals_actuals *x = NULL;
    PGresult *g = NULL;
    const char *p[1] = {goal_id};
    int64_t at = parse_date(as_of);
    int rv = SP_OK;
    if (at < 0) {
        snprintf(c->err, sizeof c->err, "--as-of: must be YYYY-MM-DD");
        return SP_EINVAL;
    }
    if ((rv = q(c, "goal",
             "SELECT industry, kind, target, (extract(epoch FROM starts_at) * 1000)::bigint, weeks FROM "
             "goals "
             "WHERE id = $1",
             1, p, &g)))
        goto done;
    if (PQntuples(g) == 0) {
        snprintf(c->err, sizeof c->err, "no goal %.200s", goal_id);
        rv = SP_ENOTFOUND;
        goto done;
    }
    if ((rv = load_template(c, dir, PQgetvalue(g, 0, 0), PQgetvalue(g, 0, 1), &tm, &t))) goto done;
    if ((rv = plan_restore(c, goal_id, t, atoll(PQgetvalue(g, 0, 2)), atoll(PQgetvalue(g, 0, 3)),
             atoi(PQgetvalue(g, 0, 4)), &plan)))
        goto done;
    if ((rv = goals_actuals_new(plan, &x))) goto done;
    if (at < goals_plan_start_ms(plan)) {
        snprintf(c->err, sizeof c->err, "goal %.200s starts after %s", goal_id, as_of);
        rv = SP_EINVAL;
        goto done;
    }
    int through = goals_plan_week_of(plan, at);
    if (through < 0) through = goals_plan_n_weeks(plan) - 1;
    char end[32];
    time_t next = (time_t)(at / 1000 + 86400);
    struct tm tmv;
    gmtime_r(&next, &tmv);
    strftime(end, sizeof end, "%Y-%m-%d", &tmv);
    if ((rv = load_actuals(c, goal_id, PQgetvalue(g, 0, 1), t, plan, x, end))) goto done;
    printf("goal %s health as of %s (plan weeks 1-%d)\n", goal_id, as_of, through + 1);
    printf("%-8s %-12s %5s %7s %7s  %s\n", "level", "id", "score", "done", "passed",
        "most behind (passed/planned)");
    print_health(plan, x, tm, t, GOALS_SCOPE_COMPANY, "company", NULL, through);
    static const struct {
        goals_scope scope;
        const char *name;
    } levels[] = {{GOALS_SCOPE_REGION, "region"}, {GOALS_SCOPE_TEAM, "team"}, {GOALS_SCOPE_REP, "rep"}};
    for (size_t l = 0; l < 3; l++)
        for (size_t r = 0; r < goals_plan_n_reps(plan); r++) {
            const char *id = levels[l].scope == GOALS_SCOPE_REGION ? goals_plan_rep_region(plan, r)
                : levels[l].scope == GOALS_SCOPE_TEAM              ? goals_plan_rep_team(plan, r)
                                                                   : goals_plan_rep_id(plan, r);
            int seen = 0;
            for (size_t k = 0; k < r && levels[l].scope != GOALS_SCOPE_REP; k++)
                if (!strcmp(id,
                        levels[l].scope == GOALS_SCOPE_REGION ? goals_plan_rep_region(plan, k)
                                                              : goals_plan_rep_team(plan, k)))
                    seen = 1;
            if (!seen) print_health(plan, x, tm, t, levels[l].scope, levels[l].name, id, through);
        }
done:
    PQclear(g);
    goals_actuals_destroy(x);
    goals_plan_destroy(plan);
    goals_template_destroy(tm);
    return rv;
}

/* spctl goals plan --template T --kind K --target N --from DATE [--weeks 13] [--scope
 * company|region:ID|team:ID]
 *   [--basis capacity|history] [--as-of DATE] [--templates DIR] */
int spctl_goals(const struct spctl_cfg *cfg, int argc, char **argv)
{
    static const char *usage
        = "usage: spctl goals plan --template INDUSTRY --kind KIND --target N --from YYYY-MM-DD "
          "[--weeks 13] [--scope company|region:ID|team:ID] [--basis capacity|history] "
          "[--as-of YYYY-MM-DD] [--templates DIR]\n"
          "       spctl goals health --goal ID --as-of YYYY-MM-DD [--templates DIR]\n";
    plan_args a
        = {NULL, "new_a_class_customers", NULL, "company", "capacity", NULL, DEFAULT_TEMPLATES, -1, 13};
    if (argc >= 2 && !strcmp(argv[1], "health")) {
        const char *goal = NULL, *as_of = NULL, *dir = DEFAULT_TEMPLATES;
        for (int i = 2; i < argc; i++) {
            const char *v = i + 1 < argc ? argv[i + 1] : NULL;
            if (v && !strcmp(argv[i], "--goal"))
                goal = v;
            else if (v && !strcmp(argv[i], "--as-of"))
                as_of = v;
            else if (v && !strcmp(argv[i], "--templates"))
                dir = v;
            else {
                fprintf(stderr, "spctl goals: bad argument \"%s\"\n%s", argv[i], usage);
                return 2;
            }
            i++;
        }
        if (!goal || !as_of) {
            fprintf(stderr, "spctl goals health: --goal and --as-of are required\n%s", usage);
            return 2;
        }
        gctx c = {0};
        int rv = sp_db_open(cfg->pg_url, &c.db);
        if (rv)
            dberr(&c, "database");
        else
            rv = goals_health_cmd(&c, goal, as_of, dir);
        sp_db_destroy(c.db);
        if (rv) {
            fprintf(stderr, "spctl goals: %s\n", c.err);
            return rv == SP_EINVAL || rv == SP_ECONFIG || rv == SP_ENOTFOUND ? 2 : 1;
        }
        return 0;
    }
    if (argc < 2 || strcmp(argv[1], "plan")) {
        fputs(usage, stderr);
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) goto bad;
        if (!strcmp(argv[i], "--template"))
            a.industry = v;
        else if (!strcmp(argv[i], "--kind"))
            a.kind = v;
        else if (!strcmp(argv[i], "--target"))
            a.target = strtoll(v, NULL, 10);
        else if (!strcmp(argv[i], "--from"))
            a.from = v;
        else if (!strcmp(argv[i], "--weeks"))
            a.weeks = atoi(v);
        else if (!strcmp(argv[i], "--scope"))
            a.scope_arg = v;
        else if (!strcmp(argv[i], "--basis"))
            a.basis = v;
        else if (!strcmp(argv[i], "--as-of"))
            a.as_of = v;
        else if (!strcmp(argv[i], "--templates"))
            a.dir = v;
        else
            goto bad;
        i++;
        continue;
    bad:
        fprintf(stderr, "spctl goals: bad argument \"%s\"\n%s", argv[i], usage);
        return 2;
    }
    if (!a.industry || !a.from || a.target < 0 || a.weeks < 1 || a.weeks > GOALS_MAX_WEEKS
        || (strcmp(a.basis, "capacity") && strcmp(a.basis, "history"))) {
        fprintf(stderr,
            "spctl goals: --template, --from and --target >= 0 are required; --weeks 1..%d; --basis "
            "capacity|history\n%s",
            GOALS_MAX_WEEKS, usage);
        return 2;
    }
    gctx c = {0};
    int rv = sp_db_open(cfg->pg_url, &c.db);
    if (rv)
        dberr(&c, "database");
    else
        rv = goals_plan_cmd(&c, &a);
    sp_db_destroy(c.db);
    if (rv) {
        fprintf(stderr, "spctl goals: %s\n", c.err);
        return rv == SP_EINVAL || rv == SP_ECONFIG ? 2 : 1;
    }
    return 0;
}

/* --- review month -------------------------------------------------------- */

static int write_file(gctx *c, const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        snprintf(c->err, sizeof c->err, "%s: cannot write", path);
        return SP_EIO;
    }
    return SP_OK;
}

/* Publishes one TaskCommand per catch-up item to the task-commands topic
 * (key = task key) and waits for every delivery report: SP_OK when the
 * broker has them all, else SP_EKAFKA with the reason in c->err. sp-taskpool
 * applies them like routed commands; a rerun publishes the same commands,
 * which it drops as duplicates. */
static int catchups_publish(gctx *c, const char *goal_id, const goals_review *r, int64_t at_ms, int *total)
{
    goals_catchup *cu = NULL;
    size_t n = 0;
    bus_group *g = NULL;
    goals_catchup_cmd *cmd = malloc(sizeof *cmd);
    int rv = cmd ? goals_review_catchups(r, &cu, &n) : SP_ENOMEM;
    if (!rv) rv = bus_group_new(&g);
    if (rv) {
        snprintf(c->err, sizeof c->err, "catch-ups: %s", sp_strerror(rv));
        goto done;
    }
    *total = (int)n;
    for (size_t i = 0; i < n && !rv; i++) {
        if ((rv = goals_catchup_command(&cu[i], goal_id, r->month, at_ms, cmd))) {
            snprintf(c->err, sizeof c->err, "catch-up %s: %s", cu[i].key, sp_strerror(rv));
            break;
        }
        size_t len = salespulse__v1__task_command__get_packed_size(&cmd->cmd);
        uint8_t *buf = malloc(len ? len : 1);
        if (!buf) {
            rv = SP_ENOMEM;
            snprintf(c->err, sizeof c->err, "out of memory");
            break;
        }
        salespulse__v1__task_command__pack(&cmd->cmd, buf);
        rv = bus_group_send(g, c->producer, c->topic, cu[i].key, strlen(cu[i].key), buf, len);
        free(buf);
        if (rv)
            snprintf(
                c->err, sizeof c->err, "Kafka: cannot queue catch-up %s: %s", cu[i].key, sp_strerror(rv));
    }
    /* wait even after a failure: nothing may be left queued unreported */
    char why[256] = "";
    int wv = bus_group_wait(g, c->wait_ms, why, sizeof why);
    if (!rv && wv) {
        rv = SP_EKAFKA;
        snprintf(c->err, sizeof c->err, "Kafka %s: catch-up task commands not delivered to %s: %s",
            c->bootstrap, c->topic, why[0] ? why : sp_strerror(wv));
    }
done:
    bus_group_release(g);
    free(cu);
    free(cmd);
    return rv;
}

static int review_goal(
    gctx *c, PGresult *goals, int row, const char *month, const char *dir, const char *out_dir)
{
    const char *goal_id = PQgetvalue(goals, row, 0), *industry = PQgetvalue(goals, row, 1),
               *kind = PQgetvalue(goals, row, 2);
    int64_t target = atoll(PQgetvalue(goals, row, 3)), start = atoll(PQgetvalue(goals, row, 4));
    int weeks = atoi(PQgetvalue(goals, row, 5));
    goals_template *tm = NULL;
    const goals_target *t = NULL;
    goals_plan *plan = NULL;
    goals_actuals *x = NULL;
    goals_review *r = NULL;
    char *md = NULL, *js = NULL;
    int rv = load_template(c, dir, industry, kind, &tm, &t);
    if (!rv) rv = plan_restore(c, goal_id, t, target, start, weeks, &plan);
    if (!rv && (rv = goals_actuals_new(plan, &x))) snprintf(c->err, sizeof c->err, "out of memory");
    char next[32];
    int y = atoi(month) % 10000, m = atoi(month + 5) % 100;
    snprintf(next, sizeof next, "%04d-%02d-01", m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1);
    if (!rv) rv = load_actuals(c, goal_id, kind, t, plan, x, next);
    if (!rv && (rv = goals_review_build(plan, x, tm, t, month, &r)))
        snprintf(c->err, sizeof c->err, "goal %s: no plan week starts in %s", goal_id, month);
    if (!rv && ((rv = goals_review_markdown(r, &md)) || (rv = goals_review_json(r, &js))))
        snprintf(c->err, sizeof c->err, "out of memory");
    /* the catch-up commands first, the minutes only once the broker has them
     * all: a failed delivery leaves no minutes behind, and a rerun is harmless */
    int total = 0;
    if (!rv) rv = catchups_publish(c, goal_id, r, parse_date(next), &total);
    if (!rv) {
        char nb[16];
        snprintf(nb, sizeof nb, "%d", total);
        const char *pr[5] = {goal_id, month, md, js, nb};
        rv = q(c, "minutes",
            "INSERT INTO goal_reviews (goal_id, month, minutes_md, minutes_json, catch_ups) "
            "VALUES ($1, $2, $3, $4::jsonb, $5::int) ON CONFLICT (goal_id, month) DO UPDATE SET "
            "minutes_md = EXCLUDED.minutes_md, minutes_json = EXCLUDED.minutes_json, catch_ups = "
            "EXCLUDED.catch_ups, written_at = now()",
            5, pr, NULL);
    }
    if (!rv && out_dir) {
        char name[512], safe[256];
        snprintf(safe, sizeof safe, "%s", goal_id);
        for (char *s = safe; *s; s++)
            if (*s == ':' || *s == '/') *s = '_';
        snprintf(name, sizeof name, "review-%s-%s.md", month, safe);
        rv = write_file(c, out_dir, name, md);
        snprintf(name, sizeof name, "review-%s-%s.json", month, safe);
        if (!rv) rv = write_file(c, out_dir, name, js);
    }
    if (!rv)
        printf(
            "review %s %s: %d catch-up task command(s) delivered to %s\n", month, goal_id, total, c->topic);
    free(md);
    free(js);
    goals_review_destroy(r);
    goals_actuals_destroy(x);
    goals_plan_destroy(plan);
    goals_template_destroy(tm);
    return rv;
}

/* spctl review month --month YYYY-MM [--goal ID] [--out DIR] [--templates DIR] */
int spctl_review(const struct spctl_cfg *cfg, int argc, char **argv)
{
    static const char *usage
        = "usage: spctl review month --month YYYY-MM [--goal ID] [--out DIR] [--templates DIR]\n";
    const char *month = NULL, *goal = NULL, *out = NULL, *dir = DEFAULT_TEMPLATES;
    if (argc < 2 || strcmp(argv[1], "month")) {
        fputs(usage, stderr);
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v && !strcmp(argv[i], "--month"))
            month = v;
        else if (v && !strcmp(argv[i], "--goal"))
            goal = v;
        else if (v && !strcmp(argv[i], "--out"))
            out = v;
        else if (v && !strcmp(argv[i], "--templates"))
            dir = v;
        else {
            fprintf(stderr, "spctl review: bad argument \"%s\"\n%s", argv[i], usage);
            return 2;
        }
        i++;
    }
    char mstart[16];
    if (!month || strlen(month) != 7
        || parse_date((snprintf(mstart, sizeof mstart, "%s-01", month), mstart)) < 0) {
        fprintf(stderr, "spctl review: --month YYYY-MM is required\n%s", usage);
        return 2;
    }
    gctx c = {.bootstrap = cfg->kafka_bootstrap, .topic = SP_TOPIC_TASK_COMMANDS, .wait_ms = 40000};
    PGresult *goals = NULL;
    int rv = sp_db_open(cfg->pg_url, &c.db);
    if (rv) dberr(&c, "database");
    char kerr[256] = "";
    /* the delivery reports come within message.timeout.ms (30 s unless
     * SP_RDKAFKA_MESSAGE_TIMEOUT_MS says otherwise) */
    if (!rv && (rv = bus_producer_new(cfg->kafka_bootstrap, "spctl-review", &c.producer, kerr, sizeof kerr)))
        snprintf(c.err, sizeof c.err, "Kafka %s: %s", cfg->kafka_bootstrap, kerr);
    const char *p[2] = {mstart, goal};
    if (!rv)
        rv = q(&c, "goals",
            "SELECT id, industry, kind, target, (extract(epoch FROM starts_at) * 1000)::bigint, weeks FROM "
            "goals "
            "WHERE ($2::text IS NULL OR id = $2) AND starts_at < $1::date + interval '1 month' "
            "AND starts_at + weeks * interval '7 days' > $1::date ORDER BY id",
            2, p, &goals);
    if (!rv && PQntuples(goals) == 0) {
        snprintf(c.err, sizeof c.err, "no goal %s%sruns in %s", goal ? goal : "", goal ? " " : "", month);
        rv = SP_ENOTFOUND;
    }
    for (int i = 0; !rv && i < PQntuples(goals); i++)
        rv = review_goal(&c, goals, i, month, dir, out);
    PQclear(goals);
    bus_producer_destroy(c.producer);
    sp_db_destroy(c.db);
    if (rv) {
        fprintf(stderr, "spctl review: %s\n", c.err);
        return rv == SP_EINVAL || rv == SP_ECONFIG || rv == SP_ENOTFOUND ? 2 : 1;
    }
    return 0;
}
