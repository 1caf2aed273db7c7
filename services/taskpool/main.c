/* sp-taskpool: task commands -> tasks (with history and SLA escalation),
 * task events out, and the HTTP API for people. */
#include "config.h"
#include "err.h"
#include "log.h"
#include "http.h"
#include "service.h"
#include "taskpool/api.h"
#include "taskpool/api_ws.h"
#include "taskpool/taskpool_svc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct cfg {
    sp_service_cfg svc;
    long long sla1, sla2, sla3, suppress, sweep, token_cache;
    long http_workers, http_db_conns, ws_max;
    char *ws_addr;
    char *web_dir;
    char *goal_templates;
    char *playbooks;
    char *catalog;
    char *commands_topic;
    int goal_schedule;
};

#define CFG(f) offsetof(struct cfg, f)
static const sp_config_row rows[] = {
    SP_SERVICE_ROWS(struct cfg, svc, "sp-taskpool", "8085", "500"),
    {"SP_SLA_L1", SP_CFG_MS, "24h", CFG(sla1),
        "acknowledge an L1 task within, for a command that carries no SLA (sp-route stamps its rules' SLA on "
        "every task)",
        .min = 60000L, .max = 7776000000L},
    {"SP_SLA_L2", SP_CFG_MS, "8h", CFG(sla2),
        "acknowledge an L2 task within, for a command that carries no SLA (sp-route stamps its rules' SLA on "
        "every task)",
        .min = 60000L, .max = 7776000000L},
    {"SP_SLA_L3", SP_CFG_MS, "2h", CFG(sla3),
        "acknowledge an L3 task within, for a command that carries no SLA (sp-route stamps its rules' SLA on "
        "every task)",
        .min = 60000L, .max = 7776000000L},
    {"SP_SUPPRESS", SP_CFG_MS, "7d", CFG(suppress), "a dismissed task suppresses the same signal this long",
        .min = 0L, .max = 31536000000L},
    {"SP_SLA_SWEEP", SP_CFG_MS, "1m", CFG(sweep), "SLA sweep period (clock time: event time in replays)",
        .min = 1000L, .max = 86400000L},
    {"SP_TOPIC_TASK_COMMANDS", SP_CFG_STRING, SP_TOPIC_TASK_COMMANDS, CFG(commands_topic),
        "task commands topic consumed (and the goal review's catch-ups published to)"},
    {"SP_HTTP_WORKERS", SP_CFG_INT, "32", CFG(http_workers),
        "HTTP handler threads (each long-poll holds one while it waits)", .min = 1, .max = 256},
    {"SP_TOKEN_CACHE", SP_CFG_MS, "5s", CFG(token_cache),
        "remember an authenticated API token this long (a revocation takes up to this to bite; 0: off)",
        .min = 0L, .max = 3600000L},
    {"SP_HTTP_DB_CONNS", SP_CFG_INT, "4", CFG(http_db_conns), "PostgreSQL connections for HTTP handlers",
        .min = 1, .max = 64},
    {"SP_WS_ADDR", SP_CFG_STRING, "", CFG(ws_addr),
        "WebSocket push of the change feed, e.g. ws://0.0.0.0:8086/v1/tasks/ws (empty: off)"},
    {"SP_WS_MAX_CONNS", SP_CFG_INT, "256", CFG(ws_max), "WebSocket connections at most (one thread each)",
        .min = 1, .max = 10000},
    {"SP_WEB_DIR", SP_CFG_STRING, "services/taskpool/web", CFG(web_dir),
        "dashboard: index.html at /, its app/ folder at /app/ (echarts from its node_modules/echarts/dist at "
        "/vendor/)"},
    {"SP_GOAL_TEMPLATES", SP_CFG_STRING, "", CFG(goal_templates),
        "goal templates: the today list's quality standards, POST /v1/goals, the scheduled monthly review "
        "(default $SP_TENANT_DIR/goal_templates)"},
    {"SP_CATALOG", SP_CFG_STRING, "", CFG(catalog),
        "the tenant's catalog: product lines of filled playbooks (promotions, won cases) (default "
        "$SP_TENANT_DIR/catalog.json if present)"},
    {"SP_PLAYBOOKS", SP_CFG_STRING, "", CFG(playbooks),
        "the tenant's playbooks: material links of the today list, GET /v1/playbooks/{id} (default "
        "$SP_TENANT_DIR/playbooks.json)"},
    {"SP_GOAL_SCHEDULE", SP_CFG_BOOL, "true", CFG(goal_schedule),
        "run the goal schedule on the service clock: planned key actions for sp-score, the monthly review "
        "of every goal once the next month's first working day begins"},
    SP_CONFIG_END,
};

/* HTTP requests are dated by the wall clock even when the consumer runs
 * on event time (a person acts now, not at the replay's watermark). */
static int64_t wall_now(void *arg)
{
    (void)arg;
    return sp_wall_ms();
}

/* A folder served under a URL prefix. */
typedef struct web_root {
    char dir[4096];
    const char *cache; /* Cache-Control */
} web_root;

/* The content type of a file we serve, by extension; NULL: not served. */
static const char *web_type(const char *path)
{
    static const char *const types[][2]
        = {{".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
            {".css", "text/css; charset=utf-8"}, {".json", "application/json"}, {".map", "application/json"},
            {".svg", "image/svg+xml"}, {".png", "image/png"}, {".ico", "image/x-icon"}};
    const char *dot = strrchr(path, '.');
    if (dot == NULL || strchr(dot, '/') != NULL) return NULL;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i][0]) == 0) return types[i][1];
    return NULL;
}

/* Answers 200 with the regular file at path (at most 16 MiB), else 404. */
static int web_send(sp_http_res *res, const char *path, const char *type, const char *cache)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (16 << 20))
        return sp_http_res_error(res, 404, "not_found", "no such resource", NULL);
    FILE *f = fopen(path, "rb");
    if (f == NULL) return sp_http_res_error(res, 404, "not_found", "no such resource", NULL);
    size_t n = (size_t)st.st_size;
    char *buf = malloc(n + 1);
    int rv = buf == NULL ? SP_ENOMEM : fread(buf, 1, n, f) == n ? SP_OK : SP_EIO;
    fclose(f);
    if (rv == SP_OK) rv = sp_http_res_set(res, 200, type, buf, n);
    free(buf);
    if (rv == SP_OK) rv = sp_http_res_header(res, "Cache-Control", cache);
    if (rv == SP_OK) rv = sp_http_res_header(res, "X-Content-Type-Options", "nosniff");
    return rv;
}

/* GET <prefix>/<file>: a file of the root's folder. Only plain names
 * ([A-Za-z0-9._-] segments, no "..", no percent-escapes) with a known
 * extension: nng's directory handler follows "../", so it is not used. */
static int web_file(const sp_http_req *req, sp_http_res *res, void *arg)
{
    const web_root *root = arg;
    const char *tail = req->tail;
    size_t len = strlen(tail);
    int ok
        = len >= 2 && len < 512 && tail[0] == '/' && strstr(tail, "..") == NULL && strstr(tail, "//") == NULL;
    for (size_t i = 0; ok && i < len; i++) {
        char c = tail[i];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.'
            || c == '_' || c == '-' || c == '/';
    }
    const char *type = ok ? web_type(tail) : NULL;
    if (type == NULL) return sp_http_res_error(res, 404, "not_found", "no such resource", NULL);
    char path[4700];
    snprintf(path, sizeof path, "%s%s", root->dir, tail);
    return web_send(res, path, type, root->cache);
}

/* GET /: the dashboard's index.html (read per request, so new files need
 * no restart). */
static int web_index(const sp_http_req *req, sp_http_res *res, void *arg)
{
    (void)req;
    const web_root *root = arg;
    char path[4200];
    snprintf(path, sizeof path, "%s/index.html", root->dir);
    return web_send(res, path, "text/html; charset=utf-8", "no-cache");
}

/* Registers the dashboard when dir holds index.html: / (the page), /app/
 * (dir/app: scripts and styles) and /vendor/ (echarts from node_modules).
 * roots[3] (top, app, vendor) are filled here and must outlive the server. A missing
 * folder only logs a warning: the API works without the dashboard. Fails
 * with sp_http_route_add's errors. */
static int web_register(sp_http_server *srv, const char *dir, web_root roots[3])
{
    web_root *top = &roots[0], *app = &roots[1], *vendor = &roots[2];
    char path[4200];
    snprintf(path, sizeof path, "%s/index.html", dir);
    if (access(path, R_OK) != 0) {
        sp_warn("dashboard: no %s (SP_WEB_DIR); serving the API only", path);
        return SP_OK;
    }
    snprintf(top->dir, sizeof top->dir, "%s", dir);
    snprintf(app->dir, sizeof app->dir, "%s/app",
        dir); /* not dir itself: package.json, node_modules stay private */
    app->cache = "no-cache";
    int rv = sp_http_route_add(srv, "GET", "/", 0, web_index, top);
    if (rv == SP_OK) rv = sp_http_route_add(srv, "GET", "/app", SP_HTTP_PREFIX, web_file, app);
    if (rv != SP_OK) return rv;
    snprintf(vendor->dir, sizeof vendor->dir, "%s/node_modules/echarts/dist", dir);
    vendor->cache = "max-age=3600";
    if (access(vendor->dir, R_OK) != 0) {
        sp_warn("dashboard: no %s (run deploy/local/web-deps.sh); charts disabled", vendor->dir);
        return SP_OK;
    }
    return sp_http_route_add(srv, "GET", "/vendor", SP_HTTP_PREFIX, web_file, vendor);
}

int main(int argc, char **argv)
{
    struct cfg cfg = {0};
    sp_config_main(argc, argv, "sp-taskpool", "", rows, &cfg);
    taskpool_svc ts
        = {.suppress_ms = cfg.suppress, .sweep_every_ms = cfg.sweep, .events_topic = SP_TOPIC_TASK_EVENTS};
    ts.sla.sla_s[1] = cfg.sla1 / 1000;
    ts.sla.sla_s[2] = cfg.sla2 / 1000;
    ts.sla.sla_s[3] = cfg.sla3 / 1000;
    sp_service svc = {0};
    api_pool *pool = NULL;
    taskpool_api *api = NULL;
    api_ws *ws = NULL;
    web_root web_roots[3] = {{{0}}};
    char templates[4096];
    snprintf(templates, sizeof templates, "%s/goal_templates", cfg.svc.tenant_dir);
    if (cfg.goal_templates && *cfg.goal_templates)
        snprintf(templates, sizeof templates, "%s", cfg.goal_templates);
    char playbooks[4096];
    snprintf(playbooks, sizeof playbooks, "%s/playbooks.json", cfg.svc.tenant_dir);
    if (cfg.playbooks && *cfg.playbooks) snprintf(playbooks, sizeof playbooks, "%s", cfg.playbooks);
    char catalog[4096];
    snprintf(catalog, sizeof catalog, "%s/catalog.json", cfg.svc.tenant_dir);
    if (cfg.catalog && *cfg.catalog) snprintf(catalog, sizeof catalog, "%s", cfg.catalog);
    int code = 2;
    if (cfg.catalog && *cfg.catalog) {
        json_t *lines = api_catalog_lines_load(catalog);
        if (lines == NULL) {
            fprintf(stderr,
                "sp-taskpool: configuration error: SP_CATALOG: %s does not load (a JSON object "
                "with a \"products\" array)\n",
                catalog);
            goto out;
        }
        json_decref(lines);
    }
    /* a file or folder named in the environment must be there; the
     * defaults may be absent (no material links, no goal templates) */
    if (cfg.playbooks && *cfg.playbooks) {
        json_t *pb = NULL;
        char err[512];
        int rv = api_playbooks_load(playbooks, &pb, err, sizeof err);
        json_decref(pb);
        if (rv != SP_OK) {
            fprintf(stderr, "sp-taskpool: configuration error: SP_PLAYBOOKS: %s\n", err);
            goto out;
        }
    }
    if (cfg.goal_templates && *cfg.goal_templates && access(templates, R_OK | X_OK) != 0) {
        fprintf(stderr, "sp-taskpool: configuration error: SP_GOAL_TEMPLATES: %s is not a readable folder\n",
            templates);
        goto out;
    }
    code = 1;
    if (sp_service_init(&svc, "sp-taskpool", &cfg.svc, cfg.commands_topic, taskpool_svc_batch, &ts) != SP_OK)
        goto out;
    ts.producer = svc.producer;
    ts.clock = svc.clock;
    ts.commands_topic = cfg.commands_topic;
    ts.goal_templates = cfg.goal_schedule ? templates : NULL; /* the goal schedule */
    svc.on_idle = taskpool_svc_idle;
    /* the API: its own connections (the consumer's is single-threaded),
     * the shared producer (thread-safe) */
    taskpool_api_cfg acfg = {.producer = svc.producer,
        .events_topic = SP_TOPIC_TASK_EVENTS,
        .now_ms = wall_now,
        .clock = svc.clock,
        .goal_templates = templates,
        .playbooks = playbooks,
        .catalog = (cfg.catalog && *cfg.catalog) || access(catalog, R_OK) == 0 ? catalog : NULL,
        .token_cache_ms = cfg.token_cache,
        .max_waiters = cfg.http_workers > 2 ? (int)cfg.http_workers / 2 : 1};
    if (api_pool_new(cfg.svc.pg_url, (int)cfg.http_db_conns, &pool) != SP_OK) goto out;
    acfg.pool = pool;
    if (taskpool_api_new(&acfg, &api) != SP_OK) goto out;
    /* the service's own server (/healthz, /readyz, /metrics) carries the API */
    sp_http_opts o = {.workers = (int)cfg.http_workers, .auth = taskpool_api_auth, .auth_arg = api};
    if (sp_service_http_new(&svc, &o) != SP_OK || taskpool_api_register(api, svc.http) != SP_OK
        || web_register(svc.http, cfg.web_dir, web_roots) != SP_OK || sp_service_http_start(&svc) != SP_OK)
        goto out;
    if (cfg.ws_addr && *cfg.ws_addr && api_ws_start(api, cfg.ws_addr, (int)cfg.ws_max, &ws) != SP_OK)
        goto out;
    sp_info("sp-taskpool API listening on %s (port %d)", cfg.svc.http_addr, sp_http_server_port(svc.http));
    code = sp_service_run(&svc);
out:
    api_ws_stop(ws);
    sp_service_destroy(&svc); /* the HTTP server first: no handler runs once the producer goes */
    taskpool_svc_clear(&ts);
    taskpool_api_destroy(api);
    api_pool_destroy(pool);
    sp_config_free(rows, &cfg);
    return code;
}
