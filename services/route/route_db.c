/* route_db.c - load the org chart from PostgreSQL; read dismissals. */
#include "route/route_db.h"

#include "err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *val(PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

int route_org_load(sp_db *db, org **out, char *errbuf, size_t errlen)
{
    org *o = NULL;
    PGresult *r = NULL;
    int rv = org_new(&o);
    if (rv != SP_OK) return rv;
    if ((rv = sp_db_exec(db, "SELECT id, name, director_id FROM regions", 0, NULL, &r)) != SP_OK) goto dberr;
    for (int i = 0; i < PQntuples(r) && rv == SP_OK; i++) {
        org_region g = {val(r, i, 0), val(r, i, 1), val(r, i, 2)};
        rv = org_add_region(o, &g, errbuf, errlen);
    }
    PQclear(r);
    r = NULL;
    if (rv != SP_OK) goto fail;
    if ((rv = sp_db_exec(db, "SELECT id, name, supervisor_id, region_id FROM teams", 0, NULL, &r)) != SP_OK)
        goto dberr;
    for (int i = 0; i < PQntuples(r) && rv == SP_OK; i++) {
        org_team t = {val(r, i, 0), val(r, i, 1), val(r, i, 2), val(r, i, 3)};
        rv = org_add_team(o, &t, errbuf, errlen);
    }
    PQclear(r);
    r = NULL;
    if (rv != SP_OK) goto fail;
    if ((rv = sp_db_exec(db,
             "SELECT id, name, role, team_id, mentor_id, region_id, wecom_user, email, active FROM people", 0,
             NULL, &r))
        != SP_OK)
        goto dberr;
    for (int i = 0; i < PQntuples(r) && rv == SP_OK; i++) {
        org_person p = {.id = val(r, i, 0),
            .name = val(r, i, 1),
            .team_id = val(r, i, 3),
            .mentor_id = val(r, i, 4),
            .region_id = val(r, i, 5),
            .wecom_user_id = val(r, i, 6),
            .email = val(r, i, 7),
            .active = strcmp(PQgetvalue(r, i, 8), "t") == 0};
        if (org_role_parse(val(r, i, 2), &p.role) != SP_OK) p.role = ORG_ROLE_UNKNOWN;
        rv = org_add_person(o, &p, errbuf, errlen);
    }
    PQclear(r);
    r = NULL;
    if (rv != SP_OK) goto fail;
    if ((rv = sp_db_exec(db,
             "SELECT n.id, n.lead_id, coalesce(array_agg(m.person_id) FILTER (WHERE m.person_id IS NOT "
             "NULL), "
             "'{}') FROM named_teams n LEFT JOIN named_team_members m ON m.team_id = n.id GROUP BY n.id, "
             "n.lead_id",
             0, NULL, &r))
        != SP_OK)
        goto dberr;
    for (int i = 0; i < PQntuples(r) && rv == SP_OK; i++) {
        /* members arrive as a PostgreSQL array literal {a,b,c} of plain ids */
        char *arr = strdup(PQgetvalue(r, i, 2));
        const char *members[256];
        size_t n = 0;
        if (arr == NULL) {
            rv = SP_ENOMEM;
            break;
        }
        char *save = NULL;
        for (char *tok = strtok_r(arr, "{},\"", &save); tok && n < 256; tok = strtok_r(NULL, "{},\"", &save))
            members[n++] = tok;
        org_named_team nt = {val(r, i, 0), val(r, i, 1), members, n};
        rv = org_add_named_team(o, &nt, errbuf, errlen);
        free(arr);
    }
    PQclear(r);
    r = NULL;
    if (rv != SP_OK) goto fail;
    if ((rv = sp_db_exec(db,
             "SELECT person_id, (extract(epoch FROM starts_at) * 1000)::bigint, "
             "(extract(epoch FROM ends_at) * 1000)::bigint, reason FROM absences",
             0, NULL, &r))
        != SP_OK)
        goto dberr;
    for (int i = 0; i < PQntuples(r) && rv == SP_OK; i++) {
        org_absence a = {val(r, i, 0), strtoll(PQgetvalue(r, i, 1), NULL, 10),
            strtoll(PQgetvalue(r, i, 2), NULL, 10), val(r, i, 3)};
        rv = org_add_absence(o, &a, errbuf, errlen);
    }
    PQclear(r);
    r = NULL;
    if (rv != SP_OK) goto fail;
    if ((rv = org_finish(o, errbuf, errlen)) != SP_OK) goto fail;
    *out = o;
    return SP_OK;
dberr:
    snprintf(errbuf, errlen, "org: %s", sp_db_errmsg(db));
fail:
    PQclear(r);
    org_destroy(o);
    return rv;
}

int route_last_dismissal(
    sp_db *db, const char *kind, const char *subject_type, const char *subject_id, int64_t *out_ms)
{
    const char *p[3] = {kind, subject_type, subject_id};
    PGresult *r = NULL;
    int rv = sp_db_exec(db,
        "SELECT (extract(epoch FROM dismissed_at) * 1000)::bigint FROM task_dismissals "
        "WHERE kind = $1 AND subject_type = $2 AND subject_id = $3",
        3, p, &r);
    if (rv != SP_OK) return rv;
    *out_ms = PQntuples(r) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : -1;
    PQclear(r);
    return SP_OK;
}
