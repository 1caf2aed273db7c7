/* Ingest benchmark: C concurrent clients post batches of 500 realistic
 * interactions (~400 bytes each) over loopback to a running sp-ingest with a
 * real Kafka, for a fixed time; prints interactions/s accepted durably and
 * request latency p50/p99. In the same run, a plain librdkafka producer sends
 * the same serialized events to the same broker (acks=all, idempotent,
 * flushed): the baseline, printed as a ratio. The clients post for WARM
 * seconds first (BENCH_INGEST_WARM, default 10) and only requests started
 * after that count: the broker was just started, and its JIT compiles for
 * the first minute of load (the baselines run after it, on a warm broker;
 * session 17, on a fresh broker: 128-129k/s after 3 s, 142-153k/s after 10).
 * Last, the ceiling the plain producer's ratio is bounded by here: jansson's
 * parse of the same bodies on every core with nothing else running, and the
 * CPU per event of that parse + the producer + the broker (its pid in
 * BENCH_BROKER_PID) - no ingest that parses these bodies with jansson and
 * shares the cores with its broker can be faster.
 * Usage: bench_ingest URL KEY BOOTSTRAP [SECONDS] [CLIENTS] */
#include "bus.h"
#include "clock.h"
#include "err.h"
#include "http.h"
#include "http_client.h"
#include "ingest/batch.h"
#include "ingest/interaction.h"
#include "ingest/jarena.h"
#include "procstat.h"

#include <jansson.h>

#include <pthread.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BATCH 500

static const char *url, *key;
static int seconds = 10;
static volatile int go = 1;
static int64_t t_count; /* requests started before this are warm-up */

struct client {
    pthread_t th;
    int id;
    long accepted, requests, failed;
    double *lat;
    size_t nlat, caplat;
};

/* A batch of BATCH interactions with ids unique to (client, round). */
static char *make_batch(int client, long round)
{
    size_t cap = BATCH * 700, len = 0;
    char *b = malloc(cap);
    len += (size_t)snprintf(b + len, cap - len, "[");
    for (int i = 0; i < BATCH; i++) {
        len += (size_t)snprintf(b + len, cap - len,
            "%s{\"source\":\"bench\",\"external_id\":\"c%d-r%ld-i%d\",\"channel\":\"wecom\",\"direction\":"
            "\"inbound\","
            "\"occurred_at\":\"2026-03-02T10:15:00+08:00\",\"customer_identity\":{\"kind\":\"wecom\","
            "\"value\":\"wm-%d\"},"
            "\"rep_id\":\"P-R%02d\",\"text\":\"王校长: "
            "你们X200的报价发我一下，65寸和75寸都要，预算大概50万以内，"
            "6月底前要装好，另外售后响应速度怎么保证？\"}",
            i ? "," : "", client, round, i, (client * 7919 + i) % 2000, i % 40);
    }
    len += (size_t)snprintf(b + len, cap - len, "]");
    return b;
}

static void *client_main(void *arg)
{
    struct client *c = arg;
    sp_http_client *h = NULL;
    sp_http_client_new(url, 30000, &h);
    sp_http_header hdr[2] = {{"Content-Type", "application/json"}, {"X-Api-Key", key}};
    for (long round = 0; go; round++) {
        char *body = make_batch(c->id, round);
        int64_t t0 = sp_wall_ms();
        sp_http_reply r = {0};
        int rv = sp_http_client_do(h, "POST", "/v1/interactions", hdr, 2, body, strlen(body), &r);
        double ms = (double)(sp_wall_ms() - t0);
        free(body);
        int ok = rv == SP_OK && r.status == 202;
        sp_http_reply_clear(&r);
        if (t0 < t_count) continue;
        c->requests++;
        if (ok)
            c->accepted += BATCH;
        else
            c->failed++;
        if (c->nlat == c->caplat) {
            c->caplat = c->caplat ? c->caplat * 2 : 1024;
            c->lat = realloc(c->lat, c->caplat * sizeof *c->lat);
        }
        c->lat[c->nlat++] = ms;
    }
    sp_http_client_destroy(h);
    return NULL;
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

struct raw {
    long delivered;
    pthread_mutex_t mu;
};
static void raw_done(void *arg, int err, const char *s, int32_t p, int64_t o)
{
    (void)s;
    (void)p;
    (void)o;
    struct raw *r = arg;
    if (err == SP_OK) {
        pthread_mutex_lock(&r->mu);
        r->delivered++;
        pthread_mutex_unlock(&r->mu);
    }
}

/* One event as sp-ingest publishes it: its partition key and bytes. */
struct ev {
    char key[64];
    const uint8_t *buf;
    size_t off, len;
};

/* The second baseline: the contract sp-ingest keeps (a request answered
 * only once every event of it is delivered) with nothing else - each of C
 * threads sends BATCH events and waits for all their delivery reports
 * before the next batch, until n events are delivered in all. */
struct contract {
    pthread_t th;
    bus_producer *p;
    const struct ev *evs;
    long n;
    long *left; /* batches still to send, shared */
    pthread_mutex_t *mu;
    long delivered;
};

static void *contract_main(void *arg)
{
    struct contract *c = arg;
    char err[256];
    for (;;) {
        pthread_mutex_lock(c->mu);
        long first = (*c->left - 1) * BATCH;
        int more = *c->left > 0;
        if (more) (*c->left)--;
        pthread_mutex_unlock(c->mu);
        if (!more) break;
        bus_group *g = NULL;
        if (bus_group_new(&g) != SP_OK) break;
        int ok = 1;
        for (long i = first; i < first + BATCH && i < c->n && ok; i++)
            ok = bus_group_send(
                     g, c->p, "bench.raw", c->evs[i].key, strlen(c->evs[i].key), c->evs[i].buf, c->evs[i].len)
                == SP_OK;
        if (ok && bus_group_wait(g, 60000, err, sizeof err) == SP_OK) c->delivered += BATCH;
        bus_group_release(g);
    }
    return NULL;
}

/* The first n events the clients' batches become, in the order the clients
 * sent them (round by round, client by client): each batch parsed as
 * sp-ingest parses it and each interaction serialized into one arena.
 * Caller frees *evs and *arena (also on failure). Returns nonzero when a
 * batch does not parse or memory runs out. */
static int serialize_events(long n, int nc, struct ev **evs, uint8_t **arena)
{
    size_t cap = (size_t)n * 320, used = 0;
    *evs = calloc((size_t)n, sizeof **evs);
    *arena = malloc(cap);
    if (*evs == NULL || *arena == NULL) return 1;
    long k = 0;
    for (long b = 0; k < n; b++) {
        char *body = make_batch((int)(b % nc), b / nc);
        ingest_batch_opts o = {.now_ms = sp_wall_ms()};
        ingest_batch *bt = NULL;
        int rv = ingest_batch_parse(body, strlen(body), &o, &bt, NULL);
        free(body);
        if (rv != SP_OK) return 1;
        for (size_t i = 0; i < bt->n && k < n; i++, k++) {
            size_t len = salespulse__v1__interaction__get_packed_size(bt->items[i]);
            if (used + len > cap) {
                uint8_t *more = realloc(*arena, cap * 2);
                if (more == NULL) {
                    ingest_batch_destroy(bt);
                    return 1;
                }
                *arena = more;
                cap *= 2;
            }
            salespulse__v1__interaction__pack(bt->items[i], *arena + used);
            (*evs)[k].off = used;
            (*evs)[k].len = len;
            if (interaction_customer_key(bt->items[i], (*evs)[k].key, sizeof(*evs)[k].key) != SP_OK)
                snprintf((*evs)[k].key, sizeof(*evs)[k].key, "%s", bt->items[i]->meta->event_id);
            used += len;
        }
        ingest_batch_destroy(bt);
    }
    for (long j = 0; j < n; j++)
        (*evs)[j].buf = *arena + (*evs)[j].off; /* the arena has stopped moving */
    return 0;
}

/* CPU seconds this process has used (every thread). */
static double self_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec
        + (double)ru.ru_stime.tv_usec / 1e6;
}

/* The ceiling: jansson's parse of the batch bodies (on sp-ingest's arena),
 * nothing else - no HTTP, no validation, no Kafka, no broker or clients
 * sharing the cores - on one thread per core for about 2 s. */
struct parser {
    pthread_t th;
    int id;
    long items;
    int bad;
};

static void *parser_main(void *arg)
{
    struct parser *ps = arg;
    char *body = make_batch(ps->id, 0);
    size_t len = strlen(body);
    int64_t t0 = sp_wall_ms();
    while (sp_wall_ms() - t0 < 2000) {
        json_error_t e;
        ingest_jarena_begin();
        json_t *doc = json_loadb(body, len, 0, &e);
        if (doc == NULL) ps->bad = 1;
        json_decref(doc);
        ingest_jarena_end();
        ps->items += BATCH;
    }
    free(body);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_ingest URL KEY BOOTSTRAP [SECONDS] [CLIENTS]\n");
        return 2;
    }
    ingest_jarena_install(); /* as sp-ingest does, before any jansson object */
    url = argv[1];
    key = argv[2];
    const char *bootstrap = argv[3];
    if (argc > 4) seconds = atoi(argv[4]);
    int nc = argc > 5 ? atoi(argv[5]) : 4;
    struct client *cs = calloc((size_t)nc, sizeof *cs);
    const char *w = getenv("BENCH_INGEST_WARM");
    int warm = w ? atoi(w) : 10;
    t_count = sp_wall_ms() + (int64_t)warm * 1000;
    int64_t t0 = t_count;
    for (int i = 0; i < nc; i++) {
        cs[i].id = i;
        pthread_create(&cs[i].th, NULL, client_main, &cs[i]);
    }
    while (sp_wall_ms() - t0 < seconds * 1000LL) /* t0 is after the warm-up */
        usleep(100000);
    go = 0;
    long accepted = 0, requests = 0, failed = 0;
    size_t nlat = 0;
    double *lat = NULL;
    for (int i = 0; i < nc; i++) {
        pthread_join(cs[i].th, NULL);
        accepted += cs[i].accepted;
        requests += cs[i].requests;
        failed += cs[i].failed;
        lat = realloc(lat, (nlat + cs[i].nlat) * sizeof *lat);
        memcpy(lat + nlat, cs[i].lat, cs[i].nlat * sizeof *lat);
        nlat += cs[i].nlat;
        free(cs[i].lat);
    }
    double secs = (double)(sp_wall_ms() - t0) / 1000.0;
    qsort(lat, nlat, sizeof *lat, cmpd);
    double rate = (double)accepted / secs;
    printf("ingest: %d clients x batches of %d (after %d s of warm-up): %ld interactions accepted durably in "
           "%.1f s = %.0f/s; %ld requests (%ld failed); latency p50 %.1f ms p99 %.1f ms\n",
        nc, BATCH, warm, accepted, secs, rate, requests, failed, nlat ? lat[nlat / 2] : 0.0,
        nlat ? lat[(size_t)((double)nlat * 0.99)] : 0.0);

    /* baseline: the same serialized events straight into librdkafka - the
     * events the clients' batches became (the same ids, keys and bytes),
     * serialized before the clock starts. (Until session 19 one event sent n
     * times: identical messages, which lz4 shrinks far more than the real
     * stream - a baseline 1.2-1.5x too fast.) */
    long n = accepted > 0 ? accepted : 100000;
    struct ev *evs = NULL;
    uint8_t *arena = NULL;
    if (serialize_events(n, nc, &evs, &arena) != 0) return 1;
    bus_producer *p = NULL;
    char err[256];
    if (bus_producer_new(bootstrap, "bench-raw", &p, err, sizeof err) != SP_OK) return 1;
    struct raw r = {0};
    pthread_mutex_init(&r.mu, NULL);
    const char *bp = getenv("BENCH_BROKER_PID");
    long broker = bp ? atol(bp) : 0;
    double u0 = self_cpu(), k0 = procstat_cpu_s(broker);
    int64_t r0 = sp_wall_ms();
    for (long i = 0; i < n; i++) {
        while (bus_producer_send(
                   p, "bench.raw", evs[i].key, strlen(evs[i].key), evs[i].buf, evs[i].len, raw_done, &r)
            == SP_EFULL)
            usleep(1000);
    }
    bus_producer_flush(p, 60000);
    double rsecs = (double)(sp_wall_ms() - r0) / 1000.0;
    double prod_us = (self_cpu() - u0) * 1e6 / (double)n;
    double broker_us = (procstat_cpu_s(broker) - k0) * 1e6 / (double)n; /* 0 without BENCH_BROKER_PID */
    double rrate = (double)r.delivered / rsecs;
    printf(
        "baseline: plain librdkafka producer, the same %ld events (%.0f bytes mean; acks=all, idempotent) in "
        "%.1f s = %.0f/s\n",
        r.delivered, (double)(evs[n - 1].buf + evs[n - 1].len - arena) / (double)n, rsecs, rrate);
    printf("ratio: ingest/plain producer = %.2f\n", rrate > 0 ? rate / rrate : 0.0);

    /* the same events under ingest's contract: C senders, each waiting for a
     * batch's delivery reports before the next (what HTTP adds is the rest) */
    long left = n / BATCH;
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    struct contract *ct = calloc((size_t)nc, sizeof *ct);
    int64_t c0 = sp_wall_ms();
    for (int i = 0; i < nc; i++) {
        ct[i] = (struct contract) {.p = p, .evs = evs, .n = n, .left = &left, .mu = &mu};
        pthread_create(&ct[i].th, NULL, contract_main, &ct[i]);
    }
    long cdel = 0;
    for (int i = 0; i < nc; i++) {
        pthread_join(ct[i].th, NULL);
        cdel += ct[i].delivered;
    }
    double csecs = (double)(sp_wall_ms() - c0) / 1000.0, crate = (double)cdel / csecs;
    printf("baseline 2: the same events under ingest's contract (%d senders, batches of %d, each waiting for "
           "its delivery reports) in %.1f s = %.0f/s\n",
        nc, BATCH, csecs, crate);
    printf("ratio: ingest/contract baseline = %.2f (HTTP, JSON, validation and ids; the issue's ratio is the "
           "one above)\n",
        crate > 0 ? rate / crate : 0.0);
    free(ct);

    long cores = sysconf(_SC_NPROCESSORS_ONLN), parsed = 0;
    struct parser *ps = calloc((size_t)cores, sizeof *ps);
    int64_t p0 = sp_wall_ms();
    for (long i = 0; i < cores; i++) {
        ps[i].id = (int)i;
        pthread_create(&ps[i].th, NULL, parser_main, &ps[i]);
    }
    for (long i = 0; i < cores; i++) {
        pthread_join(ps[i].th, NULL);
        parsed += ps[i].bad ? 0 : ps[i].items;
    }
    double prate = (double)parsed / ((double)(sp_wall_ms() - p0) / 1000.0);
    printf("jansson's parse of the same bodies alone (sp-ingest's arena; %ld threads, nothing else running): "
           "%.0f/s = %.2f of the plain producer\n",
        cores, prate, rrate > 0 ? prate / rrate : 0.0);
    /* What any ingest of these JSON bodies must spend per event on this
     * machine: the parse, the producer's own CPU and the broker's (HTTP,
     * validation, ids, protobuf and the clients left out) - its inverse on
     * every core is a rate ingest cannot exceed. */
    double parse_us = (double)cores * 1e6 / prate, floor_us = parse_us + prod_us + broker_us;
    double ceil = (double)cores * 1e6 / floor_us;
    printf(
        "ceiling: CPU per event at least %.2f us (parse %.2f, librdkafka producer %.2f, broker %.2f%s) -> at "
        "most %.0f/s on %ld cores = %.2f of the plain producer\n",
        floor_us, parse_us, prod_us, broker_us, broker > 0 ? "" : ": BENCH_BROKER_PID unset", ceil, cores,
        rrate > 0 ? ceil / rrate : 0.0);
    free(ps);
    bus_producer_destroy(p);
    free(evs);
    free(arena);
    free(lat);
    free(cs);
    return 0;
}
