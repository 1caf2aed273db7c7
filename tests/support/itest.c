/* itest.c - integration test helpers. */
#include "itest.h"

#include "bus.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

const char *itest_env(const char *name)
{
    const char *v = getenv(name);
    if (v == NULL || *v == '\0') {
        fprintf(stderr, "%s is not set: run integration tests through tests/integration/run.sh\n", name);
        exit(1);
    }
    return v;
}

char *itest_unique(const char *prefix)
{
    static int n;
    char buf[256];
    snprintf(buf, sizeof buf, "%s-%d-%d", prefix, (int)getpid(), ++n);
    return strdup(buf);
}

int itest_sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    const char *root = getenv("SP_ROOT");
    char full[2300];
    snprintf(full, sizeof full, "cd '%s' && %s", root ? root : ".", cmd);
    int rc = system(full);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static PGconn *conn(void)
{
    PGconn *c = PQconnectdb(itest_env("SP_PG_URL"));
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "itest: %s", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    return c;
}

int itest_sql(const char *sql)
{
    PGconn *c = conn();
    if (c == NULL) return -1;
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok) fprintf(stderr, "itest sql: %s", PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(c);
    return ok ? 0 : -1;
}

long long itest_sql_int(const char *sql)
{
    PGconn *c = conn();
    if (c == NULL) return -1;
    PGresult *r = PQexec(c, sql);
    long long v = -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    else if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fprintf(stderr, "itest sql: %s", PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(c);
    return v;
}

int itest_topics(const char *const *topics, int partitions)
{
    char err[512];
    if (bus_topics_create(itest_env("SP_KAFKA_BOOTSTRAP"), topics, partitions, 1, 15000, err, sizeof err)
        != 0) {
        fprintf(stderr, "itest topics: %s\n", err);
        return -1;
    }
    return 0;
}
