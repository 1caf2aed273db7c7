/* playbook.h - the playbooks a task carries (advancement card, wake-up
 * list, technical-doubt pack, competition kit, policy/compliance guide,
 * most similar won case, three-layer review) as tenant data
 * (deploy/tenants/<t>/playbooks.json), and the choice of the most similar
 * won case.
 *
 * Content is bilingual data, never C strings. A section is either static
 * items or a slot ("source") the task pool fills when it shows the task,
 * e.g. the wake-up list's last three touch points. A loaded set is
 * immutable; strings live until playbook_set_destroy. */
#ifndef SP_ROUTE_PLAYBOOK_H
#define SP_ROUTE_PLAYBOOK_H

#include <stddef.h>
#include <stdint.h>

typedef enum playbook_kind {
    PLAYBOOK_ADVANCEMENT_CARD = 1, /* 客户推进卡 */
    PLAYBOOK_WAKEUP_LIST, /* 客户唤醒清单 */
    PLAYBOOK_TECHNICAL_DOUBT, /* 技术疑虑应答包 */
    PLAYBOOK_COMPETITION_KIT, /* 竞争应对包 */
    PLAYBOOK_POLICY_GUIDE, /* 政策合规指南 */
    PLAYBOOK_SIMILAR_WON_CASE, /* 最相近成功案例 */
    PLAYBOOK_THREE_LAYER_REVIEW, /* 三层穿透复盘 */
} playbook_kind;

typedef struct playbook_item {
    const char *zh, *en;
} playbook_item;

typedef struct playbook_section {
    const char *id;
    const char *title_zh, *title_en;
    const char *source; /* dynamic slot name, or NULL for static items */
    int limit; /* max entries of the slot; 0 = no limit */
    const playbook_item *items;
    size_t n_items;
} playbook_section;

typedef struct playbook {
    const char *id;
    playbook_kind kind;
    const char *title_zh, *title_en;
    const char *summary_zh, *summary_en;
    const playbook_section *sections;
    size_t n_sections;
} playbook;

#define PLAYBOOK_PROMOTIONS_MAX 1024 /* promotions in a playbooks file */

typedef struct playbook_promotion {
    const char *id;
    const char *title_zh, *title_en;
    const char *product_line; /* NULL = every line */
    int64_t from_ms, until_ms;
} playbook_promotion;

typedef struct playbook_set playbook_set;

/* Loads and validates a playbook file: unique ids, known kinds and
 * sources, every item in both languages. SP_ECONFIG naming file, item and
 * key. Caller frees with playbook_set_destroy. */
int playbook_set_load_file(const char *path, playbook_set **out, char *err, size_t errlen);
int playbook_set_load_string(
    const char *json, const char *name, playbook_set **out, char *err, size_t errlen);
void playbook_set_destroy(playbook_set *s);

const playbook *playbook_get(const playbook_set *s, const char *id);
size_t playbook_count(const playbook_set *s);
const playbook *playbook_at(const playbook_set *s, size_t i);

/* 1 when id names a playbook; ctx is the set (for route_rules_check_playbooks). */
int playbook_exists(void *set, const char *id);

/* Promotions valid at now_ms for product_line (NULL = any) into out[cap]. */
void playbook_promotions_current(const playbook_set *s, const char *product_line, int64_t now_ms,
    const playbook_promotion **out, size_t cap, size_t *n);

/* "advancement_card" ... "three_layer_review"; parse gives SP_EINVAL. */
const char *playbook_kind_name(playbook_kind k);
int playbook_kind_parse(const char *s, playbook_kind *out);

/* A won deal, a candidate for "most similar won case". stages is the path
 * the deal took (salespulse.v1.Stage values, in order). */
typedef struct won_case {
    const char *id;
    const char *industry;
    const char *product_line;
    const int *stages;
    size_t n_stages;
    int64_t won_at_ms;
} won_case;

typedef struct won_case_query {
    const char *industry;
    const char *product_line;
    const int *stages; /* the open deal's path so far */
    size_t n_stages;
} won_case_query;

/* Picks the most similar won case: same industry and product line first,
 * then same product line, then same industry (a case matching neither is
 * never picked); within a tier the smallest edit distance between stage
 * paths, then the most recent, then the smallest id. *best gets the index,
 * *distance (may be NULL) the edit distance. SP_ENOTFOUND when no case
 * shares industry or product line; SP_EINVAL on NULL arguments. */
int playbook_won_case_pick(
    const won_case *cases, size_t n, const won_case_query *q, size_t *best, size_t *distance);

/* Levenshtein distance between two stage paths (each at most 64 long;
 * longer paths are compared on their first 64 stages). */
size_t playbook_stage_distance(const int *a, size_t na, const int *b, size_t nb);

#endif
