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
#include "taskpool/goals_db.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_TEMPLATES "deploy/tenants/default/goal_templates"

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
    goals_spec spec = {a->industry, a->kind, a->target, a->from, a->weeks, a->scope_arg, a->basis, a->as_of};
    goals_db_goal g = {0};
    goals_db_status st;
    int rv = goals_db_plan(c->db, a->dir, &spec, &g, &st, NULL, c->err, sizeof c->err);
    if (!rv) {
        if (st == GOALS_DB_UNCHANGED)
            printf("goal %s unchanged (target %lld)\n", g.id, (long long)g.target);
        else if (st == GOALS_DB_REPLANNED)
            printf("goal %s re-planned from week %d: target %lld -> %lld\n", g.id, g.from_week + 1,
                (long long)g.old_target, (long long)g.target);
        print_plan(g.id, g.revision, g.plan, g.t);
    }
    goals_db_goal_clear(&g);
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
    goals_db_goal g = {0};
    goals_actuals *x = NULL;
    int64_t at = 0;
    int rv = SP_OK;
    if (goals_db_date(as_of, &at)) {
        snprintf(c->err, sizeof c->err, "--as-of: must be YYYY-MM-DD");
        return SP_EINVAL;
    }
    if ((rv = goals_db_load(c->db, dir, goal_id, &g, c->err, sizeof c->err))) goto done;
    if (at < g.start_ms) {
        snprintf(c->err, sizeof c->err, "goal %.200s starts after %s", goal_id, as_of);
        rv = SP_EINVAL;
        goto done;
    }
    int through = goals_plan_week_of(g.plan, at);
    if (through < 0) through = goals_plan_n_weeks(g.plan) - 1;
    if ((rv = goals_db_actuals(c->db, &g, at + 86400000LL, NULL, &x, c->err, sizeof c->err))) goto done;
    const goals_plan *plan = g.plan;
    printf("goal %s health as of %s (plan weeks 1-%d)\n", goal_id, as_of, through + 1);
    printf("%-8s %-12s %5s %7s %7s  %s\n", "level", "id", "score", "done", "passed",
        "most behind (passed/planned)");
    print_health(plan, x, g.tm, g.t, GOALS_SCOPE_COMPANY, "company", NULL, through);
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
            if (!seen) print_health(plan, x, g.tm, g.t, levels[l].scope, levels[l].name, id, through);
        }
done:
    goals_actuals_destroy(x);
    goals_db_goal_clear(&g);
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

static int review_goal(gctx *c, const char *goal_id, const char *month, const char *dir, const char *out_dir)
{
    goals_db_bus bus = {c->producer, c->topic, c->bootstrap, c->wait_ms};
    goals_db_minutes m = {0};
    int rv = goals_db_review(c->db, &bus, dir, goal_id, month, &m, c->err, sizeof c->err);
    if (!rv && out_dir) {
        char name[512], safe[256];
        snprintf(safe, sizeof safe, "%s", goal_id);
        for (char *s = safe; *s; s++)
            if (*s == ':' || *s == '/') *s = '_';
        snprintf(name, sizeof name, "review-%s-%s.md", month, safe);
        rv = write_file(c, out_dir, name, m.md);
        snprintf(name, sizeof name, "review-%s-%s.json", month, safe);
        if (!rv) rv = write_file(c, out_dir, name, m.json);
    }
    if (!rv)
        printf("review %s %s: %d catch-up task command(s) delivered to %s\n", month, goal_id, m.catch_ups,
            c->topic);
    goals_db_minutes_clear(&m);
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
        || goals_db_date((snprintf(mstart, sizeof mstart, "%s-01", month), mstart), &(int64_t) {0})) {
        fprintf(stderr, "spctl review: --month YYYY-MM is required\n%s", usage);
        return 2;
    }
    gctx c = {.bootstrap = cfg->kafka_bootstrap, .topic = cfg->commands_topic, .wait_ms = 40000};
    PGresult *goals = NULL;
    int rv = sp_db_open(cfg->pg_url, &c.db);
    if (rv) dberr(&c, "database");
    char kerr[256] = "";
    /* the delivery reports come within message.timeout.ms (30 s unless
     * SP_RDKAFKA_MESSAGE_TIMEOUT_MS says otherwise) */
    if (!rv && (rv = bus_producer_new(cfg->kafka_bootstrap, "spctl-review", &c.producer, kerr, sizeof kerr)))
        snprintf(c.err, sizeof c.err, "Kafka %s: %s", cfg->kafka_bootstrap, kerr);
    const char *p[2] = {mstart, goal};
    if (!rv
        && (rv = sp_db_exec(c.db,
                "SELECT id FROM goals "
                "WHERE ($2::text IS NULL OR id = $2) AND starts_at < $1::date + interval '1 month' "
                "AND starts_at + weeks * interval '7 days' > $1::date ORDER BY id",
                2, p, &goals)))
        dberr(&c, "goals");
    if (!rv && PQntuples(goals) == 0) {
        snprintf(c.err, sizeof c.err, "no goal %s%sruns in %s", goal ? goal : "", goal ? " " : "", month);
        rv = SP_ENOTFOUND;
    }
    for (int i = 0; !rv && i < PQntuples(goals); i++)
        rv = review_goal(&c, PQgetvalue(goals, i, 0), month, dir, out);
    PQclear(goals);
    bus_producer_destroy(c.producer);
    sp_db_destroy(c.db);
    if (rv) {
        fprintf(stderr, "spctl review: %s\n", c.err);
        return rv == SP_EINVAL || rv == SP_ECONFIG || rv == SP_ENOTFOUND ? 2 : 1;
    }
    return 0;
}
