/* bus.c - librdkafka producer, delivery groups, at-least-once consumer. */
#include "bus.h"

#include "clock.h"
#include "err.h"
#include "log.h"
#include "salespulse/v1/deadletter.pb-c.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

const char *const sp_topics_all[] = {SP_TOPIC_INTERACTIONS, SP_TOPIC_ENRICHED, SP_TOPIC_SIGNALS,
    SP_TOPIC_TASK_COMMANDS, SP_TOPIC_TASK_EVENTS, SP_TOPIC_DEADLETTER, NULL};

/* ---- shared configuration ------------------------------------------------ */

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    /* syslog levels: 0-3 error, 4 warning, 5-6 info, 7 debug */
    sp_log_level l = level <= 3 ? SP_LOG_ERROR
        : level == 4            ? SP_LOG_WARN
        : level <= 6            ? SP_LOG_INFO
                                : SP_LOG_DEBUG;
    sp_log_event(l, NULL, "rdkafka %s: %s", fac, buf);
}

static int conf_set(rd_kafka_conf_t *conf, const char *k, const char *v, char *errbuf, size_t errlen)
{
    if (rd_kafka_conf_set(conf, k, v, errbuf, errlen) != RD_KAFKA_CONF_OK) return SP_ECONFIG;
    return SP_OK;
}

/* Applies SP_RDKAFKA_<NAME>=value from the environment as <name>=value. */
static int conf_apply_env(rd_kafka_conf_t *conf, char *errbuf, size_t errlen)
{
    static const char prefix[] = "SP_RDKAFKA_";
    for (char **e = environ; e && *e; e++) {
        if (strncmp(*e, prefix, sizeof prefix - 1) != 0) continue;
        const char *kv = *e + sizeof prefix - 1;
        const char *eq = strchr(kv, '=');
        if (eq == NULL || eq == kv) continue;
        char name[128];
        size_t n = (size_t)(eq - kv) < sizeof name - 1 ? (size_t)(eq - kv) : sizeof name - 1;
        for (size_t i = 0; i < n; i++) {
            char ch = kv[i];
            name[i] = ch == '_' ? '.' : (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
        }
        name[n] = '\0';
        char err[256];
        if (rd_kafka_conf_set(conf, name, eq + 1, err, sizeof err) != RD_KAFKA_CONF_OK) {
            snprintf(errbuf, errlen, "SP_RDKAFKA_%.*s: %s", (int)n, kv, err);
            return SP_ECONFIG;
        }
    }
    return SP_OK;
}

static rd_kafka_conf_t *conf_base(const char *bootstrap, const char *client_id, char *errbuf, size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (conf_set(conf, "bootstrap.servers", bootstrap, errbuf, errlen) != SP_OK
        || conf_set(conf, "client.id", client_id ? client_id : "salespulse", errbuf, errlen) != SP_OK
        || conf_set(conf, "log.connection.close", "false", errbuf, errlen) != SP_OK) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_log_cb(conf, log_cb);
    return conf;
}

/* ---- producer ---------------------------------------------------------------- */

struct bus_producer {
    rd_kafka_t *rk;
    pthread_t poller;
    volatile int stop;
};

struct done_ctx {
    bus_done_fn fn;
    void *arg;
};

static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    struct done_ctx *d = m->_private;
    if (d == NULL) return;
    if (m->err)
        d->fn(d->arg, SP_EKAFKA, rd_kafka_err2str(m->err), m->partition, m->offset);
    else
        d->fn(d->arg, SP_OK, NULL, m->partition, m->offset);
    free(d);
}

/* Serves delivery reports until stop. */
static void *poll_main(void *arg)
{
    bus_producer *p = arg;
    while (!p->stop)
        rd_kafka_poll(p->rk, 100);
    return NULL;
}

int bus_producer_new(
    const char *bootstrap, const char *client_id, bus_producer **out, char *errbuf, size_t errlen)
{
    bus_producer *p = calloc(1, sizeof *p);
    if (p == NULL) return SP_ENOMEM;
    rd_kafka_conf_t *conf = conf_base(bootstrap, client_id, errbuf, errlen);
    if (conf == NULL) goto fail;
    if (conf_set(conf, "acks", "all", errbuf, errlen) != SP_OK
        || conf_set(conf, "enable.idempotence", "true", errbuf, errlen) != SP_OK
        /* 1 ms, not 5: every producer here waits for its delivery reports
         * before it answers or commits, so linger is paid on each hop
         * (session 14: sp-ingest +5%, sp-route/sp-taskpool ~4 ms a message
         * less); batches still fill while a request is in flight */
        || conf_set(conf, "linger.ms", "1", errbuf, errlen) != SP_OK
        || conf_set(conf, "message.timeout.ms", "30000", errbuf, errlen) != SP_OK
        || conf_set(conf, "compression.type", "lz4", errbuf, errlen) != SP_OK
        || conf_apply_env(conf, errbuf, errlen) != SP_OK) {
        rd_kafka_conf_destroy(conf);
        goto fail;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errbuf, errlen);
    if (p->rk == NULL) {
        rd_kafka_conf_destroy(conf); /* rd_kafka_new takes ownership only on success */
        goto fail;
    }
    if (pthread_create(&p->poller, NULL, poll_main, p) != 0) {
        snprintf(errbuf, errlen, "cannot start the delivery-report thread");
        rd_kafka_destroy(p->rk);
        goto fail;
    }
    *out = p;
    return SP_OK;
fail:
    free(p);
    return SP_EKAFKA;
}

void bus_producer_destroy(bus_producer *p)
{
    if (p == NULL) return;
    rd_kafka_resp_err_t err = rd_kafka_flush(p->rk, 10000);
    if (err) sp_warn("producer flush: %s (%d undelivered)", rd_kafka_err2str(err), rd_kafka_outq_len(p->rk));
    p->stop = 1;
    pthread_join(p->poller, NULL);
    rd_kafka_destroy(p->rk);
    free(p);
}

int bus_producer_send(bus_producer *p, const char *topic, const void *key, size_t key_len, const void *value,
    size_t value_len, bus_done_fn done, void *arg)
{
    return bus_producer_send_to(p, topic, RD_KAFKA_PARTITION_UA, key, key_len, value, value_len, done, arg);
}

/* The partitions of topic from the broker's metadata, asked through any
 * client handle: SP_OK, SP_ENOTFOUND (no such topic) or SP_EKAFKA. */
static int topic_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms, int32_t *out)
{
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    if (t == NULL) return SP_EKAFKA;
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, t, &md, timeout_ms);
    int rv = SP_EKAFKA;
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1) {
        if (md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR || md->topics[0].partition_cnt < 1) {
            rv = SP_ENOTFOUND;
        } else {
            *out = md->topics[0].partition_cnt;
            rv = SP_OK;
        }
    }
    if (md) rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(t);
    return rv;
}

int bus_producer_partitions(bus_producer *p, const char *topic, int timeout_ms, int32_t *out)
{
    return topic_partitions(p->rk, topic, timeout_ms, out);
}

int bus_producer_send_to(bus_producer *p, const char *topic, int32_t partition, const void *key,
    size_t key_len, const void *value, size_t value_len, bus_done_fn done, void *arg)
{
    struct done_ctx *d = NULL;
    if (done) {
        if ((d = malloc(sizeof *d)) == NULL) return SP_ENOMEM;
        d->fn = done;
        d->arg = arg;
    }
    for (int waited = 0;; waited += 10) {
        rd_kafka_resp_err_t err
            = rd_kafka_producev(p->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
                RD_KAFKA_V_KEY((void *)key, key_len), RD_KAFKA_V_VALUE((void *)value, value_len),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(d), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return SP_OK;
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || waited >= 1000) {
            free(d);
            if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) return SP_EFULL;
            sp_warn("produce to %s: %s", topic, rd_kafka_err2str(err));
            return SP_EKAFKA;
        }
        usleep(10000); /* the poll thread drains delivery reports meanwhile */
    }
}

int bus_producer_flush(bus_producer *p, int timeout_ms)
{
    return rd_kafka_flush(p->rk, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR ? SP_OK : SP_ETIMEOUT;
}

int bus_producer_queue_len(bus_producer *p)
{
    return rd_kafka_outq_len(p->rk);
}

/* ---- delivery groups ------------------------------------------------------------- */

struct bus_group {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs;
    int pending;
    int failed;
    char err[256];
};

int bus_group_new(bus_group **out)
{
    bus_group *g = calloc(1, sizeof *g);
    if (g == NULL) return SP_ENOMEM;
    pthread_mutex_init(&g->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g->cv, &ca);
    pthread_condattr_destroy(&ca);
    g->refs = 1;
    *out = g;
    return SP_OK;
}

/* Drops one reference; frees at zero. Lock held on entry, released here. */
static void group_unref_locked(bus_group *g)
{
    int last = --g->refs == 0;
    pthread_mutex_unlock(&g->mu);
    if (last) {
        pthread_cond_destroy(&g->cv);
        pthread_mutex_destroy(&g->mu);
        free(g);
    }
}

static void group_done(void *arg, int err, const char *errstr, int32_t partition, int64_t offset)
{
    (void)partition;
    (void)offset;
    bus_group *g = arg;
    pthread_mutex_lock(&g->mu);
    g->pending--;
    if (err != SP_OK && !g->failed) {
        g->failed = 1;
        snprintf(g->err, sizeof g->err, "%s", errstr ? errstr : sp_strerror(err));
    }
    /* only the last report (or the first failure) can end a wait: waking
     * the waiter on every report cost a context switch per message */
    if (g->pending == 0 || g->failed) pthread_cond_broadcast(&g->cv);
    group_unref_locked(g);
}

int bus_group_send(bus_group *g, bus_producer *p, const char *topic, const void *key, size_t key_len,
    const void *value, size_t value_len)
{
    return bus_group_send_to(g, p, topic, RD_KAFKA_PARTITION_UA, key, key_len, value, value_len);
}

int bus_group_send_to(bus_group *g, bus_producer *p, const char *topic, int32_t partition, const void *key,
    size_t key_len, const void *value, size_t value_len)
{
    pthread_mutex_lock(&g->mu);
    g->pending++;
    g->refs++;
    pthread_mutex_unlock(&g->mu);
    int rv = bus_producer_send_to(p, topic, partition, key, key_len, value, value_len, group_done, g);
    if (rv != SP_OK) {
        pthread_mutex_lock(&g->mu);
        g->pending--;
        g->refs--;
        if (g->pending == 0) pthread_cond_broadcast(&g->cv); /* a waiter on another thread */
        pthread_mutex_unlock(&g->mu);
    }
    return rv;
}

int bus_group_wait(bus_group *g, int timeout_ms, char *errbuf, size_t errlen)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    int rv = SP_OK;
    pthread_mutex_lock(&g->mu);
    while (g->pending > 0 && !g->failed) {
        if (pthread_cond_timedwait(&g->cv, &g->mu, &until) != 0) break;
    }
    if (g->failed) {
        rv = SP_EKAFKA;
        if (errbuf) snprintf(errbuf, errlen, "%s", g->err);
    } else if (g->pending > 0) {
        rv = SP_ETIMEOUT;
        if (errbuf)
            snprintf(errbuf, errlen, "%d message(s) not acknowledged in %d ms", g->pending, timeout_ms);
    }
    pthread_mutex_unlock(&g->mu);
    return rv;
}

void bus_group_release(bus_group *g)
{
    if (g == NULL) return;
    pthread_mutex_lock(&g->mu);
    group_unref_locked(g);
}

/* ---- consumer ----------------------------------------------------------------------- */

struct bus_consumer {
    rd_kafka_t *rk;
    bus_producer *dlq;
    bus_consumer_opts o;
    char *dlq_topic;
    char *service;
    int closed;
    bus_consumer_stats stats;
    pthread_mutex_t stats_mu;
    rd_kafka_message_t **held; /* BUS_DEFER: kept, handed over again with the next batch */
    int64_t (*held_note)[2]; /* the handler's notes on them (bus_msg.note) */
    int n_held, cap_held;
    struct done_mark *done; /* per partition: 1 + the highest offset done (OK or DEAD) */
    int n_done, cap_done;
    rd_kafka_topic_partition_list_t *paused; /* by pause_update (may_pause) */
    int n_assigned; /* at the last pause_update */
    unsigned rebalances; /* assignments and revocations seen (rebalance_cb) */
    unsigned sole_at; /* 1 + rebalances when sole was worked out; 0: never */
    int sole; /* bus_consumer_sole's answer at sole_at */
};

struct done_mark {
    char topic[192];
    int32_t partition;
    int64_t next;
};

/* The done mark of topic/partition, added (next -1) if new; NULL on ENOMEM. */
static struct done_mark *done_get(bus_consumer *c, const char *topic, int32_t partition)
{
    for (int i = 0; i < c->n_done; i++)
        if (c->done[i].partition == partition && strcmp(c->done[i].topic, topic) == 0) return &c->done[i];
    if (c->n_done == c->cap_done) {
        int cap = c->cap_done ? c->cap_done * 2 : 16;
        struct done_mark *d = realloc(c->done, (size_t)cap * sizeof *d);
        if (d == NULL) return NULL;
        c->done = d;
        c->cap_done = cap;
    }
    struct done_mark *d = &c->done[c->n_done++];
    snprintf(d->topic, sizeof d->topic, "%s", topic);
    d->partition = partition;
    d->next = -1;
    return d;
}

/* Moves held message i (and its note) to slot k <= i. */
static void held_keep(bus_consumer *c, int k, int i)
{
    c->held[k] = c->held[i];
    c->held_note[k][0] = c->held_note[i][0];
    c->held_note[k][1] = c->held_note[i][1];
}

/* Drops the held messages of topic/partition (NULL topic: all). */
static void held_drop(bus_consumer *c, const char *topic, int32_t partition)
{
    int k = 0;
    for (int i = 0; i < c->n_done; i++) /* its done marks too: another member may move it on */
        if (topic == NULL || (c->done[i].partition == partition && strcmp(c->done[i].topic, topic) == 0))
            c->done[i] = c->done[--c->n_done], i--;
    for (int i = 0; i < c->n_held; i++) {
        rd_kafka_message_t *m = c->held[i];
        if (topic == NULL || (m->partition == partition && strcmp(rd_kafka_topic_name(m->rkt), topic) == 0))
            rd_kafka_message_destroy(m);
        else
            held_keep(c, k++, i);
    }
    c->n_held = k;
}

/* Resumes the partitions of parts this consumer paused and forgets them:
 * librdkafka keeps an application pause across a revoke, so a partition
 * assigned again later would stay paused. */
static void paused_forget(bus_consumer *c, rd_kafka_topic_partition_list_t *parts)
{
    rd_kafka_topic_partition_list_t *resume = rd_kafka_topic_partition_list_new(parts->cnt);
    for (int i = 0; i < parts->cnt; i++) {
        const char *t = parts->elems[i].topic;
        int32_t p = parts->elems[i].partition;
        if (rd_kafka_topic_partition_list_find(c->paused, t, p) == NULL) continue;
        rd_kafka_topic_partition_list_add(resume, t, p);
        rd_kafka_topic_partition_list_del(c->paused, t, p);
    }
    if (resume->cnt) rd_kafka_resume_partitions(c->rk, resume);
    rd_kafka_topic_partition_list_destroy(resume);
}

static void notify(bus_consumer *c, rd_kafka_topic_partition_list_t *parts, int assigned)
{
    if (c->o.on_rebalance == NULL) return;
    for (int i = 0; i < parts->cnt; i++)
        c->o.on_rebalance(c->o.rebalance_arg, parts->elems[i].topic, parts->elems[i].partition, assigned);
}

static void rebalance_cb(
    rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    bus_consumer *c = opaque;
    int coop = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    c->rebalances++;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        sp_info("assigned %d partition(s)", parts->cnt);
        notify(c, parts, 1);
        if (coop)
            rd_kafka_error_destroy(rd_kafka_incremental_assign(rk, parts));
        else
            rd_kafka_assign(rk, parts);
    } else {
        sp_info("revoked %d partition(s)", parts->cnt);
        /* Commit what was stored before the partitions go to another member. */
        rd_kafka_commit(rk, NULL, 0);
        /* held messages of these partitions come again to their next owner */
        for (int i = 0; i < parts->cnt; i++)
            held_drop(c, parts->elems[i].topic, parts->elems[i].partition);
        paused_forget(c, parts);
        notify(c, parts, 0);
        if (coop)
            rd_kafka_error_destroy(rd_kafka_incremental_unassign(rk, parts));
        else
            rd_kafka_assign(rk, NULL);
    }
}

int bus_consumer_new(const bus_consumer_opts *opts, bus_consumer **out, char *errbuf, size_t errlen)
{
    bus_consumer *c = calloc(1, sizeof *c);
    rd_kafka_conf_t *conf = NULL;
    rd_kafka_topic_partition_list_t *subs = NULL;
    if (c == NULL) return SP_ENOMEM;
    c->o = *opts;
    if (c->o.max_batch <= 0) c->o.max_batch = 500;
    if (c->o.retry_backoff_max_ms <= 0) c->o.retry_backoff_max_ms = 5000;
    c->dlq_topic = strdup(opts->dlq_topic ? opts->dlq_topic : SP_TOPIC_DEADLETTER);
    c->service = strdup(opts->service ? opts->service : "salespulse");
    pthread_mutex_init(&c->stats_mu, NULL);
    c->paused = rd_kafka_topic_partition_list_new(8);
    if (c->dlq_topic == NULL || c->service == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        goto fail;
    }
    if (bus_producer_new(opts->bootstrap, opts->client_id, &c->dlq, errbuf, errlen) != SP_OK) goto fail;
    if ((conf = conf_base(opts->bootstrap, opts->client_id, errbuf, errlen)) == NULL) goto fail;
    char prefetch[24];
    snprintf(prefetch, sizeof prefetch, "%d", c->o.prefetch_kbytes > 0 ? c->o.prefetch_kbytes : 2048);
    if (conf_set(conf, "group.id", opts->group_id, errbuf, errlen) != SP_OK
        || conf_set(conf, "enable.auto.offset.store", "false", errbuf, errlen) != SP_OK
        || conf_set(conf, "enable.auto.commit", "true", errbuf, errlen) != SP_OK
        || conf_set(conf, "auto.commit.interval.ms", "1000", errbuf, errlen) != SP_OK
        || conf_set(conf, "auto.offset.reset", "earliest", errbuf, errlen) != SP_OK
        || conf_set(conf, "session.timeout.ms", "10000", errbuf, errlen) != SP_OK
        || conf_set(conf, "heartbeat.interval.ms", "1000", errbuf, errlen) != SP_OK
        /* the broker answers a fetch as soon as any data is there, so the
         * wait bounds only an idle poll: 20 ms made every idle consumer
         * ask 50 times a second (2,000/s latency run, session 17: 200 ms
         * took 17% of the requests and ~15% of the broker's CPU off, p99
         * as before); a seek or resume waits at most this for the fetch
         * in flight */
        || conf_set(conf, "fetch.wait.max.ms", "200", errbuf, errlen) != SP_OK
        /* prefetch: 2 MB of payload is seconds of input at full speed; a
         * queued message costs ~5x its payload (op, fetched batch): 8 MB
         * took sp-enrich from ~43 to ~61-70 MB of RSS on a replay */
        || conf_set(conf, "queued.max.messages.kbytes", prefetch, errbuf, errlen) != SP_OK
        /* paused partitions drop what was prefetched for them: small fetches
         * keep that cheap; and a full queue takes every partition off the
         * fetch list until librdkafka's next round (up to a second), which a
         * broker's first answer (whole record batches of ~1,000 events per
         * partition) filled at once. sp-score's 40,776-event catch-up: 1 MB
         * fetches and a 2 MB queue 753/s, 64 KB and 8 MB 2,215/s (RSS 27 ->
         * 44 MB); the demo's quarter then took sp-score to 67-72 MB, and
         * 4 MB (SP_SCORE_PREFETCH_KB) replays it as fast at 53-56 MB */
        || (opts->may_pause && conf_set(conf, "max.partition.fetch.bytes", "65536", errbuf, errlen) != SP_OK)
        || conf_apply_env(conf, errbuf, errlen) != SP_OK)
        goto fail;
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_conf_set_opaque(conf, c);
    if ((c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errbuf, errlen)) == NULL) goto fail;
    conf = NULL; /* owned by rk now */
    rd_kafka_poll_set_consumer(c->rk);
    subs = rd_kafka_topic_partition_list_new(4);
    for (const char *const *t = opts->topics; t && *t; t++)
        rd_kafka_topic_partition_list_add(subs, *t, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(c->rk, subs);
    rd_kafka_topic_partition_list_destroy(subs);
    if (err) {
        snprintf(errbuf, errlen, "subscribe: %s", rd_kafka_err2str(err));
        goto fail;
    }
    *out = c;
    return SP_OK;
fail:
    if (conf) rd_kafka_conf_destroy(conf);
    if (c->rk) {
        rd_kafka_destroy(c->rk);
        c->rk = NULL;
    }
    c->closed = 1;
    bus_consumer_destroy(c);
    return SP_EKAFKA;
}

void bus_consumer_destroy(bus_consumer *c)
{
    if (c == NULL) return;
    held_drop(c, NULL, 0);
    free(c->held);
    free(c->held_note);
    free(c->done);
    if (c->paused) rd_kafka_topic_partition_list_destroy(c->paused);
    if (c->rk) {
        if (!c->closed) rd_kafka_consumer_close(c->rk);
        rd_kafka_destroy(c->rk);
    }
    bus_producer_destroy(c->dlq);
    pthread_mutex_destroy(&c->stats_mu);
    free(c->dlq_topic);
    free(c->service);
    free(c);
}

int bus_consumer_behind(bus_consumer *c, const char *topic, int32_t partition)
{
    int64_t lo = -1, hi = -1;
    if (rd_kafka_get_watermark_offsets(c->rk, topic, partition, &lo, &hi) != RD_KAFKA_RESP_ERR_NO_ERROR
        || hi < 0)
        return 1; /* nothing fetched yet: cannot tell, so not idle */
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, partition);
    int64_t pos = -1;
    if (rd_kafka_position(c->rk, l) == RD_KAFKA_RESP_ERR_NO_ERROR) pos = l->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(l);
    if (pos < 0) return hi > lo; /* nothing consumed yet: behind if there is anything */
    return pos < hi;
}

int bus_consumer_sole(bus_consumer *c)
{
    if (c->sole_at == c->rebalances + 1) return c->sole;
    rd_kafka_topic_partition_list_t *a = NULL, *subs = NULL; /* copies: ours to destroy */
    int total = 0, mine = 0;
    if (rd_kafka_assignment(c->rk, &a) != RD_KAFKA_RESP_ERR_NO_ERROR) a = NULL;
    if (rd_kafka_subscription(c->rk, &subs) != RD_KAFKA_RESP_ERR_NO_ERROR) subs = NULL;
    for (int t = 0; a && subs && t < subs->cnt; t++) {
        int32_t n = 0;
        if (topic_partitions(c->rk, subs->elems[t].topic, 2000, &n) != SP_OK) {
            total = -1; /* unknown: not sole */
            break;
        }
        total += n;
        for (int i = 0; i < a->cnt; i++)
            mine += strcmp(a->elems[i].topic, subs->elems[t].topic) == 0;
    }
    int sole = a && subs && total > 0 && mine == total;
    if (a) rd_kafka_topic_partition_list_destroy(a);
    if (subs) rd_kafka_topic_partition_list_destroy(subs);
    if (sole != c->sole || c->sole_at == 0)
        sp_info("%s: %s the group's partitions (%d of %d)", c->service, sole ? "sole owner of" : "sharing",
            mine, total);
    c->sole = sole;
    c->sole_at = c->rebalances + 1;
    return sole;
}

void bus_consumer_stats_get(bus_consumer *c, bus_consumer_stats *out)
{
    pthread_mutex_lock(&c->stats_mu);
    *out = c->stats;
    pthread_mutex_unlock(&c->stats_mu);
}

/* Publishes one DeadLetter and waits for the broker: SP_OK or an error. */
static int dead_letter(bus_consumer *c, const rd_kafka_message_t *m, const char *reason)
{
    Salespulse__V1__DeadLetter dl = SALESPULSE__V1__DEAD_LETTER__INIT;
    Salespulse__V1__EventMeta meta = SALESPULSE__V1__EVENT_META__INIT;
    char id[320], key[300];
    const char *topic = rd_kafka_topic_name(m->rkt);
    snprintf(key, sizeof key, "%s:%d:%lld", topic, (int)m->partition, (long long)m->offset);
    snprintf(id, sizeof id, "dlq:%s", key);
    rd_kafka_timestamp_type_t tst;
    int64_t ts = rd_kafka_message_timestamp(m, &tst);
    meta.event_id = id;
    meta.occurred_at_ms = ts > 0 ? ts : sp_wall_ms();
    meta.produced_at_ms = sp_wall_ms();
    meta.producer = c->service;
    meta.schema_version = 1;
    dl.meta = &meta;
    dl.topic = (char *)topic;
    dl.partition = m->partition;
    dl.offset = m->offset;
    dl.key.data = m->key;
    dl.key.len = m->key_len;
    dl.payload.data = m->payload;
    dl.payload.len = m->len;
    dl.reason = (char *)(reason && *reason ? reason : "rejected by handler");
    dl.service = c->service;
    dl.error_code = "dead";
    size_t n = salespulse__v1__dead_letter__get_packed_size(&dl);
    uint8_t *buf = malloc(n ? n : 1);
    if (buf == NULL) return SP_ENOMEM;
    salespulse__v1__dead_letter__pack(&dl, buf);
    bus_group *g = NULL;
    int rv = bus_group_new(&g);
    if (rv == SP_OK) rv = bus_group_send(g, c->dlq, c->dlq_topic, key, strlen(key), buf, n);
    if (rv == SP_OK) rv = bus_group_wait(g, 10000, NULL, 0);
    bus_group_release(g);
    free(buf);
    if (rv == SP_OK) sp_log_event(SP_LOG_WARN, id, "dead-lettered %s: %s", key, dl.reason);
    return rv;
}

/* Sleeps ms, in slices, returning early when *stop is set. */
static void nap(int ms, volatile sig_atomic_t *stop)
{
    for (int t = 0; t < ms && !*stop; t += 50)
        usleep(50000);
}

struct retry_mark {
    const char *topic;
    int32_t partition;
    int64_t offset;
};

static int marked(const struct retry_mark *marks, int n, const char *topic, int32_t part)
{
    for (int i = 0; i < n; i++)
        if (marks[i].partition == part && strcmp(marks[i].topic, topic) == 0) return 1;
    return 0;
}

/* librdkafka 2.0.2 does not wake the fetcher on a resume: with every other
 * partition paused (or the queue full) the resumed one waited up to a
 * second for the broker thread's next round (seen with debug=fetch). A
 * seek wakes it; seeking to the position (the message after the last one
 * handed out) changes nothing else. Partitions with no position yet are
 * left alone (their first fetch is still to come). */
static void resume_wake(bus_consumer *c, const rd_kafka_topic_partition_list_t *resumed)
{
    rd_kafka_topic_partition_list_t *pos = rd_kafka_topic_partition_list_copy(resumed);
    rd_kafka_topic_partition_list_t *seek = rd_kafka_topic_partition_list_new(pos->cnt);
    if (rd_kafka_position(c->rk, pos) == RD_KAFKA_RESP_ERR_NO_ERROR)
        for (int i = 0; i < pos->cnt; i++)
            if (pos->elems[i].offset >= 0)
                rd_kafka_topic_partition_list_add(seek, pos->elems[i].topic, pos->elems[i].partition)->offset
                    = pos->elems[i].offset;
    if (seek->cnt) {
        rd_kafka_error_t *e = rd_kafka_seek_partitions(c->rk, seek, 0); /* 0: asynchronous */
        if (e) {
            sp_warn("seek after resume: %s", rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
        }
    }
    rd_kafka_topic_partition_list_destroy(seek);
    rd_kafka_topic_partition_list_destroy(pos);
}

/* Pauses the assigned partitions may_pause names (e.g. ahead in event
 * time: what they would bring now is not needed yet) and resumes every
 * other one this consumer paused. A resumed partition fetches on from the
 * message after the last one handed out (librdkafka drops what it had
 * prefetched for it when it paused). */
static void pause_update(bus_consumer *c)
{
    rd_kafka_topic_partition_list_t *assigned = NULL;
    if (rd_kafka_assignment(c->rk, &assigned) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
    rd_kafka_topic_partition_list_t *want = rd_kafka_topic_partition_list_new(8);
    rd_kafka_topic_partition_list_t *pause = rd_kafka_topic_partition_list_new(8);
    rd_kafka_topic_partition_list_t *resume = rd_kafka_topic_partition_list_new(8);
    for (int i = 0; i < assigned->cnt; i++) {
        const char *t = assigned->elems[i].topic;
        int32_t p = assigned->elems[i].partition;
        if (!c->o.may_pause(c->o.pause_arg, t, p)) continue;
        rd_kafka_topic_partition_list_add(want, t, p);
        if (rd_kafka_topic_partition_list_find(c->paused, t, p) == NULL)
            rd_kafka_topic_partition_list_add(pause, t, p);
    }
    for (int i = 0; i < c->paused->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &c->paused->elems[i];
        if (rd_kafka_topic_partition_list_find(want, tp->topic, tp->partition) == NULL)
            rd_kafka_topic_partition_list_add(resume, tp->topic, tp->partition);
    }
    if (pause->cnt) rd_kafka_pause_partitions(c->rk, pause);
    if (resume->cnt) {
        rd_kafka_resume_partitions(c->rk, resume);
        resume_wake(c, resume);
    }
    rd_kafka_topic_partition_list_destroy(c->paused);
    c->paused = want;
    c->n_assigned = assigned->cnt;
    pthread_mutex_lock(&c->stats_mu);
    c->stats.paused = (uint64_t)want->cnt;
    c->stats.pauses += (uint64_t)pause->cnt;
    pthread_mutex_unlock(&c->stats_mu);
    rd_kafka_topic_partition_list_destroy(pause);
    rd_kafka_topic_partition_list_destroy(resume);
    rd_kafka_topic_partition_list_destroy(assigned);
}

/* The lowest offset held for topic/partition, or -1. */
static int64_t held_floor(const bus_consumer *c, const char *topic, int32_t part)
{
    int64_t lo = -1;
    for (int i = 0; i < c->n_held; i++) {
        const rd_kafka_message_t *m = c->held[i];
        if (m->partition == part && (lo < 0 || m->offset < lo)
            && strcmp(rd_kafka_topic_name(m->rkt), topic) == 0)
            lo = m->offset;
    }
    return lo;
}

/* Messages per partition in the batch being filled (a batch's share). */
struct share {
    const rd_kafka_topic_t *rkt;
    int32_t partition;
    int n;
};
#define SHARE_SLOTS 64

/* Counts m in tally (n slots used) and returns 1 when m's partition has
 * reached share; partitions beyond SHARE_SLOTS are not limited. */
static int share_full(struct share *tally, int *n, const rd_kafka_message_t *m, int share)
{
    for (int i = 0; i < *n; i++)
        if (tally[i].partition == m->partition && tally[i].rkt == m->rkt) return ++tally[i].n >= share;
    if (*n == SHARE_SLOTS) return 0;
    tally[(*n)++] = (struct share) {m->rkt, m->partition, 1};
    return share <= 1;
}

int bus_consumer_run(bus_consumer *c, volatile sig_atomic_t *stop)
{
    int max = c->o.max_batch;
    /* a batch: the held messages first (at most BUS_HELD_FACTOR batches), then new ones */
    int cap = max * (1 + BUS_HELD_FACTOR);
    rd_kafka_message_t **ms = calloc((size_t)cap, sizeof *ms);
    bus_msg *msgs = calloc((size_t)cap, sizeof *msgs);
    bus_result *res = calloc((size_t)cap, sizeof *res);
    char(*reasons)[BUS_REASON_LEN] = calloc((size_t)cap, BUS_REASON_LEN);
    struct retry_mark *marks = calloc((size_t)cap, sizeof *marks);
    int64_t(*notes)[2] = calloc((size_t)cap, sizeof *notes);
    c->cap_held = max * BUS_HELD_FACTOR;
    c->held = calloc((size_t)c->cap_held, sizeof *c->held);
    c->held_note = calloc((size_t)c->cap_held, sizeof *c->held_note);
    int rv = SP_OK, backoff = 0;
    if (!ms || !msgs || !res || !reasons || !marks || !notes || !c->held || !c->held_note) {
        rv = SP_ENOMEM;
        goto done;
    }
    while (!*stop) {
        if (c->o.on_idle) c->o.on_idle(c->o.idle_arg);
        if (c->o.may_pause) pause_update(c);
        int n = 0;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, 100);
        int64_t fill_until = sp_wall_ms() + c->o.batch_wait_ms;
        /* polling may revoke partitions (held_drop): take the held ones after it */
        int fresh = 0;
        rd_kafka_message_t **nm = ms + c->cap_held;
        /* with may_pause, a batch takes at most its share per partition:
         * one partition's run (all the others paused, or fetched in one
         * go) must not carry it far past them before pauses are decided */
        int share = c->o.may_pause && !c->o.whole_batches && c->n_assigned > 1
            ? (max + c->n_assigned - 1) / c->n_assigned
            : max;
        struct share tally[SHARE_SLOTS];
        int n_tally = 0;
        while (m != NULL) {
            if (m->err) {
                if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                    sp_warn("consumer: %s", rd_kafka_message_errstr(m));
                rd_kafka_message_destroy(m);
                char fatal[256];
                if (rd_kafka_fatal_error(c->rk, fatal, sizeof fatal)) {
                    sp_error("fatal consumer error: %s", fatal);
                    rv = SP_EKAFKA;
                    goto done;
                }
            } else {
                nm[fresh++] = m;
                if (share < max && share_full(tally, &n_tally, m, share)) break;
            }
            if (fresh == max) break;
            int64_t left = fill_until - sp_wall_ms();
            m = rd_kafka_consumer_poll(c->rk, left > 0 ? (int)left : 0);
        }
        if (fresh == 0 && c->n_held == 0) continue;
        int n_old = c->n_held;
        for (int i = 0; i < n_old; i++) {
            notes[n][0] = c->held_note[i][0];
            notes[n][1] = c->held_note[i][1];
            ms[n++] = c->held[i];
        }
        c->n_held = 0;
        for (int i = 0; i < fresh; i++) {
            notes[n][0] = notes[n][1] = 0;
            ms[n++] = nm[i];
        }

        for (int i = 0; i < n; i++) {
            rd_kafka_timestamp_type_t tst;
            msgs[i] = (bus_msg) {
                .topic = rd_kafka_topic_name(ms[i]->rkt),
                .partition = ms[i]->partition,
                .offset = ms[i]->offset,
                .key = ms[i]->key,
                .key_len = ms[i]->key_len,
                .payload = ms[i]->payload,
                .len = ms[i]->len,
                .timestamp_ms = rd_kafka_message_timestamp(ms[i], &tst),
                .held = i < n_old,
                .note = notes[i],
            };
            res[i] = BUS_RETRY; /* a handler that forgets a slot retries, never loses */
            reasons[i][0] = '\0';
        }
        c->o.handler(c->o.arg, msgs, (size_t)n, res, reasons);

        rd_kafka_topic_partition_list_t *store = rd_kafka_topic_partition_list_new(8);
        int nmarks = 0;
        uint64_t ok = 0, dead = 0, retried = 0, held = 0;
        for (int i = 0; i < n; i++) {
            if (marked(marks, nmarks, msgs[i].topic, msgs[i].partition)) continue;
            bus_result r = res[i];
            if (r == BUS_DEFER && c->n_held == c->cap_held) r = BUS_RETRY; /* no room: fetch it again */
            if (r == BUS_DEAD && dead_letter(c, ms[i], reasons[i]) != SP_OK) {
                sp_warn("dead-letter publish failed; retrying %s:%d:%lld", msgs[i].topic,
                    (int)msgs[i].partition, (long long)msgs[i].offset);
                r = BUS_RETRY;
            }
            if (r == BUS_RETRY) {
                marks[nmarks++] = (struct retry_mark) {msgs[i].topic, msgs[i].partition, msgs[i].offset};
                retried++;
                continue;
            }
            if (r == BUS_DEFER) { /* kept, in partition order; its offset is not stored */
                c->held_note[c->n_held][0] = notes[i][0];
                c->held_note[c->n_held][1] = notes[i][1];
                c->held[c->n_held++] = ms[i];
                ms[i] = NULL;
                held++;
                continue;
            }
            if (r == BUS_DEAD)
                dead++;
            else
                ok++;
            rd_kafka_topic_partition_t *tp
                = rd_kafka_topic_partition_list_find(store, msgs[i].topic, msgs[i].partition);
            if (tp == NULL) tp = rd_kafka_topic_partition_list_add(store, msgs[i].topic, msgs[i].partition);
            if (msgs[i].offset + 1 > tp->offset) tp->offset = msgs[i].offset + 1;
            /* messages done while an earlier one was held: their offset is stored once it is done */
            struct done_mark *d = done_get(c, msgs[i].topic, msgs[i].partition);
            if (d && msgs[i].offset + 1 > d->next) d->next = msgs[i].offset + 1;
            if (d && d->next > tp->offset) tp->offset = d->next;
        }
        /* a partition sought back reads its held messages again, and what
         * was done after the seek point counts once handled again */
        for (int k = 0; k < nmarks; k++) {
            struct done_mark *d = done_get(c, marks[k].topic, marks[k].partition);
            if (d && d->next > marks[k].offset) d->next = marks[k].offset;
            int j = 0;
            for (int i = 0; i < c->n_held; i++) {
                rd_kafka_message_t *hm = c->held[i];
                if (hm->partition == marks[k].partition && hm->offset >= marks[k].offset
                    && strcmp(rd_kafka_topic_name(hm->rkt), marks[k].topic) == 0)
                    rd_kafka_message_destroy(hm);
                else
                    held_keep(c, j++, i);
            }
            c->n_held = j;
        }
        /* a held message is the next one to read after a restart: no offset past it */
        for (int i = 0; i < store->cnt; i++) {
            int64_t lo = held_floor(c, store->elems[i].topic, store->elems[i].partition);
            if (lo >= 0 && store->elems[i].offset > lo) store->elems[i].offset = lo;
            for (int k = 0; k < nmarks; k++) /* nor past a message to be handled again */
                if (marks[k].partition == store->elems[i].partition
                    && store->elems[i].offset > marks[k].offset
                    && strcmp(marks[k].topic, store->elems[i].topic) == 0)
                    store->elems[i].offset = marks[k].offset;
        }
        if (store->cnt > 0) {
            rd_kafka_resp_err_t err = rd_kafka_offsets_store(c->rk, store);
            if (err) sp_warn("offsets_store: %s", rd_kafka_err2str(err));
        }
        rd_kafka_topic_partition_list_destroy(store);
        if (nmarks > 0) {
            /* Go back to the first message not done, on each such partition. */
            rd_kafka_topic_partition_list_t *seek = rd_kafka_topic_partition_list_new(nmarks);
            for (int i = 0; i < nmarks; i++)
                rd_kafka_topic_partition_list_add(seek, marks[i].topic, marks[i].partition)->offset
                    = marks[i].offset;
            rd_kafka_error_t *e = rd_kafka_seek_partitions(c->rk, seek, 5000);
            if (e) {
                sp_warn("seek: %s", rd_kafka_error_string(e));
                rd_kafka_error_destroy(e);
            }
            rd_kafka_topic_partition_list_destroy(seek);
        }
        for (int i = 0; i < n; i++)
            if (ms[i]) rd_kafka_message_destroy(ms[i]);
        pthread_mutex_lock(&c->stats_mu);
        c->stats.handled_ok += ok;
        c->stats.held = (uint64_t)c->n_held;
        c->stats.deferred += held;
        c->stats.dead += dead;
        c->stats.retried += retried;
        c->stats.batches++;
        pthread_mutex_unlock(&c->stats_mu);
        if (nmarks > 0) {
            backoff = backoff ? backoff * 2 : 100;
            if (backoff > c->o.retry_backoff_max_ms) backoff = c->o.retry_backoff_max_ms;
            nap(backoff, stop);
        } else {
            backoff = 0;
        }
    }
done:
    free(ms);
    free(msgs);
    free(res);
    free(reasons);
    free(marks);
    free(notes);
    if (!c->closed) {
        rd_kafka_resp_err_t err = rd_kafka_consumer_close(c->rk);
        if (err) sp_warn("consumer close: %s", rd_kafka_err2str(err));
        c->closed = 1;
    }
    return rv;
}

/* ---- admin ------------------------------------------------------------------------------ */

int bus_topics_create(const char *bootstrap, const char *const *topics, int partitions, int replication,
    int timeout_ms, char *errbuf, size_t errlen)
{
    int rv = SP_EKAFKA, nt = 0;
    rd_kafka_t *rk = NULL;
    rd_kafka_queue_t *q = NULL;
    rd_kafka_event_t *ev = NULL;
    rd_kafka_AdminOptions_t *ao = NULL;
    rd_kafka_NewTopic_t *nts[64] = {0};
    rd_kafka_conf_t *conf = conf_base(bootstrap, "spctl-admin", errbuf, errlen);
    if (conf == NULL) return SP_ECONFIG;
    if ((rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errbuf, errlen)) == NULL) {
        rd_kafka_conf_destroy(conf);
        return SP_EKAFKA;
    }
    for (; nt < 64 && topics[nt]; nt++) {
        char e[256];
        if ((nts[nt] = rd_kafka_NewTopic_new(topics[nt], partitions, replication, e, sizeof e)) == NULL) {
            snprintf(errbuf, errlen, "%s: %s", topics[nt], e);
            goto fail;
        }
    }
    q = rd_kafka_queue_new(rk);
    ao = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(ao, timeout_ms, NULL, 0);
    rd_kafka_AdminOptions_set_request_timeout(ao, timeout_ms, NULL, 0);
    rd_kafka_CreateTopics(rk, nts, (size_t)nt, ao, q);
    ev = rd_kafka_queue_poll(q, timeout_ms + 2000);
    if (ev == NULL) {
        snprintf(errbuf, errlen, "create topics: no answer in %d ms", timeout_ms);
        goto fail;
    }
    if (rd_kafka_event_error(ev)) {
        snprintf(errbuf, errlen, "create topics: %s", rd_kafka_event_error_string(ev));
        goto fail;
    }
    size_t cnt = 0;
    const rd_kafka_topic_result_t **tr
        = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &cnt);
    for (size_t i = 0; i < cnt; i++) {
        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(tr[i]);
        if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            snprintf(errbuf, errlen, "%s: %s", rd_kafka_topic_result_name(tr[i]),
                rd_kafka_topic_result_error_string(tr[i]));
            goto fail;
        }
    }
    rv = SP_OK;
fail:
    if (ev) rd_kafka_event_destroy(ev);
    if (ao) rd_kafka_AdminOptions_destroy(ao);
    if (q) rd_kafka_queue_destroy(q);
    for (int i = 0; i < nt; i++)
        if (nts[i]) rd_kafka_NewTopic_destroy(nts[i]);
    rd_kafka_destroy(rk);
    return rv;
}

static volatile sig_atomic_t *stop_flag;
static void on_stop(int sig)
{
    (void)sig;
    if (stop_flag) *stop_flag = 1;
}

void bus_install_stop_signals(volatile sig_atomic_t *stop)
{
    stop_flag = stop;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}

struct bus_lag {
    rd_kafka_t *rk; /* a consumer of the group that never joins it: it only reads offsets */
    rd_kafka_topic_t *rkt;
    char *topic;
};

int bus_lag_new(
    const char *bootstrap, const char *group, const char *topic, bus_lag **out, char *errbuf, size_t errlen)
{
    bus_lag *l = calloc(1, sizeof *l);
    rd_kafka_conf_t *conf = NULL;
    int rv = SP_ECONFIG;
    if (l == NULL || (l->topic = strdup(topic)) == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        rv = SP_ENOMEM;
        goto fail;
    }
    if ((conf = conf_base(bootstrap, "spctl-lag", errbuf, errlen)) == NULL
        || conf_set(conf, "group.id", group, errbuf, errlen) != SP_OK)
        goto fail;
    if ((l->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errbuf, errlen)) == NULL) {
        rv = SP_EKAFKA;
        goto fail;
    }
    conf = NULL; /* the handle owns it */
    if ((l->rkt = rd_kafka_topic_new(l->rk, topic, NULL)) == NULL) {
        snprintf(errbuf, errlen, "topic %s: %s", topic, rd_kafka_err2str(rd_kafka_last_error()));
        rv = SP_EKAFKA;
        goto fail;
    }
    *out = l;
    return SP_OK;
fail:
    if (conf) rd_kafka_conf_destroy(conf);
    bus_lag_destroy(l);
    return rv;
}

int bus_lag_read(bus_lag *l, int timeout_ms, int64_t *lag, char *errbuf, size_t errlen)
{
    int rv = SP_EKAFKA;
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_topic_partition_list_t *parts = NULL, *ends = NULL, *starts = NULL;
    /* the partitions every time: a topic may gain some */
    rd_kafka_resp_err_t err = rd_kafka_metadata(l->rk, 0, l->rkt, &md, timeout_ms);
    if (err || md->topic_cnt != 1 || md->topics[0].err) {
        snprintf(errbuf, errlen, "metadata of %s: %s", l->topic,
            rd_kafka_err2str(err          ? err
                    : md && md->topic_cnt ? md->topics[0].err
                                          : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC));
        goto fail;
    }
    parts = rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
    for (int i = 0; i < md->topics[0].partition_cnt; i++)
        rd_kafka_topic_partition_list_add(parts, l->topic, md->topics[0].partitions[i].id);
    if ((err = rd_kafka_committed(l->rk, parts, timeout_ms)) != 0) {
        snprintf(errbuf, errlen, "committed offsets on %s: %s", l->topic, rd_kafka_err2str(err));
        goto fail;
    }
    /* every partition's end in one ListOffsets request (timestamp -1: the
     * latest), and the start (-2) of those the group never committed */
    ends = rd_kafka_topic_partition_list_copy(parts);
    starts = rd_kafka_topic_partition_list_new(1);
    for (int i = 0; i < parts->cnt; i++) {
        ends->elems[i].offset = RD_KAFKA_OFFSET_END;
        if (parts->elems[i].offset < 0)
            rd_kafka_topic_partition_list_add(starts, l->topic, parts->elems[i].partition)->offset
                = RD_KAFKA_OFFSET_BEGINNING;
    }
    if ((err = rd_kafka_offsets_for_times(l->rk, ends, timeout_ms)) != 0
        || (starts->cnt > 0 && (err = rd_kafka_offsets_for_times(l->rk, starts, timeout_ms)) != 0)) {
        snprintf(errbuf, errlen, "watermarks of %s: %s", l->topic, rd_kafka_err2str(err));
        goto fail;
    }
    int64_t total = 0;
    for (int i = 0, j = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *start = parts->elems[i].offset < 0 ? &starts->elems[j++] : NULL;
        int64_t at = start ? start->offset : parts->elems[i].offset, hi = ends->elems[i].offset;
        rd_kafka_resp_err_t perr = ends->elems[i].err ? ends->elems[i].err : start ? start->err : 0;
        if (perr || hi < 0 || at < 0) {
            snprintf(errbuf, errlen, "watermarks of %s [%d]: %s", l->topic, (int)parts->elems[i].partition,
                rd_kafka_err2str(perr ? perr : RD_KAFKA_RESP_ERR__BAD_MSG));
            goto fail;
        }
        total += hi > at ? hi - at : 0;
    }
    *lag = total;
    rv = SP_OK;
fail:
    if (starts) rd_kafka_topic_partition_list_destroy(starts);
    if (ends) rd_kafka_topic_partition_list_destroy(ends);
    if (parts) rd_kafka_topic_partition_list_destroy(parts);
    if (md) rd_kafka_metadata_destroy(md);
    return rv;
}

void bus_lag_destroy(bus_lag *l)
{
    if (l == NULL) return;
    if (l->rkt) rd_kafka_topic_destroy(l->rkt);
    if (l->rk) rd_kafka_destroy(l->rk);
    free(l->topic);
    free(l);
}

int bus_group_lag(
    const char *bootstrap, const char *group, const char *topic, int64_t *lag, char *errbuf, size_t errlen)
{
    bus_lag *l = NULL;
    int rv = bus_lag_new(bootstrap, group, topic, &l, errbuf, errlen);
    if (rv == SP_OK) rv = bus_lag_read(l, 10000, lag, errbuf, errlen);
    bus_lag_destroy(l);
    return rv;
}
