/* config.c - configuration table, loading and validation. */
#include "config.h"

#include "err.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *type_name(sp_cfg_type t)
{
    switch (t) {
    case SP_CFG_STRING: return "string";
    case SP_CFG_INT: return "int";
    case SP_CFG_BOOL: return "bool";
    case SP_CFG_MS: return "duration";
    case SP_CFG_ENUM: return "enum";
    }
    return "?";
}

int sp_config_parse_ms(const char *s, long long *ms)
{
    if (s == NULL || *s == '\0') return SP_EINVAL;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || !isfinite(v) || v < 0) return SP_EINVAL;
    double mul;
    if (*end == '\0' || strcmp(end, "ms") == 0)
        mul = 1;
    else if (strcmp(end, "s") == 0)
        mul = 1000;
    else if (strcmp(end, "m") == 0)
        mul = 60000;
    else if (strcmp(end, "h") == 0)
        mul = 3600000;
    else if (strcmp(end, "d") == 0)
        mul = 86400000;
    else
        return SP_EINVAL;
    if (v * mul > SP_CFG_MS_MAX) return SP_EINVAL; /* past any use, and the cast's range */
    *ms = (long long)(v * mul + 0.5);
    return SP_OK;
}

/* Is value one of the '|'-separated choices? */
static int choice_ok(const char *choices, const char *value)
{
    size_t vl = strlen(value);
    for (const char *p = choices; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == vl && strncmp(p, value, n) == 0) return 1;
        p = bar ? bar + 1 : NULL;
    }
    return 0;
}

static int parse_bool(const char *s, int *out)
{
    if (!strcasecmp(s, "1") || !strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on")) {
        *out = 1;
        return SP_OK;
    }
    if (!strcasecmp(s, "0") || !strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "off")) {
        *out = 0;
        return SP_OK;
    }
    return SP_EINVAL;
}

int sp_config_load(const sp_config_row *rows, void *cfg, sp_config_getenv_fn get, char *errbuf, size_t errlen)
{
    if (get == NULL) get = (sp_config_getenv_fn)getenv;
    for (const sp_config_row *r = rows; r->name; r++) {
        const char *v = get(r->name);
        if (v != NULL && *v == '\0') v = NULL;
        if (v == NULL) v = r->def;
        if (v == NULL) {
            snprintf(errbuf, errlen, "%s is required (%s)", r->name, r->desc);
            return SP_ECONFIG;
        }
        char *field = (char *)cfg + r->offset;
        switch (r->type) {
        case SP_CFG_ENUM:
            if (!choice_ok(r->choices, v)) {
                snprintf(
                    errbuf, errlen, "%s: invalid value \"%s\" (expected one of %s)", r->name, v, r->choices);
                return SP_ECONFIG;
            }
            /* fall through */
        case SP_CFG_STRING: {
            char *copy = strdup(v);
            if (copy == NULL) return SP_ENOMEM;
            free(*(char **)field);
            *(char **)field = copy;
            break;
        }
        case SP_CFG_INT: {
            errno = 0;
            char *end;
            long n = strtol(v, &end, 10);
            if (errno != 0 || end == v || *end != '\0') {
                snprintf(errbuf, errlen, "%s: invalid integer \"%s\"", r->name, v);
                return SP_ECONFIG;
            }
            if (r->min < r->max && (n < r->min || n > r->max)) {
                snprintf(errbuf, errlen, "%s: %ld out of range [%ld, %ld]", r->name, n, r->min, r->max);
                return SP_ECONFIG;
            }
            *(long *)field = n;
            break;
        }
        case SP_CFG_BOOL:
            if (parse_bool(v, (int *)field) != SP_OK) {
                snprintf(errbuf, errlen, "%s: invalid boolean \"%s\" (true/false)", r->name, v);
                return SP_ECONFIG;
            }
            break;
        case SP_CFG_MS:
            if (sp_config_parse_ms(v, (long long *)field) != SP_OK) {
                snprintf(
                    errbuf, errlen, "%s: invalid duration \"%s\" (e.g. 500ms, 30s, 5m, 2h, 7d)", r->name, v);
                return SP_ECONFIG;
            }
            if (r->min < r->max && (*(long long *)field < r->min || *(long long *)field > r->max)) {
                snprintf(
                    errbuf, errlen, "%s: \"%s\" out of range [%ldms, %ldms]", r->name, v, r->min, r->max);
                return SP_ECONFIG;
            }
            break;
        default: snprintf(errbuf, errlen, "%s: bad row type", r->name); return SP_ECONFIG;
        }
    }
    return SP_OK;
}

void sp_config_free(const sp_config_row *rows, void *cfg)
{
    if (cfg == NULL) return;
    for (const sp_config_row *r = rows; r->name; r++) {
        if (r->type == SP_CFG_STRING || r->type == SP_CFG_ENUM) {
            char **field = (char **)((char *)cfg + r->offset);
            free(*field);
            *field = NULL;
        }
    }
}

void sp_config_help(FILE *out, const char *prog, const char *usage, const sp_config_row *rows)
{
    fprintf(out, "usage: %s %s\n\nConfiguration (environment variables):\n", prog, usage ? usage : "");
    fprintf(out, "  %-28s %-9s %-24s %s\n", "name", "type", "default", "description");
    for (const sp_config_row *r = rows; r->name; r++) {
        const char *def = r->def ? (r->secret && *r->def ? "(set)" : r->def) : "(required)";
        fprintf(out, "  %-28s %-9s %-24s %s", r->name, type_name(r->type), *def ? def : "\"\"", r->desc);
        if (r->type == SP_CFG_ENUM) fprintf(out, " [%s]", r->choices);
        if (r->type == SP_CFG_INT && r->min < r->max) fprintf(out, " [%ld..%ld]", r->min, r->max);
        fputc('\n', out);
    }
    fprintf(out, "\nAny SP_RDKAFKA_<NAME> is passed to librdkafka as <name> with '_' -> '.'\n");
}

void sp_config_main(
    int argc, char **argv, const char *prog, const char *usage, const sp_config_row *rows, void *cfg)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            sp_config_help(stdout, prog, usage, rows);
            exit(0);
        }
    }
    char err[512];
    if (sp_config_load(rows, cfg, NULL, err, sizeof err) != SP_OK) {
        fprintf(stderr, "%s: configuration error: %s\n", prog, err);
        fprintf(stderr, "%s: run '%s --help' for every key\n", prog, prog);
        sp_config_free(rows, cfg);
        exit(2);
    }
}
