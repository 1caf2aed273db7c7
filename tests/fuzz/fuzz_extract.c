/* libFuzzer target: arbitrary bytes as the text of every channel through
 * extract_run and the JSON writer. Invalid UTF-8 must be rejected, never
 * crash. The engine is built once from the repository's demo catalog and
 * default lexicon (run from the repository root, or set SP_FUZZ_ROOT). */
#include "enrich/extract.h"
#include "err.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static extract_engine *eng;

static void init(void)
{
    const char *root = getenv("SP_FUZZ_ROOT");
    char cat[1024], lex[1024], err[512];
    snprintf(cat, sizeof cat, "%s%sdeploy/tenants/demo/catalog.json", root ? root : "", root ? "/" : "");
    snprintf(lex, sizeof lex, "%s%sdeploy/tenants/default/lexicon", root ? root : "", root ? "/" : "");
    if (extract_engine_new(cat, lex, err, sizeof err, &eng) != SP_OK) {
        fprintf(stderr, "fuzz_extract: %s\n", err);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (eng == NULL) init();
    if (size == 0) return 0;
    extract_input in = {0};
    in.channel = (extract_channel)(data[0] % 5);
    in.text_side
        = (data[0] / 5) % 2 ? EXTRACT_SIDE_REP : EXTRACT_SIDE_UNKNOWN; /* a message we sent, or not */
    in.occurred_at_ms = 1772417700000LL + (int64_t)(data[0]) * 86400000LL * 7;
    in.text = (const char *)data + 1;
    in.text_len = size - 1;
    extract_result r;
    int rv = extract_run(eng, &in, &r);
    if (rv == SP_OK) {
        char *js = NULL;
        if (extract_result_to_json(&r, "f", EXTRACT_JSON_CARD, &js) == SP_OK) free(js);
    } else if (rv != SP_EUTF8) {
        abort();
    }
    return 0;
}
