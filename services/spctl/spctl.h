/* spctl.h - the operator CLI's command table. Each command is a function in
 * its own file (spctl_<area>.c) taking the loaded configuration. */
#ifndef SP_SPCTL_H
#define SP_SPCTL_H

#include <stddef.h>

struct spctl_cfg {
    char *pg_url;
    char *kafka_bootstrap;
    char *sql_dir;
    long partitions;
    long replication;
    char *log_level;
};

typedef struct spctl_cmd {
    const char *name;
    const char *usage;
    const char *help;
    int needs_pg;
    int needs_kafka;
    int (*run)(const struct spctl_cfg *cfg, int argc, char **argv);
} spctl_cmd;

extern const spctl_cmd spctl_commands[];

int spctl_migrate(const struct spctl_cfg *cfg, int argc, char **argv);
int spctl_topics(const struct spctl_cfg *cfg, int argc, char **argv);
int spctl_replay(const struct spctl_cfg *cfg, int argc, char **argv);
int spctl_wait_drained(const struct spctl_cfg *cfg, int argc, char **argv);
int spctl_summary(const struct spctl_cfg *cfg, int argc, char **argv);
int spctl_check_tasks(const struct spctl_cfg *cfg, int argc, char **argv);
int spctl_sim(const struct spctl_cfg *cfg, int argc, char **argv);
int spctl_seed(const struct spctl_cfg *cfg, int argc, char **argv);

#endif
