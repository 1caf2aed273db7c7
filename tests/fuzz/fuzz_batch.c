/* libFuzzer target: the generic interaction batch (JSON array / NDJSON). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ingest/batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ingest_batch_opts opts = {.now_ms = 1772417700000LL, .tenant_id = "t"};
    ingest_batch *b = NULL;
    ingest_errlist errs = {0};
    if (ingest_batch_parse((const char *)data, size, &opts, &b, &errs) == 0) {
        for (size_t i = 0; i < b->n; i++) {
            char key[1024];
            (void)interaction_customer_key(b->items[i], key, sizeof key);
            (void)salespulse__v1__interaction__get_packed_size(b->items[i]);
        }
    }
    char *json = NULL;
    if (ingest_errlist_to_json(&errs, &json) == 0) free(json);
    ingest_batch_destroy(b);
    ingest_errlist_clear(&errs);
    return 0;
}
