/* token_cache.h - a small cache of authenticated bearer tokens: token hash
 * -> principal, for ttl_ms, so a request needs no database lookup to
 * authenticate when the same token was seen moments ago. The cost: a
 * revoked or deactivated token keeps working until its entry expires (at
 * most ttl_ms; never past the token's own expiry). Direct-mapped on the
 * hash, thread-safe (one mutex, held for a copy). Failures are never
 * cached. */
#ifndef SP_TASKPOOL_TOKEN_CACHE_H
#define SP_TASKPOOL_TOKEN_CACHE_H

#include "http.h"

#include <stddef.h>
#include <stdint.h>

typedef struct token_cache token_cache;

/* Creates a cache of slots entries (rounded up to a power of two, at most
 * 65536) keeping each for ttl_ms. SP_EINVAL for ttl_ms <= 0 or slots 0,
 * SP_ENOMEM. Caller frees with token_cache_destroy. */
int token_cache_new(size_t slots, int64_t ttl_ms, token_cache **out);
void token_cache_destroy(token_cache *c);

/* The principal of hash_hex (64 hex characters) when cached and fresh at
 * now_ms into *out; SP_ENOTFOUND otherwise. */
int token_cache_get(token_cache *c, const char *hash_hex, int64_t now_ms, sp_http_principal *out);

/* Remembers p for hash_hex from now_ms until now_ms + ttl_ms, or until
 * token_expires_ms when that is earlier (0: the token never expires).
 * p->ext is not kept. */
void token_cache_put(token_cache *c, const char *hash_hex, const sp_http_principal *p, int64_t now_ms,
    int64_t token_expires_ms);

#endif
