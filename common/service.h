/* service.h - what every consuming service's main shares: the common
 * configuration rows, and a runner that wires log, clock, database,
 * producer and the at-least-once consumer loop with clean shutdown.
 *
 * A service embeds `sp_service_cfg svc;` in its config struct and lists
 * SP_SERVICE_ROWS(struct cfg, svc, "sp-enrich", "8082") among its rows. */
#ifndef SP_SERVICE_H
#define SP_SERVICE_H

#include "bus.h"
#include "clock.h"
#include "config.h"
#include "db.h"
#include "http.h"
#include "metrics.h"

#include <signal.h>
#include <stddef.h>

typedef struct sp_service_cfg {
    char *pg_url;
    char *kafka_bootstrap;
    char *group_id;
    char *clock;
    char *log_level;
    char *tenant_dir;
    char *http_addr;
    long long idle_grace_ms;
    long long align_ahead_ms; /* event clock: pause partitions this far ahead (a service's own row; 0: off) */
    int whole_batches; /* with align_ahead_ms: the handler holds what runs ahead itself (bus_consumer_opts) */
    long max_batch;
    long prefetch_kb; /* event clock with align_ahead_ms: input prefetched by librdkafka, KiB (a service's own
                         row; 0: 2048) */
} sp_service_cfg;

/* batch: SP_MAX_BATCH's default (a string, "500") */
#define SP_SERVICE_ROWS(T, m, name, port, batch)                                                             \
    {"SP_PG_URL", SP_CFG_STRING, NULL, offsetof(T, m.pg_url),                                                \
        "PostgreSQL URL, e.g. postgresql://user@host:5432/salespulse", .secret = 1},                         \
        {"SP_KAFKA_BOOTSTRAP", SP_CFG_STRING, NULL, offsetof(T, m.kafka_bootstrap),                          \
            "Kafka bootstrap servers, e.g. 127.0.0.1:9092"},                                                 \
        {"SP_GROUP_ID", SP_CFG_STRING, name, offsetof(T, m.group_id), "Kafka consumer group"},               \
        {"SP_CLOCK", SP_CFG_ENUM, "wall", offsetof(T, m.clock),                                              \
            "wall (production) or event (replays: watermark of event time)", .choices = "wall|event"},       \
        {"SP_IDLE_GRACE", SP_CFG_MS, "2s", offsetof(T, m.idle_grace_ms),                                     \
            "event clock: a partition silent this long stops holding the watermark back"},                   \
        {"SP_LOG_LEVEL", SP_CFG_ENUM, "info", offsetof(T, m.log_level), "log level",                         \
            .choices = "debug|info|warn|error"},                                                             \
        {"SP_TENANT_DIR", SP_CFG_STRING, "deploy/tenants/default", offsetof(T, m.tenant_dir),                \
            "tenant data folder (lexicons, rules, calendar, playbooks)"},                                    \
        {"SP_HTTP_ADDR", SP_CFG_STRING, "http://0.0.0.0:" port, offsetof(T, m.http_addr),                    \
            "listen address for /healthz, /readyz, /metrics (and the API where there is one)"},              \
    {                                                                                                        \
        "SP_MAX_BATCH", SP_CFG_INT, batch, offsetof(T, m.max_batch), "messages handled per transaction",     \
            .min = 1, .max = 10000                                                                           \
    }

/* Handles one batch with the service's own database connection; the same
 * contract as bus_batch_fn. */
typedef void (*sp_service_batch_fn)(void *arg, sp_db *db, const bus_msg *msgs, size_t n, bus_result *results,
    char (*reasons)[BUS_REASON_LEN]);

typedef struct sp_service {
    const char *name;
    const sp_service_cfg *cfg;
    const char *topic; /* the one topic consumed */
    sp_clock *clock; /* owned */
    sp_db *db; /* owned */
    bus_producer *producer; /* owned */
    bus_consumer *consumer; /* owned */
    sp_metrics *metrics; /* owned; rendered at /metrics */
    sp_http_server *http; /* owned; /healthz, /readyz, /metrics (+ the service's routes) */
    sp_metric *m_msgs, *m_batch_s;
    int http_started;
    volatile sig_atomic_t stop;
    sp_service_batch_fn handler;
    void *arg;
    void (*on_idle)(void *arg, sp_db *db); /* between batches (sweeps), may be NULL */
    int clock_seeded; /* event clock: the persisted partition highs are loaded */
} sp_service;

/* Sets up logging, the clock, the database (a first connection failure is
 * not fatal: it retries), the producer and a consumer of topic. On error
 * logs and returns SP_ECONFIG/SP_EKAFKA/SP_ENOMEM; sp_service_destroy
 * releases whatever was set up either way. */
int sp_service_init(sp_service *s, const char *name, const sp_service_cfg *cfg, const char *topic,
    sp_service_batch_fn handler, void *arg);

/* Creates the HTTP server (/healthz, /readyz, /metrics) on SP_HTTP_ADDR with
 * opts (auth hook, workers; NULL: defaults), so the service can add its own
 * routes to s->http before it starts. A no-op when it exists already. */
int sp_service_http_new(sp_service *s, const sp_http_opts *opts);

/* Starts the HTTP server (creating it with defaults if needed) and marks
 * the service ready. SP_EIO when the address cannot be bound. */
int sp_service_http_start(sp_service *s);

/* Runs the consumer loop until SIGTERM/SIGINT; returns the process exit
 * code. Starts the HTTP server first if sp_service_http_start was not called. */
int sp_service_run(sp_service *s);

void sp_service_destroy(sp_service *s);

/* Handles one message inside the batch transaction; may queue outputs in g
 * (delivered before the commit). Returns BUS_OK, BUS_DEAD (reason filled;
 * its database effects are rolled back to a savepoint) or BUS_RETRY
 * (transient: the whole batch is rolled back and retried). Queue outputs
 * last, once the item is sure to answer BUS_OK: a message already queued
 * cannot be taken back when the item turns out DEAD. */
typedef bus_result (*sp_tx_item_fn)(
    void *arg, sp_db *db, bus_group *g, const bus_msg *m, char *reason, size_t reason_cap);

/* The at-least-once batch pattern every consumer uses: BEGIN; each message
 * under a SAVEPOINT through item(); wait until the broker has every queued
 * output (bounded); COMMIT; then OK/DEAD per message. Any transient failure
 * (database down, outputs not delivered, commit failed) rolls back and
 * answers RETRY for the whole batch: redelivery is absorbed by the
 * handlers' idempotency keys. */
void sp_tx_batch(sp_db *db, const bus_msg *msgs, size_t n, bus_result *res, char (*reasons)[BUS_REASON_LEN],
    sp_tx_item_fn item, void *arg);

/* Optional steps of a batch (any may be NULL / 0):
 *   begin       after BEGIN, on each pass, with the batch and whether this
 *               pass uses savepoints: reset what the handler keeps for the
 *               transaction, or do batch-wide work up front (optimistic
 *               pass: an item going DEAD discards it with the pass);
 *   flush       after the last item, before the commit: write back what
 *               the handler kept in memory;
 *   optimistic  run the items without a savepoint each (two statements per
 *               item saved); the first item answering DEAD rolls the pass
 *               back and the batch runs again with savepoints. Outputs of the
 *               abandoned pass may then reach the broker twice: only for
 *               handlers whose outputs carry deterministic ids.
 * begin or flush not SP_OK: the whole batch is rolled back and retried. */
typedef struct sp_tx_hooks {
    int (*begin)(void *arg, sp_db *db, const bus_msg *msgs, size_t n, int savepoints);
    int (*flush)(void *arg, sp_db *db);
    int optimistic;
} sp_tx_hooks;

/* sp_tx_batch with hooks (hooks may be NULL). */
void sp_tx_batch_hooks(sp_db *db, const bus_msg *msgs, size_t n, bus_result *res,
    char (*reasons)[BUS_REASON_LEN], sp_tx_item_fn item, const sp_tx_hooks *hooks, void *arg);

#endif
