/* facts.h - the pure rules of enrichment that are not text extraction:
 * credibility levels, the customer-side test, activity quality standards,
 * concern severity and how a new fact meets the current one. No I/O. */
#ifndef SP_ENRICH_FACTS_H
#define SP_ENRICH_FACTS_H

#include "salespulse/v1/interaction.pb-c.h"

#include <stddef.h>

/* Credibility of facts taken from ix: 3 (L3) for a signed requirements
 * confirmation (a CRM stage change with signed_requirements, or an e-mail
 * attachment marked signed), 2 (L2) for a rep's note or activity record, 1
 * (L1) for everything said in chat, call, e-mail or meeting. */
int facts_level_of(const Salespulse__V1__Interaction *ix);

/* 1 when the customer spoke in ix: inbound messages, calls with a customer
 * turn, meetings, and rep notes (which report what the customer said). */
int facts_customer_side(const Salespulse__V1__Interaction *ix);

/* The quality standard of a rep activity. Needs diagnosis passes only if it
 * covers procurement, technical and decision-maker roles; a proposal only if
 * it carries customer-specific data; the other kinds pass. Writes a short
 * reason ("missing roles: decision_maker") into reason (cap bytes).
 * Returns 1 pass, 0 fail. */
int facts_activity_quality(const Salespulse__V1__RepActivity *a, char *reason, size_t cap);

/* Severity of a risk tag for the card's "biggest concern": 3 for
 * budget_freeze and decision_change, 2 for competitor_pressure,
 * technical_doubt, after_sales, compliance and delivery, 1 for price and
 * stall, 0 for anything else. */
int facts_risk_severity(const char *tag);

/* How a new single-valued fact (level new_level, value equal to the current
 * one or not) meets the current fact of level cur_level (0 = none):
 * FACT_REPLACE  it becomes current, the old one superseded (same or higher level);
 * FACT_CONFLICT it is kept as a visible conflict (lower level, different value);
 * FACT_CONFIRM  same value at a lower level: kept, superseded at once. */
typedef enum facts_merge {
    FACT_REPLACE = 1,
    FACT_CONFLICT,
    FACT_CONFIRM,
} facts_merge;
facts_merge facts_merge_decide(int cur_level, int new_level, int same_value);

/* Stage enum <-> name ("lead", "qualified", "demo", "proposal",
 * "negotiation", "won", "lost"); unknown -> NULL / 0. */
const char *facts_stage_name(int stage);
int facts_stage_parse(const char *name);

/* Role enum <-> name ("procurement", "technical", "decision_maker",
 * "finance"); unknown -> NULL / 0. */
const char *facts_role_name(int role);
int facts_role_parse(const char *name);

#endif
