/* sp-taskpool: task commands -> tasks (with history and SLA escalation),
 * task events out, and the HTTP API for people. */
#include "config.h"
#include "err.h"
#include "log.h"
#include "http.h"
#include "service.h"
#include "taskpool/api.h"
#include "taskpool/taskpool_svc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct cfg {
    sp_service_cfg svc;
    long long sla1, sla2, sla3, suppress, sweep;
    long http_workers, http_db_conns;
    char *web_dir;
};

#define CFG(f) offsetof(struct cfg, f)
static const sp_config_row rows[] = {
    SP_SERVICE_ROWS(struct cfg, svc, "sp-taskpool", "8085"),
    {"SP_SLA_L1", SP_CFG_MS, "24h", CFG(sla1), "acknowledge an L1 task within"},
    {"SP_SLA_L2", SP_CFG_MS, "8h", CFG(sla2), "acknowledge an L2 task within"},
    {"SP_SLA_L3", SP_CFG_MS, "2h", CFG(sla3), "acknowledge an L3 task within"},
    {"SP_SUPPRESS", SP_CFG_MS, "7d", CFG(suppress), "a dismissed task suppresses the same signal this long"},
    {"SP_SLA_SWEEP", SP_CFG_MS, "1m", CFG(sweep), "SLA sweep period (clock time: event time in replays)"},
    {"SP_HTTP_WORKERS", SP_CFG_INT, "32", CFG(http_workers),
        "HTTP handler threads (each long-poll holds one while it waits)", .min = 1, .max = 256},
    {"SP_HTTP_DB_CONNS", SP_CFG_INT, "4", CFG(http_db_conns), "PostgreSQL connections for HTTP handlers", .min = 1,
        .max = 64},
    {"SP_WEB_DIR", SP_CFG_STRING, "services/taskpool/web", CFG(web_dir),
        "dashboard: index.html at /, its app/ folder at /app/ (echarts from its node_modules/echarts/dist at /vendor/)"},
    SP_CONFIG_END,
};

/* HTTP requests are dated by the wall clock even when the consumer runs
 * on event time (a person acts now, not at the replay's watermark). */
static int64_t wall_now(void *arg)
{
    (void)arg;
    return sp_wall_ms();
}

/* GET /: the dashboard's index.html (its assets live under /app/, since
 * nng cannot hold a directory handler at "/" next to our catch-all). Read
 * per request so a deploy of new files needs no restart. */
static int web_index(const sp_http_req *req, sp_http_res *res, void *arg)
{
    (void)req;
    char path[4096];
    snprintf(path, sizeof path, "%s/index.html", (const char *)arg);
    FILE *f = fopen(path, "rb");
    if (f == NULL) return sp_http_res_error(res, 404, "not_found", "no dashboard installed", NULL);
    char *buf = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n)
        n = -1;
    fclose(f);
    int rv = buf == NULL || n < 0 ? SP_EIO : sp_http_res_set(res, 200, "text/html; charset=utf-8", buf, (size_t)n);
    free(buf);
    if (rv == SP_OK) rv = sp_http_res_header(res, "Cache-Control", "no-cache");
    return rv;
}

/* Registers the dashboard when dir holds index.html: / (the page), /app/
 * (dir/app: scripts and styles) and /vendor/ (echarts from node_modules). A missing folder
 * only logs a warning: the API works without the dashboard. Fails with
 * sp_http_* errors. */
static int web_register(sp_http_server *srv, const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/index.html", dir);
    if (access(path, R_OK) != 0) {
        sp_warn("dashboard: no %s (SP_WEB_DIR); serving the API only", path);
        return SP_OK;
    }
    int rv = sp_http_route_add(srv, "GET", "/", 0, web_index, (void *)dir);
    snprintf(path, sizeof path, "%s/app", dir); /* not dir itself: keep package.json, node_modules private */
    if (rv == SP_OK) rv = sp_http_static_add(srv, "/app", path);
    if (rv != SP_OK) return rv;
    snprintf(path, sizeof path, "%s/node_modules/echarts/dist", dir);
    if (access(path, R_OK) != 0) {
        sp_warn("dashboard: no %s (run deploy/local/web-deps.sh); charts disabled", path);
        return SP_OK;
    }
    return sp_http_static_add(srv, "/vendor", path);
}

int main(int argc, char **argv)
{
    struct cfg cfg = {0};
    sp_config_main(argc, argv, "sp-taskpool", "", rows, &cfg);
    taskpool_svc ts = {.suppress_ms = cfg.suppress, .sweep_every_ms = cfg.sweep, .events_topic = SP_TOPIC_TASK_EVENTS};
    ts.sla.sla_s[1] = cfg.sla1 / 1000;
    ts.sla.sla_s[2] = cfg.sla2 / 1000;
    ts.sla.sla_s[3] = cfg.sla3 / 1000;
    sp_service svc = {0};
    api_pool *pool = NULL;
    taskpool_api *api = NULL;
    int code = 1;
    if (sp_service_init(&svc, "sp-taskpool", &cfg.svc, SP_TOPIC_TASK_COMMANDS, taskpool_svc_batch, &ts) != SP_OK)
        goto out;
    ts.producer = svc.producer;
    ts.clock = svc.clock;
    svc.on_idle = taskpool_svc_idle;
    /* the API: its own connections (the consumer's is single-threaded),
     * the shared producer (thread-safe) */
    taskpool_api_cfg acfg = {.producer = svc.producer, .events_topic = SP_TOPIC_TASK_EVENTS, .now_ms = wall_now,
        .max_waiters = cfg.http_workers > 2 ? (int)cfg.http_workers / 2 : 1};
    if (api_pool_new(cfg.svc.pg_url, (int)cfg.http_db_conns, &pool) != SP_OK) goto out;
    acfg.pool = pool;
    if (taskpool_api_new(&acfg, &api) != SP_OK) goto out;
    /* the service's own server (/healthz, /readyz, /metrics) carries the API */
    sp_http_opts o = {.workers = (int)cfg.http_workers, .auth = taskpool_api_auth, .auth_arg = api};
    if (sp_service_http_new(&svc, &o) != SP_OK || taskpool_api_register(api, svc.http) != SP_OK ||
        web_register(svc.http, cfg.web_dir) != SP_OK || sp_service_http_start(&svc) != SP_OK)
        goto out;
    sp_info("sp-taskpool API listening on %s (port %d)", cfg.svc.http_addr, sp_http_server_port(svc.http));
    code = sp_service_run(&svc);
out:
    sp_service_destroy(&svc); /* the HTTP server first: no handler runs once the producer goes */
    taskpool_api_destroy(api);
    api_pool_destroy(pool);
    sp_config_free(rows, &cfg);
    return code;
}
