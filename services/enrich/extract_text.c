/* extract_text.c - turns raw text into a document: UTF-8 checked and
 * capped, quoted e-mail history removed, lines attributed to the rep or the
 * customer, split into sentences. */
#include "enrich/extract_internal.h"

#include "err.h"

#include <stdlib.h>
#include <string.h>

/* True when s[0..len) is well-formed UTF-8 (no overlongs, surrogates or
 * code points above U+10FFFF) without NUL bytes. */
int ex_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        unsigned c = *p;
        if (c == 0) return 0;
        if (c < 0x80) {
            p++;
            continue;
        }
        size_t n;
        unsigned cp;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if ((size_t)(end - p) <= n) return 0;
        for (size_t i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF))
            || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        p += n + 1;
    }
    return 1;
}

/* Largest prefix length <= max of s[0..len) that ends on a code point
 * boundary. */
size_t ex_utf8_cap(const char *s, size_t len, size_t max)
{
    if (len <= max) return len;
    size_t n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

static int is_space_at(const char *s, size_t i, size_t len, size_t *w)
{
    unsigned char c = (unsigned char)s[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        *w = 1;
        return 1;
    }
    if (i + 2 < len + 0 && c == 0xE3 && (unsigned char)s[i + 1] == 0x80 && (unsigned char)s[i + 2] == 0x80) {
        *w = 3; /* U+3000 ideographic space */
        return 1;
    }
    return 0;
}

/* A speaker label at the start of a line: "客户王总:", "Rep:", "李老师：".
 * Returns the byte length of label+colon (0 when none); *ll = label bytes. */
static size_t label_at(const char *s, size_t len, size_t *ll)
{
    size_t i = 0, lim = len < 40 ? len : 40;
    while (i < lim) {
        unsigned char c = (unsigned char)s[i];
        if (c == ':'
            || (c == 0xEF && i + 2 < len && (unsigned char)s[i + 1] == 0xBC
                && (unsigned char)s[i + 2] == 0x9A)) {
            if (i == 0) return 0;
            *ll = i;
            while (*ll > 0 && s[*ll - 1] == ' ')
                (*ll)--;
            return i + (c == ':' ? 1 : 3);
        }
        if (c < 0x80
            && !(c == ' ' || c == '.' || c == '_' || c == '-' || c == '(' || c == ')'
                || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')))
            return 0; /* digits and punctuation: not a name ("2. 交付时间：") */
        if (c == 0xEF && i + 2 < len && (unsigned char)s[i + 1] == 0xBC && (unsigned char)s[i + 2] != 0x88
            && (unsigned char)s[i + 2] != 0x89)
            return 0; /* full-width punctuation other than （） */
        if (c == 0xE3 && i + 1 < len && (unsigned char)s[i + 1] == 0x80) return 0; /* CJK punctuation */
        i++;
    }
    return 0;
}

static int add_turn(ex_doc *d, size_t ls, size_t le, size_t ts, size_t te, extract_side side)
{
    if (d->n_turns >= EX_MAX_DOC_TURNS) return 0;
    ex_turn *t = &d->turns[d->n_turns++];
    t->label_start = ls;
    t->label_end = le;
    t->start = ts;
    t->end = te;
    t->side = side;
    t->label_kind = 0;
    return 1;
}

#define EX_MAX_SENT_BYTES 600

/* Splits every turn into sentences at 。！？!?；; and ". ". */
static void split_sentences(ex_doc *d)
{
    for (size_t t = 0; t < d->n_turns; t++) {
        size_t s = d->turns[t].start, e = d->turns[t].end, i = s;
        while (i < e && d->n_sent < EX_MAX_SENT) {
            unsigned char c = (unsigned char)d->buf[i];
            size_t w = 0;
            if (c == '!' || c == '?' || c == ';' || c == '\n')
                w = 1;
            else if (c == '.' && (i + 1 >= e || d->buf[i + 1] == ' ') && i > s)
                w = 1;
            else if (c == 0xE3 && i + 2 < e && (unsigned char)d->buf[i + 1] == 0x80
                && (unsigned char)d->buf[i + 2] == 0x82)
                w = 3; /* 。 */
            else if (c == 0xEF && i + 2 < e && (unsigned char)d->buf[i + 1] == 0xBC
                && ((unsigned char)d->buf[i + 2] == 0x81 || (unsigned char)d->buf[i + 2] == 0x9F
                    || (unsigned char)d->buf[i + 2] == 0x9B))
                w = 3; /* ！？； */
            /* an unpunctuated run is cut so that per-sentence work stays bounded */
            if (!w && i - s >= EX_MAX_SENT_BYTES && ((unsigned char)d->buf[i] & 0xC0) != 0x80) w = (size_t)-1;
            if (w == (size_t)-1) {
                ex_sentence *st = &d->sent[d->n_sent++];
                st->start = s;
                st->end = i;
                st->turn = (int)t;
                st->side = d->turns[t].side;
                s = i;
                continue;
            }
            if (w) {
                if (i + w > s) {
                    ex_sentence *st = &d->sent[d->n_sent++];
                    st->start = s;
                    st->end = i + w;
                    st->turn = (int)t;
                    st->side = d->turns[t].side;
                }
                s = i + w;
                i += w;
            } else {
                i++;
            }
        }
        if (s < e && d->n_sent < EX_MAX_SENT) {
            ex_sentence *st = &d->sent[d->n_sent++];
            st->start = s;
            st->end = e;
            st->turn = (int)t;
            st->side = d->turns[t].side;
        }
    }
}

/* The document's sides are final: its sentences, and whether the customer
 * speaks at all (every sentence takes its turn's side). */
static void doc_done(ex_doc *d)
{
    split_sentences(d);
    d->has_customer = 0;
    for (size_t t = 0; t < d->n_turns && !d->has_customer; t++)
        d->has_customer = d->turns[t].side == EXTRACT_SIDE_CUSTOMER;
}

static int line_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        size_t w;
        if (!is_space_at(s, i, len, &w)) return 0;
        i += w;
    }
    return 1;
}

/* Is the e-mail signed by our company? Looks at the last 3 non-blank lines. */
static int rep_signature(const ex_ctx *c, const ex_doc *d)
{
    int seen = 0;
    size_t e = d->len;
    while (e > 0 && seen < 3) {
        size_t s = e;
        while (s > 0 && d->buf[s - 1] != '\n')
            s--;
        if (!line_blank(d->buf + s, e - s)) {
            seen++;
            /* a signature line is short, without sentence punctuation; the
             * body (or a salutation ending in a colon) ends the signature */
            const char *ln = d->buf + s;
            size_t l = e - s;
            while (l && (ln[l - 1] == ' ' || ln[l - 1] == '\r'))
                l--;
            if (l > 64 || memmem(ln, l, "。", 3) || memmem(ln, l, "，", 3) || (l && ln[l - 1] == ':')
                || (l >= 3 && memcmp(ln + l - 3, "：", 3) == 0))
                return 0;
            const ex_catalog *cat = &c->e->cat;
            for (size_t k = 0; k < cat->n_own; k++)
                if (memmem(d->buf + s, e - s, cat->own_names[k], strlen(cat->own_names[k]))) return 1;
            if (ex_rx_has(c, c->e->lex.own_company, d->buf + s, e - s)) return 1;
            /* "Kevin Zhou | Sales Manager", "销售经理 周航" */
            if (ex_rx_has(c, c->e->lex.rep_signature, d->buf + s, e - s)) return 1;
        }
        e = s ? s - 1 : 0;
    }
    return 0;
}

/* "客户: ... / 小周: ...": with customer labels and no rep label, the
 * other speakers are our side. */
static void infer_unknown_labels(ex_doc *d)
{
    int rep = 0, cust = 0, unknown = 0;
    for (size_t t = 0; t < d->n_turns; t++) {
        rep += d->turns[t].label_kind == 1;
        cust += d->turns[t].label_kind == 2;
        unknown += d->turns[t].label_kind == 3;
    }
    if (rep || !cust || !unknown) return;
    extract_side cur = EXTRACT_SIDE_CUSTOMER;
    for (size_t t = 0; t < d->n_turns; t++) {
        if (d->turns[t].label_kind == 3) cur = EXTRACT_SIDE_REP;
        if (d->turns[t].label_kind == 2) cur = EXTRACT_SIDE_CUSTOMER;
        d->turns[t].side = cur;
    }
}

static int names_own(const ex_ctx *c, const char *s, size_t len)
{
    const ex_catalog *cat = &c->e->cat;
    for (size_t k = 0; k < cat->n_own; k++)
        if (memmem(s, len, cat->own_names[k], strlen(cat->own_names[k]))) return 1;
    return 0;
}

/* Builds the document for one input; d->buf is malloc'd (ex_doc_free).
 * Fails with SP_ENOMEM or SP_EINVAL (a turn without text). */
int ex_doc_build(const ex_ctx *c, const extract_input *in, ex_doc *d)
{
    const ex_lexicon *lx = &c->e->lex;
    d->n_turns = d->n_sent = 0;
    d->rep_authored = 0;
    if (in->n_turns > 0) {
        size_t total = 0;
        for (size_t i = 0; i < in->n_turns; i++) {
            if (in->turns[i].text == NULL) return SP_EINVAL;
            total += strlen(in->turns[i].text) + 1;
        }
        d->buf = malloc(total + 1);
        if (d->buf == NULL) return SP_ENOMEM;
        size_t off = 0;
        for (size_t i = 0; i < in->n_turns && off < EXTRACT_MAX_TEXT; i++) {
            size_t l = strlen(in->turns[i].text);
            if (!ex_utf8_valid(in->turns[i].text, l)) return SP_EUTF8;
            l = ex_utf8_cap(in->turns[i].text, l, EXTRACT_MAX_TEXT - off);
            memcpy(d->buf + off, in->turns[i].text, l);
            extract_side side
                = in->turns[i].speaker == EXTRACT_SIDE_REP ? EXTRACT_SIDE_REP : EXTRACT_SIDE_CUSTOMER;
            add_turn(d, off, off, off, off + l, side);
            off += l;
            d->buf[off++] = '\n';
        }
        d->len = off;
        d->buf[off] = '\0';
        doc_done(d);
        return SP_OK;
    }
    size_t len = in->text_len;
    d->buf = malloc(len + 2);
    if (d->buf == NULL) return SP_ENOMEM;
    int labels = in->channel != EXTRACT_CH_EMAIL && in->channel != EXTRACT_CH_NOTE;
    size_t off = 0, i = 0;
    extract_side cur = in->text_side == EXTRACT_SIDE_REP ? EXTRACT_SIDE_REP : EXTRACT_SIDE_CUSTOMER;
    int content = 0;
    while (i < len) {
        size_t e = i;
        while (e < len && in->text[e] != '\n')
            e++;
        const char *line = in->text + i;
        size_t ll = e - i;
        size_t next = e < len ? e + 1 : e;
        if (ex_rx_has(c, lx->quote_line, line, ll)) {
            i = next;
            continue;
        }
        if (content && ex_rx_has(c, lx->quote_cut, line, ll)) break;
        if (line_blank(line, ll)) {
            i = next;
            continue;
        }
        if (!(lx->header_line && ex_rx_has(c, lx->header_line, line, ll))) content = 1;
        size_t lab = 0, labl = 0;
        if (labels) lab = label_at(line, ll, &labl);
        size_t ls = off;
        memcpy(d->buf + off, line, ll);
        off += ll;
        d->buf[off++] = '\n';
        if (lab && ll > lab) {
            int kind = 3;
            if (ex_rx_has(c, lx->rep_label, line, labl) || names_own(c, line, labl))
                kind = 1;
            else if (ex_rx_has(c, lx->customer_label, line, labl))
                kind = 2;
            cur = kind == 1 ? EXTRACT_SIDE_REP : EXTRACT_SIDE_CUSTOMER;
            if (add_turn(d, ls, ls + labl, ls + lab, ls + ll, cur))
                d->turns[d->n_turns - 1].label_kind = kind;
        } else if (in->channel == EXTRACT_CH_EMAIL && ex_rx_has(c, lx->reply_subject, line, ll)) {
            /* "主题：Re: ..." repeats the other side's subject */
            add_turn(d, ls, ls, ls, ls + ll, EXTRACT_SIDE_REP);
        } else {
            add_turn(d, ls, ls, ls, ls + ll, cur);
        }
        i = next;
    }
    d->len = off;
    d->buf[off] = '\0';
    infer_unknown_labels(d);
    if (in->channel == EXTRACT_CH_EMAIL && rep_signature(c, d)) {
        d->rep_authored = 1;
        for (size_t t = 0; t < d->n_turns; t++)
            d->turns[t].side = EXTRACT_SIDE_REP;
    }
    doc_done(d);
    return SP_OK;
}

int ex_sentence_at(const ex_doc *d, size_t pos)
{
    size_t lo = 0, hi = d->n_sent;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (d->sent[mid].end <= pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < d->n_sent && d->sent[lo].start <= pos ? (int)lo : -1;
}

int ex_turn_at(const ex_doc *d, size_t pos)
{
    size_t lo = 0, hi = d->n_turns;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (d->turns[mid].end <= pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < d->n_turns && d->turns[lo].start <= pos ? (int)lo : -1;
}

void ex_doc_free(ex_doc *d)
{
    free(d->buf);
    d->buf = NULL;
}

static int trim_cp(const unsigned char *p, size_t avail)
{
    /* spaces and common punctuation, ASCII or full-width */
    if (avail >= 1 && (strchr(" \t\r\n,.;:!?\"'()-", p[0]) && p[0] < 0x80)) return 1;
    if (avail >= 3 && ((p[0] == 0xEF && p[1] == 0xBC) || (p[0] == 0xE3 && p[1] == 0x80))) return 3;
    return 0;
}

/* Copies s[0..len) into out trimmed of spaces/punctuation at both ends and
 * cut to EXTRACT_SNIPPET_CP code points. */
void ex_snippet(const char *s, size_t len, char *out, size_t outsz)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    int w;
    while (p < end && (w = trim_cp(p, (size_t)(end - p))) > 0)
        p += w;
    /* trim the end: step back over trailing punctuation code points */
    for (;;) {
        const unsigned char *q = end;
        while (q > p && (q[-1] & 0xC0) == 0x80)
            q--;
        if (q > p) q--;
        if (q >= p && end > p && (w = trim_cp(q, (size_t)(end - q))) > 0 && q + w == end)
            end = q;
        else
            break;
    }
    size_t n = 0, cps = 0;
    while (p + n < end && cps < EXTRACT_SNIPPET_CP) {
        size_t w2 = 1;
        unsigned char c = p[n];
        if (c >= 0xF0)
            w2 = 4;
        else if (c >= 0xE0)
            w2 = 3;
        else if (c >= 0xC0)
            w2 = 2;
        if (n + w2 + 1 > outsz) break;
        n += w2;
        cps++;
    }
    memcpy(out, p, n);
    out[n] = '\0';
}
