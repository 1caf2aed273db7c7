/* health_db.c - deal health for a batch of deals: one read, one write.
 * Only deals open at the note's time are scored (the roll-ups count open
 * deals only; a closed deal keeps its health as it stood while open; in
 * the demo 1,315 of 5,009 scorings were of closed deals). */
#include "score/health_db.h"

#include "score/health.h"
#include "score/sqlbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T(x)    "score_ts(u.t - " x "::bigint)"
#define NOW     "score_ts(u.t)"
#define D14     "1209600000"
#define D28     "2419200000"
#define D30     "2592000000"
#define HORIZON "17280000000" /* 200 days, as score_facts.h */

/* clang-format off */
/* One clause a line: with the macros inside, the formatter stacked the
 * literals into a column of fragments. */
static const char *const SQL_HEALTH =
    "SELECT u.d, u.t, a.stage, score_ms(a.stage_since), ro.p, ro.te, ro.dm, ro.fi, "
    /* contacts in 30 days */
    "(SELECT count(*) FROM interactions i WHERE i.deal_id = u.d AND i.channel <> 'tracking' "
    "AND i.occurred_at > " T(D30) " AND i.occurred_at <= " NOW "), "
    "pr.n, pr.cs, m.n, score_ms(m.last), "
    /* the first reply after the last competitor mention */
    "(SELECT score_ms(min(o.occurred_at)) FROM interactions o WHERE o.customer_id = a.customer_id "
    "AND o.direction = 'outbound' AND o.channel <> 'tracking' AND o.occurred_at > m.last "
    "AND o.occurred_at <= " NOW "), "
    /* median hours from a customer's message to the next reply, 30 days */
    "(SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM rp.at - i.occurred_at) / 3600) "
    "FROM interactions i CROSS JOIN LATERAL (SELECT min(o.occurred_at) at FROM interactions o "
    "WHERE o.deal_id = u.d AND o.direction = 'outbound' AND o.channel <> 'tracking' "
    "AND o.occurred_at > i.occurred_at AND o.occurred_at <= " NOW ") rp "
    "WHERE i.deal_id = u.d AND i.customer_side AND i.direction = 'inbound' AND i.channel <> 'tracking' "
    "AND i.occurred_at > " T(D30) " AND i.occurred_at <= " NOW " AND rp.at IS NOT NULL), "
    "en.cur + tr.cur, en.prev + tr.prev, dl.next_step <> '', score_ms(dl.next_step_due), "
    "rk.n, score_ms(rk.first), "
    "cf.n + coalesce((cc.core_need <> '')::int + (cc.concern <> '')::int, 0), cf.l1, cf.l2, cf.l3 "
    "FROM unnest($1::text[], $2::bigint[]) u(d, t) "
    "CROSS JOIN LATERAL score_deal_at(u.d, " NOW ") a "
    /* each key role's last interaction */
    "CROSS JOIN LATERAL (SELECT "
    "score_ms(max(i.occurred_at) FILTER (WHERE c.role = 'procurement')) p, "
    "score_ms(max(i.occurred_at) FILTER (WHERE c.role = 'technical')) te, "
    "score_ms(max(i.occurred_at) FILTER (WHERE c.role = 'decision_maker')) dm, "
    "score_ms(max(i.occurred_at) FILTER (WHERE c.role = 'finance')) fi "
    "FROM interactions i JOIN contacts c ON c.id = i.contact_id WHERE i.deal_id = u.d "
    "AND i.occurred_at > " T(HORIZON) " AND i.occurred_at <= " NOW " AND c.role IS NOT NULL) ro "
    /* proposals */
    "CROSS JOIN LATERAL (SELECT count(*) n, coalesce(bool_or(i.quality_passed), false) cs "
    "FROM interactions i WHERE i.deal_id = u.d AND i.activity_kind = 'proposal' "
    "AND i.occurred_at > " T(HORIZON) " AND i.occurred_at <= " NOW ") pr "
    /* competitor mentions, 30 days */
    "CROSS JOIN LATERAL (SELECT count(*) n, max(i.occurred_at) last FROM interactions i "
    "WHERE i.customer_id = a.customer_id AND i.customer_side "
    "AND jsonb_array_length(score_arr(i.extraction->'competitors')) > 0 "
    "AND i.occurred_at > " T(D30) " AND i.occurred_at <= " NOW ") m "
    /* engagement: inbound messages and tracked visits, last 14 days against the 14 before */
    "CROSS JOIN LATERAL (SELECT count(*) FILTER (WHERE i.occurred_at > " T(D14) ") cur, "
    "count(*) FILTER (WHERE i.occurred_at <= " T(D14) ") prev FROM interactions i "
    "WHERE i.customer_id = a.customer_id AND i.customer_side AND i.direction = 'inbound' "
    "AND i.occurred_at > " T(D28) " AND i.occurred_at <= " NOW ") en "
    "CROSS JOIN LATERAL (SELECT count(*) FILTER (WHERE s.occurred_at > " T(D14) ") cur, "
    "count(*) FILTER (WHERE s.occurred_at <= " T(D14) ") prev FROM score_tracking s "
    "WHERE s.customer_id = a.customer_id "
    "AND s.occurred_at > " T(D28) " AND s.occurred_at <= " NOW ") tr "
    /* open risk tags, 30 days */
    "CROSS JOIN LATERAL (SELECT count(DISTINCT x.v) n, min(i.occurred_at) first FROM interactions i "
    "CROSS JOIN LATERAL jsonb_array_elements_text(score_arr(i.extraction->'risks')) x(v) "
    "WHERE i.deal_id = u.d AND i.customer_side "
    "AND i.occurred_at > " T(D30) " AND i.occurred_at <= " NOW ") rk "
    /* the card's facts by credibility level */
    "CROSS JOIN LATERAL (SELECT count(DISTINCT f.field) n, count(*) FILTER (WHERE f.level = 1) l1, "
    "count(*) FILTER (WHERE f.level = 2) l2, count(*) FILTER (WHERE f.level = 3) l3 FROM facts f "
    "WHERE f.customer_id = a.customer_id AND f.status = 'current' "
    "AND f.field IN ('product','budget','delivery_by','competitor') AND f.occurred_at <= " NOW ") cf "
    "LEFT JOIN customer_cards cc ON cc.customer_id = a.customer_id LEFT JOIN deals dl ON dl.id = u.d "
    "WHERE a.created_at IS NOT NULL AND a.is_open";
/* clang-format on */

static int64_t ll(PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static int stage_parse(const char *s)
{
    for (int i = 1; i <= 7; i++)
        if (!strcmp(s, score_stage_name(i))) return i;
    return 0;
}

/* One row of SQL_HEALTH -> facts. */
static void facts_of(PGresult *r, int i, score_health_facts *f, score_role_seen roles[4])
{
    int64_t now = ll(r, i, 1), since = ll(r, i, 3);
    memset(f, 0, sizeof *f);
    f->deal_id = PQgetvalue(r, i, 0);
    f->stage = stage_parse(PQgetvalue(r, i, 2));
    f->days_in_stage = since > 0 ? (double)(now - since) / 86400000.0 : 0;
    for (int k = 0; k < 4; k++)
        if (!PQgetisnull(r, i, 4 + k))
            roles[f->n_roles++] = (score_role_seen) {k + 1, ll(r, i, 4 + k), "", ""};
    f->roles = roles;
    f->contacts_30d = (int)ll(r, i, 8);
    f->proposal_revisions = (int)ll(r, i, 9);
    f->proposal_customer_specific = PQgetvalue(r, i, 10)[0] == 't';
    f->competitor_mentions = (int)ll(r, i, 11);
    int64_t last = ll(r, i, 12), reply = ll(r, i, 13);
    f->competitor_response_hours = last > 0 && reply > 0 ? (double)(reply - last) / 3600000.0 : -1;
    f->competitor_last_mention_ms = last > 0 && reply <= 0 ? last : 0;
    f->median_response_hours = PQgetisnull(r, i, 14) ? -1 : strtod(PQgetvalue(r, i, 14), NULL);
    f->engagement_cur = (int)ll(r, i, 15);
    f->engagement_prev = (int)ll(r, i, 16);
    f->next_step_defined = PQgetvalue(r, i, 17)[0] == 't';
    f->next_step_due_ms = ll(r, i, 18);
    f->open_risks = (int)ll(r, i, 19);
    int64_t first = ll(r, i, 20);
    f->oldest_risk_age_days = f->open_risks > 0 && first > 0 ? (double)(now - first) / 86400000.0 : 0;
    f->card_fields_filled = (int)ll(r, i, 21);
    f->card_fields_total = 6;
    f->card_l1 = (int)ll(r, i, 22);
    f->card_l2 = (int)ll(r, i, 23);
    f->card_l3 = (int)ll(r, i, 24);
}

typedef struct note {
    const char *deal;
    int64_t at;
} note;

/* by deal, then latest first */
static int note_cmp(const void *a, const void *b)
{
    const note *x = a, *y = b;
    int c = strcmp(x->deal, y->deal);
    if (c) return c;
    return x->at > y->at ? -1 : x->at < y->at;
}

sp_err score_health_update_many(sp_db *db, const score_rules *rules, const char *const *deals,
    const int64_t *now_ms, size_t n, size_t *scored)
{
    if (scored) *scored = 0;
    if (!db || !rules || (n && (!deals || !now_ms))) return SP_EINVAL;
    score_sqlbuf ids = {0}, ts = {0}, out[5] = {{0}};
    PGresult *r = NULL;
    sp_err rv = SP_OK;
    score_sqlbuf_puts(&ids, "{");
    score_sqlbuf_puts(&ts, "{");
    size_t kept = 0;
    /* each deal once, at its latest time: sorted by deal, latest first */
    note *order = calloc(n ? n : 1, sizeof *order);
    if (!order) {
        rv = SP_ENOMEM;
        goto done;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (deals[i] && *deals[i]) order[m++] = (note) {deals[i], now_ms[i]};
    qsort(order, m, sizeof *order, note_cmp);
    for (size_t i = 0; i < m; i++) {
        if (i > 0 && !strcmp(order[i].deal, order[i - 1].deal)) continue;
        char num[32];
        snprintf(num, sizeof num, "%lld", (long long)order[i].at);
        score_sqlbuf_elem(&ids, order[i].deal, 0);
        score_sqlbuf_elem(&ts, num, 1);
        kept++;
    }
    free(order);
    score_sqlbuf_puts(&ids, "}");
    score_sqlbuf_puts(&ts, "}");
    if (ids.oom || ts.oom) {
        rv = SP_ENOMEM;
        goto done;
    }
    if (!kept) goto done;
    const char *p[2] = {ids.p, ts.p};
    if ((rv = sp_db_exec(db, SQL_HEALTH, 2, p, &r)) != SP_OK) goto done;
    for (int k = 0; k < 5; k++)
        score_sqlbuf_puts(&out[k], "{");
    for (int i = 0; i < PQntuples(r); i++) {
        score_health_facts f;
        score_role_seen roles[4];
        score_health h;
        char *json = NULL, sc[16];
        facts_of(r, i, &f, roles);
        if ((rv = score_health_eval(&f, rules, ll(r, i, 1), &h)) != SP_OK
            || (rv = score_health_to_json(&h, &json)) != SP_OK)
            goto done;
        snprintf(sc, sizeof sc, "%d", h.score);
        score_sqlbuf_elem(&out[0], PQgetvalue(r, i, 0), 0);
        score_sqlbuf_elem(&out[1], sc, 1);
        score_sqlbuf_elem(&out[2], score_colour_name(h.colour), 0);
        score_sqlbuf_elem(&out[3], json, 0);
        score_sqlbuf_elem(&out[4], PQgetvalue(r, i, 1), 1);
        free(json);
    }
    for (int k = 0; k < 5; k++) {
        score_sqlbuf_puts(&out[k], "}");
        if (out[k].oom) rv = SP_ENOMEM;
    }
    if (rv != SP_OK || PQntuples(r) == 0) goto done;
    const char *q[5] = {out[0].p, out[1].p, out[2].p, out[3].p, out[4].p};
    rv = sp_db_exec(db,
        "INSERT INTO deal_health (deal_id, score, colour, dims, updated_at) SELECT v.d, v.s, v.c, "
        "v.j::jsonb, "
        "score_ts(v.t) FROM unnest($1::text[], $2::smallint[], $3::text[], $4::text[], $5::bigint[]) v(d, s, "
        "c, j, t) "
        "ON CONFLICT (deal_id) DO UPDATE SET score = EXCLUDED.score, colour = EXCLUDED.colour, dims = "
        "EXCLUDED.dims, "
        "updated_at = EXCLUDED.updated_at WHERE deal_health.updated_at <= EXCLUDED.updated_at",
        5, q, NULL);
    if (rv == SP_OK && scored) *scored = (size_t)PQntuples(r);
done:
    PQclear(r);
    score_sqlbuf_free(&ids);
    score_sqlbuf_free(&ts);
    for (int k = 0; k < 5; k++)
        score_sqlbuf_free(&out[k]);
    return rv;
}
