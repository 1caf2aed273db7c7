/* api_pool.c - a mutex + condition variable pool of sp_db connections. */
#include "taskpool/api_pool.h"

#include "err.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct api_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int n, nfree;
    sp_db **all;
    sp_db **free_list;
};

int api_pool_new(const char *url, int n, api_pool **out)
{
    if (url == NULL || n < 1 || n > 64) return SP_EINVAL;
    api_pool *p = calloc(1, sizeof *p);
    if (p == NULL) return SP_ENOMEM;
    p->all = calloc((size_t)n, sizeof *p->all);
    p->free_list = calloc((size_t)n, sizeof *p->free_list);
    if (p->all == NULL || p->free_list == NULL) goto fail;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    for (int i = 0; i < n; i++) {
        sp_db *db = NULL;
        int rv = sp_db_open(url, &db);
        if (db == NULL) {
            p->n = i;
            api_pool_destroy(p);
            return rv == SP_OK ? SP_ENOMEM : rv;
        }
        p->all[i] = p->free_list[i] = db;
    }
    p->n = p->nfree = n;
    *out = p;
    return SP_OK;
fail:
    free(p->all);
    free(p->free_list);
    free(p);
    return SP_ENOMEM;
}

void api_pool_destroy(api_pool *p)
{
    if (p == NULL) return;
    for (int i = 0; i < p->n; i++)
        sp_db_destroy(p->all[i]);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->all);
    free(p->free_list);
    free(p);
}

int api_pool_get(api_pool *p, int timeout_ms, sp_db **db)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl); /* a wait deadline, not business time */
    dl.tv_sec += timeout_ms / 1000;
    dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&p->mu);
    while (p->nfree == 0) {
        if (pthread_cond_timedwait(&p->cv, &p->mu, &dl) == ETIMEDOUT && p->nfree == 0) {
            pthread_mutex_unlock(&p->mu);
            return SP_ETIMEOUT;
        }
    }
    sp_db *d = p->free_list[--p->nfree];
    pthread_mutex_unlock(&p->mu);
    if (sp_db_ensure(d) != SP_OK) {
        api_pool_put(p, d);
        return SP_EDBDOWN;
    }
    *db = d;
    return SP_OK;
}

void api_pool_put(api_pool *p, sp_db *db)
{
    if (db == NULL) return;
    pthread_mutex_lock(&p->mu);
    p->free_list[p->nfree++] = db;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}
