/* interaction.c - heap-built Interaction messages (see interaction.h). */
#include "ingest/interaction.h"

#include "err.h"
#include "ingest/event_id.h"
#include "ingest/phone.h"
#include "ingest/textutil.h"

#include <ctype.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const CHANNEL_NAMES[]
    = {NULL, "wecom", "email", "call", "meeting", "note", "tracking", "activity", "crm"};
static const char *const IDKIND_NAMES[] = {NULL, "wecom", "email", "phone", "crm"};

static int name_parse(const char *const *names, int n, const char *s)
{
    if (s == NULL) return -1;
    for (int i = 1; i < n; i++)
        if (strcmp(names[i], s) == 0) return i;
    return -1;
}

const char *interaction_channel_name(int v)
{
    return v > 0 && v < (int)(sizeof CHANNEL_NAMES / sizeof *CHANNEL_NAMES) ? CHANNEL_NAMES[v] : NULL;
}
int interaction_channel_parse(const char *s)
{
    return name_parse(CHANNEL_NAMES, (int)(sizeof CHANNEL_NAMES / sizeof *CHANNEL_NAMES), s);
}
const char *interaction_identity_kind_name(int v)
{
    return v > 0 && v < (int)(sizeof IDKIND_NAMES / sizeof *IDKIND_NAMES) ? IDKIND_NAMES[v] : NULL;
}
int interaction_identity_kind_parse(const char *s)
{
    return name_parse(IDKIND_NAMES, (int)(sizeof IDKIND_NAMES / sizeof *IDKIND_NAMES), s);
}

int interaction_strn_set(char **dst, const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p == NULL) return SP_ENOMEM;
    if (n) memcpy(p, s, n);
    p[n] = '\0';
    if (*dst != NULL && *dst != protobuf_c_empty_string) free(*dst);
    *dst = p;
    return SP_OK;
}

int interaction_str_set(char **dst, const char *s)
{
    return interaction_strn_set(dst, s ? s : "", s ? strlen(s) : 0);
}

int interaction_new(const char *source, long long now_ms, sp_interaction **out)
{
    *out = NULL;
    sp_interaction *ix = malloc(sizeof *ix);
    if (ix == NULL) return SP_ENOMEM;
    salespulse__v1__interaction__init(ix);
    Salespulse__V1__EventMeta *m = malloc(sizeof *m);
    if (m == NULL) {
        free(ix);
        return SP_ENOMEM;
    }
    salespulse__v1__event_meta__init(m);
    ix->meta = m;
    m->schema_version = 1;
    m->produced_at_ms = now_ms;
    if (interaction_str_set(&m->producer, SP_INGEST_PRODUCER) != 0
        || interaction_str_set(&ix->source, source) != 0) {
        interaction_destroy(ix);
        return SP_ENOMEM;
    }
    *out = ix;
    return SP_OK;
}

void interaction_destroy(sp_interaction *ix)
{
    if (ix != NULL) salespulse__v1__interaction__free_unpacked(ix, NULL);
}

void interaction_array_destroy(sp_interaction **arr, size_t n)
{
    if (arr == NULL) return;
    for (size_t i = 0; i < n; i++)
        interaction_destroy(arr[i]);
    free(arr);
}

int interaction_identity_normalize(int kind, const char *in, char *out, size_t cap, const char **why)
{
    *why = NULL;
    if (kind == SALESPULSE__V1__IDENTITY_KIND__IDENTITY_KIND_PHONE) {
        char e164[SP_PHONE_E164_MAX + 1];
        if (phone_e164_normalize(in, e164, sizeof e164) != 0) {
            *why = "not a recognisable phone number";
            return SP_EINVAL;
        }
        in = e164;
        if ((size_t)snprintf(out, cap, "%s", in) >= cap) return SP_ETOOBIG;
    } else if ((size_t)snprintf(out, cap, "%s", in) >= cap) {
        return SP_ETOOBIG;
    }
    if (kind == SALESPULSE__V1__IDENTITY_KIND__IDENTITY_KIND_EMAIL) {
        ingest_trim(out);
        for (char *p = out; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        if (strchr(out, '@') == NULL) {
            *why = "not an e-mail address";
            return SP_EINVAL;
        }
    }
    if (out[0] == '\0' || !ingest_utf8_valid(out, strlen(out))) {
        *why = out[0] ? "not valid UTF-8" : "empty";
        return SP_EINVAL;
    }
    return SP_OK;
}

int interaction_identity_set(sp_interaction *ix, Salespulse__V1__IdentityKind kind, const char *value)
{
    if (ix->customer_identity == NULL) {
        ix->customer_identity = malloc(sizeof *ix->customer_identity);
        if (ix->customer_identity == NULL) return SP_ENOMEM;
        salespulse__v1__identity__init(ix->customer_identity);
    }
    ix->customer_identity->kind = kind;
    return interaction_str_set(&ix->customer_identity->value, value);
}

int interaction_turn_add(
    sp_interaction *ix, Salespulse__V1__Speaker speaker, long long start_ms, const char *text)
{
    Salespulse__V1__Turn **t = realloc(ix->turns, (ix->n_turns + 1) * sizeof *t);
    if (t == NULL) return SP_ENOMEM;
    ix->turns = t;
    Salespulse__V1__Turn *turn = malloc(sizeof *turn);
    if (turn == NULL) return SP_ENOMEM;
    salespulse__v1__turn__init(turn);
    turn->speaker = speaker;
    turn->start_ms = start_ms;
    t[ix->n_turns++] = turn;
    return interaction_str_set(&turn->text, text);
}

int interaction_event_id_fill(sp_interaction *ix)
{
    if (ix->meta->event_id[0] != '\0') return SP_OK;
    char id[SP_EVENT_ID_LEN + 1];
    int rv = ingest_event_id_derive(ix->source, ix->external_id, id);
    if (rv != 0) return rv;
    return interaction_str_set(&ix->meta->event_id, id);
}

int interaction_customer_key(const sp_interaction *ix, char *buf, size_t cap)
{
    int n;
    const Salespulse__V1__Identity *id = ix->customer_identity;
    if (ix->customer_ref[0])
        n = snprintf(buf, cap, "%s", ix->customer_ref);
    else if (id && id->value[0] && interaction_identity_kind_name(id->kind))
        n = snprintf(buf, cap, "%s:%s", interaction_identity_kind_name(id->kind), id->value);
    else if (ix->detail_case == SALESPULSE__V1__INTERACTION__DETAIL_TRACKING && ix->tracking->visitor_id[0])
        n = snprintf(buf, cap, "visitor:%s", ix->tracking->visitor_id);
    else if (ix->deal_id[0])
        n = snprintf(buf, cap, "deal:%s", ix->deal_id);
    else
        n = snprintf(buf, cap, "%s", ix->meta ? ix->meta->event_id : "");
    return n < 0 || (size_t)n >= cap ? SP_ETOOBIG : SP_OK;
}
