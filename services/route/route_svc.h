/* route_svc.h - sp-route's consumer: signals in, task commands out, one
 * audit row per decision (idempotent by signal event id). */
#ifndef SP_ROUTE_SVC_H
#define SP_ROUTE_SVC_H

#include "bus.h"
#include "clock.h"
#include "db.h"
#include "route/org.h"
#include "route/route_rules.h"

typedef struct route_svc {
    route_rules *rules; /* owned */
    org *org; /* owned; reloaded from the database */
    int64_t org_loaded_ms; /* wall time of the last load */
    int64_t org_reload_ms; /* reload interval */
    bus_producer *producer; /* borrowed */
    sp_clock *clock; /* borrowed */
    const char *commands_topic;
} route_svc;

/* sp_service_batch_fn: routes a batch of Signal messages. */
void route_svc_batch(
    void *arg, sp_db *db, const bus_msg *msgs, size_t n, bus_result *res, char (*reasons)[BUS_REASON_LEN]);

void route_svc_clear(route_svc *s);

#endif
