/* config.h - configuration as a table of rows, read from SP_* environment
 * variables and validated at start (Fluent Bit config map, pgbouncer CF_*).
 *
 * A service declares a table:
 *
 *   static const sp_config_row rows[] = {
 *       {"SP_PG_URL", SP_CFG_STRING, NULL, offsetof(struct cfg, pg_url),
 *        "PostgreSQL connection URL (required)"},
 *       {"SP_HTTP_PORT", SP_CFG_INT, "8080", offsetof(struct cfg, port),
 *        "HTTP listen port", .min = 1, .max = 65535},
 *       {"SP_CLOCK", SP_CFG_ENUM, "wall", offsetof(struct cfg, clock),
 *        "wall or event", .choices = "wall|event"},
 *       SP_CONFIG_END};
 *
 * A NULL default makes the key required. Strings (and enums) land as
 * malloc'd char *; ints as long; bools as int; durations (SP_CFG_MS, "500ms",
 * "30s", "5m", "2h", "7d" or a plain number of ms) as long long ms. */
#ifndef SP_CONFIG_H
#define SP_CONFIG_H

#include <stddef.h>
#include <stdio.h>

typedef enum sp_cfg_type {
    SP_CFG_STRING = 1,
    SP_CFG_INT,
    SP_CFG_BOOL,
    SP_CFG_MS,
    SP_CFG_ENUM,
} sp_cfg_type;

/* Durations above this (about 100 years) are refused: no setting means
 * that, and the conversion to milliseconds stays exact. */
#define SP_CFG_MS_MAX 3.2e12

typedef struct sp_config_row {
    const char *name;
    sp_cfg_type type;
    const char *def; /* NULL = required */
    size_t offset;
    const char *desc;
    const char *choices; /* SP_CFG_ENUM: "a|b|c" */
    long min, max; /* SP_CFG_INT, SP_CFG_MS (in ms): inclusive bounds when min < max */
    int secret; /* never printed */
} sp_config_row;

#define SP_CONFIG_END                                                                                        \
    {                                                                                                        \
        NULL, 0, NULL, 0, NULL, NULL, 0, 0, 0                                                                \
    }

/* Environment lookup, injectable for tests; NULL means getenv. */
typedef const char *(*sp_config_getenv_fn)(const char *name);

/* Fills cfg from the environment according to rows. On error returns
 * SP_ECONFIG with a message naming the key in errbuf; cfg may then hold
 * partial values: release it with sp_config_free either way. */
int sp_config_load(
    const sp_config_row *rows, void *cfg, sp_config_getenv_fn get, char *errbuf, size_t errlen);

/* Frees the strings sp_config_load stored in cfg. Accepts a zeroed cfg. */
void sp_config_free(const sp_config_row *rows, void *cfg);

/* Prints the table: name, type, default, description. */
void sp_config_help(FILE *out, const char *prog, const char *usage, const sp_config_row *rows);

/* Start-up helper for a service main: handles --help (prints and exits 0),
 * loads the table, and on error prints "prog: <message>" and exits 2.
 * Returns only on success. */
void sp_config_main(
    int argc, char **argv, const char *prog, const char *usage, const sp_config_row *rows, void *cfg);

/* Parses a duration ("250ms", "30s", "5m", "2h", "7d", or ms) into *ms. */
int sp_config_parse_ms(const char *s, long long *ms);

#endif
