/* route_rules.c - loading, validating and matching routing rules. Strings
 * are borrowed from the parsed JSON document, which the rules keep. */
#include "route/route_rules.h"

#include "err.h"
#include "route/rjson.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SP_DEFAULT_SUPPRESS_S (7 * 86400)

struct route_rules {
    json_t *root;
    route_rule *rules;
    size_t n;
    int64_t sla_s[4]; /* index by level 1..3 */
    int64_t suppress_s;
};

static const char *const target_names[] = {
    [ROUTE_T_NONE] = "none",
    [ROUTE_T_OWNER_REP] = "owner_rep",
    [ROUTE_T_MENTOR] = "mentor",
    [ROUTE_T_SUPERVISOR] = "supervisor",
    [ROUTE_T_DIRECTOR] = "director",
    [ROUTE_T_AFTER_SALES] = "after_sales",
    [ROUTE_T_COMPETITION] = "competition_team",
    [ROUTE_T_REGION_SUPERVISORS] = "region_supervisors",
};

const char *route_target_name(route_target t)
{
    if ((int)t < 0 || t > ROUTE_T_REGION_SUPERVISORS) return "none";
    return target_names[t];
}

int route_target_parse(const char *s, route_target *out)
{
    for (int t = ROUTE_T_OWNER_REP; t <= ROUTE_T_REGION_SUPERVISORS; t++)
        if (s != NULL && strcmp(s, target_names[t]) == 0) {
            *out = (route_target)t;
            return SP_OK;
        }
    return SP_EINVAL;
}

void route_rules_destroy(route_rules *r)
{
    if (r == NULL) return;
    for (size_t i = 0; i < r->n; i++)
        free((void *)r->rules[i].playbooks);
    free(r->rules);
    json_decref(r->root);
    free(r);
}

static int parse_level(const char *s, int *out)
{
    if (s != NULL && (s[0] == 'L' || s[0] == 'l') && s[1] >= '1' && s[1] <= '3' && s[2] == '\0') {
        *out = s[1] - '0';
        return SP_OK;
    }
    return SP_EINVAL;
}

static int parse_rule(route_rule *ru, json_t *it, const char *name, size_t i, char *err, size_t errlen)
{
    static const char *const keys[] = {
        "id", "kind", "level", "tag", "assignee", "watchers", "playbooks", "sla", "why_zh", "why_en", NULL};
    char where[200];
    const char *s;
    int rv;
    snprintf(where, sizeof where, "%s: rules[%zu]", name, i);
    if (!json_is_object(it)) return rjson_fail(err, errlen, "%s: not a JSON object", where);
    if ((rv = rjson_str(it, "id", 1, &ru->id, where, err, errlen)) != 0) return rv;
    snprintf(where, sizeof where, "%s: rules[%zu] (%s)", name, i, ru->id);
    if ((rv = rjson_keys(it, keys, where, err, errlen)) != 0) return rv;
    if ((rv = rjson_str(it, "kind", 1, &ru->kind, where, err, errlen)) != 0
        || (rv = rjson_str(it, "tag", 0, &ru->tag, where, err, errlen)) != 0
        || (rv = rjson_str(it, "why_zh", 0, &ru->why_zh, where, err, errlen)) != 0
        || (rv = rjson_str(it, "why_en", 0, &ru->why_en, where, err, errlen)) != 0
        || (rv = rjson_seconds(it, "sla", 0, &ru->sla_s, where, err, errlen)) != 0
        || (rv = rjson_str(it, "level", 0, &s, where, err, errlen)) != 0)
        return rv;
    if (s != NULL && parse_level(s, &ru->level) != SP_OK)
        return rjson_fail(err, errlen, "%s: key \"level\": \"%s\" is not L1, L2 or L3", where, s);
    if (strcmp(ru->kind, "*") != 0 && strchr(ru->kind, '.') == NULL)
        return rjson_fail(
            err, errlen, "%s: key \"kind\": \"%s\" is not \"<scope>.<name>\" or \"*\"", where, ru->kind);
    if ((rv = rjson_str(it, "assignee", 1, &s, where, err, errlen)) != 0) return rv;
    if (route_target_parse(s, &ru->assignee) != SP_OK)
        return rjson_fail(err, errlen,
            "%s: key \"assignee\": \"%s\" is not one of owner_rep|mentor|supervisor|director|after_sales|"
            "competition_team|region_supervisors",
            where, s);
    json_t *w = json_object_get(it, "watchers");
    if (w != NULL) {
        if (!json_is_array(w) || json_array_size(w) > SP_ROUTE_MAX_WATCHERS)
            return rjson_fail(err, errlen, "%s: key \"watchers\" must be an array of at most %d roles", where,
                SP_ROUTE_MAX_WATCHERS);
        for (size_t j = 0; j < json_array_size(w); j++) {
            const char *ws = json_string_value(json_array_get(w, j));
            if (route_target_parse(ws, &ru->watchers[j]) != SP_OK)
                return rjson_fail(err, errlen, "%s: key \"watchers\"[%zu] is not a known role", where, j);
        }
        ru->n_watchers = json_array_size(w);
    }
    json_t *pb = json_object_get(it, "playbooks");
    if (pb != NULL && !json_is_array(pb))
        return rjson_fail(err, errlen, "%s: key \"playbooks\" must be an array of playbook ids", where);
    size_t n = json_array_size(pb);
    const char **ids = calloc(n ? n : 1, sizeof *ids);
    if (ids == NULL) return SP_ENOMEM;
    ru->playbooks = ids;
    for (size_t j = 0; j < n; j++) {
        ids[j] = json_string_value(json_array_get(pb, j));
        if (ids[j] == NULL || *ids[j] == '\0')
            return rjson_fail(err, errlen, "%s: key \"playbooks\"[%zu] must be a non-empty string", where, j);
    }
    ru->n_playbooks = n;
    return SP_OK;
}

/* 1 when every signal b matches is matched by a, so b (later) is dead. */
static int shadows(const route_rule *a, const route_rule *b)
{
    if (strcmp(a->kind, "*") != 0 && strcmp(a->kind, b->kind) != 0) return 0;
    if (a->level != 0 && a->level != b->level) return 0;
    if (a->tag != NULL && (b->tag == NULL || strcmp(a->tag, b->tag) != 0)) return 0;
    return 1;
}

static int parse_root(route_rules *r, const char *name, char *err, size_t errlen)
{
    static const char *const keys[] = {"version", "sla", "suppress_after_dismiss", "rules", "comment", NULL};
    static const char *const sla_keys[] = {"L1", "L2", "L3", NULL};
    static const int64_t sla_def[4] = {0, 24 * 3600, 8 * 3600, 2 * 3600};
    char where[200];
    int rv;
    json_t *root = r->root;
    if ((rv = rjson_keys(root, keys, name, err, errlen)) != 0) return rv;
    json_t *ver = json_object_get(root, "version");
    if (ver != NULL && (!json_is_integer(ver) || json_integer_value(ver) != 1))
        return rjson_fail(err, errlen, "%s: key \"version\" must be 1", name);
    json_t *sla = json_object_get(root, "sla");
    snprintf(where, sizeof where, "%s: sla", name);
    if (sla != NULL && (rv = rjson_keys(sla, sla_keys, where, err, errlen)) != 0) return rv;
    for (int l = 1; l <= 3; l++)
        if ((rv = rjson_seconds(sla, sla_keys[l - 1], sla_def[l], &r->sla_s[l], where, err, errlen)) != 0)
            return rv;
    if ((rv = rjson_seconds(
             root, "suppress_after_dismiss", SP_DEFAULT_SUPPRESS_S, &r->suppress_s, name, err, errlen))
        != 0)
        return rv;
    json_t *arr = json_object_get(root, "rules");
    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return rjson_fail(err, errlen, "%s: key \"rules\" must be a non-empty array", name);
    r->rules = calloc(json_array_size(arr), sizeof *r->rules);
    if (r->rules == NULL) return SP_ENOMEM;
    size_t i;
    json_t *it;
    json_array_foreach(arr, i, it)
    {
        rv = parse_rule(&r->rules[i], it, name, i, err, errlen);
        r->n = i + 1; /* so destroy frees this rule's playbooks */
        if (rv != SP_OK) return rv;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(r->rules[j].id, r->rules[i].id) == 0)
                return rjson_fail(err, errlen, "%s: rules[%zu] (%s): key \"id\" duplicates rules[%zu]", name,
                    i, r->rules[i].id, j);
            if (shadows(&r->rules[j], &r->rules[i]))
                return rjson_fail(err, errlen,
                    "%s: rules[%zu] (%s) never matches: rules[%zu] (%s) comes first and catches all its "
                    "signals",
                    name, i, r->rules[i].id, j, r->rules[j].id);
        }
    }
    return SP_OK;
}

static int load_root(json_t *root, const char *name, route_rules **out, char *err, size_t errlen)
{
    route_rules *r = calloc(1, sizeof *r);
    *out = NULL;
    if (r == NULL) {
        json_decref(root);
        return SP_ENOMEM;
    }
    r->root = root;
    int rv = parse_root(r, name, err, errlen);
    if (rv != SP_OK) {
        route_rules_destroy(r);
        return rv;
    }
    *out = r;
    return SP_OK;
}

int route_rules_load_file(const char *path, route_rules **out, char *err, size_t errlen)
{
    json_t *root;
    int rv = rjson_load_file(path, &root, err, errlen);
    if (rv != SP_OK) return rv;
    return load_root(root, path, out, err, errlen);
}

int route_rules_load_string(const char *json, const char *name, route_rules **out, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, &je);
    *out = NULL;
    if (root == NULL) return rjson_fail(err, errlen, "%s:%d:%d: %s", name, je.line, je.column, je.text);
    return load_root(root, name, out, err, errlen);
}

const route_rule *route_rules_match(
    const route_rules *r, const char *kind, int level, char *const *tags, size_t n_tags)
{
    if (r == NULL || kind == NULL) return NULL;
    for (size_t i = 0; i < r->n; i++) {
        const route_rule *ru = &r->rules[i];
        if (strcmp(ru->kind, "*") != 0 && strcmp(ru->kind, kind) != 0) continue;
        if (ru->level != 0 && ru->level != level) continue;
        if (ru->tag != NULL) {
            int hit = 0;
            for (size_t t = 0; t < n_tags && !hit; t++)
                hit = tags[t] != NULL && strcmp(tags[t], ru->tag) == 0;
            if (!hit) continue;
        }
        return ru;
    }
    return NULL;
}

size_t route_rules_count(const route_rules *r)
{
    return r ? r->n : 0;
}

const route_rule *route_rules_at(const route_rules *r, size_t i)
{
    return r && i < r->n ? &r->rules[i] : NULL;
}

int64_t route_rules_sla_s(const route_rules *r, int level)
{
    if (level < 1 || level > 3) level = 1;
    return r->sla_s[level];
}

int64_t route_rules_suppress_s(const route_rules *r)
{
    return r->suppress_s;
}

int route_rules_check_playbooks(
    const route_rules *r, int (*exists)(void *ctx, const char *id), void *ctx, char *err, size_t errlen)
{
    for (size_t i = 0; i < r->n; i++)
        for (size_t j = 0; j < r->rules[i].n_playbooks; j++)
            if (!exists(ctx, r->rules[i].playbooks[j]))
                return rjson_fail(err, errlen,
                    "rules[%zu] (%s): key \"playbooks\": \"%s\" is not a known playbook", i, r->rules[i].id,
                    r->rules[i].playbooks[j]);
    return SP_OK;
}

route_rules *route_rules_swap(route_rules *_Atomic *slot, route_rules *fresh)
{
    return atomic_exchange(slot, fresh);
}
