/* http.c - routes, dispatch and the nng 1.5.2 transport.
 *
 * nng sees one catch-all handler (tree "/", any method, body not collected)
 * so that routing, 404/405 and the body limit (413) are ours and answer in
 * JSON: nng 1.5.2 itself would answer an oversized Content-Length with an
 * HTML 400. The callback checks the headers, starts an async read of the
 * body, and queues the request for the worker pool; a worker dispatches
 * and completes nng's aio with the response. */
#include "http.h"

#include "clock.h"
#include "err.h"
#include "log.h"
#include "utf8.h"

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <arpa/inet.h>

#define ROUTE_BUILTIN (1 << 8)

typedef struct route {
    char *method;
    char *path;
    size_t len;
    int flags;
    size_t max_body; /* this route's body limit; 0 = the server's */
    sp_http_handler_fn fn;
    void *arg;
} route;

typedef struct job {
    struct job *next;
    sp_http_server *srv;
    nng_aio *aio; /* nng's handler aio, completed with the response */
    nng_http_req *nreq;
    nng_http_conn *conn;
    nng_aio *rdaio; /* body read or drain, when there is a body */
    nng_aio *wraio; /* "100 Continue" write, when the client asked */
    char *body; /* the body, or the drain buffer */
    size_t body_len;
    size_t drain_left; /* oversized body still to discard */
    int oversize;
} job;

/* Oversized bodies up to this size are read and discarded before the 413
 * goes out: a client that writes its whole request before reading (nng's
 * own client does) would otherwise get a reset instead of the 413. Larger
 * ones get the 413 at once and the connection is closed. */
#define SP_HTTP_DRAIN_MAX (64u * 1024 * 1024)
#define DRAIN_CHUNK       (64 * 1024)

struct sp_http_server {
    char *url;
    sp_http_opts opts;
    sp_metrics *own_metrics;
    sp_metrics *metrics;
    sp_metric *m_requests;
    sp_metric *m_duration;
    route *routes;
    size_t nroutes;
    atomic_int ready;

    nng_http_server *nsrv;
    int nng_started;
    int started;
    int port;

    pthread_mutex_t mtx;
    pthread_cond_t cv;
    job *qhead, *qtail;
    int inflight; /* admitted, not yet answered */
    int stopping;
    pthread_t *threads;
    int nthreads;
};

/* --- requests and responses --------------------------------------------- */

const char *sp_http_req_header(const sp_http_req *req, const char *name)
{
    if (req->header_fn) return req->header_fn(req->header_ctx, name);
    for (size_t i = 0; i < req->nheaders; i++)
        if (strcasecmp(req->headers[i].name, name) == 0) return req->headers[i].value;
    return NULL;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* 1 when s, percent-decoded ('+' and "%XX"), is valid UTF-8: what handlers
 * decode from a path or query goes to PostgreSQL as text, which refuses
 * anything else (a 500 until this check). */
static int uri_utf8_ok(const char *s)
{
    char *buf = malloc(strlen(s) + 1);
    if (buf == NULL) return 1; /* unchecked rather than refused */
    size_t n = 0;
    for (const char *p = s; *p;) {
        char c = *p++;
        if (c == '%' && hexval(p[0]) >= 0 && hexval(p[1]) >= 0) {
            c = (char)(hexval(p[0]) * 16 + hexval(p[1]));
            p += 2;
        }
        buf[n++] = c;
    }
    int ok = sp_utf8_valid(buf, n, NULL);
    free(buf);
    return ok;
}

int sp_http_req_query(const sp_http_req *req, const char *key, char *buf, size_t cap)
{
    size_t klen = strlen(key);
    const char *p = req->query ? req->query : "";
    while (*p) {
        const char *end = strchr(p, '&');
        if (end == NULL) end = p + strlen(p);
        if (strncmp(p, key, klen) == 0 && (p + klen == end || p[klen] == '=')) {
            const char *v = p + klen + (p + klen < end ? 1 : 0);
            size_t n = 0;
            while (v < end) {
                char c = *v++;
                if (c == '+')
                    c = ' ';
                else if (c == '%' && end - v >= 2 && hexval(v[0]) >= 0 && hexval(v[1]) >= 0) {
                    c = (char)(hexval(v[0]) * 16 + hexval(v[1]));
                    v += 2;
                }
                if (n + 1 >= cap) return SP_ETOOBIG;
                buf[n++] = c;
            }
            if (cap == 0) return SP_ETOOBIG;
            buf[n] = '\0';
            return SP_OK;
        }
        p = *end ? end + 1 : end;
    }
    return SP_ENOTFOUND;
}

int sp_http_req_is_type(const sp_http_req *req, const char *media_type)
{
    const char *ct = sp_http_req_header(req, "Content-Type");
    size_t n = strlen(media_type);
    if (ct == NULL) return 0;
    while (*ct == ' ')
        ct++;
    return strncasecmp(ct, media_type, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

int sp_http_req_require_type(const sp_http_req *req, sp_http_res *res, const char *media_type)
{
    if (sp_http_req_is_type(req, media_type)) return SP_OK;
    char msg[160];
    snprintf(msg, sizeof msg, "Content-Type must be %s", media_type);
    sp_http_res_error(res, 415, "unsupported_media_type", msg, "Content-Type");
    return SP_EINVAL;
}

int sp_http_req_json(const sp_http_req *req, sp_http_res *res, json_t **out)
{
    if (sp_http_req_require_type(req, res, "application/json") != SP_OK) return SP_EINVAL;
    json_error_t jerr;
    json_t *j = json_loadb(req->body ? req->body : "", req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (j == NULL) {
        char msg[256];
        snprintf(msg, sizeof msg, "invalid JSON at line %d column %d: %s", jerr.line, jerr.column, jerr.text);
        sp_http_res_error(res, 400, "invalid_json", msg, NULL);
        return SP_EINVAL;
    }
    *out = j;
    return SP_OK;
}

void sp_http_res_init(sp_http_res *res)
{
    memset(res, 0, sizeof *res);
}

void sp_http_res_clear(sp_http_res *res)
{
    if (res == NULL) return;
    free(res->body);
    for (int i = 0; i < res->nheaders; i++) {
        free(res->hname[i]);
        free(res->hvalue[i]);
    }
    memset(res, 0, sizeof *res);
}

int sp_http_res_set(sp_http_res *res, int status, const char *content_type, const void *body, size_t len)
{
    char *copy = malloc(len + 1);
    if (copy == NULL) return SP_ENOMEM;
    if (len) memcpy(copy, body, len);
    copy[len] = '\0';
    free(res->body);
    res->body = copy;
    res->body_len = len;
    res->status = status;
    snprintf(res->content_type, sizeof res->content_type, "%s", content_type ? content_type : "");
    return SP_OK;
}

int sp_http_res_json(sp_http_res *res, int status, const json_t *j)
{
    if (j == NULL) return SP_EINVAL;
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s == NULL) return SP_ENOMEM;
    int rv = sp_http_res_set(res, status, "application/json", s, strlen(s));
    free(s);
    return rv;
}

/* A JSON string of s with every byte that is not UTF-8 replaced by '?':
 * messages may quote the request (a method, a header), and jansson refuses
 * invalid UTF-8 - which left the answer without a status. NULL: no memory. */
static json_t *text_json(const char *s)
{
    size_t n = strlen(s), bad;
    if (sp_utf8_valid(s, n, &bad)) return json_stringn(s, n);
    char *c = strdup(s);
    if (c == NULL) return NULL;
    while (!sp_utf8_valid(c, n, &bad))
        c[bad] = '?';
    json_t *j = json_stringn(c, n);
    free(c);
    return j;
}

int sp_http_res_error(sp_http_res *res, int status, const char *code, const char *message, const char *field)
{
    json_t *e = json_object();
    json_t *root = json_object();
    int rv = SP_ENOMEM;
    if (e == NULL || root == NULL) goto out;
    if (json_object_set_new(e, "code", text_json(code ? code : "error")) != 0
        || json_object_set_new(e, "message", text_json(message ? message : "")) != 0
        || (field && json_object_set_new(e, "field", text_json(field)) != 0))
        goto out;
    if (json_object_set(root, "error", e) != 0) goto out;
    rv = sp_http_res_json(res, status, root);
out:
    json_decref(e);
    json_decref(root);
    return rv;
}

int sp_http_res_header(sp_http_res *res, const char *name, const char *value)
{
    if (res->nheaders == SP_HTTP_RES_MAX_HEADERS) return SP_EFULL;
    char *n = strdup(name), *v = strdup(value);
    if (n == NULL || v == NULL) {
        free(n);
        free(v);
        return SP_ENOMEM;
    }
    res->hname[res->nheaders] = n;
    res->hvalue[res->nheaders++] = v;
    return SP_OK;
}

int sp_http_status_for_err(int err)
{
    switch (err) {
    case SP_EINVAL:
    case SP_EDECODE:
    case SP_EUTF8: return 400;
    case SP_EAUTH: return 401;
    case SP_EFORBIDDEN: return 403;
    case SP_ENOTFOUND: return 404;
    case SP_EEXIST:
    case SP_ECONFLICT:
    case SP_ESTATE: return 409;
    case SP_ETOOBIG: return 413;
    case SP_EFULL: return 429;
    case SP_EDBDOWN:
    case SP_ECLOSED: return 503;
    case SP_ETIMEOUT: return 504;
    default: return 500;
    }
}

/* --- routing and dispatch -------------------------------------------------- */

/* The error "code" clients see for a status from a handler's sp_err. */
static const char *status_code_name(int st)
{
    switch (st) {
    case 400: return "bad_request";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "not_found";
    case 409: return "conflict";
    case 413: return "payload_too_large";
    case 429: return "too_many_requests";
    case 503: return "unavailable";
    case 504: return "timeout";
    default: return "internal";
    }
}

static int path_matches(const route *r, const char *path)
{
    if (!(r->flags & SP_HTTP_PREFIX)) return strcmp(path, r->path) == 0;
    if (strncmp(path, r->path, r->len) != 0) return 0;
    return r->path[r->len - 1] == '/' || path[r->len] == '\0' || path[r->len] == '/';
}

/* Best route for method+path: exact beats prefix, longer prefix beats
 * shorter; HEAD falls back to GET. If the path is known only under other
 * methods, *allow lists them and NULL is returned. */
/* The body limit of route r (NULL: no route, the server's). */
static size_t limit_of(const sp_http_server *srv, const route *r)
{
    return r && r->max_body ? r->max_body : srv->opts.max_body;
}

static const route *route_find(
    const sp_http_server *srv, const char *method, const char *path, char *allow, size_t cap)
{
    const route *best = NULL, *best_get = NULL;
    size_t rank = 0, rank_get = 0;
    allow[0] = '\0';
    for (size_t i = 0; i < srv->nroutes; i++) {
        const route *r = &srv->routes[i];
        if (!path_matches(r, path)) continue;
        size_t rk = (r->flags & SP_HTTP_PREFIX) ? r->len : SIZE_MAX;
        if (strcmp(r->method, method) == 0) {
            if (best == NULL || rk > rank) best = r, rank = rk;
        } else if (strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0) {
            if (best_get == NULL || rk > rank_get) best_get = r, rank_get = rk;
        }
        if (strstr(allow, r->method) == NULL && strlen(allow) + strlen(r->method) + 3 < cap) {
            if (allow[0]) strcat(allow, ", ");
            strcat(allow, r->method);
        }
    }
    return best ? best : best_get;
}

static const char *method_label(const char *m)
{
    static const char *const known[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(m, known[i]) == 0) return known[i];
    return "other";
}

/* Monotonic seconds, for request durations. */
static double mono_s(void)
{
    return (double)sp_mono_us() / 1e6;
}

static void record(
    sp_http_server *srv, const char *route_label, const char *method, const char *path, int status, double t0)
{
    double dt = mono_s() - t0;
    char st[8];
    snprintf(st, sizeof st, "%d", status);
    sp_counter_add(srv->m_requests, 1, route_label, method_label(method), st);
    sp_histogram_observe(srv->m_duration, dt, route_label);
    sp_debug("http %s %s -> %d in %.3f ms (route %s)", method, path, status, dt * 1e3, route_label);
}

/* The JSON error for an sp_err rv that a handler or the auth hook returned
 * without an answer of its own; field names the item at fault (or NULL). */
static void res_error_of(sp_http_res *res, int rv, const char *field)
{
    int st = sp_http_status_for_err(rv);
    sp_http_res_error(res, st, status_code_name(st), sp_strerror(rv), field);
    if (st == 401) sp_http_res_header(res, "WWW-Authenticate", "Bearer");
    if (st == 503) sp_http_res_header(res, "Retry-After", "1"); /* e.g. the database, for auth */
}

void sp_http_server_dispatch(sp_http_server *srv, const sp_http_req *in, sp_http_res *res)
{
    double t0 = mono_s();
    char allow[128];
    sp_http_req req = *in;
    sp_http_principal principal;
    const char *method = req.method ? req.method : "";
    const char *path = req.path ? req.path : "/";
    const route *r = route_find(srv, method, path, allow, sizeof allow);

    if (r == NULL) {
        if (allow[0]) {
            char msg[192];
            snprintf(msg, sizeof msg, "method %s not allowed; allowed: %s", method, allow);
            sp_http_res_error(res, 405, "method_not_allowed", msg, NULL);
            sp_http_res_header(res, "Allow", allow);
        } else {
            sp_http_res_error(res, 404, "not_found", "no such resource", NULL);
        }
        if (res->status == 0) res->status = 500; /* out of memory building the answer */
        record(srv, "unmatched", method, path, res->status, t0);
        return;
    }
    req.route = r->path;
    req.tail = (r->flags & SP_HTTP_PREFIX) ? path + r->len : "";
    req.principal = NULL;
    if (req.body == NULL) req.body = "", req.body_len = 0;

    if (!uri_utf8_ok(path)) {
        sp_http_res_error(
            res, 400, "bad_request", "the path is not valid UTF-8 once percent-decoded", "path");
    } else if (req.query && !uri_utf8_ok(req.query)) {
        sp_http_res_error(
            res, 400, "bad_request", "the query is not valid UTF-8 once percent-decoded", "query");
    } else if (in->body_len > limit_of(srv, r)) {
        char msg[96];
        snprintf(msg, sizeof msg, "request body over %zu bytes", limit_of(srv, r));
        sp_http_res_error(res, 413, "payload_too_large", msg, NULL);
    } else if ((r->flags & SP_HTTP_AUTH) && srv->opts.auth == NULL) {
        /* fail closed: a protected route without an auth hook is a bug */
        sp_http_res_error(res, 500, "internal", "authentication not configured", NULL);
    } else {
        int rv = SP_OK;
        if (r->flags & SP_HTTP_AUTH) {
            memset(&principal, 0, sizeof principal);
            rv = srv->opts.auth(&req, srv->opts.auth_arg, &principal);
            if (rv == SP_OK) req.principal = &principal;
        }
        const char *denied = NULL;
        if (rv != SP_OK && (r->flags & SP_HTTP_AUTH) && principal.denied_field[0]) {
            principal.denied_field[sizeof principal.denied_field - 1] = '\0';
            denied = principal.denied_field;
        }
        if (rv == SP_OK) rv = r->fn(&req, res, r->arg);
        if (rv != SP_OK && res->status == 0) {
            res_error_of(res, rv, denied);
        } else if (res->status == 0) {
            sp_http_res_error(res, 500, "internal", "handler produced no response", NULL);
        }
    }
    if (res->status == 0) res->status = 500; /* out of memory building the answer */
    record(srv, r->path, method, path, res->status, t0);
}

/* --- built-in routes ------------------------------------------------------- */

static int h_healthz(const sp_http_req *req, sp_http_res *res, void *arg)
{
    static const char ok[] = "{\"status\":\"ok\"}";
    return sp_http_res_set(res, 200, "application/json", ok, sizeof ok - 1);
}

static int h_readyz(const sp_http_req *req, sp_http_res *res, void *arg)
{
    sp_http_server *srv = arg;
    char why[160] = "";
    int ready
        = srv->opts.ready ? srv->opts.ready(srv->opts.ready_arg, why, sizeof why) : atomic_load(&srv->ready);
    json_t *j = ready ? json_pack("{s:s}", "status", "ready")
                      : json_pack("{s:s,s:s}", "status", "not_ready", "reason", why[0] ? why : "starting");
    if (j == NULL) return SP_ENOMEM;
    int rv = sp_http_res_json(res, ready ? 200 : 503, j);
    json_decref(j);
    return rv;
}

static int h_metrics(const sp_http_req *req, sp_http_res *res, void *arg)
{
    sp_http_server *srv = arg;
    char *txt;
    size_t len;
    int rv = sp_metrics_render(srv->metrics, &txt, &len);
    if (rv != SP_OK) return rv;
    res->status = 200;
    snprintf(res->content_type, sizeof res->content_type, "%s", SP_METRICS_CONTENT_TYPE);
    free(res->body);
    res->body = txt;
    res->body_len = len;
    return SP_OK;
}

/* --- server lifecycle ------------------------------------------------------- */

static int route_add(
    sp_http_server *srv, const char *method, const char *path, int flags, sp_http_handler_fn fn, void *arg)
{
    if (srv == NULL || method == NULL || path == NULL || fn == NULL || path[0] != '/' || method[0] == '\0')
        return SP_EINVAL;
    if (srv->started) return SP_ESTATE;
    for (size_t i = 0; i < srv->nroutes; i++) {
        const route *r = &srv->routes[i];
        if (strcmp(r->method, method) == 0 && strcmp(r->path, path) == 0
            && (r->flags & SP_HTTP_PREFIX) == (flags & SP_HTTP_PREFIX))
            return SP_EEXIST;
    }
    route *nr = realloc(srv->routes, (srv->nroutes + 1) * sizeof *nr);
    if (nr == NULL) return SP_ENOMEM;
    srv->routes = nr;
    route *r = &nr[srv->nroutes];
    r->method = strdup(method);
    r->path = strdup(path);
    if (r->method == NULL || r->path == NULL) {
        free(r->method);
        free(r->path);
        return SP_ENOMEM;
    }
    r->len = strlen(path);
    r->flags = flags;
    r->max_body = 0;
    r->fn = fn;
    r->arg = arg;
    srv->nroutes++;
    return SP_OK;
}

int sp_http_route_add(
    sp_http_server *srv, const char *method, const char *path, int flags, sp_http_handler_fn fn, void *arg)
{
    return route_add(srv, method, path, flags & (SP_HTTP_PREFIX | SP_HTTP_AUTH | SP_HTTP_INLINE), fn, arg);
}

int sp_http_route_set_max_body(sp_http_server *srv, const char *method, const char *path, size_t max_body)
{
    if (srv == NULL || method == NULL || path == NULL) return SP_EINVAL;
    if (srv->started) return SP_ESTATE;
    for (size_t i = 0; i < srv->nroutes; i++) {
        route *r = &srv->routes[i];
        if (strcmp(r->method, method) == 0 && strcmp(r->path, path) == 0) {
            r->max_body = max_body > SP_HTTP_DRAIN_MAX ? SP_HTTP_DRAIN_MAX : max_body;
            return SP_OK;
        }
    }
    return SP_ENOTFOUND;
}

static const double latency_buckets[]
    = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

int sp_http_server_new(const char *url, const sp_http_opts *opts, sp_http_server **out)
{
    int rv;
    if (url == NULL || out == NULL) return SP_EINVAL;
    nng_url *u = NULL;
    if (nng_url_parse(&u, url) != 0 || strcmp(u->u_scheme, "http") != 0) {
        nng_url_free(u);
        return SP_EINVAL;
    }
    nng_url_free(u);

    sp_http_server *srv = calloc(1, sizeof *srv);
    if (srv == NULL) return SP_ENOMEM;
    pthread_mutex_init(&srv->mtx, NULL);
    pthread_cond_init(&srv->cv, NULL);
    if (opts) srv->opts = *opts;
    if (srv->opts.max_body == 0) srv->opts.max_body = SP_HTTP_DEFAULT_MAX_BODY;
    if (srv->opts.workers <= 0) srv->opts.workers = 8;
    if (srv->opts.queue_max <= 0) srv->opts.queue_max = 1024;
    if (srv->opts.body_timeout_ms <= 0) srv->opts.body_timeout_ms = 10000;
    rv = SP_ENOMEM;
    if ((srv->url = strdup(url)) == NULL) goto fail;
    srv->metrics = srv->opts.metrics;
    if (srv->metrics == NULL) {
        if ((rv = sp_metrics_new(&srv->own_metrics)) != SP_OK) goto fail;
        srv->metrics = srv->own_metrics;
    }
    if ((rv = sp_counter_new(srv->metrics, "sp_http_requests_total",
             "HTTP requests by route, method and status.", "route,method,status", &srv->m_requests))
            != SP_OK
        || (rv = sp_histogram_new(srv->metrics, "sp_http_request_duration_seconds",
                "HTTP request handling time by route.", "route", latency_buckets,
                sizeof latency_buckets / sizeof latency_buckets[0], &srv->m_duration))
            != SP_OK)
        goto fail;
    if ((rv = route_add(srv, "GET", "/healthz", ROUTE_BUILTIN | SP_HTTP_INLINE, h_healthz, srv)) != SP_OK
        || (rv = route_add(srv, "GET", "/readyz", ROUTE_BUILTIN, h_readyz, srv)) != SP_OK
        || (rv = route_add(srv, "GET", "/metrics", ROUTE_BUILTIN | SP_HTTP_INLINE, h_metrics, srv)) != SP_OK)
        goto fail;
    *out = srv;
    return SP_OK;
fail:
    sp_http_server_destroy(srv);
    return rv;
}

void sp_http_server_set_ready(sp_http_server *srv, int ready)
{
    if (srv) atomic_store(&srv->ready, ready ? 1 : 0);
}

sp_metrics *sp_http_server_metrics(sp_http_server *srv)
{
    return srv ? srv->metrics : NULL;
}

int sp_http_server_port(const sp_http_server *srv)
{
    return srv ? srv->port : 0;
}

/* --- transport ---------------------------------------------------------------- */

static const char *nng_header(void *ctx, const char *name)
{
    return nng_http_req_get_header(ctx, name);
}

/* Splits the request target into path and query inside uri (modified). */
static void split_uri(char *uri, const char **path, const char **query)
{
    char *p = uri;
    if (strncasecmp(p, "http://", 7) == 0) { /* absolute form */
        p = strchr(p + 7, '/');
        if (p == NULL) p = "/";
    }
    char *q = strchr(p, '?');
    if (q) *q++ = '\0';
    *path = p[0] ? p : "/";
    *query = q ? q : "";
}

/* Completes nng's aio with res; close adds Connection: close. */
static void respond(nng_aio *aio, const sp_http_res *res, int close)
{
    nng_http_res *nres;
    char clen[24];
    if (nng_http_res_alloc(&nres) != 0) {
        nng_aio_finish(aio, NNG_ENOMEM);
        return;
    }
    int rv = nng_http_res_set_status(nres, (uint16_t)res->status);
    if (rv == 0 && res->content_type[0])
        rv = nng_http_res_set_header(nres, "Content-Type", res->content_type);
    for (int i = 0; rv == 0 && i < res->nheaders; i++)
        rv = nng_http_res_set_header(nres, res->hname[i], res->hvalue[i]);
    if (rv == 0 && close) rv = nng_http_res_set_header(nres, "Connection", "close");
    if (rv == 0 && res->body_len > 0) rv = nng_http_res_copy_data(nres, res->body, res->body_len);
    if (rv == 0 && res->body_len == 0) {
        snprintf(clen, sizeof clen, "0");
        rv = nng_http_res_set_header(nres, "Content-Length", clen);
    }
    if (rv != 0) {
        nng_http_res_free(nres);
        nng_aio_finish(aio, rv);
        return;
    }
    nng_aio_set_output(aio, 0, nres);
    nng_aio_finish(aio, 0);
}

static void job_free(job *j)
{
    if (j == NULL) return;
    nng_aio_free(j->rdaio);
    nng_aio_free(j->wraio);
    free(j->body);
    free(j);
}

/* Admits one more request unless queue_max are already unanswered. */
static int admit(sp_http_server *srv)
{
    pthread_mutex_lock(&srv->mtx);
    int ok = srv->inflight < srv->opts.queue_max;
    if (ok) srv->inflight++;
    pthread_mutex_unlock(&srv->mtx);
    return ok;
}

static void unadmit(sp_http_server *srv)
{
    pthread_mutex_lock(&srv->mtx);
    srv->inflight--;
    pthread_mutex_unlock(&srv->mtx);
}

/* Fills req's method, path, query and header lookup from nng's request;
 * returns the scratch copy of the URI that path and query point into
 * (caller frees), NULL when out of memory. */
static char *req_of(nng_http_req *nreq, sp_http_req *req)
{
    char *uri = strdup(nng_http_req_get_uri(nreq));
    if (uri == NULL) return NULL;
    req->method = nng_http_req_get_method(nreq);
    split_uri(uri, &req->path, &req->query);
    req->header_fn = nng_header;
    req->header_ctx = nreq;
    return uri;
}

/* Builds the plain request from nng's and runs dispatch. */
static void serve(
    sp_http_server *srv, nng_aio *aio, nng_http_req *nreq, const char *body, size_t body_len, int close)
{
    sp_http_req req = {0};
    sp_http_res res;
    char *uri = req_of(nreq, &req);
    if (uri == NULL) {
        nng_aio_finish(aio, NNG_ENOMEM);
        return;
    }
    req.body = body;
    req.body_len = body_len;
    sp_http_res_init(&res);
    sp_http_server_dispatch(srv, &req, &res);
    respond(aio, &res, close);
    sp_http_res_clear(&res);
    free(uri);
}

static void run_job(job *j)
{
    int rdrv = j->rdaio ? nng_aio_result(j->rdaio) : 0;
    /* The job's own aios go first, while their connection certainly
     * lives: nng frees it once the handler's aio is finished and the
     * client has closed, and freeing an aio still known to its provider
     * calls back into it. (Seen once in the ASan unit tests: nng panicked
     * unlocking an invalid mutex inside nng_aio_free after the answer.) */
    nng_aio_free(j->rdaio); /* waits for its callback to return */
    nng_aio_free(j->wraio);
    j->rdaio = j->wraio = NULL;
    if (rdrv != 0) {
        /* client went away or was too slow: hard close, no answer */
        nng_aio_finish(j->aio, rdrv);
    } else if (j->oversize) {
        serve(j->srv, j->aio, j->nreq, NULL, j->body_len, 0); /* 413 */
    } else {
        if (j->body) j->body[j->body_len] = '\0';
        serve(j->srv, j->aio, j->nreq, j->body, j->body_len, 0);
    }
    job_free(j);
}

static void *worker_main(void *arg)
{
    sp_http_server *srv = arg;
    for (;;) {
        pthread_mutex_lock(&srv->mtx);
        while (srv->qhead == NULL && !srv->stopping)
            pthread_cond_wait(&srv->cv, &srv->mtx);
        job *j = srv->qhead;
        if (j == NULL) { /* stopping and drained */
            pthread_mutex_unlock(&srv->mtx);
            return NULL;
        }
        srv->qhead = j->next;
        if (srv->qhead == NULL) srv->qtail = NULL;
        pthread_mutex_unlock(&srv->mtx);
        run_job(j);
        unadmit(srv);
    }
}

/* Early answer on nng's thread (no handler runs). */
static void respond_early(sp_http_server *srv, nng_aio *aio, nng_http_req *nreq, int status, const char *code,
    const char *msg, const char *retry_after)
{
    double t0 = mono_s();
    sp_http_res res;
    sp_http_res_init(&res);
    sp_http_res_error(&res, status, code, msg, NULL);
    if (res.status == 0) res.status = status;
    if (retry_after) sp_http_res_header(&res, "Retry-After", retry_after);
    record(srv, "early", nng_http_req_get_method(nreq), nng_http_req_get_uri(nreq), status, t0);
    respond(aio, &res, 1);
    sp_http_res_clear(&res);
}

/* Queues an admitted request for the workers. */
static void enqueue(job *j)
{
    sp_http_server *srv = j->srv;
    pthread_mutex_lock(&srv->mtx);
    j->next = NULL;
    if (srv->qtail)
        srv->qtail->next = j;
    else
        srv->qhead = j;
    srv->qtail = j;
    pthread_cond_signal(&srv->cv);
    pthread_mutex_unlock(&srv->mtx);
}

static void body_done(void *arg)
{
    enqueue(arg);
}

static void drain_more(job *j)
{
    nng_iov iov = {.iov_buf = j->body, .iov_len = j->drain_left < DRAIN_CHUNK ? j->drain_left : DRAIN_CHUNK};
    nng_aio_set_iov(j->rdaio, 1, &iov);
    nng_aio_set_timeout(j->rdaio, j->srv->opts.body_timeout_ms);
    nng_http_conn_read(j->conn, j->rdaio);
}

static void drain_done(void *arg)
{
    job *j = arg;
    if (nng_aio_result(j->rdaio) == 0) {
        size_t n = nng_aio_count(j->rdaio);
        j->drain_left -= n < j->drain_left ? n : j->drain_left;
        if (j->drain_left > 0) {
            drain_more(j);
            return;
        }
    }
    enqueue(j);
}

/* What the transport needs of nreq's route before reading the body: whether
 * it runs inline (*inl), its body limit (*limit) and whether it is
 * authenticated (*auth). */
static void route_traits(sp_http_server *srv, nng_http_req *nreq, int *inl, size_t *limit, int *auth)
{
    char allow[128];
    const char *path, *query;
    *inl = *auth = 0;
    *limit = srv->opts.max_body;
    char *uri = strdup(nng_http_req_get_uri(nreq));
    if (uri == NULL) return;
    split_uri(uri, &path, &query);
    const route *r = route_find(srv, nng_http_req_get_method(nreq), path, allow, sizeof allow);
    *inl = r && (r->flags & SP_HTTP_INLINE);
    *auth = r && (r->flags & SP_HTTP_AUTH);
    *limit = limit_of(srv, r);
    free(uri);
}

/* Runs the auth hook on nreq's headers alone (body_unread), before a body
 * over the server's max_body is read. SP_OK, or the hook's refusal already
 * answered (the unread body closes the connection). */
static int preauth(sp_http_server *srv, nng_aio *aio, nng_http_req *nreq)
{
    double t0 = mono_s();
    sp_http_req req = {0};
    sp_http_principal p;
    memset(&p, 0, sizeof p);
    char *uri = req_of(nreq, &req);
    if (uri == NULL) return SP_OK; /* the full check still runs after the body */
    req.body = "";
    req.body_unread = 1;
    int rv = srv->opts.auth(&req, srv->opts.auth_arg, &p);
    if (rv != SP_OK) {
        sp_http_res res;
        sp_http_res_init(&res);
        p.denied_field[sizeof p.denied_field - 1] = '\0';
        res_error_of(&res, rv, p.denied_field[0] ? p.denied_field : NULL);
        if (res.status == 0) res.status = 500;
        record(srv, "early", req.method, req.path, res.status, t0);
        respond(aio, &res, 1);
        sp_http_res_clear(&res);
    }
    free(uri);
    return rv;
}

/* Queues "100 Continue" ahead of reading the body; the final response is
 * written after it in the connection's write order. */
static int send_continue(job *j)
{
    static char line[] = "HTTP/1.1 100 Continue\r\n\r\n";
    nng_iov iov = {.iov_buf = line, .iov_len = sizeof line - 1};
    if (nng_aio_alloc(&j->wraio, NULL, NULL) != 0) return NNG_ENOMEM;
    nng_aio_set_iov(j->wraio, 1, &iov);
    nng_aio_set_timeout(j->wraio, j->srv->opts.body_timeout_ms);
    nng_http_conn_write_all(j->conn, j->wraio);
    return 0;
}

static void on_request(nng_aio *aio)
{
    nng_http_req *nreq = nng_aio_get_input(aio, 0);
    nng_http_handler *h = nng_aio_get_input(aio, 1);
    nng_http_conn *conn = nng_aio_get_input(aio, 2);
    sp_http_server *srv = nng_http_handler_get_data(h);
    const char *te = nng_http_req_get_header(nreq, "Transfer-Encoding");
    const char *cl = nng_http_req_get_header(nreq, "Content-Length");
    unsigned long long len = 0;

    if (te && strcasecmp(te, "identity") != 0) {
        respond_early(
            srv, aio, nreq, 411, "length_required", "chunked request bodies are not supported", NULL);
        return;
    }
    if (cl) {
        char *end;
        errno = 0;
        len = strtoull(cl, &end, 10);
        if (end == cl || *end != '\0' || errno != 0 || cl[0] == '-') {
            respond_early(srv, aio, nreq, 400, "bad_request", "invalid Content-Length", NULL);
            return;
        }
    }
    const char *expect = nng_http_req_get_header(nreq, "Expect");
    int want_continue = expect && strcasestr(expect, "100-continue") != NULL;
    int inl, auth;
    size_t limit;
    route_traits(srv, nreq, &inl, &limit, &auth);
    if (len > srv->opts.max_body && len <= limit && auth && srv->opts.auth
        && preauth(srv, aio, nreq) != SP_OK)
        return; /* a large body only from a caller the headers show may send it */
    if (len > limit && (len > SP_HTTP_DRAIN_MAX || want_continue)) {
        /* dispatch answers 413 without reading the body (a client that
         * expects 100-continue will not send it); the unread body forces
         * Connection: close */
        serve(srv, aio, nreq, NULL, (size_t)len, 1);
        return;
    }
    if (len == 0 && inl) {
        serve(srv, aio, nreq, NULL, 0, 0);
        return;
    }
    if (!admit(srv)) {
        respond_early(srv, aio, nreq, 503, "overloaded", "too many requests in progress", "1");
        return;
    }
    job *j = calloc(1, sizeof *j);
    if (j == NULL) {
        unadmit(srv);
        nng_aio_finish(aio, NNG_ENOMEM);
        return;
    }
    j->srv = srv;
    j->aio = aio;
    j->nreq = nreq;
    j->conn = conn;
    j->body_len = (size_t)len;
    if (len == 0) {
        enqueue(j);
        return;
    }
    if (len > limit) {
        j->oversize = 1;
        j->drain_left = (size_t)len;
        if ((j->body = malloc(DRAIN_CHUNK)) == NULL || nng_aio_alloc(&j->rdaio, drain_done, j) != 0) {
            job_free(j);
            unadmit(srv);
            nng_aio_finish(aio, NNG_ENOMEM);
            return;
        }
        drain_more(j);
        return;
    }
    nng_iov iov;
    if ((j->body = malloc((size_t)len + 1)) == NULL || nng_aio_alloc(&j->rdaio, body_done, j) != 0) {
        job_free(j);
        unadmit(srv);
        nng_aio_finish(aio, NNG_ENOMEM);
        return;
    }
    if (want_continue && send_continue(j) != 0) {
        job_free(j);
        unadmit(srv);
        nng_aio_finish(aio, NNG_ENOMEM);
        return;
    }
    iov.iov_buf = j->body;
    iov.iov_len = (size_t)len;
    nng_aio_set_iov(j->rdaio, 1, &iov);
    nng_aio_set_timeout(j->rdaio, srv->opts.body_timeout_ms);
    nng_http_conn_read_all(conn, j->rdaio);
}

static int nng_to_sp(int rv);

static int nng_to_sp(int rv)
{
    switch (rv) {
    case 0: return SP_OK;
    case NNG_ENOMEM: return SP_ENOMEM;
    case NNG_EADDRINUSE: return SP_EEXIST;
    case NNG_EINVAL:
    case NNG_EADDRINVAL: return SP_EINVAL;
    default: return SP_EIO;
    }
}

int sp_http_server_start(sp_http_server *srv)
{
    int rv;
    nng_url *u = NULL;
    nng_sockaddr sa;
    if (srv == NULL) return SP_EINVAL;
    if (srv->started || srv->nsrv) return SP_ESTATE;

    if ((rv = nng_url_parse(&u, srv->url)) != 0 || (rv = nng_http_server_hold(&srv->nsrv, u)) != 0) {
        nng_url_free(u);
        return nng_to_sp(rv);
    }
    nng_url_free(u);
    /* one catch-all: any method, any path, body left to us */
    nng_http_handler *h = NULL;
    if ((rv = nng_http_handler_alloc(&h, "/", on_request)) != 0
        || (rv = nng_http_handler_set_method(h, NULL)) != 0 || (rv = nng_http_handler_set_tree(h)) != 0
        || (rv = nng_http_handler_collect_body(h, false, 0)) != 0
        || (rv = nng_http_handler_set_data(h, srv, NULL)) != 0
        || (rv = nng_http_server_add_handler(srv->nsrv, h)) != 0) {
        /* EADDRINUSE: nng shares servers per host:port and another
         * sp_http_server already holds this one */
        if (h) nng_http_handler_free(h);
        return nng_to_sp(rv);
    }

    if ((srv->threads = calloc((size_t)srv->opts.workers, sizeof(pthread_t))) == NULL) return SP_ENOMEM;
    for (; srv->nthreads < srv->opts.workers; srv->nthreads++)
        if (pthread_create(&srv->threads[srv->nthreads], NULL, worker_main, srv) != 0) return SP_EIO;

    if ((rv = nng_http_server_start(srv->nsrv)) != 0) {
        sp_error("http: cannot listen on %s: %s", srv->url, nng_strerror(rv));
        return SP_EIO;
    }
    srv->nng_started = 1;
    if (nng_http_server_get_addr(srv->nsrv, &sa) == 0) {
        if (sa.s_family == NNG_AF_INET)
            srv->port = ntohs(sa.s_in.sa_port);
        else if (sa.s_family == NNG_AF_INET6)
            srv->port = ntohs(sa.s_in6.sa_port);
    }
    srv->started = 1;
    sp_info("http: listening on %s (port %d, %d workers)", srv->url, srv->port, srv->nthreads);
    return SP_OK;
}

void sp_http_server_destroy(sp_http_server *srv)
{
    if (srv == NULL) return;
    if (srv->nsrv) {
        /* closes connections and waits until every handler aio is done,
         * which needs the workers still running */
        if (srv->nng_started) nng_http_server_stop(srv->nsrv);
        nng_http_server_release(srv->nsrv);
    }
    pthread_mutex_lock(&srv->mtx);
    srv->stopping = 1;
    pthread_cond_broadcast(&srv->cv);
    pthread_mutex_unlock(&srv->mtx);
    for (int i = 0; i < srv->nthreads; i++)
        pthread_join(srv->threads[i], NULL);
    free(srv->threads);
    for (size_t i = 0; i < srv->nroutes; i++) {
        free(srv->routes[i].method);
        free(srv->routes[i].path);
    }
    free(srv->routes);
    sp_metrics_destroy(srv->own_metrics);
    pthread_cond_destroy(&srv->cv);
    pthread_mutex_destroy(&srv->mtx);
    free(srv->url);
    free(srv);
}
