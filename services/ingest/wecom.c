/* wecom.c - WeCom callback crypto and message parsing (see wecom.h). */
#include "ingest/wecom.h"

#include "err.h"
#include "ingest/b64.h"
#include "ingest/textutil.h"

#include <ctype.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK     32 /* WeCom's PKCS#7 block, not AES's 16 */
#define MSG_MAX   (1024 * 1024)
#define FIELD_MAX 256

struct wecom_crypto {
    char token[FIELD_MAX];
    char receive_id[FIELD_MAX];
    unsigned char key[32];
};

int wecom_crypto_new(
    const char *token, const char *encoding_aes_key, const char *receive_id, wecom_crypto **out)
{
    *out = NULL;
    if (token == NULL || receive_id == NULL || encoding_aes_key == NULL || !*token || !*receive_id
        || strlen(token) >= FIELD_MAX || strlen(receive_id) >= FIELD_MAX || strlen(encoding_aes_key) != 43)
        return SP_EINVAL;
    char k[45];
    memcpy(k, encoding_aes_key, 43);
    k[43] = '=', k[44] = '\0';
    /* 43 characters carry 258 bits; WeCom's keys (its own sample's among
     * them) may set the 2 unused bits, which decoders ignore: clear them. */
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *pos = strchr(alpha, k[42]);
    if (pos == NULL || k[42] == '\0') return SP_EINVAL;
    k[42] = alpha[(pos - alpha) & ~3];
    unsigned char key[40];
    size_t klen = 0;
    if (ingest_b64_decode(k, 44, key, &klen, 0) != 0 || klen != 32) return SP_EINVAL;
    wecom_crypto *c = calloc(1, sizeof *c);
    if (c == NULL) return SP_ENOMEM;
    memcpy(c->key, key, 32);
    OPENSSL_cleanse(key, sizeof key);
    snprintf(c->token, sizeof c->token, "%s", token);
    snprintf(c->receive_id, sizeof c->receive_id, "%s", receive_id);
    *out = c;
    return SP_OK;
}

void wecom_crypto_destroy(wecom_crypto *c)
{
    if (c == NULL) return;
    OPENSSL_cleanse(c, sizeof *c);
    free(c);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int wecom_signature(const char *token, const char *timestamp, const char *nonce, const char *encrypt,
    char out[SP_WECOM_SIG_LEN + 1])
{
    if (!token || !timestamp || !nonce || !encrypt) return SP_EINVAL;
    const char *parts[4] = {token, timestamp, nonce, encrypt};
    qsort(parts, 4, sizeof parts[0], cmp_str);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char md[20];
    unsigned int mdlen = 0;
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha1(), NULL);
    for (int i = 0; ok && i < 4; i++)
        ok = EVP_DigestUpdate(ctx, parts[i], strlen(parts[i]));
    ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) && mdlen == 20;
    EVP_MD_CTX_free(ctx);
    if (!ok) return SP_EIO;
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 20; i++)
        out[2 * i] = hex[md[i] >> 4], out[2 * i + 1] = hex[md[i] & 15];
    out[40] = '\0';
    return SP_OK;
}

int wecom_signature_verify(const wecom_crypto *c, const char *msg_signature, const char *timestamp,
    const char *nonce, const char *encrypt)
{
    char want[SP_WECOM_SIG_LEN + 1], got[SP_WECOM_SIG_LEN];
    if (msg_signature == NULL || strlen(msg_signature) != SP_WECOM_SIG_LEN) return SP_EAUTH;
    if (wecom_signature(c->token, timestamp, nonce, encrypt, want) != 0) return SP_EAUTH;
    for (int i = 0; i < SP_WECOM_SIG_LEN; i++)
        got[i] = (char)tolower((unsigned char)msg_signature[i]);
    return CRYPTO_memcmp(got, want, SP_WECOM_SIG_LEN) == 0 ? SP_OK : SP_EAUTH;
}

/* AES-256-CBC without OpenSSL's padding (WeCom pads to 32 bytes itself). */
static int aes(const wecom_crypto *c, int enc, const unsigned char *in, size_t n, unsigned char *out)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int l1 = 0, l2 = 0;
    int ok = ctx && EVP_CipherInit_ex(ctx, EVP_aes_256_cbc(), NULL, c->key, c->key, enc)
        && EVP_CIPHER_CTX_set_padding(ctx, 0) && EVP_CipherUpdate(ctx, out, &l1, in, (int)n)
        && EVP_CipherFinal_ex(ctx, out + l1, &l2) && (size_t)(l1 + l2) == n;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? SP_OK : SP_EIO;
}

int wecom_decrypt(const wecom_crypto *c, const char *b64, size_t len, char **msg, size_t *msglen)
{
    *msg = NULL;
    *msglen = 0;
    if (b64 == NULL || len == 0 || len > 2 * MSG_MAX) return SP_EDECODE;
    unsigned char *ct = malloc(len / 4 * 3 + 3);
    unsigned char *pt = NULL;
    size_t n = 0;
    int rv = SP_EDECODE;
    if (ct == NULL) return SP_ENOMEM;
    if (ingest_b64_decode(b64, len, ct, &n, 0) != 0 || n == 0 || n % 16 != 0 || n < BLOCK) goto done;
    pt = malloc(n);
    if (pt == NULL) {
        rv = SP_ENOMEM;
        goto done;
    }
    if (aes(c, 0, ct, n, pt) != 0) goto done;
    unsigned pad = pt[n - 1];
    if (pad < 1 || pad > BLOCK || pad > n) goto done;
    for (size_t i = n - pad; i < n; i++)
        if (pt[i] != pad) goto done;
    size_t plen = n - pad;
    if (plen < 20) goto done;
    uint32_t ml = (uint32_t)pt[16] << 24 | (uint32_t)pt[17] << 16 | (uint32_t)pt[18] << 8 | pt[19];
    if (ml > plen - 20) goto done;
    size_t idlen = plen - 20 - ml;
    if (idlen != strlen(c->receive_id) || CRYPTO_memcmp(pt + 20 + ml, c->receive_id, idlen) != 0) {
        rv = SP_EFORBIDDEN;
        goto done;
    }
    char *m = malloc((size_t)ml + 1);
    if (m == NULL) {
        rv = SP_ENOMEM;
        goto done;
    }
    memcpy(m, pt + 20, ml);
    m[ml] = '\0';
    *msg = m;
    *msglen = ml;
    rv = SP_OK;
done:
    if (pt) OPENSSL_cleanse(pt, n);
    free(pt);
    free(ct);
    return rv;
}

static int rand_default(unsigned char *buf, size_t n, void *arg)
{
    (void)arg;
    return RAND_bytes(buf, (int)n) == 1 ? 0 : -1;
}

int wecom_encrypt(
    const wecom_crypto *c, const char *msg, size_t len, wecom_random_fn rnd, void *arg, char **b64)
{
    *b64 = NULL;
    if (len > MSG_MAX) return SP_ETOOBIG;
    size_t idlen = strlen(c->receive_id);
    size_t plen = 20 + len + idlen;
    size_t pad = BLOCK - plen % BLOCK;
    size_t n = plen + pad;
    unsigned char *pt = malloc(n), *ct = malloc(n);
    char *out = malloc(SP_B64_ENC_LEN(n));
    int rv = SP_ENOMEM;
    if (pt == NULL || ct == NULL || out == NULL) goto done;
    rv = SP_EIO;
    if ((rnd ? rnd : rand_default)(pt, 16, arg) != 0) goto done;
    pt[16] = (unsigned char)(len >> 24), pt[17] = (unsigned char)(len >> 16);
    pt[18] = (unsigned char)(len >> 8), pt[19] = (unsigned char)len;
    memcpy(pt + 20, msg, len);
    memcpy(pt + 20 + len, c->receive_id, idlen);
    memset(pt + plen, (int)pad, pad);
    if (aes(c, 1, pt, n, ct) != 0) goto done;
    ingest_b64_encode(ct, n, out, 0);
    *b64 = out;
    out = NULL;
    rv = SP_OK;
done:
    if (pt) OPENSSL_cleanse(pt, n);
    free(pt);
    free(ct);
    free(out);
    return rv;
}

int wecom_verify_url(const wecom_crypto *c, const char *msg_signature, const char *timestamp,
    const char *nonce, const char *echostr, char **plain, size_t *plainlen)
{
    *plain = NULL;
    *plainlen = 0;
    if (echostr == NULL) return SP_EDECODE;
    int rv = wecom_signature_verify(c, msg_signature, timestamp, nonce, echostr);
    if (rv != 0) return rv;
    return wecom_decrypt(c, echostr, strlen(echostr), plain, plainlen);
}

/* --- XML --------------------------------------------------------------------- */

static xmlDocPtr xml_read(const char *xml, size_t len)
{
    if (len == 0 || len > SP_WECOM_XML_MAX) return NULL;
    /* no network, no DTD loading, no entity substitution, quiet */
    xmlDocPtr doc = xmlReadMemory(xml, (int)len, "wecom.xml", NULL,
        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
    if (doc == NULL) return NULL;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (doc->intSubset != NULL || doc->extSubset != NULL || root == NULL
        || xmlStrcmp(root->name, (const xmlChar *)"xml") != 0) {
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

/* Text of the first child element called name, malloc'd and trimmed; NULL
 * when absent (or *oom set when out of memory). */
static char *child_text(xmlDocPtr doc, const char *name, int *oom)
{
    xmlNodePtr root = xmlDocGetRootElement(doc);
    for (xmlNodePtr n = root->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || xmlStrcmp(n->name, (const xmlChar *)name) != 0) continue;
        xmlChar *t = xmlNodeGetContent(n);
        char *s = strdup(t ? (const char *)t : "");
        xmlFree(t);
        if (s == NULL) *oom = 1;
        return s ? ingest_trim(s) : NULL;
    }
    return NULL;
}

void wecom_envelope_clear(wecom_envelope *e)
{
    if (e == NULL) return;
    free(e->to_user_name);
    free(e->encrypt);
    free(e->agent_id);
    memset(e, 0, sizeof *e);
}

int wecom_envelope_parse(const char *xml, size_t len, wecom_envelope *out)
{
    memset(out, 0, sizeof *out);
    if (len > SP_WECOM_XML_MAX) return SP_ETOOBIG;
    xmlDocPtr doc = xml_read(xml, len);
    if (doc == NULL) return SP_EDECODE;
    int oom = 0;
    out->to_user_name = child_text(doc, "ToUserName", &oom);
    out->encrypt = child_text(doc, "Encrypt", &oom);
    out->agent_id = child_text(doc, "AgentID", &oom);
    xmlFreeDoc(doc);
    if (!oom && out->to_user_name == NULL) out->to_user_name = strdup("");
    if (!oom && out->agent_id == NULL) out->agent_id = strdup("");
    if (oom || out->to_user_name == NULL || out->agent_id == NULL) {
        wecom_envelope_clear(out);
        return SP_ENOMEM;
    }
    if (out->encrypt == NULL || out->encrypt[0] == '\0') {
        wecom_envelope_clear(out);
        return SP_EDECODE;
    }
    return SP_OK;
}

int wecom_callback_decrypt(const wecom_crypto *c, const char *msg_signature, const char *timestamp,
    const char *nonce, const char *body, size_t len, char **inner, size_t *innerlen)
{
    *inner = NULL;
    *innerlen = 0;
    wecom_envelope env;
    int rv = wecom_envelope_parse(body, len, &env);
    if (rv != 0) return rv;
    rv = wecom_signature_verify(c, msg_signature, timestamp, nonce, env.encrypt);
    if (rv == 0) rv = wecom_decrypt(c, env.encrypt, strlen(env.encrypt), inner, innerlen);
    wecom_envelope_clear(&env);
    return rv;
}

static int alnum(const char *s)
{
    if (s == NULL || *s == '\0' || strlen(s) > 64) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s)) return 0;
    return 1;
}

int wecom_reply_build(const wecom_crypto *c, const char *msg, size_t len, const char *timestamp,
    const char *nonce, wecom_random_fn rnd, void *arg, char **xml)
{
    *xml = NULL;
    if (!alnum(timestamp) || !alnum(nonce)) return SP_EINVAL;
    char *enc = NULL, sig[SP_WECOM_SIG_LEN + 1];
    int rv = wecom_encrypt(c, msg, len, rnd, arg, &enc);
    if (rv != 0) return rv;
    rv = wecom_signature(c->token, timestamp, nonce, enc, sig);
    if (rv == 0) {
        size_t cap = strlen(enc) + 256;
        char *out = malloc(cap);
        if (out == NULL) {
            rv = SP_ENOMEM;
        } else {
            /* Base64, hex and alphanumerics need no escaping */
            if (snprintf(out, cap,
                    "<xml><Encrypt><![CDATA[%s]]></Encrypt><MsgSignature><![CDATA[%s]]></MsgSignature>"
                    "<TimeStamp>%s</TimeStamp><Nonce><![CDATA[%s]]></Nonce></xml>",
                    enc, sig, timestamp, nonce)
                < 0)
                out[0] = '\0';
            *xml = out;
        }
    }
    free(enc);
    return rv;
}

/* --- messages -> interactions -------------------------------------------------- */

static int digits_only(const char *s)
{
    if (s == NULL || *s == '\0' || strlen(s) > 18) return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s)) return 0;
    return 1;
}

static int is_external(const char *id)
{
    return id && (strncmp(id, "wm", 2) == 0 || strncmp(id, "wo", 2) == 0);
}

#define WECOM_CREATE_TIME_MAX 32503680000LL /* 3000-01-01 */

int wecom_message_to_interaction(const char *xml, size_t len, long long now_ms, sp_interaction **out)
{
    *out = NULL;
    xmlDocPtr doc = xml_read(xml, len);
    if (doc == NULL) return SP_EDECODE;
    int oom = 0, rv = SP_EDECODE;
    sp_interaction *ix = NULL;
    char *type = child_text(doc, "MsgType", &oom);
    char *ctime = child_text(doc, "CreateTime", &oom);
    char *from = NULL, *content = NULL, *msgid = NULL, *event = NULL, *change = NULL, *user = NULL,
         *ext = NULL, *chat = NULL;
    if (oom) goto oom;
    if (type == NULL || !digits_only(ctime)) goto done;
    /* seconds since 1970; beyond the year 3000 it is no time WeCom sends
     * (and * 1000 would overflow: found by fuzz_wecom) */
    long long secs = strtoll(ctime, NULL, 10);
    if (secs <= 0 || secs > WECOM_CREATE_TIME_MAX) goto done;
    if (interaction_new("wecom", now_ms, &ix) != 0) goto oom;
    ix->channel = SALESPULSE__V1__CHANNEL__CHANNEL_WECOM;
    ix->meta->occurred_at_ms = secs * 1000;
    if (strcmp(type, "text") == 0) {
        from = child_text(doc, "FromUserName", &oom);
        content = child_text(doc, "Content", &oom);
        msgid = child_text(doc, "MsgId", &oom);
        if (oom) goto oom;
        if (!from || !*from || !content || !msgid || !*msgid) goto done;
        if (strlen(content) > SP_INGEST_TEXT_MAX || !ingest_utf8_valid(content, strlen(content))
            || strlen(from) > FIELD_MAX || strlen(msgid) > FIELD_MAX)
            goto done;
        if (interaction_str_set(&ix->text, content) || interaction_str_set(&ix->external_id, msgid)) goto oom;
        if (is_external(from)) {
            ix->direction = SALESPULSE__V1__DIRECTION__DIRECTION_INBOUND;
            if (interaction_identity_set(ix, SALESPULSE__V1__IDENTITY_KIND__IDENTITY_KIND_WECOM, from))
                goto oom;
        } else {
            ix->direction = SALESPULSE__V1__DIRECTION__DIRECTION_INTERNAL;
            if (interaction_str_set(&ix->rep_id, from)) goto oom;
        }
    } else if (strcmp(type, "event") == 0) {
        event = child_text(doc, "Event", &oom);
        change = child_text(doc, "ChangeType", &oom);
        user = child_text(doc, "UserID", &oom);
        ext = child_text(doc, "ExternalUserID", &oom);
        chat = child_text(doc, "ChatId", &oom);
        if (oom) goto oom;
        if (event == NULL
            || (strcmp(event, "change_external_contact") != 0
                && strcmp(event, "change_external_chat") != 0)) {
            rv = SP_ENOTFOUND;
            goto done;
        }
        if (change == NULL || *change == '\0') goto done;
        const char *who = ext && *ext ? ext : chat && *chat ? chat : "";
        const char *member = user ? user : "";
        char subject[128], extid[4 * FIELD_MAX];
        if (strlen(change) > 64 || strlen(who) > FIELD_MAX || strlen(member) > FIELD_MAX
            || !ingest_utf8_valid(who, strlen(who)) || !ingest_utf8_valid(member, strlen(member)))
            goto done;
        if (snprintf(subject, sizeof subject, "wecom:%s:%s", event, change) < 0
            || snprintf(extid, sizeof extid, "%s:%s:%s:%s:%s", event, change, member, who, ctime) < 0)
            goto done;
        if (!ingest_utf8_valid(subject, strlen(subject))) goto done;
        ix->direction = SALESPULSE__V1__DIRECTION__DIRECTION_INTERNAL;
        if (interaction_str_set(&ix->subject, subject) || interaction_str_set(&ix->external_id, extid)
            || interaction_str_set(&ix->rep_id, member))
            goto oom;
        if (ext && *ext
            && interaction_identity_set(ix, SALESPULSE__V1__IDENTITY_KIND__IDENTITY_KIND_WECOM, ext))
            goto oom;
    } else {
        rv = SP_ENOTFOUND;
        goto done;
    }
    if (interaction_event_id_fill(ix) != 0) goto oom;
    *out = ix;
    ix = NULL;
    rv = SP_OK;
    goto done;
oom:
    rv = SP_ENOMEM;
done:
    interaction_destroy(ix);
    free(type), free(ctime), free(from), free(content), free(msgid);
    free(event), free(change), free(user), free(ext), free(chat);
    xmlFreeDoc(doc);
    return rv;
}
