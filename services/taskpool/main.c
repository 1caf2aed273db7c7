/* sp-taskpool: task commands -> tasks (with history and SLA escalation),
 * task events out, and the HTTP API for people. */
#include "config.h"
#include "err.h"
#include "log.h"
#include "service.h"
#include "taskpool/taskpool_svc.h"

#include <stdio.h>
#include <string.h>

struct cfg {
    sp_service_cfg svc;
    long long sla1, sla2, sla3, suppress, sweep;
};

#define CFG(f) offsetof(struct cfg, f)
static const sp_config_row rows[] = {
    SP_SERVICE_ROWS(struct cfg, svc, "sp-taskpool", "8085"),
    {"SP_SLA_L1", SP_CFG_MS, "24h", CFG(sla1), "acknowledge an L1 task within"},
    {"SP_SLA_L2", SP_CFG_MS, "8h", CFG(sla2), "acknowledge an L2 task within"},
    {"SP_SLA_L3", SP_CFG_MS, "2h", CFG(sla3), "acknowledge an L3 task within"},
    {"SP_SUPPRESS", SP_CFG_MS, "7d", CFG(suppress), "a dismissed task suppresses the same signal this long"},
    {"SP_SLA_SWEEP", SP_CFG_MS, "1m", CFG(sweep), "SLA sweep period (clock time: event time in replays)"},
    SP_CONFIG_END,
};

int main(int argc, char **argv)
{
    struct cfg cfg = {0};
    sp_config_main(argc, argv, "sp-taskpool", "", rows, &cfg);
    taskpool_svc ts = {.suppress_ms = cfg.suppress, .sweep_every_ms = cfg.sweep, .events_topic = SP_TOPIC_TASK_EVENTS};
    ts.sla.sla_s[1] = cfg.sla1 / 1000;
    ts.sla.sla_s[2] = cfg.sla2 / 1000;
    ts.sla.sla_s[3] = cfg.sla3 / 1000;
    sp_service svc = {0};
    int code = 1;
    if (sp_service_init(&svc, "sp-taskpool", &cfg.svc, SP_TOPIC_TASK_COMMANDS, taskpool_svc_batch, &ts) != SP_OK)
        goto out;
    ts.producer = svc.producer;
    ts.clock = svc.clock;
    svc.on_idle = taskpool_svc_idle;
    code = sp_service_run(&svc);
out:
    sp_service_destroy(&svc);
    sp_config_free(rows, &cfg);
    return code;
}
