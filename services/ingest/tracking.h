/* tracking.h - e-mail open pixel, link clicks and web-visit beacons.
 *
 * Tokens: base64url(version 0x01 | kind | issued_at_ms (8 bytes BE) |
 * ref | customer | rep_id | url (each a 2-byte BE length + bytes) |
 * HMAC-SHA256 over everything before it (32 bytes)). The service seals one
 * per tracked e-mail (open pixel) and per link (click); GET /t/o/{token}.gif
 * and GET /t/c/{token} open it. Keys rotate: open tries each configured key.
 *
 * Page rules (deploy/tenants/<tenant>/tracking.json):
 *   {"pages":[{"pattern":"<PCRE2>","class":"product|competitor|pricing|other",
 *              "product_id":"X200","competitor_id":"apex"}, ...]}
 * matched in order against the full URL; the first match classifies the
 * page; no match is "other". */
#ifndef SP_INGEST_TRACKING_H
#define SP_INGEST_TRACKING_H

#include <stddef.h>

#include "ingest/batch.h"

#define SP_TRACKING_GIF_LEN 43
/* A 1x1 transparent GIF89a, served for the open pixel. */
extern const unsigned char SP_TRACKING_GIF[SP_TRACKING_GIF_LEN];

#define SP_TRACKING_REF_MAX      128
#define SP_TRACKING_CUSTOMER_MAX 320
#define SP_TRACKING_URL_MAX      2048

typedef struct tracking_token {
    int kind; /* Salespulse__V1__TrackingKind: email_open, link_click, ... */
    char ref[SP_TRACKING_REF_MAX + 1]; /* e-mail / interaction id the token belongs to */
    char customer[SP_TRACKING_CUSTOMER_MAX + 1]; /* customer identity "kind:value", e.g. "email:li@x.cn" */
    char rep_id[SP_TRACKING_REF_MAX + 1];
    char url[SP_TRACKING_URL_MAX + 1]; /* target of a click; "" otherwise */
    long long issued_at_ms;
} tracking_token;

typedef struct tracking_key {
    const unsigned char *key;
    size_t len; /* at least 16 bytes */
} tracking_key;

/* Seals t with key into a malloc'd base64url string (caller frees with
 * free). Returns SP_EINVAL (kind out of range, key too short, click without
 * url), SP_ETOOBIG (a field over its maximum), SP_ENOMEM. */
int tracking_token_seal(const tracking_token *t, const tracking_key *key, char **out);

/* Opens token[0..len) with any of keys, comparing tags in constant time.
 * max_age_ms > 0 rejects tokens issued more than that before now_ms (and
 * tokens from more than a day in the future). Returns SP_EAUTH (forged,
 * truncated, altered, unknown version), SP_ETIMEOUT (expired), SP_EDECODE
 * (not base64url). *out is zeroed on failure. */
int tracking_token_open(const char *token, size_t len, const tracking_key *keys, size_t nkeys,
    long long now_ms, long long max_age_ms, tracking_token *out);

typedef struct tracking_rules tracking_rules;

/* Compiles page rules from JSON text; name (the file) prefixes messages in
 * errbuf, which name the item and key. Returns SP_ECONFIG, SP_ENOMEM.
 * Caller frees with tracking_rules_destroy. */
int tracking_rules_parse(
    const char *json, size_t len, const char *name, tracking_rules **out, char *errbuf, size_t errlen);

/* Reads and compiles a rules file. Returns SP_EIO when unreadable, else as
 * tracking_rules_parse. */
int tracking_rules_load(const char *path, tracking_rules **out, char *errbuf, size_t errlen);

/* Frees rules. Accepts NULL. */
void tracking_rules_destroy(tracking_rules *r);

/* Classifies url: *page_class gets a Salespulse__V1__PageClass (OTHER when
 * nothing matches or rules is NULL); *product_id / *competitor_id (may be
 * NULL) point into rules ("" when unset). Thread-safe. Never fails. */
void tracking_rules_classify(const tracking_rules *rules, const char *url, int *page_class,
    const char **product_id, const char **competitor_id);

/* Interaction for an opened token hit at now_ms: channel tracking, source
 * "tracking", kind and url from the token (a click's url is classified),
 * customer identity parsed from "kind:value", external_id
 * "<ref>/<kind>/<now_ms>". Returns SP_ENOMEM. Caller frees with
 * interaction_destroy. */
int tracking_token_interaction(
    const tracking_token *t, const tracking_rules *rules, long long now_ms, sp_interaction **out);

/* Parses a web-visit beacon {beacon_id, visitor_id, customer_identity
 * {kind,value} or email, url, dwell_ms, occurred_at, rep_id?, customer_ref?}
 * into an Interaction (channel tracking, kind web_visit, external_id
 * beacon_id, page classified by rules). Errors as in batch.h (index 0,
 * fields named by the beacon's keys). Returns SP_EDECODE, SP_EINVAL,
 * SP_ETOOBIG (over 64 KiB), SP_ENOMEM. */
int tracking_beacon_parse(const char *body, size_t len, const tracking_rules *rules,
    const ingest_batch_opts *opts, sp_interaction **out, ingest_errlist *errs);

/* Seals the tracking tokens of one outgoing e-mail, for POST
 * /v1/tracking/links: body {"ref","customer":"kind:value","rep_id"?,
 * "open"?:bool,"links"?:[absolute http(s) URL, at most 100]} sealed with
 * key at now_ms into a malloc'd JSON answer (caller frees with free):
 * {"open":"/t/o/<token>.gif"|null,"links":[{"url","path":"/t/c/<token>"}]}.
 * Errors go to errs (index 0, field ref, customer, rep_id, open, links,
 * links[i], or an unknown key). Returns SP_EDECODE (not a JSON object),
 * SP_EINVAL, SP_ETOOBIG (over 64 KiB), SP_ENOMEM. */
int tracking_links_seal(const char *body, size_t len, const tracking_key *key, long long now_ms, char **out,
    ingest_errlist *errs);

#endif
