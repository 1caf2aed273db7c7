/* api_tasks.c - task lists, task detail, task actions and the change feed. */
#include "taskpool/api_internal.h"

#include "clock.h"
#include "err.h"
#include "log.h"
#include "taskpool/api_query.h"
#include "taskpool/task_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* clang-format off */
#define LIST_PUBLIC                                                                                          \
    "key, kind, level, status, subject_type, subject_id, customer_id, deal_id, assignee_id, assignee_role, " \
    "team_id, region_id, escalation_level, explanation_zh, explanation_en, seq, "                           \
    API_TS("created_at") " AS created_at, " API_TS("due_at") " AS due_at, "                                 \
    API_TS("updated_at") " AS updated_at"
#define LIST_COLS                                                                                            \
    LIST_PUBLIC ", to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00' AS _cur"
/* clang-format on */

/* "{open,acknowledged}" for a status bit set. */
static void status_array(unsigned bits, char *buf, size_t cap)
{
    size_t o = 0;
    buf[o++] = '{';
    for (int s = TASK_OPEN; s <= TASK_RESOLVED; s++) {
        if (!(bits & (1u << s))) continue;
        o += (size_t)snprintf(buf + o, cap - o, "%s%s", o > 1 ? "," : "", task_status_name((task_status)s));
    }
    snprintf(buf + o, cap - o, "}");
}

/* One page of tasks where scope_col = scope (scope_col is a constant). */
static int list_tasks(
    taskpool_api *api, const sp_http_req *req, sp_http_res *res, const char *scope_col, const char *scope)
{
    api_list_query q;
    const char *field = NULL;
    if (api_list_query_parse(req, &q, &field) != SP_OK)
        return sp_http_res_error(res, 400, "invalid_query", "invalid query parameter", field);
    char statuses[128], level[16], limit[16], clevel[16];
    status_array(q.statuses, statuses, sizeof statuses);
    snprintf(level, sizeof level, "%d", q.level);
    snprintf(limit, sizeof limit, "%d", q.limit + 1);
    snprintf(clevel, sizeof clevel, "%d", q.cursor.level);
    const char *p[8]
        = {scope, statuses, q.level ? level : NULL, q.kind[0] ? q.kind : NULL, q.has_cursor ? clevel : NULL,
            q.has_cursor ? q.cursor.created : NULL, q.has_cursor ? q.cursor.key : NULL, limit};
    /* The hottest read of the API: prepared once per connection, and each
     * row's JSON made by PostgreSQL (row_to_json), so the answer is a
     * concatenation rather than a jansson tree (which was most of this
     * handler's CPU). Same members and types as api_row_json. */
#define LIST_SQL(col)                                                                                        \
    "SELECT row_to_json(v)::text, s.level, "                                                                 \
    "to_char(s.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00', s.key FROM "             \
    "(SELECT key, kind, level, status, subject_type, subject_id, customer_id, deal_id, assignee_id, "        \
    "assignee_role, team_id, region_id, escalation_level, explanation_zh, explanation_en, seq, "             \
    "created_at, due_at, updated_at FROM tasks WHERE " col " = $1 AND status = ANY($2::text[]) "             \
    "AND ($3::int IS NULL OR level = $3::int) AND ($4::text IS NULL OR kind = $4) "                          \
    "AND ($5::int IS NULL OR (level, created_at, key) < ($5::smallint, $6::timestamptz, $7::text)) "         \
    "ORDER BY level DESC, created_at DESC, key DESC LIMIT $8::int) s "                                       \
    "CROSS JOIN LATERAL (SELECT " LIST_PUBLIC " FROM (SELECT s.*) z) v "                                     \
    "ORDER BY s.level DESC, s.created_at DESC, s.key DESC"
    int by_team = strcmp(scope_col, "team_id") == 0;
    sp_db *db = NULL;
    if (api_db_get(api, res, &db) != SP_OK) return SP_EDBDOWN;
    PGresult *r = NULL;
    int rv = by_team ? sp_db_exec(db, LIST_SQL("team_id"), 8, p, &r)
                     : sp_db_exec(db, LIST_SQL("assignee_id"), 8, p, &r);
#undef LIST_SQL
    if (rv != SP_OK) {
        api_db_fail(res, db, rv);
        api_pool_put(api->cfg.pool, db);
        return rv;
    }
    api_pool_put(api->cfg.pool, db);
    int n = PQntuples(r), more = n > q.limit;
    if (more) n = q.limit;
    char next[API_CURSOR_MAX + 2] = "null";
    if (more) {
        api_cursor c = {.level = atoi(PQgetvalue(r, n - 1, 1))};
        snprintf(c.created, sizeof c.created, "%s", PQgetvalue(r, n - 1, 2));
        snprintf(c.key, sizeof c.key, "%s", PQgetvalue(r, n - 1, 3));
        char buf[API_CURSOR_MAX];
        if (api_cursor_encode(&c, buf, sizeof buf) == SP_OK) snprintf(next, sizeof next, "\"%s\"", buf);
    }
    size_t len = 64 + strlen(next);
    for (int i = 0; i < n; i++)
        len += (size_t)PQgetlength(r, i, 0) + 1;
    char *body = malloc(len);
    if (body == NULL) {
        PQclear(r);
        return SP_ENOMEM;
    }
    size_t o = (size_t)snprintf(body, len, "{\"tasks\":[");
    for (int i = 0; i < n; i++) {
        if (i) body[o++] = ',';
        memcpy(body + o, PQgetvalue(r, i, 0), (size_t)PQgetlength(r, i, 0));
        o += (size_t)PQgetlength(r, i, 0);
    }
    o += (size_t)snprintf(body + o, len - o, "],\"next_cursor\":%s}", next);
    PQclear(r);
    rv = sp_http_res_set(res, 200, "application/json", body, o);
    free(body);
    return rv;
}

int api_h_my_tasks(const sp_http_req *req, sp_http_res *res, void *arg)
{
    acl_principal p;
    if (!api_principal(req, &p) || acl_check(&p, ACL_LIST_MINE, NULL) != ACL_ALLOW)
        return sp_http_res_error(res, 403, "forbidden", "unknown role", NULL);
    return list_tasks(arg, req, res, "assignee_id", p.person_id);
}

int api_h_team_tasks(taskpool_api *api, const sp_http_req *req, sp_http_res *res, const char *team_id)
{
    acl_principal p;
    api_principal(req, &p);
    sp_db *db = NULL;
    if (api_db_get(api, res, &db) != SP_OK) return SP_EDBDOWN;
    char region[96];
    int rv = api_team_scope(db, &p, team_id, res, region);
    api_pool_put(api->cfg.pool, db);
    if (rv != SP_OK) return rv;
    return list_tasks(api, req, res, "team_id", team_id);
}

/* Reads the scope of task key; *found 0 when absent or out of scope. */
static int task_key_of(const sp_http_req *req, char *key, size_t cap, char *action, size_t acap)
{
    const char *tail = req->tail, *slash = action ? strrchr(tail, '/') : NULL;
    size_t n = action ? (slash ? (size_t)(slash - tail) : 0) : strlen(tail);
    if (action) {
        if (slash == NULL) return SP_EINVAL;
        snprintf(action, acap, "%s", slash + 1);
    }
    return api_segment_decode(tail, n, key, cap);
}

int api_h_task_get(const sp_http_req *req, sp_http_res *res, void *arg)
{
    taskpool_api *api = arg;
    acl_principal p;
    char key[SP_TASK_KEY_MAX];
    api_principal(req, &p);
    const char *sub = strstr(req->tail, "/playbooks/");
    if (sub) { /* GET /v1/tasks/{key}/playbooks/{id}: a playbook filled for the task */
        char pb[128];
        if (api_segment_decode(req->tail, (size_t)(sub - req->tail), key, sizeof key) != SP_OK
            || api_segment_decode(sub + 11, strlen(sub + 11), pb, sizeof pb) != SP_OK)
            return sp_http_res_error(res, 404, "not_found", "no such task playbook", NULL);
        return api_task_playbook(arg, req, res, key, pb);
    }
    if (task_key_of(req, key, sizeof key, NULL, 0) != SP_OK)
        return sp_http_res_error(res, 404, "not_found", "no such task", NULL);
    sp_db *db = NULL;
    if (api_db_get(api, res, &db) != SP_OK) return SP_EDBDOWN;
    PGresult *r = NULL, *h = NULL;
    const char *q[1] = {key};
    int rv = sp_db_exec(db,
        "SELECT " LIST_COLS ", owner_rep_id, sla_s, revision, outcome, note, to_json(chain) AS chain, "
        "to_json(playbooks) AS playbooks, evidence, route_reason_zh, route_reason_en, " API_TS(
            "assigned_at") " AS assigned_at, " API_TS("acked_at") " AS acked_at, " API_TS("closed_at") " AS "
                                                                                                       "close"
                                                                                                       "d_at "
                                                                                                       "FROM "
                                                                                                       "tasks"
                                                                                                       " WHER"
                                                                                                       "E "
                                                                                                       "key "
                                                                                                       "= $1",
        1, q, &r);
    if (rv == SP_OK && PQntuples(r) == 1) {
        acl_task t = {PQgetvalue(r, 0, PQfnumber(r, "assignee_id")),
            PQgetvalue(r, 0, PQfnumber(r, "team_id")), PQgetvalue(r, 0, PQfnumber(r, "region_id"))};
        if (acl_check(&p, ACL_READ, &t) == ACL_ALLOW)
            rv = sp_db_exec(db,
                "SELECT revision, " API_TS(
                    "at") " AS at, actor_id, action, from_status, to_status, assignee_id, note "
                          "FROM task_history WHERE task_key = $1 ORDER BY revision",
                1, q, &h);
        else {
            PQclear(r);
            r = NULL;
        }
    }
    if (rv != SP_OK) {
        api_db_fail(res, db, rv);
        api_pool_put(api->cfg.pool, db);
        PQclear(r);
        return rv;
    }
    api_pool_put(api->cfg.pool, db);
    if (r == NULL || PQntuples(r) != 1 || h == NULL) {
        PQclear(r);
        PQclear(h);
        return sp_http_res_error(res, 404, "not_found", "no such task", NULL);
    }
    json_t *o = api_row_json(r, 0);
    json_object_set_new(o, "history", api_rows_json(h));
    PQclear(r);
    PQclear(h);
    return api_reply(res, o);
}

/* Publishes the TaskEvent of ev on t into g. */
static int publish(taskpool_api *api, bus_group *g, const task *t, const task_event *ev)
{
    Salespulse__V1__TaskEvent pb;
    Salespulse__V1__EventMeta meta;
    char id[512];
    int rv = task_event_fill(t, ev, &pb, &meta, id, sizeof id);
    if (rv != SP_OK) return rv;
    meta.producer = "sp-taskpool-api";
    size_t len = salespulse__v1__task_event__get_packed_size(&pb);
    uint8_t *buf = malloc(len ? len : 1);
    if (buf == NULL) return SP_ENOMEM;
    salespulse__v1__task_event__pack(&pb, buf);
    rv = bus_group_send(g, api->cfg.producer, api->cfg.events_topic, t->key, strlen(t->key), buf, len);
    free(buf);
    return rv;
}

/* The reassignment target's scope and escalation chain (their team's
 * supervisor, their region's director, without themselves): SP_ENOTFOUND
 * when there is no active person with this id. */
typedef struct target_info {
    char role[32], team[SP_TASK_ID_MAX], region[SP_TASK_ID_MAX];
    char chain_buf[2][SP_TASK_ID_MAX];
    const char *chain[2];
    size_t n_chain;
} target_info;

static int target_scope(sp_db *db, const char *id, target_info *ti)
{
    PGresult *r = NULL;
    const char *q[1] = {id};
    int rv = sp_db_exec(db,
        "SELECT p.role, coalesce(p.team_id, ''), coalesce(p.region_id, t.region_id, ''), "
        "coalesce(t.supervisor_id, ''), coalesce(g.director_id, '') FROM people p "
        "LEFT JOIN teams t ON t.id = p.team_id LEFT JOIN regions g ON g.id = coalesce(p.region_id, "
        "t.region_id) "
        "WHERE p.id = $1 AND p.active",
        1, q, &r);
    if (rv != SP_OK) return rv;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return SP_ENOTFOUND;
    }
    memset(ti, 0, sizeof *ti);
    snprintf(ti->role, sizeof ti->role, "%s", PQgetvalue(r, 0, 0));
    snprintf(ti->team, sizeof ti->team, "%s", PQgetvalue(r, 0, 1));
    snprintf(ti->region, sizeof ti->region, "%s", PQgetvalue(r, 0, 2));
    for (int c = 3; c <= 4; c++) {
        const char *up = PQgetvalue(r, 0, c);
        if (*up == '\0' || strcmp(up, id) == 0 || (ti->n_chain && strcmp(up, ti->chain[0]) == 0)) continue;
        snprintf(ti->chain_buf[ti->n_chain], SP_TASK_ID_MAX, "%s", up);
        ti->chain[ti->n_chain] = ti->chain_buf[ti->n_chain];
        ti->n_chain++;
    }
    PQclear(r);
    return SP_OK;
}

static const acl_action acl_of[] = {[TASK_ACT_ACK] = ACL_ACK,
    [TASK_ACT_START] = ACL_START,
    [TASK_ACT_COMPLETE] = ACL_COMPLETE,
    [TASK_ACT_DISMISS] = ACL_DISMISS,
    [TASK_ACT_REASSIGN] = ACL_REASSIGN};

/* Applies action to the locked task inside the open transaction; fills
 * res for every refusal. SP_OK when the row and history are written and
 * the TaskEvent queued in g. */
static int apply_action(taskpool_api *api, sp_db *db, bus_group *g, const acl_principal *p, const char *key,
    task_action action, const task_args *args_in, task *t, sp_http_res *res)
{
    int found = 0, rv = task_db_get(db, key, 1, t, &found);
    if (rv != SP_OK) return api_db_fail(res, db, rv);
    acl_task scope = {t->assignee_id, t->team_id, t->region_id};
    acl_verdict v = found ? acl_check(p, acl_of[action], &scope) : ACL_NOT_FOUND;
    if (v == ACL_NOT_FOUND) {
        sp_http_res_error(res, 404, "not_found", "no such task", NULL);
        return SP_ENOTFOUND;
    }
    if (v == ACL_FORBIDDEN) {
        sp_http_res_error(res, 403, "forbidden", "only a supervisor, director or admin may reassign", NULL);
        return SP_EFORBIDDEN;
    }
    task_args args = *args_in;
    target_info ti;
    const char *team = NULL, *region = NULL;
    if (action == TASK_ACT_REASSIGN) {
        rv = target_scope(db, args.to_id, &ti);
        team = ti.team;
        region = ti.region;
        if (rv != SP_OK && rv != SP_ENOTFOUND) return api_db_fail(res, db, rv);
        acl_task target = {args.to_id, team, region};
        /* Below admin, an unknown id and a person out of scope get the same
         * answer: which ids exist elsewhere is not the caller's to learn. */
        if (p->role != ACL_ROLE_ADMIN && p->role != ACL_ROLE_SYSTEM
            && (rv == SP_ENOTFOUND || !acl_reassign_target_ok(p, &target))) {
            sp_http_res_error(res, 403, "forbidden", "no active person with this id in your scope", "to_id");
            return SP_EFORBIDDEN;
        }
        if (rv == SP_ENOTFOUND) {
            sp_http_res_error(res, 422, "invalid_field", "no active person with this id", "to_id");
            return SP_EINVAL;
        }
        args.to_role = ti.role;
        args.chain = ti.chain; /* the new assignee's escalation chain */
        args.n_chain = ti.n_chain;
    }
    task_actor actor = {.person_id = p->person_id, .role = p->role};
    task_event ev;
    rv = task_transition(t, action, &actor, &args, api->cfg.now_ms(api->cfg.now_arg), &ev);
    if (rv == SP_ECONFLICT) {
        char body[256];
        task_conflict_body(&ev, body, sizeof body);
        sp_http_res_set(res, 409, "application/json", body, strlen(body));
        return rv;
    }
    if (rv == SP_EFORBIDDEN) {
        sp_http_res_error(res, 403, "forbidden", ev.error ? ev.error : "forbidden", NULL);
        return rv;
    }
    if (rv != SP_OK) {
        sp_http_res_error(res, 422, "invalid_field", ev.error ? ev.error : sp_strerror(rv), ev.field);
        return rv;
    }
    if (action == TASK_ACT_REASSIGN) {
        /* the task follows its new assignee's team and region */
        snprintf(t->team_id, sizeof t->team_id, "%s", team);
        snprintf(t->region_id, sizeof t->region_id, "%s", region);
    }
    if ((rv = task_db_put(db, t, &ev, NULL, NULL)) != SP_OK) return api_db_fail(res, db, rv);
    if (action == TASK_ACT_REASSIGN) { /* task_db_put keeps team/region of an existing row */
        const char *q[3] = {t->key, team[0] ? team : NULL, region[0] ? region : NULL};
        rv = sp_db_exec(db, "UPDATE tasks SET team_id = $2, region_id = $3 WHERE key = $1", 3, q, NULL);
        if (rv != SP_OK) return api_db_fail(res, db, rv);
    }
    if (ev.emit && (rv = publish(api, g, t, &ev)) != SP_OK) {
        sp_http_res_error(res, 503, "unavailable", "event bus unavailable", NULL);
        return rv;
    }
    return SP_OK;
}

int api_h_task_post(const sp_http_req *req, sp_http_res *res, void *arg)
{
    taskpool_api *api = arg;
    acl_principal p;
    char key[SP_TASK_KEY_MAX], aname[32];
    task_action action;
    api_principal(req, &p);
    if (task_key_of(req, key, sizeof key, aname, sizeof aname) != SP_OK
        || api_action_parse(aname, &action) != SP_OK)
        return sp_http_res_error(res, 404, "not_found", "no such task action", NULL);
    json_t *body = NULL;
    if (req->body_len > 0 && sp_http_req_json(req, res, &body) != SP_OK) return SP_EINVAL;
    task_args args;
    const char *field = NULL;
    if (api_action_args(action, body, &args, &field) != SP_OK) {
        json_decref(body);
        return sp_http_res_error(res, 422, "missing_field", "missing or invalid field", field);
    }
    if (api->cfg.producer == NULL) {
        json_decref(body);
        return sp_http_res_error(res, 503, "unavailable", "event bus not configured", NULL);
    }
    task *t = calloc(1, sizeof *t);
    bus_group *g = NULL;
    sp_db *db = NULL;
    int rv = SP_ENOMEM;
    if (t == NULL || bus_group_new(&g) != SP_OK) goto out;
    if ((rv = api_db_get(api, res, &db)) != SP_OK) goto out;
    if ((rv = sp_db_begin(db)) != SP_OK) {
        api_db_fail(res, db, rv);
        goto out;
    }
    rv = apply_action(api, db, g, &p, key, action, &args, t, res);
    char err[256] = "";
    if (rv == SP_OK && (rv = bus_group_wait(g, api->cfg.delivery_timeout_ms, err, sizeof err)) != SP_OK) {
        sp_warn("taskpool api: TaskEvent of %s not delivered: %s", key, err);
        sp_http_res_error(res, 503, "unavailable", "event bus did not confirm delivery", NULL);
    }
    if (rv == SP_OK && (rv = sp_db_commit(db)) != SP_OK) api_db_fail(res, db, rv);
    if (rv != SP_OK) {
        sp_db_rollback(db);
        goto out;
    }
    pthread_mutex_lock(&api->mu);
    api->actions++;
    pthread_mutex_unlock(&api->mu);
    json_t *o = json_pack("{s:s,s:s,s:i,s:s,s:s}", "key", t->key, "status", task_status_name(t->status),
        "revision", (int)t->revision, "assignee_id", t->assignee_id, "action", task_action_name(action));
    rv = api_reply(res, o);
out:
    if (db) api_pool_put(api->cfg.pool, db);
    bus_group_release(g);
    free(t);
    json_decref(body);
    sp_counter_add(api->m_actions, 1, task_action_name(action),
        rv == SP_OK              ? "applied"
            : res->status == 409 ? "conflict"
            : res->status >= 500 ? "error"
                                 : "refused");
    return rv;
}

/* Every seq <= the returned horizon belongs to a committed (or aborted)
 * transaction: task_seq_horizon() (0006) takes the exclusive side of the
 * advisory lock every task writer holds shared while it assigns a seq. It
 * only tries (never delaying a writer) until 4 polls in a row failed, then
 * queues for at most 200 ms, so the feed moves on under a steady stream of
 * writers too. One computation per poll period serves every waiting
 * client; a miss keeps the previous horizon (never too far). */
static int horizon_get(taskpool_api *api, int64_t *out)
{
    int rv = SP_OK;
    pthread_mutex_lock(&api->hmu);
    int64_t now = sp_mono_us() / 1000;
    if (api->horizon_at_mono_ms == 0 || now - api->horizon_at_mono_ms >= api->cfg.poll_ms) {
        sp_db *db = NULL;
        if ((rv = api_pool_get(api->cfg.pool, 2000, &db)) == SP_OK) {
            PGresult *r = NULL;
            const char *p[1] = {api->horizon_misses >= 4 ? "true" : "false"};
            rv = sp_db_exec(db, "SELECT task_seq_horizon($1::boolean)", 1, p, &r);
            if (rv == SP_OK && !PQgetisnull(r, 0, 0)) {
                api->horizon = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
                api->horizon_misses = 0;
            } else {
                api->horizon_misses++;
            }
            PQclear(r);
            api->horizon_at_mono_ms = sp_mono_us() / 1000;
            api_pool_put(api->cfg.pool, db);
        }
    }
    *out = api->horizon;
    pthread_mutex_unlock(&api->hmu);
    return rv;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int api_changes_collect(
    taskpool_api *api, const acl_principal *pr, const api_changes_query *qq, sp_http_res *res)
{
    acl_principal p = *pr;
    api_changes_query q = *qq;
    const char *scope = "assignee_id = $3";
    if (p.role == ACL_ROLE_ADMIN)
        scope = "TRUE";
    else if (p.role == ACL_ROLE_SUPERVISOR)
        scope = "(assignee_id = $3 OR team_id = $4)";
    else if (p.role == ACL_ROLE_DIRECTOR)
        scope = "(assignee_id = $3 OR region_id = $5)";
    char sql[1536], since[24], upto[24], limit[16];
    snprintf(sql, sizeof sql,
        "SELECT " LIST_COLS " FROM tasks WHERE seq > $1::bigint AND seq <= $2::bigint AND %s "
        "AND ($3::text IS NULL OR $4::text IS NULL OR $5::text IS NULL OR TRUE) " /* every parameter typed */
        "ORDER BY seq LIMIT $6::int",
        scope);
    snprintf(limit, sizeof limit, "%d", q.limit);
    int64_t deadline = sp_mono_us() / 1000 + (int64_t)q.wait_s * 1000, cur = q.since;
    for (;;) {
        int64_t horizon = 0;
        if (horizon_get(api, &horizon) == SP_OK && horizon > cur) {
            snprintf(since, sizeof since, "%lld", (long long)cur);
            snprintf(upto, sizeof upto, "%lld", (long long)horizon);
            const char *prm[6] = {
                since, upto, p.person_id, p.team_id ? p.team_id : "", p.region_id ? p.region_id : "", limit};
            sp_db *db = NULL;
            if (api_db_get(api, res, &db) != SP_OK) return SP_EDBDOWN;
            PGresult *r = NULL;
            int rv = sp_db_exec(db, sql, 6, prm, &r);
            if (rv != SP_OK) {
                api_db_fail(res, db, rv);
                api_pool_put(api->cfg.pool, db);
                return rv;
            }
            api_pool_put(api->cfg.pool, db);
            int n = PQntuples(r);
            /* a full page stops at its last row; otherwise everything up to
             * the horizon has been seen */
            int64_t next
                = n == q.limit ? strtoll(PQgetvalue(r, n - 1, PQfnumber(r, "seq")), NULL, 10) : horizon;
            if (n > 0) {
                json_t *o = json_object();
                json_object_set_new(o, "tasks", api_rows_json(r));
                json_object_set_new(o, "next_since", json_integer(next));
                PQclear(r);
                return api_reply(res, o);
            }
            PQclear(r);
            cur = next;
        }
        int64_t left = deadline - sp_mono_us() / 1000;
        if (left <= 0) break;
        sleep_ms(left < api->cfg.poll_ms ? (int)left : api->cfg.poll_ms);
    }
    json_t *o = json_object();
    json_object_set_new(o, "tasks", json_array());
    json_object_set_new(o, "next_since", json_integer(cur));
    return api_reply(res, o);
}

int api_h_changes(const sp_http_req *req, sp_http_res *res, void *arg)
{
    taskpool_api *api = arg;
    acl_principal p;
    api_changes_query q;
    const char *field = NULL;
    if (!api_principal(req, &p)) return sp_http_res_error(res, 403, "forbidden", "unknown role", NULL);
    if (api_changes_query_parse(req, &q, &field) != SP_OK)
        return sp_http_res_error(res, 400, "invalid_query", "invalid query parameter", field);
    /* a waiting poll holds an HTTP worker: beyond max_waiters, answer at once
     * (the client's next poll comes with the same since, nothing is lost) */
    int waiting = 0, wanted = q.wait_s > 0;
    pthread_mutex_lock(&api->mu);
    if (q.wait_s > 0 && api->waiters < api->cfg.max_waiters) {
        api->waiters++;
        waiting = 1;
        sp_gauge_set(api->m_waiting, api->waiters);
    } else {
        q.wait_s = 0;
    }
    pthread_mutex_unlock(&api->mu);
    int rv = api_changes_collect(api, &p, &q, res);
    if (wanted && !waiting && rv == SP_OK) sp_http_res_header(res, "Retry-After", "1");
    if (waiting) {
        pthread_mutex_lock(&api->mu);
        api->waiters--;
        sp_gauge_set(api->m_waiting, api->waiters);
        pthread_mutex_unlock(&api->mu);
    }
    return rv;
}
