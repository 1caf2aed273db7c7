/* signals.c - the thirteen evaluators: facts + rules + now -> score_eval. */
#include "score/signals.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define HOUR_MS 3600000.0
#define DAY_MS  86400000.0

/* --- evidence helpers ------------------------------------------------------ */

/* Cuts a string that snprintf may have truncated back to a whole UTF-8
 * character. */
static void utf8_trim(char *s)
{
    size_t n = strlen(s);
    size_t i = n;
    while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--;
    if (i == 0) return;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (n - (i - 1) < need) s[i - 1] = '\0';
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
    utf8_trim(dst);
}

static void add_id(score_eval *e, const char *id)
{
    if (!id || !*id || e->n_ids >= SCORE_EV_IDS) return;
    for (size_t i = 0; i < e->n_ids; i++)
        if (!strcmp(e->ids[i], id)) return;
    copy_str(e->ids[e->n_ids++], SCORE_ID_LEN, id);
}

static void add_number(score_eval *e, const char *name, double v)
{
    if (e->n_numbers >= SCORE_EV_NUMBERS) return;
    e->numbers[e->n_numbers].name = name;
    e->numbers[e->n_numbers].value = v;
    e->n_numbers++;
}

static void add_quote(score_eval *e, const char *q)
{
    if (!q || !*q || e->n_quotes >= SCORE_EV_QUOTES) return;
    copy_str(e->quotes[e->n_quotes++], SCORE_QUOTE_LEN, q);
}

__attribute__((format(printf, 2, 3))) static void add_tag(score_eval *e, const char *fmt, ...)
{
    char t[SCORE_TAG_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t, sizeof t, fmt, ap);
    va_end(ap);
    utf8_trim(t);
    if (e->n_tags >= SCORE_EV_TAGS) return;
    for (size_t i = 0; i < e->n_tags; i++)
        if (!strcmp(e->tags[i], t)) return;
    memcpy(e->tags[e->n_tags++], t, sizeof t);
}

__attribute__((format(printf, 3, 4))) static void explain(char *dst, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
    utf8_trim(dst);
}

static const char *name_of(const score_eval *e)
{
    return e->subject_name[0] ? e->subject_name : e->subject_id;
}

/* Common start: copies the context, sets the rule's level and, unless the
 * evaluator picks its own, the rule's assignee hints as tags. */
static sp_err eval_init(
    score_eval *e, score_kind kind, const score_ctx *c, const score_rules *r, int assignees)
{
    memset(e, 0, sizeof *e);
    e->kind = kind;
    if (!c->subject_id || !*c->subject_id) return SP_EINVAL;
    copy_str(e->subject_id, SCORE_ID_LEN, c->subject_id);
    copy_str(e->subject_name, SCORE_ID_LEN, c->subject_name);
    copy_str(e->owner_rep_id, SCORE_ID_LEN, c->owner_rep_id);
    copy_str(e->team_id, SCORE_ID_LEN, c->team_id);
    copy_str(e->region_id, SCORE_ID_LEN, c->region_id);
    copy_str(e->customer_id, SCORE_ID_LEN, c->customer_id);
    copy_str(e->deal_id, SCORE_ID_LEN, c->deal_id);
    const score_rule *rule = &r->rule[kind];
    e->obs.level = rule->level;
    for (size_t i = 0; assignees && i < rule->n_assignees; i++)
        add_tag(e, "assignee:%s", rule->assignees[i]);
    return SP_OK;
}

/* Evidence fingerprint: what changes materially (ids and/or tags). */
static void eval_hash(score_eval *e, int with_ids)
{
    uint64_t h = score_hash_str(SCORE_HASH_INIT, e->variant);
    for (size_t i = 0; with_ids && i < e->n_ids; i++)
        h = score_hash_str(h, e->ids[i]);
    for (size_t i = 0; i < e->n_tags; i++)
        h = score_hash_str(h, e->tags[i]);
    e->obs.evidence_hash = h;
}

static void set_obs(score_eval *e, int met, int held, double value, double threshold)
{
    e->obs.met = met;
    e->obs.held = met || held;
    e->obs.value = value;
    e->obs.threshold = threshold;
}

static double days_since(int64_t now_ms, int64_t t)
{
    return (double)(now_ms - t) / DAY_MS;
}

static int whole(double x)
{
    return x < 0 ? 0 : (int)floor(x + 1e-9);
}

static const char *stage_zh(int stage)
{
    static const char *const zh[] = {"未知", "线索", "已确认", "演示", "方案", "谈判", "赢单", "输单"};
    return stage >= 0 && stage < 8 ? zh[stage] : zh[0];
}

static const char *role_zh(int role)
{
    static const char *const zh[] = {"未知", "采购", "技术", "决策人", "财务"};
    return role >= 0 && role < 5 ? zh[role] : zh[0];
}

static const char *role_en(int role)
{
    static const char *const en[] = {"unspecified", "procurement", "technical", "decision_maker", "finance"};
    return role >= 0 && role < 5 ? en[role] : en[0];
}

/* A tag's Chinese name in a table of the extraction contract's tags. */
struct tag_name {
    const char *tag, *zh;
};

static const char *tag_zh(const struct tag_name *names, size_t n, const char *tag)
{
    for (size_t i = 0; tag && i < n; i++)
        if (!strcmp(tag, names[i].tag)) return names[i].zh;
    return NULL;
}

/* zh when there is one, else the tag itself (a tenant lexicon's own tag). */
static const char *zh_or_tag(const char *zh, const char *tag)
{
    return zh ? zh : tag;
}

const char *score_intent_name_zh(const char *tag)
{
    static const struct tag_name names[] = {{"inquiry", "询价"}, {"demo_request", "要求演示"},
        {"demo_refused", "拒绝演示"}, {"ready_to_sign", "准备签约"}, {"meeting_scheduled", "约定会面"}};
    return tag_zh(names, sizeof names / sizeof names[0], tag);
}

const char *score_risk_name_zh(const char *tag)
{
    static const struct tag_name names[]
        = {{"price", "价格异议"}, {"budget_freeze", "预算冻结"}, {"stall", "推进停滞"},
            {"after_sales", "售后问题"}, {"technical_doubt", "技术疑虑"}, {"compliance", "合规审批"},
            {"decision_change", "决策变化"}, {"delivery", "交付风险"}, {"competitor_pressure", "竞品压力"}};
    return tag_zh(names, sizeof names / sizeof names[0], tag);
}

#define CHECK_ARGS(f, r, out)                                                                                \
    do {                                                                                                     \
        if (!(f) || !(r) || !(out)) return SP_EINVAL;                                                        \
    } while (0)

/* --- deal.no_progress_after_visit ----------------------------------------- */

sp_err score_eval_no_progress_after_visit(
    const score_facts_no_progress *f, const score_rules *r, int64_t now_ms, score_eval *e)
{
    CHECK_ARGS(f, r, e);
    sp_err rv = eval_init(e, SCORE_NO_PROGRESS_AFTER_VISIT, &f->ctx, r, 1);
    if (rv != SP_OK) return rv;
    add_tag(e, "pack:self_check");
    double th = r->no_progress.days;
    if (!f->deal_open || f->visit.at_ms <= 0) {
        set_obs(e, 0, 0, 0, th);
        explain(e->explanation_zh, SCORE_TEXT_LEN, "商机%s 无待跟进的拜访", name_of(e));
        explain(e->explanation_en, SCORE_TEXT_LEN, "no pending visit on deal %s", name_of(e));
        eval_hash(e, 1);
        return SP_OK;
    }
    const char *commit = NULL;
    for (size_t i = 0; i < f->n_intents && !commit; i++) {
        if (!f->intents[i].label || f->intents[i].at_ms < f->visit.at_ms) continue;
        for (size_t k = 0; k < r->no_progress.n_intents; k++) {
            if (!strcmp(f->intents[i].label, r->no_progress.intents[k])) {
                commit = f->intents[i].label;
                add_id(e, f->intents[i].interaction_id);
                add_quote(e, f->intents[i].quote);
                break;
            }
        }
    }
    add_id(e, f->visit.interaction_id);
    double d = days_since(now_ms, f->visit.at_ms);
    int blocked = f->stage_advanced || commit;
    set_obs(e, !blocked && d >= th, !blocked && d >= score_hyst_relax(th, r->rule[e->kind].margin, 0), d, th);
    add_number(e, "days_since_visit", d);
    add_number(e, "stage_advanced", f->stage_advanced ? 1 : 0);
    add_number(e, "commitments", commit ? 1 : 0);
    if (blocked) {
        explain(e->explanation_zh, SCORE_TEXT_LEN, "商机%s 拜访后已有进展（%s）", name_of(e),
            f->stage_advanced ? "阶段推进" : zh_or_tag(score_intent_name_zh(commit), commit));
        explain(e->explanation_en, SCORE_TEXT_LEN, "deal %s progressed after the visit (%s)", name_of(e),
            f->stage_advanced ? "stage advanced" : commit);
    } else {
        explain(e->explanation_zh, SCORE_TEXT_LEN, "商机%s 拜访后 %d 天无阶段推进且客户无承诺", name_of(e),
            whole(d));
        explain(e->explanation_en, SCORE_TEXT_LEN,
            "deal %s: no stage advance and no customer commitment %d days after the visit", name_of(e),
            whole(d));
    }
    eval_hash(e, 1);
    return SP_OK;
}

/* --- deal.key_role_uncovered --------------------------------------------------- */

sp_err score_eval_key_role_uncovered(
    const score_facts_key_role *f, const score_rules *r, int64_t now_ms, score_eval *e)
{
    CHECK_ARGS(f, r, e);
    sp_err rv = eval_init(e, SCORE_KEY_ROLE_UNCOVERED, &f->ctx, r, 1);
    if (rv != SP_OK) return rv;
    add_tag(e, "pack:joint_visit");
    double th = r->key_role.days, relax = score_hyst_relax(th, r->rule[e->kind].margin, 0);
    int applies = f->deal_open && f->stage >= r->key_role.min_stage && f->stage <= 5;
    double worst = 0;
    char zh[192] = "", en[192] = "";
    int n_uncovered = 0;
    for (size_t k = 0; k < r->key_role.n_roles; k++) {
        int role = r->key_role.roles[k];
        const score_role_seen *seen = NULL;
        for (size_t i = 0; i < f->n_roles; i++)
            if (f->roles[i].role == role && f->roles[i].last_seen_ms > 0
                && (!seen || f->roles[i].last_seen_ms > seen->last_seen_ms))
                seen = &f->roles[i];
        double gap = seen            ? days_since(now_ms, seen->last_seen_ms)
            : f->deal_created_ms > 0 ? days_since(now_ms, f->deal_created_ms)
                                     : th;
        if (gap > worst) worst = gap;
        if (gap >= th) {
            n_uncovered++;
            add_tag(e, "role:%s", role_en(role));
            if (seen) add_id(e, seen->interaction_id);
            size_t zl = strlen(zh), el = strlen(en);
            snprintf(
                zh + zl, sizeof zh - zl, "%s%s %s", zl ? "，" : "", role_zh(role), seen ? "" : "从未出现");
            snprintf(
                en + el, sizeof en - el, "%s%s%s", el ? ", " : "", role_en(role), seen ? "" : " (never)");
        }
    }
    set_obs(e, applies && worst >= th, applies && worst >= relax, worst, th);
    add_number(e, "days_uncovered_max", worst);
    add_number(e, "roles_uncovered", n_uncovered);
    add_number(e, "stage", f->stage);
    if (n_uncovered) {
        explain(e->explanation_zh, SCORE_TEXT_LEN, "商机%s（%s阶段）关键角色 %d 天未覆盖：%s", name_of(e),
            stage_zh(f->stage), whole(worst), zh);
        explain(e->explanation_en, SCORE_TEXT_LEN,
            "deal %s (%s): key roles not in any interaction for %d days: %s", name_of(e),
            score_stage_name(f->stage), whole(worst), en);
    } else {
        explain(
            e->explanation_zh, SCORE_TEXT_LEN, "商机%s 关键角色均在 %d 天内有互动", name_of(e), whole(th));
        explain(e->explanation_en, SCORE_TEXT_LEN, "deal %s: every key role took part within %d days",
            name_of(e), whole(th));
    }
    eval_hash(e, 0); /* roles, not the latest contact ids, are the evidence that matters */
    return SP_OK;
}

/* --- deal.competitor_surge ---------------------------------------------------- */

sp_err score_eval_competitor_surge(
    const score_facts_surge *f, const score_rules *r, int64_t now_ms, score_eval *e)
{
    CHECK_ARGS(f, r, e);
    sp_err rv = eval_init(e, SCORE_COMPETITOR_SURGE, &f->ctx, r, 1);
    if (rv != SP_OK) return rv;
    add_tag(e, "pack:competition_kit");
    double m = r->rule[e->kind].margin;
    double v7 = f->visits_7d, prev = f->visits_prev_7d;
    int64_t since = now_ms - (int64_t)(r->surge.mentions_window_days * DAY_MS);
    int mentions = 0;
    char names[160] = "";
    for (size_t i = 0; i < f->n_mentions; i++) {
        const score_touch *t = &f->mentions[i];
        if (t->at_ms < since || t->at_ms > now_ms) continue;
        int dup = 0;
        for (size_t j = 0; j < i; j++)
            if (f->mentions[j].interaction_id && t->interaction_id
                && !strcmp(f->mentions[j].interaction_id, t->interaction_id) && f->mentions[j].at_ms >= since)
                dup = 1;
        if (dup) continue;
        mentions++;
        add_id(e, t->interaction_id);
        add_quote(e, t->quote);
        if (t->label && *t->label && !strstr(names, t->label)) {
            size_t l = strlen(names);
            snprintf(names + l, sizeof names - l, "%s%s", l ? ", " : "", t->label);
            add_tag(e, "competitor:%s", t->label);
        }
    }
    utf8_trim(names);
    int visits_met = v7 >= r->surge.visits_min && v7 >= r->surge.ratio_min * prev;
    int visits_held = v7 >= r->surge.visits_min * (1 - m) && v7 >= r->surge.ratio_min * (1 - m) * prev;
    int mentions_met = mentions >= r->surge.mentions_min;
    int mentions_held = mentions >= r->surge.mentions_min * (1 - m);
    set_obs(e, visits_met || mentions_met, visits_held || mentions_held, v7, r->surge.visits_min);
    add_number(e, "competitor_visits_7d", v7);
    add_number(e, "competitor_visits_prev_7d", prev);
    add_number(e, "competitor_mentions", mentions);
    explain(e->explanation_zh, SCORE_TEXT_LEN,
        "商机%s 竞品关注：近 7 天竞品页访问 %d 次（前 7 天 %d 次），%d 天内 %d 次客户互动提及竞品%s%s%s",
        name_of(e), whole(v7), whole(prev), whole(r->surge.mentions_window_days), mentions,
        names[0] ? "（" : "", names, names[0] ? "）" : "");
    explain(e->explanation_en, SCORE_TEXT_LEN,
        "deal %s: %d competitor-page visits in 7 days (%d the 7 days before), competitors named in %d "
        "customer "
        "interactions within %d days%s%s%s",
        name_of(e), whole(v7), whole(prev), mentions, whole(r->surge.mentions_window_days),
        names[0] ? " (" : "", names, names[0] ? ")" : "");
    eval_hash(e, 1);
    return SP_OK;
}

/* --- deal.demo_refused_twice --------------------------------------------------- */

sp_err score_eval_demo_refused_twice(
    const score_facts_demo_refused *f, const score_rules *r, int64_t now_ms, score_eval *e)
{
    CHECK_ARGS(f, r, e);
    sp_err rv = eval_init(e, SCORE_DEMO_REFUSED_TWICE, &f->ctx, r, 1);
    if (rv != SP_OK) return rv;
    if (f->technical_doubt) add_tag(e, "pack:technical_doubt");
    int64_t since = now_ms - (int64_t)(r->demo_refused.window_days * DAY_MS);
    int n = 0;
    for (size_t i = 0; i < f->n_refusals; i++) {
        const score_touch *t = &f->refusals[i];
        if (t->at_ms < since || t->at_ms > now_ms) continue;
        n++;
        add_id(e, t->interaction_id);
        add_quote(e, t->quote);
    }
    double th = r->demo_refused.count;
    set_obs(e, n >= th, n >= score_hyst_relax(th, r->rule[e->kind].margin, 0), n, th);
    add_number(e, "demo_refusals", n);
    add_number(e, "window_days", r->demo_refused.window_days);
    explain(e->explanation_zh, SCORE_TEXT_LEN, "商机%s 客户 %d 天内 %d 次拒绝演示%s", name_of(e),
        whole(r->demo_refused.window_days), n, f->technical_doubt ? "，并提出技术疑虑" : "");
    explain(e->explanation_en, SCORE_TEXT_LEN, "deal %s: customer refused a demo %d times within %d days%s",
        name_of(e), n, whole(r->demo_refused.window_days),
        f->technical_doubt ? ", with technical doubts" : "");
    eval_hash(e, 1);
    return SP_OK;
}

/* --- deal.stage_stalled ---------------------------------------------------------- */

sp_err score_eval_stage_stalled(
    const score_facts_stalled *f, const score_rules *r, int64_t now_ms, score_eval *e)
{
    CHECK_ARGS(f, r, e);
    sp_err rv = eval_init(e, SCORE_STAGE_STALLED, &f->ctx, r, 1);
    if (rv != SP_OK) return rv;
    double norm = f->stage >= 1 && f->stage <= 5 ? r->stalled.norm_days[f->stage] : 0;
    double d = f->stage_entered_ms > 0 ? days_since(now_ms, f->stage_entered_ms) : 0;
    double red = norm * r->stalled.red_factor;
    int applies = f->deal_open && norm > 0 && f->stage_entered_ms > 0;
    set_obs(e, applies && d > red, applies && d > score_hyst_relax(red, r->rule[e->kind].margin, 0), d, red);
    add_tag(e, "stage:%s", score_stage_name(f->stage));
    add_number(e, "days_in_stage", d);
    add_number(e, "norm_days", norm);
    add_number(e, "norm_ratio", norm > 0 ? d / norm : 0);
    const char *colour = !applies || d <= norm * r->stalled.yellow_factor ? "green"
        : d <= red                                                        ? "yellow"
                                                                          : "red";
    add_tag(e, "colour:%s", colour);
    explain(e->explanation_zh, SCORE_TEXT_LEN, "商机%s 在%s阶段停留 %d 天（标准 %d 天，%.1f 倍）", name_of(e),
        stage_zh(f->stage), whole(d), whole(norm), norm > 0 ? d / norm : 0.0);
    explain(e->explanation_en, SCORE_TEXT_LEN, "deal %s has been in %s for %d days (norm %d days, %.1fx)",
        name_of(e), score_stage_name(f->stage), whole(d), whole(norm), norm > 0 ? d / norm : 0.0);
    /* The colour changes as days pass; only the stage is material. */
    e->obs.evidence_hash = score_hash_str(SCORE_HASH_INIT, score_stage_name(f->stage));
    return SP_OK;
}

/* --- deal.risk_raised ------------------------------------------------------------ */

sp_err score_eval_risk_raised(const score_facts_risk *f, const score_rules *r, int64_t now_ms, score_eval *e)
{
    CHECK_ARGS(f, r, e);
    sp_err rv = eval_init(e, SCORE_RISK_RAISED, &f->ctx, r, 0);
    if (rv != SP_OK) return rv;
    if (!f->tag || !*f->tag) return SP_EINVAL;
    int level;
    const char *assignee;
    score_rules_risk_lookup(r, f->tag, &level, &assignee);
    copy_str(e->variant, SCORE_ID_LEN, f->tag);
    e->obs.level = level;
    add_tag(e, "risk:%s", f->tag);
    add_tag(e, "assignee:%s", assignee);
    add_id(e, f->raised.interaction_id);
    add_quote(e, f->raised.quote);
    set_obs(e, f->open != 0, f->open != 0, f->open ? 1 : 0, 1);
    double age = f->raised.at_ms > 0 ? days_since(now_ms, f->raised.at_ms) : 0;
    add_number(e, "risk_age_days", age);
    const char *risk = zh_or_tag(score_risk_name_zh(f->tag), f->tag);
    if (f->open) {
        explain(e->explanation_zh, SCORE_TEXT_LEN, "商机%s 客户提出风险：%s%s%s%s", name_of(e), risk,
            f->raised.quote && *f->raised.quote ? "（“" : "", f->raised.quote ? f->raised.quote : "",
            f->raised.quote && *f->raised.quote ? "”）" : "");
        explain(
            e->explanation_en, SCORE_TEXT_LEN, "deal %s: the customer raised a risk: %s", name_of(e), f->tag);
    } else {
        explain(e->explanation_zh, SCORE_TEXT_LEN, "商机%s 风险已解除：%s", name_of(e), risk);
        explain(e->explanation_en, SCORE_TEXT_LEN, "deal %s: risk resolved: %s", name_of(e), f->tag);
    }
    eval_hash(e, 1);
    return SP_OK;
}

/* --- deal.unanswered_inbound ---------------------------------------------------- */

sp_err score_eval_unanswered_inbound(
    const score_facts_unanswered *f, const score_rules *r, int64_t now_ms, score_eval *e)
{
    CHECK_ARGS(f, r, e);
    sp_err rv = eval_init(e, SCORE_UNANSWERED_INBOUND, &f->ctx, r, 0);
    if (rv != SP_OK) return rv;
    double l1 = r->unanswered.l1_hours, l2 = r->unanswered.l2_hours;
    double h = f->oldest.at_ms > 0 ? (double)(now_ms - f->oldest.at_ms) / HOUR_MS : 0;
    const score_rule *rule = &r->rule[e->kind];
    if (f->oldest.at_ms > 0 && h >= l2) {
        e->obs.level = r->unanswered.l2_level;
        add_tag(e, "assignee:%s", r->unanswered.l2_assignee);
    } else {
        for (size_t i = 0; i < rule->n_assignees; i++)
            add_tag(e, "assignee:%s", rule->assignees[i]);
    }
    add_id(e, f->oldest.interaction_id);
    add_quote(e, f->oldest.quote);
    int pending = f->oldest.at_ms > 0;
    set_obs(e, pending && h >= l1, pending && h >= score_hyst_relax(l1, rule->margin, 0), h, l1);
    add_number(e, "hours_unanswered", h);
    add_number(e, "messages_waiting", f->n_waiting);
    if (pending) {
        explain(e->explanation_zh, SCORE_TEXT_LEN, "商机%s 客户消息 %d 小时未回复（%d 条待回复）", name_of(e),
            whole(h), f->n_waiting);
        explain(e->explanation_en, SCORE_TEXT_LEN,
            "deal %s: customer message unanswered for %d hours (%d waiting)", name_of(e), whole(h),
            f->n_waiting);
    } else {
        explain(e->explanation_zh, SCORE_TEXT_LEN, "商机%s 客户消息均已回复", name_of(e));
        explain(e->explanation_en, SCORE_TEXT_LEN, "deal %s: every customer message answered", name_of(e));
    }
    eval_hash(e, 1);
    return SP_OK;
}

/* --- customer.interest_warming ------------------------------------------------------ */

sp_err score_eval_interest_warming(
    const score_facts_warming *f, const score_rules *r, int64_t now_ms, score_eval *e)
{
    CHECK_ARGS(f, r, e);
    sp_err rv = eval_init(e, SCORE_INTEREST_WARMING, &f->ctx, r, 1);
    if (rv != SP_OK) return rv;
    int64_t since = now_ms - (int64_t)(r->warming.window_days * DAY_MS);
    int n = 0;
    char names[160] = "";
    for (size_t i = 0; i < f->n_visits; i++) {
        const score_touch *t = &f->visits[i];
        if (t->at_ms <= since || t->at_ms > now_ms) continue;
        n++;
        add_id(e, t->interaction_id);
        if (t->label && *t->label && !strstr(names, t->label)) {
            size_t l = strlen(names);
            snprintf(names + l, sizeof names - l, "%s%s", l ? ", " : "", t->label);
            add_tag(e, "product:%s", t->label);
        }
    }
    utf8_trim(names);
    double th = r->warming.visits_gt;
    set_obs(e, n > th, n > score_hyst_relax(th, r->rule[e->kind].margin, 0), n, th);
    add_number(e, "product_visits", n);
    add_number(e, "window_days", r->warming.window_days);
    explain(e->explanation_zh, SCORE_TEXT_LEN, "客户%s %d 天内访问产品页 %d 次%s%s%s，请立即跟进", name_of(e),
        whole(r->warming.window_days), n, names[0] ? "（" : "", names, names[0] ? "）" : "");
    explain(e->explanation_en, SCORE_TEXT_LEN,
        "customer %s visited product pages %d times in %d days%s%s%s: follow up now", name_of(e), n,
        whole(r->warming.window_days), names[0] ? " (" : "", names, names[0] ? ")" : "");
    eval_hash(e, 0); /* each further visit is not news; a new product is */
    return SP_OK;
}

/* --- customer.stale -------------------------------------------------------------- */

sp_err score_eval_customer_stale(
    const score_facts_stale *f, const score_rules *r, int64_t now_ms, score_eval *e)
{
    CHECK_ARGS(f, r, e);
    sp_err rv = eval_init(e, SCORE_CUSTOMER_STALE, &f->ctx, r, 1);
    if (rv != SP_OK) return rv;
    add_tag(e, "pack:wakeup_list");
    int64_t ref = f->last_interaction_ms > 0 ? f->last_interaction_ms : f->customer_created_ms;
    double th = r->stale.days;
    double d = ref > 0 ? days_since(now_ms, ref) : 0;
    set_obs(e, ref > 0 && d >= th, ref > 0 && d >= score_hyst_relax(th, r->rule[e->kind].margin, 0), d, th);
    for (size_t i = 0; i < f->n_touches && i < 3; i++) {
        add_id(e, f->touches[i].interaction_id);
        add_quote(e, f->touches[i].quote);
    }
    add_number(e, "days_silent", d);
    add_number(e, "touch_points", (double)(f->n_touches < 3 ? f->n_touches : 3));
    int need = f->likely_need && *f->likely_need;
    if (whole(d) > 0 || ref <= 0) {
        explain(e->explanation_zh, SCORE_TEXT_LEN, "客户%s %d 天无任何互动%s%s", name_of(e), whole(d),
            need ? "，可能需求：" : "", need ? f->likely_need : "");
        explain(e->explanation_en, SCORE_TEXT_LEN, "no interaction with customer %s for %d days%s%s",
            name_of(e), whole(d), need ? "; likely need: " : "", need ? f->likely_need : "");
    } else { /* an interaction within the day (what clears it): not "0 days silent" */
        explain(e->explanation_zh, SCORE_TEXT_LEN, "客户%s 最近一天内有互动", name_of(e));
        explain(e->explanation_en, SCORE_TEXT_LEN, "customer %s had an interaction within the last day",
            name_of(e));
    }
    eval_hash(e, 1);
    return SP_OK;
}

/* --- rep.key_action_missing ---------------------------------------------------------- */

sp_err score_eval_key_action_missing(
    const score_facts_key_action *f, const score_rules *r, int64_t now_ms, score_eval *e)
{
    CHECK_ARGS(f, r, e);
    if (!f->cal) return SP_EINVAL;
    sp_err rv = eval_init(e, SCORE_KEY_ACTION_MISSING, &f->ctx, r, 1);
    if (rv != SP_OK) return rv;
    add_tag(e, "pack:advancement_card");
    add_tag(e, "pack:won_case");
    int32_t today = calendar_local_day(f->cal, now_ms);
    int run = 0, planned = 0;
    /* Bounded walk: 60 calendar days covers any realistic threshold and holiday. */
    for (int32_t d = today - 1; d >= today - 60; d--) {
        if (!calendar_is_working_day(f->cal, d)) continue;
        const score_day_actions *rec = NULL;
        for (size_t i = 0; i < f->n_days; i++)
            if (f->days[i].day == d) rec = &f->days[i];
        if (!rec || rec->planned <= 0 || rec->completed > 0) break;
        run++;
        planned += rec->planned;
    }
    double th = r->key_action.working_days;
    set_obs(e, run >= th, run >= score_hyst_relax(th, r->rule[e->kind].margin, 0), run, th);
    add_number(e, "working_days_missed", run);
    add_number(e, "key_actions_planned", planned);
    if (run > 0) {
        explain(e->explanation_zh, SCORE_TEXT_LEN,
            "销售%s 连续 %d 个工作日未完成任何计划的关键动作（计划 %d 项）", name_of(e), run, planned);
        explain(e->explanation_en, SCORE_TEXT_LEN,
            "rep %s completed none of the planned key actions for %d consecutive working days (%d planned)",
            name_of(e), run, planned);
    } else { /* what a cleared task says: not "0 consecutive days" */
        explain(e->explanation_zh, SCORE_TEXT_LEN, "销售%s 上一个工作日没有漏掉计划的关键动作", name_of(e));
        explain(e->explanation_en, SCORE_TEXT_LEN,
            "rep %s missed no planned key action on the last working day", name_of(e));
    }
    eval_hash(e, 1);
    return SP_OK;
}

/* --- rep.status_not_updated ------------------------------------------------------------ */

sp_err score_eval_status_not_updated(
    const score_facts_status *f, const score_rules *r, int64_t now_ms, score_eval *e)
{
    CHECK_ARGS(f, r, e);
    sp_err rv = eval_init(e, SCORE_STATUS_NOT_UPDATED, &f->ctx, r, 1);
    if (rv != SP_OK) return rv;
    double th = r->status.days, worst = 0;
    int n = 0;
    char names[200] = "";
    for (size_t i = 0; i < f->n_deals; i++) {
        const score_deal_update *d = &f->deals[i];
        if (!d->deal_id || !*d->deal_id || d->last_update_ms <= 0) continue;
        double gap = days_since(now_ms, d->last_update_ms);
        if (gap > worst) worst = gap;
        if (gap < th) continue;
        n++;
        add_tag(e, "deal:%s", d->deal_id);
        size_t l = strlen(names);
        snprintf(names + l, sizeof names - l, "%s%s", l ? ", " : "",
            d->deal_name && *d->deal_name ? d->deal_name : d->deal_id);
    }
    utf8_trim(names);
    set_obs(e, n > 0, worst >= score_hyst_relax(th, r->rule[e->kind].margin, 0), worst, th);
    add_number(e, "deals_not_updated", n);
    add_number(e, "days_not_updated_max", worst);
    if (n > 0) {
        explain(e->explanation_zh, SCORE_TEXT_LEN,
            "销售%s 有 %d 个进行中商机超过 %d 天未更新状态（最长 %d 天）%s%s%s", name_of(e), n, whole(th),
            whole(worst), names[0] ? "：" : "", names, "");
        explain(e->explanation_en, SCORE_TEXT_LEN,
            "rep %s has not updated %d open deals for %d days or more (longest %d days)%s%s", name_of(e), n,
            whole(th), whole(worst), names[0] ? ": " : "", names);
    } else { /* cleared, or held inside the hysteresis band: not "0 deals" */
        explain(e->explanation_zh, SCORE_TEXT_LEN, "销售%s 的进行中商机均在 %d 天内更新过状态（最久 %d 天）",
            name_of(e), whole(th), whole(worst));
        explain(e->explanation_en, SCORE_TEXT_LEN,
            "rep %s has updated every open deal within %d days (longest %d days)", name_of(e), whole(th),
            whole(worst));
    }
    eval_hash(e, 0);
    return SP_OK;
}

/* --- region.first_visit_timeout ---------------------------------------------------------- */

int score_first_visit_timed_out(const score_rules *r, int64_t created_ms, int64_t first_ms, int64_t now_ms)
{
    int64_t limit = (int64_t)(r->first_visit.timeout_hours * HOUR_MS);
    if (first_ms > 0) return first_ms - created_ms > limit;
    return now_ms - created_ms > limit;
}

sp_err score_eval_first_visit_timeout(
    const score_facts_first_visit *f, const score_rules *r, int64_t now_ms, score_eval *e)
{
    CHECK_ARGS(f, r, e);
    if (!f->cal) return SP_EINVAL;
    sp_err rv = eval_init(e, SCORE_FIRST_VISIT_TIMEOUT, &f->ctx, r, 1);
    if (rv != SP_OK) return rv;
    double th = r->first_visit.share_gt, relax = score_hyst_relax(th, r->rule[e->kind].margin, 0);
    int y, w;
    calendar_iso_week(calendar_local_day(f->cal, now_ms), &y, &w);
    int32_t monday = calendar_iso_week_monday(y, w);
    int weeks = (int)r->first_visit.weeks;
    int met = 1, held = 1;
    double min_share = 1.0;
    char zh[200] = "", en[200] = "";
    for (int i = weeks; i >= 1; i--) { /* oldest first */
        int wy, ww;
        int key = calendar_iso_week(monday - 7 * i, &wy, &ww);
        const score_week_leads *wk = NULL;
        for (size_t k = 0; k < f->n_weeks; k++)
            if (f->weeks[k].iso_week == key) wk = &f->weeks[k];
        int leads = wk ? wk->new_leads : 0, late = wk ? wk->timed_out : 0;
        double share = leads > 0 ? (double)late / leads : 0;
        int counts = leads > 0 && leads >= r->first_visit.min_new_leads;
        if (!counts) share = 0;
        if (share < min_share) min_share = share;
        met = met && counts && share > th;
        held = held && counts && share > relax;
        add_tag(e, "week:%04d-W%02d", wy, ww);
        if (i <= 2) {
            add_number(e, i == 1 ? "share_last_week" : "share_2_weeks_ago", share);
            add_number(e, i == 1 ? "new_leads_last_week" : "new_leads_2_weeks_ago", leads);
        }
        size_t zl = strlen(zh), el = strlen(en);
        snprintf(zh + zl, sizeof zh - zl, "%s%04d-W%02d %d%%（%d/%d）", zl ? "，" : "", wy, ww,
            (int)lround(share * 100), late, leads);
        snprintf(en + el, sizeof en - el, "%s%04d-W%02d %d%% (%d/%d)", el ? ", " : "", wy, ww,
            (int)lround(share * 100), late, leads);
    }
    set_obs(e, met, held, min_share, th);
    add_number(e, "timeout_hours", r->first_visit.timeout_hours);
    explain(e->explanation_zh, SCORE_TEXT_LEN, "区域%s 新线索首访超过 %d 小时的占比连续 %d 周%s %d%%：%s",
        name_of(e), whole(r->first_visit.timeout_hours), weeks, met ? "超过" : "对比阈值",
        (int)lround(th * 100), zh);
    explain(e->explanation_en, SCORE_TEXT_LEN,
        "region %s: share of new leads with no first visit within %d h %s %d%% in %d consecutive ISO weeks: "
        "%s",
        name_of(e), whole(r->first_visit.timeout_hours), met ? "above" : "against", (int)lround(th * 100),
        weeks, en);
    eval_hash(e, 0); /* a new pair of weeks is new evidence */
    return SP_OK;
}

/* --- team.funnel_collapse ---------------------------------------------------------------- */

sp_err score_eval_funnel_collapse(
    const score_facts_funnel *f, const score_rules *r, int64_t now_ms, score_eval *e)
{
    CHECK_ARGS(f, r, e);
    sp_err rv = eval_init(e, SCORE_FUNNEL_COLLAPSE, &f->ctx, r, 1);
    if (rv != SP_OK) return rv;
    add_tag(e, "pack:three_layer_review");
    double th = r->funnel.ratio_lt;
    const score_funnel_step *worst = NULL;
    double worst_ratio = 1e9;
    for (size_t i = 0; i < f->n_steps; i++) {
        const score_funnel_step *s = &f->steps[i];
        if (s->window_entered < r->funnel.min_deals || s->window_entered <= 0 || s->baseline_entered <= 0
            || s->baseline_converted <= 0)
            continue;
        double wr = (double)s->window_converted / s->window_entered;
        double br = (double)s->baseline_converted / s->baseline_entered;
        double ratio = wr / br;
        if (ratio < th)
            add_tag(e, "transition:%s->%s", score_stage_name(s->from_stage), score_stage_name(s->to_stage));
        if (ratio < worst_ratio) worst_ratio = ratio, worst = s;
    }
    if (!worst) {
        set_obs(e, 0, 0, 1, th);
        explain(e->explanation_zh, SCORE_TEXT_LEN, "团队%s 近 %d 天无商机数达到 %d 的阶段转化", name_of(e),
            whole(r->funnel.window_days), whole(r->funnel.min_deals));
        explain(e->explanation_en, SCORE_TEXT_LEN,
            "team %s: no stage transition with %d or more deals in the last %d days", name_of(e),
            whole(r->funnel.min_deals), whole(r->funnel.window_days));
        eval_hash(e, 0);
        return SP_OK;
    }
    double wr = (double)worst->window_converted / worst->window_entered;
    double br = (double)worst->baseline_converted / worst->baseline_entered;
    set_obs(
        e, worst_ratio < th, worst_ratio < score_hyst_relax(th, r->rule[e->kind].margin, 1), worst_ratio, th);
    add_number(e, "window_rate", wr);
    add_number(e, "baseline_rate", br);
    add_number(e, "ratio_to_baseline", worst_ratio);
    add_number(e, "window_deals", worst->window_entered);
    add_number(e, "from_stage", worst->from_stage);
    add_number(e, "to_stage", worst->to_stage);
    explain(e->explanation_zh, SCORE_TEXT_LEN,
        "团队%s %s→%s 转化率近 %d 天 %d%%（%d 个商机），%d 天基线 %d%%，为基线的 %d%%", name_of(e),
        stage_zh(worst->from_stage), stage_zh(worst->to_stage), whole(r->funnel.window_days),
        (int)lround(wr * 100), worst->window_entered, whole(r->funnel.baseline_days), (int)lround(br * 100),
        (int)lround(worst_ratio * 100));
    explain(e->explanation_en, SCORE_TEXT_LEN,
        "team %s: %s->%s conversion %d%% over the last %d days (%d deals) vs %d%% over the %d-day baseline "
        "(%d%% of "
        "baseline)",
        name_of(e), score_stage_name(worst->from_stage), score_stage_name(worst->to_stage),
        (int)lround(wr * 100), whole(r->funnel.window_days), worst->window_entered, (int)lround(br * 100),
        whole(r->funnel.baseline_days), (int)lround(worst_ratio * 100));
    eval_hash(e, 0);
    return SP_OK;
}
