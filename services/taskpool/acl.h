/* acl.h - who may see and act on which task.
 *
 * A rep (and after-sales or competition-team staff) sees and acts on the
 * tasks assigned to them; a supervisor on their team's tasks; a director
 * on their region's; an admin on everything; anybody on a task assigned
 * to them personally. Anything else is denied.
 *
 * 403 vs 404: an action on a task outside the principal's scope answers
 * 404, exactly as for a task that does not exist, so ids never leak
 * across teams. 403 is for what the principal may know exists but may not
 * do: an endpoint their role never may use (list team as a rep, org admin
 * below admin), or reassigning a task they can see without the rank. */
#ifndef SP_TASKPOOL_ACL_H
#define SP_TASKPOOL_ACL_H

typedef enum acl_role {
    ACL_ROLE_NONE = 0,
    ACL_ROLE_REP, /* same numbers as route's org_role */
    ACL_ROLE_SUPERVISOR,
    ACL_ROLE_DIRECTOR,
    ACL_ROLE_ADMIN,
    ACL_ROLE_AFTER_SALES,
    ACL_ROLE_COMPETITION,
    ACL_ROLE_SYSTEM = 100, /* sp-taskpool itself: system_close, escalate */
} acl_role;

typedef enum acl_action {
    ACL_LIST_MINE = 1,
    ACL_LIST_TEAM, /* a supervisor's team, a director's region, an admin's all */
    ACL_READ,
    ACL_ACK,
    ACL_START,
    ACL_COMPLETE,
    ACL_DISMISS,
    ACL_REASSIGN,
    ACL_ORG_ADMIN, /* org chart, absences, tokens */
} acl_action;

typedef enum acl_verdict {
    ACL_ALLOW = 0,
    ACL_FORBIDDEN, /* HTTP 403 */
    ACL_NOT_FOUND, /* HTTP 404: existence must not leak */
} acl_verdict;

typedef struct acl_principal {
    const char *person_id;
    acl_role role;
    const char *team_id; /* may be NULL */
    const char *region_id; /* may be NULL */
} acl_principal;

/* The scope fields of a task (or of a reassignment target). */
typedef struct acl_task {
    const char *assignee_id;
    const char *team_id;
    const char *region_id;
} acl_task;

/* Decides action by p on t (t is ignored for LIST_* and ORG_ADMIN and may
 * be NULL there; a NULL t for a task action gives ACL_NOT_FOUND). Never
 * fails: a NULL or unknown principal is denied. */
acl_verdict acl_check(const acl_principal *p, acl_action action, const acl_task *t);

/* 1 when p may hand a task to target (a person's team/region, with
 * assignee_id the person): the target must be in p's scope. */
int acl_reassign_target_ok(const acl_principal *p, const acl_task *target);

/* 1 when t is in p's scope (read access). */
int acl_in_scope(const acl_principal *p, const acl_task *t);

/* HTTP status of a verdict: 200, 403 or 404. */
int acl_http_status(acl_verdict v);

/* "rep", "supervisor", ... ; parse gives SP_EINVAL on unknown names. */
const char *acl_role_name(acl_role r);
int acl_role_parse(const char *s, acl_role *out);
const char *acl_action_name(acl_action a);

#endif
