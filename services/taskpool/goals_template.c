/* goals_template.c - loading and validating industry goal templates. */
#include "taskpool/goals_template.h"

#include "utf8.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const action_names[GOALS_ACTION_COUNT]
    = {"visit", "needs_diagnosis", "proposal", "executive_visit", "demo", "touch"};
static const char *const stage_names[GOALS_STAGE_COUNT] = {"lead", "discovery", "solution", "decision"};
static const char *const role_names[GOALS_ROLE_COUNT]
    = {"procurement", "technical", "decision_maker", "user", "finance"};

static const char *const action_zh[GOALS_ACTION_COUNT]
    = {"拜访", "需求诊断", "定制方案", "高层拜访", "演示", "精准触达"};
static const char *const role_zh[GOALS_ROLE_COUNT] = {"采购", "技术", "决策人", "使用者", "财务"};

const char *goals_action_name(goals_action a)
{
    return (unsigned)a < GOALS_ACTION_COUNT ? action_names[a] : "unknown";
}

const char *goals_stage_name(goals_stage s)
{
    return (unsigned)s < GOALS_STAGE_COUNT ? stage_names[s] : "unknown";
}

const char *goals_role_name(goals_role r)
{
    return (unsigned)r < GOALS_ROLE_COUNT ? role_names[r] : "unknown";
}

static int lookup(const char *const *names, int n, const char *s)
{
    for (int i = 0; s && i < n; i++)
        if (!strcmp(names[i], s)) return i;
    return -1;
}

int goals_action_parse(const char *name)
{
    return lookup(action_names, GOALS_ACTION_COUNT, name);
}

const char *goals_action_name_zh(goals_action a)
{
    return (unsigned)a < GOALS_ACTION_COUNT ? action_zh[a] : "未知";
}

const char *goals_role_name_zh(goals_role r)
{
    return (unsigned)r < GOALS_ROLE_COUNT ? role_zh[r] : "未知";
}

/* Appends s to buf at *len, cut on a code-point boundary when it does not
 * fit (once cut, nothing more is written); *len counts everything. */
static void add(char *buf, size_t cap, size_t *len, const char *s)
{
    size_t n = strlen(s);
    if (*len < cap && strlen(buf) == *len) {
        size_t room = cap - *len - 1, k = n <= room ? n : sp_utf8_cut(s, n, room);
        memcpy(buf + *len, s, k);
        buf[*len + k] = '\0';
    }
    *len += n;
}

size_t goals_quality_text(const goals_quality *q, int zh, char *buf, size_t cap)
{
    size_t len = 0;
    int parts = 0;
    if (cap) buf[0] = '\0';
    if (q->roles_required) {
        add(buf, cap, &len, zh ? "须覆盖" : "must cover ");
        int k = 0;
        for (int r = 0; r < GOALS_ROLE_COUNT; r++)
            if (q->roles_required & (1u << r)) {
                if (k++) add(buf, cap, &len, zh ? "、" : ", ");
                add(buf, cap, &len, zh ? role_zh[r] : role_names[r]);
            }
        parts++;
    }
    if (q->customer_data_required) {
        if (parts++) add(buf, cap, &len, zh ? ";" : "; ");
        add(buf, cap, &len, zh ? "须含客户专属数据" : "must carry customer-specific data");
    }
    if (q->next_step_required) {
        if (parts++) add(buf, cap, &len, zh ? ";" : "; ");
        add(buf, cap, &len, zh ? "须记录约定的下一步" : "an agreed next step recorded");
    }
    if (!parts) add(buf, cap, &len, zh ? "无质量标准" : "no quality standard");
    return len;
}

/* --- loading ------------------------------------------------------------ */

typedef struct ctx {
    const char *file;
    char *errbuf;
    size_t errlen;
} ctx;

__attribute__((format(printf, 2, 3))) static sp_err fail(ctx *c, const char *fmt, ...)
{
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->errbuf && c->errlen) snprintf(c->errbuf, c->errlen, "%s: %s", c->file, msg);
    return SP_ECONFIG;
}

/* Refuses keys not in `allowed` (a NULL-terminated list). */
static sp_err only_keys(ctx *c, const char *path, json_t *obj, const char *const *allowed)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        int ok = 0;
        for (size_t i = 0; allowed[i]; i++)
            if (!strcmp(allowed[i], key)) ok = 1;
        if (!ok) return fail(c, "%s%s%s: unknown key", path, *path ? "." : "", key);
    }
    return SP_OK;
}

static sp_err get_name(ctx *c, const char *path, json_t *obj, const char *key, char out[GOALS_NAME_MAX])
{
    json_t *v = json_object_get(obj, key);
    const char *s = json_string_value(v);
    if (!v) return fail(c, "%s%s%s: missing", path, *path ? "." : "", key);
    if (!s || !*s || strlen(s) >= GOALS_NAME_MAX)
        return fail(c, "%s%s%s: must be a non-empty string of at most %d bytes", path, *path ? "." : "", key,
            GOALS_NAME_MAX - 1);
    memcpy(out, s, strlen(s) + 1);
    return SP_OK;
}

static sp_err get_weight(ctx *c, const char *path, json_t *obj, const char *key, double *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v) return fail(c, "%s.%s: missing", path, key);
    if (!json_is_number(v)) return fail(c, "%s.%s: must be a number", path, key);
    double x = json_number_value(v);
    if (!(x >= 0 && x <= 1)) return fail(c, "%s.%s: must be between 0 and 1", path, key);
    *out = x;
    return SP_OK;
}

static sp_err get_bool(ctx *c, const char *path, json_t *obj, const char *key, int *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v) return SP_OK;
    if (!json_is_boolean(v)) return fail(c, "%s.%s: must be true or false", path, key);
    *out = json_is_true(v);
    return SP_OK;
}

static sp_err load_quality(ctx *c, const char *path, json_t *q, goals_quality *out)
{
    static const char *const keys[]
        = {"roles_required", "customer_data_required", "next_step_required", NULL};
    if (!json_is_object(q)) return fail(c, "%s: must be an object", path);
    sp_err rv = only_keys(c, path, q, keys);
    if (rv) return rv;
    json_t *roles = json_object_get(q, "roles_required");
    if (roles) {
        if (!json_is_array(roles)) return fail(c, "%s.roles_required: must be an array of role names", path);
        size_t i;
        json_t *r;
        json_array_foreach(roles, i, r)
        {
            int k = lookup(role_names, GOALS_ROLE_COUNT, json_string_value(r));
            if (k < 0)
                return fail(c,
                    "%s.roles_required[%zu]: must be one of procurement, technical, decision_maker, user, "
                    "finance",
                    path, i);
            out->roles_required |= 1u << k;
        }
    }
    if ((rv = get_bool(c, path, q, "customer_data_required", &out->customer_data_required))) return rv;
    return get_bool(c, path, q, "next_step_required", &out->next_step_required);
}

static sp_err load_action(ctx *c, const char *path, json_t *a, goals_stage stage, goals_target *t)
{
    static const char *const keys[] = {"action", "count", "weight", "quality", "description", NULL};
    if (!json_is_object(a)) return fail(c, "%s: must be an object", path);
    sp_err rv = only_keys(c, path, a, keys);
    if (rv) return rv;
    json_t *name = json_object_get(a, "action");
    if (!name) return fail(c, "%s.action: missing", path);
    int k = goals_action_parse(json_string_value(name));
    if (k < 0)
        return fail(c,
            "%s.action: must be one of visit, needs_diagnosis, proposal, executive_visit, demo, touch", path);
    goals_unit *u = &t->action[k];
    if (u->used) return fail(c, "%s.action: \"%s\" appears twice in the target", path, action_names[k]);
    u->used = 1;
    u->stage = stage;
    json_t *cnt = json_object_get(a, "count");
    if (!cnt) return fail(c, "%s.count: missing", path);
    if (!json_is_integer(cnt) || json_integer_value(cnt) <= 0 || json_integer_value(cnt) > 1000000)
        return fail(c, "%s.count: must be a whole number > 0 and <= 1000000", path);
    u->count = json_integer_value(cnt);
    if ((rv = get_weight(c, path, a, "weight", &u->weight))) return rv;
    json_t *desc = json_object_get(a, "description");
    if (desc) {
        if (!json_is_string(desc) || strlen(json_string_value(desc)) >= GOALS_DESC_MAX)
            return fail(c, "%s.description: must be a string of at most %d bytes", path, GOALS_DESC_MAX - 1);
        snprintf(u->description, sizeof u->description, "%s", json_string_value(desc));
    }
    json_t *q = json_object_get(a, "quality");
    if (q) {
        char p[400];
        snprintf(p, sizeof p, "%s.quality", path);
        if ((rv = load_quality(c, p, q, &u->quality))) return rv;
    }
    return SP_OK;
}

static sp_err load_target(ctx *c, const char *path, json_t *tj, goals_target *t)
{
    static const char *const keys[] = {"kind", "unit", "per", "stages", "description", NULL};
    if (!json_is_object(tj)) return fail(c, "%s: must be an object", path);
    sp_err rv = only_keys(c, path, tj, keys);
    if (rv) return rv;
    if ((rv = get_name(c, path, tj, "kind", t->kind))) return rv;
    if ((rv = get_name(c, path, tj, "unit", t->unit))) return rv;
    json_t *per = json_object_get(tj, "per");
    if (!per) return fail(c, "%s.per: missing", path);
    if (!json_is_integer(per) || json_integer_value(per) <= 0)
        return fail(c, "%s.per: must be a whole number > 0", path);
    t->per = json_integer_value(per);
    json_t *stages = json_object_get(tj, "stages");
    if (!json_is_array(stages)) return fail(c, "%s.stages: must be an array", path);
    int seen[GOALS_STAGE_COUNT] = {0};
    size_t i;
    json_t *s;
    json_array_foreach(stages, i, s)
    {
        char p[256];
        snprintf(p, sizeof p, "%s.stages[%zu]", path, i);
        static const char *const skeys[] = {"stage", "actions", "description", NULL};
        if (!json_is_object(s)) return fail(c, "%s: must be an object", p);
        if ((rv = only_keys(c, p, s, skeys))) return rv;
        int st = lookup(stage_names, GOALS_STAGE_COUNT, json_string_value(json_object_get(s, "stage")));
        if (st < 0) return fail(c, "%s.stage: must be one of lead, discovery, solution, decision", p);
        if (seen[st]) return fail(c, "%s.stage: \"%s\" appears twice", p, stage_names[st]);
        seen[st] = 1;
        json_t *acts = json_object_get(s, "actions");
        if (!json_is_array(acts) || json_array_size(acts) == 0)
            return fail(c, "%s.actions: must be a non-empty array", p);
        size_t j;
        json_t *a;
        json_array_foreach(acts, j, a)
        {
            char pa[300];
            snprintf(pa, sizeof pa, "%s.actions[%zu]", p, j);
            if ((rv = load_action(c, pa, a, (goals_stage)st, t))) return rv;
        }
    }
    for (int st = 0; st < GOALS_STAGE_COUNT; st++)
        if (!seen[st]) return fail(c, "%s.stages: stage \"%s\" missing", path, stage_names[st]);
    double sum = 0;
    for (int k = 0; k < GOALS_ACTION_COUNT; k++)
        sum += t->action[k].used ? t->action[k].weight : 0;
    if (fabs(sum - 1.0) > 1e-6) return fail(c, "%s.stages: action weights add up to %g, not 1", path, sum);
    return SP_OK;
}

static sp_err load_root(ctx *c, json_t *root, goals_template *t)
{
    static const char *const keys[] = {"industry", "description", "health", "targets", NULL};
    if (!json_is_object(root)) return fail(c, "top level must be an object");
    sp_err rv = only_keys(c, "", root, keys);
    if (rv) return rv;
    if ((rv = get_name(c, "", root, "industry", t->industry))) return rv;
    t->health_completion_weight = 0.7;
    t->health_quality_weight = 0.3;
    json_t *h = json_object_get(root, "health");
    if (h) {
        static const char *const hkeys[] = {"completion_weight", "quality_weight", NULL};
        if (!json_is_object(h)) return fail(c, "health: must be an object");
        if ((rv = only_keys(c, "health", h, hkeys))) return rv;
        if ((rv = get_weight(c, "health", h, "completion_weight", &t->health_completion_weight))) return rv;
        if ((rv = get_weight(c, "health", h, "quality_weight", &t->health_quality_weight))) return rv;
        double s = t->health_completion_weight + t->health_quality_weight;
        if (fabs(s - 1.0) > 1e-6) return fail(c, "health: completion_weight + quality_weight = %g, not 1", s);
    }
    json_t *targets = json_object_get(root, "targets");
    if (!json_is_array(targets) || json_array_size(targets) == 0)
        return fail(c, "targets: must be a non-empty array");
    if (json_array_size(targets) > GOALS_MAX_TARGETS)
        return fail(c, "targets: at most %d", GOALS_MAX_TARGETS);
    size_t i;
    json_t *tj;
    json_array_foreach(targets, i, tj)
    {
        char p[64];
        snprintf(p, sizeof p, "targets[%zu]", i);
        if ((rv = load_target(c, p, tj, &t->target[i]))) return rv;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(t->target[j].kind, t->target[i].kind))
                return fail(c, "%s.kind: \"%s\" appears twice", p, t->target[i].kind);
        t->n_targets = i + 1;
    }
    return SP_OK;
}

static sp_err load_json(ctx *c, json_t *root, goals_template **out)
{
    goals_template *t = calloc(1, sizeof *t);
    if (!t) {
        json_decref(root);
        return SP_ENOMEM;
    }
    sp_err rv = load_root(c, root, t);
    json_decref(root);
    if (rv) {
        free(t);
        return rv;
    }
    *out = t;
    return SP_OK;
}

sp_err goals_template_parse(
    const char *name, const char *json, goals_template **out, char *errbuf, size_t errlen)
{
    ctx c = {name, errbuf, errlen};
    json_error_t jerr;
    json_t *root = json_loads(json ? json : "", JSON_REJECT_DUPLICATES, &jerr);
    if (!root) return fail(&c, "line %d: %s", jerr.line, jerr.text);
    return load_json(&c, root, out);
}

sp_err goals_template_load(const char *path, goals_template **out, char *errbuf, size_t errlen)
{
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    ctx c = {name, errbuf, errlen};
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) return fail(&c, "line %d: %s", jerr.line, jerr.text);
    return load_json(&c, root, out);
}

void goals_template_destroy(goals_template *t)
{
    free(t);
}

const goals_target *goals_template_target(const goals_template *t, const char *kind)
{
    for (size_t i = 0; t && kind && i < t->n_targets; i++)
        if (!strcmp(t->target[i].kind, kind)) return &t->target[i];
    return NULL;
}

sp_err goals_target_actions(const goals_target *t, int64_t target, int64_t out[GOALS_ACTION_COUNT])
{
    if (!t || target < 0 || t->per <= 0) return SP_EINVAL;
    for (int k = 0; k < GOALS_ACTION_COUNT; k++) {
        out[k] = 0;
        if (!t->action[k].used) continue;
        if (t->action[k].count > 0 && target > (INT64_MAX - t->per) / t->action[k].count) return SP_EINVAL;
        out[k] = (target * t->action[k].count + t->per / 2) / t->per;
    }
    return SP_OK;
}
