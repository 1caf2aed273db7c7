/* Goals against a real PostgreSQL (docs/goals.md): `spctl goals plan` stores a
 * quarter's plan for 3 regions / 6 teams / 40 reps that sums back to the
 * target; a rerun changes nothing; a goal for an unknown team is refused;
 * a higher target re-plans only the weeks not yet past; `spctl review month`
 * over simulated March activities names the withheld actions, writes the
 * minutes and inserts catch-up tasks, and a rerun inserts none. Uses a
 * database of its own. spctl from $SP_BIN_DIR (default build/bin). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "db.h"
#include "err.h"
#include "itest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *url;
static sp_db *db;
static char spctl[1024];

static long long q_int(const char *sql)
{
    PGresult *r = NULL;
    assert_int_equal(sp_db_exec(db, sql, 0, NULL, &r), SP_OK);
    long long v = PQntuples(r) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : -1;
    PQclear(r);
    return v;
}

static int run(const char *args)
{
    return itest_sh("SP_PG_URL='%s' '%s' %s >/dev/null 2>&1", url, spctl, args);
}

static int setup(void **state)
{
    (void)state;
    const char *base = itest_env("SP_PG_URL");
    if (itest_sql("DROP DATABASE IF EXISTS itest_goals") || itest_sql("CREATE DATABASE itest_goals"))
        return -1;
    const char *slash = strrchr(base, '/');
    url = malloc(strlen(base) + 16);
    sprintf(url, "%.*s/itest_goals", (int)(slash - base), base);
    const char *bin = getenv("SP_BIN_DIR");
    if (bin && *bin)
        snprintf(spctl, sizeof spctl, "%s/spctl", bin);
    else
        snprintf(spctl, sizeof spctl, "%s/build/bin/spctl", itest_env("SP_ROOT"));
    if (sp_db_open(url, &db)) return -1;
    char dir[1024], err[512];
    int applied = 0;
    snprintf(dir, sizeof dir, "%s/deploy/sql", itest_env("SP_ROOT"));
    if (sp_db_migrate(db, dir, &applied, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    /* 3 regions, 6 teams, 40 reps (7/7/7/7/7/5) */
    return sp_db_exec_script(db,
        "INSERT INTO regions (id, name) VALUES ('G1','East'), ('G2','South'), ('G3','North');"
        "INSERT INTO teams (id, name, region_id) SELECT 'T'||i, 'Team '||i, 'G'||((i+1)/2) FROM "
        "generate_series(1,6) i;"
        "INSERT INTO people (id, name, role, team_id, region_id) SELECT 'R'||lpad(i::text,2,'0'), 'Rep '||i, "
        "'rep', "
        "'T'||(1+(i-1)/7), 'G'||((1+(i-1)/7+1)/2) FROM generate_series(1,40) i;");
}

static int teardown(void **state)
{
    (void)state;
    sp_db_destroy(db);
    itest_sql("DROP DATABASE IF EXISTS itest_goals");
    free(url);
    return 0;
}

#define GOAL "goal:new_a_class_customers:company:all:2026-03-02"
#define PLAN "goals plan --template education --kind new_a_class_customers --from 2026-03-02 --weeks 13 "

static void test_plan_replan_review(void **state)
{
    (void)state;
    assert_int_equal(run(PLAN "--target 100"), 0);
    assert_int_equal(q_int("SELECT count(*) FROM goal_reps WHERE goal_id = '" GOAL "'"), 40);
    static const struct {
        const char *action;
        long long want;
    } totals[] = {{"target", 100}, {"touch", 200}, {"needs_diagnosis", 80}, {"proposal", 40}, {"demo", 30},
        {"executive_visit", 20}};
    char sql[512];
    for (size_t i = 0; i < sizeof totals / sizeof totals[0]; i++) {
        snprintf(
            sql, sizeof sql, "SELECT sum(planned) FROM goal_plans WHERE action = '%s'", totals[i].action);
        assert_int_equal(q_int(sql), totals[i].want);
    }
    /* every week: 200 touches over 13 weeks = 16 x 5 + 15 x 8 */
    assert_int_equal(
        q_int("SELECT count(*) FROM (SELECT week, sum(planned) s FROM goal_plans WHERE action = 'touch' "
              "GROUP BY week) w WHERE s = 16"),
        5);
    assert_int_equal(
        q_int("SELECT count(*) FROM (SELECT week, sum(planned) s FROM goal_plans WHERE action = 'touch' "
              "GROUP BY week) w WHERE s = 15"),
        8);
    /* the same command again changes nothing; an unknown team is refused */
    long long rev = q_int("SELECT revision FROM goals");
    assert_int_equal(run(PLAN "--target 100"), 0);
    assert_int_equal(q_int("SELECT revision FROM goals"), rev);
    assert_int_equal(run(PLAN "--target 10 --scope team:T9"), 2);
    assert_int_equal(q_int("SELECT count(*) FROM goals"), 1);

    /* re-plan as of April 1st: weeks 1-5 (started before) keep their plan */
    long long past
        = q_int("SELECT sum(planned * (week + 1) * length(rep_id || action)) FROM goal_plans WHERE week < 5");
    assert_int_equal(run(PLAN "--target 130 --as-of 2026-04-01"), 0);
    assert_int_equal(q_int("SELECT revision FROM goals"), rev + 1);
    assert_int_equal(
        q_int("SELECT sum(planned * (week + 1) * length(rep_id || action)) FROM goal_plans WHERE week < 5"),
        past);
    assert_int_equal(q_int("SELECT sum(planned) FROM goal_plans WHERE action = 'touch'"), 260);
    assert_int_equal(q_int("SELECT sum(planned) FROM goal_plans WHERE action = 'target'"), 130);

    /* March: everyone does the plan, except team T3 (no executive visits, no demos)
     * and R02, whose needs diagnoses fail quality */
    assert_int_equal(
        sp_db_exec_script(db,
            "INSERT INTO interactions (event_id, occurred_at, source, channel, direction, rep_id, "
            "activity_kind, quality_passed) "
            "SELECT 'ev-'||p.rep_id||'-'||p.week||'-'||p.action||'-'||k, "
            "timestamptz '2026-03-03' + p.week * interval '7 days', 'crm', 'activity', 'internal', p.rep_id, "
            "p.action, NOT (p.rep_id = 'R02' AND p.action = 'needs_diagnosis') "
            "FROM goal_plans p, generate_series(1, p.planned) k "
            "WHERE p.week < 5 AND p.action <> 'target' "
            "AND NOT (p.team_id = 'T3' AND p.action IN ('executive_visit', 'demo'))"),
        SP_OK);
    assert_int_equal(run("review month --month 2026-03"), 0);
    long long withheld_reps
        = q_int("SELECT count(DISTINCT rep_id) FROM goal_plans WHERE week < 5 AND planned > 0 AND "
                "((team_id = 'T3' AND action IN ('executive_visit', 'demo')) OR (rep_id = 'R02' AND action = "
                "'needs_diagnosis'))");
    assert_true(withheld_reps >= 2);
    assert_int_equal(q_int("SELECT count(*) FROM tasks WHERE kind = 'goal.catch_up'"), withheld_reps);
    /* the catch-ups name exactly the withheld actions */
    assert_int_equal(
        q_int("SELECT count(*) FROM tasks t, jsonb_array_elements(t.evidence->'actions') a "
              "WHERE t.kind = 'goal.catch_up' AND NOT ((t.team_id = 'T3' AND a->>'action' IN "
              "('executive_visit', 'demo')) OR (t.subject_id = 'R02' AND a->>'action' = 'needs_diagnosis'))"),
        0);
    if (q_int("SELECT sum(planned) FROM goal_plans WHERE rep_id = 'R02' AND week < 5 AND action = "
              "'needs_diagnosis'")
        > 0)
        assert_int_equal(q_int("SELECT count(*) FROM tasks WHERE key = 'task:goal.catch_up:rep:R02:202603' "
                               "AND assignee_id = 'R02' AND status = 'open' AND team_id = 'T1'"),
            1);
    assert_int_equal(q_int("SELECT catch_ups FROM goal_reviews WHERE month = '2026-03'"), withheld_reps);
    assert_int_equal(
        q_int("SELECT count(*) FROM goal_reviews WHERE minutes_md LIKE '%| T3 | G2 |%executive_visit%'"), 1);
    /* a rerun: same minutes, no new task */
    assert_int_equal(run("review month --month 2026-03"), 0);
    assert_int_equal(q_int("SELECT count(*) FROM tasks WHERE kind = 'goal.catch_up'"), withheld_reps);
    assert_int_equal(run("review month --month 2027-01"), 2);
    /* health through March: exit 0; T3's line names the withheld actions */
    assert_int_equal(itest_sh("SP_PG_URL='%s' '%s' goals health --goal " GOAL " --as-of 2026-03-31 | "
                              "grep -E '^team +T3 .*(executive_visit|demo) 0/' >/dev/null",
                         url, spctl),
        0);
    assert_int_equal(run("goals health --goal nope --as-of 2026-03-31"), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_replan_review),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
