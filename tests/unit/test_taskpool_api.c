/* The task pool API's pure parts: query parsing, cursors, action bodies,
 * board/funnel arithmetic, hints, spctl token helpers (admin validation:
 * test_taskpool_orgadmin.c);
 * and the auth path through sp_http_server_dispatch (no sockets, no DB). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "err.h"
#include "http.h"
#include "spctl/spctl.h"
#include "taskpool/api.h"
#include "taskpool/api_hint.h"
#include "taskpool/api_internal.h"
#include "taskpool/api_query.h"
#include "taskpool/api_stats.h"
#include "taskpool/token.h"
#include "taskpool/token_cache.h"

#include <string.h>

static sp_http_req req_q(const char *query)
{
    sp_http_req r = {.method = "GET", .path = "/v1/me/tasks", .query = query, .body = ""};
    return r;
}

static void test_list_query_defaults(void **state)
{
    (void)state;
    sp_http_req r = req_q("");
    api_list_query q;
    const char *field = NULL;
    assert_int_equal(api_list_query_parse(&r, &q, &field), SP_OK);
    assert_int_equal(q.statuses, api_active_statuses());
    assert_int_equal(q.limit, API_LIMIT_DEFAULT);
    assert_int_equal(q.level, 0);
    assert_false(q.has_cursor);
    assert_string_equal(q.kind, "");

    r = req_q("status=open,done&level=3&kind=deal.stalled&limit=7");
    assert_int_equal(api_list_query_parse(&r, &q, &field), SP_OK);
    assert_int_equal(q.statuses, (1u << TASK_OPEN) | (1u << TASK_DONE));
    assert_int_equal(q.level, 3);
    assert_int_equal(q.limit, 7);
    assert_string_equal(q.kind, "deal.stalled");

    r = req_q("status=all");
    assert_int_equal(api_list_query_parse(&r, &q, &field), SP_OK);
    for (int s = TASK_OPEN; s <= TASK_RESOLVED; s++)
        assert_true(q.statuses & (1u << s));
}

static void test_list_query_errors(void **state)
{
    (void)state;
    static const struct {
        const char *query, *field;
    } cases[] = {
        {"status=opened", "status"},
        {"status=open,,bogus", "status"},
        {"level=0", "level"},
        {"level=4", "level"},
        {"level=2x", "level"},
        {"limit=0", "limit"},
        {"limit=201", "limit"},
        {"limit=-5", "limit"},
        {"cursor=%%%", "cursor"},
        {"cursor=abc", "cursor"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sp_http_req r = req_q(cases[i].query);
        api_list_query q;
        const char *field = NULL;
        assert_int_equal(api_list_query_parse(&r, &q, &field), SP_EINVAL);
        assert_non_null(field);
        assert_string_equal(field, cases[i].field);
    }
}

static void test_cursor_roundtrip(void **state)
{
    (void)state;
    api_cursor c = {.level = 3}, d;
    strcpy(c.created, "2026-11-27 07:12:25.123456+00");
    strcpy(c.key, "task:deal.stalled:deal:D-1|x:1");
    char buf[API_CURSOR_MAX];
    assert_int_equal(api_cursor_encode(&c, buf, sizeof buf), SP_OK);
    assert_int_equal(
        strspn(buf, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), strlen(buf));
    assert_int_equal(api_cursor_decode(buf, &d), SP_OK);
    assert_int_equal(d.level, 3);
    assert_string_equal(d.created, c.created);
    assert_string_equal(d.key, c.key);
    /* it survives the query string */
    char q[600];
    snprintf(q, sizeof q, "cursor=%s", buf);
    sp_http_req r = req_q(q);
    api_list_query lq;
    assert_int_equal(api_list_query_parse(&r, &lq, NULL), SP_OK);
    assert_true(lq.has_cursor);
    assert_string_equal(lq.cursor.key, c.key);

    /* tampered or foreign cursors are refused */
    api_cursor bad = {.level = 4};
    strcpy(bad.created, "2026-01-01 00:00:00+00");
    strcpy(bad.key, "k");
    assert_int_equal(api_cursor_encode(&bad, buf, sizeof buf), SP_OK);
    assert_int_equal(api_cursor_decode(buf, &d), SP_EINVAL);
    strcpy(bad.created, "2026'; drop table tasks");
    bad.level = 1;
    assert_int_equal(api_cursor_encode(&bad, buf, sizeof buf), SP_OK);
    assert_int_equal(api_cursor_decode(buf, &d), SP_EINVAL);
    assert_int_equal(api_cursor_decode("", &d), SP_EINVAL);
    assert_int_equal(api_cursor_decode("a", &d), SP_EINVAL);
    assert_int_equal(api_cursor_decode("MXx8", &d), SP_EINVAL); /* "1||" */
    /* the time exactly as the list queries write it, and a real date: PostgreSQL
     * refused the rest with a 500 ("3|9|k" was one) */
    const struct {
        const char *created;
        int rv;
    } times[]
        = {{"9", SP_EINVAL}, {"2026-02-30 00:00:00+00", SP_EINVAL}, {"2026-13-01 00:00:00+00", SP_EINVAL},
            {"2026-11-27 24:00:00+00", SP_EINVAL}, {"2026-11-27 07:12:25.1234567+00", SP_EINVAL},
            {"2026-11-27 07:12:25.+00", SP_EINVAL}, {"2026-11-27 07:12:25+01", SP_EINVAL},
            {"2026-11-27T07:12:25+00", SP_EINVAL}, {"2026-11-27 07:12:25", SP_EINVAL},
            {"2024-02-29 23:59:59+00", SP_OK}, {"2026-11-27 07:12:25.5+00", SP_OK}};
    for (size_t i = 0; i < sizeof times / sizeof *times; i++) {
        api_cursor t = {.level = 2};
        strcpy(t.created, times[i].created);
        strcpy(t.key, "k");
        assert_int_equal(api_cursor_encode(&t, buf, sizeof buf), SP_OK);
        assert_int_equal(api_cursor_decode(buf, &d), times[i].rv);
    }
    assert_int_equal(api_cursor_decode(NULL, &d), SP_EINVAL);
    /* the key is a text parameter too: UTF-8 only */
    api_cursor k = {.level = 1};
    strcpy(k.created, "2026-11-27 07:12:25+00");
    strcpy(k.key, "task:\xff");
    assert_int_equal(api_cursor_encode(&k, buf, sizeof buf), SP_OK);
    assert_int_equal(api_cursor_decode(buf, &d), SP_EINVAL);
    strcpy(k.key, "task:客户");
    assert_int_equal(api_cursor_encode(&k, buf, sizeof buf), SP_OK);
    assert_int_equal(api_cursor_decode(buf, &d), SP_OK);
}

static void test_changes_query(void **state)
{
    (void)state;
    sp_http_req r = req_q("");
    api_changes_query q;
    const char *field = NULL;
    assert_int_equal(api_changes_query_parse(&r, &q, &field), SP_OK);
    assert_int_equal(q.since, 0);
    assert_int_equal(q.wait_s, 30);
    r = req_q("since=123456789012&wait=0");
    assert_int_equal(api_changes_query_parse(&r, &q, &field), SP_OK);
    assert_int_equal(q.since, 123456789012LL);
    assert_int_equal(q.wait_s, 0);
    r = req_q("since=-1");
    assert_int_equal(api_changes_query_parse(&r, &q, &field), SP_EINVAL);
    assert_string_equal(field, "since");
    r = req_q("wait=61");
    assert_int_equal(api_changes_query_parse(&r, &q, &field), SP_EINVAL);
    assert_string_equal(field, "wait");
}

static void test_action_args(void **state)
{
    (void)state;
    task_action a;
    assert_int_equal(api_action_parse("complete", &a), SP_OK);
    assert_int_equal(a, TASK_ACT_COMPLETE);
    assert_int_equal(api_action_parse("escalate", &a), SP_ENOTFOUND); /* system only */
    assert_int_equal(api_action_parse("system_close", &a), SP_ENOTFOUND);
    task_args args;
    const char *field = NULL;
    assert_int_equal(api_action_args(TASK_ACT_ACK, NULL, &args, &field), SP_OK);
    json_t *b = json_pack("{s:s}", "outcome", "advanced");
    assert_int_equal(api_action_args(TASK_ACT_COMPLETE, b, &args, &field), SP_EINVAL);
    assert_string_equal(field, "note");
    json_object_set_new(b, "note", json_string("met the CFO"));
    assert_int_equal(api_action_args(TASK_ACT_COMPLETE, b, &args, &field), SP_OK);
    assert_string_equal(args.outcome, "advanced");
    assert_string_equal(args.note, "met the CFO");
    assert_int_equal(api_action_args(TASK_ACT_DISMISS, b, &args, &field), SP_EINVAL);
    assert_string_equal(field, "reason");
    assert_int_equal(api_action_args(TASK_ACT_REASSIGN, b, &args, &field), SP_EINVAL);
    assert_string_equal(field, "to_id");
    json_decref(b);
    b = json_pack("{s:i}", "reason", 5); /* ill-typed */
    assert_int_equal(api_action_args(TASK_ACT_DISMISS, b, &args, &field), SP_EINVAL);
    assert_string_equal(field, "reason");
    json_decref(b);
    b = json_pack("[s]", "x");
    assert_int_equal(api_action_args(TASK_ACT_ACK, b, &args, &field), SP_EINVAL);
    assert_string_equal(field, "body");
    json_decref(b);
}

static void test_stats(void **state)
{
    (void)state;
    static const struct {
        long long days;
        int bucket;
    } b[]
        = {{-3, 0}, {0, 0}, {7, 0}, {8, 1}, {14, 1}, {15, 2}, {30, 2}, {31, 3}, {60, 3}, {61, 4}, {9999, 4}};
    for (size_t i = 0; i < sizeof b / sizeof b[0]; i++)
        assert_int_equal(api_days_bucket(b[i].days), b[i].bucket);
    assert_int_equal(api_stage_index("lead"), 0);
    assert_int_equal(api_stage_index("won"), 5);
    assert_int_equal(api_stage_index("lost"), -1);
    assert_int_equal(api_stage_index(NULL), -1);

    api_funnel_month m = {"2026-10", {10, 5, 0, 2, 0, 1}};
    double rate[API_NSTAGES - 1];
    int has[API_NSTAGES - 1];
    api_funnel_rates(&m, rate, has);
    assert_true(has[0]);
    assert_float_equal(rate[0], 0.5, 1e-9); /* lead 10 -> qualified 5 */
    assert_float_equal(rate[1], 0.4, 1e-9); /* qualified 5 -> demo max(0, 2, 1) = 2 (skipped demo) */
    assert_float_equal(rate[2], 1.0, 1e-9); /* demo 2 -> proposal 2 */
    assert_float_equal(rate[3], 0.5, 1e-9); /* proposal 2 -> negotiation 1 */
    assert_float_equal(rate[4], 1.0, 1e-9);
    api_funnel_month empty = {"2026-11", {0}};
    api_funnel_rates(&empty, rate, has);
    for (int i = 0; i < API_NSTAGES - 1; i++)
        assert_false(has[i]);

    api_board_counts c = {4, 3, 0, 0};
    api_board_rates br;
    api_board_rates_of(&c, &br);
    assert_true(br.has_completion);
    assert_float_equal(br.completion, 0.75, 1e-9);
    assert_false(br.has_quality); /* nothing assessed: null, not 0 */
    c = (api_board_counts) {0, 0, 5, 4};
    api_board_rates_of(&c, &br);
    assert_false(br.has_completion);
    assert_float_equal(br.quality, 0.8, 1e-9);
}

static void test_hint(void **state)
{
    (void)state;
    char buf[256];
    api_hint_in in = {"demo", "offline exam scoring", "price", "send quote", 1};
    api_hint_write(&in, buf, sizeof buf);
    assert_string_equal(buf, "Overdue next step: send quote");
    in.next_step_overdue = 0;
    api_hint_write(&in, buf, sizeof buf);
    assert_string_equal(buf, "Address their concern: price");
    in.concern = "";
    api_hint_write(&in, buf, sizeof buf);
    assert_non_null(strstr(buf, "offline exam scoring"));
    assert_non_null(strstr(buf, "proposal"));
    in.core_need = "";
    api_hint_write(&in, buf, sizeof buf);
    assert_int_equal(strncmp(buf, "Ask what they most need", 23), 0);
    char tiny[8];
    api_hint_write(&in, tiny, sizeof tiny);
    assert_int_equal(strlen(tiny), 7);
}

static void test_spctl_helpers(void **state)
{
    (void)state;
    long long s;
    assert_int_equal(spctl_ttl_parse("90d", &s), SP_OK);
    assert_int_equal(s, 90LL * 86400);
    assert_int_equal(spctl_ttl_parse("12h", &s), SP_OK);
    assert_int_equal(s, 12LL * 3600);
    assert_int_equal(spctl_ttl_parse("never", &s), SP_OK);
    assert_int_equal(s, 0);
    static const char *const bad[] = {"", "d", "90", "90x", "-1d", "90dd", "99999d"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(spctl_ttl_parse(bad[i], &s), SP_EINVAL);
    char hex[65];
    assert_int_equal(spctl_sha256_hex("hello", hex), SP_OK); /* sha256sum */
    assert_string_equal(hex, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
}

static int64_t fixed_now(void *arg)
{
    (void)arg;
    return 1700000000000LL;
}

/* Auth failures never reach a handler; a well-formed token with the
 * database down is a 503, not a 401 or a crash. */
static void test_auth_dispatch(void **state)
{
    (void)state;
    api_pool *pool = NULL;
    assert_int_equal(api_pool_new("postgresql://127.0.0.1:1/none?connect_timeout=1", 1, &pool), SP_OK);
    taskpool_api_cfg cfg = {.pool = pool, .now_ms = fixed_now};
    taskpool_api *api = NULL;
    assert_int_equal(taskpool_api_new(&cfg, &api), SP_OK);
    sp_http_opts o = {.auth = taskpool_api_auth, .auth_arg = api, .workers = 1};
    sp_http_server *srv = NULL;
    assert_int_equal(sp_http_server_new("http://127.0.0.1:0", &o, &srv), SP_OK);
    assert_int_equal(taskpool_api_register(api, srv), SP_OK);
    static const struct {
        const char *auth;
        int status;
    } cases[] = {
        {NULL, 401},
        {"Basic abc", 401},
        {"Bearer spt_short", 401},
        {"Bearer xyz_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 401},
        {"Bearer spt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 503},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sp_http_header h = {"Authorization", cases[i].auth};
        sp_http_req r = {.method = "GET",
            .path = "/v1/me/tasks",
            .query = "",
            .headers = &h,
            .nheaders = cases[i].auth ? 1 : 0};
        sp_http_res res;
        sp_http_res_init(&res);
        sp_http_server_dispatch(srv, &r, &res);
        assert_int_equal(res.status, cases[i].status);
        assert_non_null(strstr(res.body, "\"error\""));
        sp_http_res_clear(&res);
    }
    sp_http_req r = {.method = "DELETE", .path = "/v1/me/tasks", .query = ""};
    sp_http_res res;
    sp_http_res_init(&res);
    sp_http_server_dispatch(srv, &r, &res);
    assert_int_equal(res.status, 405);
    sp_http_res_clear(&res);
    sp_http_server_destroy(srv);
    taskpool_api_destroy(api);
    api_pool_destroy(pool);
}

static void test_segment_decode(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int rv;
        const char *out;
    } cases[] = {
        {"task:deal.stalled:deal:D-1:1", SP_OK, "task:deal.stalled:deal:D-1:1"},
        {"a%2Fb%3a", SP_OK, "a/b:"},
        {"%E4%BD%A0", SP_OK, "\xe4\xbd\xa0"},
        {"", SP_EINVAL, NULL},
        {"abc%", SP_EINVAL, NULL},
        {"abc%4", SP_EINVAL, NULL},
        {"abc%zz", SP_EINVAL, NULL},
        {"a%00b", SP_EINVAL, NULL},
    };
    char buf[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(api_segment_decode(cases[i].in, strlen(cases[i].in), buf, sizeof buf), cases[i].rv);
        if (cases[i].out) assert_string_equal(buf, cases[i].out);
    }
    /* only the first n bytes count */
    assert_int_equal(api_segment_decode("key/ack", 3, buf, sizeof buf), SP_OK);
    assert_string_equal(buf, "key");
    assert_int_equal(api_segment_decode("0123456789", 10, buf, 10), SP_ETOOBIG);
}

static int64_t cache_now = 1000000;
static int64_t moving_now(void *arg)
{
    (void)arg;
    return cache_now;
}

/* With SP_TOKEN_CACHE a token authenticated moments ago is answered from
 * memory: the database is down, yet the cached rep gets the rep's answer
 * (403 on org admin) until the entry expires (then 503: the lookup). */
static void test_auth_cache(void **state)
{
    (void)state;
    api_pool *pool = NULL;
    assert_int_equal(api_pool_new("postgresql://127.0.0.1:1/none?connect_timeout=1", 1, &pool), SP_OK);
    taskpool_api_cfg cfg = {.pool = pool, .now_ms = moving_now, .token_cache_ms = 5000};
    taskpool_api *api = NULL;
    assert_int_equal(taskpool_api_new(&cfg, &api), SP_OK);
    assert_non_null(api->tokens);
    sp_http_opts o = {.auth = taskpool_api_auth, .auth_arg = api, .workers = 1};
    sp_http_server *srv = NULL;
    assert_int_equal(sp_http_server_new("http://127.0.0.1:0", &o, &srv), SP_OK);
    assert_int_equal(taskpool_api_register(api, srv), SP_OK);
    char tok[SP_TOKEN_LEN + 1], hash[SP_TOKEN_HASH_LEN + 1], bearer[80];
    assert_int_equal(token_generate(tok, hash), SP_OK);
    snprintf(bearer, sizeof bearer, "Bearer %s", tok);
    sp_http_principal rep = {.person_id = "rep1", .role = "rep", .team = "t1"};
    token_cache_put(api->tokens, hash, &rep, cache_now, 0);
    int64_t at[] = {cache_now, cache_now + 4999, cache_now + 5000};
    int want[] = {403, 403, 503};
    for (int i = 0; i < 3; i++) {
        cache_now = at[i];
        sp_http_header h = {"Authorization", bearer};
        sp_http_req r
            = {.method = "GET", .path = "/v1/admin/people", .query = "", .headers = &h, .nheaders = 1};
        sp_http_res res;
        sp_http_res_init(&res);
        sp_http_server_dispatch(srv, &r, &res);
        assert_int_equal(res.status, want[i]);
        sp_http_res_clear(&res);
    }
    /* an admin's requests that are refused before the database */
    sp_http_principal admin = {.person_id = "adm", .role = "admin"};
    token_cache_put(api->tokens, hash, &admin, cache_now, 0);
    static const struct {
        const char *method, *path;
        int status;
    } adm[] = {{"GET", "/v1/admin/things", 404}, {"GET", "/v1/admin/people/a/b", 404},
        {"GET", "/v1/admin/people/%2Fx", 404}, {"PATCH", "/v1/admin/people", 404},
        {"DELETE", "/v1/admin/teams", 404}, {"POST", "/v1/admin/people/p1", 405},
        {"GET", "/v1/admin/named-teamsx", 404}};
    for (size_t i = 0; i < sizeof adm / sizeof adm[0]; i++) {
        sp_http_header h = {"Authorization", bearer};
        sp_http_req r
            = {.method = adm[i].method, .path = adm[i].path, .query = "", .headers = &h, .nheaders = 1};
        sp_http_res res;
        sp_http_res_init(&res);
        sp_http_server_dispatch(srv, &r, &res);
        if (res.status != adm[i].status)
            fail_msg("%s %s: %d, want %d", adm[i].method, adm[i].path, res.status, adm[i].status);
        sp_http_res_clear(&res);
    }
    sp_http_server_destroy(srv);
    taskpool_api_destroy(api);
    api_pool_destroy(pool);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_query_defaults),
        cmocka_unit_test(test_list_query_errors),
        cmocka_unit_test(test_cursor_roundtrip),
        cmocka_unit_test(test_changes_query),
        cmocka_unit_test(test_action_args),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_hint),
        cmocka_unit_test(test_spctl_helpers),
        cmocka_unit_test(test_auth_dispatch),
        cmocka_unit_test(test_auth_cache),
        cmocka_unit_test(test_segment_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
