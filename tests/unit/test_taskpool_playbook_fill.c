/* Playbooks filled for a task (taskpool/playbook_fill.c) on the demo
 * tenant's playbooks: the wake-up list's last three touch points (newest
 * first, text cut on a code point), likely needs (the core need first, then
 * products with their line), promotions for the customer's lines only; key
 * roles covered or not and the decision chain; the evidence of a task
 * without a customer, whose customer slots say why they are empty. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "err.h"
#include "route/playbook.h"
#include "taskpool/playbook_fill.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PB_FILE "deploy/tenants/demo/playbooks.json"

static playbook_set *set;

static int setup(void **state)
{
    (void)state;
    char err[256];
    return playbook_set_load_file(PB_FILE, &set, err, sizeof err) == SP_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    playbook_set_destroy(set);
    return 0;
}

static json_t *js(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    if (j == NULL) fail_msg("bad test JSON at %d: %s", je.position, je.text);
    return j;
}

/* The section of filled playbook o with id. */
static json_t *section(json_t *o, const char *id)
{
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(o, "sections"), i, s)
    {
        if (strcmp(json_string_value(json_object_get(s, "id")), id) == 0) return s;
    }
    fail_msg("no section %s", id);
    return NULL;
}

static const char *entry_str(json_t *sec, size_t i, const char *key)
{
    return json_string_value(json_object_get(json_array_get(json_object_get(sec, "entries"), i), key));
}

static size_t n_entries(json_t *sec)
{
    return json_array_size(json_object_get(sec, "entries"));
}

static void test_wakeup_list(void **state)
{
    (void)state;
    /* 70 three-byte characters: 210 bytes, cut to 66 whole ones (198) */
    char long_text[256] = "";
    for (int i = 0; i < 70; i++)
        strcat(long_text, "长");
    char touches_json[1024];
    snprintf(touches_json, sizeof touches_json,
        "[{\"event_id\":\"e4\",\"at\":\"2026-03-04T02:00:00.000Z\",\"channel\":\"wecom\",\"direction\":"
        "\"inbound\","
        "\"rep_id\":\"r1\",\"text\":\"%s\"},"
        "{\"event_id\":\"e3\",\"at\":\"2026-03-03T02:00:00.000Z\",\"channel\":\"call\",\"direction\":"
        "\"outbound\","
        "\"rep_id\":\"r1\",\"text\":\"预算大概二十万\"},"
        "{\"event_id\":\"e2\",\"at\":\"2026-03-02T02:00:00.000Z\",\"channel\":\"email\",\"direction\":"
        "\"inbound\","
        "\"rep_id\":\"r1\",\"text\":\"\"},"
        "{\"event_id\":\"e1\",\"at\":\"2026-03-01T02:00:00.000Z\",\"channel\":\"activity\",\"direction\":"
        "\"outbound\","
        "\"rep_id\":\"r1\",\"text\":\"visit\"}]",
        long_text);
    json_t *touches = js(touches_json);
    json_t *task = js("{\"key\":\"task:customer.stale:customer:C1:1\",\"evidence\":{}}");
    json_t *cust = js("{\"id\":\"C1\",\"name\":\"王校长\",\"industry\":\"k12\",\"class\":\"A\"}");
    json_t *card = js("{\"core_need\":\"想要互动教学\",\"core_need_level\":2,\"core_need_source\":\"e3\","
                      "\"concern\":\"\"}");
    json_t *facts = js("[{\"field\":\"product\",\"value\":\"X200\",\"level\":1,\"source\":\"e3\"},"
                       "{\"field\":\"competitor\",\"value\":\"apex\",\"level\":1,\"source\":\"e2\"},"
                       "{\"field\":\"product\",\"value\":\"G9\",\"level\":1,\"source\":\"e2\"},"
                       "{\"field\":\"budget\",\"value\":{\"amount\":200000},\"level\":1,\"source\":\"e3\"}]");
    json_t *lines = js("{\"X200\":\"education\",\"G9\":\"manufacturing\",\"M1\":\"healthcare\"}");
    const playbook_promotion edu = {"edu", "教育", "Edu", "education", 0, 1},
                             hc = {"hc", "医疗", "Health", "healthcare", 0, 1},
                             all = {"all", "全线", "All", NULL, 0, 1};
    const playbook_promotion *promos[] = {&edu, &hc, &all};
    playbook_material m = {.task = task,
        .customer = cust,
        .touches = touches,
        .card = card,
        .facts = facts,
        .lines = lines,
        .promotions = promos,
        .n_promotions = 3};
    json_t *o = NULL;
    assert_int_equal(playbook_fill(playbook_get(set, "wakeup_list"), &m, &o), SP_OK);
    assert_string_equal(json_string_value(json_object_get(o, "kind")), "wakeup_list");
    json_t *tp = section(o, "last_touch_points");
    assert_string_equal(json_string_value(json_object_get(tp, "source")), "last_touch_points");
    assert_int_equal(n_entries(tp), 3); /* the playbook's limit */
    assert_string_equal(entry_str(tp, 0, "event_id"), "e4");
    assert_string_equal(entry_str(tp, 2, "event_id"), "e2");
    assert_int_equal(strlen(entry_str(tp, 0, "text")), 198);
    assert_true(
        json_is_true(json_object_get(json_array_get(json_object_get(tp, "entries"), 0), "truncated")));
    assert_string_equal(entry_str(tp, 1, "text"), "预算大概二十万");

    json_t *needs = section(o, "likely_needs");
    assert_int_equal(n_entries(needs), 3); /* core need, X200, G9; the budget over the limit */
    assert_string_equal(entry_str(needs, 0, "kind"), "core_need");
    assert_string_equal(entry_str(needs, 0, "value"), "想要互动教学");
    assert_string_equal(entry_str(needs, 1, "value"), "X200");
    assert_string_equal(entry_str(needs, 1, "product_line"), "education");
    assert_string_equal(entry_str(needs, 2, "product_line"), "manufacturing");

    /* education and manufacturing are the customer's lines: healthcare's is left out */
    json_t *pr = section(o, "promotions");
    assert_int_equal(n_entries(pr), 2);
    assert_string_equal(entry_str(pr, 0, "id"), "edu");
    assert_string_equal(entry_str(pr, 1, "id"), "all");
    /* static sections as written */
    json_t *opening = section(o, "opening");
    assert_true(json_array_size(json_object_get(opening, "items")) > 0);
    assert_null(json_object_get(opening, "entries"));
    json_decref(o);

    /* the deal's own products count too, and no lines known: only the promotion for every line */
    const char *deal_products[] = {"M1"};
    m.deal_products = deal_products;
    m.n_deal_products = 1;
    assert_int_equal(playbook_fill(playbook_get(set, "wakeup_list"), &m, &o), SP_OK);
    assert_int_equal(n_entries(section(o, "promotions")), 3);
    json_decref(o);
    m.lines = NULL;
    assert_int_equal(playbook_fill(playbook_get(set, "wakeup_list"), &m, &o), SP_OK);
    assert_int_equal(n_entries(section(o, "promotions")), 1);
    assert_string_equal(entry_str(section(o, "promotions"), 0, "id"), "all");
    json_decref(o);

    json_decref(touches);
    json_decref(task);
    json_decref(cust);
    json_decref(card);
    json_decref(facts);
    json_decref(lines);
}

static void test_roles_risks_and_card(void **state)
{
    (void)state;
    json_t *task = js("{\"key\":\"task:deal.stalled:deal:D1:1\",\"evidence\":{}}");
    json_t *cust = js("{\"id\":\"C/1\",\"name\":\"李厂长\",\"industry\":\"manufacturing\",\"class\":\"B\"}");
    json_t *card
        = js("{\"core_need\":\"\",\"concern\":\"担心售后响应慢\",\"concern_tag\":\"after_sales\","
             "\"concern_severity\":2,\"concern_source\":\"e9\",\"concern_at\":\"2026-03-01T00:00:00.000Z\"}");
    json_t *risks
        = js("[{\"tag\":\"budget_cut\",\"last_at\":\"2026-03-02T00:00:00.000Z\",\"source\":\"e8\"}]");
    json_t *contacts = js("[{\"role\":\"technical\",\"id\":\"p1\",\"name\":\"张工\",\"title\":\"CTO\"},"
                          "{\"role\":\"technical\",\"id\":\"p2\",\"name\":\"刘工\",\"title\":\"\"},"
                          "{\"role\":\"procurement\",\"id\":\"p3\",\"name\":\"赵\",\"title\":\"采购\"}]");
    json_t *facts = js("[{\"field\":\"competitor\",\"value\":\"apex\",\"level\":2,\"source\":\"e2\"}]");
    playbook_material m = {
        .task = task, .customer = cust, .card = card, .risks = risks, .contacts = contacts, .facts = facts};
    json_t *o = NULL;
    assert_int_equal(playbook_fill(playbook_get(set, "advancement_card"), &m, &o), SP_OK);
    json_t *kr = section(o, "key_roles");
    assert_int_equal(n_entries(kr), 4);
    json_t *e = json_object_get(kr, "entries");
    assert_string_equal(entry_str(kr, 0, "role"), "decision_maker");
    assert_true(json_is_false(json_object_get(json_array_get(e, 0), "covered")));
    assert_string_equal(entry_str(kr, 1, "role"), "technical");
    assert_true(json_is_true(json_object_get(json_array_get(e, 1), "covered")));
    assert_int_equal(json_array_size(json_object_get(json_array_get(e, 1), "contacts")), 2);
    json_t *rk = section(o, "open_risks");
    assert_int_equal(n_entries(rk), 2);
    assert_string_equal(entry_str(rk, 0, "kind"), "concern");
    assert_string_equal(entry_str(rk, 0, "tag"), "after_sales");
    assert_string_equal(entry_str(rk, 1, "tag"), "budget_cut");
    json_t *gt = section(o, "golden_triangle");
    assert_int_equal(n_entries(gt), 1);
    assert_string_equal(entry_str(gt, 0, "link"), "/v1/customers/C%2F1/card");
    json_decref(o);

    assert_int_equal(playbook_fill(playbook_get(set, "competition_kit"), &m, &o), SP_OK);
    json_t *dc = section(o, "decision_chain"); /* covered roles only */
    assert_int_equal(n_entries(dc), 2);
    assert_string_equal(entry_str(dc, 0, "role"), "technical");
    assert_string_equal(entry_str(dc, 1, "role"), "procurement");
    json_t *co = section(o, "competitors");
    assert_int_equal(n_entries(co), 1);
    assert_string_equal(entry_str(co, 0, "value"), "apex");
    json_decref(o);

    /* the nearest won case is the caller's pick, one entry */
    json_t *wc = js("{\"deal_id\":\"W1\",\"matched_on\":\"industry\"}");
    m.won_case = wc;
    assert_int_equal(playbook_fill(playbook_get(set, "similar_won_case"), &m, &o), SP_OK);
    assert_string_equal(entry_str(section(o, "case"), 0, "deal_id"), "W1");
    json_decref(o);
    json_decref(wc);
    json_decref(task);
    json_decref(cust);
    json_decref(card);
    json_decref(risks);
    json_decref(contacts);
    json_decref(facts);
}

/* A rep's task: no customer. The evidence is the task's; customer slots
 * are empty and say why. */
static void test_no_customer(void **state)
{
    (void)state;
    json_t *task = js("{\"key\":\"task:rep.status_not_updated:rep:r1:1\",\"evidence\":{"
                      "\"interaction_ids\":[\"i1\",\"i2\",\"i3\",\"i4\",\"i5\"],\"numbers\":{\"days\":5},"
                      "\"quotes\":[\"还在考虑\"]}}");
    playbook_material m = {.task = task};
    json_t *o = NULL;
    assert_int_equal(playbook_fill(playbook_get(set, "technical_doubt_pack"), &m, &o), SP_OK);
    json_t *ev = section(o, "evidence");
    assert_int_equal(n_entries(ev), 5); /* the playbook's limit */
    assert_string_equal(entry_str(ev, 0, "kind"), "numbers");
    assert_string_equal(entry_str(ev, 1, "value"), "还在考虑");
    assert_string_equal(entry_str(ev, 2, "event_id"), "i1");
    assert_null(json_object_get(ev, "unavailable"));
    json_decref(o);
    assert_int_equal(playbook_fill(playbook_get(set, "wakeup_list"), &m, &o), SP_OK);
    json_t *tp = section(o, "last_touch_points");
    assert_int_equal(n_entries(tp), 0);
    assert_string_equal(json_string_value(json_object_get(tp, "unavailable")), "no_customer");
    json_decref(o);
    json_decref(task);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wakeup_list),
        cmocka_unit_test(test_roles_risks_and_card),
        cmocka_unit_test(test_no_customer),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
