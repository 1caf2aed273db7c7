/* facts.c - credibility, customer side, quality standards, fact merging. */
#include "enrich/facts.h"

#include <stdio.h>
#include <string.h>

typedef Salespulse__V1__Interaction Ix;

int facts_level_of(const Ix *ix)
{
    if (ix->detail_case == SALESPULSE__V1__INTERACTION__DETAIL_STAGE_CHANGE && ix->stage_change
        && ix->stage_change->signed_requirements)
        return 3;
    if (ix->detail_case == SALESPULSE__V1__INTERACTION__DETAIL_EMAIL && ix->email) {
        for (size_t i = 0; i < ix->email->n_attachments; i++)
            if (ix->email->attachments[i]->signed_) return 3;
    }
    if (ix->channel == SALESPULSE__V1__CHANNEL__CHANNEL_NOTE
        || ix->channel == SALESPULSE__V1__CHANNEL__CHANNEL_ACTIVITY)
        return 2;
    return 1;
}

int facts_customer_side(const Ix *ix)
{
    switch (ix->channel) {
    case SALESPULSE__V1__CHANNEL__CHANNEL_NOTE:
    case SALESPULSE__V1__CHANNEL__CHANNEL_MEETING: return 1;
    case SALESPULSE__V1__CHANNEL__CHANNEL_CALL:
        for (size_t i = 0; i < ix->n_turns; i++)
            if (ix->turns[i]->speaker == SALESPULSE__V1__SPEAKER__SPEAKER_CUSTOMER) return 1;
        return ix->direction == SALESPULSE__V1__DIRECTION__DIRECTION_INBOUND;
    case SALESPULSE__V1__CHANNEL__CHANNEL_TRACKING: return 0; /* behaviour, not words */
    default: return ix->direction == SALESPULSE__V1__DIRECTION__DIRECTION_INBOUND;
    }
}

int facts_activity_quality(const Salespulse__V1__RepActivity *a, char *reason, size_t cap)
{
    if (reason && cap) reason[0] = '\0';
    if (a == NULL) return 0;
    if (a->kind == SALESPULSE__V1__ACTIVITY_KIND__ACTIVITY_KIND_NEEDS_DIAGNOSIS) {
        static const int need[] = {SALESPULSE__V1__ROLE__ROLE_PROCUREMENT,
            SALESPULSE__V1__ROLE__ROLE_TECHNICAL, SALESPULSE__V1__ROLE__ROLE_DECISION_MAKER};
        char missing[128] = "";
        for (size_t k = 0; k < 3; k++) {
            int found = 0;
            for (size_t i = 0; i < a->n_roles_covered; i++)
                if ((int)a->roles_covered[i] == need[k]) found = 1;
            if (!found) {
                size_t l = strlen(missing);
                snprintf(missing + l, sizeof missing - l, "%s%s", l ? "," : "", facts_role_name(need[k]));
            }
        }
        if (*missing) {
            if (reason) snprintf(reason, cap, "missing roles: %s", missing);
            return 0;
        }
        return 1;
    }
    if (a->kind == SALESPULSE__V1__ACTIVITY_KIND__ACTIVITY_KIND_PROPOSAL && !a->customer_specific_data) {
        if (reason) snprintf(reason, cap, "proposal without customer-specific data");
        return 0;
    }
    return a->kind != SALESPULSE__V1__ACTIVITY_KIND__ACTIVITY_KIND_UNSPECIFIED;
}

int facts_risk_severity(const char *tag)
{
    static const struct {
        const char *tag;
        int sev;
    } t[] = {
        {"budget_freeze", 3},
        {"decision_change", 3},
        {"competitor_pressure", 2},
        {"technical_doubt", 2},
        {"after_sales", 2},
        {"compliance", 2},
        {"delivery", 2},
        {"price", 1},
        {"stall", 1},
    };
    for (size_t i = 0; tag && i < sizeof t / sizeof t[0]; i++)
        if (strcmp(t[i].tag, tag) == 0) return t[i].sev;
    return 0;
}

facts_merge facts_merge_decide(int cur_level, int new_level, int same_value)
{
    if (new_level >= cur_level) return FACT_REPLACE;
    return same_value ? FACT_CONFIRM : FACT_CONFLICT;
}

static const char *const stages[]
    = {NULL, "lead", "qualified", "demo", "proposal", "negotiation", "won", "lost"};
static const char *const roles[] = {NULL, "procurement", "technical", "decision_maker", "finance"};

const char *facts_stage_name(int stage)
{
    return stage > 0 && stage < (int)(sizeof stages / sizeof stages[0]) ? stages[stage] : NULL;
}

int facts_stage_parse(const char *name)
{
    for (int i = 1; name && i < (int)(sizeof stages / sizeof stages[0]); i++)
        if (strcmp(stages[i], name) == 0) return i;
    return 0;
}

const char *facts_role_name(int role)
{
    return role > 0 && role < (int)(sizeof roles / sizeof roles[0]) ? roles[role] : NULL;
}

int facts_role_parse(const char *name)
{
    for (int i = 1; name && i < (int)(sizeof roles / sizeof roles[0]); i++)
        if (strcmp(roles[i], name) == 0) return i;
    return 0;
}
