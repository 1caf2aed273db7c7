/* api_query.c - query parameters, cursors and action bodies (pure). */
#include "taskpool/api_query.h"

#include "civil.h"
#include "err.h"
#include "utf8.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

unsigned api_active_statuses(void)
{
    return (1u << TASK_OPEN) | (1u << TASK_ACKNOWLEDGED) | (1u << TASK_IN_PROGRESS);
}

/* Parses a decimal integer within [lo, hi]; SP_EINVAL otherwise. */
static int parse_ll(const char *s, long long lo, long long hi, long long *out)
{
    if (*s == '\0') return SP_EINVAL;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi) return SP_EINVAL;
    *out = v;
    return SP_OK;
}

/* Looks up key: SP_OK with a value, SP_ENOTFOUND when absent or empty,
 * SP_EINVAL when it does not fit. */
static int param(const sp_http_req *req, const char *key, char *buf, size_t cap)
{
    int rv = sp_http_req_query(req, key, buf, cap);
    if (rv == SP_ETOOBIG) return SP_EINVAL;
    if (rv != SP_OK || *buf == '\0') return SP_ENOTFOUND;
    return SP_OK;
}

static int fail(const char **field, const char *name)
{
    if (field) *field = name;
    return SP_EINVAL;
}

static int parse_statuses(char *s, unsigned *out)
{
    if (strcmp(s, "all") == 0) {
        *out = 0;
        for (int i = TASK_OPEN; i <= TASK_RESOLVED; i++)
            *out |= 1u << i;
        return SP_OK;
    }
    *out = 0;
    for (char *save = NULL, *tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        task_status st;
        if (task_status_parse(tok, &st) != SP_OK) return SP_EINVAL;
        *out |= 1u << st;
    }
    return *out ? SP_OK : SP_EINVAL;
}

int api_list_query_parse(const sp_http_req *req, api_list_query *q, const char **field)
{
    char buf[API_CURSOR_MAX + 1];
    long long v;
    int rv;
    memset(q, 0, sizeof *q);
    q->statuses = api_active_statuses();
    q->limit = API_LIMIT_DEFAULT;
    if ((rv = param(req, "status", buf, sizeof buf)) == SP_OK) {
        if (parse_statuses(buf, &q->statuses) != SP_OK) return fail(field, "status");
    } else if (rv == SP_EINVAL)
        return fail(field, "status");
    if ((rv = param(req, "level", buf, sizeof buf)) == SP_OK) {
        if (parse_ll(buf, 1, 3, &v) != SP_OK) return fail(field, "level");
        q->level = (int)v;
    } else if (rv == SP_EINVAL)
        return fail(field, "level");
    if ((rv = param(req, "kind", q->kind, sizeof q->kind)) == SP_EINVAL) return fail(field, "kind");
    if (rv != SP_OK) q->kind[0] = '\0';
    if ((rv = param(req, "cursor", buf, sizeof buf)) == SP_OK) {
        if (api_cursor_decode(buf, &q->cursor) != SP_OK) return fail(field, "cursor");
        q->has_cursor = 1;
    } else if (rv == SP_EINVAL)
        return fail(field, "cursor");
    if ((rv = param(req, "limit", buf, sizeof buf)) == SP_OK) {
        if (parse_ll(buf, 1, API_LIMIT_MAX, &v) != SP_OK) return fail(field, "limit");
        q->limit = (int)v;
    } else if (rv == SP_EINVAL)
        return fail(field, "limit");
    return SP_OK;
}

int api_changes_query_parse(const sp_http_req *req, api_changes_query *q, const char **field)
{
    char buf[32];
    long long v;
    int rv;
    q->since = 0;
    q->wait_s = 30;
    q->limit = API_LIMIT_MAX;
    if ((rv = param(req, "since", buf, sizeof buf)) == SP_OK) {
        if (parse_ll(buf, 0, INT64_MAX, &v) != SP_OK) return fail(field, "since");
        q->since = v;
    } else if (rv == SP_EINVAL)
        return fail(field, "since");
    if ((rv = param(req, "wait", buf, sizeof buf)) == SP_OK) {
        if (parse_ll(buf, 0, API_WAIT_MAX_S, &v) != SP_OK) return fail(field, "wait");
        q->wait_s = (int)v;
    } else if (rv == SP_EINVAL)
        return fail(field, "wait");
    if ((rv = param(req, "limit", buf, sizeof buf)) == SP_OK) {
        if (parse_ll(buf, 1, API_LIMIT_MAX, &v) != SP_OK) return fail(field, "limit");
        q->limit = (int)v;
    } else if (rv == SP_EINVAL)
        return fail(field, "limit");
    return SP_OK;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* base64url without padding; SP_ETOOBIG when out is too small. */
static int b64_encode(const unsigned char *in, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < n) v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < n) v |= in[i + 2];
        size_t k = i + 2 < n ? 4 : i + 1 < n ? 3 : 2;
        if (o + k >= cap) return SP_ETOOBIG;
        for (size_t j = 0; j < k; j++)
            out[o++] = b64[(v >> (18 - 6 * j)) & 63];
    }
    out[o] = '\0';
    return SP_OK;
}

static int b64_decode(const char *in, unsigned char *out, size_t cap, size_t *len)
{
    size_t n = strlen(in), o = 0;
    if (n % 4 == 1) return SP_EINVAL;
    unsigned v = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = strchr(b64, in[i]);
        if (p == NULL || in[i] == '\0') return SP_EINVAL;
        v = (v << 6) | (unsigned)(p - b64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o + 1 >= cap) return SP_EINVAL;
            out[o++] = (unsigned char)((v >> bits) & 0xff);
        }
    }
    out[o] = '\0';
    *len = o;
    return SP_OK;
}

int api_cursor_encode(const api_cursor *c, char *buf, size_t cap)
{
    char raw[API_CURSOR_MAX];
    int n = snprintf(raw, sizeof raw, "%d|%s|%s", c->level, c->created, c->key);
    if (n < 0 || (size_t)n >= sizeof raw) return SP_ETOOBIG;
    return b64_encode((const unsigned char *)raw, (size_t)n, buf, cap);
}

/* 1 for "YYYY-MM-DD HH:MM:SS[.f{1,6}]+00" naming a real moment (what the
 * list queries write: to_char(... 'YYYY-MM-DD HH24:MI:SS.US') || '+00'). */
static int cursor_time_valid(const char *t, size_t n)
{
    static const char shape[] = "dddd-dd-dd dd:dd:dd";
    const size_t base = sizeof shape - 1;
    if (n < base + 3) return 0;
    for (size_t i = 0; i < base; i++)
        if (shape[i] == 'd' ? !isdigit((unsigned char)t[i]) : t[i] != shape[i]) return 0;
    size_t i = base;
    if (t[i] == '.') {
        size_t f = ++i;
        while (i < n && isdigit((unsigned char)t[i]))
            i++;
        if (i == f || i - f > 6) return 0;
    }
    if (n - i != 3 || memcmp(t + i, "+00", 3) != 0) return 0;
    int y = atoi(t), mo = atoi(t + 5), d = atoi(t + 8), h = atoi(t + 11), mi = atoi(t + 14), s = atoi(t + 17);
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return 0;
    /* the day exists in its month: it survives a round trip through day numbers */
    int y2, m2, d2;
    sp_civil_from_days(sp_days_from_civil(y, mo, d), &y2, &m2, &d2);
    return y2 == y && m2 == mo && d2 == d;
}

int api_cursor_decode(const char *text, api_cursor *c)
{
    unsigned char raw[API_CURSOR_MAX];
    size_t len = 0;
    if (text == NULL || b64_decode(text, raw, sizeof raw, &len) != SP_OK || memchr(raw, 0, len))
        return SP_EINVAL;
    char *s = (char *)raw, *bar1 = strchr(s, '|'), *bar2 = bar1 ? strchr(bar1 + 1, '|') : NULL;
    if (bar2 == NULL || bar1 - s != 1 || s[0] < '1' || s[0] > '3') return SP_EINVAL;
    size_t clen = (size_t)(bar2 - bar1 - 1), klen = strlen(bar2 + 1);
    if (clen == 0 || clen >= sizeof c->created || klen == 0 || klen >= sizeof c->key) return SP_EINVAL;
    /* the timestamp goes into a query as a parameter: exactly what the
     * encoder writes, a real date (PostgreSQL refusing it was a 500) */
    if (!cursor_time_valid(bar1 + 1, clen)) return SP_EINVAL;
    if (!sp_utf8_valid(bar2 + 1, klen, NULL)) return SP_EINVAL; /* a text parameter too */
    memset(c, 0, sizeof *c);
    c->level = s[0] - '0';
    memcpy(c->created, bar1 + 1, clen);
    memcpy(c->key, bar2 + 1, klen);
    return SP_OK;
}

int api_action_parse(const char *name, task_action *out)
{
    static const struct {
        const char *n;
        task_action a;
    } t[] = {{"ack", TASK_ACT_ACK}, {"start", TASK_ACT_START}, {"complete", TASK_ACT_COMPLETE},
        {"dismiss", TASK_ACT_DISMISS}, {"reassign", TASK_ACT_REASSIGN}};
    for (size_t i = 0; name && i < sizeof t / sizeof t[0]; i++)
        if (strcmp(name, t[i].n) == 0) {
            *out = t[i].a;
            return SP_OK;
        }
    return SP_ENOTFOUND;
}

/* A required non-empty string member; SP_EINVAL naming it otherwise. */
static int need_str(const json_t *body, const char *name, const char **out, const char **field)
{
    const json_t *v = body ? json_object_get(body, name) : NULL;
    if (!json_is_string(v) || json_string_length(v) == 0) return fail(field, name);
    *out = json_string_value(v);
    return SP_OK;
}

int api_action_args(task_action a, const json_t *body, task_args *args, const char **field)
{
    memset(args, 0, sizeof *args);
    if (body != NULL && !json_is_object(body)) return fail(field, "body");
    switch (a) {
    case TASK_ACT_ACK:
    case TASK_ACT_START: return SP_OK;
    case TASK_ACT_COMPLETE:
        if (need_str(body, "outcome", &args->outcome, field) != SP_OK) return SP_EINVAL;
        return need_str(body, "note", &args->note, field);
    case TASK_ACT_DISMISS: return need_str(body, "reason", &args->reason, field);
    case TASK_ACT_REASSIGN: return need_str(body, "to_id", &args->to_id, field);
    default: return fail(field, "action");
    }
}
