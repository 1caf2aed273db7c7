/* extract_json.c - the contract's output object for one result. */
#include "enrich/extract.h"

#include "err.h"

#include <jansson.h>
#include <stdlib.h>

static json_t *list(const char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

/* Builds the contract's object for r (see extract.h); keys in the
 * contract's order. */
int extract_result_json(const extract_result *r, const char *id, int flags, json_t **out)
{
    if (r == NULL || out == NULL) return SP_EINVAL;
    *out = NULL;
    json_t *o = json_object();
    if (o == NULL) return SP_ENOMEM;
    json_object_set_new(o, "id", id ? json_string(id) : json_null());
    json_object_set_new(o, "products", list(r->products, r->n_products));
    json_object_set_new(o, "competitors", list(r->competitors, r->n_competitors));
    if (r->has_budget) {
        json_t *b = json_object();
        json_object_set_new(b, "min", r->budget.has_min ? json_integer(r->budget.min) : json_null());
        json_object_set_new(b, "max", r->budget.has_max ? json_integer(r->budget.max) : json_null());
        json_object_set_new(b, "currency", json_string(r->budget.currency ? r->budget.currency : "CNY"));
        json_object_set_new(o, "budget", b);
    } else {
        json_object_set_new(o, "budget", json_null());
    }
    json_object_set_new(o, "delivery_by", r->delivery_by[0] ? json_string(r->delivery_by) : json_null());
    json_object_set_new(o, "risks", list(r->risks, r->n_risks));
    json_object_set_new(o, "roles", list(r->roles, r->n_roles));
    json_object_set_new(o, "intents", list(r->intents, r->n_intents));
    if (flags & EXTRACT_JSON_CARD) {
        json_object_set_new(o, "core_need", r->core_need[0] ? json_string(r->core_need) : json_null());
        json_object_set_new(o, "concern", r->concern[0] ? json_string(r->concern) : json_null());
    }
    *out = o;
    return SP_OK;
}

/* Serialises r (see extract.h). */
int extract_result_to_json(const extract_result *r, const char *id, int flags, char **json)
{
    if (r == NULL || json == NULL) return SP_EINVAL;
    *json = NULL;
    json_t *o = NULL;
    int rv = extract_result_json(r, id, flags, &o);
    if (rv != SP_OK) return rv;
    *json = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII * 0);
    json_decref(o);
    return *json ? SP_OK : SP_ENOMEM;
}
