/* extract_tags.c - risks, roles and intents from lexicon rules, counted only
 * for what the customer side says (roles also for customer-side people the
 * rep addresses or names as "your ..."). Each pattern scans the document
 * once; hits are attributed to their sentence. */
#include "enrich/extract_internal.h"

#include <string.h>

/* Byte range of the clause around [ms,me) in s[0..len). */
static void clause(const char *s, size_t len, size_t ms, size_t me, size_t *cs, size_t *ce)
{
    static const char *const seps[] = {"，", "；", "、", ",", ";", NULL};
    size_t a = 0, b = len;
    for (size_t k = 0; seps[k]; k++) {
        size_t l = strlen(seps[k]);
        for (size_t i = 0; i + l <= len; i++) {
            if (memcmp(s + i, seps[k], l) != 0) continue;
            if (i + l <= ms && i + l > a) a = i + l;
            if (i >= me && i < b) b = i;
        }
    }
    *cs = a;
    *ce = b;
}

/* Does the text just before pos (within 18 bytes) end with rx? */
static int prefix_is(const ex_ctx *c, const pcre2_code *rx, const char *s, size_t lo, size_t pos)
{
    size_t ws = pos > lo + 18 ? pos - 18 : lo;
    while (ws > lo && ((unsigned char)s[ws] & 0xC0) == 0x80)
        ws--;
    return ex_rx_has(c, rx, s + ws, pos - ws);
}

/* Roles named in s[0..len) (a label or an address): all count. */
static void roles_in(const ex_ctx *c, const char *s, size_t len, extract_result *r)
{
    const ex_lexicon *lx = &c->e->lex;
    for (size_t i = 0; i < lx->roles.n; i++) {
        const ex_rule *ru = &lx->roles.v[i];
        size_t ms, me;
        if (ex_rule_find(c, ru, s, len, 0, &ms, &me) == 1
            && !(ru->unless && ex_rx_has(c, ru->unless, s + ms, len - ms))
            && !prefix_is(c, lx->own_side_prefix, s, 0, ms))
            ex_result_add(r->roles, &r->n_roles, ru->tag);
    }
}

static void snippet_at(const ex_doc *d, const ex_sentence *st, size_t ms, size_t me, char *out, size_t outsz)
{
    const char *s = d->buf + st->start;
    size_t cs, ce;
    clause(s, st->end - st->start, ms - st->start, me - st->start, &cs, &ce);
    ex_snippet(s + cs, ce - cs, out, outsz);
}

/* Per-call sentence facts computed on demand: -1 unknown, 0/1. */
typedef struct facts {
    signed char resolved[EX_MAX_SENT];
    signed char competitor[EX_MAX_SENT];
    signed char dismissed[EX_MAX_SENT];
} facts;

static int fact(const ex_ctx *c, const ex_doc *d, signed char *v, int i, int which)
{
    if (v[i] < 0) {
        const char *s = d->buf + d->sent[i].start;
        size_t len = d->sent[i].end - d->sent[i].start;
        const ex_lexicon *lx = &c->e->lex;
        if (which == 0)
            v[i] = (signed char)ex_rx_has(c, lx->resolved, s, len);
        else if (which == 1)
            v[i] = (signed char)ex_catalog_names_competitor(c, s, len);
        else
            v[i] = (signed char)(lx->competitor_dismissed && ex_rx_has(c, lx->competitor_dismissed, s, len));
    }
    return v[i];
}

/* Risks, roles and intents into r, with the card's core_need/concern. */
void ex_tags_scan(const ex_ctx *c, const ex_doc *d, extract_result *r, int *need_sent, int *concern_sent)
{
    const ex_lexicon *lx = &c->e->lex;
    const char *buf = d->buf;
    size_t len = d->len, ms, me;
    facts f;
    memset(&f, -1, sizeof f);
    (void)need_sent;
    (void)concern_sent;
    /* turns where the customer puts off a demo/presentation the rep proposed */
    unsigned char refused_turn[EX_MAX_DOC_TURNS] = {0};
    const ex_rule *demo = NULL;
    for (size_t k = 0; k < lx->intents.n; k++)
        if (strcmp(lx->intents.v[k].tag, "demo_request") == 0) demo = &lx->intents.v[k];
    for (size_t t = 1; d->has_customer && t < d->n_turns; t++) {
        const ex_turn *p = &d->turns[t - 1], *q = &d->turns[t];
        const char *qs = buf + q->start;
        size_t ql = q->end - q->start;
        /* "试点可以做，但下个月再说": accepted, only later */
        int accepted = demo && ex_rule_find(c, demo, qs, ql, 0, &ms, &me)
            && !(demo->unless && ex_rx_has(c, demo->unless, qs, ql));
        if (p->side == EXTRACT_SIDE_REP && q->side == EXTRACT_SIDE_CUSTOMER && !accepted
            && ex_rx_has(c, lx->demo_proposal, buf + p->start, p->end - p->start)
            && ex_rx_has(c, lx->postpone_reply, qs, ql)) {
            refused_turn[t] = 1;
            ex_result_add(r->intents, &r->n_intents, "demo_refused");
        }
    }
    /* labels of customer speakers, and the person a rep turn opens by addressing */
    for (size_t t = 0; t < d->n_turns; t++) {
        const ex_turn *tu = &d->turns[t];
        if (tu->label_end > tu->label_start && tu->side == EXTRACT_SIDE_CUSTOMER)
            roles_in(c, buf + tu->label_start, tu->label_end - tu->label_start, r);
        if (tu->side == EXTRACT_SIDE_REP
            && ex_rx_find(c, lx->address, buf + tu->start, tu->end - tu->start, 0, &ms, &me) == 1 && ms == 0)
            roles_in(c, buf + tu->start, me, r);
    }
    /* roles in the text: customer side unless marked as ours; rep side only when marked as theirs */
    for (size_t k = 0; k < lx->roles.n; k++) {
        const ex_rule *ru = &lx->roles.v[k];
        size_t from = 0;
        while (from < len && ex_rule_find(c, ru, buf, len, from, &ms, &me) == 1) {
            from = me > ms ? me : ms + 1;
            int si = ex_sentence_at(d, ms);
            if (si < 0) continue;
            const ex_sentence *st = &d->sent[si];
            if (ru->unless && ex_rx_has(c, ru->unless, buf + ms, st->end - ms)) continue;
            int ok = st->side == EXTRACT_SIDE_CUSTOMER
                ? !prefix_is(c, lx->own_side_prefix, buf, st->start, ms)
                : prefix_is(c, lx->their_side_prefix, buf, st->start, ms);
            if (ok) {
                ex_result_add(r->roles, &r->n_roles, ru->tag);
                break;
            }
        }
    }
    /* risks, competitors, intents and meetings: the customer's words only */
    if (!d->has_customer) return;
    /* risks */
    int best_sev = -1000;
    for (size_t k = 0; k < lx->risks.n; k++) {
        const ex_rule *ru = &lx->risks.v[k];
        int stall = strcmp(ru->tag, "stall") == 0;
        size_t from = 0;
        while (from < len && ex_rule_find(c, ru, buf, len, from, &ms, &me) == 1) {
            from = me > ms ? me : ms + 1;
            int si = ex_sentence_at(d, ms);
            if (si < 0 || d->sent[si].side != EXTRACT_SIDE_CUSTOMER) continue;
            const ex_sentence *st = &d->sent[si];
            if (stall && refused_turn[st->turn]) continue;
            if (fact(c, d, f.resolved, si, 0)) continue;
            if (ru->unless && ex_rx_has(c, ru->unless, buf + st->start, st->end - st->start)) continue;
            ex_result_add(r->risks, &r->n_risks, ru->tag);
            if (ru->severity > best_sev) {
                best_sev = ru->severity;
                snippet_at(d, st, ms, me, r->concern, sizeof r->concern);
            }
            break;
        }
    }
    /* a customer sentence naming a competitor */
    for (size_t i = 0; i < c->e->cat.n_calias; i++) {
        size_t from = 0;
        while (from < len && ex_rx_find(c, c->e->cat.competitors[i].rx, buf, len, from, &ms, &me) == 1) {
            from = me > ms ? me : ms + 1;
            int si = ex_sentence_at(d, ms);
            if (si < 0 || d->sent[si].side != EXTRACT_SIDE_CUSTOMER) continue;
            if (fact(c, d, f.resolved, si, 0) || fact(c, d, f.dismissed, si, 2)) continue;
            ex_result_add(r->risks, &r->n_risks, "competitor_pressure");
            if (best_sev < 0) {
                best_sev = 0;
                snippet_at(d, &d->sent[si], ms, me, r->concern, sizeof r->concern);
            }
            break;
        }
    }
    /* intents */
    size_t need_pos = (size_t)-1;
    for (size_t k = 0; k < lx->intents.n; k++) {
        const ex_rule *ru = &lx->intents.v[k];
        int sign = strcmp(ru->tag, "ready_to_sign") == 0;
        int need = strcmp(ru->tag, "demo_refused") != 0;
        size_t from = 0;
        while (from < len && ex_rule_find(c, ru, buf, len, from, &ms, &me) == 1) {
            from = me > ms ? me : ms + 1;
            int si = ex_sentence_at(d, ms);
            if (si < 0 || d->sent[si].side != EXTRACT_SIDE_CUSTOMER) continue;
            const ex_sentence *st = &d->sent[si];
            if (ru->unless && ex_rx_has(c, ru->unless, buf + st->start, st->end - st->start)) continue;
            /* signing with a competitor is not signing with us */
            if (sign && fact(c, d, f.competitor, si, 1)) continue;
            ex_result_add(r->intents, &r->n_intents, ru->tag);
            if (need && ms < need_pos) {
                need_pos = ms;
                snippet_at(d, st, ms, me, r->core_need, sizeof r->core_need);
            }
            break;
        }
    }
    if (ex_meeting_scan(c, d)) ex_result_add(r->intents, &r->n_intents, "meeting_scheduled");
}
