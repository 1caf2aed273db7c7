/* memo.h - the fact queries of one transaction, each run once, pipelined.
 *
 * Scoring an event reads its facts with a handful of small queries, and the
 * round trips, not the queries, bounded sp-score (about four per event, one
 * at a time). While a batch's transaction evaluates, the rows its queries
 * read stand still (score_batch_prepare recorded the whole batch before the
 * first evaluation; the states are written back only at the end), so a
 * query's result is a function of its text and parameters: the memo keeps
 * each result by (statement, parameters) for the rest of the transaction.
 *
 * Collecting mode turns the reads into pipelines: a miss is queued instead of
 * run and answered SP_EAGAIN; score_memo_run sends every queued statement in
 * one pipeline (sp_db_exec_many). A dry run of a batch's evaluations with
 * collecting on, repeated while it queues something (a query that needs an
 * earlier one's result is asked for in the next round), leaves the real
 * evaluation with results only. A query the dry run could not foresee is
 * simply run when it is asked for.
 *
 * Results are owned by the memo and valid until score_memo_reset. */
#ifndef SCORE_MEMO_H
#define SCORE_MEMO_H

#include "db.h"
#include "err.h"

#include <stddef.h>

/* Results kept per transaction at most; past it queries run unkept. */
#define SCORE_MEMO_MAX 16384

typedef struct score_memo score_memo;

/* Caller frees with score_memo_destroy. SP_ENOMEM. */
sp_err score_memo_new(score_memo **out);
void score_memo_destroy(score_memo *m);

/* Forgets every result and queued statement (a transaction ends): results
 * handed out before are freed. */
void score_memo_reset(score_memo *m);

/* Collecting mode on (1) or off (0). */
void score_memo_collect(score_memo *m, int on);

/* The result of sql with params, borrowed (valid until score_memo_reset):
 * SP_OK with *res when kept; otherwise, collecting, the statement is queued
 * and SP_EAGAIN returned; not collecting, it is run now (sp_db_exec) and
 * kept. SP_EFULL when SCORE_MEMO_MAX results are kept and it is not one of
 * them (the caller runs it itself); SP_EDB / SP_EDBDOWN, SP_ENOMEM. sql is
 * kept by pointer: a static string. */
sp_err score_memo_exec(
    score_memo *m, sp_db *db, const char *sql, int nparams, const char *const *params, PGresult **res);

/* Statements queued and not yet run. */
size_t score_memo_pending(const score_memo *m);

/* Runs every queued statement in one pipeline and keeps the results.
 * Several entries of one statement go as one statement, its set form
 * (score_memo_group_sql): the server runs a plan per statement, and a
 * batch asks the same few statements thousands of times. On
 * an error (SP_EDB / SP_EDBDOWN, as sp_db_exec_many) the queue is dropped
 * and the transaction is aborted. SP_ENOMEM. */
sp_err score_memo_run(score_memo *m, sp_db *db);

/* Since the last reset: statements run, and answers from kept results. */
void score_memo_stats(const score_memo *m, unsigned long *runs, unsigned long *hits);

/* Since the last reset: statements answered through a set form. */
unsigned long score_memo_grouped(const score_memo *m);

/* The set form of sql (nparams of 1..99): sql run once for each row of
 * its parameters given as text arrays ($k is the k-th parameter's
 * array, the same length each), each output row led by its row's number
 * (1-based), rows of one number in sql's own order. Parameters become text
 * values: sql must cast $k where text would not do (it does so in sp-score
 * already: "$2::bigint"). Into *out (caller frees). SP_EINVAL when sql has
 * none: several statements, dollar quoting, a backslash (E'' strings), a
 * comment, an unclosed quote, a $k past nparams. SP_ENOMEM. A set form the
 * server refuses is not used again by that memo (score_memo_run warns). */
sp_err score_memo_group_sql(const char *sql, int nparams, char **out);

/* A PostgreSQL text[] literal of vals (NULL entries are SQL NULLs) into
 * *out (caller frees). SP_EINVAL, SP_ENOMEM. */
sp_err score_memo_array_literal(const char *const *vals, size_t n, char **out);

#endif
