/* spctl org: per-item org administration (people, teams, regions, named
 * teams, absences) through the same rules as the API (taskpool/orgadmin.h).
 *
 *   spctl org KIND list [--person ID]        one JSON object per line
 *   spctl org KIND show ID
 *   spctl org KIND add --FIELD VALUE ...
 *   spctl org KIND update ID --FIELD VALUE ...
 *   spctl org people deactivate ID
 *   spctl org KIND remove ID
 *
 * KIND: people, teams, regions, named-teams, absences. --FIELD is the API
 * member with '-' for '_' (--team-id T1); an empty VALUE clears it;
 * --active takes true|false, --members a comma-separated id list.
 * Exit status: 0 done, 1 database, 2 usage or invalid input, 3 no such
 * item, 4 conflict (duplicate id, still referenced). */
#include "spctl/spctl.h"

#include "db.h"
#include "err.h"
#include "taskpool/orgadmin.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] = "usage: spctl org people|teams|regions|named-teams|absences "
                            "list|show|add|update|deactivate|remove ...\n"
                            "  list [--person ID]          show ID          add --FIELD VALUE ...\n"
                            "  update ID --FIELD VALUE ... deactivate ID (people)  remove ID\n"
                            "  (docs/api/taskpool.md \"Org admin\" lists the fields; --team-id T1, --members "
                            "a,b, --active false)\n";

int spctl_org_exit(int code)
{
    switch (code) {
    case SP_OK: return 0;
    case SP_EINVAL: return 2;
    case SP_ENOTFOUND: return 3;
    case SP_EEXIST:
    case SP_ECONFLICT: return 4;
    default: return 1;
    }
}

/* A member value from its flag text: "" -> null; active a boolean;
 * members an array; absence ids stay text. */
static json_t *value_of(const char *key, const char *v)
{
    if (*v == '\0') return json_null();
    if (strcmp(key, "active") == 0) {
        if (strcmp(v, "true") == 0) return json_true();
        if (strcmp(v, "false") == 0) return json_false();
        return json_string(v); /* refused by the rules, naming the field */
    }
    if (strcmp(key, "members") == 0) {
        json_t *a = json_array();
        const char *s = v;
        while (a && *s) {
            size_t n = strcspn(s, ",");
            if (n > 0) json_array_append_new(a, json_stringn(s, n));
            s += n + (s[n] == ',');
        }
        return a;
    }
    return json_string(v);
}

int spctl_org_args(int argc, char **argv, json_t **out, char *err, size_t errlen)
{
    json_t *o = json_object();
    if (o == NULL) return SP_ENOMEM;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0' || i + 1 >= argc) {
            snprintf(err, errlen, "expected --FIELD VALUE, got \"%s\"%s", a,
                i + 1 >= argc ? " with no value" : "");
            json_decref(o);
            return SP_EINVAL;
        }
        char key[64];
        snprintf(key, sizeof key, "%s", a + 2);
        for (char *c = key; *c; c++)
            if (*c == '-') *c = '_';
        if (json_object_get(o, key) != NULL) {
            snprintf(err, errlen, "%s given twice", a);
            json_decref(o);
            return SP_EINVAL;
        }
        json_object_set_new(o, key, value_of(key, argv[++i]));
    }
    *out = o;
    return SP_OK;
}

static int fail(const char *kind, const char *action, int code, const char *msg)
{
    fprintf(stderr, "spctl org %s %s: %s\n", kind, action, msg);
    return spctl_org_exit(code);
}

int spctl_org(const struct spctl_cfg *cfg, int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(USAGE, stdout);
        return 0;
    }
    if (argc < 3) {
        fputs(USAGE, stderr);
        return 2;
    }
    const char *kind = argv[1], *action = argv[2];
    orgadmin_entity e = orgadmin_entity_parse(kind);
    if (e == ORGADMIN_NONE) {
        fprintf(
            stderr, "spctl org: unknown kind \"%s\" (people, teams, regions, named-teams, absences)\n", kind);
        return 2;
    }
    static const char *const actions[] = {"list", "show", "add", "update", "deactivate", "remove", NULL};
    int act = -1;
    for (int i = 0; actions[i]; i++)
        if (strcmp(action, actions[i]) == 0) act = i;
    int takes_id = act == 1 || act == 3 || act == 4 || act == 5;
    if (act < 0 || (act == 4 && e != ORGADMIN_PEOPLE)) {
        fprintf(stderr, "spctl org %s: unknown action \"%s\"\n%s", kind, action, USAGE);
        return 2;
    }
    if (takes_id && (argc < 4 || strncmp(argv[3], "--", 2) == 0)) {
        fprintf(stderr, "spctl org %s %s: the item's id is required\n", kind, action);
        return 2;
    }
    const char *id = takes_id ? argv[3] : NULL;
    int first = takes_id ? 4 : 3;
    char err[256];
    json_t *fields = NULL;
    if (spctl_org_args(argc - first, argv + first, &fields, err, sizeof err) != SP_OK)
        return fail(kind, action, SP_EINVAL, err);
    const char *person = json_string_value(json_object_get(fields, "person"));
    if ((act == 0 && json_object_size(fields) > (person && e == ORGADMIN_ABSENCES ? 1u : 0u))
        || ((act == 1 || act == 4 || act == 5) && json_object_size(fields) > 0)) {
        json_decref(fields);
        return fail(kind, action, SP_EINVAL, "takes no --FIELD options here");
    }
    sp_db *db = NULL;
    int rv = sp_db_open(cfg->pg_url, &db);
    orgadmin_err oe = {0};
    if (rv != SP_OK) {
        orgadmin_fail(&oe, rv, NULL, "database: %s", sp_db_errmsg(db));
    } else if (act == 0) {
        json_t *a = NULL;
        if ((rv = orgadmin_db_list(db, e, person, &a, &oe)) == SP_OK) {
            size_t i;
            json_t *v;
            json_array_foreach(a, i, v)
            {
                char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
                if (s) puts(s);
                free(s);
            }
            json_decref(a);
        }
    } else if (act == 1) {
        json_t *v = NULL;
        if ((rv = orgadmin_db_get(db, e, id, &v, &oe)) == SP_OK) {
            char *s = json_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS);
            if (s) puts(s);
            free(s);
            json_decref(v);
        }
    } else if (act == 2) {
        char out[64];
        if ((rv = orgadmin_db_save(db, e, fields, ORGADMIN_CREATE, out, sizeof out, &oe)) == SP_OK)
            printf("added %s %s\n", orgadmin_entity_item(e), out);
    } else if (act == 3 || act == 4) {
        if (act == 4) json_object_set_new(fields, "active", json_false());
        if ((rv = orgadmin_db_update(db, e, id, fields, &oe)) == SP_OK)
            printf("%s %s %s\n", act == 4 ? "deactivated" : "updated", orgadmin_entity_item(e), id);
    } else {
        if ((rv = orgadmin_db_remove(db, e, id, &oe)) == SP_OK)
            printf("removed %s %s\n", orgadmin_entity_item(e), id);
    }
    sp_db_destroy(db);
    json_decref(fields);
    if (rv != SP_OK) return fail(kind, action, oe.code ? oe.code : rv, oe.msg[0] ? oe.msg : sp_strerror(rv));
    return 0;
}
