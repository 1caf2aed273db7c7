/* event_id.h - deterministic interaction ids.
 *
 * event_id = "ix-" + first 32 hex digits of SHA-256(source "\0" external_id).
 * The same (source, external id) always yields the same id, so a client's
 * retry or a redelivered webhook is absorbed by the consumers' dedupe. */
#ifndef SP_INGEST_EVENT_ID_H
#define SP_INGEST_EVENT_ID_H

#include <stddef.h>

#define SP_EVENT_ID_LEN 35 /* "ix-" + 32 hex, without the NUL */

/* Writes the id of (source, external_id) into out (at least
 * SP_EVENT_ID_LEN + 1 bytes). Returns SP_EINVAL if either is NULL or empty,
 * SP_EIO if the digest fails. */
int ingest_event_id_derive(const char *source, const char *external_id, char out[SP_EVENT_ID_LEN + 1]);

/* Same with explicit lengths (bytes may contain NULs). */
int ingest_event_id_derive_n(
    const char *source, size_t slen, const char *external_id, size_t elen, char out[SP_EVENT_ID_LEN + 1]);

#endif
