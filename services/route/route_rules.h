/* route_rules.h - which role gets a signal's task, with which playbooks and
 * SLA: tenant data (deploy/tenants/<t>/route_rules.json, docs/routing.md).
 *
 * Rules are tried in file order; the first whose kind (or "*"), optional
 * level and optional tag match the signal wins. A loaded rule set is
 * immutable: reload by loading a new one and swapping the pointer
 * (route_rules_swap), then destroying the old one once no decision in
 * flight uses it. */
#ifndef SP_ROUTE_RULES_H
#define SP_ROUTE_RULES_H

#include <stddef.h>
#include <stdint.h>

typedef enum route_target {
    ROUTE_T_NONE = 0,
    ROUTE_T_OWNER_REP,
    ROUTE_T_MENTOR,
    ROUTE_T_SUPERVISOR,
    ROUTE_T_DIRECTOR,
    ROUTE_T_AFTER_SALES, /* named team "after_sales": lead, then members */
    ROUTE_T_COMPETITION, /* named team "competition_response" */
    ROUTE_T_REGION_SUPERVISORS, /* every supervisor of a team in the region */
} route_target;

#define SP_ROUTE_MAX_WATCHERS 4

typedef struct route_rule {
    const char *id;
    const char *kind; /* signal kind, or "*" */
    int level; /* 1..3 must match; 0 = any */
    const char *tag; /* must be among the signal's tags; NULL = any */
    route_target assignee;
    route_target watchers[SP_ROUTE_MAX_WATCHERS];
    size_t n_watchers;
    const char *const *playbooks;
    size_t n_playbooks;
    int64_t sla_s; /* 0 = the level's SLA */
    const char *why_zh, *why_en;
} route_rule;

typedef struct route_rules route_rules;

/* Parses and validates rules from a file / a string (name is used in
 * messages). SP_ECONFIG with "<name>: rules[3] (id): key \"x\" ..." in err.
 * Caller frees with route_rules_destroy. */
int route_rules_load_file(const char *path, route_rules **out, char *err, size_t errlen);
int route_rules_load_string(const char *json, const char *name, route_rules **out, char *err, size_t errlen);
void route_rules_destroy(route_rules *r);

/* The first rule matching; NULL when none. level 0 matches only rules
 * without a level. tags may be NULL when n_tags is 0. */
const route_rule *route_rules_match(
    const route_rules *r, const char *kind, int level, char *const *tags, size_t n_tags);

size_t route_rules_count(const route_rules *r);
const route_rule *route_rules_at(const route_rules *r, size_t i);

/* SLA in seconds for level 1..3 (anything else counts as L1). */
int64_t route_rules_sla_s(const route_rules *r, int level);

/* Suppression window after a dismissal, seconds (default 7 days). */
int64_t route_rules_suppress_s(const route_rules *r);

/* Checks every playbook id a rule names with exists(ctx, id); SP_ECONFIG
 * naming the rule and the id otherwise. */
int route_rules_check_playbooks(
    const route_rules *r, int (*exists)(void *ctx, const char *id), void *ctx, char *err, size_t errlen);

/* Atomically replaces *slot with fresh and returns the previous rules,
 * which the caller destroys when no reader can still hold it. */
route_rules *route_rules_swap(route_rules *_Atomic *slot, route_rules *fresh);

/* "owner_rep", "mentor", "supervisor", "director", "after_sales",
 * "competition_team", "region_supervisors"; parse gives SP_EINVAL. */
const char *route_target_name(route_target t);
int route_target_parse(const char *s, route_target *out);

#endif
