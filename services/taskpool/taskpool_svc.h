/* taskpool_svc.h - sp-taskpool's consumer side: task commands into the
 * tasks table (idempotent), task events out, and the SLA sweep. */
#ifndef SP_TASKPOOL_SVC_H
#define SP_TASKPOOL_SVC_H

#include "bus.h"
#include "clock.h"
#include "db.h"
#include "taskpool/sla.h"

/* TaskEvents of the work in hand, held back until the writes they report
 * are in (see publish in taskpool_svc.c). */
typedef struct taskpool_outbox {
    struct taskpool_outbox_msg *msgs;
    size_t n, cap;
    int on; /* publish stages instead of sending */
} taskpool_outbox;

typedef struct taskpool_svc {
    bus_producer *producer; /* borrowed */
    sp_clock *clock; /* borrowed */
    sla_table sla;
    int64_t suppress_ms; /* dismissal suppression window */
    int64_t sweep_every_ms; /* SLA sweep period in clock time */
    int64_t last_sweep_ms;
    const char *events_topic;
    unsigned long escalations;
    /* the scheduled monthly goal review (docs/goals.md) */
    const char *goal_templates; /* folder of the goal templates; NULL: no scheduled reviews */
    const char *commands_topic; /* where catch-ups go; default SP_TOPIC_TASK_COMMANDS */
    int review_wait_ms; /* delivery reports of the catch-ups; default 30000 */
    int64_t last_review_ms; /* clock time of the last check */
    unsigned long reviews; /* reviews run */
    long key_actions; /* planned key-action rows written for sp-score */
    taskpool_outbox outbox;
    int deliver_wait_ms; /* a batch's or an escalation's TaskEvents delivered within; 0: 15 s */
    unsigned long escalation_failures; /* escalations rolled back (not delivered, database) */
} taskpool_svc;

/* Frees what the service keeps between batches (the outbox's room). */
void taskpool_svc_clear(taskpool_svc *s);

/* sp_service_batch_fn for TaskCommand messages. */
void taskpool_svc_batch(
    void *arg, sp_db *db, const bus_msg *msgs, size_t n, bus_result *res, char (*reasons)[BUS_REASON_LEN]);

/* Escalates every open task whose SLA ran out by the clock's now. Between
 * batches it runs at most once per sweep_every_ms of clock time; after a
 * batch always (cheap: an indexed read of due tasks only), so a command that
 * arrives after its deadline passed in event time still escalates.
 * Returns the number escalated, or -1 when the database failed or an
 * escalation could not be delivered: the sweep stops there and the rest
 * wait for the next one (which is not put off: the sweep did not count). */
int taskpool_sla_sweep(taskpool_svc *s, sp_db *db);

/* The goal schedule, at most once per sweep_every_ms of clock time:
 * the planned key actions of the plan weeks started by now go to
 * score_rep_actions (goals_db_key_actions, for sp-score's
 * rep.key_action_missing), then the monthly reviews that are due.
 * Runs the monthly review of month M of every goal running in M (a plan
 * week starts in M) once the clock's now has passed the first working
 * moment of M+1 (goals_review_due_ms) and goal_review_runs has no row for
 * it: catch-up TaskCommands published (deterministic: a rerun's are
 * duplicates), minutes stored, the run recorded. At most once per
 * sweep_every_ms of clock time; a review that fails is logged and retried
 * at the next check. Returns the number of reviews run, -1 when the
 * database failed. */
int taskpool_goal_schedule(taskpool_svc *s, sp_db *db);

/* on_idle hook for sp_service. */
void taskpool_svc_idle(void *arg, sp_db *db);

#endif
