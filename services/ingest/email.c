/* email.c - raw e-mail into an Interaction with GMime 3 (see email.h). */
#include "ingest/email.h"

#include "err.h"
#include "ingest/event_id.h"
#include "ingest/html.h"
#include "ingest/quote.h"
#include "ingest/textutil.h"

#include <ctype.h>
#include <errno.h>
#include <gmime/gmime.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DAY_MS   (24LL * 3600 * 1000)
#define ADDR_MAX 320

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;
static void gmime_start(void)
{
    g_mime_init();
}

static void seterr(char *errbuf, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void seterr(char *errbuf, size_t errlen, const char *fmt, ...)
{
    if (errbuf == NULL || errlen == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
}

/* --- charsets -------------------------------------------------------------- */

static const char *charset_canon(const char *cs)
{
    static const char *const GB[] = {"gb2312", "gbk", "x-gbk", "cp936", "ms936", "windows-936", "euc-cn",
        "gb_2312-80", "csgb2312", "gb18030", "x-gb2312", NULL};
    static const char *const BIG5[] = {"big5", "big-5", "cp950", "x-big5", "big5-hkscs", "cn-big5", NULL};
    if (cs == NULL || *cs == '\0') return NULL;
    for (int i = 0; GB[i]; i++)
        if (strcasecmp(cs, GB[i]) == 0) return "GB18030";
    for (int i = 0; BIG5[i]; i++)
        if (strcasecmp(cs, BIG5[i]) == 0) return "BIG5-HKSCS";
    if (strcasecmp(cs, "us-ascii") == 0 || strcasecmp(cs, "ascii") == 0 || strcasecmp(cs, "utf8") == 0)
        return "UTF-8";
    return cs;
}

/* iconv with U+FFFD for undecodable bytes; NULL when the charset is unknown */
static char *convert(const char *in, size_t n, const char *from, size_t *outlen)
{
    GIConv cd = g_iconv_open("UTF-8", from);
    if (cd == (GIConv)-1) return NULL;
    size_t cap = n * 4 + 16, used = 0;
    char *out = malloc(cap);
    if (out == NULL) {
        g_iconv_close(cd);
        return NULL;
    }
    gchar *ip = (gchar *)in;
    gsize il = n;
    while (il > 0) {
        gchar *op = out + used;
        gsize ol = cap - used - 4;
        gsize r = g_iconv(cd, &ip, &il, &op, &ol);
        used = (size_t)(op - out);
        if (r != (gsize)-1) break;
        if (errno == E2BIG) {
            char *p = realloc(out, cap *= 2);
            if (p == NULL) {
                free(out);
                g_iconv_close(cd);
                return NULL;
            }
            out = p;
        } else { /* EILSEQ / EINVAL: replace one byte and go on */
            if (cap - used < 8) {
                char *p = realloc(out, cap *= 2);
                if (p == NULL) {
                    free(out);
                    g_iconv_close(cd);
                    return NULL;
                }
                out = p;
            }
            memcpy(out + used, "\xef\xbf\xbd", 3);
            used += 3;
            ip++, il--;
            g_iconv(cd, NULL, NULL, NULL, NULL);
        }
    }
    g_iconv_close(cd);
    out[used] = '\0';
    *outlen = used;
    return out;
}

/* Valid UTF-8 with NULs dropped (the proto strings are C strings). */
static char *utf8_copy(const char *in, size_t n, size_t *outlen)
{
    char *out = malloc(n + 1);
    if (out == NULL) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        if (in[i] != '\0') out[o++] = in[i];
    out[o] = '\0';
    *outlen = o;
    return out;
}

int ingest_email_to_utf8(const char *bytes, size_t n, const char *charset, char **out, size_t *outlen)
{
    *out = NULL;
    *outlen = 0;
    const char *cs = charset_canon(charset);
    char *s = NULL;
    size_t l = 0;
    if (cs == NULL || strcasecmp(cs, "UTF-8") == 0) {
        /* unlabelled or UTF-8: keep when valid (NULs aside), else GB18030 */
        char *tmp = utf8_copy(bytes, n, &l);
        if (tmp == NULL) return SP_ENOMEM;
        if (ingest_utf8_valid(tmp, l)) {
            *out = tmp;
            *outlen = l;
            return SP_OK;
        }
        free(tmp);
        cs = cs ? "UTF-8" : "GB18030";
    }
    s = convert(bytes, n, cs, &l);
    if (s == NULL) s = convert(bytes, n, "UTF-8", &l); /* unknown charset label */
    if (s == NULL) return SP_ENOMEM;
    /* converters may emit NUL for \0 input; drop them */
    size_t o = 0;
    for (size_t i = 0; i < l; i++)
        if (s[i] != '\0') s[o++] = s[i];
    s[o] = '\0';
    *out = s;
    *outlen = o;
    return SP_OK;
}

/* --- helpers ------------------------------------------------------------------ */

/* Decoded content of a leaf part into a GByteArray (caller unrefs). */
static GByteArray *part_bytes(GMimePart *part)
{
    GByteArray *arr = g_byte_array_new();
    GMimeDataWrapper *w = g_mime_part_get_content(part);
    if (w == NULL) return arr;
    GMimeStream *mem = g_mime_stream_mem_new_with_byte_array(arr);
    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
    g_mime_data_wrapper_write_to_stream(w, mem);
    g_object_unref(mem);
    return arr;
}

static long long part_size(GMimeObject *obj)
{
    GMimeStream *ns = g_mime_stream_null_new();
    if (GMIME_IS_PART(obj)) {
        GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(obj));
        if (w) g_mime_data_wrapper_write_to_stream(w, ns);
    } else {
        g_mime_object_write_to_stream(obj, NULL, ns);
    }
    long long n = (long long)GMIME_STREAM_NULL(ns)->written;
    g_object_unref(ns);
    return n;
}

/* Cuts s (UTF-8) to at most max bytes on a character boundary. */
static void utf8_cut(char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max) return;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    s[max] = '\0';
}

static char *lower_dup(const char *s)
{
    char *d = strdup(s ? s : "");
    for (char *p = d; p && *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return d;
}

static int domain_ours(const char *addr, const ingest_email_opts *o)
{
    const char *at = addr ? strrchr(addr, '@') : NULL;
    if (at == NULL) return 0;
    const char *dom = at + 1;
    size_t dl = strlen(dom);
    for (size_t i = 0; i < o->n_domains; i++) {
        const char *d = o->our_domains[i];
        size_t l = d ? strlen(d) : 0;
        if (l == 0) continue;
        if (strcasecmp(dom, d) == 0) return 1;
        if (dl > l + 1 && dom[dl - l - 1] == '.' && strcasecmp(dom + dl - l, d) == 0) return 1;
    }
    return 0;
}

typedef struct walk_state {
    GMimeObject *plain, *html;
    GPtrArray *attachments; /* GMimeObject * */
} walk_state;

static void visit(GMimeObject *parent, GMimeObject *part, gpointer data)
{
    (void)parent;
    walk_state *st = data;
    if (GMIME_IS_MESSAGE_PART(part)) {
        g_ptr_array_add(st->attachments, part); /* forwarded message: metadata only */
        return;
    }
    if (!GMIME_IS_PART(part)) return;
    GMimeContentType *ct = g_mime_object_get_content_type(part);
    int attach
        = g_mime_part_is_attachment(GMIME_PART(part)) || g_mime_part_get_filename(GMIME_PART(part)) != NULL;
    if (!attach && ct && g_mime_content_type_is_type(ct, "text", "plain") && st->plain == NULL) {
        st->plain = part;
    } else if (!attach && ct && g_mime_content_type_is_type(ct, "text", "html") && st->html == NULL) {
        st->html = part;
    } else if (attach || !(ct && g_mime_content_type_is_type(ct, "text", "*"))) {
        g_ptr_array_add(st->attachments, part);
    }
}

/* Body text of a part in UTF-8 (malloc'd). */
static char *part_text(GMimeObject *part, int html, size_t *outlen)
{
    GByteArray *arr = part_bytes(GMIME_PART(part));
    const char *cs = g_mime_object_get_content_type_parameter(part, "charset");
    char *utf = NULL, *txt = NULL;
    size_t n = 0;
    if (ingest_email_to_utf8((const char *)arr->data, arr->len, cs, &utf, &n) != 0) utf = NULL;
    g_byte_array_unref(arr);
    if (utf == NULL) return NULL;
    if (!html) {
        *outlen = n;
        return utf;
    }
    if (ingest_html_to_text(utf, n, &txt, outlen) != 0) txt = strdup(""), *outlen = 0;
    free(utf);
    return txt;
}

/* Normalises CRLF to LF in place. */
static void crlf(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++)
        if (!(p[0] == '\r' && p[1] == '\n')) *o++ = *p;
    *o = '\0';
}

static void rtrim_lines(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

/* Appends the mailboxes of list to *arr (lower-cased) and as parties. */
static int add_addresses(
    sp_interaction *ix, InternetAddressList *list, char ***arr, size_t *n, const ingest_email_opts *o)
{
    int count = list ? internet_address_list_length(list) : 0;
    for (int i = 0; i < count && *n < 200; i++) {
        InternetAddress *ia = internet_address_list_get_address(list, i);
        if (!INTERNET_ADDRESS_IS_MAILBOX(ia)) continue;
        const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
        if (addr == NULL || *addr == '\0' || strlen(addr) > ADDR_MAX
            || !ingest_utf8_valid(addr, strlen(addr)))
            continue;
        char **a = realloc(*arr, (*n + 1) * sizeof *a);
        if (a == NULL) return SP_ENOMEM;
        *arr = a;
        a[*n] = lower_dup(addr);
        if (a[*n] == NULL) return SP_ENOMEM;
        (*n)++;
        /* party */
        Salespulse__V1__Party **p = realloc(ix->parties, (ix->n_parties + 1) * sizeof *p);
        if (p == NULL) return SP_ENOMEM;
        ix->parties = p;
        Salespulse__V1__Party *party = malloc(sizeof *party);
        Salespulse__V1__Identity *id = malloc(sizeof *id);
        if (party == NULL || id == NULL) {
            free(party), free(id);
            return SP_ENOMEM;
        }
        salespulse__v1__party__init(party);
        salespulse__v1__identity__init(id);
        party->identity = id;
        p[ix->n_parties++] = party;
        id->kind = SALESPULSE__V1__IDENTITY_KIND__IDENTITY_KIND_EMAIL;
        party->customer_side = !domain_ours(addr, o);
        const char *name = internet_address_get_name(ia);
        if (interaction_str_set(&id->value, a[*n - 1])
            || (name && ingest_utf8_valid(name, strlen(name)) && strlen(name) <= ADDR_MAX
                && interaction_str_set(&party->name, name)))
            return SP_ENOMEM;
    }
    return SP_OK;
}

static int add_attachment(Salespulse__V1__EmailInfo *e, GMimeObject *part)
{
    if (e->n_attachments >= 100) return SP_OK;
    Salespulse__V1__Attachment **a = realloc(e->attachments, (e->n_attachments + 1) * sizeof *a);
    if (a == NULL) return SP_ENOMEM;
    e->attachments = a;
    Salespulse__V1__Attachment *at = malloc(sizeof *at);
    if (at == NULL) return SP_ENOMEM;
    salespulse__v1__attachment__init(at);
    a[e->n_attachments++] = at;
    GMimeContentType *ct = g_mime_object_get_content_type(part);
    char *mime = ct ? g_mime_content_type_get_mime_type(ct) : NULL;
    const char *name = GMIME_IS_PART(part) ? g_mime_part_get_filename(GMIME_PART(part)) : NULL;
    char *lname = NULL;
    if (name == NULL && GMIME_IS_MESSAGE_PART(part)) {
        GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(part));
        name = m ? g_mime_message_get_subject(m) : NULL;
    }
    if (name && !ingest_utf8_valid(name, strlen(name))) {
        size_t l;
        if (ingest_email_to_utf8(name, strlen(name), NULL, &lname, &l) == 0) name = lname;
    }
    if (name && strlen(name) > 512) name = NULL;
    int rv = interaction_str_set(&at->name, name ? name : "");
    if (rv == 0)
        rv = interaction_str_set(
            &at->content_type, mime && ingest_utf8_valid(mime, strlen(mime)) ? mime : "");
    at->size = part_size(part);
    g_free(mime);
    free(lname);
    return rv;
}

/* --- parse --------------------------------------------------------------------- */

int ingest_email_parse(const char *raw, size_t len, const ingest_email_opts *opts, sp_interaction **out,
    char *errbuf, size_t errlen)
{
    *out = NULL;
    if (len > SP_EMAIL_MAX_BYTES) {
        seterr(errbuf, errlen, "message is %zu bytes, at most %d", len, SP_EMAIL_MAX_BYTES);
        return SP_ETOOBIG;
    }
    if (raw == NULL || len == 0) {
        seterr(errbuf, errlen, "empty message");
        return SP_EDECODE;
    }
    pthread_once(&gmime_once, gmime_start);

    int rv = SP_ENOMEM;
    sp_interaction *ix = NULL;
    GMimeParserOptions *po = g_mime_parser_options_new();
    const char *fallback[] = {"UTF-8", "GB18030", NULL};
    g_mime_parser_options_set_fallback_charsets(po, fallback);
    GMimeStream *stream = g_mime_stream_mem_new_with_buffer(raw, len);
    GMimeParser *parser = g_mime_parser_new_with_stream(stream);
    GMimeMessage *msg = g_mime_parser_construct_message(parser, po);
    walk_state st = {.attachments = g_ptr_array_new()};
    char *body = NULL, *from_l = NULL, *irt = NULL;
    if (msg == NULL) {
        seterr(errbuf, errlen, "not an RFC 5322 message");
        rv = SP_EDECODE;
        goto done;
    }
    InternetAddressList *from = g_mime_message_get_from(msg);
    const char *from_addr = NULL;
    for (int i = 0; from && i < internet_address_list_length(from); i++) {
        InternetAddress *ia = internet_address_list_get_address(from, i);
        if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
            from_addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
            break;
        }
    }
    if (from_addr == NULL || strchr(from_addr, '@') == NULL || strlen(from_addr) > ADDR_MAX
        || !ingest_utf8_valid(from_addr, strlen(from_addr))) {
        seterr(errbuf, errlen, "no usable From address");
        rv = SP_EDECODE;
        goto done;
    }
    if ((from_l = lower_dup(from_addr)) == NULL) goto done;

    if (interaction_new("email", opts->now_ms, &ix) != 0) goto done;
    ix->channel = SALESPULSE__V1__CHANNEL__CHANNEL_EMAIL;
    Salespulse__V1__EmailInfo *e = malloc(sizeof *e);
    if (e == NULL) goto done;
    salespulse__v1__email_info__init(e);
    ix->email = e;
    ix->detail_case = SALESPULSE__V1__INTERACTION__DETAIL_EMAIL;
    if (opts->tenant_id && interaction_str_set(&ix->meta->tenant_id, opts->tenant_id)) goto done;

    /* ids */
    const char *mid = g_mime_message_get_message_id(msg);
    if (mid && *mid && strlen(mid) <= 998 && ingest_utf8_valid(mid, strlen(mid))) {
        if (interaction_str_set(&ix->external_id, mid) || interaction_str_set(&e->message_id, mid)) goto done;
    } else {
        unsigned char md[32];
        unsigned int ml = 0;
        char ext[7 + 33];
        if (!EVP_Digest(raw, len, md, &ml, EVP_sha256(), NULL)) {
            rv = SP_EIO;
            goto done;
        }
        memcpy(ext, "sha256:", 7);
        for (int i = 0; i < 16; i++)
            snprintf(ext + 7 + 2 * i, 3, "%02x", md[i]);
        if (interaction_str_set(&ix->external_id, ext)) goto done;
    }
    const char *irt_raw = g_mime_object_get_header(GMIME_OBJECT(msg), "In-Reply-To");
    if (irt_raw && (irt = g_mime_utils_decode_message_id(irt_raw)) != NULL && strlen(irt) <= 998
        && ingest_utf8_valid(irt, strlen(irt)) && interaction_str_set(&e->in_reply_to, irt))
        goto done;

    /* time */
    GDateTime *dt = g_mime_message_get_date(msg);
    long long when = dt ? (long long)g_date_time_to_unix(dt) * 1000 : opts->now_ms;
    if (when > opts->now_ms + DAY_MS || when <= 0) when = opts->now_ms;
    ix->meta->occurred_at_ms = when;

    /* subject */
    const char *subj = g_mime_message_get_subject(msg);
    if (subj) {
        char *s = NULL;
        size_t sl;
        if (ingest_email_to_utf8(subj, strlen(subj), NULL, &s, &sl) != 0) goto done;
        utf8_cut(s, 2048);
        int r = interaction_str_set(&ix->subject, s) || interaction_str_set(&e->subject, s);
        free(s);
        if (r) goto done;
    }

    /* addresses */
    if (interaction_str_set(&e->from, from_l)) goto done;
    InternetAddressList *fromlist = internet_address_list_new();
    InternetAddress *fa = internet_address_mailbox_new(NULL, from_addr);
    const char *fname = NULL;
    for (int i = 0; from && i < internet_address_list_length(from); i++) {
        InternetAddress *ia = internet_address_list_get_address(from, i);
        if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
            fname = internet_address_get_name(ia);
            break;
        }
    }
    if (fname) internet_address_set_name(fa, fname);
    internet_address_list_add(fromlist, fa);
    g_object_unref(fa);
    char **fromarr = NULL;
    size_t nfrom = 0;
    int ar = add_addresses(ix, fromlist, &fromarr, &nfrom, opts);
    for (size_t i = 0; i < nfrom; i++)
        free(fromarr[i]);
    free(fromarr);
    g_object_unref(fromlist);
    if (ar != 0
        || add_addresses(ix, g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_TO), &e->to, &e->n_to, opts)
        || add_addresses(
            ix, g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_CC), &e->cc, &e->n_cc, opts))
        goto done;

    /* direction, rep, customer */
    int from_ours = domain_ours(from_l, opts);
    const char *other_ours = NULL, *other_theirs = NULL;
    for (size_t i = 0; i < e->n_to + e->n_cc; i++) {
        const char *a = i < e->n_to ? e->to[i] : e->cc[i - e->n_to];
        if (domain_ours(a, opts)) {
            if (!other_ours) other_ours = a;
        } else if (!other_theirs) {
            other_theirs = a;
        }
    }
    const char *rep = NULL, *cust = NULL;
    if (from_ours && other_theirs) {
        ix->direction = SALESPULSE__V1__DIRECTION__DIRECTION_OUTBOUND;
        rep = from_l, cust = other_theirs;
    } else if (from_ours) {
        ix->direction = SALESPULSE__V1__DIRECTION__DIRECTION_INTERNAL;
        rep = from_l;
    } else {
        ix->direction = SALESPULSE__V1__DIRECTION__DIRECTION_INBOUND;
        rep = other_ours, cust = from_l;
    }
    if (rep && interaction_str_set(&ix->rep_id, rep)) goto done;
    if (cust && interaction_identity_set(ix, SALESPULSE__V1__IDENTITY_KIND__IDENTITY_KIND_EMAIL, cust))
        goto done;

    /* body and attachments */
    g_mime_message_foreach(msg, visit, &st);
    GMimeObject *top = g_mime_message_get_mime_part(msg);
    if (st.plain == NULL && st.html == NULL && top && GMIME_IS_PART(top)
        && g_mime_content_type_is_type(g_mime_object_get_content_type(top), "text", "*")) {
        /* a lone text part labelled as attachment: still the body */
        st.plain = top;
        g_ptr_array_remove(st.attachments, top);
    }
    size_t blen = 0;
    if (st.plain)
        body = part_text(st.plain, 0, &blen);
    else if (st.html)
        body = part_text(st.html, 1, &blen);
    else
        body = strdup("");
    if (body == NULL) goto done;
    crlf(body);
    size_t cut = ingest_quote_cut(body, strlen(body));
    char *quoted = body + cut;
    while (*quoted == '\n')
        quoted++;
    char *qcopy = strdup(quoted);
    if (qcopy == NULL) goto done;
    body[cut] = '\0';
    rtrim_lines(body);
    rtrim_lines(qcopy);
    utf8_cut(body, SP_INGEST_TEXT_MAX);
    utf8_cut(qcopy, SP_INGEST_TEXT_MAX);
    int r = interaction_str_set(&ix->text, body) || interaction_str_set(&ix->quoted_text, qcopy);
    free(qcopy);
    if (r) goto done;
    for (guint i = 0; i < st.attachments->len; i++)
        if (add_attachment(e, g_ptr_array_index(st.attachments, i)) != 0) goto done;

    if (interaction_event_id_fill(ix) != 0) goto done;
    *out = ix;
    ix = NULL;
    rv = SP_OK;
done:
    interaction_destroy(ix);
    free(body);
    free(from_l);
    g_free(irt);
    g_ptr_array_free(st.attachments, TRUE);
    if (msg) g_object_unref(msg);
    g_object_unref(parser);
    g_object_unref(stream);
    g_mime_parser_options_free(po);
    return rv;
}
