/* The org snapshot (rows, JSON loader, lookups, absences) and the
 * validation of routing rules and org files: errors name item and key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "err.h"
#include "route/cntime.h"
#include "route/org.h"
#include "route/route_rules.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_org_load_and_lookup(void **state)
{
    (void)state;
    org *o;
    char err[256] = "";
    assert_int_equal(org_load_json("tests/data/org_small.json", &o, err, sizeof err), SP_OK);
    assert_int_equal(org_person_count(o), 16);
    const org_person *p = org_person_get(o, "P-R1");
    assert_non_null(p);
    assert_string_equal(p->name, "张伟");
    assert_string_equal(p->name_en, "Zhang Wei");
    assert_int_equal(p->role, ORG_ROLE_REP);
    assert_string_equal(p->mentor_id, "P-M1");
    assert_string_equal(p->wecom_user_id, "zhangwei");
    assert_true(p->active);
    assert_false(org_person_get(o, "P-M2")->active);
    assert_null(org_person_get(o, "P-NOPE"));
    assert_null(org_person_get(o, NULL));
    assert_string_equal(org_team_get(o, "T-SH")->supervisor_id, "P-S1");
    assert_string_equal(org_region_get(o, "R-SOUTH")->director_id, "P-D2");
    const org_named_team *nt = org_named_team_get(o, SP_ORG_COMPETITION);
    assert_non_null(nt);
    assert_string_equal(nt->lead_id, "P-C1");
    assert_int_equal(nt->n_members, 1);

    const org_person *sup[4];
    size_t n;
    org_region_supervisors(o, "R-EAST", sup, 4, &n);
    assert_int_equal(n, 2);
    assert_string_equal(sup[0]->id, "P-S2");
    assert_string_equal(sup[1]->id, "P-S1");
    org_region_supervisors(o, "R-NOPE", sup, 4, &n);
    assert_int_equal(n, 0);

    int64_t from, until;
    cntime_parse("2026-03-02", &from);
    cntime_parse("2026-03-10", &until);
    assert_null(org_absence_at(o, "P-S1", from - 1));
    assert_non_null(org_absence_at(o, "P-S1", from));
    assert_string_equal(org_absence_at(o, "P-S1", until - 1)->reason, "trip");
    assert_null(org_absence_at(o, "P-S1", until));
    assert_null(org_absence_at(o, "P-S2", from));
    org_destroy(o);
    org_destroy(NULL);
}

static void test_org_rows(void **state)
{
    (void)state;
    org *o;
    char err[256] = "";
    assert_int_equal(org_new(&o), SP_OK);
    org_person p = {"P1", "甲", NULL, ORG_ROLE_REP, NULL, NULL, NULL, NULL, NULL, 1};
    assert_int_equal(org_add_person(o, &p, err, sizeof err), SP_OK);
    /* lookups wait for finish */
    assert_null(org_person_get(o, "P1"));
    org_person bad = p;
    bad.id = "";
    assert_int_equal(org_add_person(o, &bad, err, sizeof err), SP_EINVAL);
    assert_non_null(strstr(err, "id"));
    bad = p;
    bad.role = ORG_ROLE_UNKNOWN;
    assert_int_equal(org_add_person(o, &bad, err, sizeof err), SP_EINVAL);
    org_absence a = {"P1", 10, 10, NULL};
    assert_int_equal(org_add_absence(o, &a, err, sizeof err), SP_EINVAL);
    /* two absences overlapping: the one ending last wins */
    org_absence a1 = {"P1", 100, 200, "trip"}, a2 = {"P1", 150, 300, "sick"};
    assert_int_equal(org_add_absence(o, &a1, err, sizeof err), SP_OK);
    assert_int_equal(org_add_absence(o, &a2, err, sizeof err), SP_OK);
    assert_int_equal(org_finish(o, err, sizeof err), SP_OK);
    assert_string_equal(org_absence_at(o, "P1", 160)->reason, "sick");
    assert_string_equal(org_absence_at(o, "P1", 120)->reason, "trip");
    assert_int_equal(org_add_person(o, &p, err, sizeof err), SP_ESTATE);
    org_destroy(o);

    /* duplicate ids and dangling references fail at finish, naming them */
    static const struct {
        const char *mentor, *team, *dup;
        const char *want;
    } cases[] = {
        {"P-GHOST", NULL, NULL, "mentor_id \"P-GHOST\""},
        {NULL, "T-GHOST", NULL, "team_id \"T-GHOST\""},
        {NULL, NULL, "P1", "person P1: duplicate id"},
        {"P1", NULL, NULL, "mentor_id is the person themself"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(org_new(&o), SP_OK);
        org_person q = p;
        q.mentor_id = cases[i].mentor;
        q.team_id = cases[i].team;
        assert_int_equal(org_add_person(o, &q, err, sizeof err), SP_OK);
        if (cases[i].dup) assert_int_equal(org_add_person(o, &p, err, sizeof err), SP_OK);
        err[0] = '\0';
        assert_int_equal(org_finish(o, err, sizeof err), SP_ECONFIG);
        if (strstr(err, cases[i].want) == NULL)
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err, cases[i].want);
        assert_null(org_person_get(o, "P1"));
        org_destroy(o);
    }
}

/* Writes text to a temp file; returns its path in buf. */
static void write_tmp(char *buf, size_t cap, const char *text)
{
    snprintf(buf, cap, "/tmp/sp_route_org_XXXXXX");
    int fd = mkstemp(buf);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static void test_org_json_errors(void **state)
{
    (void)state;
    static const struct {
        const char *json, *want;
    } cases[] = {
        {"{\"people\":[{\"id\":\"A\",\"name\":\"甲\",\"role\":\"boss\"}]}", "people[0] (A): key \"role\""},
        {"{\"people\":[{\"id\":\"A\",\"name\":\"甲\",\"role\":\"rep\",\"colour\":1}]}",
            "unknown key \"colour\""},
        {"{\"people\":[{\"name\":\"甲\",\"role\":\"rep\"}]}", "people[0]: missing key \"id\""},
        {"{\"people\":[{\"id\":\"A\",\"name\":\"甲\",\"role\":\"rep\",\"active\":\"yes\"}]}", "\"active\""},
        {"{\"teams\":[{\"id\":\"T\",\"supervisor_id\":\"S\"}]}", "team T: supervisor_id \"S\""},
        {"{\"absences\":[{\"person_id\":\"A\",\"from\":\"2026-03-02\",\"until\":\"2026-02-30\"}]}",
            "absences[0]: key \"until\""},
        {"{\"absences\":[{\"person_id\":\"A\",\"from\":\"2026-03-05\",\"until\":\"2026-03-02\"}]}",
            "\"until\" must be after"},
        {"{\"named_teams\":[{\"name\":\"after_sales\",\"lead_id\":\"X\",\"member_ids\":[1]}]}",
            "member_ids[0]"},
        {"{\"people\":{}}", "key \"people\" must be an array"},
        {"{\"staff\":[]}", "unknown key \"staff\""},
        {"{\"people\":[", ":1:"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[64], err[300] = "";
        org *o = (org *)1;
        write_tmp(path, sizeof path, cases[i].json);
        int rv = org_load_json(path, &o, err, sizeof err);
        unlink(path);
        assert_int_equal(rv, SP_ECONFIG);
        assert_null(o);
        if (strstr(err, cases[i].want) == NULL || strstr(err, path) == NULL)
            fail_msg("case %zu: \"%s\" lacks \"%s\" or the path", i, err, cases[i].want);
    }
    char err[200];
    org *o;
    assert_int_equal(org_load_json("/nonexistent/org.json", &o, err, sizeof err), SP_ECONFIG);
}

static void test_rules_default_file(void **state)
{
    (void)state;
    route_rules *r;
    char err[256] = "";
    assert_int_equal(
        route_rules_load_file("deploy/tenants/default/route_rules.json", &r, err, sizeof err), SP_OK);
    assert_true(route_rules_count(r) >= 13);
    assert_int_equal(route_rules_sla_s(r, 1), 24 * 3600);
    assert_int_equal(route_rules_sla_s(r, 2), 8 * 3600);
    assert_int_equal(route_rules_sla_s(r, 3), 2 * 3600);
    assert_int_equal(route_rules_sla_s(r, 0), 24 * 3600);
    assert_int_equal(route_rules_suppress_s(r), 7 * 86400);
    char *tags[] = {"risk:budget_freeze"};
    const route_rule *ru = route_rules_match(r, "deal.risk_raised", 2, tags, 1);
    assert_string_equal(ru->id, "risk_budget_freeze");
    assert_int_equal(ru->assignee, ROUTE_T_SUPERVISOR);
    assert_string_equal(route_rules_match(r, "deal.risk_raised", 2, NULL, 0)->id, "risk_other");
    assert_null(route_rules_match(r, "nothing.here", 1, NULL, 0));

    /* reload: the new object replaces the old in one swap */
    route_rules *fresh;
    assert_int_equal(
        route_rules_load_string("{\"sla\":{\"L3\":\"30m\"},\"rules\":[{\"id\":\"all\",\"kind\":\"*\","
                                "\"assignee\":\"supervisor\",\"sla\":600}]}",
            "fresh", &fresh, err, sizeof err),
        SP_OK);
    route_rules *_Atomic slot = r;
    route_rules *old = route_rules_swap(&slot, fresh);
    assert_ptr_equal(old, r);
    assert_ptr_equal(atomic_load(&slot), fresh);
    route_rules_destroy(old);
    assert_int_equal(route_rules_sla_s(fresh, 3), 1800);
    assert_int_equal(route_rules_sla_s(fresh, 1), 86400);
    ru = route_rules_match(fresh, "anything.at_all", 0, NULL, 0);
    assert_int_equal(ru->sla_s, 600);
    route_rules_destroy(fresh);
    route_rules_destroy(NULL);
}

static void test_rules_validation(void **state)
{
    (void)state;
    static const struct {
        const char *json, *want;
    } cases[] = {
        {"{\"rules\":[{\"id\":\"a\",\"kind\":\"x.y\",\"assignee\":\"boss\"}]}",
            "rules[0] (a): key \"assignee\""},
        {"{\"rules\":[{\"id\":\"a\",\"kind\":\"x.y\"}]}", "rules[0] (a): missing key \"assignee\""},
        {"{\"rules\":[{\"kind\":\"x.y\",\"assignee\":\"mentor\"}]}", "rules[0]: missing key \"id\""},
        {"{\"rules\":[{\"id\":\"a\",\"kind\":\"xy\",\"assignee\":\"mentor\"}]}", "(a): key \"kind\""},
        {"{\"rules\":[{\"id\":\"a\",\"kind\":\"x.y\",\"assignee\":\"mentor\",\"level\":\"L4\"}]}",
            "(a): key \"level\""},
        {"{\"rules\":[{\"id\":\"a\",\"kind\":\"x.y\",\"assignee\":\"mentor\",\"playbooks\":\"card\"}]}",
            "(a): key \"playbooks\""},
        {"{\"rules\":[{\"id\":\"a\",\"kind\":\"x.y\",\"assignee\":\"mentor\",\"playbooks\":[\"\"]}]}",
            "(a): key \"playbooks\"[0]"},
        {"{\"rules\":[{\"id\":\"a\",\"kind\":\"x.y\",\"assignee\":\"mentor\",\"watchers\":[\"cat\"]}]}",
            "(a): key \"watchers\"[0]"},
        {"{\"rules\":[{\"id\":\"a\",\"kind\":\"x.y\",\"assignee\":\"mentor\",\"sla\":\"soon\"}]}",
            "(a): key \"sla\""},
        {"{\"rules\":[{\"id\":\"a\",\"kind\":\"x.y\",\"assignee\":\"mentor\",\"colour\":1}]}",
            "(a): unknown key \"colour\""},
        {"{\"rules\":[{\"id\":\"a\",\"kind\":\"x.y\",\"assignee\":\"mentor\"},"
         "{\"id\":\"a\",\"kind\":\"x.z\",\"assignee\":\"mentor\"}]}",
            "rules[1] (a): key \"id\" duplicates rules[0]"},
        {"{\"rules\":[]}", "key \"rules\" must be a non-empty array"},
        {"{\"sla\":{\"L4\":\"1h\"},\"rules\":[{\"id\":\"a\",\"kind\":\"x.y\",\"assignee\":\"mentor\"}]}",
            "sla: unknown key \"L4\""},
        {"{\"sla\":{\"L1\":-5},\"rules\":[{\"id\":\"a\",\"kind\":\"x.y\",\"assignee\":\"mentor\"}]}",
            "sla: key \"L1\""},
        {"{\"version\":2,\"rules\":[{\"id\":\"a\",\"kind\":\"x.y\",\"assignee\":\"mentor\"}]}",
            "\"version\""},
        {"[1,2]", "not a JSON object"},
        {"{\"rules\":[{\"id\":\"all\",\"kind\":\"x.y\",\"assignee\":\"mentor\"},"
         "{\"id\":\"tagged\",\"kind\":\"x.y\",\"tag\":\"t\",\"assignee\":\"supervisor\"}]}",
            "rules[1] (tagged) never matches: rules[0] (all)"},
        {"{\"rules\":[{\"id\":\"any\",\"kind\":\"*\",\"assignee\":\"mentor\"},"
         "{\"id\":\"l2\",\"kind\":\"x.y\",\"level\":\"L2\",\"assignee\":\"supervisor\"}]}",
            "rules[1] (l2) never matches"},
        {"{\"rules\":", "t.json:1:"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        route_rules *r = (route_rules *)1;
        char err[300] = "";
        assert_int_equal(route_rules_load_string(cases[i].json, "t.json", &r, err, sizeof err), SP_ECONFIG);
        assert_null(r);
        if (strstr(err, cases[i].want) == NULL || strstr(err, "t.json") == NULL)
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err, cases[i].want);
    }
}

static void test_rules_order_ok(void **state)
{
    (void)state;
    route_rules *r;
    char err[300] = "";
    assert_int_equal(route_rules_load_string("{\"rules\":[{\"id\":\"t\",\"kind\":\"x.y\",\"tag\":\"t\","
                                             "\"assignee\":\"supervisor\"},{\"id\":\"l2\",\"kind\":\"x.y\","
                                             "\"level\":\"L2\",\"assignee\":\"director\"},{\"id\":\"all\","
                                             "\"kind\":\"x.y\",\"assignee\":\"mentor\"}]}",
                         "t.json", &r, err, sizeof err),
        SP_OK);
    char *tags[] = {"t"};
    assert_string_equal(route_rules_match(r, "x.y", 2, tags, 1)->id, "t");
    assert_string_equal(route_rules_match(r, "x.y", 2, NULL, 0)->id, "l2");
    assert_string_equal(route_rules_match(r, "x.y", 1, NULL, 0)->id, "all");
    assert_null(route_rules_match(r, "x.z", 1, NULL, 0));
    route_rules_destroy(r);
}

static int known_pb(void *ctx, const char *id)
{
    (void)ctx;
    return strcmp(id, "card") == 0;
}

static void test_rules_playbook_refs(void **state)
{
    (void)state;
    route_rules *r;
    char err[300] = "";
    assert_int_equal(
        route_rules_load_string("{\"rules\":[{\"id\":\"a\",\"kind\":\"x.y\",\"assignee\":\"mentor\","
                                "\"playbooks\":[\"card\"]},{\"id\":\"b\",\"kind\":\"x.z\","
                                "\"assignee\":\"mentor\",\"playbooks\":[\"card\",\"kit\"]}]}",
            "t.json", &r, err, sizeof err),
        SP_OK);
    assert_int_equal(route_rules_check_playbooks(r, known_pb, NULL, err, sizeof err), SP_ECONFIG);
    assert_non_null(strstr(err, "rules[1] (b): key \"playbooks\": \"kit\""));
    route_rules_destroy(r);
}

static void test_cntime(void **state)
{
    (void)state;
    int64_t ms;
    char buf[32];
    assert_int_equal(cntime_parse("2026-03-10", &ms), SP_OK);
    assert_int_equal(ms, 1773072000000LL); /* 2026-03-09T16:00Z */
    assert_int_equal(cntime_parse("2026-03-09T16:00:00Z", &ms), SP_OK);
    assert_int_equal(ms, 1773072000000LL);
    assert_int_equal(cntime_parse("2026-03-10T01:30+09:30", &ms), SP_OK);
    assert_int_equal(ms, 1773072000000LL);
    cntime_fmt_zh(ms, buf, sizeof buf);
    assert_string_equal(buf, "3月10日");
    cntime_fmt_en(ms - 1, buf, sizeof buf);
    assert_string_equal(buf, "9 Mar");
    const char *bad[]
        = {"", "2026-3-10", "2026-13-01", "2026-03-10T25:00", "2026-03-10x", "2026-03-10T10:00+8"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(cntime_parse(bad[i], &ms), SP_EINVAL);
}

/* Reads a whole file into a static buffer. */
static size_t slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        n--; /* the last byte must be '}' */
    buf[n] = '\0';
    return n;
}

/* Every truncation of every data file is rejected cleanly or (at the
 * very end) accepted: bad input never crashes or leaks (ASan run). */
static void test_truncated_inputs(void **state)
{
    (void)state;
    static char text[32768], part[32768];
    char err[300];
    size_t n = slurp("deploy/tenants/default/route_rules.json", text, sizeof text);
    for (size_t len = 0; len < n; len += 13) {
        route_rules *r;
        memcpy(part, text, len);
        part[len] = '\0';
        int rv = route_rules_load_string(part, "cut", &r, err, sizeof err);
        assert_int_equal(rv, SP_ECONFIG);
        assert_null(r);
    }
    n = slurp("tests/data/org_small.json", text, sizeof text);
    for (size_t len = 0; len < n; len += 29) {
        char path[64];
        org *o;
        memcpy(part, text, len);
        part[len] = '\0';
        write_tmp(path, sizeof path, part);
        int rv = org_load_json(path, &o, err, sizeof err);
        unlink(path);
        assert_int_equal(rv, SP_ECONFIG);
        assert_null(o);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_org_load_and_lookup),
        cmocka_unit_test(test_org_rows),
        cmocka_unit_test(test_org_json_errors),
        cmocka_unit_test(test_rules_default_file),
        cmocka_unit_test(test_rules_validation),
        cmocka_unit_test(test_rules_order_ok),
        cmocka_unit_test(test_rules_playbook_refs),
        cmocka_unit_test(test_cntime),
        cmocka_unit_test(test_truncated_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
