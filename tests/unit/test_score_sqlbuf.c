/* Unit tests of services/score/sqlbuf.c: PostgreSQL array literals built
 * from arbitrary ids (quotes, backslashes, commas and braces escaped). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "score/sqlbuf.h"

#include <string.h>

static void test_literals(void **state)
{
    (void)state;
    static const struct {
        const char *items[4];
        int raw;
        const char *want;
    } cases[] = {
        {{NULL}, 0, "{}"},
        {{"C1", NULL}, 0, "{\"C1\"}"},
        {{"a", "b,c", "{d}", NULL}, 0, "{\"a\",\"b,c\",\"{d}\"}"},
        {{"say \"hi\"", "back\\slash", NULL}, 0, "{\"say \\\"hi\\\"\",\"back\\\\slash\"}"},
        {{"王校长", "", NULL}, 0, "{\"王校长\",\"\"}"},
        {{"1", "-2", "t", NULL}, 1, "{1,-2,t}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        score_sqlbuf b = {0};
        score_sqlbuf_puts(&b, "{");
        for (size_t k = 0; cases[i].items[k]; k++)
            score_sqlbuf_elem(&b, cases[i].items[k], cases[i].raw);
        score_sqlbuf_puts(&b, "}");
        assert_false(b.oom);
        assert_string_equal(b.p, cases[i].want);
        score_sqlbuf_free(&b);
        assert_null(b.p);
    }
}

static void test_grows(void **state)
{
    (void)state;
    score_sqlbuf b = {0};
    score_sqlbuf_puts(&b, "{");
    for (int i = 0; i < 20000; i++)
        score_sqlbuf_elem(&b, "customer-0123456789", 0);
    score_sqlbuf_puts(&b, "}");
    assert_false(b.oom);
    assert_int_equal(b.n, 2 + 20000 * 21 + 19999);
    assert_int_equal(strlen(b.p), b.n);
    score_sqlbuf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literals),
        cmocka_unit_test(test_grows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
