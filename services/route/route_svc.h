/* route_svc.h - sp-route's consumer: signals in, task commands out, one
 * audit row per decision (idempotent by signal event id). */
#ifndef SP_ROUTE_SVC_H
#define SP_ROUTE_SVC_H

#include "bus.h"
#include "clock.h"
#include "db.h"
#include "route/org.h"
#include "route/route_rules.h"
#include "watermark.h"

typedef struct route_svc {
    route_rules *rules; /* owned */
    org *org; /* owned; reloaded from the database */
    int64_t org_loaded_ms; /* wall time of the last load */
    int64_t org_reload_ms; /* reload interval */
    bus_producer *producer; /* borrowed */
    sp_clock *clock; /* borrowed */
    const char *commands_topic;
    int64_t promise_ms; /* the watermark when the batch began: stamped on its commands */
    sp_watermark wm; /* heartbeats to sp-taskpool (event clock) */
} route_svc;

/* sp_service_batch_fn: routes a batch of Signal messages. With the event
 * clock, a partition's time is sp-score's promise on its signals (a
 * heartbeat - a Signal with no subject - moves it and is routed nowhere);
 * commands carry the watermark as it was before the batch, and a heartbeat
 * with the watermark after it follows them (common/watermark.h). */
void route_svc_batch(
    void *arg, sp_db *db, const bus_msg *msgs, size_t n, bus_result *res, char (*reasons)[BUS_REASON_LEN]);

/* The service's on_idle hook: forwards a watermark the clock reached while
 * no signal arrived. */
void route_svc_idle(void *arg, sp_db *db);

void route_svc_clear(route_svc *s);

#endif
