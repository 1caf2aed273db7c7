/* score_core.h - extraction quality as shared/design/extraction.md "How
 * quality is measured" defines it: micro P/R/F1 over (example, item) pairs
 * for list fields, exact match for budget and delivery_by, macro-F1 over
 * the seven fields. Header-only so the scorer and a unit test share it. */
#ifndef SP_TESTS_SCORE_CORE_H
#define SP_TESTS_SCORE_CORE_H

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define SC_FIELDS 7
static const char *const SC_NAMES[SC_FIELDS]
    = {"products", "competitors", "budget", "delivery_by", "risks", "roles", "intents"};

typedef struct sc_totals {
    long tp[SC_FIELDS], fp[SC_FIELDS], fn[SC_FIELDS];
} sc_totals;

static int sc_in(json_t *list, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), s) == 0) return 1;
    }
    return 0;
}

/* Counts a list field as sets (duplicates counted once). */
static void sc_list(sc_totals *t, int f, json_t *gold, json_t *pred)
{
    size_t i;
    json_t *v;
    json_array_foreach(pred, i, v)
    {
        if (!json_is_string(v)) continue;
        int dup = 0;
        for (size_t j = 0; j < i; j++)
            if (json_is_string(json_array_get(pred, j))
                && strcmp(json_string_value(json_array_get(pred, j)), json_string_value(v)) == 0)
                dup = 1;
        if (dup) continue;
        if (sc_in(gold, json_string_value(v)))
            t->tp[f]++;
        else
            t->fp[f]++;
    }
    json_array_foreach(gold, i, v)
    {
        if (json_is_string(v) && !sc_in(pred, json_string_value(v))) t->fn[f]++;
    }
}

static int sc_is_null(json_t *v)
{
    return v == NULL || json_is_null(v);
}

/* Counts an exact-match field. */
static void sc_exact(sc_totals *t, int f, json_t *gold, json_t *pred)
{
    int eq = !sc_is_null(gold) && !sc_is_null(pred) && json_equal(gold, pred);
    if (eq) {
        t->tp[f]++;
        return;
    }
    if (!sc_is_null(pred)) t->fp[f]++;
    if (!sc_is_null(gold)) t->fn[f]++;
}

/* Adds one example: gold is the "expect" object, pred the output object. */
static void sc_add(sc_totals *t, json_t *gold, json_t *pred)
{
    for (int f = 0; f < SC_FIELDS; f++) {
        json_t *g = json_object_get(gold, SC_NAMES[f]), *p = pred ? json_object_get(pred, SC_NAMES[f]) : NULL;
        if (f == 2 || f == 3)
            sc_exact(t, f, g, p);
        else
            sc_list(t, f, g, p);
    }
}

static double sc_f1(const sc_totals *t, int f, double *p, double *r)
{
    long tp = t->tp[f], fp = t->fp[f], fn = t->fn[f];
    *p = tp + fp ? (double)tp / (double)(tp + fp) : 1.0;
    *r = tp + fn ? (double)tp / (double)(tp + fn) : 1.0;
    return *p + *r > 0 ? 2 * *p * *r / (*p + *r) : 0.0;
}

/* Prints the per-field table and returns the macro-F1. */
static double sc_report(const sc_totals *t, FILE *out)
{
    double sum = 0;
    if (out)
        fprintf(
            out, "%-12s %5s %5s %5s %9s %7s %7s\n", "field", "tp", "fp", "fn", "precision", "recall", "f1");
    for (int f = 0; f < SC_FIELDS; f++) {
        double p, r, f1 = sc_f1(t, f, &p, &r);
        sum += f1;
        if (out)
            fprintf(out, "%-12s %5ld %5ld %5ld %9.3f %7.3f %7.3f\n", SC_NAMES[f], t->tp[f], t->fp[f],
                t->fn[f], p, r, f1);
    }
    if (out) fprintf(out, "macro-F1 %.4f\n", sum / SC_FIELDS);
    return sum / SC_FIELDS;
}

#endif
