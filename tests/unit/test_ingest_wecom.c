/* Unit tests of sp-ingest's WeCom callback crypto and message parsing.
 *
 * Fixed vectors: the worked example of WeCom's own WXBizMsgCrypt sample
 * (Tencent's callback SDK, Sample.cs / Sample.py: token "QDG6eK", corp id
 * "wx5823bf96d3bd56c7", EncodingAESKey "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
 * the URL-verification GET and the encrypted "hello" POST). Re-checked here
 * with the command line:
 *   python3 -c 'import hashlib;print(hashlib.sha1("".join(sorted(["QDG6eK",
 *     "1409659589","263014780","P9nA...aqQ=="])).encode()).hexdigest())'
 *   echo P9nA...aqQ== | base64 -d | openssl enc -d -aes-256-cbc -nopad \
 *     -K <hex of base64-decoded key> -iv <first 16 key bytes>
 * which gives the random prefix "c41b64491c2468d0", length 19, echo
 * "1616140317555161061" and the corp id, padded with 0x07 (a 32-byte block). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "err.h"
#include "ingest/b64.h"
#include "ingest/event_id.h"
#include "ingest/wecom.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN      "QDG6eK"
#define CORP       "wx5823bf96d3bd56c7"
#define AESKEY     "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
#define ECHO_SIG   "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3"
#define ECHO_TS    "1409659589"
#define ECHO_NONCE "263014780"
#define ECHO_STR   "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
#define ECHO_PLAIN "1616140317555161061"
#define MSG_SIG    "477715d11cdb4164915debcba66cb864d751f3e6"
#define MSG_TS     "1409659813"
#define MSG_NONCE  "1372623149"
#define MSG_ENCRYPT                                                                                          \
    "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/"                                   \
    "0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/"                                                                    \
    "sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+"   \
    "HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+"                      \
    "BCA9nMELNqbSf6tiWSrXJB3LAVGUc"                                                                          \
    "allcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/"                                 \
    "uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/"                                                                 \
    "T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q=="
#define MSG_BODY                                                                                             \
    "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt><![CDATA[" MSG_ENCRYPT             \
    "]]></Encrypt><AgentID><![CDATA[218]]></AgentID></xml>"
#define MSG_PLAIN                                                                                            \
    "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>\n<FromUserName><![CDATA[mycreate]]></"     \
    "FromUserName>\n"                                                                                        \
    "<CreateTime>1409659813</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[hello]]></" \
    "Content>\n"                                                                                             \
    "<MsgId>4561255354251345929</MsgId>\n<AgentID>218</AgentID>\n</xml>"

#define NOW 1772417700000LL

static wecom_crypto *ctx(const char *corp)
{
    wecom_crypto *c = NULL;
    assert_int_equal(wecom_crypto_new(TOKEN, AESKEY, corp, &c), SP_OK);
    return c;
}

/* Injected "random" prefix. */
static int fixed_random(unsigned char *buf, size_t n, void *arg)
{
    memcpy(buf, arg, n);
    return 0;
}

static void test_new_rejects_bad_settings(void **state)
{
    (void)state;
    wecom_crypto *c = NULL;
    assert_int_equal(wecom_crypto_new(TOKEN, "short", CORP, &c), SP_EINVAL);
    assert_int_equal(wecom_crypto_new(TOKEN, AESKEY "x", CORP, &c), SP_EINVAL);
    assert_int_equal(
        wecom_crypto_new(TOKEN, "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2*", CORP, &c), SP_EINVAL);
    assert_int_equal(wecom_crypto_new("", AESKEY, CORP, &c), SP_EINVAL);
    assert_int_equal(wecom_crypto_new(TOKEN, AESKEY, "", &c), SP_EINVAL);
    assert_null(c);
    wecom_crypto_destroy(NULL);
}

static void test_documented_signatures(void **state)
{
    (void)state;
    char sig[SP_WECOM_SIG_LEN + 1];
    assert_int_equal(wecom_signature(TOKEN, ECHO_TS, ECHO_NONCE, ECHO_STR, sig), SP_OK);
    assert_string_equal(sig, ECHO_SIG);
    assert_int_equal(wecom_signature(TOKEN, MSG_TS, MSG_NONCE, MSG_ENCRYPT, sig), SP_OK);
    assert_string_equal(sig, MSG_SIG);
}

static void test_documented_url_verification(void **state)
{
    (void)state;
    wecom_crypto *c = ctx(CORP);
    char *plain = NULL;
    size_t n = 0;
    assert_int_equal(wecom_verify_url(c, ECHO_SIG, ECHO_TS, ECHO_NONCE, ECHO_STR, &plain, &n), SP_OK);
    assert_int_equal(n, strlen(ECHO_PLAIN));
    assert_string_equal(plain, ECHO_PLAIN);
    free(plain);
    /* upper-case hex signature is the same signature */
    assert_int_equal(wecom_verify_url(c, "5C45FF5E21C57E6AD56BAC8758B79B1D9AC89FD3", ECHO_TS, ECHO_NONCE,
                         ECHO_STR, &plain, &n),
        SP_OK);
    free(plain);
    /* our encryptor, given the same random prefix, reproduces the echostr */
    char *enc = NULL;
    assert_int_equal(
        wecom_encrypt(c, ECHO_PLAIN, strlen(ECHO_PLAIN), fixed_random, "c41b64491c2468d0", &enc), SP_OK);
    assert_string_equal(enc, ECHO_STR);
    free(enc);
    wecom_crypto_destroy(c);
}

static void test_documented_message(void **state)
{
    (void)state;
    wecom_crypto *c = ctx(CORP);
    char *inner = NULL;
    size_t n = 0;
    assert_int_equal(
        wecom_callback_decrypt(c, MSG_SIG, MSG_TS, MSG_NONCE, MSG_BODY, strlen(MSG_BODY), &inner, &n), SP_OK);
    assert_string_equal(inner, MSG_PLAIN);
    char *enc = NULL;
    assert_int_equal(wecom_encrypt(c, inner, n, fixed_random, "0960688932c47ef1", &enc), SP_OK);
    assert_string_equal(enc, MSG_ENCRYPT);
    free(enc);

    sp_interaction *ix = NULL;
    assert_int_equal(wecom_message_to_interaction(inner, n, NOW, &ix), SP_OK);
    assert_int_equal(ix->channel, SALESPULSE__V1__CHANNEL__CHANNEL_WECOM);
    assert_string_equal(ix->source, "wecom");
    assert_string_equal(ix->text, "hello");
    assert_string_equal(ix->external_id, "4561255354251345929");
    assert_int_equal(ix->meta->occurred_at_ms, 1409659813000LL);
    assert_string_equal(ix->rep_id, "mycreate"); /* a member, not an external contact */
    assert_int_equal(ix->direction, SALESPULSE__V1__DIRECTION__DIRECTION_INTERNAL);
    char id[SP_EVENT_ID_LEN + 1];
    ingest_event_id_derive("wecom", "4561255354251345929", id);
    assert_string_equal(ix->meta->event_id, id);
    interaction_destroy(ix);
    free(inner);
    wecom_crypto_destroy(c);
}

static void test_envelope(void **state)
{
    (void)state;
    wecom_envelope e;
    assert_int_equal(wecom_envelope_parse(MSG_BODY, strlen(MSG_BODY), &e), SP_OK);
    assert_string_equal(e.to_user_name, CORP);
    assert_string_equal(e.agent_id, "218");
    assert_string_equal(e.encrypt, MSG_ENCRYPT);
    wecom_envelope_clear(&e);
    static const char *bad[] = {
        "",
        "<xml>",
        "not xml",
        "<xml><ToUserName>x</ToUserName></xml>",
        "<other><Encrypt>x</Encrypt></other>",
        /* external entities and DTDs are refused outright */
        "<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY x SYSTEM "
        "\"file:///etc/passwd\">]><xml><Encrypt>&x;</Encrypt></xml>",
        "<!DOCTYPE xml [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b "
        "\"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]><xml><Encrypt>&b;</Encrypt></xml>",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (wecom_envelope_parse(bad[i], strlen(bad[i]), &e) != SP_EDECODE) fail_msg("case %zu accepted", i);
        assert_null(e.encrypt);
    }
}

static void test_round_trip_and_reply(void **state)
{
    (void)state;
    wecom_crypto *c = ctx(CORP);
    static const char *msgs[] = {"", "a", "<xml><Content><![CDATA[预算五十万，下周演示]]></Content></xml>",
        "0123456789abcdef0123456789abcdef0123456789ab"}; /* lengths around the 32-byte block */
    for (size_t i = 0; i < sizeof msgs / sizeof msgs[0]; i++) {
        char *enc = NULL, *dec = NULL;
        size_t n = 0;
        assert_int_equal(wecom_encrypt(c, msgs[i], strlen(msgs[i]), NULL, NULL, &enc), SP_OK);
        assert_int_equal(wecom_decrypt(c, enc, strlen(enc), &dec, &n), SP_OK);
        assert_int_equal(n, strlen(msgs[i]));
        assert_string_equal(dec, msgs[i]);
        free(enc);
        free(dec);
    }
    char *xml = NULL;
    assert_int_equal(
        wecom_reply_build(c, "<xml>hi</xml>", 13, "1409659813", "abc123", NULL, NULL, &xml), SP_OK);
    /* the reply parses back as an envelope, and its signature verifies */
    wecom_envelope e;
    assert_int_equal(wecom_envelope_parse(xml, strlen(xml), &e), SP_OK);
    const char *s = strstr(xml, "<MsgSignature><![CDATA[");
    assert_non_null(s);
    char sig[SP_WECOM_SIG_LEN + 1];
    memcpy(sig, s + 23, SP_WECOM_SIG_LEN);
    sig[SP_WECOM_SIG_LEN] = '\0';
    assert_int_equal(wecom_signature_verify(c, sig, "1409659813", "abc123", e.encrypt), SP_OK);
    wecom_envelope_clear(&e);
    free(xml);
    assert_int_equal(wecom_reply_build(c, "x", 1, "14<09", "abc", NULL, NULL, &xml), SP_EINVAL);
    wecom_crypto_destroy(c);
}

static void test_rejections(void **state)
{
    (void)state;
    wecom_crypto *c = ctx(CORP);
    char *out = NULL;
    size_t n = 0;
    /* bad signature: one digit changed, wrong length, wrong token, wrong nonce */
    assert_int_equal(wecom_verify_url(c, "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd4", ECHO_TS, ECHO_NONCE,
                         ECHO_STR, &out, &n),
        SP_EAUTH);
    assert_int_equal(wecom_verify_url(c, "5c45ff", ECHO_TS, ECHO_NONCE, ECHO_STR, &out, &n), SP_EAUTH);
    assert_int_equal(wecom_verify_url(c, NULL, ECHO_TS, ECHO_NONCE, ECHO_STR, &out, &n), SP_EAUTH);
    assert_int_equal(wecom_verify_url(c, ECHO_SIG, ECHO_TS, "263014781", ECHO_STR, &out, &n), SP_EAUTH);
    assert_int_equal(
        wecom_callback_decrypt(c, ECHO_SIG, MSG_TS, MSG_NONCE, MSG_BODY, strlen(MSG_BODY), &out, &n),
        SP_EAUTH);
    wecom_crypto *other = NULL;
    assert_int_equal(wecom_crypto_new("other", AESKEY, CORP, &other), SP_OK);
    assert_int_equal(wecom_verify_url(other, ECHO_SIG, ECHO_TS, ECHO_NONCE, ECHO_STR, &out, &n), SP_EAUTH);
    wecom_crypto_destroy(other);
    assert_null(out);

    /* wrong corp id */
    wecom_crypto *wrong = ctx("wx0000000000000000");
    assert_int_equal(wecom_decrypt(wrong, ECHO_STR, strlen(ECHO_STR), &out, &n), SP_EFORBIDDEN);
    wecom_crypto *prefix = ctx("wx5823bf96d3bd56c");
    assert_int_equal(wecom_decrypt(prefix, ECHO_STR, strlen(ECHO_STR), &out, &n), SP_EFORBIDDEN);
    wecom_crypto_destroy(prefix);
    wecom_crypto_destroy(wrong);

    /* truncated / garbage */
    static const char *garbage[]
        = {"", "====", "not base64!", "AAAA", "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKk=",
            "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4R"};
    for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++)
        if (wecom_decrypt(c, garbage[i], strlen(garbage[i]), &out, &n) != SP_EDECODE)
            fail_msg("garbage %zu", i);
    assert_null(out);
    wecom_crypto_destroy(c);
}

/* Encrypts raw plaintext blocks with the sample key, no padding added. */
static char *raw_encrypt(const unsigned char *pt, size_t n)
{
    unsigned char key[33];
    size_t kl;
    char k[45] = AESKEY "=";
    k[42] = 'A'; /* 'C' with its 2 unused bits cleared */
    assert_int_equal(ingest_b64_decode(k, 44, key, &kl, 0), SP_OK);
    unsigned char ct[256];
    int l1 = 0, l2 = 0;
    EVP_CIPHER_CTX *e = EVP_CIPHER_CTX_new();
    EVP_EncryptInit_ex(e, EVP_aes_256_cbc(), NULL, key, key);
    EVP_CIPHER_CTX_set_padding(e, 0);
    EVP_EncryptUpdate(e, ct, &l1, pt, (int)n);
    EVP_EncryptFinal_ex(e, ct + l1, &l2);
    EVP_CIPHER_CTX_free(e);
    char *out = malloc(SP_B64_ENC_LEN((size_t)(l1 + l2)));
    ingest_b64_encode(ct, (size_t)(l1 + l2), out, 0);
    return out;
}

static void test_bad_padding_and_length(void **state)
{
    (void)state;
    wecom_crypto *c = ctx(CORP);
    /* a valid 64-byte plaintext: 16 random, len 19, echo, corp id, 7 x 0x07 */
    unsigned char pt[64];
    memcpy(pt, "c41b64491c2468d0", 16);
    pt[16] = 0, pt[17] = 0, pt[18] = 0, pt[19] = 19;
    memcpy(pt + 20, ECHO_PLAIN CORP, 19 + 18);
    memset(pt + 57, 7, 7);
    char *b64 = raw_encrypt(pt, 64), *out = NULL;
    size_t n;
    assert_int_equal(wecom_decrypt(c, b64, strlen(b64), &out, &n), SP_OK);
    assert_string_equal(out, ECHO_PLAIN);
    assert_string_equal(b64, ECHO_STR);
    free(out);
    free(b64);
    static const struct {
        int at;
        unsigned char v;
    } bad[] = {
        {63, 0}, /* pad 0 */
        {63, 33}, /* pad larger than the 32-byte block */
        {60, 6}, /* inconsistent pad bytes */
        {19, 200}, /* length field past the end */
        {16, 0xff}, /* huge length */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unsigned char m[64];
        memcpy(m, pt, 64);
        m[bad[i].at] = bad[i].v;
        b64 = raw_encrypt(m, 64);
        int rv = wecom_decrypt(c, b64, strlen(b64), &out, &n);
        if (rv == SP_OK) fail_msg("bad padding case %zu accepted", i);
        assert_null(out);
        free(b64);
    }
    wecom_crypto_destroy(c);
}

static void test_messages_table(void **state)
{
    (void)state;
    static const struct {
        const char *xml;
        int rv;
        const char *text, *external_id, *subject, *rep, *customer;
        int direction;
    } cases[] = {
        {"<xml><ToUserName>ww1</ToUserName><FromUserName>wmAbCdEf</FromUserName><CreateTime>1772416800</"
         "CreateTime>"
         "<MsgType>text</MsgType><Content><![CDATA[X200 "
         "报价多少？]]></Content><MsgId>77</MsgId><AgentID>1</AgentID></xml>",
            SP_OK, "X200 报价多少？", "77", "", "", "wmAbCdEf", 1},
        {"<xml><ToUserName>ww1</ToUserName><FromUserName>sys</FromUserName><CreateTime>1772416800</"
         "CreateTime>"
         "<MsgType>event</MsgType><Event>change_external_contact</Event><ChangeType>add_external_contact</"
         "ChangeType>"
         "<UserID>zhangsan</UserID><ExternalUserID>wmXyz</ExternalUserID><State>expo</State></xml>",
            SP_OK, "", "change_external_contact:add_external_contact:zhangsan:wmXyz:1772416800",
            "wecom:change_external_contact:add_external_contact", "zhangsan", "wmXyz", 3},
        {"<xml><ToUserName>ww1</ToUserName><FromUserName>sys</FromUserName><CreateTime>1772416801</"
         "CreateTime>"
         "<MsgType>event</MsgType><Event>change_external_chat</Event><ChangeType>create</ChangeType>"
         "<ChatId>wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA</ChatId></xml>",
            SP_OK, "", "change_external_chat:create::wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA:1772416801",
            "wecom:change_external_chat:create", "", NULL, 3},
        {"<xml><MsgType>image</MsgType><CreateTime>1</CreateTime><PicUrl>x</PicUrl></xml>", SP_ENOTFOUND},
        {"<xml><MsgType>event</MsgType><CreateTime>1</CreateTime><Event>subscribe</Event></xml>",
            SP_ENOTFOUND},
        {"<xml><MsgType>text</MsgType><CreateTime>1</CreateTime><FromUserName>a</FromUserName><Content>x</"
         "Content></xml>",
            SP_EDECODE}, /* no MsgId */
        {"<xml><MsgType>text</MsgType><CreateTime>soon</CreateTime><FromUserName>a</FromUserName><Content>x</"
         "Content>"
         "<MsgId>1</MsgId></xml>",
            SP_EDECODE},
        {"<xml><MsgType>event</MsgType><CreateTime>1</CreateTime><Event>change_external_contact</Event></"
         "xml>",
            SP_EDECODE}, /* no ChangeType */
        {"<xml><MsgType>text", SP_EDECODE},
        /* no time WeCom sends: beyond 3000-01-01 (its milliseconds overflowed: fuzz_wecom), or 0 */
        {"<xml><MsgType>text</MsgType><CreateTime>140965981409659813</CreateTime><FromUserName>a</"
         "FromUserName><Content>x</Content><MsgId>1</MsgId></xml>",
            SP_EDECODE},
        {"<xml><MsgType>text</MsgType><CreateTime>0</CreateTime><FromUserName>a</FromUserName><Content>x</"
         "Content><MsgId>1</MsgId></xml>",
            SP_EDECODE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sp_interaction *ix = NULL;
        int rv = wecom_message_to_interaction(cases[i].xml, strlen(cases[i].xml), NOW, &ix);
        if (rv != cases[i].rv) fail_msg("case %zu: rv %d want %d", i, rv, cases[i].rv);
        if (rv != SP_OK) {
            assert_null(ix);
            continue;
        }
        assert_string_equal(ix->text, cases[i].text);
        assert_string_equal(ix->external_id, cases[i].external_id);
        assert_string_equal(ix->subject, cases[i].subject);
        assert_string_equal(ix->rep_id, cases[i].rep);
        if (cases[i].customer) {
            assert_int_equal(ix->customer_identity->kind, SALESPULSE__V1__IDENTITY_KIND__IDENTITY_KIND_WECOM);
            assert_string_equal(ix->customer_identity->value, cases[i].customer);
        } else {
            assert_null(ix->customer_identity);
        }
        assert_int_equal(ix->direction, cases[i].direction);
        interaction_destroy(ix);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_rejects_bad_settings),
        cmocka_unit_test(test_documented_signatures),
        cmocka_unit_test(test_documented_url_verification),
        cmocka_unit_test(test_documented_message),
        cmocka_unit_test(test_envelope),
        cmocka_unit_test(test_round_trip_and_reply),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_bad_padding_and_length),
        cmocka_unit_test(test_messages_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
