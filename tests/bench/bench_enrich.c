/* Enrichment end to end: Kafka -> sp-enrich -> PostgreSQL -> Kafka.
 *
 * 1. Loads N serialized Interactions into sp.interactions.v1, built from a
 *    simulator's events.ndjson (`spctl sim`) by sp-ingest's own parsers
 *    (generic items, raw MIME e-mail, call transcripts): the realistic mix
 *    of chat / e-mail / call / activity / tracking / CRM events, Chinese
 *    text, known and unknown identities. When the file holds fewer than N
 *    events it is replayed again with event ids suffixed "~<round>".
 * 2. Starts sp-enrich (the environment gives it SP_PG_URL etc.; the caller
 *    has migrated and seeded the database; BENCH_ENRICH_INSTANCES=k starts
 *    k members of the group, on HTTP ports from BENCH_ENRICH_PORT), waits
 *    until its consumer group has no lag, notes the peak RSS and the CPU
 *    time of sp-enrich and of its PostgreSQL backend, and stops it.
 * 3. Reads sp.enriched.v1: the sustained rate is the number of enriched
 *    events over the time between the first and the last one's producer
 *    timestamp (so start-up and group join are not counted; the wall time
 *    including them is printed too).
 * 4. Baseline, in the same run: a plain librdkafka pass-through of the
 *    same input (a fresh consumer of sp.interactions.v1, each message
 *    re-produced, acks=all, idempotent, lz4, with the payload scaled so the
 *    output bytes equal the enriched output's), printed as a ratio.
 * Usage: bench_enrich BOOTSTRAP EVENTS_NDJSON N SP_ENRICH_BIN [LOGFILE]
 * The clock here measures the benchmark, not business logic. */
#include "bus.h"
#include "clock.h"
#include "err.h"
#include "ingest/batch.h"
#include "ingest/call.h"
#include "ingest/email.h"
#include "ingest/interaction.h"
#include "procstat.h"

#include <fcntl.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PASS_TOPIC "bench.passthrough"

static const char *bootstrap;

struct counter {
    long ok, failed;
    pthread_mutex_t mu;
};

static void count_done(void *arg, int err, const char *s, int32_t p, int64_t o)
{
    (void)s;
    (void)p;
    (void)o;
    struct counter *c = arg;
    pthread_mutex_lock(&c->mu);
    if (err == SP_OK)
        c->ok++;
    else
        c->failed++;
    pthread_mutex_unlock(&c->mu);
}

/* One simulator line -> an Interaction, through the parser sp-ingest uses
 * for its endpoint. SP_OK, or an error (the line is skipped). */
static int line_parse(const char *line, sp_interaction **out)
{
    static const char *const domains[] = {"hengyuan.cn"};
    json_t *env = json_loads(line, 0, NULL);
    if (env == NULL) return SP_EDECODE;
    const char *ep = json_string_value(json_object_get(env, "endpoint"));
    json_t *item = json_object_get(env, "item");
    ingest_batch_opts bo = {.now_ms = sp_wall_ms()};
    ingest_errlist errs = {0};
    int rv = SP_EINVAL;
    *out = NULL;
    if (ep && strcmp(ep, "/v1/interactions") == 0 && item) {
        rv = ingest_batch_item_parse(item, 0, &bo, out, &errs);
    } else if (ep && strcmp(ep, "/v1/calls") == 0 && item) {
        char *body = json_dumps(item, JSON_COMPACT);
        rv = body ? ingest_call_parse(body, strlen(body), &bo, out, &errs) : SP_ENOMEM;
        free(body);
    } else if (ep && strcmp(ep, "/v1/email") == 0) {
        const char *mime = json_string_value(json_object_get(env, "mime"));
        ingest_email_opts eo = {.now_ms = bo.now_ms, .our_domains = domains, .n_domains = 1};
        char err[256];
        rv = mime ? ingest_email_parse(mime, strlen(mime), &eo, out, err, sizeof err) : SP_EINVAL;
    }
    ingest_errlist_clear(&errs);
    json_decref(env);
    return rv;
}

/* Appends "~round" to a heap string field. */
static int suffix(char **s, int round)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s~%d", *s ? *s : "", round);
    return interaction_str_set(s, buf);
}

/* Produces n events from the file into sp.interactions.v1. */
static int load(const char *path, long n, long *channels, size_t *bytes)
{
    char err[256];
    bus_producer *p = NULL;
    if (bus_producer_new(bootstrap, "bench-enrich-load", &p, err, sizeof err) != SP_OK) {
        fprintf(stderr, "bench_enrich: producer: %s\n", err);
        return 1;
    }
    struct counter c = {0};
    pthread_mutex_init(&c.mu, NULL);
    long sent = 0, skipped = 0;
    char *line = NULL;
    size_t cap = 0;
    for (int round = 0; sent < n; round++) {
        FILE *f = fopen(path, "r");
        if (f == NULL) {
            perror(path);
            return 1;
        }
        long before = sent;
        while (sent < n && getline(&line, &cap, f) > 0) {
            sp_interaction *ix = NULL;
            if (line_parse(line, &ix) != SP_OK) {
                skipped++;
                continue;
            }
            if (round > 0
                && (suffix(&ix->meta->event_id, round) != SP_OK
                    || suffix(&ix->external_id, round) != SP_OK)) {
                interaction_destroy(ix);
                return 1;
            }
            char key[512];
            if (interaction_customer_key(ix, key, sizeof key) != SP_OK)
                snprintf(key, sizeof key, "%s", ix->meta->event_id);
            size_t len = salespulse__v1__interaction__get_packed_size(ix);
            uint8_t *buf = malloc(len ? len : 1);
            salespulse__v1__interaction__pack(ix, buf);
            while (bus_producer_send(p, SP_TOPIC_INTERACTIONS, key, strlen(key), buf, len, count_done, &c)
                == SP_EFULL)
                ;
            if (ix->channel >= 0 && ix->channel < 16) channels[ix->channel]++;
            *bytes += len;
            sent++;
            free(buf);
            interaction_destroy(ix);
        }
        fclose(f);
        if (sent == before) break; /* nothing usable in the file */
    }
    free(line);
    bus_producer_flush(p, 120000);
    bus_producer_destroy(p);
    if (c.ok != sent) {
        fprintf(stderr, "bench_enrich: %ld of %ld events delivered\n", c.ok, sent);
        return 1;
    }
    if (skipped) fprintf(stderr, "bench_enrich: %ld lines skipped (unparseable)\n", skipped);
    return 0;
}

/* Reads every message of topic from the beginning up to the high
 * watermarks as they are now, calling fn on each. Returns the count. */
typedef void (*msg_fn)(void *arg, const rd_kafka_message_t *m);
static long read_topic(const char *topic, msg_fn fn, void *arg)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char group[64];
    snprintf(group, sizeof group, "bench-enrich-%lld", (long long)sp_wall_ms());
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof err);
    rd_kafka_conf_set(conf, "group.id", group, err, sizeof err);
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
    rd_kafka_conf_set(conf, "enable.partition.eof", "true", err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (rk == NULL) return -1;
    rd_kafka_poll_set_consumer(rk);
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) || md->topic_cnt != 1) {
        rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);
        return -1;
    }
    rd_kafka_topic_destroy(rkt);
    int np = md->topics[0].partition_cnt, open = 0;
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(np);
    for (int i = 0; i < np; i++) {
        int32_t id = md->topics[0].partitions[i].id;
        int64_t lo = 0, hi = 0;
        rd_kafka_query_watermark_offsets(rk, topic, id, &lo, &hi, 10000);
        if (hi > lo) {
            rd_kafka_topic_partition_list_add(parts, topic, id)->offset = RD_KAFKA_OFFSET_BEGINNING;
            open++;
        }
    }
    rd_kafka_metadata_destroy(md);
    rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    long n = 0;
    int idle = 0;
    while (open > 0 && idle < 100) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (m == NULL) {
            idle++;
            continue;
        }
        idle = 0;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
            open--;
        else if (!m->err) {
            n++;
            fn(arg, m);
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return n;
}

struct out_scan {
    int64_t first_ts, last_ts;
    size_t bytes;
};

static void scan_out(void *arg, const rd_kafka_message_t *m)
{
    struct out_scan *s = arg;
    rd_kafka_timestamp_type_t tt;
    int64_t ts = rd_kafka_message_timestamp(m, &tt);
    if (s->first_ts == 0 || ts < s->first_ts) s->first_ts = ts;
    if (ts > s->last_ts) s->last_ts = ts;
    s->bytes += m->len;
}

struct pass {
    bus_producer *p;
    struct counter c;
    double scale;
    int64_t t0;
    long n;
};

static void pass_one(void *arg, const rd_kafka_message_t *m)
{
    static uint8_t buf[1 << 20];
    struct pass *ps = arg;
    if (ps->t0 == 0) ps->t0 = sp_wall_ms();
    size_t len = (size_t)((double)m->len * ps->scale);
    if (len > sizeof buf) len = sizeof buf;
    memcpy(buf, m->payload, len < m->len ? len : m->len);
    while (bus_producer_send(ps->p, PASS_TOPIC, m->key, m->key_len, buf, len, count_done, &ps->c) == SP_EFULL)
        ;
    ps->n++;
}

/* A process's peak resident memory in MB (VmHWM), or 0. */
static double rss_mb(pid_t pid)
{
    double mb = 0;
    procstat_mem_mb(pid, &mb, NULL);
    return mb;
}

/* CPU seconds of the PostgreSQL backends serving the database (sp-enrich's
 * connection: nothing else is connected during the run). */
static double pg_backend_cpu_s(void)
{
    const char *url = getenv("SP_PG_URL");
    PGconn *c = url ? PQconnectdb(url) : NULL;
    double sum = 0;
    if (c && PQstatus(c) == CONNECTION_OK) {
        PGresult *r = PQexec(c,
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client "
            "backend' AND pid <> pg_backend_pid()");
        for (int i = 0; PQresultStatus(r) == PGRES_TUPLES_OK && i < PQntuples(r); i++)
            sum += procstat_cpu_s(atol(PQgetvalue(r, i, 0)));
        PQclear(r);
    }
    PQfinish(c);
    return sum;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: bench_enrich BOOTSTRAP EVENTS_NDJSON N SP_ENRICH_BIN [LOGFILE]\n");
        return 2;
    }
    bootstrap = argv[1];
    long n = atol(argv[3]);
    const char *log = argc > 5 ? argv[5] : "/dev/null";
    char err[256];

    long channels[16] = {0};
    size_t in_bytes = 0;
    if (load(argv[2], n, channels, &in_bytes) != 0) return 1;
    static const char *const cn[]
        = {"?", "wecom", "email", "call", "meeting", "note", "tracking", "activity", "crm"};
    printf("bench_enrich: loaded %ld interactions (%.0f bytes mean):", n, (double)in_bytes / (double)n);
    for (int i = 0; i < 9; i++)
        if (channels[i]) printf(" %s %ld", cn[i], channels[i]);
    printf("\n");
    fflush(stdout);

    int64_t w0 = sp_wall_ms();
    /* BENCH_ENRICH_INSTANCES members of the group (default 1), each with
     * its own HTTP port from BENCH_ENRICH_PORT on */
    int k = getenv("BENCH_ENRICH_INSTANCES") ? atoi(getenv("BENCH_ENRICH_INSTANCES")) : 1;
    int port = getenv("BENCH_ENRICH_PORT") ? atoi(getenv("BENCH_ENRICH_PORT")) : 0;
    if (k < 1 || k > 8) k = 1;
    pid_t pids[8];
    for (int i = 0; i < k; i++) {
        if ((pids[i] = fork()) == 0) {
            int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
            if (fd >= 0) {
                dup2(fd, 1);
                dup2(fd, 2);
            }
            if (port > 0) {
                char addr[64];
                snprintf(addr, sizeof addr, "http://127.0.0.1:%d", port + i);
                setenv("SP_HTTP_ADDR", addr, 1);
            }
            execl(argv[4], argv[4], (char *)NULL);
            _exit(127);
        }
    }
    int64_t lag = -1;
    double peak = 0, cpu_enrich = 0, cpu_pg = 0;
    /* one connection for every poll, none opened while the broker is
     * measured; made after the forks, so no child is forked beside its threads */
    bus_lag *lr = NULL;
    if (bus_lag_new(bootstrap, "sp-enrich", SP_TOPIC_INTERACTIONS, &lr, err, sizeof err) != SP_OK) {
        fprintf(stderr, "bench_enrich: %s\n", err);
        for (int i = 0; i < k; i++)
            kill(pids[i], SIGTERM);
        return 1;
    }
    for (int t = 0; t < 2400; t++) { /* up to 20 min */
        usleep(500000);
        for (int i = 0; i < k; i++) {
            double mb = rss_mb(pids[i]);
            if (mb > peak) peak = mb;
            if (waitpid(pids[i], NULL, WNOHANG) == pids[i]) {
                fprintf(stderr, "bench_enrich: sp-enrich exited (see %s)\n", log);
                bus_lag_destroy(lr);
                return 1;
            }
        }
        if (bus_lag_read(lr, 10000, &lag, err, sizeof err) == SP_OK && lag == 0) break;
    }
    bus_lag_destroy(lr);
    double wall = (double)(sp_wall_ms() - w0) / 1000.0;
    for (int i = 0; i < k; i++) {
        double mb = rss_mb(pids[i]);
        if (mb > peak) peak = mb;
        cpu_enrich += procstat_cpu_s(pids[i]);
    }
    cpu_pg = pg_backend_cpu_s();
    for (int i = 0; i < k; i++)
        kill(pids[i], SIGTERM);
    for (int i = 0; i < k; i++)
        waitpid(pids[i], NULL, 0);
    if (lag != 0) {
        fprintf(stderr, "bench_enrich: sp-enrich did not catch up (lag %lld)\n", (long long)lag);
        return 1;
    }

    struct out_scan os = {0};
    long out = read_topic(SP_TOPIC_ENRICHED, scan_out, &os);
    long dead = read_topic(SP_TOPIC_DEADLETTER, scan_out, &(struct out_scan) {0});
    double secs = (double)(os.last_ts - os.first_ts) / 1000.0;
    double rate = secs > 0 ? (double)(out - 1) / secs : 0;
    printf("enrich: %ld interactions Kafka -> sp-enrich -> PostgreSQL -> %s: %ld enriched (%.0f bytes mean), "
           "%ld dead-lettered; first to last enriched %.1f s = %.0f interactions/s sustained "
           "(%.1f s wall incl. start-up and group join)\n",
        n, SP_TOPIC_ENRICHED, out, out ? (double)os.bytes / (double)out : 0.0, dead, secs, rate, wall);
    printf("sp-enrich peak RSS: %.1f MB%s\n", peak, k > 1 ? " (the largest of the instances)" : "");
    if (k > 1) printf("(%d sp-enrich instances in the group)\n", k);
    printf("CPU per interaction: sp-enrich %.0f us, its PostgreSQL backend %.0f us (%.1f s + %.1f s)\n",
        cpu_enrich * 1e6 / (double)n, cpu_pg * 1e6 / (double)n, cpu_enrich, cpu_pg);
    fflush(stdout);

    /* baseline: consume the same input, produce the same output bytes */
    const char *pt[] = {PASS_TOPIC, NULL};
    bus_topics_create(bootstrap, pt, 6, 1, 10000, err, sizeof err);
    struct pass ps = {.scale = in_bytes ? (double)os.bytes / (double)in_bytes : 1.0};
    pthread_mutex_init(&ps.c.mu, NULL);
    if (bus_producer_new(bootstrap, "bench-pass", &ps.p, err, sizeof err) != SP_OK) return 1;
    read_topic(SP_TOPIC_INTERACTIONS, pass_one, &ps);
    bus_producer_flush(ps.p, 120000);
    double psecs = (double)(sp_wall_ms() - ps.t0) / 1000.0;
    double prate = psecs > 0 ? (double)ps.c.ok / psecs : 0;
    bus_producer_destroy(ps.p);
    printf("baseline: plain librdkafka pass-through (consume %s, produce the same output bytes, acks=all, "
           "idempotent, lz4): %ld of %ld delivered in %.1f s = %.0f/s\n",
        SP_TOPIC_INTERACTIONS, ps.c.ok, ps.n, psecs, prate);
    printf("ratio: enrich/pass-through = %.3f\n", prate > 0 ? rate / prate : 0.0);
    return 0;
}
