/* orgadmin.c - the org administration rules: item shape and references. */
#include "taskpool/orgadmin.h"

#include "civil.h"
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const names[] = {"?", "people", "teams", "regions", "absences", "named_teams"};
static const char *const items[] = {"?", "person", "team", "region", "absence", "named team"};

orgadmin_entity orgadmin_entity_parse(const char *s)
{
    if (s != NULL && strcmp(s, "named-teams") == 0) return ORGADMIN_NAMED_TEAMS;
    for (int i = ORGADMIN_PEOPLE; s && i <= ORGADMIN_NAMED_TEAMS; i++)
        if (strcmp(s, names[i]) == 0) return (orgadmin_entity)i;
    return ORGADMIN_NONE;
}

const char *orgadmin_entity_name(orgadmin_entity e)
{
    return e > ORGADMIN_NONE && e <= ORGADMIN_NAMED_TEAMS ? names[e] : names[0];
}

const char *orgadmin_entity_item(orgadmin_entity e)
{
    return e > ORGADMIN_NONE && e <= ORGADMIN_NAMED_TEAMS ? items[e] : items[0];
}

int orgadmin_fail(orgadmin_err *err, int code, const char *field, const char *fmt, ...)
{
    if (err == NULL) return code;
    err->code = code;
    snprintf(err->field, sizeof err->field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

int orgadmin_time_parse(const char *s, int64_t *ms)
{
    int y, mo, d, h, mi, sec = 0;
    size_t n = s ? strlen(s) : 0;
    if (n < 17 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-'
        || !digits(s + 8, 2, &d) || s[10] != 'T' || !digits(s + 11, 2, &h) || s[13] != ':'
        || !digits(s + 14, 2, &mi))
        return SP_EINVAL;
    const char *rest = s + 16;
    if (*rest == ':') {
        if (!digits(rest + 1, 2, &sec)) return SP_EINVAL;
        rest += 3;
    }
    if (strcmp(rest, "Z") != 0 && strcmp(rest, "+00:00") != 0) return SP_EINVAL;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 59)
        return SP_EINVAL;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap) return SP_EINVAL;
    *ms = ((sp_days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000LL + sec * 1000LL;
    return SP_OK;
}

static int id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || strchr("_.:-", c)))
            return 0;
    }
    return 1;
}

/* The item as messages name it: "team T9", "person (no id)". */
static void label(orgadmin_entity e, const json_t *item, char *out, size_t cap)
{
    const char *key = e == ORGADMIN_ABSENCES ? "person_id" : "id";
    const char *id = json_string_value(json_object_get(item, key));
    if (e == ORGADMIN_ABSENCES)
        snprintf(out, cap, "absence of %s", id && *id ? id : "(no person_id)");
    else
        snprintf(out, cap, "%s %s", orgadmin_entity_item(e), id && *id ? id : "(no id)");
}

/* kind: 'i' id, 's' text. Required members must be present and not null. */
static int member(
    const char *who, const json_t *item, const char *name, char kind, int required, orgadmin_err *err)
{
    const json_t *v = json_object_get(item, name);
    if (v == NULL || json_is_null(v))
        return required ? orgadmin_fail(err, SP_EINVAL, name, "%s: %s is required", who, name) : SP_OK;
    if (!json_is_string(v)) return orgadmin_fail(err, SP_EINVAL, name, "%s: %s must be a string", who, name);
    const char *s = json_string_value(v);
    if (kind == 'i' && !id_ok(s))
        return orgadmin_fail(err, SP_EINVAL, name,
            "%s: %s \"%.64s\" must be 1..64 characters of A-Z a-z 0-9 _ . : -", who, name, s);
    if (kind == 's' && (*s == '\0' || json_string_length(v) > 200))
        return orgadmin_fail(err, SP_EINVAL, name, "%s: %s must be 1..200 characters", who, name);
    return SP_OK;
}

typedef struct spec {
    const char *name;
    char kind; /* 'i' id, 's' text, 'b' boolean, 't' time, 'm' member ids, 'n' number (read back) */
    int required;
} spec;

static const spec people_spec[]
    = {{"id", 'i', 1}, {"name", 's', 1}, {"role", 's', 1}, {"team_id", 'i', 0}, {"region_id", 'i', 0},
        {"mentor_id", 'i', 0}, {"wecom_user", 's', 0}, {"email", 's', 0}, {"active", 'b', 0}, {NULL, 0, 0}};
static const spec teams_spec[]
    = {{"id", 'i', 1}, {"name", 's', 1}, {"region_id", 'i', 1}, {"supervisor_id", 'i', 0}, {NULL, 0, 0}};
static const spec regions_spec[] = {{"id", 'i', 1}, {"name", 's', 1}, {"director_id", 'i', 0}, {NULL, 0, 0}};
static const spec named_spec[]
    = {{"id", 'i', 1}, {"name", 's', 1}, {"lead_id", 'i', 1}, {"members", 'm', 0}, {NULL, 0, 0}};
static const spec absences_spec[] = {{"id", 'n', 0}, {"person_id", 'i', 1}, {"starts_at", 't', 1},
    {"ends_at", 't', 1}, {"reason", 'r', 0}, {NULL, 0, 0}};

static const spec *spec_of(orgadmin_entity e)
{
    switch (e) {
    case ORGADMIN_PEOPLE: return people_spec;
    case ORGADMIN_TEAMS: return teams_spec;
    case ORGADMIN_REGIONS: return regions_spec;
    case ORGADMIN_NAMED_TEAMS: return named_spec;
    case ORGADMIN_ABSENCES: return absences_spec;
    default: return NULL;
    }
}

static int known(const spec *sp, const char *key)
{
    for (; sp->name; sp++)
        if (strcmp(sp->name, key) == 0) return 1;
    return 0;
}

static int check_member(const char *who, const json_t *item, const spec *s, orgadmin_err *err)
{
    const json_t *v = json_object_get(item, s->name);
    switch (s->kind) {
    case 'i':
    case 's': return member(who, item, s->name, s->kind, s->required, err);
    case 'r': /* free text, may be empty */
        if (v != NULL && !json_is_null(v) && (!json_is_string(v) || json_string_length(v) > 200))
            return orgadmin_fail(
                err, SP_EINVAL, s->name, "%s: %s must be text of at most 200 characters", who, s->name);
        return SP_OK;
    case 'b':
        if (v != NULL && !json_is_null(v) && !json_is_boolean(v))
            return orgadmin_fail(err, SP_EINVAL, s->name, "%s: %s must be true or false", who, s->name);
        return SP_OK;
    case 'n':
        if (v != NULL && !json_is_null(v) && !json_is_integer(v) && !json_is_string(v))
            return orgadmin_fail(err, SP_EINVAL, s->name, "%s: %s is assigned by the database", who, s->name);
        return SP_OK;
    case 't': {
        int rv = member(who, item, s->name, 's', s->required, err);
        int64_t ms;
        if (rv == SP_OK && orgadmin_time_parse(json_string_value(v), &ms) != SP_OK)
            return orgadmin_fail(err, SP_EINVAL, s->name, "%s: %s \"%.40s\" must be YYYY-MM-DDTHH:MM[:SS]Z",
                who, s->name, json_string_value(v));
        return rv;
    }
    case 'm': {
        if (v == NULL || json_is_null(v)) return SP_OK;
        if (!json_is_array(v))
            return orgadmin_fail(
                err, SP_EINVAL, s->name, "%s: %s must be an array of person ids", who, s->name);
        size_t i, k;
        const json_t *m;
        json_array_foreach(v, i, m)
        {
            const char *id = json_string_value(m);
            if (id == NULL || !id_ok(id))
                return orgadmin_fail(
                    err, SP_EINVAL, s->name, "%s: %s[%zu] must be a person id", who, s->name, i);
            for (k = 0; k < i; k++)
                if (strcmp(json_string_value(json_array_get(v, k)), id) == 0)
                    return orgadmin_fail(
                        err, SP_EINVAL, s->name, "%s: %s lists \"%s\" twice", who, s->name, id);
        }
        return SP_OK;
    }
    default: return SP_OK;
    }
}

static const char *const roles[]
    = {"rep", "supervisor", "director", "admin", "after_sales", "competition", NULL};

static int role_ok(const char *r)
{
    for (int i = 0; r && roles[i]; i++)
        if (strcmp(r, roles[i]) == 0) return 1;
    return 0;
}

static const char *str(const json_t *item, const char *key)
{
    return json_string_value(json_object_get(item, key));
}

int orgadmin_check_shape(orgadmin_entity e, const json_t *item, orgadmin_err *err)
{
    const spec *sp = spec_of(e);
    if (sp == NULL) return orgadmin_fail(err, SP_EINVAL, "entity", "unknown kind of item");
    if (!json_is_object(item))
        return orgadmin_fail(err, SP_EINVAL, "body", "a %s must be a JSON object", orgadmin_entity_item(e));
    char who[96];
    label(e, item, who, sizeof who);
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)item, key, v)
    {
        if (!known(sp, key))
            return orgadmin_fail(err, SP_EINVAL, key, "%s: unknown field \"%.40s\"", who, key);
    }
    int rv;
    for (const spec *s = sp; s->name; s++)
        if ((rv = check_member(who, item, s, err)) != SP_OK) return rv;
    if (e == ORGADMIN_PEOPLE) {
        const char *r = str(item, "role");
        if (!role_ok(r))
            return orgadmin_fail(err, SP_EINVAL, "role",
                "%s: role \"%.32s\" must be rep, supervisor, director, admin, after_sales or competition",
                who, r);
        const char *em = str(item, "email");
        if (em != NULL && strchr(em, '@') == NULL)
            return orgadmin_fail(
                err, SP_EINVAL, "email", "%s: email \"%.64s\" is not an e-mail address", who, em);
        if ((strcmp(r, "rep") == 0 || strcmp(r, "supervisor") == 0) && str(item, "team_id") == NULL)
            return orgadmin_fail(err, SP_EINVAL, "team_id", "%s: team_id is required for a %s", who, r);
        if (strcmp(r, "director") == 0 && str(item, "region_id") == NULL)
            return orgadmin_fail(
                err, SP_EINVAL, "region_id", "%s: region_id is required for a director", who);
        const char *m = str(item, "mentor_id");
        if (m != NULL && strcmp(m, str(item, "id")) == 0)
            return orgadmin_fail(err, SP_EINVAL, "mentor_id", "%s: mentor_id is the person themself", who);
    } else if (e == ORGADMIN_ABSENCES) {
        int64_t a = 0, b = 0;
        orgadmin_time_parse(str(item, "starts_at"), &a);
        orgadmin_time_parse(str(item, "ends_at"), &b);
        if (b <= a)
            return orgadmin_fail(err, SP_EINVAL, "ends_at", "%s: ends_at %s is not after starts_at %s", who,
                str(item, "ends_at"), str(item, "starts_at"));
    }
    return SP_OK;
}

/* The reference key of item must name an existing target; for people with
 * roles (NULL: any role) one of them. */
static int ref(const char *who, const json_t *item, const char *key, orgadmin_entity target,
    const char *const *want, const char *want_text, const orgadmin_lookup *lk, orgadmin_err *err)
{
    const char *id = str(item, key);
    if (id == NULL) return SP_OK;
    int found = 0, rv;
    char role[16] = "";
    if ((rv = lk->find(lk->arg, target, id, &found, role, sizeof role)) != SP_OK)
        return orgadmin_fail(err, rv, key, "%s: could not look up %s \"%s\"", who, key, id);
    if (!found)
        return orgadmin_fail(err, SP_EINVAL, key, "%s: %s \"%s\" is not a known %s", who, key, id,
            orgadmin_entity_item(target));
    for (int i = 0; want && want[i]; i++)
        if (strcmp(role, want[i]) == 0) return SP_OK;
    if (want != NULL)
        return orgadmin_fail(
            err, SP_EINVAL, key, "%s: %s \"%s\" is a %s, not a %s", who, key, id, role, want_text);
    return SP_OK;
}

int orgadmin_check(orgadmin_entity e, const json_t *item, const orgadmin_lookup *lk, orgadmin_err *err)
{
    static const char *const sup_roles[] = {"supervisor", "director", "admin", NULL};
    static const char *const dir_roles[] = {"director", "admin", NULL};
    int rv = orgadmin_check_shape(e, item, err);
    if (rv != SP_OK) return rv;
    char who[96];
    label(e, item, who, sizeof who);
    switch (e) {
    case ORGADMIN_PEOPLE:
        if ((rv = ref(who, item, "team_id", ORGADMIN_TEAMS, NULL, NULL, lk, err))
            || (rv = ref(who, item, "region_id", ORGADMIN_REGIONS, NULL, NULL, lk, err))
            || (rv = ref(who, item, "mentor_id", ORGADMIN_PEOPLE, NULL, NULL, lk, err)))
            return rv;
        return SP_OK;
    case ORGADMIN_TEAMS:
        if ((rv = ref(who, item, "region_id", ORGADMIN_REGIONS, NULL, NULL, lk, err))
            || (rv = ref(who, item, "supervisor_id", ORGADMIN_PEOPLE, sup_roles,
                    "supervisor, director or admin", lk, err)))
            return rv;
        return SP_OK;
    case ORGADMIN_REGIONS:
        return ref(who, item, "director_id", ORGADMIN_PEOPLE, dir_roles, "director or admin", lk, err);
    case ORGADMIN_NAMED_TEAMS: {
        if ((rv = ref(who, item, "lead_id", ORGADMIN_PEOPLE, NULL, NULL, lk, err)) != SP_OK) return rv;
        size_t i;
        const json_t *m;
        json_array_foreach(json_object_get(item, "members"), i, m)
        {
            int found = 0;
            char role[16];
            const char *id = json_string_value(m);
            if ((rv = lk->find(lk->arg, ORGADMIN_PEOPLE, id, &found, role, sizeof role)) != SP_OK)
                return orgadmin_fail(err, rv, "members", "%s: could not look up member \"%s\"", who, id);
            if (!found)
                return orgadmin_fail(
                    err, SP_EINVAL, "members", "%s: members[%zu] \"%s\" is not a known person", who, i, id);
        }
        return SP_OK;
    }
    case ORGADMIN_ABSENCES: return ref(who, item, "person_id", ORGADMIN_PEOPLE, NULL, NULL, lk, err);
    default: return orgadmin_fail(err, SP_EINVAL, "entity", "unknown kind of item");
    }
}

json_t *orgadmin_merge(const json_t *base, const json_t *patch)
{
    json_t *o = json_is_object(base) ? json_deep_copy(base) : json_object();
    if (o == NULL) return NULL;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)patch, key, v)
    {
        if (json_object_set(o, key, v) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}
