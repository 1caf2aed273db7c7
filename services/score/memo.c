/* memo.c - query results by (statement, parameters) for one transaction. */
#include "score/memo.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct memo_entry {
    const char *sql;
    int nparams;
    char **params; /* copies; NULL entries are SQL NULLs */
    uint64_t hash;
    PGresult *res; /* NULL: queued */
} memo_entry;

struct score_memo {
    memo_entry *ents;
    size_t n_ents, cap_ents;
    uint32_t *tab; /* open addressing: index + 1 into ents, 0 free */
    size_t cap_tab; /* a power of two, at least twice SCORE_MEMO_MAX */
    size_t *queued; /* indexes into ents */
    size_t n_queued;
    int collecting;
    unsigned long runs, hits;
};

#define TAB_CAP 16384

sp_err score_memo_new(score_memo **out)
{
    score_memo *m = calloc(1, sizeof *m);
    if (!m || !(m->tab = calloc(TAB_CAP, sizeof *m->tab))
        || !(m->queued = malloc(SCORE_MEMO_MAX * sizeof *m->queued))) {
        score_memo_destroy(m);
        return SP_ENOMEM;
    }
    m->cap_tab = TAB_CAP;
    *out = m;
    return SP_OK;
}

static void entry_free(memo_entry *e)
{
    for (int i = 0; e->params && i < e->nparams; i++)
        free(e->params[i]);
    free(e->params);
    PQclear(e->res);
}

void score_memo_reset(score_memo *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->n_ents; i++)
        entry_free(&m->ents[i]);
    if (m->n_ents) memset(m->tab, 0, m->cap_tab * sizeof *m->tab);
    m->n_ents = m->n_queued = 0;
    m->runs = m->hits = 0;
}

void score_memo_destroy(score_memo *m)
{
    if (!m) return;
    if (m->tab) score_memo_reset(m);
    free(m->ents);
    free(m->tab);
    free(m->queued);
    free(m);
}

static void queue_drop(score_memo *m);

void score_memo_collect(score_memo *m, int on)
{
    m->collecting = on;
    if (!on && m->n_queued) queue_drop(m); /* asked for and never run */
}

size_t score_memo_pending(const score_memo *m)
{
    return m ? m->n_queued : 0;
}

void score_memo_stats(const score_memo *m, unsigned long *runs, unsigned long *hits)
{
    *runs = m ? m->runs : 0;
    *hits = m ? m->hits : 0;
}

static uint64_t key_hash(const char *sql, int n, const char *const *p)
{
    uint64_t h = 1469598103934665603ull ^ ((uint64_t)(uintptr_t)sql * 0x9e3779b97f4a7c15ull);
    for (int i = 0; i < n; i++) {
        h = (h ^ (p[i] ? 0x5a : 0xa5)) * 1099511628211ull;
        for (const char *c = p[i]; c && *c; c++)
            h = (h ^ (unsigned char)*c) * 1099511628211ull;
        h = (h ^ 0xff) * 1099511628211ull; /* "ab","c" differs from "a","bc" */
    }
    return h;
}

static int key_equal(const memo_entry *e, const char *sql, int n, const char *const *p, uint64_t h)
{
    if (e->hash != h || e->sql != sql || e->nparams != n) return 0;
    for (int i = 0; i < n; i++) {
        if (!e->params[i] != !p[i]) return 0;
        if (p[i] && strcmp(e->params[i], p[i]) != 0) return 0;
    }
    return 1;
}

/* The table slot of the key: its entry's or the free one where it goes. */
static uint32_t *slot_of(score_memo *m, const char *sql, int n, const char *const *p, uint64_t h)
{
    for (size_t i = h & (m->cap_tab - 1);; i = (i + 1) & (m->cap_tab - 1)) {
        uint32_t *t = &m->tab[i];
        if (!*t || key_equal(&m->ents[*t - 1], sql, n, p, h)) return t;
    }
}

/* A new entry for the key in slot t (free); its index into *idx. */
static sp_err entry_add(
    score_memo *m, uint32_t *t, const char *sql, int n, const char *const *p, uint64_t h, size_t *idx)
{
    if (m->n_ents == m->cap_ents) {
        size_t cap = m->cap_ents ? m->cap_ents * 2 : 256;
        memo_entry *e = realloc(m->ents, cap * sizeof *e);
        if (!e) return SP_ENOMEM;
        m->ents = e;
        m->cap_ents = cap;
    }
    memo_entry *e = &m->ents[m->n_ents];
    *e = (memo_entry) {.sql = sql, .nparams = n, .hash = h};
    if (n > 0 && !(e->params = calloc((size_t)n, sizeof *e->params))) return SP_ENOMEM;
    for (int i = 0; i < n; i++)
        if (p[i] && !(e->params[i] = strdup(p[i]))) {
            entry_free(e);
            return SP_ENOMEM;
        }
    *idx = m->n_ents++;
    *t = (uint32_t)(*idx + 1);
    return SP_OK;
}

sp_err score_memo_exec(
    score_memo *m, sp_db *db, const char *sql, int nparams, const char *const *params, PGresult **res)
{
    if (!m || !db || !sql || nparams < 0 || (nparams && !params) || !res) return SP_EINVAL;
    uint64_t h = key_hash(sql, nparams, params);
    uint32_t *t = slot_of(m, sql, nparams, params, h);
    if (*t) {
        memo_entry *e = &m->ents[*t - 1];
        if (!e->res) return SP_EAGAIN; /* queued (collecting) */
        *res = e->res;
        m->hits++;
        return SP_OK;
    }
    if (m->n_ents >= SCORE_MEMO_MAX) return SP_EFULL;
    size_t idx;
    sp_err rv = entry_add(m, t, sql, nparams, params, h, &idx);
    if (rv != SP_OK) return rv;
    if (m->collecting) {
        SP_ASSERT(idx == m->n_ents - 1);
        m->queued[m->n_queued++] = idx;
        return SP_EAGAIN;
    }
    PGresult *r = NULL;
    if ((rv = sp_db_exec(db, sql, nparams, params, &r)) != SP_OK) {
        /* not kept: the table slot and the entry go again */
        *t = 0;
        entry_free(&m->ents[--m->n_ents]);
        /* a later key probing past this slot never got here: slots fill in
         * order and this was the last one taken */
        return rv;
    }
    m->runs++;
    *res = m->ents[idx].res = r;
    return SP_OK;
}

/* Drops the queued entries (their statements did not run): they are the
 * newest ones (collecting queues every new entry), so the entries shrink
 * back to the kept ones and the table is rebuilt without them. */
static void queue_drop(score_memo *m)
{
    SP_ASSERT(m->n_queued <= m->n_ents);
    for (size_t i = m->n_ents - m->n_queued; i < m->n_ents; i++)
        entry_free(&m->ents[i]);
    m->n_ents -= m->n_queued;
    m->n_queued = 0;
    memset(m->tab, 0, m->cap_tab * sizeof *m->tab);
    for (size_t i = 0; i < m->n_ents; i++) {
        memo_entry *e = &m->ents[i];
        *slot_of(m, e->sql, e->nparams, (const char *const *)e->params, e->hash) = (uint32_t)(i + 1);
    }
}

sp_err score_memo_run(score_memo *m, sp_db *db)
{
    if (!m || !db) return SP_EINVAL;
    if (!m->n_queued) return SP_OK;
    sp_db_stmt *st = malloc(m->n_queued * sizeof *st);
    PGresult **res = malloc(m->n_queued * sizeof *res);
    sp_err rv = st && res ? SP_OK : SP_ENOMEM;
    for (size_t i = 0; rv == SP_OK && i < m->n_queued; i++) {
        memo_entry *e = &m->ents[m->queued[i]];
        st[i] = (sp_db_stmt) {e->sql, e->nparams, (const char *const *)e->params};
    }
    if (rv == SP_OK) rv = sp_db_exec_many(db, m->n_queued, st, res);
    if (rv == SP_OK) {
        for (size_t i = 0; i < m->n_queued; i++)
            m->ents[m->queued[i]].res = res[i];
        m->runs += m->n_queued;
        m->n_queued = 0;
    } else {
        queue_drop(m);
    }
    free(st);
    free(res);
    return rv;
}
