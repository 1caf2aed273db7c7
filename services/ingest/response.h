/* response.h - the JSON answers and status codes of the ingest endpoints,
 * so every HTTP handler answers the same way (docs/api/ingest.md). */
#ifndef SP_INGEST_RESPONSE_H
#define SP_INGEST_RESPONSE_H

#include <stddef.h>

#include "ingest/interaction.h"

/* Renders {"accepted":n,"event_ids":[...]} for items (in order) into a
 * malloc'd string (caller frees with free). Returns SP_ENOMEM. */
int ingest_accepted_json(sp_interaction *const *items, size_t n, char **out);

/* HTTP status for a parser's result: SP_OK 202, SP_ETOOBIG 413,
 * SP_EDECODE / SP_EINVAL / SP_EUTF8 422, SP_EAUTH (WeCom signature) and
 * SP_EFORBIDDEN (WeCom receive id) 403, SP_ETIMEOUT (expired token) and
 * SP_ENOTFOUND 404, SP_EFULL / SP_EKAFKA / SP_ETIMEOUT on publish 503
 * (use ingest_publish_status), anything else 500. */
int ingest_parse_status(int err);

/* HTTP status for a failed publish: 503 (retry) for SP_EFULL, SP_EKAFKA,
 * SP_ETIMEOUT, SP_ECLOSED; 500 otherwise; 202 for SP_OK. */
int ingest_publish_status(int err);

#endif
