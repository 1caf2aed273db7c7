/* spctl.h - the operator CLI's command table. Each command is a function in
 * its own file (spctl_<area>.c) taking the loaded configuration. */
#ifndef SP_SPCTL_H
#define SP_SPCTL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct spctl_cfg {
    char *pg_url;
    char *kafka_bootstrap;
    char *sql_dir;
    long partitions;
    long replication;
    char *log_level;
    char *commands_topic;
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
/* The end (exclusive) of replay's window that starts at line from: at most
 * window lines and, when span > 0, only lines less than span of event time
 * (at[i], ms; 0 = unknown, never ends a window) after the first. Pure. */
size_t spctl_replay_window_end(const int64_t *at, size_t n, size_t from, long window, int64_t span);
int spctl_wait_drained(const struct spctl_cfg *cfg, int argc, char **argv);
int spctl_summary(const struct spctl_cfg *cfg, int argc, char **argv);
int spctl_check_tasks(const struct spctl_cfg *cfg, int argc, char **argv);
int spctl_sim(const struct spctl_cfg *cfg, int argc, char **argv);
int spctl_seed(const struct spctl_cfg *cfg, int argc, char **argv);
int spctl_token(const struct spctl_cfg *cfg, int argc, char **argv);
int spctl_apikey(const struct spctl_cfg *cfg, int argc, char **argv);
int spctl_merge(const struct spctl_cfg *cfg, int argc, char **argv);
int spctl_goals(const struct spctl_cfg *cfg, int argc, char **argv);
int spctl_review(const struct spctl_cfg *cfg, int argc, char **argv);
int spctl_org(const struct spctl_cfg *cfg, int argc, char **argv);
int spctl_signals(const struct spctl_cfg *cfg, int argc, char **argv);

/* spctl_org.c, also for tests. "--team-id T1 --members a,b ..." -> the
 * item's members ({"team_id":"T1","members":["a","b"]}; "" -> null,
 * --active true|false -> boolean) into *out (caller json_decref's).
 * SP_EINVAL with the reason in err (a lone word, a missing value, a flag
 * given twice). */
int spctl_org_args(int argc, char **argv, json_t **out, char *err, size_t errlen);
/* The exit status of an orgadmin error code: 0, 1 database, 2 invalid,
 * 3 not found, 4 conflict. */
int spctl_org_exit(int code);

/* spctl_token.c, also for tests. SHA-256 hex of s: SP_EIO. */
int spctl_sha256_hex(const char *s, char hex[65]);
/* "90d", "12h", "30m", "45s", "never"/"0" (no expiry) -> seconds; at most
 * ten years. SP_EINVAL otherwise. */
int spctl_ttl_parse(const char *s, long long *seconds);
struct sp_db;
/* Issues a token for person (ttl_s 0: no expiry): the token into tok (shown
 * once), its hash into hash; only the hash is stored. SP_ENOTFOUND for an
 * unknown person, SP_EDB/SP_EDBDOWN, SP_EIO (RNG). */
int spctl_token_issue(
    struct sp_db *db, const char *person, const char *label, long long ttl_s, char tok[48], char hash[65]);
/* Revokes the person's tokens, or those matching prefix (a whole token, or
 * 8..64 hex characters of its hash); *revoked counts them. SP_EINVAL. */
int spctl_token_revoke(struct sp_db *db, const char *person, const char *prefix, int *revoked);

#endif
