/* extract.h - the extraction engine of sp-enrich: products, competitors,
 * budget, delivery date, risks, roles and intents out of one interaction's
 * text, exactly as shared/design/extraction.md defines them.
 *
 * Pure logic: no Kafka, no PostgreSQL, no clock. An engine is built once from
 * the tenant catalog and a lexicon directory (rules an operator can extend),
 * is immutable afterwards and may be shared by any number of threads calling
 * extract_run concurrently (each call uses its own PCRE2 match data).
 *
 * Ownership: extract_engine_new gives an engine the caller frees with
 * extract_engine_destroy. Strings in an extract_result (product and
 * competitor ids, tags) point into the engine or static storage and stay
 * valid while the engine lives; the result itself holds no heap memory. */
#ifndef SP_ENRICH_EXTRACT_H
#define SP_ENRICH_EXTRACT_H

#include <stddef.h>
#include <stdint.h>

#define EXTRACT_MAX_TEXT   32768 /* bytes of text looked at; longer input is capped */
#define EXTRACT_MAX_ITEMS  16 /* per list field */
#define EXTRACT_MAX_TURNS  64 /* explicit speaker turns looked at; more are capped */
#define EXTRACT_SNIPPET_CP 20 /* core_need / concern length in code points */

typedef struct extract_engine extract_engine;

typedef enum extract_channel {
    EXTRACT_CH_WECOM = 0,
    EXTRACT_CH_EMAIL,
    EXTRACT_CH_CALL,
    EXTRACT_CH_MEETING,
    EXTRACT_CH_NOTE,
} extract_channel;

typedef enum extract_side {
    EXTRACT_SIDE_UNKNOWN = 0, /* decided from the text (labels, signature) */
    EXTRACT_SIDE_REP,
    EXTRACT_SIDE_CUSTOMER,
} extract_side;

typedef struct extract_turn {
    extract_side speaker;
    const char *text; /* UTF-8, NUL-terminated */
} extract_turn;

typedef struct extract_input {
    extract_channel channel;
    int64_t occurred_at_ms; /* ms since the Unix epoch */
    const char *tz; /* tenant zone, NULL = "Asia/Shanghai"; see extract_tz_offset */
    const char *text; /* UTF-8; ignored when n_turns > 0 */
    size_t text_len; /* bytes; (size_t)-1 = strlen(text) */
    const extract_turn *turns; /* optional explicit speaker turns */
    size_t n_turns;
    /* whose unlabelled lines of text are: UNKNOWN (0) or CUSTOMER = the
     * customer's, as in the labelled examples; REP for a message we sent
     * (an outbound WeCom message or e-mail: its words are not the
     * customer's needs, concerns or intents). Speaker labels still win. */
    extract_side text_side;
} extract_input;

typedef struct extract_budget {
    int has_min, has_max;
    int64_t min, max; /* whole currency units */
    const char *currency; /* "CNY" or "USD" */
} extract_budget;

typedef struct extract_result {
    const char *products[EXTRACT_MAX_ITEMS];
    size_t n_products;
    const char *competitors[EXTRACT_MAX_ITEMS];
    size_t n_competitors;
    int has_budget;
    extract_budget budget;
    char delivery_by[11]; /* "YYYY-MM-DD" or "" */
    const char *risks[EXTRACT_MAX_ITEMS];
    size_t n_risks;
    const char *roles[EXTRACT_MAX_ITEMS];
    size_t n_roles;
    const char *intents[EXTRACT_MAX_ITEMS];
    size_t n_intents;
    /* customer card: <= EXTRACT_SNIPPET_CP code points of the customer's words */
    char core_need[EXTRACT_SNIPPET_CP * 4 + 1];
    char concern[EXTRACT_SNIPPET_CP * 4 + 1];
    int truncated; /* 1 when the text was capped at EXTRACT_MAX_TEXT */
} extract_result;

/* Builds an engine from the catalog JSON file and the lexicon directory
 * (risks.json, roles.json, intents.json, speakers.json, budget.json,
 * dates.json). Fails with SP_EIO (unreadable file), SP_ECONFIG (invalid
 * content; errbuf names the file, item and key) or SP_ENOMEM. Caller frees
 * *out with extract_engine_destroy. */
int extract_engine_new(
    const char *catalog_path, const char *lexicon_dir, char *errbuf, size_t errlen, extract_engine **out);

/* Frees an engine; accepts NULL. */
void extract_engine_destroy(extract_engine *e);

/* Extracts every field from one interaction into *out (cleared first).
 * Thread-safe on one engine. Fails with SP_EINVAL (NULL argument, bad turn),
 * SP_EUTF8 (text is not valid UTF-8) or SP_ENOMEM; on failure *out is left
 * cleared. Text beyond EXTRACT_MAX_TEXT bytes is ignored (out->truncated). */
int extract_run(const extract_engine *e, const extract_input *in, extract_result *out);

/* Resets a result to "nothing found". */
void extract_result_clear(extract_result *r);

#define EXTRACT_JSON_CARD 1 /* also emit core_need and concern */

/* Writes the contract's output object ({"id":..,"products":[..],...}) for r
 * into a malloc'd NUL-terminated string *json (caller frees with free).
 * id may be NULL (then "id":null). flags: 0 or EXTRACT_JSON_CARD.
 * Fails with SP_ENOMEM. */
int extract_result_to_json(const extract_result *r, const char *id, int flags, char **json);

/* The same object as a jansson value (caller json_decref's *out), for
 * callers that embed it in a larger document. Fails with SP_ENOMEM. */
struct json_t;
int extract_result_json(const extract_result *r, const char *id, int flags, struct json_t **out);

/* Resolves a zone name to its UTC offset in minutes. Supported: fixed
 * offsets ("+08:00", "UTC+8", "UTC", "Etc/GMT-8") and zones without DST
 * since 2000 from a built-in table (Asia/Shanghai, Asia/Tokyo, ...).
 * NULL or "" means Asia/Shanghai. Fails with SP_EINVAL for other zones. */
int extract_tz_offset(const char *zone, int *offset_min);

/* Parses an ISO-8601 timestamp with offset ("2026-03-02T10:15:00+08:00",
 * "...Z", fractional seconds allowed) into ms since the epoch.
 * Fails with SP_EINVAL. */
int extract_parse_iso8601(const char *s, int64_t *ms);

#endif
