/* sp-taskpool's HTTP API against the real PostgreSQL and Kafka: a small org
 * (2 regions, 2 teams, reps, supervisors, a director, an admin) seeded with
 * SQL, tokens issued through spctl's token code, the server in-process on
 * port 0, and the matrix of roles x endpoints x own/other team; actions
 * publish TaskEvents; the change feed returns a task changed during the
 * wait and nothing when nothing changed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "bus.h"
#include "civil.h"
#include "clock.h"
#include "db.h"
#include "err.h"
#include "http.h"
#include "http_client.h"
#include "itest.h"
#include "salespulse/v1/task.pb-c.h"
#include "spctl/spctl.h"
#include "taskpool/api.h"
#include "taskpool/api_ws.h"

#include <nng/nng.h>

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { REP1, REP1B, REP2, SUP1, SUP2, DIR1, ADMIN, NPEOPLE };
static const char *const who_name[NPEOPLE] = {"rep1", "rep1b", "rep2", "sup1", "sup2", "dir1", "admin"};

static struct {
    char P[32]; /* id prefix: reruns on one database never collide */
    char id[NPEOPLE][64];
    char tok[NPEOPLE][48];
    char events_topic[96];
    sp_db *db;
    bus_producer *producer;
    api_pool *pool;
    taskpool_api *api;
    sp_http_server *srv;
    sp_http_client *cli;
    sp_clock *clock; /* manual: dates the today list */
} E;

/* The today list's "now": Wednesday 2026-03-04 10:00 UTC, week 0 of the seeded goal. */
#define TODAY_MS 1772618400000LL

static int64_t wall(void *arg)
{
    (void)arg;
    return sp_wall_ms();
}

static void sqlf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sqlf(const char *fmt, ...)
{
    char sql[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    if (itest_sql(sql) != 0) fail_msg("SQL failed: %s", sql);
}

static long long sqlf_int(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static long long sqlf_int(const char *fmt, ...)
{
    char sql[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    return itest_sql_int(sql);
}

/* A task assigned to person in team/region, created minutes_ago. */
static void task_seed(
    const char *k, int who, const char *team, const char *region, int level, int minutes_ago)
{
    sqlf(
        "INSERT INTO tasks (key, kind, level, status, assignee_id, assignee_role, team_id, region_id, sla_s, "
        "created_at, assigned_at, due_at, updated_at, seq, subject_type, subject_id, deal_id) VALUES "
        "('%s:%s', 'deal.stalled', %d, 'open', '%s', 'rep', '%s-%s', '%s-%s', 3600, now() - interval '%d "
        "min', "
        "now() - interval '%d min', now() + interval '1 hour', now(), 0, 'deal', '%s:%s', '%s-D1')",
        E.P, k, level, E.id[who], E.P, team, E.P, region, minutes_ago, minutes_ago, E.P, k, E.P);
}

static int setup(void **state)
{
    (void)state;
    char pfx[32];
    snprintf(pfx, sizeof pfx, "ta%d", (int)getpid());
    memcpy(E.P, pfx, sizeof pfx);
    for (int i = 0; i < NPEOPLE; i++)
        snprintf(E.id[i], sizeof E.id[i], "%s-%s", pfx, who_name[i]);
    const char *P = E.P;
    sqlf("INSERT INTO regions (id, name) VALUES ('%s-R1', 'North'), ('%s-R2', 'South');"
         "INSERT INTO teams (id, name, region_id) VALUES ('%s-T1', 'T1', '%s-R1'), ('%s-T2', 'T2', '%s-R2');"
         "INSERT INTO people (id, name, role, team_id, region_id) VALUES "
         "('%s-rep1', 'Rep One', 'rep', '%s-T1', NULL), ('%s-rep1b', 'Rep OneB', 'rep', '%s-T1', NULL), "
         "('%s-rep2', 'Rep Two', 'rep', '%s-T2', NULL), ('%s-sup1', 'Sup One', 'supervisor', '%s-T1', NULL), "
         "('%s-sup2', 'Sup Two', 'supervisor', '%s-T2', NULL), ('%s-dir1', 'Dir One', 'director', NULL, "
         "'%s-R1'), "
         "('%s-admin', 'Admin', 'admin', NULL, NULL);"
         "",
        P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P);
    sqlf("UPDATE teams SET supervisor_id = '%s-sup1' WHERE id = '%s-T1'; UPDATE teams SET supervisor_id = "
         "'%s-sup2' "
         "WHERE id = '%s-T2'; UPDATE regions SET director_id = '%s-dir1' WHERE id = '%s-R1'",
        P, P, P, P, P, P);
    /* a customer of rep1 with an open deal, a card, facts and contacts */
    sqlf("INSERT INTO customers (id, name, owner_rep_id, created_at) VALUES ('%s-C1', 'Acme School', "
         "'%s-rep1', now());"
         "INSERT INTO deals (id, customer_id, name, stage, stage_since, amount, owner_rep_id, created_at, "
         "last_status_update_at, next_step) VALUES ('%s-D1', '%s-C1', 'Exam system', 'demo', now() - "
         "interval '20 days', "
         "500000, '%s-rep1', now() - interval '40 days', now(), 'send quote');"
         "INSERT INTO deal_stage_history VALUES ('%s-D1', 'e1', 'lead', 'qualified', now() - interval '30 "
         "days'), "
         "('%s-D1', 'e2', 'qualified', 'demo', now() - interval '20 days');"
         "INSERT INTO customer_cards (customer_id, core_need, core_need_level, concern, concern_tag, "
         "concern_severity, "
         "updated_at) VALUES ('%s-C1', 'faster grading', 2, 'price', 'budget', 2, now());"
         "INSERT INTO facts (customer_id, deal_id, field, value, level, status, source_event_id, "
         "source_channel, "
         "occurred_at) VALUES ('%s-C1', '%s-D1', 'product', '\"exam\"', 1, 'current', '%s-ev1', 'email', "
         "now()), "
         "('%s-C1', '%s-D1', 'budget', '{\"amount\":500000}', 2, 'current', '%s-ev2', 'visit', now()), "
         "('%s-C1', '%s-D1', 'budget', '{\"amount\":300000}', 1, 'conflict', '%s-ev3', 'wecom', now());"
         "INSERT INTO contacts (id, customer_id, name, role, created_at, last_contact_at) VALUES "
         "('%s-K1', '%s-C1', 'Principal Wang', 'decision_maker', now(), now()), "
         "('%s-K2', '%s-C1', 'IT Li', 'technical', now(), now() - interval '3 days');"
         "INSERT INTO interactions (event_id, occurred_at, source, channel, direction, customer_id, deal_id, "
         "rep_id, "
         "activity_kind, quality_passed) VALUES ('%s-i1', now() - interval '1 day', 'crm', 'visit', "
         "'outbound', "
         "'%s-C1', '%s-D1', '%s-rep1', 'visit', true), ('%s-i2', now() - interval '2 day', 'crm', 'visit', "
         "'outbound', '%s-C1', '%s-D1', '%s-rep1', 'proposal', false)",
        P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P);
    task_seed("k1", REP1, "T1", "R1", 3, 30);
    task_seed("k2", REP1, "T1", "R1", 1, 20);
    task_seed("k3", REP2, "T2", "R2", 2, 10);
    task_seed("k4", REP1B, "T1", "R1", 2, 10);
    for (int i = 0; i < 5; i++) {
        char k[16];
        snprintf(k, sizeof k, "p%d", i);
        task_seed(k, REP1, "T1", "R1", 2, 100 + i);
    }

    assert_int_equal(sp_db_open(itest_env("SP_PG_URL"), &E.db), SP_OK);
    char hash[65];
    for (int i = 0; i < NPEOPLE; i++)
        assert_int_equal(spctl_token_issue(E.db, E.id[i], "itest", 3600, E.tok[i], hash), SP_OK);

    char *topic = itest_unique("itest-taskevents");
    snprintf(E.events_topic, sizeof E.events_topic, "%s", topic);
    free(topic);
    const char *topics[] = {E.events_topic, NULL};
    assert_int_equal(itest_topics(topics, 1), 0);
    char err[256];
    assert_int_equal(
        bus_producer_new(itest_env("SP_KAFKA_BOOTSTRAP"), "itest-taskpool-api", &E.producer, err, sizeof err),
        SP_OK);
    assert_int_equal(api_pool_new(itest_env("SP_PG_URL"), 3, &E.pool), SP_OK);
    assert_int_equal(sp_clock_new(SP_CLOCK_MANUAL, 0, &E.clock), SP_OK);
    sp_clock_set_ms(E.clock, TODAY_MS);
    char templates[1024];
    snprintf(templates, sizeof templates, "%s/deploy/tenants/default/goal_templates", itest_env("SP_ROOT"));
    char playbooks[1024], catalog[1024];
    snprintf(playbooks, sizeof playbooks, "%s/deploy/tenants/demo/playbooks.json", itest_env("SP_ROOT"));
    snprintf(catalog, sizeof catalog, "%s/deploy/tenants/demo/catalog.json", itest_env("SP_ROOT"));
    taskpool_api_cfg cfg = {.pool = E.pool,
        .producer = E.producer,
        .events_topic = E.events_topic,
        .now_ms = wall,
        .clock = E.clock,
        .goal_templates = templates,
        .playbooks = playbooks,
        .catalog = catalog,
        .poll_ms = 100};
    assert_int_equal(taskpool_api_new(&cfg, &E.api), SP_OK);
    sp_http_opts o = {.auth = taskpool_api_auth, .auth_arg = E.api, .workers = 8};
    assert_int_equal(sp_http_server_new("http://127.0.0.1:0", &o, &E.srv), SP_OK);
    assert_int_equal(taskpool_api_register(E.api, E.srv), SP_OK);
    assert_int_equal(sp_http_server_start(E.srv), SP_OK);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", sp_http_server_port(E.srv));
    assert_int_equal(sp_http_client_new(url, 20000, &E.cli), SP_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sp_http_client_destroy(E.cli);
    sp_http_server_destroy(E.srv);
    taskpool_api_destroy(E.api);
    api_pool_destroy(E.pool);
    bus_producer_destroy(E.producer);
    sp_db_destroy(E.db);
    sp_clock_destroy(E.clock);
    return 0;
}

/* One request as person who (-1: no token); returns the status, *out the
 * parsed body (caller decrefs) when out is not NULL. */
static int call_c(
    sp_http_client *cli, int who, const char *method, const char *target, const char *body, json_t **out)
{
    char auth[80];
    sp_http_header h[2];
    size_t nh = 0;
    if (who >= 0) {
        snprintf(auth, sizeof auth, "Bearer %s", E.tok[who]);
        h[nh++] = (sp_http_header) {"Authorization", auth};
    }
    if (body) h[nh++] = (sp_http_header) {"Content-Type", "application/json"};
    sp_http_reply r = {0};
    assert_int_equal(sp_http_client_do(cli, method, target, h, nh, body, body ? strlen(body) : 0, &r), SP_OK);
    int st = r.status;
    if (out) {
        *out = json_loads(r.body, 0, NULL);
        if (*out == NULL) fail_msg("%s %s -> %d: not JSON: %s", method, target, st, r.body);
    }
    sp_http_reply_clear(&r);
    return st;
}

static int call(int who, const char *method, const char *target, const char *body, json_t **out)
{
    return call_c(E.cli, who, method, target, body, out);
}

static int getf(int who, json_t **out, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int getf(int who, json_t **out, const char *fmt, ...)
{
    char t[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t, sizeof t, fmt, ap);
    va_end(ap);
    return call(who, "GET", t, NULL, out);
}

static int postf(int who, const char *body, json_t **out, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int postf(int who, const char *body, json_t **out, const char *fmt, ...)
{
    char t[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t, sizeof t, fmt, ap);
    va_end(ap);
    return call(who, "POST", t, body, out);
}

static const char *err_field(const json_t *j)
{
    return json_string_value(json_object_get(json_object_get(j, "error"), "field"));
}

static void test_auth(void **state)
{
    (void)state;
    json_t *j = NULL;
    assert_int_equal(call(-1, "GET", "/v1/me/tasks", NULL, &j), 401);
    assert_non_null(json_object_get(j, "error"));
    json_decref(j);
    assert_int_equal(call(REP1, "GET", "/v1/me/tasks", NULL, NULL), 200);
    /* expired */
    char tok[48], hash[65];
    assert_int_equal(spctl_token_issue(E.db, E.id[REP1B], "short", 60, tok, hash), SP_OK);
    char saved[48];
    memcpy(saved, E.tok[REP1B], sizeof saved);
    memcpy(E.tok[REP1B], tok, sizeof tok);
    assert_int_equal(call(REP1B, "GET", "/v1/me/tasks", NULL, NULL), 200);
    sqlf("UPDATE api_tokens SET expires_at = now() - interval '1 s' WHERE token_sha256 = '%s'", hash);
    assert_int_equal(call(REP1B, "GET", "/v1/me/tasks", NULL, NULL), 401);
    /* revoked by a prefix of its hash */
    assert_int_equal(spctl_token_issue(E.db, E.id[REP1B], "rev", 0, tok, hash), SP_OK);
    memcpy(E.tok[REP1B], tok, sizeof tok);
    assert_int_equal(call(REP1B, "GET", "/v1/me/tasks", NULL, NULL), 200);
    char prefix[13];
    snprintf(prefix, sizeof prefix, "%.12s", hash);
    int n = 0;
    assert_int_equal(spctl_token_revoke(E.db, NULL, prefix, &n), SP_OK);
    assert_int_equal(n, 1);
    assert_int_equal(call(REP1B, "GET", "/v1/me/tasks", NULL, NULL), 401);
    memcpy(E.tok[REP1B], saved, sizeof saved);
    assert_int_equal(call(REP1B, "GET", "/v1/me/tasks", NULL, NULL), 200);
    /* a supervisor known only as teams.supervisor_id still sees the team's tasks */
    sqlf("INSERT INTO people (id, name, role) VALUES ('%s-sup1x', 'Sup X', 'supervisor'); "
         "UPDATE teams SET supervisor_id = '%s-sup1x' WHERE id = '%s-T1'",
        E.P, E.P, E.P);
    char idx[64];
    snprintf(idx, sizeof idx, "%s-sup1x", E.P);
    assert_int_equal(spctl_token_issue(E.db, idx, "", 0, tok, hash), SP_OK);
    memcpy(E.tok[SUP1], tok, sizeof tok); /* borrow sup1's slot */
    json_t *t = NULL;
    assert_int_equal(getf(SUP1, &t, "/v1/tasks/%s:k4", E.P), 200);
    json_decref(t);
    assert_int_equal(getf(SUP1, &t, "/v1/tasks/%s:k3", E.P), 404);
    json_decref(t);
    sqlf("UPDATE teams SET supervisor_id = '%s-sup1' WHERE id = '%s-T1'", E.P, E.P);
    assert_int_equal(spctl_token_issue(E.db, E.id[SUP1], "itest", 3600, E.tok[SUP1], hash), SP_OK);
    /* an unknown person gets no token */
    assert_int_equal(spctl_token_issue(E.db, "nobody-at-all", "", 0, tok, hash), SP_ENOTFOUND);
    /* ids of 64 characters (the longest the org admin takes) stay whole in
     * the principal: a director's region was cut at 31, so out of scope */
    char rlong[65], dlong[65];
    memset(rlong, 'r', 64), memset(dlong, 'd', 64);
    rlong[64] = dlong[64] = '\0';
    memcpy(rlong, E.P, strlen(E.P)), memcpy(dlong, E.P, strlen(E.P));
    sqlf("INSERT INTO regions (id, name) VALUES ('%s', 'Long'); INSERT INTO people (id, name, role, "
         "region_id) "
         "VALUES ('%s', 'Dir Long', 'director', '%s')",
        rlong, dlong, rlong);
    assert_int_equal(spctl_token_issue(E.db, dlong, "", 0, tok, hash), SP_OK);
    memcpy(E.tok[DIR1], tok, sizeof tok); /* borrow dir1's slot */
    assert_int_equal(getf(DIR1, &t, "/v1/funnel?region=%s", rlong), 200);
    json_decref(t);
    assert_int_equal(getf(DIR1, &t, "/v1/funnel"), 200);
    json_decref(t);
    assert_int_equal(spctl_token_issue(E.db, E.id[DIR1], "itest", 3600, E.tok[DIR1], hash), SP_OK);
}

static void test_my_tasks_pages(void **state)
{
    (void)state;
    json_t *j = NULL;
    char keys[16][96];
    int n = 0;
    char cursor[600] = "";
    int inserted = 0;
    for (int page = 0; page < 10; page++) {
        assert_int_equal(
            getf(REP1, &j, "/v1/me/tasks?limit=3%s%s", cursor[0] ? "&cursor=" : "", cursor), 200);
        json_t *tasks = json_object_get(j, "tasks");
        size_t i;
        json_t *t;
        json_array_foreach(tasks, i, t)
        {
            const char *k = json_string_value(json_object_get(t, "key"));
            for (int m = 0; m < n; m++)
                assert_string_not_equal(keys[m], k); /* no repeats */
            assert_true(n < 16);
            snprintf(keys[n++], sizeof keys[0], "%s", k);
            assert_string_equal(json_string_value(json_object_get(t, "assignee_id")), E.id[REP1]);
        }
        if (page == 0) {
            assert_int_equal(json_array_size(tasks), 3);
            /* L3 first */
            assert_int_equal(json_integer_value(json_object_get(json_array_get(tasks, 0), "level")), 3);
        }
        json_t *next = json_object_get(j, "next_cursor");
        if (!json_is_string(next)) {
            json_decref(j);
            break;
        }
        snprintf(cursor, sizeof cursor, "%s", json_string_value(next));
        json_decref(j);
        if (!inserted) { /* a new L3 task between pages shifts nothing */
            task_seed("new", REP1, "T1", "R1", 3, 0);
            inserted = 1;
        }
    }
    assert_int_equal(n, 7); /* k1, k2, p0..p4: the one inserted later sorts before the cursor */
    assert_int_equal(getf(REP1, &j, "/v1/me/tasks?level=1"), 200);
    assert_int_equal(json_array_size(json_object_get(j, "tasks")), 1);
    json_decref(j);
    assert_int_equal(getf(REP1, &j, "/v1/me/tasks?status=bogus"), 400);
    assert_string_equal(err_field(j), "status");
    json_decref(j);
    assert_int_equal(getf(REP1, &j, "/v1/me/tasks?cursor=Zm9v"), 400);
    assert_string_equal(err_field(j), "cursor");
    json_decref(j);
    sqlf("UPDATE tasks SET status = 'dismissed' WHERE key = '%s:new'", E.P);
}

/* Read access to one task and to team lists, for every role. */
static void test_read_matrix(void **state)
{
    (void)state;
    static const struct {
        const char *task;
        int st[NPEOPLE]; /* rep1, rep1b, rep2, sup1, sup2, dir1, admin */
    } tasks[] = {
        {"k1", {200, 404, 404, 200, 404, 200, 200}},
        {"k3", {404, 404, 200, 404, 200, 404, 200}},
        {"k4", {404, 200, 404, 200, 404, 200, 200}},
        {"nonexistent", {404, 404, 404, 404, 404, 404, 404}},
    };
    for (size_t t = 0; t < sizeof tasks / sizeof tasks[0]; t++)
        for (int w = 0; w < NPEOPLE; w++) {
            json_t *j = NULL;
            int st = getf(w, &j, "/v1/tasks/%s:%s", E.P, tasks[t].task);
            if (st != tasks[t].st[w])
                fail_msg("GET task %s as %s: %d, want %d", tasks[t].task, who_name[w], st, tasks[t].st[w]);
            if (st == 200) {
                assert_non_null(json_object_get(j, "history"));
                assert_non_null(json_object_get(j, "evidence"));
                assert_non_null(json_object_get(j, "playbooks"));
                assert_non_null(json_object_get(j, "route_reason_en"));
            }
            json_decref(j);
        }
    static const struct {
        const char *team;
        int st[NPEOPLE];
    } teams[] = {
        {"T1", {403, 403, 403, 200, 404, 200, 200}},
        {"T2", {403, 403, 403, 404, 200, 404, 200}},
        {"T9", {403, 403, 403, 404, 404, 404, 404}},
    };
    for (size_t t = 0; t < sizeof teams / sizeof teams[0]; t++)
        for (int w = 0; w < NPEOPLE; w++) {
            static const char *const view[] = {"tasks", "board", "rollups"};
            for (int v = 0; v < 3; v++) {
                json_t *j = NULL;
                int st = getf(w, &j, "/v1/teams/%s-%s/%s", E.P, teams[t].team, view[v]);
                if (st != teams[t].st[w])
                    fail_msg("GET team %s %s as %s: %d, want %d", teams[t].team, view[v], who_name[w], st,
                        teams[t].st[w]);
                json_decref(j);
            }
        }
    json_t *j = NULL;
    assert_int_equal(getf(SUP1, &j, "/v1/teams/%s-T1/tasks?status=all&limit=200", E.P), 200);
    size_t i;
    json_t *t;
    char t1[64];
    snprintf(t1, sizeof t1, "%s-T1", E.P);
    json_array_foreach(json_object_get(j, "tasks"), i, t)
        assert_string_equal(json_string_value(json_object_get(t, "team_id")), t1);
    assert_true(json_array_size(json_object_get(j, "tasks")) >= 8);
    json_decref(j);
    /* sp-score's roll-ups of the team and its reps, not another team's */
    sqlf("INSERT INTO score_rollups VALUES ('team', '%s-T1', 'conversion:demo_to_proposal', '30d', 5, 1, 4, "
         "0.25), "
         "('rep', '%s', 'first_visit_timeout_share', '2026-W10', 5, 0, 0, NULL), "
         "('team', '%s-T2', 'conversion:demo_to_proposal', '30d', 5, 3, 4, 0.75)",
        E.P, E.id[REP1], E.P);
    assert_int_equal(getf(SUP1, &j, "/v1/teams/%s-T1/rollups", E.P), 200);
    json_t *ru = json_object_get(j, "rollups");
    assert_int_equal(json_array_size(ru), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ru, 0), "subject_type")), "team");
    assert_float_equal(json_real_value(json_object_get(json_array_get(ru, 0), "rate")), 0.25, 1e-9);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(ru, 0), "den")), 4);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ru, 1), "subject_id")), E.id[REP1]);
    assert_true(json_is_null(json_object_get(json_array_get(ru, 1), "rate")));
    json_decref(j);
    /* the board: rep1 acted on 1 of 1 open deals, 1 of 2 activities passed */
    assert_int_equal(getf(SUP1, &j, "/v1/teams/%s-T1/board", E.P), 200);
    json_t *reps = json_object_get(j, "reps"), *r1 = NULL;
    json_array_foreach(
        reps, i, t) if (strcmp(json_string_value(json_object_get(t, "rep_id")), E.id[REP1]) == 0) r1
        = t;
    assert_non_null(r1);
    assert_float_equal(json_real_value(json_object_get(r1, "action_completion_rate")), 1.0, 1e-9);
    assert_float_equal(json_real_value(json_object_get(r1, "quality_pass_rate")), 0.5, 1e-9);
    json_t *demo = json_array_get(json_object_get(json_object_get(j, "bottleneck_heatmap"), "stages"), 2);
    assert_string_equal(json_string_value(json_object_get(demo, "stage")), "demo");
    assert_int_equal(
        json_integer_value(json_array_get(json_object_get(demo, "counts"), 2)), 1); /* 15-30 days */
    json_decref(j);
}

static void test_views(void **state)
{
    (void)state;
    json_t *j = NULL;
    /* customer card: the owner and their managers; nobody else */
    int want[NPEOPLE] = {200, 404, 404, 200, 404, 200, 200};
    for (int w = 0; w < NPEOPLE; w++) {
        int st = getf(w, &j, "/v1/customers/%s-C1/card", E.P);
        if (st != want[w]) fail_msg("card as %s: %d", who_name[w], st);
        if (w == REP1) {
            json_t *tri = json_object_get(j, "golden_triangle");
            assert_string_equal(json_string_value(json_object_get(tri, "stage")), "demo");
            assert_string_equal(json_string_value(json_object_get(json_object_get(tri, "core_need"), "text")),
                "faster grading");
            assert_string_equal(
                json_string_value(json_object_get(json_object_get(tri, "concern"), "text")), "price");
            assert_int_equal(json_array_size(json_object_get(j, "products")), 1);
            assert_int_equal(json_integer_value(json_object_get(
                                 json_object_get(json_object_get(j, "budget"), "value"), "amount")),
                500000);
            assert_int_equal(json_array_size(json_object_get(j, "conflicts")), 1);
            json_t *chain = json_object_get(j, "decision_chain");
            assert_int_equal(json_array_size(json_object_get(chain, "decision_maker")), 1);
            assert_int_equal(json_array_size(json_object_get(chain, "technical")), 1);
        }
        json_decref(j);
    }
    /* deal health: 404 JSON whether or not sp-score's table exists yet */
    assert_int_equal(getf(REP1, &j, "/v1/deals/%s-D1/health", E.P), 404);
    assert_non_null(json_object_get(j, "error"));
    json_decref(j);
    assert_int_equal(getf(REP2, &j, "/v1/deals/%s-D1/health", E.P), 404);
    json_decref(j);
    /* with sp-score's table (0005, or this stand-in when it is not merged yet) */
    if (itest_sql("CREATE TABLE IF NOT EXISTS deal_health (deal_id text PRIMARY KEY, score real NOT NULL, "
                  "dims jsonb NOT NULL DEFAULT '{}', updated_at timestamptz NOT NULL)")
            == 0
        && sqlf_int(
               "WITH i AS (INSERT INTO deal_health (deal_id, score, dims, updated_at) VALUES ('%s-D1', 72.5, "
               "'{\"next_step\": 0.4}', now()) RETURNING 1) SELECT count(*) FROM i",
               E.P)
            == 1) {
        assert_int_equal(getf(REP1, &j, "/v1/deals/%s-D1/health", E.P), 200);
        assert_float_equal(json_number_value(json_object_get(j, "score")), 72.5, 1e-6);
        assert_float_equal(
            json_number_value(json_object_get(json_object_get(j, "dims"), "next_step")), 0.4, 1e-6);
        json_decref(j);
        assert_int_equal(getf(SUP2, &j, "/v1/deals/%s-D1/health", E.P), 404);
        json_decref(j);
        assert_int_equal(getf(DIR1, &j, "/v1/deals/%s-D1/health", E.P), 200);
        json_decref(j);
    }
    /* today */
    assert_int_equal(getf(REP1, &j, "/v1/me/today"), 200);
    assert_true(json_array_size(json_object_get(j, "tasks")) >= 2);
    json_t *pc = json_array_get(json_object_get(j, "priority_customers"), 0);
    assert_non_null(pc);
    assert_non_null(strstr(json_string_value(json_object_get(pc, "talking_point")), "price"));
    json_decref(j);
    /* funnel */
    assert_int_equal(getf(REP1, &j, "/v1/funnel"), 403);
    json_decref(j);
    assert_int_equal(getf(SUP1, &j, "/v1/funnel?region=%s-R2", E.P), 404);
    json_decref(j);
    /* a supervisor's own region (their team's) is not theirs either: own team only */
    assert_int_equal(getf(SUP1, &j, "/v1/funnel?region=%s-R1", E.P), 404);
    json_decref(j);
    assert_int_equal(getf(DIR1, &j, "/v1/funnel?region=%s-R1", E.P), 200);
    json_decref(j);
    assert_int_equal(getf(DIR1, &j, "/v1/funnel?team=%s-T2", E.P), 404);
    json_decref(j);
    assert_int_equal(getf(SUP1, &j, "/v1/funnel"), 200);
    assert_true(json_array_size(json_object_get(j, "months")) >= 1);
    json_decref(j);
    assert_int_equal(getf(DIR1, &j, "/v1/funnel?team=%s-T1&region=%s-R1", E.P, E.P), 400);
    json_decref(j);
}

/* The item of the today list's planned_actions for action, or NULL. */
static json_t *planned(json_t *today, const char *action)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(today, "planned_actions"), i, v)
    {
        if (strcmp(json_string_value(json_object_get(v, "action")), action) == 0) return v;
    }
    return NULL;
}

static long long num(json_t *item, const char *key)
{
    json_t *v = json_object_get(item, key);
    if (!json_is_integer(v)) fail_msg("%s: not an integer", key);
    return (long long)json_integer_value(v);
}

/* GET /v1/me/today: rep1's planned goal actions for Wednesday of week 1 of a
 * quarter goal: today's share of what the week still owes, done this week
 * and today (passed quality only), the quality standards from the template;
 * other weeks, other goals, other reps, failed activities and activities
 * after now do not count. */
static void test_today_goal_actions(void **state)
{
    (void)state;
    const char *P = E.P;
    sqlf("INSERT INTO goals (id, industry, kind, scope, target, starts_at, weeks) VALUES "
         "('%s-goal', 'education', 'new_a_class_customers', 'company', 100, '2026-03-02T00:00:00Z', 13), "
         "('%s-old', 'education', 'new_a_class_customers', 'company', 10, '2026-01-05T00:00:00Z', 4);"
         "INSERT INTO goal_reps VALUES ('%s-goal', '%s-rep1', '%s-T1', '%s-R1', 1), "
         "('%s-goal', '%s-rep2', '%s-T2', '%s-R2', 1), ('%s-old', '%s-rep1', '%s-T1', '%s-R1', 1);"
         "INSERT INTO goal_plans VALUES "
         "('%s-goal', '%s-rep1', '%s-T1', '%s-R1', 0, 'needs_diagnosis', 6), "
         "('%s-goal', '%s-rep1', '%s-T1', '%s-R1', 0, 'touch', 3), "
         "('%s-goal', '%s-rep1', '%s-T1', '%s-R1', 0, 'executive_visit', 1), "
         "('%s-goal', '%s-rep1', '%s-T1', '%s-R1', 0, 'proposal', 2), "
         "('%s-goal', '%s-rep1', '%s-T1', '%s-R1', 0, 'target', 2), "
         "('%s-goal', '%s-rep1', '%s-T1', '%s-R1', 1, 'needs_diagnosis', 9), "
         "('%s-goal', '%s-rep2', '%s-T2', '%s-R2', 0, 'demo', 4), "
         "('%s-old', '%s-rep1', '%s-T1', '%s-R1', 3, 'demo', 4)",
        P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P,
        P, P, P, P, P, P, P, P, P, P, P, P);
    /* needs diagnoses: 2 passed Mon/Tue, 1 failed (no decision maker), 1 passed today, 1 after now,
     * 1 last week; touches: 3 passed on Tuesday */
    sqlf(
        "INSERT INTO interactions (event_id, occurred_at, source, channel, direction, rep_id, activity_kind, "
        "quality_passed) VALUES "
        "('%s-g1', '2026-03-02T09:00:00Z', 'crm', 'visit', 'outbound', '%s-rep1', 'needs_diagnosis', true), "
        "('%s-g2', '2026-03-03T09:00:00Z', 'crm', 'visit', 'outbound', '%s-rep1', 'needs_diagnosis', true), "
        "('%s-g3', '2026-03-03T11:00:00Z', 'crm', 'visit', 'outbound', '%s-rep1', 'needs_diagnosis', false), "
        "('%s-g4', '2026-03-04T08:00:00Z', 'crm', 'visit', 'outbound', '%s-rep1', 'needs_diagnosis', true), "
        "('%s-g5', '2026-03-04T12:00:00Z', 'crm', 'visit', 'outbound', '%s-rep1', 'needs_diagnosis', true), "
        "('%s-g6', '2026-02-27T09:00:00Z', 'crm', 'visit', 'outbound', '%s-rep1', 'needs_diagnosis', true), "
        "('%s-g7', '2026-03-03T09:00:00Z', 'crm', 'call', 'outbound', '%s-rep1', 'touch', true), "
        "('%s-g8', '2026-03-03T10:00:00Z', 'crm', 'call', 'outbound', '%s-rep1', 'touch', true), "
        "('%s-g9', '2026-03-03T11:00:00Z', 'crm', 'call', 'outbound', '%s-rep1', 'touch', true)",
        P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P);
    json_t *j = NULL;
    assert_int_equal(getf(REP1, &j, "/v1/me/today"), 200);
    assert_string_equal(json_string_value(json_object_get(j, "date")), "2026-03-04");
    assert_true(json_is_true(json_object_get(j, "working_day")));
    assert_int_equal(json_array_size(json_object_get(j, "planned_actions")), 4); /* not the target, not old */
    json_t *nd = planned(j, "needs_diagnosis");
    assert_non_null(nd);
    char goal[64];
    snprintf(goal, sizeof goal, "%s-goal", P);
    assert_string_equal(json_string_value(json_object_get(nd, "goal_id")), goal);
    assert_int_equal(num(nd, "week"), 1);
    assert_int_equal(num(nd, "working_days_left"), 3); /* Wed, Thu, Fri */
    assert_int_equal(num(nd, "planned_this_week"), 6);
    assert_int_equal(num(nd, "done_this_week"), 3);
    assert_int_equal(num(nd, "done_today"), 1);
    assert_int_equal(num(nd, "failed_this_week"), 1);
    assert_int_equal(num(nd, "remaining_this_week"), 3);
    assert_int_equal(num(nd, "count"), 2); /* 4 owed this morning over 3 days */
    assert_string_equal(json_string_value(json_object_get(nd, "quality_standard")),
        "must cover procurement, technical, decision_maker; an agreed next step recorded");
    assert_string_equal(json_string_value(json_object_get(nd, "quality_standard_zh")),
        "须覆盖采购、技术、决策人;须记录约定的下一步");
    assert_non_null(json_string_value(json_object_get(nd, "description")));
    json_t *touch = planned(j, "touch");
    assert_non_null(touch);
    assert_int_equal(num(touch, "count"), 0);
    assert_int_equal(num(touch, "remaining_this_week"), 0);
    json_t *ev = planned(j, "executive_visit");
    assert_non_null(ev);
    assert_int_equal(num(ev, "count"), 1); /* 1 owed: at least 1 */
    assert_string_equal(json_string_value(json_object_get(ev, "quality_standard")),
        "must cover decision_maker; an agreed next step recorded");
    assert_int_equal(num(planned(j, "proposal"), "count"), 1);
    assert_string_equal(json_string_value(json_object_get(planned(j, "proposal"), "quality_standard")),
        "must carry customer-specific data");
    assert_null(planned(j, "demo")); /* rep2's */
    json_decref(j);
    /* another rep of the goal sees only their own; a rep outside it sees none */
    assert_int_equal(getf(REP2, &j, "/v1/me/today"), 200);
    assert_int_equal(json_array_size(json_object_get(j, "planned_actions")), 1);
    assert_int_equal(num(planned(j, "demo"), "count"), 2);
    json_decref(j);
    assert_int_equal(getf(REP1B, &j, "/v1/me/today"), 200);
    assert_int_equal(json_array_size(json_object_get(j, "planned_actions")), 0);
    json_decref(j);
    /* Saturday of the same week: a day off, nothing asked, the week's remainder still shown */
    sp_clock_set_ms(E.clock, TODAY_MS + 3 * 86400000LL);
    assert_int_equal(getf(REP1, &j, "/v1/me/today"), 200);
    assert_true(json_is_false(json_object_get(j, "working_day")));
    assert_int_equal(num(planned(j, "needs_diagnosis"), "count"), 0);
    assert_int_equal(num(planned(j, "needs_diagnosis"), "remaining_this_week"), 2);
    json_decref(j);
    /* Monday of week 2: the new week's plan */
    sp_clock_set_ms(E.clock, TODAY_MS + 5 * 86400000LL);
    assert_int_equal(getf(REP1, &j, "/v1/me/today"), 200);
    assert_int_equal(json_array_size(json_object_get(j, "planned_actions")), 1);
    assert_int_equal(num(planned(j, "needs_diagnosis"), "week"), 2);
    assert_int_equal(num(planned(j, "needs_diagnosis"), "count"), 2); /* 9 over 5 days */
    json_decref(j);
    sp_clock_set_ms(E.clock, TODAY_MS);
}

static void test_admin(void **state)
{
    (void)state;
    json_t *j = NULL;
    for (int w = 0; w < NPEOPLE; w++) {
        int st = call(w, "GET", "/v1/admin/people", NULL, &j);
        assert_int_equal(st, w == ADMIN ? 200 : 403);
        json_decref(j);
    }
    char body[512];
    snprintf(body, sizeof body, "{\"id\":\"%s-T3\",\"name\":\"T3\"}", E.P);
    assert_int_equal(call(ADMIN, "POST", "/v1/admin/teams", body, &j), 422);
    assert_string_equal(err_field(j), "region_id");
    json_decref(j);
    snprintf(body, sizeof body, "{\"id\":\"%s-T3\",\"name\":\"T3\",\"region_id\":\"nowhere\"}", E.P);
    assert_int_equal(call(ADMIN, "POST", "/v1/admin/teams", body, &j), 422);
    assert_string_equal(err_field(j), "region_id");
    json_decref(j);
    snprintf(body, sizeof body, "{\"id\":\"%s-T3\",\"name\":\"T3\",\"region_id\":\"%s-R2\"}", E.P, E.P);
    assert_int_equal(call(SUP1, "POST", "/v1/admin/teams", body, &j), 403);
    json_decref(j);
    assert_int_equal(call(ADMIN, "POST", "/v1/admin/teams", body, &j), 200);
    json_decref(j);
    assert_int_equal(sqlf_int("SELECT count(*) FROM teams WHERE id = '%s-T3'", E.P), 1);
    snprintf(body, sizeof body,
        "{\"person_id\":\"%s-rep1\",\"starts_at\":\"2030-01-02T00:00Z\",\"ends_at\":\"2030-01-01T00:00Z\"}",
        E.P);
    assert_int_equal(call(ADMIN, "POST", "/v1/admin/absences", body, &j), 422);
    assert_string_equal(err_field(j), "ends_at");
    json_decref(j);
    assert_int_equal(call(ADMIN, "POST", "/v1/admin/absences", "{not json", &j), 400);
    json_decref(j);
    /* an absence in year 0 (PostgreSQL has none: it was a 500) */
    snprintf(body, sizeof body,
        "{\"person_id\":\"%s-rep1\",\"starts_at\":\"0000-01-01T00:00Z\",\"ends_at\":\"2030-01-01T00:00Z\"}",
        E.P);
    assert_int_equal(call(ADMIN, "POST", "/v1/admin/absences", body, &j), 422);
    assert_string_equal(err_field(j), "starts_at");
    json_decref(j);
    /* a person filter too long to hold is refused, not dropped (that listed every absence) */
    char longq[200];
    snprintf(longq, sizeof longq, "/v1/admin/absences?person=%0100d", 7);
    assert_int_equal(call(ADMIN, "GET", longq, NULL, &j), 400);
    assert_string_equal(err_field(j), "person");
    json_decref(j);
    /* bytes that are not UTF-8 in a path or query: 400 naming which (they were 500s) */
    assert_int_equal(call(REP1, "GET", "/v1/tasks/%FF", NULL, &j), 400);
    assert_string_equal(err_field(j), "path");
    json_decref(j);
    assert_int_equal(call(REP1, "GET", "/v1/me/tasks?kind=%C3", NULL, &j), 400);
    assert_string_equal(err_field(j), "query");
    json_decref(j);
    assert_int_equal(call(ADMIN, "GET", "/v1/admin/regions", NULL, &j), 200);
    assert_true(json_array_size(json_object_get(j, "regions")) >= 2);
    json_decref(j);
    /* one item: read, change (PATCH), refuse a rep as supervisor, remove */
    char target[160];
    snprintf(target, sizeof target, "/v1/admin/teams/%s-T3", E.P);
    assert_int_equal(call(ADMIN, "GET", target, NULL, &j), 200);
    assert_string_equal(json_string_value(json_object_get(j, "name")), "T3");
    json_decref(j);
    assert_int_equal(call(SUP1, "PATCH", target, "{\"name\":\"x\"}", &j), 403);
    json_decref(j);
    snprintf(body, sizeof body, "{\"supervisor_id\":\"%s-rep2\"}", E.P);
    assert_int_equal(call(ADMIN, "PATCH", target, body, &j), 422);
    assert_string_equal(err_field(j), "supervisor_id");
    json_decref(j);
    snprintf(body, sizeof body, "{\"name\":\"Team Three\",\"supervisor_id\":\"%s-sup2\"}", E.P);
    assert_int_equal(call(ADMIN, "PATCH", target, body, &j), 200);
    json_decref(j);
    assert_int_equal(
        sqlf_int(
            "SELECT count(*) FROM teams WHERE id = '%s-T3' AND name = 'Team Three' AND region_id = '%s-R2'",
            E.P, E.P),
        1);
    /* a named team; a duplicate member is refused */
    snprintf(body, sizeof body,
        "{\"id\":\"%s-as\",\"name\":\"AS\",\"lead_id\":\"%s-sup2\",\"members\":[\"%s-rep2\",\"%s-rep2\"]}",
        E.P, E.P, E.P, E.P);
    assert_int_equal(call(ADMIN, "POST", "/v1/admin/named_teams", body, &j), 422);
    assert_string_equal(err_field(j), "members");
    json_decref(j);
    snprintf(body, sizeof body,
        "{\"id\":\"%s-as\",\"name\":\"AS\",\"lead_id\":\"%s-sup2\",\"members\":[\"%s-rep2\"]}", E.P, E.P,
        E.P);
    assert_int_equal(call(ADMIN, "POST", "/v1/admin/named_teams", body, &j), 200);
    json_decref(j);
    assert_int_equal(sqlf_int("SELECT count(*) FROM named_team_members WHERE team_id = '%s-as'", E.P), 1);
    snprintf(target, sizeof target, "/v1/admin/named_teams/%s-as", E.P);
    assert_int_equal(call(ADMIN, "DELETE", target, NULL, &j), 200);
    json_decref(j);
    assert_int_equal(call(ADMIN, "DELETE", target, NULL, &j), 404);
    json_decref(j);
    /* a staffed team cannot go */
    snprintf(target, sizeof target, "/v1/admin/teams/%s-T1", E.P);
    assert_int_equal(call(ADMIN, "DELETE", target, NULL, &j), 409);
    json_decref(j);
    snprintf(target, sizeof target, "/v1/admin/teams/%s-T3", E.P);
    assert_int_equal(call(ADMIN, "DELETE", target, NULL, &j), 200);
    json_decref(j);
    assert_int_equal(sqlf_int("SELECT count(*) FROM teams WHERE id = '%s-T3'", E.P), 0);
}

/* Events seen on the test's events topic. */
struct seen {
    pthread_mutex_t mu;
    int n;
    char key[32][160];
    int status[32];
    volatile sig_atomic_t stop;
};

static void ev_handler(
    void *arg, const bus_msg *msgs, size_t n, bus_result *res, char (*reasons)[BUS_REASON_LEN])
{
    struct seen *s = arg;
    for (size_t i = 0; i < n; i++) {
        res[i] = BUS_OK;
        Salespulse__V1__TaskEvent *e = salespulse__v1__task_event__unpack(NULL, msgs[i].len, msgs[i].payload);
        if (e == NULL) continue;
        pthread_mutex_lock(&s->mu);
        if (s->n < 32) {
            snprintf(s->key[s->n], sizeof s->key[0], "%s", e->task_key);
            s->status[s->n++] = e->status;
        }
        pthread_mutex_unlock(&s->mu);
        salespulse__v1__task_event__free_unpacked(e, NULL);
    }
}

struct runner {
    bus_consumer *c;
    struct seen *s;
};

static void *run_consumer(void *arg)
{
    struct runner *r = arg;
    bus_consumer_run(r->c, &r->s->stop);
    return NULL;
}

static void test_actions(void **state)
{
    (void)state;
    json_t *j = NULL;
    long long seq_before = sqlf_int("SELECT seq FROM tasks WHERE key = '%s:k3'", E.P);
    /* another team's task: 404 for every action, nothing changes */
    static const char *const acts[] = {"ack", "start", "complete", "dismiss", "reassign"};
    for (size_t a = 0; a < 5; a++) {
        assert_int_equal(postf(REP1, "{\"outcome\":\"x\",\"note\":\"n\",\"reason\":\"r\",\"to_id\":\"y\"}",
                             &j, "/v1/tasks/%s:k3/%s", E.P, acts[a]),
            404);
        json_decref(j);
    }
    assert_int_equal(sqlf_int("SELECT seq FROM tasks WHERE key = '%s:k3'", E.P), seq_before);
    assert_int_equal(sqlf_int("SELECT count(*) FROM task_history WHERE task_key = '%s:k3'", E.P), 0);

    /* own task: ack, replayed ack 409, complete needs note, complete */
    assert_int_equal(postf(REP1, NULL, &j, "/v1/tasks/%s:k1/ack", E.P), 200);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "acknowledged");
    json_decref(j);
    long long seq1 = sqlf_int("SELECT seq FROM tasks WHERE key = '%s:k1'", E.P);
    assert_int_equal(postf(REP1, NULL, &j, "/v1/tasks/%s:k1/ack", E.P), 409);
    assert_string_equal(json_string_value(json_object_get(j, "current_status")), "acknowledged");
    assert_non_null(json_string_value(json_object_get(j, "error")));
    json_decref(j);
    assert_int_equal(
        sqlf_int("SELECT seq FROM tasks WHERE key = '%s:k1'", E.P), seq1); /* replay changed nothing */
    assert_int_equal(postf(REP1, "{\"outcome\":\"advanced\"}", &j, "/v1/tasks/%s:k1/complete", E.P), 422);
    assert_string_equal(err_field(j), "note");
    json_decref(j);
    assert_int_equal(postf(REP1, "{\"outcome\":\"advanced\",\"note\":\"booked the demo\"}", &j,
                         "/v1/tasks/%s:k1/complete", E.P),
        200);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "done");
    json_decref(j);
    assert_int_equal(sqlf_int("SELECT count(*) FROM task_history WHERE task_key = '%s:k1'", E.P), 2);
    assert_int_equal(postf(REP1, "{}", &j, "/v1/tasks/%s:k2/dismiss", E.P), 422);
    assert_string_equal(err_field(j), "reason");
    json_decref(j);
    assert_int_equal(postf(REP1, "{\"outcome\":\"x\"}", &j, "/v1/tasks/%s:k2/bogus", E.P), 404);
    json_decref(j);

    /* reassign: a rep may not; a supervisor within the team; not across */
    char body[256];
    snprintf(body, sizeof body, "{\"to_id\":\"%s\"}", E.id[REP1B]);
    assert_int_equal(postf(REP1, body, &j, "/v1/tasks/%s:k2/reassign", E.P), 403);
    json_decref(j);
    snprintf(body, sizeof body, "{\"to_id\":\"%s\"}", E.id[REP2]);
    assert_int_equal(postf(SUP1, body, &j, "/v1/tasks/%s:k2/reassign", E.P), 403);
    assert_string_equal(err_field(j), "to_id");
    json_decref(j);
    /* an unknown id answers like one out of scope (which ids exist elsewhere
     * is not a supervisor's to learn); to the admin it is a 422 */
    assert_int_equal(postf(SUP1, "{\"to_id\":\"nobody\"}", &j, "/v1/tasks/%s:k2/reassign", E.P), 403);
    assert_string_equal(err_field(j), "to_id");
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"), "message")),
        "no active person with this id in your scope");
    json_decref(j);
    snprintf(body, sizeof body, "{\"to_id\":\"%s\"}", E.id[REP2]);
    assert_int_equal(postf(SUP1, body, &j, "/v1/tasks/%s:k2/reassign", E.P), 403);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"), "message")),
        "no active person with this id in your scope");
    json_decref(j);
    assert_int_equal(postf(ADMIN, "{\"to_id\":\"nobody\"}", &j, "/v1/tasks/%s:k2/reassign", E.P), 422);
    assert_string_equal(err_field(j), "to_id");
    json_decref(j);
    snprintf(body, sizeof body, "{\"to_id\":\"%s\"}", E.id[REP1B]);
    assert_int_equal(postf(SUP1, body, &j, "/v1/tasks/%s:k2/reassign", E.P), 200);
    assert_string_equal(json_string_value(json_object_get(j, "assignee_id")), E.id[REP1B]);
    json_decref(j);
    /* the new assignee's escalation chain: their supervisor, then the director */
    assert_int_equal(sqlf_int("SELECT count(*) FROM tasks WHERE key = '%s:k2' AND chain = ARRAY['%s', '%s'] "
                              "AND status = 'open' AND escalation_level = 0",
                         E.P, E.id[SUP1], E.id[DIR1]),
        1);
    assert_int_equal(getf(REP1, &j, "/v1/tasks/%s:k2", E.P), 404); /* no longer rep1's */
    json_decref(j);
    assert_int_equal(postf(REP1B, NULL, &j, "/v1/tasks/%s:k2/start", E.P), 200);
    json_decref(j);
    /* the director reassigns across teams inside the region? T2 is another region: 403 */
    snprintf(body, sizeof body, "{\"to_id\":\"%s\"}", E.id[REP2]);
    assert_int_equal(postf(DIR1, body, &j, "/v1/tasks/%s:k4/reassign", E.P), 403);
    json_decref(j);
    /* the admin may move k4 to team 2: the task follows the new assignee's team */
    assert_int_equal(postf(ADMIN, body, &j, "/v1/tasks/%s:k4/reassign", E.P), 200);
    json_decref(j);
    assert_int_equal(getf(SUP2, &j, "/v1/tasks/%s:k4", E.P), 200);
    char t2[64];
    snprintf(t2, sizeof t2, "%s-T2", E.P);
    assert_string_equal(json_string_value(json_object_get(j, "team_id")), t2);
    json_decref(j);

    /* every applied action is on the events topic: k1 ack+complete, k2 reassign+start, k4 reassign */
    struct seen s = {.mu = PTHREAD_MUTEX_INITIALIZER};
    const char *topics[] = {E.events_topic, NULL};
    char *group = itest_unique("itest-taskapi");
    bus_consumer_opts o = {.bootstrap = itest_env("SP_KAFKA_BOOTSTRAP"),
        .group_id = group,
        .client_id = "itest",
        .topics = topics,
        .service = "itest",
        .handler = ev_handler,
        .arg = &s};
    char err[256];
    bus_consumer *c = NULL;
    assert_int_equal(bus_consumer_new(&o, &c, err, sizeof err), SP_OK);
    struct runner r = {c, &s};
    pthread_t th;
    pthread_create(&th, NULL, run_consumer, &r);
    for (int i = 0; i < 300; i++) {
        pthread_mutex_lock(&s.mu);
        int n = s.n;
        pthread_mutex_unlock(&s.mu);
        if (n >= 5) break;
        usleep(100000);
    }
    s.stop = 1;
    pthread_join(th, NULL);
    bus_consumer_destroy(c);
    free(group);
    assert_int_equal(s.n, 5);
    char k1[96];
    snprintf(k1, sizeof k1, "%s:k1", E.P);
    int k1_done = 0;
    for (int i = 0; i < s.n; i++)
        if (strcmp(s.key[i], k1) == 0 && s.status[i] == SALESPULSE__V1__TASK_STATUS__TASK_STATUS_DONE)
            k1_done = 1;
    assert_true(k1_done);

    /* counted on /metrics */
    sp_http_reply m = {0};
    assert_int_equal(sp_http_client_do(E.cli, "GET", "/metrics", NULL, 0, NULL, 0, &m), SP_OK);
    assert_int_equal(m.status, 200);
    assert_non_null(strstr(m.body, "sp_taskpool_api_actions_total{action=\"ack\",result=\"applied\"} 1"));
    assert_non_null(strstr(m.body, "sp_taskpool_api_actions_total{action=\"ack\",result=\"conflict\"} 1"));
    assert_non_null(strstr(m.body, "sp_taskpool_api_auth_failures_total"));
    sp_http_reply_clear(&m);
}

struct later {
    char sql[512];
    int delay_ms;
};

static void *change_later(void *arg)
{
    struct later *l = arg;
    usleep((useconds_t)l->delay_ms * 1000);
    itest_sql(l->sql);
    return NULL;
}

static void test_long_poll(void **state)
{
    (void)state;
    json_t *j = NULL;
    /* catch up */
    long long since = 0;
    for (int i = 0; i < 100; i++) {
        assert_int_equal(getf(REP1, &j, "/v1/tasks/changes?since=%lld&wait=0", since), 200);
        long long next = json_integer_value(json_object_get(j, "next_since"));
        size_t n = json_array_size(json_object_get(j, "tasks"));
        json_decref(j);
        assert_true(next >= since);
        since = next;
        if (n == 0) break;
    }
    /* nothing changed: nothing comes back, and the position holds */
    assert_int_equal(getf(REP1, &j, "/v1/tasks/changes?since=%lld&wait=1", since), 200);
    assert_int_equal(json_array_size(json_object_get(j, "tasks")), 0);
    long long held = json_integer_value(json_object_get(j, "next_since"));
    json_decref(j);
    /* a task of rep1 changes during the wait */
    struct later l = {.delay_ms = 800};
    snprintf(l.sql, sizeof l.sql, "UPDATE tasks SET note = 'changed' WHERE key = '%s:p0'", E.P);
    pthread_t th;
    pthread_create(&th, NULL, change_later, &l);
    int64_t t0 = sp_wall_ms();
    assert_int_equal(getf(REP1, &j, "/v1/tasks/changes?since=%lld&wait=10", held), 200);
    int64_t dt = sp_wall_ms() - t0;
    pthread_join(th, NULL);
    json_t *tasks = json_object_get(j, "tasks");
    assert_int_equal(json_array_size(tasks), 1);
    char p0[96];
    snprintf(p0, sizeof p0, "%s:p0", E.P);
    assert_string_equal(json_string_value(json_object_get(json_array_get(tasks, 0), "key")), p0);
    assert_true(dt >= 700 && dt < 5000);
    long long after = json_integer_value(json_object_get(j, "next_since"));
    assert_true(after > held);
    json_decref(j);
    /* another team's rep saw nothing of it */
    assert_int_equal(getf(REP2, &j, "/v1/tasks/changes?since=%lld&wait=0", held), 200);
    assert_int_equal(json_array_size(json_object_get(j, "tasks")), 0);
    json_decref(j);
    /* the supervisor of the team sees it */
    assert_int_equal(getf(SUP1, &j, "/v1/tasks/changes?since=%lld&wait=0", held), 200);
    assert_true(json_array_size(json_object_get(j, "tasks")) >= 1);
    json_decref(j);
    /* reconnecting with the last position replays nothing */
    assert_int_equal(getf(REP1, &j, "/v1/tasks/changes?since=%lld&wait=0", after), 200);
    assert_int_equal(json_array_size(json_object_get(j, "tasks")), 0);
    json_decref(j);
    assert_int_equal(getf(REP1, &j, "/v1/tasks/changes?wait=99"), 400);
    assert_string_equal(err_field(j), "wait");
    json_decref(j);

    /* A slow transaction takes a smaller seq than a fast one that commits
     * first: the feed must not move past the slow one's seq before it
     * commits, or a client would skip it for good. */
    PGconn *slow = PQconnectdb(itest_env("SP_PG_URL"));
    assert_int_equal(PQstatus(slow), CONNECTION_OK);
    char sql[256];
    snprintf(sql, sizeof sql, "BEGIN; UPDATE tasks SET note = 'slow' WHERE key = '%s:p1'", E.P);
    PGresult *r = PQexec(slow, sql);
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    sqlf("UPDATE tasks SET note = 'fast' WHERE key = '%s:p2'", E.P);
    assert_true(sqlf_int("SELECT seq FROM tasks WHERE key = '%s:p2'", E.P) > after);
    usleep(300000); /* past the horizon cache period */
    assert_int_equal(getf(REP1, &j, "/v1/tasks/changes?since=%lld&wait=0", after), 200);
    assert_int_equal(json_array_size(json_object_get(j, "tasks")), 0); /* not p2 alone */
    assert_true(json_integer_value(json_object_get(j, "next_since")) <= after + 1);
    json_decref(j);
    r = PQexec(slow, "COMMIT");
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    PQfinish(slow);
    assert_int_equal(getf(REP1, &j, "/v1/tasks/changes?since=%lld&wait=5", after), 200);
    tasks = json_object_get(j, "tasks");
    assert_int_equal(json_array_size(tasks), 2);
    char p1[96], p2[96];
    snprintf(p1, sizeof p1, "%s:p1", E.P);
    snprintf(p2, sizeof p2, "%s:p2", E.P);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(tasks, 0), "key")), p1); /* seq order */
    assert_string_equal(json_string_value(json_object_get(json_array_get(tasks, 1), "key")), p2);
    json_decref(j);
}

/* Receives one text message (or "" after timeout_ms) into buf. */
static int ws_recv(nng_stream *s, char *buf, size_t cap, int timeout_ms)
{
    nng_aio *aio = NULL;
    assert_int_equal(nng_aio_alloc(&aio, NULL, NULL), 0);
    nng_iov iov = {buf, cap - 1};
    nng_aio_set_iov(aio, 1, &iov);
    nng_aio_set_timeout(aio, timeout_ms);
    nng_stream_recv(s, aio);
    nng_aio_wait(aio);
    int rv = nng_aio_result(aio);
    size_t n = rv == 0 ? nng_aio_count(aio) : 0;
    buf[n] = '\0';
    nng_aio_free(aio);
    return rv;
}

static nng_stream *ws_dial(int port, const char *query)
{
    char url[512];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/v1/tasks/ws?%s", port, query);
    nng_stream_dialer *d = NULL;
    nng_aio *aio = NULL;
    assert_int_equal(nng_stream_dialer_alloc(&d, url), 0);
    assert_int_equal(nng_stream_dialer_set_bool(d, NNG_OPT_WS_RECV_TEXT, true), 0);
    assert_int_equal(nng_aio_alloc(&aio, NULL, NULL), 0);
    nng_stream_dialer_dial(d, aio);
    nng_aio_wait(aio);
    assert_int_equal(nng_aio_result(aio), 0);
    nng_stream *s = nng_aio_get_output(aio, 0);
    nng_aio_free(aio);
    nng_stream_dialer_free(d);
    return s;
}

/* The optional WebSocket push: a change during the connection arrives as
 * one message; a connection without a token is refused with an error. */
static void test_websocket(void **state)
{
    (void)state;
    api_ws *ws = NULL;
    assert_int_equal(api_ws_start(E.api, "ws://127.0.0.1:0/v1/tasks/ws", 4, &ws), SP_OK);
    int port = api_ws_port(ws);
    assert_true(port > 0);
    char buf[65536];
    nng_stream *anon = ws_dial(port, "since=0");
    assert_int_equal(ws_recv(anon, buf, sizeof buf, 5000), 0);
    assert_non_null(strstr(buf, "unauthorized"));
    nng_stream_close(anon);
    nng_stream_free(anon);

    long long since = sqlf_int("SELECT max(seq) FROM tasks");
    char q[256];
    snprintf(q, sizeof q, "since=%lld&token=%s", since, E.tok[REP1]);
    nng_stream *s = ws_dial(port, q);
    usleep(300000);
    sqlf("UPDATE tasks SET note = 'pushed' WHERE key = '%s:p3'", E.P);
    assert_int_equal(ws_recv(s, buf, sizeof buf, 10000), 0);
    json_t *j = json_loads(buf, 0, NULL);
    assert_non_null(j);
    json_t *tasks = json_object_get(j, "tasks");
    assert_int_equal(json_array_size(tasks), 1);
    char p3[96];
    snprintf(p3, sizeof p3, "%s:p3", E.P);
    assert_string_equal(json_string_value(json_object_get(json_array_get(tasks, 0), "key")), p3);
    assert_true(json_integer_value(json_object_get(j, "next_since")) > since);
    json_decref(j);
    /* rep2's task changing is not pushed to rep1 */
    sqlf("UPDATE tasks SET note = 'not yours' WHERE key = '%s:k3'", E.P);
    assert_int_equal(ws_recv(s, buf, sizeof buf, 1500), NNG_ETIMEDOUT);
    nng_stream_close(s);
    nng_stream_free(s);
    /* a token revoked while its feed is open: the feed stops with an error
     * (it was authenticated once and pushed on indefinitely) */
    char tok[48], hash[65], prefix[13];
    assert_int_equal(spctl_token_issue(E.db, E.id[REP1], "ws", 0, tok, hash), SP_OK);
    snprintf(q, sizeof q, "since=%lld&token=%s", (long long)sqlf_int("SELECT max(seq) FROM tasks"), tok);
    s = ws_dial(port, q);
    usleep(300000);
    snprintf(prefix, sizeof prefix, "%.12s", hash);
    int n = 0;
    assert_int_equal(spctl_token_revoke(E.db, NULL, prefix, &n), SP_OK);
    assert_int_equal(n, 1);
    sqlf("UPDATE tasks SET note = 'after revoke' WHERE key = '%s:p3'", E.P);
    assert_int_equal(ws_recv(s, buf, sizeof buf, 5000), 0);
    assert_non_null(strstr(buf, "unauthorized"));
    assert_null(strstr(buf, "after revoke"));
    nng_stream_close(s);
    nng_stream_free(s);
    api_ws_stop(ws);
}

static long long jint(const json_t *o, const char *path1, const char *path2)
{
    const json_t *a = json_object_get(o, path1);
    return json_integer_value(path2 ? json_object_get(a, path2) : a);
}

/* The error field of a 422, with the status checked. */
static void post_invalid(int who, const char *body, const char *field, const char *msg_part)
{
    json_t *j = NULL;
    assert_int_equal(postf(who, body, &j, "/v1/goals"), 422);
    assert_string_equal(err_field(j), field);
    if (msg_part) {
        const char *m = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
        if (!m || !strstr(m, msg_part)) fail_msg("message \"%s\" does not name \"%s\"", m ? m : "", msg_part);
    }
    json_decref(j);
}

/* POST /v1/goals: who may plan, 422s naming the field, the plan summary,
 * an unchanged rerun and a re-plan of the weeks not yet started; GET the
 * plan and its health by scope; the team board's rates from the active goal. */
static void test_goals_api(void **state)
{
    (void)state;
    const char *P = E.P;
    char body[1024], path[256], gid[160];
    json_t *j = NULL;
    snprintf(body, sizeof body,
        "{\"template\":\"education\",\"target\":10,\"from\":\"2026-03-02\",\"weeks\":4,\"scope\":\"team:%s-"
        "T1\"}",
        P);
    assert_int_equal(postf(REP1, body, NULL, "/v1/goals"), 403);
    assert_int_equal(postf(SUP1, body, NULL, "/v1/goals"), 403);
    assert_int_equal(call(-1, "POST", "/v1/goals", body, NULL), 401);
    snprintf(body, sizeof body,
        "{\"template\":\"education\",\"target\":10,\"from\":\"2026-03-02\",\"weeks\":4,\"scope\":\"team:%s-"
        "T2\"}",
        P);
    assert_int_equal(postf(DIR1, body, &j, "/v1/goals"), 403); /* another region's team */
    assert_string_equal(err_field(j), "scope");
    json_decref(j);
    /* an unknown team is refused to a director the same way (no probing) */
    assert_int_equal(
        postf(DIR1,
            "{\"template\":\"education\",\"target\":10,\"from\":\"2026-03-02\",\"scope\":\"team:T9-"
            "none\"}",
            &j, "/v1/goals"),
        403);
    assert_string_equal(err_field(j), "scope");
    json_decref(j);
    post_invalid(ADMIN,
        "{\"template\":\"education\",\"target\":10,\"from\":\"2026-03-02\",\"scope\":\"team:T9-none\"}",
        "scope", "unknown team \"T9-none\"");
    post_invalid(
        ADMIN, "{\"template\":\"nope\",\"target\":10,\"from\":\"2026-03-02\"}", "template", "nope.json");
    post_invalid(ADMIN, "{\"template\":\"../x\",\"target\":10,\"from\":\"2026-03-02\"}", "template", NULL);
    post_invalid(ADMIN,
        "{\"template\":\"education\",\"kind\":\"bogus\",\"target\":10,\"from\":\"2026-03-02\"}", "kind",
        "bogus");
    post_invalid(ADMIN, "{\"template\":\"education\",\"target\":10,\"from\":\"2026-03-02\",\"colour\":1}",
        "colour", "unknown field");
    post_invalid(ADMIN, "{\"template\":\"education\",\"target\":-1,\"from\":\"2026-03-02\"}", "target", NULL);
    post_invalid(
        ADMIN, "{\"template\":\"education\",\"target\":\"10\",\"from\":\"2026-03-02\"}", "target", NULL);
    post_invalid(ADMIN, "{\"template\":\"education\",\"target\":10,\"from\":\"2026-02-30\"}", "from", NULL);
    post_invalid(ADMIN, "{\"template\":\"education\",\"target\":10,\"from\":\"2026-03-02\",\"weeks\":54}",
        "weeks", NULL);
    post_invalid(ADMIN,
        "{\"template\":\"education\",\"target\":10,\"from\":\"2026-03-02\",\"basis\":\"luck\"}", "basis",
        NULL);
    post_invalid(ADMIN,
        "{\"template\":\"education\",\"target\":10,\"from\":\"2026-03-02\",\"scope\":\"planet:x\"}", "scope",
        NULL);
    assert_int_equal(postf(ADMIN, "[1]", NULL, "/v1/goals"), 422);

    /* the director plans for a team of their region: created, the summary sums to the target */
    snprintf(body, sizeof body,
        "{\"template\":\"education\",\"target\":10,\"from\":\"2026-03-02\",\"weeks\":4,\"scope\":\"team:%s-"
        "T1\"}",
        P);
    assert_int_equal(postf(DIR1, body, &j, "/v1/goals"), 201);
    snprintf(gid, sizeof gid, "goal:new_a_class_customers:team:%s-T1:2026-03-02", P);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "goal"), "id")), gid);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "created");
    assert_int_equal(jint(j, "planned", "target"), 10);
    assert_int_equal(jint(j, "planned", "touch"), 20);
    assert_int_equal(jint(j, "planned", "needs_diagnosis"), 8);
    assert_int_equal(json_array_size(json_object_get(j, "weeks")), 4);
    assert_int_equal(json_array_size(json_object_get(j, "teams")), 1);
    long long wsum = 0;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(j, "weeks"), i, v) wsum += jint(v, "planned", "touch");
    assert_int_equal(wsum, 20);
    json_decref(j);
    assert_int_equal(sqlf_int("SELECT count(*) FROM goal_reps WHERE goal_id = '%s'", gid), 2);
    assert_int_equal(
        sqlf_int("SELECT sum(planned) FROM goal_plans WHERE goal_id = '%s' AND action = 'target'", gid), 10);
    /* the same again: unchanged */
    assert_int_equal(postf(ADMIN, body, &j, "/v1/goals"), 200);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "unchanged");
    assert_int_equal(jint(j, "goal", "revision"), 1);
    json_decref(j);
    /* a higher target as of March 16th: weeks 1-2 keep their plan, weeks 3-4 hold the rest */
    long long past
        = sqlf_int("SELECT sum(planned * (week + 1) * length(rep_id || action)) FROM goal_plans WHERE "
                   "goal_id = '%s' AND week < 2",
            gid);
    long long past_touch = sqlf_int("SELECT coalesce(sum(planned), 0) FROM goal_plans WHERE goal_id = '%s' "
                                    "AND week < 2 AND action = 'touch'",
        gid);
    snprintf(body, sizeof body,
        "{\"template\":\"education\",\"target\":20,\"from\":\"2026-03-02\",\"weeks\":4,\"scope\":\"team:%s-"
        "T1\","
        "\"as_of\":\"2026-03-16\"}",
        P);
    assert_int_equal(postf(ADMIN, body, &j, "/v1/goals"), 200);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "replanned");
    assert_int_equal(jint(j, "replanned_from_week", NULL), 3);
    assert_int_equal(jint(j, "previous_target", NULL), 10);
    assert_int_equal(jint(j, "goal", "revision"), 2);
    assert_int_equal(jint(j, "planned", "target"), 20);
    assert_int_equal(jint(j, "planned", "touch"), 40);
    json_decref(j);
    assert_int_equal(
        sqlf_int("SELECT sum(planned * (week + 1) * length(rep_id || action)) FROM goal_plans WHERE "
                 "goal_id = '%s' AND week < 2",
            gid),
        past);
    assert_int_equal(
        sqlf_int("SELECT coalesce(sum(planned), 0) FROM goal_plans WHERE goal_id = '%s' AND week >= 2 "
                 "AND action = 'touch'",
            gid),
        40 - past_touch);
    snprintf(body, sizeof body,
        "{\"template\":\"education\",\"target\":20,\"from\":\"2026-03-02\",\"weeks\":5,\"scope\":\"team:%s-"
        "T1\"}",
        P);
    post_invalid(ADMIN, body, "weeks", "must match");

    /* GET the plan: supervisors of the team and the director see it, the other team does not */
    snprintf(path, sizeof path, "/v1/goals/%s", gid);
    assert_int_equal(getf(SUP1, &j, "%s", path), 200);
    assert_int_equal(json_array_size(json_object_get(j, "reps")), 2);
    assert_int_equal(json_array_size(json_object_get(j, "regions")), 0); /* a supervisor: the team only */
    assert_int_equal(
        json_array_size(json_object_get(json_array_get(json_object_get(j, "reps"), 0), "weeks")), 4);
    assert_int_equal(jint(j, "planned", "target"), 20);
    json_decref(j);
    assert_int_equal(getf(DIR1, &j, "%s", path), 200);
    assert_int_equal(json_array_size(json_object_get(j, "regions")), 1);
    json_decref(j);
    assert_int_equal(getf(SUP2, NULL, "%s", path), 404);
    assert_int_equal(getf(REP1, NULL, "%s", path), 403);
    assert_int_equal(getf(ADMIN, NULL, "/v1/goals/goal:nope"), 404);
    assert_int_equal(getf(ADMIN, NULL, "%s/elsewhere", path), 404);
    /* health as of March 4th: week 1; rep1's passed needs diagnoses count, the failed one lowers the pass
     * rate */
    assert_int_equal(getf(ADMIN, &j, "%s/health?as_of=2026-03-04", path), 200);
    assert_int_equal(jint(j, "through_week", NULL), 1);
    assert_int_equal(json_array_size(json_object_get(j, "reps")), 2);
    assert_int_equal(json_array_size(json_object_get(j, "teams")), 1);
    json_t *h = json_object_get(j, "health");
    assert_true(jint(h, "planned_to_date", NULL) > 0);
    assert_true(jint(h, "failed_quality", NULL) >= 1);
    assert_true(json_integer_value(json_object_get(h, "score")) >= 0
        && json_integer_value(json_object_get(h, "score")) <= 100);
    json_decref(j);
    assert_int_equal(getf(ADMIN, NULL, "%s/health?as_of=2026-02-01", path), 400);
    assert_int_equal(getf(ADMIN, NULL, "%s/health?as_of=soon", path), 400);

    /* the board: with a goal running now, rep1's rates come from it */
    int64_t day = sp_wall_ms() / 86400000LL;
    int64_t monday = day - ((day + 3) % 7) - 7;
    int y, m, d;
    sp_civil_from_days(monday, &y, &m, &d);
    snprintf(body, sizeof body,
        "{\"template\":\"education\",\"target\":10,\"from\":\"%04d-%02d-%02d\",\"weeks\":4,\"scope\":\"team:%"
        "s-T1\"}",
        y, m, d, P);
    assert_int_equal(postf(ADMIN, body, NULL, "/v1/goals"), 201);
    assert_int_equal(getf(SUP1, &j, "/v1/teams/%s-T1/board", P), 200);
    assert_true(json_is_object(json_object_get(j, "goal")));
    int found = 0;
    json_array_foreach(json_object_get(j, "reps"), i, v)
    {
        if (strcmp(json_string_value(json_object_get(v, "rep_id")), E.id[REP1]) != 0) continue;
        found = 1;
        assert_string_equal(json_string_value(json_object_get(v, "rates_source")), "goal");
        /* the failed proposal of two days ago is the goal's only done action: 0 passed of 1 */
        assert_true(json_real_value(json_object_get(v, "quality_pass_rate")) == 0.0);
        assert_true(json_real_value(json_object_get(v, "action_completion_rate")) == 0.0);
        assert_int_equal(
            json_integer_value(json_object_get(json_object_get(v, "goal_health"), "failed_quality")), 1);
    }
    assert_true(found);
    json_decref(j);
    /* team T2 has no goal: its own rates */
    assert_int_equal(getf(SUP2, &j, "/v1/teams/%s-T2/board", P), 200);
    assert_true(json_is_null(json_object_get(j, "goal")));
    json_array_foreach(json_object_get(j, "reps"), i, v)
        assert_string_equal(json_string_value(json_object_get(v, "rates_source")), "activity");
    json_decref(j);
}

/* The today list's priority customers link the playbooks: the advancement
 * card for an open deal, then those sp-route attached to the rep's open
 * tasks on it (unknown ids left out); GET /v1/playbooks/{id} serves one. */
static void test_today_materials(void **state)
{
    (void)state;
    const char *P = E.P;
    task_seed("pb", REP1, "T1", "R1", 2, 5);
    sqlf("UPDATE tasks SET playbooks = '{competition_kit,no_such_playbook}' WHERE key = '%s:pb'", P);
    json_t *j = NULL;
    assert_int_equal(getf(REP1, &j, "/v1/me/today"), 200);
    json_t *c = NULL, *v;
    size_t i;
    json_array_foreach(json_object_get(j, "priority_customers"), i, v)
    {
        char want[64];
        snprintf(want, sizeof want, "%s-D1", P);
        if (strcmp(json_string_value(json_object_get(v, "deal_id")), want) == 0) c = v;
    }
    assert_non_null(c);
    json_t *m = json_object_get(c, "materials");
    assert_int_equal(json_array_size(m), 2);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(m, 0), "playbook_id")), "advancement_card");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(m, 0), "link")), "/v1/playbooks/advancement_card");
    assert_string_equal(json_string_value(json_object_get(json_array_get(m, 0), "title_zh")), "客户推进卡");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(m, 1), "playbook_id")), "competition_kit");
    assert_string_equal(json_string_value(json_object_get(json_array_get(m, 1), "kind")), "competition_kit");
    json_decref(j);
    assert_int_equal(getf(REP1, &j, "/v1/playbooks/competition_kit"), 200);
    assert_string_equal(json_string_value(json_object_get(j, "id")), "competition_kit");
    assert_true(json_array_size(json_object_get(j, "sections")) > 0);
    json_decref(j);
    assert_int_equal(getf(REP1, NULL, "/v1/playbooks/no_such_playbook"), 404);
    assert_int_equal(call(-1, "GET", "/v1/playbooks/competition_kit", NULL, NULL), 401);
    sqlf("DELETE FROM tasks WHERE key = '%s:pb'", P);
}

/* A playbook filled for a task: the wake-up list's touch points, needs and
 * promotions for the customer's product line on the today list's date, the
 * nearest won case; the task's scope applies (another team's rep: 404). */
static void test_task_playbooks(void **state)
{
    (void)state;
    const char *P = E.P;
    sqlf(
        "UPDATE customers SET industry = 'k12' WHERE id = '%s-C1';"
        "UPDATE deals SET product_ids = '{X200}' WHERE id = '%s-D1';"
        "INSERT INTO interactions (event_id, occurred_at, source, channel, direction, customer_id, deal_id, "
        "rep_id, text) VALUES ('%s-w1', now() - interval '3 hour', 'wecom', 'wecom', 'inbound', '%s-C1', "
        "'%s-D1', '%s-rep1', '下周能来学校演示吗'), ('%s-w2', now() - interval '1 hour', 'email', 'email', "
        "'outbound', '%s-C1', '%s-D1', '%s-rep1', 'quote attached');"
        "INSERT INTO customers (id, name, industry, owner_rep_id, created_at) VALUES ('%s-C9', '实验中学', "
        "'k12', '%s-rep2', now());"
        "INSERT INTO deals (id, customer_id, name, stage, stage_since, amount, product_ids, is_open, "
        "created_at, last_status_update_at) VALUES ('%s-W1', '%s-C9', '智慧教室', 'won', now() + interval '1 "
        "day', 300000, '{X300PRO}', false, now() - interval '90 days', now());"
        "INSERT INTO deal_stage_history VALUES ('%s-W1', 'w1', 'lead', 'qualified', now() - interval '80 "
        "days'), "
        "('%s-W1', 'w2', 'qualified', 'demo', now() - interval '60 days'), "
        "('%s-W1', 'w3', 'demo', 'won', now() - interval '10 days');"
        "INSERT INTO interactions (event_id, occurred_at, source, channel, direction, customer_id, deal_id, "
        "text) VALUES ('%s-wc1', now() - interval '30 days', 'call', 'call', 'inbound', '%s-C9', '%s-W1', "
        "'earlier'), ('%s-wc2', now() - interval '12 days', 'call', 'call', 'inbound', '%s-C9', '%s-W1', "
        "'校长：效果视频我们看了，下周签')",
        P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P);
    json_t *j = NULL;
    assert_int_equal(getf(REP1, &j, "/v1/tasks/%s:k1/playbooks/wakeup_list", P), 200);
    char want[96];
    snprintf(want, sizeof want, "%s:k1", P);
    assert_string_equal(json_string_value(json_object_get(j, "task_key")), want);
    snprintf(want, sizeof want, "%s-C1", P);
    assert_string_equal(json_string_value(json_object_get(j, "customer_id")), want);
    json_t *secs = json_object_get(j, "sections");
    json_t *tp = json_array_get(secs, 0), *needs = json_array_get(secs, 1), *promo = json_array_get(secs, 2);
    assert_string_equal(json_string_value(json_object_get(tp, "source")), "last_touch_points");
    json_t *e = json_object_get(tp, "entries");
    assert_int_equal(json_array_size(e), 2); /* the visits are channel "visit", not touches */
    snprintf(want, sizeof want, "%s-w2", P);
    assert_string_equal(json_string_value(json_object_get(json_array_get(e, 0), "event_id")), want);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(e, 1), "text")), "下周能来学校演示吗");
    e = json_object_get(needs, "entries");
    assert_string_equal(json_string_value(json_object_get(json_array_get(e, 0), "value")), "faster grading");
    /* 2026-03-04: the spring education promotion (X200 is education) and the one for every line */
    e = json_object_get(promo, "entries");
    assert_int_equal(json_array_size(e), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(e, 0), "id")), "edu-spring-2026");
    assert_string_equal(json_string_value(json_object_get(json_array_get(e, 1), "id")), "all-service-2026");
    json_decref(j);

    /* the case is another team's customer: sup1 learns what was sold to
     * which industry along which path, not whose deal it was */
    assert_int_equal(getf(SUP1, &j, "/v1/tasks/%s:k1/playbooks/similar_won_case", P), 200);
    e = json_object_get(json_array_get(json_object_get(j, "sections"), 0), "entries");
    assert_int_equal(json_array_size(e), 1);
    json_t *wc = json_array_get(e, 0);
    assert_string_equal(json_string_value(json_object_get(wc, "matched_on")), "industry_and_product_line");
    assert_int_equal(json_array_size(json_object_get(wc, "stage_path")), 3);
    assert_true(json_is_true(json_object_get(wc, "anonymized")));
    assert_null(json_object_get(wc, "deal_id"));
    assert_null(json_object_get(wc, "customer_name"));
    assert_null(json_object_get(wc, "customer_id"));
    assert_null(json_object_get(wc, "last_call"));
    json_decref(j);
    /* the admin sees every customer: the case with its ids */
    assert_int_equal(getf(ADMIN, &j, "/v1/tasks/%s:k1/playbooks/similar_won_case", P), 200);
    wc = json_array_get(json_object_get(json_array_get(json_object_get(j, "sections"), 0), "entries"), 0);
    snprintf(want, sizeof want, "%s-W1", P);
    assert_string_equal(json_string_value(json_object_get(wc, "deal_id")), want);
    assert_string_equal(json_string_value(json_object_get(wc, "customer_name")), "实验中学");
    assert_true(json_is_false(json_object_get(wc, "anonymized")));
    json_t *lc = json_object_get(wc, "last_call"); /* the won deal's latest call */
    snprintf(want, sizeof want, "%s-wc2", P);
    assert_string_equal(json_string_value(json_object_get(lc, "event_id")), want);
    assert_string_equal(json_string_value(json_object_get(lc, "text")), "校长：效果视频我们看了，下周签");
    json_decref(j);

    /* out of scope and unknown alike: 404 */
    assert_int_equal(getf(REP2, NULL, "/v1/tasks/%s:k1/playbooks/wakeup_list", P), 404);
    assert_int_equal(getf(REP1, NULL, "/v1/tasks/%s:k1/playbooks/no_such_playbook", P), 404);
    assert_int_equal(getf(REP1, NULL, "/v1/tasks/%s:nope/playbooks/wakeup_list", P), 404);
    assert_int_equal(call(-1, "GET", "/v1/tasks/x/playbooks/wakeup_list", NULL, NULL), 401);
    sqlf("DELETE FROM deal_stage_history WHERE deal_id = '%s-W1'; DELETE FROM deals WHERE id = '%s-W1';"
         "DELETE FROM interactions WHERE event_id IN ('%s-w1', '%s-w2', '%s-wc1', '%s-wc2');"
         "DELETE FROM customers WHERE id = '%s-C9'",
        P, P, P, P, P, P, P);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_my_tasks_pages),
        cmocka_unit_test(test_read_matrix),
        cmocka_unit_test(test_views),
        cmocka_unit_test(test_today_goal_actions),
        cmocka_unit_test(test_admin),
        cmocka_unit_test(test_actions),
        cmocka_unit_test(test_long_poll),
        cmocka_unit_test(test_websocket),
        cmocka_unit_test(test_goals_api),
        cmocka_unit_test(test_today_materials),
        cmocka_unit_test(test_task_playbooks),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
