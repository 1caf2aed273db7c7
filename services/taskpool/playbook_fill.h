/* playbook_fill.h - a playbook with its "source" slots filled for one task:
 * the wake-up list's last touch points, likely needs and current
 * promotions, the nearest won case, open risks, key roles, ...
 * (docs/routing.md section 4, docs/api/taskpool.md). Pure: the caller
 * gathers the task's material from PostgreSQL (api_playbook_fill.c) and
 * this decides what goes into each slot, so the choice is unit-tested
 * without a database. */
#ifndef SP_TASKPOOL_PLAYBOOK_FILL_H
#define SP_TASKPOOL_PLAYBOOK_FILL_H

#include "route/playbook.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Entries of a slot without a limit of its own (and the touch points'
 * default: the method's "last three"). */
#define PLAYBOOK_FILL_MAX_ENTRIES 20
#define PLAYBOOK_FILL_TOUCHES     3
#define PLAYBOOK_FILL_TEXT_MAX    200 /* bytes of a touch point's text (cut on a code point) */

/* What is known of the task's customer; every member borrowed, any may be
 * NULL (nothing of that kind). Arrays hold row objects as the task pool's
 * API writes them (api_rows_json). */
typedef struct playbook_material {
    const json_t *task; /* {key, evidence, ...}; evidence feeds "evidence" */
    const json_t *customer; /* {id, name, industry, class}; NULL: the task names no customer */
    const json_t *touches; /* newest first: {event_id, at, channel, direction, rep_id, text} */
    const json_t *card; /* {core_need, core_need_level, core_need_source, concern, concern_tag, ...} */
    const json_t *facts; /* current facts: {field, value, level, source, quote, occurred_at} */
    const json_t *risks; /* {tag, last_at, source} newest first */
    const json_t *contacts; /* {role, id, name, title, last_contact_at} */
    const json_t *won_case; /* the nearest won case (the caller picks it), or NULL */
    const json_t *lines; /* product id -> product line (the catalog), or NULL */
    const char *const *deal_products; /* the deal's product ids */
    size_t n_deal_products;
    const playbook_promotion *const *promotions; /* valid now, any line */
    size_t n_promotions;
} playbook_material;

/* Writes into *out (caller decrefs) the playbook pb as served, its static
 * sections as written and each slot with "entries" chosen from m (at most
 * its limit), plus "unavailable":"no_customer" on customer slots when the
 * task names no customer. SP_ENOMEM. */
int playbook_fill(const playbook *pb, const playbook_material *m, json_t **out);

/* The product lines of the customer (deal products, then product facts) as
 * a JSON array of distinct strings; caller decrefs. NULL on ENOMEM. */
json_t *playbook_fill_lines(const playbook_material *m);

#endif
