/* `spctl org` against a real PostgreSQL (a database of its own): builds an
 * org chart item by item (regions, a team without a supervisor yet, people,
 * the team's supervisor, a director, a named team, an absence), and checks
 * every refusal's exit status and message (duplicate id, unknown team,
 * supervisor not a person or a rep, absence ending before it starts, a
 * person still supervising, a team still staffed); deactivates and removes;
 * and after every accepted change sp-route's loader (route_org_load) still
 * accepts the org, with the supervisor's absence visible to routing.
 * spctl from $SP_BIN_DIR (default build/bin). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "db.h"
#include "err.h"
#include "itest.h"
#include "route/route_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *url;
static sp_db *db;
static char spctl[1024], errfile[256], outfile[256];
static char last_err[2048], last_out[8192];

static void slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[n] = '\0';
    if (f) fclose(f);
}

/* Runs `spctl org ARGS`; returns the exit status, stderr in last_err,
 * stdout in last_out. */
static int spctl_org_run(const char *args)
{
    int rc = itest_sh("SP_PG_URL='%s' '%s' org %s >'%s' 2>'%s'", url, spctl, args, outfile, errfile);
    slurp(errfile, last_err, sizeof last_err);
    slurp(outfile, last_out, sizeof last_out);
    return rc;
}

#define OK(args)                                                                                             \
    do {                                                                                                     \
        int rc_ = spctl_org_run(args);                                                                       \
        if (rc_ != 0) fail_msg("spctl org %s: exit %d: %s", args, rc_, last_err);                            \
    } while (0)

/* Refused with status want and a message containing each of the texts. */
static void refused(const char *args, int want, const char *text)
{
    int rc = spctl_org_run(args);
    if (rc != want) fail_msg("spctl org %s: exit %d, want %d (%s)", args, rc, want, last_err);
    if (strstr(last_err, text) == NULL) fail_msg("spctl org %s: \"%s\" lacks \"%s\"", args, last_err, text);
}

static long long q_int(const char *sql)
{
    PGresult *r = NULL;
    assert_int_equal(sp_db_exec(db, sql, 0, NULL, &r), SP_OK);
    long long v = PQntuples(r) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : -1;
    PQclear(r);
    return v;
}

/* sp-route must load whatever spctl org accepted. */
static org *route_loads(void)
{
    org *o = NULL;
    char err[512] = "";
    if (route_org_load(db, &o, err, sizeof err) != SP_OK) fail_msg("route_org_load: %s", err);
    return o;
}

static int setup(void **state)
{
    (void)state;
    const char *base = itest_env("SP_PG_URL");
    if (itest_sql("DROP DATABASE IF EXISTS itest_org") || itest_sql("CREATE DATABASE itest_org")) return -1;
    const char *slash = strrchr(base, '/');
    url = malloc(strlen(base) + 16);
    sprintf(url, "%.*s/itest_org", (int)(slash - base), base);
    const char *bin = getenv("SP_BIN_DIR");
    if (bin && *bin)
        snprintf(spctl, sizeof spctl, "%s/spctl", bin);
    else
        snprintf(spctl, sizeof spctl, "%s/build/bin/spctl", itest_env("SP_ROOT"));
    snprintf(errfile, sizeof errfile, "/tmp/itest_org_%d.err", (int)getpid());
    snprintf(outfile, sizeof outfile, "/tmp/itest_org_%d.out", (int)getpid());
    if (sp_db_open(url, &db)) return -1;
    char dir[1024], err[512];
    int applied = 0;
    snprintf(dir, sizeof dir, "%s/deploy/sql", itest_env("SP_ROOT"));
    if (sp_db_migrate(db, dir, &applied, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sp_db_destroy(db);
    itest_sql("DROP DATABASE IF EXISTS itest_org");
    unlink(errfile);
    unlink(outfile);
    free(url);
    return 0;
}

static void test_build_org(void **state)
{
    (void)state;
    OK("regions add --id R-E --name East");
    refused("regions add --id R-E --name East", 4, "region R-E: id already exists");
    refused("regions add --id R-W", 2, "region R-W: name is required");
    refused("teams add --id T-1 --name One --region-id R-X", 2,
        "team T-1: region_id \"R-X\" is not a known region");
    /* a team may start without a supervisor: routing goes to the director */
    OK("teams add --id T-1 --name One --region-id R-E");
    org_destroy(route_loads());
    OK("people add --id P-S --name 李明 --role supervisor --team-id T-1 --email li@example.cn");
    OK("people add --id P-R --name 张三 --role rep --team-id T-1 --mentor-id P-S --wecom-user zhangsan");
    refused("people add --id P-X --name X --role rep --team-id T-9", 2,
        "person P-X: team_id \"T-9\" is not a known team");
    refused("people add --id P-X --name X --role rep", 2, "person P-X: team_id is required for a rep");
    refused("people add --id P-X --name X --role boss --team-id T-1", 2, "role \"boss\"");
    refused("people add --id P-X --name X --role rep --team-id T-1 --email li@example.cn", 4,
        "email \"li@example.cn\" is already another person's");
    refused("people add --id P-X --name X --role rep --team-id T-1 --tema T-1", 2, "unknown field \"tema\"");
    refused("people add --id P-X --name X --role rep --team-id T-1 --active maybe", 2,
        "active must be true or false");
    refused("teams update T-1 --supervisor-id nobody", 2,
        "team T-1: supervisor_id \"nobody\" is not a known person");
    refused("teams update T-1 --supervisor-id P-R", 2, "supervisor_id \"P-R\" is a rep, not a supervisor");
    OK("teams update T-1 --supervisor-id P-S");
    assert_int_equal(
        q_int("SELECT count(*) FROM teams WHERE id = 'T-1' AND supervisor_id = 'P-S' AND name = 'One'"), 1);
    OK("people add --id P-D --name 王芳 --role director --region-id R-E");
    OK("regions update R-E --director-id P-D");
    refused("regions update R-E --director-id P-S", 2, "is a supervisor, not a director or admin");
    refused("regions update R-E --id R-F", 2, "region R-E: the id cannot change");
    OK("named-teams add --id after_sales --name 售后 --lead-id P-S --members P-R");
    refused("named-teams add --id competition_response --name C --lead-id P-S --members P-R,ghost", 2,
        "members[1] \"ghost\" is not a known person");
    OK("named-teams update after_sales --members P-R,P-D");
    assert_int_equal(q_int("SELECT count(*) FROM named_team_members WHERE team_id = 'after_sales'"), 2);
    refused("absences add --person-id P-S --starts-at 2026-03-10T00:00Z --ends-at 2026-03-01T00:00Z", 2,
        "absence of P-S: ends_at 2026-03-01T00:00Z is not after starts_at 2026-03-10T00:00Z");
    refused("absences add --person-id ghost --starts-at 2026-03-01T00:00Z --ends-at 2026-03-10T00:00Z", 2,
        "person_id \"ghost\" is not a known person");
    OK("absences add --person-id P-S --starts-at 2026-03-01T00:00Z --ends-at 2026-03-10T00:00Z --reason "
       "trip");
    long long abs_id = q_int("SELECT id FROM absences WHERE person_id = 'P-S'");
    assert_true(abs_id > 0);

    /* what routing sees */
    org *o = route_loads();
    assert_string_equal(org_team_get(o, "T-1")->supervisor_id, "P-S");
    assert_string_equal(org_region_get(o, "R-E")->director_id, "P-D");
    assert_non_null(org_absence_at(o, "P-S", 1772668800000LL)); /* 2026-03-05 */
    assert_null(org_absence_at(o, "P-S", 1773187200000LL)); /* 2026-03-11 */
    assert_int_equal(org_named_team_get(o, "after_sales")->n_members, 2);
    org_destroy(o);

    /* list and show */
    OK("people list");
    assert_non_null(strstr(last_out, "\"id\":\"P-R\""));
    assert_non_null(strstr(last_out, "\"mentor_id\":\"P-S\""));
    OK("absences list --person P-S");
    assert_non_null(strstr(last_out, "\"starts_at\":\"2026-03-01T00:00:00Z\""));
    OK("teams show T-1");
    assert_non_null(strstr(last_out, "\"supervisor_id\": \"P-S\""));
    refused("teams show T-9", 3, "no team \"T-9\"");
    refused("things list", 2, "unknown kind \"things\"");
    refused("teams deactivate T-1", 2, "unknown action");
    refused("teams update", 2, "id is required");

    /* a role change may not strand a post; removal refused while referenced */
    refused("people update P-S --role rep", 4, "person P-S: role rep cannot supervise team T-1");
    refused("people remove P-S", 4, "person P-S is supervisor_id of team T-1");
    refused("teams remove T-1", 4, "team T-1 still has 2 person(s), e.g. P-R");
    refused("regions remove R-E", 4, "region R-E still has 1 team(s), e.g. T-1");
    refused("people remove ghost", 3, "no person \"ghost\"");

    /* deactivate: routing skips the person, the row stays */
    OK("people deactivate P-R");
    assert_int_equal(q_int("SELECT count(*) FROM people WHERE id = 'P-R' AND NOT active"), 1);
    OK("people update P-R --active true --mentor-id ''");
    assert_int_equal(
        q_int("SELECT count(*) FROM people WHERE id = 'P-R' AND active AND mentor_id IS NULL"), 1);

    /* remove: an absence, a named team, then a rep with their memberships */
    char args[128];
    snprintf(args, sizeof args, "absences remove %lld", abs_id);
    OK(args);
    assert_int_equal(q_int("SELECT count(*) FROM absences"), 0);
    OK("named-teams remove after_sales");
    OK("people remove P-R");
    assert_int_equal(q_int("SELECT count(*) FROM people WHERE id = 'P-R'"), 0);
    org_destroy(route_loads());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_org),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
