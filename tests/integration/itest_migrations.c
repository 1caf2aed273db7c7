/* Migrations against a real PostgreSQL: applied to an empty database,
 * applied again (a no-op), a failing migration leaves the schema as it
 * was, and the planner settings they make hold. Each case uses a database
 * of its own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "db.h"
#include "err.h"
#include "itest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Creates a fresh database and returns a URL to it (malloc'd). */
static char *fresh_db(const char *name)
{
    char sql[256];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", name);
    assert_int_equal(itest_sql(sql), 0);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
    assert_int_equal(itest_sql(sql), 0);
    const char *base = itest_env("SP_PG_URL");
    const char *slash = strrchr(base, '/');
    char *url = malloc(strlen(base) + strlen(name) + 2);
    sprintf(url, "%.*s/%s", (int)(slash - base), base, name);
    return url;
}

static long long q_int(sp_db *db, const char *sql)
{
    PGresult *r = NULL;
    assert_int_equal(sp_db_exec(db, sql, 0, NULL, &r), SP_OK);
    long long v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return v;
}

/* Opens a fresh database called name (its URL into *url, malloc'd) with
 * the project's migrations applied from *dir (filled); how many into
 * *applied. */
static sp_db *migrated_db(const char *name, char **url, char *dir, size_t dirlen, int *applied)
{
    char err[512];
    sp_db *db = NULL;
    *url = fresh_db(name);
    assert_int_equal(sp_db_open(*url, &db), SP_OK);
    snprintf(dir, dirlen, "%s/deploy/sql", itest_env("SP_ROOT"));
    *applied = -1;
    assert_int_equal(sp_db_migrate(db, dir, applied, err, sizeof err), SP_OK);
    return db;
}

static void test_apply_twice(void **state)
{
    (void)state;
    char *url, dir[1024], err[512];
    int applied;
    sp_db *db = migrated_db("itest_mig_twice", &url, dir, sizeof dir, &applied);
    assert_true(applied >= 1);
    long long versions = q_int(db, "SELECT count(*) FROM schema_migrations");
    assert_int_equal(versions, applied);
    assert_int_equal(
        q_int(db, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'people'"), 1);
    assert_int_equal(sp_db_migrate(db, dir, &applied, err, sizeof err), SP_OK);
    assert_int_equal(applied, 0);
    assert_int_equal(q_int(db, "SELECT count(*) FROM schema_migrations"), versions);
    sp_db_destroy(db);
    free(url);
}

/* 0023: ANALYZE samples no statistics for the interaction columns no
 * query filters on (the jsonb extraction sorted slowly), in every
 * partition, and keeps them for the columns queries do filter on. */
static void test_interactions_analyze_skips_unqueried_columns(void **state)
{
    (void)state;
    char *url, dir[1024];
    int applied;
    sp_db *db = migrated_db("itest_mig_stats", &url, dir, sizeof dir, &applied);
    long long parts
        = q_int(db, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'interactions'::regclass");
    assert_true(parts >= 2);
    /* the parent and each partition: four columns off, the rest default */
    assert_int_equal(q_int(db,
                         "SELECT count(*) FROM pg_attribute WHERE attstattarget = 0 AND attrelid IN "
                         "(SELECT 'interactions'::regclass UNION SELECT inhrelid FROM pg_inherits WHERE "
                         "inhparent = 'interactions'::regclass) AND attname IN "
                         "('extraction', 'text', 'source', 'external_id')"),
        4 * (parts + 1));
    assert_int_equal(
        q_int(db,
            "SELECT count(*) FROM pg_attribute WHERE attrelid = 'interactions'::regclass AND attnum > 0 AND "
            "attstattarget = 0 AND attname NOT IN ('extraction', 'text', 'source', 'external_id')"),
        0);
    assert_int_equal(sp_db_exec(db,
                         "INSERT INTO interactions (event_id, occurred_at, source, external_id, channel, "
                         "direction, customer_id, text, extraction) SELECT 'ev-' || i, "
                         "timestamptz '2026-03-01' + i * interval '1 minute', 'wecom', 'x-' || i, 'wecom', "
                         "'inbound', 'C-' || (i % 7), '预算大概五十万', jsonb_build_object('risks', "
                         "jsonb_build_array('price')) FROM generate_series(1, 200) i",
                         0, NULL, NULL),
        SP_OK);
    assert_int_equal(sp_db_exec(db, "ANALYZE interactions", 0, NULL, NULL), SP_OK);
    assert_int_equal(q_int(db,
                         "SELECT count(*) FROM pg_stats WHERE tablename LIKE 'interactions%' AND attname IN "
                         "('extraction', 'text', 'source', 'external_id')"),
        0);
    assert_true(q_int(db,
                    "SELECT count(*) FROM pg_stats WHERE tablename = 'interactions_2026' AND attname = "
                    "'customer_id'")
        == 1);
    sp_db_destroy(db);
    free(url);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_failing_migration_rolls_back(void **state)
{
    (void)state;
    char *url = fresh_db("itest_mig_fail");
    char dir[] = "/tmp/sp-mig-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/0001_good.sql", dir);
    write_file(path, "CREATE TABLE good_one (id int PRIMARY KEY);");
    snprintf(path, sizeof path, "%s/0002_bad.sql", dir);
    write_file(path,
        "CREATE TABLE half_done (id int);\nALTER TABLE good_one ADD COLUMN x int;\n"
        "INSERT INTO no_such_table VALUES (1);\n");
    snprintf(path, sizeof path, "%s/0003_after.sql", dir);
    write_file(path, "CREATE TABLE after_bad (id int);");
    snprintf(path, sizeof path, "%s/README.txt", dir); /* not a migration: ignored */
    write_file(path, "ignored");

    sp_db *db = NULL;
    assert_int_equal(sp_db_open(url, &db), SP_OK);
    char err[512] = "";
    int applied = -1;
    assert_int_equal(sp_db_migrate(db, dir, &applied, err, sizeof err), SP_EDB);
    assert_int_equal(applied, 1);
    assert_non_null(strstr(err, "0002_bad.sql"));
    assert_non_null(strstr(err, "no_such_table"));
    /* 0002 left nothing behind; 0003 never ran */
    assert_int_equal(
        q_int(db, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'half_done'"), 0);
    assert_int_equal(q_int(db,
                         "SELECT count(*) FROM information_schema.columns WHERE table_name = 'good_one' AND "
                         "column_name = 'x'"),
        0);
    assert_int_equal(
        q_int(db, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'after_bad'"), 0);
    assert_int_equal(q_int(db, "SELECT count(*) FROM schema_migrations"), 1);
    sp_db_destroy(db);
    itest_sh("rm -rf '%s'", dir);
    free(url);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apply_twice),
        cmocka_unit_test(test_failing_migration_rolls_back),
        cmocka_unit_test(test_interactions_analyze_skips_unqueried_columns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
