/* api_pool.h - a small pool of PostgreSQL connections for the HTTP
 * handlers (a connection is single-threaded; handlers run on several
 * worker threads). A handler borrows one for the duration of its work and
 * never while it sleeps (long-poll). */
#ifndef SP_TASKPOOL_API_POOL_H
#define SP_TASKPOOL_API_POOL_H

#include "db.h"

typedef struct api_pool api_pool;

/* Opens n connections to url (1..64). A connection that cannot be made
 * yet is kept and reconnects on use (sp_db semantics), so this fails only
 * with SP_EINVAL or SP_ENOMEM. Caller frees with api_pool_destroy. */
int api_pool_new(const char *url, int n, api_pool **out);

/* Frees every connection; no borrow may be outstanding. Accepts NULL. */
void api_pool_destroy(api_pool *p);

/* Borrows a connection, waiting up to timeout_ms for one to be returned:
 * SP_OK, or SP_ETIMEOUT. The connection is made sure to be up (SP_EDBDOWN
 * when it is not: it is then already returned). */
int api_pool_get(api_pool *p, int timeout_ms, sp_db **db);

/* Returns a borrowed connection. Accepts NULL. */
void api_pool_put(api_pool *p, sp_db *db);

#endif
