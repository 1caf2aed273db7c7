/* sp-enrich main: `sp-enrich extract ...` runs the extraction CLI (no Kafka,
 * no PostgreSQL); otherwise the service. Logic lives in enrich*.c, extract*.c. */
#include "config.h"
#include "enrich/extract_cli.h"
#include "log.h"

#include <stddef.h>
#include <string.h>

struct cfg {
    char *log_level;
};

static const sp_config_row rows[] = {
    {"SP_LOG_LEVEL", SP_CFG_ENUM, "info", offsetof(struct cfg, log_level), "log level",
        .choices = "debug|info|warn|error"},
    SP_CONFIG_END,
};

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "extract") == 0) return enrich_extract_cli(argc - 1, argv + 1);
    struct cfg cfg = {0};
    sp_config_main(argc, argv, "sp-enrich", "[extract --catalog FILE [--tz ZONE]]", rows, &cfg);
    sp_config_free(rows, &cfg);
    return 0;
}
