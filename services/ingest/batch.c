/* batch.c - JSON array / NDJSON interaction batches (see batch.h). */
#include "ingest/batch.h"
#include "ingest/jarena.h"

#include "err.h"
#include "ingest/event_id.h"
#include "ingest/phone.h"
#include "ingest/textutil.h"

#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS      (24LL * 3600 * 1000)
#define SHORT_MAX   512 /* names, urls, external ids (hashed into event ids) */
#define ID_MAX      SP_INGEST_ID_MAX
#define SUBJECT_MAX 2048

typedef struct enum_name {
    const char *name;
    int value;
} enum_name;

static const enum_name DIRECTIONS[] = {{"inbound", 1}, {"outbound", 2}, {"internal", 3}, {NULL, 0}};
static const enum_name IDKINDS[] = {{"wecom", 1}, {"email", 2}, {"phone", 3}, {"crm", 4}, {NULL, 0}};
static const enum_name SPEAKERS[] = {{"rep", 1}, {"customer", 2}, {NULL, 0}};
static const enum_name TRACKING_KINDS[]
    = {{"email_open", 1}, {"link_click", 2}, {"attachment_download", 3}, {"web_visit", 4}, {NULL, 0}};
static const enum_name PAGE_CLASSES[]
    = {{"product", 1}, {"competitor", 2}, {"pricing", 3}, {"other", 4}, {NULL, 0}};
static const enum_name ACTIVITY_KINDS[] = {{"visit", 1}, {"needs_diagnosis", 2}, {"proposal", 3},
    {"executive_visit", 4}, {"demo", 5}, {"touch", 6}, {NULL, 0}};
static const enum_name ROLES[]
    = {{"procurement", 1}, {"technical", 2}, {"decision_maker", 3}, {"finance", 4}, {NULL, 0}};
static const enum_name STAGES[] = {{"lead", 1}, {"qualified", 2}, {"demo", 3}, {"proposal", 4},
    {"negotiation", 5}, {"won", 6}, {"lost", 7}, {NULL, 0}};

/* Per-item parse state: errors go to errs under index; paths are built in
 * a local buffer per call. */
typedef struct ctx {
    ingest_errlist *errs;
    int index;
    size_t nerr; /* errors reported for this item */
    int oom;
    long long now_ms;
} ctx;

static void fail(ctx *c, const char *field, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(ctx *c, const char *field, const char *fmt, ...)
{
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->nerr++;
    ingest_errlist_add(c->errs, c->index, field, "%s", msg);
}

/* Paths longer than the buffer are cut; the return value is used so the
 * compiler knows the truncation is deliberate. */
static void path(char *buf, size_t cap, const char *prefix, const char *key)
{
    int n = prefix && *prefix ? snprintf(buf, cap, "%s.%s", prefix, key) : snprintf(buf, cap, "%s", key);
    if (n < 0) buf[0] = '\0';
}

/* fail() at the member prefix.key. The path is built only here, on the
 * error path: a valid batch formats no field names (it did per member, ~5%
 * of sp-ingest's CPU). */
static void fail_at(ctx *c, const char *prefix, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void fail_at(ctx *c, const char *prefix, const char *key, const char *fmt, ...)
{
    char f[96], msg[160];
    path(f, sizeof f, prefix, key);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fail(c, f, "%s", msg);
}

static int set(ctx *c, char **dst, const char *s, size_t n)
{
    if (interaction_strn_set(dst, s, n) != 0) {
        c->oom = 1;
        return -1;
    }
    return 0;
}

/* Copies a string member into *dst. Returns 1 when present and valid, 0
 * when absent (error if required), -1 after an error. */
static int get_str(
    ctx *c, json_t *o, const char *prefix, const char *key, int required, size_t max, char **dst)
{
    json_t *v = json_object_get(o, key);
    if (v == NULL || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0)) {
        if (required) {
            fail_at(c, prefix, key, "required");
            return -1;
        }
        return 0;
    }
    if (!json_is_string(v)) {
        fail_at(c, prefix, key, "must be a string");
        return -1;
    }
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (n > max) {
        fail_at(c, prefix, key, "too long: %zu bytes, at most %zu", n, max);
        return -1;
    }
    if (!ingest_utf8_valid(s, n)) {
        fail_at(c, prefix, key, "not valid UTF-8 (or contains NUL)");
        return -1;
    }
    return dst && set(c, dst, s, n) != 0 ? -1 : 1;
}

/* Maps the JSON value v (member field) through tab. Returns 1 when valid,
 * 0 when absent and optional, -1 after an error. */
static int enum_value(
    ctx *c, json_t *v, const char *prefix, const char *key, const enum_name *tab, int required, int *out)
{
    if (v == NULL || json_is_null(v)) {
        if (required) fail_at(c, prefix, key, "required");
        return required ? -1 : 0;
    }
    if (!json_is_string(v)) {
        fail_at(c, prefix, key, "must be a string");
        return -1;
    }
    for (int i = 0; tab[i].name; i++)
        if (strcmp(tab[i].name, json_string_value(v)) == 0) {
            *out = tab[i].value;
            return 1;
        }
    char allowed[200] = "";
    for (int i = 0; tab[i].name; i++) {
        size_t l = strlen(allowed);
        if (snprintf(allowed + l, sizeof allowed - l, "%s%s", i ? ", " : "", tab[i].name) < 0) break;
    }
    fail_at(c, prefix, key, "unknown value; one of: %s", allowed);
    return -1;
}

static int get_enum(
    ctx *c, json_t *o, const char *prefix, const char *key, const enum_name *tab, int required, int *out)
{
    return enum_value(c, json_object_get(o, key), prefix, key, tab, required, out);
}

static int get_int(ctx *c, json_t *o, const char *prefix, const char *key, long long min, long long *out)
{
    json_t *v = json_object_get(o, key);
    if (v == NULL || json_is_null(v)) return 0;
    if (!json_is_integer(v)) {
        fail_at(c, prefix, key, "must be an integer");
        return -1;
    }
    if (json_integer_value(v) < min) {
        fail_at(c, prefix, key, "must be >= %lld", min);
        return -1;
    }
    *out = json_integer_value(v);
    return 1;
}

static int get_bool(ctx *c, json_t *o, const char *prefix, const char *key, protobuf_c_boolean *out)
{
    json_t *v = json_object_get(o, key);
    if (v == NULL || json_is_null(v)) return 0;
    if (!json_is_boolean(v)) {
        fail_at(c, prefix, key, "must be true or false");
        return -1;
    }
    *out = json_is_true(v);
    return 1;
}

/* ISO-8601 timestamp member; not more than 24 h after now. */
static int get_time(ctx *c, json_t *o, const char *prefix, const char *key, int required, long long *out)
{
    json_t *v = json_object_get(o, key);
    if (v == NULL || json_is_null(v)) {
        if (required) fail_at(c, prefix, key, "required");
        return required ? -1 : 0;
    }
    if (!json_is_string(v) || ingest_time_parse(json_string_value(v), out) != 0) {
        fail_at(c, prefix, key, "must be an ISO-8601 date-time with offset, e.g. 2026-03-02T10:15:00+08:00");
        return -1;
    }
    return 1;
}

static json_t *get_obj(ctx *c, json_t *o, const char *prefix, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (v == NULL || json_is_null(v)) return NULL;
    if (!json_is_object(v)) {
        fail_at(c, prefix, key, "must be an object");
        return NULL;
    }
    return v;
}

static json_t *get_arr(ctx *c, json_t *o, const char *prefix, const char *key, size_t max)
{
    json_t *v = json_object_get(o, key);
    if (v == NULL || json_is_null(v)) return NULL;
    if (!json_is_array(v)) {
        fail_at(c, prefix, key, "must be an array");
        return NULL;
    }
    if (json_array_size(v) > max) {
        fail_at(c, prefix, key, "too many entries: %zu, at most %zu", json_array_size(v), max);
        return NULL;
    }
    return v;
}

/* Array of strings into a freshly allocated char ** (each string its own
 * block). */
static void get_str_array(ctx *c, json_t *o, const char *prefix, const char *key, size_t *n, char ***dst)
{
    json_t *a = get_arr(c, o, prefix, key, 1000);
    if (a == NULL || json_array_size(a) == 0) return;
    char **v = calloc(json_array_size(a), sizeof *v);
    if (v == NULL) {
        c->oom = 1;
        return;
    }
    *dst = v;
    for (size_t i = 0; i < json_array_size(a); i++) {
        json_t *e = json_array_get(a, i);
        char f[96];
        if (snprintf(f, sizeof f, "%s%s%s[%zu]", prefix && *prefix ? prefix : "",
                prefix && *prefix ? "." : "", key, i)
            < 0)
            f[0] = 0;
        if (!json_is_string(e) || !ingest_utf8_valid(json_string_value(e), json_string_length(e))) {
            fail(c, f, "must be a UTF-8 string");
            break;
        }
        /* counted only once set: free_unpacked frees every counted entry */
        v[*n] = NULL;
        if (set(c, &v[*n], json_string_value(e), json_string_length(e)) != 0) break;
        (*n)++;
    }
}

static Salespulse__V1__Identity *parse_identity(ctx *c, json_t *o, const char *field)
{
    int kind = 0;
    char f[96];
    get_enum(c, o, field, "kind", IDKINDS, 1, &kind);
    json_t *v = json_object_get(o, "value");
    path(f, sizeof f, field, "value");
    if (!json_is_string(v) || json_string_length(v) == 0) {
        fail(c, f, "required string");
        return NULL;
    }
    if (kind == 0 || json_string_length(v) > SHORT_MAX) {
        if (kind) fail(c, f, "too long");
        return NULL;
    }
    char norm[SHORT_MAX + 1];
    const char *why = NULL;
    if (interaction_identity_normalize(kind, json_string_value(v), norm, sizeof norm, &why) != SP_OK) {
        fail(c, f, "%s", why ? why : "too long");
        return NULL;
    }
    Salespulse__V1__Identity *id = malloc(sizeof *id);
    if (id == NULL) {
        c->oom = 1;
        return NULL;
    }
    salespulse__v1__identity__init(id);
    id->kind = kind;
    if (set(c, &id->value, norm, strlen(norm)) != 0) {
        salespulse__v1__identity__free_unpacked(id, NULL);
        return NULL;
    }
    return id;
}

static void parse_parties(ctx *c, json_t *o, sp_interaction *ix)
{
    json_t *a = get_arr(c, o, "", "parties", 100);
    if (a == NULL || json_array_size(a) == 0) return;
    ix->parties = calloc(json_array_size(a), sizeof *ix->parties);
    if (ix->parties == NULL) {
        c->oom = 1;
        return;
    }
    for (size_t i = 0; i < json_array_size(a); i++) {
        char f[96];
        if (snprintf(f, sizeof f, "parties[%zu]", i) < 0) f[0] = 0;
        json_t *e = json_array_get(a, i);
        if (!json_is_object(e)) {
            fail(c, f, "must be an object");
            continue;
        }
        Salespulse__V1__Party *p = malloc(sizeof *p);
        if (p == NULL) {
            c->oom = 1;
            return;
        }
        salespulse__v1__party__init(p);
        ix->parties[ix->n_parties++] = p;
        json_t *id = get_obj(c, e, f, "identity");
        char fi[112];
        if (snprintf(fi, sizeof fi, "%s.identity", f) < 0) fi[0] = 0;
        if (id) p->identity = parse_identity(c, id, fi);
        get_str(c, e, f, "name", 0, SHORT_MAX, &p->name);
        get_str(c, e, f, "title", 0, SHORT_MAX, &p->title);
        get_bool(c, e, f, "customer_side", &p->customer_side);
    }
}

static void parse_turns(ctx *c, json_t *o, sp_interaction *ix)
{
    json_t *a = get_arr(c, o, "", "turns", 10000);
    if (a == NULL) return;
    size_t total = 0;
    for (size_t i = 0; i < json_array_size(a); i++) {
        char f[96];
        if (snprintf(f, sizeof f, "turns[%zu]", i) < 0) f[0] = 0;
        json_t *e = json_array_get(a, i);
        if (!json_is_object(e)) {
            fail(c, f, "must be an object");
            continue;
        }
        int sp = 0;
        long long start = 0;
        char *text = NULL;
        get_enum(c, e, f, "speaker", SPEAKERS, 1, &sp);
        get_int(c, e, f, "start_ms", 0, &start);
        if (get_str(c, e, f, "text", 1, SP_INGEST_TEXT_MAX, &text) == 1) {
            total += strlen(text);
            if (sp && interaction_turn_add(ix, sp, start, text) != 0) c->oom = 1;
        }
        free(text);
    }
    if (total > 4 * SP_INGEST_TEXT_MAX)
        fail(c, "turns", "turn texts total %zu bytes, at most %d", total, 4 * SP_INGEST_TEXT_MAX);
}

static void parse_email(ctx *c, json_t *o, sp_interaction *ix)
{
    Salespulse__V1__EmailInfo *e = malloc(sizeof *e);
    if (e == NULL) {
        c->oom = 1;
        return;
    }
    salespulse__v1__email_info__init(e);
    ix->email = e;
    ix->detail_case = SALESPULSE__V1__INTERACTION__DETAIL_EMAIL;
    get_str(c, o, "email", "message_id", 0, 998, &e->message_id);
    get_str(c, o, "email", "from", 0, SHORT_MAX, &e->from);
    get_str_array(c, o, "email", "to", &e->n_to, &e->to);
    get_str_array(c, o, "email", "cc", &e->n_cc, &e->cc);
    get_str(c, o, "email", "subject", 0, SUBJECT_MAX, &e->subject);
    get_str(c, o, "email", "in_reply_to", 0, 998, &e->in_reply_to);
    json_t *a = get_arr(c, o, "email", "attachments", 100);
    if (a == NULL || json_array_size(a) == 0) return;
    e->attachments = calloc(json_array_size(a), sizeof *e->attachments);
    if (e->attachments == NULL) {
        c->oom = 1;
        return;
    }
    for (size_t i = 0; i < json_array_size(a); i++) {
        char f[96];
        if (snprintf(f, sizeof f, "email.attachments[%zu]", i) < 0) f[0] = 0;
        json_t *j = json_array_get(a, i);
        if (!json_is_object(j)) {
            fail(c, f, "must be an object");
            continue;
        }
        Salespulse__V1__Attachment *at = malloc(sizeof *at);
        if (at == NULL) {
            c->oom = 1;
            return;
        }
        salespulse__v1__attachment__init(at);
        e->attachments[e->n_attachments++] = at;
        long long size = 0;
        get_str(c, j, f, "name", 0, SHORT_MAX, &at->name);
        get_str(c, j, f, "content_type", 0, SHORT_MAX, &at->content_type);
        get_int(c, j, f, "size", 0, &size);
        at->size = size;
        get_bool(c, j, f, "signed", &at->signed_);
    }
}

static void parse_call(ctx *c, json_t *o, sp_interaction *ix)
{
    Salespulse__V1__CallInfo *ci = malloc(sizeof *ci);
    if (ci == NULL) {
        c->oom = 1;
        return;
    }
    salespulse__v1__call_info__init(ci);
    ix->call = ci;
    ix->detail_case = SALESPULSE__V1__INTERACTION__DETAIL_CALL;
    long long d = 0;
    get_str(c, o, "call", "call_id", 0, SHORT_MAX, &ci->call_id);
    get_int(c, o, "call", "duration_s", 0, &d);
    ci->duration_s = d;
    char *phone = NULL;
    if (get_str(c, o, "call", "customer_phone", 0, 64, &phone) == 1) {
        char e164[SP_PHONE_E164_MAX + 1];
        if (phone_e164_normalize(phone, e164, sizeof e164) != 0)
            fail(c, "call.customer_phone", "not a recognisable phone number");
        else
            set(c, &ci->customer_phone, e164, strlen(e164));
    }
    free(phone);
}

static void parse_meeting(ctx *c, json_t *o, sp_interaction *ix)
{
    Salespulse__V1__MeetingInfo *m = malloc(sizeof *m);
    if (m == NULL) {
        c->oom = 1;
        return;
    }
    salespulse__v1__meeting_info__init(m);
    ix->meeting = m;
    ix->detail_case = SALESPULSE__V1__INTERACTION__DETAIL_MEETING;
    long long t = 0;
    get_str(c, o, "meeting", "title", 0, SUBJECT_MAX, &m->title);
    if (get_time(c, o, "meeting", "scheduled_at", 0, &t) == 1) m->scheduled_at_ms = t;
}

static void parse_tracking(ctx *c, json_t *o, sp_interaction *ix)
{
    Salespulse__V1__TrackingInfo *t = malloc(sizeof *t);
    if (t == NULL) {
        c->oom = 1;
        return;
    }
    salespulse__v1__tracking_info__init(t);
    ix->tracking = t;
    ix->detail_case = SALESPULSE__V1__INTERACTION__DETAIL_TRACKING;
    int kind = 0, pc = 0;
    long long dwell = 0;
    get_enum(c, o, "tracking", "kind", TRACKING_KINDS, 1, &kind);
    t->kind = kind;
    int has_url = get_str(c, o, "tracking", "url", 0, 4096, &t->url);
    if (has_url == 0 && kind != 0 && kind != SALESPULSE__V1__TRACKING_KIND__TRACKING_KIND_EMAIL_OPEN)
        fail(c, "tracking.url", "required for this tracking kind");
    if (get_enum(c, o, "tracking", "page_class", PAGE_CLASSES, 0, &pc) == 1) t->page_class = pc;
    get_str(c, o, "tracking", "visitor_id", 0, SHORT_MAX, &t->visitor_id);
    get_int(c, o, "tracking", "dwell_ms", 0, &dwell);
    t->dwell_ms = dwell;
    get_str(c, o, "tracking", "product_id", 0, SHORT_MAX, &t->product_id);
    get_str(c, o, "tracking", "competitor_id", 0, SHORT_MAX, &t->competitor_id);
}

static void parse_activity(ctx *c, json_t *o, sp_interaction *ix)
{
    Salespulse__V1__RepActivity *a = malloc(sizeof *a);
    if (a == NULL) {
        c->oom = 1;
        return;
    }
    salespulse__v1__rep_activity__init(a);
    ix->activity = a;
    ix->detail_case = SALESPULSE__V1__INTERACTION__DETAIL_ACTIVITY;
    int kind = 0;
    long long rev = 0, due = 0;
    get_enum(c, o, "activity", "kind", ACTIVITY_KINDS, 1, &kind);
    a->kind = kind;
    json_t *roles = get_arr(c, o, "activity", "roles_covered", 16);
    if (roles && json_array_size(roles)) {
        a->roles_covered = calloc(json_array_size(roles), sizeof *a->roles_covered);
        if (a->roles_covered == NULL) {
            c->oom = 1;
            return;
        }
        for (size_t i = 0; i < json_array_size(roles); i++) {
            char f[96];
            if (snprintf(f, sizeof f, "activity.roles_covered[%zu]", i) < 0) f[0] = 0;
            int r = 0;
            if (enum_value(c, json_array_get(roles, i), NULL, f, ROLES, 1, &r) == 1)
                a->roles_covered[a->n_roles_covered++] = r;
        }
    }
    if (get_int(c, o, "activity", "proposal_revision", 0, &rev) == 1) {
        if (rev > 1000)
            fail(c, "activity.proposal_revision", "must be <= 1000");
        else
            a->proposal_revision = (uint32_t)rev;
    }
    get_bool(c, o, "activity", "customer_specific_data", &a->customer_specific_data);
    get_bool(c, o, "activity", "first_visit", &a->first_visit);
    get_str(c, o, "activity", "next_step", 0, SUBJECT_MAX, &a->next_step);
    if (get_time(c, o, "activity", "next_step_due", 0, &due) == 1) a->next_step_due_ms = due;
}

static void parse_stage_change(ctx *c, json_t *o, sp_interaction *ix)
{
    Salespulse__V1__StageChange *s = malloc(sizeof *s);
    if (s == NULL) {
        c->oom = 1;
        return;
    }
    salespulse__v1__stage_change__init(s);
    ix->stage_change = s;
    ix->detail_case = SALESPULSE__V1__INTERACTION__DETAIL_STAGE_CHANGE;
    int from = 0, to = 0;
    long long amount = 0;
    /* deal_id may be given on the item instead */
    if (get_str(c, o, "stage_change", "deal_id", ix->deal_id[0] == '\0', ID_MAX, &s->deal_id) == 0
        && ix->deal_id[0])
        set(c, &s->deal_id, ix->deal_id, strlen(ix->deal_id));
    if (ix->deal_id[0] == '\0' && s->deal_id[0]) set(c, &ix->deal_id, s->deal_id, strlen(s->deal_id));
    if (get_enum(c, o, "stage_change", "from_stage", STAGES, 0, &from) == 1) s->from_stage = from;
    if (get_enum(c, o, "stage_change", "to_stage", STAGES, 1, &to) == 1) s->to_stage = to;
    get_int(c, o, "stage_change", "amount", 0, &amount);
    s->amount = amount;
    get_bool(c, o, "stage_change", "signed_requirements", &s->signed_requirements);
    get_str_array(c, o, "stage_change", "product_ids", &s->n_product_ids, &s->product_ids);
    get_str(c, o, "stage_change", "deal_name", 0, SHORT_MAX, &s->deal_name);
}

/* detail key -> channel it belongs to */
static const struct {
    const char *key;
    int channel;
    void (*parse)(ctx *, json_t *, sp_interaction *);
} DETAILS[] = {
    {"email", SALESPULSE__V1__CHANNEL__CHANNEL_EMAIL, parse_email},
    {"call", SALESPULSE__V1__CHANNEL__CHANNEL_CALL, parse_call},
    {"meeting", SALESPULSE__V1__CHANNEL__CHANNEL_MEETING, parse_meeting},
    {"tracking", SALESPULSE__V1__CHANNEL__CHANNEL_TRACKING, parse_tracking},
    {"activity", SALESPULSE__V1__CHANNEL__CHANNEL_ACTIVITY, parse_activity},
    {"stage_change", SALESPULSE__V1__CHANNEL__CHANNEL_CRM, parse_stage_change},
};

static void parse_item(ctx *c, json_t *o, sp_interaction *ix)
{
    long long t = 0;
    int has_ext = get_str(c, o, "", "external_id", 0, SHORT_MAX, &ix->external_id);
    int has_id = get_str(c, o, "", "event_id", 0, 128, &ix->meta->event_id);
    get_str(c, o, "", "source", 1, 128, &ix->source);
    if (has_ext == 0 && has_id == 0) fail(c, "external_id", "required (or event_id)");
    if (get_time(c, o, "", "occurred_at", 1, &t) == 1) {
        if (t > c->now_ms + DAY_MS)
            fail(c, "occurred_at", "more than 24 h in the future");
        else
            ix->meta->occurred_at_ms = t;
    }
    get_str(c, o, "", "trace_id", 0, 128, &ix->meta->trace_id);
    get_str(c, o, "", "tenant_id", 0, 128, &ix->meta->tenant_id);

    int channel = 0, dir = 0;
    json_t *ch = json_object_get(o, "channel");
    if (ch == NULL || json_is_null(ch))
        fail(c, "channel", "required");
    else if (!json_is_string(ch) || (channel = interaction_channel_parse(json_string_value(ch))) < 0)
        fail(c, "channel",
            "unknown value; one of: wecom, email, call, meeting, note, tracking, activity, crm");
    if (channel < 0) channel = 0;
    ix->channel = channel;
    if (get_enum(c, o, "", "direction", DIRECTIONS, 0, &dir) == 1) ix->direction = dir;

    get_str(c, o, "", "customer_ref", 0, ID_MAX, &ix->customer_ref);
    get_str(c, o, "", "rep_id", 0, ID_MAX, &ix->rep_id);
    get_str(c, o, "", "deal_id", 0, ID_MAX, &ix->deal_id);
    get_str(c, o, "", "text", 0, SP_INGEST_TEXT_MAX, &ix->text);
    get_str(c, o, "", "subject", 0, SUBJECT_MAX, &ix->subject);
    get_str(c, o, "", "quoted_text", 0, SP_INGEST_TEXT_MAX, &ix->quoted_text);
    json_t *id = get_obj(c, o, "", "customer_identity");
    if (id) ix->customer_identity = parse_identity(c, id, "customer_identity");
    parse_parties(c, o, ix);
    parse_turns(c, o, ix);

    int detail = -1;
    for (size_t i = 0; i < sizeof DETAILS / sizeof DETAILS[0]; i++) {
        json_t *d = get_obj(c, o, "", DETAILS[i].key);
        if (d == NULL) continue;
        if (detail >= 0) {
            fail(c, DETAILS[i].key, "only one of email, call, meeting, tracking, activity, stage_change");
            continue;
        }
        detail = (int)i;
        if (channel && DETAILS[i].channel != channel) {
            fail(c, DETAILS[i].key, "not allowed with channel %s", interaction_channel_name(channel));
            continue;
        }
        DETAILS[i].parse(c, d, ix);
    }

    /* kind-specific requirements */
    /* a text that failed its own checks counts as present here: one error is enough */
    int has_text = ix->text[0] != '\0' || ingest_errlist_find(c->errs, c->index, "text") != NULL;
    switch (channel) {
    case SALESPULSE__V1__CHANNEL__CHANNEL_WECOM:
    case SALESPULSE__V1__CHANNEL__CHANNEL_NOTE:
        if (!has_text) fail(c, "text", "required for channel %s", interaction_channel_name(channel));
        break;
    case SALESPULSE__V1__CHANNEL__CHANNEL_EMAIL:
        if (!has_text && ix->subject[0] == '\0') fail(c, "text", "e-mail needs text or subject");
        break;
    case SALESPULSE__V1__CHANNEL__CHANNEL_CALL:
        if (!has_text && ix->n_turns == 0 && !ingest_errlist_find(c->errs, c->index, "turns"))
            fail(c, "turns", "call needs turns or text");
        break;
    case SALESPULSE__V1__CHANNEL__CHANNEL_MEETING:
        if (!has_text && !(ix->meeting && ix->meeting->title[0]))
            fail(c, "text", "meeting needs text or meeting.title");
        break;
    case SALESPULSE__V1__CHANNEL__CHANNEL_TRACKING:
        if (detail < 0) fail(c, "tracking", "required for channel tracking (tracking.kind at least)");
        break;
    case SALESPULSE__V1__CHANNEL__CHANNEL_ACTIVITY:
        if (detail < 0) fail(c, "activity", "required for channel activity (activity.kind at least)");
        break;
    case SALESPULSE__V1__CHANNEL__CHANNEL_CRM:
        if (detail < 0) fail(c, "stage_change", "required for channel crm (deal_id and to_stage)");
        break;
    default: break;
    }
}

int ingest_batch_item_parse(const void *json_obj, int index, const ingest_batch_opts *opts,
    sp_interaction **out, ingest_errlist *errs)
{
    *out = NULL;
    json_t *o = (json_t *)json_obj;
    ctx c = {.errs = errs, .index = index, .now_ms = opts->now_ms};
    if (!json_is_object(o)) {
        fail(&c, "", "must be a JSON object");
        return SP_EINVAL;
    }
    sp_interaction *ix = NULL;
    if (interaction_new("", opts->now_ms, &ix) != 0) return SP_ENOMEM;
    parse_item(&c, o, ix);
    if (!c.oom && c.nerr == 0 && ix->meta->tenant_id[0] == '\0' && opts->tenant_id && opts->tenant_id[0])
        set(&c, &ix->meta->tenant_id, opts->tenant_id, strlen(opts->tenant_id));
    if (!c.oom && c.nerr == 0 && interaction_event_id_fill(ix) != 0) c.oom = 1;
    if (c.oom || c.nerr) {
        interaction_destroy(ix);
        return c.oom ? SP_ENOMEM : SP_EINVAL;
    }
    *out = ix;
    return SP_OK;
}

/* For a jansson decode error at byte pos of buf: the name of the last
 * object key before pos, so "invalid UTF-8" can name its field, and (for a
 * JSON array) the index of the element holding pos, or -1. */
static int locate(const char *buf, size_t len, size_t pos, char *out, size_t cap)
{
    out[0] = '\0';
    size_t ks = 0, ke = 0, s_start = 0;
    int in_str = 0, depth = 0, index = -1;
    for (size_t i = 0; i < len && i < pos; i++) {
        char ch = buf[i];
        if (in_str) {
            if (ch == '\\') {
                i++;
            } else if (ch == '"') {
                in_str = 0;
                size_t j = i + 1;
                while (j < len && isspace((unsigned char)buf[j]))
                    j++;
                if (j < len && buf[j] == ':') ks = s_start, ke = i;
            }
        } else if (ch == '"') {
            in_str = 1, s_start = i + 1;
        } else if (ch == '[' || ch == '{') {
            if (depth++ == 0 && ch == '[') index = 0;
        } else if (ch == ']' || ch == '}') {
            depth--;
        } else if (ch == ',' && depth == 1 && index >= 0) {
            index++;
        }
    }
    if (ke > ks && ke - ks < cap && ingest_utf8_valid(buf + ks, ke - ks)) {
        memcpy(out, buf + ks, ke - ks);
        out[ke - ks] = '\0';
    }
    return index;
}

/* Reports a decode error; index is the NDJSON line's item, or -1 for an
 * array, where the element is located from the error position. */
static int decode_error(ingest_errlist *errs, int index, const char *buf, size_t len, const json_error_t *je)
{
    char field[96];
    int utf = strstr(je->text, "decode byte") || strstr(je->text, "Unicode") || strstr(je->text, "UTF-8");
    int at = locate(buf, len, (size_t)je->position, field, sizeof field);
    if (index < 0 && utf) index = at;
    if (utf && field[0])
        ingest_errlist_add(errs, index, field, "not valid UTF-8");
    else
        ingest_errlist_add(
            errs, index, "", "invalid JSON at line %d column %d: %s", je->line, je->column, je->text);
    return SP_EDECODE;
}

void ingest_batch_destroy(ingest_batch *b)
{
    if (b == NULL) return;
    interaction_array_destroy(b->items, b->n);
    free(b);
}

/* Parses each element of arr (already decoded) into b. */
static int parse_all(
    json_t **vals, size_t n, const ingest_batch_opts *opts, ingest_batch *b, ingest_errlist *errs)
{
    int rv = SP_OK;
    for (size_t i = 0; i < n; i++) {
        sp_interaction *ix = NULL;
        int r = ingest_batch_item_parse(vals[i], (int)i, opts, &ix, errs);
        if (r == SP_ENOMEM) return SP_ENOMEM;
        if (r != 0) {
            rv = r;
            continue;
        }
        b->items[b->n++] = ix;
    }
    return rv;
}

int ingest_batch_parse(
    const char *body, size_t len, const ingest_batch_opts *opts, ingest_batch **out, ingest_errlist *errs)
{
    *out = NULL;
    if (len > SP_BATCH_MAX_BYTES) {
        ingest_errlist_add(errs, -1, "", "body is %zu bytes, at most %d", len, SP_BATCH_MAX_BYTES);
        return SP_ETOOBIG;
    }
    size_t i = 0;
    while (i < len && isspace((unsigned char)body[i]))
        i++;
    if (i == len) {
        ingest_errlist_add(errs, -1, "", "empty body");
        return SP_EDECODE;
    }
    json_t **vals = NULL;
    json_t *root = NULL;
    size_t n = 0;
    int rv = SP_OK;
    ingest_batch *b = NULL;
    json_error_t je;
    /* the documents live on this thread's arena until released below
     * (items copy every string they keep) */
    ingest_jarena_begin();
    if (body[i] == '[') {
        root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
        if (root == NULL) {
            rv = decode_error(errs, -1, body, len, &je);
            goto fail;
        }
        n = json_array_size(root);
        if (n > SP_BATCH_MAX_ITEMS) {
            ingest_errlist_add(errs, -1, "", "%zu items, at most %d", n, SP_BATCH_MAX_ITEMS);
            rv = SP_ETOOBIG;
            goto fail;
        }
        if (n == 0) {
            ingest_errlist_add(errs, -1, "", "empty array");
            rv = SP_EDECODE;
            goto fail;
        }
        vals = calloc(n, sizeof *vals);
        if (vals == NULL) goto oom;
        for (size_t k = 0; k < n; k++)
            vals[k] = json_array_get(root, k);
    } else {
        /* NDJSON: count lines first for the limit, then decode each */
        size_t cap = 0;
        for (size_t p = i; p < len;) {
            const char *nl = memchr(body + p, '\n', len - p);
            size_t e = nl ? (size_t)(nl - body) : len;
            size_t s = p;
            while (s < e && isspace((unsigned char)body[s]))
                s++;
            if (s < e) cap++;
            p = e + 1;
        }
        if (cap > SP_BATCH_MAX_ITEMS) {
            ingest_errlist_add(errs, -1, "", "%zu items, at most %d", cap, SP_BATCH_MAX_ITEMS);
            rv = SP_ETOOBIG;
            goto fail;
        }
        vals = calloc(cap, sizeof *vals);
        if (vals == NULL) goto oom;
        for (size_t p = i; p < len;) {
            const char *nl = memchr(body + p, '\n', len - p);
            size_t e = nl ? (size_t)(nl - body) : len;
            size_t s = p;
            while (s < e && isspace((unsigned char)body[s]))
                s++;
            if (s < e) {
                vals[n] = json_loadb(body + s, e - s, JSON_REJECT_DUPLICATES, &je);
                if (vals[n] == NULL) rv = decode_error(errs, (int)n, body + s, e - s, &je);
                n++;
            }
            p = e + 1;
        }
        if (rv != 0) goto fail;
    }
    b = calloc(1, sizeof *b);
    if (b == NULL) goto oom;
    b->items = calloc(n, sizeof *b->items);
    if (b->items == NULL) goto oom;
    rv = parse_all(vals, n, opts, b, errs);
    if (rv != 0) goto fail;
    if (root == NULL)
        for (size_t k = 0; k < n; k++)
            json_decref(vals[k]);
    free(vals);
    json_decref(root);
    ingest_jarena_end();
    *out = b;
    return SP_OK;
oom:
    rv = SP_ENOMEM;
fail:
    if (root == NULL && vals)
        for (size_t k = 0; k < n; k++)
            json_decref(vals[k]);
    free(vals);
    json_decref(root);
    ingest_jarena_end();
    ingest_batch_destroy(b);
    return rv;
}
