/* api_internal.h - what the API's handler files share (not for callers). */
#ifndef SP_TASKPOOL_API_INTERNAL_H
#define SP_TASKPOOL_API_INTERNAL_H

#include "taskpool/acl.h"
#include "metrics.h"
#include "route/playbook.h"
#include "taskpool/api.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <pthread.h>

struct taskpool_api {
    taskpool_api_cfg cfg;
    char goal_templates[4096]; /* cfg.goal_templates, copied */
    json_t *playbooks; /* playbook id -> the tenant's playbook (read-only after new), or NULL */
    playbook_set *pbset; /* the same file through sp-route's loader (slots, promotions), or NULL */
    json_t *catalog_lines; /* product id -> product line, or NULL */
    pthread_mutex_t mu; /* guards the counters */
    pthread_mutex_t hmu; /* guards the horizon cache (held while it is computed) */
    int64_t horizon; /* change feed: every seq <= horizon is committed */
    int64_t horizon_at_mono_ms;
    int horizon_misses; /* consecutive polls that could not move the horizon */
    uint64_t actions;
    int waiters; /* long-polls waiting now */
    sp_metric *m_actions; /* sp_taskpool_api_actions_total{action,result} */
    sp_metric *m_waiting; /* sp_taskpool_api_longpoll_waiting */
    sp_metric *m_auth_fail; /* sp_taskpool_api_auth_failures_total */
    struct token_cache *tokens; /* NULL: every request looks its token up */
};

/* ISO-8601 UTC text of a timestamptz column, for SELECT lists. */
#define API_TS(col) "to_char((" col ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/* The principal as acl.h wants it; 0 when the role is unknown. */
int api_principal(const sp_http_req *req, acl_principal *p);

/* Borrows a connection or fills res with 503. */
int api_db_get(taskpool_api *api, sp_http_res *res, sp_db **db);

/* Fills res with 500/503 for a failed statement and returns rv. */
int api_db_fail(sp_http_res *res, sp_db *db, int rv);

/* A result row as a JSON object: integers, booleans, numbers and json(b)
 * typed by column; NULL -> null; columns whose name starts with '_' are
 * left out. Never NULL (json_object on allocation failure is the caller's
 * risk, as everywhere with jansson). */
json_t *api_row_json(const PGresult *r, int row);

/* Every row as an array of api_row_json objects. */
json_t *api_rows_json(const PGresult *r);

/* Percent-decodes a path segment of n bytes into buf; SP_EINVAL for bad
 * escapes, NUL bytes or an empty result; SP_ETOOBIG. */
int api_segment_decode(const char *s, size_t n, char *buf, size_t cap);

/* Sets res to 200 with j and drops the reference to j. */
int api_reply(sp_http_res *res, json_t *j);

struct api_changes_query;
/* The change feed for principal p: fills res with 200 {"tasks":[...],
 * "next_since":N} once something visible changed after q->since or after
 * q->wait_s seconds; errors fill res (503/500). Shared by the long-poll
 * and the WebSocket push. */
int api_changes_collect(
    taskpool_api *api, const acl_principal *p, const struct api_changes_query *q, sp_http_res *res);

/* The instant that dates the rep's today list: the service clock when it
 * runs, else the request time. */
int64_t api_today_ms(taskpool_api *api);

/* The rep's planned goal actions for today (api_today.c, docs/api/taskpool.md):
 * *out gets a JSON array (caller decrefs). Fills res and returns the error
 * when the database fails. */
int api_today_goal_actions(
    taskpool_api *api, sp_db *db, const char *rep_id, int64_t now_ms, sp_http_res *res, json_t **out);

/* The goal part of team team_id's board (api_goals.c): when a goal whose
 * weeks hold now_ms plans reps of the team (the latest start wins), *out =
 * {"goal_id", "through_week", "team": health, "reps": {rep id: health}}
 * with health {score, completion, quality_pass_rate, planned_to_date,
 * passed, failed_quality, most_behind}; else *out = NULL. A goal whose
 * template does not load is logged and skipped. Returns the database error
 * (res untouched). Caller decrefs *out. */
int api_goal_board(taskpool_api *api, sp_db *db, const char *team_id, int64_t now_ms, json_t **out);

/* Links to the playbooks ids[0..n) that exist (duplicates once, in order):
 * [{"playbook_id","kind","title_zh","title_en","summary_zh","summary_en",
 * "link":"/v1/playbooks/<id>"}]. Never NULL on success. */
json_t *api_playbook_links(const taskpool_api *api, const char *const *ids, size_t n);

/* *visible 1 when p may see what owner (a rep's id, "" = unassigned) owns:
 * the owner, the owner's supervisor (team), director (region), admin (the
 * customer card's rule). Returns the database error. */
int api_owner_visible(sp_db *db, const acl_principal *p, const char *owner, int *visible);

/* GET /v1/tasks/{key}/playbooks/{id} (api_playbook_fill.c): playbook pb_id
 * with its slots filled for the task's customer; 404 for an unknown
 * playbook and for a task the caller may not read. */
int api_task_playbook(
    taskpool_api *api, const sp_http_req *req, sp_http_res *res, const char *key, const char *pb_id);

/* Handlers (api_tasks.c, api_views.c, api_admin.c, api_goals.c, api_playbooks.c). */
int api_h_playbook_get(const sp_http_req *req, sp_http_res *res, void *arg); /* /v1/playbooks/{id} */
int api_h_goals_post(const sp_http_req *req, sp_http_res *res, void *arg);
int api_h_goals_get(const sp_http_req *req, sp_http_res *res, void *arg); /* /v1/goals/{id}[/health] */
int api_h_my_tasks(const sp_http_req *req, sp_http_res *res, void *arg);
int api_h_team_get(const sp_http_req *req, sp_http_res *res, void *arg); /* /v1/teams/{id}/tasks|board */
int api_h_task_get(const sp_http_req *req, sp_http_res *res, void *arg);
int api_h_task_post(const sp_http_req *req, sp_http_res *res, void *arg);
int api_h_changes(const sp_http_req *req, sp_http_res *res, void *arg);
int api_h_team_tasks(taskpool_api *api, const sp_http_req *req, sp_http_res *res, const char *team_id);
int api_h_team_board(taskpool_api *api, const sp_http_req *req, sp_http_res *res, const char *team_id);
int api_h_team_rollups(taskpool_api *api, const sp_http_req *req, sp_http_res *res, const char *team_id);
int api_h_deal_health(const sp_http_req *req, sp_http_res *res, void *arg);
int api_h_customer_card(const sp_http_req *req, sp_http_res *res, void *arg);
int api_h_funnel(const sp_http_req *req, sp_http_res *res, void *arg);
int api_h_today(const sp_http_req *req, sp_http_res *res, void *arg);
int api_h_admin_get(const sp_http_req *req, sp_http_res *res, void *arg);
int api_h_admin_post(const sp_http_req *req, sp_http_res *res, void *arg);
int api_h_admin_patch(const sp_http_req *req, sp_http_res *res, void *arg);
int api_h_admin_delete(const sp_http_req *req, sp_http_res *res, void *arg);

/* Team scope check for team endpoints: SP_OK with the team's region in
 * region (cap 96), or res filled (403 for a role that never may, 404 for a
 * team outside the caller's scope or unknown). */
int api_team_scope(sp_db *db, const acl_principal *p, const char *team_id, sp_http_res *res, char *region);

#endif
