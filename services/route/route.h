/* route.h - the routing decision for one signal: who gets the task, why,
 * with which playbooks and SLA, and who is next up the chain.
 *
 * Pure: reads the rules, the org snapshot and the signal, never the clock
 * (now_ms is the signal's event time, or the watermark). The decision
 * borrows strings from rules and org (ids, playbook ids): use it while both
 * are alive. */
#ifndef SP_ROUTE_ROUTE_H
#define SP_ROUTE_ROUTE_H

#include "route/org.h"
#include "route/route_rules.h"
#include "salespulse/v1/task.pb-c.h"

#include <stddef.h>
#include <stdint.h>

#define SP_ROUTE_MAX_CHAIN  16
#define SP_ROUTE_KEY_MAX    256
#define SP_ROUTE_REASON_MAX 1024

typedef enum route_skip_why {
    ROUTE_SKIP_ABSENT = 1, /* an absence covers now_ms */
    ROUTE_SKIP_INACTIVE, /* person.active is false */
    ROUTE_SKIP_MISSING, /* the role has nobody in the org chart */
} route_skip_why;

typedef struct route_skip {
    route_target role;
    const char *person_id; /* NULL for ROUTE_SKIP_MISSING */
    route_skip_why why;
    int64_t until_ms; /* ROUTE_SKIP_ABSENT: end of the absence */
    const char *absence_reason; /* ROUTE_SKIP_ABSENT: "trip", "leave", ... or NULL */
} route_skip;

typedef struct route_decision {
    Salespulse__V1__TaskOp op; /* UPSERT for RAISED/UPDATED, CLOSE for CLEARED */
    char task_key[SP_ROUTE_KEY_MAX];
    const route_rule *rule; /* NULL for CLOSE */
    const char *assignee_id; /* NULL for CLOSE */
    route_target assignee_role;
    char reason_zh[SP_ROUTE_REASON_MAX];
    char reason_en[SP_ROUTE_REASON_MAX];
    const char *const *playbooks;
    size_t n_playbooks;
    int64_t sla_s;
    int level; /* the signal's, 1..3 (unspecified counts as 1) */
    const char *chain[SP_ROUTE_MAX_CHAIN]; /* escalation order after the assignee */
    size_t n_chain;
    const char *watchers[SP_ROUTE_MAX_CHAIN]; /* informed, not assigned */
    size_t n_watchers;
    route_skip skips[SP_ROUTE_MAX_CHAIN];
    size_t n_skips;
} route_decision;

/* Decides the task command for signal at now_ms.
 * SP_EINVAL: the signal lacks kind, subject, subject id or transition
 *   (reason_en names the field); SP_ENOTFOUND: no rule matches the kind,
 *   or no active person anywhere in the chain (reason says which);
 *   SP_ETOOBIG: the task key does not fit. */
int route_decide(const route_rules *rules, const org *o, const Salespulse__V1__Signal *signal, int64_t now_ms,
    route_decision *out);

/* Longest signal event id routed: the command's id is "cmd:" + it. */
#define ROUTE_EVENT_ID_MAX 256

/* Checks what routing needs of signal s before anything is written:
 * meta.event_id present and at most ROUTE_EVENT_ID_MAX bytes, kind and
 * subject id present, a known subject type, and a task key that fits
 * key[cap] (written there). SP_EINVAL with why naming the field otherwise
 * (the message goes to the dead-letter topic). */
int route_signal_check(const Salespulse__V1__Signal *s, char *key, size_t cap, char *why, size_t whycap);

/* Writes "task:<kind>:<subject type>:<subject id>:<episode>" into buf. */
int route_task_key(const Salespulse__V1__Signal *signal, char *buf, size_t cap);

/* 1 when a dismissal at last_dismissed_ms (< 0: never dismissed) still
 * suppresses the same (kind, subject) at now_ms; *until_ms (may be NULL)
 * gets the end of the window. */
int route_suppressed(const route_rules *rules, int64_t last_dismissed_ms, int64_t now_ms, int64_t *until_ms);

/* Fills cmd and meta (initialised here) from the decision. Every pointer
 * is borrowed from d, signal and event_id_buf, which must outlive cmd;
 * never call task_command__free_unpacked on it. meta.event_id is
 * "cmd:<signal event id>" so a redelivered signal gives the same command. */
int route_command_fill(const route_decision *d, const Salespulse__V1__Signal *signal, int64_t now_ms,
    Salespulse__V1__TaskCommand *cmd, Salespulse__V1__EventMeta *meta, char *event_id_buf, size_t cap);

#endif
