/* ingest_api.h - sp-ingest's HTTP handlers: each turns outside input into
 * Interactions (through the parsers beside it), publishes them, and answers
 * 202 {"accepted":n,"event_ids":[...]} only once the broker acknowledged
 * every one; 503 with Retry-After when it cannot within the bounded wait. */
#ifndef SP_INGEST_API_H
#define SP_INGEST_API_H

#include "bus.h"
#include "http.h"
#include "ingest/dedupe.h"
#include "ingest/tracking.h"
#include "ingest/wecom.h"
#include "metrics.h"

#define SP_INGEST_TRACKING_KEYS 4

typedef struct ingest_api {
    bus_producer *producer; /* borrowed */
    const char *topic;
    int publish_timeout_ms;
    const char *tenant_id;
    const char *const *api_key_hashes; /* SHA-256 hex */
    const char *const *api_key_sources;
    /* per key, the item sources it may post ("wecom|email"); NULL (or a
     * NULL entry): any. SP_INGEST_API_KEYS "name:src|src=sha256hex" */
    const char *const *api_key_allowed;
    size_t n_api_keys;
    const char *const *webhook_secrets; /* optional Standard Webhooks secrets */
    size_t n_webhook_secrets;
    const char *const *our_domains;
    size_t n_domains;
    wecom_crypto *wecom; /* NULL: WeCom callback not configured */
    tracking_rules *tracking_rules; /* may be NULL */
    tracking_key tracking_keys[SP_INGEST_TRACKING_KEYS]; /* [0] seals, all open */
    size_t n_tracking_keys;
    long long tracking_max_age_ms;
    ingest_dedupe *dedupe; /* event ids already on the broker */
    long long (*now_ms)(void); /* injectable clock for tests */
    sp_metric *m_events, *m_publish_s, *m_queue;
} ingest_api;

/* Registers every ingest route on srv and the metrics in reg. SP_ENOMEM. */
int ingest_api_routes(ingest_api *api, sp_http_server *srv, sp_metrics *reg);

/* The auth hook: X-Api-Key (or Authorization: Bearer) against the hashed
 * keys; then, when webhook secrets are configured, the Standard Webhooks
 * signature. 401 missing/unknown key, 403 bad signature or replay. */
int ingest_api_auth(const sp_http_req *req, void *arg, sp_http_principal *out);

#endif
