/* ingest_api.c - sp-ingest's HTTP handlers. Transport stays in common/http;
 * parsing in batch.c, email.c, call.c, tracking.c, wecom.c. */
#include "ingest/ingest_api.h"

#include "clock.h"
#include "err.h"
#include "ingest/auth.h"
#include "ingest/batch.h"
#include "ingest/call.h"
#include "ingest/email.h"
#include "ingest/errlist.h"
#include "ingest/interaction.h"
#include "ingest/response.h"
#include "log.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long long now_of(const ingest_api *a)
{
    return a->now_ms ? a->now_ms() : sp_wall_ms();
}

static void unavailable(sp_http_res *res, const char *why)
{
    sp_http_res_error(res, 503, "unavailable", why, NULL);
    sp_http_res_header(res, "Retry-After", "2");
}

/* Publishes items and answers 202 once the broker has all of them. Items
 * already acknowledged before (same event id) are not sent again. */
static void reject(ingest_api *a, sp_http_res *res, int rv, ingest_errlist *errs, const char *source);

/* 1 when every id later services key by fits SP_INGEST_ID_MAX, whichever
 * route built the items (an e-mail's sender, a WeCom user id); else res is
 * a 422 naming each item and field: accepted, such an event would only be
 * dead-lettered by sp-enrich. */
static int ids_fit(ingest_api *a, sp_interaction **items, size_t n, const char *source, sp_http_res *res)
{
    ingest_errlist errs = {0};
    for (size_t i = 0; i < n; i++) {
        const sp_interaction *ix = items[i];
        const char *v[] = {ix->customer_ref, ix->rep_id, ix->deal_id,
            ix->detail_case == SALESPULSE__V1__INTERACTION__DETAIL_STAGE_CHANGE && ix->stage_change
                ? ix->stage_change->deal_id
                : NULL};
        static const char *const f[] = {"customer_ref", "rep_id", "deal_id", "stage_change.deal_id"};
        for (size_t k = 0; k < 4; k++)
            if (!sp_id_fits(v[k]))
                ingest_errlist_add(
                    &errs, (int)i, f[k], "too long: %zu bytes, at most %d", strlen(v[k]), SP_INGEST_ID_MAX);
    }
    int ok = ingest_errlist_count(&errs) == 0;
    if (!ok) reject(a, res, SP_EINVAL, &errs, source);
    ingest_errlist_clear(&errs);
    return ok;
}

static void publish(ingest_api *a, sp_interaction **items, size_t n, const char *source, sp_http_res *res)
{
    if (!ids_fit(a, items, n, source, res)) return;
    bus_group *g = NULL;
    char *body = NULL;
    int64_t t0 = sp_wall_ms();
    size_t sent = 0;
    const char **ids = malloc((n ? n : 1) * sizeof *ids);
    unsigned char *seen = malloc(n ? n : 1);
    if (ids == NULL || seen == NULL || bus_group_new(&g) != SP_OK) {
        unavailable(res, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        ids[i] = items[i]->meta->event_id;
    ingest_dedupe_seen_n(a->dedupe, ids, n, seen);
    for (size_t i = 0; i < n; i++) {
        const char *id = ids[i];
        if (seen[i]) continue;
        char key[512];
        if (interaction_customer_key(items[i], key, sizeof key) != SP_OK) snprintf(key, sizeof key, "%s", id);
        size_t len = salespulse__v1__interaction__get_packed_size(items[i]);
        uint8_t small[2048]; /* most interactions: librdkafka copies the value */
        uint8_t *buf = len <= sizeof small ? small : malloc(len);
        if (buf == NULL) {
            unavailable(res, "out of memory");
            goto out;
        }
        salespulse__v1__interaction__pack(items[i], buf);
        int rv = bus_group_send(g, a->producer, a->topic, key, strlen(key), buf, len);
        if (buf != small) free(buf);
        if (rv != SP_OK) {
            sp_counter_add(a->m_events, (double)(n - i), source, "unavailable");
            unavailable(res,
                rv == SP_EFULL ? "Kafka queue full; retry (same event ids: safe)"
                               : "Kafka refused the event; retry (same event ids: safe)");
            goto out;
        }
        sent++;
    }
    char err[256] = "";
    if (sent > 0 && bus_group_wait(g, a->publish_timeout_ms, err, sizeof err) != SP_OK) {
        sp_warn("publish of %zu event(s) not acknowledged: %s", sent, err);
        sp_counter_add(a->m_events, (double)n, source, "unavailable");
        unavailable(res, "Kafka did not acknowledge in time; retry (same event ids: safe)");
        goto out;
    }
    ingest_dedupe_add_n(a->dedupe, ids, n);
    sp_histogram_observe(a->m_publish_s, (double)(sp_wall_ms() - t0) / 1000.0, source);
    sp_counter_add(a->m_events, (double)n, source, "accepted");
    if (ingest_accepted_json(items, n, &body) != SP_OK) {
        unavailable(res, "out of memory");
        goto out;
    }
    sp_http_res_set(res, 202, "application/json", body, strlen(body));
out:
    sp_gauge_set(a->m_queue, (double)bus_producer_queue_len(a->producer));
    bus_group_release(g);
    free(body);
    free(ids);
    free(seen);
}

/* 422 with the error list, or 413 / 400 when the whole body is the problem. */
static void reject(ingest_api *a, sp_http_res *res, int rv, ingest_errlist *errs, const char *source)
{
    sp_counter_add(a->m_events, 1, source, rv == SP_ETOOBIG ? "too_big" : "invalid");
    char *json = NULL;
    if (errs && ingest_errlist_count(errs) > 0 && ingest_errlist_to_json(errs, &json) == SP_OK) {
        /* the parser's list says what was too large (items, bytes) */
        sp_http_res_set(res, rv == SP_ETOOBIG ? 413 : 422, "application/json", json, strlen(json));
        free(json);
        return;
    }
    if (rv == SP_ETOOBIG) {
        sp_http_res_error(res, 413, "too_large", "over 1000 items or 4 MiB", NULL);
        return;
    }
    sp_http_res_error(
        res, rv == SP_ENOMEM ? 500 : 422, rv == SP_ENOMEM ? "internal" : "invalid", sp_strerror(rv), NULL);
}

/* 1 when source is in the '|'-separated list. */
static int source_listed(const char *list, const char *source)
{
    size_t n = strlen(source);
    for (const char *p = list; *p;) {
        const char *end = strchr(p, '|');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, source, n) == 0) return 1;
        if (!end) break;
        p = end + 1;
    }
    return 0;
}

/* 1 when the request's API key may post every item's source (a key issued
 * for some sources only, "name:src|src=..."; other keys post any); else
 * rejects the request (reject: 422 naming each refused item's index and the
 * field source) and nothing is published. A key was only a metrics label:
 * any key could post as any source, and pre-empt a genuine event's id
 * (source, external id). */
static int sources_allowed(ingest_api *a, const sp_http_req *req, sp_interaction *const *items, size_t n,
    const char *label, sp_http_res *res)
{
    const char *allowed = req->principal ? (const char *)req->principal->ext : NULL;
    if (!allowed) return 1;
    ingest_errlist errs = {0};
    for (size_t i = 0; i < n; i++)
        if (!items[i]->source || !source_listed(allowed, items[i]->source))
            ingest_errlist_add(&errs, (int)i, "source", "source \"%s\" not allowed for this API key (%s)",
                items[i]->source ? items[i]->source : "", allowed);
    int ok = ingest_errlist_count(&errs) == 0;
    if (!ok) reject(a, res, SP_EINVAL, &errs, label);
    ingest_errlist_clear(&errs);
    return ok;
}

static const char *source_of(const sp_http_req *req, const char *fallback)
{
    return req->principal && req->principal->person_id[0] ? req->principal->person_id : fallback;
}

static int h_interactions(const sp_http_req *req, sp_http_res *res, void *arg)
{
    ingest_api *a = arg;
    const char *ct = sp_http_req_header(req, "Content-Type");
    if (ct == NULL
        || (strncasecmp(ct, "application/json", 16) != 0
            && strncasecmp(ct, "application/x-ndjson", 20) != 0)) {
        sp_http_res_error(res, 415, "unsupported_media_type", "use application/json or application/x-ndjson",
            "Content-Type");
        return SP_OK;
    }
    ingest_batch_opts o = {.now_ms = now_of(a), .tenant_id = a->tenant_id};
    ingest_batch *b = NULL;
    ingest_errlist errs = {0};
    int rv = ingest_batch_parse(req->body, req->body_len, &o, &b, &errs);
    if (rv != SP_OK)
        reject(a, res, rv, &errs, source_of(req, "api"));
    else if (sources_allowed(a, req, b->items, b->n, source_of(req, "api"), res))
        publish(a, b->items, b->n, source_of(req, "api"), res);
    ingest_errlist_clear(&errs);
    ingest_batch_destroy(b);
    return SP_OK;
}

static int h_email(const sp_http_req *req, sp_http_res *res, void *arg)
{
    ingest_api *a = arg;
    if (sp_http_req_require_type(req, res, "message/rfc822") != SP_OK) return SP_OK;
    ingest_email_opts o = {.now_ms = now_of(a),
        .our_domains = a->our_domains,
        .n_domains = a->n_domains,
        .tenant_id = a->tenant_id};
    sp_interaction *ix = NULL;
    char err[256] = "";
    int rv = ingest_email_parse(req->body, req->body_len, &o, &ix, err, sizeof err);
    if (rv != SP_OK) {
        ingest_errlist errs = {0};
        ingest_errlist_add(&errs, 0, "message", "%s", err[0] ? err : sp_strerror(rv));
        reject(a, res, rv, &errs, "email");
        ingest_errlist_clear(&errs);
        return SP_OK;
    }
    if (sources_allowed(a, req, &ix, 1, "email", res)) publish(a, &ix, 1, "email", res);
    interaction_destroy(ix);
    return SP_OK;
}

static int h_calls(const sp_http_req *req, sp_http_res *res, void *arg)
{
    ingest_api *a = arg;
    if (sp_http_req_require_type(req, res, "application/json") != SP_OK) return SP_OK;
    ingest_batch_opts o = {.now_ms = now_of(a), .tenant_id = a->tenant_id};
    sp_interaction *ix = NULL;
    ingest_errlist errs = {0};
    int rv = ingest_call_parse(req->body, req->body_len, &o, &ix, &errs);
    if (rv != SP_OK)
        reject(a, res, rv, &errs, "call");
    else if (sources_allowed(a, req, &ix, 1, "call", res))
        publish(a, &ix, 1, "call", res);
    ingest_errlist_clear(&errs);
    interaction_destroy(ix);
    return SP_OK;
}

static int h_beacon(const sp_http_req *req, sp_http_res *res, void *arg)
{
    ingest_api *a = arg;
    /* text/plain too: what navigator.sendBeacon sends for a string */
    if (!sp_http_req_is_type(req, "text/plain")
        && sp_http_req_require_type(req, res, "application/json") != SP_OK)
        return SP_OK;
    ingest_batch_opts o = {.now_ms = now_of(a), .tenant_id = a->tenant_id};
    sp_interaction *ix = NULL;
    ingest_errlist errs = {0};
    int rv = tracking_beacon_parse(req->body, req->body_len, a->tracking_rules, &o, &ix, &errs);
    if (rv != SP_OK)
        reject(a, res, rv, &errs, "tracking");
    else if (sources_allowed(a, req, &ix, 1, "tracking", res))
        publish(a, &ix, 1, "tracking", res);
    ingest_errlist_clear(&errs);
    interaction_destroy(ix);
    return SP_OK;
}

/* POST /v1/tracking/links: seals an outgoing e-mail's pixel and links with
 * the first tracking key. No event: a token records opens and clicks later. */
static int h_links(const sp_http_req *req, sp_http_res *res, void *arg)
{
    ingest_api *a = arg;
    if (sp_http_req_require_type(req, res, "application/json") != SP_OK) return SP_OK;
    if (a->n_tracking_keys == 0) {
        sp_http_res_error(
            res, 404, "not_configured", "tracking tokens not configured (SP_TRACKING_KEY)", NULL);
        return SP_OK;
    }
    const char *allowed = req->principal ? (const char *)req->principal->ext : NULL;
    if (allowed && !source_listed(allowed, "tracking")) {
        sp_http_res_error(res, 403, "forbidden", "this API key may not post source \"tracking\"", NULL);
        return SP_OK;
    }
    ingest_errlist errs = {0};
    char *json = NULL;
    int rv = tracking_links_seal(req->body, req->body_len, &a->tracking_keys[0], now_of(a), &json, &errs);
    if (rv == SP_OK)
        sp_http_res_set(res, 200, "application/json", json, strlen(json));
    else
        reject(a, res, rv, &errs, "tracking");
    free(json);
    ingest_errlist_clear(&errs);
    return SP_OK;
}

/* Opens the token in the path tail (without suffix); SP_OK with *t filled. */
static int open_token(ingest_api *a, const char *tail, const char *suffix, tracking_token *t)
{
    size_t n = strlen(tail), sl = suffix ? strlen(suffix) : 0;
    if (sl && (n < sl || strcmp(tail + n - sl, suffix) != 0)) return SP_EINVAL;
    if (a->n_tracking_keys == 0) return SP_EAUTH;
    return tracking_token_open(
        tail, n - sl, a->tracking_keys, a->n_tracking_keys, now_of(a), a->tracking_max_age_ms, t);
}

/* GET /t/o/{token}.gif: always the pixel; a valid token also records an open. */
static int h_pixel(const sp_http_req *req, sp_http_res *res, void *arg)
{
    ingest_api *a = arg;
    tracking_token t;
    if (open_token(a, req->tail, ".gif", &t) == SP_OK
        && t.kind == SALESPULSE__V1__TRACKING_KIND__TRACKING_KIND_EMAIL_OPEN) {
        sp_interaction *ix = NULL;
        if (tracking_token_interaction(&t, a->tracking_rules, now_of(a), &ix) == SP_OK) {
            sp_http_res scratch;
            sp_http_res_init(&scratch);
            publish(a, &ix, 1, "tracking", &scratch); /* the pixel is served whatever happens */
            sp_http_res_clear(&scratch);
        }
        interaction_destroy(ix);
    } else {
        sp_counter_add(a->m_events, 1, "tracking", "forged");
    }
    sp_http_res_set(res, 200, "image/gif", SP_TRACKING_GIF, SP_TRACKING_GIF_LEN);
    sp_http_res_header(res, "Cache-Control", "no-store");
    return SP_OK;
}

/* GET /t/c/{token}: redirects only to the URL sealed in a valid token. */
static int h_click(const sp_http_req *req, sp_http_res *res, void *arg)
{
    ingest_api *a = arg;
    tracking_token t;
    if (open_token(a, req->tail, NULL, &t) != SP_OK
        || t.kind != SALESPULSE__V1__TRACKING_KIND__TRACKING_KIND_LINK_CLICK || t.url[0] == '\0') {
        sp_counter_add(a->m_events, 1, "tracking", "forged");
        sp_http_res_error(res, 403, "invalid_token", "tracking token invalid or expired", "token");
        return SP_OK;
    }
    sp_interaction *ix = NULL;
    if (tracking_token_interaction(&t, a->tracking_rules, now_of(a), &ix) == SP_OK) {
        sp_http_res scratch;
        sp_http_res_init(&scratch);
        publish(a, &ix, 1, "tracking", &scratch);
        sp_http_res_clear(&scratch);
    }
    interaction_destroy(ix);
    sp_http_res_set(res, 302, NULL, NULL, 0);
    sp_http_res_header(res, "Location", t.url);
    return SP_OK;
}

static int q(const sp_http_req *req, const char *k, char *buf, size_t cap)
{
    return sp_http_req_query(req, k, buf, cap) == SP_OK ? 1 : 0;
}

/* GET: URL verification; POST: an encrypted message push. */
static int h_wecom(const sp_http_req *req, sp_http_res *res, void *arg)
{
    ingest_api *a = arg;
    if (a->wecom == NULL) {
        sp_http_res_error(res, 404, "not_configured", "WeCom callback not configured (SP_WECOM_*)", NULL);
        return SP_OK;
    }
    char sig[128], ts[64], nonce[128];
    if (!q(req, "msg_signature", sig, sizeof sig) || !q(req, "timestamp", ts, sizeof ts)
        || !q(req, "nonce", nonce, sizeof nonce)) {
        sp_http_res_error(
            res, 400, "invalid", "msg_signature, timestamp and nonce are required", "msg_signature");
        return SP_OK;
    }
    if (strcmp(req->method, "GET") == 0) {
        char echostr[4096];
        char *plain = NULL;
        size_t plen = 0;
        if (!q(req, "echostr", echostr, sizeof echostr)) {
            sp_http_res_error(res, 400, "invalid", "echostr is required", "echostr");
            return SP_OK;
        }
        if (wecom_verify_url(a->wecom, sig, ts, nonce, echostr, &plain, &plen) != SP_OK) {
            sp_http_res_error(res, 403, "bad_signature", "msg_signature does not verify", "msg_signature");
            return SP_OK;
        }
        sp_http_res_set(res, 200, "text/plain", plain, plen);
        free(plain);
        return SP_OK;
    }
    char *inner = NULL;
    size_t ilen = 0;
    int rv = wecom_callback_decrypt(a->wecom, sig, ts, nonce, req->body, req->body_len, &inner, &ilen);
    if (rv != SP_OK) {
        int st = rv == SP_EAUTH || rv == SP_EFORBIDDEN ? 403 : 400;
        sp_http_res_error(res, st, st == 403 ? "bad_signature" : "invalid", sp_strerror(rv), "Encrypt");
        return SP_OK;
    }
    sp_interaction *ix = NULL;
    rv = wecom_message_to_interaction(inner, ilen, now_of(a), &ix);
    free(inner);
    if (rv == SP_ENOTFOUND) { /* a message type we do not record: acknowledge */
        sp_http_res_set(res, 200, "text/plain", "success", 7);
        return SP_OK;
    }
    if (rv != SP_OK) {
        sp_http_res_error(res, 400, "invalid", "undecodable WeCom message", "Encrypt");
        return SP_OK;
    }
    publish(a, &ix, 1, "wecom", res);
    if (res->status == 202) sp_http_res_set(res, 200, "text/plain", "success", 7);
    interaction_destroy(ix);
    return SP_OK;
}

/* Maps an auth result to the hook's codes: 401 for a missing or unknown key,
 * 403 for a bad signature or replay. */
static int auth_code(ingest_auth_result r)
{
    int st = ingest_auth_http_status(r);
    return st == 401 ? SP_EAUTH : st == 403 ? SP_EFORBIDDEN : SP_EIO; /* CONFIG: ours, a 500 */
}

int ingest_api_auth(const sp_http_req *req, void *arg, sp_http_principal *out)
{
    ingest_api *a = arg;
    const char *key = sp_http_req_header(req, "X-Api-Key");
    const char *authz = sp_http_req_header(req, "Authorization");
    if (key == NULL && authz && strncasecmp(authz, "Bearer ", 7) == 0) key = authz + 7;
    size_t which = 0;
    ingest_auth_result r = ingest_apikey_check(key, a->api_key_hashes, a->n_api_keys, &which);
    if (r != INGEST_AUTH_OK) {
        snprintf(out->denied_field, sizeof out->denied_field, "%s",
            sp_http_req_header(req, "X-Api-Key") ? "X-Api-Key" : "Authorization");
        return auth_code(r);
    }
    if (a->n_webhook_secrets > 0
        && !req->body_unread) { /* the MAC covers the body: checked once it is read */
        const char *wid = sp_http_req_header(req, "webhook-id"),
                   *wts = sp_http_req_header(req, "webhook-timestamp"),
                   *wsig = sp_http_req_header(req, "webhook-signature");
        r = ingest_webhook_verify(wid, wts, wsig, req->body, req->body_len, a->webhook_secrets,
            a->n_webhook_secrets, now_of(a) / 1000);
        if (r == INGEST_AUTH_CONFIG) return auth_code(r); /* ours (a 500): no client header to name */
        if (r != INGEST_AUTH_OK) {
            /* the header at fault: the first missing one, the timestamp for a replay, else the signature */
            const char *f = r == INGEST_AUTH_MISSING ? (!wid || !*wid ? "webhook-id"
                                    : !wts || !*wts                   ? "webhook-timestamp"
                                                                      : "webhook-signature")
                : r == INGEST_AUTH_REPLAY            ? "webhook-timestamp"
                                                     : "webhook-signature";
            snprintf(out->denied_field, sizeof out->denied_field, "%s", f);
            return auth_code(r);
        }
    }
    snprintf(out->person_id, sizeof out->person_id, "%s", a->api_key_sources[which]);
    snprintf(out->role, sizeof out->role, "source");
    out->ext = a->api_key_allowed ? (void *)a->api_key_allowed[which] : NULL; /* borrowed */
    return SP_OK;
}

int ingest_api_routes(ingest_api *a, sp_http_server *srv, sp_metrics *reg)
{
    int rv;
    if ((rv = sp_counter_new(reg, "sp_ingest_events_total", "Interactions by source and result",
             "source,result", &a->m_events))
            != SP_OK
        || (rv = sp_histogram_new(reg, "sp_ingest_publish_seconds",
                "Time until Kafka acknowledged a request's events", "source", NULL, 0, &a->m_publish_s))
            != SP_OK
        || (rv = sp_gauge_new(reg, "sp_ingest_kafka_queue", "Messages waiting for a broker acknowledgement",
                "", &a->m_queue))
            != SP_OK)
        return rv;
    if ((rv = sp_http_route_add(srv, "POST", "/v1/interactions", SP_HTTP_AUTH, h_interactions, a)) != SP_OK
        || (rv = sp_http_route_add(srv, "POST", "/v1/email", SP_HTTP_AUTH, h_email, a)) != SP_OK
        || (rv = sp_http_route_add(srv, "POST", "/v1/calls", SP_HTTP_AUTH, h_calls, a)) != SP_OK
        || (rv = sp_http_route_add(srv, "POST", "/v1/tracking", SP_HTTP_AUTH, h_beacon, a)) != SP_OK
        || (rv = sp_http_route_add(srv, "POST", "/v1/tracking/links", SP_HTTP_AUTH, h_links, a)) != SP_OK
        || (rv = sp_http_route_add(srv, "GET", "/t/o/", SP_HTTP_PREFIX, h_pixel, a)) != SP_OK
        || (rv = sp_http_route_add(srv, "GET", "/t/c/", SP_HTTP_PREFIX, h_click, a)) != SP_OK
        || (rv = sp_http_route_add(srv, "GET", "/v1/wecom/callback", 0, h_wecom, a)) != SP_OK
        || (rv = sp_http_route_add(srv, "POST", "/v1/wecom/callback", 0, h_wecom, a)) != SP_OK
        || (rv = sp_http_route_set_max_body(srv, "POST", "/v1/email", SP_EMAIL_MAX_BYTES)) != SP_OK)
        return rv;
    return SP_OK;
}
