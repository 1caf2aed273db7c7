/* Unit tests of the demo simulator (spctl sim): determinism, size, the
 * planted situations against the routing table, and a healthy background. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "err.h"
#include "spctl/spctl.h"
#include "spctl/spctl_sim.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *slurp(const char *dir, const char *name, size_t *len)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "rb");
    if (f == NULL) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    if (b) b[n] = 0;
    fclose(f);
    if (len) *len = (size_t)n;
    return b;
}

static void gen(const char *dir, uint64_t seed, int customers, int weeks, sim_stats *st)
{
    sim_opts o = {.seed = seed, .customers = customers, .weeks = weeks};
    assert_int_equal(sim_date_parse("2026-03-02", &o.start_ms), SP_OK);
    char err[256] = "";
    int rv = sim_run(&o, dir, st, err, sizeof err);
    if (rv) fprintf(stderr, "sim_run: %s\n", err);
    assert_int_equal(rv, SP_OK);
}

static const char *const FILES[] = {"org.json", "crm.json", "events.ndjson", "truth.json"};

static void test_determinism(void **state)
{
    (void)state;
    gen("/tmp/test_sim_a", 11, 200, 3, NULL);
    gen("/tmp/test_sim_b", 11, 200, 3, NULL);
    gen("/tmp/test_sim_c", 12, 200, 3, NULL);
    for (size_t i = 0; i < 4; i++) {
        size_t la, lb, lc;
        char *a = slurp("/tmp/test_sim_a", FILES[i], &la), *b = slurp("/tmp/test_sim_b", FILES[i], &lb),
             *c = slurp("/tmp/test_sim_c", FILES[i], &lc);
        assert_non_null(a);
        assert_non_null(b);
        assert_non_null(c);
        assert_true(la == lb && memcmp(a, b, la) == 0);
        if (i != 3 || 1) assert_false(la == lc && memcmp(a, c, la) == 0);
        free(a), free(b), free(c);
    }
}

static void test_bad_options(void **state)
{
    (void)state;
    sim_opts o = {.seed = 1, .customers = 5, .weeks = 13};
    char err[256] = "";
    assert_int_equal(sim_run(&o, "/tmp/test_sim_bad", NULL, err, sizeof err), SP_EINVAL);
    assert_non_null(strstr(err, "--customers"));
    int64_t t;
    assert_int_equal(sim_date_parse("2026-3-x", &t), SP_EINVAL);
    assert_int_equal(sim_date_parse("2026-03-02", &t), SP_OK);
    assert_int_equal(sim_weekday(t), 1);
    assert_false(sim_is_working_day(sim_local_day(t) + 60)); /* 2026-05-01 */
    assert_true(sim_is_working_day(sim_local_day(t) + 68)); /* 2026-05-09, a Saturday worked */
}

/* ---- the full quarter --------------------------------------------------- */

typedef struct lookup {
    json_t *org, *crm, *truth;
} lookup;

static json_t *find_by_id(json_t *arr, const char *id)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) if (strcmp(json_string_value(json_object_get(v, "id")), id) == 0) return v;
    return NULL;
}

static const char *sget(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int64_t iso_ms(const char *s)
{
    int y, mo, d, h, mi, se;
    if (s == NULL || sscanf(s, "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &se) != 6) return 0;
    char day[16];
    snprintf(day, sizeof day, "%04d-%02d-%02d", y, mo, d);
    int64_t t = 0;
    sim_date_parse(day, &t);
    return t + ((int64_t)h * 3600 + mi * 60 + se) * 1000;
}

typedef struct evrow {
    int64_t t;
    int cust, deal, rep;
    char ch, dir;
    int plant;
    int opens, closes;
} evrow;

static int idx_of(char **ids, int n, const char *id)
{
    if (id == NULL) return -1;
    /* ids are C00001.. / D00001.. / P-...: binary search is not needed at this size for reps */
    for (int i = 0; i < n; i++)
        if (strcmp(ids[i], id) == 0) return i;
    return -1;
}

static int num_id(const char *id, char pfx)
{
    return id && id[0] == pfx ? atoi(id + 1) - 1 : -1;
}

static void test_full_quarter(void **state)
{
    (void)state;
    sim_stats st;
    gen("/tmp/test_sim_full", 42, 2000, 13, &st);
    assert_in_range(st.events, 120000, 180000);
    json_error_t je;
    json_t *org = json_load_file("/tmp/test_sim_full/org.json", 0, &je);
    json_t *crm = json_load_file("/tmp/test_sim_full/crm.json", 0, &je);
    json_t *truth = json_load_file("/tmp/test_sim_full/truth.json", 0, &je);
    assert_non_null(org);
    assert_non_null(crm);
    assert_non_null(truth);
    json_t *people = json_object_get(org, "people"), *teams = json_object_get(org, "teams"),
           *regions = json_object_get(org, "regions");
    assert_in_range(json_array_size(people), 50, 60);
    assert_int_equal(json_array_size(json_object_get(crm, "customers")), 2000);

    /* every planted kind is there */
    static const char *const KINDS[] = {"team.funnel_collapse", "region.first_visit_timeout",
        "rep.status_not_updated", "deal.demo_refused_twice", "customer.stale", "deal.competitor_surge",
        "deal.risk_raised", "rep.key_action_missing"};
    json_t *sits = json_object_get(truth, "situations");
    for (size_t k = 0; k < 8; k++) {
        int found = 0;
        size_t i;
        json_t *s;
        json_array_foreach(sits, i, s) found |= strcmp(sget(s, "kind"), KINDS[k]) == 0;
        assert_true(found);
    }
    assert_true(json_array_size(json_object_get(truth, "expected_tasks")) >= 10);

    /* events: who owns which deal (CRM snapshot + stage changes in the window) */
    size_t len;
    char *buf = slurp("/tmp/test_sim_full", "events.ndjson", &len);
    assert_non_null(buf);
    int ndeal_max = 20000;
    char(*deal_rep)[12] = calloc((size_t)ndeal_max, 12);
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(crm, "deals"), i, v)
    {
        int d = num_id(sget(v, "id"), 'D');
        snprintf(deal_rep[d], 12, "%s", sget(v, "owner_rep_id"));
    }
    evrow *rows = calloc(200000, sizeof *rows);
    size_t nrows = 0;
    int64_t prev_t = 0, prev_at = 1;
    int competitor_leaks = 0, leak_rows = 0;
    for (char *line = buf; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        json_t *e = json_loads(line, 0, &je);
        assert_non_null(e);
        const char *ep = sget(e, "endpoint");
        json_t *it = json_object_get(e, "item");
        evrow r = {0, -1, -1, -1, 0, 0, 0, 0, 0};
        if (strcmp(ep, "/v1/email") == 0) {
            /* direction and customer from the From/To addresses */
            const char *m = sget(e, "mime");
            const char *fr = strstr(m, "\r\nFrom: "), *to = strstr(m, "\r\nTo: "),
                       *dt = strstr(m, "\r\nDate: ");
            assert_non_null(fr);
            assert_non_null(to);
            assert_non_null(dt);
            int out = strncmp(strchr(strchr(fr, '<'), '@'), "@hengyuan.cn>", 13) == 0;
            const char *addr = strchr(strchr(out ? to : fr, '<'), '@') + 1;
            size_t dl = (size_t)(strchr(addr, '>') - addr);
            size_t k;
            json_t *cv;
            json_array_foreach(json_object_get(crm, "customers"), k, cv)
            {
                const char *dom = sget(cv, "email_domain");
                if (strlen(dom) == dl && strncmp(dom, addr, dl) == 0) r.cust = (int)k;
            }
            assert_true(r.cust >= 0);
            r.ch = 'e', r.dir = out ? 'o' : 'i';
            r.t = prev_t; /* e-mails sit in time order; their Date is local */
            rows[nrows++] = r;
            json_decref(e);
            line = nl ? nl + 1 : NULL;
            continue;
        }
        if (strcmp(ep, "/v1/calls") == 0) {
            r.t = iso_ms(sget(it, "started_at"));
            r.ch = 'c', r.dir = 'o';
        } else {
            assert_string_equal(ep, "/v1/interactions");
            r.t = iso_ms(sget(it, "occurred_at"));
            const char *ch = sget(it, "channel"), *dir = sget(it, "direction");
            r.ch = strcmp(ch, "activity") == 0 ? 'a'
                : strcmp(ch, "note") == 0      ? 'n'
                : strcmp(ch, "crm") == 0       ? 'r'
                : strcmp(ch, "tracking") == 0  ? 't'
                : strcmp(ch, "meeting") == 0   ? 'm'
                                               : 'w';
            r.dir = strcmp(dir, "internal") == 0 ? 'n' : dir[0];
            json_t *sc = json_object_get(it, "stage_change");
            if (sc && !json_object_get(sc, "from_stage")) {
                snprintf(deal_rep[num_id(sget(sc, "deal_id"), 'D')], 12, "%s", sget(it, "rep_id"));
                r.opens = 1;
            }
            if (sc && (strcmp(sget(sc, "to_stage"), "won") == 0 || strcmp(sget(sc, "to_stage"), "lost") == 0))
                r.closes = 1;
            const char *text = sget(it, "text");
            if (text)
                for (int k = 0; SIM_COMPETITOR_ALIASES[k]; k++)
                    if (strstr(text, SIM_COMPETITOR_ALIASES[k])) competitor_leaks++;
            if (text)
                for (int k = 0; SIM_RISK_WORDS[k]; k++)
                    if (strstr(text, SIM_RISK_WORDS[k])) competitor_leaks += 1000;
            json_t *tr = json_object_get(it, "tracking");
            if (tr && sget(tr, "competitor_id")) competitor_leaks++;
        }
        assert_true(r.t >= prev_t); /* time-ordered */
        /* every envelope carries its event time for replay's windows (an e-mail's
         * Date is local: its at is checked for order only) */
        json_int_t at = json_integer_value(json_object_get(e, "at"));
        assert_true(at >= prev_at);
        if (strcmp(ep, "/v1/email") != 0) assert_int_equal(at / 1000, r.t / 1000); /* ISO has seconds */
        prev_at = at;
        prev_t = r.t;
        r.cust = num_id(sget(it, "customer_ref"), 'C');
        r.deal = num_id(sget(it, "deal_id"), 'D');
        const char *rep = sget(it, "rep_id");
        r.rep = rep ? atoi(rep + 3) : -1;
        json_t *turns = json_object_get(it, "turns");
        size_t k;
        json_t *tv;
        json_array_foreach(turns, k, tv)
        {
            for (int q = 0; SIM_RISK_WORDS[q]; q++)
                if (strstr(sget(tv, "text"), SIM_RISK_WORDS[q])) competitor_leaks += 1000;
        }
        r.plant = competitor_leaks > 0;
        leak_rows += r.plant;
        competitor_leaks = 0;
        rows[nrows++] = r;
        json_decref(e);
        line = nl ? nl + 1 : NULL;
    }
    /* planted subjects, to leave out of the background checks */
    char plant_deal[16][16], plant_cust[16][16], plant_rep[16][16];
    int npd = 0, npc = 0, npr = 0;
    json_array_foreach(sits, i, v)
    {
        const char *sty = sget(v, "subject_type"), *id = sget(v, "subject_id");
        if (strcmp(sty, "deal") == 0) snprintf(plant_deal[npd++], 16, "%s", id);
        if (strcmp(sty, "customer") == 0) snprintf(plant_cust[npc++], 16, "%s", id);
        if (strcmp(sty, "rep") == 0) snprintf(plant_rep[npr++], 16, "%s", id);
        const char *note = sget(v, "note");
        if (note && strncmp(note, "deal D", 6) == 0) snprintf(plant_deal[npd++], 16, "%.6s", note + 5);
    }
    int plant_deal_cust[16];
    for (int d = 0; d < npd; d++)
        plant_deal_cust[d] = -1;
    for (size_t r = 0; r < nrows; r++)
        for (int d = 0; d < npd; d++)
            if (rows[r].deal == num_id(plant_deal[d], 'D')) plant_deal_cust[d] = rows[r].cust;
    /* competitor names, competitor pages and risk words only at planted deals' customers */
    assert_true(leak_rows >= 8);
    for (size_t r = 0; r < nrows; r++) {
        if (!rows[r].plant) continue;
        int ok = 0;
        for (int d = 0; d < npd; d++)
            ok |= rows[r].cust == plant_deal_cust[d];
        if (!ok) fprintf(stderr, "leak at customer C%05d\n", rows[r].cust + 1);
        assert_true(ok);
    }
    free(buf);

    /* no customer silent > 25 days outside the plants */
    int64_t start = iso_ms("2026-03-02T00:00:00"), end = iso_ms("2026-06-01T00:00:00");
    int64_t *last = calloc(2000, sizeof *last);
    json_array_foreach(json_object_get(crm, "customers"), i, v) last[i]
        = iso_ms(sget(v, "last_interaction_at"));
    int64_t worst = 0;
    for (size_t r = 0; r < nrows; r++) {
        int c = rows[r].cust;
        if (c < 0) continue;
        int planted = 0;
        for (int k = 0; k < npc; k++)
            planted |= c == num_id(plant_cust[k], 'C');
        if (!planted && rows[r].t - last[c] > worst) worst = rows[r].t - last[c];
        last[c] = rows[r].t;
    }
    for (int c = 0; c < 2000; c++) {
        int planted = 0;
        for (int k = 0; k < npc; k++)
            planted |= c == num_id(plant_cust[k], 'C');
        if (!planted && end - last[c] > worst) worst = end - last[c];
    }
    assert_true(worst <= 25 * SIM_DAY);

    /* every open deal updated by its rep at least every 4 days (outside plants):
     * replay the deal's stage changes and the rep's updates */
    int64_t *upd = calloc((size_t)ndeal_max, sizeof *upd);
    char *open = calloc((size_t)ndeal_max, 1);
    json_array_foreach(json_object_get(crm, "deals"), i, v)
    {
        int d = num_id(sget(v, "id"), 'D');
        open[d] = json_is_true(json_object_get(v, "is_open"));
        upd[d] = iso_ms(sget(v, "last_status_update_at"));
    }
    int64_t worst_upd = 0;
    int late_deals = 0;
    for (size_t r = 0; r <= nrows; r++) {
        int64_t now = r < nrows ? rows[r].t : end;
        /* check every open deal lazily at each day boundary */
        if (r == nrows || (r > 0 && rows[r].t / SIM_DAY != rows[r - 1].t / SIM_DAY)) {
            for (int d = 0; d < ndeal_max; d++) {
                if (!open[d]) continue;
                int planted = 0;
                for (int k = 0; k < npd; k++)
                    planted |= d == num_id(plant_deal[k], 'D');
                if (planted) continue;
                if (now - upd[d] > worst_upd) worst_upd = now - upd[d];
                if (now - upd[d] > 4 * SIM_DAY) {
                    if (late_deals < 5)
                        fprintf(stderr, "deal D%05d not updated since %lld h\n", d + 1,
                            (long long)((now - upd[d]) / SIM_HOUR));
                    late_deals++;
                }
            }
        }
        if (r == nrows) break;
        const evrow *e = &rows[r];
        if (e->deal < 0 || (e->ch != 'a' && e->ch != 'n' && e->ch != 'r')) continue;
        if (e->closes) open[e->deal] = 0;
        if (e->rep != atoi(deal_rep[e->deal] + 3)) continue;
        if (e->opens) open[e->deal] = 1;
        if (e->closes) open[e->deal] = 0;
        upd[e->deal] = e->t;
    }
    (void)start;
    assert_int_equal(late_deals, 0);

    /* every inbound message, e-mail or tracking hit answered within 20 h */
    {
        size_t unanswered = 0;
        for (size_t r = 0; r < nrows; r++) {
            if (rows[r].dir != 'i' || rows[r].t > end - 20 * SIM_HOUR) continue;
            int ok = 0;
            for (size_t q = r + 1; q < nrows && rows[q].t <= rows[r].t + 20 * SIM_HOUR && !ok; q++)
                ok = rows[q].cust == rows[r].cust && rows[q].dir == 'o';
            unanswered += !ok;
        }
        assert_int_equal(unanswered, 0);
    }

    /* routing: each planted assignee exists and is the one the table names */
    json_array_foreach(sits, i, v)
    {
        const char *kind = sget(v, "kind"), *sid = sget(v, "subject_id"), *aid = sget(v, "assignee_id");
        json_t *assignee = find_by_id(people, aid);
        assert_non_null(assignee);
        const char *want = NULL;
        if (strcmp(kind, "team.funnel_collapse") == 0) {
            json_t *t = find_by_id(teams, sid);
            want = sget(find_by_id(regions, sget(t, "region_id")), "director_id");
        } else if (strcmp(kind, "region.first_visit_timeout") == 0) {
            size_t k;
            json_t *t;
            json_array_foreach(teams, k, t) if (strcmp(sget(t, "region_id"), sid) == 0
                && strcmp(sget(t, "supervisor_id"), aid) == 0) want
                = aid;
        } else if (strcmp(kind, "rep.status_not_updated") == 0) {
            json_t *rep = find_by_id(people, sid), *t = find_by_id(teams, sget(rep, "team_id"));
            const char *sup = sget(t, "supervisor_id");
            int64_t at = iso_ms(sget(v, "first_detectable_at"));
            int away = 0;
            size_t k;
            json_t *a;
            json_array_foreach(json_object_get(org, "absences"), k, a) away
                |= strcmp(sget(a, "person_id"), sup) == 0 && iso_ms(sget(a, "starts_at")) <= at
                && at < iso_ms(sget(a, "ends_at"));
            assert_true(away); /* the plant is about the absent supervisor */
            want = sget(find_by_id(regions, sget(t, "region_id")), "director_id");
        } else if (strcmp(kind, "deal.demo_refused_twice") == 0) {
            want = sget(find_by_id(people, deal_rep[num_id(sid, 'D')]), "mentor_id");
        } else if (strcmp(kind, "deal.risk_raised") == 0) {
            if (strcmp(sget(v, "assignee_role"), "after_sales") == 0)
                want = sget(find_by_id(json_object_get(org, "named_teams"), "after_sales"), "lead_id");
            else
                want = deal_rep[num_id(sid, 'D')];
        } else if (strcmp(kind, "customer.stale") == 0) {
            want = sget(
                json_array_get(json_object_get(crm, "customers"), (size_t)num_id(sid, 'C')), "owner_rep_id");
        } else if (strcmp(kind, "deal.competitor_surge") == 0) {
            want = sget(find_by_id(json_object_get(org, "named_teams"), "competition_response"), "lead_id");
        } else if (strcmp(kind, "rep.key_action_missing") == 0) {
            want = sid;
        }
        assert_non_null(want);
        assert_string_equal(want, aid);
        int64_t at = iso_ms(sget(v, "first_detectable_at"));
        assert_true(at > start && at < end);
    }
    (void)plant_rep;
    (void)npr;
    (void)plant_deal_cust;
    (void)idx_of;
    free(rows), free(last), free(upd), free(open), free(deal_rep);
    json_decref(org), json_decref(crm), json_decref(truth);
}

/* the planted funnel collapses only in the K12 team; other teams keep at
 * least 60% of their baseline in every 30-day window of the quarter */
static void test_funnel_stable(void **state)
{
    (void)state;
    sim_opts o = {.seed = 42, .customers = 2000, .weeks = 13};
    sim_date_parse("2026-03-02", &o.start_ms);
    sim_world *w = NULL;
    assert_int_equal(sim_world_new(&o, &w), SP_OK);
    assert_int_equal(sim_build_org(w), SP_OK);
    assert_int_equal(sim_build_customers(w), SP_OK);
    assert_int_equal(sim_plant_reserve(w), SP_OK);
    assert_int_equal(sim_build_deals(w), SP_OK);
    double worst = 9, k12 = 9;
    for (int team = 0; team < 6; team++)
        for (int from = ST_LEAD; from <= ST_NEG; from++)
            for (int64_t t = w->start + 7 * SIM_DAY; t <= w->end; t += SIM_DAY) {
                int e, c, be, bc;
                int to = from == ST_NEG ? ST_WON : from + 1;
                sim_funnel(w, team, from, to, t, 30 * SIM_DAY, &e, &c);
                sim_funnel(w, team, from, to, t, 180 * SIM_DAY, &be, &bc);
                if (e < 20 || bc == 0) continue;
                double ratio = ((double)c / e) / ((double)bc / be);
                if (team == w->k12_team && (from == ST_DEMO || from == ST_PROP)) {
                    if (ratio < k12) k12 = ratio;
                } else if (ratio < worst) {
                    worst = ratio;
                }
            }
    assert_true(worst >= 0.6);
    assert_true(k12 > 0);
    assert_true(k12 < 0.5);
    sim_world_destroy(w);
}

/* replay's windows: at most --window lines, less than --span of event time */
static void test_replay_windows(void **state)
{
    (void)state;
    const int64_t h = 3600000;
    int64_t at[] = {100 * h, 101 * h, 102 * h, 107 * h, 108 * h, 108 * h, 120 * h, 0, 130 * h};
    size_t n = sizeof at / sizeof at[0];
    assert_int_equal(spctl_replay_window_end(at, n, 0, 100, 6 * h), 3); /* 107 h is 6 h or more after 100 h */
    assert_int_equal(spctl_replay_window_end(at, n, 3, 100, 6 * h), 6);
    assert_int_equal(spctl_replay_window_end(at, n, 6, 100, 6 * h), 8); /* unknown time: no end */
    assert_int_equal(spctl_replay_window_end(at, n, 8, 100, 6 * h), 9); /* the last line */
    assert_int_equal(spctl_replay_window_end(at, n, 0, 2, 6 * h), 2); /* the line limit */
    assert_int_equal(spctl_replay_window_end(at, n, 0, 100, 0), 9); /* no span limit */
    assert_int_equal(spctl_replay_window_end(at, n, 0, 100, 1), 1); /* always one line */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_replay_windows),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_funnel_stable),
        cmocka_unit_test(test_full_quarter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
