/* spctl signals: every Signal on sp.signals.v1, from the beginning to the
 * current end, as one JSON object a line in event-time order - how a
 * scenario replayed in event time is compared with what should fire (and
 * what should not; docs/scenarios.md). */
#include "bus.h"
#include "err.h"
#include "salespulse/v1/signal.pb-c.h"
#include "spctl/spctl.h"
#include "watermark.h"

#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *transition_name(int t)
{
    static const char *n[] = {"unspecified", "raised", "updated", "cleared"};
    return t >= 0 && t <= 3 ? n[t] : "unknown";
}

static const char *subject_name(int t)
{
    static const char *n[] = {"unspecified", "deal", "customer", "rep", "team", "region"};
    return t >= 0 && t <= 5 ? n[t] : "unknown";
}

/* ISO-8601 UTC of ms into buf. */
static const char *iso(int64_t ms, char *buf, size_t cap)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

static json_t *strings(char **v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i] ? v[i] : ""));
    return a;
}

/* The JSON form of one signal; NULL for a heartbeat. */
static json_t *signal_json(const Salespulse__V1__Signal *g)
{
    if (g->meta == NULL || sp_watermark_is_heartbeat(g->meta->event_id) || g->subject == NULL) return NULL;
    char at[32];
    json_t *o = json_object();
    json_object_set_new(o, "occurred_at", json_string(iso(g->meta->occurred_at_ms, at, sizeof at)));
    json_object_set_new(o, "kind", json_string(g->kind));
    json_object_set_new(o, "transition", json_string(transition_name(g->transition)));
    json_object_set_new(o, "level", json_integer(g->level));
    json_object_set_new(o, "subject_type", json_string(subject_name(g->subject->type)));
    json_object_set_new(o, "subject_id", json_string(g->subject->id));
    json_object_set_new(o, "episode", json_integer(g->episode));
    json_object_set_new(o, "owner_rep_id", json_string(g->owner_rep_id));
    json_object_set_new(o, "team_id", json_string(g->team_id));
    json_object_set_new(o, "region_id", json_string(g->region_id));
    json_object_set_new(o, "explanation_zh", json_string(g->explanation_zh));
    json_object_set_new(o, "explanation_en", json_string(g->explanation_en));
    json_object_set_new(o, "tags", strings(g->tags, g->n_tags));
    json_t *ev = json_object(), *nums = json_object();
    if (g->evidence) {
        json_object_set_new(
            ev, "interaction_ids", strings(g->evidence->interaction_ids, g->evidence->n_interaction_ids));
        for (size_t i = 0; i < g->evidence->n_numbers; i++)
            json_object_set_new(
                nums, g->evidence->numbers[i]->name, json_real(g->evidence->numbers[i]->value));
    }
    json_object_set_new(ev, "numbers", nums);
    json_object_set_new(o, "evidence", ev);
    json_object_set_new(o, "event_id", json_string(g->meta->event_id));
    json_object_set_new(o, "occurred_at_ms", json_integer(g->meta->occurred_at_ms));
    return o;
}

/* Event time, then event id: the same order whatever the partitions. */
static int by_time(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    json_int_t tx = json_integer_value(json_object_get(x, "occurred_at_ms"));
    json_int_t ty = json_integer_value(json_object_get(y, "occurred_at_ms"));
    if (tx != ty) return tx < ty ? -1 : 1;
    return strcmp(
        json_string_value(json_object_get(x, "event_id")), json_string_value(json_object_get(y, "event_id")));
}

int spctl_signals(const struct spctl_cfg *cfg, int argc, char **argv)
{
    const char *topic = SP_TOPIC_SIGNALS, *kind = NULL;
    int timeout_s = 60;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--topic") && i + 1 < argc)
            topic = argv[++i];
        else if (!strcmp(argv[i], "--kind") && i + 1 < argc)
            kind = argv[++i];
        else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
            timeout_s = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: spctl signals [--kind PREFIX] [--topic T] [--timeout S]\n");
            return 2;
        }
    }
    if (timeout_s <= 0) timeout_s = 60;
    char err[512], group[64];
    snprintf(group, sizeof group, "spctl-signals-%d", (int)getpid());
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", cfg->kafka_bootstrap, err, sizeof err)
            != RD_KAFKA_CONF_OK
        || rd_kafka_conf_set(conf, "group.id", group, err, sizeof err) != RD_KAFKA_CONF_OK
        || rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err) != RD_KAFKA_CONF_OK
        || rd_kafka_conf_set(conf, "enable.partition.eof", "true", err, sizeof err) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "spctl signals: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err); /* takes conf */
    if (rk == NULL) {
        fprintf(stderr, "spctl signals: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    int code = 1, parts = 0, eofs = 0;
    char *done = NULL; /* per partition: read to its end (a later message clears it) */
    rd_kafka_topic_partition_list_t *tl = NULL;
    const struct rd_kafka_metadata *md = NULL;
    json_t *all = json_array();
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    if (t == NULL || rd_kafka_metadata(rk, 0, t, &md, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR
        || md->topic_cnt != 1 || md->topics[0].err) {
        fprintf(stderr, "spctl signals: no topic %s at %s\n", topic, cfg->kafka_bootstrap);
        goto fail;
    }
    parts = md->topics[0].partition_cnt;
    if ((done = calloc((size_t)parts + 1, 1)) == NULL) goto fail;
    tl = rd_kafka_topic_partition_list_new(parts);
    for (int p = 0; p < parts; p++)
        rd_kafka_topic_partition_list_add(tl, topic, md->topics[0].partitions[p].id)->offset
            = RD_KAFKA_OFFSET_BEGINNING;
    if (rd_kafka_assign(rk, tl) != RD_KAFKA_RESP_ERR_NO_ERROR) goto fail;
    time_t until = time(NULL) + timeout_s;
    while (eofs < parts) {
        if (time(NULL) > until) {
            fprintf(stderr, "spctl signals: %d of %d partitions read to the end in %d s\n", eofs, parts,
                timeout_s);
            goto fail;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 500);
        if (m == NULL) continue;
        int p = m->partition >= 0 && m->partition < parts ? m->partition : parts;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (p < parts && !done[p]) done[p] = 1, eofs++; /* EOF comes again after new messages */
        } else if (m->err) {
            fprintf(stderr, "spctl signals: %s\n", rd_kafka_message_errstr(m));
        } else {
            if (p < parts && done[p]) done[p] = 0, eofs--;
            Salespulse__V1__Signal *g = salespulse__v1__signal__unpack(NULL, m->len, m->payload);
            json_t *o = g ? signal_json(g) : NULL;
            if (o && (kind == NULL || strncmp(g->kind, kind, strlen(kind)) == 0))
                json_array_append_new(all, o);
            else
                json_decref(o);
            salespulse__v1__signal__free_unpacked(g, NULL);
        }
        rd_kafka_message_destroy(m);
    }
    size_t n = json_array_size(all);
    json_t **v = malloc((n ? n : 1) * sizeof *v);
    if (v == NULL) goto fail;
    for (size_t i = 0; i < n; i++)
        v[i] = json_array_get(all, i);
    qsort(v, n, sizeof *v, by_time);
    for (size_t i = 0; i < n; i++) {
        json_object_del(v[i], "occurred_at_ms");
        char *line = json_dumps(v[i], JSON_COMPACT);
        if (line) puts(line);
        free(line);
    }
    free(v);
    code = 0;
fail:
    free(done);
    json_decref(all);
    if (tl) rd_kafka_topic_partition_list_destroy(tl);
    if (md) rd_kafka_metadata_destroy(md);
    if (t) rd_kafka_topic_destroy(t);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return code;
}
