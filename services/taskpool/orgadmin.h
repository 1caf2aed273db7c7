/* orgadmin.h - org administration: the one implementation of the rules for
 * people, teams, regions, named teams and absences, called by the HTTP API
 * (api_admin.c) and by `spctl org` (spctl_org.c).
 *
 * An item is a JSON object whose members are the columns (docs/api/
 * taskpool.md "Org admin"). orgadmin_check_shape is pure; orgadmin_check
 * adds the references (team, region, person exist), asked through an
 * orgadmin_lookup so the rules are testable without PostgreSQL. The
 * orgadmin_db_* functions (orgadmin_db.c) run them against PostgreSQL in
 * one transaction per call.
 *
 * Errors fill an orgadmin_err: code (SP_EINVAL invalid input, SP_ENOTFOUND
 * no such item, SP_EEXIST duplicate id, SP_ECONFLICT still referenced,
 * SP_EDB/SP_EDBDOWN database), the field at fault ("" when none) and a
 * message naming the item and field: `team T9: region_id "nowhere" is not
 * a known region`. */
#ifndef SP_TASKPOOL_ORGADMIN_H
#define SP_TASKPOOL_ORGADMIN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef enum orgadmin_entity {
    ORGADMIN_NONE = 0,
    ORGADMIN_PEOPLE,
    ORGADMIN_TEAMS,
    ORGADMIN_REGIONS,
    ORGADMIN_ABSENCES,
    ORGADMIN_NAMED_TEAMS,
} orgadmin_entity;

typedef struct orgadmin_err {
    int code;
    char field[32];
    char msg[320];
} orgadmin_err;

/* "people", "teams", "regions", "absences", "named_teams" (or
 * "named-teams") -> entity; ORGADMIN_NONE otherwise. */
orgadmin_entity orgadmin_entity_parse(const char *s);

/* The plural name ("named_teams"); "?" for NONE. */
const char *orgadmin_entity_name(orgadmin_entity e);

/* The name of one item in messages ("person", "team", "named team"). */
const char *orgadmin_entity_item(orgadmin_entity e);

/* Parses "YYYY-MM-DDTHH:MM[:SS]Z" (or "+00:00") into ms since the epoch.
 * SP_EINVAL for anything else (bad ranges included). */
int orgadmin_time_parse(const char *s, int64_t *ms);

/* Sets err (code, field, printf message) and returns code. */
int orgadmin_fail(orgadmin_err *err, int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The shape of item for entity e, no references:
 * people: id, name, role (rep supervisor director admin after_sales
 *   competition) required; team_id required for rep/supervisor, region_id
 *   for a director; mentor_id (not the person), wecom_user, email (with
 *   '@') optional; active boolean.
 * teams: id, name, region_id; supervisor_id optional.
 * regions: id, name; director_id optional.
 * named_teams: id, name, lead_id; members an array of distinct person ids.
 * absences: person_id, starts_at, ends_at (after starts_at); reason
 *   optional; id (assigned by the database) only when read back.
 * Ids are 1..64 characters of [A-Za-z0-9_.:-], names 1..200 characters;
 * optional members may be null; unknown members are refused. SP_EINVAL. */
int orgadmin_check_shape(orgadmin_entity e, const json_t *item, orgadmin_err *err);

/* How the reference checks ask whether an item exists: *found 1 or 0;
 * for people, role (cap 16) gets the person's role when found. Returns
 * SP_OK or the lookup's own error (database). */
typedef struct orgadmin_lookup {
    int (*find)(void *arg, orgadmin_entity e, const char *id, int *found, char *role, size_t cap);
    void *arg;
} orgadmin_lookup;

/* orgadmin_check_shape, then every reference of item: a person's team_id,
 * region_id and mentor_id; a team's region_id and supervisor_id; a
 * region's director_id; a named team's lead_id and members; an absence's
 * person_id. A supervisor_id must name a supervisor, director or admin, a
 * director_id a director or admin. SP_EINVAL naming the field, or the
 * lookup's error. */
int orgadmin_check(orgadmin_entity e, const json_t *item, const orgadmin_lookup *lk, orgadmin_err *err);

/* A new object: base's members overlaid by patch's (a null in patch
 * clears). Caller json_decref's. NULL on allocation failure. */
json_t *orgadmin_merge(const json_t *base, const json_t *patch);

/* --- PostgreSQL (orgadmin_db.c) ------------------------------------------ */

struct sp_db;

/* Every item of e as a JSON array into *out (caller json_decref's),
 * ordered by id (absences by person, start). person (may be NULL) limits
 * absences to one person. SP_EDB/SP_EDBDOWN. */
int orgadmin_db_list(
    struct sp_db *db, orgadmin_entity e, const char *person, json_t **out, orgadmin_err *err);

/* One item by id (absences: the numeric id) into *out. SP_ENOTFOUND. */
int orgadmin_db_get(struct sp_db *db, orgadmin_entity e, const char *id, json_t **out, orgadmin_err *err);

enum {
    ORGADMIN_CREATE = 0, /* a new item: SP_EEXIST when the id is taken */
    ORGADMIN_UPSERT = 1, /* create, or replace the whole item */
};

/* Validates item (orgadmin_check against the database) and writes it.
 * The stored id (absences: the new numeric id) into id (cap 64). */
int orgadmin_db_save(struct sp_db *db, orgadmin_entity e, const json_t *item, int mode, char *id, size_t cap,
    orgadmin_err *err);

/* Changes the members of patch on the existing item id, validating the
 * result as a whole. SP_ENOTFOUND; SP_EINVAL when patch changes the id. */
int orgadmin_db_update(
    struct sp_db *db, orgadmin_entity e, const char *id, const json_t *patch, orgadmin_err *err);

/* Deletes item id. Refused with SP_ECONFLICT while something still refers
 * to it (a team's people, a region's teams, a person who supervises,
 * directs, mentors, leads or holds tasks; deactivate people instead); a
 * person's absences, tokens and named-team memberships and a named team's
 * members go with it. SP_ENOTFOUND. */
int orgadmin_db_remove(struct sp_db *db, orgadmin_entity e, const char *id, orgadmin_err *err);

#endif
