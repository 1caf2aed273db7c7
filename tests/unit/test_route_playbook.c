/* Playbooks: the demo tenant's file loads and covers every playbook the
 * default rules name; validation names item and key; promotions by date
 * and line; the most similar won case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "err.h"
#include "route/cntime.h"
#include "route/playbook.h"
#include "route/route_rules.h"

#include <stdio.h>
#include <string.h>

#define PB_FILE "deploy/tenants/demo/playbooks.json"

static void test_demo_file(void **state)
{
    (void)state;
    playbook_set *s;
    route_rules *r;
    char err[300] = "";
    assert_int_equal(playbook_set_load_file(PB_FILE, &s, err, sizeof err), SP_OK);
    assert_int_equal(playbook_count(s), 7);
    /* every kind present once */
    for (int k = PLAYBOOK_ADVANCEMENT_CARD; k <= PLAYBOOK_THREE_LAYER_REVIEW; k++) {
        int n = 0;
        for (size_t i = 0; i < playbook_count(s); i++)
            n += playbook_at(s, i)->kind == (playbook_kind)k;
        assert_int_equal(n, 1);
    }
    const playbook *w = playbook_get(s, "wakeup_list");
    assert_non_null(w);
    assert_string_equal(w->title_zh, "客户唤醒清单");
    assert_string_equal(w->sections[0].source, "last_touch_points");
    assert_int_equal(w->sections[0].limit, 3);
    const playbook *c = playbook_get(s, "advancement_card");
    assert_string_equal(c->title_zh, "客户推进卡");
    assert_null(playbook_get(s, "nope"));

    /* the default rules name only playbooks that exist */
    assert_int_equal(
        route_rules_load_file("deploy/tenants/default/route_rules.json", &r, err, sizeof err), SP_OK);
    assert_int_equal(route_rules_check_playbooks(r, playbook_exists, s, err, sizeof err), SP_OK);
    route_rules_destroy(r);

    const playbook_promotion *p[4];
    size_t n;
    int64_t t;
    cntime_parse("2026-03-05T10:00", &t);
    playbook_promotions_current(s, "education", t, p, 4, &n);
    assert_int_equal(n, 2);
    assert_string_equal(p[0]->id, "edu-spring-2026");
    playbook_promotions_current(s, "manufacturing", t, p, 4, &n);
    assert_int_equal(n, 1);
    assert_string_equal(p[0]->id, "all-service-2026");
    cntime_parse("2026-04-01", &t);
    playbook_promotions_current(s, "education", t, p, 4, &n);
    assert_int_equal(n, 1);
    playbook_promotions_current(s, NULL, t, p, 4, &n);
    assert_int_equal(n, 2);
    playbook_set_destroy(s);
    playbook_set_destroy(NULL);
}

#define PB_OK_HEAD                                                                                           \
    "{\"playbooks\":[{\"id\":\"p\",\"kind\":\"advancement_card\",\"title_zh\":\"卡\",\"title_en\":\"card\","

static void test_validation(void **state)
{
    (void)state;
    static const struct {
        const char *json, *want;
    } cases[] = {
        {"{\"playbooks\":[{\"id\":\"p\",\"kind\":\"poster\",\"title_zh\":\"a\",\"title_en\":\"a\","
         "\"sections\":[]}]}",
            "playbooks[0] (p): key \"kind\""},
        {PB_OK_HEAD "\"sections\":[]}]}", "(p): key \"sections\""},
        {PB_OK_HEAD "\"sections\":[{\"id\":\"s\",\"title_zh\":\"a\",\"title_en\":\"a\"}]}]}",
            "(p): sections[0] (s): needs \"items\" or a \"source\""},
        {PB_OK_HEAD
            "\"sections\":[{\"id\":\"s\",\"title_zh\":\"a\",\"title_en\":\"a\",\"source\":\"horoscope\"}]}]}",
            "sections[0] (s): key \"source\""},
        {PB_OK_HEAD "\"sections\":[{\"id\":\"s\",\"title_zh\":\"a\",\"title_en\":\"a\",\"items\":[{\"zh\":"
                    "\"只有中文\"}]}]}]}",
            "sections[0] (s): items[0]: missing key \"en\""},
        {PB_OK_HEAD "\"sections\":[{\"id\":\"s\",\"title_zh\":\"a\",\"source\":\"evidence\"}]}]}",
            "sections[0] (s): missing key \"title_en\""},
        {PB_OK_HEAD "\"sections\":[{\"id\":\"s\",\"title_zh\":\"a\",\"title_en\":\"a\",\"source\":"
                    "\"evidence\",\"limit\":0}]}]}",
            "key \"limit\""},
        {PB_OK_HEAD
            "\"sections\":[{\"id\":\"s\",\"title_zh\":\"a\",\"title_en\":\"a\",\"source\":\"evidence\"},"
            "{\"id\":\"s\",\"title_zh\":\"b\",\"title_en\":\"b\",\"source\":\"evidence\"}]}]}",
            "sections[1]: key \"id\" \"s\" repeats"},
        {"{\"playbooks\":[{\"id\":\"w\",\"kind\":\"wakeup_list\",\"title_zh\":\"a\",\"title_en\":\"a\","
         "\"sections\":"
         "[{\"id\":\"s\",\"title_zh\":\"a\",\"title_en\":\"a\",\"source\":\"last_touch_points\"}]}]}",
            "(w): a wakeup_list needs a section with \"source\": \"likely_needs\""},
        {PB_OK_HEAD
            "\"sections\":[{\"id\":\"s\",\"title_zh\":\"a\",\"title_en\":\"a\",\"source\":\"evidence\"}]},"
            "{\"id\":\"p\",\"kind\":\"policy_guide\",\"title_zh\":\"b\",\"title_en\":\"b\",\"sections\":"
            "[{\"id\":\"s\",\"title_zh\":\"a\",\"title_en\":\"a\",\"source\":\"evidence\"}]}]}",
            "playbooks[1] (p): key \"id\" duplicates"},
        {PB_OK_HEAD
            "\"sections\":[{\"id\":\"s\",\"title_zh\":\"a\",\"title_en\":\"a\",\"source\":\"evidence\"}]}],"
            "\"promotions\":[{\"id\":\"x\",\"title_zh\":\"a\",\"title_en\":\"a\",\"from\":\"2026-03-01\","
            "\"until\":\"2026-02-01\"}]}",
            "promotions[0] (x): key \"until\""},
        {"{\"playbooks\":[]}", "key \"playbooks\" must be a non-empty array"},
        {"{\"cards\":[]}", "unknown key \"cards\""},
        {"{\"version\":\"1\",\"playbooks\":[]}", "key \"version\" must be 1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        playbook_set *s = (playbook_set *)1;
        char err[300] = "";
        assert_int_equal(playbook_set_load_string(cases[i].json, "pb.json", &s, err, sizeof err), SP_ECONFIG);
        assert_null(s);
        if (strstr(err, cases[i].want) == NULL || strstr(err, "pb.json") == NULL)
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err, cases[i].want);
    }
}

enum { LEAD = 1, QUAL, DEMO, PROP, NEGO, WON };

static void test_stage_distance(void **state)
{
    (void)state;
    const int a[] = {LEAD, QUAL, DEMO, PROP}, b[] = {LEAD, DEMO, PROP}, c[] = {LEAD, QUAL, PROP, DEMO};
    assert_int_equal(playbook_stage_distance(a, 4, a, 4), 0);
    assert_int_equal(playbook_stage_distance(a, 4, b, 3), 1);
    assert_int_equal(playbook_stage_distance(a, 4, c, 4), 2);
    assert_int_equal(playbook_stage_distance(a, 4, NULL, 0), 4);
    assert_int_equal(playbook_stage_distance(NULL, 0, b, 3), 3);
}

static void test_won_case_pick(void **state)
{
    (void)state;
    const int q_path[] = {LEAD, QUAL, DEMO, PROP};
    const int p_same[] = {LEAD, QUAL, DEMO, PROP, NEGO, WON}; /* distance 2 */
    const int p_skip[] = {LEAD, PROP, NEGO, WON}; /* distance 4 */
    const int p_near[] = {LEAD, QUAL, DEMO, PROP, WON}; /* distance 1 */
    const won_case cases[] = {
        {"W1", "education", "education", p_skip, 4, 100}, {"W2", "education", "education", p_same, 6, 200},
        {"W3", "healthcare", "education", p_near, 5, 300}, /* line only */
        {"W4", "manufacturing", "manufacturing", p_near, 5, 400}, /* neither */
        {"W5", "education", "education", p_same, 6, 250}, /* ties W2, newer */
        {"W0", "education", "education", p_same, 6, 250}, /* ties W5, smaller id */
    };
    won_case_query q = {"education", "education", q_path, 4};
    size_t best = 99, dist = 99;
    assert_int_equal(playbook_won_case_pick(cases, 6, &q, &best, &dist), SP_OK);
    assert_string_equal(cases[best].id, "W0");
    assert_int_equal(dist, 2);
    /* without the tie-breakers: the nearer path within the full-match tier */
    assert_int_equal(playbook_won_case_pick(cases, 2, &q, &best, &dist), SP_OK);
    assert_string_equal(cases[best].id, "W2");
    /* the full-match tier beats a nearer path that matches only the line */
    assert_int_equal(playbook_won_case_pick(cases, 3, &q, &best, NULL), SP_OK);
    assert_string_equal(cases[best].id, "W2");
    /* line-only beats industry-only */
    won_case_query q2 = {"healthcare", "education", q_path, 4};
    const won_case c2[]
        = {{"H1", "healthcare", "healthcare", p_near, 5, 1}, {"E1", "x", "education", p_skip, 4, 1}};
    assert_int_equal(playbook_won_case_pick(c2, 2, &q2, &best, NULL), SP_OK);
    assert_string_equal(c2[best].id, "E1");
    /* nothing shares industry or line */
    won_case_query q3 = {"retail", "retail", q_path, 4};
    assert_int_equal(playbook_won_case_pick(cases, 6, &q3, &best, NULL), SP_ENOTFOUND);
    assert_int_equal(playbook_won_case_pick(NULL, 0, &q, &best, NULL), SP_ENOTFOUND);
    assert_int_equal(playbook_won_case_pick(cases, 6, NULL, &best, NULL), SP_EINVAL);
}

/* Every truncation of the demo file is rejected cleanly. */
static void test_truncated_file(void **state)
{
    (void)state;
    static char text[65536], part[65536];
    char err[300];
    FILE *f = fopen(PB_FILE, "rb");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' '))
        n--; /* the last byte must be '}' */
    for (size_t len = 0; len < n; len += 37) {
        playbook_set *s;
        memcpy(part, text, len);
        part[len] = '\0';
        assert_int_equal(playbook_set_load_string(part, "cut", &s, err, sizeof err), SP_ECONFIG);
        assert_null(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_demo_file),
        cmocka_unit_test(test_validation),
        cmocka_unit_test(test_stage_distance),
        cmocka_unit_test(test_won_case_pick),
        cmocka_unit_test(test_truncated_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
