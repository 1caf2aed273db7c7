/* rjson.h - strict reading of route's tenant JSON files (org, rules,
 * playbooks): every error names the file, the item and the key.
 *
 * All functions write a message into err (may be NULL) and return
 * SP_ECONFIG on invalid input; strings returned are borrowed from the
 * json_t and live as long as it does. */
#ifndef SP_ROUTE_RJSON_H
#define SP_ROUTE_RJSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* printf into err (when err != NULL); always returns SP_ECONFIG. */
int rjson_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Fails when obj is not an object or has a key not in allowed (a
 * NULL-terminated list). where names the item ("org.json people[3]"). */
int rjson_keys(const json_t *obj, const char *const *allowed, const char *where, char *err, size_t errlen);

/* Reads string key; a missing key or null gives NULL when !required,
 * an error otherwise; an empty string counts as missing. */
int rjson_str(const json_t *obj, const char *key, int required, const char **out, const char *where,
    char *err, size_t errlen);

/* Reads a boolean key with a default. */
int rjson_bool(
    const json_t *obj, const char *key, int def, int *out, const char *where, char *err, size_t errlen);

/* Reads a duration: a number of seconds or a string "30s", "8h", "7d". */
int rjson_seconds(const json_t *obj, const char *key, int64_t def, int64_t *out, const char *where, char *err,
    size_t errlen);

/* Reads a time: integer ms since epoch, or ISO-8601 "2026-03-10",
 * "2026-03-10T09:00[:00][Z|+08:00]"; without an offset Asia/Shanghai. */
int rjson_time_ms(
    const json_t *obj, const char *key, int64_t *out, const char *where, char *err, size_t errlen);

/* Loads a file, with the parse error (line, column) in err. Caller
 * json_decref()s *out. */
int rjson_load_file(const char *path, json_t **out, char *err, size_t errlen);

#endif
