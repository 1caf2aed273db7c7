/* event_lock.c - one sp-score applies events in event time (event_lock.h). */
#include "score/event_lock.h"

#include "clock.h"
#include "http.h"
#include "log.h"
#include "metrics.h"

#include <libpq-fe.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* the lock's key (advisory locks are per database: one writer per tenant database) */
#define LOCK_SQL "SELECT pg_try_advisory_lock(hashtext('sp-score.event-clock'))"

struct score_event_lock {
    char *url;
    PGconn *conn;
    int64_t checked_us; /* when the session last answered */
};

#define CHECK_EVERY_US 200000 /* a batch or an idle pass at most this long after a check asks none */

/* A new session that tries the lock: 1 held, 0 held by another session,
 * -1 PostgreSQL unreachable (l->conn NULL then). */
static int lock_try(score_event_lock *l)
{
    /* bounded waits, and a server that notices a vanished client within
     * about 30 s: an orphaned session would hold the lock for hours */
    static const char *const keys[] = {"dbname", "connect_timeout", "keepalives", "keepalives_idle",
        "keepalives_interval", "keepalives_count", "options", NULL};
    static const char *const vals[] = {NULL, "10", "1", "10", "5", "3",
        "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3", NULL};
    const char *v[8];
    memcpy(v, vals, sizeof v);
    v[0] = l->url; /* expand_dbname: the URL, then the settings above */
    if (l->conn) PQfinish(l->conn);
    l->conn = PQconnectdbParams(keys, v, 1);
    if (!l->conn || PQstatus(l->conn) != CONNECTION_OK) {
        PQfinish(l->conn);
        l->conn = NULL;
        return -1;
    }
    PGresult *r = PQexec(l->conn, LOCK_SQL);
    int got = PQresultStatus(r) == PGRES_TUPLES_OK ? PQgetvalue(r, 0, 0)[0] == 't' : -1;
    PQclear(r);
    if (got != 1) { /* not ours: the session is not kept */
        PQfinish(l->conn);
        l->conn = NULL;
    }
    return got;
}

sp_err score_event_lock_take(
    const char *pg_url, const char *http_addr, volatile sig_atomic_t *stop, score_event_lock **out)
{
    if (!pg_url || !out) return SP_EINVAL;
    *out = NULL;
    sp_http_server *srv = NULL;
    sp_metric *standby = NULL;
    score_event_lock *l = calloc(1, sizeof *l);
    sp_err rv = SP_OK;
    if (!l || !(l->url = strdup(pg_url))) {
        rv = SP_ENOMEM;
        goto fail;
    }
    for (int tries = 0;; tries++) {
        int got = lock_try(l);
        if (stop && *stop) { /* told to stop: also once the lock came (it goes back) */
            rv = SP_ECLOSED;
            goto fail;
        }
        if (got == 1) break;
        if (tries == 0 || (tries % 60) == 0)
            sp_warn(got == 0 ? "standing by: another sp-score applies events in event time (advisory lock)"
                             : "standing by: PostgreSQL not reachable yet");
        if (!srv && http_addr && *http_addr) { /* seen as alive, not ready */
            sp_http_opts ho = {.workers = 1};
            if (sp_http_server_new(http_addr, &ho, &srv) != SP_OK || sp_http_server_start(srv) != SP_OK) {
                sp_error("SP_HTTP_ADDR %s: cannot listen", http_addr);
                rv = SP_ECONFIG;
                goto fail;
            }
            sp_http_server_set_ready(srv, 0);
            if (sp_gauge_new(sp_http_server_metrics(srv), "sp_score_standby",
                    "1 while this sp-score waits for the event-clock lock", "", &standby)
                == SP_OK)
                sp_gauge_set(standby, 1.0);
        }
        sleep(1);
    }
    sp_http_server_destroy(srv);
    if (srv) sp_info("event-clock lock taken: applying events");
    *out = l;
    return SP_OK;
fail:
    sp_http_server_destroy(srv);
    score_event_lock_destroy(l);
    return rv;
}

int score_event_lock_held(score_event_lock *l)
{
    if (!l) return 0;
    int64_t now = sp_mono_us();
    if (l->conn && now - l->checked_us < CHECK_EVERY_US) return 1;
    if (l->conn && PQstatus(l->conn) == CONNECTION_OK) {
        PGresult *r = PQexec(l->conn, "SELECT 1");
        int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
        PQclear(r);
        if (ok) { /* the session lives: the lock is ours */
            l->checked_us = now;
            return 1;
        }
    }
    int got = lock_try(l); /* the session ended: the lock went with it */
    if (got == 1) {
        l->checked_us = now;
        sp_info("event-clock lock taken again after a lost session");
    }
    return got != 0;
}

void score_event_lock_destroy(score_event_lock *l)
{
    if (!l) return;
    PQfinish(l->conn); /* ends the session: the lock is released */
    free(l->url);
    free(l);
}
