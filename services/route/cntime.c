/* cntime.c - Asia/Shanghai calendar arithmetic. */
#include "route/cntime.h"

#include "err.h"

#include "civil.h"

#include <stdio.h>
#include <string.h>

int64_t cntime_days_from_civil(int y, int m, int d)
{
    return sp_days_from_civil(y, m, d);
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    sp_civil_from_days(z, y, m, d);
}

void cntime_date(int64_t ms, int *year, int *month, int *day)
{
    int64_t s = ms / 1000 - (ms % 1000 < 0) + SP_SHANGHAI_OFFSET_S;
    int64_t days = s / 86400 - (s % 86400 < 0);
    civil_from_days(days, year, month, day);
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return SP_EINVAL;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return SP_OK;
}

int cntime_parse(const char *s, int64_t *ms)
{
    int y, mo, d, h = 0, mi = 0, se = 0, off = SP_SHANGHAI_OFFSET_S;
    size_t n = strlen(s);
    if (n < 10 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-'
        || digits(s + 8, 2, &d))
        return SP_EINVAL;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1]) return SP_EINVAL;
    const char *p = s + 10;
    if (*p == 'T' || *p == ' ') {
        if (strlen(p) < 6 || digits(p + 1, 2, &h) || p[3] != ':' || digits(p + 4, 2, &mi)) return SP_EINVAL;
        p += 6;
        if (*p == ':') {
            if (digits(p + 1, 2, &se)) return SP_EINVAL;
            p += 3;
        }
        if (h > 23 || mi > 59 || se > 59) return SP_EINVAL;
        if (*p == 'Z') {
            off = 0;
            p++;
        } else if (*p == '+' || *p == '-') {
            int oh, om;
            if (strlen(p) < 6 || digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 14
                || om > 59)
                return SP_EINVAL;
            off = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
            p += 6;
        }
    }
    if (*p != '\0') return SP_EINVAL;
    int64_t secs = cntime_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off;
    *ms = secs * 1000;
    return SP_OK;
}

void cntime_fmt_zh(int64_t ms, char *buf, int cap)
{
    int y, m, d;
    cntime_date(ms, &y, &m, &d);
    snprintf(buf, (size_t)cap, "%d月%d日", m, d);
}

void cntime_fmt_en(int64_t ms, char *buf, int cap)
{
    static const char *const mon[]
        = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int y, m, d;
    cntime_date(ms, &y, &m, &d);
    snprintf(buf, (size_t)cap, "%d %s", d, mon[m - 1]);
}
