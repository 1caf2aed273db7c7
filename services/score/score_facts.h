/* score_facts.h - the facts of each signal kind for one subject, read from
 * PostgreSQL as they stood at event time now_ms: every query is bounded by
 * occurred_at <= now (deals through score_deal_at, their stage history up to
 * now), so a replay reads the same facts whatever sp-enrich has applied
 * since. Parameterised SQL only.
 *
 * Strings in the facts are borrowed from the query results a score_loaded
 * holds: valid until score_loaded_release. A score_loaded is plain memory
 * (fixed arrays), zero it before the first use; it is large (~40 KiB):
 * keep it off small stacks. */
#ifndef SCORE_FACTS_H
#define SCORE_FACTS_H

#include "db.h"
#include "err.h"
#include "score/calendar.h"
#include "score/memo.h"
#include "score/rules.h"
#include "score/signals.h"

#include <stdint.h>

#define SCORE_LOAD_MAX     64 /* evidence rows per list */
#define SCORE_LOAD_RESULTS 8
/* A customer-side risk tag counts open this long after its last mention. */
#define SCORE_RISK_OPEN_DAYS 30
/* Open-ended lookups (last interaction, last update, last role seen) look
 * back at most this far (partition pruning); keep it above every threshold. */
#define SCORE_HORIZON_DAYS_S "200"

typedef struct score_loaded {
    PGresult *res[SCORE_LOAD_RESULTS];
    size_t n_res;
    score_memo *memo; /* may be NULL: every query run, its result kept in res */
    score_ctx ctx;
    /* deal subjects: the deal as it stood at now (score_deal_at) */
    int deal_found, deal_open, stage;
    int64_t stage_since_ms, deal_created_ms, customer_created_ms;
    int64_t customer_imported_ms; /* the CRM import's last interaction, if <= now; else 0 */
    score_touch touches[SCORE_LOAD_MAX];
    score_role_seen roles[8];
    score_day_actions days[SCORE_LOAD_MAX];
    score_deal_update deals[SCORE_LOAD_MAX];
    score_week_leads weeks[8];
    score_funnel_step steps[8];
} score_loaded;

/* Frees the query results; the facts that borrowed from them die too. */
void score_loaded_release(score_loaded *L);

/* The subject's display name and routing ids (and, for deals, the deal as
 * it stood at now_ms) into L->ctx. An unknown subject leaves only
 * subject_id set. SP_EDB / SP_EDBDOWN from the database. */
sp_err score_load_ctx(sp_db *db, score_loaded *L, score_kind kind, const char *subject_id, int64_t now_ms);

/* One loader per kind: fills *f for the subject (deal, customer, rep, team
 * or region id as the kind says) at now_ms; calls score_load_ctx itself.
 * Errors: SP_EDB / SP_EDBDOWN, SP_EINVAL for NULL arguments. */
sp_err score_load_no_progress(
    sp_db *db, score_loaded *L, const char *deal_id, int64_t now_ms, score_facts_no_progress *f);
sp_err score_load_key_role(
    sp_db *db, score_loaded *L, const char *deal_id, int64_t now_ms, score_facts_key_role *f);
sp_err score_load_surge(sp_db *db, score_loaded *L, const score_rules *r, const char *deal_id, int64_t now_ms,
    score_facts_surge *f);
sp_err score_load_demo_refused(sp_db *db, score_loaded *L, const score_rules *r, const char *deal_id,
    int64_t now_ms, score_facts_demo_refused *f);
sp_err score_load_stalled(
    sp_db *db, score_loaded *L, const char *deal_id, int64_t now_ms, score_facts_stalled *f);
/* tag: the risk tag (the state's variant). */
sp_err score_load_risk(
    sp_db *db, score_loaded *L, const char *deal_id, const char *tag, int64_t now_ms, score_facts_risk *f);
sp_err score_load_unanswered(
    sp_db *db, score_loaded *L, const char *deal_id, int64_t now_ms, score_facts_unanswered *f);
sp_err score_load_warming(sp_db *db, score_loaded *L, const score_rules *r, const char *customer_id,
    int64_t now_ms, score_facts_warming *f);
sp_err score_load_stale(
    sp_db *db, score_loaded *L, const char *customer_id, int64_t now_ms, score_facts_stale *f);
sp_err score_load_key_action(sp_db *db, score_loaded *L, const score_calendar *cal, const char *rep_id,
    int64_t now_ms, score_facts_key_action *f);
sp_err score_load_status(
    sp_db *db, score_loaded *L, const char *rep_id, int64_t now_ms, score_facts_status *f);
sp_err score_load_first_visit(sp_db *db, score_loaded *L, const score_rules *r, const score_calendar *cal,
    const char *region_id, int64_t now_ms, score_facts_first_visit *f);
sp_err score_load_funnel(sp_db *db, score_loaded *L, const score_rules *r, const char *team_id,
    int64_t now_ms, score_facts_funnel *f);

/* Loads the facts of kind for (subject, variant) and evaluates them at
 * now_ms into *out, releasing what it loaded. variant: the risk tag for
 * deal.risk_raised, else NULL / "". Errors: the loader's, the evaluator's
 * (SP_EINVAL for a risk evaluation without a tag). */
sp_err score_facts_eval(sp_db *db, const score_rules *r, const score_calendar *cal, score_kind kind,
    const char *subject_id, const char *variant, int64_t now_ms, score_eval *out);
/* The same, reading through memo (NULL: every query run): a collecting
 * memo answers SP_EAGAIN until what the evaluation reads has been run
 * (score_memo_run). */
sp_err score_facts_eval_cached(sp_db *db, score_memo *memo, const score_rules *r, const score_calendar *cal,
    score_kind kind, const char *subject_id, const char *variant, int64_t now_ms, score_eval *out);

/* Role name ("procurement", ...) -> Salespulse__V1__Role value; 0 unknown. */
int score_role_parse(const char *name);

#endif
