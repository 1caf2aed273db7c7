/* db.h - PostgreSQL access over libpq: one connection with reconnect and
 * backoff, parameterised queries only, transactions, and the migration runner.
 *
 * Errors are classified so consumers can choose RETRY or DEAD:
 *   SP_EDBDOWN  transient - connection lost or refused, server shutting
 *               down, serialization failure or deadlock, lock or statement
 *               timeout, a cancelled statement: retry later;
 *   SP_EDB      the statement itself failed (constraint, syntax, ...).
 * The message of the last error is kept in sp_db_errmsg(). A connection is
 * used by one thread at a time. */
#ifndef SP_DB_H
#define SP_DB_H

#include <libpq-fe.h>
#include <stddef.h>

typedef struct sp_db sp_db;

/* Creates a handle and tries to connect once. The handle is returned in
 * *out even when the first attempt fails (then SP_EDBDOWN is returned) so a
 * service can start and reconnect later; caller frees with sp_db_destroy. */
int sp_db_open(const char *url, sp_db **out);
void sp_db_destroy(sp_db *db);

/* Plans every prepared statement once, generically (plan_cache_mode =
 * force_generic_plan), now and after every reconnect. For services whose
 * statements run thousands of times with different values against the
 * month-partitioned tables: PostgreSQL otherwise re-plans them per call
 * (custom plans, 0.5-1 ms each - more than running them); partitions are
 * still pruned at execution. SP_EINVAL for NULL, SP_EDBDOWN if the SET
 * failed on a live connection. */
int sp_db_generic_plans(sp_db *db, int on);

/* Makes sure the connection is up, reconnecting when it is not (at most
 * once per backoff interval, 100 ms doubling to 5 s). SP_OK or SP_EDBDOWN. */
int sp_db_ensure(sp_db *db);

/* Runs one parameterised statement (text parameters; NULL entry = SQL NULL).
 * Each distinct text is prepared once per connection and then run
 * prepared (parsed and planned once; SP_DB_PREPARE=0 turns this off).
 * On success, when res is not NULL, *res holds the result (caller frees with
 * PQclear); otherwise the result is cleared. */
int sp_db_exec(sp_db *db, const char *sql, int nparams, const char *const *params, PGresult **res);

/* Prepares sql on this connection unless it is already (what sp_db_exec
 * does on first use), so sp_db_pipeline_send can send it prepared. */
int sp_db_prepare(sp_db *db, const char *sql, int nparams);

/* Pipeline mode (libpq): statements queued with sp_db_pipeline_send are
 * sent without waiting for each result; sp_db_pipeline_end syncs, reads
 * every result and leaves pipeline mode, returning the first error
 * (SP_EDB / SP_EDBDOWN, message in sp_db_errmsg). Results are discarded:
 * for writes only. Inside an explicit transaction an error aborts it (the
 * caller rolls back). Keep a pipeline to some dozens of statements. A
 * statement not yet prepared (sp_db_prepare) is sent unprepared. */
int sp_db_pipeline_begin(sp_db *db);
int sp_db_pipeline_send(sp_db *db, const char *sql, int nparams, const char *const *params);
int sp_db_pipeline_end(sp_db *db);

/* One statement of sp_db_exec_many. */
typedef struct sp_db_stmt {
    const char *sql;
    int nparams;
    const char *const *params;
} sp_db_stmt;

/* Runs n statements (reads) pipelined, SP_DB_PIPELINE_CHUNK to a round
 * trip, each prepared first as sp_db_exec would: res[i] receives
 * statement i's result (caller frees each with PQclear). The first error
 * (SP_EDB / SP_EDBDOWN, message in sp_db_errmsg) is returned with every
 * res[i] NULL; inside a transaction it aborts it, as the same statement
 * run alone would. */
#define SP_DB_PIPELINE_CHUNK 128
int sp_db_exec_many(sp_db *db, size_t n, const sp_db_stmt *stmts, PGresult **res);

/* Transactions. Rollback never fails loudly (it is the cleanup path).
 * Commit of a transaction an earlier error aborted is SP_EDB (PostgreSQL
 * rolls it back without an error of its own). */
int sp_db_begin(sp_db *db);
int sp_db_commit(sp_db *db);
void sp_db_rollback(sp_db *db);

/* Runs a script of several statements with no parameters (migrations and
 * fixed DDL only: never with outside input). */
int sp_db_exec_script(sp_db *db, const char *sql);

const char *sp_db_errmsg(const sp_db *db);
PGconn *sp_db_conn(sp_db *db);

/* Applies every deploy/sql-style file "NNNN_name.sql" in dir not yet in
 * schema_migrations, in order, each in its own transaction together with its
 * row in schema_migrations; a failing file is rolled back (the schema stays
 * as it was) and the run stops with SP_EDB and the file named in errbuf.
 * Concurrent runners serialise on an advisory lock. *applied counts files. */
int sp_db_migrate(sp_db *db, const char *dir, int *applied, char *errbuf, size_t errlen);

#endif
