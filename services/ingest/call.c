/* call.c - call transcripts into Interactions (see call.h).
 *
 * The transcript is rewritten into the generic item form and validated by
 * ingest_batch_item_parse, so both paths share one set of rules; error
 * fields are then renamed back to the transcript's keys. */
#include "ingest/call.h"

#include "err.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *item, *call;
} RENAMES[] = {
    {"occurred_at", "started_at"},
    {"external_id", "call_id"},
    {"call.call_id", "call_id"},
    {"call.duration_s", "duration_s"},
    {"call.customer_phone", "customer_phone"},
    {"customer_identity.value", "customer_phone"},
    {"source", "source"},
};

/* Copies o[key] into item[as] when present. */
static int copy(json_t *item, const char *as, json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return v ? json_object_set(item, as, v) : 0;
}

int ingest_call_parse(
    const char *body, size_t len, const ingest_batch_opts *opts, sp_interaction **out, ingest_errlist *errs)
{
    *out = NULL;
    if (len > SP_BATCH_MAX_BYTES) {
        ingest_errlist_add(errs, -1, "", "body is %zu bytes, at most %d", len, SP_BATCH_MAX_BYTES);
        return SP_ETOOBIG;
    }
    json_error_t je;
    json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (o == NULL || !json_is_object(o)) {
        if (o)
            ingest_errlist_add(errs, 0, "", "must be a JSON object");
        else
            ingest_errlist_add(
                errs, 0, "", "invalid JSON at line %d column %d: %s", je.line, je.column, je.text);
        json_decref(o);
        return SP_EDECODE;
    }
    int rv = SP_ENOMEM;
    size_t first = errs ? errs->n : 0;
    json_t *item = json_object(), *call = json_object();
    if (item == NULL || call == NULL) goto done;
    json_t *src = json_object_get(o, "source");
    if (json_object_set_new(item, "source", src ? json_incref(src) : json_string("call")) != 0
        || json_object_set_new(item, "channel", json_string("call")) != 0
        || copy(item, "external_id", o, "call_id") || copy(item, "occurred_at", o, "started_at")
        || copy(item, "rep_id", o, "rep_id") || copy(item, "turns", o, "turns")
        || copy(item, "text", o, "text") || copy(item, "direction", o, "direction")
        || copy(item, "customer_ref", o, "customer_ref") || copy(item, "deal_id", o, "deal_id")
        || copy(item, "tenant_id", o, "tenant_id") || copy(call, "call_id", o, "call_id")
        || copy(call, "duration_s", o, "duration_s") || copy(call, "customer_phone", o, "customer_phone"))
        goto done;
    json_t *phone = json_object_get(o, "customer_phone");
    if (json_is_string(phone) && json_string_length(phone) > 0) {
        json_t *id = json_pack("{s:s,s:O}", "kind", "phone", "value", phone);
        if (id == NULL || json_object_set_new(item, "customer_identity", id) != 0) goto done;
    }
    if (json_object_get(o, "call_id") == NULL) ingest_errlist_add(errs, 0, "call_id", "required");
    if (json_object_set(item, "call", call) != 0) goto done;
    rv = ingest_batch_item_parse(item, 0, opts, out, errs);
    if (rv == SP_OK && errs && errs->n > first) rv = SP_EINVAL; /* the call_id check above */
    if (rv != SP_OK) {
        interaction_destroy(*out);
        *out = NULL;
    }
    /* name the transcript's keys; drop duplicates the renaming creates */
    for (size_t i = first; errs && i < errs->n; i++) {
        for (size_t k = 0; k < sizeof RENAMES / sizeof RENAMES[0]; k++)
            if (strcmp(errs->items[i].field, RENAMES[k].item) == 0) {
                snprintf(errs->items[i].field, sizeof errs->items[i].field, "%s", RENAMES[k].call);
                break;
            }
        for (size_t j = first; j < i; j++)
            if (strcmp(errs->items[j].field, errs->items[i].field) == 0) {
                memmove(&errs->items[i], &errs->items[i + 1], (errs->n - i - 1) * sizeof errs->items[0]);
                errs->n--, i--;
                break;
            }
    }
done:
    json_decref(call);
    json_decref(item);
    json_decref(o);
    return rv;
}
