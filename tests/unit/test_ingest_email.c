/* Unit tests of sp-ingest e-mail parsing: charsets, transfer encodings,
 * HTML, multipart, attachments, quoted-history cutting, direction. The
 * fixtures are in tests/data/ingest/email/ (run from the repository root). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "err.h"
#include "ingest/email.h"
#include "ingest/event_id.h"
#include "ingest/html.h"
#include "ingest/quote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1772600000000LL /* 2026-03-04T04:53:20Z */
#define DIR "tests/data/ingest/email/"

static const char *const OURS[] = {"hengyuan.cn"};
static const ingest_email_opts OPTS = {.now_ms = NOW, .our_domains = OURS, .n_domains = 1};

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) fail_msg("cannot open %s (run from the repository root)", path);
    char *buf = malloc(1 << 16);
    *n = fread(buf, 1, 1 << 16, f);
    fclose(f);
    return buf;
}

static sp_interaction *parse_file(const char *name)
{
    size_t n;
    char path[256], err[256] = "";
    snprintf(path, sizeof path, DIR "%s", name);
    char *raw = slurp(path, &n);
    sp_interaction *ix = NULL;
    int rv = ingest_email_parse(raw, n, &OPTS, &ix, err, sizeof err);
    free(raw);
    if (rv != SP_OK) fail_msg("%s: %s (%d)", name, err, rv);
    return ix;
}

static void test_gbk_base64_inbound(void **state)
{
    (void)state;
    sp_interaction *ix = parse_file("gbk_base64.eml");
    assert_string_equal(ix->source, "email");
    assert_int_equal(ix->channel, SALESPULSE__V1__CHANNEL__CHANNEL_EMAIL);
    assert_string_equal(ix->external_id, "gbk-001@customer.com.cn");
    char id[SP_EVENT_ID_LEN + 1];
    ingest_event_id_derive("email", "gbk-001@customer.com.cn", id);
    assert_string_equal(ix->meta->event_id, id);
    assert_string_equal(ix->subject, "关于X200的报价");
    assert_string_equal(ix->text, "您好，X200的报价请发我一下，预算大概五十万，下个月采购。");
    assert_int_equal(ix->meta->occurred_at_ms, 1772415000000LL); /* 2026-03-02T01:30:00Z */
    assert_int_equal(ix->direction, SALESPULSE__V1__DIRECTION__DIRECTION_INBOUND);
    assert_string_equal(ix->customer_identity->value, "li.wei@customer.com.cn");
    assert_string_equal(ix->rep_id, "zhang.san@hengyuan.cn");
    assert_string_equal(ix->email->from, "li.wei@customer.com.cn");
    assert_int_equal(ix->email->n_to, 1);
    assert_int_equal(ix->n_parties, 2);
    assert_string_equal(ix->parties[0]->name, "李伟");
    assert_true(ix->parties[0]->customer_side);
    assert_string_equal(ix->parties[1]->name, "张三");
    assert_false(ix->parties[1]->customer_side);
    interaction_destroy(ix);
}

static void test_gb2312_qp_outbound(void **state)
{
    (void)state;
    sp_interaction *ix = parse_file("gb2312_qp.eml");
    assert_string_equal(ix->subject, "EC-5方案");
    assert_string_equal(ix->text, "张总：\n附件是EC-5方案，请查收。下周二可以安排演示。");
    assert_int_equal(ix->direction, SALESPULSE__V1__DIRECTION__DIRECTION_OUTBOUND);
    assert_string_equal(ix->rep_id, "zhang.san@hengyuan.cn");
    assert_string_equal(ix->customer_identity->value, "wang@school.edu.cn"); /* first To outside our domain */
    assert_int_equal(ix->email->n_to, 2);
    assert_int_equal(ix->email->n_cc, 1);
    assert_string_equal(ix->email->cc[0], "boss@hengyuan.cn");
    assert_string_equal(ix->parties[1]->name, "王总");
    interaction_destroy(ix);
}

static void test_big5(void **state)
{
    (void)state;
    sp_interaction *ix = parse_file("big5.eml");
    assert_string_equal(ix->subject, "請提供報價單");
    assert_string_equal(ix->text, "請提供X300 Pro的報價單，謝謝。我們關心售後服務。");
    assert_string_equal(ix->rep_id, "sales@hengyuan.cn");
    interaction_destroy(ix);
}

static void test_html_only(void **state)
{
    (void)state;
    sp_interaction *ix = parse_file("html_only.eml");
    assert_string_equal(ix->text, "Budget is <50k> & the deadline is 五月.\nSecond line\nthird line");
    assert_null(strstr(ix->text, "alert"));
    assert_null(strstr(ix->text, "color"));
    interaction_destroy(ix);
}

static void test_alternative_prefers_plain(void **state)
{
    (void)state;
    sp_interaction *ix = parse_file("alternative.eml");
    assert_string_equal(ix->text, "PLAIN VERSION wins");
    assert_int_equal(ix->email->n_attachments, 0);
    interaction_destroy(ix);
}

static void test_attachments(void **state)
{
    (void)state;
    sp_interaction *ix = parse_file("attachment.eml");
    assert_string_equal(ix->text, "需求确认书已签字，见附件。");
    assert_int_equal(ix->email->n_attachments, 2);
    assert_string_equal(ix->email->attachments[0]->name, "需求确认书.pdf");
    assert_string_equal(ix->email->attachments[0]->content_type, "application/pdf");
    assert_int_equal(ix->email->attachments[0]->size, 1028);
    assert_string_equal(ix->email->attachments[1]->name, "logo.png");
    assert_int_equal(ix->email->attachments[1]->size, 8);
    interaction_destroy(ix);
}

static void test_replies_keep_only_new_text(void **state)
{
    (void)state;
    static const struct {
        const char *file, *text, *quoted_starts;
    } cases[] = {
        {"reply_en.eml", "Tuesday works. Please bring the technical lead.", "Best regards,"},
        {"reply_zh.eml", "好的，我们内部讨论后下周回复。价格还需要再谈。", "------------------ 原始邮件"},
        {"reply_zh2.eml", "收到，合同条款没问题。", "此致"},
        {"outlook.eml", "We accept the revised quote.", "-----Original Message-----"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sp_interaction *ix = parse_file(cases[i].file);
        if (strcmp(ix->text, cases[i].text) != 0) fail_msg("%s: text '%s'", cases[i].file, ix->text);
        if (strncmp(ix->quoted_text, cases[i].quoted_starts, strlen(cases[i].quoted_starts)) != 0)
            fail_msg("%s: quoted '%s'", cases[i].file, ix->quoted_text);
        interaction_destroy(ix);
    }
    sp_interaction *ix = parse_file("reply_en.eml");
    assert_string_equal(ix->email->in_reply_to, "qp-002@hengyuan.cn");
    assert_non_null(strstr(ix->quoted_text, "> We can demo next Tuesday."));
    interaction_destroy(ix);
    ix = parse_file("reply_zh.eml");
    assert_string_equal(ix->subject, "回复：EC-5方案");
    assert_non_null(strstr(ix->quoted_text, "附件是EC-5方案"));
    interaction_destroy(ix);
}

static void test_malformed(void **state)
{
    (void)state;
    static const char *bad[] = {"malformed.eml", "no_from.eml"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n;
        char path[256], err[256] = "";
        snprintf(path, sizeof path, DIR "%s", bad[i]);
        char *raw = slurp(path, &n);
        sp_interaction *ix = NULL;
        assert_int_equal(ingest_email_parse(raw, n, &OPTS, &ix, err, sizeof err), SP_EDECODE);
        assert_null(ix);
        assert_true(err[0] != '\0');
        free(raw);
    }
    char err[64];
    sp_interaction *ix = NULL;
    assert_int_equal(ingest_email_parse("", 0, &OPTS, &ix, err, sizeof err), SP_EDECODE);
    assert_int_equal(
        ingest_email_parse("x", SP_EMAIL_MAX_BYTES + 1, &OPTS, &ix, err, sizeof err), SP_ETOOBIG);
    /* an unterminated multipart still yields its text; no Message-ID -> hash id */
    ix = parse_file("truncated_multipart.eml");
    assert_string_equal(ix->text, "你好");
    interaction_destroy(ix);
    const char *raw = "From: a@b.cn\r\nTo: zhang.san@hengyuan.cn\r\n\r\nhello\r\n";
    assert_int_equal(ingest_email_parse(raw, strlen(raw), &OPTS, &ix, err, sizeof err), SP_OK);
    assert_int_equal(strncmp(ix->external_id, "sha256:", 7), 0);
    assert_int_equal(strlen(ix->external_id), 7 + 32);
    assert_int_equal(ix->meta->occurred_at_ms, NOW); /* no Date */
    interaction_destroy(ix);
}

static void test_quote_cut_table(void **state)
{
    (void)state;
    static const struct {
        const char *in, *kept;
    } cases[] = {
        {"new text\n> old", "new text\n"},
        {"new\n\nOn Mon, 2 Mar 2026, Li <l@x.cn> wrote:\nold", "new\n\n"},
        {"new\nOn Mon, 2 Mar 2026, Li <l@x.cn>\nwrote:\nold", "new\n"},
        {"On time delivery matters.\nPlease confirm.", "On time delivery matters.\nPlease confirm."},
        {"新内容\n在 2026年3月2日，张三 写道：\n旧", "新内容\n"},
        {"在下周的会议上讨论。\n好的", "在下周的会议上讨论。\n好的"},
        {"a\n----- Original Message -----\nb", "a\n"},
        {"a\n-----邮件原件-----\nb", "a\n"},
        {"a\nFrom: x@y.cn\nSent: today\nb", "a\n"},
        {"From: my experience the X200 is better.\nyes", "From: my experience the X200 is better.\nyes"},
        {"a\n发件人： 张三\n发送时间： 2026\nb", "a\n"},
        {"a\n-- \nsig", "a\n"},
        {"a\n--\nsig", "a\n"},
        {"a\n---\nnot a sig", "a\n---\nnot a sig"},
        {"价格可以\n谢谢！\n王", "价格可以\n"},
        {"Thanks, that helps a lot with the budget.", "Thanks, that helps a lot with the budget."},
        {"no quotes at all", "no quotes at all"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t cut = ingest_quote_cut(cases[i].in, strlen(cases[i].in));
        if (cut != strlen(cases[i].kept) || strncmp(cases[i].in, cases[i].kept, cut) != 0)
            fail_msg("case %zu: cut at %zu, want %zu", i, cut, strlen(cases[i].kept));
    }
}

static void test_html_to_text_table(void **state)
{
    (void)state;
    static const struct {
        const char *html, *text;
    } cases[] = {
        {"<p>a</p><p>b</p>", "a\nb"},
        {"x<br>y<br/>z", "x\ny\nz"},
        {"<style>.a{}</style><script>evil()</script>ok", "ok"},
        {"&lt;&gt;&amp;&quot;&#x4E2D;&nbsp;.", "<>&\"中 ."},
        {"<div>new</div><blockquote>old<br>older</blockquote>", "new\n> old\n> older"},
        {"<table><tr><td>a</td><td>b</td></tr></table>", "a b"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = NULL;
        size_t n = 0;
        assert_int_equal(ingest_html_to_text(cases[i].html, strlen(cases[i].html), &out, &n), SP_OK);
        if (strcmp(out, cases[i].text) != 0) fail_msg("case %zu: '%s'", i, out);
        assert_int_equal(n, strlen(out));
        free(out);
    }
    /* garbage is survived, whatever text libxml2 salvages */
    static const char *junk[] = {"<<<>>>", "<p", "</p></p></div>", "<![CDATA[", "&#xFFFFFFFF;&bogus;"};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        char *out = NULL;
        size_t n = 0;
        assert_int_equal(ingest_html_to_text(junk[i], strlen(junk[i]), &out, &n), SP_OK);
        free(out);
    }
}

static void test_charset_fallbacks(void **state)
{
    (void)state;
    static const struct {
        const char *in, *cs, *out;
    } cases[] = {
        {"\xd6\xd0\xce\xc4", "gb2312", "中文"},
        {"\xd6\xd0\xce\xc4", "GBK", "中文"},
        {"\xd6\xd0\xce\xc4", NULL, "中文"}, /* unlabelled, not UTF-8 -> GB18030 */
        {"\xa4\xa4\xa4\xe5", "big5", "中文"},
        {"\xe4\xb8\xad", "utf-8", "中"},
        {"caf\xe9", "iso-8859-1", "café"},
        {"ab\xff", "utf-8", "ab\xef\xbf\xbd"}, /* invalid byte -> U+FFFD */
        {"abc", "x-unknown-charset", "abc"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = NULL;
        size_t n;
        assert_int_equal(
            ingest_email_to_utf8(cases[i].in, strlen(cases[i].in), cases[i].cs, &out, &n), SP_OK);
        if (strcmp(out, cases[i].out) != 0) fail_msg("case %zu: '%s'", i, out);
        free(out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gbk_base64_inbound),
        cmocka_unit_test(test_gb2312_qp_outbound),
        cmocka_unit_test(test_big5),
        cmocka_unit_test(test_html_only),
        cmocka_unit_test(test_alternative_prefers_plain),
        cmocka_unit_test(test_attachments),
        cmocka_unit_test(test_replies_keep_only_new_text),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_quote_cut_table),
        cmocka_unit_test(test_html_to_text_table),
        cmocka_unit_test(test_charset_fallbacks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
