/* extract_cli.c - `sp-enrich extract --catalog FILE [--tz ZONE] [--lexicon DIR]`:
 * JSON lines in on stdin, one result object per line out, same order. */
#include "enrich/extract_cli.h"

#include "enrich/extract.h"
#include "err.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const CHANNELS[] = {"wecom", "email", "call", "meeting", "note", NULL};

static void print_error(const char *msg)
{
    json_t *o = json_pack("{s:n,s:s}", "id", "error", msg);
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (s)
        puts(s);
    else
        puts("{\"id\":null,\"error\":\"out of memory\"}");
    free(s);
    json_decref(o);
}

/* Handles one input line; always prints exactly one output line. */
static void one_line(const extract_engine *e, const char *tz, const char *line, size_t len)
{
    json_error_t je;
    char msg[300];
    json_t *in = json_loadb(line, len, 0, &je);
    if (in == NULL || !json_is_object(in)) {
        snprintf(msg, sizeof msg, "invalid JSON: %s", in ? "not an object" : je.text);
        print_error(msg);
        json_decref(in);
        return;
    }
    const char *id = json_string_value(json_object_get(in, "id"));
    const char *ch = json_string_value(json_object_get(in, "channel"));
    const char *at = json_string_value(json_object_get(in, "occurred_at"));
    json_t *jt = json_object_get(in, "text");
    const char *text = json_string_value(jt);
    extract_input x = {0};
    const char *bad = NULL;
    int chn = -1;
    for (int i = 0; ch && CHANNELS[i]; i++)
        if (strcmp(ch, CHANNELS[i]) == 0) chn = i;
    if (id == NULL)
        bad = "field \"id\" must be a string";
    else if (chn < 0)
        bad = "field \"channel\" must be one of wecom, email, call, meeting, note";
    else if (at == NULL || extract_parse_iso8601(at, &x.occurred_at_ms) != SP_OK)
        bad = "field \"occurred_at\" must be an ISO-8601 timestamp with offset";
    else if (text == NULL)
        bad = "field \"text\" must be a string";
    if (bad) {
        print_error(bad);
        json_decref(in);
        return;
    }
    x.channel = (extract_channel)chn;
    x.tz = tz;
    x.text = text;
    x.text_len = json_string_length(jt);
    /* optional "direction": "outbound" = a message we sent (the rep's words) */
    const char *dir = json_string_value(json_object_get(in, "direction"));
    if (dir && strcmp(dir, "outbound") == 0) x.text_side = EXTRACT_SIDE_REP;
    extract_result r;
    int rv = extract_run(e, &x, &r);
    if (rv != SP_OK) {
        snprintf(msg, sizeof msg, "field \"text\": %s", sp_strerror(rv));
        print_error(msg);
        json_decref(in);
        return;
    }
    char *out = NULL;
    if (extract_result_to_json(&r, id, 0, &out) == SP_OK)
        puts(out);
    else
        print_error("out of memory");
    free(out);
    json_decref(in);
}

int enrich_extract_cli(int argc, char **argv)
{
    const char *catalog = NULL, *tz = "Asia/Shanghai";
    const char *lex = getenv("SP_LEXICON_DIR");
    if (lex == NULL || lex[0] == '\0') lex = "deploy/tenants/default/lexicon";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--catalog") == 0 && i + 1 < argc)
            catalog = argv[++i];
        else if (strcmp(argv[i], "--tz") == 0 && i + 1 < argc)
            tz = argv[++i];
        else if (strcmp(argv[i], "--lexicon") == 0 && i + 1 < argc)
            lex = argv[++i];
        else {
            fprintf(stderr, "usage: sp-enrich extract --catalog FILE [--tz ZONE] [--lexicon DIR]\n");
            return 2;
        }
    }
    if (catalog == NULL) {
        fprintf(stderr, "usage: sp-enrich extract --catalog FILE [--tz ZONE] [--lexicon DIR]\n");
        return 2;
    }
    int off;
    if (extract_tz_offset(tz, &off) != SP_OK) {
        fprintf(stderr, "sp-enrich extract: --tz %s: unsupported zone (fixed-offset zones only)\n", tz);
        return 2;
    }
    char err[512];
    extract_engine *e = NULL;
    int rv = extract_engine_new(catalog, lex, err, sizeof err, &e);
    if (rv != SP_OK) {
        fprintf(stderr, "sp-enrich extract: %s\n", err[0] ? err : sp_strerror(rv));
        return 2;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        size_t len = (size_t)n;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        size_t k = 0;
        while (k < len && (line[k] == ' ' || line[k] == '\t'))
            k++;
        if (k == len) continue; /* blank line: nothing to answer */
        one_line(e, tz, line, len);
    }
    free(line);
    fflush(stdout);
    extract_engine_destroy(e);
    return 0;
}
