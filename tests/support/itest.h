/* itest.h - helpers for integration tests against the real PostgreSQL and
 * Kafka that tests/integration/run.sh starts (SP_PG_URL, SP_KAFKA_BOOTSTRAP). */
#ifndef SP_ITEST_H
#define SP_ITEST_H

#include <libpq-fe.h>
#include <stdint.h>

/* The value of an environment variable the runner sets; aborts the test
 * binary with a clear message when it is missing. */
const char *itest_env(const char *name);

/* A name unique to this process and call: "<prefix>-<pid>-<n>". Static buffer
 * per call site is not needed: the result is malloc'd (caller frees). */
char *itest_unique(const char *prefix);

/* Runs a shell command from the repository root; returns its exit status. */
int itest_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Executes SQL (no parameters) on a fresh connection; returns 0 on success. */
int itest_sql(const char *sql);

/* Returns the single integer a query yields, or -1 on error. */
long long itest_sql_int(const char *sql);

/* Creates the topics (partitions each) through the admin API; 0 on success. */
int itest_topics(const char *const *topics, int partitions);

#endif
