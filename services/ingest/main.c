/* sp-ingest: HTTP in (batch, WeCom, e-mail, calls, tracking), durable on Kafka. */
#include "bus.h"
#include "clock.h"
#include "config.h"
#include "err.h"
#include "http.h"
#include "ingest/auth.h"
#include "ingest/ingest_api.h"
#include "ingest/jarena.h"
#include "log.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>
#include <unistd.h>

struct cfg {
    char *kafka_bootstrap, *http_addr, *log_level, *tenant_id, *tenant_dir;
    char *api_keys, *webhook_secrets, *our_domains, *wecom_token, *wecom_aes_key, *wecom_corp_id;
    char *tracking_key, *tracking_rules;
    long long publish_timeout, tracking_max_age;
    long workers;
};

#define CFG(f) offsetof(struct cfg, f)
static const sp_config_row rows[] = {
    {"SP_KAFKA_BOOTSTRAP", SP_CFG_STRING, NULL, CFG(kafka_bootstrap),
        "Kafka bootstrap servers, e.g. 127.0.0.1:9092"},
    {"SP_INGEST_API_KEYS", SP_CFG_STRING, NULL, CFG(api_keys),
        "API keys per source as source=sha256hex,... (hash a key with: spctl apikey KEY); "
        "name:src|src=sha256hex limits the item sources a key may post",
        .secret = 1},
    {"SP_HTTP_ADDR", SP_CFG_STRING, "http://0.0.0.0:8081", CFG(http_addr), "listen address"},
    {"SP_LOG_LEVEL", SP_CFG_ENUM, "info", CFG(log_level), "log level", .choices = "debug|info|warn|error"},
    {"SP_TENANT_ID", SP_CFG_STRING, "", CFG(tenant_id), "tenant id stamped on events without one"},
    {"SP_TENANT_DIR", SP_CFG_STRING, "deploy/tenants/default", CFG(tenant_dir),
        "tenant data folder (tracking.json)"},
    {"SP_INGEST_WEBHOOK_SECRETS", SP_CFG_STRING, "", CFG(webhook_secrets),
        "Standard Webhooks secrets whsec_...,whsec_... (empty: signatures not required)", .secret = 1},
    {"SP_OUR_DOMAINS", SP_CFG_STRING, "hengyuan.cn", CFG(our_domains),
        "our e-mail domains (direction of e-mail)"},
    {"SP_WECOM_TOKEN", SP_CFG_STRING, "", CFG(wecom_token), "WeCom callback Token (empty: callback off)",
        .secret = 1},
    {"SP_WECOM_AES_KEY", SP_CFG_STRING, "", CFG(wecom_aes_key), "WeCom EncodingAESKey (43 chars)",
        .secret = 1},
    {"SP_WECOM_CORP_ID", SP_CFG_STRING, "", CFG(wecom_corp_id), "WeCom corp id (receive id check)"},
    {"SP_TRACKING_KEY", SP_CFG_STRING, "", CFG(tracking_key),
        "HMAC keys for pixel/click tokens, new,old,... (each >= 16 bytes; the first seals, all open; "
        "empty: tracking tokens off)",
        .secret = 1},
    {"SP_TRACKING_RULES", SP_CFG_STRING, "", CFG(tracking_rules),
        "page rules (default $SP_TENANT_DIR/tracking.json)"},
    {"SP_TRACKING_MAX_AGE", SP_CFG_MS, "180d", CFG(tracking_max_age), "tracking tokens expire after",
        .min = 3600000L, .max = 315360000000L},
    {"SP_PUBLISH_TIMEOUT", SP_CFG_MS, "5s", CFG(publish_timeout), "bounded wait for Kafka before 503",
        .min = 100L, .max = 600000L},
    {"SP_HTTP_WORKERS", SP_CFG_INT, "8", CFG(workers), "HTTP handler threads", .min = 1, .max = 256},
    SP_CONFIG_END,
};

/* Splits "a,b,c" in place into at most cap items. */
static size_t split(char *s, char sep, char **items, size_t cap)
{
    size_t n = 0;
    char *save = NULL, seps[2] = {sep, 0};
    for (char *t = strtok_r(s, seps, &save); t && n < cap; t = strtok_r(NULL, seps, &save))
        if (*t) items[n++] = t;
    return n;
}

static volatile sig_atomic_t stop;

int main(int argc, char **argv)
{
    struct cfg cfg = {0};
    sp_config_main(argc, argv, "sp-ingest", "", rows, &cfg);
    sp_log_level lvl = SP_LOG_INFO;
    sp_log_level_parse(cfg.log_level, &lvl);
    sp_log_init("sp-ingest", lvl);
    xmlInitParser(); /* once, before handler threads parse WeCom XML */
    ingest_jarena_install(); /* batch bodies parse on a per-thread arena */

    ingest_api api = {.topic = SP_TOPIC_INTERACTIONS,
        .publish_timeout_ms = (int)cfg.publish_timeout,
        .tenant_id = cfg.tenant_id,
        .tracking_max_age_ms = cfg.tracking_max_age};
    char *keys[65], *hashes[64], *sources[64], *allowed[64], *secrets[SP_WEBHOOK_SECRETS_MAX + 1],
        *domains[33];
    sp_http_server *srv = NULL;
    sp_metrics *reg = NULL;
    char err[512];
    int code = 2;

    size_t nk = split(cfg.api_keys, ',', keys, 65);
    if (nk > 64) {
        fprintf(stderr, "sp-ingest: configuration error: SP_INGEST_API_KEYS: at most 64 keys\n");
        goto out;
    }
    for (size_t i = 0; i < nk; i++) {
        char *eq = strchr(keys[i], '=');
        if (eq == NULL || strlen(eq + 1) != 64 || strspn(eq + 1, "0123456789abcdefABCDEF") != 64) {
            fprintf(stderr,
                "sp-ingest: configuration error: SP_INGEST_API_KEYS: item %zu is not source=sha256hex\n", i);
            goto out;
        }
        *eq = '\0';
        sources[i] = keys[i];
        hashes[i] = eq + 1;
        /* name:src|src - the item sources this key may post */
        char *colon = strchr(keys[i], ':');
        allowed[i] = NULL;
        if (colon) {
            *colon = '\0';
            allowed[i] = colon + 1;
            if (!*keys[i] || !*allowed[i] || strstr(allowed[i], "||") || *allowed[i] == '|'
                || allowed[i][strlen(allowed[i]) - 1] == '|') {
                fprintf(stderr,
                    "sp-ingest: configuration error: SP_INGEST_API_KEYS: item %zu: "
                    "name:source|source=sha256hex "
                    "with no empty name or source\n",
                    i);
                goto out;
            }
        }
    }
    api.api_key_hashes = (const char *const *)hashes;
    api.api_key_sources = (const char *const *)sources;
    api.api_key_allowed = (const char *const *)allowed;
    api.n_api_keys = nk;
    api.n_webhook_secrets = split(cfg.webhook_secrets, ',', secrets, SP_WEBHOOK_SECRETS_MAX + 1);
    api.webhook_secrets = (const char *const *)secrets;
    if (api.n_webhook_secrets > SP_WEBHOOK_SECRETS_MAX) {
        fprintf(stderr, "sp-ingest: configuration error: SP_INGEST_WEBHOOK_SECRETS: at most %d secrets\n",
            SP_WEBHOOK_SECRETS_MAX);
        goto out;
    }
    for (size_t i = 0; i < api.n_webhook_secrets; i++) {
        if (!ingest_webhook_secret_valid(secrets[i])) {
            fprintf(stderr,
                "sp-ingest: configuration error: SP_INGEST_WEBHOOK_SECRETS: secret %zu is not "
                "whsec_<base64>\n",
                i + 1);
            goto out;
        }
    }
    api.n_domains = split(cfg.our_domains, ',', domains, 33);
    if (api.n_domains > 32) {
        fprintf(stderr, "sp-ingest: configuration error: SP_OUR_DOMAINS: at most 32 domains\n");
        goto out;
    }
    api.our_domains = (const char *const *)domains;
    if (*cfg.wecom_token
        && wecom_crypto_new(cfg.wecom_token, cfg.wecom_aes_key, cfg.wecom_corp_id, &api.wecom) != SP_OK) {
        fprintf(stderr, "sp-ingest: configuration error: SP_WECOM_AES_KEY: not a valid EncodingAESKey\n");
        goto out;
    }
    if (*cfg.tracking_key) {
        /* "new,old,...": the first seals, every one opens (rotation) */
        char *tk[SP_INGEST_TRACKING_KEYS + 1];
        size_t nt = split(cfg.tracking_key, ',', tk, SP_INGEST_TRACKING_KEYS + 1);
        if (nt > SP_INGEST_TRACKING_KEYS) {
            fprintf(stderr, "sp-ingest: configuration error: SP_TRACKING_KEY: at most %d keys\n",
                SP_INGEST_TRACKING_KEYS);
            goto out;
        }
        for (size_t i = 0; i < nt; i++) {
            if (strlen(tk[i]) < 16) {
                fprintf(stderr,
                    "sp-ingest: configuration error: SP_TRACKING_KEY: key %zu: at least 16 bytes\n", i + 1);
                goto out;
            }
            api.tracking_keys[i].key = (const unsigned char *)tk[i];
            api.tracking_keys[i].len = strlen(tk[i]);
        }
        api.n_tracking_keys = nt;
    }
    char rules_path[1024];
    snprintf(rules_path, sizeof rules_path, "%s/tracking.json", cfg.tenant_dir);
    const char *rp = *cfg.tracking_rules ? cfg.tracking_rules : rules_path;
    /* the default file may be absent (pages unclassified); a named one must load */
    if ((*cfg.tracking_rules || access(rp, R_OK) == 0)
        && tracking_rules_load(rp, &api.tracking_rules, err, sizeof err) != SP_OK) {
        fprintf(stderr, "sp-ingest: configuration error: SP_TRACKING_RULES: %s\n", err);
        goto out;
    }
    code = 1;
    if (ingest_dedupe_new(200000, &api.dedupe) != SP_OK) goto out;
    if (bus_producer_new(cfg.kafka_bootstrap, "sp-ingest", &api.producer, err, sizeof err) != SP_OK) {
        sp_error("producer: %s", err);
        goto out;
    }
    if (sp_metrics_new(&reg) != SP_OK) goto out;
    sp_http_opts o = {.workers = (int)cfg.workers, .metrics = reg, .auth = ingest_api_auth, .auth_arg = &api};
    if (sp_http_server_new(cfg.http_addr, &o, &srv) != SP_OK || ingest_api_routes(&api, srv, reg) != SP_OK
        || sp_http_server_start(srv) != SP_OK) {
        sp_error("cannot serve HTTP on %s", cfg.http_addr);
        goto out;
    }
    sp_http_server_set_ready(srv, 1);
    sp_info("sp-ingest listening on %s (port %d)", cfg.http_addr, sp_http_server_port(srv));
    bus_install_stop_signals(&stop);
    while (!stop)
        usleep(100000);
    sp_info("sp-ingest stopping");
    code = 0;
out:
    sp_http_server_destroy(srv); /* stop taking requests before the producer goes */
    bus_producer_destroy(api.producer);
    sp_metrics_destroy(reg);
    ingest_dedupe_destroy(api.dedupe);
    tracking_rules_destroy(api.tracking_rules);
    wecom_crypto_destroy(api.wecom);
    sp_config_free(rows, &cfg);
    return code;
}
