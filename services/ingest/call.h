/* call.h - call-centre transcripts (POST /v1/calls).
 *
 * Body: {"call_id", "started_at" (ISO-8601 with offset), "duration_s",
 * "rep_id", "customer_phone", "turns":[{"speaker":"rep"|"customer",
 * "start_ms", "text"}]} plus optional "direction", "customer_ref",
 * "deal_id", "tenant_id", "text", "source" (default "call").
 * Result: channel call, external_id = call_id, turns kept, customer identity
 * = the phone in E.164 (phone.h). Errors name the body's own keys
 * ("started_at", "turns[2].speaker", "customer_phone"), index 0. */
#ifndef SP_INGEST_CALL_H
#define SP_INGEST_CALL_H

#include <stddef.h>

#include "ingest/batch.h"

/* Parses one transcript. On success *out is set (caller frees with
 * interaction_destroy). Returns SP_ETOOBIG (body over 4 MiB), SP_EDECODE
 * (not a JSON object), SP_EINVAL (errors in errs), SP_ENOMEM. */
int ingest_call_parse(
    const char *body, size_t len, const ingest_batch_opts *opts, sp_interaction **out, ingest_errlist *errs);

#endif
