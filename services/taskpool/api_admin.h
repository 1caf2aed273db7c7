/* api_admin.h - org administration (admin only): people, teams, regions,
 * absences. Validation is pure: it takes the decoded JSON body and names
 * the offending field. */
#ifndef SP_TASKPOOL_API_ADMIN_H
#define SP_TASKPOOL_API_ADMIN_H

#include <jansson.h>
#include <stdint.h>

typedef enum api_entity {
    API_ENTITY_NONE = 0,
    API_ENTITY_PEOPLE,
    API_ENTITY_TEAMS,
    API_ENTITY_REGIONS,
    API_ENTITY_ABSENCES,
} api_entity;

/* "people", "teams", "regions", "absences" -> entity; NONE otherwise. */
api_entity api_entity_parse(const char *s);

/* Parses "YYYY-MM-DDTHH:MM[:SS]Z" (or "+00:00") into ms since the epoch.
 * SP_EINVAL for anything else (bad ranges included). */
int api_time_parse(const char *s, int64_t *ms);

/* Checks body for entity e. people: id, name, role (rep, supervisor,
 * director, admin, after_sales, competition) required; team_id, region_id,
 * mentor_id, wecom_user optional strings; email optional with '@'; active
 * optional boolean. teams: id, name, region_id; supervisor_id optional.
 * regions: id, name; director_id optional. absences: person_id, starts_at,
 * ends_at (after starts_at); reason optional. Ids are 1..64 characters of
 * [A-Za-z0-9_.:-]. SP_EINVAL with *field and a static *why. */
int api_admin_validate(api_entity e, const json_t *body, const char **field, const char **why);

#endif
