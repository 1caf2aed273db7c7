/* score.c - `score GOLD.jsonl PRED.jsonl [-v]`: compares the CLI output with
 * the labelled examples line by line (same order, same id) and prints
 * per-field precision/recall/F1 and the macro-F1. -v lists every miss. */
#include "score_core.h"

#include <stdlib.h>

static void show_diff(const char *id, json_t *gold, json_t *pred)
{
    for (int f = 0; f < SC_FIELDS; f++) {
        json_t *g = json_object_get(gold, SC_NAMES[f]), *p = pred ? json_object_get(pred, SC_NAMES[f]) : NULL;
        int same;
        if (f == 2 || f == 3) {
            same = (sc_is_null(g) && sc_is_null(p)) || (!sc_is_null(g) && !sc_is_null(p) && json_equal(g, p));
        } else {
            sc_totals t = {0};
            sc_list(&t, 0, g, p);
            same = t.fp[0] == 0 && t.fn[0] == 0;
        }
        if (same) continue;
        char *gs = json_dumps(g ? g : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);
        char *ps = json_dumps(p ? p : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);
        printf("  %s %-12s gold=%s got=%s\n", id, SC_NAMES[f], gs, ps);
        free(gs);
        free(ps);
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: score GOLD.jsonl PRED.jsonl [-v]\n");
        return 2;
    }
    int verbose = argc > 3 && strcmp(argv[3], "-v") == 0;
    FILE *g = fopen(argv[1], "r"), *p = fopen(argv[2], "r");
    if (!g || !p) {
        fprintf(stderr, "score: cannot open input\n");
        return 2;
    }
    sc_totals t = {0};
    char *gl = NULL, *pl = NULL;
    size_t gc = 0, pc = 0;
    long n = 0, bad = 0;
    while (getline(&gl, &gc, g) > 0) {
        json_t *gold = json_loads(gl, 0, NULL);
        if (gold == NULL) continue;
        json_t *pred = NULL;
        if (getline(&pl, &pc, p) > 0) pred = json_loads(pl, 0, NULL);
        const char *gid = json_string_value(json_object_get(gold, "id"));
        const char *pid = pred ? json_string_value(json_object_get(pred, "id")) : NULL;
        if (!gid || !pid || strcmp(gid, pid) != 0) {
            bad++;
            json_decref(pred);
            pred = NULL; /* a missing or misaligned answer scores as all-null */
        }
        json_t *exp = json_object_get(gold, "expect");
        sc_add(&t, exp, pred);
        if (verbose) show_diff(gid ? gid : "?", exp, pred);
        n++;
        json_decref(gold);
        json_decref(pred);
    }
    free(gl);
    free(pl);
    fclose(g);
    fclose(p);
    printf("examples %ld (misaligned or unparsable answers: %ld)\n", n, bad);
    sc_report(&t, stdout);
    return 0;
}
