/* calendar.c - working days, holidays and adjusted working days (调休). */
#include "score/calendar.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAL_MAX_YEARS 64

struct score_calendar {
    int utc_offset_min;
    int32_t *holidays; /* sorted, unique */
    size_t n_holidays;
    int32_t *workdays; /* sorted, unique */
    size_t n_workdays;
    int years[CAL_MAX_YEARS];
    size_t n_years;
};

/* Days since 1970-01-01 of a proleptic Gregorian date (era arithmetic). */
int32_t calendar_day_from_ymd(int y, int m, int d)
{
    y -= m <= 2;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const int yoe = y - era * 400;
    const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t)(era * 146097 + doe - 719468);
}

void calendar_ymd_from_day(int32_t day, int *y, int *m, int *d)
{
    int z = day + 719468;
    const int era = (z >= 0 ? z : z - 146096) / 146097;
    const int doe = z - era * 146097;
    const int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int yy = yoe + era * 400;
    const int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int mp = (5 * doy + 2) / 153;
    const int dd = doy - (153 * mp + 2) / 5 + 1;
    const int mm = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (mm <= 2);
    *m = mm;
    *d = dd;
}

static int days_in_month(int y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
    return dm[m - 1];
}

sp_err calendar_parse_date(const char *s, int32_t *day)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-') return SP_EINVAL;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return SP_EINVAL;
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    if (y < 1970 || y > 2200 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) return SP_EINVAL;
    *day = calendar_day_from_ymd(y, m, d);
    return SP_OK;
}

/* Floor division for negative instants. */
static int64_t floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
    return q;
}

int calendar_utc_offset_min(const score_calendar *cal)
{
    return cal->utc_offset_min;
}

int32_t calendar_local_day(const score_calendar *cal, int64_t ms)
{
    return (int32_t)floordiv(ms + (int64_t)cal->utc_offset_min * 60000, SCORE_DAY_MS);
}

int64_t calendar_day_start_ms(const score_calendar *cal, int32_t day)
{
    return (int64_t)day * SCORE_DAY_MS - (int64_t)cal->utc_offset_min * 60000;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static int in_set(const int32_t *set, size_t n, int32_t day)
{
    return n && bsearch(&day, set, n, sizeof *set, cmp_i32) != NULL;
}

/* 1970-01-01 was a Thursday; returns 1 = Monday .. 7 = Sunday. */
static int iso_weekday(int32_t day)
{
    int w = (int)(((int64_t)day + 3) % 7);
    if (w < 0) w += 7;
    return w + 1;
}

int calendar_is_working_day(const score_calendar *cal, int32_t day)
{
    if (in_set(cal->workdays, cal->n_workdays, day)) return 1;
    if (in_set(cal->holidays, cal->n_holidays, day)) return 0;
    return iso_weekday(day) <= 5;
}

int calendar_covers_year(const score_calendar *cal, int year)
{
    for (size_t i = 0; i < cal->n_years; i++)
        if (cal->years[i] == year) return 1;
    return 0;
}

int calendar_working_days_between(const score_calendar *cal, int64_t from_ms, int64_t to_ms)
{
    int32_t a = calendar_local_day(cal, from_ms), b = calendar_local_day(cal, to_ms);
    int n = 0;
    for (int32_t d = a; d < b; d++)
        n += calendar_is_working_day(cal, d);
    return n;
}

sp_err calendar_add_working_days(const score_calendar *cal, int64_t from_ms, int n, int64_t *out_ms)
{
    if (n < 0 || n > 3660) return SP_EINVAL;
    int32_t day = calendar_local_day(cal, from_ms);
    int32_t d = day;
    for (int left = n; left > 0;) {
        d++;
        if (calendar_is_working_day(cal, d)) left--;
    }
    *out_ms = from_ms + (int64_t)(d - day) * SCORE_DAY_MS;
    return SP_OK;
}

int32_t calendar_iso_week_monday(int iso_year, int week)
{
    int32_t jan4 = calendar_day_from_ymd(iso_year, 1, 4);
    int32_t monday1 = jan4 - (iso_weekday(jan4) - 1);
    return monday1 + (week - 1) * 7;
}

int calendar_iso_week(int32_t day, int *iso_year, int *week)
{
    int y, m, d;
    /* The ISO year is the year of the week's Thursday. */
    int32_t thursday = day + (4 - iso_weekday(day));
    calendar_ymd_from_day(thursday, &y, &m, &d);
    int32_t jan1 = calendar_day_from_ymd(y, 1, 1);
    int w = (int)((thursday - jan1) / 7) + 1;
    if (iso_year) *iso_year = y;
    if (week) *week = w;
    return y * 100 + w;
}

/* Appends the dates of one "holidays"/"workdays" item: {"date": "YYYY-MM-DD"}
 * or {"from": ..., "to": ...}, optional "name". */
static sp_err add_item(json_t *item, const char *name, const char *list, size_t idx, int32_t **arr, size_t *n,
    size_t *cap, char *errbuf, size_t errlen)
{
    if (!json_is_object(item)) {
        snprintf(errbuf, errlen, "%s: %s[%zu]: must be an object", name, list, idx);
        return SP_ECONFIG;
    }
    const char *key;
    json_t *v;
    int32_t from = 0, to = 0;
    int have_date = 0, have_from = 0, have_to = 0;
    json_object_foreach(item, key, v)
    {
        int32_t *dst = NULL;
        if (!strcmp(key, "name")) {
            if (!json_is_string(v)) {
                snprintf(errbuf, errlen, "%s: %s[%zu].name: must be a string", name, list, idx);
                return SP_ECONFIG;
            }
            continue;
        }
        if (!strcmp(key, "date"))
            dst = &from, have_date = 1;
        else if (!strcmp(key, "from"))
            dst = &from, have_from = 1;
        else if (!strcmp(key, "to"))
            dst = &to, have_to = 1;
        else {
            snprintf(errbuf, errlen, "%s: %s[%zu].%s: unknown key", name, list, idx, key);
            return SP_ECONFIG;
        }
        if (!json_is_string(v) || calendar_parse_date(json_string_value(v), dst) != SP_OK) {
            snprintf(errbuf, errlen, "%s: %s[%zu].%s: must be a date \"YYYY-MM-DD\"", name, list, idx, key);
            return SP_ECONFIG;
        }
    }
    if (have_date && !have_from && !have_to)
        to = from;
    else if (!have_date && have_from && have_to) {
        if (to < from || to - from > 31) {
            snprintf(
                errbuf, errlen, "%s: %s[%zu].to: must be on or after from, within 31 days", name, list, idx);
            return SP_ECONFIG;
        }
    } else {
        snprintf(errbuf, errlen, "%s: %s[%zu]: needs \"date\" or both \"from\" and \"to\"", name, list, idx);
        return SP_ECONFIG;
    }
    for (int32_t d = from; d <= to; d++) {
        if (*n == *cap) {
            size_t nc = *cap ? *cap * 2 : 64;
            int32_t *p = realloc(*arr, nc * sizeof *p);
            if (!p) return SP_ENOMEM;
            *arr = p;
            *cap = nc;
        }
        (*arr)[(*n)++] = d;
    }
    return SP_OK;
}

static size_t sort_unique(int32_t *a, size_t n)
{
    if (!n) return 0;
    qsort(a, n, sizeof *a, cmp_i32);
    size_t k = 1;
    for (size_t i = 1; i < n; i++)
        if (a[i] != a[k - 1]) a[k++] = a[i];
    return k;
}

static sp_err load_list(
    json_t *root, const char *name, const char *list, int32_t **arr, size_t *n, char *errbuf, size_t errlen)
{
    json_t *a = json_object_get(root, list);
    if (!a) return SP_OK;
    if (!json_is_array(a)) {
        snprintf(errbuf, errlen, "%s: %s: must be an array", name, list);
        return SP_ECONFIG;
    }
    size_t cap = 0, i;
    json_t *item;
    sp_err rv;
    json_array_foreach(a, i, item)
    {
        if ((rv = add_item(item, name, list, i, arr, n, &cap, errbuf, errlen)) != SP_OK) return rv;
    }
    *n = sort_unique(*arr, *n);
    return SP_OK;
}

static sp_err load_json(json_t *root, const char *name, score_calendar **out, char *errbuf, size_t errlen)
{
    sp_err rv = SP_ECONFIG;
    score_calendar *cal = calloc(1, sizeof *cal);
    if (!cal) return SP_ENOMEM;
    cal->utc_offset_min = 480;
    if (!json_is_object(root)) {
        snprintf(errbuf, errlen, "%s: top level must be an object", name);
        goto fail;
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        if (!strcmp(key, "utc_offset_minutes")) {
            if (!json_is_integer(v) || json_integer_value(v) < -720 || json_integer_value(v) > 840) {
                snprintf(errbuf, errlen, "%s: utc_offset_minutes: must be an integer in [-720, 840]", name);
                goto fail;
            }
            cal->utc_offset_min = (int)json_integer_value(v);
        } else if (!strcmp(key, "time_zone") || !strcmp(key, "comment")) {
            if (!json_is_string(v)) {
                snprintf(errbuf, errlen, "%s: %s: must be a string", name, key);
                goto fail;
            }
        } else if (!strcmp(key, "years")) {
            size_t i;
            json_t *y;
            if (!json_is_array(v) || json_array_size(v) > CAL_MAX_YEARS) {
                snprintf(
                    errbuf, errlen, "%s: years: must be an array of at most %d years", name, CAL_MAX_YEARS);
                goto fail;
            }
            json_array_foreach(v, i, y)
            {
                if (!json_is_integer(y) || json_integer_value(y) < 1970 || json_integer_value(y) > 2200) {
                    snprintf(errbuf, errlen, "%s: years[%zu]: must be a year in [1970, 2200]", name, i);
                    goto fail;
                }
                cal->years[cal->n_years++] = (int)json_integer_value(y);
            }
        } else if (strcmp(key, "holidays") && strcmp(key, "workdays")) {
            snprintf(errbuf, errlen, "%s: %s: unknown key", name, key);
            goto fail;
        }
    }
    if ((rv = load_list(root, name, "holidays", &cal->holidays, &cal->n_holidays, errbuf, errlen)) != SP_OK
        || (rv = load_list(root, name, "workdays", &cal->workdays, &cal->n_workdays, errbuf, errlen))
            != SP_OK)
        goto fail;
    for (size_t i = 0; i < cal->n_workdays; i++) {
        if (in_set(cal->holidays, cal->n_holidays, cal->workdays[i])) {
            int y, m, d;
            calendar_ymd_from_day(cal->workdays[i], &y, &m, &d);
            snprintf(
                errbuf, errlen, "%s: workdays: %04d-%02d-%02d is also listed in holidays", name, y, m, d);
            rv = SP_ECONFIG;
            goto fail;
        }
    }
    *out = cal;
    return SP_OK;
fail:
    calendar_destroy(cal);
    return rv;
}

sp_err calendar_load_string(
    const char *json, const char *name, score_calendar **out, char *errbuf, size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(errbuf, errlen, "%s: line %d: %s", name, jerr.line, jerr.text);
        return SP_ECONFIG;
    }
    sp_err rv = load_json(root, name, out, errbuf, errlen);
    json_decref(root);
    return rv;
}

sp_err calendar_load(const char *path, score_calendar **out, char *errbuf, size_t errlen)
{
    json_error_t jerr;
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(errbuf, errlen, "%s: line %d: %s", name, jerr.line, jerr.text);
        return SP_ECONFIG;
    }
    sp_err rv = load_json(root, name, out, errbuf, errlen);
    json_decref(root);
    return rv;
}

void calendar_destroy(score_calendar *cal)
{
    if (!cal) return;
    free(cal->holidays);
    free(cal->workdays);
    free(cal);
}
