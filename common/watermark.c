/* watermark.c - event-time watermarks forwarded to the next hop. */
#include "watermark.h"

#include "err.h"
#include "log.h"
#include "salespulse/v1/enriched.pb-c.h"
#include "salespulse/v1/signal.pb-c.h"
#include "salespulse/v1/task.pb-c.h"

#include <stdio.h>
#include <string.h>

int64_t sp_watermark_of(sp_clock *c)
{
    if (!c || sp_clock_kind_of(c) != SP_CLOCK_EVENT) return 0;
    int64_t wm = sp_clock_now_ms(c);
    return wm > 0 ? wm : 1;
}

/* The heartbeat's meta: id "wm:<producer>:<ms>", dated ms. */
static void meta_fill(Salespulse__V1__EventMeta *m, char *id, size_t cap, const char *producer, int64_t ms)
{
    snprintf(id, cap, "wm:%s:%lld", producer, (long long)ms);
    m->event_id = id;
    m->occurred_at_ms = ms;
    m->producer = (char *)producer;
    m->schema_version = 1;
}

/* Packs a heartbeat into buf (cap bytes): SP_EINVAL when it does not fit. */
static int hb_pack(const ProtobufCMessage *m, uint8_t *buf, size_t cap, size_t *len)
{
    if (protobuf_c_message_get_packed_size(m) > cap) return SP_EINVAL;
    *len = protobuf_c_message_pack(m, buf);
    return SP_OK;
}

int sp_watermark_pack_enriched(int64_t ms, uint8_t *buf, size_t cap, size_t *len)
{
    char id[64];
    Salespulse__V1__EventMeta meta = SALESPULSE__V1__EVENT_META__INIT;
    meta_fill(&meta, id, sizeof id, "sp-enrich", ms);
    Salespulse__V1__EnrichedInteraction e = SALESPULSE__V1__ENRICHED_INTERACTION__INIT;
    e.meta = &meta;
    e.upstream_watermark_ms = ms;
    return hb_pack(&e.base, buf, cap, len);
}

int sp_watermark_pack_signal(int64_t ms, uint8_t *buf, size_t cap, size_t *len)
{
    char id[64];
    Salespulse__V1__EventMeta meta = SALESPULSE__V1__EVENT_META__INIT;
    meta_fill(&meta, id, sizeof id, "sp-score", ms);
    Salespulse__V1__Signal s = SALESPULSE__V1__SIGNAL__INIT;
    s.meta = &meta;
    s.upstream_watermark_ms = ms;
    return hb_pack(&s.base, buf, cap, len);
}

int sp_watermark_pack_command(int64_t ms, uint8_t *buf, size_t cap, size_t *len)
{
    char id[64];
    Salespulse__V1__EventMeta meta = SALESPULSE__V1__EVENT_META__INIT;
    meta_fill(&meta, id, sizeof id, "sp-route", ms);
    Salespulse__V1__TaskCommand c = SALESPULSE__V1__TASK_COMMAND__INIT;
    c.meta = &meta;
    c.upstream_watermark_ms = ms;
    return hb_pack(&c.base, buf, cap, len);
}

int sp_watermark_send(sp_watermark *w, sp_watermark_pack_fn pack, int64_t wm, bus_producer *p, bus_group *g,
    const char *topic, int force, int *sent)
{
    *sent = 0;
    if (wm <= 1 || wm <= w->sent_ms) return SP_OK;
    if (!pack) return SP_EINVAL;
    int64_t wall = sp_wall_ms(); /* rate limit only, never a business decision */
    if (!force && wall - w->sent_wall_ms < SP_WM_EVERY_MS) return SP_OK;
    int rv;
    if (w->partitions <= 0 && (rv = bus_producer_partitions(p, topic, 5000, &w->partitions)) != SP_OK)
        return rv;
    uint8_t buf[128];
    size_t len = 0;
    if ((rv = pack(wm, buf, sizeof buf, &len)) != SP_OK) return rv;
    for (int32_t i = 0; i < w->partitions; i++)
        if ((rv = bus_group_send_to(g, p, topic, i, "wm", 2, buf, len)) != SP_OK) return rv;
    w->sent_ms = wm;
    w->sent_wall_ms = wall;
    *sent = 1;
    return SP_OK;
}

void sp_watermark_flush(
    sp_watermark *w, sp_watermark_pack_fn pack, int64_t wm, bus_producer *p, const char *topic, int force)
{
    if (wm <= 1 || wm <= w->sent_ms) return;
    bus_group *g = NULL;
    int sent = 0;
    char err[256];
    if (bus_group_new(&g) != SP_OK) return;
    int rv = sp_watermark_send(w, pack, wm, p, g, topic, force, &sent);
    if (rv != SP_OK)
        sp_warn("watermark heartbeat not sent: %s", sp_strerror(rv));
    else if (sent && bus_group_wait(g, 15000, err, sizeof err) != SP_OK) {
        sp_warn("watermark heartbeat not delivered: %s", err);
        w->sent_ms = 0; /* send again next time */
    }
    bus_group_release(g);
}

int sp_watermark_is_heartbeat(const char *event_id)
{
    return event_id != NULL && strncmp(event_id, "wm:", 3) == 0;
}
