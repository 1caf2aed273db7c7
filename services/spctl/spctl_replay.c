/* spctl replay: posts a simulator's events.ndjson to sp-ingest's real HTTP
 * endpoints, in order, batching consecutive generic items.
 * spctl wait-drained: waits until every consumer group has caught up. */
#include "bus.h"
#include "clock.h"
#include "err.h"
#include "http.h"
#include "http_client.h"
#include "spctl/spctl.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct replay {
    sp_http_client *c;
    sp_http_header hdr[2];
    long posted, accepted, rejected, requests;
    int shown;
};

/* POSTs one body, retrying 503 (deterministic ids make a retry safe).
 * Returns the HTTP status, or -1 when the service cannot be reached. */
static int post(struct replay *r, const char *path, const char *ctype, const char *body, size_t len, long items)
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
            if (r->shown++ < 5) fprintf(stderr, "replay: %s %d: %.300s\n", path, st, rep.body ? rep.body : "");
        }
        sp_http_reply_clear(&rep);
        r->requests++;
        if (st != 503 && st != -1) return st;
        usleep(200000 * (attempt < 10 ? attempt + 1 : 10));
    }
    return -1;
}

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

/* `replay --dir DIR --ingest URL [--key KEY] [--batch N]` */
int spctl_replay(const struct spctl_cfg *cfg, int argc, char **argv)
{
    (void)cfg;
    const char *dir = NULL, *url = "http://127.0.0.1:8081", *key = getenv("SP_INGEST_KEY");
    long max = 500;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) dir = argv[++i];
        else if (strcmp(argv[i], "--ingest") == 0 && i + 1 < argc) url = argv[++i];
        else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc) key = argv[++i];
        else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc) max = atol(argv[++i]);
        else {
            fprintf(stderr, "usage: spctl replay --dir DIR --ingest URL [--key KEY] [--batch N]\n");
            return 2;
        }
    }
    if (dir == NULL || key == NULL || max < 1 || max > 1000) {
        fprintf(stderr, "spctl replay: --dir and --key (or SP_INGEST_KEY) are required; --batch 1..1000\n");
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/events.ndjson", dir);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "spctl replay: cannot open %s\n", path);
        return 1;
    }
    struct replay r = {0};
    if (sp_http_client_new(url, 30000, &r.c) != SP_OK) {
        fprintf(stderr, "spctl replay: bad --ingest URL %s\n", url);
        fclose(f);
        return 2;
    }
    r.hdr[0] = (sp_http_header){"X-Api-Key", key};
    r.hdr[1] = (sp_http_header){"Content-Type", "application/json"};
    json_t *batch = json_array();
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0;
    int rc = 0;
    int64_t t0 = sp_wall_ms();
    while ((len = getline(&line, &cap, f)) > 0) {
        lineno++;
        json_error_t jerr;
        json_t *env = json_loadb(line, (size_t)len, 0, &jerr);
        const char *ep = json_string_value(json_object_get(env, "endpoint"));
        if (env == NULL || ep == NULL) {
            fprintf(stderr, "spctl replay: %s:%ld: not an envelope\n", path, lineno);
            json_decref(env);
            rc = 1;
            break;
        }
        r.posted++;
        if (strcmp(ep, "/v1/interactions") == 0) {
            json_array_append(batch, json_object_get(env, "item"));
            if ((long)json_array_size(batch) >= max && flush_batch(&r, batch) < 0) rc = 1;
        } else {
            if (flush_batch(&r, batch) < 0) rc = 1; /* keep the order of the stream */
            const char *mime = json_string_value(json_object_get(env, "mime"));
            if (mime) {
                if (post(&r, ep, "message/rfc822", mime, strlen(mime), 1) < 0) rc = 1;
            } else {
                char *body = json_dumps(json_object_get(env, "item"), JSON_COMPACT);
                if (body == NULL || post(&r, ep, "application/json", body, strlen(body), 1) < 0) rc = 1;
                free(body);
            }
        }
        json_decref(env);
        if (rc) break;
    }
    if (rc == 0 && flush_batch(&r, batch) < 0) rc = 1;
    double secs = (double)(sp_wall_ms() - t0) / 1000.0;
    printf("replay: %ld events in %ld requests, %ld accepted, %ld rejected, %.1f s (%.0f events/s)\n", r.posted,
        r.requests, r.accepted, r.rejected, secs, secs > 0 ? (double)r.posted / secs : 0.0);
    if (rc) fprintf(stderr, "spctl replay: sp-ingest at %s could not be reached\n", url);
    free(line);
    json_decref(batch);
    sp_http_client_destroy(r.c);
    fclose(f);
    return rc;
}

/* `wait-drained [--timeout SECONDS]`: polls the lag of the pipeline's
 * consumer groups until all are zero twice in a row. */
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
    long timeout = 600;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) timeout = atol(argv[++i]);
    int64_t until = sp_wall_ms() + timeout * 1000;
    int zero_rounds = 0;
    while (sp_wall_ms() < until) {
        int64_t total = 0;
        char line[512] = "";
        size_t off = 0;
        for (size_t i = 0; i < sizeof stages / sizeof stages[0]; i++) {
            int64_t lag = 0;
            char err[256];
            if (bus_group_lag(cfg->kafka_bootstrap, stages[i].group, stages[i].topic, &lag, err, sizeof err) != SP_OK) {
                fprintf(stderr, "wait-drained: %s\n", err);
                lag = 1;
            }
            total += lag;
            off += (size_t)snprintf(line + off, sizeof line - off, " %s=%lld", stages[i].group, (long long)lag);
        }
        zero_rounds = total == 0 ? zero_rounds + 1 : 0;
        if (zero_rounds >= 3) {
            printf("drained:%s\n", line);
            return 0;
        }
        fprintf(stderr, "lag:%s\n", line);
        sleep(2);
    }
    fprintf(stderr, "wait-drained: not drained within %ld s\n", timeout);
    return 1;
}
