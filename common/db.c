/* db.c - libpq connection, error classification, transactions, migrations. */
#include "db.h"

#include "clock.h"
#include "err.h"
#include "log.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prepared statements by SQL text: every statement a service runs is one of
 * a few dozen fixed texts, and planning (over the monthly partitions above
 * all) costs more than running most of them. Per connection; a reconnect
 * starts empty. Texts beyond the cap run unprepared. */
#define STMT_SLOTS 1024
#define STMT_MAX   512

typedef struct stmt_entry {
    char *sql; /* NULL: free slot */
    uint64_t hash;
    int id;
} stmt_entry;

struct sp_db {
    char *url;
    PGconn *conn;
    stmt_entry *stmts; /* STMT_SLOTS, open addressing */
    int n_stmts, next_stmt_id, prepare;
    int generic_plans; /* sp_db_generic_plans: re-applied at each connect */
    int64_t next_try_ms;
    int64_t backoff_ms;
    char errmsg[512];
    int queued, pipeline_failed; /* pipeline mode */
};

#define BACKOFF_MIN_MS   100
#define BACKOFF_MAX_MS   5000
#define MIGRATE_LOCK_KEY "7426091"

static void set_err(sp_db *db, const char *msg)
{
    snprintf(db->errmsg, sizeof db->errmsg, "%s", msg ? msg : "");
    size_t n = strlen(db->errmsg);
    while (n > 0 && (db->errmsg[n - 1] == '\n' || db->errmsg[n - 1] == ' '))
        db->errmsg[--n] = '\0';
}

static void stmts_clear(sp_db *db)
{
    for (int i = 0; db->stmts && i < STMT_SLOTS; i++) {
        free(db->stmts[i].sql);
        db->stmts[i].sql = NULL;
    }
    db->n_stmts = 0;
}

/* Sets the session's plan_cache_mode from db->generic_plans. SP_OK, or
 * SP_EDBDOWN with the message kept. */
static int plan_mode_apply(sp_db *db)
{
    PGresult *r = PQexec(db->conn,
        db->generic_plans ? "SET plan_cache_mode = force_generic_plan" : "SET plan_cache_mode = auto");
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) set_err(db, PQresultErrorMessage(r));
    PQclear(r);
    return ok ? SP_OK : SP_EDBDOWN;
}

static int try_connect(sp_db *db)
{
    stmts_clear(db); /* the server forgot them with the old session */
    if (db->conn) PQfinish(db->conn);
    db->conn = PQconnectdb(db->url);
    if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) {
        set_err(db, db->conn ? PQerrorMessage(db->conn) : "out of memory");
        int64_t now = sp_wall_ms();
        db->backoff_ms = db->backoff_ms ? db->backoff_ms * 2 : BACKOFF_MIN_MS;
        if (db->backoff_ms > BACKOFF_MAX_MS) db->backoff_ms = BACKOFF_MAX_MS;
        db->next_try_ms = now + db->backoff_ms;
        return SP_EDBDOWN;
    }
    db->backoff_ms = 0;
    PQsetErrorVerbosity(db->conn, PQERRORS_TERSE);
    /* Quiet NOTICEs (e.g. "relation already exists, skipping"). */
    PGresult *r = PQexec(db->conn, "SET client_min_messages = warning");
    PQclear(r);
    /* Short OLTP statements: JIT compilation costs far more than it saves
     * (seen: 23 s compiling one bulk query over the partitioned tables). */
    r = PQexec(db->conn, "SET jit = off");
    PQclear(r);
    if (db->generic_plans) plan_mode_apply(db);
    return SP_OK;
}

int sp_db_generic_plans(sp_db *db, int on)
{
    if (db == NULL) return SP_EINVAL;
    db->generic_plans = on != 0;
    if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) return SP_OK; /* applied at connect */
    return plan_mode_apply(db);
}

int sp_db_open(const char *url, sp_db **out)
{
    sp_db *db = calloc(1, sizeof *db);
    if (db == NULL) return SP_ENOMEM;
    db->url = strdup(url ? url : "");
    db->stmts = calloc(STMT_SLOTS, sizeof *db->stmts);
    if (db->url == NULL || db->stmts == NULL) {
        free(db->url);
        free(db->stmts);
        free(db);
        return SP_ENOMEM;
    }
    /* SP_DB_PREPARE=0 turns the statement cache off (for comparisons) */
    const char *pe = getenv("SP_DB_PREPARE");
    db->prepare = !(pe && strcmp(pe, "0") == 0);
    *out = db;
    return try_connect(db);
}

void sp_db_destroy(sp_db *db)
{
    if (db == NULL) return;
    if (db->conn) PQfinish(db->conn);
    stmts_clear(db);
    free(db->stmts);
    free(db->url);
    free(db);
}

int sp_db_ensure(sp_db *db)
{
    if (db->conn && PQstatus(db->conn) == CONNECTION_OK) return SP_OK;
    if (sp_wall_ms() < db->next_try_ms) return SP_EDBDOWN;
    int rv = try_connect(db);
    if (rv == SP_OK) sp_info("database connection (re)established");
    return rv;
}

/* Transient SQLSTATEs: connection exception (08), operator intervention
 * (57P0x), insufficient resources (53), serialization failure, deadlock,
 * a lock not granted in lock_timeout (55P03) and a statement cancelled
 * (57014: statement_timeout, pg_cancel_backend). The last two were taken
 * for the statement's own fault, and a valid message went to the
 * dead-letter topic because another transaction held a row a while. */
static int transient_state(const char *st)
{
    if (st == NULL) return 1; /* no state at all: the connection broke */
    return strncmp(st, "08", 2) == 0 || strncmp(st, "57P", 3) == 0 || strncmp(st, "53", 2) == 0
        || strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0 || strcmp(st, "55P03") == 0
        || strcmp(st, "57014") == 0;
}

/* Classifies a result; clears it unless it is a success handed to the caller. */
static int check(sp_db *db, PGresult *r, PGresult **out)
{
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        if (out)
            *out = r;
        else
            PQclear(r);
        return SP_OK;
    }
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    set_err(db, r ? PQresultErrorMessage(r) : PQerrorMessage(db->conn));
    int transient = PQstatus(db->conn) != CONNECTION_OK || transient_state(state);
    PQclear(r);
    return transient ? SP_EDBDOWN : SP_EDB;
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* The slot of sql: its entry, or the free slot where it would go. */
static stmt_entry *stmt_slot(sp_db *db, const char *sql, uint64_t h)
{
    for (size_t i = h % STMT_SLOTS;; i = (i + 1) % STMT_SLOTS) {
        stmt_entry *e = &db->stmts[i];
        if (!e->sql || (e->hash == h && strcmp(e->sql, sql) == 0)) return e;
    }
}

/* The cache entry of sql, prepared on this connection on first use; NULL
 * (and SP_OK in *rv) when the cache is off or full: run it unprepared. */
static stmt_entry *stmt_prepared(sp_db *db, const char *sql, int nparams, int *rv)
{
    *rv = SP_OK;
    if (!db->prepare || nparams < 0) return NULL;
    uint64_t h = fnv1a(sql);
    stmt_entry *e = stmt_slot(db, sql, h);
    if (e->sql) return e;
    if (db->n_stmts >= STMT_MAX) return NULL;
    int id = ++db->next_stmt_id;
    char name[24];
    snprintf(name, sizeof name, "sp_%d", id);
    if ((*rv = check(db, PQprepare(db->conn, name, sql, nparams, NULL), NULL)) != SP_OK) return NULL;
    if (!(e->sql = strdup(sql))) { /* prepared but unused: harmless */
        *rv = SP_ENOMEM;
        return NULL;
    }
    e->hash = h;
    e->id = id;
    db->n_stmts++;
    return e;
}

/* Runs sql prepared once per connection (see STMT_SLOTS). The slot of a
 * statement whose cached plan the server refuses (its result type changed
 * with the schema) is retired: the next call prepares it afresh. */
int sp_db_exec(sp_db *db, const char *sql, int nparams, const char *const *params, PGresult **res)
{
    int rv = sp_db_ensure(db);
    if (rv != SP_OK) return rv;
    stmt_entry *e = stmt_prepared(db, sql, nparams, &rv);
    if (rv != SP_OK) return rv;
    if (!e) return check(db, PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0), res);
    char name[24];
    snprintf(name, sizeof name, "sp_%d", e->id);
    PGresult *r = PQexecPrepared(db->conn, name, nparams, params, NULL, NULL, 0);
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (state && strcmp(state, "0A000") == 0) e->hash ^= 1; /* never matches again */
    return check(db, r, res);
}

int sp_db_prepare(sp_db *db, const char *sql, int nparams)
{
    int rv = sp_db_ensure(db);
    if (rv == SP_OK) stmt_prepared(db, sql, nparams, &rv);
    return rv;
}

int sp_db_pipeline_begin(sp_db *db)
{
    int rv = sp_db_ensure(db);
    if (rv != SP_OK) return rv;
    if (PQenterPipelineMode(db->conn) != 1) {
        set_err(db, PQerrorMessage(db->conn));
        return SP_EDB;
    }
    db->queued = 0;
    return SP_OK;
}

int sp_db_pipeline_send(sp_db *db, const char *sql, int nparams, const char *const *params)
{
    /* never prepared inside a pipeline: after an error there, which
     * statements got prepared would be unknown (sp_db_prepare first) */
    stmt_entry *e = db->prepare ? stmt_slot(db, sql, fnv1a(sql)) : NULL;
    char name[24];
    if (e && e->sql) snprintf(name, sizeof name, "sp_%d", e->id);
    int ok = e && e->sql ? PQsendQueryPrepared(db->conn, name, nparams, params, NULL, NULL, 0)
                         : PQsendQueryParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    if (ok == 1) {
        db->queued++;
        return SP_OK;
    }
    set_err(db, PQerrorMessage(db->conn));
    db->pipeline_failed = 1;
    return PQstatus(db->conn) == CONNECTION_OK ? SP_EDB : SP_EDBDOWN;
}

int sp_db_pipeline_end(sp_db *db)
{
    int rv = db->pipeline_failed ? SP_EDB : SP_OK;
    char first[512] = "";
    if (db->pipeline_failed) snprintf(first, sizeof first, "%s", db->errmsg);
    if (PQpipelineSync(db->conn) != 1) {
        set_err(db, PQerrorMessage(db->conn));
        rv = SP_EDBDOWN;
    } else {
        /* every queued statement's results, then the sync */
        for (;;) {
            PGresult *r = PQgetResult(db->conn);
            if (r == NULL) {
                if (PQstatus(db->conn) != CONNECTION_OK) {
                    set_err(db, PQerrorMessage(db->conn));
                    rv = SP_EDBDOWN;
                    break;
                }
                continue; /* end of one statement's results */
            }
            ExecStatusType st = PQresultStatus(r);
            if (st == PGRES_PIPELINE_SYNC) {
                PQclear(r);
                break;
            }
            if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_PIPELINE_ABORTED
                && rv == SP_OK) {
                const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
                set_err(db, PQresultErrorMessage(r));
                snprintf(first, sizeof first, "%s", db->errmsg);
                rv = transient_state(state) ? SP_EDBDOWN : SP_EDB;
            }
            PQclear(r);
        }
    }
    PQexitPipelineMode(db->conn);
    db->pipeline_failed = 0;
    db->queued = 0;
    if (rv != SP_OK && first[0]) set_err(db, first);
    return rv;
}

/* Reads one synced chunk's results into res[from..to); the first error's
 * code, or SP_OK. */
static int chunk_read(sp_db *db, PGresult **res, size_t from, size_t to)
{
    int rv = SP_OK;
    for (size_t k = from;;) {
        PGresult *r = PQgetResult(db->conn);
        if (r == NULL) {
            if (PQstatus(db->conn) != CONNECTION_OK) {
                set_err(db, PQerrorMessage(db->conn));
                return SP_EDBDOWN;
            }
            continue; /* end of one statement's results */
        }
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            return rv;
        }
        if ((st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) && k < to) {
            res[k++] = r;
            continue;
        }
        if (st != PGRES_PIPELINE_ABORTED && rv == SP_OK) {
            set_err(db, PQresultErrorMessage(r));
            rv = transient_state(PQresultErrorField(r, PG_DIAG_SQLSTATE)) ? SP_EDBDOWN : SP_EDB;
        }
        k++;
        PQclear(r);
    }
}

int sp_db_exec_many(sp_db *db, size_t n, const sp_db_stmt *stmts, PGresult **res)
{
    int rv = sp_db_ensure(db);
    for (size_t i = 0; i < n; i++)
        res[i] = NULL;
    for (size_t i = 0; i < n && rv == SP_OK; i++)
        rv = sp_db_prepare(db, stmts[i].sql, stmts[i].nparams);
    /* a chunk's statements are small: they fit the socket buffers while
     * the server writes results nobody reads yet (no send/receive
     * deadlock in blocking mode) */
    for (size_t from = 0; from < n && rv == SP_OK; from += SP_DB_PIPELINE_CHUNK) {
        size_t to = n - from > SP_DB_PIPELINE_CHUNK ? from + SP_DB_PIPELINE_CHUNK : n;
        if ((rv = sp_db_pipeline_begin(db)) != SP_OK) break;
        for (size_t i = from; i < to && rv == SP_OK; i++)
            rv = sp_db_pipeline_send(db, stmts[i].sql, stmts[i].nparams, stmts[i].params);
        /* synced and read even after a failed send: pipeline mode is left
         * only with nothing pending */
        int srv = SP_EDBDOWN;
        if (PQpipelineSync(db->conn) == 1)
            srv = chunk_read(db, res, from, to);
        else
            set_err(db, PQerrorMessage(db->conn));
        if (rv == SP_OK) rv = srv;
        PQexitPipelineMode(db->conn);
        db->pipeline_failed = 0;
        db->queued = 0;
    }
    if (rv != SP_OK)
        for (size_t i = 0; i < n; i++) {
            PQclear(res[i]);
            res[i] = NULL;
        }
    return rv;
}

int sp_db_exec_script(sp_db *db, const char *sql)
{
    int rv = sp_db_ensure(db);
    if (rv != SP_OK) return rv;
    return check(db, PQexec(db->conn, sql), NULL);
}

int sp_db_begin(sp_db *db)
{
    return sp_db_exec(db, "BEGIN", 0, NULL, NULL);
}
/* A transaction an error aborted answers COMMIT with the tag ROLLBACK and
 * no error: that is a failure too, or a caller that went on after a
 * failed statement would take its work for committed. */
int sp_db_commit(sp_db *db)
{
    PGresult *r = NULL;
    int rv = sp_db_exec(db, "COMMIT", 0, NULL, &r);
    if (rv != SP_OK) return rv;
    if (strcmp(PQcmdStatus(r), "COMMIT") != 0) {
        set_err(db, "the transaction was aborted by an earlier error and rolled back");
        rv = SP_EDB;
    }
    PQclear(r);
    return rv;
}

void sp_db_rollback(sp_db *db)
{
    if (db->conn && PQstatus(db->conn) == CONNECTION_OK) PQclear(PQexec(db->conn, "ROLLBACK"));
}

const char *sp_db_errmsg(const sp_db *db)
{
    return db->errmsg;
}
PGconn *sp_db_conn(sp_db *db)
{
    return db->conn;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads a whole file; caller frees. NULL on error. */
static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    char *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL) {
            if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
                free(buf);
                buf = NULL;
            } else {
                buf[n] = '\0';
            }
        }
    }
    fclose(f);
    return buf;
}

/* Is name "NNNN_something.sql"? */
static int migration_name(const char *name)
{
    size_t n = strlen(name);
    if (n < 9 || strcmp(name + n - 4, ".sql") != 0) return 0;
    for (int i = 0; i < 4; i++)
        if (name[i] < '0' || name[i] > '9') return 0;
    return name[4] == '_';
}

int sp_db_migrate(sp_db *db, const char *dir, int *applied, char *errbuf, size_t errlen)
{
    char **names = NULL;
    size_t nnames = 0, cap = 0;
    int rv = SP_OK, locked = 0;
    *applied = 0;
    DIR *d = opendir(dir);
    if (d == NULL) {
        snprintf(errbuf, errlen, "migrations folder %s: cannot open", dir);
        return SP_EIO;
    }
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (!migration_name(e->d_name)) continue;
        if (nnames == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = realloc(names, cap * sizeof *names);
            if (nn == NULL) {
                rv = SP_ENOMEM;
                goto fail;
            }
            names = nn;
        }
        if ((names[nnames] = strdup(e->d_name)) == NULL) {
            rv = SP_ENOMEM;
            goto fail;
        }
        nnames++;
    }
    qsort(names, nnames, sizeof *names, cmp_str);

    if ((rv = sp_db_exec(db, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", 0, NULL, NULL)) != SP_OK) {
        snprintf(errbuf, errlen, "migration lock: %s", sp_db_errmsg(db));
        goto fail;
    }
    locked = 1;
    if ((rv = sp_db_exec(db,
             "CREATE TABLE IF NOT EXISTS schema_migrations ("
             " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
             0, NULL, NULL))
        != SP_OK) {
        snprintf(errbuf, errlen, "schema_migrations: %s", sp_db_errmsg(db));
        goto fail;
    }
    for (size_t i = 0; i < nnames; i++) {
        char version[128];
        snprintf(version, sizeof version, "%.*s", (int)(strlen(names[i]) - 4), names[i]);
        const char *p[1] = {version};
        PGresult *r = NULL;
        if ((rv = sp_db_exec(db, "SELECT 1 FROM schema_migrations WHERE version = $1", 1, p, &r)) != SP_OK) {
            snprintf(errbuf, errlen, "%s: %s", names[i], sp_db_errmsg(db));
            goto fail;
        }
        int done = PQntuples(r) > 0;
        PQclear(r);
        if (done) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        char *sql = read_file(path);
        if (sql == NULL) {
            snprintf(errbuf, errlen, "%s: cannot read", path);
            rv = SP_EIO;
            goto fail;
        }
        if ((rv = sp_db_begin(db)) == SP_OK && (rv = sp_db_exec_script(db, sql)) == SP_OK
            && (rv = sp_db_exec(db, "INSERT INTO schema_migrations(version) VALUES ($1)", 1, p, NULL))
                == SP_OK)
            rv = sp_db_commit(db);
        free(sql);
        if (rv != SP_OK) {
            snprintf(errbuf, errlen, "%s: %s", names[i], sp_db_errmsg(db));
            sp_db_rollback(db);
            goto fail;
        }
        (*applied)++;
    }
fail:
    if (locked) sp_db_exec(db, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")", 0, NULL, NULL);
    closedir(d);
    for (size_t i = 0; i < nnames; i++)
        free(names[i]);
    free(names);
    return rv;
}
