/* signal_state.c - raise / update / clear with hysteresis; deterministic ids. */
#include "score/signal_state.h"

#include <stdio.h>
#include <string.h>

double score_hyst_relax(double threshold, double margin, int below)
{
    return below ? threshold * (1.0 + margin) : threshold * (1.0 - margin);
}

const char *score_transition_name(score_transition tr)
{
    switch (tr) {
    case SCORE_TR_RAISED: return "raised";
    case SCORE_TR_UPDATED: return "updated";
    case SCORE_TR_CLEARED: return "cleared";
    default: return "none";
    }
}

sp_err score_state_apply(
    score_state *st, const score_obs *obs, const score_rule *rule, int64_t now_ms, score_transition *out)
{
    if (!st || !obs || !rule || !out) return SP_EINVAL;
    if (obs->met && (obs->level < 1 || obs->level > 3)) return SP_EINVAL;
    *out = SCORE_TR_NONE;
    st->last_value = obs->value;
    int met = rule->enabled && obs->met;
    int held = rule->enabled && (obs->held || obs->met);

    if (!st->active) {
        st->clear_pending_since_ms = 0;
        if (!met) return SP_OK;
        st->active = 1;
        st->episode++;
        st->revision = 1;
        st->level = obs->level;
        st->raised_at_ms = now_ms;
        st->changed_at_ms = now_ms;
        st->evidence_hash = obs->evidence_hash;
        *out = SCORE_TR_RAISED;
        return SP_OK;
    }
    if (!held) {
        /* Outside the band: clear at once, or once it has stayed out for the delay. */
        if (!st->clear_pending_since_ms) st->clear_pending_since_ms = now_ms;
        if (!rule->enabled || now_ms - st->clear_pending_since_ms >= rule->clear_delay_ms) {
            st->active = 0;
            st->revision++;
            st->changed_at_ms = now_ms;
            st->clear_pending_since_ms = 0;
            *out = SCORE_TR_CLEARED;
        }
        return SP_OK;
    }
    st->clear_pending_since_ms = 0;
    /* Inside the band but below the raise threshold: the level of the last
     * raise stands; only a met observation can change level or evidence. */
    if (met && (obs->level != st->level || obs->evidence_hash != st->evidence_hash)) {
        st->level = obs->level;
        st->evidence_hash = obs->evidence_hash;
        st->revision++;
        st->changed_at_ms = now_ms;
        *out = SCORE_TR_UPDATED;
    }
    return SP_OK;
}

sp_err score_signal_id(
    score_kind kind, const char *subject_id, const char *variant, uint32_t episode, char *buf, size_t len)
{
    const char *kn = score_kind_name(kind);
    if (!kn || !subject_id || !*subject_id || !buf) return SP_EINVAL;
    int n;
    if (variant && *variant)
        n = snprintf(buf, len, "sig:%s:%s:%s#%s:%u", kn, score_subject_type_name(score_kind_subject(kind)),
            subject_id, variant, episode);
    else
        n = snprintf(buf, len, "sig:%s:%s:%s:%u", kn, score_subject_type_name(score_kind_subject(kind)),
            subject_id, episode);
    return n < 0 || (size_t)n >= len ? SP_ETOOBIG : SP_OK;
}

sp_err score_event_id(const char *signal_id, score_transition tr, uint32_t revision, char *buf, size_t len)
{
    if (!signal_id || !*signal_id || !buf || tr == SCORE_TR_NONE) return SP_EINVAL;
    int n = snprintf(buf, len, "%s:%s:%u", signal_id, score_transition_name(tr), revision);
    return n < 0 || (size_t)n >= len ? SP_ETOOBIG : SP_OK;
}

uint64_t score_hash_str(uint64_t h, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    h ^= 0x1f; /* separator */
    h *= 1099511628211ULL;
    return h;
}
