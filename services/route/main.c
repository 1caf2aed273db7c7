/* sp-route: signals -> the right person, as task commands. */
#include "config.h"
#include "err.h"
#include "log.h"
#include "route/playbook.h"
#include "route/route_svc.h"
#include "service.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct cfg {
    sp_service_cfg svc;
    char *rules, *playbooks;
    long long org_reload_ms;
};

static const sp_config_row rows[] = {
    SP_SERVICE_ROWS(struct cfg, svc, "sp-route", "8084", "500"),
    {"SP_ROUTE_RULES", SP_CFG_STRING, "", offsetof(struct cfg, rules),
        "routing rules file (default: $SP_TENANT_DIR/route_rules.json)"},
    {"SP_PLAYBOOKS", SP_CFG_STRING, "", offsetof(struct cfg, playbooks),
        "playbooks the rules name, checked at start (default: $SP_TENANT_DIR/playbooks.json if present)"},
    {"SP_ORG_RELOAD", SP_CFG_MS, "30s", offsetof(struct cfg, org_reload_ms),
        "how often the org chart is re-read", .min = 1000L, .max = 86400000L},
    SP_CONFIG_END,
};

/* Every playbook id a rule names must be in the playbooks file (the task
 * pool links them): SP_ECONFIG naming the rule and id. A default file that
 * is absent is not an error (the tasks then carry ids nobody can open:
 * warned); an SP_PLAYBOOKS that does not load is. */
static int check_playbooks(const struct cfg *cfg, const route_rules *rules)
{
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/playbooks.json", cfg->svc.tenant_dir);
    const char *p = *cfg->playbooks ? cfg->playbooks : path;
    if (!*cfg->playbooks && access(p, R_OK) != 0) {
        sp_warn("no %s: the playbook ids of the routing rules are not checked", p);
        return SP_OK;
    }
    playbook_set *set = NULL;
    int rv = playbook_set_load_file(p, &set, err, sizeof err);
    if (rv == SP_OK) rv = route_rules_check_playbooks(rules, playbook_exists, set, err, sizeof err);
    if (rv != SP_OK) fprintf(stderr, "sp-route: configuration error: SP_PLAYBOOKS: %s\n", err);
    playbook_set_destroy(set);
    return rv;
}

int main(int argc, char **argv)
{
    struct cfg cfg = {0};
    sp_config_main(argc, argv, "sp-route", "", rows, &cfg);
    route_svc rs = {.org_reload_ms = cfg.org_reload_ms, .commands_topic = SP_TOPIC_TASK_COMMANDS};
    sp_service svc = {0};
    char path[1024], err[512];
    int code = 2; /* configuration errors, as every service */
    snprintf(path, sizeof path, "%s/route_rules.json", cfg.svc.tenant_dir);
    if (route_rules_load_file(*cfg.rules ? cfg.rules : path, &rs.rules, err, sizeof err) != SP_OK) {
        fprintf(stderr, "sp-route: configuration error: %s\n", err);
        goto out;
    }
    if (check_playbooks(&cfg, rs.rules) != SP_OK) goto out;
    code = 1;
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
