/* Unit tests of common/http and common/http_client: the pure dispatch path
 * on plain structs, then a real server on 127.0.0.1 port 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "err.h"
#include "http.h"
#include "http_client.h"
#include "metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* --- handlers and auth used by both halves --------------------------------- */

static int h_echo(const sp_http_req *req, sp_http_res *res, void *arg)
{
    json_t *j;
    int rv = sp_http_req_json(req, res, &j);
    if (rv != SP_OK) return rv;
    rv = sp_http_res_json(res, 200, j);
    json_decref(j);
    return rv;
}

static int h_whoami(const sp_http_req *req, sp_http_res *res, void *arg)
{
    json_t *j = json_pack("{s:s,s:s,s:s}", "person_id", req->principal->person_id, "role",
        req->principal->role, "tail", req->tail);
    int rv = sp_http_res_json(res, 200, j);
    json_decref(j);
    return rv;
}

static int h_task_ack(const sp_http_req *req, sp_http_res *res, void *arg)
{
    char limit[16] = "-";
    sp_http_req_query(req, "limit", limit, sizeof limit);
    char body[200];
    int n = snprintf(body, sizeof body, "route=%s tail=%s limit=%s", req->route, req->tail, limit);
    int rv = sp_http_res_set(res, 202, "text/plain", body, (size_t)n);
    if (rv == SP_OK) rv = sp_http_res_header(res, "Location", "/v1/tasks/t1");
    if (rv == SP_OK) rv = sp_http_res_header(res, "Retry-After", "3");
    return rv;
}

static int h_tasks_list(const sp_http_req *req, sp_http_res *res, void *arg)
{
    return sp_http_res_set(res, 200, "text/plain", "list", 4);
}

static int h_conflict(const sp_http_req *req, sp_http_res *res, void *arg)
{
    return SP_ECONFLICT;
}

static int h_nothing(const sp_http_req *req, sp_http_res *res, void *arg)
{
    return SP_OK;
}

static int h_slow(const sp_http_req *req, sp_http_res *res, void *arg)
{
    usleep(200 * 1000);
    return sp_http_res_set(res, 200, "text/plain", "slow", 4);
}

static int h_ping(const sp_http_req *req, sp_http_res *res, void *arg)
{
    return sp_http_res_set(res, 200, "text/plain", "pong", 4);
}

static atomic_int auth_unread_calls; /* calls on the headers alone */

static int test_auth(const sp_http_req *req, void *arg, sp_http_principal *out)
{
    if (req->body_unread) {
        atomic_fetch_add(&auth_unread_calls, 1);
        assert_true(req->body != NULL && req->body_len == 0);
    }
    const char *a = sp_http_req_header(req, "Authorization");
    const char *k = sp_http_req_header(req, "X-Api-Key");
    if ((a && strcmp(a, "Bearer tok-alice") == 0) || (k && strcmp(k, "key-alice") == 0)) {
        snprintf(out->person_id, sizeof out->person_id, "p-alice");
        snprintf(out->role, sizeof out->role, "rep");
        return SP_OK;
    }
    if (a && strcmp(a, "Bearer tok-guest") == 0) {
        snprintf(out->denied_field, sizeof out->denied_field, "Authorization");
        return SP_EFORBIDDEN;
    }
    if (a && strcmp(a, "Bearer tok-dbdown") == 0) return SP_EDBDOWN; /* the token store unreachable */
    return SP_EAUTH;
}

static atomic_int ready_flag;
static int ready_cb(void *arg, char *why, size_t cap)
{
    if (!atomic_load(&ready_flag)) snprintf(why, cap, "kafka not connected");
    return atomic_load(&ready_flag);
}

/* Server with the test routes; max_body small to test 413 cheaply. */
static sp_http_server *make_server(const char *url, int workers)
{
    sp_http_opts o = {.max_body = 1024, .workers = workers, .auth = test_auth};
    sp_http_server *srv;
    assert_int_equal(sp_http_server_new(url, &o, &srv), SP_OK);
    assert_int_equal(sp_http_route_add(srv, "POST", "/v1/echo", 0, h_echo, NULL), SP_OK);
    assert_int_equal(sp_http_route_add(srv, "GET", "/v1/me", SP_HTTP_AUTH, h_whoami, NULL), SP_OK);
    assert_int_equal(sp_http_route_add(srv, "POST", "/v1/tasks/", SP_HTTP_PREFIX, h_task_ack, NULL), SP_OK);
    assert_int_equal(sp_http_route_add(srv, "GET", "/v1/tasks", 0, h_tasks_list, NULL), SP_OK);
    assert_int_equal(sp_http_route_add(srv, "PUT", "/v1/conflict", 0, h_conflict, NULL), SP_OK);
    assert_int_equal(sp_http_route_add(srv, "GET", "/v1/nothing", 0, h_nothing, NULL), SP_OK);
    assert_int_equal(sp_http_route_add(srv, "GET", "/v1/slow", 0, h_slow, NULL), SP_OK);
    assert_int_equal(sp_http_route_add(srv, "GET", "/v1/ping", 0, h_ping, NULL), SP_OK);
    /* a route with its own, larger body limit */
    assert_int_equal(sp_http_route_add(srv, "POST", "/v1/big", 0, h_echo, NULL), SP_OK);
    assert_int_equal(sp_http_route_set_max_body(srv, "POST", "/v1/big", 4096), SP_OK);
    assert_int_equal(sp_http_route_set_max_body(srv, "POST", "/v1/none", 4096), SP_ENOTFOUND);
    /* ... and authenticated */
    assert_int_equal(sp_http_route_add(srv, "POST", "/v1/bigauth", SP_HTTP_AUTH, h_echo, NULL), SP_OK);
    assert_int_equal(sp_http_route_set_max_body(srv, "POST", "/v1/bigauth", 4096), SP_OK);
    return srv;
}

/* --- pure path ---------------------------------------------------------------- */

static void run(sp_http_server *srv, sp_http_req *req, sp_http_res *res)
{
    sp_http_res_init(res);
    sp_http_server_dispatch(srv, req, res);
}

static const char *res_header(const sp_http_res *res, const char *name)
{
    for (int i = 0; i < res->nheaders; i++)
        if (strcasecmp(res->hname[i], name) == 0) return res->hvalue[i];
    return NULL;
}

static void test_pure_table(void **state)
{
    (void)state;
    sp_http_server *srv = make_server("http://127.0.0.1:0", 1);
    static const sp_http_header json_ct[] = {{"content-type", "application/json; charset=utf-8"}};
    static const sp_http_header text_ct[] = {{"Content-Type", "text/plain"}};
    static const sp_http_header bearer[] = {{"Authorization", "Bearer tok-alice"}};
    static const sp_http_header apikey[] = {{"X-Api-Key", "key-alice"}};
    static const sp_http_header guest[] = {{"Authorization", "Bearer tok-guest"}};
    static const sp_http_header wrong[] = {{"Authorization", "Bearer nope"}};
    static const sp_http_header dbdown[] = {{"Authorization", "Bearer tok-dbdown"}};
    char big[2000];
    memset(big, ' ', sizeof big);
    const struct {
        const char *method, *path, *query, *body;
        const sp_http_header *hdrs;
        size_t nh;
        int status;
        const char *want; /* exact body */
    } cases[] = {
        {"GET", "/healthz", "", NULL, NULL, 0, 200, "{\"status\":\"ok\"}"},
        {"HEAD", "/healthz", "", NULL, NULL, 0, 200, "{\"status\":\"ok\"}"},
        {"GET", "/nope", "", NULL, NULL, 0, 404,
            "{\"error\":{\"code\":\"not_found\",\"message\":\"no such resource\"}}"},
        {"DELETE", "/healthz", "", NULL, NULL, 0, 405,
            "{\"error\":{\"code\":\"method_not_allowed\",\"message\":\"method DELETE not allowed; allowed: "
            "GET\"}}"},
        {"POST", "/v1/echo", "", "{\"a\":[1,2]}", json_ct, 1, 200, "{\"a\":[1,2]}"},
        {"POST", "/v1/echo", "", "{\"a\":", json_ct, 1, 400,
            "{\"error\":{\"code\":\"invalid_json\",\"message\":\"invalid JSON at line 1 column 5: unexpected "
            "token near end "
            "of file\"}}"},
        {"POST", "/v1/echo", "", "{}", text_ct, 1, 415,
            "{\"error\":{\"code\":\"unsupported_media_type\",\"message\":\"Content-Type must be "
            "application/json\",\"field\":\"Content-Type\"}}"},
        {"POST", "/v1/echo", "", "{}", NULL, 0, 415, NULL},
        {"POST", "/v1/echo", "", big, json_ct, 1, 413,
            "{\"error\":{\"code\":\"payload_too_large\",\"message\":\"request body over 1024 bytes\"}}"},
        /* what handlers decode goes to PostgreSQL as text: UTF-8 only */
        {"POST", "/v1/tasks/%FF", "", NULL, NULL, 0, 400,
            "{\"error\":{\"code\":\"bad_request\",\"message\":\"the path is not valid UTF-8 once "
            "percent-decoded\",\"field\":\"path\"}}"},
        {"POST", "/v1/tasks/%C3/ack", "", NULL, NULL, 0, 400, NULL},
        {"GET", "/v1/tasks", "kind=%C3", NULL, NULL, 0, 400,
            "{\"error\":{\"code\":\"bad_request\",\"message\":\"the query is not valid UTF-8 once "
            "percent-decoded\",\"field\":\"query\"}}"},
        {"GET", "/v1/tasks", "kind=%E5%AE%A2", NULL, NULL, 0, 200, "list"},
        {"POST", "/v1/tasks/%E5%AE%A2/ack", "", NULL, NULL, 0, 202, NULL},
        /* a method that is not UTF-8 is quoted in the 405 with '?' for the
         * bad byte (jansson refused it: the answer had no status) */
        {"\xb1GET", "/v1/tasks", "", NULL, NULL, 0, 405,
            "{\"error\":{\"code\":\"method_not_allowed\",\"message\":\"method ?GET not allowed; allowed: "
            "GET\"}}"},
        /* over the server's limit, within the route's: the handler runs */
        {"POST", "/v1/big", "", big, json_ct, 1, 400, NULL},
        {"GET", "/v1/me", "", NULL, NULL, 0, 401,
            "{\"error\":{\"code\":\"unauthorized\",\"message\":\"authentication required\"}}"},
        {"GET", "/v1/me", "", NULL, dbdown, 1, 503, NULL},
        {"GET", "/v1/me", "", NULL, wrong, 1, 401, NULL},
        {"GET", "/v1/me", "", NULL, guest, 1, 403,
            "{\"error\":{\"code\":\"forbidden\",\"message\":\"forbidden\",\"field\":\"Authorization\"}}"},
        {"GET", "/v1/me", "", NULL, bearer, 1, 200,
            "{\"person_id\":\"p-alice\",\"role\":\"rep\",\"tail\":\"\"}"},
        {"GET", "/v1/me", "", NULL, apikey, 1, 200, NULL},
        {"POST", "/v1/tasks/t1/ack", "limit=5&x=a%20b", NULL, NULL, 0, 202,
            "route=/v1/tasks/ tail=t1/ack limit=5"},
        {"GET", "/v1/tasks", "", NULL, NULL, 0, 200, "list"},
        {"GET", "/v1/tasks/t1", "", NULL, NULL, 0, 405, NULL},
        {"POST", "/v1/tasks", "", NULL, NULL, 0, 405, NULL},
        {"PUT", "/v1/conflict", "", NULL, NULL, 0, 409,
            "{\"error\":{\"code\":\"conflict\",\"message\":\"conflict with current state\"}}"},
        {"GET", "/v1/nothing", "", NULL, NULL, 0, 500, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sp_http_req req = {.method = cases[i].method,
            .path = cases[i].path,
            .query = cases[i].query,
            .headers = cases[i].hdrs,
            .nheaders = cases[i].nh};
        if (cases[i].body) {
            req.body = cases[i].body;
            req.body_len = cases[i].body == big ? sizeof big : strlen(cases[i].body);
        }
        sp_http_res res;
        run(srv, &req, &res);
        if (res.status != cases[i].status)
            fail_msg("case %zu %s %s: status %d want %d (%s)", i, cases[i].method, cases[i].path, res.status,
                cases[i].status, res.body ? res.body : "");
        if (cases[i].want && strcmp(res.body, cases[i].want) != 0)
            fail_msg("case %zu %s %s: body %s\nwant %s", i, cases[i].method, cases[i].path, res.body,
                cases[i].want);
        if (res.status >= 400) assert_string_equal(res.content_type, "application/json");
        if (res.status == 503) assert_non_null(res_header(&res, "Retry-After"));
        sp_http_res_clear(&res);
    }
    sp_http_server_destroy(srv);
}

static void test_pure_headers_and_metrics(void **state)
{
    (void)state;
    sp_http_server *srv = make_server("http://127.0.0.1:0", 1);
    sp_http_res res;
    sp_http_req req = {.method = "DELETE", .path = "/v1/tasks"};
    run(srv, &req, &res);
    assert_int_equal(res.status, 405);
    assert_int_equal(res.nheaders, 1);
    assert_string_equal(res.hname[0], "Allow");
    assert_string_equal(res.hvalue[0], "GET");
    sp_http_res_clear(&res);

    req = (sp_http_req) {.method = "GET", .path = "/v1/me"};
    run(srv, &req, &res);
    assert_string_equal(res.hname[0], "WWW-Authenticate");
    sp_http_res_clear(&res);

    req = (sp_http_req) {.method = "POST", .path = "/v1/tasks/x", .query = "limit=%41b+c&flag"};
    char buf[8];
    assert_int_equal(sp_http_req_query(&req, "limit", buf, sizeof buf), SP_OK);
    assert_string_equal(buf, "Ab c");
    assert_int_equal(sp_http_req_query(&req, "flag", buf, sizeof buf), SP_OK);
    assert_string_equal(buf, "");
    assert_int_equal(sp_http_req_query(&req, "lim", buf, sizeof buf), SP_ENOTFOUND);
    assert_int_equal(sp_http_req_query(&req, "limit", buf, 3), SP_ETOOBIG);

    /* readiness: flag */
    req = (sp_http_req) {.method = "GET", .path = "/readyz"};
    run(srv, &req, &res);
    assert_int_equal(res.status, 503);
    assert_string_equal(res.body, "{\"status\":\"not_ready\",\"reason\":\"starting\"}");
    sp_http_res_clear(&res);
    sp_http_server_set_ready(srv, 1);
    run(srv, &req, &res);
    assert_int_equal(res.status, 200);
    assert_string_equal(res.body, "{\"status\":\"ready\"}");
    sp_http_res_clear(&res);

    /* metrics of what ran so far */
    req = (sp_http_req) {.method = "GET", .path = "/metrics"};
    run(srv, &req, &res);
    assert_int_equal(res.status, 200);
    assert_string_equal(res.content_type, SP_METRICS_CONTENT_TYPE);
    assert_non_null(strstr(res.body, "# TYPE sp_http_requests_total counter\n"));
    assert_non_null(
        strstr(res.body, "sp_http_requests_total{route=\"unmatched\",method=\"DELETE\",status=\"405\"} 1\n"));
    assert_non_null(
        strstr(res.body, "sp_http_requests_total{route=\"/readyz\",method=\"GET\",status=\"503\"} 1\n"));
    assert_non_null(
        strstr(res.body, "sp_http_requests_total{route=\"/readyz\",method=\"GET\",status=\"200\"} 1\n"));
    assert_non_null(strstr(res.body, "sp_http_request_duration_seconds_count{route=\"/readyz\"} 2\n"));
    sp_http_res_clear(&res);

    /* duplicate routes and bad arguments */
    assert_int_equal(sp_http_route_add(srv, "GET", "/v1/tasks", 0, h_tasks_list, NULL), SP_EEXIST);
    assert_int_equal(sp_http_route_add(srv, "GET", "no-slash", 0, h_tasks_list, NULL), SP_EINVAL);
    assert_int_equal(sp_http_route_add(srv, "GET", "/x", 0, NULL, NULL), SP_EINVAL);
    sp_http_server_destroy(srv);
    sp_http_server_destroy(NULL);

    assert_int_equal(sp_http_server_new("tcp://127.0.0.1:1", NULL, &srv), SP_EINVAL);
    assert_int_equal(sp_http_server_new("not a url", NULL, &srv), SP_EINVAL);
    assert_int_equal(sp_http_status_for_err(SP_EDBDOWN), 503);
    assert_int_equal(sp_http_status_for_err(SP_ETIMEOUT), 504);
    assert_int_equal(sp_http_status_for_err(SP_ENOMEM), 500);
}

/* --- over sockets --------------------------------------------------------------- */

static sp_http_server *start_server(int workers, char *base, size_t cap)
{
    sp_http_server *srv = make_server("http://127.0.0.1:0", workers);
    assert_int_equal(sp_http_server_start(srv), SP_OK);
    int port = sp_http_server_port(srv);
    assert_true(port > 0 && port < 65536);
    snprintf(base, cap, "http://127.0.0.1:%d", port);
    return srv;
}

static void test_socket_basics(void **state)
{
    (void)state;
    char base[64], url[128];
    sp_http_server *srv = start_server(4, base, sizeof base);
    sp_http_client *c;
    sp_http_reply r;
    assert_int_equal(sp_http_client_new(base, 5000, &c), SP_OK);

    assert_int_equal(sp_http_client_do(c, "GET", "/healthz", NULL, 0, NULL, 0, &r), SP_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"status\":\"ok\"}");
    assert_string_equal(sp_http_reply_header(&r, "Content-Type"), "application/json");
    sp_http_reply_clear(&r);

    assert_int_equal(sp_http_client_do(c, "GET", "/readyz", NULL, 0, NULL, 0, &r), SP_OK);
    assert_int_equal(r.status, 503);
    sp_http_reply_clear(&r);
    sp_http_server_set_ready(srv, 1);
    assert_int_equal(sp_http_client_do(c, "GET", "/readyz", NULL, 0, NULL, 0, &r), SP_OK);
    assert_int_equal(r.status, 200);
    sp_http_reply_clear(&r);

    static const sp_http_header jh[] = {{"Content-Type", "application/json"}};
    const char *doc = "{\"text\":\"\xe4\xbd\xa0\xe5\xa5\xbd\",\"n\":3}";
    assert_int_equal(sp_http_client_do(c, "POST", "/v1/echo", jh, 1, doc, strlen(doc), &r), SP_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, doc);
    sp_http_reply_clear(&r);

    assert_int_equal(sp_http_client_do(c, "GET", "/missing/thing", NULL, 0, NULL, 0, &r), SP_OK);
    assert_int_equal(r.status, 404);
    assert_string_equal(r.body, "{\"error\":{\"code\":\"not_found\",\"message\":\"no such resource\"}}");
    sp_http_reply_clear(&r);

    assert_int_equal(sp_http_client_do(c, "PATCH", "/v1/echo", NULL, 0, NULL, 0, &r), SP_OK);
    assert_int_equal(r.status, 405);
    assert_string_equal(sp_http_reply_header(&r, "Allow"), "POST");
    assert_non_null(strstr(r.body, "\"code\":\"method_not_allowed\""));
    sp_http_reply_clear(&r);

    static const sp_http_header auth[] = {{"Authorization", "Bearer tok-alice"}};
    assert_int_equal(sp_http_client_do(c, "GET", "/v1/me", NULL, 0, NULL, 0, &r), SP_OK);
    assert_int_equal(r.status, 401);
    assert_string_equal(sp_http_reply_header(&r, "WWW-Authenticate"), "Bearer");
    sp_http_reply_clear(&r);
    assert_int_equal(sp_http_client_do(c, "GET", "/v1/me", auth, 1, NULL, 0, &r), SP_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"person_id\":\"p-alice\",\"role\":\"rep\",\"tail\":\"\"}");
    sp_http_reply_clear(&r);

    assert_int_equal(sp_http_client_do(c, "POST", "/v1/tasks/t9/ack?limit=7", NULL, 0, NULL, 0, &r), SP_OK);
    assert_int_equal(r.status, 202);
    assert_string_equal(r.body, "route=/v1/tasks/ tail=t9/ack limit=7");
    assert_string_equal(sp_http_reply_header(&r, "Location"), "/v1/tasks/t1");
    assert_string_equal(sp_http_reply_header(&r, "Retry-After"), "3");
    sp_http_reply_clear(&r);

    /* oversized body (3 MiB over a 1 KiB limit): drained, 413 JSON, and the
     * connection stays usable */
    static char big[3 << 20];
    memset(big, 'x', sizeof big);
    assert_int_equal(sp_http_client_do(c, "POST", "/v1/echo", jh, 1, big, sizeof big, &r), SP_OK);
    assert_int_equal(r.status, 413);
    assert_string_equal(
        r.body, "{\"error\":{\"code\":\"payload_too_large\",\"message\":\"request body over 1024 bytes\"}}");
    assert_null(sp_http_reply_header(&r, "Connection"));
    sp_http_reply_clear(&r);
    assert_int_equal(sp_http_client_do(c, "GET", "/healthz", NULL, 0, NULL, 0, &r), SP_OK);
    assert_int_equal(r.status, 200);
    sp_http_reply_clear(&r);

    snprintf(url, sizeof url, "%s/metrics", base);
    assert_int_equal(sp_http_fetch(url, "GET", NULL, 0, NULL, 0, 5000, &r), SP_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(sp_http_reply_header(&r, "Content-Type"), SP_METRICS_CONTENT_TYPE);
    assert_non_null(
        strstr(r.body, "sp_http_requests_total{route=\"/v1/echo\",method=\"POST\",status=\"200\"} 1\n"));
    assert_non_null(
        strstr(r.body, "sp_http_requests_total{route=\"/v1/echo\",method=\"POST\",status=\"413\"} 1\n"));
    assert_non_null(
        strstr(r.body, "sp_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 2\n"));
    sp_http_reply_clear(&r);

    sp_http_client_destroy(c);
    sp_http_server_destroy(srv);
}

static void test_socket_ready_callback_and_static(void **state)
{
    (void)state;
    sp_http_opts o = {.ready = ready_cb};
    sp_http_server *srv;
    assert_int_equal(sp_http_server_new("http://127.0.0.1:0", &o, &srv), SP_OK);
    assert_int_equal(sp_http_server_start(srv), SP_OK);
    assert_int_equal(sp_http_server_start(srv), SP_ESTATE);
    assert_int_equal(sp_http_route_add(srv, "GET", "/late", 0, h_ping, NULL), SP_ESTATE);
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d", sp_http_server_port(srv));
    sp_http_client *c;
    sp_http_reply r;
    assert_int_equal(sp_http_client_new(base, 5000, &c), SP_OK);

    atomic_store(&ready_flag, 0);
    assert_int_equal(sp_http_client_do(c, "GET", "/readyz", NULL, 0, NULL, 0, &r), SP_OK);
    assert_int_equal(r.status, 503);
    assert_string_equal(r.body, "{\"status\":\"not_ready\",\"reason\":\"kafka not connected\"}");
    sp_http_reply_clear(&r);
    atomic_store(&ready_flag, 1);
    assert_int_equal(sp_http_client_do(c, "GET", "/readyz", NULL, 0, NULL, 0, &r), SP_OK);
    assert_int_equal(r.status, 200);
    sp_http_reply_clear(&r);

    /* unknown paths get our JSON 404 */
    assert_int_equal(sp_http_client_do(c, "GET", "/uix", NULL, 0, NULL, 0, &r), SP_OK);
    assert_int_equal(r.status, 404);
    assert_string_equal(sp_http_reply_header(&r, "Content-Type"), "application/json");
    sp_http_reply_clear(&r);

    sp_http_client_destroy(c);
    sp_http_server_destroy(srv);

    /* nothing listening: the client reports an I/O error */
    assert_int_equal(sp_http_fetch(base, "GET", NULL, 0, NULL, 0, 2000, &r), SP_EIO);
}

/* Raw socket helpers for what nng's client cannot do (Expect: 100-continue). */
static int raw_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

/* Reads until buf contains want (or EOF/timeout); returns bytes held. */
static size_t raw_read_until(int fd, char *buf, size_t cap, size_t have, const char *want)
{
    while (have + 1 < cap) {
        buf[have] = '\0';
        if (strstr(buf, want)) break;
        ssize_t n = read(fd, buf + have, cap - 1 - have);
        if (n <= 0) break;
        have += (size_t)n;
    }
    buf[have] = '\0';
    return have;
}

static void test_socket_expect_continue(void **state)
{
    (void)state;
    char base[64], buf[2048];
    sp_http_server *srv = start_server(2, base, sizeof base);
    int port = sp_http_server_port(srv);

    /* accepted body: 100 Continue, then the body, then the echo */
    int fd = raw_connect(port);
    const char *hdr = "POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      "Content-Length: 8\r\nExpect: 100-continue\r\n\r\n";
    assert_true(write(fd, hdr, strlen(hdr)) == (ssize_t)strlen(hdr));
    size_t n = raw_read_until(fd, buf, sizeof buf, 0, "\r\n\r\n");
    assert_true(strncmp(buf, "HTTP/1.1 100 Continue\r\n\r\n", 25) == 0);
    assert_true(write(fd, "{\"a\":12}", 8) == 8);
    n = raw_read_until(fd, buf, sizeof buf, 0, "{\"a\":12}");
    assert_non_null(strstr(buf, "HTTP/1.1 200"));
    assert_non_null(strstr(buf, "{\"a\":12}"));
    close(fd);

    /* over the server's limit but within the route's: 100 Continue, then
     * the handler (the body is not JSON: 400, not 413) */
    fd = raw_connect(port);
    hdr = "POST /v1/big HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          "Content-Length: 2000\r\nExpect: 100-continue\r\n\r\n";
    assert_true(write(fd, hdr, strlen(hdr)) == (ssize_t)strlen(hdr));
    n = raw_read_until(fd, buf, sizeof buf, 0, "\r\n\r\n");
    assert_true(strncmp(buf, "HTTP/1.1 100 Continue\r\n\r\n", 25) == 0);
    char spaces[2000];
    memset(spaces, ' ', sizeof spaces);
    assert_true(write(fd, spaces, sizeof spaces) == (ssize_t)sizeof spaces);
    n = raw_read_until(fd, buf, sizeof buf, 0, "}}");
    assert_non_null(strstr(buf, "HTTP/1.1 400"));
    assert_non_null(strstr(buf, "invalid_json"));
    close(fd);

    /* over the server's limit on an authenticated route: without a key,
     * 401 on the headers alone - no 100 Continue, the body never read */
    int unread0 = atomic_load(&auth_unread_calls);
    fd = raw_connect(port);
    hdr = "POST /v1/bigauth HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          "Content-Length: 2000\r\nExpect: 100-continue\r\n\r\n";
    assert_true(write(fd, hdr, strlen(hdr)) == (ssize_t)strlen(hdr));
    n = raw_read_until(fd, buf, sizeof buf, 0, "}}");
    assert_non_null(strstr(buf, "HTTP/1.1 401"));
    assert_null(strstr(buf, "100 Continue"));
    assert_non_null(strstr(buf, "WWW-Authenticate"));
    close(fd);
    assert_int_equal(atomic_load(&auth_unread_calls), unread0 + 1);
    /* refused with the header named, the client not waiting for 100 */
    fd = raw_connect(port);
    hdr = "POST /v1/bigauth HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok-guest\r\n"
          "Content-Type: application/json\r\nContent-Length: 2000\r\n\r\n";
    assert_true(write(fd, hdr, strlen(hdr)) == (ssize_t)strlen(hdr));
    n = raw_read_until(fd, buf, sizeof buf, 0, "}}");
    assert_non_null(strstr(buf, "HTTP/1.1 403"));
    assert_non_null(strstr(buf, "\"field\":\"Authorization\""));
    close(fd);
    /* with the key: 100 Continue, the body read, the hook called again with it */
    fd = raw_connect(port);
    hdr = "POST /v1/bigauth HTTP/1.1\r\nHost: x\r\nX-Api-Key: key-alice\r\nContent-Type: application/json\r\n"
          "Content-Length: 2000\r\nExpect: 100-continue\r\n\r\n";
    assert_true(write(fd, hdr, strlen(hdr)) == (ssize_t)strlen(hdr));
    n = raw_read_until(fd, buf, sizeof buf, 0, "\r\n\r\n");
    assert_true(strncmp(buf, "HTTP/1.1 100 Continue\r\n\r\n", 25) == 0);
    char body[2000];
    memset(body, ' ', sizeof body);
    memcpy(body, "{\"big\":1}", 9);
    assert_true(write(fd, body, sizeof body) == (ssize_t)sizeof body);
    n = raw_read_until(fd, buf, sizeof buf, 0, "{\"big\":1}");
    assert_non_null(strstr(buf, "HTTP/1.1 200"));
    close(fd);
    assert_int_equal(atomic_load(&auth_unread_calls), unread0 + 3);
    /* within the server's limit the hook sees the body only */
    fd = raw_connect(port);
    hdr = "POST /v1/bigauth HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          "Content-Length: 8\r\n\r\n{\"a\":12}";
    assert_true(write(fd, hdr, strlen(hdr)) == (ssize_t)strlen(hdr));
    n = raw_read_until(fd, buf, sizeof buf, 0, "}}");
    assert_non_null(strstr(buf, "HTTP/1.1 401"));
    close(fd);
    assert_int_equal(atomic_load(&auth_unread_calls), unread0 + 3);

    /* oversized: 413 at once, body never sent, connection closed */
    fd = raw_connect(port);
    hdr = "POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          "Content-Length: 999999\r\nExpect: 100-continue\r\n\r\n";
    assert_true(write(fd, hdr, strlen(hdr)) == (ssize_t)strlen(hdr));
    n = raw_read_until(fd, buf, sizeof buf, 0, "bytes\"}}");
    assert_true(n > 0);
    assert_non_null(strstr(buf, "HTTP/1.1 413"));
    assert_null(strstr(buf, "100 Continue"));
    assert_non_null(strstr(buf, "payload_too_large"));
    close(fd);

    /* chunked bodies are refused */
    fd = raw_connect(port);
    hdr = "POST /v1/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    assert_true(write(fd, hdr, strlen(hdr)) == (ssize_t)strlen(hdr));
    n = raw_read_until(fd, buf, sizeof buf, 0, "}}");
    assert_non_null(strstr(buf, "HTTP/1.1 411"));
    close(fd);
    sp_http_server_destroy(srv);
}

struct client_arg {
    const char *base;
    const char *path;
    int n;
    int ok;
};

static void *client_main(void *p)
{
    struct client_arg *a = p;
    sp_http_client *c;
    if (sp_http_client_new(a->base, 5000, &c) != SP_OK) return NULL;
    static const sp_http_header jh[] = {{"Content-Type", "application/json"}};
    for (int i = 0; i < a->n; i++) {
        char doc[64];
        int len = snprintf(doc, sizeof doc, "{\"i\":%d}", i);
        sp_http_reply r;
        int rv = a->path ? sp_http_client_do(c, "GET", a->path, NULL, 0, NULL, 0, &r)
                         : sp_http_client_do(c, "POST", "/v1/echo", jh, 1, doc, (size_t)len, &r);
        if (rv == SP_OK && r.status == 200 && (a->path || strcmp(r.body, doc) == 0)) a->ok++;
        if (rv == SP_OK) sp_http_reply_clear(&r);
    }
    sp_http_client_destroy(c);
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 8 clients x 50 echo requests, all answered correctly. */
static void test_socket_concurrent(void **state)
{
    (void)state;
    char base[64];
    sp_http_server *srv = start_server(4, base, sizeof base);
    pthread_t th[8];
    struct client_arg a[8];
    for (int i = 0; i < 8; i++) {
        a[i] = (struct client_arg) {.base = base, .n = 50};
        pthread_create(&th[i], NULL, client_main, &a[i]);
    }
    for (int i = 0; i < 8; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 8; i++)
        assert_int_equal(a[i].ok, 50);
    sp_http_server_destroy(srv);
}

/* Slow handlers run on the workers: 6 concurrent 200 ms requests finish
 * together, and /healthz answers meanwhile. */
static void test_socket_slow_handlers(void **state)
{
    (void)state;
    char base[64];
    sp_http_server *srv = start_server(8, base, sizeof base);
    pthread_t th[6];
    struct client_arg a[6];
    double t0 = now_s();
    for (int i = 0; i < 6; i++) {
        a[i] = (struct client_arg) {.base = base, .path = "/v1/slow", .n = 1};
        pthread_create(&th[i], NULL, client_main, &a[i]);
    }
    usleep(50 * 1000);
    sp_http_reply r;
    double h0 = now_s();
    char url[128];
    snprintf(url, sizeof url, "%s/healthz", base);
    assert_int_equal(sp_http_fetch(url, "GET", NULL, 0, NULL, 0, 5000, &r), SP_OK);
    double health_s = now_s() - h0;
    assert_int_equal(r.status, 200);
    sp_http_reply_clear(&r);
    for (int i = 0; i < 6; i++)
        pthread_join(th[i], NULL);
    double total = now_s() - t0;
    for (int i = 0; i < 6; i++)
        assert_int_equal(a[i].ok, 1);
    if (health_s > 0.1 || total > 0.9) fail_msg("healthz %.3f s, 6 slow requests %.3f s", health_s, total);
    sp_http_server_destroy(srv);
}

/* Destroy with a handler running and a body half received: returns (the
 * handler finishes), frees everything, clients see an answer or an error. */
static void test_socket_destroy_in_flight(void **state)
{
    (void)state;
    char base[64];
    sp_http_server *srv = start_server(2, base, sizeof base);
    int fd = raw_connect(sp_http_server_port(srv));
    const char *hdr = "POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      "Content-Length: 100\r\n\r\n{\"partial\":";
    assert_true(write(fd, hdr, strlen(hdr)) == (ssize_t)strlen(hdr));
    pthread_t th;
    struct client_arg a = {.base = base, .path = "/v1/slow", .n = 1};
    pthread_create(&th, NULL, client_main, &a);
    usleep(50 * 1000);
    double t0 = now_s();
    sp_http_server_destroy(srv);
    double dt = now_s() - t0;
    pthread_join(th, NULL);
    close(fd);
    if (dt > 1.0) fail_msg("destroy took %.3f s", dt);
}

/* Throughput figure, run instead of the tests when SP_HTTP_BENCH_SECONDS is set
 * (SP_HTTP_BENCH_THREADS, default 4; SP_HTTP_BENCH_PATH, default /v1/ping). */
struct bench_arg {
    const char *base;
    const char *path;
    double until;
    long n;
};

static void *bench_main(void *p)
{
    struct bench_arg *a = p;
    sp_http_client *c;
    if (sp_http_client_new(a->base, 5000, &c) != SP_OK) return NULL;
    while (now_s() < a->until) {
        sp_http_reply r;
        if (sp_http_client_do(c, "GET", a->path, NULL, 0, NULL, 0, &r) == SP_OK) {
            if (r.status == 200) a->n++;
            sp_http_reply_clear(&r);
        }
    }
    sp_http_client_destroy(c);
    return NULL;
}

static void test_bench(void **state)
{
    (void)state;
    double secs = atof(getenv("SP_HTTP_BENCH_SECONDS"));
    int nth = getenv("SP_HTTP_BENCH_THREADS") ? atoi(getenv("SP_HTTP_BENCH_THREADS")) : 4;
    const char *path = getenv("SP_HTTP_BENCH_PATH") ? getenv("SP_HTTP_BENCH_PATH") : "/v1/ping";
    char base[64];
    sp_http_server *srv = start_server(8, base, sizeof base);
    pthread_t th[64];
    struct bench_arg a[64];
    double t0 = now_s();
    for (int i = 0; i < nth && i < 64; i++) {
        a[i] = (struct bench_arg) {.base = base, .path = path, .until = t0 + secs};
        pthread_create(&th[i], NULL, bench_main, &a[i]);
    }
    long total = 0;
    for (int i = 0; i < nth && i < 64; i++) {
        pthread_join(th[i], NULL);
        total += a[i].n;
    }
    double dt = now_s() - t0;
    printf("bench: GET %s, %d threads, %.2f s, %ld requests, %.0f req/s\n", path, nth, dt, total,
        (double)total / dt);
    sp_http_server_destroy(srv);
}

int main(void)
{
    /* the bench is opt-in and runs alone: the TAP runner counts a skipped
     * test as a failure */
    if (getenv("SP_HTTP_BENCH_SECONDS")) {
        const struct CMUnitTest bench[] = {cmocka_unit_test(test_bench)};
        return cmocka_run_group_tests(bench, NULL, NULL);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pure_table),
        cmocka_unit_test(test_pure_headers_and_metrics),
        cmocka_unit_test(test_socket_basics),
        cmocka_unit_test(test_socket_ready_callback_and_static),
        cmocka_unit_test(test_socket_expect_continue),
        cmocka_unit_test(test_socket_concurrent),
        cmocka_unit_test(test_socket_slow_handlers),
        cmocka_unit_test(test_socket_destroy_in_flight),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
