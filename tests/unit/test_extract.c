/* Unit tests of the extraction engine (services/enrich/extract*.c):
 * budget normalisation, dates, product aliases, speaker awareness, quoted
 * e-mail history, lexicon errors, bad and overlong input, JSON output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "enrich/extract.h"
#include "err.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CATALOG "deploy/tenants/demo/catalog.json"
#define LEXICON "deploy/tenants/default/lexicon"

static extract_engine *eng;

static int setup(void **state)
{
    (void)state;
    char err[512];
    int rv = extract_engine_new(CATALOG, LEXICON, err, sizeof err, &eng);
    if (rv != SP_OK) fprintf(stderr, "engine: %s\n", err);
    return rv;
}

static int teardown(void **state)
{
    (void)state;
    extract_engine_destroy(eng);
    return 0;
}

static int run(extract_channel ch, const char *at, const char *text, extract_result *r)
{
    extract_input in = {0};
    in.channel = ch;
    assert_int_equal(extract_parse_iso8601(at, &in.occurred_at_ms), SP_OK);
    in.text = text;
    in.text_len = (size_t)-1;
    return extract_run(eng, &in, r);
}

static int has(const char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0) return 1;
    return 0;
}

/* ---- budget ------------------------------------------------------------- */

#define NUL -1
struct budget_case {
    const char *text;
    long long min, max; /* NUL = null; both NUL and !present = no budget */
    const char *cur;
};

static void test_budget_table(void **state)
{
    (void)state;
    static const struct budget_case cases[] = {
        {"客户: 我们预算50万", 500000, 500000, "CNY"},
        {"客户: 预算大概5w左右", 50000, 50000, "CNY"},
        {"客户: 预算1.2亿", 120000000, 120000000, "CNY"},
        {"客户: 预算总额不超过1.2个亿", NUL, 120000000, "CNY"},
        {"客户: 预算两个亿左右", 200000000, 200000000, "CNY"},
        {"客户: 预算两百万", 2000000, 2000000, "CNY"},
        {"客户: 预算三十万", 300000, 300000, "CNY"},
        {"客户: 预算在五六十万之间", 500000, 600000, "CNY"},
        {"客户: 预算30到50万", 300000, 500000, "CNY"},
        {"客户: 预算30-50万", 300000, 500000, "CNY"},
        {"客户: 预算不超过80万", NUL, 800000, "CNY"},
        {"客户: 预算50万以内", NUL, 500000, "CNY"},
        {"客户: 预算最多20w", NUL, 200000, "CNY"},
        {"客户: 预算上限是60万", NUL, 600000, "CNY"},
        {"客户: 预算至少100万", 1000000, NUL, "CNY"},
        {"客户: 预算200万以上", 2000000, NUL, "CNY"},
        {"客户: 预算不低于80万", 800000, NUL, "CNY"},
        {"客户: 单价3.5w一台以内", NUL, 35000, "CNY"},
        {"Customer: our budget is around $80k", 80000, 80000, "USD"},
        {"Customer: we can't go above $90k", NUL, 90000, "USD"},
        {"Customer: budget is capped at $300k", NUL, 300000, "USD"},
        {"Customer: the budget is up to $60k", NUL, 60000, "USD"},
        {"Customer: budget is no more than 2m USD", NUL, 2000000, "USD"},
        {"Customer: budget is at least $1.2M", 1200000, NUL, "USD"},
        {"Customer: our budget is between $150k and $180k", 150000, 180000, "USD"},
        {"客户: 预算大概20万美元", 200000, 200000, "USD"},
        {"客户: 预算100万元人民币", 1000000, 1000000, "CNY"},
        /* not budgets */
        {"客户: 就按你们报的46万来吧", NUL, NUL, NULL},
        {"客户: 二十万以上的采购都得上会", NUL, NUL, NULL},
        {"客户: 集团规定超过500万必须招标", NUL, NUL, NULL},
        {"客户: 明德报价才40万", NUL, NUL, NULL},
        {"客户: 我们要50台", NUL, NUL, NULL},
        {"客户: 预算的事下周说，先要30个", NUL, NUL, NULL}, /* 个 is a unit of count, not of money */
        {"客户: 电话13812345678，订单号HY2026-0424", NUL, NUL, NULL},
        {"客户: MES 3.0 版本号3.2.1，折扣给到15%", NUL, NUL, NULL},
        {"销售: 我们报价48万，预算够吗？", NUL, NUL, NULL},
        {"Customer: Apex quoted us $38k for the same thing", NUL, NUL, NULL},
        /* the latest customer statement wins */
        {"客户: 预算大概1.2亿？不对，是1200万", 12000000, 12000000, "CNY"},
        {"客户: 预算50万\n销售: 好的\n客户: 不对，预算控制在45万以内", NUL, 450000, "CNY"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        extract_result r;
        assert_int_equal(run(EXTRACT_CH_WECOM, "2026-03-02T10:15:00+08:00", cases[i].text, &r), SP_OK);
        const struct budget_case *c = &cases[i];
        int want = c->min != NUL || c->max != NUL;
        if (r.has_budget != want)
            fail_msg("case %zu (%s): has_budget=%d want %d", i, c->text, r.has_budget, want);
        if (!want) continue;
        if (r.budget.has_min != (c->min != NUL) || (c->min != NUL && r.budget.min != c->min))
            fail_msg("case %zu (%s): min %lld/%d", i, c->text, (long long)r.budget.min, r.budget.has_min);
        if (r.budget.has_max != (c->max != NUL) || (c->max != NUL && r.budget.max != c->max))
            fail_msg("case %zu (%s): max %lld/%d", i, c->text, (long long)r.budget.max, r.budget.has_max);
        assert_string_equal(r.budget.currency, c->cur);
    }
}

/* ---- intents and risks: paraphrases beyond the labelled examples -------- */

struct tag_case {
    const char *text;
    const char *intent; /* expected among the intents, or NULL */
    const char *risk; /* expected among the risks, or NULL */
};

static void test_paraphrases(void **state)
{
    (void)state;
    static const struct tag_case cases[] = {
        {"客户: 请贵司于下周三前提交实施方案及报价", "inquiry", NULL},
        {"客户: 请于2月6日前提供实施方案和报价", "inquiry", NULL},
        {"客户: 我校拟采购40台，请尽快报价", "inquiry", NULL},
        {"客户: 你们X200跟明德的比，优势在哪？发个对比表给我", "inquiry", NULL},
        {"客户: 行，顺便把报价也带上", "inquiry", NULL},
        {"Customer: Could you quote us for 20 more units?", "inquiry", NULL},
        {"Customer: Does the panel work with the Windows 7 PCs we already have?", "inquiry", NULL},
        {"客户: 你们的报价超出我们预算了", NULL, "price"},
        {"客户: 这个价超出我们心理价位太多了", NULL, "price"},
        {"Customer: Honestly, it's a lot more than we expected.", NULL, "price"},
        {"客户: 那个单子年前肯定定不下来了，等过了元宵再聊吧", NULL, "stall"},
        {"客户: 另外你们质保期是几年？", NULL, "after_sales"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        extract_result r;
        assert_int_equal(run(EXTRACT_CH_WECOM, "2026-03-02T10:15:00+08:00", cases[i].text, &r), SP_OK);
        if (cases[i].intent && !has((const char *const *)r.intents, r.n_intents, cases[i].intent))
            fail_msg("case %zu (%s): no intent %s", i, cases[i].text, cases[i].intent);
        if (cases[i].risk && !has((const char *const *)r.risks, r.n_risks, cases[i].risk))
            fail_msg("case %zu (%s): no risk %s", i, cases[i].text, cases[i].risk);
    }
    /* a service question stays a concern, not an inquiry */
    extract_result r;
    assert_int_equal(
        run(EXTRACT_CH_WECOM, "2026-03-02T10:15:00+08:00", "客户: 你们质保期是几年？", &r), SP_OK);
    assert_false(has((const char *const *)r.intents, r.n_intents, "inquiry"));
}

/* ---- dates -------------------------------------------------------------- */

struct date_case {
    const char *at, *text, *want; /* want NULL: no delivery date */
};

static void test_date_table(void **state)
{
    (void)state;
    static const struct date_case cases[] = {
        {"2025-12-12T14:22:00+08:00", "客户: 我们1月底就要改造完", "2026-01-31"},
        {"2025-12-11T13:45:00+08:00", "客户: 一期先上5条线，3月底前要投产", "2026-03-31"},
        {"2026-04-16T11:50:00+08:00", "客户: 没事，我们不急，6月底前到就行", "2026-06-30"},
        {"2026-03-02T10:00:00+08:00", "客户: 1月底前要到货", "2027-01-31"},
        {"2026-03-02T10:00:00+08:00", "客户: 4月30号前到货", "2026-04-30"},
        {"2026-03-02T10:00:00+08:00", "客户: 月底前到货", "2026-03-31"},
        {"2026-03-02T10:00:00+08:00", "客户: 下个月底前完成安装", "2026-04-30"},
        {"2026-12-05T10:00:00+08:00", "客户: 下个月要上线", "2027-01-31"},
        {"2026-03-16T10:00:00+08:00", "客户: 15天内要到货", "2026-03-31"},
        {"2026-02-09T10:00:00+08:00", "客户: 两周内要到货", "2026-02-23"},
        {"2026-01-12T10:00:00+08:00", "客户: 下周五前能送到吗", "2026-01-23"},
        {"2026-01-18T10:00:00+08:00", "客户: 下周一前发货", "2026-01-19"},
        {"2026-05-10T10:00:00+08:00", "客户: 年底前要部署完", "2026-12-31"},
        {"2026-01-05T10:00:00+08:00", "客户: Q1内要装机", "2026-03-31"},
        {"2026-05-05T10:00:00+08:00", "客户: 第三季度前上线", "2026-09-30"},
        {"2026-10-20T10:00:00+08:00", "to be rolled out by Q1", "2027-03-31"},
        {"2025-12-10T10:00:00+08:00", "客户: 能春节前上线吗", "2026-02-16"},
        {"2026-10-28T10:00:00+08:00", "客户: 春节前要装完", "2027-02-05"},
        {"2026-04-02T10:00:00+08:00", "Customer: installation must be complete by end of year", "2026-12-31"},
        {"2026-04-02T10:00:00+08:00", "Customer: we need them delivered within 10 days", "2026-04-12"},
        {"2026-04-02T10:00:00+08:00", "Customer: delivery by end of May please", "2026-05-31"},
        /* occurred_at in UTC is already the next day in Shanghai */
        {"2026-06-30T16:50:00Z", "客户: 记得月底前送过来", "2026-07-31"},
        /* several dates: the latest stated wins */
        {"2026-01-29T10:00:00+08:00", "客户：能不能春节前发货？\n客户：最晚也得2月10号到。", "2026-02-10"},
        /* no rule, meeting dates, rep statements */
        {"2026-03-02T10:00:00+08:00", "客户: 年后再说", NULL},
        {"2026-03-02T10:00:00+08:00", "客户: 中标后三个月内交付", NULL},
        {"2026-03-02T10:00:00+08:00", "客户: 下周四上午来学校演示", NULL},
        {"2026-03-02T10:00:00+08:00", "客户: 下周三之前把报价发我", NULL},
        {"2026-03-02T10:00:00+08:00", "销售: 我们4月10日前发货", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        extract_result r;
        assert_int_equal(run(EXTRACT_CH_WECOM, cases[i].at, cases[i].text, &r), SP_OK);
        const char *want = cases[i].want ? cases[i].want : "";
        if (strcmp(r.delivery_by, want) != 0)
            fail_msg("case %zu (%s): got \"%s\" want \"%s\"", i, cases[i].text, r.delivery_by, want);
    }
}

/* ---- products ----------------------------------------------------------- */

static void test_product_aliases(void **state)
{
    (void)state;
    static const struct {
        const char *text, *want[3];
    } cases[] = {
        {"客户: x200和X-200还有X 200", {"X200"}},
        {"客户: X300 Pro 和 x300pro", {"X300PRO"}},
        {"客户: X300的价格", {"X300PRO"}},
        {"客户: 我们要G7网关和边缘计算网关G9", {"G7", "G9"}},
        {"客户: MES 3.0 和 EduCloud", {"MES3", "EC5"}},
        {"客户: 交互平板和网关都要", {NULL}},
        {"客户: 型号AM5、M50和X2000都不是", {NULL}},
        {"Customer: the m-8 and M5 units", {"M8", "M5"}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        extract_result r;
        assert_int_equal(run(EXTRACT_CH_WECOM, "2026-03-02T10:15:00+08:00", cases[i].text, &r), SP_OK);
        size_t n = 0;
        for (; n < 3 && cases[i].want[n]; n++)
            if (!has(r.products, r.n_products, cases[i].want[n]))
                fail_msg("case %zu: missing %s", i, cases[i].want[n]);
        if (r.n_products != n)
            fail_msg("case %zu (%s): %zu products, want %zu", i, cases[i].text, r.n_products, n);
    }
    extract_result r;
    assert_int_equal(
        run(EXTRACT_CH_WECOM, "2026-03-02T10:15:00+08:00", "客户: 蓝鲸和Apex Systems都来过", &r), SP_OK);
    assert_int_equal(r.n_competitors, 2);
    assert_true(has(r.competitors, 2, "bluewhale") && has(r.competitors, 2, "apex"));
}

/* ---- speakers and quoted history ---------------------------------------- */

static void test_speaker_awareness(void **state)
{
    (void)state;
    extract_result r;
    /* risks and budget raised by the rep do not count */
    assert_int_equal(
        run(EXTRACT_CH_CALL, "2026-03-02T10:15:00+08:00",
            "销售：我担心售后跟不上，价格也太贵了，预算50万够吗？\n客户：好的，我们再联系。", &r),
        SP_OK);
    assert_int_equal(r.n_risks, 0);
    assert_false(r.has_budget);
    /* the same words from the customer do */
    assert_int_equal(
        run(EXTRACT_CH_CALL, "2026-03-02T10:15:00+08:00",
            "Rep: Hello.\nCustomer: Honestly it is too expensive and we worry about after-sales support.",
            &r),
        SP_OK);
    assert_true(has(r.risks, r.n_risks, "price"));
    assert_true(has(r.risks, r.n_risks, "after_sales"));
    /* our own staff's roles are not counted, an addressed X总 is */
    assert_int_equal(run(EXTRACT_CH_CALL, "2026-03-02T10:15:00+08:00",
                         "销售：陈总，我们技术总监下周过去。\n客户：好的。", &r),
        SP_OK);
    assert_int_equal(r.n_roles, 1);
    assert_string_equal(r.roles[0], "decision_maker");
    /* explicit turns */
    extract_turn turns[]
        = {{EXTRACT_SIDE_REP, "我们担心交期太长"}, {EXTRACT_SIDE_CUSTOMER, "我们财务说预算冻结了"}};
    extract_input in = {0};
    in.channel = EXTRACT_CH_CALL;
    in.turns = turns;
    in.n_turns = 2;
    assert_int_equal(extract_run(eng, &in, &r), SP_OK);
    assert_int_equal(r.n_risks, 1);
    assert_string_equal(r.risks[0], "budget_freeze");
    assert_true(has(r.roles, r.n_roles, "finance"));
    /* labels with parentheses; an unmarked speaker next to a customer label is the rep */
    assert_int_equal(run(EXTRACT_CH_CALL, "2026-03-02T10:15:00+08:00",
                         "Rep (Kevin): is it too expensive?\nCustomer (Tom): no, it is fine", &r),
        SP_OK);
    assert_int_equal(r.n_risks, 0);
    assert_int_equal(run(EXTRACT_CH_WECOM, "2026-03-02T10:15:00+08:00",
                         "客户: 收到\n小周: 您是不是担心售后？预算50万够吗？\n客户: 不是", &r),
        SP_OK);
    assert_int_equal(r.n_risks, 0);
    assert_false(r.has_budget);
    /* resolved concerns are not risks */
    assert_int_equal(
        run(EXTRACT_CH_WECOM, "2026-03-02T10:15:00+08:00", "客户: 之前担心售后，现在没问题了", &r), SP_OK);
    assert_int_equal(r.n_risks, 0);
    /* a message we sent (text_side REP): the rep's words are no intent,
     * budget, risk or card snippet; the products named still count */
    static const char *const sent
        = "马主任您好，X200的资料发您了，有任何想了解的随时找我。您是担心售后吗？预算50万够吗？";
    extract_input out = {0};
    out.channel = EXTRACT_CH_WECOM;
    out.text = sent;
    out.text_len = (size_t)-1;
    out.text_side = EXTRACT_SIDE_REP;
    assert_int_equal(extract_parse_iso8601("2026-03-02T10:15:00+08:00", &out.occurred_at_ms), SP_OK);
    assert_int_equal(extract_run(eng, &out, &r), SP_OK);
    assert_int_equal(r.n_intents, 0);
    assert_int_equal(r.n_risks, 0);
    assert_false(r.has_budget);
    assert_string_equal(r.core_need, "");
    assert_string_equal(r.concern, "");
    assert_true(has(r.products, r.n_products, "X200"));
    /* the same words unlabelled and not marked as ours read as the customer's */
    out.text_side = EXTRACT_SIDE_UNKNOWN;
    assert_int_equal(extract_run(eng, &out, &r), SP_OK);
    assert_true(r.n_intents > 0 || r.has_budget);
    /* a customer's labelled line inside our message is still theirs */
    out.text = "转发客户原话：\n王校长: 预算冻结了，下学期再说\n";
    out.text_side = EXTRACT_SIDE_REP;
    assert_int_equal(extract_run(eng, &out, &r), SP_OK);
    assert_true(has(r.risks, r.n_risks, "budget_freeze"));
}

static void test_quoted_email_ignored(void **state)
{
    (void)state;
    static const char *const mails[] = {
        "周经理：\n\n合同已盖章。\n\n> 我们担心售后跟不上，预算只有20万\n> 明德更便宜",
        "Hi Kevin,\n\nWe are ready to sign.\n\nOn Mon, Mar 2, 2026 at 10:00 AM Kevin wrote:\nWorried about "
        "after-sales? Apex is cheaper, budget $20k",
        "周经理：\n合同已盖章。\n-----Original Message-----\n担心售后，明德报价更低，预算20万",
        "周经理：\n合同已盖章。\n------------------ 原始邮件 "
        "------------------\n担心售后，明德报价更低，预算20万",
        "周经理：\n合同已盖章。\n\n发件人: 周航\n发送时间: 2026年3月1日\n担心售后，明德报价更低，预算20万",
        /* header lines at the top are not the quoted history */
        "Subject: order\nFrom: Tom\nTo: Kevin\n\nWe are ready to sign.\n\nOn Mon, Mar 2, 2026, Kevin "
        "wrote:\nApex is "
        "cheaper, budget $20k",
    };
    for (size_t i = 0; i < sizeof mails / sizeof mails[0]; i++) {
        extract_result r;
        assert_int_equal(run(EXTRACT_CH_EMAIL, "2026-03-02T10:15:00+08:00", mails[i], &r), SP_OK);
        if (r.n_risks || r.n_competitors || r.has_budget) fail_msg("mail %zu: quoted history was read", i);
        assert_true(has(r.intents, r.n_intents, "ready_to_sign"));
    }
    /* an e-mail signed by our company is the rep's */
    extract_result r;
    assert_int_equal(run(EXTRACT_CH_EMAIL, "2026-03-02T10:15:00+08:00",
                         "王经理：\n\n我方担心G9的交期可能延后，价格太贵。\n\n恒远科技 周航", &r),
        SP_OK);
    assert_int_equal(r.n_risks, 0);
}

/* ---- bad input ---------------------------------------------------------- */

static void test_invalid_utf8_and_limits(void **state)
{
    (void)state;
    extract_result r;
    static const char *const bad[]
        = {"客户: \xff\xfe", "\xc0\xaf", "\xed\xa0\x80", "abc\xe4\xb8", "\xf5\x80\x80\x80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(run(EXTRACT_CH_WECOM, "2026-03-02T10:15:00+08:00", bad[i], &r), SP_EUTF8);
    /* embedded NUL within the given length is rejected too */
    extract_input in = {0};
    in.text = "ab\0cd";
    in.text_len = 5;
    assert_int_equal(extract_run(eng, &in, &r), SP_EUTF8);
    assert_int_equal(extract_run(eng, NULL, &r), SP_EINVAL);
    assert_int_equal(extract_run(NULL, &in, &r), SP_EINVAL);
    in.text = "x";
    in.text_len = 1;
    in.tz = "America/New_York";
    assert_int_equal(extract_run(eng, &in, &r), SP_EINVAL);
    /* overlong input is capped at a code point boundary, never overrun */
    size_t n = EXTRACT_MAX_TEXT * 3 + 7;
    char *big = malloc(n + 1);
    assert_non_null(big);
    for (size_t i = 0; i + 3 <= n; i += 3)
        memcpy(big + i, "预", 3);
    memcpy(big + n - 7, "X200 ok", 7);
    big[n] = '\0';
    assert_int_equal(run(EXTRACT_CH_NOTE, "2026-03-02T10:15:00+08:00", big, &r), SP_OK);
    assert_int_equal(r.truncated, 1);
    assert_int_equal(r.n_products, 0); /* the tail beyond the cap is not read */
    free(big);
}

static void test_time_helpers(void **state)
{
    (void)state;
    int64_t ms;
    assert_int_equal(extract_parse_iso8601("1970-01-01T08:00:00+08:00", &ms), SP_OK);
    assert_int_equal(ms, 0);
    assert_int_equal(extract_parse_iso8601("2026-03-02T10:15:00.250Z", &ms), SP_OK);
    assert_int_equal(ms % 1000, 250);
    assert_int_not_equal(extract_parse_iso8601("2026-03-02", &ms), SP_OK);
    assert_int_not_equal(extract_parse_iso8601("2026-13-02T10:15:00Z", &ms), SP_OK);
    int off;
    assert_int_equal(extract_tz_offset(NULL, &off), SP_OK);
    assert_int_equal(off, 480);
    assert_int_equal(extract_tz_offset("Asia/Tokyo", &off), SP_OK);
    assert_int_equal(off, 540);
    assert_int_equal(extract_tz_offset("UTC-05:30", &off), SP_OK);
    assert_int_equal(off, -330);
    assert_int_equal(extract_tz_offset("Etc/GMT-8", &off), SP_OK);
    assert_int_equal(off, 480);
    assert_int_equal(extract_tz_offset("Mars/Olympus", &off), SP_EINVAL);
    /* the zone decides the local day: 23:30 UTC is the next day in Tokyo */
    extract_input in = {0};
    extract_result r;
    assert_int_equal(extract_parse_iso8601("2026-03-31T23:30:00Z", &in.occurred_at_ms), SP_OK);
    in.text = "客户: 月底前到货";
    in.text_len = (size_t)-1;
    in.tz = "UTC";
    assert_int_equal(extract_run(eng, &in, &r), SP_OK);
    assert_string_equal(r.delivery_by, "2026-03-31");
    in.tz = "Asia/Tokyo";
    assert_int_equal(extract_run(eng, &in, &r), SP_OK);
    assert_string_equal(r.delivery_by, "2026-04-30");
}

/* ---- JSON --------------------------------------------------------------- */

static void test_json_output(void **state)
{
    (void)state;
    extract_result r;
    assert_int_equal(
        run(EXTRACT_CH_WECOM, "2026-03-02T10:15:00+08:00", "客户: X200预算不超过50万，月底前到货", &r),
        SP_OK);
    char *j = NULL;
    assert_int_equal(extract_result_to_json(&r, "e1", 0, &j), SP_OK);
    assert_string_equal(j,
        "{\"id\":\"e1\",\"products\":[\"X200\"],\"competitors\":[],\"budget\":{\"min\":null,"
        "\"max\":500000,\"currency\":\"CNY\"},\"delivery_by\":\"2026-03-31\",\"risks\":[],"
        "\"roles\":[],\"intents\":[]}");
    free(j);
    extract_result_clear(&r);
    assert_int_equal(extract_result_to_json(&r, NULL, EXTRACT_JSON_CARD, &j), SP_OK);
    assert_non_null(strstr(j, "\"id\":null"));
    assert_non_null(strstr(j, "\"budget\":null"));
    assert_non_null(strstr(j, "\"core_need\":null"));
    free(j);
    /* the customer card snippets are at most 20 code points */
    assert_int_equal(
        run(EXTRACT_CH_WECOM, "2026-03-02T10:15:00+08:00",
            "客户: 你们这个价格实在是太贵了我们真的很难接受啊啊啊啊啊啊啊啊啊，能不能把报价单发我一份", &r),
        SP_OK);
    assert_true(r.concern[0] != '\0');
    assert_true(r.core_need[0] != '\0');
    size_t cps = 0;
    for (const unsigned char *p = (const unsigned char *)r.concern; *p; p++)
        if ((*p & 0xC0) != 0x80) cps++;
    assert_true(cps <= EXTRACT_SNIPPET_CP);
}

/* ---- lexicon errors ----------------------------------------------------- */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    if (b) b[n] = '\0';
    fclose(f);
    return b;
}

static void put(const char *dir, const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_lexicon_errors(void **state)
{
    (void)state;
    static const char *const files[]
        = {"speakers.json", "risks.json", "roles.json", "intents.json", "budget.json", "dates.json"};
    char dir[] = "/tmp/sp-lexicon-XXXXXX";
    assert_non_null(mkdtemp(dir));
    for (size_t i = 0; i < 6; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", LEXICON, files[i]);
        char *t = slurp(p);
        assert_non_null(t);
        put(dir, files[i], t);
        free(t);
    }
    static const struct {
        const char *file, *text, *needle[3];
    } cases[] = {
        {"risks.json",
            "{\"rules\":[{\"tag\":\"price\",\"patterns\":[\"ok\",\"(unclosed\"]}],\"resolved\":[\"x\"],"
            "\"demo_proposal\":[\"x\"],\"postpone_reply\":[\"x\"]}",
            {"risks.json", "rules[0]", "\"patterns\"[1]"}},
        {"risks.json",
            "{\"rules\":[{\"tag\":\"pricey\",\"patterns\":[\"x\"]}],\"resolved\":[\"x\"],"
            "\"demo_proposal\":[\"x\"],\"postpone_reply\":[\"x\"]}",
            {"risks.json", "rules[0]", "\"tag\""}},
        {"roles.json", "{\"rules\":[{\"tag\":\"finance\",\"patterns\":[]}]}",
            {"roles.json", "rules[0]", "\"patterns\""}},
        {"budget.json", "{\"cue\":[\"预算\"]}", {"budget.json", "top level", "\"quote\""}},
        {"dates.json", "{\"delivery_strong\": 3}", {"dates.json", "\"delivery_strong\"", ""}},
        {"intents.json", "{\"rules\": [", {"intents.json", "line", ""}},
        {"intents.json", "{\"rules\":[{\"tag\":\"inquiry\",\"patterns\":[\"x\"],\"unles\":[\"y\"]}]}",
            {"intents.json", "rules[0]", "\"unles\""}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char orig[512];
        snprintf(orig, sizeof orig, "%s/%s", LEXICON, cases[i].file);
        char *saved = slurp(orig);
        put(dir, cases[i].file, cases[i].text);
        char err[512];
        extract_engine *e = NULL;
        int rv = extract_engine_new(CATALOG, dir, err, sizeof err, &e);
        assert_int_equal(rv, SP_ECONFIG);
        assert_null(e);
        for (int k = 0; k < 3; k++)
            if (!strstr(err, cases[i].needle[k]))
                fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err, cases[i].needle[k]);
        put(dir, cases[i].file, saved);
        free(saved);
    }
    char err[512];
    extract_engine *e = NULL;
    assert_int_equal(extract_engine_new(CATALOG, "/nonexistent/lexicon", err, sizeof err, &e), SP_EIO);
    assert_non_null(strstr(err, "speakers.json"));
    assert_int_equal(extract_engine_new(CATALOG, dir, err, sizeof err, &e), SP_OK);
    extract_engine_destroy(e);
    extract_engine_destroy(NULL);
    for (size_t i = 0; i < 6; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
}

/* ---- pathological input ---------------------------------------------------- */

static void test_pathological_input(void **state)
{
    (void)state;
    /* long unpunctuated repetitions: bounded work, no crash (CPU time is a
     * generous guard against quadratic or runaway matching) */
    static const char *const units[]
        = {"预算1万到", "下周五、", "1月底到货、", "担心数据", "价格", "((((", "X-", "¥1,"};
    size_t n = EXTRACT_MAX_TEXT;
    char *big = malloc(n + 8);
    assert_non_null(big);
    clock_t t0 = clock();
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
        size_t l = strlen(units[u]), off = 0;
        while (off + l <= n) {
            memcpy(big + off, units[u], l);
            off += l;
        }
        big[off] = '\0';
        extract_result r;
        assert_int_equal(run(EXTRACT_CH_WECOM, "2026-03-02T10:15:00+08:00", big, &r), SP_OK);
    }
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    if (secs > 10.0) fail_msg("pathological inputs took %.1f s", secs);
    free(big);
}

/* ---- concurrency -------------------------------------------------------- */

static void *worker(void *arg)
{
    long bad = 0;
    for (int i = 0; i < 200; i++) {
        extract_result r;
        extract_input in = {0};
        in.text = "客户王总: G9太贵了，明德便宜不少，我们预算就20w，下个月底前要到货";
        in.text_len = (size_t)-1;
        in.occurred_at_ms = 1772417700000LL;
        if (extract_run(eng, &in, &r) != SP_OK || !r.has_budget || r.budget.max != 200000
            || r.n_competitors != 1)
            bad++;
    }
    *(long *)arg = bad;
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    pthread_t t[4];
    long bad[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker, &bad[i]), 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(bad[i], 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_budget_table),
        cmocka_unit_test(test_date_table),
        cmocka_unit_test(test_paraphrases),
        cmocka_unit_test(test_product_aliases),
        cmocka_unit_test(test_speaker_awareness),
        cmocka_unit_test(test_quoted_email_ignored),
        cmocka_unit_test(test_invalid_utf8_and_limits),
        cmocka_unit_test(test_time_helpers),
        cmocka_unit_test(test_json_output),
        cmocka_unit_test(test_lexicon_errors),
        cmocka_unit_test(test_pathological_input),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
