/* extract_tags.c - risks, roles and intents from lexicon rules, counted only
 * for what the customer side says (roles also for customer-side people the
 * rep addresses or names as "your ..."). */
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

static int rule_hit(const ex_ctx *c, const ex_rule *r, const char *s, size_t len, size_t *ms, size_t *me)
{
    if (ex_rx_find(c, r->match, s, len, 0, ms, me) != 1) return 0;
    if (r->unless && ex_rx_has(c, r->unless, s, len)) return 0;
    return 1;
}

/* Does the text just before pos (within 18 bytes) end with rx? */
static int prefix_is(const ex_ctx *c, const pcre2_code *rx, const char *s, size_t pos)
{
    size_t ws = pos > 18 ? pos - 18 : 0;
    while (ws > 0 && ((unsigned char)s[ws] & 0xC0) == 0x80) ws--;
    return ex_rx_has(c, rx, s + ws, pos - ws);
}

/* Roles named in s[0..len); own-side people ("你们工程师") are skipped;
 * rep_view: only people marked as the customer's ("贵厂技术部", "your IT"). */
static void roles_in(const ex_ctx *c, const char *s, size_t len, int rep_view, extract_result *r)
{
    const ex_lexicon *lx = &c->e->lex;
    for (size_t i = 0; i < lx->roles.n; i++) {
        const ex_rule *ru = &lx->roles.v[i];
        size_t from = 0, ms, me;
        while (from < len && ex_rx_find(c, ru->match, s, len, from, &ms, &me) == 1) {
            from = me > ms ? me : ms + 1;
            if (ru->unless && ex_rx_has(c, ru->unless, s + ms, len - ms)) continue;
            int ok = rep_view ? prefix_is(c, lx->their_side_prefix, s, ms) : !prefix_is(c, lx->own_side_prefix, s, ms);
            if (ok) {
                ex_result_add(r->roles, &r->n_roles, ru->tag);
                break;
            }
        }
    }
}

static void snippet_at(const ex_doc *d, const ex_sentence *st, size_t ms, size_t me, char *out, size_t outsz)
{
    const char *s = d->buf + st->start;
    size_t cs, ce;
    clause(s, st->end - st->start, ms, me, &cs, &ce);
    ex_snippet(s + cs, ce - cs, out, outsz);
}

/* Risks, roles and intents into r; *need_sent / *concern_sent get the
 * sentences that carried the first need and the most severe risk. */
void ex_tags_scan(const ex_ctx *c, const ex_doc *d, extract_result *r, int *need_sent, int *concern_sent)
{
    const ex_lexicon *lx = &c->e->lex;
    int best_sev = -1000;
    (void)need_sent;
    (void)concern_sent;
    /* turns where the customer puts off a demo/presentation the rep proposed */
    unsigned char refused_turn[EX_MAX_DOC_TURNS] = {0};
    for (size_t t = 1; t < d->n_turns; t++) {
        const ex_turn *p = &d->turns[t - 1], *q = &d->turns[t];
        if (p->side == EXTRACT_SIDE_REP && q->side == EXTRACT_SIDE_CUSTOMER &&
            ex_rx_has(c, lx->demo_proposal, d->buf + p->start, p->end - p->start) &&
            ex_rx_has(c, lx->postpone_reply, d->buf + q->start, q->end - q->start)) {
            refused_turn[t] = 1;
            ex_result_add(r->intents, &r->n_intents, "demo_refused");
        }
    }
    for (size_t t = 0; t < d->n_turns; t++) {
        const ex_turn *tu = &d->turns[t];
        if (tu->label_end > tu->label_start && tu->side == EXTRACT_SIDE_CUSTOMER)
            roles_in(c, d->buf + tu->label_start, tu->label_end - tu->label_start, 0, r);
        if (tu->side == EXTRACT_SIDE_REP) {
            /* the person the rep addresses at the start of a turn */
            size_t ms, me;
            const char *s = d->buf + tu->start;
            if (ex_rx_find(c, lx->address, s, tu->end - tu->start, 0, &ms, &me) == 1 && ms == 0)
                roles_in(c, s, me, 0, r);
        }
    }
    int need_set = 0;
    for (size_t i = 0; i < d->n_sent; i++) {
        const ex_sentence *st = &d->sent[i];
        const char *s = d->buf + st->start;
        size_t len = st->end - st->start, ms, me;
        if (st->side != EXTRACT_SIDE_CUSTOMER) {
            roles_in(c, s, len, 1, r);
            continue;
        }
        roles_in(c, s, len, 0, r);
        int resolved = ex_rx_has(c, lx->resolved, s, len);
        if (!resolved) {
            for (size_t k = 0; k < lx->risks.n; k++) {
                const ex_rule *ru = &lx->risks.v[k];
                if (refused_turn[st->turn] && strcmp(ru->tag, "stall") == 0) continue;
                if (!rule_hit(c, ru, s, len, &ms, &me)) continue;
                ex_result_add(r->risks, &r->n_risks, ru->tag);
                if (ru->severity > best_sev) {
                    best_sev = ru->severity;
                    snippet_at(d, st, ms, me, r->concern, sizeof r->concern);
                }
            }
            if (ex_catalog_names_competitor(c, s, len) &&
                !(lx->competitor_dismissed && ex_rx_has(c, lx->competitor_dismissed, s, len))) {
                ex_result_add(r->risks, &r->n_risks, "competitor_pressure");
                if (best_sev < 0) {
                    best_sev = 0;
                    ex_snippet(s, len, r->concern, sizeof r->concern);
                }
            }
        }
        for (size_t k = 0; k < lx->intents.n; k++) {
            const ex_rule *ru = &lx->intents.v[k];
            if (!rule_hit(c, ru, s, len, &ms, &me)) continue;
            /* signing with a competitor is not signing with us */
            if (strcmp(ru->tag, "ready_to_sign") == 0 && ex_catalog_names_competitor(c, s, len)) continue;
            ex_result_add(r->intents, &r->n_intents, ru->tag);
            if (!need_set && strcmp(ru->tag, "demo_refused") != 0) {
                need_set = 1;
                snippet_at(d, st, ms, me, r->core_need, sizeof r->core_need);
            }
        }
    }
    if (ex_meeting_scan(c, d)) ex_result_add(r->intents, &r->n_intents, "meeting_scheduled");
}
