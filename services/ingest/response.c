/* response.c - ingest answers (see response.h). */
#include "ingest/response.h"

#include "err.h"

#include <jansson.h>
#include <stdlib.h>

int ingest_accepted_json(sp_interaction *const *items, size_t n, char **out)
{
    *out = NULL;
    json_t *ids = json_array();
    json_t *root = json_pack("{s:I,s:o}", "accepted", (json_int_t)n, "event_ids", ids);
    if (root == NULL) return SP_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const char *id = items[i] && items[i]->meta ? items[i]->meta->event_id : "";
        if (json_array_append_new(ids, json_string(id)) != 0) {
            json_decref(root);
            return SP_ENOMEM;
        }
    }
    *out = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return *out ? SP_OK : SP_ENOMEM;
}

int ingest_parse_status(int err)
{
    switch (err) {
    case SP_OK: return 202;
    case SP_ETOOBIG: return 413;
    case SP_EDECODE:
    case SP_EINVAL:
    case SP_EUTF8: return 422;
    case SP_EAUTH:
    case SP_EFORBIDDEN: return 403;
    case SP_ETIMEOUT:
    case SP_ENOTFOUND: return 404;
    default: return 500;
    }
}

int ingest_publish_status(int err)
{
    switch (err) {
    case SP_OK: return 202;
    case SP_EFULL:
    case SP_EKAFKA:
    case SP_ETIMEOUT:
    case SP_ECLOSED: return 503;
    default: return 500;
    }
}
