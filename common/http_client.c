/* http_client.c - blocking request/response over nng's HTTP client. */
#include "http_client.h"

#include "err.h"

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct sp_http_client {
    nng_url *url;
    nng_http_client *cli;
    nng_http_conn *conn; /* kept alive between requests; NULL when closed */
    nng_aio *aio;
    int timeout_ms;
};

static int nng_to_sp(int rv)
{
    switch (rv) {
    case 0: return SP_OK;
    case NNG_ENOMEM: return SP_ENOMEM;
    case NNG_ETIMEDOUT: return SP_ETIMEOUT;
    case NNG_EINVAL:
    case NNG_EADDRINVAL: return SP_EINVAL;
    default: return SP_EIO;
    }
}

int sp_http_client_new(const char *base_url, int timeout_ms, sp_http_client **out)
{
    int rv;
    if (base_url == NULL || out == NULL) return SP_EINVAL;
    sp_http_client *c = calloc(1, sizeof *c);
    if (c == NULL) return SP_ENOMEM;
    c->timeout_ms = timeout_ms > 0 ? timeout_ms : 10000;
    if ((rv = nng_url_parse(&c->url, base_url)) != 0 || strcmp(c->url->u_scheme, "http") != 0) {
        rv = rv ? nng_to_sp(rv) : SP_EINVAL;
        goto fail;
    }
    if ((rv = nng_http_client_alloc(&c->cli, c->url)) != 0
        || (rv = nng_aio_alloc(&c->aio, NULL, NULL)) != 0) {
        rv = nng_to_sp(rv);
        goto fail;
    }
    *out = c;
    return SP_OK;
fail:
    sp_http_client_destroy(c);
    return rv;
}

void sp_http_client_destroy(sp_http_client *c)
{
    if (c == NULL) return;
    if (c->conn) nng_http_conn_close(c->conn);
    nng_aio_free(c->aio);
    if (c->cli) nng_http_client_free(c->cli);
    nng_url_free(c->url);
    free(c);
}

static int conn_open(sp_http_client *c)
{
    nng_aio_set_timeout(c->aio, c->timeout_ms);
    nng_http_client_connect(c->cli, c->aio);
    nng_aio_wait(c->aio);
    int rv = nng_aio_result(c->aio);
    if (rv != 0) return rv;
    c->conn = nng_aio_get_output(c->aio, 0);
    return 0;
}

static void conn_drop(sp_http_client *c)
{
    if (c->conn) nng_http_conn_close(c->conn);
    c->conn = NULL;
}

/* One exchange on the current connection (opened if needed). */
static int transact(sp_http_client *c, nng_http_req *req, nng_http_res *res, int *reused)
{
    int rv;
    *reused = c->conn != NULL;
    if (c->conn == NULL && (rv = conn_open(c)) != 0) return rv;
    nng_aio_set_timeout(c->aio, c->timeout_ms);
    nng_http_conn_transact(c->conn, req, res, c->aio);
    nng_aio_wait(c->aio);
    if ((rv = nng_aio_result(c->aio)) != 0) conn_drop(c);
    return rv;
}

int sp_http_client_do(sp_http_client *c, const char *method, const char *target,
    const sp_http_header *headers, size_t nheaders, const void *body, size_t len, sp_http_reply *out)
{
    nng_http_req *req = NULL;
    nng_http_res *res = NULL;
    int rv, reused;
    if (c == NULL || method == NULL || target == NULL || out == NULL) return SP_EINVAL;
    memset(out, 0, sizeof *out);
    if ((rv = nng_http_req_alloc(&req, c->url)) != 0 || (rv = nng_http_res_alloc(&res)) != 0
        || (rv = nng_http_req_set_method(req, method)) != 0 || (rv = nng_http_req_set_uri(req, target)) != 0)
        goto fail;
    for (size_t i = 0; i < nheaders; i++)
        if ((rv = nng_http_req_set_header(req, headers[i].name, headers[i].value)) != 0) goto fail;
    if (len > 0 && (rv = nng_http_req_copy_data(req, body, len)) != 0) goto fail;
    if (len == 0 && strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0
        && (rv = nng_http_req_set_header(req, "Content-Length", "0")) != 0)
        goto fail;

    rv = transact(c, req, res, &reused);
    if (rv != 0 && rv != NNG_ETIMEDOUT && reused) rv = transact(c, req, res, &reused);
    if (rv != 0) goto fail;

    const char *conn_hdr = nng_http_res_get_header(res, "Connection");
    if (conn_hdr && strcasestr(conn_hdr, "close")) conn_drop(c);
    void *data;
    size_t dlen;
    nng_http_res_get_data(res, &data, &dlen);
    if ((out->body = malloc(dlen + 1)) == NULL) {
        rv = NNG_ENOMEM;
        goto fail;
    }
    if (dlen) memcpy(out->body, data, dlen);
    out->body[dlen] = '\0';
    out->body_len = dlen;
    out->status = nng_http_res_get_status(res);
    out->priv = res;
    nng_http_req_free(req);
    return SP_OK;
fail:
    if (req) nng_http_req_free(req);
    if (res) nng_http_res_free(res);
    return nng_to_sp(rv);
}

int sp_http_fetch(const char *url, const char *method, const sp_http_header *headers, size_t nheaders,
    const void *body, size_t len, int timeout_ms, sp_http_reply *out)
{
    sp_http_client *c;
    nng_url *u;
    int rv;
    if (url == NULL) return SP_EINVAL;
    if ((rv = nng_url_parse(&u, url)) != 0) return nng_to_sp(rv);
    /* target = path (nng puts "/" for none) plus query */
    size_t tlen = strlen(u->u_path) + (u->u_query ? strlen(u->u_query) + 1 : 0) + 2;
    char *target = malloc(tlen);
    if (target == NULL) {
        nng_url_free(u);
        return SP_ENOMEM;
    }
    strcpy(target, u->u_path[0] ? u->u_path : "/");
    if (u->u_query && u->u_query[0]) {
        strcat(target, "?");
        strcat(target, u->u_query);
    }
    nng_url_free(u);
    if ((rv = sp_http_client_new(url, timeout_ms, &c)) == SP_OK) {
        rv = sp_http_client_do(c, method, target, headers, nheaders, body, len, out);
        sp_http_client_destroy(c);
    }
    free(target);
    return rv;
}

const char *sp_http_reply_header(const sp_http_reply *r, const char *name)
{
    if (r == NULL || r->priv == NULL) return NULL;
    return nng_http_res_get_header(r->priv, name);
}

void sp_http_reply_clear(sp_http_reply *r)
{
    if (r == NULL) return;
    free(r->body);
    if (r->priv) nng_http_res_free(r->priv);
    memset(r, 0, sizeof *r);
}
