/* goals_catchup.h - a monthly review's catch-up item as the TaskCommand that
 * puts it into the rep's task pool through sp-taskpool's normal path
 * (sp.tasks.commands.v1, key = task key): an UPSERT of an L1 task
 * "goal.catch_up" for the rep, created at the first instant of the next
 * month, with the actions and counts as evidence numbers.
 *
 * The task key is the item's (task:goal.catch_up:rep:<id>:<yyyymm>) and the
 * event id is "cmd:<task key>:<hash of goal, month and actions>", both
 * deterministic: running the review again publishes the same command, which
 * sp-taskpool drops as a duplicate; a review whose numbers changed (late
 * activities) updates the open task instead of adding one. Pure. */
#ifndef GOALS_CATCHUP_H
#define GOALS_CATCHUP_H

#include "salespulse/v1/task.pb-c.h"
#include "taskpool/goals_review.h"

#define GOALS_CATCHUP_SLA_S (14 * 86400) /* acknowledge within two weeks */

/* The command and everything it points into (no heap). */
typedef struct goals_catchup_cmd {
    Salespulse__V1__TaskCommand cmd;
    Salespulse__V1__EventMeta meta;
    Salespulse__V1__Signal signal;
    Salespulse__V1__Subject subject;
    Salespulse__V1__Evidence evidence;
    Salespulse__V1__Metric metric[3];
    Salespulse__V1__Metric *metrics[3];
    char event_id[320];
    char signal_id[256];
    char zh[768];
    char en[768];
} goals_catchup_cmd;

/* Fills c with the command of catch-up cu from the review of `month`
 * ("2026-03") of goal goal_id; at_ms is the first instant of the next month
 * (the command's event time and the task's creation). Strings are borrowed
 * from cu, goal_id and c: keep them until the command is packed. Fails
 * SP_EINVAL on a missing rep, key, goal or month, or no action. */
sp_err goals_catchup_command(
    const goals_catchup *cu, const char *goal_id, const char *month, int64_t at_ms, goals_catchup_cmd *c);

#endif
