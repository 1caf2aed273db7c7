/* sp-ingest as a process against the real broker: a mixed valid batch is on
 * sp.interactions.v1 (read back and decoded), a batch with one bad item is
 * rejected whole with that item's index and field, the same batch posted
 * twice yields the same event ids, a GBK e-mail arrives as UTF-8 without its
 * quoted reply, a forged pixel token is not recorded, a bad API key is 401,
 * and a request while Kafka is stopped gets 503, never 202. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "bus.h"
#include "clock.h"
#include "err.h"
#include "http.h"
#include "http_client.h"
#include "ingest/tracking.h"
#include "itest.h"
#include "salespulse/v1/interaction.pb-c.h"

#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PORT "18181"
static pid_t ingest = -1;

static void kill_ingest(void)
{
    if (ingest > 0) kill(ingest, SIGKILL);
}

static int start_ingest(void **state)
{
    (void)state;
    atexit(kill_ingest);
    ingest = fork();
    if (ingest == 0) {
        char path[1024];
        snprintf(path, sizeof path, "%s/build/bin/sp-ingest", itest_env("SP_ROOT"));
        /* sha256("itest-key") */
        /* and sha256("itest-web-key"), a key that may post source "tracking" only */
        setenv("SP_INGEST_API_KEYS",
            "itest=7fd309873c8fea5c97b181a6e776d3c517d07a109db9a0d7533732cdad6d82e2,"
            "web:tracking=3b413ba042f3a9ffd25b820b8d1f70776437ac48f0fb12f3f6860ead2a7d882c",
            1);
        setenv("SP_HTTP_ADDR", "http://127.0.0.1:" PORT, 1);
        setenv("SP_PUBLISH_TIMEOUT", "3s", 1);
        setenv("SP_LOG_LEVEL", "error", 1);
        /* a new key that seals and the old one that still opens */
        setenv("SP_TRACKING_KEY", "itest-tracking-key-new-0123456789,itest-tracking-key-0123456789", 1);
        execl(path, path, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 100; i++) {
        sp_http_reply r = {0};
        if (sp_http_fetch("http://127.0.0.1:" PORT "/readyz", "GET", NULL, 0, NULL, 0, 1000, &r) == SP_OK
            && r.status == 200) {
            sp_http_reply_clear(&r);
            return 0;
        }
        sp_http_reply_clear(&r);
        usleep(100000);
    }
    return -1;
}

static int stop_ingest(void **state)
{
    (void)state;
    kill(ingest, SIGTERM);
    int st;
    waitpid(ingest, &st, 0);
    ingest = -1;
    return 0;
}

static int post(const char *path, const char *ctype, const char *key, const char *body, sp_http_reply *out)
{
    sp_http_header h[2] = {{"Content-Type", ctype}, {"X-Api-Key", key}};
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:" PORT "%s", path);
    return sp_http_fetch(url, "POST", h, key ? 2 : 1, body, strlen(body), 20000, out);
}

/* Reads sp.interactions.v1 from the beginning until an interaction with
 * event id `id` is found (or 20 s); returns it (caller frees) or NULL. */
static Salespulse__V1__Interaction *find_on_topic(const char *id);

struct finder {
    volatile sig_atomic_t stop;
    const char *id;
    Salespulse__V1__Interaction *found;
};

static void find_handler(
    void *arg, const bus_msg *msgs, size_t n, bus_result *res, char (*reasons)[BUS_REASON_LEN])
{
    struct finder *f = arg;
    for (size_t i = 0; i < n; i++) {
        res[i] = BUS_OK;
        Salespulse__V1__Interaction *ix
            = salespulse__v1__interaction__unpack(NULL, msgs[i].len, msgs[i].payload);
        if (ix && !f->found && ix->meta && strcmp(ix->meta->event_id, f->id) == 0) {
            f->found = ix;
            f->stop = 1;
        } else if (ix) {
            salespulse__v1__interaction__free_unpacked(ix, NULL);
        }
    }
}

static void *stopper(void *arg)
{
    struct finder *f = arg;
    for (int i = 0; i < 200 && !f->stop; i++)
        usleep(100000);
    f->stop = 1;
    return NULL;
}

static Salespulse__V1__Interaction *find_on_topic(const char *id)
{
    struct finder f = {.id = id};
    const char *topics[] = {SP_TOPIC_INTERACTIONS, NULL};
    char *group = itest_unique("itest-ingest");
    bus_consumer_opts o = {.bootstrap = itest_env("SP_KAFKA_BOOTSTRAP"),
        .group_id = group,
        .topics = topics,
        .handler = find_handler,
        .arg = &f};
    bus_consumer *c = NULL;
    char err[256];
    if (bus_consumer_new(&o, &c, err, sizeof err) != SP_OK) return NULL;
    pthread_t t;
    pthread_create(&t, NULL, stopper, &f);
    bus_consumer_run(c, &f.stop);
    pthread_join(t, NULL);
    bus_consumer_destroy(c);
    free(group);
    return f.found;
}

static const char *KEY = "itest-key";

static const char *BATCH
    = "[{\"source\":\"itest\",\"external_id\":\"b-1\",\"channel\":\"wecom\",\"direction\":\"inbound\","
      "\"occurred_at\":\"2026-03-02T10:15:00+08:00\",\"customer_identity\":{\"kind\":\"wecom\",\"value\":"
      "\"wm-itest\"},"
      "\"rep_id\":\"P-R01\",\"text\":\"X200 报价发我一下\"},"
      "{\"source\":\"itest\",\"external_id\":\"b-2\",\"channel\":\"activity\",\"direction\":\"internal\","
      "\"occurred_at\":\"2026-03-02T11:00:00+08:00\",\"customer_ref\":\"C-1\",\"rep_id\":\"P-R01\","
      "\"activity\":{\"kind\":\"needs_diagnosis\",\"roles_covered\":[\"procurement\",\"technical\"]}},"
      "{\"source\":\"itest\",\"external_id\":\"b-3\",\"channel\":\"crm\",\"direction\":\"internal\","
      "\"occurred_at\":\"2026-03-02T12:00:00+08:00\",\"customer_ref\":\"C-1\",\"rep_id\":\"P-R01\","
      "\"stage_change\":{\"deal_id\":\"D-1\",\"from_stage\":\"demo\",\"to_stage\":\"proposal\",\"amount\":"
      "460000}}]";

static void test_batch_durable_and_idempotent(void **state)
{
    (void)state;
    sp_http_reply r = {0};
    assert_int_equal(post("/v1/interactions", "application/json", KEY, BATCH, &r), SP_OK);
    assert_int_equal(r.status, 202);
    json_t *a = json_loads(r.body, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(a, "accepted")), 3);
    char *id0 = strdup(json_string_value(json_array_get(json_object_get(a, "event_ids"), 0)));
    char *ids1 = json_dumps(json_object_get(a, "event_ids"), JSON_COMPACT);
    json_decref(a);
    sp_http_reply_clear(&r);
    /* the same batch again: the same ids */
    assert_int_equal(post("/v1/interactions", "application/json", KEY, BATCH, &r), SP_OK);
    assert_int_equal(r.status, 202);
    a = json_loads(r.body, 0, NULL);
    char *ids2 = json_dumps(json_object_get(a, "event_ids"), JSON_COMPACT);
    assert_string_equal(ids1, ids2);
    json_decref(a);
    sp_http_reply_clear(&r);
    /* and the first one is on the topic, decodable, with its text */
    Salespulse__V1__Interaction *ix = find_on_topic(id0);
    assert_non_null(ix);
    assert_string_equal(ix->text, "X200 报价发我一下");
    assert_int_equal(ix->channel, SALESPULSE__V1__CHANNEL__CHANNEL_WECOM);
    salespulse__v1__interaction__free_unpacked(ix, NULL);
    free(id0);
    free(ids1);
    free(ids2);
}

static void test_bad_item_rejects_whole_batch(void **state)
{
    (void)state;
    const char *bad
        = "[{\"source\":\"itest\",\"external_id\":\"x-1\",\"channel\":\"wecom\",\"direction\":\"inbound\","
          "\"occurred_at\":\"2026-03-02T10:15:00+08:00\",\"text\":\"ok\"},"
          "{\"source\":\"itest\",\"external_id\":\"x-2\",\"channel\":\"telegram\",\"direction\":\"inbound\","
          "\"occurred_at\":\"2026-03-02T10:16:00+08:00\",\"text\":\"bad channel\"}]";
    sp_http_reply r = {0};
    assert_int_equal(post("/v1/interactions", "application/json", KEY, bad, &r), SP_OK);
    assert_int_equal(r.status, 422);
    json_t *a = json_loads(r.body, 0, NULL);
    json_t *e = json_array_get(json_object_get(a, "errors"), 0);
    assert_int_equal(json_integer_value(json_object_get(e, "index")), 1);
    assert_string_equal(json_string_value(json_object_get(e, "field")), "channel");
    json_decref(a);
    sp_http_reply_clear(&r);
    /* wrong key 401; wrong content type 415 */
    assert_int_equal(post("/v1/interactions", "application/json", "nope", BATCH, &r), SP_OK);
    assert_int_equal(r.status, 401);
    sp_http_reply_clear(&r);
    assert_int_equal(post("/v1/interactions", "text/plain", KEY, BATCH, &r), SP_OK);
    assert_int_equal(r.status, 415);
    sp_http_reply_clear(&r);
    /* a key issued for some sources only posts those: the batch (source
     * "itest") is refused whole, each item named; its own source goes in */
    assert_int_equal(post("/v1/interactions", "application/json", "itest-web-key", BATCH, &r), SP_OK);
    assert_int_equal(r.status, 422);
    a = json_loads(r.body, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(a, "errors")), 3);
    e = json_array_get(json_object_get(a, "errors"), 2);
    assert_int_equal(json_integer_value(json_object_get(e, "index")), 2);
    assert_string_equal(json_string_value(json_object_get(e, "field")), "source");
    json_decref(a);
    sp_http_reply_clear(&r);
    const char *own
        = "[{\"source\":\"tracking\",\"external_id\":\"w-1\",\"channel\":\"wecom\","
          "\"direction\":\"inbound\",\"occurred_at\":\"2026-03-02T10:15:00+08:00\",\"text\":\"ok\"}]";
    assert_int_equal(post("/v1/interactions", "application/json", "itest-web-key", own, &r), SP_OK);
    assert_int_equal(r.status, 202);
    sp_http_reply_clear(&r);
}

/* Posts a fixture e-mail and returns the interaction as read back from Kafka. */
static Salespulse__V1__Interaction *post_email(const char *file)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/ingest/email/%s", itest_env("SP_ROOT"), file);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char mime[65536];
    size_t n = fread(mime, 1, sizeof mime - 1, f);
    fclose(f);
    mime[n] = '\0';
    sp_http_reply r = {0};
    assert_int_equal(post("/v1/email", "message/rfc822", KEY, mime, &r), SP_OK);
    assert_int_equal(r.status, 202);
    json_t *a = json_loads(r.body, 0, NULL);
    char *id = strdup(json_string_value(json_array_get(json_object_get(a, "event_ids"), 0)));
    json_decref(a);
    sp_http_reply_clear(&r);
    Salespulse__V1__Interaction *ix = find_on_topic(id);
    free(id);
    assert_non_null(ix);
    return ix;
}

static void test_gbk_email_and_forged_pixel(void **state)
{
    (void)state;
    Salespulse__V1__Interaction *ix = post_email("gbk_base64.eml"); /* GBK, base64 */
    assert_string_equal(ix->text, "您好，X200的报价请发我一下，预算大概五十万，下个月采购。");
    assert_string_equal(ix->subject, "关于X200的报价");
    salespulse__v1__interaction__free_unpacked(ix, NULL);
    ix = post_email("reply_zh.eml"); /* GB18030 reply: only the new text remains */
    assert_string_equal(ix->text, "好的，我们内部讨论后下周回复。价格还需要再谈。");
    assert_non_null(strstr(ix->quoted_text, "原始邮件"));
    salespulse__v1__interaction__free_unpacked(ix, NULL);
    sp_http_reply r = {0};
    /* a forged pixel still gets the GIF, but nothing is recorded */
    assert_int_equal(
        sp_http_fetch("http://127.0.0.1:" PORT "/t/o/AAAAforged.gif", "GET", NULL, 0, NULL, 0, 5000, &r),
        SP_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 43);
    sp_http_reply_clear(&r);
    /* a forged click is refused, never redirected */
    assert_int_equal(
        sp_http_fetch("http://127.0.0.1:" PORT "/t/c/AAAAforged", "GET", NULL, 0, NULL, 0, 5000, &r), SP_OK);
    assert_int_equal(r.status, 403);
    assert_null(sp_http_reply_header(&r, "Location"));
    sp_http_reply_clear(&r);
    sp_http_reply m = {0};
    assert_int_equal(
        sp_http_fetch("http://127.0.0.1:" PORT "/metrics", "GET", NULL, 0, NULL, 0, 5000, &m), SP_OK);
    assert_non_null(strstr(m.body, "sp_ingest_events_total{source=\"tracking\",result=\"forged\"} 2"));
    sp_http_reply_clear(&m);
}

static int fetch_status(const char *path, sp_http_reply *r)
{
    char url[4300];
    snprintf(url, sizeof url, "http://127.0.0.1:" PORT "%s", path);
    assert_int_equal(sp_http_fetch(url, "GET", NULL, 0, NULL, 0, 5000, r), SP_OK);
    return r->status;
}

/* Links sealed through POST /v1/tracking/links redirect to their URL; a
 * token of the previous key still opens; the beacon takes text/plain
 * (navigator.sendBeacon); an e-mail over the 4 MiB default is taken. */
static void test_tracking_links_and_limits(void **state)
{
    (void)state;
    sp_http_reply r = {0};
    const char *req
        = "{\"ref\":\"<it-links@hengyuan.cn>\",\"customer\":\"email:li.wei@example.com\","
          "\"rep_id\":\"rep-7\",\"open\":true,\"links\":[\"https://hengyuan.cn/x200?from=mail\"]}";
    assert_int_equal(post("/v1/tracking/links", "application/json", "itest-web-key", req, &r), SP_OK);
    assert_int_equal(r.status, 200);
    json_t *a = json_loads(r.body, 0, NULL);
    sp_http_reply_clear(&r);
    assert_non_null(a);
    char click[4200], open[4200];
    snprintf(click, sizeof click, "%s",
        json_string_value(json_object_get(json_array_get(json_object_get(a, "links"), 0), "path")));
    snprintf(open, sizeof open, "%s", json_string_value(json_object_get(a, "open")));
    json_decref(a);
    assert_int_equal(fetch_status(click, &r), 302);
    assert_string_equal(sp_http_reply_header(&r, "Location"), "https://hengyuan.cn/x200?from=mail");
    sp_http_reply_clear(&r);
    assert_int_equal(fetch_status(open, &r), 200);
    assert_int_equal(r.body_len, 43);
    sp_http_reply_clear(&r);
    /* invalid requests name the field; without a key 401 */
    assert_int_equal(
        post("/v1/tracking/links", "application/json", KEY,
            "{\"ref\":\"r\",\"customer\":\"email:a@b.cn\",\"links\":[\"javascript:alert(1)\"]}", &r),
        SP_OK);
    assert_int_equal(r.status, 422);
    assert_non_null(strstr(r.body, "\"field\":\"links[0]\""));
    sp_http_reply_clear(&r);
    assert_int_equal(post("/v1/tracking/links", "application/json", NULL, req, &r), SP_OK);
    assert_int_equal(r.status, 401);
    sp_http_reply_clear(&r);

    /* a token sealed with the previous key (second in SP_TRACKING_KEY) opens */
    static const unsigned char old_key[] = "itest-tracking-key-0123456789";
    tracking_key k = {old_key, sizeof old_key - 1};
    tracking_token t
        = {.kind = SALESPULSE__V1__TRACKING_KIND__TRACKING_KIND_LINK_CLICK, .issued_at_ms = sp_wall_ms()};
    snprintf(t.ref, sizeof t.ref, "<it-old@hengyuan.cn>");
    snprintf(t.customer, sizeof t.customer, "email:li.wei@example.com");
    snprintf(t.url, sizeof t.url, "https://hengyuan.cn/old");
    char *tok = NULL;
    assert_int_equal(tracking_token_seal(&t, &k, &tok), SP_OK);
    snprintf(click, sizeof click, "/t/c/%s", tok);
    free(tok);
    assert_int_equal(fetch_status(click, &r), 302);
    assert_string_equal(sp_http_reply_header(&r, "Location"), "https://hengyuan.cn/old");
    sp_http_reply_clear(&r);

    /* the web beacon as navigator.sendBeacon sends it */
    const char *beacon
        = "{\"beacon_id\":\"it-b-plain\",\"visitor_id\":\"v-1\",\"email\":\"li.wei@example.com\","
          "\"url\":\"https://hengyuan.cn/compare/apex\",\"dwell_ms\":4000,"
          "\"occurred_at\":\"2026-03-02T09:00:00+08:00\"}";
    assert_int_equal(post("/v1/tracking", "text/plain;charset=UTF-8", "itest-web-key", beacon, &r), SP_OK);
    assert_int_equal(r.status, 202);
    sp_http_reply_clear(&r);
    assert_int_equal(post("/v1/tracking", "text/html", "itest-web-key", beacon, &r), SP_OK);
    assert_int_equal(r.status, 415);
    sp_http_reply_clear(&r);

    /* a 5 MiB e-mail (a large attachment): over the 4 MiB default, within
     * the e-mail route's 32 MiB */
    size_t att = 5u << 20, cap = att + att / 76 * 2 + 4096, n = 0;
    char *mime = malloc(cap);
    assert_non_null(mime);
    n += (size_t)snprintf(mime + n, cap - n,
        "Message-ID: <it-big@example.com>\r\nFrom: li.wei@example.com\r\nTo: rep7@hengyuan.cn\r\n"
        "Date: Mon, 02 Mar 2026 10:00:00 +0800\r\nSubject: big\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nplease see the attached drawings\r\n--b1\r\n"
        "Content-Type: application/pdf; name=\"d.pdf\"\r\nContent-Transfer-Encoding: base64\r\n"
        "Content-Disposition: attachment; filename=\"d.pdf\"\r\n\r\n");
    for (size_t i = 0; i < att; i += 76) {
        memset(mime + n, 'Q', 76);
        n += 76;
        mime[n++] = '\r', mime[n++] = '\n';
    }
    n += (size_t)snprintf(mime + n, cap - n, "--b1--\r\n");
    assert_true(n > SP_HTTP_DEFAULT_MAX_BODY);
    assert_int_equal(post("/v1/email", "message/rfc822", KEY, mime, &r), SP_OK);
    free(mime);
    if (r.status != 202) fail_msg("5 MiB e-mail: %d %s", r.status, r.body ? r.body : "");
    sp_http_reply_clear(&r);
}

static void test_kafka_down_is_503(void **state)
{
    (void)state;
    assert_int_equal(itest_sh("bash deploy/local/kafka.sh stop >/dev/null"), 0);
    const char *one
        = "[{\"source\":\"itest\",\"external_id\":\"down-1\",\"channel\":\"wecom\",\"direction\":\"inbound\","
          "\"occurred_at\":\"2026-03-02T10:15:00+08:00\",\"text\":\"while Kafka is down\"}]";
    sp_http_reply r = {0};
    int rv = post("/v1/interactions", "application/json", KEY, one, &r);
    int status = r.status;
    const char *retry = sp_http_reply_header(&r, "Retry-After");
    int has_retry = retry != NULL;
    sp_http_reply_clear(&r);
    assert_int_equal(itest_sh("bash deploy/local/kafka.sh start >/dev/null"), 0);
    assert_int_equal(rv, SP_OK);
    assert_int_equal(status, 503);
    assert_true(has_retry);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_durable_and_idempotent),
        cmocka_unit_test(test_bad_item_rejects_whole_batch),
        cmocka_unit_test(test_gbk_email_and_forged_pixel),
        cmocka_unit_test(test_tracking_links_and_limits),
        cmocka_unit_test(test_kafka_down_is_503),
    };
    return cmocka_run_group_tests(tests, start_ingest, stop_ingest);
}
