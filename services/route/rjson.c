/* rjson.c - strict reading of route's tenant JSON files. */
#include "route/rjson.h"

#include "config.h"
#include "err.h"
#include "route/cntime.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int rjson_fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return SP_ECONFIG;
}

int rjson_keys(const json_t *obj, const char *const *allowed, const char *where, char *err, size_t errlen)
{
    if (!json_is_object(obj)) return rjson_fail(err, errlen, "%s: not a JSON object", where);
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        int ok = 0;
        for (const char *const *a = allowed; *a != NULL && !ok; a++)
            ok = strcmp(*a, key) == 0;
        if (!ok) return rjson_fail(err, errlen, "%s: unknown key \"%s\"", where, key);
    }
    return SP_OK;
}

int rjson_str(const json_t *obj, const char *key, int required, const char **out, const char *where,
    char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        if (required) return rjson_fail(err, errlen, "%s: missing key \"%s\"", where, key);
        return SP_OK;
    }
    if (!json_is_string(v)) return rjson_fail(err, errlen, "%s: key \"%s\" must be a string", where, key);
    if (json_string_length(v) == 0) {
        if (required) return rjson_fail(err, errlen, "%s: key \"%s\" must not be empty", where, key);
        return SP_OK;
    }
    if (strlen(json_string_value(v)) != json_string_length(v))
        return rjson_fail(err, errlen, "%s: key \"%s\" contains a NUL byte", where, key);
    *out = json_string_value(v);
    return SP_OK;
}

int rjson_bool(
    const json_t *obj, const char *key, int def, int *out, const char *where, char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, key);
    *out = def;
    if (v == NULL) return SP_OK;
    if (!json_is_boolean(v))
        return rjson_fail(err, errlen, "%s: key \"%s\" must be true or false", where, key);
    *out = json_is_true(v);
    return SP_OK;
}

int rjson_seconds(const json_t *obj, const char *key, int64_t def, int64_t *out, const char *where, char *err,
    size_t errlen)
{
    json_t *v = json_object_get(obj, key);
    *out = def;
    if (v == NULL) return SP_OK;
    if (json_is_integer(v) && json_integer_value(v) > 0) {
        *out = (int64_t)json_integer_value(v);
        return SP_OK;
    }
    long long ms;
    if (json_is_string(v) && sp_config_parse_ms(json_string_value(v), &ms) == SP_OK && ms >= 1000
        && ms % 1000 == 0) {
        *out = ms / 1000;
        return SP_OK;
    }
    return rjson_fail(
        err, errlen, "%s: key \"%s\" must be a positive number of seconds or \"8h\"/\"7d\"", where, key);
}

int rjson_time_ms(
    const json_t *obj, const char *key, int64_t *out, const char *where, char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL) return rjson_fail(err, errlen, "%s: missing key \"%s\"", where, key);
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
        return SP_OK;
    }
    if (json_is_string(v) && cntime_parse(json_string_value(v), out) == SP_OK) return SP_OK;
    return rjson_fail(
        err, errlen, "%s: key \"%s\" must be ms since epoch or an ISO-8601 date/time", where, key);
}

int rjson_load_file(const char *path, json_t **out, char *err, size_t errlen)
{
    json_error_t je;
    *out = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (*out == NULL) return rjson_fail(err, errlen, "%s:%d:%d: %s", path, je.line, je.column, je.text);
    return SP_OK;
}
