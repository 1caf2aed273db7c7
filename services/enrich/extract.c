/* extract.c - the extraction engine: build from catalog + lexicon, run one
 * interaction through the detectors. */
#include "enrich/extract_internal.h"

#include "err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void ex_result_add(const char **v, size_t *n, const char *item)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(v[i], item) == 0) return;
    if (*n < EXTRACT_MAX_ITEMS) v[(*n)++] = item;
}

void extract_result_clear(extract_result *r)
{
    memset(r, 0, sizeof *r);
}

void extract_engine_destroy(extract_engine *e)
{
    if (e == NULL) return;
    ex_catalog_free(&e->cat);
    ex_lexicon_free(&e->lex);
    for (int k = 0; k < EX_DATE_KINDS; k++)
        pcre2_code_free(e->date_rx[k]);
    pcre2_code_free(e->money_rx);
    pcre2_code_free(e->clause_rx);
    pcre2_match_context_free(e->mctx);
    free(e);
}

/* Builds an engine; see extract.h. */
int extract_engine_new(
    const char *catalog_path, const char *lexicon_dir, char *errbuf, size_t errlen, extract_engine **out)
{
    char dummy[8];
    if (errbuf == NULL || errlen == 0) {
        errbuf = dummy;
        errlen = sizeof dummy;
    }
    errbuf[0] = '\0';
    if (catalog_path == NULL || lexicon_dir == NULL || out == NULL) {
        snprintf(errbuf, errlen, "extract_engine_new: NULL argument");
        return SP_EINVAL;
    }
    *out = NULL;
    extract_engine *e = calloc(1, sizeof *e);
    if (e == NULL) return SP_ENOMEM;
    int rv;
    e->mctx = pcre2_match_context_create(NULL);
    if (e->mctx == NULL) {
        rv = SP_ENOMEM;
        goto fail;
    }
    pcre2_set_match_limit(e->mctx, EX_MATCH_LIMIT);
    pcre2_set_depth_limit(e->mctx, EX_DEPTH_LIMIT);
    if ((rv = ex_catalog_load(&e->cat, catalog_path, errbuf, errlen)) != SP_OK) goto fail;
    if ((rv = ex_lexicon_load(&e->lex, lexicon_dir, errbuf, errlen)) != SP_OK) goto fail;
    if ((rv = ex_date_compile(e, errbuf, errlen)) != SP_OK) goto fail;
    if ((rv = ex_money_compile(e, errbuf, errlen)) != SP_OK) goto fail;
    *out = e;
    return SP_OK;
fail:
    extract_engine_destroy(e);
    return rv;
}

/* Zones with one UTC offset since 2000 (no DST), in minutes. */
static const struct {
    const char *name;
    int off;
} ZONES[] = {
    {"Asia/Shanghai", 480},
    {"Asia/Chongqing", 480},
    {"Asia/Harbin", 480},
    {"Asia/Urumqi", 360},
    {"Asia/Hong_Kong", 480},
    {"Asia/Macau", 480},
    {"Asia/Taipei", 480},
    {"Asia/Singapore", 480},
    {"Asia/Kuala_Lumpur", 480},
    {"Asia/Manila", 480},
    {"Asia/Tokyo", 540},
    {"Asia/Seoul", 540},
    {"Asia/Kolkata", 330},
    {"Asia/Calcutta", 330},
    {"Asia/Bangkok", 420},
    {"Asia/Ho_Chi_Minh", 420},
    {"Asia/Jakarta", 420},
    {"Asia/Dubai", 240},
    {"UTC", 0},
    {"Etc/UTC", 0},
    {"GMT", 0},
    {"Z", 0},
    {"PRC", 480},
};

/* Parses "+08:00", "+0800", "+8", "-05:30" into minutes; 1 on success. */
static int parse_offset(const char *s, int *off)
{
    if (*s != '+' && *s != '-') return 0;
    int sign = *s == '-' ? -1 : 1, h = 0, m = 0;
    s++;
    if (!(s[0] >= '0' && s[0] <= '9')) return 0;
    h = s[0] - '0';
    s++;
    if (*s >= '0' && *s <= '9') h = h * 10 + (*s++ - '0');
    if (*s == ':') s++;
    if (*s >= '0' && *s <= '9' && s[1] >= '0' && s[1] <= '9') {
        m = (s[0] - '0') * 10 + (s[1] - '0');
        s += 2;
    }
    if (*s != '\0' || h > 14 || m > 59) return 0;
    *off = sign * (h * 60 + m);
    return 1;
}

int extract_tz_offset(const char *zone, int *offset_min)
{
    if (offset_min == NULL) return SP_EINVAL;
    if (zone == NULL || zone[0] == '\0') zone = "Asia/Shanghai";
    for (size_t i = 0; i < sizeof ZONES / sizeof ZONES[0]; i++)
        if (strcasecmp(zone, ZONES[i].name) == 0) {
            *offset_min = ZONES[i].off;
            return SP_OK;
        }
    if (parse_offset(zone, offset_min)) return SP_OK;
    if ((strncasecmp(zone, "UTC", 3) == 0 || strncasecmp(zone, "GMT", 3) == 0)
        && parse_offset(zone + 3, offset_min))
        return SP_OK;
    if (strncasecmp(zone, "Etc/GMT", 7) == 0 && parse_offset(zone + 7, offset_min)) {
        *offset_min = -*offset_min; /* POSIX sign: Etc/GMT-8 is UTC+8 */
        return SP_OK;
    }
    return SP_EINVAL;
}

int extract_parse_iso8601(const char *s, int64_t *ms)
{
    if (s == NULL || ms == NULL) return SP_EINVAL;
    int y, mo, d, h, mi, sec, n = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 19) {
        n = 0;
        if (sscanf(s, "%4d-%2d-%2d %2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 19)
            return SP_EINVAL;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return SP_EINVAL;
    const char *p = s + n;
    int frac = 0;
    if (*p == '.') {
        p++;
        int digits = 0;
        while (*p >= '0' && *p <= '9') {
            if (digits < 3) frac = frac * 10 + (*p - '0');
            digits++;
            p++;
        }
        if (digits == 0) return SP_EINVAL;
        while (digits < 3)
            frac *= 10, digits++;
    }
    int off = 0;
    if (*p == 'Z' || *p == 'z') {
        if (p[1] != '\0') return SP_EINVAL;
    } else if (!parse_offset(p, &off)) {
        return SP_EINVAL;
    }
    int64_t days = ex_days_from_civil(y, mo, d);
    *ms = ((days * 86400 + h * 3600 + mi * 60 + sec) - (int64_t)off * 60) * 1000 + frac;
    return SP_OK;
}

static int floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
    return (int)q;
}

/* Runs every detector; see extract.h. */
int extract_run(const extract_engine *e, const extract_input *in, extract_result *out)
{
    if (out == NULL) return SP_EINVAL;
    extract_result_clear(out);
    if (e == NULL || in == NULL || (in->n_turns == 0 && in->text == NULL)
        || (in->n_turns > 0 && in->turns == NULL))
        return SP_EINVAL;
    int off;
    if (extract_tz_offset(in->tz, &off) != SP_OK) return SP_EINVAL;
    extract_input local = *in;
    if (in->n_turns > EXTRACT_MAX_TURNS) {
        local.n_turns = EXTRACT_MAX_TURNS; /* capped like overlong text */
        out->truncated = 1;
    }
    if (in->n_turns == 0) {
        size_t len = in->text_len == (size_t)-1 ? strlen(in->text) : in->text_len;
        size_t capped = ex_utf8_cap(in->text, len, EXTRACT_MAX_TEXT);
        /* validate what we look at; a cut inside a code point was moved back */
        if (!ex_utf8_valid(in->text, capped)) return SP_EUTF8;
        if (capped < len) out->truncated = 1;
        local.text_len = capped;
    }
    ex_ctx c = {e, pcre2_match_data_create(EX_OVECTOR, NULL)};
    if (c.md == NULL) return SP_ENOMEM;
    ex_doc *d = malloc(sizeof *d);
    if (d == NULL) {
        pcre2_match_data_free(c.md);
        return SP_ENOMEM;
    }
    d->buf = NULL;
    d->local_day = floor_div(in->occurred_at_ms + (int64_t)off * 60000, 86400000LL);
    int truncated = out->truncated;
    int rv = ex_doc_build(&c, &local, d);
    if (rv == SP_OK) {
        ex_catalog_scan(&c, d->buf, d->len, out);
        int budget_sent = -1, date_sent = -1, need = -1, concern = -1;
        if (d->has_customer) { /* both count the customer's words only */
            ex_budget_scan(&c, d, out, &budget_sent);
            ex_date_scan(&c, d, out, &date_sent);
        }
        ex_tags_scan(&c, d, out, &need, &concern);
        int fb = budget_sent >= 0 ? budget_sent : date_sent;
        if (out->core_need[0] == '\0' && fb >= 0) {
            const ex_sentence *st = &d->sent[fb];
            ex_snippet(d->buf + st->start, st->end - st->start, out->core_need, sizeof out->core_need);
        }
        out->truncated = truncated;
    } else {
        extract_result_clear(out);
    }
    ex_doc_free(d);
    free(d);
    pcre2_match_data_free(c.md);
    return rv;
}
