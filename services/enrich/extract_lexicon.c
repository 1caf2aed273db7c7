/* extract_lexicon.c - loads and validates the operator-editable lexicon
 * files (speakers, risks, roles, intents, budget, dates). Every error names
 * the file, the item and the key. */
#include "enrich/extract_internal.h"

#include "err.h"

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const RISK_TAGS[] = {"price", "budget_freeze", "stall", "after_sales", "technical_doubt",
    "compliance", "decision_change", "delivery", "competitor_pressure", NULL};
static const char *const ROLE_TAGS[] = {"procurement", "technical", "decision_maker", "finance", NULL};
static const char *const INTENT_TAGS[]
    = {"inquiry", "demo_request", "demo_refused", "ready_to_sign", "meeting_scheduled", NULL};

static int tag_allowed(const char *const *tags, const char *t)
{
    for (size_t i = 0; tags[i]; i++)
        if (strcmp(tags[i], t) == 0) return 1;
    return 0;
}

/* Compiles the array at obj[key] (strings, each a regex) into one
 * alternation; each item is compiled alone first so errors name it.
 * A missing optional key leaves *out NULL. */
static int patterns(json_t *obj, const char *file, const char *where, const char *key, int required,
    pcre2_code **out, char *err, size_t errlen)
{
    *out = NULL;
    json_t *a = json_object_get(obj, key);
    if (a == NULL) {
        if (!required) return SP_OK;
        snprintf(err, errlen, "%s: %s: missing key \"%s\"", file, where, key);
        return SP_ECONFIG;
    }
    if (!json_is_array(a) || json_array_size(a) == 0) {
        snprintf(err, errlen, "%s: %s: key \"%s\" must be a non-empty array of strings", file, where, key);
        return SP_ECONFIG;
    }
    size_t cap = 16, len = 0;
    char *all = malloc(cap);
    if (all == NULL) return SP_ENOMEM;
    all[0] = '\0';
    size_t i;
    json_t *it;
    json_array_foreach(a, i, it)
    {
        const char *p = json_string_value(it);
        if (p == NULL || p[0] == '\0') {
            snprintf(err, errlen, "%s: %s: key \"%s\"[%zu] must be a non-empty string", file, where, key, i);
            free(all);
            return SP_ECONFIG;
        }
        pcre2_code *one = NULL;
        char rxerr[200];
        if (ex_rx_compile(p, 1, &one, rxerr, sizeof rxerr) != SP_OK) {
            snprintf(err, errlen, "%s: %s: key \"%s\"[%zu]: %s", file, where, key, i, rxerr);
            free(all);
            return SP_ECONFIG;
        }
        pcre2_code_free(one);
        size_t pl = strlen(p);
        if (len + pl + 8 > cap) {
            while (len + pl + 8 > cap)
                cap *= 2;
            char *n = realloc(all, cap);
            if (n == NULL) {
                free(all);
                return SP_ENOMEM;
            }
            all = n;
        }
        len += (size_t)sprintf(all + len, "%s(?:%s)", i ? "|" : "", p);
    }
    char rxerr[200];
    int rv = ex_rx_compile(all, 1, out, rxerr, sizeof rxerr);
    if (rv != SP_OK) snprintf(err, errlen, "%s: %s: key \"%s\": %s", file, where, key, rxerr);
    free(all);
    return rv;
}

/* Rejects keys of obj not in allowed (NULL-terminated); "_doc" is free text. */
static int known_keys(
    json_t *obj, const char *file, const char *where, const char *const *allowed, char *err, size_t errlen)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        int ok = strcmp(k, "_doc") == 0;
        for (size_t i = 0; allowed[i] && !ok; i++)
            ok = strcmp(k, allowed[i]) == 0;
        if (!ok) {
            snprintf(err, errlen, "%s: %s: unknown key \"%s\"", file, where, k);
            return SP_ECONFIG;
        }
    }
    return SP_OK;
}

static int ascii_only(const char *p)
{
    for (; *p; p++)
        if ((unsigned char)*p >= 0x80) return 0;
    return 1;
}

/* Like patterns() for a rule's "patterns": one alternation of the
 * ASCII-only items and one of the others. */
static int split_patterns(
    json_t *obj, const char *file, const char *where, ex_rule *r, char *err, size_t errlen)
{
    pcre2_code *all = NULL;
    int rv = patterns(obj, file, where, "patterns", 1, &all, err, errlen); /* validates every item */
    if (rv != SP_OK) return rv;
    pcre2_code_free(all);
    json_t *a = json_object_get(obj, "patterns");
    for (int latin = 0; latin < 2; latin++) {
        size_t cap = 16, len = 0, i;
        json_t *it;
        json_array_foreach(a, i, it) cap += strlen(json_string_value(it)) + 8;
        char *buf = malloc(cap);
        if (buf == NULL) return SP_ENOMEM;
        json_array_foreach(a, i, it)
        {
            const char *p = json_string_value(it);
            if (ascii_only(p) != latin) continue;
            len += (size_t)sprintf(buf + len, "%s(?:%s)", len ? "|" : "", p);
        }
        if (len) {
            char rxerr[200];
            rv = ex_rx_compile(buf, 1, latin ? &r->match_latin : &r->match_han, rxerr, sizeof rxerr);
            if (rv != SP_OK) snprintf(err, errlen, "%s: %s: key \"patterns\": %s", file, where, rxerr);
        }
        free(buf);
        if (rv != SP_OK) return rv;
    }
    return SP_OK;
}

static void ruleset_free(ex_ruleset *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        free(rs->v[i].tag);
        pcre2_code_free(rs->v[i].match_latin);
        pcre2_code_free(rs->v[i].match_han);
        pcre2_code_free(rs->v[i].unless);
    }
    free(rs->v);
    rs->v = NULL;
    rs->n = 0;
}

/* Loads obj["rules"]: [{"tag", "patterns", "unless"?, "severity"?}]. */
static int ruleset(
    json_t *obj, const char *file, const char *const *tags, ex_ruleset *rs, char *err, size_t errlen)
{
    json_t *a = json_object_get(obj, "rules");
    if (!json_is_array(a) || json_array_size(a) == 0) {
        snprintf(err, errlen, "%s: key \"rules\" must be a non-empty array", file);
        return SP_ECONFIG;
    }
    rs->v = calloc(json_array_size(a), sizeof *rs->v);
    if (rs->v == NULL) return SP_ENOMEM;
    size_t i;
    json_t *it;
    json_array_foreach(a, i, it)
    {
        char where[96];
        snprintf(where, sizeof where, "rules[%zu]", i);
        if (!json_is_object(it)) {
            snprintf(err, errlen, "%s: %s: must be an object", file, where);
            return SP_ECONFIG;
        }
        const char *tag = json_string_value(json_object_get(it, "tag"));
        if (tag == NULL) {
            snprintf(err, errlen, "%s: %s: key \"tag\" must be a string", file, where);
            return SP_ECONFIG;
        }
        if (!tag_allowed(tags, tag)) {
            snprintf(err, errlen, "%s: %s: key \"tag\": unknown tag \"%s\"", file, where, tag);
            return SP_ECONFIG;
        }
        snprintf(where, sizeof where, "rules[%zu] (tag \"%s\")", i, tag);
        static const char *const rule_keys[] = {"tag", "patterns", "unless", "severity", NULL};
        int kv = known_keys(it, file, where, rule_keys, err, errlen);
        if (kv != SP_OK) return kv;
        ex_rule *r = &rs->v[rs->n++];
        if ((r->tag = strdup(tag)) == NULL) return SP_ENOMEM;
        json_t *sev = json_object_get(it, "severity");
        if (sev != NULL && !json_is_integer(sev)) {
            snprintf(err, errlen, "%s: %s: key \"severity\" must be an integer", file, where);
            return SP_ECONFIG;
        }
        r->severity = sev ? (int)json_integer_value(sev) : 0;
        int rv = split_patterns(it, file, where, r, err, errlen);
        if (rv == SP_OK) rv = patterns(it, file, where, "unless", 0, &r->unless, err, errlen);
        if (rv != SP_OK) return rv;
    }
    return SP_OK;
}

static int load_file(
    const char *dir, const char *name, json_t **root, char *path, size_t pathlen, char *err, size_t errlen)
{
    snprintf(path, pathlen, "%s/%s", dir, name);
    json_error_t je;
    *root = json_load_file(path, 0, &je);
    if (*root == NULL) {
        snprintf(err, errlen, "%s: line %d: %s", path, je.line, je.text);
        return je.line <= 0 ? SP_EIO : SP_ECONFIG;
    }
    if (!json_is_object(*root)) {
        snprintf(err, errlen, "%s: top level must be an object", path);
        json_decref(*root);
        *root = NULL;
        return SP_ECONFIG;
    }
    return SP_OK;
}

struct pat_key {
    const char *key;
    size_t off;
    int required;
};

#define PK(k, f, r)                                                                                          \
    {                                                                                                        \
        k, offsetof(ex_lexicon, f), r                                                                        \
    }

static int load_keys(
    json_t *root, const char *path, ex_lexicon *lx, const struct pat_key *keys, char *err, size_t errlen)
{
    for (size_t i = 0; keys[i].key; i++) {
        pcre2_code **slot = (pcre2_code **)((char *)lx + keys[i].off);
        SP_ASSERT(*slot == NULL); /* each key fills its own slot once */
        int rv = patterns(root, path, "top level", keys[i].key, keys[i].required, slot, err, errlen);
        if (rv != SP_OK) return rv;
    }
    return SP_OK;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int spring_dates(json_t *root, const char *path, ex_lexicon *lx, char *err, size_t errlen)
{
    json_t *a = json_object_get(root, "spring_festival");
    if (!json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > 32) {
        snprintf(
            err, errlen, "%s: key \"spring_festival\" must be an array of 1..32 \"YYYY-MM-DD\" dates", path);
        return SP_ECONFIG;
    }
    size_t i;
    json_t *it;
    json_array_foreach(a, i, it)
    {
        const char *s = json_string_value(it);
        int y, m, d;
        char tail;
        if (s == NULL || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || m < 1 || m > 12 || d < 1
            || d > 31) {
            snprintf(err, errlen, "%s: key \"spring_festival\"[%zu] must be a \"YYYY-MM-DD\" date", path, i);
            return SP_ECONFIG;
        }
        lx->spring[lx->n_spring++] = ex_days_from_civil(y, m, d);
    }
    qsort(lx->spring, lx->n_spring, sizeof lx->spring[0], cmp_int);
    return SP_OK;
}

/* Loads every lexicon file of dir into lx. On failure lx is freed. */
int ex_lexicon_load(ex_lexicon *lx, const char *dir, char *err, size_t errlen)
{
    static const struct pat_key speakers[] = {PK("rep_labels", rep_label, 1),
        PK("customer_labels", customer_label, 1), PK("own_company", own_company, 0),
        PK("quote_line", quote_line, 1), PK("quote_cut", quote_cut, 1), PK("reply_subject", reply_subject, 0),
        PK("rep_signature", rep_signature, 0), PK("header_line", header_line, 0), {NULL, 0, 0}};
    static const struct pat_key risks[] = {PK("resolved", resolved, 1),
        PK("competitor_dismissed", competitor_dismissed, 0), PK("competitor_generic", competitor_generic, 0),
        PK("demo_proposal", demo_proposal, 1), PK("postpone_reply", postpone_reply, 1), {NULL, 0, 0}};
    static const struct pat_key roles[] = {PK("own_side_prefix", own_side_prefix, 1),
        PK("their_side_prefix", their_side_prefix, 1), PK("address", address, 1), {NULL, 0, 0}};
    static const struct pat_key budget[] = {PK("cue", b_cue, 1), PK("quote", b_quote, 1),
        PK("threshold", b_threshold, 1), PK("max_before", b_max_before, 1), PK("max_after", b_max_after, 1),
        PK("min_before", b_min_before, 1), PK("min_after", b_min_after, 1), PK("usd", b_usd, 1),
        PK("cny", b_cny, 1), PK("positive", b_positive, 1), PK("not_money_after", b_not_money, 0),
        {NULL, 0, 0}};
    static const struct pat_key dates[]
        = {PK("delivery_strong", d_strong, 1), PK("delivery_weak", d_weak, 1), PK("deadline", d_deadline, 1),
            PK("meeting", d_meeting, 1), PK("refused", d_refused, 1), PK("meeting_day", d_meeting_day, 1),
            PK("time_of_day", d_time_of_day, 1), PK("not_from_now", d_not_from_now, 0),
            PK("paperwork", d_paperwork, 0), PK("goods", d_goods, 0), {NULL, 0, 0}};
    static const struct {
        const char *name;
        const struct pat_key *keys;
        const char *const *tags;
        size_t rules_off;
    } files[] = {
        {"speakers.json", speakers, NULL, 0},
        {"risks.json", risks, RISK_TAGS, offsetof(ex_lexicon, risks)},
        {"roles.json", roles, ROLE_TAGS, offsetof(ex_lexicon, roles)},
        {"intents.json", NULL, INTENT_TAGS, offsetof(ex_lexicon, intents)},
        {"budget.json", budget, NULL, 0},
        {"dates.json", dates, NULL, 0},
    };
    memset(lx, 0, sizeof *lx);
    int rv = SP_OK;
    for (size_t f = 0; f < sizeof files / sizeof files[0] && rv == SP_OK; f++) {
        char path[1024];
        json_t *root = NULL;
        rv = load_file(dir, files[f].name, &root, path, sizeof path, err, errlen);
        if (rv != SP_OK) break;
        const char *allowed[24];
        size_t na = 0;
        for (size_t k = 0; files[f].keys && files[f].keys[k].key && na < 20; k++)
            allowed[na++] = files[f].keys[k].key;
        if (files[f].tags) allowed[na++] = "rules";
        if (strcmp(files[f].name, "dates.json") == 0) allowed[na++] = "spring_festival";
        allowed[na] = NULL;
        rv = known_keys(root, path, "top level", allowed, err, errlen);
        if (rv == SP_OK && files[f].tags)
            rv = ruleset(
                root, path, files[f].tags, (ex_ruleset *)((char *)lx + files[f].rules_off), err, errlen);
        if (rv == SP_OK && files[f].keys) rv = load_keys(root, path, lx, files[f].keys, err, errlen);
        if (rv == SP_OK && strcmp(files[f].name, "dates.json") == 0)
            rv = spring_dates(root, path, lx, err, errlen);
        json_decref(root);
    }
    if (rv != SP_OK) ex_lexicon_free(lx);
    return rv;
}

/* Frees every compiled pattern of lx; safe on a zeroed or partly loaded lx. */
void ex_lexicon_free(ex_lexicon *lx)
{
    pcre2_code **all[] = {&lx->rep_label, &lx->customer_label, &lx->own_company, &lx->quote_line,
        &lx->quote_cut, &lx->reply_subject, &lx->rep_signature, &lx->header_line, &lx->resolved,
        &lx->competitor_dismissed, &lx->competitor_generic, &lx->demo_proposal, &lx->postpone_reply,
        &lx->own_side_prefix, &lx->their_side_prefix, &lx->address, &lx->b_cue, &lx->b_quote,
        &lx->b_threshold, &lx->b_max_before, &lx->b_max_after, &lx->b_min_before, &lx->b_min_after,
        &lx->b_usd, &lx->b_cny, &lx->b_positive, &lx->b_not_money, &lx->d_strong, &lx->d_weak,
        &lx->d_deadline, &lx->d_meeting, &lx->d_refused, &lx->d_meeting_day, &lx->d_time_of_day,
        &lx->d_not_from_now, &lx->d_paperwork, &lx->d_goods};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        pcre2_code_free(*all[i]);
        *all[i] = NULL;
    }
    ruleset_free(&lx->risks);
    ruleset_free(&lx->roles);
    ruleset_free(&lx->intents);
}
