/* taskpool_svc.h - sp-taskpool's consumer side: task commands into the
 * tasks table (idempotent), task events out, and the SLA sweep. */
#ifndef SP_TASKPOOL_SVC_H
#define SP_TASKPOOL_SVC_H

#include "bus.h"
#include "clock.h"
#include "db.h"
#include "taskpool/sla.h"

typedef struct taskpool_svc {
    bus_producer *producer; /* borrowed */
    sp_clock *clock; /* borrowed */
    sla_table sla;
    int64_t suppress_ms; /* dismissal suppression window */
    int64_t sweep_every_ms; /* SLA sweep period in clock time */
    int64_t last_sweep_ms;
    const char *events_topic;
    unsigned long escalations;
} taskpool_svc;

/* sp_service_batch_fn for TaskCommand messages. */
void taskpool_svc_batch(
    void *arg, sp_db *db, const bus_msg *msgs, size_t n, bus_result *res, char (*reasons)[BUS_REASON_LEN]);

/* Escalates every open task whose SLA ran out by the clock's now. Between
 * batches it runs at most once per sweep_every_ms of clock time; after a
 * batch always (cheap: an indexed read of due tasks only), so a command that
 * arrives after its deadline passed in event time still escalates.
 * Returns the number escalated, or -1 when the database failed. */
int taskpool_sla_sweep(taskpool_svc *s, sp_db *db);

/* on_idle hook for sp_service. */
void taskpool_svc_idle(void *arg, sp_db *db);

#endif
