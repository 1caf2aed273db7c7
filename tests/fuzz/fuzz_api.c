/* libFuzzer target: what the HTTP APIs parse before a handler decides -
 * routing and the transport's checks (common/http dispatch), the task
 * pool's query strings, cursors, action bodies, org admin items, bearer
 * tokens and path segments, and sp-ingest's API key and webhook headers.
 * The first byte picks the parser; the rest is split at '\n' where a
 * parser takes several strings. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "err.h"
#include "http.h"
#include "ingest/auth.h"
#include "taskpool/api_internal.h"
#include "taskpool/api_query.h"
#include "taskpool/orgadmin.h"
#include "taskpool/token.h"

static int h_ok(const sp_http_req *req, sp_http_res *res, void *arg)
{
    (void)arg;
    char buf[64];
    sp_http_req_query(req, "limit", buf, sizeof buf);
    return sp_http_res_set(res, 200, "text/plain", "ok", 2);
}

static int auth_any(const sp_http_req *req, void *arg, sp_http_principal *out)
{
    (void)arg;
    const char *a = sp_http_req_header(req, "Authorization");
    if (a == NULL) return SP_EAUTH;
    char tok[SP_TOKEN_LEN + 1];
    if (token_from_bearer(a, tok) != SP_OK) return SP_EFORBIDDEN;
    snprintf(out->person_id, sizeof out->person_id, "p");
    return SP_OK;
}

static sp_http_server *server(void)
{
    static sp_http_server *srv;
    if (srv) return srv;
    sp_http_opts o = {.max_body = 1024, .auth = auth_any};
    if (sp_http_server_new("http://127.0.0.1:0", &o, &srv) != SP_OK
        || sp_http_route_add(srv, "GET", "/v1/tasks", SP_HTTP_AUTH, h_ok, NULL) != SP_OK
        || sp_http_route_add(srv, "POST", "/v1/tasks/", SP_HTTP_PREFIX | SP_HTTP_AUTH, h_ok, NULL) != SP_OK
        || sp_http_route_add(srv, "GET", "/t/c/", SP_HTTP_PREFIX, h_ok, NULL) != SP_OK
        || sp_http_route_add(srv, "POST", "/v1/email", 0, h_ok, NULL) != SP_OK
        || sp_http_route_set_max_body(srv, "POST", "/v1/email", 4096) != SP_OK)
        abort();
    return srv;
}

/* Splits s at '\n' into at most n parts (NUL-terminated in place). */
static size_t parts(char *s, char **out, size_t n)
{
    size_t k = 0;
    out[k++] = s;
    for (char *p = s; *p && k < n; p++)
        if (*p == '\n') *p = '\0', out[k++] = p + 1;
    for (size_t i = k; i < n; i++)
        out[i] = "";
    return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    char *s = malloc(size);
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    char *p[5];
    switch (data[0] % 7) {
    case 0: { /* method, path, query, Authorization, body */
        parts(s, p, 5);
        sp_http_header h[1] = {{"Authorization", p[3]}};
        sp_http_req req = {.method = p[0],
            .path = *p[1] ? p[1] : "/",
            .query = p[2],
            .headers = h,
            .nheaders = *p[3] ? 1 : 0,
            .body = p[4],
            .body_len = strlen(p[4])};
        sp_http_res res;
        sp_http_res_init(&res);
        sp_http_server_dispatch(server(), &req, &res);
        if (res.status < 100 || res.status > 599) abort();
        if (res.status >= 400 && strcmp(res.content_type, "application/json") != 0) abort();
        sp_http_res_clear(&res);
        break;
    }
    case 1: {
        sp_http_req req = {.method = "GET", .path = "/v1/tasks", .query = s};
        api_list_query lq;
        api_changes_query cq;
        const char *field = NULL;
        api_list_query_parse(&req, &lq, &field);
        api_changes_query_parse(&req, &cq, &field);
        break;
    }
    case 2: { /* a cursor that decodes encodes back to one that decodes the same */
        api_cursor c, d;
        char buf[API_CURSOR_MAX];
        if (api_cursor_decode(s, &c) == SP_OK) {
            if (api_cursor_encode(&c, buf, sizeof buf) != SP_OK || api_cursor_decode(buf, &d) != SP_OK
                || memcmp(&c, &d, sizeof c) != 0)
                abort();
        }
        break;
    }
    case 3: {
        json_error_t je;
        json_t *body = json_loads(s, 0, &je);
        for (int a = TASK_ACT_ACK; a <= TASK_ACT_ESCALATE; a++) {
            task_args args;
            const char *field = NULL;
            api_action_args((task_action)a, body, &args, &field);
        }
        json_decref(body);
        break;
    }
    case 4: {
        json_error_t je;
        json_t *item = json_loads(s, 0, &je);
        for (int e = ORGADMIN_PEOPLE; e <= ORGADMIN_NAMED_TEAMS; e++) {
            orgadmin_err err = {0};
            orgadmin_check_shape((orgadmin_entity)e, item, &err);
        }
        json_decref(item);
        int64_t ms;
        orgadmin_time_parse(s, &ms);
        break;
    }
    case 5: { /* API key, webhook id, timestamp, signature, body */
        parts(s, p, 5);
        static const char *hashes[] = {"3b413ba042f3a9ffd25b820b8d1f70776437ac48f0fb12f3f6860ead2a7d882c"};
        static const char *secrets[] = {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"};
        size_t which = 0;
        ingest_apikey_check(p[0], hashes, 1, &which);
        if (ingest_webhook_verify(p[1], p[2], p[3], p[4], strlen(p[4]), secrets, 1, 1614265330)
            == INGEST_AUTH_OK) {
            /* only the right MAC verifies: it must be what signing gives */
            char sig[128];
            if (ingest_webhook_sign(p[1], p[2], p[4], strlen(p[4]), secrets[0], sig, sizeof sig) != SP_OK
                || strstr(p[3], sig) == NULL)
                abort();
        }
        char tok[SP_TOKEN_LEN + 1];
        token_from_bearer(p[0], tok);
        break;
    }
    default: {
        char buf[128];
        api_segment_decode(s, strlen(s), buf, sizeof buf);
        break;
    }
    }
    free(s);
    return 0;
}
