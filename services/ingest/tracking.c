/* tracking.c - tracking tokens, page rules, beacons (see tracking.h). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "ingest/tracking.h"

#include "err.h"
#include "ingest/b64.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const unsigned char SP_TRACKING_GIF[SP_TRACKING_GIF_LEN]
    = {0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff,
        0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
        0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b};

#define TOKEN_VERSION 1
#define TAG_LEN       32
#define TOKEN_MAX                                                                                            \
    (1 + 1 + 8 + 4 * 2 + SP_TRACKING_REF_MAX * 2 + SP_TRACKING_CUSTOMER_MAX + SP_TRACKING_URL_MAX + TAG_LEN)
#define DAY_MS (24LL * 3600 * 1000)

static int hmac256(const tracking_key *k, const unsigned char *msg, size_t n, unsigned char out[TAG_LEN])
{
    size_t outl = 0;
    EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *c = m ? EVP_MAC_CTX_new(m) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0), OSSL_PARAM_END};
    int ok = c && EVP_MAC_init(c, k->key, k->len, params) && EVP_MAC_update(c, msg, n)
        && EVP_MAC_final(c, out, &outl, TAG_LEN) && outl == TAG_LEN;
    EVP_MAC_CTX_free(c);
    EVP_MAC_free(m);
    return ok ? SP_OK : SP_EIO;
}

static size_t put_str(unsigned char *p, const char *s)
{
    size_t n = strlen(s);
    p[0] = (unsigned char)(n >> 8), p[1] = (unsigned char)n;
    memcpy(p + 2, s, n);
    return n + 2;
}

int tracking_token_seal(const tracking_token *t, const tracking_key *key, char **out)
{
    *out = NULL;
    if (t->kind < 1 || t->kind > 4 || key == NULL || key->len < 16) return SP_EINVAL;
    if (t->kind == 2 && t->url[0] == '\0') return SP_EINVAL;
    if (strnlen(t->ref, sizeof t->ref) > SP_TRACKING_REF_MAX
        || strnlen(t->customer, sizeof t->customer) > SP_TRACKING_CUSTOMER_MAX
        || strnlen(t->rep_id, sizeof t->rep_id) > SP_TRACKING_REF_MAX
        || strnlen(t->url, sizeof t->url) > SP_TRACKING_URL_MAX)
        return SP_ETOOBIG;
    unsigned char buf[TOKEN_MAX];
    size_t n = 0;
    buf[n++] = TOKEN_VERSION;
    buf[n++] = (unsigned char)t->kind;
    unsigned long long ts = (unsigned long long)t->issued_at_ms;
    for (int i = 7; i >= 0; i--)
        buf[n++] = (unsigned char)(ts >> (8 * i));
    n += put_str(buf + n, t->ref);
    n += put_str(buf + n, t->customer);
    n += put_str(buf + n, t->rep_id);
    n += put_str(buf + n, t->url);
    if (hmac256(key, buf, n, buf + n) != 0) return SP_EIO;
    n += TAG_LEN;
    char *s = malloc(SP_B64_ENC_LEN(n));
    if (s == NULL) return SP_ENOMEM;
    ingest_b64_encode(buf, n, s, 1);
    *out = s;
    return SP_OK;
}

/* Reads a 2-byte-length string into dst (cap with NUL); advances *p. */
static int get_str(const unsigned char *buf, size_t end, size_t *p, char *dst, size_t cap)
{
    if (*p + 2 > end) return -1;
    size_t n = (size_t)buf[*p] << 8 | buf[*p + 1];
    *p += 2;
    if (n >= cap || *p + n > end || memchr(buf + *p, 0, n)) return -1;
    memcpy(dst, buf + *p, n);
    dst[n] = '\0';
    *p += n;
    return 0;
}

int tracking_token_open(const char *token, size_t len, const tracking_key *keys, size_t nkeys,
    long long now_ms, long long max_age_ms, tracking_token *out)
{
    memset(out, 0, sizeof *out);
    if (token == NULL || len == 0 || len > SP_B64_ENC_LEN(TOKEN_MAX)) return SP_EAUTH;
    unsigned char buf[TOKEN_MAX + 4];
    size_t n = 0;
    if (ingest_b64_decode(token, len, buf, &n, 1) != 0) return SP_EDECODE;
    if (n < 1 + 1 + 8 + 8 + TAG_LEN || buf[0] != TOKEN_VERSION) return SP_EAUTH;
    size_t body = n - TAG_LEN;
    int ok = 0;
    for (size_t i = 0; i < nkeys; i++) {
        unsigned char tag[TAG_LEN];
        if (keys[i].len < 16 || hmac256(&keys[i], buf, body, tag) != 0) continue;
        ok |= CRYPTO_memcmp(tag, buf + body, TAG_LEN) == 0;
    }
    if (!ok) return SP_EAUTH;
    tracking_token t = {0};
    t.kind = buf[1];
    unsigned long long ts = 0;
    for (int i = 0; i < 8; i++)
        ts = ts << 8 | buf[2 + i];
    t.issued_at_ms = (long long)ts;
    size_t p = 10;
    if (get_str(buf, body, &p, t.ref, sizeof t.ref) || get_str(buf, body, &p, t.customer, sizeof t.customer)
        || get_str(buf, body, &p, t.rep_id, sizeof t.rep_id) || get_str(buf, body, &p, t.url, sizeof t.url)
        || p != body || t.kind < 1 || t.kind > 4)
        return SP_EAUTH; /* sealed by us, so only a key compromise gets here */
    if (max_age_ms > 0 && (now_ms - t.issued_at_ms > max_age_ms || t.issued_at_ms - now_ms > DAY_MS))
        return SP_ETIMEOUT;
    *out = t;
    return SP_OK;
}

/* --- page rules ------------------------------------------------------------ */

typedef struct rule {
    pcre2_code *re;
    int page_class;
    char *product_id, *competitor_id;
} rule;

struct tracking_rules {
    rule *rules;
    size_t n;
};

void tracking_rules_destroy(tracking_rules *r)
{
    if (r == NULL) return;
    for (size_t i = 0; i < r->n; i++) {
        pcre2_code_free(r->rules[i].re);
        free(r->rules[i].product_id);
        free(r->rules[i].competitor_id);
    }
    free(r->rules);
    free(r);
}

static const char *const CLASSES[] = {NULL, "product", "competitor", "pricing", "other"};

int tracking_rules_parse(
    const char *json, size_t len, const char *name, tracking_rules **out, char *errbuf, size_t errlen)
{
    *out = NULL;
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    tracking_rules *r = NULL;
    int rv = SP_ECONFIG;
    if (root == NULL) {
        snprintf(errbuf, errlen, "%s: line %d: %s", name, je.line, je.text);
        return SP_ECONFIG;
    }
    json_t *pages = json_object_get(root, "pages");
    if (!json_is_array(pages)) {
        snprintf(errbuf, errlen, "%s: \"pages\" must be an array", name);
        goto fail;
    }
    r = calloc(1, sizeof *r);
    if (r == NULL
        || (json_array_size(pages)
            && (r->rules = calloc(json_array_size(pages), sizeof *r->rules)) == NULL)) {
        rv = SP_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < json_array_size(pages); i++) {
        json_t *e = json_array_get(pages, i);
        const char *pat = json_string_value(json_object_get(e, "pattern"));
        const char *cls = json_string_value(json_object_get(e, "class"));
        json_t *pid = json_object_get(e, "product_id"), *cid = json_object_get(e, "competitor_id");
        if (!json_is_object(e) || pat == NULL || *pat == '\0') {
            snprintf(errbuf, errlen, "%s: pages[%zu].pattern: required string", name, i);
            goto fail;
        }
        int c = 0;
        for (int k = 1; k < 5 && cls; k++)
            if (strcmp(cls, CLASSES[k]) == 0) c = k;
        if (c == 0) {
            snprintf(
                errbuf, errlen, "%s: pages[%zu].class: one of product, competitor, pricing, other", name, i);
            goto fail;
        }
        if ((pid && !json_is_string(pid)) || (cid && !json_is_string(cid))) {
            snprintf(errbuf, errlen, "%s: pages[%zu]: product_id and competitor_id must be strings", name, i);
            goto fail;
        }
        int ec;
        PCRE2_SIZE eo;
        rule *ru = &r->rules[r->n];
        ru->re = pcre2_compile(
            (PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_CASELESS, &ec, &eo, NULL);
        if (ru->re == NULL) {
            PCRE2_UCHAR msg[120];
            pcre2_get_error_message(ec, msg, sizeof msg);
            snprintf(
                errbuf, errlen, "%s: pages[%zu].pattern: %s at offset %zu", name, i, (char *)msg, (size_t)eo);
            goto fail;
        }
        r->n++;
        ru->page_class = c;
        ru->product_id = strdup(pid ? json_string_value(pid) : "");
        ru->competitor_id = strdup(cid ? json_string_value(cid) : "");
        if (ru->product_id == NULL || ru->competitor_id == NULL) {
            rv = SP_ENOMEM;
            goto fail;
        }
    }
    json_decref(root);
    *out = r;
    return SP_OK;
fail:
    json_decref(root);
    tracking_rules_destroy(r);
    return rv;
}

int tracking_rules_load(const char *path, tracking_rules **out, char *errbuf, size_t errlen)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(errbuf, errlen, "%s: cannot open", path);
        return SP_EIO;
    }
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            char *nb = cap > (1u << 24) ? NULL : realloc(buf, cap = cap ? cap * 2 : 4096);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                snprintf(errbuf, errlen, "%s: too large", path);
                return SP_ECONFIG;
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        if (r == 0) break;
        n += r;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        snprintf(errbuf, errlen, "%s: read error", path);
        return SP_EIO;
    }
    int rv = tracking_rules_parse(buf, n, path, out, errbuf, errlen);
    free(buf);
    return rv;
}

void tracking_rules_classify(const tracking_rules *rules, const char *url, int *page_class,
    const char **product_id, const char **competitor_id)
{
    *page_class = SALESPULSE__V1__PAGE_CLASS__PAGE_CLASS_OTHER;
    if (product_id) *product_id = "";
    if (competitor_id) *competitor_id = "";
    if (rules == NULL || url == NULL) return;
    for (size_t i = 0; i < rules->n; i++) {
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(rules->rules[i].re, NULL);
        if (md == NULL) return;
        int rc = pcre2_match(rules->rules[i].re, (PCRE2_SPTR)url, PCRE2_ZERO_TERMINATED, 0, 0, md, NULL);
        pcre2_match_data_free(md);
        if (rc >= 0) {
            *page_class = rules->rules[i].page_class;
            if (product_id) *product_id = rules->rules[i].product_id;
            if (competitor_id) *competitor_id = rules->rules[i].competitor_id;
            return;
        }
    }
}

/* --- interactions ------------------------------------------------------------ */

static int tracking_detail(sp_interaction *ix, int kind, const char *url, const tracking_rules *rules)
{
    Salespulse__V1__TrackingInfo *t = malloc(sizeof *t);
    if (t == NULL) return SP_ENOMEM;
    salespulse__v1__tracking_info__init(t);
    ix->tracking = t;
    ix->detail_case = SALESPULSE__V1__INTERACTION__DETAIL_TRACKING;
    t->kind = kind;
    if (url == NULL || url[0] == '\0') return SP_OK;
    int pc;
    const char *pid, *cid;
    tracking_rules_classify(rules, url, &pc, &pid, &cid);
    t->page_class = pc;
    if (interaction_str_set(&t->url, url) || interaction_str_set(&t->product_id, pid)
        || interaction_str_set(&t->competitor_id, cid))
        return SP_ENOMEM;
    return SP_OK;
}

/* The identity kind of customer "kind:value" (> 0) with *value after the
 * colon, or 0 when it is not that shape or the kind is unknown. */
static int customer_kind(const char *customer, const char **value)
{
    const char *colon = strchr(customer, ':');
    char kind[16];
    size_t kl = colon ? (size_t)(colon - customer) : 0;
    if (kl == 0 || kl >= sizeof kind || colon[1] == '\0') return 0;
    memcpy(kind, customer, kl);
    kind[kl] = '\0';
    int k = interaction_identity_kind_parse(kind);
    if (k > 0 && value) *value = colon + 1;
    return k > 0 ? k : 0;
}

/* Rewrites customer "kind:value" (cap bytes) with its value in the form the
 * batch API gives it (interaction_identity_normalize: E.164, lower-cased
 * e-mail), so an open or click is the same customer as its e-mails. A value
 * that is not of its kind is an error on field "customer" in errs (when
 * given); returns SP_EINVAL then, the string unchanged. */
static int customer_normalize(char *customer, size_t cap, ingest_errlist *errs)
{
    const char *value = NULL, *why = NULL;
    int k = customer_kind(customer, &value);
    if (k == 0) {
        if (errs)
            ingest_errlist_add(
                errs, 0, "customer", "\"kind:value\" with a known identity kind (email:li@x.cn)");
        return SP_EINVAL;
    }
    char norm[SP_TRACKING_CUSTOMER_MAX + 1], out[SP_TRACKING_CUSTOMER_MAX + 1];
    int rv = interaction_identity_normalize(k, value, norm, sizeof norm, &why);
    if (rv == SP_OK
        && (size_t)snprintf(out, sizeof out, "%s:%s", interaction_identity_kind_name(k), norm) >= sizeof out)
        rv = SP_ETOOBIG, why = "too long";
    if (rv != SP_OK) {
        if (errs) ingest_errlist_add(errs, 0, "customer", "%s", why ? why : "too long");
        return SP_EINVAL;
    }
    snprintf(customer, cap, "%s", out);
    return SP_OK;
}

/* Parses body (at most 64 KiB) as one JSON object into *o (caller
 * decrefs); what names the body in the size error. SP_ETOOBIG, SP_EDECODE
 * with the error in errs. */
static int load_object(const char *body, size_t len, const char *what, json_t **o, ingest_errlist *errs)
{
    *o = NULL;
    if (len > 64 * 1024) {
        ingest_errlist_add(errs, -1, "", "%s is %zu bytes, at most 65536", what, len);
        return SP_ETOOBIG;
    }
    json_error_t je;
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(j)) {
        ingest_errlist_add(errs, 0, "", j ? "must be a JSON object" : "invalid JSON");
        json_decref(j);
        return SP_EDECODE;
    }
    *o = j;
    return SP_OK;
}

int tracking_token_interaction(
    const tracking_token *t, const tracking_rules *rules, long long now_ms, sp_interaction **out)
{
    *out = NULL;
    sp_interaction *ix = NULL;
    char ext[SP_TRACKING_REF_MAX + 48];
    if (interaction_new("tracking", now_ms, &ix) != 0) return SP_ENOMEM;
    ix->channel = SALESPULSE__V1__CHANNEL__CHANNEL_TRACKING;
    ix->direction = SALESPULSE__V1__DIRECTION__DIRECTION_INBOUND;
    ix->meta->occurred_at_ms = now_ms;
    if (snprintf(ext, sizeof ext, "%s/%d/%lld", t->ref, t->kind, now_ms) < 0) ext[0] = '\0';
    int rv = interaction_str_set(&ix->external_id, ext);
    if (rv == 0) rv = interaction_str_set(&ix->rep_id, t->rep_id);
    /* tokens sealed before the links endpoint normalised identities: the
     * same form now, else as sealed */
    char customer[sizeof t->customer];
    snprintf(customer, sizeof customer, "%s", t->customer);
    customer_normalize(customer, sizeof customer, NULL);
    const char *value = NULL;
    int k = customer_kind(customer, &value);
    if (rv == 0 && k > 0) rv = interaction_identity_set(ix, k, value);
    if (rv == 0) rv = tracking_detail(ix, t->kind, t->url, rules);
    if (rv == 0) rv = interaction_event_id_fill(ix);
    if (rv != 0) {
        interaction_destroy(ix);
        return rv == SP_EINVAL ? SP_EINVAL : SP_ENOMEM;
    }
    *out = ix;
    return SP_OK;
}

int tracking_beacon_parse(const char *body, size_t len, const tracking_rules *rules,
    const ingest_batch_opts *opts, sp_interaction **out, ingest_errlist *errs)
{
    *out = NULL;
    json_t *o;
    int rv = load_object(body, len, "beacon", &o, errs);
    if (rv != SP_OK) return rv;
    rv = SP_ENOMEM;
    size_t first = errs ? errs->n : 0;
    json_t *item = json_object(), *tr = json_object();
    if (item == NULL || tr == NULL) goto done;
    /* rewrite into the generic form and let the batch rules validate */
    json_t *v;
    if (json_object_set_new(item, "source", json_string("tracking"))
        || json_object_set_new(item, "channel", json_string("tracking"))
        || json_object_set_new(item, "direction", json_string("inbound"))
        || json_object_set_new(tr, "kind", json_string("web_visit")))
        goto done;
    static const struct {
        const char *from, *to;
        int in_tracking;
    } MAP[] = {
        {"beacon_id", "external_id", 0},
        {"occurred_at", "occurred_at", 0},
        {"customer_identity", "customer_identity", 0},
        {"customer_ref", "customer_ref", 0},
        {"rep_id", "rep_id", 0},
        {"deal_id", "deal_id", 0},
        {"tenant_id", "tenant_id", 0},
        {"url", "url", 1},
        {"visitor_id", "visitor_id", 1},
        {"dwell_ms", "dwell_ms", 1},
    };
    for (size_t i = 0; i < sizeof MAP / sizeof MAP[0]; i++)
        if ((v = json_object_get(o, MAP[i].from))
            && json_object_set(MAP[i].in_tracking ? tr : item, MAP[i].to, v))
            goto done;
    v = json_object_get(o, "email");
    if (v && !json_object_get(o, "customer_identity")) {
        json_t *id = json_pack("{s:s,s:O}", "kind", "email", "value", v);
        if (id == NULL || json_object_set_new(item, "customer_identity", id)) goto done;
    }
    const char *url = json_string_value(json_object_get(o, "url"));
    if (url) {
        int pc;
        const char *pid, *cid;
        tracking_rules_classify(rules, url, &pc, &pid, &cid);
        if (json_object_set_new(tr, "page_class", json_string(CLASSES[pc]))
            || (*pid && json_object_set_new(tr, "product_id", json_string(pid)))
            || (*cid && json_object_set_new(tr, "competitor_id", json_string(cid))))
            goto done;
    }
    if (json_object_set(item, "tracking", tr)) goto done;
    rv = ingest_batch_item_parse(item, 0, opts, out, errs);
    for (size_t i = first; errs && i < errs->n; i++) {
        char *f = errs->items[i].field;
        if (strcmp(f, "external_id") == 0)
            snprintf(f, sizeof errs->items[i].field, "beacon_id");
        else if (strncmp(f, "tracking.", 9) == 0)
            memmove(f, f + 9, strlen(f + 9) + 1);
        else if (strcmp(f, "customer_identity.value") == 0 && !json_object_get(o, "customer_identity"))
            snprintf(f, sizeof errs->items[i].field, "email");
    }
done:
    json_decref(tr);
    json_decref(item);
    json_decref(o);
    return rv;
}

/* 1 when url is an absolute http(s) URL without spaces or control bytes:
 * a sealed link may lead only to a web page (no javascript:, data:). */
static int link_url_ok(const char *url)
{
    size_t skip = strncasecmp(url, "https://", 8) == 0 ? 8 : strncasecmp(url, "http://", 7) == 0 ? 7 : 0;
    if (skip == 0 || url[skip] == '\0' || url[skip] == '/') return 0;
    for (const unsigned char *p = (const unsigned char *)url; *p; p++)
        if (*p <= 0x20 || *p == 0x7f) return 0;
    return 1;
}

/* Copies string member k of o into dst (cap bytes with the NUL); 0 when
 * absent (optional), -1 after adding an error. */
static int member_str(json_t *o, const char *k, int required, char *dst, size_t cap, ingest_errlist *errs)
{
    json_t *v = json_object_get(o, k);
    dst[0] = '\0';
    if (v == NULL || json_is_null(v)) {
        if (!required) return 0;
        ingest_errlist_add(errs, 0, k, "required");
        return -1;
    }
    const char *s = json_string_value(v);
    if (s == NULL || (required && *s == '\0') || strlen(s) >= cap) {
        ingest_errlist_add(errs, 0, k, s ? "a string of 1 to %zu bytes" : "must be a string", cap - 1);
        return -1;
    }
    memcpy(dst, s, strlen(s) + 1);
    return 1;
}

int tracking_links_seal(
    const char *body, size_t len, const tracking_key *key, long long now_ms, char **out, ingest_errlist *errs)
{
    *out = NULL;
    json_t *o;
    int rv = load_object(body, len, "request", &o, errs);
    if (rv != SP_OK) return rv;
    rv = SP_EINVAL;
    json_t *ans = NULL, *links_out = NULL;
    char *tok = NULL;
    tracking_token *t = calloc(1, sizeof *t);
    if (t == NULL) {
        rv = SP_ENOMEM;
        goto done;
    }
    size_t before = ingest_errlist_count(errs);
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        if (strcmp(k, "ref") && strcmp(k, "customer") && strcmp(k, "rep_id") && strcmp(k, "open")
            && strcmp(k, "links"))
            ingest_errlist_add(errs, 0, k, "unknown field");
    }
    member_str(o, "ref", 1, t->ref, sizeof t->ref, errs);
    if (member_str(o, "customer", 1, t->customer, sizeof t->customer, errs) > 0)
        customer_normalize(t->customer, sizeof t->customer, errs);
    member_str(o, "rep_id", 0, t->rep_id, SP_INGEST_ID_MAX + 1, errs); /* an id every service keys by */
    json_t *open = json_object_get(o, "open"), *links = json_object_get(o, "links");
    if (open && !json_is_boolean(open)) ingest_errlist_add(errs, 0, "open", "must be true or false");
    if (links && (!json_is_array(links) || json_array_size(links) > 100))
        ingest_errlist_add(errs, 0, "links", "an array of at most 100 URLs");
    else if (links) {
        size_t i;
        json_array_foreach(links, i, v)
        {
            const char *u = json_string_value(v);
            char f[32];
            snprintf(f, sizeof f, "links[%zu]", i);
            if (u == NULL || strlen(u) > SP_TRACKING_URL_MAX || !link_url_ok(u))
                ingest_errlist_add(
                    errs, 0, f, "an absolute http(s) URL of at most %d bytes", SP_TRACKING_URL_MAX);
        }
    }
    if (!json_is_true(open) && json_array_size(links) == 0)
        ingest_errlist_add(errs, 0, "links", "nothing to seal: give \"open\":true or links");
    if (ingest_errlist_count(errs) > before) goto done;

    rv = SP_ENOMEM;
    t->issued_at_ms = now_ms;
    if ((ans = json_object()) == NULL || (links_out = json_array()) == NULL) goto done;
    char path[4200];
    if (json_is_true(open)) {
        t->kind = SALESPULSE__V1__TRACKING_KIND__TRACKING_KIND_EMAIL_OPEN;
        if ((rv = tracking_token_seal(t, key, &tok)) != SP_OK) goto done;
        snprintf(path, sizeof path, "/t/o/%s.gif", tok);
        free(tok), tok = NULL;
        rv = SP_ENOMEM;
        if (json_object_set_new(ans, "open", json_string(path))) goto done;
    } else if (json_object_set_new(ans, "open", json_null())) {
        goto done;
    }
    size_t i;
    json_array_foreach(links, i, v)
    {
        t->kind = SALESPULSE__V1__TRACKING_KIND__TRACKING_KIND_LINK_CLICK;
        snprintf(t->url, sizeof t->url, "%s", json_string_value(v));
        if ((rv = tracking_token_seal(t, key, &tok)) != SP_OK) goto done;
        snprintf(path, sizeof path, "/t/c/%s", tok);
        free(tok), tok = NULL;
        rv = SP_ENOMEM;
        if (json_array_append_new(links_out, json_pack("{s:s,s:s}", "url", t->url, "path", path))) goto done;
    }
    if (json_object_set(ans, "links", links_out) || (*out = json_dumps(ans, JSON_COMPACT)) == NULL) goto done;
    rv = SP_OK;
done:
    free(tok);
    free(t);
    json_decref(links_out);
    json_decref(ans);
    json_decref(o);
    return rv;
}
