/* interaction.h - building Interaction messages on the heap.
 *
 * Every Interaction the ingest parsers return is built here: the message,
 * each sub-message, each repeated array and each string is its own malloc
 * block (or the protobuf-c empty-string sentinel), so the whole tree is
 * released by protobuf-c's free_unpacked with the default allocator. That is
 * what interaction_destroy does; never free a message built with *_INIT. */
#ifndef SP_INGEST_INTERACTION_H
#define SP_INGEST_INTERACTION_H

#include <stddef.h>

#include "ids.h"
#include "salespulse/v1/interaction.pb-c.h"

typedef Salespulse__V1__Interaction sp_interaction;

#define SP_INGEST_PRODUCER "sp-ingest"
#define SP_INGEST_TEXT_MAX (64 * 1024) /* bytes of text, quoted_text, a turn */
/* bytes of customer_ref, rep_id, deal_id and every other id services key by */
#define SP_INGEST_ID_MAX SP_ID_MAX

/* Allocates an empty Interaction with meta set (schema_version 1, producer
 * "sp-ingest", produced_at_ms = now_ms) and source copied. Returns SP_ENOMEM.
 * Caller frees with interaction_destroy. */
int interaction_new(const char *source, long long now_ms, sp_interaction **out);

/* Frees ix and everything it owns. Accepts NULL. */
void interaction_destroy(sp_interaction *ix);

/* Frees n interactions and the array. Accepts NULL. */
void interaction_array_destroy(sp_interaction **arr, size_t n);

/* Replaces *dst (a string field of a heap-built message) with a copy of the
 * first n bytes of s. Returns SP_ENOMEM. */
int interaction_strn_set(char **dst, const char *s, size_t n);
int interaction_str_set(char **dst, const char *s);

/* Sets customer_identity to (kind, value). Returns SP_ENOMEM. */
int interaction_identity_set(sp_interaction *ix, Salespulse__V1__IdentityKind kind, const char *value);

/* Writes into out (cap bytes) the form of an identity value every route
 * agrees on, so one customer gets one identity whichever way it arrives: a
 * phone number in E.164, an e-mail address trimmed and lower-cased; other
 * kinds as given. SP_EINVAL with *why (a static phrase) when the value is
 * not one of its kind or not UTF-8, SP_ETOOBIG when out is too small. */
int interaction_identity_normalize(int kind, const char *in, char *out, size_t cap, const char **why);

/* Appends a turn. Returns SP_ENOMEM. */
int interaction_turn_add(
    sp_interaction *ix, Salespulse__V1__Speaker speaker, long long start_ms, const char *text);

/* Sets meta.event_id from (source, external_id) with ingest_event_id_derive
 * unless an event id is already set. Returns SP_EINVAL when both are empty. */
int interaction_event_id_fill(sp_interaction *ix);

/* Writes the Kafka key of ix into buf: customer_ref when set, else
 * "kind:value" of customer_identity (kind as "wecom", "email", "phone",
 * "crm"), else "visitor:<id>" for tracking, else "deal:<id>", else the event
 * id. Returns SP_ETOOBIG if buf is too small. */
int interaction_customer_key(const sp_interaction *ix, char *buf, size_t cap);

/* Lower-case names used in JSON ("wecom", "inbound", ...): enum value ->
 * name (NULL when out of range) and name -> value (-1 when unknown;
 * "unspecified" is unknown). */
const char *interaction_channel_name(int v);
int interaction_channel_parse(const char *s);
const char *interaction_identity_kind_name(int v);
int interaction_identity_kind_parse(const char *s);

#endif
