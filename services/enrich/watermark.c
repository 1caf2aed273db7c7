/* watermark.c - sp-enrich's event-time watermark, forwarded downstream. */
#include "enrich/watermark.h"

#include "err.h"
#include "log.h"
#include "salespulse/v1/enriched.pb-c.h"

#include <stdio.h>

int64_t enrich_watermark_now(sp_clock *c)
{
    if (!c || sp_clock_kind_of(c) != SP_CLOCK_EVENT) return 0;
    int64_t wm = sp_clock_now_ms(c);
    return wm > 0 ? wm : 1;
}

int enrich_watermark_pack(int64_t ms, uint8_t *buf, size_t cap, size_t *len)
{
    char id[64];
    snprintf(id, sizeof id, "wm:sp-enrich:%lld", (long long)ms);
    Salespulse__V1__EventMeta meta = SALESPULSE__V1__EVENT_META__INIT;
    meta.event_id = id;
    meta.occurred_at_ms = ms;
    meta.producer = "sp-enrich";
    meta.schema_version = 1;
    Salespulse__V1__EnrichedInteraction e = SALESPULSE__V1__ENRICHED_INTERACTION__INIT;
    e.meta = &meta;
    e.upstream_watermark_ms = ms;
    size_t n = salespulse__v1__enriched_interaction__get_packed_size(&e);
    if (n > cap) return SP_EINVAL;
    *len = salespulse__v1__enriched_interaction__pack(&e, buf);
    return SP_OK;
}

int enrich_watermark_send(
    enrich_watermark *w, sp_clock *c, bus_producer *p, bus_group *g, const char *topic, int force, int *sent)
{
    *sent = 0;
    int64_t wm = enrich_watermark_now(c);
    if (wm <= 1 || wm <= w->sent_ms) return SP_OK;
    int64_t wall = sp_wall_ms(); /* rate limit only, never a business decision */
    if (!force && wall - w->sent_wall_ms < ENRICH_WM_EVERY_MS) return SP_OK;
    int rv;
    if (w->partitions <= 0 && (rv = bus_producer_partitions(p, topic, 5000, &w->partitions)) != SP_OK)
        return rv;
    uint8_t buf[128];
    size_t len = 0;
    if ((rv = enrich_watermark_pack(wm, buf, sizeof buf, &len)) != SP_OK) return rv;
    for (int32_t i = 0; i < w->partitions; i++)
        if ((rv = bus_group_send_to(g, p, topic, i, "wm", 2, buf, len)) != SP_OK) return rv;
    w->sent_ms = wm;
    w->sent_wall_ms = wall;
    *sent = 1;
    return SP_OK;
}
