/* signal_msg.c - score_eval + transition -> Salespulse__V1__Signal in one block. */
#include "score/signal_msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Everything a built Signal points to; sig first so the Signal pointer is
 * the block. */
typedef struct sig_box {
    Salespulse__V1__Signal sig;
    Salespulse__V1__EventMeta meta;
    Salespulse__V1__Subject subject;
    Salespulse__V1__Evidence evidence;
    Salespulse__V1__Metric metrics[SCORE_EV_NUMBERS];
    Salespulse__V1__Metric *metric_ptrs[SCORE_EV_NUMBERS];
    char *id_ptrs[SCORE_EV_IDS];
    char *quote_ptrs[SCORE_EV_QUOTES];
    char *tag_ptrs[SCORE_EV_TAGS];
    score_eval ev;
    char tenant[SCORE_ID_LEN];
    char trace[SCORE_ID_LEN];
    char kind[SCORE_NAME_MAX];
    char signal_id[2 * SCORE_ID_LEN + 64];
    char event_id[2 * SCORE_ID_LEN + 96];
    char metric_names[SCORE_EV_NUMBERS][SCORE_NAME_MAX];
    char zh[SCORE_TEXT_LEN + 32];
    char en[SCORE_TEXT_LEN + 32];
} sig_box;

sp_err score_signal_build(const score_eval *ev, const score_state *st, score_transition tr, int64_t now_ms,
    const char *tenant_id, const char *trace_id, Salespulse__V1__Signal **out)
{
    if (!ev || !st || !out || tr == SCORE_TR_NONE || !ev->subject_id[0] || !score_kind_name(ev->kind))
        return SP_EINVAL;
    sig_box *b = calloc(1, sizeof *b);
    if (!b) return SP_ENOMEM;
    b->ev = *ev;
    score_eval *e = &b->ev;
    sp_err rv;
    if ((rv = score_signal_id(
             e->kind, e->subject_id, e->variant, st->episode, b->signal_id, sizeof b->signal_id))
            != SP_OK
        || (rv = score_event_id(b->signal_id, tr, st->revision, b->event_id, sizeof b->event_id)) != SP_OK) {
        free(b);
        return rv;
    }
    snprintf(b->kind, sizeof b->kind, "%s", score_kind_name(e->kind));
    snprintf(b->tenant, sizeof b->tenant, "%s", tenant_id ? tenant_id : "");
    snprintf(b->trace, sizeof b->trace, "%s", trace_id ? trace_id : "");
    const char *pz = tr == SCORE_TR_CLEARED ? "已解除：" : "";
    const char *pe = tr == SCORE_TR_CLEARED ? "cleared: " : "";
    snprintf(b->zh, sizeof b->zh, "%s%s", pz, e->explanation_zh);
    snprintf(b->en, sizeof b->en, "%s%s", pe, e->explanation_en);

    salespulse__v1__event_meta__init(&b->meta);
    b->meta.event_id = b->event_id;
    b->meta.occurred_at_ms = now_ms;
    b->meta.produced_at_ms = now_ms;
    b->meta.producer = (char *)"sp-score";
    b->meta.trace_id = b->trace;
    b->meta.schema_version = 1;
    b->meta.tenant_id = b->tenant;

    salespulse__v1__subject__init(&b->subject);
    b->subject.type = (Salespulse__V1__SubjectType)score_kind_subject(e->kind);
    b->subject.id = e->subject_id;

    salespulse__v1__evidence__init(&b->evidence);
    for (size_t i = 0; i < e->n_ids; i++)
        b->id_ptrs[i] = e->ids[i];
    b->evidence.n_interaction_ids = e->n_ids;
    b->evidence.interaction_ids = e->n_ids ? b->id_ptrs : NULL;
    for (size_t i = 0; i < e->n_numbers; i++) {
        salespulse__v1__metric__init(&b->metrics[i]);
        snprintf(b->metric_names[i], SCORE_NAME_MAX, "%s", e->numbers[i].name ? e->numbers[i].name : "");
        b->metrics[i].name = b->metric_names[i];
        b->metrics[i].value = e->numbers[i].value;
        b->metric_ptrs[i] = &b->metrics[i];
    }
    b->evidence.n_numbers = e->n_numbers;
    b->evidence.numbers = e->n_numbers ? b->metric_ptrs : NULL;
    for (size_t i = 0; i < e->n_quotes; i++)
        b->quote_ptrs[i] = e->quotes[i];
    b->evidence.n_quotes = e->n_quotes;
    b->evidence.quotes = e->n_quotes ? b->quote_ptrs : NULL;

    Salespulse__V1__Signal *s = &b->sig;
    salespulse__v1__signal__init(s);
    s->meta = &b->meta;
    s->signal_id = b->signal_id;
    s->kind = b->kind;
    s->transition = (Salespulse__V1__Transition)tr;
    int level = tr == SCORE_TR_CLEARED ? st->level : e->obs.level;
    s->level = (Salespulse__V1__Level)(level >= 1 && level <= 3 ? level : 0);
    s->subject = &b->subject;
    s->owner_rep_id = e->owner_rep_id;
    s->team_id = e->team_id;
    s->region_id = e->region_id;
    s->customer_id = e->customer_id;
    s->deal_id = e->deal_id;
    s->episode = st->episode;
    s->explanation_zh = b->zh;
    s->explanation_en = b->en;
    s->evidence = &b->evidence;
    for (size_t i = 0; i < e->n_tags; i++)
        b->tag_ptrs[i] = e->tags[i];
    s->n_tags = e->n_tags;
    s->tags = e->n_tags ? b->tag_ptrs : NULL;
    *out = s;
    return SP_OK;
}

void score_signal_free(Salespulse__V1__Signal *sig)
{
    free((sig_box *)sig);
}

sp_err score_signal_step(score_state *st, const score_eval *ev, const score_rules *r, int64_t now_ms,
    const char *tenant_id, score_transition *tr, Salespulse__V1__Signal **out)
{
    if (!st || !ev || !r || !tr || !out || !score_kind_name(ev->kind)) return SP_EINVAL;
    score_state next = *st;
    sp_err rv = score_state_apply(&next, &ev->obs, &r->rule[ev->kind], now_ms, tr);
    if (rv != SP_OK) return rv;
    *out = NULL;
    if (*tr != SCORE_TR_NONE
        && (rv = score_signal_build(ev, &next, *tr, now_ms, tenant_id, NULL, out)) != SP_OK)
        return rv;
    *st = next;
    return SP_OK;
}
