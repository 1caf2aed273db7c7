/* spctl seed: loads org.json and crm.json (the simulator's format, see
 * docs/simulator.md) into PostgreSQL in one transaction. Every statement is
 * an upsert that changes nothing when the row already holds the same values,
 * so a second run changes nothing; timestamps the pipeline moves forward
 * (last interaction, last contact, a deal's stage) never go back. */
#include "spctl/spctl.h"

#include "db.h"
#include "err.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct seed_ctx {
    sp_db *db;
    const char *file;
    char err[1024];
    long changed;
} seed_ctx;

static const char *str(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Fails naming the file, item and key. */
static int bad(seed_ctx *c, const char *arr, size_t i, const char *key, const char *msg, const char *v)
{
    snprintf(
        c->err, sizeof c->err, "%s: %s[%zu].%s: %s%s%s", c->file, arr, i, key, msg, v ? " " : "", v ? v : "");
    return SP_EINVAL;
}

/* required string member */
static int req(seed_ctx *c, json_t *o, const char *arr, size_t i, const char *key, const char **out)
{
    *out = str(o, key);
    if (*out == NULL || **out == '\0') return bad(c, arr, i, key, "required string", NULL);
    return SP_OK;
}

static int exec(seed_ctx *c, const char *what, const char *sql, int n, const char *const *p)
{
    PGresult *res = NULL;
    int rv = sp_db_exec(c->db, sql, n, p, &res);
    if (rv != SP_OK) {
        snprintf(c->err, sizeof c->err, "%s: %s: %s", c->file, what, sp_db_errmsg(c->db));
        return rv;
    }
    c->changed += atol(PQcmdTuples(res));
    PQclear(res);
    return SP_OK;
}

static int in_array(json_t *arr, const char *id)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        const char *x = str(v, "id");
        if (x && id && strcmp(x, id) == 0) return 1;
    }
    return 0;
}

static json_t *arr(seed_ctx *c, json_t *root, const char *key, int *rv)
{
    json_t *a = json_object_get(root, key);
    if (!json_is_array(a)) {
        snprintf(c->err, sizeof c->err, "%s: %s: required array", c->file, key);
        *rv = SP_EINVAL;
        return NULL;
    }
    return a;
}

static const char *const ROLES[]
    = {"rep", "supervisor", "director", "admin", "after_sales", "competition", NULL};
static const char *const STAGES[]
    = {"lead", "qualified", "demo", "proposal", "negotiation", "won", "lost", NULL};
static const char *const CROLES[] = {"procurement", "technical", "decision_maker", "finance", NULL};
static const char *const IDKINDS[] = {"wecom", "email", "phone", "crm", NULL};

static int one_of(const char *v, const char *const *set)
{
    for (int i = 0; v && set[i]; i++)
        if (strcmp(v, set[i]) == 0) return 1;
    return 0;
}

static int load_org(seed_ctx *c, json_t *org)
{
    int rv = SP_OK;
    json_t *regions = arr(c, org, "regions", &rv), *teams = arr(c, org, "teams", &rv),
           *people = arr(c, org, "people", &rv);
    if (rv) return rv;
    json_t *named = json_object_get(org, "named_teams"), *abs = json_object_get(org, "absences");
    size_t i;
    json_t *v;
    const char *id, *name, *x;
    /* validate references first: nothing is written for a broken file */
    json_array_foreach(teams, i, v)
    {
        if ((rv = req(c, v, "teams", i, "id", &id)) || (rv = req(c, v, "teams", i, "region_id", &x)))
            return rv;
        if (!in_array(regions, x)) return bad(c, "teams", i, "region_id", "unknown region", x);
        x = str(v, "supervisor_id");
        if (x && !in_array(people, x)) return bad(c, "teams", i, "supervisor_id", "unknown person", x);
    }
    json_array_foreach(regions, i, v)
    {
        if ((rv = req(c, v, "regions", i, "id", &id)) != 0) return rv;
        x = str(v, "director_id");
        if (x && !in_array(people, x)) return bad(c, "regions", i, "director_id", "unknown person", x);
    }
    json_array_foreach(people, i, v)
    {
        if ((rv = req(c, v, "people", i, "id", &id)) || (rv = req(c, v, "people", i, "name", &name))
            || (rv = req(c, v, "people", i, "role", &x)))
            return rv;
        if (!one_of(x, ROLES)) return bad(c, "people", i, "role", "unknown role", x);
        if ((x = str(v, "team_id")) && !in_array(teams, x))
            return bad(c, "people", i, "team_id", "unknown team", x);
        if ((x = str(v, "region_id")) && !in_array(regions, x))
            return bad(c, "people", i, "region_id", "unknown region", x);
        if ((x = str(v, "mentor_id")) && !in_array(people, x))
            return bad(c, "people", i, "mentor_id", "unknown person", x);
    }
    json_array_foreach(named, i, v)
    {
        if ((rv = req(c, v, "named_teams", i, "id", &id)) != 0) return rv;
        if ((x = str(v, "lead_id")) && !in_array(people, x))
            return bad(c, "named_teams", i, "lead_id", "unknown person", x);
        size_t k;
        json_t *m;
        json_array_foreach(
            json_object_get(v, "members"), k, m) if (!in_array(people, json_string_value(m))) return bad(c,
            "named_teams", i, "members", "unknown person %s", json_string_value(m));
    }
    json_array_foreach(abs, i, v)
    {
        if ((rv = req(c, v, "absences", i, "person_id", &x)) != 0) return rv;
        if (!in_array(people, x)) return bad(c, "absences", i, "person_id", "unknown person", x);
        if ((rv = req(c, v, "absences", i, "starts_at", &x))
            || (rv = req(c, v, "absences", i, "ends_at", &x)))
            return rv;
    }

    json_array_foreach(regions, i, v)
    {
        const char *p[] = {str(v, "id"), str(v, "name") ? str(v, "name") : "", str(v, "director_id")};
        if ((rv = exec(c, "regions",
                 "INSERT INTO regions (id, name, director_id) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE "
                 "SET "
                 "name = EXCLUDED.name, director_id = EXCLUDED.director_id WHERE (regions.name, "
                 "regions.director_id) "
                 "IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.director_id)",
                 3, p))
            != 0)
            return rv;
    }
    json_array_foreach(teams, i, v)
    {
        const char *p[] = {
            str(v, "id"), str(v, "name") ? str(v, "name") : "", str(v, "region_id"), str(v, "supervisor_id")};
        if ((rv = exec(c, "teams",
                 "INSERT INTO teams (id, name, region_id, supervisor_id) VALUES ($1, $2, $3, $4) ON CONFLICT "
                 "(id) DO "
                 "UPDATE SET name = EXCLUDED.name, region_id = EXCLUDED.region_id, supervisor_id = "
                 "EXCLUDED.supervisor_id WHERE (teams.name, teams.region_id, teams.supervisor_id) IS "
                 "DISTINCT FROM "
                 "(EXCLUDED.name, EXCLUDED.region_id, EXCLUDED.supervisor_id)",
                 4, p))
            != 0)
            return rv;
    }
    /* mentors before the people they mentor (people.mentor_id references people) */
    size_t n = json_array_size(people), done = 0;
    char *ok = calloc(n + 1, 1);
    if (ok == NULL) return SP_ENOMEM;
    for (int round = 0; done < n && round < 64; round++) {
        json_array_foreach(people, i, v)
        {
            if (ok[i]) continue;
            const char *m = str(v, "mentor_id");
            int ready = m == NULL;
            for (size_t k = 0; !ready && k < n; k++)
                ready = ok[k] && strcmp(str(json_array_get(people, k), "id"), m) == 0;
            if (!ready) continue;
            json_t *act = json_object_get(v, "active");
            const char *p[]
                = {str(v, "id"), str(v, "name"), str(v, "role"), str(v, "team_id"), str(v, "region_id"), m,
                    str(v, "wecom_user"), str(v, "email"), act && json_is_false(act) ? "false" : "true"};
            rv = exec(c, "people",
                "INSERT INTO people (id, name, role, team_id, region_id, mentor_id, wecom_user, email, "
                "active) VALUES "
                "($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, "
                "role = "
                "EXCLUDED.role, team_id = EXCLUDED.team_id, region_id = EXCLUDED.region_id, mentor_id = "
                "EXCLUDED.mentor_id, wecom_user = EXCLUDED.wecom_user, email = EXCLUDED.email, active = "
                "EXCLUDED.active WHERE (people.name, people.role, people.team_id, people.region_id, "
                "people.mentor_id, "
                "people.wecom_user, people.email, people.active) IS DISTINCT FROM (EXCLUDED.name, "
                "EXCLUDED.role, "
                "EXCLUDED.team_id, EXCLUDED.region_id, EXCLUDED.mentor_id, EXCLUDED.wecom_user, "
                "EXCLUDED.email, "
                "EXCLUDED.active)",
                9, p);
            if (rv) {
                free(ok);
                return rv;
            }
            ok[i] = 1, done++;
        }
    }
    free(ok);
    if (done < n) {
        snprintf(c->err, sizeof c->err, "%s: people: mentor_id chain has a cycle", c->file);
        return SP_EINVAL;
    }
    json_array_foreach(named, i, v)
    {
        const char *p[] = {str(v, "id"), str(v, "name") ? str(v, "name") : str(v, "id"), str(v, "lead_id")};
        if ((rv = exec(c, "named_teams",
                 "INSERT INTO named_teams (id, name, lead_id) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE "
                 "SET "
                 "name = EXCLUDED.name, lead_id = EXCLUDED.lead_id WHERE (named_teams.name, "
                 "named_teams.lead_id) IS "
                 "DISTINCT FROM (EXCLUDED.name, EXCLUDED.lead_id)",
                 3, p))
            != 0)
            return rv;
        size_t k;
        json_t *m;
        json_array_foreach(json_object_get(v, "members"), k, m)
        {
            const char *q[] = {str(v, "id"), json_string_value(m)};
            if ((rv = exec(c, "named_team_members",
                     "INSERT INTO named_team_members (team_id, person_id) VALUES ($1, $2) ON CONFLICT DO "
                     "NOTHING",
                     2, q))
                != 0)
                return rv;
        }
    }
    json_array_foreach(abs, i, v)
    {
        const char *p[] = {str(v, "person_id"), str(v, "starts_at"), str(v, "ends_at"),
            str(v, "reason") ? str(v, "reason") : ""};
        if ((rv = exec(c, "absences",
                 "INSERT INTO absences (person_id, starts_at, ends_at, reason) SELECT $1::text, "
                 "$2::timestamptz, "
                 "$3::timestamptz, $4::text WHERE NOT EXISTS (SELECT 1 FROM absences WHERE person_id = "
                 "$1::text AND "
                 "starts_at = $2::timestamptz AND ends_at = $3::timestamptz)",
                 4, p))
            != 0)
            return rv;
    }
    return SP_OK;
}

static int load_crm(seed_ctx *c, json_t *crm, json_t *org)
{
    int rv = SP_OK;
    json_t *cs = arr(c, crm, "customers", &rv), *ds = arr(c, crm, "deals", &rv);
    if (rv) return rv;
    json_t *people = json_object_get(org, "people");
    size_t i;
    json_t *v;
    const char *x;
    json_array_foreach(cs, i, v)
    {
        const char *id;
        if ((rv = req(c, v, "customers", i, "id", &id)) || (rv = req(c, v, "customers", i, "created_at", &x)))
            return rv;
        if ((x = str(v, "owner_rep_id")) && !in_array(people, x))
            return bad(c, "customers", i, "owner_rep_id", "unknown person", x);
        json_t *j = json_object_get(v, "is_lead");
        const char *p[] = {id, str(v, "name") ? str(v, "name") : "",
            str(v, "industry") ? str(v, "industry") : "", str(v, "class") ? str(v, "class") : "C",
            str(v, "owner_rep_id"), str(v, "email_domain"), j && json_is_false(j) ? "false" : "true",
            str(v, "created_at"), str(v, "last_interaction_at")};
        if ((rv = exec(c, "customers",
                 "INSERT INTO customers (id, name, industry, class, owner_rep_id, email_domain, is_lead, "
                 "created_at, "
                 "last_interaction_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO "
                 "UPDATE SET name "
                 "= EXCLUDED.name, industry = EXCLUDED.industry, class = EXCLUDED.class, owner_rep_id = "
                 "EXCLUDED.owner_rep_id, email_domain = EXCLUDED.email_domain, created_at = "
                 "EXCLUDED.created_at, "
                 "last_interaction_at = GREATEST(customers.last_interaction_at, "
                 "EXCLUDED.last_interaction_at) WHERE "
                 "(customers.name, customers.industry, customers.class, customers.owner_rep_id, "
                 "customers.email_domain, "
                 "customers.created_at) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.industry, EXCLUDED.class, "
                 "EXCLUDED.owner_rep_id, EXCLUDED.email_domain, EXCLUDED.created_at) OR "
                 "customers.last_interaction_at "
                 "IS DISTINCT FROM GREATEST(customers.last_interaction_at, EXCLUDED.last_interaction_at)",
                 9, p))
            != 0)
            return rv;
        /* the import's own last touch: the score's immutable floor (0008) */
        const char *pi[] = {id, str(v, "last_interaction_at")};
        if ((rv = exec(c, "customers",
                 "UPDATE customers SET imported_last_interaction_at = $2 WHERE id = $1 AND "
                 "imported_last_interaction_at IS DISTINCT FROM $2::timestamptz",
                 2, pi))
            != 0)
            return rv;
        size_t k;
        json_t *ct;
        json_array_foreach(json_object_get(v, "contacts"), k, ct)
        {
            char where[64];
            snprintf(where, sizeof where, "customers[%zu].contacts", i);
            const char *cid;
            if ((rv = req(c, ct, where, k, "id", &cid)) != 0) return rv;
            const char *role = str(ct, "role");
            if (role && !one_of(role, CROLES)) return bad(c, where, k, "role", "unknown role", role);
            const char *p2[]
                = {cid, id, str(ct, "name") ? str(ct, "name") : "", str(ct, "title") ? str(ct, "title") : "",
                    role, str(v, "created_at"), str(ct, "last_contact_at")};
            if ((rv = exec(c, "contacts",
                     "INSERT INTO contacts (id, customer_id, name, title, role, created_at, last_contact_at) "
                     "VALUES ($1, "
                     "$2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET customer_id = "
                     "EXCLUDED.customer_id, name "
                     "= EXCLUDED.name, title = EXCLUDED.title, role = EXCLUDED.role, last_contact_at = "
                     "GREATEST(contacts.last_contact_at, EXCLUDED.last_contact_at) WHERE "
                     "(contacts.customer_id, "
                     "contacts.name, contacts.title, contacts.role) IS DISTINCT FROM (EXCLUDED.customer_id, "
                     "EXCLUDED.name, EXCLUDED.title, EXCLUDED.role) OR contacts.last_contact_at IS DISTINCT "
                     "FROM "
                     "GREATEST(contacts.last_contact_at, EXCLUDED.last_contact_at)",
                     7, p2))
                != 0)
                return rv;
            const char *pi2[] = {cid, str(ct, "last_contact_at")};
            if ((rv = exec(c, "contacts",
                     "UPDATE contacts SET imported_last_contact_at = $2 WHERE id = $1 AND "
                     "imported_last_contact_at IS DISTINCT FROM $2::timestamptz",
                     2, pi2))
                != 0)
                return rv;
            size_t q;
            json_t *idn;
            json_array_foreach(json_object_get(ct, "identities"), q, idn)
            {
                char w2[96];
                snprintf(w2, sizeof w2, "customers[%zu].contacts[%zu].identities", i, k);
                const char *kind = str(idn, "kind"), *val = str(idn, "value");
                if (!one_of(kind, IDKINDS)) return bad(c, w2, q, "kind", "unknown identity kind", kind);
                if (val == NULL || !*val) return bad(c, w2, q, "value", "required string", NULL);
                const char *p3[] = {kind, val, cid};
                if ((rv = exec(c, "identities",
                         "INSERT INTO identities (kind, value, contact_id) VALUES ($1, $2, $3) ON CONFLICT "
                         "(kind, "
                         "value) DO UPDATE SET contact_id = EXCLUDED.contact_id WHERE identities.contact_id "
                         "<> "
                         "EXCLUDED.contact_id",
                         3, p3))
                    != 0)
                    return rv;
            }
        }
    }
    json_array_foreach(ds, i, v)
    {
        const char *id, *cust, *stage;
        if ((rv = req(c, v, "deals", i, "id", &id)) || (rv = req(c, v, "deals", i, "customer_id", &cust))
            || (rv = req(c, v, "deals", i, "stage", &stage))
            || (rv = req(c, v, "deals", i, "stage_since", &x))
            || (rv = req(c, v, "deals", i, "created_at", &x)))
            return rv;
        if (!in_array(cs, cust)) return bad(c, "deals", i, "customer_id", "unknown customer", cust);
        if (!one_of(stage, STAGES)) return bad(c, "deals", i, "stage", "unknown stage", stage);
        if ((x = str(v, "owner_rep_id")) && !in_array(people, x))
            return bad(c, "deals", i, "owner_rep_id", "unknown person", x);
        char prods[512] = "{";
        size_t k;
        json_t *pv;
        json_array_foreach(json_object_get(v, "product_ids"), k, pv)
        {
            const char *s = json_string_value(pv);
            if (s == NULL || strpbrk(s, "{},\"\\ ") != NULL)
                return bad(c, "deals", i, "product_ids", "bad product id", s);
            size_t l = strlen(prods);
            snprintf(prods + l, sizeof prods - l, "%s%s", k ? "," : "", s);
        }
        strncat(prods, "}", sizeof prods - strlen(prods) - 1);
        char amount[32];
        snprintf(amount, sizeof amount, "%lld", (long long)json_integer_value(json_object_get(v, "amount")));
        int open = strcmp(stage, "won") != 0 && strcmp(stage, "lost") != 0;
        const char *lsu
            = str(v, "last_status_update_at") ? str(v, "last_status_update_at") : str(v, "stage_since");
        const char *p[] = {id, cust, str(v, "name") ? str(v, "name") : "", stage, str(v, "stage_since"),
            amount, str(v, "owner_rep_id"), prods, open ? "true" : "false", str(v, "created_at"), lsu};
        if ((rv = exec(c, "deals",
                 "INSERT INTO deals (id, customer_id, name, stage, stage_since, amount, owner_rep_id, "
                 "product_ids, "
                 "is_open, created_at, last_status_update_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
                 "$10, $11) ON "
                 "CONFLICT (id) DO UPDATE SET customer_id = EXCLUDED.customer_id, name = EXCLUDED.name, "
                 "stage = "
                 "EXCLUDED.stage, stage_since = EXCLUDED.stage_since, amount = EXCLUDED.amount, owner_rep_id "
                 "= "
                 "EXCLUDED.owner_rep_id, product_ids = EXCLUDED.product_ids, is_open = EXCLUDED.is_open, "
                 "created_at = "
                 "EXCLUDED.created_at, last_status_update_at = GREATEST(deals.last_status_update_at, "
                 "EXCLUDED.last_status_update_at) WHERE deals.stage_since <= EXCLUDED.stage_since AND "
                 "((deals.customer_id, deals.name, deals.stage, deals.stage_since, deals.amount, "
                 "deals.owner_rep_id, "
                 "deals.product_ids, deals.is_open, deals.created_at) IS DISTINCT FROM "
                 "(EXCLUDED.customer_id, "
                 "EXCLUDED.name, EXCLUDED.stage, EXCLUDED.stage_since, EXCLUDED.amount, "
                 "EXCLUDED.owner_rep_id, "
                 "EXCLUDED.product_ids, EXCLUDED.is_open, EXCLUDED.created_at) OR "
                 "deals.last_status_update_at < "
                 "EXCLUDED.last_status_update_at)",
                 11, p))
            != 0)
            return rv;
        const char *pi[] = {id, lsu};
        if ((rv = exec(c, "deals",
                 "UPDATE deals SET imported_last_status_update_at = $2 WHERE id = $1 AND "
                 "imported_last_status_update_at IS DISTINCT FROM $2::timestamptz",
                 2, pi))
            != 0)
            return rv;
        json_t *hv;
        json_array_foreach(json_object_get(v, "history"), k, hv)
        {
            char where[48], evid[64];
            snprintf(where, sizeof where, "deals[%zu].history", i);
            const char *to = str(hv, "to_stage"), *from = str(hv, "from_stage"), *at = str(hv, "at");
            if (!one_of(to, STAGES)) return bad(c, where, k, "to_stage", "unknown stage", to);
            if (from && *from && !one_of(from, STAGES))
                return bad(c, where, k, "from_stage", "unknown stage", from);
            if (at == NULL) return bad(c, where, k, "at", "required string", NULL);
            snprintf(evid, sizeof evid, "seed:%s:%zu", id, k);
            const char *p2[] = {id, evid, from ? from : "", to, at};
            if ((rv = exec(c, "deal_stage_history",
                     "INSERT INTO deal_stage_history (deal_id, event_id, from_stage, to_stage, at) VALUES "
                     "($1, $2, $3, "
                     "$4, $5) ON CONFLICT DO NOTHING",
                     5, p2))
                != 0)
                return rv;
        }
    }
    return SP_OK;
}

static json_t *load(const char *path, char *err, size_t errlen)
{
    json_error_t je;
    json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (j == NULL)
        snprintf(err, errlen, "%s: line %d column %d: %s", path, je.line, je.column, je.text);
    else if (!json_is_object(j)) {
        snprintf(err, errlen, "%s: must be a JSON object", path);
        json_decref(j);
        j = NULL;
    }
    return j;
}

/* spctl seed --org org.json --crm crm.json */
int spctl_seed(const struct spctl_cfg *cfg, int argc, char **argv)
{
    const char *orgp = NULL, *crmp = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--org") == 0 && i + 1 < argc)
            orgp = argv[++i];
        else if (strcmp(argv[i], "--crm") == 0 && i + 1 < argc)
            crmp = argv[++i];
        else {
            fprintf(stderr,
                "spctl seed: bad argument \"%s\"\nusage: spctl seed --org org.json --crm crm.json\n",
                argv[i]);
            return 2;
        }
    }
    if (orgp == NULL || crmp == NULL) {
        fprintf(stderr, "spctl seed: --org and --crm are required\n");
        return 2;
    }
    seed_ctx c = {0};
    json_t *org = load(orgp, c.err, sizeof c.err), *crm = org ? load(crmp, c.err, sizeof c.err) : NULL;
    int rv = org && crm ? SP_OK : SP_EINVAL;
    if (rv == SP_OK && (rv = sp_db_open(cfg->pg_url, &c.db)) != SP_OK)
        snprintf(c.err, sizeof c.err, "database: %s", sp_db_errmsg(c.db));
    if (rv == SP_OK && (rv = sp_db_begin(c.db)) != SP_OK)
        snprintf(c.err, sizeof c.err, "begin: %s", sp_db_errmsg(c.db));
    if (rv == SP_OK) {
        c.file = orgp;
        rv = load_org(&c, org);
        if (rv == SP_OK) {
            c.file = crmp;
            rv = load_crm(&c, crm, org);
        }
        if (rv == SP_OK) {
            rv = sp_db_commit(c.db);
            if (rv) snprintf(c.err, sizeof c.err, "commit: %s", sp_db_errmsg(c.db));
        } else {
            sp_db_rollback(c.db);
        }
    }
    sp_db_destroy(c.db);
    json_decref(org);
    json_decref(crm);
    if (rv != SP_OK) {
        fprintf(stderr, "spctl seed: %s\n", c.err);
        return rv == SP_EINVAL ? 2 : 1;
    }
    printf("seed: %ld row(s) inserted or changed\n", c.changed);
    return 0;
}
