/* api_admin.c - /v1/admin/{entity}[/{id}]: list, get, create-or-replace,
 * change, remove. Validation and writes are orgadmin_db_*'s. */
#include "taskpool/api_admin.h"

#include "err.h"
#include "log.h"
#include "taskpool/api_internal.h"
#include "taskpool/orgadmin.h"

#include <stdio.h>
#include <string.h>

int api_admin_status(int code)
{
    switch (code) {
    case SP_EINVAL: return 422;
    case SP_ENOTFOUND: return 404;
    case SP_EEXIST:
    case SP_ECONFLICT: return 409;
    case SP_EDBDOWN: return 503;
    default: return 500;
    }
}

/* The admin check, then the entity and the (decoded) id after it, if any. */
static int admin_target(const sp_http_req *req, sp_http_res *res, orgadmin_entity *e, char *id, size_t cap)
{
    acl_principal p;
    api_principal(req, &p);
    if (acl_check(&p, ACL_ORG_ADMIN, NULL) != ACL_ALLOW) {
        sp_http_res_error(res, 403, "forbidden", "org administration is for admins", NULL);
        return SP_EFORBIDDEN;
    }
    char name[32];
    const char *slash = strchr(req->tail, '/');
    size_t n = slash ? (size_t)(slash - req->tail) : strlen(req->tail);
    id[0] = '\0';
    *e = ORGADMIN_NONE;
    if (n < sizeof name) {
        memcpy(name, req->tail, n);
        name[n] = '\0';
        *e = orgadmin_entity_parse(name);
    }
    int bad_id
        = slash && (api_segment_decode(slash + 1, strlen(slash + 1), id, cap) != SP_OK || strchr(id, '/'));
    if (*e == ORGADMIN_NONE || bad_id) {
        sp_http_res_error(res, 404, "not_found", "no such resource", NULL);
        return SP_ENOTFOUND;
    }
    return SP_OK;
}

static int reply_err(sp_http_res *res, const orgadmin_err *err)
{
    int st = api_admin_status(err->code);
    static const char *const codes[] = {"internal", "invalid_field", "not_found", "conflict", "unavailable"};
    const char *code = st == 422 ? codes[1]
        : st == 404              ? codes[2]
        : st == 409              ? codes[3]
        : st == 503              ? codes[4]
                                 : codes[0];
    if (st >= 500) sp_warn("taskpool api: org admin: %s", err->msg);
    sp_http_res_error(
        res, st, code, st == 500 ? "database error" : err->msg, err->field[0] ? err->field : NULL);
    if (st == 503) sp_http_res_header(res, "Retry-After", "1");
    return err->code ? err->code : SP_EDB;
}

int api_h_admin_get(const sp_http_req *req, sp_http_res *res, void *arg)
{
    taskpool_api *api = arg;
    orgadmin_entity e;
    char id[96], person[64 + 1]; /* the org admin's id limit */
    if (admin_target(req, res, &e, id, sizeof id) != SP_OK) return SP_EINVAL;
    int q = id[0] == '\0' ? sp_http_req_query(req, "person", person, sizeof person) : SP_ENOTFOUND;
    if (q == SP_ETOOBIG) /* a filter cut off would list everything */
        return sp_http_res_error(res, 400, "invalid_field", "person ids are at most 64 characters", "person");
    int by_person = q == SP_OK;
    sp_db *db = NULL;
    if (api_db_get(api, res, &db) != SP_OK) return SP_EDBDOWN;
    orgadmin_err err = {0};
    json_t *j = NULL;
    int rv = id[0] ? orgadmin_db_get(db, e, id, &j, &err)
                   : orgadmin_db_list(db, e, by_person ? person : NULL, &j, &err);
    api_pool_put(api->cfg.pool, db);
    if (rv != SP_OK) return reply_err(res, &err);
    if (id[0]) return api_reply(res, j);
    return api_reply(res, json_pack("{s:o}", orgadmin_entity_name(e), j));
}

/* POST /v1/admin/{entity}: create, or replace the item with that id. */
int api_h_admin_post(const sp_http_req *req, sp_http_res *res, void *arg)
{
    taskpool_api *api = arg;
    orgadmin_entity e;
    char id[96];
    if (admin_target(req, res, &e, id, sizeof id) != SP_OK) return SP_EINVAL;
    if (id[0]) return sp_http_res_error(res, 405, "method_not_allowed", "use PATCH to change one item", NULL);
    json_t *body = NULL;
    if (sp_http_req_json(req, res, &body) != SP_OK) return SP_EINVAL;
    sp_db *db = NULL;
    if (api_db_get(api, res, &db) != SP_OK) {
        json_decref(body);
        return SP_EDBDOWN;
    }
    orgadmin_err err = {0};
    char out[64];
    int rv = orgadmin_db_save(db, e, body, ORGADMIN_UPSERT, out, sizeof out, &err);
    api_pool_put(api->cfg.pool, db);
    json_decref(body);
    if (rv != SP_OK) return reply_err(res, &err);
    return api_reply(res, json_pack("{s:s,s:s}", "status", "ok", "id", out));
}

/* PATCH /v1/admin/{entity}/{id}: change some members. */
int api_h_admin_patch(const sp_http_req *req, sp_http_res *res, void *arg)
{
    taskpool_api *api = arg;
    orgadmin_entity e;
    char id[96];
    if (admin_target(req, res, &e, id, sizeof id) != SP_OK) return SP_EINVAL;
    if (!id[0])
        return sp_http_res_error(res, 404, "not_found", "PATCH names one item: /v1/admin/{kind}/{id}", NULL);
    json_t *body = NULL;
    if (sp_http_req_json(req, res, &body) != SP_OK) return SP_EINVAL;
    sp_db *db = NULL;
    if (api_db_get(api, res, &db) != SP_OK) {
        json_decref(body);
        return SP_EDBDOWN;
    }
    orgadmin_err err = {0};
    int rv = orgadmin_db_update(db, e, id, body, &err);
    api_pool_put(api->cfg.pool, db);
    json_decref(body);
    if (rv != SP_OK) return reply_err(res, &err);
    return api_reply(res, json_pack("{s:s,s:s}", "status", "ok", "id", id));
}

/* DELETE /v1/admin/{entity}/{id}. */
int api_h_admin_delete(const sp_http_req *req, sp_http_res *res, void *arg)
{
    taskpool_api *api = arg;
    orgadmin_entity e;
    char id[96];
    if (admin_target(req, res, &e, id, sizeof id) != SP_OK) return SP_EINVAL;
    if (!id[0])
        return sp_http_res_error(res, 404, "not_found", "DELETE names one item: /v1/admin/{kind}/{id}", NULL);
    sp_db *db = NULL;
    if (api_db_get(api, res, &db) != SP_OK) return SP_EDBDOWN;
    orgadmin_err err = {0};
    int rv = orgadmin_db_remove(db, e, id, &err);
    api_pool_put(api->cfg.pool, db);
    if (rv != SP_OK) return reply_err(res, &err);
    return api_reply(res, json_pack("{s:s,s:s}", "status", "removed", "id", id));
}
