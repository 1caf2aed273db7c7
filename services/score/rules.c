/* rules.c - score_rules.json: defaults, loading, validation. */
#include "score/rules.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[SCORE_KIND_COUNT] = {
    "deal.no_progress_after_visit",
    "deal.key_role_uncovered",
    "deal.competitor_surge",
    "deal.demo_refused_twice",
    "deal.stage_stalled",
    "deal.risk_raised",
    "deal.unanswered_inbound",
    "customer.interest_warming",
    "customer.stale",
    "rep.key_action_missing",
    "rep.status_not_updated",
    "region.first_visit_timeout",
    "team.funnel_collapse",
};

static const char *const dim_names[SCORE_DIM_COUNT] = {
    "contact_frequency",
    "key_role_coverage",
    "proposal_iterations",
    "competitor_response",
    "stage_dwell",
    "response_latency",
    "engagement_trend",
    "next_step",
    "open_risks",
    "card_quality",
};

static const char *const stage_names[SCORE_STAGE_COUNT]
    = {"unspecified", "lead", "qualified", "demo", "proposal", "negotiation", "won", "lost"};

/* Role names by Salespulse__V1__Role value. */
static const char *const role_names[5]
    = {"unspecified", "procurement", "technical", "decision_maker", "finance"};

static const char *const assignee_names[] = {"rep", "mentor", "supervisor", "director", "after_sales_manager",
    "competition_team", "region_supervisors", NULL};

const char *score_kind_name(score_kind kind)
{
    return (unsigned)kind < SCORE_KIND_COUNT ? kind_names[kind] : NULL;
}

sp_err score_kind_from_name(const char *name, score_kind *out)
{
    for (int k = 0; name && k < SCORE_KIND_COUNT; k++) {
        if (!strcmp(name, kind_names[k])) {
            *out = (score_kind)k;
            return SP_OK;
        }
    }
    return SP_ENOTFOUND;
}

score_subject_type score_kind_subject(score_kind kind)
{
    switch (kind) {
    case SCORE_INTEREST_WARMING:
    case SCORE_CUSTOMER_STALE: return SCORE_SUBJECT_CUSTOMER;
    case SCORE_KEY_ACTION_MISSING:
    case SCORE_STATUS_NOT_UPDATED: return SCORE_SUBJECT_REP;
    case SCORE_FIRST_VISIT_TIMEOUT: return SCORE_SUBJECT_REGION;
    case SCORE_FUNNEL_COLLAPSE: return SCORE_SUBJECT_TEAM;
    default: return SCORE_SUBJECT_DEAL;
    }
}

const char *score_subject_type_name(score_subject_type t)
{
    switch (t) {
    case SCORE_SUBJECT_DEAL: return "deal";
    case SCORE_SUBJECT_CUSTOMER: return "customer";
    case SCORE_SUBJECT_REP: return "rep";
    case SCORE_SUBJECT_TEAM: return "team";
    case SCORE_SUBJECT_REGION: return "region";
    }
    return "unknown";
}

const char *score_stage_name(int stage)
{
    return stage >= 0 && stage < SCORE_STAGE_COUNT ? stage_names[stage] : "unspecified";
}

const char *score_dim_name(score_dim dim)
{
    return (unsigned)dim < SCORE_DIM_COUNT ? dim_names[dim] : NULL;
}

static void set_name(char *dst, const char *src)
{
    snprintf(dst, SCORE_NAME_MAX, "%s", src);
}

static void set_rule(score_rule *r, int level, const char *a1, const char *a2)
{
    r->enabled = 1;
    r->level = level;
    r->n_assignees = 0;
    set_name(r->assignees[r->n_assignees++], a1);
    if (a2) set_name(r->assignees[r->n_assignees++], a2);
    r->margin = 0.1;
    r->clear_delay_ms = 0;
}

void score_rules_defaults(score_rules *r)
{
    memset(r, 0, sizeof *r);
    set_rule(&r->rule[SCORE_NO_PROGRESS_AFTER_VISIT], 1, "rep", NULL);
    set_rule(&r->rule[SCORE_KEY_ROLE_UNCOVERED], 2, "mentor", NULL);
    set_rule(&r->rule[SCORE_COMPETITOR_SURGE], 3, "competition_team", NULL);
    set_rule(&r->rule[SCORE_DEMO_REFUSED_TWICE], 2, "mentor", NULL);
    set_rule(&r->rule[SCORE_STAGE_STALLED], 2, "supervisor", NULL);
    set_rule(&r->rule[SCORE_RISK_RAISED], 1, "rep", NULL);
    set_rule(&r->rule[SCORE_UNANSWERED_INBOUND], 1, "rep", NULL);
    set_rule(&r->rule[SCORE_INTEREST_WARMING], 1, "rep", NULL);
    set_rule(&r->rule[SCORE_CUSTOMER_STALE], 1, "rep", NULL);
    set_rule(&r->rule[SCORE_KEY_ACTION_MISSING], 1, "rep", NULL);
    set_rule(&r->rule[SCORE_STATUS_NOT_UPDATED], 2, "supervisor", NULL);
    set_rule(&r->rule[SCORE_FIRST_VISIT_TIMEOUT], 2, "region_supervisors", NULL);
    set_rule(&r->rule[SCORE_FUNNEL_COLLAPSE], 3, "director", "supervisor");
    /* Counts flap on a single event: give them a wider band and a delay. */
    r->rule[SCORE_COMPETITOR_SURGE].margin = 0.2;
    r->rule[SCORE_COMPETITOR_SURGE].clear_delay_ms = 72LL * 3600000;
    r->rule[SCORE_INTEREST_WARMING].margin = 0.2;
    r->rule[SCORE_INTEREST_WARMING].clear_delay_ms = 48LL * 3600000;
    r->rule[SCORE_FUNNEL_COLLAPSE].margin = 0.2;
    r->rule[SCORE_FUNNEL_COLLAPSE].clear_delay_ms = 7LL * 24 * 3600000;

    r->no_progress.days = 7;
    set_name(r->no_progress.intents[0], "meeting_scheduled");
    set_name(r->no_progress.intents[1], "demo_request");
    set_name(r->no_progress.intents[2], "ready_to_sign");
    r->no_progress.n_intents = 3;

    r->key_role.days = 30;
    r->key_role.min_stage = 4; /* proposal */
    r->key_role.roles[0] = 1; /* procurement */
    r->key_role.roles[1] = 2; /* technical */
    r->key_role.roles[2] = 3; /* decision maker */
    r->key_role.n_roles = 3;

    r->surge.visits_min = 5;
    r->surge.ratio_min = 3;
    r->surge.mentions_min = 2;
    r->surge.mentions_window_days = 14;

    r->demo_refused.count = 2;
    r->demo_refused.window_days = 30;

    r->stalled.norm_days[1] = 14; /* lead */
    r->stalled.norm_days[2] = 14; /* qualified */
    r->stalled.norm_days[3] = 21; /* demo */
    r->stalled.norm_days[4] = 21; /* proposal */
    r->stalled.norm_days[5] = 30; /* negotiation */
    r->stalled.yellow_factor = 1.0;
    r->stalled.red_factor = 1.5;

    static const struct {
        const char *tag;
        int level;
        const char *assignee;
    } risks[] = {{"after_sales", 1, "after_sales_manager"}, {"budget_freeze", 2, "supervisor"},
        {"decision_change", 2, "supervisor"}};
    for (size_t i = 0; i < sizeof risks / sizeof risks[0]; i++) {
        set_name(r->risk.map[i].tag, risks[i].tag);
        r->risk.map[i].level = risks[i].level;
        set_name(r->risk.map[i].assignee, risks[i].assignee);
    }
    r->risk.n = 3;

    r->unanswered.l1_hours = 24;
    r->unanswered.l2_hours = 48;
    r->unanswered.l2_level = 2;
    set_name(r->unanswered.l2_assignee, "supervisor");

    r->warming.visits_gt = 3;
    r->warming.window_days = 7;
    r->stale.days = 30;
    r->key_action.working_days = 3;
    r->status.days = 5;

    r->first_visit.share_gt = 0.4;
    r->first_visit.weeks = 2;
    r->first_visit.timeout_hours = 48;
    r->first_visit.min_new_leads = 1;

    r->funnel.ratio_lt = 0.5;
    r->funnel.window_days = 30;
    r->funnel.baseline_days = 180;
    r->funnel.min_deals = 20;

    score_health_rules *h = &r->health;
    static const double w[SCORE_DIM_COUNT] = {12, 12, 8, 8, 12, 10, 10, 10, 10, 8};
    memcpy(h->weights, w, sizeof w);
    h->green_min = 70;
    h->yellow_min = 40;
    static const double norm[SCORE_STAGE_COUNT] = {0, 4, 4, 6, 6, 8, 0, 0};
    memcpy(h->contact_norm_30d, norm, sizeof norm);
    h->contact_ratio = (score_anchor) {.good = 0.8, .bad = 0.5, .full = 1.0};
    h->role_days = 30;
    h->role_share = (score_anchor) {.good = 1.0, .bad = 0.6, .full = 1.0};
    h->competitor_hours = (score_anchor) {.good = 24, .bad = 72};
    h->latency_hours = (score_anchor) {.good = 4, .bad = 24};
    h->engagement_ratio = (score_anchor) {.good = 0.9, .bad = 0.5, .full = 1.2};
    h->next_step_grace_days = 3;
    h->risk_age_days = (score_anchor) {.good = 2, .bad = 7};
    h->risk_extra_penalty = 10;
    h->card_quality = (score_anchor) {.good = 0.6, .bad = 0.3, .full = 0.9};
}

/* --- loading ------------------------------------------------------------ */

typedef struct ctx {
    const char *file;
    char *errbuf;
    size_t errlen;
} ctx;

#define FAIL(c, ...)                                                                                         \
    do {                                                                                                     \
        fail_msg((c), __VA_ARGS__);                                                                          \
        return SP_ECONFIG;                                                                                   \
    } while (0)

__attribute__((format(printf, 2, 3))) static void fail_msg(ctx *c, const char *fmt, ...)
{
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(c->errbuf, c->errlen, "%s: %s", c->file, msg);
}

/* A numeric parameter: JSON number checked against (min, max]. */
typedef struct num_param {
    const char *key;
    size_t off; /* offset of a double in score_rules */
    double min;
    int min_excl; /* 1: must be > min; 0: >= min */
    double max; /* inclusive */
    int integer;
} num_param;

#define NP(k, f, mn, ex, mx, in)                                                                             \
    {                                                                                                        \
        k, offsetof(score_rules, f), mn, ex, mx, in                                                          \
    }

static sp_err get_number(ctx *c, const char *path, const char *key, json_t *v, double min, int min_excl,
    double max, int integer, double *out)
{
    if (!json_is_number(v)) FAIL(c, "%s.%s: must be a number", path, key);
    double x = json_number_value(v);
    if (min_excl && !(x > min)) FAIL(c, "%s.%s: must be > %g", path, key, min);
    if (!min_excl && !(x >= min)) FAIL(c, "%s.%s: must be >= %g", path, key, min);
    if (!(x <= max)) FAIL(c, "%s.%s: must be <= %g", path, key, max);
    if (integer && floor(x) != x) FAIL(c, "%s.%s: must be a whole number", path, key);
    *out = x;
    return SP_OK;
}

static sp_err get_level(ctx *c, const char *path, const char *key, json_t *v, int *out)
{
    const char *s = json_string_value(v);
    if (!s || strlen(s) != 2 || s[0] != 'L' || s[1] < '1' || s[1] > '3')
        FAIL(c, "%s.%s: must be \"L1\", \"L2\" or \"L3\"", path, key);
    *out = s[1] - '0';
    return SP_OK;
}

static sp_err get_assignee(ctx *c, const char *path, const char *key, json_t *v, char *out)
{
    const char *s = json_string_value(v);
    for (int i = 0; s && assignee_names[i]; i++) {
        if (!strcmp(s, assignee_names[i])) {
            set_name(out, s);
            return SP_OK;
        }
    }
    FAIL(c,
        "%s.%s: must be one of rep, mentor, supervisor, director, after_sales_manager, competition_team, "
        "region_supervisors",
        path, key);
}

static sp_err get_stage(ctx *c, const char *path, const char *key, json_t *v, int *out)
{
    const char *s = json_string_value(v);
    for (int i = 1; s && i <= 5; i++) {
        if (!strcmp(s, stage_names[i])) {
            *out = i;
            return SP_OK;
        }
    }
    FAIL(c, "%s.%s: must be one of lead, qualified, demo, proposal, negotiation", path, key);
}

static sp_err parse_hysteresis(ctx *c, const char *path, json_t *obj, score_rule *r)
{
    char p[128];
    snprintf(p, sizeof p, "%s.hysteresis", path);
    if (!json_is_object(obj)) FAIL(c, "%s: must be an object", p);
    const char *key;
    json_t *v;
    double x;
    sp_err rv;
    json_object_foreach(obj, key, v)
    {
        if (!strcmp(key, "margin")) {
            if ((rv = get_number(c, p, key, v, 0, 0, 0.9, 0, &x)) != SP_OK) return rv;
            r->margin = x;
        } else if (!strcmp(key, "clear_delay_hours")) {
            if ((rv = get_number(c, p, key, v, 0, 0, 24 * 90, 0, &x)) != SP_OK) return rv;
            r->clear_delay_ms = (int64_t)llround(x * 3600000.0);
        } else
            FAIL(c, "%s.%s: unknown key", p, key);
    }
    return SP_OK;
}

/* Keys every rule accepts. Returns 1 when handled, 0 when not a common key,
 * or a negative sp_err. */
static int parse_common(ctx *c, const char *path, const char *key, json_t *v, score_rule *r)
{
    sp_err rv;
    if (!strcmp(key, "enabled")) {
        if (!json_is_boolean(v)) return fail_msg(c, "%s.%s: must be true or false", path, key), -SP_ECONFIG;
        r->enabled = json_is_true(v);
    } else if (!strcmp(key, "level")) {
        if ((rv = get_level(c, path, key, v, &r->level)) != SP_OK) return -(int)rv;
    } else if (!strcmp(key, "assignees")) {
        if (!json_is_array(v) || json_array_size(v) < 1 || json_array_size(v) > SCORE_ASSIGNEE_MAX)
            return fail_msg(c, "%s.%s: must be an array of 1 to %d assignees", path, key, SCORE_ASSIGNEE_MAX),
                   -SP_ECONFIG;
        size_t i;
        json_t *a;
        r->n_assignees = 0;
        memset(r->assignees, 0, sizeof r->assignees);
        json_array_foreach(v, i, a)
        {
            char k[64];
            snprintf(k, sizeof k, "%s[%zu]", key, i);
            if ((rv = get_assignee(c, path, k, a, r->assignees[i])) != SP_OK) return -(int)rv;
            r->n_assignees++;
        }
    } else if (!strcmp(key, "hysteresis")) {
        if ((rv = parse_hysteresis(c, path, v, r)) != SP_OK) return -(int)rv;
    } else if (!strcmp(key, "description")) {
        if (!json_is_string(v)) return fail_msg(c, "%s.%s: must be a string", path, key), -SP_ECONFIG;
    } else
        return 0;
    return 1;
}

/* --- rule-specific keys ---------------------------------------------------- */

static int special_no_progress(ctx *c, const char *path, const char *key, json_t *v, score_rules *r)
{
    if (strcmp(key, "commitment_intents")) return 0;
    if (!json_is_array(v) || json_array_size(v) < 1 || json_array_size(v) > SCORE_INTENT_MAX)
        return fail_msg(c, "%s.%s: must be an array of 1 to %d intents", path, key, SCORE_INTENT_MAX),
               -SP_ECONFIG;
    size_t i;
    json_t *a;
    memset(r->no_progress.intents, 0, sizeof r->no_progress.intents);
    r->no_progress.n_intents = 0;
    json_array_foreach(v, i, a)
    {
        const char *s = json_string_value(a);
        if (!s || !*s || strlen(s) >= SCORE_NAME_MAX)
            return fail_msg(c, "%s.%s[%zu]: must be a non-empty string", path, key, i), -SP_ECONFIG;
        set_name(r->no_progress.intents[r->no_progress.n_intents++], s);
    }
    return 1;
}

static int special_key_role(ctx *c, const char *path, const char *key, json_t *v, score_rules *r)
{
    sp_err rv;
    if (!strcmp(key, "min_stage")) {
        if ((rv = get_stage(c, path, key, v, &r->key_role.min_stage)) != SP_OK) return -(int)rv;
        return 1;
    }
    if (strcmp(key, "roles")) return 0;
    if (!json_is_array(v) || json_array_size(v) < 1 || json_array_size(v) > SCORE_ROLE_MAX)
        return fail_msg(c, "%s.%s: must be an array of 1 to %d roles", path, key, SCORE_ROLE_MAX),
               -SP_ECONFIG;
    size_t i;
    json_t *a;
    r->key_role.n_roles = 0;
    json_array_foreach(v, i, a)
    {
        const char *s = json_string_value(a);
        int found = 0;
        for (int k = 1; s && k <= 4; k++) {
            if (!strcmp(s, role_names[k])) {
                r->key_role.roles[r->key_role.n_roles++] = k;
                found = 1;
            }
        }
        if (!found)
            return fail_msg(c, "%s.%s[%zu]: must be one of procurement, technical, decision_maker, finance",
                       path, key, i),
                   -SP_ECONFIG;
    }
    return 1;
}

static int special_stalled(ctx *c, const char *path, const char *key, json_t *v, score_rules *r)
{
    if (strcmp(key, "norm_days")) return 0;
    if (!json_is_object(v)) return fail_msg(c, "%s.%s: must be an object", path, key), -SP_ECONFIG;
    const char *st;
    json_t *d;
    char p[128];
    snprintf(p, sizeof p, "%s.%s", path, key);
    memset(r->stalled.norm_days, 0, sizeof r->stalled.norm_days);
    json_object_foreach(v, st, d)
    {
        int stage = 0;
        sp_err rv;
        for (int i = 1; i <= 5; i++)
            if (!strcmp(st, stage_names[i])) stage = i;
        if (!stage) return fail_msg(c, "%s.%s: unknown stage", p, st), -SP_ECONFIG;
        if ((rv = get_number(c, p, st, d, 0, 1, 365, 0, &r->stalled.norm_days[stage])) != SP_OK)
            return -(int)rv;
    }
    return 1;
}

static int special_risk(ctx *c, const char *path, const char *key, json_t *v, score_rules *r)
{
    if (strcmp(key, "tags")) return 0;
    if (!json_is_object(v) || json_object_size(v) > SCORE_RISK_MAX)
        return fail_msg(c, "%s.%s: must be an object of at most %d tags", path, key, SCORE_RISK_MAX),
               -SP_ECONFIG;
    const char *tag;
    json_t *m;
    memset(r->risk.map, 0, sizeof r->risk.map);
    r->risk.n = 0;
    json_object_foreach(v, tag, m)
    {
        char p[160];
        snprintf(p, sizeof p, "%s.%s.%s", path, key, tag);
        if (strlen(tag) >= SCORE_NAME_MAX) return fail_msg(c, "%s: tag too long", p), -SP_ECONFIG;
        if (!json_is_object(m)) return fail_msg(c, "%s: must be an object", p), -SP_ECONFIG;
        score_risk_map *e = &r->risk.map[r->risk.n];
        set_name(e->tag, tag);
        /* level 0 / assignee "" inherit the rule's at lookup, whatever the key order */
        e->level = 0;
        e->assignee[0] = '\0';
        const char *k;
        json_t *x;
        sp_err rv;
        json_object_foreach(m, k, x)
        {
            if (!strcmp(k, "level")) {
                if ((rv = get_level(c, p, k, x, &e->level)) != SP_OK) return -(int)rv;
            } else if (!strcmp(k, "assignee")) {
                if ((rv = get_assignee(c, p, k, x, e->assignee)) != SP_OK) return -(int)rv;
            } else
                return fail_msg(c, "%s.%s: unknown key", p, k), -SP_ECONFIG;
        }
        r->risk.n++;
    }
    return 1;
}

static int special_unanswered(ctx *c, const char *path, const char *key, json_t *v, score_rules *r)
{
    sp_err rv;
    if (!strcmp(key, "l2_level")) {
        if ((rv = get_level(c, path, key, v, &r->unanswered.l2_level)) != SP_OK) return -(int)rv;
        return 1;
    }
    if (!strcmp(key, "l2_assignee")) {
        if ((rv = get_assignee(c, path, key, v, r->unanswered.l2_assignee)) != SP_OK) return -(int)rv;
        return 1;
    }
    return 0;
}

typedef int (*special_fn)(ctx *c, const char *path, const char *key, json_t *v, score_rules *r);

static const num_param p_no_progress[] = {NP("days", no_progress.days, 0, 1, 365, 0), {0}};
static const num_param p_key_role[] = {NP("days", key_role.days, 0, 1, 365, 0), {0}};
static const num_param p_surge[] = {
    NP("visits_7d_min", surge.visits_min, 0, 1, 1e6, 0),
    NP("ratio_min", surge.ratio_min, 0, 1, 1000, 0),
    NP("mentions_min", surge.mentions_min, 0, 1, 100, 0),
    NP("mentions_window_days", surge.mentions_window_days, 0, 1, 365, 0),
    {0},
};
static const num_param p_demo[] = {NP("count", demo_refused.count, 1, 0, 100, 1),
    NP("window_days", demo_refused.window_days, 0, 1, 365, 0), {0}};
static const num_param p_stalled[] = {NP("yellow_factor", stalled.yellow_factor, 0, 1, 10, 0),
    NP("red_factor", stalled.red_factor, 0, 1, 10, 0), {0}};
static const num_param p_none[] = {{0}};
static const num_param p_unanswered[] = {NP("l1_hours", unanswered.l1_hours, 0, 1, 720, 0),
    NP("l2_hours", unanswered.l2_hours, 0, 1, 720, 0), {0}};
static const num_param p_warming[] = {NP("visits_gt", warming.visits_gt, 0, 0, 1e6, 0),
    NP("window_days", warming.window_days, 0, 1, 90, 0), {0}};
static const num_param p_stale[] = {NP("days", stale.days, 0, 1, 3650, 0), {0}};
static const num_param p_key_action[] = {NP("working_days", key_action.working_days, 1, 0, 60, 1), {0}};
static const num_param p_status[] = {NP("days", status.days, 0, 1, 365, 0), {0}};
static const num_param p_first_visit[] = {
    NP("share_gt", first_visit.share_gt, 0, 0, 0.99, 0),
    NP("weeks", first_visit.weeks, 1, 0, 8, 1),
    NP("timeout_hours", first_visit.timeout_hours, 0, 1, 720, 0),
    NP("min_new_leads", first_visit.min_new_leads, 0, 0, 1e6, 1),
    {0},
};
static const num_param p_funnel[] = {
    NP("ratio_lt", funnel.ratio_lt, 0, 1, 1, 0),
    NP("window_days", funnel.window_days, 0, 1, 365, 0),
    NP("baseline_days", funnel.baseline_days, 0, 1, 3650, 0),
    NP("min_deals", funnel.min_deals, 0, 0, 1e6, 1),
    {0},
};

static const struct {
    const num_param *params;
    special_fn special;
} kind_tables[SCORE_KIND_COUNT] = {
    [SCORE_NO_PROGRESS_AFTER_VISIT] = {p_no_progress, special_no_progress},
    [SCORE_KEY_ROLE_UNCOVERED] = {p_key_role, special_key_role},
    [SCORE_COMPETITOR_SURGE] = {p_surge, NULL},
    [SCORE_DEMO_REFUSED_TWICE] = {p_demo, NULL},
    [SCORE_STAGE_STALLED] = {p_stalled, special_stalled},
    [SCORE_RISK_RAISED] = {p_none, special_risk},
    [SCORE_UNANSWERED_INBOUND] = {p_unanswered, special_unanswered},
    [SCORE_INTEREST_WARMING] = {p_warming, NULL},
    [SCORE_CUSTOMER_STALE] = {p_stale, NULL},
    [SCORE_KEY_ACTION_MISSING] = {p_key_action, NULL},
    [SCORE_STATUS_NOT_UPDATED] = {p_status, NULL},
    [SCORE_FIRST_VISIT_TIMEOUT] = {p_first_visit, NULL},
    [SCORE_FUNNEL_COLLAPSE] = {p_funnel, NULL},
};

static sp_err parse_rule(ctx *c, score_kind k, json_t *obj, score_rules *r)
{
    const char *path = kind_names[k];
    if (!json_is_object(obj)) FAIL(c, "%s: must be an object", path);
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        int h = parse_common(c, path, key, v, &r->rule[k]);
        if (h < 0) return (sp_err)-h;
        if (h) continue;
        const num_param *p = kind_tables[k].params;
        for (; p->key; p++) {
            if (!strcmp(p->key, key)) {
                sp_err rv = get_number(
                    c, path, key, v, p->min, p->min_excl, p->max, p->integer, (double *)((char *)r + p->off));
                if (rv != SP_OK) return rv;
                break;
            }
        }
        if (p->key) continue;
        if (kind_tables[k].special) {
            h = kind_tables[k].special(c, path, key, v, r);
            if (h < 0) return (sp_err)-h;
            if (h) continue;
        }
        FAIL(c, "%s.%s: unknown key", path, key);
    }
    return SP_OK;
}

/* An anchor object {good, bad[, full]}; higher: higher is better. */
static sp_err parse_anchor(ctx *c, const char *path, const char *key, json_t *v, int higher, score_anchor *a)
{
    char p[128];
    snprintf(p, sizeof p, "%s.%s", path, key);
    if (!json_is_object(v)) FAIL(c, "%s: must be an object", p);
    const char *k;
    json_t *x;
    sp_err rv;
    json_object_foreach(v, k, x)
    {
        double *dst = !strcmp(k, "good")     ? &a->good
            : !strcmp(k, "bad")              ? &a->bad
            : (higher && !strcmp(k, "full")) ? &a->full
                                             : NULL;
        if (!dst) FAIL(c, "%s.%s: unknown key", p, k);
        if ((rv = get_number(c, p, k, x, 0, 0, 1e6, 0, dst)) != SP_OK) return rv;
    }
    if (higher && !(a->bad < a->good && a->good <= a->full))
        FAIL(c, "%s: must satisfy bad < good <= full", p);
    if (!higher && !(0 < a->good && a->good < a->bad)) FAIL(c, "%s: must satisfy 0 < good < bad", p);
    return SP_OK;
}

static sp_err parse_health(ctx *c, json_t *obj, score_health_rules *h)
{
    const char *path = "health";
    if (!json_is_object(obj)) FAIL(c, "health: must be an object");
    const char *key;
    json_t *v;
    sp_err rv;
    json_object_foreach(obj, key, v)
    {
        if (!strcmp(key, "weights")) {
            if (!json_is_object(v)) FAIL(c, "health.weights: must be an object");
            const char *d;
            json_t *x;
            json_object_foreach(v, d, x)
            {
                int dim = -1;
                for (int i = 0; i < SCORE_DIM_COUNT; i++)
                    if (!strcmp(d, dim_names[i])) dim = i;
                if (dim < 0) FAIL(c, "health.weights.%s: unknown dimension", d);
                if ((rv = get_number(c, "health.weights", d, x, 0, 0, 1000, 0, &h->weights[dim])) != SP_OK)
                    return rv;
            }
        } else if (!strcmp(key, "contact_norm_30d")) {
            if (!json_is_object(v)) FAIL(c, "health.contact_norm_30d: must be an object");
            const char *st;
            json_t *x;
            json_object_foreach(v, st, x)
            {
                int stage = 0;
                for (int i = 1; i <= 5; i++)
                    if (!strcmp(st, stage_names[i])) stage = i;
                if (!stage) FAIL(c, "health.contact_norm_30d.%s: unknown stage", st);
                if ((rv = get_number(
                         c, "health.contact_norm_30d", st, x, 0, 1, 1000, 0, &h->contact_norm_30d[stage]))
                    != SP_OK)
                    return rv;
            }
        } else if (!strcmp(key, "green_min")) {
            if ((rv = get_number(c, path, key, v, 0, 1, 100, 0, &h->green_min)) != SP_OK) return rv;
        } else if (!strcmp(key, "yellow_min")) {
            if ((rv = get_number(c, path, key, v, 0, 1, 100, 0, &h->yellow_min)) != SP_OK) return rv;
        } else if (!strcmp(key, "role_days")) {
            if ((rv = get_number(c, path, key, v, 0, 1, 365, 0, &h->role_days)) != SP_OK) return rv;
        } else if (!strcmp(key, "next_step_grace_days")) {
            if ((rv = get_number(c, path, key, v, 0, 0, 90, 0, &h->next_step_grace_days)) != SP_OK) return rv;
        } else if (!strcmp(key, "risk_extra_penalty")) {
            if ((rv = get_number(c, path, key, v, 0, 0, 100, 0, &h->risk_extra_penalty)) != SP_OK) return rv;
        } else if (!strcmp(key, "contact_ratio")) {
            if ((rv = parse_anchor(c, path, key, v, 1, &h->contact_ratio)) != SP_OK) return rv;
        } else if (!strcmp(key, "role_share")) {
            if ((rv = parse_anchor(c, path, key, v, 1, &h->role_share)) != SP_OK) return rv;
        } else if (!strcmp(key, "competitor_response_hours")) {
            if ((rv = parse_anchor(c, path, key, v, 0, &h->competitor_hours)) != SP_OK) return rv;
        } else if (!strcmp(key, "response_latency_hours")) {
            if ((rv = parse_anchor(c, path, key, v, 0, &h->latency_hours)) != SP_OK) return rv;
        } else if (!strcmp(key, "engagement_ratio")) {
            if ((rv = parse_anchor(c, path, key, v, 1, &h->engagement_ratio)) != SP_OK) return rv;
        } else if (!strcmp(key, "risk_age_days")) {
            if ((rv = parse_anchor(c, path, key, v, 0, &h->risk_age_days)) != SP_OK) return rv;
        } else if (!strcmp(key, "card_quality")) {
            if ((rv = parse_anchor(c, path, key, v, 1, &h->card_quality)) != SP_OK) return rv;
        } else if (strcmp(key, "description"))
            FAIL(c, "health.%s: unknown key", key);
    }
    return SP_OK;
}

/* Checks between keys, after everything is read. */
static sp_err cross_check(ctx *c, const score_rules *r)
{
    if (r->stalled.red_factor < r->stalled.yellow_factor)
        FAIL(c, "deal.stage_stalled.red_factor: must be >= yellow_factor");
    if (r->unanswered.l2_hours <= r->unanswered.l1_hours)
        FAIL(c, "deal.unanswered_inbound.l2_hours: must be > l1_hours");
    if (r->funnel.baseline_days <= r->funnel.window_days)
        FAIL(c, "team.funnel_collapse.baseline_days: must be > window_days");
    if (r->health.yellow_min >= r->health.green_min) FAIL(c, "health.yellow_min: must be < green_min");
    double sum = 0;
    for (int i = 0; i < SCORE_DIM_COUNT; i++)
        sum += r->health.weights[i];
    if (!(sum > 0)) FAIL(c, "health.weights: must not all be 0");
    return SP_OK;
}

static sp_err load_root(ctx *c, json_t *root, score_rules **out)
{
    score_rules *r = malloc(sizeof *r);
    sp_err rv = SP_ECONFIG;
    if (!r) return SP_ENOMEM;
    score_rules_defaults(r);
    if (!json_is_object(root)) {
        fail_msg(c, "top level must be an object");
        goto fail;
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        if (!strcmp(key, "version")) {
            if (!json_is_integer(v) || json_integer_value(v) != 1) {
                fail_msg(c, "version: must be 1");
                goto fail;
            }
        } else if (!strcmp(key, "comment")) {
            if (!json_is_string(v)) {
                fail_msg(c, "comment: must be a string");
                goto fail;
            }
        } else if (!strcmp(key, "signals")) {
            if (!json_is_object(v)) {
                fail_msg(c, "signals: must be an object");
                goto fail;
            }
            const char *kn;
            json_t *ro;
            json_object_foreach(v, kn, ro)
            {
                score_kind k;
                if (score_kind_from_name(kn, &k) != SP_OK) {
                    fail_msg(c, "signals.%s: unknown signal", kn);
                    goto fail;
                }
                if ((rv = parse_rule(c, k, ro, r)) != SP_OK) goto fail;
            }
        } else if (!strcmp(key, "health")) {
            if ((rv = parse_health(c, v, &r->health)) != SP_OK) goto fail;
        } else {
            fail_msg(c, "%s: unknown key", key);
            goto fail;
        }
    }
    if ((rv = cross_check(c, r)) != SP_OK) goto fail;
    *out = r;
    return SP_OK;
fail:
    free(r);
    return rv == SP_OK ? SP_ECONFIG : rv;
}

sp_err score_rules_load_string(
    const char *json, const char *name, score_rules **out, char *errbuf, size_t errlen)
{
    ctx c = {name, errbuf, errlen};
    json_error_t jerr;
    json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        fail_msg(&c, "line %d: %s", jerr.line, jerr.text);
        return SP_ECONFIG;
    }
    sp_err rv = load_root(&c, root, out);
    json_decref(root);
    return rv;
}

sp_err score_rules_load(const char *path, score_rules **out, char *errbuf, size_t errlen)
{
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    ctx c = {name, errbuf, errlen};
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        fail_msg(&c, "line %d: %s", jerr.line, jerr.text);
        return SP_ECONFIG;
    }
    sp_err rv = load_root(&c, root, out);
    json_decref(root);
    return rv;
}

void score_rules_destroy(score_rules *r)
{
    free(r);
}

void score_rules_risk_lookup(const score_rules *r, const char *tag, int *level, const char **assignee)
{
    const score_rule *rule = &r->rule[SCORE_RISK_RAISED];
    *level = rule->level;
    *assignee = rule->n_assignees ? rule->assignees[0] : "rep";
    for (size_t i = 0; tag && i < r->risk.n; i++) {
        if (strcmp(r->risk.map[i].tag, tag)) continue;
        if (r->risk.map[i].level) *level = r->risk.map[i].level;
        if (r->risk.map[i].assignee[0]) *assignee = r->risk.map[i].assignee;
        return;
    }
}
