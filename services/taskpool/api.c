/* api.c - the task pool API: construction, bearer auth, the route table
 * and the helpers its handler files share. */
#include "taskpool/api_internal.h"

#include "err.h"
#include "log.h"
#include "taskpool/token.h"
#include "taskpool/token_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int taskpool_api_new(const taskpool_api_cfg *cfg, taskpool_api **out)
{
    if (cfg == NULL || cfg->pool == NULL || cfg->now_ms == NULL || out == NULL) return SP_EINVAL;
    taskpool_api *api = calloc(1, sizeof *api);
    if (api == NULL) return SP_ENOMEM;
    api->cfg = *cfg;
    if (api->cfg.events_topic == NULL) api->cfg.events_topic = SP_TOPIC_TASK_EVENTS;
    if (api->cfg.delivery_timeout_ms <= 0) api->cfg.delivery_timeout_ms = 10000;
    if (api->cfg.poll_ms <= 0) api->cfg.poll_ms = 250;
    if (api->cfg.max_waiters <= 0) api->cfg.max_waiters = 16;
    snprintf(api->goal_templates, sizeof api->goal_templates, "%s",
        cfg->goal_templates && *cfg->goal_templates ? cfg->goal_templates
                                                    : "deploy/tenants/default/goal_templates");
    api->cfg.goal_templates = api->goal_templates;
    if (api->cfg.token_cache_ms > 0
        && token_cache_new(1024, api->cfg.token_cache_ms, &api->tokens) != SP_OK) {
        free(api);
        return SP_ENOMEM;
    }
    if (cfg->playbooks && *cfg->playbooks) {
        char err[512];
        if (api_playbooks_load(cfg->playbooks, &api->playbooks, err, sizeof err) != SP_OK)
            sp_warn("playbooks: %s; the today list goes without material links", err);
    }
    if (cfg->playbooks && *cfg->playbooks && api->playbooks) {
        char err[512];
        if (playbook_set_load_file(cfg->playbooks, &api->pbset, err, sizeof err) != SP_OK)
            sp_warn("playbooks: %s; playbooks are served without their slots filled", err);
    }
    if (cfg->catalog && *cfg->catalog && (api->catalog_lines = api_catalog_lines_load(cfg->catalog)) == NULL)
        sp_warn("catalog %s did not load: filled playbooks do not know product lines", cfg->catalog);
    api->cfg.playbooks = NULL; /* not kept: the caller's string */
    api->cfg.catalog = NULL;
    pthread_mutex_init(&api->mu, NULL);
    pthread_mutex_init(&api->hmu, NULL);
    *out = api;
    return SP_OK;
}

/* The catalog's product id -> line map (an object), or NULL when the file
 * does not load or has no products array. */
json_t *api_catalog_lines_load(const char *path)
{
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je), *lines = NULL;
    json_t *products = json_object_get(root, "products");
    if (json_is_array(products) && (lines = json_object()) != NULL) {
        size_t i;
        json_t *p;
        json_array_foreach(products, i, p)
        {
            const char *id = json_string_value(json_object_get(p, "id")),
                       *line = json_string_value(json_object_get(p, "line"));
            if (id && line) json_object_set_new(lines, id, json_string(line));
        }
    }
    json_decref(root);
    return lines;
}

void taskpool_api_destroy(taskpool_api *api)
{
    if (api == NULL) return;
    token_cache_destroy(api->tokens);
    pthread_mutex_destroy(&api->mu);
    pthread_mutex_destroy(&api->hmu);
    json_decref(api->playbooks);
    playbook_set_destroy(api->pbset);
    json_decref(api->catalog_lines);
    free(api);
}

uint64_t taskpool_api_actions_applied(const taskpool_api *api)
{
    taskpool_api *a = (taskpool_api *)api;
    pthread_mutex_lock(&a->mu);
    uint64_t n = a->actions;
    pthread_mutex_unlock(&a->mu);
    return n;
}

int taskpool_api_auth(const sp_http_req *req, void *arg, sp_http_principal *out)
{
    taskpool_api *api = arg;
    char tok[SP_TOKEN_LEN + 1], hash[SP_TOKEN_HASH_LEN + 1], now[24];
    if (token_from_bearer(sp_http_req_header(req, "Authorization"), tok) != SP_OK
        || token_hash(tok, hash) != SP_OK) {
        sp_counter_add(api->m_auth_fail, 1);
        snprintf(out->denied_field, sizeof out->denied_field, "Authorization");
        return SP_EAUTH;
    }
    int64_t now_ms = api->cfg.now_ms(api->cfg.now_arg);
    if (token_cache_get(api->tokens, hash, now_ms, out) == SP_OK) return SP_OK;
    snprintf(now, sizeof now, "%lld", (long long)now_ms);
    sp_db *db = NULL;
    int rv = api_pool_get(api->cfg.pool, 5000, &db);
    if (rv != SP_OK) return SP_EDBDOWN;
    PGresult *r = NULL;
    const char *p[2] = {hash, now};
    rv = sp_db_exec(db, /* a supervisor or director recorded only on teams/regions still gets a scope */
        "SELECT p.id, p.role, coalesce(p.team_id, (SELECT id FROM teams WHERE supervisor_id = p.id ORDER BY "
        "id LIMIT 1), ''), "
        "coalesce(p.region_id, t.region_id, (SELECT id FROM regions WHERE director_id = p.id ORDER BY id "
        "LIMIT 1), ''), "
        "k.token_sha256, coalesce((extract(epoch FROM k.expires_at) * 1000)::bigint, 0) "
        "FROM api_tokens k JOIN people p ON p.id = k.person_id LEFT JOIN teams t ON t.id = p.team_id "
        "WHERE k.token_sha256 = $1 AND k.revoked_at IS NULL AND p.active "
        "AND (k.expires_at IS NULL OR k.expires_at > to_timestamp($2::bigint / 1000.0))",
        2, p, &r);
    api_pool_put(api->cfg.pool, db);
    if (rv != SP_OK) return rv == SP_EDBDOWN ? SP_EDBDOWN : SP_EIO;
    /* found through an index on the hash; the stored value is confirmed in
     * constant time, so a lookup quirk (collation, trailing data) never admits */
    if (PQntuples(r) != 1 || !token_verify(tok, PQgetvalue(r, 0, 4))) {
        PQclear(r);
        sp_counter_add(api->m_auth_fail, 1);
        snprintf(out->denied_field, sizeof out->denied_field, "Authorization");
        return SP_EAUTH;
    }
    /* an id cut short would name another team or region: refuse instead */
    if (snprintf(out->person_id, sizeof out->person_id, "%s", PQgetvalue(r, 0, 0))
            >= (int)sizeof out->person_id
        || snprintf(out->role, sizeof out->role, "%s", PQgetvalue(r, 0, 1)) >= (int)sizeof out->role
        || snprintf(out->team, sizeof out->team, "%s", PQgetvalue(r, 0, 2)) >= (int)sizeof out->team
        || snprintf(out->region, sizeof out->region, "%s", PQgetvalue(r, 0, 3)) >= (int)sizeof out->region) {
        PQclear(r);
        sp_warn("token of a person whose ids exceed 64 characters refused");
        sp_counter_add(api->m_auth_fail, 1);
        return SP_EAUTH;
    }
    token_cache_put(api->tokens, hash, out, now_ms, strtoll(PQgetvalue(r, 0, 5), NULL, 10));
    PQclear(r);
    return SP_OK;
}

int api_principal(const sp_http_req *req, acl_principal *p)
{
    memset(p, 0, sizeof *p);
    const sp_http_principal *hp = req->principal;
    if (hp == NULL || acl_role_parse(hp->role, &p->role) != SP_OK) return 0;
    p->person_id = hp->person_id;
    p->team_id = hp->team[0] ? hp->team : NULL;
    p->region_id = hp->region[0] ? hp->region : NULL;
    return 1;
}

int api_db_get(taskpool_api *api, sp_http_res *res, sp_db **db)
{
    int rv = api_pool_get(api->cfg.pool, 5000, db);
    if (rv != SP_OK) {
        sp_http_res_error(res, 503, "unavailable", "database unavailable", NULL);
        sp_http_res_header(res, "Retry-After", "1");
    }
    return rv;
}

int api_db_fail(sp_http_res *res, sp_db *db, int rv)
{
    sp_warn("taskpool api: database: %s", sp_db_errmsg(db));
    if (rv == SP_EDBDOWN) {
        sp_http_res_error(res, 503, "unavailable", "database unavailable", NULL);
        sp_http_res_header(res, "Retry-After", "1");
    } else {
        sp_http_res_error(res, 500, "internal", "database error", NULL);
    }
    return rv;
}

json_t *api_row_json(const PGresult *r, int row)
{
    json_t *o = json_object();
    for (int c = 0; c < PQnfields(r); c++) {
        const char *name = PQfname(r, c);
        if (name[0] == '_') continue;
        if (PQgetisnull(r, row, c)) {
            json_object_set_new(o, name, json_null());
            continue;
        }
        const char *v = PQgetvalue(r, row, c);
        json_t *j = NULL;
        switch (PQftype(r, c)) {
        case 20: /* int8 */
        case 21: /* int2 */
        case 23: j = json_integer(strtoll(v, NULL, 10)); break;
        case 16: j = json_boolean(v[0] == 't'); break;
        case 700:
        case 701:
        case 1700: j = json_real(strtod(v, NULL)); break;
        case 114: /* json */
        case 3802: j = json_loads(v, JSON_DECODE_ANY, NULL); break;
        default: j = json_string(v); break;
        }
        json_object_set_new(o, name, j ? j : json_string(v));
    }
    return o;
}

json_t *api_rows_json(const PGresult *r)
{
    json_t *a = json_array();
    for (int i = 0; i < PQntuples(r); i++)
        json_array_append_new(a, api_row_json(r, i));
    return a;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int api_segment_decode(const char *s, size_t n, char *buf, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int ch = (unsigned char)s[i];
        if (ch == '%') {
            if (i + 2 >= n) return SP_EINVAL;
            int a = hexval(s[i + 1]), b = hexval(s[i + 2]);
            if (a < 0 || b < 0) return SP_EINVAL;
            ch = a * 16 + b;
            i += 2;
        }
        if (ch == 0) return SP_EINVAL;
        if (o + 1 >= cap) return SP_ETOOBIG;
        buf[o++] = (char)ch;
    }
    if (o == 0) return SP_EINVAL;
    buf[o] = '\0';
    return SP_OK;
}

int api_reply(sp_http_res *res, json_t *j)
{
    if (j == NULL) return SP_ENOMEM;
    int rv = sp_http_res_json(res, 200, j);
    json_decref(j);
    return rv;
}

int api_team_scope(sp_db *db, const acl_principal *p, const char *team_id, sp_http_res *res, char *region)
{
    acl_verdict v = acl_check(p, ACL_LIST_TEAM, NULL);
    if (v != ACL_ALLOW) {
        sp_http_res_error(res, 403, "forbidden", "your role may not read team views", NULL);
        return SP_EFORBIDDEN;
    }
    PGresult *r = NULL;
    const char *q[1] = {team_id};
    int rv
        = sp_db_exec(db, "SELECT region_id, coalesce(supervisor_id, '') FROM teams WHERE id = $1", 1, q, &r);
    if (rv != SP_OK) return api_db_fail(res, db, rv);
    int ok = 0;
    if (PQntuples(r) == 1) {
        snprintf(region, 96, "%s", PQgetvalue(r, 0, 0));
        const char *sup = PQgetvalue(r, 0, 1);
        acl_task scope = {.assignee_id = NULL, .team_id = team_id, .region_id = region};
        ok = acl_in_scope(p, &scope) || (p->role == ACL_ROLE_SUPERVISOR && strcmp(sup, p->person_id) == 0);
    }
    PQclear(r);
    if (!ok) {
        sp_http_res_error(res, 404, "not_found", "no such team", NULL);
        return SP_ENOTFOUND;
    }
    return SP_OK;
}

/* GET /v1/teams/{id}/tasks, /v1/teams/{id}/board and /v1/teams/{id}/rollups. */
int api_h_team_get(const sp_http_req *req, sp_http_res *res, void *arg)
{
    const char *slash = strchr(req->tail, '/');
    char team[96];
    if (slash == NULL
        || api_segment_decode(req->tail, (size_t)(slash - req->tail), team, sizeof team) != SP_OK)
        return sp_http_res_error(res, 404, "not_found", "no such resource", NULL);
    if (strcmp(slash, "/tasks") == 0) return api_h_team_tasks(arg, req, res, team);
    if (strcmp(slash, "/board") == 0) return api_h_team_board(arg, req, res, team);
    if (strcmp(slash, "/rollups") == 0) return api_h_team_rollups(arg, req, res, team);
    return sp_http_res_error(res, 404, "not_found", "no such resource", NULL);
}

int taskpool_api_register(taskpool_api *api, sp_http_server *srv)
{
    static const struct {
        const char *method, *path;
        int flags;
        sp_http_handler_fn fn;
    } routes[] = {
        {"GET", "/v1/me/tasks", 0, api_h_my_tasks},
        {"GET", "/v1/me/today", 0, api_h_today},
        {"GET", "/v1/teams/", SP_HTTP_PREFIX, api_h_team_get},
        {"GET", "/v1/tasks/changes", 0, api_h_changes},
        {"GET", "/v1/tasks/", SP_HTTP_PREFIX, api_h_task_get},
        {"POST", "/v1/tasks/", SP_HTTP_PREFIX, api_h_task_post},
        {"GET", "/v1/deals/", SP_HTTP_PREFIX, api_h_deal_health},
        {"GET", "/v1/customers/", SP_HTTP_PREFIX, api_h_customer_card},
        {"GET", "/v1/funnel", 0, api_h_funnel},
        {"GET", "/v1/admin/", SP_HTTP_PREFIX, api_h_admin_get},
        {"POST", "/v1/admin/", SP_HTTP_PREFIX, api_h_admin_post},
        {"PATCH", "/v1/admin/", SP_HTTP_PREFIX, api_h_admin_patch},
        {"DELETE", "/v1/admin/", SP_HTTP_PREFIX, api_h_admin_delete},
        {"POST", "/v1/goals", 0, api_h_goals_post},
        {"GET", "/v1/goals/", SP_HTTP_PREFIX, api_h_goals_get},
        {"GET", "/v1/playbooks/", SP_HTTP_PREFIX, api_h_playbook_get},
    };
    sp_metrics *reg = sp_http_server_metrics(srv);
    int rv;
    if ((rv = sp_counter_new(reg, "sp_taskpool_api_actions_total", "Task actions by action and result",
             "action,result", &api->m_actions))
            != SP_OK
        || (rv = sp_gauge_new(reg, "sp_taskpool_api_longpoll_waiting", "Change-feed polls waiting now", "",
                &api->m_waiting))
            != SP_OK
        || (rv = sp_counter_new(reg, "sp_taskpool_api_auth_failures_total", "Requests refused with 401", "",
                &api->m_auth_fail))
            != SP_OK)
        return rv;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        rv = sp_http_route_add(
            srv, routes[i].method, routes[i].path, routes[i].flags | SP_HTTP_AUTH, routes[i].fn, api);
        if (rv != SP_OK) return rv;
    }
    return SP_OK;
}
