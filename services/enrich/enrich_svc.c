/* enrich_svc.c - sp-enrich's batch handler. */
#include "enrich/enrich_svc.h"

#include "enrich/facts.h"
#include "err.h"
#include "ids.h"
#include "log.h"
#include "utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef Salespulse__V1__Interaction Ix;

static const char *channel_name(int c)
{
    static const char *n[] = {"", "wecom", "email", "call", "meeting", "note", "tracking", "activity", "crm"};
    return c > 0 && c <= 8 ? n[c] : NULL;
}

static const char *direction_name(int d)
{
    static const char *n[] = {"unspecified", "inbound", "outbound", "internal"};
    return d >= 0 && d <= 3 ? n[d] : "unspecified";
}

static const char *identity_kind_name(int k)
{
    static const char *n[] = {NULL, "wecom", "email", "phone", "crm"};
    return k > 0 && k <= 4 ? n[k] : NULL;
}

static const char *activity_name(int k)
{
    static const char *n[]
        = {NULL, "visit", "needs_diagnosis", "proposal", "executive_visit", "demo", "touch"};
    return k > 0 && k <= 6 ? n[k] : NULL;
}

static int utf8_ok(const char *s)
{
    return s == NULL || sp_utf8_valid(s, strlen(s), NULL);
}

int enrich_validate(const Ix *ix, char *why, size_t cap)
{
    if (ix->meta == NULL || ix->meta->event_id == NULL || !*ix->meta->event_id) {
        snprintf(why, cap, "invalid Interaction: meta.event_id missing");
        return SP_EINVAL;
    }
    if (ix->meta->occurred_at_ms <= 0) {
        snprintf(why, cap, "invalid Interaction %s: meta.occurred_at_ms missing", ix->meta->event_id);
        return SP_EINVAL;
    }
    if (channel_name(ix->channel) == NULL) {
        snprintf(
            why, cap, "invalid Interaction %s: channel %d unknown", ix->meta->event_id, (int)ix->channel);
        return SP_EINVAL;
    }
    if (!utf8_ok(ix->text) || !utf8_ok(ix->subject) || !utf8_ok(ix->rep_id)
        || (ix->customer_identity && !utf8_ok(ix->customer_identity->value))) {
        snprintf(why, cap, "invalid Interaction %s: text is not valid UTF-8", ix->meta->event_id);
        return SP_EINVAL;
    }
    /* ids every later service keys by (sp-score holds them in 128-byte
     * fields: a longer one would be cut and merged with another) */
    const char *idv[] = {ix->customer_ref, ix->rep_id, ix->deal_id,
        ix->detail_case == SALESPULSE__V1__INTERACTION__DETAIL_STAGE_CHANGE && ix->stage_change
            ? ix->stage_change->deal_id
            : NULL}; /* detail is a oneof: read only the member set */
    const char *idn[] = {"customer_ref", "rep_id", "deal_id", "stage_change.deal_id"};
    for (size_t i = 0; i < 4; i++) {
        if (!sp_id_fits(idv[i])) {
            snprintf(
                why, cap, "invalid Interaction %s: %s over %d bytes", ix->meta->event_id, idn[i], SP_ID_MAX);
            return SP_EINVAL;
        }
    }
    for (size_t i = 0; i < ix->n_turns; i++) {
        if (!utf8_ok(ix->turns[i]->text)) {
            snprintf(why, cap, "invalid Interaction %s: turns[%zu].text is not valid UTF-8",
                ix->meta->event_id, i);
            return SP_EINVAL;
        }
    }
    return SP_OK;
}

/* Words worth extracting from: which channels and which extraction channel. */
static int extract_channel_of(const Ix *ix, extract_channel *out)
{
    switch (ix->channel) {
    case SALESPULSE__V1__CHANNEL__CHANNEL_WECOM: *out = EXTRACT_CH_WECOM; return 1;
    case SALESPULSE__V1__CHANNEL__CHANNEL_EMAIL: *out = EXTRACT_CH_EMAIL; return 1;
    case SALESPULSE__V1__CHANNEL__CHANNEL_CALL: *out = EXTRACT_CH_CALL; return 1;
    case SALESPULSE__V1__CHANNEL__CHANNEL_MEETING: *out = EXTRACT_CH_MEETING; return 1;
    case SALESPULSE__V1__CHANNEL__CHANNEL_NOTE:
    case SALESPULSE__V1__CHANNEL__CHANNEL_ACTIVITY: *out = EXTRACT_CH_NOTE; return ix->text && *ix->text;
    default: return 0;
    }
}

static const Salespulse__V1__Party *customer_party(const Ix *ix)
{
    for (size_t i = 0; i < ix->n_parties; i++)
        if (ix->parties[i]->customer_side) return ix->parties[i];
    return NULL;
}

static void set_str(json_t *o, const char *k, const char *v)
{
    if (v && *v) json_object_set_new(o, k, json_string(v));
}

static void add_fact(json_t *facts, const char *field, json_t *value, int single, const char *quote)
{
    json_t *f = json_object();
    json_object_set_new(f, "field", json_string(field));
    json_object_set_new(f, "value", value);
    json_object_set_new(f, "single", json_boolean(single));
    if (quote && *quote) json_object_set_new(f, "quote", json_string(quote));
    json_array_append_new(facts, f);
}

/* A call's turns as text: "客户：…" / "销售：…" lines, at most 64 KiB (cut
 * on a code point), or NULL when there is no text in them. */
static json_t *transcript_text(const Ix *ix)
{
    enum { CAP = 65536 };
    char *buf = malloc(CAP + 1);
    size_t n = 0;
    if (buf == NULL) return NULL;
    for (size_t i = 0; i < ix->n_turns && n < CAP; i++) {
        const char *tx = ix->turns[i]->text;
        if (tx == NULL || *tx == '\0') continue;
        int sp = ix->turns[i]->speaker;
        const char *who = sp == SALESPULSE__V1__SPEAKER__SPEAKER_REP ? "销售："
            : sp == SALESPULSE__V1__SPEAKER__SPEAKER_CUSTOMER        ? "客户："
                                                                     : "";
        int w = snprintf(buf + n, CAP + 1 - n, "%s%s%s", n ? "\n" : "", who, tx);
        n = w < 0 ? n : n + (size_t)w > CAP ? CAP : n + (size_t)w;
    }
    json_t *out = n ? json_stringn(buf, sp_utf8_cut(buf, n, CAP)) : NULL;
    free(buf);
    return out;
}

json_t *enrich_doc_build(
    const Ix *ix, const extract_result *er, const char *extraction_json, const char *party_role)
{
    json_t *d = json_object();
    json_object_set_new(d, "event_id", json_string(ix->meta->event_id));
    json_object_set_new(d, "occurred_at_ms", json_integer(ix->meta->occurred_at_ms));
    set_str(d, "source", ix->source);
    set_str(d, "external_id", ix->external_id);
    json_object_set_new(d, "channel", json_string(channel_name(ix->channel)));
    json_object_set_new(d, "direction", json_string(direction_name(ix->direction)));
    set_str(d, "customer_ref", ix->customer_ref);
    if (ix->customer_identity && identity_kind_name(ix->customer_identity->kind)) {
        json_object_set_new(d, "id_kind", json_string(identity_kind_name(ix->customer_identity->kind)));
        set_str(d, "id_value", ix->customer_identity->value);
    }
    set_str(d, "rep_id", ix->rep_id);
    set_str(d, "deal_id", ix->deal_id);
    const Salespulse__V1__Party *p = customer_party(ix);
    if (p) {
        set_str(d, "party_name", p->name);
        set_str(d, "party_title", p->title);
    }
    set_str(d, "party_role", party_role);
    json_object_set_new(d, "customer_side", json_boolean(facts_customer_side(ix)));
    json_object_set_new(d, "level", json_integer(facts_level_of(ix)));
    json_object_set_new(d, "touch", json_boolean(ix->channel != SALESPULSE__V1__CHANNEL__CHANNEL_TRACKING));
    /* a rep's own record of the deal updates its status */
    int rep_update = ix->channel == SALESPULSE__V1__CHANNEL__CHANNEL_NOTE
        || ix->channel == SALESPULSE__V1__CHANNEL__CHANNEL_ACTIVITY
        || ix->channel == SALESPULSE__V1__CHANNEL__CHANNEL_CRM;
    json_object_set_new(d, "rep_update", json_boolean(rep_update));
    /* the text is kept whole up to 64 KiB, cut on a code-point boundary; a
     * call's is its transcript, one "客户：" / "销售：" line per turn, so
     * its touch points read like the others (docs/api/taskpool.md) */
    if (ix->text && *ix->text) {
        size_t n = sp_utf8_cut(ix->text, strlen(ix->text), 65536);
        json_object_set_new(d, "text", json_stringn(ix->text, n));
    } else if (ix->n_turns > 0) {
        json_t *t = transcript_text(ix);
        if (t) json_object_set_new(d, "text", t);
    }
    if (ix->detail_case == SALESPULSE__V1__INTERACTION__DETAIL_ACTIVITY && ix->activity) {
        char why[128];
        json_object_set_new(d, "activity_kind",
            json_string(activity_name(ix->activity->kind) ? activity_name(ix->activity->kind) : ""));
        json_object_set_new(
            d, "quality_passed", json_boolean(facts_activity_quality(ix->activity, why, sizeof why)));
        set_str(d, "next_step", ix->activity->next_step);
        if (ix->activity->next_step_due_ms > 0)
            json_object_set_new(d, "next_step_due_ms", json_integer(ix->activity->next_step_due_ms));
    }
    if (ix->detail_case == SALESPULSE__V1__INTERACTION__DETAIL_STAGE_CHANGE && ix->stage_change
        && facts_stage_name(ix->stage_change->to_stage)) {
        const Salespulse__V1__StageChange *sc = ix->stage_change;
        json_t *s = json_object(), *pids = json_array();
        json_object_set_new(s, "deal_id", json_string(*sc->deal_id ? sc->deal_id : ix->deal_id));
        if (facts_stage_name(sc->from_stage))
            json_object_set_new(s, "from_stage", json_string(facts_stage_name(sc->from_stage)));
        json_object_set_new(s, "to_stage", json_string(facts_stage_name(sc->to_stage)));
        json_object_set_new(s, "amount", json_integer(sc->amount));
        set_str(s, "deal_name", sc->deal_name);
        for (size_t i = 0; i < sc->n_product_ids; i++)
            json_array_append_new(pids, json_string(sc->product_ids[i]));
        json_object_set_new(s, "product_ids", pids);
        json_object_set_new(d, "stage_change", s);
    }
    json_t *facts = json_array();
    if (er) {
        if (extraction_json) {
            json_t *x = json_loads(extraction_json, 0, NULL);
            if (x) json_object_set_new(d, "extraction", x);
        }
        for (size_t i = 0; i < er->n_products; i++)
            add_fact(facts, "product", json_string(er->products[i]), 0, er->core_need);
        for (size_t i = 0; i < er->n_competitors; i++)
            add_fact(facts, "competitor", json_string(er->competitors[i]), 0, er->concern);
        if (er->has_budget) {
            json_t *b = json_object();
            json_object_set_new(b, "min", er->budget.has_min ? json_integer(er->budget.min) : json_null());
            json_object_set_new(b, "max", er->budget.has_max ? json_integer(er->budget.max) : json_null());
            json_object_set_new(
                b, "currency", json_string(er->budget.currency ? er->budget.currency : "CNY"));
            add_fact(facts, "budget", b, 1, NULL);
        }
        if (er->delivery_by[0]) add_fact(facts, "delivery_by", json_string(er->delivery_by), 1, NULL);
        set_str(d, "core_need", er->core_need);
        if (er->concern[0] && er->n_risks > 0) {
            int sev = 0;
            const char *tag = NULL;
            for (size_t i = 0; i < er->n_risks; i++) {
                int s = facts_risk_severity(er->risks[i]);
                if (s > sev) {
                    sev = s;
                    tag = er->risks[i];
                }
            }
            set_str(d, "concern", er->concern);
            set_str(d, "concern_tag", tag);
            json_object_set_new(d, "concern_severity", json_integer(sev ? sev : 1));
        }
    }
    json_object_set_new(d, "facts", facts);
    return d;
}

/* A string field of the apply result, or "". */
static const char *rstr(json_t *r, const char *k)
{
    const char *s = json_string_value(json_object_get(r, k));
    return s ? s : "";
}

/* Builds and queues the EnrichedInteraction. */
static int publish(enrich_svc *s, bus_group *g, Ix *ix, const extract_result *er, json_t *r)
{
    Salespulse__V1__EnrichedInteraction e = SALESPULSE__V1__ENRICHED_INTERACTION__INIT;
    Salespulse__V1__EventMeta meta = SALESPULSE__V1__EVENT_META__INIT;
    Salespulse__V1__Extraction x = SALESPULSE__V1__EXTRACTION__INIT;
    Salespulse__V1__Budget b = SALESPULSE__V1__BUDGET__INIT;
    Salespulse__V1__Role roles[EXTRACT_MAX_ITEMS], croles[1];
    char id[300];
    snprintf(id, sizeof id, "enr:%s", ix->meta->event_id);
    meta.event_id = id;
    meta.occurred_at_ms = ix->meta->occurred_at_ms;
    meta.produced_at_ms = sp_wall_ms();
    meta.producer = "sp-enrich";
    meta.trace_id = ix->meta->trace_id;
    meta.schema_version = 1;
    meta.tenant_id = ix->meta->tenant_id;
    e.meta = &meta;
    e.interaction = ix;
    e.customer_id = (char *)rstr(r, "customer_id");
    e.contact_id = (char *)rstr(r, "contact_id");
    e.deal_id = (char *)rstr(r, "deal_id");
    e.rep_id = *ix->rep_id ? ix->rep_id : (char *)rstr(r, "owner_rep_id");
    e.team_id = (char *)rstr(r, "team_id");
    e.region_id = (char *)rstr(r, "region_id");
    e.customer_side = facts_customer_side(ix);
    e.credibility = (Salespulse__V1__Level)facts_level_of(ix);
    e.deal_stage = (Salespulse__V1__Stage)facts_stage_parse(rstr(r, "deal_stage"));
    e.new_customer = json_is_true(json_object_get(r, "new_customer"));
    e.industry = (char *)rstr(r, "industry");
    e.customer_class = (char *)rstr(r, "class");
    int role = facts_role_parse(rstr(r, "contact_role"));
    if (role) {
        croles[0] = (Salespulse__V1__Role)role;
        e.n_contact_roles = 1;
        e.contact_roles = croles;
    }
    char why[128] = "";
    if (ix->detail_case == SALESPULSE__V1__INTERACTION__DETAIL_ACTIVITY && ix->activity) {
        e.quality_passed = facts_activity_quality(ix->activity, why, sizeof why);
        e.quality_reason = why;
    }
    if (er) {
        x.n_products = er->n_products;
        x.products = (char **)er->products;
        x.n_competitors = er->n_competitors;
        x.competitors = (char **)er->competitors;
        if (er->has_budget) {
            b.has_min = er->budget.has_min;
            b.min = er->budget.min;
            b.has_max = er->budget.has_max;
            b.max = er->budget.max;
            b.currency = (char *)(er->budget.currency ? er->budget.currency : "CNY");
            x.budget = &b;
        }
        x.delivery_by = (char *)er->delivery_by;
        x.n_risks = er->n_risks;
        x.risks = (char **)er->risks;
        for (size_t i = 0; i < er->n_roles; i++)
            roles[i] = (Salespulse__V1__Role)facts_role_parse(er->roles[i]);
        x.n_roles = er->n_roles;
        x.roles = roles;
        x.n_intents = er->n_intents;
        x.intents = (char **)er->intents;
        x.core_need = (char *)er->core_need;
        x.concern = (char *)er->concern;
        e.extraction = &x;
    }
    e.upstream_watermark_ms = s->promise_ms;
    size_t len = salespulse__v1__enriched_interaction__get_packed_size(&e);
    uint8_t *buf = malloc(len ? len : 1);
    if (buf == NULL) return SP_ENOMEM;
    salespulse__v1__enriched_interaction__pack(&e, buf);
    const char *key = *e.customer_id ? e.customer_id : ix->meta->event_id;
    int rv = bus_group_send(g, s->producer, s->out_topic, key, strlen(key), buf, len);
    free(buf);
    return rv;
}

/* Decodes and validates message m into *ixp (NULL when undecodable); a
 * message that cannot be applied is marked BUS_DEAD with the reason. Adds
 * the valid message's customer keys to locks (enrich_lock) unless it is
 * NULL. Returns 1 when the message is valid. */
static int item_decode(
    enrich_svc *s, const bus_msg *m, Ix **ixp, bus_result *res, char *reason, json_t *locks)
{
    *res = BUS_OK;
    Ix *ix = *ixp = salespulse__v1__interaction__unpack(NULL, m->len, m->payload);
    if (ix == NULL) {
        snprintf(reason, BUS_REASON_LEN, "undecodable salespulse.v1.Interaction (%zu bytes)", m->len);
        *res = BUS_DEAD;
        return 0;
    }
    if (enrich_validate(ix, reason, BUS_REASON_LEN) != SP_OK) {
        *res = BUS_DEAD;
        return 0;
    }
    sp_clock_observe(s->clock, m->partition, ix->meta->occurred_at_ms);
    if (locks == NULL) return 1;
    json_t *k = json_object();
    set_str(k, "r", ix->customer_ref);
    if (ix->customer_identity && identity_kind_name(ix->customer_identity->kind)) {
        json_object_set_new(k, "k", json_string(identity_kind_name(ix->customer_identity->kind)));
        set_str(k, "v", ix->customer_identity->value);
    }
    if (ix->detail_case == SALESPULSE__V1__INTERACTION__DETAIL_STAGE_CHANGE && ix->stage_change)
        set_str(k, "d", ix->stage_change->deal_id);
    else
        set_str(k, "d", ix->deal_id);
    json_array_append_new(locks, k);
    return 1;
}

/* Extracts decoded message i and appends its enrich_apply document to
 * docs. */
static void item_extract(enrich_svc *s, size_t i, Ix *ix, extract_result *er, int *has_words, json_t *docs)
{
    extract_channel ch;
    json_t *xobj = NULL;
    const char *party_role = NULL;
    if (extract_channel_of(ix, &ch)) {
        extract_turn turns[EXTRACT_MAX_TURNS];
        size_t nt = ix->n_turns < EXTRACT_MAX_TURNS ? ix->n_turns : EXTRACT_MAX_TURNS;
        for (size_t k = 0; k < nt; k++) {
            int sp = ix->turns[k]->speaker;
            turns[k].speaker = sp == SALESPULSE__V1__SPEAKER__SPEAKER_REP ? EXTRACT_SIDE_REP
                : sp == SALESPULSE__V1__SPEAKER__SPEAKER_CUSTOMER         ? EXTRACT_SIDE_CUSTOMER
                                                                          : EXTRACT_SIDE_UNKNOWN;
            turns[k].text = ix->turns[k]->text;
        }
        extract_input in = {.channel = ch,
            .occurred_at_ms = ix->meta->occurred_at_ms,
            .tz = s->tz,
            .text = ix->text ? ix->text : "",
            .text_len = (size_t)-1,
            .turns = nt ? turns : NULL,
            .n_turns = nt};
        /* a message we sent is the rep's words (session 11: "有任何想了解的随时找我"
         * was the card's core need of 1,138 of 2,000 demo customers) */
        if (ix->direction == SALESPULSE__V1__DIRECTION__DIRECTION_OUTBOUND
            && (ch == EXTRACT_CH_WECOM || ch == EXTRACT_CH_EMAIL))
            in.text_side = EXTRACT_SIDE_REP;
        if (extract_run(s->engine, &in, er) == SP_OK) {
            *has_words = 1;
            extract_result_json(er, NULL, 0, &xobj);
        }
    }
    /* a contact's role, learned from the title in the message */
    const Salespulse__V1__Party *p = customer_party(ix);
    extract_result tr;
    if (p && p->title && *p->title) {
        extract_input tin = {.channel = EXTRACT_CH_NOTE,
            .occurred_at_ms = ix->meta->occurred_at_ms,
            .tz = s->tz,
            .text = p->title,
            .text_len = (size_t)-1};
        if (extract_run(s->engine, &tin, &tr) == SP_OK && tr.n_roles > 0) party_role = tr.roles[0];
    }
    /* the extraction object goes in as built (enrich_doc_build would parse
     * its text form) */
    json_t *doc = enrich_doc_build(ix, *has_words ? er : NULL, NULL, party_role);
    if (xobj) json_object_set_new(doc, "extraction", xobj);
    json_object_set_new(doc, "i", json_integer((json_int_t)i));
    json_array_append_new(docs, doc);
}

/* Sends sql with one parameter, a JSON text (enrich_lock's keys or a
 * chunk's documents for enrich_apply_batch), without waiting for the
 * answer. SP_OK, or SP_EDB (logged) when it could not be sent. */
static int batch_send(PGconn *conn, const char *sql, const char *text)
{
    const char *p[1] = {text};
    if (text && PQsendQueryParams(conn, sql, 1, NULL, p, NULL, NULL, 0)) return SP_OK;
    sp_warn("%s: %s", sql, text ? PQerrorMessage(conn) : "out of memory");
    return SP_EDB;
}

/* Waits for the answer to the chunk in flight, reading the connection dry,
 * and hands it over in *answer (caller frees with PQclear), so the next
 * chunk can be sent before the answer is parsed. SP_OK, or SP_EDB (logged)
 * when the statement failed. */
static int apply_wait(PGconn *conn, PGresult **answer)
{
    PGresult *r;
    *answer = NULL;
    while ((r = PQgetResult(conn)) != NULL) {
        if (*answer == NULL && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
            *answer = r;
            continue;
        }
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
            sp_warn("enrich batch statement: %s", PQresultErrorMessage(r));
        PQclear(r);
    }
    return *answer ? SP_OK : SP_EDB;
}

/* Appends the items of one chunk's answer (want documents) to results.
 * SP_OK, or SP_EDB when the answer is not what was asked. */
static int apply_answer(const PGresult *answer, size_t want, json_t *results)
{
    json_t *a = json_loads(PQgetvalue(answer, 0, 0), 0, NULL);
    int ok = json_is_array(a) && json_array_size(a) == want && json_array_extend(results, a) == 0;
    json_decref(a);
    if (!ok) sp_warn("enrich_apply_batch: %zu answers expected, got something else", want);
    return ok ? SP_OK : SP_EDB;
}

void enrich_svc_batch(
    void *arg, sp_db *db, const bus_msg *msgs, size_t n, bus_result *res, char (*reasons)[BUS_REASON_LEN])
{
    enrich_svc *s = arg;
    Ix **ix = calloc(n, sizeof *ix);
    extract_result *er = calloc(n, sizeof *er);
    int *has_words = calloc(n, sizeof *has_words);
    json_t *results = json_array(), *docs = NULL;
    bus_group *g = NULL;
    PGconn *conn = NULL;
    PGresult *held = NULL; /* the last chunk's answer, parsed once the next chunk is sent */
    char *text = NULL;
    /* enrich_lock's keys: none gathered when the lock is skipped (see below) */
    int lock = !(s->sole && s->sole(s->sole_arg));
    json_t *locks = lock ? json_array() : NULL;
    size_t valid = 0, inflight = 0, held_n = 0;
    int locking = 0; /* enrich_lock in flight */
    size_t chunk = s->chunk ? s->chunk : ENRICH_CHUNK;
    for (size_t i = 0; i < n; i++)
        res[i] = BUS_OK;
    if (!ix || !er || !has_words || !results || (lock && !locks)) goto retry;
    /* the promise on this batch's outputs: its events are all at or after
     * the watermark before it observes them (each input partition is in
     * event-time order); after observing, a later event of one partition
     * could lift it past an earlier one of another */
    s->promise_ms = sp_watermark_of(s->clock);
    for (size_t i = 0; i < n; i++)
        valid += (size_t)item_decode(s, &msgs[i], &ix[i], &res[i], reasons[i], locks);
    /* The batch's customers first, locked in one order (0017 enrich_lock),
     * so instances sharing customers wait instead of deadlocking; the first
     * chunk is extracted meanwhile. The only instance has no one to wait
     * for (at 2,000/s the lock was ~19% of the statements' time and 7% of
     * the backend's CPU); a member that joins takes partitions only after
     * this batch (a rebalance revokes between batches), and a deadlock
     * with one that outlived its session is retried as any other. */
    if (valid > 0) {
        if (sp_db_begin(db) != SP_OK) goto retry;
        conn = sp_db_conn(db);
    }
    if (valid > 0 && lock) {
        text = json_dumps(locks, JSON_COMPACT);
        if (batch_send(conn, "SELECT enrich_lock($1::jsonb)", text) != SP_OK) goto retry_rollback;
        locking = 1;
        s->locked++;
        free(text);
        text = NULL;
    }
    /* One transaction, one round trip per chunk: while PostgreSQL applies
     * a chunk, the next one is extracted. The first chunks are small and
     * double up to `chunk`, so PostgreSQL starts early: extraction takes
     * less than half of PostgreSQL's time per item, so each chunk is ready
     * before the one in flight is done. */
    size_t step = chunk >= 8 ? chunk / 8 : chunk;
    for (size_t from = 0, to; from < n; from = to, step = step * 2 < chunk ? step * 2 : chunk) {
        to = from + step < n ? from + step : n;
        if ((docs = json_array()) == NULL) goto retry_rollback;
        for (size_t i = from; i < to; i++)
            if (res[i] == BUS_OK) item_extract(s, i, ix[i], &er[i], &has_words[i], docs);
        size_t nd = json_array_size(docs);
        if (nd > 0 && (text = json_dumps(docs, JSON_COMPACT)) == NULL) goto retry_rollback;
        json_decref(docs);
        docs = NULL;
        if (locking) {
            locking = 0;
            if (apply_wait(conn, &held) != SP_OK) goto retry_rollback;
            PQclear(held);
            held = NULL;
        }
        if (inflight) {
            held_n = inflight;
            inflight = 0;
            if (apply_wait(conn, &held) != SP_OK) goto retry_rollback;
        }
        if (nd > 0) {
            if (batch_send(conn, "SELECT enrich_apply_batch($1::jsonb)::text", text) != SP_OK)
                goto retry_rollback;
            inflight = nd;
        }
        free(text);
        text = NULL;
        /* PostgreSQL has the next chunk: parse the last one's answer now */
        if (held) {
            int rv = apply_answer(held, held_n, results);
            PQclear(held);
            held = NULL;
            if (rv != SP_OK) goto retry_rollback;
        }
    }
    if (inflight) {
        held_n = inflight;
        inflight = 0;
        int rv = apply_wait(conn, &held);
        if (rv == SP_OK) rv = apply_answer(held, held_n, results);
        PQclear(held);
        held = NULL;
        if (rv != SP_OK) goto retry_rollback;
    }
    if (valid == 0) goto finish;
    if (json_array_size(results) != valid || bus_group_new(&g) != SP_OK) goto retry_rollback;
    /* Commit first, then publish: a consumer of sp.enriched.v1 may read the
     * rows at once. A crash between the two is repaired by the redelivery,
     * which finds the event applied and publishes the same output again. */
    if (sp_db_commit(db) != SP_OK) goto retry_rollback;
    conn = NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (res[i] == BUS_DEAD) continue;
        json_t *one = json_array_get(results, k++);
        const char *err = json_string_value(json_object_get(one, "error"));
        if (err) {
            snprintf(reasons[i], BUS_REASON_LEN, "enrich_apply %s: %s", ix[i]->meta->event_id, err);
            res[i] = BUS_DEAD;
            s->dead++;
            continue;
        }
        if (json_is_true(json_object_get(one, "duplicate")))
            s->duplicates++;
        else
            s->applied++;
        if (publish(s, g, ix[i], has_words[i] ? &er[i] : NULL, one) != SP_OK) goto retry;
    }
    int hb = 0; /* after the outputs: ordered behind them in each partition */
    if (sp_watermark_send(&s->wm, sp_watermark_pack_enriched, sp_watermark_of(s->clock), s->producer, g,
            s->out_topic, 0, &hb)
        != SP_OK)
        sp_warn("watermark heartbeat not sent (next batch tries again)");
    /* nothing more comes in this batch: send now rather than after linger.ms
     * (the producer is this handler's alone) */
    bus_producer_flush(s->producer, 15000);
    char werr[256];
    if (bus_group_wait(g, 15000, werr, sizeof werr) != SP_OK) {
        s->wm.sent_ms = 0; /* the heartbeat may be lost too */
        sp_warn("enriched events not delivered: %s", werr);
        goto retry;
    }
    goto finish;
retry_rollback:
    PQclear(held);
    held = NULL;
    if ((inflight || locking) && apply_wait(conn, &held) == SP_OK) PQclear(held);
    held = NULL;
    if (conn) sp_db_rollback(db);
retry:
    for (size_t i = 0; i < n; i++)
        if (res[i] != BUS_DEAD) res[i] = BUS_RETRY;
finish:
    for (size_t i = 0; ix && i < n; i++)
        if (ix[i]) salespulse__v1__interaction__free_unpacked(ix[i], NULL);
    free(ix);
    free(er);
    free(has_words);
    json_decref(docs);
    json_decref(results);
    free(text);
    PQclear(held);
    json_decref(locks);
    bus_group_release(g);
}

void enrich_svc_idle(void *arg, sp_db *db)
{
    enrich_svc *s = arg;
    (void)db;
    sp_watermark_flush(
        &s->wm, sp_watermark_pack_enriched, sp_watermark_of(s->clock), s->producer, s->out_topic, 1);
}
