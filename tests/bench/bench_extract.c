/* bench_extract: extractions per second on one core for the dev.jsonl mix
 * (looped for ~2 s), as written and then as messages we sent. Standalone; build from the repository root with
 *   cc -O2 -std=c11 -D_GNU_SOURCE -Icommon -Iservices -Ibuild/ex/gen \
 *      tests/bench/bench_extract.c build/ex/lib/libsp_enrich.a build/ex/lib/libspcommon.a \
 *      $(pkg-config --cflags --libs jansson libpcre2-8) -lm -o build/ex/bench_extract
 * The clock here measures the benchmark, not business logic. */
#include "enrich/extract.h"
#include "err.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double clk(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double now(void)
{
    return clk(CLOCK_MONOTONIC);
}

/* CPU time of this thread: the per-core figure, unaffected by other load */
static double cpu(void)
{
    return clk(CLOCK_THREAD_CPUTIME_ID);
}

int main(int argc, char **argv)
{
    const char *dev = argc > 1 ? argv[1] : "tests/data/extraction/dev.jsonl";
    double secs = argc > 2 ? atof(argv[2]) : 2.0;
    char err[512];
    extract_engine *e = NULL;
    if (extract_engine_new(
            "deploy/tenants/demo/catalog.json", "deploy/tenants/default/lexicon", err, sizeof err, &e)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    static extract_input ins[1024];
    static json_t *docs[1024];
    size_t n = 0;
    FILE *f = fopen(dev, "r");
    if (!f) return 1;
    char *line = NULL;
    size_t cap = 0;
    size_t bytes = 0;
    static const char *const ch[] = {"wecom", "email", "call", "meeting", "note"};
    while (n < 1024 && getline(&line, &cap, f) > 0) {
        json_t *j = json_loads(line, 0, NULL);
        if (!j) continue;
        docs[n] = j;
        const char *c = json_string_value(json_object_get(j, "channel"));
        for (int i = 0; i < 5; i++)
            if (c && strcmp(c, ch[i]) == 0) ins[n].channel = (extract_channel)i;
        extract_parse_iso8601(json_string_value(json_object_get(j, "occurred_at")), &ins[n].occurred_at_ms);
        ins[n].text = json_string_value(json_object_get(j, "text"));
        ins[n].text_len = json_string_length(json_object_get(j, "text"));
        bytes += ins[n].text_len;
        n++;
    }
    free(line);
    fclose(f);
    /* as written (unlabelled: the customer's words), then as messages we
     * sent (text_side REP: two in three WeCom texts of the demo quarter) */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++)
            ins[i].text_side = pass ? EXTRACT_SIDE_REP : EXTRACT_SIDE_UNKNOWN;
        long runs = 0;
        double t0 = now(), c0 = cpu(), t;
        extract_result r;
        do {
            for (size_t i = 0; i < n; i++, runs++)
                extract_run(e, &ins[i], &r);
            t = now();
        } while (t - t0 < secs);
        double c = cpu() - c0;
        printf("bench_extract%s: %ld extractions in %.2f s wall (%.0f/s), %.2f s CPU = %.0f/s per core (%zu "
               "texts, mean %zu bytes)\n",
            pass ? " (the same texts as our outbound messages)" : "", runs, t - t0, runs / (t - t0), c,
            runs / c, n, n ? bytes / n : 0);
    }
    for (size_t i = 0; i < n; i++)
        json_decref(docs[i]);
    extract_engine_destroy(e);
    return 0;
}
