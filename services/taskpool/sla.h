/* sla.h - SLA escalation: a task not acknowledged within its SLA moves one
 * step up its escalation chain, once per level.
 *
 * Deterministic in event time: an escalation is dated at its deadline
 * (assigned_ms + SLA), not when the sweep noticed it, and the next
 * deadline counts from there; so a replay or a late sweep decides exactly
 * the same escalations (a sweep far behind catches up one level per call).
 * The caller applies a decision with task_transition(TASK_ACT_ESCALATE,
 * {to_id, escalation_level = new_level}, at = due_ms). */
#ifndef SP_TASKPOOL_SLA_H
#define SP_TASKPOOL_SLA_H

#include "taskpool/task.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sla_table {
    int64_t sla_s[4]; /* by level 1..3; [0] unused */
} sla_table;

/* L1 24 h, L2 8 h, L3 2 h. */
void sla_table_default(sla_table *t);

/* Optional knowledge of people: availability (skip someone away at the
 * deadline) and display names for the reason. Any member may be NULL. */
typedef struct sla_people {
    int (*available)(void *ctx, const char *person_id, int64_t at_ms);
    const char *(*name)(void *ctx, const char *person_id, int english);
    void *ctx;
} sla_people;

typedef struct sla_decision {
    int escalate; /* 1: escalate now */
    const char *from_id; /* borrowed from the task */
    const char *to_id;
    uint32_t new_level; /* chain entries used after this escalation */
    int64_t due_ms; /* the deadline that passed (escalate) or the next one */
    size_t n_skipped; /* chain entries skipped as unavailable */
    char reason_zh[512];
    char reason_en[512];
} sla_decision;

/* Decides whether t escalates at now_ms: its deadline is before now_ms (an
 * acknowledgement dated exactly at the deadline is in time, and with the
 * event clock a command dated now_ms may still arrive). Only an open
 * (unacknowledged) task escalates; t->sla_s wins over the table when > 0. With nobody left
 * in the chain, escalate is 0 and due_ms 0. SP_EINVAL on NULL arguments
 * or a task without assignee. */
int sla_check(
    const task *t, const sla_table *tbl, int64_t now_ms, const sla_people *people, sla_decision *out);

#endif
