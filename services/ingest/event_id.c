/* event_id.c - deterministic interaction ids (see event_id.h). */
#include "ingest/event_id.h"

#include "err.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>

/* SHA-256 fetched once: EVP_sha256() makes OpenSSL 3 look the algorithm up
 * (locks and all) on every digest - 3% of sp-ingest's CPU per event. Kept for
 * the process's life; NULL if the fetch failed (each derive then fails). */
static EVP_MD *sha256;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
    sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

int ingest_event_id_derive_n(
    const char *source, size_t slen, const char *external_id, size_t elen, char out[SP_EVENT_ID_LEN + 1])
{
    if (source == NULL || external_id == NULL || slen == 0 || elen == 0) return SP_EINVAL;
    pthread_once(&sha256_once, sha256_fetch);
    if (sha256 == NULL) return SP_EIO;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL) return SP_ENOMEM;
    int ok = EVP_DigestInit_ex(ctx, sha256, NULL) && EVP_DigestUpdate(ctx, source, slen)
        && EVP_DigestUpdate(ctx, "", 1) && EVP_DigestUpdate(ctx, external_id, elen)
        && EVP_DigestFinal_ex(ctx, md, &mdlen);
    EVP_MD_CTX_free(ctx);
    if (!ok || mdlen < 16) return SP_EIO;
    static const char hex[] = "0123456789abcdef";
    memcpy(out, "ix-", 3);
    for (int i = 0; i < 16; i++) {
        out[3 + 2 * i] = hex[md[i] >> 4];
        out[4 + 2 * i] = hex[md[i] & 15];
    }
    out[SP_EVENT_ID_LEN] = '\0';
    return SP_OK;
}

int ingest_event_id_derive(const char *source, const char *external_id, char out[SP_EVENT_ID_LEN + 1])
{
    if (source == NULL || external_id == NULL) return SP_EINVAL;
    return ingest_event_id_derive_n(source, strlen(source), external_id, strlen(external_id), out);
}
