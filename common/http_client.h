/* http_client.h - small blocking HTTP/1.1 client over nng (tests, spctl).
 *
 * A client talks to one base URL over one kept-alive connection, opened on
 * first use and reopened when the server closed it. One client per thread
 * (not thread-safe); make several for concurrency. */
#ifndef SP_HTTP_CLIENT_H
#define SP_HTTP_CLIENT_H

#include <stddef.h>

#include "http.h" /* sp_http_header */

typedef struct sp_http_client sp_http_client;

/* A response. body is NUL-terminated (body[body_len] == 0), owned by the
 * reply; release with sp_http_reply_clear. */
typedef struct sp_http_reply {
    int status;
    char *body;
    size_t body_len;
    void *priv; /* nng_http_res, for headers */
} sp_http_reply;

/* Creates a client for base_url ("http://127.0.0.1:8080"); timeout_ms
 * bounds each request (0 = 10 s). SP_EINVAL for a bad URL, SP_ENOMEM.
 * Caller frees with sp_http_client_destroy. No connection is made yet. */
int sp_http_client_new(const char *base_url, int timeout_ms, sp_http_client **out);

/* Closes the connection and frees the client; accepts NULL. */
void sp_http_client_destroy(sp_http_client *c);

/* Sends method target (path plus optional query) with the given headers
 * and body (len 0: none) and waits for the reply. Host and Content-Length
 * are set automatically. A request that fails on a reused connection is
 * retried once on a fresh one (stale keep-alive). Returns SP_OK with *out
 * filled (any HTTP status), SP_ETIMEOUT, SP_EIO (connect/transfer failed),
 * SP_EINVAL, SP_ENOMEM. */
int sp_http_client_do(sp_http_client *c, const char *method, const char *target,
    const sp_http_header *headers, size_t nheaders, const void *body, size_t len, sp_http_reply *out);

/* One request on a throw-away client for a full URL
 * ("http://127.0.0.1:8080/healthz"). As sp_http_client_do. */
int sp_http_fetch(const char *url, const char *method, const sp_http_header *headers, size_t nheaders,
    const void *body, size_t len, int timeout_ms, sp_http_reply *out);

/* A response header (case-insensitive) or NULL. */
const char *sp_http_reply_header(const sp_http_reply *r, const char *name);

/* Frees the reply's contents; accepts NULL and cleared replies. */
void sp_http_reply_clear(sp_http_reply *r);

#endif
