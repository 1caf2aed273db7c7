/* sp-route: signals -> the right person, as task commands. */
#include "config.h"
#include "err.h"
#include "log.h"
#include "route/route_svc.h"
#include "service.h"

#include <stdio.h>
#include <string.h>

struct cfg {
    sp_service_cfg svc;
    char *rules;
    long long org_reload_ms;
};

static const sp_config_row rows[] = {
    SP_SERVICE_ROWS(struct cfg, svc, "sp-route", "8084", "500"),
    {"SP_ROUTE_RULES", SP_CFG_STRING, "", offsetof(struct cfg, rules),
        "routing rules file (default: $SP_TENANT_DIR/route_rules.json)"},
    {"SP_ORG_RELOAD", SP_CFG_MS, "30s", offsetof(struct cfg, org_reload_ms),
        "how often the org chart is re-read"},
    SP_CONFIG_END,
};

int main(int argc, char **argv)
{
    struct cfg cfg = {0};
    sp_config_main(argc, argv, "sp-route", "", rows, &cfg);
    route_svc rs = {.org_reload_ms = cfg.org_reload_ms, .commands_topic = SP_TOPIC_TASK_COMMANDS};
    sp_service svc = {0};
    char path[1024], err[512];
    int code = 1;
    snprintf(path, sizeof path, "%s/route_rules.json", cfg.svc.tenant_dir);
    if (route_rules_load_file(*cfg.rules ? cfg.rules : path, &rs.rules, err, sizeof err) != SP_OK) {
        fprintf(stderr, "sp-route: %s\n", err);
        goto out;
    }
    if (sp_service_init(&svc, "sp-route", &cfg.svc, SP_TOPIC_SIGNALS, route_svc_batch, &rs) != SP_OK)
        goto out;
    rs.producer = svc.producer;
    rs.clock = svc.clock;
    svc.on_idle = route_svc_idle;
    code = sp_service_run(&svc);
out:
    sp_service_destroy(&svc);
    route_svc_clear(&rs);
    sp_config_free(rows, &cfg);
    return code;
}
