/* acl.c - task access control by role and scope. */
#include "taskpool/acl.h"

#include "err.h"

#include <string.h>

static int eq(const char *a, const char *b)
{
    return a != NULL && b != NULL && *a != '\0' && strcmp(a, b) == 0;
}

int acl_in_scope(const acl_principal *p, const acl_task *t)
{
    if (p == NULL || t == NULL || p->person_id == NULL || *p->person_id == '\0') return 0;
    if (eq(t->assignee_id, p->person_id)) return 1;
    switch (p->role) {
    case ACL_ROLE_ADMIN: return 1;
    case ACL_ROLE_SUPERVISOR: return eq(t->team_id, p->team_id);
    case ACL_ROLE_DIRECTOR: return eq(t->region_id, p->region_id);
    default: return 0;
    }
}

static int known(const acl_principal *p)
{
    return p != NULL && p->person_id != NULL && *p->person_id != '\0'
        && ((p->role >= ACL_ROLE_REP && p->role <= ACL_ROLE_COMPETITION) || p->role == ACL_ROLE_SYSTEM);
}

static int manager(acl_role r)
{
    return r == ACL_ROLE_SUPERVISOR || r == ACL_ROLE_DIRECTOR || r == ACL_ROLE_ADMIN || r == ACL_ROLE_SYSTEM;
}

acl_verdict acl_check(const acl_principal *p, acl_action action, const acl_task *t)
{
    if (!known(p))
        return action == ACL_LIST_MINE || action == ACL_LIST_TEAM || action == ACL_ORG_ADMIN ? ACL_FORBIDDEN
                                                                                             : ACL_NOT_FOUND;
    if (p->role == ACL_ROLE_SYSTEM) return ACL_ALLOW;
    switch (action) {
    case ACL_LIST_MINE: return ACL_ALLOW;
    case ACL_LIST_TEAM: return manager(p->role) ? ACL_ALLOW : ACL_FORBIDDEN;
    case ACL_ORG_ADMIN: return p->role == ACL_ROLE_ADMIN ? ACL_ALLOW : ACL_FORBIDDEN;
    case ACL_READ:
    case ACL_ACK:
    case ACL_START:
    case ACL_COMPLETE:
    case ACL_DISMISS: return acl_in_scope(p, t) ? ACL_ALLOW : ACL_NOT_FOUND;
    case ACL_REASSIGN:
        if (!acl_in_scope(p, t)) return ACL_NOT_FOUND;
        return manager(p->role) ? ACL_ALLOW : ACL_FORBIDDEN;
    }
    return ACL_FORBIDDEN;
}

int acl_reassign_target_ok(const acl_principal *p, const acl_task *target)
{
    if (!known(p) || !manager(p->role) || target == NULL || target->assignee_id == NULL
        || *target->assignee_id == '\0')
        return 0;
    if (p->role == ACL_ROLE_ADMIN || p->role == ACL_ROLE_SYSTEM) return 1;
    if (eq(target->assignee_id, p->person_id)) return 1;
    return p->role == ACL_ROLE_SUPERVISOR ? eq(target->team_id, p->team_id)
                                          : eq(target->region_id, p->region_id);
}

int acl_http_status(acl_verdict v)
{
    return v == ACL_ALLOW ? 200 : v == ACL_FORBIDDEN ? 403 : 404;
}

static const char *const role_names[]
    = {"none", "rep", "supervisor", "director", "admin", "after_sales", "competition"};

const char *acl_role_name(acl_role r)
{
    if (r == ACL_ROLE_SYSTEM) return "system";
    if ((int)r < 0 || r > ACL_ROLE_COMPETITION) return "none";
    return role_names[r];
}

int acl_role_parse(const char *s, acl_role *out)
{
    if (s == NULL) return SP_EINVAL;
    for (int r = ACL_ROLE_REP; r <= ACL_ROLE_COMPETITION; r++)
        if (strcmp(s, role_names[r]) == 0) {
            *out = (acl_role)r;
            return SP_OK;
        }
    return SP_EINVAL;
}

const char *acl_action_name(acl_action a)
{
    static const char *const names[] = {"?", "list_mine", "list_team", "read", "ack", "start", "complete",
        "dismiss", "reassign", "org_admin"};
    return (int)a >= 1 && a <= ACL_ORG_ADMIN ? names[a] : "?";
}
