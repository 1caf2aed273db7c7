/* api_ws.c - the change feed pushed over WebSocket (nng streams). */
#include "taskpool/api_ws.h"

#include "err.h"
#include "log.h"
#include "taskpool/api_internal.h"
#include "taskpool/api_query.h"

#include <nng/nng.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define WS_SLICE_S     1 /* a connection rechecks the stop flag this often */
#define WS_HEARTBEAT_S 25

struct api_ws {
    taskpool_api *api;
    nng_stream_listener *l;
    nng_aio *accept_aio; /* stopped by api_ws_stop: closing the listener does not end a pending accept */
    pthread_t acceptor;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int active, max_conns, port;
    atomic_int stop;
};

typedef struct conn {
    api_ws *ws;
    nng_stream *s;
} conn;

/* Sends one text message; SP_EIO when the peer is gone. */
static int ws_send(nng_stream *s, const char *text, size_t len)
{
    nng_aio *aio = NULL;
    if (nng_aio_alloc(&aio, NULL, NULL) != 0) return SP_ENOMEM;
    nng_iov iov = {(void *)text, len};
    nng_aio_set_iov(aio, 1, &iov);
    nng_aio_set_timeout(aio, 10000);
    nng_stream_send(s, aio);
    nng_aio_wait(aio);
    int rv = nng_aio_result(aio) == 0 ? SP_OK : SP_EIO;
    nng_aio_free(aio);
    return rv;
}

static const char *hdr_fn(void *ctx, const char *name)
{
    const char *const *h = ctx; /* {"Authorization", value} */
    return strcasecmp(name, h[0]) == 0 ? h[1] : NULL;
}

/* Authenticates the upgrade request: the Authorization header, else
 * ?token=. SP_EAUTH otherwise. */
static int ws_auth(api_ws *ws, nng_stream *s, const char *query, sp_http_principal *pr)
{
    char *hval = NULL, bearer[96] = "";
    if (nng_stream_get_string(s, NNG_OPT_WS_REQUEST_HEADER "Authorization", &hval) == 0 && hval) {
        snprintf(bearer, sizeof bearer, "%s", hval);
        nng_strfree(hval);
    }
    sp_http_req q = {.method = "GET", .path = "/v1/tasks/ws", .query = query, .body = ""};
    if (bearer[0] == '\0') {
        char tok[80];
        if (sp_http_req_query(&q, "token", tok, sizeof tok) == SP_OK)
            snprintf(bearer, sizeof bearer, "Bearer %s", tok);
    }
    const char *h[2] = {"Authorization", bearer};
    q.header_fn = hdr_fn;
    q.header_ctx = (void *)h;
    memset(pr, 0, sizeof *pr);
    return taskpool_api_auth(&q, ws->api, pr);
}

static void *conn_run(void *arg)
{
    conn *c = arg;
    api_ws *ws = c->ws;
    char *uri = NULL;
    const char *query = "";
    if (nng_stream_get_string(c->s, NNG_OPT_WS_REQUEST_URI, &uri) == 0 && uri) {
        const char *qm = strchr(uri, '?');
        if (qm) query = qm + 1;
    }
    sp_http_principal hp;
    acl_principal p;
    api_changes_query q;
    const char *field = NULL;
    sp_http_req req = {.method = "GET", .path = "/v1/tasks/ws", .query = query, .body = "", .principal = &hp};
    int rv = ws_auth(ws, c->s, query, &hp);
    if (rv != SP_OK) {
        static const char m[]
            = "{\"error\":{\"code\":\"unauthorized\",\"message\":\"bearer token required\"}}";
        ws_send(c->s, m, sizeof m - 1);
    } else if (!api_principal(&req, &p) || api_changes_query_parse(&req, &q, &field) != SP_OK) {
        char m[160];
        snprintf(m, sizeof m,
            "{\"error\":{\"code\":\"invalid_query\",\"message\":\"invalid query "
            "parameter\",\"field\":\"%s\"}}",
            field ? field : "role");
        ws_send(c->s, m, strlen(m));
    } else {
        int quiet_s = 0;
        while (!ws->stop) {
            q.wait_s = WS_SLICE_S;
            sp_http_res res;
            sp_http_res_init(&res);
            api_changes_collect(ws->api, &p, &q, &res);
            /* the token again before anything goes out (the token cache makes
             * it cheap): a revoked token or a deactivated person stops the
             * feed; a new team or region applies from the next slice. The
             * database down keeps the last. */
            sp_http_principal now_hp;
            int arv = ws_auth(ws, c->s, query, &now_hp);
            if (arv == SP_EAUTH) {
                static const char m[]
                    = "{\"error\":{\"code\":\"unauthorized\",\"message\":\"token no longer valid\"}}";
                ws_send(c->s, m, sizeof m - 1);
                sp_http_res_clear(&res);
                break;
            }
            if (arv == SP_OK) {
                hp = now_hp;
                if (!api_principal(&req, &p)) {
                    sp_http_res_clear(&res);
                    break;
                }
            }
            json_t *j = res.status == 200 && res.body ? json_loadb(res.body, res.body_len, 0, NULL) : NULL;
            size_t n = json_array_size(json_object_get(j, "tasks"));
            int64_t next = json_integer_value(json_object_get(j, "next_since"));
            int sent = SP_OK;
            if (j && n > 0) {
                sent = ws_send(c->s, res.body, res.body_len);
                quiet_s = 0;
            } else if ((quiet_s += WS_SLICE_S) >= WS_HEARTBEAT_S) {
                char ping[64];
                snprintf(ping, sizeof ping, "{\"type\":\"ping\",\"next_since\":%lld}",
                    (long long)(j ? next : q.since));
                sent = ws_send(c->s, ping, strlen(ping));
                quiet_s = 0;
            }
            if (j) q.since = next;
            json_decref(j);
            sp_http_res_clear(&res);
            if (sent != SP_OK) break; /* the client went away */
        }
    }
    nng_strfree(uri);
    nng_stream_close(c->s);
    nng_stream_free(c->s);
    free(c);
    pthread_mutex_lock(&ws->mu);
    ws->active--;
    pthread_cond_broadcast(&ws->cv);
    pthread_mutex_unlock(&ws->mu);
    return NULL;
}

static void *accept_run(void *arg)
{
    api_ws *ws = arg;
    nng_aio *aio = ws->accept_aio;
    while (!ws->stop) {
        nng_stream_listener_accept(ws->l, aio);
        nng_aio_wait(aio);
        if (nng_aio_result(aio) != 0) {
            if (ws->stop) break;
            continue;
        }
        nng_stream *s = nng_aio_get_output(aio, 0);
        pthread_mutex_lock(&ws->mu);
        int full = ws->active >= ws->max_conns;
        if (!full) ws->active++;
        pthread_mutex_unlock(&ws->mu);
        conn *c = full ? NULL : calloc(1, sizeof *c);
        pthread_t t;
        if (c) {
            *c = (conn) {ws, s};
            if (pthread_create(&t, NULL, conn_run, c) == 0) {
                pthread_detach(t);
                continue;
            }
            free(c);
        }
        if (!full) {
            pthread_mutex_lock(&ws->mu);
            ws->active--;
            pthread_mutex_unlock(&ws->mu);
        }
        nng_stream_close(s);
        nng_stream_free(s);
    }
    return NULL;
}

int api_ws_start(taskpool_api *api, const char *url, int max_conns, api_ws **out)
{
    if (api == NULL || url == NULL || strncmp(url, "ws://", 5) != 0 || max_conns < 1) return SP_EINVAL;
    api_ws *ws = calloc(1, sizeof *ws);
    if (ws == NULL) return SP_ENOMEM;
    ws->api = api;
    ws->max_conns = max_conns;
    pthread_mutex_init(&ws->mu, NULL);
    pthread_cond_init(&ws->cv, NULL);
    int rv = nng_aio_alloc(&ws->accept_aio, NULL, NULL);
    if (rv == 0) rv = nng_stream_listener_alloc(&ws->l, url);
    if (rv == 0) rv = nng_stream_listener_set_bool(ws->l, NNG_OPT_WS_SEND_TEXT, true);
    if (rv == 0) rv = nng_stream_listener_listen(ws->l);
    if (rv == 0) rv = nng_stream_listener_get_int(ws->l, NNG_OPT_TCP_BOUND_PORT, &ws->port);
    if (rv != 0 || pthread_create(&ws->acceptor, NULL, accept_run, ws) != 0) {
        sp_error("websocket: cannot listen on %s: %s", url, rv ? nng_strerror(rv) : "thread");
        nng_stream_listener_free(ws->l);
        nng_aio_free(ws->accept_aio);
        pthread_mutex_destroy(&ws->mu);
        pthread_cond_destroy(&ws->cv);
        free(ws);
        return SP_EIO;
    }
    sp_info("websocket change feed on %s (port %d)", url, ws->port);
    *out = ws;
    return SP_OK;
}

int api_ws_port(const api_ws *ws)
{
    return ws ? ws->port : 0;
}

void api_ws_stop(api_ws *ws)
{
    if (ws == NULL) return;
    ws->stop = 1;
    nng_aio_stop(ws->accept_aio); /* ends the pending accept; the loop sees stop */
    nng_stream_listener_close(ws->l);
    pthread_join(ws->acceptor, NULL);
    nng_aio_free(ws->accept_aio);
    pthread_mutex_lock(&ws->mu);
    while (ws->active > 0)
        pthread_cond_wait(&ws->cv, &ws->mu);
    pthread_mutex_unlock(&ws->mu);
    nng_stream_listener_free(ws->l);
    pthread_mutex_destroy(&ws->mu);
    pthread_cond_destroy(&ws->cv);
    free(ws);
}
