/* token.c - API token generation, hashing and verification (OpenSSL). */
#include "taskpool/token.h"

#include "err.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>
#include <strings.h>

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* base64url without padding of 32 bytes: 43 characters. */
static void encode32(const unsigned char in[32], char out[44])
{
    size_t o = 0;
    for (size_t i = 0; i < 32; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < 32) v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < 32) v |= in[i + 2];
        out[o++] = b64url[(v >> 18) & 63];
        out[o++] = b64url[(v >> 12) & 63];
        if (i + 1 < 32) out[o++] = b64url[(v >> 6) & 63];
        if (i + 2 < 32) out[o++] = b64url[v & 63];
    }
    out[o] = '\0';
}

static int well_formed(const char *tok)
{
    if (tok == NULL || strlen(tok) != SP_TOKEN_LEN || strncmp(tok, SP_TOKEN_PREFIX, 4) != 0) return 0;
    for (const char *p = tok + 4; *p; p++)
        if (strchr(b64url, *p) == NULL) return 0;
    return 1;
}

static int sha256_hex(const char *s, char hex[SP_TOKEN_HASH_LEN + 1])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    if (EVP_Digest(s, strlen(s), md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32) return SP_EIO;
    static const char hx[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = hx[md[i] >> 4];
        hex[2 * i + 1] = hx[md[i] & 15];
    }
    hex[64] = '\0';
    return SP_OK;
}

int token_generate(char tok[SP_TOKEN_LEN + 1], char hash_hex[SP_TOKEN_HASH_LEN + 1])
{
    unsigned char raw[32];
    if (RAND_bytes(raw, sizeof raw) != 1) return SP_EIO;
    memcpy(tok, SP_TOKEN_PREFIX, 4);
    encode32(raw, tok + 4);
    OPENSSL_cleanse(raw, sizeof raw);
    return sha256_hex(tok, hash_hex);
}

int token_hash(const char *tok, char hash_hex[SP_TOKEN_HASH_LEN + 1])
{
    if (!well_formed(tok)) return SP_EAUTH;
    return sha256_hex(tok, hash_hex);
}

int token_from_bearer(const char *h, char tok[SP_TOKEN_LEN + 1])
{
    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0) return SP_EAUTH;
    h += 7;
    while (*h == ' ')
        h++;
    size_t n = strlen(h);
    while (n > 0 && (h[n - 1] == ' ' || h[n - 1] == '\r' || h[n - 1] == '\n'))
        n--;
    if (n != SP_TOKEN_LEN) return SP_EAUTH;
    memcpy(tok, h, n);
    tok[n] = '\0';
    return well_formed(tok) ? SP_OK : SP_EAUTH;
}

int token_verify(const char *tok, const char *stored_hex)
{
    char hex[SP_TOKEN_HASH_LEN + 1];
    if (stored_hex == NULL || strlen(stored_hex) != SP_TOKEN_HASH_LEN || token_hash(tok, hex) != SP_OK)
        return 0;
    return CRYPTO_memcmp(hex, stored_hex, SP_TOKEN_HASH_LEN) == 0;
}

int token_lookup(const token_entry *e, size_t n, const char *tok, size_t *idx)
{
    char hex[SP_TOKEN_HASH_LEN + 1];
    if (token_hash(tok, hex) != SP_OK) return SP_EAUTH;
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        int hit = e[i].hash_hex != NULL && strlen(e[i].hash_hex) == SP_TOKEN_HASH_LEN
            && CRYPTO_memcmp(hex, e[i].hash_hex, SP_TOKEN_HASH_LEN) == 0;
        if (hit && !found) {
            found = 1;
            *idx = i;
        }
    }
    if (!found || e[*idx].revoked) return SP_EAUTH;
    return SP_OK;
}
