/* metrics.c - Prometheus registry: families, series, text rendering.
 *
 * Series live on an append-only list per family whose links are published
 * with release stores, so lookups scan without the lock and only creation
 * takes the family mutex. Values are doubles kept as bit patterns in 64-bit
 * atomics (CAS loop for add). Histogram buckets are stored non-cumulative
 * and summed at render time, so _count always equals the +Inf bucket. */
#include "metrics.h"

#include "err.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { M_COUNTER, M_GAUGE, M_HISTOGRAM } mtype;

static const char *const type_names[] = {"counter", "gauge", "histogram"};

const double SP_METRICS_DEFAULT_BUCKETS[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
const size_t SP_METRICS_DEFAULT_BUCKETS_N = sizeof SP_METRICS_DEFAULT_BUCKETS / sizeof(double);

struct sp_series {
    _Atomic(sp_series *) next;
    sp_metric *fam;
    uint64_t hash;
    char **values; /* fam->nlabels owned strings */
    _Atomic uint64_t value; /* counter/gauge value, histogram sum (double bits) */
    _Atomic uint64_t counts[]; /* histogram: nbounds + 1 buckets */
};

struct sp_metric {
    sp_metric *next; /* registry list, guarded by the registry mutex */
    mtype type;
    char *name;
    char *help;
    char *labels_spec;
    int nlabels;
    char *label_names[SP_METRICS_MAX_LABELS];
    size_t nbounds;
    double bounds[SP_METRICS_MAX_BUCKETS];
    pthread_mutex_t mtx; /* serialises series creation */
    _Atomic(sp_series *) head;
    sp_series *tail;
};

struct sp_metrics {
    pthread_mutex_t mtx;
    sp_metric *first, *last;
};

static uint64_t dbits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static double bitsd(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static void atomic_add_double(_Atomic uint64_t *p, double v)
{
    uint64_t old = atomic_load_explicit(p, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(
        p, &old, dbits(bitsd(old) + v), memory_order_relaxed, memory_order_relaxed)) { }
}

int sp_metrics_new(sp_metrics **out)
{
    sp_metrics *reg = calloc(1, sizeof *reg);
    if (reg == NULL) return SP_ENOMEM;
    pthread_mutex_init(&reg->mtx, NULL);
    *out = reg;
    return SP_OK;
}

static void series_free(sp_series *s, int nlabels)
{
    for (int i = 0; i < nlabels; i++)
        free(s->values[i]);
    free(s->values);
    free(s);
}

static void family_free(sp_metric *m)
{
    sp_series *s = atomic_load(&m->head);
    while (s) {
        sp_series *n = atomic_load(&s->next);
        series_free(s, m->nlabels);
        s = n;
    }
    for (int i = 0; i < m->nlabels; i++)
        free(m->label_names[i]);
    free(m->name);
    free(m->help);
    free(m->labels_spec);
    pthread_mutex_destroy(&m->mtx);
    free(m);
}

void sp_metrics_destroy(sp_metrics *reg)
{
    if (reg == NULL) return;
    sp_metric *m = reg->first;
    while (m) {
        sp_metric *n = m->next;
        family_free(m);
        m = n;
    }
    pthread_mutex_destroy(&reg->mtx);
    free(reg);
}

static int valid_name(const char *s, int allow_colon)
{
    if (s == NULL || *s == '\0') return 0;
    for (const char *p = s; *p; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':')
            || (p != s && c >= '0' && c <= '9');
        if (!ok) return 0;
    }
    return 1;
}

/* Splits the comma-separated label spec into m->label_names. */
static int parse_labels(sp_metric *m, const char *spec)
{
    if (spec == NULL || *spec == '\0') return SP_OK;
    const char *p = spec;
    for (;;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (m->nlabels == SP_METRICS_MAX_LABELS) return SP_EINVAL;
        char *name = strndup(p, n);
        if (name == NULL) return SP_ENOMEM;
        m->label_names[m->nlabels++] = name;
        if (!valid_name(name, 0) || strncmp(name, "__", 2) == 0) return SP_EINVAL;
        if (m->type == M_HISTOGRAM && strcmp(name, "le") == 0) return SP_EINVAL;
        for (int i = 0; i < m->nlabels - 1; i++)
            if (strcmp(m->label_names[i], name) == 0) return SP_EINVAL;
        if (e == NULL) break;
        p = e + 1;
    }
    return SP_OK;
}

static int same_family(const sp_metric *a, const sp_metric *b)
{
    if (a->type != b->type || strcmp(a->help, b->help) != 0 || strcmp(a->labels_spec, b->labels_spec) != 0)
        return 0;
    if (a->nbounds != b->nbounds) return 0;
    for (size_t i = 0; i < a->nbounds; i++)
        if (a->bounds[i] != b->bounds[i]) return 0;
    return 1;
}

static int family_new(sp_metrics *reg, mtype type, const char *name, const char *help, const char *labels,
    const double *bounds, size_t nb, sp_metric **out)
{
    int rv;
    if (reg == NULL || out == NULL || !valid_name(name, 1)) return SP_EINVAL;
    sp_metric *m = calloc(1, sizeof *m);
    if (m == NULL) return SP_ENOMEM;
    pthread_mutex_init(&m->mtx, NULL);
    m->type = type;
    m->name = strdup(name);
    m->help = strdup(help ? help : "");
    m->labels_spec = strdup(labels ? labels : "");
    if (m->name == NULL || m->help == NULL || m->labels_spec == NULL) {
        rv = SP_ENOMEM;
        goto fail;
    }
    if ((rv = parse_labels(m, labels)) != SP_OK) goto fail;
    if (type == M_HISTOGRAM) {
        if (bounds == NULL) {
            bounds = SP_METRICS_DEFAULT_BUCKETS;
            nb = SP_METRICS_DEFAULT_BUCKETS_N;
        }
        rv = SP_EINVAL;
        if (nb > SP_METRICS_MAX_BUCKETS) goto fail;
        for (size_t i = 0; i < nb; i++) {
            if (!isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1])) goto fail;
            m->bounds[i] = bounds[i];
        }
        m->nbounds = nb;
    }

    pthread_mutex_lock(&reg->mtx);
    for (sp_metric *o = reg->first; o; o = o->next) {
        if (strcmp(o->name, name) != 0) continue;
        rv = same_family(o, m) ? SP_OK : SP_EEXIST;
        pthread_mutex_unlock(&reg->mtx);
        family_free(m);
        if (rv == SP_OK) *out = o;
        return rv;
    }
    if (reg->last)
        reg->last->next = m;
    else
        reg->first = m;
    reg->last = m;
    pthread_mutex_unlock(&reg->mtx);
    *out = m;
    return SP_OK;
fail:
    family_free(m);
    return rv;
}

int sp_counter_new(sp_metrics *reg, const char *name, const char *help, const char *labels, sp_metric **out)
{
    return family_new(reg, M_COUNTER, name, help, labels, NULL, 0, out);
}

int sp_gauge_new(sp_metrics *reg, const char *name, const char *help, const char *labels, sp_metric **out)
{
    return family_new(reg, M_GAUGE, name, help, labels, NULL, 0, out);
}

int sp_histogram_new(sp_metrics *reg, const char *name, const char *help, const char *labels,
    const double *bounds, size_t n, sp_metric **out)
{
    return family_new(reg, M_HISTOGRAM, name, help, labels, bounds, n, out);
}

static uint64_t hash_values(const char *const *values, int n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (int i = 0; i < n; i++) {
        for (const char *p = values[i] ? values[i] : ""; *p; p++) {
            h ^= (unsigned char)*p;
            h *= 1099511628211ULL;
        }
        h ^= 0xff; /* separator so ("ab","") != ("a","b") */
        h *= 1099511628211ULL;
    }
    return h;
}

static sp_series *find_series(sp_metric *m, const char *const *values, uint64_t h)
{
    for (sp_series *s = atomic_load_explicit(&m->head, memory_order_acquire); s;
         s = atomic_load_explicit(&s->next, memory_order_acquire)) {
        if (s->hash != h) continue;
        int i = 0;
        while (i < m->nlabels && strcmp(s->values[i], values[i] ? values[i] : "") == 0)
            i++;
        if (i == m->nlabels) return s;
    }
    return NULL;
}

sp_series *sp_metric_series(sp_metric *m, const char *const *values)
{
    if (m == NULL) return NULL;
    uint64_t h = hash_values(values, m->nlabels);
    sp_series *s = find_series(m, values, h);
    if (s) return s;

    pthread_mutex_lock(&m->mtx);
    if ((s = find_series(m, values, h)) != NULL) goto out;
    size_t nc = m->type == M_HISTOGRAM ? m->nbounds + 1 : 0;
    s = calloc(1, sizeof *s + nc * sizeof(_Atomic uint64_t));
    if (s == NULL) goto out;
    s->fam = m;
    s->hash = h;
    s->values = calloc((size_t)m->nlabels + 1, sizeof(char *));
    int ok = s->values != NULL;
    for (int i = 0; ok && i < m->nlabels; i++)
        ok = (s->values[i] = strdup(values[i] ? values[i] : "")) != NULL;
    if (!ok) {
        if (s->values)
            series_free(s, m->nlabels);
        else
            free(s);
        s = NULL;
        goto out;
    }
    if (m->tail)
        atomic_store_explicit(&m->tail->next, s, memory_order_release);
    else
        atomic_store_explicit(&m->head, s, memory_order_release);
    m->tail = s;
out:
    pthread_mutex_unlock(&m->mtx);
    return s;
}

static sp_series *series_va(sp_metric *m, va_list ap)
{
    if (m == NULL) return NULL;
    const char *vals[SP_METRICS_MAX_LABELS];
    for (int i = 0; i < m->nlabels; i++)
        vals[i] = va_arg(ap, const char *);
    return sp_metric_series(m, vals);
}

sp_series *sp_metric_with(sp_metric *m, ...)
{
    va_list ap;
    va_start(ap, m);
    sp_series *s = series_va(m, ap);
    va_end(ap);
    return s;
}

void sp_series_add(sp_series *s, double v)
{
    if (s == NULL || s->fam->type == M_HISTOGRAM) return;
    if (s->fam->type == M_COUNTER && !(v >= 0)) return;
    atomic_add_double(&s->value, v);
}

void sp_series_set(sp_series *s, double v)
{
    if (s == NULL || s->fam->type != M_GAUGE) return;
    atomic_store_explicit(&s->value, dbits(v), memory_order_relaxed);
}

void sp_series_observe(sp_series *s, double v)
{
    if (s == NULL || s->fam->type != M_HISTOGRAM || isnan(v)) return;
    const sp_metric *m = s->fam;
    size_t lo = 0, hi = m->nbounds; /* first bound >= v, or nbounds (+Inf) */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (m->bounds[mid] >= v)
            hi = mid;
        else
            lo = mid + 1;
    }
    atomic_fetch_add_explicit(&s->counts[lo], 1, memory_order_relaxed);
    atomic_add_double(&s->value, v);
}

double sp_series_value(const sp_series *s)
{
    if (s == NULL) return 0;
    if (s->fam->type != M_HISTOGRAM) return bitsd(atomic_load_explicit(&s->value, memory_order_relaxed));
    uint64_t n = 0;
    for (size_t i = 0; i <= s->fam->nbounds; i++)
        n += atomic_load_explicit(&s->counts[i], memory_order_relaxed);
    return (double)n;
}

void sp_counter_add(sp_metric *m, double v, ...)
{
    if (m == NULL || m->type != M_COUNTER) return;
    va_list ap;
    va_start(ap, v);
    sp_series_add(series_va(m, ap), v);
    va_end(ap);
}

void sp_gauge_set(sp_metric *m, double v, ...)
{
    if (m == NULL || m->type != M_GAUGE) return;
    va_list ap;
    va_start(ap, v);
    sp_series_set(series_va(m, ap), v);
    va_end(ap);
}

void sp_gauge_add(sp_metric *m, double v, ...)
{
    if (m == NULL || m->type != M_GAUGE) return;
    va_list ap;
    va_start(ap, v);
    sp_series_add(series_va(m, ap), v);
    va_end(ap);
}

void sp_histogram_observe(sp_metric *m, double v, ...)
{
    if (m == NULL || m->type != M_HISTOGRAM) return;
    va_list ap;
    va_start(ap, v);
    sp_series_observe(series_va(m, ap), v);
    va_end(ap);
}

/* --- rendering --------------------------------------------------------- */

typedef struct {
    char *buf;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *nb = realloc(b->buf, cap);
        if (nb == NULL) {
            b->oom = 1;
            return;
        }
        b->buf = nb;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    b->buf[b->len] = '\0';
}

static void sb_str(sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

/* Appends s escaping backslash and newline, and double quote if quotes. */
static void sb_escaped(sbuf *b, const char *s, int quotes)
{
    const char *run = s;
    for (; *s; s++) {
        const char *rep = NULL;
        if (*s == '\\')
            rep = "\\\\";
        else if (*s == '\n')
            rep = "\\n";
        else if (quotes && *s == '"')
            rep = "\\\"";
        if (rep == NULL) continue;
        sb_put(b, run, (size_t)(s - run));
        sb_str(b, rep);
        run = s + 1;
    }
    sb_put(b, run, (size_t)(s - run));
}

/* Shortest of %.15g/%.17g that reads back exactly; Prometheus spellings of
 * the specials. */
static void sb_num(sbuf *b, double v)
{
    char tmp[40];
    if (isnan(v))
        snprintf(tmp, sizeof tmp, "NaN");
    else if (isinf(v))
        snprintf(tmp, sizeof tmp, v > 0 ? "+Inf" : "-Inf");
    else {
        snprintf(tmp, sizeof tmp, "%.15g", v);
        if (strtod(tmp, NULL) != v) snprintf(tmp, sizeof tmp, "%.17g", v);
    }
    sb_str(b, tmp);
}

/* Writes name{l1="v1",...,extra} — extra is an already-formatted pair. */
static void sb_series_name(sbuf *b, const sp_metric *m, const char *suffix, const sp_series *s,
    const char *extra_name, double extra_val)
{
    sb_str(b, m->name);
    sb_str(b, suffix);
    if (m->nlabels == 0 && extra_name == NULL) return;
    sb_str(b, "{");
    for (int i = 0; i < m->nlabels; i++) {
        if (i) sb_str(b, ",");
        sb_str(b, m->label_names[i]);
        sb_str(b, "=\"");
        sb_escaped(b, s->values[i], 1);
        sb_str(b, "\"");
    }
    if (extra_name) {
        if (m->nlabels) sb_str(b, ",");
        sb_str(b, extra_name);
        sb_str(b, "=\"");
        sb_num(b, extra_val);
        sb_str(b, "\"");
    }
    sb_str(b, "}");
}

static void render_family(sbuf *b, const sp_metric *m)
{
    sb_str(b, "# HELP ");
    sb_str(b, m->name);
    sb_str(b, " ");
    sb_escaped(b, m->help, 0);
    sb_str(b, "\n# TYPE ");
    sb_str(b, m->name);
    sb_str(b, " ");
    sb_str(b, type_names[m->type]);
    sb_str(b, "\n");
    for (const sp_series *s = atomic_load_explicit(&m->head, memory_order_acquire); s;
         s = atomic_load_explicit(&s->next, memory_order_acquire)) {
        double val = bitsd(atomic_load_explicit(&s->value, memory_order_relaxed));
        if (m->type != M_HISTOGRAM) {
            sb_series_name(b, m, "", s, NULL, 0);
            sb_str(b, " ");
            sb_num(b, val);
            sb_str(b, "\n");
            continue;
        }
        uint64_t cum = 0;
        char tmp[32];
        for (size_t i = 0; i <= m->nbounds; i++) {
            cum += atomic_load_explicit(&s->counts[i], memory_order_relaxed);
            sb_series_name(b, m, "_bucket", s, "le", i < m->nbounds ? m->bounds[i] : INFINITY);
            snprintf(tmp, sizeof tmp, " %llu\n", (unsigned long long)cum);
            sb_str(b, tmp);
        }
        sb_series_name(b, m, "_sum", s, NULL, 0);
        sb_str(b, " ");
        sb_num(b, val);
        sb_str(b, "\n");
        sb_series_name(b, m, "_count", s, NULL, 0);
        snprintf(tmp, sizeof tmp, " %llu\n", (unsigned long long)cum);
        sb_str(b, tmp);
    }
}

int sp_metrics_render(sp_metrics *reg, char **out, size_t *len)
{
    if (reg == NULL || out == NULL) return SP_EINVAL;
    sbuf b = {0};
    sb_put(&b, "", 0);
    pthread_mutex_lock(&reg->mtx);
    for (const sp_metric *m = reg->first; m; m = m->next)
        render_family(&b, m);
    pthread_mutex_unlock(&reg->mtx);
    if (b.oom) {
        free(b.buf);
        return SP_ENOMEM;
    }
    *out = b.buf;
    if (len) *len = b.len;
    return SP_OK;
}
