/* spctl topics create: creates the six SalesPulse topics. */
#include "bus.h"
#include "err.h"
#include "spctl/spctl.h"

#include <stdio.h>
#include <string.h>

/* `topics create [NAME...]`: the given topics, or all six. */
int spctl_topics(const struct spctl_cfg *cfg, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "create") != 0) {
        fprintf(stderr, "usage: spctl topics create [TOPIC...]\n");
        return 2;
    }
    const char *const *topics = sp_topics_all;
    if (argc > 2) topics = (const char *const *)&argv[2]; /* argv is NULL-terminated */
    char err[512] = "";
    if (bus_topics_create(
            cfg->kafka_bootstrap, topics, (int)cfg->partitions, (int)cfg->replication, 15000, err, sizeof err)
        != SP_OK) {
        fprintf(stderr, "spctl topics: %s\n", err);
        return 1;
    }
    for (const char *const *t = topics; *t; t++)
        printf("topic %s (%ld partitions)\n", *t, cfg->partitions);
    return 0;
}
