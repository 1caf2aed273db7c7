/* sp-enrich: `sp-enrich extract ...` runs the offline extraction CLI (no
 * Kafka, no PostgreSQL); otherwise the service: interactions in, extraction,
 * identities, facts and cards, enriched interactions out. */
#include "bus.h"
#include "config.h"
#include "enrich/enrich_svc.h"
#include "enrich/extract_cli.h"
#include "err.h"
#include "log.h"
#include "service.h"

#include <stdio.h>
#include <string.h>

struct cfg {
    sp_service_cfg svc;
    char *catalog, *lexicon, *tz;
    long long lateness_ms;
};

#define CFG(f) offsetof(struct cfg, f)
static const sp_config_row rows[] = {
    SP_SERVICE_ROWS(struct cfg, svc, "sp-enrich", "8082", "2000"),
    {"SP_CATALOG", SP_CFG_STRING, "deploy/tenants/demo/catalog.json", CFG(catalog),
        "tenant product/competitor catalog"},
    {"SP_LEXICON_DIR", SP_CFG_STRING, "", CFG(lexicon),
        "extraction lexicons (default $SP_TENANT_DIR/lexicon)"},
    {"SP_TZ", SP_CFG_STRING, "Asia/Shanghai", CFG(tz), "tenant time zone for relative dates"},
    {"SP_ENRICH_LATENESS", SP_CFG_MS, "6h", CFG(lateness_ms),
        "event clock: how far out of event-time order interactions may arrive on a partition (spctl "
        "replay --span); the promise downstream trails the events by this until the input is drained",
        .min = 0L, .max = 2592000000L},
    {"SP_ENRICH_ALIGN_AHEAD", SP_CFG_MS, "24h", CFG(svc.align_ahead_ms),
        "event clock: an input partition this far past the watermark pauses while a slower one catches "
        "up (fetches take no account of event time; 0: off)",
        .min = 0L, .max = 2592000000L},
    {"SP_ENRICH_PREFETCH_KB", SP_CFG_INT, "2048", CFG(svc.prefetch_kb),
        "event clock: input librdkafka prefetches, KiB of payload (RSS grows ~5x this: 8192 took "
        "sp-enrich to 61-70 MB on a replay, 2048 to ~43 MB at the same speed)",
        .min = 256L, .max = 1048576L},
    SP_CONFIG_END,
};

/* enrich_svc.sole over the service's consumer. */
static int consumer_sole(void *consumer)
{
    return bus_consumer_sole(consumer);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "extract") == 0) return enrich_extract_cli(argc - 1, argv + 1);
    struct cfg cfg = {0};
    sp_config_main(argc, argv, "sp-enrich", "[extract --catalog FILE [--tz ZONE]]", rows, &cfg);
    extract_engine *engine = NULL;
    sp_service svc = {0};
    char lex[1024], err[512];
    int code = 2;
    snprintf(lex, sizeof lex, "%s/lexicon", cfg.svc.tenant_dir);
    if (extract_engine_new(cfg.catalog, *cfg.lexicon ? cfg.lexicon : lex, err, sizeof err, &engine)
        != SP_OK) {
        fprintf(stderr, "sp-enrich: configuration error: %s\n", err);
        goto out;
    }
    enrich_svc es = {.engine = engine, .tz = cfg.tz, .out_topic = SP_TOPIC_ENRICHED};
    code = 1;
    if (sp_service_init(&svc, "sp-enrich", &cfg.svc, SP_TOPIC_INTERACTIONS, enrich_svc_batch, &es) != SP_OK)
        goto out;
    es.producer = svc.producer;
    es.clock = svc.clock;
    es.sole = consumer_sole;
    es.sole_arg = svc.consumer;
    sp_clock_set_lateness(svc.clock, cfg.lateness_ms);
    svc.on_idle = enrich_svc_idle;
    code = sp_service_run(&svc);
    sp_info("sp-enrich: %lu applied, %lu duplicates, %lu dead", es.applied, es.duplicates, es.dead);
out:
    sp_service_destroy(&svc);
    extract_engine_destroy(engine);
    sp_config_free(rows, &cfg);
    return code;
}
