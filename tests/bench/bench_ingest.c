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
 * Usage: bench_ingest URL KEY BOOTSTRAP [SECONDS] [CLIENTS] */
#include "bus.h"
#include "clock.h"
#include "err.h"
#include "http.h"
#include "http_client.h"
#include "ingest/batch.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The second baseline: the contract sp-ingest keeps (a request answered
 * only once every event of it is delivered) with nothing else - each of C
 * threads sends BATCH events and waits for all their delivery reports
 * before the next batch, until n events are delivered in all. */
struct contract {
    pthread_t th;
    bus_producer *p;
    const uint8_t *buf;
    size_t len;
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
        int more = *c->left > 0;
        if (more) (*c->left)--;
        pthread_mutex_unlock(c->mu);
        if (!more) break;
        bus_group *g = NULL;
        if (bus_group_new(&g) != SP_OK) break;
        int ok = 1;
        for (int i = 0; i < BATCH && ok; i++) {
            char k[32];
            snprintf(k, sizeof k, "wecom:wm-%d", i);
            ok = bus_group_send(g, c->p, "bench.raw", k, strlen(k), c->buf, c->len) == SP_OK;
        }
        if (ok && bus_group_wait(g, 60000, err, sizeof err) == SP_OK) c->delivered += BATCH;
        bus_group_release(g);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_ingest URL KEY BOOTSTRAP [SECONDS] [CLIENTS]\n");
        return 2;
    }
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

    /* baseline: the same serialized events straight into librdkafka */
    char *body = make_batch(99, 0);
    ingest_batch_opts o = {.now_ms = sp_wall_ms()};
    ingest_batch *b = NULL;
    if (ingest_batch_parse(body, strlen(body), &o, &b, NULL) != SP_OK) return 1;
    size_t len = salespulse__v1__interaction__get_packed_size(b->items[0]);
    uint8_t *buf = malloc(len);
    salespulse__v1__interaction__pack(b->items[0], buf);
    bus_producer *p = NULL;
    char err[256];
    if (bus_producer_new(bootstrap, "bench-raw", &p, err, sizeof err) != SP_OK) return 1;
    struct raw r = {0};
    pthread_mutex_init(&r.mu, NULL);
    long n = accepted > 0 ? accepted : 100000;
    int64_t r0 = sp_wall_ms();
    for (long i = 0; i < n; i++) {
        char k[32];
        snprintf(k, sizeof k, "wecom:wm-%ld", i % 2000);
        while (bus_producer_send(p, "bench.raw", k, strlen(k), buf, len, raw_done, &r) == SP_EFULL)
            usleep(1000);
    }
    bus_producer_flush(p, 60000);
    double rsecs = (double)(sp_wall_ms() - r0) / 1000.0;
    double rrate = (double)r.delivered / rsecs;
    printf("baseline: plain librdkafka producer, %ld events of %zu bytes (acks=all, idempotent) in %.1f s = "
           "%.0f/s\n",
        r.delivered, len, rsecs, rrate);
    printf("ratio: ingest/plain producer = %.2f\n", rrate > 0 ? rate / rrate : 0.0);

    /* the same events under ingest's contract: C senders, each waiting for a
     * batch's delivery reports before the next (what HTTP adds is the rest) */
    long left = n / BATCH;
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    struct contract *ct = calloc((size_t)nc, sizeof *ct);
    int64_t c0 = sp_wall_ms();
    for (int i = 0; i < nc; i++) {
        ct[i] = (struct contract) {.p = p, .buf = buf, .len = len, .left = &left, .mu = &mu};
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
    bus_producer_destroy(p);
    ingest_batch_destroy(b);
    free(buf);
    free(body);
    free(lat);
    free(cs);
    return 0;
}
