/* triggers.c - which evaluations an enriched interaction touches. */
#include "score/triggers.h"

#include <string.h>

#define BIT(k) ((score_kind_mask)1u << (k))

static int has_intent(const Salespulse__V1__Extraction *x, const char *intent)
{
    for (size_t i = 0; x && i < x->n_intents; i++)
        if (x->intents[i] && !strcmp(x->intents[i], intent)) return 1;
    return 0;
}

static int nonempty(const char *s)
{
    return s && *s;
}

sp_err score_enriched_triggers(
    const Salespulse__V1__EnrichedInteraction *ei, const score_rules *r, score_kind_mask *mask)
{
    if (!ei || !ei->interaction || !mask || !r) return SP_EINVAL;
    const Salespulse__V1__Interaction *in = ei->interaction;
    const Salespulse__V1__Extraction *x = ei->extraction;
    int deal = nonempty(ei->deal_id);
    score_kind_mask m = 0;

    if (nonempty(ei->customer_id)) m |= BIT(SCORE_CUSTOMER_STALE);
    if (deal && (ei->customer_side || in->direction == SALESPULSE__V1__DIRECTION__DIRECTION_OUTBOUND)
        && in->channel != SALESPULSE__V1__CHANNEL__CHANNEL_TRACKING)
        m |= BIT(SCORE_UNANSWERED_INBOUND);
    if (deal && ei->customer_side && x && x->n_risks) m |= BIT(SCORE_RISK_RAISED);
    if (deal && has_intent(x, "demo_refused")) m |= BIT(SCORE_DEMO_REFUSED_TWICE);
    for (size_t i = 0; deal && i < r->no_progress.n_intents; i++)
        if (has_intent(x, r->no_progress.intents[i])) m |= BIT(SCORE_NO_PROGRESS_AFTER_VISIT);
    if (deal && ei->customer_side && x && x->n_competitors) m |= BIT(SCORE_COMPETITOR_SURGE);

    switch (in->detail_case) {
    case SALESPULSE__V1__INTERACTION__DETAIL_TRACKING:
        if (in->tracking && in->tracking->page_class == SALESPULSE__V1__PAGE_CLASS__PAGE_CLASS_COMPETITOR)
            m |= BIT(SCORE_COMPETITOR_SURGE);
        if (in->tracking && in->tracking->page_class == SALESPULSE__V1__PAGE_CLASS__PAGE_CLASS_PRODUCT)
            m |= BIT(SCORE_INTEREST_WARMING);
        break;
    case SALESPULSE__V1__INTERACTION__DETAIL_STAGE_CHANGE:
        m |= BIT(SCORE_STAGE_STALLED) | BIT(SCORE_NO_PROGRESS_AFTER_VISIT) | BIT(SCORE_KEY_ROLE_UNCOVERED)
            | BIT(SCORE_STATUS_NOT_UPDATED);
        break;
    case SALESPULSE__V1__INTERACTION__DETAIL_ACTIVITY:
        if (in->activity
            && (in->activity->kind == SALESPULSE__V1__ACTIVITY_KIND__ACTIVITY_KIND_VISIT
                || in->activity->kind == SALESPULSE__V1__ACTIVITY_KIND__ACTIVITY_KIND_EXECUTIVE_VISIT))
            m |= BIT(SCORE_NO_PROGRESS_AFTER_VISIT);
        m |= BIT(SCORE_KEY_ACTION_MISSING);
        if (deal) m |= BIT(SCORE_STATUS_NOT_UPDATED);
        break;
    default: break;
    }
    if (in->channel == SALESPULSE__V1__CHANNEL__CHANNEL_NOTE && deal) m |= BIT(SCORE_STATUS_NOT_UPDATED);
    if (deal && ei->n_contact_roles) m |= BIT(SCORE_KEY_ROLE_UNCOVERED);
    *mask = m;
    return SP_OK;
}

sp_err score_enriched_ctx(const Salespulse__V1__EnrichedInteraction *ei, score_kind kind, score_ctx *ctx)
{
    if (!ei || !ctx || !score_kind_name(kind)) return SP_EINVAL;
    memset(ctx, 0, sizeof *ctx);
    ctx->owner_rep_id = ei->rep_id;
    ctx->team_id = ei->team_id;
    ctx->region_id = ei->region_id;
    ctx->customer_id = ei->customer_id;
    ctx->deal_id = ei->deal_id;
    switch (score_kind_subject(kind)) {
    case SCORE_SUBJECT_DEAL: ctx->subject_id = ei->deal_id; break;
    case SCORE_SUBJECT_CUSTOMER: ctx->subject_id = ei->customer_id; break;
    case SCORE_SUBJECT_REP: ctx->subject_id = ei->rep_id; break;
    case SCORE_SUBJECT_TEAM: ctx->subject_id = ei->team_id; break;
    case SCORE_SUBJECT_REGION: ctx->subject_id = ei->region_id; break;
    }
    return nonempty(ctx->subject_id) ? SP_OK : SP_ENOTFOUND;
}

/* 1 when ei by itself cannot make kind's condition true at its own time:
 * it makes it false, or only shortens what the condition measures (a
 * contact's touch: no role's gap grows; a role crossing its days in the
 * silence before is the sweeps' to find, as for any silence). */
static int event_clears(const Salespulse__V1__EnrichedInteraction *ei, score_kind kind)
{
    const Salespulse__V1__Interaction *in = ei->interaction;
    if (in->channel == SALESPULSE__V1__CHANNEL__CHANNEL_TRACKING) return 0;
    if (kind == SCORE_CUSTOMER_STALE) return 1;
    if (kind == SCORE_UNANSWERED_INBOUND)
        return in->direction == SALESPULSE__V1__DIRECTION__DIRECTION_OUTBOUND;
    if (kind == SCORE_KEY_ROLE_UNCOVERED) /* a stage change may make the roles count */
        return in->detail_case != SALESPULSE__V1__INTERACTION__DETAIL_STAGE_CHANGE;
    return 0;
}

sp_err score_enriched_each(
    const Salespulse__V1__EnrichedInteraction *ei, const score_rules *r, score_eval_fn fn, void *arg)
{
    if (!ei || !ei->interaction || !r || !fn) return SP_EINVAL;
    score_kind_mask mask = 0;
    sp_err rv = score_enriched_triggers(ei, r, &mask);
    for (int k = 0; rv == SP_OK && k < SCORE_KIND_COUNT; k++) {
        score_ctx ctx;
        if (!(mask & (1u << k)) || score_enriched_ctx(ei, (score_kind)k, &ctx) != SP_OK) continue;
        if (score_kind_subject((score_kind)k) == SCORE_SUBJECT_REP) continue;
        if (k != SCORE_RISK_RAISED) {
            rv = fn(arg, (score_kind)k, ctx.subject_id, "", event_clears(ei, (score_kind)k));
            continue;
        }
        const Salespulse__V1__Extraction *x = ei->extraction;
        for (size_t i = 0; rv == SP_OK && x && i < x->n_risks; i++) {
            int seen = !x->risks[i] || !*x->risks[i];
            for (size_t j = 0; j < i && !seen; j++)
                seen = !strcmp(x->risks[j], x->risks[i]);
            if (!seen) rv = fn(arg, (score_kind)k, ctx.subject_id, x->risks[i], 0);
        }
    }
    return rv;
}

sp_err score_enriched_touch(const Salespulse__V1__EnrichedInteraction *ei, const char *label, score_touch *t)
{
    if (!ei || !ei->interaction || !t) return SP_EINVAL;
    const Salespulse__V1__Interaction *in = ei->interaction;
    const Salespulse__V1__Extraction *x = ei->extraction;
    memset(t, 0, sizeof *t);
    t->interaction_id = in->meta ? in->meta->event_id : "";
    t->at_ms = in->meta ? in->meta->occurred_at_ms : 0;
    t->label = label;
    t->quote = "";
    if (ei->customer_side && x)
        t->quote = nonempty(x->concern) ? x->concern : nonempty(x->core_need) ? x->core_need : "";
    return SP_OK;
}
