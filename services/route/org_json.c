/* org_json.c - builds an org snapshot from a JSON file, the same rows the
 * DB loader adds. Format in docs/routing.md. */
#include "err.h"
#include "route/org.h"
#include "route/rjson.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define W 160 /* "where" buffer */

static int load_people(org *o, const char *path, json_t *arr, char *err, size_t errlen)
{
    static const char *const keys[] = {"id", "name", "name_en", "role", "team_id", "mentor_id", "region_id",
        "wecom_user_id", "email", "active", NULL};
    size_t i;
    json_t *it;
    int rv;
    json_array_foreach(arr, i, it)
    {
        char where[W];
        snprintf(where, sizeof where, "%s: people[%zu]", path, i);
        org_person p = {0};
        const char *role;
        if (!json_is_object(it)) return rjson_fail(err, errlen, "%s: not a JSON object", where);
        if ((rv = rjson_str(it, "id", 1, &p.id, where, err, errlen)) != 0) return rv;
        snprintf(where, sizeof where, "%s: people[%zu] (%s)", path, i, p.id);
        if ((rv = rjson_keys(it, keys, where, err, errlen)) != 0) return rv;
        if ((rv = rjson_str(it, "name", 1, &p.name, where, err, errlen)) != 0
            || (rv = rjson_str(it, "name_en", 0, &p.name_en, where, err, errlen)) != 0
            || (rv = rjson_str(it, "role", 1, &role, where, err, errlen)) != 0
            || (rv = rjson_str(it, "team_id", 0, &p.team_id, where, err, errlen)) != 0
            || (rv = rjson_str(it, "mentor_id", 0, &p.mentor_id, where, err, errlen)) != 0
            || (rv = rjson_str(it, "region_id", 0, &p.region_id, where, err, errlen)) != 0
            || (rv = rjson_str(it, "wecom_user_id", 0, &p.wecom_user_id, where, err, errlen)) != 0
            || (rv = rjson_str(it, "email", 0, &p.email, where, err, errlen)) != 0
            || (rv = rjson_bool(it, "active", 1, &p.active, where, err, errlen)) != 0)
            return rv;
        if (org_role_parse(role, &p.role) != SP_OK)
            return rjson_fail(err, errlen,
                "%s: key \"role\": \"%s\" is not one of "
                "rep|supervisor|director|admin|after_sales|competition",
                where, role);
        if ((rv = org_add_person(o, &p, NULL, 0)) != 0) return rv == SP_EINVAL ? SP_ECONFIG : rv;
    }
    return SP_OK;
}

static int load_teams(org *o, const char *path, json_t *arr, char *err, size_t errlen)
{
    static const char *const keys[] = {"id", "name", "supervisor_id", "region_id", NULL};
    size_t i;
    json_t *it;
    int rv;
    json_array_foreach(arr, i, it)
    {
        char where[W];
        snprintf(where, sizeof where, "%s: teams[%zu]", path, i);
        org_team t = {0};
        if ((rv = rjson_keys(it, keys, where, err, errlen)) != 0
            || (rv = rjson_str(it, "id", 1, &t.id, where, err, errlen)) != 0
            || (rv = rjson_str(it, "name", 0, &t.name, where, err, errlen)) != 0
            || (rv = rjson_str(it, "supervisor_id", 1, &t.supervisor_id, where, err, errlen)) != 0
            || (rv = rjson_str(it, "region_id", 0, &t.region_id, where, err, errlen)) != 0)
            return rv;
        if ((rv = org_add_team(o, &t, NULL, 0)) != 0) return rv == SP_EINVAL ? SP_ECONFIG : rv;
    }
    return SP_OK;
}

static int load_regions(org *o, const char *path, json_t *arr, char *err, size_t errlen)
{
    static const char *const keys[] = {"id", "name", "director_id", NULL};
    size_t i;
    json_t *it;
    int rv;
    json_array_foreach(arr, i, it)
    {
        char where[W];
        snprintf(where, sizeof where, "%s: regions[%zu]", path, i);
        org_region r = {0};
        if ((rv = rjson_keys(it, keys, where, err, errlen)) != 0
            || (rv = rjson_str(it, "id", 1, &r.id, where, err, errlen)) != 0
            || (rv = rjson_str(it, "name", 0, &r.name, where, err, errlen)) != 0
            || (rv = rjson_str(it, "director_id", 0, &r.director_id, where, err, errlen)) != 0)
            return rv;
        if ((rv = org_add_region(o, &r, NULL, 0)) != 0) return rv == SP_EINVAL ? SP_ECONFIG : rv;
    }
    return SP_OK;
}

static int load_named(org *o, const char *path, json_t *arr, char *err, size_t errlen)
{
    static const char *const keys[] = {"name", "lead_id", "member_ids", NULL};
    size_t i;
    json_t *it;
    int rv;
    json_array_foreach(arr, i, it)
    {
        char where[W];
        snprintf(where, sizeof where, "%s: named_teams[%zu]", path, i);
        org_named_team nt = {0};
        if ((rv = rjson_keys(it, keys, where, err, errlen)) != 0
            || (rv = rjson_str(it, "name", 1, &nt.name, where, err, errlen)) != 0
            || (rv = rjson_str(it, "lead_id", 1, &nt.lead_id, where, err, errlen)) != 0)
            return rv;
        json_t *m = json_object_get(it, "member_ids");
        if (m != NULL && !json_is_array(m))
            return rjson_fail(err, errlen, "%s: key \"member_ids\" must be an array of person ids", where);
        size_t n = json_array_size(m);
        const char **ids = calloc(n ? n : 1, sizeof *ids);
        if (ids == NULL) return SP_ENOMEM;
        for (size_t j = 0; j < n; j++) {
            ids[j] = json_string_value(json_array_get(m, j));
            if (ids[j] == NULL || *ids[j] == '\0') {
                free(ids);
                return rjson_fail(err, errlen, "%s: member_ids[%zu] must be a non-empty string", where, j);
            }
        }
        nt.member_ids = ids;
        nt.n_members = n;
        rv = org_add_named_team(o, &nt, NULL, 0);
        free(ids);
        if (rv != 0) return rv == SP_EINVAL ? SP_ECONFIG : rv;
    }
    return SP_OK;
}

static int load_absences(org *o, const char *path, json_t *arr, char *err, size_t errlen)
{
    static const char *const keys[] = {"person_id", "from", "until", "reason", NULL};
    size_t i;
    json_t *it;
    int rv;
    json_array_foreach(arr, i, it)
    {
        char where[W];
        snprintf(where, sizeof where, "%s: absences[%zu]", path, i);
        org_absence a = {0};
        if ((rv = rjson_keys(it, keys, where, err, errlen)) != 0
            || (rv = rjson_str(it, "person_id", 1, &a.person_id, where, err, errlen)) != 0
            || (rv = rjson_time_ms(it, "from", &a.from_ms, where, err, errlen)) != 0
            || (rv = rjson_time_ms(it, "until", &a.until_ms, where, err, errlen)) != 0
            || (rv = rjson_str(it, "reason", 0, &a.reason, where, err, errlen)) != 0)
            return rv;
        if (a.until_ms <= a.from_ms)
            return rjson_fail(err, errlen, "%s: key \"until\" must be after \"from\"", where);
        if ((rv = org_add_absence(o, &a, NULL, 0)) != 0) return rv == SP_EINVAL ? SP_ECONFIG : rv;
    }
    return SP_OK;
}

typedef int (*section_fn)(org *, const char *, json_t *, char *, size_t);

int org_load_json(const char *path, org **out, char *err, size_t errlen)
{
    static const char *const keys[] = {"regions", "teams", "people", "named_teams", "absences", NULL};
    static const struct {
        const char *key;
        section_fn fn;
    } sections[] = {{"regions", load_regions}, {"teams", load_teams}, {"people", load_people},
        {"named_teams", load_named}, {"absences", load_absences}};
    json_t *root = NULL;
    org *o = NULL;
    int rv;
    char finish_err[256] = "";
    *out = NULL;
    if ((rv = rjson_load_file(path, &root, err, errlen)) != 0) return rv;
    if ((rv = rjson_keys(root, keys, path, err, errlen)) != 0 || (rv = org_new(&o)) != 0) goto fail;
    for (size_t s = 0; s < sizeof sections / sizeof sections[0]; s++) {
        json_t *arr = json_object_get(root, sections[s].key);
        if (arr == NULL) continue;
        if (!json_is_array(arr)) {
            rv = rjson_fail(err, errlen, "%s: key \"%s\" must be an array", path, sections[s].key);
            goto fail;
        }
        if ((rv = sections[s].fn(o, path, arr, err, errlen)) != 0) goto fail;
    }
    if ((rv = org_finish(o, finish_err, sizeof finish_err)) != 0) {
        rv = rjson_fail(err, errlen, "%s: %s", path, finish_err);
        goto fail;
    }
    json_decref(root);
    *out = o;
    return SP_OK;
fail:
    json_decref(root);
    org_destroy(o);
    return rv;
}
