/* errlist.c - validation error lists (see errlist.h). */
#include "ingest/errlist.h"

#include "err.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ingest_errlist_add(ingest_errlist *l, int index, const char *field, const char *fmt, ...)
{
    if (l == NULL) return;
    if (l->n >= SP_ERRLIST_MAX) {
        l->dropped++;
        return;
    }
    ingest_error *items = realloc(l->items, (l->n + 1) * sizeof *items);
    if (items == NULL) {
        l->dropped++;
        return;
    }
    l->items = items;
    ingest_error *e = &items[l->n++];
    e->index = index;
    snprintf(e->field, sizeof e->field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
}

void ingest_errlist_clear(ingest_errlist *l)
{
    if (l == NULL) return;
    free(l->items);
    memset(l, 0, sizeof *l);
}

size_t ingest_errlist_count(const ingest_errlist *l)
{
    return l ? l->n + l->dropped : 0;
}

const ingest_error *ingest_errlist_find(const ingest_errlist *l, int index, const char *field)
{
    for (size_t i = 0; l && i < l->n; i++)
        if (l->items[i].index == index && strcmp(l->items[i].field, field) == 0) return &l->items[i];
    return NULL;
}

int ingest_errlist_to_json(const ingest_errlist *l, char **out)
{
    *out = NULL;
    json_t *root = json_object(), *arr = json_array();
    if (root == NULL || arr == NULL || json_object_set_new(root, "errors", arr) != 0) {
        json_decref(root);
        return SP_ENOMEM;
    }
    for (size_t i = 0; l && i < l->n; i++) {
        /* messages may quote input bytes; json_stringn rejects bad UTF-8 */
        json_t *e = json_pack("{s:i,s:s,s:s?}", "index", l->items[i].index, "field", l->items[i].field,
            "message", l->items[i].message);
        if (e == NULL)
            e = json_pack(
                "{s:i,s:s,s:s}", "index", l->items[i].index, "field", "", "message", "invalid input");
        if (e == NULL || json_array_append_new(arr, e) != 0) {
            json_decref(root);
            return SP_ENOMEM;
        }
    }
    if (l && l->dropped) json_object_set_new(root, "more_errors", json_integer((json_int_t)l->dropped));
    *out = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return *out ? SP_OK : SP_ENOMEM;
}
