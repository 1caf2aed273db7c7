/* spctl replay: posts a simulator's events.ndjson to sp-ingest's real HTTP
 * endpoints, in order, batching consecutive generic items.
 * spctl wait-drained: waits until every consumer group has caught up. */
#include "bus.h"
#include "clock.h"
#include "config.h"
#include "err.h"
#include "http.h"
#include "http_client.h"
#include "spctl/spctl.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct replay {
    sp_http_client *c;
    sp_http_header hdr[2];
    long posted, accepted, rejected, requests;
    int shown;
    int failed;
};

/* POSTs one body, retrying 503 (deterministic ids make a retry safe).
 * Returns the HTTP status, or -1 when the service cannot be reached. */
static int post(
    struct replay *r, const char *path, const char *ctype, const char *body, size_t len, long items)
{
    r->hdr[1].value = ctype;
    for (int attempt = 0; attempt < 60; attempt++) {
        sp_http_reply rep = {0};
        int rv = sp_http_client_do(r->c, "POST", path, r->hdr, 2, body, len, &rep);
        int st = rv == SP_OK ? rep.status : -1;
        if (st == 202 || st == 200) {
            r->accepted += items;
        } else if (st >= 400 && st < 500) {
            r->rejected += items;
            if (r->shown++ < 5)
                fprintf(stderr, "replay: %s %d: %.300s\n", path, st, rep.body ? rep.body : "");
        }
        sp_http_reply_clear(&rep);
        r->requests++;
        if (st != 503 && st != -1) return st;
        usleep(200000 * (attempt < 10 ? attempt + 1 : 10));
    }
    return -1;
}

/* One line of events.ndjson, assigned to a stream by its customer. */
struct line {
    json_t *env;
    int stream;
};

/* The customer a line belongs to: customer ref, identity or phone, or for
 * raw e-mail the first address outside our domain. */
static unsigned stream_of(json_t *env, const char *our_domain, int nstreams)
{
    json_t *it = json_object_get(env, "item");
    const char *k = json_string_value(json_object_get(it, "customer_ref"));
    if (!k || !*k) k = json_string_value(json_object_get(json_object_get(it, "customer_identity"), "value"));
    if (!k || !*k) k = json_string_value(json_object_get(it, "customer_phone"));
    if (!k || !*k) k = json_string_value(json_object_get(it, "deal_id"));
    char addr[256] = "";
    const char *mime = json_string_value(json_object_get(env, "mime"));
    if ((!k || !*k) && mime) {
        /* scan "<...@...>" addresses in the header block */
        const char *end = strstr(mime, "\r\n\r\n");
        for (const char *p = mime; (p = strchr(p, '<')) != NULL && (!end || p < end); p++) {
            const char *q = strchr(p, '>'), *at = strchr(p, '@');
            if (!q || !at || at > q || (size_t)(q - p) >= sizeof addr) continue;
            snprintf(addr, sizeof addr, "%.*s", (int)(q - p - 1), p + 1);
            if (strstr(addr, our_domain) == NULL) break;
            addr[0] = '\0';
        }
        k = addr;
    }
    unsigned h = 2166136261u;
    for (const char *p = k ? k : ""; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return h % (unsigned)nstreams;
}

struct worker {
    struct replay r;
    struct line *lines;
    size_t from, to;
    int stream;
    long max;
    pthread_t th;
};

static int flush_batch(struct replay *r, json_t *batch)
{
    size_t n = json_array_size(batch);
    if (n == 0) return 0;
    char *body = json_dumps(batch, JSON_COMPACT);
    int st = post(r, "/v1/interactions", "application/json", body, strlen(body), (long)n);
    free(body);
    json_array_clear(batch);
    return st < 0 ? -1 : 0;
}

/* Sends this worker's lines of the window [from, to) in order. */
static void *worker_main(void *arg)
{
    struct worker *w = arg;
    json_t *batch = json_array();
    for (size_t i = w->from; i < w->to && !w->r.failed; i++) {
        if (w->lines[i].stream != w->stream) continue;
        json_t *env = w->lines[i].env;
        const char *ep = json_string_value(json_object_get(env, "endpoint"));
        w->r.posted++;
        if (strcmp(ep, "/v1/interactions") == 0) {
            json_array_append(batch, json_object_get(env, "item"));
            if ((long)json_array_size(batch) >= w->max && flush_batch(&w->r, batch) < 0) w->r.failed = 1;
            continue;
        }
        if (flush_batch(&w->r, batch) < 0) w->r.failed = 1; /* keep the stream's order */
        const char *mime = json_string_value(json_object_get(env, "mime"));
        if (mime) {
            if (post(&w->r, ep, "message/rfc822", mime, strlen(mime), 1) < 0) w->r.failed = 1;
        } else {
            char *body = json_dumps(json_object_get(env, "item"), JSON_COMPACT);
            if (body == NULL || post(&w->r, ep, "application/json", body, strlen(body), 1) < 0)
                w->r.failed = 1;
            free(body);
        }
    }
    if (!w->r.failed && flush_batch(&w->r, batch) < 0) w->r.failed = 1;
    json_decref(batch);
    return NULL;
}

size_t spctl_replay_window_end(const int64_t *at, size_t n, size_t from, long window, int64_t span)
{
    size_t to = from + 1;
    while (to < n && to - from < (size_t)window
        && (span <= 0 || at[to] == 0 || at[from] == 0 || at[to] - at[from] < span))
        to++;
    return to;
}

/* `replay --dir DIR --ingest URL [--key KEY] [--batch N] [--streams N] [--window N] [--span D]`
 *
 * The file is in event-time order. Lines go out in windows of at most
 * --window lines spanning less than --span of event time; inside a window,
 * --streams connections each send the lines of their customers in order
 * (so one customer's events keep their order), and the next window starts
 * when all are done. So no event arrives after one more than --span later
 * than itself: sp-enrich's SP_ENRICH_LATENESS (the same 6h by default)
 * keeps its watermark behind by that much. */
int spctl_replay(const struct spctl_cfg *cfg, int argc, char **argv)
{
    (void)cfg;
    const char *dir = NULL, *url = "http://127.0.0.1:8081", *key = getenv("SP_INGEST_KEY"),
               *domain = "hengyuan.cn";
    long max = 500, nstreams = 8, window = 2000, rate = 0;
    long long span = 6LL * 3600 * 1000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (strcmp(argv[i], "--ingest") == 0 && i + 1 < argc)
            url = argv[++i];
        else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc)
            key = argv[++i];
        else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
            max = atol(argv[++i]);
        else if (strcmp(argv[i], "--streams") == 0 && i + 1 < argc)
            nstreams = atol(argv[++i]);
        else if (strcmp(argv[i], "--window") == 0 && i + 1 < argc)
            window = atol(argv[++i]);
        else if (strcmp(argv[i], "--span") == 0 && i + 1 < argc) {
            if (sp_config_parse_ms(argv[++i], &span) != SP_OK) span = -1;
        } else if (strcmp(argv[i], "--our-domain") == 0 && i + 1 < argc)
            domain = argv[++i];
        else if (strcmp(argv[i], "--rate") == 0 && i + 1 < argc)
            rate = atol(argv[++i]);
        else {
            fprintf(stderr,
                "usage: spctl replay --dir DIR --ingest URL [--key KEY] [--batch N] [--streams N] "
                "[--window N] [--span DURATION] [--our-domain D] [--rate EVENTS_PER_S]\n");
            return 2;
        }
    }
    if (dir == NULL || key == NULL || max < 1 || max > 1000 || nstreams < 1 || nstreams > 64 || window < 1
        || span < 0) {
        fprintf(stderr,
            "spctl replay: --dir and --key (or SP_INGEST_KEY) are required; --batch 1..1000; "
            "--streams 1..64; --span a duration (0: no limit)\n");
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/events.ndjson", dir);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "spctl replay: cannot open %s\n", path);
        return 1;
    }
    struct line *lines = NULL;
    int64_t *ats = NULL; /* each line's event time (the envelope's "at"; 0: not given) */
    size_t n = 0, cap = 0;
    char *buf = NULL;
    size_t bcap = 0;
    ssize_t len;
    int rc = 0;
    while ((len = getline(&buf, &bcap, f)) > 0) {
        json_error_t jerr;
        json_t *env = json_loadb(buf, (size_t)len, 0, &jerr);
        if (env == NULL || json_string_value(json_object_get(env, "endpoint")) == NULL) {
            fprintf(stderr, "spctl replay: %s:%zu: not an envelope\n", path, n + 1);
            json_decref(env);
            rc = 1;
            break;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            struct line *nl = realloc(lines, cap * sizeof *lines);
            if (nl) lines = nl;
            int64_t *na = realloc(ats, cap * sizeof *ats);
            if (na) ats = na;
            if (nl == NULL || na == NULL) {
                json_decref(env);
                rc = 1;
                break;
            }
        }
        lines[n].env = env;
        lines[n].stream = (int)stream_of(env, domain, (int)nstreams);
        ats[n] = (int64_t)json_integer_value(json_object_get(env, "at"));
        n++;
    }
    free(buf);
    fclose(f);
    struct worker *ws = calloc((size_t)nstreams, sizeof *ws);
    for (long i = 0; ws && i < nstreams && rc == 0; i++) {
        ws[i].lines = lines;
        ws[i].stream = (int)i;
        ws[i].max = max;
        ws[i].r.hdr[0] = (sp_http_header) {"X-Api-Key", key};
        ws[i].r.hdr[1] = (sp_http_header) {"Content-Type", "application/json"};
        if (sp_http_client_new(url, 30000, &ws[i].r.c) != SP_OK) {
            fprintf(stderr, "spctl replay: bad --ingest URL %s\n", url);
            rc = 2;
        }
    }
    int64_t t0 = sp_wall_ms();
    for (size_t from = 0, to; rc == 0 && from < n; from = to) {
        to = spctl_replay_window_end(ats, n, from, window, (int64_t)span);
        for (long i = 0; i < nstreams; i++) {
            ws[i].from = from;
            ws[i].to = to;
            pthread_create(&ws[i].th, NULL, worker_main, &ws[i]);
        }
        for (long i = 0; i < nstreams; i++) {
            pthread_join(ws[i].th, NULL);
            if (ws[i].r.failed) rc = 1;
        }
        if (rate > 0) { /* at most --rate events/s: sleep until this window's share of time is used */
            int64_t due = t0 + (int64_t)to * 1000 / rate;
            int64_t now = sp_wall_ms();
            if (due > now) usleep((useconds_t)(due - now) * 1000);
        }
    }
    struct replay tot = {0};
    for (long i = 0; ws && i < nstreams; i++) {
        tot.posted += ws[i].r.posted;
        tot.accepted += ws[i].r.accepted;
        tot.rejected += ws[i].r.rejected;
        tot.requests += ws[i].r.requests;
        sp_http_client_destroy(ws[i].r.c);
    }
    double secs = (double)(sp_wall_ms() - t0) / 1000.0;
    printf("replay: %ld events in %ld requests, %ld accepted, %ld rejected, %.1f s (%.0f events/s)\n",
        tot.posted, tot.requests, tot.accepted, tot.rejected, secs,
        secs > 0 ? (double)tot.posted / secs : 0.0);
    if (rc == 1) fprintf(stderr, "spctl replay: sp-ingest at %s could not be reached\n", url);
    for (size_t i = 0; i < n; i++)
        json_decref(lines[i].env);
    free(lines);
    free(ats);
    free(ws);
    return rc ? rc : tot.rejected > 0 ? 3 : 0;
}

/* `wait-drained [--timeout SECONDS] [--hold SECONDS] [--since UNIX_SECONDS]`:
 * polls the lag of the pipeline's consumer groups, stage by stage in
 * pipeline order, every 200 ms until all have been zero for --hold seconds
 * (default 4: time-driven work - an idle partition's watermark, a held
 * event's flush - shows as lag again within that), and prints when the
 * quiet began: the moment the pipeline caught up, which the hold does not
 * delay, in seconds after --since (a replay's start) or after the wait
 * began. Exit 0, or 1 when not drained within --timeout (default 600) s. */
int spctl_wait_drained(const struct spctl_cfg *cfg, int argc, char **argv)
{
    static const struct {
        const char *group, *topic;
    } stages[] = {
        {"sp-enrich", SP_TOPIC_INTERACTIONS},
        {"sp-score", SP_TOPIC_ENRICHED},
        {"sp-route", SP_TOPIC_SIGNALS},
        {"sp-taskpool", SP_TOPIC_TASK_COMMANDS},
    };
    enum { NSTAGES = sizeof stages / sizeof stages[0], POLL_MS = 200, SHOW_MS = 2000 };
    bus_lag *probe[NSTAGES] = {NULL};
    long timeout = 600;
    double hold = 4.0, since = -1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
            timeout = atol(argv[++i]);
        else if (strcmp(argv[i], "--hold") == 0 && i + 1 < argc)
            hold = atof(argv[++i]);
        else if (strcmp(argv[i], "--since") == 0 && i + 1 < argc)
            since = atof(argv[++i]);
    }
    if (timeout <= 0 || !(hold >= 0)) {
        fprintf(stderr,
            "usage: spctl wait-drained [--timeout SECONDS > 0] [--hold SECONDS >= 0] "
            "[--since UNIX_SECONDS]\n");
        return 2;
    }
    int64_t t0 = sp_wall_ms(), until = t0 + timeout * 1000, quiet_since = -1, shown = 0;
    int64_t from = since > 0 ? (int64_t)(since * 1000) : t0;
    int rc = 1;
    while (sp_wall_ms() < until) {
        int64_t total = 0;
        char line[512] = "", why[256] = "";
        size_t off = 0;
        for (size_t i = 0; i < NSTAGES; i++) {
            int64_t lag = 0;
            char err[256];
            int r = probe[i] ? SP_OK
                             : bus_lag_new(cfg->kafka_bootstrap, stages[i].group, stages[i].topic, &probe[i],
                                 err, sizeof err);
            int64_t left = until - sp_wall_ms(); /* a broker down does not stretch the timeout */
            if (r == SP_OK)
                r = bus_lag_read(probe[i],
                    left < 100         ? 100
                        : left > 10000 ? 10000
                                       : (int)left,
                    &lag, err, sizeof err);
            if (r != SP_OK) { /* shown with the lag line below, at most every 2 s */
                snprintf(why, sizeof why, "%s", err);
                lag = 1;
            }
            total += lag;
            off += (size_t)snprintf(
                line + off, sizeof line - off, " %s=%lld", stages[i].group, (long long)lag);
        }
        int64_t now = sp_wall_ms(); /* the reads done: the latest the catch-up can have been */
        if (total != 0)
            quiet_since = -1;
        else if (quiet_since < 0)
            quiet_since = now;
        if (quiet_since >= 0 && now - quiet_since >= (int64_t)(hold * 1000)) {
            printf("drained:%s (caught up %.2f s after %s; quiet for %.1f s since)\n", line,
                (double)(quiet_since - from) / 1000.0, since > 0 ? "--since" : "the wait began",
                (double)(now - quiet_since) / 1000.0);
            rc = 0;
            break;
        }
        if (total != 0 && now - shown >= SHOW_MS) {
            if (*why) fprintf(stderr, "wait-drained: %s\n", why);
            fprintf(stderr, "lag:%s\n", line);
            shown = now;
        }
        usleep(POLL_MS * 1000);
    }
    if (rc) fprintf(stderr, "wait-drained: not drained within %ld s\n", timeout);
    for (size_t i = 0; i < NSTAGES; i++)
        bus_lag_destroy(probe[i]);
    return rc;
}
