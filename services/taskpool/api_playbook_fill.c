/* api_playbook_fill.c - GET /v1/tasks/{key}/playbooks/{id}: a playbook with
 * its slots filled for the task's customer (playbook_fill.h decides what
 * goes where; this gathers the material). Visible to whoever may read the
 * task; the playbook may be any of the tenant's, not only the ones the rule
 * attached (a supervisor may open the competition kit on any task). */
#include "taskpool/api_internal.h"

#include "err.h"
#include "log.h"
#include "taskpool/playbook_fill.h"
#include "utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STAGE_PATH_MAX 64

/* clang-format off */
#define TASK_SQL \
    "SELECT key, kind, subject_type, subject_id, assignee_id, team_id, region_id, customer_id, deal_id, " \
    "evidence FROM tasks WHERE key = $1"
/* customer-facing touches: not tracking, not CRM records, not the rep's own notes */
#define TOUCH_SQL \
    "SELECT event_id, " API_TS("occurred_at") " AS at, channel, direction, rep_id, text FROM interactions " \
    "WHERE customer_id = $1 AND channel IN ('wecom','email','call','meeting','activity') " \
    "ORDER BY occurred_at DESC, event_id DESC LIMIT 20"
#define FACT_SQL \
    "SELECT field, value, level, source_event_id AS source, quote, " API_TS("occurred_at") " AS occurred_at " \
    "FROM facts WHERE customer_id = $1 AND status = 'current' ORDER BY occurred_at DESC, id DESC LIMIT 200"
#define CARD_SQL \
    "SELECT core_need, core_need_level, core_need_source, concern, concern_tag, concern_severity, " \
    "concern_source, " API_TS("concern_at") " AS concern_at FROM customer_cards WHERE customer_id = $1"
/* risk tags heard from the customer's side, each with when it was last heard */
#define RISK_SQL \
    "SELECT x.tag, " API_TS("max(i.occurred_at)") " AS last_at, " \
    "(array_agg(i.event_id ORDER BY i.occurred_at DESC))[1] AS source FROM interactions i " \
    "CROSS JOIN LATERAL jsonb_array_elements_text(CASE WHEN jsonb_typeof(i.extraction->'risks') = 'array' " \
    "THEN i.extraction->'risks' ELSE '[]'::jsonb END) x(tag) " \
    "WHERE i.customer_id = $1 AND i.customer_side GROUP BY x.tag ORDER BY max(i.occurred_at) DESC, x.tag LIMIT 20"
#define CONTACT_SQL \
    "SELECT role, id, name, title, " API_TS("last_contact_at") " AS last_contact_at FROM contacts " \
    "WHERE customer_id = $1 AND role IS NOT NULL ORDER BY role, last_contact_at DESC NULLS LAST, id"
/* the task's deal, else the customer's largest open one: its products and path */
#define DEAL_SQL \
    "SELECT d.id, array_to_string(d.product_ids, ','), array_to_string(ARRAY(" \
    "SELECT h.to_stage FROM deal_stage_history h WHERE h.deal_id = d.id ORDER BY h.at, h.event_id), ',') " \
    "FROM deals d WHERE d.customer_id = $1 AND (d.id = $2 OR ($2 = '' AND d.is_open)) " \
    "ORDER BY (d.id = $2) DESC, d.amount DESC, d.id LIMIT 1"
/* the won deals considered for the nearest won case: the 200 newest */
#define WON_SQL \
    "SELECT d.id, d.name, c.id, c.name, c.industry, array_to_string(d.product_ids, ','), " \
    "array_to_string(ARRAY(SELECT h.to_stage FROM deal_stage_history h WHERE h.deal_id = d.id " \
    "ORDER BY h.at, h.event_id), ','), (extract(epoch FROM d.stage_since) * 1000)::bigint, " \
    "coalesce(c.owner_rep_id, '') " \
    "FROM deals d JOIN customers c ON c.id = d.customer_id " \
    "WHERE d.stage = 'won' AND d.customer_id <> $1 ORDER BY d.stage_since DESC, d.id LIMIT 200"
/* clang-format on */

/* A stage name as salespulse.v1.Stage (0 unknown): the path distance only
 * compares stages, but the numbers are the proto's. */
static int stage_num(const char *s, size_t n)
{
    static const char *const names[]
        = {"lead", "qualified", "demo", "proposal", "negotiation", "won", "lost"};
    for (int i = 0; i < 7; i++)
        if (strlen(names[i]) == n && strncmp(names[i], s, n) == 0) return i + 1;
    return 0;
}

/* The next item of a comma-joined list (array_to_string's) at *csv, *len
 * bytes long, and *csv moved past it; NULL at the end. */
static const char *csv_next(const char **csv, size_t *len)
{
    const char *s = *csv;
    if (s == NULL || *s == '\0') return NULL;
    const char *c = strchr(s, ',');
    *len = c ? (size_t)(c - s) : strlen(s);
    *csv = c ? c + 1 : NULL;
    return s;
}

/* Splits a comma-joined path of stage names into out[cap]; returns n. */
static size_t stage_path(const char *csv, int *out, size_t cap)
{
    size_t n = 0, len;
    const char *tok;
    while (n < cap && (tok = csv_next(&csv, &len)) != NULL)
        out[n++] = stage_num(tok, len);
    return n;
}

/* The first product line of a comma-joined list of product ids. */
static const char *first_line(const json_t *lines, const char *csv, char *buf, size_t cap)
{
    size_t len;
    const char *tok;
    while ((tok = csv_next(&csv, &len)) != NULL) {
        if (len >= cap) continue;
        memcpy(buf, tok, len);
        buf[len] = '\0';
        const char *l = json_string_value(json_object_get(lines, buf));
        if (l) return l;
    }
    return NULL;
}

/* The nearest won case for the customer's deal (playbook_won_case_pick over
 * the newest won deals of other customers) as a slot entry into *out, or
 * NULL. A case whose customer p may not see (another team's: its card
 * would be a 404) is told without ids and names - what was sold, to which
 * industry, along which path - so the lesson travels and the customer does
 * not. Returns the database error. */
static int won_case_of(sp_db *db, const acl_principal *p, const json_t *lines, const json_t *customer,
    PGresult *deal, PGresult *won, json_t **out_case)
{
    *out_case = NULL;
    int n = PQntuples(won);
    if (n == 0) return SP_OK;
    int rv = SP_OK;
    won_case *cases = calloc((size_t)n, sizeof *cases);
    int(*paths)[STAGE_PATH_MAX] = calloc((size_t)n, sizeof *paths);
    char(*line_buf)[128] = calloc((size_t)n, sizeof *line_buf);
    json_t *out = NULL;
    if (cases == NULL || paths == NULL || line_buf == NULL) {
        rv = SP_ENOMEM;
        goto done;
    }
    for (int i = 0; i < n; i++) {
        cases[i].id = PQgetvalue(won, i, 0);
        cases[i].industry = PQgetvalue(won, i, 4);
        cases[i].product_line = first_line(lines, PQgetvalue(won, i, 5), line_buf[i], sizeof line_buf[i]);
        cases[i].stages = paths[i];
        cases[i].n_stages = stage_path(PQgetvalue(won, i, 6), paths[i], STAGE_PATH_MAX);
        cases[i].won_at_ms = strtoll(PQgetvalue(won, i, 7), NULL, 10);
    }
    int qpath[STAGE_PATH_MAX];
    char qline[128];
    won_case_query qy = {.industry = json_string_value(json_object_get(customer, "industry"))};
    if (deal && PQntuples(deal) == 1) {
        qy.product_line = first_line(lines, PQgetvalue(deal, 0, 1), qline, sizeof qline);
        qy.stages = qpath;
        qy.n_stages = stage_path(PQgetvalue(deal, 0, 2), qpath, STAGE_PATH_MAX);
    }
    if (qy.industry && !*qy.industry) qy.industry = NULL;
    size_t best = 0, dist = 0;
    if (playbook_won_case_pick(cases, (size_t)n, &qy, &best, &dist) != SP_OK) goto done;
    const won_case *w = &cases[best];
    int visible = 0;
    if ((rv = api_owner_visible(db, p, PQgetvalue(won, (int)best, 8), &visible)) != SP_OK) goto done;
    int same_ind = qy.industry && w->industry && strcmp(qy.industry, w->industry) == 0;
    int same_line = qy.product_line && w->product_line && strcmp(qy.product_line, w->product_line) == 0;
    json_t *path = json_array();
    const char *csv = PQgetvalue(won, (int)best, 6), *tok;
    size_t len;
    while (path && (tok = csv_next(&csv, &len)) != NULL)
        json_array_append_new(path, json_stringn(tok, len));
    out = json_pack("{s:s,s:s?,s:o,s:I,s:I,s:s,s:b}", "industry", w->industry, "product_line",
        w->product_line, "stage_path", path ? path : json_array(), "won_at_ms", (json_int_t)w->won_at_ms,
        "path_distance", (json_int_t)dist, "matched_on",
        same_ind && same_line ? "industry_and_product_line"
            : same_line       ? "product_line"
                              : "industry",
        "anonymized", !visible);
    if (out && visible) {
        json_object_update_missing_new(out,
            json_pack("{s:s,s:s,s:s,s:s}", "deal_id", w->id, "deal_name", PQgetvalue(won, (int)best, 1),
                "customer_id", PQgetvalue(won, (int)best, 2), "customer_name",
                PQgetvalue(won, (int)best, 3)));
        /* the method's "the latest conversation of the similar won case":
         * its last call on that deal, the first 200 bytes */
        PGresult *call = NULL;
        const char *dp[1] = {w->id};
        if ((rv = sp_db_exec(db,
                 "SELECT event_id, " API_TS(
                     "occurred_at") ", text FROM interactions WHERE deal_id = $1 AND "
                                    "channel = 'call' ORDER BY occurred_at DESC LIMIT 1",
                 1, dp, &call))
            != SP_OK) {
            json_decref(out);
            out = NULL;
            goto done;
        }
        if (PQntuples(call) == 1) {
            const char *text = PQgetvalue(call, 0, 2);
            size_t tlen = strlen(text), cut = sp_utf8_cut(text, tlen, PLAYBOOK_FILL_TEXT_MAX);
            json_object_set_new(out, "last_call",
                json_pack("{s:s,s:s,s:s%,s:b}", "event_id", PQgetvalue(call, 0, 0), "at",
                    PQgetvalue(call, 0, 1), "text", text, cut, "truncated", cut < tlen));
        }
        PQclear(call);
    }
    *out_case = out;
done:
    free(cases);
    free(paths);
    free(line_buf);
    return rv;
}

/* Runs sql with one or two parameters; fills res on failure. skip: the
 * playbook has no slot for it (*r gets an empty result's stand-in: NULL,
 * which PQntuples counts as 0 rows). */
static int run(
    sp_db *db, sp_http_res *res, int skip, const char *sql, int n, const char *const *p, PGresult **r)
{
    if (skip) return SP_OK;
    int rv = sp_db_exec(db, sql, n, p, r);
    if (rv != SP_OK) api_db_fail(res, db, rv);
    return rv;
}

/* 1 when a section of pb is the slot named one of srcs (NULL-terminated). */
static int needs(const playbook *pb, const char *const *srcs)
{
    for (size_t i = 0; i < pb->n_sections; i++)
        for (size_t k = 0; pb->sections[i].source && srcs[k]; k++)
            if (strcmp(pb->sections[i].source, srcs[k]) == 0) return 1;
    return 0;
}

int api_task_playbook(
    taskpool_api *api, const sp_http_req *req, sp_http_res *res, const char *key, const char *pb_id)
{
    acl_principal p;
    api_principal(req, &p);
    const playbook *pb = api->pbset ? playbook_get(api->pbset, pb_id) : NULL;
    if (pb == NULL) return sp_http_res_error(res, 404, "not_found", "no such playbook", NULL);
    sp_db *db = NULL;
    if (api_db_get(api, res, &db) != SP_OK) return SP_EDBDOWN;
    PGresult *t = NULL, *c = NULL, *touch = NULL, *facts = NULL, *card = NULL, *risks = NULL,
             *contacts = NULL, *deal = NULL, *won = NULL;
    json_t *task = NULL, *cust = NULL, *jt = NULL, *jf = NULL, *jcard = NULL, *jr = NULL, *jc = NULL,
           *wcase = NULL, *out = NULL;
    char **products = NULL, *products_csv = NULL;
    size_t n_products = 0;
    const char *kp[1] = {key};
    int rv = run(db, res, 0, TASK_SQL, 1, kp, &t);
    if (rv != SP_OK) goto out;
    if (PQntuples(t) == 1) {
        acl_task at = {PQgetvalue(t, 0, 4), PQgetvalue(t, 0, 5), PQgetvalue(t, 0, 6)};
        if (acl_check(&p, ACL_READ, &at) != ACL_ALLOW) PQclear(t), t = NULL;
    }
    if (t == NULL || PQntuples(t) != 1) { /* unknown and out of scope alike */
        sp_http_res_error(res, 404, "not_found", "no such task", NULL);
        rv = SP_ENOTFOUND;
        goto out;
    }
    task = api_row_json(t, 0);
    /* the customer: the task's (sp-route stamps it for customer and deal
     * subjects); a rep, team or region task has none */
    const char *cid = PQgetvalue(t, 0, 7), *did = PQgetvalue(t, 0, 8);
    if (!*cid && *did) { /* a deal task without the customer stamped: the deal's */
        const char *dq[1] = {did};
        if ((rv = run(db, res, 0, "SELECT customer_id FROM deals WHERE id = $1", 1, dq, &c)) != SP_OK)
            goto out;
        if (PQntuples(c) == 1) cid = PQgetvalue(c, 0, 0);
    }
    if (*cid) {
        PGresult *owner = c; /* cid may point into it */
        c = NULL;
        const char *cp[1] = {cid}, *dp[2] = {cid, did};
        static const char *const s_touch[] = {"last_touch_points", NULL};
        static const char *const s_facts[]
            = {"likely_needs", "competitors_named", "current_promotions", NULL};
        static const char *const s_card[] = {"likely_needs", "open_risks", NULL};
        static const char *const s_risk[] = {"open_risks", NULL};
        static const char *const s_contacts[] = {"key_roles", "decision_chain", NULL};
        static const char *const s_deal[] = {"current_promotions", "nearest_won_case", NULL};
        static const char *const s_won[] = {"nearest_won_case", NULL};
        if ((rv = run(db, res, 0, "SELECT id, name, industry, class FROM customers WHERE id = $1", 1, cp, &c))
                != SP_OK
            || (rv = run(db, res, !needs(pb, s_touch), TOUCH_SQL, 1, cp, &touch)) != SP_OK
            || (rv = run(db, res, !needs(pb, s_facts), FACT_SQL, 1, cp, &facts)) != SP_OK
            || (rv = run(db, res, !needs(pb, s_card), CARD_SQL, 1, cp, &card)) != SP_OK
            || (rv = run(db, res, !needs(pb, s_risk), RISK_SQL, 1, cp, &risks)) != SP_OK
            || (rv = run(db, res, !needs(pb, s_contacts), CONTACT_SQL, 1, cp, &contacts)) != SP_OK
            || (rv = run(db, res, !needs(pb, s_deal), DEAL_SQL, 2, dp, &deal)) != SP_OK
            || (rv = run(db, res, !needs(pb, s_won), WON_SQL, 1, cp, &won)) != SP_OK) {
            PQclear(owner);
            goto out;
        }
        if (PQntuples(c) == 1) {
            cust = api_row_json(c, 0);
            jt = touch ? api_rows_json(touch) : NULL;
            jf = facts ? api_rows_json(facts) : NULL;
            jcard = card && PQntuples(card) == 1 ? api_row_json(card, 0) : NULL;
            jr = risks ? api_rows_json(risks) : NULL;
            jc = contacts ? api_rows_json(contacts) : NULL;
            if (won && (rv = won_case_of(db, &p, api->catalog_lines, cust, deal, won, &wcase)) != SP_OK) {
                PQclear(owner);
                if (rv != SP_ENOMEM) api_db_fail(res, db, rv);
                goto out;
            }
            if (deal && PQntuples(deal) == 1 && *PQgetvalue(deal, 0, 1)
                && (products_csv = strdup(PQgetvalue(deal, 0, 1))) != NULL) {
                size_t k = 1;
                for (const char *s = products_csv; *s; s++)
                    k += *s == ',';
                products = calloc(k, sizeof *products);
                for (char *s = products_csv; products && s;) {
                    char *cm = strchr(s, ',');
                    if (cm) *cm = '\0';
                    products[n_products++] = s;
                    s = cm ? cm + 1 : NULL;
                }
            }
        }
        PQclear(owner);
    }
    api_pool_put(api->cfg.pool, db);
    db = NULL;
    const playbook_promotion
        *promos[PLAYBOOK_PROMOTIONS_MAX]; /* every current one, then the customer's lines */
    size_t n_promos = 0;
    playbook_promotions_current(
        api->pbset, NULL, api_today_ms(api), promos, PLAYBOOK_PROMOTIONS_MAX, &n_promos);
    playbook_material m = {.task = task,
        .customer = cust,
        .touches = jt,
        .card = jcard,
        .facts = jf,
        .risks = jr,
        .contacts = jc,
        .won_case = wcase,
        .lines = api->catalog_lines,
        .deal_products = (const char *const *)products,
        .n_deal_products = n_products,
        .promotions = promos,
        .n_promotions = n_promos};
    if ((rv = playbook_fill(pb, &m, &out)) != SP_OK) goto out;
    json_object_set_new(out, "task_key", json_string(key));
    json_object_set_new(out, "customer_id", cust ? json_incref(json_object_get(cust, "id")) : json_null());
    json_object_set_new(out, "as_of_ms", json_integer(api_today_ms(api)));
    rv = api_reply(res, out);
    out = NULL;
out:
    if (db) api_pool_put(api->cfg.pool, db);
    PQclear(t);
    PQclear(c);
    PQclear(touch);
    PQclear(facts);
    PQclear(card);
    PQclear(risks);
    PQclear(contacts);
    PQclear(deal);
    PQclear(won);
    json_decref(task);
    json_decref(cust);
    json_decref(jt);
    json_decref(jf);
    json_decref(jcard);
    json_decref(jr);
    json_decref(jc);
    json_decref(wcase);
    json_decref(out);
    free(products);
    free(products_csv);
    return rv == SP_ENOTFOUND ? SP_OK : rv;
}
