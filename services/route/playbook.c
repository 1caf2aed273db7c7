/* playbook.c - loading and validating playbooks; picking the most similar
 * won case. Strings are borrowed from the parsed JSON, kept by the set. */
#include "route/playbook.h"

#include "err.h"
#include "route/rjson.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct playbook_set {
    json_t *root;
    playbook *pbs;
    size_t n;
    playbook_promotion *promos;
    size_t n_promos;
};

static const char *const kind_names[] = {
    [PLAYBOOK_ADVANCEMENT_CARD] = "advancement_card",
    [PLAYBOOK_WAKEUP_LIST] = "wakeup_list",
    [PLAYBOOK_TECHNICAL_DOUBT] = "technical_doubt_pack",
    [PLAYBOOK_COMPETITION_KIT] = "competition_kit",
    [PLAYBOOK_POLICY_GUIDE] = "policy_guide",
    [PLAYBOOK_SIMILAR_WON_CASE] = "similar_won_case",
    [PLAYBOOK_THREE_LAYER_REVIEW] = "three_layer_review",
};
#define KIND_MAX PLAYBOOK_THREE_LAYER_REVIEW

/* Slots the task pool knows how to fill. */
static const char *const sources[]
    = {"last_touch_points", "likely_needs", "current_promotions", "nearest_won_case", "open_risks",
        "key_roles", "competitors_named", "customer_card", "evidence", "decision_chain", NULL};

/* Slots a kind must have, so the design's content is never left out. */
static const char *const *required_sources(playbook_kind k)
{
    static const char *const wakeup[] = {"last_touch_points", "likely_needs", "current_promotions", NULL};
    static const char *const won[] = {"nearest_won_case", NULL};
    static const char *const none[] = {NULL};
    return k == PLAYBOOK_WAKEUP_LIST ? wakeup : k == PLAYBOOK_SIMILAR_WON_CASE ? won : none;
}

const char *playbook_kind_name(playbook_kind k)
{
    if (k < PLAYBOOK_ADVANCEMENT_CARD || k > KIND_MAX) return "unknown";
    return kind_names[k];
}

int playbook_kind_parse(const char *s, playbook_kind *out)
{
    for (int k = PLAYBOOK_ADVANCEMENT_CARD; k <= KIND_MAX; k++)
        if (s != NULL && strcmp(s, kind_names[k]) == 0) {
            *out = (playbook_kind)k;
            return SP_OK;
        }
    return SP_EINVAL;
}

void playbook_set_destroy(playbook_set *s)
{
    if (s == NULL) return;
    for (size_t i = 0; i < s->n; i++) {
        for (size_t j = 0; j < s->pbs[i].n_sections; j++)
            free((void *)s->pbs[i].sections[j].items);
        free((void *)s->pbs[i].sections);
    }
    free(s->pbs);
    free(s->promos);
    json_decref(s->root);
    free(s);
}

static int parse_section(
    playbook_section *sec, json_t *it, const char *pwhere, size_t j, char *err, size_t errlen)
{
    static const char *const keys[] = {"id", "title_zh", "title_en", "source", "limit", "items", NULL};
    char where[240];
    int rv;
    snprintf(where, sizeof where, "%s: sections[%zu]", pwhere, j);
    if ((rv = rjson_keys(it, keys, where, err, errlen)) != 0
        || (rv = rjson_str(it, "id", 1, &sec->id, where, err, errlen)) != 0)
        return rv;
    snprintf(where, sizeof where, "%s: sections[%zu] (%s)", pwhere, j, sec->id);
    if ((rv = rjson_str(it, "title_zh", 1, &sec->title_zh, where, err, errlen)) != 0
        || (rv = rjson_str(it, "title_en", 1, &sec->title_en, where, err, errlen)) != 0
        || (rv = rjson_str(it, "source", 0, &sec->source, where, err, errlen)) != 0)
        return rv;
    if (sec->source != NULL) {
        int ok = 0;
        for (const char *const *s = sources; *s && !ok; s++)
            ok = strcmp(*s, sec->source) == 0;
        if (!ok)
            return rjson_fail(
                err, errlen, "%s: key \"source\": \"%s\" is not a known slot", where, sec->source);
    }
    json_t *lim = json_object_get(it, "limit");
    if (lim != NULL) {
        if (!json_is_integer(lim) || json_integer_value(lim) < 1 || json_integer_value(lim) > 100)
            return rjson_fail(err, errlen, "%s: key \"limit\" must be an integer 1..100", where);
        sec->limit = (int)json_integer_value(lim);
    }
    json_t *items = json_object_get(it, "items");
    if (items != NULL && !json_is_array(items))
        return rjson_fail(err, errlen, "%s: key \"items\" must be an array", where);
    size_t n = json_array_size(items);
    if (n == 0 && sec->source == NULL)
        return rjson_fail(err, errlen, "%s: needs \"items\" or a \"source\" slot", where);
    playbook_item *its = calloc(n ? n : 1, sizeof *its);
    if (its == NULL) return SP_ENOMEM;
    sec->items = its;
    for (size_t k = 0; k < n; k++) {
        static const char *const ikeys[] = {"zh", "en", NULL};
        char iwhere[280];
        json_t *x = json_array_get(items, k);
        snprintf(iwhere, sizeof iwhere, "%s: items[%zu]", where, k);
        if ((rv = rjson_keys(x, ikeys, iwhere, err, errlen)) != 0
            || (rv = rjson_str(x, "zh", 1, &its[k].zh, iwhere, err, errlen)) != 0
            || (rv = rjson_str(x, "en", 1, &its[k].en, iwhere, err, errlen)) != 0)
            return rv;
    }
    sec->n_items = n;
    return SP_OK;
}

static int parse_playbook(playbook *pb, json_t *it, const char *name, size_t i, char *err, size_t errlen)
{
    static const char *const keys[]
        = {"id", "kind", "title_zh", "title_en", "summary_zh", "summary_en", "sections", NULL};
    char where[200];
    const char *kind;
    int rv;
    snprintf(where, sizeof where, "%s: playbooks[%zu]", name, i);
    if (!json_is_object(it)) return rjson_fail(err, errlen, "%s: not a JSON object", where);
    if ((rv = rjson_str(it, "id", 1, &pb->id, where, err, errlen)) != 0) return rv;
    snprintf(where, sizeof where, "%s: playbooks[%zu] (%s)", name, i, pb->id);
    if ((rv = rjson_keys(it, keys, where, err, errlen)) != 0
        || (rv = rjson_str(it, "kind", 1, &kind, where, err, errlen)) != 0
        || (rv = rjson_str(it, "title_zh", 1, &pb->title_zh, where, err, errlen)) != 0
        || (rv = rjson_str(it, "title_en", 1, &pb->title_en, where, err, errlen)) != 0
        || (rv = rjson_str(it, "summary_zh", 0, &pb->summary_zh, where, err, errlen)) != 0
        || (rv = rjson_str(it, "summary_en", 0, &pb->summary_en, where, err, errlen)) != 0)
        return rv;
    if (playbook_kind_parse(kind, &pb->kind) != SP_OK)
        return rjson_fail(err, errlen, "%s: key \"kind\": \"%s\" is not a known playbook kind", where, kind);
    json_t *secs = json_object_get(it, "sections");
    if (!json_is_array(secs) || json_array_size(secs) == 0)
        return rjson_fail(err, errlen, "%s: key \"sections\" must be a non-empty array", where);
    playbook_section *ss = calloc(json_array_size(secs), sizeof *ss);
    if (ss == NULL) return SP_ENOMEM;
    pb->sections = ss;
    for (size_t j = 0; j < json_array_size(secs); j++) {
        rv = parse_section(&ss[j], json_array_get(secs, j), where, j, err, errlen);
        pb->n_sections = j + 1;
        if (rv != SP_OK) return rv;
        for (size_t k = 0; k < j; k++)
            if (strcmp(ss[k].id, ss[j].id) == 0)
                return rjson_fail(
                    err, errlen, "%s: sections[%zu]: key \"id\" \"%s\" repeats", where, j, ss[j].id);
    }
    for (const char *const *req = required_sources(pb->kind); *req; req++) {
        int ok = 0;
        for (size_t j = 0; j < pb->n_sections && !ok; j++)
            ok = ss[j].source && strcmp(ss[j].source, *req) == 0;
        if (!ok)
            return rjson_fail(
                err, errlen, "%s: a %s needs a section with \"source\": \"%s\"", where, kind, *req);
    }
    return SP_OK;
}

static int parse_promotions(playbook_set *s, json_t *arr, const char *name, char *err, size_t errlen)
{
    static const char *const keys[] = {"id", "title_zh", "title_en", "product_line", "from", "until", NULL};
    if (arr == NULL) return SP_OK;
    if (!json_is_array(arr)) return rjson_fail(err, errlen, "%s: key \"promotions\" must be an array", name);
    if (json_array_size(arr) > PLAYBOOK_PROMOTIONS_MAX)
        return rjson_fail(err, errlen, "%s: key \"promotions\": at most %d", name, PLAYBOOK_PROMOTIONS_MAX);
    s->promos = calloc(json_array_size(arr) + 1, sizeof *s->promos);
    if (s->promos == NULL) return SP_ENOMEM;
    size_t i;
    json_t *it;
    int rv;
    json_array_foreach(arr, i, it)
    {
        char where[200];
        playbook_promotion *p = &s->promos[i];
        snprintf(where, sizeof where, "%s: promotions[%zu]", name, i);
        if ((rv = rjson_keys(it, keys, where, err, errlen)) != 0
            || (rv = rjson_str(it, "id", 1, &p->id, where, err, errlen)) != 0
            || (rv = rjson_str(it, "title_zh", 1, &p->title_zh, where, err, errlen)) != 0
            || (rv = rjson_str(it, "title_en", 1, &p->title_en, where, err, errlen)) != 0
            || (rv = rjson_str(it, "product_line", 0, &p->product_line, where, err, errlen)) != 0
            || (rv = rjson_time_ms(it, "from", &p->from_ms, where, err, errlen)) != 0
            || (rv = rjson_time_ms(it, "until", &p->until_ms, where, err, errlen)) != 0)
            return rv;
        if (p->until_ms <= p->from_ms)
            return rjson_fail(err, errlen, "%s (%s): key \"until\" must be after \"from\"", where, p->id);
        s->n_promos = i + 1;
    }
    return SP_OK;
}

static int load_root(json_t *root, const char *name, playbook_set **out, char *err, size_t errlen)
{
    static const char *const keys[] = {"version", "comment", "playbooks", "promotions", NULL};
    int rv;
    playbook_set *s = calloc(1, sizeof *s);
    *out = NULL;
    if (s == NULL) {
        json_decref(root);
        return SP_ENOMEM;
    }
    s->root = root;
    if ((rv = rjson_keys(root, keys, name, err, errlen)) != 0) goto fail;
    json_t *ver = json_object_get(root, "version");
    if (ver != NULL && (!json_is_integer(ver) || json_integer_value(ver) != 1)) {
        rv = rjson_fail(err, errlen, "%s: key \"version\" must be 1", name);
        goto fail;
    }
    json_t *arr = json_object_get(root, "playbooks");
    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        rv = rjson_fail(err, errlen, "%s: key \"playbooks\" must be a non-empty array", name);
        goto fail;
    }
    if ((s->pbs = calloc(json_array_size(arr), sizeof *s->pbs)) == NULL) {
        rv = SP_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < json_array_size(arr); i++) {
        rv = parse_playbook(&s->pbs[i], json_array_get(arr, i), name, i, err, errlen);
        s->n = i + 1;
        if (rv != SP_OK) goto fail;
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->pbs[j].id, s->pbs[i].id) == 0) {
                rv = rjson_fail(err, errlen, "%s: playbooks[%zu] (%s): key \"id\" duplicates playbooks[%zu]",
                    name, i, s->pbs[i].id, j);
                goto fail;
            }
    }
    if ((rv = parse_promotions(s, json_object_get(root, "promotions"), name, err, errlen)) != 0) goto fail;
    *out = s;
    return SP_OK;
fail:
    playbook_set_destroy(s);
    return rv;
}

int playbook_set_load_file(const char *path, playbook_set **out, char *err, size_t errlen)
{
    json_t *root;
    int rv = rjson_load_file(path, &root, err, errlen);
    if (rv != SP_OK) return rv;
    return load_root(root, path, out, err, errlen);
}

int playbook_set_load_string(const char *json, const char *name, playbook_set **out, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, &je);
    *out = NULL;
    if (root == NULL) return rjson_fail(err, errlen, "%s:%d:%d: %s", name, je.line, je.column, je.text);
    return load_root(root, name, out, err, errlen);
}

const playbook *playbook_get(const playbook_set *s, const char *id)
{
    for (size_t i = 0; s != NULL && id != NULL && i < s->n; i++)
        if (strcmp(s->pbs[i].id, id) == 0) return &s->pbs[i];
    return NULL;
}

size_t playbook_count(const playbook_set *s)
{
    return s ? s->n : 0;
}

const playbook *playbook_at(const playbook_set *s, size_t i)
{
    return s && i < s->n ? &s->pbs[i] : NULL;
}

int playbook_exists(void *set, const char *id)
{
    return playbook_get(set, id) != NULL;
}

void playbook_promotions_current(const playbook_set *s, const char *product_line, int64_t now_ms,
    const playbook_promotion **out, size_t cap, size_t *n)
{
    *n = 0;
    for (size_t i = 0; s != NULL && i < s->n_promos && *n < cap; i++) {
        const playbook_promotion *p = &s->promos[i];
        if (now_ms < p->from_ms || now_ms >= p->until_ms) continue;
        if (product_line && p->product_line && strcmp(product_line, p->product_line) != 0) continue;
        out[(*n)++] = p;
    }
}

#define SP_STAGE_PATH_MAX 64

size_t playbook_stage_distance(const int *a, size_t na, const int *b, size_t nb)
{
    size_t row[SP_STAGE_PATH_MAX + 1];
    if (na > SP_STAGE_PATH_MAX) na = SP_STAGE_PATH_MAX;
    if (nb > SP_STAGE_PATH_MAX) nb = SP_STAGE_PATH_MAX;
    for (size_t j = 0; j <= nb; j++)
        row[j] = j;
    for (size_t i = 1; i <= na; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[nb];
}

static int same(const char *a, const char *b)
{
    return a != NULL && b != NULL && *a != '\0' && strcmp(a, b) == 0;
}

int playbook_won_case_pick(
    const won_case *cases, size_t n, const won_case_query *q, size_t *best, size_t *distance)
{
    if ((cases == NULL && n > 0) || q == NULL || best == NULL) return SP_EINVAL;
    int found = 0, b_tier = 0;
    size_t b_dist = 0;
    for (size_t i = 0; i < n; i++) {
        const won_case *c = &cases[i];
        int ind = same(c->industry, q->industry), line = same(c->product_line, q->product_line);
        if (!ind && !line) continue;
        int tier = ind && line ? 0 : line ? 1 : 2;
        size_t d = playbook_stage_distance(c->stages, c->n_stages, q->stages, q->n_stages);
        int better = !found || tier < b_tier || (tier == b_tier && d < b_dist);
        if (!better && found && tier == b_tier && d == b_dist) {
            const won_case *o = &cases[*best];
            better = c->won_at_ms > o->won_at_ms
                || (c->won_at_ms == o->won_at_ms && c->id && o->id && strcmp(c->id, o->id) < 0);
        }
        if (better) {
            found = 1;
            b_tier = tier;
            b_dist = d;
            *best = i;
        }
    }
    if (!found) return SP_ENOTFOUND;
    if (distance) *distance = b_dist;
    return SP_OK;
}
