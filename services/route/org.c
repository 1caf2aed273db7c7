/* org.c - the org snapshot: rows in growable arrays, sorted by id at
 * org_finish, looked up with bsearch. */
#include "route/org.h"

#include "err.h"
#include "route/rjson.h"

#include <stdlib.h>
#include <string.h>

struct org {
    org_person *people;
    size_t n_people, cap_people;
    org_team *teams;
    size_t n_teams, cap_teams;
    org_region *regions;
    size_t n_regions, cap_regions;
    org_named_team *named;
    size_t n_named, cap_named;
    org_absence *absences; /* sorted by person id, then from */
    size_t n_absences, cap_absences;
    int finished;
};

static const char *const role_names[] = {
    [ORG_ROLE_UNKNOWN] = "unknown",
    [ORG_ROLE_REP] = "rep",
    [ORG_ROLE_SUPERVISOR] = "supervisor",
    [ORG_ROLE_DIRECTOR] = "director",
    [ORG_ROLE_ADMIN] = "admin",
    [ORG_ROLE_AFTER_SALES] = "after_sales",
    [ORG_ROLE_COMPETITION] = "competition",
};

const char *org_role_name(org_role r)
{
    if ((int)r < 0 || r > ORG_ROLE_COMPETITION) return "unknown";
    return role_names[r];
}

int org_role_parse(const char *s, org_role *out)
{
    for (int r = ORG_ROLE_REP; r <= ORG_ROLE_COMPETITION; r++)
        if (s != NULL && strcmp(s, role_names[r]) == 0) {
            *out = (org_role)r;
            return SP_OK;
        }
    return SP_EINVAL;
}

int org_new(org **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? SP_OK : SP_ENOMEM;
}

static void sfree(const char *s)
{
    free((void *)s);
}

void org_destroy(org *o)
{
    if (o == NULL) return;
    for (size_t i = 0; i < o->n_people; i++) {
        org_person *p = &o->people[i];
        sfree(p->id), sfree(p->name), sfree(p->name_en), sfree(p->team_id), sfree(p->mentor_id);
        sfree(p->region_id), sfree(p->wecom_user_id), sfree(p->email);
    }
    for (size_t i = 0; i < o->n_teams; i++) {
        sfree(o->teams[i].id), sfree(o->teams[i].name), sfree(o->teams[i].supervisor_id);
        sfree(o->teams[i].region_id);
    }
    for (size_t i = 0; i < o->n_regions; i++)
        sfree(o->regions[i].id), sfree(o->regions[i].name), sfree(o->regions[i].director_id);
    for (size_t i = 0; i < o->n_named; i++) {
        sfree(o->named[i].name), sfree(o->named[i].lead_id);
        for (size_t j = 0; j < o->named[i].n_members; j++)
            sfree(o->named[i].member_ids[j]);
        free((void *)o->named[i].member_ids);
    }
    for (size_t i = 0; i < o->n_absences; i++)
        sfree(o->absences[i].person_id), sfree(o->absences[i].reason);
    free(o->people), free(o->teams), free(o->regions), free(o->named), free(o->absences);
    free(o);
}

/* Duplicates s (NULL and "" stay NULL); sets *oom on failure. */
static const char *dup(const char *s, int *oom)
{
    if (s == NULL || *s == '\0') return NULL;
    char *d = strdup(s);
    if (d == NULL) *oom = 1;
    return d;
}

static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap) return SP_OK;
    size_t nc = *cap ? *cap * 2 : 16;
    void *na = realloc(*arr, nc * elem);
    if (na == NULL) return SP_ENOMEM;
    *arr = na;
    *cap = nc;
    return SP_OK;
}

static int need(const char *v, const char *what, const char *field, char *err, size_t errlen)
{
    if (v != NULL && *v != '\0') return SP_OK;
    rjson_fail(err, errlen, "%s: missing %s", what, field);
    return SP_EINVAL;
}

int org_add_person(org *o, const org_person *p, char *err, size_t errlen)
{
    int rv, oom = 0;
    if (o->finished) return SP_ESTATE;
    if ((rv = need(p->id, "person", "id", err, errlen)) != 0
        || (rv = need(p->name, "person", "name", err, errlen)) != 0)
        return rv;
    if (p->role <= ORG_ROLE_UNKNOWN || p->role > ORG_ROLE_COMPETITION) {
        rjson_fail(err, errlen, "person %s: invalid role", p->id);
        return SP_EINVAL;
    }
    if ((rv = grow((void **)&o->people, &o->cap_people, o->n_people, sizeof *o->people)) != 0) return rv;
    org_person c = *p;
    c.id = dup(p->id, &oom), c.name = dup(p->name, &oom), c.name_en = dup(p->name_en, &oom);
    c.team_id = dup(p->team_id, &oom), c.mentor_id = dup(p->mentor_id, &oom);
    c.region_id = dup(p->region_id, &oom), c.wecom_user_id = dup(p->wecom_user_id, &oom);
    c.email = dup(p->email, &oom);
    c.active = p->active ? 1 : 0;
    o->people[o->n_people++] = c; /* stored even on OOM so destroy frees it */
    return oom ? SP_ENOMEM : SP_OK;
}

int org_add_team(org *o, const org_team *t, char *err, size_t errlen)
{
    int rv, oom = 0;
    if (o->finished) return SP_ESTATE;
    /* a team may have no supervisor yet: routing goes on to the director */
    if ((rv = need(t->id, "team", "id", err, errlen)) != 0) return rv;
    if ((rv = grow((void **)&o->teams, &o->cap_teams, o->n_teams, sizeof *o->teams)) != 0) return rv;
    org_team c = {dup(t->id, &oom), dup(t->name, &oom), dup(t->supervisor_id, &oom), dup(t->region_id, &oom)};
    o->teams[o->n_teams++] = c;
    return oom ? SP_ENOMEM : SP_OK;
}

int org_add_region(org *o, const org_region *r, char *err, size_t errlen)
{
    int rv, oom = 0;
    if (o->finished) return SP_ESTATE;
    if ((rv = need(r->id, "region", "id", err, errlen)) != 0) return rv;
    if ((rv = grow((void **)&o->regions, &o->cap_regions, o->n_regions, sizeof *o->regions)) != 0) return rv;
    org_region c = {dup(r->id, &oom), dup(r->name, &oom), dup(r->director_id, &oom)};
    o->regions[o->n_regions++] = c;
    return oom ? SP_ENOMEM : SP_OK;
}

int org_add_named_team(org *o, const org_named_team *nt, char *err, size_t errlen)
{
    int rv, oom = 0;
    if (o->finished) return SP_ESTATE;
    if ((rv = need(nt->name, "named team", "name", err, errlen)) != 0
        || (rv = need(nt->lead_id, "named team", "lead_id", err, errlen)) != 0)
        return rv;
    if ((rv = grow((void **)&o->named, &o->cap_named, o->n_named, sizeof *o->named)) != 0) return rv;
    org_named_team c = {dup(nt->name, &oom), dup(nt->lead_id, &oom), NULL, 0};
    const char **m = calloc(nt->n_members ? nt->n_members : 1, sizeof *m);
    if (m == NULL) oom = 1;
    for (size_t i = 0; m != NULL && i < nt->n_members; i++) {
        m[c.n_members] = dup(nt->member_ids[i], &oom);
        if (m[c.n_members] != NULL) c.n_members++;
    }
    c.member_ids = m;
    o->named[o->n_named++] = c;
    return oom ? SP_ENOMEM : SP_OK;
}

int org_add_absence(org *o, const org_absence *a, char *err, size_t errlen)
{
    int rv, oom = 0;
    if (o->finished) return SP_ESTATE;
    if ((rv = need(a->person_id, "absence", "person_id", err, errlen)) != 0) return rv;
    if (a->until_ms <= a->from_ms) {
        rjson_fail(err, errlen, "absence of %s: until must be after from", a->person_id);
        return SP_EINVAL;
    }
    if ((rv = grow((void **)&o->absences, &o->cap_absences, o->n_absences, sizeof *o->absences)) != 0)
        return rv;
    org_absence c = {dup(a->person_id, &oom), a->from_ms, a->until_ms, dup(a->reason, &oom)};
    o->absences[o->n_absences++] = c;
    return oom ? SP_ENOMEM : SP_OK;
}

/* Every row type starts with its key string, so one comparator serves all. */
static int cmp_first_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_absence(const void *a, const void *b)
{
    const org_absence *x = a, *y = b;
    int c = strcmp(x->person_id, y->person_id);
    if (c != 0) return c;
    return (x->from_ms > y->from_ms) - (x->from_ms < y->from_ms);
}

/* qsort that accepts an empty (NULL) array. */
static void sort(void *arr, size_t n, size_t elem, int (*cmp)(const void *, const void *))
{
    if (n > 1) qsort(arr, n, elem, cmp);
}

static int check_unique(const void *arr, size_t n, size_t elem, const char *what, char *err, size_t errlen)
{
    const char *base = arr;
    for (size_t i = 1; i < n; i++) {
        const char *a = *(const char *const *)(base + (i - 1) * elem);
        const char *b = *(const char *const *)(base + i * elem);
        if (strcmp(a, b) == 0) return rjson_fail(err, errlen, "%s %s: duplicate id", what, b);
    }
    return SP_OK;
}

static const void *find(const void *arr, size_t n, size_t elem, const char *id)
{
    if (id == NULL || n == 0) return NULL;
    return bsearch(&id, arr, n, elem, cmp_first_str);
}

static int ref(const org *o, const char *id, const char *what, const char *owner, const char *key, char *err,
    size_t errlen)
{
    if (id == NULL || org_person_get(o, id) != NULL) return SP_OK;
    return rjson_fail(err, errlen, "%s %s: %s \"%s\" is not a known person", what, owner, key, id);
}

int org_finish(org *o, char *err, size_t errlen)
{
    int rv;
    if (o->finished) return SP_OK;
    sort(o->people, o->n_people, sizeof *o->people, cmp_first_str);
    sort(o->teams, o->n_teams, sizeof *o->teams, cmp_first_str);
    sort(o->regions, o->n_regions, sizeof *o->regions, cmp_first_str);
    sort(o->named, o->n_named, sizeof *o->named, cmp_first_str);
    sort(o->absences, o->n_absences, sizeof *o->absences, cmp_absence);
    if ((rv = check_unique(o->people, o->n_people, sizeof *o->people, "person", err, errlen)) != 0
        || (rv = check_unique(o->teams, o->n_teams, sizeof *o->teams, "team", err, errlen)) != 0
        || (rv = check_unique(o->regions, o->n_regions, sizeof *o->regions, "region", err, errlen)) != 0
        || (rv = check_unique(o->named, o->n_named, sizeof *o->named, "named team", err, errlen)) != 0)
        return rv;
    o->finished = 1; /* lookups below need it; reset on failure */
    rv = SP_OK;
    for (size_t i = 0; rv == SP_OK && i < o->n_people; i++) {
        const org_person *p = &o->people[i];
        if (p->team_id != NULL && org_team_get(o, p->team_id) == NULL)
            rv = rjson_fail(err, errlen, "person %s: team_id \"%s\" is not a known team", p->id, p->team_id);
        else if (p->region_id != NULL && org_region_get(o, p->region_id) == NULL)
            rv = rjson_fail(
                err, errlen, "person %s: region_id \"%s\" is not a known region", p->id, p->region_id);
        else if (p->mentor_id != NULL && strcmp(p->mentor_id, p->id) == 0)
            rv = rjson_fail(err, errlen, "person %s: mentor_id is the person themself", p->id);
        else
            rv = ref(o, p->mentor_id, "person", p->id, "mentor_id", err, errlen);
    }
    for (size_t i = 0; rv == SP_OK && i < o->n_teams; i++) {
        const org_team *t = &o->teams[i];
        rv = ref(o, t->supervisor_id, "team", t->id, "supervisor_id", err, errlen);
        if (rv == SP_OK && t->region_id != NULL && org_region_get(o, t->region_id) == NULL)
            rv = rjson_fail(
                err, errlen, "team %s: region_id \"%s\" is not a known region", t->id, t->region_id);
    }
    for (size_t i = 0; rv == SP_OK && i < o->n_regions; i++)
        rv = ref(o, o->regions[i].director_id, "region", o->regions[i].id, "director_id", err, errlen);
    for (size_t i = 0; rv == SP_OK && i < o->n_named; i++) {
        rv = ref(o, o->named[i].lead_id, "named team", o->named[i].name, "lead_id", err, errlen);
        for (size_t j = 0; rv == SP_OK && j < o->named[i].n_members; j++)
            rv = ref(o, o->named[i].member_ids[j], "named team", o->named[i].name, "member_ids", err, errlen);
    }
    for (size_t i = 0; rv == SP_OK && i < o->n_absences; i++)
        rv = ref(o, o->absences[i].person_id, "absence", "", "person_id", err, errlen);
    if (rv != SP_OK) o->finished = 0;
    return rv;
}

const org_person *org_person_get(const org *o, const char *id)
{
    if (o == NULL || !o->finished) return NULL;
    return find(o->people, o->n_people, sizeof *o->people, id);
}

const org_team *org_team_get(const org *o, const char *id)
{
    if (o == NULL || !o->finished) return NULL;
    return find(o->teams, o->n_teams, sizeof *o->teams, id);
}

const org_region *org_region_get(const org *o, const char *id)
{
    if (o == NULL || !o->finished) return NULL;
    return find(o->regions, o->n_regions, sizeof *o->regions, id);
}

const org_named_team *org_named_team_get(const org *o, const char *name)
{
    if (o == NULL || !o->finished) return NULL;
    return find(o->named, o->n_named, sizeof *o->named, name);
}

const org_absence *org_absence_at(const org *o, const char *person_id, int64_t at_ms)
{
    if (o == NULL || !o->finished || person_id == NULL) return NULL;
    /* lower bound of person_id in the sorted absences */
    size_t lo = 0, hi = o->n_absences;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(o->absences[mid].person_id, person_id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    const org_absence *best = NULL;
    for (size_t i = lo; i < o->n_absences && strcmp(o->absences[i].person_id, person_id) == 0; i++) {
        const org_absence *a = &o->absences[i];
        if (a->from_ms <= at_ms && at_ms < a->until_ms && (best == NULL || a->until_ms > best->until_ms))
            best = a;
    }
    return best;
}

void org_region_supervisors(
    const org *o, const char *region_id, const org_person **out, size_t cap, size_t *n)
{
    *n = 0;
    if (o == NULL || !o->finished || region_id == NULL) return;
    for (size_t i = 0; i < o->n_teams && *n < cap; i++) {
        const org_team *t = &o->teams[i];
        if (t->region_id == NULL || strcmp(t->region_id, region_id) != 0) continue;
        const org_person *s = org_person_get(o, t->supervisor_id);
        int seen = 0;
        for (size_t j = 0; j < *n && !seen; j++)
            seen = out[j] == s;
        if (s != NULL && !seen) out[(*n)++] = s;
    }
}

size_t org_person_count(const org *o)
{
    return o ? o->n_people : 0;
}
