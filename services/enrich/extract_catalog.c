/* extract_catalog.c - products and competitors from the tenant catalog:
 * alias matching in any case, with or without spaces/hyphens, never inside
 * a longer Latin/digit token. */
#include "enrich/extract_internal.h"

#include "err.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_alnum(unsigned char ch)
{
    return ch < 0x80 && isalnum(ch);
}

static int is_sep(unsigned char ch)
{
    return ch == ' ' || ch == '-' || ch == '_';
}

/* Appends the regex for one alias to buf: literal characters, optional
 * separators where the alias has one or switches letter/digit/Han. */
static size_t alias_regex(const char *a, char *buf, size_t cap)
{
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)a;
    int prev_kind = 0; /* 1 letter, 2 digit, 3 other */
    if (is_alnum(p[0])) n += (size_t)snprintf(buf + n, cap - n, "(?<![A-Za-z0-9])");
    int pending_sep = 0;
    for (; *p && n + 16 < cap; p++) {
        if (is_sep(*p)) {
            pending_sep = 1;
            continue;
        }
        int kind = *p < 0x80 ? (isalpha(*p) ? 1 : isdigit(*p) ? 2 : 3) : 3;
        if (*p >= 0x80 && (*p & 0xC0) == 0x80) kind = prev_kind; /* continuation byte */
        if (prev_kind && (pending_sep || (kind != prev_kind && (kind != 3 || prev_kind != 3))))
            n += (size_t)snprintf(buf + n, cap - n, "[ \\-_]{0,2}");
        pending_sep = 0;
        if (*p < 0x80 && !isalnum(*p))
            n += (size_t)snprintf(buf + n, cap - n, "\\%c", *p);
        else
            buf[n++] = (char)*p;
        prev_kind = kind;
    }
    size_t l = strlen(a);
    while (l && is_sep((unsigned char)a[l - 1]))
        l--;
    if (l && is_alnum((unsigned char)a[l - 1])) n += (size_t)snprintf(buf + n, cap - n, "(?![A-Za-z0-9])");
    buf[n] = '\0';
    return n;
}

static int cmp_len_desc(const void *a, const void *b)
{
    size_t x = strlen(*(const char *const *)a), y = strlen(*(const char *const *)b);
    return (x < y) - (x > y);
}

/* Loads the array obj[key] of {"id","name","aliases"} into ids/aliases. */
static int entities(json_t *root, const char *path, const char *key, char ***ids, size_t *nids, ex_alias **al,
    size_t *nal, char *err, size_t errlen)
{
    json_t *a = json_object_get(root, key);
    if (!json_is_array(a)) {
        snprintf(err, errlen, "%s: key \"%s\" must be an array", path, key);
        return SP_ECONFIG;
    }
    size_t n = json_array_size(a);
    *ids = calloc(n + 1, sizeof **ids);
    *al = calloc(n + 1, sizeof **al);
    if (*ids == NULL || *al == NULL) return SP_ENOMEM;
    size_t i;
    json_t *it;
    json_array_foreach(a, i, it)
    {
        const char *id = json_string_value(json_object_get(it, "id"));
        json_t *aliases = json_object_get(it, "aliases");
        const char *name = json_string_value(json_object_get(it, "name"));
        if (id == NULL || id[0] == '\0') {
            snprintf(err, errlen, "%s: %s[%zu]: key \"id\" must be a non-empty string", path, key, i);
            return SP_ECONFIG;
        }
        if (aliases != NULL && !json_is_array(aliases)) {
            snprintf(err, errlen, "%s: %s[%zu] (\"%s\"): key \"aliases\" must be an array", path, key, i, id);
            return SP_ECONFIG;
        }
        const char *list[64];
        size_t nl = 0;
        list[nl++] = id;
        size_t j;
        json_t *s;
        json_array_foreach(aliases, j, s)
        {
            const char *v = json_string_value(s);
            if (v == NULL || v[0] == '\0') {
                snprintf(err, errlen, "%s: %s[%zu] (\"%s\"): key \"aliases\"[%zu] must be a non-empty string",
                    path, key, i, id, j);
                return SP_ECONFIG;
            }
            if (nl < 63) list[nl++] = v;
        }
        /* the full name only when it is a single token (a long descriptive
         * name is covered by its aliases) */
        if (name && strchr(name, ' ') == NULL && nl < 63) list[nl++] = name;
        qsort(list, nl, sizeof list[0], cmp_len_desc);
        size_t cap = 256;
        for (size_t k = 0; k < nl; k++)
            cap += strlen(list[k]) * 12 + 64;
        char *rx = malloc(cap);
        if (rx == NULL) return SP_ENOMEM;
        size_t off = 0;
        for (size_t k = 0; k < nl; k++) {
            if (k) rx[off++] = '|';
            off += alias_regex(list[k], rx + off, cap - off);
        }
        rx[off] = '\0';
        if (((*ids)[*nids] = strdup(id)) == NULL) {
            free(rx);
            return SP_ENOMEM;
        }
        char rxerr[200];
        int rv = ex_rx_compile(rx, 1, &(*al)[*nal].rx, rxerr, sizeof rxerr);
        free(rx);
        if (rv != SP_OK) {
            snprintf(err, errlen, "%s: %s[%zu] (\"%s\"): key \"aliases\": %s", path, key, i, id, rxerr);
            return rv;
        }
        (*al)[*nal].id = (*ids)[*nids];
        (*nids)++;
        (*nal)++;
    }
    return SP_OK;
}

/* Our company's names from tenant_name: each Han run, the run without a
 * legal suffix, and the first Latin word. */
static int own_names(ex_catalog *cat, const char *tn)
{
    cat->own_names = calloc(8, sizeof *cat->own_names);
    if (cat->own_names == NULL) return SP_ENOMEM;
    const unsigned char *p = (const unsigned char *)tn;
    while (*p && cat->n_own < 6) {
        const unsigned char *s = p;
        if (*p >= 0x80) {
            while (*p >= 0x80)
                p++;
        } else if (isalpha(*p)) {
            while (isalpha(*p))
                p++;
        } else {
            p++;
            continue;
        }
        size_t l = (size_t)(p - s);
        if (l < 2) continue;
        char *w = strndup((const char *)s, l);
        if (w == NULL) return SP_ENOMEM;
        cat->own_names[cat->n_own++] = w;
        static const char *const sfx[] = {"科技", "公司", "集团", "股份", NULL};
        for (size_t k = 0; sfx[k] && *s >= 0x80; k++) {
            size_t sl = strlen(sfx[k]);
            if (l > sl + 3 && memcmp(s + l - sl, sfx[k], sl) == 0) {
                char *t = strndup((const char *)s, l - sl);
                if (t == NULL) return SP_ENOMEM;
                cat->own_names[cat->n_own++] = t;
                break;
            }
        }
        if (*s < 0x80) break; /* first Latin word only */
    }
    return SP_OK;
}

/* Loads the catalog JSON at path. On failure cat is freed and err names
 * the file, item and key. */
int ex_catalog_load(ex_catalog *cat, const char *path, char *err, size_t errlen)
{
    memset(cat, 0, sizeof *cat);
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (root == NULL) {
        snprintf(err, errlen, "%s: line %d: %s", path, je.line, je.text);
        return je.line <= 0 ? SP_EIO : SP_ECONFIG;
    }
    int rv = SP_OK;
    if (!json_is_object(root)) {
        snprintf(err, errlen, "%s: top level must be an object", path);
        rv = SP_ECONFIG;
        goto fail;
    }
    rv = entities(root, path, "products", &cat->product_ids, &cat->n_products, &cat->products, &cat->n_palias,
        err, errlen);
    if (rv != SP_OK) goto fail;
    rv = entities(root, path, "competitors", &cat->competitor_ids, &cat->n_competitors, &cat->competitors,
        &cat->n_calias, err, errlen);
    if (rv != SP_OK) goto fail;
    const char *tn = json_string_value(json_object_get(root, "tenant_name"));
    if (tn && (rv = own_names(cat, tn)) != SP_OK) goto fail;
    json_decref(root);
    return SP_OK;
fail:
    json_decref(root);
    ex_catalog_free(cat);
    return rv;
}

/* Frees everything ex_catalog_load allocated; safe on a zeroed catalog. */
void ex_catalog_free(ex_catalog *cat)
{
    for (size_t i = 0; i < cat->n_palias; i++)
        pcre2_code_free(cat->products[i].rx);
    for (size_t i = 0; i < cat->n_calias; i++)
        pcre2_code_free(cat->competitors[i].rx);
    for (size_t i = 0; i < cat->n_products; i++)
        free(cat->product_ids[i]);
    for (size_t i = 0; i < cat->n_competitors; i++)
        free(cat->competitor_ids[i]);
    for (size_t i = 0; i < cat->n_own; i++)
        free(cat->own_names[i]);
    free(cat->products);
    free(cat->competitors);
    free(cat->product_ids);
    free(cat->competitor_ids);
    free(cat->own_names);
    memset(cat, 0, sizeof *cat);
}

/* Adds every product and competitor named in s[0..len) to r. */
void ex_catalog_scan(const ex_ctx *c, const char *s, size_t len, extract_result *r)
{
    const ex_catalog *cat = &c->e->cat;
    for (size_t i = 0; i < cat->n_palias; i++)
        if (ex_rx_has(c, cat->products[i].rx, s, len))
            ex_result_add(r->products, &r->n_products, cat->products[i].id);
    for (size_t i = 0; i < cat->n_calias; i++)
        if (ex_rx_has(c, cat->competitors[i].rx, s, len))
            ex_result_add(r->competitors, &r->n_competitors, cat->competitors[i].id);
}

/* True when s[0..len) names any competitor. */
int ex_catalog_names_competitor(const ex_ctx *c, const char *s, size_t len)
{
    const ex_catalog *cat = &c->e->cat;
    for (size_t i = 0; i < cat->n_calias; i++)
        if (ex_rx_has(c, cat->competitors[i].rx, s, len)) return 1;
    return 0;
}
