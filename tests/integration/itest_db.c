/* The database layer against a real PostgreSQL: pipelined reads
 * (sp_db_exec_many) in order across chunks, a failing statement in a later
 * chunk reported with nothing handed out and the connection usable after
 * the rollback; sp-score's query memo on top of it; score_ms inlining
 * (migration 0018); commits of aborted transactions and lock timeouts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "db.h"
#include "err.h"
#include "itest.h"
#include "score/memo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_STMTS (2 * SP_DB_PIPELINE_CHUNK + 44) /* three chunks */

static sp_db *DB;

static int setup(void **state)
{
    (void)state;
    assert_int_equal(sp_db_open(itest_env("SP_PG_URL"), &DB), SP_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sp_db_destroy(DB);
    return 0;
}

static const char SQL_ECHO[] = "SELECT $1::int * 2, $2::text";
static const char SQL_DIV[] = "SELECT 100 / $1::int";

/* Results come back in statement order, one per statement, across chunks. */
static void test_exec_many_in_order(void **state)
{
    (void)state;
    sp_db_stmt st[N_STMTS];
    PGresult *res[N_STMTS];
    char v[N_STMTS][16];
    const char *p[N_STMTS][2];
    for (int i = 0; i < N_STMTS; i++) {
        snprintf(v[i], sizeof v[i], "%d", i);
        p[i][0] = v[i];
        p[i][1] = i % 7 ? v[i] : NULL;
        st[i] = (sp_db_stmt) {SQL_ECHO, 2, p[i]};
    }
    assert_int_equal(sp_db_begin(DB), SP_OK);
    assert_int_equal(sp_db_exec_many(DB, N_STMTS, st, res), SP_OK);
    for (int i = 0; i < N_STMTS; i++) {
        assert_non_null(res[i]);
        assert_int_equal(PQntuples(res[i]), 1);
        assert_int_equal(atoi(PQgetvalue(res[i], 0, 0)), 2 * i);
        assert_int_equal(PQgetisnull(res[i], 0, 1), i % 7 == 0);
        PQclear(res[i]);
    }
    assert_int_equal(sp_db_commit(DB), SP_OK);
}

/* A statement failing in the last chunk: SP_EDB with its message, nothing
 * handed out (earlier chunks' results freed too), the transaction aborted
 * as a single failing statement would leave it, usable after rollback. */
static void test_exec_many_error(void **state)
{
    (void)state;
    sp_db_stmt st[N_STMTS];
    PGresult *res[N_STMTS];
    const char *one[1] = {"1"}, *zero[1] = {"0"};
    for (int i = 0; i < N_STMTS; i++)
        st[i] = (sp_db_stmt) {SQL_DIV, 1, i == N_STMTS - 3 ? zero : one};
    assert_int_equal(sp_db_begin(DB), SP_OK);
    assert_int_equal(sp_db_exec_many(DB, N_STMTS, st, res), SP_EDB);
    for (int i = 0; i < N_STMTS; i++)
        assert_null(res[i]);
    assert_non_null(strstr(sp_db_errmsg(DB), "division by zero"));
    assert_int_not_equal(sp_db_exec(DB, SQL_DIV, 1, one, NULL), SP_OK); /* aborted */
    sp_db_rollback(DB);
    PGresult *r = NULL;
    assert_int_equal(sp_db_exec(DB, SQL_DIV, 1, one, &r), SP_OK);
    assert_string_equal(PQgetvalue(r, 0, 0), "100");
    PQclear(r);
    assert_int_equal(sp_db_exec_many(DB, 0, st, res), SP_OK); /* nothing to run */
}

/* The memo: asked for, run in one pipeline, then answered from what it
 * kept (the same result object); not collecting, a miss runs at once. */
static void test_memo_round(void **state)
{
    (void)state;
    score_memo *m = NULL;
    assert_int_equal(score_memo_new(&m), SP_OK);
    const char *p[2][2] = {{"21", "a"}, {"5", NULL}};
    PGresult *r = NULL, *again = NULL;
    score_memo_collect(m, 1);
    for (int i = 0; i < 2; i++)
        assert_int_equal(score_memo_exec(m, DB, SQL_ECHO, 2, p[i], &r), SP_EAGAIN);
    assert_int_equal(score_memo_run(m, DB), SP_OK);
    assert_int_equal(score_memo_pending(m), 0);
    assert_int_equal(score_memo_exec(m, DB, SQL_ECHO, 2, p[0], &r), SP_OK);
    assert_string_equal(PQgetvalue(r, 0, 0), "42");
    assert_int_equal(score_memo_exec(m, DB, SQL_ECHO, 2, p[0], &again), SP_OK);
    assert_ptr_equal(r, again);
    assert_int_equal(score_memo_exec(m, DB, SQL_ECHO, 2, p[1], &r), SP_OK);
    assert_true(PQgetisnull(r, 0, 1));
    score_memo_collect(m, 0);
    const char *q[2] = {"4", "b"};
    assert_int_equal(score_memo_exec(m, DB, SQL_ECHO, 2, q, &r), SP_OK); /* run now */
    assert_string_equal(PQgetvalue(r, 0, 0), "8");
    unsigned long runs = 0, hits = 0;
    score_memo_stats(m, &runs, &hits);
    assert_int_equal(runs, 3);
    assert_int_equal(hits, 3);
    /* a failing run: the error, the queue dropped, the kept results kept */
    const char *zero[1] = {"0"};
    assert_int_equal(sp_db_begin(DB), SP_OK);
    score_memo_collect(m, 1);
    assert_int_equal(score_memo_exec(m, DB, SQL_DIV, 1, zero, &r), SP_EAGAIN);
    assert_int_equal(score_memo_run(m, DB), SP_EDB);
    assert_int_equal(score_memo_pending(m), 0);
    assert_int_equal(score_memo_exec(m, DB, SQL_ECHO, 2, q, &r), SP_OK);
    assert_string_equal(PQgetvalue(r, 0, 0), "8");
    score_memo_collect(m, 0);
    sp_db_rollback(DB);
    score_memo_destroy(m);
}

/* Several entries of one statement run as its set form: each gets the rows
 * (in the statement's order), columns (names, types) and NULLs it would
 * have got alone, also none at all; values with quotes, backslashes,
 * braces and commas and SQL NULLs travel intact; ten parameters. */
static const char SQL_ROWS[]
    = "SELECT g AS n, $2::text AS label, CASE WHEN g = 2 THEN NULL ELSE $1 END AS v, "
      "$3::bigint + g AS big, $4::text || $5 || $6 || $7 || $8 || $9 || $10 AS tail "
      "FROM generate_series(1, $3::int) g ORDER BY g DESC";

static void test_memo_grouped(void **state)
{
    (void)state;
    const char *p[4][10] = {
        {"a\"b", "x,y", "3", "1", "2", "3", "4", "5", "6", "7"},
        {"{}\\", NULL, "0", "1", "2", "3", "4", "5", "6", "7"}, /* no rows */
        {NULL, "王", "2", "a", "b", "c", "d", "e", "f", "g"},
        {"", " NULL ", "1", "1", "2", "3", "4", "5", "6", NULL},
    };
    score_memo *m = NULL;
    assert_int_equal(score_memo_new(&m), SP_OK);
    assert_int_equal(sp_db_begin(DB), SP_OK);
    score_memo_collect(m, 1);
    PGresult *r = NULL;
    for (int i = 0; i < 4; i++)
        assert_int_equal(score_memo_exec(m, DB, SQL_ROWS, 10, p[i], &r), SP_EAGAIN);
    assert_int_equal(score_memo_exec(m, DB, SQL_ECHO, 2, (const char *[]) {"4", "b"}, &r), SP_EAGAIN);
    assert_int_equal(score_memo_run(m, DB), SP_OK);
    score_memo_collect(m, 0);
    assert_int_equal(score_memo_grouped(m), 4); /* SQL_ECHO alone: run as it is */
    for (int i = 0; i < 4; i++) {
        PGresult *alone = NULL;
        assert_int_equal(sp_db_exec(DB, SQL_ROWS, 10, p[i], &alone), SP_OK);
        assert_int_equal(score_memo_exec(m, DB, SQL_ROWS, 10, p[i], &r), SP_OK);
        assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
        assert_int_equal(PQnfields(r), PQnfields(alone));
        assert_int_equal(PQntuples(r), PQntuples(alone));
        assert_int_equal(PQntuples(r), atoi(p[i][2]));
        for (int f = 0; f < PQnfields(alone); f++) {
            assert_string_equal(PQfname(r, f), PQfname(alone, f));
            assert_int_equal(PQftype(r, f), PQftype(alone, f));
        }
        for (int row = 0; row < PQntuples(alone); row++)
            for (int f = 0; f < PQnfields(alone); f++) {
                assert_int_equal(PQgetisnull(r, row, f), PQgetisnull(alone, row, f));
                assert_string_equal(PQgetvalue(r, row, f), PQgetvalue(alone, row, f));
            }
        PQclear(alone);
    }
    assert_int_equal(score_memo_exec(m, DB, SQL_ROWS, 10, p[0], &r), SP_OK);
    assert_string_equal(PQgetvalue(r, 0, 0), "3"); /* the statement's own order */
    assert_string_equal(PQgetvalue(r, 0, 2), "a\"b");
    assert_true(PQgetisnull(r, 1, 2));
    assert_int_equal(score_memo_exec(m, DB, SQL_ROWS, 10, p[3], &r), SP_OK);
    assert_true(PQgetisnull(r, 0, 4)); /* a NULL in the tenth */
    assert_string_equal(PQgetvalue(r, 0, 1), " NULL ");
    assert_int_equal(score_memo_exec(m, DB, SQL_ECHO, 2, (const char *[]) {"4", "b"}, &r), SP_OK);
    assert_string_equal(PQgetvalue(r, 0, 0), "8");
    sp_db_rollback(DB);
    /* a set form the server refuses where the statement alone runs (an
     * uncast parameter whose type text will not do for): that run fails,
     * the next runs the entries one by one */
    static const char SQL_PLUS[] = "SELECT $1 + 1";
    const char *two[1] = {"2"};
    score_memo_reset(m);
    score_memo_collect(m, 1);
    for (int pass = 0; pass < 2; pass++) { /* refused, then one by one */
        for (int i = 0; i < 2; i++)
            assert_int_equal(
                score_memo_exec(m, DB, SQL_PLUS, 1, i ? two : (const char *[]) {"1"}, &r), SP_EAGAIN);
        assert_int_equal(score_memo_run(m, DB), pass ? SP_OK : SP_EDB);
    }
    assert_int_equal(score_memo_grouped(m), 0);
    assert_int_equal(score_memo_exec(m, DB, SQL_PLUS, 1, two, &r), SP_OK);
    assert_string_equal(PQgetvalue(r, 0, 0), "3");
    score_memo_collect(m, 0);
    score_memo_destroy(m);
}

/* score_ms is inlined into the queries calling it (no function of its own
 * per row) and gives the same milliseconds as before. */
static void test_score_ms_inlined(void **state)
{
    (void)state;
    PGresult *r = NULL;
    assert_int_equal(
        sp_db_exec(DB,
            "SELECT score_ms('2026-03-01 12:00:00.123+08'), "
            "round(extract(epoch FROM '2026-03-01 12:00:00.123+08'::timestamptz) * 1000)::bigint",
            0, NULL, &r),
        SP_OK);
    assert_string_equal(PQgetvalue(r, 0, 0), "1772337600123");
    assert_string_equal(PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1));
    PQclear(r);
    assert_int_equal(sp_db_exec(DB, "EXPLAIN VERBOSE SELECT score_ms(now())", 0, NULL, &r), SP_OK);
    int calls = 0;
    for (int i = 0; i < PQntuples(r); i++)
        if (strstr(PQgetvalue(r, i, 0), "score_ms(")) calls++;
    assert_int_equal(calls, 0);
    PQclear(r);
}

/* A commit after a failed statement the caller went on from: PostgreSQL
 * rolls back without an error of its own; sp_db_commit says SP_EDB. */
static void test_commit_of_aborted_transaction_fails(void **state)
{
    (void)state;
    const char *zero[1] = {"0"};
    assert_int_equal(sp_db_begin(DB), SP_OK);
    assert_int_equal(sp_db_exec(DB, SQL_DIV, 1, zero, NULL), SP_EDB);
    assert_int_equal(sp_db_commit(DB), SP_EDB);
    assert_non_null(strstr(sp_db_errmsg(DB), "rolled back"));
    assert_int_equal(sp_db_begin(DB), SP_OK); /* usable again */
    assert_int_equal(sp_db_commit(DB), SP_OK);
}

/* A lock not granted within lock_timeout is transient (SP_EDBDOWN: retry),
 * not the statement's fault (SP_EDB: dead-letter): another transaction held
 * the row. Likewise a cancelled statement. */
static void test_lock_timeout_is_transient(void **state)
{
    (void)state;
    assert_int_equal(
        sp_db_exec(DB, "CREATE TABLE IF NOT EXISTS itest_locked (id int PRIMARY KEY)", 0, NULL, NULL), SP_OK);
    assert_int_equal(
        sp_db_exec(DB, "INSERT INTO itest_locked VALUES (1) ON CONFLICT DO NOTHING", 0, NULL, NULL), SP_OK);
    PGconn *other = PQconnectdb(itest_env("SP_PG_URL"));
    assert_int_equal(PQstatus(other), CONNECTION_OK);
    PGresult *r = PQexec(other, "BEGIN; SELECT * FROM itest_locked WHERE id = 1 FOR UPDATE");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    PQclear(r);
    assert_int_equal(sp_db_begin(DB), SP_OK);
    assert_int_equal(sp_db_exec(DB, "SET LOCAL lock_timeout = '100ms'", 0, NULL, NULL), SP_OK);
    assert_int_equal(
        sp_db_exec(DB, "UPDATE itest_locked SET id = 1 WHERE id = 1", 0, NULL, NULL), SP_EDBDOWN);
    sp_db_rollback(DB);
    assert_int_equal(sp_db_begin(DB), SP_OK);
    assert_int_equal(sp_db_exec(DB, "SET LOCAL statement_timeout = '50ms'", 0, NULL, NULL), SP_OK);
    assert_int_equal(sp_db_exec(DB, "SELECT pg_sleep(1)", 0, NULL, NULL), SP_EDBDOWN);
    sp_db_rollback(DB);
    PQclear(PQexec(other, "ROLLBACK"));
    PQfinish(other);
    assert_int_equal(sp_db_exec(DB, "DROP TABLE itest_locked", 0, NULL, NULL), SP_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exec_many_in_order),
        cmocka_unit_test(test_exec_many_error),
        cmocka_unit_test(test_memo_round),
        cmocka_unit_test(test_memo_grouped),
        cmocka_unit_test(test_score_ms_inlined),
        cmocka_unit_test(test_commit_of_aborted_transaction_fails),
        cmocka_unit_test(test_lock_timeout_is_transient),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
