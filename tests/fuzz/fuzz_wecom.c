/* libFuzzer target: WeCom callback XML and decryption. The first byte picks
 * the path: outer envelope + signed decrypt, Base64 decrypt, inner message
 * XML, AES-valid ciphertext of fuzzed plaintext (reaches the padding, length
 * and receive-id checks), or an encrypt/decrypt round trip. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "ingest/b64.h"
#include "ingest/wecom.h"

#define AESKEY "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2A"

static wecom_crypto *ctx(void)
{
    static wecom_crypto *c;
    if (c == NULL && wecom_crypto_new("QDG6eK", AESKEY, "wx5823bf96d3bd56c7", &c) != 0) abort();
    return c;
}

static void raw_ciphertext(const uint8_t *pt, size_t n)
{
    unsigned char key[40];
    size_t kl;
    if (ingest_b64_decode(AESKEY "=", 44, key, &kl, 0) != 0) abort();
    size_t m = (n + 15) / 16 * 16;
    if (m == 0) m = 16;
    unsigned char *buf = calloc(1, m), *ct = malloc(m);
    memcpy(buf, pt, n);
    int l1 = 0, l2 = 0;
    EVP_CIPHER_CTX *e = EVP_CIPHER_CTX_new();
    EVP_EncryptInit_ex(e, EVP_aes_256_cbc(), NULL, key, key);
    EVP_CIPHER_CTX_set_padding(e, 0);
    EVP_EncryptUpdate(e, ct, &l1, buf, (int)m);
    EVP_EncryptFinal_ex(e, ct + l1, &l2);
    EVP_CIPHER_CTX_free(e);
    char *b64 = malloc(SP_B64_ENC_LEN(m));
    ingest_b64_encode(ct, m, b64, 0);
    char *msg = NULL;
    size_t ml;
    if (wecom_decrypt(ctx(), b64, strlen(b64), &msg, &ml) == 0) free(msg);
    free(b64);
    free(ct);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    const char *in = (const char *)data + 1;
    size_t n = size - 1;
    char *out = NULL;
    size_t outlen = 0;
    switch (data[0] % 5) {
    case 0: {
        wecom_envelope env;
        if (wecom_envelope_parse(in, n, &env) == 0) {
            char sig[SP_WECOM_SIG_LEN + 1];
            if (wecom_signature("QDG6eK", "1", "2", env.encrypt, sig) == 0
                && wecom_callback_decrypt(ctx(), sig, "1", "2", in, n, &out, &outlen) == 0)
                free(out);
            wecom_envelope_clear(&env);
        }
        break;
    }
    case 1:
        if (wecom_decrypt(ctx(), in, n, &out, &outlen) == 0) free(out);
        break;
    case 2: {
        sp_interaction *ix = NULL;
        wecom_message_to_interaction(in, n, 1772417700000LL, &ix);
        interaction_destroy(ix);
        break;
    }
    case 3: raw_ciphertext((const uint8_t *)in, n); break;
    default: {
        char *enc = NULL;
        if (wecom_encrypt(ctx(), in, n, NULL, NULL, &enc) != 0) abort();
        if (wecom_decrypt(ctx(), enc, strlen(enc), &out, &outlen) != 0 || outlen != n
            || memcmp(out, in, n) != 0)
            abort();
        free(out);
        free(enc);
        break;
    }
    }
    return 0;
}
