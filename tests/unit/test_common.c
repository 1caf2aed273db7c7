/* Unit tests of common/: err, log, config. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "config.h"
#include "err.h"
#include "log.h"
#include "utf8.h"
#include "civil.h"

#include <string.h>

static void test_strerror(void **state)
{
    (void)state;
    assert_string_equal(sp_strerror(SP_OK), "success");
    assert_string_equal(sp_strerror(SP_EDBDOWN), "database unavailable");
    assert_string_equal(sp_strerror(9999), "unknown error");
    assert_string_equal(sp_strerror(-1), "unknown error");
    assert_string_equal(sp_errname(SP_EINVAL), "einval");
    for (int e = 0; e < SP_ERR_COUNT; e++)
        assert_string_not_equal(sp_strerror(e), "unknown error");
}

static void test_log_format(void **state)
{
    (void)state;
    char buf[512];
    sp_log_init("sp-test", SP_LOG_INFO);
    int n = sp_log_format(buf, sizeof buf, 1772417700123LL, SP_LOG_WARN, "ev-1", "say \"hi\"\nnext");
    assert_int_equal(n, (int)strlen(buf));
    assert_string_equal(buf,
        "{\"ts\":\"2026-03-02T02:15:00.123Z\",\"level\":\"warn\",\"service\":\"sp-test\","
        "\"msg\":\"say \\\"hi\\\"\\nnext\",\"event_id\":\"ev-1\"}");
    n = sp_log_format(buf, sizeof buf, 0, SP_LOG_INFO, NULL, "x");
    assert_null(strstr(buf, "event_id"));
    /* truncation keeps a terminated string */
    char small[40];
    n = sp_log_format(small, sizeof small, 0, SP_LOG_INFO, NULL, "a very long message that does not fit");
    assert_true(n < (int)sizeof small);
    assert_int_equal(strlen(small), (size_t)n);
}

struct tcfg {
    char *url;
    long port;
    int flag;
    long long wait;
    char *clock;
};

static const sp_config_row trows[] = {
    {"SP_T_URL", SP_CFG_STRING, NULL, offsetof(struct tcfg, url), "url"},
    {"SP_T_PORT", SP_CFG_INT, "8080", offsetof(struct tcfg, port), "port", .min = 1, .max = 65535},
    {"SP_T_FLAG", SP_CFG_BOOL, "false", offsetof(struct tcfg, flag), "flag"},
    {"SP_T_WAIT", SP_CFG_MS, "5s", offsetof(struct tcfg, wait), "wait", .min = 100, .max = 600000},
    {"SP_T_CLOCK", SP_CFG_ENUM, "wall", offsetof(struct tcfg, clock), "clock", .choices = "wall|event"},
    SP_CONFIG_END,
};

static const char *env_vals[8][2];
static const char *fake_getenv(const char *name)
{
    for (int i = 0; i < 8 && env_vals[i][0]; i++)
        if (strcmp(env_vals[i][0], name) == 0) return env_vals[i][1];
    return NULL;
}

static void set_env(const char *kv[][2], int n)
{
    memset(env_vals, 0, sizeof env_vals);
    for (int i = 0; i < n; i++) {
        env_vals[i][0] = kv[i][0];
        env_vals[i][1] = kv[i][1];
    }
}

static void test_config_defaults_and_required(void **state)
{
    (void)state;
    struct tcfg c = {0};
    char err[256] = "";
    set_env(NULL, 0);
    assert_int_equal(sp_config_load(trows, &c, fake_getenv, err, sizeof err), SP_ECONFIG);
    assert_non_null(strstr(err, "SP_T_URL"));
    sp_config_free(trows, &c);

    const char *kv[][2] = {{"SP_T_URL", "postgres://x"}, {"SP_T_WAIT", "2m"}, {"SP_T_FLAG", "yes"}};
    set_env(kv, 3);
    assert_int_equal(sp_config_load(trows, &c, fake_getenv, err, sizeof err), SP_OK);
    assert_string_equal(c.url, "postgres://x");
    assert_int_equal(c.port, 8080);
    assert_int_equal(c.flag, 1);
    assert_int_equal(c.wait, 120000);
    assert_string_equal(c.clock, "wall");
    sp_config_free(trows, &c);
    assert_null(c.url);
}

static void test_config_invalid_values_name_key(void **state)
{
    (void)state;
    struct {
        const char *key, *val;
    } bad[] = {
        {"SP_T_PORT", "80x"},
        {"SP_T_PORT", "70000"},
        {"SP_T_FLAG", "maybe"},
        {"SP_T_WAIT", "5 parsecs"},
        {"SP_T_WAIT", "0"}, /* under .min: a zero wait answered every request 503 */
        {"SP_T_WAIT", "11m"},
        {"SP_T_WAIT", "nan"},
        {"SP_T_WAIT", "inf"},
        {"SP_T_CLOCK", "lunar"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct tcfg c = {0};
        char err[256] = "";
        const char *kv[][2] = {{"SP_T_URL", "u"}, {bad[i].key, bad[i].val}};
        set_env(kv, 2);
        assert_int_equal(sp_config_load(trows, &c, fake_getenv, err, sizeof err), SP_ECONFIG);
        assert_non_null(strstr(err, bad[i].key));
        assert_non_null(strstr(err, bad[i].val));
        sp_config_free(trows, &c);
    }
}

static void test_config_parse_ms(void **state)
{
    (void)state;
    long long ms;
    assert_int_equal(sp_config_parse_ms("250", &ms), SP_OK);
    assert_int_equal(ms, 250);
    assert_int_equal(sp_config_parse_ms("1.5s", &ms), SP_OK);
    assert_int_equal(ms, 1500);
    assert_int_equal(sp_config_parse_ms("7d", &ms), SP_OK);
    assert_int_equal(ms, 7LL * 86400000);
    assert_int_equal(sp_config_parse_ms("-1s", &ms), SP_EINVAL);
    assert_int_equal(sp_config_parse_ms("", &ms), SP_EINVAL);
    assert_int_equal(sp_config_parse_ms("3w", &ms), SP_EINVAL);
    assert_int_equal(sp_config_parse_ms("nan", &ms), SP_EINVAL);
    assert_int_equal(sp_config_parse_ms("inf", &ms), SP_EINVAL);
    assert_int_equal(sp_config_parse_ms("1e30d", &ms), SP_EINVAL); /* past long long */
    assert_int_equal(sp_config_parse_ms("36500d", &ms), SP_OK);
}

static void test_utf8(void **state)
{
    (void)state;
    struct {
        const char *s;
        int ok;
        size_t bad_at;
    } cases[] = {
        {"plain ascii", 1, 0},
        {"客户王校长", 1, 0},
        {"emoji \xf0\x9f\x98\x80 ok", 1, 0},
        {"bad \xff byte", 0, 4},
        {"overlong \xc0\xaf", 0, 9},
        {"surrogate \xed\xa0\x80", 0, 10},
        {"truncated \xe5\xae", 0, 10},
        {"above max \xf4\x90\x80\x80", 0, 10},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t at = 999;
        assert_int_equal(sp_utf8_valid(cases[i].s, strlen(cases[i].s), &at), cases[i].ok);
        if (!cases[i].ok) assert_int_equal(at, cases[i].bad_at);
    }
    const char *zh = "客户王校长"; /* 3 bytes each */
    assert_int_equal(sp_utf8_cut(zh, strlen(zh), 7), 6);
    assert_int_equal(sp_utf8_cut(zh, strlen(zh), 6), 6);
    assert_int_equal(sp_utf8_cut(zh, strlen(zh), 100), strlen(zh));
}

static void test_civil(void **state)
{
    (void)state;
    struct {
        int y, m, d;
        int64_t days;
    } rows[] = {
        {1970, 1, 1, 0},
        {2000, 2, 29, 11016},
        {2026, 3, 2, 20514},
        {2027, 2, 5, 20854},
        {1969, 12, 31, -1},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        assert_int_equal(sp_days_from_civil(rows[i].y, rows[i].m, rows[i].d), rows[i].days);
        int y, m, d;
        sp_civil_from_days(rows[i].days, &y, &m, &d);
        assert_int_equal(y, rows[i].y);
        assert_int_equal(m, rows[i].m);
        assert_int_equal(d, rows[i].d);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_log_format),
        cmocka_unit_test(test_config_defaults_and_required),
        cmocka_unit_test(test_config_invalid_values_name_key),
        cmocka_unit_test(test_config_parse_ms),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_civil),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
