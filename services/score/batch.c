/* batch.c - a batch's processed rows, recorded facts and signal states in
 * three statements. */
#include "score/batch.h"

#include "score/sqlbuf.h"
#include "score/triggers.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* open-addressing set of strings with a claimed flag */
typedef struct fresh_slot {
    char *id;
    int claimed;
} fresh_slot;

struct score_batch {
    fresh_slot *slot;
    size_t cap, used;
};

static uint64_t str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static fresh_slot *fresh_find(fresh_slot *slot, size_t cap, const char *id)
{
    for (size_t i = str_hash(id) & (cap - 1);; i = (i + 1) & (cap - 1))
        if (!slot[i].id || !strcmp(slot[i].id, id)) return &slot[i];
}

static sp_err fresh_add(score_batch *b, const char *id)
{
    if ((b->used + 1) * 2 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        fresh_slot *n = calloc(cap, sizeof *n);
        if (!n) return SP_ENOMEM;
        for (size_t i = 0; i < b->cap; i++)
            if (b->slot[i].id) *fresh_find(n, cap, b->slot[i].id) = b->slot[i];
        free(b->slot);
        b->slot = n;
        b->cap = cap;
    }
    fresh_slot *e = fresh_find(b->slot, b->cap, id);
    if (e->id) return SP_OK;
    if (!(e->id = strdup(id))) return SP_ENOMEM;
    e->claimed = 0;
    b->used++;
    return SP_OK;
}

sp_err score_batch_new(score_batch **out)
{
    if (!out) return SP_EINVAL;
    *out = calloc(1, sizeof **out);
    return *out ? SP_OK : SP_ENOMEM;
}

void score_batch_reset(score_batch *b)
{
    if (!b) return;
    for (size_t i = 0; i < b->cap; i++)
        free(b->slot[i].id);
    if (b->slot) memset(b->slot, 0, b->cap * sizeof *b->slot);
    b->used = 0;
}

void score_batch_destroy(score_batch *b)
{
    if (!b) return;
    score_batch_reset(b);
    free(b->slot);
    free(b);
}

int score_batch_claim(score_batch *b, const char *event_id)
{
    if (!b || !b->cap || !event_id) return 0;
    fresh_slot *e = fresh_find(b->slot, b->cap, event_id);
    if (!e->id || e->claimed) return 0;
    e->claimed = 1;
    return 1;
}

int score_batch_fresh(const score_batch *b, const char *event_id)
{
    if (!b || !b->cap || !event_id) return 0;
    const fresh_slot *e = fresh_find(b->slot, b->cap, event_id);
    return e->id && !e->claimed;
}

/* --- recorded facts ------------------------------------------------------------- */

static const char *page_class_name(int c)
{
    return c == SALESPULSE__V1__PAGE_CLASS__PAGE_CLASS_PRODUCT   ? "product"
        : c == SALESPULSE__V1__PAGE_CLASS__PAGE_CLASS_COMPETITOR ? "competitor"
                                                                 : NULL;
}

static const char *nonempty_or(const char *s, const char *dflt)
{
    return s && *s ? s : dflt;
}

/* columns of one bulk statement, each an array literal */
typedef struct cols {
    score_sqlbuf c[7];
    int n_cols;
    size_t rows;
} cols;

static void cols_init(cols *c, int n)
{
    memset(c, 0, sizeof *c);
    c->n_cols = n;
    for (int i = 0; i < n; i++)
        score_sqlbuf_puts(&c->c[i], "{");
}

/* Closes the literals into p; SP_ENOMEM if any ran out. */
static sp_err cols_close(cols *c, const char **p)
{
    sp_err rv = SP_OK;
    for (int i = 0; i < c->n_cols; i++) {
        score_sqlbuf_puts(&c->c[i], "}");
        if (c->c[i].oom) rv = SP_ENOMEM;
        p[i] = c->c[i].p;
    }
    return rv;
}

static void cols_free(cols *c)
{
    for (int i = 0; i < c->n_cols; i++)
        score_sqlbuf_free(&c->c[i]);
}

/* NULL -> SQL NULL element */
static void elem(cols *c, int col, const char *v)
{
    if (v)
        score_sqlbuf_elem(&c->c[col], v, 0);
    else
        score_sqlbuf_elem(&c->c[col], "NULL", 1);
}

static const char *const SQL_TRACKING
    = "INSERT INTO score_tracking (event_id, occurred_at, customer_id, deal_id, page_class, product_id, "
      "competitor_id) SELECT e, score_ts(t), c, d, k, p, x FROM unnest($1::text[], $2::bigint[], $3::text[], "
      "$4::text[], $5::text[], $6::text[], $7::text[]) u(e, t, c, d, k, p, x) ON CONFLICT DO NOTHING";
static const char *const SQL_ACTIONS
    = "INSERT INTO score_rep_actions (event_id, what, rep_id, day, occurred_at) "
      "SELECT e, w, r, d, score_ts(t) FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], "
      "$5::bigint[]) u(e, w, r, d, t) ON CONFLICT DO NOTHING";
static const char *const SQL_ROLES
    = "INSERT INTO score_role_touches (event_id, occurred_at, deal_id, role) "
      "SELECT e, score_ts(t), d, r FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[]) "
      "u(e, t, d, r) ON CONFLICT DO NOTHING";
static const char *const SQL_PARTY_ROLES
    = "INSERT INTO score_role_touches (event_id, occurred_at, deal_id, role) "
      "SELECT u.e, score_ts(u.t), u.d, c.role FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], "
      "$5::text[]) u(e, t, d, k, v) JOIN identities i ON i.kind = u.k AND i.value = u.v "
      "JOIN contacts c ON c.id = i.contact_id WHERE c.role IS NOT NULL ON CONFLICT DO NOTHING";

/* Adds ei's rows to the four statements' columns. */
static void record_rows(const score_calendar *cal, const Salespulse__V1__EnrichedInteraction *ei, cols *trk,
    cols *act, cols *rol, cols *par)
{
    static const char *const roles[] = {"", "procurement", "technical", "decision_maker", "finance"};
    static const char *const kinds[] = {"", "wecom", "email", "phone", "crm"};
    const Salespulse__V1__Interaction *in = ei->interaction;
    const char *id = in->meta->event_id;
    int64_t at = in->meta->occurred_at_ms;
    char ts[32], day[16];
    snprintf(ts, sizeof ts, "%lld", (long long)at);
    if (in->detail_case == SALESPULSE__V1__INTERACTION__DETAIL_TRACKING && in->tracking && ei->customer_id
        && *ei->customer_id && page_class_name(in->tracking->page_class)) {
        elem(trk, 0, id);
        elem(trk, 1, ts);
        elem(trk, 2, ei->customer_id);
        elem(trk, 3, ei->deal_id && *ei->deal_id ? ei->deal_id : NULL);
        elem(trk, 4, page_class_name(in->tracking->page_class));
        elem(trk, 5, nonempty_or(in->tracking->product_id, ""));
        elem(trk, 6, nonempty_or(in->tracking->competitor_id, ""));
        trk->rows++;
    }
    if (in->detail_case == SALESPULSE__V1__INTERACTION__DETAIL_ACTIVITY && in->activity && ei->rep_id
        && *ei->rep_id) {
        for (int k = 0; k < 2; k++) {
            int64_t when = k == 0 ? in->activity->next_step_due_ms : ei->quality_passed ? at : 0;
            if (when <= 0) continue;
            snprintf(day, sizeof day, "%d", (int)calendar_local_day(cal, when));
            elem(act, 0, id);
            elem(act, 1, k == 0 ? "planned" : "completed");
            elem(act, 2, ei->rep_id);
            elem(act, 3, day);
            elem(act, 4, ts);
            act->rows++;
        }
    }
    if (!ei->deal_id || !*ei->deal_id) return;
    if (in->detail_case == SALESPULSE__V1__INTERACTION__DETAIL_ACTIVITY && in->activity)
        for (size_t i = 0; i < in->activity->n_roles_covered; i++) {
            int r = (int)in->activity->roles_covered[i];
            if (r < 1 || r > 4) continue;
            elem(rol, 0, id);
            elem(rol, 1, ts);
            elem(rol, 2, ei->deal_id);
            elem(rol, 3, roles[r]);
            rol->rows++;
        }
    for (size_t i = 0; i < in->n_parties; i++) {
        const Salespulse__V1__Party *pt = in->parties[i];
        if (!pt || !pt->customer_side || !pt->identity || !pt->identity->value || !*pt->identity->value)
            continue;
        int k = (int)pt->identity->kind;
        if (k < 1 || k > 4) continue;
        elem(par, 0, id);
        elem(par, 1, ts);
        elem(par, 2, ei->deal_id);
        elem(par, 3, kinds[k]);
        elem(par, 4, pt->identity->value);
        par->rows++;
    }
}

sp_err score_batch_record(
    sp_db *db, const score_calendar *cal, const Salespulse__V1__EnrichedInteraction *const *eis, size_t n)
{
    if (!db || !cal || (n && !eis)) return SP_EINVAL;
    cols c[4];
    static const char *const *const sql[4] = {&SQL_TRACKING, &SQL_ACTIONS, &SQL_ROLES, &SQL_PARTY_ROLES};
    static const int n_cols[4] = {7, 5, 4, 5};
    for (int k = 0; k < 4; k++)
        cols_init(&c[k], n_cols[k]);
    for (size_t i = 0; i < n; i++)
        record_rows(cal, eis[i], &c[0], &c[1], &c[2], &c[3]);
    sp_err rv = SP_OK;
    const char *p[4][7];
    for (int k = 0; k < 4; k++)
        if (cols_close(&c[k], p[k]) != SP_OK) rv = SP_ENOMEM;
    int n_send = 0;
    for (int k = 0; k < 4 && rv == SP_OK; k++)
        if (c[k].rows && (rv = sp_db_prepare(db, *sql[k], n_cols[k])) == SP_OK) n_send++;
    if (rv == SP_OK && n_send == 1) { /* one statement: no pipeline needed */
        for (int k = 0; k < 4; k++)
            if (c[k].rows) rv = sp_db_exec(db, *sql[k], n_cols[k], p[k], NULL);
    } else if (rv == SP_OK && n_send > 1 && (rv = sp_db_pipeline_begin(db)) == SP_OK) {
        for (int k = 0; k < 4 && rv == SP_OK; k++)
            if (c[k].rows) rv = sp_db_pipeline_send(db, *sql[k], n_cols[k], p[k]);
        sp_err end = sp_db_pipeline_end(db);
        if (rv == SP_OK) rv = end;
    }
    for (int k = 0; k < 4; k++)
        cols_free(&c[k]);
    return rv;
}

/* --- prepare ------------------------------------------------------------------------ */

/* the state keys of the fresh events, each once */
typedef struct keys {
    cols c; /* kind, subject type, subject, variant, now */
    score_batch seen; /* "kind\x1fsubject\x1fvariant" */
    int64_t now;
    sp_err err;
} keys;

static sp_err key_add(void *arg, score_kind kind, const char *subject, const char *variant, int clears)
{
    (void)clears;
    keys *k = arg;
    char buf[512];
    int len = snprintf(buf, sizeof buf, "%d\x1f%s\x1f%s", (int)kind, subject, variant);
    if (len < 0 || (size_t)len >= sizeof buf) return SP_OK; /* the per-event path reads it */
    size_t before = k->seen.used;
    sp_err rv = fresh_add(&k->seen, buf);
    if (rv != SP_OK || k->seen.used == before) return rv;
    char now[32];
    snprintf(now, sizeof now, "%lld", (long long)k->now);
    elem(&k->c, 0, score_kind_name(kind));
    elem(&k->c, 1, score_subject_type_name(score_kind_subject(kind)));
    elem(&k->c, 2, subject);
    elem(&k->c, 3, variant);
    elem(&k->c, 4, now);
    k->c.rows++;
    return SP_OK;
}

static int valid(const Salespulse__V1__EnrichedInteraction *ei)
{
    return ei && ei->meta && ei->meta->event_id && *ei->meta->event_id && ei->interaction
        && ei->interaction->meta && ei->interaction->meta->event_id && *ei->interaction->meta->event_id
        && ei->interaction->meta->occurred_at_ms > 0;
}

/* Reads (creating and locking) the collected keys' rows into states. */
static sp_err states_read(sp_db *db, keys *k, score_state_cache *states)
{
    const char *p[5];
    sp_err rv = cols_close(&k->c, p);
    if (rv != SP_OK || !k->c.rows) return rv;
    PGresult *r = NULL;
    /* xmax 0: inserted here (never evaluated) */
    rv = sp_db_exec(db,
        "INSERT INTO signal_state (kind, subject_type, subject_id, variant, updated_at) "
        "SELECT k, t, s, v, score_ts(n) FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], "
        "$5::bigint[]) u(k, t, s, v, n) ON CONFLICT (kind, subject_type, subject_id, variant) "
        "DO UPDATE SET kind = EXCLUDED.kind RETURNING kind, subject_id, variant, active, episode, revision, "
        "level, last_value, raised_at_ms, changed_at_ms, clear_pending_since_ms, evidence_hash, "
        "CASE WHEN xmax = 0 THEN 0 ELSE score_ms(updated_at) END",
        5, p, &r);
    if (rv != SP_OK) return rv;
    for (int i = 0; i < PQntuples(r) && rv == SP_OK; i++) {
        score_kind kind;
        if (score_kind_from_name(PQgetvalue(r, i, 0), &kind) != SP_OK) continue;
        score_state st = score_state_from_row(r, i, 3);
        rv = score_state_cache_load(states, kind, PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), &st,
            strtoll(PQgetvalue(r, i, 12), NULL, 10));
    }
    PQclear(r);
    return rv;
}

sp_err score_states_load(sp_db *db, score_state_cache *states, int64_t now, size_t n, const score_kind *kinds,
    const char *const *subjects, const char *const *variants)
{
    if (!db || !states || (n && (!kinds || !subjects || !variants))) return SP_EINVAL;
    keys k = {.now = now, .err = SP_OK};
    cols_init(&k.c, 5);
    sp_err rv = SP_OK;
    for (size_t i = 0; i < n && rv == SP_OK; i++)
        rv = key_add(&k, kinds[i], subjects[i], variants[i] ? variants[i] : "", 0);
    if (rv == SP_OK) rv = states_read(db, &k, states);
    cols_free(&k.c);
    score_batch_reset(&k.seen);
    free(k.seen.slot);
    return rv;
}

sp_err score_batch_prepare(score_batch *b, sp_db *db, const score_rules *r, const score_calendar *cal,
    score_state_cache *states, Salespulse__V1__EnrichedInteraction *const *eis, size_t n)
{
    if (!b || !db || !r || !cal || !states || (n && !eis)) return SP_EINVAL;
    score_batch_reset(b);
    const Salespulse__V1__EnrichedInteraction **ok = calloc(n ? n : 1, sizeof *ok);
    keys k = {.err = SP_OK};
    cols ids;
    cols_init(&ids, 1);
    cols_init(&k.c, 5);
    PGresult *res = NULL;
    size_t n_ok = 0;
    sp_err rv = ok ? SP_OK : SP_ENOMEM;
    for (size_t i = 0; rv == SP_OK && i < n; i++) {
        if (!valid(eis[i])) continue;
        ok[n_ok++] = eis[i];
        elem(&ids, 0, eis[i]->meta->event_id);
    }
    const char *p[1];
    if (rv != SP_OK || !n_ok) goto out;
    if ((rv = cols_close(&ids, p)) != SP_OK) goto out;
    /* in key order: the index pages are visited once each, not at random */
    if ((rv = sp_db_exec(db,
             "INSERT INTO processed_events (consumer, event_id) SELECT 'sp-score', e "
             "FROM unnest($1::text[]) e ORDER BY e ON CONFLICT DO NOTHING RETURNING event_id",
             1, p, &res))
        != SP_OK)
        goto out;
    for (int i = 0; i < PQntuples(res) && rv == SP_OK; i++)
        rv = fresh_add(b, PQgetvalue(res, i, 0));
    if (rv != SP_OK || (rv = score_batch_record(db, cal, ok, n_ok)) != SP_OK) goto out;
    /* the fresh events' states, each key once, created at its first event's time */
    for (size_t i = 0; i < n_ok && rv == SP_OK; i++) {
        if (!b->cap || !fresh_find(b->slot, b->cap, ok[i]->meta->event_id)->id) continue;
        k.now = ok[i]->interaction->meta->occurred_at_ms;
        rv = score_enriched_each(ok[i], r, key_add, &k);
    }
    if (rv == SP_OK) rv = states_read(db, &k, states);
out:
    PQclear(res);
    free(ok);
    cols_free(&ids);
    cols_free(&k.c);
    score_batch_reset(&k.seen);
    free(k.seen.slot);
    if (rv != SP_OK) score_batch_reset(b);
    return rv;
}
