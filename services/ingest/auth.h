/* auth.h - request authentication for the ingest endpoints.
 *
 * API keys: the service stores only SHA-256 hex digests of the keys (one or
 * more per source); a presented key is hashed and compared to every stored
 * digest in constant time.
 *
 * Standard Webhooks (standardwebhooks.com): headers webhook-id,
 * webhook-timestamp (Unix seconds), webhook-signature = space-separated
 * "v1,<base64 HMAC-SHA256>" entries; signed content is
 * id "." timestamp "." body; secrets are "whsec_<base64 key>" (several at
 * once during rotation); the timestamp must lie within 5 minutes of now. */
#ifndef SP_INGEST_AUTH_H
#define SP_INGEST_AUTH_H

#include <stddef.h>

#define SP_WEBHOOK_TOLERANCE_S 300
#define SP_SHA256_HEX_LEN      64

typedef enum ingest_auth_result {
    INGEST_AUTH_OK = 0,
    INGEST_AUTH_MISSING, /* no key / no signature headers      -> 401 */
    INGEST_AUTH_BAD_KEY, /* key not known                      -> 401 */
    INGEST_AUTH_BAD_SIGNATURE, /* no signature entry matches         -> 403 */
    INGEST_AUTH_REPLAY, /* timestamp outside the window       -> 403 */
    INGEST_AUTH_CONFIG, /* a configured secret is malformed   -> 500 */
} ingest_auth_result;

/* HTTP status for a result (200 for OK). */
int ingest_auth_http_status(ingest_auth_result r);

/* Stable snake_case name of a result ("bad_signature", ...). */
const char *ingest_auth_result_name(ingest_auth_result r);

/* Writes the lower-case SHA-256 hex of key (65 bytes with NUL). Returns
 * SP_EINVAL for NULL, SP_EIO if the digest fails. */
int ingest_apikey_hash(const char *key, char out[SP_SHA256_HEX_LEN + 1]);

/* Checks a presented key against n stored hex digests (case-insensitive
 * hex). Every digest is compared, whatever matched, so timing reveals
 * nothing. *which (may be NULL) gets the matching index. Returns
 * INGEST_AUTH_MISSING for NULL/empty, INGEST_AUTH_BAD_KEY when none match. */
ingest_auth_result ingest_apikey_check(
    const char *presented, const char *const *hashes, size_t n, size_t *which);

/* Verifies a Standard Webhooks signature. id, timestamp, signature are the
 * header values (NULL when absent); secrets the configured "whsec_..." (or
 * bare base64) secrets. Returns OK, MISSING (a header absent or empty),
 * REPLAY (timestamp not a number or more than 5 min from now_s),
 * BAD_SIGNATURE, CONFIG (no secret, or one not decodable). */
ingest_auth_result ingest_webhook_verify(const char *id, const char *timestamp, const char *signature,
    const void *body, size_t len, const char *const *secrets, size_t nsecrets, long long now_s);

/* Most secrets a verification tries (a rotation needs two). */
#define SP_WEBHOOK_SECRETS_MAX 8

/* 1 when secret decodes ("whsec_<base64>" or bare base64, non-empty):
 * checked at start, so a typo is not a 500 on every signed request. */
int ingest_webhook_secret_valid(const char *secret);

/* Computes the "v1,<base64>" signature of (id, timestamp, body) with secret
 * into out (cap >= 64 suffices). For tests and for clients' examples.
 * Returns SP_EINVAL for a bad secret, SP_ETOOBIG for a small buffer. */
int ingest_webhook_sign(const char *id, const char *timestamp, const void *body, size_t len,
    const char *secret, char *out, size_t cap);

#endif
