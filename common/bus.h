/* bus.h - Kafka through librdkafka: a producer with a completion callback per
 * message, a bounded-wait delivery group, and an at-least-once consumer loop
 * with RETRY and dead-letter handling.
 *
 * Producer: acks=all, enable.idempotence=true. bus_producer_send() copies
 * key and value; the completion callback runs exactly once per accepted
 * message, from the producer's poll thread, when the delivery report
 * arrives (success or final failure after message.timeout.ms).
 *
 * Consumer: enable.auto.offset.store=false and auto-commit on, so an offset
 * is stored only after its handler returned OK (librdkafka INTRODUCTION.md,
 * "at-least-once"). A handler returns per message:
 *   BUS_OK     done (its database transaction committed): store the offset;
 *   BUS_RETRY  transient failure: back off, seek back, handle it again; the
 *              offset is not stored, and the later messages of that
 *              partition in the batch are handled again after it (so a
 *              handler should not apply them either: order per key holds);
 *   BUS_DEAD   poison: publish a DeadLetter (topic, partition, offset, key,
 *              payload, reason) to the dead-letter topic, then move on;
 *   BUS_DEFER  not yet (an event ahead of event time): the consumer keeps the
 *              message in memory and hands it over again, first, with the
 *              next batch (msgs[i].held = 1; also after a poll that brought
 *              nothing, every ~100 ms), while later messages of its
 *              partition go on; no offset at or past a held message is
 *              stored, so after a crash it comes again (the handler absorbs
 *              the later ones that were done: idempotency). Held messages of
 *              a revoked partition are dropped (its next owner reads them).
 *              At most BUS_HELD_FACTOR batches are held; beyond that a
 *              BUS_DEFER counts as BUS_RETRY.
 *
 * opts.may_pause, asked once per loop turn for every assigned partition,
 * pauses a partition (nothing more is fetched from it) until it says no:
 * fetches take no account of event time, so one partition can run days
 * ahead of another unless paused (measured in the demo: 190 hours).
 *
 * Any environment variable SP_RDKAFKA_<NAME> is passed to librdkafka as the
 * property <name> with '_' turned into '.' (SP_RDKAFKA_LINGER_MS=5 ->
 * linger.ms=5), for both producers and consumers. */
#ifndef SP_BUS_H
#define SP_BUS_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#define SP_TOPIC_INTERACTIONS  "sp.interactions.v1"
#define SP_TOPIC_ENRICHED      "sp.enriched.v1"
#define SP_TOPIC_SIGNALS       "sp.signals.v1"
#define SP_TOPIC_TASK_COMMANDS "sp.tasks.commands.v1"
#define SP_TOPIC_TASK_EVENTS   "sp.tasks.events.v1"
#define SP_TOPIC_DEADLETTER    "sp.deadletter.v1"

/* The six topics, NULL-terminated. */
extern const char *const sp_topics_all[];

typedef struct bus_producer bus_producer;
typedef struct bus_consumer bus_consumer;
typedef struct bus_group bus_group;

/* Delivery outcome: err is SP_OK when the broker has the message. */
typedef void (*bus_done_fn)(void *arg, int err, const char *errstr, int32_t partition, int64_t offset);

/* Creates a producer for the bootstrap servers. client_id names the service
 * in broker logs. On error returns SP_EKAFKA/SP_ECONFIG and fills errbuf.
 * Caller frees with bus_producer_destroy. */
int bus_producer_new(
    const char *bootstrap, const char *client_id, bus_producer **out, char *errbuf, size_t errlen);

/* Flushes (up to 10 s) and frees. Accepts NULL. */
void bus_producer_destroy(bus_producer *p);

/* Queues one message; done (may be NULL) is called once with the outcome.
 * Waits up to 1 s for room when the local queue is full, then SP_EFULL (done
 * is then not called). Other errors: SP_EKAFKA. */
int bus_producer_send(bus_producer *p, const char *topic, const void *key, size_t key_len, const void *value,
    size_t value_len, bus_done_fn done, void *arg);

/* bus_producer_send to one partition (partition >= 0) instead of the key's. */
int bus_producer_send_to(bus_producer *p, const char *topic, int32_t partition, const void *key,
    size_t key_len, const void *value, size_t value_len, bus_done_fn done, void *arg);

/* The number of partitions of topic in *out (broker metadata, up to
 * timeout_ms). SP_OK, SP_ENOTFOUND (no such topic) or SP_EKAFKA. */
int bus_producer_partitions(bus_producer *p, const char *topic, int timeout_ms, int32_t *out);

/* Waits until every queued message is delivered or timeout_ms passes:
 * SP_OK or SP_ETIMEOUT. */
int bus_producer_flush(bus_producer *p, int timeout_ms);

/* Messages queued and not yet acknowledged (Kafka queue depth). */
int bus_producer_queue_len(bus_producer *p);

/* A delivery group: send several messages, then wait for all of them.
 * The group is reference counted so a waiter that gives up (timeout) never
 * leaves a callback pointing at freed memory. */
int bus_group_new(bus_group **out);
/* Sends one message in the group (like bus_producer_send). */
int bus_group_send(bus_group *g, bus_producer *p, const char *topic, const void *key, size_t key_len,
    const void *value, size_t value_len);
/* bus_group_send to one partition. */
int bus_group_send_to(bus_group *g, bus_producer *p, const char *topic, int32_t partition, const void *key,
    size_t key_len, const void *value, size_t value_len);
/* Waits until every message sent in the group is delivered: SP_OK; one
 * failed: SP_EKAFKA (errbuf says why); time is up: SP_ETIMEOUT. */
int bus_group_wait(bus_group *g, int timeout_ms, char *errbuf, size_t errlen);
/* Drops the caller's reference. Accepts NULL. */
void bus_group_release(bus_group *g);

typedef enum bus_result {
    BUS_OK = 0,
    BUS_RETRY,
    BUS_DEAD,
    BUS_DEFER,
} bus_result;

#define BUS_HELD_FACTOR 16 /* held messages at most: this many batches (max_batch) */

typedef struct bus_msg {
    const char *topic;
    int32_t partition;
    int64_t offset;
    const void *key;
    size_t key_len;
    const void *payload;
    size_t len;
    int64_t timestamp_ms; /* broker/producer timestamp */
    int held; /* 1: handed over again after BUS_DEFER */
    /* Two values the handler may keep with a message it defers (e.g. what
     * it decoded from it), handed back with it; 0, 0 for a new message. */
    int64_t *note;
} bus_msg;

/* Handles a batch of n messages (n >= 1, in order per partition), writing
 * one result per message into results[] and, for BUS_DEAD, a reason into
 * reasons[i] (a buffer of BUS_REASON_LEN bytes). A batch handler usually
 * applies the whole batch in one database transaction. */
#define BUS_REASON_LEN 256
typedef void (*bus_batch_fn)(
    void *arg, const bus_msg *msgs, size_t n, bus_result *results, char (*reasons)[BUS_REASON_LEN]);

/* Called on rebalance for each partition gained (assigned=1) or lost. */
typedef void (*bus_rebalance_fn)(void *arg, const char *topic, int32_t partition, int assigned);

typedef struct bus_consumer_opts {
    const char *bootstrap;
    const char *group_id;
    const char *client_id;
    const char *const *topics; /* NULL-terminated */
    const char *dlq_topic; /* default SP_TOPIC_DEADLETTER */
    const char *service; /* written into DeadLetter.service */
    int max_batch; /* default 500 */
    int batch_wait_ms; /* default 0: after a batch's first message, how long to wait for more
                        * (0: take what is already fetched) */
    int retry_backoff_max_ms; /* default 5000 */
    bus_batch_fn handler;
    void *arg;
    bus_rebalance_fn on_rebalance; /* may be NULL */
    void *rebalance_arg;
    /* Whether an assigned partition is to be paused now (e.g. it runs
     * ahead in event time). Called from the consumer's thread before each
     * poll; NULL: never paused. */
    int (*may_pause)(void *arg, const char *topic, int32_t partition);
    void *pause_arg;
    /* With may_pause: batches are filled whole instead of cut at one
     * partition's share - for a handler that holds what runs ahead in
     * event time itself (cutting made sp-score's batches ~80 events). */
    int whole_batches;
    /* Prefetched input kept by librdkafka, KiB of payload (0: 2048). Each
     * queued message costs ~5x its payload in RSS (its op and the fetched
     * batch it points into). */
    int prefetch_kbytes;
    /* Called once per loop turn (between batches), e.g. for sweeps. */
    void (*on_idle)(void *arg);
    void *idle_arg;
} bus_consumer_opts;

/* Creates a consumer subscribed to opts->topics, with its own producer for
 * dead letters. Caller frees with bus_consumer_destroy. */
int bus_consumer_new(const bus_consumer_opts *opts, bus_consumer **out, char *errbuf, size_t errlen);

/* Polls and handles until *stop becomes non-zero (set it from a SIGTERM /
 * SIGINT handler), then commits the stored offsets and leaves the group.
 * Returns SP_OK, or SP_EKAFKA on a fatal consumer error. */
int bus_consumer_run(bus_consumer *c, volatile sig_atomic_t *stop);

/* Closes (if still open) and frees. Accepts NULL. */
void bus_consumer_destroy(bus_consumer *c);

/* 1 when the consumer may still have messages of topic/partition to hand
 * out: its position (last message returned + 1) is below the partition's
 * high watermark as last fetched, or either is not known yet. Call from the
 * consumer's own thread (handler, on_idle). */
int bus_consumer_behind(bus_consumer *c, const char *topic, int32_t partition);

/* 1 when the consumer is assigned every partition of every topic it
 * subscribed to - no other member of its group is handed messages now -
 * else 0, also while an assignment or partition count cannot be read (the
 * safe answer). Worked out once per rebalance (one metadata round trip,
 * up to 2 s). Call from the consumer's own thread (handler, on_idle). */
int bus_consumer_sole(bus_consumer *c);

/* Counters since start, for metrics and tests. */
typedef struct bus_consumer_stats {
    uint64_t handled_ok, retried, dead, batches;
    uint64_t deferred; /* BUS_DEFER results */
    uint64_t held; /* messages held now */
    uint64_t paused; /* partitions paused now (may_pause) */
    uint64_t pauses; /* partitions paused since start */
} bus_consumer_stats;
void bus_consumer_stats_get(bus_consumer *c, bus_consumer_stats *out);

/* Creates the topics (existing ones are left as they are) with the given
 * partitions and replication factor. SP_OK or SP_EKAFKA with errbuf. */
int bus_topics_create(const char *bootstrap, const char *const *topics, int partitions, int replication,
    int timeout_ms, char *errbuf, size_t errlen);

/* Installs SIGTERM and SIGINT handlers that set *stop = 1. */
void bus_install_stop_signals(volatile sig_atomic_t *stop);

/* The total lag of consumer group on topic: the sum over partitions of the
 * high watermark minus the committed offset (a partition without a commit
 * counts from its low watermark). SP_OK or SP_EKAFKA with errbuf. */
int bus_group_lag(
    const char *bootstrap, const char *group, const char *topic, int64_t *lag, char *errbuf, size_t errlen);

/* A reader of one consumer group's lag on one topic that keeps its
 * connection between reads (bus_group_lag connects and leaves each time:
 * tens of ms and a coordinator lookup). It reads offsets only: it never
 * joins the group. */
typedef struct bus_lag bus_lag;

/* Creates a lag reader; nothing is read yet. SP_OK with *out (caller
 * frees with bus_lag_destroy), or SP_ECONFIG/SP_ENOMEM/SP_EKAFKA with errbuf. */
int bus_lag_new(
    const char *bootstrap, const char *group, const char *topic, bus_lag **out, char *errbuf, size_t errlen);

/* Reads the lag as bus_group_lag does, each of its three requests waiting
 * at most timeout_ms. SP_OK or SP_EKAFKA with errbuf (the reader stays
 * usable: a later read may succeed). */
int bus_lag_read(bus_lag *l, int timeout_ms, int64_t *lag, char *errbuf, size_t errlen);

/* Frees a lag reader; accepts NULL. */
void bus_lag_destroy(bus_lag *l);
#endif
