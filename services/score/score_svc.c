/* score_svc.c - sp-score's batch handler and sweeps. */
#include "score/score_svc.h"

#include "err.h"
#include "log.h"
#include "salespulse/v1/enriched.pb-c.h"
#include "score/batch.h"
#include "score/event_lock.h"
#include "score/health_db.h"
#include "score/rollups.h"
#include "score/score_facts.h"
#include "score/signal_msg.h"
#include "score/sqlbuf.h"
#include "score/triggers.h"
#include "service.h"
#include "watermark.h"

#include <assert.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS  86400000.0
#define HOUR_MS 3600000.0

/* --- pure sweep clock --------------------------------------------------------- */

/* Counts the time since t0_us (sp_mono_us), less minus_us (counted as
 * other work meanwhile), as work of kind what. */
static void busy_add(score_svc *s, int what, int64_t t0_us, int64_t minus_us)
{
    static const char *const names[SCORE_BUSY_KINDS] = {"events", "sweeps", "health"};
    int64_t d = sp_mono_us() - t0_us - minus_us;
    s->busy_us[what] += d;
    sp_counter_add(s->m_busy, (double)d / 1e6, names[what]);
}

size_t score_sweep_due(int64_t last_ms, int64_t now_ms, int64_t every_ms, int64_t *out, size_t cap)
{
    if (every_ms <= 0 || now_ms <= 0 || !out || cap == 0) return 0;
    int64_t latest = now_ms / every_ms * every_ms;
    if (latest <= 0) return 0;
    if (last_ms <= 0) {
        out[0] = latest;
        return 1;
    }
    size_t n = 0;
    for (int64_t t = (last_ms / every_ms + 1) * every_ms; t <= latest && n < cap; t += every_ms)
        out[n++] = t;
    return n;
}

int score_sweep_crosses(const score_calendar *cal, int64_t prev_ms, int64_t t_ms, int week)
{
    int32_t a = calendar_local_day(cal, prev_ms), b = calendar_local_day(cal, t_ms);
    if (!week) return a != b;
    int y, w;
    return calendar_iso_week(a, &y, &w) != calendar_iso_week(b, &y, &w);
}

int score_first_visit_due(const score_calendar *cal, int64_t timeout_ms, int64_t prev_ms, int64_t t_ms)
{
    int y, w;
    calendar_iso_week(calendar_local_day(cal, t_ms), &y, &w);
    int64_t monday = calendar_day_start_ms(cal, calendar_iso_week_monday(y, w));
    return prev_ms < monday + (timeout_ms > 0 ? timeout_ms : 0);
}

/* --- queued outputs ------------------------------------------------------------ */

typedef struct out_msg {
    char *key;
    uint8_t *buf;
    size_t len;
} out_msg;

typedef struct out_list {
    out_msg *v;
    size_t n, cap;
    int64_t promise; /* stamped on every signal (upstream_watermark_ms) */
} out_list;

static void outs_clear(out_list *o)
{
    for (size_t i = 0; i < o->n; i++) {
        free(o->v[i].key);
        free(o->v[i].buf);
    }
    free(o->v);
    memset(o, 0, sizeof *o);
}

static sp_err outs_push(out_list *o, const Salespulse__V1__Signal *sig)
{
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 8;
        out_msg *v = realloc(o->v, cap * sizeof *v);
        if (!v) return SP_ENOMEM;
        o->v = v;
        o->cap = cap;
    }
    Salespulse__V1__Signal stamped = *sig; /* shallow: only the promise differs */
    stamped.upstream_watermark_ms = o->promise;
    size_t len = salespulse__v1__signal__get_packed_size(&stamped);
    out_msg m = {strdup(sig->subject->id), malloc(len ? len : 1), len};
    if (!m.key || !m.buf) {
        free(m.key);
        free(m.buf);
        return SP_ENOMEM;
    }
    salespulse__v1__signal__pack(&stamped, m.buf);
    o->v[o->n++] = m;
    return SP_OK;
}

static sp_err outs_send(score_svc *s, bus_group *g, out_list *o)
{
    for (size_t i = 0; i < o->n; i++) {
        sp_err rv = bus_group_send(
            g, s->producer, s->signals_topic, o->v[i].key, strlen(o->v[i].key), o->v[i].buf, o->v[i].len);
        if (rv != SP_OK) return rv;
        s->signals++;
    }
    return SP_OK;
}

/* What signals carry as upstream_watermark_ms: the promise (promise_update),
 * 1 while the event clock has none (holds sp-route back), 0 for other
 * clocks (sp-route then goes by the signals' own times). */
static int64_t promise_stamp(const score_svc *s)
{
    if (sp_clock_kind_of(s->clock) != SP_CLOCK_EVENT) return 0;
    return s->promise_ms > 1 ? s->promise_ms : 1;
}

static void promise_send(score_svc *s, int force);
static sp_err sweeps_in_tx(score_svc *s, sp_db *db, const int64_t *t, size_t n, int64_t *done, size_t *ran);
static void sweeps_done(score_svc *s, int64_t done, size_t ran);
static sp_err sweeps_run(score_svc *s, sp_db *db, const int64_t *t, size_t n, int *ran);

/* The last sweep boundary done (score_sweeps; 0 when none) in *last. */
static sp_err sweeps_last(sp_db *db, int64_t *last)
{
    PGresult *r = NULL;
    sp_err rv = sp_db_exec(db, "SELECT last_ms FROM score_sweeps WHERE name = 'all'", 0, NULL, &r);
    if (rv != SP_OK) return rv;
    *last = PQntuples(r) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
    PQclear(r);
    return SP_OK;
}

/* --- state rows ------------------------------------------------------------------ */

/* Creates the state row if missing and locks it; the stored state in *st,
 * the time of its last evaluation in *at_ms (0 for a row created now). */
static sp_err state_lock(sp_db *db, score_kind kind, const char *subject, const char *variant, int64_t now,
    score_state *st, int64_t *at_ms)
{
    char t[32];
    snprintf(t, sizeof t, "%lld", (long long)now);
    const char *p[5] = {score_kind_name(kind), score_subject_type_name(score_kind_subject(kind)), subject,
        variant ? variant : "", t};
    PGresult *r = NULL;
    sp_err rv = sp_db_exec(db,
        "INSERT INTO signal_state (kind, subject_type, subject_id, variant, updated_at) "
        "VALUES ($1, $2, $3, $4, score_ts($5::bigint)) ON CONFLICT (kind, subject_type, subject_id, variant) "
        "DO UPDATE SET kind = EXCLUDED.kind RETURNING active, episode, revision, level, last_value, "
        "raised_at_ms, "
        "changed_at_ms, clear_pending_since_ms, evidence_hash, "
        "CASE WHEN xmax = 0 THEN 0 ELSE score_ms(updated_at) END", /* xmax 0: inserted here */
        5, p, &r);
    if (rv != SP_OK) return rv;
    *at_ms = strtoll(PQgetvalue(r, 0, 9), NULL, 10);
    *st = score_state_from_row(r, 0, 0);
    PQclear(r);
    return SP_OK;
}

/* Kinds whose sweeps judge inactive subjects too (a threshold crossed
 * while nothing happened), so an event may meet a state no sweep has
 * judged yet at the boundaries before it. */
static int sweep_raised(score_kind kind)
{
    return kind == SCORE_CUSTOMER_STALE || kind == SCORE_UNANSWERED_INBOUND
        || kind == SCORE_KEY_ROLE_UNCOVERED || kind == SCORE_NO_PROGRESS_AFTER_VISIT
        || kind == SCORE_STAGE_STALLED;
}

/* The boundary an event at now must judge a state at before its own
 * evaluation (see evaluate's from_event), or 0. Before any sweep ran, the
 * first one will start after sweep_origin_ms but leave this state alone
 * (evaluated after its boundaries): it is judged here as for a lagging
 * sweep, or a threshold crossed in the silence before the event is never
 * raised. last_ms: when the state was last judged. */
static int64_t boundary_unjudged(const score_svc *s, score_kind kind, int64_t now, int64_t last_ms)
{
    int64_t every = s->sweep_every_ms, b = every > 0 ? (now - 1) / every * every : 0;
    int64_t done = s->sweep_done_ms > 0 ? s->sweep_done_ms : s->sweep_origin_ms;
    return sweep_raised(kind) && done > 0 && b > done && last_ms < b ? b : 0;
}

/* Evaluates one (kind, subject, variant) at now: state row created or
 * locked at its first evaluation in the transaction (later ones read it
 * from s->states), facts, evaluation, step, state kept in s->states for
 * the flush before the commit; a Signal, if any, is queued
 * in out. clears: the event by itself makes the condition false at now (a
 * touch for customer.stale, a rep reply for deal.unanswered_inbound): an
 * inactive state then needs no facts - the evaluation would observe "not
 * met, value 0" - which saves the two fact queries on most events.
 *
 * from_event: an event at now may run ahead of the sweeps (the watermark
 * trails the events of a batch; after a restart by days). If the sweep of
 * the last boundary B before now has not run and the state was last judged
 * before B, the state is first judged at B exactly as that sweep would -
 * otherwise the event's own evaluation (at now > B) would make the sweep
 * leave the state alone and a threshold crossed in the silence before the
 * event (a customer silent for 39 days) would never raise. */
static sp_err evaluate(score_svc *s, sp_db *db, score_kind kind, const char *subject, const char *variant,
    int64_t now, int clears, int from_event, out_list *out)
{
    score_state st;
    int64_t last_ms = 0;
    sp_err rv = SP_OK;
    if (!score_state_cache_get(s->states, kind, subject, variant, &st, &last_ms)
        && (rv = state_lock(db, kind, subject, variant, now, &st, &last_ms)) != SP_OK)
        return rv;
    score_memo *memo = s->memo_live ? s->memo : NULL;
    int64_t b = from_event ? boundary_unjudged(s, kind, now, last_ms) : 0;
    if (b > 0) {
        score_eval ev;
        score_transition tb = SCORE_TR_NONE;
        Salespulse__V1__Signal *sb = NULL;
        if ((rv = score_facts_eval_cached(db, memo, s->rules, s->cal, kind, subject, variant, b, &ev))
                != SP_OK
            || (rv = score_signal_step(&st, &ev, s->rules, b, s->tenant_id, &tb, &sb)) != SP_OK)
            return rv;
        if (sb) {
            rv = outs_push(out, sb);
            sp_log_event(SP_LOG_DEBUG, sb->meta->event_id, "%s %s (boundary before the event)",
                score_transition_name(tb), sb->signal_id);
            score_signal_free(sb);
            if (rv != SP_OK) return rv;
        }
    }
    score_transition tr = SCORE_TR_NONE;
    Salespulse__V1__Signal *sig = NULL;
    if (clears && !st.active) {
        score_obs none = {.level = s->rules->rule[kind].level};
        if ((rv = score_state_apply(&st, &none, &s->rules->rule[kind], now, &tr)) != SP_OK) return rv;
    } else {
        score_eval ev;
        if ((rv = score_facts_eval_cached(db, memo, s->rules, s->cal, kind, subject, variant, now, &ev))
            != SP_OK)
            return rv;
        if ((rv = score_signal_step(&st, &ev, s->rules, now, s->tenant_id, &tr, &sig)) != SP_OK) return rv;
    }
    if ((rv = score_state_cache_put(s->states, kind, subject, variant, &st, now)) == SP_OK && sig) {
        rv = outs_push(out, sig);
        sp_log_event(SP_LOG_DEBUG, sig->meta->event_id, "%s %s", score_transition_name(tr), sig->signal_id);
    }
    score_signal_free(sig);
    return rv;
}

/* --- events ------------------------------------------------------------------------ */

/* Remembers a deal to re-score after the batch. */
static sp_err health_note(score_svc *s, const char *deal, int64_t now)
{
    if (s->n_health == s->cap_health) {
        size_t cap = s->cap_health ? s->cap_health * 2 : 64;
        char **d = realloc(s->health_deals, cap * sizeof *d);
        if (!d) return SP_ENOMEM;
        s->health_deals = d;
        int64_t *t = realloc(s->health_at, cap * sizeof *t);
        if (!t) return SP_ENOMEM;
        s->health_at = t;
        s->cap_health = cap;
    }
    if (!(s->health_deals[s->n_health] = strdup(deal))) return SP_ENOMEM;
    s->health_at[s->n_health++] = now;
    return SP_OK;
}

/* Forgets the notes from index keep on. */
static void health_truncate(score_svc *s, size_t keep)
{
    for (size_t i = keep; i < s->n_health; i++)
        free(s->health_deals[i]);
    if (keep < s->n_health) s->n_health = keep;
    if (s->n_health_kept > s->n_health) s->n_health_kept = s->n_health;
}

static void health_forget(score_svc *s)
{
    health_truncate(s, 0);
}

/* Begins a transaction whose statements are planned for their values: the
 * big derived-data statements (health, its refresh, the roll-ups), whose
 * generic plans - the session's mode - made on small tables scan big ones
 * whole (the demo: ~0.8 s a health flush instead of ~0.05 s). SP_OK, or the
 * database error (the caller rolls back). */
static sp_err begin_custom_plans(sp_db *db)
{
    sp_err rv = sp_db_begin(db);
    if (rv == SP_OK) rv = sp_db_exec(db, "SET LOCAL plan_cache_mode = force_custom_plan", 0, NULL, NULL);
    return rv;
}

/* The notes' times raised to their deal's stored score where that is
 * later: a deal the daily refresh scored at midnight, before a late event
 * of the day before came in, is scored again at midnight (now counting the
 * event) - at the event's own time the upsert would refuse it as older.
 * Inside the flush's transaction. SP_OK, or the database error. */
static sp_err health_times_raise(score_svc *s, sp_db *db)
{
    score_sqlbuf d = {0}, t = {0};
    sp_err rv = SP_OK;
    score_sqlbuf_put(&d, "{", 1);
    score_sqlbuf_put(&t, "{", 1);
    for (size_t i = 0; i < s->n_health_kept; i++) {
        char ts[32];
        snprintf(ts, sizeof ts, "%lld", (long long)s->health_at[i]);
        score_sqlbuf_elem(&d, s->health_deals[i], 0);
        score_sqlbuf_elem(&t, ts, 1);
    }
    score_sqlbuf_put(&d, "}", 1);
    score_sqlbuf_put(&t, "}", 1);
    PGresult *r = NULL;
    if (d.oom || t.oom) {
        rv = SP_ENOMEM;
    } else {
        const char *p[2] = {d.p, t.p};
        rv = sp_db_exec(db,
            "SELECT greatest(u.t, coalesce(score_ms(h.updated_at), 0)) FROM unnest($1::text[], $2::bigint[]) "
            "WITH ORDINALITY u(d, t, i) LEFT JOIN deal_health h ON h.deal_id = u.d ORDER BY u.i",
            2, p, &r);
    }
    for (int i = 0; rv == SP_OK && i < PQntuples(r) && (size_t)i < s->n_health_kept; i++)
        s->health_at[i] = strtoll(PQgetvalue(r, i, 0), NULL, 10);
    PQclear(r);
    score_sqlbuf_free(&d);
    score_sqlbuf_free(&t);
    return rv;
}

/* Deal health is derived data: the deals noted by committed batches are
 * re-scored in one statement, each at its latest event time (or its stored
 * score's, health_times_raise), when due - or now with force. Batching the
 * notes of several batches re-scores a busy deal once instead of once per
 * batch. A failure leaves the previous scores until the deals' next event
 * (the notes are dropped). SP_OK (also when nothing was due), or the error. */
static sp_err health_flush(score_svc *s, sp_db *db, int force)
{
    if (!s->n_health_kept) return SP_OK;
    int64_t now = sp_wall_ms();
    if (!force && s->health_every_ms > 0 && now < s->health_due_ms && s->n_health_kept < 4096) return SP_OK;
    int64_t t0 = sp_mono_us();
    sp_err rv = begin_custom_plans(db); /* (no JIT: sp_db sessions run with jit off) */
    if (rv == SP_OK) rv = health_times_raise(s, db);
    if (rv == SP_OK)
        rv = score_health_update_many(
            db, s->rules, (const char *const *)s->health_deals, s->health_at, s->n_health_kept, NULL);
    if (rv == SP_OK) rv = sp_db_commit(db);
    if (rv != SP_OK) {
        sp_warn("deal health not updated: %s: %s", sp_strerror(rv), sp_db_errmsg(db));
        sp_db_rollback(db);
    }
    health_forget(s);
    s->health_due_ms = now + s->health_every_ms;
    busy_add(s, SCORE_BUSY_HEALTH, t0, 0);
    return rv;
}

#define HEALTH_REFRESH_ROUND 2000 /* open deals a refresh re-scores between two batches */

/* Once a local day began (sweeps_done), every open deal is re-scored at
 * that boundary: days in stage, an overdue next step and the gap since the
 * last contact move without any event, and the deal nobody touches is the
 * one whose score matters. HEALTH_REFRESH_ROUND deals a call (between
 * batches, in deal id order), until a round finds fewer. A round that
 * fails (the read or the re-score) is tried again at the next call. */
static void health_refresh(score_svc *s, sp_db *db)
{
    if (s->health_refresh_ms <= 0 || s->n_health != s->n_health_kept) return;
    char t[32], lim[16];
    snprintf(t, sizeof t, "%lld", (long long)s->health_refresh_ms);
    snprintf(lim, sizeof lim, "%d", HEALTH_REFRESH_ROUND);
    const char *p[3] = {t, s->health_refresh_after ? s->health_refresh_after : "", lim};
    PGresult *r = NULL;
    int64_t t0 = sp_mono_us();
    /* not opened later, not scored at or after the boundary (an event did);
     * planned for these values (a generic plan would sort every open deal
     * for each round) */
    sp_err rv = begin_custom_plans(db);
    if (rv == SP_OK)
        rv = sp_db_exec(db,
            "SELECT d.id FROM deals d LEFT JOIN deal_health h ON h.deal_id = d.id "
            "WHERE d.is_open AND d.id > $2 AND d.created_at <= score_ts($1::bigint) "
            "AND (h.updated_at IS NULL OR h.updated_at < score_ts($1::bigint)) ORDER BY d.id LIMIT $3::int",
            3, p, &r);
    if (rv == SP_OK) rv = sp_db_commit(db);
    busy_add(s, SCORE_BUSY_HEALTH, t0, 0);
    if (rv != SP_OK) {
        sp_warn("deal health refresh: %s", sp_db_errmsg(db));
        sp_db_rollback(db);
        PQclear(r);
        return;
    }
    int n = PQntuples(r);
    char *last = n > 0 ? strdup(PQgetvalue(r, n - 1, 0)) : NULL;
    if (n > 0 && !last) rv = SP_ENOMEM;
    for (int i = 0; i < n && rv == SP_OK; i++)
        rv = health_note(s, PQgetvalue(r, i, 0), s->health_refresh_ms);
    PQclear(r);
    if (rv != SP_OK) { /* out of memory: this round again later */
        health_truncate(s, s->n_health_kept);
        free(last);
        return;
    }
    s->n_health_kept = s->n_health;
    if (health_flush(s, db, 1) != SP_OK) { /* this round again at the next call */
        free(last);
        return;
    }
    s->health_refreshed += (unsigned long)n;
    if (last) {
        free(s->health_refresh_after);
        s->health_refresh_after = last;
    }
    if (n < HEALTH_REFRESH_ROUND) s->health_refresh_ms = 0; /* the last round */
}

#define ROLLUPS_TRIES 3 /* a day's roll-ups: attempts before that day is left out */

/* The roll-ups as of the boundary a local day began at (rollups.h), in a
 * transaction of their own; derived data: after ROLLUPS_TRIES failed calls
 * (warned) that day is left out and the next one counts again. */
static void rollups_flush(score_svc *s, sp_db *db)
{
    if (s->rollups_due_ms <= 0) return;
    int64_t t0 = sp_mono_us();
    long rows = 0;
    sp_err rv = begin_custom_plans(db);
    if (rv == SP_OK) rv = score_rollups_write(db, s->rules, s->cal, s->rollups_due_ms, &rows);
    if (rv == SP_OK) rv = sp_db_commit(db);
    if (rv != SP_OK) {
        sp_warn("roll-ups not written: %s: %s", sp_strerror(rv), sp_db_errmsg(db));
        sp_db_rollback(db);
    }
    sp_log_event(SP_LOG_DEBUG, "", "roll-ups as of %lld: %ld rows", (long long)s->rollups_due_ms, rows);
    if (rv == SP_OK || ++s->rollups_failed >= ROLLUPS_TRIES) s->rollups_due_ms = 0, s->rollups_failed = 0;
    busy_add(s, SCORE_BUSY_HEALTH, t0, 0);
}

/* score_enriched_each's callback: one evaluation of the event at now */
struct eval_arg {
    score_svc *s;
    sp_db *db;
    int64_t now;
    out_list *out;
};

static sp_err eval_each(void *arg, score_kind kind, const char *subject, const char *variant, int clears)
{
    struct eval_arg *a = arg;
    return evaluate(a->s, a->db, kind, subject, variant, a->now, clears, 1, a->out);
}

/* sp-enrich's heartbeat: its id, no interaction, a promise. */
static int heartbeat(const Salespulse__V1__EnrichedInteraction *ei)
{
    return !ei->interaction && ei->meta && sp_watermark_is_heartbeat(ei->meta->event_id)
        && ei->upstream_watermark_ms > 0;
}

static const char *invalid_field(const Salespulse__V1__EnrichedInteraction *ei)
{
    if (!ei->meta || !ei->meta->event_id || !*ei->meta->event_id) return "meta.event_id";
    if (!ei->interaction || !ei->interaction->meta || !ei->interaction->meta->event_id
        || !*ei->interaction->meta->event_id)
        return "interaction.meta.event_id";
    if (ei->interaction->meta->occurred_at_ms <= 0) return "interaction.meta.occurred_at_ms";
    return NULL;
}

/* --- the batch decoded once ------------------------------------------------------ */

/* A batch's message is read by the prepare, the prefetch, its item and
 * (event clock) the ordering: one unpack serves them all. */
struct score_decoded {
    Salespulse__V1__EnrichedInteraction *ei; /* NULL: not decodable (or not yet tried) */
    int tried;
};

/* Frees what the batch decoded. */
static void decoded_free(score_svc *s)
{
    for (size_t i = 0; s->dec && i < s->n_dec; i++)
        salespulse__v1__enriched_interaction__free_unpacked(s->dec[i].ei, NULL);
    free(s->dec);
    s->dec = NULL;
    s->n_dec = 0;
}

/* Batch message i (of msgs, the batch) decoded, or NULL when it does not
 * decode; owned by s until the batch ends. */
static Salespulse__V1__EnrichedInteraction *decoded_at(score_svc *s, const bus_msg *msgs, size_t i)
{
    assert(s->dec && i < s->n_dec);
    struct score_decoded *d = &s->dec[i];
    if (!d->tried) {
        d->ei = salespulse__v1__enriched_interaction__unpack(NULL, msgs[i].len, msgs[i].payload);
        d->tried = 1;
    }
    return d->ei;
}

/* Message m of the transaction running (apply_msgs decoded them all),
 * decoded; NULL when it does not decode. */
static Salespulse__V1__EnrichedInteraction *decoded(score_svc *s, const bus_msg *m)
{
    uintptr_t at = (uintptr_t)m, base = (uintptr_t)s->cur_msgs;
    assert(s->dec && s->cur_msgs && at >= base && at < base + s->n_cur * sizeof *m);
    size_t k = (at - base) / sizeof *m, i = s->cur_idx ? s->cur_idx[k] : k;
    assert(i < s->n_dec && s->dec[i].tried);
    return s->dec[i].ei;
}

static bus_result score_one(void *arg, sp_db *db, bus_group *g, const bus_msg *m, char *reason, size_t cap)
{
    score_svc *s = arg;
    out_list out = {.promise = promise_stamp(s)};
    bus_result res = BUS_OK;
    sp_err rv = SP_OK;
    score_state_cache_item_begin(s->states);
    Salespulse__V1__EnrichedInteraction *ei = decoded(s, m); /* owned by the batch */
    if (!ei) {
        snprintf(reason, cap, "undecodable salespulse.v1.EnrichedInteraction (%zu bytes)", m->len);
        s->dead++;
        return BUS_DEAD;
    }
    if (heartbeat(ei)) { /* sp-enrich's watermark heartbeat */
        sp_clock_observe(s->clock, m->partition, ei->upstream_watermark_ms);
        goto done;
    }
    const char *bad = invalid_field(ei);
    if (bad) {
        snprintf(reason, cap, "invalid EnrichedInteraction: %s missing", bad);
        s->dead++;
        res = BUS_DEAD;
        goto done;
    }
    int64_t now = ei->interaction->meta->occurred_at_ms;
    int fresh;
    if (s->prepared) { /* the batch's rows and facts are in (score_batch_prepare) */
        fresh = score_batch_claim(s->batch, ei->meta->event_id);
    } else {
        const char *p[1] = {ei->meta->event_id};
        PGresult *r = NULL;
        if ((rv = sp_db_exec(db,
                 "INSERT INTO processed_events (consumer, event_id) VALUES ('sp-score', $1) ON CONFLICT DO "
                 "NOTHING RETURNING 1",
                 1, p, &r))
            != SP_OK)
            goto dberr;
        fresh = PQntuples(r) == 1;
        PQclear(r);
    }
    /* how far this partition has delivered: sp-enrich's watermark when it
     * published (its output partitions are not in event-time order), else
     * the event's own time */
    sp_clock_observe(s->clock, m->partition, ei->upstream_watermark_ms > 0 ? ei->upstream_watermark_ms : now);
    if (!fresh) { /* applied and its signals delivered before that commit */
        s->duplicates++;
        goto done;
    }
    s->events++;
    const Salespulse__V1__EnrichedInteraction *one[1] = {ei};
    if (!s->prepared && (rv = score_batch_record(db, s->cal, one, 1)) != SP_OK) goto dberr;
    struct eval_arg ea = {s, db, now, &out};
    if ((rv = score_enriched_each(ei, s->rules, eval_each, &ea)) != SP_OK) goto dberr;
    if (ei->deal_id && *ei->deal_id && (rv = health_note(s, ei->deal_id, now)) != SP_OK) goto dberr;
    /* outputs only once every database step of the item succeeded */
    if (outs_send(s, g, &out) != SP_OK) res = BUS_RETRY;
    goto done;
dberr:
    if (rv == SP_EDBDOWN) {
        res = BUS_RETRY;
    } else {
        snprintf(reason, cap, "score %s: %s", ei->meta->event_id,
            rv == SP_EDB ? sp_db_errmsg(db) : sp_strerror(rv));
        s->dead++;
        res = BUS_DEAD;
    }
done:
    if (res == BUS_DEAD) score_state_cache_item_undo(s->states); /* as its savepoint is */
    outs_clear(&out);
    return res;
}

/* No boundary swept yet: the boundary just before the earliest
 * interaction, after which the first sweep starts (score_svc_sweep) and
 * from which an event judges unswept boundaries (evaluate), into
 * s->sweep_origin_ms (left as it was when there is no interaction). SP_OK,
 * or the database error. */
static sp_err sweep_origin(score_svc *s, sp_db *db)
{
    PGresult *r = NULL;
    sp_err rv = sp_db_exec(db, "SELECT score_ms(min(occurred_at)) FROM interactions", 0, NULL, &r);
    if (rv != SP_OK) return rv;
    if (PQntuples(r) && !PQgetisnull(r, 0, 0)) {
        int64_t first = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        if (first > 0) s->sweep_origin_ms = (first - 1) / s->sweep_every_ms * s->sweep_every_ms;
    }
    PQclear(r);
    return SP_OK;
}

/* Runs every boundary the clock has passed, however many: events must not
 * be evaluated far ahead of the sweeps (a sweep leaves alone a state an
 * event evaluated after its boundary, so a lagging sweep loses episodes). */
static void sweep_catch_up(score_svc *s, sp_db *db)
{
    for (;;) {
        int ran = 0;
        if (score_svc_sweep(s, db, &ran) != SP_OK || ran < SCORE_SWEEP_MAX_STEPS) return;
    }
}

/* The caches, empty, for a new transaction. */
static sp_err states_ready(score_svc *s)
{
    score_memo_reset(s->memo);
    if (!s->memo && score_memo_new(&s->memo) != SP_OK) return SP_ENOMEM;
    if (!s->states) return score_state_cache_new(&s->states);
    score_state_cache_reset(s->states);
    return SP_OK;
}

/* score_enriched_each's callback in prefetch: the facts evaluate would
 * read for this state, as far as the state as it stands tells (an earlier
 * event of the batch may change it: what was not foreseen is read when
 * asked for). */
static sp_err prefetch_each(void *arg, score_kind kind, const char *subject, const char *variant, int clears)
{
    struct eval_arg *a = arg;
    score_svc *s = a->s;
    score_state st;
    int64_t last_ms = 0;
    score_eval ev;
    int known = score_state_cache_get(s->states, kind, subject, variant, &st, &last_ms);
    int64_t b = boundary_unjudged(s, kind, a->now, known ? last_ms : 0);
    /* errors are the memo's "asked for" (SP_EAGAIN); a real one comes
     * again in the evaluation itself */
    if (b > 0)
        (void)score_facts_eval_cached(a->db, s->memo, s->rules, s->cal, kind, subject, variant, b, &ev);
    if (!(clears && known && !st.active))
        (void)score_facts_eval_cached(a->db, s->memo, s->rules, s->cal, kind, subject, variant, a->now, &ev);
    return SP_OK;
}

#define PREFETCH_ROUNDS 4 /* a query needing an earlier one's result: ctx, facts, facts after facts */

/* Dry runs dry(s, db, arg) with the memo collecting and runs what it
 * queued, one pipeline a round, until a round queues nothing (at most
 * PREFETCH_ROUNDS). SP_OK, or score_memo_run's error. */
static sp_err prefetch_rounds(score_svc *s, sp_db *db, void (*dry)(score_svc *, sp_db *, void *), void *arg)
{
    sp_err rv = SP_OK;
    score_memo_collect(s->memo, 1);
    for (int round = 0; rv == SP_OK && round < PREFETCH_ROUNDS; round++) {
        dry(s, db, arg);
        if (!score_memo_pending(s->memo)) break;
        s->prefetched += score_memo_pending(s->memo);
        s->prefetch_rounds++;
        rv = score_memo_run(s->memo, db);
    }
    score_memo_collect(s->memo, 0);
    return rv;
}

/* prefetch's dry run: every evaluation of the batch's fresh events. */
struct events_dry {
    Salespulse__V1__EnrichedInteraction **eis;
    size_t n;
};

static void events_dry(score_svc *s, sp_db *db, void *arg)
{
    struct events_dry *d = arg;
    for (size_t i = 0; i < d->n; i++) {
        struct eval_arg a = {s, db, d->eis[i]->interaction->meta->occurred_at_ms, NULL};
        (void)score_enriched_each(d->eis[i], s->rules, prefetch_each, &a);
    }
}

/* Reads the facts the fresh events of the batch will evaluate into the
 * memo, a pipeline per round instead of a round trip per query (memo.h).
 * Under a savepoint: a failing query leaves the transaction usable and the
 * evaluations read for themselves (and meet the error there, item by
 * item). SP_OK, or SP_EDBDOWN / SP_ENOMEM (the batch is retried). */
static sp_err prefetch(score_svc *s, sp_db *db, Salespulse__V1__EnrichedInteraction *const *all, size_t n)
{
    Salespulse__V1__EnrichedInteraction **eis = calloc(n ? n : 1, sizeof *eis);
    size_t k = 0;
    if (!eis) return SP_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        Salespulse__V1__EnrichedInteraction *ei = all[i];
        if (ei && !invalid_field(ei) && score_batch_fresh(s->batch, ei->meta->event_id)) eis[k++] = ei;
    }
    struct events_dry d = {eis, k};
    sp_err rv = k ? sp_db_exec(db, "SAVEPOINT prefetch", 0, NULL, NULL) : SP_OK;
    if (k && rv == SP_OK) rv = prefetch_rounds(s, db, events_dry, &d);
    if (k && rv == SP_EDB) { /* a query failed: back to before it, without the memo's rest */
        sp_warn("prefetch: %s", sp_db_errmsg(db));
        rv = sp_db_exec(db, "ROLLBACK TO SAVEPOINT prefetch", 0, NULL, NULL);
    }
    if (k && rv == SP_OK) rv = sp_db_exec(db, "RELEASE SAVEPOINT prefetch", 0, NULL, NULL);
    free(eis);
    return rv;
}

/* A pass begins: an empty state cache; the optimistic pass (no savepoints)
 * then records and reads what the whole batch needs up front. */
static int states_begin(void *arg, sp_db *db, const bus_msg *msgs, size_t n, int savepoints)
{
    score_svc *s = arg;
    s->prepared = s->memo_live = 0;
    sp_err rv = states_ready(s);
    if (rv != SP_OK || savepoints) return rv;
    if (!s->batch && (rv = score_batch_new(&s->batch)) != SP_OK) return rv;
    /* the transaction's messages, decoded (apply_msgs) */
    assert(msgs == s->cur_msgs && n == s->n_cur);
    Salespulse__V1__EnrichedInteraction **eis = calloc(n ? n : 1, sizeof *eis);
    if (!eis) return SP_ENOMEM;
    for (size_t k = 0; k < n; k++)
        eis[k] = s->dec[s->cur_idx ? s->cur_idx[k] : k].ei;
    if ((rv = score_batch_prepare(s->batch, db, s->rules, s->cal, s->states, eis, n)) != SP_OK) {
        sp_warn("batch prepare: %s: %s", sp_strerror(rv), sp_db_errmsg(db));
        free(eis);
        return rv;
    }
    s->prepared = s->memo_live = 1;
    if ((rv = prefetch(s, db, eis, n)) != SP_OK)
        sp_warn("prefetch: %s: %s", sp_strerror(rv), sp_db_errmsg(db));
    free(eis);
    return rv;
}

/* Writes the batch's states back before the commit; then the sweeps of
 * the boundaries right after its stretch (apply_ordered's tail), which so
 * share its commit. */
static int states_flush(void *arg, sp_db *db)
{
    score_svc *s = arg;
    sp_err rv = score_state_cache_flush(s->states, db);
    if (rv != SP_OK || !s->n_tail) return rv;
    return sweeps_in_tx(s, db, s->tail, s->n_tail, &s->tail_done, &s->tail_ran);
}

/* One transaction over msgs (sp_tx_batch with the optimistic prepare), then
 * the caches emptied and the health notes kept or dropped as it committed.
 * msgs[k] is batch[idx[k]] (idx NULL: msgs is the batch). */
static void apply_msgs(score_svc *s, sp_db *db, const bus_msg *batch, const bus_msg *msgs, const size_t *idx,
    size_t n, bus_result *res, char (*reasons)[BUS_REASON_LEN])
{
    /* signals carry deterministic ids: the optimistic pass is safe */
    static const sp_tx_hooks hooks = {states_begin, states_flush, 1};
    int64_t t0 = sp_mono_us(), sw0 = s->busy_us[SCORE_BUSY_SWEEPS];
    for (size_t k = 0; k < n; k++)
        (void)decoded_at(s, batch, idx ? idx[k] : k);
    s->cur_msgs = msgs, s->cur_idx = idx, s->n_cur = n;
    sp_tx_batch_hooks(db, msgs, n, res, reasons, score_one, &hooks, s);
    s->cur_msgs = NULL, s->cur_idx = NULL, s->n_cur = 0;
    busy_add(s, SCORE_BUSY_EVENTS, t0, s->busy_us[SCORE_BUSY_SWEEPS] - sw0); /* less the tail sweeps */
    score_state_cache_reset(s->states);
    score_batch_reset(s->batch);
    score_memo_reset(s->memo); /* its results are big: not kept past the transaction */
    s->prepared = s->memo_live = 0;
    if (n && res[0] != BUS_RETRY)
        s->n_health_kept = s->n_health; /* committed */
    else
        health_truncate(s, s->n_health_kept);
}

/* The event time of an EnrichedInteraction message; 0 for anything else
 * (a heartbeat, an undecodable or invalid message: handled at once). A
 * held event's promise counts for its partition's time like an applied
 * one's: it is no later than the event, and the sweeps stop before every
 * held event. */
static int64_t msg_time(score_svc *s, const bus_msg *msgs, size_t i, int64_t *promise)
{
    Salespulse__V1__EnrichedInteraction *ei = decoded_at(s, msgs, i);
    int64_t t = ei && !invalid_field(ei) ? ei->interaction->meta->occurred_at_ms : 0;
    *promise = 0;
    if (t > 0 || (ei && heartbeat(ei))) { /* an event or a heartbeat */
        *promise = ei->upstream_watermark_ms > 0 ? ei->upstream_watermark_ms : t;
        sp_clock_observe(s->clock, msgs[i].partition, *promise);
    }
    return t;
}

struct timed {
    int64_t t;
    size_t i;
    int64_t promise; /* what its partition's time may count from it */
};

/* apply_ordered's work area for one batch. */
struct ordered {
    const bus_msg *msgs;
    struct timed *o; /* the batch in time order */
    bus_msg *sub;
    size_t *idx; /* sub[k] is msgs[idx[k]] */
    bus_result *res, *sres;
    char (*reasons)[BUS_REASON_LEN], (*sreasons)[BUS_REASON_LEN];
};

/* Applies o[from..to) in one transaction; their results into res. 0, or -1
 * when the transaction is to be retried (nothing of it was kept). */
static int apply_range(score_svc *s, sp_db *db, struct ordered *w, size_t from, size_t to)
{
    for (size_t k = from; k < to; k++) {
        w->sub[k - from] = w->msgs[w->o[k].i];
        w->idx[k - from] = w->o[k].i;
    }
    apply_msgs(s, db, w->msgs, w->sub, w->idx, to - from, w->sres, w->sreasons);
    if (w->sres[0] == BUS_RETRY) return -1;
    for (size_t k = from; k < to; k++) {
        w->res[w->o[k].i] = w->sres[k - from];
        memcpy(w->reasons[w->o[k].i], w->sreasons[k - from], BUS_REASON_LEN);
    }
    return 0;
}

static int timed_cmp(const void *a, const void *b)
{
    const struct timed *x = a, *y = b;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* The upstream lag reader lives only while the input looks stopped: its
 * Kafka handle (threads, buffers) is not kept through normal running. */
static void drop_upstream_lag(score_svc *s)
{
    bus_lag_destroy(s->upstream_lag);
    s->upstream_lag = NULL;
}

/* Held events are applied at once, without waiting for the sweeps, when
 * the input has stopped: nothing new for hold_flush_ms of wall time, and
 * sp-enrich has nothing left to read (its group's lag; unknown = wait). A
 * stalled upstream (sp-enrich restarting) shows lag and is waited for. */
static int hold_flush_due(score_svc *s)
{
    int64_t wall = sp_wall_ms(), now = sp_clock_now_ms(s->clock);
    if (now != s->hold_seen_ms) { /* time still moves (new input sets hold_seen_ms to -1) */
        s->hold_seen_ms = now;
        s->hold_since_wall_ms = wall;
        drop_upstream_lag(s);
        return 0;
    }
    if (wall - s->hold_since_wall_ms < (s->hold_flush_ms > 0 ? s->hold_flush_ms : 3000)) return 0;
    if (s->upstream_group && *s->upstream_group) {
        int64_t lag = -1;
        char err[256];
        /* one connection for the checks of one stop (they repeat while the input shows lag) */
        if (s->upstream_lag == NULL
            && bus_lag_new(s->upstream_bootstrap, s->upstream_group, s->upstream_topic, &s->upstream_lag, err,
                   sizeof err)
                != SP_OK) {
            sp_debug("cannot read %s's lag: %s", s->upstream_group, err); /* as if it lagged: wait */
            return 0;
        }
        if (bus_lag_read(s->upstream_lag, 10000, &lag, err, sizeof err) != SP_OK || lag != 0) return 0;
    }
    drop_upstream_lag(s);
    return 1;
}

/* Event clock: the batch in event-time order with the sweeps between its
 * events. Events no unswept boundary precedes are applied (in time order,
 * one transaction per stretch between two boundaries); each boundary the
 * watermark has passed is swept once every event before it is applied;
 * events after the first boundary the watermark has not passed are held
 * (BUS_DEFER) and come again with the next batch. So what a sweep judges
 * never depends on how partitions were fetched: a crash that makes
 * sp-enrich publish one partition's backlog days ahead of another's no
 * longer lets an early event judge a boundary before the events that
 * precede it have arrived. Returns 0 when the batch cannot be ordered (no
 * sweep origin yet): the caller applies it as it comes. */
static int apply_ordered(
    score_svc *s, sp_db *db, const bus_msg *msgs, size_t n, bus_result *res, char (*reasons)[BUS_REASON_LEN])
{
    int64_t every = s->sweep_every_ms;
    int64_t done = s->sweep_done_ms > 0 ? s->sweep_done_ms : s->sweep_origin_ms;
    s->hold_min_ms = 0;
    if (every <= 0 || done <= 0) return 0;
    struct ordered w = {.msgs = msgs, .res = res, .reasons = reasons};
    w.o = malloc(n * sizeof *w.o);
    w.sub = malloc(n * sizeof *w.sub);
    w.idx = malloc(n * sizeof *w.idx);
    w.sres = malloc(n * sizeof *w.sres);
    w.sreasons = malloc(n * BUS_REASON_LEN);
    if (!w.o || !w.sub || !w.idx || !w.sres || !w.sreasons) {
        for (size_t i = 0; i < n; i++)
            res[i] = BUS_RETRY;
        goto out;
    }
    struct timed *o = w.o;
    for (size_t i = 0; i < n; i++) {
        o[i].i = i;
        if (msgs[i].held && msgs[i].note && msgs[i].note[0] > 0) /* decoded (and observed) when first seen */
            o[i].t = msgs[i].note[0], o[i].promise = msgs[i].note[1];
        else
            o[i].t = msg_time(s, msgs, i, &o[i].promise);
        if (!msgs[i].held) s->hold_seen_ms = -1; /* new input: the stop countdown starts over */
    }
    qsort(o, n, sizeof *o, timed_cmp);
    int64_t wm = sp_clock_now_ms(s->clock); /* this batch's times count once it is done */
    size_t pos = 0, cap = s->hold_max > 0 ? s->hold_max : 2000;
    int failed = 0, flushed = 0;
    int64_t bs[SCORE_SWEEP_MAX_STEPS];
    for (;;) {
        size_t end = pos, nb = 0;
        while (end < n && (flushed || o[end].t <= done + every))
            end++;
        /* the boundaries the watermark passed after the stretch, up to the
         * next event: swept in its transaction (or in one of their own) */
        for (int64_t b = done + every; !flushed && b <= wm && nb < SCORE_SWEEP_MAX_STEPS; b += every) {
            if (nb && end < n && o[end].t <= b) break;
            bs[nb++] = b;
        }
        if (end > pos) {
            /* tail_done is set only when the flush runs the tail: a value
             * left by a pass that did not commit must not count */
            s->tail = bs, s->n_tail = nb, s->tail_done = 0, s->tail_ran = 0;
            failed = apply_range(s, db, &w, pos, end);
            s->n_tail = 0;
            if (failed) break;
            sweeps_done(s, s->tail_done, s->tail_ran);
            pos = end;
        } else if (nb && sweeps_run(s, db, bs, nb, NULL) != SP_OK) {
            break;
        }
        if (nb && s->sweep_done_ms < bs[nb - 1]) break; /* another instance sweeps: wait for it */
        if (nb) done = bs[nb - 1];
        if (pos == n || flushed) break;
        if (nb) continue;
        /* the watermark has not passed the next boundary */
        if (n - pos > cap) {
            /* more than the consumer keeps: the earliest go now, judging the
             * boundary before them themselves (a catch-up far apart in time) */
            if ((failed = apply_range(s, db, &w, pos, n - cap)) != 0) break;
            s->applied_ahead += n - cap - pos;
            sp_counter_add(s->m_ahead, (double)(n - cap - pos), "too_many_held");
            pos = n - cap;
        }
        /* the input has stopped: what is held goes in time order */
        if (!(flushed = hold_flush_due(s))) break;
        sp_info("input stopped: %zu held event(s) applied ahead of the sweeps", n - pos);
        s->applied_ahead += n - pos;
        sp_counter_add(s->m_ahead, (double)(n - pos), "input_stopped");
    }
    /* after a failure all that is not done is retried; else it is held */
    sp_gauge_set(s->m_held, failed ? 0.0 : (double)(n - pos));
    sp_clock_held(s->clock, -1, 0);
    for (size_t k = pos; k < n; k++) {
        res[o[k].i] = failed ? BUS_RETRY : BUS_DEFER;
        /* the sweeps after this batch stop before every event not applied,
         * held or to be retried: a stretch rolled back (a deadlock, a
         * delivery timeout) must not be judged without */
        if (o[k].t > 0 && (s->hold_min_ms == 0 || o[k].t < s->hold_min_ms)) s->hold_min_ms = o[k].t;
        if (failed) continue;
        if (msgs[o[k].i].note) msgs[o[k].i].note[0] = o[k].t, msgs[o[k].i].note[1] = o[k].promise;
        sp_clock_held(s->clock, msgs[o[k].i].partition, o[k].promise);
    }
out:
    free(w.o);
    free(w.sub);
    free(w.idx);
    free(w.sres);
    free(w.sreasons);
    return 1;
}

/* Event clock: whether this instance still holds the lock that lets one
 * instance apply events (event_lock.h). Once another took it (after a lost
 * session), this one stops: SIGTERM to itself, a clean shutdown that
 * leaves the batch uncommitted for the new holder. */
static int writer_still(score_svc *s)
{
    if (!s->event_lock || score_event_lock_held(s->event_lock)) return 1;
    if (!s->writer_lost) sp_error("the event-clock lock was taken by another sp-score: stopping");
    s->writer_lost = 1;
    raise(SIGTERM);
    return 0;
}

void score_svc_batch(
    void *arg, sp_db *db, const bus_msg *msgs, size_t n, bus_result *res, char (*reasons)[BUS_REASON_LEN])
{
    score_svc *s = arg;
    if (!writer_still(s)) {
        for (size_t i = 0; i < n; i++)
            res[i] = BUS_RETRY;
        return;
    }
    score_svc_reload(s);
    health_truncate(s, s->n_health_kept); /* notes of a batch that did not commit */
    decoded_free(s);
    if (n && !(s->dec = calloc(n, sizeof *s->dec))) {
        for (size_t i = 0; i < n; i++)
            res[i] = BUS_RETRY;
        return;
    }
    s->n_dec = n;
    if (s->sweep_done_ms <= 0) { /* after a start: how far the sweeps got (0 again on failure) */
        int64_t last = 0;
        if (sweeps_last(db, &last) == SP_OK) s->sweep_done_ms = last;
    }
    /* event (or manual) clock, no sweep yet: a failed read is retried next batch */
    if (s->sweep_done_ms <= 0 && s->sweep_origin_ms <= 0 && s->sweep_every_ms > 0
        && sp_clock_kind_of(s->clock) != SP_CLOCK_WALL)
        sweep_origin(s, db);
    if (sp_clock_kind_of(s->clock) != SP_CLOCK_EVENT || !apply_ordered(s, db, msgs, n, res, reasons)) {
        sweep_catch_up(s, db);
        apply_msgs(s, db, msgs, msgs, NULL, n, res, reasons);
    }
    decoded_free(s);
    health_flush(s, db, 0);
    score_svc_sweep(s, db, NULL);
    rollups_flush(s, db);
    health_refresh(s, db);
    promise_send(s, 0); /* behind the batch's and the sweeps' signals */
}

void score_svc_idle(void *arg, sp_db *db)
{
    score_svc *s = arg;
    if (!writer_still(s)) return;
    score_svc_reload(s);
    health_flush(s, db, 0); /* the last notes once due, also when the input stops */
    score_svc_sweep(s, db, NULL);
    rollups_flush(s, db);
    health_refresh(s, db);
    promise_send(s, 1);
}

void score_svc_reload(score_svc *s)
{
    if (!s->reload || !*s->reload) return;
    *s->reload = 0;
    score_rules *fresh = NULL;
    char err[512];
    if (score_rules_load(s->rules_path, &fresh, err, sizeof err) != SP_OK) {
        sp_warn("rules not reloaded, the running rules stay: %s", err);
        return;
    }
    score_rules_destroy(s->rules);
    s->rules = fresh;
    s->first_visit_stale = 1;
    sp_info("rules reloaded from %s", s->rules_path);
}

/* --- sweeps ------------------------------------------------------------------------ */

/* Parameters of every candidate query: $1 previous boundary ms, $2 the
 * boundary T ms, $3 the kind, then optional $4, $5. Each returns
 * (subject_id, variant). Active states of the kind with a pending clear are
 * always re-checked. */
#define WIN(col, x)                                                                                          \
    col " > score_ts($1::bigint - (" x " * 86400000)::bigint) AND " col " <= score_ts($2::bigint - (" x      \
        " * 86400000)::bigint)"
#define PENDING                                                                                              \
    " UNION SELECT subject_id, variant FROM signal_state WHERE kind = $3 AND active AND "                    \
    "clear_pending_since_ms > 0"
#define ACTIVE " UNION SELECT subject_id, variant FROM signal_state WHERE kind = $3 AND active"

/* clang-format off */
/* One clause a line: with the macros inside, the formatter stacked the
 * literals into a column of fragments. */
/* OFFSET 0 keeps each NOT EXISTS a per-candidate index probe: as an anti
 * join the generic plan hashed every interaction of the last 30 days (12,000
 * rows, 6.5 ms) for the few dozen candidates of a boundary. */
static const char *const SQL_STALE =
    "SELECT DISTINCT i.customer_id, '' FROM interactions i "
    "WHERE i.customer_id IS NOT NULL AND i.channel <> 'tracking' "
    "AND " WIN("i.occurred_at", "$4::float8") " "
    "AND NOT EXISTS (SELECT 1 FROM interactions j WHERE j.customer_id = i.customer_id "
    "AND j.channel <> 'tracking' AND j.occurred_at > score_ts($2::bigint - ($4::float8 * 86400000)::bigint) "
    "AND j.occurred_at <= score_ts($2::bigint) OFFSET 0) "
    /* created then, never touched */
    "UNION SELECT c.id, '' FROM customers c WHERE c.merged_into IS NULL "
    "AND " WIN("c.created_at", "$4::float8") " "
    "AND NOT EXISTS (SELECT 1 FROM interactions j WHERE j.customer_id = c.id AND j.channel <> 'tracking' "
    "AND j.occurred_at <= score_ts($2::bigint) OFFSET 0) "
    /* the CRM import's last touch crossed the line, and nothing since */
    "UNION SELECT c.id, '' FROM customers c WHERE c.merged_into IS NULL "
    "AND " WIN("c.imported_last_interaction_at", "$4::float8") " "
    "AND NOT EXISTS (SELECT 1 FROM interactions j WHERE j.customer_id = c.id AND j.channel <> 'tracking' "
    "AND j.occurred_at > score_ts($2::bigint - ($4::float8 * 86400000)::bigint) "
    "AND j.occurred_at <= score_ts($2::bigint) OFFSET 0)" PENDING;
/* a deal's update that has a later one by T crossed nothing (OFFSET 0 as
 * in SQL_STALE); an active state is evaluated anyway (ACTIVE) */
static const char *const SQL_STATUS =
    "SELECT DISTINCT d.owner_rep_id, '' FROM interactions i JOIN deals d ON d.id = i.deal_id "
    "WHERE i.deal_id IS NOT NULL AND i.channel IN ('note','activity','crm') AND d.owner_rep_id IS NOT NULL "
    "AND " WIN("i.occurred_at", "$4::float8") " "
    "AND NOT EXISTS (SELECT 1 FROM interactions j WHERE j.deal_id = i.deal_id "
    "AND j.channel IN ('note','activity','crm') "
    "AND j.occurred_at > score_ts($2::bigint - ($4::float8 * 86400000)::bigint) "
    "AND j.occurred_at <= score_ts($2::bigint) OFFSET 0) "
    "UNION SELECT owner_rep_id, '' FROM deals WHERE owner_rep_id IS NOT NULL "
    "AND " WIN("created_at", "$4::float8") " "
    "UNION SELECT owner_rep_id, '' FROM deals WHERE owner_rep_id IS NOT NULL "
    "AND " WIN("imported_last_status_update_at", "$4::float8")
    ACTIVE; /* a rep's update may clear it */
/* an inbound message answered by T (the rep's outbound on the deal or to
 * its customer at or after it, as score_load_unanswered reads it) cannot
 * be unanswered: such candidates are only evaluated when the state is
 * active (an answer without the deal's id clears it here) */
#define STATE_ACTIVE(subject)                                                                            \
    "EXISTS (SELECT 1 FROM signal_state z WHERE z.kind = $3 AND z.subject_type = 'deal' "                \
    "AND z.subject_id = " subject " AND z.variant = '' AND z.active)"
static const char *const SQL_UNANSWERED =
    "SELECT DISTINCT i.deal_id, '' FROM interactions i "
    "WHERE i.deal_id IS NOT NULL AND i.customer_side AND i.direction = 'inbound' AND i.channel <> 'tracking' "
    "AND ((" WIN("i.occurred_at", "$4::float8") ") OR (" WIN("i.occurred_at", "$5::float8") ")) "
    "AND (NOT EXISTS (SELECT 1 FROM interactions o JOIN deals d ON d.id = i.deal_id "
    "WHERE (o.deal_id = i.deal_id OR o.customer_id = d.customer_id) AND o.direction = 'outbound' "
    "AND o.channel <> 'tracking' AND o.occurred_at >= i.occurred_at "
    "AND o.occurred_at <= score_ts($2::bigint)) "
    "OR " STATE_ACTIVE("i.deal_id") ")" PENDING;
/* a deal not open at T, or outside the rule's stages, cannot raise: such
 * candidates are only evaluated when the state is active ($5: the stages) */
static const char *const SQL_KEY_ROLE =
    "SELECT c.s, '' FROM ("
    "SELECT i.deal_id FROM interactions i WHERE i.deal_id IS NOT NULL AND i.contact_id IS NOT NULL "
    "AND " WIN("i.occurred_at", "$4::float8") " "
    "UNION SELECT id FROM deals WHERE " WIN("created_at", "$4::float8") " "
    "UNION SELECT d.id FROM contacts c JOIN deals d ON d.customer_id = c.customer_id "
    "WHERE " WIN("c.imported_last_contact_at", "$4::float8") " "
    "UNION SELECT deal_id FROM score_role_touches WHERE " WIN("occurred_at", "$4::float8") ") c(s) "
    "WHERE EXISTS (SELECT 1 FROM score_deal_at(c.s, score_ts($2::bigint)) a "
    "WHERE a.is_open AND a.stage = ANY($5::text[])) OR " STATE_ACTIVE("c.s") PENDING;
static const char *const SQL_NO_PROGRESS =
    "SELECT DISTINCT deal_id, '' FROM interactions "
    "WHERE activity_kind IN ('visit','executive_visit') AND deal_id IS NOT NULL "
    "AND " WIN("occurred_at", "$4::float8") PENDING;
/* strict ">" signal: the half-open window [P - x, T - x) */
static const char *const SQL_STALLED =
    "SELECT DISTINCT h.deal_id, '' FROM unnest($4::text[], $5::float8[]) s(stage, x) "
    "JOIN deal_stage_history h ON h.to_stage = s.stage "
    "AND h.at >= score_ts($1::bigint) - s.x * interval '1 day' "
    "AND h.at < score_ts($2::bigint) - s.x * interval '1 day'" PENDING;
static const char *const SQL_RISK =
    "SELECT DISTINCT i.deal_id, x.v FROM interactions i "
    "CROSS JOIN LATERAL jsonb_array_elements_text(score_arr(i.extraction->'risks')) x(v) "
    "WHERE i.deal_id IS NOT NULL AND i.customer_side "
    "AND " WIN("i.occurred_at", "$4::float8") PENDING;
/* clang-format on */
static const char *const SQL_KEY_ACTION
    = "SELECT DISTINCT rep_id, '' FROM score_rep_actions WHERE $1::bigint < $2::bigint AND what = 'planned' "
      "AND day >= $4::int - 7 AND day < $4::int" ACTIVE;
static const char *const SQL_REGIONS = "SELECT id, '' FROM regions WHERE $1::bigint < $2::bigint" ACTIVE;
static const char *const SQL_TEAMS = "SELECT id, '' FROM teams WHERE $1::bigint < $2::bigint" ACTIVE;
static const char *const SQL_ACTIVE
    = "SELECT subject_id, variant FROM signal_state WHERE $1::bigint < $2::bigint AND kind = $3 AND active";
static const char *const SQL_PENDING
    = "SELECT subject_id, variant FROM signal_state WHERE $1::bigint < $2::bigint AND kind = $3 AND active "
      "AND clear_pending_since_ms > 0";

/* --- customer.stale in bulk ----------------------------------------------------------- */

#define STALE_COLS 10
enum {
    SC_ID,
    SC_ACTIVE,
    SC_EPISODE,
    SC_REVISION,
    SC_LEVEL,
    SC_VALUE,
    SC_RAISED,
    SC_CHANGED,
    SC_PENDING,
    SC_HASH
};

/* customer.stale for many customers in four statements: state rows created,
 * facts and locked states read in one query, every evaluation in C, states
 * saved in one UPDATE. Same decisions as evaluate() one by one. */
static sp_err bulk_stale(score_svc *s, sp_db *db, PGresult *cand, int64_t t, out_list *out, size_t *n_eval)
{
    score_sqlbuf ids = {0}, cols[STALE_COLS] = {{0}};
    PGresult *r = NULL;
    sp_err rv = SP_OK;
    score_sqlbuf_puts(&ids, "{");
    for (int i = 0; i < PQntuples(cand); i++)
        if (!PQgetisnull(cand, i, 0) && *PQgetvalue(cand, i, 0))
            score_sqlbuf_elem(&ids, PQgetvalue(cand, i, 0), 0);
    score_sqlbuf_puts(&ids, "}");
    if (ids.oom) return SP_ENOMEM;
    if (ids.n <= 2) goto out;
    char ts[32];
    snprintf(ts, sizeof ts, "%lld", (long long)t);
    const char *p[2] = {ids.p, ts};
    if ((rv = sp_db_exec(db,
             "INSERT INTO signal_state (kind, subject_type, subject_id, variant, updated_at) "
             "SELECT 'customer.stale', 'customer', u, '', score_ts($2::bigint) FROM unnest($1::text[]) u "
             "ON CONFLICT DO NOTHING",
             2, p, NULL))
        != SP_OK)
        goto out;
    /* one row per (customer, touch point), newest touch first; the state locked */
    if ((rv = sp_db_exec(db,
             "SELECT c.id, c.name, c.owner_rep_id, p.team_id, coalesce(p.region_id, t.region_id), "
             "score_ms(c.created_at), "
             "s.active, s.episode, s.revision, s.level, s.last_value, s.raised_at_ms, s.changed_at_ms, "
             "s.clear_pending_since_ms, s.evidence_hash, x.event_id, x.at, x.label, x.quote, "
             "(SELECT core_need FROM customer_cards WHERE customer_id = c.id), "
             "CASE WHEN c.imported_last_interaction_at <= score_ts($2::bigint) "
             "THEN score_ms(c.imported_last_interaction_at) END "
             "FROM unnest($1::text[]) u(id) JOIN customers c ON c.id = u.id "
             "JOIN signal_state s ON s.kind = 'customer.stale' AND s.subject_type = 'customer' AND "
             "s.subject_id = c.id "
             "AND s.variant = '' LEFT JOIN people p ON p.id = c.owner_rep_id LEFT JOIN teams t ON t.id = "
             "p.team_id "
             "LEFT JOIN LATERAL (SELECT i.event_id, score_ms(i.occurred_at) at, coalesce(i.activity_kind, "
             "i.channel) label, "
             "CASE WHEN i.customer_side THEN coalesce(nullif(i.extraction->>'concern',''), "
             "nullif(i.extraction->>'core_need',''), '') ELSE '' END quote FROM interactions i WHERE "
             "i.customer_id = c.id "
             "AND i.channel <> 'tracking' AND i.occurred_at > score_ts($2::bigint - " SCORE_HORIZON_DAYS_S
             " * 86400000::bigint) AND i.occurred_at <= score_ts($2::bigint) "
             "ORDER BY i.occurred_at DESC, i.event_id DESC LIMIT 3) x ON true "
             "ORDER BY c.id, x.at DESC NULLS LAST, x.event_id DESC FOR UPDATE OF s",
             2, p, &r))
        != SP_OK)
        goto out;
    for (int k = 0; k < STALE_COLS; k++)
        score_sqlbuf_puts(&cols[k], "{");
    int rows = PQntuples(r);
    for (int i = 0; i < rows;) {
        int j = i;
        while (j < rows && !strcmp(PQgetvalue(r, j, 0), PQgetvalue(r, i, 0)))
            j++;
        score_touch touches[3];
        score_facts_stale f = {{0}};
        f.ctx = (score_ctx) {.subject_id = PQgetvalue(r, i, 0),
            .subject_name = PQgetvalue(r, i, 1),
            .owner_rep_id = PQgetvalue(r, i, 2),
            .team_id = PQgetvalue(r, i, 3),
            .region_id = PQgetvalue(r, i, 4),
            .customer_id = PQgetvalue(r, i, 0)};
        f.customer_created_ms = strtoll(PQgetvalue(r, i, 5), NULL, 10);
        for (int k = i; k < j && f.n_touches < 3; k++) {
            if (PQgetisnull(r, k, 15)) continue;
            touches[f.n_touches++] = (score_touch) {PQgetvalue(r, k, 15),
                strtoll(PQgetvalue(r, k, 16), NULL, 10), PQgetvalue(r, k, 17), PQgetvalue(r, k, 18)};
        }
        f.touches = touches;
        f.last_interaction_ms = f.n_touches ? touches[0].at_ms : 0;
        int64_t imported = PQgetisnull(r, i, 20) ? 0 : strtoll(PQgetvalue(r, i, 20), NULL, 10);
        if (imported > f.last_interaction_ms) f.last_interaction_ms = imported; /* the import's floor */
        f.likely_need = f.n_touches ? PQgetvalue(r, i, 19) : "";
        score_state st = score_state_from_row(r, i, 6);
        score_eval ev;
        score_transition tr;
        Salespulse__V1__Signal *sig = NULL;
        if ((rv = score_eval_customer_stale(&f, s->rules, t, &ev)) != SP_OK
            || (rv = score_signal_step(&st, &ev, s->rules, t, s->tenant_id, &tr, &sig)) != SP_OK)
            goto out;
        if (sig) {
            rv = outs_push(out, sig);
            score_signal_free(sig);
            if (rv != SP_OK) goto out;
        }
        char v[STALE_COLS][40];
        snprintf(v[SC_ACTIVE], 40, "%s", st.active ? "t" : "f");
        snprintf(v[SC_EPISODE], 40, "%u", st.episode);
        snprintf(v[SC_REVISION], 40, "%u", st.revision);
        snprintf(v[SC_LEVEL], 40, "%d", st.level);
        snprintf(v[SC_VALUE], 40, "%.17g", st.last_value == st.last_value ? st.last_value : 0.0);
        snprintf(v[SC_RAISED], 40, "%lld", (long long)st.raised_at_ms);
        snprintf(v[SC_CHANGED], 40, "%lld", (long long)st.changed_at_ms);
        snprintf(v[SC_PENDING], 40, "%lld", (long long)st.clear_pending_since_ms);
        snprintf(v[SC_HASH], 40, "%lld", (long long)(int64_t)st.evidence_hash);
        score_sqlbuf_elem(&cols[SC_ID], PQgetvalue(r, i, 0), 0);
        for (int k = 1; k < STALE_COLS; k++)
            score_sqlbuf_elem(&cols[k], v[k], 1);
        (*n_eval)++;
        i = j;
    }
    for (int k = 0; k < STALE_COLS; k++) {
        score_sqlbuf_puts(&cols[k], "}");
        if (cols[k].oom) {
            rv = SP_ENOMEM;
            goto out;
        }
    }
    const char *u[STALE_COLS + 1];
    for (int k = 0; k < STALE_COLS; k++)
        u[k] = cols[k].p;
    u[STALE_COLS] = ts;
    rv = sp_db_exec(db,
        "UPDATE signal_state s SET active = v.active, episode = v.episode, revision = v.revision, level = "
        "v.level, "
        "last_value = v.last_value, raised_at_ms = v.raised, changed_at_ms = v.changed, "
        "clear_pending_since_ms = v.pending, evidence_hash = v.hash, updated_at = score_ts($11::bigint) "
        "FROM unnest($1::text[], $2::boolean[], $3::bigint[], $4::bigint[], $5::smallint[], $6::float8[], "
        "$7::bigint[], "
        "$8::bigint[], $9::bigint[], $10::bigint[]) v(id, active, episode, revision, level, last_value, "
        "raised, changed, "
        "pending, hash) WHERE s.kind = 'customer.stale' AND s.subject_type = 'customer' AND s.variant = '' "
        "AND s.subject_id = v.id",
        STALE_COLS + 1, u, NULL);
out:
    PQclear(r);
    free(ids.p);
    for (int k = 0; k < STALE_COLS; k++)
        free(cols[k].p);
    return rv;
}

/* One kind's candidate query of a sweep. */
typedef struct sweep_q {
    score_kind kind;
    char *sql; /* the candidates, less those an event judged after T */
    char ps[32], ts[32], a[256], b[256];
    const char *p[5];
    int np;
} sweep_q;

#define SWEEP_KINDS 16

/* Fills q with kind's candidate query (sql) for the boundary t. */
static sp_err sweep_q_init(
    sweep_q *q, score_kind kind, const char *sql, int64_t prev, int64_t t, const char *a, const char *b)
{
    /* A state an event already evaluated after T is left alone: that later
     * evaluation saw everything up to its own time, and evaluating at T
     * would take the state back in time (events of a partition may run ahead
     * of the watermark that drives the sweeps). */
    static const char pre[] = "SELECT x.s, x.v FROM (",
                      post[] = ") x(s, v) WHERE NOT EXISTS (SELECT 1 FROM "
                               "signal_state z WHERE z.kind = $3 AND z.subject_id = x.s AND z.variant = x.v "
                               "AND z.updated_at > score_ts($2::bigint))";
    size_t len = sizeof pre + strlen(sql) + sizeof post;
    if (!(q->sql = malloc(len))) return SP_ENOMEM;
    snprintf(q->sql, len, "%s%s%s", pre, sql, post);
    q->kind = kind;
    snprintf(q->ps, sizeof q->ps, "%lld", (long long)prev);
    snprintf(q->ts, sizeof q->ts, "%lld", (long long)t);
    snprintf(q->a, sizeof q->a, "%s", a ? a : "");
    snprintf(q->b, sizeof q->b, "%s", b ? b : "");
    q->np = b ? 5 : a ? 4 : 3;
    q->p[0] = q->ps, q->p[1] = q->ts, q->p[2] = score_kind_name(kind), q->p[3] = q->a, q->p[4] = q->b;
    return SP_OK;
}

/* The sweep's candidates (kind, subject, variant) but customer.stale's,
 * in kind order, borrowed from the candidate queries' results. */
typedef struct sweep_cands {
    score_kind *kind;
    const char **subject, **variant;
    size_t n;
} sweep_cands;

static sp_err cands_fill(sweep_cands *c, const sweep_q *q, PGresult *const *r, size_t nq)
{
    size_t n = 0;
    for (size_t k = 0; k < nq; k++)
        if (q[k].kind != SCORE_CUSTOMER_STALE) n += (size_t)PQntuples(r[k]);
    c->n = 0;
    c->kind = malloc((n ? n : 1) * sizeof *c->kind);
    c->subject = malloc((n ? n : 1) * sizeof *c->subject);
    c->variant = malloc((n ? n : 1) * sizeof *c->variant);
    if (!c->kind || !c->subject || !c->variant) return SP_ENOMEM;
    for (size_t k = 0; k < nq; k++) {
        if (q[k].kind == SCORE_CUSTOMER_STALE) continue;
        for (int i = 0; i < PQntuples(r[k]); i++) {
            if (PQgetisnull(r[k], i, 0) || !*PQgetvalue(r[k], i, 0)) continue;
            c->kind[c->n] = q[k].kind;
            c->subject[c->n] = PQgetvalue(r[k], i, 0);
            c->variant[c->n++] = PQgetvalue(r[k], i, 1);
        }
    }
    return SP_OK;
}

static void cands_free(sweep_cands *c)
{
    free(c->kind);
    free(c->subject);
    free(c->variant);
}

struct cands_dry {
    const sweep_cands *c;
    int64_t t;
};

/* sweep_prefetch's dry run: every candidate's evaluation at t. */
static void cands_dry(score_svc *s, sp_db *db, void *arg)
{
    struct cands_dry *d = arg;
    for (size_t i = 0; i < d->c->n; i++) {
        score_eval ev;
        (void)score_facts_eval_cached(
            db, s->memo, s->rules, s->cal, d->c->kind[i], d->c->subject[i], d->c->variant[i], d->t, &ev);
    }
}

/* Reads the facts the candidates' evaluations at t will read into the
 * memo, a pipeline per round (see prefetch). SP_OK, SP_EDB / SP_EDBDOWN
 * (the sweep is rolled back), SP_ENOMEM. */
static sp_err sweep_prefetch(score_svc *s, sp_db *db, const sweep_cands *c, int64_t t)
{
    struct cands_dry d = {c, t};
    return c->n ? prefetch_rounds(s, db, cands_dry, &d) : SP_OK;
}

/* Runs the candidate queries of q[0..nq) in one pipeline and evaluates
 * every candidate at t in kind order: customer.stale in bulk, the others
 * with their states read in one statement and their facts pipelined. */
static sp_err sweep_run(
    score_svc *s, sp_db *db, sweep_q *q, size_t nq, int64_t t, out_list *out, size_t *n_eval)
{
    sp_db_stmt st[SWEEP_KINDS];
    PGresult *r[SWEEP_KINDS];
    sweep_cands c = {0};
    for (size_t k = 0; k < nq; k++)
        st[k] = (sp_db_stmt) {q[k].sql, q[k].np, q[k].p};
    sp_err rv = sp_db_exec_many(db, nq, st, r);
    if (rv != SP_OK) return rv;
    for (size_t k = 0; k < nq && rv == SP_OK; k++)
        if (q[k].kind == SCORE_CUSTOMER_STALE) rv = bulk_stale(s, db, r[k], t, out, n_eval);
    if (rv == SP_OK) rv = cands_fill(&c, q, r, nq);
    if (rv == SP_OK) rv = score_states_load(db, s->states, t, c.n, c.kind, c.subject, c.variant);
    if (rv == SP_OK) rv = sweep_prefetch(s, db, &c, t);
    for (size_t i = 0; i < c.n && rv == SP_OK; i++) {
        rv = evaluate(s, db, c.kind[i], c.subject[i], c.variant[i], t, 0, 0, out);
        (*n_eval)++;
    }
    cands_free(&c);
    for (size_t k = 0; k < nq; k++)
        PQclear(r[k]);
    return rv;
}

/* Every kind's sweep for boundary t (previous boundary prev). */
static sp_err sweep_all(score_svc *s, sp_db *db, int64_t prev, int64_t t, out_list *out, size_t *n_eval)
{
    const score_rules *R = s->rules;
    char a[64], b[64];
    sweep_q q[SWEEP_KINDS];
    size_t nq = 0;
    sp_err rv = SP_OK;
#define RUN(K, SQL, A, B)                                                                                    \
    do {                                                                                                     \
        SP_ASSERT(nq < SWEEP_KINDS);                                                                         \
        if ((rv = sweep_q_init(&q[nq], K, SQL, prev, t, A, B)) != SP_OK) goto out;                           \
        nq++;                                                                                                \
    } while (0)
    snprintf(a, sizeof a, "%.9f", R->stale.days);
    RUN(SCORE_CUSTOMER_STALE, SQL_STALE, a, NULL);
    snprintf(a, sizeof a, "%.9f", R->status.days);
    RUN(SCORE_STATUS_NOT_UPDATED, SQL_STATUS, a, NULL);
    snprintf(a, sizeof a, "%.9f", R->unanswered.l1_hours / 24.0);
    snprintf(b, sizeof b, "%.9f", R->unanswered.l2_hours / 24.0);
    RUN(SCORE_UNANSWERED_INBOUND, SQL_UNANSWERED, a, b);
    snprintf(a, sizeof a, "%.9f", R->key_role.days);
    {
        char stages[128] = "{";
        for (int st = R->key_role.min_stage > 1 ? R->key_role.min_stage : 1; st <= 5; st++) {
            size_t l = strlen(stages);
            snprintf(stages + l, sizeof stages - l, "%s%s", l > 1 ? "," : "", score_stage_name(st));
        }
        strcat(stages, "}");
        RUN(SCORE_KEY_ROLE_UNCOVERED, SQL_KEY_ROLE, a, stages);
    }
    snprintf(a, sizeof a, "%.9f", R->no_progress.days);
    RUN(SCORE_NO_PROGRESS_AFTER_VISIT, SQL_NO_PROGRESS, a, NULL);
    {
        char stages[128] = "{", xs[256] = "{";
        for (int st = 1; st <= 5; st++) {
            double x = R->stalled.norm_days[st] * R->stalled.red_factor;
            if (R->stalled.norm_days[st] <= 0) continue;
            size_t l1 = strlen(stages), l2 = strlen(xs);
            snprintf(stages + l1, sizeof stages - l1, "%s%s", l1 > 1 ? "," : "", score_stage_name(st));
            snprintf(xs + l2, sizeof xs - l2, "%s%.9f", l2 > 1 ? "," : "", x);
        }
        strcat(stages, "}");
        strcat(xs, "}");
        RUN(SCORE_STAGE_STALLED, SQL_STALLED, stages, xs);
    }
    snprintf(a, sizeof a, "%d", SCORE_RISK_OPEN_DAYS);
    RUN(SCORE_RISK_RAISED, SQL_RISK, a, NULL);
    int new_day = score_sweep_crosses(s->cal, prev, t, 0);
    snprintf(a, sizeof a, "%d", (int)calendar_local_day(s->cal, t));
    RUN(SCORE_KEY_ACTION_MISSING, new_day ? SQL_KEY_ACTION : SQL_PENDING, new_day ? a : NULL, NULL);
    /* every region while the judged weeks' leads can still time out (and
     * after new rules); later in the week only a pending clear */
    int fv_all = s->first_visit_stale
        || score_first_visit_due(s->cal, (int64_t)(R->first_visit.timeout_hours * 3600000.0), prev, t);
    RUN(SCORE_FIRST_VISIT_TIMEOUT, fv_all ? SQL_REGIONS : SQL_PENDING, NULL, NULL);
    RUN(SCORE_FUNNEL_COLLAPSE, new_day ? SQL_TEAMS : SQL_PENDING, NULL, NULL);
    /* window signals raised by events clear as their windows slide */
    RUN(SCORE_COMPETITOR_SURGE, SQL_ACTIVE, NULL, NULL);
    RUN(SCORE_INTEREST_WARMING, SQL_ACTIVE, NULL, NULL);
    RUN(SCORE_DEMO_REFUSED_TWICE, SQL_ACTIVE, NULL, NULL);
#undef RUN
    rv = sweep_run(s, db, q, nq, t, out, n_eval);
out:
    for (size_t k = 0; k < nq; k++)
        free(q[k].sql);
    return rv;
}

/* The sweeps of boundaries t[0..n) (ascending) inside the caller's
 * transaction: under the advisory lock (one sweeper at a time across
 * instances; the loser skips), each boundary score_sweeps has not passed,
 * its states written before the next reads them; then score_sweeps moved
 * and every signal delivered. *done: the last boundary done once the
 * transaction commits (here or before; 0 when another instance holds the
 * lock); *ran: boundaries run here. SP_OK, or the database / delivery
 * error (the caller rolls back; nothing counts). */
static sp_err sweeps_in_tx(score_svc *s, sp_db *db, const int64_t *t, size_t n, int64_t *done, size_t *ran)
{
    out_list out = {.promise = promise_stamp(s)};
    bus_group *g = NULL;
    PGresult *r = NULL;
    int64_t b0 = sp_mono_us(), hi = 0, last = 0;
    *done = 0;
    *ran = 0;
    sp_err rv = bus_group_new(&g);
    if (rv != SP_OK) return rv;
    if ((rv = sp_db_exec(db, "SELECT pg_try_advisory_xact_lock(hashtext('sp-score.sweep'))", 0, NULL, &r))
        != SP_OK)
        goto out;
    int locked = PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    if (!locked || (rv = sweeps_last(db, &last)) != SP_OK) goto out;
    for (size_t i = 0; i < n; i++) {
        if (t[i] <= last) continue; /* another instance did it */
        int64_t t0 = sp_wall_ms();
        size_t n_eval = 0, n_out = out.n;
        if ((rv = states_ready(s)) != SP_OK) break;
        s->memo_live = 1; /* a sweep writes no row its fact queries read */
        if ((rv = sweep_all(s, db, t[i] - s->sweep_every_ms, t[i], &out, &n_eval)) != SP_OK
            || (rv = score_state_cache_flush(s->states, db)) != SP_OK)
            break;
        hi = t[i];
        (*ran)++;
        sp_log_event(SP_LOG_DEBUG, "", "sweep %lld: %zu evaluations, %zu signals in %lld ms", (long long)t[i],
            n_eval, out.n - n_out, (long long)(sp_wall_ms() - t0));
    }
    score_state_cache_reset(s->states);
    score_memo_reset(s->memo);
    s->memo_live = 0;
    if (rv != SP_OK) goto out;
    if (hi) {
        char ts[32], err[256];
        snprintf(ts, sizeof ts, "%lld", (long long)hi);
        const char *p[1] = {ts};
        if ((rv = sp_db_exec(db,
                 "INSERT INTO score_sweeps (name, last_ms) VALUES ('all', $1::bigint) "
                 "ON CONFLICT (name) DO UPDATE SET last_ms = EXCLUDED.last_ms",
                 1, p, NULL))
                != SP_OK
            || (rv = outs_send(s, g, &out)) != SP_OK)
            goto out;
        if ((rv = bus_group_wait(g, 15000, err, sizeof err)) != SP_OK) {
            sp_warn("sweep %lld: signals not delivered (%s); will retry", (long long)hi, err);
            goto out;
        }
    }
    *done = hi > last ? hi : last;
out:
    if (rv != SP_OK) *ran = 0, *done = 0;
    outs_clear(&out);
    bus_group_release(g);
    busy_add(s, SCORE_BUSY_SWEEPS, b0, 0);
    return rv;
}

/* What a committed sweeps_in_tx did counts. */
static void sweeps_done(score_svc *s, int64_t done, size_t ran)
{
    if (ran) s->first_visit_stale = 0; /* while stale every sweep judged them all */
    s->boundaries += ran;
    /* a local day began: the open deals' health and the roll-ups at its
     * boundary (a refresh under way starts over there) */
    if (ran && s->sweep_done_ms > 0 && done > s->sweep_done_ms
        && score_sweep_crosses(s->cal, s->sweep_done_ms, done, 0)) {
        s->health_refresh_ms = s->rollups_due_ms = done;
        s->rollups_failed = 0;
        free(s->health_refresh_after);
        s->health_refresh_after = NULL;
    }
    if (done > s->sweep_done_ms) s->sweep_done_ms = done;
}

/* Boundaries t[0..n) (ascending) in one transaction of their own (the
 * sweeps share its commit); *ran (may be NULL): boundaries run. SP_OK, or
 * the error that rolled it back. */
static sp_err sweeps_run(score_svc *s, sp_db *db, const int64_t *t, size_t n, int *ran)
{
    int64_t done = 0;
    size_t k = 0;
    if (ran) *ran = 0;
    sp_err rv = sp_db_begin(db);
    if (rv != SP_OK) return rv;
    if ((rv = sweeps_in_tx(s, db, t, n, &done, &k)) != SP_OK || !k || (rv = sp_db_commit(db)) != SP_OK) {
        sp_db_rollback(db);
        k = 0;
    }
    if (rv == SP_OK) sweeps_done(s, done, k);
    if (ran) *ran = (int)k;
    return rv;
}

sp_err score_svc_sweep_at(score_svc *s, sp_db *db, int64_t t, int *ran)
{
    return sweeps_run(s, db, &t, 1, ran);
}

/* The promise stamped on signals (event clock; score_promise_of), kept as
 * the clock and the sweeps move. Never goes back. */
static void promise_update(score_svc *s, int64_t now)
{
    if (sp_clock_kind_of(s->clock) != SP_CLOCK_EVENT) return;
    int64_t p = score_promise_of(s->sweep_done_ms, now, s->sweep_every_ms);
    if (p > s->promise_ms) s->promise_ms = p;
}

int64_t score_promise_of(int64_t done_ms, int64_t now_ms, int64_t every_ms)
{
    if (every_ms <= 0 || now_ms <= 0) return 0;
    return done_ms >= now_ms / every_ms * every_ms ? now_ms : done_ms > 0 ? done_ms : 0;
}

/* Forwards the promise to every partition of the signals topic when it
 * moved (heartbeat, common/watermark.h); force: ignore the rate limit. */
static void promise_send(score_svc *s, int force)
{
    if (sp_clock_kind_of(s->clock) != SP_CLOCK_EVENT) return;
    sp_watermark_flush(&s->wm, sp_watermark_pack_signal, s->promise_ms, s->producer, s->signals_topic, force);
}

sp_err score_svc_sweep(score_svc *s, sp_db *db, int *ran)
{
    if (ran) *ran = 0;
    int64_t now = sp_clock_now_ms(s->clock);
    if (now > 0 && now < s->next_sweep_ms) promise_update(s, now); /* caught up to now */
    if (now <= 0 || now < s->next_sweep_ms || s->sweep_every_ms <= 0) return SP_OK;
    sp_err rv;
    int64_t last = 0;
    if ((rv = sweeps_last(db, &last)) != SP_OK) return rv;
    if (last > s->sweep_done_ms) s->sweep_done_ms = last; /* another instance's too */
    if (last <= 0 && sp_clock_kind_of(s->clock) == SP_CLOCK_EVENT) {
        /* No boundary done yet: in event time every boundary from the
         * earliest interaction on runs, however far the watermark has
         * moved before this first sweep (a consumer that was down or
         * rebalancing while the replay went on). Running only the latest
         * boundary made a crashed run skip weeks of day-boundary sweeps. */
        s->sweep_origin_ms = 0;
        if ((rv = sweep_origin(s, db)) != SP_OK) return rv;
        last = s->sweep_origin_ms;
    }
    int64_t due[SCORE_SWEEP_MAX_STEPS];
    size_t n = score_sweep_due(last, now, s->sweep_every_ms, due, SCORE_SWEEP_MAX_STEPS), all = n;
    /* held events (apply_ordered) go before the boundaries after them */
    while (s->hold_min_ms > 0 && n > 0 && due[n - 1] >= s->hold_min_ms)
        n--;
    if (n) {
        char parts[512];
        sp_clock_describe(s->clock, parts, sizeof parts);
        sp_debug("sweeps to %lld (%zu due; clock %s)", (long long)now, n, parts);
    }
    if (n && (rv = sweeps_run(s, db, due, n, ran)) != SP_OK) {
        sp_warn("sweeps %lld..%lld: %s: %s", (long long)due[0], (long long)due[n - 1], sp_strerror(rv),
            sp_db_errmsg(db));
        return rv;
    }
    /* all caught up: nothing is due before the next boundary */
    if (n == all && n < SCORE_SWEEP_MAX_STEPS)
        s->next_sweep_ms = (now / s->sweep_every_ms + 1) * s->sweep_every_ms;
    promise_update(s, now);
    return SP_OK;
}

void score_svc_clear(score_svc *s)
{
    health_forget(s);
    free(s->health_deals);
    free(s->health_at);
    s->health_deals = NULL;
    s->health_at = NULL;
    s->cap_health = 0;
    score_rules_destroy(s->rules);
    s->rules = NULL;
    score_state_cache_destroy(s->states);
    s->states = NULL;
    score_batch_destroy(s->batch);
    s->batch = NULL;
    score_memo_destroy(s->memo);
    s->memo = NULL;
    decoded_free(s);
    free(s->health_refresh_after);
    s->health_refresh_after = NULL;
    drop_upstream_lag(s);
}
