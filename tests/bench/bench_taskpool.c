/* bench_taskpool - the sp-taskpool speed targets against the real service:
 * GET /v1/me/tasks latency at a fixed request rate with ~100,000 tasks in
 * PostgreSQL, task commands applied per second through the real consumer
 * path (Kafka -> sp-taskpool -> PostgreSQL, with history and TaskEvents),
 * task actions per second over HTTP, and the service's peak RSS.
 *
 * Seeds (once, idempotent) 1,000 reps in 10 teams / 2 regions with 100
 * tasks each, starts SP_BENCH_TASKPOOL (build/bin/sp-taskpool) on
 * 127.0.0.1:SP_BENCH_PORT (18395) with its own consumer group, and drives
 * it with SP_BENCH_CLIENTS threads (keep-alive clients, 4) at SP_BENCH_RATE
 * requests/s in total (500) for SP_BENCH_SECONDS (10). Latency counts from
 * the scheduled send time, so a stall is not hidden (no coordinated
 * omission). Then it produces SP_BENCH_COMMANDS TaskCommands (20,000: new
 * tasks) to sp.tasks.commands.v1 and times until every one is a row; then
 * acks SP_BENCH_ACTIONS tasks (1,000) as fast as the clients go; then
 * reads the service's VmHWM. Targets (issue 6): p99 <= 20 ms at 500/s,
 * >= 5,000 commands/s, RSS <= 64 MB.
 *
 * Run (make bench does): SP_PG_URL=... SP_KAFKA_BOOTSTRAP=... build/bench/bench_taskpool */
#include "bus.h"
#include "clock.h"
#include "db.h"
#include "err.h"
#include "http_client.h"
#include "procstat.h"
#include "taskpool/token.h"

#include "salespulse/v1/task.pb-c.h"

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long env_long(const char *name, long dflt)
{
    const char *v = getenv(name);
    return v && *v ? strtol(v, NULL, 10) : dflt;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int exec(sp_db *db, const char *sql)
{
    int rv = sp_db_exec_script(db, sql);
    if (rv != SP_OK) fprintf(stderr, "bench: %s\n", sp_db_errmsg(db));
    return rv;
}

static int seed(sp_db *db)
{
    PGresult *r = NULL;
    if (sp_db_exec(db, "SELECT count(*) FROM tasks WHERE key LIKE 'bench:%'", 0, NULL, &r) != SP_OK)
        return SP_EDB;
    long have = strtol(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    if (have >= 100000) return SP_OK;
    int64_t t0 = now_ns();
    int rv = exec(db,
        "INSERT INTO regions (id, name) SELECT 'bench-R' || g, 'R' || g FROM generate_series(1, 2) g "
        "ON CONFLICT DO NOTHING;"
        "INSERT INTO teams (id, name, region_id) SELECT 'bench-T' || g, 'T' || g, 'bench-R' || (g % 2 + 1) "
        "FROM generate_series(1, 10) g ON CONFLICT DO NOTHING;"
        "INSERT INTO people (id, name, role, team_id) SELECT 'bench-rep' || g, 'Rep ' || g, 'rep', "
        "'bench-T' || (g % 10 + 1) FROM generate_series(1, 1000) g ON CONFLICT DO NOTHING;"
        "INSERT INTO tasks (key, kind, level, status, assignee_id, assignee_role, team_id, region_id, sla_s, "
        "created_at, "
        "assigned_at, due_at, updated_at, seq, subject_type, subject_id) "
        "SELECT 'bench:' || g, (ARRAY['deal.stalled','customer.silent','deal.no_next_step'])[g % 3 + 1], g % "
        "3 + 1, "
        "(ARRAY['open','open','acknowledged','in_progress','done'])[g % 5 + 1], 'bench-rep' || (g % 1000 + "
        "1), 'rep', "
        "'bench-T' || ((g % 1000 + 1) % 10 + 1), 'bench-R' || (((g % 1000 + 1) % 10 + 1) % 2 + 1), 3600, "
        "now() - g * interval '1 second', now() - g * interval '1 second', now() + interval '1 hour', now(), "
        "0, 'deal', "
        "'bench-deal-' || g FROM generate_series(1, 100000) g ON CONFLICT DO NOTHING;"
        "ANALYZE tasks;");
    fprintf(stderr, "bench: seeded 100000 tasks in %.1f s\n", (now_ns() - t0) / 1e9);
    return rv;
}

struct shared {
    char url[64];
    char auth[96];
    double rate; /* per client */
    int64_t start_ns, end_ns;
    int mode; /* 0 = GET, 1 = actions */
    int next_task; /* actions: next index */
    int n_actions;
    pthread_mutex_t mu;
    char (*keys)[64];
};

struct worker {
    struct shared *s;
    double *lat_ms;
    size_t n, cap;
    size_t errors;
};

static void *run(void *arg)
{
    struct worker *w = arg;
    struct shared *s = w->s;
    sp_http_client *c = NULL;
    if (sp_http_client_new(s->url, 10000, &c) != SP_OK) return NULL;
    sp_http_header h[2] = {{"Authorization", s->auth}, {"Content-Type", "application/json"}};
    int64_t period = (int64_t)(1e9 / s->rate);
    for (int64_t k = 0;; k++) {
        sp_http_reply r = {0};
        int64_t sched = s->start_ns + k * period, t;
        if (s->mode == 0) {
            if (sched >= s->end_ns) break;
            while ((t = now_ns()) < sched) {
                int64_t d = sched - t;
                struct timespec ts = {d / 1000000000LL, d % 1000000000LL};
                nanosleep(&ts, NULL);
            }
            int rv = sp_http_client_do(c, "GET", "/v1/me/tasks?limit=50", h, 1, NULL, 0, &r);
            double ms = (now_ns() - sched) / 1e6;
            if (rv != SP_OK || r.status != 200) w->errors++;
            if (w->n < w->cap) w->lat_ms[w->n++] = ms;
        } else {
            pthread_mutex_lock(&s->mu);
            int i = s->next_task < s->n_actions ? s->next_task++ : -1;
            pthread_mutex_unlock(&s->mu);
            if (i < 0) break;
            char target[128];
            snprintf(target, sizeof target, "/v1/tasks/%s/ack", s->keys[i]);
            int64_t t0 = now_ns();
            int rv = sp_http_client_do(c, "POST", target, h, 1, NULL, 0, &r);
            if (rv != SP_OK || r.status != 200) w->errors++;
            if (w->n < w->cap) w->lat_ms[w->n++] = (now_ns() - t0) / 1e6;
        }
        sp_http_reply_clear(&r);
    }
    sp_http_client_destroy(c);
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *what, struct worker *w, int nw, double seconds)
{
    size_t n = 0, errors = 0;
    for (int i = 0; i < nw; i++)
        n += w[i].n, errors += w[i].errors;
    double *all = malloc((n ? n : 1) * sizeof *all);
    size_t o = 0;
    for (int i = 0; i < nw; i++) {
        memcpy(all + o, w[i].lat_ms, w[i].n * sizeof *all);
        o += w[i].n;
    }
    qsort(all, n, sizeof *all, cmp);
    printf("%s: %zu requests in %.1f s (%.0f/s), errors %zu, p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", what,
        n, seconds, n / seconds, errors, n ? all[n / 2] : 0, n ? all[(size_t)(n * 0.99)] : 0,
        n ? all[n - 1] : 0);
    free(all);
}

/* Starts the service; its pid, or -1. */
static pid_t spawn(const char *bin, int port, const char *group)
{
    pid_t pid = fork();
    if (pid != 0) return pid;
    char addr[64];
    snprintf(addr, sizeof addr, "http://127.0.0.1:%d", port);
    setenv("SP_HTTP_ADDR", addr, 1);
    setenv("SP_GROUP_ID", group, 1);
    setenv("SP_LOG_LEVEL", "warn", 1);
    setenv("SP_WEB_DIR", "/nonexistent", 1);
    execl(bin, bin, (char *)NULL);
    perror(bin);
    _exit(127);
}

/* Waits up to 20 s for /healthz. */
static int healthy(const char *url, pid_t pid)
{
    char u[96];
    snprintf(u, sizeof u, "%s/healthz", url);
    for (int i = 0; i < 200; i++) {
        sp_http_reply r = {0};
        int ok = sp_http_fetch(u, "GET", NULL, 0, NULL, 0, 1000, &r) == SP_OK && r.status == 200;
        sp_http_reply_clear(&r);
        if (ok) return SP_OK;
        if (waitpid(pid, NULL, WNOHANG) == pid) return SP_EIO;
        usleep(100000);
    }
    return SP_ETIMEOUT;
}

/* CPU seconds of every PostgreSQL backend now connected. */
static double pg_cpu_s(sp_db *db)
{
    PGresult *r = NULL;
    double t = 0;
    if (sp_db_exec(db, "SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend'", 0, NULL, &r)
        != SP_OK)
        return 0;
    for (int i = 0; i < PQntuples(r); i++)
        t += procstat_cpu_s(atol(PQgetvalue(r, i, 0)));
    PQclear(r);
    return t;
}

static long long q_int(sp_db *db, const char *sql, const char *arg)
{
    const char *p[1] = {arg};
    PGresult *r = NULL;
    if (sp_db_exec(db, sql, arg ? 1 : 0, p, &r) != SP_OK) return -1;
    long long v = PQntuples(r) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : -1;
    PQclear(r);
    return v;
}

/* Produces n UPSERT commands for new tasks "benchcmd:<run>:<i>"; then
 * waits until all are rows. Prints commands/s. */
static int commands(sp_db *db, bus_producer *prod, const char *run_id, long n, int svc_pid)
{
    char seq0[24];
    snprintf(seq0, sizeof seq0, "%lld", q_int(db, "SELECT coalesce(max(seq), 0) FROM tasks", NULL));
    int64_t t0 = now_ns(), at = sp_wall_ms();
    for (long i = 0; i < n; i++) {
        char key[96], eid[96], rep[32], subj[64];
        snprintf(key, sizeof key, "benchcmd:%s:%ld", run_id, i);
        snprintf(eid, sizeof eid, "bench-cmd-%s-%ld", run_id, i);
        snprintf(rep, sizeof rep, "bench-rep%ld", i % 1000 + 1);
        snprintf(subj, sizeof subj, "bench-deal-%s-%ld", run_id, i);
        Salespulse__V1__TaskCommand c;
        Salespulse__V1__EventMeta m;
        Salespulse__V1__Signal sg;
        Salespulse__V1__Subject sb;
        salespulse__v1__task_command__init(&c);
        salespulse__v1__event_meta__init(&m);
        salespulse__v1__signal__init(&sg);
        salespulse__v1__subject__init(&sb);
        m.event_id = eid;
        m.occurred_at_ms = at;
        m.produced_at_ms = at;
        m.producer = "bench";
        m.schema_version = 1;
        sb.type = SALESPULSE__V1__SUBJECT_TYPE__SUBJECT_TYPE_DEAL;
        sb.id = subj;
        sg.kind = "deal.stalled";
        sg.level = (Salespulse__V1__Level)(i % 3 + 1);
        sg.subject = &sb;
        sg.owner_rep_id = rep;
        c.meta = &m;
        c.task_key = key;
        c.op = SALESPULSE__V1__TASK_OP__TASK_OP_UPSERT;
        c.signal = &sg;
        c.assignee_id = rep;
        c.assignee_role = "owner_rep";
        c.sla_s = 86400;
        uint8_t buf[1024];
        size_t len = salespulse__v1__task_command__get_packed_size(&c);
        if (len > sizeof buf) return SP_ETOOBIG;
        salespulse__v1__task_command__pack(&c, buf);
        int rv;
        while ((rv = bus_producer_send(prod, SP_TOPIC_TASK_COMMANDS, key, strlen(key), buf, len, NULL, NULL))
            == SP_EFULL)
            bus_producer_flush(prod, 100);
        if (rv != SP_OK) return rv;
    }
    if (bus_producer_flush(prod, 30000) != SP_OK) return SP_ETIMEOUT;
    double produced = (now_ns() - t0) / 1e9, svc0 = procstat_cpu_s(svc_pid), pg0 = pg_cpu_s(db);
    long long got = 0;
    int64_t deadline = now_ns() + 300 * 1000000000LL;
    while (
        (got = q_int(db, "SELECT count(*) FROM tasks WHERE seq > $1::bigint AND key LIKE 'benchcmd:%'", seq0))
            < n
        && now_ns() < deadline)
        usleep(200000);
    double el = (now_ns() - t0) / 1e9;
    printf("task commands CPU per command: sp-taskpool %.3f ms, PostgreSQL backends %.3f ms\n",
        (procstat_cpu_s(svc_pid) - svc0) * 1000 / (double)n, (pg_cpu_s(db) - pg0) * 1000 / (double)n);
    printf(
        "task commands: %ld produced in %.1f s; %lld applied (Kafka -> sp-taskpool -> PostgreSQL, history, "
        "TaskEvent) in %.1f s = %.0f commands/s\n",
        n, produced, got, el, got / el);
    return got == n ? SP_OK : SP_ETIMEOUT;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *pg = getenv("SP_PG_URL"), *kafka = getenv("SP_KAFKA_BOOTSTRAP");
    const char *bin = getenv("SP_BENCH_TASKPOOL") ? getenv("SP_BENCH_TASKPOOL") : "build/bin/sp-taskpool";
    if (pg == NULL || kafka == NULL) {
        fprintf(stderr, "bench: SP_PG_URL and SP_KAFKA_BOOTSTRAP required\n");
        return 2;
    }
    long clients = env_long("SP_BENCH_CLIENTS", 4), rate = env_long("SP_BENCH_RATE", 500),
         seconds = env_long("SP_BENCH_SECONDS", 10), n_actions = env_long("SP_BENCH_ACTIONS", 1000),
         n_cmds = env_long("SP_BENCH_COMMANDS", 20000), port = env_long("SP_BENCH_PORT", 18395);
    sp_db *db = NULL;
    if (sp_db_open(pg, &db) != SP_OK || seed(db) != SP_OK) return 1;
    char tok[SP_TOKEN_LEN + 1], hash[SP_TOKEN_HASH_LEN + 1];
    token_generate(tok, hash);
    const char *p[1] = {hash};
    if (sp_db_exec(db,
            "INSERT INTO api_tokens (token_sha256, person_id, label) VALUES ($1, 'bench-rep7', 'bench')", 1,
            p, NULL)
        != SP_OK)
        return 1;
    bus_producer *prod = NULL;
    char err[256], group[64], run_id[32];
    if (bus_producer_new(kafka, "bench-taskpool", &prod, err, sizeof err) != SP_OK) {
        fprintf(stderr, "bench: %s\n", err);
        return 1;
    }
    snprintf(run_id, sizeof run_id, "%lld", (long long)sp_wall_ms());
    snprintf(group, sizeof group, "bench-taskpool-%s", run_id);
    struct shared s = {.rate = (double)rate / clients, .mu = PTHREAD_MUTEX_INITIALIZER};
    snprintf(s.url, sizeof s.url, "http://127.0.0.1:%ld", port);
    pid_t svc = spawn(bin, (int)port, group);
    if (svc < 0 || healthy(s.url, svc) != SP_OK) {
        fprintf(stderr, "bench: %s did not come up on %s\n", bin, s.url);
        if (svc > 0) kill(svc, SIGTERM), waitpid(svc, NULL, 0);
        return 1;
    }
    snprintf(s.auth, sizeof s.auth, "Bearer %s", tok);
    struct worker *w = calloc((size_t)clients, sizeof *w);
    pthread_t *th = calloc((size_t)clients, sizeof *th);
    size_t cap = (size_t)(rate * seconds / clients + n_actions + 16);
    for (long i = 0; i < clients; i++)
        w[i] = (struct worker) {&s, calloc(cap, sizeof(double)), 0, cap, 0};
    s.start_ns = now_ns() + 100000000LL;
    s.end_ns = s.start_ns + seconds * 1000000000LL;
    double svc0 = procstat_cpu_s(svc), pg0 = pg_cpu_s(db);
    for (long i = 0; i < clients; i++)
        pthread_create(&th[i], NULL, run, &w[i]);
    for (long i = 0; i < clients; i++)
        pthread_join(th[i], NULL);
    double svc1 = procstat_cpu_s(svc), pg1 = pg_cpu_s(db);
    char what[160];
    snprintf(what, sizeof what, "GET /v1/me/tasks?limit=50 (100 tasks/rep, %lld tasks) at %ld/s, %ld clients",
        q_int(db, "SELECT count(*) FROM tasks", NULL), rate, clients);
    report(what, w, (int)clients, (double)seconds);
    /* CPU per request: steadier than latency on a shared machine */
    printf("GET CPU per request: sp-taskpool %.3f ms, PostgreSQL backends %.3f ms\n",
        (svc1 - svc0) * 1000 / (double)(rate * seconds), (pg1 - pg0) * 1000 / (double)(rate * seconds));
    int rc = commands(db, prod, run_id, n_cmds, (int)svc) == SP_OK ? 0 : 1;
    /* open tasks of every rep acked by an admin token */
    token_generate(tok, hash);
    exec(db,
        "INSERT INTO people (id, name, role) VALUES ('bench-admin', 'Bench Admin', 'admin') ON CONFLICT "
        "DO NOTHING");
    sp_db_exec(db,
        "INSERT INTO api_tokens (token_sha256, person_id, label) VALUES ($1, 'bench-admin', 'bench')", 1, p,
        NULL);
    snprintf(s.auth, sizeof s.auth, "Bearer %s", tok);
    char lim[24];
    snprintf(lim, sizeof lim, "%ld", n_actions);
    const char *lp[1] = {lim};
    PGresult *r = NULL;
    if (n_actions > 0
        && sp_db_exec(db, "SELECT key FROM tasks WHERE key LIKE 'bench:%' AND status = 'open' LIMIT $1::int",
               1, lp, &r)
            == SP_OK) {
        s.n_actions = PQntuples(r);
        s.keys = calloc((size_t)s.n_actions + 1, sizeof *s.keys);
        for (int i = 0; i < s.n_actions; i++)
            snprintf(s.keys[i], sizeof s.keys[0], "%s", PQgetvalue(r, i, 0));
        PQclear(r);
        s.mode = 1;
        for (long i = 0; i < clients; i++)
            w[i].n = w[i].errors = 0;
        int64_t t0 = now_ns();
        for (long i = 0; i < clients; i++)
            pthread_create(&th[i], NULL, run, &w[i]);
        for (long i = 0; i < clients; i++)
            pthread_join(th[i], NULL);
        double el = (now_ns() - t0) / 1e9;
        snprintf(what, sizeof what,
            "POST /v1/tasks/{key}/ack (tx + history + TaskEvent delivered), %ld clients", clients);
        report(what, w, (int)clients, el);
        free(s.keys);
    }
    double hwm, rss;
    procstat_mem_mb(svc, &hwm, &rss);
    printf("sp-taskpool RSS: peak %.1f MB, now %.1f MB\n", hwm, rss);
    kill(svc, SIGTERM);
    waitpid(svc, NULL, 0);
    bus_producer_destroy(prod);
    sp_db_destroy(db);
    for (long i = 0; i < clients; i++)
        free(w[i].lat_ms);
    free(w);
    free(th);
    return rc;
}
