/* bench_taskpool - GET /v1/me/tasks latency at a fixed request rate with
 * ~100,000 tasks in PostgreSQL, and task actions applied per second.
 *
 * Seeds (once, idempotent) 1,000 reps in 10 teams / 2 regions with 100
 * tasks each, starts the API in-process on port 0 and drives it with
 * SP_BENCH_CLIENTS threads (keep-alive clients, 4) at SP_BENCH_RATE
 * requests/s in total (200) for SP_BENCH_SECONDS (10). Latency counts from
 * the scheduled send time, so a stall is not hidden (no coordinated
 * omission). With SP_KAFKA_BOOTSTRAP set it then acks SP_BENCH_ACTIONS
 * tasks (2,000) as fast as the clients go (each action: a transaction,
 * history row, TaskEvent delivered before commit).
 *
 * Not built by the Makefile yet; build it with the library objects:
 *   make BUILD=build/ta -j2 all && cc -std=c11 -D_GNU_SOURCE -O2 -Icommon -Iservices \
 *     -Ibuild/ta/gen $(pkg-config --cflags jansson libpq) tests/bench/bench_taskpool.c \
 *     build/ta/lib/libsp_taskpool.a build/ta/lib/libspcommon.a build/ta/lib/libspproto.a \
 *     $(pkg-config --libs libprotobuf-c libpq rdkafka jansson libcrypto) -lnng -lpthread -lm \
 *     -o build/ta/bench_taskpool
 * Run: SP_PG_URL=... [SP_KAFKA_BOOTSTRAP=...] build/ta/bench_taskpool */
#include "bus.h"
#include "clock.h"
#include "db.h"
#include "err.h"
#include "http_client.h"
#include "taskpool/api.h"
#include "taskpool/token.h"

#include <pthread.h>
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

static int64_t wall(void *arg)
{
    (void)arg;
    return sp_wall_ms();
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

int main(void)
{
    const char *pg = getenv("SP_PG_URL"), *kafka = getenv("SP_KAFKA_BOOTSTRAP");
    if (pg == NULL) {
        fprintf(stderr, "bench: SP_PG_URL required\n");
        return 2;
    }
    long clients = env_long("SP_BENCH_CLIENTS", 4), rate = env_long("SP_BENCH_RATE", 200),
         seconds = env_long("SP_BENCH_SECONDS", 10), n_actions = env_long("SP_BENCH_ACTIONS", 2000);
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
    char err[256];
    if (kafka && bus_producer_new(kafka, "bench-taskpool", &prod, err, sizeof err) != SP_OK) {
        fprintf(stderr, "bench: %s\n", err);
        return 1;
    }
    api_pool *pool = NULL;
    taskpool_api *api = NULL;
    sp_http_server *srv = NULL;
    api_pool_new(pg, 4, &pool);
    taskpool_api_cfg cfg
        = {.pool = pool, .producer = prod, .events_topic = "bench.taskevents", .now_ms = wall};
    taskpool_api_new(&cfg, &api);
    sp_http_opts o = {.auth = taskpool_api_auth, .auth_arg = api, .workers = 8};
    if (sp_http_server_new("http://127.0.0.1:0", &o, &srv) != SP_OK
        || taskpool_api_register(api, srv) != SP_OK || sp_http_server_start(srv) != SP_OK)
        return 1;
    struct shared s = {.rate = (double)rate / clients, .mu = PTHREAD_MUTEX_INITIALIZER};
    snprintf(s.url, sizeof s.url, "http://127.0.0.1:%d", sp_http_server_port(srv));
    snprintf(s.auth, sizeof s.auth, "Bearer %s", tok);
    struct worker *w = calloc((size_t)clients, sizeof *w);
    pthread_t *th = calloc((size_t)clients, sizeof *th);
    size_t cap = (size_t)(rate * seconds / clients + n_actions + 16);
    for (long i = 0; i < clients; i++)
        w[i] = (struct worker) {&s, calloc(cap, sizeof(double)), 0, cap, 0};
    s.start_ns = now_ns() + 100000000LL;
    s.end_ns = s.start_ns + seconds * 1000000000LL;
    for (long i = 0; i < clients; i++)
        pthread_create(&th[i], NULL, run, &w[i]);
    for (long i = 0; i < clients; i++)
        pthread_join(th[i], NULL);
    char what[128];
    snprintf(what, sizeof what, "GET /v1/me/tasks?limit=50 (100 tasks/rep, 100k total) at %ld/s, %ld clients",
        rate, clients);
    report(what, w, (int)clients, (double)seconds);
    if (prod) {
        /* open tasks of every rep acked by an admin token */
        token_generate(tok, hash);
        exec(db,
            "INSERT INTO people (id, name, role) VALUES ('bench-admin', 'Bench Admin', 'admin') ON CONFLICT "
            "DO NOTHING");
        sp_db_exec(db,
            "INSERT INTO api_tokens (token_sha256, person_id, label) VALUES ($1, 'bench-admin', 'bench')", 1,
            p, NULL);
        snprintf(s.auth, sizeof s.auth, "Bearer %s", tok);
        char lim[24];
        snprintf(lim, sizeof lim, "%ld", n_actions);
        const char *lp[1] = {lim};
        PGresult *r = NULL;
        sp_db_exec(db, "SELECT key FROM tasks WHERE key LIKE 'bench:%' AND status = 'open' LIMIT $1::int", 1,
            lp, &r);
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
    sp_http_server_destroy(srv);
    taskpool_api_destroy(api);
    api_pool_destroy(pool);
    bus_producer_destroy(prod);
    sp_db_destroy(db);
    for (long i = 0; i < clients; i++)
        free(w[i].lat_ms);
    free(w);
    free(th);
    return 0;
}
