/* extract_date.c - delivery_by: date phrases resolved against the occurred
 * day in the tenant zone, kept only where the customer states a delivery or
 * go-live deadline; and meeting_scheduled (a meeting day agreed). */
#include "enrich/extract_internal.h"

#include "err.h"

#include "civil.h"

#include <stdio.h>
#include <string.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
int ex_days_from_civil(int y, int m, int d)
{
    return (int)sp_days_from_civil(y, m, d);
}

void ex_civil_from_days(int z, int *y, int *m, int *d)
{
    sp_civil_from_days(z, y, m, d);
}

static int last_day(int y, int m)
{
    return m == 12 ? ex_days_from_civil(y + 1, 1, 1) - 1 : ex_days_from_civil(y, m + 1, 1) - 1;
}

enum kind {
    K_FULL,
    K_MD,
    K_MONTH_END,
    K_NEXT_MONTH_END,
    K_THIS_MONTH_END,
    K_NEXT_MONTH,
    K_DAYS,
    K_WEEKS,
    K_NEXT_WEEKDAY,
    K_YEAR_END,
    K_QUARTER,
    K_SPRING,
    K_EN_MD,
    K_EN_MONTH_END,
    K_COUNT
};

#define CN "[0-9]{1,2}|[一二两三四五六七八九十]{1,3}"
#define EN_MONTH                                                                                             \
    "(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"     \
    "oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
#define EN_NUM "([0-9]{1,2}|a|one|two|three|four|five|six|seven|eight|nine|ten|a couple of)"

static const char *const PATTERNS[K_COUNT] = {
    [K_FULL]
    = "(?<![0-9])(20[0-9]{2})\\s*(?:年|/|-|\\.)\\s*([0-9]{1,2})\\s*(?:月|/|-|\\.)\\s*([0-9]{1,2})(?![0-9])",
    [K_MD] = "(明年|今年|20[0-9]{2}\\s*年)?(?<![0-9])(" CN ")\\s*月\\s*(" CN ")\\s*(?:日|号)",
    [K_MONTH_END] = "(明年|今年|20[0-9]{2}\\s*年)?(?<![0-9])(" CN ")\\s*月份?\\s*(?:底|末|月底)",
    [K_NEXT_MONTH_END] = "下个?月(?:底|末)",
    [K_THIS_MONTH_END] = "(?<![下个0-9一二三四五六七八九十两])(?:本|这个|当)?月(?:底|末)",
    [K_NEXT_MONTH] = "下个?月(?!底|末|初|中|[0-9一二三四五六七八九十])|\\bnext month\\b",
    [K_DAYS] = "(?:(" CN "|[0-9]{3})\\s*(?:个)?(?:天|日)(?:之内|以内|内)|\\b(?:within|in the next)\\s+" EN_NUM
               "\\s+days?\\b)",
    [K_WEEKS] = "(?:(" CN ")\\s*(?:个)?(?:周|星期|礼拜)(?:之内|以内|内)|\\b(?:within|in the next)\\s+" EN_NUM
                "\\s+weeks?\\b)",
    [K_NEXT_WEEKDAY] = "(?:下个?(?:周|星期|礼拜)([一二三四五六日天1-7])|\\bnext\\s+(mon|tues|wednes|thurs|"
                       "fri|satur|sun)day\\b)",
    [K_YEAR_END] = "(明年)?(?:年底|年末)|\\b(?:end of (?:the |this )?year|year[- ]end)\\b",
    [K_QUARTER]
    = "(明年|next year'?s?)?\\s*(?:\\bQ([1-4])\\b|第([一二三四1-4])季度|(?<![第0-9])([一二三四1-4])季度|"
      "\\b(first|second|third|fourth|1st|2nd|3rd|4th) quarter\\b)",
    [K_SPRING] = "春节(?:前|之前|以前)|\\bbefore (?:the )?(?:chinese new year|spring festival|cny)\\b",
    [K_EN_MD] = "\\b" EN_MONTH "\\.?\\s+([0-9]{1,2})(?:st|nd|rd|th)?\\b(?:,?\\s*(20[0-9]{2}))?|\\b([0-9]{1,2}"
                ")(?:st|nd|rd|th)?\\s+" EN_MONTH "\\b",
    [K_EN_MONTH_END] = "\\bend of (?:(the|this) month|next month|" EN_MONTH ")\\b",
};

/* Compiles the fixed date grammar into e->date_rx. */
int ex_date_compile(extract_engine *e, char *err, size_t errlen)
{
    for (int k = 0; k < K_COUNT; k++) {
        char m[200];
        if (ex_rx_compile(PATTERNS[k], 1, &e->date_rx[k], m, sizeof m) != SP_OK) {
            snprintf(err, errlen, "date pattern %d: %s", k, m);
            return SP_ECONFIG;
        }
    }
    return SP_OK;
}

/* Small Chinese or Arabic number: "15", "十五", "二十", "两", "三十". */
static int small_num(const char *s, size_t len)
{
    if (len == 0) return -1;
    if (s[0] >= '0' && s[0] <= '9') {
        int v = 0;
        for (size_t i = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            v = v * 10 + (s[i] - '0');
        return v;
    }
    static const char *const digits[] = {"零", "一", "二", "三", "四", "五", "六", "七", "八", "九"};
    int total = 0, cur = -1;
    for (size_t i = 0; i + 3 <= len; i += 3) {
        if (memcmp(s + i, "十", 3) == 0) {
            total += (cur < 0 ? 1 : cur) * 10;
            cur = 0;
            continue;
        }
        if (memcmp(s + i, "两", 3) == 0) {
            cur = 2;
            continue;
        }
        int found = -1;
        for (int d = 0; d < 10; d++)
            if (memcmp(s + i, digits[d], 3) == 0) found = d;
        if (found < 0) return -1;
        cur = found;
    }
    return total + (cur > 0 ? cur : 0);
}

static int en_num(const char *s, size_t len)
{
    static const char *const w[]
        = {"a", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"};
    if (len && s[0] >= '0' && s[0] <= '9') return small_num(s, len);
    if (len >= 8 && strncasecmp(s, "a couple", 8) == 0) return 2;
    for (int i = 0; i < 11; i++)
        if (strlen(w[i]) == len && strncasecmp(s, w[i], len) == 0) return i ? i : 1;
    return -1;
}

static int en_month(const char *s)
{
    static const char *const m[]
        = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
    for (int i = 0; i < 12; i++)
        if (strncasecmp(s, m[i], 3) == 0) return i + 1;
    return 0;
}

static int grp(const ex_ctx *c, int n, const char *s, const char **gs, size_t *gl)
{
    size_t a, b;
    if (!ex_rx_group(c, n, &a, &b) || b == a) return 0;
    *gs = s + a;
    *gl = b - a;
    return 1;
}

/* Day for month m / day dd: this year, or next year when already past. */
static int roll_md(int oy, int occ, int m, int dd, int next_year)
{
    if (m < 1 || m > 12 || dd < 1 || dd > 31) return -1;
    int y = oy + (next_year ? 1 : 0);
    int z = ex_days_from_civil(y, m, dd);
    if (!next_year && z < occ) z = ex_days_from_civil(y + 1, m, dd);
    return z;
}

static int roll_month_end(int oy, int occ, int m, int next_year)
{
    if (m < 1 || m > 12) return -1;
    int y = oy + (next_year ? 1 : 0);
    int z = last_day(y, m);
    if (!next_year && z < occ) z = last_day(y + 1, m);
    return z;
}

/* Resolves the match of kind k (groups in c->md) to a day; -1 if invalid. */
static int resolve(const ex_ctx *c, int k, const char *s, int occ)
{
    int oy, om, od;
    ex_civil_from_days(occ, &oy, &om, &od);
    const char *g;
    size_t gl;
    int next_year = 0;
    switch (k) {
    case K_FULL: {
        int y = grp(c, 1, s, &g, &gl) ? small_num(g, gl) : -1;
        int m = grp(c, 2, s, &g, &gl) ? small_num(g, gl) : -1;
        int dd = grp(c, 3, s, &g, &gl) ? small_num(g, gl) : -1;
        if (y < 2000 || m < 1 || m > 12 || dd < 1 || dd > 31) return -1;
        return ex_days_from_civil(y, m, dd);
    }
    case K_MD:
    case K_MONTH_END: {
        int year = -1;
        if (grp(c, 1, s, &g, &gl)) {
            if (g[0] >= '0' && g[0] <= '9')
                year = small_num(g, 4);
            else if (memcmp(g, "明年", 6) == 0)
                next_year = 1;
        }
        int m = grp(c, 2, s, &g, &gl) ? small_num(g, gl) : -1;
        if (k == K_MONTH_END) {
            if (year >= 2000 && m >= 1 && m <= 12) return last_day(year, m);
            return roll_month_end(oy, occ, m, next_year);
        }
        int dd = grp(c, 3, s, &g, &gl) ? small_num(g, gl) : -1;
        if (year >= 2000 && m >= 1 && m <= 12 && dd >= 1 && dd <= 31) return ex_days_from_civil(year, m, dd);
        return roll_md(oy, occ, m, dd, next_year);
    }
    case K_NEXT_MONTH_END:
    case K_NEXT_MONTH: return om == 12 ? last_day(oy + 1, 1) : last_day(oy, om + 1);
    case K_THIS_MONTH_END: return last_day(oy, om);
    case K_DAYS:
    case K_WEEKS: {
        int n = -1;
        if (grp(c, 1, s, &g, &gl))
            n = small_num(g, gl);
        else if (grp(c, 2, s, &g, &gl))
            n = en_num(g, gl);
        if (n <= 0 || n > 400) return -1;
        return occ + (k == K_WEEKS ? 7 * n : n);
    }
    case K_NEXT_WEEKDAY: {
        int wd = -1; /* Monday = 0 */
        if (grp(c, 1, s, &g, &gl)) {
            if (g[0] >= '1' && g[0] <= '7')
                wd = g[0] - '1';
            else if (memcmp(g, "日", 3) == 0 || memcmp(g, "天", 3) == 0)
                wd = 6;
            else
                wd = small_num(g, gl) - 1;
        } else if (grp(c, 2, s, &g, &gl)) {
            static const char *const en[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
            for (int i = 0; i < 7; i++)
                if (strncasecmp(g, en[i], 3) == 0) wd = i;
        }
        if (wd < 0 || wd > 6) return -1;
        int today = ((occ % 7) + 7 + 3) % 7; /* 1970-01-01 was a Thursday */
        return occ - today + 7 + wd;
    }
    case K_YEAR_END:
        if (grp(c, 1, s, &g, &gl)) next_year = 1;
        return ex_days_from_civil(oy + next_year, 12, 31);
    case K_QUARTER: {
        if (grp(c, 1, s, &g, &gl)) next_year = 1;
        int q = -1;
        for (int n = 2; n <= 5 && q < 0; n++) {
            if (!grp(c, n, s, &g, &gl)) continue;
            if (g[0] >= '1' && g[0] <= '4')
                q = g[0] - '0';
            else if (strncasecmp(g, "fir", 3) == 0)
                q = 1;
            else if (strncasecmp(g, "sec", 3) == 0)
                q = 2;
            else if (strncasecmp(g, "thi", 3) == 0)
                q = 3;
            else if (strncasecmp(g, "fou", 3) == 0)
                q = 4;
            else
                q = small_num(g, gl);
        }
        if (q < 1 || q > 4) return -1;
        return roll_month_end(oy, occ, q * 3, next_year);
    }
    case K_SPRING: {
        const ex_lexicon *lx = &c->e->lex;
        for (size_t i = 0; i < lx->n_spring; i++)
            if (lx->spring[i] > occ) return lx->spring[i] - 1;
        return -1;
    }
    case K_EN_MD: {
        int m = 0, dd = -1, y = -1;
        if (grp(c, 1, s, &g, &gl)) {
            m = en_month(g);
            if (grp(c, 2, s, &g, &gl)) dd = small_num(g, gl);
            if (grp(c, 3, s, &g, &gl)) y = small_num(g, gl);
        } else {
            if (grp(c, 4, s, &g, &gl)) dd = small_num(g, gl);
            if (grp(c, 5, s, &g, &gl)) m = en_month(g);
        }
        if (y >= 2000 && m >= 1 && dd >= 1 && dd <= 31) return ex_days_from_civil(y, m, dd);
        return roll_md(oy, occ, m, dd, 0);
    }
    case K_EN_MONTH_END: {
        if (grp(c, 1, s, &g, &gl)) return last_day(oy, om);
        if (grp(c, 2, s, &g, &gl)) return roll_month_end(oy, occ, en_month(g), 0);
        return om == 12 ? last_day(oy + 1, 1) : last_day(oy, om + 1); /* next month */
    }
    default: return -1;
    }
}

/* Test hook: the first date expression of s resolved for occurred day occ. */
int ex_date_resolve(const ex_ctx *c, const char *s, size_t len, int occ, int *day)
{
    size_t best = (size_t)-1;
    int found = 0;
    for (int k = 0; k < K_COUNT; k++) {
        size_t ms, me;
        if (ex_rx_find(c, c->e->date_rx[k], s, len, 0, &ms, &me) == 1 && ms < best) {
            int z = resolve(c, k, s, occ);
            if (z >= 0) {
                best = ms;
                *day = z;
                found = 1;
            }
        }
    }
    return found;
}

/* Clause around byte pos of sentence s: between separators ，,、：:（）. */
static void clause_of(const char *s, size_t len, size_t ms, size_t me, size_t *cs, size_t *ce)
{
    static const char *const seps[] = {"，", "、", "（", "）", ",", NULL};
    size_t a = 0, b = len;
    for (size_t i = 0; i < len; i++) {
        for (size_t k = 0; seps[k]; k++) {
            size_t l = strlen(seps[k]);
            if (i + l <= len && memcmp(s + i, seps[k], l) == 0) {
                if (i + l <= ms && i + l > a) a = i + l;
                if (i >= me && i < b) b = i;
            }
        }
    }
    *cs = a;
    *ce = b;
}

/* Does the turn before turn t, a rep question, match rx? */
static int prev_rep_has(const ex_ctx *c, const ex_doc *d, int t, const pcre2_code *rx)
{
    if (t <= 0 || d->turns[t - 1].side != EXTRACT_SIDE_REP) return 0;
    const ex_turn *p = &d->turns[t - 1];
    const char *s = d->buf + p->start;
    size_t len = p->end - p->start;
    if (!memchr(s, '?', len) && !memmem(s, len, "？", 3)) return 0;
    return ex_rx_has(c, rx, s, len);
}

/* delivery_by: the last customer-stated delivery deadline in text order.
 * Each date pattern scans the document once; hits are judged in their
 * sentence and clause. */
void ex_date_scan(const ex_ctx *c, const ex_doc *d, extract_result *r, int *sent_hit)
{
    const ex_lexicon *lx = &c->e->lex;
    int best = -1;
    size_t best_pos = 0;
    for (int k = 0; k < K_COUNT; k++) {
        size_t from = 0, ms, me;
        while (from < d->len && ex_rx_find(c, c->e->date_rx[k], d->buf, d->len, from, &ms, &me) == 1) {
            from = me > ms ? me : ms + 1;
            int si = ex_sentence_at(d, ms);
            if (si < 0) continue;
            const ex_sentence *st = &d->sent[si];
            if (st->side != EXTRACT_SIDE_CUSTOMER || me > st->end) continue;
            if (best >= 0 && ms < best_pos) continue; /* an earlier statement cannot win */
            int z = resolve(c, k, d->buf, d->local_day);
            if (z < 0) continue;
            const char *s = d->buf + st->start;
            size_t len = st->end - st->start, cs, ce;
            clause_of(s, len, ms - st->start, me - st->start, &cs, &ce);
            const char *cl = s + cs;
            size_t cl_len = ce - cs;
            /* month/year/quarter ends, N days/weeks and 春节前 are deadlines by themselves */
            int deadline
                = (k != K_FULL && k != K_MD && k != K_EN_MD && k != K_NEXT_WEEKDAY && k != K_NEXT_MONTH)
                || ex_rx_has(c, lx->d_deadline, cl, cl_len);
            /* "30 days after signing", "中标后三个月内": counted from an event, no rule */
            if (lx->d_not_from_now && ex_rx_has(c, lx->d_not_from_now, cl, cl_len)) continue;
            /* "下周五前把合同发过来": a document, not goods */
            if (lx->d_paperwork && lx->d_goods && ex_rx_has(c, lx->d_paperwork, cl, cl_len)
                && !ex_rx_has(c, lx->d_goods, cl, cl_len))
                continue;
            int meeting = ex_rx_has(c, lx->d_meeting, cl, cl_len);
            int ok;
            if (meeting && !deadline)
                ok = 0; /* "meeting on Sept 3 ... rollout": the meeting's date */
            else if (ex_rx_has(c, lx->d_strong, cl, cl_len))
                ok = 1;
            else if (deadline && ex_rx_has(c, lx->d_weak, cl, cl_len))
                ok = 1;
            else if (meeting)
                ok = 0;
            else if (deadline && ex_rx_has(c, lx->d_strong, s, len))
                ok = 1; /* "installed by October 20, and the rest by end of November" */
            else
                ok = prev_rep_has(c, d, st->turn, lx->d_strong);
            if (!ok) continue;
            best = z;
            best_pos = ms;
            if (sent_hit) *sent_hit = si;
        }
    }
    if (best >= 0) {
        int y, m, dd;
        ex_civil_from_days(best, &y, &m, &dd);
        snprintf(r->delivery_by, sizeof r->delivery_by, "%04d-%02d-%02d", y, m, dd);
    }
}

/* meeting_scheduled: a customer sentence naming a meeting day (not a
 * deadline) with a meeting word, a time of day, or after a rep proposal. */
int ex_meeting_scan(const ex_ctx *c, const ex_doc *d)
{
    const ex_lexicon *lx = &c->e->lex;
    size_t from = 0, ms, me;
    while (from < d->len && ex_rx_find(c, lx->d_meeting_day, d->buf, d->len, from, &ms, &me) == 1) {
        from = me > ms ? me : ms + 1;
        int si = ex_sentence_at(d, ms);
        if (si < 0 || d->sent[si].side != EXTRACT_SIDE_CUSTOMER || me > d->sent[si].end) continue;
        const ex_sentence *st = &d->sent[si];
        const char *s = d->buf + st->start;
        size_t len = st->end - st->start;
        ms -= st->start;
        me -= st->start;
        /* "下周三之前", "by Friday": a deadline, not a meeting */
        const char *after = s + me;
        size_t al = len - me;
        while (al && *after == ' ')
            after++, al--;
        if ((al >= 3 && (memcmp(after, "前", 3) == 0 || memcmp(after, "内", 3) == 0))
            || (al >= 6 && (memcmp(after, "之前", 6) == 0 || memcmp(after, "以前", 6) == 0)))
            continue;
        if (ms >= 3 && (strncasecmp(s + ms - 3, "by ", 3) == 0)) continue;
        if (ms >= 7 && (strncasecmp(s + ms - 7, "before ", 7) == 0)) continue;
        if (ex_rx_has(c, lx->d_refused, s, len)) continue;
        if (ex_rx_has(c, lx->d_strong, s, len) && !ex_rx_has(c, lx->d_meeting, s, len)) continue;
        /* the meeting word may sit in another sentence of the same turn */
        const ex_turn *tu = &d->turns[st->turn];
        int meeting = ex_rx_has(c, lx->d_meeting, d->buf + tu->start, tu->end - tu->start);
        if (meeting || ex_rx_has(c, lx->d_time_of_day, s, len) || prev_rep_has(c, d, st->turn, lx->d_meeting))
            return 1;
    }
    return 0;
}
