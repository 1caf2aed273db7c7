/* task.h - the task lifecycle and the effect of a task command, as pure
 * functions over a plain task row (the DB row the task pool keeps).
 *
 *   open → acknowledged → in_progress → done | dismissed
 *   open | acknowledged | in_progress → resolved (signal cleared)
 *   open → open with the next assignee (escalate) or a chosen one (reassign)
 *
 * Nothing here reads the clock: now_ms is event time (the command's
 * occurred_at, the request time, or the sweep's watermark). */
#ifndef SP_TASKPOOL_TASK_H
#define SP_TASKPOOL_TASK_H

#include "salespulse/v1/task.pb-c.h"
#include "taskpool/acl.h"

#include <stddef.h>
#include <stdint.h>

/* Same numbers as salespulse.v1.TaskStatus. */
typedef enum task_status {
    TASK_STATUS_NONE = 0,
    TASK_OPEN = 1,
    TASK_ACKNOWLEDGED = 2,
    TASK_IN_PROGRESS = 3,
    TASK_DONE = 4,
    TASK_DISMISSED = 5,
    TASK_RESOLVED = 6,
} task_status;

typedef enum task_action {
    TASK_ACT_ACK = 1,
    TASK_ACT_START,
    TASK_ACT_COMPLETE, /* needs outcome and note */
    TASK_ACT_DISMISS, /* needs reason */
    TASK_ACT_REASSIGN, /* supervisor and above; needs to_id */
    TASK_ACT_SYSTEM_CLOSE, /* the signal cleared */
    TASK_ACT_ESCALATE, /* SLA ran out; needs to_id and escalation_level */
} task_action;

#define SP_TASK_KEY_MAX     256
#define SP_TASK_ID_MAX      96
#define SP_TASK_MAX_CHAIN   16
#define SP_TASK_OUTCOME_MAX 64
#define SP_TASK_NOTE_MAX    2048

typedef struct task {
    char key[SP_TASK_KEY_MAX];
    char kind[SP_TASK_ID_MAX];
    int level; /* 1..3 */
    task_status status;
    char assignee_id[SP_TASK_ID_MAX];
    char assignee_role[32];
    char team_id[SP_TASK_ID_MAX];
    char region_id[SP_TASK_ID_MAX];
    int64_t sla_s;
    int64_t created_ms;
    int64_t assigned_ms; /* the current assignee's SLA clock starts here */
    int64_t acked_ms; /* 0 = never acknowledged */
    int64_t closed_ms; /* done, dismissed or resolved; 0 = open */
    int64_t updated_ms;
    uint32_t escalation_level; /* chain entries used so far */
    char chain[SP_TASK_MAX_CHAIN][SP_TASK_ID_MAX];
    size_t n_chain;
    char outcome[SP_TASK_OUTCOME_MAX];
    char note[SP_TASK_NOTE_MAX]; /* completion note or dismissal reason */
    char last_cmd_event_id[SP_TASK_KEY_MAX];
    int64_t last_cmd_ms;
    uint32_t revision; /* bumps with every change; names the task events */
} task;

typedef struct task_actor {
    const char *person_id; /* or "system" */
    acl_role role;
} task_actor;

typedef struct task_args {
    const char *outcome; /* complete: [a-z_]{1,63}, e.g. "advanced", "lost" */
    const char *note; /* complete: free text, 1..2047 bytes */
    const char *reason; /* dismiss: free text, 1..2047 bytes */
    const char *to_id; /* reassign, escalate */
    const char *to_role; /* reassign, escalate: the new assignee's role name */
    const char *const *chain; /* reassign: the new escalation chain (may be NULL) */
    size_t n_chain;
    uint32_t escalation_level; /* escalate: the level reached */
} task_args;

/* What a transition did (the TaskEvent to publish), or why it could not. */
typedef struct task_event {
    int emit; /* 1 when a TaskEvent should be published */
    task_action action;
    task_status status; /* after; on SP_ECONFLICT the current status */
    task_status previous_status;
    const char *actor_id;
    int64_t at_ms;
    const char *error; /* static text on failure: "cannot complete a task that is open" */
    const char *field; /* SP_EINVAL: the missing or invalid argument */
} task_event;

/* Applies action to t at now_ms. On success t is updated and ev describes
 * the change. SP_ECONFLICT: illegal in the current state (ev->status is
 * that state, for 409 {"error":..., "current_status":...}); SP_EINVAL:
 * missing or invalid argument (ev->field names it); SP_EFORBIDDEN:
 * reassign by someone below supervisor; SP_ETOOBIG: an argument too long.
 * On any error t is unchanged. */
int task_transition(task *t, task_action action, const task_actor *actor, const task_args *args,
    int64_t now_ms, task_event *ev);

/* Writes the 409 body {"error":"...","current_status":"open"} into buf. */
int task_conflict_body(const task_event *ev, char *buf, size_t cap);

/* The DB effect of one task command. */
typedef enum task_effect {
    TASK_EFFECT_NONE = 0, /* nothing to write */
    TASK_EFFECT_INSERT, /* a new open task */
    TASK_EFFECT_UPDATE, /* same open task, new evidence (and new assignee if the level rose) */
    TASK_EFFECT_RESOLVE, /* CLOSE on an open task */
    TASK_EFFECT_REOPEN, /* UPSERT on a dismissed task after its suppression window */
} task_effect;

typedef enum task_noop_why {
    TASK_NOOP_NONE = 0,
    TASK_NOOP_DUPLICATE, /* this command's event id was already applied */
    TASK_NOOP_STALE, /* older than the last command applied */
    TASK_NOOP_SUPPRESSED, /* dismissed (kind, subject) within its window */
    TASK_NOOP_CLOSED, /* the task is done/resolved, or dismissed and CLOSE came */
    TASK_NOOP_UNKNOWN, /* CLOSE for a task that was never opened */
} task_noop_why;

/* Decides the effect of cmd given the existing row (NULL: none) at now_ms.
 * suppressed_until_ms is the end of the suppression window of the last
 * dismissal of the same (kind, subject), 0 if none (route_suppressed
 * computes it). *out gets the row to write for INSERT/UPDATE/RESOLVE/
 * REOPEN, ev the event to publish (ev->emit). SP_EINVAL when cmd lacks
 * meta.event_id, task_key, a valid op, or (UPSERT) signal/assignee;
 * SP_ETOOBIG when a field does not fit the row. */
int task_apply_command(const task *existing, const Salespulse__V1__TaskCommand *cmd, int64_t now_ms,
    int64_t suppressed_until_ms, task *out, task_effect *effect, task_noop_why *why, task_event *ev);

/* Fills a TaskEvent (and its meta) for ev on t; pointers borrowed from t,
 * ev and id_buf. meta.event_id is "tev:<task key>:<revision>", so a
 * replayed transition produces the same id. */
int task_event_fill(const task *t, const task_event *ev, Salespulse__V1__TaskEvent *pb,
    Salespulse__V1__EventMeta *meta, char *id_buf, size_t cap);

/* "open", "acknowledged", "in_progress", "done", "dismissed", "resolved";
 * parse gives SP_EINVAL. */
const char *task_status_name(task_status s);
int task_status_parse(const char *s, task_status *out);
const char *task_action_name(task_action a);

#endif
