/* spctl sim: the deterministic demo quarter (docs/simulator.md). */
#include "spctl/spctl.h"
#include "spctl/spctl_sim.h"

#include "err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_u64(const char *s, uint64_t *out)
{
    char *end = NULL;
    if (s == NULL || *s == '\0' || *s == '-') return SP_EINVAL;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end) return SP_EINVAL;
    *out = v;
    return SP_OK;
}

/* spctl sim --seed N [--customers 2000] [--start 2026-03-02] [--weeks 13] --out DIR */
int spctl_sim(const struct spctl_cfg *cfg, int argc, char **argv)
{
    (void)cfg;
    sim_opts o = {.seed = 0, .customers = 2000, .weeks = 13};
    const char *out = NULL, *start = "2026-03-02";
    int have_seed = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t n = 0;
        if (strcmp(a, "--seed") == 0 && parse_u64(v, &o.seed) == 0)
            have_seed = 1, i++;
        else if (strcmp(a, "--customers") == 0 && parse_u64(v, &n) == 0 && n <= 1000000)
            o.customers = (int)n, i++;
        else if (strcmp(a, "--weeks") == 0 && parse_u64(v, &n) == 0 && n <= 1000)
            o.weeks = (int)n, i++;
        else if (strcmp(a, "--start") == 0 && v)
            start = v, i++;
        else if (strcmp(a, "--out") == 0 && v)
            out = v, i++;
        else {
            fprintf(stderr,
                "spctl sim: bad argument \"%s\"%s\nusage: spctl sim --seed N [--customers 2000] "
                "[--start 2026-03-02] [--weeks 13] --out DIR\n",
                a, v ? "" : " (missing value?)");
            return 2;
        }
    }
    if (!have_seed || out == NULL) {
        fprintf(stderr, "spctl sim: --seed and --out are required\n");
        return 2;
    }
    if (sim_date_parse(start, &o.start_ms) != 0) {
        fprintf(stderr, "spctl sim: --start \"%s\": expected YYYY-MM-DD\n", start);
        return 2;
    }
    char err[512] = "";
    sim_stats st;
    int rv = sim_run(&o, out, &st, err, sizeof err);
    if (rv != 0) {
        fprintf(stderr, "spctl sim: %s\n", err);
        return rv == SP_EINVAL ? 2 : 1;
    }
    printf("sim: %zu people, %zu customers, %zu deals, %zu events, %zu planted rows -> %s\n", st.people,
        st.customers, st.deals, st.events, st.situations, out);
    return 0;
}
