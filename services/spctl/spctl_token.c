/* spctl token issue|revoke, spctl apikey: API bearer tokens for people and
 * the stored form of ingest API keys. Only SHA-256 hashes are stored.
 *
 * Tokens are made by taskpool/token.c (spctl links the service libraries). */
#include "db.h"
#include "err.h"
#include "spctl/spctl.h"
#include "taskpool/token.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int spctl_sha256_hex(const char *s, char hex[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    if (s == NULL || EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL) != 1 || n != 32) return SP_EIO;
    static const char hx[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = hx[md[i] >> 4];
        hex[2 * i + 1] = hx[md[i] & 15];
    }
    hex[64] = '\0';
    return SP_OK;
}

int spctl_ttl_parse(const char *s, long long *seconds)
{
    if (s == NULL || *s == '\0') return SP_EINVAL;
    if (strcmp(s, "never") == 0 || strcmp(s, "0") == 0) {
        *seconds = 0;
        return SP_OK;
    }
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || v <= 0 || end[0] == '\0' || end[1] != '\0') return SP_EINVAL;
    long long mul = end[0] == 'd' ? 86400 : end[0] == 'h' ? 3600 : end[0] == 'm' ? 60 : end[0] == 's' ? 1 : 0;
    if (mul == 0 || v > 3650LL * 86400 / mul) return SP_EINVAL; /* at most ten years */
    *seconds = v * mul;
    return SP_OK;
}

int spctl_token_issue(
    sp_db *db, const char *person, const char *label, long long ttl_s, char tok[48], char hash[65])
{
    if (db == NULL || person == NULL || *person == '\0') return SP_EINVAL;
    int rv = token_generate(tok, hash);
    if (rv != SP_OK) return rv;
    char ttl[24];
    snprintf(ttl, sizeof ttl, "%lld", ttl_s);
    const char *p[4] = {hash, person, label ? label : "", ttl};
    PGresult *r = NULL;
    rv = sp_db_exec(db,
        "INSERT INTO api_tokens (token_sha256, person_id, label, expires_at) SELECT $1, id, $3, "
        "CASE WHEN $4::bigint > 0 THEN now() + $4::bigint * interval '1 second' END FROM people WHERE id = "
        "$2 "
        "RETURNING person_id",
        4, p, &r);
    if (rv != SP_OK) return rv;
    int n = PQntuples(r);
    PQclear(r);
    return n == 1 ? SP_OK : SP_ENOTFOUND;
}

int spctl_token_revoke(sp_db *db, const char *person, const char *prefix, int *revoked)
{
    *revoked = 0;
    char hash[65], like[80];
    const char *p[2] = {person, NULL};
    if (prefix != NULL) {
        /* a whole token is matched by its hash; otherwise a hash prefix */
        if (strncmp(prefix, "spt_", 4) == 0) {
            if (spctl_sha256_hex(prefix, hash) != SP_OK) return SP_EIO;
            snprintf(like, sizeof like, "%s", hash);
        } else {
            size_t n = strlen(prefix);
            if (n < 8 || n > 64 || strspn(prefix, "0123456789abcdef") != n) return SP_EINVAL;
            snprintf(like, sizeof like, "%s%%", prefix);
        }
        p[1] = like;
    } else if (person == NULL || *person == '\0')
        return SP_EINVAL;
    PGresult *r = NULL;
    int rv = sp_db_exec(db,
        "UPDATE api_tokens SET revoked_at = now() WHERE revoked_at IS NULL "
        "AND ($1::text IS NULL OR person_id = $1) AND ($2::text IS NULL OR token_sha256 LIKE $2) RETURNING 1",
        2, p, &r);
    if (rv != SP_OK) return rv;
    *revoked = PQntuples(r);
    PQclear(r);
    return SP_OK;
}

/* Value of --name in argv, or NULL. */
static const char *opt(int argc, char **argv, const char *name)
{
    for (int i = 2; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0) return argv[i + 1];
    return NULL;
}

/* `token issue --person ID [--label L] [--ttl 90d]` prints the token once;
 * `token revoke --person ID | --token-prefix P` (P: the token itself or at
 * least 8 hex characters of its SHA-256, as `issue` prints). */
int spctl_token(const struct spctl_cfg *cfg, int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "";
    if (strcmp(sub, "issue") != 0 && strcmp(sub, "revoke") != 0) {
        fprintf(stderr,
            "usage: spctl token issue --person ID [--label L] [--ttl 90d]\n"
            "       spctl token revoke --person ID | --token-prefix P\n");
        return 2;
    }
    sp_db *db = NULL;
    if (sp_db_open(cfg->pg_url, &db) != SP_OK) {
        fprintf(stderr, "spctl token: %s\n", sp_db_errmsg(db));
        sp_db_destroy(db);
        return 1;
    }
    int code = 1;
    const char *person = opt(argc, argv, "--person");
    if (strcmp(sub, "issue") == 0) {
        long long ttl = 90LL * 86400;
        const char *ttl_s = opt(argc, argv, "--ttl");
        char tok[48], hash[65];
        if (person == NULL) {
            fprintf(stderr, "spctl token issue: --person is required\n");
            code = 2;
        } else if (ttl_s && spctl_ttl_parse(ttl_s, &ttl) != SP_OK) {
            fprintf(stderr, "spctl token issue: --ttl \"%s\": use e.g. 90d, 12h, 30m or never\n", ttl_s);
            code = 2;
        } else {
            int rv = spctl_token_issue(db, person, opt(argc, argv, "--label"), ttl, tok, hash);
            if (rv == SP_ENOTFOUND)
                fprintf(stderr, "spctl token issue: no person \"%s\"\n", person);
            else if (rv != SP_OK)
                fprintf(stderr, "spctl token issue: %s\n", sp_db_errmsg(db));
            else {
                printf("%s\n", tok);
                fprintf(stderr, "token for %s (id %.12s), shown once: only its SHA-256 is stored\n", person,
                    hash);
                code = 0;
            }
            OPENSSL_cleanse(tok, sizeof tok);
        }
    } else {
        const char *prefix = opt(argc, argv, "--token-prefix");
        int n = 0;
        if ((person == NULL) == (prefix == NULL)) {
            fprintf(stderr, "spctl token revoke: give --person or --token-prefix\n");
            code = 2;
        } else {
            int rv = spctl_token_revoke(db, prefix ? NULL : person, prefix, &n);
            if (rv == SP_EINVAL)
                fprintf(stderr,
                    "spctl token revoke: --token-prefix: the token, or 8..64 hex characters of its hash\n");
            else if (rv != SP_OK)
                fprintf(stderr, "spctl token revoke: %s\n", sp_db_errmsg(db));
            else {
                printf("revoked %d token(s)\n", n);
                code = 0;
            }
        }
    }
    sp_db_destroy(db);
    return code;
}

/* `apikey KEY`: the SHA-256 hex of an ingest API key (SP_INGEST_API_KEYS). */
int spctl_apikey(const struct spctl_cfg *cfg, int argc, char **argv)
{
    (void)cfg;
    char hex[65];
    if (argc != 2 || argv[1][0] == '\0') {
        fprintf(stderr, "usage: spctl apikey KEY\n");
        return 2;
    }
    if (spctl_sha256_hex(argv[1], hex) != SP_OK) return 1;
    printf("%s\n", hex);
    return 0;
}
