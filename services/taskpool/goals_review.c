/* goals_review.c - monthly action attribution, minutes and catch-up items. */
#include "taskpool/goals_review.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int parse_month(const char *s, int *y, int *m)
{
    if (!s || strlen(s) != 7 || s[4] != '-') return 0;
    for (int i = 0; i < 7; i++)
        if (i != 4 && (s[i] < '0' || s[i] > '9')) return 0;
    *y = atoi(s);
    *m = atoi(s + 5);
    return *m >= 1 && *m <= 12;
}

sp_err goals_month_weeks(const goals_plan *p, const char *yyyy_mm, int *w0, int *w1)
{
    int y, m;
    if (!p || !w0 || !w1 || !parse_month(yyyy_mm, &y, &m)) return SP_EINVAL;
    const int64_t day = 86400000LL, week = 7 * day;
    int64_t a = days_from_civil(y, m, 1) * day;
    int64_t b = days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) * day;
    *w0 = *w1 = 0;
    int first = -1, last = -1;
    for (int w = 0; w < goals_plan_n_weeks(p); w++) {
        int64_t s = goals_plan_start_ms(p) + w * week;
        if (s >= a && s < b) {
            if (first < 0) first = w;
            last = w;
        }
    }
    if (first >= 0) {
        *w0 = first;
        *w1 = last + 1;
    }
    return SP_OK;
}

sp_err goals_review_due_ms(const char *yyyy_mm, int64_t *out)
{
    int y, m;
    if (!out || !parse_month(yyyy_mm, &y, &m)) return SP_EINVAL;
    int64_t d = days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1);
    /* 1970-01-01 was a Thursday: day d is Monday..Friday when (d + 3) mod 7 < 5 */
    while (((d + 3) % 7 + 7) % 7 >= 5)
        d++;
    *out = d * 86400000LL;
    return SP_OK;
}

static int cause_cmp(const void *a, const void *b)
{
    const goals_cause *x = a, *y = b;
    if (x->impact != y->impact) return x->impact > y->impact ? -1 : 1;
    return (int)x->action - (int)y->action;
}

static sp_err fill_item(const goals_plan *p, const goals_actuals *x, const goals_template *tmpl,
    const goals_target *t, int w0, int w1, goals_review_item *it)
{
    const char *id = it->id;
    goals_cause all[GOALS_ACTION_COUNT];
    size_t n = 0;
    it->target_planned = goals_plan_sum(p, it->level, id, w0, w1, -1);
    it->results = goals_actuals_results(x, p, it->level, id, w0, w1);
    for (int a = 0; a < GOALS_ACTION_COUNT; a++) {
        if (!t->action[a].used) continue;
        goals_cause c = {(goals_action)a, goals_plan_sum(p, it->level, id, w0, w1, a),
            goals_actuals_passed(x, p, it->level, id, w0, w1, (goals_action)a),
            goals_actuals_failed(x, p, it->level, id, w0, w1, (goals_action)a), 0, 0, 0};
        if (c.passed >= c.planned) continue;
        c.shortfall = c.planned - c.passed;
        c.impact = (double)c.shortfall * t->action[a].weight;
        it->total_impact += c.impact;
        all[n++] = c;
    }
    qsort(all, n, sizeof *all, cause_cmp);
    it->n_causes = n < 3 ? n : 3;
    for (size_t i = 0; i < it->n_causes; i++) {
        it->cause[i] = all[i];
        it->cause[i].share = it->total_impact > 0 ? all[i].impact / it->total_impact : 0;
    }
    goals_health h;
    sp_err rv = goals_health_compute(p, x, tmpl, t, it->level, id, w1 - 1, &h);
    it->health = rv ? 0 : h.score;
    return rv;
}

sp_err goals_review_build(const goals_plan *p, const goals_actuals *x, const goals_template *tmpl,
    const goals_target *t, const char *yyyy_mm, goals_review **out)
{
    int w0, w1;
    if (!p || !x || !t || !out) return SP_EINVAL;
    sp_err rv = goals_month_weeks(p, yyyy_mm, &w0, &w1);
    if (rv) return rv;
    if (w1 <= w0) return SP_EINVAL;
    size_t nr = goals_plan_n_reps(p);
    goals_review *r = calloc(1, sizeof *r);
    if (!r) return SP_ENOMEM;
    r->items = calloc(2 * nr, sizeof *r->items);
    if (!r->items) {
        free(r);
        return SP_ENOMEM;
    }
    snprintf(r->month, sizeof r->month, "%s", yyyy_mm);
    snprintf(r->kind, sizeof r->kind, "%s", t->kind);
    r->w0 = w0;
    r->w1 = w1;
    for (size_t i = 0; i < nr; i++) {
        goals_review_item *it = &r->items[r->n++];
        it->level = GOALS_SCOPE_REP;
        snprintf(it->id, sizeof it->id, "%s", goals_plan_rep_id(p, i));
        snprintf(it->team_id, sizeof it->team_id, "%s", goals_plan_rep_team(p, i));
        snprintf(it->region_id, sizeof it->region_id, "%s", goals_plan_rep_region(p, i));
    }
    for (size_t i = 0; i < nr; i++) {
        const char *team = goals_plan_rep_team(p, i);
        int seen = 0;
        for (size_t j = nr; j < r->n; j++)
            if (!strcmp(r->items[j].id, team)) seen = 1;
        if (seen) continue;
        goals_review_item *it = &r->items[r->n++];
        it->level = GOALS_SCOPE_TEAM;
        snprintf(it->id, sizeof it->id, "%s", team);
        snprintf(it->team_id, sizeof it->team_id, "%s", team);
        snprintf(it->region_id, sizeof it->region_id, "%s", goals_plan_rep_region(p, i));
    }
    for (size_t i = 0; i < r->n; i++) {
        if ((rv = fill_item(p, x, tmpl, t, w0, w1, &r->items[i]))) {
            goals_review_destroy(r);
            return rv;
        }
    }
    *out = r;
    return SP_OK;
}

void goals_review_destroy(goals_review *r)
{
    if (!r) return;
    free(r->items);
    free(r);
}

static void md_item(FILE *f, const goals_review_item *it)
{
    fprintf(f, "| %s | %s | %lld/%lld | %d | ", it->id,
        it->level == GOALS_SCOPE_TEAM ? it->region_id : it->team_id, (long long)it->results,
        (long long)it->target_planned, it->health);
    if (it->n_causes == 0) fprintf(f, "none");
    for (size_t i = 0; i < it->n_causes; i++) {
        const goals_cause *c = &it->cause[i];
        fprintf(f, "%s%s %lld/%lld (-%lld, %.0f%%)", i ? "; " : "", goals_action_name(c->action),
            (long long)c->passed, (long long)c->planned, (long long)c->shortfall, 100.0 * c->share);
    }
    fprintf(f, " |\n");
}

sp_err goals_review_markdown(const goals_review *r, char **out)
{
    if (!r || !out) return SP_EINVAL;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return SP_ENOMEM;
    fprintf(f, "# Action attribution review %s (%s)\n\n", r->month, r->kind);
    fprintf(f,
        "Plan weeks %d-%d. Not \"why was the goal missed\" but \"which three actions were missing, and how "
        "do we front-load them next month\". Actions count only when they passed their quality standard; "
        "impact = shortfall x conversion weight.\n\n",
        r->w0 + 1, r->w1);
    for (int pass = 0; pass < 2; pass++) {
        goals_scope lv = pass ? GOALS_SCOPE_TEAM : GOALS_SCOPE_REP;
        fprintf(f,
            "## %s\n\n| %s | %s | result/target | health | missing actions (passed/planned, shortfall, share "
            "of gap) |\n"
            "|---|---|---|---|---|\n",
            pass ? "Teams" : "Reps", pass ? "team" : "rep", pass ? "region" : "team");
        for (size_t i = 0; i < r->n; i++)
            if (r->items[i].level == lv) md_item(f, &r->items[i]);
        fprintf(f, "\n");
    }
    fprintf(f, "## Catch-up for next month\n\n");
    for (size_t i = 0; i < r->n; i++) {
        const goals_review_item *it = &r->items[i];
        if (it->level != GOALS_SCOPE_REP || it->n_causes == 0) continue;
        fprintf(f, "- %s:", it->id);
        for (size_t k = 0; k < it->n_causes; k++)
            fprintf(f, "%s %lld %s", k ? "," : "", (long long)it->cause[k].shortfall,
                goals_action_name(it->cause[k].action));
        fprintf(f, " in the first two weeks\n");
    }
    if (fclose(f) != 0 || !buf) {
        free(buf);
        return SP_ENOMEM;
    }
    *out = buf;
    return SP_OK;
}

sp_err goals_review_json(const goals_review *r, char **out)
{
    if (!r || !out) return SP_EINVAL;
    json_t *root = json_pack(
        "{s:s, s:s, s:i, s:i}", "month", r->month, "kind", r->kind, "week_from", r->w0, "week_to", r->w1);
    json_t *items = json_array();
    if (!root || !items) {
        json_decref(root);
        json_decref(items);
        return SP_ENOMEM;
    }
    json_object_set_new(root, "items", items);
    for (size_t i = 0; i < r->n; i++) {
        const goals_review_item *it = &r->items[i];
        json_t *causes = json_array();
        for (size_t k = 0; causes && k < it->n_causes; k++) {
            const goals_cause *c = &it->cause[k];
            json_array_append_new(causes,
                json_pack("{s:s, s:I, s:I, s:I, s:I, s:f, s:f}", "action", goals_action_name(c->action),
                    "planned", (json_int_t)c->planned, "passed", (json_int_t)c->passed, "failed",
                    (json_int_t)c->failed, "shortfall", (json_int_t)c->shortfall, "impact", c->impact,
                    "share", c->share));
        }
        json_array_append_new(items,
            json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:i, s:f, s:o}", "level",
                it->level == GOALS_SCOPE_TEAM ? "team" : "rep", "id", it->id, "team_id", it->team_id,
                "region_id", it->region_id, "target_planned", (json_int_t)it->target_planned, "results",
                (json_int_t)it->results, "health", it->health, "total_impact", it->total_impact, "causes",
                causes ? causes : json_array()));
    }
    char *s = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (!s) return SP_ENOMEM;
    *out = s;
    return SP_OK;
}

sp_err goals_review_catchups(const goals_review *r, goals_catchup **out, size_t *n)
{
    if (!r || !out || !n) return SP_EINVAL;
    *out = NULL;
    *n = 0;
    goals_catchup *c = calloc(r->n ? r->n : 1, sizeof *c);
    if (!c) return SP_ENOMEM;
    char yyyymm[8];
    snprintf(yyyymm, sizeof yyyymm, "%.4s%.2s", r->month, r->month + 5);
    size_t k = 0;
    for (size_t i = 0; i < r->n; i++) {
        const goals_review_item *it = &r->items[i];
        if (it->level != GOALS_SCOPE_REP || it->n_causes == 0) continue;
        goals_catchup *x = &c[k++];
        snprintf(x->key, sizeof x->key, "task:goal.catch_up:rep:%s:%s", it->id, yyyymm);
        snprintf(x->rep_id, sizeof x->rep_id, "%s", it->id);
        snprintf(x->team_id, sizeof x->team_id, "%s", it->team_id);
        snprintf(x->region_id, sizeof x->region_id, "%s", it->region_id);
        x->n = it->n_causes;
        size_t l = (size_t)snprintf(x->note, sizeof x->note, "%s review: front-load next month:", r->month);
        for (size_t j = 0; j < it->n_causes; j++) {
            x->action[j] = it->cause[j].action;
            x->count[j] = it->cause[j].shortfall;
            if (l < sizeof x->note)
                l += (size_t)snprintf(x->note + l, sizeof x->note - l, "%s %lld %s", j ? "," : "",
                    (long long)x->count[j], goals_action_name(x->action[j]));
        }
    }
    *out = c;
    *n = k;
    return SP_OK;
}
