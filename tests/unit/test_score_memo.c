/* test_score_memo.c - the query memo's keys, queue and limits (no server:
 * collecting mode never runs a statement; a run against an unreachable
 * server shows the failure path). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "score/memo.h"

static const char SQL_A[] = "SELECT $1, $2";
static const char SQL_B[] = "SELECT $1, $2"; /* same text, another statement */

static sp_db *unreachable(void)
{
    sp_db *db = NULL;
    int rv = sp_db_open("postgresql://127.0.0.1:1/none?connect_timeout=1", &db);
    assert_int_equal(rv, SP_EDBDOWN);
    assert_non_null(db);
    return db;
}

static sp_err ask(score_memo *m, sp_db *db, const char *sql, const char *a, const char *b)
{
    const char *p[2] = {a, b};
    PGresult *r = NULL;
    return score_memo_exec(m, db, sql, 2, p, &r);
}

/* Every distinct (statement, parameters) is queued once; SQL NULL differs
 * from "", and parameter boundaries count. */
static void test_keys_queue_once(void **state)
{
    (void)state;
    sp_db *db = unreachable();
    score_memo *m = NULL;
    assert_int_equal(score_memo_new(&m), SP_OK);
    score_memo_collect(m, 1);
    assert_int_equal(ask(m, db, SQL_A, "1", NULL), SP_EAGAIN);
    assert_int_equal(ask(m, db, SQL_A, "1", NULL), SP_EAGAIN);
    assert_int_equal(score_memo_pending(m), 1);
    assert_int_equal(ask(m, db, SQL_A, "1", ""), SP_EAGAIN);
    assert_int_equal(ask(m, db, SQL_A, "12", "3"), SP_EAGAIN);
    assert_int_equal(ask(m, db, SQL_A, "1", "23"), SP_EAGAIN);
    assert_int_equal(ask(m, db, SQL_B, "1", NULL), SP_EAGAIN);
    assert_int_equal(score_memo_pending(m), 5);
    /* leaving collecting mode drops what never ran: asked again, queued again */
    score_memo_collect(m, 0);
    assert_int_equal(score_memo_pending(m), 0);
    score_memo_collect(m, 1);
    assert_int_equal(ask(m, db, SQL_A, "1", NULL), SP_EAGAIN);
    assert_int_equal(score_memo_pending(m), 1);
    score_memo_destroy(m);
    sp_db_destroy(db);
}

/* A failed run drops the queue and reports the database error; the memo
 * stays usable. Not collecting, a miss runs at once and its error comes
 * back (nothing kept). */
static void test_run_fails_cleanly(void **state)
{
    (void)state;
    sp_db *db = unreachable();
    score_memo *m = NULL;
    assert_int_equal(score_memo_new(&m), SP_OK);
    score_memo_collect(m, 1);
    for (int i = 0; i < 300; i++) { /* more than one pipeline chunk */
        char v[16];
        snprintf(v, sizeof v, "%d", i);
        assert_int_equal(ask(m, db, SQL_A, v, "x"), SP_EAGAIN);
    }
    assert_int_equal(score_memo_pending(m), 300);
    assert_int_equal(score_memo_run(m, db), SP_EDBDOWN);
    assert_int_equal(score_memo_pending(m), 0);
    assert_int_equal(ask(m, db, SQL_A, "7", "x"), SP_EAGAIN); /* queued afresh */
    score_memo_collect(m, 0);
    assert_int_equal(ask(m, db, SQL_A, "7", "x"), SP_EDBDOWN);
    assert_int_equal(ask(m, db, SQL_A, "7", "x"), SP_EDBDOWN); /* not kept as a result */
    unsigned long runs = 1, hits = 1;
    score_memo_stats(m, &runs, &hits);
    assert_int_equal(runs, 0);
    assert_int_equal(hits, 0);
    score_memo_destroy(m);
    sp_db_destroy(db);
}

/* Past SCORE_MEMO_MAX entries a new key is refused (the caller runs it
 * itself); keys already in are still answered; a reset empties it. */
static void test_full(void **state)
{
    (void)state;
    sp_db *db = unreachable();
    score_memo *m = NULL;
    assert_int_equal(score_memo_new(&m), SP_OK);
    score_memo_collect(m, 1);
    char v[16];
    for (int i = 0; i < SCORE_MEMO_MAX; i++) {
        snprintf(v, sizeof v, "%d", i);
        assert_int_equal(ask(m, db, SQL_A, v, NULL), SP_EAGAIN);
    }
    assert_int_equal(ask(m, db, SQL_A, "new", NULL), SP_EFULL);
    assert_int_equal(ask(m, db, SQL_A, "0", NULL), SP_EAGAIN);
    score_memo_reset(m);
    assert_int_equal(score_memo_pending(m), 0);
    assert_int_equal(ask(m, db, SQL_A, "new", NULL), SP_EAGAIN);
    score_memo_destroy(m);
    score_memo_destroy(NULL);
    sp_db_destroy(db);
}

/* The set form: every $k outside quotes becomes its array's value (two
 * digits too), the result rows led by their number; what it cannot carry
 * is refused. */
static void test_group_sql(void **state)
{
    (void)state;
    char *out = NULL;
    assert_int_equal(score_memo_group_sql("SELECT x FROM t WHERE a = $1 AND b > $2::bigint", 2, &out), SP_OK);
    assert_string_equal(out,
        "SELECT sp_q.sp_i, sp_r.* FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS sp_q(sp_p1, sp_p2, "
        "sp_i) CROSS JOIN LATERAL (SELECT x FROM t WHERE a = sp_q.sp_p1 AND b > sp_q.sp_p2::bigint) sp_r");
    free(out);
    /* $10 is the tenth, not the first followed by 0; quoted text is left alone */
    assert_int_equal(
        score_memo_group_sql("SELECT $10, '$1', \"$2\", 'it''s $3' FROM t WHERE a = $1", 10, &out), SP_OK);
    assert_non_null(
        strstr(out, "(SELECT sp_q.sp_p10, '$1', \"$2\", 'it''s $3' FROM t WHERE a = sp_q.sp_p1)"));
    assert_non_null(strstr(out,
        "$10::text[]) WITH ORDINALITY AS sp_q(sp_p1, sp_p2, sp_p3, sp_p4, sp_p5, sp_p6, "
        "sp_p7, sp_p8, sp_p9, sp_p10, sp_i)"));
    free(out);
    out = (char *)1;
    assert_int_equal(score_memo_group_sql("SELECT $3", 2, &out), SP_EINVAL); /* past nparams */
    assert_null(out);
    assert_int_equal(score_memo_group_sql("SELECT $0", 2, &out), SP_EINVAL);
    assert_int_equal(score_memo_group_sql("SELECT $$a$$, $1", 1, &out), SP_EINVAL); /* dollar quoting */
    assert_int_equal(score_memo_group_sql("SELECT $1; SELECT 2", 1, &out), SP_EINVAL);
    assert_int_equal(score_memo_group_sql("SELECT 'open, $1", 1, &out), SP_EINVAL);
    assert_int_equal(score_memo_group_sql("SELECT E'it\\'s $1', $1", 1, &out), SP_EINVAL); /* escapes */
    assert_int_equal(score_memo_group_sql("SELECT $1 -- a '$1'\n", 1, &out), SP_EINVAL);
    assert_int_equal(score_memo_group_sql("SELECT /* ' */ $1", 1, &out), SP_EINVAL);
    assert_int_equal(score_memo_group_sql("SELECT $1, $99999999999999999999", 99, &out), SP_EINVAL);
    assert_int_equal(score_memo_group_sql("SELECT 1", 0, &out), SP_EINVAL);
    assert_int_equal(score_memo_group_sql(NULL, 1, &out), SP_EINVAL);
}

/* text[] literals: NULL unquoted, everything else quoted with its quotes
 * and backslashes escaped (commas, braces, spaces, UTF-8 as they are). */
static void test_array_literal(void **state)
{
    (void)state;
    const char *v[] = {"a", NULL, "", "say \"hi\"", "c:\\x", "{,}", " NULL ", "王校长"};
    char *out = NULL;
    assert_int_equal(score_memo_array_literal(v, 8, &out), SP_OK);
    assert_string_equal(
        out, "{\"a\",NULL,\"\",\"say \\\"hi\\\"\",\"c:\\\\x\",\"{,}\",\" NULL \",\"王校长\"}");
    free(out);
    assert_int_equal(score_memo_array_literal(NULL, 0, &out), SP_OK);
    assert_string_equal(out, "{}");
    free(out);
    assert_int_equal(score_memo_array_literal(NULL, 1, &out), SP_EINVAL);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    score_memo *m = NULL;
    assert_int_equal(score_memo_new(&m), SP_OK);
    PGresult *r = NULL;
    assert_int_equal(score_memo_exec(m, NULL, SQL_A, 0, NULL, &r), SP_EINVAL);
    assert_int_equal(score_memo_exec(NULL, NULL, SQL_A, 0, NULL, &r), SP_EINVAL);
    assert_int_equal(score_memo_run(m, NULL), SP_EINVAL);
    score_memo_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_queue_once),
        cmocka_unit_test(test_run_fails_cleanly),
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_group_sql),
        cmocka_unit_test(test_array_literal),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
