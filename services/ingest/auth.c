/* auth.c - API keys and Standard Webhooks signatures (see auth.h). */
#include "ingest/auth.h"

#include "err.h"
#include "ingest/b64.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <stdlib.h>
#include <string.h>

int ingest_auth_http_status(ingest_auth_result r)
{
    switch (r) {
    case INGEST_AUTH_OK: return 200;
    case INGEST_AUTH_MISSING:
    case INGEST_AUTH_BAD_KEY: return 401;
    case INGEST_AUTH_BAD_SIGNATURE:
    case INGEST_AUTH_REPLAY: return 403;
    default: return 500;
    }
}

const char *ingest_auth_result_name(ingest_auth_result r)
{
    static const char *const names[] = {"ok", "missing", "bad_key", "bad_signature", "replay", "config"};
    return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "unknown";
}

int ingest_apikey_hash(const char *key, char out[SP_SHA256_HEX_LEN + 1])
{
    if (key == NULL) return SP_EINVAL;
    unsigned char md[32];
    unsigned int mdlen = 0;
    if (!EVP_Digest(key, strlen(key), md, &mdlen, EVP_sha256(), NULL) || mdlen != 32) return SP_EIO;
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++)
        out[2 * i] = hex[md[i] >> 4], out[2 * i + 1] = hex[md[i] & 15];
    out[64] = '\0';
    return SP_OK;
}

ingest_auth_result ingest_apikey_check(
    const char *presented, const char *const *hashes, size_t n, size_t *which)
{
    if (presented == NULL || presented[0] == '\0') return INGEST_AUTH_MISSING;
    char h[SP_SHA256_HEX_LEN + 1];
    if (ingest_apikey_hash(presented, h) != 0) return INGEST_AUTH_BAD_KEY;
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        char stored[SP_SHA256_HEX_LEN];
        if (hashes[i] == NULL || strlen(hashes[i]) != SP_SHA256_HEX_LEN) continue;
        for (int k = 0; k < SP_SHA256_HEX_LEN; k++)
            stored[k] = (char)tolower((unsigned char)hashes[i][k]);
        if (CRYPTO_memcmp(stored, h, SP_SHA256_HEX_LEN) == 0) {
            if (!found && which) *which = i;
            found = 1;
        }
    }
    return found ? INGEST_AUTH_OK : INGEST_AUTH_BAD_KEY;
}

/* Decodes "whsec_<base64>" (or bare base64) into key. */
static int secret_decode(const char *secret, unsigned char *key, size_t cap, size_t *klen)
{
    if (secret == NULL) return SP_EINVAL;
    if (strncmp(secret, "whsec_", 6) == 0) secret += 6;
    size_t n = strlen(secret);
    if (n == 0 || n / 4 * 3 + 3 > cap) return SP_EINVAL;
    return ingest_b64_decode(secret, n, key, klen, 0);
}

int ingest_webhook_secret_valid(const char *secret)
{
    unsigned char key[256];
    size_t klen = 0;
    int ok = secret_decode(secret, key, sizeof key, &klen) == SP_OK && klen > 0;
    OPENSSL_cleanse(key, sizeof key);
    return ok;
}

static int mac(const unsigned char *key, size_t klen, const char *id, const char *ts, const void *body,
    size_t len, unsigned char out[32])
{
    int ok = 0;
    EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *c = m ? EVP_MAC_CTX_new(m) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0), OSSL_PARAM_END};
    size_t outl = 0;
    if (c && EVP_MAC_init(c, key, klen, params) && EVP_MAC_update(c, (const unsigned char *)id, strlen(id))
        && EVP_MAC_update(c, (const unsigned char *)".", 1)
        && EVP_MAC_update(c, (const unsigned char *)ts, strlen(ts))
        && EVP_MAC_update(c, (const unsigned char *)".", 1) && (len == 0 || EVP_MAC_update(c, body, len))
        && EVP_MAC_final(c, out, &outl, 32) && outl == 32)
        ok = 1;
    EVP_MAC_CTX_free(c);
    EVP_MAC_free(m);
    return ok ? SP_OK : SP_EIO;
}

int ingest_webhook_sign(const char *id, const char *timestamp, const void *body, size_t len,
    const char *secret, char *out, size_t cap)
{
    unsigned char key[256], md[32];
    size_t klen = 0;
    if (id == NULL || timestamp == NULL || secret_decode(secret, key, sizeof key, &klen) != 0)
        return SP_EINVAL;
    int rv = mac(key, klen, id, timestamp, body, len, md);
    OPENSSL_cleanse(key, sizeof key);
    if (rv != 0) return rv;
    if (cap < 3 + SP_B64_ENC_LEN(32)) return SP_ETOOBIG;
    memcpy(out, "v1,", 3);
    ingest_b64_encode(md, 32, out + 3, 0);
    return SP_OK;
}

ingest_auth_result ingest_webhook_verify(const char *id, const char *timestamp, const char *signature,
    const void *body, size_t len, const char *const *secrets, size_t nsecrets, long long now_s)
{
    if (id == NULL || !*id || timestamp == NULL || !*timestamp || signature == NULL || !*signature)
        return INGEST_AUTH_MISSING;
    if (nsecrets == 0) return INGEST_AUTH_CONFIG;
    char *end = NULL;
    long long ts = strtoll(timestamp, &end, 10);
    if (end == timestamp || *end != '\0' || !isdigit((unsigned char)timestamp[0])) return INGEST_AUTH_REPLAY;
    if (ts > now_s + SP_WEBHOOK_TOLERANCE_S || ts < now_s - SP_WEBHOOK_TOLERANCE_S) return INGEST_AUTH_REPLAY;

    unsigned char expect[SP_WEBHOOK_SECRETS_MAX][32];
    size_t ne = 0;
    for (size_t i = 0; i < nsecrets && ne < SP_WEBHOOK_SECRETS_MAX; i++) {
        unsigned char key[256];
        size_t klen = 0;
        if (secret_decode(secrets[i], key, sizeof key, &klen) != 0) return INGEST_AUTH_CONFIG;
        int rv = mac(key, klen, id, timestamp, body, len, expect[ne]);
        OPENSSL_cleanse(key, sizeof key);
        if (rv != 0) return INGEST_AUTH_CONFIG;
        ne++;
    }
    int match = 0;
    const char *p = signature;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *e = p;
        while (*e && *e != ' ')
            e++;
        size_t n = (size_t)(e - p);
        if (n > 3 && strncmp(p, "v1,", 3) == 0 && n - 3 <= 64) {
            unsigned char got[64];
            size_t glen = 0;
            if (ingest_b64_decode(p + 3, n - 3, got, &glen, 0) == 0 && glen == 32)
                for (size_t k = 0; k < ne; k++)
                    match |= CRYPTO_memcmp(got, expect[k], 32) == 0;
        }
        p = e;
    }
    OPENSSL_cleanse(expect, sizeof expect);
    return match ? INGEST_AUTH_OK : INGEST_AUTH_BAD_SIGNATURE;
}
