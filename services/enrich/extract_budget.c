/* extract_budget.c - the customer's budget: money amounts (Arabic or
 * Chinese numerals, 万/亿/w/k/m units, ranges, currencies) that a budget cue
 * or a bound marks as the customer's, minus quotes, competitor prices and
 * approval thresholds. The latest customer statement wins. */
#include "enrich/extract_internal.h"

#include "err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CUR  "(¥|￥|US\\$|\\$|USD ?|RMB ?|CNY ?|人民币)"
#define NUM  "([0-9]{1,3}(?:,[0-9]{3})+(?:\\.[0-9]+)?|[0-9]+(?:\\.[0-9]+)?|[零一二两三四五六七八九十百千]+)"
#define UNIT "(亿|万|千|[wWkK](?![A-Za-z])|[mM](?![A-Za-z])|million\\b|thousand\\b|billion\\b|bn\\b)"
#define SEP  "(?:到|至|-|~|～|–|—|\\bto\\b|\\band\\b)"

/* "二十来万": 来 (about) may sit between the number and its unit; so may
 * 个 before 亿 ("1.2个亿", "两个亿") */
static const char MONEY[]
    = CUR "?\\s*" NUM "\\s*(?:来|个(?=亿))?" UNIT "?(?:\\s*" SEP "\\s*" CUR "?\\s*" NUM
          "\\s*(?:来|个(?=亿))?" UNIT "?)?\\s*(元|块钱|块|美元|美金|RMB|CNY|USD|dollars?)?";

/* Compiles the fixed money grammar into e->money_rx. */
int ex_money_compile(extract_engine *e, char *err, size_t errlen)
{
    char m[200];
    if (ex_rx_compile(MONEY, 0, &e->money_rx, m, sizeof m) != SP_OK) {
        snprintf(err, errlen, "money pattern: %s", m);
        return SP_ECONFIG;
    }
    return SP_OK;
}

static int cn_digit(const char *s)
{
    static const char *const d[] = {"零", "一", "二", "三", "四", "五", "六", "七", "八", "九"};
    for (int i = 0; i < 10; i++)
        if (memcmp(s, d[i], 3) == 0) return i;
    if (memcmp(s, "两", 3) == 0) return 2;
    return -1;
}

static int cn_unit(const char *s)
{
    if (memcmp(s, "十", 3) == 0) return 10;
    if (memcmp(s, "百", 3) == 0) return 100;
    if (memcmp(s, "千", 3) == 0) return 1000;
    return 0;
}

/* Parses a Chinese numeral below 10000 ("一百二十", "两百", "十五");
 * "五六十" (two neighbouring digits before a unit) gives a range. */
static int cn_number(const char *s, size_t len, double *lo, double *hi)
{
    double total = 0;
    int cur = -1;
    *hi = -1;
    for (size_t i = 0; i + 3 <= len; i += 3) {
        int d = cn_digit(s + i), u = cn_unit(s + i);
        if (d >= 0) {
            if (cur > 0 && i + 3 == len && d == cur + 1 && *hi < 0 && total >= 0) {
                /* 七八万: neighbouring digits at the end */
                *lo = total + cur;
                *hi = total + d;
                return 1;
            }
            if (cur > 0 && i + 6 <= len && cn_unit(s + i + 3) && d == cur + 1 && *hi < 0) {
                /* 五六十: the range cur*u .. d*u */
                int uu = cn_unit(s + i + 3);
                *lo = total + cur * uu;
                *hi = total + d * uu;
                total = -1;
                i += 3;
                cur = -1;
                continue;
            }
            cur = d;
        } else if (u) {
            if (total < 0) return 0;
            total += (cur < 0 ? 1 : cur) * u;
            cur = -1;
        } else {
            return 0;
        }
    }
    if (*hi >= 0) return 1;
    if (total < 0) return 0;
    *lo = total + (cur > 0 ? cur : 0);
    return *lo > 0;
}

static double unit_mult(const char *u, size_t l)
{
    if (l == 0) return 1;
    if (memcmp(u, "亿", 3 < l ? 3 : l) == 0 && l == 3) return 1e8;
    if (l == 3 && memcmp(u, "万", 3) == 0) return 1e4;
    if (l == 3 && memcmp(u, "千", 3) == 0) return 1e3;
    switch (u[0]) {
    case 'w':
    case 'W': return 1e4;
    case 'k':
    case 'K': return 1e3;
    case 'm':
    case 'M': return 1e6;
    case 't': return 1e3;
    case 'b': return 1e9;
    }
    return 1;
}

/* Parses the number text; Arabic with thousands commas or Chinese. */
static int number(const char *s, size_t len, double *lo, double *hi)
{
    *hi = -1;
    if (len && s[0] >= '0' && s[0] <= '9') {
        char buf[64];
        size_t n = 0;
        for (size_t i = 0; i < len && n + 1 < sizeof buf; i++)
            if (s[i] != ',') buf[n++] = s[i];
        buf[n] = '\0';
        *lo = strtod(buf, NULL);
        return 1;
    }
    return cn_number(s, len, lo, hi);
}

typedef struct span {
    size_t s, e;
} span;

static int get(const ex_ctx *c, int n, span *sp)
{
    return ex_rx_group(c, n, &sp->s, &sp->e) && sp->e > sp->s;
}

/* Last match of rx in s[0..len); returns 1 with its end in *me. */
static int last_match(
    const ex_ctx *c, const pcre2_code *rx, const char *s, size_t len, size_t *ms, size_t *me)
{
    size_t from = 0, a, b;
    int found = 0;
    while (from <= len && ex_rx_find(c, rx, s, len, from, &a, &b) == 1) {
        found = 1;
        *ms = a;
        *me = b;
        from = b > a ? b : a + 1;
    }
    return found;
}

#define CLAUSE_WINDOW 240 /* bytes looked at around an amount: bounds the work per amount */

static size_t sep_len_at(const char *s, size_t i, size_t len)
{
    static const char *const seps[] = {"，", "；", "。", "？", "！", ",", ";", "?", "!", "\n", ". ", NULL};
    for (size_t k = 0; seps[k]; k++) {
        size_t l = strlen(seps[k]);
        if (i + l <= len && memcmp(s + i, seps[k], l) == 0) return l;
    }
    return 0;
}

/* Start of the clause holding pos: just after the nearest separator before
 * it, at most CLAUSE_WINDOW bytes back (on a code point boundary). */
static size_t clause_start(const char *s, size_t pos)
{
    size_t lo = pos > CLAUSE_WINDOW ? pos - CLAUSE_WINDOW : 0;
    for (size_t i = pos; i-- > lo;) {
        size_t l = sep_len_at(s, i, pos);
        if (l && i + l <= pos) return i + l;
    }
    while (lo > 0 && ((unsigned char)s[lo] & 0xC0) == 0x80)
        lo++;
    return lo;
}

static size_t clause_end(const char *s, size_t len, size_t pos)
{
    size_t hi = len - pos > CLAUSE_WINDOW ? pos + CLAUSE_WINDOW : len;
    for (size_t i = pos; i < hi; i++)
        if (sep_len_at(s, i, len)) return i;
    while (hi < len && ((unsigned char)s[hi] & 0xC0) == 0x80)
        hi++;
    return hi;
}

#define CUE_WINDOW 72 /* bytes before an amount where a budget cue counts */

/* Judges one money match in turn text t[0..tl) at [ms,me); fills *b. */
static int judge(const ex_ctx *c, const char *t, size_t tl, size_t ms, size_t me, extract_budget *b)
{
    const ex_lexicon *lx = &c->e->lex;
    span cur1 = {0}, n1 = {0}, u1 = {0}, cur2 = {0}, n2 = {0}, u2 = {0}, cur3 = {0};
    int has_cur1 = get(c, 1, &cur1), has_n1 = get(c, 2, &n1), has_u1 = get(c, 3, &u1);
    int has_cur2 = get(c, 4, &cur2), has_n2 = get(c, 5, &n2), has_u2 = get(c, 6, &u2);
    int has_cur3 = get(c, 7, &cur3);
    if (!has_n1) return 0;
    /* never inside a code: X200, HY2026-0424, 400-800-1234, 8.5 */
    if (n1.s > 0) {
        unsigned char p = (unsigned char)t[n1.s - 1];
        if ((p < 0x80
                && (p == '.' || p == '-' || p == '/' || p == '#' || p == '_' || (p >= '0' && p <= '9')
                    || ((p | 0x20) >= 'a' && (p | 0x20) <= 'z')))
            && !has_cur1)
            return 0;
    }
    if (me < tl && (t[me] == '%' || (me + 3 <= tl && memcmp(t + me, "折", 3) == 0))) return 0;
    int money = has_u1 || has_u2 || has_cur1 || has_cur2 || has_cur3;
    /* a bare Arabic number is money only in a strong price context (below) */
    if (!money && !(t[n1.s] >= '0' && t[n1.s] <= '9')) return 0;
    if (!money) {
        size_t as0, ae0;
        if (ex_rx_find(c, lx->b_not_money, t + n1.e, tl - n1.e, 0, &as0, &ae0) == 1 && as0 == 0) return 0;
        if (me < tl && ((unsigned char)t[me] == '.' || (t[me] >= '0' && t[me] <= '9'))) return 0;
    }
    double lo, hi, lo2 = -1, hi2;
    if (!number(t + n1.s, n1.e - n1.s, &lo, &hi)) return 0;
    if (has_n2 && !number(t + n2.s, n2.e - n2.s, &lo2, &hi2)) has_n2 = 0;
    double m1 = unit_mult(t + u1.s, has_u1 ? u1.e - u1.s : 0);
    double m2 = has_u2 ? unit_mult(t + u2.s, u2.e - u2.s) : m1;
    if (!has_u1 && has_u2) m1 = m2; /* 30到50万 */
    if (has_n2 && !has_u2 && !has_u1 && !has_cur2 && !has_cur3) has_n2 = 0;
    double vmin = lo * m1, vmax = (hi >= 0 ? hi : lo) * m1;
    if (has_n2) vmax = lo2 * m2;
    if (vmin < 100 || vmax < vmin) return 0; /* "3w" is fine, a bare "5元" is not a budget */

    size_t cs = clause_start(t, ms), ce = clause_end(t, tl, me);
    const char *cl = t + cs;
    size_t before = ms - cs;
    /* exclusions: approval/tender thresholds, quotes and competitor prices */
    if (ex_rx_has(c, lx->b_threshold, cl, ce - cs)) return 0;
    if (ex_catalog_names_competitor(c, cl, before)) return 0;
    /* bounds right before / after the amount */
    int is_max = 0, is_min = 0;
    size_t xs = 0, xe = 0, ns = 0, ne = 0;
    int hx = last_match(c, lx->b_max_before, cl, before, &xs, &xe) && before - xe <= 12;
    int hn = last_match(c, lx->b_min_before, cl, before, &ns, &ne) && before - ne <= 12;
    /* "不超过" holds "超过", "can't go above" holds "above": the longer wins */
    if (hx && hn) {
        if (xs <= ns)
            hn = 0;
        else
            hx = 0;
    }
    is_max = hx;
    is_min = hn;
    /* a quote word with no positive word or bound after it: a quote, not a budget */
    size_t qs, qe;
    if (last_match(c, lx->b_quote, cl, before, &qs, &qe)) {
        size_t ps, pe;
        int later_bound = (hx && xs >= qe) || (hn && ns >= qe);
        if (!later_bound && !last_match(c, lx->b_positive, cl + qe, before - qe, &ps, &pe)) return 0;
    }
    size_t as, ae;
    size_t after_len = ce > me ? ce - me : 0;
    size_t lim = after_len < 24 ? after_len : 24;
    if (ex_rx_find(c, lx->b_max_after, t + me, lim, 0, &as, &ae) == 1 && as <= 12) is_max = 1;
    if (ex_rx_find(c, lx->b_min_after, t + me, lim, 0, &as, &ae) == 1 && as <= 12) is_min = 1;
    /* a cue: budget word in the window before, a positive word in the clause, or a bound */
    size_t ws = ms > CUE_WINDOW ? ms - CUE_WINDOW : 0;
    while (ws > 0 && ((unsigned char)t[ws] & 0xC0) == 0x80)
        ws--;
    int positive = ex_rx_has(c, lx->b_positive, cl, before);
    int cue = is_max || is_min || positive || ex_rx_has(c, lx->b_cue, t + ws, ms - ws);
    if (!cue) return 0;
    if (!money) {
        /* "单价能不能降到4500", "控制在3000以内": a positive word or bound in the clause */
        size_t ps, pe;
        int near_cue = last_match(c, lx->b_cue, cl, before, &ps, &pe) && before - pe <= 9;
        if (!(positive || is_max || is_min || near_cue)) return 0;
    }
    int usd = (has_cur1 && ex_rx_has(c, lx->b_usd, t + cur1.s, cur1.e - cur1.s))
        || (has_cur2 && ex_rx_has(c, lx->b_usd, t + cur2.s, cur2.e - cur2.s))
        || (has_cur3 && ex_rx_has(c, lx->b_usd, t + cur3.s, cur3.e - cur3.s));
    b->currency = usd ? "USD" : "CNY";
    b->has_min = b->has_max = 1;
    b->min = llround(vmin);
    b->max = llround(vmax);
    if (!has_n2 && hi < 0) {
        if (is_max && !is_min)
            b->has_min = 0;
        else if (is_min && !is_max)
            b->has_max = 0;
    }
    if (!b->has_min) b->min = 0;
    if (!b->has_max) b->max = 0;
    return 1;
}

/* Scans the customer's turns; the last budget statement wins. */
void ex_budget_scan(const ex_ctx *c, const ex_doc *d, extract_result *r, int *sent_hit)
{
    for (size_t t = 0; t < d->n_turns; t++) {
        const ex_turn *tu = &d->turns[t];
        if (tu->side != EXTRACT_SIDE_CUSTOMER) continue;
        const char *s = d->buf + tu->start;
        size_t len = tu->end - tu->start, from = 0, ms, me;
        while (from < len && ex_rx_find(c, c->e->money_rx, s, len, from, &ms, &me) == 1) {
            from = me > ms ? me : ms + 1;
            extract_budget b;
            memset(&b, 0, sizeof b);
            if (judge(c, s, len, ms, me, &b)) {
                r->has_budget = 1;
                r->budget = b;
                if (sent_hit) {
                    size_t pos = tu->start + ms;
                    for (size_t i = 0; i < d->n_sent; i++)
                        if (d->sent[i].start <= pos && pos < d->sent[i].end) *sent_hit = (int)i;
                }
            }
        }
    }
}
