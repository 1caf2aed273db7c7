/* http.h - HTTP server over nng 1.5.2 with plain request/response structs.
 *
 * Handlers never see nng: they get an sp_http_req and fill an sp_http_res.
 * sp_http_server_dispatch() runs routing, body limit, auth and the handler
 * on plain structs, so handlers and the whole request->response path are
 * testable without sockets. The nng transport only copies in and out.
 *
 * Threading: nng 1.5.2 calls handler callbacks on its own taskq threads,
 * which also complete every socket read and write. A handler that waits
 * (e.g. for Kafka delivery reports) would stall unrelated connections, so
 * the transport reads the body asynchronously and hands each request to a
 * small worker pool (opts.workers); a worker runs dispatch and completes
 * the nng aio. When opts.queue_max requests are unanswered, new ones get
 * 503 + Retry-After at once. Measured on 2 cores, a trivial route does
 * ~14k req/s through the workers vs ~19k inline, while inline a 200 ms
 * handler delayed /healthz by 150 ms; SP_HTTP_INLINE opts a route out.
 *
 * Bodies: Content-Length only (chunked -> 411); "Expect: 100-continue" is
 * honoured. Over max_body -> 413 JSON; bodies up to 64 MiB are drained
 * first so that clients which write before reading still see the 413.
 *
 * Built-in routes (never authenticated; healthz and metrics inline): GET
 * /healthz -> 200 {"status":"ok"},
 * GET /readyz -> 503 until ready (flag or callback), then 200, GET /metrics
 * -> the registry in Prometheus text format. Unknown path -> 404 JSON,
 * known path with another method -> 405 JSON with Allow. Errors use
 * {"error":{"code":"...","message":"...","field":"..."}}.
 *
 * Every request is counted in sp_http_requests_total{route,method,status}
 * and timed in sp_http_request_duration_seconds{route}, and logged at debug. */
#ifndef SP_HTTP_H
#define SP_HTTP_H

#include <jansson.h>
#include <stddef.h>

#include "metrics.h"

#define SP_HTTP_DEFAULT_MAX_BODY (4u * 1024 * 1024)
#define SP_HTTP_RES_MAX_HEADERS  8

typedef struct sp_http_header {
    const char *name;
    const char *value;
} sp_http_header;

/* Who made the request, as established by the auth hook. ext is the
 * service's own data (never freed here). */
typedef struct sp_http_principal {
    char person_id[65]; /* ids are 1..64 characters (org admin) */
    char role[32];
    char team[65];
    char region[65];
    void *ext;
    /* On a refusal, the auth hook may name the header at fault
     * ("Authorization", "webhook-signature"): the error's field. */
    char denied_field[32];
} sp_http_principal;

/* A request as handlers see it. Strings are borrowed for the duration of
 * the handler call. */
typedef struct sp_http_req {
    const char *method;
    const char *path; /* without the query, not percent-decoded */
    const char *query; /* text after '?', "" if none */
    const char *body; /* body_len bytes, plus a NUL after them; "" if none */
    size_t body_len;
    /* headers: a lookup function (transport) or else an array (tests) */
    const char *(*header_fn)(void *ctx, const char *name);
    void *header_ctx;
    const sp_http_header *headers;
    size_t nheaders;
    /* set by dispatch */
    const char *route; /* the matched route's path */
    const char *tail; /* path after a prefix route ("" for exact routes) */
    const sp_http_principal *principal; /* non-NULL on SP_HTTP_AUTH routes */
    /* for the auth hook: 1 when it is called on the headers alone, before
     * a body over the server's max_body (a route's larger limit) is read,
     * so a caller without credentials cannot make the server hold it; a
     * check that needs the body (a signature over it) passes then - the
     * hook is called again with the body */
    int body_unread;
} sp_http_req;

/* A response being built. Initialise with sp_http_res_init (or = {0}),
 * release with sp_http_res_clear. status 0 means "not set". */
typedef struct sp_http_res {
    int status;
    char content_type[96];
    char *body; /* owned, malloc'd */
    size_t body_len;
    int nheaders;
    char *hname[SP_HTTP_RES_MAX_HEADERS]; /* owned */
    char *hvalue[SP_HTTP_RES_MAX_HEADERS];
} sp_http_res;

/* A route handler. Fill res and return SP_OK, or return an sp_err: if res
 * has no status yet, the error becomes a JSON error with the status of
 * sp_http_status_for_err. SP_OK with no status set becomes a 500. */
typedef int (*sp_http_handler_fn)(const sp_http_req *req, sp_http_res *res, void *arg);

/* Authenticates req (e.g. Authorization: Bearer, X-Api-Key): fill *out and
 * return SP_OK, or SP_EAUTH (401), SP_EFORBIDDEN (403); other codes as
 * sp_http_status_for_err (SP_EDBDOWN: 503 with Retry-After). */
/* For a body over the server's max_body it is called twice: first from the
 * transport's I/O thread with req->body_unread set (keep that call cheap),
 * then with the body as usual. */
typedef int (*sp_http_auth_fn)(const sp_http_req *req, void *arg, sp_http_principal *out);

/* Readiness: return 1 when ready; else 0 and optionally a reason in why. */
typedef int (*sp_http_ready_fn)(void *arg, char *why, size_t cap);

enum {
    SP_HTTP_PREFIX = 1 << 0, /* path matches itself and everything below it */
    SP_HTTP_AUTH = 1 << 1, /* run the auth hook; the handler sees the principal */
    SP_HTTP_INLINE = 1 << 2, /* tiny non-blocking handler: run it on nng's thread
                              * (no worker hop) for requests without a body */
};

typedef struct sp_http_opts {
    size_t max_body; /* request body limit; 0 = SP_HTTP_DEFAULT_MAX_BODY */
    int workers; /* handler threads; 0 = 8 */
    int queue_max; /* waiting requests before 503; 0 = 1024 */
    int body_timeout_ms; /* time to receive a body; 0 = 10000 */
    sp_metrics *metrics; /* rendered at /metrics; NULL = the server's own */
    sp_http_auth_fn auth;
    void *auth_arg;
    sp_http_ready_fn ready; /* NULL: use sp_http_server_set_ready */
    void *ready_arg;
} sp_http_opts;

typedef struct sp_http_server sp_http_server;

/* --- requests and responses (pure) ------------------------------------ */

/* Returns the value of header name (case-insensitive) or NULL. */
const char *sp_http_req_header(const sp_http_req *req, const char *name);

/* Copies the percent-decoded value of query parameter key into buf.
 * SP_ENOTFOUND if absent, SP_ETOOBIG if it does not fit in cap. */
int sp_http_req_query(const sp_http_req *req, const char *key, char *buf, size_t cap);

/* 1 if the request Content-Type is media_type (parameters such as charset
 * ignored, case-insensitive), else 0. Fills nothing. */
int sp_http_req_is_type(const sp_http_req *req, const char *media_type);

/* SP_OK if the request Content-Type is media_type (parameters such as
 * charset ignored, case-insensitive); else fills res with 415 and returns
 * SP_EINVAL. */
int sp_http_req_require_type(const sp_http_req *req, sp_http_res *res, const char *media_type);

/* Requires application/json (415) and parses the body into *out (caller
 * json_decref's). On bad JSON fills res with 400 code "invalid_json" and a
 * message with line/column, and returns SP_EINVAL. */
int sp_http_req_json(const sp_http_req *req, sp_http_res *res, json_t **out);

void sp_http_res_init(sp_http_res *res);

/* Frees body and headers and resets res to empty; accepts NULL. */
void sp_http_res_clear(sp_http_res *res);

/* Sets status, content type (NULL: none) and a copy of the body. SP_ENOMEM. */
int sp_http_res_set(sp_http_res *res, int status, const char *content_type, const void *body, size_t len);

/* Sets status and the compact JSON of j (not stolen). SP_ENOMEM, SP_EINVAL. */
int sp_http_res_json(sp_http_res *res, int status, const json_t *j);

/* Sets status and {"error":{"code","message","field"}}; field may be NULL
 * (then omitted). SP_ENOMEM. */
int sp_http_res_error(sp_http_res *res, int status, const char *code, const char *message, const char *field);

/* Adds a response header (e.g. Retry-After, Location). SP_EFULL beyond
 * SP_HTTP_RES_MAX_HEADERS, SP_ENOMEM. */
int sp_http_res_header(sp_http_res *res, const char *name, const char *value);

/* HTTP status for an sp_err (SP_EINVAL 400, SP_EAUTH 401, SP_EFORBIDDEN 403,
 * SP_ENOTFOUND 404, SP_ECONFLICT/SP_EEXIST 409, SP_ETOOBIG 413, SP_EFULL
 * 429, SP_EDBDOWN/SP_ECLOSED 503, SP_ETIMEOUT 504, others 500). */
int sp_http_status_for_err(int err);

/* --- server ------------------------------------------------------------- */

/* Creates a server for url ("http://0.0.0.0:8080"; port 0 picks a free
 * port at start) with the built-in routes. opts may be NULL. Nothing
 * listens until sp_http_server_start. SP_EINVAL for a bad url, SP_ENOMEM,
 * SP_EIO. Caller frees with sp_http_server_destroy. */
int sp_http_server_new(const char *url, const sp_http_opts *opts, sp_http_server **out);

/* Adds a route: method ("GET", "POST", ...), path ("/v1/events", or a
 * prefix with SP_HTTP_PREFIX), flags SP_HTTP_*. Exact routes win over
 * prefixes, longer prefixes over shorter. Call before start. SP_EEXIST for
 * a duplicate, SP_ESTATE after start, SP_EINVAL, SP_ENOMEM. */
int sp_http_route_add(
    sp_http_server *srv, const char *method, const char *path, int flags, sp_http_handler_fn fn, void *arg);

/* Sets the body limit of the route added as (method, path) to max_body
 * bytes (0: the server's opts.max_body; at most 64 MiB), e.g. a larger one
 * for raw e-mail than for the rest. Call before start. SP_ENOTFOUND when no
 * such route, SP_ESTATE after start, SP_EINVAL. */
int sp_http_route_set_max_body(sp_http_server *srv, const char *method, const char *path, size_t max_body);

/* Binds, starts the workers and accepts connections. SP_EIO when the
 * address cannot be bound, SP_ESTATE if already started, SP_EEXIST if
 * another sp_http_server in this process already serves the same
 * host:port (nng 1.5.2 shares one server per address). Port 0 binds at
 * once, so several port-0 servers can coexist. */
int sp_http_server_start(sp_http_server *srv);

/* The bound TCP port after start (the real one for port 0), else 0. */
int sp_http_server_port(const sp_http_server *srv);

/* Sets the readiness flag used by /readyz when no ready callback is set. */
void sp_http_server_set_ready(sp_http_server *srv, int ready);

/* The registry rendered at /metrics (opts.metrics or the server's own). */
sp_metrics *sp_http_server_metrics(sp_http_server *srv);

/* Routes req and fills res: 404/405, 400 when the path or query is not
 * valid UTF-8 once percent-decoded, 413 over max_body, auth (401/403),
 * then the handler, mapping its errors. Thread-safe after start; records
 * metrics and the access log. res must be empty (sp_http_res_init). */
void sp_http_server_dispatch(sp_http_server *srv, const sp_http_req *req, sp_http_res *res);

/* Stops accepting, waits for requests in flight (handlers finish), stops
 * the workers and frees everything; accepts NULL. */
void sp_http_server_destroy(sp_http_server *srv);

#endif
