/* api.h - sp-taskpool's HTTP API for people: bearer-token auth, task lists
 * and actions, the change feed, boards and cards, org admin. Handlers copy
 * the request into plain structs (api_query.h), decide with pure functions
 * (acl.h, task.h, api_stats.h) and talk to PostgreSQL through a small
 * connection pool. docs/api/taskpool.md lists every route. */
#ifndef SP_TASKPOOL_API_H
#define SP_TASKPOOL_API_H

#include "bus.h"
#include "clock.h"
#include "http.h"
#include "taskpool/api_pool.h"

#include <stdint.h>

typedef struct taskpool_api_cfg {
    api_pool *pool; /* borrowed: connections for handlers */
    bus_producer *producer; /* borrowed, thread-safe; NULL: actions answer 503 */
    const char *events_topic; /* default SP_TOPIC_TASK_EVENTS */
    int64_t (*now_ms)(void *arg); /* request time (ms since epoch) */
    void *now_arg;
    sp_clock *clock; /* borrowed: the service clock (wall, or event time in
                      * replays) that dates the today list; NULL or not yet
                      * started (0): now_ms */
    const char *goal_templates; /* folder of the goal templates (quality standards),
                                 * copied; default deploy/tenants/default/goal_templates */
    const char *playbooks; /* the tenant's playbooks.json (materials of the today
                            * list, GET /v1/playbooks/{id}); NULL/"" or a file
                            * that does not load (logged): no materials */
    const char *catalog; /* the tenant's catalog (product id -> product line, for
                          * the promotions and won cases of filled playbooks);
                          * NULL/"" or a file that does not load (logged): lines unknown */
    int delivery_timeout_ms; /* wait for the TaskEvent's delivery; default 10000 */
    int poll_ms; /* change feed: database poll period; default 250 */
    int max_waiters; /* change feed: long-polls waiting at once (each holds an
                      * HTTP worker); beyond, a poll answers at once. Default 16 */
    int64_t token_cache_ms; /* remember an authenticated token this long (a
                             * revocation takes up to this to bite); 0: off */
} taskpool_api_cfg;

typedef struct taskpool_api taskpool_api;

/* Creates the API over cfg (copied; borrowed members stay the caller's).
 * SP_EINVAL without pool or now_ms, SP_ENOMEM. Caller frees with
 * taskpool_api_destroy after the server is destroyed. */
int taskpool_api_new(const taskpool_api_cfg *cfg, taskpool_api **out);

void taskpool_api_destroy(taskpool_api *api);

/* sp_http_auth_fn (arg: the taskpool_api): Authorization: Bearer <token>
 * -> SHA-256 -> api_tokens (not revoked, not expired at request time) ->
 * active person -> principal (role, team, region: a person without region
 * gets their team's). SP_EAUTH (401) otherwise, SP_EDBDOWN when the
 * database is unreachable. With cfg.token_cache_ms, a token authenticated
 * less than that ago is answered from memory (token_cache.h). */
int taskpool_api_auth(const sp_http_req *req, void *arg, sp_http_principal *out);

/* Registers every route on srv (before start). The server must have been
 * created with opts.auth = taskpool_api_auth, opts.auth_arg = api. */
int taskpool_api_register(taskpool_api *api, sp_http_server *srv);

/* Task actions applied since start (for the bench and /metrics). */
uint64_t taskpool_api_actions_applied(const taskpool_api *api);

/* Reads a playbooks file (api_playbooks.c) into *out: an object playbook
 * id -> playbook. SP_ECONFIG with the file and item in err. Caller decrefs. */
int api_playbooks_load(const char *path, json_t **out, char *err, size_t errlen);

/* Reads a catalog file's product id -> product line map (a JSON object,
 * caller decrefs), or NULL when it does not load or has no products array. */
json_t *api_catalog_lines_load(const char *path);

#endif
