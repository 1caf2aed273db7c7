/* sp-taskpool main: configuration, wiring, signals, loop. Logic lives in taskpool*.c. */
#include "config.h"
#include "log.h"

#include <stddef.h>

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
    struct cfg cfg = {0};
    sp_config_main(argc, argv, "sp-taskpool", "", rows, &cfg);
    sp_config_free(rows, &cfg);
    return 0;
}
