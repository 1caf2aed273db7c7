/* extract_internal.h - structures shared by the extract*.c files (not API). */
#ifndef SP_ENRICH_EXTRACT_INTERNAL_H
#define SP_ENRICH_EXTRACT_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "enrich/extract.h"

#define EX_MATCH_LIMIT 200000 /* backtracking budget per match */
#define EX_DEPTH_LIMIT 2000
#define EX_OVECTOR     16

/* One tag with its patterns; `unless` in the same sentence cancels it. */
typedef struct ex_rule {
    char *tag;
    /* patterns split by script: ASCII-only ones (fast start-byte skipping
     * over Han text) and the rest; either may be NULL */
    pcre2_code *match_latin, *match_han;
    pcre2_code *unless; /* may be NULL */
    int severity; /* risks: higher wins the card's concern */
} ex_rule;

typedef struct ex_ruleset {
    ex_rule *v;
    size_t n;
} ex_ruleset;

typedef struct ex_alias {
    const char *id; /* points into ex_entity */
    pcre2_code *rx;
    size_t len; /* alias length: longer aliases are matched first */
} ex_alias;

typedef struct ex_catalog {
    char **product_ids;
    size_t n_products;
    char **competitor_ids;
    size_t n_competitors;
    ex_alias *products; /* sorted longest first */
    size_t n_palias;
    ex_alias *competitors;
    size_t n_calias;
    char **own_names; /* our company's names from tenant_name */
    size_t n_own;
} ex_catalog;

typedef struct ex_lexicon {
    /* speakers.json */
    pcre2_code *rep_label, *customer_label, *own_company, *quote_line, *quote_cut, *reply_subject,
        *rep_signature, *header_line;
    /* risks.json */
    ex_ruleset risks;
    pcre2_code *resolved, *competitor_dismissed, *competitor_generic;
    pcre2_code *demo_proposal, *postpone_reply;
    /* roles.json */
    ex_ruleset roles;
    pcre2_code *own_side_prefix, *their_side_prefix, *address;
    /* intents.json */
    ex_ruleset intents;
    /* budget.json */
    pcre2_code *b_cue, *b_quote, *b_threshold, *b_max_before, *b_max_after, *b_min_before, *b_min_after,
        *b_usd, *b_cny, *b_positive, *b_not_money;
    /* dates.json */
    pcre2_code *d_strong, *d_weak, *d_deadline, *d_meeting, *d_refused, *d_meeting_day, *d_time_of_day,
        *d_not_from_now, *d_paperwork, *d_goods;
    int spring[32]; /* festival days since epoch, ascending */
    size_t n_spring;
} ex_lexicon;

#define EX_DATE_KINDS 16

struct extract_engine {
    ex_catalog cat;
    ex_lexicon lex;
    pcre2_match_context *mctx;
    pcre2_code *date_rx[EX_DATE_KINDS]; /* fixed date grammar (extract_date.c) */
    pcre2_code *money_rx; /* fixed number grammar (extract_budget.c) */
    pcre2_code *clause_rx; /* clause separators */
};

/* A sentence of the cleaned text, with who said it. */
typedef struct ex_sentence {
    size_t start, end; /* byte range in ex_doc.buf */
    int turn; /* index of the turn it belongs to */
    extract_side side;
} ex_sentence;

typedef struct ex_turn {
    size_t start, end; /* text of the turn (without label) */
    size_t label_start, label_end; /* speaker label, empty when none */
    extract_side side;
    int label_kind; /* 0 none, 1 rep label, 2 customer label, 3 unknown label */
} ex_turn;

#define EX_MAX_SENT      512
#define EX_MAX_DOC_TURNS 256

typedef struct ex_doc {
    char *buf; /* cleaned text (quoted history removed) */
    size_t len;
    ex_turn turns[EX_MAX_DOC_TURNS];
    size_t n_turns;
    ex_sentence sent[EX_MAX_SENT];
    size_t n_sent;
    int local_day; /* occurred date in the tenant zone, days since epoch */
    int rep_authored; /* e-mail signed by our company */
    /* any turn on the customer side: every scan but products
     * and roles counts only what the customer says, so without one they
     * are skipped (an outbound message: two in three WeCom texts of the
     * demo quarter) */
    int has_customer;
} ex_doc;

/* Per-call matching state. */
typedef struct ex_ctx {
    const extract_engine *e;
    pcre2_match_data *md;
} ex_ctx;

/* extract_rx.c */
int ex_rx_compile(const char *pattern, int caseless, pcre2_code **out, char *err, size_t errlen);
/* Finds the first match of rx in s[from..len); returns 1 and the span, 0 for
 * none, negative on a matching error (limit hit counts as no match). */
int ex_rx_find(
    const ex_ctx *c, const pcre2_code *rx, const char *s, size_t len, size_t from, size_t *ms, size_t *me);
int ex_rx_has(const ex_ctx *c, const pcre2_code *rx, const char *s, size_t len);
/* Capture group n of the last successful ex_rx_find (PCRE2_UNSET if none). */
int ex_rx_group(const ex_ctx *c, int n, size_t *gs, size_t *ge);
/* First match of a rule's patterns in s[from..len) (either script). */
int ex_rule_find(
    const ex_ctx *c, const ex_rule *r, const char *s, size_t len, size_t from, size_t *ms, size_t *me);

/* extract_lexicon.c */
int ex_lexicon_load(ex_lexicon *lx, const char *dir, char *err, size_t errlen);
void ex_lexicon_free(ex_lexicon *lx);

/* extract_catalog.c */
int ex_catalog_load(ex_catalog *cat, const char *path, char *err, size_t errlen);
void ex_catalog_free(ex_catalog *cat);
/* Adds every product and competitor named in s[0..len) to r. */
void ex_catalog_scan(const ex_ctx *c, const char *s, size_t len, extract_result *r);
int ex_catalog_names_competitor(const ex_ctx *c, const char *s, size_t len);

/* extract_text.c */
int ex_utf8_valid(const char *s, size_t len);
size_t ex_utf8_cap(const char *s, size_t len, size_t max);
int ex_doc_build(const ex_ctx *c, const extract_input *in, ex_doc *d);
void ex_doc_free(ex_doc *d);
void ex_snippet(const char *s, size_t len, char *out, size_t outsz);

/* extract_budget.c */
int ex_money_compile(extract_engine *e, char *err, size_t errlen);
void ex_budget_scan(const ex_ctx *c, const ex_doc *d, extract_result *r, int *sent_hit);

/* extract_date.c */
int ex_date_compile(extract_engine *e, char *err, size_t errlen);
/* Resolves the date expression in s[0..len) for the occurred day; returns 1
 * and *day (days since epoch) when s holds one (used by tests). */
int ex_date_resolve(const ex_ctx *c, const char *s, size_t len, int occurred_day, int *day);
int ex_days_from_civil(int y, int m, int d);
void ex_civil_from_days(int z, int *y, int *m, int *d);
void ex_date_scan(const ex_ctx *c, const ex_doc *d, extract_result *r, int *sent_hit);
int ex_meeting_scan(const ex_ctx *c, const ex_doc *d);

/* extract_text.c: index of the sentence / turn holding byte pos, or -1 */
int ex_sentence_at(const ex_doc *d, size_t pos);
int ex_turn_at(const ex_doc *d, size_t pos);

/* extract_tags.c */
void ex_tags_scan(const ex_ctx *c, const ex_doc *d, extract_result *r, int *need_sent, int *concern_sent);

/* extract.c */
void ex_result_add(const char **v, size_t *n, const char *item);

#endif
