/* spctl_sim_emit.c - builds one events.ndjson line per interaction: the
 * generic batch item (/v1/interactions), a call transcript (/v1/calls) or a
 * raw RFC 5322 message (/v1/email), with the metadata the passes use. */
#include "spctl/spctl_sim.h"

#include "err.h"

#include <iconv.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const CH_NAMES[]
    = {"", "wecom", "email", "call", "meeting", "note", "tracking", "activity", "crm"};
static const char *const DIR_NAMES[] = {"", "inbound", "outbound", "internal"};
static const char *const AK_NAMES[]
    = {"", "visit", "needs_diagnosis", "proposal", "executive_visit", "demo", "touch"};
static const char *const TK_NAMES[] = {"", "email_open", "link_click", "attachment_download", "web_visit"};
static const char *const PG_NAMES[] = {"", "product", "competitor", "pricing", "other"};
static const char *const RB_NAMES[] = {"procurement", "technical", "decision_maker", "finance"};

static char *dump_env(json_t *env)
{
    char *s = json_dumps(env, JSON_COMPACT);
    json_decref(env);
    return s;
}

static json_t *base_item(sim_world *w, int64_t t, int c, int deal, const char *source, int ch, int dir)
{
    char iso[40], ext[40];
    sim_fmt_iso(t, iso, sizeof iso);
    snprintf(ext, sizeof ext, "sim-%u", w->seq);
    json_t *it = json_object();
    json_object_set_new(it, "source", json_string(source));
    json_object_set_new(it, "external_id", json_string(ext));
    json_object_set_new(it, "occurred_at", json_string(iso));
    json_object_set_new(it, "tenant_id", json_string("hengyuan"));
    json_object_set_new(it, "channel", json_string(CH_NAMES[ch]));
    json_object_set_new(it, "direction", json_string(DIR_NAMES[dir]));
    json_object_set_new(it, "customer_ref", json_string(w->cust[c].id));
    json_object_set_new(it, "rep_id", json_string(w->people[w->cust[c].rep].id));
    if (deal >= 0) json_object_set_new(it, "deal_id", json_string(w->deals[deal].id));
    return it;
}

static json_t *party(const sim_contact *k, const char *kind)
{
    const char *v = strcmp(kind, "wecom") == 0 ? k->wecom : strcmp(kind, "email") == 0 ? k->email : k->phone;
    return json_pack("{s:{s:s,s:s},s:s,s:s,s:b}", "identity", "kind", kind, "value", v, "name", k->name,
        "title", k->title, "customer_side", 1);
}

static json_t *envelope(json_t *item)
{
    return json_pack("{s:s,s:o}", "endpoint", "/v1/interactions", "item", item);
}

/* contact index holding role bit rb, or -1 */
static int contact_with(const sim_customer *cu, int rb)
{
    for (int i = 0; i < cu->nct; i++)
        if (cu->ct[i].role == rb) return i;
    return -1;
}

static sim_ev *push(sim_world *w, int64_t t, int c, int deal, int rep, int ch, int dir, json_t *env,
    int forced, int ak, int page, int roles, int ct)
{
    if (!forced && sim_blocked(w, t, c, deal, rep, ch)) {
        json_decref(env);
        return NULL;
    }
    json_object_set_new(env, "at", json_integer(t)); /* event time, for spctl replay's windows */
    char *line = dump_env(env);
    if (line == NULL) {
        w->err_oom = 1;
        return NULL;
    }
    sim_ev *e = sim_ev_push(w, t, c, deal, rep, ch, dir, line, forced);
    if (e) {
        e->ak = (uint8_t)ak, e->page = (uint8_t)page, e->roles = (uint8_t)roles, e->ct = (int16_t)ct;
    }
    return e;
}

sim_ev *sim_emit_wecom(
    sim_world *w, int64_t t, int c, int ct, int deal, int dir, const char *text, int forced)
{
    const sim_contact *k = &w->cust[c].ct[ct];
    json_t *it = base_item(w, t, c, deal, "wecom", CH_WECOM, dir);
    json_object_set_new(it, "customer_identity", json_pack("{s:s,s:s}", "kind", "wecom", "value", k->wecom));
    json_object_set_new(it, "text", json_string(text));
    json_object_set_new(it, "parties", json_pack("[o]", party(k, "wecom")));
    return push(w, t, c, deal, w->cust[c].rep, CH_WECOM, dir, envelope(it), forced, 0, 0, k->role, ct);
}

sim_ev *sim_emit_note(sim_world *w, int64_t t, int c, int deal, const char *text, int forced)
{
    json_t *it = base_item(w, t, c, deal, "crm", CH_NOTE, DIR_INT);
    json_object_set_new(it, "text", json_string(text));
    return push(w, t, c, deal, w->cust[c].rep, CH_NOTE, DIR_INT, envelope(it), forced, 0, 0, 0, -1);
}

static json_t *parties_for(const sim_customer *cu, int roles, int *got)
{
    json_t *a = json_array();
    *got = 0;
    for (int b = 0; b < 4; b++) {
        if (!(roles & (1 << b))) continue;
        int i = contact_with(cu, 1 << b);
        if (i < 0) continue;
        json_array_append_new(a, party(&cu->ct[i], "wecom"));
        *got |= 1 << b;
    }
    return a;
}

sim_ev *sim_emit_activity(sim_world *w, int64_t t, int c, int deal, int rep, int kind, int roles,
    int first_visit, int revision, const char *text, int forced)
{
    const sim_customer *cu = &w->cust[c];
    json_t *it = base_item(w, t, c, deal, "crm", CH_ACTIVITY, DIR_INT);
    if (rep >= 0)
        json_object_set_new(it, "rep_id", json_string(w->people[rep].id));
    else
        rep = cu->rep;
    json_object_set_new(it, "text", json_string(text));
    int got = 0;
    json_t *ps = parties_for(cu, roles, &got);
    json_object_set_new(it, "parties", ps);
    json_t *a = json_object();
    json_object_set_new(a, "kind", json_string(AK_NAMES[kind]));
    json_t *rc = json_array();
    for (int b = 0; b < 4; b++)
        if (got & (1 << b)) json_array_append_new(rc, json_string(RB_NAMES[b]));
    json_object_set_new(a, "roles_covered", rc);
    if (kind == AK_PROPOSAL) {
        json_object_set_new(a, "proposal_revision", json_integer(revision > 0 ? revision : 1));
        json_object_set_new(a, "customer_specific_data", json_true());
    }
    if (first_visit) json_object_set_new(a, "first_visit", json_true());
    /* the next step is always the next working day: a rep's plan for it */
    int64_t due = t + SIM_DAY;
    while (!sim_is_working_day(sim_local_day(due)))
        due += SIM_DAY;
    due = sim_local_day(due) * SIM_DAY - SIM_TZ + 17 * SIM_HOUR;
    if (w->due_override) due = w->due_override;
    char iso[40];
    sim_fmt_iso(due, iso, sizeof iso);
    json_object_set_new(a, "next_step", json_string(deal >= 0 ? "继续跟进，确认下一步安排" : "保持联系"));
    json_object_set_new(a, "next_step_due", json_string(iso));
    json_object_set_new(it, "activity", a);
    return push(w, t, c, deal, rep, CH_ACTIVITY, DIR_INT, envelope(it), forced, kind, 0, got, -1);
}

sim_ev *sim_emit_stage(sim_world *w, int64_t t, int deal, int from, int to)
{
    const sim_deal *d = &w->deals[deal];
    json_t *it = base_item(w, t, d->cust, deal, "crm", CH_CRM, DIR_INT);
    json_t *s = json_object();
    json_object_set_new(s, "deal_id", json_string(d->id));
    if (from != ST_NONE) json_object_set_new(s, "from_stage", json_string(SIM_STAGE_NAMES[from]));
    json_object_set_new(s, "to_stage", json_string(SIM_STAGE_NAMES[to]));
    json_object_set_new(s, "amount", json_integer(d->amount));
    if (to == ST_WON) json_object_set_new(s, "signed_requirements", json_true());
    json_t *pa = json_array();
    for (int i = 0; i < d->nprod; i++)
        json_array_append_new(pa, json_string(d->prod[i]));
    json_object_set_new(s, "product_ids", pa);
    json_object_set_new(s, "deal_name", json_string(d->name));
    json_object_set_new(it, "stage_change", s);
    return push(w, t, d->cust, deal, d->rep, CH_CRM, DIR_INT, envelope(it), 1, 0, 0, 0, -1);
}

sim_ev *sim_emit_tracking(sim_world *w, int64_t t, int c, int ct, int deal, int kind, int page,
    const char *product, const char *competitor, int forced)
{
    const sim_contact *k = &w->cust[c].ct[ct < 0 ? 0 : ct];
    json_t *it = base_item(w, t, c, deal, "tracking", CH_TRACKING, DIR_IN);
    json_object_set_new(it, "customer_identity", json_pack("{s:s,s:s}", "kind", "email", "value", k->email));
    json_t *tr = json_object();
    json_object_set_new(tr, "kind", json_string(TK_NAMES[kind]));
    char url[160], lower[32];
    if (page == PG_PRODUCT) {
        snprintf(lower, sizeof lower, "%s", product);
        for (char *p = lower; *p; p++)
            if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
        snprintf(url, sizeof url, "https://hengyuan.cn/products/%s", lower);
    } else if (page == PG_COMPETITOR) {
        snprintf(url, sizeof url, "https://hengyuan.cn/compare/%s-vs-hengyuan", competitor);
    } else if (page == PG_PRICING) {
        snprintf(url, sizeof url, "https://hengyuan.cn/pricing");
    } else {
        snprintf(url, sizeof url, "https://hengyuan.cn/cases/%s", SIM_IND_NAMES[w->cust[c].ind]);
    }
    if (kind != TK_OPEN) json_object_set_new(tr, "url", json_string(url));
    if (kind == TK_VISIT || kind == TK_CLICK)
        json_object_set_new(tr, "page_class", json_string(PG_NAMES[page]));
    char vid[40];
    snprintf(vid, sizeof vid, "v-%s-%d", w->cust[c].id, ct < 0 ? 0 : ct);
    json_object_set_new(tr, "visitor_id", json_string(vid));
    if (kind == TK_VISIT)
        json_object_set_new(tr, "dwell_ms", json_integer(15000 + (int64_t)(w->seq % 97) * 1700));
    if (page == PG_PRODUCT && product) json_object_set_new(tr, "product_id", json_string(product));
    if (page == PG_COMPETITOR && competitor)
        json_object_set_new(tr, "competitor_id", json_string(competitor));
    json_object_set_new(it, "tracking", tr);
    return push(w, t, c, deal, w->cust[c].rep, CH_TRACKING, DIR_IN, envelope(it), forced, 0,
        kind == TK_VISIT ? page : 0, 0, ct < 0 ? 0 : ct);
}

sim_ev *sim_emit_meeting(
    sim_world *w, int64_t t, int c, int deal, int roles, const char *title, const char *text, int forced)
{
    const sim_customer *cu = &w->cust[c];
    json_t *it = base_item(w, t, c, deal, "crm", CH_MEETING, DIR_INT);
    json_object_set_new(it, "text", json_string(text));
    int got = 0;
    json_object_set_new(it, "parties", parties_for(cu, roles, &got));
    char iso[40];
    sim_fmt_iso(t, iso, sizeof iso);
    json_object_set_new(it, "meeting", json_pack("{s:s,s:s}", "title", title, "scheduled_at", iso));
    return push(w, t, c, deal, cu->rep, CH_MEETING, DIR_INT, envelope(it), forced, 0, 0, got, -1);
}

sim_ev *sim_emit_call(
    sim_world *w, int64_t t, int c, int ct, int deal, const sim_turn *turns, int n, int forced)
{
    const sim_customer *cu = &w->cust[c];
    char iso[40], cid[40];
    sim_fmt_iso(t, iso, sizeof iso);
    snprintf(cid, sizeof cid, "call-%u", w->seq);
    json_t *it = json_object();
    json_object_set_new(it, "call_id", json_string(cid));
    json_object_set_new(it, "started_at", json_string(iso));
    json_object_set_new(it, "duration_s", json_integer(60 + n * 45));
    json_object_set_new(it, "rep_id", json_string(w->people[cu->rep].id));
    json_object_set_new(it, "customer_phone", json_string(cu->ct[ct].phone));
    json_object_set_new(it, "customer_ref", json_string(cu->id));
    json_object_set_new(it, "direction", json_string("outbound"));
    json_object_set_new(it, "tenant_id", json_string("hengyuan"));
    if (deal >= 0) json_object_set_new(it, "deal_id", json_string(w->deals[deal].id));
    json_t *ta = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(ta,
            json_pack("{s:s,s:I,s:s}", "speaker", turns[i].customer ? "customer" : "rep", "start_ms",
                (json_int_t)i * 15000, "text", turns[i].text));
    json_object_set_new(it, "turns", ta);
    json_t *env = json_pack("{s:s,s:o}", "endpoint", "/v1/calls", "item", it);
    return push(w, t, c, deal, cu->rep, CH_CALL, DIR_OUT, env, forced, 0, 0, cu->ct[ct].role, ct);
}

/* ---- e-mail ------------------------------------------------------------ */

static void b64(const unsigned char *in, size_t n, char *out, size_t cap, int wrap)
{
    static const char T[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0, col = 0;
    for (size_t i = 0; i < n && o + 6 < cap; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0)
            | (i + 2 < n ? in[i + 2] : 0);
        out[o++] = T[v >> 18 & 63];
        out[o++] = T[v >> 12 & 63];
        out[o++] = i + 1 < n ? T[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? T[v & 63] : '=';
        col += 4;
        if (wrap && col >= 76 && o + 3 < cap) {
            out[o++] = '\r', out[o++] = '\n';
            col = 0;
        }
    }
    out[o] = 0;
}

/* UTF-8 -> GBK; 0 on success */
static int to_gbk(const char *in, char *out, size_t cap, size_t *outlen)
{
    iconv_t cd = iconv_open("GBK", "UTF-8");
    if (cd == (iconv_t)-1) return -1;
    char *ip = (char *)in, *op = out;
    size_t il = strlen(in), ol = cap - 1;
    size_t r = iconv(cd, &ip, &il, &op, &ol);
    iconv_close(cd);
    if (r == (size_t)-1) return -1;
    *outlen = (size_t)(op - out);
    return 0;
}

static void enc_word(const char *s, const char *cs, char *out, size_t cap)
{
    char raw[1024];
    size_t n = strlen(s);
    if (strcmp(cs, "GBK") == 0 && to_gbk(s, raw, sizeof raw, &n) == 0) {
    } else {
        snprintf(raw, sizeof raw, "%s", s);
        n = strlen(raw);
        cs = "UTF-8";
    }
    char b[1600];
    b64((const unsigned char *)raw, n, b, sizeof b, 0);
    snprintf(out, cap, "=?%s?B?%s?=", cs, b);
}

sim_ev *sim_emit_email(sim_world *w, int64_t t, int c, int ct, int deal, int dir, const char *subject,
    const char *body, int flags, int forced)
{
    const sim_customer *cu = &w->cust[c];
    const sim_contact *k = &cu->ct[ct];
    const sim_person *rep = &w->people[cu->rep];
    char date[64], subj[2048], fromn[256], ton[256];
    const char *cs = (flags & EM_GBK) ? "GBK" : "UTF-8";
    sim_fmt_rfc2822(t, date, sizeof date);
    enc_word(subject, cs, subj, sizeof subj);
    enc_word(dir == DIR_OUT ? rep->name : k->name, cs, fromn, sizeof fromn);
    enc_word(dir == DIR_OUT ? k->name : rep->name, cs, ton, sizeof ton);
    const char *from_addr = dir == DIR_OUT ? rep->email : k->email;
    const char *to_addr = dir == DIR_OUT ? k->email : rep->email;
    char full[6144];
    snprintf(full, sizeof full, "%s", body);
    if (flags & EM_QUOTE) {
        char qd[64];
        sim_fmt_date(t - 2 * SIM_DAY, qd, sizeof qd);
        size_t l = strlen(full);
        snprintf(full + l, sizeof full - l,
            "\n\n在 %s 10:20，%s 写道：\n> %s您好：\n> 附件是项目方案，请查阅。\n> 恒远科技 %s\n", qd,
            rep->name, k->addr, rep->name);
    }
    /* body bytes in the charset, lines CRLF */
    char crlf[8192];
    size_t o = 0;
    for (const char *p = full; *p && o + 3 < sizeof crlf; p++) {
        if (*p == '\n') crlf[o++] = '\r';
        crlf[o++] = *p;
    }
    crlf[o] = 0;
    char raw[8192];
    size_t rn = o;
    if ((flags & EM_GBK) && to_gbk(crlf, raw, sizeof raw, &rn) == 0) {
    } else {
        memcpy(raw, crlf, o + 1);
        rn = o;
        cs = (flags & EM_GBK) ? "UTF-8" : cs;
    }
    char enc[12000];
    const char *cte;
    if (flags & EM_PLAIN8) {
        memcpy(enc, raw, rn);
        enc[rn] = 0;
        cte = "8bit";
    } else {
        b64((const unsigned char *)raw, rn, enc, sizeof enc, 1);
        cte = "base64";
    }
    char mid[80];
    snprintf(mid, sizeof mid, "<sim-%u@%s>", w->seq, dir == DIR_OUT ? "hengyuan.cn" : cu->domain);
    char msg[24000];
    int n = snprintf(msg, sizeof msg,
        "Message-ID: %s\r\nDate: %s\r\nFrom: %s <%s>\r\nTo: %s <%s>\r\nSubject: %s\r\n%s%s%sMIME-Version: "
        "1.0\r\n",
        mid, date, fromn, from_addr, ton, to_addr, subj, (flags & EM_QUOTE) ? "In-Reply-To: <sim-prev-" : "",
        (flags & EM_QUOTE) ? cu->id : "", (flags & EM_QUOTE) ? "@hengyuan.cn>\r\n" : "");
    if (flags & EM_ATTACH) {
        static const char PDF[] = "%PDF-1.4\n% simulated proposal\n1 0 obj << /Type /Catalog >> "
                                  "endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
        char pb[400], fname[200];
        b64((const unsigned char *)PDF, sizeof PDF - 1, pb, sizeof pb, 1);
        char nm[300];
        snprintf(nm, sizeof nm, "%s方案.pdf", w->deals[deal >= 0 ? deal : 0].prod[0]);
        enc_word(nm, "UTF-8", fname, sizeof fname);
        n += snprintf(msg + n, sizeof msg - (size_t)n,
            "Content-Type: multipart/mixed; boundary=\"=_sim_%u\"\r\n\r\n--=_sim_%u\r\n"
            "Content-Type: text/plain; charset=\"%s\"\r\nContent-Transfer-Encoding: "
            "%s\r\n\r\n%s\r\n--=_sim_%u\r\n"
            "Content-Type: application/pdf; name=\"%s\"\r\nContent-Disposition: attachment; "
            "filename=\"%s\"\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--=_sim_%u--\r\n",
            w->seq, w->seq, cs, cte, enc, w->seq, fname, fname, pb, w->seq);
    } else {
        n += snprintf(msg + n, sizeof msg - (size_t)n,
            "Content-Type: text/plain; charset=\"%s\"\r\nContent-Transfer-Encoding: %s\r\n\r\n%s\r\n", cs,
            cte, enc);
    }
    (void)n;
    json_t *env = json_pack("{s:s,s:s}", "endpoint", "/v1/email", "mime", msg);
    return push(w, t, c, deal, cu->rep, CH_EMAIL, dir, env, forced, 0, 0, k->role, ct);
}
