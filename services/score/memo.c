/* memo.c - query results by (statement, parameters) for one transaction. */
#include "score/memo.h"

#include "log.h"
#include "score/sqlbuf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A statement's set form (score_memo_group_sql); text NULL when it has none. */
typedef struct memo_combo {
    char *sql; /* a copy: kept past the callers' statements */
    int nparams;
    char *text; /* NULL: none, or the server refused it (run statement by statement) */
} memo_combo;

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
    unsigned long runs, hits, grouped;
    memo_combo *combos; /* each statement's set form, kept for the memo's life */
    size_t n_combos, cap_combos;
};

#define TAB_CAP 32768

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
    m->runs = m->hits = m->grouped = 0;
}

void score_memo_destroy(score_memo *m)
{
    if (!m) return;
    if (m->tab) score_memo_reset(m);
    for (size_t i = 0; i < m->n_combos; i++) {
        free(m->combos[i].sql);
        free(m->combos[i].text);
    }
    free(m->combos);
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

static void put_int(score_sqlbuf *b, const char *before, int v)
{
    char t[32];
    snprintf(t, sizeof t, "%s%d", before, v);
    score_sqlbuf_puts(b, t);
}

/* The string of b (caller frees), or NULL (freed) when memory ran out. */
static char *buf_done(score_sqlbuf *b)
{
    if (b->oom) {
        score_sqlbuf_free(b);
        return NULL;
    }
    return b->p ? b->p : strdup("");
}

sp_err score_memo_group_sql(const char *sql, int nparams, char **out)
{
    if (!sql || nparams < 1 || nparams > 99 || !out) return SP_EINVAL;
    *out = NULL;
    score_sqlbuf b = {0};
    score_sqlbuf_puts(&b, "SELECT sp_q.sp_i, sp_r.* FROM unnest(");
    for (int k = 1; k <= nparams; k++) {
        put_int(&b, k > 1 ? ", $" : "$", k);
        score_sqlbuf_puts(&b, "::text[]");
    }
    score_sqlbuf_puts(&b, ") WITH ORDINALITY AS sp_q(");
    for (int k = 1; k <= nparams; k++)
        put_int(&b, k > 1 ? ", sp_p" : "sp_p", k);
    score_sqlbuf_puts(&b, ", sp_i) CROSS JOIN LATERAL (");
    char quote = 0; /* inside '...' or "..." */
    for (const char *c = sql; *c; c++) {
        if (quote) {
            if (*c == quote) quote = 0;
            score_sqlbuf_put(&b, c, 1);
            continue;
        }
        if (*c == '\'' || *c == '"') quote = *c;
        if (*c == ';' || *c == '\\' || (*c == '$' && !(c[1] >= '0' && c[1] <= '9'))
            || (*c == '-' && c[1] == '-') || (*c == '/' && c[1] == '*')) {
            /* several statements, escapes (E''), dollar quoting, comments:
             * what the scan cannot follow has no set form */
            score_sqlbuf_free(&b);
            return SP_EINVAL;
        }
        if (*c != '$') {
            score_sqlbuf_put(&b, c, 1);
            continue;
        }
        int k = 0;
        for (c++; *c >= '0' && *c <= '9'; c++)
            if ((k = k * 10 + (*c - '0')) > 99) break; /* past any nparams: refused below */
        c--;
        if (k < 1 || k > nparams) {
            score_sqlbuf_free(&b);
            return SP_EINVAL;
        }
        put_int(&b, "sp_q.sp_p", k);
    }
    score_sqlbuf_puts(&b, ") sp_r");
    if (quote) {
        score_sqlbuf_free(&b);
        return SP_EINVAL;
    }
    return (*out = buf_done(&b)) ? SP_OK : SP_ENOMEM;
}

sp_err score_memo_array_literal(const char *const *vals, size_t n, char **out)
{
    if ((n && !vals) || !out) return SP_EINVAL;
    score_sqlbuf b = {0};
    score_sqlbuf_puts(&b, "{");
    for (size_t i = 0; i < n; i++)
        score_sqlbuf_elem(&b, vals[i] ? vals[i] : "NULL", !vals[i]); /* NULL unquoted: SQL NULL */
    score_sqlbuf_puts(&b, "}");
    return (*out = buf_done(&b)) ? SP_OK : SP_ENOMEM;
}

/* The index in m->combos of sql's set form, made once per memo; -1 when
 * it has none, or the server refused it (run statement by statement). */
static long combo_of(score_memo *m, const char *sql, int nparams)
{
    for (size_t i = 0; i < m->n_combos; i++)
        if (m->combos[i].nparams == nparams && !strcmp(m->combos[i].sql, sql))
            return m->combos[i].text ? (long)i : -1;
    if (m->n_combos == m->cap_combos) {
        size_t cap = m->cap_combos ? m->cap_combos * 2 : 16;
        memo_combo *c = realloc(m->combos, cap * sizeof *c);
        if (!c) return -1;
        m->combos = c;
        m->cap_combos = cap;
    }
    char *text = NULL, *copy = strdup(sql);
    if (!copy || score_memo_group_sql(sql, nparams, &text) == SP_ENOMEM) { /* asked again next time */
        free(copy);
        return -1;
    }
    m->combos[m->n_combos++] = (memo_combo) {copy, nparams, text};
    return text ? (long)m->n_combos - 1 : -1;
}

/* Deals the rows of a set form's result (each led by its execution's
 * number, 1-based) out to the n entries es, one result each with the
 * statement's own columns. SP_OK, or SP_ENOMEM / SP_EDB (a row numbered
 * out of range): then no entry has a result. */
static sp_err combo_split(PGresult *all, memo_entry **es, size_t n)
{
    int nf = PQnfields(all) - 1;
    if (nf < 0) return SP_EDB;
    PGresAttDesc *att = calloc(nf ? (size_t)nf : 1, sizeof *att);
    sp_err rv = att ? SP_OK : SP_ENOMEM;
    for (int f = 0; rv == SP_OK && f < nf; f++)
        att[f] = (PGresAttDesc) {.name = PQfname(all, f + 1),
            .tableid = PQftable(all, f + 1),
            .columnid = PQftablecol(all, f + 1),
            .format = PQfformat(all, f + 1),
            .typid = PQftype(all, f + 1),
            .typlen = PQfsize(all, f + 1),
            .atttypmod = PQfmod(all, f + 1)};
    for (size_t j = 0; rv == SP_OK && j < n; j++) {
        es[j]->res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
        if (!es[j]->res || !PQsetResultAttrs(es[j]->res, nf, att)) rv = SP_ENOMEM;
    }
    for (int r = 0; rv == SP_OK && r < PQntuples(all); r++) {
        long long i = strtoll(PQgetvalue(all, r, 0), NULL, 10);
        if (i < 1 || (size_t)i > n) {
            rv = SP_EDB;
            break;
        }
        PGresult *to = es[i - 1]->res;
        int tup = PQntuples(to);
        for (int f = 0; rv == SP_OK && f < nf; f++) {
            int null = PQgetisnull(all, r, f + 1);
            if (!PQsetvalue(to, tup, f, null ? NULL : PQgetvalue(all, r, f + 1),
                    null ? -1 : PQgetlength(all, r, f + 1)))
                rv = SP_ENOMEM;
        }
    }
    if (rv != SP_OK)
        for (size_t j = 0; j < n; j++) {
            PQclear(es[j]->res);
            es[j]->res = NULL;
        }
    free(att);
    return rv;
}

/* One statement of a run: a queued entry alone, or a group of entries of
 * the same statement in its set form with its parameters as arrays. */
typedef struct run_stmt {
    memo_entry **es;
    size_t n;
    char **arrays; /* nparams array literals; NULL for an entry alone */
    long combo; /* its set form in m->combos (with arrays) */
} run_stmt;

static void run_stmts_free(run_stmt *rs, size_t n)
{
    for (size_t i = 0; rs && i < n; i++) {
        for (int k = 0; rs[i].arrays && k < rs[i].es[0]->nparams; k++)
            free(rs[i].arrays[k]);
        free(rs[i].arrays);
    }
    free(rs);
}

/* Groups the queue by statement into rs (at most n_queued, *n_rs set);
 * es holds the grouped entries in order, each group's slice pointed to by
 * its run_stmt. SP_OK or SP_ENOMEM. */
static sp_err run_plan(score_memo *m, memo_entry **es, run_stmt *rs, size_t *n_rs)
{
    size_t nr = 0, ne = 0;
    char *done = calloc(m->n_queued, 1);
    if (!done) return SP_ENOMEM;
    sp_err rv = SP_OK;
    for (size_t i = 0; rv == SP_OK && i < m->n_queued; i++) {
        if (done[i]) continue;
        memo_entry *first = &m->ents[m->queued[i]];
        run_stmt *r = &rs[nr++];
        *r = (run_stmt) {.es = &es[ne]};
        for (size_t j = i; j < m->n_queued; j++) {
            memo_entry *e = &m->ents[m->queued[j]];
            if (done[j] || e->sql != first->sql) continue;
            done[j] = 1;
            es[ne++] = e;
            r->n++;
        }
        r->combo = r->n > 1 && first->nparams > 0 ? combo_of(m, first->sql, first->nparams) : -1;
        if (r->combo < 0) { /* no set form: each entry a statement of its own */
            for (size_t j = 1; j < r->n; j++)
                rs[nr++] = (run_stmt) {.es = &r->es[j], .n = 1};
            r->n = 1;
            continue;
        }
        const char **vals = malloc(r->n * sizeof *vals);
        if (!vals || !(r->arrays = calloc((size_t)first->nparams, sizeof *r->arrays))) rv = SP_ENOMEM;
        for (int k = 0; rv == SP_OK && k < first->nparams; k++) {
            for (size_t j = 0; j < r->n; j++)
                vals[j] = r->es[j]->params[k];
            rv = score_memo_array_literal(vals, r->n, &r->arrays[k]);
        }
        free(vals);
    }
    free(done);
    *n_rs = nr;
    return rv;
}

/* A run with set forms failed (SP_EDB: which statement is not told): its
 * set forms are not used again, so a set form the server refuses where its
 * statement runs (a parameter text will not do for) costs one failed run,
 * not every run. The caller retries without them. */
static void combos_refused(score_memo *m, const run_stmt *rs, size_t nr)
{
    for (size_t i = 0; i < nr; i++) {
        memo_combo *k = rs[i].arrays ? &m->combos[rs[i].combo] : NULL;
        if (!k || !k->text) continue;
        sp_warn("memo: set form of a statement refused; running it statement by statement: %.200s", k->sql);
        free(k->text);
        k->text = NULL;
    }
}

sp_err score_memo_run(score_memo *m, sp_db *db)
{
    if (!m || !db) return SP_EINVAL;
    if (!m->n_queued) return SP_OK;
    size_t nq = m->n_queued, nr = 0;
    memo_entry **es = malloc(nq * sizeof *es);
    run_stmt *rs = calloc(nq, sizeof *rs);
    sp_db_stmt *st = malloc(nq * sizeof *st);
    PGresult **res = calloc(nq, sizeof *res);
    sp_err rv = es && rs && st && res ? SP_OK : SP_ENOMEM;
    if (rv == SP_OK) rv = run_plan(m, es, rs, &nr);
    for (size_t i = 0; rv == SP_OK && i < nr; i++) {
        memo_entry *e = rs[i].es[0];
        st[i] = rs[i].arrays
            ? (sp_db_stmt) {m->combos[rs[i].combo].text, e->nparams, (const char *const *)rs[i].arrays}
            : (sp_db_stmt) {e->sql, e->nparams, (const char *const *)e->params};
    }
    if (rv == SP_OK && (rv = sp_db_exec_many(db, nr, st, res)) == SP_EDB) combos_refused(m, rs, nr);
    /* one statement for a group: its rows dealt out; then every result is an entry's */
    for (size_t i = 0; rv == SP_OK && i < nr; i++) {
        if (!rs[i].arrays) {
            rs[i].es[0]->res = res[i];
            res[i] = NULL;
        } else if ((rv = combo_split(res[i], rs[i].es, rs[i].n)) == SP_OK) {
            m->grouped += rs[i].n;
        }
    }
    if (rv == SP_OK) {
        m->runs += nq;
        m->n_queued = 0;
    } else {
        /* entries given results before the failure lose them with the queue */
        for (size_t i = 0; i < nq; i++) {
            memo_entry *e = &m->ents[m->queued[i]];
            PQclear(e->res);
            e->res = NULL;
        }
        queue_drop(m);
    }
    for (size_t i = 0; res && i < nr; i++)
        PQclear(res[i]);
    run_stmts_free(rs, nr);
    free(es);
    free(st);
    free(res);
    return rv;
}

unsigned long score_memo_grouped(const score_memo *m)
{
    return m ? m->grouped : 0;
}
