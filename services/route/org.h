/* org.h - an in-memory snapshot of the org chart: people, teams, regions,
 * named teams (after_sales, competition_response) and absences.
 *
 * The DB loader (or org_load_json) adds rows with org_add_*, then calls
 * org_finish, which sorts, checks ids are unique and every reference
 * resolves. Lookups work only on a finished snapshot. A finished org is
 * immutable, so several readers may share it; reloading builds a new one
 * and swaps the pointer. Every string is copied in; pointers returned by
 * lookups are owned by the org and live until org_destroy. */
#ifndef SP_ROUTE_ORG_H
#define SP_ROUTE_ORG_H

#include <stddef.h>
#include <stdint.h>

typedef enum org_role {
    ORG_ROLE_UNKNOWN = 0,
    ORG_ROLE_REP,
    ORG_ROLE_SUPERVISOR,
    ORG_ROLE_DIRECTOR,
    ORG_ROLE_ADMIN,
    ORG_ROLE_AFTER_SALES,
    ORG_ROLE_COMPETITION,
} org_role;

typedef struct org_person {
    const char *id;
    const char *name; /* as people write it, usually Chinese: 李明 */
    const char *name_en; /* Li Ming; NULL = name */
    org_role role;
    const char *team_id; /* may be NULL (directors, named-team staff) */
    const char *mentor_id; /* may be NULL */
    const char *region_id; /* may be NULL */
    const char *wecom_user_id;
    const char *email;
    int active;
} org_person;

typedef struct org_team {
    const char *id;
    const char *name;
    const char *supervisor_id;
    const char *region_id;
} org_team;

typedef struct org_region {
    const char *id;
    const char *name;
    const char *director_id;
} org_region;

/* A named team: "after_sales" or "competition_response". */
typedef struct org_named_team {
    const char *name;
    const char *lead_id;
    const char *const *member_ids;
    size_t n_members;
} org_named_team;

/* Out of office for [from_ms, until_ms); reason is a code: "trip",
 * "leave", "sick", "training" or free text. */
typedef struct org_absence {
    const char *person_id;
    int64_t from_ms;
    int64_t until_ms;
    const char *reason;
} org_absence;

typedef struct org org;

#define SP_ORG_AFTER_SALES "after_sales"
#define SP_ORG_COMPETITION "competition_response"

/* Creates an empty, unfinished snapshot. Caller frees with org_destroy. */
int org_new(org **out);
void org_destroy(org *o);

/* Add rows (copied). SP_EINVAL naming the field in err when a required
 * field (id, name, role) is missing or the range is empty; SP_ESTATE
 * after org_finish. */
int org_add_person(org *o, const org_person *p, char *err, size_t errlen);
int org_add_team(org *o, const org_team *t, char *err, size_t errlen);
int org_add_region(org *o, const org_region *r, char *err, size_t errlen);
int org_add_named_team(org *o, const org_named_team *nt, char *err, size_t errlen);
int org_add_absence(org *o, const org_absence *a, char *err, size_t errlen);

/* Sorts and validates: unique ids; person team/mentor/region, team
 * supervisor/region, region director, named-team lead/members and absence
 * persons must exist. SP_ECONFIG with the item and key in err. */
int org_finish(org *o, char *err, size_t errlen);

/* Loads a snapshot from a JSON file (see tests/data/org_small.json and
 * docs/routing.md), finished. SP_ECONFIG naming file, item and key. */
int org_load_json(const char *path, org **out, char *err, size_t errlen);

/* Lookups on a finished org: NULL when absent. */
const org_person *org_person_get(const org *o, const char *id);
const org_team *org_team_get(const org *o, const char *id);
const org_region *org_region_get(const org *o, const char *id);
const org_named_team *org_named_team_get(const org *o, const char *name);

/* The absence covering at_ms for person (the one ending last), or NULL. */
const org_absence *org_absence_at(const org *o, const char *person_id, int64_t at_ms);

/* Supervisors of the teams in region (sorted by team id, deduplicated)
 * into out[cap]; *n gets the count stored. */
void org_region_supervisors(
    const org *o, const char *region_id, const org_person **out, size_t cap, size_t *n);

size_t org_person_count(const org *o);

/* "rep" <-> ORG_ROLE_REP ...; parse returns SP_EINVAL on unknown names. */
const char *org_role_name(org_role r);
int org_role_parse(const char *s, org_role *out);

#endif
