/* Extraction quality gate: runs the engine over the labelled examples in
 * tests/data/extraction/dev.jsonl (the project's), extra.jsonl (our own,
 * written to the same contract) and paraphrase.jsonl (60 more, written from
 * the contract alone with phrasings dev.jsonl does not use), prints per-field P/R/F1 and asserts each
 * macro-F1 (as the contract defines it) is at least 0.90. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "enrich/extract.h"
#include "err.h"
#include "tests/eval/score_core.h"

#include <stdlib.h>

static const char *const CHANNELS[] = {"wecom", "email", "call", "meeting", "note"};

static void eval_file(const char *path)
{
    char err[512];
    extract_engine *e = NULL;
    int rv = extract_engine_new(
        "deploy/tenants/demo/catalog.json", "deploy/tenants/default/lexicon", err, sizeof err, &e);
    if (rv != SP_OK) fail_msg("engine: %s", err);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    sc_totals t = {0};
    char *line = NULL;
    size_t cap = 0;
    int n = 0;
    while (getline(&line, &cap, f) > 0) {
        json_t *ex = json_loads(line, 0, NULL);
        assert_non_null(ex);
        extract_input in = {0};
        const char *ch = json_string_value(json_object_get(ex, "channel"));
        for (int i = 0; i < 5; i++)
            if (ch && strcmp(ch, CHANNELS[i]) == 0) in.channel = (extract_channel)i;
        assert_int_equal(
            extract_parse_iso8601(json_string_value(json_object_get(ex, "occurred_at")), &in.occurred_at_ms),
            SP_OK);
        in.text = json_string_value(json_object_get(ex, "text"));
        in.text_len = json_string_length(json_object_get(ex, "text"));
        extract_result r;
        assert_int_equal(extract_run(e, &in, &r), SP_OK);
        char *js = NULL;
        assert_int_equal(
            extract_result_to_json(&r, json_string_value(json_object_get(ex, "id")), 0, &js), SP_OK);
        json_t *pred = json_loads(js, 0, NULL);
        assert_non_null(pred);
        sc_add(&t, json_object_get(ex, "expect"), pred);
        json_decref(pred);
        free(js);
        json_decref(ex);
        n++;
    }
    free(line);
    fclose(f);
    extract_engine_destroy(e);
    printf("# %s: %d examples\n", path, n);
    double macro = sc_report(&t, stdout);
    assert_true(n >= 40);
    assert_true(macro >= 0.90);
}

static void test_dev_macro_f1(void **state)
{
    (void)state;
    eval_file("tests/data/extraction/dev.jsonl");
}

static void test_extra_macro_f1(void **state)
{
    (void)state;
    eval_file("tests/data/extraction/extra.jsonl");
}

static void test_paraphrase_macro_f1(void **state)
{
    (void)state;
    eval_file("tests/data/extraction/paraphrase.jsonl");
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_dev_macro_f1),
        cmocka_unit_test(test_extra_macro_f1), cmocka_unit_test(test_paraphrase_macro_f1)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
