/* Access control, the whole matrix: roles × actions × (own task, a
 * teammate's, another team's in the same region, another region's).
 * A = allow, F = 403 forbidden, N = 404 not found (existence hidden). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "err.h"
#include "taskpool/acl.h"

#include <stdio.h>
#include <string.h>

static const acl_principal P_REP = {"P-R1", ACL_ROLE_REP, "T-SH", "R-EAST"};
static const acl_principal P_SUP = {"P-S1", ACL_ROLE_SUPERVISOR, "T-SH", "R-EAST"};
static const acl_principal P_DIR = {"P-D1", ACL_ROLE_DIRECTOR, NULL, "R-EAST"};
static const acl_principal P_ADM = {"P-ADM", ACL_ROLE_ADMIN, NULL, NULL};
static const acl_principal P_AS = {"P-A1", ACL_ROLE_AFTER_SALES, NULL, NULL};
static const acl_principal P_NONE = {"P-X", ACL_ROLE_NONE, "T-SH", "R-EAST"};

/* Tasks relative to the principal: its own, a teammate's (T-SH), another
 * team's in the region (T-HZ), another region's (T-GZ). */
static void tasks_for(const acl_principal *p, acl_task out[4])
{
    out[0] = (acl_task) {p->person_id, "T-SH", "R-EAST"};
    out[1] = (acl_task) {"P-R2", "T-SH", "R-EAST"};
    out[2] = (acl_task) {"P-R3", "T-HZ", "R-EAST"};
    out[3] = (acl_task) {"P-R4", "T-GZ", "R-SOUTH"};
}

static const struct row {
    const acl_principal *p;
    acl_action a;
    const char *want; /* own, team, region, other */
} matrix[] = {
    /* rep: own tasks only; no team list, no reassign, no org admin */
    {&P_REP, ACL_LIST_MINE, "AAAA"},
    {&P_REP, ACL_LIST_TEAM, "FFFF"},
    {&P_REP, ACL_READ, "ANNN"},
    {&P_REP, ACL_ACK, "ANNN"},
    {&P_REP, ACL_START, "ANNN"},
    {&P_REP, ACL_COMPLETE, "ANNN"},
    {&P_REP, ACL_DISMISS, "ANNN"},
    {&P_REP, ACL_REASSIGN, "FNNN"},
    {&P_REP, ACL_ORG_ADMIN, "FFFF"},
    /* supervisor: the team */
    {&P_SUP, ACL_LIST_MINE, "AAAA"},
    {&P_SUP, ACL_LIST_TEAM, "AAAA"},
    {&P_SUP, ACL_READ, "AANN"},
    {&P_SUP, ACL_ACK, "AANN"},
    {&P_SUP, ACL_START, "AANN"},
    {&P_SUP, ACL_COMPLETE, "AANN"},
    {&P_SUP, ACL_DISMISS, "AANN"},
    {&P_SUP, ACL_REASSIGN, "AANN"},
    {&P_SUP, ACL_ORG_ADMIN, "FFFF"},
    /* director: the region */
    {&P_DIR, ACL_LIST_MINE, "AAAA"},
    {&P_DIR, ACL_LIST_TEAM, "AAAA"},
    {&P_DIR, ACL_READ, "AAAN"},
    {&P_DIR, ACL_ACK, "AAAN"},
    {&P_DIR, ACL_START, "AAAN"},
    {&P_DIR, ACL_COMPLETE, "AAAN"},
    {&P_DIR, ACL_DISMISS, "AAAN"},
    {&P_DIR, ACL_REASSIGN, "AAAN"},
    {&P_DIR, ACL_ORG_ADMIN, "FFFF"},
    /* admin: everything */
    {&P_ADM, ACL_LIST_MINE, "AAAA"},
    {&P_ADM, ACL_LIST_TEAM, "AAAA"},
    {&P_ADM, ACL_READ, "AAAA"},
    {&P_ADM, ACL_ACK, "AAAA"},
    {&P_ADM, ACL_START, "AAAA"},
    {&P_ADM, ACL_COMPLETE, "AAAA"},
    {&P_ADM, ACL_DISMISS, "AAAA"},
    {&P_ADM, ACL_REASSIGN, "AAAA"},
    {&P_ADM, ACL_ORG_ADMIN, "AAAA"},
    /* after-sales staff: like a rep, the tasks assigned to them */
    {&P_AS, ACL_LIST_MINE, "AAAA"},
    {&P_AS, ACL_LIST_TEAM, "FFFF"},
    {&P_AS, ACL_READ, "ANNN"},
    {&P_AS, ACL_ACK, "ANNN"},
    {&P_AS, ACL_START, "ANNN"},
    {&P_AS, ACL_COMPLETE, "ANNN"},
    {&P_AS, ACL_DISMISS, "ANNN"},
    {&P_AS, ACL_REASSIGN, "FNNN"},
    {&P_AS, ACL_ORG_ADMIN, "FFFF"},
    /* a principal without a known role: nothing, not even their "own" */
    {&P_NONE, ACL_LIST_MINE, "FFFF"},
    {&P_NONE, ACL_LIST_TEAM, "FFFF"},
    {&P_NONE, ACL_READ, "NNNN"},
    {&P_NONE, ACL_ACK, "NNNN"},
    {&P_NONE, ACL_START, "NNNN"},
    {&P_NONE, ACL_COMPLETE, "NNNN"},
    {&P_NONE, ACL_DISMISS, "NNNN"},
    {&P_NONE, ACL_REASSIGN, "NNNN"},
    {&P_NONE, ACL_ORG_ADMIN, "FFFF"},
};

static char code(acl_verdict v)
{
    return v == ACL_ALLOW ? 'A' : v == ACL_FORBIDDEN ? 'F' : 'N';
}

static void test_matrix(void **state)
{
    (void)state;
    int checked = 0;
    for (size_t i = 0; i < sizeof matrix / sizeof matrix[0]; i++) {
        const struct row *r = &matrix[i];
        acl_task t[4];
        char got[5] = "";
        tasks_for(r->p, t);
        for (int k = 0; k < 4; k++, checked++)
            got[k] = code(acl_check(r->p, r->a, &t[k]));
        if (strcmp(got, r->want) != 0)
            fail_msg("%s %s: got %s want %s", acl_role_name(r->p->role), acl_action_name(r->a), got, r->want);
    }
    assert_int_equal(checked, 6 * 9 * 4);
}

static void test_edges(void **state)
{
    (void)state;
    acl_task t = {"P-R1", "T-SH", "R-EAST"};
    /* NULL principal or task: denied */
    assert_int_equal(acl_check(NULL, ACL_READ, &t), ACL_NOT_FOUND);
    assert_int_equal(acl_check(NULL, ACL_LIST_MINE, NULL), ACL_FORBIDDEN);
    assert_int_equal(acl_check(&P_SUP, ACL_READ, NULL), ACL_NOT_FOUND);
    /* empty ids never match each other */
    acl_principal blank = {"", ACL_ROLE_REP, "", ""};
    acl_task blank_t = {"", "", ""};
    assert_int_equal(acl_check(&blank, ACL_READ, &blank_t), ACL_NOT_FOUND);
    acl_principal sup_noteam = {"P-S9", ACL_ROLE_SUPERVISOR, NULL, NULL};
    acl_task noteam = {"P-R9", NULL, NULL};
    assert_int_equal(acl_check(&sup_noteam, ACL_READ, &noteam), ACL_NOT_FOUND);
    /* a task escalated to a supervisor of another team: theirs now */
    acl_task escalated = {"P-S1", "T-HZ", "R-EAST"};
    assert_int_equal(acl_check(&P_SUP, ACL_ACK, &escalated), ACL_ALLOW);
    /* the system actor (sweeps, signal clears) */
    acl_principal sys = {"system", ACL_ROLE_SYSTEM, NULL, NULL};
    assert_int_equal(acl_check(&sys, ACL_REASSIGN, &t), ACL_ALLOW);
    assert_int_equal(acl_http_status(ACL_ALLOW), 200);
    assert_int_equal(acl_http_status(ACL_FORBIDDEN), 403);
    assert_int_equal(acl_http_status(ACL_NOT_FOUND), 404);
    acl_role r;
    assert_int_equal(acl_role_parse("director", &r), SP_OK);
    assert_int_equal(r, ACL_ROLE_DIRECTOR);
    assert_int_equal(acl_role_parse("boss", &r), SP_EINVAL);
}

static void test_reassign_target(void **state)
{
    (void)state;
    acl_task team = {"P-R2", "T-SH", "R-EAST"}, region = {"P-R3", "T-HZ", "R-EAST"},
             other = {"P-R4", "T-GZ", "R-SOUTH"}, self = {"P-S1", "T-SH", "R-EAST"};
    assert_true(acl_reassign_target_ok(&P_SUP, &team));
    assert_true(acl_reassign_target_ok(&P_SUP, &self));
    assert_false(acl_reassign_target_ok(&P_SUP, &region));
    assert_false(acl_reassign_target_ok(&P_SUP, &other));
    assert_true(acl_reassign_target_ok(&P_DIR, &region));
    assert_false(acl_reassign_target_ok(&P_DIR, &other));
    assert_true(acl_reassign_target_ok(&P_ADM, &other));
    assert_false(acl_reassign_target_ok(&P_REP, &team));
    acl_task nobody = {NULL, "T-SH", "R-EAST"};
    assert_false(acl_reassign_target_ok(&P_ADM, &nobody));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matrix),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_reassign_target),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
