/* playbook_fill.c - what goes into each slot of a playbook shown with a task
 * (playbook_fill.h). */
#include "taskpool/playbook_fill.h"

#include "err.h"
#include "utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "decision_maker", "technical", "finance", "procurement": the four buying
 * roles the method asks a rep to cover (contacts.role) */
static const char *const ROLES[] = {"decision_maker", "technical", "finance", "procurement"};

static size_t limit_of(const playbook_section *s, size_t dflt)
{
    return s->limit > 0 ? (size_t)s->limit : dflt;
}

static const char *str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* A copy of row o with only keys (NULL-terminated) present in it. */
static json_t *pick(const json_t *o, const char *const *keys)
{
    json_t *r = json_object();
    for (size_t i = 0; r && keys[i]; i++) {
        json_t *v = json_object_get(o, keys[i]);
        if (v) json_object_set(r, keys[i], v);
    }
    return r;
}

/* Appends e to a unless it already holds limit entries (e is consumed). */
static void add(json_t *a, json_t *e, size_t limit)
{
    if (e == NULL) return;
    if (json_array_size(a) >= limit)
        json_decref(e);
    else
        json_array_append_new(a, e);
}

/* Current facts of field, newest first as given, as slot entries. */
static void facts_of(json_t *a, const playbook_material *m, const char *field, const char *as, size_t limit)
{
    static const char *const keys[] = {"value", "level", "source", "quote", "occurred_at", NULL};
    size_t i;
    json_t *f;
    json_array_foreach(m->facts, i, f)
    {
        const char *fd = str(f, "field");
        if (fd == NULL || strcmp(fd, field) != 0) continue;
        json_t *e = pick(f, keys);
        if (e) json_object_set_new(e, "kind", json_string(as));
        if (e && strcmp(field, "product") == 0 && json_is_string(json_object_get(f, "value"))) {
            const char *line = str(m->lines, json_string_value(json_object_get(f, "value")));
            json_object_set_new(e, "product_line", line ? json_string(line) : json_null());
        }
        add(a, e, limit);
    }
}

static void touch_points(json_t *a, const playbook_material *m, size_t limit)
{
    static const char *const keys[] = {"event_id", "at", "channel", "direction", "rep_id", NULL};
    size_t i;
    json_t *t;
    json_array_foreach(m->touches, i, t)
    {
        json_t *e = pick(t, keys);
        const char *text = str(t, "text");
        if (e && text) {
            size_t n = sp_utf8_cut(text, strlen(text), PLAYBOOK_FILL_TEXT_MAX);
            json_object_set_new(e, "text", json_stringn(text, n));
            json_object_set_new(e, "truncated", json_boolean(n < strlen(text)));
        }
        add(a, e, limit);
    }
}

/* The core need in the customer's words first, then what they asked about
 * (products), budget and delivery date. */
static void likely_needs(json_t *a, const playbook_material *m, size_t limit)
{
    const char *need = str(m->card, "core_need");
    if (need && *need)
        add(a,
            json_pack("{s:s,s:s,s:O?,s:O?}", "kind", "core_need", "value", need, "level",
                json_object_get(m->card, "core_need_level"), "source",
                json_object_get(m->card, "core_need_source")),
            limit);
    facts_of(a, m, "product", "product", limit);
    facts_of(a, m, "budget", "budget", limit);
    facts_of(a, m, "delivery_by", "delivery_by", limit);
}

json_t *playbook_fill_lines(const playbook_material *m)
{
    json_t *lines = json_array();
    if (lines == NULL) return NULL;
    /* the deal's products, then the ones the customer asked about */
    size_t nf = json_array_size(m->facts), total = m->n_deal_products + nf;
    for (size_t i = 0; i < total; i++) {
        const char *pid = NULL;
        if (i < m->n_deal_products) {
            pid = m->deal_products[i];
        } else {
            const json_t *f = json_array_get(m->facts, i - m->n_deal_products);
            const char *fd = str(f, "field");
            if (fd && strcmp(fd, "product") == 0) pid = json_string_value(json_object_get(f, "value"));
        }
        const char *line = pid ? str(m->lines, pid) : NULL;
        if (line == NULL) continue;
        int seen = 0;
        size_t k;
        json_t *v;
        json_array_foreach(lines, k, v) seen |= strcmp(json_string_value(v), line) == 0;
        if (!seen) json_array_append_new(lines, json_string(line));
    }
    return lines;
}

/* Promotions valid now for a line the customer is in, or for every line. */
static void promotions(json_t *a, const playbook_material *m, size_t limit)
{
    json_t *lines = playbook_fill_lines(m);
    for (size_t i = 0; lines && i < m->n_promotions; i++) {
        const playbook_promotion *p = m->promotions[i];
        int fits = p->product_line == NULL;
        size_t k;
        json_t *v;
        json_array_foreach(lines, k, v) fits
            |= p->product_line && strcmp(json_string_value(v), p->product_line) == 0;
        if (!fits) continue;
        add(a,
            json_pack("{s:s,s:s,s:s,s:s?,s:I,s:I}", "id", p->id, "title_zh", p->title_zh, "title_en",
                p->title_en, "product_line", p->product_line, "from_ms", (json_int_t)p->from_ms, "until_ms",
                (json_int_t)p->until_ms),
            limit);
    }
    json_decref(lines);
}

/* The card's biggest concern, then the risk tags heard from the customer. */
static void open_risks(json_t *a, const playbook_material *m, size_t limit)
{
    const char *concern = str(m->card, "concern");
    if (concern && *concern)
        add(a,
            json_pack("{s:s,s:s,s:O?,s:O?,s:O?,s:O?}", "kind", "concern", "value", concern, "tag",
                json_object_get(m->card, "concern_tag"), "level",
                json_object_get(m->card, "concern_severity"), "source",
                json_object_get(m->card, "concern_source"), "at", json_object_get(m->card, "concern_at")),
            limit);
    static const char *const keys[] = {"tag", "last_at", "source", NULL};
    size_t i;
    json_t *r;
    json_array_foreach(m->risks, i, r)
    {
        json_t *e = pick(r, keys);
        if (e) json_object_set_new(e, "kind", json_string("risk"));
        add(a, e, limit);
    }
}

/* The contacts in one buying role. */
static json_t *role_contacts(const playbook_material *m, const char *role)
{
    static const char *const keys[] = {"id", "name", "title", "last_contact_at", NULL};
    json_t *l = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(m->contacts, i, c)
    {
        const char *r = str(c, "role");
        if (l && r && strcmp(r, role) == 0) json_array_append_new(l, pick(c, keys));
    }
    return l;
}

/* Every buying role, covered or not (uncovered ones are what to work on);
 * with only_covered, the decision chain: roles that have contacts. */
static void roles(json_t *a, const playbook_material *m, int only_covered, size_t limit)
{
    for (size_t i = 0; i < sizeof ROLES / sizeof ROLES[0]; i++) {
        json_t *l = role_contacts(m, ROLES[i]);
        if (l == NULL) continue;
        int covered = json_array_size(l) > 0;
        if (only_covered && !covered) {
            json_decref(l);
            continue;
        }
        add(a, json_pack("{s:s,s:b,s:o}", "role", ROLES[i], "covered", covered, "contacts", l), limit);
    }
}

static void card(json_t *a, const playbook_material *m)
{
    static const char *const keys[] = {"id", "name", "industry", "class", NULL};
    json_t *e = pick(m->customer, keys);
    const char *id = str(m->customer, "id");
    char *link = id ? malloc(strlen(id) * 3 + 32) : NULL;
    if (e && link) { /* the id as one path segment: percent-encoded but for unreserved bytes */
        static const char hex[] = "0123456789ABCDEF";
        char *o = link + sprintf(link, "/v1/customers/");
        for (const unsigned char *p = (const unsigned char *)id; *p; p++) {
            if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-'
                || *p == '_' || *p == '.' || *p == '~')
                *o++ = (char)*p;
            else
                *o++ = '%', *o++ = hex[*p >> 4], *o++ = hex[*p & 15];
        }
        strcpy(o, "/card");
        json_object_set_new(e, "link", json_string(link));
    }
    free(link);
    add(a, e, 1);
}

/* The signal's evidence ({"interaction_ids","numbers","quotes"}): the
 * numbers that made it fire, the customer's words, then the interactions. */
static void evidence(json_t *a, const json_t *ev, size_t limit)
{
    json_t *nums = json_object_get(ev, "numbers");
    if (json_object_size(nums) > 0) add(a, json_pack("{s:s,s:O}", "kind", "numbers", "value", nums), limit);
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(ev, "quotes"), i, v) if (json_is_string(v))
        add(a, json_pack("{s:s,s:O}", "kind", "quote", "value", v), limit);
    json_array_foreach(json_object_get(ev, "interaction_ids"), i, v) if (json_is_string(v))
        add(a, json_pack("{s:s,s:O}", "kind", "interaction", "event_id", v), limit);
}

/* Fills slot s of section sec into entries a. 1 when the slot needs a
 * customer the task does not name. */
static int fill_slot(json_t *a, const char *s, const playbook_section *sec, const playbook_material *m)
{
    size_t lim = limit_of(sec, PLAYBOOK_FILL_MAX_ENTRIES);
    if (strcmp(s, "evidence") == 0) { /* the task's own, whatever its subject */
        evidence(a, json_object_get(m->task, "evidence"), lim);
        return 0;
    }
    if (m->customer == NULL) return 1;
    if (strcmp(s, "last_touch_points") == 0)
        touch_points(a, m, limit_of(sec, PLAYBOOK_FILL_TOUCHES));
    else if (strcmp(s, "likely_needs") == 0)
        likely_needs(a, m, lim);
    else if (strcmp(s, "current_promotions") == 0)
        promotions(a, m, lim);
    else if (strcmp(s, "nearest_won_case") == 0) {
        if (m->won_case) add(a, json_deep_copy(m->won_case), lim);
    } else if (strcmp(s, "open_risks") == 0)
        open_risks(a, m, lim);
    else if (strcmp(s, "key_roles") == 0)
        roles(a, m, 0, lim);
    else if (strcmp(s, "decision_chain") == 0)
        roles(a, m, 1, lim);
    else if (strcmp(s, "competitors_named") == 0)
        facts_of(a, m, "competitor", "competitor", lim);
    else if (strcmp(s, "customer_card") == 0)
        card(a, m);
    return 0;
}

int playbook_fill(const playbook *pb, const playbook_material *m, json_t **out)
{
    *out = NULL;
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s?,s:s?}", "id", pb->id, "kind", playbook_kind_name(pb->kind),
        "title_zh", pb->title_zh, "title_en", pb->title_en, "summary_zh", pb->summary_zh, "summary_en",
        pb->summary_en);
    json_t *secs = json_array();
    if (o == NULL || secs == NULL || json_object_set_new(o, "sections", secs) != 0) {
        if (o == NULL) json_decref(secs);
        json_decref(o);
        return SP_ENOMEM;
    }
    for (size_t i = 0; i < pb->n_sections; i++) {
        const playbook_section *sec = &pb->sections[i];
        json_t *s
            = json_pack("{s:s,s:s,s:s}", "id", sec->id, "title_zh", sec->title_zh, "title_en", sec->title_en);
        if (s == NULL || json_array_append_new(secs, s) != 0) goto oom;
        if (sec->source == NULL) {
            json_t *items = json_array();
            if (items == NULL || json_object_set_new(s, "items", items) != 0) goto oom;
            for (size_t k = 0; k < sec->n_items; k++)
                json_array_append_new(
                    items, json_pack("{s:s,s:s}", "zh", sec->items[k].zh, "en", sec->items[k].en));
            continue;
        }
        json_t *entries = json_array();
        if (entries == NULL || json_object_set_new(s, "entries", entries) != 0) goto oom;
        json_object_set_new(s, "source", json_string(sec->source));
        if (sec->limit > 0) json_object_set_new(s, "limit", json_integer(sec->limit));
        if (fill_slot(entries, sec->source, sec, m))
            json_object_set_new(s, "unavailable", json_string("no_customer"));
    }
    *out = o;
    return SP_OK;
oom:
    json_decref(o);
    return SP_ENOMEM;
}
