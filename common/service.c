/* service.c - shared wiring of a consuming service. */
#include "service.h"

#include "err.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Event clock: loads the partition highs persisted by earlier runs of this
 * consumer group (clock_persist), once. The database may be down: then
 * the next batch or idle call tries again. */
static void clock_seed(sp_service *s)
{
    if (s->clock_seeded || sp_clock_kind_of(s->clock) != SP_CLOCK_EVENT) return;
    const char *p[2] = {s->cfg->group_id, s->topic};
    PGresult *r = NULL;
    if (sp_db_exec(s->db,
            "SELECT partition, high_ms FROM clock_partitions WHERE consumer = $1 AND topic = $2", 2, p, &r)
        != SP_OK) {
        sp_warn("event clock: partition highs not loaded yet: %s", sp_db_errmsg(s->db));
        return;
    }
    for (int i = 0; i < PQntuples(r); i++)
        sp_clock_seed(s->clock, (int32_t)atoi(PQgetvalue(r, i, 0)), strtoll(PQgetvalue(r, i, 1), NULL, 10));
    if (PQntuples(r)) sp_info("event clock: %d partition high(s) carried over", PQntuples(r));
    PQclear(r);
    s->clock_seeded = 1;
}

/* Event clock: records the highs of the partitions a batch served, so a
 * restart resumes with them (clock_seed). Outside the batch transaction
 * and best effort: a lost update only lowers a restarted watermark until
 * the partition's next event. A partition holding a deferred message
 * saves no more than that message's time (sp_clock_held): a restart reads
 * it again. */
static void clock_persist(sp_service *s, const bus_msg *msgs, size_t n)
{
    if (sp_clock_kind_of(s->clock) != SP_CLOCK_EVENT || n == 0) return;
    /* every partition of the batch once: at most n, each "<int>," / "<int64>," */
    size_t cp = n * 12 + 3, ch = n * 21 + 3, lp = 1, lh = 1, nd = 0;
    char *parts = malloc(cp), *highs = malloc(ch);
    int32_t *done = malloc(n * sizeof *done);
    if (!parts || !highs || !done) goto out;
    parts[0] = highs[0] = '{';
    for (size_t i = 0; i < n; i++) {
        int seen = 0;
        for (size_t j = 0; j < nd && !seen; j++)
            seen = done[j] == msgs[i].partition;
        int64_t high;
        if (seen || sp_clock_partition_high(s->clock, msgs[i].partition, &high) != SP_OK) continue;
        done[nd++] = msgs[i].partition;
        lp += (size_t)snprintf(parts + lp, cp - lp, "%s%d", nd > 1 ? "," : "", (int)msgs[i].partition);
        lh += (size_t)snprintf(highs + lh, ch - lh, "%s%lld", nd > 1 ? "," : "", (long long)high);
    }
    if (nd == 0) goto out;
    snprintf(parts + lp, cp - lp, "}");
    snprintf(highs + lh, ch - lh, "}");
    const char *p[4] = {s->cfg->group_id, s->topic, parts, highs};
    if (sp_db_exec(s->db,
            "INSERT INTO clock_partitions (consumer, topic, partition, high_ms) "
            "SELECT $1, $2, u.p, u.h FROM unnest($3::int[], $4::bigint[]) u(p, h) "
            "ON CONFLICT (consumer, topic, partition) DO UPDATE SET high_ms = "
            "greatest(clock_partitions.high_ms, EXCLUDED.high_ms)",
            4, p, NULL)
        != SP_OK)
        sp_warn("event clock: partition highs not saved: %s", sp_db_errmsg(s->db));
out:
    free(parts);
    free(highs);
    free(done);
}

static void batch_trampoline(
    void *arg, const bus_msg *msgs, size_t n, bus_result *res, char (*reasons)[BUS_REASON_LEN])
{
    /* The handler observes event time itself: it knows occurred_at. */
    sp_service *s = arg;
    int64_t t0 = sp_wall_ms();
    clock_seed(s);
    /* messages handed over again (BUS_DEFER) are no new input: they must
     * not restart the idle countdown of the partitions that sent nothing */
    int fresh = 0;
    for (size_t i = 0; i < n && !fresh; i++)
        fresh = !msgs[i].held;
    if (fresh) sp_clock_hold(s->clock, 1);
    s->handler(s->arg, s->db, msgs, n, res, reasons);
    /* a message to be redelivered must not move time past itself: drop the
     * batch's times (lower is safe; its done messages' times are only lost
     * until the next message of their partition) */
    for (size_t i = 0; fresh && i < n; i++)
        if (res[i] == BUS_RETRY) {
            sp_clock_discard(s->clock);
            break;
        }
    if (fresh) sp_clock_hold(s->clock, 0);
    if (n && res[0] != BUS_RETRY) clock_persist(s, msgs, n);
    size_t ok = 0, dead = 0, retry = 0, deferred = 0;
    for (size_t i = 0; i < n; i++) {
        if (res[i] == BUS_OK)
            ok++;
        else if (res[i] == BUS_DEAD)
            dead++;
        else if (res[i] == BUS_DEFER)
            deferred++;
        else
            retry++;
    }
    sp_counter_add(s->m_msgs, (double)ok, "ok");
    sp_counter_add(s->m_msgs, (double)dead, "dead");
    sp_counter_add(s->m_msgs, (double)retry, "retry");
    sp_counter_add(s->m_msgs, (double)deferred, "deferred");
    sp_histogram_observe(s->m_batch_s, (double)(sp_wall_ms() - t0) / 1000.0);
}

static void rebalance(void *arg, const char *topic, int32_t partition, int assigned)
{
    sp_service *s = arg;
    (void)topic;
    if (assigned)
        sp_clock_assign(s->clock, partition);
    else
        sp_clock_revoke(s->clock, partition);
}

static void idle(void *arg)
{
    sp_service *s = arg;
    clock_seed(s);
    if (s->on_idle) s->on_idle(s->arg, s->db);
}

/* sp_clock_behind_fn over the service's consumer. */
static int partition_behind(void *arg, int32_t partition)
{
    sp_service *s = arg;
    return s->consumer ? bus_consumer_behind(s->consumer, s->topic, partition) : 1;
}

/* Event clock: a partition more than SP_ALIGN_AHEAD past the watermark
 * pauses while a slower one catches up, so the watermark (and the promise
 * stamped downstream) follows the events closely. */
static int partition_ahead(void *arg, const char *topic, int32_t partition)
{
    sp_service *s = arg;
    (void)topic; /* one topic per service */
    return sp_clock_partition_ahead(s->clock, partition, s->cfg->align_ahead_ms);
}

int sp_service_init(sp_service *s, const char *name, const sp_service_cfg *cfg, const char *topic,
    sp_service_batch_fn handler, void *arg)
{
    char err[512] = "";
    int rv;
    s->name = name;
    s->cfg = cfg;
    s->handler = handler;
    s->arg = arg;
    sp_log_level lvl = SP_LOG_INFO;
    sp_log_level_parse(cfg->log_level, &lvl);
    sp_log_init(name, lvl);
    sp_clock_kind kind = SP_CLOCK_WALL;
    sp_clock_kind_parse(cfg->clock, &kind);
    if ((rv = sp_clock_new(kind, cfg->idle_grace_ms, &s->clock)) != SP_OK) return rv;
    if (sp_db_open(cfg->pg_url, &s->db) != SP_OK) {
        if (s->db == NULL) return SP_ENOMEM;
        sp_warn("database not reachable yet (%s); will retry", sp_db_errmsg(s->db));
    }
    if ((rv = bus_producer_new(cfg->kafka_bootstrap, name, &s->producer, err, sizeof err)) != SP_OK) {
        sp_error("producer: %s", err);
        return rv;
    }
    if ((rv = sp_metrics_new(&s->metrics)) != SP_OK) return rv;
    if ((rv = sp_counter_new(
             s->metrics, "sp_consumer_messages_total", "Messages handled by result", "result", &s->m_msgs))
            != SP_OK
        || (rv = sp_histogram_new(s->metrics, "sp_consumer_batch_seconds", "Time to handle one batch", "",
                NULL, 0, &s->m_batch_s))
            != SP_OK)
        return rv;
    const char *topics[] = {topic, NULL};
    /* an event clock aligning its partitions pauses the ones ahead */
    int pausing = sp_clock_kind_of(s->clock) == SP_CLOCK_EVENT && cfg->align_ahead_ms > 0;
    bus_consumer_opts o = {
        .bootstrap = cfg->kafka_bootstrap,
        .group_id = cfg->group_id,
        .client_id = name,
        .topics = topics,
        .service = name,
        .max_batch = (int)cfg->max_batch,
        .handler = batch_trampoline,
        .arg = s,
        .on_rebalance = rebalance,
        .rebalance_arg = s,
        .on_idle = idle,
        .idle_arg = s,
        .may_pause = pausing ? partition_ahead : NULL,
        .pause_arg = s,
        .whole_batches = cfg->whole_batches,
        /* only for pausing consumers: wall-clock ones keep the 2 MB default */
        .prefetch_kbytes = pausing ? (int)cfg->prefetch_kb : 0,
    };
    if ((rv = bus_consumer_new(&o, &s->consumer, err, sizeof err)) != SP_OK) {
        sp_error("consumer: %s", err);
        return rv;
    }
    s->topic = topic;
    sp_clock_set_behind(s->clock, partition_behind, s);
    return SP_OK;
}

int sp_service_http_new(sp_service *s, const sp_http_opts *opts)
{
    if (s->http) return SP_OK;
    sp_http_opts ho = {.workers = 4};
    if (opts) ho = *opts;
    ho.metrics = s->metrics;
    int rv = sp_http_server_new(s->cfg->http_addr, &ho, &s->http);
    if (rv != SP_OK) sp_error("SP_HTTP_ADDR %s: %s", s->cfg->http_addr, sp_strerror(rv));
    return rv;
}

int sp_service_http_start(sp_service *s)
{
    int rv = sp_service_http_new(s, NULL);
    if (rv != SP_OK) return rv;
    rv = sp_http_server_start(s->http);
    if (rv != SP_OK) {
        sp_error("cannot listen on %s", s->cfg->http_addr);
        return rv;
    }
    s->http_started = 1;
    sp_http_server_set_ready(s->http, 1);
    return SP_OK;
}

int sp_service_run(sp_service *s)
{
    if (!s->http_started && sp_service_http_start(s) != SP_OK) return 1;
    bus_install_stop_signals(&s->stop);
    sp_info("%s consuming (clock %s, group %s)", s->name, s->cfg->clock, s->cfg->group_id);
    int rv = bus_consumer_run(s->consumer, &s->stop);
    sp_info("%s stopping", s->name);
    return rv == SP_OK ? 0 : 1;
}

void sp_service_destroy(sp_service *s)
{
    if (s == NULL) return;
    sp_http_server_destroy(s->http);
    s->http = NULL;
    bus_consumer_destroy(s->consumer);
    s->consumer = NULL;
    bus_producer_destroy(s->producer);
    s->producer = NULL;
    sp_db_destroy(s->db);
    s->db = NULL;
    sp_clock_destroy(s->clock);
    s->clock = NULL;
    sp_metrics_destroy(s->metrics);
    s->metrics = NULL;
}

static void all(bus_result *res, size_t n, bus_result r)
{
    for (size_t i = 0; i < n; i++)
        res[i] = r;
}

void sp_tx_batch(sp_db *db, const bus_msg *msgs, size_t n, bus_result *res, char (*reasons)[BUS_REASON_LEN],
    sp_tx_item_fn item, void *arg)
{
    sp_tx_batch_hooks(db, msgs, n, res, reasons, item, NULL, arg);
}

enum { PASS_DONE, PASS_RETRY, PASS_REDO };

/* One pass over the batch in one transaction; see sp_tx_batch_hooks. */
static int tx_pass(sp_db *db, const bus_msg *msgs, size_t n, bus_result *res, char (*reasons)[BUS_REASON_LEN],
    sp_tx_item_fn item, const sp_tx_hooks *h, void *arg, int savepoints, bus_group *g)
{
    if (sp_db_begin(db) != SP_OK) {
        sp_warn("batch: begin: %s", sp_db_errmsg(db));
        return PASS_RETRY;
    }
    if (h && h->begin && h->begin(arg, db, msgs, n, savepoints) != SP_OK) goto retry;
    for (size_t i = 0; i < n; i++) {
        if (savepoints && sp_db_exec(db, "SAVEPOINT item", 0, NULL, NULL) != SP_OK) goto retry;
        res[i] = item(arg, db, g, &msgs[i], reasons[i], BUS_REASON_LEN);
        if (res[i] == BUS_RETRY) goto retry;
        if (!savepoints) {
            if (res[i] == BUS_DEAD) { /* its effects cannot be taken back alone */
                sp_db_rollback(db);
                return PASS_REDO;
            }
            continue;
        }
        const char *end = res[i] == BUS_DEAD ? "ROLLBACK TO SAVEPOINT item" : "RELEASE SAVEPOINT item";
        if (sp_db_exec(db, end, 0, NULL, NULL) != SP_OK) goto retry;
    }
    if (h && h->flush && h->flush(arg, db) != SP_OK) {
        sp_warn("batch: flush: %s", sp_db_errmsg(db));
        goto retry;
    }
    char err[256];
    if (bus_group_wait(g, 15000, err, sizeof err) != SP_OK) {
        sp_warn("batch: outputs not delivered (%s); retrying", err);
        goto retry;
    }
    if (sp_db_commit(db) != SP_OK) {
        sp_warn("batch: commit: %s", sp_db_errmsg(db));
        goto retry;
    }
    return PASS_DONE;
retry:
    sp_db_rollback(db);
    return PASS_RETRY;
}

void sp_tx_batch_hooks(sp_db *db, const bus_msg *msgs, size_t n, bus_result *res,
    char (*reasons)[BUS_REASON_LEN], sp_tx_item_fn item, const sp_tx_hooks *hooks, void *arg)
{
    bus_group *g = NULL;
    if (bus_group_new(&g) != SP_OK) {
        all(res, n, BUS_RETRY);
        return;
    }
    int optimistic = hooks && hooks->optimistic;
    int pass = tx_pass(db, msgs, n, res, reasons, item, hooks, arg, !optimistic, g);
    if (pass == PASS_REDO) pass = tx_pass(db, msgs, n, res, reasons, item, hooks, arg, 1, g);
    if (pass != PASS_DONE) all(res, n, BUS_RETRY);
    bus_group_release(g);
}
