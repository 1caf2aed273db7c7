/* spctl - the operator CLI: migrate, topics, and more (see `spctl --help`). */
#include "config.h"
#include "log.h"
#include "bus.h"
#include "spctl/spctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const spctl_cmd spctl_commands[] = {
    {"migrate", "migrate", "apply pending SQL migrations from SP_SQL_DIR", 1, 0, spctl_migrate},
    {"topics", "topics create [TOPIC...]", "create the six topics (or the named ones)", 0, 1, spctl_topics},
    {"replay", "replay --dir DIR --ingest URL --key KEY", "post a simulator's events.ndjson to sp-ingest", 0,
        0, spctl_replay},
    {"wait-drained", "wait-drained [--timeout S] [--hold S] [--since T]",
        "wait until every consumer group has caught up", 0, 1, spctl_wait_drained},
    {"summary", "summary [--truth FILE] [--api URL] [--tokens]",
        "what a run produced; planted situations found", 1, 0, spctl_summary},
    {"signals", "signals [--kind PREFIX] [--timeout S]",
        "every signal on sp.signals.v1 so far, one JSON object a line in event-time order", 0, 1,
        spctl_signals},
    {"check-tasks", "check-tasks --truth FILE [--skip-kind PREFIX]",
        "routed tasks exactly equal to truth.json's expected_tasks?", 1, 0, spctl_check_tasks},
    {"sim", "sim --seed N [--customers N] [--start D] [--weeks N] --out DIR",
        "generate the deterministic demo quarter (org, CRM, events, truth)", 0, 0, spctl_sim},
    {"seed", "seed --org org.json --crm crm.json", "load org chart and CRM data into PostgreSQL (idempotent)",
        1, 0, spctl_seed},
    {"token", "token issue|revoke ...",
        "issue (--person ID [--label L] [--ttl 90d]) or revoke (--person ID | "
        "--token-prefix P) API tokens",
        1, 0, spctl_token},
    {"org", "org KIND ACTION [ID] [--FIELD V...]",
        "org admin: people|teams|regions|named-teams|absences list|show|add|update|deactivate|remove "
        "(spctl org --help)",
        1, 0, spctl_org},
    {"apikey", "apikey KEY", "print the SHA-256 hex of an ingest API key (for SP_INGEST_API_KEYS)", 0, 0,
        spctl_apikey},
    {"merge-customers", "merge-customers --from ID --into ID",
        "merge two customer records, keeping every interaction and fact", 1, 0, spctl_merge},
    {"goals", "goals plan --template T --target N --from D",
        "decompose a goal into a weekly action plan per rep "
        "(re-plans when the target changes; see docs/goals.md)",
        1, 0, spctl_goals},
    {"review", "review month --month YYYY-MM [--out DIR]",
        "monthly action-attribution minutes; catch-up tasks as task commands to sp-taskpool", 1, 1,
        spctl_review},
    {NULL, NULL, NULL, 0, 0, NULL},
};

#define CFG(f) offsetof(struct spctl_cfg, f)
static const sp_config_row rows[] = {
    {"SP_PG_URL", SP_CFG_STRING, "", CFG(pg_url),
        "PostgreSQL URL (required by commands that use the database)", .secret = 1},
    {"SP_KAFKA_BOOTSTRAP", SP_CFG_STRING, "", CFG(kafka_bootstrap),
        "Kafka bootstrap servers (required by commands that use Kafka)"},
    {"SP_SQL_DIR", SP_CFG_STRING, "deploy/sql", CFG(sql_dir), "folder of NNNN_name.sql migrations"},
    {"SP_TOPIC_PARTITIONS", SP_CFG_INT, "6", CFG(partitions), "partitions per topic", .min = 1, .max = 1024},
    {"SP_TOPIC_REPLICATION", SP_CFG_INT, "1", CFG(replication), "replication factor", .min = 1, .max = 16},
    {"SP_LOG_LEVEL", SP_CFG_ENUM, "warn", CFG(log_level), "log level", .choices = "debug|info|warn|error"},
    {"SP_TOPIC_TASK_COMMANDS", SP_CFG_STRING, SP_TOPIC_TASK_COMMANDS, CFG(commands_topic),
        "topic the monthly review publishes its catch-up task commands to"},
    SP_CONFIG_END,
};

static void usage(FILE *out)
{
    sp_config_help(out, "spctl", "COMMAND [ARGS]", rows);
    fprintf(out, "\nCommands:\n");
    for (const spctl_cmd *c = spctl_commands; c->name; c++)
        fprintf(out, "  %-34s %s\n", c->usage, c->help);
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0
        || strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const spctl_cmd *cmd = NULL;
    for (const spctl_cmd *c = spctl_commands; c->name; c++)
        if (strcmp(c->name, argv[1]) == 0) cmd = c;
    if (cmd == NULL) {
        fprintf(stderr, "spctl: unknown command \"%s\" (spctl --help lists them)\n", argv[1]);
        return 2;
    }
    struct spctl_cfg cfg = {0};
    char err[512];
    if (sp_config_load(rows, &cfg, NULL, err, sizeof err) != 0) {
        fprintf(stderr, "spctl: configuration error: %s\n", err);
        sp_config_free(rows, &cfg);
        return 2;
    }
    sp_log_level lvl = SP_LOG_WARN;
    sp_log_level_parse(cfg.log_level, &lvl);
    sp_log_init("spctl", lvl);
    int rv;
    if (cmd->needs_pg && !*cfg.pg_url) {
        fprintf(stderr, "spctl %s: configuration error: SP_PG_URL is required\n", cmd->name);
        rv = 2;
    } else if (cmd->needs_kafka && !*cfg.kafka_bootstrap) {
        fprintf(stderr, "spctl %s: configuration error: SP_KAFKA_BOOTSTRAP is required\n", cmd->name);
        rv = 2;
    } else {
        rv = cmd->run(&cfg, argc - 1, argv + 1);
    }
    sp_config_free(rows, &cfg);
    return rv;
}
