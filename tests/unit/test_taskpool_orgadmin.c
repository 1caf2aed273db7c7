/* Org administration rules (taskpool/orgadmin.h) without a database: item
 * shapes, references through a fake lookup, merge, and the argument
 * parsing and exit codes of `spctl org`. Every refusal must name the field
 * and the item. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "err.h"
#include "spctl/spctl.h"
#include "taskpool/api_admin.h"
#include "taskpool/orgadmin.h"

#include <stdio.h>
#include <string.h>

/* The fake org: teams t1, regions r1, people with roles. */
static int fake_find(void *arg, orgadmin_entity e, const char *id, int *found, char *role, size_t cap)
{
    static const char *const people[][2]
        = {{"sup1", "supervisor"}, {"rep1", "rep"}, {"dir1", "director"}, {"adm1", "admin"}};
    int *calls = arg;
    (*calls)++;
    *found = 0;
    if (strcmp(id, "db-down") == 0) return SP_EDBDOWN;
    if (e == ORGADMIN_TEAMS) *found = strcmp(id, "t1") == 0;
    if (e == ORGADMIN_REGIONS) *found = strcmp(id, "r1") == 0;
    for (size_t i = 0; e == ORGADMIN_PEOPLE && i < sizeof people / sizeof people[0]; i++)
        if (strcmp(id, people[i][0]) == 0) {
            *found = 1;
            if (role) snprintf(role, cap, "%s", people[i][1]);
        }
    return SP_OK;
}

typedef struct tcase {
    orgadmin_entity e;
    const char *json;
    int code; /* SP_OK: valid */
    const char *field; /* the field named */
    const char *msg; /* a substring of the message */
} tcase;

static void run_cases(const tcase *cases, size_t n)
{
    int calls = 0;
    orgadmin_lookup lk = {fake_find, &calls};
    for (size_t i = 0; i < n; i++) {
        json_t *j = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);
        if (j == NULL) fail_msg("case %zu: bad JSON", i);
        orgadmin_err err = {0};
        int rv = orgadmin_check(cases[i].e, j, &lk, &err);
        if (rv != cases[i].code)
            fail_msg("case %zu (%s): rv %d, want %d (%s)", i, cases[i].json, rv, cases[i].code, err.msg);
        if (cases[i].code != SP_OK) {
            assert_int_equal(err.code, cases[i].code);
            if (strcmp(err.field, cases[i].field) != 0)
                fail_msg("case %zu: field \"%s\", want \"%s\" (%s)", i, err.field, cases[i].field, err.msg);
            if (strstr(err.msg, cases[i].msg) == NULL)
                fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, err.msg, cases[i].msg);
        }
        json_decref(j);
    }
}

static void test_people(void **state)
{
    (void)state;
    static const tcase cases[] = {
        {ORGADMIN_PEOPLE, "{\"id\":\"r9\",\"name\":\"李明\",\"role\":\"rep\",\"team_id\":\"t1\"}", SP_OK, "",
            ""},
        {ORGADMIN_PEOPLE,
            "{\"id\":\"r9\",\"name\":\"Li\",\"role\":\"rep\",\"team_id\":\"t1\",\"mentor_id\":\"rep1\","
            "\"region_id\":\"r1\",\"email\":\"li@x.cn\",\"wecom_user\":\"li\",\"active\":false}",
            SP_OK, "", ""},
        {ORGADMIN_PEOPLE, "{\"id\":\"r9\",\"name\":\"Li\",\"role\":\"rep\"}", SP_EINVAL, "team_id",
            "person r9: team_id is required for a rep"},
        {ORGADMIN_PEOPLE, "{\"id\":\"r9\",\"name\":\"Li\",\"role\":\"rep\",\"team_id\":\"t9\"}", SP_EINVAL,
            "team_id", "person r9: team_id \"t9\" is not a known team"},
        {ORGADMIN_PEOPLE,
            "{\"id\":\"r9\",\"name\":\"Li\",\"role\":\"rep\",\"team_id\":\"t1\",\"mentor_id\":\"x\"}",
            SP_EINVAL, "mentor_id", "mentor_id \"x\" is not a known person"},
        {ORGADMIN_PEOPLE,
            "{\"id\":\"r9\",\"name\":\"Li\",\"role\":\"rep\",\"team_id\":\"t1\",\"mentor_id\":\"r9\"}",
            SP_EINVAL, "mentor_id", "themself"},
        {ORGADMIN_PEOPLE, "{\"id\":\"d9\",\"name\":\"Wu\",\"role\":\"director\",\"region_id\":\"r2\"}",
            SP_EINVAL, "region_id", "\"r2\" is not a known region"},
        {ORGADMIN_PEOPLE, "{\"id\":\"d9\",\"name\":\"Wu\",\"role\":\"director\"}", SP_EINVAL, "region_id",
            "required for a director"},
        {ORGADMIN_PEOPLE, "{\"id\":\"r 1\",\"name\":\"Li\",\"role\":\"admin\"}", SP_EINVAL, "id", "1..64"},
        {ORGADMIN_PEOPLE, "{\"id\":\"a1\",\"role\":\"admin\"}", SP_EINVAL, "name",
            "person a1: name is required"},
        {ORGADMIN_PEOPLE, "{\"id\":\"a1\",\"name\":\"\",\"role\":\"admin\"}", SP_EINVAL, "name", "1..200"},
        {ORGADMIN_PEOPLE, "{\"id\":\"a1\",\"name\":\"A\",\"role\":\"boss\"}", SP_EINVAL, "role", "\"boss\""},
        {ORGADMIN_PEOPLE, "{\"id\":\"a1\",\"name\":\"A\",\"role\":\"admin\",\"email\":\"nope\"}", SP_EINVAL,
            "email", "not an e-mail address"},
        {ORGADMIN_PEOPLE, "{\"id\":\"a1\",\"name\":\"A\",\"role\":\"admin\",\"active\":\"yes\"}", SP_EINVAL,
            "active", "true or false"},
        {ORGADMIN_PEOPLE, "{\"id\":\"a1\",\"name\":\"A\",\"role\":\"admin\",\"team_id\":7}", SP_EINVAL,
            "team_id", "must be a string"},
        {ORGADMIN_PEOPLE, "{\"id\":\"a1\",\"name\":\"A\",\"role\":\"admin\",\"tem_id\":\"t1\"}", SP_EINVAL,
            "tem_id", "unknown field \"tem_id\""},
        {ORGADMIN_PEOPLE, "[1]", SP_EINVAL, "body", "JSON object"},
        {ORGADMIN_PEOPLE, "{\"id\":\"r9\",\"name\":\"Li\",\"role\":\"rep\",\"team_id\":\"db-down\"}",
            SP_EDBDOWN, "team_id", "could not look up"},
    };
    run_cases(cases, sizeof cases / sizeof cases[0]);
}

static void test_teams_regions(void **state)
{
    (void)state;
    static const tcase cases[] = {
        {ORGADMIN_TEAMS, "{\"id\":\"t2\",\"name\":\"East\",\"region_id\":\"r1\"}", SP_OK, "", ""},
        {ORGADMIN_TEAMS, "{\"id\":\"t2\",\"name\":\"East\",\"region_id\":\"r1\",\"supervisor_id\":\"sup1\"}",
            SP_OK, "", ""},
        {ORGADMIN_TEAMS, "{\"id\":\"t2\",\"name\":\"East\",\"region_id\":\"r1\",\"supervisor_id\":\"dir1\"}",
            SP_OK, "", ""},
        {ORGADMIN_TEAMS, "{\"id\":\"t2\",\"name\":\"East\"}", SP_EINVAL, "region_id",
            "team t2: region_id is required"},
        {ORGADMIN_TEAMS, "{\"id\":\"t2\",\"name\":\"East\",\"region_id\":\"nowhere\"}", SP_EINVAL,
            "region_id", "team t2: region_id \"nowhere\" is not a known region"},
        {ORGADMIN_TEAMS, "{\"id\":\"t2\",\"name\":\"East\",\"region_id\":\"r1\",\"supervisor_id\":\"ghost\"}",
            SP_EINVAL, "supervisor_id", "team t2: supervisor_id \"ghost\" is not a known person"},
        {ORGADMIN_TEAMS, "{\"id\":\"t2\",\"name\":\"East\",\"region_id\":\"r1\",\"supervisor_id\":\"rep1\"}",
            SP_EINVAL, "supervisor_id", "is a rep, not a supervisor"},
        {ORGADMIN_REGIONS, "{\"id\":\"north\",\"name\":\"North\",\"director_id\":null}", SP_OK, "", ""},
        {ORGADMIN_REGIONS, "{\"id\":\"north\",\"name\":\"North\",\"director_id\":\"adm1\"}", SP_OK, "", ""},
        {ORGADMIN_REGIONS, "{\"name\":\"North\"}", SP_EINVAL, "id", "region (no id): id is required"},
        {ORGADMIN_REGIONS, "{\"id\":\"north\",\"name\":\"North\",\"director_id\":\"sup1\"}", SP_EINVAL,
            "director_id", "is a supervisor, not a director or admin"},
        {ORGADMIN_REGIONS, "{\"id\":\"north\",\"name\":\"North\",\"director_id\":\"nobody\"}", SP_EINVAL,
            "director_id", "not a known person"},
    };
    run_cases(cases, sizeof cases / sizeof cases[0]);
}

static void test_named_absences(void **state)
{
    (void)state;
    static const tcase cases[] = {
        {ORGADMIN_NAMED_TEAMS,
            "{\"id\":\"after_sales\",\"name\":\"AS\",\"lead_id\":\"sup1\",\"members\":[\"rep1\"]}", SP_OK, "",
            ""},
        {ORGADMIN_NAMED_TEAMS, "{\"id\":\"after_sales\",\"name\":\"AS\"}", SP_EINVAL, "lead_id",
            "named team after_sales: lead_id is required"},
        {ORGADMIN_NAMED_TEAMS,
            "{\"id\":\"after_sales\",\"name\":\"AS\",\"lead_id\":\"sup1\",\"members\":[\"rep1\",\"ghost\"]}",
            SP_EINVAL, "members", "members[1] \"ghost\" is not a known person"},
        {ORGADMIN_NAMED_TEAMS,
            "{\"id\":\"after_sales\",\"name\":\"AS\",\"lead_id\":\"sup1\",\"members\":[\"rep1\",\"rep1\"]}",
            SP_EINVAL, "members", "lists \"rep1\" twice"},
        {ORGADMIN_NAMED_TEAMS, "{\"id\":\"x\",\"name\":\"AS\",\"lead_id\":\"sup1\",\"members\":\"rep1\"}",
            SP_EINVAL, "members", "array"},
        {ORGADMIN_ABSENCES,
            "{\"person_id\":\"sup1\",\"starts_at\":\"2026-03-01T00:00Z\",\"ends_at\":\"2026-03-10T00:00:"
            "00Z\","
            "\"reason\":\"trip\"}",
            SP_OK, "", ""},
        {ORGADMIN_ABSENCES,
            "{\"person_id\":\"sup1\",\"starts_at\":\"2026-03-10T00:00Z\",\"ends_at\":\"2026-03-01T00:00Z\"}",
            SP_EINVAL, "ends_at", "absence of sup1: ends_at 2026-03-01T00:00Z is not after starts_at"},
        {ORGADMIN_ABSENCES,
            "{\"person_id\":\"sup1\",\"starts_at\":\"2026-03-10T00:00Z\",\"ends_at\":\"2026-03-10T00:00Z\"}",
            SP_EINVAL, "ends_at", "not after"},
        {ORGADMIN_ABSENCES,
            "{\"person_id\":\"sup1\",\"starts_at\":\"2026-02-30T00:00Z\",\"ends_at\":\"2026-12-01T00:00Z\"}",
            SP_EINVAL, "starts_at", "YYYY-MM-DD"},
        {ORGADMIN_ABSENCES,
            "{\"person_id\":\"sup1\",\"starts_at\":\"tomorrow\",\"ends_at\":\"2026-12-01T00:00Z\"}",
            SP_EINVAL, "starts_at", "\"tomorrow\""},
        {ORGADMIN_ABSENCES, "{\"starts_at\":\"2026-12-01T00:00Z\",\"ends_at\":\"2026-12-02T00:00Z\"}",
            SP_EINVAL, "person_id", "required"},
        {ORGADMIN_ABSENCES,
            "{\"person_id\":\"ghost\",\"starts_at\":\"2026-12-01T00:00Z\",\"ends_at\":\"2026-12-02T00:00Z\"}",
            SP_EINVAL, "person_id", "absence of ghost: person_id \"ghost\" is not a known person"},
    };
    run_cases(cases, sizeof cases / sizeof cases[0]);
}

/* Shape checks never ask the lookup; a bad shape stops before any lookup. */
static void test_shape_before_refs(void **state)
{
    (void)state;
    int calls = 0;
    orgadmin_lookup lk = {fake_find, &calls};
    json_t *j = json_loads("{\"id\":\"t2\",\"name\":\"\",\"region_id\":\"r1\"}", 0, NULL);
    orgadmin_err err = {0};
    assert_int_equal(orgadmin_check(ORGADMIN_TEAMS, j, &lk, &err), SP_EINVAL);
    assert_int_equal(calls, 0);
    assert_int_equal(orgadmin_check_shape(ORGADMIN_NONE, j, &err), SP_EINVAL);
    assert_string_equal(err.field, "entity");
    json_decref(j);
}

static void test_entities_time_merge(void **state)
{
    (void)state;
    assert_int_equal(orgadmin_entity_parse("people"), ORGADMIN_PEOPLE);
    assert_int_equal(orgadmin_entity_parse("named-teams"), ORGADMIN_NAMED_TEAMS);
    assert_int_equal(orgadmin_entity_parse("named_teams"), ORGADMIN_NAMED_TEAMS);
    assert_int_equal(orgadmin_entity_parse("people/x"), ORGADMIN_NONE);
    assert_int_equal(orgadmin_entity_parse(NULL), ORGADMIN_NONE);
    assert_string_equal(orgadmin_entity_name(ORGADMIN_NAMED_TEAMS), "named_teams");
    assert_string_equal(orgadmin_entity_item(ORGADMIN_PEOPLE), "person");
    int64_t ms;
    assert_int_equal(orgadmin_time_parse("1970-01-01T00:00Z", &ms), SP_OK);
    assert_int_equal(ms, 0);
    assert_int_equal(orgadmin_time_parse("2024-02-29T12:30:15+00:00", &ms), SP_OK);
    assert_int_equal(ms, 1709209815000LL);
    assert_int_equal(orgadmin_time_parse("2023-02-29T12:30Z", &ms), SP_EINVAL);
    assert_int_equal(orgadmin_time_parse("0000-01-01T00:00Z", &ms), SP_EINVAL); /* PostgreSQL has no year 0 */
    assert_int_equal(orgadmin_time_parse("2024-02-29T24:00Z", &ms), SP_EINVAL);
    assert_int_equal(orgadmin_time_parse("2024-02-29T12:00+08:00", &ms), SP_EINVAL);
    /* merge: patch wins, null clears, base untouched */
    json_t *base = json_loads("{\"id\":\"p\",\"name\":\"A\",\"mentor_id\":\"m\"}", 0, NULL);
    json_t *patch = json_loads("{\"name\":\"B\",\"mentor_id\":null}", 0, NULL);
    json_t *m = orgadmin_merge(base, patch);
    assert_string_equal(json_string_value(json_object_get(m, "name")), "B");
    assert_true(json_is_null(json_object_get(m, "mentor_id")));
    assert_string_equal(json_string_value(json_object_get(m, "id")), "p");
    assert_string_equal(json_string_value(json_object_get(base, "name")), "A");
    json_decref(m);
    json_decref(patch);
    json_decref(base);
    /* statuses of the API */
    assert_int_equal(api_admin_status(SP_EINVAL), 422);
    assert_int_equal(api_admin_status(SP_ENOTFOUND), 404);
    assert_int_equal(api_admin_status(SP_EEXIST), 409);
    assert_int_equal(api_admin_status(SP_ECONFLICT), 409);
    assert_int_equal(api_admin_status(SP_EDBDOWN), 503);
    assert_int_equal(api_admin_status(SP_EDB), 500);
}

static void test_spctl_org_args(void **state)
{
    (void)state;
    char *argv[] = {
        "--team-id", "t1", "--members", "a,b,,c", "--active", "false", "--mentor-id", "", "--name", "李明"};
    json_t *o = NULL;
    char err[128];
    assert_int_equal(spctl_org_args(10, argv, &o, err, sizeof err), SP_OK);
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(s,
        "{\"active\":false,\"members\":[\"a\",\"b\",\"c\"],\"mentor_id\":null,\"name\":\"李明\","
        "\"team_id\":\"t1\"}");
    free(s);
    json_decref(o);
    char *lone[] = {"--name"};
    assert_int_equal(spctl_org_args(1, lone, &o, err, sizeof err), SP_EINVAL);
    assert_non_null(strstr(err, "no value"));
    char *word[] = {"name", "x"};
    assert_int_equal(spctl_org_args(2, word, &o, err, sizeof err), SP_EINVAL);
    assert_non_null(strstr(err, "\"name\""));
    char *twice[] = {"--name", "a", "--name", "b"};
    assert_int_equal(spctl_org_args(4, twice, &o, err, sizeof err), SP_EINVAL);
    assert_non_null(strstr(err, "twice"));
    assert_int_equal(spctl_org_exit(SP_OK), 0);
    assert_int_equal(spctl_org_exit(SP_EINVAL), 2);
    assert_int_equal(spctl_org_exit(SP_ENOTFOUND), 3);
    assert_int_equal(spctl_org_exit(SP_EEXIST), 4);
    assert_int_equal(spctl_org_exit(SP_ECONFLICT), 4);
    assert_int_equal(spctl_org_exit(SP_EDB), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_people),
        cmocka_unit_test(test_teams_regions),
        cmocka_unit_test(test_named_absences),
        cmocka_unit_test(test_shape_before_refs),
        cmocka_unit_test(test_entities_time_merge),
        cmocka_unit_test(test_spctl_org_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
