/* libFuzzer target: raw e-mail parsing (GMime), HTML to text and the quote
 * cutter. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ingest/email.h"
#include "ingest/html.h"
#include "ingest/quote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const ours[] = {"hengyuan.cn"};
    ingest_email_opts opts = {.now_ms = 1772417700000LL, .our_domains = ours, .n_domains = 1};
    sp_interaction *ix = NULL;
    char err[128];
    if (ingest_email_parse((const char *)data, size, &opts, &ix, err, sizeof err) == 0)
        interaction_destroy(ix);
    char *text = NULL;
    size_t n = 0;
    if (size < 16384 && ingest_html_to_text((const char *)data, size, &text, &n) == 0) free(text);
    if (ingest_quote_cut((const char *)data, size) > size) abort();
    return 0;
}
