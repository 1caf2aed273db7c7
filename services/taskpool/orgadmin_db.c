/* orgadmin_db.c - org administration against PostgreSQL: list, get, save,
 * update, remove, each checked by orgadmin_check in one transaction. */
#include "taskpool/orgadmin.h"

#include "db.h"
#include "err.h"
#include "taskpool/api_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Times read back in the form orgadmin_time_parse accepts. */
#define TS(col) "to_char((" col ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

static const char *const select_sql[]
    = {"", "SELECT id, name, role, team_id, region_id, mentor_id, wecom_user, email, active FROM people",
        "SELECT id, name, region_id, supervisor_id FROM teams", "SELECT id, name, director_id FROM regions",
        "SELECT id, person_id, " TS("starts_at") " AS starts_at, " TS(
            "ends_at") " AS ends_at, reason FROM absences",
        "SELECT n.id, n.name, n.lead_id, coalesce((SELECT json_agg(m.person_id ORDER BY m.person_id) FROM "
        "named_team_members m WHERE m.team_id = n.id), '[]'::json) AS members FROM named_teams n"};

static int db_fail(sp_db *db, int rv, orgadmin_err *err)
{
    return orgadmin_fail(err, rv == SP_OK ? SP_EDB : rv, NULL, "database: %s", sp_db_errmsg(db));
}

static int bad_entity(orgadmin_err *err)
{
    return orgadmin_fail(err, SP_EINVAL, "entity", "unknown kind of item");
}

int orgadmin_db_list(sp_db *db, orgadmin_entity e, const char *person, json_t **out, orgadmin_err *err)
{
    *out = NULL;
    if (orgadmin_entity_name(e)[0] == '?') return bad_entity(err);
    char sql[640];
    const char *p[1] = {person};
    int n = e == ORGADMIN_ABSENCES && person != NULL;
    snprintf(sql, sizeof sql, "%s%s ORDER BY %s", select_sql[e], n ? " WHERE person_id = $1" : "",
        e == ORGADMIN_ABSENCES          ? "person_id, starts_at, id"
            : e == ORGADMIN_NAMED_TEAMS ? "n.id"
                                        : "id");
    PGresult *r = NULL;
    int rv = sp_db_exec(db, sql, n, p, &r);
    if (rv != SP_OK) return db_fail(db, rv, err);
    *out = api_rows_json(r);
    PQclear(r);
    return SP_OK;
}

/* An absence id is a positive integer in text. */
static int numeric_id(const char *id)
{
    if (id == NULL || *id == '\0' || strlen(id) > 18) return 0;
    for (const char *c = id; *c; c++)
        if (*c < '0' || *c > '9') return 0;
    return 1;
}

int orgadmin_db_get(sp_db *db, orgadmin_entity e, const char *id, json_t **out, orgadmin_err *err)
{
    *out = NULL;
    if (orgadmin_entity_name(e)[0] == '?') return bad_entity(err);
    if (id == NULL || (e == ORGADMIN_ABSENCES && !numeric_id(id)))
        return orgadmin_fail(err, SP_ENOTFOUND, "id", "no %s \"%s\"", orgadmin_entity_item(e), id ? id : "");
    char sql[640];
    snprintf(sql, sizeof sql, "%s WHERE %s = $1%s", select_sql[e], e == ORGADMIN_NAMED_TEAMS ? "n.id" : "id",
        e == ORGADMIN_ABSENCES ? "::bigint" : "");
    const char *p[1] = {id};
    PGresult *r = NULL;
    int rv = sp_db_exec(db, sql, 1, p, &r);
    if (rv != SP_OK) return db_fail(db, rv, err);
    if (PQntuples(r) == 0) {
        PQclear(r);
        return orgadmin_fail(err, SP_ENOTFOUND, "id", "no %s \"%s\"", orgadmin_entity_item(e), id);
    }
    *out = api_row_json(r, 0);
    PQclear(r);
    return SP_OK;
}

/* orgadmin_lookup.find on the database. */
static int find(void *arg, orgadmin_entity e, const char *id, int *found, char *role, size_t cap)
{
    /* inside the writer's transaction: a row referred to cannot be removed
     * before the write commits */
    static const char *const sql[] = {"", "SELECT role FROM people WHERE id = $1 FOR KEY SHARE",
        "SELECT 'team' FROM teams WHERE id = $1 FOR KEY SHARE",
        "SELECT 'region' FROM regions WHERE id = $1 FOR KEY SHARE", "",
        "SELECT 'named' FROM named_teams WHERE id = $1 FOR KEY SHARE"};
    sp_db *db = arg;
    *found = 0;
    if (e == ORGADMIN_ABSENCES || orgadmin_entity_name(e)[0] == '?') return SP_EINVAL;
    const char *p[1] = {id};
    PGresult *r = NULL;
    int rv = sp_db_exec(db, sql[e], 1, p, &r);
    if (rv != SP_OK) return rv;
    if (PQntuples(r) == 1) {
        *found = 1;
        if (role && cap) snprintf(role, cap, "%s", PQgetvalue(r, 0, 0));
    }
    PQclear(r);
    return SP_OK;
}

static const char *str(const json_t *item, const char *key)
{
    return json_string_value(json_object_get(item, key));
}

/* The first row's first column of a one-parameter query into out (cap);
 * 0 when no row. */
static int first(sp_db *db, const char *sql, const char *id, char *out, size_t cap, int *rv)
{
    const char *p[1] = {id};
    PGresult *r = NULL;
    out[0] = '\0';
    if ((*rv = sp_db_exec(db, sql, 1, p, &r)) != SP_OK) return 0;
    int n = PQntuples(r) > 0 && !PQgetisnull(r, 0, 0);
    if (n) snprintf(out, cap, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return n;
}

/* A person whose role changes must not keep a post the new role cannot
 * hold (supervising a team, directing a region). */
static int role_posts(sp_db *db, const json_t *item, orgadmin_err *err)
{
    const char *id = str(item, "id"), *role = str(item, "role");
    char t[96];
    int rv = SP_OK;
    int sup = strcmp(role, "supervisor") == 0 || strcmp(role, "director") == 0 || strcmp(role, "admin") == 0;
    int dir = strcmp(role, "director") == 0 || strcmp(role, "admin") == 0;
    if (!sup
        && first(
            db, "SELECT id FROM teams WHERE supervisor_id = $1 ORDER BY id LIMIT 1", id, t, sizeof t, &rv))
        return orgadmin_fail(err, SP_ECONFLICT, "role",
            "person %s: role %s cannot supervise team %s; change the team's supervisor_id first", id, role,
            t);
    if (rv == SP_OK && !dir
        && first(
            db, "SELECT id FROM regions WHERE director_id = $1 ORDER BY id LIMIT 1", id, t, sizeof t, &rv))
        return orgadmin_fail(err, SP_ECONFLICT, "role",
            "person %s: role %s cannot direct region %s; change the region's director_id first", id, role, t);
    return rv == SP_OK ? SP_OK : db_fail(db, rv, err);
}

/* Maps a failed write: unique violations name the field, anything else is
 * a database error. */
static int write_fail(sp_db *db, int rv, orgadmin_entity e, const json_t *item, orgadmin_err *err)
{
    const char *m = sp_db_errmsg(db);
    static const char *const uniq[] = {"email", "wecom_user", NULL};
    for (int i = 0; rv == SP_EDB && e == ORGADMIN_PEOPLE && uniq[i]; i++) {
        char c[48];
        snprintf(c, sizeof c, "\"people_%s_key\"", uniq[i]);
        if (strstr(m, c))
            return orgadmin_fail(err, SP_EEXIST, uniq[i], "person %s: %s \"%s\" is already another person's",
                str(item, "id"), uniq[i], str(item, uniq[i]));
    }
    if (rv == SP_EDB && strstr(m, "_pkey\""))
        return orgadmin_fail(
            err, SP_EEXIST, "id", "%s %s: id already exists", orgadmin_entity_item(e), str(item, "id"));
    return db_fail(db, rv, err);
}

/* Writes a checked item (inside the caller's transaction). */
static int write_item(
    sp_db *db, orgadmin_entity e, const json_t *item, int mode, char *id, size_t cap, orgadmin_err *err)
{
    const char *p[9] = {0};
    const char *sql = NULL;
    int n = 0, rv;
    PGresult *r = NULL;
    char members[64 * 66 + 4];
    switch (e) {
    case ORGADMIN_PEOPLE: {
        static const char *const f[]
            = {"id", "name", "role", "team_id", "region_id", "mentor_id", "wecom_user", "email"};
        for (n = 0; n < 8; n++)
            p[n] = str(item, f[n]);
        const json_t *act = json_object_get(item, "active");
        p[n++] = act == NULL || json_is_null(act) || json_is_true(act) ? "true" : "false";
        sql = mode == ORGADMIN_CREATE
            ? "INSERT INTO people (id, name, role, team_id, region_id, mentor_id, wecom_user, email, active) "
              "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9::boolean) RETURNING id"
            : "INSERT INTO people (id, name, role, team_id, region_id, mentor_id, wecom_user, email, active) "
              "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9::boolean) ON CONFLICT (id) DO UPDATE SET name = "
              "EXCLUDED.name, "
              "role = EXCLUDED.role, team_id = EXCLUDED.team_id, region_id = EXCLUDED.region_id, mentor_id = "
              "EXCLUDED.mentor_id, wecom_user = EXCLUDED.wecom_user, email = EXCLUDED.email, active = "
              "EXCLUDED.active RETURNING id";
        break;
    }
    case ORGADMIN_TEAMS:
        p[0] = str(item, "id"), p[1] = str(item, "name"), p[2] = str(item, "region_id");
        p[3] = str(item, "supervisor_id"), n = 4;
        sql = mode == ORGADMIN_CREATE
            ? "INSERT INTO teams (id, name, region_id, supervisor_id) VALUES ($1,$2,$3,$4) RETURNING id"
            : "INSERT INTO teams (id, name, region_id, supervisor_id) VALUES ($1,$2,$3,$4) ON CONFLICT (id) "
              "DO "
              "UPDATE SET name = EXCLUDED.name, region_id = EXCLUDED.region_id, supervisor_id = "
              "EXCLUDED.supervisor_id RETURNING id";
        break;
    case ORGADMIN_REGIONS:
        p[0] = str(item, "id"), p[1] = str(item, "name"), p[2] = str(item, "director_id"), n = 3;
        sql = mode == ORGADMIN_CREATE
            ? "INSERT INTO regions (id, name, director_id) VALUES ($1,$2,$3) RETURNING id"
            : "INSERT INTO regions (id, name, director_id) VALUES ($1,$2,$3) ON CONFLICT (id) DO UPDATE SET "
              "name = EXCLUDED.name, director_id = EXCLUDED.director_id RETURNING id";
        break;
    case ORGADMIN_NAMED_TEAMS: {
        p[0] = str(item, "id"), p[1] = str(item, "name"), p[2] = str(item, "lead_id"), n = 3;
        sql = mode == ORGADMIN_CREATE
            ? "INSERT INTO named_teams (id, name, lead_id) VALUES ($1,$2,$3) RETURNING id"
            : "INSERT INTO named_teams (id, name, lead_id) VALUES ($1,$2,$3) ON CONFLICT (id) DO UPDATE SET "
              "name = EXCLUDED.name, lead_id = EXCLUDED.lead_id RETURNING id";
        break;
    }
    case ORGADMIN_ABSENCES: {
        const json_t *aid = json_object_get(item, "id");
        char num[24] = "";
        if (json_is_integer(aid)) snprintf(num, sizeof num, "%lld", (long long)json_integer_value(aid));
        if (json_is_string(aid)) snprintf(num, sizeof num, "%s", json_string_value(aid));
        p[0] = str(item, "person_id"), p[1] = str(item, "starts_at"), p[2] = str(item, "ends_at");
        p[3] = str(item, "reason"), n = 4;
        if (num[0] != '\0' && mode == ORGADMIN_UPSERT) {
            if (!numeric_id(num))
                return orgadmin_fail(err, SP_EINVAL, "id", "absence id \"%s\" is not a number", num);
            p[4] = num, n = 5;
            sql = "UPDATE absences SET person_id = $1, starts_at = $2::timestamptz, ends_at = "
                  "$3::timestamptz, "
                  "reason = coalesce($4, '') WHERE id = $5::bigint RETURNING id::text";
        } else {
            sql = "INSERT INTO absences (person_id, starts_at, ends_at, reason) VALUES ($1, $2::timestamptz, "
                  "$3::timestamptz, coalesce($4, '')) RETURNING id::text";
        }
        break;
    }
    default: return bad_entity(err);
    }
    if ((rv = sp_db_exec(db, sql, n, p, &r)) != SP_OK) return write_fail(db, rv, e, item, err);
    if (PQntuples(r) == 0) {
        PQclear(r);
        return orgadmin_fail(err, SP_ENOTFOUND, "id", "no absence %s", p[4] ? p[4] : "");
    }
    snprintf(id, cap, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    if (e == ORGADMIN_NAMED_TEAMS) {
        /* members as a text[] literal: ids are [A-Za-z0-9_.:-], no quoting needed */
        size_t i, o = 0;
        const json_t *m;
        members[o++] = '{';
        json_array_foreach(json_object_get(item, "members"), i, m)
        {
            if (o + strlen(json_string_value(m)) + 3 > sizeof members)
                return orgadmin_fail(err, SP_EINVAL, "members", "named team %s: too many members", id);
            o += (size_t)snprintf(
                members + o, sizeof members - o, "%s%s", i ? "," : "", json_string_value(m));
        }
        members[o++] = '}', members[o] = '\0';
        const char *q[2] = {id, members};
        if ((rv = sp_db_exec(db,
                 "DELETE FROM named_team_members WHERE team_id = $1 AND person_id <> ALL($2::text[])", 2, q,
                 NULL))
                != SP_OK
            || (rv = sp_db_exec(db,
                    "INSERT INTO named_team_members (team_id, person_id) SELECT $1, unnest($2::text[]) ON "
                    "CONFLICT "
                    "DO NOTHING",
                    2, q, NULL))
                != SP_OK)
            return db_fail(db, rv, err);
    }
    if (e == ORGADMIN_PEOPLE) return role_posts(db, item, err);
    return SP_OK;
}

/* Runs fn-like bodies in a transaction: begin, then the caller's work. */
static int begin(sp_db *db, orgadmin_err *err)
{
    int rv = sp_db_begin(db);
    return rv == SP_OK ? SP_OK : db_fail(db, rv, err);
}

static int end(sp_db *db, int rv, orgadmin_err *err)
{
    if (rv != SP_OK) {
        sp_db_rollback(db);
        return rv;
    }
    if ((rv = sp_db_commit(db)) != SP_OK) return db_fail(db, rv, err);
    return SP_OK;
}

int orgadmin_db_save(
    sp_db *db, orgadmin_entity e, const json_t *item, int mode, char *id, size_t cap, orgadmin_err *err)
{
    orgadmin_lookup lk = {find, db};
    int rv = orgadmin_check_shape(e, item, err);
    if (rv != SP_OK) return rv;
    if (e == ORGADMIN_ABSENCES && mode == ORGADMIN_CREATE && json_object_get(item, "id") != NULL
        && !json_is_null(json_object_get(item, "id")))
        return orgadmin_fail(
            err, SP_EINVAL, "id", "absence of %s: id is assigned by the database", str(item, "person_id"));
    if ((rv = begin(db, err)) != SP_OK) return rv;
    if ((rv = orgadmin_check(e, item, &lk, err)) != SP_OK) return end(db, rv, err);
    if (mode == ORGADMIN_CREATE && e != ORGADMIN_ABSENCES) {
        int found = 0;
        if ((rv = find(db, e, str(item, "id"), &found, NULL, 0)) != SP_OK)
            rv = db_fail(db, rv, err);
        else if (found)
            rv = orgadmin_fail(
                err, SP_EEXIST, "id", "%s %s: id already exists", orgadmin_entity_item(e), str(item, "id"));
    }
    if (rv == SP_OK) rv = write_item(db, e, item, mode, id, cap, err);
    return end(db, rv, err);
}

int orgadmin_db_update(sp_db *db, orgadmin_entity e, const char *id, const json_t *patch, orgadmin_err *err)
{
    if (!json_is_object(patch))
        return orgadmin_fail(
            err, SP_EINVAL, "body", "a %s change must be a JSON object", orgadmin_entity_item(e));
    json_t *old = NULL, *merged = NULL;
    int rv = orgadmin_db_get(db, e, id, &old, err);
    if (rv != SP_OK) return rv;
    const json_t *pid = json_object_get(patch, "id");
    if (pid != NULL && !json_equal(pid, json_object_get(old, "id"))
        && !(json_is_string(pid) && strcmp(json_string_value(pid), id) == 0)) {
        json_decref(old);
        return orgadmin_fail(
            err, SP_EINVAL, "id", "%s %s: the id cannot change", orgadmin_entity_item(e), id);
    }
    if ((merged = orgadmin_merge(old, patch)) == NULL) {
        json_decref(old);
        return orgadmin_fail(err, SP_ENOMEM, NULL, "out of memory");
    }
    char out[64];
    rv = orgadmin_db_save(db, e, merged, ORGADMIN_UPSERT, out, sizeof out, err);
    json_decref(old);
    json_decref(merged);
    return rv;
}

/* A reference that blocks a removal: sql yields one referrer for $1. */
typedef struct blocker {
    const char *sql;
    const char *what; /* followed by the referrer */
} blocker;

static const blocker person_blockers[]
    = {{"SELECT id FROM teams WHERE supervisor_id = $1 ORDER BY id LIMIT 1", "is supervisor_id of team"},
        {"SELECT id FROM regions WHERE director_id = $1 ORDER BY id LIMIT 1", "is director_id of region"},
        {"SELECT id FROM people WHERE mentor_id = $1 ORDER BY id LIMIT 1", "is mentor_id of person"},
        {"SELECT id FROM named_teams WHERE lead_id = $1 ORDER BY id LIMIT 1", "is lead_id of named team"},
        {"SELECT count(*)::text || ' task(s), e.g. ' || min(key) FROM tasks WHERE assignee_id = $1 HAVING "
         "count(*) > 0",
            "holds"},
        {NULL, NULL}};
static const blocker team_blockers[] = {{"SELECT count(*)::text || ' person(s), e.g. ' || min(id) FROM "
                                         "people WHERE team_id = $1 HAVING count(*) > 0",
                                            "still has"},
    {NULL, NULL}};
static const blocker region_blockers[] = {{"SELECT count(*)::text || ' team(s), e.g. ' || min(id) FROM teams "
                                           "WHERE region_id = $1 HAVING count(*) > 0",
                                              "still has"},
    {"SELECT count(*)::text || ' person(s), e.g. ' || min(id) FROM people WHERE region_id = $1 HAVING "
     "count(*) > 0",
        "still has"},
    {NULL, NULL}};

/* Statements that remove item id and what it owns, in order. */
static const char *const person_delete[]
    = {"DELETE FROM absences WHERE person_id = $1", "DELETE FROM api_tokens WHERE person_id = $1",
        "DELETE FROM named_team_members WHERE person_id = $1", "DELETE FROM people WHERE id = $1", NULL};
static const char *const team_delete[] = {"DELETE FROM teams WHERE id = $1", NULL};
static const char *const region_delete[] = {"DELETE FROM regions WHERE id = $1", NULL};
static const char *const named_delete[]
    = {"DELETE FROM named_team_members WHERE team_id = $1", "DELETE FROM named_teams WHERE id = $1", NULL};
static const char *const absence_delete[] = {"DELETE FROM absences WHERE id = $1::bigint", NULL};

int orgadmin_db_remove(sp_db *db, orgadmin_entity e, const char *id, orgadmin_err *err)
{
    const blocker *bl = e == ORGADMIN_PEOPLE ? person_blockers
        : e == ORGADMIN_TEAMS                ? team_blockers
        : e == ORGADMIN_REGIONS              ? region_blockers
                                             : NULL;
    const char *const *del = e == ORGADMIN_PEOPLE ? person_delete
        : e == ORGADMIN_TEAMS                     ? team_delete
        : e == ORGADMIN_REGIONS                   ? region_delete
        : e == ORGADMIN_NAMED_TEAMS               ? named_delete
        : e == ORGADMIN_ABSENCES                  ? absence_delete
                                                  : NULL;
    if (del == NULL) return bad_entity(err);
    json_t *old = NULL;
    int rv = orgadmin_db_get(db, e, id, &old, err);
    json_decref(old);
    if (rv != SP_OK) return rv;
    if ((rv = begin(db, err)) != SP_OK) return rv;
    const char *item = orgadmin_entity_item(e);
    for (; rv == SP_OK && bl && bl->sql; bl++) {
        char ref[128];
        if (first(db, bl->sql, id, ref, sizeof ref, &rv)) {
            rv = orgadmin_fail(err, SP_ECONFLICT, "id", "%s %s %s %s; %s", item, id, bl->what, ref,
                e == ORGADMIN_PEOPLE ? "change that first or deactivate the person instead"
                                     : "move or remove them first");
        } else if (rv != SP_OK) {
            rv = db_fail(db, rv, err);
        }
    }
    const char *p[1] = {id};
    for (size_t i = 0; rv == SP_OK && del[i]; i++) {
        if ((rv = sp_db_exec(db, del[i], 1, p, NULL)) == SP_OK) continue;
        /* another table's foreign key: name it */
        const char *m = sp_db_errmsg(db), *t = strstr(m, "on table \"");
        t = t ? strstr(t + 1, "on table \"") : NULL;
        if (rv == SP_EDB && t != NULL) {
            t += strlen("on table \"");
            rv = orgadmin_fail(err, SP_ECONFLICT, "id", "%s %s is still referenced by %.*s; %s", item, id,
                (int)strcspn(t, "\""), t,
                e == ORGADMIN_PEOPLE ? "deactivate the person instead" : "remove those rows first");
        } else {
            rv = db_fail(db, rv, err);
        }
    }
    return end(db, rv, err);
}
