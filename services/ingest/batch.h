/* batch.h - the generic interaction batch (POST /v1/interactions).
 *
 * The body is a JSON array of interaction objects or NDJSON (one object a
 * line; blank lines skipped). An object is the JSON form of
 * salespulse.v1.Interaction with the EventMeta fields flattened to the top
 * (event_id, occurred_at, trace_id, tenant_id), snake_case keys, enums as
 * lower-case names without prefix ("wecom", "inbound", "needs_diagnosis"),
 * timestamps as ISO-8601 strings with an offset (occurred_at,
 * meeting.scheduled_at, activity.next_step_due). docs/api/ingest.md has the
 * full rules. Unknown keys are ignored (forward compatibility); unknown enum
 * values are errors.
 *
 * Error fields are relative to the item, with its 0-based index apart:
 * {index 3, field "turns[0].speaker"}. The batch is all or nothing. */
#ifndef SP_INGEST_BATCH_H
#define SP_INGEST_BATCH_H

#include <stddef.h>

#include "ingest/errlist.h"
#include "ingest/interaction.h"

#define SP_BATCH_MAX_ITEMS 1000
#define SP_BATCH_MAX_BYTES (4 * 1024 * 1024)

typedef struct ingest_batch_opts {
    long long now_ms; /* the request's arrival; occurred_at may be <= now + 24 h */
    const char *tenant_id; /* default tenant_id when an item has none; NULL = "" */
} ingest_batch_opts;

typedef struct ingest_batch {
    sp_interaction **items;
    size_t n;
} ingest_batch;

/* Parses and validates body[0..len). On success *out holds every item, each
 * with meta.event_id set (given, or derived from source + external_id), and
 * the caller frees it with ingest_batch_destroy. Fails with:
 *   SP_ETOOBIG  body over 4 MiB or more than 1000 items (413);
 *   SP_EDECODE  an item is not JSON / not an object, or the body is empty (422);
 *   SP_EINVAL   validation errors (422);
 *   SP_ENOMEM.
 * On failure *out is NULL and errs (may be NULL) lists the problems. */
int ingest_batch_parse(
    const char *body, size_t len, const ingest_batch_opts *opts, ingest_batch **out, ingest_errlist *errs);

/* Frees the batch and its interactions. Accepts NULL. */
void ingest_batch_destroy(ingest_batch *b);

/* Builds one Interaction from a decoded JSON object (the jansson json_t *)
 * as ingest_batch_parse does for each item, reporting errors under index.
 * Returns SP_EINVAL (errors added), SP_ENOMEM. Used by the call and tracking
 * parsers' callers and by the Kafka bridge. */
int ingest_batch_item_parse(const void *json_obj, int index, const ingest_batch_opts *opts,
    sp_interaction **out, ingest_errlist *errs);

#endif
