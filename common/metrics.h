/* metrics.h - Prometheus counters, gauges and histograms with labels.
 *
 * A registry holds metric families (one name, one type, fixed label names);
 * a family holds one series per distinct tuple of label values, created on
 * first use. Updates are lock-free atomics on a series; finding a series by
 * label values takes the family mutex (a short list scan). Hot paths that
 * update the same series per event may cache the sp_series handle.
 *
 * Label names are given as one comma-separated string ("source,result",
 * "" or NULL for none). Label values are passed variadically, exactly as
 * many `const char *` as the family has label names (NULL counts as "").
 *
 * Rendering follows the text exposition format 0.0.4: families in
 * registration order, series in creation order.
 *
 * Ownership: the registry owns families and series; handles stay valid until
 * sp_metrics_destroy. All functions are thread-safe except destroy. */
#ifndef SP_METRICS_H
#define SP_METRICS_H

#include <stddef.h>

typedef struct sp_metrics sp_metrics;
typedef struct sp_metric sp_metric; /* one family */
typedef struct sp_series sp_series; /* one label-value tuple of a family */

#define SP_METRICS_MAX_LABELS  8
#define SP_METRICS_MAX_BUCKETS 32

/* Default latency buckets in seconds (Prometheus client defaults). */
extern const double SP_METRICS_DEFAULT_BUCKETS[];
extern const size_t SP_METRICS_DEFAULT_BUCKETS_N;

/* Creates an empty registry; SP_ENOMEM. Caller frees with sp_metrics_destroy. */
int sp_metrics_new(sp_metrics **out);

/* Frees the registry and every family and series in it; accepts NULL. */
void sp_metrics_destroy(sp_metrics *reg);

/* Registers a counter family. Registering the same name again with the same
 * type, help and labels returns the existing family (so independent modules
 * can share one); otherwise SP_EEXIST. SP_EINVAL for an invalid metric or
 * label name (or more than SP_METRICS_MAX_LABELS labels), SP_ENOMEM. */
int sp_counter_new(sp_metrics *reg, const char *name, const char *help, const char *labels, sp_metric **out);

/* Registers a gauge family; as sp_counter_new. */
int sp_gauge_new(sp_metrics *reg, const char *name, const char *help, const char *labels, sp_metric **out);

/* Registers a histogram family with n ascending finite upper bounds (+Inf is
 * implicit); bounds NULL means SP_METRICS_DEFAULT_BUCKETS. SP_EINVAL if the
 * bounds are not strictly ascending, n > SP_METRICS_MAX_BUCKETS, or a label
 * is named "le"; otherwise as sp_counter_new. */
int sp_histogram_new(sp_metrics *reg, const char *name, const char *help, const char *labels,
    const double *bounds, size_t n, sp_metric **out);

/* Returns the series of m for the label values (creating it), or NULL when
 * m is NULL or memory runs out. values has one entry per label name. */
sp_series *sp_metric_series(sp_metric *m, const char *const *values);

/* Variadic form of sp_metric_series: one const char * per label name. */
sp_series *sp_metric_with(sp_metric *m, ...);

/* Updates of a family, looking the series up by variadic label values.
 * Silently do nothing when m is NULL, on a type mismatch, a negative counter
 * increment, or out of memory (metrics never fail the caller). */
void sp_counter_add(sp_metric *m, double v, ...);
void sp_gauge_set(sp_metric *m, double v, ...);
void sp_gauge_add(sp_metric *m, double v, ...);
void sp_histogram_observe(sp_metric *m, double v, ...);

/* Updates of a cached series (a few atomic operations, no lock). NULL-safe. */
void sp_series_add(sp_series *s, double v); /* counter or gauge */
void sp_series_set(sp_series *s, double v); /* gauge */
void sp_series_observe(sp_series *s, double v); /* histogram */

/* Current value of a counter/gauge series, or the count of a histogram
 * series; 0 for NULL. For tests and readiness checks. */
double sp_series_value(const sp_series *s);

/* Renders every family into a NUL-terminated malloc'd buffer (*out, length
 * *len without the NUL); caller frees with free(). SP_ENOMEM. */
int sp_metrics_render(sp_metrics *reg, char **out, size_t *len);

/* The content type of the rendered text. */
#define SP_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
