/* api_playbooks.c - the tenant's playbooks (deploy/tenants/<t>/playbooks.json,
 * the file sp-route's rules name; docs/routing.md section 4) as materials:
 * GET /v1/playbooks/{id} serves one playbook's content, and the today list's
 * priority customers carry links to the playbooks that apply to them. The
 * file is read once at start; sp-route's loader (services/route/playbook.c)
 * validates its content, here only ids, kinds and titles are required. */
#include "taskpool/api_internal.h"

#include "err.h"
#include "log.h"

#include <stdio.h>
#include <string.h>

int api_playbooks_load(const char *path, json_t **out, char *err, size_t errlen)
{
    *out = NULL;
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (root == NULL) {
        snprintf(err, errlen, "%s:%d: %s", path, je.line, je.text);
        return SP_ECONFIG;
    }
    json_t *list = json_object_get(root, "playbooks"), *byid = json_object();
    int rv = json_is_array(list) ? SP_OK : SP_ECONFIG;
    if (rv != SP_OK) snprintf(err, errlen, "%s: playbooks: must be an array", path);
    size_t i;
    json_t *p;
    json_array_foreach(list, i, p)
    {
        if (rv != SP_OK) break;
        static const char *const keys[] = {"id", "kind", "title_zh", "title_en"};
        for (size_t k = 0; k < 4 && rv == SP_OK; k++)
            if (!json_is_string(json_object_get(p, keys[k]))) {
                snprintf(err, errlen, "%s: playbooks[%zu].%s: required string", path, i, keys[k]);
                rv = SP_ECONFIG;
            }
        if (rv == SP_OK) json_object_set(byid, json_string_value(json_object_get(p, "id")), p);
    }
    json_decref(root);
    if (rv != SP_OK) {
        json_decref(byid);
        return rv;
    }
    *out = byid;
    return SP_OK;
}

json_t *api_playbook_links(const taskpool_api *api, const char *const *ids, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        const json_t *p = api->playbooks ? json_object_get(api->playbooks, ids[i]) : NULL;
        int dup = 0;
        for (size_t k = 0; k < i; k++)
            dup |= strcmp(ids[k], ids[i]) == 0;
        if (p == NULL || dup) continue;
        char link[256];
        snprintf(link, sizeof link, "/v1/playbooks/%s", ids[i]);
        /* copies, never references: the set is shared by every handler thread */
        json_array_append_new(a,
            json_pack("{s:s,s:s,s:s,s:s,s:s*,s:s*,s:s}", "playbook_id", ids[i], "kind",
                json_string_value(json_object_get(p, "kind")), "title_zh",
                json_string_value(json_object_get(p, "title_zh")), "title_en",
                json_string_value(json_object_get(p, "title_en")), "summary_zh",
                json_string_value(json_object_get(p, "summary_zh")), "summary_en",
                json_string_value(json_object_get(p, "summary_en")), "link", link));
    }
    return a;
}

/* GET /v1/playbooks/{id}: the playbook as the tenant wrote it (sections
 * with a "source" are slots filled per customer where the task is shown). */
int api_h_playbook_get(const sp_http_req *req, sp_http_res *res, void *arg)
{
    taskpool_api *api = arg;
    char id[128];
    if (api_segment_decode(req->tail, strlen(req->tail), id, sizeof id) != SP_OK)
        return sp_http_res_error(res, 404, "not_found", "no such playbook", NULL);
    const json_t *p = api->playbooks ? json_object_get(api->playbooks, id) : NULL;
    if (p == NULL) return sp_http_res_error(res, 404, "not_found", "no such playbook", NULL);
    return api_reply(res, json_deep_copy(p));
}
