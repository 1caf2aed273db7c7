/* libFuzzer target: call transcripts, the phone rule, web beacons,
 * tracking tokens and tracking-link requests. The first byte picks the
 * parser. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/call.h"
#include "ingest/phone.h"
#include "ingest/tracking.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    const char *in = (const char *)data + 1;
    size_t n = size - 1;
    ingest_batch_opts opts = {.now_ms = 1772417700000LL};
    sp_interaction *ix = NULL;
    ingest_errlist errs = {0};
    switch (data[0] % 5) {
    case 0: ingest_call_parse(in, n, &opts, &ix, &errs); break;
    case 1: {
        char *s = malloc(n + 1), out[SP_PHONE_E164_MAX + 1];
        memcpy(s, in, n);
        s[n] = '\0';
        if (phone_e164_normalize(s, out, sizeof out) == 0) {
            /* normalising is idempotent */
            char again[SP_PHONE_E164_MAX + 1];
            if (phone_e164_normalize(out, again, sizeof again) != 0 || strcmp(out, again) != 0) abort();
        }
        free(s);
        break;
    }
    case 2: tracking_beacon_parse(in, n, NULL, &opts, &ix, &errs); break;
    case 4: {
        /* what is sealed opens with the key, to what was asked */
        static const unsigned char key[] = "0123456789abcdef0123456789abcdef";
        tracking_key k = {key, 32};
        char *out = NULL;
        if (tracking_links_seal(in, n, &k, opts.now_ms, &out, &errs) == 0) {
            static const char needle[] = "\"path\":\"/t/c/";
            const char *p = strstr(out, needle);
            if (p) {
                p += sizeof needle - 1;
                const char *e = strchr(p, '"');
                tracking_token t;
                if (e == NULL || tracking_token_open(p, (size_t)(e - p), &k, 1, opts.now_ms, 0, &t) != 0)
                    abort();
            }
        }
        free(out);
        break;
    }
    default: {
        static const unsigned char key[] = "0123456789abcdef0123456789abcdef";
        tracking_key k = {key, 32};
        tracking_token t;
        if (tracking_token_open(in, n, &k, 1, opts.now_ms, 0, &t) == 0) abort(); /* forged without the key */
        break;
    }
    }
    interaction_destroy(ix);
    ingest_errlist_clear(&errs);
    return 0;
}
