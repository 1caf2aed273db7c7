/* sp-score: enriched interactions -> signal state -> signals; clock sweeps. */
#include "config.h"
#include "err.h"
#include "log.h"
#include "bus.h"
#include "score/calendar.h"
#include "score/event_lock.h"
#include "score/rules.h"
#include "score/score_svc.h"
#include "service.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

struct cfg {
    sp_service_cfg svc;
    char *rules, *calendar, *tenant_id, *upstream_group;
    long long sweep_every_ms, health_every_ms, hold_flush_ms;
};

#define CFG(f) offsetof(struct cfg, f)
static const sp_config_row rows[] = {
    SP_SERVICE_ROWS(struct cfg, svc, "sp-score", "8083", "2000"),
    {"SP_SCORE_RULES", SP_CFG_STRING, "", CFG(rules),
        "signal rules file (default $SP_TENANT_DIR/score_rules.json)"},
    {"SP_CALENDAR", SP_CFG_STRING, "", CFG(calendar),
        "working-day calendar (default $SP_TENANT_DIR/calendar.json)"},
    {"SP_SWEEP_EVERY", SP_CFG_MS, "1h", CFG(sweep_every_ms),
        "sweep boundaries: multiples of this in clock time (stale, timeouts, weekly and funnel signals)",
        .min = 60000L, .max = 86400000L},
    {"SP_TENANT_ID", SP_CFG_STRING, "", CFG(tenant_id), "tenant id written into every Signal"},
    {"SP_HEALTH_EVERY", SP_CFG_MS, "5s", CFG(health_every_ms),
        "re-score the health of the deals touched since, at most this often (wall time; 0: after every "
        "batch)",
        .min = 0L, .max = 86400000L},
    {"SP_SCORE_ALIGN_AHEAD", SP_CFG_MS, "24h", CFG(svc.align_ahead_ms),
        "event clock: an input partition this far past the watermark pauses while a slower one catches "
        "up, so fewer events wait for their sweeps (0: off)",
        .min = 0L, .max = 2592000000L},
    {"SP_SCORE_HOLD_FLUSH", SP_CFG_MS, "3s", CFG(hold_flush_ms),
        "event clock: events held for their sweeps are applied anyway once no input came this long and "
        "the upstream group has nothing left to read (the end of a replay)",
        .min = 100L, .max = 3600000L},
    {"SP_SCORE_UPSTREAM_GROUP", SP_CFG_STRING, "sp-enrich", CFG(upstream_group),
        "event clock: sp-enrich's consumer group, whose lag on sp.interactions.v1 says whether more input "
        "may come (empty: do not ask)"},
    {"SP_SCORE_PREFETCH_KB", SP_CFG_INT, "4096", CFG(svc.prefetch_kb),
        "event clock: input librdkafka prefetches, KiB of payload (a catch-up in event time pauses and "
        "resumes partitions, which refill from it; make demo: 8192 peaked at 67-72 MB of RSS, 4096 at "
        "53-56 MB in the same time)",
        .min = 256L, .max = 1048576L},
    SP_CONFIG_END,
};

static volatile sig_atomic_t reload_asked, standby_stop;

static void on_hup(int sig)
{
    (void)sig;
    reload_asked = 1;
}

int main(int argc, char **argv)
{
    struct cfg cfg = {0};
    sp_config_main(argc, argv, "sp-score", "", rows, &cfg);
    score_svc ss = {.signals_topic = SP_TOPIC_SIGNALS, .tenant_id = cfg.tenant_id, .reload = &reload_asked};
    score_calendar *cal = NULL;
    score_event_lock *event_lock = NULL;
    sp_service svc = {0};
    char rules_path[1024], cal_path[1024], err[512];
    int code = 2;
    snprintf(rules_path, sizeof rules_path, "%s", *cfg.rules ? cfg.rules : "");
    if (!*cfg.rules) snprintf(rules_path, sizeof rules_path, "%s/score_rules.json", cfg.svc.tenant_dir);
    snprintf(cal_path, sizeof cal_path, "%s", *cfg.calendar ? cfg.calendar : "");
    if (!*cfg.calendar) snprintf(cal_path, sizeof cal_path, "%s/calendar.json", cfg.svc.tenant_dir);
    if (cfg.sweep_every_ms <= 0) {
        fprintf(stderr, "sp-score: configuration error: SP_SWEEP_EVERY: must be > 0\n");
        goto out;
    }
    if (score_rules_load(rules_path, &ss.rules, err, sizeof err) != SP_OK
        || calendar_load(cal_path, &cal, err, sizeof err) != SP_OK) {
        fprintf(stderr, "sp-score: configuration error: %s\n", err);
        goto out;
    }
    ss.rules_path = rules_path;
    ss.cal = cal;
    ss.sweep_every_ms = cfg.sweep_every_ms;
    ss.health_every_ms = cfg.health_every_ms;
    ss.hold_flush_ms = cfg.hold_flush_ms;
    ss.hold_max = (size_t)BUS_HELD_FACTOR * (size_t)cfg.svc.max_batch; /* what the consumer keeps */
    cfg.svc.whole_batches = 1; /* apply_ordered holds what runs ahead of the sweeps */
    ss.upstream_bootstrap = cfg.svc.kafka_bootstrap;
    ss.upstream_group = cfg.upstream_group;
    ss.upstream_topic = SP_TOPIC_INTERACTIONS;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_hup;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGHUP, &sa, NULL);
    code = 1;
    if (!strcmp(cfg.svc.clock, "event")) {
        /* one instance applies events in event time; the others stand by
         * outside the consumer group (event_lock.h) */
        sp_log_level lvl = SP_LOG_INFO;
        sp_log_level_parse(cfg.svc.log_level, &lvl);
        sp_log_init("sp-score", lvl);
        bus_install_stop_signals(&standby_stop);
        sp_err lr = score_event_lock_take(cfg.svc.pg_url, cfg.svc.http_addr, &standby_stop, &event_lock);
        if (lr == SP_ECLOSED) code = 0; /* stopped while standing by */
        if (lr != SP_OK) goto out;
        ss.event_lock = event_lock;
    }
    if (sp_service_init(&svc, "sp-score", &cfg.svc, SP_TOPIC_ENRICHED, score_svc_batch, &ss) != SP_OK)
        goto out;
    svc.on_idle = score_svc_idle;
    if (sp_counter_new(svc.metrics, "sp_score_applied_ahead_total",
            "Events applied before the sweeps of the boundaries before them, by why", "why", &ss.m_ahead)
            != SP_OK
        || sp_gauge_new(
               svc.metrics, "sp_score_held", "Events held for their sweeps (event clock)", "", &ss.m_held)
            != SP_OK
        || sp_counter_new(svc.metrics, "sp_score_busy_seconds_total",
               "Time spent applying events, sweeping and re-scoring deal health, by work", "work", &ss.m_busy)
            != SP_OK)
        goto out;
    /* its fact queries run per event: planning them each time cost more than running them */
    if (sp_db_generic_plans(svc.db, 1) != SP_OK) sp_warn("generic plans not set: %s", sp_db_errmsg(svc.db));
    ss.producer = svc.producer;
    ss.clock = svc.clock;
    svc.stop = standby_stop; /* a stop asked for since the lock was taken */
    code = sp_service_run(&svc);
    if (ss.writer_lost) code = 1; /* restarted by its supervisor, it stands by */
    bus_consumer_stats st = {0};
    if (svc.consumer) bus_consumer_stats_get(svc.consumer, &st);
    sp_info(
        "sp-score: %lu events, %lu duplicates, %lu dead, %lu signals, %lu sweep boundaries, %lu events "
        "applied ahead of their sweeps (%lu deferrals, %lu partition pauses), %lu fact queries read ahead "
        "in %lu pipelines, %lu deals re-scored by daily refreshes; busy %.1f s on events, %.1f s on sweeps, "
        "%.1f s on deal health",
        ss.events, ss.duplicates, ss.dead, ss.signals, ss.boundaries, ss.applied_ahead,
        (unsigned long)st.deferred, (unsigned long)st.pauses, ss.prefetched, ss.prefetch_rounds,
        ss.health_refreshed, (double)ss.busy_us[SCORE_BUSY_EVENTS] / 1e6,
        (double)ss.busy_us[SCORE_BUSY_SWEEPS] / 1e6, (double)ss.busy_us[SCORE_BUSY_HEALTH] / 1e6);
out:
    sp_service_destroy(&svc);
    score_svc_clear(&ss);
    score_event_lock_destroy(event_lock); /* after the last commit */
    calendar_destroy(cal);
    sp_config_free(rows, &cfg);
    return code;
}
