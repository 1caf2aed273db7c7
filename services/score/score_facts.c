/* score_facts.c - one indexed query set per signal kind, bounded by event time. */
#include "score/score_facts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The customer's own words of a customer-side interaction i. */
#define QUOTE_SQL                                                                                            \
    "CASE WHEN i.customer_side THEN coalesce(nullif(i.extraction->>'concern',''), "                          \
    "nullif(i.extraction->>'core_need',''), '') ELSE '' END"
#define NOW_SQL "score_ts($2::bigint)"
/* The lower bound of open-ended lookups: lets the planner prune the monthly
 * partitions (planning over every partition costs more than the lookup).
 * Every threshold is well inside it; a subject silent for longer than the
 * horizon reads as "nothing within the horizon". */
#define HORIZON(col) col " > score_ts($2::bigint - " SCORE_HORIZON_DAYS_S " * 86400000::bigint) AND "

void score_loaded_release(score_loaded *L)
{
    if (!L) return;
    for (size_t i = 0; i < L->n_res; i++)
        PQclear(L->res[i]);
    L->n_res = 0;
}

/* Runs a query (through L->memo when there is one, which keeps the
 * result) whose result L borrows or keeps: strings in facts borrow from it. */
static sp_err q(sp_db *db, score_loaded *L, const char *sql, int n, const char *const *p, PGresult **out)
{
    if (L->memo) {
        sp_err rv = score_memo_exec(L->memo, db, sql, n, p, out);
        if (rv != SP_EFULL) return rv;
    }
    if (L->n_res >= SCORE_LOAD_RESULTS) return SP_EINVAL;
    sp_err rv = sp_db_exec(db, sql, n, p, out);
    if (rv == SP_OK) L->res[L->n_res++] = *out;
    return rv;
}

static const char *s_at(PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col);
}

static int64_t i_at(PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static int b_at(PGresult *r, int row, int col)
{
    return !PQgetisnull(r, row, col) && PQgetvalue(r, row, col)[0] == 't';
}

static void fmt_ll(char *buf, size_t cap, long long v)
{
    snprintf(buf, cap, "%lld", v);
}

int score_role_parse(const char *name)
{
    static const char *const n[] = {"", "procurement", "technical", "decision_maker", "finance"};
    for (int i = 1; i < 5; i++)
        if (name && !strcmp(name, n[i])) return i;
    return 0;
}

static int stage_parse(const char *s)
{
    for (int i = 1; i <= 7; i++)
        if (s && !strcmp(s, score_stage_name(i))) return i;
    return 0;
}

/* Rows of (interaction id, at ms, label, quote) -> L->touches. */
static size_t touches_fill(score_loaded *L, PGresult *r)
{
    size_t n = 0;
    for (int i = 0; i < PQntuples(r) && n < SCORE_LOAD_MAX; i++, n++) {
        score_touch *t = &L->touches[n];
        t->interaction_id = s_at(r, i, 0);
        t->at_ms = i_at(r, i, 1);
        t->label = PQnfields(r) > 2 ? s_at(r, i, 2) : "";
        t->quote = PQnfields(r) > 3 ? s_at(r, i, 3) : "";
    }
    return n;
}

sp_err score_load_ctx(sp_db *db, score_loaded *L, score_kind kind, const char *subject_id, int64_t now_ms)
{
    static const char *const sql[] = {
        [SCORE_SUBJECT_DEAL]
        = "SELECT a.name, a.owner_rep_id, p.team_id, coalesce(p.region_id, t.region_id), "
          "a.customer_id, $1, a.stage, score_ms(a.stage_since), a.is_open, "
          "score_ms(a.created_at) FROM score_deal_at($1, " NOW_SQL ") a "
          "LEFT JOIN people p ON p.id = a.owner_rep_id LEFT JOIN teams t ON t.id = p.team_id "
          "WHERE a.created_at IS NOT NULL",
        [SCORE_SUBJECT_CUSTOMER]
        = "SELECT c.name, c.owner_rep_id, p.team_id, coalesce(p.region_id, t.region_id), "
          "c.id, NULL, score_ms(c.created_at), $2::bigint, CASE WHEN c.imported_last_interaction_at "
          "<= " NOW_SQL " THEN score_ms(c.imported_last_interaction_at) END FROM customers c "
          "LEFT JOIN people p ON p.id = c.owner_rep_id LEFT JOIN teams t ON t.id = p.team_id "
          "WHERE c.id = $1",
        [SCORE_SUBJECT_REP]
        = "SELECT p.name, p.id, p.team_id, coalesce(p.region_id, t.region_id), NULL, NULL, "
          "$2::bigint FROM people p LEFT JOIN teams t ON t.id = p.team_id WHERE p.id = $1",
        [SCORE_SUBJECT_TEAM]
        = "SELECT name, NULL, id, region_id, NULL, NULL, $2::bigint FROM teams WHERE id = $1",
        [SCORE_SUBJECT_REGION]
        = "SELECT name, NULL, NULL, id, NULL, NULL, $2::bigint FROM regions WHERE id = $1",
    };
    if (!db || !L || !subject_id || !*subject_id || !score_kind_name(kind)) return SP_EINVAL;
    memset(&L->ctx, 0, sizeof L->ctx);
    L->deal_found = L->deal_open = L->stage = 0;
    L->stage_since_ms = L->deal_created_ms = L->customer_created_ms = L->customer_imported_ms = 0;
    L->ctx.subject_id = subject_id;
    score_subject_type st = score_kind_subject(kind);
    char now[32];
    fmt_ll(now, sizeof now, now_ms);
    const char *p[2] = {subject_id, now};
    PGresult *r;
    sp_err rv = q(db, L, sql[st], 2, p, &r);
    if (rv != SP_OK) return rv;
    if (PQntuples(r) < 1) return SP_OK;
    L->ctx.subject_name = s_at(r, 0, 0);
    L->ctx.owner_rep_id = s_at(r, 0, 1);
    L->ctx.team_id = s_at(r, 0, 2);
    L->ctx.region_id = s_at(r, 0, 3);
    L->ctx.customer_id = s_at(r, 0, 4);
    L->ctx.deal_id = s_at(r, 0, 5);
    if (st == SCORE_SUBJECT_DEAL) {
        L->deal_found = 1;
        L->stage = stage_parse(s_at(r, 0, 6));
        L->stage_since_ms = i_at(r, 0, 7);
        L->deal_open = b_at(r, 0, 8);
        L->deal_created_ms = i_at(r, 0, 9);
    } else if (st == SCORE_SUBJECT_CUSTOMER) {
        L->customer_created_ms = i_at(r, 0, 6);
        L->customer_imported_ms = i_at(r, 0, 8);
    }
    return SP_OK;
}

#define CHECK(x)                                                                                             \
    do {                                                                                                     \
        if (!(x)) return SP_EINVAL;                                                                          \
    } while (0)

sp_err score_load_no_progress(
    sp_db *db, score_loaded *L, const char *deal_id, int64_t now_ms, score_facts_no_progress *f)
{
    CHECK(db && L && deal_id && f);
    memset(f, 0, sizeof *f);
    sp_err rv = score_load_ctx(db, L, SCORE_NO_PROGRESS_AFTER_VISIT, deal_id, now_ms);
    if (rv != SP_OK) return rv;
    f->ctx = L->ctx;
    f->deal_open = L->deal_open;
    char now[32];
    fmt_ll(now, sizeof now, now_ms);
    const char *p[2] = {deal_id, now};
    PGresult *r;
    rv = q(db, L,
        "SELECT event_id, score_ms(occurred_at) FROM interactions WHERE deal_id = $1 AND " HORIZON(
            "occurred_at") "occurred_at <= " NOW_SQL " AND activity_kind IN ('visit','executive_visit') "
                           "ORDER BY occurred_at DESC, event_id DESC LIMIT 1",
        2, p, &r);
    if (rv != SP_OK || PQntuples(r) < 1) return rv;
    f->visit.interaction_id = s_at(r, 0, 0);
    f->visit.at_ms = i_at(r, 0, 1);
    f->visit.label = "visit";
    f->visit.quote = "";
    char vis[32];
    fmt_ll(vis, sizeof vis, f->visit.at_ms);
    const char *p3[3] = {deal_id, now, vis};
    /* one row per intent after the visit; advanced repeated on each row (a
     * row with a NULL intent when there is none) */
    rv = q(db, L,
        "SELECT i.event_id, score_ms(i.occurred_at), x.v, " QUOTE_SQL ", adv.a FROM "
        "(SELECT EXISTS (SELECT 1 FROM deal_stage_history WHERE deal_id = $1 AND at > score_ts($3::bigint) "
        "AND at <= " NOW_SQL
        " AND to_stage <> 'lost' AND score_stage_rank(to_stage) > score_stage_rank(from_stage)) a) adv "
        "LEFT JOIN (interactions i CROSS JOIN LATERAL "
        "jsonb_array_elements_text(score_arr(i.extraction->'intents')) x(v)) "
        "ON i.deal_id = $1 AND i.customer_side AND i.occurred_at >= score_ts($3::bigint) AND i.occurred_at "
        "<= " NOW_SQL " ORDER BY i.occurred_at DESC NULLS LAST LIMIT 64",
        3, p3, &r);
    if (rv != SP_OK) return rv;
    size_t n = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        f->stage_advanced = b_at(r, i, 4);
        if (PQgetisnull(r, i, 0) || n >= SCORE_LOAD_MAX) continue;
        L->touches[n] = (score_touch) {s_at(r, i, 0), i_at(r, i, 1), s_at(r, i, 2), s_at(r, i, 3)};
        n++;
    }
    f->intents = L->touches;
    f->n_intents = n;
    return SP_OK;
}

sp_err score_load_key_role(
    sp_db *db, score_loaded *L, const char *deal_id, int64_t now_ms, score_facts_key_role *f)
{
    CHECK(db && L && deal_id && f);
    memset(f, 0, sizeof *f);
    sp_err rv = score_load_ctx(db, L, SCORE_KEY_ROLE_UNCOVERED, deal_id, now_ms);
    if (rv != SP_OK) return rv;
    f->ctx = L->ctx;
    f->deal_open = L->deal_open;
    f->stage = L->stage;
    f->deal_created_ms = L->deal_created_ms;
    if (!L->deal_found) return SP_OK;
    char now[32];
    fmt_ll(now, sizeof now, now_ms);
    const char *p[2] = {deal_id, now};
    PGresult *r;
    rv = q(db, L,
        /* per role the latest of: an interaction with a contact of that role,
         * a role the interaction reached (score_role_touches: roles covered,
         * parties), the CRM import's last contact (no interaction id; never
         * older than the deal, as a role never seen counts from its creation) */
        "SELECT x.role, score_ms(max(x.at)), (array_agg(x.id ORDER BY x.at DESC, x.id DESC))[1], "
        "(array_agg(x.nm ORDER BY x.at DESC, x.id DESC))[1] FROM ("
        /* each contact's latest interaction on the deal first, then its role:
         * one contact lookup per contact, not per interaction (a deal has
         * dozens of interactions with a handful of contacts) */
        "SELECT c.role, l.at, l.id, c.name nm FROM (SELECT i.contact_id, max(i.occurred_at) at, "
        "(array_agg(i.event_id ORDER BY i.occurred_at DESC, i.event_id DESC))[1] id FROM interactions i "
        "WHERE i.deal_id = $1 AND i.contact_id IS NOT NULL AND " HORIZON(
            "i.occurred_at") "i.occurred_at <= " NOW_SQL " GROUP BY i.contact_id) l "
                             /* LIMIT: a lookup by primary key, never a scan of contacts */
                             "JOIN LATERAL (SELECT c.role, c.name FROM contacts c WHERE c.id = l.contact_id "
                             "LIMIT 1) c ON true "
                             "UNION ALL SELECT t.role, t.occurred_at, t.event_id, '' FROM score_role_touches "
                             "t "
                             "WHERE t.deal_id = $1 AND " HORIZON(
                                 "t.occurred_at") "t.occurred_at <= " NOW_SQL " "
                                                  "UNION ALL SELECT c.role, "
                                                  "greatest(c.imported_last_contact_at, d.created_at), '', "
                                                  "c.name "
                                                  "FROM contacts c JOIN deals d ON d.customer_id = "
                                                  "c.customer_id WHERE d.id = $1 "
                                                  "AND c.imported_last_contact_at <= " NOW_SQL
                                                  ") x WHERE x.role IS NOT NULL GROUP BY x.role",
        2, p, &r);
    if (rv != SP_OK) return rv;
    size_t n = 0;
    for (int i = 0; i < PQntuples(r) && n < 8; i++) {
        int role = score_role_parse(s_at(r, i, 0));
        if (!role) continue;
        L->roles[n++] = (score_role_seen) {role, i_at(r, i, 1), s_at(r, i, 2), s_at(r, i, 3)};
    }
    f->roles = L->roles;
    f->n_roles = n;
    return SP_OK;
}

sp_err score_load_surge(sp_db *db, score_loaded *L, const score_rules *rules, const char *deal_id,
    int64_t now_ms, score_facts_surge *f)
{
    CHECK(db && L && rules && deal_id && f);
    memset(f, 0, sizeof *f);
    sp_err rv = score_load_ctx(db, L, SCORE_COMPETITOR_SURGE, deal_id, now_ms);
    if (rv != SP_OK) return rv;
    f->ctx = L->ctx;
    if (!L->ctx.customer_id || !*L->ctx.customer_id) return SP_OK;
    char now[32], win[32];
    fmt_ll(now, sizeof now, now_ms);
    snprintf(win, sizeof win, "%.6f", rules->surge.mentions_window_days);
    const char *p[3] = {L->ctx.customer_id, now, win};
    PGresult *r;
    rv = q(db, L,
        "SELECT count(*) FILTER (WHERE occurred_at >= score_ts($2::bigint - 604800000)), "
        "count(*) FILTER (WHERE occurred_at < score_ts($2::bigint - 604800000)) FROM score_tracking "
        "WHERE customer_id = $1 AND page_class = 'competitor' AND occurred_at >= score_ts($2::bigint - "
        "1209600000) "
        "AND occurred_at <= " NOW_SQL,
        2, p, &r);
    if (rv != SP_OK) return rv;
    f->visits_7d = (double)i_at(r, 0, 0);
    f->visits_prev_7d = (double)i_at(r, 0, 1);
    rv = q(db, L,
        "SELECT i.event_id, score_ms(i.occurred_at), x.v, " QUOTE_SQL " FROM interactions i "
        "CROSS JOIN LATERAL jsonb_array_elements_text(score_arr(i.extraction->'competitors')) x(v) "
        "WHERE i.customer_id = $1 AND i.customer_side AND i.occurred_at > score_ts($2::bigint - ($3::float8 "
        "* 86400000)::bigint) AND i.occurred_at <= " NOW_SQL
        " ORDER BY i.occurred_at DESC, i.event_id LIMIT 64",
        3, p, &r);
    if (rv != SP_OK) return rv;
    f->n_mentions = touches_fill(L, r);
    f->mentions = L->touches;
    return SP_OK;
}

sp_err score_load_demo_refused(sp_db *db, score_loaded *L, const score_rules *rules, const char *deal_id,
    int64_t now_ms, score_facts_demo_refused *f)
{
    CHECK(db && L && rules && deal_id && f);
    memset(f, 0, sizeof *f);
    sp_err rv = score_load_ctx(db, L, SCORE_DEMO_REFUSED_TWICE, deal_id, now_ms);
    if (rv != SP_OK) return rv;
    f->ctx = L->ctx;
    char now[32], win[32];
    fmt_ll(now, sizeof now, now_ms);
    snprintf(win, sizeof win, "%.6f", rules->demo_refused.window_days);
    const char *p[3] = {deal_id, now, win};
    PGresult *r;
    rv = q(db, L,
        "SELECT i.event_id, score_ms(i.occurred_at), 'demo_refused', " QUOTE_SQL ", "
        "score_arr(i.extraction->'intents') ? 'demo_refused', score_arr(i.extraction->'risks') ? "
        "'technical_doubt' "
        "FROM interactions i WHERE i.deal_id = $1 AND i.occurred_at > score_ts($2::bigint - ($3::float8 * "
        "86400000)::bigint) "
        "AND i.occurred_at <= " NOW_SQL
        " AND i.customer_side AND (score_arr(i.extraction->'intents') ? 'demo_refused' "
        "OR score_arr(i.extraction->'risks') ? 'technical_doubt') ORDER BY i.occurred_at DESC, i.event_id "
        "LIMIT 64",
        3, p, &r);
    if (rv != SP_OK) return rv;
    size_t k = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        if (b_at(r, i, 5)) f->technical_doubt = 1;
        if (b_at(r, i, 4) && k < SCORE_LOAD_MAX)
            L->touches[k++] = (score_touch) {s_at(r, i, 0), i_at(r, i, 1), "demo_refused", s_at(r, i, 3)};
    }
    f->refusals = L->touches;
    f->n_refusals = k;
    return SP_OK;
}

sp_err score_load_stalled(
    sp_db *db, score_loaded *L, const char *deal_id, int64_t now_ms, score_facts_stalled *f)
{
    CHECK(db && L && deal_id && f);
    memset(f, 0, sizeof *f);
    sp_err rv = score_load_ctx(db, L, SCORE_STAGE_STALLED, deal_id, now_ms);
    if (rv != SP_OK) return rv;
    f->ctx = L->ctx;
    f->stage = L->stage;
    f->deal_open = L->deal_open;
    f->stage_entered_ms = L->stage_since_ms;
    return SP_OK;
}

sp_err score_load_risk(
    sp_db *db, score_loaded *L, const char *deal_id, const char *tag, int64_t now_ms, score_facts_risk *f)
{
    CHECK(db && L && deal_id && tag && f);
    memset(f, 0, sizeof *f);
    sp_err rv = score_load_ctx(db, L, SCORE_RISK_RAISED, deal_id, now_ms);
    if (rv != SP_OK) return rv;
    f->ctx = L->ctx;
    f->tag = tag;
    char now[32], days[16];
    fmt_ll(now, sizeof now, now_ms);
    snprintf(days, sizeof days, "%d", SCORE_RISK_OPEN_DAYS);
    const char *p[4] = {deal_id, now, tag, days};
    PGresult *r;
    rv = q(db, L,
        "SELECT i.event_id, score_ms(i.occurred_at), $3, " QUOTE_SQL
        " FROM interactions i WHERE i.deal_id = $1 "
        "AND i.customer_side AND i.occurred_at > score_ts($2::bigint - $4::bigint * 86400000) AND "
        "i.occurred_at <= " NOW_SQL
        " AND score_arr(i.extraction->'risks') ? $3 ORDER BY i.occurred_at DESC, i.event_id LIMIT 1",
        4, p, &r);
    if (rv != SP_OK) return rv;
    if (touches_fill(L, r) == 1) {
        f->raised = L->touches[0];
        f->open = L->deal_open;
    }
    return SP_OK;
}

sp_err score_load_unanswered(
    sp_db *db, score_loaded *L, const char *deal_id, int64_t now_ms, score_facts_unanswered *f)
{
    CHECK(db && L && deal_id && f);
    memset(f, 0, sizeof *f);
    sp_err rv = score_load_ctx(db, L, SCORE_UNANSWERED_INBOUND, deal_id, now_ms);
    if (rv != SP_OK) return rv;
    f->ctx = L->ctx;
    char now[32];
    fmt_ll(now, sizeof now, now_ms);
    const char *p[3] = {deal_id, now, L->ctx.customer_id && *L->ctx.customer_id ? L->ctx.customer_id : NULL};
    PGresult *r;
    /* an answer is the rep's outbound message on the deal or to its customer
     * (an e-mail reply carries no deal id and may not get one attached):
     * the later of two index lookups (one with OR read every candidate row) */
    /* clang-format off */
    rv = q(db, L,
        "SELECT i.event_id, score_ms(i.occurred_at), i.channel, " QUOTE_SQL ", count(*) OVER () "
        "FROM interactions i "
        "WHERE i.deal_id = $1 AND i.customer_side AND i.direction = 'inbound' AND i.channel <> 'tracking' "
        "AND " HORIZON("i.occurred_at") "i.occurred_at <= " NOW_SQL
        " AND i.occurred_at > coalesce(greatest((SELECT max(o.occurred_at) "
        "FROM interactions o WHERE o.deal_id = $1 AND o.direction = 'outbound' "
        "AND o.channel <> 'tracking' AND " HORIZON("o.occurred_at") "o.occurred_at <= " NOW_SQL
        "), (SELECT max(o.occurred_at) "
        "FROM interactions o WHERE o.customer_id = $3 AND o.direction = 'outbound' "
        "AND o.channel <> 'tracking' AND " HORIZON("o.occurred_at") "o.occurred_at <= " NOW_SQL
        ")), '-infinity') ORDER BY i.occurred_at, i.event_id LIMIT 1",
        3, p, &r);
    /* clang-format on */
    if (rv != SP_OK) return rv;
    if (touches_fill(L, r) == 1 && L->deal_open) {
        f->oldest = L->touches[0];
        f->n_waiting = (int)i_at(r, 0, 4);
    }
    return SP_OK;
}

sp_err score_load_warming(sp_db *db, score_loaded *L, const score_rules *rules, const char *customer_id,
    int64_t now_ms, score_facts_warming *f)
{
    CHECK(db && L && rules && customer_id && f);
    memset(f, 0, sizeof *f);
    sp_err rv = score_load_ctx(db, L, SCORE_INTEREST_WARMING, customer_id, now_ms);
    if (rv != SP_OK) return rv;
    f->ctx = L->ctx;
    char now[32], win[32];
    fmt_ll(now, sizeof now, now_ms);
    snprintf(win, sizeof win, "%.6f", rules->warming.window_days);
    const char *p[3] = {customer_id, now, win};
    PGresult *r;
    rv = q(db, L,
        "SELECT event_id, score_ms(occurred_at), product_id, '' FROM score_tracking WHERE customer_id = $1 "
        "AND page_class = 'product' AND occurred_at > score_ts($2::bigint - ($3::float8 * 86400000)::bigint) "
        "AND occurred_at <= " NOW_SQL " ORDER BY occurred_at DESC, event_id LIMIT 64",
        3, p, &r);
    if (rv != SP_OK) return rv;
    f->n_visits = touches_fill(L, r);
    f->visits = L->touches;
    return SP_OK;
}

sp_err score_load_stale(
    sp_db *db, score_loaded *L, const char *customer_id, int64_t now_ms, score_facts_stale *f)
{
    CHECK(db && L && customer_id && f);
    memset(f, 0, sizeof *f);
    sp_err rv = score_load_ctx(db, L, SCORE_CUSTOMER_STALE, customer_id, now_ms);
    if (rv != SP_OK) return rv;
    f->ctx = L->ctx;
    f->customer_created_ms = L->customer_created_ms;
    char now[32];
    fmt_ll(now, sizeof now, now_ms);
    const char *p[2] = {customer_id, now};
    PGresult *r;
    /* the card's core need is today's (not bounded by now: text only, never ids) */
    rv = q(db, L,
        "SELECT i.event_id, score_ms(i.occurred_at), coalesce(i.activity_kind, i.channel), " QUOTE_SQL ", "
        "(SELECT core_need FROM customer_cards WHERE customer_id = $1) FROM interactions i WHERE "
        "i.customer_id = $1 "
        "AND i.channel <> 'tracking' AND " HORIZON(
            "i.occurred_at") "i.occurred_at <= " NOW_SQL
                             " ORDER BY i.occurred_at DESC, i.event_id DESC LIMIT 3",
        2, p, &r);
    if (rv != SP_OK) return rv;
    f->n_touches = touches_fill(L, r);
    f->touches = L->touches;
    if (f->n_touches) {
        f->last_interaction_ms = L->touches[0].at_ms;
        f->likely_need = s_at(r, 0, 4);
    }
    if (L->customer_imported_ms > f->last_interaction_ms) f->last_interaction_ms = L->customer_imported_ms;
    return SP_OK;
}

sp_err score_load_key_action(sp_db *db, score_loaded *L, const score_calendar *cal, const char *rep_id,
    int64_t now_ms, score_facts_key_action *f)
{
    CHECK(db && L && cal && rep_id && f);
    memset(f, 0, sizeof *f);
    sp_err rv = score_load_ctx(db, L, SCORE_KEY_ACTION_MISSING, rep_id, now_ms);
    if (rv != SP_OK) return rv;
    f->ctx = L->ctx;
    f->cal = cal;
    int32_t today = calendar_local_day(cal, now_ms);
    char now[32], from[16], to[16];
    fmt_ll(now, sizeof now, now_ms);
    snprintf(from, sizeof from, "%d", (int)(today - 61));
    snprintf(to, sizeof to, "%d", (int)today);
    const char *p[4] = {rep_id, now, from, to};
    PGresult *r;
    rv = q(db, L,
        "SELECT day, count(*) FILTER (WHERE what = 'planned'), count(*) FILTER (WHERE what = 'completed') "
        "FROM score_rep_actions WHERE rep_id = $1 AND day >= $3::int AND day < $4::int AND occurred_at "
        "<= " NOW_SQL " GROUP BY day ORDER BY day DESC",
        4, p, &r);
    if (rv != SP_OK) return rv;
    size_t n = 0;
    for (int i = 0; i < PQntuples(r) && n < SCORE_LOAD_MAX; i++)
        L->days[n++] = (score_day_actions) {(int32_t)i_at(r, i, 0), (int)i_at(r, i, 1), (int)i_at(r, i, 2)};
    f->days = L->days;
    f->n_days = n;
    return SP_OK;
}

sp_err score_load_status(
    sp_db *db, score_loaded *L, const char *rep_id, int64_t now_ms, score_facts_status *f)
{
    CHECK(db && L && rep_id && f);
    memset(f, 0, sizeof *f);
    sp_err rv = score_load_ctx(db, L, SCORE_STATUS_NOT_UPDATED, rep_id, now_ms);
    if (rv != SP_OK) return rv;
    f->ctx = L->ctx;
    char now[32];
    fmt_ll(now, sizeof now, now_ms);
    const char *p[2] = {rep_id, now};
    PGresult *r;
    /* a status update: the rep's note, activity or CRM change on the deal */
    rv = q(db, L,
        "SELECT d.id, d.name, score_ms(greatest(d.created_at, (SELECT max(i.occurred_at) FROM interactions i "
        "WHERE i.deal_id = d.id AND i.channel IN ('note','activity','crm') AND " HORIZON(
            "i.occurred_at") "i.occurred_at <= " NOW_SQL "), "
                             "CASE WHEN d.imported_last_status_update_at <= " NOW_SQL
                             " THEN d.imported_last_status_update_at END)) u "
                             "FROM deals d WHERE d.owner_rep_id = $1 AND d.created_at <= " NOW_SQL
                             /* closed by a change at or before now stays closed at now (the row
                              * holds the newest change): skips most of a rep's deals cheaply */
                             " AND (d.stage NOT IN ('won', 'lost') OR d.stage_since > " NOW_SQL ")"
                             " AND EXISTS (SELECT 1 FROM score_deal_at(d.id, " NOW_SQL
                             ") a WHERE a.is_open) ORDER BY u, d.id LIMIT 64",
        2, p, &r);
    if (rv != SP_OK) return rv;
    size_t n = 0;
    for (int i = 0; i < PQntuples(r) && n < SCORE_LOAD_MAX; i++)
        L->deals[n++] = (score_deal_update) {s_at(r, i, 0), s_at(r, i, 1), i_at(r, i, 2)};
    f->deals = L->deals;
    f->n_deals = n;
    return SP_OK;
}

sp_err score_load_first_visit(sp_db *db, score_loaded *L, const score_rules *rules, const score_calendar *cal,
    const char *region_id, int64_t now_ms, score_facts_first_visit *f)
{
    CHECK(db && L && rules && cal && region_id && f);
    memset(f, 0, sizeof *f);
    sp_err rv = score_load_ctx(db, L, SCORE_FIRST_VISIT_TIMEOUT, region_id, now_ms);
    if (rv != SP_OK) return rv;
    f->ctx = L->ctx;
    f->cal = cal;
    int y, w, nweeks = (int)rules->first_visit.weeks;
    if (nweeks > 7) nweeks = 7;
    calendar_iso_week(calendar_local_day(cal, now_ms), &y, &w);
    int32_t monday = calendar_iso_week_monday(y, w);
    char now[32], from[32], to[32];
    fmt_ll(now, sizeof now, now_ms);
    fmt_ll(from, sizeof from, calendar_day_start_ms(cal, monday - 7 * nweeks));
    fmt_ll(to, sizeof to, calendar_day_start_ms(cal, monday));
    const char *p[4] = {region_id, now, from, to};
    PGresult *r;
    rv = q(db, L,
        /* a new lead is a deal created in the week (the CRM opens every lead
         * as a deal in stage lead); its first response the rep's first
         * outbound message or visit at that customer from then on. A lead
         * imported from the CRM is not judged: the import carries no
         * first-response time, and its history is not in interactions. */
        "SELECT score_ms(d.created_at), score_ms((SELECT min(i.occurred_at) FROM interactions i WHERE "
        "i.customer_id = "
        "d.customer_id AND i.occurred_at >= score_ts($3::bigint) AND i.occurred_at >= d.created_at AND "
        "i.occurred_at <= " NOW_SQL " AND i.channel <> 'tracking' AND (i.direction = 'outbound' OR "
        "i.activity_kind IN ('visit','executive_visit')))) "
        "FROM deals d JOIN people p ON p.id = d.owner_rep_id LEFT JOIN teams t ON t.id = p.team_id "
        "WHERE coalesce(p.region_id, t.region_id) = $1 AND d.imported_last_status_update_at IS NULL "
        "AND d.created_at >= score_ts($3::bigint) "
        "AND d.created_at < score_ts($4::bigint) AND d.created_at <= " NOW_SQL,
        4, p, &r);
    if (rv != SP_OK) return rv;
    size_t n = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        int64_t created = i_at(r, i, 0), first = i_at(r, i, 1);
        int key = calendar_iso_week(calendar_local_day(cal, created), &y, &w);
        size_t k = 0;
        while (k < n && L->weeks[k].iso_week != key)
            k++;
        if (k == n) {
            if (n >= 8) continue;
            L->weeks[n++] = (score_week_leads) {key, 0, 0};
        }
        L->weeks[k].new_leads++;
        if (score_first_visit_timed_out(rules, created, first, now_ms)) L->weeks[k].timed_out++;
    }
    f->weeks = L->weeks;
    f->n_weeks = n;
    return SP_OK;
}

sp_err score_load_funnel(sp_db *db, score_loaded *L, const score_rules *rules, const char *team_id,
    int64_t now_ms, score_facts_funnel *f)
{
    CHECK(db && L && rules && team_id && f);
    memset(f, 0, sizeof *f);
    sp_err rv = score_load_ctx(db, L, SCORE_FUNNEL_COLLAPSE, team_id, now_ms);
    if (rv != SP_OK) return rv;
    f->ctx = L->ctx;
    char now[32], win[32], base[32];
    fmt_ll(now, sizeof now, now_ms);
    snprintf(win, sizeof win, "%.6f", rules->funnel.window_days);
    snprintf(base, sizeof base, "%.6f", rules->funnel.baseline_days);
    const char *p[4] = {team_id, now, win, base};
    PGresult *r;
    rv = q(db, L,
        "WITH h AS (SELECT h.deal_id, h.to_stage, h.at FROM deal_stage_history h JOIN deals d ON d.id = "
        "h.deal_id "
        "JOIN people p ON p.id = d.owner_rep_id WHERE p.team_id = $1 AND h.at > " NOW_SQL
        " - greatest($3::float8, $4::float8) * interval '1 day' AND h.at <= " NOW_SQL "), "
        "s(f, t) AS (VALUES ('lead','qualified'), ('qualified','demo'), ('demo','proposal'), "
        "('proposal','negotiation'), ('negotiation','won')) "
        "SELECT s.f, s.t, count(*) FILTER (WHERE e.at > " NOW_SQL " - $3::float8 * interval '1 day'), "
        "count(*) FILTER (WHERE e.at > " NOW_SQL " - $3::float8 * interval '1 day' AND c.ok), "
        "count(*) FILTER (WHERE e.at > " NOW_SQL " - $4::float8 * interval '1 day'), "
        "count(*) FILTER (WHERE e.at > " NOW_SQL " - $4::float8 * interval '1 day' AND c.ok) "
        /* reached the next stage at or after entering this one: compared with
         * the deal's latest entry into the next stage (a hash join; a
         * correlated look-up into the CTE was quadratic in the window) */
        "FROM s JOIN h e ON e.to_stage = s.f LEFT JOIN (SELECT deal_id, to_stage, max(at) mx FROM h "
        "GROUP BY 1, 2) x ON x.deal_id = e.deal_id AND x.to_stage = s.t "
        "CROSS JOIN LATERAL (SELECT coalesce(x.mx >= e.at, false) ok) c GROUP BY s.f, s.t",
        4, p, &r);
    if (rv != SP_OK) return rv;
    size_t n = 0;
    for (int i = 0; i < PQntuples(r) && n < 8; i++)
        L->steps[n++] = (score_funnel_step) {stage_parse(s_at(r, i, 0)), stage_parse(s_at(r, i, 1)),
            (int)i_at(r, i, 2), (int)i_at(r, i, 3), (int)i_at(r, i, 4), (int)i_at(r, i, 5)};
    f->steps = L->steps;
    f->n_steps = n;
    return SP_OK;
}

sp_err score_facts_eval(sp_db *db, const score_rules *r, const score_calendar *cal, score_kind kind,
    const char *subject_id, const char *variant, int64_t now_ms, score_eval *out)
{
    return score_facts_eval_cached(db, NULL, r, cal, kind, subject_id, variant, now_ms, out);
}

sp_err score_facts_eval_cached(sp_db *db, score_memo *memo, const score_rules *r, const score_calendar *cal,
    score_kind kind, const char *subject_id, const char *variant, int64_t now_ms, score_eval *out)
{
    if (!db || !r || !cal || !subject_id || !out || !score_kind_name(kind)) return SP_EINVAL;
    score_loaded *L = calloc(1, sizeof *L);
    if (!L) return SP_ENOMEM;
    L->memo = memo;
    sp_err rv = SP_EINVAL;
    switch (kind) {
#define CASE(K, T, LOAD, EVAL)                                                                               \
    case K: {                                                                                                \
        T f;                                                                                                 \
        if ((rv = LOAD) == SP_OK) rv = EVAL(&f, r, now_ms, out);                                             \
        break;                                                                                               \
    }
        CASE(SCORE_NO_PROGRESS_AFTER_VISIT, score_facts_no_progress,
            score_load_no_progress(db, L, subject_id, now_ms, &f), score_eval_no_progress_after_visit)
        CASE(SCORE_KEY_ROLE_UNCOVERED, score_facts_key_role,
            score_load_key_role(db, L, subject_id, now_ms, &f), score_eval_key_role_uncovered)
        CASE(SCORE_COMPETITOR_SURGE, score_facts_surge, score_load_surge(db, L, r, subject_id, now_ms, &f),
            score_eval_competitor_surge)
        CASE(SCORE_DEMO_REFUSED_TWICE, score_facts_demo_refused,
            score_load_demo_refused(db, L, r, subject_id, now_ms, &f), score_eval_demo_refused_twice)
        CASE(SCORE_STAGE_STALLED, score_facts_stalled, score_load_stalled(db, L, subject_id, now_ms, &f),
            score_eval_stage_stalled)
        CASE(SCORE_RISK_RAISED, score_facts_risk,
            score_load_risk(db, L, subject_id, variant && *variant ? variant : "", now_ms, &f),
            score_eval_risk_raised)
        CASE(SCORE_UNANSWERED_INBOUND, score_facts_unanswered,
            score_load_unanswered(db, L, subject_id, now_ms, &f), score_eval_unanswered_inbound)
        CASE(SCORE_INTEREST_WARMING, score_facts_warming,
            score_load_warming(db, L, r, subject_id, now_ms, &f), score_eval_interest_warming)
        CASE(SCORE_CUSTOMER_STALE, score_facts_stale, score_load_stale(db, L, subject_id, now_ms, &f),
            score_eval_customer_stale)
        CASE(SCORE_KEY_ACTION_MISSING, score_facts_key_action,
            score_load_key_action(db, L, cal, subject_id, now_ms, &f), score_eval_key_action_missing)
        CASE(SCORE_STATUS_NOT_UPDATED, score_facts_status, score_load_status(db, L, subject_id, now_ms, &f),
            score_eval_status_not_updated)
        CASE(SCORE_FIRST_VISIT_TIMEOUT, score_facts_first_visit,
            score_load_first_visit(db, L, r, cal, subject_id, now_ms, &f), score_eval_first_visit_timeout)
        CASE(SCORE_FUNNEL_COLLAPSE, score_facts_funnel, score_load_funnel(db, L, r, subject_id, now_ms, &f),
            score_eval_funnel_collapse)
#undef CASE
    default: break;
    }
    score_loaded_release(L);
    free(L);
    return rv;
}
