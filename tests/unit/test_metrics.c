/* Unit tests of common/metrics: registration rules, updates, exact rendering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "err.h"
#include "metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *render(sp_metrics *reg)
{
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(sp_metrics_render(reg, &out, &len), SP_OK);
    assert_int_equal(len, strlen(out));
    return out;
}

static void test_counter_gauge_render(void **state)
{
    (void)state;
    sp_metrics *reg;
    sp_metric *ev, *up, *q;
    assert_int_equal(sp_metrics_new(&reg), SP_OK);
    assert_int_equal(sp_counter_new(reg, "sp_events_total", "Events received.", "source,result", &ev), SP_OK);
    assert_int_equal(sp_gauge_new(reg, "sp_up", "1 when up.", NULL, &up), SP_OK);
    assert_int_equal(sp_gauge_new(reg, "sp_queue_depth", "Queue \\ depth\nnow.", "queue", &q), SP_OK);

    /* empty families still print HELP/TYPE */
    char *txt = render(reg);
    assert_string_equal(txt,
        "# HELP sp_events_total Events received.\n# TYPE sp_events_total counter\n"
        "# HELP sp_up 1 when up.\n# TYPE sp_up gauge\n"
        "# HELP sp_queue_depth Queue \\\\ depth\\nnow.\n# TYPE sp_queue_depth gauge\n");
    free(txt);

    sp_counter_add(ev, 1, "wecom", "accepted");
    sp_counter_add(ev, 2, "wecom", "accepted");
    sp_counter_add(ev, 1, "email", "rejected");
    sp_counter_add(ev, -5, "email", "rejected"); /* ignored: counters only go up */
    sp_series *cached = sp_metric_with(ev, "wecom", "accepted");
    sp_series_add(cached, 0.5);
    assert_true(sp_series_value(cached) == 3.5);
    sp_gauge_set(up, 1);
    sp_gauge_set(q, 7, "a\"b\\c\nd");
    sp_gauge_add(q, -2.25, "a\"b\\c\nd");
    sp_gauge_set(q, NAN, "nan");
    sp_gauge_set(q, -INFINITY, "neg");
    sp_gauge_set(q, 1e21, "big");
    sp_gauge_set(q, 0.1, "tenth");
    sp_counter_add(up, 1); /* type mismatch: ignored */
    sp_counter_add(NULL, 1);

    txt = render(reg);
    assert_string_equal(txt,
        "# HELP sp_events_total Events received.\n# TYPE sp_events_total counter\n"
        "sp_events_total{source=\"wecom\",result=\"accepted\"} 3.5\n"
        "sp_events_total{source=\"email\",result=\"rejected\"} 1\n"
        "# HELP sp_up 1 when up.\n# TYPE sp_up gauge\n"
        "sp_up 1\n"
        "# HELP sp_queue_depth Queue \\\\ depth\\nnow.\n# TYPE sp_queue_depth gauge\n"
        "sp_queue_depth{queue=\"a\\\"b\\\\c\\nd\"} 4.75\n"
        "sp_queue_depth{queue=\"nan\"} NaN\n"
        "sp_queue_depth{queue=\"neg\"} -Inf\n"
        "sp_queue_depth{queue=\"big\"} 1e+21\n"
        "sp_queue_depth{queue=\"tenth\"} 0.1\n");
    free(txt);
    sp_metrics_destroy(reg);
    sp_metrics_destroy(NULL);
}

static void test_histogram_render(void **state)
{
    (void)state;
    sp_metrics *reg;
    sp_metric *h, *d;
    static const double b[] = {0.1, 0.5, 1};
    assert_int_equal(sp_metrics_new(&reg), SP_OK);
    assert_int_equal(sp_histogram_new(reg, "sp_lat_seconds", "Latency.", "route", b, 3, &h), SP_OK);
    assert_int_equal(sp_histogram_new(reg, "sp_plain_seconds", "Defaults.", "", NULL, 0, &d), SP_OK);
    sp_histogram_observe(h, 0.1, "/x"); /* le is inclusive */
    sp_histogram_observe(h, 0.3, "/x");
    sp_histogram_observe(h, 2, "/x");
    sp_histogram_observe(h, NAN, "/x"); /* ignored */
    sp_histogram_observe(d, 0.007);
    assert_true(sp_series_value(sp_metric_with(h, "/x")) == 3);

    char *txt = render(reg);
    assert_string_equal(txt,
        "# HELP sp_lat_seconds Latency.\n# TYPE sp_lat_seconds histogram\n"
        "sp_lat_seconds_bucket{route=\"/x\",le=\"0.1\"} 1\n"
        "sp_lat_seconds_bucket{route=\"/x\",le=\"0.5\"} 2\n"
        "sp_lat_seconds_bucket{route=\"/x\",le=\"1\"} 2\n"
        "sp_lat_seconds_bucket{route=\"/x\",le=\"+Inf\"} 3\n"
        "sp_lat_seconds_sum{route=\"/x\"} 2.4\n"
        "sp_lat_seconds_count{route=\"/x\"} 3\n"
        "# HELP sp_plain_seconds Defaults.\n# TYPE sp_plain_seconds histogram\n"
        "sp_plain_seconds_bucket{le=\"0.005\"} 0\n"
        "sp_plain_seconds_bucket{le=\"0.01\"} 1\n"
        "sp_plain_seconds_bucket{le=\"0.025\"} 1\n"
        "sp_plain_seconds_bucket{le=\"0.05\"} 1\n"
        "sp_plain_seconds_bucket{le=\"0.1\"} 1\n"
        "sp_plain_seconds_bucket{le=\"0.25\"} 1\n"
        "sp_plain_seconds_bucket{le=\"0.5\"} 1\n"
        "sp_plain_seconds_bucket{le=\"1\"} 1\n"
        "sp_plain_seconds_bucket{le=\"2.5\"} 1\n"
        "sp_plain_seconds_bucket{le=\"5\"} 1\n"
        "sp_plain_seconds_bucket{le=\"10\"} 1\n"
        "sp_plain_seconds_bucket{le=\"+Inf\"} 1\n"
        "sp_plain_seconds_sum 0.007\n"
        "sp_plain_seconds_count 1\n");
    free(txt);
    sp_metrics_destroy(reg);
}

static void test_registration_rules(void **state)
{
    (void)state;
    sp_metrics *reg;
    sp_metric *a, *b;
    static const double bad[] = {1, 1};
    assert_int_equal(sp_metrics_new(&reg), SP_OK);
    static const struct {
        const char *name, *labels;
        int want;
    } cases[] = {
        {"ok_total", "a,b", SP_OK},
        {"", "", SP_EINVAL},
        {"9lives", "", SP_EINVAL},
        {"has-dash", "", SP_EINVAL},
        {"ns:sub_total", "", SP_OK},
        {"x_total", "a,,b", SP_EINVAL},
        {"x_total", "a,a", SP_EINVAL},
        {"x_total", "__reserved", SP_EINVAL},
        {"x_total", "a:b", SP_EINVAL},
        {"x_total", "l1,l2,l3,l4,l5,l6,l7,l8,l9", SP_EINVAL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sp_metric *m = NULL;
        int rv = sp_counter_new(reg, cases[i].name, "h", cases[i].labels, &m);
        if (rv != cases[i].want)
            fail_msg("case %zu (%s): got %d want %d", i, cases[i].name, rv, cases[i].want);
    }
    /* same definition again is shared; a different one collides */
    assert_int_equal(sp_counter_new(reg, "dup_total", "h", "x", &a), SP_OK);
    assert_int_equal(sp_counter_new(reg, "dup_total", "h", "x", &b), SP_OK);
    assert_ptr_equal(a, b);
    assert_int_equal(sp_counter_new(reg, "dup_total", "h", "y", &b), SP_EEXIST);
    assert_int_equal(sp_gauge_new(reg, "dup_total", "h", "x", &b), SP_EEXIST);
    assert_int_equal(sp_histogram_new(reg, "h_seconds", "h", "le", NULL, 0, &b), SP_EINVAL);
    assert_int_equal(sp_histogram_new(reg, "h_seconds", "h", "", bad, 2, &b), SP_EINVAL);
    assert_null(sp_metric_with(NULL, "x"));
    sp_metrics_destroy(reg);
}

struct worker_arg {
    sp_metric *c, *h;
    sp_series *cached;
};

static void *hammer(void *p)
{
    struct worker_arg *w = p;
    char v[16];
    for (int i = 0; i < 20000; i++) {
        snprintf(v, sizeof v, "k%d", i % 7);
        sp_counter_add(w->c, 1, v);
        sp_series_add(w->cached, 1);
        sp_histogram_observe(w->h, 0.25, v);
    }
    return NULL;
}

/* Concurrent creation and updates lose nothing. */
static void test_threads(void **state)
{
    (void)state;
    sp_metrics *reg;
    struct worker_arg w;
    assert_int_equal(sp_metrics_new(&reg), SP_OK);
    assert_int_equal(sp_counter_new(reg, "t_total", "t", "k", &w.c), SP_OK);
    assert_int_equal(sp_histogram_new(reg, "t_seconds", "t", "k", NULL, 0, &w.h), SP_OK);
    w.cached = sp_metric_with(w.c, "cached");
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, hammer, &w);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    double total = 0, htotal = 0;
    char v[16];
    for (int k = 0; k < 7; k++) {
        snprintf(v, sizeof v, "k%d", k);
        total += sp_series_value(sp_metric_with(w.c, v));
        htotal += sp_series_value(sp_metric_with(w.h, v));
    }
    assert_true(total == 80000);
    assert_true(htotal == 80000);
    assert_true(sp_series_value(w.cached) == 80000);
    char *txt = render(reg);
    assert_non_null(strstr(txt, "t_total{k=\"cached\"} 80000\n"));
    free(txt);
    sp_metrics_destroy(reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_gauge_render),
        cmocka_unit_test(test_histogram_render),
        cmocka_unit_test(test_registration_rules),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
