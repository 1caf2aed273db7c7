/* token.h - API bearer tokens: "spt_" + base64url(32 random bytes), shown
 * once at creation; only the SHA-256 hex of the token is stored, and
 * requests are matched by that hash (a lookup key that reveals nothing),
 * then confirmed with a constant-time compare. */
#ifndef SP_TASKPOOL_TOKEN_H
#define SP_TASKPOOL_TOKEN_H

#include <stddef.h>

#define SP_TOKEN_PREFIX   "spt_"
#define SP_TOKEN_LEN      47 /* "spt_" + 43 base64url characters */
#define SP_TOKEN_HASH_LEN 64 /* hex SHA-256 */

/* Generates a token from RAND_bytes into tok[SP_TOKEN_LEN + 1] and its
 * hash into hash_hex[SP_TOKEN_HASH_LEN + 1]. SP_EIO when the RNG fails. */
int token_generate(char tok[SP_TOKEN_LEN + 1], char hash_hex[SP_TOKEN_HASH_LEN + 1]);

/* SHA-256 hex of a presented token. SP_EAUTH when it is not well-formed
 * (wrong prefix, length or alphabet), so junk never reaches the DB. */
int token_hash(const char *tok, char hash_hex[SP_TOKEN_HASH_LEN + 1]);

/* Extracts the token from an "Authorization: Bearer <token>" value into
 * tok; SP_EAUTH when missing or malformed. */
int token_from_bearer(const char *header, char tok[SP_TOKEN_LEN + 1]);

/* 1 when the presented token hashes to stored_hex (constant time over the
 * hash), 0 otherwise. */
int token_verify(const char *tok, const char *stored_hex);

/* An in-memory table row (what the DB lookup returns). */
typedef struct token_entry {
    const char *hash_hex;
    const char *person_id;
    int revoked;
} token_entry;

/* Finds the entry of a presented token among n entries (every entry is
 * compared, in constant time each). SP_EAUTH when none matches or it is
 * revoked; *idx gets the index. */
int token_lookup(const token_entry *entries, size_t n, const char *tok, size_t *idx);

#endif
