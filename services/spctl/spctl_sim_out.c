/* spctl_sim_out.c - writes org.json, crm.json, events.ndjson, truth.json,
 * and sim_run, the whole generation in order. */
#include "spctl/spctl_sim.h"

#include "err.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static json_t *jiso(int64_t t)
{
    char b[40];
    sim_fmt_iso(t, b, sizeof b);
    return json_string(b);
}

static json_t *jid_or_null(const sim_world *w, int idx)
{
    return idx >= 0 ? json_string(w->people[idx].id) : json_null();
}

static json_t *org_json(const sim_world *w)
{
    json_t *o = json_object(), *regions = json_array(), *teams = json_array(), *people = json_array(),
           *named = json_array(), *abs = json_array();
    for (int i = 0; i < 3; i++)
        json_array_append_new(regions,
            json_pack("{s:s,s:s,s:s}", "id", w->regions[i].id, "name", w->regions[i].name, "director_id",
                w->people[w->regions[i].director].id));
    for (int i = 0; i < 6; i++)
        json_array_append_new(teams,
            json_pack("{s:s,s:s,s:s,s:s,s:b}", "id", w->teams[i].id, "name", w->teams[i].name, "region_id",
                w->regions[w->teams[i].region].id, "supervisor_id", w->people[w->teams[i].supervisor].id,
                "k12", w->teams[i].k12));
    for (int i = 0; i < w->npeople; i++) {
        const sim_person *p = &w->people[i];
        json_t *j = json_object();
        json_object_set_new(j, "id", json_string(p->id));
        json_object_set_new(j, "name", json_string(p->name));
        json_object_set_new(j, "role", json_string(SIM_ROLE_NAMES[p->role]));
        json_object_set_new(j, "team_id", p->team >= 0 ? json_string(w->teams[p->team].id) : json_null());
        json_object_set_new(
            j, "region_id", p->region >= 0 ? json_string(w->regions[p->region].id) : json_null());
        json_object_set_new(j, "mentor_id", jid_or_null(w, p->mentor));
        json_object_set_new(j, "wecom_user", json_string(p->wecom));
        json_object_set_new(j, "email", json_string(p->email));
        json_object_set_new(j, "active", json_true());
        if (p->role == PR_REP) json_object_set_new(j, "senior", json_boolean(p->senior));
        json_array_append_new(people, j);
    }
    json_t *m1 = json_array(), *m2 = json_array();
    for (int i = 0; i < w->nas; i++)
        json_array_append_new(m1, json_string(w->people[w->as_members[i]].id));
    for (int i = 0; i < w->ncomp; i++)
        json_array_append_new(m2, json_string(w->people[w->comp_members[i]].id));
    json_array_append_new(named,
        json_pack("{s:s,s:s,s:s,s:o}", "id", "after_sales", "name", "售后服务组", "lead_id",
            w->people[w->as_lead].id, "members", m1));
    json_array_append_new(named,
        json_pack("{s:s,s:s,s:s,s:o}", "id", "competition_response", "name", "竞争应对小组", "lead_id",
            w->people[w->comp_lead].id, "members", m2));
    for (int i = 0; i < w->nabsences; i++)
        json_array_append_new(abs,
            json_pack("{s:s,s:o,s:o,s:s}", "person_id", w->people[w->absences[i].person].id, "starts_at",
                jiso(w->absences[i].t0), "ends_at", jiso(w->absences[i].t1), "reason",
                w->absences[i].reason));
    json_object_set_new(o, "tenant", json_string("hengyuan"));
    json_object_set_new(o, "regions", regions);
    json_object_set_new(o, "teams", teams);
    json_object_set_new(o, "people", people);
    json_object_set_new(o, "named_teams", named);
    json_object_set_new(o, "absences", abs);
    return o;
}

static const char *const CLASSES[] = {"A", "B", "C"};
static const char *RB_NAME(int rb)
{
    return rb == RB_PROC ? "procurement"
        : rb == RB_TECH  ? "technical"
        : rb == RB_DM    ? "decision_maker"
        : rb == RB_FIN   ? "finance"
                         : NULL;
}

static json_t *crm_json(const sim_world *w)
{
    json_t *o = json_object(), *cs = json_array(), *ds = json_array();
    for (int i = 0; i < w->ncust; i++) {
        const sim_customer *c = &w->cust[i];
        json_t *cts = json_array();
        for (int k = 0; k < c->nct; k++) {
            const sim_contact *t = &c->ct[k];
            const char *rn = RB_NAME(t->role);
            json_t *ids = json_pack("[{s:s,s:s},{s:s,s:s},{s:s,s:s}]", "kind", "wecom", "value", t->wecom,
                "kind", "email", "value", t->email, "kind", "phone", "value", t->phone);
            json_array_append_new(cts,
                json_pack("{s:s,s:s,s:s,s:o,s:o,s:o}", "id", t->id, "name", t->name, "title", t->title,
                    "role", rn ? json_string(rn) : json_null(), "last_contact_at", jiso(c->seed_last),
                    "identities", ids));
        }
        int has_deal = 0;
        for (int d = 0; d < w->ndeals && !has_deal; d++)
            has_deal = w->deals[d].cust == i && w->deals[d].created < w->start;
        json_array_append_new(cs,
            json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:b,s:o}", "id", c->id, "name", c->name, "industry",
                SIM_IND_NAMES[c->ind], "class", CLASSES[c->cls], "owner_rep_id", w->people[c->rep].id,
                "email_domain", c->domain, "created_at", jiso(c->created), "last_interaction_at",
                jiso(c->seed_last), "is_lead", !has_deal, "contacts", cts));
    }
    for (int i = 0; i < w->ndeals; i++) {
        const sim_deal *d = &w->deals[i];
        if (d->created >= w->start) continue;
        json_t *h = json_array(), *pa = json_array();
        int stage = ST_NONE;
        int64_t since = d->created;
        for (int k = 0; k < d->nh; k++) {
            if (d->h[k].at >= w->start) break;
            json_array_append_new(h,
                json_pack("{s:s,s:s,s:o}", "from_stage", SIM_STAGE_NAMES[d->h[k].from], "to_stage",
                    SIM_STAGE_NAMES[d->h[k].to], "at", jiso(d->h[k].at)));
            stage = d->h[k].to, since = d->h[k].at;
        }
        for (int k = 0; k < d->nprod; k++)
            json_array_append_new(pa, json_string(d->prod[k]));
        int open = stage != ST_WON && stage != ST_LOST;
        json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:o,s:I,s:s,s:o,s:o,s:b,s:o,s:o}", "id", d->id, "customer_id",
            w->cust[d->cust].id, "name", d->name, "stage", SIM_STAGE_NAMES[stage], "stage_since", jiso(since),
            "amount", (json_int_t)d->amount, "owner_rep_id", w->people[d->rep].id, "product_ids", pa,
            "created_at", jiso(d->created), "is_open", open, "last_status_update_at",
            jiso(open ? d->seed_status : since), "history", h);
        json_array_append_new(ds, j);
    }
    json_object_set_new(o, "tenant", json_string("hengyuan"));
    json_object_set_new(o, "customers", cs);
    json_object_set_new(o, "deals", ds);
    return o;
}

static int away_at(const sim_world *w, int person, int64_t t)
{
    for (int i = 0; i < w->nabsences; i++)
        if (w->absences[i].person == person && t >= w->absences[i].t0 && t < w->absences[i].t1) return 1;
    return 0;
}

/* Appends (kind, subject, person) to expected_tasks unless already there. */
static void expect(json_t *exp, const sim_truth *t, const char *person)
{
    size_t i;
    json_t *v;
    json_array_foreach(exp, i, v)
    {
        if (!strcmp(json_string_value(json_object_get(v, "kind")), t->kind)
            && !strcmp(json_string_value(json_object_get(v, "subject_id")), t->subject_id)
            && !strcmp(json_string_value(json_object_get(v, "assignee_id")), person))
            return;
    }
    json_array_append_new(exp,
        json_pack("{s:s,s:s,s:s,s:s}", "kind", t->kind, "subject_type", t->subject_type, "subject_id",
            t->subject_id, "assignee_id", person));
}

/* The watchers routing adds to a task (docs/routing.md): the other present
 * members of a named team, the team's supervisor of a funnel collapse.
 * Presence is judged at first_detectable_at, when the task is routed. */
static void expect_watchers(const sim_world *w, json_t *exp, const sim_truth *t)
{
    const int *m = NULL;
    int n = 0;
    if (!strcmp(t->assignee_role, "after_sales")) m = w->as_members, n = w->nas;
    if (!strcmp(t->assignee_role, "competition")) m = w->comp_members, n = w->ncomp;
    for (int i = 0; i < n; i++)
        if (strcmp(w->people[m[i]].id, t->assignee_id) && !away_at(w, m[i], t->first_detectable))
            expect(exp, t, w->people[m[i]].id);
    if (!strcmp(t->kind, "team.funnel_collapse"))
        for (int k = 0; k < 6; k++)
            if (!strcmp(w->teams[k].id, t->subject_id)
                && !away_at(w, w->teams[k].supervisor, t->first_detectable))
                expect(exp, t, w->people[w->teams[k].supervisor].id);
}

static json_t *truth_json(const sim_world *w)
{
    json_t *o = json_object(), *sit = json_array(), *exp = json_array(), *np = json_array();
    char d[16];
    sim_fmt_date(w->start, d, sizeof d);
    for (int i = 0; i < w->ntruth; i++) {
        const sim_truth *t = &w->truth[i];
        json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o}", "situation", t->situation, "kind", t->kind,
            "subject_type", t->subject_type, "subject_id", t->subject_id, "assignee_id", t->assignee_id,
            "assignee_role", t->assignee_role, "level", t->level, "first_detectable_at",
            jiso(t->first_detectable));
        if (t->note[0]) json_object_set_new(j, "note", json_string(t->note));
        json_array_append_new(sit, j);
        expect(exp, t, t->assignee_id);
        expect_watchers(w, exp, t);
    }
    for (int i = 0; i < w->nabsent; i++)
        json_array_append_new(np, json_string(w->absent_note[i]));
    json_object_set_new(o, "tenant", json_string("hengyuan"));
    json_object_set_new(o, "seed", json_integer((json_int_t)w->o.seed));
    json_object_set_new(o, "customers", json_integer(w->o.customers));
    json_object_set_new(o, "start", json_string(d));
    json_object_set_new(o, "weeks", json_integer(w->o.weeks));
    json_object_set_new(o, "end", jiso(w->end));
    json_object_set_new(o, "situations", sit);
    json_object_set_new(o, "not_present", np);
    json_object_set_new(o, "expected_tasks", exp);
    return o;
}

static int write_json(json_t *j, const char *dir, const char *name, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (j == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        return SP_ENOMEM;
    }
    int rv = json_dump_file(j, path, JSON_INDENT(1)) == 0 ? SP_OK : SP_EIO;
    json_decref(j);
    if (rv) snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
    return rv;
}

int sim_write_all(sim_world *w, const char *dir, char *err, size_t errlen)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: cannot create: %s", dir, strerror(errno));
        return SP_EIO;
    }
    int rv;
    if ((rv = write_json(org_json(w), dir, "org.json", err, errlen)) != 0
        || (rv = write_json(crm_json(w), dir, "crm.json", err, errlen)) != 0
        || (rv = write_json(truth_json(w), dir, "truth.json", err, errlen)) != 0)
        return rv;
    char path[4096];
    snprintf(path, sizeof path, "%s/events.ndjson", dir);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        return SP_EIO;
    }
    for (size_t i = 0; i < w->nev; i++) {
        fputs(w->ev[i].line, f);
        fputc('\n', f);
    }
    if (fclose(f) != 0) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        return SP_EIO;
    }
    return SP_OK;
}

int sim_world_new(const sim_opts *o, sim_world **out)
{
    *out = NULL;
    sim_world *w = calloc(1, sizeof *w);
    if (w == NULL) return SP_ENOMEM;
    w->o = *o;
    w->start = o->start_ms;
    w->end = o->start_ms + (int64_t)o->weeks * 7 * SIM_DAY;
    w->fv_week0 = -1;
    w->e_cust = -1;
    *out = w;
    return SP_OK;
}

void sim_world_destroy(sim_world *w)
{
    if (w == NULL) return;
    for (size_t i = 0; i < w->nev; i++)
        free(w->ev[i].line);
    free(w->ev);
    free(w->people);
    free(w->cust);
    free(w->deals);
    free(w->blocks);
    free(w->cust_blocked);
    free(w);
}

int sim_run(const sim_opts *o, const char *dir, sim_stats *st, char *err, size_t errlen)
{
    if (o->customers < 100 || o->customers > 20000 || o->weeks < 3 || o->weeks > 26) {
        snprintf(err, errlen, "--customers must be 100..20000 and --weeks 3..26");
        return SP_EINVAL;
    }
    sim_world *w = NULL;
    int rv = sim_world_new(o, &w);
    if (rv != 0) return rv;
    if ((rv = sim_build_org(w)) != 0 || (rv = sim_build_customers(w)) != 0) goto fail;
    w->cust_blocked = calloc((size_t)w->ncust, 1);
    if (w->cust_blocked == NULL) {
        rv = SP_ENOMEM;
        goto fail;
    }
    if ((rv = sim_plant_reserve(w)) != 0 || (rv = sim_build_deals(w)) != 0) goto fail;
    for (int i = 0; i < w->ndeals; i++) {
        sim_deal *d = &w->deals[i];
        sim_rng r = sim_rng_sub(o->seed, 4, (uint64_t)i);
        int64_t since = d->created;
        for (int k = 0; k < d->nh && d->h[k].at < w->start; k++)
            since = d->h[k].at;
        d->seed_status = w->start - (int64_t)(sim_rng_range(&r, 0.2, 1.5) * SIM_DAY);
        if (d->seed_status < since) d->seed_status = since;
    }
    if ((rv = sim_gen_events(w)) != 0 || (rv = sim_plant_events(w)) != 0 || (rv = sim_passes(w)) != 0
        || (rv = sim_plant_truth(w)) != 0)
        goto fail;
    if ((rv = sim_write_all(w, dir, err, errlen)) != 0) goto fail;
    if (st) {
        st->events = w->nev, st->customers = (size_t)w->ncust, st->deals = (size_t)w->ndeals;
        st->people = (size_t)w->npeople, st->situations = (size_t)w->ntruth;
        st->expected_tasks = 0;
    }
    sim_world_destroy(w);
    return SP_OK;
fail:
    if (!err[0]) snprintf(err, errlen, "generation failed: %s", sp_strerror(rv));
    sim_world_destroy(w);
    return rv;
}
