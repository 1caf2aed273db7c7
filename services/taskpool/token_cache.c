/* token_cache.c - direct-mapped token hash -> principal cache with a TTL. */
#include "taskpool/token_cache.h"

#include "err.h"
#include "taskpool/token.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct slot {
    char hash[SP_TOKEN_HASH_LEN + 1];
    int64_t until_ms; /* 0: empty */
    sp_http_principal p;
} slot;

struct token_cache {
    pthread_mutex_t mu;
    size_t mask;
    int64_t ttl_ms;
    slot *slots;
};

int token_cache_new(size_t slots, int64_t ttl_ms, token_cache **out)
{
    if (ttl_ms <= 0 || slots == 0) return SP_EINVAL;
    size_t n = 1;
    while (n < slots && n < 65536)
        n <<= 1;
    token_cache *c = calloc(1, sizeof *c);
    if (c == NULL || (c->slots = calloc(n, sizeof *c->slots)) == NULL) {
        free(c);
        return SP_ENOMEM;
    }
    pthread_mutex_init(&c->mu, NULL);
    c->mask = n - 1;
    c->ttl_ms = ttl_ms;
    *out = c;
    return SP_OK;
}

void token_cache_destroy(token_cache *c)
{
    if (c == NULL) return;
    pthread_mutex_destroy(&c->mu);
    free(c->slots);
    free(c);
}

/* The slot of a hash: its first 8 hex digits (uniform: SHA-256). */
static size_t index_of(const token_cache *c, const char *hash)
{
    size_t v = 0;
    for (int i = 0; i < 8 && hash[i]; i++) {
        char ch = hash[i];
        v = v * 16 + (size_t)(ch >= 'a' ? ch - 'a' + 10 : ch >= 'A' ? ch - 'A' + 10 : ch - '0');
    }
    return v & c->mask;
}

int token_cache_get(token_cache *c, const char *hash_hex, int64_t now_ms, sp_http_principal *out)
{
    if (c == NULL || hash_hex == NULL || strlen(hash_hex) != SP_TOKEN_HASH_LEN) return SP_ENOTFOUND;
    int rv = SP_ENOTFOUND;
    pthread_mutex_lock(&c->mu);
    slot *s = &c->slots[index_of(c, hash_hex)];
    if (s->until_ms > now_ms && CRYPTO_memcmp(s->hash, hash_hex, SP_TOKEN_HASH_LEN) == 0) {
        *out = s->p;
        rv = SP_OK;
    }
    pthread_mutex_unlock(&c->mu);
    return rv;
}

void token_cache_put(token_cache *c, const char *hash_hex, const sp_http_principal *p, int64_t now_ms,
    int64_t token_expires_ms)
{
    if (c == NULL || hash_hex == NULL || strlen(hash_hex) != SP_TOKEN_HASH_LEN) return;
    int64_t until = now_ms + c->ttl_ms;
    if (token_expires_ms > 0 && token_expires_ms < until) until = token_expires_ms;
    if (until <= now_ms) return;
    pthread_mutex_lock(&c->mu);
    slot *s = &c->slots[index_of(c, hash_hex)];
    memcpy(s->hash, hash_hex, SP_TOKEN_HASH_LEN + 1);
    s->p = *p;
    s->p.ext = NULL;
    s->until_ms = until;
    pthread_mutex_unlock(&c->mu);
}
