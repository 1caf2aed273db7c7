/* route_svc.c - sp-route's batch handler. */
#include "route/route_svc.h"

#include "err.h"
#include "log.h"
#include "route/route.h"
#include "route/route_db.h"
#include "service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *subject_type_name(int t)
{
    static const char *n[] = {"", "deal", "customer", "rep", "team", "region"};
    return t >= 0 && t <= 5 ? n[t] : "";
}

/* Formats a text[] literal {"a","b"} of ids (ids contain no quotes). */
static void text_array(char *buf, size_t cap, const char *const *items, size_t n)
{
    size_t l = (size_t)snprintf(buf, cap, "{");
    for (size_t i = 0; i < n && l < cap; i++)
        l += (size_t)snprintf(buf + l, cap - l, "%s\"%s\"", i ? "," : "", items[i]);
    if (l < cap) snprintf(buf + l, cap - l, "}");
}

static int record(sp_db *db, const Salespulse__V1__Signal *s, const char *key, const char *op,
    const route_decision *d, int *fresh)
{
    char when[32], pbs[1024] = "{}";
    snprintf(when, sizeof when, "%lld", (long long)s->meta->occurred_at_ms);
    if (d && d->n_playbooks) text_array(pbs, sizeof pbs, d->playbooks, d->n_playbooks);
    const char *p[9] = {s->meta->event_id, key, s->kind, op, d && d->assignee_id ? d->assignee_id : NULL,
        d && d->assignee_id ? route_target_name(d->assignee_role) : NULL, d ? d->reason_zh : "",
        d ? d->reason_en : "", pbs};
    const char *params[10];
    memcpy(params, p, sizeof p);
    params[9] = when;
    PGresult *r = NULL;
    int rv = sp_db_exec(db,
        "INSERT INTO routing_decisions (signal_event_id, task_key, kind, op, assignee_id, assignee_role, "
        "reason_zh, "
        "reason_en, playbooks, decided_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9::text[], "
        "to_timestamp($10::bigint / 1000.0)) "
        "ON CONFLICT (signal_event_id) DO NOTHING RETURNING 1",
        10, params, &r);
    if (rv != SP_OK) return rv;
    *fresh = PQntuples(r) == 1;
    PQclear(r);
    return SP_OK;
}

static bus_result route_one(void *arg, sp_db *db, bus_group *g, const bus_msg *m, char *reason, size_t cap)
{
    route_svc *s = arg;
    bus_result out = BUS_OK;
    Salespulse__V1__Signal *sig = salespulse__v1__signal__unpack(NULL, m->len, m->payload);
    if (sig == NULL) {
        snprintf(reason, cap, "undecodable salespulse.v1.Signal (%zu bytes)", m->len);
        return BUS_DEAD;
    }
    if (sig->meta && sp_watermark_is_heartbeat(sig->meta->event_id) && sig->subject == NULL
        && sig->upstream_watermark_ms > 0) { /* sp-score's heartbeat */
        sp_clock_observe(s->clock, m->partition, sig->upstream_watermark_ms);
        goto done;
    }
    char key[256];
    if (route_signal_check(sig, key, sizeof key, reason, cap) != SP_OK) {
        out = BUS_DEAD;
        goto done;
    }
    /* how far this partition has delivered: sp-score's promise (its signals
     * are not in event-time order), else the signal's own time */
    sp_clock_observe(s->clock, m->partition,
        sig->upstream_watermark_ms > 0 ? sig->upstream_watermark_ms : sig->meta->occurred_at_ms);
    int64_t now = sig->meta->occurred_at_ms;
    int fresh = 0, rv;
    if (sig->transition != SALESPULSE__V1__TRANSITION__TRANSITION_CLEARED) {
        int64_t last = -1;
        if ((rv = route_last_dismissal(
                 db, sig->kind, subject_type_name(sig->subject->type), sig->subject->id, &last))
            != SP_OK)
            goto dberr;
        if (route_suppressed(s->rules, last, now, NULL)) {
            if ((rv = record(db, sig, key, "suppressed", NULL, &fresh)) != SP_OK) goto dberr;
            goto done;
        }
    }
    route_decision d;
    rv = route_decide(s->rules, s->org, sig, now, &d);
    if (rv != SP_OK) {
        snprintf(reason, cap, "unroutable %s: %s", sig->kind, d.reason_en[0] ? d.reason_en : sp_strerror(rv));
        out = BUS_DEAD;
        goto done;
    }
    if ((rv = record(
             db, sig, key, d.op == SALESPULSE__V1__TASK_OP__TASK_OP_CLOSE ? "close" : "upsert", &d, &fresh))
        != SP_OK)
        goto dberr;
    if (fresh) { /* a redelivered signal was already routed: its command is on the broker */
        Salespulse__V1__TaskCommand cmd;
        Salespulse__V1__EventMeta meta;
        char evid[ROUTE_EVENT_ID_MAX + 8];
        /* cannot fail: route_signal_check bounded the event id */
        SP_ASSERT(route_command_fill(&d, sig, now, &cmd, &meta, evid, sizeof evid) == SP_OK);
        cmd.upstream_watermark_ms = s->promise_ms;
        size_t len = salespulse__v1__task_command__get_packed_size(&cmd);
        uint8_t *buf = malloc(len ? len : 1);
        if (buf == NULL) {
            out = BUS_RETRY;
            goto done;
        }
        salespulse__v1__task_command__pack(&cmd, buf);
        rv = bus_group_send(g, s->producer, s->commands_topic, d.task_key, strlen(d.task_key), buf, len);
        free(buf);
        if (rv != SP_OK)
            out = BUS_RETRY;
        else
            sp_log_event(SP_LOG_DEBUG, sig->meta->event_id, "routed %s -> %s", key,
                d.assignee_id ? d.assignee_id : "-");
    }
    goto done;
dberr:
    snprintf(reason, cap, "database: %s", sp_db_errmsg(db));
    out = rv == SP_EDBDOWN ? BUS_RETRY : BUS_DEAD;
done:
    salespulse__v1__signal__free_unpacked(sig, NULL);
    return out;
}

static void route_svc_heartbeat(route_svc *s, int force);

void route_svc_batch(
    void *arg, sp_db *db, const bus_msg *msgs, size_t n, bus_result *res, char (*reasons)[BUS_REASON_LEN])
{
    route_svc *s = arg;
    int64_t now = sp_wall_ms();
    if (s->org == NULL || now - s->org_loaded_ms > s->org_reload_ms) {
        org *fresh = NULL;
        char err[512];
        int rv = route_org_load(db, &fresh, err, sizeof err);
        if (rv == SP_OK) {
            org_destroy(s->org);
            s->org = fresh;
            s->org_loaded_ms = now;
        } else if (s->org == NULL) {
            sp_warn("org chart not loaded: %s", err);
            for (size_t i = 0; i < n; i++)
                res[i] = BUS_RETRY;
            return;
        } else {
            /* keep routing with the last good chart; try again next period */
            sp_warn("org chart reload failed (%s); keeping the previous one", err);
            s->org_loaded_ms = now;
        }
    }
    /* every signal of the batch is at or after the watermark before it:
     * sp-score's promises only grow, and each signal is dated at or after
     * its own */
    s->promise_ms = sp_watermark_of(s->clock);
    sp_tx_batch(db, msgs, n, res, reasons, route_one, s);
    route_svc_heartbeat(s, 0);
}

/* Forwards the watermark to every partition of the commands topic when it
 * moved, behind the commands already delivered; force: ignore the rate limit. */
static void route_svc_heartbeat(route_svc *s, int force)
{
    sp_watermark_flush(
        &s->wm, sp_watermark_pack_command, sp_watermark_of(s->clock), s->producer, s->commands_topic, force);
}

void route_svc_idle(void *arg, sp_db *db)
{
    (void)db;
    route_svc_heartbeat(arg, 1);
}

void route_svc_clear(route_svc *s)
{
    route_rules_destroy(s->rules);
    org_destroy(s->org);
    memset(s, 0, sizeof *s);
}
