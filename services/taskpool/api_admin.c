/* api_admin.c - GET/POST /v1/admin/{people,teams,regions,absences}. */
#include "taskpool/api_admin.h"

#include "err.h"
#include "taskpool/api_internal.h"

#include "civil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

api_entity api_entity_parse(const char *s)
{
    static const char *const n[] = {"", "people", "teams", "regions", "absences"};
    for (int i = 1; s && i <= API_ENTITY_ABSENCES; i++)
        if (strcmp(s, n[i]) == 0) return (api_entity)i;
    return API_ENTITY_NONE;
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

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t days_from_civil(int y, int m, int d)
{
    return sp_days_from_civil(y, m, d);
}

int api_time_parse(const char *s, int64_t *ms)
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
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 59) return SP_EINVAL;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap) return SP_EINVAL;
    *ms = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000LL + sec * 1000LL;
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

static int bad(const char **field, const char **why, const char *f, const char *w)
{
    *field = f;
    *why = w;
    return SP_EINVAL;
}

/* kind: 'i' id, 's' non-empty text; required or optional (null allowed). */
static int member(
    const json_t *body, const char *name, char kind, int required, const char **field, const char **why)
{
    const json_t *v = json_object_get(body, name);
    if (v == NULL || json_is_null(v)) return required ? bad(field, why, name, "required") : SP_OK;
    if (!json_is_string(v)) return bad(field, why, name, "must be a string");
    const char *s = json_string_value(v);
    if (kind == 'i' && !id_ok(s))
        return bad(field, why, name, "must be 1..64 characters of A-Z a-z 0-9 _ . : -");
    if (kind == 's' && (*s == '\0' || json_string_length(v) > 200))
        return bad(field, why, name, "must be 1..200 characters");
    return SP_OK;
}

int api_admin_validate(api_entity e, const json_t *body, const char **field, const char **why)
{
    if (!json_is_object(body)) return bad(field, why, "body", "must be a JSON object");
    int rv;
    switch (e) {
    case API_ENTITY_PEOPLE: {
        if ((rv = member(body, "id", 'i', 1, field, why)) || (rv = member(body, "name", 's', 1, field, why))
            || (rv = member(body, "role", 's', 1, field, why))
            || (rv = member(body, "team_id", 'i', 0, field, why))
            || (rv = member(body, "region_id", 'i', 0, field, why))
            || (rv = member(body, "mentor_id", 'i', 0, field, why))
            || (rv = member(body, "wecom_user", 's', 0, field, why))
            || (rv = member(body, "email", 's', 0, field, why)))
            return rv;
        acl_role r;
        if (acl_role_parse(json_string_value(json_object_get(body, "role")), &r) != SP_OK)
            return bad(
                field, why, "role", "must be rep, supervisor, director, admin, after_sales or competition");
        const json_t *em = json_object_get(body, "email");
        if (json_is_string(em) && strchr(json_string_value(em), '@') == NULL)
            return bad(field, why, "email", "must be an e-mail address");
        const json_t *act = json_object_get(body, "active");
        if (act && !json_is_boolean(act)) return bad(field, why, "active", "must be true or false");
        if ((r == ACL_ROLE_REP || r == ACL_ROLE_SUPERVISOR)
            && !json_is_string(json_object_get(body, "team_id")))
            return bad(field, why, "team_id", "required for a rep or supervisor");
        if (r == ACL_ROLE_DIRECTOR && !json_is_string(json_object_get(body, "region_id")))
            return bad(field, why, "region_id", "required for a director");
        return SP_OK;
    }
    case API_ENTITY_TEAMS:
        if ((rv = member(body, "id", 'i', 1, field, why)) || (rv = member(body, "name", 's', 1, field, why))
            || (rv = member(body, "region_id", 'i', 1, field, why))
            || (rv = member(body, "supervisor_id", 'i', 0, field, why)))
            return rv;
        return SP_OK;
    case API_ENTITY_REGIONS:
        if ((rv = member(body, "id", 'i', 1, field, why)) || (rv = member(body, "name", 's', 1, field, why))
            || (rv = member(body, "director_id", 'i', 0, field, why)))
            return rv;
        return SP_OK;
    case API_ENTITY_ABSENCES: {
        if ((rv = member(body, "person_id", 'i', 1, field, why))
            || (rv = member(body, "starts_at", 's', 1, field, why))
            || (rv = member(body, "ends_at", 's', 1, field, why)))
            return rv;
        const json_t *reason = json_object_get(body, "reason");
        if (reason && !json_is_string(reason)) return bad(field, why, "reason", "must be a string");
        int64_t a, b;
        if (api_time_parse(json_string_value(json_object_get(body, "starts_at")), &a) != SP_OK)
            return bad(field, why, "starts_at", "must be YYYY-MM-DDTHH:MM[:SS]Z");
        if (api_time_parse(json_string_value(json_object_get(body, "ends_at")), &b) != SP_OK)
            return bad(field, why, "ends_at", "must be YYYY-MM-DDTHH:MM[:SS]Z");
        if (b <= a) return bad(field, why, "ends_at", "must be after starts_at");
        return SP_OK;
    }
    default: return bad(field, why, "entity", "unknown");
    }
}

static const char *str(const json_t *body, const char *name)
{
    return json_string_value(json_object_get(body, name)); /* NULL for absent/null: SQL NULL */
}

static int admin_entity(const sp_http_req *req, sp_http_res *res, api_entity *e)
{
    acl_principal p;
    api_principal(req, &p);
    if (acl_check(&p, ACL_ORG_ADMIN, NULL) != ACL_ALLOW) {
        sp_http_res_error(res, 403, "forbidden", "org administration is for admins", NULL);
        return SP_EFORBIDDEN;
    }
    if ((*e = api_entity_parse(req->tail)) == API_ENTITY_NONE) {
        sp_http_res_error(res, 404, "not_found", "no such resource", NULL);
        return SP_ENOTFOUND;
    }
    return SP_OK;
}

int api_h_admin_get(const sp_http_req *req, sp_http_res *res, void *arg)
{
    taskpool_api *api = arg;
    api_entity e;
    if (admin_entity(req, res, &e) != SP_OK) return SP_EINVAL;
    static const char *const sql[] = {"",
        "SELECT id, name, role, team_id, region_id, mentor_id, wecom_user, email, active FROM people ORDER "
        "BY id",
        "SELECT id, name, region_id, supervisor_id FROM teams ORDER BY id",
        "SELECT id, name, director_id FROM regions ORDER BY id",
        "SELECT id, person_id, " API_TS("starts_at") " AS starts_at, " API_TS(
            "ends_at") " AS ends_at, reason "
                       "FROM absences ORDER BY person_id, starts_at"};
    sp_db *db = NULL;
    if (api_db_get(api, res, &db) != SP_OK) return SP_EDBDOWN;
    PGresult *r = NULL;
    int rv = sp_db_exec(db, sql[e], 0, NULL, &r);
    if (rv != SP_OK) api_db_fail(res, db, rv);
    api_pool_put(api->cfg.pool, db);
    if (rv != SP_OK) return rv;
    json_t *o = json_pack("{s:o}", req->tail, api_rows_json(r));
    PQclear(r);
    return api_reply(res, o);
}

/* The column named by a foreign-key violation ("people_team_id_fkey" ->
 * "team_id"), for a 422 that names the field. */
static void fkey_field(const char *msg, const char *table, char *out, size_t cap)
{
    const char *k = strstr(msg, "constraint \"");
    snprintf(out, cap, "%s", "");
    if (k == NULL) return;
    k += strlen("constraint \"");
    size_t tl = strlen(table);
    const char *end = strstr(k, "_fkey\"");
    if (end == NULL || strncmp(k, table, tl) != 0 || k[tl] != '_') return;
    k += tl + 1;
    if (end > k && (size_t)(end - k) < cap) {
        memcpy(out, k, (size_t)(end - k));
        out[end - k] = '\0';
    }
}

int api_h_admin_post(const sp_http_req *req, sp_http_res *res, void *arg)
{
    taskpool_api *api = arg;
    api_entity e;
    if (admin_entity(req, res, &e) != SP_OK) return SP_EINVAL;
    json_t *body = NULL;
    if (sp_http_req_json(req, res, &body) != SP_OK) return SP_EINVAL;
    const char *field = NULL, *why = NULL;
    if (api_admin_validate(e, body, &field, &why) != SP_OK) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s %s", field, why);
        json_decref(body);
        return sp_http_res_error(res, 422, "invalid_field", msg, field);
    }
    const char *sql = NULL, *p[10] = {0};
    int n = 0;
    char starts[24], ends[24];
    switch (e) {
    case API_ENTITY_PEOPLE: {
        const json_t *act = json_object_get(body, "active");
        const char *fields[]
            = {"id", "name", "role", "team_id", "region_id", "mentor_id", "wecom_user", "email"};
        for (n = 0; n < 8; n++)
            p[n] = str(body, fields[n]);
        p[n++] = act == NULL || json_is_true(act) ? "true" : "false";
        sql = "INSERT INTO people (id, name, role, team_id, region_id, mentor_id, wecom_user, email, active) "
              "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9::boolean) ON CONFLICT (id) DO UPDATE SET name = "
              "EXCLUDED.name, "
              "role = EXCLUDED.role, team_id = EXCLUDED.team_id, region_id = EXCLUDED.region_id, "
              "mentor_id = EXCLUDED.mentor_id, wecom_user = EXCLUDED.wecom_user, email = EXCLUDED.email, "
              "active = EXCLUDED.active RETURNING id";
        break;
    }
    case API_ENTITY_TEAMS:
        p[0] = str(body, "id"), p[1] = str(body, "name"), p[2] = str(body, "region_id"),
        p[3] = str(body, "supervisor_id");
        n = 4;
        sql = "INSERT INTO teams (id, name, region_id, supervisor_id) VALUES ($1,$2,$3,$4) ON CONFLICT (id) "
              "DO UPDATE "
              "SET name = EXCLUDED.name, region_id = EXCLUDED.region_id, supervisor_id = "
              "EXCLUDED.supervisor_id "
              "RETURNING id";
        break;
    case API_ENTITY_REGIONS:
        p[0] = str(body, "id"), p[1] = str(body, "name"), p[2] = str(body, "director_id");
        n = 3;
        sql = "INSERT INTO regions (id, name, director_id) VALUES ($1,$2,$3) ON CONFLICT (id) DO UPDATE "
              "SET name = EXCLUDED.name, director_id = EXCLUDED.director_id RETURNING id";
        break;
    default: {
        int64_t a = 0, b = 0;
        api_time_parse(str(body, "starts_at"), &a);
        api_time_parse(str(body, "ends_at"), &b);
        snprintf(starts, sizeof starts, "%lld", (long long)a);
        snprintf(ends, sizeof ends, "%lld", (long long)b);
        p[0] = str(body, "person_id"), p[1] = starts, p[2] = ends, p[3] = str(body, "reason");
        n = 4;
        sql = "INSERT INTO absences (person_id, starts_at, ends_at, reason) VALUES ($1, "
              "to_timestamp($2::bigint/1000.0), "
              "to_timestamp($3::bigint/1000.0), coalesce($4, '')) RETURNING id::text";
        break;
    }
    }
    sp_db *db = NULL;
    if (api_db_get(api, res, &db) != SP_OK) {
        json_decref(body);
        return SP_EDBDOWN;
    }
    PGresult *r = NULL;
    int rv = sp_db_exec(db, sql, n, p, &r);
    if (rv == SP_EDB) {
        static const char *const table[] = {"", "people", "teams", "regions", "absences"};
        char f[64];
        fkey_field(sp_db_errmsg(db), table[e], f, sizeof f);
        if (f[0]) {
            char msg[128];
            snprintf(msg, sizeof msg, "%s refers to nothing that exists", f);
            sp_http_res_error(res, 422, "invalid_field", msg, f);
        } else if (strstr(sp_db_errmsg(db), "unique") || strstr(sp_db_errmsg(db), "duplicate")) {
            sp_http_res_error(
                res, 409, "conflict", "a unique value is already taken (email or wecom_user)", NULL);
        } else {
            api_db_fail(res, db, rv);
        }
    } else if (rv != SP_OK) {
        api_db_fail(res, db, rv);
    }
    api_pool_put(api->cfg.pool, db);
    if (rv != SP_OK) {
        json_decref(body);
        return rv;
    }
    json_t *o = json_pack("{s:s,s:s}", "status", "ok", "id", PQgetvalue(r, 0, 0));
    PQclear(r);
    json_decref(body);
    return api_reply(res, o);
}
