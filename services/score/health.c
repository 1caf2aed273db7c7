/* health.c - ten dimensions of a deal's process health. */
#include "score/health.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *score_colour_name(score_colour c)
{
    switch (c) {
    case SCORE_GREEN: return "green";
    case SCORE_YELLOW: return "yellow";
    default: return "red";
    }
}

score_colour score_health_colour(const score_rules *r, double score)
{
    return score >= r->health.green_min ? SCORE_GREEN
        : score >= r->health.yellow_min ? SCORE_YELLOW
                                        : SCORE_RED;
}

/* Forces an integer score into its colour's band so the number and colour
 * never disagree through rounding. */
static int band(const score_rules *r, score_colour c, double s)
{
    int g = (int)ceil(r->health.green_min), y = (int)ceil(r->health.yellow_min);
    int v = (int)floor(s + 1e-9);
    int lo = c == SCORE_GREEN ? g : c == SCORE_YELLOW ? y : 0;
    int hi = c == SCORE_GREEN ? 100 : c == SCORE_YELLOW ? g - 1 : y - 1;
    return v < lo ? lo : v > hi ? hi : v;
}

static double lerp(double a, double b, double t)
{
    if (t < 0) t = 0;
    if (t > 1) t = 1;
    return a + (b - a) * t;
}

/* Higher is better: bad -> yellow_min, good -> green_min, full -> 100. */
static void higher(const score_rules *r, const score_anchor *a, double x, score_dim_result *d)
{
    double G = r->health.green_min, Y = r->health.yellow_min, s;
    if (x >= a->good) {
        d->colour = SCORE_GREEN;
        s = a->full > a->good ? lerp(G, 100, (x - a->good) / (a->full - a->good)) : 100;
    } else if (x >= a->bad) {
        d->colour = SCORE_YELLOW;
        s = lerp(Y, G, (x - a->bad) / (a->good - a->bad));
    } else {
        d->colour = SCORE_RED;
        s = a->bad > 0 ? lerp(0, Y, x / a->bad) : 0;
    }
    d->score = band(r, d->colour, s);
    d->measure = x;
}

/* Lower is better: 0 -> 100, good -> green_min, bad -> yellow_min, 2 x bad -> 0. */
static void lower(const score_rules *r, const score_anchor *a, double x, score_dim_result *d)
{
    double G = r->health.green_min, Y = r->health.yellow_min, s;
    if (x <= a->good) {
        d->colour = SCORE_GREEN;
        s = lerp(100, G, x / a->good);
    } else if (x <= a->bad) {
        d->colour = SCORE_YELLOW;
        s = lerp(G, Y, (x - a->good) / (a->bad - a->good));
    } else {
        d->colour = SCORE_RED;
        s = lerp(Y, 0, (x - a->bad) / a->bad);
    }
    d->score = band(r, d->colour, s);
    d->measure = x;
}

static void fixed(const score_rules *r, score_colour c, double s, double measure, score_dim_result *d)
{
    d->colour = c;
    d->score = band(r, c, s);
    d->measure = measure;
}

__attribute__((format(printf, 3, 0))) static void vput(char *dst, size_t cap, const char *fmt, va_list ap)
{
    vsnprintf(dst, cap, fmt, ap);
}

__attribute__((format(printf, 2, 3))) static void zh(score_dim_result *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vput(d->reason_zh, sizeof d->reason_zh, fmt, ap);
    va_end(ap);
}

__attribute__((format(printf, 2, 3))) static void en(score_dim_result *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vput(d->reason_en, sizeof d->reason_en, fmt, ap);
    va_end(ap);
}

static const char *const role_zh[] = {"未知", "采购", "技术", "决策人", "财务"};
static const char *const role_en[] = {"unspecified", "procurement", "technical", "decision_maker", "finance"};

static void dim_contact(const score_health_facts *f, const score_rules *r, score_dim_result *d)
{
    double norm = f->stage >= 1 && f->stage <= 5 ? r->health.contact_norm_30d[f->stage] : 0;
    if (norm <= 0) {
        fixed(r, SCORE_GREEN, 100, f->contacts_30d, d);
        zh(d, "%s阶段无联系频率标准", score_stage_name(f->stage));
        en(d, "no contact norm for stage %s", score_stage_name(f->stage));
        return;
    }
    higher(r, &r->health.contact_ratio, f->contacts_30d / norm, d);
    zh(d, "近 30 天联系 %d 次，%s阶段标准 %.0f 次", f->contacts_30d, score_stage_name(f->stage), norm);
    en(d, "%d contacts in 30 days against a norm of %.0f for stage %s", f->contacts_30d, norm,
        score_stage_name(f->stage));
}

static void dim_roles(const score_health_facts *f, const score_rules *r, int64_t now_ms, score_dim_result *d)
{
    size_t need = r->key_role.n_roles, covered = 0;
    char mz[96] = "", me[128] = "";
    for (size_t k = 0; k < need; k++) {
        int role = r->key_role.roles[k];
        int ok = 0;
        for (size_t i = 0; i < f->n_roles; i++)
            if (f->roles[i].role == role && f->roles[i].last_seen_ms > 0
                && (double)(now_ms - f->roles[i].last_seen_ms) / 86400000.0 < r->health.role_days)
                ok = 1;
        if (ok) {
            covered++;
            continue;
        }
        size_t zl = strlen(mz), el = strlen(me);
        snprintf(
            mz + zl, sizeof mz - zl, "%s%s", zl ? "、" : "", role >= 0 && role < 5 ? role_zh[role] : "?");
        snprintf(
            me + el, sizeof me - el, "%s%s", el ? ", " : "", role >= 0 && role < 5 ? role_en[role] : "?");
    }
    higher(r, &r->health.role_share, need ? (double)covered / need : 1.0, d);
    zh(d, "%.0f 天内覆盖关键角色 %zu/%zu%s%s", r->health.role_days, covered, need, mz[0] ? "，缺：" : "", mz);
    en(d, "%zu of %zu key roles in an interaction within %.0f days%s%s", covered, need, r->health.role_days,
        me[0] ? "; missing: " : "", me);
}

static void dim_proposal(const score_health_facts *f, const score_rules *r, score_dim_result *d)
{
    double G = r->health.green_min, Y = r->health.yellow_min;
    if (f->stage < 4 || f->stage > 5) {
        fixed(r, SCORE_GREEN, 100, f->proposal_revisions, d);
        zh(d, "方案阶段之前，尚不要求方案");
        en(d, "before the proposal stage: no proposal expected yet");
    } else if (f->proposal_revisions <= 0) {
        fixed(r, SCORE_RED, 0, 0, d);
        zh(d, "已到%s阶段但没有任何方案", score_stage_name(f->stage));
        en(d, "in stage %s without any proposal", score_stage_name(f->stage));
    } else if (f->proposal_revisions == 1 || !f->proposal_customer_specific) {
        fixed(r, SCORE_YELLOW, (G + Y) / 2, f->proposal_revisions, d);
        zh(d, "方案 %d 版%s", f->proposal_revisions,
            f->proposal_customer_specific ? "，未迭代" : "，未包含客户数据");
        en(d, "%d proposal revision(s)%s", f->proposal_revisions,
            f->proposal_customer_specific ? ", not iterated" : ", without customer-specific data");
    } else {
        fixed(r, SCORE_GREEN, 100, f->proposal_revisions, d);
        zh(d, "方案已迭代 %d 版并包含客户数据", f->proposal_revisions);
        en(d, "proposal iterated %d times with customer-specific data", f->proposal_revisions);
    }
}

static void dim_competitor(
    const score_health_facts *f, const score_rules *r, int64_t now_ms, score_dim_result *d)
{
    if (f->competitor_mentions <= 0) {
        fixed(r, SCORE_GREEN, 100, 0, d);
        zh(d, "近 30 天客户未提及竞品");
        en(d, "no competitor named by the customer in 30 days");
        return;
    }
    int answered = f->competitor_response_hours >= 0;
    double h = answered                     ? f->competitor_response_hours
        : f->competitor_last_mention_ms > 0 ? (double)(now_ms - f->competitor_last_mention_ms) / 3600000.0
                                            : r->health.competitor_hours.bad * 2;
    lower(r, &r->health.competitor_hours, h, d);
    if (answered) {
        zh(d, "客户提及竞品 %d 次，%.0f 小时内回应", f->competitor_mentions, h);
        en(d, "competitors named %d times; we responded within %.0f h", f->competitor_mentions, h);
    } else {
        zh(d, "客户提及竞品 %d 次，已 %.0f 小时未回应", f->competitor_mentions, h);
        en(d, "competitors named %d times; no response for %.0f h", f->competitor_mentions, h);
    }
}

static void dim_dwell(const score_health_facts *f, const score_rules *r, score_dim_result *d)
{
    double norm = f->stage >= 1 && f->stage <= 5 ? r->stalled.norm_days[f->stage] : 0;
    if (norm <= 0) {
        fixed(r, SCORE_GREEN, 100, f->days_in_stage, d);
        zh(d, "%s阶段无停留标准", score_stage_name(f->stage));
        en(d, "no dwell norm for stage %s", score_stage_name(f->stage));
        return;
    }
    score_anchor a = {.good = r->stalled.yellow_factor, .bad = r->stalled.red_factor};
    if (!(a.bad > a.good)) a.bad = a.good * 1.0001; /* equal factors: no yellow band */
    lower(r, &a, f->days_in_stage / norm, d);
    zh(d, "在%s阶段停留 %.0f 天，标准 %.0f 天", score_stage_name(f->stage), floor(f->days_in_stage), norm);
    en(d, "%.0f days in stage %s against a norm of %.0f", floor(f->days_in_stage), score_stage_name(f->stage),
        norm);
}

static void dim_latency(const score_health_facts *f, const score_rules *r, score_dim_result *d)
{
    if (f->median_response_hours < 0) {
        fixed(r, SCORE_GREEN, 100, -1, d);
        zh(d, "近期无客户消息");
        en(d, "no recent customer message");
        return;
    }
    lower(r, &r->health.latency_hours, f->median_response_hours, d);
    zh(d, "客户消息回复时间中位数 %.1f 小时", f->median_response_hours);
    en(d, "median reply time to customer messages %.1f h", f->median_response_hours);
}

static void dim_engagement(const score_health_facts *f, const score_rules *r, score_dim_result *d)
{
    if (f->engagement_prev <= 0) {
        if (f->engagement_cur > 0) {
            fixed(r, SCORE_GREEN, 100, f->engagement_cur, d);
            zh(d, "近 14 天客户互动 %d 次（此前 14 天无）", f->engagement_cur);
            en(d, "%d customer engagements in 14 days (none the 14 days before)", f->engagement_cur);
        } else {
            fixed(r, SCORE_RED, r->health.yellow_min / 2, 0, d);
            zh(d, "28 天内客户无回复、打开或访问");
            en(d, "no customer reply, open or visit in 28 days");
        }
        return;
    }
    double ratio = (double)f->engagement_cur / f->engagement_prev;
    higher(r, &r->health.engagement_ratio, ratio, d);
    zh(d, "客户回复/打开/访问：近 14 天 %d 次，前 14 天 %d 次", f->engagement_cur, f->engagement_prev);
    en(d, "customer replies/opens/visits: %d in the last 14 days vs %d the 14 days before", f->engagement_cur,
        f->engagement_prev);
}

static void dim_next_step(
    const score_health_facts *f, const score_rules *r, int64_t now_ms, score_dim_result *d)
{
    double G = r->health.green_min, Y = r->health.yellow_min, grace = r->health.next_step_grace_days;
    if (!f->next_step_defined) {
        fixed(r, SCORE_RED, 0, 0, d);
        zh(d, "未约定下一步");
        en(d, "no next step agreed");
        return;
    }
    if (f->next_step_due_ms <= 0 || f->next_step_due_ms >= now_ms) {
        fixed(r, SCORE_GREEN, 100, 0, d);
        zh(d, "已约定下一步且未逾期");
        en(d, "next step agreed and not overdue");
        return;
    }
    double late = (double)(now_ms - f->next_step_due_ms) / 86400000.0;
    if (late <= grace)
        fixed(r, SCORE_YELLOW, grace > 0 ? lerp(G, Y, late / grace) : Y, late, d);
    else
        fixed(r, SCORE_RED, lerp(Y, 0, (late - grace) / (grace > 0 ? grace : 1)), late, d);
    zh(d, "下一步已逾期 %.1f 天", late);
    en(d, "next step overdue by %.1f days", late);
}

static void dim_risks(const score_health_facts *f, const score_rules *r, score_dim_result *d)
{
    if (f->open_risks <= 0) {
        fixed(r, SCORE_GREEN, 100, 0, d);
        zh(d, "无未解决风险");
        en(d, "no open risk");
        return;
    }
    score_dim_result t = {0};
    lower(r, &r->health.risk_age_days, f->oldest_risk_age_days, &t);
    double s = t.score - r->health.risk_extra_penalty * (f->open_risks - 1);
    if (s < 0) s = 0;
    fixed(r, score_health_colour(r, s), s, f->oldest_risk_age_days, d);
    zh(d, "%d 个未解决风险，最久 %.1f 天", f->open_risks, f->oldest_risk_age_days);
    en(d, "%d open risk(s), the oldest %.1f days old", f->open_risks, f->oldest_risk_age_days);
}

static void dim_card(const score_health_facts *f, const score_rules *r, score_dim_result *d)
{
    double completeness = f->card_fields_total > 0 ? (double)f->card_fields_filled / f->card_fields_total : 0;
    if (completeness > 1) completeness = 1;
    int n = f->card_l1 + f->card_l2 + f->card_l3;
    double cred = n > 0 ? (0.5 * f->card_l1 + 0.8 * f->card_l2 + 1.0 * f->card_l3) / n : 0;
    higher(r, &r->health.card_quality, completeness * cred, d);
    zh(d, "客户卡片完整度 %.0f%%，可信度 L1/L2/L3 = %d/%d/%d", completeness * 100, f->card_l1, f->card_l2,
        f->card_l3);
    en(d, "card %.0f%% complete; credibility L1/L2/L3 = %d/%d/%d", completeness * 100, f->card_l1, f->card_l2,
        f->card_l3);
}

sp_err score_health_eval(const score_health_facts *f, const score_rules *r, int64_t now_ms, score_health *out)
{
    if (!out) return SP_EINVAL;
    memset(out, 0, sizeof *out);
    if (!f || !r || f->contacts_30d < 0 || f->proposal_revisions < 0 || f->competitor_mentions < 0
        || f->engagement_cur < 0 || f->engagement_prev < 0 || f->open_risks < 0 || f->card_fields_filled < 0
        || f->card_fields_total < 0 || f->card_l1 < 0 || f->card_l2 < 0 || f->card_l3 < 0
        || (f->n_roles && !f->roles))
        return SP_EINVAL;
    snprintf(out->deal_id, sizeof out->deal_id, "%s", f->deal_id ? f->deal_id : "");
    score_dim_result *d = out->dims;
    dim_contact(f, r, &d[SCORE_DIM_CONTACT_FREQUENCY]);
    dim_roles(f, r, now_ms, &d[SCORE_DIM_KEY_ROLE_COVERAGE]);
    dim_proposal(f, r, &d[SCORE_DIM_PROPOSAL_ITERATIONS]);
    dim_competitor(f, r, now_ms, &d[SCORE_DIM_COMPETITOR_RESPONSE]);
    dim_dwell(f, r, &d[SCORE_DIM_STAGE_DWELL]);
    dim_latency(f, r, &d[SCORE_DIM_RESPONSE_LATENCY]);
    dim_engagement(f, r, &d[SCORE_DIM_ENGAGEMENT_TREND]);
    dim_next_step(f, r, now_ms, &d[SCORE_DIM_NEXT_STEP]);
    dim_risks(f, r, &d[SCORE_DIM_OPEN_RISKS]);
    dim_card(f, r, &d[SCORE_DIM_CARD_QUALITY]);
    double sum = 0, wsum = 0;
    for (int i = 0; i < SCORE_DIM_COUNT; i++) {
        d[i].dim = (score_dim)i;
        d[i].weight = r->health.weights[i];
        sum += d[i].weight * d[i].score;
        wsum += d[i].weight;
    }
    double s = wsum > 0 ? sum / wsum : 0;
    out->colour = score_health_colour(r, s);
    out->score = (int)floor(s + 1e-9);
    return SP_OK;
}

sp_err score_health_to_json(const score_health *h, char **out)
{
    if (!h || !out) return SP_EINVAL;
    json_t *root = json_object(), *dims = json_array();
    if (!root || !dims) goto fail;
    if (json_object_set_new(root, "deal_id", json_string(h->deal_id))
        || json_object_set_new(root, "score", json_integer(h->score))
        || json_object_set_new(root, "colour", json_string(score_colour_name(h->colour))))
        goto fail;
    for (int i = 0; i < SCORE_DIM_COUNT; i++) {
        const score_dim_result *d = &h->dims[i];
        json_t *o = json_pack("{s:s, s:i, s:s, s:f, s:f, s:s, s:s}", "name", score_dim_name((score_dim)i),
            "score", d->score, "colour", score_colour_name(d->colour), "weight", d->weight, "measure",
            d->measure, "reason_zh", d->reason_zh, "reason_en", d->reason_en);
        if (!o || json_array_append_new(dims, o)) goto fail;
    }
    if (json_object_set_new(root, "dimensions", dims)) {
        dims = NULL; /* set_new consumed it even on failure */
        goto fail;
    }
    dims = NULL;
    *out = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(6));
    json_decref(root);
    return *out ? SP_OK : SP_ENOMEM;
fail:
    json_decref(dims);
    json_decref(root);
    return SP_ENOMEM;
}

sp_err score_rollup_weighted(const double *scores, const double *values, size_t n, double *out)
{
    if (!out || (n && !scores)) return SP_EINVAL;
    if (n == 0) return SP_ENOTFOUND;
    double minpos = 0;
    for (size_t i = 0; values && i < n; i++)
        if (values[i] > 0 && (minpos == 0 || values[i] < minpos)) minpos = values[i];
    double sum = 0, wsum = 0;
    for (size_t i = 0; i < n; i++) {
        double w = minpos > 0 ? (values[i] > 0 ? values[i] : minpos) : 1;
        sum += w * scores[i];
        wsum += w;
    }
    *out = sum / wsum;
    return SP_OK;
}

sp_err score_rollup_rate(long num, long den, double *out)
{
    if (!out) return SP_EINVAL;
    if (den <= 0) return SP_ENOTFOUND;
    if (num < 0 || num > den) return SP_EINVAL;
    *out = (double)num / (double)den;
    return SP_OK;
}
